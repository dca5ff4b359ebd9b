//! Read endpoints return the scenario's data in PVE's shapes, and the live views agree with each
//! other and with the RRD data at every instant.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::demo_sim;
use serde_json::Value;

fn by<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[key].as_str() == Some(value))
        .unwrap_or_else(|| panic!("no entry with {key}={value} in {list}"))
}

#[tokio::test]
async fn nodes_list_shape() {
    let (_sim, c) = demo_sim(false).await;
    let r = c.get("/nodes").await;
    let nodes = r.data().as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(names, ["pve1", "pve2", "pve3"]);
    let pve3 = by(r.data(), "node", "pve3");
    assert_eq!(pve3["status"], "online");
    assert_eq!(pve3["maxcpu"], 16);
    assert_eq!(pve3["maxmem"], 64u64 << 30);
    assert_eq!(pve3["maxdisk"], 100u64 << 30);
    assert_eq!(pve3["id"], "node/pve3");
    assert_eq!(pve3["type"], "node");
    let cpu = pve3["cpu"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&cpu));
    // pve1 is much fuller in memory than the others
    let frac = |n: &Value| n["mem"].as_f64().unwrap() / n["maxmem"].as_f64().unwrap();
    let (p1, p2, p3) = (frac(&nodes[0]), frac(&nodes[1]), frac(&nodes[2]));
    assert!(p1 > 0.7, "pve1 {p1}");
    assert!(p2 < 0.2 && p3 < 0.2, "pve2 {p2} pve3 {p3}");
}

#[tokio::test]
async fn node_status_version_and_cluster_status() {
    let (_sim, c) = demo_sim(false).await;
    let s = c.get("/nodes/pve1/status").await;
    assert_eq!(s.status, 200);
    let d = s.data();
    assert_eq!(d["cpuinfo"]["cpus"], 32);
    assert!(d["loadavg"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));
    assert!(d["cpuinfo"]["mhz"].is_string());
    assert_eq!(d["memory"]["total"], 128u64 << 30);
    assert!(d["memory"]["available"].as_u64().unwrap() > 0);
    assert!(d["pveversion"]
        .as_str()
        .unwrap()
        .starts_with("pve-manager/9.1.2/"));
    assert!(d.get("pressurecpusome").is_none(), "no PSI in node status");

    let v = c.get("/nodes/pve2/version").await;
    assert_eq!(v.data()["version"], "9.1.2");
    assert_eq!(v.data()["release"], "9.1");
    assert!(v.data()["repoid"].is_string());

    let cs = c.get("/cluster/status").await;
    let cluster = by(cs.data(), "type", "cluster");
    assert_eq!(cluster["name"], "demo");
    assert_eq!(cluster["quorate"], 1);
    assert_eq!(cluster["nodes"], 3);
    let n1 = by(cs.data(), "name", "pve1");
    assert_eq!(n1["local"], 1);
    assert_eq!(n1["online"], 1);
    assert_eq!(n1["nodeid"], 1);
    assert_eq!(by(cs.data(), "name", "pve2")["local"], 0);

    let unknown = c.get("/nodes/pve9/status").await;
    assert_eq!(unknown.status, 500);
    assert!(unknown.reason.starts_with("hostname lookup 'pve9' failed"));
}

