//! `GET /healthz`: liveness for load balancers, compose and systemd.

use axum::{extract::State, Json};
use plb_backend::AppState;
use plb_domain::ServerInfo;
use serde::Serialize;

/// Body of `/healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: &'static str,
    /// Version and uptime.
    #[serde(flatten)]
    pub server: ServerInfo,
}

/// Answers 200 with the server's version and uptime.
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        server: plb_backend::services::server_info::server_info(&state),
    })
}
