//! Where ProxLB's runs are (idle, running, sleeping until …) and how the last one ended,
//! derived from its log and from service start/stop notifications. Pure: the server feeds a
//! [`RunTracker`] and publishes [`RunState`] on the live `runs` topic.
//!
//! ProxLB logs **no INFO line when a run starts** (`proxlb/__main__.py` loop, ProxLB 2.3.0), so
//! a start is inferred:
//! - **A fresh process runs at once** ([`RunTracker::service_started`]), unless its next line is
//!   `Service delay active: First run in: N U.`, which turns the state into a sleep until
//!   `line time + N·U`.
//! - **After `Daemon mode active: Next run in: N U.`** ProxLB sleeps `N·U`
//!   (`utils/helper.py:144-145`): the run ended, the state is `Sleeping { until: line time +
//!   N·U }`. A run starts when that time has come ([`RunTracker::tick`]) or, at the latest,
//!   with the first line logged at or after it (e.g. `Reloading ProxLB configuration.` after a
//!   SIGHUP, or any DEBUG line). Lines logged during the sleep (a SIGHUP's DEBUG line) do not
//!   start a run.
//! - **A run ends** with `Daemon mode active: …` (next sleep), `Daemon mode not active -
//!   stopping.` (one-shot mode), a traceback (crash), a fatal startup error, SIGINT's
//!   `terminated by user`, or the service stopping.
//! - Seen mid-stream (the UI started while ProxLB was busy), any line in the idle state is
//!   taken as a run in progress since that line.
//!
//! All times are transport times (UTC Unix ms): ProxLB's own timestamps have no zone.

use serde::{Deserialize, Serialize};

use crate::logs::{LogEntry, LogEvent};

/// Lines up to this much before the planned end of a sleep already count as the next run
/// (transport clocks and ProxLB's `time.sleep` drift a little).
pub const WAKE_TOLERANCE_MS: i64 = 1_000;

/// Why ProxLB sleeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SleepReason {
    /// `service.schedule` between runs (`Daemon mode active: Next run in: …`).
    Schedule,
    /// `service.delay` before the first run (`Service delay active: First run in: …`).
    ServiceDelay,
}

/// Where ProxLB's runs are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunState {
    /// Nothing known yet (no backend, or nothing seen since ProxLB Web started).
    Idle,
    /// A run is in progress.
    Running {
        /// When it started (inferred, see the module documentation).
        since_unix_ms: i64,
    },
    /// Sleeping until the next run.
    Sleeping {
        /// When the sleep began (the `Next run in` line's transport time).
        since_unix_ms: i64,
        /// When the next run is due: `since + N·U`.
        until_unix_ms: i64,
        /// Schedule or initial delay.
        reason: SleepReason,
    },
    /// ProxLB does not run (stopped, exited or crashed).
    Stopped {
        /// Since when.
        since_unix_ms: i64,
    },
}

impl RunState {
    /// The state at `now_ms` if nothing else happens: a sleep that has ended is a run.
    pub fn at(&self, now_ms: i64) -> RunState {
        match *self {
            RunState::Sleeping { until_unix_ms, .. } if now_ms >= until_unix_ms => {
                RunState::Running {
                    since_unix_ms: until_unix_ms,
                }
            }
            ref other => other.clone(),
        }
    }

    /// When the next run is due, while sleeping.
    pub fn next_run_at(&self) -> Option<i64> {
        match self {
            RunState::Sleeping { until_unix_ms, .. } => Some(*until_unix_ms),
            _ => None,
        }
    }

