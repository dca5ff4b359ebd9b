//! "Ask real ProxLB": run the installed ProxLB once with `-d -j` (no migration) on the what-if
//! candidate (or the saved settings) and show its plan next to ProxLB Web's. The run contacts the
//! real cluster, so the panel first shows the estimate ("about N requests to <host>") and asks
//! for confirmation; then it shows the run's progress with a cancel button, and finally the two
//! plans side by side, each guest marked same / only ProxLB / only native.
//!
//! It needs JavaScript (the run is polled while it lasts); without it the button stays inert
//! and the REST endpoint `POST /api/balancing/ask-proxlb` does the same.

use leptos::prelude::*;
use plb_domain::balancing::wire::Candidate;
use plb_domain::proxlb::ask::{Agreement, AskAnswer, AskEstimate, AskStatus};

use crate::api::balancing_ask::{
    cancel_ask_proxlb, get_ask_estimate, get_ask_status, start_ask_proxlb,
};
use crate::components::clock::use_clock;

/// How often the slot is asked while ProxLB runs.
const POLL_MS: u32 = 1_000;

/// Waits `ms` in the browser (the server never polls).
async fn pause(ms: u32) {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(feature = "hydrate"))]
    let _server_never_waits = ms;
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "about 42 requests to pve1:8006" for the confirmation.
fn estimate_sentence(estimate: &AskEstimate) -> String {
    let hosts = if estimate.hosts.is_empty() {
        "the cluster".to_owned()
    } else {
        estimate.hosts.join(" or ")
    };
    format!(
        "This sends about {} requests to {hosts} ({} and {}, about three requests per guest). ProxLB's own pauses alone take at least {} s. It migrates nothing.",
        estimate.requests,
        plural(estimate.nodes, "node", "nodes"),
        plural(estimate.running_guests, "running guest", "running guests"),
        estimate.minimum_ms.div_ceil(1000),
    )
}

fn agreement_class(agreement: Agreement) -> &'static str {
    match agreement {
        Agreement::Same => "plb-ask__row plb-ask__row--same",
        Agreement::Different => "plb-ask__row plb-ask__row--different",
        Agreement::OnlyProxlb => "plb-ask__row plb-ask__row--only-proxlb",
        Agreement::OnlyNative => "plb-ask__row plb-ask__row--only-native",
    }
}

/// The verdict line of an answer.
fn verdict(answer: &AskAnswer) -> String {
    let on = if answer.candidate {
        "the candidate settings"
    } else {
        "the saved settings"
    };
    let seconds = answer.wall_ms as f64 / 1000.0;
    if answer.agree {
        format!(
            "Real ProxLB agrees with ProxLB Web on {on}: {} (ProxLB ran {seconds:.1} s).",
            plural(answer.proxlb_moves, "move", "moves")
        )
    } else {
        format!(
            "Real ProxLB differs from ProxLB Web on {on}: ProxLB plans {}, ProxLB Web {}, {} the same (ProxLB ran {seconds:.1} s).",
            plural(answer.proxlb_moves, "move", "moves"),
            answer.native_moves,
            answer.same
        )
    }
}

