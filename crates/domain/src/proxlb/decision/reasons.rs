//! The typed reasons and quirk notes a [`super::Decision`] carries.

use serde::{Deserialize, Serialize};

use crate::proxlb::config::{Mode, Resource};
use crate::proxlb::rules::Violation;

/// Whether a reason causes, prevents or only explains balancing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonEffect {
    /// Makes ProxLB plan migrations.
    Triggers,
    /// Stops migrations from being issued.
    Prevents,
    /// A check that passed without triggering.
    Informs,
}

/// One reason behind the decision, with the numbers involved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// `highest − lowest > balanciness` (used/assigned modes).
    SpreadAboveBalanciness {
        /// Resource.
        method: Resource,
        /// Mode.
        mode: Mode,
        /// Difference in percentage points.
        spread: f64,
        /// Allowed spread.
        balanciness: i64,
        /// Highest node.
        highest_node: String,
        /// Its value.
        highest: f64,
        /// Lowest node.
        lowest_node: String,
        /// Its value.
        lowest: f64,
    },
    /// The spread is within `balanciness`.
    SpreadWithinBalanciness {
        /// Resource.
        method: Resource,
        /// Mode.
        mode: Mode,
        /// Difference in percentage points.
        spread: f64,
        /// Allowed spread.
        balanciness: i64,
    },
    /// The highest node reaches the resource threshold.
    ThresholdReached {
        /// Resource.
        method: Resource,
        /// Threshold, percent.
        threshold: i64,
        /// Highest node.
        node: String,
        /// Its value.
        value: f64,
    },
    /// The highest node stays below the threshold.
    ThresholdNotReached {
        /// Resource.
        method: Resource,
        /// Threshold, percent.
        threshold: i64,
        /// Highest node.
        node: String,
        /// Its value.
        value: f64,
    },
    /// A node is hot for `method` (psi mode).
    NodePressureHot {
        /// Node.
        node: String,
        /// Resource.
        method: Resource,
    },
    /// A guest is hot for `method` (psi mode).
    GuestPressureHot {
        /// Guest.
        guest: String,
        /// Resource.
        method: Resource,
    },
    /// Psi mode and nothing is hot.
    NoPressure {
        /// Resource.
        method: Resource,
    },
    /// Current affinity/anti-affinity violations set `enforce_affinity`.
    AffinityViolated {
        /// The violations.
        violations: Vec<Violation>,
    },
    /// `enforce_affinity` stayed true from the config (only through ProxLB's last-guest quirk).
    EnforceAffinityConfigured,
    /// `enforce_pinning` forces the relocation pass.
    EnforcePinning,
    /// Guests on a maintenance node are moved away.
    MaintenanceEvacuation {
        /// Node.
        node: String,
        /// Guests (ignored ones excluded: they are never moved).
        guests: Vec<String>,
    },
    /// `balancing.enable` is false: the calculation runs, no migration is issued.
    BalancingDisabled,
    /// Psi mode with a node below PVE 9: ProxLB switches balancing off.
    PsiBalancingDeactivatedPrePve9 {
        /// Nodes below PVE 9 with their versions.
        nodes: Vec<(String, String)>,
    },
    /// `balance_types` is empty: no guest is ever migrated.
    NoBalanceTypes,
    /// Planned moves of types not in `balance_types`.
    TypeNotInBalanceTypes {
        /// Guests.
        guests: Vec<String>,
    },
    /// `-d` given.
    DryRun,
    /// No node outside maintenance: ProxLB skips the run.
    NoTargetNode,
    /// The relocation pass ran but planned no migration.
    NothingToMove,
}

impl Reason {
    /// Whether the reason triggers, prevents or only explains.
    pub fn effect(&self) -> ReasonEffect {
        match self {
            Reason::SpreadAboveBalanciness { .. }
            | Reason::ThresholdReached { .. }
            | Reason::NodePressureHot { .. }
            | Reason::GuestPressureHot { .. }
            | Reason::AffinityViolated { .. }
            | Reason::EnforceAffinityConfigured
            | Reason::EnforcePinning
            | Reason::MaintenanceEvacuation { .. } => ReasonEffect::Triggers,
            Reason::BalancingDisabled
            | Reason::PsiBalancingDeactivatedPrePve9 { .. }
            | Reason::NoBalanceTypes
            | Reason::TypeNotInBalanceTypes { .. }
            | Reason::DryRun
            | Reason::NoTargetNode
            | Reason::NothingToMove => ReasonEffect::Prevents,
            Reason::SpreadWithinBalanciness { .. }
            | Reason::ThresholdNotReached { .. }
            | Reason::NoPressure { .. } => ReasonEffect::Informs,
        }
    }
}

/// A ProxLB quirk that shaped this answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "quirk", rename_all = "snake_case")]
pub enum QuirkNote {
    /// `enforce_affinity` is recomputed every run; the configured value was replaced.
    EnforceAffinityOverwritten {
        /// Configured.
        configured: bool,
        /// Effective.
        effective: bool,
    },
    /// The only violating guest was the last one, so the configured value survived.
    EnforceAffinityKeptByLastGuest {
        /// That guest.
        guest: String,
    },
    /// A threshold of 0 counts as unset.
    ThresholdZeroIgnored {
        /// Resource.
        method: Resource,
    },
    /// Maintenance nodes still count in the spread.
    MaintenanceNodesCountInSpread {
        /// Nodes.
        nodes: Vec<String>,
    },
    /// The spread was measured on the projection after the maintenance evacuation.
    SpreadMeasuredAfterEvacuation,
    /// Memory used% ignores `node_resource_reserve` until a move is planned.
    ReservationNotInUsedPercent {
        /// Nodes with a reservation.
        nodes: Vec<String>,
    },
    /// A reservation larger than the node's memory is not applied.
    ReservationTooLarge {
        /// Node.
        node: String,
        /// GiB configured.
        gib: i64,
    },
    /// `node_resource_reserve` entries for cpu or disk have no effect in 2.3.0.
    ReservationOnlyMemory,
    /// Node CPU "full" pressure is hard-coded to 0.
    NodeCpuFullPressureAlwaysZero,
    /// Psi mode without a `psi` block: nothing is ever hot.
    PsiWithoutThresholds,
    /// `with_conntrack_state` is switched off (a node runs PVE < 9).
    ConntrackDisabledPrePve9,
    /// HA rules are not read (a node runs PVE < 9).
    HaRulesSkippedPrePve9,
    /// Ignored guests shift the projection (evacuated from maintenance or relocated by the
    /// balancing pass) but are never migrated.
    IgnoredGuestsShiftProjection {
        /// Guests.
        guests: Vec<String>,
    },
    /// In assigned mode the relocation pass still stops on used%.
    AssignedModeStopsOnUsedPercent,
    /// Anti-affinity targets are the first unused nodes in `/nodes` order, not the most free ones.
    AntiAffinityTargetsInNodeOrder,
    /// `overprovisioning` is parsed but not read.
    OverprovisioningNotRead,
    /// `enable_ha`: ProxLB only runs on the host named like the HA master node.
    EnableHaRequiresMasterHost,
    /// The solver in active mode drives migrations; this answer is the greedy plan.
    SolverActiveMode,
    /// A node version ProxLB cannot parse (ProxLB would crash).
    UnparsablePveVersion {
        /// Node.
        node: String,
        /// Version text.
        version: String,
    },
    /// Guests share names; ProxLB keeps only one per name.
    DuplicateGuestNames {
        /// Names.
        names: Vec<String>,
    },
}
