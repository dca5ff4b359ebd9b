//! The ProxLB views as a browser without JavaScript gets them: the Service view (state, actions,
//! a backend problem, viewers), its plain form posts, the Logs view's filters and highlight and
//! the Migrations view, all server-rendered by the real router over the backend's fake ProxLB
//! (`plb_backend::testing::{FakeServiceManager, FakeLogSource}`).
#![cfg(feature = "ssr")]
// A failed unwrap in a test helper is a test failure with a backtrace, which is what we want.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use plb_backend::compose::{self, Ports};
use plb_backend::ports::ServiceError;
use plb_backend::testing::{fake_proxlb, FakeLogSource, FakeServiceManager};
use plb_backend::{AppState, Settings};
use plb_domain::auth::TokenScope;
use plb_domain::service::{BackendKind, ProblemKind, ServiceState};
use proxlb_web::server::router;

/// Bound for anything that must happen "soon"; generous for a loaded host.
const PATIENCE: Duration = Duration::from_secs(20);

/// A transport time in the past, so the last line of a burst counts as finished at once.
const T0: i64 = 1_795_365_000_000;

struct App {
    router: Router,
    state: AppState,
    manager: Arc<FakeServiceManager>,
    source: Arc<FakeLogSource>,
    viewer: String,
    cookie: String,
    _data: tempfile::TempDir,
}

impl App {
    async fn start() -> Self {
        plb_backend::tls::install_crypto_provider();
        let (settings, data) = support::private_settings(Settings::default());
        let manager = FakeServiceManager::new(BackendKind::Process);
        let source = FakeLogSource::new();
        let ports = Ports {
            proxlb: fake_proxlb(manager.clone(), source.clone()),
            ..Ports::production(&settings)
        };
        let state = compose::wire_with(settings, ports).await.unwrap();
        let viewer = support::token(&state, "look", TokenScope::Read).await;
        let cookie = support::session(&state).await;
        // The status poller asks the backend at once; wait for its first answer.
        state.proxlb.refresh().await;
        Self {
            router: router::build(state.clone()),
            state,
            manager,
            source,
            viewer,
            cookie,
            _data: data,
        }
    }

    /// A page as the signed-in operator's browser gets it.
    async fn page(&self, uri: &str) -> String {
        let request = Request::get(uri)
            .header(header::COOKIE, format!("plbw_session={}", self.cookie))
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = support::send(&self.router, request).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        // As a browser shows it: without Leptos' hydration markers, which type-erased views
        // (`erase_components`) put after text.
        body.replace("<!>", "")
    }

