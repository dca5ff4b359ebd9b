//! The Nodes view: every node with its load, guests, version and maintenance state.

use leptos::prelude::*;
use plb_domain::view::{ClusterOverview, NodeRow};

use crate::components::cluster_data::WithOverview;
use crate::components::node_widgets::{
    node_href, MaintenanceBadges, NodeMeterCells, NodeStatusBadge,
};
use crate::components::page_header::PageHeader;

/// The node table.
#[component]
pub fn NodesPage() -> impl IntoView {
    view! {
        <PageHeader title="Nodes" subtitle="Every Proxmox node with its load, guests and maintenance state." />
        <WithOverview render=Callback::new(|overview: ClusterOverview| view! { <NodeTable nodes=overview.nodes /> }.into_any()) />
    }
}

/// The table's column headings, in order.
const COLUMNS: [&str; 9] = [
    "Node", "Status", "CPU", "Memory", "Disk", "VMs", "CTs", "PVE", "ProxLB",
];

#[component]
fn NodeTable(nodes: Vec<NodeRow>) -> impl IntoView {
    view! {
        <div class="plb-table-wrap">
            <table class="plb-table plb-node-table">
                <thead>
                    <tr>{COLUMNS.map(|column| view! { <th scope="col">{column}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {nodes
                        .into_iter()
                        .map(|node| {
                            let href = node_href(&node.name);
                            view! {
                                <tr data-node=node.name.clone()>
                                    <th scope="row"><a href=href>{node.name.clone()}</a></th>
                                    <td><NodeStatusBadge status=node.status /></td>
                                    <NodeMeterCells node=node.clone() />
                                    <td class="plb-num" title="running / all">{format!("{} / {}", node.vms.0, node.vms.1)}</td>
                                    <td class="plb-num" title="running / all">{format!("{} / {}", node.cts.0, node.cts.1)}</td>
                                    <td>{node.pve_version.clone()}</td>
                                    <td><MaintenanceBadges node=node.clone() /></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
