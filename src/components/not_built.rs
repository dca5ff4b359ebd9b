//! An honest placeholder for a view whose issue has not landed yet (shell only).

use leptos::prelude::*;

/// Says plainly that this view is not built yet, and what it will show.
#[component]
pub fn NotBuiltYet(
    /// What the finished view will let the user do.
    what: &'static str,
) -> impl IntoView {
    view! {
        <section class="plb-card plb-not-built" aria-labelledby="not-built-title">
            <h2 class="plb-card__title" id="not-built-title">"Not built yet"</h2>
            <p class="plb-not-built__text">{what}</p>
            <p class="plb-muted">"This view is part of the ProxLB Web roadmap and is not available in this build."</p>
        </section>
    }
}
