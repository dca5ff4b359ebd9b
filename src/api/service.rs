//! Server functions of the Service view and the dashboard's ProxLB card: ProxLB's state and its
//! run state, and the actions on it (start, stop, restart, reload).
//!
//! [`act_on_service`] is what the Service view's confirmation dialogs post. With JavaScript it
//! answers in place; a plain form post (no JavaScript) is redirected back to
//! `/service?done=<action>`, or `/service?failed=<action>&why=<error kind>` when it failed, since
//! the error itself cannot travel through the redirect. Permissions, the audit record and the
//! "one action at a time" rule are the backend's (`ProxlbService::act`).

use leptos::prelude::*;
use plb_domain::runs::{RunState, RunSummary};
use plb_domain::service::ServiceStatus;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The URL parameter naming the action that just succeeded after a plain form post.
pub const DONE_PARAM: &str = "done";

/// The URL parameter naming the action that just failed after a plain form post.
pub const FAILED_PARAM: &str = "failed";

/// The URL parameter with the failed action's error kind ([`error_kind`]).
pub const WHY_PARAM: &str = "why";

/// ProxLB at a glance: the service's state and where its runs are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxlbOverview {
    /// The service's state, as its backend reports it.
    pub service: ServiceStatus,
    /// Where ProxLB's runs are, as its log tells.
    pub run: RunState,
    /// The last run that ended, if ProxLB Web saw one.
    pub last_run: Option<RunSummary>,
}

/// ProxLB's state and run state (anyone signed in).
#[server(prefix = "/sfn", endpoint = "proxlb_overview")]
pub async fn get_proxlb_overview() -> Result<ProxlbOverview, ApiError> {
    crate::api::auth::require_user()?;
    let proxlb = crate::api::app_state()?.proxlb.clone();
    Ok(ProxlbOverview {
        service: proxlb.status(),
        run: proxlb.logs.run_state(),
        last_run: proxlb.logs.last_run(),
    })
}

/// Carries out `action` (`start`, `stop`, `restart` or `reload`) on ProxLB: operators only,
/// audited. Answers the state afterwards; a plain form post is redirected back to the Service
/// view with the outcome in the URL.
#[server(prefix = "/sfn", endpoint = "service_action")]
pub async fn act_on_service(action: String) -> Result<ServiceStatus, ApiError> {
    use plb_domain::service::ServiceAction;

    let result = run_action(&action).await;
    if crate::api::account::plain_form_post() {
        let target = match &result {
            Ok(_) => format!(
                "/service?{DONE_PARAM}={}",
                ServiceAction::parse(action.trim()).map_or("action", ServiceAction::as_str)
            ),
            Err(error) => format!(
                "/service?{FAILED_PARAM}={}&{WHY_PARAM}={}",
                ServiceAction::parse(action.trim()).map_or("action", ServiceAction::as_str),
                error_kind(error)
            ),
        };
        leptos_axum::redirect(&target);
        // The browser follows the redirect and reads the outcome from the URL.
        return result.or_else(|_| proxlb_status());
    }
    result
}

#[cfg(feature = "ssr")]
async fn run_action(action: &str) -> Result<ServiceStatus, ApiError> {
    use plb_domain::service::ServiceAction;

    let who = crate::api::auth::require_operator()?;
    let action = ServiceAction::parse(action.trim()).ok_or_else(|| ApiError::Invalid {
        message: "the action must be start, stop, restart or reload".into(),
    })?;
    let proxlb = crate::api::app_state()?.proxlb.clone();
    Ok(proxlb.act(&who, action).await?)
}

#[cfg(feature = "ssr")]
fn proxlb_status() -> Result<ServiceStatus, ApiError> {
    Ok(crate::api::app_state()?.proxlb.status())
}

/// The wire name of `error`'s kind (`forbidden`, `conflict`, …), for [`WHY_PARAM`].
pub fn error_kind(error: &ApiError) -> &'static str {
    match error {
        ApiError::NotFound { .. } => "not_found",
        ApiError::Invalid { .. } => "invalid",
        ApiError::NotConfigured { .. } => "not_configured",
        ApiError::Unauthorized { .. } => "unauthorized",
        ApiError::Forbidden { .. } => "forbidden",
        ApiError::Conflict { .. } => "conflict",
        ApiError::Unavailable { .. } => "unavailable",
        ApiError::Internal { .. } => "internal",
        ApiError::Transport { .. } => "transport",
    }
}

/// What a failed action's error kind ([`error_kind`]) means, for people; `None` for a word that
/// is not a kind (the URL is the user's to edit).
pub fn describe_error_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "forbidden" | "unauthorized" => "You may not do this: only operators control ProxLB.",
        "conflict" => "Another action on ProxLB was still running; try again when it is done.",
        "invalid" => "The request was not understood.",
        "unavailable" | "not_configured" => {
            "ProxLB's backend could not be reached; the panel below says why."
        }
        "not_found" => "ProxLB's service was not found; the panel below says why.",
        "internal" | "transport" => "It failed on the server; the server log has the details.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_a_description() {
        let errors = [
            ApiError::NotFound { what: "x".into() },
            ApiError::Invalid {
                message: "x".into(),
            },
            ApiError::NotConfigured {
                reason: "x".into(),
                hint: "y".into(),
            },
            ApiError::Unauthorized {
                message: "x".into(),
            },
            ApiError::Forbidden {
                message: "x".into(),
            },
            ApiError::Conflict {
                message: "x".into(),
                current: None,
            },
            ApiError::Unavailable {
                service: "x".into(),
            },
            ApiError::Internal {
                incident: "x".into(),
            },
            ApiError::Transport {
                message: "x".into(),
            },
        ];
        for error in &errors {
            assert!(
                describe_error_kind(error_kind(error)).is_some(),
                "{error:?}"
            );
        }
        assert_eq!(describe_error_kind("<script>"), None);
    }
}
