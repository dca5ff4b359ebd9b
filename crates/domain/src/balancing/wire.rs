//! What the Balancing endpoints and server functions answer (JSON shapes shared with the
//! browser).

use serde::{Deserialize, Serialize};

use super::answer::{BalancingPlan, NodeState};
use super::run_now::{RunRefusal, RunStart};
use super::settings::{BalancingSettings, FieldError};
use crate::proxlb::ProxLbConfig;

/// The settings as saved, with what the form needs around them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    /// The settings.
    pub settings: BalancingSettings,
    /// Digest of the file they were read from (send it back with a save).
    pub digest: String,
    /// Why the file cannot be written, if it cannot.
    pub read_only: Option<String>,
    /// The cluster reports pressure (PSI) figures: PSI mode is offered.
    pub pressure_reported: bool,
    /// Why "run now" would be refused now, if it would.
    pub run_refusal: Option<RunRefusal>,
    /// Every node's maintenance and ignore state now (empty without a snapshot), for the
    /// what-if's per-node toggles.
    #[serde(default)]
    pub nodes: Vec<NodeState>,
}

/// A candidate for the what-if: settings, and optionally other maintenance or ignore lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The candidate settings.
    pub settings: BalancingSettings,
    /// `proxmox_cluster.maintenance_nodes` instead of the file's.
    #[serde(default)]
    pub maintenance_nodes: Option<Vec<String>>,
    /// `proxmox_cluster.ignore_nodes` instead of the file's.
    #[serde(default)]
    pub ignore_nodes: Option<Vec<String>>,
}

impl Candidate {
    /// `today` with the candidate's settings and node lists (the config the what-if evaluates
    /// and "Ask real ProxLB" compares with).
    pub fn apply_to(&self, today: &ProxLbConfig) -> ProxLbConfig {
        let mut config = self.settings.apply_to(today);
        if let Some(nodes) = &self.maintenance_nodes {
            config.proxmox_cluster.maintenance_nodes = nodes.clone();
        }
        if let Some(nodes) = &self.ignore_nodes {
            config.proxmox_cluster.ignore_nodes = nodes.clone();
        }
        config
    }
}

/// Why a save was refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SaveRefusal {
    /// Values out of range; nothing was written.
    Invalid {
        /// Each bad field.
        fields: Vec<FieldError>,
    },
    /// The file changed since the form was loaded; nothing was written.
    Conflict {
        /// The settings in the file now.
        theirs: Box<BalancingSettings>,
        /// The submitted settings.
        yours: Box<BalancingSettings>,
        /// The file's digest now.
        digest: String,
    },
}

/// A run that was started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    /// Restart or start.
    pub how: RunStart,
    /// The plan ProxLB Web expected it to carry out when it started it.
    pub plan: BalancingPlan,
}
