//! Transport and authentication: HTTPS and HTTP on port 0, tickets (login, renewal, expiry),
//! CSRF, API tokens, bad credentials, permissions and list filtering, 501 for unknown paths.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{demo, demo_sim, frozen, Client, ROOT_PW, ROOT_TOKEN};
use plb_pve_sim::{SimConfig, Simulator};

#[tokio::test]
async fn https_on_port_zero_with_pinned_certificate() {
    let (sim, client) = demo_sim(true).await;
    assert_ne!(sim.addr().port(), 0);
    assert!(sim.addr().ip().is_loopback());
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let cert = sim.cert().unwrap();
    let on_disk = std::fs::read_to_string(&cert.fingerprint_path).unwrap();
    assert_eq!(on_disk.trim(), cert.fingerprint);
    assert_eq!(cert.fingerprint.split(':').count(), 32);
    let r = client.get("/version").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["version"], "9.1.2");
    assert_eq!(r.data()["release"], "9.1");
    assert_eq!(r.headers["server"], "pve-api-daemon/3.0");
    assert_eq!(r.headers["content-type"], "application/json;charset=UTF-8");
    // The answering node advertises the served certificate's fingerprint.
    let nodes = client.get("/nodes").await;
    assert_eq!(
        nodes.data()[0]["ssl_fingerprint"],
        cert.fingerprint.as_str()
    );
    assert_ne!(
        nodes.data()[1]["ssl_fingerprint"],
        cert.fingerprint.as_str()
    );
    let dir = cert.cert_path.parent().unwrap().to_path_buf();
    sim.shutdown().await;
    assert!(!dir.exists(), "temporary certificate directory is removed");
}

#[tokio::test]
async fn wrong_pin_is_rejected_by_the_client() {
    let (sim, _) = demo_sim(true).await;
    let connector = Client::connector("00:11".to_string());
    let tcp = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    assert!(connector.connect(name, tcp).await.is_err());
}

#[tokio::test]
async fn plain_http_mode() {
    let (sim, client) = demo_sim(false).await;
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert!(sim.cert().is_none());
    assert_eq!(client.get("/version").await.status, 200);
}

#[tokio::test]
async fn raw_tcp_probe_does_not_break_the_server() {
    let (sim, client) = demo_sim(true).await;
    for _ in 0..3 {
        let s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
        drop(s);
    }
    assert_eq!(client.get("/version").await.status, 200);
}

#[tokio::test]
async fn password_login_and_ticket_use() {
    let (sim, _) = demo_sim(true).await;
    let mut c = Client::new(&sim);
    let r = c.login("root@pam", ROOT_PW).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let d = r.data();
    assert_eq!(d["username"], "root@pam");
    assert!(d["ticket"].as_str().unwrap().starts_with("PVE:root@pam:"));
    assert!(d["CSRFPreventionToken"].as_str().unwrap().contains(':'));
    assert_eq!(d["clustername"], "demo");
    assert_eq!(d["cap"]["vms"]["VM.Migrate"], 1);
    assert_eq!(c.get("/nodes").await.status, 200);
    // username + realm form
    let c2 = Client::new(&sim);
    let r = c2
        .post(
            "/access/ticket",
            "username=root&realm=pam&password=pve-sim-demo",
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn bad_credentials_are_401() {
    let (sim, _) = demo_sim(false).await;
    let mut c = Client::new(&sim);
    let r = c.login("root@pam", "wrong").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.reason, "authentication failure");
    assert_eq!(c.login("ghost@pam", "x").await.status, 401);
    let r = c.post("/access/ticket", "username=root@pam").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["errors"]["password"],
        "property is missing and it is not optional"
    );
    // no credentials at all
    let anon = Client::new(&sim);
    let r = anon.get("/nodes").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.reason, "No ticket");
    // forged ticket
    let mut forged = Client::new(&sim);
    forged.ticket = Some("PVE:root@pam:6B031900::AAAA".into());
    assert_eq!(forged.get("/nodes").await.status, 401);
    // bad token secret, unknown token, malformed header
    for h in [
        "PVEAPIToken=root@pam!proxlb=wrong",
        "PVEAPIToken=root@pam!nope=5f1c3e9a-6a8b-4f0e-9d2c-7b4a1e3f8c21",
        "PVEAPIToken=garbage",
    ] {
        let r = Client::with_token(&sim, h).get("/nodes").await;
        assert_eq!(r.status, 401, "{h}");
    }
}

