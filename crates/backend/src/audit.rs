//! The audit log: who did what, when, from where, with which result — in the store.
//!
//! Services call [`record`] for every change (config diff with secrets masked, service action,
//! maintenance or ignore toggle, balancing run, login success and failure, token created or
//! revoked, password changed); the UI and `GET /api/audit` read it with [`query`]. Retention:
//! see [`crate::store::retention`] (365 days, 50,000 entries by default).

use std::net::IpAddr;
use std::time::SystemTime;

use rusqlite::{params_from_iter, types::Value as SqlValue, Row};
use serde_json::Value;

pub use plb_domain::audit::{AuditAction, AuditPage, AuditRecord, ResultFilter, UnknownAction};

use crate::store::{to_unix, Store, StoreError};

/// Longest stored actor or target, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest stored error message, in characters.
pub const MAX_ERROR_CHARS: usize = 1024;
/// Largest stored `details` (serialized JSON, bytes); bigger ones are replaced by a note.
pub const MAX_DETAILS_BYTES: usize = 16 * 1024;
/// Most entries one [`query`] returns.
pub const MAX_PAGE: u32 = 500;
/// What [`mask_secrets`] puts in place of a secret.
pub const MASK: &str = "***";
/// One thing to record.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// Who: a user id (`alice@pve`, `admin@proxlb-web`), `token:<name>`, or for a failed login
    /// the user name that was tried.
    pub actor: String,
    /// From where.
    pub source_ip: Option<IpAddr>,
    /// What.
    pub action: AuditAction,
    /// On what (a node, a guest, a token name, `proxlb.yaml`, the service), if anything.
    pub target: Option<String>,
    /// More detail as JSON (e.g. a config diff). Mask secrets with [`mask_secrets`] first;
    /// [`record`] masks again to be sure.
    pub details: Option<Value>,
    /// The result: `Err` carries a message for people (no secrets, no internals).
    pub result: Result<(), String>,
}

/// Filters and paging of [`query`]. Every filter is optional; the default is the newest 50.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this actor (exact).
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only at or after this time.
    pub since: Option<SystemTime>,
    /// Only before this time.
    pub until: Option<SystemTime>,
    /// Only successes or only failures.
    pub result: Option<ResultFilter>,
    /// Paging: only entries older than this id (the previous page's `next_before_id`).
    pub before_id: Option<i64>,
    /// Page size: 1 to [`MAX_PAGE`]; `None` or 0 means 50.
    pub limit: Option<u32>,
}

