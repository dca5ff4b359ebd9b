//! Parsing one line of ProxLB output ([`parse_line`]) and one message into its typed event
//! ([`parse_message`]). Plain `str` matching, no regex: the templates are fixed text around
//! placeholders, and this keeps the browser's WASM small if it ever parses.

use crate::proxlb::cluster::GuestKind;
use crate::proxlb::config::TimeFormat;

use super::event::{HotScope, IpFamily, LogEvent, MaintenanceBy, RrdCf, StepPhase, UsageMetric};
use super::Level;

/// One line, classified by its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParsedLine<'a> {
    /// `YYYY-MM-DD HH:MM:SS,mmm - ProxLB - LEVEL - message` (ProxLB 1.1 and 2.x): starts a
    /// new message.
    Head {
        /// ProxLB's local timestamp text.
        time: &'a str,
        /// The level.
        level: Level,
        /// The text after `LEVEL - `.
        message: &'a str,
    },
    /// `<prio> ProxLB: message` (ProxLB 1.0): starts a new message.
    Legacy {
        /// The level of the sd-daemon priority.
        level: Level,
        /// The text after `ProxLB: `.
        message: &'a str,
    },
    /// Anything else: a continuation of the previous message, a `print()`, a traceback line.
    Text(&'a str),
}

/// The first line of a Python traceback.
pub const TRACEBACK_HEADER: &str = "Traceback (most recent call last):";

/// Classifies one line (without its line break). Never panics; a trailing `\r` is not part of
/// the message.
///
/// The head pattern is `^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) - ProxLB -
/// (DEBUG|INFO|WARNING|ERROR|CRITICAL) - (.*)$` (ProxLB's formatter, `utils/logger.py:101`).
pub fn parse_line(text: &str) -> ParsedLine<'_> {
    parse_head(text)
        .or_else(|| parse_legacy_head(text))
        .unwrap_or(ParsedLine::Text(text))
}

fn parse_head(text: &str) -> Option<ParsedLine<'_>> {
    let b = text.as_bytes();
    if b.len() < 23 {
        return None;
    }
    // Shape of `2026-11-22 17:49:17,282`: digits everywhere except the separators.
    const SEPS: [(usize, u8); 6] = [
        (4, b'-'),
        (7, b'-'),
        (10, b' '),
        (13, b':'),
        (16, b':'),
        (19, b','),
    ];
    for (i, c) in b[..23].iter().enumerate() {
        let ok = match SEPS.iter().find(|(at, _)| *at == i) {
            Some((_, sep)) => c == sep,
            None => c.is_ascii_digit(),
        };
        if !ok {
            return None;
        }
    }
    // The first 23 bytes are ASCII, so slicing there is on a char boundary.
    let (time, rest) = text.split_at(23);
    let rest = rest.strip_prefix(" - ProxLB - ")?;
    let level_end = rest.find(' ').unwrap_or(rest.len());
    let level = match &rest[..level_end] {
        "DEBUG" => Level::Debug,
        "INFO" => Level::Info,
        "WARNING" => Level::Warning,
        "ERROR" => Level::Error,
        "CRITICAL" => Level::Critical,
        _ => return None,
    };
    let after = &rest[level_end..];
    let message = match after.strip_prefix(" - ") {
        Some(m) => m,
        // `LEVEL -` at the very end: an empty message whose trailing space was trimmed.
        None if after == " -" => "",
        None => return None,
    };
    Some(ParsedLine::Head {
        time,
        level,
        message: message.strip_suffix('\r').unwrap_or(message),
    })
}

fn parse_legacy_head(text: &str) -> Option<ParsedLine<'_>> {
    // `<6> ProxLB: ` — ProxLB 1.0 also wrote `<7 ProxLB: ` (sic) for NOTSET.
    let rest = text.strip_prefix('<')?;
    let mut chars = rest.chars();
    let digit = chars.next()?.to_digit(10)?;
    let level = Level::from_syslog_priority(u8::try_from(digit).ok()?)?;
    let rest = &rest[1..];
    let rest = rest.strip_prefix('>').unwrap_or(rest);
    let message = rest.strip_prefix(" ProxLB: ")?;
    Some(ParsedLine::Legacy {
        level,
        message: message.strip_suffix('\r').unwrap_or(message),
    })
}

