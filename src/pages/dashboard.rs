//! The Dashboard view: cluster health, node load, and whether ProxLB would act now.

use leptos::prelude::*;
use plb_domain::explain::{describe_note, describe_reason, mode_name};
use plb_domain::proxlb::decision::ReasonEffect;
use plb_domain::units::{format_clock_utc, plural};
use plb_domain::view::{ClusterOverview, NodeRow};

use crate::components::banners::WarningList;
use crate::components::cluster_data::WithOverview;
use crate::components::meter::Meter;
use crate::components::node_widgets::{node_href, MaintenanceBadges, NodeMeters, NodeStatusBadge};
use crate::components::not_built::NotBuiltYet;
use crate::components::page_header::PageHeader;
use crate::components::planned_moves::PlannedMoves;

/// Cluster health, node gauges, and ProxLB's verdict with its reasons.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <PageHeader title="Dashboard" subtitle="Cluster health, node load and what ProxLB is doing." />
        <WithOverview render=Callback::new(|overview: ClusterOverview| view! { <Dashboard overview /> }.into_any()) />
    }
}

#[component]
fn Dashboard(overview: ClusterOverview) -> impl IntoView {
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
                <div class="plb-node-grid">
                    {overview.nodes.into_iter().map(|node| view! { <NodeGauge node /> }).collect_view()}
                </div>
            </section>
            <section class="plb-card" aria-labelledby="service-slot">
                <h2 class="plb-card__title" id="service-slot">"ProxLB service"</h2>
                <NotBuiltYet what="ProxLB's service or container state, its version and the countdown to its next run arrive with service control." />
            </section>
            <section class="plb-card" aria-labelledby="migrations-slot">
                <h2 class="plb-card__title" id="migrations-slot">"Recent migrations"</h2>
                <NotBuiltYet what="The migrations ProxLB started, matched to their Proxmox tasks, arrive with the logs view." />
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
fn Verdict(overview: ClusterOverview) -> impl IntoView {
    let decision = overview.decision;
    let balancing = overview.balancing;
    let issued = decision.moves.iter().filter(|m| m.issued).count();
    let (level, headline) = if decision.would_balance {
        (
            "warn",
            format!(
                "ProxLB would migrate {} on its next run.",
                plural(issued, "guest", "guests")
            ),
        )
    } else if !decision.moves.is_empty() {
        (
            "info",
            format!(
                "ProxLB would plan {} but send none.",
                plural(decision.moves.len(), "move", "moves")
            ),
        )
    } else {
        (
            "ok",
            "ProxLB would not move anything on its next run.".to_owned(),
        )
    };
    let method = balancing.method.as_str();
    let spread = decision
        .balance_check
        .as_ref()
        .and_then(|check| check.spread.clone());
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
                    .iter()
                    .map(|reason| {
                        let effect = match reason.effect() {
                            ReasonEffect::Triggers => "triggers",
                            ReasonEffect::Prevents => "prevents",
                            ReasonEffect::Informs => "informs",
                        };
                        view! { <li class=format!("plb-reason plb-reason--{effect}")>{describe_reason(reason)}</li> }
                    })
                    .collect_view()}
            </ul>
            {(!decision.moves.is_empty()).then(|| view! { <PlannedMoves moves=decision.moves.clone() /> })}
            {(!decision.notes.is_empty()).then(|| view! {
                <details class="plb-notes">
                    <summary>{format!("ProxLB quirks that shape this answer ({})", decision.notes.len())}</summary>
                    <ul>{decision.notes.iter().map(|note| view! { <li>{describe_note(note)}</li> }).collect_view()}</ul>
                </details>
            })}
        </section>
    }
}

/// Above this many nodes the gauges take the dashboard's full width.
const NODES_IN_HALF_WIDTH: usize = 6;

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
