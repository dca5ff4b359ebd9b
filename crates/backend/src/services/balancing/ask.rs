//! "Ask real ProxLB": one run of the installed ProxLB, `-d -j` (plan only, no migration), on the
//! saved configuration or a what-if candidate, shown next to the native replay of the same
//! configuration.
//!
//! - The run reads a copy of ProxLB's file: created mode 0600 (it holds the API secret) by
//!   `tempfile`, the candidate's settings and `service.daemon: false` (no CLI flag overrides
//!   `daemon`: `proxlb/utils/helper.py:147-150` at 2.3.0) written through the
//!   lossless edit path, and removed when the run ends however it ends (answer, error, cancel,
//!   timeout, shutdown: the file is dropped with the task).
//! - It talks to the real cluster (about three requests per guest), so it is for operators,
//!   audited, one at a time, and the estimate ([`plb_domain::proxlb::ask::estimate`]) is shown
//!   before it starts.
//! - It runs in the background (a run can outlast any request): the caller polls
//!   [`BalancingService::ask_status`] and may cancel: SIGINT (ProxLB exits 0 on it), then
//!   SIGKILL after [`STOP_GRACE`]. A run that takes longer than its timeout is stopped the same
//!   way.
//! - The backend says how to run ProxLB once ([`OneShot`]): the process backend's interpreter
//!   and the systemd unit's run as children of ProxLB Web on the copy in a temporary file; the
//!   Docker backend runs ProxLB itself, in a one-off container made after the daemon's, with the
//!   copy uploaded into it and removed with it
//!   ([`crate::adapters::proxlb::docker_one_shot`]). Cancel, timeout and failure messages are
//!   the same for both.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use plb_domain::audit::AuditAction;
use plb_domain::balancing::settings::BalancingSettings;
use plb_domain::balancing::wire::Candidate;
use plb_domain::proxlb::ask::{compare, estimate, AskAnswer, AskEstimate, AskStatus};
use plb_domain::proxlb::cluster::GuestKind;
use plb_domain::proxlb::plan::PlannedMove;
use plb_domain::proxlb::{evaluate, EvaluationInput, ProxLbConfig};
use rustix::process::{kill_process, Pid, Signal};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::BalancingService;
use crate::adapters::config_file;
use crate::adapters::proxlb::plan_json::{self, ProxlbPlan};
use crate::auth::service::entry;
use crate::auth::{Identity, Role};
use crate::config_store::edit::{self, EditError, EditValue};
use crate::error::Service;
use crate::ports::{
    LocalProxlb, OneShot, OneShotOutput, OneShotRunner, OneShotSignal, ServiceError,
};
use crate::services::cluster_view::to_domain;
use crate::Error;

/// How long a cancelled (or timed-out) run gets between SIGINT and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// Every run may take at least this long before it times out.
const BASE_TIMEOUT: Duration = Duration::from_secs(120);
/// No run may take longer.
const MAX_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// How long a cancel waits for the run to end before it answers.
const CANCEL_WAIT: Duration = Duration::from_secs(15);
/// Longest failure text shown.
const MESSAGE_CHARS: usize = 300;

/// The one ask slot of a [`BalancingService`]: its status and the run in progress. Cheap to
/// clone (shared).
#[derive(Clone, Default)]
pub(super) struct AskSlot {
    inner: Arc<Mutex<Slot>>,
}

struct Slot {
    status: AskStatus,
    run: Option<Run>,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            status: AskStatus::Idle,
            run: None,
        }
    }
}

/// The run in progress.
struct Run {
    cancel: CancellationToken,
    done: watch::Receiver<bool>,
    pid: Option<u32>,
    container: Option<String>,
    config: PathBuf,
}

/// The child of the run in progress, for tests and diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskChild {
    /// Its PID once spawned (a local child).
    pub pid: Option<u32>,
    /// Its container once created (the Docker backend).
    pub container: Option<String>,
    /// The temporary configuration it reads (inside the container for the Docker backend;
    /// empty until the container exists).
    pub config: PathBuf,
}

