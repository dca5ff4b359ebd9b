//! The `migrations` table row by row: read one into a [`Row`], change it in Rust, write it back
//! with [`save`] (which writes only when something changed). The merge rules in
//! [`super::correlate`] are written against these functions.

use rusqlite::{params, Connection, OptionalExtension, Row as SqlRow};

/// How a move ended, as stored (`outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Started, no end seen yet.
    Running,
    /// The guest arrived on the target.
    Succeeded,
    /// Refused or failed; `reason` says why.
    Failed,
    /// No end was ever seen (the log and the task list lost track of it).
    Unknown,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(Outcome::Running),
            "succeeded" => Some(Outcome::Succeeded),
            "failed" => Some(Outcome::Failed),
            "unknown" => Some(Outcome::Unknown),
            _ => None,
        }
    }
}

/// Who started a move, as stored (`initiator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// A ProxLB run.
    Proxlb,
    /// Proxmox's HA stack (a `qmigrate` by `root@pam` of an HA-managed guest with no request).
    Ha,
    /// A person (or another tool) in Proxmox; `initiator_user` says who.
    Person,
    /// Not known.
    Unknown,
}

impl Initiator {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Proxlb => "proxlb",
            Initiator::Ha => "ha",
            Initiator::Person => "person",
            Initiator::Unknown => "unknown",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "proxlb" => Some(Initiator::Proxlb),
            "ha" => Some(Initiator::Ha),
            "person" => Some(Initiator::Person),
            "unknown" => Some(Initiator::Unknown),
            _ => None,
        }
    }
}

/// What decided a row's outcome (`evidence`). A task's status is the truth about the move and
/// outranks a log line, which outranks an inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Evidence {
    /// No failure line before ProxLB's end-of-run line.
    Inferred,
    /// A ProxLB line said so.
    Log,
    /// Proxmox's task status said so.
    Task,
}

impl Evidence {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Inferred => "inferred",
            Evidence::Log => "log",
            Evidence::Task => "task",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "inferred" => Some(Evidence::Inferred),
            "log" => Some(Evidence::Log),
            "task" => Some(Evidence::Task),
            _ => None,
        }
    }
}

/// One row of `migrations`. `id` is `None` until [`save`] inserts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Row id.
    pub id: Option<i64>,
    /// Guest name.
    pub guest: Option<String>,
    /// Guest id.
    pub vmid: Option<u32>,
    /// `vm` or `ct`.
    pub kind: Option<String>,
    /// Node it left.
    pub source: Option<String>,
    /// Node it went to.
    pub target: Option<String>,
    /// Start (Unix ms): the task's start once one is known, else the log line's time.
    pub started_ms: i64,
    /// End (Unix ms).
    pub ended_ms: Option<i64>,
    /// `ended_ms - started_ms`, when both are known.
    pub duration_ms: Option<i64>,
    /// How it ended.
    pub outcome: Outcome,
    /// What decided `outcome`.
    pub evidence: Option<Evidence>,
    /// Why it failed.
    pub reason: Option<String>,
    /// Who started it.
    pub initiator: Initiator,
    /// The Proxmox user that started the task.
    pub initiator_user: Option<String>,
    /// The `qmigrate`/`vzmigrate` task.
    pub upid: Option<String>,
    /// The `hamigrate` request.
    pub ha_upid: Option<String>,
    /// Key of ProxLB's start line.
    pub log_key: Option<String>,
    /// How the row was put together, when worth saying.
    pub note: Option<String>,
}

impl Row {
    /// A new running row started at `started_ms`.
    pub fn new(started_ms: i64, initiator: Initiator) -> Self {
        Self {
            id: None,
            guest: None,
            vmid: None,
            kind: None,
            source: None,
            target: None,
            started_ms,
            ended_ms: None,
            duration_ms: None,
            outcome: Outcome::Running,
            evidence: None,
            reason: None,
            initiator,
            initiator_user: None,
            upid: None,
            ha_upid: None,
            log_key: None,
            note: None,
        }
    }

    /// Sets the end and recomputes the duration.
    pub fn end_at(&mut self, ended_ms: i64) {
        self.ended_ms = Some(ended_ms);
        self.fix_duration();
    }

    /// Recomputes `duration_ms` from start and end (never negative).
    pub fn fix_duration(&mut self) {
        self.duration_ms = self.ended_ms.map(|end| (end - self.started_ms).max(0));
    }

    /// Records an outcome with its evidence, unless stronger evidence already decided it.
    /// Returns whether it was taken.
    pub fn settle(&mut self, outcome: Outcome, evidence: Evidence, reason: Option<String>) -> bool {
        if self.evidence.is_some_and(|have| have > evidence) {
            return false;
        }
        self.outcome = outcome;
        self.evidence = Some(evidence);
        match outcome {
            Outcome::Failed | Outcome::Unknown => {
                if reason.is_some() {
                    self.reason = reason;
                }
            }
            Outcome::Running | Outcome::Succeeded => self.reason = None,
        }
        true
    }
}

