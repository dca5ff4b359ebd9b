//! The port through which a login is checked against Proxmox VE: [`ProxmoxLogin`].
//!
//! The production adapter ([`crate::adapters::pve::login::PveLogin`]) asks the cluster that
//! ProxLB's configuration names (same hosts, same TLS trust): `POST /access/ticket` with the
//! user's credentials, then, with the user's own ticket, `GET /access/permissions` (every user
//! may read their own) and `GET /access/users/{userid}` for the groups. Tests use fakes.

use std::fmt;

use plb_domain::secret::Secret;

use crate::pve_wire::dto::Permissions;

/// A Proxmox user whose password Proxmox VE accepted, with what they may do there.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxmoxUser {
    /// The user id Proxmox VE confirmed (`alice@pve`), with its realm.
    pub user_id: String,
    /// The user's privileges (`GET /access/permissions` with their own ticket).
    pub permissions: Permissions,
    /// The user's groups, when Proxmox VE let the user read their own entry
    /// (`GET /access/users/{userid}` needs `Sys.Audit` or `User.Modify` on the user's groups);
    /// empty otherwise.
    pub groups: Vec<String>,
}

/// Why Proxmox VE did not confirm a login.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxmoxLoginError {
    /// Wrong user, password or realm, or the user is disabled (HTTP 401).
    #[error("Proxmox VE refused the credentials")]
    BadCredentials,
    /// The password was right but the realm wants a second factor (`NeedTFA`).
    #[error("the Proxmox VE user needs a second factor")]
    NeedsSecondFactor,
    /// Proxmox VE could not be asked: no usable configuration, or no host answered. The detail
    /// (hosts, paths, never secrets) is for the log.
    #[error("Proxmox VE could not be asked: {0}")]
    Unreachable(String),
}

/// Checks credentials against Proxmox VE. Object-safe (`Arc<dyn ProxmoxLogin>`).
#[async_trait::async_trait]
pub trait ProxmoxLogin: Send + Sync {
    /// Logs `user_id` (with realm: `alice@pve`, `root@pam`) in with `password` and reads their
    /// privileges and groups. Exactly one `POST /access/ticket` per call.
    async fn login(
        &self,
        user_id: &str,
        password: &Secret,
    ) -> Result<ProxmoxUser, ProxmoxLoginError>;
}

impl fmt::Debug for dyn ProxmoxLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dyn ProxmoxLogin")
    }
}
