//! ProxLB's calculation pass (`proxlb/models/calculations.py`) replayed on a projection:
//! most-free-node selection (`get_most_free_node`, :269), `validate_affinity_map` (:680), the
//! maintenance evacuation (:353), `get_balanciness` (:176) and `relocate_guests` (:385-496),
//! ending in the planned `node_target` of every guest.
//!
//! Mirrors `calculations.py` step by step, including its state carried between steps
//! (`balance_next_node`, `balance_next_guest`), because the answer depends on it: e.g. a guest is
//! skipped when the target chosen for the previous guest lacks memory, and guests' `node_current`
//! never changes during planning.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::cluster::GuestKind;
use super::config::{BalancingConfig, Mode, Resource};
use super::rules::{guest_violations, ProxlbView};
use super::trace::{PlanTrace, StepOutcome, TracedGroup};
use super::usage::{
    first_max_by, first_min_by, guest_usage, mark_hot, node_usages, spread, GuestUsage, NodeUsage,
    Spread,
};

/// Result of the threshold test in `get_balanciness`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCheck {
    /// Configured threshold, percent.
    pub threshold: i64,
    /// First node with the highest value.
    pub node: String,
    /// Its value.
    pub value: f64,
    /// `value ≥ threshold`.
    pub reached: bool,
}

/// One evaluation of `get_balanciness`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalanceCheck {
    /// Resource.
    pub method: Resource,
    /// Mode.
    pub mode: Mode,
    /// Allowed spread.
    pub balanciness: i64,
    /// Threshold test (used/assigned modes with a non-zero threshold).
    pub threshold: Option<ThresholdCheck>,
    /// Spread over all nodes (in psi mode shown for information only).
    pub spread: Option<Spread>,
    /// `spread > balanciness` (never set in psi mode).
    pub spread_exceeds: bool,
    /// Nodes hot for `method` (psi mode only).
    pub hot_nodes: Vec<String>,
    /// Guests hot for `method` (psi mode only).
    pub hot_guests: Vec<String>,
    /// The outcome: balancing needed.
    pub balance: bool,
}

/// `get_balanciness` on the current figures.
pub fn balance_check(
    nodes: &[NodeUsage],
    guests: &[GuestUsage],
    balancing: &BalancingConfig,
) -> BalanceCheck {
    let method = balancing.method;
    let mode = balancing.mode;
    let spread = spread(nodes, method, mode);
    let mut check = BalanceCheck {
        method,
        mode,
        balanciness: balancing.balanciness,
        threshold: None,
        spread: spread.clone(),
        spread_exceeds: false,
        hot_nodes: Vec::new(),
        hot_guests: Vec::new(),
        balance: false,
    };
    if mode == Mode::Psi {
        check.hot_nodes = nodes
            .iter()
            .filter(|n| n.resource(method).pressure_hot)
            .map(|n| n.node.clone())
            .collect();
        check.hot_guests = guests
            .iter()
            .filter(|g| g.resource(method).pressure_hot)
            .map(|g| g.guest.clone())
            .collect();
        check.balance = !check.hot_nodes.is_empty() || !check.hot_guests.is_empty();
        return check;
    }
    let Some(spread) = spread else {
        return check;
    };
    if let Some(threshold) = balancing.effective_threshold(method) {
        let reached = spread.highest >= threshold as f64;
        check.threshold = Some(ThresholdCheck {
            threshold,
            node: spread.highest_node.clone(),
            value: spread.highest,
            reached,
        });
        check.balance = reached;
    }
    if spread.spread > balancing.balanciness as f64 {
        check.spread_exceeds = true;
        check.balance = true;
    }
    check
}

/// A migration ProxLB plans (`node_target != node_current`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedMove {
    /// Guest name.
    pub guest: String,
    /// Guest id.
    pub vmid: u32,
    /// VM or CT.
    pub kind: GuestKind,
    /// Current node.
    pub from: String,
    /// Planned node.
    pub to: String,
}

