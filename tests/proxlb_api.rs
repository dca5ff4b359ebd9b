//! Integration tests of ProxLB's service and log endpoints: `GET /api/status`,
//! `POST /api/service/*`, `GET /api/logs`, `GET /api/logs/raw`, `WS /ws/logs`, and the live
//! topics `service` and `logs`. The app is built by the composition root with the backend's fake
//! ProxLB (`plb_backend::testing::{FakeServiceManager, FakeLogSource}`); the WebSocket tests
//! serve it on a loopback port.
#![cfg(feature = "ssr")]
// A failed unwrap in a test helper is a test failure with a backtrace, which is what we want.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use futures::{SinkExt, StreamExt};
use plb_backend::compose::{self, Ports};
use plb_backend::ports::ServiceError;
use plb_backend::testing::{fake_proxlb, FakeLogSource, FakeServiceManager};
use plb_backend::{AppState, Settings};
use plb_domain::auth::TokenScope;
use plb_domain::service::{BackendKind, ProblemKind, ServiceAction};
use proxlb_web::server::router;
use proxlb_web::server::serve::{self, Limits};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Bound for anything that must happen "soon"; generous for a loaded host.
const PATIENCE: Duration = Duration::from_secs(20);

/// A transport time in the past, so the last line of a burst counts as finished at once.
const T0: i64 = 1_795_365_000_000;

