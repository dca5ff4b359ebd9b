//! The 404 page for unknown routes (answered with HTTP 404).

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path that is not a view; sets the HTTP status to 404 during server rendering.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="plb-card plb-not-found" aria-labelledby="not-found-title">
            <h1 class="plb-page-header__title" id="not-found-title">"Page not found"</h1>
            <p>"There is no page at this address. Pick a view from the navigation, or go to the "
                <a href="/">"dashboard"</a>"."</p>
        </section>
    }
}
