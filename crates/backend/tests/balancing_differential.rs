//! The native balancing plan against real ProxLB 2.3.0, on random seeded pve-sim clusters.
//!
//! For every scenario the simulator runs with noise off and its clock frozen, so ProxLB and the
//! product read the same numbers. Real ProxLB runs `-d -j` (the plan) and `-d -b` (the best node)
//! on a generated `proxlb.yaml`; the product reads the same file through its own path
//! (`config_file::load` → `config_file::connection` → `PveClient` → `snapshot::fetch` →
//! `cluster_view::to_domain` → `decision::evaluate`). The planned moves are compared as a set
//! (guest name → current and target node) and the best node as a name. Any disagreement fails
//! the test and prints the seed, the scenario, the config and both plans.
//!
//! Scale with environment variables (defaults keep CI under 5 minutes):
//! - `PLB_DIFF_SCENARIOS` (default 16, CI at most 60), `PLB_DIFF_MAX_NODES` (default 8),
//!   `PLB_DIFF_MAX_GUESTS` (default 120, at least 20), `PLB_DIFF_SEED` (base seed, default 1),
//! - `PLB_DIFF_JOBS`: ProxLB processes at a time (default 4: two scenarios' `-j` and `-b`; ProxLB
//!   mostly sleeps between requests),
//! - `PLB_DIFF_REPORT`: also write the agreement table to this file.
//!
//! `scripts/differential.sh` runs the full sweep. ProxLB is found via `PROXLB_PYTHON` or
//! `<workspace>/.venv/bin/python`; if it is missing the test FAILS.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plb_backend::adapters::config_file::{self, PveOverrides};
use plb_backend::adapters::proxlb::plan_json::{self, ProxlbPlan};
use plb_backend::adapters::pve::PveClient;
use plb_backend::services::cluster_view::to_domain;
use plb_backend::services::snapshot::{self, SnapshotConfig};
use plb_domain::proxlb::config::{
    AffinityType, BalanceType, BalancingConfig, Mode, PoolRuleConfig, ProxmoxClusterConfig,
    PsiConfig, PsiThreshold, Resource,
};
use plb_domain::proxlb::{evaluate, ClusterSnapshot, Decision, EvaluationInput};
use plb_pve_sim::generate::{balancing_case, CASE_POOLS, ROOT_TOKEN_SECRET};
use plb_pve_sim::{Scenario, SimConfig, Simulator};
use tokio::sync::Semaphore;

