//! Real ProxLB 2.3.0 output (captured from `python -m proxlb` in daemon mode against the PVE
//! simulator, see the fixtures) through the assembler, the run tracker and the migration
//! tracker.

use plb_domain::logs::{Assembler, Level, LogEntry, LogEvent, LogStream, RawLine};
use plb_domain::migrations::{MigrationLogFact, MigrationTracker};
use plb_domain::runs::{RunOutcome, RunState, RunTracker, SleepReason};

const DEBUG_STDOUT: &str = include_str!("fixtures/proxlb-2.3.0-debug.stdout.log");
const CRASH_STDOUT: &str = include_str!("fixtures/proxlb-2.3.0-crash.stdout.log");
const CRASH_STDERR: &str = include_str!("fixtures/proxlb-2.3.0-crash.stderr.log");

/// Milliseconds of the day of ProxLB's timestamp (the fixtures stay within one day), standing
/// in for the transport time.
fn proxlb_ms(line: &str) -> Option<i64> {
    let t = line.get(11..23)?;
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    Some(((n(0..2)? * 60 + n(3..5)?) * 60 + n(6..8)?) * 1000 + n(9..12)?)
}

/// Feeds lines in order; a line without a timestamp gets the previous line's time + 1 ms.
fn assemble(lines: &[(LogStream, &str)]) -> Vec<LogEntry> {
    let mut asm = Assembler::new();
    let mut at = 0;
    let mut out = Vec::new();
    for (stream, text) in lines {
        at = proxlb_ms(text).unwrap_or(at + 1);
        out.extend(asm.push(RawLine {
            at_unix_ms: at,
            stream: *stream,
            text: (*text).to_string(),
        }));
    }
    out.extend(asm.flush());
    for (seq, e) in out.iter_mut().enumerate() {
        e.seq = seq as u64 + 1;
    }
    out
}

#[test]
fn a_debug_daemon_cycle_is_fully_understood() {
    let lines: Vec<(LogStream, &str)> = DEBUG_STDOUT
        .lines()
        .map(|l| (LogStream::Stdout, l))
        .collect();
    let entries = assemble(&lines);

    // Every line is kept verbatim, in order.
    let raws: Vec<&str> = entries.iter().map(|e| e.raw.as_str()).collect();
    assert_eq!(raws.join("\n"), DEBUG_STDOUT.trim_end_matches('\n'));
    // Everything above DEBUG has a typed event.
    for e in &entries {
        if e.effective_level() > Level::Debug {
            assert_ne!(e.event, LogEvent::Other, "untyped: {}", e.raw);
        }
    }

    let mut runs = RunTracker::new();
    let started = entries[0].at_unix_ms;
    runs.service_started(started);
    let mut migrations = MigrationTracker::new();
    let mut facts = Vec::new();
    let mut states = Vec::new();
    for e in &entries {
        runs.feed(e);
        facts.extend(migrations.feed(e));
        states.push((e.message.clone(), runs.state()));
    }

    let started_guests: Vec<&str> = facts
        .iter()
        .filter(|f| matches!(f, MigrationLogFact::Started { .. }))
        .filter_map(MigrationLogFact::guest)
        .collect();
    assert_eq!(started_guests, ["web01", "db01", "app01", "cache01"]);
    let succeeded: Vec<(&str, Option<&str>, Option<&str>, bool)> = facts
        .iter()
        .filter_map(|f| match f {
            MigrationLogFact::Succeeded {
                guest,
                upid,
                ha_upid,
                inferred,
                ..
            } => Some((
                guest.as_str(),
                upid.as_deref(),
                ha_upid.as_deref(),
                *inferred,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        succeeded,
        [
            (
                "web01",
                Some("UPID:pve1:000479F9:0F5F1741:6B0D169B:qmigrate:100:root@pam:"),
                None,
                false
            ),
            (
                "app01",
                Some("UPID:pve1:00047A29:0F5F1742:6B0D169B:qmigrate:104:root@pam:"),
                None,
                false
            ),
            (
                "cache01",
                Some("UPID:pve1:00047A34:0F5F1742:6B0D169B:vzmigrate:200:root@pam:"),
                None,
                false
            ),
            (
                "db01",
                Some("UPID:pve1:00047A95:0F5F186D:6B0D169E:qmigrate:102:root@pam:"),
                Some("UPID:pve1:00047A0B:0F5F1741:6B0D169B:hamigrate:102:root@pam:"),
                false
            ),
        ]
    );
    assert_eq!(
        facts
            .iter()
            .filter(|f| matches!(
                f,
                MigrationLogFact::RunFinished {
                    some_failed: false,
                    ..
                }
            ))
            .count(),
        2
    );

    // Sleeping after the first run, until the line's time + 1 minute.
    let sleep_at = proxlb_ms("2026-11-30 06:24:38,508").unwrap_or_default();
    let state_after = |prefix: &str| {
        states
            .iter()
            .find(|(m, _)| m.starts_with(prefix))
            .map(|(_, s)| s.clone())
    };
    assert_eq!(
        state_after("Daemon mode active"),
        Some(RunState::Sleeping {
            since_unix_ms: sleep_at,
            until_unix_ms: sleep_at + 60_000,
            reason: SleepReason::Schedule
        })
    );
    // The SIGHUP during the sleep does not start a run; the reload after it does.
    assert!(matches!(
        state_after("Got SIGHUP"),
        Some(RunState::Sleeping { .. })
    ));
    assert_eq!(
        state_after("Reloading ProxLB configuration."),
        Some(RunState::Running {
            since_unix_ms: sleep_at + 60_000
        })
    );
    // SIGINT during the second sleep stops it; the second run balanced with no migration.
    assert!(matches!(runs.state(), RunState::Stopped { .. }));
    let last = runs.last_run().expect("a finished run");
    assert_eq!(
        (last.started_unix_ms, last.migrations_started),
        (sleep_at + 60_000, 0)
    );
    assert_eq!(last.outcome, RunOutcome::Balanced);
    assert_eq!(
        entries.last().map(|e| &e.event),
        Some(&LogEvent::TerminatedByUser)
    );
}

#[test]
fn a_crash_is_one_traceback_and_ends_the_run() {
    let mut lines: Vec<(LogStream, &str)> = CRASH_STDOUT
        .lines()
        .map(|l| (LogStream::Stdout, l))
        .collect();
    lines.extend(CRASH_STDERR.lines().map(|l| (LogStream::Stderr, l)));
    let entries = assemble(&lines);
    let tracebacks: Vec<&LogEntry> = entries
        .iter()
        .filter(|e| matches!(e.event, LogEvent::Traceback { .. }))
        .collect();
    assert_eq!(tracebacks.len(), 1);
    let tb = tracebacks[0];
    assert_eq!(tb.raw, CRASH_STDERR.trim_end_matches('\n'));
    assert_eq!(
        tb.event,
        LogEvent::Traceback {
            exception: "proxmoxer.core.ResourceException".into(),
            detail: "500 Internal Server Error: Internal Server Error".into()
        }
    );

    let mut runs = RunTracker::new();
    runs.service_started(entries[0].at_unix_ms);
    for e in &entries {
        runs.feed(e);
    }
    assert!(matches!(runs.state(), RunState::Stopped { .. }));
    let last = runs.last_run().expect("the crashed run");
    assert!(
        matches!(&last.outcome, RunOutcome::Crashed { exception, .. } if exception == "proxmoxer.core.ResourceException")
    );
    // The crashed run is the one after the sleep.
    let woke = proxlb_ms("2026-11-30 06:27:00,058").unwrap_or_default();
    assert_eq!(last.started_unix_ms, woke - 1);
}