/// Noteworthy steps of the calculation, matching ProxLB's warnings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PlanEvent {
    /// A guest on a maintenance node was assigned to the most free node (or none was found).
    MaintenanceRelocation {
        /// Guest.
        guest: String,
        /// Maintenance node.
        from: String,
        /// Chosen node, `None` when no node qualifies.
        to: Option<String>,
        /// Ignored guests are projected but never get a target.
        ignored: bool,
    },
    /// `Skipping relocation of guest … due to insufficient resources / no target node`.
    SkippedGuest {
        /// Guest.
        guest: String,
        /// Its affinity group (`None`: singleton).
        group: Option<String>,
        /// Target that lacked memory, `None` when there was no target.
        target: Option<String>,
    },
    /// The relocation pass stopped before a group because balancing was no longer needed.
    StoppedBalanced {
        /// Groups processed before stopping.
        groups_processed: usize,
    },
}

/// How `enforce_affinity` ended up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnforceAffinity {
    /// Value in the config.
    pub configured: bool,
    /// Value after `validate_affinity_map`.
    pub effective: bool,
    /// First guest (in ProxLB's order) whose groups are violated.
    pub first_violating_guest: Option<String>,
    /// The only violation was found at the last guest, so ProxLB kept the configured value.
    pub kept_configured_by_last_guest: bool,
}

/// Outcome of the calculation pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanOutcome {
    /// The initial most free node (what `-b` prints); `None` skips the whole pass.
    pub best_node: Option<String>,
    /// `enforce_affinity` after ProxLB overwrote it (`None` when the pass was skipped).
    pub enforce_affinity: Option<EnforceAffinity>,
    /// `get_balanciness` after the maintenance evacuation (`None` when skipped).
    pub balance_check: Option<BalanceCheck>,
    /// The relocation pass ran.
    pub relocation_ran: bool,
    /// Planned migrations in ProxLB's guest order (before `balance_types` filtering).
    pub moves: Vec<PlannedMove>,
    /// Noteworthy steps.
    pub events: Vec<PlanEvent>,
    /// Node figures before planning (hot marks applied).
    pub nodes_before: Vec<NodeUsage>,
    /// Projected node figures after planning (what `-j` shows).
    pub nodes_after: Vec<NodeUsage>,
    /// Guest figures with hot marks.
    pub guests: Vec<GuestUsage>,
    /// What the relocation pass did, guest by guest (for explanations; not serialised).
    #[serde(skip)]
    pub trace: PlanTrace,
    /// Ignored guests whose figures the projection moved to another node (ProxLB never
    /// migrates them, but `nodes_after` counts them there), in the order they were shifted.
    #[serde(default)]
    pub ignored_shifted: Vec<String>,
}

struct SimGuest {
    current: usize,
    target: usize,
    processed: bool,
    ignored: bool,
    pins: Vec<String>,
    strict: bool,
    /// Indexes into `Sim::anti` of the guest's anti-affinity groups, ascending.
    anti_groups: Vec<usize>,
}

struct AffinityGroup {
    name: Option<String>,
    guests: Vec<usize>,
    memory_used: f64,
}

struct AntiGroup {
    guests: Vec<usize>,
    used_nodes: Vec<usize>,
}

struct Sim<'a> {
    view: &'a ProxlbView,
    balancing: &'a BalancingConfig,
    nodes: Vec<NodeUsage>,
    guests: Vec<GuestUsage>,
    sim: Vec<SimGuest>,
    anti: Vec<AntiGroup>,
    next_node: Option<usize>,
    next_guest: Option<usize>,
    processed_psi: Vec<usize>,
    events: Vec<PlanEvent>,
    trace: PlanTrace,
    /// Ignored guests whose figures moved (see [`PlanOutcome::ignored_shifted`]).
    ignored_shifted: Vec<usize>,
}

