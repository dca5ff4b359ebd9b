//! The cluster as ProxLB sees it and the rules it derives: affinity and anti-affinity groups,
//! pins, ignored guests, pool rules, PVE HA rules, and conflicts between them.
//!
//! Mirrors `nodes.py`, `guests.py`, `tags.py`, `pools.py`, `ha_rules.py` and `groups.py` of 2.3.0:
//! only online, non-ignored nodes are kept; only running guests on kept nodes; guests are keyed by
//! name (a duplicate replaces the earlier guest but keeps its position); HA rules are read only
//! when every kept node runs PVE ≥ 9.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::cluster::{
    ClusterSnapshot, Guest, GuestKind, GuestStatus, HaRule, HaRuleKind, Node, NodeStatus,
    PveVersion,
};
use super::config::{AffinityType, ProxLbConfig};
use super::maintenance::MaintenanceOverview;
use super::tags::{parse_guest_tags, resolve_node, TagWarning};

/// Where a group or pin comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum RuleSource {
    /// A guest tag.
    Tag {
        /// The tag.
        tag: String,
    },
    /// A rule in `balancing.pools`.
    Pool {
        /// Pool id.
        pool: String,
    },
    /// A PVE HA rule.
    HaRule {
        /// Rule id.
        rule: String,
    },
}

/// A node as ProxLB keeps it (online and not ignored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewNode {
    /// The node.
    pub node: Node,
    /// In maintenance by any source.
    pub maintenance: bool,
}

/// One pin as ProxLB stores it in `node_relationships`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinEntry {
    /// The node name ProxLB stores: canonical for tags, verbatim for pools and HA rules.
    pub node: String,
    /// Where the pin comes from.
    pub source: RuleSource,
}

/// Why a guest is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IgnoreReason {
    /// A `plb_ignore…` tag.
    Tag {
        /// The tag.
        tag: String,
    },
    /// The guest name is in `balancing.ignore_guests`.
    IgnoreGuestsList,
}

/// A guest as ProxLB keeps it, with every rule that applies to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewGuest {
    /// The guest.
    pub guest: Guest,
    /// Pools (from `/pools`) listing the guest's name.
    pub pools: Vec<String>,
    /// Ids of applied HA rules listing the guest's vmid.
    pub ha_rules: Vec<String>,
    /// Affinity groups in ProxLB's order (tags, pools, HA rules).
    pub affinity_groups: Vec<(String, RuleSource)>,
    /// Anti-affinity groups in ProxLB's order.
    pub anti_affinity_groups: Vec<(String, RuleSource)>,
    /// Reasons for ignoring the guest (empty: not ignored).
    pub ignore_reasons: Vec<IgnoreReason>,
    /// Pins as ProxLB stores them.
    pub pins: Vec<PinEntry>,
    /// Pin strictness: `strict` of the last configured pool the guest is in, default true.
    pub pin_strict: bool,
    /// Tag warnings ProxLB logs for this guest.
    pub warnings: Vec<TagWarning>,
    /// Pins that were requested but not applied (unknown node), with their source.
    pub rejected_pins: Vec<(String, RuleSource)>,
}

impl ViewGuest {
    /// Guest name.
    pub fn name(&self) -> &str {
        &self.guest.name
    }

    /// Whether ProxLB ignores the guest.
    pub fn ignored(&self) -> bool {
        !self.ignore_reasons.is_empty()
    }

    /// The one affinity group ProxLB uses: the last one, or `None` for a singleton group.
    pub fn effective_affinity_group(&self) -> Option<&str> {
        self.affinity_groups.last().map(|(name, _)| name.as_str())
    }
}

/// Why an HA rule is not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HaRuleSkip {
    /// `disable` is set.
    Disabled,
    /// A node runs PVE < 9, so ProxLB does not read HA rules at all.
    PrePve9,
}

/// The cluster as ProxLB collects it in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxlbView {
    /// Kept nodes in `/nodes` order.
    pub nodes: Vec<ViewNode>,
    /// Kept guests in ProxLB's order (node by node, VMs before CTs).
    pub guests: Vec<ViewGuest>,
    /// Some kept node runs PVE < 9 (or reports an unparsable version).
    pub cluster_non_pve9: bool,
    /// Guest names that appeared more than once, with all their vmids (the last one wins).
    pub duplicate_names: Vec<(String, Vec<u32>)>,
}

