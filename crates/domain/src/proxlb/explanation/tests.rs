//! Hand-made scenarios, one per rule: the cluster check, why a guest and target were chosen, why
//! every other node was rejected, and why a guest stays.

use crate::proxlb::cluster::{ClusterSnapshot, Guest, GuestKind, GuestStatus, Node, NodeStatus};
use crate::proxlb::config::{BalanceType, Mode, ProxLbConfig, Resource};
use crate::proxlb::decision::{evaluate_full, Evaluation, EvaluationInput, Reason};
use crate::proxlb::explanation::{
    GuestChoice, GuestExplanation, GuestOutcome, NotMovedReason, PassTrigger, QuirkAt, Rejection,
    TargetRule,
};
use crate::proxlb::rules::tests::{config, guest, monday_noon, node, GIB};

fn enabled() -> ProxLbConfig {
    let mut config = config();
    config.balancing.enable = true;
    config.balancing.balance_types = vec![BalanceType::Vm, BalanceType::Ct];
    config
}

fn snapshot(nodes: Vec<Node>, guests: Vec<Guest>) -> ClusterSnapshot {
    ClusterSnapshot {
        nodes,
        guests,
        ..ClusterSnapshot::default()
    }
}

fn run(snapshot: &ClusterSnapshot, config: &ProxLbConfig) -> Evaluation {
    evaluate_full(EvaluationInput {
        snapshot,
        config,
        now: monday_noon(),
        dry_run: false,
    })
}

fn sized(vmid: u32, name: &str, node: &str, gib: u64, tags: &[&str]) -> Guest {
    let mut g = guest(vmid, name, node, tags);
    g.mem_used = gib * GIB;
    g
}

fn explain(e: &Evaluation, s: &ClusterSnapshot, q: &str) -> GuestExplanation {
    e.explain_guest(s, q).expect("guest exists")
}

fn stays(x: &GuestExplanation) -> &[NotMovedReason] {
    match &x.outcome {
        GuestOutcome::Stays { reasons } => reasons,
        GuestOutcome::Moves { .. } => panic!("{} moves", x.name),
    }
}

#[test]
fn cluster_check_names_spread_and_threshold_per_method() {
    let s = snapshot(
        vec![node("pve1", 91), node("pve2", 84)],
        vec![guest(100, "a", "pve1", &[])],
    );
    let mut c = enabled();
    c.balancing.memory_threshold = Some(85);
    let e = run(&s, &c);
    let x = e.cluster_explanation();
    assert_eq!((x.method, x.mode), (Resource::Memory, Mode::Used));
    assert!(x.needed);
    assert_eq!(x.pass_triggers, vec![PassTrigger::BalanceNeeded]);
    assert_eq!(x.checks.len(), 3);
    let memory = &x.checks[0];
    assert!(memory.active && memory.needed && !memory.spread_exceeds);
    assert_eq!(memory.spread.as_ref().map(|s| s.spread), Some(7.0));
    assert_eq!(memory.threshold, Some(85));
    assert_eq!(memory.over_threshold.len(), 1);
    assert_eq!(memory.over_threshold[0].node, "pve1");
    // CPU is 10 % on both nodes: balanced, not the active method.
    assert!(!x.checks[1].active && !x.checks[1].needed);
}

#[test]
fn node_bars_show_before_and_after_the_plan() {
    let s = snapshot(
        vec![node("pve1", 70), node("pve2", 30)],
        vec![sized(100, "a", "pve1", 10, &[])],
    );
    let e = run(&s, &enabled());
    let bars = e.node_bars();
    assert_eq!(bars[0].before.memory, 70.0);
    assert_eq!(bars[0].after.memory, 60.0);
    assert_eq!(bars[1].after.memory, 40.0);
    assert_eq!((bars[0].moves_out, bars[1].moves_in), (1, 1));
}

