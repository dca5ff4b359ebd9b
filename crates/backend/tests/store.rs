//! The embedded database on a real file: creation, permissions, reopening, migrations, the audit
//! log on top of it, and retention.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plb_backend::audit::{self, AuditAction, AuditEntry, AuditQuery, ResultFilter};
use plb_backend::store::migrations::{self, latest_version};
use plb_backend::store::rusqlite::Connection;
use plb_backend::store::{Retention, Store, StoreError, FILE_NAME};
use serde_json::json;

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000 + secs)
}

fn entry(actor: &str, action: AuditAction, result: Result<(), String>) -> AuditEntry {
    AuditEntry {
        actor: actor.to_owned(),
        source_ip: Some(IpAddr::from([192, 0, 2, 10])),
        action,
        target: None,
        details: None,
        result,
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn first_open_creates_a_private_file_in_a_private_data_dir() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let store = Store::open(&data).await.unwrap();
    assert_eq!(store.path(), data.join(FILE_NAME));
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(store.path()), 0o600);
    // Writing creates the WAL; SQLite gives it the database file's mode.
    audit::record(&store, entry("a", AuditAction::Logout, Ok(())), t(0))
        .await
        .unwrap();
    let wal = data.join(format!("{FILE_NAME}-wal"));
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
}

#[cfg(unix)]
#[tokio::test]
async fn a_database_file_readable_by_others_is_tightened_on_open() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).await.unwrap());
    let path = dir.path().join(FILE_NAME);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(dir.path()).await.unwrap());
    assert_eq!(mode(&path), 0o600);
}

#[tokio::test]
async fn reopening_is_idempotent_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), latest_version());
    let id = audit::record(
        &store,
        entry("alice@pve", AuditAction::Logout, Ok(())),
        t(1),
    )
    .await
    .unwrap();
    drop(store);

    for _ in 0..2 {
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), latest_version());
        let page = audit::query(&store, &AuditQuery::default()).await.unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.records[0].id, id);
    }
}

#[tokio::test]
async fn an_old_version_file_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    {
        let mut conn = Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 1).unwrap();
        conn.execute(
            "INSERT INTO api_tokens (name, token_hash, prefix, scope, created_by, created_at)
             VALUES ('ci', zeroblob(32), 'plbw_abc', 'read', 'root@pam', 1)",
            [],
        )
        .unwrap();
    }
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), latest_version());
    let tokens: i64 = store
        .call(|c| Ok(c.query_row("SELECT count(*) FROM api_tokens", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(tokens, 1, "rows of the old version survive");
    audit::record(&store, entry("root@pam", AuditAction::Logout, Ok(())), t(0))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_file_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 7)
            .unwrap();
    }
    let err = Store::open(dir.path()).await.unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
}

#[tokio::test]
async fn audit_entries_are_recorded_with_who_what_where_and_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let mut config_change = entry("alice@pve", AuditAction::ConfigChanged, Ok(()));
    config_change.target = Some("proxlb.yaml".into());
    config_change.details = Some(json!({
        "changed": {"balancing.enable": [false, true], "proxmox_api.pass": ["old", "new"]},
        "proxmox_api": {"pass": "plain", "token_secret": "s3cr3t"}
    }));
    audit::record(&store, config_change, t(10)).await.unwrap();

    let page = audit::query(&store, &AuditQuery::default()).await.unwrap();
    let rec = &page.records[0];
    assert_eq!(rec.actor, "alice@pve");
    assert_eq!(rec.action, AuditAction::ConfigChanged);
    assert_eq!(rec.target.as_deref(), Some("proxlb.yaml"));
    assert_eq!(rec.source_ip.as_deref(), Some("192.0.2.10"));
    assert_eq!(rec.at_unix, 1_795_000_010);
    assert!(rec.ok);
    let details = rec.details.as_ref().unwrap();
    assert_eq!(
        details["proxmox_api"]["pass"], "***",
        "masked even if the caller forgot"
    );
    assert_eq!(details["proxmox_api"]["token_secret"], "***");
    let text = serde_json::to_string(&page).unwrap();
    assert!(
        !text.contains("plain") && !text.contains("s3cr3t"),
        "{text}"
    );

    let failed = entry(
        "bob@pam",
        AuditAction::LoginFailed,
        Err("wrong password".into()),
    );
    audit::record(&store, failed, t(11)).await.unwrap();
    let rec = &audit::query(&store, &AuditQuery::default())
        .await
        .unwrap()
        .records[0];
    assert!(!rec.ok);
    assert_eq!(rec.error.as_deref(), Some("wrong password"));
}

