//! The cluster snapshot: one poller task that keeps an up-to-date picture of the Proxmox VE
//! cluster and publishes it to every subscriber.
//!
//! - One fetch cycle per interval (default 10 s), whatever the number of subscribers; "refresh
//!   now" demands that arrive while a cycle runs are coalesced into one more cycle.
//! - Requests per cycle: 8 cluster-wide calls (`/cluster/resources`, `/cluster/status`,
//!   `/cluster/options`, `/cluster/tasks`, `/cluster/ha/status/current`, `/cluster/ha/rules`,
//!   `/pools`, `/access/permissions`) plus one `/nodes/{node}/status` per online node
//!   (optional; it also carries each node's PVE version, so `/version` is not polled). Nothing
//!   per guest: `/cluster/resources` already carries each guest's node, status, usage, `tags`
//!   (PVE ≥ 7.3), `pool`, `lock` and `hastate`.
//! - The cluster-wide calls run concurrently, then the per-node ones: an unreachable host marks
//!   the snapshot stale within one request timeout (per configured host), and a failing
//!   `/cluster/resources` ends the cycle at once.
//! - On failure the last good data stays published, marked with a [`SnapshotFailure`] (kind of
//!   failure, host, a safe summary, since when) so the UI can show its age. Failures of one
//!   optional section (e.g. 403 on `/cluster/status` for a token without `Sys.Audit`) do not fail
//!   the snapshot: they become [`SectionWarning`]s and the section keeps its previous value.
//! - The poller stops when the [`CancellationToken`] fires.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::join_all;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::rrd_inputs::{InputsStatus, RrdInputs};
use crate::ports::{Clock, PveApi};
use crate::pve_wire::dto::{
    quorum, ClusterOptions, ClusterResource, ClusterStatusEntry, HaRule, HaStatusEntry,
    NodeRrdPoint, NodeStatus, PoolSummary, RrdCf, RrdTimeframe, TaskEntry,
};
use crate::pve_wire::{FailureKind, PveError};

/// Default refresh interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// How many recent migration tasks a snapshot keeps.
pub const MAX_MIGRATIONS: usize = 50;

/// How the poller runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotConfig {
    /// Time between two cycles (measured from the start of the previous one's wait).
    pub interval: Duration,
    /// Also fetch `/nodes/{node}/status` for every online node (load average, kernel, PVE
    /// version, memory available): one request per node per cycle.
    pub node_status: bool,
    /// Also fetch the last hour of `/nodes/{node}/rrddata` (AVERAGE) for every online node, for
    /// the node detail's load history (one request per online node, none per guest).
    pub node_history: bool,
    /// Requests per cycle for ProxLB's RRD inputs (guest CPU means, guest and node PSI; two
    /// per subject, oldest first; see [`super::rrd_inputs`]). 0 turns them off.
    pub rrd_budget: usize,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            node_status: true,
            node_history: true,
            rrd_budget: super::rrd_inputs::DEFAULT_RRD_BUDGET,
        }
    }
}

/// A part of the snapshot fetched by its own request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// `/cluster/status` (quorum).
    ClusterStatus,
    /// `/cluster/options` (CRS).
    ClusterOptions,
    /// `/cluster/tasks` (migrations).
    Tasks,
    /// `/cluster/ha/status/current`.
    HaStatus,
    /// `/cluster/ha/rules`.
    HaRules,
    /// `/pools`.
    Pools,
    /// `/access/permissions`.
    Permissions,
    /// `/nodes/{node}/status`.
    NodeStatus,
    /// `/nodes/{node}/rrddata`.
    NodeHistory,
}

/// An optional section that could not be fetched this cycle.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SectionWarning {
    /// Which section.
    pub section: Section,
    /// The node, for per-node sections.
    pub node: Option<String>,
    /// Kind of failure.
    pub kind: FailureKind,
    /// Safe one-line summary (no secrets, no PVE-internal paths).
    pub summary: String,
}

/// How long the nodes' last-hour RRD rows are kept before they are fetched again, seconds. The
/// hour timeframe has one row per minute, so a fetch every poll (every 2 s at the shortest)
/// returned the same rows, one request per node each time (64 requests per poll at 64 nodes).
pub const NODE_HISTORY_REFRESH: u64 = 60;