impl ProxlbView {
    /// Builds ProxLB's view of a snapshot under a configuration and maintenance state.
    pub fn build(
        snapshot: &ClusterSnapshot,
        config: &ProxLbConfig,
        maintenance: &MaintenanceOverview,
    ) -> Self {
        let nodes: Vec<ViewNode> = snapshot
            .nodes
            .iter()
            .filter(|n| {
                n.status == NodeStatus::Online
                    && !config.proxmox_cluster.ignore_nodes.contains(&n.name)
            })
            .map(|n| ViewNode {
                node: n.clone(),
                maintenance: maintenance.in_maintenance(&n.name),
            })
            .collect();
        let cluster_non_pve9 = nodes
            .iter()
            .any(|n| !PveVersion::parse(&n.node.pve_version).is_some_and(|v| v.is_pve9()));
        let node_names: Vec<&str> = nodes.iter().map(|n| n.node.name.as_str()).collect();

        // Running guests per (node, kind), in snapshot order: one pass instead of one scan of
        // every guest per node and kind (10,000 guests × 64 nodes × 2 kinds).
        let mut running: HashMap<(&str, GuestKind), Vec<&Guest>> = HashMap::new();
        for guest in snapshot
            .guests
            .iter()
            .filter(|g| g.status == GuestStatus::Running)
        {
            running
                .entry((guest.node.as_str(), guest.kind))
                .or_default()
                .push(guest);
        }
        // Guest name → its pools in `/pools` order: asking every pool's member list per guest was
        // quadratic (8 pools of ~1,000 names × 10,000 guests).
        let mut pools_of: HashMap<&str, Vec<String>> = HashMap::new();
        for pool in &snapshot.pools {
            for member in &pool.members {
                let pools = pools_of.entry(member.as_str()).or_default();
                if pools.last() != Some(&pool.id) {
                    pools.push(pool.id.clone());
                }
            }
        }
        // Guest vmid → its enabled HA rules in `/cluster/ha/rules` order (one scan of every
        // rule's members per guest was quadratic too).
        let mut ha_rules_of: HashMap<u32, Vec<&HaRule>> = HashMap::new();
        for rule in snapshot.ha_rules.iter().filter(|r| !r.disabled) {
            for &vmid in &rule.members {
                let rules = ha_rules_of.entry(vmid).or_default();
                if !rules.last().is_some_and(|r| std::ptr::eq(*r, rule)) {
                    rules.push(rule);
                }
            }
        }
        let mut guests: Vec<ViewGuest> = Vec::new();
        // Guest name → its slot in `guests` and every vmid seen under that name, in order. A
        // linear search here made the build quadratic (about 0.5 s at 10,000 guests).
        let mut slots: HashMap<&str, usize> = HashMap::new();
        let mut seen: Vec<(String, Vec<u32>)> = Vec::new();
        for node in &nodes {
            for kind in [GuestKind::Vm, GuestKind::Ct] {
                let on_node = running
                    .get(&(node.node.name.as_str(), kind))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for guest in on_node {
                    let pools = pools_of
                        .get(guest.name.as_str())
                        .cloned()
                        .unwrap_or_default();
                    let view = build_guest(
                        guest,
                        pools,
                        &ha_rules_of,
                        config,
                        &node_names,
                        cluster_non_pve9,
                    );
                    // Python dict assignment: a repeated key keeps its slot but takes the new value.
                    match slots.get(guest.name.as_str()) {
                        Some(&slot) => {
                            guests[slot] = view;
                            seen[slot].1.push(guest.vmid);
                        }
                        None => {
                            slots.insert(guest.name.as_str(), guests.len());
                            guests.push(view);
                            seen.push((guest.name.clone(), vec![guest.vmid]));
                        }
                    }
                }
            }
        }
        let duplicate_names = seen.into_iter().filter(|(_, ids)| ids.len() > 1).collect();
        Self {
            nodes,
            guests,
            cluster_non_pve9,
            duplicate_names,
        }
    }

    /// A kept node by name.
    pub fn node(&self, name: &str) -> Option<&ViewNode> {
        self.nodes.iter().find(|n| n.node.name == name)
    }

    /// Whether a kept node is in maintenance (unknown nodes are not).
    pub fn node_in_maintenance(&self, name: &str) -> bool {
        // Names are compared only for nodes in maintenance (usually none): this is asked for
        // every guest, and node names are unique in a cluster.
        self.nodes
            .iter()
            .any(|n| n.maintenance && n.node.name == name)
    }

    /// A kept guest by name.
    pub fn guest(&self, name: &str) -> Option<&ViewGuest> {
        self.guests.iter().find(|g| g.guest.name == name)
    }
}

fn build_guest(
    guest: &Guest,
    pools: Vec<String>,
    ha_rules_of: &HashMap<u32, Vec<&HaRule>>,
    config: &ProxLbConfig,
    node_names: &[&str],
    cluster_non_pve9: bool,
) -> ViewGuest {
    let tags = parse_guest_tags(&guest.tags, node_names);
    let pool_rules = config.balancing.pools.as_ref();
    let ha_rules: &[&HaRule] = if cluster_non_pve9 {
        &[]
    } else {
        ha_rules_of.get(&guest.vmid).map_or(&[], Vec::as_slice)
    };

    let mut affinity_groups: Vec<(String, RuleSource)> = Vec::new();
    let mut anti_affinity_groups: Vec<(String, RuleSource)> = Vec::new();
    for group in &tags.affinity {
        affinity_groups.push((group.clone(), RuleSource::Tag { tag: group.clone() }));
    }
    for group in &tags.anti_affinity {
        anti_affinity_groups.push((group.clone(), RuleSource::Tag { tag: group.clone() }));
    }
    for pool in &pools {
        let source = RuleSource::Pool { pool: pool.clone() };
        match pool_rules
            .and_then(|rules| rules.get(pool))
            .and_then(|r| r.kind)
        {
            Some(AffinityType::Affinity) => affinity_groups.push((pool.clone(), source)),
            Some(AffinityType::AntiAffinity) => anti_affinity_groups.push((pool.clone(), source)),
            None => {}
        }
    }
    for rule in ha_rules {
        let source = RuleSource::HaRule {
            rule: rule.id.clone(),
        };
        // ProxLB: `affinity == "negative"` is anti-affinity; anything else (node-affinity rules have
        // no `affinity` key) is affinity.
        if rule.kind == HaRuleKind::ResourceAntiAffinity {
            anti_affinity_groups.push((rule.id.clone(), source));
        } else {
            affinity_groups.push((rule.id.clone(), source));
        }
    }

    let mut ignore_reasons: Vec<IgnoreReason> = guest
        .tags
        .iter()
        .filter(|t| t.starts_with(super::tags::IGNORE_PREFIX))
        .map(|t| IgnoreReason::Tag { tag: t.clone() })
        .collect();
    if config.balancing.ignore_guests.contains(&guest.name) {
        ignore_reasons.push(IgnoreReason::IgnoreGuestsList);
    }

    let mut pins = Vec::new();
    let mut rejected_pins = Vec::new();
    let mut warnings = tags.warnings.clone();
    for pin in &tags.pins {
        let source = RuleSource::Tag {
            tag: pin.tag.clone(),
        };
        match &pin.node {
            Some(node) => pins.push(PinEntry {
                node: node.clone(),
                source,
            }),
            None => rejected_pins.push((pin.requested.clone(), source)),
        }
    }
    for pool in &pools {
        let Some(rule) = pool_rules.and_then(|rules| rules.get(pool)) else {
            continue;
        };
        for node in rule.pin.iter().flatten() {
            let source = RuleSource::Pool { pool: pool.clone() };
            // Validated case-insensitively, but stored as written (unlike tag pins).
            if resolve_node(node, node_names).is_some() {
                pins.push(PinEntry {
                    node: node.clone(),
                    source,
                });
            } else {
                warnings.push(TagWarning {
                    tag: node.clone(),
                    message: format!(
                        "Pool pinning tag {node} is invalid! Defined node does not exist in the cluster. Not applying pinning."
                    ),
                });
                rejected_pins.push((node.clone(), source));
            }
        }
    }
    for rule in ha_rules {
        if rule.kind != HaRuleKind::ResourceAntiAffinity {
            for node in &rule.nodes {
                pins.push(PinEntry {
                    node: node.clone(),
                    source: RuleSource::HaRule {
                        rule: rule.id.clone(),
                    },
                });
            }
        }
    }
    let pin_strict = pools
        .iter()
        .filter_map(|pool| pool_rules.and_then(|rules| rules.get(pool)))
        .next_back()
        .is_none_or(|rule| rule.strict);

    ViewGuest {
        guest: guest.clone(),
        pools,
        ha_rules: ha_rules.iter().map(|r| r.id.clone()).collect(),
        affinity_groups,
        anti_affinity_groups,
        ignore_reasons,
        pins,
        pin_strict,
        warnings,
        rejected_pins,
    }
}

