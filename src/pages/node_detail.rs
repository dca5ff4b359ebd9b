//! One node: its load, maintenance sources, guests and the moves ProxLB plans from or to it.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use plb_domain::explain::describe_maintenance;
use plb_domain::guest_query::GuestQuery;
use plb_domain::projection::NodeDetailView;
use plb_domain::proxlb::decision::MoveDecision;
use plb_domain::proxlb::maintenance::{MaintenanceSource, ScheduleWindow};
use plb_domain::units::{format_bytes, plural};
use plb_domain::view::{GuestRow, LoadPoint, NodeRow};

use crate::components::banners::StaleBanner;
use crate::components::cluster_data::{node_detail_resource, node_history_resource};
use crate::components::error_panel::ErrorPanel;
use crate::components::guest_table::{guests_href, GuestTable};
use crate::components::load_chart::LoadChart;
use crate::components::node_toggles::NodeToggles;
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
    let detail = node_detail_resource(name);
    let history = node_history_resource(name);
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Loading node…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let name = name();
                    // History is a nice-to-have: a failure shows as "no history", not as an error.
                    let points = history.await.unwrap_or_default();
                    let detail = match detail.await {
                        Ok(detail) => detail,
                        Err(ApiError::NotFound { .. }) => {
                            return Ok::<_, ApiError>(view! { <UnknownNode name /> }.into_any());
                        }
                        Err(error) => return Err(error),
                    };
                    let NodeDetailView { meta, node, moves, guests: rows, guests_total } = detail;
                    Ok(view! {
                        <StaleBanner meta />
                        <NodeDetail node moves rows guests_total points />
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
    guests_total: usize,
    points: Vec<LoadPoint>,
) -> impl IntoView {
    // The guests view lists all of them; this page the first few.
    let all_guests = guests_href(&GuestQuery {
        node: Some(node.name.clone()),
        ..GuestQuery::default()
    });
    let shown = rows.len();
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
                {(!node.schedule.is_empty()).then(|| view! {
                    <h3 class="plb-card__subtitle">"Scheduled windows (maintenance_nodes_schedule)"</h3>
                    <ul class="plb-schedule" data-testid="node-schedule">
                        {node.schedule.iter().map(|w| view! {
                            <li class:plb-schedule__item--active=w.active>{describe_window(w)}</li>
                        }).collect_view()}
                    </ul>
                })}
                <NodeToggles
                    node=node.name.clone()
                    path=format!("/nodes/{}", node.name)
                    maintenance=node.maintenance.contains(&MaintenanceSource::Config)
                    ignored=node.ignored
                    ha_maintenance=node.maintenance.contains(&MaintenanceSource::HaMaintenance)
                />
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
        <h2 class="plb-section-title">{format!("Guests on {} ({guests_total})", node.name)}</h2>
        <GuestTable rows />
        {(guests_total > shown).then(|| view! {
            <p class="plb-muted">
                {format!("The first {shown} by ID. ")}
                <a href=all_guests>{format!("All {guests_total} in the guests view")}</a>
            </p>
        })}
    }
}

/// A schedule entry for people: when it starts, how long, and when it next opens or closes
/// (in ProxLB's local time).
fn describe_window(window: &ScheduleWindow) -> String {
    let Some(start) = window.start else {
        return format!(
            "{}: ignored by ProxLB (expected a weekday and a time, such as \"Monday, 8:00\")",
            window.entry
        );
    };
    let span = |minutes: i64| {
        let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
        match (days, hours, mins) {
            (0, 0, m) => format!("{m} min"),
            (0, h, 0) => format!("{h} h"),
            (0, h, m) => format!("{h} h {m} min"),
            (d, h, _) => format!("{d} d {h} h"),
        }
    };
    let when = format!(
        // The day's Debug name is its English name, as ProxLB's config spells it.
        "{:?}, {}:{:02} for {} h",
        start.weekday, start.hour, start.minute, window.duration_hours
    );
    let drain = if window.pre_migration_minutes > 0 {
        format!(
            ", draining from {} before",
            span(i64::from(window.pre_migration_minutes))
        )
    } else {
        String::new()
    };
    let state = match (window.active, window.minutes_to_change) {
        (true, Some(m)) => format!("in maintenance now, until in {}", span(m)),
        (true, None) => "in maintenance now".to_owned(),
        (false, Some(m)) => format!("next in {}", span(m)),
        (false, None) => "never opens (no duration)".to_owned(),
    };
    format!("{when}{drain}: {state}")
}

#[cfg(test)]
mod tests {
    use plb_domain::proxlb::maintenance::{ScheduleStart, Weekday};

    use super::*;

    #[test]
    fn windows_say_when_they_open_and_close() {
        let mut window = ScheduleWindow {
            entry: "Monday, 8:00".into(),
            start: Some(ScheduleStart {
                weekday: Weekday::Monday,
                hour: 8,
                minute: 0,
            }),
            duration_hours: 2,
            pre_migration_minutes: 30,
            active: false,
            minutes_to_change: Some(8 * 60 + 30),
        };
        assert_eq!(
            describe_window(&window),
            "Monday, 8:00 for 2 h, draining from 30 min before: next in 8 h 30 min"
        );
        window.active = true;
        window.minutes_to_change = Some(135);
        assert!(describe_window(&window).ends_with("in maintenance now, until in 2 h 15 min"));
        window.start = None;
        assert!(describe_window(&window).contains("ignored by ProxLB"));
    }
}
