//! The mutable cluster state: nodes, guests (with their placement history), pools, HA rules,
//! users and tasks, plus the state machine that runs migrations. Time-dependent effects are
//! applied lazily by [`Cluster::tick`], which every request calls first, so the state is a pure
//! function of the scenario, the requests and the simulated clock.

use std::collections::BTreeMap;

use crate::auth::User;
use crate::noise;
use crate::scenario::{
    parse_version, GuestKind, GuestSpec, GuestStatus, HaRuleSpec, NodeStatus, PoolSpec, Scenario,
};
use crate::tasks::{Task, TaskEffect, Upid};

/// Timing knobs of the state machine (simulated seconds).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a `qmigrate`/`vzmigrate` task runs.
    pub migration: f64,
    /// How long a `hamigrate` task runs.
    pub ha_request: f64,
    /// Delay between the end of `hamigrate` and the start of the HA stack's `qmigrate`.
    pub ha_delay: f64,
    /// Metrics are sampled on this grid (like pvestatd's 10 s loop), so every endpoint agrees
    /// within one sample.
    pub sample_interval: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            migration: 8.0,
            ha_request: 1.0,
            ha_delay: 2.0,
            sample_interval: 10.0,
        }
    }
}

/// A node at run time.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name.
    pub name: String,
    /// Position in `/nodes` order (1-based node id is `index + 1`).
    pub index: usize,
    /// Host threads.
    pub cores: u32,
    /// Memory bytes.
    pub memory: u64,
    /// Root fs bytes.
    pub disk: u64,
    /// Root fs used (static part).
    pub disk_used: u64,
    /// Contribution to the shared `ceph-vm` storage (bytes).
    pub storage: u64,
    /// Online.
    pub online: bool,
    /// PVE version string.
    pub version: String,
    /// Parsed version.
    pub version_tuple: (u32, u32, u32),
    /// HA maintenance.
    pub ha_maintenance: bool,
    /// Host CPU fraction.
    pub host_cpu: f64,
    /// Host memory bytes.
    pub host_memory: u64,
    /// Cluster IP.
    pub ip: String,
    /// CPU model.
    pub cpu_model: String,
    /// Boot time (UNIX seconds).
    pub boot_time: f64,
    /// Noise key.
    pub key: u64,
    /// SHA-256 fingerprint of this node's API certificate.
    pub fingerprint: String,
}

impl Node {
    /// Runs PVE 9 or newer (PSI, HA rules, `memhost`, new RRD format).
    pub fn is_pve9(&self) -> bool {
        self.version_tuple.0 >= 9
    }

    /// `release` as in `/version` (`9.1`).
    pub fn release(&self) -> String {
        format!("{}.{}", self.version_tuple.0, self.version_tuple.1)
    }

    /// Deterministic 8-hex repository id for `/version`.
    pub fn repoid(&self) -> String {
        format!("{:08x}", noise::key(&self.version) as u32)
    }
}

/// One placement/power period of a guest: from `since` on, it is on `node` and running or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Start of the period (UNIX seconds).
    pub since: f64,
    /// Node.
    pub node: String,
    /// Running.
    pub running: bool,
}

/// A guest at run time.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Static properties from the scenario (tags normalised as PVE stores them).
    pub spec: GuestSpec,
    /// Placement history; the last entry is the current state. Never empty.
    pub history: Vec<Placement>,
    /// Current config lock (`migrate` while migrating).
    pub lock: Option<String>,
    /// Last (re)start time, for `uptime` and cumulative counters.
    pub started_at: f64,
    /// HA service state while HA-managed (`started`, `stopped`, `migrate`).
    pub ha_state: Option<String>,
    /// Noise key.
    pub key: u64,
}

impl Guest {
    /// Current node.
    pub fn node(&self) -> &str {
        self.history.last().map_or("", |p| p.node.as_str())
    }

    /// Currently running.
    pub fn running(&self) -> bool {
        self.history.last().is_some_and(|p| p.running)
    }

