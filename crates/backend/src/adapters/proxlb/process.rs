//! The process backend: ProxLB as a child of ProxLB Web, `<python> -m proxlb -c <config>`.
//!
//! - stdout and stderr are read line by line into a [`LogBuffer`] (kept across restarts of the
//!   child) with the time each line was read, since ProxLB's own timestamps have no zone.
//! - Stop sends SIGINT (ProxLB exits 0 on it; SIGTERM would kill it at once, without its
//!   handler; `proxlb/utils/helper.py` at v2.3.0) and waits up to [`ProcessConfig::stop_timeout`]
//!   before SIGKILL. Reload sends SIGHUP: ProxLB re-reads its config after its current sleep.
//! - A crash (non-zero exit that nobody asked for) shows as `failed` with the exit code and the
//!   last lines of stderr (the traceback) until someone starts it again: like ProxLB's own unit,
//!   which has no `Restart=`, this backend never restarts it silently.
//! - The child gets a small allow-listed environment (never ProxLB Web's own secrets), is killed
//!   if its handle is dropped (`kill_on_drop`), and [`ProcessBackend::shutdown`] stops it
//!   gracefully when the server ends.
//!
//! Signals go through `rustix` (already a dependency; a safe API, no `unsafe`).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::stream::BoxStream;
use plb_domain::logs::{LogStream, RawLine};
use plb_domain::service::{BackendKind, ProblemKind, ServiceProblem, ServiceState, ServiceStatus};
use rustix::process::{kill_process, Pid, Signal};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

use super::buffer::{LogBuffer, DEFAULT_CAPACITY};
use super::version;
use crate::ports::{LocalProxlb, LogSource, OneShot, ServiceError, ServiceManager, SourceLine};

/// How many lines of a failed run are kept as its `last_error_lines`.
pub const ERROR_LINES: usize = 30;
/// A longer line is cut here (a line is one log record; this only bounds memory).
const MAX_LINE_BYTES: usize = 64 * 1024;
/// How long a failed pre-flight check (`-v`) is remembered before it is tried again.
const PROBE_RETRY: Duration = Duration::from_secs(15);
/// Variables passed on to ProxLB; everything else of ProxLB Web's environment stays private.
pub const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYTHONPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// How to run ProxLB as a child process.
#[derive(Clone, Debug)]
pub struct ProcessConfig {
    /// The interpreter ProxLB is installed in (`PROXLB_PYTHON`).
    pub python: PathBuf,
    /// ProxLB's configuration file, passed as `-c`.
    pub config: PathBuf,
    /// A CA bundle ProxLB should trust (`REQUESTS_CA_BUNDLE`), e.g. the demo simulator's.
    pub ca_file: Option<PathBuf>,
    /// The child's working folder; default the configuration file's folder.
    pub workdir: Option<PathBuf>,
    /// Lines kept in memory.
    pub capacity: usize,
    /// How long stop waits after SIGINT before SIGKILL.
    pub stop_timeout: Duration,
    /// Appended to the hint of every problem (the demo says where ProxLB comes from).
    pub hint: String,
}

impl ProcessConfig {
    /// Runs `python -m proxlb -c config` with the defaults: 10,000 lines, 10 s to stop.
    pub fn new(python: impl Into<PathBuf>, config: impl Into<PathBuf>) -> Self {
        Self {
            python: python.into(),
            config: config.into(),
            ca_file: None,
            workdir: None,
            capacity: DEFAULT_CAPACITY,
            stop_timeout: Duration::from_secs(10),
            hint: String::new(),
        }
    }
}

/// ProxLB as a child process. Implements [`ServiceManager`] and [`LogSource`]. Cheap to clone.
#[derive(Clone)]
pub struct ProcessBackend {
    inner: Arc<Inner>,
}

struct Inner {
    config: ProcessConfig,
    buffer: LogBuffer,
    /// One action at a time.
    ops: tokio::sync::Mutex<()>,
    /// Shared with the task waiting for the child.
    run: Arc<Mutex<Run>>,
    probe: tokio::sync::Mutex<Probe>,
}

/// The state of the current or last child.
struct Run {
    state: ServiceState,
    since_unix_ms: Option<i64>,
    exit_code: Option<i32>,
    last_error_lines: Vec<String>,
    /// The running child, if any.
    child: Option<Child>,
    /// Set while a restart is between its stop and its start.
    restarting: bool,
}

