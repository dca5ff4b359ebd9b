//! Versioned schema migrations.
//!
//! The file's schema version is SQLite's `PRAGMA user_version` (0 for a new file). On open, every
//! migration newer than it runs, in order, each in its own transaction together with the version
//! bump, so a crash leaves the file at the last complete version.
//!
//! To change the schema, **append** a [`Migration`] with the next version to [`MIGRATIONS`] (SQL
//! in `store/migrations/NNNN_name.sql`), add a retention rule for every new table to
//! [`super::RETENTION_RULES`] (a test checks it), and never edit a migration that has shipped.

use rusqlite::Connection;

use super::StoreError;

/// One step of the schema.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// The version the file has after this migration: 1, 2, 3, … without gaps.
    pub version: u32,
    /// Short name, for the log.
    pub name: &'static str,
    /// The SQL, run as one batch inside the migration's transaction.
    pub sql: &'static str,
}

/// Every migration, oldest first. Append only.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts, sessions and API tokens",
        sql: include_str!("migrations/0001_auth.sql"),
    },
    Migration {
        version: 2,
        name: "audit log",
        sql: include_str!("migrations/0002_audit.sql"),
    },
    Migration {
        version: 3,
        name: "migration history",
        sql: include_str!("migrations/0003_migrations.sql"),
    },
];

/// The version a fully migrated file has.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The file's schema version (`PRAGMA user_version`).
pub fn current_version(conn: &Connection) -> Result<u32, StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    u32::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("negative schema version {version}")))
}

/// Brings the file to [`latest_version`]. Returns the version it had before.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, latest_version())
}

/// Applies the migrations up to and including `target`. Refuses a file newer than this build
/// (a downgrade would silently drop what the newer version relies on). Returns the version the
/// file had before.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let before = current_version(conn)?;
    if before > latest_version() {
        return Err(StoreError::TooNew {
            found: before,
            known: latest_version(),
        });
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > before && m.version <= target)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "database migrated"
        );
    }
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {:?}", m.name);
            assert!(!m.sql.trim().is_empty());
        }
    }

    #[test]
    fn a_version_one_file_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            assert_eq!(migrate_to(&mut conn, 1).unwrap(), 0);
            assert_eq!(current_version(&conn).unwrap(), 1);
            conn.execute(
                "INSERT INTO local_users (username, password_hash, created_at, password_changed_at)
                 VALUES ('admin', 'hash', 1, 1)",
                [],
            )
            .unwrap();
            let audit: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(audit, 0, "version 1 has no audit log yet");
        }
        let store = super::super::Store::open_file(&path).unwrap();
        let (version, users, audit): (u32, i64, i64) = store
            .call_blocking(|c| {
                Ok((
                    current_version(c)?,
                    c.query_row("SELECT count(*) FROM local_users", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!(version, latest_version());
        assert_eq!(users, 1);
        assert_eq!(audit, 0);
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        assert_eq!(current_version(&conn).unwrap(), latest_version());
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { found, known }
            if found == latest_version() + 1 && known == latest_version()));
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        // Make migration 2 fail half-way: its table name is taken.
        conn.execute_batch("CREATE TABLE audit_log (x INTEGER)")
            .unwrap();
        assert!(migrate(&mut conn).is_err());
        assert_eq!(current_version(&conn).unwrap(), 1);
    }
}