    /// Short name (`idle`, `running`, `sleeping`, `stopped`).
    pub fn as_str(&self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Running { .. } => "running",
            RunState::Sleeping { .. } => "sleeping",
            RunState::Stopped { .. } => "stopped",
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Still running.
    InProgress,
    /// `Finished: Balancing loop…` with no failed migration.
    Balanced,
    /// Balancing ran and some migrations failed (`Some migrations did not complete…` or a
    /// failure line).
    SomeFailed,
    /// The run ended without a balancing loop: nothing to move at INFO level, a dry run,
    /// balancing disabled, or no target node.
    NoBalancing,
    /// Skipped: this node is not the HA manager (`enable_ha`).
    NotHaManager,
    /// ProxLB crashed with a traceback.
    Crashed {
        /// The exception type.
        exception: String,
        /// Its message.
        detail: String,
    },
    /// ProxLB exited on a fatal error line (API unreachable, credentials, config).
    Failed {
        /// The error message.
        reason: String,
    },
    /// Stopped (SIGINT, service stop) while running.
    Interrupted,
}

/// One run: when, what it did, how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// When it started (inferred).
    pub started_unix_ms: i64,
    /// When it ended; `None` while running.
    pub ended_unix_ms: Option<i64>,
    /// `Starting to migrate` lines.
    pub migrations_started: u32,
    /// Guests whose migration failed (rejected POST, task error, HA rejection, retry exceeded).
    pub migrations_failed: u32,
    /// How it ended.
    pub outcome: RunOutcome,
    /// Seen only from its middle (ProxLB Web attached while it ran).
    pub partial: bool,
}

/// Derives [`RunState`] and the last [`RunSummary`] from log entries and service notifications.
#[derive(Clone, Debug)]
pub struct RunTracker {
    state: RunState,
    current: Option<Current>,
    last: Option<RunSummary>,
}

#[derive(Clone, Debug)]
struct Current {
    summary: RunSummary,
    failed_guests: Vec<String>,
    balancing_finished: bool,
    some_failed: bool,
    not_ha_manager: bool,
}

impl Current {
    fn new(at: i64, partial: bool) -> Current {
        Current {
            summary: RunSummary {
                started_unix_ms: at,
                ended_unix_ms: None,
                migrations_started: 0,
                migrations_failed: 0,
                outcome: RunOutcome::InProgress,
                partial,
            },
            failed_guests: Vec::new(),
            balancing_finished: false,
            some_failed: false,
            not_ha_manager: false,
        }
    }

    fn fail_guest(&mut self, guest: &str) {
        if !self.failed_guests.iter().any(|g| g == guest) {
            self.failed_guests.push(guest.to_string());
            self.summary.migrations_failed += 1;
        }
    }

    /// The outcome of a run that ended normally (not crashed, failed or interrupted).
    fn normal_outcome(&self) -> RunOutcome {
        if self.not_ha_manager {
            RunOutcome::NotHaManager
        } else if self.some_failed || self.summary.migrations_failed > 0 {
            RunOutcome::SomeFailed
        } else if self.balancing_finished {
            RunOutcome::Balanced
        } else {
            RunOutcome::NoBalancing
        }
    }
}

impl Default for RunTracker {
    fn default() -> Self {
        RunTracker::new()
    }
}

