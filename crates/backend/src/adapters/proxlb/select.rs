//! Which backend controls ProxLB (`PROXLB_SERVICE=auto|process|docker|systemd|none`).
//!
//! - `process`, `docker`, `systemd`, `none`: exactly that backend; if it cannot be used, its
//!   status says why (socket missing, unit not found, interpreter missing, …).
//! - `auto` in demo mode: the process backend running real ProxLB against the simulator
//!   (`PROXLB_DEMO_PROXLB`, on by default except for the `large` scenario), else none.
//! - `auto` otherwise: the Docker container `PROXLB_CONTAINER` if the Docker daemon answers,
//!   else the systemd unit `PROXLB_SYSTEMD_UNIT` if systemd runs and has it loaded, else none.
//!   Detection needs IO, so it happens on first use (the composition root stays synchronous)
//!   and is tried again every [`REDETECT`] while nothing was found (a Docker daemon that comes
//!   up after ProxLB Web is still picked up).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::BoxStream;
use plb_domain::service::{BackendKind, ServiceStatus};

use super::docker::DockerBackend;
use super::none::NoBackend;
use super::process::{ProcessBackend, ProcessConfig};
use super::systemd::{systemd_running, SystemdBackend};
use crate::ports::{LogSource, OneShot, ServiceError, ServiceManager, SourceLine};
use crate::settings::ProxlbService;
use crate::Settings;

/// How often `auto` looks again while it found no backend.
pub const REDETECT: Duration = Duration::from_secs(30);

/// What demo mode tells people where ProxLB is missing.
const DEMO_HINT: &str = "Demo mode runs real ProxLB when it is installed: scripts/setup.sh \
                         installs ProxLB 2.3.0 into .venv; or set PROXLB_PYTHON.";

/// The chosen backend: its two ports, and the process backend (if that is the one) so the
/// server can stop ProxLB when it shuts down.
#[derive(Clone)]
pub struct ProxlbBackend {
    /// Controls ProxLB.
    pub manager: Arc<dyn ServiceManager>,
    /// Reads ProxLB's output.
    pub logs: Arc<dyn LogSource>,
    process: Option<ProcessBackend>,
}

impl ProxlbBackend {
    /// One value implementing both ports.
    pub fn from_backend<B: ServiceManager + LogSource + 'static>(backend: B) -> Self {
        let backend = Arc::new(backend);
        Self {
            manager: backend.clone(),
            logs: backend,
            process: None,
        }
    }

    /// The process backend.
    pub fn process(backend: ProcessBackend) -> Self {
        Self {
            process: Some(backend.clone()),
            ..Self::from_backend(backend)
        }
    }

    /// The process backend, if ProxLB runs as a child of ProxLB Web.
    pub fn as_process(&self) -> Option<&ProcessBackend> {
        self.process.as_ref()
    }

    /// Stops a ProxLB child process gracefully (SIGINT); other backends are left alone, since
    /// their ProxLB does not belong to ProxLB Web.
    pub async fn shutdown(&self) {
        if let Some(process) = &self.process {
            process.shutdown().await;
        }
    }
}

/// The backend `settings` ask for. Does no IO (`auto` detects on first use).
pub fn select(settings: &Settings) -> ProxlbBackend {
    match settings.proxlb_service {
        ProxlbService::Only(kind) => only(settings, kind),
        ProxlbService::Auto if settings.demo => {
            if settings.demo_runs_proxlb() {
                demo_process(settings)
            } else {
                ProxlbBackend::from_backend(NoBackend::new(
                    "ProxLB does not run in this demo",
                    "Set PROXLB_DEMO_PROXLB=on to run real ProxLB against the simulated cluster \
                     (it is off by default for the large cluster, where one run takes about \
                     40 minutes).",
                ))
            }
        }
        ProxlbService::Auto => ProxlbBackend::from_backend(AutoBackend::new(settings)),
    }
}

/// The process backend for `settings` (ProxLB's config, CA bundle and interpreter).
pub fn process_backend(settings: &Settings) -> ProcessBackend {
    let mut config = ProcessConfig::new(settings.proxlb_python(), &settings.proxlb_config);
    config.ca_file = settings.ca_file.clone();
    if settings.demo {
        config.hint = DEMO_HINT.to_owned();
    }
    ProcessBackend::new(config)
}

fn demo_process(settings: &Settings) -> ProxlbBackend {
    ProxlbBackend::process(process_backend(settings))
}

fn only(settings: &Settings, kind: BackendKind) -> ProxlbBackend {
    match kind {
        BackendKind::Process => ProxlbBackend::process(process_backend(settings)),
        BackendKind::Docker => match DockerBackend::connect(None, &settings.proxlb_container) {
            Ok(docker) => ProxlbBackend::from_backend(docker),
            Err(ServiceError::Problem(problem)) => {
                ProxlbBackend::from_backend(NoBackend::with_problem(BackendKind::Docker, problem))
            }
            Err(error) => ProxlbBackend::from_backend(NoBackend::new(
                error.to_string(),
                "Check DOCKER_HOST and PROXLB_CONTAINER.",
            )),
        },
        BackendKind::Systemd => {
            ProxlbBackend::from_backend(SystemdBackend::new(&settings.proxlb_systemd_unit))
        }
        BackendKind::None => ProxlbBackend::from_backend(NoBackend::new(
            "No ProxLB backend is configured (PROXLB_SERVICE=none)",
            "Set PROXLB_SERVICE to docker, systemd or process to control ProxLB from here.",
        )),
    }
}

