//! Generated scenarios: large, realistic clusters built from a seed (the same seed always gives
//! the same scenario), for scale tests and demos (`pve-sim --scenario large`,
//! `pve-sim --generate 64x10000`).

use crate::noise;
use crate::scenario::{
    AclSpec, Affinity, ByteSize, ClusterSpec, GuestSpec, GuestStatus, HaRuleSpec, HaRuleType,
    NodeSpec, PoolSpec, Scenario, UserSpec,
};

/// Node count of [`Scenario::generated_large`].
pub const LARGE_NODES: usize = 64;
/// Guest count of [`Scenario::generated_large`].
pub const LARGE_GUESTS: usize = 10_000;

/// Root password of generated scenarios (the same as the shipped demo).
pub const ROOT_PASSWORD: &str = "pve-sim-demo";
/// Secret of the `root@pam!proxlb` token of generated scenarios (the same as the demo).
pub const ROOT_TOKEN_SECRET: &str = "5f1c3e9a-6a8b-4f0e-9d2c-7b4a1e3f8c21";
/// Secret of the `proxlb@pve!balancer` token (ProxLB's documented role) of generated scenarios.
pub const PROXLB_TOKEN_SECRET: &str = "0d7b2f64-3c1e-4a9b-8f25-6e4d9c0a1b37";

const POOLS: &[(&str, &str)] = &[
    ("prod", "production guests"),
    ("staging", "staging"),
    ("dev", "development"),
    ("infra", "infrastructure services"),
    ("tenant-a", "customer A"),
    ("tenant-b", "customer B"),
    ("tenant-c", "customer C"),
    ("tenant-d", "customer D"),
];
const VM_ROLES: &[&str] = &[
    "web", "app", "db", "cache", "mq", "ci", "k8s", "mon", "search", "mail", "win", "vdi",
];
const CT_ROLES: &[&str] = &["dns", "proxy", "ntp", "log", "git", "redis", "ldap", "cron"];

