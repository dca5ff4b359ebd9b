//! The spec's REST API for scripts and automation: stable URLs, JSON, secrets never included.
//!
//! Every endpoint reads the cluster view the poller built; none calls Proxmox.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, OriginalUri, Path, State};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, MethodRouter};
use axum::{Json, Router};
use plb_backend::AppState;
use plb_domain::proxlb::maintenance::MaintenanceOverview;
use plb_domain::proxlb::RulesView;
use plb_domain::view::{ClusterView, GuestRow, NodeRow, SnapshotMeta};
use serde::Serialize;

use crate::api::cluster::cluster_view;
use crate::error::ApiError;
use crate::server::rest_cache::{etag_matches, Coding, Encoder, RestCache};
use crate::server::state::ServerState;

/// The `/api` routes. Every answer under `/api` is JSON, errors included: an unknown path is a
/// JSON 404 and a wrong method a JSON 405, never the HTML pages of the app.
pub fn routes() -> Router<ServerState> {
    routes_with_cache(RestCache::new())
}

/// [`routes`] with the given encoded-body cache (tests read its counters).
pub fn routes_with_cache(cache: RestCache) -> Router<ServerState> {
    // The cache goes into the handlers that use it, not into every request as an `Extension`
    // layer: a layer on this router wraps every `/api` route (docs/benchmarks.md, "The floor
    // under `/api/nodes` at 200 clients").
    let on_node = cache.clone();
    let api = Router::new()
        // The overview (everything but the guest list).
        .route("/cluster", cached_get(&cache, "cluster", encode_cluster))
        .route("/nodes", cached_get(&cache, "nodes", encode_nodes))
        // Every guest (about 3 MB of JSON at 10,000 guests).
        .route("/guests", cached_get(&cache, "guests", encode_guests))
        .route(
            "/guests/{node}",
            get(
                move |State(state): State<AppState>, Path(node): Path<String>, asked: Asked| {
                    let cache = on_node.clone();
                    async move { guests_on_node(&state, &cache, node, &asked).await }
                },
            ),
        )
        .route("/rules", cached_get(&cache, "rules", encode_rules))
        // Account endpoints: /api/me, /api/tokens, /api/audit.
        .merge(crate::server::auth::rest::routes())
        // ProxLB itself: /api/status, /api/service/*, /api/logs, /api/logs/raw.
        .merge(crate::server::proxlb_rest::routes())
        // The migration history: /api/migrations.
        .merge(crate::server::migrations_rest::routes())
        // ProxLB's configuration: /api/config*, /api/maintenance, /api/ignore.
        .merge(crate::server::config_rest::routes())
        // The Balancing view: /api/balancing/*.
        .merge(crate::server::balancing_rest::routes())
        // Ask real ProxLB: /api/balancing/ask-proxlb.
        .merge(crate::server::balancing_ask_rest::routes())
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(wrong_method);
    Router::new()
        .nest("/api", api)
        // The nest matches `/api` and `/api/x…`, not the bare `/api/`.
        .route("/api/", any(unknown_endpoint))
}

/// Whether `path` is one of the cluster answers encoded once per view, in every coding, by the
/// REST cache (the compression layer leaves them alone: [`super::compression`]).
pub fn is_encoded_once(path: &str) -> bool {
    matches!(
        path,
        "/api/cluster" | "/api/nodes" | "/api/guests" | "/api/rules"
    )
}

/// The cluster endpoints' paths below `/api`, as [`routes_with_cache`] registers them (the
/// route table that the auth tests walk; keep in step).
pub const CLUSTER_PATHS: &[&str] = &["/cluster", "/nodes", "/guests", "/guests/{node}", "/rules"];

/// `404` for a path under `/api` that names no endpoint.
async fn unknown_endpoint(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound {
        what: format!("API endpoint {:?}", uri.path()),
    }
}

/// `405` for a known endpoint asked with a method it does not answer; axum adds the `Allow`
/// header that lists the right ones.
async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    let error = ApiError::Invalid {
        message: format!("{method} is not allowed on {}", uri.path()),
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(error)).into_response()
}

/// `GET /api/nodes`, borrowed from the shared view.
#[derive(Debug, Serialize)]
pub struct NodesReply<'a> {
    /// Freshness.
    pub meta: &'a SnapshotMeta,
    /// Nodes in Proxmox order.
    pub nodes: &'a [NodeRow],
}

/// `GET /api/rules`, borrowed from the shared view.
#[derive(Debug, Serialize)]
pub struct RulesReply<'a> {
    /// Freshness.
    pub meta: &'a SnapshotMeta,
    /// Groups, pins, ignores, pool and HA rules, conflicts.
    pub rules: &'a RulesView,
    /// Maintenance and ignored nodes with their sources.
    pub maintenance: &'a MaintenanceOverview,
}

