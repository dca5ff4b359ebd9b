//! Theme switch: System / Light / Dark, remembered in a cookie.
//!
//! Without JavaScript it is a plain form that posts to the `set_theme` server function, which sets
//! the cookie and redirects back. With JavaScript the click sets the cookie and `data-theme` on
//! `<html>` directly. Either way the server reads the cookie on the next render: no flash, no
//! inline script.

use leptos::prelude::*;
use plb_domain::ThemeChoice;

/// The current theme choice, shared through context.
#[derive(Clone, Copy, Debug)]
pub struct ThemeContext(pub RwSignal<ThemeChoice>);

/// Provides the theme context, starting from what the server rendered.
pub fn provide_theme() {
    provide_context(ThemeContext(RwSignal::new(initial_theme_choice())));
}

/// The theme choice for the first render: the cookie on the server, the rendered
/// `data-theme` attribute in the browser (so hydration sees the same value).
pub fn initial_theme_choice() -> ThemeChoice {
    #[cfg(feature = "ssr")]
    {
        use axum::http::{header::COOKIE, request::Parts};
        use_context::<Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get_all(COOKIE)
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .map(ThemeChoice::from_cookie_header)
                    .find(|choice| *choice != ThemeChoice::System)
            })
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
            .and_then(|root| root.get_attribute("data-theme"))
            .and_then(|value| ThemeChoice::parse(&value))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        ThemeChoice::System
    }
}

/// The three-way theme switch in the top bar.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let ThemeContext(theme) = expect_context::<ThemeContext>();
    let set_theme_url = format!("{}/set_theme", crate::api::SERVER_FN_PREFIX);
    view! {
        <form class="plb-theme-switch" method="post" action=set_theme_url>
            <fieldset class="plb-theme-switch__group">
                <legend class="plb-visually-hidden">"Colour theme"</legend>
                {ThemeChoice::ALL
                    .into_iter()
                    .map(|choice| {
                        view! {
                            <button
                                type="submit"
                                name="theme"
                                value=choice.as_str()
                                class="plb-theme-switch__option"
                                data-theme-choice=choice.as_str()
                                aria-pressed=move || (theme.get() == choice).to_string()
                                on:click=move |event| {
                                    event.prevent_default();
                                    apply_theme(choice);
                                    theme.set(choice);
                                }
                            >
                                {choice.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </fieldset>
        </form>
    }
}

/// Applies a theme in the browser: cookie for the next server render, attribute for now.
fn apply_theme(choice: ThemeChoice) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|window| window.document()) else {
            return;
        };
        if let Ok(html_document) = document.clone().dyn_into::<web_sys::HtmlDocument>() {
            let _ignored = html_document.set_cookie(&choice.set_cookie_value());
        }
        if let Some(root) = document.document_element() {
            let _ignored = match choice.data_theme() {
                Some(value) => root.set_attribute("data-theme", value),
                None => root.remove_attribute("data-theme"),
            };
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _unused = choice;
}
