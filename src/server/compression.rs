//! On-the-fly compression of answers, except those the REST cache already encoded.
//!
//! Pages, server functions and most JSON are compressed per response by tower-http's
//! [`Compression`]. The cluster endpoints of the REST API (`/api/cluster`, `/api/nodes`,
//! `/api/guests`, `/api/rules`) answer from [`super::rest_cache`], which compressed each body
//! once per view in the coding the client takes and set `Vary: accept-encoding` itself; the
//! compression service would only wrap them to pass them through, which costs a few
//! microseconds per request (docs/benchmarks.md, "The floor under `/api/nodes` at 200
//! clients"). Requests for those paths skip it.

use std::convert::Infallible;
use std::task::{ready, Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures::future::{Either, Map};
use futures::FutureExt;
use tower::Service;
use tower_http::compression::{Compression, CompressionBody, CompressionLevel};

use crate::server::rest;

/// The inner service, behind compression or not, by path (see the module docs).
#[derive(Clone)]
pub struct CompressUnlessEncoded<S> {
    plain: S,
    compressed: Compression<S>,
}

impl<S: Clone> CompressUnlessEncoded<S> {
    /// `inner`, compressing at `level` what the REST cache has not encoded already.
    pub fn new(inner: S, level: CompressionLevel) -> Self {
        Self {
            compressed: Compression::new(inner.clone()).quality(level),
            plain: inner,
        }
    }
}

type Compressed = Result<Response<CompressionBody<Body>>, Infallible>;

/// Boxes the compressed body into axum's body type, so both ways answer alike.
fn erase(result: Compressed) -> Result<Response, Infallible> {
    result.map(|response| response.map(Body::new))
}

impl<S> Service<Request> for CompressUnlessEncoded<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        S::Future,
        Map<
            <Compression<S> as Service<Request>>::Future,
            fn(Compressed) -> Result<Response, Infallible>,
        >,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Either way may take the next call, so both must be ready (axum's are, always).
        ready!(self.plain.poll_ready(cx))?;
        self.compressed.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if rest::is_encoded_once(request.uri().path()) {
            Either::Left(self.plain.call(request))
        } else {
            Either::Right(
                self.compressed
                    .call(request)
                    .map(erase as fn(Compressed) -> Result<Response, Infallible>),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    /// Answers every path with the same plain JSON, well over the 32 bytes worth compressing.
    fn plain_json() -> Router {
        let body = format!("[{}0]", "0,".repeat(500));
        Router::new().fallback(get(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }))
    }

    async fn coding_of(path: &str) -> Option<String> {
        let service = CompressUnlessEncoded::new(plain_json(), CompressionLevel::Fastest);
        let request = Request::get(path)
            .header(ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        let response = service.oneshot(request).await.unwrap();
        response
            .headers()
            .get(CONTENT_ENCODING)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn only_the_answers_the_rest_cache_encodes_skip_compression() {
        for path in ["/api/cluster", "/api/nodes", "/api/guests", "/api/rules"] {
            assert_eq!(coding_of(path).await, None, "{path}");
        }
        for path in [
            "/api/guests/pve1",
            "/api/config",
            "/sfn/cluster_overview",
            "/",
        ] {
            assert_eq!(coding_of(path).await.as_deref(), Some("gzip"), "{path}");
        }
    }
}
