//! "Run now" end to end: the application as the composition root builds it, with the process
//! backend running real ProxLB 2.3.0 against the simulator. ProxLB is stopped at first; run now
//! starts it, the run migrates guests in the simulator, a second run now while it runs is
//! refused, and the plan ProxLB Web showed before agrees with the guests that moved.
//!
//! ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python`; if it is missing the
//! test FAILS.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{eventually, identity};

use plb_backend::settings::ProxlbService;
use plb_backend::{compose, Error, Settings};
use plb_domain::auth::Role;
use plb_domain::balancing::run_now::RunStart;
use plb_domain::runs::RunState;
use plb_domain::service::BackendKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_starts_one_real_proxlb_run_that_migrates_guests_in_the_simulator() {
    plb_backend::tls::install_crypto_provider();
    let sim = common::start_fast_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("proxlb.yaml");
    // An hourly schedule: the only run in this test is the one run now starts.
    std::fs::write(
        &config,
        format!(
            "proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {}\n  token_secret: {}\n\
             \x20 ssl_verification: true\n  timeout: 10\n\
             proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
             balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 60\n\
             \x20 balanciness: 10\n  method: memory\n  mode: used\n\
             service:\n  daemon: true\n  schedule:\n    interval: 1\n    format: hours\n\
             \x20 log_level: INFO\n",
            sim.host_port(),
            common::ROOT_TOKEN_ID,
            common::ROOT_TOKEN_SECRET,
        ),
    )
    .unwrap();
    let (mut settings, _data) = plb_backend::testing::private_settings(Settings::default());
    settings.proxlb_config = config;
    settings.proxlb_service = ProxlbService::Only(BackendKind::Process);
    settings.proxlb_python = Some(common::proxlb_python());
    settings.ca_file = sim.cert().map(|c| c.cert_path.clone());
    settings.poll_interval = Duration::from_secs(1);
    let state = compose::wire(settings).await.unwrap();
    let who = identity(Role::Operator);

    // ProxLB Web's replay of ProxLB's plan on the polled cluster: the demo is unbalanced.
    let plan = eventually("a plan with moves", Duration::from_secs(30), async || {
        state
            .balancing
            .plan()
            .await
            .ok()
            .filter(|p| !p.projection.moves.is_empty())
    })
    .await;
    let before: Vec<(String, String)> = sim
        .state()
        .guests
        .iter()
        .map(|g| (g.name.clone(), g.node.clone()))
        .collect();

    // ProxLB is stopped: run now starts it (a fresh process runs at once).
    eventually(
        "ProxLB's state to be known",
        Duration::from_secs(10),
        async || {
            state.balancing.settings().await.ok().filter(|s| {
                !matches!(
                    s.run_refusal,
                    Some(plb_domain::balancing::run_now::RunRefusal::NotControllable { .. })
                )
            })
        },
    )
    .await;
    let started = state.balancing.run_now(&who).await.unwrap();
    assert_eq!(started.how, RunStart::Start);
    assert_eq!(
        started.plan.projection.moves_total,
        plan.projection.moves_total
    );

    // While that run is in progress, a second one is refused with the reason.
    match state.balancing.run_now(&who).await {
        Err(Error::Conflict { message, .. }) => {
            assert!(message.contains("in progress"), "{message}")
        }
        other => panic!(
            "a second run now was not refused: {:?}",
            other.map(|s| s.how)
        ),
    }

    // The run ends (ProxLB goes to sleep for an hour) having migrated guests in the simulator.
    eventually("the run to end", Duration::from_secs(240), async || {
        matches!(state.proxlb.logs.run_state(), RunState::Sleeping { .. }).then_some(())
    })
    .await;
    let moved: Vec<(String, String)> = sim
        .state()
        .guests
        .iter()
        .filter(|g| {
            before
                .iter()
                .any(|(n, node)| n == &g.name && node != &g.node)
        })
        .map(|g| (g.name.clone(), g.node.clone()))
        .collect();
    assert!(!moved.is_empty(), "run now moved no guest");
    // Every guest that moved was in the plan ProxLB Web showed, to the node it named.
    for (guest, node) in &moved {
        assert!(
            plan.projection
                .moves
                .iter()
                .any(|m| &m.planned.planned.guest == guest && &m.planned.planned.to == node),
            "{guest} moved to {node}, which the plan did not say: {:?}",
            plan.projection.moves
        );
    }

    state.proxlb.shutdown().await;
    state.shutdown.cancel();
    sim.shutdown().await;
}