#[tokio::test]
async fn guest_lists_config_and_status() {
    let (_sim, c) = demo_sim(false).await;
    let q = c.get("/nodes/pve1/qemu").await;
    let ids: Vec<u64> = q
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["vmid"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [100, 101, 102, 103, 104, 105]);
    let web01 = by(q.data(), "name", "web01");
    assert_eq!(web01["status"], "running");
    assert_eq!(web01["cpus"], 4);
    assert_eq!(web01["maxmem"], 16u64 << 30);
    assert_eq!(web01["disk"], 0, "qemu disk is always 0");
    assert_eq!(web01["maxdisk"], 32u64 << 30);
    assert_eq!(web01["tags"], "plb_affinity_web;prod");
    assert!(web01["pressurecpusome"].is_number());
    assert!(web01["memhost"].is_u64());
    let mem = web01["mem"].as_u64().unwrap();
    assert!(mem > 11 << 30 && mem < 13 << 30, "{mem}");

    let l = c.get("/nodes/pve2/lxc").await;
    let dns = by(l.data(), "name", "dns01");
    assert_eq!(dns["type"], "lxc");
    assert_eq!(dns["disk"], 2u64 << 30);
    assert!(dns["pressurecpusome"].is_string(), "LXC PSI are strings");
    let stopped = c.get("/nodes/pve3/lxc").await;
    let backup = by(stopped.data(), "name", "backup01");
    assert_eq!(backup["status"], "stopped");
    assert!(backup.get("pressurecpusome").is_none());
    assert_eq!(backup["mem"], 0);

    let cfg = c.get("/nodes/pve1/qemu/102/config").await;
    assert_eq!(cfg.data()["name"], "db01");
    assert_eq!(cfg.data()["memory"], "32768");
    assert_eq!(cfg.data()["cores"], 8);
    assert_eq!(cfg.data()["tags"], "plb_anti_affinity_db;prod");
    assert_eq!(cfg.data()["digest"].as_str().unwrap().len(), 40);
    let ct = c.get("/nodes/pve1/lxc/200/config").await;
    assert_eq!(ct.data()["hostname"], "cache01");
    assert_eq!(ct.data()["memory"], 8192);
    assert!(ct.data().get("tags").is_none());
    let tpl = c.get("/nodes/pve3/qemu/9000/config").await;
    assert_eq!(tpl.data()["template"], 1);

    let st = c.get("/nodes/pve1/qemu/102/status/current").await;
    assert_eq!(st.data()["ha"]["managed"], 1);
    assert_eq!(st.data()["ha"]["state"], "started");
    assert_eq!(st.data()["qmpstatus"], "running");
    let st = c.get("/nodes/pve1/qemu/100/status/current").await;
    assert_eq!(st.data()["ha"]["managed"], 0);

    // wrong node for a guest → PVE's config error; bad vmid → 400
    let r = c.get("/nodes/pve2/qemu/100/config").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.reason,
        "Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist"
    );
    let r = c.get("/nodes/pve1/lxc/100/config").await;
    assert_eq!(r.status, 500);
    assert_eq!(c.get("/nodes/pve1/qemu/abc/config").await.status, 400);
}

#[tokio::test]
async fn rrd_data_shapes() {
    let (_sim, c) = demo_sim(false).await;
    for cf in ["AVERAGE", "MAX"] {
        let r = c
            .get(&format!("/nodes/pve1/rrddata?timeframe=hour&cf={cf}"))
            .await;
        let rows = r.data().as_array().unwrap();
        assert_eq!(rows.len(), 60);
        let last = rows.last().unwrap();
        for k in [
            "time",
            "cpu",
            "memused",
            "memtotal",
            "maxcpu",
            "loadavg",
            "netin",
            "pressurecpusome",
            "pressureiosome",
            "pressureiofull",
            "pressurememorysome",
            "pressurememoryfull",
            "memavailable",
        ] {
            assert!(last.get(k).is_some(), "{k} missing");
        }
        assert!(last.get("pressurecpufull").is_none());
        let times: Vec<i64> = rows.iter().map(|r| r["time"].as_i64().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[1] - w[0] == 60));

        let g = c
            .get(&format!(
                "/nodes/pve1/qemu/100/rrddata?timeframe=hour&cf={cf}"
            ))
            .await;
        let last = g.data().as_array().unwrap().last().unwrap().clone();
        for k in [
            "cpu",
            "mem",
            "maxmem",
            "memhost",
            "pressurecpusome",
            "pressurecpufull",
            "pressureiosome",
            "pressureiofull",
            "pressurememorysome",
            "pressurememoryfull",
            "netin",
            "diskwrite",
        ] {
            assert!(last.get(k).is_some(), "guest {k} missing");
        }
        let ct = c
            .get(&format!(
                "/nodes/pve1/lxc/200/rrddata?timeframe=hour&cf={cf}"
            ))
            .await;
        assert_eq!(ct.status, 200);
        assert!(ct.data()[0].get("memhost").is_none());
    }
    let day = c.get("/nodes/pve1/rrddata?timeframe=day&cf=AVERAGE").await;
    assert_eq!(day.data().as_array().unwrap().len(), 1440);
}

