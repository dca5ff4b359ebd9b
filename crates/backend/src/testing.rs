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

/// Ports of a test: `clock`, `cluster`, no Proxmox login, and a stopped fake ProxLB with an
/// empty log ([`fake_proxlb`]).
pub fn ports(clock: Arc<dyn Clock>, cluster: Arc<dyn ClusterConnector>) -> Ports {
    Ports {
        clock,
        cluster,
        proxmox_login: Arc::new(NoProxmoxLogin),
        proxlb: fake_proxlb(
            FakeServiceManager::new(plb_domain::service::BackendKind::Process),
            FakeLogSource::new(),
        ),
    }
}

/// The ProxLB backend of a test: `manager` and `logs`.
pub fn fake_proxlb(
    manager: Arc<FakeServiceManager>,
    logs: Arc<FakeLogSource>,
) -> crate::adapters::proxlb::ProxlbBackend {
    crate::adapters::proxlb::ProxlbBackend::from_backend(FakeProxlb { manager, logs })
}

/// A fake ProxLB backend: a [`FakeServiceManager`] and a [`FakeLogSource`] as one value.
struct FakeProxlb {
    manager: Arc<FakeServiceManager>,
    logs: Arc<FakeLogSource>,
}

#[async_trait::async_trait]
impl crate::ports::ServiceManager for FakeProxlb {
    fn backend(&self) -> plb_domain::service::BackendKind {
        self.manager.backend()
    }

    async fn status(
        &self,
    ) -> Result<plb_domain::service::ServiceStatus, crate::ports::ServiceError> {
        self.manager.status().await
    }

    async fn start(&self) -> Result<(), crate::ports::ServiceError> {
        self.manager.start().await
    }

    async fn stop(&self) -> Result<(), crate::ports::ServiceError> {
        self.manager.stop().await
    }

    async fn restart(&self) -> Result<(), crate::ports::ServiceError> {
        self.manager.restart().await
    }

    async fn reload(&self) -> Result<(), crate::ports::ServiceError> {
        self.manager.reload().await
    }
}

#[async_trait::async_trait]
impl crate::ports::LogSource for FakeProxlb {
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<
        futures::stream::BoxStream<
            'static,
            Result<crate::ports::SourceLine, crate::ports::ServiceError>,
        >,
        crate::ports::ServiceError,
    > {
        self.logs.follow(after, tail).await
    }
}

/// A fake ProxLB service: starts stopped, `start`/`restart` make it run, `stop` stops it,
/// `reload` is refused while stopped. Status and actions can be made to fail, and actions can
/// be held until released (to test actions that overlap).
pub struct FakeServiceManager {
    backend: plb_domain::service::BackendKind,
    state: Mutex<FakeServiceState>,
    /// While held, actions wait here before they take effect.
    gate: tokio::sync::Semaphore,
    /// How many actions wait at the gate now.
    waiting: std::sync::atomic::AtomicUsize,
}

struct FakeServiceState {
    status: plb_domain::service::ServiceStatus,
    fail_status: Option<crate::ports::ServiceError>,
    fail_actions: Option<crate::ports::ServiceError>,
    held: bool,
    actions: Vec<plb_domain::service::ServiceAction>,
}

