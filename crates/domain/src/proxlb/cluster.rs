//! Plain cluster model the backend fills from the Proxmox VE API and the UI renders.
//!
//! Field meanings follow the PVE API fields ProxLB reads (`/nodes`, `/nodes/{n}/qemu|lxc`,
//! `/pools`, `/cluster/ha/rules`, `/cluster/ha/status/current`, `/nodes/{n}/version`).

use serde::{Deserialize, Serialize};

/// Whether PVE reports a node as online (`/nodes` `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// `online`: the only status ProxLB keeps.
    Online,
    /// `offline`.
    Offline,
    /// `unknown` or anything else.
    Unknown,
}

/// Pressure stall figures of one resource, already reduced from RRD data the way ProxLB does
/// (see [`crate::proxlb::usage::rrd_average`] and [`crate::proxlb::usage::rrd_spike`]). Percent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pressure {
    /// Mean of the `…some` series (AVERAGE consolidation).
    pub some: f64,
    /// Mean of the `…full` series (AVERAGE consolidation).
    pub full: f64,
    /// Max of the last 6 values of the `…some` MAX series.
    pub some_spikes: f64,
    /// Max of the last 6 values of the `…full` MAX series.
    pub full_spikes: f64,
}

/// PSI figures for the three resources ProxLB knows (`disk` is PVE's `io`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PsiSet {
    /// `pressurecpu*`.
    pub cpu: Pressure,
    /// `pressurememory*`.
    pub memory: Pressure,
    /// `pressureio*` (ProxLB calls this resource `disk`).
    pub io: Pressure,
}

/// One cluster node as `/nodes`, `/nodes/{n}/version` and the HA status report it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// PVE node name (`node`).
    pub name: String,
    /// Online state.
    pub status: NodeStatus,
    /// CPU utilisation as a fraction 0.0–1.0 (`cpu`).
    pub cpu_usage: f64,
    /// Number of logical CPUs (`maxcpu`).
    pub cpu_cores: u32,
    /// Memory in use, bytes (`mem`).
    pub mem_used: u64,
    /// Memory size, bytes (`maxmem`).
    pub mem_total: u64,
    /// Root filesystem in use, bytes (`disk`).
    pub disk_used: u64,
    /// Root filesystem size, bytes (`maxdisk`).
    pub disk_total: u64,
    /// `data.version` of `/nodes/{n}/version`, e.g. `9.0.3`.
    pub pve_version: String,
    /// The HA stack reports this node's LRM in `maintenance mode`.
    pub ha_maintenance: bool,
    /// PSI figures (PVE 9 only), `None` when not collected.
    pub psi: Option<PsiSet>,
}

/// VM (`qemu`) or container (`lxc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestKind {
    /// A QEMU virtual machine (ProxLB type `vm`).
    Vm,
    /// An LXC container (ProxLB type `ct`).
    Ct,
}

/// Guest run state from the guest lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestStatus {
    /// `running`: the only state ProxLB keeps.
    Running,
    /// `stopped`.
    Stopped,
    /// Anything else (`paused`, `unknown`, …).
    Other,
}

/// One guest as the guest lists, its config (`tags`) and its RRD data report it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guest {
    /// VM or CT id.
    pub vmid: u32,
    /// Guest name. ProxLB keys guests by name.
    pub name: String,
    /// VM or CT.
    pub kind: GuestKind,
    /// Run state.
    pub status: GuestStatus,
    /// Node the guest currently runs on.
    pub node: String,
    /// Assigned vCPUs (`cpus`).
    pub cpus: u32,
    /// CPU usage as a fraction (mean of the RRD `cpu` series, not multiplied by `cpus`).
    pub cpu_usage: f64,
    /// Memory in use, bytes (`mem`).
    pub mem_used: u64,
    /// Assigned memory, bytes (`maxmem`).
    pub mem_total: u64,
    /// Disk in use, bytes (`disk`; always 0 for VMs on PVE).
    pub disk_used: u64,
    /// Assigned disk, bytes (`maxdisk`).
    pub disk_total: u64,
    /// Tags from the guest config, split on `;` (see [`crate::proxlb::tags::split_tags`]).
    pub tags: Vec<String>,
    /// Pool the guest belongs to, as `/cluster/resources` reports it.
    pub pool: Option<String>,
    /// The guest is an HA resource.
    pub ha_managed: bool,
    /// Config lock (`migrate`, `backup`, …), if any.
    pub lock: Option<String>,
    /// PSI figures (PVE 9, running guests only).
    pub psi: Option<PsiSet>,
}

