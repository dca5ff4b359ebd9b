//! Cluster server functions: one projection per view (dashboard, nodes, rules, node detail, a
//! page of guests, the compact guest list), so a page ships what it shows.
//!
//! All read the view the cluster service built from the latest snapshot: no browser request ever
//! reaches Proxmox. Projections that do not depend on the request are built once per view and
//! shared (see [`ViewMemo`]).

use leptos::prelude::*;
use plb_domain::guest_query::GuestQuery;
use plb_domain::projection::{
    CompactGuests, DashboardView, GuestPageView, NodeDetailView, NodesView, RulesPageView,
};
use plb_domain::view::LoadPoint;

use crate::error::ApiError;

/// Health, warnings, node gauges and ProxLB's verdict with its top moves.
#[server(prefix = "/sfn", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<DashboardView, ApiError> {
    static MEMO: memo::ViewMemo<DashboardView> = memo::ViewMemo::new();
    let view = cluster_view(&super::app_state()?).await?;
    Ok(DashboardView::clone(
        &MEMO.get(&view, |v| v.overview.dashboard()),
    ))
}

/// The node rows.
#[server(prefix = "/sfn", endpoint = "nodes")]
pub async fn get_nodes() -> Result<NodesView, ApiError> {
    static MEMO: memo::ViewMemo<NodesView> = memo::ViewMemo::new();
    let view = cluster_view(&super::app_state()?).await?;
    Ok(NodesView::clone(
        &MEMO.get(&view, |v| v.overview.nodes_view()),
    ))
}

/// The rules ProxLB derives, with conflicts: every list's first entries, or with `all` all.
#[server(prefix = "/sfn", endpoint = "rules")]
pub async fn get_rules(all: bool) -> Result<RulesPageView, ApiError> {
    static FIRST: memo::ViewMemo<RulesPageView> = memo::ViewMemo::new();
    static ALL: memo::ViewMemo<RulesPageView> = memo::ViewMemo::new();
    let view = cluster_view(&super::app_state()?).await?;
    let memo = if all { &ALL } else { &FIRST };
    Ok(RulesPageView::clone(
        &memo.get(&view, |v| v.overview.rules_view(all)),
    ))
}

/// One node with the moves from or to it and its guests; 404 for an unknown node.
#[server(prefix = "/sfn", endpoint = "node_detail")]
pub async fn get_node_detail(node: String) -> Result<NodeDetailView, ApiError> {
    let view = cluster_view(&super::app_state()?).await?;
    view.node_detail(&node).ok_or_else(|| ApiError::NotFound {
        what: format!("node {node:?}"),
    })
}

/// One page of guests, filtered and sorted on the server: the guests view's first render (and
/// every render without JavaScript).
#[server(prefix = "/sfn", endpoint = "guest_page")]
pub async fn get_guest_page(query: GuestQuery) -> Result<GuestPageView, ApiError> {
    // The search index (lower-cased text of 10,000 guests) once per view, not per request.
    static INDEX: memo::ViewMemo<plb_domain::guest_query::GuestIndex> = memo::ViewMemo::new();
    let view = cluster_view(&super::app_state()?).await?;
    let index = INDEX.get(&view, |v| {
        plb_domain::guest_query::GuestIndex::new(&v.guests)
    });
    Ok(view.guest_page_indexed(&query, &index))
}

/// Every guest in columns, loaded by the guests view after hydration for in-browser filtering.
#[server(prefix = "/sfn", endpoint = "guest_columns")]
pub async fn get_guest_columns() -> Result<CompactGuests, ApiError> {
    static MEMO: memo::ViewMemo<CompactGuests> = memo::ViewMemo::new();
    let view = cluster_view(&super::app_state()?).await?;
    Ok(CompactGuests::clone(
        &MEMO.get(&view, |v| v.compact_guests()),
    ))
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

#[cfg(feature = "ssr")]
pub use memo::ViewMemo;

#[cfg(feature = "ssr")]
mod memo {
    use std::sync::{Arc, Mutex, PoisonError, Weak};

    use plb_domain::view::ClusterView;

    /// One projection of the newest view it was asked for, built once per view and shared by
    /// every request until the next view. Keyed by the view itself (a weak pointer, so an old
    /// view's data is never kept alive), so two servers in one process (tests) never mix.
    pub struct ViewMemo<T> {
        slot: Mutex<Option<(Weak<ClusterView>, Arc<T>)>>,
    }

    impl<T> ViewMemo<T> {
        /// An empty memo (usable in a `static`).
        pub const fn new() -> Self {
            Self {
                slot: Mutex::new(None),
            }
        }

        /// The projection of `view`, made with `make` when the memo holds another view's.
        /// Building under the lock is fine: projections are cheap next to the view, and it
        /// keeps concurrent first requests from each building their own.
        pub fn get(&self, view: &Arc<ClusterView>, make: impl FnOnce(&ClusterView) -> T) -> Arc<T> {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((cached, value)) = slot.as_ref() {
                if Weak::ptr_eq(cached, &Arc::downgrade(view)) {
                    return Arc::clone(value);
                }
            }
            let value = Arc::new(make(view));
            *slot = Some((Arc::downgrade(view), Arc::clone(&value)));
            value
        }
    }

    impl<T> Default for ViewMemo<T> {
        fn default() -> Self {
            Self::new()
        }
    }
}