#[tokio::test]
async fn oversized_audit_fields_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let mut big = entry(
        &"a".repeat(1_000),
        AuditAction::ConfigChanged,
        Err("e".repeat(5_000)),
    );
    big.details = Some(json!({ "blob": "x".repeat(100_000) }));
    audit::record(&store, big, t(0)).await.unwrap();
    let rec = &audit::query(&store, &AuditQuery::default())
        .await
        .unwrap()
        .records[0];
    assert_eq!(rec.actor.chars().count(), audit::MAX_NAME_CHARS + 1);
    assert_eq!(
        rec.error.as_ref().unwrap().chars().count(),
        audit::MAX_ERROR_CHARS + 1
    );
    assert_eq!(rec.details.as_ref().unwrap()["truncated"], true);
}

#[tokio::test]
async fn audit_queries_filter_and_page_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    // 30 entries: alternating actors, every third a failed login, one per second.
    for i in 0..30u64 {
        let actor = if i % 2 == 0 { "alice@pve" } else { "bob@pam" };
        let e = if i % 3 == 0 {
            entry(actor, AuditAction::LoginFailed, Err("no".into()))
        } else {
            entry(actor, AuditAction::LoginSucceeded, Ok(()))
        };
        audit::record(&store, e, t(i)).await.unwrap();
    }

    let all = audit::query(&store, &AuditQuery::default()).await.unwrap();
    assert_eq!(all.total, 30);
    assert_eq!(all.records.len(), 30);
    assert!(
        all.records.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    assert_eq!(all.next_before_id, None);

    let alice = AuditQuery {
        actor: Some("alice@pve".into()),
        ..AuditQuery::default()
    };
    let page = audit::query(&store, &alice).await.unwrap();
    assert_eq!(page.total, 15);
    assert!(page.records.iter().all(|r| r.actor == "alice@pve"));

    let failed = AuditQuery {
        result: Some(ResultFilter::Failed),
        ..AuditQuery::default()
    };
    let page = audit::query(&store, &failed).await.unwrap();
    assert_eq!(page.total, 10);
    assert!(page
        .records
        .iter()
        .all(|r| !r.ok && r.action == AuditAction::LoginFailed));

    let by_action = AuditQuery {
        action: Some(AuditAction::LoginSucceeded),
        result: Some(ResultFilter::Ok),
        ..AuditQuery::default()
    };
    assert_eq!(audit::query(&store, &by_action).await.unwrap().total, 20);

    let window = AuditQuery {
        since: Some(t(10)),
        until: Some(t(20)),
        ..AuditQuery::default()
    };
    let page = audit::query(&store, &window).await.unwrap();
    assert_eq!(page.total, 10);
    let first = 1_795_000_000;
    assert!(page
        .records
        .iter()
        .all(|r| (first + 10..first + 20).contains(&r.at_unix)));

    // Paging through bob's 15 entries 4 at a time visits each once, newest first.
    let mut query = AuditQuery {
        actor: Some("bob@pam".into()),
        limit: Some(4),
        ..AuditQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = audit::query(&store, &query).await.unwrap();
        assert_eq!(page.total, 15);
        assert!(page.records.len() <= 4);
        seen.extend(page.records.iter().map(|r| r.id));
        match page.next_before_id {
            Some(id) => query.before_id = Some(id),
            None => break,
        }
    }
    assert_eq!(seen.len(), 15);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));
}

#[tokio::test]
async fn pruning_bounds_the_audit_log_by_age_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let retention = Retention {
        audit_max_age: Duration::from_secs(3_600),
        audit_max_rows: 100,
        ..Retention::default()
    };
    let now = t(100_000);
    // 50 entries two hours old, then 300 recent ones.
    for i in 0..350u64 {
        let at = if i < 50 {
            now - Duration::from_secs(7_200)
        } else {
            now - Duration::from_secs(60)
        };
        audit::record(&store, entry("a", AuditAction::BalancingRun, Ok(())), at)
            .await
            .unwrap();
    }
    let report = store.prune(now, retention).await.unwrap();
    assert_eq!(report.audit_too_old, 50);
    assert_eq!(report.audit_over_cap, 200);
    let page = audit::query(&store, &AuditQuery::default()).await.unwrap();
    assert_eq!(page.total, 100);
    assert_eq!(page.records[0].id, 350, "the newest entries stay");

    // Whatever is written, the count never exceeds the cap after a prune.
    for _ in 0..150 {
        audit::record(&store, entry("a", AuditAction::BalancingRun, Ok(())), now)
            .await
            .unwrap();
    }
    store.prune(now, retention).await.unwrap();
    assert_eq!(
        audit::query(&store, &AuditQuery::default())
            .await
            .unwrap()
            .total,
        100
    );
}