    /// Node and power state at time `t`.
    pub fn at(&self, t: f64) -> (&str, bool) {
        let p = self
            .history
            .iter()
            .rev()
            .find(|p| p.since <= t)
            .or(self.history.first());
        p.map_or(("", false), |p| (p.node.as_str(), p.running))
    }

    /// `tags` as stored by PVE (`;`-joined), if any.
    pub fn tags_joined(&self) -> Option<String> {
        (!self.spec.tags.is_empty()).then(|| self.spec.tags.join(";"))
    }

    /// HA resource id (`vm:100`).
    pub fn sid(&self) -> String {
        self.spec.sid()
    }

    fn record(&mut self, since: f64, node: String, running: bool) {
        self.history.push(Placement {
            since,
            node,
            running,
        });
    }
}

/// An HA migration accepted by the HA stack but not yet executed.
#[derive(Debug, Clone)]
struct HaPending {
    at: f64,
    vmid: u32,
    target: String,
}

/// Why a migration request is refused (mapped to PVE's HTTP errors by the routes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrateError {
    /// HTTP 400 with a parameter error.
    Param {
        /// Parameter.
        param: String,
        /// Message.
        message: String,
    },
    /// HTTP 500 with a message.
    Failed(String),
}

/// The whole simulated cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// `crs` datacenter option.
    pub crs: Option<BTreeMap<String, serde_json::Value>>,
    /// Other datacenter options.
    pub options: BTreeMap<String, serde_json::Value>,
    /// Nodes in `/nodes` order.
    pub nodes: Vec<Node>,
    /// Guests by vmid.
    pub guests: BTreeMap<u32, Guest>,
    /// Pools.
    pub pools: Vec<PoolSpec>,
    /// HA rules.
    pub ha_rules: Vec<HaRuleSpec>,
    /// Users by id.
    pub users: BTreeMap<String, User>,
    /// Noise seed.
    pub seed: u64,
    /// Noise amplitude (1 = normal, 0 = usage constant at the scenario's means).
    pub noise: f64,
    /// Tasks, oldest first.
    pub tasks: Vec<Task>,
    /// Timing knobs.
    pub timing: Timing,
    /// When the simulation started (UNIX seconds).
    pub created: f64,
    ha_pending: Vec<HaPending>,
    next_pid: u32,
    task_failures: BTreeMap<u32, String>,
}

