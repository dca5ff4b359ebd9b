//! The backend's error type: what can go wrong in a service, in terms a caller can act on.
//!
//! Adapter errors convert into it; the web layer turns it into the one wire type `ApiError`.
//! Messages here may hold internal detail (paths, hosts): they are logged, never sent to browsers.

use std::fmt;

/// A system ProxLB Web depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The Proxmox VE API.
    Proxmox,
    /// The Docker engine running ProxLB.
    Docker,
    /// systemd running ProxLB.
    Systemd,
    /// The ProxLB configuration file.
    Config,
    /// ProxLB's log source.
    Logs,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Proxmox => "Proxmox VE",
            Service::Docker => "Docker",
            Service::Systemd => "systemd",
            Service::Config => "ProxLB configuration",
            Service::Logs => "ProxLB logs",
        })
    }
}

/// What a backend service can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, for people (e.g. `node "pve9"`).
        what: String,
    },
    /// The caller's input is wrong; the message is safe to show.
    #[error("invalid input: {message}")]
    Invalid {
        /// What is wrong, for people.
        message: String,
    },
    /// A dependency could not be used right now.
    #[error("{service} unavailable: {detail}")]
    Unavailable {
        /// Which dependency.
        service: Service,
        /// Internal detail, for the log only.
        detail: String,
    },
    /// A bug or an unexpected state; detail for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result with the backend's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
