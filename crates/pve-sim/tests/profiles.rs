//! Version profiles: a PVE 8 cluster (HA groups instead of rules, no PSI, old RRD layout) and a
//! mixed 8/9 cluster during an upgrade (per-node profiles; groups not yet migrated to rules).
#![allow(clippy::unwrap_used)]

mod common;

use common::Client;
use plb_pve_sim::{
    Affinity, GuestSpec, HaRuleSpec, HaRuleType, NodeSpec, Scenario, Simulator, UserSpec,
};
use serde_json::{json, Value};

const PSI: [&str; 6] = [
    "pressurecpusome",
    "pressurecpufull",
    "pressureiosome",
    "pressureiofull",
    "pressurememorysome",
    "pressurememoryfull",
];

fn has_psi(v: &Value) -> bool {
    PSI.iter().any(|k| v.get(*k).is_some())
}

fn rows_have_psi(rows: &Value) -> bool {
    rows.as_array().unwrap().iter().any(has_psi)
}

/// n1..n3 with the given versions; HA VM 100 on n1 in node-affinity rule `ha-group-db`, HA VMs
/// 101/102 kept apart, a running CT on every node.
fn cluster(versions: [&str; 3]) -> Scenario {
    let mut s = Scenario::new("upgrade")
        .user(UserSpec::new("root@pam", Some("pw")).token("t", "s", false, vec![]))
        .ha_rule(HaRuleSpec {
            rule: "ha-group-db".into(),
            kind: HaRuleType::NodeAffinity,
            resources: vec!["vm:100".into()],
            nodes: vec!["n1:2".into(), "n2".into()],
            affinity: None,
            strict: true,
            disable: false,
            comment: None,
        })
        .ha_rule(HaRuleSpec {
            rule: "apart".into(),
            kind: HaRuleType::ResourceAffinity,
            resources: vec!["vm:101".into(), "vm:102".into()],
            nodes: vec![],
            affinity: Some(Affinity::Negative),
            strict: false,
            disable: false,
            comment: None,
        });
    for (i, v) in versions.iter().enumerate() {
        let n = format!("n{}", i + 1);
        s = s
            .node(NodeSpec::new(&n, 16, 64).version(*v))
            .guest(
                GuestSpec::vm(100 + i as u32, format!("vm{i}"), &n)
                    .running()
                    .memory_gib(8, 4)
                    .ha(),
            )
            .guest(
                GuestSpec::ct(200 + i as u32, format!("ct{i}"), &n)
                    .running()
                    .memory_gib(2, 1),
            );
    }
    s
}

async fn start(s: Scenario) -> (Simulator, Client) {
    let sim = Simulator::start(s, common::frozen(false)).await.unwrap();
    let c = Client::with_token(&sim, "PVEAPIToken=root@pam!t=s");
    (sim, c)
}

#[tokio::test]
async fn pve8_has_ha_groups_no_rules_and_no_psi() {
    let (_sim, c) = start(cluster(["8.4.1", "8.4.1", "8.4.1"])).await;
    for n in ["n1", "n2", "n3"] {
        let v = c.get(&format!("/nodes/{n}/version")).await;
        assert_eq!(v.data()["version"], "8.4.1");
        assert_eq!(v.data()["release"], "8.4");
    }
    let r = c.get("/cluster/ha/rules").await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (501, "Method 'GET /cluster/ha/rules' not implemented")
    );
    let groups = c.get("/cluster/ha/groups").await;
    assert_eq!(groups.status, 200);
    let g = &groups.data()[0];
    assert_eq!(
        groups.data().as_array().unwrap().len(),
        1,
        "resource-affinity has no group form"
    );
    assert_eq!(
        (
            &g["group"],
            &g["type"],
            &g["nodes"],
            &g["restricted"],
            &g["nofailback"]
        ),
        (
            &json!("db"),
            &json!("group"),
            &json!("n1:2,n2"),
            &json!(1),
            &json!(0)
        )
    );
    assert!(g["digest"].is_string());
    let res = c.get("/cluster/ha/resources").await;
    let vm100 = res
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sid"] == "vm:100")
        .unwrap()
        .clone();
    assert_eq!(vm100["group"], "db");
    assert!(vm100.get("failback").is_none(), "failback is PVE 9");
    // No PSI anywhere, old RRD layout.
    for kind in ["qemu", "lxc"] {
        let list = c.get(&format!("/nodes/n1/{kind}")).await;
        assert!(!rows_have_psi(list.data()), "{kind}");
        let st = c
            .get(&format!(
                "/nodes/n1/{kind}/{}/status/current",
                if kind == "qemu" { 100 } else { 200 }
            ))
            .await;
        assert!(!has_psi(st.data()));
    }
    let rrd = c.get("/nodes/n1/rrddata?timeframe=hour&cf=AVERAGE").await;
    assert_eq!(rrd.data().as_array().unwrap().len(), 70);
    assert!(!rows_have_psi(rrd.data()));
    assert!(rrd.data()[69].get("memavailable").is_none());
    let rrd = c.get("/nodes/n1/qemu/100/rrddata?timeframe=hour").await;
    assert!(!rows_have_psi(rrd.data()));
    assert!(rrd.data()[69].get("memhost").is_none());
    assert_eq!(
        c.get("/nodes/n1/rrddata?timeframe=decade").await.status,
        400
    );
}

