//! Logging in through [`AuthService`] with the real Proxmox adapter against the simulator:
//! roles from privileges, rate limiting before Proxmox is asked, an unreachable cluster, the
//! local admin, tokens and the audit trail.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use plb_backend::adapters::config_file::PveOverrides;
use plb_backend::adapters::pve::login::PveLogin;
use plb_backend::audit::AuditAction;
use plb_backend::auth::local::LocalAccounts;
use plb_backend::auth::password::PasswordCost;
use plb_backend::auth::{
    AuthConfig, AuthService, AuthSource, Identity, InstallSecret, LoginAttempt, LoginError, Role,
};
use plb_backend::ports::Clock;
use plb_backend::store::Store;
use plb_backend::testing::ManualClock;
use plb_domain::audit::{AuditFilter, ResultFilter};
use plb_domain::auth::{CreateToken, LoginFailure, LoginRealm, TokenScope};
use plb_domain::secret::Secret;
use plb_pve_sim::{FaultRule, Simulator};

const CHEAP: PasswordCost = PasswordCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

const TICKETS: &str = "POST /access/ticket";

/// `proxlb.yaml` for the simulator at `port` in `dir` (root's token; the login only uses the
/// hosts and TLS settings).
fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("proxlb.yaml");
    std::fs::write(
        &path,
        format!(
            "proxmox_api:\n  hosts: ['127.0.0.1:{port}']\n  user: root@pam\n  token_id: {ROOT_TOKEN_ID}\n  token_secret: {ROOT_TOKEN_SECRET}\n  ssl_verification: true\n  timeout: 5\n"
        ),
    )
    .unwrap();
    path
}

struct Fixture {
    auth: AuthService,
    store: Store,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn fixture(sim: &Simulator, port: u16) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path(), port);
    let login = PveLogin::new(
        config,
        PveOverrides {
            fingerprints: vec![sim.fingerprint().unwrap().parse().unwrap()],
            ..PveOverrides::default()
        },
    );
    let clock = ManualClock::new();
    let store = Store::open(&data).await.unwrap();
    let secret = InstallSecret::load_or_create(&data).unwrap();
    let local = LocalAccounts::new(store.clone(), &data).with_cost(CHEAP);
    local.ensure_admin(clock.now()).await.unwrap();
    let auth = AuthService::with_parts(
        store.clone(),
        secret,
        local,
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::new(login),
        AuthConfig::default(),
    )
    .await
    .unwrap();
    Fixture {
        auth,
        store,
        clock,
        _dir: dir,
    }
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([198, 51, 100, last])
}

fn attempt(user: &str, password: &str, realm: LoginRealm, from: IpAddr) -> LoginAttempt {
    LoginAttempt {
        username: user.into(),
        password: Secret::new(password),
        realm,
        source_ip: from,
    }
}

