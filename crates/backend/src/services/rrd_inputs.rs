//! ProxLB's RRD inputs, fetched in the background at a capped request rate.
//!
//! ProxLB 2.3.0 takes a guest's CPU from the mean of its last hour of RRD `cpu` values and every
//! PSI figure (guest and node) from RRD: `GET …/rrddata?timeframe=hour&cf=AVERAGE` for means and
//! `cf=MAX` for spikes, two requests per running guest and per node on every run
//! (`proxlb/models/guests.py:199-281`, `proxlb/models/nodes.py:204-279`). Fetching that on
//! every poll would cost tens of thousands of requests per cycle on a 10,000-guest cluster, so
//! the poller keeps the last figures per subject and refreshes at most
//! [`SnapshotConfig::rrd_budget`](super::snapshot::SnapshotConfig::rrd_budget) requests per
//! cycle, subjects never fetched first, then the oldest. [`RrdInputs::status`] says how many
//! running guests have figures and how old the oldest are, so the UI can show it.
//!
//! Where the inputs still differ from ProxLB's: a figure is up to one refresh round old (ProxLB
//! fetches all of them at the start of its run), a guest without figures yet falls back to the
//! instantaneous CPU of `/cluster/resources` and no PSI, and memory/disk usage come from
//! `/cluster/resources` (ProxLB reads `/nodes/{node}/{qemu|lxc}`; both are PVE's same status).

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};
use plb_domain::proxlb::cluster::{Pressure, PsiSet};
use plb_domain::proxlb::usage::{rrd_average, rrd_spike};

use crate::ports::PveApi;
use crate::pve_wire::dto::{
    ClusterResource, GuestKind, GuestRrdPoint, NodeRrdPoint, RrdCf, RrdTimeframe,
};

/// Requests per cycle by default: 32 subjects (guest or node) per 10 s cycle, so a
/// 10,000-guest cluster is refreshed about every 52 minutes (ProxLB's own window is the last
/// hour) and a small cluster on every cycle.
pub const DEFAULT_RRD_BUDGET: usize = 64;

/// Requests in flight at once.
const CONCURRENCY: usize = 8;

/// What ProxLB would read for one guest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuestInputs {
    /// Mean CPU fraction of the last hour (ProxLB's `cpu.used`).
    pub cpu: f64,
    /// PSI figures.
    pub psi: PsiSet,
    /// When they were fetched (UNIX seconds).
    pub fetched_at_unix: u64,
}

/// What ProxLB would read for one node (its PSI; CPU and memory come from `/nodes`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeInputs {
    /// PSI figures (CPU "full" is 0 as in ProxLB).
    pub psi: PsiSet,
    /// When they were fetched (UNIX seconds).
    pub fetched_at_unix: u64,
}

/// The RRD figures the poller holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RrdInputs {
    /// By vmid (guests that are running now).
    pub guests: BTreeMap<u32, GuestInputs>,
    /// By node name (online nodes).
    pub nodes: BTreeMap<String, NodeInputs>,
    /// Requests sent in the last cycle.
    pub requests_last_cycle: usize,
}

/// How complete and how old the RRD inputs are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct InputsStatus {
    /// Running guests.
    pub running_guests: usize,
    /// Running guests with RRD figures.
    pub guests_covered: usize,
    /// Online nodes with RRD figures.
    pub nodes_covered: usize,
    /// Fetch time of the oldest figure in use (UNIX seconds), `None` when there is none.
    pub oldest_unix: Option<u64>,
}

impl InputsStatus {
    /// Age of the oldest figure in use at `now_unix` (seconds).
    pub fn inputs_age(&self, now_unix: u64) -> Option<u64> {
        self.oldest_unix.map(|t| now_unix.saturating_sub(t))
    }

    /// Every running guest has figures.
    pub fn complete(&self) -> bool {
        self.guests_covered == self.running_guests
    }
}