impl AskSlot {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        // Every step under the lock leaves the slot consistent, so a poisoned lock is fine.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How a run ended without an answer.
enum Stopped {
    Cancelled,
    Failed(String),
}

fn busy() -> Error {
    Error::Conflict {
        message: "ProxLB is already being asked; wait for its answer or cancel it".to_owned(),
        current: None,
    }
}

/// A backend's "cannot run ProxLB once" as a message people can act on.
fn unavailable(error: ServiceError) -> String {
    match error {
        ServiceError::Problem(problem) => format!("{} {}", problem.message, problem.hint),
        ServiceError::Refused(message) => message,
        ServiceError::Backend { what, detail } => {
            tracing::warn!(%what, %detail, "the ProxLB backend cannot run ProxLB once");
            format!("{what} failed")
        }
    }
}

/// ProxLB's file rewritten for one dry run: the candidate's settings (only the keys that
/// change) and node lists, `service.daemon: false`, and no start delay. Lossless: everything
/// else of `text` stays as it is.
pub fn one_shot_config(
    text: &str,
    current: &ProxLbConfig,
    candidate: Option<&Candidate>,
) -> Result<String, EditError> {
    let mut text = text.to_owned();
    if let Some(candidate) = candidate {
        for change in candidate
            .settings
            .changes_from(&BalancingSettings::of(current))
        {
            text = edit::apply_change(&text, &change)?;
        }
        if let Some(nodes) = &candidate.maintenance_nodes {
            text = edit::set_string_list(&text, &["proxmox_cluster", "maintenance_nodes"], nodes)?;
        }
        if let Some(nodes) = &candidate.ignore_nodes {
            text = edit::set_string_list(&text, &["proxmox_cluster", "ignore_nodes"], nodes)?;
        }
    }
    text = edit::set_value(&text, &["service", "daemon"], &EditValue::Bool(false))?;
    if current.service.delay.enable {
        text = edit::set_value(
            &text,
            &["service", "delay", "enable"],
            &EditValue::Bool(false),
        )?;
    }
    Ok(text)
}

/// How long a run with this estimate may take: two minutes plus four times ProxLB's own pauses.
fn run_timeout(estimate: &AskEstimate) -> Duration {
    BASE_TIMEOUT
        .saturating_add(Duration::from_millis(estimate.minimum_ms.saturating_mul(4)))
        .min(MAX_TIMEOUT)
}

fn signal(pid: u32, signal: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        if let Err(error) = kill_process(pid, signal) {
            tracing::debug!(?pid, ?signal, %error, "signalling the asked ProxLB failed");
        }
    }
}

/// The last ERROR or CRITICAL line ProxLB logged (its messages name the cause), or the exit.
fn failure_message(code: Option<i32>, stdout: &str, stderr: &str) -> String {
    let logged = stdout
        .lines()
        .chain(stderr.lines())
        .rfind(|l| l.contains(" - ProxLB - ERROR - ") || l.contains(" - ProxLB - CRITICAL - "))
        .and_then(|l| l.splitn(4, " - ").nth(3))
        .map(|m| m.chars().take(MESSAGE_CHARS).collect::<String>());
    let exit = code.map_or_else(
        || "ProxLB was killed".to_owned(),
        |c| format!("ProxLB exited with code {c}"),
    );
    match logged {
        Some(message) => format!("{exit}: {message}"),
        None => format!("{exit}; see the server log"),
    }
}

