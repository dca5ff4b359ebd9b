//! "Rebalance now": whether a real ProxLB run may start, and how.
//!
//! ProxLB has no run-now trigger (no signal, socket or API); a fresh process runs at once unless
//! `service.delay` is set (`proxlb/utils/helper.py:246`, ProxLB 2.3.0). So a run is started by
//! restarting the daemon, or starting it when it is stopped: never by a one-off run beside it,
//! since ProxLB has no lock and two processes could issue conflicting migrations.

use serde::{Deserialize, Serialize};

use crate::proxlb::config::{ProxLbConfig, TimeFormat};
use crate::runs::RunState;
use crate::service::{BackendKind, ServiceState, ServiceStatus};

/// How the run is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStart {
    /// The daemon runs (or sleeps): restart it, the fresh process runs at once.
    Restart,
    /// ProxLB is stopped or failed: start it.
    Start,
}

/// Why "run now" is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum RunRefusal {
    /// A run is in progress; restarting would cut its migrations short.
    InProgress {
        /// Since when (UTC Unix ms).
        since_unix_ms: i64,
    },
    /// `balancing.enable` is false: the run would calculate and move nothing.
    BalancingDisabled,
    /// `service.delay` makes a fresh process sleep before its first run.
    ServiceDelay {
        /// Amount.
        time: i64,
        /// Unit.
        format: TimeFormat,
    },
    /// `service.enable_ha`: ProxLB runs only on the node that is the HA manager.
    EnableHa,
    /// ProxLB Web cannot start or restart ProxLB here.
    NotControllable {
        /// Why, for people.
        reason: String,
    },
}

impl RunRefusal {
    /// The refusal for people.
    pub fn message(&self) -> String {
        match self {
            RunRefusal::InProgress { .. } => {
                "A ProxLB run is in progress; wait until it has finished.".to_owned()
            }
            RunRefusal::BalancingDisabled => {
                "Balancing is disabled (balancing.enable: false): a run would move nothing. Enable it first.".to_owned()
            }
            RunRefusal::ServiceDelay { time, format } => format!(
                "service.delay is set: a restarted ProxLB waits {time} {} before its first run, so it would not run now.",
                match format {
                    TimeFormat::Hours => "hours",
                    TimeFormat::Minutes => "minutes",
                }
            ),
            RunRefusal::EnableHa => {
                "service.enable_ha is set: ProxLB runs only on the node that is the HA manager, so a restart here may run nothing.".to_owned()
            }
            RunRefusal::NotControllable { reason } => {
                format!("ProxLB Web cannot start ProxLB here: {reason}")
            }
        }
    }
}

