//! Sentences for the balancing explanations: cluster checks, moves, candidate nodes, guests that
//! stay, best node.

use super::{describe_ignore, describe_reason, describe_source, list, mode_name};
use crate::balancing::answer::InputsAge;
use crate::projection::BalancingProjection;
use crate::proxlb::config::{Mode, Resource};
use crate::proxlb::explanation::{
    CandidateVerdict, GuestChoice, GuestExplanation, GuestOutcome, MethodCheck, NotMovedReason,
    PassTrigger, QuirkAt, Rejection, TargetChoice, TargetRule,
};
use crate::units::{format_bytes, format_duration, plural};

/// A node value as ProxLB compares it, e.g. `71.3 % memory used`, `12.0 % cpu pressure`.
pub fn describe_value(value: f64, method: Resource, mode: Mode) -> String {
    match mode {
        Mode::Used => format!("{value:.1} % {} used", method.as_str()),
        Mode::Assigned => format!("{value:.1} % {} assigned", method.as_str()),
        Mode::Psi => format!("{value:.1} % {} pressure spikes", method.as_str()),
    }
}

fn bytes(value: f64) -> String {
    format_bytes(value.max(0.0) as u64)
}

/// One sentence for the balance test of one method, e.g.
/// `memory: spread 7.2 points (pve1 71.0 % vs pve3 63.8 %) ≤ balanciness 10; pve1 at 91.0 % ≥ threshold 85 %`.
pub fn describe_method_check(check: &MethodCheck) -> String {
    let method = check.method.as_str();
    let mut parts = Vec::new();
    if check.mode == Mode::Psi {
        if check.hot_nodes.is_empty() && check.hot_guests.is_empty() {
            parts.push("no node or guest is hot by pressure".to_owned());
        }
        if !check.hot_nodes.is_empty() {
            parts.push(format!("hot nodes: {}", list(&check.hot_nodes)));
        }
        if !check.hot_guests.is_empty() {
            parts.push(format!("hot guests: {}", list(&check.hot_guests)));
        }
    } else if let Some(s) = &check.spread {
        let cmp = if check.spread_exceeds { ">" } else { "≤" };
        parts.push(format!(
            "spread {:.1} points ({} {:.1} % vs {} {:.1} %) {cmp} balanciness {}",
            s.spread, s.highest_node, s.highest, s.lowest_node, s.lowest, check.balanciness
        ));
    }
    if let Some(t) = check.threshold {
        if check.over_threshold.is_empty() {
            parts.push(format!("no node at or above the threshold of {t} %"));
        } else {
            let nodes: Vec<String> = check
                .over_threshold
                .iter()
                .map(|n| format!("{} at {:.1} %", n.node, n.value))
                .collect();
            parts.push(format!("{} ≥ threshold {t} %", list(&nodes)));
        }
    }
    let verdict = if check.needed {
        "needs balancing"
    } else {
        "balanced"
    };
    let when = if check.after_evacuation {
        " (after the maintenance evacuation)"
    } else {
        ""
    };
    format!(
        "{method} {}: {} — {verdict}{when}.",
        mode_name(check.mode),
        parts.join("; ")
    )
}

/// Why the relocation pass runs.
pub fn describe_pass_trigger(trigger: PassTrigger) -> &'static str {
    match trigger {
        PassTrigger::BalanceNeeded => "the balance test says balancing is needed",
        PassTrigger::EnforceAffinity => "affinity rules are violated, so ProxLB enforces them",
        PassTrigger::EnforcePinning => "enforce_pinning is on",
    }
}

/// Why this guest was picked.
pub fn describe_guest_choice(choice: &GuestChoice) -> String {
    match choice {
        GuestChoice::MaintenanceEvacuation { node } => {
            format!("{node} is in maintenance: ProxLB moves every guest away from it first.")
        }
        GuestChoice::Relocation {
            group,
            position,
            groups,
            members,
            group_memory,
            larger_first,
            fullest_used_percent,
            psi_top,
        } => {
            let group = match group {
                Some(name) => format!(
                    "its affinity group {name} ({}, {})",
                    plural(*members, "guest", "guests"),
                    bytes(*group_memory)
                ),
                None => format!("its own group ({})", bytes(*group_memory)),
            };
            let order = if *larger_first {
                "fewest guests first, then most memory"
            } else {
                "fewest guests first, then least memory"
            };
            let psi = if *psi_top {
                " and it had the highest pressure spikes of the guests not yet processed"
            } else {
                ""
            };
            format!(
                "ProxLB reached {group} as group {position} of {groups} ({order}) while its node was the fullest ({fullest_used_percent:.1} % used){psi}."
            )
        }
    }
}

