//! What-if: the plan for a candidate configuration (balancing settings, maintenance or ignored
//! nodes changed) next to today's, on the same snapshot, with a compact diff of the moves.
//! Nothing is saved; the server answers from its current snapshot.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::cluster::ClusterSnapshot;
use super::config::ProxLbConfig;
use super::decision::{
    evaluate_collected, evaluate_full, Collection, Evaluation, EvaluationInput, MoveDecision,
};
use super::maintenance::LocalTime;
use crate::projection::BalancingProjection;

/// Entries per diff list shipped; the totals count them all.
pub const DIFF_SHOWN: usize = 200;

/// What to compare.
#[derive(Clone, Copy, Debug)]
pub struct WhatIfInput<'a> {
    /// Cluster state.
    pub snapshot: &'a ClusterSnapshot,
    /// Today's configuration.
    pub current: &'a ProxLbConfig,
    /// The candidate configuration.
    pub candidate: &'a ProxLbConfig,
    /// Local wall-clock time of the ProxLB host.
    pub now: LocalTime,
    /// Assume `-d`.
    pub dry_run: bool,
}

/// Both plans side by side and what changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// Today's plan.
    pub current: BalancingProjection,
    /// The candidate's plan.
    pub candidate: BalancingProjection,
    /// Moves added, removed and changed.
    pub diff: PlanDiff,
}

/// Differences between two plans, keyed by guest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanDiff {
    /// Moves only the candidate plans (first [`DIFF_SHOWN`]).
    pub added: Vec<MoveDecision>,
    /// Moves only today's plan has (first [`DIFF_SHOWN`]).
    pub removed: Vec<MoveDecision>,
    /// Same guest, other target or other `issued` (first [`DIFF_SHOWN`]).
    pub changed: Vec<ChangedMove>,
    /// All added moves.
    pub added_total: usize,
    /// All removed moves.
    pub removed_total: usize,
    /// All changed moves.
    pub changed_total: usize,
    /// Moves identical in both.
    pub unchanged: usize,
    /// Whether ProxLB would balance: today, candidate.
    pub would_balance: (bool, bool),
}

impl PlanDiff {
    /// Whether the plans are the same.
    pub fn is_empty(&self) -> bool {
        self.added_total == 0 && self.removed_total == 0 && self.changed_total == 0
    }
}

/// One guest planned in both, differently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedMove {
    /// Guest name.
    pub guest: String,
    /// Guest id.
    pub vmid: u32,
    /// Current node.
    pub from: String,
    /// Today's target.
    pub before_to: String,
    /// The candidate's target.
    pub after_to: String,
    /// Today a migration would be issued.
    pub before_issued: bool,
    /// With the candidate a migration would be issued.
    pub after_issued: bool,
}

/// Compares the moves of two plans.
pub fn diff_moves(
    before: &[MoveDecision],
    after: &[MoveDecision],
    would_balance: (bool, bool),
) -> PlanDiff {
    let index: HashMap<&str, &MoveDecision> = before
        .iter()
        .map(|m| (m.planned.guest.as_str(), m))
        .collect();
    let in_after: HashMap<&str, ()> = after
        .iter()
        .map(|m| (m.planned.guest.as_str(), ()))
        .collect();
    let mut diff = PlanDiff {
        would_balance,
        ..PlanDiff::default()
    };
    for m in after {
        match index.get(m.planned.guest.as_str()) {
            None => {
                diff.added_total += 1;
                if diff.added.len() < DIFF_SHOWN {
                    diff.added.push(m.clone());
                }
            }
            Some(b) if b.planned.to == m.planned.to && b.issued == m.issued => diff.unchanged += 1,
            Some(b) => {
                diff.changed_total += 1;
                if diff.changed.len() < DIFF_SHOWN {
                    diff.changed.push(ChangedMove {
                        guest: m.planned.guest.clone(),
                        vmid: m.planned.vmid,
                        from: m.planned.from.clone(),
                        before_to: b.planned.to.clone(),
                        after_to: m.planned.to.clone(),
                        before_issued: b.issued,
                        after_issued: m.issued,
                    });
                }
            }
        }
    }
    for m in before
        .iter()
        .filter(|m| !in_after.contains_key(m.planned.guest.as_str()))
    {
        diff.removed_total += 1;
        if diff.removed.len() < DIFF_SHOWN {
            diff.removed.push(m.clone());
        }
    }
    diff
}

/// Evaluates both configurations and compares them.
pub fn what_if(input: WhatIfInput<'_>) -> WhatIf {
    let baseline = evaluate_full(EvaluationInput {
        snapshot: input.snapshot,
        config: input.current,
        now: input.now,
        dry_run: input.dry_run,
    });
    what_if_against(&baseline, input.snapshot, input.candidate, input.now)
}

/// [`what_if`] with today's evaluation already at hand (the server keeps one per snapshot):
/// only the candidate is evaluated. `snapshot` must be the baseline's.
pub fn what_if_against(
    baseline: &Evaluation,
    snapshot: &ClusterSnapshot,
    candidate: &ProxLbConfig,
    now: LocalTime,
) -> WhatIf {
    what_if_projected(
        baseline,
        baseline.balancing_projection(),
        snapshot,
        candidate,
        now,
    )
}