impl Sim<'_> {
    /// `get_most_free_node`, optionally limited to pinned nodes (exact names).
    fn most_free_node(&mut self, pins: Option<&[String]>) -> Option<usize> {
        self.next_node = None;
        let candidates: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].maintenance)
            .filter(|&i| match pins {
                Some(pins) if !pins.is_empty() => pins.contains(&self.nodes[i].node),
                _ => true,
            })
            .collect();
        let (method, mode) = (self.balancing.method, self.balancing.mode);
        let pick = first_min_by(
            candidates
                .iter()
                .map(|&i| self.nodes[i].value(method, mode)),
        )
        .map(|k| candidates[k]);
        self.next_node = pick;
        pick
    }

    /// `update_node_resources`: shifts the next guest's figures to the next node.
    fn update_node_resources(&mut self) {
        let (Some(g), Some(target)) = (self.next_guest, self.next_node) else {
            return;
        };
        let current = self.sim[g].current;
        for resource in Resource::ALL {
            let figures = *self.guests[g].resource(resource);
            let t = self.nodes[target].resource_mut(resource);
            t.assigned += figures.total;
            t.used += figures.used;
            let c = self.nodes[current].resource_mut(resource);
            c.assigned -= figures.total;
            c.used -= figures.used;
        }
        // Resources move even for ignored guests; only the target assignment is skipped.
        if !self.sim[g].ignored {
            self.sim[g].target = target;
        } else if target != current && !self.ignored_shifted.contains(&g) {
            self.ignored_shifted.push(g);
        }
        self.nodes[target].recalc();
        self.nodes[current].recalc();
    }

    fn validate_node_resources(&self, g: usize) -> bool {
        self.next_node
            .is_some_and(|t| self.guests[g].memory.used < self.nodes[t].memory.free)
    }

    fn val_anti_affinity(&mut self, g: usize) {
        if self.sim[g].processed {
            return;
        }
        for i in 0..self.sim[g].anti_groups.len() {
            let group = self.sim[g].anti_groups[i];
            if self.anti[group].guests.len() > 1 {
                // The first node in /nodes order not used yet by the group and not in maintenance.
                let free = (0..self.nodes.len()).find(|&n| {
                    !self.anti[group].used_nodes.contains(&n) && !self.nodes[n].maintenance
                });
                if let Some(n) = free {
                    self.next_node = Some(n);
                    self.anti[group].used_nodes.push(n);
                }
            }
        }
    }

    /// Nodes already used by the guest's anti-affinity groups of 2 or more (for the trace);
    /// `None` when it is in no such group.
    fn anti_used_nodes(&self, g: usize) -> Option<Vec<usize>> {
        let mut groups = self.sim[g]
            .anti_groups
            .iter()
            .map(|&k| &self.anti[k])
            .filter(|a| a.guests.len() > 1)
            .peekable();
        groups.peek()?;
        let mut used: Vec<usize> = Vec::new();
        for group in groups {
            for &n in &group.used_nodes {
                if !used.contains(&n) {
                    used.push(n);
                }
            }
        }
        Some(used)
    }

    fn val_node_relationships(&mut self, g: usize) {
        self.sim[g].processed = true;
        if self.sim[g].pins.is_empty() {
            return;
        }
        let mut relation = self.sim[g].pins.clone();
        if !self.sim[g].strict {
            if let Some(n) = self.most_free_node(None) {
                relation.push(self.nodes[n].node.clone());
            }
        }
        self.most_free_node(Some(&relation));
        // ProxLB appends to the guest's own list (visible in -j output).
        self.sim[g].pins = relation;
    }
}

