//! Why each planned move happens: why this guest (maintenance evacuation, or its affinity group's
//! turn while its node was the fullest), why this target (most free node, anti-affinity in node
//! order, pins) and why every other node was rejected, with the figures of that moment.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{CandidateVerdict, MoveExplanation, QuirkAt, Rejection};
use crate::proxlb::config::{Mode, Resource};
use crate::proxlb::decision::{type_allowed, Evaluation, MoveDecision, Reason};
use crate::proxlb::trace::{RelocationStep, StepOutcome};
use crate::proxlb::usage::Reservation;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Why ProxLB picked this guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum GuestChoice {
    /// Its node is in maintenance: every guest there is moved first.
    MaintenanceEvacuation {
        /// The maintenance node.
        node: String,
    },
    /// The relocation pass reached its affinity group while its node was the fullest.
    Relocation {
        /// Its affinity group (`None`: a group of its own).
        group: Option<String>,
        /// Position of the group in processing order (1-based).
        position: usize,
        /// Groups in all.
        groups: usize,
        /// Members of the group.
        members: usize,
        /// Memory used by the group, bytes (sort key after the member count).
        group_memory: f64,
        /// `balance_larger_guests_first`: larger groups (by memory) first among equal counts.
        larger_first: bool,
        /// Its node's used percent of the method at its turn (the highest of all nodes).
        fullest_used_percent: f64,
        /// Psi mode: it had the highest full-pressure spikes of the unprocessed guests.
        psi_top: bool,
    },
}

/// Which rule chose the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum TargetRule {
    /// The most free node (lowest value; ties to the first in `/nodes` order).
    MostFree,
    /// Evacuation: the most free node, pins and anti-affinity not consulted.
    EvacuationMostFree,
    /// Anti-affinity: the first node in `/nodes` order its group had not used.
    AntiAffinity {
        /// Nodes the group had used before.
        used: Vec<String>,
    },
    /// The most free of the nodes its pins allow.
    Pinned {
        /// Nodes allowed (a non-strict pin adds the overall most free node).
        allowed: Vec<String>,
        /// Strict pinning.
        strict: bool,
    },
}

/// Why the target node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetChoice {
    /// The target.
    pub node: String,
    /// The rule that chose it.
    pub rule: TargetRule,
    /// Its value when chosen.
    pub value: Option<f64>,
    /// Method compared.
    pub method: Resource,
    /// Mode compared.
    pub mode: Mode,
}

impl Evaluation {
    /// Position of every collected guest by name.
    pub fn guest_positions(&self) -> HashMap<&str, usize> {
        self.view
            .guests
            .iter()
            .enumerate()
            .map(|(i, g)| (g.guest.name.as_str(), i))
            .collect()
    }

    /// The step that set a guest's target: its last relocation turn that moved its figures,
    /// else its evacuation.
    pub(super) fn deciding_step(&self, guest: usize) -> Option<(&RelocationStep, bool)> {
        self.trace
            .steps
            .iter()
            .rev()
            .find(|s| s.updated_guest == Some(guest) && s.outcome_moves())
            .map(|s| (s, false))
            .or_else(|| {
                self.trace
                    .evacuations
                    .iter()
                    .find(|s| s.guest == guest)
                    .map(|s| (s, true))
            })
    }

    /// Every planned move explained, in plan order.
    pub fn move_explanations(&self) -> Vec<MoveExplanation> {
        let positions = self.guest_positions();
        self.decision
            .moves
            .iter()
            .filter_map(|m| {
                let g = *positions.get(m.planned.guest.as_str())?;
                self.explain_move(g, m)
            })
            .collect()
    }

