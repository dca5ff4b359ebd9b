//! Accepts or rejects a loaded `proxlb.yaml` exactly as ProxLB 2.3.0 does, plus pitfall warnings.
//!
//! ProxLB builds `Config(**yaml.load(...))`, a pydantic v2 model in lax mode
//! (`proxlb/utils/config_parser.py:38-197` at v2.3.0). The rules mirrored here are pydantic's lax
//! coercions, checked against the installed package: an `int` field takes `10`, `"10"`,
//! `" 10 "`, `"1_0"`, `"1.0"`, `true` and `3.0`, but not `1.5`, `"1e3"` or a string with a
//! fraction; a `bool` takes `0`/`1`, `0.0`/`1.0` and the strings `y n yes no on off t f true
//! false 1 0` in any case (no white space); a `str` takes only strings; enums take only their
//! exact lowercase value; unknown keys are ignored; `null` passes only where ProxLB's field is
//! `Optional`. The top level must be a mapping with string keys (`**` raises `TypeError`).
//! `crates/backend/tests/config_differential.rs` compares this with ProxLB's own loader.

use serde::{Deserialize, Serialize};

use super::yaml11::{Node, Pos, Value};

/// One finding, anchored at a line and column of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Dotted key path (`balancing.mode`), empty for the whole file.
    pub path: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
    /// What is wrong, in words.
    pub message: String,
}

impl Issue {
    /// A finding at `pos`.
    pub fn at(pos: Pos, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

/// What the validation found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Reasons ProxLB would refuse to start; empty means it accepts the file.
    pub errors: Vec<Issue>,
    /// Accepted, but probably not what was meant.
    pub warnings: Vec<Issue>,
    /// The file is a ProxLB 1.x configuration (said so; 2.3.0 rejects or misreads it).
    pub legacy_1x: bool,
}

impl Report {
    /// Whether ProxLB 2.3.0 would accept the file.
    pub fn accepted(&self) -> bool {
        self.errors.is_empty()
    }
}

/// What the validation may know beyond the file.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Node names of the cluster, when known (for "node not in the cluster" warnings).
    pub cluster_nodes: Option<Vec<String>>,
    /// ProxLB runs inside a container (where `enable_ha: true` never balances).
    pub in_container: bool,
}

