//! The Rules view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::pages::PageHeader;

/// Affinity, anti-affinity, pins, ignores, pools and HA rules.
#[component]
pub fn RulesPage() -> impl IntoView {
    view! {
        <PageHeader title="Rules" subtitle="Affinity, anti-affinity, pins, ignores, pools and HA rules." />
        <NotBuiltYet what="Affinity and anti-affinity groups, pinned and ignored guests, pool rules and Proxmox HA rules, each with its members, its source and any conflicts." />
    }
}