/// A deterministic random stream (SplitMix64 over the noise mixer).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        noise::mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn choose<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Generates a PVE 9 cluster of `nodes` nodes and `guests` guests from `seed`: mixed VMs (about
/// 70 %) and containers with realistic sizes, about 78 % running, a few templates and backup
/// locks; ProxLB tags (`plb_affinity_*` groups, `plb_anti_affinity_*` groups, `plb_pin_<node>`,
/// `plb_ignore_vm`) next to ordinary tags; eight pools; about 3 % of the VMs HA-managed with
/// node-affinity and negative resource-affinity rules; the demo's users and tokens
/// (`root@pam` / `pve-sim-demo`, `root@pam!proxlb`, `proxlb@pve!balancer`). The first eighth
/// of the nodes get more guests than their share, so a balancer has work to do. Node names are
/// `pve01`, `pve02`, ... (`nodes` is at least 1).
pub fn large(nodes: usize, guests: usize, seed: u64) -> Scenario {
    let nodes = nodes.max(1);
    let mut rng = Rng(noise::mix(seed ^ 0x5EED_1A26_E000));
    let width = nodes.to_string().len().max(2);
    let node_specs: Vec<NodeSpec> = (0..nodes)
        .map(|i| {
            let cores = rng.choose(&[64, 96, 128, 128, 192]);
            let memory_gib = rng.choose(&[512, 768, 768, 1024, 1024]);
            NodeSpec {
                ip: Some(format!(
                    "10.{}.{}.{}",
                    1 + i / 60_000,
                    (i / 250) % 240,
                    10 + i % 240
                )),
                host_cpu: 0.01 + 0.02 * rng.unit(),
                disk: ByteSize::gib(rng.choose(&[128, 256, 480])),
                storage: Some(ByteSize::gib(memory_gib * 6)),
                ..NodeSpec::new(format!("pve{:0width$}", i + 1), cores, memory_gib)
            }
        })
        .collect();
    // Placement weight: memory, with the first eighth of the nodes overloaded.
    let hot = nodes.div_ceil(8);
    let weights: Vec<u64> = node_specs
        .iter()
        .enumerate()
        .map(|(i, n)| (n.memory.0 >> 30) * if i < hot { 16 } else { 10 })
        .collect();
    let total_weight: u64 = weights.iter().sum();
    let pick_node = |rng: &mut Rng| {
        let mut x = rng.below(total_weight);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    };

    let mut guest_specs = Vec::with_capacity(guests);
    for i in 0..guests {
        let vmid = 100 + i as u32;
        let node = node_specs[pick_node(&mut rng)].name.clone();
        let is_vm = rng.chance(0.7);
        let mut g = if is_vm {
            let role = rng.choose(VM_ROLES);
            let mut g = GuestSpec::vm(vmid, format!("{role}-{vmid:05}"), node);
            g.cpus = rng.choose(&[1, 2, 2, 4, 4, 4, 8, 8, 16]);
            g.maxmem = ByteSize::gib(rng.choose(&[1, 2, 4, 4, 8, 8, 16, 16, 32]));
            g.maxdisk = ByteSize::gib(rng.choose(&[16, 32, 32, 64, 100, 200, 500]));
            g
        } else {
            let role = rng.choose(CT_ROLES);
            let mut g = GuestSpec::ct(vmid, format!("{role}-{vmid:05}"), node);
            g.cpus = rng.choose(&[1, 1, 2, 2, 4]);
            g.maxmem = ByteSize::mib(rng.choose(&[512, 1024, 2048, 4096, 8192]));
            g.maxdisk = ByteSize::gib(rng.choose(&[8, 16, 32]));
            g.disk = Some(ByteSize(
                (g.maxdisk.0 as f64 * (0.1 + 0.6 * rng.unit())) as u64,
            ));
            g
        };
        g.mem = Some(ByteSize(
            (g.maxmem.0 as f64 * (0.3 + 0.6 * rng.unit())) as u64,
        ));
        g.cpu = 0.02 + 0.28 * rng.unit() * rng.unit().sqrt();
        if is_vm && rng.chance(0.005) {
            g.template = true;
        } else if rng.chance(0.78) {
            g.status = GuestStatus::Running;
        }
        if rng.chance(0.002) {
            g.lock = Some("backup".to_string());
        }
        let mut tags = Vec::new();
        match rng.below(100) {
            // Affinity groups of six consecutive guests.
            0..=7 => tags.push(format!("plb_affinity_grp{:04}", i / 6)),
            8..=13 => tags.push(format!("plb_anti_affinity_grp{:04}", i / 5)),
            14..=15 => {
                let target = &node_specs[rng.below(nodes as u64) as usize].name;
                tags.push(format!("plb_pin_{target}"));
            }
            16..=17 => tags.push("plb_ignore_vm".to_string()),
            _ => {}
        }
        match rng.below(10) {
            0..=3 => tags.push("prod".to_string()),
            4..=5 => tags.push("staging".to_string()),
            6 => tags.push("dev".to_string()),
            _ => {}
        }
        if rng.chance(0.1) {
            tags.push("backup-daily".to_string());
        }
        g.tags = tags;
        if rng.chance(0.5) {
            g.pool = Some(rng.choose(POOLS).0.to_string());
        }
        if is_vm && !g.template && g.lock.is_none() && rng.chance(0.03) {
            g.ha = true;
        }
        guest_specs.push(g);
    }

    // HA rules: node-affinity for chunks of five HA guests (three nodes, priorities), negative
    // resource-affinity for pairs of the remaining ones; each resource is in at most one rule.
    let ha: Vec<String> = guest_specs
        .iter()
        .filter(|g| g.ha)
        .map(GuestSpec::sid)
        .collect();
    let split = ha.len() * 3 / 5;
    let mut ha_rules = Vec::new();
    for (k, chunk) in ha[..split].chunks(5).enumerate() {
        let first = rng.below(nodes as u64) as usize;
        let picked: Vec<String> = (0..3.min(nodes))
            .map(|j| {
                let name = &node_specs[(first + j * 7) % nodes].name;
                if j == 0 {
                    format!("{name}:2")
                } else {
                    name.clone()
                }
            })
            .collect();
        let mut names = picked.clone();
        names.dedup();
        ha_rules.push(HaRuleSpec {
            rule: format!("ha-group-pin{k:03}"),
            kind: HaRuleType::NodeAffinity,
            resources: chunk.to_vec(),
            nodes: names,
            affinity: None,
            strict: k % 4 == 0,
            disable: false,
            comment: Some(format!("Generated from HA group 'pin{k:03}'.")),
        });
    }
    for (k, pair) in ha[split..].chunks(2).enumerate() {
        if pair.len() == 2 {
            ha_rules.push(HaRuleSpec {
                rule: format!("apart{k:03}"),
                kind: HaRuleType::ResourceAffinity,
                resources: pair.to_vec(),
                nodes: Vec::new(),
                affinity: Some(Affinity::Negative),
                strict: false,
                disable: false,
                comment: None,
            });
        }
    }

    let proxlb_privs = ["Datastore.Audit", "Sys.Audit", "VM.Audit", "VM.Migrate"];
    Scenario {
        cluster: ClusterSpec {
            name: format!("large{nodes}"),
            crs: Some(
                [("ha".to_string(), serde_json::json!("static"))]
                    .into_iter()
                    .collect(),
            ),
            options: [("keyboard".to_string(), serde_json::json!("en-us"))]
                .into_iter()
                .collect(),
        },
        nodes: node_specs,
        guests: guest_specs,
        pools: POOLS
            .iter()
            .map(|(id, comment)| PoolSpec {
                poolid: (*id).to_string(),
                comment: Some((*comment).to_string()),
            })
            .collect(),
        ha_rules,
        users: vec![
            UserSpec::new("root@pam", Some(ROOT_PASSWORD)).token(
                "proxlb",
                ROOT_TOKEN_SECRET,
                false,
                vec![],
            ),
            UserSpec::new("proxlb@pve", Some("proxlb-demo"))
                .acl(AclSpec::new("/", proxlb_privs))
                .token(
                    "balancer",
                    PROXLB_TOKEN_SECRET,
                    true,
                    vec![AclSpec::new("/", proxlb_privs)],
                ),
        ],
        seed,
    }
}

