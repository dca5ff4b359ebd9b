//! Unit tests of the snapshot poller against a fake [`PveApi`] (paused tokio time).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;
use crate::pve_wire::dto::{
    ClusterResource, GuestConfig, GuestKind, GuestListEntry, HaManagerStatus, HaResource,
    NodeListEntry, NodeRrdPoint, Permissions, PoolDetail, ResourceFilter, ResourceType, RrdCf,
    RrdTimeframe, VersionInfo,
};
use crate::testing::ManualClock;

/// A fake cluster: two online nodes and one that can go offline, three guests.
#[derive(Default)]
struct Fake {
    calls: Mutex<BTreeMap<&'static str, u64>>,
    fail_resources: Mutex<Option<PveError>>,
    pve3_offline: Mutex<bool>,
    forbid_cluster_status: bool,
    rules_not_implemented: bool,
    resources_delay: Duration,
    /// How long `/cluster/status` takes (an optional, cluster-wide call).
    status_delay: Duration,
    /// How long each per-node call takes.
    node_delay: Duration,
}

impl Fake {
    fn count(&self, name: &'static str) {
        *self.calls.lock().unwrap().entry(name).or_insert(0) += 1;
    }

    fn calls(&self, name: &str) -> u64 {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    fn fail_with(&self, error: Option<PveError>) {
        *self.fail_resources.lock().unwrap() = error;
    }
}

fn node(name: &str, online: bool) -> ClusterResource {
    ClusterResource {
        id: format!("node/{name}"),
        kind: ResourceType::Node,
        node: Some(name.to_owned()),
        status: Some(if online { "online" } else { "offline" }.to_owned()),
        ..ClusterResource::default()
    }
}

fn guest(vmid: u32, node: &str, tags: Option<&str>, pool: Option<&str>) -> ClusterResource {
    ClusterResource {
        id: format!("qemu/{vmid}"),
        kind: ResourceType::Qemu,
        vmid: Some(vmid),
        node: Some(node.to_owned()),
        status: Some("running".to_owned()),
        tags: tags.map(str::to_owned),
        pool: pool.map(str::to_owned),
        ..ClusterResource::default()
    }
}

#[async_trait::async_trait]
impl PveApi for Fake {
    async fn version(&self) -> Result<VersionInfo, PveError> {
        self.count("version");
        Ok(VersionInfo {
            version: "9.1.2".into(),
            release: "9.1".into(),
            ..VersionInfo::default()
        })
    }

    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError> {
        self.count("cluster_status");
        tokio::time::sleep(self.status_delay).await;
        if self.forbid_cluster_status {
            return Err(PveError::Forbidden {
                path: "/cluster/status".into(),
                privilege: Some("Sys.Audit".into()),
            });
        }
        Ok(vec![ClusterStatusEntry {
            kind: "cluster".into(),
            quorate: Some(true),
            ..ClusterStatusEntry::default()
        }])
    }

    async fn cluster_resources(
        &self,
        _filter: Option<ResourceFilter>,
    ) -> Result<Vec<ClusterResource>, PveError> {
        self.count("cluster_resources");
        if !self.resources_delay.is_zero() {
            tokio::time::sleep(self.resources_delay).await;
        }
        if let Some(error) = self.fail_resources.lock().unwrap().clone() {
            return Err(error);
        }
        let pve3_online = !*self.pve3_offline.lock().unwrap();
        Ok(vec![
            node("pve1", true),
            node("pve2", true),
            node("pve3", pve3_online),
            guest(100, "pve1", Some("plb_affinity_web;prod"), Some("prod")),
            guest(101, "pve1", None, None),
            guest(110, "pve2", Some("infra"), None),
        ])
    }

    async fn nodes(&self) -> Result<Vec<NodeListEntry>, PveError> {
        self.count("nodes");
        Ok(Vec::new())
    }

