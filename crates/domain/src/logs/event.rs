//! The typed meaning of one ProxLB log message: a variant per message template of ProxLB 2.3.0
//! (plus the 1.x lines a UI needs), [`LogEvent::Other`] for the rest.
//!
//! Sources are paths in the ProxLB 2.3.0 sdist on PyPI (`proxlb/...`) unless marked otherwise;
//! `[D]` marks templates ProxLB logs only at DEBUG. [`LogEvent::render`] writes a variant back
//! as the message text ProxLB would have logged; the parser ([`super::parse_message`]) is its
//! inverse, which the property tests check for every template.

use serde::{Deserialize, Serialize};

use crate::proxlb::cluster::GuestKind;
use crate::proxlb::config::TimeFormat;

/// `Starting:` or `Finished:` in ProxLB's DEBUG step markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepPhase {
    /// `Starting: {what}`.
    Starting,
    /// `Finished: {what}`.
    Finished,
}

/// Who put a node into maintenance (`Node: {n} has been set to maintenance mode (by …).`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceBy {
    /// `maintenance_nodes_schedule` (`utils/helper.py:183`).
    Schedule,
    /// `maintenance_nodes` in the config (`models/nodes.py:159`).
    Config,
    /// The Proxmox HA stack (`models/nodes.py:169`).
    HaApi,
}

/// RRD consolidation function whose fetch failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RrdCf {
    /// `AVERAGE`.
    Average,
    /// `MAX`.
    Max,
}

/// What a PSI "HOT" balanciness line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HotScope {
    /// `A node is marked as HOT …` / `No node is marked as HOT …`.
    Node,
    /// `A guest is marked as HOT …` / `No guest is marked as HOT …`.
    Guest,
}

/// Which `Nodes usage …:` DEBUG line (`utils/helper.py:109-112`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageMetric {
    /// `Nodes usage memory: …`.
    Memory,
    /// `Nodes usage memory assigned: …`.
    MemoryAssigned,
    /// `Nodes usage cpu:    …`.
    Cpu,
    /// `Nodes usage disk:   …`.
    Disk,
}

/// Address family of a connection check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpFamily {
    /// `IPv4`.
    V4,
    /// `IPv6`.
    V6,
}

