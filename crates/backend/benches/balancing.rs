//! `cargo bench -p plb-backend --bench balancing`: the native plan, its explanations and the
//! what-if at 3 nodes (the demo scenario) and at 64 nodes / 10,000 guests (the `large` generated
//! scenario), on snapshots read through the real client from the in-process simulator, and real
//! ProxLB 2.3.0 `-d -j` (wall time, requests) on the demo and an 8-node case. Prints a
//! Markdown section (also written to target/bench-balancing.md). Results, not asserts.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use plb_backend::clock::SystemClock;
use plb_backend::ports::{Clock, PveApi};
use plb_backend::services::cluster_view::to_domain;
use plb_backend::services::snapshot::{self, SnapshotConfig};
use plb_domain::proxlb::best_node::{best_node, NewGuest};
use plb_domain::proxlb::config::BalanceType;
use plb_domain::proxlb::decision::{evaluate, evaluate_full, EvaluationInput};
use plb_domain::proxlb::maintenance::maintenance_overview;
use plb_domain::proxlb::plan::simulate;
use plb_domain::proxlb::rules::{current_violations, ProxlbView, RulesView};
use plb_domain::proxlb::what_if::{what_if, what_if_projected, WhatIfInput};
use plb_domain::proxlb::{ClusterSnapshot, LocalTime, ProxLbConfig, Weekday};
use plb_pve_sim::{Scenario, SimConfig, Simulator};
use tokio_util::sync::CancellationToken;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A simulator with the clock frozen, so ProxLB and the native plan see the same numbers.
async fn frozen_sim(scenario: Scenario) -> Simulator {
    plb_backend::tls::install_crypto_provider();
    let config = SimConfig {
        time_scale: 0.0,
        start_time: Some(1_795_365_000.0),
        ..SimConfig::default()
    };
    Simulator::start(scenario, config).await.unwrap()
}

/// The snapshot of `scenario` as the server builds it: simulator, real client, poller, conversion.
async fn snapshot_of(scenario: Scenario) -> ClusterSnapshot {
    snapshot_from(&frozen_sim(scenario).await).await
}

