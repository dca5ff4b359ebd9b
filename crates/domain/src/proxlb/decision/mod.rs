//! "Would ProxLB act now?": runs ProxLB's collection, feature gating
//! (`proxlb/models/features.py:49-93`) and calculation (`get_balanciness` and the relocation
//! pass, `proxlb/models/calculations.py:176-496`) on a snapshot and explains the outcome with typed
//! reasons and the quirks that shaped it.
//!
//! [`evaluate_full`] follows the run's own steps, one module each: collection (here), feature
//! gating ([`gating`]), the calculation ([`crate::proxlb::plan::simulate`]), whether balancing is
//! needed ([`balance`]), the maintenance evacuation ([`evacuation`]), which planned moves become
//! migrations ([`issue`]) and the quirks that shaped the result ([`quirks`]).

mod balance;
mod evacuation;
mod gating;
mod issue;
mod quirks;
mod reasons;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use gating::EffectiveSettings;
pub use issue::{type_allowed, MoveDecision};
pub use reasons::{QuirkNote, Reason, ReasonEffect};

use super::cluster::{ClusterSnapshot, NodeStatus};
use super::config::ProxLbConfig;
use super::explanation::{CandidateVerdict, Rejection};
use super::maintenance::{maintenance_overview, LocalTime, MaintenanceOverview};
use super::plan::{simulate, BalanceCheck, EnforceAffinity, PlanEvent};
use super::rules::{current_violations, ProxlbView, RulesView, Violation};
use super::trace::PlanTrace;
use super::usage::{GuestUsage, NodeUsage};

/// What to evaluate.
#[derive(Clone, Copy, Debug)]
pub struct EvaluationInput<'a> {
    /// Cluster state.
    pub snapshot: &'a ClusterSnapshot,
    /// ProxLB configuration.
    pub config: &'a ProxLbConfig,
    /// Local wall-clock time of the ProxLB host (for maintenance schedules).
    pub now: LocalTime,
    /// ProxLB runs with `-d` (calculate, never migrate).
    pub dry_run: bool,
}

/// The answer to "would ProxLB act now?".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// At least one migration would be issued by this run.
    pub would_balance: bool,
    /// The relocation (balancing) pass would run.
    pub relocation_pass_runs: bool,
    /// Every reason, triggers first.
    pub reasons: Vec<Reason>,
    /// Quirks that shaped the answer.
    pub notes: Vec<QuirkNote>,
    /// Planned moves in ProxLB's order.
    pub moves: Vec<MoveDecision>,
    /// What `-b` would print.
    pub best_node: Option<String>,
    /// `get_balanciness` after the evacuation projection.
    pub balance_check: Option<BalanceCheck>,
    /// `enforce_affinity` evaluation.
    pub enforce_affinity: Option<EnforceAffinity>,
    /// Settings after gating.
    pub effective: EffectiveSettings,
    /// Node figures before planning.
    pub nodes_before: Vec<NodeUsage>,
    /// Projected node figures after planning.
    pub nodes_after: Vec<NodeUsage>,
    /// Calculation steps worth showing.
    pub events: Vec<PlanEvent>,
    /// Maintenance state.
    pub maintenance: MaintenanceOverview,
    /// Rules and conflicts.
    pub rules: RulesView,
    /// Current violations.
    pub violations: Vec<Violation>,
}

/// A [`Decision`] with what explains it guest by guest: ProxLB's view of the cluster, the guest
/// figures and the relocation trace. Kept on the server (one per snapshot and config); the
/// browser gets projections of it.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// The cluster as ProxLB collected it (shared: a what-if of a balancing setting reuses it).
    pub view: Arc<ProxlbView>,
    /// Guest figures, in `view.guests` order.
    pub guests: Vec<GuestUsage>,
    /// The relocation pass, guest by guest.
    pub trace: PlanTrace,
    /// The configuration evaluated.
    pub config: ProxLbConfig,
    /// `-d` was assumed.
    pub dry_run: bool,
    /// Nodes ProxLB does not collect (offline or in `ignore_nodes`), in snapshot order.
    pub excluded_nodes: Vec<CandidateVerdict>,
}

/// Evaluates a snapshot the way one ProxLB 2.3.0 run would.
pub fn evaluate(input: EvaluationInput<'_>) -> Decision {
    evaluate_full(input).decision
}

/// What ProxLB collects before calculating: maintenance, its view of the cluster, the rules and
/// the current violations. Depends on the snapshot, the time and only these parts of the
/// config: `proxmox_cluster`, `balancing.ignore_guests` and `balancing.pools`.
#[derive(Clone, Debug)]
pub struct Collection {
    maintenance: MaintenanceOverview,
    view: Arc<ProxlbView>,
    rules: RulesView,
    violations: Vec<Violation>,
}

