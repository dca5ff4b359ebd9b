//! Property tests: every message template round-trips (render → parse → same event), also
//! through a full log line and the assembler, and through JSON.

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};

use super::event::*;
use super::{parse_message, Assembler, Level, LogStream, RawLine};
use crate::proxlb::cluster::GuestKind;
use crate::proxlb::config::TimeFormat;

fn node() -> BoxedStrategy<String> {
    "[a-z][a-z0-9-]{0,10}".boxed()
}
/// Guest names as Proxmox allows them (DNS-like, no spaces).
fn guest() -> BoxedStrategy<String> {
    "[a-zA-Z0-9][a-zA-Z0-9._-]{0,15}".boxed()
}
/// Guest names with spaces and the template's own words, for templates the recipe parses
/// with `.+` (`Starting to migrate … guest (.+) from (\S+) to (\S+)\.`).
fn loose_guest() -> BoxedStrategy<String> {
    prop_oneof![
        guest(),
        "[a-zA-Z0-9][a-zA-Z0-9 ._-]{0,15}",
        Just("a from b to c".to_string())
    ]
    .boxed()
}
fn upid() -> BoxedStrategy<String> {
    (
        node(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        100u32..999_999,
        "[a-z]{1,8}@(pam|pve)",
    )
        .prop_map(|(n, pid, ps, st, vmid, user)| {
            format!("UPID:{n}:{pid:08X}:{ps:08X}:{st:08X}:qmigrate:{vmid}:{user}:")
        })
        .boxed()
}
/// Free text on one line (error messages, paths): any chars but a line break.
fn free() -> BoxedStrategy<String> {
    "[^\n\r]{0,30}".boxed()
}
/// Free text that may span lines (pydantic reports, `str(exc)`).
fn free_multiline() -> BoxedStrategy<String> {
    prop_oneof![
        free(),
        (free(), free()).prop_map(|(a, b)| format!("{a}\n{b}"))
    ]
    .boxed()
}
fn word() -> BoxedStrategy<String> {
    "[a-z]{1,8}".boxed()
}
fn number() -> BoxedStrategy<String> {
    "[0-9]{1,3}(\\.[0-9]{1,2})?".boxed()
}
fn unit() -> BoxedStrategy<TimeFormat> {
    prop_oneof![Just(TimeFormat::Hours), Just(TimeFormat::Minutes)].boxed()
}
fn kind() -> BoxedStrategy<GuestKind> {
    prop_oneof![Just(GuestKind::Vm), Just(GuestKind::Ct)].boxed()
}
fn family() -> BoxedStrategy<IpFamily> {
    prop_oneof![Just(IpFamily::V4), Just(IpFamily::V6)].boxed()
}
fn cf() -> BoxedStrategy<RrdCf> {
    prop_oneof![Just(RrdCf::Average), Just(RrdCf::Max)].boxed()
}

/// Every templated variant of [`LogEvent`] with random field values.
fn templated_event() -> impl Strategy<Value = LogEvent> {
    use LogEvent as E;
    let arms: Vec<BoxedStrategy<LogEvent>> = vec![
        free().prop_map(|path| E::ConfigPath { path }).boxed(),
        (any::<i64>(), unit())
            .prop_map(|(amount, unit)| E::ServiceDelay { amount, unit })
            .boxed(),
        "[a-z0-9.:-]{1,20}"
            .prop_map(|endpoint| E::SslVerificationDisabled { endpoint })
            .boxed(),
        "[a-z0-9.:-]{1,20}"
            .prop_map(|endpoint| E::ApiConnected { endpoint })
            .boxed(),
        Just(E::Reloading).boxed(),
        Just(E::SighupReceived).boxed(),
        Just(E::NotHaManager).boxed(),
        Just(E::IsHaManager).boxed(),
        (
            prop_oneof![Just(StepPhase::Starting), Just(StepPhase::Finished)],
            "[a-z_]{1,20}\\.?",
        )
            .prop_map(|(phase, what)| E::Step { phase, what })
            .boxed(),
        free().prop_map(|path| E::ConfigNotFound { path }).boxed(),
        free_multiline()
            .prop_map(|error| E::ConfigYamlError { error })
            .boxed(),
        ("[a-zA-Z0-9/._-]{1,20}", free_multiline())
            .prop_map(|(path, error)| E::ConfigInvalid { path, error })
            .boxed(),
        "[A-Za-z0-9:, ]{0,20}"
            .prop_map(|schedule| E::InvalidMaintenanceSchedule { schedule })
            .boxed(),
        (
            node(),
            prop_oneof![
                Just(MaintenanceBy::Schedule),
                Just(MaintenanceBy::Config),
                Just(MaintenanceBy::HaApi)
            ],
        )
            .prop_map(|(node, by)| E::NodeMaintenance { node, by })
            .boxed(),
        node().prop_map(|node| E::NodeIgnored { node }).boxed(),
        node().prop_map(|node| E::PinningApplied { node }).boxed(),
        node()
            .prop_map(|node| E::PinningNodeMissing { node })
            .boxed(),
        "plb_pin_[a-z0-9]{1,8}"
            .prop_map(|tag| E::PinningTagInvalid { tag })
            .boxed(),
        node()
            .prop_map(|node| E::PoolPinningInvalid { node })
            .boxed(),
        Just(E::ConntrackDisabled).boxed(),
        Just(E::PsiBalancingDisabled).boxed(),
        (node(), "[0-9]\\.[0-9]{1,2}(\\.[0-9])?")
            .prop_map(|(node, version)| E::PsiUnsupported { node, version })
            .boxed(),
        word()
            .prop_map(|mode| E::UnknownBalancingMode { mode })
            .boxed(),
        Just(E::NoTargetNodes).boxed(),
        Just(E::NoSuitableNode).boxed(),
        Just(E::NoTargetSkippingRun).boxed(),
        guest()
            .prop_map(|guest| E::MaintenanceRelocationFailed { guest })
            .boxed(),
        guest()
            .prop_map(|guest| E::MaintenanceImperfect { guest })
            .boxed(),
        (guest(), proptest::option::of(node()), "[a-z0-9_-]{1,12}")
            .prop_map(|(guest, target, group)| E::RelocationSkipped {
                guest,
                target,
                group,
            })
            .boxed(),
        (node(), "[a-z0-9_-]{1,12}", guest())
            .prop_map(|(node, group, guest)| E::AntiAffinityNodeUsed { node, group, guest })
            .boxed(),
        Just(E::NoGuests).boxed(),
        (cf(), node())
            .prop_map(|(cf, node)| E::NodeRrdFailed { cf, node })
            .boxed(),
        (cf(), guest(), any::<u32>(), node())
            .prop_map(|(cf, guest, vmid, node)| E::GuestRrdFailed {
                cf,
                guest,
                vmid,
                node,
            })
            .boxed(),
        ("[a-z0-9_-]{1,12}", free_multiline())
            .prop_map(|(pool, error)| E::PoolFetchFailed { pool, error })
            .boxed(),
        node().prop_map(|node| E::PveVersionFailed { node }).boxed(),
        (any::<bool>(), number(), number(), word(), word())
            .prop_map(
                |(required, highest, lowest, method, mode)| E::BalancinessSpread {
                    required,
                    highest,
                    lowest,
                    method,
                    mode,
                },
            )
            .boxed(),
        (any::<bool>(), word(), node(), number(), number())
            .prop_map(
                |(required, method, node, threshold, value)| E::BalancinessThreshold {
                    required,
                    method,
                    node,
                    threshold,
                    value,
                },
            )
            .boxed(),
        (
            any::<bool>(),
            prop_oneof![Just(HotScope::Node), Just(HotScope::Guest)],
            word(),
        )
            .prop_map(|(required, scope, method)| E::BalancinessHot {
                required,
                scope,
                method,
            })
            .boxed(),
        "[a-z ]{1,30}"
            .prop_map(|reason| E::BalancingReason { reason })
            .boxed(),
        node().prop_map(|node| E::BestNode { node }).boxed(),
        (guest(), node(), node())
            .prop_map(|(guest, from, to)| E::PlannedPlacement { guest, from, to })
            .boxed(),
        (
            prop_oneof![
                Just(UsageMetric::Memory),
                Just(UsageMetric::MemoryAssigned),
                Just(UsageMetric::Cpu),
                Just(UsageMetric::Disk)
            ],
            free(),
        )
            .prop_map(|(metric, values)| E::NodesUsage { metric, values })
            .boxed(),
        (kind(), loose_guest(), node(), node())
            .prop_map(|(kind, guest, source, target)| E::MigrationStarted {
                kind,
                guest,
                source,
                target,
            })
            .boxed(),
        (kind(), loose_guest())
            .prop_map(|(kind, guest)| E::MigrationRejected { kind, guest })
            .boxed(),
        (kind(), guest(), free_multiline())
            .prop_map(|(kind, guest, error)| E::MigrationRejectedDetail { kind, guest, error })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::JobStandard { upid, guest })
            .boxed(),
        (upid(), guest(), proptest::option::of(any::<u32>()))
            .prop_map(|(upid, guest, run)| E::JobRunning { upid, guest, run })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::JobSucceeded { upid, guest })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::JobFailed { upid, guest })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::JobFailedForMigration { upid, guest })
            .boxed(),
        (upid(), guest(), any::<u32>())
            .prop_map(|(upid, guest, retries)| E::JobRetryExceeded {
                upid,
                guest,
                retries,
            })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::JobTookTooLong { upid, guest })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::HaPending { upid, guest })
            .boxed(),
        (upid(), guest())
            .prop_map(|(upid, guest)| E::HaAcceptedWaiting { upid, guest })
            .boxed(),
        (upid(), upid(), guest())
            .prop_map(|(hamigrate, qmigrate, guest)| E::HaResolved {
                hamigrate,
                qmigrate,
                guest,
            })
            .boxed(),
        (
            upid(),
            guest(),
            prop_oneof![Just("None".to_string()), "'[a-z :]{0,20}'"],
        )
            .prop_map(|(upid, guest, exit_status)| E::HaRejected {
                upid,
                guest,
                exit_status,
            })
            .boxed(),
        Just(E::SomeMigrationsFailed).boxed(),
        Just(E::BalancingFinished).boxed(),
        (any::<i64>(), unit())
            .prop_map(|(interval, unit)| E::NextRun { interval, unit })
            .boxed(),
        Just(E::DaemonNotActive).boxed(),
        Just(E::TerminatedByUser).boxed(),
        "[a-z0-9.-]{1,20}"
            .prop_map(|host| E::ResolveFailed { host })
            .boxed(),
        ("[a-z0-9.-]{1,20}", family(), any::<u16>(), any::<i32>())
            .prop_map(|(host, family, port, errno)| E::HostUnreachable {
                host,
                family,
                port,
                errno,
            })
            .boxed(),
        ("[a-z0-9.-]{1,20}", family(), any::<u16>())
            .prop_map(|(host, family, port)| E::ConnectTimeout { host, family, port })
            .boxed(),
        (
            any::<u32>(),
            any::<u32>(),
            "[a-z0-9.:-]{1,20}",
            any::<u32>(),
        )
            .prop_map(
                |(attempt, retries, host, wait_seconds)| E::ConnectAttemptFailed {
                    attempt,
                    retries,
                    host,
                    wait_seconds,
                },
            )
            .boxed(),
        Just(E::NoApiHostsDefined).boxed(),
        Just(E::NoValidApiHosts).boxed(),
        free_multiline()
            .prop_map(|error| E::AuthFailed { error })
            .boxed(),
        free()
            .prop_map(|endpoint| E::ApiTimeout { endpoint })
            .boxed(),
        free_multiline()
            .prop_map(|error| E::SslValidationFailed { error })
            .boxed(),
        free()
            .prop_map(|endpoint| E::ConnectionRefused { endpoint })
            .boxed(),
        Just(E::UserUnknown).boxed(),
        free_multiline()
            .prop_map(|error| E::ApiError { error })
            .boxed(),
        (
            "[A-Za-z.]{1,15}",
            prop_oneof![Just(PERMISSIONS_DOC_URL.to_string()), free()],
        )
            .prop_map(|(permission, url)| E::PermissionMissing { permission, url })
            .boxed(),
        free()
            .prop_map(|settings| E::SolverStarted { settings })
            .boxed(),
        (
            "[a-z0-9/._-]{1,20}",
            "[A-Z_]{1,10}",
            any::<u32>(),
            "[0-9]{1,2}\\.[0-9]{3}",
            any::<u64>(),
        )
            .prop_map(|(run, status, migrations, gap, time_ms)| E::SolverRun {
                run,
                status,
                migrations,
                gap,
                time_ms,
            })
            .boxed(),
        "[a-z][a-z ]{0,20}"
            .prop_map(|text| E::Solver { text })
            .boxed(),
        ("[a-z-]{1,20}", kind(), guest(), node(), node())
            .prop_map(
                |(component, kind, guest, source, target)| E::LegacyMigration {
                    component,
                    kind,
                    guest,
                    source,
                    target,
                },
            )
            .boxed(),
        any::<i64>()
            .prop_map(|hours| E::LegacyNextRun { hours })
            .boxed(),
        (
            prop_oneof![
                Just("Info"),
                Just("Warning"),
                Just("Error"),
                Just("Critical"),
                Just("Debug")
            ],
            "[a-z-]{1,20}",
            "[a-z][a-z ]{0,20}",
        )
            .prop_map(|(label, component, text)| E::Legacy {
                label: label.to_string(),
                component,
                text,
            })
            .boxed(),
    ];
    Union::new(arms)
}

