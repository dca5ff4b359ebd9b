//! The REST API's account endpoints (merged under `/api` by [`crate::server::rest`]):
//!
//! | Method | Path | Who | Answer |
//! |---|---|---|---|
//! | `GET` | `/api/me` | anyone signed in | `CurrentUser` |
//! | `GET` | `/api/tokens` | anyone signed in | `[TokenInfo]` (never a secret) |
//! | `POST` | `/api/tokens` | operator, browser session | `201 CreatedToken` (the secret, once) |
//! | `DELETE` | `/api/tokens/{id}` | operator | `204` |
//! | `GET` | `/api/audit?actor=&action=&result=&since=&until=&before_id=&limit=` | anyone signed in | `AuditPage` |
//!
//! `POST /api/tokens` takes JSON `{"name": "...", "scope": "read"|"operate",
//! "expires_in_days": 90}` (`expires_in_days` optional: never expires).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use plb_backend::auth::{AuthService, Identity};
use plb_domain::audit::{AuditFilter, AuditPage};
use plb_domain::auth::{CreateToken, CurrentUser, TokenInfo};

use crate::error::ApiError;
use crate::server::state::ServerState;

/// Paths of these endpoints, relative to `/api` (for the route table).
pub const PATHS: &[&str] = &["/me", "/tokens", "/tokens/{id}", "/audit"];

/// The routes, relative to `/api`.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/me", get(me))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/audit", get(audit))
}

/// The caller, as the auth middleware identified them; `401` if it did not.
#[derive(Clone, Debug)]
pub struct Caller(pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::Unauthorized {
                message: "sign in first, or send an API token as Authorization: Bearer <token>"
                    .into(),
            })
    }
}

async fn me(Caller(who): Caller) -> Json<CurrentUser> {
    Json(who.user)
}

async fn list_tokens(
    State(auth): State<AuthService>,
    Caller(who): Caller,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(auth.list_tokens(&who).await?))
}

async fn create_token(
    State(auth): State<AuthService>,
    Caller(who): Caller,
    body: Result<Json<CreateToken>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|rejection| ApiError::Invalid {
        message: format!(
            "expected JSON {{\"name\": \"…\", \"scope\": \"read\" or \"operate\", \
             \"expires_in_days\": n}}: {}",
            rejection.body_text()
        ),
    })?;
    let created = auth.create_token(&who, &request).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn revoke_token(
    State(auth): State<AuthService>,
    Caller(who): Caller,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::Invalid {
        message: "the token id must be a whole number".into(),
    })?;
    auth.revoke_token(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit(
    State(auth): State<AuthService>,
    Caller(who): Caller,
    filter: Result<Query<AuditFilter>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(filter) = filter.map_err(|rejection| ApiError::Invalid {
        message: rejection.body_text(),
    })?;
    Ok(Json(auth.audit_page(&who, &filter).await?))
}
