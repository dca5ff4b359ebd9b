//! The usage model: guest and node usage as pure functions of the cluster state and a point in
//! time (seeded noise around the scenario's means). A node's CPU and memory include the sum of
//! the guests running on it at that instant, so every endpoint (and the RRD history) agrees.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::noise::wobble;
use crate::scenario::GuestKind;
use crate::state::{Cluster, Guest, Node};

/// Usage of one guest at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GuestUsage {
    /// Running at that instant.
    pub running: bool,
    /// CPU fraction of its vCPUs.
    pub cpu: f64,
    /// Memory used (bytes).
    pub mem: u64,
    /// Host-side memory (bytes, qemu).
    pub memhost: u64,
    /// Disk used (bytes; 0 for VMs as in PVE).
    pub disk: u64,
    /// Network in, bytes/s.
    pub netin_rate: f64,
    /// Network out, bytes/s.
    pub netout_rate: f64,
    /// Disk read, bytes/s.
    pub diskread_rate: f64,
    /// Disk write, bytes/s.
    pub diskwrite_rate: f64,
    /// Pressure: cpu some, cpu full, io some, io full, memory some, memory full (percent).
    pub psi: [f64; 6],
    /// Seconds since start.
    pub uptime: u64,
}

/// Usage of one node at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NodeUsage {
    /// CPU fraction of all host threads.
    pub cpu: f64,
    /// Memory used (bytes).
    pub mem: u64,
    /// Root fs used (bytes).
    pub disk: u64,
    /// Swap used (bytes).
    pub swap_used: u64,
    /// 1/5/15 minute load averages.
    pub loadavg: [f64; 3],
    /// IO wait fraction.
    pub iowait: f64,
    /// Network in, bytes/s.
    pub netin_rate: f64,
    /// Network out, bytes/s.
    pub netout_rate: f64,
    /// Pressure: cpu some, io some, io full, memory some, memory full (percent).
    pub psi: [f64; 5],
    /// Seconds since boot.
    pub uptime: u64,
}

/// Swap size of every node (8 GiB).
pub const SWAP_TOTAL: u64 = 8 << 30;