/// Pools of [`balancing_case`] (the differential test configures rules for some of them).
pub const CASE_POOLS: &[&str] = &["web", "db", "batch", "infra"];

/// A small, loaded cluster for comparing balancers (the balancing differential test): `nodes`
/// nodes `pve1`, `pve2`, ... with 8–48 threads and 32–256 GiB, `guests` guests with unique
/// names (`vm-<vmid>`, `ct-<vmid>`) sized so the cluster is 40–85 % full, placed unevenly (the
/// first node gets about three shares), about 90 % running; ProxLB tags for every rule kind
/// (affinity and anti-affinity groups, single and multi-node pins, ignore), pool members of
/// [`CASE_POOLS`], and on PVE 9 a few HA guests with node-affinity and resource-affinity rules.
/// `pve8` makes the last node run PVE 8.4.1 (no HA rules then). Deterministic per seed.
pub fn balancing_case(nodes: usize, guests: usize, seed: u64, pve8: bool) -> Scenario {
    let nodes = nodes.max(2);
    let mut rng = Rng(noise::mix(seed ^ 0xD1FF_BA1A_0CE5));
    let node_specs: Vec<NodeSpec> = (0..nodes)
        .map(|i| {
            let cores = rng.choose(&[8, 16, 16, 24, 32, 48]);
            let memory_gib = rng.choose(&[32, 64, 64, 96, 128, 256]);
            let disk_gib = rng.choose(&[64, 100, 240, 480]);
            let mut n = NodeSpec {
                host_cpu: 0.01 + 0.05 * rng.unit(),
                disk: ByteSize::gib(disk_gib),
                disk_used: Some(ByteSize(
                    (ByteSize::gib(disk_gib).0 as f64 * (0.05 + 0.8 * rng.unit())) as u64,
                )),
                ..NodeSpec::new(format!("pve{}", i + 1), cores, memory_gib)
            };
            if pve8 && i + 1 == nodes {
                n.version = "8.4.1".to_string();
            }
            n
        })
        .collect();
    let capacity: u64 = node_specs.iter().map(|n| n.memory.0).sum();
    // Mean guest size so that the guests fill 40-85 % of the cluster's memory (used ~60 % of
    // assigned on average).
    let fill = 0.4 + 0.45 * rng.unit();
    let mean_maxmem = (capacity as f64 * fill / 0.6 / guests.max(1) as f64).max(256.0 * 1048576.0);
    let weights: Vec<f64> = (0..nodes)
        .map(|i| if i == 0 { 3.0 } else { 0.5 + rng.unit() })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let mut guest_specs = Vec::with_capacity(guests);
    let mut ha_sids = Vec::new();
    for i in 0..guests {
        let vmid = 100 + i as u32;
        let mut x = rng.unit() * total_weight;
        let mut at = nodes - 1;
        for (k, w) in weights.iter().enumerate() {
            if x < *w {
                at = k;
                break;
            }
            x -= w;
        }
        let node = node_specs[at].name.clone();
        let is_vm = rng.chance(0.7);
        let maxmem = ByteSize(
            ((mean_maxmem * (0.25 + 1.5 * rng.unit())) as u64 / 1048576).max(256) * 1048576,
        );
        let mut g = if is_vm {
            let mut g = GuestSpec::vm(vmid, format!("vm-{vmid}"), node);
            g.maxdisk = ByteSize::gib(rng.choose(&[16, 32, 64, 100, 200]));
            g
        } else {
            let mut g = GuestSpec::ct(vmid, format!("ct-{vmid}"), node);
            g.maxdisk = ByteSize::gib(rng.choose(&[8, 16, 32]));
            g.disk = Some(ByteSize(
                (g.maxdisk.0 as f64 * (0.1 + 0.7 * rng.unit())) as u64,
            ));
            g
        };
        g.cpus = rng.choose(&[1, 2, 2, 4, 4, 8]);
        g.maxmem = maxmem;
        g.mem = Some(ByteSize(
            (maxmem.0 as f64 * (0.3 + 0.6 * rng.unit())) as u64,
        ));
        g.cpu = 0.02 + 0.9 * rng.unit() * rng.unit();
        if rng.chance(0.9) {
            g.status = GuestStatus::Running;
        }
        let mut tags = Vec::new();
        match rng.below(100) {
            0..=9 => tags.push(format!("plb_affinity_a{}", rng.below(3))),
            10..=19 => tags.push(format!("plb_anti_affinity_x{}", rng.below(3))),
            20..=25 => tags.push(format!(
                "plb_pin_{}",
                node_specs[rng.below(nodes as u64) as usize].name
            )),
            26..=28 => {
                // Multi-node pin.
                let a = rng.below(nodes as u64) as usize;
                let b = (a + 1 + rng.below(nodes as u64 - 1) as usize) % nodes;
                tags.push(format!("plb_pin_{}", node_specs[a].name));
                tags.push(format!("plb_pin_{}", node_specs[b].name));
            }
            29..=32 => tags.push("plb_ignore_vm".to_string()),
            _ => {}
        }
        if rng.chance(0.3) {
            tags.push("prod".to_string());
        }
        g.tags = tags;
        if rng.chance(0.3) {
            g.pool = Some(rng.choose(CASE_POOLS).to_string());
        }
        if is_vm && !pve8 && rng.chance(0.05) {
            g.ha = true;
            ha_sids.push(g.sid());
        }
        guest_specs.push(g);
    }
    let mut ha_rules = Vec::new();
    if ha_sids.len() >= 2 {
        let (pin, apart) = ha_sids.split_at(ha_sids.len() / 2);
        if !pin.is_empty() {
            ha_rules.push(HaRuleSpec {
                rule: "ha-pin".to_string(),
                kind: HaRuleType::NodeAffinity,
                resources: pin.to_vec(),
                nodes: vec![
                    node_specs[nodes - 1].name.clone(),
                    node_specs[nodes / 2].name.clone(),
                ],
                affinity: None,
                strict: false,
                disable: false,
                comment: None,
            });
        }
        if apart.len() >= 2 {
            ha_rules.push(HaRuleSpec {
                rule: "ha-apart".to_string(),
                kind: HaRuleType::ResourceAffinity,
                resources: apart.to_vec(),
                nodes: Vec::new(),
                affinity: Some(Affinity::Negative),
                strict: false,
                disable: false,
                comment: None,
            });
        }
    }
    Scenario {
        cluster: ClusterSpec {
            name: format!("case{seed}"),
            crs: None,
            options: Default::default(),
        },
        nodes: node_specs,
        guests: guest_specs,
        pools: CASE_POOLS
            .iter()
            .map(|id| PoolSpec {
                poolid: (*id).to_string(),
                comment: None,
            })
            .collect(),
        ha_rules,
        users: vec![UserSpec::new("root@pam", Some(ROOT_PASSWORD)).token(
            "proxlb",
            ROOT_TOKEN_SECRET,
            false,
            vec![],
        )],
        seed,
    }
}

