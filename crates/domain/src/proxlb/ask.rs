//! "Ask real ProxLB": what one real `proxlb -d -j` run will cost the cluster (requests, before it
//! starts), and how its plan compares with the native replay of the same configuration.
//!
//! The request estimate follows ProxLB 2.3.0's calls per run (`proxlb/models/nodes.py:51-137`,
//! `proxlb/models/guests.py:78-193`, `proxlb/models/pools.py:63-82`,
//! `proxlb/models/ha_rules.py:71-102`, `proxlb/utils/proxmox_api.py:323-360`): one permission
//! check, the node list, per node two RRD reads, its version, the HA status and the two guest
//! lists, the pools, the HA rules on PVE 9, and three requests per running guest (config and two
//! RRD reads). A dry run sends no migration. ProxLB sleeps 0.1 s before most of these calls
//! (three per node and three per guest), which bounds how fast it can be.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::cluster::{ClusterSnapshot, GuestStatus, NodeStatus, PveVersion};
use super::config::ProxLbConfig;
use super::plan::PlannedMove;

/// ProxLB's built-in pause before most API calls (`time.sleep(0.1)`), in milliseconds.
const SLEEP_MS: u64 = 100;

/// What one run will send to the cluster, shown before it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AskEstimate {
    /// About this many API requests.
    pub requests: u64,
    /// The API hosts ProxLB picks one of (`proxmox_api.hosts`).
    pub hosts: Vec<String>,
    /// Nodes ProxLB reads (online and not ignored).
    pub nodes: usize,
    /// Running guests on those nodes (three requests each).
    pub running_guests: usize,
    /// ProxLB's own pauses alone take this long (milliseconds); the run takes longer.
    pub minimum_ms: u64,
    /// Why the active backend cannot run ProxLB once, if it cannot (the button is disabled).
    pub unavailable: Option<String>,
}

/// How ProxLB's and the native plan agree on one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Both move it to the same node.
    Same,
    /// Both move it, to different nodes.
    Different,
    /// Only real ProxLB moves it.
    OnlyProxlb,
    /// Only the native replay moves it.
    OnlyNative,
}

impl Agreement {
    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            Agreement::Same => "same",
            Agreement::Different => "different target",
            Agreement::OnlyProxlb => "only ProxLB",
            Agreement::OnlyNative => "only native",
        }
    }
}

/// One guest that either plan moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskMove {
    /// Guest name (ProxLB's key).
    pub guest: String,
    /// Guest id.
    pub vmid: u32,
    /// Where it runs.
    pub from: String,
    /// Where real ProxLB puts it.
    pub proxlb_to: Option<String>,
    /// Where the native replay puts it.
    pub native_to: Option<String>,
    /// How the two agree.
    pub agreement: Agreement,
    /// The affinity group (two or more members) ProxLB moved it with, if any.
    pub group: Option<String>,
}

/// Real ProxLB's plan next to the native one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AskAnswer {
    /// Every guest either plan moves, grouped by affinity group, then by guest name.
    pub moves: Vec<AskMove>,
    /// Moves real ProxLB plans.
    pub proxlb_moves: usize,
    /// Moves the native replay plans.
    pub native_moves: usize,
    /// Guests moved to the same node by both.
    pub same: usize,
    /// The plans are the same.
    pub agree: bool,
    /// How long ProxLB ran (milliseconds).
    pub wall_ms: u64,
    /// The estimate shown before the run.
    pub estimate: AskEstimate,
    /// Asked with a candidate configuration (not the saved one).
    pub candidate: bool,
}

/// The one ask slot: idle, running, or how the last run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AskStatus {
    /// Nothing asked since the server started.
    Idle,
    /// ProxLB runs now.
    Running {
        /// When it started (Unix milliseconds).
        started_unix_ms: i64,
        /// The estimate shown before.
        estimate: AskEstimate,
        /// Asked with a candidate configuration.
        candidate: bool,
    },
    /// The last run answered.
    Finished {
        /// When it ended (Unix milliseconds).
        finished_unix_ms: i64,
        /// ProxLB's plan next to the native one.
        answer: Box<AskAnswer>,
    },
    /// The last run failed; the message is safe to show.
    Failed {
        /// When it ended (Unix milliseconds).
        finished_unix_ms: i64,
        /// What went wrong, for people.
        message: String,
    },
    /// The last run was cancelled.
    Cancelled {
        /// When it ended (Unix milliseconds).
        finished_unix_ms: i64,
    },
}

impl AskStatus {
    /// A run is in progress.
    pub fn is_running(&self) -> bool {
        matches!(self, AskStatus::Running { .. })
    }
}

