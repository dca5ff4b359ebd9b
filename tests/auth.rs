//! Secure by default: every route of the one route table needs a session or a token, logins are
//! rate limited before Proxmox is asked, roles and token scopes hold, and no secret leaks into
//! any answer or log line.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use plb_backend::Settings;
use plb_domain::auth::TokenScope;
use proxlb_web::server::router::{self, RouteTable};
use rustls::pki_types::pem::PemObject;
use support::{send, token, TestApp};

/// The demo's Proxmox users (from the demo scenario): root operates, the auditor only views.
const ROOT_PASSWORD: &str = "pve-sim-demo";
const AUDITOR_PASSWORD: &str = "auditor-demo";
/// The demo's API token secrets (in its `proxlb.yaml`).
const DEMO_TOKEN_SECRETS: [&str; 2] = [
    "5f1c3e9a-6a8b-4f0e-9d2c-7b4a1e3f8c21",
    "0d7b2f64-3c1e-4a9b-8f25-6e4d9c0a1b37",
];

// ---------------------------------------------------------------------------------------------
// Helpers

/// Everything the tests' servers log, to scan for secrets.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || LogSink(Arc::clone(&sink)))
            .try_init();
        logs
    }))
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn demo_app() -> TestApp {
    captured_logs();
    TestApp::start(Settings {
        demo: true,
        ..Settings::default()
    })
    .await
}

/// A request without credentials, from a non-browser client.
fn anonymous(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "plb.test")
        .body(Body::empty())
        .unwrap()
}

/// A concrete path for a route pattern: `{param}` and `{*rest}` segments become `x1`.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') || segment.starts_with(':') || segment.starts_with('*') {
                "pve1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Logs in with the form (JSON answer); the session cookie's value.
async fn login(app: &TestApp, fields: &str) -> Result<String, (StatusCode, HeaderMap, String)> {
    let request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(fields.to_owned()))
        .unwrap();
    let (status, headers, body) = app.send(request).await;
    if status != StatusCode::OK {
        return Err((status, headers, body));
    }
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("plbw_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a session cookie");
    Ok(cookie)
}

fn with_cookie(method: Method, uri: &str, cookie: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, format!("plbw_session={cookie}"))
}

fn with_token(method: Method, uri: &str, token: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
}

// ---------------------------------------------------------------------------------------------
// The route table walk

