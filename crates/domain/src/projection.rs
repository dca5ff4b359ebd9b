//! Per-view projections of a [`ClusterView`]: each page ships what it shows, not the whole
//! overview. At 64 nodes and 10,000 guests the overview's decision alone is about 480 KB of JSON
//! (rules, per-node figures before and after, every planned move), and every byte a page's
//! resource carries is also inlined into its HTML as hydration data.
//!
//! The guest list travels in [`CompactGuests`]: columns instead of one object per guest, node
//! names and tags by index, so 10,000 guests cost a fraction of the row-per-object JSON.

mod balancing;

pub use balancing::{
    rejection_kind, BalancingProjection, MoveLine, BALANCING_CANDIDATES, BALANCING_LIST,
    BALANCING_MOVES, MOVES_PAGE, PAGE_CANDIDATE_ROWS,
};

use serde::{Deserialize, Serialize};

use crate::explain::{describe_note, describe_reason};
use crate::guest_query::{query_indexed, GuestIndex, GuestQuery};
use crate::proxlb::decision::{MoveDecision, ReasonEffect};
use crate::proxlb::{GuestKind, GuestStatus, RulesView, Spread};
use crate::view::{
    BalancingSummary, ClusterHealth, ClusterOverview, ClusterView, ClusterWarning, GuestRow,
    NodeRow, SnapshotMeta, TagBadge,
};

/// Planned moves the dashboard ships; the node views show the moves touching each node.
pub const DASHBOARD_MOVES: usize = 10;

/// What the dashboard shows: health, warnings, node gauges, and the verdict with its top moves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Health counts.
    pub health: ClusterHealth,
    /// Warnings, most important first.
    pub warnings: Vec<ClusterWarning>,
    /// Nodes in Proxmox order.
    pub nodes: Vec<NodeRow>,
    /// ProxLB's settings.
    pub balancing: BalancingSummary,
    /// Would ProxLB act now, and why.
    pub verdict: Verdict,
}

/// ProxLB's answer to "would you act now?", without the rules and per-node figures. Reasons and
/// notes arrive as sentences written on the server: a reason can carry every violation of a
/// large cluster (guest names included), and the sentence is all the dashboard shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// At least one migration would be issued.
    pub would_balance: bool,
    /// Every reason, triggers first.
    pub reasons: Vec<ReasonLine>,
    /// Quirks that shaped the answer, one sentence each.
    pub notes: Vec<String>,
    /// The first [`DASHBOARD_MOVES`] planned moves, in plan order.
    pub top_moves: Vec<MoveDecision>,
    /// All planned moves.
    pub moves_total: usize,
    /// Planned moves a migration request would be sent for.
    pub issued: usize,
    /// The spread between the most and least used node, when computed.
    pub spread: Option<Spread>,
}

/// One reason of the verdict as a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonLine {
    /// Whether it triggers, prevents or only explains balancing.
    pub effect: ReasonEffect,
    /// The sentence.
    pub text: String,
}

/// What the nodes view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodesView {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Nodes in Proxmox order.
    pub nodes: Vec<NodeRow>,
}

/// What the rules view shows: every list cut to its first [`RULES_SHOWN`] entries unless all
/// were asked for (a large cluster has hundreds of groups; the page links to the full lists).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RulesPageView {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Groups, pins, ignores, pool and HA rules, conflicts (possibly cut).
    pub rules: RulesView,
    /// The length of every list before cutting.
    pub totals: RuleTotals,
}

/// Entries per list the rules view shows unless all are asked for.
pub const RULES_SHOWN: usize = 15;

/// How many entries each list of the rules has in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTotals {
    /// Conflicts.
    pub conflicts: usize,
    /// Affinity groups.
    pub affinity_groups: usize,
    /// Anti-affinity groups.
    pub anti_affinity_groups: usize,
    /// Pinned guests.
    pub pinned: usize,
    /// Ignored guests.
    pub ignored: usize,
    /// Pool rules.
    pub pool_rules: usize,
    /// PVE HA rules.
    pub ha_rules: usize,
}

impl RuleTotals {
    /// Whether some list is longer than what a cut view shows.
    pub fn any_cut(&self, shown: &RulesView) -> bool {
        self.conflicts > shown.conflicts.len()
            || self.affinity_groups > shown.affinity_groups.len()
            || self.anti_affinity_groups > shown.anti_affinity_groups.len()
            || self.pinned > shown.pinned.len()
            || self.ignored > shown.ignored.len()
            || self.pool_rules > shown.pool_rules.len()
            || self.ha_rules > shown.ha_rules.len()
    }
}