/// The app on a fake ProxLB, with an operator's token, a viewer's token and a session.
struct App {
    router: Router,
    state: AppState,
    manager: Arc<FakeServiceManager>,
    source: Arc<FakeLogSource>,
    operator: String,
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
        let operator = support::token(&state, "ops", TokenScope::Operate).await;
        let viewer = support::token(&state, "look", TokenScope::Read).await;
        let cookie = support::session(&state).await;
        Self {
            router: router::build(state.clone()),
            state,
            manager,
            source,
            operator,
            viewer,
            cookie,
            _data: data,
        }
    }

    async fn call(&self, method: Method, uri: &str, token: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = support::send(&self.router, request).await;
        (status, body)
    }

    async fn json(&self, uri: &str) -> Value {
        let (status, body) = self.call(Method::GET, uri, &self.viewer).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// `GET /api/status` once the poller has asked the backend (state not `unknown`).
    async fn settled_status(&self) -> Value {
        self.status_where(|status| status["service"]["state"] != "unknown")
            .await
    }

    /// `GET /api/status` once it satisfies `done` (the poller asks every 2 s).
    async fn status_where(&self, done: impl Fn(&Value) -> bool) -> Value {
        tokio::time::timeout(PATIENCE, async {
            loop {
                let status = self.json("/api/status").await;
                if done(&status) {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the status never got there")
    }

    /// Pushes ProxLB lines `from..=to` (every third a WARNING) and waits until the log has them.
    async fn lines(&self, from: u64, to: u64) {
        for n in from..=to {
            self.source.push(T0 + n as i64, &line(n));
        }
        let mut newest = 0;
        tokio::time::timeout(PATIENCE, async {
            while newest < to {
                tokio::time::sleep(Duration::from_millis(10)).await;
                newest = self.state.proxlb.logs.newest_seq();
            }
        })
        .await
        .expect("the lines did not reach the log");
    }

    async fn audit(&self) -> Vec<Value> {
        let page = self.json("/api/audit?action=service_action").await;
        page["records"].as_array().cloned().unwrap_or_default()
    }
}

/// ProxLB line `n`: every third one a WARNING, the others INFO.
fn line(n: u64) -> String {
    let level = if n.is_multiple_of(3) {
        "WARNING"
    } else {
        "INFO"
    };
    format!("2026-11-22 17:49:17,282 - ProxLB - {level} - line {n}")
}

/// The number of a log entry's line (`"line 7"` → 7).
fn number(entry: &Value) -> u64 {
    let message = entry["message"].as_str().unwrap_or_default();
    message.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_status_names_the_state_the_run_and_the_backend() {
    let app = App::start().await;
    let status = app.settled_status().await;
    assert_eq!(status["service"]["state"], "stopped", "{status}");
    assert_eq!(status["service"]["version"], "2.3.0");
    assert_eq!(status["backend"]["kind"], "process");
    assert_eq!(status["backend"]["label"], "Local process");
    assert!(status.get("run").is_some(), "{status}");
    assert_eq!(status["newest_log_seq"], 0);
}

#[tokio::test]
async fn a_broken_backend_turns_only_the_service_red() {
    let app = App::start().await;
    app.manager.fail_status(ServiceError::problem(
        ProblemKind::SocketMissing,
        "/var/run/docker.sock does not exist",
        "Mount the Docker socket into the container",
    ));
    let status = app
        .status_where(|status| !status["service"]["problem"].is_null())
        .await;
    assert_eq!(status["service"]["state"], "unknown", "{status}");
    assert_eq!(status["service"]["problem"]["kind"], "socket_missing");
    assert_eq!(
        status["service"]["problem"]["message"],
        "/var/run/docker.sock does not exist"
    );
    // Everything else answers as before.
    assert_eq!(
        app.call(Method::GET, "/api/me", &app.viewer).await.0,
        StatusCode::OK
    );
    app.lines(1, 2).await;
    assert_eq!(
        app.json("/api/logs").await["entries"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn an_operator_starts_and_stops_proxlb_and_each_action_is_audited() {
    let app = App::start().await;
    let (status, body) = app
        .call(Method::POST, "/api/service/start", &app.operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(started["state"], "running", "{body}");
    let (status, body) = app
        .call(Method::POST, "/api/service/stop", &app.operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["state"],
        "stopped"
    );
    assert_eq!(
        app.manager.actions(),
        vec![ServiceAction::Start, ServiceAction::Stop]
    );
    let audit = app.audit().await;
    let entries: Vec<(String, bool, String)> = audit
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap_or_default().to_owned(),
                r["ok"].as_bool().unwrap_or_default(),
                r["actor"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("stop".to_owned(), true, "token:ops".to_owned()),
            ("start".to_owned(), true, "token:ops".to_owned()),
        ],
        "{audit:?}"
    );
    // The published status follows the action at once.
    assert_eq!(app.json("/api/status").await["service"]["state"], "stopped");
}

#[tokio::test]
async fn a_viewer_may_look_but_not_act() {
    let app = App::start().await;
    app.settled_status().await;
    for action in ["start", "stop", "restart", "reload"] {
        let (status, body) = app
            .call(Method::POST, &format!("/api/service/{action}"), &app.viewer)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{action}: {body}");
    }
    assert!(app.manager.actions().is_empty());
    // A signed-in browser on another site cannot act either.
    let request = Request::post("/api/service/start")
        .header(header::COOKIE, format!("plbw_session={}", app.cookie))
        .header(header::HOST, "plb.test")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        support::send(&app.router, request).await.0,
        StatusCode::FORBIDDEN
    );
    assert!(app.manager.actions().is_empty());
    assert!(app.audit().await.is_empty());
}

#[tokio::test]
async fn a_failed_action_says_why_and_is_audited_as_failed() {
    let app = App::start().await;
    app.manager.fail_actions(ServiceError::problem(
        ProblemKind::InterpreterMissing,
        "/opt/venv/bin/python does not exist",
        "Set PROXLB_PYTHON",
    ));
    let (status, body) = app
        .call(Method::POST, "/api/service/start", &app.operator)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains("/opt/venv/bin/python does not exist"),
        "{body}"
    );
    let (status, body) = app
        .call(Method::POST, "/api/service/reload", &app.operator)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let audit = app.audit().await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|r| r["ok"] == false), "{audit:?}");
    assert_eq!(audit[1]["error"], "/opt/venv/bin/python does not exist");
}

#[tokio::test]
async fn only_one_action_runs_at_a_time() {
    let app = App::start().await;
    app.manager.hold_actions();
    let router = app.router.clone();
    let token = app.operator.clone();
    let first = tokio::spawn(async move {
        let request = Request::post("/api/service/restart")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        support::send(&router, request).await
    });
    tokio::time::timeout(PATIENCE, async {
        while app.manager.waiting() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the first action never started");
    let (status, body) = app
        .call(Method::POST, "/api/service/stop", &app.operator)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("another action is running"), "{body}");
    app.manager.release();
    let (status, _, body) = tokio::time::timeout(PATIENCE, first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.manager.actions(), vec![ServiceAction::Restart]);
}

/// A restart is a run at once in the answer's wake, even when no status poll sees ProxLB pass
/// through another state (the fake's restart is instant, and it reports no start time): a
/// second "run now" must see the run in progress, not the sleep before the restart. A reload
/// is not a run.
#[tokio::test]
async fn a_restart_shows_as_a_run_as_soon_as_it_is_answered() {
    let app = App::start().await;
    app.settled_status().await;
    let (status, body) = app
        .call(Method::POST, "/api/service/start", &app.operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The run ends: ProxLB sleeps for an hour (the line is a second old, so the restart below
    // is certainly later than the sleep's start).
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    app.source.push(
        now_ms - 1_000,
        "2026-11-22 17:49:17,282 - ProxLB - INFO - Daemon mode active: Next run in: 1 hours.",
    );
    app.status_where(|status| status["run"]["state"] == "sleeping")
        .await;

    // A reload (SIGHUP) starts no run: ProxLB reads its file after the sleep.
    let (status, body) = app
        .call(Method::POST, "/api/service/reload", &app.operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.json("/api/status").await["run"]["state"], "sleeping");

    let (status, body) = app
        .call(Method::POST, "/api/service/restart", &app.operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.json("/api/status").await["run"]["state"],
        "running",
        "the restart was not taken as a run"
    );
}

#[tokio::test]
async fn log_pages_filter_and_cover_the_log_without_gap_or_duplicate() {
    let app = App::start().await;
    app.lines(1, 50).await;
    let expected: Vec<u64> = (1..=16).map(|n| n * 3).collect();

    let mut seen: Vec<u64> = Vec::new();
    let mut uri = "/api/logs?level=warning&limit=5".to_owned();
    loop {
        let page = app.json(&uri).await;
        assert_eq!(page["newest_seq"], 50);
        let entries = page["entries"].as_array().unwrap();
        let mut numbers: Vec<u64> = entries.iter().map(number).collect();
        numbers.extend(seen);
        seen = numbers;
        if page["has_more"] != true {
            break;
        }
        uri = format!(
            "/api/logs?level=warning&limit=5&before={}",
            entries[0]["seq"]
        );
    }
    assert_eq!(seen, expected);

    let page = app.json("/api/logs?level=WARNING&after=30&limit=100").await;
    let numbers: Vec<u64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    assert_eq!(numbers, vec![33, 36, 39, 42, 45, 48]);

    let page = app.json("/api/logs?search=LINE%2042").await;
    assert_eq!(page["entries"][0]["raw"], line(42));
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(1));

    let page = app.json(&format!("/api/logs?since={}", T0 + 45)).await;
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(6));

    let (status, body) = app
        .call(Method::GET, "/api/logs?level=loud", &app.viewer)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let request = Request::get("/api/logs/raw?level=warning&limit=2")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.viewer))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = support::send(&app.router, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(body, format!("{}\n{}\n", line(45), line(48)));
}

/// The app served on a loopback port.
struct Served {
    app: App,
    address: SocketAddr,
}

impl Served {
    async fn start() -> Self {
        let app = App::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve::serve(
            listener,
            router::build(app.state.clone()),
            app.state.shutdown.clone(),
            Limits::default(),
        ));
        Self { app, address }
    }

    async fn socket(&self, path: &str, auth: (&'static str, String)) -> Socket {
        let mut request = format!("ws://{}{path}", self.address)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert(auth.0, HeaderValue::from_str(&auth.1).unwrap());
        let (socket, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
            .await
            .unwrap()
            .unwrap();
        socket
    }

    /// A signed-in browser's live channel, past its hello.
    async fn live(&self) -> Socket {
        let cookie = format!("plbw_session={}", self.app.cookie);
        let mut socket = self.socket("/ws/live", ("cookie", cookie)).await;
        assert_eq!(next_json(&mut socket).await["type"], "hello");
        socket
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.app.state.shutdown.cancel();
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The next JSON text frame (pings and heartbeats skipped).
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("no message in time")
            .expect("socket ended")
            .expect("socket error");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).unwrap();
            if value["type"] != "heartbeat" {
                return value;
            }
        }
    }
}

async fn subscribe(socket: &mut Socket, topic: &str, cursor: Option<&str>) {
    let message = json!({"op": "subscribe", "topics": [{"topic": topic, "cursor": cursor}]});
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
    let reply = next_json(socket).await;
    assert_eq!(reply["type"], "subscribed", "{reply}");
}

/// The next `count` events of topic `logs`: (cursor, line number).
async fn log_events(socket: &mut Socket, count: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    while out.len() < count {
        let message = next_json(socket).await;
        assert_eq!(message["type"], "event", "{message}");
        assert_eq!(message["topic"], "logs", "{message}");
        assert_eq!(message["event"]["kind"], "entry", "{message}");
        out.push((
            message["cursor"].as_str().unwrap().to_owned(),
            number(&message["event"]),
        ));
    }
    out
}

#[tokio::test]
async fn ws_logs_streams_entries_to_scripts() {
    let served = Served::start().await;
    served.app.lines(1, 6).await;
    let bearer = format!("Bearer {}", served.app.viewer);
    let mut socket = served
        .socket("/ws/logs?after=2&level=warning", ("authorization", bearer))
        .await;
    let first = next_json(&mut socket).await;
    assert_eq!(first["kind"], "entry", "{first}");
    assert_eq!(number(&first), 3);
    assert_eq!(number(&next_json(&mut socket).await), 6);
    // New lines follow, filtered the same way.
    served.app.lines(7, 9).await;
    let next = next_json(&mut socket).await;
    assert_eq!((next["seq"].as_u64(), number(&next)), (Some(9), 9));

    // Signed out, the stream is refused before the upgrade.
    let request = format!("ws://{}/ws/logs", served.address)
        .into_client_request()
        .unwrap();
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn the_logs_topic_resumes_from_a_cursor_without_gap_or_duplicate() {
    let served = Served::start().await;
    served.app.lines(1, 5).await;
    // History first, then the live stream right after it.
    let page = served.app.json("/api/logs").await;
    let cursor = page["live_cursor"].as_str().unwrap().to_owned();
    let mut socket = served.live().await;
    subscribe(&mut socket, "logs", Some(&cursor)).await;
    served.app.lines(6, 10).await;
    let got = log_events(&mut socket, 5).await;
    assert_eq!(
        got.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        vec![6, 7, 8, 9, 10]
    );
    // The client goes away after taking line 8; lines arrive while it is gone.
    let resume = got[2].0.clone();
    drop(socket);
    served.app.lines(11, 15).await;
    let mut socket = served.live().await;
    subscribe(&mut socket, "logs", Some(&resume)).await;
    let again = log_events(&mut socket, 7).await;
    assert_eq!(
        again.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        (9..=15).collect::<Vec<u64>>()
    );

    // A cursor of another server process is refused; the client starts afresh.
    let message = json!({"op": "subscribe", "topics": [{"topic": "logs", "cursor": "abc.3"}]});
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
    let reply = next_json(&mut socket).await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_cursor", "{reply}");
}

#[tokio::test]
async fn the_service_topic_follows_each_action() {
    let served = Served::start().await;
    served.app.settled_status().await;
    let mut socket = served.live().await;
    subscribe(&mut socket, "service", None).await;
    let current = next_json(&mut socket).await;
    assert_eq!(current["topic"], "service", "{current}");
    assert_eq!(current["event"]["state"], "stopped", "{current}");
    let (status, _) = served
        .app
        .call(Method::POST, "/api/service/start", &served.app.operator)
        .await;
    assert_eq!(status, StatusCode::OK);
    let started = next_json(&mut socket).await;
    assert_eq!(started["event"]["state"], "running", "{started}");
}

#[tokio::test]
async fn the_process_backend_runs_starts_stops_and_streams_a_real_child() {
    plb_backend::tls::install_crypto_provider();
    let (mut settings, data) = support::private_settings(Settings::default());
    let config = data.path().join("proxlb.yaml");
    std::fs::write(&config, "proxmox_api:\n  hosts: [127.0.0.1]\n").unwrap();
    support::fake_process_backend(&mut settings, data.path(), config);
    let state = compose::wire(settings).await.unwrap();
    let operator = support::token(&state, "ops", TokenScope::Operate).await;
    let router = router::build(state.clone());
    let call = |method: Method, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {operator}"))
            .body(Body::empty())
            .unwrap()
    };

    let (status, _, body) = support::send(&router, call(Method::POST, "/api/service/start")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(started["state"], "running", "{body}");
    assert!(started["pid"].as_u64().is_some(), "{body}");

    // Its lines reach the log, numbered from 1 and in order.
    let mut feed = state.proxlb.logs.subscribe(Some(0));
    let mut numbers = Vec::new();
    while numbers.len() < 5 {
        match tokio::time::timeout(PATIENCE, feed.next()).await.unwrap() {
            Some(plb_backend::services::proxlb::LogFeed::Entry(entry)) => {
                numbers.push(entry.message.clone());
            }
            other => panic!("expected an entry, got {other:?}"),
        }
    }
    assert_eq!(
        numbers,
        (1..=5).map(|n| format!("line {n}")).collect::<Vec<_>>()
    );

    let (status, _, body) = support::send(&router, call(Method::POST, "/api/service/stop")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stopped: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stopped["state"], "stopped", "{body}");
    assert_eq!(stopped["exit_code"], 0, "{body}");
    // The goodbye line arrives after the others.
    let goodbye = tokio::time::timeout(PATIENCE, async {
        loop {
            let page = state.proxlb.logs.query(&plb_domain::logs::LogQuery {
                search: Some("terminated by user".into()),
                ..Default::default()
            });
            if let Some(entry) = page.entries.first() {
                return entry.seq;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the last line never arrived");
    assert_eq!(goodbye, state.proxlb.logs.newest_seq());
    state.shutdown.cancel();
    state.proxlb.shutdown().await;
}