/// Seeded noise scaled by the cluster's noise amplitude.
fn w(cluster: &Cluster, key: u64, channel: u64, t: f64) -> f64 {
    cluster.noise * wobble(cluster.seed, key, channel, t)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Snaps `t` to the sampling grid.
pub fn sample_time(cluster: &Cluster, t: f64) -> f64 {
    let i = cluster.timing.sample_interval;
    if i > 0.0 {
        (t / i).floor() * i
    } else {
        t
    }
}

/// Guest usage at time `t`: placement and power state as of `t`, noise and uptime snapped to
/// the sampling grid (so all endpoints agree within one sample and moves show at once).
pub fn guest_usage(cluster: &Cluster, g: &Guest, at: f64) -> GuestUsage {
    let (_, running) = g.at(at);
    if !running {
        return GuestUsage::default();
    }
    let t = sample_time(cluster, at);
    let k = g.key;
    let spec = &g.spec;
    let cpus = f64::from(spec.cpus);
    let cpu = (spec.cpu * (1.0 + 0.6 * w(cluster, k, 1, t))).clamp(0.0005, 1.0);
    let maxmem = spec.maxmem.0;
    let mem_base = spec.mem.map_or(maxmem / 2, |m| m.0) as f64;
    let mem = (mem_base * (1.0 + 0.04 * w(cluster, k, 2, t))).clamp(16.0 * 1048576.0, maxmem as f64)
        as u64;
    let memhost = match spec.kind {
        GuestKind::Vm => mem + maxmem / 64,
        GuestKind::Ct => 0,
    };
    let disk = match spec.kind {
        GuestKind::Vm => 0,
        GuestKind::Ct => spec.disk.map_or(spec.maxdisk.0 / 3, |d| d.0),
    };
    let activity = cpus * cpu;
    let netin_rate = 200_000.0 * activity * (1.0 + 0.5 * w(cluster, k, 3, t));
    let netout_rate = 150_000.0 * activity * (1.0 + 0.5 * w(cluster, k, 4, t));
    let diskread_rate = 100_000.0 * activity * (1.0 + 0.7 * w(cluster, k, 5, t));
    let diskwrite_rate = 250_000.0 * activity * (1.0 + 0.7 * w(cluster, k, 6, t));
    let cpu_some =
        round2(((cpu - 0.5).max(0.0) * 60.0 + 1.5 * cpu * (1.0 + w(cluster, k, 7, t))).min(100.0));
    let io_some = round2((diskwrite_rate / 1.0e6 * (1.0 + w(cluster, k, 8, t))).min(100.0));
    let mem_frac = mem as f64 / maxmem.max(1) as f64;
    let mem_some = round2(((mem_frac - 0.9).max(0.0) * 200.0).min(100.0));
    let uptime = (t - g.started_at).max(0.0) as u64;
    GuestUsage {
        running: true,
        cpu,
        mem,
        memhost,
        disk,
        netin_rate,
        netout_rate,
        diskread_rate,
        diskwrite_rate,
        psi: [
            cpu_some,
            round2(cpu_some * 0.4),
            io_some,
            round2(io_some * 0.6),
            mem_some,
            round2(mem_some * 0.5),
        ],
        uptime,
    }
}

/// Node usage at time `at` (guests placed as of `at`, noise snapped to the sampling grid);
/// `None` when the node is offline.
pub fn node_usage(cluster: &Cluster, node: &Node, at: f64) -> Option<NodeUsage> {
    node_usage_among(cluster, node, at, cluster.guests.values())
}

/// [`node_usage`] summing only `guests`, which must include every guest on `node` at `at`
/// (others are skipped): with [`guests_ever_on`] or [`guests_by_node`], a node's figures cost
/// its own guests, not every guest of the cluster (64 nodes × 10,000 guests × every RRD row
/// made each poll of the large scenario take seconds of CPU).
pub fn node_usage_among<'a>(
    cluster: &Cluster,
    node: &Node,
    at: f64,
    guests: impl IntoIterator<Item = &'a Guest>,
) -> Option<NodeUsage> {
    if !node.online {
        return None;
    }
    let t = sample_time(cluster, at);
    let k = node.key;
    let cores = f64::from(node.cores);
    let mut guest_cores = 0.0;
    let mut guest_mem = 0u64;
    let mut net_in = 0.0;
    let mut net_out = 0.0;
    let mut io = 0.0;
    for g in guests {
        let (on, running) = g.at(at);
        if on != node.name || !running {
            continue;
        }
        let u = guest_usage(cluster, g, at);
        guest_cores += u.cpu * f64::from(g.spec.cpus);
        guest_mem += match g.spec.kind {
            GuestKind::Vm => u.memhost,
            GuestKind::Ct => u.mem,
        };
        net_in += u.netin_rate;
        net_out += u.netout_rate;
        io += u.diskwrite_rate;
    }
    let host_cores = node.host_cpu * cores * (1.0 + 0.5 * w(cluster, k, 1, t));
    let cpu = ((host_cores + guest_cores) / cores).clamp(0.0, 1.0);
    let host_mem = node.host_memory as f64 * (1.0 + 0.03 * w(cluster, k, 2, t));
    let mem_raw = host_mem as u64 + guest_mem;
    let mem = mem_raw.min(node.memory);
    let swap_used = mem_raw.saturating_sub(node.memory).min(SWAP_TOTAL);
    let disk = node_root_used(cluster, node, at);
    let load = cpu * cores;
    let loadavg = [
        round2(load * (1.0 + 0.1 * w(cluster, k, 4, t))),
        round2(load * (1.0 + 0.05 * w(cluster, k, 4, t - 150.0))),
        round2(load * (1.0 + 0.03 * w(cluster, k, 4, t - 450.0))),
    ];
    let iowait = 0.001 + 0.001 * (1.0 + w(cluster, k, 5, t)) + io / 5.0e8;
    let mem_frac = mem as f64 / node.memory as f64;
    let cpu_some =
        round2(((cpu - 0.4).max(0.0) * 80.0 + 0.3 * (1.0 + w(cluster, k, 6, t))).min(100.0));
    let io_some = round2((0.2 * (1.0 + w(cluster, k, 7, t)) + io / 2.0e6).min(100.0));
    let mem_some = round2(((mem_frac - 0.85).max(0.0) * 150.0).min(100.0));
    Some(NodeUsage {
        cpu,
        mem,
        disk,
        swap_used,
        loadavg,
        iowait,
        netin_rate: net_in + 1_500.0,
        netout_rate: net_out + 1_200.0,
        psi: [
            cpu_some,
            io_some,
            round2(io_some * 0.6),
            mem_some,
            round2(mem_some * 0.5),
        ],
        uptime: (t - node.boot_time).max(0.0) as u64,
    })
}

