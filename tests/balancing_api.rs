//! The balancing endpoints through the whole router on a real file: settings read and saved
//! losslessly (digest, 409 with theirs and yours, roles, range checks) and "run now" refused
//! with its reason; and on the demo's simulated cluster the plan with every move's candidate
//! table, the guest explainer (JSON and the server-rendered view), the what-if of settings and
//! of a node in maintenance, and the best node.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::Router;
use plb_backend::Settings;
use serde_json::{json, Value};

const SAMPLE: &str = "# ProxLB\nproxmox_api:\n  hosts: [127.0.0.1:1]\n  user: root@pam\n  pass: 'pw-Do-Not-Leak-9' # pw\n\
balancing:\n  enable: true   # keep this comment\n  balance_types: [vm]\n  balanciness: 10\n  memory_threshold: 80\n";

struct App {
    router: Router,
    operator: String,
    viewer: String,
    path: std::path::PathBuf,
    _data: tempfile::TempDir,
}

impl App {
    async fn start() -> Self {
        let support::ConfigApp {
            router,
            operator,
            viewer,
            path,
            data,
            ..
        } = support::ConfigApp::start(SAMPLE, |_, _, _| {}).await;
        Self {
            router,
            operator,
            viewer,
            path,
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
        assert!(!text.contains("pw-Do-Not-Leak-9"), "{text}");
        (status, support::json_or_text(text))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_read_and_saved_losslessly_with_roles_ranges_and_conflicts() {
    let app = App::start().await;
    let (status, view) = app
        .call(Method::GET, "/api/balancing/settings", &app.viewer, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["settings"]["balanciness"], 10);
    assert_eq!(view["settings"]["memory_threshold"], 80);
    assert_eq!(view["settings"]["balance_types"], json!(["vm"]));
    let digest = view["digest"].clone();
    let mut settings = view["settings"].clone();

    // A viewer may not save.
    settings["balanciness"] = json!(7);
    let body = json!({"digest": digest, "settings": settings});
    let (status, _) = app
        .call(
            Method::POST,
            "/api/balancing/settings",
            &app.viewer,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Out of range: 400 by field, nothing written.
    let mut bad = settings.clone();
    bad["balanciness"] = json!(140);
    let (status, refusal) = app
        .call(
            Method::POST,
            "/api/balancing/settings",
            &app.operator,
            Some(json!({"digest": digest, "settings": bad})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert_eq!(refusal["fields"][0]["field"], "balanciness");
    assert_eq!(std::fs::read_to_string(&app.path).unwrap(), SAMPLE);

    // Saved: only the changed keys' bytes change; comments stay; a cleared threshold is removed.
    settings["memory_threshold"] = Value::Null;
    settings["balance_types"] = json!(["vm", "ct"]);
    let (status, saved) = app
        .call(
            Method::POST,
            "/api/balancing/settings",
            &app.operator,
            Some(json!({"digest": digest, "settings": settings})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let file = std::fs::read_to_string(&app.path).unwrap();
    assert!(
        file.contains("enable: true   # keep this comment"),
        "{file}"
    );
    assert!(file.contains("balanciness: 7"), "{file}");
    assert!(!file.contains("memory_threshold"), "{file}");
    assert!(file.contains("pass: 'pw-Do-Not-Leak-9' # pw"), "{file}");
    let (_, reread) = app
        .call(Method::GET, "/api/balancing/settings", &app.viewer, None)
        .await;
    assert_eq!(reread["settings"]["balance_types"], json!(["vm", "ct"]));
    assert_eq!(reread["digest"], saved["digest"]);

    // Stale digest: 409 with the file's settings (theirs) and the submitted ones (yours).
    let mut mine = settings.clone();
    mine["balanciness"] = json!(3);
    let (status, conflict) = app
        .call(
            Method::POST,
            "/api/balancing/settings",
            &app.operator,
            Some(json!({"digest": digest, "settings": mine})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["kind"], "conflict");
    assert_eq!(conflict["theirs"]["balanciness"], 7);
    assert_eq!(conflict["yours"]["balanciness"], 3);
    assert_eq!(conflict["digest"], saved["digest"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_needs_an_operator_and_says_why_it_is_refused() {
    let app = App::start().await;
    let (status, _) = app
        .call(Method::POST, "/api/balancing/trigger", &app.viewer, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No ProxLB backend is configured in this test: refused with that reason, nothing started.
    let (status, refusal) = app
        .call(Method::POST, "/api/balancing/trigger", &app.operator, None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");
    assert!(
        refusal.to_string().contains("cannot start ProxLB"),
        "{refusal}"
    );
}

/// GET `uri` with the demo app's token, as JSON.
async fn demo_get(app: &support::TestApp, uri: &str) -> (StatusCode, Value) {
    let request = app.request(Method::GET, uri).body(Body::empty()).unwrap();
    let (status, _, text) = app.send(request).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_plan_explainer_what_if_and_best_node_agree_with_each_other() {
    let app = support::TestApp::start(Settings {
        demo: true,
        demo_scenario: plb_backend::settings::DemoScenario::ThreeNode,
        poll_interval: std::time::Duration::from_millis(500),
        ..Settings::default()
    })
    .await;
    // The first snapshot arrives within a moment; the unbalanced demo has moves.
    let mut plan = Value::Null;
    for _ in 0..60 {
        let (status, body) = demo_get(&app, "/api/balancing/plan").await;
        if status == StatusCode::OK {
            plan = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let moves = plan["moves"].as_array().expect("a plan").clone();
    assert!(!moves.is_empty(), "{plan}");
    assert!(
        plan["reasons"].to_string().contains("balanciness"),
        "{plan}"
    );
    assert_eq!(plan["nodes"].as_array().unwrap().len(), 3);
    assert!(plan["verdict"]
        .as_str()
        .unwrap()
        .starts_with("ProxLB would migrate"));
    // The balance test per method, with its numbers, the configured one active.
    let checks = plan["cluster"]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3, "{plan}");
    assert_eq!(checks.iter().filter(|c| c["active"] == true).count(), 1);
    assert!(checks.iter().all(|c| c["balanciness"].is_number()));
    // How old ProxLB's inputs are (the demo's poller fetches RRD for running guests).
    if let Some(inputs) = plan["inputs"].as_object() {
        assert!(
            inputs["running_guests"].as_u64().unwrap()
                >= inputs["guests_covered"].as_u64().unwrap()
        );
    }

    // Every move names why this guest, why this target and every node's verdict; the nodes
    // not chosen carry the rejection that decided.
    let first = &moves[0];
    assert!(first["why_guest"]["choice"].is_string(), "{first}");
    assert!(first["why_target"]["rule"]["rule"].is_string(), "{first}");
    let candidates = first["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 3, "{first}");
    assert_eq!(candidates[0]["node"], first["to"]);
    assert_eq!(candidates[0]["chosen"], true);
    assert!(candidates[1..]
        .iter()
        .all(|c| c["rejections"][0]["rejection"].is_string()));

    // The explainer agrees with the plan, with the same table.
    let guest = first["guest"].as_str().unwrap();
    let (status, why) = demo_get(&app, &format!("/api/balancing/explain?guest={guest}")).await;
    assert_eq!(status, StatusCode::OK, "{why}");
    assert_eq!(why["verdict"]["to"], first["to"], "{why}");
    assert_eq!(why["outcome"]["outcome"], "moves", "{why}");
    assert_eq!(
        why["outcome"]["explanation"]["candidates"], first["candidates"],
        "{why}"
    );
    assert!(!why["reasons"].as_array().unwrap().is_empty());
    let (status, _) = demo_get(&app, "/api/balancing/explain?guest=no-such-guest").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A guest that stays says why, with its reason typed.
    let (_, guests) = demo_get(&app, "/api/guests").await;
    let moving: Vec<&str> = moves.iter().filter_map(|m| m["guest"].as_str()).collect();
    let staying = guests["guests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str())
        .find(|name| !moving.contains(name))
        .expect("a guest that stays");
    let (status, stays) = demo_get(&app, &format!("/api/balancing/explain?guest={staying}")).await;
    assert_eq!(status, StatusCode::OK, "{stays}");
    assert_eq!(stays["verdict"]["verdict"], "stays", "{stays}");
    assert!(
        stays["outcome"]["reasons"][0]["reason"].is_string(),
        "{stays}"
    );
    assert!(!stays["reasons"][0].as_str().unwrap().is_empty(), "{stays}");

    // The view as a browser without JavaScript gets it: the checks, each move's candidate
    // table, and the explainer's answer for both guests.
    let page = |uri: String| {
        let request = app.browser(Method::GET, &uri).body(Body::empty()).unwrap();
        app.send(request)
    };
    let (status, _, html) = page(format!("/balancing?guest={guest}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="plan-checks""#), "{html}");
    assert!(html.contains(r#"data-testid="plan-inputs""#), "{html}");
    assert!(html.contains(r#"data-testid="move-candidates""#), "{html}");
    assert!(html.contains("Why this target: "), "{html}");
    assert!(html.contains(r#"data-testid="explain-answer""#), "{html}");
    assert!(
        html.contains(&format!("moves to {}", first["to"].as_str().unwrap())),
        "{html}"
    );
    let (status, _, html) = page(format!("/balancing?guest={staying}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="explain-reasons""#), "{html}");

    // Best node without parameters is the plan's; a guest larger than any node does not fit.
    let (status, best) = demo_get(&app, "/api/balancing/best-node").await;
    assert_eq!(status, StatusCode::OK, "{best}");
    assert_eq!(best["node"], plan["best_node"], "{best}");
    let (status, small) = demo_get(
        &app,
        "/api/balancing/best-node?cores=1&memory=512M&disk=8&type=vm",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{small}");
    assert!(small["node"].is_string(), "{small}");
    let (status, huge) = demo_get(&app, "/api/balancing/best-node?memory=64T").await;
    assert_eq!(status, StatusCode::CONFLICT, "{huge}");
    assert_eq!(
        huge["nodes"]["candidates"].as_array().unwrap().len(),
        3,
        "{huge}"
    );
    let (status, _) = demo_get(&app, "/api/balancing/best-node?memory=lots").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // What-if: nothing is written; today's plan is as it was.
    let (_, view) = demo_get(&app, "/api/balancing/settings").await;
    let mut candidate = view["settings"].clone();
    candidate["balanciness"] = json!(100);
    let request = app
        .request(Method::POST, "/api/balancing/what-if")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "settings": candidate }).to_string()))
        .unwrap();
    let (status, _, text) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let what_if: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(what_if["today"]["moves"], plan["moves"]);
    // The demo's moves are forced by a violated anti-affinity rule, which no balanciness
    // changes: the candidate is evaluated with its own settings and the diff accounts for it.
    assert_eq!(
        what_if["today"]["balanciness"],
        view["settings"]["balanciness"]
    );
    assert_eq!(what_if["candidate"]["balanciness"], 100);
    let candidate_moves = what_if["candidate"]["moves_total"].as_u64().unwrap();
    let diff = &what_if["diff"];
    assert_eq!(
        diff["unchanged"].as_u64().unwrap()
            + diff["added_total"].as_u64().unwrap()
            + diff["changed_total"].as_u64().unwrap(),
        candidate_moves,
        "{what_if}"
    );

    // What-if of a node in maintenance: nothing moves onto it, every guest leaves it, and the
    // file is as it was.
    let target = first["to"].as_str().unwrap();
    let request = app
        .request(Method::POST, "/api/balancing/what-if")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "settings": view["settings"], "maintenance_nodes": [target] }).to_string(),
        ))
        .unwrap();
    let (status, _, text) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let maint: Value = serde_json::from_str(&text).unwrap();
    let cand = maint["candidate"]["moves"].as_array().unwrap();
    assert!(cand.iter().all(|m| m["to"] != target), "{maint}");
    let bar = maint["candidate"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == target)
        .unwrap();
    assert_eq!(bar["maintenance"], true, "{bar}");
    let changes = ["added_total", "removed_total", "changed_total"]
        .iter()
        .map(|k| maint["diff"][k].as_u64().unwrap())
        .sum::<u64>();
    assert!(changes > 0, "{maint}");
    let (_, after) = demo_get(&app, "/api/balancing/settings").await;
    assert_eq!(after["digest"], view["digest"]);
    assert_eq!(after["nodes"].as_array().unwrap().len(), 3, "{after}");
}
