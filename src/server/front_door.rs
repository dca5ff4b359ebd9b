//! The way every request takes to its handler: the checks and decorations of the other modules,
//! composed into one middleware.
//!
//! Each step is a plain async function that takes the rest of the way as a continuation
//! (`next`), so the compiler nests them into one future, boxed once per request. As nine axum
//! `from_fn` layers they cost a boxed future and a clone of the inner service each: about 5 µs
//! per request on an otherwise empty axum server (docs/benchmarks.md, "The floor under
//! `/api/nodes` at 200 clients"; in this server the difference is within run-to-run noise, see
//! "One middleware instead of nine").
//!
//! The order, outermost first, and why:
//! 1. [`limits::time_limit`]: times everything below up to the response head;
//! 2. [`headers::security_headers`]: every answer, refusals included, carries them;
//! 3. [`hosts::require_allowed_host`]: DNS rebinding, a foreign `Host` is refused before
//!    anything else looks at the request;
//! 4. [`origin::require_same_origin`]: before the body is read (a refused write costs no
//!    upload) and before authentication (a cross-site request learns nothing of the session);
//! 5. [`gate::authenticate`]: who is asking; signed-out requests end here, before the body is
//!    read;
//! 6. [`page_cache::serve_pages`]: inside authentication, so it knows who asks, and outside the
//!    handlers, so it sees every write;
//! 7. [`limits::limit_body`], then [`sfn_status::error_status`];
//! 8. [`gzip_only::decompress_when_needed`]: before the static file handler, since the image
//!    ships its WASM only compressed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use plb_backend::AppState;

use crate::server::auth::headers::{self, HeaderConfig};
use crate::server::auth::{gate, hosts};
use crate::server::page_cache::{self, PageCache};
use crate::server::{gzip_only, limits, origin, sfn_status};

/// What the steps need, shared by every request.
#[derive(Clone)]
pub struct FrontDoor(Arc<Parts>);

struct Parts {
    state: AppState,
    pages: PageCache,
}

impl FrontDoor {
    /// The steps for `state`'s settings, with `pages` as the page cache.
    pub fn new(state: AppState, pages: PageCache) -> Self {
        Self(Arc::new(Parts { state, pages }))
    }
}

/// The middleware: `request` through every step (see the module docs) to `next`, the router.
pub async fn admit(State(door): State<FrontDoor>, request: Request, next: Next) -> Response {
    let door = &door.0;
    let settings = &door.state.settings;
    let header_config = HeaderConfig {
        dev_mode: settings.dev_mode,
    };
    let to_handler = |request| {
        gzip_only::decompress_when_needed(&settings.site_root, request, |request| next.run(request))
    };
    limits::time_limit(request, |request| {
        headers::security_headers(header_config, request, |request| {
            hosts::require_allowed_host(&settings.access, request, |request| {
                origin::require_same_origin(request, |request| {
                    gate::authenticate(&door.state, request, |request| {
                        page_cache::serve_pages(&door.pages, request, |request| {
                            limits::limit_body(request, |request| {
                                sfn_status::error_status(request, to_handler)
                            })
                        })
                    })
                })
            })
        })
    })
    .await
}