#[tokio::test]
async fn mixed_cluster_uses_per_node_profiles() {
    // Answered by n1 (PVE 9), n2 still on PVE 8.
    let (_sim, c) = start(cluster(["9.1.2", "8.4.1", "9.1.2"])).await;
    assert_eq!(c.get("/version").await.data()["release"], "9.1");
    assert_eq!(c.get("/nodes/n1/version").await.data()["version"], "9.1.2");
    assert_eq!(c.get("/nodes/n2/version").await.data()["version"], "8.4.1");
    // Guest lists, status and RRD follow the node's own version.
    assert!(rows_have_psi(c.get("/nodes/n1/qemu").await.data()));
    assert!(!rows_have_psi(c.get("/nodes/n2/qemu").await.data()));
    assert!(rows_have_psi(c.get("/nodes/n3/lxc").await.data()));
    assert!(!rows_have_psi(c.get("/nodes/n2/lxc").await.data()));
    let r1 = c.get("/nodes/n1/rrddata?timeframe=hour").await;
    let r2 = c.get("/nodes/n2/rrddata?timeframe=hour").await;
    assert_eq!(r1.data().as_array().unwrap().len(), 60);
    assert_eq!(r2.data().as_array().unwrap().len(), 70);
    assert!(rows_have_psi(r1.data()) && !rows_have_psi(r2.data()));
    assert!(c.get("/nodes/n1/status").await.data()["memory"]
        .get("available")
        .is_some());
    assert!(c.get("/nodes/n2/status").await.data()["memory"]
        .get("available")
        .is_none());
    let res = c.get("/cluster/resources?type=vm").await;
    let memhost = |vmid: u64| {
        res.data()
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["vmid"] == vmid)
            .unwrap()
            .get("memhost")
            .is_some()
    };
    assert!(memhost(100) && !memhost(101) && memhost(102));
    // Groups are not migrated while a node runs PVE 8: groups are served, rules only hold the
    // non-group (resource-affinity) rules, resources name their group.
    let groups = c.get("/cluster/ha/groups").await;
    assert_eq!(groups.status, 200);
    assert_eq!(groups.data()[0]["group"], "db");
    let rules = c.get("/cluster/ha/rules").await;
    assert_eq!(rules.status, 200);
    let names: Vec<&str> = rules
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apart"]);
    let res = c.get("/cluster/ha/resources").await;
    assert_eq!(
        res.data()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["sid"] == "vm:100")
            .unwrap()["group"],
        "db"
    );

    // All nodes on 9: groups migrated (500), the rule is a rule.
    let (_sim, c) = start(cluster(["9.1.2", "9.0.3", "9.1.2"])).await;
    let r = c.get("/cluster/ha/groups").await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (
            500,
            "cannot index groups: ha groups have been migrated to rules"
        )
    );
    let rules = c.get("/cluster/ha/rules").await;
    assert_eq!(rules.data().as_array().unwrap().len(), 2);
    let res = c.get("/cluster/ha/resources").await;
    assert!(res
        .data()
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.get("group").is_none() && r["failback"] == 1));

    // Answered by a PVE 8 node: no rules endpoint at all.
    let (_sim, c) = start(cluster(["8.4.1", "9.1.2", "9.1.2"])).await;
    assert_eq!(c.get("/cluster/ha/rules").await.status, 501);
    assert_eq!(c.get("/version").await.data()["release"], "8.4");
    assert!(rows_have_psi(c.get("/nodes/n2/qemu").await.data()));
}
