//! ProxLB 2.3.0 configuration (`proxlb.yaml`) as typed serde structures with ProxLB's defaults.
//!
//! Keys match ProxLB's pydantic model exactly (`user`, `pass`, `pre-migration`, …). Unknown keys and
//! sections are tolerated, as ProxLB ignores them; wrong types and missing required keys
//! (`proxmox_api`, `proxmox_api.hosts`, `proxmox_api.user`) fail, as in ProxLB.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Default Proxmox API port.
pub const DEFAULT_API_PORT: u16 = 8006;

/// The whole ProxLB configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxLbConfig {
    /// API endpoints and credentials (required).
    pub proxmox_api: ProxmoxApiConfig,
    /// Maintenance and ignore lists.
    #[serde(default)]
    pub proxmox_cluster: ProxmoxClusterConfig,
    /// Balancing behaviour.
    #[serde(default)]
    pub balancing: BalancingConfig,
    /// Daemon behaviour.
    #[serde(default)]
    pub service: ServiceConfig,
    /// Optional CP-SAT solver integration.
    #[serde(default)]
    pub solver: SolverConfig,
}

impl ProxLbConfig {
    /// A configuration with the given API hosts and user and ProxLB's defaults everywhere else.
    pub fn with_api(hosts: Vec<String>, user: impl Into<String>) -> Self {
        Self {
            proxmox_api: ProxmoxApiConfig {
                hosts,
                user: user.into(),
                pass: None,
                token_id: None,
                token_secret: None,
                ssl_verification: true,
                timeout: 1,
                retries: 1,
                wait_time: 1,
            },
            proxmox_cluster: ProxmoxClusterConfig::default(),
            balancing: BalancingConfig::default(),
            service: ServiceConfig::default(),
            solver: SolverConfig::default(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_one_i64() -> i64 {
    1
}

/// `proxmox_api` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxmoxApiConfig {
    /// Endpoints; see [`parse_api_host`] for the accepted forms.
    pub hosts: Vec<String>,
    /// `user@realm` (also the token owner).
    pub user: String,
    /// Password for ticket login. A [`Secret`]: `Debug` and `Serialize` show [`SECRET_MASK`];
    /// unset stays `None`, so a display can still tell "not set" from "set".
    #[serde(default)]
    pub pass: Option<Secret>,
    /// Token name only (no `@` or `!`).
    #[serde(default)]
    pub token_id: Option<String>,
    /// Token secret; mutually exclusive with `pass`. A [`Secret`] like `pass`.
    #[serde(default)]
    pub token_secret: Option<Secret>,
    /// Verify TLS certificates.
    #[serde(default = "default_true")]
    pub ssl_verification: bool,
    /// Per-request timeout in seconds (ProxLB's default is 1).
    #[serde(default = "default_one_i64")]
    pub timeout: i64,
    /// TCP probes per host at startup.
    #[serde(default = "default_one_i64")]
    pub retries: i64,
    /// Seconds between probes.
    #[serde(default = "default_one_i64")]
    pub wait_time: i64,
}

impl ProxmoxApiConfig {
    /// Parses every entry of `hosts` (see [`parse_api_host`]).
    pub fn api_hosts(&self) -> Vec<Result<ApiHost, HostParseError>> {
        self.hosts.iter().map(|h| parse_api_host(h)).collect()
    }
}

/// `proxmox_cluster.maintenance_nodes_schedule`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceSchedule {
    /// Window length in hours after the start.
    #[serde(default)]
    pub duration: u32,
    /// Minutes before the start at which maintenance begins.
    #[serde(default, rename = "pre-migration")]
    pub pre_migration: u32,
    /// Node name → weekly starts such as `"Monday, 8:00"` (local time).
    #[serde(default)]
    pub schedules: BTreeMap<String, Vec<String>>,
}

/// `proxmox_cluster` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxmoxClusterConfig {
    /// Exact node names to put into maintenance.
    #[serde(default)]
    pub maintenance_nodes: Vec<String>,
    /// Weekly maintenance windows.
    #[serde(default)]
    pub maintenance_nodes_schedule: MaintenanceSchedule,
    /// Nodes left out entirely, together with their guests.
    #[serde(default)]
    pub ignore_nodes: Vec<String>,
    /// Parsed but not read anywhere in ProxLB 2.3.0.
    #[serde(default)]
    pub overprovisioning: bool,
}

/// A resource ProxLB can balance by (`balancing.method`, keys of `psi` and reservations).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    /// Memory.
    #[default]
    Memory,
    /// CPU.
    Cpu,
    /// Disk (node root filesystem; PSI `io`).
    Disk,
}

