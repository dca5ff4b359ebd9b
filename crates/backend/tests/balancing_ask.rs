//! "Ask real ProxLB" end to end: the application as the composition root builds it, with the
//! process backend and real ProxLB 2.3.0 against the simulator (noise off, clock frozen, so
//! ProxLB and the native replay read the same numbers). The ask answers with ProxLB's plan,
//! which equals the native plan on the demo; a second ask while one runs is refused; the copy
//! ProxLB reads is 0600 with `daemon: false` and is gone afterwards; a cancel ends the child.
//! Without a usable backend (no Docker daemon, none) the ask is refused with a reason; the Docker
//! backend's runs are tested against a real dockerd in `proxlb_docker.rs`.
//!
//! ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python`; if it is missing the
//! test FAILS.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::{eventually, identity};

use plb_backend::settings::ProxlbService;
use plb_backend::testing::TempDataDir;
use plb_backend::{compose, AppState, Error, Settings};
use plb_domain::auth::Role;
use plb_domain::proxlb::ask::{Agreement, AskStatus};
use plb_domain::service::BackendKind;
use plb_pve_sim::{SimConfig, Simulator};

/// The demo cluster with noise off and its clock frozen, over HTTPS.
async fn frozen_sim() -> Simulator {
    plb_backend::tls::install_crypto_provider();
    let config = SimConfig {
        noise: 0.0,
        time_scale: 0.0,
        start_time: Some(1_795_365_000.0),
        ..SimConfig::default()
    };
    Simulator::start(common::demo(), config).await.unwrap()
}

/// The application with the process backend on `sim`; ProxLB's daemon is never started.
async fn app(sim: &Simulator, dir: &Path) -> (AppState, TempDataDir) {
    let config = dir.join("proxlb.yaml");
    std::fs::write(
        &config,
        format!(
            "# the lab cluster\nproxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {}\n  token_secret: {}\n\
             \x20 ssl_verification: true\n  timeout: 10\n\
             proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
             balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 60\n\
             \x20 balanciness: 10\n  method: memory\n  mode: used\n\
             service:\n  daemon: true   # the daemon loops\n  schedule:\n    interval: 1\n    format: hours\n\
             \x20 log_level: INFO\n",
            sim.host_port(),
            common::ROOT_TOKEN_ID,
            common::ROOT_TOKEN_SECRET,
        ),
    )
    .unwrap();
    let (mut settings, data) = plb_backend::testing::private_settings(Settings::default());
    settings.proxlb_config = config;
    settings.proxlb_service = ProxlbService::Only(BackendKind::Process);
    settings.proxlb_python = Some(common::proxlb_python());
    settings.ca_file = sim.cert().map(|c| c.cert_path.clone());
    // One poll at the start: the requests the simulator serves later are ProxLB's.
    settings.poll_interval = Duration::from_secs(3600);
    (compose::wire(settings).await.unwrap(), data)
}

