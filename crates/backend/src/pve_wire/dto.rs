//! Response types mirroring Proxmox VE's JSON (PVE 7.3 – 9.2), decoded leniently.
//!
//! Every non-key field is optional (absent keys stay `None`), booleans accept `0`/`1`, numbers
//! accept numeric strings (see [`super::lenient`]). Free-form objects keep unknown keys in
//! `extra` for forward compatibility. Conversion into domain types happens elsewhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::{
    bool_or_false, f64_list, opt_bool, opt_f64, opt_i64, opt_string, opt_u32, opt_u64, split_list,
    string_or_empty,
};

/// `{"data": …}` around every successful answer (`total` on task lists/logs).
#[derive(Clone, Debug, Deserialize)]
pub struct Envelope<T> {
    /// The payload.
    pub data: T,
    /// Total count for paged lists.
    #[serde(default, deserialize_with = "opt_u64")]
    pub total: Option<u64>,
}

/// The error body PVE sends with a non-2xx status.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorBody {
    /// The message (ends with a newline on PVE).
    #[serde(default, deserialize_with = "opt_string")]
    pub message: Option<String>,
    /// Per-parameter errors (400).
    #[serde(default)]
    pub errors: Option<BTreeMap<String, Value>>,
}

/// `GET /version` and `GET /nodes/{node}/version`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct VersionInfo {
    /// pve-manager version, e.g. `9.1.2`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub version: String,
    /// Release, e.g. `9.1`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub release: String,
    /// Git commit of pve-manager.
    #[serde(default, deserialize_with = "opt_string")]
    pub repoid: Option<String>,
    /// Default console.
    #[serde(default, deserialize_with = "opt_string")]
    pub console: Option<String>,
}

impl VersionInfo {
    /// `(major, minor)` of the release (or of the version when the release is missing).
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let text = if self.release.is_empty() {
            &self.version
        } else {
            &self.release
        };
        let mut parts = text.split(['.', '-']);
        let major = parts.next()?.trim().parse().ok()?;
        let minor = parts
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        Some((major, minor))
    }

    /// Whether this is PVE 9.0 or newer (HA rules, PSI).
    pub fn is_pve9_or_newer(&self) -> bool {
        self.major_minor().is_some_and(|(major, _)| major >= 9)
    }
}

/// One entry of `GET /cluster/status`: the cluster itself or a member node.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ClusterStatusEntry {
    /// `cluster` or `node`.
    #[serde(rename = "type", default, deserialize_with = "string_or_empty")]
    pub kind: String,
    /// `cluster` or `node/<name>`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub id: String,
    /// Cluster or node name.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub name: String,
    /// Cluster: node count (offline ones included).
    #[serde(default, deserialize_with = "opt_u32")]
    pub nodes: Option<u32>,
    /// Cluster: corosync config version.
    #[serde(default, deserialize_with = "opt_u64")]
    pub version: Option<u64>,
    /// Cluster: whether the cluster is quorate.
    #[serde(default, deserialize_with = "opt_bool")]
    pub quorate: Option<bool>,
    /// Node: corosync node id.
    #[serde(default, deserialize_with = "opt_u32")]
    pub nodeid: Option<u32>,
    /// Node: cluster IP.
    #[serde(default, deserialize_with = "opt_string")]
    pub ip: Option<String>,
    /// Node: online.
    #[serde(default, deserialize_with = "opt_bool")]
    pub online: Option<bool>,
    /// Node: whether it is the node that answered.
    #[serde(default, deserialize_with = "opt_bool")]
    pub local: Option<bool>,
    /// Node: subscription level (`""` if none).
    #[serde(default, deserialize_with = "opt_string")]
    pub level: Option<String>,
}

/// Quorum from `/cluster/status`: the cluster entry's `quorate`; a stand-alone node (no cluster
/// entry) counts as quorate when it is listed online.
pub fn quorum(entries: &[ClusterStatusEntry]) -> Option<bool> {
    if let Some(cluster) = entries.iter().find(|e| e.kind == "cluster") {
        return cluster.quorate;
    }
    match entries {
        [single] if single.kind == "node" => single.online,
        _ => None,
    }
}

/// The `type` of a `/cluster/resources` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum ResourceType {
    /// A QEMU VM.
    Qemu,
    /// An LXC container.
    Lxc,
    /// A node.
    Node,
    /// A storage on a node.
    Storage,
    /// A pool.
    Pool,
    /// An SDN zone (PVE ≤ 8).
    Sdn,
    /// A network entry (PVE 9).
    Network,
    /// Anything newer.
    Other(String),
    /// Missing.
    #[default]
    Unknown,
}

impl From<String> for ResourceType {
    fn from(value: String) -> Self {
        match value.as_str() {
            "qemu" => ResourceType::Qemu,
            "lxc" => ResourceType::Lxc,
            "node" => ResourceType::Node,
            "storage" => ResourceType::Storage,
            "pool" => ResourceType::Pool,
            "sdn" => ResourceType::Sdn,
            "network" => ResourceType::Network,
            "" => ResourceType::Unknown,
            _ => ResourceType::Other(value),
        }
    }
}

impl From<ResourceType> for String {
    fn from(value: ResourceType) -> Self {
        match value {
            ResourceType::Qemu => "qemu".into(),
            ResourceType::Lxc => "lxc".into(),
            ResourceType::Node => "node".into(),
            ResourceType::Storage => "storage".into(),
            ResourceType::Pool => "pool".into(),
            ResourceType::Sdn => "sdn".into(),
            ResourceType::Network => "network".into(),
            ResourceType::Other(other) => other,
            ResourceType::Unknown => String::new(),
        }
    }
}

