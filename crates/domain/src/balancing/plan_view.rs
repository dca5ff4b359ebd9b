//! The plan as the Balancing view shows it: the verdict with its reasons, a bar per node
//! before and after the plan for the balanced resource, the moves with their reasons, and the
//! explanation of any one guest. Built from [`Decision`] (ProxLB's calculation replayed), so it
//! is small enough to send at 10,000 guests: nothing per guest but the moves.

use serde::{Deserialize, Serialize};

use crate::explain::{describe_ignore, describe_move, describe_note, describe_reason, mode_name};
use crate::proxlb::cluster::{Guest, GuestKind, GuestStatus};
use crate::proxlb::config::{BalanceType, BalancingConfig, Mode, Resource};
use crate::proxlb::decision::{Decision, ReasonEffect};
use crate::proxlb::plan::PlanEvent;
use crate::proxlb::rules::GroupKind;
use crate::proxlb::usage::{spread, NodeUsage};

/// One reason line with its effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReasonLine {
    /// Triggers, prevents or informs.
    pub effect: ReasonEffect,
    /// The sentence.
    pub text: String,
}

/// A node's value of the balanced resource before and after the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeBar {
    /// Node name.
    pub node: String,
    /// In maintenance.
    pub maintenance: bool,
    /// Percent before the plan.
    pub before: f64,
    /// Percent after the plan (ProxLB's projection).
    pub after: f64,
}

/// One planned move with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoveLine {
    /// Guest name.
    pub guest: String,
    /// VMID.
    pub vmid: u32,
    /// VM or CT.
    pub kind: GuestKind,
    /// Current node.
    pub from: String,
    /// Planned node.
    pub to: String,
    /// Whether ProxLB would issue it (balancing enabled, type balanced).
    pub issued: bool,
    /// Why this guest and why this target (and why not issued).
    pub reasons: Vec<String>,
}

/// The plan of one configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    /// Balanced resource.
    pub method: Resource,
    /// How it is measured.
    pub mode: Mode,
    /// Allowed spread.
    pub balanciness: i64,
    /// Threshold of the balanced resource.
    pub threshold: Option<i64>,
    /// ProxLB would migrate guests now.
    pub would_balance: bool,
    /// One sentence.
    pub verdict: String,
    /// The reasons behind the verdict.
    pub reasons: Vec<ReasonLine>,
    /// ProxLB quirks that shaped it.
    pub notes: Vec<String>,
    /// Bars per node.
    pub nodes: Vec<NodeBar>,
    /// Spread before, in points.
    pub spread_before: Option<f64>,
    /// Spread after, in points.
    pub spread_after: Option<f64>,
    /// The node ProxLB would choose for a guest now (`proxlb -d -b`).
    pub best_node: Option<String>,
    /// The moves.
    pub moves: Vec<MoveLine>,
    /// Steps worth knowing (skipped guests, the pass stopping early).
    pub events: Vec<String>,
}

/// Verdict on one guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum GuestVerdict {
    /// ProxLB would migrate it.
    Moves {
        /// Target.
        to: String,
    },
    /// ProxLB plans it but would not issue the migration.
    PlannedNotIssued {
        /// Target.
        to: String,
    },
    /// It stays.
    Stays,
}

/// Why one guest moves or stays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestExplanation {
    /// Guest name.
    pub guest: String,
    /// VMID.
    pub vmid: u32,
    /// Current node.
    pub node: String,
    /// The verdict.
    pub verdict: GuestVerdict,
    /// Why, in order.
    pub reasons: Vec<String>,
}

fn kind_balanced(balancing: &BalancingConfig, kind: GuestKind) -> bool {
    let wanted = match kind {
        GuestKind::Vm => BalanceType::Vm,
        GuestKind::Ct => BalanceType::Ct,
    };
    balancing.balance_types.contains(&wanted)
}

fn bars(decision: &Decision, method: Resource, mode: Mode) -> Vec<NodeBar> {
    decision
        .nodes_before
        .iter()
        .map(|before| {
            let after = decision
                .nodes_after
                .iter()
                .find(|a| a.node == before.node)
                .unwrap_or(before);
            NodeBar {
                node: before.node.clone(),
                maintenance: before.maintenance,
                before: before.value(method, mode),
                after: after.value(method, mode),
            }
        })
        .collect()
}

fn spread_of(nodes: &[NodeUsage], method: Resource, mode: Mode) -> Option<f64> {
    // Maintenance nodes are left out, as ProxLB's balanciness check does.
    let active: Vec<NodeUsage> = nodes.iter().filter(|n| !n.maintenance).cloned().collect();
    spread(&active, method, mode).map(|s| s.spread)
}

fn triggers(decision: &Decision) -> Vec<String> {
    decision
        .reasons
        .iter()
        .filter(|r| r.effect() == ReasonEffect::Triggers)
        .map(describe_reason)
        .collect()
}