/// What one node's view shows: the node, the moves from or to it, and its guests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeDetailView {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// The node.
    pub node: NodeRow,
    /// Planned moves from or to it, in plan order.
    pub moves: Vec<MoveDecision>,
    /// Its first [`NODE_GUESTS`] guests by vmid (the guests view, filtered by node, lists
    /// them all).
    pub guests: Vec<GuestRow>,
    /// All guests on the node.
    pub guests_total: usize,
}

/// Guests one node's view lists; the rest are a link to the guests view away.
pub const NODE_GUESTS: usize = crate::guest_query::PAGE_SIZE;

/// One page of the guest list as the server filtered it: what the guests view renders before
/// (or without) JavaScript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestPageView {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Node names, for the node filter.
    pub nodes: Vec<String>,
    /// Guests in all.
    pub total: usize,
    /// Guests matching the filters (all pages).
    pub matching: usize,
    /// The page shown (clamped to the last page).
    pub page: usize,
    /// Number of pages (at least 1).
    pub pages: usize,
    /// The rows of this page.
    pub rows: Vec<GuestRow>,
}

/// Every guest, column by column, for filtering in the browser. Column `i` of every vector is
/// guest `i`; `node` and `tags` index into `nodes` and `tag_names`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompactGuests {
    /// Freshness of the data.
    pub meta: SnapshotMeta,
    /// Node names, for the node filter (also the targets of `node`).
    pub nodes: Vec<String>,
    /// Every distinct tag with its meaning.
    pub tag_names: Vec<TagBadge>,
    /// VM or CT ids.
    pub vmid: Vec<u32>,
    /// Names.
    pub name: Vec<String>,
    /// VM or CT.
    pub kind: Vec<GuestKind>,
    /// Run state.
    pub status: Vec<GuestStatus>,
    /// Current node, as an index into `nodes`.
    pub node: Vec<u32>,
    /// vCPUs.
    pub cpus: Vec<u32>,
    /// CPU used in hundredths of a percent (rounded; the table shows one decimal).
    pub cpu: Vec<u32>,
    /// Memory used, bytes.
    pub mem_used: Vec<u64>,
    /// Memory assigned, bytes.
    pub mem_total: Vec<u64>,
    /// Disk used, bytes.
    pub disk_used: Vec<u64>,
    /// Disk size, bytes.
    pub disk_total: Vec<u64>,
    /// Pool per guest (`None`: no pool).
    pub pool: Vec<Option<String>>,
    /// Managed by PVE HA.
    pub ha: Vec<bool>,
    /// Lock per guest.
    pub lock: Vec<Option<String>>,
    /// Tags per guest, as indexes into `tag_names`.
    pub tags: Vec<Vec<u32>>,
}

impl ClusterOverview {
    /// The dashboard's projection.
    pub fn dashboard(&self) -> DashboardView {
        let decision = &self.decision;
        DashboardView {
            meta: self.meta.clone(),
            health: self.health.clone(),
            warnings: self.warnings.clone(),
            nodes: self.nodes.clone(),
            balancing: self.balancing.clone(),
            verdict: Verdict {
                would_balance: decision.would_balance,
                reasons: decision
                    .reasons
                    .iter()
                    .map(|reason| ReasonLine {
                        effect: reason.effect(),
                        text: describe_reason(reason),
                    })
                    .collect(),
                notes: decision.notes.iter().map(describe_note).collect(),
                top_moves: decision
                    .moves
                    .iter()
                    .take(DASHBOARD_MOVES)
                    .cloned()
                    .collect(),
                moves_total: decision.moves.len(),
                issued: decision.moves.iter().filter(|m| m.issued).count(),
                spread: decision
                    .balance_check
                    .as_ref()
                    .and_then(|check| check.spread.clone()),
            },
        }
    }

    /// The nodes view's projection.
    pub fn nodes_view(&self) -> NodesView {
        NodesView {
            meta: self.meta.clone(),
            nodes: self.nodes.clone(),
        }
    }

