//! The Dashboard view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::pages::PageHeader;

/// Cluster health, node load and what ProxLB is doing.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <PageHeader title="Dashboard" subtitle="Cluster health, node load and what ProxLB is doing." />
        <NotBuiltYet what="Cluster health (quorum, nodes online, maintenance), a CPU/memory/disk gauge per node, VM and CT counts, the balance spread against ProxLB's balanciness, the ProxLB service state with its next-run countdown, and the recent migrations." />
    }
}
