//! Why any guest (by id or name) is moved or not: not collected, ignored, balancing not needed,
//! the pass stopped before its group, its node was no longer the fullest, the target lacked
//! memory, it was assigned its own node, or the move would not be issued.

use serde::{Deserialize, Serialize};

use super::{GuestExplanation, MoveExplanation, QuirkAt, TargetRule};
use crate::proxlb::cluster::{ClusterSnapshot, GuestStatus, NodeStatus};
use crate::proxlb::decision::{Evaluation, Reason};
use crate::proxlb::rules::IgnoreReason;
use crate::proxlb::trace::StepOutcome;

/// Moved or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum GuestOutcome {
    /// A move is planned.
    Moves {
        /// Why, with every candidate node.
        explanation: Box<MoveExplanation>,
    },
    /// No move is planned.
    Stays {
        /// Why, the deciding reason first.
        reasons: Vec<NotMovedReason>,
    },
}

/// Why a guest stays where it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotMovedReason {
    /// ProxLB collects running guests only.
    NotRunning {
        /// Its status.
        status: GuestStatus,
    },
    /// Its node is offline, so ProxLB does not collect it.
    NodeOffline {
        /// Node.
        node: String,
    },
    /// Its node is in `ignore_nodes`: the node and its guests are left out.
    NodeIgnored {
        /// Node.
        node: String,
    },
    /// Another guest has the same name and ProxLB kept that one.
    DuplicateName {
        /// The vmid ProxLB kept.
        kept_vmid: u32,
    },
    /// The guest is ignored.
    Ignored {
        /// Why.
        reasons: Vec<IgnoreReason>,
    },
    /// No node outside maintenance: ProxLB skips the calculation.
    NoTargetNode,
    /// The relocation pass did not run: balancing is not needed and nothing is enforced.
    BalancingNotNeeded,
    /// The pass stopped before its group because balancing was no longer needed.
    StoppedBalanced {
        /// Position of its group (1-based).
        position: usize,
        /// The group before which the pass stopped (1-based).
        stopped_before: usize,
    },
    /// Its node was no longer the fullest when its group came.
    NotFullest {
        /// Its node.
        node: String,
        /// Its used percent of the method.
        used_percent: f64,
        /// The fullest node then.
        fullest: Option<String>,
        /// The fullest node's used percent.
        fullest_used_percent: f64,
    },
    /// An earlier member of its affinity group found its node no longer the fullest; ProxLB
    /// skips the rest of the group.
    GroupStoppedAt {
        /// The group.
        group: String,
        /// The member where the group stopped.
        member: String,
    },
    /// The most free node lacked memory (`guest used < node free` failed).
    NotEnoughMemoryOnTarget {
        /// The node checked.
        target: String,
        /// Bytes needed.
        needed: f64,
        /// Bytes free there.
        free: f64,
    },
    /// Psi mode: another guest had higher pressure spikes.
    NotTopPressure,
    /// The rules chose its current node.
    AssignedCurrentNode {
        /// The rule.
        rule: TargetRule,
    },
    /// Planned but not issued (balancing disabled, type not balanced, dry run).
    NotIssued {
        /// Why.
        reasons: Vec<Reason>,
        /// The planned move.
        explanation: Box<MoveExplanation>,
    },
}

