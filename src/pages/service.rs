//! The Service view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::components::page_header::PageHeader;

/// Start, stop and restart ProxLB, and see its state and version.
#[component]
pub fn ServicePage() -> impl IntoView {
    view! {
        <PageHeader title="Service" subtitle="Start, stop and restart ProxLB, and see its state and version." />
        <NotBuiltYet what="ProxLB's service or container state and version, with start, stop and restart (with confirmation for the destructive ones)." />
    }
}
