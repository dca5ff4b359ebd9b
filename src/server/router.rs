//! The one axum router: health, live channel, server functions, pages and static files.

use std::sync::OnceLock;
use std::time::Duration;

use axum::{routing::get, Router};
use leptos::prelude::provide_context;
use leptos_axum::{
    file_and_error_handler_with_context, generate_route_list, AxumRouteListing, LeptosRoutes,
};
use plb_backend::AppState;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
use crate::server::state::{leptos_options, ServerState};
use crate::server::{health, live, rest};

/// The app's routes, generated once per process.
///
/// Why once: generating them renders the app with a process-global "suppress resource loads"
/// flag set (leptos_server's `SuppressResourceLoad`). A resource first polled on another thread
/// while that flag is up waits forever (leptos-rs/leptos#4773), so building a second router while
/// the first serves pages, as tests do, could hang a page render. After the first call no
/// router build touches that flag again.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Builds the router for `state` with the production heartbeat.
pub fn build(state: AppState) -> Router {
    build_with_heartbeat(state, live::HEARTBEAT)
}

/// Builds the router; `heartbeat` is the live channel's heartbeat interval (short in tests).
pub fn build_with_heartbeat(state: AppState, heartbeat: Duration) -> Router {
    let options = leptos_options(&state.settings);
    let server_state = ServerState {
        leptos_options: options.clone(),
        app: state.clone(),
    };
    // Server functions and pages read the backend state from the Leptos context.
    let context = move || provide_context(state.clone());
    let routes = route_list();

    Router::new()
        .route("/healthz", get(health::healthz))
        .merge(rest::routes())
        .route(
            "/ws/live",
            get(move |upgrade, state| live::live_socket(upgrade, state, heartbeat)),
        )
        .leptos_routes_with_context(&server_state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<ServerState, _>(
            context, shell,
        ))
        // Pages and JSON are compressed on the fly (the Guests page of a 10,000-guest cluster
        // carries the whole list for hydration); precompressed static files pass untouched.
        // Level 4 keeps brotli and gzip cheap enough to run per request.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        .layer(TraceLayer::new_for_http())
        .with_state(server_state)
}