/// The typed meaning of one log message. Field values are the text ProxLB put into the
/// template (guest and node names as ProxLB knows them; UPIDs verbatim).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogEvent {
    // ---- Startup and reload --------------------------------------------------------------
    /// INFO `Using config path: {path}`, at start and after every SIGHUP reload
    /// (`utils/config_parser.py:237`).
    ConfigPath {
        /// The config file.
        path: String,
    },
    /// INFO `Service delay active: First run in: {amount} {unit}.` (`utils/helper.py:246`).
    ServiceDelay {
        /// How long ProxLB waits before its first run.
        amount: i64,
        /// Hours or minutes.
        unit: TimeFormat,
    },
    /// WARNING `SSL certificate validation to host {endpoint} is deactivated.`
    /// (`utils/proxmox_api.py:392`).
    SslVerificationDisabled {
        /// `host:port`.
        endpoint: String,
    },
    /// INFO `API connection to host {endpoint} succeeded.` (`utils/proxmox_api.py:431`).
    ApiConnected {
        /// `host:port`.
        endpoint: String,
    },
    /// INFO `Reloading ProxLB configuration.` (`__main__.py:98`), at the top of the first run
    /// after a SIGHUP.
    Reloading,
    /// [D] `Got SIGHUP signal. Reloading...` (`utils/helper.py:289`).
    SighupReceived,
    /// INFO `This node is not the HA manager. Waiting for next run.` (`__main__.py:89`).
    NotHaManager,
    /// [D] `This node is the HA manager. Continuing.` (`__main__.py:93`).
    IsHaManager,
    /// [D] `Starting: {what}` / `Finished: {what}` step markers (`what` keeps its final `.`).
    Step {
        /// Starting or finished.
        phase: StepPhase,
        /// The step, e.g. `get_daemon_mode.`.
        what: String,
    },

    // ---- Configuration errors ------------------------------------------------------------
    /// CRITICAL (and stdout) `The config file {path} does not exist.`
    /// (`utils/config_parser.py:225-226`).
    ConfigNotFound {
        /// The missing file.
        path: String,
    },
    /// CRITICAL (and stdout) `Error loading YAML file: {error}` (`utils/config_parser.py:241`).
    ConfigYamlError {
        /// The YAML error (may span lines).
        error: String,
    },
    /// CRITICAL (and stdout) `Error parsing {path}: {error}`; `error` is pydantic's multi-line
    /// report (`utils/config_parser.py:246`).
    ConfigInvalid {
        /// The config file.
        path: String,
        /// The validation error (may span lines).
        error: String,
    },
    /// WARNING `Ignoring invalid maintenance schedule '{schedule}'. Expected format: Monday, 8:00`
    /// (`utils/helper.py:227`).
    InvalidMaintenanceSchedule {
        /// The entry as written.
        schedule: String,
    },

    // ---- Cluster state, rules and decisions ----------------------------------------------
    /// INFO `Node: {node} has been set to maintenance mode (by …).`
    NodeMaintenance {
        /// The node.
        node: String,
        /// Schedule, config or the HA API.
        by: MaintenanceBy,
    },
    /// INFO `Node: {node} has been set to be ignored. Not adding node!` (`models/nodes.py:197`).
    NodeIgnored {
        /// The node.
        node: String,
    },
    /// INFO `Node {node} found in cluster. Applying pinning.` (`utils/helper.py:376`).
    PinningApplied {
        /// The pin target.
        node: String,
    },
    /// WARNING `Node {node} not found in cluster. Not applying pinning!` (`utils/helper.py:380`).
    PinningNodeMissing {
        /// The pin target as written.
        node: String,
    },
    /// WARNING `Tag {tag} is invalid! Defined node does not exist in the cluster. Not applying
    /// pinning.` (`models/tags.py:264`).
    PinningTagInvalid {
        /// The `plb_pin_…` tag.
        tag: String,
    },
    /// WARNING `Pool pinning tag {node} is invalid! Defined node does not exist in the cluster.
    /// Not applying pinning.` (`models/tags.py:281`).
    PoolPinningInvalid {
        /// The node named by the pool's pin.
        node: String,
    },
    /// WARNING `Non Proxmox VE 9 systems detected: Deactivating migration option
    /// 'with-conntrack-state'!` (`models/features.py:86`).
    ConntrackDisabled,
    /// WARNING `Non Proxmox VE 9 systems detected: Deactivating balancing!` (PSI mode,
    /// `models/features.py:90`).
    PsiBalancingDisabled,
    /// CRITICAL `Proxmox node {node} runs Proxmox VE version {version}. PSI metrics require
    /// Proxmox VE 9.0 or higher. Balancing deactivated!` (`models/calculations.py:123-124`).
    PsiUnsupported {
        /// The node.
        node: String,
        /// Its PVE version.
        version: String,
    },
    /// CRITICAL `Unknown balancing mode: {mode} provided. Cannot get balanciness.`
    /// (`models/calculations.py:250`).
    UnknownBalancingMode {
        /// The mode as configured.
        mode: String,
    },
    /// CRITICAL `No possible target nodes found for balancing after applying maintenance and
    /// relationship filters.` (`models/calculations.py:304`).
    NoTargetNodes,
    /// CRITICAL `No suitable node found for balancing.` (`models/calculations.py:335`).
    NoSuitableNode,
    /// WARNING `No suitable target node found for balancing. Skipping this run.`
    /// (`__main__.py:134`).
    NoTargetSkippingRun,
    /// WARNING `Warning: Could not find a suitable node to relocate guest {guest} from a
    /// maintenance node.` (`models/calculations.py:379`).
    MaintenanceRelocationFailed {
        /// The guest.
        guest: String,
    },
    /// WARNING `Warning: Balancing may not be perfect because guest {guest} was located on a
    /// node which is in maintenance mode.` (`models/calculations.py:380`).
    MaintenanceImperfect {
        /// The guest.
        guest: String,
    },
    /// WARNING `Skipping relocation of guest {guest} due to insufficient resources on target
    /// node {node}. This might affect affinity group {group}.` or `… due to no target node
    /// defined. …` (`target: None`) (`models/calculations.py:469-471`).
    RelocationSkipped {
        /// The guest.
        guest: String,
        /// The target that lacked resources; `None` when no target was defined.
        target: Option<String>,
        /// The affinity group.
        group: String,
    },
    /// CRITICAL `Node: {node} already got used for anti-affinity group:: {group}. (Tried for
    /// guest: {guest})` — normal-operation noise (`models/calculations.py:543`).
    AntiAffinityNodeUsed {
        /// The node.
        node: String,
        /// The anti-affinity group.
        group: String,
        /// The guest being placed.
        guest: String,
    },
    /// WARNING `No guests for balancing found.` (`models/calculations.py:263`).
    NoGuests,
    /// ERROR `Failed to retrieve {AVERAGE|MAX} RRD data for node: {node}. Using 0.0 as value.`
    /// (`models/nodes.py:229,237`).
    NodeRrdFailed {
        /// Consolidation function.
        cf: RrdCf,
        /// The node.
        node: String,
    },
    /// ERROR `Failed to retrieve {AVERAGE|MAX} RRD data for guest: {guest} (ID: {vmid}) on
    /// node: {node}. Using 0.0 as value.` (`models/guests.py:232,240`).
    GuestRrdFailed {
        /// Consolidation function.
        cf: RrdCf,
        /// The guest.
        guest: String,
        /// Its vmid.
        vmid: u32,
        /// Its node.
        node: String,
    },
    /// ERROR `Error fetching pool details for pool {pool}: {error}` (`models/pools.py:71`).
    PoolFetchFailed {
        /// The pool id.
        pool: String,
        /// The API error.
        error: String,
    },
    /// ERROR `Failed to get PVE version for node: {node}.`; the process then crashes
    /// (`models/nodes.py:308`).
    PveVersionFailed {
        /// The node.
        node: String,
    },

    // ---- Balanciness [D] -----------------------------------------------------------------
    /// [D] `Guest balancing is {required|ok}. Highest value: {highest}, lowest value: {lowest}
    /// balanced by {method} and {mode}.` (`models/calculations.py:258,260`).
    BalancinessSpread {
        /// `required` rather than `ok`.
        required: bool,
        /// Highest node value, as printed.
        highest: String,
        /// Lowest node value, as printed.
        lowest: String,
        /// `memory`, `cpu` or `disk`.
        method: String,
        /// `used`, `assigned` or `psi`.
        mode: String,
    },
    /// [D] `Guest balancing is required. Highest {method} usage node {node} is above the defined
    /// threshold of {threshold}% with a value of {value}%.` (or `ok … below …`)
    /// (`models/calculations.py:204-224`).
    BalancinessThreshold {
        /// `required` (above) rather than `ok` (below).
        required: bool,
        /// `memory`, `cpu` or `disk`.
        method: String,
        /// The most used node.
        node: String,
        /// The threshold, as printed.
        threshold: String,
        /// The node's value, as printed.
        value: String,
    },
    /// [D] `Guest balancing is required. A {node|guest} is marked as HOT based on {method}
    /// pressure metrics.` / `Guest balancing is ok. No {node|guest} is marked as HOT …`
    /// (`models/calculations.py:236-245`).
    BalancinessHot {
        /// `required` (a HOT one exists) rather than `ok`.
        required: bool,
        /// Node or guest.
        scope: HotScope,
        /// `memory`, `cpu` or `disk`.
        method: String,
    },
    /// [D] `Balancing of guests will be performed. Reason: {reason}` (`balanciness`, `enforce
    /// affinity balancing`, `enforce pinning balancing`; `models/calculations.py:410-416`).
    BalancingReason {
        /// The reason text.
        reason: String,
    },
    /// [D] `Best node for balancing is: {node}.` (`models/calculations.py:341`).
    BestNode {
        /// The node.
        node: String,
    },
    /// [D] `Set guest {guest} from node {from} to node {to}.` — the planned placement, also
    /// when `from == to` (`models/calculations.py:670`).
    PlannedPlacement {
        /// The guest.
        guest: String,
        /// Current node.
        from: String,
        /// Planned node.
        to: String,
    },
    /// [D] `Nodes usage {metric}: {values}` (`utils/helper.py:109-112`).
    NodesUsage {
        /// Which line.
        metric: UsageMetric,
        /// `node1: 81.25% | node2: …`, as printed.
        values: String,
    },

    // ---- Migrations and job results ------------------------------------------------------
    /// INFO `Balancing: Starting to migrate {VM|CT} guest {guest} from {source} to {target}.`
    /// (`models/balancing.py:235-237,270-272`).
    MigrationStarted {
        /// VM or CT.
        kind: GuestKind,
        /// The guest (ProxLB keys guests by name).
        guest: String,
        /// Source node.
        source: String,
        /// Target node.
        target: String,
    },
    /// CRITICAL `Balancing: Failed to migrate guest {guest} of type {VM|CT} due to some Proxmox
    /// errors. Please check if resource is locked or similar.` — the POST was rejected
    /// (`models/balancing.py:240-245,276-281`).
    MigrationRejected {
        /// VM or CT.
        kind: GuestKind,
        /// The guest.
        guest: String,
    },
    /// [D] `Balancing: Failed to migrate guest {guest} of type {VM|CT} due to some Proxmox
    /// errors: {error}` — the API's answer to the rejected POST.
    MigrationRejectedDetail {
        /// VM or CT.
        kind: GuestKind,
        /// The guest.
        guest: String,
        /// The API error text.
        error: String,
    },
    /// [D] `Balancing: Job ID {upid} (guest: {guest}) is a standard migration job. Proceeding
    /// with status check.` (`models/balancing.py:373-375`).
    JobStandard {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// [D] `Balancing: Job ID {upid} (guest: {guest}) for migration is still running...`
    /// (`models/balancing.py:449`); 1.1 appends ` (Run: {n})`.
    JobRunning {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
        /// 1.1's poll counter.
        run: Option<u32>,
    },
    /// [D] `Balancing: Job ID {upid} (guest: {guest}) was successfully.` — success is logged
    /// only at DEBUG (`models/balancing.py:453`).
    JobSucceeded {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// CRITICAL `Balancing: Job ID {upid} (guest: {guest}) went into an error! Please check
    /// manually.` (`models/balancing.py:457-459`).
    JobFailed {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// CRITICAL `Balancing: Job ID {upid} (guest: {guest}) for migration went into an error!
    /// Please check manually.` — logged right after [`LogEvent::JobFailed`]
    /// (`models/balancing.py:334-336`).
    JobFailedForMigration {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// WARNING `Balancing: Job ID {upid} (guest: {guest}) for migration is still running. Retry
    /// counter: {retries} exceeded.` (`models/balancing.py:342-344`).
    JobRetryExceeded {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
        /// The retry counter.
        retries: u32,
    },
    /// WARNING (1.1 only) `Balancing: Job ID {upid} (guest: {guest}) for migration took too
    /// long. Please check manually.` (`gyptazy/ProxLB` 1.1 `proxlb/models/balancing.py:256`).
    JobTookTooLong {
        /// The task's UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// [D] `Balancing: HA migration request {upid} (guest: {guest}) is still being processed by
    /// the HA manager...` (`models/balancing.py:379-381`).
    HaPending {
        /// The `hamigrate` UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// [D] `Balancing: HA migration request {upid} (guest: {guest}) was accepted but the
    /// underlying qmigrate task is not visible yet. Waiting...` (`models/balancing.py:396-398`).
    HaAcceptedWaiting {
        /// The `hamigrate` UPID.
        upid: String,
        /// The guest.
        guest: String,
    },
    /// [D] `Balancing: Resolved hamigrate {hamigrate} to qmigrate {qmigrate} for guest {guest}.`
    /// (`models/balancing.py:402-404`).
    HaResolved {
        /// The `hamigrate` UPID.
        hamigrate: String,
        /// The `qmigrate` UPID.
        qmigrate: String,
        /// The guest.
        guest: String,
    },
    /// CRITICAL `Balancing: HA migration request {upid} (guest: {guest}) was rejected by the HA
    /// manager: {exit_status}. Please check manually.` (`models/balancing.py:385-388`).
    HaRejected {
        /// The `hamigrate` UPID.
        upid: String,
        /// The guest.
        guest: String,
        /// The task's exit status as Python's `repr` (`'…'` or `None`).
        exit_status: String,
    },
    /// WARNING `Balancing: Some migrations did not complete successfully. Please check the logs
    /// and Proxmox cluster manually.` — ends a run that had failures (`models/balancing.py:138`).
    SomeMigrationsFailed,
    /// INFO `Finished: Balancing loop for guests. All guests processed and migrations
    /// completed.` — ends every non-dry run without failures (`models/balancing.py:144`).
    BalancingFinished,

    // ---- End of run, daemon sleep, termination -------------------------------------------
    /// INFO `Daemon mode active: Next run in: {interval} {unit}.`; ProxLB sleeps right after it
    /// (`utils/helper.py:144-145`).
    NextRun {
        /// Length of the sleep.
        interval: i64,
        /// Hours or minutes (always plural in the text).
        unit: TimeFormat,
    },
    /// stdout `Daemon mode not active - stopping.`; the process exits 0 (`utils/helper.py:149`).
    DaemonNotActive,
    /// stdout ` ProxLB has been successfully terminated by user.` (after an empty line) on SIGINT,
    /// or the same text at DEBUG (`utils/helper.py:305-307`).
    TerminatedByUser,

    // ---- API unreachable or refused (startup) --------------------------------------------
    /// WARNING `Could not resolve {host}.` (`utils/proxmox_api.py:240`).
    ResolveFailed {
        /// The host.
        host: String,
    },
    /// WARNING `Host {host} is unreachable on IPv4 for tcp/{port} (errno {errno}).`
    /// (`utils/proxmox_api.py:287,318`).
    HostUnreachable {
        /// The host.
        host: String,
        /// IPv4 or IPv6.
        family: IpFamily,
        /// TCP port.
        port: u16,
        /// `connect_ex`'s errno.
        errno: i32,
    },
    /// WARNING `Timeout connecting to {host} on IPv4 tcp/{port}.` (`utils/proxmox_api.py:285,316`).
    ConnectTimeout {
        /// The host.
        host: String,
        /// IPv4 or IPv6.
        family: IpFamily,
        /// TCP port.
        port: u16,
    },
    /// WARNING `Attempt {attempt}/{retries} failed for host {host}. Retrying in {wait_seconds}
    /// seconds...` (`utils/proxmox_api.py:199-202`).
    ConnectAttemptFailed {
        /// 1-based attempt.
        attempt: u32,
        /// Configured retries.
        retries: u32,
        /// The host as configured.
        host: String,
        /// Wait before the next attempt.
        wait_seconds: u32,
    },
    /// CRITICAL `No proxmox_api hosts are defined.` (`utils/proxmox_api.py:183`).
    NoApiHostsDefined,
    /// CRITICAL (and stdout) `No valid Proxmox API hosts found.`; exit 1
    /// (`utils/proxmox_api.py:208-209`).
    NoValidApiHosts,
    /// CRITICAL `Authentication failed. Please check the defined credentials: {error}`; exit 2
    /// (`utils/proxmox_api.py:419`).
    AuthFailed {
        /// proxmoxer's error text.
        error: String,
    },
    /// CRITICAL `Connection timeout to host {endpoint}`; exit 2 (`utils/proxmox_api.py:422`).
    ApiTimeout {
        /// `host:port`.
        endpoint: String,
    },
    /// CRITICAL `SSL certificate validation failed: {error}`; exit 2 (`utils/proxmox_api.py:425`).
    SslValidationFailed {
        /// The TLS error.
        error: String,
    },
    /// CRITICAL `Connection refused by host {endpoint}`; exit 2 (`utils/proxmox_api.py:428`).
    ConnectionRefused {
        /// `host:port`.
        endpoint: String,
    },
    /// ERROR `Authentication to Proxmox API not possible: User not known - please check your
    /// username and config file.` (`utils/proxmox_api.py:342`).
    UserUnknown,
    /// ERROR `Proxmox API error: {error}` (`utils/proxmox_api.py:345`).
    ApiError {
        /// The API error.
        error: String,
    },
    /// CRITICAL `Permission '{permission}' is missing. Please adjust the permissions for your
    /// user/token. See also: {url}` (`utils/proxmox_api.py:357`).
    PermissionMissing {
        /// The privilege, e.g. `VM.Migrate`.
        permission: String,
        /// The documentation link ProxLB appends.
        url: String,
    },

    // ---- Solver (proxlb-solver 0.1.1, only with `solver.enable`) -------------------------
    /// INFO `[solver] starting — {settings}` (`proxlb_solver/shadow.py:131-139`).
    SolverStarted {
        /// `mode=…  log_dir=…  …`, as printed.
        settings: String,
    },
    /// INFO `[solver] run={run} status={status} migrations={migrations} gap={gap}
    /// time={time_ms}ms` (`proxlb_solver/shadow.py:220-225`).
    SolverRun {
        /// The run's JSONL file.
        run: String,
        /// Solver status (`OPTIMAL`, …).
        status: String,
        /// Planned migrations.
        migrations: u32,
        /// Load gap, as printed (`0.125`).
        gap: String,
        /// Wall time in milliseconds.
        time_ms: u64,
    },
    /// Any other `[solver] {text}` line (active mode, fallbacks, failures).
    Solver {
        /// The text after `[solver] `.
        text: String,
    },

    // ---- ProxLB 1.0 (`<prio> ProxLB: {Label}: [{component}]: {text}`) --------------------
    /// 1.0 `Info: [{component}]: Rebalancing {VM|CT} {guest} from node {source} to node
    /// {target}.` (`gyptazy/ProxLB` v1.0.6 `proxlb:1194,1200`).
    LegacyMigration {
        /// The component (`vm-rebalancing-executor`).
        component: String,
        /// VM or CT.
        kind: GuestKind,
        /// The guest.
        guest: String,
        /// Source node.
        source: String,
        /// Target node.
        target: String,
    },
    /// 1.0 `Info: [daemon]: Running in daemon mode. Next run in {hours} hours.`
    /// (v1.0.6 `proxlb:123`).
    LegacyNextRun {
        /// Sleep in hours.
        hours: i64,
    },
    /// Any other 1.0 line of the form `{label}: [{component}]: {text}`.
    Legacy {
        /// `Info`, `Warning`, `Error`, `Critical`, …
        label: String,
        /// The component in brackets.
        component: String,
        /// The rest.
        text: String,
    },

    // ---- Multi-line output ---------------------------------------------------------------
    /// A Python traceback (stderr), from `Traceback (most recent call last):` to the exception
    /// line, as one event. Chained tracebacks stay one event; the last exception is named.
    Traceback {
        /// The exception's type, e.g. `proxmoxer.core.ResourceException`; empty if the
        /// traceback was cut off before its exception line.
        exception: String,
        /// The exception's message (may span lines; empty if it had none).
        detail: String,
    },
    /// The `-j` JSON dump (`utils/helper.py:271`): from a line `{` to a line `}`.
    JsonOutput,
    /// Anything else; [`super::LogEntry::message`] has the text.
    Other,
}

fn unit_word(unit: TimeFormat) -> &'static str {
    match unit {
        TimeFormat::Hours => "hours",
        TimeFormat::Minutes => "minutes",
    }
}

fn kind_word(kind: GuestKind) -> &'static str {
    match kind {
        GuestKind::Vm => "VM",
        GuestKind::Ct => "CT",
    }
}

fn family_word(family: IpFamily) -> &'static str {
    match family {
        IpFamily::V4 => "IPv4",
        IpFamily::V6 => "IPv6",
    }
}

fn cf_word(cf: RrdCf) -> &'static str {
    match cf {
        RrdCf::Average => "AVERAGE",
        RrdCf::Max => "MAX",
    }
}

fn verdict(required: bool) -> &'static str {
    if required {
        "required"
    } else {
        "ok"
    }
}