    async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError> {
        self.count("node_status");
        tokio::time::sleep(self.node_delay).await;
        if node == "pve3" && *self.pve3_offline.lock().unwrap() {
            return Err(PveError::Server {
                status: 595,
                path: "/nodes/pve3/status".into(),
                message: "No route to host".into(),
            });
        }
        Ok(NodeStatus {
            loadavg: vec![1.0, 0.5, 0.25],
            ..NodeStatus::default()
        })
    }

    async fn node_rrddata(
        &self,
        _node: &str,
        _timeframe: RrdTimeframe,
        _cf: RrdCf,
    ) -> Result<Vec<NodeRrdPoint>, PveError> {
        self.count("node_rrddata");
        tokio::time::sleep(self.node_delay).await;
        Ok(Vec::new())
    }

    async fn node_version(&self, _node: &str) -> Result<VersionInfo, PveError> {
        self.count("node_version");
        Ok(VersionInfo::default())
    }

    async fn node_guests(
        &self,
        _node: &str,
        _kind: GuestKind,
    ) -> Result<Vec<GuestListEntry>, PveError> {
        self.count("node_guests");
        Ok(Vec::new())
    }

    async fn guest_config(
        &self,
        _node: &str,
        _kind: GuestKind,
        _vmid: u32,
    ) -> Result<GuestConfig, PveError> {
        self.count("guest_config");
        Ok(GuestConfig::default())
    }

    async fn pools(&self) -> Result<Vec<PoolSummary>, PveError> {
        self.count("pools");
        Ok(vec![PoolSummary {
            poolid: "prod".into(),
            comment: None,
        }])
    }

    async fn pool(&self, _poolid: &str) -> Result<PoolDetail, PveError> {
        self.count("pool");
        Ok(PoolDetail::default())
    }

    async fn ha_rules(&self) -> Result<Vec<HaRule>, PveError> {
        self.count("ha_rules");
        if self.rules_not_implemented {
            return Err(PveError::NotImplemented {
                path: "/cluster/ha/rules".into(),
            });
        }
        Ok(vec![HaRule {
            rule: "db".into(),
            kind: "node-affinity".into(),
            resources: "vm:101".into(),
            ..HaRule::default()
        }])
    }

    async fn ha_status_current(&self) -> Result<Vec<HaStatusEntry>, PveError> {
        self.count("ha_status_current");
        Ok(vec![HaStatusEntry {
            id: "lrm:pve2".into(),
            kind: "lrm".into(),
            node: Some("pve2".into()),
            status: Some("pve2 (maintenance mode, watchdog active, x)".into()),
            ..HaStatusEntry::default()
        }])
    }

    async fn ha_manager_status(&self) -> Result<HaManagerStatus, PveError> {
        self.count("ha_manager_status");
        Ok(HaManagerStatus::default())
    }

    async fn ha_resources(&self) -> Result<Vec<HaResource>, PveError> {
        self.count("ha_resources");
        Ok(Vec::new())
    }

    async fn cluster_options(&self) -> Result<ClusterOptions, PveError> {
        self.count("cluster_options");
        Ok(ClusterOptions::default())
    }

    async fn cluster_tasks(&self) -> Result<Vec<TaskEntry>, PveError> {
        self.count("cluster_tasks");
        let task = |kind: &str, start: i64| TaskEntry {
            upid: format!("UPID:pve1:1:2:{start:X}:{kind}:100:root@pam:"),
            kind: kind.to_owned(),
            starttime: Some(start),
            ..TaskEntry::default()
        };
        Ok(vec![
            task("vzdump", 30),
            task("qmigrate", 10),
            task("hamigrate", 20),
        ])
    }

    async fn permissions(&self) -> Result<Permissions, PveError> {
        self.count("permissions");
        let mut root = BTreeMap::new();
        for privilege in ["Sys.Audit", "VM.Audit", "Datastore.Audit"] {
            root.insert(privilege.to_owned(), serde_json::json!(1));
        }
        Ok(Permissions(BTreeMap::from([("/".to_owned(), root)])))
    }