#[tokio::test]
async fn ticket_renewal_and_expiry() {
    let (sim, _) = demo_sim(false).await;
    let mut c = Client::new(&sim);
    c.login("root@pam", ROOT_PW).await;
    let first = c.ticket.clone().unwrap();
    sim.advance(Duration::from_secs(3700));
    assert_eq!(c.get("/nodes").await.status, 200);
    // renew with the ticket as password
    let form = format!("username=root@pam&password={}", common::enc(&first));
    let r = c.post("/access/ticket", &form).await;
    assert_eq!(r.status, 200);
    let second = r.data()["ticket"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    // the first ticket expires 2 h after issue; the renewed one is still fine
    sim.advance(Duration::from_secs(3600));
    assert_eq!(
        c.get("/nodes").await.status,
        401,
        "first ticket is 7300 s old"
    );
    c.ticket = Some(second);
    assert_eq!(c.get("/nodes").await.status, 200);
}

#[tokio::test]
async fn expired_ticket_is_401_and_cannot_be_renewed() {
    let (sim, _) = demo_sim(false).await;
    let mut c = Client::new(&sim);
    c.login("root@pam", ROOT_PW).await;
    let ticket = c.ticket.clone().unwrap();
    sim.advance(Duration::from_secs(7199));
    assert_eq!(c.get("/nodes").await.status, 200);
    sim.advance(Duration::from_secs(2));
    let r = c.get("/nodes").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.reason, "permission denied - invalid PVE ticket");
    let form = format!("username=root@pam&password={}", common::enc(&ticket));
    let r = Client::new(&sim).post("/access/ticket", &form).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn configurable_ticket_lifetime() {
    let config = SimConfig {
        ticket_lifetime: Duration::from_secs(60),
        ..frozen(false)
    };
    let sim = Simulator::start(demo(), config).await.unwrap();
    let mut c = Client::new(&sim);
    c.login("root@pam", ROOT_PW).await;
    sim.advance(Duration::from_secs(61));
    assert_eq!(c.get("/nodes").await.status, 401);
}

#[tokio::test]
async fn csrf_is_required_for_ticket_posts() {
    let (sim, _) = demo_sim(false).await;
    let mut c = Client::new(&sim);
    c.login("root@pam", ROOT_PW).await;
    let mut no_csrf = c.clone();
    no_csrf.csrf = None;
    let path = "/nodes/pve1/qemu/100/migrate";
    let r = no_csrf.post(path, "target=pve2&online=1").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.reason, "Permission denied - invalid csrf token");
    let mut bad = c.clone();
    bad.csrf = Some("6B031900:bogus".into());
    assert_eq!(bad.post(path, "target=pve2&online=1").await.status, 401);
    // GET does not need it
    assert_eq!(no_csrf.get("/nodes").await.status, 200);
    // with the token it works
    let r = c.post(path, "target=pve2&online=1").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r
        .data()
        .as_str()
        .unwrap()
        .ends_with(":qmigrate:100:root@pam:"));
    // API tokens need no CSRF token
    let t = Client::with_token(&sim, ROOT_TOKEN);
    let r = t
        .post("/nodes/pve1/qemu/101/migrate", "target=pve2&online=1")
        .await;
    assert_eq!(r.status, 200);
    assert!(r
        .data()
        .as_str()
        .unwrap()
        .ends_with(":qmigrate:101:root@pam!proxlb:"));
}

#[tokio::test]
async fn token_auth_and_permissions() {
    let (sim, root) = demo_sim(false).await;
    let perms = root.get("/access/permissions").await;
    assert_eq!(perms.status, 200);
    for p in ["Datastore.Audit", "Sys.Audit", "VM.Audit", "VM.Migrate"] {
        assert_eq!(perms.data()["/"][p], 1, "{p}");
    }
    let t = Client::with_token(
        &sim,
        "PVEAPIToken=proxlb@pve!balancer=0d7b2f64-3c1e-4a9b-8f25-6e4d9c0a1b37",
    );
    let perms = t.get("/access/permissions").await;
    let root_privs = perms.data()["/"].as_object().unwrap();
    let mut names: Vec<&str> = root_privs.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        ["Datastore.Audit", "Sys.Audit", "VM.Audit", "VM.Migrate"]
    );
    let one = t.get("/access/permissions?path=/vms/100").await;
    assert_eq!(one.data()["/vms/100"]["VM.Migrate"], 1);
}