/// The documentation link ProxLB 2.3.0 puts into its permission and token-format errors.
pub const PERMISSIONS_DOC_URL: &str =
    "https://github.com/gyptazy/ProxLB/blob/main/docs/03_configuration.md#required-permissions-for-a-user";

impl LogEvent {
    /// The message text ProxLB logs for this event (without timestamp and level), or `None` for
    /// the variants that carry no template ([`LogEvent::Traceback`], [`LogEvent::JsonOutput`],
    /// [`LogEvent::Other`]: their text is the entry's message).
    pub fn render(&self) -> Option<String> {
        use LogEvent as E;
        let s = match self {
            E::ConfigPath { path } => format!("Using config path: {path}"),
            E::ServiceDelay { amount, unit } => {
                format!("Service delay active: First run in: {amount} {}.", unit_word(*unit))
            }
            E::SslVerificationDisabled { endpoint } => {
                format!("SSL certificate validation to host {endpoint} is deactivated.")
            }
            E::ApiConnected { endpoint } => format!("API connection to host {endpoint} succeeded."),
            E::Reloading => "Reloading ProxLB configuration.".into(),
            E::SighupReceived => "Got SIGHUP signal. Reloading...".into(),
            E::NotHaManager => "This node is not the HA manager. Waiting for next run.".into(),
            E::IsHaManager => "This node is the HA manager. Continuing.".into(),
            E::Step { phase, what } => match phase {
                StepPhase::Starting => format!("Starting: {what}"),
                StepPhase::Finished => format!("Finished: {what}"),
            },
            E::ConfigNotFound { path } => format!("The config file {path} does not exist."),
            E::ConfigYamlError { error } => format!("Error loading YAML file: {error}"),
            E::ConfigInvalid { path, error } => format!("Error parsing {path}: {error}"),
            E::InvalidMaintenanceSchedule { schedule } => format!(
                "Ignoring invalid maintenance schedule '{schedule}'. Expected format: Monday, 8:00"
            ),
            E::NodeMaintenance { node, by } => {
                let by = match by {
                    MaintenanceBy::Schedule => "ProxLB schedule",
                    MaintenanceBy::Config => "ProxLB config",
                    MaintenanceBy::HaApi => "Proxmox HA API",
                };
                format!("Node: {node} has been set to maintenance mode (by {by}).")
            }
            E::NodeIgnored { node } => {
                format!("Node: {node} has been set to be ignored. Not adding node!")
            }
            E::PinningApplied { node } => format!("Node {node} found in cluster. Applying pinning."),
            E::PinningNodeMissing { node } => {
                format!("Node {node} not found in cluster. Not applying pinning!")
            }
            E::PinningTagInvalid { tag } => format!(
                "Tag {tag} is invalid! Defined node does not exist in the cluster. Not applying pinning."
            ),
            E::PoolPinningInvalid { node } => format!(
                "Pool pinning tag {node} is invalid! Defined node does not exist in the cluster. Not applying pinning."
            ),
            E::ConntrackDisabled => "Non Proxmox VE 9 systems detected: Deactivating migration option 'with-conntrack-state'!".into(),
            E::PsiBalancingDisabled => {
                "Non Proxmox VE 9 systems detected: Deactivating balancing!".into()
            }
            E::PsiUnsupported { node, version } => format!(
                "Proxmox node {node} runs Proxmox VE version {version}. PSI metrics require Proxmox VE 9.0 or higher. Balancing deactivated!"
            ),
            E::UnknownBalancingMode { mode } => {
                format!("Unknown balancing mode: {mode} provided. Cannot get balanciness.")
            }
            E::NoTargetNodes => "No possible target nodes found for balancing after applying maintenance and relationship filters.".into(),
            E::NoSuitableNode => "No suitable node found for balancing.".into(),
            E::NoTargetSkippingRun => {
                "No suitable target node found for balancing. Skipping this run.".into()
            }
            E::MaintenanceRelocationFailed { guest } => format!(
                "Warning: Could not find a suitable node to relocate guest {guest} from a maintenance node."
            ),
            E::MaintenanceImperfect { guest } => format!(
                "Warning: Balancing may not be perfect because guest {guest} was located on a node which is in maintenance mode."
            ),
            E::RelocationSkipped { guest, target, group } => match target {
                Some(node) => format!(
                    "Skipping relocation of guest {guest} due to insufficient resources on target node {node}. This might affect affinity group {group}."
                ),
                None => format!(
                    "Skipping relocation of guest {guest} due to no target node defined. This might affect affinity group {group}."
                ),
            },
            E::AntiAffinityNodeUsed { node, group, guest } => format!(
                "Node: {node} already got used for anti-affinity group:: {group}. (Tried for guest: {guest})"
            ),
            E::NoGuests => "No guests for balancing found.".into(),
            E::NodeRrdFailed { cf, node } => format!(
                "Failed to retrieve {} RRD data for node: {node}. Using 0.0 as value.",
                cf_word(*cf)
            ),
            E::GuestRrdFailed { cf, guest, vmid, node } => format!(
                "Failed to retrieve {} RRD data for guest: {guest} (ID: {vmid}) on node: {node}. Using 0.0 as value.",
                cf_word(*cf)
            ),
            E::PoolFetchFailed { pool, error } => {
                format!("Error fetching pool details for pool {pool}: {error}")
            }
            E::PveVersionFailed { node } => format!("Failed to get PVE version for node: {node}."),
            E::BalancinessSpread { required, highest, lowest, method, mode } => format!(
                "Guest balancing is {}. Highest value: {highest}, lowest value: {lowest} balanced by {method} and {mode}.",
                verdict(*required)
            ),
            E::BalancinessThreshold { required, method, node, threshold, value } => format!(
                "Guest balancing is {}. Highest {method} usage node {node} is {} the defined threshold of {threshold}% with a value of {value}%.",
                verdict(*required),
                if *required { "above" } else { "below" }
            ),
            E::BalancinessHot { required, scope, method } => {
                let what = match scope {
                    HotScope::Node => "node",
                    HotScope::Guest => "guest",
                };
                if *required {
                    format!("Guest balancing is required. A {what} is marked as HOT based on {method} pressure metrics.")
                } else {
                    format!("Guest balancing is ok. No {what} is marked as HOT based on {method} pressure metrics.")
                }
            }
            E::BalancingReason { reason } => {
                format!("Balancing of guests will be performed. Reason: {reason}")
            }
            E::BestNode { node } => format!("Best node for balancing is: {node}."),
            E::PlannedPlacement { guest, from, to } => {
                format!("Set guest {guest} from node {from} to node {to}.")
            }
            E::NodesUsage { metric, values } => {
                let head = match metric {
                    UsageMetric::Memory => "Nodes usage memory: ",
                    UsageMetric::MemoryAssigned => "Nodes usage memory assigned: ",
                    UsageMetric::Cpu => "Nodes usage cpu:    ",
                    UsageMetric::Disk => "Nodes usage disk:   ",
                };
                format!("{head}{values}")
            }
            E::MigrationStarted { kind, guest, source, target } => format!(
                "Balancing: Starting to migrate {} guest {guest} from {source} to {target}.",
                kind_word(*kind)
            ),
            E::MigrationRejected { kind, guest } => format!(
                "Balancing: Failed to migrate guest {guest} of type {} due to some Proxmox errors. Please check if resource is locked or similar.",
                kind_word(*kind)
            ),
            E::MigrationRejectedDetail { kind, guest, error } => format!(
                "Balancing: Failed to migrate guest {guest} of type {} due to some Proxmox errors: {error}",
                kind_word(*kind)
            ),
            E::JobStandard { upid, guest } => format!(
                "Balancing: Job ID {upid} (guest: {guest}) is a standard migration job. Proceeding with status check."
            ),
            E::JobRunning { upid, guest, run } => match run {
                Some(n) => format!(
                    "Balancing: Job ID {upid} (guest: {guest}) for migration is still running... (Run: {n})"
                ),
                None => format!(
                    "Balancing: Job ID {upid} (guest: {guest}) for migration is still running..."
                ),
            },
            E::JobSucceeded { upid, guest } => {
                format!("Balancing: Job ID {upid} (guest: {guest}) was successfully.")
            }
            E::JobFailed { upid, guest } => format!(
                "Balancing: Job ID {upid} (guest: {guest}) went into an error! Please check manually."
            ),
            E::JobFailedForMigration { upid, guest } => format!(
                "Balancing: Job ID {upid} (guest: {guest}) for migration went into an error! Please check manually."
            ),
            E::JobRetryExceeded { upid, guest, retries } => format!(
                "Balancing: Job ID {upid} (guest: {guest}) for migration is still running. Retry counter: {retries} exceeded."
            ),
            E::JobTookTooLong { upid, guest } => format!(
                "Balancing: Job ID {upid} (guest: {guest}) for migration took too long. Please check manually."
            ),
            E::HaPending { upid, guest } => format!(
                "Balancing: HA migration request {upid} (guest: {guest}) is still being processed by the HA manager..."
            ),
            E::HaAcceptedWaiting { upid, guest } => format!(
                "Balancing: HA migration request {upid} (guest: {guest}) was accepted but the underlying qmigrate task is not visible yet. Waiting..."
            ),
            E::HaResolved { hamigrate, qmigrate, guest } => format!(
                "Balancing: Resolved hamigrate {hamigrate} to qmigrate {qmigrate} for guest {guest}."
            ),
            E::HaRejected { upid, guest, exit_status } => format!(
                "Balancing: HA migration request {upid} (guest: {guest}) was rejected by the HA manager: {exit_status}. Please check manually."
            ),
            E::SomeMigrationsFailed => "Balancing: Some migrations did not complete successfully. Please check the logs and Proxmox cluster manually.".into(),
            E::BalancingFinished => "Finished: Balancing loop for guests. All guests processed and migrations completed.".into(),
            E::NextRun { interval, unit } => {
                format!("Daemon mode active: Next run in: {interval} {}.", unit_word(*unit))
            }
            E::DaemonNotActive => "Daemon mode not active - stopping.".into(),
            E::TerminatedByUser => "ProxLB has been successfully terminated by user.".into(),
            E::ResolveFailed { host } => format!("Could not resolve {host}."),
            E::HostUnreachable { host, family, port, errno } => format!(
                "Host {host} is unreachable on {} for tcp/{port} (errno {errno}).",
                family_word(*family)
            ),
            E::ConnectTimeout { host, family, port } => format!(
                "Timeout connecting to {host} on {} tcp/{port}.",
                family_word(*family)
            ),
            E::ConnectAttemptFailed { attempt, retries, host, wait_seconds } => format!(
                "Attempt {attempt}/{retries} failed for host {host}. Retrying in {wait_seconds} seconds..."
            ),
            E::NoApiHostsDefined => "No proxmox_api hosts are defined.".into(),
            E::NoValidApiHosts => "No valid Proxmox API hosts found.".into(),
            E::AuthFailed { error } => {
                format!("Authentication failed. Please check the defined credentials: {error}")
            }
            E::ApiTimeout { endpoint } => format!("Connection timeout to host {endpoint}"),
            E::SslValidationFailed { error } => format!("SSL certificate validation failed: {error}"),
            E::ConnectionRefused { endpoint } => format!("Connection refused by host {endpoint}"),
            E::UserUnknown => "Authentication to Proxmox API not possible: User not known - please check your username and config file.".into(),
            E::ApiError { error } => format!("Proxmox API error: {error}"),
            E::PermissionMissing { permission, url } => format!(
                "Permission '{permission}' is missing. Please adjust the permissions for your user/token. See also: {url}"
            ),
            E::SolverStarted { settings } => format!("[solver] starting — {settings}"),
            E::SolverRun { run, status, migrations, gap, time_ms } => format!(
                "[solver] run={run} status={status} migrations={migrations} gap={gap} time={time_ms}ms"
            ),
            E::Solver { text } => format!("[solver] {text}"),
            E::LegacyMigration { component, kind, guest, source, target } => format!(
                "Info: [{component}]: Rebalancing {} {guest} from node {source} to node {target}.",
                kind_word(*kind)
            ),
            E::LegacyNextRun { hours } => {
                format!("Info: [daemon]: Running in daemon mode. Next run in {hours} hours.")
            }
            E::Legacy { label, component, text } => format!("{label}: [{component}]: {text}"),
            E::Traceback { .. } | E::JsonOutput | E::Other => return None,
        };
        Some(s)
    }

