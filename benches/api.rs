//! `cargo bench --features ssr --bench api`: ProxLB Web's latency on loopback.
//!
//! Measures the REST API at 1, 50 and 200 concurrent clients against the 3-node demo, server
//! rendering of the dashboard, and one guest-filter keystroke at 10,000 guests. Prints a Markdown
//! section (and writes it to target/bench-api.md for scripts/bench.sh). Results, not asserts.
#![allow(clippy::unwrap_used)]

// The tests' helper for signing in (an API token for the REST clients, a browser session for the
// rendered pages): the benchmark measures the server as users reach it, logged in.
#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use plb_backend::{AppState, DemoScenario, Settings};
use plb_domain::guest_query::{query_indexed, GuestIndex, GuestQuery};
use proxlb_web::server::{demo, router};
use tower::ServiceExt;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// The app on an already running demo cluster's configuration, after its first snapshot.
async fn app_with(
    config: std::path::PathBuf,
    ca: Option<std::path::PathBuf>,
    data_dir: std::path::PathBuf,
) -> (axum::Router, AppState) {
    let settings = Settings {
        proxlb_config: config,
        ca_file: ca,
        demo: true,
        data_dir,
        ..Settings::default()
    };
    let state = plb_backend::compose::wire(settings).await.unwrap();
    first_snapshot(&state).await;
    (router::build(state.clone()), state)
}

/// Waits for the first snapshot; panics when the demo configuration did not connect.
async fn first_snapshot(state: &AppState) {
    state
        .cluster
        .view(Duration::from_secs(30))
        .await
        .expect("demo config did not connect");
}

/// The demo app as `--demo` starts it, with its own simulator in `dir`.
async fn demo_app(
    dir: std::path::PathBuf,
    scenario: DemoScenario,
) -> (axum::Router, AppState, demo::Demo) {
    let settings = Settings {
        demo: true,
        demo_scenario: scenario,
        data_dir: dir,
        ..Settings::default()
    };
    let (state, demo) = demo::wire(settings).await.unwrap();
    first_snapshot(&state).await;
    (router::build(state.clone()), state, demo.unwrap())
}

/// Serves the demo app on its own runtime and threads, as a separate process would, so the
/// load generator's tasks do not queue behind the server's on the same workers. Returns its
/// address, the demo and a read-only API token for the clients.
fn serve_demo_separately(dir: std::path::PathBuf) -> (std::net::SocketAddr, demo::Demo, String) {
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let (app, state, demo) = demo_app(dir, DemoScenario::ThreeNode).await;
            let token = support::token(&state, "bench", plb_domain::auth::TokenScope::Read).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready
                .send((listener.local_addr().unwrap(), demo, token))
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    address.recv().unwrap()
}

