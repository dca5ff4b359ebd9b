//! ProxLB's service state and the actions on it, over the [`ServiceManager`] port.
//!
//! One task asks the backend for the status every [`POLL_INTERVAL`] (and right after each
//! action) and publishes it on a watch channel; the Service view, `GET /api/status` and the
//! `service` live topic read that. A backend that cannot be asked shows as state `unknown` with
//! a problem that names the cause: only the Service panel goes red, no other endpoint fails.

use std::sync::Arc;
use std::time::Duration;

use plb_domain::audit::AuditAction;
use plb_domain::service::{
    BackendKind, ProblemKind, ServiceAction, ServiceProblem, ServiceState, ServiceStatus,
};
use tokio::sync::{watch, Mutex, Notify};
use tokio_util::sync::CancellationToken;

use crate::auth::{service::entry, AuthService, Identity, Role};
use crate::error::Service;
use crate::ports::{OneShot, ServiceError, ServiceManager};
use crate::{Error, Result};

/// How often the backend is asked for ProxLB's status.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// ProxLB as a service: its published status and the permission-checked, audited actions.
/// Cheap to clone.
#[derive(Clone)]
pub struct ProxlbService {
    inner: Arc<Inner>,
}

struct Inner {
    manager: Arc<dyn ServiceManager>,
    auth: AuthService,
    status: watch::Sender<ServiceStatus>,
    /// Held while an action runs: one action at a time.
    acting: Arc<Mutex<()>>,
    /// Wakes the poller early (after an action).
    poke: Notify,
}

impl ProxlbService {
    /// The service over `manager`, with its poller spawned on the current runtime until
    /// `shutdown`. Actions are audited through `auth`.
    pub fn start(
        manager: Arc<dyn ServiceManager>,
        auth: AuthService,
        shutdown: CancellationToken,
    ) -> Self {
        let (status, _) = watch::channel(initial_status(manager.backend()));
        let service = Self {
            inner: Arc::new(Inner {
                manager,
                auth,
                status,
                acting: Arc::new(Mutex::new(())),
                poke: Notify::new(),
            }),
        };
        let poller = service.clone();
        tokio::spawn(async move { poller.poll(shutdown).await });
        service
    }

    /// Which backend runs ProxLB.
    pub fn backend(&self) -> BackendKind {
        self.inner.manager.backend()
    }

    /// How to run the installed ProxLB once beside the daemon, or why the backend cannot.
    pub async fn one_shot(&self) -> std::result::Result<OneShot, ServiceError> {
        self.inner.manager.one_shot().await
    }

    /// The status as last asked (at most [`POLL_INTERVAL`] old).
    pub fn status(&self) -> ServiceStatus {
        self.inner.status.borrow().clone()
    }

    /// Every new status, starting with the current one.
    pub fn subscribe(&self) -> watch::Receiver<ServiceStatus> {
        self.inner.status.subscribe()
    }

    /// Asks the backend now and publishes the answer.
    pub async fn refresh(&self) -> ServiceStatus {
        let status = ask(self.inner.manager.as_ref()).await;
        self.inner.status.send_if_modified(|current| {
            let changed = *current != status;
            if changed {
                *current = status.clone();
            }
            changed
        });
        status
    }

    /// Carries out `action` for `who` (an operator): one action at a time, audited with its
    /// result, and the new status once it is done. The action runs to its end even if the
    /// caller goes away (a half-done stop would leave nobody to record it). Callers go through
    /// [`super::Proxlb::act`], which also tells the run tracker.
    pub async fn act(&self, who: &Identity, action: ServiceAction) -> Result<ServiceStatus> {
        who.require(Role::Operator)?;
        let Ok(guard) = Arc::clone(&self.inner.acting).try_lock_owned() else {
            return Err(Error::Conflict {
                message: "another action is running; wait for it to finish".to_owned(),
                current: None,
            });
        };
        let service = self.clone();
        let who = who.clone();
        let task = tokio::spawn(async move {
            let _guard = guard;
            let manager = Arc::clone(&service.inner.manager);
            let result = match action {
                ServiceAction::Start => manager.start().await,
                ServiceAction::Stop => manager.stop().await,
                ServiceAction::Restart => manager.restart().await,
                ServiceAction::Reload => manager.reload().await,
            };
            let status = service.refresh().await;
            service.inner.poke.notify_one();
            let audited = result.as_ref().map(|_| ()).map_err(ToString::to_string);
            service
                .inner
                .auth
                .audit(entry(
                    &who,
                    AuditAction::ServiceAction,
                    Some(action.as_str().to_owned()),
                    audited,
                ))
                .await;
            match result {
                Ok(()) => Ok(status),
                Err(error) => Err(to_error(service.backend(), action, error)),
            }
        });
        task.await.map_err(Error::internal)?
    }