#[tokio::test]
async fn pools_and_ha() {
    let (_sim, c) = demo_sim(false).await;
    let p = c.get("/pools").await;
    assert_eq!(p.data()[0]["poolid"], "prod");
    assert_eq!(p.data()[0]["comment"], "production guests");
    let one = c.get("/pools/prod").await;
    let names: Vec<&str> = one.data()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web01", "app02"]);
    assert_eq!(one.data()["members"][0]["id"], "qemu/100");
    let q = c.get("/pools?poolid=prod").await;
    assert_eq!(q.data()[0]["members"].as_array().unwrap().len(), 2);
    let missing = c.get("/pools/nope").await;
    assert_eq!(missing.status, 500);
    assert_eq!(missing.reason, "pool 'nope' does not exist");

    let rules = c.get("/cluster/ha/rules").await;
    let r0 = &rules.data()[0];
    assert_eq!(r0["rule"], "db-on-big-nodes");
    assert_eq!(r0["type"], "node-affinity");
    assert_eq!(r0["resources"], "vm:102");
    assert_eq!(r0["nodes"], "pve1,pve2");
    assert!(r0.get("affinity").is_none());
    assert_eq!(r0["order"], 1);

    let cur = c.get("/cluster/ha/status/current").await;
    assert_eq!(by(cur.data(), "id", "quorum")["quorate"], 1);
    let svc = by(cur.data(), "id", "service:vm:102");
    assert_eq!(svc["node"], "pve1");
    assert_eq!(svc["state"], "started");
    let lrm = by(cur.data(), "id", "lrm:pve1");
    assert!(lrm["status"]
        .as_str()
        .unwrap()
        .starts_with("pve1 (active, watchdog active, "));
    let ms = c.get("/cluster/ha/status/manager_status").await;
    assert_eq!(ms.data()["manager_status"]["master_node"], "pve1");
    assert_eq!(
        ms.data()["manager_status"]["service_status"]["vm:102"]["node"],
        "pve1"
    );
    let res = c.get("/cluster/ha/resources").await;
    assert_eq!(res.data()[0]["sid"], "vm:102");
    assert_eq!(res.data()[0]["state"], "started");
    let groups = c.get("/cluster/ha/groups").await;
    assert_eq!(groups.status, 500);
    assert_eq!(
        groups.reason,
        "cannot index groups: ha groups have been migrated to rules"
    );

    let opts = c.get("/cluster/options").await;
    assert_eq!(opts.data()["crs"]["ha"], "static");
    assert_eq!(opts.data()["keyboard"], "en-us");
}

#[tokio::test]
async fn maintenance_and_offline_nodes() {
    let (sim, c) = demo_sim(false).await;
    assert!(sim.set_node_maintenance("pve3", true));
    let cur = c.get("/cluster/ha/status/current").await;
    assert!(by(cur.data(), "id", "lrm:pve3")["status"]
        .as_str()
        .unwrap()
        .contains("maintenance mode"));
    let res = c.get("/cluster/resources?type=node").await;
    assert_eq!(by(res.data(), "node", "pve3")["hastate"], "maintenance");

    assert!(sim.set_node_online("pve3", false));
    let nodes = c.get("/nodes").await;
    let pve3 = by(nodes.data(), "node", "pve3");
    assert_eq!(pve3["status"], "offline");
    assert!(pve3.get("mem").is_none());
    let r = c.get("/nodes/pve3/qemu").await;
    assert_eq!(r.status, 595);
    let vms = c.get("/cluster/resources?type=vm").await;
    assert_eq!(by(vms.data(), "name", "proxy01")["status"], "unknown");
    let cs = c.get("/cluster/status").await;
    assert_eq!(by(cs.data(), "name", "pve3")["online"], 0);
    assert_eq!(by(cs.data(), "type", "cluster")["quorate"], 1);
}

