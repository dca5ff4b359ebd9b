//! The systemd backend: the `proxlb` unit (the Debian package's `proxlb.service`) through
//! `systemctl`, its logs from journald through `journalctl --output=json`.
//!
//! Why the command-line tools and not D-Bus: `systemctl` and `journalctl` are the interfaces
//! systemd documents as stable for scripts (`show -p`, `--output=json` with `__CURSOR`), they
//! carry polkit's "interactive authentication" handling (`--no-ask-password`) and the journal
//! file access rules (group `systemd-journal`/`adm`) without a second implementation, and
//! journald has no D-Bus API for reading entries at all: reading the journal over D-Bus would
//! still need `journalctl` or libsystemd. One process per status poll is cheap next to the
//! 2-second poll interval. Timestamps use `--timestamp=unix` (systemd 248+; PVE 8 ships 252).
//!
//! The adapter stays thin: it maps systemd's states and messages onto [`ServiceStatus`] and
//! [`ServiceError`], nothing more. A real systemd cannot run in the test environment, so the
//! tests run it against stand-ins that behave as systemd's documentation says.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_domain::logs::{LogStream, RawLine};
use plb_domain::service::{BackendKind, ProblemKind, ServiceState, ServiceStatus};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use super::process::ERROR_LINES;
use crate::ports::{LocalProxlb, LogSource, OneShot, ServiceError, ServiceManager, SourceLine};

/// How long a failed version check is remembered.
const VERSION_RETRY: Duration = Duration::from_secs(60);
/// How long a `systemctl` call may take (start/stop wait for their job to finish).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// The properties `status` reads.
const PROPERTIES: &str = "LoadState,ActiveState,SubState,MainPID,ExecMainCode,ExecMainStatus,\
                          StateChangeTimestamp,ExecStart";
/// The CA bundle ProxLB's units pass as `REQUESTS_CA_BUNDLE`.
const UNIT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Where systemd keeps its runtime state; it exists only while systemd is PID 1
/// (`sd_booted(3)`).
const SYSTEMD_RUNTIME: &str = "/run/systemd/system";

/// ProxLB as a systemd unit. Implements [`ServiceManager`] and [`LogSource`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SystemdBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    systemctl: PathBuf,
    journalctl: PathBuf,
    unit: String,
    /// The version once known, and when it was last asked for without success.
    version: tokio::sync::Mutex<(Option<String>, Option<Instant>)>,
}

/// Whether systemd manages this machine (`/run/systemd/system` exists).
pub fn systemd_running() -> bool {
    Path::new(SYSTEMD_RUNTIME).is_dir()
}

/// `proxlb` → `proxlb.service`; a name with a unit suffix stays as it is.
fn unit_name(unit: &str) -> String {
    let unit = unit.trim();
    if unit.contains('.') {
        unit.to_owned()
    } else {
        format!("{unit}.service")
    }
}

/// What `systemctl show` told.
#[derive(Debug, Default)]
struct Show {
    load_state: String,
    active_state: String,
    main_pid: Option<u32>,
    exec_main_code: i32,
    exec_main_status: i32,
    since_unix_ms: Option<i64>,
    exec_path: Option<String>,
}

fn parse_show(stdout: &str) -> Show {
    let mut show = Show::default();
    for line in stdout.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "LoadState" => show.load_state = value.to_owned(),
            "ActiveState" => show.active_state = value.to_owned(),
            "MainPID" => show.main_pid = value.parse().ok().filter(|pid| *pid > 0),
            "ExecMainCode" => show.exec_main_code = value.parse().unwrap_or(0),
            "ExecMainStatus" => show.exec_main_status = value.parse().unwrap_or(0),
            // `--timestamp=unix` prints `@<seconds>`; empty when it never happened.
            "StateChangeTimestamp" => {
                show.since_unix_ms = value
                    .strip_prefix('@')
                    .and_then(|seconds| seconds.parse::<i64>().ok())
                    .map(|seconds| seconds * 1000);
            }
            // `{ path=/opt/venvs/proxlb/bin/python3 ; argv[]=… ; … }`
            "ExecStart" => {
                show.exec_path = value
                    .split([' ', ';', '{'])
                    .find_map(|part| part.strip_prefix("path="))
                    .map(str::to_owned);
            }
            _ => {}
        }
    }
    show
}