/// Bytes used on the node's root file system at `at` (its guests' disks are on shared storage).
pub fn node_root_used(cluster: &Cluster, node: &Node, at: f64) -> u64 {
    let t = sample_time(cluster, at);
    ((node.disk_used as f64) * (1.0 + 0.002 * w(cluster, node.key, 3, t))) as u64
}

/// Guests placed on `node` at any time in their history: a superset of its guests at any
/// moment, for [`node_usage_among`] over a span of time (RRD rows).
pub fn guests_ever_on<'a>(cluster: &'a Cluster, node: &str) -> Vec<&'a Guest> {
    cluster
        .guests
        .values()
        .filter(|g| g.history.iter().any(|p| p.node == node))
        .collect()
}

/// Every guest by its node at `at`, for [`node_usage_among`] over all nodes at one time.
pub fn guests_by_node(cluster: &Cluster, at: f64) -> HashMap<&str, Vec<&Guest>> {
    let mut by_node: HashMap<&str, Vec<&Guest>> = HashMap::new();
    for g in cluster.guests.values() {
        by_node.entry(g.at(at).0).or_default().push(g);
    }
    by_node
}

/// RRD consolidation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cf {
    /// Mean of the samples in a step.
    Average,
    /// Maximum of the samples in a step.
    Max,
}

/// Step (seconds) and row count of an RRD timeframe, per PVE 9 (`pve-*-9.0`) or PVE 8
/// (`pve2-*`) layout. `None` for an unknown timeframe.
pub fn timeframe(name: &str, pve9: bool) -> Option<(f64, usize)> {
    Some(match (name, pve9) {
        ("hour", true) => (60.0, 60),
        ("day", true) => (60.0, 1440),
        ("week", true) => (1800.0, 336),
        ("month", true) => (1800.0, 1440),
        ("year", true) => (21_600.0, 1440),
        ("decade", true) => (604_800.0, 570),
        ("hour", false) => (60.0, 70),
        ("day", false) => (1800.0, 70),
        ("week", false) => (10_800.0, 70),
        ("month", false) => (43_200.0, 70),
        ("year", false) => (604_800.0, 70),
        _ => return None,
    })
}

fn row_times(cluster: &Cluster, now: f64, step: f64, rows: usize) -> Vec<(f64, Vec<f64>)> {
    let last = (now / step).floor() * step;
    let per_row = ((step / cluster.timing.sample_interval.max(1.0)) as usize).clamp(1, 6);
    (0..rows)
        .rev()
        .map(|i| {
            let t = last - i as f64 * step;
            let samples = if i == 0 {
                // The newest row holds the current sample, so it matches the live endpoints.
                vec![now]
            } else {
                (0..per_row)
                    .map(|j| t - step + step * (j + 1) as f64 / per_row as f64)
                    .collect()
            };
            (t, samples)
        })
        .collect()
}

fn reduce(values: &[f64], cf: Cf) -> f64 {
    match cf {
        Cf::Average => values.iter().sum::<f64>() / values.len().max(1) as f64,
        Cf::Max => values.iter().copied().fold(f64::MIN, f64::max),
    }
}

fn put(m: &mut Map<String, Value>, k: &str, samples: &[f64], cf: Cf) {
    m.insert(k.to_string(), json!(reduce(samples, cf)));
}

