//! The `/_sim/` admin endpoint and the fault/ticket/state operations of the Rust API.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{demo_sim, Client, Resp, ROOT_PW, ROOT_TOKEN};
use plb_pve_sim::{Fault, FaultRule};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An admin request (no authentication), JSON body.
async fn admin(
    sim: &plb_pve_sim::Simulator,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let c = Client::new(sim);
    let body = body.map(|b| b.to_string());
    c.request_with(
        method,
        &format!("!/_sim{path}"),
        body.as_deref(),
        "application/json",
    )
    .await
}

/// A raw HTTP/1.1 request over plain TCP: `Ok(status line)` or `Err` when the server closed the
/// connection without an answer.
async fn raw(addr: SocketAddr, method: &str, path: &str) -> Result<String, String> {
    let mut tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let req = format!(
        "{method} /api2/json{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {ROOT_TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    match tcp.read_to_end(&mut buf).await {
        Ok(_) if buf.is_empty() => Err("connection closed without an answer".into()),
        Ok(_) => Ok(String::from_utf8_lossy(&buf)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn request_counts_can_be_read_and_reset() {
    let (sim, c) = demo_sim(false).await;
    c.get("/nodes").await;
    c.get("/nodes").await;
    c.get("/nodes/pve2/lxc").await;
    let r = admin(&sim, "GET", "/requests", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"GET /nodes": 2, "GET /nodes/{node}/lxc": 1}));
    let r = admin(&sim, "DELETE", "/requests", None).await;
    assert_eq!(r.body, json!({"cleared": 2}));
    assert!(sim.request_counts().is_empty());
    // Admin calls are not counted.
    assert_eq!(admin(&sim, "GET", "/requests", None).await.body, json!({}));
    assert_eq!(admin(&sim, "PUT", "/requests", None).await.status, 405);
}

#[tokio::test]
async fn error_faults_with_count_until_cleared_and_by_node() {
    let (sim, c) = demo_sim(false).await;
    let r = admin(
        &sim,
        "POST",
        "/faults",
        Some(json!({"route": "GET /nodes", "status": 503, "count": 2})),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["added"]["message"], "Service Unavailable");
    let r = c.get("/nodes").await;
    assert_eq!((r.status, r.reason.as_str()), (503, "Service Unavailable"));
    assert_eq!(r.body["message"], "Service Unavailable\n");
    let listed = admin(&sim, "GET", "/faults", None).await;
    assert_eq!(listed.body[0]["count"], 1);
    assert_eq!(c.get("/nodes").await.status, 503);
    assert_eq!(c.get("/nodes").await.status, 200);
    assert_eq!(admin(&sim, "GET", "/faults", None).await.body, json!([]));

    // Global, until cleared; a concrete path only hits that node.
    admin(
        &sim,
        "POST",
        "/faults",
        Some(json!({"route": "*", "status": 500, "message": "boom"})),
    )
    .await;
    for path in ["/version", "/cluster/resources", "/nodes/pve1/qemu"] {
        let r = c.get(path).await;
        assert_eq!((r.status, r.reason.as_str()), (500, "boom"), "{path}");
    }
    let r = admin(&sim, "DELETE", "/faults", None).await;
    assert_eq!(r.body, json!({"cleared": 1}));
    assert_eq!(c.get("/version").await.status, 200);
    admin(
        &sim,
        "POST",
        "/faults",
        Some(json!({"route": "GET /nodes/pve2/qemu", "status": 595})),
    )
    .await;
    assert_eq!(c.get("/nodes/pve2/qemu").await.status, 595);
    assert_eq!(c.get("/nodes/pve1/qemu").await.status, 200);
    assert_eq!(c.get("/nodes/pve2/qemu").await.reason, "No route to host");

    // Bad fault bodies are 400 with a reason.
    for bad in [
        json!({"route": "nodes", "status": 500}),
        json!({"route": "GET /nodes"}),
        json!({"route": "GET /nodes", "status": 500, "colour": "red"}),
    ] {
        let r = admin(&sim, "POST", "/faults", Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.body["error"].is_string());
    }
    let r = Client::new(&sim)
        .request_with("POST", "!/_sim/faults", Some("{nope"), "application/json")
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn rust_fault_api() {
    let (sim, c) = demo_sim(false).await;
    // The original four-field struct literal still works.
    sim.inject_fault(Fault {
        route: "GET /version".into(),
        status: 500,
        message: "once".into(),
        count: 1,
    });
    sim.inject_fault(Fault::error("GET /nodes/{node}/qemu", 502, "").times(3));
    assert_eq!(sim.faults().len(), 2);
    assert_eq!(c.get("/version").await.reason, "once");
    assert_eq!(c.get("/version").await.status, 200);
    assert_eq!(c.get("/nodes/pve1/qemu").await.reason, "Bad Gateway");
    assert_eq!(sim.faults()[0].count, 2);
    assert_eq!(sim.clear_faults(), 1);
    assert_eq!(c.get("/nodes/pve1/qemu").await.status, 200);
    // Faults come after authentication: a bad token is still a 401.
    sim.inject_fault(Fault::error("*", 500, ""));
    let bad = Client::with_token(&sim, "PVEAPIToken=root@pam!proxlb=wrong");
    assert_eq!(bad.get("/nodes").await.status, 401);
    assert_eq!(c.get("/nodes").await.status, 500);
}

#[tokio::test]
async fn connection_reset_drops_the_connection_without_running_the_handler() {
    let (sim, _c) = demo_sim(false).await;
    let r = admin(
        &sim,
        "POST",
        "/faults",
        Some(json!({"route": "POST /nodes/{node}/qemu/{vmid}/migrate", "reset": true, "count": 1})),
    )
    .await;
    assert_eq!(r.status, 200);
    let err = raw(
        sim.addr(),
        "POST",
        "/nodes/pve2/qemu/111/migrate?target=pve3",
    )
    .await
    .unwrap_err();
    assert!(!err.is_empty());
    // The request was dropped, not executed.
    assert_eq!(sim.guest_node(111).as_deref(), Some("pve2"));
    assert_eq!(sim.state().tasks_running, 0);
    // Used up: the next one is answered and runs.
    let ok = raw(
        sim.addr(),
        "POST",
        "/nodes/pve2/qemu/111/migrate?target=pve3",
    )
    .await
    .unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(sim.state().tasks_running, 1);

    // Over TLS with a real HTTP client: a connection error, not a response.
    let (tls_sim, c) = demo_sim(true).await;
    tls_sim.inject_fault(FaultRule::connection_reset("GET /nodes").times(1));
    let result = tokio::spawn(async move { c.get("/nodes").await }).await;
    let panic = result.expect_err("the client must fail with a connection error");
    let payload = panic.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    // The request was sent and the peer closed the connection: no response at all.
    assert!(
        message.contains("hyper::Error")
            && (message.contains("UnexpectedEof") || message.contains("IncompleteMessage")),
        "{message}"
    );
    let c = Client::with_token(&tls_sim, ROOT_TOKEN);
    assert_eq!(c.get("/nodes").await.status, 200);
}

#[tokio::test]
async fn latency_is_added_before_the_answer() {
    let (sim, c) = demo_sim(false).await;
    admin(
        &sim,
        "POST",
        "/faults",
        Some(json!({"route": "GET /version", "latency_ms": 300, "count": 1})),
    )
    .await;
    let t = Instant::now();
    let r = c.get("/version").await;
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(r.status, 200);
    assert!(sim.faults().is_empty());
    // Latency and an error combine.
    sim.inject_fault(
        Fault::error("GET /nodes", 503, "")
            .times(1)
            .with_latency(Duration::from_millis(200)),
    );
    let t = Instant::now();
    let r = c.get("/nodes").await;
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(r.status, 503);
}

#[tokio::test]
async fn nodes_go_offline_and_online() {
    let (sim, c) = demo_sim(false).await;
    let r = admin(&sim, "POST", "/nodes/pve3/offline", None).await;
    assert_eq!(r.body, json!({"node": "pve3", "status": "offline"}));
    let nodes = c.get("/nodes").await;
    let pve3 = nodes
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "pve3")
        .unwrap()
        .clone();
    assert_eq!(pve3["status"], "offline");
    assert_eq!(c.get("/nodes/pve3/lxc").await.status, 595);
    let state = admin(&sim, "GET", "/state", None).await;
    assert_eq!(
        state.body["nodes"][2],
        json!({"name": "pve3", "status": "offline", "version": "9.1.2", "maintenance": false, "guests": 3})
    );
    let g202 = state.body["guests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["vmid"] == 202)
        .unwrap()
        .clone();
    assert_eq!(g202["status"], "unknown");
    admin(&sim, "POST", "/nodes/pve3/online", None).await;
    assert_eq!(c.get("/nodes/pve3/lxc").await.status, 200);
    assert_eq!(
        admin(&sim, "POST", "/nodes/pve9/offline", None)
            .await
            .status,
        404
    );
    assert_eq!(
        admin(&sim, "GET", "/nodes/pve3/offline", None).await.status,
        405
    );
    assert_eq!(admin(&sim, "GET", "/nope", None).await.status, 404);
}

#[tokio::test]
async fn tickets_expire_on_demand() {
    let (sim, token) = demo_sim(false).await;
    let mut c = Client::new(&sim);
    assert_eq!(c.login("root@pam", ROOT_PW).await.status, 200);
    let old_ticket = c.ticket.clone().unwrap();
    assert_eq!(c.get("/nodes").await.status, 200);
    let r = admin(&sim, "POST", "/tickets/expire", None).await;
    assert_eq!(r.body, json!({"expired": true}));
    let r = c.get("/nodes").await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (401, "permission denied - invalid PVE ticket")
    );
    // No renewal with the expired ticket; a new password login works; tokens are unaffected.
    assert_eq!(c.login("root@pam", &old_ticket).await.status, 401);
    assert_eq!(token.get("/nodes").await.status, 200);
    assert_eq!(c.login("root@pam", ROOT_PW).await.status, 200);
    assert_eq!(c.get("/nodes").await.status, 200);
    // The same from Rust.
    sim.expire_tickets();
    assert_eq!(c.get("/nodes").await.status, 401);
}

#[tokio::test]
async fn state_summary_lists_nodes_and_guests() {
    let (sim, c) = demo_sim(false).await;
    let r = c
        .post("/nodes/pve1/qemu/105/migrate", "target=pve3&online=1")
        .await;
    assert_eq!(r.status, 200);
    let state = admin(&sim, "GET", "/state", None).await;
    assert_eq!(state.status, 200);
    assert_eq!(state.body, serde_json::to_value(sim.state()).unwrap());
    let nodes: Vec<&str> = state.body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["pve1", "pve2", "pve3"]);
    let guests = state.body["guests"].as_array().unwrap();
    assert_eq!(guests.len(), 13);
    let g105 = guests.iter().find(|g| g["vmid"] == 105).unwrap();
    assert_eq!(g105["node"], "pve1");
    assert_eq!(g105["lock"], "migrate");
    assert_eq!(g105["type"], "qemu");
    assert_eq!(state.body["tasks_running"], 1);
    sim.advance(Duration::from_secs(60));
    let state = admin(&sim, "GET", "/state", None).await;
    let g105 = state.body["guests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["vmid"] == 105)
        .unwrap()
        .clone();
    assert_eq!(g105["node"], "pve3");
    assert!(g105.get("lock").is_none());
}
