//! Scenario: the initial cluster a simulator starts from (nodes, guests, pools, HA rules, users
//! and API tokens, seed). Loaded from YAML or JSON (errors name the path of the bad field, e.g.
//! `nodes[1].memory: invalid type: ...`) or assembled with the Rust builder methods.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::{expand_privileges, PrivError};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The document does not match the scenario format; `field` is the path of the bad field.
    #[error("{field}: {message}")]
    Parse {
        /// Path of the offending field, e.g. `nodes[1].memory` (`.` for the document itself).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The document parses but is inconsistent (unknown node, duplicate vmid, ...).
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the offending field, e.g. `guests[3].node`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl ScenarioError {
    /// The path of the offending field (`None` for I/O errors).
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Io { .. } => None,
            Self::Parse { field, .. } | Self::Invalid { field, .. } => Some(field),
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A size in bytes. In scenario files it is either an integer (bytes) or a string with a binary
/// suffix: `"512M"`, `"128G"`, `"1.5T"`, `"64GiB"`, `"4096K"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// `n` GiB.
    pub const fn gib(n: u64) -> Self {
        Self(n << 30)
    }

    /// `n` MiB.
    pub const fn mib(n: u64) -> Self {
        Self(n << 20)
    }

    /// The number of bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// Parses `"128G"`-style strings (binary units; `B`, `K`, `M`, `G`, `T`, optional `iB`/`B`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let value: f64 = num.parse().ok()?;
        let unit = unit.trim().to_ascii_uppercase();
        let unit = unit
            .strip_suffix("IB")
            .or_else(|| unit.strip_suffix('B').filter(|u| !u.is_empty()))
            .unwrap_or(&unit);
        let mult: f64 = match unit {
            "" | "B" => 1.0,
            "K" => 1024.0,
            "M" => 1024.0 * 1024.0,
            "G" => 1024.0 * 1024.0 * 1024.0,
            "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        let bytes = value * mult;
        (0.0..1.8e19)
            .contains(&bytes)
            .then(|| Self(bytes.round() as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte size (integer bytes or a string like \"16G\")")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("negative byte size {v}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).ok_or_else(|| {
                    E::custom(format!(
                        "invalid byte size {v:?} (expected e.g. 512M, 16G, 1.5T)"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Node status in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// The node is up and in the quorum.
    #[default]
    Online,
    /// The node is down (its API calls answer 595, its guests are `unknown`).
    Offline,
}

/// Guest kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GuestKind {
    /// A QEMU virtual machine (`qemu` in the API, `vm` in ProxLB and HA ids).
    #[serde(rename = "vm", alias = "qemu")]
    Vm,
    /// An LXC container (`lxc` in the API, `ct` in ProxLB and HA ids).
    #[serde(rename = "ct", alias = "lxc")]
    Ct,
}

impl GuestKind {
    /// The API path segment and `/cluster/resources` type: `qemu` or `lxc`.
    pub fn api_type(self) -> &'static str {
        match self {
            Self::Vm => "qemu",
            Self::Ct => "lxc",
        }
    }

    /// The HA resource prefix: `vm` or `ct`.
    pub fn ha_prefix(self) -> &'static str {
        match self {
            Self::Vm => "vm",
            Self::Ct => "ct",
        }
    }
}

/// Guest power state in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GuestStatus {
    /// Running (uses CPU and memory on its node).
    Running,
    /// Stopped.
    #[default]
    Stopped,
}

/// Cluster-wide settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSpec {
    /// Cluster name (`/cluster/status`, ticket `clustername`).
    pub name: String,
    /// Datacenter CRS settings returned by `/cluster/options` as `crs`, e.g.
    /// `{ha: dynamic, ha-rebalance-on-start: 1, ha-auto-rebalance: 1}` (keys as in
    /// `datacenter.cfg`; the `ha-auto-rebalance*` keys need every node on PVE 9.2 or newer).
    pub crs: Option<BTreeMap<String, serde_json::Value>>,
    /// Other `/cluster/options` keys to return verbatim (e.g. `keyboard`, `migration`).
    pub options: BTreeMap<String, serde_json::Value>,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        Self {
            name: "sim".to_string(),
            crs: None,
            options: BTreeMap::new(),
        }
    }
}

/// One node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Node name.
    pub name: String,
    /// Host CPU threads (`maxcpu`).
    pub cores: u32,
    /// Host memory (`maxmem`).
    pub memory: ByteSize,
    /// Root file system size (`maxdisk`).
    #[serde(default = "default_node_disk")]
    pub disk: ByteSize,
    /// Root file system used (static part of `disk`).
    #[serde(default)]
    pub disk_used: Option<ByteSize>,
    /// This node's contribution to the shared `ceph-vm` storage (default 8 × memory).
    #[serde(default)]
    pub storage: Option<ByteSize>,
    /// Online or offline.
    #[serde(default)]
    pub status: NodeStatus,
    /// PVE (pve-manager) version, e.g. `9.1.2` or `8.4.1`.
    #[serde(default = "default_version")]
    pub version: String,
    /// HA node maintenance (`ha-manager crm-command node-maintenance enable`).
    #[serde(default)]
    pub ha_maintenance: bool,
    /// CPU usage of the host itself, as a fraction of `cores` (default 0.02).
    #[serde(default = "default_host_cpu")]
    pub host_cpu: f64,
    /// Memory used by the host itself (default 2 GiB plus 2 % of `memory`).
    #[serde(default)]
    pub host_memory: Option<ByteSize>,
    /// Cluster network address (default `10.0.0.(10+index)`).
    #[serde(default)]
    pub ip: Option<String>,
    /// CPU model shown in `/nodes/{n}/status`.
    #[serde(default)]
    pub cpu_model: Option<String>,
}

