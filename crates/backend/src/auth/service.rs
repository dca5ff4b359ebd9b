//! [`AuthService`]: the one object the web layer asks who a request is, lets people log in and
//! out, and manages API tokens and the audit log with. Built once by the composition root.
//!
//! Rules it enforces (the web layer only translates them into HTTP):
//! - A login is checked against the rate limiter **before** Proxmox VE or the local password is
//!   asked; a refused attempt never reaches Proxmox (whose failed logins count toward fail2ban).
//! - Every login attempt is audited (user tried, source address, result).
//! - A `Bearer` token, when present, is the only credential looked at: a bad token is refused
//!   even when the request also carries a valid session cookie.
//! - Tokens are created only from a browser session by an operator, with a scope no stronger
//!   than the creator's role (a leaked token cannot mint successors); listed by anyone signed in;
//!   revoked by operators. The audit log is readable by anyone signed in.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use plb_domain::audit::AuditFilter;
use plb_domain::auth::{
    CreateToken, CreatedToken, CurrentUser, LoginFailure, LoginRealm, Role, MAX_TOKEN_DAYS,
};
use plb_domain::secret::Secret;
use tokio_util::sync::CancellationToken;

use super::local::LOCAL_REALM;
use super::proxmox::{ProxmoxLogin, ProxmoxLoginError};
use super::{
    role_for_proxmox_user, AdminBootstrap, ApiTokens, AuthError, AuthSource, InstallSecret,
    LimitPolicy, LocalAccounts, LoginDecision, LoginLimiter, Principal, SecretText, Session,
    SessionPolicy, Sessions, TokenIdentity, TokenInfo,
};
use crate::audit::{self, AuditAction, AuditEntry, AuditPage, AuditQuery};
use crate::ports::Clock;
use crate::store::{self, from_unix, Retention, Store};

/// Longest user name a login form may send, in characters.
pub const MAX_USERNAME_CHARS: usize = 128;
/// Longest password a login form may send, in bytes (argon2 and Proxmox are not fed novels).
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub use crate::settings::access::DemoLogin;

/// The tunable parts of [`AuthService`].
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// Session timeouts and caps.
    pub sessions: SessionPolicy,
    /// Login throttling and lockout.
    pub limits: LimitPolicy,
    /// Proxmox groups whose members operate even without `Sys.Modify` (`PROXLB_WEB_ADMIN_GROUPS`).
    pub admin_groups: Vec<String>,
    /// Demo mode's one-click login, if any.
    pub demo_login: Option<DemoLogin>,
    /// How long audit entries are kept.
    pub retention: Retention,
}

impl AuthConfig {
    /// The configuration the server's settings ask for (timeouts, admin groups, demo login).
    pub fn from_settings(settings: &crate::Settings) -> Self {
        let access = &settings.access;
        Self {
            sessions: SessionPolicy {
                idle_timeout: access.session_idle,
                absolute_timeout: access.session_max,
                ..SessionPolicy::default()
            },
            admin_groups: access.admin_groups.clone(),
            demo_login: access.demo_login.clone(),
            ..Self::default()
        }
    }
}

/// Who made a request: a signed-in user (browser session) or an API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The user as the UI shows them (for a token: its creator, named `token:<name>`).
    pub user: CurrentUser,
    /// The token the request carried, if it was authenticated by one.
    pub token: Option<TokenIdentity>,
    /// Where the request came from (after trusted proxies).
    pub source_ip: Option<IpAddr>,
}

impl Identity {
    /// The identity of a browser session.
    pub fn from_session(session: &Session, source_ip: Option<IpAddr>) -> Self {
        Self {
            user: CurrentUser {
                user_id: session.user.user_id.clone(),
                display_name: session.user.display_name.clone(),
                role: session.user.role,
                source: session.user.source,
                via_token: false,
            },
            token: None,
            source_ip,
        }
    }

