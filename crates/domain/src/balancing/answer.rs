//! What the Balancing endpoints answer around the domain's explanation types: the plan of one
//! configuration ([`BalancingPlan`]: the [`BalancingProjection`] with its verdict, the figures
//! scripts read at the top level and how old ProxLB's inputs are), one guest
//! ([`GuestAnswer`]: the [`GuestExplanation`] with its sentences), a what-if
//! ([`WhatIfAnswer`]), and each node's maintenance and ignore state for the what-if's toggles
//! ([`NodeState`]).

use serde::{Deserialize, Serialize};

use crate::explain::{describe_guest_reasons, describe_plan_verdict};
use crate::projection::BalancingProjection;
use crate::proxlb::config::{Mode, Resource};
use crate::proxlb::explanation::{GuestExplanation, GuestOutcome, NotMovedReason};
use crate::proxlb::maintenance::{MaintenanceOverview, MaintenanceSource};
use crate::proxlb::what_if::{PlanDiff, WhatIf};
use crate::view::BalancingInputs;

/// Coverage and age of ProxLB's RRD inputs (guest CPU means, PSI) behind a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputsAge {
    /// Coverage and when the oldest figure was fetched.
    #[serde(flatten)]
    pub inputs: BalancingInputs,
    /// Seconds between the oldest figure's fetch and the answer.
    pub oldest_age_seconds: Option<u64>,
}

impl InputsAge {
    /// `inputs` as of `now_unix`.
    pub fn at(inputs: BalancingInputs, now_unix: u64) -> Self {
        Self {
            inputs,
            oldest_age_seconds: inputs.oldest_unix.map(|t| now_unix.saturating_sub(t)),
        }
    }
}

/// ProxLB's plan of one configuration, as `GET /api/balancing/plan` and the view get it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancingPlan {
    /// The cluster explanation, node bars and moves (with candidate tables).
    #[serde(flatten)]
    pub projection: BalancingProjection,
    /// One sentence, e.g. `ProxLB would migrate 3 guests now.`
    pub verdict: String,
    /// Balanced resource.
    pub method: Resource,
    /// How it is measured.
    pub mode: Mode,
    /// Allowed spread, points.
    pub balanciness: i64,
    /// Threshold of the balanced resource (`None`: unset, or psi mode).
    pub threshold: Option<i64>,
    /// At least one migration would be issued.
    pub would_balance: bool,
    /// What `proxlb -d -b` would print.
    pub best_node: Option<String>,
    /// Spread of the balanced resource before the plan, points (as ProxLB's balance test).
    pub spread_before: Option<f64>,
    /// The same after the plan (ProxLB's projection).
    pub spread_after: Option<f64>,
    /// How complete and old the RRD inputs are; `None`: not fetched yet.
    pub inputs: Option<InputsAge>,
}

impl BalancingPlan {
    /// The answer for `projection`, with the inputs it was computed from.
    pub fn of(projection: BalancingProjection, inputs: Option<InputsAge>) -> Self {
        let cluster = &projection.cluster;
        let active = cluster.checks.iter().find(|c| c.active);
        let spread_before = active.and_then(|c| c.spread.as_ref()).map(|s| s.spread);
        // Over every node, as the balance test measures the spread before.
        let spread_after = spread_before.and_then(|_| {
            let values = projection.nodes.iter().map(|n| n.after.get(cluster.method));
            let max = values.clone().reduce(f64::max)?;
            let min = values.reduce(f64::min)?;
            Some(max - min)
        });
        Self {
            verdict: describe_plan_verdict(&projection),
            method: cluster.method,
            mode: cluster.mode,
            balanciness: active.map_or(0, |c| c.balanciness),
            threshold: active.and_then(|c| c.threshold),
            would_balance: cluster.would_balance,
            best_node: cluster.best_node.clone(),
            spread_before,
            spread_after,
            inputs,
            projection,
        }
    }

    /// One page of moves from plan position `from` ([`BalancingProjection::page`]); the
    /// verdict and figures stay those of the whole plan.
    pub fn into_page(mut self, from: usize) -> Self {
        self.projection = self.projection.page(from);
        self
    }
}

/// Verdict on one guest in a word and a node (the short form scripts read).
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