#[test]
fn a_move_names_its_group_its_target_and_every_rejected_node() {
    let mut maint = node("pve4", 5);
    maint.ha_maintenance = true;
    let mut off = node("pve5", 5);
    off.status = NodeStatus::Offline;
    let s = snapshot(
        vec![
            node("pve1", 80),
            node("pve2", 20),
            node("pve3", 30),
            maint,
            off,
        ],
        vec![sized(100, "a", "pve1", 5, &[])],
    );
    let e = run(&s, &enabled());
    let moves = e.move_explanations();
    assert_eq!(moves.len(), 1);
    let m = &moves[0];
    assert!(matches!(
        m.why_guest,
        GuestChoice::Relocation { group: None, position: 1, groups: 1, fullest_used_percent, .. } if fullest_used_percent == 80.0
    ));
    assert_eq!(m.why_target.node, "pve2");
    assert_eq!(m.why_target.rule, TargetRule::MostFree);
    let verdict = |n: &str| m.candidates.iter().find(|c| c.node == n).unwrap();
    assert!(verdict("pve2").chosen);
    assert_eq!(m.candidates[0].node, "pve2");
    assert_eq!(verdict("pve1").rejections[0], Rejection::CurrentNode);
    assert_eq!(
        verdict("pve3").rejections,
        vec![Rejection::NotMostFree {
            value: 30.0,
            chosen_value: 20.0
        }]
    );
    assert_eq!(verdict("pve4").rejections, vec![Rejection::Maintenance]);
    assert_eq!(verdict("pve5").rejections, vec![Rejection::Offline]);
    assert!(m.not_issued.is_empty());
}

#[test]
fn a_node_without_room_is_flagged_even_when_it_was_not_the_choice() {
    let s = snapshot(
        vec![node("pve1", 98), node("pve2", 20), node("pve3", 97)],
        vec![sized(100, "a", "pve1", 5, &[])],
    );
    let e = run(&s, &enabled());
    let m = &e.move_explanations()[0];
    let pve3 = m.candidates.iter().find(|c| c.node == "pve3").unwrap();
    assert!(pve3.rejections.contains(&Rejection::NotEnoughMemory {
        needed: 5.0 * GIB as f64,
        free: 3.0 * GIB as f64
    }));
}

#[test]
fn pinned_guest_goes_to_its_pin_and_other_nodes_are_pinned_elsewhere() {
    let s = snapshot(
        vec![node("pve1", 40), node("pve2", 20), node("pve3", 35)],
        vec![guest(100, "a", "pve1", &["plb_pin_pve3"])],
    );
    let mut c = enabled();
    c.balancing.enforce_pinning = true;
    let e = run(&s, &c);
    let x = e.cluster_explanation();
    assert!(x.pass_triggers.contains(&PassTrigger::EnforcePinning));
    let m = &e.move_explanations()[0];
    assert_eq!(m.why_target.node, "pve3");
    assert!(
        matches!(&m.why_target.rule, TargetRule::Pinned { allowed, strict: true } if allowed == &vec!["pve3".to_owned()])
    );
    let pve2 = m.candidates.iter().find(|c| c.node == "pve2").unwrap();
    assert_eq!(
        pve2.rejections,
        vec![Rejection::PinnedElsewhere {
            pins: vec!["pve3".into()]
        }]
    );
}

#[test]
fn anti_affinity_takes_the_first_unused_node_in_order() {
    let tags = ["plb_anti_affinity_db"];
    let s = snapshot(
        vec![node("pve1", 10), node("pve2", 90), node("pve3", 5)],
        vec![
            guest(100, "db1", "pve2", &tags),
            guest(101, "db2", "pve2", &tags),
        ],
    );
    let e = run(&s, &enabled());
    let m = &e.move_explanations()[0];
    assert_eq!(m.planned.planned.guest, "db1");
    assert_eq!(m.why_target.node, "pve1");
    assert_eq!(m.why_target.rule, TargetRule::AntiAffinity { used: vec![] });
    let pve3 = m.candidates.iter().find(|c| c.node == "pve3").unwrap();
    assert_eq!(
        pve3.rejections[0],
        Rejection::AntiAffinityNodeOrder {
            picked: "pve1".into()
        }
    );
    // Memory was checked on pve3 (the most free) but the guest goes to pve1.
    assert!(m.quirks.contains(&QuirkAt::MemoryCheckedOnOtherNode {
        checked: "pve3".into(),
        target: "pve1".into()
    }));
    // db2 is assigned pve2, the node it is on, after db1 used pve1.
    let x = explain(&e, &s, "db2");
    assert!(matches!(
        stays(&x)[0],
        NotMovedReason::AssignedCurrentNode { rule: TargetRule::AntiAffinity { ref used } } if used == &vec!["pve1".to_owned()]
    ));
}