/// `GET /api/guests` and `/api/guests/{node}`: the shape of [`plb_domain::view::GuestList`],
/// serialised straight from the shared cluster view (no clone of 10,000 rows).
#[derive(Serialize)]
struct GuestListBody<'a> {
    meta: &'a SnapshotMeta,
    nodes: Vec<&'a str>,
    guests: Vec<&'a GuestRow>,
}

/// How clients may cache the cluster answers: keep them, but revalidate every time (the ETag
/// makes that cheap), and only for this user. The body depends on the coding, so
/// `Vary: accept-encoding` (which also keeps the compression layer from adding it again); the
/// security-headers layer (`auth/headers.rs`) adds `Vary: Cookie, Authorization` to every
/// dynamic answer.
fn cache_headers(headers: &mut HeaderMap, etag: Option<HeaderValue>) {
    if let Some(etag) = etag {
        headers.insert(ETAG, etag);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
}

/// The request headers a cluster answer depends on. Taken alone: extracting the whole
/// `HeaderMap` copies every header of every request.
struct Asked {
    if_none_match: Option<HeaderValue>,
    accept_encoding: Option<HeaderValue>,
}

impl<S: Sync> FromRequestParts<S> for Asked {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self {
            if_none_match: parts.headers.get(IF_NONE_MATCH).cloned(),
            accept_encoding: parts.headers.get(ACCEPT_ENCODING).cloned(),
        })
    }
}

/// `304 Not Modified`: no body, the validators and caching headers only.
fn not_modified(etag: HeaderValue) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    cache_headers(response.headers_mut(), Some(etag));
    response
}

/// Answers `endpoint` from the encoded-body cache: `304` when the client has this version,
/// else the body encoded once for this view, precompressed in the coding the client takes.
/// The compression layer is skipped for these paths ([`is_encoded_once`]).
async fn cached(
    state: &AppState,
    cache: &RestCache,
    asked: &Asked,
    endpoint: &'static str,
    encode: Encoder,
) -> Result<Response, ApiError> {
    let view = cluster_view(state).await?;
    let entry = cache.entry(endpoint, &view);
    if entry.matches(asked.if_none_match.as_ref()) {
        return Ok(not_modified(entry.etag().clone()));
    }
    let coding = Coding::negotiate(asked.accept_encoding.as_ref());
    // While this view's body is being encoded, the previous view's comes at once, with its ETag.
    let (entry, body) = cache.newest_ready(entry, &view, coding, encode).await?;
    if entry.matches(asked.if_none_match.as_ref()) {
        return Ok(not_modified(entry.etag().clone()));
    }
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(coding) = coding.content_encoding() {
        headers.insert(CONTENT_ENCODING, coding);
    }
    cache_headers(headers, Some(entry.etag().clone()));
    Ok(response)
}

fn encode_cluster(view: &ClusterView) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&view.overview)
}

fn encode_nodes(view: &ClusterView) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&NodesReply {
        meta: &view.overview.meta,
        nodes: &view.overview.nodes,
    })
}

fn encode_guests(view: &ClusterView) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&GuestListBody {
        meta: &view.overview.meta,
        nodes: view
            .overview
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect(),
        guests: view.guests.iter().collect(),
    })
}

fn encode_rules(view: &ClusterView) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&RulesReply {
        meta: &view.overview.meta,
        rules: &view.overview.decision.rules,
        maintenance: &view.overview.decision.maintenance,
    })
}

/// `GET` of a cluster answer from the encoded-body cache: `endpoint`'s body, built by `encode`.
fn cached_get(
    cache: &RestCache,
    endpoint: &'static str,
    encode: Encoder,
) -> MethodRouter<ServerState> {
    let cache = cache.clone();
    get(move |State(state): State<AppState>, asked: Asked| {
        let cache = cache.clone();
        async move { cached(&state, &cache, &asked, endpoint, encode).await }
    })
}

/// `GET /api/guests/{node}`: encoded per request, not cached. One node's guests are a small
/// slice (about 160 rows at 64 nodes / 10,000 guests), and caching every node's body would hold
/// up to one entry per node per view; the ETag still makes an unchanged answer a bodiless 304.
async fn guests_on_node(
    state: &AppState,
    cache: &RestCache,
    node: String,
    asked: &Asked,
) -> Result<Response, ApiError> {
    let view = cluster_view(state).await?;
    let Some(row) = view.overview.node(&node) else {
        return Err(ApiError::NotFound {
            what: format!("node {node:?}"),
        });
    };
    let etag = cache.etag(&format!("guests/{}", row.name), view.overview.meta.version);
    if let Some(etag) = etag.as_ref() {
        if etag_matches(asked.if_none_match.as_ref(), etag) {
            return Ok(not_modified(etag.clone()));
        }
    }
    let body = GuestListBody {
        meta: &view.overview.meta,
        nodes: vec![row.name.as_str()],
        guests: view.guests.iter().filter(|g| g.node == node).collect(),
    };
    let mut response = Json(body).into_response();
    cache_headers(response.headers_mut(), etag);
    Ok(response)
}