fn preventions(decision: &Decision) -> Vec<String> {
    decision
        .reasons
        .iter()
        .filter(|r| r.effect() == ReasonEffect::Prevents)
        .map(describe_reason)
        .collect()
}

impl PlanView {
    /// The view of `decision`, made with `balancing`.
    pub fn of(decision: &Decision, balancing: &BalancingConfig) -> Self {
        let (method, mode) = (balancing.method, balancing.mode);
        let trigger = triggers(decision);
        let prevent = preventions(decision);
        let moves = decision
            .moves
            .iter()
            .map(|m| {
                let p = &m.planned;
                let mut reasons = Vec::new();
                if decision.maintenance.in_maintenance(&p.from) {
                    reasons.push(format!(
                        "{} is in maintenance: ProxLB moves every guest off it.",
                        p.from
                    ));
                } else if let Some(first) = trigger.first() {
                    reasons.push(format!("Balancing is needed: {first}"));
                    reasons.push(format!(
                        "When its turn came, {} was still the node with the highest {} use, so its guests are candidates.",
                        p.from,
                        method.as_str()
                    ));
                }
                if let Some(pin) = decision.rules.pinned.iter().find(|x| x.guest == p.guest) {
                    reasons.push(format!(
                        "Pinned: its candidates are limited to {}{}.",
                        pin.usable_nodes.join(", "),
                        if pin.strict { "" } else { " and the most free node" }
                    ));
                }
                if let Some(group) = decision.rules.anti_affinity_groups.iter().find(|g| {
                    g.members.len() > 1 && g.members.iter().any(|x| x == &p.guest)
                }) {
                    reasons.push(format!(
                        "Anti-affinity group {}: ProxLB takes the first node the group does not use yet.",
                        group.name
                    ));
                } else {
                    reasons.push(format!(
                        "{} had the most free {} ({}) when this guest was placed, and enough free memory for it.",
                        p.to,
                        method.as_str(),
                        mode_name(mode)
                    ));
                }
                if !m.issued {
                    if kind_balanced(balancing, p.kind) {
                        reasons.extend(prevent.iter().map(|r| format!("Not issued: {r}")));
                    } else {
                        reasons.push(
                            "Not issued: its type is not in balancing.balance_types.".to_owned(),
                        );
                    }
                }
                MoveLine {
                    guest: p.guest.clone(),
                    vmid: p.vmid,
                    kind: p.kind,
                    from: p.from.clone(),
                    to: p.to.clone(),
                    issued: m.issued,
                    reasons,
                }
            })
            .collect();
        let issued = decision.moves.iter().filter(|m| m.issued).count();
        let verdict = if issued > 0 {
            format!(
                "ProxLB would migrate {issued} guest{} now.",
                if issued == 1 { "" } else { "s" }
            )
        } else if !decision.moves.is_empty() {
            format!(
                "ProxLB plans {} move{} but would issue none.",
                decision.moves.len(),
                if decision.moves.len() == 1 { "" } else { "s" }
            )
        } else if decision.relocation_pass_runs {
            "Balancing is needed, but ProxLB finds nothing it can move.".to_owned()
        } else {
            "The cluster is balanced: ProxLB would move nothing.".to_owned()
        };
        PlanView {
            method,
            mode,
            balanciness: balancing.balanciness,
            threshold: balancing.threshold(method),
            would_balance: decision.would_balance,
            verdict,
            reasons: decision
                .reasons
                .iter()
                .map(|r| ReasonLine {
                    effect: r.effect(),
                    text: describe_reason(r),
                })
                .collect(),
            notes: decision.notes.iter().map(describe_note).collect(),
            nodes: bars(decision, method, mode),
            spread_before: spread_of(&decision.nodes_before, method, mode),
            spread_after: spread_of(&decision.nodes_after, method, mode),
            best_node: decision.best_node.clone(),
            moves,
            events: decision.events.iter().map(describe_event).collect(),
        }
    }
}

fn describe_event(event: &PlanEvent) -> String {
    match event {
        PlanEvent::MaintenanceRelocation {
            guest,
            from,
            to: Some(to),
            ..
        } => format!("{guest} leaves maintenance node {from} for {to}."),
        PlanEvent::MaintenanceRelocation {
            guest, from, to: None, ..
        } => format!("No node can take {guest} from maintenance node {from}."),
        PlanEvent::SkippedGuest {
            guest,
            target: Some(target),
            ..
        } => format!("{guest} was skipped: {target} lacked free memory for it."),
        PlanEvent::SkippedGuest {
            guest, target: None, ..
        } => format!("{guest} was skipped: no target node."),
        PlanEvent::StoppedBalanced { groups_processed } => format!(
            "The relocation pass stopped after {groups_processed} group{}: the cluster was balanced by then.",
            if *groups_processed == 1 { "" } else { "s" }
        ),
    }
}

