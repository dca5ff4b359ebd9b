//! A typed parse of what real ProxLB 2.3.0 prints for `-j` (its whole data model as JSON,
//! `proxlb/utils/helper.py:255-273`, schema `proxlb/utils/proxlb_data.py:57-140`) and for `-b`
//! (one node name, `proxlb/models/calculations.py:345-347`).
//!
//! Without python-systemd, ProxLB's log lines share stdout with the JSON and the node name, so
//! both parsers take the whole captured output: the JSON block runs from a line equal to `{` to
//! the last line equal to `}`; the best node is the last line that is not a log line.
//!
//! Caveats of the `-j` data, kept visible in the types:
//! - `nodes.*` figures are **projections** after the planned moves (including moves of ignored
//!   guests), not live usage (`proxlb/models/calculations.py:599-677`).
//! - Guests without an affinity group get a random UUID4 group name per run
//!   (`proxlb/models/groups.py:72`): compare groups by their members
//!   ([`ProxlbPlan::affinity_member_sets`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Why an output could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum PlanJsonError {
    /// No line equal to `{` followed by a line equal to `}`.
    #[error("ProxLB's output holds no JSON block")]
    NoJson,
    /// The block is not ProxLB's `-j` JSON.
    #[error("ProxLB's JSON does not match the 2.3.0 schema: {0}")]
    Schema(#[from] serde_json::Error),
    /// `-b` printed no node name.
    #[error("ProxLB printed no best node")]
    NoBestNode,
}

/// Everything `-j` prints (top-level keys `groups`, `guests`, `ha_rules`, `nodes`, `pools`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxlbPlan {
    /// Affinity, anti-affinity and maintenance groups.
    pub groups: PlanGroups,
    /// Collected (running) guests by name, with their planned node.
    pub guests: BTreeMap<String, PlanGuest>,
    /// HA rules by id (PVE 9 only).
    #[serde(default)]
    pub ha_rules: BTreeMap<String, PlanHaRule>,
    /// Collected nodes by name (figures are projections after the plan).
    pub nodes: BTreeMap<String, PlanNode>,
    /// PVE pools by id.
    #[serde(default)]
    pub pools: BTreeMap<String, PlanPool>,
}

/// `groups` of `-j`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGroups {
    /// Affinity groups (singletons under random UUID names).
    #[serde(default)]
    pub affinity: BTreeMap<String, PlanAffinityGroup>,
    /// Anti-affinity groups.
    #[serde(default)]
    pub anti_affinity: BTreeMap<String, PlanAntiAffinityGroup>,
    /// Guests on maintenance nodes.
    #[serde(default)]
    pub maintenance: Vec<String>,
}

/// Totals of one resource of an affinity group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupResource {
    /// Sum of the members' totals.
    pub total: f64,
    /// Sum of the members' used figures.
    pub used: f64,
}

/// One affinity group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanAffinityGroup {
    /// Members.
    pub counter: u64,
    /// Member names, in collection order.
    pub guests: Vec<String>,
    /// CPU totals.
    pub cpu: GroupResource,
    /// Disk totals.
    pub disk: GroupResource,
    /// Memory totals.
    pub memory: GroupResource,
}

/// One anti-affinity group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanAntiAffinityGroup {
    /// Member names.
    pub guests: Vec<String>,
    /// Members.
    pub counter: u64,
    /// Nodes handed out to members during planning, in order.
    #[serde(default)]
    pub used_nodes: Vec<String>,
}

/// Figures of one resource of a guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanGuestMetric {
    /// Assigned (`cpus`, `maxmem`, `maxdisk`).
    pub total: f64,
    /// Used (CPU: the RRD mean as a fraction of the guest's vCPUs).
    pub used: f64,
    /// RRD mean of "some" pressure.
    pub pressure_some_percent: f64,
    /// RRD mean of "full" pressure.
    pub pressure_full_percent: f64,
    /// Max of the last 6 "some" MAX samples.
    pub pressure_some_spikes_percent: f64,
    /// Max of the last 6 "full" MAX samples.
    pub pressure_full_spikes_percent: f64,
    /// Hot by the PSI thresholds.
    pub pressure_hot: bool,
}