/// The typed event of one message (the text after `LEVEL - `, continuation lines included, or
/// a line outside the log format). Never panics; unknown text is [`LogEvent::Other`].
pub fn parse_message(message: &str) -> LogEvent {
    let m = message;
    exact(m)
        .or_else(|| startup(m))
        .or_else(|| cluster(m))
        .or_else(|| balanciness(m))
        .or_else(|| m.strip_prefix("Balancing: ").and_then(balancing))
        .or_else(|| api(m))
        .or_else(|| m.strip_prefix("[solver] ").map(solver))
        .or_else(|| legacy(m))
        .unwrap_or(LogEvent::Other)
}

/// Templates without placeholders.
fn exact(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    let e = match m {
        "Reloading ProxLB configuration." => E::Reloading,
        "Got SIGHUP signal. Reloading..." => E::SighupReceived,
        "This node is not the HA manager. Waiting for next run." => E::NotHaManager,
        "This node is the HA manager. Continuing." => E::IsHaManager,
        "Non Proxmox VE 9 systems detected: Deactivating migration option 'with-conntrack-state'!" => {
            E::ConntrackDisabled
        }
        "Non Proxmox VE 9 systems detected: Deactivating balancing!" => E::PsiBalancingDisabled,
        "No possible target nodes found for balancing after applying maintenance and relationship filters." => {
            E::NoTargetNodes
        }
        "No suitable node found for balancing." => E::NoSuitableNode,
        "No suitable target node found for balancing. Skipping this run." => E::NoTargetSkippingRun,
        "No guests for balancing found." => E::NoGuests,
        "Balancing: Some migrations did not complete successfully. Please check the logs and Proxmox cluster manually." => {
            E::SomeMigrationsFailed
        }
        "Finished: Balancing loop for guests. All guests processed and migrations completed." => {
            E::BalancingFinished
        }
        "Daemon mode not active - stopping." => E::DaemonNotActive,
        "No proxmox_api hosts are defined." => E::NoApiHostsDefined,
        "No valid Proxmox API hosts found." => E::NoValidApiHosts,
        "Authentication to Proxmox API not possible: User not known - please check your username and config file." => {
            E::UserUnknown
        }
        // printed as "\n {msg}" on SIGINT, logged without the space at DEBUG.
        _ if m.trim_start() == "ProxLB has been successfully terminated by user." => {
            E::TerminatedByUser
        }
        _ => return None,
    };
    Some(e)
}

fn between<'a>(s: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    s.strip_prefix(prefix)?.strip_suffix(suffix)
}

/// `{n} hours` / `{n} minutes`.
fn amount_unit(s: &str) -> Option<(i64, TimeFormat)> {
    let (n, unit) = s.rsplit_once(' ')?;
    let unit = match unit {
        "hours" => TimeFormat::Hours,
        "minutes" => TimeFormat::Minutes,
        _ => return None,
    };
    Some((int(n)?, unit))
}

/// A decimal integer as Python prints it (no `+`, no spaces).
fn int<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.starts_with('+') || s.is_empty() {
        return None;
    }
    s.parse().ok()
}

fn kind(word: &str) -> Option<GuestKind> {
    match word {
        "VM" => Some(GuestKind::Vm),
        "CT" => Some(GuestKind::Ct),
        _ => None,
    }
}

fn startup(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    if let Some(path) = m.strip_prefix("Using config path: ") {
        return Some(E::ConfigPath { path: path.into() });
    }
    if let Some(s) = between(m, "Service delay active: First run in: ", ".") {
        let (amount, unit) = amount_unit(s)?;
        return Some(E::ServiceDelay { amount, unit });
    }
    if let Some(endpoint) = between(m, "SSL certificate validation to host ", " is deactivated.") {
        return Some(E::SslVerificationDisabled {
            endpoint: endpoint.into(),
        });
    }
    if let Some(endpoint) = between(m, "API connection to host ", " succeeded.") {
        return Some(E::ApiConnected {
            endpoint: endpoint.into(),
        });
    }
    if let Some(s) = between(m, "Daemon mode active: Next run in: ", ".") {
        let (interval, unit) = amount_unit(s)?;
        return Some(E::NextRun { interval, unit });
    }
    if let Some(what) = m.strip_prefix("Starting: ") {
        return Some(E::Step {
            phase: StepPhase::Starting,
            what: what.into(),
        });
    }
    if let Some(what) = m.strip_prefix("Finished: ") {
        return Some(E::Step {
            phase: StepPhase::Finished,
            what: what.into(),
        });
    }
    if let Some(path) = between(m, "The config file ", " does not exist.") {
        return Some(E::ConfigNotFound { path: path.into() });
    }
    if let Some(error) = m.strip_prefix("Error loading YAML file: ") {
        return Some(E::ConfigYamlError {
            error: error.into(),
        });
    }
    if let Some(rest) = m.strip_prefix("Error parsing ") {
        let (path, error) = rest.split_once(": ")?;
        return Some(E::ConfigInvalid {
            path: path.into(),
            error: error.into(),
        });
    }
    if let Some(schedule) = between(
        m,
        "Ignoring invalid maintenance schedule '",
        "'. Expected format: Monday, 8:00",
    ) {
        return Some(E::InvalidMaintenanceSchedule {
            schedule: schedule.into(),
        });
    }
    None
}