impl Cluster {
    /// Builds the run-time state from a validated scenario at simulated time `now`. `local_fp`
    /// is the fingerprint of the certificate actually served (given to the answering node).
    pub fn new(scenario: &Scenario, now: f64, timing: Timing, local_fp: Option<&str>) -> Self {
        let seed = scenario.seed;
        let local_index = scenario
            .nodes
            .iter()
            .position(|n| n.status == NodeStatus::Online)
            .unwrap_or(0);
        let nodes = scenario
            .nodes
            .iter()
            .enumerate()
            .map(|(index, n)| {
                let key = noise::key(&n.name);
                let uptime_days = 3 + noise::pick(seed, key, 11, 40) as i64;
                let fingerprint = match local_fp {
                    Some(fp) if index == local_index => fp.to_string(),
                    _ => synthetic_fingerprint(seed, &n.name),
                };
                Node {
                    name: n.name.clone(),
                    index,
                    cores: n.cores,
                    memory: n.memory.0,
                    disk: n.disk.0,
                    disk_used: n.disk_used.map_or(n.disk.0 / 12, |d| d.0.min(n.disk.0)),
                    storage: n.storage.map_or(n.memory.0.saturating_mul(8), |s| s.0),
                    online: n.status == NodeStatus::Online,
                    version: n.version.clone(),
                    version_tuple: parse_version(&n.version).unwrap_or((9, 0, 0)),
                    ha_maintenance: n.ha_maintenance,
                    host_cpu: n.host_cpu,
                    host_memory: n
                        .host_memory
                        .map_or((2u64 << 30) + n.memory.0 / 50, |m| m.0),
                    ip: n
                        .ip
                        .clone()
                        .unwrap_or_else(|| format!("10.0.0.{}", 11 + index)),
                    cpu_model: n
                        .cpu_model
                        .clone()
                        .unwrap_or_else(|| "AMD EPYC 7313P 16-Core Processor".to_string()),
                    boot_time: now
                        - (uptime_days * 86_400) as f64
                        - noise::pick(seed, key, 12, 86_400) as f64,
                    key,
                    fingerprint,
                }
            })
            .collect();
        let guests = scenario
            .guests
            .iter()
            .map(|g| {
                let mut spec = g.clone();
                let mut tags: Vec<String> = spec.tags.iter().map(|t| t.to_lowercase()).collect();
                tags.sort();
                tags.dedup();
                spec.tags = tags;
                let key = noise::key(&format!("guest/{}", g.vmid));
                let running = g.status == GuestStatus::Running;
                let uptime = 3_600 + noise::pick(seed, key, 13, 20 * 86_400);
                let guest = Guest {
                    history: vec![Placement {
                        since: f64::MIN,
                        node: g.node.clone(),
                        running,
                    }],
                    lock: g.lock.clone(),
                    started_at: now - uptime as f64,
                    ha_state: g
                        .ha
                        .then(|| if running { "started" } else { "stopped" }.to_string()),
                    key,
                    spec,
                };
                (g.vmid, guest)
            })
            .collect();
        let users = scenario
            .users
            .iter()
            .map(|u| (u.userid.clone(), User::from_spec(u)))
            .collect();
        Self {
            name: scenario.cluster.name.clone(),
            crs: scenario.cluster.crs.clone(),
            options: scenario.cluster.options.clone(),
            nodes,
            guests,
            pools: scenario.pools.clone(),
            ha_rules: scenario.ha_rules.clone(),
            users,
            seed,
            noise: 1.0,
            tasks: Vec::new(),
            timing,
            created: now,
            ha_pending: Vec::new(),
            task_failures: BTreeMap::new(),
            next_pid: 0x0004_0000 + noise::pick(seed, 1, 14, 0x0001_0000) as u32,
        }
    }

