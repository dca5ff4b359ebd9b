//! The auth building blocks on a real store: install secret, local admin, sessions, API tokens,
//! and login rate limiting.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plb_backend::auth::local::INITIAL_PASSWORD_FILE;
use plb_backend::auth::password::PasswordCost;
use plb_backend::auth::{
    AdminBootstrap, ApiTokens, AuthError, AuthSource, InstallSecret, LimitPolicy, LimitScope,
    LocalAccounts, LoginDecision, LoginLimiter, Principal, Role, SessionPolicy, Sessions,
    TokenScope,
};
use plb_backend::ports::Clock;
use plb_backend::store::Store;

/// A clock the test moves by hand.
struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(
            UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        )))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Cheap argon2 parameters for tests about the logic (one test uses the real default).
const CHEAP: PasswordCost = PasswordCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn alice(role: Role) -> Principal {
    Principal {
        user_id: "alice@pve".into(),
        display_name: "alice@pve".into(),
        source: AuthSource::Proxmox,
        role,
    }
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([192, 0, 2, last])
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    clock: Arc<ManualClock>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    Fixture {
        dir,
        store,
        clock: ManualClock::new(),
    }
}

impl Fixture {
    fn sessions(&self, policy: SessionPolicy) -> Sessions {
        let secret = InstallSecret::load_or_create(self.dir.path()).unwrap();
        Sessions::new(self.store.clone(), secret, self.clock.clone(), policy)
    }

    async fn tokens(&self) -> ApiTokens {
        ApiTokens::load(self.store.clone(), self.clock.clone())
            .await
            .unwrap()
    }

    fn accounts(&self) -> LocalAccounts {
        LocalAccounts::new(self.store.clone(), self.dir.path()).with_cost(CHEAP)
    }
}

// ---------------------------------------------------------------- install secret

#[cfg(unix)]
#[tokio::test]
async fn the_install_secret_is_made_once_0600_and_reused() {
    let f = fixture().await;
    let path = InstallSecret::path(f.dir.path());
    assert!(!path.exists());
    let sessions = f.sessions(SessionPolicy::default());
    assert_eq!(mode(&path), 0o600);
    let contents = std::fs::read_to_string(&path).unwrap();
    assert_eq!(contents.trim().len(), 43, "256 bits, base64url");

    let (cookie, _) = sessions.create(alice(Role::Viewer), None).await.unwrap();
    // A restart reads the same secret: the cookie stays valid and the file is unchanged.
    let restarted = f.sessions(SessionPolicy::default());
    assert!(restarted.validate(cookie.expose()).await.unwrap().is_some());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), contents);

    // Another install (another data dir) has another secret: the cookie means nothing there.
    let other = fixture().await;
    let foreign = other.sessions(SessionPolicy::default());
    assert_ne!(
        std::fs::read_to_string(InstallSecret::path(other.dir.path())).unwrap(),
        contents
    );
    assert!(foreign.validate(cookie.expose()).await.unwrap().is_none());
}

#[cfg(unix)]
#[tokio::test]
async fn a_loose_secret_file_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture().await;
    InstallSecret::load_or_create(f.dir.path()).unwrap();
    let path = InstallSecret::path(f.dir.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    InstallSecret::load_or_create(f.dir.path()).unwrap();
    assert_eq!(mode(&path), 0o600);
}

// ---------------------------------------------------------------- local admin

