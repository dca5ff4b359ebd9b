//! Demo mode runs real ProxLB 2.3.0: `demo::wire` with `PROXLB_DEMO_PROXLB` on starts ProxLB
//! through the process backend against the embedded simulator (TLS verified through the
//! simulator's CA), its lines reach the log service, and it migrates guests in the simulated
//! cluster. Without ProxLB the Service panel says so, with the demo's hint.
//!
//! ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python` (installed by
//! `scripts/setup.sh`). If it is missing the test FAILS: it never passes silently.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use plb_backend::{DemoScenario, Settings};
use plb_domain::service::{BackendKind, ProblemKind, ServiceState};
use proxlb_web::server::demo;

fn settings(data_dir: &std::path::Path, python: PathBuf) -> Settings {
    Settings {
        demo: true,
        demo_scenario: DemoScenario::ThreeNode,
        demo_proxlb: Some(true),
        proxlb_python: Some(python),
        data_dir: data_dir.to_path_buf(),
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_real_proxlb_which_migrates_guests() {
    plb_backend::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let (state, demo) = demo::wire(settings(dir.path(), support::proxlb_python()))
        .await
        .unwrap();
    let demo = demo.unwrap();
    let before = demo.simulator.state();
    let mut entries = state.proxlb.logs.subscribe_entries();

    // Lines arrive through the log service: ProxLB connected and started migrating.
    let mut seen = Vec::new();
    let wait = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(entry) = entries.next().await {
            seen.push(entry.raw.clone());
            if entry.raw.contains("Balancing: Starting to migrate") {
                return;
            }
        }
    })
    .await;
    assert!(
        wait.is_ok(),
        "no migration line within 120 s:\n{}",
        seen.join("\n")
    );
    assert!(
        seen.iter()
            .any(|line| line.contains("API connection to host")),
        "{seen:#?}"
    );

    let status = state.proxlb.refresh().await;
    assert_eq!(status.backend, BackendKind::Process);
    assert_eq!(status.state, ServiceState::Running, "{status:?}");
    assert_eq!(status.version.as_deref(), Some("2.3.0"));

    // A guest really moves in the simulated cluster.
    let moved = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let now = demo.simulator.state();
            let changed = now.guests.iter().any(|guest| {
                before
                    .guests
                    .iter()
                    .any(|old| old.vmid == guest.vmid && old.node != guest.node)
            });
            if changed {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    assert!(moved.is_ok(), "no guest moved within 120 s");

    // Server shutdown stops ProxLB gracefully (SIGINT → exit 0).
    state.proxlb.shutdown().await;
    let status = state.proxlb.refresh().await;
    assert_eq!(status.state, ServiceState::Stopped, "{status:?}");
    assert_eq!(status.exit_code, Some(0));
    state.shutdown.cancel();
}

#[tokio::test]
async fn without_proxlb_the_demo_says_so_and_everything_else_works() {
    plb_backend::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let python = PathBuf::from("/nonexistent/venv/bin/python3");
    let (state, demo) = demo::wire(settings(dir.path(), python)).await.unwrap();
    assert!(demo.is_some());
    let status = state.proxlb.refresh().await;
    assert_eq!(status.state, ServiceState::Unknown);
    let problem = status.problem.unwrap();
    assert_eq!(problem.kind, ProblemKind::InterpreterMissing);
    assert!(
        problem.hint.contains("Demo mode runs real ProxLB"),
        "{}",
        problem.hint
    );
    state.shutdown.cancel();
}
