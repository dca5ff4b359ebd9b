//! The migration history on real components: the SQLite store in a temporary folder, the
//! in-process Proxmox VE simulator polled by the cluster service, and ProxLB log lines parsed
//! by the domain's assembler (as the log service hands them on).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::channel::mpsc;
use futures::StreamExt;
use plb_backend::ports::{Clock, PveApi};
use plb_backend::services::cluster::{ClusterOptions, ClusterService};
use plb_backend::services::migrations::correlate::{
    GuestInfo, Guests, LogFact, TaskFact, TaskKind,
};
use plb_backend::services::migrations::MigrationService;
use plb_backend::services::snapshot::SnapshotConfig;
use plb_backend::store::{Retention, Store};
use plb_backend::testing::{FakeConnector, ManualClock};
use plb_domain::logs::{Assembler, LogEntry, LogStream, RawLine};
use plb_domain::migrations::{Initiator, MigrationFilter, MigrationOutcome, MigrationRecord};
use plb_domain::proxlb::cluster::GuestKind;
use plb_pve_sim::Simulator;
use tokio_util::sync::CancellationToken;

/// The simulator's start (and the manual clock's): 2026-11-22.
const T0: i64 = 1_795_365_000_000;

/// ProxLB's configuration as far as the history reads it: its API identity.
fn write_config(dir: &Path, user: &str, token: Option<&str>) -> PathBuf {
    let path = dir.join("proxlb.yaml");
    let token = token
        .map(|t| format!("  token_id: {t}\n  token_secret: not-used-here\n"))
        .unwrap_or_else(|| "  pass: not-used-here\n".to_owned());
    std::fs::write(
        &path,
        format!("proxmox_api:\n  hosts: ['127.0.0.1']\n  user: {user}\n{token}"),
    )
    .unwrap();
    path
}

fn small_cluster() -> Guests {
    let mut guests = Guests::default();
    for (vmid, name, node) in [(100, "web01", "pve2"), (101, "web02", "pve1")] {
        guests.insert(
            vmid,
            GuestInfo {
                name: name.into(),
                node: Some(node.into()),
                kind: GuestKind::Vm,
                ha_managed: false,
            },
        );
    }
    guests
}

fn qmigrate(vmid: u32, user: &str, start_ms: i64, end: Option<(i64, &str)>) -> TaskFact {
    TaskFact {
        upid: format!(
            "UPID:pve1:0000AB12:0012CD34:{:08X}:qmigrate:{vmid}:{user}:",
            start_ms / 1000
        ),
        node: "pve1".into(),
        kind: TaskKind::Qmigrate,
        vmid,
        user: user.into(),
        start_ms,
        end_ms: end.map(|e| e.0),
        status: end.map(|e| e.1.to_owned()),
    }
}

fn started(guest: &str, at_ms: i64) -> LogFact {
    LogFact::Started {
        guest: guest.into(),
        kind: GuestKind::Vm,
        source: "pve1".into(),
        target: "pve2".into(),
        at_ms,
        stamp: Some(format!("2026-11-22 10:{:02}:00,000", (at_ms - T0) / 60_000)),
    }
}

async fn all(service: &MigrationService) -> Vec<MigrationRecord> {
    service
        .list(&MigrationFilter {
            limit: Some(1_000),
            ..MigrationFilter::default()
        })
        .await
        .unwrap()
        .records
}