/// Collects the formatted log lines of this test binary.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process-wide log capture. Global rather than per-thread: a thread-scoped subscriber misses
/// events whose callsites other tests' threads registered first.
fn captured_logs() -> LogBuffer {
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

#[tokio::test]
async fn first_start_writes_the_initial_password_to_a_private_file_and_stores_only_a_hash() {
    let f = fixture().await;
    let logs = captured_logs();
    // The real cost here, so the shipped parameters are exercised once.
    let accounts = LocalAccounts::new(f.store.clone(), f.dir.path());
    let outcome = accounts.ensure_admin(f.clock.now()).await.unwrap();

    let file = f.dir.path().join(INITIAL_PASSWORD_FILE);
    assert_eq!(
        outcome,
        AdminBootstrap::Created {
            password_file: file.clone()
        }
    );
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_eq!(password.len(), 24);

    let stored: String = f
        .store
        .call(|c| {
            Ok(c.query_row(
                "SELECT password_hash FROM local_users WHERE username = 'admin'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(&password));

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains(&file.display().to_string()), "{logged}");
    assert!(
        !logged.contains(&password),
        "the log names the file, never the password"
    );

    let admin = accounts.verify("admin", &password).await.unwrap().unwrap();
    assert_eq!(admin.user_id, "admin@proxlb-web");
    assert_eq!(admin.source, AuthSource::Local);
    assert_eq!(admin.role, Role::Operator);
    assert!(accounts.admin_uses_initial_password().await.unwrap());

    // A restart finds the account and leaves the file alone.
    assert_eq!(
        accounts.ensure_admin(f.clock.now()).await.unwrap(),
        AdminBootstrap::Exists
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), password);
}

#[tokio::test]
async fn wrong_passwords_and_other_users_do_not_verify() {
    let f = fixture().await;
    let accounts = f.accounts();
    accounts.ensure_admin(f.clock.now()).await.unwrap();
    let password = std::fs::read_to_string(accounts.initial_password_file()).unwrap();
    let password = password.trim();

    assert!(accounts
        .verify("ADMIN@proxlb-web", password)
        .await
        .unwrap()
        .is_some());
    assert!(accounts.verify("admin", "wrong").await.unwrap().is_none());
    assert!(accounts.verify("admin", "").await.unwrap().is_none());
    assert!(accounts.verify("root", password).await.unwrap().is_none());
    assert!(accounts
        .verify("admin@pam", password)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_removes_the_initial_file() {
    let f = fixture().await;
    let accounts = f.accounts();
    accounts.ensure_admin(f.clock.now()).await.unwrap();
    let file = accounts.initial_password_file();
    let initial = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    let now = f.clock.now();

    let err = accounts
        .change_password("admin", "not the password", "a new long password", now)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::WrongPassword));
    let err = accounts
        .change_password("admin", &initial, "short", now)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::WeakPassword(_)));
    let err = accounts
        .change_password("admin", &initial, &initial, now)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::WeakPassword(_)));
    assert!(file.exists(), "nothing changed yet");

    accounts
        .change_password("admin", &initial, "a new long password", now)
        .await
        .unwrap();
    assert!(
        !file.exists(),
        "the initial password file is gone once changed"
    );
    assert!(!accounts.admin_uses_initial_password().await.unwrap());
    assert!(accounts.verify("admin", &initial).await.unwrap().is_none());
    assert!(accounts
        .verify("admin", "a new long password")
        .await
        .unwrap()
        .is_some());
    // A restart does not bring the file back.
    accounts.ensure_admin(now).await.unwrap();
    assert!(!file.exists());
}

#[tokio::test]
async fn a_lost_admin_password_can_be_reset_to_a_new_file() {
    let f = fixture().await;
    let accounts = f.accounts();
    accounts.ensure_admin(f.clock.now()).await.unwrap();
    let first = std::fs::read_to_string(accounts.initial_password_file()).unwrap();
    accounts
        .change_password("admin", first.trim(), "a new long password", f.clock.now())
        .await
        .unwrap();

    let file = accounts.reset_admin_password(f.clock.now()).await.unwrap();
    let reset = std::fs::read_to_string(&file).unwrap();
    assert_ne!(reset, first);
    assert!(accounts
        .verify("admin", reset.trim())
        .await
        .unwrap()
        .is_some());
    assert!(accounts
        .verify("admin", "a new long password")
        .await
        .unwrap()
        .is_none());
    assert!(accounts.admin_uses_initial_password().await.unwrap());
}

// ---------------------------------------------------------------- sessions

