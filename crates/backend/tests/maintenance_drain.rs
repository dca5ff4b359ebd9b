//! The maintenance toggle reaches real ProxLB: putting a node into `maintenance_nodes` through
//! the one write path (`ConfigService::set_node`, lossless) makes ProxLB 2.3.0's next run drain
//! it in the simulator; taking it off again lets the next run put guests back on it.
//!
//! ProxLB runs once per step (`daemon: false`) through the process backend, the way ProxLB Web
//! runs it, and must end with exit 0. ProxLB is found via `PROXLB_PYTHON` or
//! `<workspace>/.venv/bin/python` (scripts/setup.sh); the test FAILS when it is missing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use plb_backend::adapters::proxlb::process::{ProcessBackend, ProcessConfig};
use plb_backend::config_store::{ConfigService, FileConfigStore, NodeList};
use plb_backend::ports::ServiceManager;
use plb_domain::proxlb::validate::Context;
use plb_domain::service::ServiceState;
use plb_pve_sim::Simulator;

/// One ProxLB run (`daemon: false`) to its end; it must exit 0.
async fn run_once(sim: &Simulator, config: &Path) {
    let mut process = ProcessConfig::new(common::proxlb_python(), config.to_path_buf());
    process.ca_file = sim.cert().map(|cert| cert.cert_path.clone());
    let backend = ProcessBackend::new(process);
    backend.start().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let status = backend.status().await.unwrap();
        if status.state != ServiceState::Running && status.state != ServiceState::Restarting {
            assert_eq!(status.exit_code, Some(0), "ProxLB's run failed: {status:?}");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ProxLB did not finish: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Running guests on `node` in the simulator.
fn running_on(sim: &Simulator, node: &str) -> Vec<u32> {
    sim.state()
        .guests
        .iter()
        .filter(|g| g.node == node && g.status == "running")
        .map(|g| g.vmid)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_put_into_maintenance_is_drained_by_proxlb_and_refilled_after() {
    plb_backend::tls::install_crypto_provider();
    let sim = common::start_fast_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxlb.yaml");
    std::fs::write(
        &path,
        format!(
            "# edited by the maintenance toggle only\n\
             proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {}\n  token_secret: {}\n\
             \x20 ssl_verification: true\n  timeout: 10\n\
             proxmox_cluster:\n  maintenance_nodes: []  # drained on the next run\n  ignore_nodes: []\n\
             balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 60\n\
             \x20 balanciness: 5\n  method: memory\n  mode: used\n\
             service:\n  daemon: false\n  log_level: INFO\n",
            sim.host_port(),
            common::ROOT_TOKEN_ID,
            common::ROOT_TOKEN_SECRET,
        ),
    )
    .unwrap();
    let config = ConfigService::new(Arc::new(FileConfigStore::new(&path, dir.path())));
    let ctx = Context::default();
    let before = running_on(&sim, "pve2");
    assert!(!before.is_empty(), "the demo has running guests on pve2");

    // On: the next run moves every running guest off pve2.
    config
        .set_node(NodeList::Maintenance, "pve2", true, &ctx)
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# drained on the next run"), "{text}");
    assert!(text.contains("pve2"), "{text}");
    run_once(&sim, &path).await;
    let drained = running_on(&sim, "pve2");
    assert!(
        drained.is_empty(),
        "still on pve2 after the run: {drained:?} (before: {before:?})"
    );

    // Off: pve2 is the emptiest node, so the next run balances guests onto it again.
    config
        .set_node(NodeList::Maintenance, "pve2", false, &ctx)
        .unwrap();
    assert!(!std::fs::read_to_string(&path).unwrap().contains("pve2"));
    run_once(&sim, &path).await;
    let refilled = running_on(&sim, "pve2");
    assert!(!refilled.is_empty(), "nothing moved back onto pve2");
    sim.shutdown().await;
}