/// Waits for `output` (the run's end) until `cancel` or `deadline`; then stops the run with
/// `stop`: SIGINT, and SIGKILL if it has not ended after [`STOP_GRACE`]. ProxLB's stdout if it
/// exited 0.
async fn supervise<F, S, SF>(
    output: F,
    stop: S,
    cancel: &CancellationToken,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<String, Stopped>
where
    F: std::future::Future<Output = Result<OneShotOutput, Stopped>>,
    S: Fn(OneShotSignal) -> SF,
    SF: std::future::Future<Output = ()>,
{
    tokio::pin!(output);
    let why = tokio::select! {
        output = &mut output => {
            let output = output?;
            if output.code == Some(0) {
                return Ok(output.stdout);
            }
            tracing::warn!(code = ?output.code, stderr = %output.stderr.trim(), "the asked ProxLB failed");
            return Err(Stopped::Failed(failure_message(output.code, &output.stdout, &output.stderr)));
        }
        () = cancel.cancelled() => Stopped::Cancelled,
        () = tokio::time::sleep_until(deadline) => Stopped::Failed(format!(
            "ProxLB did not answer within {} s and was stopped",
            timeout.as_secs()
        )),
    };
    stop(OneShotSignal::Interrupt).await;
    if tokio::time::timeout(STOP_GRACE, &mut output).await.is_err() {
        tracing::warn!("the asked ProxLB ignored SIGINT; sending SIGKILL");
        stop(OneShotSignal::Kill).await;
        let _ = output.await;
    }
    Err(why)
}

/// Runs `<python> -m proxlb -c <config> -d -j` and returns its stdout, or why not.
async fn execute(
    local: &LocalProxlb,
    config: &Path,
    cancel: &CancellationToken,
    timeout: Duration,
    slot: &AskSlot,
) -> Result<String, Stopped> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut command = tokio::process::Command::new(&local.python);
    command
        .args(["-m", "proxlb", "-c"])
        .arg(config)
        .args(["-d", "-j"])
        .env_clear()
        .envs(local.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(|error| {
        Stopped::Failed(format!("{} cannot be run: {error}", local.python.display()))
    })?;
    let pid = child.id();
    if let Some(run) = slot.lock().run.as_mut() {
        run.pid = pid;
    }
    tracing::info!(?pid, python = %local.python.display(), "asking real ProxLB (-d -j)");
    let output = async move {
        let output = child
            .wait_with_output()
            .await
            .map_err(|e| Stopped::Failed(format!("waiting for ProxLB failed: {e}")))?;
        Ok(OneShotOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    };
    // The output future owns the child until it ends, so it has not been reaped while it is
    // signalled: the PID is still ours.
    let stop = |s: OneShotSignal| async move {
        if let Some(pid) = pid {
            signal(
                pid,
                match s {
                    OneShotSignal::Interrupt => Signal::INT,
                    OneShotSignal::Kill => Signal::KILL,
                },
            );
        }
    };
    supervise(output, stop, cancel, deadline, timeout).await
}

/// Has the backend run ProxLB once on `config` and returns its stdout, or why not. The run is
/// removed (with its copy of the configuration) however it ends.
async fn execute_in_backend(
    runner: &dyn OneShotRunner,
    config: String,
    cancel: &CancellationToken,
    timeout: Duration,
    slot: &AskSlot,
) -> Result<String, Stopped> {
    let deadline = tokio::time::Instant::now() + timeout;
    let run = runner
        .start(config)
        .await
        .map_err(|e| Stopped::Failed(unavailable(e)))?;
    if let Some(slot_run) = slot.lock().run.as_mut() {
        slot_run.container = Some(run.name().to_owned());
        slot_run.config = run.config_path();
    }
    let output = async {
        run.wait()
            .await
            .map_err(|e| Stopped::Failed(unavailable(e)))
    };
    let result = supervise(output, |s| run.signal(s), cancel, deadline, timeout).await;
    run.remove().await;
    result
}

/// The copy of the configuration a run reads, with how to run ProxLB on it.
enum Copy {
    /// A temporary file (0600, removed when dropped) for a local child.
    File(LocalProxlb, tempfile::NamedTempFile),
    /// The text, which the backend puts where its run reads it.
    Backend(Arc<dyn OneShotRunner>, String),
}

/// Writes `text` to a temporary file that `tempfile` creates 0600 and removes when dropped.
async fn write_copy(text: String) -> Result<tempfile::NamedTempFile, Error> {
    tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        use std::io::Write;
        let mut file = tempfile::Builder::new()
            .prefix("proxlb-ask-")
            .suffix(".yaml")
            .tempfile()?;
        file.write_all(text.as_bytes())?;
        file.flush()?;
        Ok(file)
    })
    .await
    .map_err(Error::internal)?
    .map_err(|e| Error::Unavailable {
        service: Service::Proxlb,
        detail: format!("writing the temporary ProxLB configuration: {e}"),
    })
}