/// The two plans side by side.
#[component]
fn AskAnswerTable(answer: AskAnswer) -> impl IntoView {
    let ok = answer.agree;
    let line = verdict(&answer);
    let rows = answer.moves;
    let empty = rows.is_empty();
    view! {
        <p class=if ok { "plb-message plb-message--ok" } else { "plb-message plb-ask__verdict--differ" } role="status" data-testid="ask-verdict">{line}</p>
        {if empty {
            view! { <p class="plb-muted" data-testid="ask-no-moves">"Neither plans a move."</p> }.into_any()
        } else {
            view! {
                <table class="plb-table plb-ask__table" data-testid="ask-moves">
                    <thead>
                        <tr>
                            <th scope="col">"Guest"</th>
                            <th scope="col">"From"</th>
                            <th scope="col">"Real ProxLB"</th>
                            <th scope="col">"ProxLB Web"</th>
                            <th scope="col">"Agreement"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|m| {
                            let group = m.group.clone().map(|g| view! { <span class="plb-ask__group">{format!("with {g}")}</span> });
                            view! {
                                <tr class=agreement_class(m.agreement) data-guest=m.guest.clone() data-agreement=m.agreement.label()>
                                    <th scope="row">{format!("{} ({})", m.guest, m.vmid)} {group}</th>
                                    <td>{m.from.clone()}</td>
                                    <td>{m.proxlb_to.clone().unwrap_or_else(|| "stays".to_owned())}</td>
                                    <td>{m.native_to.clone().unwrap_or_else(|| "stays".to_owned())}</td>
                                    <td><span class="plb-ask__agreement">{m.agreement.label()}</span></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

/// The panel.
#[component]
pub fn AskProxlbPanel(
    /// The what-if candidate, when the form has one; `None` asks with the saved settings.
    #[prop(into)]
    candidate: Signal<Option<Candidate>>,
    /// Operators only: the run contacts the real cluster.
    can_operate: bool,
) -> impl IntoView {
    // The estimate being confirmed (`Some` while the confirmation shows).
    let confirming = RwSignal::new(None::<Result<AskEstimate, String>>);
    let status = RwSignal::new(None::<AskStatus>);
    let error = RwSignal::new(None::<String>);
    let working = RwSignal::new(false);
    let now = use_clock();

    // Polls the slot until the run has ended or the panel is gone. The tasks below outlive
    // their await points, so they write with `try_set`: a signal of a closed page is gone
    // (`try_set` hands the value back) and polling stops.
    let follow = move || {
        leptos::task::spawn_local(async move {
            loop {
                pause(POLL_MS).await;
                let latest = get_ask_status().await;
                let running = latest.as_ref().is_ok_and(AskStatus::is_running);
                let gone = match latest {
                    Ok(latest) => status.try_set(Some(latest)).is_some(),
                    Err(e) => error.try_set(Some(e.to_string())).is_some(),
                };
                if gone || !running {
                    return;
                }
            }
        });
    };
    // A run started before this page was opened (or by another operator) shows too.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(latest) = get_ask_status().await {
                let running = latest.is_running();
                if status.try_set(Some(latest)).is_none() && running {
                    follow();
                }
            }
        });
    });
    let prepare = move |_| {
        error.set(None);
        working.set(true);
        let candidate = candidate.get_untracked();
        leptos::task::spawn_local(async move {
            let estimate = get_ask_estimate(candidate).await.map_err(|e| e.to_string());
            confirming.try_set(Some(estimate));
            working.try_set(false);
        });
    };
    let start = move |_| {
        working.set(true);
        let candidate = candidate.get_untracked();
        leptos::task::spawn_local(async move {
            match start_ask_proxlb(candidate).await {
                Ok(started) => {
                    confirming.try_set(None);
                    if status.try_set(Some(started)).is_none() {
                        follow();
                    }
                }
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
            working.try_set(false);
        });
    };
    let cancel_run = move |_| {
        working.set(true);
        leptos::task::spawn_local(async move {
            match cancel_ask_proxlb().await {
                Ok(latest) => {
                    status.try_set(Some(latest));
                }
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
            working.try_set(false);
        });
    };
    // Polls that change nothing do not redraw (the cancel button keeps its focus).
    let shown = Memo::new(move |_| status.get());
    let running = move || shown.with(|s| s.as_ref().is_some_and(AskStatus::is_running));
    let subject = move || {
        if candidate.with(Option::is_some) {
            "your unsaved candidate settings"
        } else {
            "the saved settings"
        }
    };

    view! {
        <section class="plb-card plb-ask" aria-labelledby="balancing-ask" data-testid="ask-proxlb">
            <h2 class="plb-card__title" id="balancing-ask">"Ask real ProxLB"</h2>
            <p class="plb-muted">
                "Runs the installed ProxLB once as a dry run ("<code>"-d -j"</code>") on "{subject}" and shows its plan next to ProxLB Web's."
            </p>
            {if can_operate {
                view! {
                    <button class="plb-button" type="button" data-testid="ask-button"
                        disabled=move || working.get() || running() || confirming.with(Option::is_some)
                        on:click=prepare>
                        "Ask real ProxLB…"
                    </button>
                }.into_any()
            } else {
                view! {
                    <button class="plb-button plb-button--quiet" type="button" disabled data-testid="ask-button">"Ask real ProxLB…"</button>
                    <p class="plb-muted" data-testid="ask-refusal">"Only operators can ask ProxLB: it contacts the real cluster."</p>
                }.into_any()
            }}
            {move || (working.get() && confirming.with(Option::is_none) && !running()).then(|| view! {
                <p class="plb-loading" role="status" data-testid="ask-estimating">"Estimating the requests…"</p>
            })}
            {move || confirming.get().map(|estimate| match estimate {
                Ok(estimate) => match estimate.unavailable.clone() {
                    Some(why) => view! {
                        <div class="plb-ask__confirm" role="alert" data-testid="ask-unavailable">
                            <p>{why}</p>
                            <button class="plb-button plb-button--quiet" type="button" on:click=move |_| confirming.set(None)>"Close"</button>
                        </div>
                    }.into_any(),
                    None => view! {
                        <div class="plb-ask__confirm" role="group" aria-label="Confirm asking real ProxLB" data-testid="ask-confirm">
                            <p data-testid="ask-estimate">{estimate_sentence(&estimate)}</p>
                            <div class="plb-ask__actions">
                                <button class="plb-button" type="button" data-testid="ask-confirm-button"
                                    disabled=move || working.get() on:click=start>
                                    {move || if working.get() { "Starting…" } else { "Ask ProxLB" }}
                                </button>
                                <button class="plb-button plb-button--quiet" type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                            </div>
                        </div>
                    }.into_any(),
                },
                Err(e) => view! {
                    <p class="plb-message plb-message--error" role="alert" data-testid="ask-error">{format!("No estimate: {e}")}</p>
                }.into_any(),
            })}
            {move || error.get().map(|e| view! {
                <p class="plb-message plb-message--error" role="alert" data-testid="ask-error">{e}</p>
            })}
            {move || shown.get().map(|s| match s {
                AskStatus::Idle => ().into_any(),
                AskStatus::Running { started_unix_ms, estimate, .. } => view! {
                    <div class="plb-ask__progress" role="status" aria-live="polite" data-testid="ask-running">
                        <span class="plb-ask__spinner" aria-hidden="true"></span>
                        <span>{move || format!(
                            "ProxLB runs: {} s of at least {} s, about {} requests…",
                            (now.get() - started_unix_ms).max(0) / 1000,
                            estimate.minimum_ms.div_ceil(1000),
                            estimate.requests,
                        )}</span>
                        <button class="plb-button plb-button--danger-quiet" type="button" data-testid="ask-cancel"
                            disabled=move || working.get() on:click=cancel_run>"Cancel run"</button>
                    </div>
                }.into_any(),
                AskStatus::Finished { answer, .. } => view! { <AskAnswerTable answer=*answer /> }.into_any(),
                AskStatus::Failed { message, .. } => view! {
                    <p class="plb-message plb-message--error" role="alert" data-testid="ask-failed">{format!("ProxLB did not answer: {message}")}</p>
                }.into_any(),
                AskStatus::Cancelled { .. } => view! {
                    <p class="plb-muted" role="status" data-testid="ask-cancelled">"The last ask was cancelled; ProxLB was stopped."</p>
                }.into_any(),
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_names_the_requests_and_hosts() {
        let estimate = AskEstimate {
            requests: 53,
            hosts: vec!["pve1:8006".into(), "pve2:8006".into()],
            nodes: 3,
            running_guests: 10,
            minimum_ms: 3_900,
            unavailable: None,
        };
        assert_eq!(
            estimate_sentence(&estimate),
            "This sends about 53 requests to pve1:8006 or pve2:8006 (3 nodes and 10 running guests, about three requests per guest). ProxLB's own pauses alone take at least 4 s. It migrates nothing."
        );
    }
}
