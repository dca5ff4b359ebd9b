//! Who may use ProxLB Web, and as what: the building blocks the web layer's login, middleware and
//! token endpoints call.
//!
//! - [`cookie`]: the session cookie's attributes, and where a request came from.
//! - [`role`]: [`Role`] (Viewer, Operator) and the mapping from Proxmox privileges to a role.
//! - [`secret`]: the per-install secret that signs session cookies (0600 file, made at first start).
//! - [`password`]: argon2id hashing (passwords only) and generated passwords.
//! - [`local`]: the local `admin` account for when Proxmox is unreachable.
//! - [`session`]: browser sessions with idle and absolute timeouts.
//! - [`token`]: API tokens for automation (SHA-256 at rest, microsecond checks).
//! - [`ratelimit`]: login throttling and lockout, decided before Proxmox is asked.
//! - [`proxmox`]: the port that checks a login with Proxmox VE ([`ProxmoxLogin`]).
//! - [`service`]: [`AuthService`], which ties the above together for the web layer.

pub mod cookie;
pub mod local;
pub mod password;
pub mod proxmox;
pub mod ratelimit;
pub mod role;
pub mod secret;
pub mod service;
pub mod session;
pub mod token;

mod random;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::store::StoreError;

pub use cookie::ClientInfo;
pub use local::{AdminBootstrap, LocalAccounts};
pub use proxmox::{ProxmoxLogin, ProxmoxLoginError, ProxmoxUser};
pub use ratelimit::{LimitPolicy, LimitRule, LimitScope, LoginDecision, LoginLimiter};
pub use role::{role_for_proxmox_user, Role};
pub use secret::InstallSecret;
pub use service::{
    AuthConfig, AuthService, DemoLogin, Identity, LoggedIn, LoginAttempt, LoginError,
};
pub use session::{Session, SessionPolicy, Sessions};
pub use token::{ApiTokens, NewToken, TokenIdentity, TokenInfo, TokenScope};

/// A secret string handed to a person or a browser once (a new API token, a session cookie value,
/// a generated password). `Debug` prints `***`; read it with [`SecretText::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: only to put into the one place it is meant for.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a signed-in user was authenticated (shared with the browser).
pub use plb_domain::auth::AuthSource;

/// A signed-in person: what a session carries about its user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Full user id with realm, e.g. `alice@pve` or `admin@proxlb-web`.
    pub user_id: String,
    /// Name to show (today the user id).
    pub display_name: String,
    /// Who authenticated the user.
    pub source: AuthSource,
    /// What the user may do.
    pub role: Role,
}

/// What the auth building blocks can fail with. Messages may hold paths: log them; the variants
/// map to safe messages in [`crate::Error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// A new password does not meet the policy; the message is safe to show.
    #[error("{0}")]
    WeakPassword(&'static str),
    /// A token name is empty, too long or has control characters; the message is safe to show.
    #[error("{0}")]
    InvalidTokenName(&'static str),
    /// Another token already has this name.
    #[error("a token with this name exists already")]
    TokenNameTaken,
    /// No more tokens may be created until one is revoked.
    #[error("at most {max} API tokens may exist; revoke one first")]
    TooManyTokens {
        /// The cap.
        max: usize,
    },
    /// The install secret file exists but does not hold a secret.
    #[error(
        "{} does not hold a 256-bit secret; remove it to generate a new one \
         (this logs everyone out)",
        path.display()
    )]
    BadSecretFile {
        /// The file.
        path: PathBuf,
    },
    /// The operating system's random source, or argon2, failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

impl From<AuthError> for crate::Error {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::WrongPassword
            | AuthError::WeakPassword(_)
            | AuthError::InvalidTokenName(_)
            | AuthError::TokenNameTaken
            | AuthError::TooManyTokens { .. } => crate::Error::Invalid {
                message: err.to_string(),
            },
            AuthError::Store(e) => e.into(),
            other => crate::Error::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_text_never_prints() {
        let s = SecretText::new("hunter2hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.expose(), "hunter2hunter2");
    }

    #[test]
    fn auth_source_names_round_trip() {
        for s in [AuthSource::Proxmox, AuthSource::Local] {
            assert_eq!(AuthSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(AuthSource::parse("ldap"), None);
    }

    #[test]
    fn user_errors_map_to_invalid_and_the_rest_to_internal() {
        let e: crate::Error = AuthError::WrongPassword.into();
        assert!(matches!(e, crate::Error::Invalid { .. }));
        let e: crate::Error = AuthError::Crypto("x".into()).into();
        assert!(matches!(e, crate::Error::Internal(_)));
    }
}