/// ProxLB's moves as planned moves, and its affinity groups by name.
fn proxlb_moves(plan: &ProxlbPlan) -> Vec<PlannedMove> {
    plan.guests
        .values()
        .filter(|g| g.node_current != g.node_target)
        .map(|g| PlannedMove {
            guest: g.name.clone(),
            vmid: g.id,
            kind: if g.kind == "ct" {
                GuestKind::Ct
            } else {
                GuestKind::Vm
            },
            from: g.node_current.clone(),
            to: g.node_target.clone(),
        })
        .collect()
}

impl BalancingService {
    /// What asking real ProxLB with `candidate` (or the saved configuration) would send to the
    /// cluster, and whether the active backend can do it.
    pub async fn ask_estimate(&self, candidate: Option<&Candidate>) -> Result<AskEstimate, Error> {
        let typed = self.typed().await?;
        let snapshot = self.snapshot_or_error()?;
        let config = candidate.map_or_else(|| typed.config.clone(), |c| c.apply_to(&typed.config));
        let mut estimate = estimate(&snapshot, &config);
        estimate.unavailable = self.proxlb.one_shot().await.err().map(unavailable);
        Ok(estimate)
    }

    /// The ask slot: idle, running, or how the last run ended.
    pub fn ask_status(&self) -> AskStatus {
        self.ask.lock().status.clone()
    }

    /// The child of the run in progress, if any.
    pub fn ask_child(&self) -> Option<AskChild> {
        self.ask.lock().run.as_ref().map(|run| AskChild {
            pid: run.pid,
            container: run.container.clone(),
            config: run.config.clone(),
        })
    }

    /// Starts one real ProxLB `-d -j` run for `who` (an operator) with `candidate` (or the
    /// saved configuration); audited. Refused while another runs, and where the backend cannot.
    pub async fn ask_proxlb(
        &self,
        who: &Identity,
        candidate: Option<Candidate>,
    ) -> Result<AskStatus, Error> {
        who.require(Role::Operator)?;
        let result = self.start_ask(candidate).await;
        let mut record = entry(
            who,
            AuditAction::BalancingRun,
            Some("ask real ProxLB (dry run)".to_owned()),
            result.as_ref().map(|_| ()).map_err(ToString::to_string),
        );
        if let Ok(AskStatus::Running {
            estimate,
            candidate,
            ..
        }) = &result
        {
            record.details = Some(serde_json::json!({
                "estimated_requests": estimate.requests,
                "hosts": estimate.hosts,
                "candidate": candidate,
            }));
        }
        self.auth.audit(record).await;
        result
    }