    /// One planned move explained (`g`: the guest's position in `view.guests`).
    pub fn explain_move(&self, g: usize, planned: &MoveDecision) -> Option<MoveExplanation> {
        let (step, evacuation) = self.deciding_step(g)?;
        let (why_guest, why_target) = self.choice(g, step, evacuation)?;
        let mut quirks = Vec::new();
        if step.guest != g {
            quirks.push(QuirkAt::PsiMovedPreviousGuest {
                guest: self.view.guests[step.guest].guest.name.clone(),
            });
        }
        if evacuation {
            quirks.push(QuirkAt::EvacuationIgnoresRules);
        } else if self.trace.evacuations.iter().any(|s| s.guest == g) {
            quirks.push(QuirkAt::EvacuatedTwice);
        }
        if let (Some(checked), Some(target)) = (step.most_free, step.target) {
            if !evacuation && checked != target {
                quirks.push(QuirkAt::MemoryCheckedOnOtherNode {
                    checked: self.node_name(checked),
                    target: self.node_name(target),
                });
            }
        }
        if !evacuation && self.config.balancing.mode == Mode::Assigned {
            quirks.push(QuirkAt::FullestTestUsesUsedPercent);
        }
        quirks.extend(self.rule_quirks(g));
        Some(MoveExplanation {
            planned: planned.clone(),
            candidates: self.candidates(g, step, &why_target.rule),
            why_guest,
            why_target,
            not_issued: self.not_issued(planned),
            quirks,
        })
    }

    pub(super) fn node_name(&self, i: usize) -> String {
        self.view
            .nodes
            .get(i)
            .map(|n| n.node.name.clone())
            .unwrap_or_default()
    }

    fn choice(
        &self,
        g: usize,
        step: &RelocationStep,
        evacuation: bool,
    ) -> Option<(GuestChoice, TargetChoice)> {
        let balancing = &self.config.balancing;
        let target = step.target?;
        let value = step.nodes.get(target).map(|n| n.value);
        let (method, mode) = (balancing.method, balancing.mode);
        if evacuation {
            return Some((
                GuestChoice::MaintenanceEvacuation {
                    node: self.node_name(step.source),
                },
                TargetChoice {
                    node: self.node_name(target),
                    rule: TargetRule::EvacuationMostFree,
                    value,
                    method,
                    mode,
                },
            ));
        }
        let group = self.trace.groups.get(step.group)?;
        let vg = &self.view.guests[g];
        let rule = if !step.pin_relation.is_empty() {
            TargetRule::Pinned {
                allowed: step.pin_relation.clone(),
                strict: vg.pin_strict,
            }
        } else if step.anti_pick.is_some() {
            TargetRule::AntiAffinity {
                used: step.anti_used.iter().map(|&n| self.node_name(n)).collect(),
            }
        } else {
            TargetRule::MostFree
        };
        Some((
            GuestChoice::Relocation {
                group: group.name.clone(),
                position: step.group + 1,
                groups: self.trace.groups.len(),
                members: group.guests.len(),
                group_memory: group.memory_used,
                larger_first: balancing.balance_larger_guests_first,
                fullest_used_percent: step.nodes.get(step.source).map_or(0.0, |n| n.used_percent),
                psi_top: mode == Mode::Psi,
            },
            TargetChoice {
                node: self.node_name(target),
                rule,
                value,
                method,
                mode,
            },
        ))
    }

    /// Every node's verdict for guest `g` at `step`: the target first, then `/nodes` order,
    /// then the nodes ProxLB does not collect.
    fn candidates(
        &self,
        g: usize,
        step: &RelocationStep,
        rule: &TargetRule,
    ) -> Vec<CandidateVerdict> {
        let Some(target) = step.target else {
            return Vec::new();
        };
        let chosen_value = step.nodes.get(target).map_or(0.0, |n| n.value);
        let needed = self.guests.get(g).map_or(0.0, |u| u.memory.used);
        let mut out = Vec::with_capacity(step.nodes.len() + self.excluded_nodes.len());
        for (i, n) in step.nodes.iter().enumerate() {
            let mut rejections = Vec::new();
            if i != target {
                if i == step.source {
                    rejections.push(Rejection::CurrentNode);
                }
                if n.maintenance {
                    rejections.push(Rejection::Maintenance);
                }
                let name = self.node_name(i);
                match rule {
                    TargetRule::Pinned { allowed, .. } if !allowed.contains(&name) => {
                        rejections.push(Rejection::PinnedElsewhere {
                            pins: allowed.clone(),
                        });
                    }
                    TargetRule::AntiAffinity { .. } if !n.maintenance => {
                        rejections.push(if step.anti_used.contains(&i) {
                            Rejection::AntiAffinityUsed
                        } else {
                            Rejection::AntiAffinityNodeOrder {
                                picked: self.node_name(target),
                            }
                        });
                    }
                    _ => {}
                }
                if rejections.is_empty() || matches!(rejections[..], [Rejection::CurrentNode]) {
                    rejections.push(Rejection::NotMostFree {
                        value: n.value,
                        chosen_value,
                    });
                }
            }
            if i != step.source {
                if let Some(r) = self.memory_rejection(i, n, needed) {
                    rejections.push(r);
                }
            }
            out.push(CandidateVerdict {
                node: self.node_name(i),
                chosen: i == target,
                value: Some(n.value),
                rejections,
            });
        }
        // Target first.
        out.sort_by_key(|c| !c.chosen);
        out.extend(self.excluded_nodes.iter().cloned());
        out
    }