/// One journal entry of `journalctl --output=json` as a line. `MESSAGE` is a string, an array
/// of bytes (not valid UTF-8, or with control characters), or null (over 4096 bytes without
/// `--all`, which is always passed).
fn parse_entry(json: &str) -> Option<SourceLine> {
    let entry: Value = serde_json::from_str(json).ok()?;
    let cursor = entry.get("__CURSOR")?.as_str()?.to_owned();
    let micros: i64 = entry
        .get("__REALTIME_TIMESTAMP")
        .and_then(Value::as_str)
        .and_then(|micros| micros.parse().ok())
        .unwrap_or(0);
    let text = match entry.get("MESSAGE") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(bytes)) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|byte| byte.as_u64().and_then(|byte| u8::try_from(byte).ok()))
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => String::new(),
    };
    Some(SourceLine {
        position: cursor,
        line: RawLine {
            at_unix_ms: micros / 1000,
            stream: LogStream::Journal,
            text: text.trim_end_matches(['\n', '\r']).to_owned(),
        },
    })
}

/// Maps a failed `systemctl` call's message onto a problem that names the cause.
fn classify(unit: &str, what: &str, stderr: &str) -> ServiceError {
    let stderr = stderr.trim();
    if stderr.contains("Interactive authentication required")
        || stderr.contains("Access denied")
        || stderr.contains("Permission denied")
    {
        return ServiceError::problem(
            ProblemKind::PermissionDenied,
            format!("systemd refused {what} {unit}: permission denied"),
            format!(
                "Run ProxLB Web as root, or allow its user to manage {unit} with a polkit rule \
                 for org.freedesktop.systemd1.manage-units."
            ),
        );
    }
    if stderr.contains("not found") || stderr.contains("not loaded") {
        return ServiceError::problem(
            ProblemKind::UnitNotFound,
            format!("systemd has no unit {unit}"),
            "Install the proxlb Debian package, or set PROXLB_SYSTEMD_UNIT to the unit's name.",
        );
    }
    if stderr.contains("not applicable") {
        return ServiceError::Refused(format!(
            "{unit} is not running: start it instead of reloading"
        ));
    }
    ServiceError::Backend {
        what: format!("{what} {unit}"),
        detail: stderr.to_owned(),
    }
}

impl SystemdBackend {
    /// The unit `unit` (`proxlb` means `proxlb.service`) through `systemctl` and `journalctl`
    /// from `PATH`.
    pub fn new(unit: &str) -> Self {
        Self::with_binaries(unit, "systemctl", "journalctl")
    }

