//! The quirk notes of a run: ProxLB behaviour that shaped this answer and that a reader would not
//! expect from the documentation.

use super::QuirkNote;
use crate::proxlb::cluster::ClusterSnapshot;
use crate::proxlb::config::{Mode, ProxLbConfig, Resource, SolverMode};
use crate::proxlb::plan::{PlanEvent, PlanOutcome};
use crate::proxlb::rules::{ProxlbView, RulesView};
use crate::proxlb::usage::Reservation;

/// Appends every quirk note that applies to this run.
pub(super) fn quirk_notes(
    snapshot: &ClusterSnapshot,
    config: &ProxLbConfig,
    view: &ProxlbView,
    rules: &RulesView,
    outcome: &PlanOutcome,
    notes: &mut Vec<QuirkNote>,
) {
    let balancing = &config.balancing;
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
    reservation_notes(config, outcome, notes);
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
    // Evacuated from maintenance or relocated by the balancing pass: either way ProxLB's
    // projection counts them on another node and never migrates them.
    let mut shifted: Vec<String> = outcome
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
    for guest in &outcome.ignored_shifted {
        if !shifted.contains(guest) {
            shifted.push(guest.clone());
        }
    }
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
}

/// `node_resource_reserve` quirks (`proxlb/models/nodes.py:73-128`).
fn reservation_notes(config: &ProxLbConfig, outcome: &PlanOutcome, notes: &mut Vec<QuirkNote>) {
    let balancing = &config.balancing;
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
    if !reserved.is_empty() && balancing.mode == Mode::Used && balancing.method == Resource::Memory
    {
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
}
