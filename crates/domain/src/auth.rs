//! Who is signed in, and as what: the types the login page, the user menu, the account page and
//! the REST API share (server and browser).
//!
//! - [`Role`]: what a user or token may do (view, or also operate).
//! - [`CurrentUser`]: the signed-in user as the UI shows them.
//! - [`LoginRealm`] and [`LoginFailure`]: the login form's realms and its error codes
//!   (`/login?error=<code>`).
//! - [`TokenScope`], [`TokenInfo`], [`CreateToken`], [`CreatedToken`]: API tokens.

use serde::{Deserialize, Serialize};

/// Name of the session cookie (HttpOnly, SameSite=Strict; the browser's scripts never read it).
pub const SESSION_COOKIE: &str = "plbw_session";

/// Path of the login page.
pub const LOGIN_PATH: &str = "/login";
/// `POST` here (form-urlencoded `username`, `password`, `realm`, `next`, or `demo=1`) to log in.
pub const LOGIN_ACTION: &str = "/auth/login";
/// `POST` here to end this session.
pub const LOGOUT_ACTION: &str = "/auth/logout";
/// `POST` here to end every session of the signed-in user.
pub const LOGOUT_EVERYWHERE_ACTION: &str = "/auth/logout-everywhere";

/// What a signed-in user or token may do. Ordered: an operator may do everything a viewer may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read everything: views, REST reads, the live channel, the audit log.
    Viewer,
    /// Also change things: configuration, service control, maintenance, balancing runs.
    Operator,
}

impl Role {
    /// Stable name, as stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    /// The inverse of [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    /// Whether this role may do what `required` may.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Operator => "Operator",
        }
    }
}

/// Where a signed-in user was authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthSource {
    /// By Proxmox VE (`/access/ticket`, realms pam and pve).
    Proxmox,
    /// By ProxLB Web's own account store (the local `admin`).
    Local,
}

impl AuthSource {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthSource::Proxmox => "proxmox",
            AuthSource::Local => "local",
        }
    }

    /// The inverse of [`AuthSource::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "proxmox" => Some(AuthSource::Proxmox),
            "local" => Some(AuthSource::Local),
            _ => None,
        }
    }
}

/// The signed-in user, as the UI shows them (user menu, account page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// Full user id with realm, e.g. `alice@pve`, `admin@proxlb-web`; for a token, its creator.
    pub user_id: String,
    /// Name to show (for a token: `token:<name>`).
    pub display_name: String,
    /// What the user (or token) may do.
    pub role: Role,
    /// Who authenticated the user.
    pub source: AuthSource,
    /// Whether the request came with an API token rather than a browser session.
    pub via_token: bool,
}

impl CurrentUser {
    /// Whether the user may change things (the UI hides write actions otherwise; the server
    /// enforces it regardless).
    pub fn can_operate(&self) -> bool {
        self.role.allows(Role::Operator)
    }
}

/// The realms the login form offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginRealm {
    /// Linux PAM on the Proxmox nodes (`root@pam`).
    #[default]
    Pam,
    /// Proxmox VE's own user database (`alice@pve`).
    Pve,
    /// ProxLB Web's local account (`admin`), for when Proxmox is unreachable.
    Local,
}

impl LoginRealm {
    /// Every realm, in the order the login form lists them.
    pub const ALL: [LoginRealm; 3] = [LoginRealm::Pam, LoginRealm::Pve, LoginRealm::Local];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginRealm::Pam => "pam",
            LoginRealm::Pve => "pve",
            LoginRealm::Local => "local",
        }
    }

    /// The inverse of [`LoginRealm::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            LoginRealm::Pam => "Linux PAM (Proxmox)",
            LoginRealm::Pve => "Proxmox VE authentication server",
            LoginRealm::Local => "ProxLB Web local account",
        }
    }
}

