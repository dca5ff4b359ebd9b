//! The cluster as the UI shows it: one view model built once per snapshot on the server and sent
//! to browsers and REST clients. Pure: the caller passes the snapshot, the config and "now".

use serde::{Deserialize, Serialize};

use crate::proxlb::config::{Mode, Resource};
use crate::proxlb::decision::MoveDecision;
use crate::proxlb::maintenance::{
    schedule_windows, LocalTime, MaintenanceSource, ScheduleWindow, Weekday,
};
use crate::proxlb::tags::{classify_tag, TagMeaning};
use crate::proxlb::{
    evaluate, ClusterSnapshot, Decision, EvaluationInput, GuestKind, GuestStatus, NodeStatus,
    ProxLbConfig,
};
use crate::units::plural;

/// Where the snapshot came from and how fresh it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Increases with every published snapshot (also when only the error changed).
    pub version: u64,
    /// When the cluster data was last fetched successfully (Unix seconds); `None`: never.
    pub fetched_at_unix: Option<u64>,
    /// Set when the latest refresh failed: the data shown is the last good one.
    pub stale: Option<StaleInfo>,
    /// The Proxmox host answering (`host:port`), if any answered.
    pub host: Option<String>,
    /// How complete and old ProxLB's RRD inputs (guest CPU means, PSI) are; `None`: not fetched.
    #[serde(default)]
    pub balancing_inputs: Option<BalancingInputs>,
}

/// Coverage and age of the RRD inputs ProxLB reads (fetched a budget at a time by the poller).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalancingInputs {
    /// Running guests.
    pub running_guests: usize,
    /// Running guests whose CPU and PSI come from RRD like ProxLB's (the rest: instantaneous
    /// CPU, no PSI).
    pub guests_covered: usize,
    /// When the oldest figure in use was fetched (Unix seconds).
    pub oldest_unix: Option<u64>,
}

/// Why the data is stale, safe to show (kind of failure and host; no secrets, no paths).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleInfo {
    /// When refreshing started to fail (Unix seconds).
    pub since_unix: u64,
    /// A short summary such as `Proxmox VE at 10.0.0.1:8006 is unreachable`.
    pub error: String,
}

/// Facts about the cluster that are not part of ProxLB's own model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterExtras {
    /// Quorum from `/cluster/status`; `None` when unknown (single node or no privilege).
    pub quorate: Option<bool>,
    /// PVE 9.2's CRS `ha-auto-rebalance` is switched on.
    pub crs_auto_rebalance: bool,
    /// The connection to Proxmox does not verify TLS certificates.
    pub tls_verification_off: bool,
    /// Privileges ProxLB needs that the configured user or token lacks.
    pub missing_privileges: Vec<String>,
    /// Parts of the cluster data Proxmox did not give in the latest cycle, one safe line each
    /// (e.g. `cluster status: permission denied on /cluster/status (needs Sys.Audit)`).
    #[serde(default)]
    pub unavailable: Vec<String>,
}

/// A warning an operator should act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClusterWarning {
    /// PVE's own balancer is on: two balancers may fight over HA-managed guests.
    CrsAutoRebalance {
        /// HA-managed guests both balancers could move.
        ha_guests: usize,
    },
    /// TLS certificates of Proxmox are not verified.
    TlsVerificationOff,
    /// The API user or token lacks privileges: Proxmox silently hides what they cover.
    MissingPrivileges {
        /// The missing privileges.
        privileges: Vec<String>,
    },
    /// The cluster has lost quorum.
    NoQuorum,
    /// Nodes are offline.
    NodesOffline {
        /// Their names.
        nodes: Vec<String>,
    },
    /// Parts of the cluster data could not be read this cycle; they show their last known state.
    PartialData {
        /// What could not be read and why, one safe line each.
        parts: Vec<String>,
    },
}

