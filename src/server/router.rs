//! The one axum router: health, live channel, server functions, pages and static files, behind
//! the per-request limits (timeout, body size), the same-origin check for writes, the `Host`
//! allow-list, authentication, and the security headers.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::request::Parts;
use axum::http::Method;
use axum::{middleware, routing::get, Router};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{
    file_and_error_handler_with_context, generate_route_list, AxumRouteListing, LeptosRoutes,
};
use plb_backend::auth::{AuthService, Identity};
use plb_backend::AppState;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLevel;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
use crate::server::auth::forms;
use crate::server::compression::CompressUnlessEncoded;
use crate::server::front_door::{self, FrontDoor};
use crate::server::page_cache::PageCache;
use crate::server::state::{leptos_options, ServerState};
use crate::server::{health, live, proxlb_rest, rest};

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
    let server_state = ServerState::new(options.clone(), state.clone());
    let door = FrontDoor::new(state.clone(), PageCache::new(state.cluster.subscribe()));
    // Server functions and pages read the backend state, the caller and the CSP nonce from the
    // Leptos context; the middleware left the latter two in the request's extensions.
    let context = move || {
        provide_context(state.clone());
        if let Some(parts) = use_context::<Parts>() {
            if let Some(who) = parts.extensions.get::<Identity>() {
                provide_context(who.clone());
            }
            // Replaces the nonce Leptos made, so the page's scripts carry the header's one.
            if let Some(nonce) = parts.extensions.get::<Nonce>() {
                provide_context(nonce.clone());
            }
        }
    };
    let routes = route_list();

    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .merge(rest::routes())
        .merge(forms::routes())
        .route(
            plb_domain::live::PATH,
            live::route(live::LiveConfig::with_heartbeat(heartbeat)),
        )
        .route(proxlb_rest::WS_LOGS_PATH, get(proxlb_rest::ws_logs))
        .leptos_routes_with_context(&server_state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<ServerState, _>(
            context, shell,
        ))
        .with_state(server_state);

    // The middleware wraps the whole router once (outermost first), not each route: axum's
    // `Router::layer` boxes every layer around every route, and each request then cloned that
    // stack of boxes, one allocation per layer.
    let layered = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        // Pages and JSON are compressed on the fly (the Guests page of a 10,000-guest cluster
        // carries the whole list for hydration); precompressed static files and cached bodies
        // pass untouched, and the REST cache's answers skip it. Level 4 keeps brotli and gzip
        // cheap enough to run per request.
        .layer_fn(|inner| CompressUnlessEncoded::new(inner, CompressionLevel::Precise(4)))
        // Limits, security headers, Host, origin and sign-in checks, the page cache: one
        // middleware (see front_door for the order and why).
        .layer(middleware::from_fn_with_state(door, front_door::admit))
        .service(app);
    Router::new().fallback_service(layered)
}

/// Every route the router serves, by kind: what the auth tests walk, so a new route cannot slip
/// through unprotected.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// Page paths (Leptos route patterns such as `/nodes/{name}`).
    pub pages: Vec<String>,
    /// Server functions: method and path, from the server-function registry.
    pub server_fns: Vec<(Method, String)>,
    /// REST endpoints below `/api`, with the `/api` prefix.
    pub rest: Vec<String>,
    /// WebSocket paths.
    pub sockets: Vec<String>,
    /// The form actions under `/auth/`.
    pub forms: Vec<(Method, String)>,
}

/// The route table of the app (see [`RouteTable`]).
pub fn route_table() -> RouteTable {
    let pages = route_list()
        .iter()
        .map(|listing| listing.path().to_owned())
        .collect();
    let mut server_fns: Vec<(Method, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (method, path.to_owned()))
        .collect();
    server_fns.sort_by(|a, b| a.1.cmp(&b.1));
    let rest = rest::CLUSTER_PATHS
        .iter()
        .chain(crate::server::auth::rest::PATHS)
        .chain(proxlb_rest::PATHS)
        .chain(crate::server::migrations_rest::PATHS)
        .chain(crate::server::balancing_rest::PATHS)
        .chain(crate::server::balancing_ask_rest::PATHS)
        .map(|path| format!("/api{path}"))
        .collect();
    RouteTable {
        pages,
        server_fns,
        rest,
        sockets: vec![
            plb_domain::live::PATH.to_owned(),
            proxlb_rest::WS_LOGS_PATH.to_owned(),
        ],
        forms: forms::ACTIONS
            .iter()
            .map(|path| (Method::POST, (*path).to_owned()))
            .collect(),
    }
}

/// The auth service of a router's state (for handlers that take `State<AuthService>`).
impl axum::extract::FromRef<ServerState> for AuthService {
    fn from_ref(state: &ServerState) -> Self {
        state.app.auth.clone()
    }
}
