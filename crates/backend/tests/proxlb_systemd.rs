//! The systemd backend against stand-ins for `systemctl` and `journalctl`
//! (`tests/fixtures/systemd/`, small Python scripts): a real systemd cannot run in the test
//! environment, so the stand-ins print what systemd documents (`systemctl show -p` key=value
//! pairs, `LoadState=not-found` for an unknown unit, polkit's "Interactive authentication
//! required", `journalctl -o json` entries with `__CURSOR`, `__REALTIME_TIMESTAMP` and a
//! `MESSAGE` that may be a byte array) and record every call, so the tests also check the exact
//! command lines the adapter runs.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use plb_backend::adapters::proxlb::systemd::SystemdBackend;
use plb_backend::ports::{LogSource, OneShot, ServiceError, ServiceManager};
use plb_domain::logs::LogStream;
use plb_domain::service::{BackendKind, ProblemKind, ServiceState};
use serde_json::json;

/// A folder with the two stand-ins and their state.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new(state: serde_json::Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/systemd");
        // Symlinks, not copies: copying opens the executable for writing, and a child forked
        // meanwhile by a parallel test holds that descriptor until it execs, so running the
        // copy can fail with ETXTBSY ("Text file busy"). The stand-ins find their state next
        // to the link (Python's `abspath` does not resolve symlinks).
        for name in ["systemctl", "journalctl"] {
            std::os::unix::fs::symlink(fixtures.join(name), dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("state.json"), state.to_string()).unwrap();
        std::fs::write(dir.path().join("journal.jsonl"), "").unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn backend(&self, unit: &str) -> SystemdBackend {
        SystemdBackend::with_binaries(unit, self.path("systemctl"), self.path("journalctl"))
    }

    fn append(&self, entries: &[serde_json::Value]) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path("journal.jsonl"))
            .unwrap();
        for entry in entries {
            writeln!(file, "{entry}").unwrap();
        }
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.path("calls.log")).unwrap_or_default()
    }
}

fn unit(active: &str, code: i32, status: i32) -> serde_json::Value {
    json!({
        "LoadState": "loaded",
        "ActiveState": active,
        "SubState": if active == "active" { "running" } else { "dead" },
        "MainPID": if active == "active" { 4242 } else { 0 },
        "ExecMainCode": code,
        "ExecMainStatus": status,
        "StateChangeTimestamp": "@1764480000",
        "ExecStart": "{ path=/nonexistent/venv/bin/python3 ; argv[]=/nonexistent/venv/bin/python3 \
                      -m proxlb -c /etc/proxlb/proxlb.yaml ; ignore_errors=no }",
    })
}

fn entry(seq: u32, message: serde_json::Value) -> serde_json::Value {
    json!({
        "__CURSOR": format!("s=0123;i={seq:x}"),
        "__REALTIME_TIMESTAMP": format!("{}", 1_764_480_000_000_000_u64 + u64::from(seq) * 1000),
        "_SYSTEMD_UNIT": "proxlb.service",
        "PRIORITY": "6",
        "SYSLOG_IDENTIFIER": "python3",
        "MESSAGE": message,
    })
}

#[tokio::test]
async fn status_maps_systemds_states_and_actions_run_systemctl() {
    let fake = Fake::new(json!({ "units": { "proxlb.service": unit("active", 0, 0) } }));
    let systemd = fake.backend("proxlb");
    assert_eq!(systemd.backend(), BackendKind::Systemd);

    let status = systemd.status().await.unwrap();
    assert_eq!(status.state, ServiceState::Running);
    assert_eq!(status.target, "proxlb.service");
    assert_eq!(status.pid, Some(4242));
    assert_eq!(status.since_unix_ms, Some(1_764_480_000_000));
    assert_eq!(status.problem, None);
    // The unit's interpreter does not exist here, so the version stays unknown.
    assert_eq!(status.version, None);
    assert!(
        fake.calls()
            .contains("show proxlb.service --no-pager --timestamp=unix -p LoadState,"),
        "{}",
        fake.calls()
    );

    systemd.stop().await.unwrap();
    let status = systemd.status().await.unwrap();
    assert_eq!(status.state, ServiceState::Stopped);
    assert_eq!(status.pid, None);
    assert_eq!(status.exit_code, Some(0));

    // Reload of a stopped unit is refused with a message for people.
    let error = systemd.reload().await.unwrap_err();
    assert!(matches!(error, ServiceError::Refused(_)), "{error:?}");

    systemd.start().await.unwrap();
    systemd.reload().await.unwrap();
    systemd.restart().await.unwrap();
    let status = systemd.status().await.unwrap();
    assert_eq!(status.state, ServiceState::Running);
    assert_eq!(status.pid, Some(4243), "restart gave a new main PID");
    let calls = fake.calls();
    for verb in ["stop", "start", "reload", "restart"] {
        assert!(
            calls.contains(&format!("--no-ask-password {verb} proxlb.service")),
            "{calls}"
        );
    }
}