/// A pydantic field type of ProxLB's model.
enum Ty {
    Int,
    /// `int` with `ge=0`.
    IntGe0,
    Bool,
    Str,
    Float,
    Enum(&'static [&'static str]),
    List(&'static Ty),
    Dict(&'static Ty, &'static Ty),
    Model(&'static [Field]),
    Optional(&'static Ty),
}

/// A model field: the key in the file (alias), its type, whether it is required.
struct Field(&'static str, Ty, bool);

const RESOURCE: &[&str] = &["cpu", "disk", "memory"];
const TIME_FORMAT: &[&str] = &["hours", "minutes"];

static STR: Ty = Ty::Str;
static INT: Ty = Ty::Int;
static LIST_STR: Ty = Ty::List(&STR);
static RESOURCE_KEY: Ty = Ty::Enum(RESOURCE);
static GUEST_TYPE: Ty = Ty::Enum(&["vm", "ct"]);
static PRESSURE: Ty = Ty::Model(&[
    Field("pressure_full", Ty::Float, true),
    Field("pressure_some", Ty::Float, true),
    Field("pressure_spikes", Ty::Float, true),
]);
static PSI: Ty = Ty::Model(&[
    Field("guests", Ty::Dict(&RESOURCE_KEY, &PRESSURE), true),
    Field("nodes", Ty::Dict(&RESOURCE_KEY, &PRESSURE), true),
]);
static POOL: Ty = Ty::Model(&[
    Field("pin", Ty::Optional(&LIST_STR), false),
    Field("strict", Ty::Bool, false),
    Field("type", Ty::Optional(&AFFINITY), false),
]);
static AFFINITY: Ty = Ty::Enum(&["affinity", "anti-affinity"]);
static RESERVE_INNER: Ty = Ty::Dict(&RESOURCE_KEY, &INT);
static RESERVE: Ty = Ty::Dict(&STR, &RESERVE_INNER);
static POOLS: Ty = Ty::Dict(&STR, &POOL);

static ROOT: &[Field] = &[
    Field(
        "proxmox_api",
        Ty::Model(&[
            Field("hosts", Ty::List(&STR), true),
            Field("pass", Ty::Optional(&STR), false),
            Field("retries", Ty::Int, false),
            Field("ssl_verification", Ty::Bool, false),
            Field("timeout", Ty::Int, false),
            Field("token_id", Ty::Optional(&STR), false),
            Field("token_secret", Ty::Optional(&STR), false),
            Field("user", Ty::Str, true),
            Field("wait_time", Ty::Int, false),
        ]),
        true,
    ),
    Field(
        "proxmox_cluster",
        Ty::Model(&[
            Field("ignore_nodes", Ty::List(&STR), false),
            Field("maintenance_nodes", Ty::List(&STR), false),
            Field(
                "maintenance_nodes_schedule",
                Ty::Model(&[
                    Field("duration", Ty::IntGe0, false),
                    Field("pre-migration", Ty::IntGe0, false),
                    Field("schedules", Ty::Dict(&STR, &LIST_STR), false),
                ]),
                false,
            ),
            Field("overprovisioning", Ty::Bool, false),
        ]),
        false,
    ),
    Field(
        "balancing",
        Ty::Model(&[
            Field("balance_larger_guests_first", Ty::Bool, false),
            Field("balance_types", Ty::List(&GUEST_TYPE), false),
            Field("balanciness", Ty::Int, false),
            Field("cpu_overcommit", Ty::Float, false),
            Field("cpu_threshold", Ty::Optional(&INT), false),
            Field("enable", Ty::Bool, false),
            Field("enforce_affinity", Ty::Bool, false),
            Field("enforce_pinning", Ty::Bool, false),
            Field("ignore_guests", Ty::List(&STR), false),
            Field("live", Ty::Bool, false),
            Field("max_job_validation", Ty::Int, false),
            Field("max_node_inflow", Ty::Optional(&INT), false),
            Field("memory_threshold", Ty::Optional(&INT), false),
            Field("disk_threshold", Ty::Optional(&INT), false),
            Field("method", Ty::Enum(RESOURCE), false),
            Field("mode", Ty::Enum(&["assigned", "psi", "used"]), false),
            Field("node_resource_reserve", Ty::Optional(&RESERVE), false),
            Field("parallel", Ty::Bool, false),
            Field("parallel_jobs", Ty::Int, false),
            Field("pools", Ty::Optional(&POOLS), false),
            Field("psi", Ty::Optional(&PSI), false),
            Field("with_conntrack_state", Ty::Bool, false),
            Field("with_local_disks", Ty::Bool, false),
        ]),
        false,
    ),
    Field(
        "service",
        Ty::Model(&[
            Field("daemon", Ty::Bool, false),
            Field("enable_ha", Ty::Bool, false),
            Field(
                "delay",
                Ty::Model(&[
                    Field("enable", Ty::Bool, false),
                    Field("format", Ty::Enum(TIME_FORMAT), false),
                    Field("time", Ty::Int, false),
                ]),
                false,
            ),
            Field(
                "log_level",
                Ty::Enum(&["CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING"]),
                false,
            ),
            Field(
                "schedule",
                Ty::Model(&[
                    Field("format", Ty::Enum(TIME_FORMAT), false),
                    Field("interval", Ty::Int, false),
                ]),
                false,
            ),
        ]),
        false,
    ),
    Field(
        "solver",
        Ty::Model(&[
            Field("active_step_retries", Ty::Int, false),
            Field("enable", Ty::Bool, false),
            Field("fallback_to_greedy", Ty::Bool, false),
            Field("log_dir", Ty::Str, false),
            Field("mode", Ty::Enum(&["active", "shadow"]), false),
            Field("timeout_seconds", Ty::Float, false),
            Field("use_reservations", Ty::Bool, false),
        ]),
        false,
    ),
];

/// pydantic's `str` → `int`: surrounding white space, a sign, digits with single underscores
/// between them, then optionally `.` and zeros only (`"1.000"` passes, `"1."` does not).
fn str_to_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (int_part, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b == b'0')) {
        return None;
    }
    let (negative, digits) = match int_part.as_bytes().first() {
        Some(b'-') => (true, &int_part[1..]),
        Some(b'+') => (false, &int_part[1..]),
        _ => (false, int_part),
    };
    if !underscored_digits(digits) {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    // Beyond 128 bits pydantic still accepts (Python ints); saturate, the sign is what matters.
    let v = clean.parse::<i128>().unwrap_or(i128::MAX);
    Some(if negative { -v } else { v })
}

/// Digits with single underscores strictly between digits.
fn underscored_digits(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

/// pydantic's `str` → `float`: white space trimmed, underscores only between digits.
fn str_to_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < lower.len() {
        return None;
    }
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return Some(0.0);
    }
    let bytes = unsigned.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'_' {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j));
            let after = bytes.get(i + 1);
            if !before.is_some_and(u8::is_ascii_digit) || !after.is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
    }
    if !unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    let clean: String = lower.chars().filter(|c| *c != '_').collect();
    clean.parse::<f64>().ok()
}