/// What the poller last fetched successfully, at the level of PVE's DTOs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterData {
    /// `/cluster/status` (empty without `Sys.Audit`).
    pub cluster_status: Vec<ClusterStatusEntry>,
    /// Quorum from `/cluster/status`, when known.
    pub quorate: Option<bool>,
    /// `/cluster/resources`: guests (with tags, pool, lock, HA state), nodes, storages, pools.
    pub resources: Vec<ClusterResource>,
    /// `/nodes/{node}/status` per online node (when enabled and permitted).
    pub node_status: BTreeMap<String, NodeStatus>,
    /// Last hour of RRD samples per online node (when `node_history` is on).
    pub node_history: BTreeMap<String, Vec<NodeRrdPoint>>,
    /// When `node_history` was fetched (this machine's clock, UNIX seconds): it is fetched
    /// again only [`NODE_HISTORY_REFRESH`] later.
    pub node_history_fetched_unix: Option<u64>,
    /// `/pools`.
    pub pools: Vec<PoolSummary>,
    /// `/cluster/ha/rules`; `None` before PVE 9 (no rules API) or when never fetched.
    pub ha_rules: Option<Vec<HaRule>>,
    /// `/cluster/ha/status/current`.
    pub ha_status: Vec<HaStatusEntry>,
    /// `/cluster/options` (incl. `crs`).
    pub cluster_options: Option<ClusterOptions>,
    /// Recent `qmigrate`/`vzmigrate`/`hamigrate` tasks, newest first.
    pub migrations: Vec<TaskEntry>,
    /// Privileges of ProxLB's set the user/token lacks; `None` when unknown.
    pub missing_privileges: Option<Vec<String>>,
    /// Optional sections that failed this cycle.
    pub warnings: Vec<SectionWarning>,
    /// ProxLB's RRD inputs, refreshed a budget at a time (empty when `rrd_budget` is 0).
    pub rrd: RrdInputs,
}

impl ClusterData {
    /// How complete and how old ProxLB's RRD inputs are (`inputs_age` for the UI).
    pub fn inputs_status(&self) -> InputsStatus {
        let running: Vec<u32> = self
            .guests()
            .filter(|g| !g.template && g.status.as_deref() == Some("running"))
            .filter_map(|g| g.vmid)
            .collect();
        self.rrd.status(&running)
    }

    /// Node entries of `/cluster/resources`.
    pub fn nodes(&self) -> impl Iterator<Item = &ClusterResource> {
        self.resources.iter().filter(|r| r.is_node())
    }

    /// Guest entries (VMs and containers) of `/cluster/resources`.
    pub fn guests(&self) -> impl Iterator<Item = &ClusterResource> {
        self.resources.iter().filter(|r| r.is_guest())
    }

    /// The node entry named `name`.
    pub fn node(&self, name: &str) -> Option<&ClusterResource> {
        self.nodes().find(|n| n.node.as_deref() == Some(name))
    }

    /// The guest with id `vmid`.
    pub fn guest(&self, vmid: u32) -> Option<&ClusterResource> {
        self.guests().find(|g| g.vmid == Some(vmid))
    }

    /// Nodes whose HA LRM is in maintenance mode.
    pub fn maintenance_nodes(&self) -> Vec<String> {
        self.ha_status
            .iter()
            .filter(|e| e.is_maintenance())
            .filter_map(|e| e.node.clone())
            .collect()
    }
}

/// Why the latest cycle failed; the published data (if any) is older.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotFailure {
    /// Kind of failure.
    pub kind: FailureKind,
    /// The host involved, when known (`host:port`).
    pub host: Option<String>,
    /// Safe one-line summary (no credentials, no internal paths).
    pub summary: String,
    /// When the failures started (first failed cycle of this run).
    pub since: SystemTime,
    /// Failed cycles in a row.
    pub consecutive: u32,
}

impl SnapshotFailure {
    fn from_error(
        error: &PveError,
        answering_host: Option<String>,
        since: SystemTime,
        consecutive: u32,
    ) -> Self {
        Self {
            kind: error.kind(),
            // Transport errors name the host they hit; HTTP errors came from the active one.
            host: error.host().map(str::to_owned).or(answering_host),
            summary: error.safe_summary(),
            since,
            consecutive,
        }
    }
}