    /// Memory test on a node's figures: ProxLB's `guest used < node free`.
    fn memory_rejection(
        &self,
        i: usize,
        n: &crate::proxlb::trace::StepNode,
        needed: f64,
    ) -> Option<Rejection> {
        if needed < n.memory_free {
            return None;
        }
        let reserved_gib = match self.decision.nodes_before.get(i).map(|u| u.reservation) {
            Some(Reservation::Node { gib } | Reservation::Defaults { gib }) => gib,
            _ => 0,
        };
        // The reservation shows in `free` only once a move recalculated the node.
        let recalculated = (n.memory_total - n.memory_used - n.memory_free).abs() < 1.0;
        if reserved_gib > 0 && recalculated && needed < n.memory_free + reserved_gib as f64 * GIB {
            Some(Rejection::Reserve {
                needed,
                free: n.memory_free,
                reserved_gib,
            })
        } else {
            Some(Rejection::NotEnoughMemory {
                needed,
                free: n.memory_free,
            })
        }
    }

    /// Why a planned move would not be issued.
    pub(super) fn not_issued(&self, planned: &MoveDecision) -> Vec<Reason> {
        if planned.issued {
            return Vec::new();
        }
        let b = &self.config.balancing;
        let mut out = Vec::new();
        if !b.enable {
            out.push(Reason::BalancingDisabled);
        }
        if b.enable && !self.decision.effective.enable {
            out.push(Reason::PsiBalancingDeactivatedPrePve9 { nodes: Vec::new() });
        }
        if b.balance_types.is_empty() {
            out.push(Reason::NoBalanceTypes);
        } else if !type_allowed(b, planned.planned.kind) {
            out.push(Reason::TypeNotInBalanceTypes {
                guests: vec![planned.planned.guest.clone()],
            });
        }
        if self.dry_run {
            out.push(Reason::DryRun);
        }
        out
    }

    /// Quirks from the guest's rules: shadowed affinity groups and pins that never match.
    pub(super) fn rule_quirks(&self, g: usize) -> Vec<QuirkAt> {
        let vg = &self.view.guests[g];
        let mut out = Vec::new();
        if vg.affinity_groups.len() > 1 {
            let (last, rest) = vg.affinity_groups.split_last().map_or_else(
                || (String::new(), Vec::new()),
                |(l, r)| (l.0.clone(), r.iter().map(|(n, _)| n.clone()).collect()),
            );
            out.push(QuirkAt::LastAffinityGroupWins {
                used: last,
                shadowed: rest,
            });
        }
        for pin in &vg.pins {
            if self.view.node(&pin.node).is_none() {
                out.push(QuirkAt::PinNeverMatches {
                    pin: pin.node.clone(),
                    source: pin.source.clone(),
                });
            }
        }
        for (node, source) in &vg.rejected_pins {
            out.push(QuirkAt::PinToUnknownNode {
                node: node.clone(),
                source: source.clone(),
            });
        }
        out
    }
}

impl RelocationStep {
    /// The turn moved figures to a target.
    pub fn outcome_moves(&self) -> bool {
        matches!(self.outcome, StepOutcome::Assigned | StepOutcome::PsiNotTop)
    }
}
