//! "Would ProxLB act now?": runs ProxLB's collection, feature gating
//! (`proxlb/models/features.py:49-93`) and calculation (`get_balanciness` and the relocation
//! pass, `proxlb/models/calculations.py:176-496`) on a snapshot and explains the outcome with typed
//! reasons and the quirks that shaped it.

use serde::{Deserialize, Serialize};

use super::cluster::{ClusterSnapshot, GuestKind, PveVersion};
use super::config::{BalanceType, Mode, ProxLbConfig, Resource, SolverMode};
use super::maintenance::{maintenance_overview, LocalTime, MaintenanceOverview};
use super::plan::{simulate, BalanceCheck, EnforceAffinity, PlanEvent, PlannedMove};
use super::rules::{current_violations, ProxlbView, RulesView, Violation};
use super::usage::{NodeUsage, Reservation};

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

/// Whether a reason causes, prevents or only explains balancing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonEffect {
    /// Makes ProxLB plan migrations.
    Triggers,
    /// Stops migrations from being issued.
    Prevents,
    /// A check that passed without triggering.
    Informs,
}

/// One reason behind the decision, with the numbers involved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// `highest − lowest > balanciness` (used/assigned modes).
    SpreadAboveBalanciness {
        /// Resource.
        method: Resource,
        /// Mode.
        mode: Mode,
        /// Difference in percentage points.
        spread: f64,
        /// Allowed spread.
        balanciness: i64,
        /// Highest node.
        highest_node: String,
        /// Its value.
        highest: f64,
        /// Lowest node.
        lowest_node: String,
        /// Its value.
        lowest: f64,
    },
    /// The spread is within `balanciness`.
    SpreadWithinBalanciness {
        /// Resource.
        method: Resource,
        /// Mode.
        mode: Mode,
        /// Difference in percentage points.
        spread: f64,
        /// Allowed spread.
        balanciness: i64,
    },
    /// The highest node reaches the resource threshold.
    ThresholdReached {
        /// Resource.
        method: Resource,
        /// Threshold, percent.
        threshold: i64,
        /// Highest node.
        node: String,
        /// Its value.
        value: f64,
    },
    /// The highest node stays below the threshold.
    ThresholdNotReached {
        /// Resource.
        method: Resource,
        /// Threshold, percent.
        threshold: i64,
        /// Highest node.
        node: String,
        /// Its value.
        value: f64,
    },
    /// A node is hot for `method` (psi mode).
    NodePressureHot {
        /// Node.
        node: String,
        /// Resource.
        method: Resource,
    },
    /// A guest is hot for `method` (psi mode).
    GuestPressureHot {
        /// Guest.
        guest: String,
        /// Resource.
        method: Resource,
    },
    /// Psi mode and nothing is hot.
    NoPressure {
        /// Resource.
        method: Resource,
    },
    /// Current affinity/anti-affinity violations set `enforce_affinity`.
    AffinityViolated {
        /// The violations.
        violations: Vec<Violation>,
    },
    /// `enforce_affinity` stayed true from the config (only through ProxLB's last-guest quirk).
    EnforceAffinityConfigured,
    /// `enforce_pinning` forces the relocation pass.
    EnforcePinning,
    /// Guests on a maintenance node are moved away.
    MaintenanceEvacuation {
        /// Node.
        node: String,
        /// Guests (ignored ones excluded: they are never moved).
        guests: Vec<String>,
    },
    /// `balancing.enable` is false: the calculation runs, no migration is issued.
    BalancingDisabled,
    /// Psi mode with a node below PVE 9: ProxLB switches balancing off.
    PsiBalancingDeactivatedPrePve9 {
        /// Nodes below PVE 9 with their versions.
        nodes: Vec<(String, String)>,
    },
    /// `balance_types` is empty: no guest is ever migrated.
    NoBalanceTypes,
    /// Planned moves of types not in `balance_types`.
    TypeNotInBalanceTypes {
        /// Guests.
        guests: Vec<String>,
    },
    /// `-d` given.
    DryRun,
    /// No node outside maintenance: ProxLB skips the run.
    NoTargetNode,
    /// The relocation pass ran but planned no migration.
    NothingToMove,
}