/// A running child: its PID and a flag that turns true once it has exited and been reaped.
#[derive(Clone)]
struct Child {
    pid: u32,
    exited: watch::Receiver<bool>,
    stop_requested: Arc<std::sync::atomic::AtomicBool>,
}

enum Probe {
    NotYet,
    Ok(String),
    Failed(Instant, ServiceError),
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent at every await-free step, so a poisoned lock is fine.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn signal(pid: u32, signal: Signal) -> Result<(), ServiceError> {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return Err(ServiceError::Backend {
            what: "signalling ProxLB".into(),
            detail: format!("invalid pid {pid}"),
        });
    };
    kill_process(pid, signal).map_err(|error| ServiceError::Backend {
        what: "signalling ProxLB".into(),
        detail: format!("kill({pid:?}, {signal:?}): {error}"),
    })
}

/// Waits until `exited` turns true, at most `timeout`; true if it did.
async fn wait_exit(mut exited: watch::Receiver<bool>, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, exited.wait_for(|done| *done))
        .await
        .is_ok_and(|result| result.is_ok())
}

impl ProcessBackend {
    /// A backend for `config`; starts nothing.
    pub fn new(config: ProcessConfig) -> Self {
        let buffer = LogBuffer::new(config.capacity);
        Self {
            inner: Arc::new(Inner {
                config,
                buffer,
                ops: tokio::sync::Mutex::new(()),
                run: Arc::new(Mutex::new(Run {
                    state: ServiceState::Stopped,
                    since_unix_ms: None,
                    exit_code: None,
                    last_error_lines: Vec::new(),
                    child: None,
                    restarting: false,
                })),
                probe: tokio::sync::Mutex::new(Probe::NotYet),
            }),
        }
    }

    /// The command line, for people.
    pub fn target(&self) -> String {
        format!(
            "{} -m proxlb -c {}",
            self.inner.config.python.display(),
            self.inner.config.config.display()
        )
    }

    /// The log buffer (shared with [`LogSource::follow`]).
    pub fn buffer(&self) -> &LogBuffer {
        &self.inner.buffer
    }

    /// ProxLB's version, or why the interpreter cannot run it. A success is remembered; a
    /// failure for [`PROBE_RETRY`].
    pub async fn version(&self) -> Result<String, ServiceError> {
        let mut probe = self.inner.probe.lock().await;
        match &*probe {
            Probe::Ok(version) => return Ok(version.clone()),
            Probe::Failed(at, error) if at.elapsed() < PROBE_RETRY => return Err(error.clone()),
            _ => {}
        }
        let result = version::probe(&self.inner.config.python, &self.inner.config.hint).await;
        *probe = match &result {
            Ok(version) => Probe::Ok(version.clone()),
            Err(error) => Probe::Failed(Instant::now(), error.clone()),
        };
        result
    }

    /// Stops a running ProxLB gracefully (SIGINT, then SIGKILL after the stop timeout). Call it
    /// when the server shuts down, so the child never outlives it.
    pub async fn shutdown(&self) {
        let _ops = self.inner.ops.lock().await;
        if let Err(error) = self.stop_locked().await {
            tracing::warn!(%error, "stopping ProxLB at shutdown failed");
        }
    }

    fn running_child(&self) -> Option<Child> {
        lock(&self.inner.run)
            .child
            .clone()
            .filter(|child| !*child.exited.borrow())
    }