const PINNING_INVALID: &str =
    " is invalid! Defined node does not exist in the cluster. Not applying pinning.";
const RRD_TAIL: &str = ". Using 0.0 as value.";

fn cluster(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    if let Some(rest) = m.strip_prefix("Node: ") {
        for (suffix, by) in [
            (
                " has been set to maintenance mode (by ProxLB schedule).",
                MaintenanceBy::Schedule,
            ),
            (
                " has been set to maintenance mode (by ProxLB config).",
                MaintenanceBy::Config,
            ),
            (
                " has been set to maintenance mode (by Proxmox HA API).",
                MaintenanceBy::HaApi,
            ),
        ] {
            if let Some(node) = rest.strip_suffix(suffix) {
                return Some(E::NodeMaintenance {
                    node: node.into(),
                    by,
                });
            }
        }
        if let Some(node) = rest.strip_suffix(" has been set to be ignored. Not adding node!") {
            return Some(E::NodeIgnored { node: node.into() });
        }
        if let Some(rest) = rest.strip_suffix(')') {
            let (node, rest) = rest.split_once(" already got used for anti-affinity group:: ")?;
            let (group, guest) = rest.rsplit_once(". (Tried for guest: ")?;
            return Some(E::AntiAffinityNodeUsed {
                node: node.into(),
                group: group.into(),
                guest: guest.into(),
            });
        }
        return None;
    }
    if let Some(node) = between(m, "Node ", " found in cluster. Applying pinning.") {
        return Some(E::PinningApplied { node: node.into() });
    }
    if let Some(node) = between(m, "Node ", " not found in cluster. Not applying pinning!") {
        return Some(E::PinningNodeMissing { node: node.into() });
    }
    if let Some(tag) = between(m, "Tag ", PINNING_INVALID) {
        return Some(E::PinningTagInvalid { tag: tag.into() });
    }
    if let Some(node) = between(m, "Pool pinning tag ", PINNING_INVALID) {
        return Some(E::PoolPinningInvalid { node: node.into() });
    }
    if let Some(rest) = between(
        m,
        "Proxmox node ",
        ". PSI metrics require Proxmox VE 9.0 or higher. Balancing deactivated!",
    ) {
        let (node, version) = rest.split_once(" runs Proxmox VE version ")?;
        return Some(E::PsiUnsupported {
            node: node.into(),
            version: version.into(),
        });
    }
    if let Some(mode) = between(
        m,
        "Unknown balancing mode: ",
        " provided. Cannot get balanciness.",
    ) {
        return Some(E::UnknownBalancingMode { mode: mode.into() });
    }
    if let Some(guest) = between(
        m,
        "Warning: Could not find a suitable node to relocate guest ",
        " from a maintenance node.",
    ) {
        return Some(E::MaintenanceRelocationFailed {
            guest: guest.into(),
        });
    }
    if let Some(guest) = between(
        m,
        "Warning: Balancing may not be perfect because guest ",
        " was located on a node which is in maintenance mode.",
    ) {
        return Some(E::MaintenanceImperfect {
            guest: guest.into(),
        });
    }
    if let Some(rest) = between(m, "Skipping relocation of guest ", ".") {
        let (head, group) = rest.rsplit_once(". This might affect affinity group ")?;
        if let Some(guest) = head.strip_suffix(" due to no target node defined") {
            return Some(E::RelocationSkipped {
                guest: guest.into(),
                target: None,
                group: group.into(),
            });
        }
        let (guest, node) = head.rsplit_once(" due to insufficient resources on target node ")?;
        return Some(E::RelocationSkipped {
            guest: guest.into(),
            target: Some(node.into()),
            group: group.into(),
        });
    }
    if let Some(rest) = m.strip_prefix("Failed to retrieve ") {
        let (cf, rest) = if let Some(r) = rest.strip_prefix("AVERAGE RRD data for ") {
            (RrdCf::Average, r)
        } else {
            (RrdCf::Max, rest.strip_prefix("MAX RRD data for ")?)
        };
        if let Some(node) = between(rest, "node: ", RRD_TAIL) {
            return Some(E::NodeRrdFailed {
                cf,
                node: node.into(),
            });
        }
        let rest = between(rest, "guest: ", RRD_TAIL)?;
        let (guest_id, node) = rest.rsplit_once(" on node: ")?;
        let (guest, id) = guest_id.rsplit_once(" (ID: ")?;
        let vmid = int(id.strip_suffix(')')?)?;
        return Some(E::GuestRrdFailed {
            cf,
            guest: guest.into(),
            vmid,
            node: node.into(),
        });
    }
    if let Some(rest) = m.strip_prefix("Error fetching pool details for pool ") {
        let (pool, error) = rest.split_once(": ")?;
        return Some(E::PoolFetchFailed {
            pool: pool.into(),
            error: error.into(),
        });
    }
    if let Some(node) = between(m, "Failed to get PVE version for node: ", ".") {
        return Some(E::PveVersionFailed { node: node.into() });
    }
    if let Some(reason) = m.strip_prefix("Balancing of guests will be performed. Reason: ") {
        return Some(E::BalancingReason {
            reason: reason.into(),
        });
    }
    if let Some(node) = between(m, "Best node for balancing is: ", ".") {
        return Some(E::BestNode { node: node.into() });
    }
    if let Some(rest) = between(m, "Set guest ", ".") {
        if let Some((head, to)) = rest.rsplit_once(" to node ") {
            if let Some((guest, from)) = head.rsplit_once(" from node ") {
                return Some(E::PlannedPlacement {
                    guest: guest.into(),
                    from: from.into(),
                    to: to.into(),
                });
            }
        }
        return None;
    }
    for (prefix, metric) in [
        ("Nodes usage memory assigned: ", UsageMetric::MemoryAssigned),
        ("Nodes usage memory: ", UsageMetric::Memory),
        ("Nodes usage cpu:    ", UsageMetric::Cpu),
        ("Nodes usage disk:   ", UsageMetric::Disk),
    ] {
        if let Some(values) = m.strip_prefix(prefix) {
            return Some(E::NodesUsage {
                metric,
                values: values.into(),
            });
        }
    }
    None
}