/// The snapshot of a running simulator as the server builds it: real client, poller, conversion.
async fn snapshot_from(sim: &Simulator) -> ClusterSnapshot {
    let api = client(sim, root_token(), pinned(sim));
    let cancel = CancellationToken::new();
    let handle = snapshot::spawn(
        Arc::new(api) as Arc<dyn PveApi>,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        SnapshotConfig {
            interval: Duration::from_secs(3600),
            node_status: true,
            node_history: false,
            rrd_budget: 0,
        },
        cancel.clone(),
    );
    let mut rx = handle.subscribe();
    let snap = tokio::time::timeout(Duration::from_secs(300), async {
        loop {
            let current = Arc::clone(&rx.borrow_and_update());
            if current.sequence > 0 {
                return current;
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .unwrap();
    cancel.cancel();
    to_domain(snap.data.as_ref().unwrap())
}

fn config() -> ProxLbConfig {
    let mut config = ProxLbConfig::with_api(vec!["127.0.0.1".into()], "root@pam");
    config.balancing.enable = true;
    config.balancing.balance_types = vec![BalanceType::Vm, BalanceType::Ct];
    config
}

/// A candidate as a user would try it: lower balanciness and the second node in maintenance.
fn candidate(snapshot: &ClusterSnapshot) -> ProxLbConfig {
    let mut c = config();
    c.balancing.balanciness = 5;
    c.proxmox_cluster.maintenance_nodes = vec![snapshot.nodes[1].name.clone()];
    c
}

fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn section(out: &mut String, label: &str, snapshot: &ClusterSnapshot, runs: usize) {
    let now = LocalTime {
        weekday: Weekday::Monday,
        hour: 12,
        minute: 0,
    };
    let current = config();
    let cand = candidate(snapshot);
    let input = EvaluationInput {
        snapshot,
        config: &current,
        now,
        dry_run: false,
    };
    let baseline = evaluate_full(input);
    let moves = baseline.decision.moves.len();
    let cand_moves = evaluate(EvaluationInput {
        config: &cand,
        ..input
    })
    .moves
    .len();
    writeln!(
        out,
        "\n### {label}: {} nodes, {} guests ({moves} moves today, {cand_moves} with the candidate)\n",
        snapshot.nodes.len(),
        snapshot.guests.len()
    )
    .unwrap();
    writeln!(
        out,
        "| operation | p50 ms | p99 ms |\n| --- | ---: | ---: |"
    )
    .unwrap();
    let mut row = |name: &str, (p50, p99): (Duration, Duration)| {
        writeln!(out, "| {name} | {} | {} |", ms(p50), ms(p99)).unwrap();
    };
    row(
        "`evaluate` (native plan + decision)",
        time(runs, || {
            std::hint::black_box(evaluate(input));
        }),
    );
    row(
        "`evaluate_full` + `balancing_projection`",
        time(runs, || {
            std::hint::black_box(evaluate_full(input).balancing_projection());
        }),
    );
    row(
        "what-if, both sides (`what_if`)",
        time(runs, || {
            std::hint::black_box(what_if(WhatIfInput {
                snapshot,
                current: &current,
                candidate: &cand,
                now,
                dry_run: false,
            }));
        }),
    );
    // The server's path: today's evaluation and its projection are kept per snapshot.
    let projection = baseline.balancing_projection();
    row(
        "what-if against the cached baseline (`what_if_projected`), maintenance changed",
        time(runs, || {
            std::hint::black_box(what_if_projected(
                &baseline,
                projection.clone(),
                snapshot,
                &cand,
                now,
            ));
        }),
    );
    let mut setting = config();
    setting.balancing.balanciness = 5;
    row(
        "what-if against the cached baseline, balanciness changed (collection reused)",
        time(runs, || {
            std::hint::black_box(what_if_projected(
                &baseline,
                projection.clone(),
                snapshot,
                &setting,
                now,
            ));
        }),
    );
    // Where the time goes: ProxLB's collection and rules, then the calculation pass.
    let maintenance = maintenance_overview(&snapshot.nodes, &current.proxmox_cluster, now);
    let view = ProxlbView::build(snapshot, &current, &maintenance);
    row(
        "of which: `ProxlbView::build` (collection)",
        time(runs, || {
            std::hint::black_box(ProxlbView::build(snapshot, &current, &maintenance));
        }),
    );
    row(
        "of which: `RulesView::build` + `current_violations`",
        time(runs, || {
            std::hint::black_box(RulesView::build(&view, snapshot, &current));
            std::hint::black_box(current_violations(&view));
        }),
    );
    row(
        "of which: `simulate` (calculation pass)",
        time(runs, || {
            std::hint::black_box(simulate(&view, &current.balancing));
        }),
    );
    let some_guest = snapshot.guests[snapshot.guests.len() / 2].vmid.to_string();
    row(
        "guest explanation (`explain_guest`, cached evaluation)",
        time(runs, || {
            std::hint::black_box(baseline.explain_guest(snapshot, &some_guest));
        }),
    );
    let request = NewGuest {
        cores: 4,
        memory: 8 << 30,
        disk: 32 << 30,
        ..NewGuest::default()
    };
    row(
        "best node for a new guest (`best_node`)",
        time(runs, || {
            std::hint::black_box(best_node(snapshot, &current, now, Some(&request)).ok());
        }),
    );
}

/// What one real ProxLB `-d -j` run cost on a scenario, next to the native plan of the same
/// snapshot.
struct RealRun {
    label: &'static str,
    nodes: usize,
    guests: usize,
    proxlb: Result<Duration, String>,
    requests: u64,
    native_p50: Duration,
}

/// Runs the installed ProxLB 2.3.0 once with `-d -j` against `scenario` (as "Ask real ProxLB"
/// does), counting the requests it sends; then times the native plan on the same snapshot.
async fn real_proxlb(label: &'static str, scenario: Scenario) -> RealRun {
    let sim = frozen_sim(scenario).await;
    let snapshot = snapshot_from(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("proxlb.yaml");
    std::fs::write(
        &cfg,
        format!(
            "proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {ROOT_TOKEN_ID}\n  \
             token_secret: {ROOT_TOKEN_SECRET}\n  ssl_verification: false\n  timeout: 30\n\
             balancing:\n  enable: true\n  balance_types: [vm, ct]\n\
             service:\n  daemon: false\n  log_level: INFO\n",
            sim.host_port()
        ),
    )
    .unwrap();
    sim.reset_request_counts();
    let started = Instant::now();
    let output = tokio::process::Command::new(proxlb_python())
        .args(["-m", "proxlb", "-d", "-j", "-c"])
        .arg(&cfg)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    let wall = started.elapsed();
    let requests = sim.request_counts().values().sum();
    let proxlb = match output {
        Ok(out) if out.status.success() => Ok(wall),
        Ok(out) => Err(format!("ProxLB exited with {}", out.status)),
        Err(e) => Err(format!("ProxLB did not start: {e}")),
    };
    sim.shutdown().await;
    let now = LocalTime {
        weekday: Weekday::Monday,
        hour: 12,
        minute: 0,
    };
    let current = config();
    let (native_p50, _) = time(20, || {
        std::hint::black_box(evaluate(EvaluationInput {
            snapshot: &snapshot,
            config: &current,
            now,
            dry_run: true,
        }));
    });
    RealRun {
        label,
        nodes: snapshot.nodes.len(),
        guests: snapshot.guests.len(),
        proxlb,
        requests,
        native_p50,
    }
}

fn real_section(out: &mut String, runs: &[RealRun]) {
    writeln!(
        out,
        "\n### Real ProxLB 2.3.0 `-d -j` on the simulator, next to the native plan\n\n\
         One run each (`python -m proxlb -d -j`, daemon off, clock frozen); requests counted by the \
         simulator. ProxLB sleeps 0.1 s before each of its two RRD requests per running guest.\n\n\
         | scenario | nodes | guests | ProxLB wall s | requests to the API | native plan p50 ms |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    .unwrap();
    for run in runs {
        let wall = match &run.proxlb {
            Ok(d) => format!("{:.1}", d.as_secs_f64()),
            Err(e) => format!("— ({e})"),
        };
        writeln!(
            out,
            "| {} | {} | {} | {wall} | {} | {} |",
            run.label,
            run.nodes,
            run.guests,
            run.requests,
            ms(run.native_p50)
        )
        .unwrap();
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let small = rt.block_on(snapshot_of(demo()));
    let large = rt.block_on(snapshot_of(Scenario::generated_large(1)));
    let mut out = String::from("## Balancing: native plan, explanations and what-if\n");
    writeln!(
        out,
        "\nNative (release) build, one thread, snapshots read from the simulator through the real client. The what-if evaluates the candidate config (balanciness 5, second node in maintenance) on the same snapshot; `what_if` also re-evaluates today's config, `what_if_projected` reuses the server's cached evaluation and its projection, as the server does."
    )
    .unwrap();
    section(&mut out, "3-node demo", &small, 500);
    section(&mut out, "large scenario", &large, 100);
    let real = vec![
        rt.block_on(real_proxlb("3-node demo", demo())),
        rt.block_on(real_proxlb(
            "8-node case (`balancing_case(8, 80, 7)`)",
            plb_pve_sim::generate::balancing_case(8, 80, 7, false),
        )),
    ];
    real_section(&mut out, &real);
    println!("{out}");
    // The workspace's target/ (cargo runs a bench in its crate's folder).
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("bench-balancing.md"), out).unwrap();
}
