//! The cluster slice end to end inside one process: the demo simulator on a loopback port, the
//! real ProxLB config file, the PVE client, the poller, the view service and the REST API.
#![cfg(feature = "ssr")]
// A failed unwrap in a test helper is a test failure with a backtrace, which is what we want.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use plb_backend::services::cluster::PollerHealth;
use plb_backend::{AppState, DemoScenario, Settings};
use plb_pve_sim::Fault;
use proxlb_web::server::demo;
use tower::ServiceExt;

fn scratch_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("plb-test-{name}-{}-{nanos}", std::process::id()))
}

/// The app in demo mode (as `--demo` starts it) on a fresh simulator, polling every `interval`.
async fn app(name: &str, interval: Duration) -> (Router, demo::Demo, AppState) {
    plb_backend::tls::install_crypto_provider();
    let settings = Settings {
        demo: true,
        demo_scenario: DemoScenario::ThreeNode,
        data_dir: scratch_dir(name),
        poll_interval: interval,
        ..Settings::default()
    };
    let (state, demo) = demo::wire(settings).await.unwrap();
    let demo = demo.expect("demo mode starts the simulator");
    assert_ne!(
        state.cluster.health(),
        PollerHealth::NotConfigured,
        "the demo config must connect"
    );
    (support::signed_in_router(&state).await, demo, state)
}

async fn get_json(app: &Router, uri: &str) -> (StatusCode, serde_json::Value, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    )
}

fn token_secret(demo: &demo::Demo) -> String {
    demo.simulator
        .credentials()
        .iter()
        .find_map(|c| match c {
            plb_pve_sim::Credential::Token { secret, .. } => Some(secret.clone()),
            plb_pve_sim::Credential::Password { .. } => None,
        })
        .unwrap()
}