impl RrdInputs {
    /// Coverage and age for the given running guests.
    pub fn status(&self, running: &[u32]) -> InputsStatus {
        let guests: Vec<&GuestInputs> = running.iter().filter_map(|v| self.guests.get(v)).collect();
        let oldest = guests
            .iter()
            .map(|g| g.fetched_at_unix)
            .chain(self.nodes.values().map(|n| n.fetched_at_unix))
            .min();
        InputsStatus {
            running_guests: running.len(),
            guests_covered: guests.len(),
            nodes_covered: self.nodes.len(),
            oldest_unix: oldest,
        }
    }
}

/// ProxLB's reduction of one PSI column: mean of AVERAGE (Σ present ÷ all rows), spike of MAX.
fn pressure<P>(
    average: &[P],
    max: &[P],
    some: impl Fn(&P) -> Option<f64>,
    full: impl Fn(&P) -> Option<f64>,
) -> Pressure {
    let col = |rows: &[P], f: &dyn Fn(&P) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    Pressure {
        some: rrd_average(&col(average, &some)),
        full: rrd_average(&col(average, &full)),
        some_spikes: rrd_spike(&col(max, &some)),
        full_spikes: rrd_spike(&col(max, &full)),
    }
}

/// A guest's inputs from its AVERAGE and MAX series.
pub fn guest_inputs(average: &[GuestRrdPoint], max: &[GuestRrdPoint], at: u64) -> GuestInputs {
    let cpu: Vec<Option<f64>> = average.iter().map(|p| p.cpu).collect();
    GuestInputs {
        cpu: rrd_average(&cpu),
        psi: PsiSet {
            cpu: pressure(average, max, |p| p.pressurecpusome, |p| p.pressurecpufull),
            memory: pressure(
                average,
                max,
                |p| p.pressurememorysome,
                |p| p.pressurememoryfull,
            ),
            io: pressure(average, max, |p| p.pressureiosome, |p| p.pressureiofull),
        },
        fetched_at_unix: at,
    }
}

/// A node's inputs; its CPU "full" pressure is 0, as ProxLB hard-codes it
/// (`proxlb/models/nodes.py:96-98`).
pub fn node_inputs(average: &[NodeRrdPoint], max: &[NodeRrdPoint], at: u64) -> NodeInputs {
    NodeInputs {
        psi: PsiSet {
            cpu: pressure(average, max, |p| p.pressurecpusome, |_| Some(0.0)),
            memory: pressure(
                average,
                max,
                |p| p.pressurememorysome,
                |p| p.pressurememoryfull,
            ),
            io: pressure(average, max, |p| p.pressureiosome, |p| p.pressureiofull),
        },
        fetched_at_unix: at,
    }
}

#[derive(Clone, Debug)]
enum Subject {
    Node(String),
    Guest {
        vmid: u32,
        node: String,
        kind: GuestKind,
    },
}

