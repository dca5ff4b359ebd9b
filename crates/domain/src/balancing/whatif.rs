//! How a candidate configuration's plan differs from today's: moves only in the candidate,
//! moves only today, and guests whose target changes.

use serde::{Deserialize, Serialize};

use super::plan_view::{MoveLine, PlanView};

/// A guest planned in both, to different nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retarget {
    /// Guest.
    pub guest: String,
    /// Current node.
    pub from: String,
    /// Target today.
    pub today: String,
    /// Target with the candidate.
    pub candidate: String,
}

/// The difference between two plans.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanDiff {
    /// Moves only the candidate plans.
    pub added: Vec<MoveLine>,
    /// Moves only today's plan has.
    pub removed: Vec<MoveLine>,
    /// Same guest, other target.
    pub retargeted: Vec<Retarget>,
    /// Moves in both with the same target.
    pub unchanged: usize,
}

impl PlanDiff {
    /// Whether both plans move the same guests to the same nodes.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.retargeted.is_empty()
    }
}

/// Today's plan and a candidate's, side by side, with their difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// With the configuration as saved.
    pub today: PlanView,
    /// With the candidate.
    pub candidate: PlanView,
    /// Candidate minus today.
    pub diff: PlanDiff,
}

/// `candidate` compared with `today`, by guest name (ProxLB keys guests by name).
pub fn diff(today: &PlanView, candidate: &PlanView) -> PlanDiff {
    let mut out = PlanDiff::default();
    for m in &candidate.moves {
        match today.moves.iter().find(|t| t.guest == m.guest) {
            None => out.added.push(m.clone()),
            Some(t) if t.to != m.to => out.retargeted.push(Retarget {
                guest: m.guest.clone(),
                from: m.from.clone(),
                today: t.to.clone(),
                candidate: m.to.clone(),
            }),
            Some(_) => out.unchanged += 1,
        }
    }
    out.removed = today
        .moves
        .iter()
        .filter(|t| !candidate.moves.iter().any(|m| m.guest == t.guest))
        .cloned()
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::cluster::GuestKind;
    use crate::proxlb::config::{Mode, Resource};

    fn mv(guest: &str, to: &str) -> MoveLine {
        MoveLine {
            guest: guest.into(),
            vmid: 100,
            kind: GuestKind::Vm,
            from: "pve1".into(),
            to: to.into(),
            issued: true,
            reasons: Vec::new(),
        }
    }

    fn plan(moves: Vec<MoveLine>) -> PlanView {
        PlanView {
            method: Resource::Memory,
            mode: Mode::Used,
            balanciness: 10,
            threshold: None,
            would_balance: !moves.is_empty(),
            verdict: String::new(),
            reasons: Vec::new(),
            notes: Vec::new(),
            nodes: Vec::new(),
            spread_before: None,
            spread_after: None,
            best_node: None,
            moves,
            events: Vec::new(),
        }
    }

    #[test]
    fn moves_are_compared_by_guest_and_target() {
        let today = plan(vec![mv("a", "pve2"), mv("b", "pve2"), mv("c", "pve3")]);
        let candidate = plan(vec![mv("a", "pve2"), mv("b", "pve3"), mv("d", "pve2")]);
        let d = diff(&today, &candidate);
        assert_eq!(d.unchanged, 1);
        assert_eq!(
            d.added.iter().map(|m| m.guest.as_str()).collect::<Vec<_>>(),
            ["d"]
        );
        assert_eq!(
            d.removed
                .iter()
                .map(|m| m.guest.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(
            d.retargeted,
            vec![Retarget {
                guest: "b".into(),
                from: "pve1".into(),
                today: "pve2".into(),
                candidate: "pve3".into()
            }]
        );
        assert!(!d.is_empty());
        assert!(diff(&today, &today).is_empty());
    }
}