impl Resource {
    /// All resources.
    pub const ALL: [Resource; 3] = [Resource::Memory, Resource::Cpu, Resource::Disk];

    /// ProxLB's lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Memory => "memory",
            Resource::Cpu => "cpu",
            Resource::Disk => "disk",
        }
    }
}

/// How a resource is measured (`balancing.mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Current usage.
    #[default]
    Used,
    /// Sum of what running guests are assigned.
    Assigned,
    /// Pressure stall information.
    Psi,
}

impl Mode {
    /// All modes.
    pub const ALL: [Mode; 3] = [Mode::Used, Mode::Assigned, Mode::Psi];
}

/// Guest types in `balancing.balance_types`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BalanceType {
    /// Virtual machines.
    Vm,
    /// Containers.
    Ct,
}

/// Affinity kind of a pool rule (`balancing.pools.<pool>.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AffinityType {
    /// `affinity`: keep together.
    #[serde(rename = "affinity")]
    Affinity,
    /// `anti-affinity`: keep apart.
    #[serde(rename = "anti-affinity")]
    AntiAffinity,
}

impl AffinityType {
    /// The word ProxLB's config uses for it, as shown in the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            AffinityType::Affinity => "affinity",
            AffinityType::AntiAffinity => "anti-affinity",
        }
    }
}

/// One pool rule (`balancing.pools.<pool>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRuleConfig {
    /// Affinity kind; `None` only pins.
    #[serde(default, rename = "type")]
    pub kind: Option<AffinityType>,
    /// Nodes the pool's guests are pinned to.
    #[serde(default)]
    pub pin: Option<Vec<String>>,
    /// Strict pinning (default true); non-strict also allows the most free node.
    #[serde(default = "default_true")]
    pub strict: bool,
}

/// PSI thresholds of one resource.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PsiThreshold {
    /// `full` pressure threshold, percent.
    pub pressure_full: f64,
    /// `some` pressure threshold, percent.
    pub pressure_some: f64,
    /// `full` spike threshold, percent.
    pub pressure_spikes: f64,
}

/// `balancing.psi`: thresholds for nodes and guests (both keys required when the block is present).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PsiConfig {
    /// Thresholds per resource for guests.
    pub guests: BTreeMap<Resource, PsiThreshold>,
    /// Thresholds per resource for nodes.
    pub nodes: BTreeMap<Resource, PsiThreshold>,
}

/// `balancing` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BalancingConfig {
    /// Issue migrations (the calculation runs either way). Default false.
    pub enable: bool,
    /// Configured value; ProxLB overwrites it every run from the current violations.
    pub enforce_affinity: bool,
    /// Run the relocation pass even when balanced.
    pub enforce_pinning: bool,
    /// Guest names to ignore.
    pub ignore_guests: Vec<String>,
    /// Live-migrate VMs.
    pub live: bool,
    /// Send `with-local-disks`.
    pub with_local_disks: bool,
    /// Send `with-conntrack-state` (switched off when any node runs PVE < 9).
    pub with_conntrack_state: bool,
    /// Guest types that may be migrated; empty (the default) migrates nothing.
    pub balance_types: Vec<BalanceType>,
    /// Parallel migrations.
    pub parallel: bool,
    /// Size of the migration queue when `parallel`.
    pub parallel_jobs: i64,
    /// Status polls per job (not seconds).
    pub max_job_validation: i64,
    /// Allowed spread in percentage points.
    pub balanciness: i64,
    /// Memory threshold, percent.
    pub memory_threshold: Option<i64>,
    /// CPU threshold, percent.
    pub cpu_threshold: Option<i64>,
    /// Disk threshold, percent.
    pub disk_threshold: Option<i64>,
    /// Resource balanced by.
    pub method: Resource,
    /// How the resource is measured.
    pub mode: Mode,
    /// Process larger affinity groups first.
    pub balance_larger_guests_first: bool,
    /// GiB taken off a node's capacity: node name or `defaults` → resource → GiB.
    pub node_resource_reserve: Option<BTreeMap<String, BTreeMap<Resource, i64>>>,
    /// PSI thresholds; without them nothing is ever hot.
    pub psi: Option<PsiConfig>,
    /// Rules per Proxmox pool.
    pub pools: Option<BTreeMap<String, PoolRuleConfig>>,
    /// Solver only.
    pub cpu_overcommit: f64,
    /// Solver only.
    pub max_node_inflow: Option<i64>,
}

