//! Best node: without a request, the node ProxLB `-d -b` prints (`get_most_free_node`,
//! `proxlb/models/calculations.py:269-350`: lowest value of the method and mode among nodes not
//! in maintenance, ties to the first in `/nodes` order). With a [`NewGuest`], the best node for a
//! guest of that size under the same rules ProxLB would later apply to it: maintenance, ignored
//! nodes, the memory reservation, pins (tags and pools), anti-affinity and affinity groups.
//!
//! Sizes of a new guest are tested against what the snapshot knows: cores against the node's
//! logical CPUs (Proxmox refuses more vCPUs than the host has), memory against free memory after
//! `node_resource_reserve`, and disk only when balancing by disk, against the node's root
//! filesystem (the only disk figure ProxLB reads; guest disks usually live on other storage).

use serde::{Deserialize, Serialize};

use super::cluster::{ClusterSnapshot, GuestKind};
use super::config::{AffinityType, Mode, ProxLbConfig, Resource};
use super::explanation::{CandidateVerdict, QuirkAt, Rejection};
use super::maintenance::{maintenance_overview, LocalTime};
use super::plan::simulate;
use super::rules::{ProxlbView, RuleSource};
use super::tags::{parse_guest_tags, resolve_node};
use super::usage::{first_min_by, node_usages, NodeUsage, Reservation};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A guest to be created.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGuest {
    /// vCPUs.
    pub cores: u32,
    /// Memory, bytes.
    pub memory: u64,
    /// Disk, bytes.
    pub disk: u64,
    /// VM or CT (ProxLB chooses nodes the same way for both).
    pub kind: Option<GuestKind>,
    /// Proxmox pool it will join (its `balancing.pools` rule applies).
    pub pool: Option<String>,
    /// Tags it will carry (`plb_pin_*`, `plb_affinity_*`, `plb_anti_affinity_*`).
    pub tags: Vec<String>,
}

/// The chosen node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestNode {
    /// Node.
    pub node: String,
    /// Its value.
    pub value: f64,
    /// Method compared.
    pub method: Resource,
    /// Mode compared.
    pub mode: Mode,
    /// Every node's verdict, the chosen one first.
    pub candidates: Vec<CandidateVerdict>,
    /// Rules of the request that do not do what they seem to.
    pub quirks: Vec<QuirkAt>,
}

/// No node qualifies; every node's reasons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("no node can take the guest")]
pub struct NoFit {
    /// Every node with its rejections.
    pub candidates: Vec<CandidateVerdict>,
    /// Rules of the request that do not do what they seem to.
    pub quirks: Vec<QuirkAt>,
}

/// The best node now, or for a new guest.
pub fn best_node(
    snapshot: &ClusterSnapshot,
    config: &ProxLbConfig,
    now: LocalTime,
    request: Option<&NewGuest>,
) -> Result<BestNode, NoFit> {
    let maintenance = maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, now);
    let view = ProxlbView::build(snapshot, config, &maintenance);
    let balancing = &config.balancing;
    let (method, mode) = (balancing.method, balancing.mode);
    let excluded = excluded_nodes(snapshot, config);
    let Some(request) = request else {
        // Exactly what the calculation pass starts from, so `-b` and this answer agree.
        let outcome = simulate(&view, balancing);
        let nodes = outcome.nodes_before;
        let rules = vec![Vec::new(); nodes.len()];
        return finish(
            &nodes,
            rules,
            outcome.best_node,
            method,
            mode,
            excluded,
            Vec::new(),
        );
    };
    let nodes = node_usages(&view, balancing);
    let names: Vec<&str> = view.nodes.iter().map(|n| n.node.name.as_str()).collect();
    let rules = RequestRules::read(request, &view, config, &names);
    let mut rejections: Vec<Vec<Rejection>> = Vec::with_capacity(nodes.len());
    for n in &nodes {
        let mut r = Vec::new();
        if n.maintenance {
            r.push(Rejection::Maintenance);
        }
        if let Some(pins) = rules.strict_pins.as_ref() {
            if !pins.contains(&n.node) {
                r.push(Rejection::PinnedElsewhere { pins: pins.clone() });
            }
        }
        if rules.anti_used.contains(&n.node) {
            r.push(Rejection::AntiAffinityUsed);
        }
        if let Some((group, group_nodes)) = &rules.affinity {
            if !group_nodes.contains(&n.node) {
                r.push(Rejection::AffinityGroupElsewhere {
                    group: group.clone(),
                    nodes: group_nodes.clone(),
                });
            }
        }
        r.extend(size_rejections(n, request, method));
        rejections.push(r);
    }
    let fitting: Vec<usize> = (0..nodes.len())
        .filter(|&i| rejections[i].is_empty())
        .collect();
    let chosen = first_min_by(fitting.iter().map(|&i| nodes[i].value(method, mode)))
        .map(|k| nodes[fitting[k]].node.clone());
    finish(
        &nodes,
        rejections,
        chosen,
        method,
        mode,
        excluded,
        rules.quirks,
    )
}

