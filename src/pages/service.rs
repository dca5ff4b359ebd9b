//! The Service view (`/service`): ProxLB's state (since when, exit code and the last lines of a
//! failed run), its version, the backend that runs it, where its runs are, and start, stop,
//! restart and reload, each behind a confirmation.
//!
//! The actions are plain forms in the confirmation dialog ([`ConfirmDialog`]), so they work
//! without JavaScript (the server function redirects back with the outcome in the URL). With
//! JavaScript the state follows the live channel's `service` and `runs` topics. A backend that
//! cannot be used turns only this panel red, with the cause and what to do.

use crate::api::resource::{api_resource, ApiResource};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use plb_domain::calendar::format_datetime_utc;
use plb_domain::live::{RunsTopic, ServiceTopic};
use plb_domain::service::{ServiceAction, ServiceState, ServiceStatus};
use plb_domain::ServerInfo;

use crate::api::service::{
    describe_error_kind, get_proxlb_overview, ActOnService, ProxlbOverview, DONE_PARAM,
    FAILED_PARAM, WHY_PARAM,
};
use crate::components::clock::{ago, use_clock};
use crate::components::confirm_dialog::{confirm_href, use_confirm_key, ConfirmDialog};
use crate::components::error_panel::ErrorPanel;
use crate::components::live_client::{use_live_topic, TopicUpdate};
use crate::components::page_header::PageHeader;
use crate::components::run_countdown::{LastRunPanel, RunCountdown};
use crate::components::service_state::{FailedRun, ProblemNote, ServiceStateBadge};
use crate::components::user_menu::use_current_user;
use crate::error::ApiError;

/// The view's path.
const PATH: &str = "/service";

/// The actions in the order the view offers them.
const ACTIONS: [ServiceAction; 4] = [
    ServiceAction::Start,
    ServiceAction::Stop,
    ServiceAction::Restart,
    ServiceAction::Reload,
];