    async fn start_locked(&self) -> Result<(), ServiceError> {
        if self.running_child().is_some() {
            return Ok(());
        }
        self.version().await?;
        let config = &self.inner.config;
        let mut command = tokio::process::Command::new(&config.python);
        command
            .args(["-m", "proxlb", "-c"])
            .arg(&config.config)
            .env_clear()
            .envs(
                PASSED_ENV
                    .iter()
                    .filter_map(|name| std::env::var_os(name).map(|value| (*name, value))),
            )
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(ca_file) = &config.ca_file {
            command.env("REQUESTS_CA_BUNDLE", ca_file);
        }
        let workdir = config
            .workdir
            .clone()
            .or_else(|| config.config.parent().map(PathBuf::from))
            .filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = workdir {
            command.current_dir(dir);
        }
        let mut child = command
            .spawn()
            .map_err(|error| version::interpreter_missing(&config.python, &error, &config.hint))?;
        let Some(pid) = child.id() else {
            return Err(ServiceError::Backend {
                what: "starting ProxLB".into(),
                detail: "the child exited before its PID could be read".into(),
            });
        };
        let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(ERROR_LINES)));
        let output_tail = Arc::new(Mutex::new(VecDeque::with_capacity(ERROR_LINES)));
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(tokio::spawn(read_lines(
                stdout,
                LogStream::Stdout,
                self.inner.buffer.clone(),
                vec![output_tail.clone()],
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(tokio::spawn(read_lines(
                stderr,
                LogStream::Stderr,
                self.inner.buffer.clone(),
                vec![output_tail.clone(), stderr_tail.clone()],
            )));
        }
        let (exited_tx, exited_rx) = watch::channel(false);
        let handle = Child {
            pid,
            exited: exited_rx,
            stop_requested: Arc::default(),
        };
        {
            let mut run = lock(&self.inner.run);
            run.state = ServiceState::Running;
            run.since_unix_ms = Some(now_ms());
            run.exit_code = None;
            run.last_error_lines.clear();
            run.child = Some(handle.clone());
        }
        tracing::info!(pid, command = %self.target(), "ProxLB started");
        let run = self.inner.run.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            // The pipes close when the process ends; wait briefly for the readers to drain
            // them, so the traceback's last line is in the buffer and in the error lines.
            for reader in readers {
                let _drained = tokio::time::timeout(Duration::from_secs(2), reader).await;
            }
            let stopped = handle
                .stop_requested
                .load(std::sync::atomic::Ordering::SeqCst);
            finish(
                &run,
                status,
                stopped,
                &lock(&stderr_tail),
                &lock(&output_tail),
            );
            let _ = exited_tx.send(true);
        });
        Ok(())
    }

    async fn stop_locked(&self) -> Result<(), ServiceError> {
        let Some(child) = self.running_child() else {
            return Ok(());
        };
        child
            .stop_requested
            .store(true, std::sync::atomic::Ordering::SeqCst);
        signal(child.pid, Signal::INT)?;
        if wait_exit(child.exited.clone(), self.inner.config.stop_timeout).await {
            return Ok(());
        }
        tracing::warn!(
            pid = child.pid,
            timeout = ?self.inner.config.stop_timeout,
            "ProxLB did not stop after SIGINT; sending SIGKILL"
        );
        if !*child.exited.borrow() {
            signal(child.pid, Signal::KILL)?;
        }
        if wait_exit(child.exited, Duration::from_secs(5)).await {
            Ok(())
        } else {
            Err(ServiceError::Backend {
                what: "stopping ProxLB".into(),
                detail: format!("pid {} survived SIGKILL for 5 s", child.pid),
            })
        }
    }
}

/// Records how the child ended: exit 0 or a requested stop → stopped; anything else → failed
/// with its exit code and its last stderr lines (or, without any, its last output lines).
fn finish(
    run: &Mutex<Run>,
    status: std::io::Result<ExitStatus>,
    stop_requested: bool,
    stderr_tail: &VecDeque<String>,
    output_tail: &VecDeque<String>,
) {
    use std::os::unix::process::ExitStatusExt;
    let mut run = lock(run);
    run.child = None;
    run.since_unix_ms = Some(now_ms());
    match status {
        Ok(status) => {
            run.exit_code = status.code();
            if status.success() || stop_requested {
                run.state = ServiceState::Stopped;
                run.last_error_lines.clear();
                tracing::info!(%status, "ProxLB stopped");
            } else {
                run.state = ServiceState::Failed;
                let tail = if stderr_tail.is_empty() {
                    output_tail
                } else {
                    stderr_tail
                };
                run.last_error_lines = tail.iter().cloned().collect();
                tracing::warn!(%status, signal = ?status.signal(), "ProxLB failed");
            }
        }
        Err(error) => {
            run.state = ServiceState::Failed;
            run.exit_code = None;
            run.last_error_lines = vec![format!("waiting for ProxLB failed: {error}")];
        }
    }
}