/// Parses a `--generate` size such as `64x10000` into (nodes, guests).
pub fn parse_size(s: &str) -> Option<(usize, usize)> {
    let (n, g) = s.trim().split_once(['x', 'X'])?;
    let n: usize = n.trim().parse().ok()?;
    let g: usize = g.trim().parse().ok()?;
    ((1..=9_999).contains(&n) && g <= 1_000_000).then_some((n, g))
}

impl Scenario {
    /// The large generated scenario: [`LARGE_NODES`] nodes and [`LARGE_GUESTS`] guests (see
    /// [`large`]).
    pub fn generated_large(seed: u64) -> Self {
        large(LARGE_NODES, LARGE_GUESTS, seed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scenario::GuestKind;

    #[test]
    fn generated_scenarios_are_valid_and_deterministic() {
        let a = large(8, 600, 7);
        a.validate().unwrap();
        assert_eq!(a.nodes.len(), 8);
        assert_eq!(a.guests.len(), 600);
        let b = large(8, 600, 7);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let c = large(8, 600, 8);
        assert_ne!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&c).unwrap()
        );
        let cts = a.guests.iter().filter(|g| g.kind == GuestKind::Ct).count();
        assert!((100..300).contains(&cts), "{cts} containers");
        let tagged = |p: &str| {
            a.guests
                .iter()
                .filter(|g| g.tags.iter().any(|t| t.starts_with(p)))
                .count()
        };
        for prefix in [
            "plb_affinity_",
            "plb_anti_affinity_",
            "plb_pin_",
            "plb_ignore",
        ] {
            assert!(tagged(prefix) > 0, "{prefix}");
        }
        assert!(a.guests.iter().any(|g| g.ha));
        assert!(a.guests.iter().any(|g| g.pool.is_some()));
        assert!(!a.ha_rules.is_empty());
    }