impl Reason {
    /// Whether the reason triggers, prevents or only explains.
    pub fn effect(&self) -> ReasonEffect {
        match self {
            Reason::SpreadAboveBalanciness { .. }
            | Reason::ThresholdReached { .. }
            | Reason::NodePressureHot { .. }
            | Reason::GuestPressureHot { .. }
            | Reason::AffinityViolated { .. }
            | Reason::EnforceAffinityConfigured
            | Reason::EnforcePinning
            | Reason::MaintenanceEvacuation { .. } => ReasonEffect::Triggers,
            Reason::BalancingDisabled
            | Reason::PsiBalancingDeactivatedPrePve9 { .. }
            | Reason::NoBalanceTypes
            | Reason::TypeNotInBalanceTypes { .. }
            | Reason::DryRun
            | Reason::NoTargetNode
            | Reason::NothingToMove => ReasonEffect::Prevents,
            Reason::SpreadWithinBalanciness { .. }
            | Reason::ThresholdNotReached { .. }
            | Reason::NoPressure { .. } => ReasonEffect::Informs,
        }
    }
}

/// A ProxLB quirk that shaped this answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "quirk", rename_all = "snake_case")]
pub enum QuirkNote {
    /// `enforce_affinity` is recomputed every run; the configured value was replaced.
    EnforceAffinityOverwritten {
        /// Configured.
        configured: bool,
        /// Effective.
        effective: bool,
    },
    /// The only violating guest was the last one, so the configured value survived.
    EnforceAffinityKeptByLastGuest {
        /// That guest.
        guest: String,
    },
    /// A threshold of 0 counts as unset.
    ThresholdZeroIgnored {
        /// Resource.
        method: Resource,
    },
    /// Maintenance nodes still count in the spread.
    MaintenanceNodesCountInSpread {
        /// Nodes.
        nodes: Vec<String>,
    },
    /// The spread was measured on the projection after the maintenance evacuation.
    SpreadMeasuredAfterEvacuation,
    /// Memory used% ignores `node_resource_reserve` until a move is planned.
    ReservationNotInUsedPercent {
        /// Nodes with a reservation.
        nodes: Vec<String>,
    },
    /// A reservation larger than the node's memory is not applied.
    ReservationTooLarge {
        /// Node.
        node: String,
        /// GiB configured.
        gib: i64,
    },
    /// `node_resource_reserve` entries for cpu or disk have no effect in 2.3.0.
    ReservationOnlyMemory,
    /// Node CPU "full" pressure is hard-coded to 0.
    NodeCpuFullPressureAlwaysZero,
    /// Psi mode without a `psi` block: nothing is ever hot.
    PsiWithoutThresholds,
    /// `with_conntrack_state` is switched off (a node runs PVE < 9).
    ConntrackDisabledPrePve9,
    /// HA rules are not read (a node runs PVE < 9).
    HaRulesSkippedPrePve9,
    /// Ignored guests on maintenance nodes shift the projection but never move.
    IgnoredGuestsShiftProjection {
        /// Guests.
        guests: Vec<String>,
    },
    /// In assigned mode the relocation pass still stops on used%.
    AssignedModeStopsOnUsedPercent,
    /// Anti-affinity targets are the first unused nodes in `/nodes` order, not the most free ones.
    AntiAffinityTargetsInNodeOrder,
    /// `overprovisioning` is parsed but not read.
    OverprovisioningNotRead,
    /// `enable_ha`: ProxLB only runs on the host named like the HA master node.
    EnableHaRequiresMasterHost,
    /// The solver in active mode drives migrations; this answer is the greedy plan.
    SolverActiveMode,
    /// A node version ProxLB cannot parse (ProxLB would crash).
    UnparsablePveVersion {
        /// Node.
        node: String,
        /// Version text.
        version: String,
    },
    /// Guests share names; ProxLB keeps only one per name.
    DuplicateGuestNames {
        /// Names.
        names: Vec<String>,
    },
}

/// Feature flags after ProxLB's version gating and overwrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveSettings {
    /// `balancing.enable` after gating.
    pub enable: bool,
    /// `with_conntrack_state` after gating.
    pub with_conntrack_state: bool,
    /// `enforce_affinity` after `validate_affinity_map` (configured value when the pass is skipped).
    pub enforce_affinity: bool,
    /// HA rules are read.
    pub ha_rules_read: bool,
}

/// A planned move and whether ProxLB would issue it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveDecision {
    /// The move.
    #[serde(flatten)]
    pub planned: PlannedMove,
    /// A migration request would be sent.
    pub issued: bool,
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

