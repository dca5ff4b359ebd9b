//! A record of the relocation pass (`relocate_guests`, `proxlb/models/calculations.py:385-496`)
//! kept while [`super::plan::simulate`] runs, so every planned move (and every guest that was not
//! moved) can be explained with the figures ProxLB saw at that moment.
//!
//! Node and guest positions are indexes into [`super::rules::ProxlbView::nodes`] and
//! [`super::rules::ProxlbView::guests`]. Recording costs little: a guest whose node was not the
//! fullest gets two numbers; only guests that reached target selection get a copy of the node
//! figures (one per node).

use super::config::{Mode, Resource};
use super::usage::{first_min_by, NodeUsage};

/// What one node looked like when a guest's target was chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepNode {
    /// The value `get_most_free_node` compares (method and mode).
    pub value: f64,
    /// Used percent of the method (the "fullest node" test uses this in every mode).
    pub used_percent: f64,
    /// Free memory, bytes (after the reservation once a move touched the node).
    pub memory_free: f64,
    /// Memory total after the reservation, bytes.
    pub memory_total: f64,
    /// Memory used, bytes.
    pub memory_used: f64,
    /// In maintenance.
    pub maintenance: bool,
}

/// How a guest's turn in the relocation pass ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepOutcome {
    /// Its node was no longer the fullest: the rest of its group was skipped.
    NotFullest {
        /// The fullest node at that moment.
        fullest: Option<usize>,
        /// Its used percent of the method.
        fullest_used_percent: f64,
        /// The guest's node's used percent of the method.
        source_used_percent: f64,
    },
    /// The most free node lacked memory for it (`validate_node_resources`): skipped.
    SkippedMemory,
    /// Psi mode: it was not the unprocessed guest with the highest pressure spikes.
    PsiNotTop,
    /// A target was assigned (possibly its own node).
    Assigned,
}

/// One guest's turn in the relocation pass.
#[derive(Clone, Debug, PartialEq)]
pub struct RelocationStep {
    /// The guest.
    pub guest: usize,
    /// Processing rank of its affinity group.
    pub group: usize,
    /// Its current node.
    pub source: usize,
    /// How the turn ended.
    pub outcome: StepOutcome,
    /// The most free node when the turn started (memory was checked against it).
    pub most_free: Option<usize>,
    /// Node figures when the turn started (empty for [`StepOutcome::NotFullest`]).
    pub nodes: Vec<StepNode>,
    /// Nodes its anti-affinity groups had used before this turn.
    pub anti_used: Vec<usize>,
    /// The node anti-affinity assigned (`None`: no anti-affinity group of 2 or more).
    pub anti_pick: Option<usize>,
    /// The node list its pins allowed (after a non-strict pin added the most free node).
    pub pin_relation: Vec<String>,
    /// The node whose figures received the update (`next_node` after all rules).
    pub target: Option<usize>,
    /// The guest whose figures were moved (psi mode can move the previous guest again).
    pub updated_guest: Option<usize>,
}

/// An affinity group in processing order.
#[derive(Clone, Debug, PartialEq)]
pub struct TracedGroup {
    /// Group name (`None`: the guest's own singleton group).
    pub name: Option<String>,
    /// Members in ProxLB's order.
    pub guests: Vec<usize>,
    /// Summed memory used, bytes (the sort key after the member count).
    pub memory_used: f64,
}

/// Everything the relocation pass did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanTrace {
    /// Affinity groups in processing order (empty when the pass did not run).
    pub groups: Vec<TracedGroup>,
    /// Every guest turn, in order.
    pub steps: Vec<RelocationStep>,
    /// Guests moved off maintenance nodes, before the relocation pass (`group` is 0; the target
    /// is the most free node among all nodes, pins and anti-affinity are not consulted).
    pub evacuations: Vec<RelocationStep>,
    /// The pass stopped before this group rank because balancing was no longer needed.
    pub stopped_before_group: Option<usize>,
    /// Method and mode of the run.
    pub method: Resource,
    /// Mode of the run.
    pub mode: Mode,
}

