//! Server-function errors answer with their own HTTP status.
//!
//! `server_fn` (0.8) sends every error as `500` with its `serverfnerror` header
//! (`server_fn::response::http`, `Res::error_response`), so a malformed request body or an
//! unknown node would read as a server fault: clients retry it, and the trace layer logs it as an
//! error. This middleware reads the [`ApiError`] out of such a reply and sets the status that
//! goes with it ([`ApiError::status_code`]): `400` for bad input, `404` for what is not there,
//! `500` only for real internal failures. The browser's client treats every status from 400 to
//! 599 as an error, so it decodes the same error as before.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use crate::error::ApiError;

/// An encoded `ApiError` is a few hundred bytes; anything bigger is left as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Gives a server-function error reply the status of the error it carries.
pub async fn error_status<Fut: Future<Output = Response>>(
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let response = next(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "server function error reply could not be read");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}