/// Why this target.
pub fn describe_target(target: &TargetChoice) -> String {
    let value = target
        .value
        .map(|v| format!(" at {}", describe_value(v, target.method, target.mode)))
        .unwrap_or_default();
    let node = &target.node;
    match &target.rule {
        TargetRule::MostFree => format!("{node} was the most free node{value}."),
        TargetRule::EvacuationMostFree => format!(
            "{node} was the most free node{value}; the evacuation does not consult pins or anti-affinity."
        ),
        TargetRule::AntiAffinity { used } if used.is_empty() => format!(
            "Anti-affinity: {node} is the first node in Proxmox's order the group had not used yet."
        ),
        TargetRule::AntiAffinity { used } => format!(
            "Anti-affinity: the group already used {}; {node} is the next unused node in Proxmox's order.",
            list(used)
        ),
        TargetRule::Pinned { allowed, strict } => {
            let how = if *strict {
                "its pins allow"
            } else {
                "its non-strict pins plus the most free node allow"
            };
            format!("{node} was the most free of the nodes {how} ({}){value}.", list(allowed))
        }
    }
}

/// One rejection, e.g. `not enough memory (needs 8.0 GiB, 6.5 GiB free)`.
pub fn describe_rejection(rejection: &Rejection) -> String {
    match rejection {
        Rejection::CurrentNode => "the guest is already there".to_owned(),
        Rejection::Maintenance => "in maintenance".to_owned(),
        Rejection::IgnoredNode => "listed in ignore_nodes".to_owned(),
        Rejection::Offline => "offline".to_owned(),
        Rejection::PinnedElsewhere { pins } => {
            format!("pinned elsewhere (allowed: {})", list(pins))
        }
        Rejection::AntiAffinityUsed => {
            "a guest of its anti-affinity group is already there".to_owned()
        }
        Rejection::AntiAffinityNodeOrder { picked } => {
            format!("anti-affinity takes the first unused node in Proxmox's order, {picked}")
        }
        Rejection::AffinityGroupElsewhere { group, nodes } => {
            format!("its affinity group {group} runs on {}", list(nodes))
        }
        Rejection::NotEnoughMemory { needed, free } => format!(
            "not enough memory (needs {}, {} free)",
            bytes(*needed),
            bytes(*free)
        ),
        Rejection::Reserve {
            needed,
            free,
            reserved_gib,
        } => format!(
            "the {reserved_gib} GiB node_resource_reserve leaves {} free, {} needed",
            bytes(*free),
            bytes(*needed)
        ),
        Rejection::TooManyCores { cores, node_cores } => {
            format!("{cores} cores requested, the node has {node_cores:.0}")
        }
        Rejection::NotEnoughDisk { needed, free } => format!(
            "not enough disk (needs {}, {} free)",
            bytes(*needed),
            bytes(*free)
        ),
        Rejection::NotMostFree {
            value,
            chosen_value,
        } => format!("not the most free ({value:.1} vs {chosen_value:.1})"),
    }
}

/// A candidate node in one line, e.g. `pve2: not the most free (61.0 vs 40.2)`.
pub fn describe_candidate(candidate: &CandidateVerdict) -> String {
    if candidate.chosen {
        return format!("{}: chosen", candidate.node);
    }
    let reasons: Vec<String> = candidate
        .rejections
        .iter()
        .map(describe_rejection)
        .collect();
    format!("{}: {}", candidate.node, reasons.join("; "))
}

