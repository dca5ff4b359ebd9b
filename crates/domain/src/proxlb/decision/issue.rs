//! Step 4: from planned moves to migrations. The relocation pass plans moves for every guest
//! type; whether a migration request is sent depends on `balancing.enable` (after gating),
//! `balance_types` and `-d` (`proxlb/models/balancing.py`, `proxlb/main.py`).

use serde::{Deserialize, Serialize};

use super::Reason;
use crate::proxlb::cluster::GuestKind;
use crate::proxlb::config::{BalanceType, BalancingConfig};
use crate::proxlb::plan::{PlanOutcome, PlannedMove};

/// A planned move and whether ProxLB would issue it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveDecision {
    /// The move.
    #[serde(flatten)]
    pub planned: PlannedMove,
    /// A migration request would be sent.
    pub issued: bool,
}

/// Whether `balance_types` lets ProxLB migrate a guest of this kind.
pub fn type_allowed(balancing: &BalancingConfig, kind: GuestKind) -> bool {
    let wanted = match kind {
        GuestKind::Vm => BalanceType::Vm,
        GuestKind::Ct => BalanceType::Ct,
    };
    balancing.balance_types.contains(&wanted)
}

/// Reasons that stop migrations, and the planned moves with their `issued` flag.
pub(super) fn issue(
    outcome: &PlanOutcome,
    balancing: &BalancingConfig,
    effective_enable: bool,
    psi_gate: Option<&[(String, String)]>,
    dry_run: bool,
    reasons: &mut Vec<Reason>,
) -> Vec<MoveDecision> {
    if !balancing.enable {
        reasons.push(Reason::BalancingDisabled);
    }
    if let Some(nodes) = psi_gate {
        reasons.push(Reason::PsiBalancingDeactivatedPrePve9 {
            nodes: nodes.to_vec(),
        });
    }
    if balancing.balance_types.is_empty() {
        reasons.push(Reason::NoBalanceTypes);
    }
    if dry_run {
        reasons.push(Reason::DryRun);
    }
    let filtered: Vec<String> = outcome
        .moves
        .iter()
        .filter(|m| !type_allowed(balancing, m.kind))
        .map(|m| m.guest.clone())
        .collect();
    if !filtered.is_empty() && !balancing.balance_types.is_empty() {
        reasons.push(Reason::TypeNotInBalanceTypes { guests: filtered });
    }
    let runs_migrations = effective_enable && !dry_run;
    outcome
        .moves
        .iter()
        .map(|m| MoveDecision {
            planned: m.clone(),
            issued: runs_migrations && type_allowed(balancing, m.kind),
        })
        .collect()
}
