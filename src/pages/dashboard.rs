//! The Dashboard view: cluster health, node load, and whether ProxLB would act now.

use leptos::prelude::*;
use plb_domain::explain::mode_name;
use plb_domain::projection::DashboardView;
use plb_domain::proxlb::decision::ReasonEffect;
use plb_domain::proxlb::NodeStatus;
use plb_domain::units::{format_clock_utc, plural};
use plb_domain::view::NodeRow;

use crate::components::banners::WarningList;
use crate::components::cluster_data::{dashboard_resource, with_data};
use crate::components::meter::{level, Meter};
use crate::components::migrations_feed::MigrationsFeed;
use crate::components::node_widgets::{node_href, MaintenanceBadges, NodeMeters, NodeStatusBadge};
use crate::components::page_header::PageHeader;
use crate::components::planned_moves::PlannedMoves;
use crate::components::service_card::ServiceCard;

/// Cluster health, node gauges, and ProxLB's verdict with its reasons.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <PageHeader title="Dashboard" subtitle="Cluster health, node load and what ProxLB is doing." />
        {with_data(dashboard_resource(), |overview: DashboardView| view! { <Dashboard overview /> }.into_any())}
        // ProxLB's own cards stand beside the cluster data, not inside its loading boundary:
        // they load (and fail) on their own, and nesting their boundaries inside the cluster
        // data's broke hydration of the page.
        <div class="plb-dashboard plb-dashboard--proxlb">
            <section class="plb-card" aria-labelledby="service-slot">
                <h2 class="plb-card__title" id="service-slot">"ProxLB service"</h2>
                <ServiceCard />
            </section>
            <section class="plb-card" aria-labelledby="migrations-slot">
                <h2 class="plb-card__title" id="migrations-slot">"Recent migrations"</h2>
                <MigrationsFeed />
            </section>
        </div>
    }
}