impl Evaluation {
    /// Explains a guest found by vmid (digits) or exact name; `None` when the snapshot has no
    /// such guest. `snapshot` must be the one this evaluation was made from.
    pub fn explain_guest(
        &self,
        snapshot: &ClusterSnapshot,
        query: &str,
    ) -> Option<GuestExplanation> {
        let query = query.trim();
        let guest = match query.parse::<u32>() {
            Ok(vmid) => snapshot.guests.iter().find(|g| g.vmid == vmid),
            Err(_) => None,
        }
        .or_else(|| snapshot.guests.iter().find(|g| g.name == query))
        .or_else(|| {
            snapshot
                .guests
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(query))
        })?;
        let mut explanation = GuestExplanation {
            vmid: guest.vmid,
            name: guest.name.clone(),
            kind: guest.kind,
            node: guest.node.clone(),
            outcome: GuestOutcome::Stays {
                reasons: Vec::new(),
            },
            quirks: Vec::new(),
        };
        let stays = |reason| GuestOutcome::Stays {
            reasons: vec![reason],
        };
        if self
            .config
            .proxmox_cluster
            .ignore_nodes
            .contains(&guest.node)
        {
            explanation.outcome = stays(NotMovedReason::NodeIgnored {
                node: guest.node.clone(),
            });
            return Some(explanation);
        }
        if snapshot
            .nodes
            .iter()
            .any(|n| n.name == guest.node && n.status != NodeStatus::Online)
        {
            explanation.outcome = stays(NotMovedReason::NodeOffline {
                node: guest.node.clone(),
            });
            return Some(explanation);
        }
        if guest.status != GuestStatus::Running {
            explanation.outcome = stays(NotMovedReason::NotRunning {
                status: guest.status,
            });
            return Some(explanation);
        }
        let g = self
            .view
            .guests
            .iter()
            .position(|v| v.guest.name == guest.name)?;
        let kept = &self.view.guests[g].guest;
        if kept.vmid != guest.vmid {
            explanation.outcome = stays(NotMovedReason::DuplicateName {
                kept_vmid: kept.vmid,
            });
            return Some(explanation);
        }
        explanation.quirks = self.rule_quirks(g);
        explanation.outcome = self.outcome_of(g, &mut explanation.quirks);
        Some(explanation)
    }

    fn outcome_of(&self, g: usize, quirks: &mut Vec<QuirkAt>) -> GuestOutcome {
        let vg = &self.view.guests[g];
        let d = &self.decision;
        if let Some(planned) = d.moves.iter().find(|m| m.planned.guest == vg.guest.name) {
            if let Some(explanation) = self.explain_move(g, planned) {
                let explanation = Box::new(explanation);
                if planned.issued {
                    return GuestOutcome::Moves { explanation };
                }
                return GuestOutcome::Stays {
                    reasons: vec![NotMovedReason::NotIssued {
                        reasons: explanation.not_issued.clone(),
                        explanation,
                    }],
                };
            }
        }
        let mut reasons = Vec::new();
        if vg.ignored() {
            reasons.push(NotMovedReason::Ignored {
                reasons: vg.ignore_reasons.clone(),
            });
            if let Some((step, _)) = self.deciding_step(g) {
                if let Some(t) = step.target.filter(|&t| t != step.source) {
                    quirks.push(QuirkAt::IgnoredGuestShiftsFigures {
                        node: self.node_name(t),
                    });
                }
            }
        }
        if d.best_node.is_none() {
            reasons.push(NotMovedReason::NoTargetNode);
            return GuestOutcome::Stays { reasons };
        }
        if !d.relocation_pass_runs {
            if !vg.ignored() {
                reasons.push(NotMovedReason::BalancingNotNeeded);
            }
            return GuestOutcome::Stays { reasons };
        }
        if vg.ignored() {
            return GuestOutcome::Stays { reasons };
        }
        reasons.push(self.relocation_reason(g));
        GuestOutcome::Stays { reasons }
    }

    /// Why the relocation pass left a collected, not ignored guest in place.
    fn relocation_reason(&self, g: usize) -> NotMovedReason {
        let trace = &self.trace;
        let Some(rank) = trace.group_of(g) else {
            return NotMovedReason::BalancingNotNeeded;
        };
        if let Some(step) = trace.steps.iter().find(|s| s.guest == g) {
            return match step.outcome {
                StepOutcome::NotFullest {
                    fullest,
                    fullest_used_percent,
                    source_used_percent,
                } => NotMovedReason::NotFullest {
                    node: self.node_name(step.source),
                    used_percent: source_used_percent,
                    fullest: fullest.map(|f| self.node_name(f)),
                    fullest_used_percent,
                },
                StepOutcome::SkippedMemory => {
                    let target = step.most_free.unwrap_or(step.source);
                    NotMovedReason::NotEnoughMemoryOnTarget {
                        target: self.node_name(target),
                        needed: self.guests.get(g).map_or(0.0, |u| u.memory.used),
                        free: step.nodes.get(target).map_or(0.0, |n| n.memory_free),
                    }
                }
                StepOutcome::PsiNotTop => NotMovedReason::NotTopPressure,
                StepOutcome::Assigned => {
                    let rule = if !step.pin_relation.is_empty() {
                        TargetRule::Pinned {
                            allowed: step.pin_relation.clone(),
                            strict: self.view.guests[g].pin_strict,
                        }
                    } else if step.anti_pick.is_some() {
                        TargetRule::AntiAffinity {
                            used: step.anti_used.iter().map(|&n| self.node_name(n)).collect(),
                        }
                    } else {
                        TargetRule::MostFree
                    };
                    NotMovedReason::AssignedCurrentNode { rule }
                }
            };
        }
        if let Some(stopped) = trace.stopped_before_group.filter(|&s| s <= rank) {
            return NotMovedReason::StoppedBalanced {
                position: rank + 1,
                stopped_before: stopped + 1,
            };
        }
        let group = &trace.groups[rank];
        let member = trace
            .steps
            .iter()
            .find(|s| s.group == rank && matches!(s.outcome, StepOutcome::NotFullest { .. }))
            .map(|s| self.view.guests[s.guest].guest.name.clone())
            .unwrap_or_default();
        NotMovedReason::GroupStoppedAt {
            group: group.name.clone().unwrap_or_default(),
            member,
        }
    }
}
