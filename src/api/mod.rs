//! Server functions: thin wrappers that take the state, call one backend service, map the error.
//!
//! All live under the `/sfn` prefix: the spec's REST API owns `/api/*` and `/ws/*`.

pub mod account;
pub mod auth;
pub mod balancing;
pub mod balancing_ask;
pub mod cluster;
pub mod config;
pub mod logs;
pub mod migrations;
pub mod resource;
pub mod server_info;
pub mod service;
pub mod theme;

/// URL prefix of every server function.
pub const SERVER_FN_PREFIX: &str = "/sfn";

/// The backend state, from the request context (provided by the server's router).
#[cfg(feature = "ssr")]
pub fn app_state() -> Result<plb_backend::AppState, crate::error::ApiError> {
    leptos::prelude::use_context::<plb_backend::AppState>().ok_or_else(|| {
        crate::error::ApiError::internal("AppState missing from the request context")
    })
}
