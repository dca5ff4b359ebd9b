//! ProxLB as a service: which backend runs it, its state, and the actions on it. Shared by the
//! server (the `ServiceManager` port and its adapters) and the browser (the Service view).

use serde::{Deserialize, Serialize};

/// How ProxLB runs, and so how ProxLB Web controls it and reads its logs
/// (`PROXLB_SERVICE=auto|process|docker|systemd|none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// A child process of ProxLB Web: `python3 -m proxlb -c <config>`.
    Process,
    /// A Docker container (`PROXLB_CONTAINER`), through the Docker Engine API.
    Docker,
    /// The `proxlb` systemd unit, with logs from journald.
    Systemd,
    /// No backend: ProxLB Web only shows the cluster.
    None,
}

impl BackendKind {
    /// The name used in `PROXLB_SERVICE` and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Process => "process",
            BackendKind::Docker => "docker",
            BackendKind::Systemd => "systemd",
            BackendKind::None => "none",
        }
    }

    /// A name for people ("Docker container").
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::Process => "Local process",
            BackendKind::Docker => "Docker container",
            BackendKind::Systemd => "systemd unit",
            BackendKind::None => "None",
        }
    }
}

/// The state of ProxLB as its backend reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// The process runs.
    Running,
    /// Not running, and the last run ended cleanly (exit 0, or never started).
    Stopped,
    /// Being (re)started or stopped right now.
    Restarting,
    /// The last run ended with a non-zero exit code or a signal; it stays so until someone
    /// starts it again (ProxLB's own unit has no `Restart=`).
    Failed,
    /// The backend could not be asked (see [`ServiceStatus::problem`]).
    Unknown,
}

impl ServiceState {
    /// The state's name for people.
    pub fn label(self) -> &'static str {
        match self {
            ServiceState::Running => "running",
            ServiceState::Stopped => "stopped",
            ServiceState::Restarting => "restarting",
            ServiceState::Failed => "failed",
            ServiceState::Unknown => "unknown",
        }
    }
}

/// Why the backend cannot be used; each names its cause so the user can fix it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The Docker socket does not exist (or `DOCKER_HOST` does not answer).
    SocketMissing,
    /// The Docker socket (or systemd/journald) refused us: permission denied.
    PermissionDenied,
    /// No container named `PROXLB_CONTAINER`.
    ContainerNotFound,
    /// No `proxlb` systemd unit.
    UnitNotFound,
    /// The Python interpreter (`PROXLB_PYTHON`) does not exist or cannot run.
    InterpreterMissing,
    /// The interpreter runs, but has no `proxlb` module.
    ProxlbMissing,
    /// No backend is configured or detected (`PROXLB_SERVICE=none`, or auto found nothing).
    NoBackend,
    /// The backend answered with an error we did not expect.
    Unavailable,
}

/// A problem with the backend, safe to show: what is wrong and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceProblem {
    /// The cause.
    pub kind: ProblemKind,
    /// What is wrong, for people (names paths, containers and units; never secrets).
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// ProxLB's state as the Service view and `GET /api/status` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// The backend in use.
    pub backend: BackendKind,
    /// What the backend controls: the container name, the unit name or the command line.
    pub target: String,
    /// The state.
    pub state: ServiceState,
    /// Since when the service is in `state` (Unix milliseconds), if known.
    pub since_unix_ms: Option<i64>,
    /// Main PID while running, if the backend tells.
    pub pid: Option<u32>,
    /// Exit code of the last run that ended, if any.
    pub exit_code: Option<i32>,
    /// The last lines of stderr/log output of a failed run (its traceback), oldest first.
    pub last_error_lines: Vec<String>,
    /// ProxLB's version (`python -m proxlb -v`, the image label or the package), if known.
    pub version: Option<String>,
    /// Why the backend cannot be used, if it cannot.
    pub problem: Option<ServiceProblem>,
}

/// An action on the service. Each is confirmed in the UI, permission-checked and audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceAction {
    /// Start ProxLB (it runs at once unless `service.delay` is set).
    Start,
    /// Stop ProxLB (SIGINT for the process backend: ProxLB exits 0).
    Stop,
    /// Stop, then start: the way to "run now" and to apply `proxmox_api` changes.
    Restart,
    /// SIGHUP: ProxLB re-reads its config after its current sleep, and never reconnects.
    Reload,
}

impl ServiceAction {
    /// The action's name in the API (`start`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceAction::Start => "start",
            ServiceAction::Stop => "stop",
            ServiceAction::Restart => "restart",
            ServiceAction::Reload => "reload",
        }
    }

    /// Parses an action name from the API.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "start" => Some(ServiceAction::Start),
            "stop" => Some(ServiceAction::Stop),
            "restart" => Some(ServiceAction::Restart),
            "reload" => Some(ServiceAction::Reload),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in [
            ServiceAction::Start,
            ServiceAction::Stop,
            ServiceAction::Restart,
            ServiceAction::Reload,
        ] {
            assert_eq!(ServiceAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(ServiceAction::parse("kill"), None);
    }
}
