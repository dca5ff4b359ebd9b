//! REST endpoints of ProxLB's configuration file (relative to `/api`):
//!
//! - `GET  /config`: the file with secrets masked, its digest, validation and writability;
//! - `POST /config` `{digest, text, apply?}`: save (a masked secret keeps the stored one), then,
//!   with `apply: "reload"` or `"restart"`, reload or restart ProxLB (answered in `applied`;
//!   a failed apply leaves the save in place and says why). Stale digest:
//!   409 `{kind: "conflict", message: "changed on disk since you loaded it", diff, digest}`;
//!   rejected: 400 `{kind: "invalid", issues: [{path, line, column, message}], …}`;
//! - `POST /config/validate` `{text}`: the same validation without writing;
//! - `POST /maintenance` and `POST /ignore` `{node, state}`: the node toggles
//!   (`proxmox_cluster.maintenance_nodes` / `ignore_nodes`), lossless;
//! - `GET /config/backups`, `GET /config/backups/{id}` (masked, with a diff to the current
//!   file), `POST /config/backups/{id}/restore` `{digest}`.
//!
//! Every write needs the Operator role and is audited (success and refusal). No response ever
//! holds a secret: texts are masked by the service, errors carry positions and messages only.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use plb_backend::auth::service::entry;
use plb_backend::auth::{Identity, Role};
use plb_backend::config_store::apply::ApplyChoice;
use plb_backend::config_store::service::{BackupView, ConfigError, NodeList, Saved};
use plb_backend::config_store::ConfigView;
use plb_backend::ports::config::{BackupInfo, Digest};
use plb_backend::AppState;
use plb_domain::audit::AuditAction;
use plb_domain::proxlb::validate::{Context, Issue, Report};
use plb_domain::service::BackendKind;
use serde::{Deserialize, Serialize};

use crate::api::config::Applied;
use crate::error::ApiError;
use crate::server::auth::rest::Caller;
use crate::server::state::ServerState;

/// The routes, relative to `/api`.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/config", get(read).post(save))
        .route("/config/validate", post(validate))
        .route("/config/backups", get(backups))
        .route("/config/backups/{id}", get(backup))
        .route("/config/backups/{id}/restore", post(restore))
        .route("/maintenance", post(maintenance))
        .route("/ignore", post(ignore))
}

/// `POST /api/config`.
#[derive(Clone, Debug, Deserialize)]
pub struct SaveRequest {
    /// The digest the text was based on (from `GET /api/config`).
    pub digest: Digest,
    /// The whole file; `'********'` where a secret is to stay as stored.
    pub text: String,
    /// What to do with ProxLB after the write: `save` (default), `reload` or `restart`.
    #[serde(default)]
    pub apply: Option<String>,
}

/// `POST /api/config`'s answer: the write, and what applying it to ProxLB did.
#[derive(Clone, Debug, Serialize)]
pub struct SaveAnswer {
    /// The write.
    #[serde(flatten)]
    pub saved: Saved,
    /// The reload or restart that followed, if one was asked for.
    pub applied: Option<Applied>,
}

/// Parses the `apply` word of a save (REST or form).
pub(crate) fn apply_choice(word: Option<&str>) -> Result<ApplyChoice, ApiError> {
    ApplyChoice::parse(word.unwrap_or_default()).ok_or_else(|| ApiError::Invalid {
        message: "apply must be save, reload or restart".to_owned(),
    })
}

/// Reloads or restarts ProxLB after a save, as `who` chose (the service checks the role, keeps
/// one action at a time and audits it). `None` for a plain save.
pub(crate) async fn apply_saved(
    state: &AppState,
    who: &Identity,
    choice: ApplyChoice,
) -> Option<Applied> {
    use plb_domain::service::ServiceAction;

    let action = match choice {
        ApplyChoice::Save => return None,
        ApplyChoice::Reload => ServiceAction::Reload,
        ApplyChoice::Restart => ServiceAction::Restart,
    };
    let result = state.proxlb.act(who, action).await;
    Some(match result {
        Ok(_) => Applied {
            action: action.as_str().to_owned(),
            ok: true,
            message: match choice {
                ApplyChoice::Reload => "ProxLB was reloaded: it reads the file after its current sleep. A change under proxmox_api needs a restart.".to_owned(),
                _ => "ProxLB was restarted with the new file and balances at once.".to_owned(),
            },
        },
        Err(e) => Applied {
            action: action.as_str().to_owned(),
            ok: false,
            message: format!(
                "Saved, but the {} failed: {}",
                action.as_str(),
                ApiError::from(e)
            ),
        },
    })
}

