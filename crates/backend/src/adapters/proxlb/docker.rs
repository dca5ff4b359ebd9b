//! The Docker backend: ProxLB in the container `PROXLB_CONTAINER`, controlled and read through
//! the Docker Engine API (bollard) on `DOCKER_HOST` or `/var/run/docker.sock`.
//!
//! - **Status** comes from `GET /containers/{name}/json`: `State.Status`, `StartedAt`,
//!   `FinishedAt`, `ExitCode`, `Pid`. An exited container with a non-zero exit code is
//!   *failed*, with the last lines of that run's output (its traceback) attached.
//! - **Stop** sends SIGINT (`POST /kill?signal=SIGINT`) and waits for the exit, instead of
//!   `POST /stop`: ProxLB exits 0 on SIGINT, while Docker's default stop signal SIGTERM has no
//!   handler in ProxLB, and an unhandled SIGTERM is *ignored* by PID 1 in a container, so
//!   `docker stop` waits its timeout and then SIGKILLs (exit 137, "failed"). `/stop` takes a
//!   signal only from API 1.42 on (Docker 23), and the container's own `StopSignal` is SIGTERM
//!   in images that do not set it (the upstream image does not), so kill-then-wait is the one
//!   way that ends ProxLB cleanly on every engine and image. Only when ProxLB does not exit
//!   within the timeout does it fall back to `/stop` (SIGTERM, then SIGKILL).
//! - **Restart** is stop + start (a fresh process runs at once: "run now").
//! - **Reload** sends SIGHUP to PID 1 from inside the container (`docker exec … sh -c 'kill
//!   -HUP 1'`), and only when that is impossible (no `/bin/sh` in the image) through
//!   `POST /kill?signal=SIGHUP`: Docker (20.10, observed) treats *any* kill through the API as a
//!   manual stop for the restart policy, so after an API SIGHUP a later crash or a reboot would
//!   no longer restart a container with `restart: unless-stopped` until it is next started.
//! - **Logs** come from `GET /containers/{name}/logs?timestamps=true`: every line carries
//!   Docker's RFC 3339 timestamp (nanoseconds, UTC), which becomes [`RawLine::at_unix_ms`].
//!   A line's position is its timestamp in nanoseconds plus its index among the lines with
//!   the same timestamp, so following again after a position neither repeats nor skips a line
//!   (Docker's `since` has whole seconds only; the rest is filtered here).
//! - **Run once** ("ask real ProxLB") runs ProxLB in a one-off container beside this one:
//!   [`super::docker_one_shot`].

use std::sync::Arc;
use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum};
use bollard::query_parameters::{
    KillContainerOptions, LogsOptions, StopContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures::stream::BoxStream;
use futures::StreamExt;
use plb_domain::logs::{LogStream, RawLine};
use plb_domain::service::{BackendKind, ProblemKind, ServiceState, ServiceStatus};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::{mpsc, Mutex};

use super::docker_one_shot::DockerOneShot;
use crate::ports::{LogSource, OneShot, ServiceError, ServiceManager, SourceLine};

/// Where Docker listens when neither the argument nor `DOCKER_HOST` says.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// Timeout of one API request (bollard applies it until the response headers, so a followed
/// log stream is not cut by it).
const REQUEST_TIMEOUT_SECS: u64 = 30;
/// How long `stop` waits for ProxLB to exit after SIGINT before it falls back to `/stop`.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How many output lines of a failed run the status carries.
const ERROR_LINES: usize = 30;
/// How often a follower checks whether a stopped container runs again.
const RESTART_POLL: Duration = Duration::from_millis(500);
/// Lines buffered between the Docker stream and a slow consumer.
const CHANNEL_LINES: usize = 1024;
/// The image labels that carry the version: the OCI annotation (our image), then the older
/// label-schema one (the upstream image sets other label-schema labels, but no version).
const VERSION_LABELS: [&str; 2] = [
    "org.opencontainers.image.version",
    "org.label-schema.version",
];

/// ProxLB in a Docker container. Cheap to clone; every clone shares one API client.
#[derive(Clone)]
pub struct DockerBackend {
    host: String,
    container: String,
    /// The client, made (and its API version negotiated) on first use, so that `connect` does
    /// no IO and a daemon that starts later is still found.
    client: Arc<Mutex<Option<Docker>>>,
}

impl std::fmt::Debug for DockerBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerBackend")
            .field("host", &self.host)
            .field("container", &self.container)
            .finish()
    }
}

