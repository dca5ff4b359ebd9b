//! Node and guest figures the way ProxLB computes them (`proxlb/models/nodes.py:73-128`,
//! `proxlb/models/guests.py:84-111`, assigned figures `proxlb/models/calculations.py:72-99`) in
//! every method and mode, PSI "hot" marking (`proxlb/models/calculations.py:102-173`) and the
//! spread that is compared with `balanciness` (`proxlb/models/calculations.py:176-266`).
//!
//! Quirks mirrored from `nodes.py` and `calculations.py`:
//! - `node_resource_reserve` shrinks only the **memory total** (cpu and disk reservations are not
//!   applied), and at first only the *assigned* percentage uses the reduced total: the initial
//!   memory `used_percent` and `free` use the full `maxmem`. Planned moves recompute everything with
//!   the reduced total.
//! - Assigned figures sum `cpus`, `maxmem`, `maxdisk` of every collected (running) guest,
//!   ignored guests included.
//! - A node's CPU `full` pressure (and its spikes) is hard-coded to 0.
//! - Guest CPU "used" is a fraction (RRD mean), not cores.

use serde::{Deserialize, Serialize};

use super::cluster::Pressure;
use super::config::{BalancingConfig, Mode, PsiThreshold, Resource};
use super::rules::{ProxlbView, ViewGuest};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// RRD average as ProxLB reduces it: sum of the present values divided by **all** rows.
pub fn rrd_average(values: &[Option<f64>]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().flatten().sum::<f64>() / values.len() as f64
}

/// RRD spike as ProxLB reduces it: max of the last 6 present values of the MAX series, else 0.
pub fn rrd_spike(values: &[Option<f64>]) -> f64 {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    present[present.len().saturating_sub(6)..]
        .iter()
        .copied()
        .fold(None, |max: Option<f64>, v| {
            Some(max.map_or(v, |m| m.max(v)))
        })
        .unwrap_or(0.0)
}

/// `part / total · 100`, 0 when the total is 0 (ProxLB would divide by zero).
pub fn percent(part: f64, total: f64) -> f64 {
    if total == 0.0 {
        0.0
    } else {
        part / total * 100.0
    }
}

/// Figures of one resource on one node (cores for CPU, bytes otherwise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUsage {
    /// Capacity (memory: after reservation).
    pub total: f64,
    /// In use.
    pub used: f64,
    /// Assigned to running guests.
    pub assigned: f64,
    /// Free.
    pub free: f64,
    /// Used percent.
    pub used_percent: f64,
    /// Assigned percent.
    pub assigned_percent: f64,
    /// Free percent.
    pub free_percent: f64,
    /// Pressure figures.
    pub pressure: Pressure,
    /// Marked hot by the PSI thresholds.
    pub pressure_hot: bool,
}

/// What `node_resource_reserve` did to a node's memory.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reservation", rename_all = "snake_case")]
pub enum Reservation {
    /// Nothing configured (or 0).
    None,
    /// Applied from the node's own entry.
    Node {
        /// GiB taken off.
        gib: i64,
    },
    /// Applied from `defaults`.
    Defaults {
        /// GiB taken off.
        gib: i64,
    },
    /// Configured but larger than the node's memory, so not applied (ProxLB logs CRITICAL).
    TooLarge {
        /// GiB configured.
        gib: i64,
    },
}

/// Memory total after `node_resource_reserve` (only memory is applied in 2.3.0).
/// A node's own entry takes precedence; `defaults` applies only when the node has none (or 0).
pub fn reserved_memory_total(
    node: &str,
    mem_total: u64,
    balancing: &BalancingConfig,
) -> (f64, Reservation) {
    let total = mem_total as f64;
    let Some(reserve) = balancing.node_resource_reserve.as_ref() else {
        return (total, Reservation::None);
    };
    let lookup = |key: &str| {
        reserve
            .get(key)
            .and_then(|r| r.get(&Resource::Memory))
            .copied()
            .unwrap_or(0)
    };
    let (gib, own) = match lookup(node) {
        n if n > 0 => (n, true),
        _ => (lookup("defaults"), false),
    };
    if gib <= 0 {
        return (total, Reservation::None);
    }
    let bytes = gib as f64 * GIB;
    if total < bytes {
        (total, Reservation::TooLarge { gib })
    } else if own {
        (total - bytes, Reservation::Node { gib })
    } else {
        (total - bytes, Reservation::Defaults { gib })
    }
}

