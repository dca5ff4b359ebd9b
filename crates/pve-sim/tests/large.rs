//! The generated large scenario (64 nodes, 10,000 guests): it starts, `/cluster/resources` has
//! every node and guest, and the per-node guest lists agree with it. Timings are printed, not
//! asserted.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Client, ROOT_TOKEN};
use plb_pve_sim::generate::{LARGE_GUESTS, LARGE_NODES};
use plb_pve_sim::{Scenario, Simulator};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn large_cluster_resources_and_guest_lists_agree() {
    let t = Instant::now();
    let scenario = Scenario::generated_large(42);
    let generated = t.elapsed();
    let sim = Simulator::start(scenario, common::frozen(false))
        .await
        .unwrap();
    let started = t.elapsed();
    let c = Client::with_token(&sim, ROOT_TOKEN);

    let t = Instant::now();
    let r = c.get("/cluster/resources").await;
    let took = t.elapsed();
    assert_eq!(r.status, 200);
    let list = r.data().as_array().unwrap();
    let bytes = r.body.to_string().len();
    eprintln!(
        "large scenario: generated in {generated:?}, started in {started:?}; /cluster/resources: {} entries, {bytes} bytes, {took:?}",
        list.len()
    );
    let of = |t: &str| list.iter().filter(|e| e["type"] == t).collect::<Vec<_>>();
    assert_eq!(of("node").len(), LARGE_NODES);
    let guests: Vec<&Value> = list
        .iter()
        .filter(|e| e["type"] == "qemu" || e["type"] == "lxc")
        .collect();
    assert_eq!(guests.len(), LARGE_GUESTS);
    assert!(of("qemu").len() > 6_000 && of("lxc").len() > 2_000);
    assert_eq!(of("pool").len(), 8);
    assert!(guests.iter().any(|g| g["hastate"].is_string()));
    for prefix in [
        "plb_affinity_",
        "plb_anti_affinity_",
        "plb_pin_",
        "plb_ignore",
    ] {
        assert!(
            guests
                .iter()
                .any(|g| g["tags"].as_str().is_some_and(|t| t.contains(prefix))),
            "{prefix}"
        );
    }

    // Every node's qemu/lxc lists hold exactly the guests /cluster/resources puts there.
    let by_id: BTreeMap<u64, &Value> = guests
        .iter()
        .map(|g| (g["vmid"].as_u64().unwrap(), *g))
        .collect();
    let mut seen = 0;
    let t = Instant::now();
    for node in of("node") {
        let name = node["node"].as_str().unwrap();
        for kind in ["qemu", "lxc"] {
            let r = c.get(&format!("/nodes/{name}/{kind}")).await;
            assert_eq!(r.status, 200);
            for g in r.data().as_array().unwrap() {
                let res = by_id[&g["vmid"].as_u64().unwrap()];
                assert_eq!(res["node"], name);
                assert_eq!(res["type"], kind);
                for key in [
                    "name", "status", "maxmem", "maxdisk", "mem", "cpu", "uptime",
                ] {
                    assert_eq!(res[key], g[key], "{kind} {} {key}", g["vmid"]);
                }
                assert_eq!(res["maxcpu"], g["cpus"]);
                seen += 1;
            }
        }
    }
    eprintln!("large scenario: 128 guest lists in {:?}", t.elapsed());
    assert_eq!(seen, LARGE_GUESTS);

    // Node usage in /cluster/resources is the sum of its running guests (plus host overhead).
    let nodes = c.get("/nodes").await;
    assert_eq!(nodes.data().as_array().unwrap().len(), LARGE_NODES);
    let rules = c.get("/cluster/ha/rules").await;
    assert!(!rules.data().as_array().unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn binary_serves_generated_clusters() {
    let exe = env!("CARGO_BIN_EXE_pve-sim");
    for args in [&["--generate", "4x50"][..], &["--scenario", "large"][..]] {
        let mut child = tokio::process::Command::new(exe)
            .args(args)
            .args(["--port", "0", "--http"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = None;
        let mut summary = None;
        let read = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(u) = line.strip_prefix("pve-sim listening on ") {
                    url = Some(u.to_string());
                }
                if line.starts_with("pve-sim: ") {
                    summary = Some(line.clone());
                }
                if line.starts_with("press Ctrl-C") {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .unwrap();
        let summary = summary.unwrap();
        eprintln!("{args:?}: {summary}");
        let (nodes, guests) = if args[0] == "--generate" {
            (4, 50)
        } else {
            (LARGE_NODES, LARGE_GUESTS)
        };
        assert!(
            summary.starts_with(&format!(
                "pve-sim: {nodes} nodes, {guests} guests, started in "
            )),
            "{summary}"
        );
        let addr = url
            .unwrap()
            .strip_prefix("http://")
            .unwrap()
            .strip_suffix("/api2/json")
            .unwrap()
            .parse()
            .unwrap();
        let c = Client::for_addr(addr, None, Some(ROOT_TOKEN));
        let r = c.get("/cluster/resources?type=vm").await;
        assert_eq!(r.data().as_array().unwrap().len(), guests);
        child.kill().await.unwrap();
    }
    let bad = tokio::process::Command::new(exe)
        .args(["--generate", "lots", "--port", "0"])
        .output()
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