/// Smallest float pydantic refuses to turn into an `int` (2^63).
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

struct Checker<'a> {
    errors: &'a mut Vec<Issue>,
}

impl Checker<'_> {
    fn fail(&mut self, node: &Node, path: &str, message: String) {
        self.errors.push(Issue::at(node.pos, path, message));
    }

    fn check(&mut self, ty: &Ty, node: &Node, path: &str) {
        match ty {
            Ty::Optional(inner) => {
                if node.value != Value::Null {
                    self.check(inner, node, path);
                }
            }
            Ty::Int | Ty::IntGe0 => {
                let n: Option<f64> = match &node.value {
                    Value::Int(v) => Some(*v as f64),
                    Value::BigInt(v) => Some(*v),
                    Value::Bool(b) => Some(f64::from(u8::from(*b))),
                    Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < I64_LIMIT => {
                        Some(*f)
                    }
                    Value::Str(s) => str_to_int(s).map(|v| v as f64),
                    _ => None,
                };
                match n {
                    None => self.fail(
                        node,
                        path,
                        format!("should be a whole number, not {}", describe(node)),
                    ),
                    Some(v) if matches!(ty, Ty::IntGe0) && v < 0.0 => {
                        self.fail(node, path, "should be 0 or more".to_owned())
                    }
                    Some(_) => {}
                }
            }
            Ty::Bool => {
                let ok = match &node.value {
                    Value::Bool(_) => true,
                    Value::Int(v) => *v == 0 || *v == 1,
                    Value::Float(f) => *f == 0.0 || *f == 1.0,
                    Value::Str(s) => matches!(
                        s.to_ascii_lowercase().as_str(),
                        "0" | "off"
                            | "f"
                            | "false"
                            | "n"
                            | "no"
                            | "1"
                            | "on"
                            | "t"
                            | "true"
                            | "y"
                            | "yes"
                    ),
                    _ => false,
                };
                if !ok {
                    self.fail(
                        node,
                        path,
                        format!("should be true or false, not {}", describe(node)),
                    );
                }
            }
            Ty::Str => {
                if !matches!(node.value, Value::Str(_)) {
                    self.fail(
                        node,
                        path,
                        format!("should be text, not {} (quote it)", describe(node)),
                    );
                }
            }
            Ty::Float => {
                let ok = match &node.value {
                    Value::Float(_) | Value::Bool(_) | Value::Int(_) => true,
                    Value::BigInt(v) => v.abs() <= f64::MAX,
                    Value::Str(s) => str_to_float(s).is_some(),
                    _ => false,
                };
                if !ok {
                    self.fail(
                        node,
                        path,
                        format!("should be a number, not {}", describe(node)),
                    );
                }
            }
            Ty::Enum(values) => {
                if !node.as_str().is_some_and(|s| values.contains(&s)) {
                    self.fail(
                        node,
                        path,
                        format!(
                            "should be one of {}, not {}",
                            values.join(", "),
                            describe(node)
                        ),
                    );
                }
            }
            Ty::List(item) => match &node.value {
                Value::Seq(items) => {
                    for (i, it) in items.iter().enumerate() {
                        self.check(item, it, &format!("{path}[{i}]"));
                    }
                }
                _ => self.fail(
                    node,
                    path,
                    format!("should be a list, not {}", describe(node)),
                ),
            },
            Ty::Dict(key, value) => match &node.value {
                Value::Map(entries) => {
                    for (k, v) in dedup(entries) {
                        let label = match &k.value {
                            Value::Str(s) => format!("{path}.{s}"),
                            _ => format!("{path}.?"),
                        };
                        self.check(key, k, &label);
                        self.check(value, v, &label);
                    }
                }
                _ => self.fail(
                    node,
                    path,
                    format!("should be a mapping, not {}", describe(node)),
                ),
            },
            Ty::Model(fields) => match &node.value {
                Value::Map(_) => self.model(fields, node, path),
                _ => self.fail(
                    node,
                    path,
                    format!("should be a section (a mapping), not {}", describe(node)),
                ),
            },
        }
    }

    fn model(&mut self, fields: &[Field], node: &Node, path: &str) {
        for Field(name, ty, required) in fields {
            let sub = if path.is_empty() {
                (*name).to_owned()
            } else {
                format!("{path}.{name}")
            };
            match node.get(name) {
                Some(v) => self.check(ty, v, &sub),
                None if *required => self.fail(node, &sub, format!("`{name}` is required")),
                None => {}
            }
        }
    }
}

