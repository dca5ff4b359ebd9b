//! The Nodes view: every node with its load, guests, version and maintenance state.

use leptos::prelude::*;
use plb_domain::proxlb::maintenance::MaintenanceSource;
use plb_domain::proxlb::NodeStatus;
use plb_domain::units::format_bytes;
use plb_domain::view::{ClusterOverview, NodeRow};

use crate::components::cluster_data::WithOverview;
use crate::components::meter::Meter;
use crate::pages::PageHeader;

/// The node table.
#[component]
pub fn NodesPage() -> impl IntoView {
    view! {
        <PageHeader title="Nodes" subtitle="Every Proxmox node with its load, guests and maintenance state." />
        <WithOverview render=Callback::new(|overview: ClusterOverview| view! { <NodeTable nodes=overview.nodes /> }.into_any()) />
    }
}

#[component]
fn NodeTable(nodes: Vec<NodeRow>) -> impl IntoView {
    view! {
        <div class="plb-table-wrap">
            <table class="plb-table plb-node-table">
                <thead>
                    <tr>
                        <th scope="col">"Node"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"CPU"</th>
                        <th scope="col">"Memory"</th>
                        <th scope="col">"Disk"</th>
                        <th scope="col">"VMs"</th>
                        <th scope="col">"CTs"</th>
                        <th scope="col">"PVE"</th>
                        <th scope="col">"ProxLB"</th>
                    </tr>
                </thead>
                <tbody>
                    {nodes
                        .into_iter()
                        .map(|node| {
                            let href = format!("/nodes/{}", node.name);
                            let name = node.name.clone();
                            view! {
                                <tr data-node=name>
                                    <th scope="row"><a href=href>{node.name.clone()}</a></th>
                                    <td><NodeStatusBadge status=node.status /></td>
                                    <td>
                                        <Meter
                                            percent=node.cpu_percent
                                            label=format!("{} CPU", node.name)
                                            detail=format!("{} cores", node.cpu_cores)
                                        />
                                    </td>
                                    <td>
                                        <Meter
                                            percent=node.mem_percent()
                                            label=format!("{} memory", node.name)
                                            detail=format!("{} of {}", format_bytes(node.mem_used), format_bytes(node.mem_total))
                                        />
                                    </td>
                                    <td>
                                        <Meter
                                            percent=node.disk_percent()
                                            label=format!("{} disk", node.name)
                                            detail=format!("{} of {}", format_bytes(node.disk_used), format_bytes(node.disk_total))
                                        />
                                    </td>
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

/// CPU, memory and disk meters of a node, as a definition list.
#[component]
pub fn NodeMeters(node: NodeRow) -> impl IntoView {
    view! {
        <dl class="plb-node-card__meters">
            <dt>"CPU"</dt>
            <dd><Meter percent=node.cpu_percent label=format!("{} CPU", node.name) /></dd>
            <dt>"Memory"</dt>
            <dd><Meter percent=node.mem_percent() label=format!("{} memory", node.name) /></dd>
            <dt>"Disk"</dt>
            <dd><Meter percent=node.disk_percent() label=format!("{} disk", node.name) /></dd>
        </dl>
    }
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

/// Describes a maintenance source for people.
pub fn maintenance_label(source: &MaintenanceSource) -> String {
    match source {
        MaintenanceSource::Config => "maintenance (config)".to_owned(),
        MaintenanceSource::Schedule { entry } => format!("maintenance (schedule {entry})"),
        MaintenanceSource::HaMaintenance => "maintenance (HA)".to_owned(),
    }
}

/// Maintenance and ignore badges of a node.
#[component]
pub fn MaintenanceBadges(node: NodeRow) -> impl IntoView {
    view! {
        <span class="plb-tags">
            {node
                .maintenance
                .iter()
                .map(|source| view! { <span class="plb-badge plb-badge--maintenance">{maintenance_label(source)}</span> })
                .collect_view()}
            {node.ignored.then(|| view! { <span class="plb-badge plb-badge--ignore">"ignored"</span> })}
        </span>
    }
}