impl Default for BalancingConfig {
    fn default() -> Self {
        Self {
            enable: false,
            enforce_affinity: false,
            enforce_pinning: false,
            ignore_guests: Vec::new(),
            live: true,
            with_local_disks: true,
            with_conntrack_state: true,
            balance_types: Vec::new(),
            parallel: false,
            parallel_jobs: 5,
            max_job_validation: 1800,
            balanciness: 10,
            memory_threshold: None,
            cpu_threshold: None,
            disk_threshold: None,
            method: Resource::Memory,
            mode: Mode::Used,
            balance_larger_guests_first: false,
            node_resource_reserve: None,
            psi: None,
            pools: None,
            cpu_overcommit: 2.0,
            max_node_inflow: Some(1),
        }
    }
}

impl BalancingConfig {
    /// The configured threshold for a resource.
    pub fn threshold(&self, resource: Resource) -> Option<i64> {
        match resource {
            Resource::Memory => self.memory_threshold,
            Resource::Cpu => self.cpu_threshold,
            Resource::Disk => self.disk_threshold,
        }
    }

    /// The threshold ProxLB actually applies: it tests `if threshold := …`, so 0 counts as unset.
    pub fn effective_threshold(&self, resource: Resource) -> Option<i64> {
        self.threshold(resource).filter(|t| *t != 0)
    }

    /// Effective size of the migration queue (`parallel: false` forces 1, a limit below 1 becomes 1).
    pub fn parallel_job_limit(&self) -> i64 {
        if !self.parallel || self.parallel_jobs < 1 {
            1
        } else {
            self.parallel_jobs
        }
    }
}

/// Unit of `service.schedule` and `service.delay`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeFormat {
    /// Hours.
    #[default]
    Hours,
    /// Minutes.
    Minutes,
}

impl TimeFormat {
    /// Seconds per unit.
    pub fn seconds(self) -> i64 {
        match self {
            TimeFormat::Hours => 3600,
            TimeFormat::Minutes => 60,
        }
    }
}

/// `service.schedule`: sleep between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleConfig {
    /// Amount.
    pub interval: i64,
    /// Unit.
    pub format: TimeFormat,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            interval: 12,
            format: TimeFormat::Hours,
        }
    }
}

/// `service.delay`: one-time sleep before the first login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DelayConfig {
    /// Whether the delay applies.
    pub enable: bool,
    /// Amount.
    pub time: i64,
    /// Unit.
    pub format: TimeFormat,
}

impl Default for DelayConfig {
    fn default() -> Self {
        Self {
            enable: false,
            time: 1,
            format: TimeFormat::Hours,
        }
    }
}

/// `service.log_level`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// CRITICAL.
    Critical,
    /// DEBUG.
    Debug,
    /// ERROR.
    Error,
    /// INFO.
    #[default]
    Info,
    /// WARNING.
    Warning,
}

/// `service` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceConfig {
    /// Loop forever (default true).
    pub daemon: bool,
    /// Run only on the PVE HA master node.
    pub enable_ha: bool,
    /// Interval between runs.
    pub schedule: ScheduleConfig,
    /// Start delay.
    pub delay: DelayConfig,
    /// Log threshold.
    pub log_level: LogLevel,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            daemon: true,
            enable_ha: false,
            schedule: ScheduleConfig::default(),
            delay: DelayConfig::default(),
            log_level: LogLevel::Info,
        }
    }
}

/// `solver.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SolverMode {
    /// Observe only.
    #[default]
    Shadow,
    /// The solver drives migrations.
    Active,
}