fn balanciness(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    let (required, rest) = if let Some(r) = m.strip_prefix("Guest balancing is required. ") {
        (true, r)
    } else {
        (false, m.strip_prefix("Guest balancing is ok. ")?)
    };
    if let Some(rest) = between(rest, "Highest value: ", ".") {
        let (highest, rest) = rest.split_once(", lowest value: ")?;
        let (lowest, rest) = rest.rsplit_once(" balanced by ")?;
        let (method, mode) = rest.rsplit_once(" and ")?;
        return Some(E::BalancinessSpread {
            required,
            highest: highest.into(),
            lowest: lowest.into(),
            method: method.into(),
            mode: mode.into(),
        });
    }
    if let Some(rest) = between(rest, "Highest ", "%.") {
        let (method, rest) = rest.split_once(" usage node ")?;
        let word = if required {
            " is above the defined threshold of "
        } else {
            " is below the defined threshold of "
        };
        let (node, rest) = rest.rsplit_once(word)?;
        let (threshold, value) = rest.rsplit_once("% with a value of ")?;
        return Some(E::BalancinessThreshold {
            required,
            method: method.into(),
            node: node.into(),
            threshold: threshold.into(),
            value: value.into(),
        });
    }
    let lead = if required { "A " } else { "No " };
    let rest = between(rest, lead, " pressure metrics.")?;
    let (scope, method) = if let Some(m) = rest.strip_prefix("node is marked as HOT based on ") {
        (HotScope::Node, m)
    } else {
        (
            HotScope::Guest,
            rest.strip_prefix("guest is marked as HOT based on ")?,
        )
    };
    Some(E::BalancinessHot {
        required,
        scope,
        method: method.into(),
    })
}

