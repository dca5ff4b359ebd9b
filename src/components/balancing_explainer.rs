//! The guest explainer: a search box (name or VMID) and why that guest moves or stays: every
//! reason it stays with its numbers, or why it moves with every candidate node's verdict, and
//! the ProxLB quirks at that guest. Asked per query, so the page never carries every guest.
//!
//! A GET form on `/balancing?guest=…`: without JavaScript the server renders the answer, with
//! JavaScript the router navigates in place and the answer follows the URL (shareable).

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use plb_domain::balancing::answer::{GuestAnswer, GuestVerdict};
use plb_domain::explain::{describe_not_moved, describe_quirk_at};
use plb_domain::proxlb::explanation::{GuestOutcome, MoveExplanation, NotMovedReason};

use crate::api::balancing::explain_guest;
use crate::components::balancing_move::MoveWhy;

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
    let answer = api_resource(
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
fn Answer(e: GuestAnswer) -> impl IntoView {
    let x = e.explanation;
    let who = format!("{} ({}) on {}", x.name, x.vmid, x.node);
    let verdict = match &e.verdict {
        GuestVerdict::Moves { to } => format!("{who} moves to {to}."),
        GuestVerdict::PlannedNotIssued { to } => {
            format!("{who} is planned for {to}, but ProxLB would not issue the migration.")
        }
        GuestVerdict::Stays => format!("{who} stays."),
    };
    let (reasons, planned): (Vec<String>, Option<MoveExplanation>) = match x.outcome {
        GuestOutcome::Moves { explanation } => (Vec::new(), Some(*explanation)),
        GuestOutcome::Stays { reasons } => {
            let planned = reasons.iter().find_map(|r| match r {
                NotMovedReason::NotIssued { explanation, .. } => Some((**explanation).clone()),
                _ => None,
            });
            (reasons.iter().map(describe_not_moved).collect(), planned)
        }
    };
    // Quirks of the guest's rules that the move's own list does not already show.
    let quirks: Vec<String> = x
        .quirks
        .iter()
        .filter(|q| planned.as_ref().is_none_or(|m| !m.quirks.contains(q)))
        .map(|q| format!("Quirk: {}", describe_quirk_at(q)))
        .collect();
    view! {
        <div data-testid="explain-answer">
            <p class="plb-balancing-explainer__verdict">{verdict}</p>
            {(!reasons.is_empty()).then(|| view! {
                <ul class="plb-balancing-explainer__reasons" data-testid="explain-reasons">
                    {reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
            })}
            {planned.map(|m| {
                let (method, mode) = (m.why_target.method, m.why_target.mode);
                view! {
                    <MoveWhy
                        vmid=m.planned.planned.vmid
                        why_guest=m.why_guest
                        why_target=m.why_target
                        candidates=m.candidates
                        not_issued=m.not_issued
                        quirks=m.quirks
                        method
                        mode
                    />
                }
            })}
            {(!quirks.is_empty()).then(|| view! {
                <ul class="plb-move-why__quirks" data-testid="explain-quirks">
                    {quirks.into_iter().map(|q| view! { <li>{q}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}