fn default_node_disk() -> ByteSize {
    ByteSize::gib(100)
}
fn default_version() -> String {
    "9.1.2".to_string()
}
fn default_host_cpu() -> f64 {
    0.02
}

impl NodeSpec {
    /// A PVE 9 online node with `cores` threads and `memory_gib` GiB of memory.
    pub fn new(name: impl Into<String>, cores: u32, memory_gib: u64) -> Self {
        Self {
            name: name.into(),
            cores,
            memory: ByteSize::gib(memory_gib),
            disk: default_node_disk(),
            disk_used: None,
            storage: None,
            status: NodeStatus::Online,
            version: default_version(),
            ha_maintenance: false,
            host_cpu: default_host_cpu(),
            host_memory: None,
            ip: None,
            cpu_model: None,
        }
    }

    /// Sets the PVE version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Marks the node offline.
    pub fn offline(mut self) -> Self {
        self.status = NodeStatus::Offline;
        self
    }

    /// Puts the node into HA maintenance.
    pub fn ha_maintenance(mut self) -> Self {
        self.ha_maintenance = true;
        self
    }
}

/// One guest (VM or container).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestSpec {
    /// VM/CT id.
    pub vmid: u32,
    /// `vm` (alias `qemu`) or `ct` (alias `lxc`).
    #[serde(rename = "type")]
    pub kind: GuestKind,
    /// Name (VM) or hostname (CT).
    pub name: String,
    /// The node it is on.
    pub node: String,
    /// `running` or `stopped`.
    #[serde(default)]
    pub status: GuestStatus,
    /// vCPUs (VM: sockets × cores) or CT cores.
    #[serde(default = "default_cpus")]
    pub cpus: u32,
    /// Configured memory (`maxmem`).
    pub maxmem: ByteSize,
    /// Used memory while running (default half of `maxmem`).
    #[serde(default)]
    pub mem: Option<ByteSize>,
    /// Disk size (`maxdisk`).
    #[serde(default = "default_guest_disk")]
    pub maxdisk: ByteSize,
    /// Used disk (containers only; PVE reports 0 for VMs). Default a third of `maxdisk`.
    #[serde(default)]
    pub disk: Option<ByteSize>,
    /// Mean CPU usage while running, as a fraction of its vCPUs (default 0.1).
    #[serde(default = "default_guest_cpu")]
    pub cpu: f64,
    /// Tags (stored `;`-joined, lower-cased and sorted as PVE does on write).
    #[serde(default, deserialize_with = "de_tags")]
    pub tags: Vec<String>,
    /// Pool the guest is a member of.
    #[serde(default)]
    pub pool: Option<String>,
    /// HA-managed (`ha-manager add`): migrations go through `hamigrate`.
    #[serde(default)]
    pub ha: bool,
    /// Template flag.
    #[serde(default)]
    pub template: bool,
    /// A config lock (e.g. `backup`) present from the start.
    #[serde(default)]
    pub lock: Option<String>,
}