/// Whether `event` has a template. Exhaustive on purpose: a new variant must be placed here,
/// and (if templated) get an arm in [`templated_event`].
fn has_template(event: &LogEvent) -> bool {
    use LogEvent as E;
    match event {
        E::Traceback { .. } | E::JsonOutput | E::Other => false,
        E::ConfigPath { .. }
        | E::ServiceDelay { .. }
        | E::SslVerificationDisabled { .. }
        | E::ApiConnected { .. }
        | E::Reloading
        | E::SighupReceived
        | E::NotHaManager
        | E::IsHaManager
        | E::Step { .. }
        | E::ConfigNotFound { .. }
        | E::ConfigYamlError { .. }
        | E::ConfigInvalid { .. }
        | E::InvalidMaintenanceSchedule { .. }
        | E::NodeMaintenance { .. }
        | E::NodeIgnored { .. }
        | E::PinningApplied { .. }
        | E::PinningNodeMissing { .. }
        | E::PinningTagInvalid { .. }
        | E::PoolPinningInvalid { .. }
        | E::ConntrackDisabled
        | E::PsiBalancingDisabled
        | E::PsiUnsupported { .. }
        | E::UnknownBalancingMode { .. }
        | E::NoTargetNodes
        | E::NoSuitableNode
        | E::NoTargetSkippingRun
        | E::MaintenanceRelocationFailed { .. }
        | E::MaintenanceImperfect { .. }
        | E::RelocationSkipped { .. }
        | E::AntiAffinityNodeUsed { .. }
        | E::NoGuests
        | E::NodeRrdFailed { .. }
        | E::GuestRrdFailed { .. }
        | E::PoolFetchFailed { .. }
        | E::PveVersionFailed { .. }
        | E::BalancinessSpread { .. }
        | E::BalancinessThreshold { .. }
        | E::BalancinessHot { .. }
        | E::BalancingReason { .. }
        | E::BestNode { .. }
        | E::PlannedPlacement { .. }
        | E::NodesUsage { .. }
        | E::MigrationStarted { .. }
        | E::MigrationRejected { .. }
        | E::MigrationRejectedDetail { .. }
        | E::JobStandard { .. }
        | E::JobRunning { .. }
        | E::JobSucceeded { .. }
        | E::JobFailed { .. }
        | E::JobFailedForMigration { .. }
        | E::JobRetryExceeded { .. }
        | E::JobTookTooLong { .. }
        | E::HaPending { .. }
        | E::HaAcceptedWaiting { .. }
        | E::HaResolved { .. }
        | E::HaRejected { .. }
        | E::SomeMigrationsFailed
        | E::BalancingFinished
        | E::NextRun { .. }
        | E::DaemonNotActive
        | E::TerminatedByUser
        | E::ResolveFailed { .. }
        | E::HostUnreachable { .. }
        | E::ConnectTimeout { .. }
        | E::ConnectAttemptFailed { .. }
        | E::NoApiHostsDefined
        | E::NoValidApiHosts
        | E::AuthFailed { .. }
        | E::ApiTimeout { .. }
        | E::SslValidationFailed { .. }
        | E::ConnectionRefused { .. }
        | E::UserUnknown
        | E::ApiError { .. }
        | E::PermissionMissing { .. }
        | E::SolverStarted { .. }
        | E::SolverRun { .. }
        | E::Solver { .. }
        | E::LegacyMigration { .. }
        | E::LegacyNextRun { .. }
        | E::Legacy { .. } => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn every_template_round_trips(event in templated_event()) {
        prop_assert!(has_template(&event));
        let text = event.render();
        prop_assert!(text.is_some());
        let text = text.unwrap_or_default();
        prop_assert_eq!(parse_message(&text), event.clone(), "text: {:?}", text);
        let json = serde_json::to_string(&event).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: LogEvent = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, event);
    }

    #[test]
    fn single_line_templates_round_trip_through_a_log_line(event in templated_event(), level in 0usize..5) {
        let text = event.render().unwrap_or_default();
        prop_assume!(!text.contains('\n'));
        let level = Level::ALL[level];
        let line = format!("2026-11-22 17:49:17,282 - ProxLB - {level} - {text}");
        let mut asm = Assembler::new();
        let mut entries = asm.push(RawLine { at_unix_ms: 7, stream: LogStream::Stdout, text: line.clone() });
        entries.extend(asm.flush());
        prop_assert_eq!(entries.len(), 1);
        let e = &entries[0];
        prop_assert_eq!(&e.event, &event);
        prop_assert_eq!(&e.message, &text);
        prop_assert_eq!(&e.raw, &line);
        prop_assert_eq!(e.level, Some(level));
        prop_assert_eq!(e.proxlb_time.as_deref(), Some("2026-11-22 17:49:17,282"));
        prop_assert_eq!(e.at_unix_ms, 7);
        let json = serde_json::to_string(e).map_err(|x| TestCaseError::fail(x.to_string()))?;
        let back: super::LogEntry = serde_json::from_str(&json).map_err(|x| TestCaseError::fail(x.to_string()))?;
        prop_assert_eq!(&back, e);
    }

    #[test]
    fn parse_message_never_panics(text in "(?s).{0,200}") {
        let _ = parse_message(&text);
    }
}

#[test]
fn untemplated_variants_render_nothing() {
    assert_eq!(LogEvent::Other.render(), None);
    assert_eq!(LogEvent::JsonOutput.render(), None);
    let tb = LogEvent::Traceback {
        exception: "KeyError".into(),
        detail: "'x'".into(),
    };
    assert_eq!(tb.render(), None);
    assert!(!has_template(&tb));
}