impl DockerBackend {
    /// A backend for `container` on `docker_host` (`unix:///path`, `tcp://host:port` or
    /// `http://…`; `None`: `DOCKER_HOST`, else `/var/run/docker.sock`). Does no IO; fails only
    /// for an address it cannot use.
    pub fn connect(docker_host: Option<&str>, container: &str) -> Result<Self, ServiceError> {
        let host = match docker_host {
            Some(h) if !h.trim().is_empty() => h.trim().to_string(),
            _ => std::env::var("DOCKER_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_HOST.to_string()),
        };
        // A bare path is what people put in DOCKER_HOST by mistake; it can only mean a socket.
        let host = if host.starts_with('/') {
            format!("unix://{host}")
        } else {
            host
        };
        if !(host.starts_with("unix://")
            || host.starts_with("tcp://")
            || host.starts_with("http://"))
        {
            return Err(ServiceError::problem(
                ProblemKind::Unavailable,
                format!("DOCKER_HOST {host} is not supported"),
                "Use unix:///var/run/docker.sock or tcp://host:2375 (TLS and SSH are not supported).",
            ));
        }
        if container.trim().is_empty() {
            return Err(ServiceError::problem(
                ProblemKind::ContainerNotFound,
                "No container name is set",
                "Set PROXLB_CONTAINER to the name of ProxLB's container.",
            ));
        }
        Ok(Self {
            host,
            container: container.trim().to_string(),
            client: Arc::new(Mutex::new(None)),
        })
    }

    /// The container this backend controls.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The Docker address this backend uses.
    pub(super) fn host(&self) -> &str {
        &self.host
    }

    /// Whether the Docker daemon answers (the container need not exist): used by
    /// `PROXLB_SERVICE=auto`. The error names the cause (socket missing, permission denied).
    pub async fn probe(&self) -> Result<(), ServiceError> {
        let docker = self.client().await?;
        docker
            .ping()
            .await
            .map(|_| ())
            .map_err(|e| self.error("asking Docker", e))
    }

    /// The API client, made on first use with the API version the daemon speaks (bollard's
    /// default is newer than older engines accept, and Docker 29 refuses old ones).
    pub(super) async fn client(&self) -> Result<Docker, ServiceError> {
        let mut slot = self.client.lock().await;
        if let Some(docker) = slot.as_ref() {
            return Ok(docker.clone());
        }
        let made = if self.host.starts_with("unix://") {
            Docker::connect_with_unix(
                &self.host,
                REQUEST_TIMEOUT_SECS,
                bollard::API_DEFAULT_VERSION,
            )
        } else {
            Docker::connect_with_http(
                &self.host,
                REQUEST_TIMEOUT_SECS,
                bollard::API_DEFAULT_VERSION,
            )
        };
        let docker = made.map_err(|e| self.error("connecting to Docker", e))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| self.error("asking Docker for its API version", e))?;
        *slot = Some(docker.clone());
        Ok(docker)
    }

    async fn inspect(&self) -> Result<ContainerInspectResponse, ServiceError> {
        let docker = self.client().await?;
        docker
            .inspect_container(&self.container, None)
            .await
            .map_err(|e| self.error("inspecting the container", e))
    }

    /// Turns a bollard error into one that names its cause.
    pub(super) fn error(&self, what: &str, e: DockerError) -> ServiceError {
        classify(&self.host, &self.container, what, e)
    }