impl ClusterWarning {
    /// One sentence for people.
    pub fn message(&self) -> String {
        match self {
            ClusterWarning::CrsAutoRebalance { ha_guests } => format!(
                "Proxmox's own CRS auto-rebalance is on: it and ProxLB may both move the {}. Turn one of them off.",
                plural(*ha_guests, "HA-managed guest", "HA-managed guests")
            ),
            ClusterWarning::TlsVerificationOff => {
                "TLS certificate verification to Proxmox is off (ssl_verification: false): the connection can be intercepted.".to_owned()
            }
            ClusterWarning::MissingPrivileges { privileges } => format!(
                "The API user lacks {}: Proxmox silently leaves out what these cover, so nodes or guests may be missing here and in ProxLB.",
                privileges.join(", ")
            ),
            ClusterWarning::NoQuorum => "The cluster has no quorum.".to_owned(),
            ClusterWarning::NodesOffline { nodes } => format!("Offline: {}.", nodes.join(", ")),
            ClusterWarning::PartialData { parts } => format!(
                "Proxmox did not answer everything; what these cover may be missing or out of date: {}.",
                parts.join("; ")
            ),
        }
    }
}

/// Counts for the health panel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterHealth {
    /// Quorum, if known.
    pub quorate: Option<bool>,
    /// Nodes in the cluster.
    pub nodes_total: usize,
    /// Nodes online.
    pub nodes_online: usize,
    /// Nodes offline or unknown.
    pub nodes_offline: usize,
    /// Nodes ProxLB treats as in maintenance.
    pub nodes_maintenance: usize,
    /// VMs running.
    pub vms_running: usize,
    /// VMs not running.
    pub vms_stopped: usize,
    /// Containers running.
    pub cts_running: usize,
    /// Containers not running.
    pub cts_stopped: usize,
}

/// A node row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    /// Node name.
    pub name: String,
    /// Online, offline or unknown.
    pub status: NodeStatus,
    /// CPU used, percent of all cores.
    pub cpu_percent: f64,
    /// Cores.
    pub cpu_cores: u32,
    /// Memory used, bytes.
    pub mem_used: u64,
    /// Memory total, bytes.
    pub mem_total: u64,
    /// Root disk used, bytes.
    pub disk_used: u64,
    /// Root disk total, bytes.
    pub disk_total: u64,
    /// VMs on the node (running, all).
    pub vms: (usize, usize),
    /// Containers on the node (running, all).
    pub cts: (usize, usize),
    /// PVE version.
    pub pve_version: String,
    /// Why ProxLB treats it as in maintenance (empty: not in maintenance).
    pub maintenance: Vec<MaintenanceSource>,
    /// In `ignore_nodes`: ProxLB leaves it and its guests out.
    pub ignored: bool,
    /// Its `maintenance_nodes_schedule` entries, with their state now.
    #[serde(default)]
    pub schedule: Vec<ScheduleWindow>,
}

impl NodeRow {
    /// Memory used in percent.
    pub fn mem_percent(&self) -> f64 {
        percent(self.mem_used, self.mem_total)
    }

    /// Root disk used in percent.
    pub fn disk_percent(&self) -> f64 {
        percent(self.disk_used, self.disk_total)
    }
}

/// What a ProxLB tag means, as a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKind {
    /// `plb_affinity*`.
    Affinity,
    /// `plb_anti_affinity*`.
    AntiAffinity,
    /// `plb_pin_*`.
    Pin,
    /// `plb_ignore*`.
    Ignore,
    /// Any other tag.
    Other,
}

