//! The Docker backend against a real `dockerd` and real ProxLB 2.3.0: the locally built image
//! (deploy/proxlb/Dockerfile) runs in a container on the host network against the simulator
//! started here on 127.0.0.1. Status, stop (exit 0 -> stopped), start, restart, a failed run
//! with its last lines, a missing container, and logs with Docker's timestamps that resume
//! after a position without a gap or a duplicate. "Ask real ProxLB" through the application as
//! the composition root builds it: a one-off container beside the daemon's answers with
//! ProxLB's plan, can be cancelled, leaves no container behind and does not touch the daemon.
//!
//! Needs a Docker daemon: `scripts/docker-test.sh` starts one, builds the image and runs
//!   DOCKER_HOST=unix://… PROXLB_TEST_IMAGE=local/proxlb:2.3.0 \
//!   cargo test -p plb-backend --test proxlb_docker -- --ignored
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, EventsOptions, ListContainersOptions,
    RemoveContainerOptions,
};
use bollard::Docker;
use futures::StreamExt;
use plb_backend::adapters::proxlb::docker::DockerBackend;
use plb_backend::adapters::proxlb::docker_one_shot::{ASK_LABEL, DAEMON_LABEL, NAME_PREFIX};
use plb_backend::ports::{LogSource, ServiceError, ServiceManager, SourceLine};
use plb_backend::settings::ProxlbService;
use plb_backend::{compose, AppState, Error, Settings};
use plb_domain::auth::Role;
use plb_domain::proxlb::ask::AskStatus;
use plb_domain::service::{BackendKind, ProblemKind, ServiceState, ServiceStatus};
use plb_pve_sim::{SimConfig, Simulator};

fn docker_host() -> String {
    std::env::var("DOCKER_HOST").expect("DOCKER_HOST must name the test's Docker daemon")
}

fn image() -> String {
    std::env::var("PROXLB_TEST_IMAGE").unwrap_or_else(|_| "local/proxlb:2.3.0".to_string())
}

async fn docker() -> Docker {
    Docker::connect_with_host(&docker_host())
        .unwrap()
        .negotiate_version()
        .await
        .unwrap()
}

/// A ProxLB daemon config for the simulator, in a directory the container's `nobody` can read.
fn config_dir(sim: &Simulator) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {}\n  token_secret: {}\n\
         \x20 ssl_verification: false\n  timeout: 10\n\
         proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
         balancing:\n  enable: true\n  balance_types: [vm, ct]\n  balanciness: 10\n\
         \x20 method: memory\n  mode: used\n\
         service:\n  daemon: true\n  schedule:\n    interval: 1\n    format: minutes\n\
         \x20 log_level: INFO\n",
        sim.host_port(),
        common::ROOT_TOKEN_ID,
        common::ROOT_TOKEN_SECRET,
    );
    std::fs::write(dir.path().join("proxlb.yaml"), cfg).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.path().join("proxlb.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    dir
}

/// Creates (not starts) a ProxLB container on the host network with `dir` as /etc/proxlb.
async fn create(docker: &Docker, name: &str, dir: &Path, cmd: Option<Vec<String>>) {
    remove(docker, name).await;
    let body = ContainerCreateBody {
        image: Some(image()),
        cmd,
        // As in the upstream image (no STOPSIGNAL): the backend's stop must end ProxLB with
        // exit 0 by itself (SIGINT), not rely on the local image's STOPSIGNAL SIGINT.
        stop_signal: Some("SIGTERM".to_string()),
        labels: Some(HashMap::from([(
            "proxlb-web.test".to_string(),
            "proxlb_docker".to_string(),
        )])),
        host_config: Some(HostConfig {
            network_mode: Some("host".to_string()),
            binds: Some(vec![format!("{}:/etc/proxlb:ro", dir.display())]),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.to_string()),
                ..Default::default()
            }),
            body,
        )
        .await
        .unwrap();
}