    /// The rules view's projection: every list whole with `all`, else its first
    /// [`RULES_SHOWN`] entries.
    pub fn rules_view(&self, all: bool) -> RulesPageView {
        let rules = &self.decision.rules;
        let totals = RuleTotals {
            conflicts: rules.conflicts.len(),
            affinity_groups: rules.affinity_groups.len(),
            anti_affinity_groups: rules.anti_affinity_groups.len(),
            pinned: rules.pinned.len(),
            ignored: rules.ignored.len(),
            pool_rules: rules.pool_rules.len(),
            ha_rules: rules.ha_rules.len(),
        };
        let cut = |len: usize| if all { len } else { len.min(RULES_SHOWN) };
        let shown = RulesView {
            affinity_groups: rules.affinity_groups[..cut(totals.affinity_groups)].to_vec(),
            anti_affinity_groups: rules.anti_affinity_groups[..cut(totals.anti_affinity_groups)]
                .to_vec(),
            pinned: rules.pinned[..cut(totals.pinned)].to_vec(),
            ignored: rules.ignored[..cut(totals.ignored)].to_vec(),
            pool_rules: rules.pool_rules[..cut(totals.pool_rules)].to_vec(),
            ha_rules: rules.ha_rules[..cut(totals.ha_rules)].to_vec(),
            conflicts: rules.conflicts[..cut(totals.conflicts)].to_vec(),
            // Not shown by the rules view.
            warnings: Vec::new(),
        };
        RulesPageView {
            meta: self.meta.clone(),
            rules: shown,
            totals,
        }
    }
}

impl ClusterView {
    /// The projection of the node called `name`; `None` when the cluster has no such node.
    pub fn node_detail(&self, name: &str) -> Option<NodeDetailView> {
        let node = self.overview.node(name)?.clone();
        let on_node = self.guests.iter().filter(|g| g.node == name);
        Some(NodeDetailView {
            meta: self.overview.meta.clone(),
            moves: self.overview.moves_touching(name).cloned().collect(),
            guests: on_node.clone().take(NODE_GUESTS).cloned().collect(),
            guests_total: on_node.count(),
            node,
        })
    }

    /// One page of the guest list filtered and sorted on the server.
    pub fn guest_page(&self, query: &GuestQuery) -> GuestPageView {
        self.guest_page_indexed(query, &GuestIndex::new(&self.guests))
    }

    /// [`ClusterView::guest_page`] with the index of this view's guests, built once per view.
    pub fn guest_page_indexed(&self, query: &GuestQuery, index: &GuestIndex) -> GuestPageView {
        let page = query_indexed(&self.guests, index, query);
        GuestPageView {
            meta: self.overview.meta.clone(),
            nodes: self.overview.nodes.iter().map(|n| n.name.clone()).collect(),
            total: self.guests.len(),
            matching: page.matching,
            page: page.page,
            pages: page.pages,
            rows: page.rows.into_iter().cloned().collect(),
        }
    }

    /// Every guest in columns.
    pub fn compact_guests(&self) -> CompactGuests {
        CompactGuests::new(
            self.overview.meta.clone(),
            self.overview.nodes.iter().map(|n| n.name.clone()).collect(),
            &self.guests,
        )
    }
}