/// Runs ProxLB's whole calculation pass on a view.
pub fn simulate(view: &ProxlbView, balancing: &BalancingConfig) -> PlanOutcome {
    let mut nodes = node_usages(view, balancing);
    let mut guests: Vec<GuestUsage> = view.guests.iter().map(guest_usage).collect();
    mark_hot(&mut nodes, &mut guests, balancing);
    let nodes_before = nodes.clone();
    // Node name → position, looked up once per guest (a scan of the node list per guest compared
    // names 10,000 × 32 times at 64 nodes). The first node of a name wins, as with a scan.
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (position, node) in nodes.iter().enumerate() {
        positions.entry(node.node.as_str()).or_insert(position);
    }
    let node_pos = |name: &str| positions.get(name).copied().unwrap_or(0);
    let mut sim: Vec<SimGuest> = view
        .guests
        .iter()
        .map(|g| {
            let current = node_pos(&g.guest.node);
            SimGuest {
                current,
                target: current,
                processed: false,
                ignored: g.ignored(),
                pins: g.pins.iter().map(|p| p.node.clone()).collect(),
                strict: g.pin_strict,
                anti_groups: Vec::new(),
            }
        })
        .collect();

    // Groups in first-seen order, found by name through an index: a guest without a group is a
    // group of its own, so a scan per guest was quadratic (10,000 groups at 10,000 guests).
    let mut affinity: Vec<AffinityGroup> = Vec::new();
    let mut affinity_index: HashMap<&str, usize> = HashMap::new();
    let mut anti_index: HashMap<&str, usize> = HashMap::new();
    let mut anti: Vec<AntiGroup> = Vec::new();
    for (i, g) in view.guests.iter().enumerate() {
        let name = g.effective_affinity_group();
        let mem = guests[i].memory.used;
        match name.and_then(|n| affinity_index.get(n)) {
            Some(&k) => {
                affinity[k].guests.push(i);
                affinity[k].memory_used += mem;
            }
            None => {
                if let Some(n) = name {
                    affinity_index.insert(n, affinity.len());
                }
                affinity.push(AffinityGroup {
                    name: name.map(str::to_owned),
                    guests: vec![i],
                    memory_used: mem,
                });
            }
        }
        for (group, _) in &g.anti_affinity_groups {
            let k = match anti_index.get(group.as_str()) {
                Some(&k) => {
                    anti[k].guests.push(i);
                    k
                }
                None => {
                    anti_index.insert(group, anti.len());
                    anti.push(AntiGroup {
                        guests: vec![i],
                        used_nodes: Vec::new(),
                    });
                    anti.len() - 1
                }
            };
            sim[i].anti_groups.push(k);
        }
        // ProxLB walks the groups in first-seen order.
        sim[i].anti_groups.sort_unstable();
        sim[i].anti_groups.dedup();
    }

    let mut s = Sim {
        view,
        balancing,
        nodes,
        guests,
        sim,
        anti,
        next_node: None,
        next_guest: None,
        processed_psi: Vec::new(),
        events: Vec::new(),
        ignored_shifted: Vec::new(),
        trace: PlanTrace {
            method: balancing.method,
            mode: balancing.mode,
            ..PlanTrace::default()
        },
    };

    let best_node = s.most_free_node(None).map(|n| s.nodes[n].node.clone());
    let mut outcome = PlanOutcome {
        best_node: best_node.clone(),
        enforce_affinity: None,
        balance_check: None,
        relocation_ran: false,
        moves: Vec::new(),
        events: Vec::new(),
        nodes_before,
        nodes_after: Vec::new(),
        guests: Vec::new(),
        trace: PlanTrace::default(),
        ignored_shifted: Vec::new(),
    };
    if best_node.is_some() {
        let enforce = validate_affinity_map(view, balancing.enforce_affinity);
        evacuate_maintenance(&mut s);
        let check = balance_check(&s.nodes, &s.guests, balancing);
        outcome.relocation_ran = relocate(&mut s, check.balance, enforce.effective, &mut affinity);
        outcome.balance_check = Some(check);
        outcome.enforce_affinity = Some(enforce);
    }
    outcome.moves = view
        .guests
        .iter()
        .zip(&s.sim)
        .filter(|(_, sg)| sg.target != sg.current)
        .map(|(g, sg)| PlannedMove {
            guest: g.guest.name.clone(),
            vmid: g.guest.vmid,
            kind: g.guest.kind,
            from: s.nodes[sg.current].node.clone(),
            to: s.nodes[sg.target].node.clone(),
        })
        .collect();
    outcome.ignored_shifted = s
        .ignored_shifted
        .iter()
        .map(|&g| view.guests[g].guest.name.clone())
        .collect();
    outcome.events = s.events;
    outcome.nodes_after = s.nodes;
    outcome.guests = s.guests;
    outcome.trace = s.trace;
    outcome
}