    /// A plain HTML form post (no JavaScript) from a page of this server.
    async fn form_post(&self, uri: &str, form: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, format!("plbw_session={}", self.cookie))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::REFERER, "http://localhost/service?confirm=start")
            .body(Body::from(form.to_owned()))
            .unwrap();
        let (status, headers, _) = support::send(&self.router, request).await;
        let location = headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location)
    }

    /// Pushes ProxLB lines and waits until the log has `count` entries.
    async fn lines(&self, texts: &[&str]) {
        for (n, text) in texts.iter().enumerate() {
            self.source.push(T0 + n as i64, text);
        }
        let want = texts.len() as u64;
        tokio::time::timeout(PATIENCE, async {
            while self.state.proxlb.logs.newest_seq() < want {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the lines did not reach the log");
    }
}

#[tokio::test]
async fn the_service_view_shows_the_state_and_offers_what_fits_it() {
    let app = App::start().await;
    let html = app.page("/service").await;
    assert!(html.contains(r#"data-state="stopped""#), "{html}");
    assert!(html.contains("ProxLB 2.3.0"), "{html}");
    assert!(html.contains("Local process"), "{html}");
    // Stopped: start and restart are links to their confirmation; stop and reload are not.
    assert!(html.contains(r#"href="/service?confirm=start""#), "{html}");
    assert!(
        html.contains(r#"href="/service?confirm=restart""#),
        "{html}"
    );
    assert!(!html.contains(r#"href="/service?confirm=stop""#), "{html}");
    assert!(
        html.contains("never reconnects to the Proxmox API"),
        "{html}"
    );
    assert!(!html.contains("plb-service--problem"), "{html}");
    // The confirmation step is a page of its own without JavaScript: an open dialog whose form
    // posts the action.
    let confirm = app.page("/service?confirm=start").await;
    assert!(confirm.contains("<dialog open"), "{confirm}");
    assert!(confirm.contains("Start ProxLB?"), "{confirm}");
    assert!(
        confirm.contains(r#"action="/sfn/service_action""#),
        "{confirm}"
    );
    assert!(
        confirm.contains(r#"name="action" value="start""#),
        "{confirm}"
    );
}

#[tokio::test]
async fn a_plain_form_post_starts_proxlb_and_comes_back_with_the_outcome() {
    let app = App::start().await;
    let (status, location) = app.form_post("/sfn/service_action", "action=start").await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location, "/service?done=start");
    assert_eq!(app.state.proxlb.status().state, ServiceState::Running);
    let html = app.page(&location).await;
    assert!(html.contains("ProxLB was started."), "{html}");
    assert!(html.contains(r#"data-state="running""#), "{html}");

    // A refused action comes back with its kind, not lost in the redirect.
    app.manager.fail_actions(ServiceError::Refused("no".into()));
    let (_, location) = app.form_post("/sfn/service_action", "action=stop").await;
    assert!(
        location.starts_with("/service?failed=stop&why="),
        "{location}"
    );
    let html = app.page(&location).await;
    assert!(html.contains("Stop failed."), "{html}");
}

#[tokio::test]
async fn a_broken_backend_turns_only_the_service_panel_red() {
    let app = App::start().await;
    app.manager.fail_status(ServiceError::problem(
        ProblemKind::SocketMissing,
        "/var/run/docker.sock does not exist",
        "Mount the Docker socket into the container",
    ));
    app.state.proxlb.refresh().await;
    let html = app.page("/service").await;
    assert!(html.contains("plb-service--problem"), "{html}");
    assert!(
        html.contains("/var/run/docker.sock does not exist"),
        "{html}"
    );
    assert!(
        html.contains("Mount the Docker socket into the container"),
        "{html}"
    );
    assert!(html.contains("cannot be used right now"), "{html}");
    // The Logs view says so as a note, not as an error.
    let logs = app.page("/logs").await;
    assert!(
        logs.contains("/var/run/docker.sock does not exist"),
        "{logs}"
    );
    assert!(logs.contains("plb-message--info plb-problem"), "{logs}");
    assert!(!logs.contains("plb-message--error"), "{logs}");
}

#[tokio::test]
async fn viewers_see_the_state_but_no_action() {
    let app = App::start().await;
    let request = Request::get("/service")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.viewer))
        .body(Body::empty())
        .unwrap();
    let (status, _, html) = support::send(&app.router, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Only operators can start, stop, restart or reload"),
        "{html}"
    );
    assert!(!html.contains("?confirm="), "{html}");
    assert_eq!(html.matches("disabled").count(), 4, "{html}");
}

#[tokio::test]
async fn the_logs_view_filters_and_marks_the_search_text() {
    let app = App::start().await;
    app.lines(&[
        "2026-11-22 17:49:17,282 - ProxLB - INFO - Balancing: Starting to migrate VM guest web02 from pve1 to pve2.",
        "2026-11-22 17:49:18,282 - ProxLB - WARNING - No guests for balancing found.",
        "2026-11-22 17:49:19,282 - ProxLB - INFO - Daemon mode active: Next run in: 1 minutes.",
    ])
    .await;
    let all = app.page("/logs").await;
    assert!(all.contains("3 lines"), "{all}");
    let html = app.page("/logs?q=WEB02").await;
    assert!(html.contains("1 line matching"), "{html}");
    assert!(
        html.contains(r#"<mark class="plb-log-line__match">web02</mark>"#),
        "{html}"
    );
    assert!(!html.contains("Next run in"), "{html}");
    assert!(
        html.contains(r#"href="/api/logs/raw?search=WEB02""#),
        "{html}"
    );
    let warnings = app.page("/logs?level=warning").await;
    assert!(
        warnings.contains("No guests for balancing found."),
        "{warnings}"
    );
    assert!(!warnings.contains("Starting to migrate"), "{warnings}");
}

#[tokio::test]
async fn the_migrations_view_renders_before_any_move_and_keeps_its_filters() {
    let app = App::start().await;
    let html = app.page("/migrations").await;
    assert!(html.contains("No migrations yet"), "{html}");
    let filtered = app.page("/migrations?outcome=failed&node=pve1").await;
    assert!(
        filtered.contains("No migrations match these filters."),
        "{filtered}"
    );
    assert!(filtered.contains(r#"value="pve1""#), "{filtered}");
}