/// The `type` filter of `GET /cluster/resources`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceFilter {
    /// Guests (qemu and lxc).
    Vm,
    /// Nodes.
    Node,
    /// Storages.
    Storage,
    /// SDN.
    Sdn,
}

impl ResourceFilter {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceFilter::Vm => "vm",
            ResourceFilter::Node => "node",
            ResourceFilter::Storage => "storage",
            ResourceFilter::Sdn => "sdn",
        }
    }
}

/// One entry of `GET /cluster/resources` (also the shape of pool members).
///
/// Guests carry `tags` (PVE ≥ 7.3), `pool`, `lock` and `hastate` here, so a whole-cluster guest
/// view needs no per-guest request.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ClusterResource {
    /// `qemu/100`, `node/pve1`, `storage/pve1/local`, `pool/prod`, …
    #[serde(default, deserialize_with = "string_or_empty")]
    pub id: String,
    /// Entry type.
    #[serde(rename = "type", default)]
    pub kind: ResourceType,
    /// Node (guests, nodes, storages).
    #[serde(default, deserialize_with = "opt_string")]
    pub node: Option<String>,
    /// Guests: running/stopped/…; nodes: online/offline/unknown; storage: available/unknown.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    /// Guest id.
    #[serde(default, deserialize_with = "opt_u32")]
    pub vmid: Option<u32>,
    /// Guest name.
    #[serde(default, deserialize_with = "opt_string")]
    pub name: Option<String>,
    /// CPU usage, fraction 0..1 of `maxcpu`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpu: Option<f64>,
    /// vCPUs (guests) or host threads (nodes).
    #[serde(default, deserialize_with = "opt_f64")]
    pub maxcpu: Option<f64>,
    /// Memory used, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub mem: Option<u64>,
    /// Host-side memory of a VM (PVE 9), bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub memhost: Option<u64>,
    /// Memory size, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxmem: Option<u64>,
    /// Disk used, bytes (always 0 for VMs).
    #[serde(default, deserialize_with = "opt_u64")]
    pub disk: Option<u64>,
    /// Disk size, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxdisk: Option<u64>,
    /// Network in, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub netin: Option<u64>,
    /// Network out, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub netout: Option<u64>,
    /// Disk read, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub diskread: Option<u64>,
    /// Disk written, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub diskwrite: Option<u64>,
    /// Uptime, seconds.
    #[serde(default, deserialize_with = "opt_u64")]
    pub uptime: Option<u64>,
    /// Guest is a template.
    #[serde(default, deserialize_with = "bool_or_false")]
    pub template: bool,
    /// Guest tags, `;`-joined as PVE stores them.
    #[serde(default, deserialize_with = "opt_string")]
    pub tags: Option<String>,
    /// Guest lock (`migrate`, `backup`, …).
    #[serde(default, deserialize_with = "opt_string")]
    pub lock: Option<String>,
    /// Pool of a guest, or the id of a pool entry.
    #[serde(default, deserialize_with = "opt_string")]
    pub pool: Option<String>,
    /// HA state (guest service state or node HA status).
    #[serde(default, deserialize_with = "opt_string")]
    pub hastate: Option<String>,
    /// Node subscription level.
    #[serde(default, deserialize_with = "opt_string")]
    pub level: Option<String>,
    /// Node CPU architecture (PVE 9.2).
    #[serde(rename = "host-arch", default, deserialize_with = "opt_string")]
    pub host_arch: Option<String>,
    /// Storage id.
    #[serde(default, deserialize_with = "opt_string")]
    pub storage: Option<String>,
    /// Storage plugin type.
    #[serde(default, deserialize_with = "opt_string")]
    pub plugintype: Option<String>,
    /// Storage is shared.
    #[serde(default, deserialize_with = "opt_bool")]
    pub shared: Option<bool>,
    /// Storage content types (comma list).
    #[serde(default, deserialize_with = "opt_string")]
    pub content: Option<String>,
}

impl ClusterResource {
    /// Whether this is a VM or container.
    pub fn is_guest(&self) -> bool {
        matches!(self.kind, ResourceType::Qemu | ResourceType::Lxc)
    }

    /// Whether this is a node entry.
    pub fn is_node(&self) -> bool {
        self.kind == ResourceType::Node
    }

    /// The guest's tags, split.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags.as_deref().map(split_list).unwrap_or_default()
    }

    /// Whether a node entry is online.
    pub fn is_online(&self) -> bool {
        self.status.as_deref() == Some("online")
    }
}

/// One entry of `GET /nodes`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct NodeListEntry {
    /// Node name.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub node: String,
    /// `online`, `offline` or `unknown`.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    /// CPU usage fraction.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpu: Option<f64>,
    /// Host threads.
    #[serde(default, deserialize_with = "opt_f64")]
    pub maxcpu: Option<f64>,
    /// Memory used, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub mem: Option<u64>,
    /// Memory size, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxmem: Option<u64>,
    /// Root fs used, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub disk: Option<u64>,
    /// Root fs size, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxdisk: Option<u64>,
    /// Uptime, seconds.
    #[serde(default, deserialize_with = "opt_u64")]
    pub uptime: Option<u64>,
    /// Subscription level.
    #[serde(default, deserialize_with = "opt_string")]
    pub level: Option<String>,
    /// SHA-256 of the node's API certificate (`AB:CD:…`).
    #[serde(default, deserialize_with = "opt_string")]
    pub ssl_fingerprint: Option<String>,
}

