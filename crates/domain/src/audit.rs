//! The audit log as the UI and `GET /api/audit` show it: actions, entries, filters, pages.
//!
//! The server records and queries entries (`plb_backend::audit`); these are the shared shapes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What happened. The names ([`AuditAction::as_str`]) are stable: they are stored and filtered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (wrong credentials, no privileges, or rate limited).
    LoginFailed,
    /// A user logged out.
    Logout,
    /// A user ended all their sessions.
    LogoutEverywhere,
    /// A local password was changed.
    PasswordChanged,
    /// An API token was created.
    TokenCreated,
    /// An API token was revoked.
    TokenRevoked,
    /// ProxLB's configuration was changed.
    ConfigChanged,
    /// ProxLB's service was started, stopped or restarted.
    ServiceAction,
    /// A node's maintenance mode was switched.
    MaintenanceToggled,
    /// A guest's ignore tag was switched.
    IgnoreToggled,
    /// A balancing run was started.
    BalancingRun,
}

impl AuditAction {
    /// Every action, for filters in the UI.
    pub const ALL: [AuditAction; 12] = [
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::LogoutEverywhere,
        AuditAction::PasswordChanged,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::ConfigChanged,
        AuditAction::ServiceAction,
        AuditAction::MaintenanceToggled,
        AuditAction::IgnoreToggled,
        AuditAction::BalancingRun,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "login_succeeded",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::LogoutEverywhere => "logout_everywhere",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::ConfigChanged => "config_changed",
            AuditAction::ServiceAction => "service_action",
            AuditAction::MaintenanceToggled => "maintenance_toggled",
            AuditAction::IgnoreToggled => "ignore_toggled",
            AuditAction::BalancingRun => "balancing_run",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "Login",
            AuditAction::LoginFailed => "Failed login",
            AuditAction::Logout => "Logout",
            AuditAction::LogoutEverywhere => "Logout everywhere",
            AuditAction::PasswordChanged => "Password changed",
            AuditAction::TokenCreated => "Token created",
            AuditAction::TokenRevoked => "Token revoked",
            AuditAction::ConfigChanged => "Configuration changed",
            AuditAction::ServiceAction => "Service action",
            AuditAction::MaintenanceToggled => "Maintenance switched",
            AuditAction::IgnoreToggled => "Ignore switched",
            AuditAction::BalancingRun => "Balancing run",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an [`AuditAction`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for AuditAction {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// One recorded entry, as the UI and the REST API show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Its id; newer entries have larger ids.
    pub id: i64,
    /// When (Unix seconds).
    pub at_unix: i64,
    /// Who: a user id, `token:<name>`, or for a failed login the user name that was tried.
    pub actor: String,
    /// From where.
    pub source_ip: Option<String>,
    /// What.
    pub action: AuditAction,
    /// On what.
    pub target: Option<String>,
    /// More detail (secrets masked).
    pub details: Option<Value>,
    /// Whether it succeeded.
    pub ok: bool,
    /// Why not, if it failed.
    pub error: Option<String>,
}

/// Which results a query wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultFilter {
    /// Only successes.
    Ok,
    /// Only failures.
    Failed,
}

/// One page of entries, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The entries, newest first.
    pub records: Vec<AuditRecord>,
    /// How many entries match the filters in all (ignoring paging).
    pub total: u64,
    /// Pass as `before_id` for the next (older) page; `None` on the last page.
    pub next_before_id: Option<i64>,
}

/// The filters of `GET /api/audit?actor=&action=&result=&since=&until=&before_id=&limit=` and of
/// the audit page. Times are Unix seconds; every field is optional (the default: newest 50).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// Only this actor (exact).
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only successes or only failures.
    pub result: Option<ResultFilter>,
    /// Only at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only before this time (Unix seconds).
    pub until: Option<i64>,
    /// Paging: only entries older than this id (the previous page's `next_before_id`).
    pub before_id: Option<i64>,
    /// Page size: 1 to 500; missing or 0 means 50.
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_stable_and_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::json!(a.as_str())
            );
            assert!(!a.label().is_empty());
        }
        assert!("dance".parse::<AuditAction>().is_err());
    }

    #[test]
    fn filters_read_from_partial_json() {
        let f: AuditFilter =
            serde_json::from_str(r#"{"action":"login_failed","result":"failed"}"#).unwrap();
        assert_eq!(f.action, Some(AuditAction::LoginFailed));
        assert_eq!(f.result, Some(ResultFilter::Failed));
        assert_eq!(f.limit, None);
    }
}