/// `POST /api/config/validate`.
#[derive(Clone, Debug, Deserialize)]
pub struct ValidateRequest {
    /// The whole file, as in [`SaveRequest`].
    pub text: String,
}

/// `POST /api/maintenance` and `POST /api/ignore`.
#[derive(Clone, Debug, Deserialize)]
pub struct ToggleRequest {
    /// Node name.
    pub node: String,
    /// `true`: on the list; `false`: off it.
    pub state: bool,
}

/// `POST /api/config/backups/{id}/restore`.
#[derive(Clone, Debug, Deserialize)]
pub struct RestoreRequest {
    /// The digest of the file the restore replaces.
    pub digest: Digest,
}

/// A 400 for a configuration ProxLB would reject, or a 409 for a stale digest.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConfigRefusal {
    /// ProxLB 2.3.0 would not start with it; nothing was written.
    Invalid {
        /// Summary.
        message: String,
        /// Every error, with line and column.
        issues: Vec<Issue>,
        /// Warnings about the same text.
        warnings: Vec<Issue>,
        /// It is a ProxLB 1.x configuration.
        legacy_1x: bool,
    },
    /// The file changed since the change was based on it; nothing was written.
    Conflict {
        /// "changed on disk since you loaded it".
        message: String,
        /// Unified diff from the file on disk (theirs) to the submitted text (yours), masked.
        diff: String,
        /// The file's digest now (load it again, or resubmit against it).
        digest: Digest,
    },
}

impl IntoResponse for ConfigRefusal {
    fn into_response(self) -> Response {
        let status = match self {
            ConfigRefusal::Invalid { .. } => StatusCode::BAD_REQUEST,
            ConfigRefusal::Conflict { .. } => StatusCode::CONFLICT,
        };
        (status, Json(self)).into_response()
    }
}

/// Any refusal of a config endpoint.
pub enum Refused {
    /// The config-specific answers (with positions or a diff).
    Config(ConfigRefusal),
    /// Everything else.
    Api(ApiError),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Config(c) => c.into_response(),
            Refused::Api(e) => e.into_response(),
        }
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Api(e)
    }
}

impl From<plb_backend::Error> for Refused {
    fn from(e: plb_backend::Error) -> Self {
        Refused::Api(e.into())
    }
}

impl From<ConfigError> for Refused {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Rejected(report) => Refused::Config(invalid(report)),
            ConfigError::Conflict { current, diff } => Refused::Config(ConfigRefusal::Conflict {
                message: plb_backend::config_store::service::STALE_MESSAGE.to_owned(),
                diff,
                digest: current,
            }),
            other => Refused::Api(plb_backend::Error::from(other).into()),
        }
    }
}

fn invalid(report: Report) -> ConfigRefusal {
    ConfigRefusal::Invalid {
        message: "ProxLB would reject this configuration; nothing was written".to_owned(),
        issues: report.errors,
        warnings: report.warnings,
        legacy_1x: report.legacy_1x,
    }
}

/// What validation may know beyond the file: the cluster's node names (when a snapshot is
/// there) and whether ProxLB runs in a container.
pub(crate) async fn context(state: &AppState) -> Context {
    let cluster_nodes = state
        .cluster
        .view(Duration::ZERO)
        .await
        .ok()
        .map(|view| view.overview.nodes.iter().map(|n| n.name.clone()).collect());
    Context {
        cluster_nodes,
        in_container: matches!(state.proxlb.backend(), BackendKind::Docker),
    }
}

/// Runs blocking file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ConfigError> + Send + 'static,
) -> Result<T, Refused> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Refused::from),
        Err(join) => Err(plb_backend::Error::internal(join).into()),
    }
}

/// Records a write attempt in the audit log (the result says whether it was written).
pub(crate) async fn audit<T>(
    state: &AppState,
    who: &Identity,
    action: AuditAction,
    target: String,
    details: Option<serde_json::Value>,
    result: &Result<T, Refused>,
) {
    let outcome = match result {
        Ok(_) => Ok(()),
        Err(Refused::Config(ConfigRefusal::Invalid { .. })) => {
            Err("rejected: ProxLB would not accept it".to_owned())
        }
        Err(Refused::Config(ConfigRefusal::Conflict { .. })) => {
            Err("conflict: changed on disk".to_owned())
        }
        Err(Refused::Api(e)) => Err(e.to_string()),
    };
    let mut record = entry(who, action, Some(target), outcome);
    record.details = details;
    state.auth.audit(record).await;
}

