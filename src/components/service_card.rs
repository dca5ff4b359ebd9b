//! The dashboard's ProxLB card: the service's state, version and backend, the countdown to the
//! next run and how the last run ended; live through the `service` and `runs` topics. A backend
//! that cannot be used shows in this card only.

use crate::api::resource::{api_resource, ApiResource};
use leptos::prelude::*;
use plb_domain::live::{RunsTopic, ServiceTopic};
use plb_domain::ServerInfo;

use crate::api::service::{get_proxlb_overview, ProxlbOverview};
use crate::components::live_client::{use_live_topic, TopicUpdate};
use crate::components::run_countdown::{LastRunPanel, RunCountdown};
use crate::components::service_state::{ProblemNote, ServiceStateBadge};
use crate::error::ApiError;

/// The card's content: loading, an error of its own, or the live state.
#[component]
pub fn ServiceCard() -> impl IntoView {
    let overview = api_resource(|| (), |_| get_proxlb_overview());
    let info = expect_context::<ApiResource<Result<ServerInfo, ApiError>>>();
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Asking ProxLB's backend…"</p> }>
            {move || Suspend::new(async move {
                let demo = info.await.is_ok_and(|info| info.demo);
                match overview.await {
                    Ok(overview) => view! { <ServiceCardBody overview demo /> }.into_any(),
                    Err(error) => view! {
                        <p class="plb-message plb-message--error" role="alert">{error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ServiceCardBody(overview: ProxlbOverview, demo: bool) -> impl IntoView {
    let status = RwSignal::new(overview.service);
    let run = RwSignal::new(overview.run);
    use_live_topic::<ServiceTopic>(move |update| {
        if let TopicUpdate::Event(latest) = update {
            status.set(latest);
        }
    });
    use_live_topic::<RunsTopic>(move |update| {
        if let TopicUpdate::Event(latest) = update {
            run.set(latest);
        }
    });
    view! {
        <div class="plb-service-card" data-testid="service-card">
            {move || {
                let status = status.get();
                let version = status
                    .version
                    .clone()
                    .map(|v| format!("ProxLB {v}"))
                    .unwrap_or_else(|| "ProxLB, version unknown".to_owned());
                // One element as the closure's root: a fragment with an optional second node
                // here broke hydration of the nodes after it.
                view! {
                    <div class="plb-service-card__status">
                        <p class="plb-service-card__state">
                            <ServiceStateBadge state=status.state />
                            <span data-testid="service-version">{version}</span>
                            <span class="plb-muted" data-testid="service-backend">{format!("· {}", status.backend.label())}</span>
                        </p>
                        {status.problem.clone().map(|problem| view! { <ProblemNote problem demo /> })}
                    </div>
                }
            }}
            <RunCountdown run />
            <div class="plb-service-card__last">
                <span class="plb-service-card__label">"Last run"</span>
                <LastRunPanel run />
            </div>
            <p class="plb-feed__more"><a href="/service">"Service →"</a></p>
        </div>
    }
}
