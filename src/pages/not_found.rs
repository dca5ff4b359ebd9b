//! The 404 page for unknown routes (answered with HTTP 404).

use leptos::prelude::*;

use crate::components::not_found::NotFound;

/// Shown for any path that is not a view.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <NotFound title="Page not found">
            <p>"There is no page at this address. Pick a view from the navigation, or go to the "
                <a href="/">"dashboard"</a>"."</p>
        </NotFound>
    }
}