/// Why a login failed. Crosses the wire as a code (`/login?error=<code>`, JSON `code`), so the
/// page can say it without the server echoing anything the client sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LoginFailure {
    /// Wrong user name or password (never which of the two).
    BadCredentials,
    /// Too many failed logins for this user or from this address.
    RateLimited {
        /// Seconds until a login may be tried again.
        retry_after_secs: u64,
    },
    /// The Proxmox realm asks for a second factor (TOTP, WebAuthn…), which this login cannot do.
    NeedsSecondFactor,
    /// The credentials are right, but the user lacks `Sys.Audit` on `/` in Proxmox.
    NoPermission,
    /// Proxmox could not be asked (down, unreachable, or no cluster configured).
    ProxmoxUnreachable,
    /// The form was incomplete or malformed.
    Invalid,
}

impl LoginFailure {
    /// The code for the URL (`/login?error=rate_limited`). `RateLimited` loses its seconds
    /// there; the page then says "later".
    pub fn code(&self) -> &'static str {
        match self {
            LoginFailure::BadCredentials => "bad_credentials",
            LoginFailure::RateLimited { .. } => "rate_limited",
            LoginFailure::NeedsSecondFactor => "needs_second_factor",
            LoginFailure::NoPermission => "no_permission",
            LoginFailure::ProxmoxUnreachable => "proxmox_unreachable",
            LoginFailure::Invalid => "invalid",
        }
    }

    /// The inverse of [`LoginFailure::code`]; `rate_limited` comes back with 0 seconds.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code.trim() {
            "bad_credentials" => LoginFailure::BadCredentials,
            "rate_limited" => LoginFailure::RateLimited {
                retry_after_secs: 0,
            },
            "needs_second_factor" => LoginFailure::NeedsSecondFactor,
            "no_permission" => LoginFailure::NoPermission,
            "proxmox_unreachable" => LoginFailure::ProxmoxUnreachable,
            "invalid" => LoginFailure::Invalid,
            _ => return None,
        })
    }

    /// What the login page says.
    pub fn message(&self) -> String {
        match self {
            LoginFailure::BadCredentials => {
                "Wrong user name or password (or wrong realm).".to_owned()
            }
            LoginFailure::RateLimited { retry_after_secs } if *retry_after_secs > 0 => {
                let minutes = retry_after_secs.div_ceil(60);
                let unit = if minutes == 1 { "minute" } else { "minutes" };
                format!(
                    "Too many failed logins. Logins are blocked for now: try again in \
                     {minutes} {unit}."
                )
            }
            LoginFailure::RateLimited { .. } => {
                "Too many failed logins. Logins are blocked for now: try again later.".to_owned()
            }
            LoginFailure::NeedsSecondFactor => {
                "This Proxmox user needs a second factor (TOTP, WebAuthn or recovery keys), \
                 which ProxLB Web does not support yet. Log in with a user without a second \
                 factor, or with the local admin account."
                    .to_owned()
            }
            LoginFailure::NoPermission => {
                "Signed in, but this Proxmox user may not use ProxLB Web: it needs the \
                 Sys.Audit privilege on / (Sys.Modify to make changes)."
                    .to_owned()
            }
            LoginFailure::ProxmoxUnreachable => {
                "Proxmox VE could not be reached to check the password. Try again, or log in \
                 with the local admin account (realm \"ProxLB Web local account\")."
                    .to_owned()
            }
            LoginFailure::Invalid => {
                "Enter a user name and a password, and pick a realm.".to_owned()
            }
        }
    }
}

/// What the account page shows about the signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The user.
    pub user: CurrentUser,
    /// Live browser sessions of this user (for "log out everywhere (3 sessions)").
    pub sessions: u32,
    /// The local admin still has its generated initial password: ask to change it.
    pub must_change_password: bool,
}

/// What the login page needs to know before anyone is signed in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPageInfo {
    /// In demo mode: the simulated cluster's user a one-click login signs in as.
    pub demo_user: Option<String>,
}

/// What an API token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read-only: every GET, the live channel.
    Read,
    /// Also write: what an operator may do.
    Operate,
}

impl TokenScope {
    /// Both scopes, weakest first.
    pub const ALL: [TokenScope; 2] = [TokenScope::Read, TokenScope::Operate];