/// `cpuinfo` of a node status.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct CpuInfo {
    /// CPU model name.
    #[serde(default, deserialize_with = "opt_string")]
    pub model: Option<String>,
    /// Sockets.
    #[serde(default, deserialize_with = "opt_u32")]
    pub sockets: Option<u32>,
    /// Cores.
    #[serde(default, deserialize_with = "opt_u32")]
    pub cores: Option<u32>,
    /// Threads.
    #[serde(default, deserialize_with = "opt_u32")]
    pub cpus: Option<u32>,
    /// Clock, MHz (a string on the wire).
    #[serde(default, deserialize_with = "opt_f64")]
    pub mhz: Option<f64>,
    /// Hardware virtualisation available.
    #[serde(default, deserialize_with = "opt_bool")]
    pub hvm: Option<bool>,
}

/// `memory` of a node status, bytes.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct MemoryInfo {
    /// Total.
    #[serde(default, deserialize_with = "opt_u64")]
    pub total: Option<u64>,
    /// Used.
    #[serde(default, deserialize_with = "opt_u64")]
    pub used: Option<u64>,
    /// Free.
    #[serde(default, deserialize_with = "opt_u64")]
    pub free: Option<u64>,
    /// Available (PVE 9).
    #[serde(default, deserialize_with = "opt_u64")]
    pub available: Option<u64>,
}

/// `rootfs` (and `swap`) of a node status, bytes.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct FsInfo {
    /// Total.
    #[serde(default, deserialize_with = "opt_u64")]
    pub total: Option<u64>,
    /// Used.
    #[serde(default, deserialize_with = "opt_u64")]
    pub used: Option<u64>,
    /// Free.
    #[serde(default, deserialize_with = "opt_u64")]
    pub free: Option<u64>,
    /// Available to unprivileged users (rootfs).
    #[serde(default, deserialize_with = "opt_u64")]
    pub avail: Option<u64>,
}

/// `GET /nodes/{node}/status`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct NodeStatus {
    /// Uptime, seconds.
    #[serde(default, deserialize_with = "opt_u64")]
    pub uptime: Option<u64>,
    /// Load average 1/5/15 min (strings on the wire).
    #[serde(default, deserialize_with = "f64_list")]
    pub loadavg: Vec<f64>,
    /// CPU usage fraction.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpu: Option<f64>,
    /// IO wait fraction.
    #[serde(default, deserialize_with = "opt_f64")]
    pub wait: Option<f64>,
    /// CPU description.
    #[serde(default)]
    pub cpuinfo: Option<CpuInfo>,
    /// Memory.
    #[serde(default)]
    pub memory: Option<MemoryInfo>,
    /// Swap.
    #[serde(default)]
    pub swap: Option<FsInfo>,
    /// Root file system.
    #[serde(default)]
    pub rootfs: Option<FsInfo>,
    /// Kernel version line.
    #[serde(default, deserialize_with = "opt_string")]
    pub kversion: Option<String>,
    /// `pve-manager/<version>/<repoid>`.
    #[serde(default, deserialize_with = "opt_string")]
    pub pveversion: Option<String>,
    /// Keys not modelled above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// RRD time frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RrdTimeframe {
    /// Last hour (1-minute steps).
    Hour,
    /// Last day.
    Day,
    /// Last week.
    Week,
    /// Last month.
    Month,
    /// Last year.
    Year,
}

impl RrdTimeframe {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            RrdTimeframe::Hour => "hour",
            RrdTimeframe::Day => "day",
            RrdTimeframe::Week => "week",
            RrdTimeframe::Month => "month",
            RrdTimeframe::Year => "year",
        }
    }
}

/// RRD consolidation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RrdCf {
    /// Mean per step.
    Average,
    /// Maximum per step.
    Max,
}

impl RrdCf {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            RrdCf::Average => "AVERAGE",
            RrdCf::Max => "MAX",
        }
    }
}

/// One point of `GET /nodes/{node}/rrddata` (columns without data are absent).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct NodeRrdPoint {
    /// Epoch seconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub time: Option<i64>,
    /// Load average.
    #[serde(default, deserialize_with = "opt_f64")]
    pub loadavg: Option<f64>,
    /// Host threads.
    #[serde(default, deserialize_with = "opt_f64")]
    pub maxcpu: Option<f64>,
    /// CPU fraction.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpu: Option<f64>,
    /// IO wait fraction.
    #[serde(default, deserialize_with = "opt_f64")]
    pub iowait: Option<f64>,
    /// Memory total, bytes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub memtotal: Option<f64>,
    /// Memory used, bytes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub memused: Option<f64>,
    /// Memory available, bytes (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub memavailable: Option<f64>,
    /// ZFS ARC size, bytes (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub arcsize: Option<f64>,
    /// Swap total, bytes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub swaptotal: Option<f64>,
    /// Swap used, bytes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub swapused: Option<f64>,
    /// Root fs total, bytes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub roottotal: Option<f64>,
    /// Root fs used, bytes.
    #[serde(default, deserialize_with = "opt_f64")]
    pub rootused: Option<f64>,
    /// Network in, bytes/s.
    #[serde(default, deserialize_with = "opt_f64")]
    pub netin: Option<f64>,
    /// Network out, bytes/s.
    #[serde(default, deserialize_with = "opt_f64")]
    pub netout: Option<f64>,
    /// CPU pressure "some", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurecpusome: Option<f64>,
    /// IO pressure "some", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressureiosome: Option<f64>,
    /// IO pressure "full", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressureiofull: Option<f64>,
    /// Memory pressure "some", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurememorysome: Option<f64>,
    /// Memory pressure "full", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurememoryfull: Option<f64>,
}

