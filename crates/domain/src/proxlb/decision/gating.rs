//! Step 1 after collection: ProxLB's feature gating (`proxlb/models/features.py:49-93`). A node
//! below PVE 9 switches off conntrack migrations and HA rules, and in psi mode balancing itself.

use serde::{Deserialize, Serialize};

use super::QuirkNote;
use crate::proxlb::cluster::PveVersion;
use crate::proxlb::config::{BalancingConfig, Mode};
use crate::proxlb::plan::EnforceAffinity;
use crate::proxlb::rules::ProxlbView;

/// Feature flags after ProxLB's version gating and overwrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveSettings {
    /// `balancing.enable` after gating.
    pub enable: bool,
    /// `with_conntrack_state` after gating.
    pub with_conntrack_state: bool,
    /// `enforce_affinity` after `validate_affinity_map` (configured value when the pass is skipped).
    pub enforce_affinity: bool,
    /// HA rules are read.
    pub ha_rules_read: bool,
}

/// What the version gate found.
pub(super) struct Gate {
    /// Kept nodes below PVE 9 (or unparsable), with their versions.
    pub old_nodes: Vec<(String, String)>,
    /// Psi mode switched balancing off.
    pub psi_gated: bool,
    /// Notes from the gate (unparsable versions).
    pub notes: Vec<QuirkNote>,
}

/// Checks every kept node's version the way `features.py` does.
pub(super) fn gate(view: &ProxlbView, balancing: &BalancingConfig) -> Gate {
    let mut notes = Vec::new();
    let mut old_nodes = Vec::new();
    for n in &view.nodes {
        let version = PveVersion::parse(&n.node.pve_version);
        if version.is_none() {
            notes.push(QuirkNote::UnparsablePveVersion {
                node: n.node.name.clone(),
                version: n.node.pve_version.clone(),
            });
        }
        if !version.is_some_and(|v| v.is_pve9()) {
            old_nodes.push((n.node.name.clone(), n.node.pve_version.clone()));
        }
    }
    Gate {
        old_nodes,
        psi_gated: view.cluster_non_pve9 && balancing.mode == Mode::Psi,
        notes,
    }
}

impl Gate {
    /// The settings a run works with, once `validate_affinity_map` has overwritten
    /// `enforce_affinity` (`None`: the calculation was skipped, the configured value stays).
    pub fn effective(
        &self,
        view: &ProxlbView,
        balancing: &BalancingConfig,
        enforce: Option<&EnforceAffinity>,
    ) -> EffectiveSettings {
        EffectiveSettings {
            enable: balancing.enable && !self.psi_gated,
            with_conntrack_state: balancing.with_conntrack_state && !view.cluster_non_pve9,
            enforce_affinity: enforce.map_or(balancing.enforce_affinity, |e| e.effective),
            ha_rules_read: !view.cluster_non_pve9,
        }
    }
}