async fn remove(docker: &Docker, name: &str) {
    let _ = docker
        .remove_container(
            name,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
}

/// Polls the status until `pred` holds (up to 60 s), and returns it.
async fn status_until(
    backend: &DockerBackend,
    what: &str,
    pred: impl Fn(&ServiceStatus) -> bool,
) -> ServiceStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = backend.status().await.unwrap();
        if pred(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last status: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads from `follow(after, tail)` until `enough` holds for the lines read (up to 150 s: a
/// wait may span ProxLB's one-minute sleep plus a run).
async fn read_until(
    backend: &DockerBackend,
    after: Option<String>,
    tail: usize,
    enough: impl Fn(&[SourceLine]) -> bool,
) -> Vec<SourceLine> {
    let mut stream = backend.follow(after, tail).await.unwrap();
    let mut lines = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    while !enough(&lines) {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(line)) => lines.push(line.unwrap()),
            Ok(None) => panic!("the log stream ended; lines so far: {lines:#?}"),
            Err(_) => panic!("timed out; lines so far: {lines:#?}"),
        }
    }
    lines
}

/// The actions of the container's Docker events between two times (Unix seconds).
async fn events(docker: &Docker, name: &str, since: i64, until: i64) -> Vec<String> {
    let options = EventsOptions {
        since: Some(since.to_string()),
        until: Some(until.to_string()),
        filters: Some(HashMap::from([(
            "container".to_string(),
            vec![name.to_string()],
        )])),
    };
    docker
        .events(Some(options))
        .map(|e| e.unwrap().action.unwrap_or_default())
        .collect()
        .await
}

fn unix_secs() -> i64 {
    now_ms() / 1000
}

fn count(lines: &[SourceLine], needle: &str) -> usize {
    lines
        .iter()
        .filter(|l| l.line.text.contains(needle))
        .count()
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test]
#[ignore = "needs dockerd: run by scripts/docker-test.sh"]
async fn status_stop_start_restart_and_timestamped_logs_of_a_proxlb_container() {
    plb_backend::tls::install_crypto_provider();
    let sim = Simulator::start(common::demo(), SimConfig::default())
        .await
        .unwrap();
    let dir = config_dir(&sim);
    let docker = docker().await;
    let name = "plb-docker-test-daemon";
    create(&docker, name, dir.path(), None).await;
    let backend = DockerBackend::connect(Some(&docker_host()), name).unwrap();
    backend.probe().await.unwrap();

    // Created, never started: stopped, no exit code; the version from the image label.
    let status = backend.status().await.unwrap();
    assert_eq!(status.state, ServiceState::Stopped, "{status:?}");
    assert_eq!(status.exit_code, None);
    assert_eq!(status.version.as_deref(), Some("2.3.0"));
    assert_eq!(status.target, name);
    assert!(status.problem.is_none());

    // Start: running with a PID; ProxLB's first run logs its sleep with Docker timestamps.
    let before_start = now_ms();
    backend.start().await.unwrap();
    let running = status_until(&backend, "running", |s| s.state == ServiceState::Running).await;
    assert!(running.pid.is_some_and(|p| p > 0), "{running:?}");
    assert!(running.since_unix_ms.unwrap() >= before_start - 5_000);
    let first = read_until(&backend, None, 1000, |l| count(l, "Next run in") >= 1).await;
    let stamped = first
        .iter()
        .find(|l| l.line.text.contains("Next run in"))
        .unwrap();
    assert!(
        stamped.line.at_unix_ms >= before_start - 5_000 && stamped.line.at_unix_ms <= now_ms(),
        "Docker's timestamp is the line's time: {stamped:?}"
    );
    assert!(
        stamped.line.text.contains(" - ProxLB - INFO - "),
        "the text is ProxLB's line without Docker's prefix: {:?}",
        stamped.line.text
    );

    // Stop: SIGINT, ProxLB exits 0 -> stopped (not failed), since the stop.
    backend.stop().await.unwrap();
    let stopped = backend.status().await.unwrap();
    assert_eq!(stopped.state, ServiceState::Stopped, "{stopped:?}");
    assert_eq!(stopped.exit_code, Some(0));
    assert_eq!(stopped.pid, None);
    assert!(stopped.last_error_lines.is_empty());
    assert!(stopped.since_unix_ms.unwrap() >= running.since_unix_ms.unwrap());
    // Stopping a stopped container is fine; reloading it is refused with a reason.
    backend.stop().await.unwrap();
    assert!(matches!(
        backend.reload().await,
        Err(ServiceError::Refused(_))
    ));

    // Start again, then reload and restart: a fresh process each time. Each signal waits for
    // the run's "Next run in" line, so ProxLB's handlers are installed (a SIGINT during its
    // imports would end it with a KeyboardInterrupt traceback, exit 1).
    backend.start().await.unwrap();
    let second = status_until(&backend, "running again", |s| {
        s.state == ServiceState::Running && s.since_unix_ms > stopped.since_unix_ms
    })
    .await;
    let before = read_until(&backend, None, 100_000, |l| count(l, "Next run in") >= 2).await;
    // Reload (SIGHUP): ProxLB re-reads its config after the current sleep (1 minute here) and
    // logs its config path again, in the same process.
    let paths = count(&before, "Using config path");
    let reload_from = unix_secs();
    backend.reload().await.unwrap();
    read_until(&backend, None, 100_000, |l| {
        count(l, "Using config path") > paths && count(l, "Next run in") >= 3
    })
    .await;
    // The signal came from inside the container (an exec), not from Docker's kill endpoint,
    // which would switch off the restart policy: Docker's event log says which.
    let actions = events(&docker, name, reload_from, unix_secs() + 1).await;
    assert!(
        actions.iter().any(|a| a.starts_with("exec_start")),
        "{actions:?}"
    );
    assert!(!actions.iter().any(|a| a == "kill"), "{actions:?}");
    let reloaded = backend.status().await.unwrap();
    assert_eq!(reloaded.state, ServiceState::Running);
    assert_eq!(
        reloaded.since_unix_ms, second.since_unix_ms,
        "a reload keeps the process"
    );
    backend.restart().await.unwrap();
    let third = status_until(&backend, "running after restart", |s| {
        s.state == ServiceState::Running && s.since_unix_ms > second.since_unix_ms
    })
    .await;
    assert!(third.pid.is_some());

    // The whole log: three processes (four runs), two ended by SIGINT. Every position is unique.
    let all = read_until(&backend, None, 100_000, |l| count(l, "Next run in") >= 4).await;
    assert_eq!(
        count(&all, "successfully terminated by user"),
        2,
        "{all:#?}"
    );
    let positions: std::collections::HashSet<_> = all.iter().map(|l| &l.position).collect();
    assert_eq!(
        positions.len(),
        all.len(),
        "every line has its own position"
    );

    // Resume after every second position: exactly the lines after it, none repeated.
    for i in (0..all.len() - 1).step_by(2) {
        let want = &all[i + 1..];
        let got = read_until(&backend, Some(all[i].position.clone()), 0, |l| {
            l.len() >= want.len()
        })
        .await;
        assert_eq!(&got[..want.len()], want, "resume after line {i}");
    }

    // A live line arrives on a follower: the restart below logs a new "Next run in".
    let tail_pos = all.last().unwrap().position.clone();
    let mut live = backend.follow(Some(tail_pos), 0).await.unwrap();
    backend.restart().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut fresh = Vec::new();
    while count(&fresh, "Next run in") == 0 {
        let line = tokio::time::timeout_at(deadline, live.next())
            .await
            .expect("a live line within 90 s")
            .expect("the stream goes on across the restart")
            .unwrap();
        fresh.push(line);
    }
    assert!(
        fresh.iter().all(|l| !all.contains(l)),
        "no line is delivered twice"
    );
    assert!(count(&fresh, "successfully terminated by user") >= 1);

    backend.stop().await.unwrap();
    remove(&docker, name).await;
    sim.shutdown().await;
}

#[tokio::test]
#[ignore = "needs dockerd: run by scripts/docker-test.sh"]
async fn a_failed_run_shows_its_last_lines_and_a_missing_container_is_named() {
    plb_backend::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = docker().await;
    let name = "plb-docker-test-failed";
    // No config file: ProxLB exits 1 naming the path.
    create(
        &docker,
        name,
        dir.path(),
        Some(vec!["-c".into(), "/etc/proxlb/missing.yaml".into()]),
    )
    .await;
    let backend = DockerBackend::connect(Some(&docker_host()), name).unwrap();
    backend.start().await.unwrap();
    let failed = status_until(&backend, "failed", |s| s.state == ServiceState::Failed).await;
    assert_eq!(failed.exit_code, Some(1), "{failed:?}");
    assert!(
        failed
            .last_error_lines
            .iter()
            .any(|l| l.contains("/etc/proxlb/missing.yaml")),
        "the last lines name the cause: {failed:?}"
    );
    remove(&docker, name).await;

    let gone = backend.status().await.unwrap();
    assert_eq!(gone.state, ServiceState::Unknown);
    assert_eq!(
        gone.problem.map(|p| p.kind),
        Some(ProblemKind::ContainerNotFound)
    );
    assert!(matches!(
        backend.start().await,
        Err(ServiceError::Problem(p)) if p.kind == ProblemKind::ContainerNotFound
    ));
    // The daemon itself answers: auto-selection would still pick Docker.
    backend.probe().await.unwrap();
}

/// The application with the Docker backend for the container `daemon`, reading `config` (the
/// file the daemon's container mounts); one cluster poll at the start.
async fn docker_app(
    sim: &Simulator,
    config: &Path,
    daemon: &str,
) -> (AppState, plb_backend::testing::TempDataDir) {
    let (mut settings, data) = plb_backend::testing::private_settings(Settings::default());
    settings.proxlb_config = config.to_path_buf();
    settings.proxlb_service = ProxlbService::Only(BackendKind::Docker);
    settings.proxlb_container = daemon.to_string();
    settings.ca_file = sim.cert().map(|c| c.cert_path.clone());
    settings.poll_interval = Duration::from_secs(3600);
    (compose::wire(settings).await.unwrap(), data)
}

/// The names of the ask containers that exist (running or not).
async fn ask_containers(docker: &Docker) -> Vec<String> {
    docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .map(|n| n.trim_start_matches('/').to_string())
        .filter(|n| n.starts_with(NAME_PREFIX))
        .collect()
}

/// (mode, uid, text) of a file in a container, through Docker's archive endpoint.
async fn file_in(docker: &Docker, container: &str, path: &Path) -> (u32, u64, String) {
    use std::io::Read;
    let bytes: Vec<u8> = docker
        .download_from_container(
            container,
            Some(DownloadFromContainerOptions {
                path: path.display().to_string(),
            }),
        )
        .map(|chunk| chunk.unwrap().to_vec())
        .concat()
        .await;
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    let header = entry.header();
    (header.mode().unwrap(), header.uid().unwrap(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dockerd: run by scripts/docker-test.sh"]
async fn asking_real_proxlb_runs_a_one_off_container_beside_the_daemon() {
    plb_backend::tls::install_crypto_provider();
    // Noise off and the clock frozen: ProxLB and the native replay read the same numbers.
    let sim = Simulator::start(
        common::demo(),
        SimConfig {
            noise: 0.0,
            time_scale: 0.0,
            start_time: Some(1_795_365_000.0),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    // The daemon's file, shared with ProxLB Web: its start delay keeps the daemon asleep for
    // the whole test, so it neither migrates nor polls (the ask's copy turns the delay off).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("proxlb.yaml");
    std::fs::write(
        &config,
        format!(
            "# the lab cluster\nproxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {}\n  token_secret: {}\n\
             \x20 ssl_verification: false\n  timeout: 10\n\
             proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
             balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 60\n\
             \x20 balanciness: 10\n  method: memory\n  mode: used\n\
             service:\n  daemon: true   # the daemon loops\n  schedule:\n    interval: 1\n    format: hours\n\
             \x20 delay:\n    enable: true\n    time: 1\n    format: hours\n  log_level: INFO\n",
            sim.host_port(),
            common::ROOT_TOKEN_ID,
            common::ROOT_TOKEN_SECRET,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();

    let docker = docker().await;
    let daemon = "plb-docker-test-ask-daemon";
    create(&docker, daemon, dir.path(), None).await;
    docker.start_container(daemon, None).await.unwrap();
    let daemon_before = docker.inspect_container(daemon, None).await.unwrap();
    assert_eq!(
        daemon_before.state.as_ref().and_then(|s| s.running),
        Some(true)
    );
    // A leftover of an ask that ProxLB Web could not finish (it was stopped mid-run).
    let leftover = format!("{NAME_PREFIX}leftover");
    remove(&docker, &leftover).await;
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(leftover.clone()),
                ..Default::default()
            }),
            ContainerCreateBody {
                image: Some(image()),
                labels: Some(HashMap::from([
                    (ASK_LABEL.to_string(), "1".to_string()),
                    (DAEMON_LABEL.to_string(), daemon.to_string()),
                    ("proxlb-web.test".to_string(), "proxlb_docker".to_string()),
                ])),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let (state, _data) = docker_app(&sim, &config, daemon).await;
    let operator = common::identity(Role::Operator);
    let estimate = common::eventually("an estimate", Duration::from_secs(30), async || {
        state.balancing.ask_estimate(None).await.ok()
    })
    .await;
    assert_eq!(estimate.unavailable, None, "{estimate:?}");
    assert_eq!(estimate.nodes, 3);
    assert_eq!(estimate.hosts, [sim.host_port()]);

    let started = state.balancing.ask_proxlb(&operator, None).await.unwrap();
    assert!(started.is_running(), "{started:?}");
    match state.balancing.ask_proxlb(&operator, None).await {
        Err(Error::Conflict { message, .. }) => {
            assert!(message.contains("already being asked"), "{message}")
        }
        other => panic!("a second ask was not refused: {other:?}"),
    }
    // The run's container, with its private copy: 0600, owned by the image's user (nobody),
    // never a daemon, no delay, the rest of the file as it was.
    let child = common::eventually("the container", Duration::from_secs(30), async || {
        state
            .balancing
            .ask_child()
            .filter(|c| c.container.is_some())
    })
    .await;
    let run = child.container.clone().unwrap();
    assert!(run.starts_with(NAME_PREFIX) && run != leftover, "{run}");
    assert_eq!(child.pid, None);
    let (mode, uid, copy) = file_in(&docker, &run, &child.config).await;
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(uid, 65534, "owned by the container's user");
    assert!(
        copy.contains("  daemon: false   # the daemon loops"),
        "{copy}"
    );
    assert!(copy.starts_with("# the lab cluster\n"), "{copy}");
    assert!(copy.contains("    enable: false\n"), "{copy}");
    // The leftover was removed before the run started.
    assert!(!ask_containers(&docker).await.contains(&leftover));

    let answer =
        common::eventually(
            "ProxLB's answer",
            Duration::from_secs(180),
            async || match state.balancing.ask_status() {
                AskStatus::Finished { answer, .. } => Some(answer),
                AskStatus::Running { .. } => None,
                other => panic!("the ask did not answer: {other:?}"),
            },
        )
        .await;
    println!(
        "ask real ProxLB in a container: {} moves, agree {}, {} ms",
        answer.proxlb_moves, answer.agree, answer.wall_ms
    );
    assert!(answer.proxlb_moves > 0, "{answer:?}");
    assert!(
        answer.agree,
        "ProxLB and the native plan differ: {answer:#?}"
    );
    assert_eq!(
        common::count(&sim, "POST /nodes/{node}/qemu/{vmid}/migrate"),
        0
    );
    assert!(state.balancing.ask_child().is_none());
    assert_eq!(ask_containers(&docker).await, Vec::<String>::new());

    // Cancel: SIGINT to the container; it is gone when the cancel answers.
    state.balancing.ask_proxlb(&operator, None).await.unwrap();
    let child = common::eventually(
        "the second container",
        Duration::from_secs(30),
        async || {
            state
                .balancing
                .ask_child()
                .filter(|c| c.container.is_some())
        },
    )
    .await;
    let run = child.container.unwrap();
    let running = docker.inspect_container(&run, None).await.unwrap();
    assert_eq!(running.state.and_then(|s| s.running), Some(true));
    let status = state.balancing.cancel_ask(&operator).await.unwrap();
    assert!(matches!(status, AskStatus::Cancelled { .. }), "{status:?}");
    assert!(state.balancing.ask_child().is_none());
    assert_eq!(ask_containers(&docker).await, Vec::<String>::new());
    assert!(docker.inspect_container(&run, None).await.is_err());

    // The daemon's container is untouched: the same process, still running, never restarted.
    let daemon_after = docker.inspect_container(daemon, None).await.unwrap();
    assert_eq!(daemon_after.id, daemon_before.id);
    let (before, after) = (daemon_before.state.unwrap(), daemon_after.state.unwrap());
    assert_eq!(after.running, Some(true));
    assert_eq!(after.pid, before.pid);
    assert_eq!(after.started_at, before.started_at);
    assert_eq!(daemon_after.restart_count, daemon_before.restart_count);

    // Without the daemon's container the estimate says why the ask is not possible.
    state.proxlb.shutdown().await;
    state.shutdown.cancel();
    let (missing, _data2) = docker_app(&sim, &config, "plb-docker-test-no-such-daemon").await;
    let estimate = common::eventually("an estimate", Duration::from_secs(30), async || {
        missing.balancing.ask_estimate(None).await.ok()
    })
    .await;
    let why = estimate.unavailable.unwrap();
    assert!(
        why.contains("no Docker container named plb-docker-test-no-such-daemon"),
        "{why}"
    );
    missing.proxlb.shutdown().await;
    missing.shutdown.cancel();

    remove(&docker, daemon).await;
    sim.shutdown().await;
}