/// Why one guest moves or stays, as `GET /api/balancing/explain` and the explainer get it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestAnswer {
    /// The typed explanation (`vmid`, `name`, `kind`, `node`, `outcome`, `quirks`).
    #[serde(flatten)]
    pub explanation: GuestExplanation,
    /// Guest name (as `name`).
    pub guest: String,
    /// The short verdict.
    pub verdict: GuestVerdict,
    /// Why, as sentences, the deciding reason first.
    pub reasons: Vec<String>,
}

impl GuestAnswer {
    /// The answer for `explanation`.
    pub fn of(explanation: GuestExplanation) -> Self {
        let verdict = match &explanation.outcome {
            GuestOutcome::Moves { explanation } => GuestVerdict::Moves {
                to: explanation.planned.planned.to.clone(),
            },
            GuestOutcome::Stays { reasons } => reasons
                .iter()
                .find_map(|r| match r {
                    NotMovedReason::NotIssued { explanation, .. } => {
                        Some(GuestVerdict::PlannedNotIssued {
                            to: explanation.planned.planned.to.clone(),
                        })
                    }
                    _ => None,
                })
                .unwrap_or(GuestVerdict::Stays),
        };
        Self {
            guest: explanation.name.clone(),
            reasons: describe_guest_reasons(&explanation),
            verdict,
            explanation,
        }
    }
}

/// Today's plan and a candidate's, with the difference, as `POST /api/balancing/what-if` and
/// the form get them. Nothing is written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatIfAnswer {
    /// With the configuration as saved.
    pub today: BalancingPlan,
    /// With the candidate.
    pub candidate: BalancingPlan,
    /// Moves added, removed and changed by the candidate.
    pub diff: PlanDiff,
}

impl WhatIfAnswer {
    /// The answer for `what_if` (both plans share the snapshot, so its `inputs`).
    pub fn of(what_if: WhatIf, inputs: Option<InputsAge>) -> Self {
        Self {
            today: BalancingPlan::of(what_if.current, inputs),
            candidate: BalancingPlan::of(what_if.candidate, inputs),
            diff: what_if.diff,
        }
    }

    /// Both plans' first page of moves (what the view shows side by side); the diff stays
    /// whole.
    pub fn into_first_pages(self) -> Self {
        Self {
            today: self.today.into_page(0),
            candidate: self.candidate.into_page(0),
            diff: self.diff,
        }
    }
}

/// A node's maintenance and ignore state, for the what-if's per-node toggles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Node.
    pub node: String,
    /// Listed in `proxmox_cluster.maintenance_nodes` (what the toggle changes).
    pub maintenance_listed: bool,
    /// In maintenance by a schedule or by the HA stack: the list cannot lift that.
    pub maintenance_elsewhere: bool,
    /// Listed in `proxmox_cluster.ignore_nodes`.
    pub ignored: bool,
}

