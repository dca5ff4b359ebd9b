//! The merge rules of [`super`], one scenario each, against a real (in-memory) SQLite schema.

use rusqlite::Connection;

use super::*;
use crate::services::migrations::query::{self, ListQuery};

const T0: i64 = 1_795_365_000_000;
const PROXLB: &str = "proxlb@pve!plb";

fn db() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::store::migrations::migrate(&mut conn).unwrap();
    conn
}

fn guests() -> Guests {
    let mut guests = Guests::default();
    let mut add = |vmid, name: &str, node: &str, kind, ha| {
        guests.insert(
            vmid,
            GuestInfo {
                name: name.into(),
                node: Some(node.into()),
                kind,
                ha_managed: ha,
            },
        );
    };
    add(100, "web1", "pve2", GuestKind::Vm, false);
    add(101, "db1", "pve2", GuestKind::Vm, true);
    add(102, "twin", "pve1", GuestKind::Vm, false);
    add(103, "twin", "pve3", GuestKind::Vm, false);
    add(200, "ct1", "pve3", GuestKind::Ct, false);
    guests
}

fn identity() -> ApiIdentity {
    ApiIdentity {
        user: "proxlb@pve".into(),
        token: Some("plb".into()),
    }
}

struct World {
    conn: Connection,
    guests: Guests,
    identity: Option<ApiIdentity>,
}

impl World {
    fn new() -> Self {
        Self {
            conn: db(),
            guests: guests(),
            identity: Some(identity()),
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            guests: &self.guests,
            proxlb: self.identity.as_ref(),
            now_ms: T0 + 3_600_000,
        }
    }

    fn log(&self, fact: &LogFact) -> bool {
        apply_log(&self.conn, &self.ctx(), fact).unwrap()
    }

    fn task(&self, task: &TaskFact) -> bool {
        apply_task(&self.conn, &self.ctx(), task).unwrap()
    }

    fn rows(&self) -> Vec<Row> {
        query::list(&self.conn, &ListQuery::default()).unwrap().rows
    }

    fn only(&self) -> Row {
        let rows = self.rows();
        assert_eq!(rows.len(), 1, "{rows:#?}");
        rows.into_iter().next().unwrap()
    }
}

fn started(guest: &str, source: &str, target: &str, at_ms: i64) -> LogFact {
    LogFact::Started {
        guest: guest.into(),
        kind: GuestKind::Vm,
        source: source.into(),
        target: target.into(),
        at_ms,
        stamp: Some(format!("2026-11-22 10:00:00,{:03}", at_ms % 1000)),
    }
}

fn upid(node: &str, kind: &str, vmid: u32, user: &str, start_ms: i64) -> String {
    format!(
        "UPID:{node}:0000AB12:0012CD34:{:08X}:{kind}:{vmid}:{user}:",
        start_ms / 1000
    )
}

fn task(
    node: &str,
    kind: TaskKind,
    vmid: u32,
    user: &str,
    start_ms: i64,
    end: Option<(i64, &str)>,
) -> TaskFact {
    let type_name = match kind {
        TaskKind::Qmigrate => "qmigrate",
        TaskKind::Vzmigrate => "vzmigrate",
        TaskKind::Hamigrate => "hamigrate",
    };
    TaskFact {
        upid: upid(node, type_name, vmid, user, start_ms),
        node: node.into(),
        kind,
        vmid,
        user: user.into(),
        start_ms,
        end_ms: end.map(|(e, _)| e),
        status: end.map(|(_, s)| s.to_owned()),
    }
}