fn total_requests(sim: &Simulator) -> u64 {
    sim.request_counts().values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_real_proxlb_answers_its_plan_next_to_the_native_one() {
    let sim = frozen_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (state, _data) = app(&sim, dir.path()).await;
    let operator = identity(Role::Operator);

    let estimate = eventually("an estimate", Duration::from_secs(30), async || {
        state.balancing.ask_estimate(None).await.ok()
    })
    .await;
    let running = sim.with_cluster(|c| c.guests.values().filter(|g| g.running()).count());
    assert_eq!(estimate.unavailable, None);
    assert_eq!(estimate.nodes, 3);
    assert_eq!(estimate.running_guests, running);
    assert!(estimate.requests >= 3 * running as u64, "{estimate:?}");
    assert_eq!(estimate.hosts, [sim.host_port()]);

    // A viewer may not ask: it contacts the real cluster.
    assert!(matches!(
        state
            .balancing
            .ask_proxlb(&identity(Role::Viewer), None)
            .await,
        Err(Error::Forbidden { .. })
    ));

    let before = total_requests(&sim);
    let started = state.balancing.ask_proxlb(&operator, None).await.unwrap();
    assert!(started.is_running(), "{started:?}");

    // One at a time.
    match state.balancing.ask_proxlb(&operator, None).await {
        Err(Error::Conflict { message, .. }) => {
            assert!(message.contains("already being asked"), "{message}")
        }
        other => panic!("a second ask was not refused: {other:?}"),
    }

    // The copy ProxLB reads: private, never a daemon, the rest of the file as it was.
    let child = state.balancing.ask_child().unwrap();
    let meta = std::fs::metadata(&child.config).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let copy = std::fs::read_to_string(&child.config).unwrap();
    assert!(
        copy.contains("  daemon: false   # the daemon loops"),
        "{copy}"
    );
    assert!(copy.starts_with("# the lab cluster\n"), "{copy}");

    let answer = eventually(
        "ProxLB's answer",
        Duration::from_secs(180),
        async || match state.balancing.ask_status() {
            AskStatus::Finished { answer, .. } => Some(answer),
            AskStatus::Running { .. } => None,
            other => panic!("the ask did not answer: {other:?}"),
        },
    )
    .await;
    let after = total_requests(&sim);
    assert!(
        !child.config.exists(),
        "the temporary config was not removed"
    );
    assert!(state.balancing.ask_child().is_none());

    // The demo is unbalanced: ProxLB plans moves, and the native replay plans the same.
    assert!(answer.proxlb_moves > 0, "{answer:?}");
    assert!(
        answer.agree,
        "ProxLB and the native plan differ: {answer:#?}"
    );
    assert_eq!(answer.native_moves, answer.proxlb_moves);
    assert_eq!(answer.same, answer.proxlb_moves);
    assert!(answer.moves.iter().all(|m| m.agreement == Agreement::Same
        && m.proxlb_to.is_some()
        && m.proxlb_to == m.native_to
        && m.from != *m.proxlb_to.as_ref().unwrap()));
    // The web pair moves together, as one affinity group.
    let web: Vec<_> = answer
        .moves
        .iter()
        .filter(|m| m.guest.starts_with("web"))
        .collect();
    if web.len() > 1 {
        assert!(web
            .iter()
            .all(|m| m.group.is_some() && m.group == web[0].group));
    }
    assert!(answer.wall_ms > 0);
    assert!(!answer.candidate);
    // Nothing migrated (a dry run).
    assert_eq!(
        common::count(&sim, "POST /nodes/{node}/qemu/{vmid}/migrate"),
        0
    );
    // ProxLB Web polled once at the start, so every request since was ProxLB's: the estimate
    // shown before the run is exact on the demo.
    println!(
        "ask real ProxLB: estimated {} requests, the simulator served {} during the run ({} ms)",
        estimate.requests,
        after - before,
        answer.wall_ms
    );
    assert_eq!(after - before, estimate.requests);

    state.proxlb.shutdown().await;
    state.shutdown.cancel();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_ends_the_child_and_removes_the_copy() {
    let sim = frozen_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (state, _data) = app(&sim, dir.path()).await;
    let operator = identity(Role::Operator);
    eventually("a snapshot", Duration::from_secs(30), async || {
        state.balancing.ask_estimate(None).await.ok()
    })
    .await;

    // Nothing to cancel yet.
    assert!(matches!(
        state.balancing.cancel_ask(&operator).await,
        Err(Error::Conflict { .. })
    ));

    state.balancing.ask_proxlb(&operator, None).await.unwrap();
    let child = eventually("the child", Duration::from_secs(10), async || {
        state.balancing.ask_child().filter(|c| c.pid.is_some())
    })
    .await;
    let pid = child.pid.unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert!(child.config.exists());

    let status = state.balancing.cancel_ask(&operator).await.unwrap();
    assert!(matches!(status, AskStatus::Cancelled { .. }), "{status:?}");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "ProxLB ({pid}) still runs after the cancel"
    );
    assert!(
        !child.config.exists(),
        "the temporary config is still there"
    );
    assert!(state.balancing.ask_child().is_none());
    // The slot is free again.
    assert!(state.balancing.ask_proxlb(&operator, None).await.is_ok());
    state.balancing.cancel_ask(&operator).await.unwrap();

    state.proxlb.shutdown().await;
    state.shutdown.cancel();
    sim.shutdown().await;
}

#[tokio::test]
async fn backends_that_cannot_run_proxlb_once_say_so() {
    for (kind, expected) in [(BackendKind::Docker, "Docker"), (BackendKind::None, "")] {
        let (mut settings, data) = plb_backend::testing::private_settings(Settings::default());
        settings.proxlb_config = data.path().join("proxlb.yaml");
        settings.proxlb_service = ProxlbService::Only(kind);
        let state = compose::wire(settings).await.unwrap();
        match state
            .balancing
            .ask_proxlb(&identity(Role::Operator), None)
            .await
        {
            Err(Error::Conflict { message, .. }) => {
                assert!(message.contains(expected), "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("{kind:?} did not refuse: {other:?}"),
        }
        assert!(state.balancing.ask_child().is_none());
        assert_eq!(state.balancing.ask_status(), AskStatus::Idle);
        state.shutdown.cancel();
    }
}
