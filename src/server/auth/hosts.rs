//! The `Host` allow-list (`PROXLB_WEB_ALLOWED_HOSTS`), against DNS rebinding.
//!
//! In a DNS rebinding attack a page on `evil.example` makes its own name resolve to this
//! server, so the browser sends `Host: evil.example` to us, as same-origin requests of the
//! attacker's page. With the list set, such requests are refused with `421 Misdirected Request`
//! before anything else runs.
//!
//! Unset, any `Host` is served, and that is still safe for everything behind the login: the
//! session cookie belongs to the real host name, so a rebound page's requests carry no session
//! and get only the login page and `401`s; it cannot log in either without a password. What it
//! can reach unauthenticated is `/healthz` (version and uptime) and static files. Set the list
//! when even that matters, or when the server is reachable under one known name.

use std::future::Future;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use plb_backend::settings::access::AccessSettings;

use crate::error::ApiError;

/// Refuses requests whose `Host` (or HTTP/2 authority) is not in the allow-list with `421` and
/// an [`ApiError::Forbidden`] body. A no-op when the list is empty.
pub async fn require_allowed_host<Fut: Future<Output = Response>>(
    access: &AccessSettings,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    if access.allowed_hosts.is_empty() {
        return next(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if access.host_allowed(&host) => next(request).await,
        _ => {
            tracing::info!(host = ?host, path = %request.uri().path(),
                "request for a host that is not in PROXLB_WEB_ALLOWED_HOSTS refused");
            let error = ApiError::Forbidden {
                message: "this server does not answer to that host name \
                          (see PROXLB_WEB_ALLOWED_HOSTS)"
                    .into(),
            };
            (StatusCode::MISDIRECTED_REQUEST, Json(error)).into_response()
        }
    }
}
