//! Per-request limits, as router middleware: how long a handler may take and how large a
//! request body may be. (The per-connection limits live in the accept loop, [`super::serve`].)

use std::future::Future;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::LengthLimitError;

use crate::error::ApiError;

/// How long a handler may take to produce its response head (pages, server functions, REST);
/// past it the client gets `503`. It does not cover a response body that is still streaming,
/// nor a WebSocket after its handshake (the handshake answers at once; the socket then lives in
/// its own task).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request body accepted (1 MiB); larger ones get `413 Payload Too Large`.
/// Server functions post a few form fields; nothing the product accepts comes close.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Answers `503` with an [`ApiError::Unavailable`] body when the handler has not produced its
/// response head within [`REQUEST_TIMEOUT`] (JSON, so the browser's server-function client and
/// REST clients read it like any other error).
/// `next` is the rest of the request's way ([`super::front_door`]).
pub async fn time_limit<Fut: Future<Output = Response>>(
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    within(REQUEST_TIMEOUT, request, next).await
}

async fn within<Fut: Future<Output = Response>>(
    limit: Duration,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next(request)).await {
        Ok(response) => response,
        Err(_elapsed) => {
            tracing::warn!(%path, "request timed out after {limit:?}");
            ApiError::Unavailable {
                service: "ProxLB Web".into(),
            }
            .into_response()
        }
    }
}

/// Refuses request bodies over [`BODY_LIMIT`] with `413` and an [`ApiError`] body.
///
/// A declared `Content-Length` over the limit is refused before a byte of the body is read. A
/// body of unknown length (chunked) is read here, up to the limit, so that an oversized one is
/// a `413` too instead of a read error deep inside a handler (which would answer `400`).
pub async fn limit_body<Fut: Future<Output = Response>>(
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(length) = declared {
        // hyper has checked that the body has exactly this length.
        return if length > BODY_LIMIT as u64 {
            too_large()
        } else {
            next(request).await
        };
    }
    let size = HttpBody::size_hint(request.body());
    if size.upper().is_some_and(|upper| upper <= BODY_LIMIT as u64) {
        return next(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => next(Request::from_parts(parts, Body::from(bytes))).await,
        Err(error) if is_length_limit(&error) => too_large(),
        Err(error) => ApiError::Invalid {
            message: format!("the request body could not be read: {error}"),
        }
        .into_response(),
    }
}

/// Whether reading the body stopped at the limit (rather than on a broken connection).
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

fn too_large() -> Response {
    let error = ApiError::Invalid {
        message: format!("the request body is larger than {} KiB", BODY_LIMIT / 1024),
    };
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn a_slow_handler_answers_a_json_503() {
        let app = Router::new()
            .route(
                "/",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn(
                |request, next: axum::middleware::Next| {
                    within(Duration::from_millis(50), request, |r| next.run(r))
                },
            ));
        let response = app
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let error: ApiError = serde_json::from_str(&body_text(response).await).unwrap();
        assert!(matches!(error, ApiError::Unavailable { .. }), "{error:?}");
    }

    fn echo_length() -> Router {
        Router::new()
            .route(
                "/",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .layer(axum::middleware::from_fn(
                |request, next: axum::middleware::Next| limit_body(request, |r| next.run(r)),
            ))
    }

    fn chunked(total: usize) -> Body {
        let chunks = (0..total.div_ceil(1000)).map(move |i| {
            let size = 1000.min(total - i * 1000);
            Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'a'; size]))
        });
        Body::from_stream(futures::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_chunked_body_within_the_limit_arrives_whole() {
        let response = echo_length()
            .oneshot(Request::post("/").body(chunked(5_500)).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_text(response).await, "5500");
    }

    #[tokio::test]
    async fn a_chunked_body_over_the_limit_is_a_413() {
        let response = echo_length()
            .oneshot(Request::post("/").body(chunked(BODY_LIMIT + 1)).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let error: ApiError = serde_json::from_str(&body_text(response).await).unwrap();
        assert!(matches!(error, ApiError::Invalid { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_unread() {
        let response = echo_length()
            .oneshot(
                Request::post("/")
                    .header(header::CONTENT_LENGTH, BODY_LIMIT + 1)
                    // The body is never read: a short one proves it.
                    .body(Body::from("x"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
