//! Shared by the server's integration tests: the real app on a private data folder, signed in.
//!
//! Every server needs a session or an API token for nearly every route, so each test app gets
//! an operate-scope API token and an operator's browser session, both made through the composed
//! state like any other. [`TestApp::request`] puts the token on a request,
//! [`TestApp::browser`] the session cookie (for what browsers do: same-origin checks, the live
//! channel). Tests about authentication itself build requests without either.
#![allow(clippy::unwrap_used, dead_code)]

use axum::body::Body;
use axum::http::{header, request, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use plb_backend::auth::Identity;
use plb_backend::{AppState, Settings};
use plb_domain::auth::{AuthSource, CreateToken, CurrentUser, Role, TokenScope};
use proxlb_web::server::{demo, router};
use tower::ServiceExt;

/// A server's state and router on its own data folder, with an API token.
pub struct TestApp {
    /// The router (cheap to clone; every request goes through all its layers).
    pub router: Router,
    /// The composed state.
    pub state: AppState,
    /// The simulator, in demo mode.
    pub demo: Option<demo::Demo>,
    /// An operate-scope API token (`Authorization: Bearer …`).
    pub token: String,
    /// An operator's session cookie value (`plbw_session`).
    pub cookie: String,
    /// The data folder (deleted when the app is dropped).
    pub data: tempfile::TempDir,
}

/// Settings on a fresh private data folder (returned with them; keep it alive).
pub fn private_settings(mut settings: Settings) -> (Settings, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    settings.data_dir = data.path().join("data");
    (settings, data)
}

/// The operator the test tokens are created by (as if signed in through the local account).
pub fn test_operator() -> Identity {
    Identity {
        user: CurrentUser {
            user_id: "admin@proxlb-web".into(),
            display_name: "admin@proxlb-web".into(),
            role: Role::Operator,
            source: AuthSource::Local,
            via_token: false,
        },
        token: None,
        source_ip: None,
    }
}

/// A new API token of `scope` on `state`'s store.
pub async fn token(state: &AppState, name: &str, scope: TokenScope) -> String {
    state
        .auth
        .create_token(
            &test_operator(),
            &CreateToken {
                name: name.into(),
                scope,
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .token
}

/// A session of [`test_operator`] on `state`: its cookie value.
pub async fn session(state: &AppState) -> String {
    let who = test_operator().user;
    state
        .auth
        .session_for(
            plb_backend::auth::Principal {
                user_id: who.user_id,
                display_name: who.display_name,
                source: who.source,
                role: who.role,
            },
            None,
        )
        .await
        .unwrap()
        .expose()
        .to_owned()
}

impl TestApp {
    /// The app for `settings` (demo mode included) on a private data folder.
    pub async fn start(settings: Settings) -> Self {
        Self::start_with(settings, router::build).await
    }

    /// [`TestApp::start`] with another router builder (e.g. a short live heartbeat).
    pub async fn start_with(settings: Settings, build: impl FnOnce(AppState) -> Router) -> Self {
        plb_backend::tls::install_crypto_provider();
        let (settings, data) = private_settings(settings);
        let (state, demo) = demo::wire(settings).await.unwrap();
        let token = token(&state, "tests", TokenScope::Operate).await;
        let cookie = session(&state).await;
        Self {
            router: build(state.clone()),
            state,
            demo,
            token,
            cookie,
            data,
        }
    }

    /// The app with the default settings (no cluster configured).
    pub async fn plain() -> Self {
        Self::start(Settings::default()).await
    }

    /// A request builder carrying the test token.
    pub fn request(&self, method: Method, uri: &str) -> request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    /// A request builder carrying the session cookie, like a signed-in browser's.
    pub fn browser(&self, method: Method, uri: &str) -> request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, self.cookie_header())
    }

    /// The `Cookie` header of the signed-in browser.
    pub fn cookie_header(&self) -> String {
        format!("plbw_session={}", self.cookie)
    }

    /// The `Authorization` header value of the test token.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// `GET uri` with the token: status, headers, body as text.
    pub async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, String) {
        self.send(self.request(Method::GET, uri).body(Body::empty()).unwrap())
            .await
    }

    /// Sends `request` through the router: status, headers, body as text.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        send(&self.router, request).await
    }
}

/// The 3-node demo app (full router) on a fresh simulator, polling only when asked
/// ([`next_view`]), after its first view.
pub async fn quiet_demo() -> TestApp {
    let app = TestApp::start(Settings {
        demo: true,
        demo_scenario: plb_backend::DemoScenario::ThreeNode,
        poll_interval: std::time::Duration::from_secs(600),
        ..Settings::default()
    })
    .await;
    app.state
        .cluster
        .view(std::time::Duration::from_secs(30))
        .await
        .unwrap();
    app
}

/// The version of the view `state` publishes now.
pub fn view_version(state: &AppState) -> u64 {
    state
        .cluster
        .subscribe()
        .borrow()
        .view()
        .unwrap()
        .overview
        .meta
        .version
}

/// Asks the poller for a cycle and waits until a newer view is published.
pub async fn next_view(state: &AppState) {
    let before = view_version(state);
    let mut feed = state.cluster.subscribe();
    state.cluster.request_refresh();
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while view_version(state) <= before {
            feed.changed().await.unwrap();
        }
    })
    .await
    .unwrap();
}