const COLUMNS: &str = "id, guest, vmid, kind, source, target, started_ms, ended_ms, duration_ms, \
                       outcome, evidence, reason, initiator, initiator_user, upid, ha_upid, \
                       log_key, note";

/// The column list of [`read`], for queries elsewhere.
pub fn columns() -> &'static str {
    COLUMNS
}

/// Reads a row selected with [`columns`]. Unknown enum names (a newer build wrote them) read as
/// `unknown`, so one odd row never hides the whole history.
pub fn read(row: &SqlRow<'_>) -> rusqlite::Result<Row> {
    let outcome: String = row.get(9)?;
    let evidence: Option<String> = row.get(10)?;
    let initiator: String = row.get(12)?;
    Ok(Row {
        id: Some(row.get(0)?),
        guest: row.get(1)?,
        vmid: row.get(2)?,
        kind: row.get(3)?,
        source: row.get(4)?,
        target: row.get(5)?,
        started_ms: row.get(6)?,
        ended_ms: row.get(7)?,
        duration_ms: row.get(8)?,
        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Unknown),
        evidence: evidence.as_deref().and_then(Evidence::parse),
        reason: row.get(11)?,
        initiator: Initiator::parse(&initiator).unwrap_or(Initiator::Unknown),
        initiator_user: row.get(13)?,
        upid: row.get(14)?,
        ha_upid: row.get(15)?,
        log_key: row.get(16)?,
        note: row.get(17)?,
    })
}

/// The row with this id.
pub fn by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<Row>> {
    one(conn, "id = ?1", params![id])
}

/// The row holding this task (as `upid` or as `ha_upid`).
pub fn by_upid(conn: &Connection, upid: &str) -> rusqlite::Result<Option<Row>> {
    one(conn, "upid = ?1 OR ha_upid = ?1", params![upid])
}

/// The row of this ProxLB start line.
pub fn by_log_key(conn: &Connection, key: &str) -> rusqlite::Result<Option<Row>> {
    one(conn, "log_key = ?1", params![key])
}

/// Rows matching `condition`, newest start first.
pub fn select(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Row>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM migrations WHERE {condition} ORDER BY started_ms DESC, id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, read)?;
    rows.collect()
}

fn one(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<Option<Row>> {
    let sql = format!("SELECT {COLUMNS} FROM migrations WHERE {condition} LIMIT 1");
    conn.prepare_cached(&sql)?.query_row(args, read).optional()
}

/// Inserts `row` (no id) or writes it over the stored one (with id) if it differs. Returns the
/// id and whether anything was written.
pub fn save(conn: &Connection, row: &Row, now_ms: i64) -> rusqlite::Result<(i64, bool)> {
    if let Some(id) = row.id {
        if by_id(conn, id)?.as_ref() == Some(row) {
            return Ok((id, false));
        }
        conn.prepare_cached(
            "UPDATE migrations SET guest = ?2, vmid = ?3, kind = ?4, source = ?5, target = ?6,
                 started_ms = ?7, ended_ms = ?8, duration_ms = ?9, outcome = ?10, evidence = ?11,
                 reason = ?12, initiator = ?13, initiator_user = ?14, upid = ?15, ha_upid = ?16,
                 log_key = ?17, note = ?18, updated_ms = ?19
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            row.guest,
            row.vmid,
            row.kind,
            row.source,
            row.target,
            row.started_ms,
            row.ended_ms,
            row.duration_ms,
            row.outcome.as_str(),
            row.evidence.map(Evidence::as_str),
            row.reason,
            row.initiator.as_str(),
            row.initiator_user,
            row.upid,
            row.ha_upid,
            row.log_key,
            row.note,
            now_ms,
        ])?;
        return Ok((id, true));
    }
    conn.prepare_cached(
        "INSERT INTO migrations (guest, vmid, kind, source, target, started_ms, ended_ms,
             duration_ms, outcome, evidence, reason, initiator, initiator_user, upid, ha_upid,
             log_key, note, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        row.guest,
        row.vmid,
        row.kind,
        row.source,
        row.target,
        row.started_ms,
        row.ended_ms,
        row.duration_ms,
        row.outcome.as_str(),
        row.evidence.map(Evidence::as_str),
        row.reason,
        row.initiator.as_str(),
        row.initiator_user,
        row.upid,
        row.ha_upid,
        row.log_key,
        row.note,
        now_ms,
    ])?;
    Ok((conn.last_insert_rowid(), true))
}

/// Deletes the row with this id (when two rows turn out to be one move).
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM migrations WHERE id = ?1")?
        .execute(params![id])?;
    Ok(())
}
