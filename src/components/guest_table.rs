//! The guest table, shared by the guests view and the node detail.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use plb_domain::guest_query::{GuestQuery, SortKey};
use plb_domain::proxlb::{GuestKind, GuestStatus};
use plb_domain::units::format_bytes;
use plb_domain::view::GuestRow;

use crate::components::node_widgets::node_href;
use crate::components::tag_badge::TagBadges;

/// The URL of the guests view for a query.
pub fn guests_href(query: &GuestQuery) -> String {
    let params: ParamsMap = query.to_params().into_iter().collect();
    format!("/guests{}", params.to_query_string())
}

fn header_label(key: SortKey) -> &'static str {
    match key {
        SortKey::Vmid => "ID",
        SortKey::Name => "Name",
        SortKey::Node => "Node",
        SortKey::Status => "Status",
        SortKey::Cpu => "CPU",
        SortKey::Memory => "Memory",
        SortKey::Disk => "Disk",
    }
}

/// A table of guests. With `sorting`, the sortable headers are links that keep the rest of the
/// query (they work with and without JavaScript).
#[component]
pub fn GuestTable(
    /// Rows to show.
    rows: Vec<GuestRow>,
    /// The current query, when headers should sort.
    #[prop(optional)]
    sorting: Option<GuestQuery>,
) -> impl IntoView {
    let header = move |key: SortKey| {
        let label = header_label(key);
        match &sorting {
            Some(query) => {
                let active = query.sort == key;
                let mut next = query.clone();
                next.sort = key;
                next.descending = active && !query.descending;
                next.page = 1;
                let aria_sort = match (active, query.descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                };
                let arrow = match (active, query.descending) {
                    (false, _) => "",
                    (true, false) => " ▲",
                    (true, true) => " ▼",
                };
                view! {
                    <th scope="col" aria-sort=aria_sort>
                        <a class="plb-table__sort" href=guests_href(&next)>{label}{arrow}</a>
                    </th>
                }
                .into_any()
            }
            None => view! { <th scope="col">{label}</th> }.into_any(),
        }
    };
    view! {
        <div class="plb-table-wrap">
            <table class="plb-table plb-guest-table">
                <thead>
                    <tr>
                        {header(SortKey::Vmid)}
                        {header(SortKey::Name)}
                        <th scope="col">"Type"</th>
                        {header(SortKey::Status)}
                        {header(SortKey::Node)}
                        {header(SortKey::Cpu)}
                        {header(SortKey::Memory)}
                        {header(SortKey::Disk)}
                        <th scope="col">"Pool"</th>
                        <th scope="col">"HA"</th>
                        <th scope="col">"Tags"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|guest| view! { <GuestRowView guest /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn GuestRowView(guest: GuestRow) -> impl IntoView {
    let (status_class, status_text) = match guest.status {
        GuestStatus::Running => ("ok", "running"),
        GuestStatus::Stopped => ("unknown", "stopped"),
        GuestStatus::Other => ("warn", "other"),
    };
    let memory = if guest.status == GuestStatus::Running {
        format!(
            "{} / {}",
            format_bytes(guest.mem_used),
            format_bytes(guest.mem_total)
        )
    } else {
        format!("— / {}", format_bytes(guest.mem_total))
    };
    let node_link = node_href(&guest.node);
    view! {
        <tr data-vmid=guest.vmid>
            <td class="plb-num">{guest.vmid}</td>
            <td>
                {guest.name.clone()}
                {guest.lock.clone().map(|lock| view! { <span class="plb-badge plb-badge--lock">{format!("lock: {lock}")}</span> })}
            </td>
            <td>{if guest.kind == GuestKind::Vm { "VM" } else { "CT" }}</td>
            <td>
                <span class=format!("plb-status plb-status--{status_class}")>{status_text}</span>
            </td>
            <td><a href=node_link>{guest.node.clone()}</a></td>
            <td class="plb-num">{format!("{:.1} % of {}", guest.cpu_percent, guest.cpus)}</td>
            <td class="plb-num">{memory}</td>
            <td class="plb-num">{format_bytes(guest.disk_total)}</td>
            <td>{guest.pool.clone().unwrap_or_default()}</td>
            <td>{if guest.ha_managed { "yes" } else { "" }}</td>
            <td><TagBadges tags=guest.tags /></td>
        </tr>
    }
}