#[tokio::test]
async fn cluster_resources_agree_with_nodes_status_and_rrd() {
    let (sim, c) = demo_sim(true).await;
    for round in 0..4 {
        let res = c.get("/cluster/resources").await;
        let nodes = c.get("/nodes").await;
        for name in ["pve1", "pve2", "pve3"] {
            let rn = by(res.data(), "id", &format!("node/{name}"));
            let nn = by(nodes.data(), "node", name);
            for k in [
                "cpu", "mem", "maxmem", "disk", "maxdisk", "maxcpu", "uptime",
            ] {
                assert_eq!(rn[k], nn[k], "round {round} {name} {k}");
            }
            let st = c.get(&format!("/nodes/{name}/status")).await;
            assert_eq!(st.data()["memory"]["used"], nn["mem"]);
            assert_eq!(st.data()["cpu"], nn["cpu"]);
            assert_eq!(st.data()["rootfs"]["used"], nn["disk"]);
            assert_eq!(st.data()["uptime"], nn["uptime"]);
            let rrd = c
                .get(&format!("/nodes/{name}/rrddata?timeframe=hour&cf=AVERAGE"))
                .await;
            let last = rrd.data().as_array().unwrap().last().unwrap();
            assert_eq!(
                last["memused"].as_f64().unwrap(),
                nn["mem"].as_f64().unwrap()
            );
            assert_eq!(last["cpu"], nn["cpu"]);

            // node usage includes its running guests
            let guests: Vec<&Value> = res
                .data()
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| {
                    g["node"] == name && g["status"] == "running" && g.get("vmid").is_some()
                })
                .collect();
            let guest_mem: u64 = guests
                .iter()
                .map(|g| g.get("memhost").unwrap_or(&g["mem"]).as_u64().unwrap())
                .sum();
            let guest_cores: f64 = guests
                .iter()
                .map(|g| g["cpu"].as_f64().unwrap() * g["maxcpu"].as_f64().unwrap())
                .sum();
            assert!(nn["mem"].as_u64().unwrap() > guest_mem, "{name}");
            assert!(
                nn["cpu"].as_f64().unwrap() * nn["maxcpu"].as_f64().unwrap() >= guest_cores - 1e-9
            );
        }
        // guests agree between list, resources and rrd
        let list = c.get("/nodes/pve1/qemu").await;
        for g in list.data().as_array().unwrap() {
            let id = format!("qemu/{}", g["vmid"]);
            let rg = by(res.data(), "id", &id);
            for k in ["cpu", "mem", "maxmem", "status", "uptime", "netin"] {
                assert_eq!(rg[k], g[k], "{id} {k}");
            }
        }
        let grrd = c
            .get("/nodes/pve1/qemu/102/rrddata?timeframe=hour&cf=MAX")
            .await;
        let glast = grrd.data().as_array().unwrap().last().unwrap();
        let g102 = by(res.data(), "id", "qemu/102");
        assert_eq!(
            glast["mem"].as_f64().unwrap(),
            g102["mem"].as_f64().unwrap()
        );
        sim.advance(Duration::from_secs(97));
    }
}

#[tokio::test]
async fn usage_moves_with_time_and_is_seeded() {
    let (sim, c) = demo_sim(false).await;
    let mut seen: BTreeMap<String, f64> = BTreeMap::new();
    let mut values = Vec::new();
    for _ in 0..5 {
        let r = c.get("/cluster/resources?type=vm").await;
        let cpu = by(r.data(), "name", "db01")["cpu"].as_f64().unwrap();
        values.push(cpu);
        seen.insert(format!("{cpu}"), cpu);
        sim.advance(Duration::from_secs(60));
    }
    assert!(seen.len() >= 4, "cpu should move: {values:?}");
    // same scenario + same start time → same values
    let (sim2, c2) = demo_sim(false).await;
    let r = c2.get("/cluster/resources?type=vm").await;
    assert_eq!(
        by(r.data(), "name", "db01")["cpu"].as_f64().unwrap(),
        values[0]
    );
    drop(sim2);
    // cluster/resources includes storage, pools and network entries, with tags and pool
    let all = c.get("/cluster/resources").await;
    assert_eq!(by(all.data(), "id", "pool/prod")["type"], "pool");
    assert_eq!(by(all.data(), "id", "storage/pve1/ceph-vm")["shared"], 1);
    assert_eq!(by(all.data(), "id", "qemu/100")["pool"], "prod");
    assert_eq!(
        by(all.data(), "id", "qemu/100")["tags"],
        "plb_affinity_web;prod"
    );
    assert_eq!(by(all.data(), "id", "qemu/102")["hastate"], "started");
    assert_eq!(by(all.data(), "id", "qemu/9000")["template"], 1);
    assert_eq!(
        by(all.data(), "id", "network/pve1/zone/localnetwork")["type"],
        "network"
    );
}

