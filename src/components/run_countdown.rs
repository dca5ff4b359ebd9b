//! Where ProxLB's runs are: the countdown to the next run (from the `Next run in` line's
//! transport time, see `plb_domain::runs`), the run in progress, and how the last run ended.
//! Shared by the dashboard's ProxLB card and the Service view.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use plb_domain::runs::{RunOutcome, RunState, RunSummary, SleepReason};
use plb_domain::units::{format_clock_utc, format_duration, plural};

use crate::components::clock::{ago, use_clock};

/// The run state at `now_ms` in words: a headline and a detail line.
pub fn describe_run(run: &RunState, now_ms: i64) -> (String, String) {
    let clock = |ms: i64| format_clock_utc(u64::try_from(ms.div_euclid(1000)).unwrap_or(0));
    match run.at(now_ms) {
        RunState::Idle => (
            "No run seen yet".to_owned(),
            "ProxLB Web has not seen ProxLB run since it started.".to_owned(),
        ),
        RunState::Running { since_unix_ms } => (
            "Running now".to_owned(),
            format!(
                "Started at {} ({}). Its result appears when it ends.",
                clock(since_unix_ms),
                ago(since_unix_ms, now_ms)
            ),
        ),
        RunState::Sleeping {
            until_unix_ms,
            reason,
            ..
        } => {
            let left = u64::try_from((until_unix_ms - now_ms).max(0) / 1000).unwrap_or(0);
            let why = match reason {
                SleepReason::Schedule => "on its schedule",
                SleepReason::ServiceDelay => "after its start delay (service.delay)",
            };
            (
                format!("Next run in {}", format_duration(left)),
                format!("At {}, {why}.", clock(until_unix_ms)),
            )
        }
        RunState::Stopped { since_unix_ms } => (
            "Not running".to_owned(),
            format!(
                "ProxLB has not been running since {} ({}): no run is due.",
                clock(since_unix_ms),
                ago(since_unix_ms, now_ms)
            ),
        ),
    }
}

/// The countdown to the next run (or what runs now), ticking every second in the browser.
#[component]
pub fn RunCountdown(
    /// The run state, as the server last told.
    #[prop(into)]
    run: Signal<RunState>,
) -> impl IntoView {
    let now = use_clock();
    let described = Memo::new(move |_| run.with(|run| describe_run(run, now.get())));
    view! {
        <div
            class=move || format!("plb-countdown plb-countdown--{}", run.with(|r| r.at(now.get()).as_str()))
            data-testid="run-countdown"
            data-state=move || run.with(|r| r.at(now.get()).as_str())
            data-next-run=move || run.with(|r| r.next_run_at().map(|at| at.to_string()))
        >
            <p class="plb-countdown__headline">{move || described.get().0}</p>
            <p class="plb-countdown__detail plb-muted">{move || described.get().1}</p>
        </div>
    }
}

/// How a run ended (or goes), for people: a level (`ok`, `warn`, `crit`, `info`) and a text.
pub fn describe_outcome(run: &RunSummary) -> (&'static str, String) {
    let moves = if run.migrations_started == 0 {
        String::new()
    } else if run.migrations_failed == 0 {
        format!(
            ": {} started",
            plural(run.migrations_started, "migration", "migrations")
        )
    } else {
        format!(
            ": {} started, {} failed",
            plural(run.migrations_started, "migration", "migrations"),
            run.migrations_failed
        )
    };
    match &run.outcome {
        RunOutcome::InProgress => ("info", format!("In progress{moves}")),
        RunOutcome::Balanced if run.migrations_started == 0 => {
            ("ok", "Balanced: nothing needed to move".to_owned())
        }
        RunOutcome::Balanced => ("ok", format!("Balanced{moves}")),
        RunOutcome::SomeFailed => ("warn", format!("Some migrations failed{moves}")),
        RunOutcome::NoBalancing => (
            "ok",
            "No balancing: nothing to move, a dry run, or balancing disabled".to_owned(),
        ),
        RunOutcome::NotHaManager => (
            "info",
            "Skipped: this node is not the HA manager".to_owned(),
        ),
        RunOutcome::Crashed { exception, detail } => {
            let first = detail.lines().next().unwrap_or_default();
            (
                "crit",
                format!("Crashed: {exception} {first}")
                    .trim_end()
                    .to_owned(),
            )
        }
        RunOutcome::Failed { reason } => ("crit", format!("Failed: {reason}")),
        RunOutcome::Interrupted => (
            "warn",
            "Interrupted: ProxLB was stopped while it ran".to_owned(),
        ),
    }
}