/// One published state: the last good data (if any), its time, and the latest failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Completed cycles, successful or not (0 = nothing fetched yet).
    pub sequence: u64,
    /// The last good data.
    pub data: Option<Arc<ClusterData>>,
    /// When `data` was fetched (by the service's clock).
    pub fetched_at: Option<SystemTime>,
    /// When the latest cycle started.
    pub attempted_at: Option<SystemTime>,
    /// Set when the latest cycle failed (the data is then stale).
    pub failure: Option<SnapshotFailure>,
    /// TLS verification is off: the UI should warn.
    pub tls_verification_disabled: bool,
    demands_served: u64,
}

impl Snapshot {
    fn empty(tls_verification_disabled: bool) -> Self {
        Self {
            sequence: 0,
            data: None,
            fetched_at: None,
            attempted_at: None,
            failure: None,
            tls_verification_disabled,
            demands_served: 0,
        }
    }

    /// How old the data is at `now` (`None` without data; zero if the clock went backwards).
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.fetched_at
            .map(|at| now.duration_since(at).unwrap_or_default())
    }

    /// Whether the latest cycle failed, so the data (if any) is older than one interval.
    pub fn is_stale(&self) -> bool {
        self.failure.is_some()
    }
}

struct Shared {
    demand: Notify,
    demands: AtomicU64,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("demands", &self.demands.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A handle on the running poller: read, subscribe, ask for a refresh. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SnapshotHandle {
    rx: watch::Receiver<Arc<Snapshot>>,
    shared: Arc<Shared>,
}

impl SnapshotHandle {
    /// The latest published snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.rx.borrow())
    }

    /// A receiver that sees every new snapshot (`changed().await`, `borrow()`).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.rx.clone()
    }

    /// Asks for a fetch now without waiting; demands made while a fetch runs are coalesced into
    /// one more fetch.
    pub fn request_refresh(&self) {
        self.shared.demands.fetch_add(1, Ordering::SeqCst);
        self.shared.demand.notify_one();
    }

    /// Asks for a fetch now and waits for a snapshot from a cycle that started after the call
    /// (concurrent callers share one fetch). Returns the current snapshot if the poller stopped.
    pub async fn refresh(&self) -> Arc<Snapshot> {
        let wanted = self.shared.demands.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.demand.notify_one();
        let mut rx = self.rx.clone();
        loop {
            {
                let snapshot = rx.borrow_and_update();
                if snapshot.demands_served >= wanted {
                    return Arc::clone(&snapshot);
                }
            }
            if rx.changed().await.is_err() {
                return Arc::clone(&rx.borrow());
            }
        }
    }

    /// Waits until the poller has stopped (after cancellation).
    pub async fn stopped(&self) {
        let mut rx = self.rx.clone();
        while rx.changed().await.is_ok() {}
    }
}

/// Starts the poller on the current tokio runtime. The first cycle starts at once; the poller
/// runs until `cancel` fires.
pub fn spawn(
    api: Arc<dyn PveApi>,
    clock: Arc<dyn Clock>,
    config: SnapshotConfig,
    cancel: CancellationToken,
) -> SnapshotHandle {
    spawn_on(
        &tokio::runtime::Handle::current(),
        api,
        clock,
        config,
        cancel,
    )
}

/// [`spawn`] on the runtime `runtime` names (the cluster service's own poller thread, so that
/// reading and decoding megabytes of answers never runs on the workers that serve requests).
pub fn spawn_on(
    runtime: &tokio::runtime::Handle,
    api: Arc<dyn PveApi>,
    clock: Arc<dyn Clock>,
    config: SnapshotConfig,
    cancel: CancellationToken,
) -> SnapshotHandle {
    let (tx, rx) = watch::channel(Arc::new(Snapshot::empty(api.tls_verification_disabled())));
    let shared = Arc::new(Shared {
        demand: Notify::new(),
        demands: AtomicU64::new(0),
    });
    let poller = Poller {
        api,
        clock,
        config,
        cancel,
        tx,
        shared: Arc::clone(&shared),
    };
    runtime.spawn(poller.run());
    SnapshotHandle { rx, shared }
}

struct Poller {
    api: Arc<dyn PveApi>,
    clock: Arc<dyn Clock>,
    config: SnapshotConfig,
    cancel: CancellationToken,
    tx: watch::Sender<Arc<Snapshot>>,
    shared: Arc<Shared>,
}