    /// The same with other `systemctl` and `journalctl` binaries (tests use stand-ins).
    pub fn with_binaries(
        unit: &str,
        systemctl: impl Into<PathBuf>,
        journalctl: impl Into<PathBuf>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                systemctl: systemctl.into(),
                journalctl: journalctl.into(),
                unit: unit_name(unit),
                version: tokio::sync::Mutex::new((None, None)),
            }),
        }
    }

    /// The full unit name (`proxlb.service`).
    pub fn unit(&self) -> &str {
        &self.inner.unit
    }

    /// Whether systemd has the unit loaded (auto-selection uses this).
    pub async fn loaded(&self) -> bool {
        self.show()
            .await
            .is_ok_and(|show| show.load_state == "loaded")
    }

    /// Runs `binary args…` and returns (success, stdout, stderr).
    async fn call(
        &self,
        binary: &Path,
        args: &[&str],
        what: &str,
    ) -> Result<(bool, String, String), ServiceError> {
        let output = tokio::process::Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(CALL_TIMEOUT, output)
            .await
            .map_err(|_| ServiceError::Backend {
                what: format!("{what} {}", self.inner.unit),
                detail: format!("{} {args:?} took over {CALL_TIMEOUT:?}", binary.display()),
            })?
            .map_err(|error| {
                ServiceError::problem(
                    ProblemKind::Unavailable,
                    format!("{} cannot be run: {error}", binary.display()),
                    "The systemd backend needs systemctl and journalctl; choose another \
                     backend with PROXLB_SERVICE.",
                )
            })?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    async fn show(&self) -> Result<Show, ServiceError> {
        let unit = self.inner.unit.as_str();
        let args = [
            "show",
            unit,
            "--no-pager",
            "--timestamp=unix",
            "-p",
            PROPERTIES,
        ];
        let (ok, stdout, stderr) = self
            .call(&self.inner.systemctl, &args, "reading the state of")
            .await?;
        if !ok {
            return Err(classify(unit, "reading the state of", &stderr));
        }
        Ok(parse_show(&stdout))
    }

    async fn action(&self, verb: &str, what: &str) -> Result<(), ServiceError> {
        let unit = self.inner.unit.as_str();
        let args = ["--no-ask-password", verb, unit];
        let (ok, _, stderr) = self.call(&self.inner.systemctl, &args, what).await?;
        if ok {
            Ok(())
        } else {
            Err(classify(unit, what, &stderr))
        }
    }

    /// ProxLB's version from the unit's interpreter (`ExecStart`'s path, when it is a python),
    /// remembered once known; a failed try is repeated at most every [`VERSION_RETRY`].
    async fn version(&self, exec_path: Option<&str>) -> Option<String> {
        let mut known = self.inner.version.lock().await;
        if known.0.is_some() || known.1.is_some_and(|at| at.elapsed() < VERSION_RETRY) {
            return known.0.clone();
        }
        let python = exec_path.filter(|path| {
            Path::new(path)
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("python"))
        })?;
        match super::version::probe(Path::new(python), "").await {
            Ok(version) => known.0 = Some(version),
            Err(_) => known.1 = Some(Instant::now()),
        }
        known.0.clone()
    }

    /// The messages of the unit's last `ERROR_LINES` journal entries.
    async fn last_lines(&self) -> Vec<String> {
        let lines = ERROR_LINES.to_string();
        let args = [
            "-u",
            self.inner.unit.as_str(),
            "--output=json",
            "--all",
            "--no-pager",
            "-n",
            lines.as_str(),
        ];
        match self
            .call(&self.inner.journalctl, &args, "reading the journal of")
            .await
        {
            Ok((true, stdout, _)) => stdout
                .lines()
                .filter_map(parse_entry)
                .map(|line| line.line.text)
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[async_trait::async_trait]
impl ServiceManager for SystemdBackend {
    fn backend(&self) -> BackendKind {
        BackendKind::Systemd
    }

    async fn status(&self) -> Result<ServiceStatus, ServiceError> {
        let mut status = ServiceStatus {
            backend: BackendKind::Systemd,
            target: self.inner.unit.clone(),
            state: ServiceState::Unknown,
            since_unix_ms: None,
            pid: None,
            exit_code: None,
            last_error_lines: Vec::new(),
            version: None,
            problem: None,
        };
        let show = match self.show().await {
            Ok(show) => show,
            Err(ServiceError::Problem(problem)) => {
                status.problem = Some(problem);
                return Ok(status);
            }
            Err(error) => return Err(error),
        };
        if show.load_state != "loaded" {
            let ServiceError::Problem(problem) =
                classify(&self.inner.unit, "reading the state of", "not found")
            else {
                return Ok(status);
            };
            status.problem = Some(problem);
            return Ok(status);
        }
        status.state = match show.active_state.as_str() {
            "active" | "reloading" => ServiceState::Running,
            "activating" | "deactivating" => ServiceState::Restarting,
            "failed" => ServiceState::Failed,
            "inactive" => ServiceState::Stopped,
            _ => ServiceState::Unknown,
        };
        status.since_unix_ms = show.since_unix_ms;
        status.pid = show.main_pid;
        // ExecMainCode is the siginfo code: 1 = exited (status is the exit code), 2 = killed,
        // 3 = dumped (status is the signal).
        if show.exec_main_code == 1 {
            status.exit_code = Some(show.exec_main_status);
        }
        if status.state == ServiceState::Failed {
            status.last_error_lines = self.last_lines().await;
        }
        status.version = self.version(show.exec_path.as_deref()).await;
        Ok(status)
    }

    async fn start(&self) -> Result<(), ServiceError> {
        self.action("start", "starting").await
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        self.action("stop", "stopping").await
    }

    async fn restart(&self) -> Result<(), ServiceError> {
        self.action("restart", "restarting").await
    }

    async fn reload(&self) -> Result<(), ServiceError> {
        self.action("reload", "reloading").await
    }

    /// The unit's own interpreter (`ExecStart`'s path; the Debian package's is
    /// `/opt/venvs/proxlb/bin/python3`), run locally with the CA bundle the unit sets.
    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        let show = self.show().await?;
        if show.load_state != "loaded" {
            return Err(classify(
                &self.inner.unit,
                "reading the state of",
                "not found",
            ));
        }
        let python = show
            .exec_path
            .filter(|path| {
                Path::new(path)
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("python"))
            })
            .ok_or_else(|| {
                ServiceError::Refused(format!(
                    "{} does not start ProxLB through a Python interpreter, so ProxLB Web \
                     cannot run it once beside the daemon",
                    self.inner.unit
                ))
            })?;
        let mut env = super::process::passed_env();
        // The shipped units set this (proxlb.service of the Debian package, ProxLB 2.3.0).
        let bundle = Path::new(UNIT_CA_BUNDLE);
        if bundle.exists() {
            env.push((
                "REQUESTS_CA_BUNDLE".to_owned(),
                bundle.as_os_str().to_owned(),
            ));
        }
        Ok(OneShot::Local(LocalProxlb {
            python: PathBuf::from(python),
            env,
        }))
    }
}

