//! The process backend running real ProxLB 2.3.0 (daemon mode, INFO level) against the
//! simulator: start, live log lines, a real migration, reload, stop (exit 0 → stopped),
//! restart, a crash (a 500 on `/nodes`) shown as failed with its traceback, and the problems
//! of a missing interpreter or a missing `proxlb` module.
//!
//! ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python` (installed by
//! `scripts/setup.sh`). If it is missing the tests FAIL: they never pass silently.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_backend::adapters::proxlb::process::{ProcessBackend, ProcessConfig};
use plb_backend::ports::{LogSource, ServiceError, ServiceManager, SourceLine};
use plb_domain::logs::LogStream;
use plb_domain::service::{ProblemKind, ServiceState, ServiceStatus};
use plb_pve_sim::{FaultRule, Simulator};

type Lines = BoxStream<'static, Result<SourceLine, ServiceError>>;

/// A daemon-mode config at INFO with a one-minute schedule, trusting the simulator's
/// certificate through `REQUESTS_CA_BUNDLE` (TLS verification stays on).
fn backend(sim: &Simulator, dir: &Path) -> ProcessBackend {
    let cfg = format!(
        "proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {}\n  token_secret: {}\n\
         \x20 ssl_verification: true\n  timeout: 10\n\
         proxmox_cluster:\n  maintenance_nodes: []\n  ignore_nodes: []\n\
         balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 60\n\
         \x20 balanciness: 10\n  method: memory\n  mode: used\n\
         service:\n  daemon: true\n  schedule:\n    interval: 1\n    format: minutes\n\
         \x20 log_level: INFO\n",
        sim.host_port(),
        common::ROOT_TOKEN_ID,
        common::ROOT_TOKEN_SECRET,
    );
    let path = dir.join("proxlb.yaml");
    std::fs::write(&path, cfg).unwrap();
    let mut config = ProcessConfig::new(common::proxlb_python(), path);
    config.ca_file = sim.cert().map(|cert| cert.cert_path.clone());
    ProcessBackend::new(config)
}

/// Reads lines until one contains `needle` (at most `within`); returns it and everything read.
async fn until(lines: &mut Lines, needle: &str, within: Duration) -> (SourceLine, Vec<String>) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, lines.next()).await;
        let Ok(Some(item)) = next else {
            panic!(
                "no line containing {needle:?} within {within:?}; got:\n{}",
                seen.join("\n")
            );
        };
        let line = item.unwrap();
        seen.push(line.line.text.clone());
        if line.line.text.contains(needle) {
            return (line, seen);
        }
    }
}

