//! The Configuration view.

use leptos::prelude::*;

use crate::components::not_built::NotBuiltYet;
use crate::components::page_header::PageHeader;

/// ProxLB's configuration file, with validation and safe saves.
#[component]
pub fn ConfigPage() -> impl IntoView {
    view! {
        <PageHeader title="Configuration" subtitle="ProxLB's configuration file, with validation and safe saves." />
        <NotBuiltYet what="View and edit proxlb.yaml with validation, masked secrets, unknown keys kept, a conflict check when the file changed on disk, and save-and-restart." />
    }
}
