//! `GET /api/migrations` end to end inside one process: the demo simulator, the poller, the
//! migration history in the SQLite store, and the REST API with its authentication.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use plb_backend::{DemoScenario, Settings};
use plb_domain::migrations::MigrationPage;
use support::TestApp;

async fn demo_app() -> TestApp {
    TestApp::start(Settings {
        demo: true,
        demo_scenario: DemoScenario::ThreeNode,
        // A fixed cluster: no ProxLB moving guests behind the test's back.
        demo_proxlb: Some(false),
        poll_interval: Duration::from_millis(200),
        ..Settings::default()
    })
    .await
}

async fn page(app: &TestApp, query: &str) -> MigrationPage {
    let (status, _, body) = app.get(&format!("/api/migrations{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_move_in_the_cluster_shows_up_with_its_task_outcome_and_duration() {
    let app = demo_app().await;
    assert_eq!(
        page(&app, "").await.total,
        0,
        "a fresh install has no history"
    );

    // Someone moves web02 in the Proxmox UI (the simulator finishes it in a few seconds).
    let sim = &app.demo.as_ref().unwrap().simulator;
    let upid = sim.with_cluster(|cluster| {
        let now = sim.clock().now();
        cluster
            .migrate(
                now,
                "pve1",
                plb_pve_sim::GuestKind::Vm,
                101,
                "pve2",
                true,
                false,
                "alice@pve",
            )
            .unwrap()
            .to_string()
    });

    let wait = async {
        loop {
            let found = page(&app, "?text=web02").await;
            if found
                .records
                .first()
                .is_some_and(|r| r.ended_unix_ms.is_some())
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let found = tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the move reached the history");
    assert_eq!(found.total, 1);

    // The raw JSON, as scripts read it.
    let (_, _, body) = app.get("/api/migrations?text=101").await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let record = &json["records"][0];
    assert_eq!(record["upid"], upid.as_str());
    assert_eq!(record["vmid"], 101);
    assert_eq!(record["guest"], "web02");
    assert_eq!(record["outcome"], "succeeded");
    assert_eq!(record["initiator"], "person");
    assert_eq!(record["initiator_user"], "alice@pve");
    assert_eq!(record["source"], "pve1");
    assert_eq!(record["target"], "pve2");
    assert!(record["duration_ms"].as_i64().unwrap() > 0, "{record}");
    assert_eq!(json["total"], 1);

    // Filters mirror the query parameters.
    assert_eq!(page(&app, "?outcome=failed").await.total, 0);
    assert_eq!(page(&app, "?initiator=person&node=pve2").await.total, 1);
    assert_eq!(page(&app, "?initiator=proxlb").await.total, 0);
    assert_eq!(page(&app, "?text=web01").await.total, 0);
    let later = record["started_unix_ms"].as_i64().unwrap() + 1;
    assert_eq!(
        page(&app, &format!("?since_unix_ms={later}")).await.total,
        0
    );
}

#[tokio::test]
async fn bad_parameters_and_missing_credentials_are_refused_as_json() {
    let app = demo_app().await;
    let (status, _, body) = app.get("/api/migrations?outcome=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
    let (status, _, _) = app.get("/api/migrations?limit=lots").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let anonymous = Request::get("/api/migrations").body(Body::empty()).unwrap();
    let (status, _, body) = app.send(anonymous).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(!body.contains("records"));
}
