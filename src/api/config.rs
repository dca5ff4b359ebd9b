//! Server functions of the Configuration view and the node toggles: thin wrappers over the
//! backend's `ConfigService` (the one write path), with the REST module's context, blocking and
//! audit helpers (`crate::server::config_rest`) so both doors behave the same.
//!
//! Reading needs a signed-in user; every write needs the Operator role and is audited, refused
//! or not. No text here ever holds a secret: the service masks them, and a submitted mask keeps
//! the stored secret. A plain form post (no JavaScript) is redirected back to `/config` with the
//! outcome in the URL ([`OUTCOME_PARAM`]).

use leptos::prelude::*;
use plb_domain::proxlb::validate::{Issue, Report};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The URL parameter with a plain form post's outcome (`saved`, `unchanged`, `rejected`,
/// `conflict` or an error kind).
pub const OUTCOME_PARAM: &str = "outcome";

/// The configuration as the editor shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigDoc {
    /// The file's text, secrets masked.
    pub text: String,
    /// Digest of the file's bytes: a save carries it back.
    pub digest: String,
    /// What ProxLB 2.3.0 says about the file as it is.
    pub report: Report,
    /// Why the file cannot be written, when it cannot.
    pub read_only: Option<String>,
    /// The file is written in place (single-file bind mount) rather than atomically.
    pub in_place: bool,
    /// Demo mode: the demo's config is regenerated at every start.
    pub demo: bool,
    /// Why ProxLB cannot be reloaded or restarted from here, when it cannot (no backend, or
    /// the backend has a problem): "save and reload/restart" are offered only without one.
    #[serde(default)]
    pub apply_unavailable: Option<String>,
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WriteResult {
    /// Written; `digest` is the new one (`None`: nothing needed changing).
    Saved {
        /// The file's new digest.
        digest: Option<String>,
        /// Which backup holds the previous version.
        backup: Option<String>,
        /// Warnings about the new file.
        warnings: Vec<Issue>,
        /// The reload or restart that followed, if one was asked for.
        #[serde(default)]
        applied: Option<Applied>,
    },
    /// ProxLB would reject it; nothing was written.
    Rejected {
        /// Errors and warnings with line and column.
        report: Report,
    },
    /// The file changed on disk since it was loaded; nothing was written.
    Conflict {
        /// "changed on disk since you loaded it".
        message: String,
        /// Unified diff from the file on disk (theirs) to the submitted text (yours), masked.
        diff: String,
        /// The file's digest now.
        digest: String,
    },
}

impl WriteResult {
    /// The outcome's word for [`OUTCOME_PARAM`].
    pub fn outcome(&self) -> &'static str {
        match self {
            WriteResult::Saved {
                applied: Some(Applied { ok: false, .. }),
                ..
            } => "saved_not_applied",
            WriteResult::Saved {
                applied: Some(Applied { action, .. }),
                ..
            } if action == "reload" => "saved_reloaded",
            WriteResult::Saved {
                applied: Some(Applied { .. }),
                ..
            } => "saved_restarted",
            WriteResult::Saved { digest: None, .. } => "unchanged",
            WriteResult::Saved { .. } => "saved",
            WriteResult::Rejected { .. } => "rejected",
            WriteResult::Conflict { .. } => "conflict",
        }
    }
}

/// What applying a save to ProxLB did (reload or restart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// `reload` or `restart`.
    pub action: String,
    /// Whether ProxLB took it.
    pub ok: bool,
    /// What happened, for people (why, when it failed).
    pub message: String,
}

/// The pending change before a save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    /// Unified diff from the file on disk to the text (both masked).
    pub diff: String,
    /// The change touches `proxmox_api`, which ProxLB reads only when it starts: a reload is
    /// not enough.
    pub restart_needed: bool,
}

/// A stored backup, as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupRow {
    /// Its id (for viewing and restoring).
    pub id: String,
    /// When it was taken (Unix ms, UTC).
    pub taken_at_unix_ms: i64,
    /// Size in bytes.
    pub size: u64,
}