    /// The identity of an API token.
    pub fn from_token(token: TokenIdentity, source_ip: Option<IpAddr>) -> Self {
        let source = if token
            .created_by
            .rsplit_once('@')
            .is_some_and(|(_, realm)| realm == LOCAL_REALM)
        {
            AuthSource::Local
        } else {
            AuthSource::Proxmox
        };
        Self {
            user: CurrentUser {
                user_id: token.created_by.clone(),
                display_name: token.actor(),
                role: token.role(),
                source,
                via_token: true,
            },
            token: Some(token),
            source_ip,
        }
    }

    /// What the request may do.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Who to name in the audit log: the user id, or `token:<name>`.
    pub fn actor(&self) -> String {
        match &self.token {
            Some(token) => token.actor(),
            None => self.user.user_id.clone(),
        }
    }

    /// `Ok` when the request may do what `required` may; else [`crate::Error::Forbidden`] with
    /// a message that says why.
    pub fn require(&self, required: Role) -> crate::Result<()> {
        if self.role().allows(required) {
            return Ok(());
        }
        let message = match (&self.token, required) {
            (Some(_), Role::Operator) => {
                "this API token is read-only; create one with scope \"operate\" to make changes"
            }
            (None, Role::Operator) => {
                "your user may view but not change anything: it needs Sys.Modify on / in \
                 Proxmox VE (or membership in an admin group)"
            }
            (_, Role::Viewer) => "not allowed",
        };
        Err(crate::Error::Forbidden {
            message: message.to_owned(),
        })
    }
}

/// A login as the form sent it.
#[derive(Clone, Debug)]
pub struct LoginAttempt {
    /// The user name, with or without `@realm`.
    pub username: String,
    /// The password.
    pub password: Secret,
    /// The realm picked in the form (ignored when the user name has one).
    pub realm: LoginRealm,
    /// Where the attempt came from (after trusted proxies).
    pub source_ip: IpAddr,
}

/// Why a login did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Refused, for a reason the login page names.
    #[error("login refused: {}", .0.code())]
    Refused(LoginFailure),
    /// Something broke on this server (the database); the detail is for the log.
    #[error(transparent)]
    Internal(#[from] AuthError),
}

impl From<LoginFailure> for LoginError {
    fn from(failure: LoginFailure) -> Self {
        LoginError::Refused(failure)
    }
}

/// A successful login: the cookie value to set (once) and the session.
#[derive(Debug)]
pub struct LoggedIn {
    /// The session cookie's value.
    pub cookie: SecretText,
    /// The new session.
    pub session: Session,
}