/// What one `proxlb -d -j` run with `config` sends to the cluster of `snapshot`.
/// `unavailable` is left `None`: the backend knows whether it can run ProxLB.
pub fn estimate(snapshot: &ClusterSnapshot, config: &ProxLbConfig) -> AskEstimate {
    let cluster = &config.proxmox_cluster;
    let kept: Vec<_> = snapshot
        .nodes
        .iter()
        .filter(|n| n.status == NodeStatus::Online && !cluster.ignore_nodes.contains(&n.name))
        .collect();
    let running_guests = snapshot
        .guests
        .iter()
        .filter(|g| g.status == GuestStatus::Running && kept.iter().any(|n| n.name == g.node))
        .count();
    let api = &config.proxmox_api;
    let ticket = u64::from(api.pass.is_some() && api.token_secret.is_none());
    let ha_master = u64::from(config.service.enable_ha);
    let per_node: u64 = kept
        .iter()
        .map(|n| {
            // Two RRD reads, the version, the two guest lists; the HA status unless the node
            // is already in maintenance by configuration.
            5 + u64::from(!cluster.maintenance_nodes.contains(&n.name))
        })
        .sum();
    let ha_rules = u64::from(
        !kept.is_empty()
            && kept
                .iter()
                .all(|n| PveVersion::parse(&n.pve_version).is_some_and(|v| v.is_pve9())),
    );
    let pools = 1 + snapshot.pools.len() as u64;
    let guests = running_guests as u64;
    let requests = ticket + 1 + ha_master + 1 + per_node + pools + ha_rules + 3 * guests;
    AskEstimate {
        requests,
        hosts: api.hosts.clone(),
        nodes: kept.len(),
        running_guests,
        minimum_ms: SLEEP_MS * 3 * (kept.len() as u64 + guests),
        unavailable: None,
    }
}

/// Counts of a comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Every guest either plan moves, grouped by affinity group, then by name.
    pub moves: Vec<AskMove>,
    /// Moves of real ProxLB.
    pub proxlb_moves: usize,
    /// Moves of the native replay.
    pub native_moves: usize,
    /// Moves both agree on.
    pub same: usize,
}

impl Comparison {
    /// The plans are the same.
    pub fn agree(&self) -> bool {
        self.moves.iter().all(|m| m.agreement == Agreement::Same)
    }
}

