//! Errors of the Proxmox VE client. None of them carries a secret: no password, token secret or
//! ticket, and no raw response body (a decode error names the endpoint and position only).

use crate::error::{Error, Service};

/// The kind of a [`PveError`], for summaries and UI badges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The configuration cannot be used.
    Config,
    /// No TCP connection.
    Unreachable,
    /// The TLS handshake failed (untrusted certificate, pin mismatch, …).
    Tls,
    /// Credentials rejected.
    Unauthorized,
    /// A privilege is missing.
    Forbidden,
    /// The endpoint does not exist on this PVE version.
    NotImplemented,
    /// PVE answered with an error status.
    Server,
    /// The request timed out.
    Timeout,
    /// The answer could not be understood.
    Decode,
}

impl FailureKind {
    /// A short English label.
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Config => "configuration error",
            FailureKind::Unreachable => "host unreachable",
            FailureKind::Tls => "TLS error",
            FailureKind::Unauthorized => "authentication failed",
            FailureKind::Forbidden => "permission denied",
            FailureKind::NotImplemented => "not supported by this Proxmox VE version",
            FailureKind::Server => "Proxmox VE error",
            FailureKind::Timeout => "timeout",
            FailureKind::Decode => "unexpected answer",
        }
    }
}

/// What talking to Proxmox VE can fail with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PveError {
    /// The connection configuration cannot be used (no hosts, unreadable CA file, bad user).
    #[error("invalid Proxmox VE connection settings: {reason}")]
    Config {
        /// What is wrong (never a secret).
        reason: String,
    },
    /// No TCP connection could be made to the host.
    #[error("cannot connect to {host}")]
    Unreachable {
        /// `host:port`.
        host: String,
    },
    /// The TLS handshake with the host failed.
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls {
        /// `host:port`.
        host: String,
        /// Why (e.g. unknown issuer, fingerprint mismatch with the fingerprint seen).
        reason: String,
    },
    /// The credentials were rejected (HTTP 401), also after a fresh login.
    #[error("authentication failed (wrong user, password or token, or the user is disabled)")]
    Unauthorized,
    /// A privilege is missing (HTTP 403).
    #[error("permission denied on {path}{}", privilege.as_ref().map(|p| format!(" (needs {p})")).unwrap_or_default())]
    Forbidden {
        /// The API path requested, e.g. `/cluster/status`.
        path: String,
        /// The missing privilege, when PVE named it (`Sys.Audit`).
        privilege: Option<String>,
    },
    /// The endpoint does not exist on this PVE version (HTTP 501), e.g. HA rules before 9.0.
    #[error("{path} is not available on this Proxmox VE version")]
    NotImplemented {
        /// The API path requested.
        path: String,
    },
    /// PVE answered with another error status (500, 595 "No route to host" for offline nodes…).
    #[error("Proxmox VE answered {status} on {path}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The API path requested.
        path: String,
        /// PVE's error message (may name PVE-internal config paths; for logs, not for browsers).
        message: String,
    },
    /// The host did not answer in time.
    #[error("request to {host} timed out")]
    Timeout {
        /// `host:port`.
        host: String,
    },
    /// The answer was not the JSON we expected.
    #[error("unexpected answer from {context}")]
    Decode {
        /// Endpoint and position, never the body.
        context: String,
    },
    /// The answer's body was larger than the client's limit (nothing beyond it was read).
    #[error("the answer to {path} is larger than the limit of {}", byte_size(*limit))]
    TooLarge {
        /// The API path requested.
        path: String,
        /// The limit, in bytes.
        limit: u64,
    },
}

/// `64 MiB`, `512 KiB` or `1000 bytes`: how a size limit reads in a message.
fn byte_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

impl PveError {
    /// The kind of failure.
    pub fn kind(&self) -> FailureKind {
        match self {
            PveError::Config { .. } => FailureKind::Config,
            PveError::Unreachable { .. } => FailureKind::Unreachable,
            PveError::Tls { .. } => FailureKind::Tls,
            PveError::Unauthorized => FailureKind::Unauthorized,
            PveError::Forbidden { .. } => FailureKind::Forbidden,
            PveError::NotImplemented { .. } => FailureKind::NotImplemented,
            PveError::Server { .. } => FailureKind::Server,
            PveError::Timeout { .. } => FailureKind::Timeout,
            PveError::Decode { .. } | PveError::TooLarge { .. } => FailureKind::Decode,
        }
    }

    /// The host involved, when the failure is about one host.
    pub fn host(&self) -> Option<&str> {
        match self {
            PveError::Unreachable { host }
            | PveError::Tls { host, .. }
            | PveError::Timeout { host } => Some(host),
            _ => None,
        }
    }

