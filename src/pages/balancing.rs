//! The Balancing view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::components::page_header::PageHeader;

/// ProxLB's balancing settings, a dry run, and a run now.
#[component]
pub fn BalancingPage() -> impl IntoView {
    view! {
        <PageHeader title="Balancing" subtitle="ProxLB's balancing settings, a dry run, and a run now." />
        <NotBuiltYet what="Enable or disable balancing, choose method, mode, balanciness and thresholds, preview ProxLB's plan as a dry run, ask for the best node, and trigger a rebalance." />
    }
}
