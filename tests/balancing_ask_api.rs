//! `GET|POST|DELETE /api/balancing/ask-proxlb` through the whole router: roles, refusals with
//! their reasons, and (with real ProxLB 2.3.0 against the simulator, through the process backend)
//! a candidate asked, polled until ProxLB answered, its plan next to the native one.
//!
//! ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python`; if it is missing the
//! real-ProxLB test FAILS.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use plb_backend::settings::ProxlbService;
use plb_backend::Settings;
use plb_domain::service::BackendKind;
use plb_pve_sim::{SimConfig, Simulator};
use serde_json::{json, Value};

const PATH: &str = "/api/balancing/ask-proxlb";
const ROOT_TOKEN_SECRET: &str = "5f1c3e9a-6a8b-4f0e-9d2c-7b4a1e3f8c21";

struct App {
    router: Router,
    operator: String,
    viewer: String,
    /// An operator's session cookie (for pages).
    cookie: String,
    _data: tempfile::TempDir,
}

impl App {
    async fn start(text: &str, configure: impl FnOnce(&mut Settings)) -> Self {
        let support::ConfigApp {
            router,
            operator,
            viewer,
            cookie,
            data,
            ..
        } = support::ConfigApp::start(text, |settings, _, _| configure(settings)).await;
        Self {
            router,
            operator,
            viewer,
            cookie,
            _data: data,
        }
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, text) =
            support::call_api(&self.router, method, uri, token, body.as_ref()).await;
        assert!(!text.contains(ROOT_TOKEN_SECRET), "{text}");
        (status, support::json_or_text(text))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_read_operators_ask_and_refusals_say_why() {
    let text = "proxmox_api:\n  hosts: [127.0.0.1:1]\n  user: root@pam\n  pass: pw\n\
                balancing:\n  enable: true\n";
    let app = App::start(text, |s| {
        s.proxlb_service = ProxlbService::Only(BackendKind::Docker);
    })
    .await;
    let (status, view) = app.call(Method::GET, PATH, &app.viewer, None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"]["state"], "idle");
    // No cluster snapshot (nothing listens there): no estimate.
    assert_eq!(view["estimate"], Value::Null);

    let (status, _) = app.call(Method::POST, PATH, &app.viewer, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(Method::DELETE, PATH, &app.viewer, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The Docker backend cannot reach a Docker daemon here (no socket): 409 with the reason.
    let (status, refusal) = app.call(Method::POST, PATH, &app.operator, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");
    assert!(refusal.to_string().contains("Docker"), "{refusal}");
    // Nothing to cancel.
    let (status, refusal) = app.call(Method::DELETE, PATH, &app.operator, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");
    let (_, view) = app.call(Method::GET, PATH, &app.viewer, None).await;
    assert_eq!(view["status"]["state"], "idle");

    // The Balancing view has the panel, with the button for an operator.
    let page = Request::get("/balancing")
        .header(header::COOKIE, format!("plbw_session={}", app.cookie))
        .body(Body::empty())
        .unwrap();
    let (status, _, html) = support::send(&app.router, page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="ask-proxlb""#), "{html}");
    assert!(html.contains(r#"data-testid="ask-button""#), "{html}");
    assert!(!html.contains(r#"data-testid="ask-refusal""#), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_is_asked_and_real_proxlb_agrees_with_the_native_plan() {
    plb_backend::tls::install_crypto_provider();
    let scenario =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/pve-sim/scenarios/demo-3node.yaml");
    let sim = Simulator::start(
        plb_pve_sim::Scenario::from_path(scenario).unwrap(),
        SimConfig {
            noise: 0.0,
            time_scale: 0.0,
            start_time: Some(1_795_365_000.0),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let text = format!(
        "proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: proxlb\n  token_secret: {ROOT_TOKEN_SECRET}\n\
         \x20 ssl_verification: true\n  timeout: 10\n\
         proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
         balancing:\n  enable: true\n  balance_types: [vm, ct]\n  balanciness: 10\n  method: memory\n  mode: used\n\
         service:\n  daemon: true\n  log_level: INFO\n",
        sim.host_port()
    );
    let ca = sim.cert().map(|c| c.cert_path.clone());
    let app = App::start(&text, |s| {
        s.proxlb_service = ProxlbService::Only(BackendKind::Process);
        s.proxlb_python = Some(support::proxlb_python());
        s.ca_file = ca;
        s.poll_interval = Duration::from_secs(3600);
    })
    .await;

    // The estimate, once the first snapshot is in.
    let mut view = Value::Null;
    for _ in 0..300 {
        let (status, body) = app.call(Method::GET, PATH, &app.viewer, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["estimate"].is_object() {
            view = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let estimate = &view["estimate"];
    assert!(estimate["requests"].as_u64().unwrap() > 30, "{view}");
    assert_eq!(estimate["hosts"], json!([sim.host_port()]));
    assert_eq!(estimate["unavailable"], Value::Null);

    // A candidate: pve2 in maintenance (its guests must leave), not saved anywhere.
    let (_, settings) = app
        .call(Method::GET, "/api/balancing/settings", &app.viewer, None)
        .await;
    let candidate = json!({
        "settings": settings["settings"],
        "maintenance_nodes": ["pve2"],
    });
    let (status, started) = app
        .call(Method::POST, PATH, &app.operator, Some(candidate.clone()))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["state"], "running");
    assert_eq!(started["candidate"], true);
    let (status, _) = app
        .call(Method::POST, PATH, &app.operator, Some(candidate))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let mut done = Value::Null;
    for _ in 0..1800 {
        let (_, body) = app.call(Method::GET, PATH, &app.viewer, None).await;
        if body["status"]["state"] != "running" {
            done = body["status"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["state"], "finished", "{done}");
    let answer = &done["answer"];
    assert_eq!(answer["candidate"], true);
    assert_eq!(answer["agree"], true, "{answer:#}");
    let moves = answer["moves"].as_array().unwrap();
    // Every guest on pve2 leaves it, in both plans.
    assert!(
        moves.iter().any(|m| m["from"] == "pve2"),
        "nothing leaves the node in maintenance: {answer:#}"
    );
    for m in moves {
        assert_eq!(m["agreement"], "same", "{m}");
        assert_ne!(m["proxlb_to"], "pve2", "{m}");
    }
    assert!(answer["wall_ms"].as_u64().unwrap() > 0);
    sim.shutdown().await;
}