#[test]
fn a_move_seen_only_in_the_log_succeeds_by_inference_at_the_end_of_the_run() {
    let w = World::new();
    assert!(w.log(&started("web1", "pve1", "pve2", T0)));
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Running);
    assert_eq!(row.initiator, Initiator::Proxlb);
    assert_eq!(row.initiator_user.as_deref(), Some(PROXLB));
    assert_eq!(row.vmid, Some(100), "name resolved through the snapshot");
    assert_eq!(
        (row.source.as_deref(), row.target.as_deref()),
        (Some("pve1"), Some("pve2"))
    );

    assert!(w.log(&LogFact::RunFinished { at_ms: T0 + 30_000 }));
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Succeeded);
    assert_eq!(row.evidence, Some(Evidence::Inferred));
    assert_eq!(row.ended_ms, Some(T0 + 30_000));
    assert_eq!(row.duration_ms, Some(30_000));
    assert_eq!(row.upid, None);
}

#[test]
fn a_task_polled_before_its_guest_arrives_gets_its_target_from_the_next_poll() {
    // One poll reads the resources and the task list concurrently: the task may be finished
    // while the guest still shows on its source node.
    let mut w = World::new();
    let t = task(
        "pve2",
        TaskKind::Qmigrate,
        100,
        "alice@pve",
        T0,
        Some((T0 + 12_000, "OK")),
    );
    assert!(w.task(&t));
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Succeeded);
    assert_eq!(row.target, None, "the guest is still on its source");

    w.guests = Guests::default();
    w.guests.insert(
        100,
        GuestInfo {
            name: "web1".into(),
            node: Some("pve3".into()),
            kind: GuestKind::Vm,
            ha_managed: false,
        },
    );
    assert!(w.task(&t), "the next poll sees where it went");
    assert_eq!(w.only().target.as_deref(), Some("pve3"));
    assert!(!w.task(&t), "and then nothing changes");
}

#[test]
fn a_move_seen_only_in_the_task_list_is_a_persons_with_the_target_from_the_snapshot() {
    let w = World::new();
    let t = task(
        "pve1",
        TaskKind::Qmigrate,
        100,
        "alice@pve",
        T0,
        Some((T0 + 12_000, "OK")),
    );
    assert!(w.task(&t));
    let row = w.only();
    assert_eq!(row.initiator, Initiator::Person);
    assert_eq!(row.initiator_user.as_deref(), Some("alice@pve"));
    assert_eq!(row.guest.as_deref(), Some("web1"));
    assert_eq!(row.kind.as_deref(), Some("vm"));
    assert_eq!(row.source.as_deref(), Some("pve1"));
    assert_eq!(
        row.target.as_deref(),
        Some("pve2"),
        "where the guest is now"
    );
    assert_eq!(row.outcome, Outcome::Succeeded);
    assert_eq!(row.evidence, Some(Evidence::Task));
    assert_eq!(row.duration_ms, Some(12_000));
    assert_eq!(row.upid.as_deref(), Some(t.upid.as_str()));
    assert!(!w.task(&t), "polling the same task again changes nothing");
}

#[test]
fn a_move_in_both_sources_is_one_row_whatever_came_first() {
    for log_first in [true, false] {
        let w = World::new();
        let line = started("web1", "pve1", "pve2", T0);
        let running = task("pve1", TaskKind::Qmigrate, 100, PROXLB, T0 + 2_000, None);
        let done = task(
            "pve1",
            TaskKind::Qmigrate,
            100,
            PROXLB,
            T0 + 2_000,
            Some((T0 + 20_000, "OK")),
        );
        if log_first {
            w.log(&line);
            w.task(&running);
        } else {
            w.task(&running);
            w.log(&line);
        }
        let row = w.only();
        assert_eq!(row.initiator, Initiator::Proxlb, "log first: {log_first}");
        assert_eq!(row.outcome, Outcome::Running);
        assert!(row.log_key.is_some() && row.upid.is_some());

        w.task(&done);
        w.log(&LogFact::RunFinished { at_ms: T0 + 25_000 });
        let row = w.only();
        assert_eq!(row.outcome, Outcome::Succeeded);
        assert_eq!(
            row.evidence,
            Some(Evidence::Task),
            "the task outranks the inference"
        );
        assert_eq!(row.started_ms, T0 + 2_000, "the task's start");
        assert_eq!(row.ended_ms, Some(T0 + 20_000));
        assert_eq!(row.duration_ms, Some(18_000));
        assert_eq!(row.target.as_deref(), Some("pve2"));
    }
}