const REJECTED_TAIL: &str =
    " due to some Proxmox errors. Please check if resource is locked or similar.";

/// The text after `Balancing: `.
fn balancing(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    if let Some(rest) = between(m, "Starting to migrate ", ".") {
        let (kind_word, rest) = rest.split_once(" guest ")?;
        let kind = kind(kind_word)?;
        let (head, target) = rest.rsplit_once(" to ")?;
        let (guest, source) = head.rsplit_once(" from ")?;
        return Some(E::MigrationStarted {
            kind,
            guest: guest.into(),
            source: source.into(),
            target: target.into(),
        });
    }
    if let Some(rest) = m.strip_prefix("Failed to migrate guest ") {
        if let Some(head) = rest.strip_suffix(REJECTED_TAIL) {
            let (guest, k) = head.rsplit_once(" of type ")?;
            return Some(E::MigrationRejected {
                kind: kind(k)?,
                guest: guest.into(),
            });
        }
        for (k, sep) in [
            (GuestKind::Vm, " of type VM due to some Proxmox errors: "),
            (GuestKind::Ct, " of type CT due to some Proxmox errors: "),
        ] {
            if let Some((guest, error)) = rest.split_once(sep) {
                return Some(E::MigrationRejectedDetail {
                    kind: k,
                    guest: guest.into(),
                    error: error.into(),
                });
            }
        }
        return None;
    }
    if let Some(rest) = m.strip_prefix("Job ID ") {
        let (upid, rest) = rest.split_once(" (guest: ")?;
        return job(upid, rest);
    }
    if let Some(rest) = m.strip_prefix("HA migration request ") {
        let (upid, rest) = rest.split_once(" (guest: ")?;
        let (upid, guest) = (upid.to_string(), |g: &str| g.to_string());
        if let Some(g) = rest.strip_suffix(") is still being processed by the HA manager...") {
            return Some(E::HaPending {
                upid,
                guest: guest(g),
            });
        }
        if let Some(g) = rest.strip_suffix(
            ") was accepted but the underlying qmigrate task is not visible yet. Waiting...",
        ) {
            return Some(E::HaAcceptedWaiting {
                upid,
                guest: guest(g),
            });
        }
        let rest = rest.strip_suffix(". Please check manually.")?;
        let (g, exit_status) = rest.split_once(") was rejected by the HA manager: ")?;
        return Some(E::HaRejected {
            upid,
            guest: guest(g),
            exit_status: exit_status.into(),
        });
    }
    if let Some(rest) = between(m, "Resolved hamigrate ", ".") {
        let (hamigrate, rest) = rest.split_once(" to qmigrate ")?;
        let (qmigrate, guest) = rest.split_once(" for guest ")?;
        return Some(E::HaResolved {
            hamigrate: hamigrate.into(),
            qmigrate: qmigrate.into(),
            guest: guest.into(),
        });
    }
    None
}

/// Builds a job event from its UPID and guest.
type MakeJobEvent = fn(String, String) -> LogEvent;

/// `Job ID {upid} (guest: ` already consumed; `rest` is `{guest}) …`.
fn job(upid: &str, rest: &str) -> Option<LogEvent> {
    use LogEvent as E;
    let upid = upid.to_string();
    let fixed: [(&str, MakeJobEvent); 6] = [
        (
            ") is a standard migration job. Proceeding with status check.",
            |upid, guest| E::JobStandard { upid, guest },
        ),
        (") for migration is still running...", |upid, guest| {
            E::JobRunning {
                upid,
                guest,
                run: None,
            }
        }),
        (") was successfully.", |upid, guest| E::JobSucceeded {
            upid,
            guest,
        }),
        (
            ") for migration went into an error! Please check manually.",
            |upid, guest| E::JobFailedForMigration { upid, guest },
        ),
        (
            ") went into an error! Please check manually.",
            |upid, guest| E::JobFailed { upid, guest },
        ),
        (
            ") for migration took too long. Please check manually.",
            |upid, guest| E::JobTookTooLong { upid, guest },
        ),
    ];
    for (suffix, make) in fixed {
        if let Some(guest) = rest.strip_suffix(suffix) {
            return Some(make(upid, guest.into()));
        }
    }
    if let Some(r) = rest.strip_suffix(" exceeded.") {
        let (guest, n) = r.rsplit_once(") for migration is still running. Retry counter: ")?;
        return Some(E::JobRetryExceeded {
            upid,
            guest: guest.into(),
            retries: int(n)?,
        });
    }
    if let Some(r) = rest.strip_suffix(')') {
        let (guest, n) = r.rsplit_once(") for migration is still running... (Run: ")?;
        return Some(E::JobRunning {
            upid,
            guest: guest.into(),
            run: Some(int(n)?),
        });
    }
    None
}