/// An HA rule as embedded in guests and listed under `ha_rules`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanHaRule {
    /// Rule id.
    pub rule: String,
    /// `affinity` or `anti-affinity`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Nodes of a node-affinity rule.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Member vmids.
    #[serde(default)]
    pub members: Vec<u32>,
}

/// One collected guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGuest {
    /// Name (ProxLB's key).
    pub name: String,
    /// vmid.
    pub id: u32,
    /// `vm` or `ct`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it runs.
    pub node_current: String,
    /// Where the plan puts it.
    pub node_target: String,
    /// Went through the relocation pass.
    #[serde(default)]
    pub processed: bool,
    /// Any resource hot.
    #[serde(default)]
    pub pressure_hot: bool,
    /// CPU figures.
    pub cpu: PlanGuestMetric,
    /// Disk figures.
    pub disk: PlanGuestMetric,
    /// Memory figures.
    pub memory: PlanGuestMetric,
    /// Tags (`[""]` when it has none).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Pool names.
    #[serde(default)]
    pub pools: Vec<String>,
    /// HA rules it is a member of.
    #[serde(default)]
    pub ha_rules: Vec<PlanHaRule>,
    /// Affinity groups (only the last one counts).
    #[serde(default)]
    pub affinity_groups: Vec<String>,
    /// Anti-affinity groups.
    #[serde(default)]
    pub anti_affinity_groups: Vec<String>,
    /// Ignored (never migrated).
    #[serde(default)]
    pub ignore: bool,
    /// Pinned nodes (a non-strict pin has the most free node appended during planning).
    #[serde(default)]
    pub node_relationships: Vec<String>,
    /// Pins are strict.
    #[serde(default)]
    pub node_relationships_strict: bool,
}

/// Figures of one resource of a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanNodeMetric {
    /// Capacity (cores or bytes; memory after `node_resource_reserve`).
    pub total: f64,
    /// Assigned to guests.
    pub assigned: f64,
    /// Used.
    pub used: f64,
    /// Free.
    pub free: f64,
    /// Assigned percent.
    pub assigned_percent: f64,
    /// Free percent.
    pub free_percent: f64,
    /// Used percent.
    pub used_percent: f64,
    /// RRD mean of "some" pressure.
    pub pressure_some_percent: f64,
    /// RRD mean of "full" pressure (CPU: always 0).
    pub pressure_full_percent: f64,
    /// Spikes of "some".
    pub pressure_some_spikes_percent: f64,
    /// Spikes of "full" (CPU: always 0).
    pub pressure_full_spikes_percent: f64,
    /// Hot by the PSI thresholds.
    pub pressure_hot: bool,
}

/// One collected node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanNode {
    /// Name.
    pub name: String,
    /// pve-manager version.
    pub pve_version: String,
    /// Any resource hot.
    #[serde(default)]
    pub pressure_hot: bool,
    /// In maintenance (config, schedule or HA).
    #[serde(default)]
    pub maintenance: bool,
    /// CPU (cores).
    pub cpu: PlanNodeMetric,
    /// Root disk.
    pub disk: PlanNodeMetric,
    /// Memory.
    pub memory: PlanNodeMetric,
}

/// One PVE pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanPool {
    /// Pool id.
    pub name: String,
    /// Member guest names.
    #[serde(default)]
    pub members: Vec<String>,
}

impl ProxlbPlan {
    /// Planned migrations: guest name → (current node, target node), only where they differ.
    pub fn moves(&self) -> BTreeMap<String, (String, String)> {
        self.guests
            .values()
            .filter(|g| g.node_current != g.node_target)
            .map(|g| {
                (
                    g.name.clone(),
                    (g.node_current.clone(), g.node_target.clone()),
                )
            })
            .collect()
    }

    /// Affinity groups as member sets (UUID names of singletons dropped), for comparisons.
    pub fn affinity_member_sets(&self) -> BTreeSet<BTreeSet<String>> {
        self.groups
            .affinity
            .values()
            .map(|g| g.guests.iter().cloned().collect())
            .collect()
    }

    /// Anti-affinity groups by name with their member sets (names are the tags or pool/rule ids).
    pub fn anti_affinity_members(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.groups
            .anti_affinity
            .iter()
            .map(|(name, g)| (name.clone(), g.guests.iter().cloned().collect()))
            .collect()
    }
}

