//! "Rebalance now": the button (or why it is refused), a confirmation that shows the plan about
//! to run, and the run's live progress from the `runs` topic and ProxLB's migration log lines.

use leptos::prelude::*;
use plb_domain::balancing::answer::BalancingPlan;
use plb_domain::balancing::run_now::RunRefusal;
use plb_domain::explain::describe_move;
use plb_domain::live::{LogsEvent, LogsTopic, RunsTopic};
use plb_domain::runs::RunState;

use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::balancing::{RunNow, RUN_PARAM, RUN_STARTED};
use crate::components::confirm_dialog::{confirm_href, use_confirm_key, ConfirmDialog};
use crate::components::live_client::{use_live_topic, TopicUpdate};

const PATH: &str = "/balancing";
const KEY: &str = "run";
/// How many progress lines are kept.
const MAX_LINES: usize = 50;

/// Whether a log message belongs to a run's migrations (ProxLB 2.3.0 templates,
/// `proxlb/models/balancing.py`).
fn is_progress(message: &str) -> bool {
    message.starts_with("Balancing:")
        || message.starts_with("Finished: Balancing loop")
        || message.starts_with("Daemon mode active")
        || message.starts_with("Daemon mode not active")
}

/// The panel.
#[component]
pub fn RunNowPanel(
    /// The plan the run is expected to carry out.
    plan: Option<BalancingPlan>,
    /// Why a run would be refused now.
    refusal: Option<RunRefusal>,
    /// Operators only.
    can_operate: bool,
) -> impl IntoView {
    let run = ServerAction::<RunNow>::new();
    let state = RwSignal::new(None::<RunState>);
    let lines = RwSignal::new(Vec::<String>::new());
    use_live_topic::<RunsTopic>(move |update| {
        if let TopicUpdate::Event(latest) = update {
            state.set(Some(latest));
        }
    });
    use_live_topic::<LogsTopic>(move |update| {
        if let TopicUpdate::Event(LogsEvent::Entry(entry)) = update {
            if is_progress(&entry.message) {
                lines.update(|l| {
                    l.push(entry.message.clone());
                    let excess = l.len().saturating_sub(MAX_LINES);
                    l.drain(..excess);
                });
            }
        }
    });
    let confirm = use_confirm_key();
    let query = use_query_map();
    // With JavaScript a started run closes the dialog by leaving the confirmation URL.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(run.value().get(), Some(Ok(_))) {
            navigate(
                PATH,
                NavigateOptions {
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    });
    let why_not = if can_operate {
        refusal.as_ref().map(RunRefusal::message)
    } else {
        Some("Only operators can start a run; you are signed in as a viewer.".to_owned())
    };
    let moves = plan.as_ref().map_or(0, |p| p.projection.issued);
    let body = format!(
        "ProxLB is restarted (or started) and runs at once. By today's plan it would migrate {moves} guest{}; it decides on fresh numbers when it runs.",
        if moves == 1 { "" } else { "s" }
    );
    let plan_lines: Vec<String> = plan
        .map(|p| {
            p.projection
                .moves
                .iter()
                .filter(|m| m.planned.issued)
                .map(|m| describe_move(&m.planned.planned))
                .collect()
        })
        .unwrap_or_default();
    let asked = move || can_operate && confirm.get().as_deref() == Some(KEY);
    view! {
        <section class="plb-card plb-balancing-run" aria-labelledby="balancing-run" data-testid="run-now">
            <h2 class="plb-card__title" id="balancing-run">"Rebalance now"</h2>
            {match why_not.clone() {
                None => view! { <a class="plb-button plb-button--danger-quiet" href=confirm_href(PATH, KEY) data-testid="run-now-button">"Rebalance now…"</a> }.into_any(),
                Some(why) => view! {
                    <button class="plb-button plb-button--quiet" type="button" disabled data-testid="run-now-button">"Rebalance now…"</button>
                    <p class="plb-muted" data-testid="run-now-refusal">{why}</p>
                }.into_any(),
            }}
            {move || run.value().get().map(|r| r.map(|_| ()).map_err(|e| e.to_string())).or_else(|| {
                query.with(|q| q.get(RUN_PARAM)).map(|o| if o == RUN_STARTED { Ok(()) } else { Err("The run was refused; the reason is shown above.".to_owned()) })
            }).map(|r| match r {
                Ok(_) => view! { <p class="plb-message plb-message--ok" role="status" data-testid="run-now-outcome">"ProxLB was started; its run shows below as it happens."</p> }.into_any(),
                Err(e) => view! { <p class="plb-message plb-message--error" role="alert" data-testid="run-now-outcome">{e}</p> }.into_any(),
            })}
            <p class="plb-balancing-run__state" data-testid="run-state">
                {move || state.get().map(|s| format!("ProxLB: {}", s.as_str())).unwrap_or_else(|| "ProxLB: waiting for its state…".to_owned())}
            </p>
            <ol class="plb-balancing-run__log" data-testid="run-progress" aria-live="polite">
                {move || lines.get().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ol>
        </section>
        {move || asked().then(|| {
            let plan_lines = plan_lines.clone();
            view! {
                <ConfirmDialog title="Rebalance now?" body=body.clone() cancel_href=PATH>
                    <ul class="plb-balancing-run__plan" data-testid="run-now-plan">
                        {plan_lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                    </ul>
                    <ActionForm action=run>
                        <button class="plb-button plb-button--danger" type="submit" autofocus data-testid="confirm-run"
                            disabled=move || run.pending().get()>
                            {move || if run.pending().get() { "Starting…" } else { "Rebalance now" }}
                        </button>
                    </ActionForm>
                </ConfirmDialog>
            }
        })}
    }
}