/// Affinity or anti-affinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Keep together.
    Affinity,
    /// Keep apart.
    AntiAffinity,
}

/// A named group with its members and sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    /// Group name (tag, pool id or HA rule id).
    pub name: String,
    /// Affinity or anti-affinity.
    pub kind: GroupKind,
    /// Every distinct source of the group.
    pub sources: Vec<RuleSource>,
    /// Guests listing the group.
    pub members: Vec<String>,
    /// For affinity: the members for which this is the one group ProxLB uses (their last group).
    pub effective_members: Vec<String>,
    /// Current nodes of the members, de-duplicated, in member order.
    pub nodes: Vec<String>,
}

/// A pinned guest and its pins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinView {
    /// Guest name.
    pub guest: String,
    /// Pins as ProxLB stores them.
    pub pins: Vec<PinEntry>,
    /// Nodes the pins can actually select: exact name match, not in maintenance.
    pub usable_nodes: Vec<String>,
    /// Strict pinning.
    pub strict: bool,
}

/// An ignored guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoredView {
    /// Guest name.
    pub guest: String,
    /// Why.
    pub reasons: Vec<IgnoreReason>,
}

/// A `balancing.pools` rule with the guests it reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRuleView {
    /// Pool id.
    pub pool: String,
    /// Affinity kind.
    pub kind: Option<AffinityType>,
    /// Configured pin nodes.
    pub pin: Vec<String>,
    /// Strict pinning.
    pub strict: bool,
    /// The pool exists in the cluster.
    pub exists: bool,
    /// Collected guests in the pool.
    pub members: Vec<String>,
}

/// A PVE HA rule and how ProxLB uses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaRuleView {
    /// Rule id.
    pub id: String,
    /// PVE kind.
    pub kind: HaRuleKind,
    /// What ProxLB makes of it.
    pub proxlb_type: AffinityType,
    /// Member vmids.
    pub members: Vec<u32>,
    /// Names of collected guests among the members.
    pub member_guests: Vec<String>,
    /// Node entries, verbatim (become pins for affinity rules).
    pub nodes: Vec<String>,
    /// Why ProxLB skips the rule, if it does.
    pub skipped: Option<HaRuleSkip>,
}

/// A rule that cannot be satisfied or does not do what it seems to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "conflict", rename_all = "snake_case")]
pub enum Conflict {
    /// A tag or pool pin names a node ProxLB does not know (offline, ignored or absent): not applied.
    PinToUnknownNode {
        /// Guest.
        guest: String,
        /// Requested node.
        node: String,
        /// Source.
        source: RuleSource,
    },
    /// A stored pin that equals no node name exactly, so it can never be selected (pool pin
    /// spelled in another case, HA node entry with a priority such as `pve1:2`, or an unknown node).
    PinNeverMatches {
        /// Guest.
        guest: String,
        /// Stored pin.
        pin: String,
        /// Source.
        source: RuleSource,
    },
    /// A pin to a node in maintenance.
    PinnedToMaintenanceNode {
        /// Guest.
        guest: String,
        /// Node.
        node: String,
    },
    /// The guest has strict pins but none of them is usable: the relocation pass finds no target.
    NoUsablePinTarget {
        /// Guest.
        guest: String,
    },
    /// Pinned and ignored: the pin never takes effect.
    PinnedAndIgnored {
        /// Guest.
        guest: String,
    },
    /// More anti-affinity members than usable (non-maintenance) nodes.
    AntiAffinityGroupTooLarge {
        /// Group.
        group: String,
        /// Member count.
        members: usize,
        /// Usable nodes.
        usable_nodes: usize,
    },
    /// The guest has several affinity groups; ProxLB uses only the last one.
    AffinityGroupsShadowed {
        /// Guest.
        guest: String,
        /// The group used.
        effective: String,
        /// Groups without effect for this guest.
        ignored: Vec<String>,
    },
    /// Guests that must be together (same affinity group) and apart (same anti-affinity group).
    AffinityAndAntiAffinityOverlap {
        /// Affinity group.
        affinity_group: String,
        /// Anti-affinity group.
        anti_affinity_group: String,
        /// Guests in both.
        guests: Vec<String>,
    },
    /// Several guests share a name; ProxLB keeps only the last one.
    DuplicateGuestName {
        /// Name.
        name: String,
        /// All vmids with that name.
        vmids: Vec<u32>,
    },
    /// An ignored guest on a maintenance node is never evacuated.
    IgnoredGuestOnMaintenanceNode {
        /// Guest.
        guest: String,
        /// Node.
        node: String,
    },
    /// `balancing.pools` names a pool the cluster does not have.
    PoolRuleForUnknownPool {
        /// Pool id.
        pool: String,
    },
    /// HA rules exist but are skipped because a node runs PVE < 9.
    HaRulesSkippedPrePve9 {
        /// Rule ids.
        rules: Vec<String>,
    },
}

