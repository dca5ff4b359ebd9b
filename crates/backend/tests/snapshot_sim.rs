//! The snapshot poller against the in-process simulator: requests per cycle, faults, offline
//! nodes, expired tickets, an unreachable cluster, a wrong password and oversized answers.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use plb_backend::adapters::pve::{PveClient, PveConnectionConfig, PveHost, TlsTrust};
use plb_backend::clock::SystemClock;
use plb_backend::ports::{Clock, PveApi};
use plb_backend::pve_wire::FailureKind;
use plb_backend::services::snapshot::{self, Snapshot, SnapshotConfig, SnapshotHandle};
use plb_backend::testing::ManualClock;
use plb_pve_sim::{Fault, FaultRule, Simulator};
use tokio_util::sync::CancellationToken;

fn spawn(client: PveClient, interval: Duration) -> (SnapshotHandle, CancellationToken) {
    let cancel = CancellationToken::new();
    let handle = snapshot::spawn(
        Arc::new(client) as Arc<dyn PveApi>,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        SnapshotConfig {
            interval,
            node_status: true,
            // Off here: these tests count requests per cycle without the history calls.
            node_history: false,
            rrd_budget: 0,
        },
        cancel.clone(),
    );
    (handle, cancel)
}

async fn first(handle: &SnapshotHandle) -> Arc<Snapshot> {
    let mut rx = handle.subscribe();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let current = Arc::clone(&rx.borrow_and_update());
            if current.sequence > 0 {
                return current;
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .unwrap()
}

fn total(sim: &Simulator) -> u64 {
    sim.request_counts().values().sum()
}

#[tokio::test]
async fn one_cycle_costs_nine_requests_plus_one_per_online_node_and_none_per_guest() {
    let sim = start_sim().await;
    let (handle, cancel) = spawn(
        client(&sim, root_token(), pinned(&sim)),
        Duration::from_secs(600),
    );
    let snapshot = first(&handle).await;
    assert!(!snapshot.is_stale());
    let data = snapshot.data.as_ref().unwrap();
    assert_eq!(data.guests().count(), 13);
    assert_eq!(
        data.guest(100).unwrap().tag_list(),
        vec!["plb_affinity_web", "prod"]
    );
    assert_eq!(data.guest(110).unwrap().pool.as_deref(), Some("prod"));
    assert_eq!(data.nodes().count(), 3);
    assert_eq!(data.node_status.len(), 3);
    assert_eq!(data.quorate, Some(true));
    assert_eq!(data.ha_rules.as_ref().unwrap().len(), 1);
    assert_eq!(
        data.cluster_options
            .as_ref()
            .unwrap()
            .crs
            .as_ref()
            .unwrap()
            .ha
            .as_deref(),
        Some("static")
    );
    assert_eq!(data.missing_privileges.as_deref(), Some(&[][..]));
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);

    let counts = sim.request_counts();
    assert_eq!(total(&sim), 8 + 3, "{counts:?}");
    assert_eq!(counts.get("GET /nodes/{node}/status"), Some(&3));
    assert!(
        counts.keys().all(|route| !route.contains("{vmid}")),
        "{counts:?}"
    );
    assert!(!counts.contains_key("GET /nodes/{node}/qemu"));

    // Taking a node offline removes one request.
    sim.set_node_online("pve3", false);
    sim.reset_request_counts();
    let snapshot = handle.refresh().await;
    let data = snapshot.data.as_ref().unwrap();
    assert!(!data.node("pve3").unwrap().is_online());
    assert_eq!(total(&sim), 8 + 2, "{:?}", sim.request_counts());
    cancel.cancel();
    handle.stopped().await;
}