#[tokio::test]
async fn a_failed_unit_shows_its_exit_code_and_last_journal_lines() {
    let fake = Fake::new(json!({ "units": { "proxlb.service": unit("failed", 1, 1) } }));
    let mut entries = vec![entry(
        1,
        json!("2026-11-30 06:00:00,000 - ProxLB - INFO - API connection to host 10.0.0.1:8006 succeeded."),
    )];
    entries.push(entry(2, json!("Traceback (most recent call last):")));
    entries.push(entry(
        3,
        json!("proxmoxer.core.ResourceException: 500 Internal Server Error: boom"),
    ));
    fake.append(&entries);
    let status = fake.backend("proxlb").status().await.unwrap();
    assert_eq!(status.state, ServiceState::Failed);
    assert_eq!(status.exit_code, Some(1));
    assert_eq!(
        status.last_error_lines.last().map(String::as_str),
        Some("proxmoxer.core.ResourceException: 500 Internal Server Error: boom")
    );
    assert!(fake
        .calls()
        .contains("journalctl -u proxlb.service --output=json --all --no-pager -n 30"));
}

#[tokio::test]
async fn unknown_unit_and_polkit_refusal_name_their_cause() {
    let fake = Fake::new(json!({ "units": {}, "deny": false }));
    let missing = fake.backend("proxlb");
    let status = missing.status().await.unwrap();
    assert_eq!(status.state, ServiceState::Unknown);
    assert_eq!(status.problem.unwrap().kind, ProblemKind::UnitNotFound);
    let ServiceError::Problem(problem) = missing.start().await.unwrap_err() else {
        panic!("a problem expected");
    };
    assert_eq!(problem.kind, ProblemKind::UnitNotFound);
    assert!(!missing.loaded().await);

    let fake = Fake::new(json!({
        "units": { "proxlb.service": unit("inactive", 1, 0) },
        "deny": true,
    }));
    let denied = fake.backend("proxlb.service");
    assert!(denied.loaded().await);
    let ServiceError::Problem(problem) = denied.start().await.unwrap_err() else {
        panic!("a problem expected");
    };
    assert_eq!(problem.kind, ProblemKind::PermissionDenied);
    assert!(problem.hint.contains("polkit"), "{}", problem.hint);

    // systemctl itself missing.
    let nowhere = SystemdBackend::with_binaries("proxlb", "/nonexistent/systemctl", "/x");
    let status = nowhere.status().await.unwrap();
    assert_eq!(status.problem.unwrap().kind, ProblemKind::Unavailable);
}

async fn next_text(
    stream: &mut futures::stream::BoxStream<
        'static,
        Result<plb_backend::ports::SourceLine, ServiceError>,
    >,
) -> Result<(String, String), ServiceError> {
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a journal line within 10 s")
        .expect("the stream goes on");
    item.map(|line| {
        assert_eq!(line.line.stream, LogStream::Journal);
        (line.position, line.line.text)
    })
}