#[tokio::main]
async fn main() {
    plb_backend::tls::install_crypto_provider();
    let dir = std::env::temp_dir().join(format!("plb-bench-{}", std::process::id()));
    let (address, demo, token) = serve_demo_separately(dir.join("served"));

    let mut signed_in = reqwest::header::HeaderMap::new();
    signed_in.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .default_headers(signed_in)
        .build()
        .unwrap();
    let mut out = String::new();
    writeln!(out, "## REST API latency (3-node demo, loopback)\n").unwrap();
    writeln!(out, "Measured by `cargo bench --features ssr --bench api` on {} (2 cores; server on its own runtime, load generator in the same process). Each level runs three rounds of 2,000 requests after a warm-up round that opens its connections; the median round is shown.\n", date()).unwrap();
    writeln!(out, "| endpoint | clients | p50 ms | p99 ms | worst p99 of 3 rounds ms | requests/s |\n| --- | ---: | ---: | ---: | ---: | ---: |").unwrap();
    for path in ["/api/nodes", "/api/guests"] {
        let url = format!("http://{address}{path}");
        for _ in 0..200 {
            client
                .get(&url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        for clients in [1usize, 50, 200] {
            let per_client = 2_000 / clients;
            // Warm-up round at this level: opens the connections the measured rounds reuse.
            let _ = round(&client, &url, clients, 1).await;
            // Three measured rounds: the table shows the median round's p50/p99 and the worst p99,
            // because on 2 shared cores a single round can catch a poll cycle or a scheduler stall.
            let mut rounds = Vec::new();
            for _ in 0..3 {
                let (mut all, wall) = round(&client, &url, clients, per_client).await;
                all.sort();
                rounds.push((
                    percentile(&all, 0.5),
                    percentile(&all, 0.99),
                    all.len() as f64 / wall.as_secs_f64(),
                ));
            }
            rounds.sort_by_key(|round| round.1);
            let (p50, p99, rate) = rounds[1];
            writeln!(
                out,
                "| `{path}` | {clients} | {} | {} | {} | {rate:.0} |",
                ms(p50),
                ms(p99),
                ms(rounds[2].1)
            )
            .unwrap();
        }
    }

    // Server rendering of the dashboard, in process (no network).
    let (app, state) = app_with(
        demo.config_path.clone(),
        demo.ca_file.clone(),
        dir.join("render"),
    )
    .await;
    // A signed-in browser: every render checks its session like a real one.
    let cookie = format!("plbw_session={}", support::session(&state).await);
    let mut renders = Vec::new();
    for i in 0..220 {
        let t0 = Instant::now();
        let request = Request::get("/")
            .header(axum::http::header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.into_body().collect().await.unwrap();
        if i >= 20 {
            renders.push(t0.elapsed());
        }
    }
    renders.sort();
    writeln!(
        out,
        "\n## Server rendering\n\n| page | p50 ms | p99 ms |\n| --- | ---: | ---: |"
    )
    .unwrap();
    writeln!(
        out,
        "| dashboard `/` (3-node demo, 200 renders) | {} | {} |",
        ms(percentile(&renders, 0.5)),
        ms(percentile(&renders, 0.99))
    )
    .unwrap();

    // One filter keystroke at 10,000 guests: the large generated scenario through the real
    // client and view service, then the same function the browser runs per keystroke.
    let (_, state, _large) = demo_app(dir.join("large"), DemoScenario::Large).await;
    let view = state.cluster.view(Duration::ZERO).await.unwrap();
    let guests = &view.guests;
    writeln!(out, "\n## Guest filtering at {} guests\n", guests.len()).unwrap();
    let t0 = Instant::now();
    let index = GuestIndex::new(guests);
    let indexing = t0.elapsed();
    writeln!(out, "`query_indexed` (the function the browser runs on every keystroke), native build; the browser section below times the whole keystroke in Chromium. Building the search index once per guest list took {} ms.\n", ms(indexing)).unwrap();
    writeln!(
        out,
        "| query | p50 ms | p99 ms | matching |\n| --- | ---: | ---: | ---: |"
    )
    .unwrap();
    for (label, params) in [
        ("search `w`", vec![("q", "w")]),
        ("search `web-1`", vec![("q", "web-1")]),
        (
            "node + running + sort by memory desc",
            vec![
                ("node", "pve01"),
                ("status", "running"),
                ("sort", "mem"),
                ("dir", "desc"),
            ],
        ),
        (
            "tag kind `pin`, sort by name",
            vec![("tag", "pin"), ("sort", "name")],
        ),
    ] {
        let query = GuestQuery::from_params(params.iter().copied());
        let mut times = Vec::new();
        let mut matching = 0;
        for _ in 0..100 {
            let t0 = Instant::now();
            let page = query_indexed(guests, &index, &query);
            matching = page.matching;
            std::hint::black_box(&page);
            times.push(t0.elapsed());
        }
        times.sort();
        writeln!(
            out,
            "| {label} | {} | {} | {matching} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        )
        .unwrap();
    }
    println!("{out}");
    std::fs::create_dir_all("target").unwrap();
    std::fs::write("target/bench-api.md", out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `clients` concurrent clients each send `per_client` GETs to `url`; every latency and the wall time.
async fn round(
    client: &reqwest::Client,
    url: &str,
    clients: usize,
    per_client: usize,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let t0 = Instant::now();
                    let response = client.get(&url).send().await.unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap();
                    latencies.push(t0.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    (all, started.elapsed())
}

fn date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let days = secs / 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
