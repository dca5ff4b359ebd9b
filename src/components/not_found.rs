//! The one way a view says that what the address names is not there: HTTP 404 while the server
//! renders it, and a card that says what is missing and where to go instead.

use leptos::prelude::*;
use leptos_meta::Title;

/// Marks the response being rendered as 404 Not Found; nothing in the browser.
fn answer_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
}

/// A "not found" view: answers 404 during server rendering (also from inside a resolved
/// `Suspend`, as long as the route renders with `SsrMode::Async`) and shows `title` as the page
/// heading with `children` below it.
#[component]
pub fn NotFound(
    /// The heading and document title, e.g. `Page not found`.
    title: &'static str,
    /// What is missing and where to go instead.
    children: Children,
) -> impl IntoView {
    answer_not_found();
    view! {
        <Title text=title />
        <section class="plb-card plb-not-found" aria-labelledby="not-found-title">
            <h1 class="plb-page-header__title" id="not-found-title">{title}</h1>
            {children()}
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::components::Markup;

    #[test]
    fn answers_404_with_the_heading_and_the_explanation() {
        let owner = Owner::new();
        owner.set();
        leptos_meta::provide_meta_context();
        let response = leptos_axum::ResponseOptions::default();
        provide_context(response.clone());
        let html = view! {
            <NotFound title="Node not found"><p>"There is no node pve9."</p></NotFound>
        }
        .to_html()
        .markup();
        let status = response.0.read().map(|parts| parts.status).ok().flatten();
        assert_eq!(status, Some(axum::http::StatusCode::NOT_FOUND));
        assert!(html.contains(">Node not found</h1>"), "{html}");
        assert!(html.contains("There is no node pve9."), "{html}");
    }
}