fn default_cpus() -> u32 {
    1
}
fn default_guest_disk() -> ByteSize {
    ByteSize::gib(32)
}
fn default_guest_cpu() -> f64 {
    0.1
}

fn de_tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tags {
        List(Vec<String>),
        Joined(String),
    }
    Ok(match Tags::deserialize(d)? {
        Tags::List(v) => v,
        Tags::Joined(s) => split_tags(&s),
    })
}

/// Splits a PVE tag list on `;`, `,` or whitespace (as `PVE::Tools::split_list`).
pub fn split_tags(s: &str) -> Vec<String> {
    s.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `tag` matches PVE's `PVE_TAG_RE` (`[a-z0-9_][a-z0-9_\-\+\.]*`, case-insensitive).
pub fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))
}

impl GuestSpec {
    fn new(kind: GuestKind, vmid: u32, name: impl Into<String>, node: impl Into<String>) -> Self {
        Self {
            vmid,
            kind,
            name: name.into(),
            node: node.into(),
            status: GuestStatus::Stopped,
            cpus: default_cpus(),
            maxmem: ByteSize::gib(2),
            mem: None,
            maxdisk: default_guest_disk(),
            disk: None,
            cpu: default_guest_cpu(),
            tags: Vec::new(),
            pool: None,
            ha: false,
            template: false,
            lock: None,
        }
    }

    /// A stopped VM with 1 vCPU, 2 GiB memory and a 32 GiB disk.
    pub fn vm(vmid: u32, name: impl Into<String>, node: impl Into<String>) -> Self {
        Self::new(GuestKind::Vm, vmid, name, node)
    }

    /// A stopped container with 1 core, 2 GiB memory and a 32 GiB disk.
    pub fn ct(vmid: u32, name: impl Into<String>, node: impl Into<String>) -> Self {
        Self::new(GuestKind::Ct, vmid, name, node)
    }

    /// Marks it running.
    pub fn running(mut self) -> Self {
        self.status = GuestStatus::Running;
        self
    }

    /// Sets vCPUs and mean CPU usage (fraction of its vCPUs).
    pub fn cpus(mut self, cpus: u32, usage: f64) -> Self {
        self.cpus = cpus;
        self.cpu = usage;
        self
    }

    /// Sets configured and used memory in GiB.
    pub fn memory_gib(mut self, max: u64, used: u64) -> Self {
        self.maxmem = ByteSize::gib(max);
        self.mem = Some(ByteSize::gib(used));
        self
    }

    /// Sets the tags.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Puts it into a pool.
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.pool = Some(pool.into());
        self
    }

    /// Makes it HA-managed.
    pub fn ha(mut self) -> Self {
        self.ha = true;
        self
    }

    /// The HA resource id, e.g. `vm:100`.
    pub fn sid(&self) -> String {
        format!("{}:{}", self.kind.ha_prefix(), self.vmid)
    }
}

/// One resource pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// Pool id.
    pub poolid: String,
    /// Optional comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// HA rule type (PVE 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaRuleType {
    /// Keep resources on (a priority list of) nodes.
    NodeAffinity,
    /// Keep resources together (positive) or apart (negative).
    ResourceAffinity,
}

