//! Cluster server functions: the overview (dashboard, nodes, rules) and the guest list.
//!
//! Both read the view the cluster service built from the latest snapshot: no browser request ever
//! reaches Proxmox.

use leptos::prelude::*;
use plb_domain::view::{ClusterOverview, GuestList, LoadPoint};

use crate::error::ApiError;

/// Everything but the guest list: health, nodes, warnings, ProxLB's decision and rules.
#[server(prefix = "/sfn", endpoint = "cluster_overview")]
pub async fn get_cluster_overview() -> Result<ClusterOverview, ApiError> {
    let state = super::app_state()?;
    Ok(cluster_view(&state).await?.overview.clone())
}

/// Every guest, for the guests view (filtered and sorted in the browser).
#[server(prefix = "/sfn", endpoint = "guests")]
pub async fn get_guests() -> Result<GuestList, ApiError> {
    let state = super::app_state()?;
    Ok(cluster_view(&state).await?.guest_list())
}

/// The last hour of a node's load (empty while Proxmox has no samples yet); 404 for an unknown node.
#[server(prefix = "/sfn", endpoint = "node_history")]
pub async fn get_node_history(node: String) -> Result<Vec<LoadPoint>, ApiError> {
    let state = super::app_state()?;
    let view = cluster_view(&state).await?;
    if view.overview.node(&node).is_none() {
        return Err(ApiError::NotFound {
            what: format!("node {node:?}"),
        });
    }
    Ok(view.node_history.get(&node).cloned().unwrap_or_default())
}

/// How long the first page after start-up waits for the first answer from Proxmox.
#[cfg(feature = "ssr")]
const FIRST_SNAPSHOT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// The latest cluster view, or why there is none (`NotConfigured`, with what to set). Shared by
/// server functions and the REST API.
#[cfg(feature = "ssr")]
pub async fn cluster_view(
    state: &plb_backend::AppState,
) -> Result<std::sync::Arc<plb_domain::view::ClusterView>, ApiError> {
    Ok(state.cluster.view(FIRST_SNAPSHOT_PATIENCE).await?)
}