/// A quirk at the place it changed the outcome.
pub fn describe_quirk_at(quirk: &QuirkAt) -> String {
    match quirk {
        QuirkAt::LastAffinityGroupWins { used, shadowed } => format!(
            "ProxLB uses only the last affinity group, {used}; {} has no effect.",
            list(shadowed)
        ),
        QuirkAt::PinNeverMatches { pin, source } => format!(
            "The pin {pin:?} ({}) equals no node name exactly, so it never matches.",
            describe_source(source)
        ),
        QuirkAt::PinToUnknownNode { node, source } => format!(
            "The pin to {node:?} ({}) names no node ProxLB collects; it is not applied.",
            describe_source(source)
        ),
        QuirkAt::MemoryCheckedOnOtherNode { checked, target } => format!(
            "ProxLB checked free memory on {checked} (the most free node) but anti-affinity or a pin sent the guest to {target}, which was not checked."
        ),
        QuirkAt::EvacuationIgnoresRules => {
            "The maintenance evacuation ignores pins and anti-affinity.".to_owned()
        }
        QuirkAt::IgnoredGuestShiftsFigures { node } => format!(
            "The guest is ignored, yet ProxLB moved its figures to {node} in its projection."
        ),
        QuirkAt::FullestTestUsesUsedPercent => {
            "The \"fullest node\" test uses used percent even in assigned mode.".to_owned()
        }
        QuirkAt::PsiMovedPreviousGuest { guest } => format!(
            "PSI mode: this turn moved the figures of the previous guest, {guest}, again."
        ),
        QuirkAt::EvacuatedTwice => "The guest was evacuated from maintenance and processed again by the relocation pass; its node's figures were taken off twice.".to_owned(),
    }
}

/// Why a guest stays.
pub fn describe_not_moved(reason: &NotMovedReason) -> String {
    match reason {
        NotMovedReason::NotRunning { status } => format!(
            "ProxLB only balances running guests; this one is {}.",
            match status {
                crate::proxlb::GuestStatus::Running => "running",
                crate::proxlb::GuestStatus::Stopped => "stopped",
                crate::proxlb::GuestStatus::Other => "neither running nor stopped",
            }
        ),
        NotMovedReason::NodeOffline { node } => {
            format!("Its node {node} is offline; ProxLB does not collect it.")
        }
        NotMovedReason::NodeIgnored { node } => {
            format!("Its node {node} is in ignore_nodes; ProxLB leaves the node and its guests out.")
        }
        NotMovedReason::DuplicateName { kept_vmid } => format!(
            "Another guest ({kept_vmid}) has the same name; ProxLB keys guests by name and kept that one."
        ),
        NotMovedReason::Ignored { reasons } => format!(
            "It is ignored ({}).",
            reasons.iter().map(describe_ignore).collect::<Vec<_>>().join(", ")
        ),
        NotMovedReason::NoTargetNode => {
            "Every node is in maintenance: ProxLB skips the calculation.".to_owned()
        }
        NotMovedReason::BalancingNotNeeded => {
            "Balancing is not needed and nothing is enforced, so the relocation pass does not run.".to_owned()
        }
        NotMovedReason::StoppedBalanced {
            position,
            stopped_before,
        } => format!(
            "Its affinity group comes at position {position}; the pass stopped before group {stopped_before} because the cluster was balanced by then."
        ),
        NotMovedReason::NotFullest {
            node,
            used_percent,
            fullest,
            fullest_used_percent,
        } => match fullest {
            Some(f) => format!(
                "When its group came, {node} ({used_percent:.1} % used) was no longer the fullest node; {f} was ({fullest_used_percent:.1} %)."
            ),
            None => format!("When its group came, {node} was no longer the fullest node."),
        },
        NotMovedReason::GroupStoppedAt { group, member } => format!(
            "ProxLB stopped its affinity group {group} at {member}, whose node was no longer the fullest; the rest of the group stays."
        ),
        NotMovedReason::NotEnoughMemoryOnTarget {
            target,
            needed,
            free,
        } => format!(
            "The most free node, {target}, had {} free but the guest uses {}: ProxLB skips it.",
            bytes(*free),
            bytes(*needed)
        ),
        NotMovedReason::NotTopPressure => {
            "PSI mode moves only the guest with the highest pressure spikes per turn; this was not it.".to_owned()
        }
        NotMovedReason::AssignedCurrentNode { rule } => format!(
            "The rules chose its current node: {}",
            match rule {
                TargetRule::MostFree | TargetRule::EvacuationMostFree => "it was the most free node.".to_owned(),
                TargetRule::AntiAffinity { .. } => "anti-affinity assigned it the node it is on.".to_owned(),
                TargetRule::Pinned { allowed, .. } => format!("its pins allow {}.", list(allowed)),
            }
        ),
        NotMovedReason::NotIssued { reasons, .. } => format!(
            "A move is planned but not issued: {}",
            reasons.iter().map(describe_reason).collect::<Vec<_>>().join(" ")
        ),
    }
}

