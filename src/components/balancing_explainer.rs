//! The guest explainer: a search box (name or VMID) and why that guest moves or stays.
//!
//! A GET form on `/balancing?guest=…`: without JavaScript the server renders the answer, with
//! JavaScript the router navigates in place and the answer follows the URL (shareable).

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use plb_domain::balancing::plan_view::{GuestExplanation, GuestVerdict};

use crate::api::balancing::explain_guest;

/// The URL parameter naming the guest to explain.
pub const GUEST_PARAM: &str = "guest";

/// Search box and answer.
#[component]
pub fn GuestExplainer() -> impl IntoView {
    let query = use_query_map();
    let guest = Memo::new(move |_| {
        query
            .with(|q| q.get(GUEST_PARAM))
            .filter(|g| !g.trim().is_empty())
    });
    let answer = Resource::new(
        move || guest.get(),
        |asked| async move {
            match asked {
                Some(g) => Some(explain_guest(g).await.map_err(|e| e.to_string())),
                None => None,
            }
        },
    );
    view! {
        <section class="plb-card plb-balancing-explainer" aria-labelledby="balancing-explainer" data-testid="guest-explainer">
            <h2 class="plb-card__title" id="balancing-explainer">"Why does a guest move or stay?"</h2>
            <Form method="get" action="/balancing" attr:class="plb-balancing-explainer__form" attr:role="search" attr:aria-label="Explain a guest">
                <label class="plb-field">
                    <span class="plb-field__label">"Guest name or VMID"</span>
                    <input type="search" name=GUEST_PARAM required data-testid="explain-query"
                        prop:value=move || guest.get().unwrap_or_default() />
                </label>
                <button class="plb-button" type="submit" data-testid="explain-submit">"Explain"</button>
            </Form>
            <Transition fallback=|| view! { <p class="plb-loading">"Explaining…"</p> }>
                {move || Suspend::new(async move {
                    answer.await.map(|result| match result {
                        Ok(e) => view! { <Answer e /> }.into_any(),
                        Err(text) => view! {
                            <p class="plb-message plb-message--error" role="alert" data-testid="explain-answer">{text}</p>
                        }.into_any(),
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Answer(e: GuestExplanation) -> impl IntoView {
    let verdict = match &e.verdict {
        GuestVerdict::Moves { to } => {
            format!("{} ({}) on {} moves to {to}.", e.guest, e.vmid, e.node)
        }
        GuestVerdict::PlannedNotIssued { to } => format!(
            "{} ({}) on {} is planned for {to}, but ProxLB would not issue the migration.",
            e.guest, e.vmid, e.node
        ),
        GuestVerdict::Stays => format!("{} ({}) stays on {}.", e.guest, e.vmid, e.node),
    };
    view! {
        <div data-testid="explain-answer">
            <p class="plb-balancing-explainer__verdict">{verdict}</p>
            <ul>{e.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
        </div>
    }
}