    /// The last output lines of the run that started at `started_ns` (oldest first).
    async fn last_lines(&self, started_ns: Option<i128>) -> Result<Vec<String>, ServiceError> {
        let docker = self.client().await?;
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            timestamps: true,
            since: started_ns.map_or(0, since_seconds),
            tail: ERROR_LINES.to_string(),
            ..Default::default()
        };
        let mut stream = docker.logs(&self.container, Some(options));
        let mut splitter = Splitter::default();
        let mut lines = Vec::new();
        while let Some(frame) = stream.next().await {
            let frame = frame.map_err(|e| self.error("reading the container's log", e))?;
            for line in splitter.push(frame) {
                if started_ns.is_none_or(|s| line.at_ns >= s) {
                    lines.push(line.text);
                }
            }
        }
        lines.extend(splitter.finish().into_iter().map(|l| l.text));
        let skip = lines.len().saturating_sub(ERROR_LINES);
        Ok(lines.split_off(skip))
    }

    /// Waits until the container is not running, at most `grace`. `Ok(true)` if it stopped.
    async fn wait_stopped(&self, grace: Duration) -> Result<bool, ServiceError> {
        let docker = self.client().await?;
        let options = WaitContainerOptions {
            condition: "not-running".to_string(),
        };
        let mut wait = docker.wait_container(&self.container, Some(options));
        match tokio::time::timeout(grace, wait.next()).await {
            Err(_) => Ok(false),
            // bollard reports a non-zero exit code as an error: the container did stop.
            Ok(Some(Err(DockerError::DockerContainerWaitError { .. }))) | Ok(Some(Ok(_))) => {
                Ok(true)
            }
            Ok(Some(Err(e))) => Err(self.error("waiting for the container to stop", e)),
            Ok(None) => Ok(true),
        }
    }

    /// Sends SIGHUP to ProxLB (PID 1) with `sh -c 'kill -HUP 1'` in the container, as the
    /// container's user (ProxLB's own). `Ok(false)` if the image cannot run that.
    async fn hup_from_inside(&self) -> Result<bool, ServiceError> {
        let docker = self.client().await?;
        let exec = docker
            .create_exec(
                &self.container,
                CreateExecOptions {
                    cmd: Some(vec!["/bin/sh", "-c", "kill -HUP 1"]),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.error("reloading ProxLB", e))?;
        match docker.start_exec(&exec.id, None).await {
            Ok(StartExecResults::Attached { mut output, .. }) => {
                // Drain the (empty or error) output until the command ends.
                while let Some(chunk) = output.next().await {
                    if let Ok(chunk) = chunk {
                        tracing::debug!(container = %self.container, "reload exec: {chunk}");
                    }
                }
            }
            Ok(StartExecResults::Detached) => {}
            // No /bin/sh: Docker fails the start (OCI runtime error).
            Err(e) => {
                tracing::debug!(container = %self.container, "reload exec failed: {e}");
                return Ok(false);
            }
        }
        let done = docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| self.error("reloading ProxLB", e))?;
        Ok(done.exit_code == Some(0))
    }

    async fn kill(&self, signal: &str, what: &str) -> Result<(), ServiceError> {
        let docker = self.client().await?;
        docker
            .kill_container(
                &self.container,
                Some(KillContainerOptions {
                    signal: signal.to_string(),
                }),
            )
            .await
            .map_err(|e| self.error(what, e))
    }
}

#[async_trait::async_trait]
impl ServiceManager for DockerBackend {
    fn backend(&self) -> BackendKind {
        BackendKind::Docker
    }

    async fn status(&self) -> Result<ServiceStatus, ServiceError> {
        let mut status = ServiceStatus {
            backend: BackendKind::Docker,
            target: self.container.clone(),
            state: ServiceState::Unknown,
            since_unix_ms: None,
            pid: None,
            exit_code: None,
            last_error_lines: Vec::new(),
            version: None,
            problem: None,
        };
        let info = match self.inspect().await {
            Ok(info) => info,
            Err(ServiceError::Problem(problem)) => {
                status.problem = Some(problem);
                return Ok(status);
            }
            Err(e) => return Err(e),
        };
        status.version = version_of(&info);
        let Some(state) = info.state else {
            return Ok(status);
        };
        let started = state.started_at.as_deref().and_then(parse_time_ns);
        let finished = state.finished_at.as_deref().and_then(parse_time_ns);
        let exit_code = state.exit_code.and_then(|c| i32::try_from(c).ok());
        let docker_state = state.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
        status.state = match docker_state {
            ContainerStateStatusEnum::RUNNING => ServiceState::Running,
            ContainerStateStatusEnum::RESTARTING
            | ContainerStateStatusEnum::REMOVING
            | ContainerStateStatusEnum::STOPPING => ServiceState::Restarting,
            // Never started: nothing failed yet.
            ContainerStateStatusEnum::CREATED => ServiceState::Stopped,
            // A frozen ProxLB does no work; it is not "running" for the operator.
            ContainerStateStatusEnum::PAUSED => ServiceState::Stopped,
            ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD => {
                if exit_code.unwrap_or(0) == 0 && docker_state != ContainerStateStatusEnum::DEAD {
                    ServiceState::Stopped
                } else {
                    ServiceState::Failed
                }
            }
            ContainerStateStatusEnum::EMPTY => ServiceState::Unknown,
        };
        let since = match status.state {
            ServiceState::Running => started,
            _ => finished.or(started),
        };
        status.since_unix_ms = since.and_then(|ns| i64::try_from(ns / 1_000_000).ok());
        if status.state == ServiceState::Running {
            status.pid = state
                .pid
                .and_then(|p| u32::try_from(p).ok())
                .filter(|p| *p > 0);
        }
        if matches!(status.state, ServiceState::Stopped | ServiceState::Failed)
            && docker_state != ContainerStateStatusEnum::CREATED
        {
            status.exit_code = exit_code;
        }
        if status.state == ServiceState::Failed {
            status.last_error_lines = self.last_lines(started).await?;
        }
        Ok(status)
    }

