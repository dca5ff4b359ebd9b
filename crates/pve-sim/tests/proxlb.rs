//! Real ProxLB 2.3.0 against the simulator: a dry run (`-d -j`) whose JSON plan and request
//! counts are checked, then a real run whose migrations must land exactly as planned.
//!
//! ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python` (installed by
//! `scripts/setup.sh`). If it is missing the test FAILS: it never passes silently.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{demo, Client, ROOT_PW, ROOT_TOKEN};
use plb_pve_sim::{SimConfig, Simulator, Timing};
use serde_json::Value;

fn proxlb_python() -> PathBuf {
    let path = std::env::var_os("PROXLB_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "ProxLB is not installed: {} does not exist. Run scripts/setup.sh (it installs ProxLB 2.3.0 \
         into <workspace>/.venv) or set PROXLB_PYTHON to a python that has proxlb installed.",
        path.display()
    );
    path
}

/// Auth part of the ProxLB config.
enum Auth {
    Password,
    Token,
}

fn write_config(dir: &Path, sim: &Simulator, auth: Auth) -> PathBuf {
    let auth = match auth {
        Auth::Password => format!("  user: root@pam\n  pass: {ROOT_PW}\n"),
        Auth::Token => {
            let secret = ROOT_TOKEN.rsplit_once('=').unwrap().1;
            format!("  user: root@pam\n  token_id: proxlb\n  token_secret: {secret}\n")
        }
    };
    let cfg = format!(
        "proxmox_api:\n  hosts: [\"{}\"]\n{auth}  ssl_verification: false\n  timeout: 10\n\
         proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
         balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 12\n\
         \x20 balanciness: 10\n  method: memory\n  mode: used\n  live: true\n  with_local_disks: true\n\
         \x20 parallel: true\n  parallel_jobs: 4\n\
         service:\n  daemon: false\n  log_level: DEBUG\n",
        sim.host_port()
    );
    let path = dir.join("proxlb.yaml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// Runs `python -m proxlb -c cfg args...` with a hard timeout (the child is killed by PID).
async fn run_proxlb(python: &Path, dir: &Path, cfg: &Path, args: &[&str]) -> (i32, String) {
    let mut child = tokio::process::Command::new(python)
        .args(["-m", "proxlb", "-c"])
        .arg(cfg)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read_all = |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>| async move {
        let mut s = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut r, &mut s)
            .await
            .unwrap();
        s
    };
    let out = tokio::spawn(read_all(Box::new(stdout)));
    let err = tokio::spawn(read_all(Box::new(stderr)));
    let status = match tokio::time::timeout(Duration::from_secs(150), child.wait()).await {
        Ok(status) => status.unwrap(),
        Err(_) => {
            child.kill().await.unwrap();
            panic!("ProxLB (pid {pid:?}) did not finish within 150 s; killed");
        }
    };
    let text = format!("{}{}", out.await.unwrap(), err.await.unwrap());
    (status.code().unwrap_or(-1), text)
}

/// The `-j` JSON block: from a line equal to `{` to the last line equal to `}`.
fn json_block(output: &str) -> Value {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "{")
        .unwrap_or_else(|| panic!("no JSON in:\n{output}"));
    let end = lines.iter().rposition(|l| *l == "}").unwrap();
    serde_json::from_str(&lines[start..=end].join("\n")).unwrap()
}