/// Everything the rules page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesView {
    /// Affinity groups (named ones only; singleton groups are implicit).
    pub affinity_groups: Vec<GroupView>,
    /// Anti-affinity groups.
    pub anti_affinity_groups: Vec<GroupView>,
    /// Guests with at least one pin.
    pub pinned: Vec<PinView>,
    /// Ignored guests.
    pub ignored: Vec<IgnoredView>,
    /// `balancing.pools` rules.
    pub pool_rules: Vec<PoolRuleView>,
    /// PVE HA rules.
    pub ha_rules: Vec<HaRuleView>,
    /// Conflicts.
    pub conflicts: Vec<Conflict>,
    /// Warnings ProxLB logs while reading tags and pool pins.
    pub warnings: Vec<TagWarning>,
}

/// Groups in first-seen order with a name index: a scan of every group per guest and of every
/// member per addition made the rules quadratic at 10,000 guests.
#[derive(Default)]
struct GroupCollector {
    groups: Vec<GroupView>,
    index: HashMap<String, usize>,
}

impl GroupCollector {
    /// Adds `guest` to group `name`. Guests come one at a time with unique names (the view keeps
    /// one guest per name), so a guest already in the group is its last member.
    fn add(&mut self, kind: GroupKind, name: &str, source: &RuleSource, guest: &ViewGuest) {
        let index = match self.index.get(name) {
            Some(&index) => index,
            None => {
                self.groups.push(GroupView {
                    name: name.to_owned(),
                    kind,
                    sources: Vec::new(),
                    members: Vec::new(),
                    effective_members: Vec::new(),
                    nodes: Vec::new(),
                });
                self.index.insert(name.to_owned(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[index];
        if !group.sources.contains(source) {
            group.sources.push(source.clone());
        }
        if group.members.last().map(String::as_str) != Some(guest.name()) {
            group.members.push(guest.name().to_owned());
            if !group.nodes.contains(&guest.guest.node) {
                group.nodes.push(guest.guest.node.clone());
            }
        }
        if kind == GroupKind::Affinity
            && guest.effective_affinity_group() == Some(name)
            && group.effective_members.last().map(String::as_str) != Some(guest.name())
        {
            group.effective_members.push(guest.name().to_owned());
        }
    }
}

impl RulesView {
    /// Derives the rules view and its conflicts.
    pub fn build(view: &ProxlbView, snapshot: &ClusterSnapshot, config: &ProxLbConfig) -> Self {
        let mut affinity_groups = GroupCollector::default();
        let mut anti_affinity_groups = GroupCollector::default();
        let mut pinned = Vec::new();
        let mut ignored = Vec::new();
        let mut conflicts = Vec::new();
        let mut warnings = Vec::new();
        let usable_nodes: Vec<&str> = view
            .nodes
            .iter()
            .filter(|n| !n.maintenance)
            .map(|n| n.node.name.as_str())
            .collect();

        for (name, vmids) in &view.duplicate_names {
            conflicts.push(Conflict::DuplicateGuestName {
                name: name.clone(),
                vmids: vmids.clone(),
            });
        }

        for guest in &view.guests {
            let name = guest.name().to_owned();
            warnings.extend(guest.warnings.iter().cloned());
            for (group, source) in &guest.affinity_groups {
                affinity_groups.add(GroupKind::Affinity, group, source, guest);
            }
            for (group, source) in &guest.anti_affinity_groups {
                anti_affinity_groups.add(GroupKind::AntiAffinity, group, source, guest);
            }
            if guest.affinity_groups.len() > 1 {
                let (effective, _) = &guest.affinity_groups[guest.affinity_groups.len() - 1];
                conflicts.push(Conflict::AffinityGroupsShadowed {
                    guest: name.clone(),
                    effective: effective.clone(),
                    ignored: guest.affinity_groups[..guest.affinity_groups.len() - 1]
                        .iter()
                        .map(|(g, _)| g.clone())
                        .collect(),
                });
            }
            for (node, source) in &guest.rejected_pins {
                conflicts.push(Conflict::PinToUnknownNode {
                    guest: name.clone(),
                    node: node.clone(),
                    source: source.clone(),
                });
            }
            if guest.ignored() {
                ignored.push(IgnoredView {
                    guest: name.clone(),
                    reasons: guest.ignore_reasons.clone(),
                });
                if view.node_in_maintenance(&guest.guest.node) {
                    conflicts.push(Conflict::IgnoredGuestOnMaintenanceNode {
                        guest: name.clone(),
                        node: guest.guest.node.clone(),
                    });
                }
            }
            if !guest.pins.is_empty() {
                let mut usable = Vec::new();
                for pin in &guest.pins {
                    match view.node(&pin.node) {
                        None => conflicts.push(Conflict::PinNeverMatches {
                            guest: name.clone(),
                            pin: pin.node.clone(),
                            source: pin.source.clone(),
                        }),
                        Some(node) if node.maintenance => {
                            conflicts.push(Conflict::PinnedToMaintenanceNode {
                                guest: name.clone(),
                                node: pin.node.clone(),
                            })
                        }
                        Some(_) => {
                            if !usable.contains(&pin.node) {
                                usable.push(pin.node.clone());
                            }
                        }
                    }
                }
                if usable.is_empty() && guest.pin_strict {
                    conflicts.push(Conflict::NoUsablePinTarget {
                        guest: name.clone(),
                    });
                }
                if guest.ignored() {
                    conflicts.push(Conflict::PinnedAndIgnored {
                        guest: name.clone(),
                    });
                }
                pinned.push(PinView {
                    guest: name,
                    pins: guest.pins.clone(),
                    usable_nodes: usable,
                    strict: guest.pin_strict,
                });
            }
        }

        let affinity_groups = affinity_groups.groups;
        let anti_affinity_groups = anti_affinity_groups.groups;
        for group in &anti_affinity_groups {
            if group.members.len() > usable_nodes.len() {
                conflicts.push(Conflict::AntiAffinityGroupTooLarge {
                    group: group.name.clone(),
                    members: group.members.len(),
                    usable_nodes: usable_nodes.len(),
                });
            }
        }
        conflicts.extend(affinity_overlaps(&affinity_groups, &anti_affinity_groups));

        let pool_rules: Vec<PoolRuleView> = config
            .balancing
            .pools
            .iter()
            .flatten()
            .map(|(pool, rule)| {
                let exists = snapshot.pools.iter().any(|p| &p.id == pool);
                if !exists {
                    conflicts.push(Conflict::PoolRuleForUnknownPool { pool: pool.clone() });
                }
                PoolRuleView {
                    pool: pool.clone(),
                    kind: rule.kind,
                    pin: rule.pin.clone().unwrap_or_default(),
                    strict: rule.strict,
                    exists,
                    members: view
                        .guests
                        .iter()
                        .filter(|g| g.pools.contains(pool))
                        .map(|g| g.name().to_owned())
                        .collect(),
                }
            })
            .collect();

        let ha_rules: Vec<HaRuleView> = snapshot
            .ha_rules
            .iter()
            .map(|rule| HaRuleView {
                id: rule.id.clone(),
                kind: rule.kind,
                proxlb_type: if rule.kind == HaRuleKind::ResourceAntiAffinity {
                    AffinityType::AntiAffinity
                } else {
                    AffinityType::Affinity
                },
                members: rule.members.clone(),
                member_guests: view
                    .guests
                    .iter()
                    .filter(|g| rule.members.contains(&g.guest.vmid))
                    .map(|g| g.name().to_owned())
                    .collect(),
                nodes: rule.nodes.clone(),
                skipped: if view.cluster_non_pve9 {
                    Some(HaRuleSkip::PrePve9)
                } else if rule.disabled {
                    Some(HaRuleSkip::Disabled)
                } else {
                    None
                },
            })
            .collect();
        if view.cluster_non_pve9 && !snapshot.ha_rules.is_empty() {
            conflicts.push(Conflict::HaRulesSkippedPrePve9 {
                rules: snapshot.ha_rules.iter().map(|r| r.id.clone()).collect(),
            });
        }

        Self {
            affinity_groups,
            anti_affinity_groups,
            pinned,
            ignored,
            pool_rules,
            ha_rules,
            conflicts,
            warnings,
        }
    }
}

/// Affinity groups that share more than one guest with an anti-affinity group, in the order of
/// the affinity groups, then of the anti-affinity groups; the shared guests in the affinity
/// group's member order.
///
/// Linear in the members: each guest's anti-affinity groups are looked up once, instead of one
/// set lookup per member of every pair of groups (549 × 467 pairs at 64 nodes / 10,000 guests).
fn affinity_overlaps(
    affinity_groups: &[GroupView],
    anti_affinity_groups: &[GroupView],
) -> Vec<Conflict> {
    let mut anti_groups_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, anti) in anti_affinity_groups.iter().enumerate() {
        for member in &anti.members {
            let groups = anti_groups_of.entry(member.as_str()).or_default();
            if groups.last() != Some(&index) {
                groups.push(index);
            }
        }
    }
    let mut conflicts = Vec::new();
    for affinity in affinity_groups {
        let mut shared: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for member in &affinity.effective_members {
            for &index in anti_groups_of.get(member.as_str()).into_iter().flatten() {
                shared.entry(index).or_default().push(member.clone());
            }
        }
        for (index, guests) in shared {
            if guests.len() > 1 {
                conflicts.push(Conflict::AffinityAndAntiAffinityOverlap {
                    affinity_group: affinity.name.clone(),
                    anti_affinity_group: anti_affinity_groups[index].name.clone(),
                    guests,
                });
            }
        }
    }
    conflicts
}

/// A current affinity or anti-affinity violation (what `validate_affinity_map` detects).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "violation", rename_all = "snake_case")]
pub enum Violation {
    /// Members of an affinity group run on several nodes.
    AffinitySplit {
        /// Group (`None`: singleton group of one guest).
        group: Option<String>,
        /// Nodes in use.
        nodes: Vec<String>,
    },
    /// A member of a group (affinity, including the implicit one-guest group, or anti-affinity)
    /// runs on a maintenance node.
    OnMaintenanceNode {
        /// Group (`None`: singleton group).
        group: Option<String>,
        /// Kind of group.
        kind: GroupKind,
        /// Guest.
        guest: String,
        /// Node.
        node: String,
    },
    /// Members of an anti-affinity group share a node.
    AntiAffinityShared {
        /// Group.
        group: String,
        /// Shared node.
        node: String,
        /// Guests on it.
        guests: Vec<String>,
    },
}

fn affinity_group_violations(
    view: &ProxlbView,
    group: Option<&str>,
    members: &[&ViewGuest],
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut nodes: Vec<String> = Vec::new();
    for member in members {
        if view.node_in_maintenance(&member.guest.node) {
            out.push(Violation::OnMaintenanceNode {
                group: group.map(str::to_owned),
                kind: GroupKind::Affinity,
                guest: member.name().to_owned(),
                node: member.guest.node.clone(),
            });
        }
        if !nodes.contains(&member.guest.node) {
            nodes.push(member.guest.node.clone());
        }
    }
    if nodes.len() > 1 {
        out.push(Violation::AffinitySplit {
            group: group.map(str::to_owned),
            nodes,
        });
    }
    out
}

fn anti_group_violations(view: &ProxlbView, group: &str, members: &[&ViewGuest]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut by_node: Vec<(String, Vec<String>)> = Vec::new();
    for member in members {
        if view.node_in_maintenance(&member.guest.node) {
            out.push(Violation::OnMaintenanceNode {
                group: Some(group.to_owned()),
                kind: GroupKind::AntiAffinity,
                guest: member.name().to_owned(),
                node: member.guest.node.clone(),
            });
        }
        match by_node.iter_mut().find(|(n, _)| *n == member.guest.node) {
            Some((_, guests)) => guests.push(member.name().to_owned()),
            None => by_node.push((member.guest.node.clone(), vec![member.name().to_owned()])),
        }
    }
    for (node, guests) in by_node {
        if guests.len() > 1 {
            out.push(Violation::AntiAffinityShared {
                group: group.to_owned(),
                node,
                guests,
            });
        }
    }
    out
}

/// Violations of one guest's groups: its effective affinity group and all its anti-affinity groups.
pub fn guest_violations(view: &ProxlbView, guest: &ViewGuest) -> Vec<Violation> {
    let mut out = match guest.effective_affinity_group() {
        Some(group) => {
            let members: Vec<&ViewGuest> = view
                .guests
                .iter()
                .filter(|g| g.effective_affinity_group() == Some(group))
                .collect();
            affinity_group_violations(view, Some(group), &members)
        }
        None => affinity_group_violations(view, None, &[guest]),
    };
    for (group, _) in &guest.anti_affinity_groups {
        let members: Vec<&ViewGuest> = view
            .guests
            .iter()
            .filter(|g| g.anti_affinity_groups.iter().any(|(n, _)| n == group))
            .collect();
        out.extend(anti_group_violations(view, group, &members));
    }
    out
}

/// All current violations, each reported once: the union of [`guest_violations`] over every
/// guest in order, computed once per group (per guest it was quadratic at 10,000 guests).
/// Violations name their group (or, for a guest without a group, the guest), so groups never
/// share one.
pub fn current_violations(view: &ProxlbView) -> Vec<Violation> {
    let mut affinity: HashMap<&str, Vec<&ViewGuest>> = HashMap::new();
    let mut anti: HashMap<&str, Vec<&ViewGuest>> = HashMap::new();
    for guest in &view.guests {
        if let Some(group) = guest.effective_affinity_group() {
            affinity.entry(group).or_default().push(guest);
        }
        for (group, _) in &guest.anti_affinity_groups {
            let members = anti.entry(group.as_str()).or_default();
            // A guest naming the group twice is one member.
            if !members.last().is_some_and(|m| std::ptr::eq(*m, guest)) {
                members.push(guest);
            }
        }
    }
    let mut out: Vec<Violation> = Vec::new();
    let mut seen_affinity: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut seen_anti: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for guest in &view.guests {
        match guest.effective_affinity_group() {
            Some(group) if seen_affinity.insert(group) => {
                let members = affinity.get(group).map(Vec::as_slice).unwrap_or_default();
                out.extend(affinity_group_violations(view, Some(group), members));
            }
            Some(_) => {}
            None => out.extend(affinity_group_violations(view, None, &[guest])),
        }
        for (group, _) in &guest.anti_affinity_groups {
            if seen_anti.insert(group.as_str()) {
                let members = anti
                    .get(group.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                out.extend(anti_group_violations(view, group, members));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proxlb::cluster::{HaRule, Pool};
    use crate::proxlb::config::PoolRuleConfig;
    use crate::proxlb::maintenance::{maintenance_overview, LocalTime, Weekday};

    pub(crate) const GIB: u64 = 1024 * 1024 * 1024;

    pub(crate) fn node(name: &str, mem_used_gib: u64) -> Node {
        Node {
            name: name.into(),
            status: NodeStatus::Online,
            cpu_usage: 0.1,
            cpu_cores: 8,
            mem_used: mem_used_gib * GIB,
            mem_total: 100 * GIB,
            disk_used: 10 * GIB,
            disk_total: 100 * GIB,
            pve_version: "9.0.3".into(),
            ha_maintenance: false,
            psi: None,
        }
    }

    pub(crate) fn guest(vmid: u32, name: &str, node: &str, tags: &[&str]) -> Guest {
        Guest {
            vmid,
            name: name.into(),
            kind: GuestKind::Vm,
            status: GuestStatus::Running,
            node: node.into(),
            cpus: 2,
            cpu_usage: 0.05,
            mem_used: 2 * GIB,
            mem_total: 4 * GIB,
            disk_used: 0,
            disk_total: 10 * GIB,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            pool: None,
            ha_managed: false,
            lock: None,
            psi: None,
        }
    }

    pub(crate) fn config() -> ProxLbConfig {
        ProxLbConfig::with_api(vec!["pve1".into()], "root@pam")
    }

    pub(crate) fn monday_noon() -> LocalTime {
        LocalTime {
            weekday: Weekday::Monday,
            hour: 12,
            minute: 0,
        }
    }

    fn build(snapshot: &ClusterSnapshot, config: &ProxLbConfig) -> (ProxlbView, RulesView) {
        let maintenance =
            maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, monday_noon());
        let view = ProxlbView::build(snapshot, config, &maintenance);
        let rules = RulesView::build(&view, snapshot, config);
        (view, rules)
    }

    #[test]
    fn keeps_online_non_ignored_nodes_and_running_guests_in_proxlb_order() {
        let mut offline = node("pve3", 0);
        offline.status = NodeStatus::Offline;
        let mut ct = guest(200, "ct1", "pve1", &[]);
        ct.kind = GuestKind::Ct;
        let mut stopped = guest(103, "stopped", "pve1", &[]);
        stopped.status = GuestStatus::Stopped;
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), node("pve2", 10), offline, node("pve4", 1)],
            guests: vec![
                guest(101, "b", "pve2", &[]),
                ct,
                guest(100, "a", "pve1", &[]),
                stopped,
                guest(102, "on-offline", "pve3", &[]),
                guest(104, "on-ignored", "pve4", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let mut config = config();
        config.proxmox_cluster.ignore_nodes = vec!["pve4".into()];
        let (view, _) = build(&snapshot, &config);
        let names: Vec<&str> = view.guests.iter().map(|g| g.name()).collect();
        assert_eq!(names, vec!["a", "ct1", "b"]);
        assert_eq!(view.nodes.len(), 2);
    }

    #[test]
    fn duplicate_names_keep_first_slot_with_last_value() {
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), node("pve2", 10)],
            guests: vec![
                guest(100, "dup", "pve1", &[]),
                guest(101, "x", "pve1", &[]),
                guest(102, "dup", "pve2", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let (view, rules) = build(&snapshot, &config());
        assert_eq!(view.guests[0].guest.vmid, 102);
        assert_eq!(view.guests.len(), 2);
        assert!(rules.conflicts.contains(&Conflict::DuplicateGuestName {
            name: "dup".into(),
            vmids: vec![100, 102]
        }));
    }

    #[test]
    fn groups_from_tags_pools_and_ha_rules_with_last_affinity_winning() {
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), node("pve2", 10)],
            guests: vec![
                guest(
                    100,
                    "web1",
                    "pve1",
                    &["plb_affinity_web", "plb_anti_affinity_x"],
                ),
                guest(
                    101,
                    "web2",
                    "pve2",
                    &["plb_affinity_web", "plb_anti_affinity_x"],
                ),
                guest(102, "db", "pve1", &[]),
            ],
            pools: vec![Pool {
                id: "dev".into(),
                members: vec!["web2".into(), "db".into()],
            }],
            ha_rules: vec![
                HaRule {
                    id: "keep-apart".into(),
                    kind: HaRuleKind::ResourceAntiAffinity,
                    members: vec![100, 102],
                    nodes: vec![],
                    disabled: false,
                },
                HaRule {
                    id: "off".into(),
                    kind: HaRuleKind::ResourceAffinity,
                    members: vec![100],
                    nodes: vec![],
                    disabled: true,
                },
            ],
        };
        let mut config = config();
        config.balancing.pools = Some(
            [(
                "dev".to_string(),
                PoolRuleConfig {
                    kind: Some(AffinityType::Affinity),
                    pin: None,
                    strict: true,
                },
            )]
            .into_iter()
            .collect(),
        );
        let (view, rules) = build(&snapshot, &config);
        let web2 = view.guest("web2").unwrap();
        assert_eq!(web2.effective_affinity_group(), Some("dev"));
        let web = rules
            .affinity_groups
            .iter()
            .find(|g| g.name == "plb_affinity_web")
            .unwrap();
        assert_eq!(web.members, vec!["web1", "web2"]);
        assert_eq!(web.effective_members, vec!["web1"]);
        let apart = rules
            .anti_affinity_groups
            .iter()
            .find(|g| g.name == "keep-apart")
            .unwrap();
        assert_eq!(
            apart.sources,
            vec![RuleSource::HaRule {
                rule: "keep-apart".into()
            }]
        );
        assert_eq!(apart.members, vec!["web1", "db"]);
        assert!(rules.conflicts.contains(&Conflict::AffinityGroupsShadowed {
            guest: "web2".into(),
            effective: "dev".into(),
            ignored: vec!["plb_affinity_web".into()]
        }));
        assert_eq!(rules.ha_rules[1].skipped, Some(HaRuleSkip::Disabled));
        // db is in pool dev (affinity) and anti-affinity with web1; no overlap inside one group.
        assert!(!rules
            .conflicts
            .iter()
            .any(|c| matches!(c, Conflict::AffinityAndAntiAffinityOverlap { .. })));
    }

    #[test]
    fn pins_from_tags_pools_and_ha_rules_and_their_conflicts() {
        let mut maint = node("pve2", 10);
        maint.ha_maintenance = true;
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), maint],
            guests: vec![
                guest(100, "a", "pve1", &["plb_pin_PVE1", "plb_pin_ghost"]),
                guest(101, "b", "pve1", &["plb_pin_pve2"]),
                guest(102, "c", "pve1", &["plb_ignore", "plb_pin_pve1"]),
                guest(103, "d", "pve1", &[]),
            ],
            pools: vec![Pool {
                id: "db".into(),
                members: vec!["d".into()],
            }],
            ha_rules: vec![HaRule {
                id: "na".into(),
                kind: HaRuleKind::NodeAffinity,
                members: vec![103],
                nodes: vec!["pve1:2".into()],
                disabled: false,
            }],
        };
        let mut config = config();
        config.balancing.pools = Some(
            [(
                "db".to_string(),
                PoolRuleConfig {
                    kind: None,
                    pin: Some(vec!["PVE1".into()]),
                    strict: false,
                },
            )]
            .into_iter()
            .collect(),
        );
        let (view, rules) = build(&snapshot, &config);
        let a = view.guest("a").unwrap();
        assert_eq!(a.pins[0].node, "pve1");
        assert_eq!(a.warnings.len(), 1);
        let d = view.guest("d").unwrap();
        assert_eq!(
            d.pins.iter().map(|p| p.node.as_str()).collect::<Vec<_>>(),
            vec!["PVE1", "pve1:2"]
        );
        assert!(!d.pin_strict);
        // Node-affinity HA rules also create an affinity group named after the rule.
        assert_eq!(d.effective_affinity_group(), Some("na"));
        let has = |c: &Conflict| rules.conflicts.contains(c);
        assert!(has(&Conflict::PinToUnknownNode {
            guest: "a".into(),
            node: "ghost".into(),
            source: RuleSource::Tag {
                tag: "plb_pin_ghost".into()
            }
        }));
        assert!(has(&Conflict::PinnedToMaintenanceNode {
            guest: "b".into(),
            node: "pve2".into()
        }));
        assert!(has(&Conflict::NoUsablePinTarget { guest: "b".into() }));
        assert!(has(&Conflict::PinnedAndIgnored { guest: "c".into() }));
        assert!(has(&Conflict::PinNeverMatches {
            guest: "d".into(),
            pin: "PVE1".into(),
            source: RuleSource::Pool { pool: "db".into() }
        }));
        assert!(has(&Conflict::PinNeverMatches {
            guest: "d".into(),
            pin: "pve1:2".into(),
            source: RuleSource::HaRule { rule: "na".into() }
        }));
        // Non-strict: no NoUsablePinTarget for d.
        assert!(!has(&Conflict::NoUsablePinTarget { guest: "d".into() }));
        assert_eq!(rules.ignored.len(), 1);
    }