impl TagKind {
    /// Stable name for URLs and CSS modifiers.
    pub const fn as_str(self) -> &'static str {
        match self {
            TagKind::Affinity => "affinity",
            TagKind::AntiAffinity => "anti-affinity",
            TagKind::Pin => "pin",
            TagKind::Ignore => "ignore",
            TagKind::Other => "other",
        }
    }

    /// Parses [`TagKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [
            TagKind::Affinity,
            TagKind::AntiAffinity,
            TagKind::Pin,
            TagKind::Ignore,
            TagKind::Other,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }

    /// The kind of one tag, by ProxLB's rules.
    pub fn of(tag: &str) -> Self {
        match classify_tag(tag) {
            TagMeaning::Affinity { .. } => TagKind::Affinity,
            TagMeaning::AntiAffinity { .. } => TagKind::AntiAffinity,
            TagMeaning::Pin { .. } => TagKind::Pin,
            TagMeaning::Ignore => TagKind::Ignore,
            TagMeaning::Other => TagKind::Other,
        }
    }
}

/// A tag with its ProxLB meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagBadge {
    /// The tag as written.
    pub tag: String,
    /// What ProxLB makes of it.
    pub kind: TagKind,
}

/// A guest row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestRow {
    /// VM or CT id.
    pub vmid: u32,
    /// Name.
    pub name: String,
    /// VM or CT.
    pub kind: GuestKind,
    /// Running, stopped, …
    pub status: GuestStatus,
    /// Current node.
    pub node: String,
    /// vCPUs.
    pub cpus: u32,
    /// CPU used, percent of its vCPUs.
    pub cpu_percent: f64,
    /// Memory used, bytes.
    pub mem_used: u64,
    /// Memory assigned, bytes.
    pub mem_total: u64,
    /// Disk used, bytes (0 for VMs: PVE does not know).
    pub disk_used: u64,
    /// Disk size, bytes.
    pub disk_total: u64,
    /// Pool, if any.
    pub pool: Option<String>,
    /// Managed by PVE HA.
    pub ha_managed: bool,
    /// Lock such as `migrate`, if any.
    pub lock: Option<String>,
    /// Tags with their ProxLB meaning.
    pub tags: Vec<TagBadge>,
}

/// ProxLB's balancing settings, as configured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancingSummary {
    /// `balancing.enable`.
    pub enable: bool,
    /// `balancing.method`.
    pub method: Resource,
    /// `balancing.mode`.
    pub mode: Mode,
    /// `balancing.balanciness`.
    pub balanciness: i64,
    /// Which guest types may move (`vm`, `ct`).
    pub balance_types: Vec<String>,
}

/// Everything the cluster views show, built once per snapshot: the overview, the guest list and
/// the node histories travel separately, so a view never ships what it does not show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// Everything but the guest list.
    pub overview: ClusterOverview,
    /// Guests by vmid.
    pub guests: Vec<GuestRow>,
    /// Last hour of load per node (from Proxmox's RRD), oldest first.
    #[serde(default)]
    pub node_history: std::collections::BTreeMap<String, Vec<LoadPoint>>,
}

/// One sample of a node's load.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    /// Sample time (Unix seconds).
    pub time_unix: i64,
    /// CPU used, percent.
    pub cpu_percent: f64,
    /// Memory used, percent.
    pub mem_percent: f64,
}

/// The cluster without its guest list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterOverview {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Health counts.
    pub health: ClusterHealth,
    /// Warnings, most important first.
    pub warnings: Vec<ClusterWarning>,
    /// Nodes in Proxmox order.
    pub nodes: Vec<NodeRow>,
    /// ProxLB's settings.
    pub balancing: BalancingSummary,
    /// What ProxLB would do now, and why; includes rules and maintenance.
    pub decision: Decision,
}

/// The guest list with what filters need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestList {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Node names, for the node filter.
    pub nodes: Vec<String>,
    /// Guests by vmid.
    pub guests: Vec<GuestRow>,
}

impl ClusterOverview {
    /// The node called `name`, if the cluster has one. The one node lookup of the REST API, the
    /// server functions and the node view.
    pub fn node(&self, name: &str) -> Option<&NodeRow> {
        self.nodes.iter().find(|node| node.name == name)
    }