#[tokio::test]
async fn one_cycle_per_interval_for_any_number_of_subscribers() {
    let sim = start_sim().await;
    let interval = Duration::from_millis(400);
    let started = Instant::now();
    let (handle, cancel) = spawn(client(&sim, root_token(), pinned(&sim)), interval);
    let mut subscribers: Vec<_> = (0..25).map(|_| handle.subscribe()).collect();
    first(&handle).await;
    // Every subscriber waits for changes concurrently; none of them causes a fetch.
    let waiters: Vec<_> = subscribers
        .drain(..)
        .map(|mut rx| {
            tokio::spawn(async move {
                let mut seen = 0;
                while seen < 3 && rx.changed().await.is_ok() {
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Read right after a publication: the next cycle is a whole interval away.
    let mut rx = handle.subscribe();
    rx.borrow_and_update();
    rx.changed().await.unwrap();
    let cycles = rx.borrow().sequence;
    let elapsed = started.elapsed();
    let max_cycles = 1 + (elapsed.as_millis() / interval.as_millis()) as u64;
    assert!(
        cycles >= 3 && cycles <= max_cycles,
        "{cycles} cycles in {elapsed:?}"
    );
    assert_eq!(count(&sim, "GET /cluster/resources"), cycles);
    assert_eq!(count(&sim, "GET /cluster/tasks"), cycles);
    assert_eq!(
        count(&sim, "GET /version"),
        0,
        "the poller does not ask for /version"
    );
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), 3);
    }
    cancel.cancel();
    handle.stopped().await;
    let after = count(&sim, "GET /cluster/resources");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(count(&sim, "GET /cluster/resources"), after, "stopped");
}

#[tokio::test]
async fn a_fault_keeps_the_last_snapshot_with_its_age_and_it_recovers() {
    let sim = start_sim().await;
    let (handle, cancel) = spawn(
        client(&sim, root_token(), ca_file(&sim)),
        Duration::from_secs(600),
    );
    let good = first(&handle).await;

    sim.inject_fault(
        Fault::error(
            "GET /cluster/resources",
            500,
            "cannot open '/etc/pve/.members'",
        )
        .times(1),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let failed = handle.refresh().await;
    assert!(failed.is_stale());
    assert_eq!(failed.data, good.data);
    assert_eq!(failed.fetched_at, good.fetched_at);
    assert!(failed.age(SystemClock.now()).unwrap() >= Duration::from_millis(50));
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Server);
    assert_eq!(
        failure.summary,
        "Proxmox VE error HTTP 500 on /cluster/resources"
    );
    assert!(!failure.summary.contains("/etc/pve"));

    // A failing optional section is a warning, not a failure.
    sim.inject_fault(Fault::error("GET /cluster/ha/status/current", 500, "boom").times(1));
    let recovered = handle.refresh().await;
    assert!(!recovered.is_stale());
    let data = recovered.data.as_ref().unwrap();
    assert_eq!(data.warnings.len(), 1);
    assert_eq!(data.warnings[0].kind, FailureKind::Server);
    assert!(!data.ha_status.is_empty(), "the previous HA status is kept");
    assert!(recovered.fetched_at > good.fetched_at);
    cancel.cancel();
}

#[tokio::test]
async fn an_expired_ticket_and_an_offline_node_do_not_break_the_snapshot() {
    let sim = start_sim().await;
    let (handle, cancel) = spawn(
        client(&sim, password("root@pam", ROOT_PASSWORD), pinned(&sim)),
        Duration::from_secs(600),
    );
    let snapshot = first(&handle).await;
    assert!(snapshot
        .data
        .as_ref()
        .unwrap()
        .node("pve3")
        .unwrap()
        .is_online());
    assert_eq!(
        count(&sim, "POST /access/ticket"),
        1,
        "one login for nine parallel calls"
    );

    sim.advance(Duration::from_secs(3 * 3600));
    sim.set_node_online("pve3", false);
    let snapshot = handle.refresh().await;
    assert!(!snapshot.is_stale(), "{:?}", snapshot.failure);
    let data = snapshot.data.as_ref().unwrap();
    assert!(!data.node("pve3").unwrap().is_online());
    assert!(!data.node_status.contains_key("pve3"));
    assert_eq!(count(&sim, "POST /access/ticket"), 2, "one silent re-login");

    sim.set_node_online("pve3", true);
    let snapshot = handle.refresh().await;
    assert!(snapshot
        .data
        .as_ref()
        .unwrap()
        .node("pve3")
        .unwrap()
        .is_online());
    cancel.cancel();
}

#[tokio::test]
async fn an_unreachable_cluster_keeps_the_last_snapshot_and_names_the_host() {
    let sim = start_sim().await;
    let host = host(&sim).to_string();
    let (handle, cancel) = spawn(
        client(&sim, root_token(), pinned(&sim)),
        Duration::from_secs(600),
    );
    let good = first(&handle).await;
    sim.shutdown().await;
    let failed = handle.refresh().await;
    assert!(failed.is_stale());
    assert_eq!(failed.data, good.data);
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Unreachable, "{failure:?}");
    assert_eq!(failure.host.as_deref(), Some(host.as_str()));
    assert!(!failure.summary.contains(ROOT_TOKEN_SECRET));
    let again = handle.refresh().await;
    assert_eq!(again.failure.as_ref().unwrap().consecutive, 2);
    cancel.cancel();
}

#[tokio::test]
async fn latency_and_dropped_connections_keep_the_last_snapshot_until_cleared() {
    let sim = start_sim().await;
    let config =
        plb_backend::adapters::pve::PveConnectionConfig::new(vec![host(&sim)], root_token())
            .with_tls(pinned(&sim))
            .with_timeout(Duration::from_millis(400));
    let client = PveClient::new(&config).unwrap();
    let (handle, cancel) = spawn(client, Duration::from_secs(600));
    let good = first(&handle).await;

    // Every answer is late: the cycle times out.
    sim.inject_fault(FaultRule::latency("*", Duration::from_secs(3)));
    let failed = handle.refresh().await;
    assert_eq!(failed.data, good.data);
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Timeout, "{failure:?}");
    assert_eq!(
        failure.host.as_deref(),
        Some(host(&sim).to_string().as_str())
    );
    sim.clear_faults();

    // Every connection is dropped.
    sim.inject_fault(FaultRule::connection_reset("GET /cluster/resources"));
    let failed = handle.refresh().await;
    assert_eq!(failed.data, good.data);
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Unreachable, "{failure:?}");
    assert_eq!(failure.consecutive, 2);
    sim.clear_faults();

    let recovered = handle.refresh().await;
    assert!(!recovered.is_stale());
    assert!(recovered.fetched_at > good.fetched_at);
    cancel.cancel();
}