/// Reads `pipe` line by line into `buffer` (and the last [`ERROR_LINES`] into each of `tails`)
/// until it closes. Invalid UTF-8 is replaced, not dropped.
async fn read_lines(
    pipe: impl AsyncRead + Unpin,
    stream: LogStream,
    buffer: LogBuffer,
    tails: Vec<Arc<Mutex<VecDeque<String>>>>,
) {
    let mut reader = BufReader::new(pipe);
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        match reader.read_until(b'\n', &mut bytes).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, ?stream, "reading ProxLB's output failed");
                return;
            }
        }
        while matches!(bytes.last(), Some(b'\n' | b'\r')) {
            bytes.pop();
        }
        bytes.truncate(MAX_LINE_BYTES);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for tail in &tails {
            let mut tail = lock(tail);
            if tail.len() == ERROR_LINES {
                tail.pop_front();
            }
            tail.push_back(text.clone());
        }
        buffer.push(RawLine {
            at_unix_ms: now_ms(),
            stream,
            text,
        });
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: ask a still-running ProxLB to stop (kill_on_drop on the
        // child follows when the waiting task ends with the runtime).
        let child = lock(&self.run).child.clone();
        if let Some(child) = child.filter(|child| !*child.exited.borrow()) {
            child
                .stop_requested
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = signal(child.pid, Signal::INT);
        }
    }
}

#[async_trait::async_trait]
impl ServiceManager for ProcessBackend {
    fn backend(&self) -> BackendKind {
        BackendKind::Process
    }

    async fn status(&self) -> Result<ServiceStatus, ServiceError> {
        let (version, problem) = match self.version().await {
            Ok(version) => (Some(version), None),
            Err(ServiceError::Problem(problem)) => (None, Some(problem)),
            Err(error) => {
                tracing::warn!(%error, detail = ?error, "ProxLB's version check failed");
                let problem = ServiceProblem {
                    kind: ProblemKind::Unavailable,
                    message: format!("{} -m proxlb -v failed", self.inner.config.python.display()),
                    hint: "Run the same command in a shell to see why.".into(),
                };
                (None, Some(problem))
            }
        };
        let run = lock(&self.inner.run);
        let running = run.child.as_ref().filter(|child| !*child.exited.borrow());
        let state = if run.restarting {
            ServiceState::Restarting
        } else if problem.is_some() && running.is_none() {
            ServiceState::Unknown
        } else {
            run.state
        };
        Ok(ServiceStatus {
            backend: BackendKind::Process,
            target: self.target(),
            state,
            since_unix_ms: run.since_unix_ms,
            pid: running.map(|child| child.pid),
            exit_code: run.exit_code,
            last_error_lines: run.last_error_lines.clone(),
            version,
            problem,
        })
    }

    async fn start(&self) -> Result<(), ServiceError> {
        let _ops = self.inner.ops.lock().await;
        self.start_locked().await
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        let _ops = self.inner.ops.lock().await;
        self.stop_locked().await
    }

    async fn restart(&self) -> Result<(), ServiceError> {
        let _ops = self.inner.ops.lock().await;
        {
            let mut run = lock(&self.inner.run);
            run.restarting = true;
            run.since_unix_ms = Some(now_ms());
        }
        let result = match self.stop_locked().await {
            Ok(()) => self.start_locked().await,
            Err(error) => Err(error),
        };
        lock(&self.inner.run).restarting = false;
        result
    }

    async fn reload(&self) -> Result<(), ServiceError> {
        let _ops = self.inner.ops.lock().await;
        let Some(child) = self.running_child() else {
            return Err(ServiceError::Refused(
                "ProxLB is not running: start it instead of reloading".into(),
            ));
        };
        signal(child.pid, Signal::HUP)
    }

    /// The same interpreter, environment and CA bundle as the daemon child.
    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        self.version().await?;
        let mut env = passed_env();
        if let Some(ca_file) = &self.inner.config.ca_file {
            env.push(("REQUESTS_CA_BUNDLE".to_owned(), ca_file.clone().into()));
        }
        Ok(OneShot::Local(LocalProxlb {
            python: self.inner.config.python.clone(),
            env,
        }))
    }
}

/// The allow-listed part of ProxLB Web's environment ([`PASSED_ENV`]), unbuffered output.
pub fn passed_env() -> Vec<(String, std::ffi::OsString)> {
    PASSED_ENV
        .iter()
        .filter_map(|name| std::env::var_os(name).map(|value| ((*name).to_owned(), value)))
        .chain([("PYTHONUNBUFFERED".to_owned(), "1".into())])
        .collect()
}

#[async_trait::async_trait]
impl LogSource for ProcessBackend {
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
        self.inner.buffer.follow(after.as_deref(), tail)
    }
}