/// Writes `entry` at `now`, masking secrets in its details and capping its sizes. Returns its id.
pub async fn record(store: &Store, entry: AuditEntry, now: SystemTime) -> Result<i64, StoreError> {
    let at = to_unix(now);
    let details = entry.details.map(|mut d| {
        mask_secrets(&mut d);
        let text = d.to_string();
        if text.len() > MAX_DETAILS_BYTES {
            serde_json::json!({ "truncated": true, "bytes": text.len() }).to_string()
        } else {
            text
        }
    });
    let (ok, error) = match entry.result {
        Ok(()) => (true, None),
        Err(message) => (false, Some(truncate(&message, MAX_ERROR_CHARS))),
    };
    let actor = truncate(&entry.actor, MAX_NAME_CHARS);
    let target = entry.target.map(|t| truncate(&t, MAX_NAME_CHARS));
    let source_ip = entry.source_ip.map(|ip| ip.to_string());
    let action = entry.action.as_str();
    store
        .call(move |c| {
            c.execute(
                "INSERT INTO audit_log (at, actor, source_ip, action, target, details, ok, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![at, actor, source_ip, action, target, details, ok, error],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
}

/// The entries matching `query`, newest first, one page at a time.
pub async fn query(store: &Store, query: &AuditQuery) -> Result<AuditPage, StoreError> {
    let mut conditions = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(actor) = &query.actor {
        args.push(SqlValue::Text(actor.clone()));
        conditions.push(format!("actor = ?{}", args.len()));
    }
    if let Some(action) = query.action {
        args.push(SqlValue::Text(action.as_str().to_owned()));
        conditions.push(format!("action = ?{}", args.len()));
    }
    if let Some(since) = query.since {
        args.push(SqlValue::Integer(to_unix(since)));
        conditions.push(format!("at >= ?{}", args.len()));
    }
    if let Some(until) = query.until {
        args.push(SqlValue::Integer(to_unix(until)));
        conditions.push(format!("at < ?{}", args.len()));
    }
    match query.result {
        Some(ResultFilter::Ok) => conditions.push("ok = 1".to_owned()),
        Some(ResultFilter::Failed) => conditions.push("ok = 0".to_owned()),
        None => {}
    }
    let filter = if conditions.is_empty() {
        "1".to_owned()
    } else {
        conditions.join(" AND ")
    };
    let limit = match query.limit {
        None | Some(0) => 50,
        Some(n) => n.min(MAX_PAGE),
    };
    let before_id = query.before_id;

    store
        .call(move |c| {
            let total: i64 = c.query_row(
                &format!("SELECT count(*) FROM audit_log WHERE {filter}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut page_args = args;
            let mut page_filter = filter;
            if let Some(before) = before_id {
                page_args.push(SqlValue::Integer(before));
                page_filter.push_str(&format!(" AND id < ?{}", page_args.len()));
            }
            // One more than asked, to know whether an older page exists.
            page_args.push(SqlValue::Integer(i64::from(limit) + 1));
            let sql = format!(
                "SELECT id, at, actor, source_ip, action, target, details, ok, error
                 FROM audit_log WHERE {page_filter} ORDER BY id DESC LIMIT ?{}",
                page_args.len()
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map(params_from_iter(page_args.iter()), read_record)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut records = rows.into_iter().collect::<Result<Vec<_>, StoreError>>()?;
            let next_before_id = if records.len() > limit as usize {
                records.truncate(limit as usize);
                records.last().map(|r| r.id)
            } else {
                None
            };
            Ok(AuditPage {
                records,
                total: u64::try_from(total).unwrap_or(0),
                next_before_id,
            })
        })
        .await
}

/// Replaces the value of every key that names a secret, at any depth, with [`MASK`]: keys
/// `pass`, `password`, `secret`, `token_secret`, `ticket`, `csrf_token` and any ending in
/// `_pass`, `_password` or `_secret` (case-insensitive). `null` stays `null`, so "unset" remains
/// visible. Use it on config diffs before recording them.
pub fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    if !v.is_null() {
                        *v = Value::String(MASK.to_owned());
                    }
                } else {
                    mask_secrets(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    matches!(
        key.as_str(),
        "pass" | "password" | "secret" | "token_secret" | "ticket" | "csrf_token"
    ) || key.ends_with("_pass")
        || key.ends_with("_password")
        || key.ends_with("_secret")
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn read_record(row: &Row<'_>) -> rusqlite::Result<Result<AuditRecord, StoreError>> {
    let action: String = row.get(4)?;
    let details: Option<String> = row.get(6)?;
    let action = match action.parse::<AuditAction>() {
        Ok(a) => a,
        Err(e) => return Ok(Err(StoreError::Corrupt(e.to_string()))),
    };
    let details = match details
        .map(|d| serde_json::from_str::<Value>(&d))
        .transpose()
    {
        Ok(d) => d,
        Err(e) => return Ok(Err(StoreError::Corrupt(format!("audit details: {e}")))),
    };
    Ok(Ok(AuditRecord {
        id: row.get(0)?,
        at_unix: row.get(1)?,
        actor: row.get(2)?,
        source_ip: row.get(3)?,
        action,
        target: row.get(5)?,
        details,
        ok: row.get(7)?,
        error: row.get(8)?,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn action_names_are_stable_and_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
            assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
        }
        assert_eq!(AuditAction::LoginSucceeded.as_str(), "login_succeeded");
        assert_eq!(
            AuditAction::MaintenanceToggled.to_string(),
            "maintenance_toggled"
        );
        assert!("dance".parse::<AuditAction>().is_err());
    }

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let mut v = json!({
            "proxmox_api": {
                "user": "root@pam", "pass": "hunter2", "token_id": "proxlb",
                "token_secret": "5f1c", "Password": "x", "hosts": ["pve1"]
            },
            "changes": [{"key": "proxmox_api.pass", "old_pass": "a", "new_password": "b"}],
            "smtp_secret": null,
            "bypass_count": 3
        });
        mask_secrets(&mut v);
        assert_eq!(
            v,
            json!({
                "proxmox_api": {
                    "user": "root@pam", "pass": "***", "token_id": "proxlb",
                    "token_secret": "***", "Password": "***", "hosts": ["pve1"]
                },
                "changes": [{"key": "proxmox_api.pass", "old_pass": "***", "new_password": "***"}],
                "smtp_secret": null,
                "bypass_count": 3
            })
        );
    }

    #[test]
    fn long_texts_are_cut_on_character_boundaries() {
        assert_eq!(truncate("äöü", 2), "äö…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