/// The last run: when it ran and how it ended.
#[component]
pub fn LastRun(run: RunSummary) -> impl IntoView {
    let now = use_clock();
    let (level, text) = describe_outcome(&run);
    let ended = run.ended_unix_ms.unwrap_or(run.started_unix_ms);
    let took = run.ended_unix_ms.map(|end| {
        format_duration(u64::try_from((end - run.started_unix_ms).max(0) / 1000).unwrap_or(0))
    });
    view! {
        <p class="plb-last-run" data-testid="last-run">
            <span class=format!("plb-result plb-last-run__outcome plb-last-run__outcome--{level}")>{text}</span>
            // One text node: adjacent text nodes are fragile to hydrate.
            <span class="plb-muted">
                {move || {
                    let took = took.as_ref().map(|took| format!(", took {took}")).unwrap_or_default();
                    let partial = if run.partial { " (seen in part: ProxLB Web started while it ran)" } else { "" };
                    format!(" · {}{took}{partial}", ago(ended, now.get()))
                }}
            </span>
        </p>
    }
}

/// The last run, refetched whenever the run state changes (a run that ends changes it).
#[component]
pub fn LastRunPanel(
    /// The run state, following the live channel.
    #[prop(into)]
    run: Signal<RunState>,
) -> impl IntoView {
    let last = api_resource(
        move || run.with(|r| r.as_str()),
        |_| async move {
            crate::api::service::get_proxlb_overview()
                .await
                .map(|overview| overview.last_run)
        },
    );
    view! {
        <Transition>
            {move || Suspend::new(async move {
                match last.await {
                    Ok(Some(run)) => view! { <LastRun run /> }.into_any(),
                    Ok(None) => view! {
                        <p class="plb-last-run plb-muted" data-testid="last-run">"No run has ended since ProxLB Web started."</p>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <p class="plb-last-run plb-muted" data-testid="last-run">{error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000_000;

    #[test]
    fn a_sleep_counts_down_and_then_is_a_run() {
        let run = RunState::Sleeping {
            since_unix_ms: T,
            until_unix_ms: T + 300_000,
            reason: SleepReason::Schedule,
        };
        let (headline, detail) = describe_run(&run, T + 48_000);
        assert_eq!(headline, "Next run in 4m 12s");
        assert!(detail.starts_with("At 22:18:20 UTC"), "{detail}");
        assert_eq!(describe_run(&run, T + 300_000).0, "Running now");
    }

    #[test]
    fn outcomes_say_what_happened() {
        let mut run = RunSummary {
            started_unix_ms: T,
            ended_unix_ms: Some(T + 4_000),
            migrations_started: 3,
            migrations_failed: 1,
            outcome: RunOutcome::SomeFailed,
            partial: false,
        };
        assert_eq!(
            describe_outcome(&run),
            (
                "warn",
                "Some migrations failed: 3 migrations started, 1 failed".to_owned()
            )
        );
        run.outcome = RunOutcome::Crashed {
            exception: "proxmoxer.core.ResourceException".into(),
            detail: "500 Internal Server Error\nmore".into(),
        };
        assert_eq!(
            describe_outcome(&run).1,
            "Crashed: proxmoxer.core.ResourceException 500 Internal Server Error"
        );
        run.outcome = RunOutcome::Balanced;
        run.migrations_started = 0;
        assert_eq!(describe_outcome(&run).1, "Balanced: nothing needed to move");
    }
}