    /// Whether the failure is about the connection to the API (as opposed to one endpoint's
    /// answer): such failures make a whole snapshot fail.
    pub fn is_transport_or_auth(&self) -> bool {
        matches!(
            self,
            PveError::Config { .. }
                | PveError::Unreachable { .. }
                | PveError::Tls { .. }
                | PveError::Unauthorized
                | PveError::Timeout { .. }
        )
    }

    /// Whether PVE could not proxy the call to the node (595/596: node offline or unreachable).
    pub fn is_node_unreachable(&self) -> bool {
        matches!(
            self,
            PveError::Server {
                status: 595 | 596,
                ..
            }
        )
    }

    /// A one-line summary safe to show to users: the kind of failure and the host or API path,
    /// without PVE's free-text message (which may name internal paths) and without secrets.
    pub fn safe_summary(&self) -> String {
        match self {
            PveError::Config { reason } => format!("configuration error: {reason}"),
            PveError::Unreachable { host } => format!("cannot connect to {host}"),
            PveError::Tls { host, reason } => format!("TLS error with {host}: {reason}"),
            PveError::Unauthorized => "authentication failed".to_owned(),
            PveError::Forbidden { .. } | PveError::NotImplemented { .. } => self.to_string(),
            PveError::Server { status, path, .. } if matches!(status, 595 | 596) => {
                format!("Proxmox VE could not reach the node for {path} (HTTP {status})")
            }
            PveError::Server { status, path, .. } => {
                format!("Proxmox VE error HTTP {status} on {path}")
            }
            PveError::Timeout { host } => format!("request to {host} timed out"),
            PveError::Decode { context } => format!("unexpected answer from {context}"),
            PveError::TooLarge { .. } => self.to_string(),
        }
    }
}

/// Reads the missing privilege from PVE's `Permission check failed (/vms/100, VM.Migrate)`.
pub fn privilege_from_message(message: &str) -> Option<String> {
    let inner = message.split_once('(')?.1.split_once(')')?.0;
    let privilege = inner.rsplit_once(',')?.1.trim();
    (!privilege.is_empty() && !privilege.contains(' ')).then(|| privilege.to_owned())
}

impl From<PveError> for Error {
    fn from(error: PveError) -> Self {
        match error {
            PveError::Config { reason } => Error::Invalid {
                message: format!("Proxmox VE connection settings: {reason}"),
            },
            other => Error::Unavailable {
                service: Service::Proxmox,
                detail: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privilege_is_read_from_pve_messages() {
        assert_eq!(
            privilege_from_message("Permission check failed (/vms/100, VM.Migrate)\n").as_deref(),
            Some("VM.Migrate")
        );
        assert_eq!(
            privilege_from_message("Permission check failed (user != root@pam)"),
            None
        );
        assert_eq!(privilege_from_message("boom"), None);
    }

    #[test]
    fn errors_map_into_the_backend_error() {
        let err: Error = PveError::Unreachable {
            host: "pve1:8006".into(),
        }
        .into();
        match err {
            Error::Unavailable { service, detail } => {
                assert_eq!(service, Service::Proxmox);
                assert_eq!(detail, "cannot connect to pve1:8006");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err: Error = PveError::Config {
            reason: "no hosts".into(),
        }
        .into();
        assert!(matches!(err, Error::Invalid { .. }));
        let err: Error = PveError::Forbidden {
            path: "/cluster/status".into(),
            privilege: Some("Sys.Audit".into()),
        }
        .into();
        assert_eq!(
            err.to_string(),
            "Proxmox VE unavailable: permission denied on /cluster/status (needs Sys.Audit)"
        );
    }

    #[test]
    fn summaries_leave_out_pve_messages() {
        let err = PveError::Server {
            status: 500,
            path: "/nodes/pve1/qemu/100/config".into(),
            message: "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist".into(),
        };
        assert_eq!(err.kind(), FailureKind::Server);
        assert!(!err.safe_summary().contains("qemu-server"));
        assert!(err.to_string().contains("qemu-server"));
        let offline = PveError::Server {
            status: 595,
            path: "/nodes/pve3/status".into(),
            message: "No route to host".into(),
        };
        assert!(offline.is_node_unreachable());
        assert!(!offline.is_transport_or_auth());
        assert!(PveError::Unauthorized.is_transport_or_auth());
        assert_eq!(PveError::Timeout { host: "h:1".into() }.host(), Some("h:1"));
    }

    #[test]
    fn a_too_large_answer_names_the_limit() {
        let err = PveError::TooLarge {
            path: "/cluster/resources".into(),
            limit: 64 * 1024 * 1024,
        };
        assert_eq!(
            err.safe_summary(),
            "the answer to /cluster/resources is larger than the limit of 64 MiB"
        );
        assert_eq!(err.kind(), FailureKind::Decode);
        assert!(!err.is_transport_or_auth());
        assert_eq!(byte_size(2048), "2 KiB");
        assert_eq!(byte_size(1000), "1000 bytes");
    }
}