fn family(word: &str) -> Option<IpFamily> {
    match word {
        "IPv4" => Some(IpFamily::V4),
        "IPv6" => Some(IpFamily::V6),
        _ => None,
    }
}

fn api(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    if let Some(host) = between(m, "Could not resolve ", ".") {
        return Some(E::ResolveFailed { host: host.into() });
    }
    if let Some(rest) = between(m, "Host ", ").") {
        let (head, errno) = rest.rsplit_once(" (errno ")?;
        let (head, port) = head.rsplit_once(" for tcp/")?;
        let (host, fam) = head.rsplit_once(" is unreachable on ")?;
        return Some(E::HostUnreachable {
            host: host.into(),
            family: family(fam)?,
            port: int(port)?,
            errno: int(errno)?,
        });
    }
    if let Some(rest) = between(m, "Timeout connecting to ", ".") {
        let (head, port) = rest.rsplit_once(" tcp/")?;
        let (host, fam) = head.rsplit_once(" on ")?;
        return Some(E::ConnectTimeout {
            host: host.into(),
            family: family(fam)?,
            port: int(port)?,
        });
    }
    if let Some(rest) = between(m, "Attempt ", " seconds...") {
        let (attempt, rest) = rest.split_once('/')?;
        let (retries, rest) = rest.split_once(" failed for host ")?;
        let (host, wait) = rest.rsplit_once(". Retrying in ")?;
        return Some(E::ConnectAttemptFailed {
            attempt: int(attempt)?,
            retries: int(retries)?,
            host: host.into(),
            wait_seconds: int(wait)?,
        });
    }
    if let Some(error) =
        m.strip_prefix("Authentication failed. Please check the defined credentials: ")
    {
        return Some(E::AuthFailed {
            error: error.into(),
        });
    }
    if let Some(endpoint) = m.strip_prefix("Connection timeout to host ") {
        return Some(E::ApiTimeout {
            endpoint: endpoint.into(),
        });
    }
    if let Some(error) = m.strip_prefix("SSL certificate validation failed: ") {
        return Some(E::SslValidationFailed {
            error: error.into(),
        });
    }
    if let Some(endpoint) = m.strip_prefix("Connection refused by host ") {
        return Some(E::ConnectionRefused {
            endpoint: endpoint.into(),
        });
    }
    if let Some(error) = m.strip_prefix("Proxmox API error: ") {
        return Some(E::ApiError {
            error: error.into(),
        });
    }
    if let Some(rest) = m.strip_prefix("Permission '") {
        let (permission, url) = rest.split_once(
            "' is missing. Please adjust the permissions for your user/token. See also: ",
        )?;
        return Some(E::PermissionMissing {
            permission: permission.into(),
            url: url.into(),
        });
    }
    None
}

/// The text after `[solver] `.
fn solver(text: &str) -> LogEvent {
    if let Some(settings) = text.strip_prefix("starting — ") {
        return LogEvent::SolverStarted {
            settings: settings.into(),
        };
    }
    solver_run(text).unwrap_or_else(|| LogEvent::Solver { text: text.into() })
}

fn solver_run(text: &str) -> Option<LogEvent> {
    let rest = between(text, "run=", "ms")?;
    let (rest, time) = rest.rsplit_once(" time=")?;
    let (rest, gap) = rest.rsplit_once(" gap=")?;
    let (rest, migrations) = rest.rsplit_once(" migrations=")?;
    let (run, status) = rest.rsplit_once(" status=")?;
    Some(LogEvent::SolverRun {
        run: run.into(),
        status: status.into(),
        migrations: int(migrations)?,
        gap: gap.into(),
        time_ms: int(time)?,
    })
}