/// One backup, masked, with its diff to the current file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupDoc {
    /// Which backup.
    pub row: BackupRow,
    /// Its text, secrets masked.
    pub text: String,
    /// Unified diff from the backup to the current file, masked.
    pub diff_to_current: String,
}

/// The configuration file, masked, with digest, validation and writability (signed-in users).
#[server(prefix = "/sfn", endpoint = "config_get")]
pub async fn get_config() -> Result<ConfigDoc, ApiError> {
    use plb_backend::ports::config::Writability;

    crate::api::auth::require_user()?;
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    let config = state.config.clone();
    let view = crate::server::config_rest::blocking(move || config.view(&ctx))
        .await
        .map_err(refused_to_api)?;
    Ok(ConfigDoc {
        text: view.text,
        digest: view.digest.0,
        report: view.report,
        read_only: match &view.writability {
            Writability::ReadOnly(why) => Some(why.clone()),
            _ => None,
        },
        in_place: matches!(view.writability, Writability::InPlace),
        demo: state.settings.demo,
        apply_unavailable: apply_unavailable(&state.proxlb.status()),
    })
}

/// Validates an editor text as ProxLB 2.3.0 would, without writing (signed-in users).
#[server(prefix = "/sfn", endpoint = "config_validate")]
pub async fn validate_config(text: String) -> Result<Report, ApiError> {
    crate::api::auth::require_user()?;
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    let config = state.config.clone();
    crate::server::config_rest::blocking(move || config.validate_text(&text, &ctx))
        .await
        .map_err(refused_to_api)
}

/// The pending change: a unified diff from the file now to `text` (both masked), and whether
/// it needs a restart to reach ProxLB.
#[server(prefix = "/sfn", endpoint = "config_preview")]
pub async fn preview_config(text: String) -> Result<Preview, ApiError> {
    use plb_backend::config_store::apply::restart_needed;
    use plb_backend::config_store::service::diff;

    crate::api::auth::require_user()?;
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    let config = state.config.clone();
    let current = crate::server::config_rest::blocking(move || config.view(&ctx))
        .await
        .map_err(refused_to_api)?;
    Ok(Preview {
        diff: diff("on disk", &current.text, "yours", &text),
        restart_needed: restart_needed(&current.text, &text),
    })
}

/// Saves the editor's text if the file still has `digest` (operators, audited), then reloads
/// or restarts ProxLB when `apply` says so (`reload`, `restart`; default: only save). A plain
/// form post is redirected back to `/config` with the outcome.
#[server(prefix = "/sfn", endpoint = "config_save")]
pub async fn save_config(
    digest: String,
    text: String,
    apply: Option<String>,
) -> Result<WriteResult, ApiError> {
    let result = save(digest, text, apply).await;
    redirect_plain(&result);
    result
}

#[cfg(feature = "ssr")]
async fn save(
    digest: String,
    text: String,
    apply: Option<String>,
) -> Result<WriteResult, ApiError> {
    use plb_backend::ports::config::Digest;
    use plb_domain::audit::AuditAction;

    let who = crate::api::auth::require_operator()?;
    let choice = crate::server::config_rest::apply_choice(apply.as_deref())?;
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    let config = state.config.clone();
    let base = Digest(digest);
    let before = base.clone();
    let result =
        crate::server::config_rest::blocking(move || config.save_text(&base, &text, &ctx)).await;
    let details = serde_json::json!({
        "from_digest": before,
        "to_digest": result.as_ref().ok().and_then(|s| s.digest.clone()),
        "backup": result.as_ref().ok().and_then(|s| s.outcome.as_ref()).and_then(|o| o.backup.clone()),
    });
    crate::server::config_rest::audit(
        &state,
        &who,
        AuditAction::ConfigChanged,
        "proxlb.yaml".to_owned(),
        Some(details),
        &result,
    )
    .await;
    let mut answer = written(result)?;
    if let WriteResult::Saved { applied, .. } = &mut answer {
        *applied = crate::server::config_rest::apply_saved(&state, &who, choice).await;
    }
    Ok(answer)
}