async fn read(State(state): State<AppState>, _caller: Caller) -> Result<Json<ConfigView>, Refused> {
    let ctx = context(&state).await;
    let config = state.config.clone();
    Ok(Json(blocking(move || config.view(&ctx)).await?))
}

async fn validate(
    State(state): State<AppState>,
    _caller: Caller,
    Json(request): Json<ValidateRequest>,
) -> Result<Json<Report>, Refused> {
    let ctx = context(&state).await;
    let config = state.config.clone();
    Ok(Json(
        blocking(move || config.validate_text(&request.text, &ctx)).await?,
    ))
}

async fn save(
    State(state): State<AppState>,
    Caller(who): Caller,
    Json(request): Json<SaveRequest>,
) -> Result<Json<SaveAnswer>, Refused> {
    who.require(Role::Operator)?;
    let choice = apply_choice(request.apply.as_deref())?;
    let ctx = context(&state).await;
    let config = state.config.clone();
    let before = request.digest.clone();
    let result = blocking(move || config.save_text(&request.digest, &request.text, &ctx)).await;
    let details = serde_json::json!({
        "from_digest": before,
        "to_digest": result.as_ref().ok().and_then(|s| s.digest.clone()),
        "backup": result.as_ref().ok().and_then(|s| s.outcome.as_ref()).and_then(|o| o.backup.clone()),
    });
    audit(
        &state,
        &who,
        AuditAction::ConfigChanged,
        "proxlb.yaml".to_owned(),
        Some(details),
        &result,
    )
    .await;
    let saved = result?;
    let applied = apply_saved(&state, &who, choice).await;
    Ok(Json(SaveAnswer { saved, applied }))
}

async fn toggle(
    state: AppState,
    who: Identity,
    list: NodeList,
    request: ToggleRequest,
) -> Result<Json<Saved>, Refused> {
    who.require(Role::Operator)?;
    let node = request.node.trim().to_owned();
    if node.is_empty() || node.chars().any(char::is_control) {
        return Err(ApiError::Invalid {
            message: "name a node".to_owned(),
        }
        .into());
    }
    let ctx = context(&state).await;
    let config = state.config.clone();
    let (on, name) = (request.state, node.clone());
    let result = blocking(move || config.set_node(list, &name, on, &ctx)).await;
    let action = match list {
        NodeList::Maintenance => AuditAction::MaintenanceToggled,
        NodeList::Ignore => AuditAction::IgnoreToggled,
    };
    let details = serde_json::json!({ "list": list, "state": on });
    audit(
        &state,
        &who,
        action,
        format!("node {node}"),
        Some(details),
        &result,
    )
    .await;
    Ok(Json(result?))
}

async fn maintenance(
    State(state): State<AppState>,
    Caller(who): Caller,
    Json(request): Json<ToggleRequest>,
) -> Result<Json<Saved>, Refused> {
    toggle(state, who, NodeList::Maintenance, request).await
}

async fn ignore(
    State(state): State<AppState>,
    Caller(who): Caller,
    Json(request): Json<ToggleRequest>,
) -> Result<Json<Saved>, Refused> {
    toggle(state, who, NodeList::Ignore, request).await
}

async fn backups(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<BackupInfo>>, Refused> {
    let config = state.config.clone();
    Ok(Json(blocking(move || config.backups()).await?))
}

async fn backup(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BackupView>, Refused> {
    let config = state.config.clone();
    Ok(Json(blocking(move || config.backup(&id)).await?))
}

async fn restore(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(request): Json<RestoreRequest>,
) -> Result<Json<Saved>, Refused> {
    who.require(Role::Operator)?;
    let ctx = context(&state).await;
    let config = state.config.clone();
    let backup_id = id.clone();
    let result = blocking(move || config.restore(&backup_id, &request.digest, &ctx)).await;
    let details = serde_json::json!({ "restored_backup": id });
    audit(
        &state,
        &who,
        AuditAction::ConfigChanged,
        "proxlb.yaml".to_owned(),
        Some(details),
        &result,
    )
    .await;
    Ok(Json(result?))
}