fn excluded_nodes(snapshot: &ClusterSnapshot, config: &ProxLbConfig) -> Vec<CandidateVerdict> {
    snapshot
        .nodes
        .iter()
        .filter_map(|n| {
            let rejection = if config.proxmox_cluster.ignore_nodes.contains(&n.name) {
                Rejection::IgnoredNode
            } else if n.status != super::cluster::NodeStatus::Online {
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
        .collect()
}

/// Cores, memory (after the reservation) and, when balancing by disk, disk.
fn size_rejections(n: &NodeUsage, request: &NewGuest, method: Resource) -> Vec<Rejection> {
    let mut out = Vec::new();
    if f64::from(request.cores) > n.cpu.total {
        out.push(Rejection::TooManyCores {
            cores: request.cores,
            node_cores: n.cpu.total,
        });
    }
    let needed = request.memory as f64;
    // `memory.total` is after the reservation; the initial `free` is not (ProxLB's quirk).
    let free = (n.memory.total - n.memory.used).max(0.0);
    if needed > free {
        let reserved_gib = match n.reservation {
            Reservation::Node { gib } | Reservation::Defaults { gib } => gib,
            _ => 0,
        };
        if reserved_gib > 0 && needed <= free + reserved_gib as f64 * GIB {
            out.push(Rejection::Reserve {
                needed,
                free,
                reserved_gib,
            });
        } else {
            out.push(Rejection::NotEnoughMemory { needed, free });
        }
    }
    if method == Resource::Disk && request.disk as f64 > n.disk.free {
        out.push(Rejection::NotEnoughDisk {
            needed: request.disk as f64,
            free: n.disk.free,
        });
    }
    out
}

fn finish(
    nodes: &[NodeUsage],
    rejections: Vec<Vec<Rejection>>,
    chosen: Option<String>,
    method: Resource,
    mode: Mode,
    excluded: Vec<CandidateVerdict>,
    quirks: Vec<QuirkAt>,
) -> Result<BestNode, NoFit> {
    let chosen_value = chosen
        .as_ref()
        .and_then(|c| nodes.iter().find(|n| &n.node == c))
        .map(|n| n.value(method, mode));
    let mut candidates: Vec<CandidateVerdict> = nodes
        .iter()
        .zip(rejections)
        .map(|(n, mut r)| {
            let is_chosen = chosen.as_deref() == Some(n.node.as_str());
            let value = n.value(method, mode);
            if !is_chosen && r.is_empty() {
                if n.maintenance {
                    r.push(Rejection::Maintenance);
                } else if let Some(chosen_value) = chosen_value {
                    r.push(Rejection::NotMostFree {
                        value,
                        chosen_value,
                    });
                }
            }
            CandidateVerdict {
                node: n.node.clone(),
                chosen: is_chosen,
                value: Some(value),
                rejections: r,
            }
        })
        .collect();
    candidates.sort_by_key(|c| !c.chosen);
    candidates.extend(excluded);
    match (chosen, chosen_value) {
        (Some(node), Some(value)) => Ok(BestNode {
            node,
            value,
            method,
            mode,
            candidates,
            quirks,
        }),
        _ => Err(NoFit { candidates, quirks }),
    }
}

/// The rules a new guest's tags and pool give it.
struct RequestRules {
    /// Nodes strict pins allow (`None`: no strict pin).
    strict_pins: Option<Vec<String>>,
    /// Nodes its anti-affinity groups' members run on.
    anti_used: Vec<String>,
    /// Its affinity group (the last one, as ProxLB uses) and the nodes of its members (`None`
    /// when it has none or the group has no running member yet).
    affinity: Option<(String, Vec<String>)>,
    /// Quirks met while reading.
    quirks: Vec<QuirkAt>,
}

impl RequestRules {
    fn read(request: &NewGuest, view: &ProxlbView, config: &ProxLbConfig, names: &[&str]) -> Self {
        let tags = parse_guest_tags(&request.tags, names);
        let pool_rule = request
            .pool
            .as_ref()
            .and_then(|p| config.balancing.pools.as_ref()?.get(p).map(|r| (p, r)));
        let mut quirks = Vec::new();
        let mut affinity_groups: Vec<String> = tags.affinity.clone();
        let mut anti_groups: Vec<String> = tags.anti_affinity.clone();
        let mut pins: Vec<String> = Vec::new();
        for pin in &tags.pins {
            match &pin.node {
                Some(node) => pins.push(node.clone()),
                None => quirks.push(QuirkAt::PinToUnknownNode {
                    node: pin.requested.clone(),
                    source: RuleSource::Tag {
                        tag: pin.tag.clone(),
                    },
                }),
            }
        }
        let mut strict = true;
        let mut never_matching = false;
        if let Some((pool, rule)) = pool_rule {
            match rule.kind {
                Some(AffinityType::Affinity) => affinity_groups.push(pool.clone()),
                Some(AffinityType::AntiAffinity) => anti_groups.push(pool.clone()),
                None => {}
            }
            for node in rule.pin.iter().flatten() {
                let source = RuleSource::Pool { pool: pool.clone() };
                match resolve_node(node, names) {
                    // Stored as written: a pin spelled in another case never matches.
                    Some(canonical) if canonical == node => pins.push(node.clone()),
                    Some(_) => {
                        never_matching = true;
                        quirks.push(QuirkAt::PinNeverMatches {
                            pin: node.clone(),
                            source,
                        });
                    }
                    None => quirks.push(QuirkAt::PinToUnknownNode {
                        node: node.clone(),
                        source,
                    }),
                }
            }
            strict = rule.strict;
        }
        if affinity_groups.len() > 1 {
            let (last, rest) = affinity_groups.split_at(affinity_groups.len() - 1);
            quirks.push(QuirkAt::LastAffinityGroupWins {
                used: last[0].clone(),
                shadowed: rest.to_vec(),
            });
        }
        let mut anti_used: Vec<String> = Vec::new();
        let mut affinity_nodes: Vec<String> = Vec::new();
        let affinity_group = affinity_groups.last().cloned();
        for g in &view.guests {
            if g.anti_affinity_groups
                .iter()
                .any(|(name, _)| anti_groups.contains(name))
                && !anti_used.contains(&g.guest.node)
            {
                anti_used.push(g.guest.node.clone());
            }
            if affinity_group.is_some()
                && g.effective_affinity_group() == affinity_group.as_deref()
                && !affinity_nodes.contains(&g.guest.node)
            {
                affinity_nodes.push(g.guest.node.clone());
            }
        }
        // A pool pin that never matches is still stored by ProxLB: with only such pins, a strict
        // guest has no node at all. Pins to unknown nodes are not applied.
        let pinned = !pins.is_empty() || never_matching;
        Self {
            strict_pins: (pinned && strict).then_some(pins),
            anti_used,
            affinity: affinity_group
                .filter(|_| !affinity_nodes.is_empty())
                .map(|g| (g, affinity_nodes)),
            quirks,
        }
    }
}

#[cfg(test)]
mod tests;