/// Evaluates a snapshot the way one ProxLB 2.3.0 run would.
pub fn evaluate(input: EvaluationInput<'_>) -> Decision {
    let EvaluationInput {
        snapshot,
        config,
        now,
        dry_run,
    } = input;
    let balancing = &config.balancing;
    let maintenance = maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, now);
    let view = ProxlbView::build(snapshot, config, &maintenance);
    let rules = RulesView::build(&view, snapshot, config);
    let violations = current_violations(&view);
    let outcome = simulate(&view, balancing);

    let mut reasons: Vec<Reason> = Vec::new();
    let mut notes: Vec<QuirkNote> = Vec::new();

    let old_nodes: Vec<(String, String)> = view
        .nodes
        .iter()
        .filter(|n| !PveVersion::parse(&n.node.pve_version).is_some_and(|v| v.is_pve9()))
        .map(|n| (n.node.name.clone(), n.node.pve_version.clone()))
        .collect();
    for n in &view.nodes {
        if PveVersion::parse(&n.node.pve_version).is_none() {
            notes.push(QuirkNote::UnparsablePveVersion {
                node: n.node.name.clone(),
                version: n.node.pve_version.clone(),
            });
        }
    }
    let psi_gated = view.cluster_non_pve9 && balancing.mode == Mode::Psi;
    let effective = EffectiveSettings {
        enable: balancing.enable && !psi_gated,
        with_conntrack_state: balancing.with_conntrack_state && !view.cluster_non_pve9,
        enforce_affinity: outcome
            .enforce_affinity
            .as_ref()
            .map_or(balancing.enforce_affinity, |e| e.effective),
        ha_rules_read: !view.cluster_non_pve9,
    };

    // Triggers and checks.
    if outcome.best_node.is_none() {
        reasons.push(Reason::NoTargetNode);
    }
    if let Some(check) = &outcome.balance_check {
        let method = check.method;
        if check.mode == Mode::Psi {
            for node in &check.hot_nodes {
                reasons.push(Reason::NodePressureHot {
                    node: node.clone(),
                    method,
                });
            }
            for guest in &check.hot_guests {
                reasons.push(Reason::GuestPressureHot {
                    guest: guest.clone(),
                    method,
                });
            }
            if !check.balance {
                reasons.push(Reason::NoPressure { method });
            }
        } else {
            if let Some(t) = &check.threshold {
                let (threshold, node, value) = (t.threshold, t.node.clone(), t.value);
                reasons.push(if t.reached {
                    Reason::ThresholdReached {
                        method,
                        threshold,
                        node,
                        value,
                    }
                } else {
                    Reason::ThresholdNotReached {
                        method,
                        threshold,
                        node,
                        value,
                    }
                });
            }
            if let Some(s) = &check.spread {
                reasons.push(if check.spread_exceeds {
                    Reason::SpreadAboveBalanciness {
                        method,
                        mode: check.mode,
                        spread: s.spread,
                        balanciness: check.balanciness,
                        highest_node: s.highest_node.clone(),
                        highest: s.highest,
                        lowest_node: s.lowest_node.clone(),
                        lowest: s.lowest,
                    }
                } else {
                    Reason::SpreadWithinBalanciness {
                        method,
                        mode: check.mode,
                        spread: s.spread,
                        balanciness: check.balanciness,
                    }
                });
            }
        }
    }
    if let Some(enforce) = &outcome.enforce_affinity {
        if enforce.effective && !violations.is_empty() && !enforce.kept_configured_by_last_guest {
            reasons.push(Reason::AffinityViolated {
                violations: violations.clone(),
            });
        } else if enforce.effective {
            reasons.push(Reason::EnforceAffinityConfigured);
        }
        if enforce.configured != enforce.effective {
            notes.push(QuirkNote::EnforceAffinityOverwritten {
                configured: enforce.configured,
                effective: enforce.effective,
            });
        }
        if enforce.kept_configured_by_last_guest {
            if let Some(guest) = &enforce.first_violating_guest {
                notes.push(QuirkNote::EnforceAffinityKeptByLastGuest {
                    guest: guest.clone(),
                });
            }
        }
        if balancing.enforce_pinning {
            reasons.push(Reason::EnforcePinning);
        }
    }
    if outcome.best_node.is_some() {
        for node in view.nodes.iter().filter(|n| n.maintenance) {
            let guests: Vec<String> = view
                .guests
                .iter()
                .filter(|g| g.guest.node == node.node.name && !g.ignored())
                .map(|g| g.guest.name.clone())
                .collect();
            if !guests.is_empty() {
                reasons.push(Reason::MaintenanceEvacuation {
                    node: node.node.name.clone(),
                    guests,
                });
            }
        }
    }

    // What stops migrations.
    if !balancing.enable {
        reasons.push(Reason::BalancingDisabled);
    }
    if psi_gated {
        reasons.push(Reason::PsiBalancingDeactivatedPrePve9 {
            nodes: old_nodes.clone(),
        });
    }
    if balancing.balance_types.is_empty() {
        reasons.push(Reason::NoBalanceTypes);
    }
    if dry_run {
        reasons.push(Reason::DryRun);
    }
    let type_allowed = |kind: GuestKind| {
        let wanted = match kind {
            GuestKind::Vm => BalanceType::Vm,
            GuestKind::Ct => BalanceType::Ct,
        };
        balancing.balance_types.contains(&wanted)
    };
    let filtered: Vec<String> = outcome
        .moves
        .iter()
        .filter(|m| !type_allowed(m.kind))
        .map(|m| m.guest.clone())
        .collect();
    if !filtered.is_empty() && !balancing.balance_types.is_empty() {
        reasons.push(Reason::TypeNotInBalanceTypes { guests: filtered });
    }
    let runs_migrations = effective.enable && !dry_run;
    let moves: Vec<MoveDecision> = outcome
        .moves
        .iter()
        .map(|m| MoveDecision {
            planned: m.clone(),
            issued: runs_migrations && type_allowed(m.kind),
        })
        .collect();
    if outcome.best_node.is_some()
        && outcome.moves.is_empty()
        && (outcome.relocation_ran
            || reasons
                .iter()
                .any(|r| matches!(r, Reason::MaintenanceEvacuation { .. })))
    {
        reasons.push(Reason::NothingToMove);
    }
    reasons.sort_by_key(|r| match r.effect() {
        ReasonEffect::Triggers => 0,
        ReasonEffect::Prevents => 1,
        ReasonEffect::Informs => 2,
    });

    // Quirk notes.
    let method = balancing.method;
    if balancing.threshold(method) == Some(0) && balancing.mode != Mode::Psi {
        notes.push(QuirkNote::ThresholdZeroIgnored { method });
    }
    let maint_nodes: Vec<String> = view
        .nodes
        .iter()
        .filter(|n| n.maintenance)
        .map(|n| n.node.name.clone())
        .collect();
    if !maint_nodes.is_empty() && balancing.mode != Mode::Psi && outcome.balance_check.is_some() {
        notes.push(QuirkNote::MaintenanceNodesCountInSpread { nodes: maint_nodes });
    }
    if outcome
        .events
        .iter()
        .any(|e| matches!(e, PlanEvent::MaintenanceRelocation { to: Some(_), .. }))
    {
        notes.push(QuirkNote::SpreadMeasuredAfterEvacuation);
    }
    let reserved: Vec<String> = outcome
        .nodes_before
        .iter()
        .filter(|n| {
            matches!(
                n.reservation,
                Reservation::Node { .. } | Reservation::Defaults { .. }
            )
        })
        .map(|n| n.node.clone())
        .collect();
    if !reserved.is_empty() && balancing.mode == Mode::Used && method == Resource::Memory {
        notes.push(QuirkNote::ReservationNotInUsedPercent { nodes: reserved });
    }
    for n in &outcome.nodes_before {
        if let Reservation::TooLarge { gib } = n.reservation {
            notes.push(QuirkNote::ReservationTooLarge {
                node: n.node.clone(),
                gib,
            });
        }
    }
    if balancing
        .node_resource_reserve
        .iter()
        .flat_map(|r| r.values())
        .any(|per| {
            per.iter()
                .any(|(res, gib)| *res != Resource::Memory && *gib > 0)
        })
    {
        notes.push(QuirkNote::ReservationOnlyMemory);
    }
    if balancing.mode == Mode::Psi {
        if method == Resource::Cpu {
            notes.push(QuirkNote::NodeCpuFullPressureAlwaysZero);
        }
        if balancing.psi.is_none() {
            notes.push(QuirkNote::PsiWithoutThresholds);
        }
    }
    if view.cluster_non_pve9 && balancing.with_conntrack_state {
        notes.push(QuirkNote::ConntrackDisabledPrePve9);
    }
    if view.cluster_non_pve9 && !snapshot.ha_rules.is_empty() {
        notes.push(QuirkNote::HaRulesSkippedPrePve9);
    }
    let shifted: Vec<String> = outcome
        .events
        .iter()
        .filter_map(|e| match e {
            PlanEvent::MaintenanceRelocation {
                guest,
                to: Some(_),
                ignored: true,
                ..
            } => Some(guest.clone()),
            _ => None,
        })
        .collect();
    if !shifted.is_empty() {
        notes.push(QuirkNote::IgnoredGuestsShiftProjection { guests: shifted });
    }
    if balancing.mode == Mode::Assigned && outcome.relocation_ran {
        notes.push(QuirkNote::AssignedModeStopsOnUsedPercent);
    }
    if outcome.relocation_ran && !rules.anti_affinity_groups.is_empty() {
        notes.push(QuirkNote::AntiAffinityTargetsInNodeOrder);
    }
    if config.proxmox_cluster.overprovisioning {
        notes.push(QuirkNote::OverprovisioningNotRead);
    }
    if config.service.enable_ha {
        notes.push(QuirkNote::EnableHaRequiresMasterHost);
    }
    if config.solver.enable && config.solver.mode == SolverMode::Active {
        notes.push(QuirkNote::SolverActiveMode);
    }
    if !view.duplicate_names.is_empty() {
        notes.push(QuirkNote::DuplicateGuestNames {
            names: view
                .duplicate_names
                .iter()
                .map(|(n, _)| n.clone())
                .collect(),
        });
    }

    Decision {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::cluster::{Guest, Node, Pressure, PsiSet};
    use crate::proxlb::config::{PsiConfig, PsiThreshold};
    use crate::proxlb::rules::tests::{config, guest, monday_noon, node, GIB};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn enabled() -> ProxLbConfig {
        let mut config = config();
        config.balancing.enable = true;
        config.balancing.balance_types = vec![BalanceType::Vm, BalanceType::Ct];
        config
    }

    fn decide(nodes: Vec<Node>, guests: Vec<Guest>, config: &ProxLbConfig) -> Decision {
        let snapshot = ClusterSnapshot {
            nodes,
            guests,
            ..ClusterSnapshot::default()
        };
        evaluate(EvaluationInput {
            snapshot: &snapshot,
            config,
            now: monday_noon(),
            dry_run: false,
        })
    }

    fn has(decision: &Decision, pred: impl Fn(&Reason) -> bool) -> bool {
        decision.reasons.iter().any(pred)
    }

    fn unbalanced() -> (Vec<Node>, Vec<Guest>) {
        (
            vec![node("pve1", 70), node("pve2", 30)],
            vec![guest(100, "a", "pve1", &[]), guest(101, "b", "pve2", &[])],
        )
    }

    #[test]
    fn balanced_cluster_does_nothing() {
        let d = decide(
            vec![node("pve1", 40), node("pve2", 35)],
            vec![guest(100, "a", "pve1", &[])],
            &enabled(),
        );
        assert!(!d.would_balance);
        assert!(!d.relocation_pass_runs);
        assert_eq!(
            d.reasons,
            vec![Reason::SpreadWithinBalanciness {
                method: Resource::Memory,
                mode: Mode::Used,
                spread: 5.0,
                balanciness: 10
            }]
        );
    }

    #[test]
    fn spread_above_balanciness_balances() {
        let (nodes, guests) = unbalanced();
        let d = decide(nodes, guests, &enabled());
        assert!(d.would_balance);
        assert_eq!(
            d.reasons[0],
            Reason::SpreadAboveBalanciness {
                method: Resource::Memory,
                mode: Mode::Used,
                spread: 40.0,
                balanciness: 10,
                highest_node: "pve1".into(),
                highest: 70.0,
                lowest_node: "pve2".into(),
                lowest: 30.0
            }
        );
        assert_eq!(d.moves.len(), 1);
        assert!(d.moves[0].issued);
        assert_eq!(
            (
                d.moves[0].planned.from.as_str(),
                d.moves[0].planned.to.as_str()
            ),
            ("pve1", "pve2")
        );
    }

    #[test]
    fn threshold_is_an_extra_trigger_and_zero_is_ignored() {
        let nodes = vec![node("pve1", 80), node("pve2", 75)];
        let guests = vec![guest(100, "a", "pve1", &[])];
        let mut config = enabled();
        config.balancing.memory_threshold = Some(75);
        let d = decide(nodes.clone(), guests.clone(), &config);
        assert!(d.relocation_pass_runs);
        assert!(has(&d, |r| *r
            == Reason::ThresholdReached {
                method: Resource::Memory,
                threshold: 75,
                node: "pve1".into(),
                value: 80.0
            }));
        assert!(has(&d, |r| matches!(
            r,
            Reason::SpreadWithinBalanciness { .. }
        )));
        assert!(d.would_balance);

        config.balancing.memory_threshold = Some(95);
        let d = decide(nodes.clone(), guests.clone(), &config);
        assert!(has(&d, |r| matches!(
            r,
            Reason::ThresholdNotReached { threshold: 95, .. }
        )));
        assert!(!d.relocation_pass_runs);

        config.balancing.memory_threshold = Some(0);
        let d = decide(nodes, guests, &config);
        assert!(!has(&d, |r| matches!(
            r,
            Reason::ThresholdReached { .. } | Reason::ThresholdNotReached { .. }
        )));
        assert!(d.notes.contains(&QuirkNote::ThresholdZeroIgnored {
            method: Resource::Memory
        }));
        assert!(!d.would_balance);
    }

    #[test]
    fn disabled_balancing_still_plans_but_issues_nothing() {
        let (nodes, guests) = unbalanced();
        let mut config = enabled();
        config.balancing.enable = false;
        let d = decide(nodes, guests, &config);
        assert!(d.relocation_pass_runs);
        assert_eq!(d.moves.len(), 1);
        assert!(!d.moves[0].issued);
        assert!(!d.would_balance);
        assert!(has(&d, |r| *r == Reason::BalancingDisabled));
    }

    #[test]
    fn default_empty_balance_types_never_migrate() {
        let (nodes, guests) = unbalanced();
        let mut config = config();
        config.balancing.enable = true;
        let d = decide(nodes, guests, &config);
        assert!(!d.would_balance);
        assert!(has(&d, |r| *r == Reason::NoBalanceTypes));
    }

    #[test]
    fn balance_types_filter_planned_moves() {
        let (nodes, mut guests) = unbalanced();
        guests[0].kind = GuestKind::Ct;
        let mut config = enabled();
        config.balancing.balance_types = vec![BalanceType::Vm];
        let d = decide(nodes, guests, &config);
        assert!(!d.would_balance);
        assert!(has(&d, |r| *r
            == Reason::TypeNotInBalanceTypes {
                guests: vec!["a".into()]
            }));
    }

    #[test]
    fn dry_run_issues_nothing() {
        let (nodes, guests) = unbalanced();
        let config = enabled();
        let snapshot = ClusterSnapshot {
            nodes,
            guests,
            ..ClusterSnapshot::default()
        };
        let d = evaluate(EvaluationInput {
            snapshot: &snapshot,
            config: &config,
            now: monday_noon(),
            dry_run: true,
        });
        assert!(!d.would_balance);
        assert!(has(&d, |r| *r == Reason::DryRun));
    }

    fn hot_psi() -> PsiSet {
        let hot = Pressure {
            some: 50.0,
            full: 40.0,
            some_spikes: 60.0,
            full_spikes: 45.0,
        };
        PsiSet {
            cpu: hot,
            memory: hot,
            io: hot,
        }
    }

    fn psi_config() -> ProxLbConfig {
        let mut config = enabled();
        config.balancing.mode = Mode::Psi;
        let t = PsiThreshold {
            pressure_full: 30.0,
            pressure_some: 30.0,
            pressure_spikes: 80.0,
        };
        config.balancing.psi = Some(PsiConfig {
            guests: BTreeMap::from([(Resource::Memory, t)]),
            nodes: BTreeMap::from([(Resource::Memory, t)]),
        });
        config
    }

    #[test]
    fn psi_mode_balances_on_hot_nodes_only() {
        let mut hot = node("pve1", 40);
        hot.psi = Some(hot_psi());
        let cold = node("pve2", 40);
        let mut g = guest(100, "a", "pve1", &[]);
        g.psi = Some(PsiSet::default());
        let d = decide(
            vec![hot.clone(), cold.clone()],
            vec![g.clone()],
            &psi_config(),
        );
        assert!(has(&d, |r| *r
            == Reason::NodePressureHot {
                node: "pve1".into(),
                method: Resource::Memory
            }));
        assert!(d.relocation_pass_runs);
        // Cold cluster: nothing hot, balanciness is not used even with a big spread.
        let d = decide(vec![node("pve1", 90), cold], vec![g], &psi_config());
        assert!(has(&d, |r| *r
            == Reason::NoPressure {
                method: Resource::Memory
            }));
        assert!(!d.relocation_pass_runs);
        // Without thresholds nothing is ever hot.
        let mut config = psi_config();
        config.balancing.psi = None;
        let d = decide(vec![hot], vec![], &config);
        assert!(d.notes.contains(&QuirkNote::PsiWithoutThresholds));
        assert!(!d.relocation_pass_runs);
    }

    #[test]
    fn psi_mode_is_switched_off_below_pve9() {
        let mut hot = node("pve1", 40);
        hot.psi = Some(hot_psi());
        let mut old = node("pve2", 40);
        old.pve_version = "8.4.1".into();
        let mut g = guest(100, "a", "pve1", &[]);
        g.psi = Some(hot_psi());
        let d = decide(vec![hot, old], vec![g], &psi_config());
        assert!(!d.effective.enable);
        assert!(!d.effective.with_conntrack_state);
        assert!(!d.would_balance);
        assert!(has(&d, |r| *r
            == Reason::PsiBalancingDeactivatedPrePve9 {
                nodes: vec![("pve2".into(), "8.4.1".into())]
            }));
        assert!(d.notes.contains(&QuirkNote::ConntrackDisabledPrePve9));
    }

    #[test]
    fn pve8_in_used_mode_only_loses_conntrack() {
        let (mut nodes, guests) = unbalanced();
        nodes[1].pve_version = "8.2.0".into();
        let d = decide(nodes, guests, &enabled());
        assert!(d.effective.enable);
        assert!(!d.effective.with_conntrack_state);
        assert!(!d.effective.ha_rules_read);
        assert!(d.would_balance);
    }

    #[test]
    fn enforce_affinity_is_overwritten_from_violations() {
        let nodes = vec![node("pve1", 40), node("pve2", 35)];
        let mut config = enabled();
        config.balancing.enforce_affinity = true;
        let d = decide(nodes.clone(), vec![guest(100, "a", "pve1", &[])], &config);
        assert!(!d.effective.enforce_affinity);
        assert!(d.notes.contains(&QuirkNote::EnforceAffinityOverwritten {
            configured: true,
            effective: false
        }));
        assert!(!d.relocation_pass_runs);

        let split = vec![
            guest(100, "a", "pve1", &["plb_affinity_x"]),
            guest(101, "b", "pve2", &["plb_affinity_x"]),
        ];
        let d = decide(nodes, split, &enabled());
        assert!(d.effective.enforce_affinity);
        assert!(d.relocation_pass_runs);
        assert!(has(
            &d,
            |r| matches!(r, Reason::AffinityViolated { violations } if violations.len() == 1)
        ));
        assert!(d.would_balance);
    }

    #[test]
    fn enforce_pinning_runs_the_pass_in_a_balanced_cluster() {
        let nodes = vec![node("pve1", 40), node("pve2", 35)];
        let guests = vec![guest(100, "a", "pve1", &["plb_pin_pve2"])];
        let mut config = enabled();
        config.balancing.enforce_pinning = true;
        let d = decide(nodes, guests, &config);
        assert!(d.relocation_pass_runs);
        assert!(has(&d, |r| *r == Reason::EnforcePinning));
        assert_eq!(d.moves[0].planned.to, "pve2");
        assert!(d.would_balance);
    }

    #[test]
    fn maintenance_nodes_are_evacuated() {
        let nodes = vec![node("pve1", 40), node("pve2", 35)];
        let guests = vec![
            guest(100, "a", "pve1", &[]),
            guest(101, "ign", "pve1", &["plb_ignore"]),
        ];
        let mut config = enabled();
        config.proxmox_cluster.maintenance_nodes = vec!["pve1".into()];
        let d = decide(nodes, guests, &config);
        assert!(has(&d, |r| *r
            == Reason::MaintenanceEvacuation {
                node: "pve1".into(),
                guests: vec!["a".into()]
            }));
        assert!(d.would_balance);
        assert!(d.moves.iter().all(|m| m.planned.guest == "a"));
        assert!(d.notes.contains(&QuirkNote::IgnoredGuestsShiftProjection {
            guests: vec!["ign".into()]
        }));
        assert!(d.notes.contains(&QuirkNote::SpreadMeasuredAfterEvacuation));
    }

    #[test]
    fn no_node_outside_maintenance_skips_the_run() {
        let mut config = enabled();
        config.proxmox_cluster.maintenance_nodes = vec!["pve1".into(), "pve2".into()];
        let (nodes, guests) = unbalanced();
        let d = decide(nodes, guests, &config);
        assert_eq!(d.best_node, None);
        assert!(!d.would_balance);
        assert!(has(&d, |r| *r == Reason::NoTargetNode));
    }

    #[test]
    fn decision_serialises_with_tagged_reasons() {
        let (nodes, guests) = unbalanced();
        let d = decide(nodes, guests, &enabled());
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains(r#""reason":"spread_above_balanciness""#));
        let back: Decision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }

    fn plain_cluster() -> impl Strategy<Value = (Vec<Node>, Vec<Guest>)> {
        (
            proptest::collection::vec(5u64..=95, 2..5),
            proptest::collection::vec((0usize..5, 0u64..4), 0..6),
        )
            .prop_map(|(mems, guests)| {
                let nodes: Vec<Node> = mems
                    .iter()
                    .enumerate()
                    .map(|(i, m)| node(&format!("n{i}"), *m))
                    .collect();
                let guests = guests
                    .iter()
                    .enumerate()
                    .map(|(i, (n, mem))| {
                        let mut g = guest(
                            100 + i as u32,
                            &format!("g{i}"),
                            &format!("n{}", n % nodes.len()),
                            &[],
                        );
                        g.mem_used = mem * GIB;
                        g
                    })
                    .collect();
                (nodes, guests)
            })
    }

    proptest! {
        #[test]
        fn spread_within_balanciness_and_no_other_trigger_means_no_balancing(
            (nodes, guests) in plain_cluster(), balanciness in 0i64..100,
        ) {
            let mut config = enabled();
            config.balancing.balanciness = balanciness;
            let d = decide(nodes, guests, &config);
            let check = d.balance_check.clone().unwrap();
            let spread = check.spread.clone().unwrap();
            prop_assert!(spread.spread >= 0.0);
            if spread.spread <= balanciness as f64 {
                prop_assert!(!d.relocation_pass_runs);
                prop_assert!(!d.would_balance);
                prop_assert!(d.moves.is_empty());
            } else {
                prop_assert!(d.relocation_pass_runs);
            }
        }

        #[test]
        fn issued_moves_respect_enable_and_balance_types(
            (nodes, guests) in plain_cluster(), enable in any::<bool>(), vm in any::<bool>(), ct in any::<bool>(),
        ) {
            let mut config = enabled();
            config.balancing.enable = enable;
            config.balancing.balanciness = 0;
            config.balancing.balance_types = [(vm, BalanceType::Vm), (ct, BalanceType::Ct)]
                .into_iter().filter(|(on, _)| *on).map(|(_, t)| t).collect();
            let d = decide(nodes, guests, &config);
            if d.would_balance {
                prop_assert!(enable && vm);
                prop_assert!(d.reasons.iter().any(|r| r.effect() == ReasonEffect::Triggers));
            }
            for m in &d.moves {
                prop_assert!(!m.issued || (enable && vm));
                prop_assert_ne!(&m.planned.from, &m.planned.to);
            }
        }

        #[test]
        fn projection_conserves_memory(
            (nodes, guests) in plain_cluster(),
        ) {
            let mut config = enabled();
            config.balancing.balanciness = 0;
            let d = decide(nodes, guests, &config);
            let before: f64 = d.nodes_before.iter().map(|n| n.memory.used).sum();
            let after: f64 = d.nodes_after.iter().map(|n| n.memory.used).sum();
            prop_assert!((before - after).abs() < 1.0);
        }
    }
}
