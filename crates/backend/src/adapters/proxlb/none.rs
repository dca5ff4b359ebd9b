//! No backend (or one that cannot be used at all): ProxLB Web only shows the cluster. Status says why (a [`ProblemKind::NoBackend`]
//! problem naming the setting), every action is refused, and the log is empty.

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_domain::service::{BackendKind, ProblemKind, ServiceProblem, ServiceState, ServiceStatus};

use crate::ports::{LogSource, OneShot, ServiceError, ServiceManager, SourceLine};

/// The backend used when none is configured or detected.
#[derive(Clone, Debug)]
pub struct NoBackend {
    kind: BackendKind,
    problem: ServiceProblem,
}

impl NoBackend {
    /// A backend whose status shows `message` and `hint`.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            kind: BackendKind::None,
            problem: ServiceProblem {
                kind: ProblemKind::NoBackend,
                message: message.into(),
                hint: hint.into(),
            },
        }
    }

    /// A `kind` backend that cannot be used at all (e.g. an unusable `DOCKER_HOST`): its status
    /// shows `problem`.
    pub fn with_problem(kind: BackendKind, problem: ServiceProblem) -> Self {
        Self { kind, problem }
    }

    /// The problem it reports.
    pub fn problem(&self) -> &ServiceProblem {
        &self.problem
    }

    fn refuse(&self) -> Result<(), ServiceError> {
        Err(ServiceError::Problem(self.problem.clone()))
    }
}

#[async_trait::async_trait]
impl ServiceManager for NoBackend {
    fn backend(&self) -> BackendKind {
        self.kind
    }

    async fn status(&self) -> Result<ServiceStatus, ServiceError> {
        Ok(ServiceStatus {
            backend: self.kind,
            target: String::new(),
            state: ServiceState::Unknown,
            since_unix_ms: None,
            pid: None,
            exit_code: None,
            last_error_lines: Vec::new(),
            version: None,
            problem: Some(self.problem.clone()),
        })
    }

    async fn start(&self) -> Result<(), ServiceError> {
        self.refuse()
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        self.refuse()
    }

    async fn restart(&self) -> Result<(), ServiceError> {
        self.refuse()
    }

    async fn reload(&self) -> Result<(), ServiceError> {
        self.refuse()
    }

    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        Err(ServiceError::Problem(self.problem.clone()))
    }
}

#[async_trait::async_trait]
impl LogSource for NoBackend {
    /// An empty log that never ends on its own (there is nothing to follow, and a stream that
    /// ended would make the caller follow again in a loop).
    async fn follow(
        &self,
        _after: Option<String>,
        _tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
        Ok(futures::stream::pending().boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn says_why_and_refuses_every_action() {
        let none = NoBackend::new("no ProxLB backend configured", "Set PROXLB_SERVICE.");
        let status = none.status().await.unwrap();
        assert_eq!(status.state, ServiceState::Unknown);
        assert_eq!(status.problem.unwrap().kind, ProblemKind::NoBackend);
        let error = none.start().await.unwrap_err();
        assert_eq!(error.to_string(), "no ProxLB backend configured");
        assert!(none.reload().await.is_err());
    }
}
