//! The cluster-level answer: the balance test (`get_balanciness`,
//! `proxlb/models/calculations.py:176-266`) for every method in the configured mode, what made the
//! relocation pass run, and node loads before and after the plan.

use serde::{Deserialize, Serialize};

use super::ClusterExplanation;
use crate::proxlb::config::{Mode, Resource};
use crate::proxlb::decision::Evaluation;
use crate::proxlb::plan::balance_check;
use crate::proxlb::usage::{NodeUsage, Spread};

/// A node with one value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeValue {
    /// Node.
    pub node: String,
    /// Value, percent (or pressure spikes in psi mode).
    pub value: f64,
}

/// The balance test for one method in the configured mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodCheck {
    /// Resource.
    pub method: Resource,
    /// Mode.
    pub mode: Mode,
    /// The configured method: the test that counts.
    pub active: bool,
    /// Measured on the projection after the maintenance evacuation (the active method in a run
    /// that evacuated); otherwise on the current figures.
    pub after_evacuation: bool,
    /// Allowed spread, percentage points.
    pub balanciness: i64,
    /// Highest minus lowest node (maintenance nodes included, as ProxLB does).
    pub spread: Option<Spread>,
    /// `spread > balanciness` (never in psi mode).
    pub spread_exceeds: bool,
    /// The threshold ProxLB applies for this method (`None`: unset or 0).
    pub threshold: Option<i64>,
    /// Nodes at or above the threshold, highest first.
    pub over_threshold: Vec<NodeValue>,
    /// Nodes hot by pressure (psi mode).
    pub hot_nodes: Vec<String>,
    /// Guests hot by pressure (psi mode).
    pub hot_guests: Vec<String>,
    /// This test says balancing is needed.
    pub needed: bool,
}

/// What made the relocation pass run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassTrigger {
    /// `get_balanciness` said balancing is needed.
    BalanceNeeded,
    /// `enforce_affinity` (recomputed from current violations).
    EnforceAffinity,
    /// `enforce_pinning`.
    EnforcePinning,
}

/// One node's value per method in the configured mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeLoads {
    /// Memory.
    pub memory: f64,
    /// CPU.
    pub cpu: f64,
    /// Disk.
    pub disk: f64,
}

impl NodeLoads {
    /// The node's values, rounded to a hundredth of a point: bars and figures show tenths, and
    /// a full `f64` is 17 digits of JSON where 4 or 5 do (64 nodes' bars, before and after, are
    /// part of every Balancing page).
    fn of(node: &NodeUsage, mode: Mode) -> Self {
        let value = |resource| (node.value(resource, mode) * 100.0).round() / 100.0;
        Self {
            memory: value(Resource::Memory),
            cpu: value(Resource::Cpu),
            disk: value(Resource::Disk),
        }
    }

    /// The value of one method.
    pub fn get(&self, method: Resource) -> f64 {
        match method {
            Resource::Memory => self.memory,
            Resource::Cpu => self.cpu,
            Resource::Disk => self.disk,
        }
    }
}

/// A node's bar: loads before and after the plan (ProxLB's projection).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeBar {
    /// Node.
    pub node: String,
    /// In maintenance.
    pub maintenance: bool,
    /// Before the plan.
    pub before: NodeLoads,
    /// After the plan.
    pub after: NodeLoads,
    /// Planned moves away from the node.
    pub moves_out: usize,
    /// Planned moves onto the node.
    pub moves_in: usize,
}

impl Evaluation {
    /// Why balancing is (not) needed now.
    pub fn cluster_explanation(&self) -> ClusterExplanation {
        let d = &self.decision;
        let balancing = &self.config.balancing;
        let (method, mode) = (balancing.method, balancing.mode);
        let evacuated = !self.trace.evacuations.is_empty();
        let checks = Resource::ALL
            .iter()
            .map(|&m| {
                let active = m == method;
                let check = match (&d.balance_check, active) {
                    (Some(check), true) => check.clone(),
                    _ => {
                        let mut b = balancing.clone();
                        b.method = m;
                        balance_check(&d.nodes_before, &self.guests, &b)
                    }
                };
                let figures = if active && evacuated {
                    None
                } else {
                    Some(&d.nodes_before)
                };
                let threshold = if mode == Mode::Psi {
                    None
                } else {
                    balancing.effective_threshold(m)
                };
                let mut over_threshold: Vec<NodeValue> = match (threshold, figures) {
                    (Some(t), Some(nodes)) => nodes
                        .iter()
                        .filter(|n| n.value(m, mode) >= t as f64)
                        .map(|n| NodeValue {
                            node: n.node.clone(),
                            value: n.value(m, mode),
                        })
                        .collect(),
                    // After an evacuation only the highest node's value is known.
                    (Some(_), None) => check
                        .threshold
                        .iter()
                        .filter(|t| t.reached)
                        .map(|t| NodeValue {
                            node: t.node.clone(),
                            value: t.value,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                over_threshold.sort_by(|a, b| b.value.total_cmp(&a.value));
                MethodCheck {
                    method: m,
                    mode,
                    active,
                    after_evacuation: active && evacuated,
                    balanciness: check.balanciness,
                    spread: check.spread.clone(),
                    spread_exceeds: check.spread_exceeds,
                    threshold,
                    over_threshold,
                    hot_nodes: check.hot_nodes.clone(),
                    hot_guests: check.hot_guests.clone(),
                    needed: check.balance,
                }
            })
            .collect();
        let needed = d.balance_check.as_ref().is_some_and(|c| c.balance);
        let mut pass_triggers = Vec::new();
        if d.relocation_pass_runs {
            if needed {
                pass_triggers.push(PassTrigger::BalanceNeeded);
            }
            if d.enforce_affinity.as_ref().is_some_and(|e| e.effective) {
                pass_triggers.push(PassTrigger::EnforceAffinity);
            }
            if balancing.enforce_pinning {
                pass_triggers.push(PassTrigger::EnforcePinning);
            }
        }
        ClusterExplanation {
            method,
            mode,
            needed,
            pass_triggers,
            would_balance: d.would_balance,
            checks,
            reasons: d.reasons.clone(),
            notes: d.notes.clone(),
            best_node: d.best_node.clone(),
            excluded_nodes: self.excluded_nodes.clone(),
        }
    }

    /// Node loads per method before and after the plan, in `/nodes` order.
    pub fn node_bars(&self) -> Vec<NodeBar> {
        let d = &self.decision;
        let mode = self.config.balancing.mode;
        d.nodes_before
            .iter()
            .zip(&d.nodes_after)
            .map(|(before, after)| NodeBar {
                node: before.node.clone(),
                maintenance: before.maintenance,
                before: NodeLoads::of(before, mode),
                after: NodeLoads::of(after, mode),
                moves_out: d
                    .moves
                    .iter()
                    .filter(|m| m.planned.from == before.node)
                    .count(),
                moves_in: d
                    .moves
                    .iter()
                    .filter(|m| m.planned.to == before.node)
                    .count(),
            })
            .collect()
    }
}