#[component]
fn Dashboard(overview: DashboardView) -> impl IntoView {
    let health = overview.health.clone();
    let quorum = match health.quorate {
        Some(true) => ("ok", "Quorate"),
        Some(false) => ("crit", "No quorum"),
        None => ("unknown", "Unknown"),
    };
    let fetched = overview
        .meta
        .fetched_at_unix
        .map(format_clock_utc)
        .unwrap_or_else(|| "never".to_owned());
    let nodes_class = if overview.nodes.len() > NODES_IN_HALF_WIDTH {
        "plb-card plb-dashboard__nodes plb-dashboard__nodes--wide"
    } else {
        "plb-card plb-dashboard__nodes"
    };
    view! {
        <WarningList warnings=overview.warnings.clone() />
        <section class="plb-stats" aria-label="Cluster health">
            <Stat label="Quorum" value=quorum.1.to_owned() level=quorum.0 />
            <Stat
                label="Nodes online"
                value=format!("{} / {}", health.nodes_online, health.nodes_total)
                level={if health.nodes_offline > 0 { "crit" } else { "ok" }}
            />
            <Stat
                label="In maintenance"
                value=health.nodes_maintenance.to_string()
                level={if health.nodes_maintenance > 0 { "warn" } else { "ok" }}
            />
            <Stat label="VMs running" value=format!("{} / {}", health.vms_running, health.vms_running + health.vms_stopped) level="info" />
            <Stat label="CTs running" value=format!("{} / {}", health.cts_running, health.cts_running + health.cts_stopped) level="info" />
            <Stat label="Data from" value=fetched level={if overview.meta.stale.is_some() { "crit" } else { "info" }} />
        </section>
        <div class="plb-dashboard">
            <Verdict overview=overview.clone() />
            <section class=nodes_class aria-labelledby="node-load">
                <h2 class="plb-card__title" id="node-load">"Node load"</h2>
                {if overview.nodes.len() > TILES_ABOVE {
                    view! {
                        <div class="plb-node-grid plb-node-grid--tiles">
                            {overview.nodes.into_iter().map(|node| view! { <NodeTile node /> }).collect_view()}
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <div class="plb-node-grid">
                            {overview.nodes.into_iter().map(|node| view! { <NodeGauge node /> }).collect_view()}
                        </div>
                    }
                    .into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn Stat(label: &'static str, value: String, level: &'static str) -> impl IntoView {
    view! {
        <div class=format!("plb-stat plb-stat--{level}")>
            <span class="plb-stat__label">{label}</span>
            <span class="plb-stat__value">{value}</span>
        </div>
    }
}

/// Would ProxLB act now, and why.
#[component]
fn Verdict(overview: DashboardView) -> impl IntoView {
    let decision = overview.verdict;
    let balancing = overview.balancing;
    let issued = decision.issued;
    let (level, headline) = if decision.would_balance {
        (
            "warn",
            format!(
                "ProxLB would migrate {} on its next run.",
                plural(issued, "guest", "guests")
            ),
        )
    } else if decision.moves_total > 0 {
        (
            "info",
            format!(
                "ProxLB would plan {} but send none.",
                plural(decision.moves_total, "move", "moves")
            ),
        )
    } else {
        (
            "ok",
            "ProxLB would not move anything on its next run.".to_owned(),
        )
    };
    let method = balancing.method.as_str();
    let spread = decision.spread.clone();
    view! {
        <section class="plb-card plb-verdict" aria-labelledby="verdict-title">
            <h2 class="plb-card__title" id="verdict-title">"Balancing"</h2>
            <p class=format!("plb-verdict__headline plb-verdict__headline--{level}") data-testid="verdict">{headline}</p>
            <p class="plb-muted">
                {format!(
                    "Method {method}, mode {}, balanciness {}. Balancing is {}.",
                    mode_name(balancing.mode),
                    balancing.balanciness,
                    if balancing.enable { "enabled" } else { "disabled" },
                )}
            </p>
            {spread.map(|spread| {
                let over = spread.spread > balancing.balanciness as f64;
                view! {
                    <div class="plb-spread" data-testid="spread">
                        <span class="plb-spread__label">"Spread"</span>
                        <Meter
                            percent=spread.spread
                            label=format!("{method} spread between nodes")
                            detail=format!("{} {:.1} % vs {} {:.1} %", spread.highest_node, spread.highest, spread.lowest_node, spread.lowest)
                        />
                        <span class=if over { "plb-spread__limit plb-spread__limit--over" } else { "plb-spread__limit" }>
                            {format!("limit {}", plural(balancing.balanciness, "point", "points"))}
                        </span>
                    </div>
                }
            })}
            <ul class="plb-reasons" aria-label="Reasons">
                {decision
                    .reasons
                    .into_iter()
                    .map(|reason| {
                        let effect = match reason.effect {
                            ReasonEffect::Triggers => "triggers",
                            ReasonEffect::Prevents => "prevents",
                            ReasonEffect::Informs => "informs",
                        };
                        view! { <li class=format!("plb-reason plb-reason--{effect}")>{reason.text}</li> }
                    })
                    .collect_view()}
            </ul>
            {(decision.moves_total > 0).then(|| view! { <PlannedMoves moves=decision.top_moves.clone() total=decision.moves_total /> })}
            {(!decision.notes.is_empty()).then(|| view! {
                <details class="plb-notes">
                    <summary>{format!("ProxLB quirks that shape this answer ({})", decision.notes.len())}</summary>
                    <ul>{decision.notes.iter().map(|note| view! { <li>{note.clone()}</li> }).collect_view()}</ul>
                </details>
            })}
        </section>
    }
}

/// Above this many nodes the gauges take the dashboard's full width.
const NODES_IN_HALF_WIDTH: usize = 6;

/// Above this many nodes each node is a small tile (CPU and memory) instead of a gauge card: at
/// 64 nodes the cards alone were 82 KB of HTML, and the nodes view has every figure.
const TILES_ABOVE: usize = 16;

/// A node as a tile: name, CPU and memory bars, and its state when it is not simply online.
#[component]
fn NodeTile(node: NodeRow) -> impl IntoView {
    let (cpu, mem) = (node.cpu_percent, node.mem_percent());
    let state = match node.status {
        NodeStatus::Online if node.maintenance.is_empty() => "",
        NodeStatus::Online => " · maintenance",
        NodeStatus::Offline => " · offline",
        NodeStatus::Unknown => " · unknown",
    };
    let bar = |what: &'static str, percent: f64| {
        view! {
            <span
                class=format!("plb-node-tile__bar plb-node-tile__bar--{}", level(percent))
                data-what=what
                style=format!("width:{:.0}%", percent.clamp(0.0, 100.0))
            ></span>
        }
    };
    view! {
        <a class="plb-node-tile" href=node_href(&node.name) data-node=node.name.clone()>
            <span class="plb-node-tile__name">{node.name.clone()}{state}</span>
            <span class="plb-node-tile__values">{format!("CPU {cpu:.0} % · mem {mem:.0} %")}</span>
            {bar("cpu", cpu)}
            {bar("mem", mem)}
        </a>
    }
}

#[component]
fn NodeGauge(node: NodeRow) -> impl IntoView {
    let href = node_href(&node.name);
    view! {
        <article class="plb-node-card" data-node=node.name.clone()>
            <header class="plb-node-card__header">
                <a class="plb-node-card__name" href=href>{node.name.clone()}</a>
                <NodeStatusBadge status=node.status />
                <MaintenanceBadges node=node.clone() />
            </header>
            <NodeMeters node=node.clone() />
        </article>
    }
}