/// A frozen simulated "now" shared by both sides.
const START: f64 = 1_795_365_000.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A deterministic random stream for the case knobs (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// One differential scenario: a cluster and the ProxLB config to run on it.
#[derive(Clone, Debug)]
struct Case {
    /// Label (`seed-N` or a named quirk scenario).
    name: String,
    seed: u64,
    scenario: Scenario,
    cluster: ProxmoxClusterConfig,
    balancing: BalancingConfig,
}

impl Case {
    fn method_mode(&self) -> (Resource, Mode) {
        (self.balancing.method, self.balancing.mode)
    }

    fn summary(&self) -> String {
        let running = self
            .scenario
            .guests
            .iter()
            .filter(|g| matches!(g.status, plb_pve_sim::GuestStatus::Running))
            .count();
        format!(
            "{} (seed {}): {} nodes, {} guests ({} running), method {} mode {:?}",
            self.name,
            self.seed,
            self.scenario.nodes.len(),
            self.scenario.guests.len(),
            running,
            self.balancing.method.as_str(),
            self.balancing.mode,
        )
    }
}

/// The random case `index` of a sweep: method × mode rotate, every rule source is drawn.
fn random_case(base_seed: u64, index: usize, max_nodes: usize, max_guests: usize) -> Case {
    let seed = base_seed.wrapping_mul(1_000_003).wrapping_add(index as u64);
    let mut rng = Rng(seed ^ 0xC0FF_EE00_D1FF);
    let method = [Resource::Memory, Resource::Cpu, Resource::Disk][index % 3];
    // Every seventh case balances by PSI (PVE 9 only; 7 is prime to 3, so every method gets
    // PSI cases); otherwise used and assigned alternate.
    let mode = if index % 7 == 6 {
        Mode::Psi
    } else if (index / 3).is_multiple_of(2) {
        Mode::Used
    } else {
        Mode::Assigned
    };
    let max_nodes = max_nodes.max(4);
    let nodes = 4 + rng.below((max_nodes - 3) as u64) as usize;
    let max_guests = max_guests.max(20);
    let guests = 20 + rng.below((max_guests - 19) as u64) as usize;
    let pve8 = mode != Mode::Psi && rng.chance(0.15);
    let mut scenario = balancing_case(nodes, guests, seed, pve8);
    let node_name = |k: usize| format!("pve{}", k + 1);
    // Never pve1: it carries the load that makes balancing happen.
    let other = |rng: &mut Rng| node_name(1 + rng.below(nodes as u64 - 1) as usize);

    let mut cluster = ProxmoxClusterConfig::default();
    if rng.chance(0.2) {
        cluster.maintenance_nodes.push(other(&mut rng));
    }
    if rng.chance(0.15) {
        let k = 1 + rng.below(nodes as u64 - 1) as usize;
        scenario.nodes[k].ha_maintenance = true;
    }
    if rng.chance(0.15) {
        let n = other(&mut rng);
        if !cluster.maintenance_nodes.contains(&n) {
            cluster.ignore_nodes.push(n);
        }
    }

    let mut balancing = BalancingConfig {
        enable: true,
        method,
        mode,
        balanciness: 3 + rng.below(13) as i64,
        balance_types: match rng.below(6) {
            0 => vec![BalanceType::Vm],
            1 => vec![BalanceType::Ct],
            _ => vec![BalanceType::Vm, BalanceType::Ct],
        },
        balance_larger_guests_first: rng.chance(0.3),
        enforce_affinity: rng.chance(0.15),
        enforce_pinning: rng.chance(0.15),
        ..BalancingConfig::default()
    };
    if rng.chance(0.25) {
        let t = Some(50 + rng.below(40) as i64);
        match method {
            Resource::Memory => balancing.memory_threshold = t,
            Resource::Cpu => balancing.cpu_threshold = t,
            Resource::Disk => balancing.disk_threshold = t,
        }
    }
    if rng.chance(0.2) {
        let mut reserve = BTreeMap::new();
        let key = if rng.chance(0.5) {
            "defaults".to_string()
        } else {
            node_name(rng.below(nodes as u64) as usize)
        };
        reserve.insert(
            key,
            [(Resource::Memory, 2 + rng.below(12) as i64)]
                .into_iter()
                .collect(),
        );
        balancing.node_resource_reserve = Some(reserve);
    }
    if rng.chance(0.5) {
        let mut pools = BTreeMap::new();
        for pool in CASE_POOLS {
            let rule = match rng.below(5) {
                0 => PoolRuleConfig {
                    kind: Some(AffinityType::Affinity),
                    pin: None,
                    strict: true,
                },
                1 => PoolRuleConfig {
                    kind: Some(AffinityType::AntiAffinity),
                    pin: None,
                    strict: true,
                },
                2 => PoolRuleConfig {
                    kind: None,
                    pin: Some(vec![other(&mut rng), other(&mut rng)]),
                    strict: rng.chance(0.5),
                },
                3 => PoolRuleConfig {
                    kind: None,
                    pin: Some(vec![other(&mut rng)]),
                    strict: rng.chance(0.5),
                },
                _ => continue,
            };
            pools.insert((*pool).to_string(), rule);
        }
        balancing.pools = Some(pools);
    }
    if rng.chance(0.15) {
        let g = &scenario.guests[rng.below(scenario.guests.len() as u64) as usize];
        balancing.ignore_guests.push(g.name.clone());
    }
    if mode == Mode::Psi {
        let t = |full: f64, some: f64, spikes: f64| PsiThreshold {
            pressure_full: full,
            pressure_some: some,
            pressure_spikes: spikes,
        };
        let scale = 0.5 + rng.below(4) as f64;
        let all = |th: PsiThreshold| Resource::ALL.into_iter().map(|r| (r, th)).collect();
        balancing.psi = Some(PsiConfig {
            guests: all(t(0.3 * scale, 0.6 * scale, 0.8 * scale)),
            nodes: all(t(0.2 * scale, 0.5 * scale, 0.6 * scale)),
        });
    }
    Case {
        name: format!("seed-{seed}"),
        seed,
        scenario,
        cluster,
        balancing,
    }
}

/// `proxlb.yaml` for a case: `proxmox_cluster` and `balancing` as JSON (valid YAML), so both
/// sides read exactly the same settings.
fn config_text(case: &Case, host_port: &str) -> String {
    format!(
        "proxmox_api:\n  hosts: [\"{host_port}\"]\n  user: root@pam\n  token_id: proxlb\n  \
         token_secret: {ROOT_TOKEN_SECRET}\n  ssl_verification: false\n  timeout: 30\n\
         proxmox_cluster: {}\nbalancing: {}\nservice:\n  daemon: false\n  log_level: INFO\n",
        serde_json::to_string(&case.cluster).unwrap(),
        serde_json::to_string(&case.balancing).unwrap(),
    )
}

/// Runs `python -m proxlb -c cfg args...` with a hard timeout; returns (exit code, stdout+stderr).
async fn run_proxlb(python: &Path, cfg: &Path, args: &[&str]) -> (i32, String) {
    let child = tokio::process::Command::new(python)
        .args(["-m", "proxlb", "-c"])
        .arg(cfg)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(600), child.wait_with_output()).await {
        Ok(output) => {
            let output = output.unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            (output.status.code().unwrap_or(-1), text)
        }
        Err(_) => panic!("ProxLB did not finish within 600 s (killed on drop)"),
    }
}