impl Poller {
    async fn run(self) {
        let mut previous: Option<Arc<ClusterData>> = None;
        loop {
            let served = self.shared.demands.load(Ordering::SeqCst);
            let attempted_at = self.clock.now();
            let result = tokio::select! {
                () = self.cancel.cancelled() => break,
                result = fetch(&*self.api, &self.config, previous.as_deref()) => result,
            };
            let last = Arc::clone(&self.tx.borrow());
            let snapshot = match result {
                Ok(data) => {
                    if last.failure.is_some() {
                        tracing::info!("Proxmox VE snapshot recovered");
                    }
                    let data = Arc::new(data);
                    previous = Some(Arc::clone(&data));
                    Snapshot {
                        sequence: last.sequence + 1,
                        data: Some(data),
                        fetched_at: Some(attempted_at),
                        attempted_at: Some(attempted_at),
                        failure: None,
                        tls_verification_disabled: self.api.tls_verification_disabled(),
                        demands_served: served,
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "Proxmox VE snapshot failed; keeping the last one");
                    let (since, consecutive) = last
                        .failure
                        .as_ref()
                        .map_or((attempted_at, 1), |f| (f.since, f.consecutive + 1));
                    Snapshot {
                        sequence: last.sequence + 1,
                        data: last.data.clone(),
                        fetched_at: last.fetched_at,
                        attempted_at: Some(attempted_at),
                        failure: Some(SnapshotFailure::from_error(
                            &error,
                            self.api.active_host(),
                            since,
                            consecutive,
                        )),
                        tls_verification_disabled: self.api.tls_verification_disabled(),
                        demands_served: served,
                    }
                }
            };
            self.tx.send_replace(Arc::new(snapshot));
            if !self.wait(served).await {
                break;
            }
        }
        tracing::debug!("Proxmox VE snapshot poller stopped");
    }

    /// Waits for the interval or a new demand; false when cancelled.
    async fn wait(&self, served: u64) -> bool {
        let deadline = Instant::now() + self.config.interval;
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => return false,
                () = tokio::time::sleep_until(deadline) => return true,
                () = self.shared.demand.notified() => {
                    if self.shared.demands.load(Ordering::SeqCst) > served {
                        return true;
                    }
                }
            }
        }
    }
}

/// Keeps a section's new value, or records a warning and keeps its previous value.
fn section<T>(
    result: Result<T, PveError>,
    section: Section,
    warnings: &mut Vec<SectionWarning>,
    previous: Option<T>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::debug!(?section, %error, "snapshot section unavailable");
            warnings.push(SectionWarning {
                section,
                node: None,
                kind: error.kind(),
                summary: error.safe_summary(),
            });
            previous
        }
    }
}

/// The warning for a per-node section that failed on `node`.
fn node_warning(section: Section, node: &str, error: &PveError) -> SectionWarning {
    SectionWarning {
        section,
        node: Some(node.to_owned()),
        kind: error.kind(),
        summary: error.safe_summary(),
    }
}

/// The answers of one per-node call by node (`results` in `nodes` order); each failure is a
/// warning of `section` for its node.
fn per_node<T>(
    nodes: &[String],
    results: Vec<Result<T, PveError>>,
    section: Section,
    warnings: &mut Vec<SectionWarning>,
) -> BTreeMap<String, T> {
    let mut answers = BTreeMap::new();
    for (node, result) in nodes.iter().zip(results) {
        match result {
            Ok(answer) => {
                answers.insert(node.clone(), answer);
            }
            Err(error) => warnings.push(node_warning(section, node, &error)),
        }
    }
    answers
}

