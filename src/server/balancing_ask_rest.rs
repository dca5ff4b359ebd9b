//! REST endpoints of "ask real ProxLB" (relative to `/api`): one run of the installed ProxLB
//! with `-d -j` on the saved configuration or a candidate, next to the native plan.
//!
//! - `GET    /balancing/ask-proxlb`: the ask slot (`idle`, `running`, `finished` with the
//!   answer, `failed`, `cancelled`) and the estimate for the saved configuration (about how many
//!   requests one run sends to which hosts; `null` before the first cluster snapshot);
//! - `POST   /balancing/ask-proxlb` with no body, or the what-if's candidate
//!   `{settings, maintenance_nodes?, ignore_nodes?}`: starts the run (Operator, audited) and
//!   answers `202` with the `running` slot; `409` while one runs or where the backend cannot run
//!   ProxLB once (the message says why);
//! - `DELETE /balancing/ask-proxlb`: cancels the run (Operator, audited); `409` when none runs.
//!
//! The run takes seconds to minutes, so it is polled, not awaited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use plb_backend::AppState;
use plb_domain::balancing::wire::Candidate;
use plb_domain::proxlb::ask::{AskEstimate, AskStatus};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::server::auth::rest::Caller;
use crate::server::state::ServerState;

/// The paths below `/api`, as [`routes`] registers them (for the route table).
pub const PATHS: &[&str] = &["/balancing/ask-proxlb"];

/// The routes, relative to `/api`.
pub fn routes() -> Router<ServerState> {
    Router::new().route(
        "/balancing/ask-proxlb",
        get(status).post(start).delete(cancel),
    )
}

/// `GET /api/balancing/ask-proxlb`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AskView {
    /// The ask slot.
    pub status: AskStatus,
    /// What one run with the saved configuration would send; `None` without a snapshot.
    pub estimate: Option<AskEstimate>,
}

async fn status(State(state): State<AppState>, _caller: Caller) -> Json<AskView> {
    let estimate = state.balancing.ask_estimate(None).await.ok();
    Json(AskView {
        status: state.balancing.ask_status(),
        estimate,
    })
}

async fn start(
    State(state): State<AppState>,
    Caller(who): Caller,
    candidate: Option<Json<Candidate>>,
) -> Result<(StatusCode, Json<AskStatus>), ApiError> {
    let candidate = candidate.map(|Json(c)| c);
    let status = state.balancing.ask_proxlb(&who, candidate).await?;
    Ok((StatusCode::ACCEPTED, Json(status)))
}

async fn cancel(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<AskStatus>, ApiError> {
    Ok(Json(state.balancing.cancel_ask(&who).await?))
}