    async fn poll(&self, shutdown: CancellationToken) {
        loop {
            self.refresh().await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                () = self.inner.poke.notified() => {}
            }
        }
    }
}

/// What is shown before the backend has answered for the first time.
fn initial_status(backend: BackendKind) -> ServiceStatus {
    ServiceStatus {
        backend,
        target: String::new(),
        state: ServiceState::Unknown,
        since_unix_ms: None,
        pid: None,
        exit_code: None,
        last_error_lines: Vec::new(),
        version: None,
        problem: None,
    }
}

/// The backend's answer; a failure becomes state `unknown` with a problem that says why.
async fn ask(manager: &dyn ServiceManager) -> ServiceStatus {
    match manager.status().await {
        Ok(status) => status,
        Err(error) => {
            let problem = match error {
                ServiceError::Problem(problem) => problem,
                ServiceError::Refused(message) => ServiceProblem {
                    kind: ProblemKind::Unavailable,
                    message,
                    hint: String::new(),
                },
                ServiceError::Backend { what, detail } => {
                    tracing::warn!(%what, %detail, "asking ProxLB's status failed");
                    ServiceProblem {
                        kind: ProblemKind::Unavailable,
                        message: format!("{what} failed"),
                        hint: "The server log has the details.".to_owned(),
                    }
                }
            };
            ServiceStatus {
                problem: Some(problem),
                ..initial_status(manager.backend())
            }
        }
    }
}

/// The backend error of a failed action, with safe messages: a problem names its cause and
/// what to do, a refusal says why, anything else names the system (detail to the log only).
fn to_error(backend: BackendKind, action: ServiceAction, error: ServiceError) -> Error {
    match error {
        ServiceError::Problem(problem) => Error::NotConfigured {
            reason: problem.message,
            hint: problem.hint,
        },
        ServiceError::Refused(message) => Error::Conflict {
            message,
            current: None,
        },
        ServiceError::Backend { what, detail } => Error::Unavailable {
            service: match backend {
                BackendKind::Docker => Service::Docker,
                BackendKind::Systemd => Service::Systemd,
                BackendKind::Process | BackendKind::None => Service::Proxlb,
            },
            detail: format!("{} ({what}): {detail}", action.as_str()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeServiceManager;

    #[tokio::test]
    async fn a_failing_backend_shows_as_unknown_with_its_problem() {
        let fake = FakeServiceManager::new(BackendKind::Docker);
        fake.fail_status(ServiceError::problem(
            ProblemKind::SocketMissing,
            "/var/run/docker.sock does not exist",
            "Mount the Docker socket",
        ));
        let status = ask(fake.as_ref()).await;
        assert_eq!(status.state, ServiceState::Unknown);
        assert_eq!(status.backend, BackendKind::Docker);
        assert_eq!(
            status.problem.map(|p| p.kind),
            Some(ProblemKind::SocketMissing)
        );
    }

    #[test]
    fn action_errors_keep_internal_detail_out_of_safe_messages() {
        let error = to_error(
            BackendKind::Process,
            ServiceAction::Start,
            ServiceError::Backend {
                what: "starting ProxLB".into(),
                detail: "spawn: errno 13".into(),
            },
        );
        assert!(matches!(
            error,
            Error::Unavailable {
                service: Service::Proxlb,
                ..
            }
        ));
        let refused = to_error(
            BackendKind::Systemd,
            ServiceAction::Reload,
            ServiceError::Refused("ProxLB is not running".into()),
        );
        assert!(
            matches!(refused, Error::Conflict { message, .. } if message == "ProxLB is not running")
        );
    }
}
