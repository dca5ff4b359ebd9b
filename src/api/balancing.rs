//! Server functions of the Balancing view: the page's data (settings, plan, whether a run may
//! start), the guest explainer, the what-if of a candidate (called debounced while the form
//! changes), saving the settings and "run now". Permissions, audit and the lossless write are
//! the backend's (`BalancingService`).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use plb_domain::balancing::answer::{BalancingPlan, GuestAnswer, WhatIfAnswer};
use plb_domain::balancing::settings::BalancingSettings;
use plb_domain::balancing::wire::{Candidate, RunStarted, SaveRefusal, SettingsView};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Everything the Balancing view shows at first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancingPageData {
    /// The settings, digest and run-now state.
    pub settings: SettingsView,
    /// ProxLB's plan now; `Err` says why there is none (no snapshot yet).
    pub plan: Result<BalancingPlan, String>,
}

/// The answer of a save.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SaveAnswer {
    /// Written (or nothing needed writing); the new digest.
    Saved {
        /// The file's digest now.
        digest: String,
    },
    /// Out of range or stale.
    Refused(SaveRefusal),
    /// ProxLB would reject the file: its errors with line and column.
    Rejected {
        /// `line L, column C: message`.
        issues: Vec<String>,
    },
}

/// The URL parameter of the plan's page of moves (its first move's position in the plan).
pub const MOVES_FROM_PARAM: &str = "moves_from";

/// The page's data (anyone signed in), with the plan's page of moves from position
/// `moves_from`.
#[server(prefix = "/sfn", endpoint = "balancing_page")]
pub async fn get_balancing_page(moves_from: usize) -> Result<BalancingPageData, ApiError> {
    crate::api::auth::require_user()?;
    let balancing = crate::api::app_state()?.balancing.clone();
    let settings = balancing.settings().await?;
    let plan = balancing
        .plan_page(moves_from)
        .await
        .map_err(|e| ApiError::from(e).to_string());
    Ok(BalancingPageData { settings, plan })
}

/// Another page of today's plan (the view's "Next moves" with JavaScript).
#[server(prefix = "/sfn", endpoint = "balancing_moves")]
pub async fn get_plan_page(moves_from: usize) -> Result<BalancingPlan, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?
        .balancing
        .plan_page(moves_from)
        .await?)
}

/// Why the guest `query` (VMID or name) moves or stays, with every candidate node when it moves.
#[server(prefix = "/sfn", endpoint = "balancing_explain")]
pub async fn explain_guest(query: String) -> Result<GuestAnswer, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?.balancing.explain(&query).await?)
}

/// Today's plan and the candidate's side by side (nothing is written).
#[server(prefix = "/sfn", endpoint = "balancing_what_if", input = Json)]
pub async fn plan_what_if(candidate: Candidate) -> Result<WhatIfAnswer, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?
        .balancing
        .what_if(&candidate)
        .await?
        .into_first_pages())
}

/// Saves the settings if the file still has `digest` (operators, audited).
#[server(prefix = "/sfn", endpoint = "balancing_save", input = Json)]
pub async fn save_balancing(
    digest: String,
    settings: BalancingSettings,
) -> Result<SaveAnswer, ApiError> {
    use plb_backend::services::balancing::save::SaveError;

    let who = crate::api::auth::require_operator()?;
    let state = crate::api::app_state()?;
    let ctx = crate::server::config_rest::context(&state).await;
    match state.balancing.save(&who, &digest, settings, ctx).await {
        Ok(saved) => {
            let digest = match saved.digest {
                Some(d) => d.0,
                None => digest,
            };
            Ok(SaveAnswer::Saved { digest })
        }
        Err(SaveError::Refused(refusal)) => Ok(SaveAnswer::Refused(refusal)),
        Err(SaveError::Rejected(report)) => Ok(SaveAnswer::Rejected {
            issues: report
                .errors
                .iter()
                .map(|e| format!("line {}, column {}: {}", e.line, e.column, e.message))
                .collect(),
        }),
        Err(SaveError::Other(error)) => Err(error.into()),
    }
}

/// The URL parameter with the outcome of a run now posted without JavaScript
/// ([`RUN_STARTED`] or [`RUN_REFUSED`]).
pub const RUN_PARAM: &str = "run";
/// [`RUN_PARAM`]: the run was started.
pub const RUN_STARTED: &str = "started";
/// [`RUN_PARAM`]: the run was refused (the page says why).
pub const RUN_REFUSED: &str = "refused";

/// The URL parameter with the outcome of a save posted without JavaScript: [`SAVED`], or why
/// not ([`describe_save_outcome`]).
pub const SAVE_PARAM: &str = "save";
/// [`SAVE_PARAM`]: written.
pub const SAVED: &str = "saved";

/// What a save's outcome word in [`SAVE_PARAM`] means, for people; `None` for unknown words.
pub fn describe_save_outcome(word: &str) -> Option<Result<&'static str, &'static str>> {
    Some(match word {
        SAVED => Ok("Saved. ProxLB applies it on its next run after a reload or restart."),
        "unconfirmed" => Err("Tick the confirmation to write the settings; nothing was written."),
        "conflict" => Err("The file changed since you loaded it; nothing was written. Check the values and save again."),
        "invalid" => Err("A value is out of range; nothing was written."),
        "rejected" => Err("ProxLB would reject the resulting file; nothing was written. The Configuration view shows why."),
        "forbidden" | "unauthorized" => Err("Only operators can change balancing."),
        "not_found" | "unavailable" | "not_configured" | "internal" | "transport" => {
            Err("Saving failed on the server; the server log has the details.")
        }
        _ => return None,
    })
}

