//! Step 2: is balancing needed? The reasons from `get_balanciness`
//! (`proxlb/models/calculations.py:176-266`) and from the enforce flags that run the relocation
//! pass even in a balanced cluster (`validate_affinity_map`, :680; `enforce_pinning`).

use super::{QuirkNote, Reason};
use crate::proxlb::config::{BalancingConfig, Mode};
use crate::proxlb::plan::{BalanceCheck, EnforceAffinity};
use crate::proxlb::rules::Violation;

/// Reasons from one `get_balanciness` evaluation.
pub(super) fn check_reasons(check: &BalanceCheck, reasons: &mut Vec<Reason>) {
    let method = check.method;
    if check.mode == Mode::Psi {
        for node in &check.hot_nodes {
            reasons.push(Reason::NodePressureHot {
                node: node.clone(),
                method,
            });
        }
        for guest in &check.hot_guests {
            reasons.push(Reason::GuestPressureHot {
                guest: guest.clone(),
                method,
            });
        }
        if !check.balance {
            reasons.push(Reason::NoPressure { method });
        }
        return;
    }
    if let Some(t) = &check.threshold {
        let (threshold, node, value) = (t.threshold, t.node.clone(), t.value);
        reasons.push(if t.reached {
            Reason::ThresholdReached {
                method,
                threshold,
                node,
                value,
            }
        } else {
            Reason::ThresholdNotReached {
                method,
                threshold,
                node,
                value,
            }
        });
    }
    if let Some(s) = &check.spread {
        reasons.push(if check.spread_exceeds {
            Reason::SpreadAboveBalanciness {
                method,
                mode: check.mode,
                spread: s.spread,
                balanciness: check.balanciness,
                highest_node: s.highest_node.clone(),
                highest: s.highest,
                lowest_node: s.lowest_node.clone(),
                lowest: s.lowest,
            }
        } else {
            Reason::SpreadWithinBalanciness {
                method,
                mode: check.mode,
                spread: s.spread,
                balanciness: check.balanciness,
            }
        });
    }
}

/// Reasons and notes from the enforce flags.
pub(super) fn enforce_reasons(
    enforce: &EnforceAffinity,
    violations: &[Violation],
    balancing: &BalancingConfig,
    reasons: &mut Vec<Reason>,
    notes: &mut Vec<QuirkNote>,
) {
    if enforce.effective && !violations.is_empty() && !enforce.kept_configured_by_last_guest {
        reasons.push(Reason::AffinityViolated {
            violations: violations.to_vec(),
        });
    } else if enforce.effective {
        reasons.push(Reason::EnforceAffinityConfigured);
    }
    if enforce.configured != enforce.effective {
        notes.push(QuirkNote::EnforceAffinityOverwritten {
            configured: enforce.configured,
            effective: enforce.effective,
        });
    }
    if enforce.kept_configured_by_last_guest {
        if let Some(guest) = &enforce.first_violating_guest {
            notes.push(QuirkNote::EnforceAffinityKeptByLastGuest {
                guest: guest.clone(),
            });
        }
    }
    if balancing.enforce_pinning {
        reasons.push(Reason::EnforcePinning);
    }
}
