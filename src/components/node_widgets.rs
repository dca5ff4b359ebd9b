//! Node widgets shared by the dashboard, the nodes table and the node view: status badge,
//! maintenance badges and the CPU, memory and disk meters.

use leptos::prelude::*;
use plb_domain::explain::describe_maintenance;
use plb_domain::proxlb::NodeStatus;
use plb_domain::units::{format_bytes, plural};
use plb_domain::view::NodeRow;

use crate::components::meter::Meter;

/// The address of a node's own view.
pub fn node_href(name: &str) -> String {
    format!("/nodes/{name}")
}

/// One of a node's three loads: heading, the word in the meter's accessible name, percent used
/// and the absolute figures.
struct NodeLoad {
    heading: &'static str,
    word: &'static str,
    percent: f64,
    detail: String,
}

/// CPU, memory and disk of a node, in that order.
fn loads(node: &NodeRow) -> [NodeLoad; 3] {
    [
        NodeLoad {
            heading: "CPU",
            word: "CPU",
            percent: node.cpu_percent,
            detail: plural(node.cpu_cores, "core", "cores"),
        },
        NodeLoad {
            heading: "Memory",
            word: "memory",
            percent: node.mem_percent(),
            detail: format!(
                "{} of {}",
                format_bytes(node.mem_used),
                format_bytes(node.mem_total)
            ),
        },
        NodeLoad {
            heading: "Disk",
            word: "disk",
            percent: node.disk_percent(),
            detail: format!(
                "{} of {}",
                format_bytes(node.disk_used),
                format_bytes(node.disk_total)
            ),
        },
    ]
}

fn load_meter(node: &NodeRow, load: NodeLoad) -> impl IntoView {
    view! {
        <Meter percent=load.percent label=format!("{} {}", node.name, load.word) detail=load.detail />
    }
}

/// CPU, memory and disk meters of a node, as a definition list (cards and the node view).
#[component]
pub fn NodeMeters(node: NodeRow) -> impl IntoView {
    view! {
        <dl class="plb-node-card__meters">
            {loads(&node)
                .into_iter()
                .map(|load| view! { <dt>{load.heading}</dt> <dd>{load_meter(&node, load)}</dd> })
                .collect_view()}
        </dl>
    }
}

/// CPU, memory and disk meters of a node as three table cells (the nodes table).
#[component]
pub fn NodeMeterCells(node: NodeRow) -> impl IntoView {
    loads(&node)
        .into_iter()
        .map(|load| view! { <td>{load_meter(&node, load)}</td> })
        .collect_view()
}

/// Online / offline badge.
#[component]
pub fn NodeStatusBadge(status: NodeStatus) -> impl IntoView {
    let (level, text) = match status {
        NodeStatus::Online => ("ok", "online"),
        NodeStatus::Offline => ("crit", "offline"),
        NodeStatus::Unknown => ("unknown", "unknown"),
    };
    view! { <span class=format!("plb-status plb-status--{level}")>{text}</span> }
}

/// Maintenance and ignore badges of a node; nothing at all for a node without either (most
/// nodes: an empty wrapper cost 45 bytes per row of a 64-node table).
#[component]
pub fn MaintenanceBadges(node: NodeRow) -> impl IntoView {
    let any = !node.maintenance.is_empty() || node.ignored;
    any.then(|| view! {
        <span class="plb-tags">
            {node
                .maintenance
                .iter()
                .map(|source| view! { <span class="plb-badge plb-badge--maintenance">{describe_maintenance(source)}</span> })
                .collect_view()}
            {node.ignored.then(|| view! { <span class="plb-badge plb-badge--ignore">"ignored"</span> })}
        </span>
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use plb_domain::proxlb::maintenance::MaintenanceSource;

    use super::*;

    fn node() -> NodeRow {
        NodeRow {
            name: "pve1".into(),
            status: NodeStatus::Online,
            cpu_percent: 25.0,
            cpu_cores: 1,
            mem_used: 16 << 30,
            mem_total: 64 << 30,
            disk_used: 0,
            disk_total: 100 << 30,
            vms: (1, 2),
            cts: (0, 0),
            pve_version: "9.1.2".into(),
            maintenance: vec![MaintenanceSource::Config],
            ignored: true,
            schedule: Vec::new(),
        }
    }

    #[test]
    fn meters_carry_the_node_name_and_the_absolute_figures() {
        let owner = Owner::new();
        owner.set();
        let cards = view! { <NodeMeters node=node() /> }.to_html();
        let cells = view! { <NodeMeterCells node=node() /> }.to_html();
        for html in [&cards, &cells] {
            for name in ["pve1 CPU", "pve1 memory", "pve1 disk"] {
                assert!(html.contains(&format!("aria-label=\"{name}\"")), "{html}");
            }
            assert!(html.contains("title=\"1 core\""), "{html}");
            assert!(html.contains("16.0 GiB of 64.0 GiB"), "{html}");
        }
        assert_eq!(cards.matches("<dt>").count(), 3, "{cards}");
        assert_eq!(cells.matches("<td>").count(), 3, "{cells}");
    }

    #[test]
    fn badges_name_maintenance_and_ignore() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <MaintenanceBadges node=node() /> }.to_html();
        assert!(html.contains("maintenance (config)"), "{html}");
        assert!(html.contains("ignored"), "{html}");
    }
}