fn refused(result: Result<plb_backend::auth::LoggedIn, LoginError>) -> LoginFailure {
    match result {
        Err(LoginError::Refused(failure)) => failure,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn proxmox_privileges_decide_the_role() {
    let sim = start_sim().await;
    let f = fixture(&sim, sim.addr().port()).await;

    let root = f
        .auth
        .login(attempt("root", ROOT_PASSWORD, LoginRealm::Pam, ip(1)))
        .await
        .unwrap();
    assert_eq!(root.session.user.user_id, "root@pam");
    assert_eq!(root.session.user.role, Role::Operator);
    assert_eq!(root.session.user.source, AuthSource::Proxmox);

    // PVEAuditor on /: Sys.Audit without Sys.Modify.
    let auditor = f
        .auth
        .login(attempt("auditor", "auditor-demo", LoginRealm::Pve, ip(1)))
        .await
        .unwrap();
    assert_eq!(auditor.session.user.role, Role::Viewer);

    assert_eq!(
        refused(
            f.auth
                .login(attempt("nobody@pve", "nobody-pw", LoginRealm::Pam, ip(1)))
                .await
        ),
        LoginFailure::NoPermission
    );
    assert_eq!(
        refused(
            f.auth
                .login(attempt("root", "wrong", LoginRealm::Pam, ip(1)))
                .await
        ),
        LoginFailure::BadCredentials
    );
    assert_eq!(
        refused(
            f.auth
                .login(attempt(" ", "x", LoginRealm::Pam, ip(1)))
                .await
        ),
        LoginFailure::Invalid
    );

    // The session works, and every attempt is in the audit log with its source.
    let who = f
        .auth
        .authenticate(Some(root.cookie.expose()), None, Some(ip(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who.user.user_id, "root@pam");
    let page = f
        .auth
        .audit_page(&who, &AuditFilter::default())
        .await
        .unwrap();
    let actions: Vec<_> = page.records.iter().map(|r| (r.action, r.ok)).collect();
    assert_eq!(
        actions,
        vec![
            (AuditAction::LoginFailed, false),
            (AuditAction::LoginFailed, false),
            (AuditAction::LoginSucceeded, true),
            (AuditAction::LoginSucceeded, true),
        ],
        "the invalid form is not audited (no user to name), the rest is"
    );
    assert!(page
        .records
        .iter()
        .all(|r| r.source_ip.as_deref() == Some("198.51.100.1")));
    assert_eq!(page.records[0].actor, "root@pam");
    let failed = f
        .auth
        .audit_page(
            &who,
            &AuditFilter {
                result: Some(ResultFilter::Failed),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.total, 2);
    drop(f.store);
    sim.shutdown().await;
}

#[tokio::test]
async fn brute_force_is_stopped_before_proxmox_is_asked() {
    let sim = start_sim().await;
    let f = fixture(&sim, sim.addr().port()).await;
    sim.reset_request_counts();

    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(refused(
            f.auth
                .login(attempt("alice@pve", "guess", LoginRealm::Pve, ip(9)))
                .await,
        ));
    }
    assert_eq!(answers[..4], [LoginFailure::BadCredentials; 4]);
    assert!(
        matches!(answers[4], LoginFailure::RateLimited { retry_after_secs } if retry_after_secs > 0),
        "the fifth failure locks the user: {:?}",
        answers[4]
    );
    assert_eq!(count(&sim, TICKETS), 5);

    // Locked: not even the right password reaches Proxmox now.
    for password in ["guess", "another", ROOT_PASSWORD] {
        let failure = refused(
            f.auth
                .login(attempt("alice@pve", password, LoginRealm::Pve, ip(10)))
                .await,
        );
        assert!(
            matches!(failure, LoginFailure::RateLimited { .. }),
            "{failure:?}"
        );
    }
    assert_eq!(
        count(&sim, TICKETS),
        5,
        "no login after the limit reached Proxmox"
    );

    // The lock ends after its time.
    f.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        refused(
            f.auth
                .login(attempt("alice@pve", "guess", LoginRealm::Pve, ip(10)))
                .await
        ),
        LoginFailure::BadCredentials
    );
    assert_eq!(count(&sim, TICKETS), 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_cluster_is_said_and_not_held_against_the_user() {
    let sim = start_sim().await;
    let f = fixture(&sim, closed_port()).await;
    for _ in 0..8 {
        assert_eq!(
            refused(
                f.auth
                    .login(attempt("root", ROOT_PASSWORD, LoginRealm::Pam, ip(3)))
                    .await
            ),
            LoginFailure::ProxmoxUnreachable
        );
    }
    // A connection reset from a reachable host is the same.
    let g = fixture(&sim, sim.addr().port()).await;
    sim.inject_fault(FaultRule::connection_reset(TICKETS));
    assert_eq!(
        refused(
            g.auth
                .login(attempt("root", ROOT_PASSWORD, LoginRealm::Pam, ip(3)))
                .await
        ),
        LoginFailure::ProxmoxUnreachable
    );
    sim.clear_faults();
    assert!(g
        .auth
        .login(attempt("root", ROOT_PASSWORD, LoginRealm::Pam, ip(3)))
        .await
        .is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn open_creates_private_files_and_the_local_admin_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sim = start_sim().await;
    let config = write_config(dir.path(), sim.addr().port());
    let auth = AuthService::open(
        &data,
        ManualClock::new(),
        Arc::new(PveLogin::new(config, PveOverrides::default())),
        AuthConfig::default(),
    )
    .await
    .unwrap();
    for file in [
        "session-secret",
        "initial-admin-password",
        "proxlb-web.sqlite3",
    ] {
        let mode = std::fs::metadata(data.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap();
    let admin = auth
        .login(attempt("admin", password.trim(), LoginRealm::Local, ip(4)))
        .await
        .unwrap();
    assert_eq!(admin.session.user.user_id, "admin@proxlb-web");
    assert_eq!(admin.session.user.source, AuthSource::Local);
    assert_eq!(admin.session.user.role, Role::Operator);
    assert!(auth.admin_uses_initial_password().await.unwrap());
    assert_eq!(
        refused(
            auth.login(attempt("admin", "wrong", LoginRealm::Local, ip(4)))
                .await
        ),
        LoginFailure::BadCredentials
    );
    // The Proxmox realm does not know the local admin.
    assert!(auth
        .login(attempt("admin", password.trim(), LoginRealm::Pam, ip(4)))
        .await
        .is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_follow_the_rules_and_revoked_ones_stop_at_once() {
    let sim = start_sim().await;
    let f = fixture(&sim, sim.addr().port()).await;
    let operator = f
        .auth
        .login(attempt("root", ROOT_PASSWORD, LoginRealm::Pam, ip(5)))
        .await
        .unwrap();
    let operator = Identity::from_session(&operator.session, Some(ip(5)));
    let viewer = f
        .auth
        .login(attempt("auditor", "auditor-demo", LoginRealm::Pve, ip(5)))
        .await
        .unwrap();
    let viewer = Identity::from_session(&viewer.session, Some(ip(5)));
    let request = |name: &str, scope| CreateToken {
        name: name.into(),
        scope,
        expires_in_days: None,
    };

    // Viewers may list but not create.
    assert!(f.auth.list_tokens(&viewer).await.unwrap().is_empty());
    assert!(matches!(
        f.auth
            .create_token(&viewer, &request("v", TokenScope::Read))
            .await,
        Err(plb_backend::Error::Forbidden { .. })
    ));

    let read = f
        .auth
        .create_token(&operator, &request("grafana", TokenScope::Read))
        .await
        .unwrap();
    assert!(read.token.starts_with("plbw_"));
    let who = f
        .auth
        .authenticate(None, Some(&read.token), Some(ip(6)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who.role(), Role::Viewer);
    assert_eq!(who.actor(), "token:grafana");
    // A token cannot mint tokens, whatever its scope.
    let operate = f
        .auth
        .create_token(&operator, &request("ci", TokenScope::Operate))
        .await
        .unwrap();
    let ci = f
        .auth
        .authenticate(None, Some(&operate.token), None)
        .await
        .unwrap()
        .unwrap();
    assert!(f
        .auth
        .create_token(&ci, &request("more", TokenScope::Read))
        .await
        .is_err());
    // A bearer that is wrong is not rescued by a valid cookie.
    assert!(f
        .auth
        .authenticate(Some("whatever"), Some("plbw_nope"), None)
        .await
        .unwrap()
        .is_none());

    f.auth.revoke_token(&operator, read.info.id).await.unwrap();
    assert!(f
        .auth
        .authenticate(None, Some(&read.token), None)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        f.auth.revoke_token(&operator, read.info.id).await,
        Err(plb_backend::Error::NotFound { .. })
    ));
    let bad_expiry = CreateToken {
        expires_in_days: Some(0),
        ..request("x", TokenScope::Read)
    };
    assert!(matches!(
        f.auth.create_token(&operator, &bad_expiry).await,
        Err(plb_backend::Error::Invalid { .. })
    ));

    let page = f
        .auth
        .audit_page(
            &operator,
            &AuditFilter {
                actor: Some("root@pam".into()),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<_> = page.records.iter().map(|r| r.action).collect();
    assert!(actions.contains(&AuditAction::TokenCreated));
    assert!(actions.contains(&AuditAction::TokenRevoked));
    let text = serde_json::to_string(&page).unwrap();
    assert!(
        !text.contains(&operate.token),
        "no token secret in the audit log"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_second_factor_is_named_and_counts_as_a_failure() {
    plb_backend::tls::install_crypto_provider();
    let scenario =
        demo().user(plb_pve_sim::UserSpec::new("carol@pve", Some("carol-pw")).with_tfa());
    let sim = Simulator::start(
        scenario,
        plb_pve_sim::SimConfig {
            time_scale: 0.0,
            start_time: Some(1_795_365_000.0),
            ..plb_pve_sim::SimConfig::default()
        },
    )
    .await
    .unwrap();
    let f = fixture(&sim, sim.addr().port()).await;
    let failure = refused(
        f.auth
            .login(attempt("carol", "carol-pw", LoginRealm::Pve, ip(7)))
            .await,
    );
    assert_eq!(failure, LoginFailure::NeedsSecondFactor);
    assert!(failure.message().contains("second factor"));
    // The half ticket was not used for anything else.
    assert_eq!(count(&sim, "GET /access/permissions"), 0);
    sim.shutdown().await;
}