/// `solver` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SolverConfig {
    /// Turn the solver on.
    pub enable: bool,
    /// Shadow or active.
    pub mode: SolverMode,
    /// Directory for JSONL run logs.
    pub log_dir: String,
    /// Time limit per solve.
    pub timeout_seconds: f64,
    /// Apply reservations as hard constraints.
    pub use_reservations: bool,
    /// Re-solves after a failed step.
    pub active_step_retries: i64,
    /// Fall back to the greedy balancer when the solver fails.
    pub fallback_to_greedy: bool,
}

impl Default for SolverConfig {
    fn default() -> Self {
        Self {
            enable: false,
            mode: SolverMode::Shadow,
            log_dir: "/var/log/proxlb/solver".to_owned(),
            timeout_seconds: 30.0,
            use_reservations: true,
            active_step_retries: 3,
            fallback_to_greedy: true,
        }
    }
}

/// One API endpoint after parsing an entry of `proxmox_api.hosts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiHost {
    /// Host name or address, without brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Why an entry of `hosts` cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum HostParseError {
    /// `host:port` whose port is not a number (ProxLB crashes with a ValueError here).
    #[error("invalid port {port:?} in host entry {entry:?}")]
    InvalidPort {
        /// The whole entry.
        entry: String,
        /// The text after the colon.
        port: String,
    },
    /// A port outside 0–65535.
    #[error("port {port} out of range in host entry {entry:?}")]
    PortOutOfRange {
        /// The whole entry.
        entry: String,
        /// The number given.
        port: String,
    },
}

