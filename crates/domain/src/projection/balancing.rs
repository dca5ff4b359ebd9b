//! The Balancing view's projection: the cluster explanation, node bars before and after the plan,
//! and the planned moves with their reasons and candidate tables, but not every guest (at 10,000
//! guests a guest that stays is explained per query with
//! [`Evaluation::explain_guest`](crate::proxlb::decision::Evaluation::explain_guest)), and
//! candidate tables only up to [`BALANCING_CANDIDATES`] rows in all.

use serde::{Deserialize, Serialize};

use super::ReasonLine;
use crate::explain::{describe_note, describe_reason};
use crate::proxlb::decision::{Evaluation, MoveDecision, Reason};
use crate::proxlb::explanation::{
    CandidateVerdict, ClusterExplanation, GuestChoice, NodeBar, QuirkAt, Rejection, TargetChoice,
};

/// Planned moves the Balancing view ships; the rest are counted.
pub const BALANCING_MOVES: usize = 200;

/// Candidate rows (one node's verdict for one move) the projection ships in all: moves are
/// given their full table in plan order while it fits (every shipped move on 3 nodes, 75 on 8),
/// later ones only their counts in [`MoveLine::rejected`] (their table comes with the guest's
/// explanation). A row is about 140 bytes of JSON, so the tables add at most about 85 KB to the
/// 200 shipped moves' 100 KB.
pub const BALANCING_CANDIDATES: usize = 600;

/// Planned moves one page of the Balancing view shows ([`BalancingProjection::page`]):
/// each is about 1.4 KB of the page's HTML and hydration data without its candidate table.
pub const MOVES_PAGE: usize = 10;

/// Candidate rows one page of moves keeps, in plan order: every move's table up to 4 nodes,
/// none at 64 nodes, where one table is about 25 KB of the page's HTML and hydration data
/// (those moves link to the guest's explanation, which has it).
pub const PAGE_CANDIDATE_ROWS: usize = 40;

/// Entries of long lists inside the cluster explanation the view ships (hot guests).
pub const BALANCING_LIST: usize = 20;

/// What the Balancing view shows for one configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancingProjection {
    /// Why balancing is (not) needed. Its typed `reasons` and `notes` are left empty here (a
    /// reason can list every violation of a large cluster); they travel as `reasons` and `notes`
    /// sentences below.
    pub cluster: ClusterExplanation,
    /// The decision's reasons as sentences, triggers first.
    pub reasons: Vec<ReasonLine>,
    /// Quirks as sentences.
    pub notes: Vec<String>,
    /// Node loads before and after the plan, in `/nodes` order.
    pub nodes: Vec<NodeBar>,
    /// The first [`BALANCING_MOVES`] moves with their reasons, in plan order (one page of them
    /// after [`BalancingProjection::page`]).
    pub moves: Vec<MoveLine>,
    /// Position of `moves[0]` in the plan (0 unless paged).
    #[serde(default)]
    pub moves_from: usize,
    /// All planned moves.
    pub moves_total: usize,
    /// Planned moves a migration request would be sent for.
    pub issued: usize,
}

/// One planned move with why this guest and why this target, how many nodes were rejected for
/// which reason and, within [`BALANCING_CANDIDATES`], every node's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoveLine {
    /// The move (flattened: `guest`, `vmid`, `kind`, `from`, `to`, `issued`).
    #[serde(flatten)]
    pub planned: MoveDecision,
    /// Why this guest.
    pub why_guest: GuestChoice,
    /// Why this target.
    pub why_target: TargetChoice,
    /// Rejected nodes per deciding reason (the first rejection of each node), e.g.
    /// `("not_most_free", 5)`.
    pub rejected: Vec<(String, usize)>,
    /// Every node's verdict, target first (empty past [`BALANCING_CANDIDATES`]; the guest's
    /// explanation has it).
    #[serde(default)]
    pub candidates: Vec<CandidateVerdict>,
    /// Why no migration request would be sent (empty when it would).
    pub not_issued: Vec<Reason>,
    /// Quirks at this move.
    pub quirks: Vec<QuirkAt>,
}