/// Compares ProxLB's moves with the native ones as sets (guest → target). `groups` are
/// ProxLB's affinity groups by name with their members; only groups of two or more name a move's
/// group (singletons carry random UUID names).
pub fn compare(
    proxlb: &[PlannedMove],
    native: &[PlannedMove],
    groups: &BTreeMap<String, Vec<String>>,
) -> Comparison {
    let by_guest = |moves: &[PlannedMove]| -> BTreeMap<String, PlannedMove> {
        moves.iter().map(|m| (m.guest.clone(), m.clone())).collect()
    };
    let ours = by_guest(proxlb);
    let theirs = by_guest(native);
    let group_of: BTreeMap<&str, &str> = groups
        .iter()
        .filter(|(_, members)| members.len() > 1)
        .flat_map(|(name, members)| members.iter().map(move |m| (m.as_str(), name.as_str())))
        .collect();
    let guests: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    let mut moves: Vec<AskMove> = guests
        .into_iter()
        .map(|guest| {
            let p = ours.get(guest);
            let n = theirs.get(guest);
            let agreement = match (p, n) {
                (Some(p), Some(n)) if p.to == n.to => Agreement::Same,
                (Some(_), Some(_)) => Agreement::Different,
                (Some(_), None) => Agreement::OnlyProxlb,
                (None, _) => Agreement::OnlyNative,
            };
            let any = p.or(n);
            AskMove {
                guest: guest.clone(),
                vmid: any.map_or(0, |m| m.vmid),
                from: any.map(|m| m.from.clone()).unwrap_or_default(),
                proxlb_to: p.map(|m| m.to.clone()),
                native_to: n.map(|m| m.to.clone()),
                agreement,
                group: group_of.get(guest.as_str()).map(|g| (*g).to_owned()),
            }
        })
        .collect();
    // Grouped: guests of one affinity group together, groups first (by name), then the rest.
    moves.sort_by(|a, b| {
        (a.group.is_none(), &a.group, &a.guest).cmp(&(b.group.is_none(), &b.group, &b.guest))
    });
    let same = moves
        .iter()
        .filter(|m| m.agreement == Agreement::Same)
        .count();
    Comparison {
        moves,
        proxlb_moves: ours.len(),
        native_moves: theirs.len(),
        same,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::proxlb::cluster::{Guest, GuestKind, Node, Pool};
    use crate::proxlb::config::ProxLbConfig;

    fn node(name: &str, version: &str) -> Node {
        Node {
            name: name.into(),
            status: NodeStatus::Online,
            cpu_usage: 0.1,
            cpu_cores: 8,
            mem_used: 1,
            mem_total: 2,
            disk_used: 1,
            disk_total: 2,
            pve_version: version.into(),
            ha_maintenance: false,
            psi: None,
        }
    }

    fn guest(vmid: u32, node: &str, status: GuestStatus) -> Guest {
        Guest {
            vmid,
            name: format!("g{vmid}"),
            kind: GuestKind::Vm,
            status,
            node: node.into(),
            cpus: 1,
            cpu_usage: 0.0,
            mem_used: 1,
            mem_total: 2,
            disk_used: 0,
            disk_total: 2,
            tags: Vec::new(),
            pool: None,
            ha_managed: false,
            lock: None,
            psi: None,
        }
    }

    fn config() -> ProxLbConfig {
        let mut config = ProxLbConfig::with_api(vec!["pve1.example:8006".into()], "root@pam");
        config.proxmox_api.token_id = Some("proxlb".into());
        config.proxmox_api.token_secret = Some(crate::secret::Secret::new("s"));
        config
    }

    fn snapshot() -> ClusterSnapshot {
        let mut offline = node("pve4", "9.0.3");
        offline.status = NodeStatus::Offline;
        ClusterSnapshot {
            nodes: vec![
                node("pve1", "9.0.3"),
                node("pve2", "9.1.2"),
                node("pve3", "9.0.0"),
                offline,
            ],
            guests: vec![
                guest(100, "pve1", GuestStatus::Running),
                guest(101, "pve1", GuestStatus::Running),
                guest(102, "pve2", GuestStatus::Running),
                guest(103, "pve3", GuestStatus::Stopped),
                guest(104, "pve4", GuestStatus::Running),
            ],
            pools: vec![Pool {
                id: "prod".into(),
                members: vec!["g100".into()],
            }],
            ha_rules: Vec::new(),
        }
    }

    #[test]
    fn about_three_requests_per_running_guest_plus_the_nodes() {
        let e = estimate(&snapshot(), &config());
        // permissions + /nodes + 3 nodes × 6 + /pools + 1 pool + HA rules + 3 guests × 3.
        assert_eq!(e.requests, 1 + 1 + 18 + 2 + 1 + 9);
        assert_eq!(e.nodes, 3);
        assert_eq!(e.running_guests, 3);
        assert_eq!(e.hosts, ["pve1.example:8006"]);
        assert_eq!(e.minimum_ms, 100 * 3 * (3 + 3));
        assert_eq!(e.unavailable, None);
    }

    #[test]
    fn ignored_nodes_maintenance_old_versions_and_passwords_change_the_estimate() {
        let base = estimate(&snapshot(), &config()).requests;
        let mut c = config();
        c.proxmox_cluster.ignore_nodes = vec!["pve1".into()];
        // pve1's six requests and its two running guests' six are gone.
        assert_eq!(estimate(&snapshot(), &c).requests, base - 12);
        let mut c = config();
        c.proxmox_cluster.maintenance_nodes = vec!["pve2".into()];
        assert_eq!(estimate(&snapshot(), &c).requests, base - 1);
        let mut c = config();
        c.proxmox_api.token_secret = None;
        c.proxmox_api.pass = Some(crate::secret::Secret::new("pw"));
        c.service.enable_ha = true;
        assert_eq!(estimate(&snapshot(), &c).requests, base + 2);
        let mut s = snapshot();
        s.nodes[1].pve_version = "8.4.1".into();
        assert_eq!(estimate(&s, &config()).requests, base - 1);
    }

    fn mv(guest: &str, vmid: u32, from: &str, to: &str) -> PlannedMove {
        PlannedMove {
            guest: guest.into(),
            vmid,
            kind: GuestKind::Vm,
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn compares_moves_as_sets_and_groups_them() {
        let proxlb = [
            mv("web02", 101, "pve1", "pve3"),
            mv("web01", 100, "pve1", "pve3"),
            mv("db01", 102, "pve1", "pve2"),
            mv("app", 105, "pve1", "pve2"),
        ];
        let native = [
            mv("web01", 100, "pve1", "pve3"),
            mv("web02", 101, "pve1", "pve3"),
            mv("db01", 102, "pve1", "pve3"),
            mv("cache", 106, "pve2", "pve3"),
        ];
        let groups: BTreeMap<String, Vec<String>> = [
            (
                "plb_affinity_web".to_owned(),
                vec!["web01".to_owned(), "web02".to_owned()],
            ),
            ("0b8e-uuid".to_owned(), vec!["db01".to_owned()]),
        ]
        .into();
        let c = compare(&proxlb, &native, &groups);
        let rows: Vec<(&str, Agreement, Option<&str>)> = c
            .moves
            .iter()
            .map(|m| (m.guest.as_str(), m.agreement, m.group.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("web01", Agreement::Same, Some("plb_affinity_web")),
                ("web02", Agreement::Same, Some("plb_affinity_web")),
                ("app", Agreement::OnlyProxlb, None),
                ("cache", Agreement::OnlyNative, None),
                ("db01", Agreement::Different, None),
            ]
        );
        assert_eq!((c.proxlb_moves, c.native_moves, c.same), (4, 4, 2));
        assert!(!c.agree());
        let db = &c.moves[4];
        assert_eq!(
            (db.proxlb_to.as_deref(), db.native_to.as_deref()),
            (Some("pve2"), Some("pve3"))
        );
        assert_eq!(c.moves[3].vmid, 106);
        assert_eq!(c.moves[3].from, "pve2");

        let same = compare(&native, &native, &BTreeMap::new());
        assert!(same.agree());
        assert_eq!(same.same, 4);
        assert!(compare(&[], &[], &BTreeMap::new()).agree());
    }
}