    async fn start(&self) -> Result<(), ServiceError> {
        let docker = self.client().await?;
        // 304 (already running) is a success for bollard, which is what "start" should mean.
        docker
            .start_container(&self.container, None)
            .await
            .map_err(|e| self.error("starting the container", e))
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        let info = self.inspect().await?;
        let state = info.state.and_then(|s| s.status);
        match state {
            Some(ContainerStateStatusEnum::RUNNING) => {
                self.kill("SIGINT", "stopping the container").await?;
                if self.wait_stopped(STOP_GRACE).await? {
                    return Ok(());
                }
                tracing::warn!(
                    container = %self.container,
                    "ProxLB did not exit within {} s of SIGINT; stopping the container",
                    STOP_GRACE.as_secs()
                );
            }
            // A restart loop or a paused container: only /stop ends those.
            Some(ContainerStateStatusEnum::RESTARTING) | Some(ContainerStateStatusEnum::PAUSED) => {
            }
            _ => return Ok(()),
        }
        let docker = self.client().await?;
        docker
            .stop_container(
                &self.container,
                Some(StopContainerOptions {
                    signal: None,
                    t: Some(10),
                }),
            )
            .await
            .map_err(|e| self.error("stopping the container", e))
    }

    async fn restart(&self) -> Result<(), ServiceError> {
        self.stop().await?;
        self.start().await
    }

    async fn reload(&self) -> Result<(), ServiceError> {
        let info = self.inspect().await?;
        if info.state.and_then(|s| s.status) != Some(ContainerStateStatusEnum::RUNNING) {
            return Err(ServiceError::Refused(format!(
                "ProxLB is not running in container {}; start it instead of reloading",
                self.container
            )));
        }
        if self.hup_from_inside().await? {
            return Ok(());
        }
        tracing::info!(
            container = %self.container,
            "cannot signal ProxLB from inside its container; sending SIGHUP through Docker"
        );
        self.kill("SIGHUP", "reloading ProxLB").await
    }

    /// A one-off container made after ProxLB's (see [`super::docker_one_shot`]); the daemon's
    /// container must exist (it need not run).
    async fn one_shot(&self) -> Result<OneShot, ServiceError> {
        let info = self.inspect().await?;
        Ok(OneShot::Backend(Arc::new(DockerOneShot::new(
            self.clone(),
            &info,
        )?)))
    }
}

#[async_trait::async_trait]
impl LogSource for DockerBackend {
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
        let cursor = match after {
            Some(p) => Some(Cursor::parse(&p).ok_or_else(|| {
                ServiceError::Refused(format!("{p} is not a Docker log position"))
            })?),
            None => None,
        };
        // Fail early (socket, permission, container) instead of in the first stream item.
        self.inspect().await?;
        let (tx, rx) = mpsc::channel(CHANNEL_LINES);
        tokio::spawn(follow_task(self.clone(), cursor, tail, tx));
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed())
    }
}