#[tokio::test]
async fn the_history_survives_a_restart_and_a_replay_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "proxlb@pve", Some("plb"));
    let data = dir.path().join("data");
    let facts = vec![
        started("web01", T0),
        LogFact::RunFinished { at_ms: T0 + 30_000 },
        started("web02", T0 + 600_000),
        LogFact::Failed {
            guest: "web02".into(),
            upid: None,
            ha_upid: None,
            reason: "rejected".into(),
            at_ms: T0 + 601_000,
        },
    ];
    let tasks = vec![
        qmigrate(100, "proxlb@pve!plb", T0 + 1_000, Some((T0 + 9_000, "OK"))),
        qmigrate(101, "alice@pve", T0 + 900_000, Some((T0 + 905_000, "OK"))),
    ];

    let first = {
        let store = Store::open(&data).await.unwrap();
        let service = MigrationService::new(store, ManualClock::new(), config.clone());
        assert!(service.apply_log_facts(facts.clone()).await.unwrap());
        assert!(service
            .apply_tasks(small_cluster(), tasks.clone())
            .await
            .unwrap());
        let records = all(&service).await;
        assert_eq!(records.len(), 3, "{records:#?}");
        records
    };

    // A new process on the same file: everything is there; reading the log tail and polling the
    // task list again changes nothing, in either order.
    let store = Store::open(&data).await.unwrap();
    let service = MigrationService::new(store, ManualClock::new(), config);
    assert_eq!(all(&service).await, first);
    let feed = service.subscribe();
    assert!(!service.apply_tasks(small_cluster(), tasks).await.unwrap());
    assert!(!service.apply_log_facts(facts).await.unwrap());
    assert_eq!(all(&service).await, first);
    assert!(
        !feed.has_changed().unwrap(),
        "no change, so no new version for the live topic"
    );

    let web01 = first.iter().find(|r| r.vmid == Some(100)).unwrap();
    assert_eq!(web01.initiator, Initiator::ProxLb);
    assert_eq!(web01.outcome, MigrationOutcome::Succeeded);
    assert_eq!(web01.duration_ms, Some(8_000));
    assert!(web01.upid.is_some());
    let alice = first
        .iter()
        .find(|r| r.vmid == Some(101) && r.upid.is_some())
        .unwrap();
    assert_eq!(alice.initiator, Initiator::Person);
    assert_eq!(alice.initiator_user.as_deref(), Some("alice@pve"));
}

#[tokio::test]
async fn the_list_filters_and_pages_newest_start_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let service = MigrationService::new(
        store,
        ManualClock::new(),
        write_config(dir.path(), "proxlb@pve", Some("plb")),
    );
    // Seven moves a minute apart, alternating guests and users; one fails.
    let mut tasks = Vec::new();
    for i in 0..7i64 {
        let (vmid, user) = if i % 2 == 0 {
            (100, "alice@pve")
        } else {
            (101, "proxlb@pve!plb")
        };
        let start = T0 + i * 60_000;
        let status = if i == 3 { "migration aborted" } else { "OK" };
        tasks.push(qmigrate(vmid, user, start, Some((start + 5_000, status))));
    }
    service.apply_tasks(small_cluster(), tasks).await.unwrap();

    let page = |filter: MigrationFilter| {
        let service = service.clone();
        async move { service.list(&filter).await.unwrap() }
    };
    let everything = page(MigrationFilter::default()).await;
    assert_eq!(everything.total, 7);
    let starts: Vec<i64> = everything
        .records
        .iter()
        .map(|r| r.started_unix_ms)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] > w[1]), "{starts:?}");

    let by_name = page(MigrationFilter {
        text: Some("WEB02".into()),
        ..MigrationFilter::default()
    })
    .await;
    assert_eq!(by_name.total, 3);
    let by_vmid = page(MigrationFilter {
        text: Some("100".into()),
        ..MigrationFilter::default()
    })
    .await;
    assert_eq!(by_vmid.total, 4);
    let failed = page(MigrationFilter {
        outcome: Some(MigrationOutcome::Failed),
        ..MigrationFilter::default()
    })
    .await;
    assert_eq!(failed.total, 1);
    assert_eq!(
        failed.records[0].reason.as_deref(),
        Some("migration aborted")
    );
    let people = page(MigrationFilter {
        initiator: Some(Initiator::Person),
        ..MigrationFilter::default()
    })
    .await;
    assert_eq!(people.total, 4);
    let on_node = page(MigrationFilter {
        node: Some("PVE1".into()),
        since_unix_ms: Some(T0 + 3 * 60_000),
        ..MigrationFilter::default()
    })
    .await;
    assert_eq!(on_node.total, 4);

    // Pages of two: every move once, in order.
    let mut seen = Vec::new();
    let mut filter = MigrationFilter {
        limit: Some(2),
        ..MigrationFilter::default()
    };
    loop {
        let page = service.list(&filter).await.unwrap();
        assert!(page.records.len() <= 2);
        seen.extend(page.records.iter().map(|r| r.id));
        match page.next_before_id {
            Some(id) => filter.before_id = Some(id),
            None => break,
        }
    }
    let expected: Vec<i64> = everything.records.iter().map(|r| r.id).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn pruning_bounds_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let clock = ManualClock::new();
    let service = MigrationService::new(
        store.clone(),
        clock.clone(),
        write_config(dir.path(), "proxlb@pve", None),
    );
    let tasks: Vec<TaskFact> = (0..20i64)
        .map(|i| {
            let start = T0 - 3 * 3_600_000 + i * 60_000;
            qmigrate(100, "alice@pve", start, Some((start + 1_000, "OK")))
        })
        .collect();
    service.apply_tasks(small_cluster(), tasks).await.unwrap();
    let retention = Retention {
        migrations_max_age: Duration::from_secs(3 * 3_600 - 5 * 60),
        migrations_max_rows: 10,
        ..Retention::default()
    };
    let report = store.prune(clock.now(), retention).await.unwrap();
    assert_eq!(report.migrations_too_old, 5);
    assert_eq!(report.migrations_over_cap, 5);
    let left = all(&service).await;
    assert_eq!(left.len(), 10);
    assert_eq!(left[0].started_unix_ms, T0 - 3 * 3_600_000 + 19 * 60_000);
}

