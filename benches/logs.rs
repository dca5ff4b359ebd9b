//! `cargo bench --features ssr --bench logs`: ProxLB stdout → `/ws/logs` client latency.
//!
//! Serves the real app on a loopback port with the process backend (`<python> -m proxlb -c
//! <config>`) pointed at a stand-in interpreter: a shell script that ignores `-m proxlb -c …`
//! and prints ProxLB-format lines `… - ProxLB - INFO - bench <n> <unix_ns>` at a fixed rate
//! (a small Python loop stamps each line with `time.time_ns()` as it writes it). A WebSocket
//! client signed in with a read-only API token follows `/ws/logs` and, for every line, records
//! its receive time minus the stamp (same machine clock). For 1,000, 5,000 and 10,000 lines/s,
//! ~10 s each: p50/p99/max latency, lines received vs. written, gaps reported, and the rate
//! sustained. Prints a Markdown section (also written to target/bench-logs.md for
//! scripts/bench.sh). Results, not asserts.
#![allow(clippy::unwrap_used)]

// The tests' helper for signing in (API tokens made through the composed state).
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use plb_backend::settings::ProxlbService;
use plb_backend::{AppState, Settings};
use plb_domain::auth::TokenScope;
use plb_domain::service::BackendKind;
use proxlb_web::server::router;
use proxlb_web::server::serve::{self, Limits};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Rates measured, lines per second.
const RATES: [u64; 3] = [1_000, 5_000, 10_000];

/// Seconds each rate runs (`BENCH_LOG_SECONDS` overrides).
const SECONDS: u64 = 10;

/// How long the client waits for a further line before it counts the rest as lost.
const QUIET: Duration = Duration::from_secs(5);

/// The stand-in interpreter. `-v` answers like ProxLB; otherwise Python writes `RATE` lines per
/// second for `SECONDS` seconds in 1 ms batches (each line stamped when written, flushed per
/// batch), then idles until SIGINT, which it answers like ProxLB (a last line, exit 0).
const STAND_IN: &str = r#"#!/bin/sh
if [ "$3" = "-v" ]; then echo "ProxLB version: 2.3.0"; exit 0; fi
exec python3 -c '
import os, signal, sys, time
def bye(*_):
    sys.stdout.write(time.strftime("%Y-%m-%d %H:%M:%S,000") + " - ProxLB - INFO - ProxLB terminated by user.\n")
    sys.stdout.flush()
    os._exit(0)
signal.signal(signal.SIGINT, bye)
signal.signal(signal.SIGTERM, bye)
rate, seconds, kind = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if kind == "known":
    form = "%s,%03d - ProxLB - WARNING - Could not resolve bench-%d-%d.\n"
else:
    form = "%s,%03d - ProxLB - INFO - bench %d %d\n"
total = int(rate * seconds)
out = sys.stdout
start = time.monotonic()
n = 0
while n < total:
    due = min(total, int((time.monotonic() - start) * rate) + 1)
    batch = []
    while n < due:
        n += 1
        ns = time.time_ns()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ns // 1000000000))
        batch.append(form % (stamp, ns // 1000000 % 1000, n, ns))
    out.write("".join(batch))
    out.flush()
    time.sleep(0.001)
while True:
    time.sleep(1)
' RATE SECONDS KIND
"#;

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

fn percentile(sorted: &[i128], p: f64) -> i128 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(ns: i128) -> String {
    format!("{:.2}", ns as f64 / 1e6)
}

/// The served app: its address, state (to shut it down) and the server thread.
struct Served {
    address: SocketAddr,
    state: AppState,
    operator: String,
    viewer: String,
    thread: std::thread::JoinHandle<()>,
}

/// Serves the app with the process backend on `python`, on its own runtime and threads (as a
/// separate process would), so the client's task does not queue behind the server's.
fn serve_separately(data: PathBuf, python: PathBuf) -> Served {
    let (ready, address) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let config = data.join("proxlb.yaml");
            std::fs::write(&config, "proxmox_api:\n  hosts: [127.0.0.1]\n").unwrap();
            let settings = Settings {
                data_dir: data,
                proxlb_service: ProxlbService::Only(BackendKind::Process),
                proxlb_python: Some(python),
                proxlb_config: config,
                ..Settings::default()
            };
            let state = plb_backend::compose::wire(settings).await.unwrap();
            let operator = support::token(&state, "bench-ops", TokenScope::Operate).await;
            let viewer = support::token(&state, "bench", TokenScope::Read).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready
                .send((
                    listener.local_addr().unwrap(),
                    state.clone(),
                    operator,
                    viewer,
                ))
                .unwrap();
            serve::serve(
                listener,
                router::build(state.clone()),
                state.shutdown.clone(),
                Limits::default(),
            )
            .await;
            // Ends the child if it still runs.
            state.proxlb.shutdown().await;
        });
    });
    let (address, state, operator, viewer) = address.recv().unwrap();
    Served {
        address,
        state,
        operator,
        viewer,
        thread,
    }
}

