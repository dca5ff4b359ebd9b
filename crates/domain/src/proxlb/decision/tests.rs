//! Hand-made scenarios for [`super::evaluate`], one per rule.

use super::*;
use crate::proxlb::cluster::GuestKind;
use crate::proxlb::cluster::{Guest, Node, Pressure, PsiSet};
use crate::proxlb::config::{BalanceType, Mode, Resource};
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

fn tagged_cluster() -> impl Strategy<Value = (Vec<Node>, Vec<Guest>, Vec<String>)> {
    const TAGS: [&str; 6] = [
        "plb_affinity_a",
        "plb_affinity_b",
        "plb_anti_affinity_x",
        "plb_anti_affinity_y",
        "plb_ignore",
        "other",
    ];
    (
        proptest::collection::vec(5u64..=95, 2..5),
        proptest::collection::vec(
            (0usize..5, proptest::collection::vec(0usize..6, 0..3)),
            0..12,
        ),
        proptest::collection::vec(0usize..5, 0..2),
    )
        .prop_map(|(mems, guests, maint)| {
            let nodes: Vec<Node> = mems
                .iter()
                .enumerate()
                .map(|(i, m)| node(&format!("n{i}"), *m))
                .collect();
            let guests = guests
                .iter()
                .enumerate()
                .map(|(i, (n, tags))| {
                    let tags: Vec<&str> = tags.iter().map(|t| TAGS[*t]).collect();
                    guest(
                        100 + i as u32,
                        &format!("g{i}"),
                        &format!("n{}", n % nodes.len()),
                        &tags,
                    )
                })
                .collect();
            let maint = maint
                .iter()
                .map(|m| format!("n{}", m % mems.len()))
                .collect();
            (nodes, guests, maint)
        })
}

proptest! {
    #[test]
    fn current_violations_equal_the_union_of_guest_violations(
        (nodes, guests, maint) in tagged_cluster(),
    ) {
        use crate::proxlb::maintenance::maintenance_overview;
        use crate::proxlb::rules::{current_violations, guest_violations, ProxlbView};
        let snapshot = ClusterSnapshot { nodes, guests, ..ClusterSnapshot::default() };
        let mut config = enabled();
        config.proxmox_cluster.maintenance_nodes = maint;
        let maintenance = maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, monday_noon());
        let view = ProxlbView::build(&snapshot, &config, &maintenance);
        let mut naive = Vec::new();
        for g in &view.guests {
            for v in guest_violations(&view, g) {
                if !naive.contains(&v) {
                    naive.push(v);
                }
            }
        }
        prop_assert_eq!(current_violations(&view), naive);
    }
}