#[tokio::test]
async fn version_profiles_pve8_and_pve92() {
    use plb_pve_sim::{GuestSpec, NodeSpec, Scenario, Simulator, UserSpec};
    // PVE 8: no HA rules (501), groups list works, no PSI, no memhost, 70-row RRD.
    let pve8 = Scenario::new("old")
        .node(NodeSpec::new("n1", 8, 32).version("8.4.1"))
        .node(NodeSpec::new("n2", 8, 32).version("8.4.1"))
        .guest(GuestSpec::vm(100, "a", "n1").running().memory_gib(4, 2))
        .guest(GuestSpec::ct(200, "b", "n2").running().memory_gib(2, 1))
        .user(UserSpec::new("root@pam", Some("pw")).token("t", "s", false, vec![]));
    let sim = Simulator::start(pve8, common::frozen(false)).await.unwrap();
    let c = common::Client::with_token(&sim, "PVEAPIToken=root@pam!t=s");
    assert_eq!(c.get("/version").await.data()["release"], "8.4");
    let r = c.get("/cluster/ha/rules").await;
    assert_eq!(r.status, 501);
    assert_eq!(r.reason, "Method 'GET /cluster/ha/rules' not implemented");
    assert_eq!(
        c.get("/cluster/ha/groups").await.data(),
        &serde_json::json!([])
    );
    let vm = &c.get("/nodes/n1/qemu").await.data()[0].clone();
    assert!(vm.get("pressurecpusome").is_none() && vm.get("memhost").is_none());
    let rrd = c.get("/nodes/n1/rrddata?timeframe=hour&cf=AVERAGE").await;
    assert_eq!(rrd.data().as_array().unwrap().len(), 70);
    assert!(rrd.data()[69].get("pressurecpusome").is_none());
    assert_eq!(
        c.get("/nodes/n1/rrddata?timeframe=decade").await.status,
        400
    );
    let st = c.get("/nodes/n1/status").await;
    assert!(st.data()["memory"].get("available").is_none());
    let res = c.get("/cluster/resources?type=sdn").await;
    assert_eq!(res.data()[0]["type"], "sdn");

    // PVE 9.2: CRS auto-rebalancing options and host-arch on node resources.
    let yaml = "
cluster:
  name: new
  crs: {ha: dynamic, ha-rebalance-on-start: 1, ha-auto-rebalance: 1, ha-auto-rebalance-threshold: 20}
nodes:
  - {name: n1, cores: 8, memory: 32G, version: 9.2.3}
  - {name: n2, cores: 8, memory: 32G, version: 9.2.3}
users:
  - {userid: root@pam, password: pw}
";
    let s = Scenario::from_yaml_str(yaml).unwrap();
    let sim = Simulator::start(s, common::frozen(false)).await.unwrap();
    let mut c = common::Client::new(&sim);
    c.login("root@pam", "pw").await;
    let o = c.get("/cluster/options").await;
    assert_eq!(o.data()["crs"]["ha"], "dynamic");
    assert_eq!(o.data()["crs"]["ha-auto-rebalance"], 1);
    let res = c.get("/cluster/resources?type=node").await;
    assert_eq!(res.data()[0]["host-arch"], "x86_64");
    // ...and the same options on a 9.1 node are refused when loading the scenario
    let err = Scenario::from_yaml_str(&yaml.replace("9.2.3}\nusers", "9.1.2}\nusers")).unwrap_err();
    assert_eq!(err.field(), Some("cluster.crs"));
}