    #[test]
    fn large_is_64_by_10000_and_valid() {
        let s = Scenario::generated_large(1);
        s.validate().unwrap();
        assert_eq!((s.nodes.len(), s.guests.len()), (LARGE_NODES, LARGE_GUESTS));
        assert_eq!(s.nodes[63].name, "pve64");
    }

    #[test]
    fn balancing_cases_are_valid_loaded_and_deterministic() {
        for seed in 0..20 {
            let s = balancing_case(
                4 + (seed as usize % 5),
                20 + seed as usize * 5,
                seed,
                seed % 4 == 3,
            );
            s.validate().unwrap();
            let names: std::collections::BTreeSet<&str> =
                s.guests.iter().map(|g| g.name.as_str()).collect();
            assert_eq!(names.len(), s.guests.len(), "unique names");
            let on_first = s.guests.iter().filter(|g| g.node == "pve1").count();
            assert!(on_first > 0, "the first node is loaded");
        }
        let a = serde_json::to_string(&balancing_case(5, 40, 9, false)).unwrap();
        assert_eq!(
            a,
            serde_json::to_string(&balancing_case(5, 40, 9, false)).unwrap()
        );
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("64x10000"), Some((64, 10_000)));
        assert_eq!(parse_size("3X5"), Some((3, 5)));
        assert_eq!(parse_size("0x5"), None);
        assert_eq!(parse_size("64"), None);
    }
}