#[test]
fn maintenance_evacuation_explains_itself() {
    let mut maint = node("pve1", 30);
    maint.ha_maintenance = true;
    let s = snapshot(
        vec![maint, node("pve2", 50), node("pve3", 40)],
        vec![guest(100, "a", "pve1", &["plb_pin_pve2"])],
    );
    let e = run(&s, &enabled());
    let m = &e.move_explanations()[0];
    assert_eq!(
        m.why_guest,
        GuestChoice::MaintenanceEvacuation {
            node: "pve1".into()
        }
    );
    assert_eq!(m.why_target.rule, TargetRule::EvacuationMostFree);
    assert_eq!(m.why_target.node, "pve3");
    assert!(m.quirks.contains(&QuirkAt::EvacuationIgnoresRules));
}

#[test]
fn guest_not_on_the_fullest_node_stays_with_the_numbers() {
    let s = snapshot(
        vec![node("pve1", 80), node("pve2", 20), node("pve3", 50)],
        vec![guest(100, "a", "pve1", &[]), guest(101, "c", "pve3", &[])],
    );
    let e = run(&s, &enabled());
    let x = explain(&e, &s, "c");
    match &stays(&x)[0] {
        NotMovedReason::NotFullest {
            node,
            used_percent,
            fullest,
            fullest_used_percent,
        } => {
            assert_eq!(node, "pve3");
            assert_eq!(*used_percent, 50.0);
            assert_eq!(fullest.as_deref(), Some("pve1"));
            assert_eq!(*fullest_used_percent, 78.0);
        }
        other => panic!("{other:?}"),
    }
    // The moved guest, found by vmid, explains its move.
    let a = explain(&e, &s, "100");
    assert!(matches!(a.outcome, GuestOutcome::Moves { .. }));
}

#[test]
fn pass_stops_when_the_cluster_is_balanced() {
    let s = snapshot(
        vec![node("pve1", 58), node("pve2", 42)],
        vec![
            sized(100, "a", "pve1", 5, &[]),
            sized(101, "b", "pve1", 6, &[]),
        ],
    );
    let e = run(&s, &enabled());
    assert_eq!(e.decision.moves.len(), 1);
    let x = explain(&e, &s, "b");
    assert_eq!(
        stays(&x)[0],
        NotMovedReason::StoppedBalanced {
            position: 2,
            stopped_before: 2
        }
    );
}

#[test]
fn target_without_memory_skips_the_guest() {
    let s = snapshot(
        vec![node("pve1", 95), node("pve2", 20)],
        vec![sized(100, "huge", "pve1", 85, &[])],
    );
    let e = run(&s, &enabled());
    let x = explain(&e, &s, "huge");
    assert_eq!(
        stays(&x)[0],
        NotMovedReason::NotEnoughMemoryOnTarget {
            target: "pve2".into(),
            needed: 85.0 * GIB as f64,
            free: 80.0 * GIB as f64
        }
    );
}

#[test]
fn guests_outside_the_calculation_say_why() {
    let mut off = node("pve3", 10);
    off.status = NodeStatus::Offline;
    let mut stopped = guest(102, "stopped", "pve1", &[]);
    stopped.status = GuestStatus::Stopped;
    let s = snapshot(
        vec![node("pve1", 40), node("pve2", 35), off],
        vec![
            guest(100, "ign", "pve1", &["plb_ignore_vm"]),
            guest(101, "quiet", "pve1", &[]),
            stopped,
            guest(103, "gone", "pve3", &[]),
            guest(104, "elsewhere", "pve2", &[]),
        ],
    );
    let mut c = enabled();
    c.proxmox_cluster.ignore_nodes = vec!["pve2".into()];
    let e = run(&s, &c);
    assert!(matches!(
        stays(&explain(&e, &s, "ign"))[0],
        NotMovedReason::Ignored { .. }
    ));
    assert_eq!(
        stays(&explain(&e, &s, "quiet"))[0],
        NotMovedReason::BalancingNotNeeded
    );
    assert_eq!(
        stays(&explain(&e, &s, "102"))[0],
        NotMovedReason::NotRunning {
            status: GuestStatus::Stopped
        }
    );
    assert_eq!(
        stays(&explain(&e, &s, "gone"))[0],
        NotMovedReason::NodeOffline {
            node: "pve3".into()
        }
    );
    assert_eq!(
        stays(&explain(&e, &s, "elsewhere"))[0],
        NotMovedReason::NodeIgnored {
            node: "pve2".into()
        }
    );
    assert!(e.explain_guest(&s, "nosuch").is_none());
    let x = e.cluster_explanation();
    assert_eq!(x.excluded_nodes.len(), 2);
}