/// Feeds `tx` until the receiver is gone, the container is removed or the daemon fails; across
/// stops and starts of the container it waits and reads on from the last position.
async fn follow_task(
    backend: DockerBackend,
    mut cursor: Option<Cursor>,
    tail: usize,
    tx: mpsc::Sender<Result<SourceLine, ServiceError>>,
) {
    let mut first = true;
    loop {
        let docker = match backend.client().await {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let requested_ns = now_ns();
        let options = LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            timestamps: true,
            since: cursor.as_ref().map_or(0, |c| since_seconds(c.ns)),
            tail: if cursor.is_none() && first {
                tail.to_string()
            } else {
                "all".to_string()
            },
            ..Default::default()
        };
        first = false;
        let mut stream = docker.logs(&backend.container, Some(options));
        let mut splitter = Splitter::default();
        let mut counter = Counter::default();
        let mut sent_any = false;
        loop {
            let frame = tokio::select! {
                frame = stream.next() => frame,
                () = tx.closed() => return,
            };
            let (lines, ended) = match frame {
                Some(Ok(frame)) => (splitter.push(frame), false),
                Some(Err(e)) => {
                    let _ = tx
                        .send(Err(backend.error("reading the container's log", e)))
                        .await;
                    return;
                }
                None => (splitter.finish(), true),
            };
            for line in lines {
                let index = counter.index(line.at_ns);
                if cursor
                    .as_ref()
                    .is_some_and(|c| !c.is_new(line.at_ns, index))
                {
                    continue;
                }
                let position = Cursor {
                    ns: line.at_ns,
                    index: Some(index),
                };
                let item = SourceLine {
                    position: position.encode(),
                    line: RawLine {
                        at_unix_ms: i64::try_from(line.at_ns.div_euclid(1_000_000))
                            .unwrap_or(i64::MAX),
                        stream: line.stream,
                        text: line.text,
                    },
                };
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
                cursor = Some(position);
                sent_any = true;
            }
            if ended {
                break;
            }
        }
        // The log ended: the container stopped (or was removed). Without any line yet and
        // without a position, the next read must not replay what `tail` left out.
        if !sent_any && cursor.is_none() {
            cursor = Some(Cursor {
                ns: requested_ns,
                index: None,
            });
        }
        if !wait_until_running(&backend, &tx).await {
            return;
        }
    }
}

/// Polls until the container runs again (`true`), or it is gone, the daemon fails or nobody
/// listens any more (`false`; a failure is sent first).
async fn wait_until_running(
    backend: &DockerBackend,
    tx: &mpsc::Sender<Result<SourceLine, ServiceError>>,
) -> bool {
    loop {
        tokio::select! {
            () = tokio::time::sleep(RESTART_POLL) => {}
            () = tx.closed() => return false,
        }
        match backend.inspect().await {
            Ok(info) => {
                let status = info.state.and_then(|s| s.status);
                if status == Some(ContainerStateStatusEnum::RUNNING) {
                    return true;
                }
            }
            // Removed: the source has ended; the stream ends without an error.
            Err(ServiceError::Problem(p)) if p.kind == ProblemKind::ContainerNotFound => {
                return false;
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return false;
            }
        }
    }
}

/// A position in a container's log: a timestamp (Unix nanoseconds) and the index of the line
/// among those with that timestamp. Encoded as `docker:<ns>:<index>`. Without an index it
/// means "everything from `ns` on" (used internally only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    ns: i128,
    index: Option<u64>,
}

impl Cursor {
    fn encode(&self) -> String {
        match self.index {
            Some(i) => format!("docker:{}:{i}", self.ns),
            None => format!("docker:{}", self.ns),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("docker:")?;
        match rest.split_once(':') {
            Some((ns, i)) => Some(Self {
                ns: ns.parse().ok()?,
                index: Some(i.parse().ok()?),
            }),
            None => Some(Self {
                ns: rest.parse().ok()?,
                index: None,
            }),
        }
    }

    /// Whether the line at (`ns`, `index`) comes after this position (is new).
    fn is_new(&self, ns: i128, index: u64) -> bool {
        match ns.cmp(&self.ns) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => self.index.is_none_or(|i| index > i),
        }
    }
}