impl HaRuleType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NodeAffinity => "node-affinity",
            Self::ResourceAffinity => "resource-affinity",
        }
    }
}

/// Positive or negative resource affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Affinity {
    /// Together.
    Positive,
    /// Apart.
    Negative,
}

/// One HA rule (`/cluster/ha/rules`, PVE 9).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaRuleSpec {
    /// Rule id.
    pub rule: String,
    /// `node-affinity` or `resource-affinity`.
    #[serde(rename = "type")]
    pub kind: HaRuleType,
    /// HA resource ids, e.g. `[vm:100, ct:200]`.
    pub resources: Vec<String>,
    /// Node-affinity: nodes with optional priority, e.g. `[pve1:2, pve2]`.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Resource-affinity: `positive` or `negative`.
    #[serde(default)]
    pub affinity: Option<Affinity>,
    /// Node-affinity: restrict to the listed nodes.
    #[serde(default)]
    pub strict: bool,
    /// Disabled rule.
    #[serde(default)]
    pub disable: bool,
    /// Optional comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// One ACL entry: privileges (or role names) on a path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclSpec {
    /// ACL path: `/`, `/vms/100`, `/nodes/pve1`, `/pool/prod`, `/storage/local`, ...
    #[serde(default = "default_acl_path")]
    pub path: String,
    /// Privilege names (`VM.Audit`) and/or role names (`PVEAuditor`, `Administrator`, ...).
    pub privs: Vec<String>,
    /// Whether the entry also applies below `path` (default true).
    #[serde(default = "default_true")]
    pub propagate: bool,
}

fn default_acl_path() -> String {
    "/".to_string()
}
fn default_true() -> bool {
    true
}

impl AclSpec {
    /// Privileges or roles on `path`, propagating.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(path: &str, privs: I) -> Self {
        Self {
            path: path.to_string(),
            privs: privs.into_iter().map(Into::into).collect(),
            propagate: true,
        }
    }
}

/// One API token of a user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// Token name (the part after `!`).
    pub id: String,
    /// The secret (PVE uses a UUID).
    pub secret: String,
    /// Privilege separation (default true): effective rights = user's ∩ token's ACLs.
    #[serde(default = "default_true")]
    pub privsep: bool,
    /// Token ACLs (only used with `privsep`).
    #[serde(default)]
    pub acl: Vec<AclSpec>,
}

/// One user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// `user@realm`. `root@pam` always has every privilege, as in PVE.
    pub userid: String,
    /// Password for ticket login (none: token-only).
    #[serde(default)]
    pub password: Option<String>,
    /// Disabled users cannot log in and their tokens fail.
    #[serde(default = "default_true")]
    pub enable: bool,
    /// ACL entries of the user.
    #[serde(default)]
    pub acl: Vec<AclSpec>,
    /// API tokens.
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// The user has a second factor (TOTP): a password login answers `NeedTFA: 1` with a ticket
    /// that opens nothing, as PVE does until the second step (which the simulator does not
    /// offer).
    #[serde(default)]
    pub tfa: bool,
}

impl UserSpec {
    /// A user with a password and no ACLs.
    pub fn new(userid: impl Into<String>, password: Option<&str>) -> Self {
        Self {
            userid: userid.into(),
            password: password.map(str::to_string),
            enable: true,
            acl: Vec::new(),
            tokens: Vec::new(),
            tfa: false,
        }
    }

    /// Gives the user a second factor (see [`UserSpec::tfa`]).
    pub fn with_tfa(mut self) -> Self {
        self.tfa = true;
        self
    }

    /// Adds an ACL entry.
    pub fn acl(mut self, acl: AclSpec) -> Self {
        self.acl.push(acl);
        self
    }

    /// Adds an API token.
    pub fn token(mut self, id: &str, secret: &str, privsep: bool, acl: Vec<AclSpec>) -> Self {
        self.tokens.push(TokenSpec {
            id: id.to_string(),
            secret: secret.to_string(),
            privsep,
            acl,
        });
        self
    }
}

