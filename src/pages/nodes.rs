//! The Nodes view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::pages::PageHeader;

/// Every Proxmox node with its load, guests and maintenance state.
#[component]
pub fn NodesPage() -> impl IntoView {
    view! {
        <PageHeader title="Nodes" subtitle="Every Proxmox node with its load, guests and maintenance state." />
        <NotBuiltYet what="A table of nodes with status, CPU/memory/disk usage, guest counts, PVE version and maintenance or ignore state, with toggles for maintenance and ignore." />
    }
}
