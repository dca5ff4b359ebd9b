//! Server functions of "ask real ProxLB": the estimate shown before starting, start (operators,
//! audited), the slot's status (polled while it runs) and cancel. The backend's
//! `BalancingService::ask_*` does the work.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use plb_domain::balancing::wire::Candidate;
use plb_domain::proxlb::ask::{AskEstimate, AskStatus};

use crate::error::ApiError;

/// About how many requests one run with `candidate` (or the saved configuration) sends, to which
/// hosts, and whether the backend can run ProxLB once.
#[server(prefix = "/sfn", endpoint = "balancing_ask_estimate", input = Json)]
pub async fn get_ask_estimate(candidate: Option<Candidate>) -> Result<AskEstimate, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?
        .balancing
        .ask_estimate(candidate.as_ref())
        .await?)
}

/// Starts one real ProxLB `-d -j` run (operators, audited).
#[server(prefix = "/sfn", endpoint = "balancing_ask_start", input = Json)]
pub async fn start_ask_proxlb(candidate: Option<Candidate>) -> Result<AskStatus, ApiError> {
    let who = crate::api::auth::require_operator()?;
    Ok(crate::api::app_state()?
        .balancing
        .ask_proxlb(&who, candidate)
        .await?)
}

/// The ask slot: idle, running, or how the last run ended.
#[server(prefix = "/sfn", endpoint = "balancing_ask_status")]
pub async fn get_ask_status() -> Result<AskStatus, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?.balancing.ask_status())
}

/// Cancels the run in progress (operators, audited).
#[server(prefix = "/sfn", endpoint = "balancing_ask_cancel")]
pub async fn cancel_ask_proxlb() -> Result<AskStatus, ApiError> {
    let who = crate::api::auth::require_operator()?;
    Ok(crate::api::app_state()?.balancing.cancel_ask(&who).await?)
}
