//! Retention: every table has a rule, and [`prune`] enforces them, so the file stays bounded.
//!
//! Schedule: [`run_pruner`] prunes once at start and then every [`PRUNE_INTERVAL`] (1 hour).
//! Between runs the audit log can only grow by what one hour adds; sessions and API tokens are
//! capped whenever one is created, so they never exceed their caps. SQLite reuses freed pages, and a file created by this build
//! (incremental auto-vacuum) also hands them back to the file system after each prune.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection};
use tokio_util::sync::CancellationToken;

use super::{to_unix, Store, StoreError};
use crate::ports::Clock;

/// How often [`run_pruner`] prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Each table and its retention rule (the documentation, checked by a test against the schema).
pub const RETENTION_RULES: &[(&str, &str)] = &[
    (
        "local_users",
        "kept: one row per local account (today only `admin`)",
    ),
    (
        "sessions",
        "deleted once expired (idle or absolute timeout); on creation at most \
         `SessionPolicy::max_per_user` (20) per user and `SessionPolicy::max_total` (10,000) in \
         total are kept, least recently used out first",
    ),
    (
        "api_tokens",
        "deleted when revoked or expired; at most `ApiTokens::MAX_TOKENS` (200)",
    ),
    (
        "audit_log",
        "deleted when older than `Retention::audit_max_age` (365 days) or beyond the newest \
         `Retention::audit_max_rows` (50,000) rows",
    ),
    (
        "migrations",
        "deleted when started longer ago than `Retention::migrations_max_age` (365 days) or \
         beyond the newest `Retention::migrations_max_rows` (50,000) rows",
    ),
];

/// The tunable limits of [`prune`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Audit entries older than this are deleted.
    pub audit_max_age: Duration,
    /// At most this many audit entries are kept (the newest).
    pub audit_max_rows: u64,
    /// Migration history rows that started longer ago than this are deleted.
    pub migrations_max_age: Duration,
    /// At most this many migration history rows are kept (the newest).
    pub migrations_max_rows: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            audit_max_age: Duration::from_secs(365 * 24 * 60 * 60),
            audit_max_rows: 50_000,
            migrations_max_age: Duration::from_secs(365 * 24 * 60 * 60),
            migrations_max_rows: 50_000,
        }
    }
}

/// How many rows one [`prune`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Expired sessions.
    pub sessions_expired: usize,
    /// Expired API tokens.
    pub tokens_expired: usize,
    /// Audit entries older than the maximum age.
    pub audit_too_old: usize,
    /// Audit entries beyond the maximum row count.
    pub audit_over_cap: usize,
    /// Migration history rows older than the maximum age.
    pub migrations_too_old: usize,
    /// Migration history rows beyond the maximum row count.
    pub migrations_over_cap: usize,
}

impl PruneReport {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.sessions_expired
            + self.tokens_expired
            + self.audit_too_old
            + self.audit_over_cap
            + self.migrations_too_old
            + self.migrations_over_cap
    }
}

