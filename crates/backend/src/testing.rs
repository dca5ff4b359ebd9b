//! Fakes of the ports, shared by the unit tests here and the tests of the web crate (through the
//! `testing` feature, which only dev-dependencies turn on): a clock moved by hand, a small fake
//! Proxmox VE, a connector whose answer a test can change between reconnects, and a private
//! data folder for the state ([`wire_private`]).
// Test support: a poisoned mutex here is a failed test, so unwrapping it is what we want.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plb_domain::proxlb::ProxLbConfig;

use crate::auth::{ProxmoxLogin, ProxmoxLoginError, ProxmoxUser};
use crate::compose::Ports;
use crate::error::NotConfigured;
use crate::ports::{Clock, ClusterConnection, ClusterConnector, PveApi};
use crate::pve_wire::dto::{
    ClusterOptions, ClusterResource, ClusterStatusEntry, HaRule, HaStatusEntry, NodeRrdPoint,
    NodeStatus, Permissions, PoolSummary, ResourceFilter, ResourceType, RrdCf, RrdTimeframe,
    TaskEntry,
};
use crate::pve_wire::{PveError, REQUIRED_PRIVILEGES};
use crate::{AppState, Settings};

/// A clock tests move by hand. Starts at 2026-11-22 (the simulator's usual start).
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock at a fixed start time.
    pub fn new() -> Arc<Self> {
        Self::at(UNIX_EPOCH + Duration::from_secs(1_795_365_000))
    }

    /// A clock at `start`.
    pub fn at(start: SystemTime) -> Arc<Self> {
        Arc::new(Self(Mutex::new(start)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    /// Sets the clock (also backwards).
    pub fn set(&self, to: SystemTime) {
        *self.0.lock().unwrap() = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// What [`FakePve::cluster_resources`] does.
#[derive(Clone, Debug)]
pub enum ResourcesAnswer {
    /// Answers these entries.
    Entries(Vec<ClusterResource>),
    /// Fails with this error (the snapshot goes stale).
    Fail(PveError),
    /// Panics, as a bug in the poller's path would (the poller task dies).
    Panic,
}

/// A fake Proxmox VE: online nodes with the given names, no guests, every privilege, every
/// optional section empty. `/cluster/resources` can be switched to fail or panic.
#[derive(Debug)]
pub struct FakePve {
    resources: Mutex<ResourcesAnswer>,
}

impl FakePve {
    /// A cluster of online nodes with these names.
    pub fn with_nodes(names: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            resources: Mutex::new(ResourcesAnswer::Entries(
                names.iter().map(|name| node(name)).collect(),
            )),
        })
    }

    /// Changes what `/cluster/resources` answers from the next cycle on.
    pub fn answer(&self, answer: ResourcesAnswer) {
        *self.resources.lock().unwrap() = answer;
    }
}

/// An online node entry of `/cluster/resources`.
pub fn node(name: &str) -> ClusterResource {
    ClusterResource {
        id: format!("node/{name}"),
        kind: ResourceType::Node,
        node: Some(name.to_owned()),
        status: Some("online".to_owned()),
        maxcpu: Some(8.0),
        maxmem: Some(64 << 30),
        mem: Some(16 << 30),
        ..ClusterResource::default()
    }
}

#[async_trait::async_trait]
impl PveApi for FakePve {
    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError> {
        Ok(Vec::new())
    }

    async fn cluster_resources(
        &self,
        _filter: Option<ResourceFilter>,
    ) -> Result<Vec<ClusterResource>, PveError> {
        let answer = self.resources.lock().unwrap().clone();
        match answer {
            ResourcesAnswer::Entries(entries) => Ok(entries),
            ResourcesAnswer::Fail(error) => Err(error),
            ResourcesAnswer::Panic => panic!("FakePve was told to panic"),
        }
    }

    async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError> {
        Err(PveError::NotImplemented {
            path: format!("/nodes/{node}/status"),
        })
    }

    async fn node_rrddata(
        &self,
        _node: &str,
        _timeframe: RrdTimeframe,
        _cf: RrdCf,
    ) -> Result<Vec<NodeRrdPoint>, PveError> {
        Ok(Vec::new())
    }

    async fn pools(&self) -> Result<Vec<PoolSummary>, PveError> {
        Ok(Vec::new())
    }

    async fn ha_rules(&self) -> Result<Vec<HaRule>, PveError> {
        Ok(Vec::new())
    }

    async fn ha_status_current(&self) -> Result<Vec<HaStatusEntry>, PveError> {
        Ok(Vec::new())
    }

    async fn cluster_options(&self) -> Result<ClusterOptions, PveError> {
        Ok(ClusterOptions::default())
    }

    async fn cluster_tasks(&self) -> Result<Vec<TaskEntry>, PveError> {
        Ok(Vec::new())
    }

    async fn permissions(&self) -> Result<Permissions, PveError> {
        let root = REQUIRED_PRIVILEGES
            .iter()
            .map(|privilege| ((*privilege).to_owned(), serde_json::json!(1)))
            .collect();
        Ok(Permissions(BTreeMap::from([("/".to_owned(), root)])))
    }

    fn tls_verification_disabled(&self) -> bool {
        false
    }
}

/// A connector whose answer a test sets: a fake API, or "not configured".
pub struct FakeConnector {
    answer: Mutex<Result<Arc<dyn PveApi>, NotConfigured>>,
}

impl FakeConnector {
    /// Connects to `api`.
    pub fn to(api: Arc<dyn PveApi>) -> Arc<Self> {
        Arc::new(Self {
            answer: Mutex::new(Ok(api)),
        })
    }

    /// Answers "not configured" with this reason.
    pub fn unconfigured(reason: &str) -> Arc<Self> {
        Arc::new(Self {
            answer: Mutex::new(Err(NotConfigured {
                reason: reason.to_owned(),
                hint: "Set PROXLB_CONFIG, or start with --demo.".to_owned(),
            })),
        })
    }

    /// Connects to `api` from the next connect on.
    pub fn switch_to(&self, api: Arc<dyn PveApi>) {
        *self.answer.lock().unwrap() = Ok(api);
    }
}

impl ClusterConnector for FakeConnector {
    fn connect(&self) -> Result<ClusterConnection, NotConfigured> {
        let answer = self.answer.lock().unwrap().clone();
        answer.map(|api| ClusterConnection {
            api,
            config: Arc::new(ProxLbConfig::with_api(
                vec!["fake.invalid".to_owned()],
                "root@pam",
            )),
        })
    }
}

/// A Proxmox login that can never be checked (as if Proxmox were unreachable), for tests that
/// log in through the local account or tokens only.
#[derive(Debug, Default)]
pub struct NoProxmoxLogin;

#[async_trait::async_trait]
impl ProxmoxLogin for NoProxmoxLogin {
    async fn login(
        &self,
        _user_id: &str,
        _password: &plb_domain::secret::Secret,
    ) -> Result<ProxmoxUser, ProxmoxLoginError> {
        Err(ProxmoxLoginError::Unreachable(
            "no Proxmox VE in this test".into(),
        ))
    }
}

/// A private data folder (mode 0700) under the system's temporary folder, removed when dropped.
/// Every [`AppState`] needs one: the database, the install secret and the local admin live there.
#[derive(Debug)]
pub struct TempDataDir {
    path: PathBuf,
}

impl TempDataDir {
    /// A new, empty folder with a name no other test uses.
    pub fn new() -> Self {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "plb-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .unwrap();
        Self { path }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Default for TempDataDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `settings` with `data_dir` in a fresh [`TempDataDir`] (keep it as long as the state).
pub fn private_settings(mut settings: Settings) -> (Settings, TempDataDir) {
    let dir = TempDataDir::new();
    settings.data_dir = dir.path().join("data");
    (settings, dir)
}

/// [`crate::compose::wire_with`] on a private data folder, with `ports` (the Proxmox login
/// defaults to [`NoProxmoxLogin`] when built with [`ports`]).
pub async fn wire_private(settings: Settings, ports: Ports) -> (AppState, TempDataDir) {
    let (settings, dir) = private_settings(settings);
    let state = crate::compose::wire_with(settings, ports).await.unwrap();
    (state, dir)
}

/// Ports of a test: `clock`, `cluster`, and no Proxmox login.
pub fn ports(clock: Arc<dyn Clock>, cluster: Arc<dyn ClusterConnector>) -> Ports {
    Ports {
        clock,
        cluster,
        proxmox_login: Arc::new(NoProxmoxLogin),
    }
}