/// Login, sessions, tokens and the audit log, for the web layer. Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    store: Store,
    sessions: Sessions,
    tokens: ApiTokens,
    limiter: Arc<LoginLimiter>,
    local: LocalAccounts,
    proxmox: Arc<dyn ProxmoxLogin>,
    clock: Arc<dyn Clock>,
    admin_groups: Arc<Vec<String>>,
    demo_login: Option<Arc<DemoLogin>>,
    retention: Retention,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("store", &self.store.path())
            .field("admin_groups", &self.admin_groups)
            .field("demo_login", &self.demo_login)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Opens everything under `data_dir` (the database, the install secret, the API token
    /// index) and creates the local admin on first start: its password goes to
    /// `data_dir/initial-admin-password` (0600) and the log names only that file.
    pub async fn open(
        data_dir: &Path,
        clock: Arc<dyn Clock>,
        proxmox: Arc<dyn ProxmoxLogin>,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        let store = Store::open(data_dir).await?;
        let dir = data_dir.to_owned();
        let secret = tokio::task::spawn_blocking(move || InstallSecret::load_or_create(&dir))
            .await
            .map_err(|e| store::StoreError::Task(e.to_string()))??;
        let local = LocalAccounts::new(store.clone(), data_dir);
        // Logs the password file's name (never the password) when it creates the account.
        let _: AdminBootstrap = local.ensure_admin(clock.now()).await?;
        Self::with_parts(store, secret, local, clock, proxmox, config).await
    }

    /// [`AuthService::open`] with the parts given (tests pass a cheap password cost).
    pub async fn with_parts(
        store: Store,
        secret: InstallSecret,
        local: LocalAccounts,
        clock: Arc<dyn Clock>,
        proxmox: Arc<dyn ProxmoxLogin>,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        let tokens = ApiTokens::load(store.clone(), Arc::clone(&clock)).await?;
        let sessions = Sessions::new(store.clone(), secret, Arc::clone(&clock), config.sessions);
        Ok(Self {
            sessions,
            tokens,
            limiter: Arc::new(LoginLimiter::new(config.limits)),
            local,
            proxmox,
            admin_groups: Arc::new(config.admin_groups),
            demo_login: config.demo_login.map(Arc::new),
            retention: config.retention,
            clock,
            store,
        })
    }

    /// Prunes the database now and every hour until `cancel` fires (spawned on the runtime).
    pub fn spawn_pruner(&self, cancel: CancellationToken) {
        tokio::spawn(store::run_pruner(
            self.store.clone(),
            Arc::clone(&self.clock),
            self.retention,
            cancel,
        ));
    }

    /// The database (for services that record audit entries or add tables).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The session timeouts (for the cookie's `Max-Age`).
    pub fn session_policy(&self) -> &SessionPolicy {
        self.sessions.policy()
    }

    /// Whether demo mode's one-click login is available.
    pub fn demo_login_available(&self) -> bool {
        self.demo_login.is_some()
    }

    /// The demo's user id, if demo mode's one-click login is available (for the login page).
    pub fn demo_user(&self) -> Option<&str> {
        self.demo_login.as_deref().map(|d| d.user_id.as_str())
    }

    /// Who a request is: with `bearer` (the `Authorization: Bearer` value) only that token
    /// counts; else the session `cookie`. `None`: not authenticated.
    pub async fn authenticate(
        &self,
        cookie: Option<&str>,
        bearer: Option<&str>,
        source_ip: Option<IpAddr>,
    ) -> Result<Option<Identity>, AuthError> {
        if let Some(bearer) = bearer {
            return Ok(self
                .tokens
                .check(bearer)
                .await
                .map(|token| Identity::from_token(token, source_ip)));
        }
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        Ok(self
            .sessions
            .validate(cookie)
            .await?
            .map(|session| Identity::from_session(&session, source_ip)))
    }

    /// Logs in with the form's credentials: rate limit first, then Proxmox VE (realms pam,
    /// pve, …) or the local account (realm `local`), then a new session. Audited either way.
    pub async fn login(&self, attempt: LoginAttempt) -> Result<LoggedIn, LoginError> {
        let user_id = match full_user_id(&attempt.username, attempt.realm) {
            Some(id)
                if !attempt.password.is_empty()
                    && attempt.password.expose().len() <= MAX_PASSWORD_BYTES =>
            {
                id
            }
            _ => return Err(LoginFailure::Invalid.into()),
        };
        self.login_as(user_id, &attempt.password, attempt.source_ip)
            .await
    }

    /// Demo mode's one-click login as the simulated cluster's user, through the same checks as
    /// any login. `Invalid` outside demo mode.
    pub async fn demo_login(&self, source_ip: IpAddr) -> Result<LoggedIn, LoginError> {
        let Some(demo) = self.demo_login.clone() else {
            return Err(LoginFailure::Invalid.into());
        };
        self.login_as(demo.user_id.clone(), &demo.password, source_ip)
            .await
    }

    async fn login_as(
        &self,
        user_id: String,
        password: &Secret,
        source_ip: IpAddr,
    ) -> Result<LoggedIn, LoginError> {
        let now = self.clock.now();
        if let limited @ LoginDecision::Limited { .. } =
            self.limiter.check(source_ip, &user_id, now)
        {
            let failure = LoginFailure::RateLimited {
                retry_after_secs: limited.retry_after_secs(),
            };
            self.audit_login(&user_id, source_ip, Err(&failure)).await;
            return Err(failure.into());
        }
        let verified = if is_local(&user_id) {
            self.verify_local(&user_id, password).await
        } else {
            self.verify_proxmox(&user_id, password).await
        };
        let principal = match verified? {
            Ok(principal) => principal,
            Err(failure) => {
                let answer = if counts_as_failure(&failure) {
                    match self.limiter.record_failure(source_ip, &user_id, now) {
                        limited @ LoginDecision::Limited { .. } => LoginFailure::RateLimited {
                            retry_after_secs: limited.retry_after_secs(),
                        },
                        LoginDecision::Allowed => failure,
                    }
                } else {
                    failure
                };
                self.audit_login(&user_id, source_ip, Err(&failure)).await;
                return Err(answer.into());
            }
        };
        self.limiter.record_success(&user_id);
        let (cookie, session) = self.sessions.create(principal, Some(source_ip)).await?;
        self.audit_login(&session.user.user_id, source_ip, Ok(session.user.role))
            .await;
        Ok(LoggedIn { cookie, session })
    }

    /// The local account, if the password is right. Outer error: this server failed.
    async fn verify_local(
        &self,
        user_id: &str,
        password: &Secret,
    ) -> Result<Result<Principal, LoginFailure>, AuthError> {
        Ok(self
            .local
            .verify(user_id, password.expose())
            .await?
            .ok_or(LoginFailure::BadCredentials))
    }

    /// The Proxmox user and their role, if Proxmox VE accepts the password and grants a role.
    async fn verify_proxmox(
        &self,
        user_id: &str,
        password: &Secret,
    ) -> Result<Result<Principal, LoginFailure>, AuthError> {
        let user = match self.proxmox.login(user_id, password).await {
            Ok(user) => user,
            Err(ProxmoxLoginError::BadCredentials) => return Ok(Err(LoginFailure::BadCredentials)),
            Err(ProxmoxLoginError::NeedsSecondFactor) => {
                return Ok(Err(LoginFailure::NeedsSecondFactor))
            }
            Err(ProxmoxLoginError::Unreachable(detail)) => {
                tracing::warn!(%detail, "a login could not be checked with Proxmox VE");
                return Ok(Err(LoginFailure::ProxmoxUnreachable));
            }
        };
        let Some(role) = role_for_proxmox_user(&user.permissions, &user.groups, &self.admin_groups)
        else {
            return Ok(Err(LoginFailure::NoPermission));
        };
        Ok(Ok(Principal {
            display_name: user.user_id.clone(),
            user_id: user.user_id,
            source: AuthSource::Proxmox,
            role,
        }))
    }

    async fn audit_login(
        &self,
        user_id: &str,
        source_ip: IpAddr,
        result: Result<Role, &LoginFailure>,
    ) {
        let (action, details, result) = match result {
            Ok(role) => (
                AuditAction::LoginSucceeded,
                Some(serde_json::json!({ "role": role.as_str() })),
                Ok(()),
            ),
            Err(failure) => (
                AuditAction::LoginFailed,
                Some(serde_json::json!({ "reason": failure.code() })),
                Err(failure.message()),
            ),
        };
        self.audit(AuditEntry {
            actor: user_id.to_owned(),
            source_ip: Some(source_ip),
            action,
            target: None,
            details,
            result,
        })
        .await;
    }

    /// Records an audit entry; a failure to record is logged (the action itself stands).
    pub async fn audit(&self, entry: AuditEntry) {
        if let Err(error) = audit::record(&self.store, entry, self.clock.now()).await {
            tracing::error!(%error, "could not write the audit log");
        }
    }

    /// Starts a session for `principal`, whom the caller has authenticated itself (the
    /// password change re-issues the caller's session this way; tests sign in without a
    /// password). Returns the cookie value. Not audited: the caller audits what led to it.
    pub async fn session_for(
        &self,
        principal: Principal,
        source_ip: Option<IpAddr>,
    ) -> Result<SecretText, AuthError> {
        Ok(self.sessions.create(principal, source_ip).await?.0)
    }

    /// Ends the session of `cookie` (audited when there was one).
    pub async fn logout(&self, cookie: &str, who: Option<&Identity>) -> crate::Result<()> {
        let ended = self.sessions.logout(cookie).await?;
        if let (true, Some(who)) = (ended, who) {
            self.audit(entry(who, AuditAction::Logout, None, Ok(())))
                .await;
        }
        Ok(())
    }

    /// Ends every session of the caller's user. Only for browser sessions. Returns how many.
    pub async fn logout_everywhere(&self, who: &Identity) -> crate::Result<usize> {
        if who.token.is_some() {
            return Err(crate::Error::Forbidden {
                message: "an API token has no sessions to end; revoke the token instead".into(),
            });
        }
        let count = self.sessions.logout_everywhere(&who.user.user_id).await?;
        self.audit(entry(who, AuditAction::LogoutEverywhere, None, Ok(())))
            .await;
        Ok(count)
    }

    /// How many live sessions the caller's user has.
    pub async fn session_count(&self, who: &Identity) -> crate::Result<usize> {
        Ok(self.sessions.count_for_user(&who.user.user_id).await?)
    }

    /// Whether the local admin still has its generated initial password.
    pub async fn admin_uses_initial_password(&self) -> crate::Result<bool> {
        Ok(self.local.admin_uses_initial_password().await?)
    }

    /// Changes the caller's local password (local accounts only, from a session) and audits it.
    /// Every session of the account ends (someone who knew the old password may hold one); the
    /// caller gets a new one, whose cookie value is returned.
    pub async fn change_password(
        &self,
        who: &Identity,
        current: &Secret,
        new: &Secret,
    ) -> crate::Result<SecretText> {
        if who.token.is_some() || who.user.source != AuthSource::Local {
            return Err(crate::Error::Forbidden {
                message: "only the local account's password can be changed here; Proxmox \
                          users change theirs in Proxmox VE"
                    .into(),
            });
        }
        let result = self
            .local
            .change_password(
                &who.user.user_id,
                current.expose(),
                new.expose(),
                self.clock.now(),
            )
            .await;
        let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        self.audit(entry(who, AuditAction::PasswordChanged, None, outcome))
            .await;
        result?;
        self.sessions.logout_everywhere(&who.user.user_id).await?;
        let principal = Principal {
            user_id: who.user.user_id.clone(),
            display_name: who.user.display_name.clone(),
            source: who.user.source,
            role: who.user.role,
        };
        Ok(self.session_for(principal, who.source_ip).await?)
    }

    /// Every API token (no secrets). Anyone signed in may list them.
    pub async fn list_tokens(&self, _who: &Identity) -> crate::Result<Vec<TokenInfo>> {
        Ok(self.tokens.list().await?)
    }

    /// Creates an API token: operators only, from a browser session, with a scope no stronger
    /// than their role. Audited. The secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        who: &Identity,
        request: &CreateToken,
    ) -> crate::Result<CreatedToken> {
        who.require(Role::Operator)?;
        if who.token.is_some() {
            return Err(crate::Error::Forbidden {
                message: "API tokens cannot create tokens; create them while signed in".into(),
            });
        }
        if !who.role().allows(request.scope.role()) {
            return Err(crate::Error::Forbidden {
                message: "a token cannot have more rights than its creator".into(),
            });
        }
        let expires_at = match request.expires_in_days {
            None => None,
            Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => {
                Some(self.clock.now() + Duration::from_secs(u64::from(days) * 86_400))
            }
            Some(_) => {
                return Err(crate::Error::Invalid {
                    message: format!("expires_in_days must be from 1 to {MAX_TOKEN_DAYS}"),
                })
            }
        };
        let created = self
            .tokens
            .create(&request.name, request.scope, &who.user.user_id, expires_at)
            .await;
        let outcome = created.as_ref().map(|_| ()).map_err(ToString::to_string);
        self.audit(entry(
            who,
            AuditAction::TokenCreated,
            Some(request.name.trim().to_owned()),
            outcome,
        ))
        .await;
        let created = created?;
        Ok(CreatedToken {
            token: created.secret.expose().to_owned(),
            info: created.info,
        })
    }

    /// Revokes token `id` (operators only); it stops working before this returns. Audited.
    pub async fn revoke_token(&self, who: &Identity, id: i64) -> crate::Result<TokenInfo> {
        who.require(Role::Operator)?;
        let revoked = self.tokens.revoke(id).await?;
        let Some(info) = revoked else {
            return Err(crate::Error::NotFound {
                what: format!("API token {id}"),
            });
        };
        self.audit(entry(
            who,
            AuditAction::TokenRevoked,
            Some(info.name.clone()),
            Ok(()),
        ))
        .await;
        Ok(info)
    }

    /// One page of the audit log. Anyone signed in may read it.
    pub async fn audit_page(
        &self,
        _who: &Identity,
        filter: &AuditFilter,
    ) -> crate::Result<AuditPage> {
        let query = AuditQuery {
            actor: filter
                .actor
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
            action: filter.action,
            since: filter.since.map(from_unix),
            until: filter.until.map(from_unix),
            result: filter.result,
            before_id: filter.before_id,
            limit: filter.limit,
        };
        Ok(audit::query(&self.store, &query).await?)
    }

    /// The current time (for callers that audit with the same clock).
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// An audit entry by `who`.
pub fn entry(
    who: &Identity,
    action: AuditAction,
    target: Option<String>,
    result: Result<(), String>,
) -> AuditEntry {
    AuditEntry {
        actor: who.actor(),
        source_ip: who.source_ip,
        action,
        target,
        details: None,
        result,
    }
}