fn parse_port(entry: &str, text: &str) -> Result<u16, HostParseError> {
    text.parse::<u16>()
        .map_err(|_| HostParseError::PortOutOfRange {
            entry: entry.to_owned(),
            port: text.to_owned(),
        })
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Parses one `hosts` entry exactly like ProxLB's `get_host_port_from_string`:
///
/// - `[v6]` or `[v6]:port` → the bracketed address, port or 8006;
/// - no colon (`host`) → port 8006;
/// - one colon (`host:port`) → the port must be a number;
/// - two or more colons (bare IPv6) → the part after the **last** colon is the port if it is a
///   number, otherwise the whole entry is the host with port 8006. So `fe01::cafe` keeps its
///   last group, but `fe01::1` becomes host `fe01:` with port 1 (a ProxLB quirk).
pub fn parse_api_host(entry: &str) -> Result<ApiHost, HostParseError> {
    let host = |h: &str, port: u16| ApiHost {
        host: h.to_owned(),
        port,
    };
    // Regex in ProxLB: ^\[(.+)\](?::(\d+))?$
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some(inner) = rest.strip_suffix(']') {
            if !inner.is_empty() {
                return Ok(host(inner, DEFAULT_API_PORT));
            }
        }
        if let Some((inner, port)) = rest.rsplit_once("]:") {
            if !inner.is_empty() && all_digits(port) {
                return Ok(host(inner, parse_port(entry, port)?));
            }
        }
    }
    match entry.matches(':').count() {
        0 => Ok(host(entry, DEFAULT_API_PORT)),
        1 => {
            let (name, port) = entry.split_once(':').unwrap_or((entry, ""));
            let trimmed = port.trim();
            if all_digits(trimmed) {
                Ok(host(name, parse_port(entry, trimmed)?))
            } else {
                Err(HostParseError::InvalidPort {
                    entry: entry.to_owned(),
                    port: port.to_owned(),
                })
            }
        }
        _ => {
            let (name, port) = entry.rsplit_once(':').unwrap_or((entry, ""));
            if all_digits(port) {
                Ok(host(name, parse_port(entry, port)?))
            } else {
                Ok(host(entry, DEFAULT_API_PORT))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(entry: &str) -> (String, u16) {
        let parsed = parse_api_host(entry).unwrap();
        (parsed.host, parsed.port)
    }

    #[test]
    fn host_forms() {
        assert_eq!(
            ok("virt01.example.com"),
            ("virt01.example.com".into(), 8006)
        );
        assert_eq!(ok("10.10.10.10"), ("10.10.10.10".into(), 8006));
        assert_eq!(ok("virt01:443"), ("virt01".into(), 443));
        assert_eq!(ok("10.0.0.1:8007"), ("10.0.0.1".into(), 8007));
        assert_eq!(ok("[fc00::1]"), ("fc00::1".into(), 8006));
        assert_eq!(ok("[fc00::1]:8443"), ("fc00::1".into(), 8443));
        assert_eq!(
            ok("fe01:bad:code::cafe"),
            ("fe01:bad:code::cafe".into(), 8006)
        );
        assert_eq!(ok("fc00::1:8006"), ("fc00::1".into(), 8006));
    }

    #[test]
    fn bare_v6_ending_in_digits_is_read_as_a_port() {
        // ProxLB quirk: the last group of a bare IPv6 address is taken as the port.
        assert_eq!(ok("fe01:bad:code::1"), ("fe01:bad:code:".into(), 1));
        assert_eq!(ok("fe01::"), ("fe01::".into(), 8006));
    }

    #[test]
    fn bad_ports_are_errors() {
        assert!(matches!(
            parse_api_host("virt01:https"),
            Err(HostParseError::InvalidPort { .. })
        ));
        assert!(matches!(
            parse_api_host("virt01:"),
            Err(HostParseError::InvalidPort { .. })
        ));
        assert!(matches!(
            parse_api_host("virt01:70000"),
            Err(HostParseError::PortOutOfRange { .. })
        ));
        assert!(matches!(
            parse_api_host("[fc00::1]:99999"),
            Err(HostParseError::PortOutOfRange { .. })
        ));
        // Not the bracket form (non-numeric port): falls through to the bare-v6 rule like ProxLB.
        assert_eq!(ok("[fc00::1]:abc"), ("[fc00::1]:abc".into(), 8006));
    }

    #[test]
    fn minimal_config_gets_proxlb_defaults() {
        let config: ProxLbConfig =
            serde_json::from_str(r#"{"proxmox_api":{"hosts":["pve1"],"user":"root@pam"}}"#)
                .unwrap();
        assert_eq!(
            config,
            ProxLbConfig::with_api(vec!["pve1".into()], "root@pam")
        );
        assert_eq!(config.proxmox_api.timeout, 1);
        assert!(!config.balancing.enable);
        assert!(config.balancing.balance_types.is_empty());
        assert_eq!(config.balancing.balanciness, 10);
        assert_eq!(config.balancing.method, Resource::Memory);
        assert_eq!(config.balancing.mode, Mode::Used);
        assert_eq!(config.balancing.parallel_jobs, 5);
        assert_eq!(config.balancing.max_job_validation, 1800);
        assert!(config.service.daemon);
        assert_eq!(config.service.schedule.interval, 12);
        assert_eq!(config.service.schedule.format, TimeFormat::Hours);
        assert_eq!(config.solver.log_dir, "/var/log/proxlb/solver");
        assert_eq!(config.balancing.parallel_job_limit(), 1);
    }

    #[test]
    fn shipped_example_parses_with_exact_keys_and_unknown_keys_are_ignored() {
        let json = r#"{
          "proxmox_api": {"hosts": ["virt01.example.com","10.10.10.10","fe01:bad:code::cafe"],
            "user": "root@pam", "pass": "crazyPassw0rd!", "ssl_verification": true, "timeout": 10,
            "unknown_key": 1},
          "proxmox_cluster": {"maintenance_nodes": ["virt66.example.com"],
            "maintenance_nodes_schedule": {"duration": 3, "pre-migration": 10,
              "schedules": {"virt77.example.com": ["Monday, 8:00"]}},
            "ignore_nodes": [], "overprovisioning": true},
          "balancing": {"enable": true, "enforce_affinity": false, "enforce_pinning": false,
            "parallel": false, "parallel_jobs": 1, "live": true, "with_local_disks": true,
            "with_conntrack_state": true, "cpu_overcommit": 2.0, "max_node_inflow": 1,
            "balance_types": ["vm","ct"], "max_job_validation": 1800, "memory_threshold": 75,
            "cpu_threshold": 75, "balanciness": 5, "method": "memory", "mode": "used",
            "balance_larger_guests_first": false,
            "node_resource_reserve": {"defaults": {"memory": 4}, "node01": {"memory": 6}},
            "pools": {"dev": {"type": "affinity"},
                      "de-nbg01-db": {"type": "anti-affinity", "pin": ["virt66","virt77"], "strict": false}}},
          "service": {"daemon": true, "enable_ha": true, "schedule": {"interval": 12, "format": "hours"},
            "delay": {"enable": false, "time": 1, "format": "hours"}, "log_level": "INFO"},
          "unknown_section": {"x": 1}
        }"#;
        let config: ProxLbConfig = serde_json::from_str(json).unwrap();
        assert_eq!(
            config
                .proxmox_cluster
                .maintenance_nodes_schedule
                .pre_migration,
            10
        );
        assert_eq!(
            config.balancing.balance_types,
            vec![BalanceType::Vm, BalanceType::Ct]
        );
        let pools = config.balancing.pools.clone().unwrap();
        assert_eq!(pools["dev"].kind, Some(AffinityType::Affinity));
        assert!(pools["dev"].strict);
        assert!(!pools["de-nbg01-db"].strict);
        assert_eq!(
            config.balancing.node_resource_reserve.as_ref().unwrap()["node01"][&Resource::Memory],
            6
        );
        // Serialising writes ProxLB's own spellings back, secrets masked.
        assert_eq!(
            config.proxmox_api.pass.as_ref().map(Secret::expose),
            Some("crazyPassw0rd!")
        );
        let out = serde_json::to_string(&config).unwrap();
        assert!(out.contains(r#""pass":"********""#), "{out}");
        assert!(!out.contains("crazyPassw0rd!"), "{out}");
        assert!(out.contains(r#""pre-migration":10"#));
        assert!(out.contains(r#""type":"anti-affinity""#));
        for kind in [AffinityType::Affinity, AffinityType::AntiAffinity] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn missing_required_keys_and_wrong_types_fail() {
        assert!(serde_json::from_str::<ProxLbConfig>(r#"{}"#).is_err());
        assert!(serde_json::from_str::<ProxLbConfig>(r#"{"proxmox_api":{"hosts":[]}}"#).is_err());
        // The 1.1.0 form `schedule: 12` fails in 2.x too.
        assert!(serde_json::from_str::<ProxLbConfig>(
            r#"{"proxmox_api":{"hosts":[],"user":"u"},"service":{"schedule":12}}"#
        )
        .is_err());
        assert!(serde_json::from_str::<ProxLbConfig>(
            r#"{"proxmox_api":{"hosts":[],"user":"u"},"balancing":{"mode":"bytes"}}"#
        )
        .is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_or_serialized_config() {
        let mut config = ProxLbConfig::with_api(vec!["pve1".into()], "root@pam");
        config.proxmox_api.pass = Some(Secret::new("hunter2-pass"));
        let debug = format!("{config:?} {:#?}", config.proxmox_api);
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains(crate::secret::SECRET_MASK), "{debug}");
        assert!(debug.contains("root@pam"), "{debug}");
        config.proxmox_api.pass = None;
        config.proxmox_api.token_id = Some("proxlb".into());
        config.proxmox_api.token_secret = Some(Secret::new("430e308f-token"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("430e308f"), "{debug}");
        let json = serde_json::to_string(&config).unwrap();
        assert!(!json.contains("430e308f"), "{json}");
        // An unset secret stays unset, so a display can tell "not set" from "set".
        assert!(json.contains(r#""pass":null"#), "{json}");
        assert!(json.contains(r#""token_id":"proxlb""#), "{json}");
        // Reading a file keeps the value for the connection.
        let read: ProxLbConfig = serde_json::from_str(
            r#"{"proxmox_api":{"hosts":["pve1"],"user":"root@pam","token_id":"proxlb","token_secret":"430e308f-token"}}"#,
        )
        .unwrap();
        assert_eq!(
            read.proxmox_api.token_secret.as_ref().map(Secret::expose),
            Some("430e308f-token")
        );
        assert!(!format!("{read:?}").contains("430e308f"));
    }

    #[test]
    fn threshold_zero_counts_as_unset() {
        let mut balancing = BalancingConfig {
            memory_threshold: Some(0),
            cpu_threshold: Some(80),
            ..BalancingConfig::default()
        };
        assert_eq!(balancing.effective_threshold(Resource::Memory), None);
        assert_eq!(balancing.effective_threshold(Resource::Cpu), Some(80));
        assert_eq!(balancing.effective_threshold(Resource::Disk), None);
        balancing.parallel = true;
        balancing.parallel_jobs = 0;
        assert_eq!(balancing.parallel_job_limit(), 1);
        balancing.parallel_jobs = 3;
        assert_eq!(balancing.parallel_job_limit(), 3);
    }
}