    fn tls_verification_disabled(&self) -> bool {
        false
    }
}

fn start(
    fake: &Arc<Fake>,
    clock: &Arc<ManualClock>,
    interval: Duration,
) -> (SnapshotHandle, CancellationToken) {
    let cancel = CancellationToken::new();
    let handle = spawn(
        Arc::clone(fake) as Arc<dyn PveApi>,
        Arc::clone(clock) as Arc<dyn Clock>,
        SnapshotConfig {
            interval,
            node_status: true,
            // Off here: these tests count requests per cycle without the history calls.
            node_history: false,
            rrd_budget: 0,
        },
        cancel.clone(),
    );
    (handle, cancel)
}

async fn first(handle: &SnapshotHandle) -> Arc<Snapshot> {
    let mut rx = handle.subscribe();
    loop {
        let current = Arc::clone(&rx.borrow_and_update());
        if current.sequence > 0 {
            return current;
        }
        rx.changed().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_cycle_publishes_guests_with_tags_pools_ha_and_migrations() {
    let fake = Arc::new(Fake::default());
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, DEFAULT_INTERVAL);
    assert_eq!(handle.current().sequence, 0);
    assert!(handle.current().data.is_none());
    let snapshot = first(&handle).await;
    let data = snapshot.data.as_ref().unwrap();
    assert_eq!(data.guests().count(), 3);
    assert_eq!(
        data.guest(100).unwrap().tag_list(),
        vec!["plb_affinity_web", "prod"]
    );
    assert_eq!(data.guest(100).unwrap().pool.as_deref(), Some("prod"));
    assert_eq!(data.pools.len(), 1);
    assert_eq!(data.quorate, Some(true));
    assert_eq!(data.ha_rules.as_ref().unwrap().len(), 1);
    assert_eq!(data.maintenance_nodes(), vec!["pve2"]);
    // Only migrations, newest first.
    let kinds: Vec<&str> = data.migrations.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, vec!["hamigrate", "qmigrate"]);
    assert_eq!(
        data.missing_privileges.as_deref(),
        Some(&["VM.Migrate".to_owned()][..])
    );
    assert_eq!(data.node_status.len(), 3);
    assert!(data.warnings.is_empty());
    assert_eq!(snapshot.fetched_at, Some(clock.now()));
    // Requests grow with nodes, never with guests.
    assert_eq!(fake.calls("cluster_resources"), 1);
    assert_eq!(fake.calls("node_status"), 3);
    assert_eq!(fake.calls("guest_config"), 0);
    assert_eq!(fake.calls("node_guests"), 0);
    cancel.cancel();
    handle.stopped().await;
}

#[tokio::test(start_paused = true)]
async fn one_cycle_per_interval_whatever_the_number_of_subscribers() {
    let fake = Arc::new(Fake::default());
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, Duration::from_secs(10));
    let subscribers: Vec<_> = (0..20).map(|_| handle.subscribe()).collect();
    first(&handle).await;
    // Cycles at t = 0, 10, 20, 30.
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert_eq!(fake.calls("cluster_resources"), 4);
    assert_eq!(handle.current().sequence, 4);
    for rx in &subscribers {
        assert_eq!(rx.borrow().sequence, 4);
    }
    cancel.cancel();
    handle.stopped().await;
    // Nothing more after cancellation.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(fake.calls("cluster_resources"), 4);
}

