//! Why ProxLB does (not) balance, why each planned move goes where it goes, and why any guest is
//! (not) moved, as typed data built from an [`Evaluation`](super::decision::Evaluation). Sentences are written in
//! [`crate::explain`]; these types carry the numbers.
//!
//! Node values are the numbers `get_most_free_node` compares (`proxlb/models/calculations.py:269`):
//! used or assigned percent of the method, or full-pressure spikes in psi mode.

mod cluster;
mod guest;
mod moves;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use cluster::{MethodCheck, NodeBar, NodeLoads, NodeValue, PassTrigger};
pub use guest::{GuestOutcome, NotMovedReason};
pub use moves::{GuestChoice, TargetChoice, TargetRule};

use super::cluster::GuestKind;
use super::config::{Mode, Resource};
use super::decision::{MoveDecision, QuirkNote, Reason};
use super::rules::RuleSource;

/// Why balancing is (not) needed now, per method, with the node loads before and after the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterExplanation {
    /// Configured method.
    pub method: Resource,
    /// Configured mode.
    pub mode: Mode,
    /// `get_balanciness` said balancing is needed (configured method).
    pub needed: bool,
    /// What made the relocation pass run (empty: it did not run).
    pub pass_triggers: Vec<PassTrigger>,
    /// At least one migration would be issued.
    pub would_balance: bool,
    /// The balance test for every method in the configured mode (the configured one is `active`).
    pub checks: Vec<MethodCheck>,
    /// The decision's reasons, triggers first.
    pub reasons: Vec<Reason>,
    /// Quirks that shaped the answer.
    pub notes: Vec<QuirkNote>,
    /// What `-b` would print.
    pub best_node: Option<String>,
    /// Nodes ProxLB does not collect (offline or in `ignore_nodes`).
    pub excluded_nodes: Vec<CandidateVerdict>,
}

/// Why a node was not (or was) the target for a guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateVerdict {
    /// Node.
    pub node: String,
    /// This node was chosen.
    pub chosen: bool,
    /// The node's value when the choice was made (`None` for nodes ProxLB does not collect).
    pub value: Option<f64>,
    /// Why it was not chosen (empty for the chosen node). Several can apply; the first one is
    /// the one that decided.
    pub rejections: Vec<Rejection>,
}

/// Why a candidate node was rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rejection", rename_all = "snake_case")]
pub enum Rejection {
    /// The guest is already there.
    CurrentNode,
    /// The node is in maintenance.
    Maintenance,
    /// The node is listed in `proxmox_cluster.ignore_nodes`.
    IgnoredNode,
    /// The node is offline, so ProxLB does not collect it.
    Offline,
    /// The guest's pins allow other nodes only.
    PinnedElsewhere {
        /// Nodes the pins allow.
        pins: Vec<String>,
    },
    /// A member of the guest's anti-affinity group was already assigned this node.
    AntiAffinityUsed,
    /// Anti-affinity takes the first unused node in `/nodes` order, which was another one.
    AntiAffinityNodeOrder {
        /// The node anti-affinity took.
        picked: String,
    },
    /// The guest's affinity group lives on other nodes (new guests only).
    AffinityGroupElsewhere {
        /// Group.
        group: String,
        /// Nodes of its members.
        nodes: Vec<String>,
    },
    /// Not enough free memory for the guest.
    NotEnoughMemory {
        /// Bytes needed.
        needed: f64,
        /// Bytes free.
        free: f64,
    },
    /// Enough memory without `node_resource_reserve`, not with it.
    Reserve {
        /// Bytes needed.
        needed: f64,
        /// Bytes free after the reservation.
        free: f64,
        /// GiB reserved.
        reserved_gib: i64,
    },
    /// More cores requested than the node has (new guests only).
    TooManyCores {
        /// Cores requested.
        cores: u32,
        /// Cores of the node.
        node_cores: f64,
    },
    /// Not enough free disk (new guests only; the node's root filesystem as ProxLB reads it).
    NotEnoughDisk {
        /// Bytes needed.
        needed: f64,
        /// Bytes free.
        free: f64,
    },
    /// Another node had a lower value (ties go to the first node in `/nodes` order).
    NotMostFree {
        /// This node's value.
        value: f64,
        /// The chosen node's value.
        chosen_value: f64,
    },
}

/// A ProxLB quirk at the place it changed this guest's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "quirk", rename_all = "snake_case")]
pub enum QuirkAt {
    /// ProxLB uses only the guest's last affinity group (`groups.py:66-67`).
    LastAffinityGroupWins {
        /// The group used.
        used: String,
        /// Groups without effect.
        shadowed: Vec<String>,
    },
    /// A stored pin equals no node name exactly (e.g. an HA node entry `pve1:2`), so it never
    /// matches.
    PinNeverMatches {
        /// The pin.
        pin: String,
        /// Where it comes from.
        source: RuleSource,
    },
    /// A pin names a node ProxLB does not know; it is not applied.
    PinToUnknownNode {
        /// The node named.
        node: String,
        /// Where it comes from.
        source: RuleSource,
    },
    /// Memory was checked on the most free node, but anti-affinity or a pin then chose another.
    MemoryCheckedOnOtherNode {
        /// Node checked.
        checked: String,
        /// Node chosen.
        target: String,
    },
    /// The maintenance evacuation ignores pins and anti-affinity.
    EvacuationIgnoresRules,
    /// The guest is ignored, yet its figures were moved in the projection.
    IgnoredGuestShiftsFigures {
        /// Node its figures were moved to.
        node: String,
    },
    /// The "fullest node" test uses used percent even in assigned mode.
    FullestTestUsesUsedPercent,
    /// Psi mode: this turn moved the figures of the previous guest again.
    PsiMovedPreviousGuest {
        /// That guest.
        guest: String,
    },
    /// A guest on a maintenance node was evacuated and processed again by the relocation pass,
    /// so its node's figures were taken off twice.
    EvacuatedTwice,
}

/// Why one planned move happens, with every other candidate node's rejection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoveExplanation {
    /// The move.
    pub planned: MoveDecision,
    /// Why this guest.
    pub why_guest: GuestChoice,
    /// Why this target.
    pub why_target: TargetChoice,
    /// Every node, target first, then in `/nodes` order.
    pub candidates: Vec<CandidateVerdict>,
    /// Why no migration request would be sent (empty when it would).
    pub not_issued: Vec<Reason>,
    /// Quirks at this move.
    pub quirks: Vec<QuirkAt>,
}

/// Why any guest is (not) moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestExplanation {
    /// Guest id.
    pub vmid: u32,
    /// Name.
    pub name: String,
    /// VM or CT.
    pub kind: GuestKind,
    /// Current node.
    pub node: String,
    /// Moved or not, and why.
    pub outcome: GuestOutcome,
    /// Quirks that apply to this guest.
    pub quirks: Vec<QuirkAt>,
}
