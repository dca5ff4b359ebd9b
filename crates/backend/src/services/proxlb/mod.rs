//! ProxLB itself as the UI shows it: the service ([`ProxlbService`]: status and actions) and
//! its log ([`LogService`]: entries, pages, live stream, run state), over the
//! [`ServiceManager`](crate::ports::ServiceManager) and [`LogSource`](crate::ports::LogSource)
//! ports of the backend in use (process, Docker or systemd).

pub mod logs;
pub mod ring;
pub mod status;

use std::sync::Arc;

use plb_domain::service::{ServiceAction, ServiceStatus};
use tokio_util::sync::CancellationToken;

use crate::adapters::proxlb::ProxlbBackend;
use crate::auth::{AuthService, Identity};
use crate::ports::Clock;
use crate::Result;

pub use logs::{LogFeed, LogService};
pub use status::ProxlbService;

/// ProxLB's service and log, as held in [`crate::AppState`]. Cheap to clone.
#[derive(Clone)]
pub struct Proxlb {
    /// Status and actions.
    pub service: ProxlbService,
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

    /// Stops ProxLB if it runs as a child process of this server (gracefully, with SIGINT);
    /// a Docker container or systemd unit is left running. Call once the server has stopped
    /// serving.
    pub async fn shutdown(&self) {
        self.backend.shutdown().await;
    }
}