/// Node RRD rows (`/nodes/{n}/rrddata`).
pub fn node_rrd(
    cluster: &Cluster,
    node: &Node,
    now: f64,
    step: f64,
    rows: usize,
    cf: Cf,
) -> Vec<Value> {
    let pve9 = node.is_pve9();
    let local = guests_ever_on(cluster, &node.name);
    row_times(cluster, now, step, rows)
        .into_iter()
        .map(|(t, samples)| {
            let mut m = Map::new();
            m.insert("time".into(), json!(t as i64));
            let us: Vec<NodeUsage> = samples
                .iter()
                .filter_map(|s| node_usage_among(cluster, node, *s, local.iter().copied()))
                .collect();
            if us.is_empty() {
                return Value::Object(m);
            }
            let col = |f: &dyn Fn(&NodeUsage) -> f64| us.iter().map(f).collect::<Vec<f64>>();
            put(&mut m, "loadavg", &col(&|u| u.loadavg[0]), cf);
            m.insert("maxcpu".into(), json!(node.cores));
            put(&mut m, "cpu", &col(&|u| u.cpu), cf);
            put(&mut m, "iowait", &col(&|u| u.iowait), cf);
            m.insert("memtotal".into(), json!(node.memory as f64));
            put(&mut m, "memused", &col(&|u| u.mem as f64), cf);
            m.insert("swaptotal".into(), json!(SWAP_TOTAL as f64));
            put(&mut m, "swapused", &col(&|u| u.swap_used as f64), cf);
            m.insert("roottotal".into(), json!(node.disk as f64));
            put(&mut m, "rootused", &col(&|u| u.disk as f64), cf);
            put(&mut m, "netin", &col(&|u| u.netin_rate), cf);
            put(&mut m, "netout", &col(&|u| u.netout_rate), cf);
            if pve9 {
                put(
                    &mut m,
                    "memavailable",
                    &col(&|u| (node.memory - u.mem) as f64),
                    cf,
                );
                m.insert("arcsize".into(), json!(0.0));
                let names = [
                    "pressurecpusome",
                    "pressureiosome",
                    "pressureiofull",
                    "pressurememorysome",
                    "pressurememoryfull",
                ];
                for (i, name) in names.iter().enumerate() {
                    put(&mut m, name, &col(&|u| u.psi[i]), cf);
                }
            }
            Value::Object(m)
        })
        .collect()
}