/// One refresh round: keeps `previous` figures of subjects that still exist, then fetches up to
/// `budget` requests' worth (2 per subject), never-fetched subjects first, then the oldest.
/// Failed fetches keep the old figures (and are retried next cycle as the oldest).
pub async fn refresh(
    api: &dyn PveApi,
    previous: Option<&RrdInputs>,
    resources: &[ClusterResource],
    budget: usize,
    now_unix: u64,
) -> RrdInputs {
    let online: Vec<String> = resources
        .iter()
        .filter(|r| r.is_node() && r.is_online())
        .filter_map(|r| r.node.clone())
        .collect();
    let running: Vec<(u32, String, GuestKind)> = resources
        .iter()
        .filter(|r| !r.template && r.status.as_deref() == Some("running"))
        .filter_map(|r| Some((r.vmid?, r.node.clone()?, GuestKind::of_resource(&r.kind)?)))
        .collect();
    let mut out = RrdInputs::default();
    if let Some(prev) = previous {
        for node in &online {
            if let Some(n) = prev.nodes.get(node) {
                out.nodes.insert(node.clone(), *n);
            }
        }
        for (vmid, _, _) in &running {
            if let Some(g) = prev.guests.get(vmid) {
                out.guests.insert(*vmid, *g);
            }
        }
    }
    // Oldest first; never fetched counts as oldest (0); ties in a stable order.
    let mut queue: Vec<(u64, Subject)> = online
        .iter()
        .map(|n| {
            let at = out.nodes.get(n).map_or(0, |x| x.fetched_at_unix);
            (at, Subject::Node(n.clone()))
        })
        .chain(running.iter().map(|(vmid, node, kind)| {
            let at = out.guests.get(vmid).map_or(0, |x| x.fetched_at_unix);
            (
                at,
                Subject::Guest {
                    vmid: *vmid,
                    node: node.clone(),
                    kind: *kind,
                },
            )
        }))
        .collect();
    // Stable: equally old subjects keep nodes-then-guests order.
    queue.sort_by_key(|(at, _)| *at);
    queue.truncate(budget / 2);
    out.requests_last_cycle = queue.len() * 2;

    enum Fetched {
        Node(String, Option<NodeInputs>),
        Guest(u32, Option<GuestInputs>),
    }
    let results: Vec<Fetched> = stream::iter(queue.into_iter().map(|(_, subject)| async move {
        let hour = RrdTimeframe::Hour;
        match subject {
            Subject::Node(node) => {
                let (avg, max) = tokio::join!(
                    api.node_rrddata(&node, hour, RrdCf::Average),
                    api.node_rrddata(&node, hour, RrdCf::Max)
                );
                let inputs = match (avg, max) {
                    (Ok(avg), Ok(max)) => Some(node_inputs(&avg, &max, now_unix)),
                    _ => None,
                };
                Fetched::Node(node, inputs)
            }
            Subject::Guest { vmid, node, kind } => {
                let (avg, max) = tokio::join!(
                    api.guest_rrddata(&node, kind, vmid, hour, RrdCf::Average),
                    api.guest_rrddata(&node, kind, vmid, hour, RrdCf::Max)
                );
                let inputs = match (avg, max) {
                    (Ok(avg), Ok(max)) => Some(guest_inputs(&avg, &max, now_unix)),
                    _ => None,
                };
                Fetched::Guest(vmid, inputs)
            }
        }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect()
    .await;
    for result in results {
        match result {
            Fetched::Node(node, Some(inputs)) => {
                out.nodes.insert(node, inputs);
            }
            Fetched::Guest(vmid, Some(inputs)) => {
                out.guests.insert(vmid, inputs);
            }
            // Keep the previous figures; the subject stays oldest and is retried next cycle.
            Fetched::Node(..) | Fetched::Guest(..) => {}
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn point(cpu: Option<f64>, some: Option<f64>) -> GuestRrdPoint {
        GuestRrdPoint {
            cpu,
            pressurecpusome: some,
            ..GuestRrdPoint::default()
        }
    }

    #[test]
    fn guest_figures_are_reduced_like_proxlb() {
        // Mean over all rows, missing values count as rows (ProxLB divides by len()).
        let avg = [
            point(Some(0.2), Some(1.0)),
            point(None, None),
            point(Some(0.4), Some(2.0)),
        ];
        let max: Vec<GuestRrdPoint> = (0..8).map(|i| point(None, Some(f64::from(i)))).collect();
        let g = guest_inputs(&avg, &max, 7);
        assert!((g.cpu - 0.2).abs() < 1e-12);
        assert!((g.psi.cpu.some - 1.0).abs() < 1e-12);
        // Spike: max of the last 6 present values.
        assert_eq!(g.psi.cpu.some_spikes, 7.0);
        assert_eq!(g.fetched_at_unix, 7);
    }

    #[test]
    fn status_reports_coverage_and_the_oldest_figure() {
        let mut inputs = RrdInputs::default();
        let g = guest_inputs(&[point(Some(0.5), None)], &[], 100);
        inputs.guests.insert(101, g);
        inputs.guests.insert(
            102,
            GuestInputs {
                fetched_at_unix: 40,
                ..g
            },
        );
        let status = inputs.status(&[101, 102, 103]);
        assert_eq!(status.running_guests, 3);
        assert_eq!(status.guests_covered, 2);
        assert!(!status.complete());
        assert_eq!(status.inputs_age(100), Some(60));
        assert_eq!(RrdInputs::default().status(&[]).inputs_age(5), None);
    }
}