#[test]
fn a_task_outside_the_window_or_by_another_user_is_a_move_of_its_own() {
    let w = World::new();
    w.log(&started("web1", "pve1", "pve2", T0));
    // Too late for the line (more than two minutes after it).
    w.task(&task(
        "pve1",
        TaskKind::Qmigrate,
        100,
        PROXLB,
        T0 + TASK_AFTER_LOG_MS + 1_000,
        None,
    ));
    // In the window, but somebody else's.
    w.task(&task(
        "pve1",
        TaskKind::Qmigrate,
        100,
        "alice@pve",
        T0 + 1_000,
        None,
    ));
    let rows = w.rows();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let proxlb: Vec<_> = rows.iter().filter(|r| r.log_key.is_some()).collect();
    assert_eq!(proxlb.len(), 1);
    assert_eq!(proxlb[0].upid, None, "no task matched ProxLB's line");
    // The late task is ProxLB's token, so ProxLB's even without a line.
    assert!(rows.iter().any(|r| r.log_key.is_none()
        && r.initiator == Initiator::Proxlb
        && r.initiator_user.as_deref() == Some(PROXLB)));
    assert!(rows
        .iter()
        .any(|r| r.initiator == Initiator::Person
            && r.initiator_user.as_deref() == Some("alice@pve")));
}

#[test]
fn proxlbs_ha_move_is_the_request_and_the_ha_stacks_task_in_one_row() {
    let w = World::new();
    let request = task(
        "pve1",
        TaskKind::Hamigrate,
        101,
        PROXLB,
        T0 + 1_000,
        Some((T0 + 2_000, "OK")),
    );
    let running = task("pve1", TaskKind::Qmigrate, 101, HA_USER, T0 + 15_000, None);
    let done = task(
        "pve1",
        TaskKind::Qmigrate,
        101,
        HA_USER,
        T0 + 15_000,
        Some((T0 + 40_000, "OK")),
    );
    w.log(&started("db1", "pve1", "pve2", T0));
    w.task(&request);
    let row = w.only();
    assert_eq!(
        row.outcome,
        Outcome::Running,
        "an accepted request is not the move"
    );
    w.task(&running);
    w.task(&done);
    let row = w.only();
    assert_eq!(row.initiator, Initiator::Proxlb);
    assert_eq!(row.ha_upid.as_deref(), Some(request.upid.as_str()));
    assert_eq!(row.upid.as_deref(), Some(done.upid.as_str()));
    assert_eq!(row.started_ms, T0 + 1_000, "the request starts the move");
    assert_eq!(row.ended_ms, Some(T0 + 40_000));
    assert_eq!(row.duration_ms, Some(39_000));
    assert_eq!(row.outcome, Outcome::Succeeded);
}

#[test]
fn a_persons_ha_request_and_an_ha_stack_move_are_told_apart() {
    let w = World::new();
    // alice asks HA to move db1; the HA stack's task is polled before her request.
    let request = task(
        "pve2",
        TaskKind::Hamigrate,
        101,
        "alice@pve",
        T0,
        Some((T0 + 1_000, "OK")),
    );
    let carried = task(
        "pve2",
        TaskKind::Qmigrate,
        101,
        HA_USER,
        T0 + 12_000,
        Some((T0 + 30_000, "OK")),
    );
    w.task(&carried);
    assert_eq!(w.only().initiator, Initiator::Ha);
    w.task(&request);
    let row = w.only();
    assert_eq!(row.initiator, Initiator::Person);
    assert_eq!(row.initiator_user.as_deref(), Some("alice@pve"));
    assert_eq!(row.ha_upid.as_deref(), Some(request.upid.as_str()));
    assert_eq!(row.upid.as_deref(), Some(carried.upid.as_str()));

    // An hour later the HA stack moves db1 on its own (e.g. a node's maintenance).
    let alone = task(
        "pve1",
        TaskKind::Qmigrate,
        101,
        HA_USER,
        T0 + 3_600_000,
        Some((T0 + 3_620_000, "OK")),
    );
    w.task(&alone);
    let rows = w.rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].initiator, Initiator::Ha);
    assert_eq!(rows[0].initiator_user.as_deref(), Some(HA_USER));
}