#[tokio::test]
async fn a_session_carries_its_user_and_origin() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (cookie, created) = sessions
        .create(alice(Role::Operator), Some(ip(7)))
        .await
        .unwrap();
    let session = sessions.validate(cookie.expose()).await.unwrap().unwrap();
    assert_eq!(session, created);
    assert_eq!(session.user, alice(Role::Operator));
    assert_eq!(session.source_ip, Some(ip(7)));
    assert_eq!(session.created_at, f.clock.now());
    assert_eq!(
        session.expires_at,
        f.clock.now() + Duration::from_secs(30 * 60)
    );
    assert_eq!(format!("{cookie:?}"), "***");
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (cookie, _) = sessions.create(alice(Role::Viewer), None).await.unwrap();

    f.clock.advance(Duration::from_secs(29 * 60));
    assert!(
        sessions.validate(cookie.expose()).await.unwrap().is_some(),
        "used after 29 min"
    );
    // Idle time counts from that use, not from the login.
    f.clock.advance(Duration::from_secs(29 * 60));
    assert!(sessions.validate(cookie.expose()).await.unwrap().is_some());
    f.clock.advance(Duration::from_secs(30 * 60));
    assert!(
        sessions.validate(cookie.expose()).await.unwrap().is_none(),
        "idle 30 min"
    );
    // And it is gone, not just refused.
    assert_eq!(sessions.count_for_user("alice@pve").await.unwrap(), 0);
}

#[tokio::test]
async fn sessions_end_after_the_absolute_timeout_however_busy() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (cookie, _) = sessions.create(alice(Role::Viewer), None).await.unwrap();
    // Used every 10 minutes for 12 hours.
    for _ in 0..71 {
        f.clock.advance(Duration::from_secs(10 * 60));
        assert!(sessions.validate(cookie.expose()).await.unwrap().is_some());
    }
    f.clock.advance(Duration::from_secs(10 * 60));
    assert!(
        sessions.validate(cookie.expose()).await.unwrap().is_none(),
        "12 h after login"
    );
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_per_touch_interval() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (cookie, created) = sessions.create(alice(Role::Viewer), None).await.unwrap();

    f.clock.advance(Duration::from_secs(30));
    let s = sessions.validate(cookie.expose()).await.unwrap().unwrap();
    assert_eq!(
        s.last_seen, created.last_seen,
        "not written within a minute"
    );
    f.clock.advance(Duration::from_secs(30));
    let s = sessions.validate(cookie.expose()).await.unwrap().unwrap();
    assert_eq!(s.last_seen, f.clock.now(), "written after a minute");
    let stored: i64 = f
        .store
        .call(|c| Ok(c.query_row("SELECT last_seen FROM sessions", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(stored, 1_795_000_060);
}

#[tokio::test]
async fn logout_ends_one_session_and_logout_everywhere_ends_all_of_a_user() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (laptop, _) = sessions.create(alice(Role::Viewer), None).await.unwrap();
    let (phone, _) = sessions.create(alice(Role::Viewer), None).await.unwrap();
    let (desk, _) = sessions.create(alice(Role::Viewer), None).await.unwrap();
    let mut bob = alice(Role::Viewer);
    bob.user_id = "bob@pam".into();
    let (bobs, _) = sessions.create(bob, None).await.unwrap();
    assert_eq!(sessions.count_for_user("alice@pve").await.unwrap(), 3);

    assert!(sessions.logout(laptop.expose()).await.unwrap());
    assert!(
        !sessions.logout(laptop.expose()).await.unwrap(),
        "already gone"
    );
    assert!(sessions.validate(laptop.expose()).await.unwrap().is_none());
    assert!(sessions.validate(phone.expose()).await.unwrap().is_some());

    assert_eq!(sessions.logout_everywhere("alice@pve").await.unwrap(), 2);
    assert!(sessions.validate(phone.expose()).await.unwrap().is_none());
    assert!(sessions.validate(desk.expose()).await.unwrap().is_none());
    assert!(
        sessions.validate(bobs.expose()).await.unwrap().is_some(),
        "other users stay"
    );
}

#[tokio::test]
async fn forged_and_tampered_cookies_are_refused() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (cookie, _) = sessions.create(alice(Role::Operator), None).await.unwrap();
    let (id, tag) = cookie.expose().split_once('.').unwrap();

    let mut flipped = tag.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for bad in [
        String::new(),
        "garbage".to_owned(),
        id.to_owned(),
        format!("{id}."),
        format!("{id}.{flipped}"),
        format!("{tag}.{id}"),
        format!("{id}.{tag}x"),
    ] {
        assert!(sessions.validate(&bad).await.unwrap().is_none(), "{bad:?}");
        assert!(!sessions.logout(&bad).await.unwrap());
    }
    assert!(sessions.validate(cookie.expose()).await.unwrap().is_some());
}