/// A guest's outcome in one sentence (the deciding reason).
pub fn describe_guest_outcome(outcome: &GuestOutcome) -> String {
    match outcome {
        GuestOutcome::Moves { explanation } => format!(
            "Moves {} → {}. {} {}",
            explanation.planned.planned.from,
            explanation.planned.planned.to,
            describe_guest_choice(&explanation.why_guest),
            describe_target(&explanation.why_target)
        ),
        GuestOutcome::Stays { reasons } => reasons
            .first()
            .map_or_else(|| "Stays.".to_owned(), describe_not_moved),
    }
}

/// A plan in one sentence, e.g. `ProxLB would migrate 3 guests now.`
pub fn describe_plan_verdict(plan: &BalancingProjection) -> String {
    if plan.issued > 0 {
        format!(
            "ProxLB would migrate {} now.",
            plural(plan.issued, "guest", "guests")
        )
    } else if plan.moves_total > 0 {
        format!(
            "ProxLB plans {} but would issue none.",
            plural(plan.moves_total, "move", "moves")
        )
    } else if plan.cluster.needed {
        "Balancing is needed, but ProxLB finds nothing it can move.".to_owned()
    } else if !plan.cluster.pass_triggers.is_empty() {
        "ProxLB enforces its rules, but no guest needs to move.".to_owned()
    } else {
        "The cluster is balanced: ProxLB would move nothing.".to_owned()
    }
}

/// Why a guest moves or stays, as sentences: the deciding reason first, then the others, then
/// the quirks at that place (`Quirk: …`).
pub fn describe_guest_reasons(explanation: &GuestExplanation) -> Vec<String> {
    let mut out = Vec::new();
    let mut quirks: Vec<&QuirkAt> = explanation.quirks.iter().collect();
    let mut moves = Vec::new();
    match &explanation.outcome {
        GuestOutcome::Moves { explanation } => {
            out.push(describe_guest_choice(&explanation.why_guest));
            out.push(describe_target(&explanation.why_target));
            moves.push(explanation.as_ref());
        }
        GuestOutcome::Stays { reasons } => {
            for reason in reasons {
                out.push(describe_not_moved(reason));
                if let NotMovedReason::NotIssued { explanation, .. } = reason {
                    out.push(describe_guest_choice(&explanation.why_guest));
                    out.push(describe_target(&explanation.why_target));
                    moves.push(explanation.as_ref());
                }
            }
        }
    }
    for q in moves.iter().flat_map(|m| &m.quirks) {
        if !quirks.contains(&q) {
            quirks.push(q);
        }
    }
    out.extend(
        quirks
            .into_iter()
            .map(|q| format!("Quirk: {}", describe_quirk_at(q))),
    );
    out
}