#[test]
fn failures_come_from_the_log_or_the_task_and_the_task_wins() {
    let w = World::new();
    // POST rejected: no task will ever exist.
    w.log(&started("web1", "pve1", "pve2", T0));
    w.log(&LogFact::Failed {
        guest: "web1".into(),
        upid: None,
        ha_upid: None,
        reason: "Proxmox rejected the migration request".into(),
        at_ms: T0 + 500,
    });
    w.log(&LogFact::RunFinished { at_ms: T0 + 1_000 });
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Failed);
    assert_eq!(row.evidence, Some(Evidence::Log));
    assert_eq!(row.ended_ms, Some(T0 + 500));

    // A task that ends in an error.
    let w = World::new();
    w.log(&started("web1", "pve1", "pve2", T0));
    w.task(&task(
        "pve1",
        TaskKind::Qmigrate,
        100,
        PROXLB,
        T0 + 1_000,
        Some((T0 + 9_000, "migration aborted")),
    ));
    w.log(&LogFact::RunFinished { at_ms: T0 + 10_000 });
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Failed);
    assert_eq!(row.reason.as_deref(), Some("migration aborted"));
    assert_eq!(row.evidence, Some(Evidence::Task));
    assert_eq!(
        row.target.as_deref(),
        Some("pve2"),
        "the planned target stays"
    );
}

#[test]
fn a_job_error_line_with_its_upid_merges_the_tasks_row_into_proxlbs() {
    let mut w = World::new();
    w.identity = None; // ProxLB's config could not be read: match by time only
    let t = task(
        "pve1",
        TaskKind::Qmigrate,
        100,
        "other@pve",
        T0 + 200_000,
        Some((T0 + 210_000, "error")),
    );
    w.log(&started("web1", "pve1", "pve2", T0));
    // Far outside the window: two rows at first.
    w.task(&t);
    assert_eq!(w.rows().len(), 2);
    // ProxLB's DEBUG/CRITICAL line names the task: they are one move.
    w.log(&LogFact::Failed {
        guest: "web1".into(),
        upid: Some(t.upid.clone()),
        ha_upid: None,
        reason: "went into an error".into(),
        at_ms: T0 + 215_000,
    });
    let row = w.only();
    assert_eq!(row.upid.as_deref(), Some(t.upid.as_str()));
    assert!(row.log_key.is_some());
    assert_eq!(row.outcome, Outcome::Failed);
    assert_eq!(row.evidence, Some(Evidence::Task));
    assert_eq!(row.initiator, Initiator::Proxlb);
}

#[test]
fn an_ambiguous_name_waits_for_the_task_to_tell_the_vmid() {
    let w = World::new();
    w.log(&started("twin", "pve3", "pve1", T0));
    let row = w.only();
    assert_eq!(row.vmid, None);
    assert!(row.note.as_deref().unwrap().contains("2 guests"), "{row:?}");
    w.task(&task(
        "pve3",
        TaskKind::Qmigrate,
        103,
        PROXLB,
        T0 + 3_000,
        None,
    ));
    let row = w.only();
    assert_eq!(row.vmid, Some(103));
    assert_eq!(row.note, None);
}