/// Sends `request` through `router`: status, headers, body as text.
pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// `router` with `token` on every request that carries no `Authorization` of its own: for tests
/// that drive an existing router as a script would (a Bearer token, so no origin check).
pub fn signed_in(router: Router, token: &str) -> Router {
    let value: axum::http::HeaderValue = format!("Bearer {token}").parse().unwrap();
    router.layer(tower::util::MapRequestLayer::new(
        move |mut request: Request<Body>| {
            if !request.headers().contains_key(header::AUTHORIZATION) {
                request
                    .headers_mut()
                    .insert(header::AUTHORIZATION, value.clone());
            }
            request
        },
    ))
}

/// A router for `state` that is signed in with a new operate token (see [`signed_in`]).
pub async fn signed_in_router(state: &AppState) -> Router {
    let token = token(state, "tests", TokenScope::Operate).await;
    signed_in(router::build(state.clone()), &token)
}

/// Stands in for `python3 -m proxlb`: `-v` prints the version; otherwise it writes a ProxLB line
/// every 20 ms until SIGINT, which it answers like ProxLB (a last line, exit 0). SIGHUP makes it
/// log "reload requested" (as ProxLB does on a reload) and go on. Python, like ProxLB, and not
/// sh: a shell started with SIGINT ignored (any `cmd &` of a non-interactive shell, as CI runs
/// may be) cannot trap it, while Python's `signal.signal` can.
const FAKE_INTERPRETER: &str = r#"#!/usr/bin/env python3
import signal, sys, time
if sys.argv[3:4] == ["-v"]:
    print("ProxLB version: 2.3.0")
    sys.exit(0)
def stop(*_):
    print("2026-11-22 17:49:18,000 - ProxLB - INFO - ProxLB terminated by user.", flush=True)
    sys.exit(0)
def reload(*_):
    print("2026-11-22 17:49:18,000 - ProxLB - INFO - reload requested", flush=True)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGHUP, reload)
n = 0
while True:
    n += 1
    print(f"2026-11-22 17:49:17,282 - ProxLB - INFO - line {n}", flush=True)
    time.sleep(0.02)
"#;

/// Writes the fake interpreter into `dir` and points `settings` at it and at `config`, with the
/// process backend: a real child process that the real backend starts, signals and stops.
pub fn fake_process_backend(
    settings: &mut Settings,
    dir: &std::path::Path,
    config: std::path::PathBuf,
) {
    let python = dir.join("fake-python");
    plb_backend::testing::write_executable(&python, FAKE_INTERPRETER);
    settings.proxlb_service =
        plb_backend::settings::ProxlbService::Only(plb_domain::service::BackendKind::Process);
    settings.proxlb_python = Some(python);
    settings.proxlb_config = config;
}

/// Sends a REST call as a script would: `Bearer token`, an optional JSON body. Returns the status
/// and the body as text (each test checks it for the secrets it planted, then parses it).
pub async fn call_api(
    router: &Router,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> (StatusCode, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (status, _, text) = send(router, request.body(body).unwrap()).await;
    (status, text)
}

/// A JSON answer as a value; a body that is not JSON becomes a string value.
pub fn json_or_text(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

/// The Python that has ProxLB 2.3.0: `PROXLB_PYTHON`, else `<workspace>/.venv/bin/python`
/// (scripts/setup.sh installs it there).
pub fn proxlb_python() -> std::path::PathBuf {
    let path = std::env::var_os("PROXLB_PYTHON").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
        std::path::PathBuf::from,
    );
    assert!(
        path.exists(),
        "ProxLB is not installed: {} does not exist. Run scripts/setup.sh (it installs ProxLB 2.3.0 \
         into <workspace>/.venv) or set PROXLB_PYTHON to a python that has proxlb installed.",
        path.display()
    );
    path
}

/// The real app on a private data folder with `text` as ProxLB's configuration file: its state,
/// router, an operate-scope and a read-scope API token and an operator's session cookie.
pub struct ConfigApp {
    /// The router.
    pub router: Router,
    /// The composed state.
    pub state: AppState,
    /// An operate-scope API token.
    pub operator: String,
    /// A read-scope API token.
    pub viewer: String,
    /// An operator's session cookie value (`plbw_session`).
    pub cookie: String,
    /// ProxLB's configuration file.
    pub path: std::path::PathBuf,
    /// The data folder (deleted when dropped).
    pub data: tempfile::TempDir,
}

impl ConfigApp {
    /// Writes `text` to `proxlb.yaml` in a fresh data folder and wires the app on it.
    /// `configure` may change the settings further: it gets them (already pointing at the
    /// file), the data folder and the file's path.
    pub async fn start(
        text: &str,
        configure: impl FnOnce(&mut Settings, &std::path::Path, std::path::PathBuf),
    ) -> Self {
        plb_backend::tls::install_crypto_provider();
        let (mut settings, data) = private_settings(Settings::default());
        let path = data.path().join("proxlb.yaml");
        std::fs::write(&path, text).unwrap();
        settings.proxlb_config = path.clone();
        configure(&mut settings, data.path(), path.clone());
        let state = plb_backend::compose::wire(settings).await.unwrap();
        let operator = token(&state, "ops", TokenScope::Operate).await;
        let viewer = token(&state, "look", TokenScope::Read).await;
        let cookie = session(&state).await;
        Self {
            router: router::build(state.clone()),
            state,
            operator,
            viewer,
            cookie,
            path,
            data,
        }
    }
}