#[tokio::test]
async fn every_route_needs_a_session_or_a_token_except_the_allow_list() {
    let app = TestApp::plain().await;
    let table: RouteTable = router::route_table();
    assert!(table.pages.len() >= 8, "{:?}", table.pages);
    assert!(table.server_fns.len() >= 8, "{:?}", table.server_fns);
    assert!(table.rest.len() >= 8, "{:?}", table.rest);
    assert_eq!(
        table.sockets,
        vec![plb_domain::live::PATH.to_owned(), "/ws/logs".to_owned()]
    );

    for page in &table.pages {
        let path = concrete(page);
        let (status, headers, _) = send(&app.router, anonymous(Method::GET, &path)).await;
        if page == "/login" {
            assert_eq!(status, StatusCode::OK, "the login page is public");
            continue;
        }
        assert_eq!(status, StatusCode::SEE_OTHER, "page {path}");
        let location = headers[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with("/login"), "page {path} → {location}");
        if path != "/" {
            assert!(location.contains("next=/"), "{location}");
        }
    }
    let public_fns = ["/sfn/current_user", "/sfn/login_info"];
    for (method, path) in &table.server_fns {
        let (status, _, body) = send(&app.router, anonymous(method.clone(), path)).await;
        if public_fns.contains(&path.as_str()) {
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            continue;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert!(body.contains("\"kind\":\"unauthorized\""), "{path}: {body}");
    }
    for path in &table.rest {
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let (status, headers, body) =
                send(&app.router, anonymous(method.clone(), &concrete(path))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        }
    }
    for path in &table.sockets {
        let upgrade = Request::get(path.as_str())
            .header(header::HOST, "plb.test")
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .body(Body::empty())
            .unwrap();
        let (status, _, _) = send(&app.router, upgrade).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    for (method, path) in &table.forms {
        let (status, _, _) = send(&app.router, anonymous(method.clone(), path)).await;
        assert_ne!(
            status,
            StatusCode::OK,
            "{method} {path} must not succeed signed out"
        );
    }
    // Unknown paths too: a signed-out visitor learns nothing about which exist.
    let (status, _, _) = send(&app.router, anonymous(Method::GET, "/no/such/page")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = send(&app.router, anonymous(Method::GET, "/api/no-such")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The allow-list, signed out.
    for path in ["/healthz", "/login", "/favicon.svg", "/robots.txt"] {
        let (status, _, _) = send(&app.router, anonymous(Method::GET, path)).await;
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_ne!(status, StatusCode::SEE_OTHER, "{path}");
    }

    // With the token, every REST read and page gets through the gate.
    for path in &table.rest {
        let (status, _, body) = app.get(&concrete(path)).await;
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
}

#[test]
fn the_public_files_are_exactly_the_public_folder() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    let mut files: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| format!("/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    let mut listed: Vec<String> = proxlb_web::server::auth::paths::PUBLIC_PATHS
        .iter()
        .filter(|p| p.contains('.'))
        .map(|p| (*p).to_owned())
        .collect();
    listed.sort();
    assert_eq!(files, listed);
}

// ---------------------------------------------------------------------------------------------
// Browsers: origin and host checks

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_session() {
    let app = demo_app().await;
    let cookie = login(
        &app,
        &format!("username=root&realm=pam&password={ROOT_PASSWORD}"),
    )
    .await
    .unwrap();
    for path in ["/auth/logout-everywhere", "/sfn/set_theme", "/api/tokens"] {
        let request = with_cookie(Method::POST, path, &cookie)
            .header(header::HOST, "plb.test")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = app.send(request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    // A cross-site login (login CSRF) is refused too.
    let request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("demo=1"))
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::FORBIDDEN);
    // The session still works: nothing above reached a handler.
    let request = with_cookie(Method::GET, "/api/me", &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_foreign_host_is_refused_when_hosts_are_listed() {
    let mut settings = Settings::default();
    settings.access.allowed_hosts = vec!["plb.example".parse().unwrap()];
    let app = TestApp::start(settings).await;
    for path in ["/", "/healthz", "/api/nodes", "/login"] {
        let request = app
            .request(Method::GET, path)
            .header(header::HOST, "evil.example")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = app.send(request).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{path}");
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    }
    let request = app
        .request(Method::GET, "/api/nodes")
        .header(header::HOST, "PLB.example:8080")
        .body(Body::empty())
        .unwrap();
    assert_ne!(app.send(request).await.0, StatusCode::MISDIRECTED_REQUEST);
}

/// The front door's steps run in their documented order (`src/server/front_door.rs`): each
/// request below fails two checks, and the answer is the outer one's. Every refusal carries the
/// security headers, which wrap them all.
#[tokio::test]
async fn the_request_checks_run_in_their_order() {
    let mut settings = Settings::default();
    settings.access.allowed_hosts = vec!["plb.example".parse().unwrap()];
    let app = TestApp::start(settings).await;
    let signed_out_post = |host: &str| {
        Request::post("/api/tokens")
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
    };
    // The Host before the origin: a foreign host's cross-site write is misdirected.
    let request = signed_out_post("evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let misdirected = app.send(request).await;
    // The origin before sign-in: a signed-out cross-site write learns nothing of the session.
    let request = signed_out_post("plb.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let cross_site = app.send(request).await;
    // Sign-in before the body limit: an anonymous upload is refused before its size matters.
    let request = signed_out_post("plb.example")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_LENGTH, 2 * 1024 * 1024)
        .body(Body::from("x"))
        .unwrap();
    let anonymous = app.send(request).await;
    // Signed in, the same upload meets the body limit.
    let request = app
        .request(Method::POST, "/api/tokens")
        .header(header::HOST, "plb.example")
        .header(header::CONTENT_LENGTH, 2 * 1024 * 1024)
        .body(Body::from("x"))
        .unwrap();
    let too_large = app.send(request).await;
    let answers = [
        (misdirected, StatusCode::MISDIRECTED_REQUEST),
        (cross_site, StatusCode::FORBIDDEN),
        (anonymous, StatusCode::UNAUTHORIZED),
        (too_large, StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for ((status, headers, body), expected) in answers {
        assert_eq!(status, expected, "{body}");
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{headers:?}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

// ---------------------------------------------------------------------------------------------
// Logins

#[tokio::test]
async fn brute_force_is_rate_limited_then_locked_without_reaching_proxmox() {
    let app = demo_app().await;
    let sim = &app.demo.as_ref().unwrap().simulator;
    let tickets = || {
        sim.request_counts()
            .get("POST /access/ticket")
            .copied()
            .unwrap_or(0)
    };
    let before = tickets();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _, _) = login(&app, "username=root&realm=pam&password=guess")
            .await
            .unwrap_err();
        statuses.push(status);
    }
    assert_eq!(statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    let after_limit = tickets();
    assert_eq!(after_limit - before, 5);

    // Locked: even the right password is refused, and Proxmox hears nothing of it.
    for password in ["guess", ROOT_PASSWORD] {
        let (status, headers, body) = login(
            &app,
            &format!("username=root&realm=pam&password={password}"),
        )
        .await
        .unwrap_err();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(headers.contains_key(header::RETRY_AFTER));
        assert!(body.contains("Too many failed logins"), "{body}");
    }
    assert_eq!(
        tickets(),
        after_limit,
        "no login after the limit reached Proxmox"
    );

    // Without JavaScript the form lands on the login page with the reason.
    let request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=root&realm=pam&password=x&next=/nodes"))
        .unwrap();
    let (status, headers, _) = app.send(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // … and how long to wait, so the page can say when to try again.
    let location = headers[header::LOCATION].to_str().unwrap();
    let retry_after: u64 = location
        .strip_prefix("/login?error=rate_limited&retry_after=")
        .and_then(|rest| rest.strip_suffix("&next=/nodes"))
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {location}"));
    assert!(retry_after > 0, "{location}");
}

#[tokio::test]
async fn a_form_login_redirects_back_and_logout_ends_the_session() {
    let app = demo_app().await;
    let request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=root&realm=pam&password={ROOT_PASSWORD}&next=/nodes"
        )))
        .unwrap();
    let (status, headers, _) = app.send(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/nodes");
    let set_cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let cookie = set_cookie
        .strip_prefix("plbw_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let (status, _, body) = app
        .send(
            with_cookie(Method::GET, "/api/me", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"user_id\":\"root@pam\""), "{body}");
    assert!(body.contains("\"role\":\"operator\""), "{body}");

    // An open redirect is not possible.
    let request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=root&realm=pam&password={ROOT_PASSWORD}&next=//evil.example/x"
        )))
        .unwrap();
    assert_eq!(app.send(request).await.1[header::LOCATION], "/");

    let (status, headers, _) = app
        .send(
            with_cookie(Method::POST, "/auth/logout", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login");
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (status, _, _) = app
        .send(
            with_cookie(Method::GET, "/api/me", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_demo_logs_in_with_one_click_and_nowhere_else() {
    let app = demo_app().await;
    let cookie = login(&app, "demo=1").await.unwrap();
    let (_, _, body) = app
        .send(
            with_cookie(Method::GET, "/api/me", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(body.contains("\"user_id\":\"root@pam\""), "{body}");
    let (_, _, info) = app
        .send(
            Request::post("/sfn/login_info")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(info.contains("root@pam"), "{info}");

    let plain = TestApp::plain().await;
    let (status, _, _) = login(&plain, "demo=1").await.unwrap_err();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, _, info) = plain
        .send(
            Request::post("/sfn/login_info")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(info.contains("\"demo_user\":null"), "{info}");
}

// ---------------------------------------------------------------------------------------------
// Roles and tokens

#[tokio::test]
async fn a_proxmox_user_with_only_sys_audit_can_view_but_not_change_anything() {
    let app = demo_app().await;
    let cookie = login(
        &app,
        &format!("username=auditor&realm=pve&password={AUDITOR_PASSWORD}"),
    )
    .await
    .unwrap();
    let get = |path: &str| {
        with_cookie(Method::GET, path, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = app.send(get("/api/me")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"role\":\"viewer\""), "{body}");
    for path in ["/api/nodes", "/api/tokens", "/api/audit", "/"] {
        let (status, _, body) = app.send(get(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // Writes: REST and server functions.
    let create = with_cookie(Method::POST, "/api/tokens", &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"mine","scope":"read"}"#))
        .unwrap();
    let (status, _, body) = app.send(create).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("Sys.Modify"), "{body}");
    let revoke = with_cookie(Method::DELETE, "/api/tokens/1", &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(revoke).await.0, StatusCode::FORBIDDEN);
    let sfn = with_cookie(Method::POST, "/sfn/create_token", &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=mine&scope=read"))
        .unwrap();
    let (status, _, body) = app.send(sfn).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn a_read_only_token_cannot_write_and_a_revoked_token_stops_at_once() {
    let app = TestApp::plain().await;
    let read = token(&app.state, "grafana", TokenScope::Read).await;
    let (status, _, body) = app
        .send(
            with_token(Method::GET, "/api/me", &read)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"via_token\":true"), "{body}");
    let create = with_token(Method::POST, "/api/tokens", &read)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"more","scope":"read"}"#))
        .unwrap();
    let (status, _, body) = app.send(create).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("read-only"), "{body}");

    // Revoke it with the operate token: the very next request fails.
    let (_, _, list) = app.get("/api/tokens").await;
    let tokens: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "grafana")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let revoke = app
        .request(Method::DELETE, &format!("/api/tokens/{id}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(revoke).await.0, StatusCode::NO_CONTENT);
    let (status, _, body) = app
        .send(
            with_token(Method::GET, "/api/me", &read)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(!list.contains(&read), "a listing never holds a secret");
}

#[tokio::test]
async fn tokens_are_created_from_a_session_and_shown_once() {
    let app = demo_app().await;
    let cookie = login(&app, "demo=1").await.unwrap();
    let create = with_cookie(Method::POST, "/api/tokens", &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"name":"terraform","scope":"operate","expires_in_days":30}"#,
        ))
        .unwrap();
    let (status, _, body) = app.send(create).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("plbw_"));
    let (status, _, _) = app
        .send(
            with_token(Method::GET, "/api/nodes", &secret)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A token cannot mint tokens, even an operate one.
    let again = with_token(Method::POST, "/api/tokens", &secret)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"x","scope":"read"}"#))
        .unwrap();
    assert_eq!(app.send(again).await.0, StatusCode::FORBIDDEN);
    // The audit log has it, by who and from where, without the secret.
    let (_, _, audit) = app.get("/api/audit?action=token_created").await;
    assert!(audit.contains("\"actor\":\"root@pam\""), "{audit}");
    assert!(audit.contains("\"target\":\"terraform\""), "{audit}");
    assert!(!audit.contains(&secret));
    let (status, _, body) = app.get("/api/audit?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

// ---------------------------------------------------------------------------------------------
// Files, headers, secrets

#[tokio::test]
async fn the_secret_and_password_files_are_private() {
    let app = TestApp::plain().await;
    let data = app.data.path().join("data");
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
    let dir_mode = std::fs::metadata(&data).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}

#[tokio::test]
async fn pages_carry_a_csp_whose_nonce_is_on_the_scripts_and_rest_answers_are_private() {
    let app = TestApp::plain().await;
    let (status, headers, html) = send(&app.router, anonymous(Method::GET, "/login")).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(nonce.len() >= 16, "{csp}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    for directive in [
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "'wasm-unsafe-eval'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive}: {csp}");
    }
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    // Every page gets its own nonce.
    let (_, again, _) = send(&app.router, anonymous(Method::GET, "/login")).await;
    assert_ne!(again[header::CONTENT_SECURITY_POLICY], csp);
    // Every script of a signed-in page (hydration, resolved resources) carries the nonce of
    // its response, and no inline event handler needs 'unsafe-inline'.
    for path in ["/", "/nodes", "/account", "/audit"] {
        let (status, headers, html) = app
            .send(app.browser(Method::GET, path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        let scripts = html.matches("<script").count();
        let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(scripts > 0, "{path}");
        assert!(
            with_nonce >= scripts,
            "{path}: {scripts} scripts, {with_nonce} nonces"
        );
        for handler in [" onclick=", " onload=", " onerror=", " onsubmit="] {
            assert!(!html.contains(handler), "{path}: inline handler {handler}");
        }
    }

    let (_, headers, _) = app.get("/api/nodes").await;
    assert_eq!(headers[header::CACHE_CONTROL], "private");
    let vary: Vec<_> = headers
        .get_all(header::VARY)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("Cookie, Authorization")),
        "{vary:?}"
    );
}

#[tokio::test]
async fn no_secret_reaches_any_answer_or_log_line() {
    let logs = captured_logs();
    let app = demo_app().await;
    let admin_password =
        std::fs::read_to_string(app.data.path().join("data/initial-admin-password"))
            .unwrap()
            .trim()
            .to_owned();
    let cookie = login(
        &app,
        &format!("username=root&realm=pam&password={ROOT_PASSWORD}"),
    )
    .await
    .unwrap();
    let read = token(&app.state, "scan", TokenScope::Read).await;
    let table = router::route_table();

    let mut bodies = Vec::new();
    let mut paths: Vec<String> = table.pages.iter().map(|p| concrete(p)).collect();
    paths.extend(table.rest.iter().map(|p| concrete(p)));
    for path in &paths {
        for request in [
            with_cookie(Method::GET, path, &cookie)
                .body(Body::empty())
                .unwrap(),
            with_token(Method::GET, path, &read)
                .body(Body::empty())
                .unwrap(),
        ] {
            let (_, headers, body) = app.send(request).await;
            bodies.push(format!("{path} {headers:?} {body}"));
        }
    }
    for (method, path) in &table.server_fns {
        let request = with_cookie(method.clone(), path, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap();
        let (_, headers, body) = app.send(request).await;
        bodies.push(format!("{path} {headers:?} {body}"));
    }
    let secrets: Vec<&str> = [
        ROOT_PASSWORD,
        AUDITOR_PASSWORD,
        admin_password.as_str(),
        cookie.as_str(),
        read.as_str(),
        app.token.as_str(),
    ]
    .into_iter()
    .chain(DEMO_TOKEN_SECRETS)
    .collect();
    for body in &bodies {
        for secret in &secrets {
            assert!(!body.contains(secret), "a secret in an answer: {body}");
        }
    }
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logs.contains("initial-admin-password"),
        "the log names the file"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret), "a secret in the log");
    }
}

// ---------------------------------------------------------------------------------------------
// Direct TLS

#[tokio::test]
async fn direct_tls_serves_https_with_a_secure_cookie_and_the_peer_address() {
    use plb_backend::settings::access::TlsFiles;
    use proxlb_web::server::serve::{self, Limits};

    plb_backend::tls::install_crypto_provider();
    let certs = tempfile::tempdir().unwrap();
    let (_, cert) = plb_pve_sim::tls::setup(certs.path(), "plb").unwrap();
    let files = TlsFiles {
        cert: cert.cert_path.clone(),
        key: cert.key_path.clone(),
    };
    let mut settings = Settings::default();
    settings.access.tls = Some(files.clone());
    let app = TestApp::start(settings).await;
    let acceptor = proxlb_web::server::tls::acceptor(&files).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = app.state.shutdown.clone();
    let server = tokio::spawn(serve::serve_with(
        listener,
        app.router.clone(),
        shutdown.clone(),
        Limits::default(),
        Some(acceptor),
    ));

    let mut roots = rustls::RootCertStore::empty();
    let der = rustls::pki_types::CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap();
    roots.add(der).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let password =
        std::fs::read_to_string(app.data.path().join("data/initial-admin-password")).unwrap();
    let login = client
        .post(format!("{base}/auth/login"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=admin&realm=local&password={}",
            password.trim()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    assert!(login.text().await.unwrap().contains("admin@proxlb-web"));

    // The audit log names the TCP peer (no proxy is trusted, so no forwarded header counts).
    let audit = client
        .get(format!("{base}/api/audit?action=login_succeeded"))
        .header("authorization", app.bearer())
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(audit.contains("\"source_ip\":\"127.0.0.1\""), "{audit}");
    shutdown.cancel();
    server.await.unwrap();
}