impl RunTracker {
    /// A tracker that knows nothing yet ([`RunState::Idle`]).
    pub fn new() -> RunTracker {
        RunTracker {
            state: RunState::Idle,
            current: None,
            last: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> RunState {
        self.state.clone()
    }

    /// The run in progress, if any.
    pub fn current_run(&self) -> Option<&RunSummary> {
        self.current.as_ref().map(|c| &c.summary)
    }

    /// The last finished run, if any.
    pub fn last_run(&self) -> Option<&RunSummary> {
        self.last.as_ref()
    }

    /// ProxLB's process started at `at_ms`: a fresh process runs at once (until its log says
    /// otherwise, e.g. a service delay). A notification no newer than the state the log gave
    /// is ignored, so the order of log replay and status does not matter.
    pub fn service_started(&mut self, at_ms: i64) {
        match self.state {
            // Already known to be alive since then (a repeated notification, or the log
            // was read first): the log knows better.
            RunState::Running { since_unix_ms } | RunState::Sleeping { since_unix_ms, .. }
                if at_ms <= since_unix_ms => {}
            // A process younger than what the log said (e.g. old container output was
            // replayed first, or a restart): it runs at once.
            _ => self.start_run(at_ms, false),
        }
    }

    /// ProxLB's service is running, as a status poll or an action's answer says: started at
    /// `since_ms` where the backend tells, else at `now_ms` if it is a new process. Without a
    /// start time, a service seen running again is the process already known, unless
    /// `started_here` (ProxLB Web has just started or restarted it): taking it as new would
    /// start the run over and lose what the log said of it so far. Returns whether anything
    /// was passed on to [`Self::service_started`].
    pub fn service_running(
        &mut self,
        since_ms: Option<i64>,
        now_ms: i64,
        started_here: bool,
    ) -> bool {
        let alive = matches!(
            self.state,
            RunState::Running { .. } | RunState::Sleeping { .. }
        );
        match since_ms {
            Some(since) => self.service_started(since),
            None if started_here || !alive => self.service_started(now_ms),
            None => return false,
        }
        true
    }

    /// ProxLB's process stopped (or crashed) at `at_ms`. A run in progress ends as
    /// interrupted, unless its log already said how it ended.
    pub fn service_stopped(&mut self, at_ms: i64) {
        if matches!(self.state, RunState::Stopped { .. }) {
            return;
        }
        self.end_run(at_ms, RunOutcome::Interrupted);
        self.state = RunState::Stopped {
            since_unix_ms: at_ms,
        };
    }

    /// Advances the clock: a sleep that ended at or before `now_ms` becomes a run. Returns
    /// whether the state changed.
    pub fn tick(&mut self, now_ms: i64) -> bool {
        if let RunState::Sleeping { until_unix_ms, .. } = self.state {
            if now_ms >= until_unix_ms {
                self.start_run(until_unix_ms, false);
                return true;
            }
        }
        false
    }

    /// Feeds one log entry (in `seq` order).
    pub fn feed(&mut self, entry: &LogEntry) {
        let at = entry.at_unix_ms;
        self.wake_if_due(entry);
        use LogEvent as E;
        match &entry.event {
            E::ServiceDelay { amount, unit } => {
                // The process has not run yet: no run to record.
                self.current = None;
                self.state = RunState::Sleeping {
                    since_unix_ms: at,
                    until_unix_ms: at.saturating_add(amount.saturating_mul(unit.seconds() * 1000)),
                    reason: SleepReason::ServiceDelay,
                };
            }
            E::NextRun { interval, unit } => {
                self.end_normally(at);
                self.state = RunState::Sleeping {
                    since_unix_ms: at,
                    until_unix_ms: at
                        .saturating_add(interval.saturating_mul(unit.seconds() * 1000)),
                    reason: SleepReason::Schedule,
                };
            }
            E::LegacyNextRun { hours } => {
                self.end_normally(at);
                self.state = RunState::Sleeping {
                    since_unix_ms: at,
                    until_unix_ms: at.saturating_add(hours.saturating_mul(3_600_000)),
                    reason: SleepReason::Schedule,
                };
            }
            E::DaemonNotActive => {
                self.end_normally(at);
                self.state = RunState::Stopped { since_unix_ms: at };
            }
            E::TerminatedByUser => {
                self.end_run(at, RunOutcome::Interrupted);
                self.state = RunState::Stopped { since_unix_ms: at };
            }
            E::Traceback { exception, detail } => {
                self.ensure_run(at);
                self.end_run(
                    at,
                    RunOutcome::Crashed {
                        exception: exception.clone(),
                        detail: detail.clone(),
                    },
                );
                self.state = RunState::Stopped { since_unix_ms: at };
            }
            e if is_fatal(e) => {
                self.ensure_run(at);
                self.end_run(
                    at,
                    RunOutcome::Failed {
                        reason: entry.message.clone(),
                    },
                );
                self.state = RunState::Stopped { since_unix_ms: at };
            }
            other => {
                self.ensure_run(at);
                if let Some(run) = self.current.as_mut() {
                    match other {
                        E::MigrationStarted { .. } | E::LegacyMigration { .. } => {
                            run.summary.migrations_started += 1;
                        }
                        E::MigrationRejected { guest, .. }
                        | E::JobFailed { guest, .. }
                        | E::JobFailedForMigration { guest, .. }
                        | E::JobRetryExceeded { guest, .. }
                        | E::JobTookTooLong { guest, .. }
                        | E::HaRejected { guest, .. } => run.fail_guest(guest),
                        E::SomeMigrationsFailed => run.some_failed = true,
                        E::BalancingFinished => run.balancing_finished = true,
                        E::NotHaManager => run.not_ha_manager = true,
                        _ => {}
                    }
                }
            }
        }
    }

    /// A line at or after the end of a sleep means the next run has begun.
    fn wake_if_due(&mut self, entry: &LogEntry) {
        if let RunState::Sleeping { until_unix_ms, .. } = self.state {
            if entry.at_unix_ms >= until_unix_ms.saturating_sub(WAKE_TOLERANCE_MS)
                && !matches!(entry.event, LogEvent::ServiceDelay { .. })
            {
                self.start_run(until_unix_ms.min(entry.at_unix_ms), false);
            }
        }
    }

    /// A line that belongs to a run: make sure one is recorded.
    fn ensure_run(&mut self, at: i64) {
        match self.state {
            RunState::Running { .. } if self.current.is_some() => {}
            RunState::Running { since_unix_ms } => {
                self.current = Some(Current::new(since_unix_ms, true));
            }
            // Mid-stream (idle) or a new process seen only through its log (stopped).
            RunState::Idle => self.start_run(at, true),
            RunState::Stopped { since_unix_ms } if at > since_unix_ms => self.start_run(at, false),
            // A stale line of a stopped process, or a line during a sleep: no run.
            RunState::Stopped { .. } | RunState::Sleeping { .. } => {}
        }
    }

    fn start_run(&mut self, at: i64, partial: bool) {
        self.current = Some(Current::new(at, partial));
        self.state = RunState::Running { since_unix_ms: at };
    }

    fn end_normally(&mut self, at: i64) {
        if self.current.is_none() && matches!(self.state, RunState::Idle) {
            // First line seen is the end of a run we saw nothing of: nothing to record.
            return;
        }
        let outcome = self.current.as_ref().map(Current::normal_outcome);
        if let Some(outcome) = outcome {
            self.end_run(at, outcome);
        }
    }

    fn end_run(&mut self, at: i64, outcome: RunOutcome) {
        if let Some(run) = self.current.take() {
            // Stopped after its balancing loop reported: the loop's result is the run's result.
            let outcome = match outcome {
                RunOutcome::Interrupted if run.balancing_finished || run.some_failed => {
                    run.normal_outcome()
                }
                other => other,
            };
            let mut summary = run.summary;
            summary.ended_unix_ms = Some(at);
            summary.outcome = outcome;
            self.last = Some(summary);
        }
    }
}

/// Error lines after which ProxLB exits (`proxlb/utils/proxmox_api.py:208-211,342-357,419-428`,
/// `proxlb/utils/config_parser.py:225-250`).
fn is_fatal(event: &LogEvent) -> bool {
    use LogEvent as E;
    matches!(
        event,
        E::ConfigNotFound { .. }
            | E::ConfigYamlError { .. }
            | E::ConfigInvalid { .. }
            | E::NoApiHostsDefined
            | E::NoValidApiHosts
            | E::AuthFailed { .. }
            | E::ApiTimeout { .. }
            | E::SslValidationFailed { .. }
            | E::ConnectionRefused { .. }
            | E::UserUnknown
            | E::ApiError { .. }
            | E::PermissionMissing { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{parse_message, LogStream};

    /// An entry as the assembler would make it from `message` at `at`.
    fn e(at: i64, message: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            at_unix_ms: at,
            stream: LogStream::Stdout,
            level: None,
            proxlb_time: None,
            message: message.into(),
            event: parse_message(message),
            raw: message.into(),
        }
    }

    fn traceback(at: i64) -> LogEntry {
        LogEntry {
            event: LogEvent::Traceback {
                exception: "proxmoxer.core.ResourceException".into(),
                detail: "500 Internal Server Error".into(),
            },
            stream: LogStream::Stderr,
            ..e(at, "Traceback (most recent call last):")
        }
    }

    const NEXT_1M: &str = "Daemon mode active: Next run in: 1 minutes.";
    const START_A: &str = "Balancing: Starting to migrate VM guest a from n1 to n2.";
    const START_B: &str = "Balancing: Starting to migrate CT guest b from n1 to n3.";

    #[test]
    fn a_daemon_cycle_runs_sleeps_and_wakes() {
        let mut t = RunTracker::new();
        assert_eq!(t.state(), RunState::Idle);
        t.service_started(1_000);
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 1_000
            }
        );
        t.feed(&e(1_100, "Using config path: /etc/proxlb/proxlb.yaml"));
        t.feed(&e(2_000, START_A));
        t.feed(&e(2_100, START_B));
        t.feed(&e(3_000, "Balancing: Job ID UPID:n1:1:2:3:vzmigrate:102:root@pam: (guest: b) went into an error! Please check manually."));
        t.feed(&e(3_000, "Balancing: Job ID UPID:n1:1:2:3:vzmigrate:102:root@pam: (guest: b) for migration went into an error! Please check manually."));
        t.feed(&e(3_100, "Balancing: Some migrations did not complete successfully. Please check the logs and Proxmox cluster manually."));
        t.feed(&e(4_000, NEXT_1M));
        assert_eq!(
            t.state(),
            RunState::Sleeping {
                since_unix_ms: 4_000,
                until_unix_ms: 64_000,
                reason: SleepReason::Schedule
            }
        );
        assert_eq!(t.state().next_run_at(), Some(64_000));
        let last = t.last_run().expect("a finished run");
        assert_eq!(
            (
                last.started_unix_ms,
                last.ended_unix_ms,
                last.migrations_started,
                last.migrations_failed
            ),
            (1_000, Some(4_000), 2, 1)
        );
        assert_eq!(last.outcome, RunOutcome::SomeFailed);
        assert!(!last.partial);
        assert!(t.current_run().is_none());

        assert!(!t.tick(63_999));
        assert!(t.tick(64_000));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 64_000
            }
        );
        t.feed(&e(
            65_000,
            "Finished: Balancing loop for guests. All guests processed and migrations completed.",
        ));
        t.feed(&e(66_000, NEXT_1M));
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::Balanced)
        );
        assert_eq!(t.last_run().map(|r| r.started_unix_ms), Some(64_000));
    }

    #[test]
    fn lines_during_the_sleep_do_not_start_a_run_but_lines_after_it_do() {
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(10_000, NEXT_1M));
        t.feed(&e(20_000, "Got SIGHUP signal. Reloading..."));
        assert!(matches!(t.state(), RunState::Sleeping { .. }));
        // No tick ran (e.g. a replay): the first line after the sleep starts the run.
        t.feed(&e(70_500, "Reloading ProxLB configuration."));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 70_000
            }
        );
        t.feed(&e(71_000, "Daemon mode active: Next run in: 2 hours."));
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::NoBalancing)
        );
        assert_eq!(t.state().next_run_at(), Some(71_000 + 2 * 3_600_000));
    }

    #[test]
    fn a_running_service_without_a_start_time_is_new_only_when_started_here_or_unknown() {
        let mut t = RunTracker::new();
        // Nothing known: a run since now.
        assert!(t.service_running(None, 1_000, false));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 1_000
            }
        );
        // The next poll: the same process.
        assert!(!t.service_running(None, 2_000, false));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 1_000
            }
        );
        // Restarted here: a new run.
        assert!(t.service_running(None, 3_000, true));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 3_000
            }
        );
        // A start time decides by itself.
        assert!(t.service_running(Some(2_500), 4_000, false));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 3_000
            }
        );
    }

    #[test]
    fn service_notifications_and_log_replay_agree_in_any_order() {
        // Status first (process started at 1_000), then the replayed tail shows a sleep.
        let mut t = RunTracker::new();
        t.service_started(1_000);
        t.feed(&e(50_000, NEXT_1M));
        t.service_started(1_000); // repeated status
        assert!(matches!(
            t.state(),
            RunState::Sleeping {
                since_unix_ms: 50_000,
                ..
            }
        ));
        // Replay first, then the status of that same process.
        let mut t = RunTracker::new();
        t.feed(&e(50_000, NEXT_1M));
        t.service_started(1_000);
        assert!(matches!(
            t.state(),
            RunState::Sleeping {
                since_unix_ms: 50_000,
                ..
            }
        ));
        // A process started after the replayed sleep (a restart) runs.
        t.service_started(60_000);
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 60_000
            }
        );
    }

    #[test]
    fn a_service_delay_is_a_sleep_before_the_first_run() {
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(50, "Service delay active: First run in: 5 minutes."));
        assert_eq!(
            t.state(),
            RunState::Sleeping {
                since_unix_ms: 50,
                until_unix_ms: 300_050,
                reason: SleepReason::ServiceDelay
            }
        );
        assert!(t.last_run().is_none());
        assert!(t.tick(300_050));
        assert_eq!(
            t.state(),
            RunState::Running {
                since_unix_ms: 300_050
            }
        );
    }

    #[test]
    fn a_traceback_is_a_crash() {
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(10, START_A));
        t.feed(&traceback(20));
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 20 });
        let last = t.last_run().expect("run");
        assert_eq!(last.migrations_started, 1);
        assert!(
            matches!(&last.outcome, RunOutcome::Crashed { exception, .. } if exception == "proxmoxer.core.ResourceException")
        );
        // The backend reporting the exit afterwards changes nothing.
        t.service_stopped(30);
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 20 });
        assert!(matches!(
            t.last_run().map(|r| &r.outcome),
            Some(RunOutcome::Crashed { .. })
        ));
    }

    #[test]
    fn fatal_startup_errors_fail_the_run() {
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(
            5,
            "Authentication failed. Please check the defined credentials: 401",
        ));
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 5 });
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::Failed {
                reason: "Authentication failed. Please check the defined credentials: 401".into()
            })
        );
    }

    #[test]
    fn stopping_a_running_proxlb_interrupts_the_run() {
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(10, START_A));
        t.service_stopped(20);
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 20 });
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::Interrupted)
        );
        // SIGINT during a sleep: no run to interrupt.
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(10, NEXT_1M));
        t.feed(&e(20, " ProxLB has been successfully terminated by user."));
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 20 });
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::NoBalancing)
        );
    }

    #[test]
    fn attaching_mid_run_records_a_partial_run() {
        let mut t = RunTracker::new();
        t.feed(&e(100, START_A));
        assert_eq!(t.state(), RunState::Running { since_unix_ms: 100 });
        t.feed(&e(
            200,
            "Finished: Balancing loop for guests. All guests processed and migrations completed.",
        ));
        t.feed(&e(300, NEXT_1M));
        let last = t.last_run().expect("run");
        assert!(last.partial);
        assert_eq!(last.outcome, RunOutcome::Balanced);
        // Seeing only the end of a run records nothing.
        let mut t = RunTracker::new();
        t.feed(&e(300, NEXT_1M));
        assert!(t.last_run().is_none());
        assert!(matches!(t.state(), RunState::Sleeping { .. }));
    }

    #[test]
    fn passive_ha_nodes_and_one_shot_runs() {
        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(
            1,
            "This node is not the HA manager. Waiting for next run.",
        ));
        t.feed(&e(2, NEXT_1M));
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::NotHaManager)
        );

        let mut t = RunTracker::new();
        t.service_started(0);
        t.feed(&e(5, "Daemon mode not active - stopping."));
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 5 });
        assert_eq!(
            t.last_run().map(|r| &r.outcome),
            Some(&RunOutcome::NoBalancing)
        );
        // A new process seen only through its log (a replay of a restarted container).
        t.feed(&e(4, "Using config path: /etc/proxlb/proxlb.yaml"));
        assert_eq!(t.state(), RunState::Stopped { since_unix_ms: 5 });
        t.feed(&e(9, "Using config path: /etc/proxlb/proxlb.yaml"));
        assert_eq!(t.state(), RunState::Running { since_unix_ms: 9 });
    }

    #[test]
    fn run_state_projection_and_wire_shape() {
        let s = RunState::Sleeping {
            since_unix_ms: 1,
            until_unix_ms: 10,
            reason: SleepReason::Schedule,
        };
        assert_eq!(s.at(9), s);
        assert_eq!(s.at(10), RunState::Running { since_unix_ms: 10 });
        assert_eq!(s.as_str(), "sleeping");
        let json = serde_json::to_value(&s).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"state": "sleeping", "since_unix_ms": 1, "until_unix_ms": 10, "reason": "schedule"})
        );
        assert_eq!(
            serde_json::to_value(RunState::Idle).expect("json"),
            serde_json::json!({"state": "idle"})
        );
    }
}
