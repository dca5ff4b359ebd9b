//! Migrations: tasks with PVE UPIDs, `lock: migrate` while running, the guest and its load on
//! the target afterwards, task status/log/list endpoints, HA migrations, and PVE-like failures.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{demo, demo_sim, Client, ROOT_TOKEN};
use plb_pve_sim::{SimConfig, Simulator, Timing};
use serde_json::Value;

fn find<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|e| e["id"] == id)
}

fn node_mem(nodes: &Value, name: &str) -> u64 {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == name)
        .unwrap()["mem"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn vm_migration_moves_guest_and_load() {
    let (sim, c) = demo_sim(true).await;
    let before = c.get("/nodes").await;
    let r = c
        .post(
            "/nodes/pve1/qemu/103/migrate",
            "target=pve3&online=1&with-local-disks=1&with-conntrack-state=1",
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let upid = r.data().as_str().unwrap().to_string();
    let parts: Vec<&str> = upid.split(':').collect();
    assert_eq!(parts.len(), 9, "{upid}");
    assert_eq!(parts[0], "UPID");
    assert_eq!(parts[1], "pve1");
    for hex in &parts[2..5] {
        assert_eq!(hex.len(), 8, "{upid}");
        assert!(hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }
    assert_eq!(i64::from_str_radix(parts[4], 16).unwrap(), 1_795_365_000);
    assert_eq!(&parts[5..], ["qmigrate", "103", "root@pam!proxlb", ""]);

    // running: lock shows everywhere, guest still on the source
    let st = c.get(&format!("/nodes/pve1/tasks/{upid}/status")).await;
    assert_eq!(st.data()["status"], "running");
    assert_eq!(st.data()["type"], "qmigrate");
    assert_eq!(st.data()["id"], "103");
    assert_eq!(st.data()["user"], "root@pam");
    assert_eq!(st.data()["tokenid"], "proxlb");
    assert!(st.data().get("exitstatus").is_none());
    let res = c.get("/cluster/resources?type=vm").await;
    let g = find(res.data(), "qemu/103").unwrap();
    assert_eq!(g["lock"], "migrate");
    assert_eq!(g["node"], "pve1");
    let cfg = c.get("/nodes/pve1/qemu/103/config").await;
    assert_eq!(cfg.data()["lock"], "migrate");
    let active = c.get("/nodes/pve1/tasks?source=active").await;
    assert_eq!(active.body["total"], 1);
    assert!(active.data()[0].get("status").is_none());
    // a second migration of a locked VM fails like PVE
    let again = c
        .post("/nodes/pve1/qemu/103/migrate", "target=pve2&online=1")
        .await;
    assert_eq!(again.status, 500);
    assert_eq!(again.reason, "VM is locked (migrate)");

    sim.advance(Duration::from_secs(8));
    let st = c.get(&format!("/nodes/pve1/tasks/{upid}/status")).await;
    assert_eq!(st.data()["status"], "stopped");
    assert_eq!(st.data()["exitstatus"], "OK");
    assert_eq!(sim.guest_node(103).as_deref(), Some("pve3"));
    let res = c.get("/cluster/resources?type=vm").await;
    let g = find(res.data(), "qemu/103").unwrap();
    assert_eq!(g["node"], "pve3");
    assert!(g.get("lock").is_none());
    assert_eq!(c.get("/nodes/pve1/qemu/103/config").await.status, 500);
    assert_eq!(c.get("/nodes/pve3/qemu/103/config").await.status, 200);
    let on3: Vec<u64> = c
        .get("/nodes/pve3/qemu")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["vmid"].as_u64().unwrap())
        .collect();
    assert!(on3.contains(&103));

    // the load moved: compare at the same sample instant as a fresh frozen clock would
    let after = c.get("/nodes").await;
    let moved = g["memhost"].as_u64().unwrap();
    let d1 = node_mem(before.data(), "pve1") as i64 - node_mem(after.data(), "pve1") as i64;
    let d3 = node_mem(after.data(), "pve3") as i64 - node_mem(before.data(), "pve3") as i64;
    let tol = (moved / 10) as i64 + (1 << 28);
    assert!(
        (d1 - moved as i64).abs() < tol,
        "pve1 freed {d1}, guest {moved}"
    );
    assert!(
        (d3 - moved as i64).abs() < tol,
        "pve3 gained {d3}, guest {moved}"
    );

    // task log and lists
    let log = c.get(&format!("/nodes/pve1/tasks/{upid}/log")).await;
    let lines: Vec<&str> = log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["t"].as_str().unwrap())
        .collect();
    assert_eq!(log.body["total"].as_u64().unwrap() as usize, lines.len());
    assert!(
        lines[0].ends_with("starting migration of VM 103 to node 'pve3' (10.0.0.13)"),
        "{lines:?}"
    );
    assert!(lines[0].starts_with("2026-11-22 "), "{lines:?}");
    assert_eq!(*lines.last().unwrap(), "TASK OK");
    assert_eq!(log.data()[0]["n"], 1);
    let archive = c
        .get("/nodes/pve1/tasks?typefilter=qmigrate&vmid=103&source=all&start=0&limit=10")
        .await;
    assert_eq!(archive.body["total"], 1);
    assert_eq!(archive.data()[0]["upid"], upid.as_str());
    assert_eq!(archive.data()[0]["status"], "OK");
    assert!(archive.data()[0]["endtime"].as_i64().unwrap() >= 1_795_365_008);
    let cluster_tasks = c.get("/cluster/tasks").await;
    assert_eq!(cluster_tasks.data()[0]["upid"], upid.as_str());
    assert_eq!(c.get("/nodes/pve2/tasks?source=all").await.body["total"], 0);
}

#[tokio::test]
async fn ct_migration_needs_restart() {
    let (sim, c) = demo_sim(false).await;
    let r = c.post("/nodes/pve1/lxc/200/migrate", "target=pve2").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.reason,
        "can't migrate running container without --online or --restart"
    );
    let r = c
        .post("/nodes/pve1/lxc/200/migrate", "target=pve2&online=1")
        .await;
    assert_eq!(r.reason, "lxc live migration is currently not implemented");
    let r = c
        .post("/nodes/pve1/lxc/200/migrate", "target=pve2&restart=1")
        .await;
    assert_eq!(r.status, 200);
    let upid = r.data().as_str().unwrap().to_string();
    assert!(upid.contains(":vzmigrate:200:"));
    sim.advance(Duration::from_secs(10));
    assert_eq!(sim.guest_node(200).as_deref(), Some("pve2"));
    let log = c.get(&format!("/nodes/pve1/tasks/{upid}/log")).await;
    assert!(log.data()[0]["t"]
        .as_str()
        .unwrap()
        .ends_with("shutdown CT 200"));
    // stopped VMs migrate offline without online=1
    let r = c.post("/nodes/pve2/qemu/111/migrate", "target=pve3").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn bad_targets_fail_like_pve() {
    let (sim, c) = demo_sim(false).await;
    sim.set_node_online("pve3", false);
    let cases = [
        ("/nodes/pve1/qemu/100/migrate", "target=pve1&online=1", 400, "Parameter verification failed."),
        ("/nodes/pve1/qemu/100/migrate", "target=pve9&online=1", 500, "no such cluster node 'pve9'"),
        ("/nodes/pve1/qemu/100/migrate", "target=pve3&online=1", 500, "target node 'pve3' is not online"),
        ("/nodes/pve1/qemu/100/migrate", "target=pve2", 500, "can't migrate running VM without --online"),
        ("/nodes/pve1/qemu/999/migrate", "target=pve2&online=1", 500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"),
        ("/nodes/pve2/qemu/100/migrate", "target=pve3&online=1", 500, "Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist"),
        ("/nodes/pve7/qemu/100/migrate", "target=pve2&online=1", 500, "hostname lookup 'pve7' failed - failed to get address info for: pve7: Name or service not known"),
        ("/nodes/pve3/qemu/100/migrate", "target=pve2&online=1", 595, "No route to host"),
        ("/nodes/pve1/qemu/100/migrate", "online=1", 400, "Parameter verification failed."),
        ("/nodes/pve1/qemu/100/migrate", "target=pve2&online=maybe", 400, "Parameter verification failed."),
        ("/nodes/pve1/qemu/100/migrate", "target=pve2&online=1&restart=1", 400, "Parameter verification failed."),
    ];
    for (path, form, status, reason) in cases {
        let r = c.post(path, form).await;
        assert_eq!(r.status, status, "{path} {form}: {:?}", r.body);
        assert_eq!(r.reason, reason, "{path} {form}");
        assert_eq!(r.body["message"], format!("{reason}\n"));
    }
    let r = c
        .post("/nodes/pve1/qemu/100/migrate", "target=pve1&online=1")
        .await;
    assert_eq!(r.body["errors"]["target"], "target is local node.");
    assert!(
        sim.with_cluster(|cl| cl.tasks.is_empty()),
        "no task was created"
    );
    // unknown tasks
    let r = c
        .get("/nodes/pve1/tasks/UPID:pve1:00000001:00000001:6B031900:qmigrate:100:root@pam:/status")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"]["upid"], "no such task");
    let r = c.get("/nodes/pve1/tasks/garbage/status").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"]["upid"], "unable to parse worker upid");
}

#[tokio::test]
async fn ha_guest_migrates_via_hamigrate_then_qmigrate() {
    let (sim, c) = demo_sim(false).await;
    let r = c
        .post("/nodes/pve1/qemu/102/migrate", "target=pve2&online=1")
        .await;
    assert_eq!(r.status, 200);
    let ha = r.data().as_str().unwrap().to_string();
    assert!(ha.contains(":hamigrate:102:root@pam!proxlb:"), "{ha}");
    let cur = c.get("/cluster/ha/status/current").await;
    let svc = find(cur.data(), "service:vm:102").unwrap();
    assert_eq!(svc["state"], "migrate");
    sim.advance(Duration::from_secs(1));
    let st = c.get(&format!("/nodes/pve1/tasks/{ha}/status")).await;
    assert_eq!(st.data()["exitstatus"], "OK");
    let since = st.data()["starttime"].as_i64().unwrap();
    let q = format!(
        "/nodes/pve1/tasks?typefilter=qmigrate&vmid=102&since={since}&source=all&start=0&limit=10"
    );
    assert_eq!(
        c.get(&q).await.body["total"],
        0,
        "HA stack has not picked it up yet"
    );
    sim.advance(Duration::from_secs(2));
    let list = c.get(&q).await;
    assert_eq!(list.body["total"], 1);
    let child = list.data()[0]["upid"].as_str().unwrap().to_string();
    assert!(child.contains(":qmigrate:102:root@pam:"));
    assert!(list.data()[0]["starttime"].as_i64().unwrap() >= since);
    assert_eq!(
        c.get(&format!("/nodes/pve1/tasks/{child}/status"))
            .await
            .data()["status"],
        "running"
    );
    sim.advance(Duration::from_secs(8));
    assert_eq!(
        c.get(&format!("/nodes/pve1/tasks/{child}/status"))
            .await
            .data()["exitstatus"],
        "OK"
    );
    assert_eq!(sim.guest_node(102).as_deref(), Some("pve2"));
    let cur = c.get("/cluster/ha/status/current").await;
    let svc = find(cur.data(), "service:vm:102").unwrap();
    assert_eq!(svc["node"], "pve2");
    assert_eq!(svc["state"], "started");
}

#[tokio::test]
async fn tasks_finish_in_real_time_with_a_fast_clock() {
    let config = SimConfig {
        tls: false,
        time_scale: 20.0,
        timing: Timing {
            migration: 4.0,
            ..Timing::default()
        },
        ..SimConfig::default()
    };
    let sim = Simulator::start(demo(), config).await.unwrap();
    let c = Client::with_token(&sim, ROOT_TOKEN);
    let r = c
        .post("/nodes/pve1/qemu/104/migrate", "target=pve2&online=1")
        .await;
    let upid = r.data().as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let st = c.get(&format!("/nodes/pve1/tasks/{upid}/status")).await;
        if st.data()["status"] == "stopped" {
            assert_eq!(st.data()["exitstatus"], "OK");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "task did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.guest_node(104).as_deref(), Some("pve2"));
}

#[tokio::test]
async fn task_visibility_follows_ownership() {
    let (sim, root) = demo_sim(false).await;
    let r = root
        .post("/nodes/pve1/qemu/100/migrate", "target=pve2&online=1")
        .await;
    let upid = r.data().as_str().unwrap().to_string();
    // proxlb@pve (Sys.Audit on /) may read it; a user without Sys.Audit and not the owner may not
    let scenario_user = plb_pve_sim::UserSpec::new("viewer@pve", Some("pw"))
        .acl(plb_pve_sim::AclSpec::new("/vms", ["VM.Audit"]));
    let sim2 = Simulator::start(demo().user(scenario_user), common::frozen(false))
        .await
        .unwrap();
    let root2 = Client::with_token(&sim2, ROOT_TOKEN);
    let upid2 = root2
        .post("/nodes/pve1/qemu/100/migrate", "target=pve2&online=1")
        .await
        .data()
        .as_str()
        .unwrap()
        .to_string();
    let mut viewer = Client::new(&sim2);
    viewer.login("viewer@pve", "pw").await;
    let r = viewer
        .get(&format!("/nodes/pve1/tasks/{upid2}/status"))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        viewer.get("/nodes/pve1/tasks?source=all").await.body["total"],
        0
    );
    let mut proxlb = Client::new(&sim);
    proxlb.login("proxlb@pve", "proxlb-demo").await;
    assert_eq!(
        proxlb
            .get(&format!("/nodes/pve1/tasks/{upid}/status"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn failing_migration_task_reports_error_and_guest_stays() {
    let (sim, c) = demo_sim(false).await;
    sim.fail_next_migration(101, "migration problems");
    let r = c
        .post("/nodes/pve1/qemu/101/migrate", "target=pve2&online=1")
        .await;
    let upid = r.data().as_str().unwrap().to_string();
    sim.advance(Duration::from_secs(9));
    let st = c.get(&format!("/nodes/pve1/tasks/{upid}/status")).await;
    assert_eq!(st.data()["status"], "stopped");
    assert_eq!(st.data()["exitstatus"], "migration problems");
    assert_eq!(sim.guest_node(101).as_deref(), Some("pve1"));
    let log = c.get(&format!("/nodes/pve1/tasks/{upid}/log")).await;
    let last = log.data().as_array().unwrap().last().unwrap()["t"].clone();
    assert_eq!(last, "TASK ERROR: migration problems");
    let errs = c.get("/nodes/pve1/tasks?errors=1").await;
    assert_eq!(errs.body["total"], 1);
    // the next attempt succeeds
    let r = c
        .post("/nodes/pve1/qemu/101/migrate", "target=pve2&online=1")
        .await;
    assert_eq!(r.status, 200);
    sim.advance(Duration::from_secs(9));
    assert_eq!(sim.guest_node(101).as_deref(), Some("pve2"));
}