/// The serde tag of a rejection (`not_most_free`, `maintenance`, ...).
pub fn rejection_kind(rejection: &Rejection) -> &'static str {
    match rejection {
        Rejection::CurrentNode => "current_node",
        Rejection::Maintenance => "maintenance",
        Rejection::IgnoredNode => "ignored_node",
        Rejection::Offline => "offline",
        Rejection::PinnedElsewhere { .. } => "pinned_elsewhere",
        Rejection::AntiAffinityUsed => "anti_affinity_used",
        Rejection::AntiAffinityNodeOrder { .. } => "anti_affinity_node_order",
        Rejection::AffinityGroupElsewhere { .. } => "affinity_group_elsewhere",
        Rejection::NotEnoughMemory { .. } => "not_enough_memory",
        Rejection::Reserve { .. } => "reserve",
        Rejection::TooManyCores { .. } => "too_many_cores",
        Rejection::NotEnoughDisk { .. } => "not_enough_disk",
        Rejection::NotMostFree { .. } => "not_most_free",
    }
}

impl Evaluation {
    /// The Balancing view's projection.
    pub fn balancing_projection(&self) -> BalancingProjection {
        let d = &self.decision;
        let mut cluster = self.cluster_explanation();
        cluster.reasons = Vec::new();
        cluster.notes = Vec::new();
        for check in &mut cluster.checks {
            check.hot_guests.truncate(BALANCING_LIST);
        }
        let positions = self.guest_positions();
        let mut rows_left = BALANCING_CANDIDATES;
        let moves = d
            .moves
            .iter()
            .take(BALANCING_MOVES)
            .filter_map(|m| {
                let g = *positions.get(m.planned.guest.as_str())?;
                let e = self.explain_move(g, m)?;
                let mut rejected: Vec<(String, usize)> = Vec::new();
                for first in e.candidates.iter().filter_map(|c| c.rejections.first()) {
                    let kind = rejection_kind(first);
                    match rejected.iter_mut().find(|(k, _)| k == kind) {
                        Some((_, n)) => *n += 1,
                        None => rejected.push((kind.to_owned(), 1)),
                    }
                }
                let candidates = if e.candidates.len() <= rows_left {
                    rows_left -= e.candidates.len();
                    e.candidates
                } else {
                    // Later moves are not given a table either: the cut is one place in plan
                    // order, so "tables up to move n" is what the view can say.
                    rows_left = 0;
                    Vec::new()
                };
                Some(MoveLine {
                    planned: e.planned,
                    why_guest: e.why_guest,
                    why_target: e.why_target,
                    rejected,
                    candidates,
                    not_issued: e.not_issued,
                    quirks: e.quirks,
                })
            })
            .collect();
        BalancingProjection {
            cluster,
            reasons: d
                .reasons
                .iter()
                .map(|reason| ReasonLine {
                    effect: reason.effect(),
                    text: describe_reason(reason),
                })
                .collect(),
            notes: d.notes.iter().map(describe_note).collect(),
            nodes: self.node_bars(),
            moves,
            moves_from: 0,
            moves_total: d.moves.len(),
            issued: d.moves.iter().filter(|m| m.issued).count(),
        }
    }
}

impl BalancingProjection {
    /// One page of the view: up to [`MOVES_PAGE`] moves from plan position `from` (clamped to
    /// the last shipped move), their candidate tables within [`PAGE_CANDIDATE_ROWS`] in plan
    /// order (a move past the cut links to the guest's explanation instead). The rest of the
    /// projection (cluster, bars, counts) stays whole. Only the page's moves are copied, not
    /// the whole list (the server keeps one projection per snapshot and pages it per request).
    pub fn page(&self, from: usize) -> Self {
        let from = from.min(self.moves.len().saturating_sub(1));
        let mut moves: Vec<MoveLine> = self
            .moves
            .iter()
            .skip(from)
            .take(MOVES_PAGE)
            .cloned()
            .collect();
        let mut rows_left = PAGE_CANDIDATE_ROWS;
        for line in &mut moves {
            if line.candidates.len() <= rows_left {
                rows_left -= line.candidates.len();
            } else {
                rows_left = 0;
                line.candidates = Vec::new();
            }
        }
        Self {
            cluster: self.cluster.clone(),
            reasons: self.reasons.clone(),
            notes: self.notes.clone(),
            nodes: self.nodes.clone(),
            moves,
            moves_from: from,
            moves_total: self.moves_total,
            issued: self.issued,
        }
    }
}