    async fn start_ask(&self, candidate: Option<Candidate>) -> Result<AskStatus, Error> {
        if self.ask.lock().run.is_some() {
            return Err(busy());
        }
        let one_shot = self.proxlb.one_shot().await.map_err(|e| Error::Conflict {
            message: unavailable(e),
            current: None,
        })?;
        let typed = self.typed().await?;
        let snapshot = self.snapshot_or_error()?;
        let store = Arc::clone(self.config.store());
        let read = tokio::task::spawn_blocking(move || store.read())
            .await
            .map_err(Error::internal)?
            .map_err(crate::config_store::ConfigError::from)?;
        let text = one_shot_config(&read.text, &typed.config, candidate.as_ref()).map_err(|e| {
            Error::Invalid {
                message: format!("the candidate cannot be written into ProxLB's file: {e}"),
            }
        })?;
        // Exactly what ProxLB will read: the native side evaluates the same text.
        let config =
            config_file::parse(Path::new("proxlb.yaml"), &text).map_err(|e| Error::Invalid {
                message: format!("the candidate configuration cannot be read: {e}"),
            })?;
        let estimate = estimate(&snapshot, &config);
        let copy = match one_shot {
            OneShot::Local(local) => Copy::File(local, write_copy(text).await?),
            OneShot::Backend(runner) => Copy::Backend(runner, text),
        };
        let cancel = CancellationToken::new();
        let (done_tx, done) = watch::channel(false);
        let status = AskStatus::Running {
            started_unix_ms: self.now_ms(),
            estimate: estimate.clone(),
            candidate: candidate.is_some(),
        };
        {
            let mut slot = self.ask.lock();
            if slot.run.is_some() {
                return Err(busy());
            }
            slot.run = Some(Run {
                cancel: cancel.clone(),
                done,
                pid: None,
                container: None,
                config: match &copy {
                    Copy::File(_, file) => file.path().to_path_buf(),
                    Copy::Backend(..) => PathBuf::new(),
                },
            });
            slot.status = status.clone();
        }
        let service = self.clone();
        let is_candidate = candidate.is_some();
        tokio::spawn(async move {
            let started = Instant::now();
            let timeout = run_timeout(&estimate);
            let outcome = match copy {
                Copy::File(local, file) => {
                    let outcome =
                        execute(&local, file.path(), &cancel, timeout, &service.ask).await;
                    if let Err(error) = file.close() {
                        tracing::warn!(%error, "removing the temporary ProxLB configuration failed");
                    }
                    outcome
                }
                Copy::Backend(runner, text) => {
                    execute_in_backend(runner.as_ref(), text, &cancel, timeout, &service.ask).await
                }
            };
            let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let finished_unix_ms = service.now_ms();
            let status = match outcome {
                Ok(stdout) => match plan_json::parse_plan(&stdout) {
                    Ok(plan) => AskStatus::Finished {
                        finished_unix_ms,
                        answer: Box::new(service.answer(
                            &plan,
                            &config,
                            estimate,
                            wall_ms,
                            is_candidate,
                        )),
                    },
                    Err(error) => {
                        let lines: Vec<&str> = stdout.lines().collect();
                        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
                        tracing::warn!(%error, %tail, "the asked ProxLB's output cannot be read");
                        AskStatus::Failed {
                            finished_unix_ms,
                            message: format!("{error}; see the server log"),
                        }
                    }
                },
                Err(Stopped::Cancelled) => AskStatus::Cancelled { finished_unix_ms },
                Err(Stopped::Failed(message)) => AskStatus::Failed {
                    finished_unix_ms,
                    message,
                },
            };
            {
                let mut slot = service.ask.lock();
                slot.status = status;
                slot.run = None;
            }
            let _ = done_tx.send(true);
        });
        Ok(status)
    }

    /// ProxLB's plan next to the native replay of `config` on the latest snapshot.
    fn answer(
        &self,
        plan: &ProxlbPlan,
        config: &ProxLbConfig,
        estimate: AskEstimate,
        wall_ms: u64,
        candidate: bool,
    ) -> AskAnswer {
        let native: Vec<PlannedMove> = self
            .cluster
            .snapshot()
            .and_then(|s| s.data.as_deref().map(to_domain))
            .map(|snapshot| {
                evaluate(EvaluationInput {
                    snapshot: &snapshot,
                    config,
                    now: self.local_now(),
                    dry_run: true,
                })
                .moves
                .into_iter()
                .map(|m| m.planned)
                .collect()
            })
            .unwrap_or_default();
        let groups = plan
            .groups
            .affinity
            .iter()
            .map(|(name, group)| (name.clone(), group.guests.clone()))
            .collect();
        let comparison = compare(&proxlb_moves(plan), &native, &groups);
        AskAnswer {
            agree: comparison.agree(),
            moves: comparison.moves,
            proxlb_moves: comparison.proxlb_moves,
            native_moves: comparison.native_moves,
            same: comparison.same,
            wall_ms,
            estimate,
            candidate,
        }
    }