/// (name, vmid, type, from, to) of every guest ProxLB plans to move.
fn planned_moves(plan: &Value) -> BTreeSet<(String, u64, String, String, String)> {
    plan["guests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, g)| g["node_current"] != g["node_target"])
        .map(|(name, g)| {
            (
                name.clone(),
                g["id"].as_u64().unwrap(),
                g["type"].as_str().unwrap().to_string(),
                g["node_current"].as_str().unwrap().to_string(),
                g["node_target"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxlb_plans_and_migrates_against_the_simulator() {
    let python = proxlb_python();
    let config = SimConfig {
        tls: true,
        noise: 0.0,
        timing: Timing {
            migration: 2.0,
            ha_request: 1.0,
            ha_delay: 1.0,
            ..Timing::default()
        },
        ..SimConfig::default()
    };
    let sim = Simulator::start(demo(), config).await.unwrap();
    let dir = scratch("plan");

    // --- dry run with an API token ---
    let cfg = write_config(&dir, &sim, Auth::Token);
    let (code, out) = run_proxlb(&python, &dir, &cfg, &["-d", "-j"]).await;
    assert_eq!(code, 0, "dry run failed:\n{out}");
    let plan = json_block(&out);
    let counts = sim.request_counts();
    assert!(
        sim.with_cluster(|c| c.tasks.is_empty()),
        "a dry run must not migrate"
    );

    // The plan reflects the scenario's rules.
    let guests = plan["guests"].as_object().unwrap();
    assert_eq!(guests.len(), 10, "running guests only: {:?}", guests.keys());
    assert_eq!(guests["legacy01"]["ignore"], true);
    assert_eq!(guests["legacy01"]["node_target"], "pve1");
    assert_eq!(
        guests["app01"]["node_target"], "pve2",
        "pinned by plb_pin_pve2"
    );
    assert_ne!(
        guests["db01"]["node_target"], guests["db02"]["node_target"],
        "anti-affinity group plb_anti_affinity_db"
    );
    assert!(plan["groups"]["anti_affinity"]["plb_anti_affinity_db"].is_object());
    assert!(plan["groups"]["affinity"]["plb_affinity_web"].is_object());
    assert_eq!(
        plan["ha_rules"]["db-on-big-nodes"]["members"],
        serde_json::json!([102])
    );
    let mut pool = plan["pools"]["prod"]["members"].as_array().unwrap().clone();
    pool.sort_by_key(|v| v.to_string());
    assert_eq!(
        pool,
        [serde_json::json!("app02"), serde_json::json!("web01")]
    );
    assert_eq!(plan["nodes"]["pve1"]["pve_version"], "9.1.2");
    let moves = planned_moves(&plan);
    assert!(
        !moves.is_empty(),
        "pve1 is overloaded, ProxLB must plan moves"
    );
    assert!(
        moves.iter().all(|m| m.3 == "pve1"),
        "only pve1 sheds load: {moves:?}"
    );

    // One iteration's requests, per route, as ProxLB 2.3.0 issues them: nodes
    // (`proxlb/models/nodes.py:51-137`), pools (`proxlb/models/pools.py:63-82`), HA rules
    // (`proxlb/models/ha_rules.py:71-102`), guests (`proxlb/models/guests.py:78-193`).
    let n = 3u64;
    let g = 10u64; // running guests
    let p = 1u64;
    let expected: BTreeMap<&str, u64> = [
        ("GET /access/permissions", 1),
        ("GET /nodes", 1),
        ("GET /nodes/{node}/rrddata", 2 * n),
        ("GET /nodes/{node}/version", n),
        ("GET /cluster/ha/status/current", n),
        ("GET /pools", 1),
        ("GET /pools/{poolid}", p),
        ("GET /cluster/ha/rules", 1),
        ("GET /nodes/{node}/qemu", n),
        ("GET /nodes/{node}/lxc", n),
        ("GET /nodes/{node}/qemu/{vmid}/config", 7),
        ("GET /nodes/{node}/lxc/{vmid}/config", 3),
        ("GET /nodes/{node}/qemu/{vmid}/rrddata", 14),
        ("GET /nodes/{node}/lxc/{vmid}/rrddata", 6),
    ]
    .into_iter()
    .collect();
    let actual: BTreeMap<&str, u64> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(actual, expected, "request counts of one dry-run iteration");
    let total: u64 = actual.values().sum();
    // Per node 4 (2 RRD, version, HA status) and 2 guest lists; 1 + P for pools, 1 for HA rules,
    // 3 per running guest (config, 2 RRD); + /pools and /access/permissions at startup.
    assert_eq!(total, 4 * n + 2 * n + 1 + p + 1 + 3 * g + 2);
    println!("ProxLB dry-run requests: {total} {actual:?}");

    // --- real run with a password (ticket + CSRF on the migrate POSTs) ---
    sim.reset_request_counts();
    let cfg = write_config(&dir, &sim, Auth::Password);
    let (code, out) = run_proxlb(&python, &dir, &cfg, &["-j"]).await;
    assert_eq!(code, 0, "real run failed:\n{out}");
    let real_plan = json_block(&out);
    assert_eq!(
        planned_moves(&real_plan),
        moves,
        "same plan in the real run"
    );
    let started: BTreeSet<(String, String, String, String)> = out
        .lines()
        .filter_map(|l| l.split_once("Balancing: Starting to migrate ").map(|x| x.1))
        .map(|rest| {
            // "VM guest web01 from pve1 to pve3."
            let w: Vec<&str> = rest.trim_end_matches('.').split(' ').collect();
            (
                w[2].to_string(),
                w[0].to_string(),
                w[4].to_string(),
                w[6].to_string(),
            )
        })
        .collect();
    let expected_started: BTreeSet<(String, String, String, String)> = moves
        .iter()
        .map(|(name, _, ty, from, to)| (name.clone(), ty.to_uppercase(), from.clone(), to.clone()))
        .collect();
    assert_eq!(
        started, expected_started,
        "ProxLB's 'Starting to migrate' lines"
    );
    assert!(!out.contains("went into an error"), "{out}");
    assert!(!out.contains("Failed to migrate"), "{out}");
    assert!(out.contains("Finished: Balancing loop for guests."));

    // The simulator now has every guest where the plan put it, and every task ended OK.
    for (name, vmid, _, _, to) in &moves {
        assert_eq!(
            sim.guest_node(*vmid as u32).as_deref(),
            Some(to.as_str()),
            "{name}"
        );
    }
    let (tasks, locks) = sim.with_cluster(|c| {
        let tasks: Vec<(String, String, Option<String>)> = c
            .tasks
            .iter()
            .map(|t| {
                (
                    t.upid.task_type.clone(),
                    t.upid.id.clone(),
                    t.exitstatus.clone(),
                )
            })
            .collect();
        let locks: Vec<u32> = c
            .guests
            .values()
            .filter(|g| g.lock.is_some())
            .map(|g| g.spec.vmid)
            .collect();
        (tasks, locks)
    });
    assert!(locks.is_empty(), "no guest stays locked: {locks:?}");
    assert!(
        tasks.iter().all(|t| t.2.as_deref() == Some("OK")),
        "{tasks:?}"
    );
    let migrations = tasks
        .iter()
        .filter(|t| t.0 == "qmigrate" || t.0 == "vzmigrate")
        .count();
    assert_eq!(migrations, moves.len(), "{tasks:?}");
    let ha_moves = moves.iter().filter(|m| m.1 == 102).count();
    assert_eq!(
        tasks.iter().filter(|t| t.0 == "hamigrate").count(),
        ha_moves
    );
    let real_counts = sim.request_counts();
    assert_eq!(real_counts["POST /access/ticket"], 1);
    assert_eq!(
        real_counts["POST /nodes/{node}/qemu/{vmid}/migrate"]
            + real_counts
                .get("POST /nodes/{node}/lxc/{vmid}/migrate")
                .copied()
                .unwrap_or(0),
        moves.len() as u64
    );
    println!("ProxLB real-run requests: {real_counts:?}");

    // The dashboard's view agrees: cluster tasks all OK.
    let client = Client::with_token(&sim, ROOT_TOKEN);
    let ct = client.get("/cluster/tasks").await;
    assert_eq!(ct.data().as_array().unwrap().len(), tasks.len());
    assert!(ct
        .data()
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "OK"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A scratch folder per test (the tests of this file may run in parallel).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pve-sim-proxlb-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo scenario without noise: usage stays at the scenario's values.
async fn start_quiet_demo() -> Simulator {
    let config = SimConfig {
        noise: 0.0,
        ..SimConfig::default()
    };
    Simulator::start(demo(), config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_node_prints_the_least_loaded_node() {
    let python = proxlb_python();
    let sim = start_quiet_demo().await;
    let dir = scratch("best");
    let cfg = write_config(&dir, &sim, Auth::Token);
    // `-b` prints one node name after data collection; `-d` keeps ProxLB from migrating if none
    // is eligible (`proxlb/models/calculations.py:302-307`).
    let (code, out) = run_proxlb(&python, &dir, &cfg, &["-b", "-d"]).await;
    assert_eq!(code, 0, "-b failed:\n{out}");
    let last = out
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    // pve1 carries ~84 % memory in the demo; pve3 (~7 %) and pve2 (~7 %) are the candidates, and
    // with noise off pve3 is the lowest by memory used.
    assert_eq!(last, "pve3", "unexpected best node in:\n{out}");
    assert!(
        sim.with_cluster(|c| c.tasks.is_empty()),
        "-b -d must not migrate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulted_simulator_makes_proxlb_fail_as_upstream_documents() {
    let python = proxlb_python();
    let sim = start_quiet_demo().await;
    let dir = scratch("fault");

    // A 5xx after login crashes ProxLB with proxmoxer's ResourceException and exit code 1.
    sim.inject_fault(plb_pve_sim::Fault::error(
        "GET /nodes",
        500,
        "Internal Server Error",
    ));
    let cfg = write_config(&dir, &sim, Auth::Token);
    let (code, out) = run_proxlb(&python, &dir, &cfg, &["-d"]).await;
    assert_eq!(code, 1, "expected exit 1 on a 500 from /nodes:\n{out}");
    assert!(
        out.contains("ResourceException") && out.contains("500"),
        "{out}"
    );
    sim.clear_faults();

    // A wrong password at the ticket login: "Authentication failed" and exit code 2.
    let cfg = write_config(&dir, &sim, Auth::Password);
    let bad = dir.join("bad.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &bad,
        text.replace(&format!("pass: {ROOT_PW}"), "pass: not-the-password"),
    )
    .unwrap();
    let (code, out) = run_proxlb(&python, &dir, &bad, &["-d"]).await;
    assert_eq!(code, 2, "expected exit 2 on bad credentials:\n{out}");
    assert!(out.contains("Authentication failed"), "{out}");
}