#[tokio::test]
async fn the_database_holds_no_usable_cookie() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    let (cookie, _) = sessions.create(alice(Role::Operator), None).await.unwrap();
    let stored: Vec<u8> = f
        .store
        .call(|c| Ok(c.query_row("SELECT id_hash FROM sessions", [], |r| r.get(0))?))
        .await
        .unwrap();
    let (id, _) = cookie.expose().split_once('.').unwrap();
    use base64::Engine as _;
    let raw_id = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, raw_id, "only a hash of the id is stored");
    let file = std::fs::read(f.store.path()).unwrap();
    let wal = std::fs::read(f.store.path().with_extension("sqlite3-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(!bytes.windows(32).any(|w| w == raw_id.as_slice()));
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
    }
}

#[tokio::test]
async fn a_user_has_at_most_max_per_user_sessions() {
    let f = fixture().await;
    let policy = SessionPolicy {
        max_per_user: 3,
        ..SessionPolicy::default()
    };
    let sessions = f.sessions(policy);
    let mut cookies = Vec::new();
    for _ in 0..5 {
        f.clock.advance(Duration::from_secs(1));
        cookies.push(sessions.create(alice(Role::Viewer), None).await.unwrap().0);
    }
    assert_eq!(sessions.count_for_user("alice@pve").await.unwrap(), 3);
    assert!(sessions
        .validate(cookies[0].expose())
        .await
        .unwrap()
        .is_none());
    assert!(sessions
        .validate(cookies[1].expose())
        .await
        .unwrap()
        .is_none());
    assert!(sessions
        .validate(cookies[4].expose())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn the_session_table_is_capped_in_total() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy {
        max_total: 10,
        ..SessionPolicy::default()
    });
    for i in 0..25 {
        let mut user = alice(Role::Viewer);
        user.user_id = format!("user{i}@pve");
        sessions.create(user, None).await.unwrap();
    }
    let total: i64 = f
        .store
        .call(|c| Ok(c.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(total, 10);
}

#[tokio::test]
async fn pruning_deletes_expired_sessions() {
    let f = fixture().await;
    let sessions = f.sessions(SessionPolicy::default());
    for _ in 0..4 {
        sessions.create(alice(Role::Viewer), None).await.unwrap();
    }
    f.clock.advance(Duration::from_secs(31 * 60));
    let report = f
        .store
        .prune(f.clock.now(), Default::default())
        .await
        .unwrap();
    assert_eq!(report.sessions_expired, 4);
}

// ---------------------------------------------------------------- API tokens

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_checked() {
    let f = fixture().await;
    let tokens = f.tokens().await;
    let new = tokens
        .create("terraform", TokenScope::Read, "alice@pve", None)
        .await
        .unwrap();
    let secret = new.secret.expose().to_owned();
    assert!(secret.starts_with("plbw_"));
    assert_eq!(secret.len(), 5 + 43, "256 bits");
    assert_eq!(new.info.prefix, &secret[..8]);
    assert_eq!(format!("{:?}", new.secret), "***");

    let who = tokens.check(&secret).await.unwrap();
    assert_eq!(who.name, "terraform");
    assert_eq!(who.role(), Role::Viewer);
    assert_eq!(who.created_by, "alice@pve");
    assert_eq!(who.actor(), "token:terraform");

    // The list and the database know the token only by hash.
    let listed = serde_json::to_string(&tokens.list().await.unwrap()).unwrap();
    assert!(!listed.contains(&secret[8..]));
    let file = std::fs::read(f.store.path()).unwrap();
    let wal = std::fs::read(f.store.path().with_extension("sqlite3-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }

    for wrong in [
        "",
        "plbw_",
        "Bearer x",
        &secret[..secret.len() - 1],
        format!("{secret}x").as_str(),
    ] {
        assert!(tokens.check(wrong).await.is_none(), "{wrong:?}");
    }
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let f = fixture().await;
    let tokens = f.tokens().await;
    let ci = tokens
        .create("ci", TokenScope::Operate, "alice@pve", None)
        .await
        .unwrap();
    let other = tokens
        .create("grafana", TokenScope::Read, "alice@pve", None)
        .await
        .unwrap();
    // A second handle on the same index (a clone, as the web layer holds one) sees it too.
    let handle = tokens.clone();
    assert_eq!(
        handle.check(ci.secret.expose()).await.unwrap().role(),
        Role::Operator
    );

    let revoked = tokens.revoke(ci.info.id).await.unwrap().unwrap();
    assert_eq!(revoked.name, "ci");
    assert!(tokens.check(ci.secret.expose()).await.is_none());
    assert!(handle.check(ci.secret.expose()).await.is_none());
    assert!(tokens.check(other.secret.expose()).await.is_some());
    assert_eq!(
        tokens.revoke(ci.info.id).await.unwrap(),
        None,
        "already revoked"
    );
    let names: Vec<String> = tokens
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["grafana"]);

    // Nor does it come back after a restart.
    let restarted = f.tokens().await;
    assert!(restarted.check(ci.secret.expose()).await.is_none());
    assert!(restarted.check(other.secret.expose()).await.is_some());
}

#[tokio::test]
async fn tokens_can_expire() {
    let f = fixture().await;
    let tokens = f.tokens().await;
    let expiry = f.clock.now() + Duration::from_secs(3_600);
    let new = tokens
        .create("temp", TokenScope::Read, "alice@pve", Some(expiry))
        .await
        .unwrap();
    assert!(tokens.check(new.secret.expose()).await.is_some());
    f.clock.advance(Duration::from_secs(3_600));
    assert!(tokens.check(new.secret.expose()).await.is_none());
    let report = f
        .store
        .prune(f.clock.now(), Default::default())
        .await
        .unwrap();
    assert_eq!(report.tokens_expired, 1);
    assert!(tokens.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn last_used_is_recorded_at_most_every_five_minutes() {
    let f = fixture().await;
    let tokens = f.tokens().await;
    let new = tokens
        .create("prom", TokenScope::Read, "alice@pve", None)
        .await
        .unwrap();
    let last_used = || async { tokens.list().await.unwrap()[0].last_used_at_unix };
    assert_eq!(last_used().await, None);

    let start = 1_795_000_000;
    tokens.check(new.secret.expose()).await.unwrap();
    assert_eq!(last_used().await, Some(start));
    f.clock.advance(Duration::from_secs(60));
    tokens.check(new.secret.expose()).await.unwrap();
    assert_eq!(
        last_used().await,
        Some(start),
        "not written again within 5 minutes"
    );
    f.clock.advance(Duration::from_secs(240));
    tokens.check(new.secret.expose()).await.unwrap();
    assert_eq!(last_used().await, Some(start + 300));
}

#[tokio::test]
async fn token_names_are_unique_valid_and_the_count_is_capped() {
    let f = fixture().await;
    let tokens = f.tokens().await;
    tokens
        .create("one", TokenScope::Read, "alice@pve", None)
        .await
        .unwrap();
    assert!(matches!(
        tokens
            .create("one", TokenScope::Operate, "bob@pam", None)
            .await,
        Err(AuthError::TokenNameTaken)
    ));
    assert!(matches!(
        tokens.create("  ", TokenScope::Read, "bob@pam", None).await,
        Err(AuthError::InvalidTokenName(_))
    ));
    for i in 1..ApiTokens::MAX_TOKENS {
        tokens
            .create(&format!("t{i}"), TokenScope::Read, "alice@pve", None)
            .await
            .unwrap();
    }
    assert!(matches!(
        tokens
            .create("one more", TokenScope::Read, "alice@pve", None)
            .await,
        Err(AuthError::TooManyTokens { max: 200 })
    ));
    let first = tokens.list().await.unwrap()[0].id;
    tokens.revoke(first).await.unwrap();
    tokens
        .create("one more", TokenScope::Read, "alice@pve", None)
        .await
        .unwrap();
}

// ---------------------------------------------------------------- login rate limiting

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000 + secs)
}

#[test]
fn five_failures_lock_the_user_for_fifteen_minutes_from_any_address() {
    let limiter = LoginLimiter::new(LimitPolicy::default());
    for i in 0..4 {
        assert_eq!(
            limiter.check(ip(1), "alice@pve", at(i)),
            LoginDecision::Allowed
        );
        assert_eq!(
            limiter.record_failure(ip(1), "alice@pve", at(i)),
            LoginDecision::Allowed
        );
    }
    let locked = limiter.record_failure(ip(1), "Alice@PVE", at(4));
    assert_eq!(
        locked,
        LoginDecision::Limited {
            scope: LimitScope::User,
            retry_after: Duration::from_secs(15 * 60)
        }
    );
    // Another address does not help, and the lock counts down.
    let later = limiter.check(ip(2), " alice@pve", at(4 + 600));
    assert_eq!(later.retry_after_secs(), 300);
    assert!(later.message().unwrap().contains("5 minutes"));
    // Other users are not affected.
    assert_eq!(
        limiter.check(ip(1), "bob@pve", at(5)),
        LoginDecision::Allowed
    );
    assert_eq!(
        limiter.check(ip(1), "alice@pve", at(4 + 900)),
        LoginDecision::Allowed
    );
}

#[test]
fn failures_outside_the_window_do_not_count() {
    let limiter = LoginLimiter::new(LimitPolicy::default());
    // Four failures, a pause of five minutes, four more: never five within five minutes.
    for i in 0..4 {
        limiter.record_failure(ip(1), "alice@pve", at(i));
    }
    for i in 0..4 {
        let d = limiter.record_failure(ip(1), "alice@pve", at(300 + i));
        assert_eq!(d, LoginDecision::Allowed);
    }
}

#[test]
fn twenty_failures_from_one_address_limit_that_address() {
    let limiter = LoginLimiter::new(LimitPolicy::default());
    // A password spray: one try each for 20 different users.
    for i in 0..19u64 {
        let d = limiter.record_failure(ip(9), &format!("user{i}@pam"), at(i));
        assert_eq!(d, LoginDecision::Allowed);
    }
    let d = limiter.record_failure(ip(9), "user19@pam", at(19));
    assert!(matches!(
        d,
        LoginDecision::Limited {
            scope: LimitScope::Source,
            ..
        }
    ));
    assert!(matches!(
        limiter.check(ip(9), "somebody@pve", at(20)),
        LoginDecision::Limited {
            scope: LimitScope::Source,
            ..
        }
    ));
    assert_eq!(
        limiter.check(ip(10), "somebody@pve", at(20)),
        LoginDecision::Allowed
    );
}

#[test]
fn a_success_resets_the_users_failures_but_not_the_addresses() {
    let limiter = LoginLimiter::new(LimitPolicy::default());
    for i in 0..4 {
        limiter.record_failure(ip(1), "alice@pve", at(i));
    }
    limiter.record_success("alice@pve");
    for i in 0..4 {
        assert_eq!(
            limiter.record_failure(ip(1), "alice@pve", at(10 + i)),
            LoginDecision::Allowed,
            "counting starts afresh"
        );
    }
    // The address has 8 failures; 12 more limit it even though alice logged in once.
    for i in 0..11 {
        limiter.record_failure(ip(1), &format!("x{i}@pve"), at(20 + i));
    }
    assert!(matches!(
        limiter.record_failure(ip(1), "x11@pve", at(40)),
        LoginDecision::Limited {
            scope: LimitScope::Source,
            ..
        }
    ));
}