/// Numbers lines that share a timestamp, in the order Docker returns them. Docker stamps
/// stdout and stderr separately, so lines with one timestamp need not be adjacent: the index
/// counts all earlier lines of this read with the same timestamp. A read that resumes from a
/// position starts at the position's whole second, so it sees the same earlier lines and gives
/// the same indexes.
#[derive(Default)]
struct Counter {
    seen: std::collections::HashMap<i128, u64>,
    newest: i128,
}

impl Counter {
    /// How far out of order two streams' timestamps may be; older entries are forgotten so the
    /// map stays small on an endless follow.
    const WINDOW_NS: i128 = 60_000_000_000;

    fn index(&mut self, ns: i128) -> u64 {
        if ns > self.newest {
            self.newest = ns;
            if self.seen.len() > 1024 {
                let oldest = self.newest - Self::WINDOW_NS;
                self.seen.retain(|t, _| *t >= oldest);
            }
        }
        let n = self.seen.entry(ns).or_insert(0);
        let index = *n;
        *n += 1;
        index
    }
}

/// One output line with Docker's timestamp.
#[derive(Debug, PartialEq, Eq)]
struct Line {
    at_ns: i128,
    stream: LogStream,
    text: String,
}

/// Turns Docker's log frames (`<RFC 3339 nano timestamp> <text>`, one message each, a line or
/// a piece of a long line) into whole lines. A line split by Docker (over 16 KiB) keeps the
/// timestamp of its first piece.
#[derive(Default)]
struct Splitter {
    stdout: Option<(i128, String)>,
    stderr: Option<(i128, String)>,
}

impl Splitter {
    fn push(&mut self, frame: bollard::container::LogOutput) -> Vec<Line> {
        let (stream, bytes) = match frame {
            bollard::container::LogOutput::StdErr { message } => (LogStream::Stderr, message),
            bollard::container::LogOutput::StdOut { message }
            | bollard::container::LogOutput::Console { message } => (LogStream::Stdout, message),
            bollard::container::LogOutput::StdIn { .. } => return Vec::new(),
        };
        let text = String::from_utf8_lossy(&bytes);
        let (at_ns, text) = split_timestamp(&text);
        let pending = match stream {
            LogStream::Stderr => &mut self.stderr,
            _ => &mut self.stdout,
        };
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(pos) = rest.find('\n') {
            let piece = &rest[..pos];
            let (ns, mut full) = pending.take().unwrap_or((at_ns, String::new()));
            full.push_str(piece);
            if full.ends_with('\r') {
                full.pop();
            }
            out.push(Line {
                at_ns: ns,
                stream,
                text: full,
            });
            rest = &rest[pos + 1..];
        }
        if !rest.is_empty() {
            let entry = pending.get_or_insert_with(|| (at_ns, String::new()));
            entry.1.push_str(rest);
        }
        out
    }

    /// The unfinished lines at the end of a stream.
    fn finish(&mut self) -> Vec<Line> {
        let mut out = Vec::new();
        for (stream, pending) in [
            (LogStream::Stdout, self.stdout.take()),
            (LogStream::Stderr, self.stderr.take()),
        ] {
            if let Some((at_ns, text)) = pending {
                out.push(Line {
                    at_ns,
                    stream,
                    text,
                });
            }
        }
        out.sort_by_key(|l| l.at_ns);
        out
    }
}

/// Splits `2026-11-30T06:01:51.123456789Z text` into the time (Unix ns) and the text. A frame
/// without a readable timestamp keeps all its text and gets the receive time.
fn split_timestamp(frame: &str) -> (i128, &str) {
    if let Some((ts, text)) = frame.split_once(' ') {
        if let Some(ns) = parse_time_ns(ts) {
            return (ns, text);
        }
    }
    (now_ns(), frame)
}

/// Docker's RFC 3339 time in Unix nanoseconds; `None` for the zero time Docker uses for
/// "never" (`0001-01-01T00:00:00Z`) and for anything unreadable.
fn parse_time_ns(s: &str) -> Option<i128> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    (t.year() > 1970).then(|| t.unix_timestamp_nanos())
}

/// Docker's `since` (whole seconds, inclusive) for a time in nanoseconds: the second it falls
/// in, so no line of that second is left out.
fn since_seconds(ns: i128) -> i32 {
    i32::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(0)
}