#[tokio::test]
async fn tickets_expired_by_the_cluster_are_renewed_between_cycles() {
    let sim = start_sim().await;
    let (handle, cancel) = spawn(
        client(&sim, password("root@pam", ROOT_PASSWORD), pinned(&sim)),
        Duration::from_secs(600),
    );
    first(&handle).await;
    sim.expire_tickets();
    let snapshot = handle.refresh().await;
    assert!(!snapshot.is_stale(), "{:?}", snapshot.failure);
    assert_eq!(count(&sim, "POST /access/ticket"), 2);
    cancel.cancel();
}

/// A wrong password must not make every poll cycle (eight parallel calls) log in eight times:
/// Proxmox VE logs each refused login and fail2ban recipes for pveproxy ban the host. The
/// refusal is cached and the password tried again once per back-off step (10 s, 20 s, … 5 min),
/// counted on the simulator's request counters over many cycles with a manual clock.
#[tokio::test]
async fn a_wrong_password_costs_one_login_per_backoff_step() {
    let sim = start_sim().await;
    let clock = ManualClock::new();
    let client = client(&sim, password("root@pam", "not-the-password"), pinned(&sim))
        .with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
    let cancel = CancellationToken::new();
    let handle = snapshot::spawn(
        Arc::new(client) as Arc<dyn PveApi>,
        Arc::clone(&clock) as Arc<dyn Clock>,
        SnapshotConfig {
            interval: Duration::from_secs(3600),
            ..SnapshotConfig::default()
        },
        cancel.clone(),
    );
    let logins = || count(&sim, "POST /access/ticket");

    let failed = first(&handle).await;
    assert_eq!(
        failed.failure.as_ref().unwrap().kind,
        FailureKind::Unauthorized
    );
    assert_eq!(logins(), 1, "one login for the whole first cycle");
    for _ in 0..3 {
        let again = handle.refresh().await;
        assert_eq!(
            again.failure.as_ref().unwrap().kind,
            FailureKind::Unauthorized
        );
    }
    assert_eq!(logins(), 1, "no login inside the back-off");

    let mut expected = 1;
    for step in [10, 20, 40, 80, 160, 300, 300] {
        clock.advance(Duration::from_secs(step - 1));
        handle.refresh().await;
        assert_eq!(logins(), expected, "{step} s step: still waiting");
        clock.advance(Duration::from_secs(1));
        let snapshot = handle.refresh().await;
        handle.refresh().await;
        expected += 1;
        assert_eq!(logins(), expected, "{step} s step: exactly one more login");
        assert!(snapshot.is_stale());
        assert!(!snapshot
            .failure
            .as_ref()
            .unwrap()
            .summary
            .contains("not-the-password"));
    }
    // Nothing but logins reached Proxmox VE: no request went out without a ticket.
    assert_eq!(total(&sim), logins(), "{:?}", sim.request_counts());
    cancel.cancel();
    handle.stopped().await;
}