    /// The moves ProxLB plans from or to the node called `name`, in plan order.
    pub fn moves_touching<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a MoveDecision> {
        self.decision
            .moves
            .iter()
            .filter(move |m| m.planned.from == name || m.planned.to == name)
    }
}

impl ClusterView {
    /// The guest list with its metadata.
    pub fn guest_list(&self) -> GuestList {
        GuestList {
            meta: self.overview.meta.clone(),
            nodes: self.overview.nodes.iter().map(|n| n.name.clone()).collect(),
            guests: self.guests.clone(),
        }
    }
}

/// Builds the view. `now_unix` is used for maintenance schedules, which ProxLB evaluates in the
/// local time of its host; `utc_offset_seconds` is that host's offset from UTC.
pub fn build_cluster_view(
    snapshot: &ClusterSnapshot,
    config: &ProxLbConfig,
    meta: SnapshotMeta,
    extras: &ClusterExtras,
    now_unix: u64,
    utc_offset_seconds: i64,
) -> ClusterView {
    let decision = evaluate(EvaluationInput {
        snapshot,
        config,
        now: local_time(now_unix, utc_offset_seconds),
        dry_run: false,
    });

    // (running, all) VMs and containers per node, in one pass over the guests: counting per
    // node scanned all 10,000 guests four times for each of 64 nodes.
    let mut counts: std::collections::HashMap<&str, [(usize, usize); 2]> =
        std::collections::HashMap::with_capacity(snapshot.nodes.len());
    for guest in &snapshot.guests {
        let slot = &mut counts.entry(guest.node.as_str()).or_default()
            [usize::from(guest.kind == GuestKind::Ct)];
        slot.0 += usize::from(guest.status == GuestStatus::Running);
        slot.1 += 1;
    }
    let nodes: Vec<NodeRow> = snapshot
        .nodes
        .iter()
        .map(|node| {
            let count = |kind: GuestKind| {
                counts.get(node.name.as_str()).map_or((0, 0), |per_kind| {
                    per_kind[usize::from(kind == GuestKind::Ct)]
                })
            };
            let maintenance = decision.maintenance.node(&node.name);
            NodeRow {
                name: node.name.clone(),
                status: node.status,
                cpu_percent: node.cpu_usage * 100.0,
                cpu_cores: node.cpu_cores,
                mem_used: node.mem_used,
                mem_total: node.mem_total,
                disk_used: node.disk_used,
                disk_total: node.disk_total,
                vms: count(GuestKind::Vm),
                cts: count(GuestKind::Ct),
                pve_version: node.pve_version.clone(),
                maintenance: maintenance.map(|m| m.sources.clone()).unwrap_or_default(),
                ignored: maintenance.is_some_and(|m| m.ignored),
                schedule: schedule_windows(
                    &config.proxmox_cluster,
                    &node.name,
                    local_time(now_unix, utc_offset_seconds),
                ),
            }
        })
        .collect();

    let mut guests: Vec<GuestRow> = snapshot
        .guests
        .iter()
        .map(|guest| GuestRow {
            vmid: guest.vmid,
            name: guest.name.clone(),
            kind: guest.kind,
            status: guest.status,
            node: guest.node.clone(),
            cpus: guest.cpus,
            cpu_percent: guest.cpu_usage * 100.0,
            mem_used: guest.mem_used,
            mem_total: guest.mem_total,
            disk_used: guest.disk_used,
            disk_total: guest.disk_total,
            pool: guest.pool.clone(),
            ha_managed: guest.ha_managed,
            lock: guest.lock.clone(),
            tags: guest
                .tags
                .iter()
                .map(|tag| TagBadge {
                    tag: tag.clone(),
                    kind: TagKind::of(tag),
                })
                .collect(),
        })
        .collect();
    guests.sort_by_key(|guest| guest.vmid);

    let health = health(&nodes, &guests, extras.quorate);
    let warnings = warnings(&nodes, &guests, extras);
    let balancing = &config.balancing;
    ClusterView {
        guests,
        node_history: std::collections::BTreeMap::new(),
        overview: ClusterOverview {
            meta,
            health,
            warnings,
            nodes,
            balancing: BalancingSummary {
                enable: balancing.enable,
                method: balancing.method,
                mode: balancing.mode,
                balanciness: balancing.balanciness,
                balance_types: balancing
                    .balance_types
                    .iter()
                    .map(|kind| format!("{kind:?}").to_lowercase())
                    .collect(),
            },
            decision,
        },
    }
}

