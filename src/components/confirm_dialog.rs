//! Confirming destructive actions (revoke a token, log out everywhere): one pattern, with and
//! without JavaScript.
//!
//! The action's button is a link to the same page with `?confirm=<key>` ([`confirm_href`]). The
//! page then renders [`ConfirmDialog`]: without JavaScript the server renders it open, a
//! confirmation step of its own; with JavaScript the link navigates in place and the dialog
//! opens modally (focus moves into it; Esc or Cancel go back). The confirming button is the
//! action's own form inside the dialog, so the action never runs from the first click.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// The URL parameter naming the action to confirm.
pub const CONFIRM_PARAM: &str = "confirm";

/// `path` with `?confirm=key`: where an action's first button leads.
pub fn confirm_href(path: &str, key: &str) -> String {
    format!("{path}?{CONFIRM_PARAM}={key}")
}

/// The key of the action the URL asks to confirm, if any.
pub fn use_confirm_key() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(CONFIRM_PARAM)))
}

/// A confirmation dialog: a title, what will happen, Cancel (back to `cancel_href`) and the
/// confirming form given as children.
#[component]
pub fn ConfirmDialog(
    /// The question, e.g. "Revoke the token “ci”?"; also the dialog's accessible name.
    #[prop(into)]
    title: String,
    /// What will happen, in one or two sentences.
    #[prop(into)]
    body: String,
    /// The page without `?confirm=`.
    #[prop(into)]
    cancel_href: String,
    /// The confirming form (its submit button says what it does).
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // With JavaScript the dialog becomes modal: the rest of the page is inert and Esc cancels.
    // The server rendered it open (non-modal), so it is closed first; `showModal` refuses an
    // open dialog.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(element) = dialog.get() {
            if !element.matches(":modal").unwrap_or(false) {
                element.close();
                let _ignored = element.show_modal();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _server_never_opens_modally = dialog;
    });
    let navigate = use_navigate();
    let on_cancel = {
        let cancel_href = cancel_href.clone();
        move |event: leptos::ev::Event| {
            // Esc: leave the confirmation URL rather than just hiding the dialog.
            event.prevent_default();
            navigate(
                &cancel_href,
                NavigateOptions {
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    };
    view! {
        <dialog
            class="plb-dialog"
            open
            node_ref=dialog
            aria-labelledby="plb-dialog-title"
            aria-describedby="plb-dialog-body"
            data-testid="confirm-dialog"
            on:cancel=on_cancel
        >
            <h2 class="plb-dialog__title" id="plb-dialog-title">{title}</h2>
            <p class="plb-dialog__body" id="plb-dialog-body">{body}</p>
            <div class="plb-dialog__actions">
                <a class="plb-button plb-button--quiet" href=cancel_href>"Cancel"</a>
                {children()}
            </div>
        </dialog>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use crate::components::Markup;
    use leptos_router::components::Router;
    use leptos_router::location::RequestUrl;

    use super::*;

    #[test]
    fn links_carry_the_key_in_the_query() {
        assert_eq!(
            confirm_href("/account", "revoke-7"),
            "/account?confirm=revoke-7"
        );
    }

    #[test]
    fn the_server_renders_the_dialog_open_with_cancel_and_the_form() {
        let owner = Owner::new();
        owner.set();
        provide_context(RequestUrl::new("/account?confirm=x"));
        let html = view! {
            <Router>
                <ConfirmDialog title="Revoke “ci”?" body="Scripts using it stop working." cancel_href="/account">
                    <form method="post" action="/sfn/revoke_token">
                        <button type="submit">"Revoke"</button>
                    </form>
                </ConfirmDialog>
            </Router>
        }
        .to_html().markup();
        assert!(html.contains("<dialog open "), "{html}");
        assert!(html.contains("class=\"plb-dialog\""), "{html}");
        assert!(
            html.contains("aria-labelledby=\"plb-dialog-title\""),
            "{html}"
        );
        assert!(html.contains("Revoke “ci”?"), "{html}");
        assert!(
            html.contains(r#"<a href="/account" class="plb-button plb-button--quiet">Cancel</a>"#),
            "{html}"
        );
        assert!(html.contains("action=\"/sfn/revoke_token\""), "{html}");
    }
}
