//! Security headers on every response, and the per-request CSP nonce.
//!
//! - `Content-Security-Policy` as an HTTP header (a `<meta>` cannot carry `frame-ancestors`).
//!   Pages: scripts only from this server or inline with this response's nonce (Leptos puts it
//!   on its hydration script) — or, for a page body shared by several responses, inline scripts
//!   with the hashes the response lists ([`InlineScripts`]), `'wasm-unsafe-eval'` to compile the WASM bundle, styles from this
//!   server, `style-src-attr 'unsafe-inline'` for the width of meter bars
//!   (`components/meter.rs` sets `style="width: …%"`), connections (server functions, the live
//!   WebSocket) to this server only, no framing, no `<base>`, forms to this server only. Other
//!   answers (JSON, files) get `default-src 'none'`.
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`,
//!   `X-Frame-Options: DENY` (for browsers without `frame-ancestors`).
//! - Dynamic answers (everything but `/pkg/` files) carry `Cache-Control: private` unless the
//!   handler chose one, and `Vary: Cookie, Authorization`: they depend on who asks, so no shared
//!   cache may hand them to someone else.
//!
//! The nonce is made here, put into the request's extensions for the router to hand to Leptos
//! (`provide_context`), and written into the header of the same response.

use std::future::Future;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use leptos::nonce::Nonce;

use super::paths;

/// What the policy depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderConfig {
    /// Development mode: cargo-leptos' live-reload WebSocket on another port must connect.
    pub dev_mode: bool,
}

/// A response extension: the page's inline scripts, as CSP hash sources (`'sha256-…'`), to
/// allow instead of a nonce. A page body shared by several responses
/// ([`crate::server::page_cache`]) cannot carry each one's nonce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InlineScripts(pub Arc<[String]>);

/// The policy of pages (HTML), with `nonce`.
pub fn page_policy(nonce: &str, config: HeaderConfig) -> String {
    page_policy_allowing(&format!("'nonce-{nonce}'"), config)
}

/// The policy of pages whose inline scripts are the ones `scripts` lists by hash.
pub fn page_policy_for_scripts(scripts: &InlineScripts, config: HeaderConfig) -> String {
    page_policy_allowing(&scripts.0.join(" "), config)
}

/// The policy of pages, with `inline` (space-separated sources) allowing inline scripts.
fn page_policy_allowing(inline: &str, config: HeaderConfig) -> String {
    let reload = if config.dev_mode { " ws: wss:" } else { "" };
    format!(
        "default-src 'self'; \
         script-src 'self' {inline} 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of everything that is not a page (JSON, files).
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Whether `path` may answer with a page (HTML): anything but the REST API, server functions,
/// the live channel and static files.
fn may_be_page(path: &str) -> bool {
    !(paths::is_rest(path)
        || path.starts_with("/sfn/")
        || path.starts_with("/ws/")
        || path.starts_with(paths::STATIC_PREFIX))
}

/// The middleware (see the module docs); `next` is the rest of the request's way
/// ([`crate::server::front_door`]).
pub async fn security_headers<Fut: Future<Output = Response>>(
    config: HeaderConfig,
    mut request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let path = request.uri().path();
    let page = may_be_page(path);
    let dynamic = !path.starts_with(paths::STATIC_PREFIX);
    let nonce = page.then(Nonce::new);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(nonce.clone());
    }
    let mut response = next(request).await;
    let scripts = response.extensions_mut().remove::<InlineScripts>();
    let headers = response.headers_mut();
    let policy = match (&nonce, scripts) {
        (Some(_), Some(scripts)) => {
            HeaderValue::from_str(&page_policy_for_scripts(&scripts, config))
        }
        (Some(nonce), None) => HeaderValue::from_str(&page_policy(nonce, config)),
        (None, _) => Ok(HeaderValue::from_static(OTHER_POLICY)),
    };
    if let Ok(policy) = policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if dynamic {
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
        }
        headers.append(
            header::VARY,
            HeaderValue::from_static("Cookie, Authorization"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_this_server_and_the_nonce() {
        let p = page_policy("abc123", HeaderConfig::default());
        assert!(
            p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"),
            "{p}"
        );
        assert!(p.contains("frame-ancestors 'none'"), "{p}");
        assert!(p.contains("base-uri 'none'"), "{p}");
        assert!(p.contains("form-action 'self'"), "{p}");
        assert!(p.contains("connect-src 'self';"), "{p}");
        assert!(!p.contains(" 'unsafe-eval'"), "{p}");
        assert!(!p.contains("script-src-attr"), "{p}");
        let dev = page_policy("n", HeaderConfig { dev_mode: true });
        assert!(dev.contains("connect-src 'self' ws: wss:"), "{dev}");
    }

    #[test]
    fn only_pages_get_a_nonce() {
        assert!(may_be_page("/"));
        assert!(may_be_page("/login"));
        assert!(may_be_page("/nodes/pve1"));
        assert!(!may_be_page("/api/nodes"));
        assert!(!may_be_page("/sfn/cluster_overview"));
        assert!(!may_be_page("/pkg/proxlb_web.js"));
        assert!(!may_be_page("/ws/live"));
    }
}