pub use plain::{save_balancing_form, SaveBalancingForm};

/// The plain-form save in a module of its own: a form of 19 fields is 19 arguments, which
/// clippy's `too_many_arguments` flags in code the server macro generates.
#[allow(clippy::too_many_arguments)]
mod plain {
    use leptos::prelude::*;

    #[cfg(feature = "ssr")]
    use super::{save_balancing, SaveAnswer, SAVED, SAVE_PARAM};
    #[cfg(feature = "ssr")]
    use plb_domain::balancing::settings::BalancingSettings;
    #[cfg(feature = "ssr")]
    use plb_domain::balancing::wire::SaveRefusal;

    use crate::error::ApiError;

    /// The settings form posted without JavaScript (checkboxes are absent when off). Same checks,
    /// write path and audit as [`save_balancing`]; redirected back with the outcome in
    /// [`SAVE_PARAM`]. The form asks for a confirmation checkbox instead of a dialog.
    #[server(prefix = "/sfn", endpoint = "balancing_save_form")]
    pub async fn save_balancing_form(
        digest: String,
        confirm: Option<String>,
        enable: Option<String>,
        method: String,
        mode: String,
        balanciness: String,
        memory_threshold: String,
        cpu_threshold: String,
        disk_threshold: String,
        balance_vm: Option<String>,
        balance_ct: Option<String>,
        larger_first: Option<String>,
        parallel: Option<String>,
        parallel_jobs: String,
        live: Option<String>,
        with_local_disks: Option<String>,
        with_conntrack_state: Option<String>,
        schedule_interval: String,
        schedule_format: String,
    ) -> Result<(), ApiError> {
        use plb_domain::proxlb::config::{BalanceType, Mode, Resource, TimeFormat};

        let state = crate::api::app_state()?;
        let current = state.balancing.settings().await?.settings;
        let int = |text: &str, fallback: i64| text.trim().parse().unwrap_or(fallback);
        let opt = |text: &str| text.trim().parse().ok();
        let mut types = Vec::new();
        if balance_vm.is_some() {
            types.push(BalanceType::Vm);
        }
        if balance_ct.is_some() {
            types.push(BalanceType::Ct);
        }
        let settings = BalancingSettings {
            enable: enable.is_some(),
            method: match method.as_str() {
                "cpu" => Resource::Cpu,
                "disk" => Resource::Disk,
                _ => Resource::Memory,
            },
            mode: match mode.as_str() {
                "assigned" => Mode::Assigned,
                "psi" => Mode::Psi,
                _ => Mode::Used,
            },
            balanciness: int(&balanciness, current.balanciness),
            memory_threshold: opt(&memory_threshold),
            cpu_threshold: opt(&cpu_threshold),
            disk_threshold: opt(&disk_threshold),
            balance_types: types,
            balance_larger_guests_first: larger_first.is_some(),
            parallel: parallel.is_some(),
            parallel_jobs: int(&parallel_jobs, current.parallel_jobs),
            live: live.is_some(),
            with_local_disks: with_local_disks.is_some(),
            with_conntrack_state: with_conntrack_state.is_some(),
            schedule_interval: int(&schedule_interval, current.schedule_interval),
            schedule_format: if schedule_format == "minutes" {
                TimeFormat::Minutes
            } else {
                TimeFormat::Hours
            },
            psi_nodes: current.psi_nodes,
            psi_guests: current.psi_guests,
        };
        let outcome = if confirm.is_none() {
            "unconfirmed"
        } else {
            match save_balancing(digest, settings).await {
                Ok(SaveAnswer::Saved { .. }) => SAVED,
                Ok(SaveAnswer::Refused(SaveRefusal::Conflict { .. })) => "conflict",
                Ok(SaveAnswer::Refused(SaveRefusal::Invalid { .. })) => "invalid",
                Ok(SaveAnswer::Rejected { .. }) => "rejected",
                Err(error) => crate::api::service::error_kind(&error),
            }
        };
        leptos_axum::redirect(&format!("/balancing?{SAVE_PARAM}={outcome}"));
        Ok(())
    }
}

/// Starts one real ProxLB run now (operators, audited), or says why not. A plain form post (no
/// JavaScript) is redirected back to the view with the outcome in [`RUN_PARAM`].
#[server(prefix = "/sfn", endpoint = "balancing_run_now")]
pub async fn run_now() -> Result<RunStarted, ApiError> {
    let result = start_run().await;
    if crate::api::account::plain_form_post() {
        let outcome = if result.is_ok() {
            RUN_STARTED
        } else {
            RUN_REFUSED
        };
        leptos_axum::redirect(&format!("/balancing?{RUN_PARAM}={outcome}"));
    }
    result
}

#[cfg(feature = "ssr")]
async fn start_run() -> Result<RunStarted, ApiError> {
    let who = crate::api::auth::require_operator()?;
    Ok(crate::api::app_state()?.balancing.run_now(&who).await?)
}