    /// The node that answers API calls (the first online node).
    pub fn local_node(&self) -> Option<&Node> {
        self.nodes.iter().find(|n| n.online)
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// A node by name, mutable.
    pub fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    /// The HA master node (first online node not in maintenance, else first online).
    pub fn ha_master(&self) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| n.online && !n.ha_maintenance)
            .or_else(|| self.local_node())
    }

    /// Whether the cluster is quorate (more than half the nodes online).
    pub fn quorate(&self) -> bool {
        self.nodes.iter().filter(|n| n.online).count() * 2 > self.nodes.len()
    }

    /// A task by UPID.
    pub fn task(&self, upid: &Upid) -> Option<&Task> {
        self.tasks.iter().find(|t| t.upid == *upid)
    }

    /// Applies every event due at or before `now` in time order: finishing tasks (moving
    /// guests), starting HA-driven migrations.
    pub fn tick(&mut self, now: f64) {
        loop {
            let task_due = self
                .tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.running() && t.ends <= now)
                .min_by(|a, b| a.1.ends.total_cmp(&b.1.ends))
                .map(|(i, t)| (i, t.ends));
            let ha_due = self
                .ha_pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.at <= now)
                .min_by(|a, b| a.1.at.total_cmp(&b.1.at))
                .map(|(i, p)| (i, p.at));
            match (task_due, ha_due) {
                (Some((i, t)), Some((_, h))) if t <= h => self.finish_task(i),
                (_, Some((j, _))) => {
                    let p = self.ha_pending.remove(j);
                    self.start_ha_migration(p);
                }
                (Some((i, _)), None) => self.finish_task(i),
                (None, None) => break,
            }
        }
    }

    fn finish_task(&mut self, index: usize) {
        let Some(task) = self.tasks.get_mut(index) else {
            return;
        };
        let end = task.ends;
        let effect = task.effect.clone();
        if let TaskEffect::Migrate { vmid, .. } = &effect {
            if let Some(message) = self.task_failures.remove(vmid) {
                task.exitstatus = Some(message.clone());
                task.log
                    .push((end - task.started, format!("ERROR: {message}")));
                if let Some(g) = self.guests.get_mut(vmid) {
                    g.lock = None;
                    if g.ha_state.as_deref() == Some("migrate") {
                        let running = g.running();
                        g.ha_state = Some(if running { "started" } else { "stopped" }.into());
                    }
                }
                return;
            }
        }
        task.exitstatus = Some("OK".to_string());
        match effect {
            TaskEffect::Migrate { vmid, target } => {
                if let Some(g) = self.guests.get_mut(&vmid) {
                    let running = g.running();
                    if g.spec.kind == GuestKind::Ct && running {
                        g.started_at = end;
                    }
                    g.record(end, target, running);
                    g.lock = None;
                    if g.ha_state.as_deref() == Some("migrate") {
                        g.ha_state = Some(if running { "started" } else { "stopped" }.into());
                    }
                }
            }
            TaskEffect::HaMigrate { vmid, target } => {
                self.ha_pending.push(HaPending {
                    at: end + self.timing.ha_delay,
                    vmid,
                    target,
                });
            }
            TaskEffect::None => {}
        }
    }

    fn start_ha_migration(&mut self, p: HaPending) {
        let Some(g) = self.guests.get(&p.vmid) else {
            return;
        };
        let source = g.node().to_string();
        let kind = g.spec.kind;
        let running = g.running();
        if source == p.target || !self.node(&p.target).is_some_and(|n| n.online) {
            if let Some(g) = self.guests.get_mut(&p.vmid) {
                g.ha_state = Some(if running { "started" } else { "stopped" }.into());
            }
            return;
        }
        // The HA stack runs migrations as root@pam; HA containers are relocated (restart).
        self.spawn_migration(p.at, p.vmid, kind, &source, &p.target, "root@pam", running);
    }

    fn alloc_pid(&mut self) -> u32 {
        self.next_pid = self
            .next_pid
            .wrapping_add(1 + (noise::mix(self.next_pid as u64) % 97) as u32);
        self.next_pid
    }

    fn pstart(&self, node: &str, at: f64) -> u64 {
        let boot = self.node(node).map_or(self.created, |n| n.boot_time);
        ((at - boot).max(0.0) * 100.0) as u64
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn_migration(
        &mut self,
        at: f64,
        vmid: u32,
        kind: GuestKind,
        source: &str,
        target: &str,
        user: &str,
        running: bool,
    ) -> Upid {
        let pid = self.alloc_pid();
        let upid = Upid {
            node: source.to_string(),
            pid,
            pstart: self.pstart(source, at),
            starttime: at.floor() as i64,
            task_type: match kind {
                GuestKind::Vm => "qmigrate",
                GuestKind::Ct => "vzmigrate",
            }
            .to_string(),
            id: vmid.to_string(),
            user: user.to_string(),
        };
        let duration = self.timing.migration.max(0.0);
        let target_ip = self.node(target).map_or(String::new(), |n| n.ip.clone());
        let (maxmem, maxdisk) = self
            .guests
            .get(&vmid)
            .map_or((0, 0), |g| (g.spec.maxmem.0, g.spec.maxdisk.0));
        let log = migration_log(
            kind, vmid, target, &target_ip, running, maxmem, maxdisk, duration,
        );
        if let Some(g) = self.guests.get_mut(&vmid) {
            g.lock = Some("migrate".to_string());
            if g.ha_state.is_some() {
                g.ha_state = Some("migrate".to_string());
            }
        }
        self.tasks.push(Task {
            upid: upid.clone(),
            started: at,
            ends: at + duration,
            log,
            exitstatus: None,
            effect: TaskEffect::Migrate {
                vmid,
                target: target.to_string(),
            },
        });
        upid
    }

    /// Starts a migration the way `POST /nodes/{node}/{qemu|lxc}/{vmid}/migrate` does, after the
    /// routes checked permissions. Returns the UPID of the new task.
    #[allow(clippy::too_many_arguments)]
    pub fn migrate(
        &mut self,
        now: f64,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        target: &str,
        online: bool,
        restart: bool,
        user: &str,
    ) -> Result<Upid, MigrateError> {
        let what = match kind {
            GuestKind::Vm => "VM",
            GuestKind::Ct => "CT",
        };
        let guest = self
            .guests
            .get(&vmid)
            .filter(|g| g.spec.kind == kind && g.node() == node)
            .ok_or_else(|| MigrateError::Failed(config_missing(node, kind, vmid)))?;
        if target == node {
            return Err(MigrateError::Param {
                param: "target".into(),
                message: "target is local node.".into(),
            });
        }
        let target_node = self
            .node(target)
            .ok_or_else(|| MigrateError::Failed(format!("no such cluster node '{target}'")))?;
        if !target_node.online {
            return Err(MigrateError::Failed(format!(
                "target node '{target}' is not online"
            )));
        }
        if let Some(lock) = &guest.lock {
            return Err(MigrateError::Failed(format!("{what} is locked ({lock})")));
        }
        if guest.spec.template && kind == GuestKind::Ct {
            return Err(MigrateError::Failed(
                "migration of a template container is not possible".into(),
            ));
        }
        let running = guest.running();
        if guest.spec.ha {
            let pid = self.alloc_pid();
            let upid = Upid {
                node: node.to_string(),
                pid,
                pstart: self.pstart(node, now),
                starttime: now.floor() as i64,
                task_type: "hamigrate".into(),
                id: vmid.to_string(),
                user: user.to_string(),
            };
            let dur = self.timing.ha_request.max(0.0);
            self.tasks.push(Task {
                upid: upid.clone(),
                started: now,
                ends: now + dur,
                log: vec![(
                    0.0,
                    format!("Requesting HA migration for {what} {vmid} to node {target}"),
                )],
                exitstatus: None,
                effect: TaskEffect::HaMigrate {
                    vmid,
                    target: target.to_string(),
                },
            });
            if let Some(g) = self.guests.get_mut(&vmid) {
                g.ha_state = Some("migrate".into());
            }
            return Ok(upid);
        }
        match kind {
            GuestKind::Vm if running && !online => {
                return Err(MigrateError::Failed(
                    "can't migrate running VM without --online".into(),
                ))
            }
            GuestKind::Ct if online => {
                return Err(MigrateError::Failed(
                    "lxc live migration is currently not implemented".into(),
                ))
            }
            GuestKind::Ct if running && !restart => {
                return Err(MigrateError::Failed(
                    "can't migrate running container without --online or --restart".into(),
                ))
            }
            _ => {}
        }
        Ok(self.spawn_migration(now, vmid, kind, node, target, user, running))
    }

    /// Makes the next migration task of guest `vmid` fail when it ends: the task stops with
    /// `exitstatus = message` (log `TASK ERROR: <message>`) and the guest stays where it is.
    pub fn fail_next_migration(&mut self, vmid: u32, message: impl Into<String>) {
        self.task_failures.insert(vmid, message.into());
    }

    /// Sets a node on- or offline. Its guests keep their placement.
    pub fn set_node_online(&mut self, name: &str, online: bool) -> bool {
        self.node_mut(name).map(|n| n.online = online).is_some()
    }

    /// Sets or clears HA maintenance on a node.
    pub fn set_node_maintenance(&mut self, name: &str, on: bool) -> bool {
        self.node_mut(name).map(|n| n.ha_maintenance = on).is_some()
    }

    /// Starts or stops a guest at time `now`.
    pub fn set_guest_running(&mut self, vmid: u32, running: bool, now: f64) -> bool {
        let Some(g) = self.guests.get_mut(&vmid) else {
            return false;
        };
        if g.running() != running {
            let node = g.node().to_string();
            g.record(now, node, running);
            if running {
                g.started_at = now;
            }
            if g.ha_state.is_some() {
                g.ha_state = Some(if running { "started" } else { "stopped" }.into());
            }
        }
        true
    }
}