/// `validate_affinity_map`, including its loop quirk: a violation first seen at the very last
/// guest leaves the configured value in place.
pub fn validate_affinity_map(view: &ProxlbView, configured: bool) -> EnforceAffinity {
    let mut ok = true;
    let mut effective = configured;
    let mut first = None;
    let mut broke = false;
    for guest in &view.guests {
        if !ok {
            effective = true;
            broke = true;
            break;
        }
        ok = guest_violations(view, guest).is_empty();
        if !ok && first.is_none() {
            first = Some(guest.guest.name.clone());
        }
    }
    if ok {
        effective = false;
    }
    EnforceAffinity {
        configured,
        effective,
        kept_configured_by_last_guest: !ok && !broke,
        first_violating_guest: first,
    }
}

fn evacuate_maintenance(s: &mut Sim<'_>) {
    s.next_guest = None;
    let on_maintenance: Vec<usize> = (0..s.sim.len())
        .filter(|&g| s.nodes[s.sim[g].current].maintenance)
        .collect();
    for g in on_maintenance {
        s.next_guest = Some(g);
        let source = s.sim[g].current;
        s.trace.evacuation(g, source, &s.nodes);
        let to = s.most_free_node(None);
        if to.is_some() {
            s.update_node_resources();
        }
        s.events.push(PlanEvent::MaintenanceRelocation {
            guest: s.view.guests[g].guest.name.clone(),
            from: s.nodes[s.sim[g].current].node.clone(),
            to: to.map(|n| s.nodes[n].node.clone()),
            ignored: s.sim[g].ignored,
        });
    }
}