#[tokio::test(start_paused = true)]
async fn concurrent_refresh_demands_share_one_fetch() {
    let fake = Arc::new(Fake {
        resources_delay: Duration::from_secs(1),
        ..Fake::default()
    });
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, Duration::from_secs(600));
    first(&handle).await;
    assert_eq!(fake.calls("cluster_resources"), 1);

    // Ten demands at once: one fetch serves them all.
    let results = join_all((0..10).map(|_| handle.refresh())).await;
    assert!(results.iter().all(|s| s.sequence == 2));
    assert_eq!(fake.calls("cluster_resources"), 2);

    // One demand starts a fetch; two more arrive while it runs: exactly one more fetch.
    let early = handle.clone();
    let early = tokio::spawn(async move { early.refresh().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.calls("cluster_resources"), 3);
    let (late_a, late_b) = tokio::join!(handle.refresh(), handle.refresh());
    assert_eq!(early.await.unwrap().sequence, 3);
    assert_eq!(late_a.sequence, 4);
    assert_eq!(late_b.sequence, 4);
    assert_eq!(fake.calls("cluster_resources"), 4);

    // Fire-and-forget demands are coalesced too.
    handle.request_refresh();
    handle.request_refresh();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(fake.calls("cluster_resources"), 5);
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_failure_keeps_the_last_data_with_its_age_and_recovers() {
    let fake = Arc::new(Fake::default());
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, Duration::from_secs(600));
    let good = first(&handle).await;
    let fetched_at = good.fetched_at.unwrap();

    fake.fail_with(Some(PveError::Unreachable {
        host: "pve1.example:8006".into(),
    }));
    clock.advance(Duration::from_secs(10));
    let failed = handle.refresh().await;
    assert!(failed.is_stale());
    assert_eq!(failed.data, good.data, "the last good data stays");
    assert_eq!(failed.fetched_at, Some(fetched_at));
    assert_eq!(failed.age(clock.now()), Some(Duration::from_secs(10)));
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Unreachable);
    assert_eq!(failure.host.as_deref(), Some("pve1.example:8006"));
    assert_eq!(failure.summary, "cannot connect to pve1.example:8006");
    assert_eq!(failure.consecutive, 1);
    let since = failure.since;

    clock.advance(Duration::from_secs(10));
    fake.fail_with(Some(PveError::Server {
        status: 500,
        path: "/cluster/resources".into(),
        message: "cannot read '/etc/pve/priv/token.cfg'".into(),
    }));
    let failed = handle.refresh().await;
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.consecutive, 2);
    assert_eq!(failure.since, since);
    assert_eq!(failure.kind, FailureKind::Server);
    assert!(!failure.summary.contains("/etc/pve"), "{}", failure.summary);
    assert_eq!(failed.age(clock.now()), Some(Duration::from_secs(20)));

    fake.fail_with(None);
    clock.advance(Duration::from_secs(1));
    let recovered = handle.refresh().await;
    assert!(!recovered.is_stale());
    assert_eq!(recovered.age(clock.now()), Some(Duration::ZERO));
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn optional_sections_degrade_to_warnings() {
    let fake = Arc::new(Fake {
        forbid_cluster_status: true,
        rules_not_implemented: true,
        ..Fake::default()
    });
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, DEFAULT_INTERVAL);
    let snapshot = first(&handle).await;
    assert!(!snapshot.is_stale());
    let data = snapshot.data.as_ref().unwrap();
    assert_eq!(data.quorate, None);
    assert!(data.cluster_status.is_empty());
    assert_eq!(data.ha_rules, None, "PVE 8: no rules API, no warning");
    assert_eq!(data.warnings.len(), 1);
    let warning = &data.warnings[0];
    assert_eq!(warning.section, Section::ClusterStatus);
    assert_eq!(warning.kind, FailureKind::Forbidden);
    assert_eq!(
        warning.summary,
        "permission denied on /cluster/status (needs Sys.Audit)"
    );
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn an_offline_node_shows_up_offline_in_the_next_snapshot() {
    let fake = Arc::new(Fake::default());
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, Duration::from_secs(600));
    let before = first(&handle).await;
    assert!(before
        .data
        .as_ref()
        .unwrap()
        .node("pve3")
        .unwrap()
        .is_online());
    *fake.pve3_offline.lock().unwrap() = true;
    let after = handle.refresh().await;
    let data = after.data.as_ref().unwrap();
    assert!(!data.node("pve3").unwrap().is_online());
    assert!(!data.node_status.contains_key("pve3"));
    // Offline nodes are not asked for their status.
    assert_eq!(fake.calls("node_status"), 3 + 2);
    assert!(data.warnings.is_empty());
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_the_poller_and_refresh_does_not_hang() {
    let fake = Arc::new(Fake::default());
    let clock = ManualClock::new();
    let (handle, cancel) = start(&fake, &clock, DEFAULT_INTERVAL);
    first(&handle).await;
    cancel.cancel();
    handle.stopped().await;
    let snapshot = handle.refresh().await;
    assert_eq!(snapshot.sequence, 1);
}

