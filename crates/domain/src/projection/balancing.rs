//! The Balancing view's projection: the cluster explanation, node bars before and after the plan,
//! and the planned moves with their reasons, but not every guest and not every move's candidate
//! table (at 10,000 guests those are fetched per guest with
//! [`Evaluation::explain_guest`](crate::proxlb::decision::Evaluation::explain_guest)).

use serde::{Deserialize, Serialize};

use super::ReasonLine;
use crate::explain::{describe_note, describe_reason};
use crate::proxlb::decision::{Evaluation, MoveDecision, Reason};
use crate::proxlb::explanation::{
    ClusterExplanation, GuestChoice, NodeBar, QuirkAt, Rejection, TargetChoice,
};

/// Planned moves the Balancing view ships; the rest are counted.
pub const BALANCING_MOVES: usize = 200;

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
    /// The first [`BALANCING_MOVES`] moves with their reasons, in plan order.
    pub moves: Vec<MoveLine>,
    /// All planned moves.
    pub moves_total: usize,
    /// Planned moves a migration request would be sent for.
    pub issued: usize,
}

/// One planned move with why this guest and why this target; how many nodes were rejected for
/// which reason (the full table comes with the guest's explanation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoveLine {
    /// The move.
    pub planned: MoveDecision,
    /// Why this guest.
    pub why_guest: GuestChoice,
    /// Why this target.
    pub why_target: TargetChoice,
    /// Rejected nodes per deciding reason (the first rejection of each node), e.g.
    /// `("not_most_free", 5)`.
    pub rejected: Vec<(String, usize)>,
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
                Some(MoveLine {
                    planned: e.planned,
                    why_guest: e.why_guest,
                    why_target: e.why_target,
                    rejected,
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
            moves_total: d.moves.len(),
            issued: d.moves.iter().filter(|m| m.issued).count(),
        }
    }
}
