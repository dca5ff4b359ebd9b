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
    /// ProxLB run as a local process (its interpreter, its pipes, its signals).
    Proxlb,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Proxmox => "Proxmox VE",
            Service::Docker => "Docker",
            Service::Systemd => "systemd",
            Service::Config => "ProxLB configuration",
            Service::Logs => "ProxLB logs",
            Service::Proxlb => "ProxLB",
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
    /// ProxLB Web has no usable cluster configuration. Both fields are safe to show: they name
    /// files and fields, never secrets.
    #[error("{reason}. {hint}")]
    NotConfigured {
        /// What is missing or wrong (e.g. the config file does not exist).
        reason: String,
        /// What to set to fix it (`PROXLB_CONFIG`, or `--demo` to try a simulated cluster).
        hint: String,
    },
    /// The caller is not signed in, or the credentials are wrong; the message is safe to show.
    #[error("not authenticated: {message}")]
    Unauthorized {
        /// What is missing, for people (never which part of a credential was wrong).
        message: String,
    },
    /// The caller is known but may not do this; the message is safe to show.
    #[error("forbidden: {message}")]
    Forbidden {
        /// What was refused, for people.
        message: String,
    },
    /// The change conflicts with the current state (e.g. a newer version of a file, a run that
    /// is already going); the caller can reload and retry.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts, for people.
        message: String,
        /// The current state the change ran into, when it is safe to show (e.g. a revision).
        current: Option<String>,
    },
    /// A bug or an unexpected state; detail for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An [`Error::Internal`] from anything printable, for `map_err`.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }
}

/// Why there is no cluster to show: the payload of [`Error::NotConfigured`], kept by the cluster
/// service while the configuration is unusable. Both fields are safe to show.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NotConfigured {
    /// What is missing or wrong (file path and field; never a secret).
    pub reason: String,
    /// What to set to fix it.
    pub hint: String,
}

impl From<NotConfigured> for Error {
    fn from(value: NotConfigured) -> Self {
        Error::NotConfigured {
            reason: value.reason,
            hint: value.hint,
        }
    }
}

/// Result with the backend's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_configured_reads_as_reason_then_hint() {
        let error = Error::NotConfigured {
            reason: "/etc/proxlb/proxlb.yaml does not exist".into(),
            hint: "Set PROXLB_CONFIG".into(),
        };
        assert_eq!(
            error.to_string(),
            "/etc/proxlb/proxlb.yaml does not exist. Set PROXLB_CONFIG"
        );
    }

    #[test]
    fn conflict_names_what_conflicts() {
        let error = Error::Conflict {
            message: "proxlb.yaml changed since it was loaded".into(),
            current: Some("rev 7".into()),
        };
        assert_eq!(
            error.to_string(),
            "conflict: proxlb.yaml changed since it was loaded"
        );
        assert!(matches!(Error::internal(42), Error::Internal(detail) if detail == "42"));
    }
}