#[tokio::test]
async fn rest_api_serves_the_scenario_without_secrets() {
    let (app, demo, _state) = app("rest", Duration::from_secs(10)).await;

    let (status, nodes, _) = get_json(&app, "/api/nodes").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["pve1", "pve2", "pve3"]);
    assert!(nodes["meta"]["fetched_at_unix"].as_u64().is_some());
    // pve1 carries the load in the demo scenario.
    let pve1_mem = nodes["nodes"][0]["mem_used"].as_f64().unwrap()
        / nodes["nodes"][0]["mem_total"].as_f64().unwrap();
    assert!(pve1_mem > 0.7, "pve1 memory {pve1_mem}");

    let (_, guests, _) = get_json(&app, "/api/guests").await;
    // The REST body has exactly the shape of the typed guest list the UI gets.
    let typed: plb_domain::view::GuestList = serde_json::from_value(guests.clone()).unwrap();
    assert_eq!(typed.nodes, ["pve1", "pve2", "pve3"]);
    let guests = guests["guests"].as_array().unwrap();
    // 13 guests in the scenario, one of them a template, which is not a guest to balance.
    assert_eq!(guests.len(), 12);
    let web01 = guests.iter().find(|g| g["name"] == "web01").unwrap();
    assert_eq!(web01["node"], "pve1");
    assert_eq!(web01["pool"], "prod");
    assert_eq!(
        web01["tags"][0],
        serde_json::json!({"tag": "plb_affinity_web", "kind": "affinity"})
    );

    let (status, on_pve3, _) = get_json(&app, "/api/guests/pve3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(on_pve3["nodes"], serde_json::json!(["pve3"]));
    assert!(!on_pve3["guests"].as_array().unwrap().is_empty());
    assert!(on_pve3["guests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["node"] == "pve3"));
    let (status, missing, _) = get_json(&app, "/api/guests/pve9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing,
        serde_json::json!({"kind": "not_found", "what": "node \"pve9\""})
    );

    let (_, rules, _) = get_json(&app, "/api/rules").await;
    assert_eq!(
        rules["rules"]["anti_affinity_groups"][0]["name"],
        "plb_anti_affinity_db"
    );
    assert_eq!(rules["rules"]["ignored"][0]["guest"], "legacy01");
    let (_, cluster, cluster_text) = get_json(&app, "/api/cluster").await;
    assert_eq!(cluster["health"]["nodes_online"], 3);
    assert_eq!(
        cluster["decision"]["would_balance"], true,
        "the demo is deliberately unbalanced"
    );

    let secret = token_secret(&demo);
    for uri in ["/api/cluster", "/api/nodes", "/api/guests", "/api/rules"] {
        let (_, _, text) = get_json(&app, uri).await;
        assert!(!text.contains(&secret), "{uri} leaks the token secret");
    }
    assert!(!cluster_text.contains("token_secret"));
}

#[tokio::test]
async fn a_proxmox_fault_keeps_the_last_snapshot_marked_stale_and_recovers() {
    let (app, demo, _state) = app("fault", Duration::from_millis(200)).await;
    let (_, before, _) = get_json(&app, "/api/nodes").await;
    assert!(before["meta"]["stale"].is_null());

    demo.simulator
        .inject_fault(Fault::error("GET /cluster/resources", 500, "boom"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let stale = loop {
        let (status, nodes, _) = get_json(&app, "/api/nodes").await;
        assert_eq!(status, StatusCode::OK, "the last good data stays available");
        if !nodes["meta"]["stale"].is_null() {
            break nodes;
        }
        assert!(Instant::now() < deadline, "no stale marker within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        stale["nodes"].as_array().unwrap().len(),
        3,
        "last good nodes are kept"
    );
    let error = stale["meta"]["stale"]["error"].as_str().unwrap();
    assert!(error.contains("127.0.0.1"), "names the host: {error}");
    assert!(
        !error.contains("boom"),
        "PVE's own message text stays in the log: {error}"
    );

    demo.simulator.clear_faults();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, nodes, _) = get_json(&app, "/api/nodes").await;
        if nodes["meta"]["stale"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_hundred_api_clients_cost_one_poll_cycle_per_interval() {
    let interval = Duration::from_millis(500);
    let (app, demo, _state) = app("load", interval).await;
    let _ = get_json(&app, "/api/nodes").await;
    demo.simulator.reset_request_counts();
    let started = Instant::now();
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let uri = if i % 2 == 0 {
                    "/api/nodes"
                } else {
                    "/api/guests"
                };
                for _ in 0..5 {
                    let (status, _, _) = get_json(&app, uri).await;
                    assert_eq!(status, StatusCode::OK);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let elapsed = started.elapsed();
    let cycles = demo
        .simulator
        .request_counts()
        .get("GET /cluster/resources")
        .copied()
        .unwrap_or(0);
    let most = elapsed.as_millis() / interval.as_millis() + 2;
    assert!(cycles >= 1, "the poller kept polling");
    assert!(
        cycles as u128 <= most,
        "{cycles} polls in {elapsed:?} for 1,000 API requests (at most {most} expected)"
    );
}

#[tokio::test]
async fn without_a_config_the_api_says_what_to_set() {
    let settings = Settings {
        proxlb_config: scratch_dir("missing").join("proxlb.yaml"),
        data_dir: scratch_dir("missing-data"),
        ..Settings::default()
    };
    let state = plb_backend::compose::wire(settings).await.unwrap();
    let app = support::signed_in_router(&state).await;
    let (status, body, _) = get_json(&app, "/api/nodes").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["kind"], "not_configured");
    let reason = body["reason"].as_str().unwrap();
    let hint = body["hint"].as_str().unwrap();
    assert!(
        reason.contains("does not exist") && hint.contains("PROXLB_CONFIG"),
        "{body}"
    );
    // The pages explain it too, with a 200 page and the message in the panel.
    let response = app
        .oneshot(Request::get("/nodes").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
        .into_owned();
    assert!(
        html.contains("PROXLB_CONFIG"),
        "the nodes page must say what to set"
    );
}

#[tokio::test]
async fn pages_render_cluster_data_on_the_server() {
    let (app, _demo, _state) = app("pages", Duration::from_secs(10)).await;
    for (uri, expected) in [
        ("/", "ProxLB would migrate"),
        ("/nodes", "href=\"/nodes/pve3\""),
        ("/guests", "legacy01"),
        ("/guests?q=db&sort=name", "db02"),
        ("/rules", "plb_anti_affinity_db"),
        ("/nodes/pve2", "Guests on pve2"),
        // The load history chart, from Proxmox's RRD via the poller.
        ("/nodes/pve1", "role=\"img\" aria-label=\"pve1 from "),
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let html =
            String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
                .into_owned();
        assert!(html.contains(expected), "{uri} lacks {expected:?}");
    }
    // The search keeps only matching guests in the server-rendered page.
    let response = app
        .clone()
        .oneshot(Request::get("/guests?q=db").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
        .into_owned();
    // (The full list also travels as hydration data, so look at the table rows.)
    assert!(
        html.contains("data-vmid=\"102\"") && !html.contains("data-vmid=\"100\""),
        "search applied during server rendering"
    );
    let response = app
        .oneshot(Request::get("/nodes/pve9").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pinned_fingerprint_is_trusted_and_a_wrong_one_is_not() {
    plb_backend::tls::install_crypto_provider();
    let demo = demo::start(&scratch_dir("pin"), &DemoScenario::ThreeNode)
        .await
        .unwrap();
    let pinned: plb_backend::adapters::pve::Fingerprint =
        demo.simulator.fingerprint().unwrap().parse().unwrap();
    let wrong: plb_backend::adapters::pve::Fingerprint = "AB".repeat(32).parse().unwrap();
    for (pin, trusted) in [(pinned, true), (wrong, false)] {
        // No CA file: only the pin can make the self-signed certificate acceptable.
        let settings = Settings {
            proxlb_config: demo.config_path.clone(),
            pve_fingerprints: vec![pin],
            demo: true,
            data_dir: scratch_dir("pin-data"),
            ..Settings::default()
        };
        let state = plb_backend::compose::wire(settings).await.unwrap();
        let app = support::signed_in_router(&state).await;
        let (_, nodes, _) = get_json(&app, "/api/nodes").await;
        if trusted {
            assert!(nodes["meta"]["stale"].is_null(), "{nodes}");
            assert_eq!(nodes["nodes"].as_array().unwrap().len(), 3);
        } else {
            let error = nodes["meta"]["stale"]["error"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            assert!(
                error.contains("tls") || error.contains("certificate"),
                "{nodes}"
            );
            assert!(
                nodes["nodes"].as_array().unwrap().is_empty(),
                "nothing is read over an untrusted connection"
            );
        }
    }
}

/// A second simulated cluster, with other node names than the demo's.
const EAST_SCENARIO: &str = "\
cluster: {name: east}
nodes:
  - {name: east1, cores: 8, memory: 32G, disk: 100G, version: 9.1.2}
  - {name: east2, cores: 8, memory: 32G, disk: 100G, version: 9.1.2}
users:
  - userid: root@pam
    password: east-demo
    tokens:
      - {id: proxlb, secret: 3a6f0c2e-9b1d-4e7a-8c5f-2d4b6e8a0c13, privsep: false}
";

fn node_names(nodes: &serde_json::Value) -> Vec<String> {
    nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_changed_proxmox_api_takes_effect_on_reconnect_without_a_restart() {
    let dir = scratch_dir("reconnect");
    let settings = Settings {
        demo: true,
        data_dir: dir.clone(),
        poll_interval: Duration::from_millis(200),
        ..Settings::default()
    };
    plb_backend::tls::install_crypto_provider();
    let (state, west) = demo::wire(settings).await.unwrap();
    let app = support::signed_in_router(&state).await;
    let (_, nodes, _) = get_json(&app, "/api/nodes").await;
    assert_eq!(node_names(&nodes), ["pve1", "pve2", "pve3"]);
    // The live channel's subscription, taken before the change.
    let mut feed = state.cluster.subscribe();

    // Another cluster, written over the same proxlb.yaml (new hosts, token and certificate).
    let scenario = dir.join("east.yaml");
    std::fs::write(&scenario, EAST_SCENARIO).unwrap();
    let east = demo::start(&dir, &DemoScenario::File(scenario))
        .await
        .unwrap();
    assert_eq!(
        Some(&east.config_path),
        west.as_ref().map(|d| &d.config_path)
    );
    let config = std::fs::read_to_string(&east.config_path).unwrap();
    assert!(config.contains(&east.simulator.host_port()), "{config}");

    // Nothing changes until the service is told to reconnect: the file is not watched.
    state.cluster.request_refresh();
    let (_, nodes, _) = get_json(&app, "/api/nodes").await;
    assert_eq!(node_names(&nodes), ["pve1", "pve2", "pve3"]);

    state.cluster.reconnect().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, nodes, _) = get_json(&app, "/api/nodes").await;
        assert_eq!(status, StatusCode::OK);
        if node_names(&nodes) == ["east1", "east2"] && nodes["meta"]["stale"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "still {nodes}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The subscription from before the reconnect delivers the new cluster too.
    let view = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(view) = feed.borrow_and_update().view() {
                if view.overview.nodes.iter().any(|n| n.name == "east1") {
                    return view.clone();
                }
            }
            feed.changed().await.unwrap();
        }
    })
    .await
    .unwrap();
    assert_eq!(view.overview.nodes.len(), 2);
    // The old cluster is not polled any more: two more cycles of the new one (a whole old
    // interval) pass without a request to it.
    let west = west.unwrap();
    west.simulator.reset_request_counts();
    let later = view.overview.meta.version + 2;
    tokio::time::timeout(Duration::from_secs(10), async {
        while feed
            .borrow_and_update()
            .view()
            .is_none_or(|view| view.overview.meta.version < later)
        {
            feed.changed().await.unwrap();
        }
    })
    .await
    .unwrap();
    let (_, nodes, _) = get_json(&app, "/api/nodes").await;
    assert_eq!(node_names(&nodes), ["east1", "east2"]);
    assert_eq!(
        west.simulator
            .request_counts()
            .get("GET /cluster/resources")
            .copied()
            .unwrap_or(0),
        0,
        "the old poller was cancelled"
    );
    state.shutdown.cancel();
}