/// The whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Cluster-wide settings.
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Nodes, in `/nodes` order (the first online node answers the API, as if you were connected
    /// to it).
    pub nodes: Vec<NodeSpec>,
    /// Guests.
    #[serde(default)]
    pub guests: Vec<GuestSpec>,
    /// Pools.
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    /// HA rules: `/cluster/ha/rules` on PVE 9. Until every node runs PVE 9 the node-affinity
    /// rules are HA groups (`/cluster/ha/groups`, `ha-group-<name>` → `<name>`), as before PVE's
    /// group-to-rule migration.
    #[serde(default)]
    pub ha_rules: Vec<HaRuleSpec>,
    /// Users and their tokens.
    #[serde(default)]
    pub users: Vec<UserSpec>,
    /// Seed of the deterministic usage noise.
    #[serde(default)]
    pub seed: u64,
}

impl Scenario {
    /// An empty scenario for cluster `name` (add nodes, guests and users with the builder
    /// methods, then [`Scenario::validate`]).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            cluster: ClusterSpec {
                name: name.into(),
                ..ClusterSpec::default()
            },
            nodes: Vec::new(),
            guests: Vec::new(),
            pools: Vec::new(),
            ha_rules: Vec::new(),
            users: Vec::new(),
            seed: 0,
        }
    }

    /// Adds a node.
    pub fn node(mut self, node: NodeSpec) -> Self {
        self.nodes.push(node);
        self
    }

    /// Adds a guest.
    pub fn guest(mut self, guest: GuestSpec) -> Self {
        self.guests.push(guest);
        self
    }

    /// Adds a pool.
    pub fn pool(mut self, poolid: &str, comment: Option<&str>) -> Self {
        self.pools.push(PoolSpec {
            poolid: poolid.to_string(),
            comment: comment.map(str::to_string),
        });
        self
    }

    /// Adds an HA rule.
    pub fn ha_rule(mut self, rule: HaRuleSpec) -> Self {
        self.ha_rules.push(rule);
        self
    }

    /// Adds a user.
    pub fn user(mut self, user: UserSpec) -> Self {
        self.users.push(user);
        self
    }

    /// Sets the noise seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Parses a YAML document (JSON is valid YAML too) and validates it.
    pub fn from_yaml_str(text: &str) -> Result<Self, ScenarioError> {
        let de = serde_norway::Deserializer::from_str(text);
        let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = path_text(e.path());
            // serde_norway already prefixes its messages with the path; keep it once.
            let message = e.inner().to_string();
            let message = message
                .strip_prefix(&format!("{field}: "))
                .map_or(message.clone(), str::to_string);
            ScenarioError::Parse { field, message }
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Parses a JSON document and validates it.
    pub fn from_json_str(text: &str) -> Result<Self, ScenarioError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let scenario: Scenario =
            serde_path_to_error::deserialize(&mut de).map_err(|e| ScenarioError::Parse {
                field: path_text(e.path()),
                message: e.inner().to_string(),
            })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads a `.json`, `.yaml` or `.yml` file (other extensions are read as YAML).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            Self::from_json_str(&text)
        } else {
            Self::from_yaml_str(&text)
        }
    }

    /// Checks cross-references and value ranges; errors name the offending field.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.nodes.is_empty() {
            return Err(ScenarioError::invalid(
                "nodes",
                "at least one node is required",
            ));
        }
        let mut names = BTreeSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let f = format!("nodes[{i}]");
            if !valid_node_name(&n.name) {
                return Err(ScenarioError::invalid(
                    format!("{f}.name"),
                    format!("invalid node name {:?}", n.name),
                ));
            }
            if !names.insert(n.name.as_str()) {
                return Err(ScenarioError::invalid(
                    format!("{f}.name"),
                    format!("duplicate node name {:?}", n.name),
                ));
            }
            if n.cores == 0 {
                return Err(ScenarioError::invalid(format!("{f}.cores"), "must be > 0"));
            }
            if n.memory.0 == 0 {
                return Err(ScenarioError::invalid(format!("{f}.memory"), "must be > 0"));
            }
            if n.disk.0 == 0 {
                return Err(ScenarioError::invalid(format!("{f}.disk"), "must be > 0"));
            }
            if parse_version(&n.version).is_none() {
                return Err(ScenarioError::invalid(
                    format!("{f}.version"),
                    format!("invalid PVE version {:?} (expected e.g. 9.1.2)", n.version),
                ));
            }
            if !(0.0..=1.0).contains(&n.host_cpu) {
                return Err(ScenarioError::invalid(
                    format!("{f}.host_cpu"),
                    "must be a fraction between 0 and 1",
                ));
            }
        }
        if !self.nodes.iter().any(|n| n.status == NodeStatus::Online) {
            return Err(ScenarioError::invalid(
                "nodes",
                "at least one node must be online (it answers the API)",
            ));
        }
        let pools: BTreeSet<&str> = self.pools.iter().map(|p| p.poolid.as_str()).collect();
        for (i, p) in self.pools.iter().enumerate() {
            if p.poolid.is_empty() || p.poolid.contains('/') {
                return Err(ScenarioError::invalid(
                    format!("pools[{i}].poolid"),
                    format!("invalid pool id {:?}", p.poolid),
                ));
            }
        }
        if pools.len() != self.pools.len() {
            return Err(ScenarioError::invalid("pools", "duplicate pool id"));
        }
        let mut vmids = BTreeSet::new();
        for (i, g) in self.guests.iter().enumerate() {
            let f = format!("guests[{i}]");
            if !(100..=999_999_999).contains(&g.vmid) {
                return Err(ScenarioError::invalid(
                    format!("{f}.vmid"),
                    "must be between 100 and 999999999",
                ));
            }
            if !vmids.insert(g.vmid) {
                return Err(ScenarioError::invalid(
                    format!("{f}.vmid"),
                    format!("duplicate vmid {}", g.vmid),
                ));
            }
            if !names.contains(g.node.as_str()) {
                return Err(ScenarioError::invalid(
                    format!("{f}.node"),
                    format!("unknown node {:?}", g.node),
                ));
            }
            if g.cpus == 0 {
                return Err(ScenarioError::invalid(format!("{f}.cpus"), "must be > 0"));
            }
            if !(0.0..=1.0).contains(&g.cpu) {
                return Err(ScenarioError::invalid(
                    format!("{f}.cpu"),
                    "must be a fraction between 0 and 1",
                ));
            }
            if g.mem.is_some_and(|m| m > g.maxmem) {
                return Err(ScenarioError::invalid(
                    format!("{f}.mem"),
                    "must not exceed maxmem",
                ));
            }
            if g.disk.is_some_and(|d| d > g.maxdisk) {
                return Err(ScenarioError::invalid(
                    format!("{f}.disk"),
                    "must not exceed maxdisk",
                ));
            }
            for (j, t) in g.tags.iter().enumerate() {
                if !valid_tag(t) {
                    return Err(ScenarioError::invalid(
                        format!("{f}.tags[{j}]"),
                        format!("invalid tag {t:?}"),
                    ));
                }
            }
            if let Some(p) = &g.pool {
                if !pools.contains(p.as_str()) {
                    return Err(ScenarioError::invalid(
                        format!("{f}.pool"),
                        format!("unknown pool {p:?}"),
                    ));
                }
            }
        }
        let sids: BTreeSet<String> = self.guests.iter().map(GuestSpec::sid).collect();
        let mut rule_ids = BTreeSet::new();
        for (i, r) in self.ha_rules.iter().enumerate() {
            let f = format!("ha_rules[{i}]");
            if !rule_ids.insert(r.rule.as_str()) {
                return Err(ScenarioError::invalid(
                    format!("{f}.rule"),
                    format!("duplicate rule {:?}", r.rule),
                ));
            }
            if r.resources.is_empty() {
                return Err(ScenarioError::invalid(
                    format!("{f}.resources"),
                    "at least one resource is required",
                ));
            }
            for (j, sid) in r.resources.iter().enumerate() {
                if !sids.contains(sid) {
                    return Err(ScenarioError::invalid(
                        format!("{f}.resources[{j}]"),
                        format!("unknown HA resource {sid:?} (expected vm:<vmid> or ct:<vmid> of a guest)"),
                    ));
                }
            }
            match r.kind {
                HaRuleType::NodeAffinity => {
                    if r.nodes.is_empty() {
                        return Err(ScenarioError::invalid(
                            format!("{f}.nodes"),
                            "a node-affinity rule needs nodes",
                        ));
                    }
                    for (j, n) in r.nodes.iter().enumerate() {
                        let (name, prio) = n.split_once(':').unwrap_or((n, "0"));
                        if !names.contains(name) || prio.parse::<u32>().is_err() {
                            return Err(ScenarioError::invalid(
                                format!("{f}.nodes[{j}]"),
                                format!("expected <node>[:<priority>] of a known node, got {n:?}"),
                            ));
                        }
                    }
                }
                HaRuleType::ResourceAffinity => {
                    if r.affinity.is_none() {
                        return Err(ScenarioError::invalid(
                            format!("{f}.affinity"),
                            "a resource-affinity rule needs affinity: positive|negative",
                        ));
                    }
                }
            }
        }
        let mut userids = BTreeSet::new();
        for (i, u) in self.users.iter().enumerate() {
            let f = format!("users[{i}]");
            let valid = u
                .userid
                .split_once('@')
                .is_some_and(|(n, r)| !n.is_empty() && !r.is_empty() && !u.userid.contains('!'));
            if !valid {
                return Err(ScenarioError::invalid(
                    format!("{f}.userid"),
                    format!("expected user@realm, got {:?}", u.userid),
                ));
            }
            if !userids.insert(u.userid.as_str()) {
                return Err(ScenarioError::invalid(
                    format!("{f}.userid"),
                    format!("duplicate user {:?}", u.userid),
                ));
            }
            check_acls(&u.acl, &format!("{f}.acl"))?;
            let mut token_ids = BTreeSet::new();
            for (j, t) in u.tokens.iter().enumerate() {
                let tf = format!("{f}.tokens[{j}]");
                let ok = !t.id.is_empty()
                    && t.id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if !ok || !token_ids.insert(t.id.as_str()) {
                    return Err(ScenarioError::invalid(
                        format!("{tf}.id"),
                        format!("invalid or duplicate token id {:?}", t.id),
                    ));
                }
                if t.secret.is_empty() || t.secret.contains(char::is_whitespace) {
                    return Err(ScenarioError::invalid(
                        format!("{tf}.secret"),
                        "must be non-empty without whitespace",
                    ));
                }
                check_acls(&t.acl, &format!("{tf}.acl"))?;
            }
        }
        if let Some(crs) = &self.cluster.crs {
            let needs_92 = crs.keys().any(|k| k.starts_with("ha-auto-rebalance"));
            let all_92 = self
                .nodes
                .iter()
                .all(|n| parse_version(&n.version).is_some_and(|v| v >= (9, 2, 0)));
            if needs_92 && !all_92 {
                return Err(ScenarioError::invalid(
                    "cluster.crs",
                    "ha-auto-rebalance settings need every node on PVE 9.2 or newer",
                ));
            }
        }
        Ok(())
    }
}