/// The user id a form names: `name@realm` from the name and the realm picked (`local` is
/// `@proxlb-web`), or the name as typed when it has a realm already. `None` when empty, too
/// long, or holding control characters or spaces.
pub fn full_user_id(username: &str, realm: LoginRealm) -> Option<String> {
    let name = username.trim();
    if name.is_empty()
        || name.chars().count() > MAX_USERNAME_CHARS
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    if name.contains('@') {
        return Some(name.to_owned());
    }
    let realm = match realm {
        LoginRealm::Local => LOCAL_REALM,
        other => other.as_str(),
    };
    Some(format!("{name}@{realm}"))
}

fn is_local(user_id: &str) -> bool {
    user_id
        .rsplit_once('@')
        .is_some_and(|(_, realm)| realm.eq_ignore_ascii_case(LOCAL_REALM))
}

/// Whether a failure counts toward the rate limit: everything where the credentials were
/// tried, not when Proxmox could not be asked at all.
fn counts_as_failure(failure: &LoginFailure) -> bool {
    !matches!(
        failure,
        LoginFailure::ProxmoxUnreachable | LoginFailure::Invalid
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_get_the_realm_picked_unless_they_name_one() {
        assert_eq!(
            full_user_id(" alice ", LoginRealm::Pve).as_deref(),
            Some("alice@pve")
        );
        assert_eq!(
            full_user_id("root", LoginRealm::Pam).as_deref(),
            Some("root@pam")
        );
        assert_eq!(
            full_user_id("admin", LoginRealm::Local).as_deref(),
            Some("admin@proxlb-web")
        );
        assert_eq!(
            full_user_id("bob@ad", LoginRealm::Pam).as_deref(),
            Some("bob@ad")
        );
        assert_eq!(full_user_id("", LoginRealm::Pam), None);
        assert_eq!(full_user_id("a b", LoginRealm::Pam), None);
        assert_eq!(full_user_id(&"x".repeat(129), LoginRealm::Pam), None);
        assert!(is_local("admin@proxlb-web"));
        assert!(!is_local("admin@pam"));
    }

    #[test]
    fn unreachable_proxmox_does_not_count_against_the_user() {
        assert!(counts_as_failure(&LoginFailure::BadCredentials));
        assert!(counts_as_failure(&LoginFailure::NeedsSecondFactor));
        assert!(counts_as_failure(&LoginFailure::NoPermission));
        assert!(!counts_as_failure(&LoginFailure::ProxmoxUnreachable));
    }

    #[test]
    fn tokens_are_named_and_limited_by_their_scope() {
        let token = TokenIdentity {
            id: 3,
            name: "grafana".into(),
            scope: plb_domain::auth::TokenScope::Read,
            created_by: "admin@proxlb-web".into(),
        };
        let who = Identity::from_token(token, None);
        assert_eq!(who.actor(), "token:grafana");
        assert_eq!(who.user.source, AuthSource::Local);
        assert!(who.user.via_token);
        assert!(who.require(Role::Viewer).is_ok());
        let Err(crate::Error::Forbidden { message }) = who.require(Role::Operator) else {
            panic!("a read token must not operate");
        };
        assert!(message.contains("read-only"), "{message}");
    }
}