impl PlanTrace {
    /// Records the group order after sorting.
    pub fn set_groups(&mut self, groups: Vec<TracedGroup>) {
        self.groups = groups;
    }

    /// Records a turn that ended because the guest's node was not the fullest.
    pub fn not_fullest(
        &mut self,
        guest: usize,
        group: usize,
        source: usize,
        fullest: Option<usize>,
        nodes: &[NodeUsage],
    ) {
        let method = self.method;
        let pct = |i: usize| {
            nodes
                .get(i)
                .map_or(0.0, |n| n.resource(method).used_percent)
        };
        self.steps.push(RelocationStep {
            guest,
            group,
            source,
            outcome: StepOutcome::NotFullest {
                fullest,
                fullest_used_percent: fullest.map_or(0.0, pct),
                source_used_percent: pct(source),
            },
            most_free: None,
            nodes: Vec::new(),
            anti_used: Vec::new(),
            anti_pick: None,
            pin_relation: Vec::new(),
            target: None,
            updated_guest: None,
        });
    }

    /// Records a guest leaving a maintenance node (call before choosing its node).
    pub fn evacuation(&mut self, guest: usize, source: usize, nodes: &[NodeUsage]) {
        self.begin(guest, 0, source, nodes, None, StepOutcome::Assigned);
        if let Some(mut step) = self.steps.pop() {
            step.most_free = step.most_free_among(|_| true);
            step.target = step.most_free;
            step.updated_guest = Some(guest);
            self.evacuations.push(step);
        }
    }

    /// Starts a turn that reached target selection; returns its position for [`Self::finish`].
    pub fn begin(
        &mut self,
        guest: usize,
        group: usize,
        source: usize,
        nodes: &[NodeUsage],
        most_free: Option<usize>,
        outcome: StepOutcome,
    ) -> usize {
        let (method, mode) = (self.method, self.mode);
        self.steps.push(RelocationStep {
            guest,
            group,
            source,
            outcome,
            most_free,
            nodes: nodes
                .iter()
                .map(|n| StepNode {
                    value: n.value(method, mode),
                    used_percent: n.resource(method).used_percent,
                    memory_free: n.memory.free,
                    memory_total: n.memory.total,
                    memory_used: n.memory.used,
                    maintenance: n.maintenance,
                })
                .collect(),
            anti_used: Vec::new(),
            anti_pick: None,
            pin_relation: Vec::new(),
            target: None,
            updated_guest: None,
        });
        self.steps.len() - 1
    }

    /// Completes a turn started with [`Self::begin`].
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        &mut self,
        step: usize,
        outcome: StepOutcome,
        anti_used: Vec<usize>,
        anti_pick: Option<usize>,
        pin_relation: &[String],
        target: Option<usize>,
        updated_guest: Option<usize>,
    ) {
        if let Some(s) = self.steps.get_mut(step) {
            s.outcome = outcome;
            s.anti_used = anti_used;
            s.anti_pick = anti_pick;
            s.pin_relation = pin_relation.to_vec();
            s.target = target;
            s.updated_guest = updated_guest;
        }
    }

    /// The turn of a guest (a guest has at most one).
    pub fn step_of(&self, guest: usize) -> Option<&RelocationStep> {
        self.steps.iter().find(|s| s.guest == guest)
    }

    /// Processing rank of the group a guest belongs to.
    pub fn group_of(&self, guest: usize) -> Option<usize> {
        self.groups.iter().position(|g| g.guests.contains(&guest))
    }
}

impl RelocationStep {
    /// The node `get_most_free_node` picks among `allowed` (first lowest value, node order).
    pub fn most_free_among(&self, allowed: impl Fn(usize) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].maintenance && allowed(i))
            .collect();
        first_min_by(candidates.iter().map(|&i| self.nodes[i].value)).map(|k| candidates[k])
    }
}
