//! REST endpoints of the Balancing view (relative to `/api`), for scripts, Terraform and Ansible:
//!
//! - `GET  /balancing/settings`: the balancing settings as ProxLB reads them, the file's digest,
//!   and why "run now" would be refused now (if it would);
//! - `POST /balancing/settings` `{digest, settings}`: save (Operator, audited). Only keys that
//!   change are written, losslessly. Out of range: 400 `{kind: "invalid", fields}`; ProxLB would
//!   reject the file: 400 `{kind: "invalid", issues: [{line, column, …}]}` as `/api/config`;
//!   stale digest: 409 `{kind: "conflict", theirs, yours, digest}`;
//! - `GET  /balancing/plan`: ProxLB's plan now: the verdict, the balance test per method with
//!   its numbers (`cluster.checks`), node loads before and after, every move with why this guest
//!   (`why_guest`), why this target (`why_target`) and every other node's verdict
//!   (`candidates[].rejections`), and how old ProxLB's inputs are (`inputs`);
//! - `POST /balancing/what-if` `{settings, maintenance_nodes?, ignore_nodes?}`: `today`'s plan
//!   and the `candidate`'s, with the `diff` (nothing is written);
//! - `GET  /balancing/explain?guest=<vmid or name>`: why one guest moves or stays (`verdict`,
//!   `reasons` as sentences, the typed `outcome` with its numbers);
//! - `GET  /balancing/best-node`: the node ProxLB would choose now (`proxlb -d -b`), or with
//!   `cores`, `memory`, `disk` (units accepted), `type`, `pool`, `tags` the best node for a new
//!   guest of that size and those rules; 409 with every node's reasons when none fits;
//! - `POST /balancing/trigger`: one real ProxLB run now (Operator, audited); 409 with the reason
//!   when refused.
//!
//! Nothing here calls Proxmox: plans are replayed on the poller's last snapshot.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use plb_backend::config_store::Saved;
use plb_backend::services::balancing::save::SaveError;
use plb_backend::AppState;
use plb_domain::balancing::answer::{BalancingPlan, GuestAnswer, WhatIfAnswer};
use plb_domain::balancing::settings::BalancingSettings;
use plb_domain::balancing::wire::{Candidate, RunStarted, SaveRefusal, SettingsView};
use plb_domain::proxlb::best_node::{NewGuest, NoFit};
use plb_domain::proxlb::cluster::GuestKind;
use plb_domain::units::{parse_disk, parse_memory, SizeError};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::server::auth::rest::Caller;
use crate::server::config_rest::{context, ConfigRefusal};
use crate::server::state::ServerState;

/// The paths below `/api`, as [`routes`] registers them (for the route table).
pub const PATHS: &[&str] = &[
    "/balancing/settings",
    "/balancing/plan",
    "/balancing/what-if",
    "/balancing/explain",
    "/balancing/best-node",
    "/balancing/trigger",
];

/// The routes, relative to `/api`.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/balancing/settings", get(settings).post(save))
        .route("/balancing/plan", get(plan))
        .route("/balancing/what-if", post(what_if))
        .route("/balancing/explain", get(explain))
        .route("/balancing/best-node", get(best_node))
        .route("/balancing/trigger", post(trigger))
}

/// `POST /api/balancing/settings`.
#[derive(Clone, Debug, Deserialize)]
pub struct SaveRequest {
    /// The digest the settings were based on (from `GET /api/balancing/settings`).
    pub digest: String,
    /// The whole settings form.
    pub settings: BalancingSettings,
}

/// `GET /api/balancing/explain?guest=`.
#[derive(Clone, Debug, Deserialize)]
pub struct ExplainQuery {
    /// Guest name or VMID.
    pub guest: String,
}

/// A refused save.
pub enum SaveRefused {
    /// Out of range or stale (the balancing answers).
    Balancing(SaveRefusal),
    /// ProxLB would reject the file (the `/api/config` answer, with positions).
    Config(ConfigRefusal),
    /// Anything else.
    Api(ApiError),
}

impl IntoResponse for SaveRefused {
    fn into_response(self) -> Response {
        match self {
            SaveRefused::Balancing(refusal) => {
                let status = match refusal {
                    SaveRefusal::Invalid { .. } => StatusCode::BAD_REQUEST,
                    SaveRefusal::Conflict { .. } => StatusCode::CONFLICT,
                };
                (status, Json(refusal)).into_response()
            }
            SaveRefused::Config(refusal) => refusal.into_response(),
            SaveRefused::Api(error) => error.into_response(),
        }
    }
}