#[tokio::test(start_paused = true)]
async fn a_failing_resources_call_ends_the_cycle_without_waiting_for_the_others() {
    let fake = Fake {
        resources_delay: Duration::from_secs(5),
        status_delay: Duration::from_secs(3600),
        ..Fake::default()
    };
    fake.fail_with(Some(PveError::Timeout {
        host: "pve1:8006".into(),
    }));
    let started = Instant::now();
    let result = fetch(&fake, &SnapshotConfig::default(), None).await;
    assert_eq!(
        result.unwrap_err(),
        PveError::Timeout {
            host: "pve1:8006".into()
        }
    );
    // Failed when `/cluster/resources` did, not when `/cluster/status` would have answered.
    assert!(
        started.elapsed() < Duration::from_secs(3600),
        "waited for /cluster/status"
    );
    assert_eq!(fake.calls("cluster_status"), 1, "it was asked concurrently");
}

#[tokio::test(start_paused = true)]
async fn the_per_node_calls_of_both_kinds_run_at_once() {
    let step = Duration::from_secs(10);
    let fake = Fake {
        node_delay: step,
        ..Fake::default()
    };
    let started = Instant::now();
    // RRD inputs off: they would add their own (delayed) node RRD calls to the timing.
    let config = SnapshotConfig {
        rrd_budget: 0,
        ..SnapshotConfig::default()
    };
    let data = fetch(&fake, &config, None).await.unwrap();
    assert_eq!(data.node_status.len(), 3);
    assert_eq!(data.node_history.len(), 3);
    assert_eq!(fake.calls("node_status") + fake.calls("node_rrddata"), 6);
    assert!(started.elapsed() < 2 * step, "{:?}", started.elapsed());
}

#[tokio::test]
async fn node_histories_are_fetched_once_a_minute_not_every_poll() {
    let fake = Fake::default();
    let config = SnapshotConfig {
        rrd_budget: 0,
        ..SnapshotConfig::default()
    };
    let first = fetch(&fake, &config, None).await.unwrap();
    assert_eq!(fake.calls("node_rrddata"), 3);
    assert_eq!(first.node_history.len(), 3);
    assert!(first.node_history_fetched_unix.is_some());

    // The next poll keeps the rows (the hour timeframe has one a minute)...
    let second = fetch(&fake, &config, Some(&first)).await.unwrap();
    assert_eq!(fake.calls("node_rrddata"), 3);
    assert_eq!(second.node_history, first.node_history);
    assert_eq!(
        second.node_history_fetched_unix,
        first.node_history_fetched_unix
    );
    // ...while the other per-node calls are made every poll.
    assert_eq!(fake.calls("node_status"), 6);

    // A minute later, or when a node's rows are missing, they are fetched again.
    let mut old = second.clone();
    old.node_history_fetched_unix = old
        .node_history_fetched_unix
        .map(|at| at - NODE_HISTORY_REFRESH);
    fetch(&fake, &config, Some(&old)).await.unwrap();
    assert_eq!(fake.calls("node_rrddata"), 6);
    let mut partial = second;
    partial.node_history.pop_first();
    let refreshed = fetch(&fake, &config, Some(&partial)).await.unwrap();
    assert_eq!(fake.calls("node_rrddata"), 9);
    assert_eq!(refreshed.node_history.len(), 3);
    // A clock set back an hour makes the rows old, not an hour younger.
    let mut ahead = refreshed;
    ahead.node_history_fetched_unix = ahead.node_history_fetched_unix.map(|at| at + 3600);
    fetch(&fake, &config, Some(&ahead)).await.unwrap();
    assert_eq!(fake.calls("node_rrddata"), 12);
}
