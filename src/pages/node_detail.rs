//! One node: its load, maintenance sources, guests and the moves ProxLB plans from or to it.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use plb_domain::explain::describe_maintenance;
use plb_domain::proxlb::decision::MoveDecision;
use plb_domain::units::{format_bytes, plural};
use plb_domain::view::{GuestRow, LoadPoint, NodeRow};

use crate::components::banners::StaleBanner;
use crate::components::cluster_data::{guests_resource, node_history_resource, overview_resource};
use crate::components::error_panel::ErrorPanel;
use crate::components::guest_table::GuestTable;
use crate::components::load_chart::LoadChart;
use crate::components::node_widgets::{NodeMeters, NodeStatusBadge};
use crate::components::not_found::NotFound;
use crate::components::page_header::{Crumb, PageHeader};
use crate::components::planned_moves::PlannedMoves;
use crate::error::ApiError;

/// The node named in the URL; an unknown node answers 404.
#[component]
pub fn NodeDetailPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.with(|p| p.get("name").unwrap_or_default());
    let overview = overview_resource();
    let guests = guests_resource();
    let history = node_history_resource(name);
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Loading node…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let name = name();
                    let overview = overview.await?;
                    let guests = guests.await?;
                    // History is a nice-to-have: a failure shows as "no history", not as an error.
                    let points = history.await.unwrap_or_default();
                    let Some(node) = overview.node(&name).cloned() else {
                        return Ok::<_, ApiError>(view! { <UnknownNode name /> }.into_any());
                    };
                    let moves: Vec<MoveDecision> = overview.moves_touching(&node.name).cloned().collect();
                    let rows: Vec<GuestRow> = guests.guests.into_iter().filter(|g| g.node == node.name).collect();
                    Ok(view! {
                        <StaleBanner meta=overview.meta.clone() />
                        <NodeDetail node moves rows points />
                    }
                    .into_any())
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// What the address names is not a node of this cluster.
#[component]
fn UnknownNode(name: String) -> impl IntoView {
    view! {
        <NotFound title="Node not found">
            <p>{format!("There is no node {name:?} in this cluster. Pick one from the ")}<a href="/nodes">"nodes"</a>"."</p>
        </NotFound>
    }
}

#[component]
fn NodeDetail(
    node: NodeRow,
    moves: Vec<MoveDecision>,
    rows: Vec<GuestRow>,
    points: Vec<LoadPoint>,
) -> impl IntoView {
    let subtitle = format!(
        "Proxmox VE {} · {} · {} memory",
        node.pve_version,
        plural(node.cpu_cores, "core", "cores"),
        format_bytes(node.mem_total)
    );
    view! {
        <PageHeader title=node.name.clone() subtitle parent=Crumb { label: "Nodes", path: "/nodes" }>
            <NodeStatusBadge status=node.status />
        </PageHeader>
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
                            {node.maintenance.iter().map(|s| view! { <li>{describe_maintenance(s)}</li> }).collect_view()}
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
                    view! { <PlannedMoves moves /> }.into_any()
                }}
            </section>
        </div>
        <section class="plb-card plb-history" aria-labelledby="history-title">
            <h2 class="plb-card__title" id="history-title">"Load, last hour"</h2>
            <LoadChart node=node.name.clone() points />
        </section>
        <h2 class="plb-section-title">{format!("Guests on {} ({})", node.name, rows.len())}</h2>
        <GuestTable rows />
    }
}