impl Collection {
    /// Collects a snapshot under a configuration.
    pub fn collect(snapshot: &ClusterSnapshot, config: &ProxLbConfig, now: LocalTime) -> Self {
        let maintenance = maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, now);
        let view = Arc::new(ProxlbView::build(snapshot, config, &maintenance));
        let rules = RulesView::build(&view, snapshot, config);
        let violations = current_violations(&view);
        Self {
            maintenance,
            view,
            rules,
            violations,
        }
    }

    /// Whether a collection made under `a` also holds under `b` (same snapshot and time).
    pub fn same_for(a: &ProxLbConfig, b: &ProxLbConfig) -> bool {
        a.proxmox_cluster == b.proxmox_cluster
            && a.balancing.ignore_guests == b.balancing.ignore_guests
            && a.balancing.pools == b.balancing.pools
    }
}

impl Evaluation {
    /// This evaluation's collection, to evaluate another configuration for which
    /// [`Collection::same_for`] holds without collecting again.
    pub fn collection(&self) -> Collection {
        Collection {
            maintenance: self.decision.maintenance.clone(),
            view: Arc::clone(&self.view),
            rules: self.decision.rules.clone(),
            violations: self.decision.violations.clone(),
        }
    }
}

/// [`evaluate`], keeping what the explanations need.
pub fn evaluate_full(input: EvaluationInput<'_>) -> Evaluation {
    let collection = Collection::collect(input.snapshot, input.config, input.now);
    evaluate_collected(input, collection)
}

/// [`evaluate_full`] on a collection made for this snapshot, time and a configuration for which
/// [`Collection::same_for`] holds (the what-if of a balancing setting reuses today's).
pub fn evaluate_collected(input: EvaluationInput<'_>, collection: Collection) -> Evaluation {
    let EvaluationInput {
        snapshot,
        config,
        now: _,
        dry_run,
    } = input;
    let balancing = &config.balancing;
    let Collection {
        maintenance,
        view,
        rules,
        violations,
    } = collection;

    // Feature gating, then the calculation pass.
    let gate = gating::gate(&view, balancing);
    let mut outcome = simulate(&view, balancing);
    let effective = gate.effective(&view, balancing, outcome.enforce_affinity.as_ref());
    let mut reasons: Vec<Reason> = Vec::new();
    let mut notes: Vec<QuirkNote> = gate.notes.clone();

    // Is balancing needed?
    if outcome.best_node.is_none() {
        reasons.push(Reason::NoTargetNode);
    }
    if let Some(check) = &outcome.balance_check {
        balance::check_reasons(check, &mut reasons);
    }
    if let Some(enforce) = &outcome.enforce_affinity {
        balance::enforce_reasons(enforce, &violations, balancing, &mut reasons, &mut notes);
    }

    // Maintenance evacuation.
    if outcome.best_node.is_some() {
        evacuation::evacuation_reasons(&view, &mut reasons);
    }

    // Which planned moves become migrations.
    let moves = issue::issue(
        &outcome,
        balancing,
        effective.enable,
        gate.psi_gated.then_some(gate.old_nodes.as_slice()),
        dry_run,
        &mut reasons,
    );
    let evacuating = reasons
        .iter()
        .any(|r| matches!(r, Reason::MaintenanceEvacuation { .. }));
    if outcome.best_node.is_some()
        && outcome.moves.is_empty()
        && (outcome.relocation_ran || evacuating)
    {
        reasons.push(Reason::NothingToMove);
    }
    reasons.sort_by_key(|r| match r.effect() {
        ReasonEffect::Triggers => 0,
        ReasonEffect::Prevents => 1,
        ReasonEffect::Informs => 2,
    });
    quirks::quirk_notes(snapshot, config, &view, &rules, &outcome, &mut notes);

    let trace = std::mem::take(&mut outcome.trace);
    let guests = std::mem::take(&mut outcome.guests);
    let decision = Decision {
        would_balance: moves.iter().any(|m| m.issued),
        relocation_pass_runs: outcome.relocation_ran,
        reasons,
        notes,
        moves,
        best_node: outcome.best_node,
        balance_check: outcome.balance_check,
        enforce_affinity: outcome.enforce_affinity,
        effective,
        nodes_before: outcome.nodes_before,
        nodes_after: outcome.nodes_after,
        events: outcome.events,
        maintenance,
        rules,
        violations,
    };
    let excluded_nodes = snapshot
        .nodes
        .iter()
        .filter_map(|n| {
            let rejection = if config.proxmox_cluster.ignore_nodes.contains(&n.name) {
                Rejection::IgnoredNode
            } else if n.status != NodeStatus::Online {
                Rejection::Offline
            } else {
                return None;
            };
            Some(CandidateVerdict {
                node: n.name.clone(),
                chosen: false,
                value: None,
                rejections: vec![rejection],
            })
        })
        .collect();
    Evaluation {
        excluded_nodes,
        decision,
        view,
        guests,
        trace,
        config: config.clone(),
        dry_run,
    }
}
