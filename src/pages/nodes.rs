//! The Nodes view: every node with its load, guests, version and maintenance state.

use leptos::prelude::*;
use plb_domain::projection::NodesView;
use plb_domain::view::NodeRow;

use crate::components::cluster_data::{nodes_resource, with_data};
use crate::components::node_widgets::{
    node_href, MaintenanceBadges, NodeMeterCells, NodeStatusBadge,
};
use crate::components::page_header::PageHeader;

/// The node table.
#[component]
pub fn NodesPage() -> impl IntoView {
    view! {
        <PageHeader title="Nodes" subtitle="Every Proxmox node with its load, guests and maintenance state." />
        {with_data(nodes_resource(), |data: NodesView| view! { <NodeTable nodes=data.nodes /> }.into_any())}
    }
}

/// The table's column headings, in order.
const COLUMNS: [&str; 9] = [
    "Node", "Status", "CPU", "Memory", "Disk", "VMs", "CTs", "PVE", "ProxLB",
];

#[component]
fn NodeTable(nodes: Vec<NodeRow>) -> impl IntoView {
    view! {
        // One hint, not a link per row: at 64 nodes a link per row pushed the page over its
        // 100 KB budget (tests/projections.rs).
        <p class="plb-muted plb-node-table__hint">
            "Maintenance and ignore toggles are on each node's page (click its name)."
        </p>
        <div class="plb-table-wrap">
            <table class="plb-table plb-node-table">
                <thead>
                    // "running / all" once per column, not on each of up to 64 rows' cells.
                    <tr>{COLUMNS.map(|column| {
                        let title = matches!(column, "VMs" | "CTs").then_some("running / all");
                        view! { <th scope="col" title=title>{column}</th> }
                    }).collect_view()}</tr>
                </thead>
                <tbody>
                    {nodes
                        .into_iter()
                        .map(|node| {
                            let href = node_href(&node.name);
                            view! {
                                <tr>
                                    <th scope="row"><a href=href>{node.name.clone()}</a></th>
                                    <td><NodeStatusBadge status=node.status /></td>
                                    <NodeMeterCells node=node.clone() />
                                    <td class="plb-num">{format!("{} / {}", node.vms.0, node.vms.1)}</td>
                                    <td class="plb-num">{format!("{} / {}", node.cts.0, node.cts.1)}</td>
                                    <td>{node.pve_version.clone()}</td>
                                    <td>
                                        <MaintenanceBadges node=node.clone() />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