    #[test]
    fn ignore_by_tag_and_by_name() {
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10)],
            guests: vec![
                guest(100, "a", "pve1", &["plb_ignore_vm"]),
                guest(101, "b", "pve1", &[]),
                guest(102, "c", "pve1", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let mut config = config();
        config.balancing.ignore_guests = vec!["b".into()];
        let (_, rules) = build(&snapshot, &config);
        assert_eq!(
            rules.ignored,
            vec![
                IgnoredView {
                    guest: "a".into(),
                    reasons: vec![IgnoreReason::Tag {
                        tag: "plb_ignore_vm".into()
                    }]
                },
                IgnoredView {
                    guest: "b".into(),
                    reasons: vec![IgnoreReason::IgnoreGuestsList]
                }
            ]
        );
    }

    #[test]
    fn oversized_anti_affinity_overlap_unknown_pool_and_pre_pve9() {
        let mut old = node("pve2", 10);
        old.pve_version = "8.4.1".into();
        let tags = ["plb_affinity_a", "plb_anti_affinity_b"];
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), old],
            guests: vec![
                guest(100, "x", "pve1", &tags),
                guest(101, "y", "pve1", &tags),
                guest(102, "z", "pve2", &tags),
            ],
            ha_rules: vec![HaRule {
                id: "r".into(),
                kind: HaRuleKind::ResourceAffinity,
                members: vec![100],
                nodes: vec![],
                disabled: false,
            }],
            ..ClusterSnapshot::default()
        };
        let mut config = config();
        config.balancing.pools = Some(
            [(
                "nope".to_string(),
                PoolRuleConfig {
                    kind: Some(AffinityType::Affinity),
                    pin: None,
                    strict: true,
                },
            )]
            .into_iter()
            .collect(),
        );
        let (view, rules) = build(&snapshot, &config);
        assert!(view.cluster_non_pve9);
        assert!(view.guest("x").unwrap().ha_rules.is_empty());
        let has = |c: &Conflict| rules.conflicts.contains(c);
        assert!(has(&Conflict::AntiAffinityGroupTooLarge {
            group: "plb_anti_affinity_b".into(),
            members: 3,
            usable_nodes: 2
        }));
        assert!(has(&Conflict::AffinityAndAntiAffinityOverlap {
            affinity_group: "plb_affinity_a".into(),
            anti_affinity_group: "plb_anti_affinity_b".into(),
            guests: vec!["x".into(), "y".into(), "z".into()]
        }));
        assert!(has(&Conflict::PoolRuleForUnknownPool {
            pool: "nope".into()
        }));
        assert!(has(&Conflict::HaRulesSkippedPrePve9 {
            rules: vec!["r".into()]
        }));
        assert_eq!(rules.ha_rules[0].skipped, Some(HaRuleSkip::PrePve9));
    }

    #[test]
    fn violations_cover_split_shared_and_maintenance() {
        let mut maint = node("pve3", 10);
        maint.ha_maintenance = true;
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 10), node("pve2", 10), maint],
            guests: vec![
                guest(100, "a1", "pve1", &["plb_affinity_a"]),
                guest(101, "a2", "pve2", &["plb_affinity_a"]),
                guest(102, "b1", "pve1", &["plb_anti_affinity_b"]),
                guest(103, "b2", "pve1", &["plb_anti_affinity_b"]),
                guest(104, "solo", "pve3", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let (view, _) = build(&snapshot, &config());
        let violations = current_violations(&view);
        assert!(violations.contains(&Violation::AffinitySplit {
            group: Some("plb_affinity_a".into()),
            nodes: vec!["pve1".into(), "pve2".into()]
        }));
        assert!(violations.contains(&Violation::AntiAffinityShared {
            group: "plb_anti_affinity_b".into(),
            node: "pve1".into(),
            guests: vec!["b1".into(), "b2".into()]
        }));
        assert!(violations.contains(&Violation::OnMaintenanceNode {
            group: None,
            kind: GroupKind::Affinity,
            guest: "solo".into(),
            node: "pve3".into()
        }));
        assert_eq!(violations.len(), 3);
    }

    /// The overlap as its definition reads: every pair of groups, one set lookup per member.
    fn pairwise_overlaps(affinity: &[GroupView], anti: &[GroupView]) -> Vec<Conflict> {
        let mut conflicts = Vec::new();
        for group in affinity {
            for other in anti {
                let members: std::collections::HashSet<&str> =
                    other.members.iter().map(String::as_str).collect();
                let shared: Vec<String> = group
                    .effective_members
                    .iter()
                    .filter(|m| members.contains(m.as_str()))
                    .cloned()
                    .collect();
                if shared.len() > 1 {
                    conflicts.push(Conflict::AffinityAndAntiAffinityOverlap {
                        affinity_group: group.name.clone(),
                        anti_affinity_group: other.name.clone(),
                        guests: shared,
                    });
                }
            }
        }
        conflicts
    }

    fn group(kind: GroupKind, index: usize, members: &[u8]) -> GroupView {
        let members: Vec<String> = members.iter().map(|m| format!("g{m}")).collect();
        GroupView {
            name: format!("{kind:?}{index}"),
            kind,
            sources: Vec::new(),
            effective_members: members.clone(),
            members,
            nodes: Vec::new(),
        }
    }

    proptest::proptest! {
        /// The indexed overlap finds exactly the pairwise conflicts, in the same order, also with
        /// a guest listed twice in a group.
        #[test]
        fn affinity_overlaps_equal_the_pairwise_definition(
            affinity in proptest::collection::vec(proptest::collection::vec(0u8..12, 0..6), 0..6),
            anti in proptest::collection::vec(proptest::collection::vec(0u8..12, 0..6), 0..6),
        ) {
            let affinity: Vec<GroupView> = affinity
                .iter()
                .enumerate()
                .map(|(i, m)| group(GroupKind::Affinity, i, m))
                .collect();
            let anti: Vec<GroupView> = anti
                .iter()
                .enumerate()
                .map(|(i, m)| group(GroupKind::AntiAffinity, i, m))
                .collect();
            proptest::prop_assert_eq!(
                affinity_overlaps(&affinity, &anti),
                pairwise_overlaps(&affinity, &anti)
            );
        }
    }
}