/// One fetch cycle. Fails only when `/cluster/resources` fails; other sections degrade.
pub async fn fetch(
    api: &dyn PveApi,
    config: &SnapshotConfig,
    previous: Option<&ClusterData>,
) -> Result<ClusterData, PveError> {
    // All cluster-wide calls at once, so an unreachable or slow host costs one timeout per
    // cycle, not one per call; when `/cluster/resources` fails the cycle fails at once and the
    // other calls are dropped.
    let optional = async {
        Ok(tokio::join!(
            api.cluster_status(),
            api.cluster_options(),
            api.cluster_tasks(),
            api.ha_status_current(),
            api.ha_rules(),
            api.pools(),
            api.permissions(),
        ))
    };
    let (resources, (status, options, tasks, ha_status, ha_rules, pools, permissions)) =
        tokio::try_join!(api.cluster_resources(None), optional)?;
    let mut warnings = Vec::new();

    let cluster_status = section(
        status,
        Section::ClusterStatus,
        &mut warnings,
        previous.map(|p| p.cluster_status.clone()),
    )
    .unwrap_or_default();
    let cluster_options = section(
        options.map(Some),
        Section::ClusterOptions,
        &mut warnings,
        previous.map(|p| p.cluster_options.clone()),
    )
    .flatten();
    let mut migrations: Vec<TaskEntry> = section(
        tasks.map(|list| list.into_iter().filter(TaskEntry::is_migration).collect()),
        Section::Tasks,
        &mut warnings,
        previous.map(|p| p.migrations.clone()),
    )
    .unwrap_or_default();
    migrations.sort_by_key(|task| std::cmp::Reverse(task.starttime));
    migrations.truncate(MAX_MIGRATIONS);
    let ha_status = section(
        ha_status,
        Section::HaStatus,
        &mut warnings,
        previous.map(|p| p.ha_status.clone()),
    )
    .unwrap_or_default();
    let ha_rules = match ha_rules {
        // PVE 8 has no rules API: not a warning, just no rules.
        Err(PveError::NotImplemented { .. }) => None,
        other => section(
            other.map(Some),
            Section::HaRules,
            &mut warnings,
            previous.map(|p| p.ha_rules.clone()),
        )
        .flatten(),
    };
    let pools = section(
        pools,
        Section::Pools,
        &mut warnings,
        previous.map(|p| p.pools.clone()),
    )
    .unwrap_or_default();
    let missing_privileges = section(
        permissions.map(|p| Some(p.missing(&crate::pve_wire::REQUIRED_PRIVILEGES))),
        Section::Permissions,
        &mut warnings,
        previous.map(|p| p.missing_privileges.clone()),
    )
    .flatten();

    let online: Vec<String> = resources
        .iter()
        .filter(|r| r.is_node() && r.is_online())
        .filter_map(|r| r.node.clone())
        .collect();
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // The last fetch's rows while they are recent and cover every online node (a clock set
    // back makes them old, not young for the size of the jump).
    let kept_history = previous
        .filter(|p| {
            p.node_history_fetched_unix
                .is_some_and(|at| (at..at.saturating_add(NODE_HISTORY_REFRESH)).contains(&now_unix))
                && online.iter().all(|node| p.node_history.contains_key(node))
        })
        .filter(|_| config.node_history)
        .map(|p| {
            let rows: BTreeMap<String, Vec<NodeRrdPoint>> = online
                .iter()
                .filter_map(|node| Some((node.clone(), p.node_history.get(node)?.clone())))
                .collect();
            (rows, p.node_history_fetched_unix)
        });
    // The per-node calls of both kinds at once, too.
    let history = async {
        if config.node_history && kept_history.is_none() {
            join_all(
                online
                    .iter()
                    .map(|node| api.node_rrddata(node, RrdTimeframe::Hour, RrdCf::Average)),
            )
            .await
        } else {
            Vec::new()
        }
    };
    let statuses = async {
        if config.node_status {
            join_all(online.iter().map(|node| api.node_status(node))).await
        } else {
            Vec::new()
        }
    };
    let rrd = async {
        if config.rrd_budget > 0 {
            super::rrd_inputs::refresh(
                api,
                previous.map(|p| &p.rrd),
                &resources,
                config.rrd_budget,
                now_unix,
            )
            .await
        } else {
            RrdInputs::default()
        }
    };
    let (history, statuses, rrd) = tokio::join!(history, statuses, rrd);
    let (node_history, node_history_fetched_unix) = match kept_history {
        Some(kept) => kept,
        None => {
            let fetched = per_node(&online, history, Section::NodeHistory, &mut warnings);
            // A node whose fetch failed is asked again at the next poll (it is not covered).
            let at = config.node_history.then_some(now_unix);
            (fetched, at)
        }
    };
    let node_status = per_node(&online, statuses, Section::NodeStatus, &mut warnings);

    Ok(ClusterData {
        quorate: quorum(&cluster_status),
        cluster_status,
        resources,
        node_status,
        node_history,
        node_history_fetched_unix,
        pools,
        ha_rules,
        ha_status,
        cluster_options,
        migrations,
        missing_privileges,
        warnings,
        rrd,
    })
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