/// Deletes every row the retention rules say has expired at `now`, in one transaction.
pub fn prune(
    conn: &mut Connection,
    now: SystemTime,
    retention: &Retention,
) -> Result<PruneReport, StoreError> {
    let now = to_unix(now);
    let cutoff =
        now.saturating_sub(i64::try_from(retention.audit_max_age.as_secs()).unwrap_or(i64::MAX));
    let audit_keep = i64::try_from(retention.audit_max_rows).unwrap_or(i64::MAX);
    // Migration rows are timed in milliseconds.
    let migrations_cutoff = now.saturating_mul(1_000).saturating_sub(
        i64::try_from(retention.migrations_max_age.as_millis()).unwrap_or(i64::MAX),
    );
    let migrations_keep = i64::try_from(retention.migrations_max_rows).unwrap_or(i64::MAX);

    let tx = conn.transaction()?;
    let report = PruneReport {
        sessions_expired: tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?,
        tokens_expired: tx.execute(
            "DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?1",
            [now],
        )?,
        audit_too_old: tx.execute("DELETE FROM audit_log WHERE at < ?1", [cutoff])?,
        audit_over_cap: tx.execute(
            "DELETE FROM audit_log WHERE id <=
               (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            params![audit_keep],
        )?,
        migrations_too_old: tx.execute(
            "DELETE FROM migrations WHERE started_ms < ?1",
            [migrations_cutoff],
        )?,
        // By id, like the audit log: ids rise as moves are first seen.
        migrations_over_cap: tx.execute(
            "DELETE FROM migrations WHERE id <=
               (SELECT id FROM migrations ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            params![migrations_keep],
        )?,
    };
    tx.commit()?;
    if report.total() > 0 {
        // Hands freed pages back to the file system (a no-op without incremental auto-vacuum).
        conn.execute_batch("PRAGMA incremental_vacuum")?;
    }
    Ok(report)
}

/// Prunes now and then every [`PRUNE_INTERVAL`] until `cancel` fires. Spawn it once at start.
/// A failing prune is logged and retried at the next interval.
pub async fn run_pruner(
    store: Store,
    clock: Arc<dyn Clock>,
    retention: Retention,
    cancel: CancellationToken,
) {
    loop {
        match store.prune(clock.now(), retention).await {
            Ok(report) if report.total() > 0 => {
                tracing::info!(?report, "pruned the database")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "pruning the database failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(PRUNE_INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::store::{migrations, FILE_NAME};

    #[test]
    fn every_table_has_a_retention_rule() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap();
        let tables: BTreeSet<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let documented: BTreeSet<String> = RETENTION_RULES
            .iter()
            .map(|(t, _)| (*t).to_owned())
            .collect();
        assert_eq!(tables, documented);
    }

    fn insert_session(conn: &Connection, n: u8, last_seen: i64, expires_at: i64) {
        conn.execute(
            "INSERT INTO sessions (id_hash, user_id, display_name, source, role, created_at,
                                   last_seen, expires_at)
             VALUES (?1, 'u@pam', 'u', 'proxmox', 'viewer', 0, ?2, ?3)",
            params![[n; 32], last_seen, expires_at],
        )
        .unwrap();
    }

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn prune_bounds_every_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_file(&dir.path().join(FILE_NAME)).unwrap();
        let retention = Retention {
            audit_max_age: Duration::from_secs(1_000),
            audit_max_rows: 10,
            migrations_max_age: Duration::from_secs(1_000),
            migrations_max_rows: 3,
        };
        let now = 100_000;
        store
            .call_blocking(|c| {
                // 2 expired sessions, 3 live ones.
                for n in 0..2 {
                    insert_session(c, n, 10, now - 1);
                }
                for n in 2..5 {
                    insert_session(c, n, i64::from(n) * 100, now + 600);
                }
                c.execute(
                    "INSERT INTO api_tokens (name, token_hash, prefix, scope, created_by,
                                             created_at, expires_at)
                     VALUES ('old', ?1, 'plbw_a', 'read', 'u@pam', 0, ?2),
                            ('forever', ?3, 'plbw_b', 'read', 'u@pam', 0, NULL),
                            ('later', ?4, 'plbw_c', 'read', 'u@pam', 0, ?5)",
                    params![[1u8; 32], now, [2u8; 32], [3u8; 32], now + 1],
                )?;
                // 2 migrations too old, 5 recent ones (3 may stay).
                for i in 0..7 {
                    let started_ms = if i < 2 { (now - 2_000) * 1_000 } else { (now - 10) * 1_000 };
                    c.execute(
                        "INSERT INTO migrations (guest, started_ms, outcome, initiator, updated_ms)
                         VALUES ('web', ?1, 'succeeded', 'proxlb', ?1)",
                        [started_ms],
                    )?;
                }
                // 5 entries too old, 20 recent ones (10 may stay).
                for i in 0..25 {
                    let at = if i < 5 { now - 2_000 } else { now - 10 };
                    c.execute(
                        "INSERT INTO audit_log (at, actor, action, ok) VALUES (?1, 'u', 'logout', 1)",
                        [at],
                    )?;
                }
                Ok(())
            })
            .unwrap();

        let report = store
            .call_blocking(|c| prune(c, crate::store::from_unix(now), &retention))
            .unwrap();
        assert_eq!(
            report,
            PruneReport {
                sessions_expired: 2,
                tokens_expired: 1,
                audit_too_old: 5,
                audit_over_cap: 10,
                migrations_too_old: 2,
                migrations_over_cap: 2,
            }
        );
        let (sessions, tokens, audit, oldest_kept, moves) = store
            .call_blocking(|c| {
                Ok((
                    count(c, "sessions"),
                    count(c, "api_tokens"),
                    count(c, "audit_log"),
                    c.query_row("SELECT min(id) FROM audit_log", [], |r| r.get::<_, i64>(0))?,
                    c.query_row("SELECT group_concat(id) FROM migrations", [], |r| {
                        r.get::<_, String>(0)
                    })?,
                ))
            })
            .unwrap();
        assert_eq!((sessions, tokens, audit), (3, 2, 10));
        assert_eq!(moves, "5,6,7", "the newest three migrations stay");
        assert_eq!(oldest_kept, 16, "the newest ten audit entries stay");

        let again = store
            .call_blocking(|c| prune(c, crate::store::from_unix(now), &retention))
            .unwrap();
        assert_eq!(again.total(), 0);
    }

    #[tokio::test]
    async fn the_pruner_prunes_at_start_and_stops_when_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store
            .call(|c| {
                insert_session(c, 1, 0, 10);
                Ok(())
            })
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_pruner(
            store.clone(),
            Arc::new(crate::clock::SystemClock),
            Retention::default(),
            cancel.clone(),
        ));
        // The pruner's first run deletes the expired session (a hang guard, not a timing assert).
        tokio::time::timeout(Duration::from_secs(60), async {
            while store.call(|c| Ok(count(c, "sessions"))).await.unwrap() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        cancel.cancel();
        task.await.unwrap();
    }
}
