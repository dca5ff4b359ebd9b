//! ProxLB's decision in plain words, for the UI and the REST API alike.

mod balancing;

pub use balancing::{
    describe_candidate, describe_guest_choice, describe_guest_outcome, describe_guest_reasons,
    describe_inputs, describe_method_check, describe_no_fit, describe_not_moved,
    describe_pass_trigger, describe_plan_verdict, describe_quirk_at, describe_rejection,
    describe_target, describe_value,
};

use crate::proxlb::config::Mode;
use crate::proxlb::maintenance::MaintenanceSource;
use crate::proxlb::plan::PlannedMove;
use crate::proxlb::rules::{IgnoreReason, RuleSource};
use crate::proxlb::{Conflict, QuirkNote, Reason};
use crate::units::plural;

/// ProxLB's lowercase name of a mode.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Used => "used",
        Mode::Assigned => "assigned",
        Mode::Psi => "psi",
    }
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

/// One sentence for a reason behind ProxLB's decision.
pub fn describe_reason(reason: &Reason) -> String {
    match reason {
        Reason::SpreadAboveBalanciness { method, mode, spread, balanciness, highest_node, highest, lowest_node, lowest } => format!(
            "The {} {} spread is {spread:.1} points ({highest_node} {highest:.1} % vs {lowest_node} {lowest:.1} %), above the balanciness of {balanciness}.",
            method.as_str(),
            mode_name(*mode)
        ),
        Reason::SpreadWithinBalanciness { method, mode, spread, balanciness } => format!(
            "The {} {} spread is {spread:.1} points, within the balanciness of {balanciness}.",
            method.as_str(),
            mode_name(*mode)
        ),
        Reason::ThresholdReached { method, threshold, node, value } => format!(
            "{node} uses {value:.1} % {}, above the {} threshold of {threshold} %.",
            method.as_str(),
            method.as_str()
        ),
        Reason::ThresholdNotReached { method, threshold, node, value } => format!(
            "The busiest node, {node}, uses {value:.1} % {}, below the threshold of {threshold} %.",
            method.as_str()
        ),
        Reason::NodePressureHot { node, method } => format!("{node} is marked hot by {} pressure (PSI).", method.as_str()),
        Reason::GuestPressureHot { guest, method } => format!("Guest {guest} is marked hot by {} pressure (PSI).", method.as_str()),
        Reason::NoPressure { method } => format!("No node or guest is hot by {} pressure.", method.as_str()),
        Reason::AffinityViolated { violations } => format!(
            "{} currently violated, so ProxLB enforces affinity and anti-affinity.",
            plural(violations.len(), "affinity or anti-affinity rule is", "affinity or anti-affinity rules are")
        ),
        Reason::EnforceAffinityConfigured => "enforce_affinity is on.".to_owned(),
        Reason::EnforcePinning => "enforce_pinning is on: pinned guests are moved to their pins.".to_owned(),
        Reason::MaintenanceEvacuation { node, guests } => {
            format!("{node} is in maintenance: ProxLB moves {} away.", list(guests))
        }
        Reason::BalancingDisabled => "balancing.enable is false: ProxLB calculates but never migrates.".to_owned(),
        Reason::PsiBalancingDeactivatedPrePve9 { nodes } => format!(
            "PSI mode needs Proxmox VE 9 on every node; {} run older versions, so ProxLB switches balancing off.",
            list(&nodes.iter().map(|(node, version)| format!("{node} ({version})")).collect::<Vec<_>>())
        ),
        Reason::NoBalanceTypes => "balancing.balance_types is empty: ProxLB never migrates anything.".to_owned(),
        Reason::TypeNotInBalanceTypes { guests } => {
            format!("Not moved because their type is not in balance_types: {}.", list(guests))
        }
        Reason::DryRun => "Dry run: nothing is migrated.".to_owned(),
        Reason::NoTargetNode => "No node can take guests after maintenance and rules are applied.".to_owned(),
        Reason::NothingToMove => "The calculation found no guest to move.".to_owned(),
    }
}