/// Guest RRD rows (`/nodes/{n}/{qemu|lxc}/{vmid}/rrddata`). `pve9` selects the PVE 9 columns.
pub fn guest_rrd(
    cluster: &Cluster,
    g: &Guest,
    now: f64,
    step: f64,
    rows: usize,
    cf: Cf,
    pve9: bool,
) -> Vec<Value> {
    row_times(cluster, now, step, rows)
        .into_iter()
        .map(|(t, samples)| {
            let us: Vec<GuestUsage> = samples
                .iter()
                .map(|s| guest_usage(cluster, g, *s))
                .collect();
            let col = |f: &dyn Fn(&GuestUsage) -> f64| us.iter().map(f).collect::<Vec<f64>>();
            let mut m = Map::new();
            m.insert("time".into(), json!(t as i64));
            m.insert("maxcpu".into(), json!(g.spec.cpus));
            put(&mut m, "cpu", &col(&|u| u.cpu), cf);
            m.insert("maxmem".into(), json!(g.spec.maxmem.0 as f64));
            put(&mut m, "mem", &col(&|u| u.mem as f64), cf);
            m.insert("maxdisk".into(), json!(g.spec.maxdisk.0 as f64));
            put(&mut m, "disk", &col(&|u| u.disk as f64), cf);
            put(&mut m, "netin", &col(&|u| u.netin_rate), cf);
            put(&mut m, "netout", &col(&|u| u.netout_rate), cf);
            put(&mut m, "diskread", &col(&|u| u.diskread_rate), cf);
            put(&mut m, "diskwrite", &col(&|u| u.diskwrite_rate), cf);
            if pve9 {
                if g.spec.kind == GuestKind::Vm {
                    put(&mut m, "memhost", &col(&|u| u.memhost as f64), cf);
                }
                if us.iter().any(|u| u.running) {
                    let names = [
                        "pressurecpusome",
                        "pressurecpufull",
                        "pressureiosome",
                        "pressureiofull",
                        "pressurememorysome",
                        "pressurememoryfull",
                    ];
                    for (i, name) in names.iter().enumerate() {
                        put(&mut m, name, &col(&|u| u.psi[i]), cf);
                    }
                }
            }
            Value::Object(m)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scenario::{GuestSpec, NodeSpec, Scenario};
    use crate::state::Timing;

    fn cluster() -> Cluster {
        let s = Scenario::new("t")
            .node(NodeSpec::new("a", 16, 64))
            .node(NodeSpec::new("b", 16, 64))
            .guest(
                GuestSpec::vm(100, "vm1", "a")
                    .running()
                    .cpus(4, 0.5)
                    .memory_gib(16, 8),
            )
            .guest(
                GuestSpec::ct(200, "ct1", "a")
                    .running()
                    .cpus(2, 0.2)
                    .memory_gib(4, 1),
            )
            .guest(GuestSpec::vm(101, "off", "a").memory_gib(16, 8))
            .seed(7);
        Cluster::new(&s, 1_000_000.0, Timing::default(), None)
    }

    #[test]
    fn node_includes_running_guests() {
        let c = cluster();
        let t = 1_000_000.0;
        let a = node_usage(&c, &c.nodes[0], t).unwrap();
        let b = node_usage(&c, &c.nodes[1], t).unwrap();
        let g100 = guest_usage(&c, &c.guests[&100], t);
        let g200 = guest_usage(&c, &c.guests[&200], t);
        assert!(a.mem >= g100.memhost + g200.mem);
        assert!(a.mem > b.mem + (8u64 << 30));
        assert!(a.cpu * 16.0 >= g100.cpu * 4.0 + g200.cpu * 2.0 - 1e-9);
        assert_eq!(guest_usage(&c, &c.guests[&101], t), GuestUsage::default());
    }

    #[test]
    fn a_nodes_figures_from_its_own_guests_equal_those_from_every_guest() {
        let mut c = cluster();
        // vm1 moved from a to b ten minutes ago: RRD rows before that count it on a.
        let moved = 1_000_000.0 - 600.0;
        if let Some(g) = c.guests.get_mut(&100) {
            g.history.push(crate::state::Placement {
                since: moved,
                node: "b".into(),
                running: true,
            });
        }
        let by_node = guests_by_node(&c, 1_000_000.0);
        for node in &c.nodes {
            let ever = guests_ever_on(&c, &node.name);
            assert!(ever.iter().any(|g| g.spec.vmid == 100), "{}", node.name);
            for at in [moved - 900.0, moved - 1.0, moved, 1_000_000.0] {
                assert_eq!(
                    node_usage_among(&c, node, at, ever.iter().copied()),
                    node_usage(&c, node, at),
                    "{} at {at}",
                    node.name
                );
            }
            let now = by_node
                .get(node.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            assert_eq!(
                node_usage_among(&c, node, 1_000_000.0, now.iter().copied()),
                node_usage(&c, node, 1_000_000.0)
            );
        }
        // Before the move vm1 weighs on a, after it on b.
        let (a, b) = (&c.nodes[0], &c.nodes[1]);
        assert!(
            node_usage(&c, a, moved - 60.0).unwrap().mem
                > node_usage(&c, a, moved + 60.0).unwrap().mem
        );
        assert!(
            node_usage(&c, b, moved - 60.0).unwrap().mem
                < node_usage(&c, b, moved + 60.0).unwrap().mem
        );
    }

    #[test]
    fn usage_moves_and_is_deterministic() {
        let c = cluster();
        let g = &c.guests[&100];
        let u1 = guest_usage(&c, g, 1_000_000.0);
        let u2 = guest_usage(&c, g, 1_000_600.0);
        assert_ne!(u1.cpu, u2.cpu);
        assert_eq!(u1, guest_usage(&c, g, 1_000_000.0));
    }

    #[test]
    fn rrd_last_row_matches_live_values() {
        let c = cluster();
        let now = 1_000_033.0;
        let (step, rows) = timeframe("hour", true).unwrap();
        let live = node_usage(&c, &c.nodes[0], now).unwrap();
        for cf in [Cf::Average, Cf::Max] {
            let r = node_rrd(&c, &c.nodes[0], now, step, rows, cf);
            assert_eq!(r.len(), 60);
            let last = r.last().unwrap();
            assert_eq!(last["memused"].as_f64().unwrap(), live.mem as f64);
            assert_eq!(last["cpu"].as_f64().unwrap(), live.cpu);
            assert!(last.get("pressurecpusome").is_some());
            assert!(last.get("pressurecpufull").is_none());
        }
        let avg = node_rrd(&c, &c.nodes[0], now, step, rows, Cf::Average);
        let max = node_rrd(&c, &c.nodes[0], now, step, rows, Cf::Max);
        assert!(max[10]["cpu"].as_f64().unwrap() >= avg[10]["cpu"].as_f64().unwrap());
        assert!(timeframe("fortnight", true).is_none());
    }
}