#[tokio::test]
async fn missing_privileges_filter_lists_and_forbid_actions() {
    let (sim, _) = demo_sim(false).await;
    let mut auditor = Client::new(&sim);
    assert_eq!(
        auditor.login("auditor@pve", "auditor-demo").await.status,
        200
    );
    let perms = auditor.get("/access/permissions").await;
    assert!(perms.data()["/"].get("VM.Migrate").is_none());
    assert_eq!(perms.data()["/"]["VM.Audit"], 1);
    let r = auditor
        .post("/nodes/pve1/qemu/100/migrate", "target=pve2&online=1")
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.reason, "Permission check failed (/vms/100, VM.Migrate)");

    // A user that may only see pool "prod" sees only its members.
    let scenario = demo().user(
        plb_pve_sim::UserSpec::new("pooly@pve", Some("pw"))
            .acl(plb_pve_sim::AclSpec::new("/pool/prod", ["PVEAuditor"])),
    );
    let sim2 = Simulator::start(scenario, frozen(false)).await.unwrap();
    let mut pooly = Client::new(&sim2);
    assert_eq!(pooly.login("pooly@pve", "pw").await.status, 200);
    let vms = pooly.get("/nodes/pve1/qemu").await;
    let ids: Vec<u64> = vms
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vmid"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [100]);
    let res = pooly.get("/cluster/resources?type=vm").await;
    let mut ids: Vec<u64> = res
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vmid"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [100, 110]);
    // no Sys.Audit on nodes: node entries without stats, status endpoint forbidden
    let nodes = pooly.get("/nodes").await;
    assert!(nodes.data()[0].get("mem").is_none());
    assert_eq!(pooly.get("/nodes/pve1/status").await.status, 403);
    assert_eq!(pooly.get("/cluster/ha/status/current").await.status, 403);
    let pools = pooly.get("/pools").await;
    assert_eq!(pools.data().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_paths_are_501() {
    let (_sim, c) = demo_sim(false).await;
    let r = c.get("/foo").await;
    assert_eq!(r.status, 501);
    assert_eq!(r.reason, "Method 'GET /foo' not implemented");
    assert_eq!(r.body["message"], "Method 'GET /foo' not implemented\n");
    assert!(r.body["data"].is_null());
    let r = c.request("DELETE", "/nodes", None).await;
    assert_eq!(r.status, 501);
    assert_eq!(r.reason, "Method 'DELETE /nodes' not implemented");
    let r = c.get("!/api2/xml/nodes").await;
    assert_eq!(r.status, 501);
}

#[tokio::test]
async fn unknown_parameters_are_400_like_pve() {
    let (_sim, c) = demo_sim(false).await;
    let r = c.get("/nodes?bogus=1").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.reason, "Parameter verification failed.");
    assert_eq!(
        r.body["errors"]["bogus"],
        "property is not defined in schema and the schema does not allow additional properties"
    );
    let r = c.get("/nodes/pve1/rrddata?timeframe=fortnight").await;
    assert_eq!(r.status, 400);
    assert!(r.body["errors"]["timeframe"].is_string());
    let r = c.get("/nodes/pve1/rrddata").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn json_bodies_are_accepted() {
    let (sim, _) = demo_sim(false).await;
    let c = Client::new(&sim);
    let r = c
        .request_with(
            "POST",
            "/access/ticket",
            Some(r#"{"username":"root@pam","password":"pve-sim-demo"}"#),
            "application/json",
        )
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .request_with("POST", "/access/ticket", Some("{nope"), "application/json")
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn request_counts_per_route() {
    let (sim, c) = demo_sim(false).await;
    c.get("/nodes").await;
    c.get("/nodes").await;
    c.get("/nodes/pve1/qemu").await;
    c.get("/nope").await;
    let counts = sim.request_counts();
    assert_eq!(counts["GET /nodes"], 2);
    assert_eq!(counts["GET /nodes/{node}/qemu"], 1);
    assert_eq!(counts["GET <unknown>"], 1);
    sim.reset_request_counts();
    assert!(sim.request_counts().is_empty());
}

#[tokio::test]
async fn injected_faults() {
    let (sim, c) = demo_sim(false).await;
    sim.inject_fault(plb_pve_sim::Fault {
        route: "GET /nodes".into(),
        status: 500,
        message: "injected failure".into(),
        count: 1,
    });
    let r = c.get("/nodes").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.reason, "injected failure");
    assert_eq!(c.get("/nodes").await.status, 200);
}

#[tokio::test]
async fn a_user_with_a_second_factor_stops_at_need_tfa() {
    let scenario =
        demo().user(plb_pve_sim::UserSpec::new("carol@pve", Some("carol-pw")).with_tfa());
    let sim = Simulator::start(scenario, frozen(false)).await.unwrap();
    let mut c = Client::new(&sim);
    let r = c.login("carol@pve", "carol-pw").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["NeedTFA"], 1);
    // The half ticket opens nothing.
    assert_eq!(c.get("/access/permissions").await.status, 401);
    // A wrong password is still a plain refusal.
    assert_eq!(c.login("carol@pve", "wrong").await.status, 401);
    sim.shutdown().await;
}
