//! Reading the history: filters and keyset paging over the `migrations` table, newest start
//! first.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::rows::{self, Initiator, Outcome, Row};

/// Most rows one page holds.
pub const MAX_PAGE: u32 = plb_domain::migrations::MAX_MIGRATION_LIMIT;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = plb_domain::migrations::DEFAULT_MIGRATION_LIMIT;

/// Filters and paging. Every filter is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Guest name containing this text (case-insensitive), or this vmid when it is a number.
    pub text: Option<String>,
    /// Moves from or to this node.
    pub node: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only this initiator.
    pub initiator: Option<Initiator>,
    /// Only moves started at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Paging: only rows after this one in the order (the previous page's `next_before_id`).
    pub before_id: Option<i64>,
    /// Page size: 1 to [`MAX_PAGE`]; `None` or 0 means [`DEFAULT_PAGE`].
    pub limit: Option<u32>,
}

/// One page of rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowPage {
    /// The rows, newest start first.
    pub rows: Vec<Row>,
    /// How many rows match the filters in all.
    pub total: u64,
    /// Pass as `before_id` for the next (older) page; `None` on the last page.
    pub next_before_id: Option<i64>,
}

/// The rows matching `query`, one page.
pub fn list(conn: &Connection, query: &ListQuery) -> rusqlite::Result<RowPage> {
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(text) = query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        args.push(SqlValue::Text(format!("%{}%", escape_like(text))));
        let mut condition = format!("guest LIKE ?{} ESCAPE '\\'", args.len());
        if let Ok(vmid) = text.parse::<u32>() {
            args.push(SqlValue::Integer(i64::from(vmid)));
            condition = format!("({condition} OR vmid = ?{})", args.len());
        }
        conditions.push(condition);
    }
    if let Some(node) = &query.node {
        args.push(SqlValue::Text(node.clone()));
        conditions.push(format!(
            "(source = ?{0} COLLATE NOCASE OR target = ?{0} COLLATE NOCASE)",
            args.len()
        ));
    }
    if let Some(outcome) = query.outcome {
        args.push(SqlValue::Text(outcome.as_str().to_owned()));
        conditions.push(format!("outcome = ?{}", args.len()));
    }
    if let Some(initiator) = query.initiator {
        args.push(SqlValue::Text(initiator.as_str().to_owned()));
        conditions.push(format!("initiator = ?{}", args.len()));
    }
    if let Some(since) = query.since_ms {
        args.push(SqlValue::Integer(since));
        conditions.push(format!("started_ms >= ?{}", args.len()));
    }
    let filter = if conditions.is_empty() {
        "1".to_owned()
    } else {
        conditions.join(" AND ")
    };
    let limit = match query.limit {
        None | Some(0) => DEFAULT_PAGE,
        Some(n) => n.min(MAX_PAGE),
    };

    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM migrations WHERE {filter}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let mut page_args = args;
    let mut page_filter = filter;
    if let Some(before) = query.before_id {
        // Keyset paging in (started_ms, id) order; a row deleted since (pruned, or merged into
        // another) falls back to the id alone.
        let started: Option<i64> = conn
            .query_row(
                "SELECT started_ms FROM migrations WHERE id = ?1",
                [before],
                |r| r.get(0),
            )
            .optional()?;
        page_args.push(SqlValue::Integer(before));
        let id_arg = page_args.len();
        match started {
            Some(started) => {
                page_args.push(SqlValue::Integer(started));
                let s = page_args.len();
                page_filter.push_str(&format!(
                    " AND (started_ms < ?{s} OR (started_ms = ?{s} AND id < ?{id_arg}))"
                ));
            }
            None => page_filter.push_str(&format!(" AND id < ?{id_arg}")),
        }
    }
    page_args.push(SqlValue::Integer(i64::from(limit) + 1));
    let sql = format!(
        "SELECT {} FROM migrations WHERE {page_filter}
         ORDER BY started_ms DESC, id DESC LIMIT ?{}",
        rows::columns(),
        page_args.len()
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut found = stmt
        .query_map(params_from_iter(page_args.iter()), rows::read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_before_id = if found.len() > limit as usize {
        found.truncate(limit as usize);
        found.last().and_then(|r| r.id)
    } else {
        None
    };
    Ok(RowPage {
        rows: found,
        total: u64::try_from(total).unwrap_or(0),
        next_before_id,
    })
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