/// Polls the status until `done` holds (at most `within`).
async fn wait_status(
    backend: &ProcessBackend,
    within: Duration,
    done: impl Fn(&ServiceStatus) -> bool,
) -> ServiceStatus {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let status = backend.status().await.unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status did not settle within {within:?}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_real_proxlb_start_logs_migration_reload_stop_restart() {
    let sim = common::start_fast_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let proxlb = backend(&sim, dir.path());
    let mut lines = proxlb.follow(None, 0).await.unwrap();

    let before = proxlb.status().await.unwrap();
    assert_eq!(before.state, ServiceState::Stopped);
    assert_eq!(before.version.as_deref(), Some("2.3.0"));
    assert_eq!(before.problem, None);

    proxlb.start().await.unwrap();
    let running = proxlb.status().await.unwrap();
    assert_eq!(running.state, ServiceState::Running);
    let first_pid = running.pid.unwrap();
    let command = format!("-m proxlb -c {}", dir.path().join("proxlb.yaml").display());
    assert!(running.target.ends_with(&command), "{}", running.target);

    // Lines arrive live, stamped with the time they were read.
    let (connected, _) = until(
        &mut lines,
        "API connection to host",
        Duration::from_secs(60),
    )
    .await;
    assert!(
        connected.line.text.contains(&sim.host_port()),
        "{}",
        connected.line.text
    );
    assert!(connected.line.text.contains(" - ProxLB - INFO - "));
    assert_eq!(connected.line.stream, LogStream::Stdout);
    assert!(connected.line.at_unix_ms > 1_700_000_000_000);

    // The unbalanced demo cluster makes ProxLB migrate, for real, in the simulator.
    let (migrating, _) = until(
        &mut lines,
        "Balancing: Starting to migrate",
        Duration::from_secs(120),
    )
    .await;
    let guest = migrating
        .line
        .text
        .split("guest ")
        .nth(1)
        .and_then(|rest| rest.split(" from ").next())
        .unwrap()
        .to_owned();
    until(
        &mut lines,
        "Daemon mode active: Next run in: 1 minutes.",
        Duration::from_secs(180),
    )
    .await;
    let moved = sim
        .state()
        .guests
        .iter()
        .find(|g| g.name == guest)
        .map(|g| g.node.clone())
        .unwrap();
    assert!(
        migrating.line.text.ends_with(&format!("to {moved}.")),
        "{guest} is on {moved}; ProxLB said: {}",
        migrating.line.text
    );

    // SIGHUP only sets a flag in ProxLB: it keeps running (a default SIGHUP would kill it).
    proxlb.reload().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_reload = proxlb.status().await.unwrap();
    assert_eq!(after_reload.state, ServiceState::Running);
    assert_eq!(after_reload.pid, Some(first_pid));

    // Stop = SIGINT: ProxLB says goodbye and exits 0.
    proxlb.stop().await.unwrap();
    let stopped = proxlb.status().await.unwrap();
    assert_eq!(stopped.state, ServiceState::Stopped);
    assert_eq!(stopped.exit_code, Some(0));
    assert_eq!(stopped.pid, None);
    assert!(stopped.last_error_lines.is_empty());
    let (goodbye, _) = until(
        &mut lines,
        "successfully terminated by user",
        Duration::from_secs(10),
    )
    .await;
    let goodbye_position = goodbye.position.clone();
    let error = proxlb.reload().await.unwrap_err();
    assert!(matches!(error, ServiceError::Refused(_)), "{error:?}");

    // Restart from stopped starts a fresh process; the log goes on in the same sequence.
    proxlb.restart().await.unwrap();
    let restarted = proxlb.status().await.unwrap();
    assert_eq!(restarted.state, ServiceState::Running);
    assert_ne!(restarted.pid, Some(first_pid));
    let (reconnected, _) = until(
        &mut lines,
        "API connection to host",
        Duration::from_secs(60),
    )
    .await;
    let mut resumed = proxlb.follow(Some(goodbye_position), 0).await.unwrap();
    let (again, skipped) = until(
        &mut resumed,
        "API connection to host",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        again.position, reconnected.position,
        "resumed without gap: {skipped:?}"
    );

    // Restart while running: a new process.
    let second_pid = restarted.pid.unwrap();
    proxlb.restart().await.unwrap();
    let third = proxlb.status().await.unwrap();
    assert_eq!(third.state, ServiceState::Running);
    assert_ne!(third.pid, Some(second_pid));
    proxlb.shutdown().await;
    assert_eq!(proxlb.status().await.unwrap().state, ServiceState::Stopped);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_shows_as_failed_with_its_traceback_and_is_not_restarted() {
    let sim = common::start_fast_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let proxlb = backend(&sim, dir.path());
    // Login and permission check succeed; the first call of the first run, GET /nodes, fails.
    sim.inject_fault(FaultRule {
        route: "GET /nodes".into(),
        status: 500,
        message: "simulated outage".into(),
        ..FaultRule::default()
    });
    let mut lines = proxlb.follow(None, 0).await.unwrap();
    proxlb.start().await.unwrap();
    let failed = wait_status(&proxlb, Duration::from_secs(60), |s| {
        s.state != ServiceState::Running
    })
    .await;
    assert_eq!(failed.state, ServiceState::Failed, "{failed:?}");
    assert_eq!(failed.exit_code, Some(1));
    assert!(
        failed
            .last_error_lines
            .iter()
            .any(|line| line.starts_with("Traceback (most recent call last):")),
        "{:#?}",
        failed.last_error_lines
    );
    let last = failed.last_error_lines.last().unwrap();
    assert!(
        last.contains("ResourceException") && last.contains("500"),
        "{last}"
    );
    // The traceback is in the log too, from stderr.
    let (traceback, _) = until(
        &mut lines,
        "Traceback (most recent call last):",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(traceback.line.stream, LogStream::Stderr);

    // It stays failed: nothing restarts it behind the user's back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = proxlb.status().await.unwrap();
    assert_eq!(still.state, ServiceState::Failed);
    assert_eq!(still.pid, None);

    // Once the outage is over, a start brings it back.
    sim.clear_faults();
    proxlb.start().await.unwrap();
    until(
        &mut lines,
        "API connection to host",
        Duration::from_secs(60),
    )
    .await;
    let running = proxlb.status().await.unwrap();
    assert_eq!(running.state, ServiceState::Running);
    assert!(running.last_error_lines.is_empty());
    proxlb.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_interpreter_or_module_names_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("proxlb.yaml");
    std::fs::write(&config, "proxmox_api: {}\n").unwrap();

    let missing = ProcessBackend::new(ProcessConfig::new("/nonexistent/bin/python3", &config));
    let status = missing.status().await.unwrap();
    assert_eq!(status.state, ServiceState::Unknown);
    let problem = status.problem.unwrap();
    assert_eq!(problem.kind, ProblemKind::InterpreterMissing);
    assert!(
        problem.message.contains("/nonexistent/bin/python3"),
        "{}",
        problem.message
    );
    let ServiceError::Problem(problem) = missing.start().await.unwrap_err() else {
        panic!("a problem expected");
    };
    assert_eq!(problem.kind, ProblemKind::InterpreterMissing);

    // The same real interpreter without its site-packages (`-S`): no proxlb module.
    let python = dir.path().join("python-without-site");
    plb_backend::testing::write_executable(
        &python,
        &format!(
            "#!/bin/sh\nexec {} -S \"$@\"\n",
            common::proxlb_python().display()
        ),
    );
    let bare = ProcessBackend::new(ProcessConfig::new(&python, &config));
    let status = bare.status().await.unwrap();
    let problem = status.problem.unwrap();
    assert_eq!(problem.kind, ProblemKind::ProxlbMissing, "{problem:?}");
    assert!(
        problem.hint.contains("pip install proxlb==2.3.0"),
        "{}",
        problem.hint
    );
    assert!(bare.start().await.is_err());
    assert_eq!(bare.status().await.unwrap().pid, None);
}

#[tokio::test]
async fn a_config_error_fails_with_proxlbs_own_message() {
    // ProxLB logs config errors to stdout and exits 1: without stderr, the failed status shows
    // the last output lines instead.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("missing.yaml");
    let proxlb = ProcessBackend::new(ProcessConfig::new(common::proxlb_python(), &config));
    proxlb.start().await.unwrap();
    let failed = wait_status(&proxlb, Duration::from_secs(60), |s| {
        s.state != ServiceState::Running
    })
    .await;
    assert_eq!(failed.state, ServiceState::Failed, "{failed:?}");
    assert_eq!(failed.exit_code, Some(1));
    assert!(!failed.last_error_lines.is_empty());
}