impl From<SaveError> for SaveRefused {
    fn from(error: SaveError) -> Self {
        match error {
            SaveError::Refused(refusal) => SaveRefused::Balancing(refusal),
            SaveError::Rejected(report) => SaveRefused::Config(ConfigRefusal::Invalid {
                message: "ProxLB would reject this configuration; nothing was written".to_owned(),
                issues: report.errors,
                warnings: report.warnings,
                legacy_1x: report.legacy_1x,
            }),
            SaveError::Other(error) => SaveRefused::Api(error.into()),
        }
    }
}

async fn settings(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(state.balancing.settings().await?))
}

async fn save(
    State(state): State<AppState>,
    Caller(who): Caller,
    Json(request): Json<SaveRequest>,
) -> Result<Json<Saved>, SaveRefused> {
    let ctx = context(&state).await;
    Ok(Json(
        state
            .balancing
            .save(&who, &request.digest, request.settings, ctx)
            .await?,
    ))
}

async fn plan(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<BalancingPlan>, ApiError> {
    Ok(Json(state.balancing.plan().await?))
}

async fn what_if(
    State(state): State<AppState>,
    _caller: Caller,
    Json(candidate): Json<Candidate>,
) -> Result<Json<WhatIfAnswer>, ApiError> {
    Ok(Json(state.balancing.what_if(&candidate).await?))
}

async fn explain(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ExplainQuery>,
) -> Result<Json<GuestAnswer>, ApiError> {
    Ok(Json(state.balancing.explain(&query.guest).await?))
}

/// `GET /api/balancing/best-node` parameters; all optional. Without any: the node ProxLB
/// would choose now.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BestNodeQuery {
    /// vCPUs.
    pub cores: Option<u32>,
    /// Memory: `4096` (MiB), `4G`, `512MiB`, `8GB` (binary units).
    pub memory: Option<String>,
    /// Disk: `32` (GiB), `500M`, `1T`.
    pub disk: Option<String>,
    /// `vm` or `ct`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Proxmox pool it will join.
    pub pool: Option<String>,
    /// Tags, separated by `,` or `;` (as Proxmox writes them).
    pub tags: Option<String>,
}

impl BestNodeQuery {
    fn is_empty(&self) -> bool {
        self.cores.is_none()
            && self.memory.is_none()
            && self.disk.is_none()
            && self.kind.is_none()
            && self.pool.is_none()
            && self.tags.is_none()
    }

    /// The new guest it describes.
    fn guest(&self) -> Result<NewGuest, ApiError> {
        let size =
            |text: &Option<String>, parse: fn(&str) -> Result<u64, SizeError>, what: &str| {
                text.as_deref()
                    .map(parse)
                    .transpose()
                    .map_err(|e| ApiError::Invalid {
                        message: format!("{what}: {e}"),
                    })
                    .map(Option::unwrap_or_default)
            };
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("vm" | "qemu") => Some(GuestKind::Vm),
            Some("ct" | "lxc") => Some(GuestKind::Ct),
            Some(_) => {
                return Err(ApiError::Invalid {
                    message: "type must be vm or ct".to_owned(),
                })
            }
        };
        Ok(NewGuest {
            cores: self.cores.unwrap_or(0),
            memory: size(&self.memory, parse_memory, "memory")?,
            disk: size(&self.disk, parse_disk, "disk")?,
            kind,
            pool: self.pool.clone().filter(|p| !p.trim().is_empty()),
            tags: self
                .tags
                .as_deref()
                .unwrap_or_default()
                .split([',', ';'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// `409` of `GET /api/balancing/best-node`: no node fits, with every node's reasons.
#[derive(Clone, Debug, Serialize)]
pub struct NoFitReply {
    /// Always `conflict`.
    pub kind: &'static str,
    /// "no node can take the guest".
    pub message: String,
    /// Every node with why it was rejected.
    pub nodes: NoFit,
}

async fn best_node(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<BestNodeQuery>,
) -> Result<Response, ApiError> {
    let request = if query.is_empty() {
        None
    } else {
        Some(query.guest()?)
    };
    Ok(match state.balancing.best_node_for(request).await? {
        Ok(best) => Json(best).into_response(),
        Err(no_fit) => (
            StatusCode::CONFLICT,
            Json(NoFitReply {
                kind: "conflict",
                message: no_fit.to_string(),
                nodes: no_fit,
            }),
        )
            .into_response(),
    })
}

async fn trigger(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<RunStarted>, ApiError> {
    Ok(Json(state.balancing.run_now(&who).await?))
}