#[tokio::test]
async fn logs_follow_the_journal_and_resume_after_a_cursor() {
    let fake = Fake::new(json!({ "units": { "proxlb.service": unit("active", 0, 0) } }));
    fake.append(&[
        entry(1, json!("first")),
        entry(2, json!("second")),
        // Not valid UTF-8: journald gives MESSAGE as a byte array.
        entry(3, json!([116, 104, 105, 114, 100, 255])),
    ]);
    let systemd = fake.backend("proxlb");
    let mut stream = systemd.follow(None, 2).await.unwrap();
    let (_, second) = next_text(&mut stream).await.unwrap();
    assert_eq!(second, "second");
    let (third_cursor, third) = next_text(&mut stream).await.unwrap();
    assert_eq!(third, "third\u{fffd}");
    assert_eq!(third_cursor, "s=0123;i=3");

    // New entries arrive live, with journald's time.
    fake.append(&[entry(4, json!("fourth"))]);
    let (fourth_cursor, fourth) = next_text(&mut stream).await.unwrap();
    assert_eq!(
        (fourth_cursor.as_str(), fourth.as_str()),
        ("s=0123;i=4", "fourth")
    );
    drop(stream);

    // Resuming after a cursor: no gap, no duplicate.
    fake.append(&[entry(5, json!("fifth"))]);
    let mut resumed = systemd.follow(Some(third_cursor), 100).await.unwrap();
    assert_eq!(next_text(&mut resumed).await.unwrap().1, "fourth");
    assert_eq!(next_text(&mut resumed).await.unwrap().1, "fifth");
    assert!(fake
        .calls()
        .contains("--follow --after-cursor=s=0123;i=3 --no-tail"));

    // A cursor journald does not know ends the stream with an error that says so.
    let mut unknown = systemd.follow(Some("s=gone;i=1".into()), 0).await.unwrap();
    let error = next_text(&mut unknown).await.unwrap_err();
    assert!(matches!(error, ServiceError::Refused(_)), "{error:?}");
}

#[tokio::test]
async fn a_journal_we_may_not_read_says_permission_denied() {
    let fake = Fake::new(json!({
        "units": { "proxlb.service": unit("active", 0, 0) },
        "journal_denied": true,
    }));
    let mut stream = fake.backend("proxlb").follow(None, 10).await.unwrap();
    let ServiceError::Problem(problem) = next_text(&mut stream).await.unwrap_err() else {
        panic!("a problem expected");
    };
    assert_eq!(problem.kind, ProblemKind::PermissionDenied);
    assert!(problem.hint.contains("systemd-journal"), "{}", problem.hint);
}

#[tokio::test]
async fn the_version_comes_from_the_units_interpreter() {
    // The workspace's venv has ProxLB 2.3.0 (scripts/setup.sh); the test fails without it.
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        python.exists(),
        "ProxLB is not installed: {} is missing",
        python.display()
    );
    let mut proxlb = unit("active", 0, 0);
    proxlb["ExecStart"] = json!(format!(
        "{{ path={0} ; argv[]={0} -m proxlb -c /etc/proxlb/proxlb.yaml ; ignore_errors=no }}",
        python.display()
    ));
    let fake = Fake::new(json!({ "units": { "proxlb.service": proxlb } }));
    let status = fake.backend("proxlb").status().await.unwrap();
    assert_eq!(status.version.as_deref(), Some("2.3.0"));
}

#[tokio::test]
async fn one_shot_runs_the_unit_s_own_interpreter_or_says_why_not() {
    let fake = Fake::new(json!({ "units": { "proxlb.service": unit("active", 0, 0) } }));
    let OneShot::Local(one_shot) = fake.backend("proxlb").one_shot().await.unwrap() else {
        panic!("the systemd backend runs ProxLB as a local child");
    };
    assert_eq!(
        one_shot.python,
        PathBuf::from("/nonexistent/venv/bin/python3")
    );
    assert!(one_shot
        .env
        .iter()
        .any(|(k, v)| k == "PYTHONUNBUFFERED" && v == "1"));

    // A unit that does not start ProxLB through Python (1.0.x's /usr/bin/proxlb).
    let mut other = unit("active", 0, 0);
    other["ExecStart"] = json!("{ path=/usr/bin/proxlb ; argv[]=/usr/bin/proxlb ; }");
    let fake = Fake::new(json!({ "units": { "proxlb.service": other } }));
    match fake.backend("proxlb").one_shot().await {
        Err(ServiceError::Refused(message)) => {
            assert!(message.contains("Python interpreter"), "{message}")
        }
        other => panic!("not refused: {other:?}"),
    }

    let fake = Fake::new(json!({ "units": {}, "deny": false }));
    match fake.backend("proxlb").one_shot().await {
        Err(ServiceError::Problem(problem)) => {
            assert_eq!(problem.kind, ProblemKind::UnitNotFound)
        }
        other => panic!("not a problem: {other:?}"),
    }
}
