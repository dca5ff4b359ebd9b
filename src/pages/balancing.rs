//! The Balancing view (`/balancing`): ProxLB's plan with its reasons (a bar per node before and
//! after), the guest explainer, the settings form with a what-if beside today's plan, and
//! "Rebalance now" with live progress.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::balancing::{get_balancing_page, MOVES_FROM_PARAM};
use crate::components::balancing_ask::AskProxlbPanel;
use crate::components::balancing_explainer::GuestExplainer;
use crate::components::balancing_form::BalancingForm;
use crate::components::balancing_plan::PlanPanel;
use crate::components::balancing_run::RunNowPanel;
use crate::components::error_panel::ErrorPanel;
use crate::components::page_header::PageHeader;
use crate::components::user_menu::use_current_user;
use crate::error::ApiError;

/// ProxLB's balancing: the plan, why, what-if, settings and run now.
#[component]
pub fn BalancingPage() -> impl IntoView {
    // The page of moves a JS-off pager asked for; read once (with JavaScript the pager fetches
    // in place and the URL stays).
    let moves_from = use_query_map().with_untracked(|query| {
        query
            .get(MOVES_FROM_PARAM)
            .and_then(|from| from.parse::<usize>().ok())
            .unwrap_or(0)
    });
    let data = api_resource(move || moves_from, get_balancing_page);
    let user = use_current_user();
    // The form's what-if candidate, for "ask real ProxLB" (`None`: the saved settings).
    let ask_candidate = RwSignal::new(None);
    view! {
        <PageHeader title="Balancing" subtitle="What ProxLB would do now and why, what your changes would do, and a run now." />
        <Transition fallback=|| view! { <p class="plb-loading">"Replaying ProxLB's calculation…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let data = data.await?;
                    let can_operate = user.await.ok().flatten().is_some_and(|u| u.can_operate());
                    let plan = data.plan.clone().ok();
                    let plan_view = match data.plan {
                        Ok(plan) => view! { <PlanPanel title="ProxLB's plan now" plan testid="plan-today" pageable=true /> }.into_any(),
                        Err(why) => view! { <p class="plb-message plb-message--error" role="alert">{format!("No plan yet: {why}")}</p> }.into_any(),
                    };
                    let settings = data.settings;
                    Ok::<_, ApiError>(view! {
                        <div class="plb-balancing">
                            <div class="plb-balancing__main">
                                {plan_view}
                            </div>
                            <div class="plb-balancing__side">
                                <RunNowPanel plan refusal=settings.run_refusal.clone() can_operate />
                                <AskProxlbPanel candidate=ask_candidate can_operate />
                            </div>
                            <div class="plb-balancing__settings">
                                <BalancingForm
                                    saved=settings.settings
                                    digest=settings.digest
                                    pressure_reported=settings.pressure_reported
                                    can_operate
                                    read_only=settings.read_only
                                    nodes=settings.nodes
                                    publish=ask_candidate
                                />
                            </div>
                        </div>
                    })
                })}
            </ErrorBoundary>
        </Transition>
        // Outside the page's data boundary: it loads on its own (no nested Suspense there).
        <GuestExplainer />
    }
}