/// PVE's message for a guest config that does not exist on `node`.
pub fn config_missing(node: &str, kind: GuestKind, vmid: u32) -> String {
    let dir = match kind {
        GuestKind::Vm => "qemu-server",
        GuestKind::Ct => "lxc",
    };
    format!("Configuration file 'nodes/{node}/{dir}/{vmid}.conf' does not exist")
}

fn synthetic_fingerprint(seed: u64, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("pve-sim node cert {seed} {name}").as_bytes());
    crate::tls::fingerprint_hex(&digest)
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

#[allow(clippy::too_many_arguments)]
fn migration_log(
    kind: GuestKind,
    vmid: u32,
    target: &str,
    target_ip: &str,
    running: bool,
    maxmem: u64,
    maxdisk: u64,
    duration: f64,
) -> Vec<(f64, String)> {
    let d = duration.max(0.0);
    let secs = d.round() as u64;
    let total = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    match kind {
        GuestKind::Vm => {
            let mut v = vec![(
                0.0,
                format!("starting migration of VM {vmid} to node '{target}' ({target_ip})"),
            )];
            if running {
                v.extend([
                    (d * 0.1, format!("starting VM {vmid} on remote node '{target}'")),
                    (d * 0.2, "start remote tunnel".to_string()),
                    (
                        d * 0.3,
                        format!("starting online/live migration on unix:/run/qemu-server/{vmid}.migrate"),
                    ),
                    (d * 0.3, "migration downtime limit: 100 ms".to_string()),
                    (
                        d * 0.5,
                        format!(
                            "migration active, transferred {:.1} GiB of {:.1} GiB VM-state, 1.1 GiB/s",
                            gib(maxmem) / 2.0,
                            gib(maxmem)
                        ),
                    ),
                    (d * 0.8, "average migration speed: 1.0 GiB/s - downtime 41 ms".to_string()),
                    (d * 0.8, "migration status: completed".to_string()),
                ]);
            } else {
                v.push((
                    d * 0.5,
                    format!("copying local disk images ({:.1} GiB)", gib(maxdisk)),
                ));
            }
            v.push((
                d,
                format!("migration finished successfully (duration {total})"),
            ));
            v
        }
        GuestKind::Ct => {
            let mut v = Vec::new();
            if running {
                v.push((0.0, format!("shutdown CT {vmid}")));
            }
            v.push((
                d * 0.1,
                format!("starting migration of CT {vmid} to node '{target}' ({target_ip})"),
            ));
            v.push((
                d * 0.2,
                format!("volume 'ceph-vm:vm-{vmid}-disk-0' is on shared storage"),
            ));
            v.push((d * 0.7, "start final cleanup".to_string()));
            if running {
                v.push((
                    d * 0.8,
                    format!("start container on target node '{target}'"),
                ));
            }
            v.push((
                d,
                format!("migration finished successfully (duration {total})"),
            ));
            v
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scenario::{NodeSpec, UserSpec};

    fn cluster() -> Cluster {
        let s = Scenario::new("t")
            .node(NodeSpec::new("a", 8, 32))
            .node(NodeSpec::new("b", 8, 32))
            .node(NodeSpec::new("c", 8, 32).offline())
            .guest(GuestSpec::vm(100, "vm1", "a").running())
            .guest(GuestSpec::ct(200, "ct1", "a").running())
            .guest(GuestSpec::vm(101, "ha1", "a").running().ha())
            .user(UserSpec::new("root@pam", Some("x")));
        s.validate().unwrap();
        Cluster::new(&s, 1_000_000.0, Timing::default(), None)
    }

    #[test]
    fn migration_moves_guest_after_duration() {
        let mut c = cluster();
        let upid = c
            .migrate(
                1_000_000.0,
                "a",
                GuestKind::Vm,
                100,
                "b",
                true,
                false,
                "root@pam",
            )
            .unwrap();
        assert_eq!(upid.task_type, "qmigrate");
        assert_eq!(c.guests[&100].lock.as_deref(), Some("migrate"));
        c.tick(1_000_007.0);
        assert!(c.task(&upid).unwrap().running());
        assert_eq!(c.guests[&100].node(), "a");
        c.tick(1_000_008.0);
        let t = c.task(&upid).unwrap();
        assert_eq!(t.exitstatus.as_deref(), Some("OK"));
        assert_eq!(c.guests[&100].node(), "b");
        assert_eq!(c.guests[&100].lock, None);
        assert_eq!(c.guests[&100].at(1_000_007.9).0, "a");
        assert_eq!(c.guests[&100].at(1_000_008.0).0, "b");
    }

    #[test]
    fn migration_errors() {
        let mut c = cluster();
        let m = |c: &mut Cluster, node: &str, kind, vmid, target: &str, online, restart| {
            c.migrate(1e6, node, kind, vmid, target, online, restart, "root@pam")
        };
        assert!(matches!(
            m(&mut c, "a", GuestKind::Vm, 100, "a", true, false),
            Err(MigrateError::Param { .. })
        ));
        assert_eq!(
            m(&mut c, "a", GuestKind::Vm, 100, "zz", true, false),
            Err(MigrateError::Failed("no such cluster node 'zz'".into()))
        );
        assert_eq!(
            m(&mut c, "a", GuestKind::Vm, 100, "c", true, false),
            Err(MigrateError::Failed("target node 'c' is not online".into()))
        );
        assert_eq!(
            m(&mut c, "b", GuestKind::Vm, 100, "c", true, false),
            Err(MigrateError::Failed(
                "Configuration file 'nodes/b/qemu-server/100.conf' does not exist".into()
            ))
        );
        assert_eq!(
            m(&mut c, "a", GuestKind::Vm, 100, "b", false, false),
            Err(MigrateError::Failed(
                "can't migrate running VM without --online".into()
            ))
        );
        assert_eq!(
            m(&mut c, "a", GuestKind::Ct, 200, "b", false, false),
            Err(MigrateError::Failed(
                "can't migrate running container without --online or --restart".into()
            ))
        );
        m(&mut c, "a", GuestKind::Ct, 200, "b", false, true).unwrap();
        assert_eq!(
            m(&mut c, "a", GuestKind::Ct, 200, "b", false, true),
            Err(MigrateError::Failed("CT is locked (migrate)".into()))
        );
    }

    #[test]
    fn ha_migration_spawns_qmigrate() {
        let mut c = cluster();
        let ha = c
            .migrate(
                1e6,
                "a",
                GuestKind::Vm,
                101,
                "b",
                true,
                false,
                "root@pam!proxlb",
            )
            .unwrap();
        assert_eq!(ha.task_type, "hamigrate");
        assert_eq!(c.guests[&101].ha_state.as_deref(), Some("migrate"));
        c.tick(1e6 + 1.0);
        assert_eq!(c.task(&ha).unwrap().exitstatus.as_deref(), Some("OK"));
        assert_eq!(c.tasks.len(), 1);
        c.tick(1e6 + 3.0);
        assert_eq!(c.tasks.len(), 2);
        let q = c.tasks[1].upid.clone();
        assert_eq!(q.task_type, "qmigrate");
        assert_eq!(q.starttime, 1_000_003);
        assert_eq!(q.user, "root@pam");
        c.tick(1e6 + 11.0);
        assert_eq!(c.guests[&101].node(), "b");
        assert_eq!(c.guests[&101].ha_state.as_deref(), Some("started"));
    }
}