fn health(nodes: &[NodeRow], guests: &[GuestRow], quorate: Option<bool>) -> ClusterHealth {
    let count = |kind: GuestKind, running: bool| {
        guests
            .iter()
            .filter(|g| g.kind == kind && (g.status == GuestStatus::Running) == running)
            .count()
    };
    let online = nodes
        .iter()
        .filter(|n| n.status == NodeStatus::Online)
        .count();
    ClusterHealth {
        quorate,
        nodes_total: nodes.len(),
        nodes_online: online,
        nodes_offline: nodes.len() - online,
        nodes_maintenance: nodes.iter().filter(|n| !n.maintenance.is_empty()).count(),
        vms_running: count(GuestKind::Vm, true),
        vms_stopped: count(GuestKind::Vm, false),
        cts_running: count(GuestKind::Ct, true),
        cts_stopped: count(GuestKind::Ct, false),
    }
}

fn warnings(nodes: &[NodeRow], guests: &[GuestRow], extras: &ClusterExtras) -> Vec<ClusterWarning> {
    let mut warnings = Vec::new();
    if extras.quorate == Some(false) {
        warnings.push(ClusterWarning::NoQuorum);
    }
    let offline: Vec<String> = nodes
        .iter()
        .filter(|n| n.status != NodeStatus::Online)
        .map(|n| n.name.clone())
        .collect();
    if !offline.is_empty() {
        warnings.push(ClusterWarning::NodesOffline { nodes: offline });
    }
    if extras.crs_auto_rebalance {
        warnings.push(ClusterWarning::CrsAutoRebalance {
            ha_guests: guests.iter().filter(|g| g.ha_managed).count(),
        });
    }
    if !extras.missing_privileges.is_empty() {
        warnings.push(ClusterWarning::MissingPrivileges {
            privileges: extras.missing_privileges.clone(),
        });
    }
    if extras.tls_verification_off {
        warnings.push(ClusterWarning::TlsVerificationOff);
    }
    if !extras.unavailable.is_empty() {
        warnings.push(ClusterWarning::PartialData {
            parts: extras.unavailable.clone(),
        });
    }
    warnings
}

/// `part / total` in percent; 0 when the total is 0.
pub fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

