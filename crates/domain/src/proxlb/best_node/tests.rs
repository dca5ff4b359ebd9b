//! Hand-made scenarios for [`super::best_node`], one per rule.

use super::*;
use crate::proxlb::cluster::{Node, Pool};
use crate::proxlb::config::PoolRuleConfig;
use crate::proxlb::decision::{evaluate, EvaluationInput};
use crate::proxlb::rules::tests::{config, guest, monday_noon, node, GIB};
use std::collections::BTreeMap;

fn cluster(nodes: Vec<Node>) -> ClusterSnapshot {
    ClusterSnapshot {
        nodes,
        guests: vec![
            guest(100, "db1", "pve1", &["plb_anti_affinity_db"]),
            guest(101, "web1", "pve3", &["plb_affinity_web"]),
        ],
        pools: vec![Pool {
            id: "prod".into(),
            members: vec!["db1".into()],
        }],
        ..ClusterSnapshot::default()
    }
}

fn three() -> ClusterSnapshot {
    cluster(vec![node("pve1", 30), node("pve2", 50), node("pve3", 40)])
}

fn small() -> NewGuest {
    NewGuest {
        cores: 2,
        memory: 4 * GIB,
        disk: 10 * GIB,
        ..NewGuest::default()
    }
}

fn ask(s: &ClusterSnapshot, c: &ProxLbConfig, r: Option<&NewGuest>) -> Result<BestNode, NoFit> {
    best_node(s, c, monday_noon(), r)
}

fn rejections<'a>(candidates: &'a [CandidateVerdict], node: &str) -> &'a [Rejection] {
    &candidates
        .iter()
        .find(|c| c.node == node)
        .expect("node listed")
        .rejections
}

#[test]
fn without_a_request_it_is_what_the_plan_starts_from() {
    let s = three();
    let mut c = config();
    c.proxmox_cluster.maintenance_nodes = vec!["pve1".into()];
    let best = ask(&s, &c, None).expect("a node");
    assert_eq!(best.node, "pve3");
    let d = evaluate(EvaluationInput {
        snapshot: &s,
        config: &c,
        now: monday_noon(),
        dry_run: true,
    });
    assert_eq!(d.best_node.as_deref(), Some("pve3"));
    assert_eq!(
        rejections(&best.candidates, "pve1"),
        &[Rejection::Maintenance]
    );
    assert!(matches!(
        rejections(&best.candidates, "pve2")[0],
        Rejection::NotMostFree { .. }
    ));
    c.proxmox_cluster.maintenance_nodes = vec!["pve1".into(), "pve2".into(), "pve3".into()];
    let none = ask(&s, &c, None).expect_err("every node in maintenance");
    assert!(none
        .candidates
        .iter()
        .all(|c| c.rejections == vec![Rejection::Maintenance]));
}

#[test]
fn a_plain_guest_goes_to_the_most_free_node_it_fits() {
    let s = three();
    assert_eq!(
        ask(&s, &config(), Some(&small())).expect("fits").node,
        "pve1"
    );
    let big = NewGuest {
        memory: 65 * GIB,
        ..small()
    };
    // Only pve1 has 70 GiB free; pve3 has 60, pve2 50.
    let best = ask(&s, &config(), Some(&big)).expect("fits pve1");
    assert_eq!(best.node, "pve1");
    let huge = NewGuest {
        memory: 80 * GIB,
        ..small()
    };
    let no = ask(&s, &config(), Some(&huge)).expect_err("nothing fits");
    assert!(no
        .candidates
        .iter()
        .all(|c| matches!(c.rejections[..], [Rejection::NotEnoughMemory { .. }])));
    let cores = NewGuest {
        cores: 16,
        ..small()
    };
    let no = ask(&s, &config(), Some(&cores)).expect_err("8 cores per node");
    assert!(matches!(
        no.candidates[0].rejections[0],
        Rejection::TooManyCores { cores: 16, .. }
    ));
}

#[test]
fn the_reservation_is_applied_to_a_new_guest() {
    let s = three();
    let mut c = config();
    c.balancing.node_resource_reserve = Some(BTreeMap::from([(
        "pve1".to_owned(),
        BTreeMap::from([(Resource::Memory, 20)]),
    )]));
    let g = NewGuest {
        memory: 55 * GIB,
        ..small()
    };
    // pve1: 70 GiB free but 20 reserved → 50 free; pve3: 60 free.
    let best = ask(&s, &c, Some(&g)).expect("pve3 fits");
    assert_eq!(best.node, "pve3");
    assert!(matches!(
        rejections(&best.candidates, "pve1")[0],
        Rejection::Reserve {
            reserved_gib: 20,
            ..
        }
    ));
}

#[test]
fn pins_anti_affinity_and_affinity_limit_the_nodes() {
    let s = three();
    let pinned = NewGuest {
        tags: vec!["plb_pin_pve2".into()],
        ..small()
    };
    let best = ask(&s, &config(), Some(&pinned)).expect("pinned");
    assert_eq!(best.node, "pve2");
    assert!(matches!(
        rejections(&best.candidates, "pve1")[0],
        Rejection::PinnedElsewhere { .. }
    ));

    let anti = NewGuest {
        tags: vec!["plb_anti_affinity_db".into()],
        ..small()
    };
    let best = ask(&s, &config(), Some(&anti)).expect("anti");
    assert_eq!(best.node, "pve3");
    assert_eq!(
        rejections(&best.candidates, "pve1"),
        &[Rejection::AntiAffinityUsed]
    );

    let together = NewGuest {
        tags: vec!["plb_affinity_web".into()],
        ..small()
    };
    let best = ask(&s, &config(), Some(&together)).expect("affinity");
    assert_eq!(best.node, "pve3");
}

#[test]
fn pool_rules_apply_and_a_pin_in_another_case_never_matches() {
    let s = three();
    let mut c = config();
    c.balancing.pools = Some(BTreeMap::from([(
        "prod".to_owned(),
        PoolRuleConfig {
            kind: Some(AffinityType::AntiAffinity),
            pin: Some(vec!["PVE2".into()]),
            strict: true,
        },
    )]));
    let g = NewGuest {
        pool: Some("prod".into()),
        ..small()
    };
    let no = ask(&s, &c, Some(&g)).expect_err("the only pin never matches");
    assert!(no
        .quirks
        .iter()
        .any(|q| matches!(q, QuirkAt::PinNeverMatches { pin, .. } if pin == "PVE2")));
    // Not strict: the pin is no constraint; anti-affinity with db1 (pool member) keeps pve1 out.
    c.balancing
        .pools
        .as_mut()
        .expect("pools")
        .get_mut("prod")
        .expect("prod")
        .strict = false;
    let best = ask(&s, &c, Some(&g)).expect("fits");
    assert_eq!(best.node, "pve3");
}

#[test]
fn ignored_and_offline_nodes_are_listed_with_their_reason() {
    let mut nodes = vec![node("pve1", 30), node("pve2", 50), node("pve3", 40)];
    nodes[2].status = crate::proxlb::cluster::NodeStatus::Offline;
    let s = cluster(nodes);
    let mut c = config();
    c.proxmox_cluster.ignore_nodes = vec!["pve1".into()];
    let best = ask(&s, &c, Some(&small())).expect("pve2");
    assert_eq!(best.node, "pve2");
    assert_eq!(
        rejections(&best.candidates, "pve1"),
        &[Rejection::IgnoredNode]
    );
    assert_eq!(rejections(&best.candidates, "pve3"), &[Rejection::Offline]);
}
