//! The Logs view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::components::page_header::PageHeader;

/// ProxLB's log, live, with levels, search and migration history.
#[component]
pub fn LogsPage() -> impl IntoView {
    view! {
        <PageHeader title="Logs" subtitle="ProxLB's log, live, with levels, search and migration history." />
        <NotBuiltYet what="ProxLB's log streamed live, filtered by level and searched, plus the migration history extracted from it." />
    }
}