    /// Cancels the run in progress for `who` (an operator), audited: SIGINT, then SIGKILL after
    /// [`STOP_GRACE`] (to the child, or to the one-off container); answers once it has ended
    /// and its copy of the configuration is gone (or after a short wait).
    pub async fn cancel_ask(&self, who: &Identity) -> Result<AskStatus, Error> {
        who.require(Role::Operator)?;
        let handles = self
            .ask
            .lock()
            .run
            .as_ref()
            .map(|run| (run.cancel.clone(), run.done.clone()));
        let result = match handles {
            None => Err(Error::Conflict {
                message: "ProxLB is not being asked; there is nothing to cancel".to_owned(),
                current: None,
            }),
            Some((cancel, mut done)) => {
                cancel.cancel();
                let _ = tokio::time::timeout(CANCEL_WAIT, done.wait_for(|d| *d)).await;
                Ok(self.ask_status())
            }
        };
        self.auth
            .audit(entry(
                who,
                AuditAction::BalancingRun,
                Some("cancel ask real ProxLB".to_owned()),
                result.as_ref().map(|_| ()).map_err(ToString::to_string),
            ))
            .await;
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use plb_domain::balancing::settings::BalancingSettings;

    use super::*;

    const FILE: &str = "\
# ProxLB for the lab
proxmox_api:
  hosts: ['pve1.lab:8006']   # the VIP
  user: root@pam
  token_id: proxlb
  token_secret: 5f1c3e9a-secret
proxmox_cluster:
  maintenance_nodes: []
balancing:
  enable: true
  balanciness: 10   # percent
  method: memory
  mode: used
service:
  daemon: true
  delay:
    enable: true
    time: 1
    format: hours
";

    fn parsed(text: &str) -> ProxLbConfig {
        config_file::parse(Path::new("proxlb.yaml"), text).unwrap()
    }

    #[test]
    fn the_copy_never_loops_nor_waits_and_keeps_everything_else() {
        let current = parsed(FILE);
        let text = one_shot_config(FILE, &current, None).unwrap();
        let copy = parsed(&text);
        assert!(!copy.service.daemon);
        assert!(!copy.service.delay.enable);
        assert!(text.contains("# ProxLB for the lab"));
        assert!(text.contains("hosts: ['pve1.lab:8006']   # the VIP"));
        assert!(text.contains("balanciness: 10   # percent"));
        assert!(text.contains("token_secret: 5f1c3e9a-secret"));
        assert_eq!(copy.balancing, current.balancing);
        // Only the two service keys changed.
        let changed: Vec<(&str, &str)> = FILE
            .lines()
            .zip(text.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            changed,
            [
                ("  daemon: true", "  daemon: false"),
                ("    enable: true", "    enable: false")
            ]
        );
    }

    #[test]
    fn the_candidate_is_written_losslessly() {
        let current = parsed(FILE);
        let mut settings = BalancingSettings::of(&current);
        settings.balanciness = 3;
        let candidate = Candidate {
            settings,
            maintenance_nodes: Some(vec!["pve2".into()]),
            ignore_nodes: Some(vec!["pve3".into()]),
        };
        let text = one_shot_config(FILE, &current, Some(&candidate)).unwrap();
        let copy = parsed(&text);
        assert_eq!(copy.balancing.balanciness, 3);
        assert_eq!(copy.proxmox_cluster.maintenance_nodes, ["pve2"]);
        assert_eq!(copy.proxmox_cluster.ignore_nodes, ["pve3"]);
        assert!(!copy.service.daemon);
        assert!(text.contains("balanciness: 3   # percent"), "{text}");
        assert!(text.starts_with("# ProxLB for the lab\n"));
        // The native side sees what the what-if sees.
        let mut expected = candidate.settings.apply_to(&current);
        expected.proxmox_cluster.maintenance_nodes = vec!["pve2".into()];
        expected.proxmox_cluster.ignore_nodes = vec!["pve3".into()];
        assert_eq!(copy.balancing, expected.balancing);
        assert_eq!(copy.proxmox_cluster, expected.proxmox_cluster);
    }

    #[test]
    fn failures_name_proxlb_s_own_error() {
        let out = "2026-11-30 09:45:03,386 - ProxLB - INFO - Using config path: x\n\
                   2026-11-30 09:45:04,001 - ProxLB - CRITICAL - Could not connect to any host\n";
        assert_eq!(
            failure_message(Some(2), out, ""),
            "ProxLB exited with code 2: Could not connect to any host"
        );
        assert_eq!(
            failure_message(None, "", "Traceback"),
            "ProxLB was killed; see the server log"
        );
    }

    /// Runs `supervise` on `output`, recording the signals it sends.
    async fn supervised(
        output: impl std::future::Future<Output = Result<OneShotOutput, Stopped>>,
        cancel: &CancellationToken,
        on_signal: impl Fn(OneShotSignal),
    ) -> (Result<String, Stopped>, Vec<OneShotSignal>) {
        let sent = Mutex::new(Vec::new());
        let timeout = Duration::from_secs(60);
        let deadline = tokio::time::Instant::now() + timeout;
        let result = supervise(
            output,
            |s| {
                sent.lock().unwrap().push(s);
                on_signal(s);
                async {}
            },
            cancel,
            deadline,
            timeout,
        )
        .await;
        (result, sent.into_inner().unwrap())
    }

    fn ended(code: Option<i32>, stdout: &str) -> Result<OneShotOutput, Stopped> {
        Ok(OneShotOutput {
            code,
            stdout: stdout.to_owned(),
            stderr: String::new(),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn every_backend_s_run_ends_the_same_way() {
        let idle = CancellationToken::new();
        // Exit 0: the output; non-zero: ProxLB's own message; no signal either way.
        let (result, sent) = supervised(async { ended(Some(0), "{}") }, &idle, |_| {}).await;
        assert!(matches!(result, Ok(ref out) if out == "{}"));
        assert!(sent.is_empty());
        let log = "2026-11-30 09:45:04,001 - ProxLB - CRITICAL - Could not connect to any host\n";
        let (result, _) = supervised(async { ended(Some(2), log) }, &idle, |_| {}).await;
        assert!(matches!(result, Err(Stopped::Failed(ref m))
            if m == "ProxLB exited with code 2: Could not connect to any host"));

        // Cancelled, and the run ends on SIGINT: no SIGKILL.
        let cancelled = CancellationToken::new();
        cancelled.cancel();
        let interrupted = tokio::sync::Notify::new();
        let output = async {
            interrupted.notified().await;
            ended(Some(0), "")
        };
        let (result, sent) = supervised(output, &cancelled, |s| {
            if s == OneShotSignal::Interrupt {
                interrupted.notify_one();
            }
        })
        .await;
        assert!(matches!(result, Err(Stopped::Cancelled)));
        assert_eq!(sent, [OneShotSignal::Interrupt]);

        // A run that ignores SIGINT gets SIGKILL after the grace (and ends on it).
        let killed = tokio::sync::Notify::new();
        let on_kill = |s| {
            if s == OneShotSignal::Kill {
                killed.notify_one();
            }
        };
        let output = async {
            killed.notified().await;
            ended(None, "")
        };
        let (result, sent) = supervised(output, &cancelled, on_kill).await;
        assert!(matches!(result, Err(Stopped::Cancelled)));
        assert_eq!(sent, [OneShotSignal::Interrupt, OneShotSignal::Kill]);

        // The timeout stops it the same way and says so.
        let output = async {
            killed.notified().await;
            ended(None, "")
        };
        let (result, sent) = supervised(output, &idle, on_kill).await;
        assert!(matches!(result, Err(Stopped::Failed(ref m)) if m.contains("within 60 s")));
        assert_eq!(sent, [OneShotSignal::Interrupt, OneShotSignal::Kill]);
    }

    #[test]
    fn the_timeout_grows_with_the_cluster_but_is_capped() {
        let mut e = AskEstimate {
            requests: 0,
            hosts: Vec::new(),
            nodes: 0,
            running_guests: 0,
            minimum_ms: 0,
            unavailable: None,
        };
        assert_eq!(run_timeout(&e), BASE_TIMEOUT);
        e.minimum_ms = 3_000;
        assert_eq!(run_timeout(&e), BASE_TIMEOUT + Duration::from_secs(12));
        e.minimum_ms = u64::MAX;
        assert_eq!(run_timeout(&e), MAX_TIMEOUT);
    }
}