/// One sentence for a ProxLB quirk that shaped the decision.
pub fn describe_note(note: &QuirkNote) -> String {
    match note {
        QuirkNote::EnforceAffinityOverwritten { configured, effective } => format!(
            "ProxLB overwrites enforce_affinity on every run from the current violations: configured {configured}, effective {effective}."
        ),
        QuirkNote::EnforceAffinityKeptByLastGuest { guest } => format!(
            "The only violation is at the last guest checked ({guest}), so ProxLB keeps the configured enforce_affinity."
        ),
        QuirkNote::ThresholdZeroIgnored { method } => format!("A {}_threshold of 0 counts as unset.", method.as_str()),
        QuirkNote::MaintenanceNodesCountInSpread { nodes } => {
            format!("Nodes in maintenance still count in the spread: {}.", list(nodes))
        }
        QuirkNote::SpreadMeasuredAfterEvacuation => {
            "The spread is measured after the maintenance evacuation is projected.".to_owned()
        }
        QuirkNote::ReservationNotInUsedPercent { nodes } => format!(
            "node_resource_reserve does not lower the used-memory percentage until a move is planned ({}).",
            list(nodes)
        ),
        QuirkNote::ReservationTooLarge { node, gib } => {
            format!("The {gib} GiB reservation on {node} is larger than its memory.")
        }
        QuirkNote::ReservationOnlyMemory => "ProxLB 2.3.0 applies node_resource_reserve to memory only.".to_owned(),
        QuirkNote::NodeCpuFullPressureAlwaysZero => "Node CPU 'full' pressure is always 0 (Proxmox does not report it).".to_owned(),
        QuirkNote::PsiWithoutThresholds => "PSI mode without psi thresholds: nothing is ever marked hot.".to_owned(),
        QuirkNote::ConntrackDisabledPrePve9 => {
            "A node runs Proxmox VE < 9: ProxLB turns with_conntrack_state off.".to_owned()
        }
        QuirkNote::HaRulesSkippedPrePve9 => "A node runs Proxmox VE < 9: ProxLB does not read HA rules.".to_owned(),
        QuirkNote::IgnoredGuestsShiftProjection { guests } => format!(
            "Ignored guests are never migrated, but ProxLB's projection (the \"after\" figures) still counts them on another node: {}.",
            list(guests)
        ),
        QuirkNote::AssignedModeStopsOnUsedPercent => {
            "In assigned mode ProxLB still stops moving once the source is no longer the fullest by used memory.".to_owned()
        }
        QuirkNote::AntiAffinityTargetsInNodeOrder => {
            "Anti-affinity guests are placed on nodes in the order Proxmox lists them, not by load.".to_owned()
        }
        QuirkNote::OverprovisioningNotRead => "overprovisioning is parsed but not used by ProxLB 2.3.0.".to_owned(),
        QuirkNote::EnableHaRequiresMasterHost => {
            "service.enable_ha: ProxLB only acts on the host that is the HA master.".to_owned()
        }
        QuirkNote::SolverActiveMode => "The solver runs in active mode; this shows ProxLB's greedy plan.".to_owned(),
        QuirkNote::UnparsablePveVersion { node, version } => {
            format!("{node} reports an unreadable version {version:?}; ProxLB treats it as older than 9.")
        }
        QuirkNote::DuplicateGuestNames { names } => format!(
            "ProxLB keys guests by name; these names are used twice and one guest hides the other: {}.",
            list(names)
        ),
    }
}

/// One planned move, e.g. `web01: pve1 → pve3`.
pub fn describe_move(planned: &PlannedMove) -> String {
    format!("{}: {} → {}", planned.guest, planned.from, planned.to)
}

/// Why ProxLB treats a node as in maintenance, e.g. `maintenance (schedule Sat 02:00-04:00)`.
pub fn describe_maintenance(source: &MaintenanceSource) -> String {
    match source {
        MaintenanceSource::Config => "maintenance (config)".to_owned(),
        MaintenanceSource::Schedule { entry } => format!("maintenance (schedule {entry})"),
        MaintenanceSource::HaMaintenance => "maintenance (HA)".to_owned(),
    }
}

/// Where a rule comes from, e.g. `tag plb_affinity_web`.
pub fn describe_source(source: &RuleSource) -> String {
    match source {
        RuleSource::Tag { tag } => format!("tag {tag}"),
        RuleSource::Pool { pool } => format!("pool {pool}"),
        RuleSource::HaRule { rule } => format!("HA rule {rule}"),
    }
}

/// Why a guest is ignored.
pub fn describe_ignore(reason: &IgnoreReason) -> String {
    match reason {
        IgnoreReason::Tag { tag } => format!("tag {tag}"),
        IgnoreReason::IgnoreGuestsList => "listed in balancing.ignore_guests".to_owned(),
    }
}

