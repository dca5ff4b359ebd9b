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
    /// How to run the installed ProxLB once beside the daemon ("ask real ProxLB" runs it with
    /// `-c <copy> -d -j`), or why this backend cannot.
    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        Err(ServiceError::Refused(format!(
            "Asking real ProxLB is not available with the {} backend",
            self.backend().label()
        )))
    }
}

/// How to run the installed ProxLB once beside the daemon.
#[derive(Clone)]
pub enum OneShot {
    /// As a child of ProxLB Web on this machine (process and systemd backends): the caller
    /// writes the copy and runs `<python> -m proxlb -c <copy> -d -j`.
    Local(LocalProxlb),
    /// The backend runs ProxLB itself (Docker: a one-off container beside the daemon's).
    Backend(std::sync::Arc<dyn OneShotRunner>),
}

impl std::fmt::Debug for OneShot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OneShot::Local(local) => f.debug_tuple("Local").field(local).finish(),
            OneShot::Backend(runner) => f.debug_tuple("Backend").field(&runner.describe()).finish(),
        }
    }
}

/// The installed ProxLB as a child of ProxLB Web: `<python> -m proxlb …` with exactly `env`
/// (everything else of ProxLB Web's environment stays private).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalProxlb {
    /// The interpreter ProxLB is installed in.
    pub python: PathBuf,
    /// The child's whole environment.
    pub env: Vec<(String, OsString)>,
}

/// Starts one-off ProxLB runs that the backend itself hosts (e.g. containers).
#[async_trait::async_trait]
pub trait OneShotRunner: Send + Sync {
    /// What runs ProxLB, for the log ("container proxlb's image ghcr.io/…").
    fn describe(&self) -> String;
    /// Starts `proxlb -c <copy> -d -j` where the copy holds `config` (private to ProxLB's user,
    /// mode 0600). Leaves nothing behind when it fails.
    async fn start(&self, config: String) -> Result<Box<dyn OneShotRun>, ServiceError>;
}

/// A signal for a [`OneShotRun`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OneShotSignal {
    /// SIGINT: ProxLB exits 0.
    Interrupt,
    /// SIGKILL.
    Kill,
}

/// What a finished one-off run printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneShotOutput {
    /// Its exit code; `None` when it was killed.
    pub code: Option<i32>,
    /// Its standard output (`-j`'s JSON).
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// One started one-off run. Every method takes `&self`, so the run can be signalled while a
/// [`Self::wait`] is pending.
#[async_trait::async_trait]
pub trait OneShotRun: Send + Sync {
    /// Its name (the container's), for the log and diagnostics.
    fn name(&self) -> &str;
    /// Where ProxLB reads its copy of the configuration (inside the run's filesystem).
    fn config_path(&self) -> PathBuf;
    /// Waits until it has ended, and its output.
    async fn wait(&self) -> Result<OneShotOutput, ServiceError>;
    /// Sends `signal`; a run that has already ended is no error.
    async fn signal(&self, signal: OneShotSignal);
    /// Removes everything of the run (with it the copy of the configuration); called once,
    /// however the run ended.
    async fn remove(&self);
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