/// Whether a run may start now, and how. `run` is the run state at `now_ms`.
pub fn check(
    config: &ProxLbConfig,
    service: &ServiceStatus,
    run: &RunState,
    now_ms: i64,
) -> Result<RunStart, RunRefusal> {
    if let RunState::Running { since_unix_ms } = run.at(now_ms) {
        if service.state == ServiceState::Running {
            return Err(RunRefusal::InProgress { since_unix_ms });
        }
    }
    if service.backend == BackendKind::None {
        return Err(RunRefusal::NotControllable {
            reason: "no ProxLB backend is configured (PROXLB_SERVICE)".to_owned(),
        });
    }
    let start = match service.state {
        ServiceState::Running => RunStart::Restart,
        ServiceState::Stopped | ServiceState::Failed => RunStart::Start,
        ServiceState::Restarting => {
            return Err(RunRefusal::InProgress {
                since_unix_ms: service.since_unix_ms.unwrap_or(now_ms),
            })
        }
        ServiceState::Unknown => {
            return Err(RunRefusal::NotControllable {
                reason: service.problem.as_ref().map_or_else(
                    || "its state is not known yet".to_owned(),
                    |p| p.message.clone(),
                ),
            })
        }
    };
    if !config.balancing.enable {
        return Err(RunRefusal::BalancingDisabled);
    }
    if config.service.delay.enable {
        return Err(RunRefusal::ServiceDelay {
            time: config.service.delay.time,
            format: config.service.delay.format,
        });
    }
    if config.service.enable_ha {
        return Err(RunRefusal::EnableHa);
    }
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::SleepReason;
    use crate::service::{ProblemKind, ServiceProblem};

    fn enabled() -> ProxLbConfig {
        let mut c = ProxLbConfig::with_api(vec!["pve1".into()], "root@pam");
        c.balancing.enable = true;
        c
    }

    fn status(state: ServiceState) -> ServiceStatus {
        ServiceStatus {
            backend: BackendKind::Process,
            target: "proxlb".into(),
            state,
            since_unix_ms: Some(1),
            pid: None,
            exit_code: None,
            last_error_lines: Vec::new(),
            version: None,
            problem: None,
        }
    }

    const SLEEPING: RunState = RunState::Sleeping {
        since_unix_ms: 0,
        until_unix_ms: 10_000,
        reason: SleepReason::Schedule,
    };

    #[test]
    fn a_sleeping_daemon_is_restarted_and_a_stopped_one_started() {
        let c = enabled();
        assert_eq!(
            check(&c, &status(ServiceState::Running), &SLEEPING, 5),
            Ok(RunStart::Restart)
        );
        let stopped = RunState::Stopped { since_unix_ms: 1 };
        assert_eq!(
            check(&c, &status(ServiceState::Stopped), &stopped, 5),
            Ok(RunStart::Start)
        );
        assert_eq!(
            check(&c, &status(ServiceState::Failed), &stopped, 5),
            Ok(RunStart::Start)
        );
    }

    #[test]
    fn refused_while_a_run_is_in_progress() {
        let running = RunState::Running { since_unix_ms: 3 };
        assert_eq!(
            check(&enabled(), &status(ServiceState::Running), &running, 5),
            Err(RunRefusal::InProgress { since_unix_ms: 3 })
        );
        // A sleep that has ended is a run.
        assert_eq!(
            check(
                &enabled(),
                &status(ServiceState::Running),
                &SLEEPING,
                10_001
            ),
            Err(RunRefusal::InProgress {
                since_unix_ms: 10_000
            })
        );
        assert!(matches!(
            check(&enabled(), &status(ServiceState::Restarting), &SLEEPING, 5),
            Err(RunRefusal::InProgress { .. })
        ));
    }

    #[test]
    fn refused_when_balancing_is_disabled() {
        let mut c = enabled();
        c.balancing.enable = false;
        assert_eq!(
            check(&c, &status(ServiceState::Running), &SLEEPING, 5),
            Err(RunRefusal::BalancingDisabled)
        );
    }

    #[test]
    fn refused_when_a_restart_would_not_run() {
        let mut delayed = enabled();
        delayed.service.delay.enable = true;
        delayed.service.delay.time = 2;
        assert_eq!(
            check(&delayed, &status(ServiceState::Running), &SLEEPING, 5),
            Err(RunRefusal::ServiceDelay {
                time: 2,
                format: TimeFormat::Hours
            })
        );
        let mut ha = enabled();
        ha.service.enable_ha = true;
        assert_eq!(
            check(&ha, &status(ServiceState::Running), &SLEEPING, 5),
            Err(RunRefusal::EnableHa)
        );
    }

    #[test]
    fn refused_when_not_controllable() {
        let mut none = status(ServiceState::Unknown);
        none.backend = BackendKind::None;
        assert!(matches!(
            check(&enabled(), &none, &RunState::Idle, 5),
            Err(RunRefusal::NotControllable { .. })
        ));
        let mut unknown = status(ServiceState::Unknown);
        unknown.problem = Some(ServiceProblem {
            kind: ProblemKind::SocketMissing,
            message: "/var/run/docker.sock does not exist".into(),
            hint: String::new(),
        });
        let refusal = check(&enabled(), &unknown, &RunState::Idle, 5);
        assert!(
            matches!(&refusal, Err(RunRefusal::NotControllable { reason }) if reason.contains("docker.sock"))
        );
    }
}