/// One sentence for a rule conflict.
pub fn describe_conflict(conflict: &Conflict) -> String {
    match conflict {
        Conflict::PinToUnknownNode { guest, node, source } => format!(
            "{guest} is pinned to {node:?} ({}), which is not a node of this cluster: ProxLB ignores the pin.",
            describe_source(source)
        ),
        Conflict::PinNeverMatches { guest, pin, source } => format!(
            "The pin {pin:?} of {guest} ({}) can never match a node name as ProxLB compares them.",
            describe_source(source)
        ),
        Conflict::PinnedToMaintenanceNode { guest, node } => {
            format!("{guest} is pinned to {node}, which is in maintenance.")
        }
        Conflict::NoUsablePinTarget { guest } => format!("None of the pins of {guest} points at a usable node."),
        Conflict::PinnedAndIgnored { guest } => format!("{guest} is pinned but also ignored: the pin has no effect."),
        Conflict::AntiAffinityGroupTooLarge { group, members, usable_nodes } => format!(
            "Anti-affinity group {group} has {} but only {}: they cannot all be apart.",
            plural(*members, "guest", "guests"),
            plural(*usable_nodes, "usable node", "usable nodes")
        ),
        Conflict::AffinityGroupsShadowed { guest, effective, ignored } => format!(
            "{guest} is in several affinity groups; ProxLB only uses the last one, {effective}, and ignores {}.",
            list(ignored)
        ),
        Conflict::AffinityAndAntiAffinityOverlap { affinity_group, anti_affinity_group, guests } => format!(
            "{} are in affinity group {affinity_group} and in anti-affinity group {anti_affinity_group} at once.",
            list(guests)
        ),
        Conflict::DuplicateGuestName { name, vmids } => format!(
            "The name {name} is used by {} ({}); ProxLB keys guests by name, so one hides the others.",
            plural(vmids.len(), "guest", "guests"),
            list(&vmids.iter().map(u32::to_string).collect::<Vec<_>>())
        ),
        Conflict::IgnoredGuestOnMaintenanceNode { guest, node } => {
            format!("{guest} is ignored, so it stays on {node} although that node is in maintenance.")
        }
        Conflict::PoolRuleForUnknownPool { pool } => {
            format!("balancing.pools names pool {pool}, which does not exist in Proxmox.")
        }
        Conflict::HaRulesSkippedPrePve9 { rules } => format!(
            "A node runs Proxmox VE < 9, so ProxLB does not read the HA rules {}.",
            list(rules)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::config::Resource;

    #[test]
    fn spread_reasons_carry_their_numbers() {
        let text = describe_reason(&Reason::SpreadAboveBalanciness {
            method: Resource::Memory,
            mode: Mode::Used,
            spread: 62.49,
            balanciness: 10,
            highest_node: "pve1".into(),
            highest: 80.0,
            lowest_node: "pve3".into(),
            lowest: 17.5,
        });
        assert_eq!(text, "The memory used spread is 62.5 points (pve1 80.0 % vs pve3 17.5 %), above the balanciness of 10.");
    }

    #[test]
    fn long_lists_are_shortened() {
        let guests: Vec<String> = (1..=8).map(|i| format!("g{i}")).collect();
        let text = describe_reason(&Reason::MaintenanceEvacuation {
            node: "pve2".into(),
            guests,
        });
        assert_eq!(
            text,
            "pve2 is in maintenance: ProxLB moves g1, g2, g3, g4, g5 and 3 more away."
        );
    }

    #[test]
    fn conflicts_name_guest_node_and_source() {
        let text = describe_conflict(&Conflict::PinToUnknownNode {
            guest: "app01".into(),
            node: "pve9".into(),
            source: RuleSource::Tag {
                tag: "plb_pin_pve9".into(),
            },
        });
        assert_eq!(text, "app01 is pinned to \"pve9\" (tag plb_pin_pve9), which is not a node of this cluster: ProxLB ignores the pin.");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        let one = describe_conflict(&Conflict::AntiAffinityGroupTooLarge {
            group: "db".into(),
            members: 3,
            usable_nodes: 1,
        });
        assert_eq!(
            one,
            "Anti-affinity group db has 3 guests but only 1 usable node: they cannot all be apart."
        );
        let text = describe_reason(&Reason::AffinityViolated { violations: vec![] });
        assert!(
            text.starts_with("0 affinity or anti-affinity rules are currently"),
            "{text}"
        );
        let text = describe_conflict(&Conflict::DuplicateGuestName {
            name: "web".into(),
            vmids: vec![101, 102],
        });
        assert!(
            text.starts_with("The name web is used by 2 guests (101, 102);"),
            "{text}"
        );
    }

    #[test]
    fn moves_and_maintenance_read_as_one_phrase() {
        let planned = PlannedMove {
            guest: "web01".into(),
            vmid: 101,
            kind: crate::proxlb::GuestKind::Vm,
            from: "pve1".into(),
            to: "pve3".into(),
        };
        assert_eq!(describe_move(&planned), "web01: pve1 → pve3");
        assert_eq!(
            describe_maintenance(&MaintenanceSource::Schedule {
                entry: "Sat 02:00-04:00".into()
            }),
            "maintenance (schedule Sat 02:00-04:00)"
        );
    }

    #[test]
    fn notes_name_the_setting() {
        assert!(describe_note(&QuirkNote::ThresholdZeroIgnored {
            method: Resource::Cpu
        })
        .contains("cpu_threshold"));
    }
}