impl CompactGuests {
    /// The columns of `guests`; `nodes` are the cluster's node names (a guest on a node not in
    /// it adds that name).
    pub fn new(meta: SnapshotMeta, mut nodes: Vec<String>, guests: &[GuestRow]) -> Self {
        let mut out = CompactGuests {
            meta,
            ..CompactGuests::default()
        };
        let mut node_index: std::collections::HashMap<String, u32> = nodes
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), index(i)))
            .collect();
        let mut tag_index: std::collections::HashMap<String, u32> =
            std::collections::HashMap::new();
        for guest in guests {
            let node = *node_index.entry(guest.node.clone()).or_insert_with(|| {
                nodes.push(guest.node.clone());
                index(nodes.len() - 1)
            });
            let tags = guest
                .tags
                .iter()
                .map(|badge| {
                    *tag_index.entry(badge.tag.clone()).or_insert_with(|| {
                        out.tag_names.push(badge.clone());
                        index(out.tag_names.len() - 1)
                    })
                })
                .collect();
            out.vmid.push(guest.vmid);
            out.name.push(guest.name.clone());
            out.kind.push(guest.kind);
            out.status.push(guest.status);
            out.node.push(node);
            out.cpus.push(guest.cpus);
            out.cpu.push(hundredths(guest.cpu_percent));
            out.mem_used.push(guest.mem_used);
            out.mem_total.push(guest.mem_total);
            out.disk_used.push(guest.disk_used);
            out.disk_total.push(guest.disk_total);
            out.pool.push(guest.pool.clone());
            out.ha.push(guest.ha_managed);
            out.lock.push(guest.lock.clone());
            out.tags.push(tags);
        }
        out.nodes = nodes;
        out
    }

    /// The rows again (CPU rounded to hundredths of a percent). Columns shorter than `vmid`
    /// (a malformed answer) end the list there instead of panicking.
    pub fn rows(&self) -> Vec<GuestRow> {
        let text = |list: &[String], i: u32| {
            usize::try_from(i)
                .ok()
                .and_then(|i| list.get(i))
                .cloned()
                .unwrap_or_default()
        };
        (0..self.vmid.len())
            .map_while(|i| {
                Some(GuestRow {
                    vmid: self.vmid[i],
                    name: self.name.get(i)?.clone(),
                    kind: *self.kind.get(i)?,
                    status: *self.status.get(i)?,
                    node: text(&self.nodes, *self.node.get(i)?),
                    cpus: *self.cpus.get(i)?,
                    cpu_percent: f64::from(*self.cpu.get(i)?) / 100.0,
                    mem_used: *self.mem_used.get(i)?,
                    mem_total: *self.mem_total.get(i)?,
                    disk_used: *self.disk_used.get(i)?,
                    disk_total: *self.disk_total.get(i)?,
                    pool: self.pool.get(i)?.clone(),
                    ha_managed: *self.ha.get(i)?,
                    lock: self.lock.get(i)?.clone(),
                    tags: self
                        .tags
                        .get(i)?
                        .iter()
                        .filter_map(|&t| {
                            usize::try_from(t)
                                .ok()
                                .and_then(|t| self.tag_names.get(t))
                                .cloned()
                        })
                        .collect(),
                })
            })
            .collect()
    }
}

/// A list position as a `u32` index (lists here are far below 4 billion entries).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// `percent` in hundredths, rounded; negative and NaN become 0.
fn hundredths(percent: f64) -> u32 {
    let value = (percent * 100.0).round();
    if value.is_finite() && value > 0.0 {
        // Saturating: CPU percentages are far below u32::MAX / 100.
        value.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::TagKind;

    fn row(vmid: u32, node: &str, tags: &[&str]) -> GuestRow {
        GuestRow {
            vmid,
            name: format!("g{vmid}"),
            kind: GuestKind::Vm,
            status: GuestStatus::Running,
            node: node.to_owned(),
            cpus: 2,
            cpu_percent: 12.345,
            mem_used: 1 << 30,
            mem_total: 2 << 30,
            disk_used: 0,
            disk_total: 32 << 30,
            pool: vmid.is_multiple_of(2).then(|| "prod".to_owned()),
            ha_managed: vmid.is_multiple_of(3),
            lock: None,
            tags: tags
                .iter()
                .map(|t| TagBadge {
                    tag: (*t).to_owned(),
                    kind: TagKind::of(t),
                })
                .collect(),
        }
    }

    #[test]
    fn compact_guests_give_the_rows_back() {
        let guests = vec![
            row(100, "pve1", &["plb_affinity_web", "prod"]),
            row(101, "pve2", &["prod"]),
            row(102, "elsewhere", &[]),
        ];
        let compact = CompactGuests::new(
            SnapshotMeta::default(),
            vec!["pve1".into(), "pve2".into()],
            &guests,
        );
        assert_eq!(compact.nodes, ["pve1", "pve2", "elsewhere"]);
        assert_eq!(compact.tag_names.len(), 2, "each distinct tag once");
        let back = compact.rows();
        assert_eq!(back.len(), 3);
        for (got, want) in back.iter().zip(&guests) {
            assert_eq!(got.cpu_percent, 12.35);
            let fixed = GuestRow {
                cpu_percent: 12.35,
                ..want.clone()
            };
            assert_eq!(got, &fixed);
        }
    }

    #[test]
    fn short_columns_end_the_list_instead_of_panicking() {
        let mut compact = CompactGuests::new(
            SnapshotMeta::default(),
            vec!["pve1".into()],
            &[row(1, "pve1", &[]), row(2, "pve1", &[])],
        );
        compact.name.pop();
        assert_eq!(compact.rows().len(), 1);
    }
}
