//! Loading cluster data in views: one resource per view projection, keyed on the live channel's
//! cluster version, and a wrapper that shows loading, errors (per panel) and the stale-data
//! banner around the content.

use crate::api::resource::{api_resource, ApiResource};
use leptos::prelude::*;
use plb_domain::guest_query::GuestQuery;
use plb_domain::projection::{
    DashboardView, GuestPageView, NodeDetailView, NodesView, RulesPageView,
};
use plb_domain::view::{LoadPoint, SnapshotMeta};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::cluster::{
    get_dashboard, get_guest_page, get_node_detail, get_node_history, get_nodes, get_rules,
};
use crate::components::banners::StaleBanner;
use crate::components::error_panel::ErrorPanel;
use crate::components::live_status::LiveContext;
use crate::error::ApiError;

/// The version of the latest cluster view the live channel announced: the source of every
/// cluster resource, so they refetch (from the server's cache) when it changes.
pub fn cluster_version() -> RwSignal<Option<u64>> {
    expect_context::<LiveContext>().cluster_version
}

/// A projection with the freshness of its data, for the stale banner.
pub trait WithMeta {
    /// Freshness of the data.
    fn meta(&self) -> &SnapshotMeta;
}

macro_rules! with_meta {
    ($($ty:ty),*) => {$(
        impl WithMeta for $ty {
            fn meta(&self) -> &SnapshotMeta {
                &self.meta
            }
        }
    )*};
}
with_meta!(
    DashboardView,
    NodesView,
    RulesPageView,
    NodeDetailView,
    GuestPageView
);

/// The dashboard's data; refetched whenever the server announces a new cluster view.
pub fn dashboard_resource() -> ApiResource<Result<DashboardView, ApiError>> {
    let cluster_version = cluster_version();
    api_resource(move || cluster_version.get(), |_| get_dashboard())
}

/// The node rows; refetched whenever the server announces a new cluster view.
pub fn nodes_resource() -> ApiResource<Result<NodesView, ApiError>> {
    let cluster_version = cluster_version();
    api_resource(move || cluster_version.get(), |_| get_nodes())
}

/// The rules (every list whole when `all` says so); refetched when that changes and whenever
/// the server announces a new cluster view.
pub fn rules_resource(
    all: impl Fn() -> bool + Send + Sync + 'static,
) -> ApiResource<Result<RulesPageView, ApiError>> {
    let cluster_version = cluster_version();
    api_resource(
        move || (all(), cluster_version.get()),
        |(all, _)| get_rules(all),
    )
}

/// The node `node` names, its moves and guests; refetched when the name changes and whenever
/// the server announces a new cluster view.
pub fn node_detail_resource(
    node: impl Fn() -> String + Send + Sync + 'static,
) -> ApiResource<Result<NodeDetailView, ApiError>> {
    let cluster_version = cluster_version();
    api_resource(
        move || (node(), cluster_version.get()),
        |(node, _)| get_node_detail(node),
    )
}

/// One server-filtered page of guests for `query`; refetched when the query changes and whenever
/// the server announces a new cluster view. `query` returns `None` once the browser filters on
/// its own (then nothing is fetched).
pub fn guest_page_resource(
    query: impl Fn() -> Option<GuestQuery> + Send + Sync + 'static,
) -> ApiResource<Result<Option<GuestPageView>, ApiError>> {
    let cluster_version = cluster_version();
    api_resource(
        move || (query(), cluster_version.get()),
        |(query, _)| async move {
            match query {
                Some(query) => get_guest_page(query).await.map(Some),
                None => Ok(None),
            }
        },
    )
}

/// The last hour of the load of the node `node` names; refetched when the name changes and
/// whenever the server announces a new cluster view.
pub fn node_history_resource(
    node: impl Fn() -> String + Send + Sync + 'static,
) -> ApiResource<Result<Vec<LoadPoint>, ApiError>> {
    let cluster_version = cluster_version();
    api_resource(
        move || (node(), cluster_version.get()),
        |(node, _)| get_node_history(node),
    )
}

/// Renders `render` with a projection's data, with the stale banner above it. Keeps the old
/// content while a refresh loads (no flicker); an error replaces only this panel.
pub fn with_data<T>(
    data: ApiResource<Result<T, ApiError>>,
    render: impl Fn(T) -> AnyView + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: WithMeta + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Loading cluster data…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || {
                    let render = render.clone();
                    Suspend::new(async move {
                        data.await.map(|value| {
                            view! {
                                <StaleBanner meta=value.meta().clone() />
                                {render(value)}
                            }
                        })
                    })
                }}
            </ErrorBoundary>
        </Transition>
    }
}