/// ProxLB 1.0's `{Label}: [{component}]: {text}`.
fn legacy(m: &str) -> Option<LogEvent> {
    use LogEvent as E;
    let (label, rest) = m.split_once(": [")?;
    if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let (component, text) = rest.split_once("]: ")?;
    if label == "Info" {
        if let Some(rest) = between(text, "Rebalancing ", ".") {
            if let Some(ev) = legacy_migration(component, rest) {
                return Some(ev);
            }
        }
        if component == "daemon" {
            if let Some(h) = between(text, "Running in daemon mode. Next run in ", " hours.") {
                if let Some(hours) = int(h) {
                    return Some(E::LegacyNextRun { hours });
                }
            }
        }
    }
    Some(E::Legacy {
        label: label.into(),
        component: component.into(),
        text: text.into(),
    })
}

fn legacy_migration(component: &str, rest: &str) -> Option<LogEvent> {
    let (k, rest) = rest.split_once(' ')?;
    let kind = kind(k)?;
    let (head, target) = rest.rsplit_once(" to node ")?;
    let (guest, source) = head.rsplit_once(" from node ")?;
    Some(LogEvent::LegacyMigration {
        component: component.into(),
        kind,
        guest: guest.into(),
        source: source.into(),
        target: target.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> (String, Level, String) {
        match parse_line(text) {
            ParsedLine::Head {
                time,
                level,
                message,
            } => (time.into(), level, message.into()),
            other => panic!("not a head line: {other:?}"),
        }
    }

    #[test]
    fn parses_the_observed_migration_line() {
        let line = "2026-11-22 17:49:17,282 - ProxLB - INFO - Balancing: Starting to migrate VM guest web02 from node1 to node2.";
        let (time, level, message) = head(line);
        assert_eq!(time, "2026-11-22 17:49:17,282");
        assert_eq!(level, Level::Info);
        assert_eq!(
            parse_message(&message),
            LogEvent::MigrationStarted {
                kind: GuestKind::Vm,
                guest: "web02".into(),
                source: "node1".into(),
                target: "node2".into()
            }
        );
    }

    #[test]
    fn every_level_and_empty_messages() {
        for l in Level::ALL {
            let (_, level, m) = head(&format!("2026-01-02 03:04:05,006 - ProxLB - {l} - x"));
            assert_eq!((level, m.as_str()), (l, "x"));
        }
        assert_eq!(head("2026-01-02 03:04:05,006 - ProxLB - INFO - ").2, "");
        assert_eq!(head("2026-01-02 03:04:05,006 - ProxLB - INFO -").2, "");
        assert_eq!(head("2026-01-02 03:04:05,006 - ProxLB - INFO - a\r").2, "a");
    }

    #[test]
    fn other_shapes_are_text() {
        for text in [
            "",
            "2026-01-02 03:04:05,006 - urllib3 - INFO - x",
            "2026-01-02 03:04:05,006 - ProxLB - info - x",
            "2026-01-02 03:04:05,006 - ProxLB - NOTICE - x",
            "2026-01-02 03:04:05.006 - ProxLB - INFO - x",
            "２０２６-01-02 03:04:05,006 - ProxLB - INFO - x",
            "2026-01-02 03:04:05,00",
            "  File \"/usr/lib/python3/dist-packages/proxlb/__main__.py\", line 106, in <module>",
            "<9> ProxLB: x",
            "<6>ProxLB: x",
        ] {
            assert_eq!(parse_line(text), ParsedLine::Text(text), "{text:?}");
        }
    }

    #[test]
    fn proxlb_1_0_lines() {
        let line = "<6> ProxLB: Info: [vm-rebalancing-executor]: Rebalancing VM web01 from node node1 to node node2.";
        let ParsedLine::Legacy { level, message } = parse_line(line) else {
            panic!("not legacy");
        };
        assert_eq!(level, Level::Info);
        assert_eq!(
            parse_message(message),
            LogEvent::LegacyMigration {
                component: "vm-rebalancing-executor".into(),
                kind: GuestKind::Vm,
                guest: "web01".into(),
                source: "node1".into(),
                target: "node2".into()
            }
        );
        assert_eq!(
            parse_line("<7 ProxLB: Info: [daemon]: Running in daemon mode. Next run in 24 hours."),
            ParsedLine::Legacy {
                level: Level::Debug,
                message: "Info: [daemon]: Running in daemon mode. Next run in 24 hours."
            }
        );
        assert_eq!(
            parse_message("Info: [daemon]: Running in daemon mode. Next run in 24 hours."),
            LogEvent::LegacyNextRun { hours: 24 }
        );
        assert_eq!(
            parse_message("Critical: [api-connection]: Provided credentials do not work: 401"),
            LogEvent::Legacy {
                label: "Critical".into(),
                component: "api-connection".into(),
                text: "Provided credentials do not work: 401".into()
            }
        );
    }

    #[test]
    fn observed_messages() {
        use LogEvent as E;
        let cases: Vec<(&str, LogEvent)> = vec![
            ("Daemon mode active: Next run in: 1 minutes.", E::NextRun { interval: 1, unit: TimeFormat::Minutes }),
            ("Daemon mode active: Next run in: 12 hours.", E::NextRun { interval: 12, unit: TimeFormat::Hours }),
            ("Service delay active: First run in: 5 minutes.", E::ServiceDelay { amount: 5, unit: TimeFormat::Minutes }),
            ("Using config path: /etc/proxlb/proxlb.yaml", E::ConfigPath { path: "/etc/proxlb/proxlb.yaml".into() }),
            (
                "Authentication failed. Please check the defined credentials: Couldn't authenticate user: root@pam to https://127.0.0.1:18011/api2/json/access/ticket code: 401",
                E::AuthFailed { error: "Couldn't authenticate user: root@pam to https://127.0.0.1:18011/api2/json/access/ticket code: 401".into() },
            ),
            (
                "Node: node2 already got used for anti-affinity group:: plb_anti_affinity_web. (Tried for guest: web03)",
                E::AntiAffinityNodeUsed { node: "node2".into(), group: "plb_anti_affinity_web".into(), guest: "web03".into() },
            ),
            ("Set guest web01 from node node1 to node node1.", E::PlannedPlacement { guest: "web01".into(), from: "node1".into(), to: "node1".into() }),
            ("Set guest web01 as hot based on memory pressure metrics.", E::Other),
            (
                "Balancing: Job ID UPID:node1:0000A1B2:00C0FFEE:6740A1B2:qmigrate:101:root@pam: (guest: web01) was successfully.",
                E::JobSucceeded { upid: "UPID:node1:0000A1B2:00C0FFEE:6740A1B2:qmigrate:101:root@pam:".into(), guest: "web01".into() },
            ),
            (
                "Balancing: HA migration request UPID:n1:1:2:3:hamigrate:101:root@pam: (guest: db01) was rejected by the HA manager: 'command failed'. Please check manually.",
                E::HaRejected { upid: "UPID:n1:1:2:3:hamigrate:101:root@pam:".into(), guest: "db01".into(), exit_status: "'command failed'".into() },
            ),
            (
                "Balancing: Failed to migrate guest web02 of type CT due to some Proxmox errors. Please check if resource is locked or similar.",
                E::MigrationRejected { kind: GuestKind::Ct, guest: "web02".into() },
            ),
            (" ProxLB has been successfully terminated by user.", E::TerminatedByUser),
            ("Finished: __main__", E::Step { phase: StepPhase::Finished, what: "__main__".into() }),
            ("Finished: Balancing loop for guests. All guests processed and migrations completed.", E::BalancingFinished),
            (
                "[solver] run=/var/log/proxlb/run-1.jsonl status=OPTIMAL migrations=2 gap=0.125 time=41ms",
                E::SolverRun { run: "/var/log/proxlb/run-1.jsonl".into(), status: "OPTIMAL".into(), migrations: 2, gap: "0.125".into(), time_ms: 41 },
            ),
            (
                "Guest balancing is required. Highest memory usage node node1 is above the defined threshold of 80% with a value of 81.25%.",
                E::BalancinessThreshold { required: true, method: "memory".into(), node: "node1".into(), threshold: "80".into(), value: "81.25".into() },
            ),
            ("Host pve1 is unreachable on IPv4 for tcp/8006 (errno 111).", E::HostUnreachable { host: "pve1".into(), family: IpFamily::V4, port: 8006, errno: 111 }),
            ("Daemon mode active: Next run in: +1 minutes.", E::Other),
            ("Daemon mode active: Next run in: 1 fortnights.", E::Other),
            ("Some unknown text", E::Other),
        ];
        for (text, want) in cases {
            assert_eq!(parse_message(text), want, "{text:?}");
        }
    }
}