/// All figures of one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeUsage {
    /// Node name.
    pub node: String,
    /// In maintenance.
    pub maintenance: bool,
    /// Memory.
    pub memory: ResourceUsage,
    /// CPU (cores).
    pub cpu: ResourceUsage,
    /// Disk.
    pub disk: ResourceUsage,
    /// Any resource is hot.
    pub pressure_hot: bool,
    /// What the memory reservation did.
    pub reservation: Reservation,
}

impl NodeUsage {
    /// Figures of one resource.
    pub fn resource(&self, resource: Resource) -> &ResourceUsage {
        match resource {
            Resource::Memory => &self.memory,
            Resource::Cpu => &self.cpu,
            Resource::Disk => &self.disk,
        }
    }

    /// Mutable figures of one resource.
    pub fn resource_mut(&mut self, resource: Resource) -> &mut ResourceUsage {
        match resource {
            Resource::Memory => &mut self.memory,
            Resource::Cpu => &mut self.cpu,
            Resource::Disk => &mut self.disk,
        }
    }

    /// The number ProxLB compares for a method and mode: used %, assigned % or full-pressure spikes.
    pub fn value(&self, method: Resource, mode: Mode) -> f64 {
        let r = self.resource(method);
        match mode {
            Mode::Used => r.used_percent,
            Mode::Assigned => r.assigned_percent,
            Mode::Psi => r.pressure.full_spikes,
        }
    }

    /// Recomputes free and percentages from totals (ProxLB's `recalc_node_statistics`).
    pub fn recalc(&mut self) {
        for resource in Resource::ALL {
            let r = self.resource_mut(resource);
            r.free = (r.total - r.used).max(0.0);
            r.used_percent = percent(r.used, r.total);
            r.assigned_percent = percent(r.assigned, r.total);
        }
    }
}

/// Figures of one resource of a guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuestResource {
    /// Assigned (`cpus`, `maxmem`, `maxdisk`).
    pub total: f64,
    /// In use (CPU: fraction).
    pub used: f64,
    /// Pressure figures.
    pub pressure: Pressure,
    /// Marked hot.
    pub pressure_hot: bool,
}

/// All figures of one guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestUsage {
    /// Guest name.
    pub guest: String,
    /// Ignored (never marked hot).
    pub ignored: bool,
    /// Memory.
    pub memory: GuestResource,
    /// CPU.
    pub cpu: GuestResource,
    /// Disk.
    pub disk: GuestResource,
    /// Any resource hot.
    pub pressure_hot: bool,
}

impl GuestUsage {
    /// Figures of one resource.
    pub fn resource(&self, resource: Resource) -> &GuestResource {
        match resource {
            Resource::Memory => &self.memory,
            Resource::Cpu => &self.cpu,
            Resource::Disk => &self.disk,
        }
    }

    fn resource_mut(&mut self, resource: Resource) -> &mut GuestResource {
        match resource {
            Resource::Memory => &mut self.memory,
            Resource::Cpu => &mut self.cpu,
            Resource::Disk => &mut self.disk,
        }
    }
}

/// Guest figures of one collected guest.
pub fn guest_usage(guest: &ViewGuest) -> GuestUsage {
    let g = &guest.guest;
    let psi = g.psi.unwrap_or_default();
    GuestUsage {
        guest: g.name.clone(),
        ignored: guest.ignored(),
        memory: GuestResource {
            total: g.mem_total as f64,
            used: g.mem_used as f64,
            pressure: psi.memory,
            pressure_hot: false,
        },
        cpu: GuestResource {
            total: f64::from(g.cpus),
            used: g.cpu_usage,
            pressure: psi.cpu,
            pressure_hot: false,
        },
        disk: GuestResource {
            total: g.disk_total as f64,
            used: g.disk_used as f64,
            pressure: psi.io,
            pressure_hot: false,
        },
        pressure_hot: false,
    }
}

