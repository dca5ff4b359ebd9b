//! The ports through which ProxLB Web controls ProxLB and reads its output: [`ServiceManager`]
//! and [`LogSource`]. One adapter per backend (process, Docker, systemd) implements both; the
//! composition root picks it from `PROXLB_SERVICE`.

use std::ffi::OsString;
use std::path::PathBuf;

use futures::stream::BoxStream;
use plb_domain::logs::RawLine;
use plb_domain::service::{BackendKind, ProblemKind, ServiceProblem, ServiceStatus};

/// Why a backend call failed. Every variant's message is safe to show (it names sockets,
/// containers, units and interpreters, never secrets); `detail` of [`Self::Backend`] is for the
/// log only.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ServiceError {
    /// The backend cannot be used at all; the problem says why and what to do.
    #[error("{}", .0.message)]
    Problem(ServiceProblem),
    /// The action does not fit the state (e.g. stop while stopped is fine, but reload while
    /// stopped is not); the message is safe to show.
    #[error("{0}")]
    Refused(String),
    /// The backend answered with an unexpected error.
    #[error("{what} failed")]
    Backend {
        /// What was attempted, for people ("restarting the container").
        what: String,
        /// Internal detail, for the log only.
        detail: String,
    },
}

impl ServiceError {
    /// A [`ServiceError::Problem`] of `kind`.
    pub fn problem(kind: ProblemKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        ServiceError::Problem(ServiceProblem {
            kind,
            message: message.into(),
            hint: hint.into(),
        })
    }
}

/// Controls ProxLB: status, start, stop, restart, reload. Object-safe (`Arc<dyn ServiceManager>`).
#[async_trait::async_trait]
pub trait ServiceManager: Send + Sync {
    /// Which backend this is.
    fn backend(&self) -> BackendKind;
    /// ProxLB's state now. A backend that cannot be asked answers `Ok` with state `Unknown` and
    /// a `problem`, so the Service view can say why; `Err` is for unexpected failures.
    async fn status(&self) -> Result<ServiceStatus, ServiceError>;
    /// Starts ProxLB; returns once the backend has started it (or it failed to start).
    async fn start(&self) -> Result<(), ServiceError>;
    /// Stops ProxLB gracefully (SIGINT for a process: ProxLB exits 0) and waits for the end.
    async fn stop(&self) -> Result<(), ServiceError>;
    /// Stops and starts ProxLB. A fresh process runs at once unless `service.delay` is set.
    async fn restart(&self) -> Result<(), ServiceError>;
    /// Sends SIGHUP: ProxLB re-reads its config after its current sleep, without reconnecting.
    async fn reload(&self) -> Result<(), ServiceError>;
    /// How to run the installed ProxLB once on this machine, beside the daemon ("ask real
    /// ProxLB" runs `<python> -m proxlb -c <copy> -d -j`), or why this backend cannot.
    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        Err(ServiceError::Refused(format!(
            "Asking real ProxLB is not available with the {} backend yet",
            self.backend().label()
        )))
    }
}

/// How to run the installed ProxLB once, as a child of ProxLB Web: `<python> -m proxlb …` with
/// exactly `env` (everything else of ProxLB Web's environment stays private).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneShot {
    /// The interpreter ProxLB is installed in.
    pub python: PathBuf,
    /// The child's whole environment.
    pub env: Vec<(String, OsString)>,
}

/// One line from a [`LogSource`] with the position to resume after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLine {
    /// Opaque, backend-specific position of this line (journald cursor, Docker timestamp plus
    /// index, process sequence number); passing it to [`LogSource::follow`] resumes after it.
    pub position: String,
    /// The line.
    pub line: RawLine,
}

/// Reads ProxLB's output. Object-safe (`Arc<dyn LogSource>`).
#[async_trait::async_trait]
pub trait LogSource: Send + Sync {
    /// The lines after `after` (or, without it, the last `tail` lines), then new lines as they
    /// come. The stream ends when the source ends (container removed, shutdown); the caller
    /// follows again from the last position it got, so nothing is lost or repeated.
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError>;
}