/// One rate's results.
struct Run {
    kind: &'static str,
    rate: u64,
    written: u64,
    received: u64,
    duplicates: u64,
    gaps: u64,
    missed: u64,
    sent_rate: f64,
    received_rate: f64,
    p50: i128,
    p99: i128,
    max: i128,
    /// The line with the largest latency.
    worst_line: u64,
    /// The largest latency of the lines after the first second's.
    steady_max: i128,
}

async fn service(served: &Served, client: &reqwest::Client, action: &str) {
    let response = client
        .post(format!("http://{}/api/service/{action}", served.address))
        .bearer_auth(&served.operator)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "{action}: {status} {body}");
}

async fn measure(
    served: &Served,
    client: &reqwest::Client,
    python: &Path,
    rate: u64,
    seconds: u64,
    kind: &'static str,
) -> Run {
    use std::os::unix::fs::PermissionsExt;
    let script = STAND_IN.replace("RATE SECONDS KIND", &format!("{rate} {seconds} {kind}"));
    std::fs::write(python, script).unwrap();
    std::fs::set_permissions(python, std::fs::Permissions::from_mode(0o755)).unwrap();

    // The client follows from now on (no `after`): only this run's lines.
    let mut request = format!("ws://{}/ws/logs", served.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", served.viewer)).unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    service(served, client, "start").await;

    let written = rate * seconds;
    let mut latencies: Vec<i128> = Vec::with_capacity(written as usize);
    let (mut worst_line, mut worst, mut steady_max) = (0u64, i128::MIN, 0i128);
    let mut seen: HashSet<u64> = HashSet::with_capacity(written as usize);
    let (mut duplicates, mut gaps, mut missed) = (0u64, 0u64, 0u64);
    let (mut first_stamp, mut last_stamp) = (i128::MAX, 0i128);
    let (mut first_receive, mut last_receive) = (0i128, 0i128);
    while (seen.len() as u64) < written {
        let Ok(Some(Ok(message))) = tokio::time::timeout(QUIET, socket.next()).await else {
            break;
        };
        let received = now_ns();
        let Message::Text(text) = message else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        match frame["kind"].as_str() {
            Some("gap") => {
                gaps += 1;
                missed += frame["missed"].as_u64().unwrap_or_default();
            }
            Some("entry") => {
                // `bench <n> <ns>` or `Could not resolve bench-<n>-<ns>.`
                let message = frame["message"].as_str().unwrap_or_default();
                let Some((_, numbers)) = message.split_once("bench") else {
                    continue;
                };
                let mut words = numbers
                    .trim_end_matches('.')
                    .split([' ', '-'])
                    .filter(|word| !word.is_empty());
                let (Some(Ok(n)), Some(Ok(stamp))) = (
                    words.next().map(str::parse::<u64>),
                    words.next().map(str::parse::<i128>),
                ) else {
                    continue;
                };
                if !seen.insert(n) {
                    duplicates += 1;
                    continue;
                }
                if first_receive == 0 {
                    first_receive = received;
                }
                last_receive = received;
                first_stamp = first_stamp.min(stamp);
                last_stamp = last_stamp.max(stamp);
                let latency = received - stamp;
                if latency > worst {
                    (worst, worst_line) = (latency, n);
                }
                if n > rate {
                    steady_max = steady_max.max(latency);
                }
                latencies.push(latency);
            }
            _ => {}
        }
    }
    drop(socket);
    service(served, client, "stop").await;

    latencies.sort_unstable();
    let received = seen.len() as u64;
    let per_second = |span: i128| {
        if span > 0 {
            received as f64 / (span as f64 / 1e9)
        } else {
            0.0
        }
    };
    Run {
        kind,
        rate,
        written,
        received,
        duplicates,
        gaps,
        missed,
        sent_rate: per_second(last_stamp - first_stamp),
        received_rate: per_second(last_receive - first_receive),
        p50: latencies.first().map_or(0, |_| percentile(&latencies, 0.5)),
        p99: latencies
            .first()
            .map_or(0, |_| percentile(&latencies, 0.99)),
        max: latencies.last().copied().unwrap_or_default(),
        worst_line,
        steady_max,
    }
}

fn uptime() -> String {
    std::process::Command::new("uptime")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn command(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    plb_backend::tls::install_crypto_provider();
    let seconds = std::env::var("BENCH_LOG_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SECONDS);
    let dir = tempfile::tempdir().unwrap();
    let python = dir.path().join("stand-in-python");
    // Written per rate before each start; the backend asks it for `-v` at wiring.
    std::fs::write(&python, STAND_IN.replace("RATE SECONDS KIND", "1 0 known")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let served = serve_separately(data, python.clone());
    let client = reqwest::Client::new();

    let load_before = uptime();
    let mut runs = Vec::new();
    // "known": a ProxLB message that cannot continue (emitted at once, like most of ProxLB's);
    // "other": an unknown message, which may have continuation lines and so waits for the next.
    let plan = RATES
        .iter()
        .map(|rate| ("known", *rate))
        .chain([("other", 1_000)]);
    for (kind, rate) in plan {
        let result = measure(&served, &client, &python, rate, seconds, kind).await;
        eprintln!(
            "{kind} {rate}/s: {} of {} lines, p50 {} ms, p99 {} ms, max {} ms",
            result.received,
            result.written,
            ms(result.p50),
            ms(result.p99),
            ms(result.max)
        );
        runs.push(result);
    }
    let load_after = uptime();
    served.state.shutdown.cancel();
    served.thread.join().unwrap();

    let mut out = String::new();
    writeln!(
        out,
        "## Log latency (ProxLB stdout → `/ws/logs` client, loopback)\n"
    )
    .unwrap();
    writeln!(
        out,
        "Measured by `cargo bench --features ssr --bench logs` (bench profile) on {} at commit `{}`; \
         machine load before: `{load_before}`; after: `{load_after}`.\n",
        command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        command("git", &["rev-parse", "--short", "HEAD"]),
    )
    .unwrap();
    writeln!(
        out,
        "Method: the real server (composition root, process backend, `serve::serve` on 127.0.0.1:0, \
         its own 2-worker runtime) runs a stand-in interpreter for `python -m proxlb -c <config>`: a \
         shell script whose Python loop writes ProxLB-format lines `YYYY-MM-DD HH:MM:SS,mmm - ProxLB - LEVEL - …` \
         carrying the line number and `<unix_ns>` at the given rate for {seconds} s, in 1 ms batches, each line stamped with `time.time_ns()` as it is \
         written. One WebSocket client (read-only API token, in the same process, separate runtime) follows \
         `/ws/logs` and takes every frame at once; latency = its receive time − the line's stamp (same clock). \
         Received counts distinct line numbers; `gap` frames (lines the server no longer had for a slow \
         client) are counted separately. Two kinds of line: ProxLB's own WARNING `Could not resolve {{host}}.` \
         (a message that cannot have continuation lines, emitted the moment it is read, like most of \
         ProxLB's), and an unknown `INFO - bench <n> <ns>`, which might continue on the next line and so is \
         released by the next line or after 250 ms idle (`IDLE_FLUSH_MS`). Target: p99 < 100 ms, no loss.\n"
    )
    .unwrap();
    writeln!(
        out,
        "| line | rate lines/s | written | received | lost | gap frames (missed) | duplicates | written/s | received/s | p50 ms | p99 ms | max ms (line) | max after 1st s ms |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    .unwrap();
    for r in &runs {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} ({}) | {} | {:.0} | {:.0} | {} | {} | {} ({}) | {} |",
            if r.kind == "known" {
                "`Could not resolve bench-<n>-<ns>.`"
            } else {
                "`bench <n> <ns>`"
            },
            r.rate,
            r.written,
            r.received,
            r.written - r.received.min(r.written),
            r.gaps,
            r.missed,
            r.duplicates,
            r.sent_rate,
            r.received_rate,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.worst_line,
            ms(r.steady_max)
        )
        .unwrap();
    }
    print!("{out}");
    let _ = std::fs::write("target/bench-logs.md", &out);
}