/// Node figures right after collection and `set_node_assignments`, before hot marking.
pub fn node_usages(view: &ProxlbView, balancing: &BalancingConfig) -> Vec<NodeUsage> {
    // Assigned CPUs, memory and disk per node, summed in guest order as ProxLB does, in one pass
    // over the guests (a scan of every guest per node compared 640,000 names at 64 nodes).
    let mut assigned: std::collections::HashMap<&str, [f64; 3]> =
        std::collections::HashMap::with_capacity(view.nodes.len());
    for guest in &view.guests {
        let g = &guest.guest;
        let sums = assigned.entry(g.node.as_str()).or_insert([0.0; 3]);
        sums[0] += f64::from(g.cpus);
        sums[1] += g.mem_total as f64;
        sums[2] += g.disk_total as f64;
    }
    view.nodes
        .iter()
        .map(|vn| {
            let n = &vn.node;
            let psi = n.psi.unwrap_or_default();
            let cores = f64::from(n.cpu_cores);
            let cpu_used = n.cpu_usage * cores;
            let (mem_total, reservation) = reserved_memory_total(&n.name, n.mem_total, balancing);
            let maxmem = n.mem_total as f64;
            let mem_used = n.mem_used as f64;
            let disk_total = n.disk_total as f64;
            let disk_used = n.disk_used as f64;
            let mut usage = NodeUsage {
                node: n.name.clone(),
                maintenance: vn.maintenance,
                cpu: ResourceUsage {
                    total: cores,
                    used: cpu_used,
                    free: cores - cpu_used,
                    used_percent: percent(cpu_used, cores),
                    free_percent: percent(cores - cpu_used, cores),
                    // ProxLB has no node CPU "full" pressure: hard-coded 0.
                    pressure: Pressure {
                        full: 0.0,
                        full_spikes: 0.0,
                        ..psi.cpu
                    },
                    ..ResourceUsage::default()
                },
                memory: ResourceUsage {
                    total: mem_total,
                    used: mem_used,
                    // Initial free and used% use the unreserved maxmem (see module docs).
                    free: maxmem - mem_used,
                    used_percent: percent(mem_used, maxmem),
                    free_percent: percent(maxmem - mem_used, maxmem),
                    pressure: psi.memory,
                    ..ResourceUsage::default()
                },
                disk: ResourceUsage {
                    total: disk_total,
                    used: disk_used,
                    free: disk_total - disk_used,
                    used_percent: percent(disk_used, disk_total),
                    free_percent: percent(disk_total - disk_used, disk_total),
                    pressure: psi.io,
                    ..ResourceUsage::default()
                },
                pressure_hot: false,
                reservation,
            };
            if let Some([cpus, memory, disk]) = assigned.get(n.name.as_str()) {
                usage.cpu.assigned += cpus;
                usage.memory.assigned += memory;
                usage.disk.assigned += disk;
            }
            for resource in Resource::ALL {
                let r = usage.resource_mut(resource);
                r.assigned_percent = percent(r.assigned, r.total);
            }
            usage
        })
        .collect()
}

/// ProxLB's hot test: `(full ≥ t.full and some ≥ t.some) or full_spikes ≥ t.spikes`.
pub fn is_hot(pressure: &Pressure, threshold: &PsiThreshold) -> bool {
    (pressure.full >= threshold.pressure_full && pressure.some >= threshold.pressure_some)
        || pressure.full_spikes >= threshold.pressure_spikes
}

/// Marks hot nodes (maintenance nodes skipped) and hot guests (ignored guests skipped).
/// Without a `psi` block nothing is ever hot.
pub fn mark_hot(nodes: &mut [NodeUsage], guests: &mut [GuestUsage], balancing: &BalancingConfig) {
    let Some(psi) = balancing.psi.as_ref() else {
        return;
    };
    for node in nodes.iter_mut().filter(|n| !n.maintenance) {
        for (resource, threshold) in &psi.nodes {
            if is_hot(&node.resource(*resource).pressure, threshold) {
                node.resource_mut(*resource).pressure_hot = true;
                node.pressure_hot = true;
            }
        }
    }
    for guest in guests.iter_mut().filter(|g| !g.ignored) {
        for (resource, threshold) in &psi.guests {
            if is_hot(&guest.resource(*resource).pressure, threshold) {
                guest.resource_mut(*resource).pressure_hot = true;
                guest.pressure_hot = true;
            }
        }
    }
}

/// Highest and lowest node value for a method and mode, and their difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Resource.
    pub method: Resource,
    /// Mode.
    pub mode: Mode,
    /// First node with the highest value.
    pub highest_node: String,
    /// Highest value.
    pub highest: f64,
    /// First node with the lowest value.
    pub lowest_node: String,
    /// Lowest value.
    pub lowest: f64,
    /// `highest − lowest`, what ProxLB compares with `balanciness`.
    pub spread: f64,
}

