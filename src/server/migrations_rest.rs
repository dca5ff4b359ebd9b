//! The migration history's REST endpoint (merged under `/api` by [`crate::server::rest`]):
//!
//! | Method | Path | Who | Answer |
//! |---|---|---|---|
//! | `GET` | `/api/migrations?text=&node=&outcome=&initiator=&since_unix_ms=&before_id=&limit=` | anyone signed in | `MigrationPage` |
//!
//! `text` matches guest names (case-insensitive, part of the name) or a vmid; `node` moves from
//! or to that node; `outcome` is `running`, `succeeded`, `failed` or `unknown`; `initiator`
//! `proxlb`, `ha`, `person` or `unknown`; `since_unix_ms` only moves started at or after it;
//! `limit` 1 to 500 (default 50). Moves come newest start first; pass a page's
//! `next_before_id` as `before_id` for the next, older page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use plb_backend::AppState;
use plb_domain::migrations::{MigrationFilter, MigrationPage};

use crate::error::ApiError;
use crate::server::auth::rest::Caller;
use crate::server::state::ServerState;

/// Paths of these endpoints, relative to `/api` (for the route table).
pub const PATHS: &[&str] = &["/migrations"];

/// The routes, relative to `/api`.
pub fn routes() -> Router<ServerState> {
    Router::new().route("/migrations", get(list))
}

async fn list(
    State(state): State<AppState>,
    Caller(_who): Caller,
    filter: Result<Query<MigrationFilter>, QueryRejection>,
) -> Result<Json<MigrationPage>, ApiError> {
    let Query(filter) = filter.map_err(|rejection| ApiError::Invalid {
        message: rejection.body_text(),
    })?;
    Ok(Json(state.migrations.list(&filter).await?))
}