/// One point of `GET /nodes/{node}/{qemu|lxc}/{vmid}/rrddata` with the columns ProxLB reads
/// (`proxlb/utils/rrd.py`, `GuestRrdKey`); columns without data are absent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct GuestRrdPoint {
    /// Epoch seconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub time: Option<i64>,
    /// CPU fraction of the guest's vCPUs.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpu: Option<f64>,
    /// CPU pressure "some", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurecpusome: Option<f64>,
    /// CPU pressure "full", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurecpufull: Option<f64>,
    /// IO pressure "some", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressureiosome: Option<f64>,
    /// IO pressure "full", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressureiofull: Option<f64>,
    /// Memory pressure "some", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurememorysome: Option<f64>,
    /// Memory pressure "full", percent (PVE 9).
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurememoryfull: Option<f64>,
}

/// Guest type in node-local paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestKind {
    /// QEMU VM (`/nodes/{n}/qemu`).
    Qemu,
    /// LXC container (`/nodes/{n}/lxc`).
    Lxc,
}

impl GuestKind {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestKind::Qemu => "qemu",
            GuestKind::Lxc => "lxc",
        }
    }

    /// The kind of a `/cluster/resources` guest entry.
    pub fn of_resource(kind: &ResourceType) -> Option<Self> {
        match kind {
            ResourceType::Qemu => Some(GuestKind::Qemu),
            ResourceType::Lxc => Some(GuestKind::Lxc),
            _ => None,
        }
    }
}