/// How complete and old ProxLB's RRD inputs are, then, one sentence each, where they still
/// differ from what ProxLB reads when it runs.
pub fn describe_inputs(inputs: Option<&InputsAge>) -> Vec<String> {
    let Some(inputs) = inputs else {
        return vec![
            "CPU/PSI inputs from RRD: not fetched yet.".to_owned(),
            "Until they are, guest CPU is the instantaneous value and there is no PSI, where ProxLB reads each guest's RRD mean and pressure.".to_owned(),
        ];
    };
    let i = &inputs.inputs;
    let oldest = inputs
        .oldest_age_seconds
        .map(|s| format!(", oldest {}", format_duration(s)))
        .unwrap_or_default();
    let mut out = vec![format!(
        "CPU/PSI inputs from RRD: {} of {}{oldest}.",
        i.guests_covered,
        plural(i.running_guests, "running guest", "running guests")
    )];
    let missing = i.running_guests.saturating_sub(i.guests_covered);
    if missing > 0 {
        out.push(format!(
            "{} still {} the instantaneous CPU and no PSI until {} RRD is fetched; ProxLB reads every guest's RRD when it runs, so its plan can differ there.",
            plural(missing, "guest", "guests"),
            if missing == 1 { "uses" } else { "use" },
            if missing == 1 { "its" } else { "their" }
        ));
    }
    out.push(
        "ProxLB reads its inputs afresh when it runs; this plan uses the last poll's, so it can differ by what changed since.".to_owned(),
    );
    out
}

/// Why no node fits a new guest, one line per node.
pub fn describe_no_fit(candidates: &[CandidateVerdict]) -> Vec<String> {
    candidates.iter().map(describe_candidate).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::explanation::NodeValue;
    use crate::proxlb::Spread;

    #[test]
    fn method_check_names_the_numbers() {
        let check = MethodCheck {
            method: Resource::Memory,
            mode: Mode::Used,
            active: true,
            after_evacuation: false,
            balanciness: 10,
            spread: Some(Spread {
                method: Resource::Memory,
                mode: Mode::Used,
                highest_node: "pve1".into(),
                highest: 91.0,
                lowest_node: "pve3".into(),
                lowest: 83.8,
                spread: 7.2,
            }),
            spread_exceeds: false,
            threshold: Some(85),
            over_threshold: vec![NodeValue {
                node: "pve1".into(),
                value: 91.0,
            }],
            hot_nodes: vec![],
            hot_guests: vec![],
            needed: true,
        };
        assert_eq!(
            describe_method_check(&check),
            "memory used: spread 7.2 points (pve1 91.0 % vs pve3 83.8 %) ≤ balanciness 10; pve1 at 91.0 % ≥ threshold 85 % — needs balancing."
        );
    }

    #[test]
    fn rejections_read_as_phrases() {
        assert_eq!(
            describe_rejection(&Rejection::NotEnoughMemory {
                needed: 8.0 * 1024.0 * 1024.0 * 1024.0,
                free: 6.5 * 1024.0 * 1024.0 * 1024.0
            }),
            "not enough memory (needs 8.0 GiB, 6.5 GiB free)"
        );
        assert_eq!(
            describe_candidate(&CandidateVerdict {
                node: "pve2".into(),
                chosen: false,
                value: Some(61.0),
                rejections: vec![
                    Rejection::Maintenance,
                    Rejection::NotMostFree {
                        value: 61.0,
                        chosen_value: 40.25
                    }
                ],
            }),
            "pve2: in maintenance; not the most free (61.0 vs 40.2)"
        );
    }

    #[test]
    fn inputs_say_coverage_age_and_where_they_differ() {
        let inputs = InputsAge::at(
            crate::view::BalancingInputs {
                running_guests: 120,
                guests_covered: 118,
                oldest_unix: Some(1_000),
            },
            1_040,
        );
        let lines = describe_inputs(Some(&inputs));
        assert_eq!(
            lines[0],
            "CPU/PSI inputs from RRD: 118 of 120 running guests, oldest 40s."
        );
        assert!(lines[1].starts_with("2 guests still use the instantaneous CPU"));
        assert_eq!(lines.len(), 3);
        assert_eq!(
            describe_inputs(None)[0],
            "CPU/PSI inputs from RRD: not fetched yet."
        );
    }

    #[test]
    fn targets_name_their_rule() {
        let text = describe_target(&TargetChoice {
            node: "pve2".into(),
            rule: TargetRule::AntiAffinity {
                used: vec!["pve1".into()],
            },
            value: Some(20.0),
            method: Resource::Memory,
            mode: Mode::Used,
        });
        assert_eq!(text, "Anti-affinity: the group already used pve1; pve2 is the next unused node in Proxmox's order.");
    }
}