#[test]
fn replaying_the_log_and_the_task_list_after_a_restart_adds_nothing() {
    let w = World::new();
    let facts = [
        started("web1", "pve1", "pve2", T0),
        started("ct1", "pve1", "pve3", T0 + 100),
        LogFact::Failed {
            guest: "ct1".into(),
            upid: None,
            ha_upid: None,
            reason: "rejected".into(),
            at_ms: T0 + 200,
        },
        LogFact::RunFinished { at_ms: T0 + 60_000 },
        started("web1", "pve2", "pve1", T0 + 3_600_000),
        LogFact::RunFinished {
            at_ms: T0 + 3_660_000,
        },
    ];
    let tasks = [
        task(
            "pve1",
            TaskKind::Qmigrate,
            100,
            PROXLB,
            T0 + 1_000,
            Some((T0 + 20_000, "OK")),
        ),
        task(
            "pve2",
            TaskKind::Qmigrate,
            100,
            PROXLB,
            T0 + 3_601_000,
            Some((T0 + 3_630_000, "OK")),
        ),
        task(
            "pve3",
            TaskKind::Qmigrate,
            102,
            "alice@pve",
            T0 + 50_000,
            Some((T0 + 55_000, "OK")),
        ),
    ];
    for fact in &facts {
        w.log(fact);
    }
    for t in &tasks {
        w.task(t);
    }
    let before = w.rows();
    assert_eq!(before.len(), 4, "{before:#?}");
    // A restart: the log tail and the task list again, in either order.
    for t in &tasks {
        assert!(!w.task(t));
    }
    for fact in &facts {
        assert!(!w.log(fact), "{fact:?} changed the history");
    }
    assert_eq!(w.rows(), before);
}

#[test]
fn the_same_line_without_a_proxlb_timestamp_is_keyed_by_its_transport_time() {
    let a = log_key("web1", "pve1", "pve2", None, T0);
    assert_eq!(a, log_key("web1", "pve1", "pve2", None, T0));
    assert_ne!(a, log_key("web1", "pve1", "pve2", None, T0 + 1));
    assert_ne!(a, log_key("web1", "pve1", "pve3", None, T0));
    assert_ne!(
        log_key("web1", "pve1", "pve2", Some("2026-11-22 10:00:00,001"), T0),
        log_key("web1", "pve1", "pve2", Some("2026-11-22 10:00:00,002"), T0)
    );
    // Field boundaries count: ("ab", "c") is not ("a", "bc").
    assert_ne!(
        log_key("ab", "c", "d", None, T0),
        log_key("a", "bc", "d", None, T0)
    );
}

#[test]
fn moves_nobody_finished_become_unknown_after_a_while() {
    let w = World::new();
    w.log(&started("web1", "pve1", "pve2", T0));
    assert_eq!(sweep(&w.conn, T0 + STALE_AFTER_MS - 1).unwrap(), 0);
    assert_eq!(sweep(&w.conn, T0 + STALE_AFTER_MS + 1).unwrap(), 1);
    assert_eq!(w.only().outcome, Outcome::Unknown);
}

#[test]
fn task_entries_become_facts_with_token_users_and_upid_fallbacks() {
    let entry = TaskEntry {
        upid: "UPID:pve1:0000AB12:0012CD34:6B031900:qmigrate:100:proxlb@pve!plb:".into(),
        node: Some("pve1".into()),
        kind: "qmigrate".into(),
        id: Some("100".into()),
        user: Some("proxlb@pve".into()),
        tokenid: Some("plb".into()),
        starttime: Some(0x6B03_1900),
        endtime: Some(0x6B03_1910),
        status: Some("OK".into()),
    };
    let fact = TaskFact::from_entry(&entry).unwrap();
    assert_eq!(fact.user, PROXLB);
    assert_eq!(fact.vmid, 100);
    assert_eq!(fact.start_ms, 0x6B03_1900 * 1000);
    assert_eq!(fact.end_ms, Some(0x6B03_1910 * 1000));
    assert_eq!(fact.succeeded(), Some(true));

    // Only the UPID: everything comes from it; a running task has no end.
    let bare = TaskEntry {
        upid: "UPID:pve2:0000AB12:0012CD34:6B031900:vzmigrate:200:root@pam:".into(),
        ..TaskEntry::default()
    };
    let fact = TaskFact::from_entry(&bare).unwrap();
    assert_eq!(
        (fact.node.as_str(), fact.kind, fact.vmid, fact.user.as_str()),
        ("pve2", TaskKind::Vzmigrate, 200, "root@pam")
    );
    assert_eq!(fact.succeeded(), None);

    let failed = TaskEntry {
        endtime: Some(0x6B03_1910),
        status: Some("WARNINGS: 2".into()),
        ..bare.clone()
    };
    assert_eq!(
        TaskFact::from_entry(&failed).unwrap().succeeded(),
        Some(true)
    );
    let failed = TaskEntry {
        endtime: Some(0x6B03_1910),
        status: Some("migration problems".into()),
        ..bare.clone()
    };
    assert_eq!(
        TaskFact::from_entry(&failed).unwrap().succeeded(),
        Some(false)
    );
    let other = TaskEntry {
        kind: "vzdump".into(),
        upid: "UPID:pve2:0000AB12:0012CD34:6B031900:vzdump:200:root@pam:".into(),
        ..TaskEntry::default()
    };
    assert_eq!(TaskFact::from_entry(&other), None);
}