/// The guest `query` names (exact name, or VMID), if any.
pub fn find_guest<'a>(guests: &'a [Guest], query: &str) -> Option<&'a Guest> {
    let query = query.trim();
    let by_id = query.parse::<u32>().ok();
    guests
        .iter()
        .find(|g| g.name == query || Some(g.vmid) == by_id)
        .or_else(|| {
            let lower = query.to_lowercase();
            guests.iter().find(|g| g.name.to_lowercase() == lower)
        })
}

/// Why `guest` moves or stays under `decision` (made with `balancing`).
pub fn explain_guest(
    decision: &Decision,
    balancing: &BalancingConfig,
    guest: &Guest,
) -> GuestExplanation {
    let planned = decision
        .moves
        .iter()
        .find(|m| m.planned.guest == guest.name);
    let view = PlanView::of(decision, balancing);
    let verdict = match planned {
        Some(m) if m.issued => GuestVerdict::Moves {
            to: m.planned.to.clone(),
        },
        Some(m) => GuestVerdict::PlannedNotIssued {
            to: m.planned.to.clone(),
        },
        None => GuestVerdict::Stays,
    };
    let mut reasons = Vec::new();
    if let (Some(m), Some(line)) = (planned, view.moves.iter().find(|m| m.guest == guest.name)) {
        reasons.push(describe_move(&m.planned));
        reasons.extend(line.reasons.iter().cloned());
        return GuestExplanation {
            guest: guest.name.clone(),
            vmid: guest.vmid,
            node: guest.node.clone(),
            verdict,
            reasons,
        };
    }
    if guest.status != GuestStatus::Running {
        reasons.push("It is not running: ProxLB only reads and moves running guests.".to_owned());
    }
    if let Some(ignored) = decision
        .rules
        .ignored
        .iter()
        .find(|i| i.guest == guest.name)
    {
        reasons.push(format!(
            "Ignored ({}): ProxLB never moves it.",
            ignored
                .reasons
                .iter()
                .map(describe_ignore)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !kind_balanced(balancing, guest.kind) {
        reasons.push(format!(
            "Its type ({}) is not in balancing.balance_types.",
            match guest.kind {
                GuestKind::Vm => "vm",
                GuestKind::Ct => "ct",
            }
        ));
    }
    if let Some(pin) = decision.rules.pinned.iter().find(|p| p.guest == guest.name) {
        if pin.usable_nodes.iter().any(|n| n == &guest.node) && pin.strict {
            reasons.push(format!(
                "Pinned to {}, and it already runs on {}.",
                pin.usable_nodes.join(", "),
                guest.node
            ));
        } else if pin.usable_nodes.is_empty() {
            reasons.push(
                "Its pins name no usable node (a name that matches no node exactly, or a node in maintenance), so they do not apply.".to_owned(),
            );
        } else {
            reasons.push(format!("Pinned to {}.", pin.usable_nodes.join(", ")));
        }
    }
    for group in &decision.rules.affinity_groups {
        if group.effective_members.iter().any(|m| m == &guest.name) && group.members.len() > 1 {
            reasons.push(format!(
                "In affinity group {} ({} guests): the group moves together or not at all.",
                group.name,
                group.members.len()
            ));
        } else if group.members.iter().any(|m| m == &guest.name) {
            reasons.push(format!(
                "Listed in affinity group {}, but ProxLB keeps only a guest's last group, so that group does not apply.",
                group.name
            ));
        }
    }
    for group in &decision.rules.anti_affinity_groups {
        if group.kind == GroupKind::AntiAffinity && group.members.iter().any(|m| m == &guest.name) {
            reasons.push(format!(
                "In anti-affinity group {} ({} guests): it moves only to a node the group does not use yet.",
                group.name,
                group.members.len()
            ));
        }
    }
    for event in &decision.events {
        if let PlanEvent::SkippedGuest { guest: g, .. } = event {
            if g == &guest.name {
                reasons.push(describe_event(event));
            }
        }
    }
    if !decision.relocation_pass_runs {
        reasons.push(format!(
            "Balancing is not needed now: {}",
            decision
                .reasons
                .iter()
                .filter(|r| r.effect() == ReasonEffect::Informs)
                .map(describe_reason)
                .collect::<Vec<_>>()
                .join(" ")
        ));
    } else if reasons.is_empty() {
        let stopped = decision
            .events
            .iter()
            .find(|e| matches!(e, PlanEvent::StoppedBalanced { .. }));
        match stopped {
            Some(event) => reasons.push(describe_event(event)),
            None => reasons.push(format!(
                "When its turn came, its node {} was no longer the one with the highest {} use, so ProxLB left it.",
                guest.node,
                balancing.method.as_str()
            )),
        }
    }
    GuestExplanation {
        guest: guest.name.clone(),
        vmid: guest.vmid,
        node: guest.node.clone(),
        verdict,
        reasons,
    }
}