/// Index of the first maximal element, like Python's `max(…, key=…)`.
pub fn first_max_by(values: impl IntoIterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.into_iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Index of the first minimal element, like Python's `min(…, key=…)`.
pub fn first_min_by(values: impl IntoIterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.into_iter().enumerate() {
        if best.is_none_or(|(_, b)| v < b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Spread over **all** given nodes (ProxLB includes maintenance nodes). `None` without nodes.
pub fn spread(nodes: &[NodeUsage], method: Resource, mode: Mode) -> Option<Spread> {
    let hi = first_max_by(nodes.iter().map(|n| n.value(method, mode)))?;
    let lo = first_min_by(nodes.iter().map(|n| n.value(method, mode)))?;
    let highest = nodes[hi].value(method, mode);
    let lowest = nodes[lo].value(method, mode);
    Some(Spread {
        method,
        mode,
        highest_node: nodes[hi].node.clone(),
        highest,
        lowest_node: nodes[lo].node.clone(),
        lowest,
        spread: highest - lowest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxlb::cluster::{ClusterSnapshot, PsiSet};
    use crate::proxlb::config::PsiConfig;
    use crate::proxlb::maintenance::maintenance_overview;
    use crate::proxlb::rules::tests::{config, guest, monday_noon, node, GIB as GIB_U};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn view(snapshot: &ClusterSnapshot, config: &crate::proxlb::ProxLbConfig) -> ProxlbView {
        let maintenance =
            maintenance_overview(&snapshot.nodes, &config.proxmox_cluster, monday_noon());
        ProxlbView::build(snapshot, config, &maintenance)
    }

    #[test]
    fn rrd_reduction_matches_proxlb() {
        assert_eq!(rrd_average(&[]), 0.0);
        // None rows still count in the divisor.
        assert_eq!(rrd_average(&[Some(2.0), None, Some(4.0), None]), 1.5);
        assert_eq!(rrd_spike(&[]), 0.0);
        assert_eq!(rrd_spike(&[None, None]), 0.0);
        let series: Vec<Option<f64>> = vec![
            Some(9.0),
            Some(1.0),
            None,
            Some(2.0),
            Some(3.0),
            Some(1.0),
            Some(0.5),
            Some(2.5),
        ];
        // Last 6 present values: 1, 2, 3, 1, 0.5, 2.5 (the 9 is older).
        assert_eq!(rrd_spike(&series), 3.0);
    }

    #[test]
    fn used_and_assigned_percentages() {
        let mut n1 = node("pve1", 50);
        n1.cpu_usage = 0.25;
        let snapshot = ClusterSnapshot {
            nodes: vec![n1, node("pve2", 20)],
            guests: vec![
                guest(100, "a", "pve1", &["plb_ignore"]),
                guest(101, "b", "pve1", &[]),
                guest(102, "c", "pve2", &[]),
            ],
            ..ClusterSnapshot::default()
        };
        let config = config();
        let usages = node_usages(&view(&snapshot, &config), &config.balancing);
        let pve1 = &usages[0];
        assert_eq!(pve1.memory.used_percent, 50.0);
        assert_eq!(pve1.cpu.used, 2.0);
        assert_eq!(pve1.cpu.used_percent, 25.0);
        assert_eq!(pve1.disk.used_percent, 10.0);
        // Ignored guests count towards assigned: 2 × 4 GiB of 100 GiB, 2 × 2 of 8 cores.
        assert_eq!(pve1.memory.assigned_percent, 8.0);
        assert_eq!(pve1.cpu.assigned_percent, 50.0);
        assert_eq!(pve1.disk.assigned_percent, 20.0);
        assert_eq!(usages[1].memory.assigned_percent, 4.0);
        let s = spread(&usages, Resource::Memory, Mode::Used).unwrap();
        assert_eq!(
            (s.highest_node.as_str(), s.lowest_node.as_str(), s.spread),
            ("pve1", "pve2", 30.0)
        );
        let s = spread(&usages, Resource::Memory, Mode::Assigned).unwrap();
        assert_eq!(s.spread, 4.0);
    }

    #[test]
    fn reservation_shrinks_memory_total_for_assigned_only_at_first() {
        let snapshot = ClusterSnapshot {
            nodes: vec![node("pve1", 50), node("pve2", 50), node("pve3", 50)],
            guests: vec![guest(100, "a", "pve1", &[]), guest(101, "b", "pve3", &[])],
            ..ClusterSnapshot::default()
        };
        let mut config = config();
        let mut reserve = BTreeMap::new();
        reserve.insert(
            "defaults".to_string(),
            BTreeMap::from([(Resource::Memory, 20)]),
        );
        reserve.insert(
            "pve3".to_string(),
            BTreeMap::from([(Resource::Memory, 500)]),
        );
        reserve.insert(
            "pve2".to_string(),
            BTreeMap::from([(Resource::Memory, 0), (Resource::Cpu, 4)]),
        );
        config.balancing.node_resource_reserve = Some(reserve);
        let usages = node_usages(&view(&snapshot, &config), &config.balancing);
        assert_eq!(usages[0].reservation, Reservation::Defaults { gib: 20 });
        assert_eq!(usages[0].memory.total, 80.0 * GIB);
        assert_eq!(usages[0].memory.used_percent, 50.0);
        assert_eq!(usages[0].memory.assigned_percent, 5.0);
        // A node entry of 0 falls back to defaults; cpu reservations are not applied.
        assert_eq!(usages[1].reservation, Reservation::Defaults { gib: 20 });
        assert_eq!(usages[1].cpu.total, 8.0);
        // Too large: not applied, and no fallback to defaults.
        assert_eq!(usages[2].reservation, Reservation::TooLarge { gib: 500 });
        assert_eq!(usages[2].memory.total, 100.0 * GIB);
        let mut recalculated = usages[0].clone();
        recalculated.recalc();
        assert_eq!(recalculated.memory.used_percent, 62.5);
    }

    #[test]
    fn hot_marking_skips_maintenance_nodes_and_ignored_guests() {
        let hot = Pressure {
            some: 50.0,
            full: 40.0,
            some_spikes: 60.0,
            full_spikes: 45.0,
        };
        let psi = PsiSet {
            cpu: hot,
            memory: hot,
            io: Pressure::default(),
        };
        let mut n1 = node("pve1", 10);
        n1.psi = Some(psi);
        let mut n2 = node("pve2", 10);
        n2.psi = Some(psi);
        n2.ha_maintenance = true;
        let mut g1 = guest(100, "a", "pve1", &[]);
        g1.psi = Some(psi);
        let mut g2 = guest(101, "b", "pve1", &["plb_ignore"]);
        g2.psi = Some(psi);
        let snapshot = ClusterSnapshot {
            nodes: vec![n1, n2],
            guests: vec![g1, g2],
            ..ClusterSnapshot::default()
        };
        let mut config = config();
        let t = PsiThreshold {
            pressure_full: 30.0,
            pressure_some: 30.0,
            pressure_spikes: 99.0,
        };
        let thresholds = BTreeMap::from([(Resource::Memory, t), (Resource::Cpu, t)]);
        config.balancing.psi = Some(PsiConfig {
            guests: thresholds.clone(),
            nodes: thresholds,
        });
        let v = view(&snapshot, &config);
        let mut nodes = node_usages(&v, &config.balancing);
        let mut guests: Vec<GuestUsage> = v.guests.iter().map(guest_usage).collect();
        mark_hot(&mut nodes, &mut guests, &config.balancing);
        assert!(nodes[0].memory.pressure_hot);
        // Node CPU full pressure is always 0, so node CPU is never hot by the full/some rule.
        assert!(!nodes[0].cpu.pressure_hot);
        assert!(!nodes[1].pressure_hot);
        assert!(guests[0].cpu.pressure_hot && guests[0].memory.pressure_hot);
        assert!(!guests[1].pressure_hot);
        // Without a psi block nothing is hot.
        config.balancing.psi = None;
        let mut nodes = node_usages(&v, &config.balancing);
        mark_hot(&mut nodes, &mut guests[..0], &config.balancing);
        assert!(!nodes[0].pressure_hot);
    }

    #[test]
    fn first_max_and_min_prefer_earlier_elements() {
        assert_eq!(first_max_by([1.0, 3.0, 3.0]), Some(1));
        assert_eq!(first_min_by([2.0, 1.0, 1.0]), Some(1));
        assert_eq!(first_max_by(Vec::<f64>::new()), None);
    }

    proptest! {
        #[test]
        fn spread_is_non_negative_and_bounds_every_node(
            used in proptest::collection::vec((0u64..=100, 0u32..=100, 0u64..=100), 1..8),
            method_index in 0usize..3, mode_index in 0usize..3,
        ) {
            let nodes: Vec<crate::proxlb::cluster::Node> = used
                .iter()
                .enumerate()
                .map(|(i, (mem, cpu, disk))| {
                    let mut n = node(&format!("n{i}"), *mem);
                    n.cpu_usage = f64::from(*cpu) / 100.0;
                    n.disk_used = disk * GIB_U;
                    n
                })
                .collect();
            let snapshot = ClusterSnapshot { nodes, ..ClusterSnapshot::default() };
            let config = config();
            let usages = node_usages(&view(&snapshot, &config), &config.balancing);
            let method = Resource::ALL[method_index];
            let mode = Mode::ALL[mode_index];
            let s = spread(&usages, method, mode).unwrap();
            prop_assert!(s.spread >= 0.0);
            for u in &usages {
                prop_assert!(u.value(method, mode) <= s.highest && u.value(method, mode) >= s.lowest);
            }
        }
    }
}