/// ProxLB's output lines as the log service hands them on: parsed, with transport times.
struct LogFeed {
    assembler: Assembler,
    sender: mpsc::UnboundedSender<Arc<LogEntry>>,
}

impl LogFeed {
    fn line(&mut self, at_ms: i64, message: &str) {
        let text = format!("2026-11-22 10:00:00,000 - ProxLB - INFO - {message}");
        let mut entries = self.assembler.push(RawLine {
            at_unix_ms: at_ms,
            stream: LogStream::Stdout,
            text,
        });
        entries.extend(self.assembler.flush());
        for entry in entries {
            self.sender.unbounded_send(Arc::new(entry)).unwrap();
        }
    }
}

/// Waits (bounded) until the history has a record for `vmid` that `done` accepts.
async fn record_for(
    service: &MigrationService,
    cluster: &ClusterService,
    vmid: u32,
    done: impl Fn(&MigrationRecord) -> bool,
) -> MigrationRecord {
    let wait = async {
        loop {
            let records = all(service).await;
            if let Some(found) = records.iter().find(|r| r.vmid == Some(vmid) && done(r)) {
                return found.clone();
            }
            cluster.request_refresh();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    match tokio::time::timeout(Duration::from_secs(20), wait).await {
        Ok(record) => record,
        Err(_) => panic!("no record for {vmid}: {:#?}", all(service).await),
    }
}

fn sim_now_ms(sim: &Simulator) -> i64 {
    (sim.clock().now() * 1000.0) as i64
}

#[tokio::test]
async fn moves_on_the_simulator_are_recorded_with_their_task_initiator_and_duration() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    // ProxLB logs in with root's token in this test; alice is a person in the Proxmox UI.
    let config = write_config(dir.path(), "root@pam", Some(ROOT_TOKEN_ID));
    let clock = ManualClock::new();
    let shutdown = CancellationToken::new();
    let api: Arc<dyn PveApi> = Arc::new(client(&sim, root_token(), pinned(&sim)));
    let cluster = ClusterService::start(
        FakeConnector::to(api),
        clock.clone(),
        ClusterOptions {
            snapshot: SnapshotConfig {
                interval: Duration::from_secs(600),
                node_status: false,
                node_history: false,
                rrd_budget: 0,
            },
            utc_offset_seconds: 0,
        },
        shutdown.clone(),
    );
    let (sender, entries) = mpsc::unbounded();
    let mut log = LogFeed {
        assembler: Assembler::new(),
        sender,
    };
    let store = Store::open(dir.path().join("data")).await.unwrap();
    let service = MigrationService::start(
        store,
        clock.clone(),
        config,
        cluster.clone(),
        entries.boxed(),
        shutdown.clone(),
    );
    let migrate = |vmid: u32, kind, target: &str, user: &str| {
        sim.with_cluster(|c| {
            let now = sim.clock().now();
            c.migrate(now, "pve1", kind, vmid, target, true, true, user)
                .unwrap()
                .to_string()
        })
    };

    // 1. A person moves web02 in the Proxmox UI: only the task list knows.
    let upid = migrate(101, plb_pve_sim::GuestKind::Vm, "pve2", "alice@pve");
    sim.advance(Duration::from_secs(30));
    // The target comes from the guest's node in the snapshot (rule 5). A poll may read the
    // resources just before the move ends and the task list just after; the next poll then
    // fills it in, so wait for it.
    let person = record_for(&service, &cluster, 101, |r| {
        r.outcome == MigrationOutcome::Succeeded && r.target.is_some()
    })
    .await;
    assert_eq!(person.upid.as_deref(), Some(upid.as_str()));
    assert_eq!(person.initiator, Initiator::Person);
    assert_eq!(person.initiator_user.as_deref(), Some("alice@pve"));
    assert_eq!(person.guest.as_deref(), Some("web02"));
    assert_eq!(
        (person.source.as_deref(), person.target.as_deref()),
        (Some("pve1"), Some("pve2"))
    );
    assert_eq!(
        person.duration_ms,
        Some(8_000),
        "the simulator's migration time"
    );

    // 2. ProxLB moves web01: its INFO line names the guest, the task has the UPID.
    log.line(
        sim_now_ms(&sim),
        "Balancing: Starting to migrate VM guest web01 from pve1 to pve3.",
    );
    let upid = migrate(100, plb_pve_sim::GuestKind::Vm, "pve3", "root@pam!proxlb");
    sim.advance(Duration::from_secs(30));
    log.line(
        sim_now_ms(&sim),
        "Finished: Balancing loop for guests. All guests processed and migrations completed.",
    );
    let proxlb = record_for(&service, &cluster, 100, |r| {
        r.outcome == MigrationOutcome::Succeeded && r.upid.is_some()
    })
    .await;
    assert_eq!(proxlb.initiator, Initiator::ProxLb);
    assert_eq!(proxlb.upid.as_deref(), Some(upid.as_str()));
    assert_eq!(proxlb.target.as_deref(), Some("pve3"));
    assert_eq!(proxlb.duration_ms, Some(8_000));
    assert_eq!(
        all(&service)
            .await
            .iter()
            .filter(|r| r.vmid == Some(100))
            .count(),
        1,
        "seen in the log and the task list, counted once"
    );

    // 3. alice asks HA to move db01: her hamigrate, then the HA stack's qmigrate as root@pam.
    let request = migrate(102, plb_pve_sim::GuestKind::Vm, "pve2", "alice@pve");
    sim.advance(Duration::from_secs(5));
    cluster.request_refresh();
    sim.advance(Duration::from_secs(30));
    let ha = record_for(&service, &cluster, 102, |r| {
        r.outcome == MigrationOutcome::Succeeded && r.target.is_some()
    })
    .await;
    assert_eq!(ha.ha_upid.as_deref(), Some(request.as_str()));
    assert!(ha
        .upid
        .as_deref()
        .unwrap()
        .contains(":qmigrate:102:root@pam:"));
    assert_eq!(ha.initiator, Initiator::Person);
    assert_eq!(ha.initiator_user.as_deref(), Some("alice@pve"));
    assert_eq!(ha.target.as_deref(), Some("pve2"));

    // 4. A move that fails in Proxmox.
    sim.with_cluster(|c| c.fail_next_migration(103, "migration aborted"));
    migrate(103, plb_pve_sim::GuestKind::Vm, "pve3", "alice@pve");
    sim.advance(Duration::from_secs(30));
    let failed = record_for(&service, &cluster, 103, |r| {
        r.outcome == MigrationOutcome::Failed
    })
    .await;
    assert_eq!(failed.reason.as_deref(), Some("migration aborted"));
    assert_eq!(failed.target, None, "the guest never arrived anywhere");

    // The live feed carries the newest moves.
    let feed = service.subscribe().borrow().clone();
    assert!(feed.version > 0);
    assert_eq!(feed.recent.first().map(|r| r.vmid), Some(Some(103)));
    shutdown.cancel();
}

/// Real ProxLB 2.3.0 (DEBUG level, one run: `daemon: false`) started through the process
/// backend of the composed application, balancing the simulated cluster: every move it makes
/// lands in the history once, with its task's UPID, outcome and duration.
///
/// ProxLB is found via `PROXLB_PYTHON` or `<workspace>/.venv/bin/python` (installed by
/// `scripts/setup.sh`). If it is missing the test FAILS: it never passes silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_proxlb_moves_land_in_the_history_with_upid_outcome_and_duration() {
    use plb_backend::adapters::proxlb::process::{ProcessBackend, ProcessConfig};
    use plb_backend::adapters::proxlb::ProxlbBackend;
    use plb_backend::ports::ServiceManager;

    let python = std::env::var_os("PROXLB_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "ProxLB is not installed: {} does not exist (scripts/setup.sh installs it)",
        python.display()
    );
    plb_backend::tls::install_crypto_provider();
    // The demo cluster in real time, with fast moves and steady usage.
    let sim = start_fast_sim().await;
    let before: Vec<(u32, Option<String>)> = (100..=105)
        .chain(200..=203)
        .chain(110..=111)
        .map(|vmid| (vmid, sim.guest_node(vmid)))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("proxlb.yaml");
    std::fs::write(
        &config,
        format!(
            "proxmox_api:\n  hosts: [\"{}\"]\n  user: root@pam\n  token_id: {ROOT_TOKEN_ID}\n\
             \x20 token_secret: {ROOT_TOKEN_SECRET}\n  ssl_verification: true\n  timeout: 10\n\
             balancing:\n  enable: true\n  balance_types: [vm, ct]\n  max_job_validation: 60\n\
             \x20 balanciness: 10\n  method: memory\n  mode: used\n\
             service:\n  daemon: false\n  log_level: DEBUG\n",
            sim.host_port()
        ),
    )
    .unwrap();
    let mut process = ProcessConfig::new(&python, &config);
    process.ca_file = sim.cert().map(|cert| cert.cert_path.clone());
    let proxlb = ProcessBackend::new(process);

    let api: Arc<dyn PveApi> = Arc::new(client(&sim, root_token(), pinned(&sim)));
    let mut ports = plb_backend::testing::ports(
        Arc::new(plb_backend::clock::SystemClock),
        FakeConnector::to(api),
    );
    ports.proxlb = ProxlbBackend::process(proxlb.clone());
    let settings = plb_backend::Settings {
        proxlb_config: config.clone(),
        poll_interval: Duration::from_millis(500),
        ..plb_backend::Settings::default()
    };
    let (state, _data) = plb_backend::testing::wire_private(settings, ports).await;

    proxlb.start().await.unwrap();
    // One run, then ProxLB exits 0 by itself (`daemon: false`).
    let finished = tokio::time::timeout(Duration::from_secs(180), async {
        loop {
            let status = proxlb.status().await.unwrap();
            if status.state != plb_domain::service::ServiceState::Running {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("ProxLB's run ended");
    assert_eq!(finished.exit_code, Some(0), "{finished:?}");

    let moved: Vec<u32> = before
        .iter()
        .filter(|(vmid, node)| sim.guest_node(*vmid) != *node)
        .map(|(vmid, _)| *vmid)
        .collect();
    assert!(
        !moved.is_empty(),
        "the demo cluster is unbalanced: ProxLB moves guests"
    );

    // The poller sees every task end; then each move is one record, complete.
    let records = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let records = all(&state.migrations).await;
            let done = records.len() >= moved.len()
                && records
                    .iter()
                    .all(|r| r.upid.is_some() && r.outcome == MigrationOutcome::Succeeded);
            if done {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("incomplete history for {moved:?}"));
    let mut vmids: Vec<u32> = records.iter().filter_map(|r| r.vmid).collect();
    vmids.sort_unstable();
    let mut expected = moved.clone();
    expected.sort_unstable();
    assert_eq!(vmids, expected, "one record per move: {records:#?}");
    for record in &records {
        assert_eq!(record.initiator, Initiator::ProxLb, "{record:?}");
        assert_eq!(record.initiator_user.as_deref(), Some("root@pam!proxlb"));
        // ProxLB's own task, or for an HA-managed guest its request (the HA stack's task is
        // root@pam's).
        let own = format!(":{}:root@pam!proxlb:", record.vmid.unwrap());
        let request = record
            .ha_upid
            .as_deref()
            .unwrap_or(record.upid.as_deref().unwrap());
        assert!(request.contains(&own), "{record:?}");
        assert!(record.duration_ms.is_some_and(|d| d > 0), "{record:?}");
        assert_eq!(
            record.target,
            sim.guest_node(record.vmid.unwrap()),
            "the target ProxLB named is where the guest is"
        );
    }
    proxlb.shutdown().await;
    state.shutdown.cancel();
}