#[test]
fn duplicate_names_point_at_the_guest_proxlb_kept() {
    let s = snapshot(
        vec![node("pve1", 40), node("pve2", 35)],
        vec![
            guest(100, "web", "pve1", &[]),
            guest(101, "web", "pve2", &[]),
        ],
    );
    let e = run(&s, &enabled());
    assert_eq!(
        stays(&explain(&e, &s, "100"))[0],
        NotMovedReason::DuplicateName { kept_vmid: 101 }
    );
}

#[test]
fn planned_but_not_issued_names_the_type_filter() {
    let mut ct = sized(100, "box", "pve1", 5, &[]);
    ct.kind = GuestKind::Ct;
    let s = snapshot(vec![node("pve1", 70), node("pve2", 30)], vec![ct]);
    let mut c = enabled();
    c.balancing.balance_types = vec![BalanceType::Vm];
    let e = run(&s, &c);
    match &stays(&explain(&e, &s, "box"))[0] {
        NotMovedReason::NotIssued {
            reasons,
            explanation,
        } => {
            assert_eq!(
                reasons,
                &vec![Reason::TypeNotInBalanceTypes {
                    guests: vec!["box".into()]
                }]
            );
            assert_eq!(explanation.why_target.node, "pve2");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_affinity_group_stops_at_the_member_whose_node_is_not_the_fullest() {
    let tags = ["plb_affinity_web"];
    // a and b share a group; pve1 is the fullest, but after a moves the group's next member b
    // is on pve3, which is not the fullest: ProxLB stops the group there.
    let s = snapshot(
        vec![node("pve1", 80), node("pve2", 10), node("pve3", 50)],
        vec![
            sized(100, "a", "pve1", 5, &tags),
            sized(101, "b", "pve3", 5, &tags),
            sized(102, "c", "pve3", 5, &tags),
        ],
    );
    let e = run(&s, &enabled());
    let b = explain(&e, &s, "b");
    assert!(matches!(stays(&b)[0], NotMovedReason::NotFullest { .. }));
    let c = explain(&e, &s, "c");
    assert_eq!(
        stays(&c)[0],
        NotMovedReason::GroupStoppedAt {
            group: "plb_affinity_web".into(),
            member: "b".into()
        }
    );
}

#[test]
fn shadowed_affinity_groups_and_unknown_pins_are_quirks_at_the_guest() {
    let s = snapshot(
        vec![node("pve1", 40), node("pve2", 35)],
        vec![guest(
            100,
            "a",
            "pve1",
            &["plb_affinity_one", "plb_affinity_two", "plb_pin_pve9"],
        )],
    );
    let e = run(&s, &enabled());
    let x = explain(&e, &s, "a");
    assert!(x.quirks.contains(&QuirkAt::LastAffinityGroupWins {
        used: "plb_affinity_two".into(),
        shadowed: vec!["plb_affinity_one".into()]
    }));
    assert!(x
        .quirks
        .iter()
        .any(|q| matches!(q, QuirkAt::PinToUnknownNode { node, .. } if node == "pve9")));
}

#[test]
fn projection_carries_moves_with_rejection_counts_and_sentences() {
    let s = snapshot(
        vec![node("pve1", 80), node("pve2", 20), node("pve3", 30)],
        vec![sized(100, "a", "pve1", 5, &[])],
    );
    let e = run(&s, &enabled());
    let p = e.balancing_projection();
    assert_eq!(p.moves_total, 1);
    assert_eq!(p.issued, 1);
    assert!(p.cluster.reasons.is_empty());
    assert!(p.reasons[0].text.contains("spread"));
    assert_eq!(
        p.moves[0].rejected,
        vec![
            ("current_node".to_owned(), 1),
            ("not_most_free".to_owned(), 1)
        ]
    );
    // The full table: the target, then the guest's own node.
    assert_eq!(p.moves[0].candidates.len(), 3);
    assert!(p.moves[0].candidates[0].chosen);
    let json = serde_json::to_string(&p).expect("serialises");
    let back: crate::projection::BalancingProjection =
        serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, p);
}

/// 20 nodes; the first in maintenance with 150 guests: every guest is evacuated, and each
/// move has 20 candidate rows.
fn evacuation_projection() -> crate::projection::BalancingProjection {
    let mut nodes = vec![node("pve00", 40)];
    nodes.extend((1..20).map(|i| node(&format!("pve{i:02}"), 40)));
    let guests = (0..150)
        .map(|i| sized(1000 + i, &format!("g{i}"), "pve00", 0, &[]))
        .collect();
    let s = snapshot(nodes, guests);
    let mut c = enabled();
    c.proxmox_cluster.maintenance_nodes = vec!["pve00".into()];
    run(&s, &c).balancing_projection()
}

#[test]
fn projection_ships_candidate_tables_within_its_budget() {
    use crate::projection::{BALANCING_CANDIDATES, BALANCING_MOVES};
    // 30 moves of 20 candidate rows fit the budget of 600 rows.
    let p = evacuation_projection();
    assert_eq!(p.moves_total, 150);
    assert!(p.moves.len() <= BALANCING_MOVES);
    let with_table = p.moves.iter().filter(|m| !m.candidates.is_empty()).count();
    assert_eq!(with_table, BALANCING_CANDIDATES / 20);
    // The cut is one place in plan order, and every shipped table has the target first and a
    // rejection for every other node (the maintenance node among them).
    assert!(p.moves[..with_table]
        .iter()
        .all(|m| !m.candidates.is_empty()));
    assert!(p.moves[with_table..]
        .iter()
        .all(|m| m.candidates.is_empty()));
    let first = &p.moves[0];
    assert!(first.candidates[0].chosen);
    assert!(first.candidates[1..]
        .iter()
        .all(|c| !c.rejections.is_empty()));
    assert!(first
        .candidates
        .iter()
        .any(|c| c.node == "pve00" && c.rejections.contains(&Rejection::CurrentNode)));
}

#[test]
fn a_page_of_the_projection_keeps_its_moves_and_tables_within_budget() {
    use crate::projection::{MOVES_PAGE, PAGE_CANDIDATE_ROWS};
    let whole = evacuation_projection();

    let first = whole.page(0);
    assert_eq!(first.moves_from, 0);
    assert_eq!(first.moves.len(), MOVES_PAGE);
    assert_eq!(first.moves_total, whole.moves_total);
    assert_eq!(first.nodes, whole.nodes);
    let with_table = first
        .moves
        .iter()
        .filter(|m| !m.candidates.is_empty())
        .count();
    assert_eq!(with_table, PAGE_CANDIDATE_ROWS / 20);
    assert!(first.moves[..with_table]
        .iter()
        .all(|m| !m.candidates.is_empty()));

    // A later page starts at its position; past the whole projection's tables (they ran out
    // at move 30) it has none.
    let fourth = whole.page(3 * MOVES_PAGE);
    assert_eq!(fourth.moves_from, 3 * MOVES_PAGE);
    assert_eq!(fourth.moves[0].planned, whole.moves[3 * MOVES_PAGE].planned);
    assert_eq!(fourth.moves.len(), MOVES_PAGE);
    assert!(fourth.moves.iter().all(|m| m.candidates.is_empty()));

    // Past the end: the last shipped move's page, never an empty one.
    let past = whole.page(10_000);
    assert_eq!(past.moves_from, whole.moves.len() - 1);
    assert_eq!(past.moves.len(), 1);
}