/// `PROXLB_SERVICE=auto` outside demo mode: detects the backend on first use.
struct AutoBackend {
    docker: Option<DockerBackend>,
    systemd: SystemdBackend,
    chosen: tokio::sync::Mutex<Option<(Instant, ProxlbBackend)>>,
}

impl AutoBackend {
    fn new(settings: &Settings) -> Self {
        Self {
            docker: DockerBackend::connect(None, &settings.proxlb_container).ok(),
            systemd: SystemdBackend::new(&settings.proxlb_systemd_unit),
            chosen: tokio::sync::Mutex::new(None),
        }
    }

    /// The detected backend (cached; a "none" result is re-checked after [`REDETECT`]).
    async fn backend(&self) -> ProxlbBackend {
        let mut chosen = self.chosen.lock().await;
        if let Some((at, backend)) = chosen.as_ref() {
            let found = backend.manager.backend() != BackendKind::None;
            if found || at.elapsed() < REDETECT {
                return backend.clone();
            }
        }
        let backend = self.detect().await;
        tracing::info!(
            backend = backend.manager.backend().as_str(),
            "ProxLB backend detected"
        );
        *chosen = Some((Instant::now(), backend.clone()));
        backend
    }

    async fn detect(&self) -> ProxlbBackend {
        if let Some(docker) = &self.docker {
            if docker.probe().await.is_ok() {
                return ProxlbBackend::from_backend(docker.clone());
            }
        }
        if systemd_running() && self.systemd.loaded().await {
            return ProxlbBackend::from_backend(self.systemd.clone());
        }
        ProxlbBackend::from_backend(NoBackend::new(
            "No ProxLB found: no Docker daemon answered and no systemd unit is loaded",
            "Start ProxLB's container or install the proxlb package, or set PROXLB_SERVICE \
             (docker, systemd, process) and PROXLB_CONTAINER / PROXLB_SYSTEMD_UNIT.",
        ))
    }
}

#[async_trait::async_trait]
impl ServiceManager for AutoBackend {
    fn backend(&self) -> BackendKind {
        // Synchronous: the last detection's answer (none before the first).
        self.chosen
            .try_lock()
            .ok()
            .and_then(|chosen| chosen.as_ref().map(|(_, b)| b.manager.backend()))
            .unwrap_or(BackendKind::None)
    }

    async fn status(&self) -> Result<ServiceStatus, ServiceError> {
        self.backend().await.manager.status().await
    }

    async fn start(&self) -> Result<(), ServiceError> {
        self.backend().await.manager.start().await
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        self.backend().await.manager.stop().await
    }

    async fn restart(&self) -> Result<(), ServiceError> {
        self.backend().await.manager.restart().await
    }

    async fn reload(&self) -> Result<(), ServiceError> {
        self.backend().await.manager.reload().await
    }

    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        self.backend().await.manager.one_shot().await
    }
}

#[async_trait::async_trait]
impl LogSource for AutoBackend {
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
        self.backend().await.logs.follow(after, tail).await
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use plb_domain::service::{ProblemKind, ServiceState};

    use super::*;

    #[tokio::test]
    async fn explicit_choices_and_the_demo_switch() {
        let mut settings = Settings {
            proxlb_service: ProxlbService::Only(BackendKind::None),
            ..Settings::default()
        };
        let none = select(&settings);
        assert_eq!(none.manager.backend(), BackendKind::None);
        let status = none.manager.status().await.unwrap();
        assert_eq!(status.problem.unwrap().kind, ProblemKind::NoBackend);

        settings.proxlb_service = ProxlbService::Only(BackendKind::Systemd);
        assert_eq!(select(&settings).manager.backend(), BackendKind::Systemd);

        // Demo mode runs the process backend unless switched off.
        settings.proxlb_service = ProxlbService::Auto;
        settings.demo = true;
        settings.demo_proxlb = None;
        settings.proxlb_python = Some(PathBuf::from("/nonexistent/python3"));
        let demo = select(&settings);
        assert_eq!(demo.manager.backend(), BackendKind::Process);
        assert!(demo.as_process().is_some());
        let status = demo.manager.status().await.unwrap();
        assert_eq!(status.state, ServiceState::Unknown);
        let problem = status.problem.unwrap();
        assert_eq!(problem.kind, ProblemKind::InterpreterMissing);
        assert!(problem.hint.contains("Demo mode"), "{}", problem.hint);

        settings.demo_proxlb = Some(false);
        let off = select(&settings).manager.status().await.unwrap();
        assert_eq!(off.problem.unwrap().kind, ProblemKind::NoBackend);
    }
}