/// [`what_if_against`] with today's projection at hand too (`current` must be
/// `baseline.balancing_projection()`; the server keeps it with the baseline).
pub fn what_if_projected(
    baseline: &Evaluation,
    current: BalancingProjection,
    snapshot: &ClusterSnapshot,
    candidate: &ProxLbConfig,
    now: LocalTime,
) -> WhatIf {
    let input = EvaluationInput {
        snapshot,
        config: candidate,
        now,
        dry_run: baseline.dry_run,
    };
    // A changed balancing setting leaves ProxLB's collection as it is: reuse today's.
    let other = if Collection::same_for(&baseline.config, candidate) {
        evaluate_collected(input, baseline.collection())
    } else {
        evaluate_full(input)
    };
    let diff = diff_moves(
        &baseline.decision.moves,
        &other.decision.moves,
        (
            baseline.decision.would_balance,
            other.decision.would_balance,
        ),
    );
    WhatIf {
        current,
        candidate: other.balancing_projection(),
        diff,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proxlb::config::BalanceType;
    use crate::proxlb::rules::tests::{config, guest, monday_noon, node};

    fn enabled() -> ProxLbConfig {
        let mut config = config();
        config.balancing.enable = true;
        config.balancing.balance_types = vec![BalanceType::Vm, BalanceType::Ct];
        config
    }

    /// Three nodes a few points apart, one guest each.
    pub(crate) fn snapshot() -> ClusterSnapshot {
        ClusterSnapshot {
            nodes: vec![node("pve1", 45), node("pve2", 38), node("pve3", 40)],
            guests: vec![
                guest(100, "a", "pve1", &[]),
                guest(101, "b", "pve2", &[]),
                guest(102, "c", "pve3", &[]),
            ],
            ..ClusterSnapshot::default()
        }
    }

    fn compare(candidate: &ProxLbConfig) -> WhatIf {
        let s = snapshot();
        what_if(WhatIfInput {
            snapshot: &s,
            current: &enabled(),
            candidate,
            now: monday_noon(),
            dry_run: false,
        })
    }

    #[test]
    fn the_same_config_changes_nothing() {
        let w = compare(&enabled());
        assert!(w.diff.is_empty());
        assert_eq!(w.current, w.candidate);
    }

    #[test]
    fn a_lower_balanciness_adds_a_move() {
        let mut c = enabled();
        c.balancing.balanciness = 5;
        let w = compare(&c);
        assert_eq!(w.current.moves_total, 0);
        assert_eq!(w.diff.added_total, 1);
        assert_eq!(w.diff.added[0].planned.guest, "a");
        assert_eq!(w.diff.added[0].planned.to, "pve2");
        assert_eq!(w.diff.would_balance, (false, true));
        assert!(w.candidate.cluster.needed && !w.current.cluster.needed);
    }

    #[test]
    fn maintenance_and_ignored_nodes_change_targets() {
        let mut low = enabled();
        low.balancing.balanciness = 5;
        let s = snapshot();
        let baseline =
            crate::proxlb::decision::evaluate_full(crate::proxlb::decision::EvaluationInput {
                snapshot: &s,
                config: &low,
                now: monday_noon(),
                dry_run: false,
            });
        let mut maint = low.clone();
        maint.proxmox_cluster.maintenance_nodes = vec!["pve2".into()];
        let w = what_if_against(&baseline, &s, &maint, monday_noon());
        // a now goes to pve3; b leaves pve2 (maintenance).
        assert_eq!(w.diff.changed_total, 1);
        assert_eq!(w.diff.changed[0].before_to, "pve2");
        assert_eq!(w.diff.changed[0].after_to, "pve3");
        assert!(w.diff.added.iter().any(|m| m.planned.guest == "b"));
        let mut ignored = low.clone();
        ignored.proxmox_cluster.ignore_nodes = vec!["pve2".into()];
        let w = what_if_against(&baseline, &s, &ignored, monday_noon());
        assert!(w.candidate.nodes.iter().all(|n| n.node != "pve2"));
    }

    #[test]
    fn reusing_the_collection_gives_the_same_decision() {
        let s = snapshot();
        let today = enabled();
        let mut low = enabled();
        low.balancing.balanciness = 5;
        low.balancing.method = crate::proxlb::config::Resource::Cpu;
        assert!(Collection::same_for(&today, &low));
        let mut maint = enabled();
        maint.proxmox_cluster.maintenance_nodes = vec!["pve2".into()];
        assert!(!Collection::same_for(&today, &maint));
        let input = |config| EvaluationInput {
            snapshot: &s,
            config,
            now: monday_noon(),
            dry_run: false,
        };
        let baseline = evaluate_full(input(&today));
        let reused = evaluate_collected(input(&low), baseline.collection());
        assert_eq!(reused.decision, evaluate_full(input(&low)).decision);
    }

    #[test]
    fn removed_and_issued_changes_are_reported() {
        let mut off = enabled();
        off.balancing.balanciness = 5;
        let before = vec![];
        let s = snapshot();
        let e = crate::proxlb::decision::evaluate(crate::proxlb::decision::EvaluationInput {
            snapshot: &s,
            config: &off,
            now: monday_noon(),
            dry_run: false,
        });
        let d = diff_moves(&e.moves, &before, (true, false));
        assert_eq!((d.removed_total, d.added_total), (1, 0));
        let mut not_issued = e.moves.clone();
        not_issued[0].issued = false;
        let d = diff_moves(&e.moves, &not_issued, (true, false));
        assert_eq!(d.changed_total, 1);
        assert!(d.changed[0].before_issued && !d.changed[0].after_issued);
    }
}