/// Stored backups, newest first (signed-in users).
#[server(prefix = "/sfn", endpoint = "config_backups")]
pub async fn list_backups() -> Result<Vec<BackupRow>, ApiError> {
    crate::api::auth::require_user()?;
    let config = crate::api::app_state()?.config.clone();
    let list = crate::server::config_rest::blocking(move || config.backups())
        .await
        .map_err(refused_to_api)?;
    Ok(list.into_iter().map(row).collect())
}

/// One backup, masked, with its diff to the current file (signed-in users).
#[server(prefix = "/sfn", endpoint = "config_backup")]
pub async fn get_backup(id: String) -> Result<BackupDoc, ApiError> {
    crate::api::auth::require_user()?;
    let config = crate::api::app_state()?.config.clone();
    let view = crate::server::config_rest::blocking(move || config.backup(&id))
        .await
        .map_err(refused_to_api)?;
    Ok(BackupDoc {
        row: row(view.info),
        text: view.text,
        diff_to_current: view.diff_to_current,
    })
}

/// Restores backup `id` over the file that has `digest` (operators, audited).
#[server(prefix = "/sfn", endpoint = "config_restore")]
pub async fn restore_backup(id: String, digest: String) -> Result<WriteResult, ApiError> {
    let result = restore(id, digest).await;
    redirect_plain(&result);
    result
}

#[cfg(feature = "ssr")]
async fn restore(id: String, digest: String) -> Result<WriteResult, ApiError> {
    use plb_backend::ports::config::Digest;
    use plb_domain::audit::AuditAction;

    let who = crate::api::auth::require_operator()?;
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    let config = state.config.clone();
    let backup_id = id.clone();
    let base = Digest(digest);
    let result =
        crate::server::config_rest::blocking(move || config.restore(&backup_id, &base, &ctx)).await;
    let details = serde_json::json!({ "restored_backup": id });
    crate::server::config_rest::audit(
        &state,
        &who,
        AuditAction::ConfigChanged,
        "proxlb.yaml".to_owned(),
        Some(details),
        &result,
    )
    .await;
    written(result)
}

/// Puts `node` on (`on = true`) or off ProxLB's `list` (`maintenance` or `ignore`), losslessly
/// (operators, audited). A plain form post is redirected back to `back` (a local path).
#[server(prefix = "/sfn", endpoint = "config_node")]
pub async fn set_node_flag(
    node: String,
    list: String,
    on: bool,
    back: Option<String>,
) -> Result<WriteResult, ApiError> {
    let result = toggle(node, list, on).await;
    if crate::api::account::plain_form_post() {
        // Only a local path: the redirect must not leave the site.
        let back = back
            .filter(|b| b.starts_with('/') && !b.starts_with("//"))
            .unwrap_or_else(|| "/nodes".to_owned());
        let outcome = match &result {
            Ok(w) => w.outcome(),
            Err(e) => crate::api::service::error_kind(e),
        };
        let sep = if back.contains('?') { '&' } else { '?' };
        leptos_axum::redirect(&format!("{back}{sep}{OUTCOME_PARAM}={outcome}"));
    }
    result
}

#[cfg(feature = "ssr")]
async fn toggle(node: String, list: String, on: bool) -> Result<WriteResult, ApiError> {
    use plb_backend::config_store::service::NodeList;
    use plb_domain::audit::AuditAction;

    let who = crate::api::auth::require_operator()?;
    let list = match list.trim() {
        "maintenance" => NodeList::Maintenance,
        "ignore" => NodeList::Ignore,
        _ => {
            return Err(ApiError::Invalid {
                message: "the list must be maintenance or ignore".to_owned(),
            })
        }
    };
    let node = node.trim().to_owned();
    if node.is_empty() || node.chars().any(char::is_control) {
        return Err(ApiError::Invalid {
            message: "name a node".to_owned(),
        });
    }
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    let config = state.config.clone();
    let name = node.clone();
    let result =
        crate::server::config_rest::blocking(move || config.set_node(list, &name, on, &ctx)).await;
    let action = match list {
        NodeList::Maintenance => AuditAction::MaintenanceToggled,
        NodeList::Ignore => AuditAction::IgnoreToggled,
    };
    let details = serde_json::json!({ "list": list, "state": on });
    crate::server::config_rest::audit(
        &state,
        &who,
        action,
        format!("node {node}"),
        Some(details),
        &result,
    )
    .await;
    written(result)
}

