//! Loading cluster data in views: resources keyed on the live channel's cluster version, and
//! wrappers that show loading, errors (per panel) and the stale-data banner around the content.

use leptos::prelude::*;
use plb_domain::view::{ClusterOverview, GuestList, LoadPoint};

use crate::api::cluster::{get_cluster_overview, get_guests, get_node_history};
use crate::components::banners::StaleBanner;
use crate::components::error_panel::ErrorPanel;
use crate::components::live_status::LiveContext;
use crate::error::ApiError;

/// The version of the latest cluster view the live channel announced: the source of every
/// cluster resource, so they refetch (from the server's cache) when it changes.
fn cluster_version() -> RwSignal<Option<u64>> {
    expect_context::<LiveContext>().cluster_version
}

/// The cluster overview; refetched whenever the server announces a new cluster view.
pub fn overview_resource() -> Resource<Result<ClusterOverview, ApiError>> {
    let cluster_version = cluster_version();
    Resource::new(move || cluster_version.get(), |_| get_cluster_overview())
}

/// The guest list; refetched whenever the server announces a new cluster view. It does not
/// depend on the URL's query: filtering happens in memory.
pub fn guests_resource() -> Resource<Result<GuestList, ApiError>> {
    let cluster_version = cluster_version();
    Resource::new(move || cluster_version.get(), |_| get_guests())
}

/// The last hour of the load of the node `node` names; refetched when the name changes and
/// whenever the server announces a new cluster view.
pub fn node_history_resource(
    node: impl Fn() -> String + Send + Sync + 'static,
) -> Resource<Result<Vec<LoadPoint>, ApiError>> {
    let cluster_version = cluster_version();
    Resource::new(
        move || (node(), cluster_version.get()),
        |(node, _)| get_node_history(node),
    )
}

/// Renders `render` with the cluster overview, with the stale banner above it. Keeps the old
/// content while a refresh loads (no flicker); an error replaces only this panel.
#[component]
pub fn WithOverview(
    /// What to show with the data.
    render: Callback<ClusterOverview, AnyView>,
) -> impl IntoView {
    let overview = overview_resource();
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Loading cluster data…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    overview
                        .await
                        .map(|overview| {
                            view! {
                                <StaleBanner meta=overview.meta.clone() />
                                {render.run(overview)}
                            }
                        })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