    /// The guest this event is about, if any (for search and the migration history).
    pub fn guest(&self) -> Option<&str> {
        use LogEvent as E;
        match self {
            E::MaintenanceRelocationFailed { guest }
            | E::MaintenanceImperfect { guest }
            | E::RelocationSkipped { guest, .. }
            | E::AntiAffinityNodeUsed { guest, .. }
            | E::GuestRrdFailed { guest, .. }
            | E::PlannedPlacement { guest, .. }
            | E::MigrationStarted { guest, .. }
            | E::MigrationRejected { guest, .. }
            | E::MigrationRejectedDetail { guest, .. }
            | E::JobStandard { guest, .. }
            | E::JobRunning { guest, .. }
            | E::JobSucceeded { guest, .. }
            | E::JobFailed { guest, .. }
            | E::JobFailedForMigration { guest, .. }
            | E::JobRetryExceeded { guest, .. }
            | E::JobTookTooLong { guest, .. }
            | E::HaPending { guest, .. }
            | E::HaAcceptedWaiting { guest, .. }
            | E::HaResolved { guest, .. }
            | E::HaRejected { guest, .. }
            | E::LegacyMigration { guest, .. } => Some(guest),
            _ => None,
        }
    }

    /// Whether more lines may still belong to this message: its template ends in free text
    /// (an error, a pydantic report) or it is unrecognised. The assembler holds such messages
    /// until the next head line or an idle timeout, and emits all others at once (no latency).
    pub fn may_continue(&self) -> bool {
        use LogEvent as E;
        matches!(
            self,
            E::ConfigYamlError { .. }
                | E::ConfigInvalid { .. }
                | E::PoolFetchFailed { .. }
                | E::MigrationRejectedDetail { .. }
                | E::AuthFailed { .. }
                | E::SslValidationFailed { .. }
                | E::ApiError { .. }
                | E::Solver { .. }
                | E::Legacy { .. }
                | E::Traceback { .. }
                | E::JsonOutput
                | E::Other
        )
    }
}