fn relocate(
    s: &mut Sim<'_>,
    balance: bool,
    enforce_affinity: bool,
    affinity: &mut [AffinityGroup],
) -> bool {
    let enforce_pinning = s.balancing.enforce_pinning;
    if !(balance || enforce_affinity || enforce_pinning) {
        return false;
    }
    let larger_first = s.balancing.balance_larger_guests_first;
    // Stable sort like Python's sorted(): by member count, then group memory used.
    affinity.sort_by(|a, b| {
        let by_count = a.guests.len().cmp(&b.guests.len());
        let (x, y) = if larger_first {
            (-a.memory_used, -b.memory_used)
        } else {
            (a.memory_used, b.memory_used)
        };
        by_count.then(x.partial_cmp(&y).unwrap_or(Ordering::Equal))
    });
    let method = s.balancing.method;
    let mode = s.balancing.mode;
    s.trace.set_groups(
        affinity
            .iter()
            .map(|a| TracedGroup {
                name: a.name.clone(),
                guests: a.guests.clone(),
                memory_used: a.memory_used,
            })
            .collect(),
    );
    for (processed, group) in affinity.iter().enumerate() {
        let check = balance_check(&s.nodes, &s.guests, s.balancing);
        if !check.balance && !enforce_affinity && !enforce_pinning {
            s.events.push(PlanEvent::StoppedBalanced {
                groups_processed: processed,
            });
            s.trace.stopped_before_group = Some(processed);
            break;
        }
        s.most_free_node(None);
        for &g in &group.guests {
            let source = s.sim[g].current;
            let highest = first_max_by(s.nodes.iter().map(|n| n.resource(method).used_percent));
            if highest != Some(source) {
                s.trace.not_fullest(g, processed, source, highest, &s.nodes);
                break;
            }
            let step = s.trace.begin(
                g,
                processed,
                source,
                &s.nodes,
                s.next_node,
                StepOutcome::SkippedMemory,
            );
            if !s.validate_node_resources(g) {
                s.events.push(PlanEvent::SkippedGuest {
                    guest: s.view.guests[g].guest.name.clone(),
                    group: group.name.clone(),
                    target: s.next_node.map(|n| s.nodes[n].node.clone()),
                });
                continue;
            }
            if mode == Mode::Psi {
                let unprocessed: Vec<usize> = (0..s.guests.len())
                    .filter(|i| !s.processed_psi.contains(i))
                    .collect();
                // ProxLB would crash on an empty list here; treating it as "no match" instead.
                let top = first_max_by(
                    unprocessed
                        .iter()
                        .map(|&i| s.guests[i].resource(method).pressure.full_spikes),
                )
                .map(|k| unprocessed[k]);
                if top == Some(g) {
                    s.processed_psi.push(g);
                    s.next_guest = Some(g);
                }
            } else {
                s.next_guest = Some(g);
            }
            let anti_used = s.anti_used_nodes(g);
            s.val_anti_affinity(g);
            let anti_pick = anti_used.as_ref().and(s.next_node);
            s.val_node_relationships(g);
            let outcome = if s.next_guest == Some(g) {
                StepOutcome::Assigned
            } else {
                StepOutcome::PsiNotTop
            };
            s.trace.finish(
                step,
                outcome,
                anti_used.unwrap_or_default(),
                anti_pick,
                &s.sim[g].pins,
                s.next_node,
                s.next_guest,
            );
            s.update_node_resources();
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::cluster::ClusterSnapshot;
    use crate::proxlb::maintenance::maintenance_overview;
    use crate::proxlb::rules::tests::{config, guest, monday_noon, node};
    use crate::proxlb::ProxLbConfig;

    fn run(snapshot: &ClusterSnapshot, config: &ProxLbConfig) -> PlanOutcome {
        let maintenance =
            maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, monday_noon());
        let view = ProxlbView::build(snapshot, config, &maintenance);
        simulate(&view, &config.balancing)
    }

    fn moves(outcome: &PlanOutcome) -> Vec<(String, String, String)> {
        outcome
            .moves
            .iter()
            .map(|m| (m.guest.clone(), m.from.clone(), m.to.clone()))
            .collect()
    }

    #[test]
    fn balanced_cluster_plans_nothing() {
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 40), node("pve2", 35)],
            guests: vec![guest(100, "a", "pve1", &[]), guest(101, "b", "pve2", &[])],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config());
        assert_eq!(outcome.best_node.as_deref(), Some("pve2"));
        let check = outcome.balance_check.unwrap();
        assert!(!check.balance);
        assert_eq!(check.spread.unwrap().spread, 5.0);
        assert!(!outcome.relocation_ran);
        assert!(outcome.moves.is_empty());
    }

    #[test]
    fn spread_moves_smallest_group_from_the_fullest_node() {
        let mut big = guest(101, "big", "pve1", &[]);
        big.mem_used = 30 * crate::proxlb::rules::tests::GIB;
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 80), node("pve2", 20)],
            guests: vec![
                guest(100, "small", "pve1", &[]),
                big,
                guest(102, "c", "pve2", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config());
        assert!(outcome.relocation_ran);
        // Groups sorted by size then memory (stable): small, c, big. small moves (pve1 78 %,
        // pve2 22 %); c is not on the fullest node; big still is, so it moves too (48 % / 52 %).
        assert_eq!(
            moves(&outcome),
            vec![
                ("small".into(), "pve1".into(), "pve2".into()),
                ("big".into(), "pve1".into(), "pve2".into())
            ]
        );
        let after = &outcome.nodes_after;
        assert!((after[0].memory.used_percent - 48.0).abs() < 1e-9);
    }

    #[test]
    fn anti_affinity_assigns_nodes_in_list_order() {
        let tags = ["plb_anti_affinity_db"];
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), node("pve2", 90), node("pve3", 10)],
            guests: vec![
                guest(100, "db1", "pve2", &tags),
                guest(101, "db2", "pve2", &tags),
            ],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config());
        assert!(outcome.enforce_affinity.clone().unwrap().effective);
        // db1 gets pve1 (first unused), db2 gets pve2 (second unused): db2 stays.
        assert_eq!(
            moves(&outcome),
            vec![("db1".into(), "pve2".into(), "pve1".into())]
        );
    }

    #[test]
    fn maintenance_guests_go_to_the_most_free_node_ignoring_pins() {
        let mut maint = node("pve1", 30);
        maint.ha_maintenance = true;
        let snapshot = ClusterSnapshot {
            nodes: vec![maint, node("pve2", 50), node("pve3", 40)],
            guests: vec![
                guest(100, "a", "pve1", &["plb_pin_pve2"]),
                guest(101, "ign", "pve1", &["plb_ignore"]),
            ],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config());
        assert_eq!(outcome.best_node.as_deref(), Some("pve3"));
        assert!(outcome.events.contains(&PlanEvent::MaintenanceRelocation {
            guest: "ign".into(),
            from: "pve1".into(),
            to: Some("pve3".into()),
            ignored: true
        }));
        // The ignored guest is projected but not moved. `a` goes to the most free node, not to its
        // pin; the relocation pass then stops at once because pve2 (not pve1) is the fullest node.
        assert_eq!(
            moves(&outcome),
            vec![("a".into(), "pve1".into(), "pve3".into())]
        );
    }

    #[test]
    fn the_balancing_pass_shifts_an_ignored_guest_in_the_projection_only() {
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 80), node("pve2", 20)],
            guests: vec![
                guest(100, "ign", "pve1", &["plb_ignore"]),
                guest(101, "b", "pve2", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config());
        assert!(outcome.relocation_ran);
        // Nothing is migrated, yet the projection counts the ignored guest on pve2.
        assert!(moves(&outcome).is_empty());
        assert_eq!(outcome.ignored_shifted, vec!["ign".to_owned()]);
        assert_ne!(outcome.nodes_before, outcome.nodes_after);
    }

    #[test]
    fn all_nodes_in_maintenance_means_no_target_and_no_pass() {
        let mut config = config();
        config.proxmox_cluster.maintenance_nodes = vec!["pve1".into()];
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 90)],
            guests: vec![guest(100, "a", "pve1", &[])],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config);
        assert_eq!(outcome.best_node, None);
        assert!(outcome.balance_check.is_none());
        assert!(outcome.moves.is_empty());
    }

    #[test]
    fn affinity_map_last_guest_quirk() {
        let mut maint = node("pve2", 10);
        maint.ha_maintenance = true;
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), maint],
            guests: vec![guest(100, "a", "pve1", &[]), guest(101, "z", "pve2", &[])],
            ..ClusterSnapshot::default()
        };
        let config = config();
        let maintenance =
            maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, monday_noon());
        let view = ProxlbView::build(&snapshot, &config, &maintenance);
        let kept = validate_affinity_map(&view, false);
        assert!(kept.kept_configured_by_last_guest);
        assert!(!kept.effective);
        assert_eq!(kept.first_violating_guest.as_deref(), Some("z"));
        assert!(validate_affinity_map(&view, true).effective);
        // With the violating guest first, the violation is enforced.
        let snapshot = ClusterSnapshot {
            nodes: vec![snapshot.nodes[1].clone(), snapshot.nodes[0].clone()],
            ..snapshot
        };
        let view = ProxlbView::build(&snapshot, &config, &maintenance);
        let enforced = validate_affinity_map(&view, false);
        assert!(enforced.effective && !enforced.kept_configured_by_last_guest);
    }

    #[test]
    fn insufficient_memory_on_target_skips_the_guest() {
        let mut huge = guest(100, "huge", "pve1", &[]);
        huge.mem_used = 85 * crate::proxlb::rules::tests::GIB;
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 95), node("pve2", 20)],
            guests: vec![huge],
            ..ClusterSnapshot::default()
        };
        let outcome = run(&snapshot, &config());
        assert!(outcome.relocation_ran);
        assert!(outcome.moves.is_empty());
        assert_eq!(
            outcome.events,
            vec![PlanEvent::SkippedGuest {
                guest: "huge".into(),
                group: None,
                target: Some("pve2".into())
            }]
        );
    }
}
