//! Why one planned move: why this guest, why this target, why no migration would be sent, the
//! table of every candidate node with its value and the rejection that decided, and the ProxLB
//! quirks at this move. Shown inside a plan's move disclosure and by the guest explainer.

use leptos::prelude::*;
use plb_domain::explain::{
    describe_guest_choice, describe_quirk_at, describe_reason, describe_rejection, describe_target,
    mode_name,
};
use plb_domain::proxlb::config::{Mode, Resource};
use plb_domain::proxlb::decision::Reason;
use plb_domain::proxlb::explanation::{CandidateVerdict, GuestChoice, QuirkAt, TargetChoice};

use crate::components::balancing_explainer::GUEST_PARAM;

/// The explanation of one move.
#[component]
pub fn MoveWhy(
    /// Guest id (for the link to its full explanation when the table was not shipped).
    vmid: u32,
    /// Why this guest.
    why_guest: GuestChoice,
    /// Why this target.
    why_target: TargetChoice,
    /// Every node's verdict, target first (empty: not shipped with the plan).
    candidates: Vec<CandidateVerdict>,
    /// Why no migration would be sent (empty: it would).
    not_issued: Vec<Reason>,
    /// Quirks at this move.
    quirks: Vec<QuirkAt>,
    /// Method compared.
    method: Resource,
    /// Mode compared.
    mode: Mode,
) -> impl IntoView {
    let held = (!not_issued.is_empty()).then(|| {
        format!(
            "Not issued: {}",
            not_issued
                .iter()
                .map(describe_reason)
                .collect::<Vec<_>>()
                .join(" ")
        )
    });
    let unit = match mode {
        Mode::Psi => format!("{} pressure spikes, %", method.as_str()),
        Mode::Used | Mode::Assigned => format!("{} {}, %", method.as_str(), mode_name(mode)),
    };
    let table = if candidates.is_empty() {
        // By VMID: digits need no escaping, and the explainer looks ids up first.
        let href = format!("/balancing?{GUEST_PARAM}={vmid}#balancing-explainer");
        view! {
            <p class="plb-move-why__more">
                <a href=href>"Every candidate node: explain this guest"</a>
            </p>
        }
        .into_any()
    } else {
        view! {
            <table class="plb-table plb-move-why__candidates" data-testid="move-candidates">
                <caption class="plb-move-why__caption">"Every candidate node"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Node"</th>
                        <th scope="col" class="plb-num">{unit}</th>
                        <th scope="col">"Verdict"</th>
                    </tr>
                </thead>
                <tbody>
                    {candidates.into_iter().map(|c| view! { <CandidateRow c /> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class="plb-move-why" data-testid="move-why">
            <p class="plb-move-why__line" data-testid="move-why-guest">
                <strong>"Why this guest: "</strong>{describe_guest_choice(&why_guest)}
            </p>
            <p class="plb-move-why__line" data-testid="move-why-target">
                <strong>"Why this target: "</strong>{describe_target(&why_target)}
            </p>
            {held.map(|h| view! { <p class="plb-move-why__line plb-move-why__line--held">{h}</p> })}
            {table}
            {(!quirks.is_empty()).then(|| view! {
                <ul class="plb-move-why__quirks" data-testid="move-quirks">
                    {quirks.iter().map(|q| view! { <li>{format!("Quirk: {}", describe_quirk_at(q))}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// One node's row: its value and the rejection that decided first, then the others.
#[component]
fn CandidateRow(c: CandidateVerdict) -> impl IntoView {
    let value = c
        .value
        .map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
    let class = if c.chosen {
        "plb-move-why__row plb-move-why__row--chosen"
    } else {
        "plb-move-why__row"
    };
    let mut rejections = c.rejections.iter().map(describe_rejection);
    let verdict = if c.chosen {
        view! { <strong>"chosen"</strong> }.into_any()
    } else {
        let first = rejections.next().unwrap_or_default();
        let rest: Vec<String> = rejections.collect();
        view! {
            <span class="plb-move-why__decided">{first}</span>
            {(!rest.is_empty()).then(|| view! {
                <span class="plb-move-why__also">{format!("; also {}", rest.join("; "))}</span>
            })}
        }
        .into_any()
    };
    view! {
        <tr class=class data-node=c.node.clone()>
            <th scope="row">{c.node.clone()}</th>
            <td class="plb-num">{value}</td>
            <td>{verdict}</td>
        </tr>
    }
}
