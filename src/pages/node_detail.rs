//! One node: its load, maintenance sources, guests and the moves ProxLB plans from or to it.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use plb_domain::units::format_bytes;

use crate::api::cluster::get_node_history;
use crate::components::cluster_data::{guests_resource, overview_resource};
use crate::components::error_panel::ErrorPanel;
use crate::components::guest_table::GuestTable;
use crate::components::live_status::LiveContext;
use crate::components::load_chart::LoadChart;
use crate::error::ApiError;
use crate::pages::nodes::{maintenance_label, NodeMeters, NodeStatusBadge};

/// The node named in the URL; an unknown node answers 404.
#[component]
pub fn NodeDetailPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.with(|p| p.get("name").unwrap_or_default());
    let overview = overview_resource();
    let guests = guests_resource();
    let LiveContext {
        cluster_version, ..
    } = expect_context::<LiveContext>();
    let history = Resource::new(
        move || (name(), cluster_version.get()),
        |(node, _)| get_node_history(node),
    );
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Loading node…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let name = name();
                    let overview = overview.await?;
                    let guests = guests.await?;
                    // History is a nice-to-have: a failure shows as "no history", not as an error.
                    let points = history.await.unwrap_or_default();
                    let Some(node) = overview.nodes.iter().find(|n| n.name == name).cloned() else {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(axum::http::StatusCode::NOT_FOUND);
                        }
                        return Err(ApiError::NotFound { what: format!("node {name:?}") });
                    };
                    let rows: Vec<_> = guests.guests.into_iter().filter(|g| g.node == node.name).collect();
                    let moves: Vec<String> = overview
                        .decision
                        .moves
                        .iter()
                        .filter(|m| m.planned.from == node.name || m.planned.to == node.name)
                        .map(|m| format!("{}: {} → {}{}", m.planned.guest, m.planned.from, m.planned.to, if m.issued { "" } else { " (not sent)" }))
                        .collect();
                    Ok::<_, ApiError>(view! {
                        <leptos_meta::Title text=node.name.clone() />
                        <header class="plb-page-header">
                            <p class="plb-breadcrumb"><a href="/nodes">"Nodes"</a> " / "</p>
                            <h1 class="plb-page-header__title">{node.name.clone()} " " <NodeStatusBadge status=node.status /></h1>
                            <p class="plb-page-header__subtitle">
                                {format!("Proxmox VE {} · {} cores · {} memory", node.pve_version, node.cpu_cores, format_bytes(node.mem_total))}
                            </p>
                        </header>
                        <div class="plb-detail">
                            <section class="plb-card" aria-labelledby="load-title">
                                <h2 class="plb-card__title" id="load-title">"Load now"</h2>
                                <NodeMeters node=node.clone() />
                            </section>
                            <section class="plb-card" aria-labelledby="maintenance-title">
                                <h2 class="plb-card__title" id="maintenance-title">"Maintenance"</h2>
                                {if node.maintenance.is_empty() && !node.ignored {
                                    view! { <p>"Not in maintenance; ProxLB may place guests here."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul>
                                            {node.maintenance.iter().map(|s| view! { <li>{maintenance_label(s)}</li> }).collect_view()}
                                            {node.ignored.then(|| view! { <li>"ignored (ignore_nodes): ProxLB leaves this node and its guests out"</li> })}
                                        </ul>
                                    }
                                        .into_any()
                                }}
                            </section>
                            <section class="plb-card" aria-labelledby="moves-title">
                                <h2 class="plb-card__title" id="moves-title">"ProxLB's plan"</h2>
                                {if moves.is_empty() {
                                    view! { <p>"ProxLB plans no move from or to this node."</p> }.into_any()
                                } else {
                                    view! { <ul>{moves.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul> }.into_any()
                                }}
                            </section>
                        </div>
                        <section class="plb-card plb-history" aria-labelledby="history-title">
                            <h2 class="plb-card__title" id="history-title">"Load, last hour"</h2>
                            <LoadChart node=node.name.clone() points />
                        </section>
                        <h2 class="plb-section-title">{format!("Guests on {} ({})", node.name, rows.len())}</h2>
                        <GuestTable rows />
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