    /// Stable name, as stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Operate => "operate",
        }
    }

    /// The inverse of [`TokenScope::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(TokenScope::Read),
            "operate" => Some(TokenScope::Operate),
            _ => None,
        }
    }

    /// The role a request with such a token has.
    pub fn role(self) -> Role {
        match self {
            TokenScope::Read => Role::Viewer,
            TokenScope::Operate => Role::Operator,
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            TokenScope::Read => "Read-only",
            TokenScope::Operate => "Operate",
        }
    }
}

/// A token as listed: everything but the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its id (for revoking).
    pub id: i64,
    /// Its unique name, e.g. `terraform`.
    pub name: String,
    /// Its first characters (`plbw_Abc`), to tell tokens apart.
    pub prefix: String,
    /// What it may do.
    pub scope: TokenScope,
    /// Who created it (user id).
    pub created_by: String,
    /// When it was created (Unix seconds).
    pub created_at_unix: i64,
    /// When it stops working (Unix seconds), if ever.
    pub expires_at_unix: Option<i64>,
    /// When it was last used (Unix seconds, to within 5 minutes), if ever.
    pub last_used_at_unix: Option<i64>,
}

/// `POST /api/tokens`: a token to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateToken {
    /// Unique name, 1–64 characters.
    pub name: String,
    /// What it may do; no stronger than the creator's role.
    pub scope: TokenScope,
    /// Days until it stops working (1 to [`MAX_TOKEN_DAYS`]); `None`: never.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// Longest lifetime a token may be given, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// A freshly created token: its secret, shown once, and its listing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// The token itself (`plbw_…`): send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// What the list will show.
    pub info: TokenInfo,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("token", &"***")
            .field("info", &self.info)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_named_and_serialized_snake_case() {
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        for r in [Role::Viewer, Role::Operator] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn login_failure_codes_round_trip() {
        for f in [
            LoginFailure::BadCredentials,
            LoginFailure::RateLimited {
                retry_after_secs: 0,
            },
            LoginFailure::NeedsSecondFactor,
            LoginFailure::NoPermission,
            LoginFailure::ProxmoxUnreachable,
            LoginFailure::Invalid,
        ] {
            assert_eq!(LoginFailure::from_code(f.code()), Some(f));
            assert!(!f.message().is_empty());
        }
        assert_eq!(LoginFailure::from_code("<script>"), None);
    }

    #[test]
    fn rate_limit_messages_name_the_wait_when_known() {
        let m = LoginFailure::RateLimited {
            retry_after_secs: 61,
        }
        .message();
        assert!(m.contains("2 minutes"), "{m}");
        let m = LoginFailure::RateLimited {
            retry_after_secs: 0,
        }
        .message();
        assert!(m.contains("later"), "{m}");
        let json = serde_json::to_value(LoginFailure::RateLimited {
            retry_after_secs: 9,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "rate_limited", "retry_after_secs": 9})
        );
    }

    #[test]
    fn realms_and_scopes_parse_their_names() {
        for r in LoginRealm::ALL {
            assert_eq!(LoginRealm::parse(r.as_str()), Some(r));
        }
        assert_eq!(LoginRealm::parse("ldap"), None);
        for s in TokenScope::ALL {
            assert_eq!(TokenScope::parse(s.as_str()), Some(s));
        }
        assert_eq!(TokenScope::Read.role(), Role::Viewer);
        assert_eq!(TokenScope::Operate.role(), Role::Operator);
    }

    #[test]
    fn a_created_token_never_debug_prints_its_secret() {
        let t = CreatedToken {
            token: "plbw_supersecret".into(),
            info: TokenInfo {
                id: 1,
                name: "ci".into(),
                prefix: "plbw_sup".into(),
                scope: TokenScope::Read,
                created_by: "alice@pve".into(),
                created_at_unix: 0,
                expires_at_unix: None,
                last_used_at_unix: None,
            },
        };
        assert!(!format!("{t:?}").contains("supersecret"));
    }

    #[test]
    fn create_token_accepts_a_missing_expiry() {
        let c: CreateToken = serde_json::from_str(r#"{"name":"ci","scope":"operate"}"#).unwrap();
        assert_eq!(c.scope, TokenScope::Operate);
        assert_eq!(c.expires_in_days, None);
    }
}