fn now_ns() -> i128 {
    OffsetDateTime::now_utc().unix_timestamp_nanos()
}

/// ProxLB's version: an image label, else a `PROXLB_VERSION` variable, else the image tag
/// when it is a version (`…/proxlb:v2.3.0`).
fn version_of(info: &ContainerInspectResponse) -> Option<String> {
    let config = info.config.as_ref()?;
    for label in VERSION_LABELS {
        if let Some(v) = config.labels.as_ref().and_then(|l| l.get(label)) {
            if !v.trim().is_empty() {
                return Some(v.trim().to_string());
            }
        }
    }
    if let Some(v) = config.env.iter().flatten().find_map(|e| {
        e.strip_prefix("PROXLB_VERSION=")
            .filter(|v| !v.trim().is_empty())
    }) {
        return Some(v.trim().to_string());
    }
    let image = config.image.as_deref()?;
    let tag = image.rsplit_once(':')?.1;
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let looks_like_version = tag.split('.').count() >= 2
        && tag
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    looks_like_version.then(|| tag.to_string())
}

/// Names the cause of a bollard error: socket missing, permission denied, container missing.
pub(super) fn classify(host: &str, container: &str, what: &str, e: DockerError) -> ServiceError {
    match &e {
        DockerError::SocketNotFoundError(path) => return ServiceError::problem(
            ProblemKind::SocketMissing,
            format!("The Docker socket {path} does not exist"),
            "Mount the Docker socket into ProxLB Web's container (/var/run/docker.sock) or set \
                 DOCKER_HOST.",
        ),
        DockerError::DockerResponseServerError {
            status_code: 404, ..
        } => {
            return ServiceError::problem(
                ProblemKind::ContainerNotFound,
                format!("There is no Docker container named {container}"),
                "Set PROXLB_CONTAINER to the name of ProxLB's container (docker ps -a).",
            )
        }
        _ => {}
    }
    match io_kind(&e) {
        Some(std::io::ErrorKind::PermissionDenied) => {
            return ServiceError::problem(
                ProblemKind::PermissionDenied,
                format!("Permission denied on the Docker socket {host}"),
                "Give ProxLB Web's user the socket's group (docker-compose: group_add with the \
                 number from stat -c %g /var/run/docker.sock).",
            )
        }
        Some(std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
            return ServiceError::problem(
                ProblemKind::SocketMissing,
                format!("Docker does not answer on {host}"),
                "Start the Docker daemon, or point DOCKER_HOST at one that runs.",
            )
        }
        _ => {}
    }
    ServiceError::Backend {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

/// The kind of the I/O error behind a bollard error (a refused or forbidden connection is
/// wrapped in hyper's client errors).
fn io_kind(e: &DockerError) -> Option<std::io::ErrorKind> {
    if let DockerError::IOError { err } = e {
        return Some(err.kind());
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bollard::container::LogOutput;

    fn out(s: &str) -> LogOutput {
        LogOutput::StdOut {
            message: s.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn the_timestamp_prefix_becomes_unix_time() {
        let (ns, text) =
            split_timestamp("2026-11-30T06:01:51.123456789Z 2026-11-30 07:01:51,123 - ProxLB\n");
        assert_eq!(ns, 1_796_018_511_123_456_789);
        assert_eq!(text, "2026-11-30 07:01:51,123 - ProxLB\n");
        assert_eq!(parse_time_ns("0001-01-01T00:00:00Z"), None);
    }

    #[test]
    fn frames_become_lines_and_split_lines_are_joined() {
        let mut s = Splitter::default();
        let lines = s.push(out("2026-11-30T06:01:51.000000001Z first\n"));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "first");
        assert!(s
            .push(out("2026-11-30T06:01:51.000000002Z long "))
            .is_empty());
        let lines = s.push(out("2026-11-30T06:01:51.000000003Z tail\r\n"));
        assert_eq!(lines[0].text, "long tail");
        assert_eq!(lines[0].at_ns % 1_000, 2);
        let lines = s.push(LogOutput::StdErr {
            message: "2026-11-30T06:01:52Z Traceback (most recent call last):\n"
                .as_bytes()
                .to_vec()
                .into(),
        });
        assert_eq!(lines[0].stream, LogStream::Stderr);
        assert!(s.push(out("2026-11-30T06:01:53Z no newline")).is_empty());
        assert_eq!(s.finish()[0].text, "no newline");
    }

    #[test]
    fn positions_round_trip_and_resume_after_the_same_timestamp() {
        let c = Cursor {
            ns: 1_795_932_111_123_456_789,
            index: Some(2),
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse("cursor-of-journald"), None);
        // Lines with the cursor's time: only those after its index are new.
        assert!(!c.is_new(c.ns, 2));
        assert!(c.is_new(c.ns, 3));
        assert!(!c.is_new(c.ns - 1, 9));
        assert!(c.is_new(c.ns + 1, 0));
        let mut counter = Counter::default();
        assert_eq!(
            [5, 5, 5, 6, 5].map(|ns| counter.index(ns)),
            [0, 1, 2, 0, 3],
            "indexes count per timestamp, also when the lines are not adjacent"
        );
        assert_eq!(since_seconds(1_795_932_111_999_999_999), 1_795_932_111);
    }

    #[test]
    fn the_version_comes_from_the_label_or_the_tag() {
        let mut info = ContainerInspectResponse {
            config: Some(bollard::models::ContainerConfig {
                image: Some("ghcr.io/credativ/proxlb:v2.3.0".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(version_of(&info).as_deref(), Some("2.3.0"));
        if let Some(c) = info.config.as_mut() {
            c.image = Some("ghcr.io/credativ/proxlb:latest".into());
        }
        assert_eq!(version_of(&info), None);
        if let Some(c) = info.config.as_mut() {
            c.labels = Some([(VERSION_LABELS[0].to_string(), "2.3.0".to_string())].into());
        }
        assert_eq!(version_of(&info).as_deref(), Some("2.3.0"));
    }

    #[test]
    fn errors_name_their_cause() {
        let e = classify(
            "unix:///nope.sock",
            "proxlb",
            "x",
            DockerError::SocketNotFoundError("/nope.sock".into()),
        );
        assert!(matches!(e, ServiceError::Problem(ref p) if p.kind == ProblemKind::SocketMissing));
        let e = classify(
            "unix:///var/run/docker.sock",
            "proxlb",
            "x",
            DockerError::DockerResponseServerError {
                status_code: 404,
                message: "No such container: proxlb".into(),
            },
        );
        assert!(
            matches!(e, ServiceError::Problem(ref p) if p.kind == ProblemKind::ContainerNotFound)
        );
        let e = classify(
            "unix:///var/run/docker.sock",
            "proxlb",
            "x",
            DockerError::IOError {
                err: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            },
        );
        assert!(
            matches!(e, ServiceError::Problem(ref p) if p.kind == ProblemKind::PermissionDenied)
        );
    }

    #[test]
    fn connect_checks_the_address_and_does_no_io() {
        assert!(DockerBackend::connect(Some("ssh://host"), "proxlb").is_err());
        assert!(DockerBackend::connect(Some("unix:///does/not/exist"), "proxlb").is_ok());
        let b = DockerBackend::connect(Some("/run/docker.sock"), "proxlb").unwrap();
        assert_eq!(b.host, "unix:///run/docker.sock");
    }

    #[tokio::test]
    async fn a_missing_socket_is_named_in_the_status() {
        let b = DockerBackend::connect(Some("unix:///does/not/exist.sock"), "proxlb").unwrap();
        let status = b.status().await.unwrap();
        assert_eq!(status.state, ServiceState::Unknown);
        assert_eq!(
            status.problem.map(|p| p.kind),
            Some(ProblemKind::SocketMissing)
        );
        assert!(matches!(
            b.probe().await,
            Err(ServiceError::Problem(p)) if p.kind == ProblemKind::SocketMissing
        ));
    }

    #[tokio::test]
    async fn a_socket_nobody_listens_on_is_named() {
        // The file exists, but its listener is gone: connecting is refused.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let b =
            DockerBackend::connect(Some(&format!("unix://{}", path.display())), "proxlb").unwrap();
        match b.probe().await {
            Err(ServiceError::Problem(p)) => {
                assert_eq!(p.kind, ProblemKind::SocketMissing);
                assert!(p.message.contains("does not answer"), "{}", p.message);
            }
            other => panic!("{other:?}"),
        }
    }
}