/// Every node's state in `overview` (in node order).
pub fn node_states(overview: &MaintenanceOverview) -> Vec<NodeState> {
    overview
        .nodes
        .iter()
        .map(|n| NodeState {
            node: n.node.clone(),
            maintenance_listed: n.sources.contains(&MaintenanceSource::Config),
            maintenance_elsewhere: n.sources.iter().any(|s| *s != MaintenanceSource::Config),
            ignored: n.ignored,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::cluster::ClusterSnapshot;
    use crate::proxlb::config::{BalanceType, ProxLbConfig};
    use crate::proxlb::decision::{evaluate_full, Evaluation, EvaluationInput};
    use crate::proxlb::maintenance::NodeMaintenance;
    use crate::proxlb::rules::tests::{config, monday_noon};
    use crate::proxlb::what_if::tests::snapshot;
    use crate::proxlb::what_if::what_if_against;

    fn enabled() -> ProxLbConfig {
        let mut config = config();
        config.balancing.enable = true;
        config.balancing.balanciness = 5;
        config.balancing.balance_types = vec![BalanceType::Vm, BalanceType::Ct];
        config
    }

    fn run(s: &ClusterSnapshot, c: &ProxLbConfig) -> Evaluation {
        evaluate_full(EvaluationInput {
            snapshot: s,
            config: c,
            now: monday_noon(),
            dry_run: false,
        })
    }

    #[test]
    fn a_plan_keeps_the_top_level_figures_and_flattens_moves() {
        let s = snapshot();
        let e = run(&s, &enabled());
        let inputs = InputsAge::at(
            BalancingInputs {
                running_guests: 3,
                guests_covered: 2,
                oldest_unix: Some(1_000),
            },
            1_040,
        );
        let plan = BalancingPlan::of(e.balancing_projection(), Some(inputs));
        assert_eq!(plan.method, Resource::Memory);
        assert_eq!(plan.balanciness, 5);
        assert!(plan.would_balance);
        assert_eq!(plan.verdict, "ProxLB would migrate 1 guest now.");
        let (before, after) = (plan.spread_before.unwrap_or(0.0), plan.spread_after);
        assert!((before - 7.0).abs() < 1e-6, "{before}");
        assert!(after.is_some_and(|a| a < before), "{after:?}");
        assert_eq!(plan.inputs.and_then(|i| i.oldest_age_seconds), Some(40));
        let json = serde_json::to_value(&plan).unwrap_or_default();
        // Scripts read a move's guest and target at the move's top level, and every node's
        // verdict with its rejections.
        assert_eq!(json["moves"][0]["guest"], "a");
        assert_eq!(json["moves"][0]["to"], "pve2");
        assert_eq!(json["moves"][0]["issued"], true);
        assert_eq!(json["moves"][0]["candidates"][0]["chosen"], true);
        assert_eq!(
            json["moves"][0]["candidates"][1]["rejections"][0]["rejection"],
            "current_node"
        );
        assert_eq!(json["inputs"]["guests_covered"], 2);
        let back: BalancingPlan = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, plan);
    }

    #[test]
    fn a_guest_answer_has_a_short_verdict_and_sentences() {
        let s = snapshot();
        let e = run(&s, &enabled());
        let moving = GuestAnswer::of(e.explain_guest(&s, "a").unwrap_or_else(|| panic!("a")));
        assert_eq!(moving.verdict, GuestVerdict::Moves { to: "pve2".into() });
        assert_eq!(moving.guest, "a");
        assert!(moving.reasons.iter().any(|r| r.contains("most free")));
        let staying = GuestAnswer::of(e.explain_guest(&s, "101").unwrap_or_else(|| panic!("b")));
        assert_eq!(staying.verdict, GuestVerdict::Stays);
        assert!(!staying.reasons.is_empty());
        let mut off = enabled();
        off.balancing.enable = false;
        let e = run(&s, &off);
        let held = GuestAnswer::of(e.explain_guest(&s, "a").unwrap_or_else(|| panic!("a")));
        assert_eq!(
            held.verdict,
            GuestVerdict::PlannedNotIssued { to: "pve2".into() }
        );
        let json = serde_json::to_value(&held).unwrap_or_default();
        assert_eq!(json["verdict"]["verdict"], "planned_not_issued");
        assert_eq!(json["outcome"]["outcome"], "stays");
    }

    #[test]
    fn a_what_if_answer_names_both_plans_and_node_states_follow_the_sources() {
        let s = snapshot();
        let today = enabled();
        let baseline = run(&s, &today);
        let mut maint = today.clone();
        maint.proxmox_cluster.maintenance_nodes = vec!["pve2".into()];
        let answer = WhatIfAnswer::of(what_if_against(&baseline, &s, &maint, monday_noon()), None);
        assert_eq!(answer.today.projection.moves[0].planned.planned.to, "pve2");
        assert!(answer
            .candidate
            .projection
            .moves
            .iter()
            .all(|m| m.planned.planned.to != "pve2"));
        assert!(!answer.diff.is_empty());
        let overview = MaintenanceOverview {
            nodes: vec![
                NodeMaintenance {
                    node: "pve1".into(),
                    ignored: false,
                    sources: vec![MaintenanceSource::Config, MaintenanceSource::HaMaintenance],
                },
                NodeMaintenance {
                    node: "pve2".into(),
                    ignored: true,
                    sources: vec![],
                },
            ],
            ..MaintenanceOverview::default()
        };
        assert_eq!(
            node_states(&overview),
            vec![
                NodeState {
                    node: "pve1".into(),
                    maintenance_listed: true,
                    maintenance_elsewhere: true,
                    ignored: false
                },
                NodeState {
                    node: "pve2".into(),
                    maintenance_listed: false,
                    maintenance_elsewhere: false,
                    ignored: true
                },
            ]
        );
    }
}