/// Entries of a mapping with later duplicates winning, in first-seen order (a Python dict).
fn dedup(entries: &[(Node, Node)]) -> Vec<(&Node, &Node)> {
    let mut out: Vec<(&Node, &Node)> = Vec::new();
    for (k, v) in entries {
        match out.iter_mut().find(|(seen, _)| seen.value == k.value) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Null => "empty (null)".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Int(v) => format!("the number {v}"),
        Value::BigInt(_) => "a very large number".to_owned(),
        Value::Float(f) => format!("the number {f}"),
        Value::Str(s) if s.chars().count() > 40 => "a long text".to_owned(),
        Value::Str(s) => format!("{s:?}"),
        Value::Timestamp(t) => format!("the date {t}"),
        Value::Seq(_) => "a list".to_owned(),
        Value::Map(_) => "a mapping".to_owned(),
    }
}

/// Whether a text looks like ProxLB 1.0's INI configuration (`[proxmox]` …).
pub fn looks_like_ini(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .is_some_and(|l| {
            l.starts_with('[')
                && l.ends_with(']')
                && l[1..l.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Validates a loaded document (`None`: an empty file) as ProxLB 2.3.0 would, then adds warnings.
pub fn validate(root: Option<&Node>, ctx: &Context) -> Report {
    let mut report = Report::default();
    let Some(root) = root else {
        report.errors.push(Issue::at(
            Pos { line: 1, column: 1 },
            "",
            "the file is empty; ProxLB needs at least the proxmox_api section",
        ));
        return report;
    };
    let Value::Map(entries) = &root.value else {
        report.errors.push(Issue::at(
            root.pos,
            "",
            format!(
                "the file must be a mapping of sections, not {}",
                describe(root)
            ),
        ));
        return report;
    };
    // `Config(**data)` raises TypeError for a non-string key before pydantic runs.
    if let Some((k, _)) = entries
        .iter()
        .find(|(k, _)| !matches!(k.value, Value::Str(_)))
    {
        report.errors.push(Issue::at(
            k.pos,
            "",
            format!("top-level keys must be text, not {}", describe(k)),
        ));
        return report;
    }
    let legacy_schedule = root
        .get("service")
        .and_then(|s| s.get("schedule"))
        .filter(|s| !matches!(s.value, Value::Map(_)));
    if let Some(schedule) = legacy_schedule {
        report.legacy_1x = true;
        report.warnings.push(Issue::at(
            schedule.pos,
            "service.schedule",
            "ProxLB 1.1.0 form `schedule: <hours>`: 2.x needs `schedule: {interval: 12, format: hours}`",
        ));
    }
    Checker {
        errors: &mut report.errors,
    }
    .model(ROOT, root, "");
    if report.accepted() {
        warnings(root, ctx, &mut report.warnings);
    }
    report
}

fn truthy(node: Option<&Node>) -> bool {
    match node.map(|n| &n.value) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Int(v)) => *v == 1,
        Some(Value::Float(f)) => *f == 1.0,
        Some(Value::Str(s)) => matches!(
            s.to_ascii_lowercase().as_str(),
            "1" | "on" | "t" | "true" | "y" | "yes"
        ),
        _ => false,
    }
}

fn warnings(root: &Node, ctx: &Context, out: &mut Vec<Issue>) {
    let balancing = root.get("balancing");
    if truthy(balancing.and_then(|b| b.get("enable"))) {
        let types = balancing.and_then(|b| b.get("balance_types"));
        if types.is_none_or(|t| matches!(&t.value, Value::Seq(v) if v.is_empty())) {
            out.push(Issue::at(
                types.or(balancing).map_or(root.pos, |n| n.pos),
                "balancing.balance_types",
                "balance_types is empty: ProxLB calculates but migrates nothing (add vm and/or ct)",
            ));
        }
    }
    let api = root.get("proxmox_api");
    let timeout = api.and_then(|a| a.get("timeout"));
    let timeout_value = match timeout.map(|t| &t.value) {
        None => Some(1),
        Some(Value::Int(v)) => Some(*v),
        Some(Value::Bool(b)) => Some(i128::from(*b)),
        Some(Value::Str(s)) => str_to_int(s),
        _ => None,
    };
    if timeout_value.is_some_and(|t| t <= 1) {
        out.push(Issue::at(
            timeout.or(api).map_or(root.pos, |n| n.pos),
            "proxmox_api.timeout",
            "a timeout of 1 second or less (ProxLB's default) often cuts off slow API calls; 10 is usual",
        ));
    }
    let service = root.get("service");
    let ha = service.and_then(|s| s.get("enable_ha"));
    if ctx.in_container && truthy(ha) {
        out.push(Issue::at(
            ha.map_or(root.pos, |n| n.pos),
            "service.enable_ha",
            "enable_ha: true inside a container: ProxLB only balances on the PVE HA master node, so it never balances here",
        ));
    }
    if let Some(known) = &ctx.cluster_nodes {
        for (path, node) in node_names(root) {
            if let Some(name) = node.as_str() {
                if !known.iter().any(|k| k == name) {
                    out.push(Issue::at(
                        node.pos,
                        path,
                        format!("node {name:?} is not in the cluster"),
                    ));
                }
            }
        }
    }
}

/// Every place a node name is written, with its path.
fn node_names(root: &Node) -> Vec<(String, &Node)> {
    let mut out = Vec::new();
    let cluster = root.get("proxmox_cluster");
    for key in ["maintenance_nodes", "ignore_nodes"] {
        if let Some(Value::Seq(items)) = cluster.and_then(|c| c.get(key)).map(|n| &n.value) {
            for (i, it) in items.iter().enumerate() {
                out.push((format!("proxmox_cluster.{key}[{i}]"), it));
            }
        }
    }
    let schedules = cluster
        .and_then(|c| c.get("maintenance_nodes_schedule"))
        .and_then(|s| s.get("schedules"));
    if let Some(Value::Map(entries)) = schedules.map(|n| &n.value) {
        for (k, _) in entries {
            out.push((
                "proxmox_cluster.maintenance_nodes_schedule.schedules".to_owned(),
                k,
            ));
        }
    }
    let balancing = root.get("balancing");
    if let Some(Value::Map(entries)) = balancing
        .and_then(|b| b.get("node_resource_reserve"))
        .map(|n| &n.value)
    {
        for (k, _) in entries {
            if k.as_str() != Some("defaults") {
                out.push(("balancing.node_resource_reserve".to_owned(), k));
            }
        }
    }
    if let Some(Value::Map(pools)) = balancing.and_then(|b| b.get("pools")).map(|n| &n.value) {
        for (name, pool) in pools {
            if let Some(Value::Seq(pins)) = pool.get("pin").map(|n| &n.value) {
                for it in pins {
                    out.push((
                        format!("balancing.pools.{}.pin", name.as_str().unwrap_or("?")),
                        it,
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::yaml11::resolve_plain;

    fn p() -> Pos {
        Pos { line: 1, column: 1 }
    }
    fn s(v: &str) -> Node {
        Node {
            value: resolve_plain(v).unwrap(),
            pos: p(),
        }
    }
    fn q(v: &str) -> Node {
        Node {
            value: Value::Str(v.to_owned()),
            pos: p(),
        }
    }
    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node {
            value: Value::Map(entries.into_iter().map(|(k, v)| (q(k), v)).collect()),
            pos: p(),
        }
    }
    fn seq(items: Vec<Node>) -> Node {
        Node {
            value: Value::Seq(items),
            pos: p(),
        }
    }
    fn minimal(extra: Vec<(&str, Node)>) -> Node {
        let mut entries = vec![(
            "proxmox_api",
            map(vec![
                ("hosts", seq(vec![q("pve1")])),
                ("user", q("root@pam")),
                ("timeout", s("10")),
            ]),
        )];
        entries.extend(extra);
        map(entries)
    }

    #[test]
    fn lax_coercions_match_pydantic() {
        let ok = |section: &str, key: &str, v: Node| {
            validate(
                Some(&minimal(vec![(section, map(vec![(key, v)]))])),
                &Context::default(),
            )
            .accepted()
        };
        assert!(ok("balancing", "balanciness", q(" 10 ")));
        assert!(ok("balancing", "balanciness", q("1_0")));
        assert!(ok("balancing", "balanciness", q("1.000")));
        assert!(!ok("balancing", "balanciness", q("1.")));
        assert!(!ok("balancing", "balanciness", q("1e3")));
        assert!(ok("balancing", "balanciness", s("3.0")));
        assert!(!ok("balancing", "balanciness", s("3.5")));
        assert!(ok("balancing", "enable", s("on")));
        assert!(ok("balancing", "enable", q("Y")));
        assert!(!ok("balancing", "enable", s("2")));
        assert!(!ok("balancing", "enable", s("~")));
        assert!(ok("balancing", "memory_threshold", s("~")));
        assert!(!ok("balancing", "method", q("Memory")));
        assert!(ok("balancing", "cpu_overcommit", q("1e3")));
        assert!(!ok("solver", "log_dir", s("12")));
        assert!(!ok(
            "proxmox_cluster",
            "maintenance_nodes",
            seq(vec![s("no")])
        ));
        assert!(ok(
            "proxmox_cluster",
            "maintenance_nodes",
            seq(vec![q("no")])
        ));
    }

    #[test]
    fn required_keys_and_top_level_shape() {
        assert!(!validate(None, &Context::default()).accepted());
        assert!(!validate(Some(&seq(vec![])), &Context::default()).accepted());
        let no_user = map(vec![("proxmox_api", map(vec![("hosts", seq(vec![]))]))]);
        let report = validate(Some(&no_user), &Context::default());
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].path, "proxmox_api.user");
    }

    #[test]
    fn pitfalls_warn_and_1x_is_recognised() {
        let cfg = minimal(vec![
            (
                "balancing",
                map(vec![("enable", s("true")), ("balance_types", seq(vec![]))]),
            ),
            ("service", map(vec![("enable_ha", s("true"))])),
            (
                "proxmox_cluster",
                map(vec![("maintenance_nodes", seq(vec![q("pve9")]))]),
            ),
        ]);
        let ctx = Context {
            cluster_nodes: Some(vec!["pve1".into()]),
            in_container: true,
        };
        let report = validate(Some(&cfg), &ctx);
        assert!(report.accepted(), "{report:?}");
        let paths: Vec<&str> = report.warnings.iter().map(|w| w.path.as_str()).collect();
        assert!(paths.contains(&"balancing.balance_types"), "{paths:?}");
        assert!(paths.contains(&"service.enable_ha"), "{paths:?}");
        assert!(
            paths.contains(&"proxmox_cluster.maintenance_nodes[0]"),
            "{paths:?}"
        );
        let legacy = minimal(vec![("service", map(vec![("schedule", s("12"))]))]);
        let report = validate(Some(&legacy), &Context::default());
        assert!(report.legacy_1x);
        assert!(!report.accepted());
        assert!(looks_like_ini("# c\n[proxmox]\napi_host=a\n"));
        assert!(!looks_like_ini("proxmox_api:\n  hosts: []\n"));
    }
}