fn check_acls(acls: &[AclSpec], field: &str) -> Result<(), ScenarioError> {
    for (k, a) in acls.iter().enumerate() {
        if !a.path.starts_with('/') {
            return Err(ScenarioError::invalid(
                format!("{field}[{k}].path"),
                format!("ACL path must start with '/', got {:?}", a.path),
            ));
        }
        if let Err(PrivError::Unknown { index, name }) = expand_privileges(&a.privs) {
            return Err(ScenarioError::invalid(
                format!("{field}[{k}].privs[{index}]"),
                format!("unknown privilege or role {name:?}"),
            ));
        }
    }
    Ok(())
}

fn valid_node_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
}

/// Parses `9.1.2` (or `9.1`, `8.4.1-1`) into a comparable triple.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let core = v.split(['-', '~', '+']).next()?;
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map_or(Some(0), |s| s.parse().ok())?;
    let patch = it.next().map_or(Some(0), |s| s.parse().ok())?;
    if it.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

fn path_text(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s.is_empty() {
        ".".to_string()
    } else {
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MINIMAL: &str = "
nodes:
  - {name: pve1, cores: 8, memory: 32G}
  - {name: pve2, cores: 8, memory: 34359738368}
guests:
  - {vmid: 100, type: vm, name: a, node: pve1, maxmem: 2G, tags: 'b;a'}
";

    #[test]
    fn byte_sizes() {
        assert_eq!(ByteSize::parse("1K"), Some(ByteSize(1024)));
        assert_eq!(ByteSize::parse("1.5G"), Some(ByteSize(1_610_612_736)));
        assert_eq!(ByteSize::parse("64GiB"), Some(ByteSize::gib(64)));
        assert_eq!(ByteSize::parse("512MB"), Some(ByteSize::mib(512)));
        assert_eq!(ByteSize::parse("100"), Some(ByteSize(100)));
        assert_eq!(ByteSize::parse("12X"), None);
        assert_eq!(ByteSize::parse(""), None);
    }

    #[test]
    fn minimal_yaml_parses() {
        let s = Scenario::from_yaml_str(MINIMAL).unwrap();
        assert_eq!(s.nodes[0].memory, ByteSize::gib(32));
        assert_eq!(s.nodes[1].memory, ByteSize::gib(32));
        assert_eq!(s.guests[0].tags, vec!["b", "a"]);
        assert_eq!(s.nodes[0].version, "9.1.2");
    }

    #[test]
    fn parse_error_names_the_field() {
        let bad = MINIMAL.replace("memory: 34359738368", "memory: [1, 2]");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.field(), Some("nodes[1].memory"));
        let text = err.to_string();
        assert!(text.starts_with("nodes[1].memory: invalid type"), "{text}");

        let bad = MINIMAL.replace("memory: 32G", "memory: 32Q");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.field(), Some("nodes[0].memory"));

        let bad = MINIMAL.replace("type: vm", "type: kvm");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.field(), Some("guests[0].type"), "{err}");

        let bad = MINIMAL.replace(
            "cores: 8, memory: 32G",
            "cores: 8, memory: 32G, colour: red",
        );
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn json_error_names_the_field() {
        let err = Scenario::from_json_str(r#"{"nodes":[{"name":"a","cores":"many","memory":1}]}"#)
            .unwrap_err();
        assert_eq!(err.field(), Some("nodes[0].cores"));
    }

    #[test]
    fn validation_errors_name_the_field() {
        let bad = MINIMAL.replace("node: pve1", "node: pve9");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.to_string(), "guests[0].node: unknown node \"pve9\"");

        let bad = format!("{MINIMAL}users:\n  - userid: bob@pve\n    acl: [{{path: /, privs: [VM.Audit, Sys.Fly]}}]\n");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.field(), Some("users[0].acl[0].privs[1]"));

        let bad = format!("{MINIMAL}ha_rules:\n  - {{rule: r, type: node-affinity, resources: ['vm:101'], nodes: [pve1]}}\n");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.field(), Some("ha_rules[0].resources[0]"));

        let bad = MINIMAL.replace("tags: 'b;a'", "tags: ['ok', 'not ok!']");
        let err = Scenario::from_yaml_str(&bad).unwrap_err();
        assert_eq!(err.field(), Some("guests[0].tags[1]"));
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("9.1.2"), Some((9, 1, 2)));
        assert_eq!(parse_version("8.4"), Some((8, 4, 0)));
        assert_eq!(parse_version("9.0.3-1"), Some((9, 0, 3)));
        assert_eq!(parse_version("nine"), None);
    }
}