#[async_trait::async_trait]
impl LogSource for SystemdBackend {
    /// `journalctl -u <unit> --output=json --follow`, from after the cursor `after`
    /// (`--after-cursor … --no-tail`) or the last `tail` entries. The position of a line is its
    /// journal cursor. A journal we may not read yields one `PermissionDenied` item.
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
        let unit = self.inner.unit.clone();
        let mut command = tokio::process::Command::new(&self.inner.journalctl);
        command.args([
            "-u",
            &unit,
            "--output=json",
            "--all",
            "--no-pager",
            "--follow",
        ]);
        match &after {
            Some(cursor) => command
                .arg(format!("--after-cursor={cursor}"))
                .arg("--no-tail"),
            None => command.arg(format!("--lines={tail}")),
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| {
                ServiceError::problem(
                    ProblemKind::Unavailable,
                    format!("{} cannot be run: {error}", self.inner.journalctl.display()),
                    "The systemd backend reads ProxLB's logs with journalctl.",
                )
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(ServiceError::Backend {
                what: format!("reading the journal of {unit}"),
                detail: "journalctl's pipes are missing".into(),
            });
        };
        let (sender, receiver) = mpsc::channel(1024);
        tokio::spawn(async move {
            // Owns the child: when the receiver is dropped, a send fails, this task ends and
            // kill_on_drop ends journalctl.
            let mut out = BufReader::new(stdout).lines();
            let mut err = BufReader::new(stderr).lines();
            let mut err_text = String::new();
            let mut err_open = true;
            loop {
                tokio::select! {
                    line = out.next_line() => match line {
                        Ok(Some(json)) => {
                            if let Some(line) = parse_entry(&json) {
                                if sender.send(Ok(line)).await.is_err() {
                                    return;
                                }
                            }
                        }
                        _ => break,
                    },
                    line = err.next_line(), if err_open => match line {
                        Ok(Some(text)) => {
                            if text.contains("insufficient permissions")
                                || text.contains("not seeing messages from other users")
                            {
                                let problem = ServiceError::problem(
                                    ProblemKind::PermissionDenied,
                                    format!("journald does not let ProxLB Web read {unit}'s log"),
                                    "Add ProxLB Web's user to the systemd-journal group.",
                                );
                                if sender.send(Err(problem)).await.is_err() {
                                    return;
                                }
                            }
                            err_text.push_str(&text);
                            err_text.push('\n');
                        }
                        _ => err_open = false,
                    },
                }
            }
            let status = child.wait().await;
            if !status.as_ref().is_ok_and(ExitStatus::success) {
                let error = if err_text.contains("cursor") {
                    ServiceError::Refused(format!(
                        "the journal has no entry at that position of {unit}; follow from the \
                         newest lines instead"
                    ))
                } else {
                    ServiceError::Backend {
                        what: format!("reading the journal of {unit}"),
                        detail: format!("journalctl ended ({status:?}): {}", err_text.trim()),
                    }
                };
                let _ = sender.send(Err(error)).await;
            }
        });
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_systemctl_show() {
        let show = parse_show(
            "LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nExecMainCode=1\n\
             ExecMainStatus=1\nStateChangeTimestamp=@1764480000\nExecStart={ \
             path=/opt/venvs/proxlb/bin/python3 ; argv[]=/opt/venvs/proxlb/bin/python3 -m proxlb \
             -c /etc/proxlb/proxlb.yaml ; ignore_errors=no }\n",
        );
        assert_eq!(show.active_state, "failed");
        assert_eq!(show.main_pid, None);
        assert_eq!(show.exec_main_status, 1);
        assert_eq!(show.since_unix_ms, Some(1_764_480_000_000));
        assert_eq!(
            show.exec_path.as_deref(),
            Some("/opt/venvs/proxlb/bin/python3")
        );
    }

    #[test]
    fn reads_journal_entries_with_text_or_byte_messages() {
        let line = parse_entry(
            r#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1764480000123456","MESSAGE":"hi"}"#,
        )
        .unwrap();
        assert_eq!(line.position, "s=1;i=2");
        assert_eq!(line.line.at_unix_ms, 1_764_480_000_123);
        assert_eq!(line.line.text, "hi");
        let bytes =
            parse_entry(r#"{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","MESSAGE":[104,255,10]}"#)
                .unwrap();
        assert_eq!(bytes.line.text, "h\u{fffd}");
        assert!(parse_entry("not json").is_none());
        assert_eq!(unit_name("proxlb"), "proxlb.service");
        assert_eq!(unit_name("proxlb@eu.service"), "proxlb@eu.service");
    }
}