/// The JSON block of a `-j` run's output: from a line equal to `{` to the last line equal to `}`.
pub fn json_block(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().position(|l| l.trim_end() == "{")?;
    let end = lines.iter().rposition(|l| l.trim_end() == "}")?;
    (end > start).then(|| lines[start..=end].join("\n"))
}

/// Parses the output of `proxlb -d -j` (log lines around the JSON are skipped).
pub fn parse_plan(output: &str) -> Result<ProxlbPlan, PlanJsonError> {
    let block = json_block(output).ok_or(PlanJsonError::NoJson)?;
    Ok(serde_json::from_str(&block)?)
}

/// A ProxLB log line as printed without python-systemd: `YYYY-MM-DD HH:MM:SS,mmm - ProxLB - LEVEL - …`.
fn is_log_line(line: &str) -> bool {
    line.contains(" - ProxLB - ")
}

/// Parses the output of `proxlb -d -b`: the last non-empty line that is not a log line. ProxLB
/// prints nothing when no node is eligible (then it goes on with a normal run, which is why `-b`
/// is always combined with `-d`).
pub fn parse_best_node(output: &str) -> Result<String, PlanJsonError> {
    output
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !is_log_line(l))
        .filter(|l| !l.contains(char::is_whitespace) && *l != "}")
        .map(str::to_owned)
        .ok_or(PlanJsonError::NoBestNode)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Captured from real ProxLB 2.3.0 (`-d -j` and `-d -b`, log level INFO) against pve-sim's
    // demo-3node scenario, balanciness 10, memory/used.
    const DEMO_J: &str = include_str!("../../../tests/fixtures/proxlb/demo-3node-dj.txt");
    const DEMO_B: &str = include_str!("../../../tests/fixtures/proxlb/demo-3node-db.txt");

    #[test]
    fn parses_the_demo_plan() {
        let plan = parse_plan(DEMO_J).unwrap();
        assert_eq!(plan.guests.len(), 10);
        assert_eq!(
            plan.nodes.keys().collect::<Vec<_>>(),
            ["pve1", "pve2", "pve3"]
        );
        let web01 = &plan.guests["web01"];
        assert_eq!(web01.id, 100);
        assert_eq!(web01.kind, "vm");
        assert_eq!(web01.affinity_groups, ["plb_affinity_web"]);
        assert_eq!(web01.pools, ["prod"]);
        assert_eq!(plan.nodes["pve1"].pve_version, "9.1.2");
        assert_eq!(plan.ha_rules["db-on-big-nodes"].members, [102]);
        assert_eq!(plan.ha_rules["db-on-big-nodes"].kind, "affinity");
        assert!(plan.guests["legacy01"].ignore);
        let moves = plan.moves();
        assert!(!moves.is_empty());
        assert!(moves.values().all(|(from, _)| from == "pve1"), "{moves:?}");
        assert_eq!(moves["web01"], ("pve1".to_string(), "pve3".to_string()));
        // Groups compare by members: the web pair is one set, singletons are sets of one.
        let sets = plan.affinity_member_sets();
        assert!(sets.contains(&["web01".to_string(), "web02".to_string()].into()));
        assert_eq!(
            sets.iter().map(BTreeSet::len).sum::<usize>(),
            plan.guests.len()
        );
        assert_eq!(
            plan.anti_affinity_members()["plb_anti_affinity_db"],
            ["db01".to_string(), "db02".to_string()].into()
        );
        assert!(plan.groups.maintenance.is_empty());
    }

    #[test]
    fn parses_the_best_node_after_log_lines() {
        assert_eq!(parse_best_node(DEMO_B).unwrap(), "pve3");
        assert_eq!(parse_best_node("pve2\n\n").unwrap(), "pve2");
    }

    #[test]
    fn missing_or_broken_output_is_an_error() {
        let logs_only = "2026-11-30 09:45:03,386 - ProxLB - INFO - Using config path: x\n";
        assert!(matches!(
            parse_best_node(logs_only),
            Err(PlanJsonError::NoBestNode)
        ));
        assert!(matches!(parse_plan(logs_only), Err(PlanJsonError::NoJson)));
        assert!(matches!(
            parse_plan("{\n\"guests\": 1\n}\n"),
            Err(PlanJsonError::Schema(_))
        ));
        // A -j run is not a best node.
        assert!(parse_best_node(DEMO_J).is_err());
    }
}
