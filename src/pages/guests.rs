//! The Guests view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::pages::PageHeader;

/// Every VM and container, where it runs and what ProxLB may do with it.
#[component]
pub fn GuestsPage() -> impl IntoView {
    view! {
        <PageHeader title="Guests" subtitle="Every VM and container, where it runs and what ProxLB may do with it." />
        <NotBuiltYet what="Every VM and CT with node, status, usage, pool, HA state and ProxLB tags, with search, filters and sorting kept in the URL." />
    }
}
