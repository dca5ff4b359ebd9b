//! Scenario files (the shipped demo, errors naming the bad field), start-up refusals and the
//! `pve-sim` binary.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{demo, scenario_path, Client, ROOT_TOKEN};
use plb_pve_sim::{GuestKind, Scenario, SimConfig, SimError, Simulator};
use tokio::io::{AsyncBufReadExt, BufReader};

#[test]
fn demo_scenario_exercises_proxlb_features() {
    let s = demo();
    assert_eq!(s.nodes.len(), 3);
    let tags: Vec<&str> = s
        .guests
        .iter()
        .flat_map(|g| g.tags.iter().map(String::as_str))
        .collect();
    for prefix in [
        "plb_affinity_",
        "plb_anti_affinity_",
        "plb_pin_",
        "plb_ignore",
    ] {
        assert!(tags.iter().any(|t| t.starts_with(prefix)), "{prefix}");
    }
    assert!(tags.contains(&"plb_pin_pve2"));
    assert_eq!(s.pools.len(), 1);
    assert_eq!(s.ha_rules.len(), 1);
    assert!(s
        .guests
        .iter()
        .any(|g| g.kind == GuestKind::Ct && g.status == plb_pve_sim::GuestStatus::Running));
    assert!(s
        .guests
        .iter()
        .any(|g| g.kind == GuestKind::Ct && g.status == plb_pve_sim::GuestStatus::Stopped));
    assert!(s
        .guests
        .iter()
        .any(|g| g.kind == GuestKind::Vm && g.status == plb_pve_sim::GuestStatus::Stopped));
    let root = s.users.iter().find(|u| u.userid == "root@pam").unwrap();
    assert!(root.password.is_some());
    assert_eq!(root.tokens[0].id, "proxlb");
}

#[test]
fn bad_scenario_file_names_the_field() {
    let dir = std::env::temp_dir().join(format!("pve-sim-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(scenario_path("demo-3node.yaml")).unwrap();
    let bad = text.replacen(
        "{name: pve2, cores: 32, memory: 128G",
        "{name: pve2, cores: 32, memory: {lots: true}",
        1,
    );
    assert_ne!(bad, text);
    let path = dir.join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let err = Scenario::from_path(&path).unwrap_err();
    assert_eq!(err.field(), Some("nodes[1].memory"));
    assert!(
        err.to_string()
            .starts_with("nodes[1].memory: invalid type: map"),
        "{err}"
    );

    let bad = text.replacen(
        "node: pve3, status: running",
        "node: pve4, status: running",
        1,
    );
    std::fs::write(&path, bad).unwrap();
    let err = Scenario::from_path(&path).unwrap_err();
    assert_eq!(err.to_string(), "guests[10].node: unknown node \"pve4\"");

    let json = dir.join("bad.json");
    std::fs::write(
        &json,
        r#"{"nodes": [{"name": "a", "cores": 4, "memory": "8G"}], "guests": [{"vmid": "x"}]}"#,
    )
    .unwrap();
    let err = Scenario::from_path(&json).unwrap_err();
    assert_eq!(err.field(), Some("guests[0].vmid"));
    let err = Scenario::from_path(dir.join("missing.yaml")).unwrap_err();
    assert!(err.to_string().contains("cannot read scenario file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn start_refuses_bad_input() {
    let mut s = demo();
    s.guests[0].node = "nowhere".into();
    assert!(matches!(
        Simulator::start(s, SimConfig::default()).await,
        Err(SimError::Scenario(_))
    ));
    let config = SimConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..SimConfig::default()
    };
    assert!(matches!(
        Simulator::start(demo(), config).await,
        Err(SimError::NotLoopback(_))
    ));
}

#[tokio::test]
async fn binary_help_and_run() {
    let exe = env!("CARGO_BIN_EXE_pve-sim");
    let help = tokio::process::Command::new(exe)
        .arg("--help")
        .output()
        .await
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--scenario", "--port", "--http", "--cert-dir"] {
        assert!(text.contains(flag), "{flag} in {text}");
    }
    let cert_dir = std::env::temp_dir().join(format!("pve-sim-bin-{}", std::process::id()));
    let mut child = tokio::process::Command::new(exe)
        .arg("--scenario")
        .arg(scenario_path("demo-3node.yaml"))
        .args(["--port", "0", "--cert-dir"])
        .arg(&cert_dir)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut fingerprint = None;
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(u) = line.strip_prefix("pve-sim listening on ") {
                url = Some(u.to_string());
            }
            if let Some(f) = line.strip_prefix("fingerprint (SHA-256): ") {
                fingerprint = Some(f.to_string());
            }
            if line.starts_with("press Ctrl-C") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap();
    let url = url.unwrap();
    let fingerprint = fingerprint.unwrap();
    assert_eq!(
        std::fs::read_to_string(cert_dir.join("pve-ssl.fingerprint"))
            .unwrap()
            .trim(),
        fingerprint
    );
    let addr: std::net::SocketAddr = url
        .strip_prefix("https://")
        .unwrap()
        .strip_suffix("/api2/json")
        .unwrap()
        .parse()
        .unwrap();
    // Talk to it with a pinned client.
    let sim_like = Client::for_addr(addr, Some(fingerprint), Some(ROOT_TOKEN));
    let r = sim_like.get("/nodes").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data().as_array().unwrap().len(), 3);
    child.kill().await.unwrap();
    std::fs::remove_dir_all(&cert_dir).unwrap();
}