/// Local weekday and time of `unix` seconds at a UTC offset (1970-01-01 was a Thursday).
pub fn local_time(unix: u64, utc_offset_seconds: i64) -> LocalTime {
    let local = unix as i64 + utc_offset_seconds;
    let days = local.div_euclid(86_400);
    let second_of_day = local.rem_euclid(86_400);
    // Day 0 (1970-01-01) was a Thursday, index 3 with Monday = 0.
    let weekday = Weekday::ALL[((days + 3).rem_euclid(7)) as usize];
    LocalTime {
        weekday,
        hour: (second_of_day / 3_600) as u8,
        minute: ((second_of_day % 3_600) / 60) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::{Guest, Node};

    fn node(name: &str, status: NodeStatus, mem_used: u64) -> Node {
        Node {
            name: name.into(),
            status,
            cpu_usage: 0.25,
            cpu_cores: 8,
            mem_used,
            mem_total: 64 << 30,
            disk_used: 10 << 30,
            disk_total: 100 << 30,
            pve_version: "9.0.3".into(),
            ha_maintenance: false,
            psi: None,
        }
    }

    fn guest(vmid: u32, node: &str, kind: GuestKind, running: bool, tags: &[&str]) -> Guest {
        Guest {
            vmid,
            name: format!("g{vmid}"),
            kind,
            status: if running {
                GuestStatus::Running
            } else {
                GuestStatus::Stopped
            },
            node: node.into(),
            cpus: 2,
            cpu_usage: 0.5,
            mem_used: 2 << 30,
            mem_total: 4 << 30,
            disk_used: 0,
            disk_total: 32 << 30,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            pool: None,
            ha_managed: vmid == 100,
            lock: None,
            psi: None,
        }
    }

    fn config() -> ProxLbConfig {
        serde_json::from_value(serde_json::json!({
            "proxmox_api": {"hosts": ["127.0.0.1"], "user": "root@pam", "pass": "x"},
            "proxmox_cluster": {"maintenance_nodes": ["pve2"]},
            "balancing": {"enable": true, "balance_types": ["vm", "ct"], "balanciness": 5}
        }))
        .unwrap()
    }

    fn snapshot() -> ClusterSnapshot {
        ClusterSnapshot {
            nodes: vec![
                node("pve1", NodeStatus::Online, 50 << 30),
                node("pve2", NodeStatus::Online, 10 << 30),
                node("pve3", NodeStatus::Offline, 0),
            ],
            guests: vec![
                guest(
                    101,
                    "pve1",
                    GuestKind::Vm,
                    true,
                    &["plb_affinity_web", "prod"],
                ),
                guest(100, "pve1", GuestKind::Vm, false, &[]),
                guest(200, "pve2", GuestKind::Ct, true, &["plb_pin_pve1"]),
            ],
            pools: vec![],
            ha_rules: vec![],
        }
    }

    #[test]
    fn counts_nodes_guests_and_maintenance() {
        let view = build_cluster_view(
            &snapshot(),
            &config(),
            SnapshotMeta::default(),
            &ClusterExtras::default(),
            0,
            0,
        );
        assert_eq!(view.overview.health.nodes_total, 3);
        assert_eq!(view.overview.health.nodes_online, 2);
        assert_eq!(view.overview.health.nodes_offline, 1);
        assert_eq!(view.overview.health.nodes_maintenance, 1);
        assert_eq!(
            (
                view.overview.health.vms_running,
                view.overview.health.vms_stopped
            ),
            (1, 1)
        );
        assert_eq!(
            (
                view.overview.health.cts_running,
                view.overview.health.cts_stopped
            ),
            (1, 0)
        );
        let pve1 = &view.overview.nodes[0];
        assert_eq!(pve1.vms, (1, 2));
        assert_eq!(pve1.cts, (0, 0));
        assert_eq!(
            view.overview.nodes[1].maintenance,
            vec![MaintenanceSource::Config]
        );
        assert!((pve1.mem_percent() - 78.125).abs() < 1e-9);
        assert!((pve1.cpu_percent - 25.0).abs() < 1e-9);
    }

    #[test]
    fn guests_are_sorted_and_tags_classified() {
        let view = build_cluster_view(
            &snapshot(),
            &config(),
            SnapshotMeta::default(),
            &ClusterExtras::default(),
            0,
            0,
        );
        let ids: Vec<u32> = view.guests.iter().map(|g| g.vmid).collect();
        assert_eq!(ids, vec![100, 101, 200]);
        let kinds: Vec<TagKind> = view.guests[1].tags.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, vec![TagKind::Affinity, TagKind::Other]);
        assert_eq!(view.guests[2].tags[0].kind, TagKind::Pin);
    }

    #[test]
    fn warnings_cover_quorum_offline_crs_privileges_tls_and_missing_parts() {
        let extras = ClusterExtras {
            quorate: Some(false),
            crs_auto_rebalance: true,
            tls_verification_off: true,
            missing_privileges: vec!["VM.Migrate".into()],
            unavailable: vec!["cluster status: permission denied on /cluster/status".into()],
        };
        let view = build_cluster_view(
            &snapshot(),
            &config(),
            SnapshotMeta::default(),
            &extras,
            0,
            0,
        );
        assert_eq!(
            view.overview.warnings,
            vec![
                ClusterWarning::NoQuorum,
                ClusterWarning::NodesOffline {
                    nodes: vec!["pve3".into()]
                },
                ClusterWarning::CrsAutoRebalance { ha_guests: 1 },
                ClusterWarning::MissingPrivileges {
                    privileges: vec!["VM.Migrate".into()]
                },
                ClusterWarning::TlsVerificationOff,
                ClusterWarning::PartialData {
                    parts: vec!["cluster status: permission denied on /cluster/status".into()]
                },
            ]
        );
        assert!(view.overview.warnings[3].message().contains("VM.Migrate"));
        assert!(view.overview.warnings[5]
            .message()
            .ends_with("out of date: cluster status: permission denied on /cluster/status."));
        assert!(
            view.overview.warnings[2]
                .message()
                .contains("move the 1 HA-managed guest."),
            "{}",
            view.overview.warnings[2].message()
        );
        assert!(ClusterWarning::CrsAutoRebalance { ha_guests: 3 }
            .message()
            .contains("move the 3 HA-managed guests."));
    }

    #[test]
    fn nodes_are_found_by_exact_name_with_the_moves_that_touch_them() {
        let view = build_cluster_view(
            &snapshot(),
            &config(),
            SnapshotMeta::default(),
            &ClusterExtras::default(),
            0,
            0,
        );
        let overview = &view.overview;
        assert_eq!(overview.node("pve2").map(|n| n.name.as_str()), Some("pve2"));
        assert!(overview.node("pve").is_none());
        assert!(overview.node("PVE2").is_none());
        let touching = |node: &str| -> Vec<(String, String, String)> {
            overview
                .moves_touching(node)
                .map(|m| {
                    (
                        m.planned.guest.clone(),
                        m.planned.from.clone(),
                        m.planned.to.clone(),
                    )
                })
                .collect()
        };
        // pve2 is in maintenance: its guest g200 goes to pve1, the node it is pinned to.
        let evacuation = vec![("g200".to_owned(), "pve2".to_owned(), "pve1".to_owned())];
        assert_eq!(touching("pve1"), evacuation, "the target sees the move");
        assert_eq!(touching("pve2"), evacuation, "the source sees the move");
        assert_eq!(overview.moves_touching("pve3").count(), 0);
    }

    #[test]
    fn tag_kinds_round_trip_through_their_names() {
        for kind in [
            TagKind::Affinity,
            TagKind::AntiAffinity,
            TagKind::Pin,
            TagKind::Ignore,
            TagKind::Other,
        ] {
            assert_eq!(TagKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TagKind::parse("nope"), None);
    }

    #[test]
    fn local_time_knows_the_weekday() {
        // 2026-11-23 is a Monday; 10:30 UTC.
        let monday = 1_795_429_800;
        assert_eq!(
            local_time(monday, 0),
            LocalTime {
                weekday: Weekday::Monday,
                hour: 10,
                minute: 30
            }
        );
        // Two hours east of UTC it is 12:30; 11 hours west it is Sunday 23:30.
        assert_eq!(local_time(monday, 7_200).hour, 12);
        assert_eq!(local_time(monday, -11 * 3_600).weekday, Weekday::Sunday);
        assert_eq!(local_time(0, 0).weekday, Weekday::Thursday);
    }

    #[test]
    fn view_round_trips_through_json() {
        let view = build_cluster_view(
            &snapshot(),
            &config(),
            SnapshotMeta::default(),
            &ClusterExtras::default(),
            0,
            0,
        );
        let json = serde_json::to_string(&view).unwrap();
        let back: ClusterView = serde_json::from_str(&json).unwrap();
        assert_eq!(back, view);
    }
}