/// A listener that takes connections into its backlog but never answers: the TLS handshake of
/// every request hangs until the client's timeout.
fn blackhole() -> (std::net::TcpListener, PveHost) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, PveHost::new("127.0.0.1", port))
}

/// An unreachable Proxmox VE (connections hang) marks the snapshot stale within one request
/// timeout, not one per call of the cycle: the calls run concurrently and a failed login is the
/// answer of every call that waited for it. Virtual time (paused clock): the bound is logical.
#[tokio::test(start_paused = true)]
async fn a_host_that_never_answers_marks_the_snapshot_stale_within_one_timeout() {
    plb_backend::tls::install_crypto_provider();
    let timeout = Duration::from_secs(5);
    let (_listener, host) = blackhole();
    for credentials in [password("root@pam", ROOT_PASSWORD), root_token()] {
        let config = PveConnectionConfig::new(vec![host.clone()], credentials)
            .with_tls(TlsTrust::Insecure)
            .with_timeout(timeout);
        let started = tokio::time::Instant::now();
        let (handle, cancel) = spawn(PveClient::new(&config).unwrap(), Duration::from_secs(600));
        let failed = first(&handle).await;
        let elapsed = started.elapsed();
        assert!(failed.is_stale());
        let failure = failed.failure.as_ref().unwrap();
        assert_eq!(failure.kind, FailureKind::Timeout, "{failure:?}");
        assert_eq!(failure.host.as_deref(), Some(host.to_string().as_str()));
        assert!(
            elapsed < 2 * timeout,
            "stale after {elapsed:?}, more than one timeout of {timeout:?}"
        );
        cancel.cancel();
        handle.stopped().await;
    }
}

/// An answer larger than the body limit makes the snapshot stale with a summary naming the
/// limit (no unbounded buffering).
#[tokio::test]
async fn an_answer_over_the_body_limit_fails_the_cycle_naming_the_limit() {
    let sim = start_sim().await;
    let config = PveConnectionConfig::new(vec![host(&sim)], root_token())
        .with_tls(pinned(&sim))
        .with_max_body_bytes(4 * 1024);
    let (handle, cancel) = spawn(PveClient::new(&config).unwrap(), Duration::from_secs(600));
    let failed = first(&handle).await;
    let failure = failed.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Decode, "{failure:?}");
    assert_eq!(
        failure.summary,
        "the answer to /cluster/resources is larger than the limit of 4 KiB"
    );
    cancel.cancel();
}