/// The kind of a PVE 9 HA rule (`/cluster/ha/rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaRuleKind {
    /// `resource-affinity` with `affinity: positive`: keep together.
    ResourceAffinity,
    /// `resource-affinity` with `affinity: negative`: keep apart.
    ResourceAntiAffinity,
    /// `node-affinity`: keep on the listed nodes.
    NodeAffinity,
}

/// One HA rule of `/cluster/ha/rules` (PVE 9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HaRule {
    /// Rule id (`rule`).
    pub id: String,
    /// Rule kind.
    pub kind: HaRuleKind,
    /// Member guest ids, from `resources` (`vm:100,ct:101`).
    pub members: Vec<u32>,
    /// Entries of `nodes`, verbatim (they may carry a priority, `pve1:2`).
    pub nodes: Vec<String>,
    /// `disable` is set.
    pub disabled: bool,
}

/// One resource pool with the names of its guest members (`/pools/{id}` `members[].name`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// Pool id.
    pub id: String,
    /// Names of member guests (storage members have no name and are left out).
    pub members: Vec<String>,
}

/// Everything ProxLB reads from a cluster in one run, in API order.
///
/// Order matters: ProxLB breaks ties by `/nodes` order and walks guests node by node, VMs before CTs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Nodes in `/nodes` order.
    pub nodes: Vec<Node>,
    /// Guests in any order; ProxLB's order is recomputed from `nodes`.
    pub guests: Vec<Guest>,
    /// Pools in `/pools` order.
    pub pools: Vec<Pool>,
    /// HA rules in `/cluster/ha/rules` order.
    pub ha_rules: Vec<HaRule>,
}

/// A PVE version compared the way ProxLB compares it (`packaging.version`, numeric release parts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PveVersion(pub Vec<u64>);

impl PveVersion {
    /// Parses the numeric release part of a version string such as `9.0.3` or `8.4.1`.
    /// Returns `None` when the string does not start with a number (ProxLB would crash there).
    pub fn parse(text: &str) -> Option<Self> {
        let release: &str = text
            .trim()
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or_default();
        let mut parts = Vec::new();
        for part in release.split('.') {
            if part.is_empty() {
                break;
            }
            parts.push(part.parse().ok()?);
        }
        if parts.is_empty() {
            return None;
        }
        // Trailing zeros do not change a release (9 == 9.0 == 9.0.0), as in packaging.version.
        while parts.len() > 1 && parts.last() == Some(&0) {
            parts.pop();
        }
        Some(Self(parts))
    }

    /// Whether this is PVE 9.0.0 or newer: the gate for PSI, HA rules and conntrack migration.
    pub fn is_pve9(&self) -> bool {
        *self >= PveVersion(vec![9])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_like_packaging() {
        let v = |s: &str| PveVersion::parse(s).unwrap();
        assert!(v("9.0.0").is_pve9());
        assert!(v("9").is_pve9());
        assert!(v("9.1.2").is_pve9());
        assert!(!v("8.4.14").is_pve9());
        assert!(v("10.0") > v("9.9.9"));
        assert_eq!(v("9.0"), v("9.0.0"));
        assert!(v("9.0.3~beta").is_pve9());
        assert!(PveVersion::parse("pve").is_none());
        assert!(PveVersion::parse("").is_none());
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let snapshot = ClusterSnapshot {
            nodes: vec![Node {
                name: "pve1".into(),
                status: NodeStatus::Online,
                cpu_usage: 0.25,
                cpu_cores: 8,
                mem_used: 1,
                mem_total: 2,
                disk_used: 3,
                disk_total: 4,
                pve_version: "9.0.3".into(),
                ha_maintenance: false,
                psi: Some(PsiSet::default()),
            }],
            guests: vec![],
            pools: vec![Pool {
                id: "dev".into(),
                members: vec!["a".into()],
            }],
            ha_rules: vec![HaRule {
                id: "r".into(),
                kind: HaRuleKind::ResourceAntiAffinity,
                members: vec![100],
                nodes: vec![],
                disabled: false,
            }],
        };
        let json = serde_json::to_string(&snapshot).unwrap();
        assert!(json.contains(r#""kind":"resource-anti-affinity""#));
        let back: ClusterSnapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snapshot);
    }
}
