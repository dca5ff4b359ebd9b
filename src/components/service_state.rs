//! ProxLB's service state in a view: the state badge, the backend's problem (what is wrong and
//! what to do), and the last error lines of a failed run. Shared by the Service view, the Logs
//! view and the dashboard's ProxLB card.

use leptos::prelude::*;
use plb_domain::service::{ProblemKind, ServiceProblem, ServiceState, ServiceStatus};

/// The state as a coloured badge (`running`, `failed`, …).
#[component]
pub fn ServiceStateBadge(state: ServiceState) -> impl IntoView {
    view! {
        <span
            class=format!("plb-service-state plb-service-state--{}", state.label())
            data-testid="service-state"
            data-state=state.label()
        >
            {state.label()}
        </span>
    }
}

/// Whether `problem` only says that ProxLB is not installed here (no interpreter, no module, no
/// backend): in the demo that is a fact to state, not an error.
pub fn not_installed(problem: &ServiceProblem) -> bool {
    matches!(
        problem.kind,
        ProblemKind::InterpreterMissing | ProblemKind::ProxlbMissing | ProblemKind::NoBackend
    )
}

/// The backend's problem: what is wrong and what to do. In the demo, a ProxLB that is not
/// installed is said plainly, as a note rather than an error; `quiet` makes every problem a
/// note (views other than the Service view, which alone goes red).
#[component]
pub fn ProblemNote(
    /// The problem.
    problem: ServiceProblem,
    /// ProxLB Web runs its demo.
    demo: bool,
    /// Show it as a note, not an error.
    #[prop(optional)]
    quiet: bool,
) -> impl IntoView {
    let demo_without_proxlb = demo && not_installed(&problem);
    let (class, role) = if demo_without_proxlb || quiet {
        ("plb-message plb-message--info plb-problem", "status")
    } else {
        ("plb-message plb-message--error plb-problem", "alert")
    };
    view! {
        <div class=class role=role data-testid="service-problem" data-kind=problem_kind_name(problem.kind)>
            {demo_without_proxlb.then(|| view! {
                <p class="plb-problem__title" data-testid="demo-without-proxlb">
                    "ProxLB is not installed here, so this demo runs without it: every cluster view \
                     works, but nothing balances the simulated cluster and there is no log."
                </p>
            })}
            <p class="plb-problem__message">{problem.message.clone()}</p>
            <p class="plb-problem__hint">{problem.hint.clone()}</p>
        </div>
    }
}

/// The name of a problem's kind (for tests and styling).
pub fn problem_kind_name(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::SocketMissing => "socket_missing",
        ProblemKind::PermissionDenied => "permission_denied",
        ProblemKind::ContainerNotFound => "container_not_found",
        ProblemKind::UnitNotFound => "unit_not_found",
        ProblemKind::InterpreterMissing => "interpreter_missing",
        ProblemKind::ProxlbMissing => "proxlb_missing",
        ProblemKind::NoBackend => "no_backend",
        ProblemKind::Unavailable => "unavailable",
    }
}

/// Why a failed run ended: its exit code and its last output lines (a traceback, usually) as one
/// readable block.
#[component]
pub fn FailedRun(status: ServiceStatus) -> impl IntoView {
    let exit = status
        .exit_code
        .map(|code| format!("ProxLB exited with code {code}."))
        .unwrap_or_else(|| "ProxLB ended unexpectedly.".to_owned());
    let lines = status.last_error_lines;
    view! {
        <div class="plb-failed-run" data-testid="failed-run">
            <p class="plb-failed-run__title">
                <strong>{exit}</strong>
                " It stays stopped until someone starts it again: ProxLB's own service does not restart itself."
            </p>
            {(!lines.is_empty()).then(|| view! {
                <pre class="plb-log-block plb-log-block--error" aria-label="The last lines ProxLB wrote" data-testid="failed-run-lines">
                    {lines.join("\n")}
                </pre>
            })}
        </div>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn problem(kind: ProblemKind) -> ServiceProblem {
        ServiceProblem {
            kind,
            message: "No module named proxlb in /opt/venv/bin/python3".into(),
            hint: "Install ProxLB 2.3.0 into that interpreter.".into(),
        }
    }

    #[test]
    fn a_missing_proxlb_is_a_note_in_the_demo_and_an_error_elsewhere() {
        let owner = Owner::new();
        owner.set();
        let demo = view! { <ProblemNote problem=problem(ProblemKind::ProxlbMissing) demo=true /> }
            .to_html();
        assert!(demo.contains("plb-message--info"), "{demo}");
        assert!(demo.contains("this demo runs without it"), "{demo}");
        assert!(demo.contains("Install ProxLB 2.3.0"), "{demo}");
        let real = view! { <ProblemNote problem=problem(ProblemKind::ProxlbMissing) demo=false /> }
            .to_html();
        assert!(real.contains("plb-message--error"), "{real}");
        assert!(real.contains("role=\"alert\""), "{real}");
        assert!(!real.contains("this demo"), "{real}");
        // Other problems are errors even in the demo.
        let socket =
            view! { <ProblemNote problem=problem(ProblemKind::SocketMissing) demo=true /> }
                .to_html();
        assert!(socket.contains("plb-message--error"), "{socket}");
    }

    #[test]
    fn a_failed_run_shows_its_exit_code_and_traceback_as_one_block() {
        let owner = Owner::new();
        owner.set();
        let status = ServiceStatus {
            backend: plb_domain::service::BackendKind::Process,
            target: "python3 -m proxlb".into(),
            state: ServiceState::Failed,
            since_unix_ms: Some(1),
            pid: None,
            exit_code: Some(1),
            last_error_lines: vec![
                "Traceback (most recent call last):".into(),
                "proxmoxer.core.ResourceException: 500 Internal Server Error".into(),
            ],
            version: None,
            problem: None,
        };
        let html = view! { <FailedRun status /> }.to_html();
        assert!(html.contains("exited with code 1"), "{html}");
        assert!(
            html.contains("Traceback (most recent call last):\nproxmoxer.core.ResourceException"),
            "{html}"
        );
    }
}