#[test]
fn a_debug_success_line_links_its_task_and_the_tasks_end_wins() {
    let w = World::new();
    let late = T0 + 200_000;
    let running = task("pve1", TaskKind::Qmigrate, 100, PROXLB, late, None);
    w.log(&started("web1", "pve1", "pve2", T0));
    w.task(&running);
    assert_eq!(w.rows().len(), 2, "outside the window: not linked yet");
    w.log(&LogFact::Succeeded {
        guest: "web1".into(),
        upid: Some(running.upid.clone()),
        ha_upid: None,
        inferred: false,
        at_ms: late + 30_000,
    });
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Succeeded);
    assert_eq!(row.evidence, Some(Evidence::Log));
    assert_eq!(row.upid.as_deref(), Some(running.upid.as_str()));
    assert_eq!(row.started_ms, late, "the task's start");

    let done = TaskFact {
        end_ms: Some(late + 25_000),
        status: Some("OK".into()),
        ..running
    };
    w.task(&done);
    let row = w.only();
    assert_eq!(row.evidence, Some(Evidence::Task));
    assert_eq!(row.ended_ms, Some(late + 25_000));
    assert_eq!(row.duration_ms, Some(25_000));
}

#[test]
fn a_run_cut_short_leaves_its_move_unknown_until_the_task_tells() {
    let w = World::new();
    w.log(&started("web1", "pve1", "pve2", T0));
    w.log(&LogFact::Unresolved {
        guest: "web1".into(),
        upid: None,
        at_ms: T0 + 5_000,
    });
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Unknown);
    assert!(row.reason.as_deref().unwrap().contains("ended before"));
    assert_eq!(row.ended_ms, None);
    // An inference never overrides what a line said.
    w.log(&LogFact::RunFinished { at_ms: T0 + 6_000 });
    assert_eq!(w.only().outcome, Outcome::Unknown);

    w.task(&task(
        "pve1",
        TaskKind::Qmigrate,
        100,
        PROXLB,
        T0 + 1_000,
        Some((T0 + 8_000, "OK")),
    ));
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Succeeded);
    assert_eq!(row.reason, None);
    assert_eq!(row.duration_ms, Some(7_000));
}

#[test]
fn an_inferred_success_gives_way_to_a_later_failure_line() {
    let w = World::new();
    w.log(&started("web1", "pve1", "pve2", T0));
    w.log(&LogFact::Succeeded {
        guest: "web1".into(),
        upid: None,
        ha_upid: None,
        inferred: true,
        at_ms: T0 + 10_000,
    });
    assert_eq!(w.only().evidence, Some(Evidence::Inferred));
    w.log(&LogFact::Failed {
        guest: "web1".into(),
        upid: None,
        ha_upid: None,
        reason: "went into an error".into(),
        at_ms: T0 + 11_000,
    });
    let row = w.only();
    assert_eq!(row.outcome, Outcome::Failed);
    assert_eq!(row.evidence, Some(Evidence::Log));
}
