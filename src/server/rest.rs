//! The spec's REST API for scripts and automation: stable URLs, JSON, secrets never included.
//!
//! Every endpoint reads the cluster view the poller built; none calls Proxmox.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use plb_backend::AppState;
use plb_domain::proxlb::maintenance::MaintenanceOverview;
use plb_domain::proxlb::RulesView;
use plb_domain::view::{ClusterOverview, GuestRow, NodeRow, SnapshotMeta};
use serde::Serialize;

use crate::api::cluster::cluster_view;
use crate::error::ApiError;
use crate::server::state::ServerState;

/// The `/api` routes.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/api/cluster", get(cluster))
        .route("/api/nodes", get(nodes))
        .route("/api/guests", get(guests))
        .route("/api/guests/{node}", get(guests_on_node))
        .route("/api/rules", get(rules))
}

/// `GET /api/nodes`.
#[derive(Debug, Serialize)]
pub struct NodesReply {
    /// Freshness.
    pub meta: SnapshotMeta,
    /// Nodes in Proxmox order.
    pub nodes: Vec<NodeRow>,
}

/// `GET /api/rules`.
#[derive(Debug, Serialize)]
pub struct RulesReply {
    /// Freshness.
    pub meta: SnapshotMeta,
    /// Groups, pins, ignores, pool and HA rules, conflicts.
    pub rules: RulesView,
    /// Maintenance and ignored nodes with their sources.
    pub maintenance: MaintenanceOverview,
}

async fn cluster(State(state): State<AppState>) -> Result<Json<ClusterOverview>, ApiError> {
    Ok(Json(cluster_view(&state).await?.overview.clone()))
}

async fn nodes(State(state): State<AppState>) -> Result<Json<NodesReply>, ApiError> {
    let view = cluster_view(&state).await?;
    Ok(Json(NodesReply {
        meta: view.overview.meta.clone(),
        nodes: view.overview.nodes.clone(),
    }))
}

/// `GET /api/guests` and `/api/guests/{node}`: the shape of [`plb_domain::view::GuestList`], serialised straight
/// from the shared cluster view. Borrowing instead of cloning matters at 10,000 guests, where a
/// clone per request would copy every row for every client.
#[derive(Serialize)]
struct GuestListBody<'a> {
    meta: &'a SnapshotMeta,
    nodes: Vec<&'a str>,
    guests: Vec<&'a GuestRow>,
}

async fn guests(State(state): State<AppState>) -> Result<Response, ApiError> {
    let view = cluster_view(&state).await?;
    let body = GuestListBody {
        meta: &view.overview.meta,
        nodes: view
            .overview
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect(),
        guests: view.guests.iter().collect(),
    };
    Ok(Json(body).into_response())
}

async fn guests_on_node(
    State(state): State<AppState>,
    Path(node): Path<String>,
) -> Result<Response, ApiError> {
    let view = cluster_view(&state).await?;
    let Some(row) = view.overview.nodes.iter().find(|n| n.name == node) else {
        return Err(ApiError::NotFound {
            what: format!("node {node:?}"),
        });
    };
    let body = GuestListBody {
        meta: &view.overview.meta,
        nodes: vec![row.name.as_str()],
        guests: view.guests.iter().filter(|g| g.node == node).collect(),
    };
    Ok(Json(body).into_response())
}

async fn rules(State(state): State<AppState>) -> Result<Json<RulesReply>, ApiError> {
    let view = cluster_view(&state).await?;
    Ok(Json(RulesReply {
        meta: view.overview.meta.clone(),
        rules: view.overview.decision.rules.clone(),
        maintenance: view.overview.decision.maintenance.clone(),
    }))
}
