//! ProxLB itself as the UI shows it: the service ([`ProxlbService`]: status and actions) and
//! its log ([`LogService`]: entries, pages, live stream, run state), over the
//! [`ServiceManager`](crate::ports::ServiceManager) and [`LogSource`](crate::ports::LogSource)
//! ports of the backend in use (process, Docker or systemd).

pub mod logs;
pub mod ring;
pub mod status;

use std::sync::Arc;

use plb_domain::service::{BackendKind, ServiceAction, ServiceStatus};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::adapters::proxlb::ProxlbBackend;
use crate::auth::{AuthService, Identity};
use crate::ports::{Clock, OneShot, ServiceError};
use crate::Result;

pub use logs::{LogFeed, LogService};
pub use status::ProxlbService;

/// ProxLB's service and log, as held in [`crate::AppState`]. Cheap to clone.
///
/// The service itself is private: every action goes through [`Proxlb::act`], so that the run
/// tracker hears of it, and the reads below are all other callers need.
#[derive(Clone)]
pub struct Proxlb {
    /// Status and actions.
    service: ProxlbService,
    /// Log entries and run state.
    pub logs: LogService,
    /// The backend both run on (kept to stop a ProxLB child process at shutdown).
    backend: ProxlbBackend,
}

impl Proxlb {
    /// Starts both services on the current runtime until `shutdown`; every change of the
    /// service's state (or of its start time: a restart may be too quick for a poll to see it
    /// pass through another state) is passed on to the run tracker.
    pub fn start(
        backend: ProxlbBackend,
        auth: AuthService,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Self {
        let service = ProxlbService::start(Arc::clone(&backend.manager), auth, shutdown.clone());
        let logs = LogService::start(Arc::clone(&backend.logs), clock, shutdown.clone());
        let mut statuses = service.subscribe();
        let runs = logs.clone();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let status = statuses.borrow_and_update().clone();
                let seen = Some((status.state, status.since_unix_ms));
                if last != seen {
                    last = seen;
                    runs.service_changed(&status, false);
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    changed = statuses.changed() => if changed.is_err() { return },
                }
            }
        });
        Self {
            service,
            logs,
            backend,
        }
    }

    /// Carries out `action` for `who` (see [`ProxlbService::act`]) and tells the run tracker
    /// the outcome of a start, stop or restart before returning, so that what follows (a
    /// second "run now", the answer's run state) already sees a started ProxLB running rather
    /// than waiting for the watcher above to pass the new status on. A reload (SIGHUP) starts
    /// no run: ProxLB reads its file after the current sleep.
    pub async fn act(&self, who: &Identity, action: ServiceAction) -> Result<ServiceStatus> {
        let status = self.service.act(who, action).await?;
        match action {
            ServiceAction::Start | ServiceAction::Restart => {
                self.logs.service_changed(&status, true)
            }
            ServiceAction::Stop => self.logs.service_changed(&status, false),
            ServiceAction::Reload => {}
        }
        Ok(status)
    }

    /// Which backend runs ProxLB.
    pub fn backend(&self) -> BackendKind {
        self.service.backend()
    }

    /// The service's status as last asked (see [`ProxlbService::status`]).
    pub fn status(&self) -> ServiceStatus {
        self.service.status()
    }

    /// Every new service status, starting with the current one.
    pub fn subscribe(&self) -> watch::Receiver<ServiceStatus> {
        self.service.subscribe()
    }

    /// Asks the backend for the service's status now and publishes the answer.
    pub async fn refresh(&self) -> ServiceStatus {
        self.service.refresh().await
    }

    /// How to run the installed ProxLB once beside the daemon, or why the backend cannot.
    pub async fn one_shot(&self) -> std::result::Result<OneShot, ServiceError> {
        self.service.one_shot().await
    }

    /// Stops ProxLB if it runs as a child process of this server (gracefully, with SIGINT);
    /// a Docker container or systemd unit is left running. Call once the server has stopped
    /// serving.
    pub async fn shutdown(&self) {
        self.backend.shutdown().await;
    }
}