type Moves = BTreeMap<String, (String, String)>;

/// What one case found.
struct Outcome {
    case: Case,
    proxlb_moves: Moves,
    native_moves: Moves,
    proxlb_best: Option<String>,
    native_best: Option<String>,
    /// Why the comparison could not be made (ProxLB failed, ...).
    error: Option<String>,
    details: String,
    proxlb_seconds: f64,
    /// Guests whose CPU, memory or disk input differs between ProxLB and the product.
    input_differences: Vec<String>,
    /// Input differences when the product uses instantaneous CPU (noise test only).
    instant_input_differences: usize,
}

impl Outcome {
    fn agrees(&self) -> bool {
        self.error.is_none()
            && self.proxlb_moves == self.native_moves
            && self.proxlb_best == self.native_best
    }
}

fn fmt_moves(moves: &Moves) -> String {
    if moves.is_empty() {
        return "  (none)\n".to_string();
    }
    moves
        .iter()
        .map(|(g, (from, to))| format!("  {g}: {from} -> {to}\n"))
        .collect()
}

/// Where the product's inputs differ from ProxLB's collected figures (first few).
fn input_differences(plan: &ProxlbPlan, snapshot: &ClusterSnapshot) -> Vec<String> {
    let mut out = Vec::new();
    for g in &snapshot.guests {
        let Some(p) = plan.guests.get(&g.name) else {
            continue;
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
        if !close(p.cpu.used, g.cpu_usage) {
            out.push(format!("{} cpu {} vs {}", g.name, p.cpu.used, g.cpu_usage));
        }
        if !close(p.memory.used, g.mem_used as f64) {
            out.push(format!(
                "{} mem {} vs {}",
                g.name, p.memory.used, g.mem_used
            ));
        }
        if !close(p.disk.used, g.disk_used as f64) {
            out.push(format!(
                "{} disk {} vs {}",
                g.name, p.disk.used, g.disk_used
            ));
        }
    }
    out.truncate(10);
    out
}

async fn native_decision(cfg: &Path, sim: &Simulator) -> (ClusterSnapshot, Decision) {
    native_decision_with(cfg, sim, true).await
}

/// The product's decision; `rrd` off reads only `/cluster/resources` (instantaneous CPU, no PSI).
async fn native_decision_with(
    cfg: &Path,
    sim: &Simulator,
    rrd: bool,
) -> (ClusterSnapshot, Decision) {
    let config = config_file::load(cfg).unwrap();
    let overrides = PveOverrides {
        fingerprints: vec![sim.fingerprint().unwrap().parse().unwrap()],
        ..PveOverrides::default()
    };
    let connection = config_file::connection(cfg, &config, &overrides).unwrap();
    let client = PveClient::new(&connection).unwrap();
    let data = snapshot::fetch(
        &client,
        &SnapshotConfig {
            node_status: true,
            node_history: false,
            // Every RRD input in this one cycle (the poller spreads them over cycles).
            rrd_budget: if rrd {
                2 * (sim.with_cluster(|c| c.guests.len() + c.nodes.len()) + 1)
            } else {
                0
            },
            ..SnapshotConfig::default()
        },
        None,
    )
    .await
    .unwrap();
    let domain = to_domain(&data);
    let decision = evaluate(EvaluationInput {
        snapshot: &domain,
        config: &config,
        now: plb_domain::view::local_time(START as u64, 0),
        dry_run: true,
    });
    (domain, decision)
}

async fn run_case(
    case: Case,
    python: PathBuf,
    slots: Arc<Semaphore>,
    dir: PathBuf,
    noise: f64,
) -> Outcome {
    let config = SimConfig {
        noise,
        time_scale: 0.0,
        start_time: Some(START),
        ..SimConfig::default()
    };
    let sim = Simulator::start(case.scenario.clone(), config)
        .await
        .unwrap();
    let cfg = dir.join(format!("{}.yaml", case.name));
    std::fs::write(&cfg, config_text(&case, &sim.host_port())).unwrap();

    let started = Instant::now();
    let (j, b) = {
        // Both slots at once (two single acquires could deadlock the cases against each other).
        let permits = slots.clone().acquire_many_owned(2).await.unwrap();
        let r = tokio::join!(
            run_proxlb(&python, &cfg, &["-d", "-j"]),
            run_proxlb(&python, &cfg, &["-d", "-b"])
        );
        drop(permits);
        r
    };
    let proxlb_seconds = started.elapsed().as_secs_f64();
    let (snapshot, decision) = native_decision(&cfg, &sim).await;
    // Without the RRD inputs (what the snapshot had before): for the noise test's proof that
    // the inputs matter.
    let instant = if noise > 0.0 {
        Some(native_decision_with(&cfg, &sim, false).await.0)
    } else {
        None
    };
    sim.shutdown().await;
    let _ = std::fs::remove_file(&cfg);

    let native_moves: Moves = decision
        .moves
        .iter()
        .map(|m| {
            (
                m.planned.guest.clone(),
                (m.planned.from.clone(), m.planned.to.clone()),
            )
        })
        .collect();
    let mut outcome = Outcome {
        proxlb_moves: Moves::new(),
        native_moves,
        proxlb_best: None,
        native_best: decision.best_node.clone(),
        error: None,
        details: String::new(),
        proxlb_seconds,
        input_differences: Vec::new(),
        instant_input_differences: 0,
        case,
    };
    if j.0 != 0 || b.0 != 0 {
        outcome.error = Some(format!(
            "ProxLB failed: -j exit {}, -b exit {}\n{}\n{}",
            j.0, j.1, b.0, b.1
        ));
        return outcome;
    }
    let plan = match plan_json::parse_plan(&j.1) {
        Ok(plan) => plan,
        Err(e) => {
            outcome.error = Some(format!("cannot parse -j: {e}\n{}", j.1));
            return outcome;
        }
    };
    outcome.proxlb_moves = plan.moves();
    outcome.input_differences = input_differences(&plan, &snapshot);
    if let Some(instant) = &instant {
        outcome.instant_input_differences = input_differences(&plan, instant).len();
    }
    // No eligible node: ProxLB prints nothing (and, with -d, the run ends without a plan).
    outcome.proxlb_best = plan_json::parse_best_node(&b.1).ok();
    if !outcome.agrees() {
        let inputs = &outcome.input_differences;
        let proxlb_groups: BTreeSet<BTreeSet<String>> = plan
            .affinity_member_sets()
            .into_iter()
            .filter(|s| s.len() > 1)
            .collect();
        outcome.details = format!(
            "config:\n{}\nProxLB affinity groups (2+ members): {proxlb_groups:?}\n\
             ProxLB anti-affinity: {:?}\ninput differences (ProxLB vs native): {inputs:?}\n\
             native reasons: {:?}\nnative events: {:?}\nProxLB log:\n{}",
            config_text(&outcome.case, "<sim>"),
            plan.anti_affinity_members(),
            decision.reasons,
            decision.events,
            j.1.lines()
                .filter(|l| l.contains(" - ProxLB - ") && !l.contains(" INFO "))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    outcome
}

/// Agreement per method and mode: (agreeing, total, cases with moves).
fn table(outcomes: &[Outcome]) -> String {
    let mut rows: BTreeMap<(String, String), (usize, usize, usize)> = BTreeMap::new();
    for o in outcomes {
        let (method, mode) = o.case.method_mode();
        let row = rows
            .entry((
                method.as_str().to_string(),
                format!("{mode:?}").to_lowercase(),
            ))
            .or_default();
        row.1 += 1;
        if o.agrees() {
            row.0 += 1;
        }
        if !o.proxlb_moves.is_empty() {
            row.2 += 1;
        }
    }
    let mut out = String::from(
        "| method | mode | scenarios | with moves | agree | agreement |\n|---|---|---|---|---|---|\n",
    );
    let (mut a, mut t) = (0, 0);
    for ((method, mode), (agree, total, with_moves)) in &rows {
        a += agree;
        t += total;
        out.push_str(&format!(
            "| {method} | {mode} | {total} | {with_moves} | {agree} | {:.0} % |\n",
            *agree as f64 * 100.0 / (*total).max(1) as f64
        ));
    }
    out.push_str(&format!(
        "| all | all | {t} | {} | {a} | {:.0} % |\n",
        outcomes
            .iter()
            .filter(|o| !o.proxlb_moves.is_empty())
            .count(),
        a as f64 * 100.0 / t.max(1) as f64
    ));
    out
}

async fn run_all(cases: Vec<Case>, noise: f64) -> Vec<Outcome> {
    plb_backend::tls::install_crypto_provider();
    let python = common::proxlb_python();
    let jobs = env_usize("PLB_DIFF_JOBS", 4).max(2);
    let slots = Arc::new(Semaphore::new(jobs));
    // Its own folder per call: the tests of this binary run side by side in one process.
    let scratch = tempfile::Builder::new()
        .prefix("plb-diff-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
    // Start every case's sim lazily: a case holds its two ProxLB slots while ProxLB runs.
    let handles: Vec<_> = cases
        .into_iter()
        .map(|case| {
            tokio::spawn(run_case(
                case,
                python.clone(),
                Arc::clone(&slots),
                dir.clone(),
                noise,
            ))
        })
        .collect();
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.await.unwrap());
    }
    drop(scratch);
    outcomes
}

fn report_and_assert(outcomes: &[Outcome], started: Instant) {
    let table = table(outcomes);
    let seconds: f64 = outcomes.iter().map(|o| o.proxlb_seconds).sum();
    println!(
        "balancing differential: {} scenarios in {:.0} s (ProxLB wall time summed {:.0} s)\n{table}",
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        seconds
    );
    if let Ok(path) = std::env::var("PLB_DIFF_REPORT") {
        std::fs::write(&path, &table).unwrap();
    }
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.agrees())
        .map(|o| {
            format!(
                "=== DISAGREEMENT {} ===\n{}\nProxLB moves:\n{}native moves:\n{}best node: ProxLB {:?}, native {:?}\n{}",
                o.case.summary(),
                o.error.clone().unwrap_or_default(),
                fmt_moves(&o.proxlb_moves),
                fmt_moves(&o.native_moves),
                o.proxlb_best,
                o.native_best,
                o.details
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios disagree:\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_plan_agrees_with_real_proxlb_on_random_clusters() {
    let started = Instant::now();
    let count = env_usize("PLB_DIFF_SCENARIOS", 16);
    let max_nodes = env_usize("PLB_DIFF_MAX_NODES", 8);
    let max_guests = env_usize("PLB_DIFF_MAX_GUESTS", 120);
    let base = env_usize("PLB_DIFF_SEED", 1) as u64;
    let cases: Vec<Case> = (0..count)
        .map(|i| random_case(base, i, max_nodes, max_guests))
        .collect();
    let outcomes = run_all(cases, 0.0).await;
    report_and_assert(&outcomes, started);
}

/// With the simulator's usage noise on (clock still frozen), a guest's RRD mean differs from its
/// instantaneous CPU: the product must read the same RRD inputs as ProxLB to agree. Also checks
/// the inputs themselves (CPU, memory, disk of every guest) against ProxLB's `-j`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rrd_inputs_match_proxlb_with_usage_noise() {
    let started = Instant::now();
    // cpu/used and cpu/assigned, where the CPU input matters.
    let cases: Vec<Case> = [1usize, 4]
        .into_iter()
        .map(|i| random_case(11, i, 5, 40))
        .collect();
    let outcomes = run_all(cases, 1.0).await;
    for o in &outcomes {
        assert_eq!(o.case.balancing.method, Resource::Cpu);
        assert!(
            o.input_differences.is_empty(),
            "{}: inputs differ: {:?}",
            o.case.summary(),
            o.input_differences
        );
        // The check can fail: instantaneous CPU differs from ProxLB's RRD mean under noise.
        assert!(
            o.instant_input_differences > 0,
            "{}: instantaneous CPU equals the RRD mean, the noise test proves nothing",
            o.case.summary()
        );
    }
    report_and_assert(&outcomes, started);
}

/// The poller fetches ProxLB's RRD inputs within its request budget, never-fetched and oldest
/// subjects first, and reports coverage and age.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rrd_inputs_are_fetched_within_the_budget_oldest_first() {
    plb_backend::tls::install_crypto_provider();
    let case = random_case(3, 0, 4, 30);
    let sim = Simulator::start(
        case.scenario.clone(),
        SimConfig {
            time_scale: 0.0,
            start_time: Some(START),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("plb-diff-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("proxlb.yaml");
    std::fs::write(&cfg, config_text(&case, &sim.host_port())).unwrap();
    let config = config_file::load(&cfg).unwrap();
    let overrides = PveOverrides {
        fingerprints: vec![sim.fingerprint().unwrap().parse().unwrap()],
        ..PveOverrides::default()
    };
    let client =
        PveClient::new(&config_file::connection(&cfg, &config, &overrides).unwrap()).unwrap();
    let budget = 10;
    let poll = SnapshotConfig {
        node_status: false,
        node_history: false,
        rrd_budget: budget,
        ..SnapshotConfig::default()
    };
    let rrd_requests = |sim: &Simulator| -> u64 {
        sim.request_counts()
            .iter()
            .filter(|(k, _)| k.ends_with("/rrddata"))
            .map(|(_, v)| *v)
            .sum()
    };
    let first = snapshot::fetch(&client, &poll, None).await.unwrap();
    assert_eq!(rrd_requests(&sim), budget as u64);
    let status = first.inputs_status();
    let running = status.running_guests;
    assert!(running > budget, "{running} running guests");
    // Nodes come first (all never fetched, nodes listed before guests), then guests.
    assert_eq!(status.nodes_covered, 4.min(budget / 2));
    assert!(!status.complete());

    let mut data = first;
    let mut cycles = 1;
    while !data.inputs_status().complete() {
        sim.reset_request_counts();
        data = snapshot::fetch(&client, &poll, Some(&data)).await.unwrap();
        assert!(rrd_requests(&sim) <= budget as u64);
        cycles += 1;
        assert!(cycles < 100, "never complete");
    }
    // Every subject (nodes + running guests) once, `budget / 2` per cycle.
    let subjects = 4 + running;
    assert_eq!(cycles, subjects.div_ceil(budget / 2));
    let status = data.inputs_status();
    assert!(status.inputs_age(START as u64 + 10_000_000_000).is_some());
    // The product's snapshot now carries ProxLB's inputs: RRD mean CPU and PSI.
    let domain = to_domain(&data);
    assert!(domain.guests.iter().any(|g| g.psi.is_some()));
    assert!(domain.nodes.iter().all(|n| n.psi.is_some()));
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