/// One entry of `GET /nodes/{node}/qemu` or `/lxc` (PSI only for running guests on PVE 9).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct GuestListEntry {
    /// Guest id.
    #[serde(default, deserialize_with = "opt_u32")]
    pub vmid: Option<u32>,
    /// Name.
    #[serde(default, deserialize_with = "opt_string")]
    pub name: Option<String>,
    /// `running` / `stopped`.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    /// QEMU status with `full=1` (`running`, `paused`, …).
    #[serde(default, deserialize_with = "opt_string")]
    pub qmpstatus: Option<String>,
    /// CPU fraction of `cpus`.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpu: Option<f64>,
    /// vCPUs / cores.
    #[serde(default, deserialize_with = "opt_f64")]
    pub cpus: Option<f64>,
    /// Memory used, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub mem: Option<u64>,
    /// Host-side memory of a VM (PVE 9), bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub memhost: Option<u64>,
    /// Memory size, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxmem: Option<u64>,
    /// Disk used, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub disk: Option<u64>,
    /// Disk size, bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxdisk: Option<u64>,
    /// Swap used (CT), bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub swap: Option<u64>,
    /// Swap size (CT), bytes.
    #[serde(default, deserialize_with = "opt_u64")]
    pub maxswap: Option<u64>,
    /// Network in, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub netin: Option<u64>,
    /// Network out, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub netout: Option<u64>,
    /// Disk read, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub diskread: Option<u64>,
    /// Disk written, bytes since start.
    #[serde(default, deserialize_with = "opt_u64")]
    pub diskwrite: Option<u64>,
    /// Uptime, seconds.
    #[serde(default, deserialize_with = "opt_u64")]
    pub uptime: Option<u64>,
    /// Process id.
    #[serde(default, deserialize_with = "opt_u64")]
    pub pid: Option<u64>,
    /// Tags, `;`-joined.
    #[serde(default, deserialize_with = "opt_string")]
    pub tags: Option<String>,
    /// Lock.
    #[serde(default, deserialize_with = "opt_string")]
    pub lock: Option<String>,
    /// Template.
    #[serde(default, deserialize_with = "bool_or_false")]
    pub template: bool,
    /// CPU pressure "some", percent.
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurecpusome: Option<f64>,
    /// CPU pressure "full", percent.
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurecpufull: Option<f64>,
    /// IO pressure "some", percent.
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressureiosome: Option<f64>,
    /// IO pressure "full", percent.
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressureiofull: Option<f64>,
    /// Memory pressure "some", percent.
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurememorysome: Option<f64>,
    /// Memory pressure "full", percent.
    #[serde(default, deserialize_with = "opt_f64")]
    pub pressurememoryfull: Option<f64>,
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`: a flat key map, the fields we use typed.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct GuestConfig {
    /// VM name.
    #[serde(default, deserialize_with = "opt_string")]
    pub name: Option<String>,
    /// CT host name.
    #[serde(default, deserialize_with = "opt_string")]
    pub hostname: Option<String>,
    /// Tags, `;`-joined.
    #[serde(default, deserialize_with = "opt_string")]
    pub tags: Option<String>,
    /// Lock.
    #[serde(default, deserialize_with = "opt_string")]
    pub lock: Option<String>,
    /// Template.
    #[serde(default, deserialize_with = "bool_or_false")]
    pub template: bool,
    /// Memory, MiB (or a property string on new QEMU).
    #[serde(default, deserialize_with = "opt_string")]
    pub memory: Option<String>,
    /// Cores.
    #[serde(default, deserialize_with = "opt_u32")]
    pub cores: Option<u32>,
    /// Config digest.
    #[serde(default, deserialize_with = "opt_string")]
    pub digest: Option<String>,
    /// All other keys, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GuestConfig {
    /// The tags, split.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags.as_deref().map(split_list).unwrap_or_default()
    }
}

/// One entry of `GET /pools`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct PoolSummary {
    /// Pool id.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub poolid: String,
    /// Comment.
    #[serde(default, deserialize_with = "opt_string")]
    pub comment: Option<String>,
}

/// `GET /pools?poolid=X` entry: a pool with its members (guests and storages).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct PoolDetail {
    /// Pool id.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub poolid: String,
    /// Comment.
    #[serde(default, deserialize_with = "opt_string")]
    pub comment: Option<String>,
    /// Members, shaped like `/cluster/resources` entries (without tags/lock).
    #[serde(default)]
    pub members: Vec<ClusterResource>,
}

/// One entry of `GET /cluster/ha/rules` (PVE 9).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HaRule {
    /// Rule id.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub rule: String,
    /// `node-affinity` or `resource-affinity`.
    #[serde(rename = "type", default, deserialize_with = "string_or_empty")]
    pub kind: String,
    /// Resources, `vm:100,ct:200`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub resources: String,
    /// Node affinity: `pve1:2,pve2` (node with optional priority).
    #[serde(default, deserialize_with = "opt_string")]
    pub nodes: Option<String>,
    /// Node affinity: only these nodes.
    #[serde(default, deserialize_with = "bool_or_false")]
    pub strict: bool,
    /// Resource affinity: `positive` or `negative`.
    #[serde(default, deserialize_with = "opt_string")]
    pub affinity: Option<String>,
    /// Rule disabled.
    #[serde(default, deserialize_with = "bool_or_false")]
    pub disable: bool,
    /// Comment.
    #[serde(default, deserialize_with = "opt_string")]
    pub comment: Option<String>,
    /// Digest.
    #[serde(default, deserialize_with = "opt_string")]
    pub digest: Option<String>,
    /// Order.
    #[serde(default, deserialize_with = "opt_u32")]
    pub order: Option<u32>,
    /// Feasibility errors of an infeasible rule.
    #[serde(default)]
    pub errors: Option<Value>,
}

impl HaRule {
    /// The resources (`vm:100`, `ct:200`).
    pub fn resource_list(&self) -> Vec<String> {
        split_list(&self.resources)
    }

    /// The nodes with their optional priority (`pve1:2` → `("pve1", Some(2))`).
    pub fn node_list(&self) -> Vec<(String, Option<u32>)> {
        self.nodes
            .as_deref()
            .map(split_list)
            .unwrap_or_default()
            .into_iter()
            .map(|item| match item.split_once(':') {
                Some((node, prio)) => (node.to_owned(), prio.trim().parse().ok()),
                None => (item, None),
            })
            .collect()
    }
}

/// One entry of `GET /cluster/ha/status/current`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HaStatusEntry {
    /// `quorum`, `master`, `fencing`, `lrm:<node>`, `service:<sid>`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub id: String,
    /// `quorum`, `master`, `fencing`, `lrm`, `service`.
    #[serde(rename = "type", default, deserialize_with = "string_or_empty")]
    pub kind: String,
    /// Node.
    #[serde(default, deserialize_with = "opt_string")]
    pub node: Option<String>,
    /// Status line, e.g. `pve3 (maintenance mode, watchdog active, …)`.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    /// Quorum entry: quorate.
    #[serde(default, deserialize_with = "opt_bool")]
    pub quorate: Option<bool>,
    /// Epoch seconds of the last update.
    #[serde(default, deserialize_with = "opt_i64")]
    pub timestamp: Option<i64>,
    /// Service: `vm:100`.
    #[serde(default, deserialize_with = "opt_string")]
    pub sid: Option<String>,
    /// Service state.
    #[serde(default, deserialize_with = "opt_string")]
    pub state: Option<String>,
    /// Service CRM state.
    #[serde(default, deserialize_with = "opt_string")]
    pub crm_state: Option<String>,
    /// Service requested state.
    #[serde(default, deserialize_with = "opt_string")]
    pub request_state: Option<String>,
    /// Fencing: `armed`, `standby`, ….
    #[serde(rename = "armed-state", default, deserialize_with = "opt_string")]
    pub armed_state: Option<String>,
}

impl HaStatusEntry {
    /// Whether this LRM entry says the node is in maintenance (how ProxLB detects it).
    pub fn is_maintenance(&self) -> bool {
        self.kind == "lrm"
            && self
                .status
                .as_deref()
                .is_some_and(|s| s.contains("maintenance mode"))
    }
}

/// One service in the HA manager status.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HaServiceStatus {
    /// Node.
    #[serde(default, deserialize_with = "opt_string")]
    pub node: Option<String>,
    /// State.
    #[serde(default, deserialize_with = "opt_string")]
    pub state: Option<String>,
    /// Running.
    #[serde(default, deserialize_with = "opt_bool")]
    pub running: Option<bool>,
}

/// `manager_status` of `GET /cluster/ha/status/manager_status`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ManagerStatus {
    /// The CRM master node.
    #[serde(default, deserialize_with = "opt_string")]
    pub master_node: Option<String>,
    /// Node → HA node status (`online`, `maintenance`, `unknown`, …).
    #[serde(default)]
    pub node_status: BTreeMap<String, String>,
    /// Service id → status.
    #[serde(default)]
    pub service_status: BTreeMap<String, HaServiceStatus>,
    /// Epoch seconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub timestamp: Option<i64>,
}

/// `GET /cluster/ha/status/manager_status`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HaManagerStatus {
    /// The CRM's view.
    #[serde(default)]
    pub manager_status: Option<ManagerStatus>,
    /// Per-node LRM status, verbatim.
    #[serde(default)]
    pub lrm_status: Map<String, Value>,
    /// Quorum info, verbatim.
    #[serde(default)]
    pub quorum: Option<Value>,
}

/// One entry of `GET /cluster/ha/resources`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HaResource {
    /// `vm:100`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub sid: String,
    /// `vm` or `ct`.
    #[serde(rename = "type", default, deserialize_with = "opt_string")]
    pub kind: Option<String>,
    /// Requested state.
    #[serde(default, deserialize_with = "opt_string")]
    pub state: Option<String>,
    /// Fail back to the preferred node (PVE 9).
    #[serde(default, deserialize_with = "opt_bool")]
    pub failback: Option<bool>,
    /// Max restarts.
    #[serde(default, deserialize_with = "opt_u32")]
    pub max_restart: Option<u32>,
    /// Max relocations.
    #[serde(default, deserialize_with = "opt_u32")]
    pub max_relocate: Option<u32>,
    /// HA group (before PVE 9).
    #[serde(default, deserialize_with = "opt_string")]
    pub group: Option<String>,
    /// Comment.
    #[serde(default, deserialize_with = "opt_string")]
    pub comment: Option<String>,
}

/// The cluster resource scheduler settings (`crs` in `datacenter.cfg`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CrsOptions {
    /// HA scheduler: `basic`, `static` or `dynamic` (9.2).
    pub ha: Option<String>,
    /// Rebalance HA services when they start.
    pub ha_rebalance_on_start: Option<bool>,
    /// PVE 9.2 automatic HA rebalancing (overlaps with ProxLB).
    pub ha_auto_rebalance: Option<bool>,
    /// Other `crs` keys (`ha-auto-rebalance-threshold`, …), as strings.
    pub extra: BTreeMap<String, String>,
}

impl CrsOptions {
    fn from_pairs(pairs: impl IntoIterator<Item = (String, super::lenient::Scalar)>) -> Self {
        let mut out = CrsOptions::default();
        for (key, value) in pairs {
            match key.as_str() {
                "ha" => out.ha = value.into_string(),
                "ha-rebalance-on-start" => out.ha_rebalance_on_start = value.as_bool(),
                "ha-auto-rebalance" => out.ha_auto_rebalance = value.as_bool(),
                _ => {
                    if let Some(text) = value.into_string() {
                        out.extra.insert(key, text);
                    }
                }
            }
        }
        out
    }

    /// Parses the property-string form `ha=static,ha-rebalance-on-start=1`.
    pub fn parse_property_string(text: &str) -> Self {
        Self::from_pairs(text.split(',').filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            Some((
                key.trim().to_owned(),
                super::lenient::Scalar::Str(value.trim().to_owned()),
            ))
        }))
    }
}

impl<'de> Deserialize<'de> for CrsOptions {
    /// Accepts the object PVE's API returns or the raw property string.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match value {
            Value::String(text) => CrsOptions::parse_property_string(&text),
            Value::Object(map) => CrsOptions::from_pairs(map.into_iter().map(|(k, v)| {
                let scalar = match v {
                    Value::Bool(b) => super::lenient::Scalar::Bool(b),
                    Value::Number(n) => n
                        .as_u64()
                        .map(super::lenient::Scalar::U64)
                        .or_else(|| n.as_i64().map(super::lenient::Scalar::I64))
                        .or_else(|| n.as_f64().map(super::lenient::Scalar::F64))
                        .unwrap_or(super::lenient::Scalar::Other),
                    Value::String(s) => super::lenient::Scalar::Str(s),
                    Value::Null => super::lenient::Scalar::Null,
                    _ => super::lenient::Scalar::Other,
                };
                (k, scalar)
            })),
            _ => CrsOptions::default(),
        })
    }
}

/// `GET /cluster/options` (datacenter.cfg); only `crs` is typed.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ClusterOptions {
    /// Cluster resource scheduling.
    #[serde(default)]
    pub crs: Option<CrsOptions>,
    /// All other options, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Task types that move guests.
pub const MIGRATION_TASK_TYPES: [&str; 3] = ["qmigrate", "vzmigrate", "hamigrate"];

/// One entry of `GET /cluster/tasks` or `GET /nodes/{node}/tasks`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct TaskEntry {
    /// `UPID:…`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub upid: String,
    /// Node that ran it.
    #[serde(default, deserialize_with = "opt_string")]
    pub node: Option<String>,
    /// Task type (`qmigrate`, `vzmigrate`, `hamigrate`, `vzdump`, …).
    #[serde(rename = "type", default, deserialize_with = "string_or_empty")]
    pub kind: String,
    /// Task object id (the vmid for guest tasks).
    #[serde(default, deserialize_with = "opt_string")]
    pub id: Option<String>,
    /// `user@realm`.
    #[serde(default, deserialize_with = "opt_string")]
    pub user: Option<String>,
    /// Token name when started with a token.
    #[serde(default, deserialize_with = "opt_string")]
    pub tokenid: Option<String>,
    /// Start, epoch seconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub starttime: Option<i64>,
    /// End, epoch seconds (absent while running).
    #[serde(default, deserialize_with = "opt_i64")]
    pub endtime: Option<i64>,
    /// `OK`, `WARNINGS: n` or the error text; absent while running.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
}

impl TaskEntry {
    /// Whether the task moves a guest.
    pub fn is_migration(&self) -> bool {
        MIGRATION_TASK_TYPES.contains(&self.kind.as_str())
    }

    /// Whether the task is still running.
    pub fn is_running(&self) -> bool {
        self.endtime.is_none() && self.status.as_deref().is_none_or(|s| s == "running")
    }

    /// Whether the task ended well (`OK` or with warnings).
    pub fn succeeded(&self) -> Option<bool> {
        if self.is_running() {
            return None;
        }
        let status = self.status.as_deref()?;
        Some(status == "OK" || status.starts_with("WARNINGS"))
    }

    /// The guest id of a guest task.
    pub fn vmid(&self) -> Option<u32> {
        self.id.as_deref()?.parse().ok()
    }
}

/// `GET /access/permissions`: ACL path → privilege → propagate.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Permissions(pub BTreeMap<String, BTreeMap<String, Value>>);

impl Permissions {
    /// Whether the privilege is granted on any path.
    pub fn has(&self, privilege: &str) -> bool {
        self.0.values().any(|privs| privs.contains_key(privilege))
    }

    /// Whether the privilege is granted on `/` (so it reaches every object).
    pub fn has_at_root(&self, privilege: &str) -> bool {
        self.0
            .get("/")
            .is_some_and(|privs| privs.contains_key(privilege))
    }

    /// The privileges of `required` granted on no path at all (ProxLB's own check). PVE silently
    /// filters lists for a user or token without them, so a dashboard must say so.
    pub fn missing(&self, required: &[&str]) -> Vec<String> {
        required
            .iter()
            .filter(|p| !self.has(p))
            .map(|p| (*p).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str::<Envelope<T>>(json).unwrap().data
    }

    #[test]
    fn cluster_resources_decode_with_perl_isms() {
        let json = r#"{"data":[
 {"id":"qemu/100","type":"qemu","vmid":100,"name":"web01","node":"pve1","status":"running","template":0,
  "cpu":0.0842,"maxcpu":4,"mem":5336920064,"memhost":6012345678,"maxmem":8589934592,"disk":0,"maxdisk":34359738368,
  "netin":18765432109,"netout":9876543210,"diskread":4567890123,"diskwrite":12345678901,"uptime":864000,
  "tags":"plb_affinity_web;prod","pool":"prod"},
 {"id":"qemu/9000","type":"qemu","vmid":"9000","name":"tpl","node":"pve3","status":"stopped","template":"1"},
 {"id":"node/pve3","type":"node","node":"pve3","status":"offline","level":""},
 {"id":"storage/pve1/ceph-vm","type":"storage","storage":"ceph-vm","node":"pve1","shared":1},
 {"id":"x/1","type":"future-thing"}]}"#;
        let list: Vec<ClusterResource> = data(json);
        assert_eq!(list.len(), 5);
        let web = &list[0];
        assert_eq!(web.kind, ResourceType::Qemu);
        assert!(web.is_guest());
        assert_eq!(web.vmid, Some(100));
        assert_eq!(web.tag_list(), vec!["plb_affinity_web", "prod"]);
        assert_eq!(web.pool.as_deref(), Some("prod"));
        assert!(!web.template);
        assert_eq!(web.memhost, Some(6_012_345_678));
        assert_eq!(list[1].vmid, Some(9000));
        assert!(list[1].template);
        assert!(list[2].is_node());
        assert!(!list[2].is_online());
        assert_eq!(list[2].cpu, None);
        assert_eq!(list[3].shared, Some(true));
        assert_eq!(list[4].kind, ResourceType::Other("future-thing".into()));
    }

    #[test]
    fn node_status_with_string_numbers_and_extra_keys() {
        let json = r#"{"data":{"uptime":2419200,"idle":0,"loadavg":["3.12","2.87","2.65"],"cpu":0.1873,
 "cpuinfo":{"model":"AMD EPYC","sockets":1,"cores":16,"cpus":32,"mhz":"2994.374","hvm":"1","user_hz":100},
 "memory":{"total":134850514944,"used":61203451904,"free":64316063744,"available":73647063040},
 "rootfs":{"total":100,"used":12,"free":88,"avail":83},"pveversion":"pve-manager/9.1.2/4c9e2f1a",
 "boot-info":{"mode":"efi","secureboot":0}}}"#;
        let status: NodeStatus = data(json);
        assert_eq!(status.loadavg, vec![3.12, 2.87, 2.65]);
        let cpu = status.cpuinfo.as_ref().unwrap();
        assert_eq!(cpu.mhz, Some(2994.374));
        assert_eq!(cpu.hvm, Some(true));
        assert_eq!(cpu.cpus, Some(32));
        assert_eq!(
            status.memory.as_ref().unwrap().available,
            Some(73_647_063_040)
        );
        assert!(status.extra.contains_key("boot-info"));
        assert!(status.swap.is_none());
    }

    #[test]
    fn lxc_psi_strings_and_missing_fields() {
        let json = r#"{"data":[{"vmid":200,"name":"dns01","type":"lxc","status":"running",
 "cpu":0.0061,"cpus":2,"pressurecpusome":"0.00","pressureiosome":"0.12"},{"vmid":201}]}"#;
        let list: Vec<GuestListEntry> = data(json);
        assert_eq!(list[0].pressureiosome, Some(0.12));
        assert_eq!(list[0].pressurecpusome, Some(0.0));
        assert_eq!(list[0].pressurecpufull, None);
        assert_eq!(list[1].vmid, Some(201));
        assert_eq!(list[1].status, None);
    }

    #[test]
    fn ha_rules_status_and_options() {
        let rules: Vec<HaRule> = data(
            r#"{"data":[{"rule":"db","type":"node-affinity","resources":"vm:101,ct:200","nodes":"pve1:2,pve2",
            "strict":1,"order":1},{"rule":"apart","type":"resource-affinity","resources":"vm:100,vm:102","affinity":"negative"}]}"#,
        );
        assert!(rules[0].strict);
        assert_eq!(rules[0].resource_list(), vec!["vm:101", "ct:200"]);
        assert_eq!(
            rules[0].node_list(),
            vec![("pve1".to_owned(), Some(2)), ("pve2".to_owned(), None)]
        );
        assert!(!rules[1].strict);
        assert_eq!(rules[1].affinity.as_deref(), Some("negative"));

        let status: Vec<HaStatusEntry> = data(
            r#"{"data":[{"id":"quorum","type":"quorum","node":"pve1","status":"OK","quorate":1},
            {"id":"lrm:pve3","type":"lrm","node":"pve3","status":"pve3 (maintenance mode, watchdog active, x)","timestamp":1795365118},
            {"id":"fencing","type":"fencing","armed-state":"armed"}]}"#,
        );
        assert_eq!(status[0].quorate, Some(true));
        assert!(status[1].is_maintenance());
        assert!(!status[0].is_maintenance());
        assert_eq!(status[2].armed_state.as_deref(), Some("armed"));

        let options: ClusterOptions = data(
            r#"{"data":{"keyboard":"en-us","crs":{"ha":"dynamic","ha-rebalance-on-start":1,"ha-auto-rebalance":"1","ha-auto-rebalance-threshold":0.3}}}"#,
        );
        let crs = options.crs.unwrap();
        assert_eq!(crs.ha.as_deref(), Some("dynamic"));
        assert_eq!(crs.ha_rebalance_on_start, Some(true));
        assert_eq!(crs.ha_auto_rebalance, Some(true));
        assert_eq!(
            crs.extra
                .get("ha-auto-rebalance-threshold")
                .map(String::as_str),
            Some("0.3")
        );
        assert!(options.extra.contains_key("keyboard"));
        let crs = CrsOptions::parse_property_string("ha=static,ha-rebalance-on-start=0");
        assert_eq!(crs.ha.as_deref(), Some("static"));
        assert_eq!(crs.ha_rebalance_on_start, Some(false));
        assert_eq!(crs.ha_auto_rebalance, None);
        let options: ClusterOptions = data(r#"{"data":{"crs":"ha=basic"}}"#);
        assert_eq!(options.crs.unwrap().ha.as_deref(), Some("basic"));
    }

    #[test]
    fn tasks_permissions_status_and_version() {
        let tasks: Vec<TaskEntry> = data(
            r#"{"data":[{"upid":"UPID:pve1:1:2:3:qmigrate:100:root@pam:","node":"pve1","type":"qmigrate","id":"100",
            "user":"root@pam","starttime":1795365120,"endtime":1795365134,"status":"OK"},
            {"upid":"UPID:pve1:1:2:4:hamigrate:101:root@pam:","type":"hamigrate","id":"101","starttime":"1795365130"},
            {"upid":"UPID:pve1:1:2:5:vzdump::root@pam:","type":"vzdump","id":"","status":"some error"}]}"#,
        );
        assert!(tasks[0].is_migration());
        assert_eq!(tasks[0].succeeded(), Some(true));
        assert_eq!(tasks[0].vmid(), Some(100));
        assert!(tasks[1].is_running());
        assert_eq!(tasks[1].starttime, Some(1_795_365_130));
        assert!(!tasks[2].is_migration());
        assert_eq!(tasks[2].succeeded(), Some(false));

        let perms: Permissions =
            data(r#"{"data":{"/":{"Sys.Audit":1,"VM.Audit":0},"/storage":{"Datastore.Audit":1}}}"#);
        assert!(perms.has("Datastore.Audit"));
        assert!(!perms.has_at_root("Datastore.Audit"));
        assert_eq!(
            perms.missing(&["Sys.Audit", "VM.Audit", "Datastore.Audit", "VM.Migrate"]),
            vec!["VM.Migrate"]
        );

        let status: Vec<ClusterStatusEntry> = data(
            r#"{"data":[{"type":"cluster","id":"cluster","name":"demo","nodes":3,"quorate":1},
            {"type":"node","id":"node/pve1","name":"pve1","online":1,"local":1,"level":""}]}"#,
        );
        assert_eq!(quorum(&status), Some(true));
        assert_eq!(quorum(&status[1..]), Some(true));
        assert_eq!(quorum(&[]), None);

        let version: VersionInfo =
            data(r#"{"data":{"version":"9.1.2","release":"9.1","repoid":"4c9e"}}"#);
        assert_eq!(version.major_minor(), Some((9, 1)));
        assert!(version.is_pve9_or_newer());
        let old = VersionInfo {
            version: "8.4.1".into(),
            ..VersionInfo::default()
        };
        assert!(!old.is_pve9_or_newer());
    }
}