impl FakeServiceManager {
    /// A stopped service on `backend`.
    pub fn new(backend: plb_domain::service::BackendKind) -> Arc<Self> {
        use plb_domain::service::{ServiceState, ServiceStatus};
        Arc::new(Self {
            backend,
            state: Mutex::new(FakeServiceState {
                status: ServiceStatus {
                    backend,
                    target: "fake proxlb".to_owned(),
                    state: ServiceState::Stopped,
                    since_unix_ms: None,
                    pid: None,
                    exit_code: None,
                    last_error_lines: Vec::new(),
                    version: Some("2.3.0".to_owned()),
                    problem: None,
                },
                fail_status: None,
                fail_actions: None,
                held: false,
                actions: Vec::new(),
            }),
            gate: tokio::sync::Semaphore::new(0),
            waiting: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// `status()` fails with `error` from now on.
    pub fn fail_status(&self, error: crate::ports::ServiceError) {
        self.state.lock().unwrap().fail_status = Some(error);
    }

    /// Every action fails with `error` from now on.
    pub fn fail_actions(&self, error: crate::ports::ServiceError) {
        self.state.lock().unwrap().fail_actions = Some(error);
    }

    /// Actions wait until [`Self::release`] from now on.
    pub fn hold_actions(&self) {
        self.state.lock().unwrap().held = true;
    }

    /// Lets one held action through.
    pub fn release(&self) {
        self.gate.add_permits(1);
    }

    /// How many actions are held right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The actions carried out so far, in order.
    pub fn actions(&self) -> Vec<plb_domain::service::ServiceAction> {
        self.state.lock().unwrap().actions.clone()
    }

    async fn act(
        &self,
        action: plb_domain::service::ServiceAction,
    ) -> Result<(), crate::ports::ServiceError> {
        use plb_domain::service::{ServiceAction, ServiceState};
        let held = self.state.lock().unwrap().held;
        if held {
            use std::sync::atomic::Ordering;
            self.waiting.fetch_add(1, Ordering::SeqCst);
            self.gate.acquire().await.unwrap().forget();
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        let mut state = self.state.lock().unwrap();
        if let Some(error) = state.fail_actions.clone() {
            return Err(error);
        }
        let next = match action {
            ServiceAction::Start | ServiceAction::Restart => ServiceState::Running,
            ServiceAction::Stop => ServiceState::Stopped,
            ServiceAction::Reload if state.status.state == ServiceState::Running => {
                ServiceState::Running
            }
            ServiceAction::Reload => {
                return Err(crate::ports::ServiceError::Refused(
                    "ProxLB is not running".to_owned(),
                ))
            }
        };
        state.status.state = next;
        state.status.pid = (next == ServiceState::Running).then_some(4242);
        state.actions.push(action);
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::ports::ServiceManager for FakeServiceManager {
    fn backend(&self) -> plb_domain::service::BackendKind {
        self.backend
    }

    async fn status(
        &self,
    ) -> Result<plb_domain::service::ServiceStatus, crate::ports::ServiceError> {
        let state = self.state.lock().unwrap();
        match &state.fail_status {
            Some(error) => Err(error.clone()),
            None => Ok(state.status.clone()),
        }
    }

    async fn start(&self) -> Result<(), crate::ports::ServiceError> {
        self.act(plb_domain::service::ServiceAction::Start).await
    }

    async fn stop(&self) -> Result<(), crate::ports::ServiceError> {
        self.act(plb_domain::service::ServiceAction::Stop).await
    }

    async fn restart(&self) -> Result<(), crate::ports::ServiceError> {
        self.act(plb_domain::service::ServiceAction::Restart).await
    }

    async fn reload(&self) -> Result<(), crate::ports::ServiceError> {
        self.act(plb_domain::service::ServiceAction::Reload).await
    }
}

/// A fake log source: lines a test pushes, each at the position of its index. `follow` resumes
/// after a position (or starts with the last `tail` lines) and then waits for new lines;
/// [`Self::cut`] ends every open stream, as a container restart or a journald rotation would,
/// and [`Self::fail_next`] makes the next follows fail.
pub struct FakeLogSource {
    lines: Arc<Mutex<Vec<crate::ports::SourceLine>>>,
    /// (number of lines, generation): bumped on every push and cut.
    changes: tokio::sync::watch::Sender<(usize, u64)>,
    follows: Mutex<Vec<Option<String>>>,
    failures: Mutex<u32>,
}

impl FakeLogSource {
    /// A source without lines.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            lines: Arc::new(Mutex::new(Vec::new())),
            changes: tokio::sync::watch::channel((0, 0)).0,
            follows: Mutex::new(Vec::new()),
            failures: Mutex::new(0),
        })
    }

    /// Appends a stdout line at `at_unix_ms`.
    pub fn push(&self, at_unix_ms: i64, text: &str) {
        self.push_line(plb_domain::logs::RawLine {
            at_unix_ms,
            stream: plb_domain::logs::LogStream::Stdout,
            text: text.to_owned(),
        });
    }

    /// Appends `line`.
    pub fn push_line(&self, line: plb_domain::logs::RawLine) {
        let mut lines = self.lines.lock().unwrap();
        let position = lines.len().to_string();
        lines.push(crate::ports::SourceLine { position, line });
        let len = lines.len();
        drop(lines);
        self.changes.send_modify(|(count, _)| *count = len);
    }

    /// Ends every open stream (followers must follow again).
    pub fn cut(&self) {
        self.changes.send_modify(|(_, generation)| *generation += 1);
    }

    /// The next `count` follows fail.
    pub fn fail_next(&self, count: u32) {
        *self.failures.lock().unwrap() = count;
    }

    /// The `after` of every follow so far, in order.
    pub fn follows(&self) -> Vec<Option<String>> {
        self.follows.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl crate::ports::LogSource for FakeLogSource {
    async fn follow(
        &self,
        after: Option<String>,
        tail: usize,
    ) -> Result<
        futures::stream::BoxStream<
            'static,
            Result<crate::ports::SourceLine, crate::ports::ServiceError>,
        >,
        crate::ports::ServiceError,
    > {
        use futures::StreamExt;
        self.follows.lock().unwrap().push(after.clone());
        {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(crate::ports::ServiceError::Backend {
                    what: "reading the fake log".to_owned(),
                    detail: "told to fail".to_owned(),
                });
            }
        }
        let len = self.lines.lock().unwrap().len();
        let next = match after {
            Some(position) => position.parse::<usize>().map_or(0, |p| p + 1),
            None => len.saturating_sub(tail),
        };
        let mut changes = self.changes.subscribe();
        let generation = changes.borrow_and_update().1;
        let state = (next, changes, Arc::clone(&self.lines));
        Ok(
            futures::stream::unfold(state, move |(next, mut changes, lines)| async move {
                loop {
                    if changes.borrow_and_update().1 != generation {
                        return None;
                    }
                    let line = lines.lock().unwrap().get(next).cloned();
                    if let Some(line) = line {
                        return Some((Ok(line), (next + 1, changes, lines)));
                    }
                    changes.changed().await.ok()?;
                }
            })
            .boxed(),
        )
    }
}

/// Writes `content` to `path` as an executable (mode 0755) that can be run at once, even while
/// other tests of the same process spawn children.
///
/// Why not `fs::write` + `set_permissions`: the file is open for writing in this process for a
/// moment, a child forked meanwhile by a parallel test holds that descriptor until it execs, and
/// running the file then fails with ETXTBSY ("Text file busy"). Here the executable is written
/// by `install(1)`, a child of its own, so no descriptor of it is ever open in this process.
pub fn write_executable(path: &Path, content: &str) {
    let source = path.with_extension("source");
    std::fs::write(&source, content).unwrap();
    let status = std::process::Command::new("install")
        .arg("-m")
        .arg("0755")
        .arg(&source)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "install {} failed", path.display());
    std::fs::remove_file(&source).unwrap();
}