/// Why "save and reload/restart" cannot work with ProxLB's service as it is, if it cannot.
#[cfg(feature = "ssr")]
fn apply_unavailable(status: &plb_domain::service::ServiceStatus) -> Option<String> {
    use plb_domain::service::BackendKind;

    if let Some(problem) = &status.problem {
        return Some(problem.message.clone());
    }
    (status.backend == BackendKind::None)
        .then(|| "ProxLB Web does not control ProxLB here (no service backend).".to_owned())
}

/// A plain form post goes back to `/config` with the outcome in the URL.
#[cfg(feature = "ssr")]
fn redirect_plain(result: &Result<WriteResult, ApiError>) {
    if crate::api::account::plain_form_post() {
        let outcome = match result {
            Ok(w) => w.outcome(),
            Err(e) => crate::api::service::error_kind(e),
        };
        leptos_axum::redirect(&format!("/config?{OUTCOME_PARAM}={outcome}"));
    }
}

/// A write's answer: refusals with positions or a diff are results, not errors, so the editor
/// can show them; everything else is an [`ApiError`].
#[cfg(feature = "ssr")]
fn written(
    result: Result<plb_backend::config_store::service::Saved, crate::server::config_rest::Refused>,
) -> Result<WriteResult, ApiError> {
    use crate::server::config_rest::{ConfigRefusal, Refused};

    match result {
        Ok(saved) => Ok(WriteResult::Saved {
            digest: saved.digest.map(|d| d.0),
            backup: saved.outcome.and_then(|o| o.backup),
            warnings: saved.warnings,
            applied: None,
        }),
        Err(Refused::Config(ConfigRefusal::Invalid {
            issues,
            warnings,
            legacy_1x,
            ..
        })) => Ok(WriteResult::Rejected {
            report: Report {
                errors: issues,
                warnings,
                legacy_1x,
            },
        }),
        Err(Refused::Config(ConfigRefusal::Conflict {
            message,
            diff,
            digest,
        })) => Ok(WriteResult::Conflict {
            message,
            diff,
            digest: digest.0,
        }),
        Err(Refused::Api(e)) => Err(e),
    }
}

/// A read's refusal as an [`ApiError`] (reads have no positions or diffs to carry).
#[cfg(feature = "ssr")]
fn refused_to_api(refused: crate::server::config_rest::Refused) -> ApiError {
    use crate::server::config_rest::{ConfigRefusal, Refused};

    match refused {
        Refused::Api(e) => e,
        Refused::Config(ConfigRefusal::Invalid { message, .. }) => ApiError::Invalid { message },
        Refused::Config(ConfigRefusal::Conflict { message, diff, .. }) => ApiError::Conflict {
            message,
            current: Some(diff),
        },
    }
}

#[cfg(feature = "ssr")]
fn row(info: plb_backend::ports::config::BackupInfo) -> BackupRow {
    BackupRow {
        id: info.id,
        taken_at_unix_ms: info.taken_at_unix_ms,
        size: info.size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_words_follow_the_result() {
        let saved = |digest: Option<&str>| WriteResult::Saved {
            digest: digest.map(str::to_owned),
            backup: None,
            warnings: Vec::new(),
            applied: None,
        };
        assert_eq!(saved(Some("d")).outcome(), "saved");
        let applied = |action: &str, ok: bool| WriteResult::Saved {
            digest: Some("d".to_owned()),
            backup: None,
            warnings: Vec::new(),
            applied: Some(Applied {
                action: action.to_owned(),
                ok,
                message: String::new(),
            }),
        };
        assert_eq!(applied("reload", true).outcome(), "saved_reloaded");
        assert_eq!(applied("restart", true).outcome(), "saved_restarted");
        assert_eq!(applied("restart", false).outcome(), "saved_not_applied");
        assert_eq!(saved(None).outcome(), "unchanged");
        let conflict = WriteResult::Conflict {
            message: String::new(),
            diff: String::new(),
            digest: String::new(),
        };
        assert_eq!(conflict.outcome(), "conflict");
    }
}