/// ProxLB's state, version and backend, with start, stop, restart and reload.
#[component]
pub fn ServicePage() -> impl IntoView {
    let act = ServerAction::<ActOnService>::new();
    // Loaded once: afterwards the live channel and the actions' answers keep it current.
    let overview = api_resource(|| (), |_| get_proxlb_overview());
    let user = use_current_user();
    let info = expect_context::<ApiResource<Result<ServerInfo, ApiError>>>();

    // With JavaScript a confirmed action closes its dialog by leaving the confirmation URL.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(act.value().get(), Some(Ok(_))) {
            navigate(
                PATH,
                NavigateOptions {
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    });

    view! {
        <PageHeader title="Service" subtitle="ProxLB itself: is it running, which version, how it runs, and start, stop, restart or reload it." />
        <Transition fallback=|| view! { <p class="plb-loading">"Asking ProxLB's backend…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let overview = overview.await?;
                    let can_operate = user.await.ok().flatten().is_some_and(|u| u.can_operate());
                    let demo = info.await.is_ok_and(|info| info.demo);
                    Ok::<_, ApiError>(view! { <ServicePanels overview can_operate demo act /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The service panel and the runs panel, following the live channel.
#[component]
fn ServicePanels(
    overview: ProxlbOverview,
    can_operate: bool,
    demo: bool,
    act: ServerAction<ActOnService>,
) -> impl IntoView {
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
    // The answer of an action is the state right after it.
    Effect::new(move |_| {
        if let Some(Ok(latest)) = act.value().get() {
            status.set(latest);
        }
    });
    view! {
        <div class="plb-service-page">
            <Outcome act />
            {move || view! { <ServicePanel status=status.get() can_operate demo /> }}
            <section class="plb-card plb-service-runs" aria-labelledby="service-runs">
                <h2 class="plb-card__title" id="service-runs">"Runs"</h2>
                <RunCountdown run />
                <h3 class="plb-service-runs__subtitle">"Last run"</h3>
                <LastRunPanel run />
            </section>
        </div>
        <ActionDialogs status=status.into() can_operate act />
    }
}

/// What the last action did: from the action (JavaScript) or from the URL after a plain post.
#[component]
fn Outcome(act: ServerAction<ActOnService>) -> impl IntoView {
    let query = use_query_map();
    let from_url = move || {
        query.with(|q| {
            if let Some(action) = q.get_str(DONE_PARAM).and_then(ServiceAction::parse) {
                return Some(Ok(action));
            }
            let action = q.get_str(FAILED_PARAM).and_then(ServiceAction::parse)?;
            let why = q.get_str(WHY_PARAM).and_then(describe_error_kind);
            Some(Err(format!(
                "{} failed. {}",
                action_title(action),
                why.unwrap_or("")
            )))
        })
    };
    // The input is cleared when the action completes: remember which one it was.
    let submitted = RwSignal::new(None::<ServiceAction>);
    Effect::new(move |_| {
        if let Some(input) = act.input().get() {
            submitted.set(ServiceAction::parse(input.action.trim()));
        }
    });
    let from_action = move || {
        act.value().get().map(|result| {
            let action = submitted.get().unwrap_or(ServiceAction::Restart);
            match result {
                Ok(_) => Ok(action),
                Err(error) => Err(format!("{} failed: {error}", action_title(action))),
            }
        })
    };
    move || {
        from_action().or_else(from_url).map(|outcome| match outcome {
            Ok(action) => view! {
                <p class="plb-message plb-message--ok" role="status" data-testid="service-outcome">
                    {done_text(action)}
                </p>
            }
            .into_any(),
            Err(text) => view! {
                <p class="plb-message plb-message--error" role="alert" data-testid="service-outcome">
                    {text}
                </p>
            }
            .into_any(),
        })
    }
}

/// The state, the backend's problem, a failed run, the facts and the action buttons.
#[component]
fn ServicePanel(status: ServiceStatus, can_operate: bool, demo: bool) -> impl IntoView {
    let now = use_clock();
    let red = status
        .problem
        .as_ref()
        .is_some_and(|p| !(demo && crate::components::service_state::not_installed(p)))
        || status.state == ServiceState::Failed;
    let class = if red {
        "plb-card plb-service plb-service--problem"
    } else {
        "plb-card plb-service"
    };
    let since = status.since_unix_ms;
    let failed = (status.state == ServiceState::Failed).then(|| status.clone());
    view! {
        <section class=class aria-labelledby="service-title" data-testid="service-panel">
            <h2 class="plb-card__title" id="service-title">"ProxLB"</h2>
            <p class="plb-service__state">
                <ServiceStateBadge state=status.state />
                {since.map(|since| view! {
                    <span class="plb-service__since">
                        " since " {format_datetime_utc(since.div_euclid(1000))}
                        <span class="plb-muted">" (" {move || ago(since, now.get())} ")"</span>
                    </span>
                })}
            </p>
            {status.problem.clone().map(|problem| view! { <ProblemNote problem demo /> })}
            {failed.map(|status| view! { <FailedRun status /> })}
            <dl class="plb-facts plb-service__facts" data-testid="service-facts">
                <dt>"Version"</dt>
                <dd data-testid="service-version">
                    {status.version.clone().map(|v| format!("ProxLB {v}")).unwrap_or_else(|| "unknown".to_owned())}
                </dd>
                <dt>"Runs as"</dt>
                <dd data-testid="service-backend">{status.backend.label()}</dd>
                <dt>"Controls"</dt>
                <dd><code data-testid="service-target">{status.target.clone()}</code></dd>
                {status.pid.map(|pid| view! { <dt>"Process id"</dt> <dd class="plb-num">{pid}</dd> })}
                {status.exit_code.map(|code| view! { <dt>"Last exit code"</dt> <dd class="plb-num">{code}</dd> })}
            </dl>
            <ActionButtons status can_operate />
            <p class="plb-muted plb-service__reload-note">
                "Reload sends SIGHUP: ProxLB re-reads its configuration only after its current sleep \
                 ends (12 hours by default) and never reconnects to the Proxmox API on reload. To apply \
                 a change now, or a change of the API connection, restart it."
            </p>
        </section>
    }
}

/// Why `action` cannot be taken now, if it cannot.
fn unavailable_because(action: ServiceAction, status: &ServiceStatus) -> Option<&'static str> {
    if status.problem.is_some() {
        return Some("ProxLB's backend cannot be used right now (see above).");
    }
    let state = status.state;
    match (action, state) {
        (_, ServiceState::Restarting) => Some("An action is in progress."),
        (_, ServiceState::Unknown) => Some("ProxLB's state is unknown."),
        (ServiceAction::Start, ServiceState::Running) => Some("ProxLB is running."),
        (ServiceAction::Stop, ServiceState::Stopped | ServiceState::Failed) => {
            Some("ProxLB is not running.")
        }
        (ServiceAction::Reload, ServiceState::Stopped | ServiceState::Failed) => {
            Some("ProxLB is not running.")
        }
        _ => None,
    }
}

/// The four action buttons: links to their confirmation, or disabled with the reason.
#[component]
fn ActionButtons(status: ServiceStatus, can_operate: bool) -> impl IntoView {
    view! {
        <div class="plb-service__actions" role="group" aria-label="Actions">
            {ACTIONS
                .into_iter()
                .map(|action| {
                    let label = format!("{}…", action_title(action));
                    let danger = matches!(action, ServiceAction::Stop | ServiceAction::Restart);
                    let why = if can_operate { unavailable_because(action, &status) } else { Some("") };
                    match why {
                        None => {
                            let class = if danger {
                                "plb-button plb-button--danger-quiet"
                            } else {
                                "plb-button plb-button--quiet"
                            };
                            view! {
                                <a class=class href=confirm_href(PATH, action.as_str()) data-action=action.as_str()>
                                    {label}
                                </a>
                            }
                            .into_any()
                        }
                        Some(reason) => view! {
                            <button
                                class="plb-button plb-button--quiet"
                                type="button"
                                disabled
                                title=reason
                                aria-describedby=(!can_operate).then_some("service-viewer-note")
                                data-action=action.as_str()
                            >
                                {label}
                            </button>
                        }
                        .into_any(),
                    }
                })
                .collect_view()}
        </div>
        {(!can_operate).then(|| view! {
            <p class="plb-muted" id="service-viewer-note" data-testid="service-viewer-note">
                "Only operators can start, stop, restart or reload ProxLB; you are signed in as a viewer."
            </p>
        })}
    }
}

/// The confirmation dialog of the action the URL asks to confirm.
#[component]
fn ActionDialogs(
    status: Signal<ServiceStatus>,
    can_operate: bool,
    act: ServerAction<ActOnService>,
) -> impl IntoView {
    let confirm = use_confirm_key();
    let asked = move || {
        let action = confirm.get().as_deref().and_then(ServiceAction::parse)?;
        (can_operate && unavailable_because(action, &status.get()).is_none()).then_some(action)
    };
    move || asked().map(|action| view! { <ActionDialog action act /> })
}

#[component]
fn ActionDialog(action: ServiceAction, act: ServerAction<ActOnService>) -> impl IntoView {
    let (title, body) = confirmation(action);
    let error = move || {
        act.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    let danger = matches!(action, ServiceAction::Stop | ServiceAction::Restart);
    view! {
        <ConfirmDialog title body cancel_href=PATH>
            {move || error().map(|text| view! {
                <p class="plb-message plb-message--error" role="alert">{text}</p>
            })}
            <ActionForm action=act>
                <input type="hidden" name="action" value=action.as_str() />
                <button
                    class=if danger { "plb-button plb-button--danger" } else { "plb-button" }
                    type="submit"
                    autofocus
                    disabled=move || act.pending().get()
                    data-testid="confirm-action"
                >
                    {move || if act.pending().get() { format!("{}…", progress_text(action)) } else { action_title(action).to_owned() }}
                </button>
            </ActionForm>
        </ConfirmDialog>
    }
}

/// The action's name on its button.
fn action_title(action: ServiceAction) -> &'static str {
    match action {
        ServiceAction::Start => "Start",
        ServiceAction::Stop => "Stop",
        ServiceAction::Restart => "Restart",
        ServiceAction::Reload => "Reload",
    }
}

fn progress_text(action: ServiceAction) -> &'static str {
    match action {
        ServiceAction::Start => "Starting",
        ServiceAction::Stop => "Stopping",
        ServiceAction::Restart => "Restarting",
        ServiceAction::Reload => "Reloading",
    }
}

/// What an action did, once it did.
fn done_text(action: ServiceAction) -> &'static str {
    match action {
        ServiceAction::Start => "ProxLB was started.",
        ServiceAction::Stop => "ProxLB was stopped.",
        ServiceAction::Restart => {
            "ProxLB was restarted; its first run starts now (unless service.delay is set)."
        }
        ServiceAction::Reload => {
            "ProxLB was asked to reload; it re-reads its configuration after its current sleep."
        }
    }
}

/// The confirmation's question and what will happen.
fn confirmation(action: ServiceAction) -> (&'static str, &'static str) {
    match action {
        ServiceAction::Start => (
            "Start ProxLB?",
            "ProxLB starts and runs a balancing pass at once (unless service.delay is set): it may \
             migrate guests right away.",
        ),
        ServiceAction::Stop => (
            "Stop ProxLB?",
            "ProxLB stops cleanly; nothing is balanced until someone starts it again. Migrations \
             already running in Proxmox VE finish on their own.",
        ),
        ServiceAction::Restart => (
            "Restart ProxLB?",
            "ProxLB stops and starts again, and the new process runs a balancing pass at once \
             (unless service.delay is set): it may migrate guests right away. This is how to run \
             it now and how to apply changes to the Proxmox API connection.",
        ),
        ServiceAction::Reload => (
            "Reload ProxLB's configuration?",
            "ProxLB re-reads proxlb.yaml only after its current sleep ends (12 hours by default), \
             and never reconnects to the Proxmox API on reload: a changed connection needs a restart.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use plb_domain::service::{BackendKind, ProblemKind, ServiceProblem};

    use super::*;

    fn status(state: ServiceState) -> ServiceStatus {
        ServiceStatus {
            backend: BackendKind::Process,
            target: "python3 -m proxlb -c /etc/proxlb/proxlb.yaml".into(),
            state,
            since_unix_ms: Some(1_700_000_000_000),
            pid: None,
            exit_code: None,
            last_error_lines: Vec::new(),
            version: Some("2.3.0".into()),
            problem: None,
        }
    }

    #[test]
    fn actions_fit_the_state() {
        let running = status(ServiceState::Running);
        assert_eq!(unavailable_because(ServiceAction::Stop, &running), None);
        assert_eq!(unavailable_because(ServiceAction::Restart, &running), None);
        assert_eq!(unavailable_because(ServiceAction::Reload, &running), None);
        assert!(unavailable_because(ServiceAction::Start, &running).is_some());
        let failed = status(ServiceState::Failed);
        assert_eq!(unavailable_because(ServiceAction::Start, &failed), None);
        assert_eq!(unavailable_because(ServiceAction::Restart, &failed), None);
        assert!(unavailable_because(ServiceAction::Stop, &failed).is_some());
        assert!(unavailable_because(ServiceAction::Reload, &failed).is_some());
        for action in ACTIONS {
            assert!(unavailable_because(action, &status(ServiceState::Restarting)).is_some());
        }
    }

    #[test]
    fn a_backend_problem_disables_every_action() {
        let broken = ServiceStatus {
            problem: Some(ServiceProblem {
                kind: ProblemKind::SocketMissing,
                message: "/var/run/docker.sock does not exist".into(),
                hint: "Mount the Docker socket.".into(),
            }),
            ..status(ServiceState::Unknown)
        };
        for action in ACTIONS {
            assert!(unavailable_because(action, &broken).is_some());
        }
    }

    #[test]
    fn reload_says_when_it_applies() {
        let (_, body) = confirmation(ServiceAction::Reload);
        assert!(body.contains("after its current sleep"));
        assert!(body.contains("never reconnects"));
    }
}
