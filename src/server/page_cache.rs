//! Rendered cluster pages, kept for a moment and shared by the requests that would render the
//! same page.
//!
//! At 64 nodes and 10,000 guests one dashboard costs about 3 ms of CPU to render and compress,
//! so 20 clients reloading it kept both cores busy and waited on each other. The cluster views
//! ([`CACHED_PAGES`]) are therefore rendered once and the result is served to every request
//! that would get the same page. A kept page is served only while all of this holds:
//! - same URL (path and query), same `Authorization` and `Cookie` headers (who asks, the
//!   theme): the key is a SHA-256 of them, so one viewer's page never reaches another;
//! - same cluster snapshot: a newly published one renders anew;
//! - no write through this server since (form post, server function, REST write), so whoever
//!   changed something sees it on the next page;
//! - rendered less than [`TTL`] ago, which bounds how old the rest of the page may be
//!   (ProxLB's state and countdown, recent migrations). After hydration the live channel
//!   updates the page anyway.
//!
//! Requests that arrive while their page is being rendered wait for that render instead of
//! starting their own. A page's body is compressed once per content coding, when first asked
//! for. At most [`MAX_PAGES`] pages are kept.
//!
//! A shared body cannot carry a per-response CSP nonce. A kept page is therefore served with a
//! hash-based policy instead: the SHA-256 of each inline script the renderer marked with the
//! render's nonce (markup injected through data cannot know it), as the strict-CSP guidance
//! recommends for cached pages (<https://web.dev/articles/strict-csp>). The nonce attributes
//! stay in the markup but are no longer in any policy.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    COOKIE, SET_COOKIE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use leptos::nonce::Nonce;
use plb_backend::auth::Identity;
use plb_backend::services::cluster::ClusterFeed;
use plb_domain::view::ClusterView;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, OnceCell};

use crate::error::ApiError;
use crate::server::auth::gate::is_read;
use crate::server::auth::headers::InlineScripts;
use crate::server::rest_cache::{self, Coding};

/// How long a rendered page is served.
pub const TTL: Duration = Duration::from_secs(1);

/// Most pages kept at once (each is a few tens of kilobytes, plus its compressed copies).
pub const MAX_PAGES: usize = 32;

/// Larger bodies are served but not kept.
const MAX_BODY: usize = 2 << 20;

/// The pages that are kept: the views of the cluster snapshot (and `/nodes/<name>`). Pages
/// that show secrets once (a new API token), edit files or follow logs are never kept.
pub const CACHED_PAGES: &[&str] = &["/", "/nodes", "/guests", "/balancing", "/rules"];

/// Whether the page at `path` is kept.
pub fn is_cached_page(path: &str) -> bool {
    CACHED_PAGES.contains(&path)
        || path
            .strip_prefix("/nodes/")
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

/// The rendered-page cache of one router. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct PageCache {
    inner: Arc<Inner>,
}

struct Inner {
    /// The cluster service's feed: the view a page would be rendered from.
    feed: watch::Receiver<ClusterFeed>,
    /// Writes that went through this router: a page rendered before one is not served after.
    writes: AtomicU64,
    pages: Mutex<HashMap<[u8; 32], Arc<Slot>>>,
}

/// One page for one key: what it was rendered against and, once rendered, the page.
struct Slot {
    /// The view it was rendered from; weak, so a kept page never keeps old cluster data alive.
    /// (While it exists, the view's allocation cannot be reused, so comparing addresses is sound.)
    view: Weak<ClusterView>,
    writes: u64,
    started: Instant,
    /// `None` once rendered when the answer could not be kept (not a 200 page, too large).
    page: OnceCell<Option<Arc<Page>>>,
}

impl Slot {
    fn serves(&self, view: &Arc<ClusterView>, writes: u64, now: Instant) -> bool {
        std::ptr::eq(self.view.as_ptr(), Arc::as_ptr(view))
            && self.writes == writes
            && now.saturating_duration_since(self.started) < TTL
    }
}

/// A rendered page: its headers, the CSP sources of its inline scripts and its bodies.
struct Page {
    headers: HeaderMap,
    scripts: InlineScripts,
    identity: Bytes,
    gzip: OnceCell<Bytes>,
    brotli: OnceCell<Bytes>,
}

impl Page {
    /// The body in `coding`, compressed at most once per coding, off the async workers.
    async fn body(&self, coding: Coding) -> Result<Bytes, ApiError> {
        let (cell, compress): (_, rest_cache::Compressor) = match coding {
            Coding::Identity => return Ok(self.identity.clone()),
            Coding::Gzip => (&self.gzip, rest_cache::gzip),
            Coding::Brotli => (&self.brotli, rest_cache::brotli),
        };
        let packed = cell
            .get_or_try_init(|| {
                let plain = self.identity.clone();
                rest_cache::off_the_workers(move || compress(&plain))
            })
            .await?;
        Ok(packed.clone())
    }

    async fn respond(&self, coding: Coding) -> Response {
        let body = match self.body(coding).await {
            Ok(body) => body,
            Err(error) => return error.into_response(),
        };
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = self.headers.clone();
        let headers = response.headers_mut();
        if let Some(coding) = coding.content_encoding() {
            headers.insert(CONTENT_ENCODING, coding);
        }
        headers.append(VARY, HeaderValue::from_static("Accept-Encoding"));
        response.extensions_mut().insert(self.scripts.clone());
        response
    }
}

impl PageCache {
    /// An empty cache for the views `feed` publishes.
    pub fn new(feed: watch::Receiver<ClusterFeed>) -> Self {
        Self {
            inner: Arc::new(Inner {
                feed,
                writes: AtomicU64::new(0),
                pages: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The view a page would show now, once there is data.
    fn current_view(&self) -> Option<Arc<ClusterView>> {
        let feed = self.inner.feed.borrow();
        feed.view()
            .filter(|view| view.overview.meta.fetched_at_unix.is_some())
            .cloned()
    }

    /// The slot of `key` for `view`: the kept one while it serves, else a new one.
    fn slot(&self, key: [u8; 32], view: &Arc<ClusterView>) -> Arc<Slot> {
        let writes = self.inner.writes.load(Ordering::Acquire);
        let now = Instant::now();
        let mut pages = self
            .inner
            .pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = pages.get(&key) {
            if slot.serves(view, writes, now) {
                return Arc::clone(slot);
            }
        }
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, slot| slot.serves(view, writes, now));
        }
        if pages.len() >= MAX_PAGES {
            let oldest = pages
                .iter()
                .min_by_key(|(_, slot)| slot.started)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                pages.remove(&oldest);
            }
        }
        let slot = Arc::new(Slot {
            view: Arc::downgrade(view),
            writes,
            started: now,
            page: OnceCell::new(),
        });
        pages.insert(key, Arc::clone(&slot));
        slot
    }

    fn wrote(&self) {
        self.inner.writes.fetch_add(1, Ordering::AcqRel);
    }
}

/// The middleware (see the module docs). Sits inside authentication: only signed-in requests
/// reach it, with their [`Identity`]. `next` is the rest of the request's way
/// ([`super::front_door`]).
pub async fn serve_pages<Fut: Future<Output = Response>>(
    cache: &PageCache,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let method = request.method().clone();
    if !is_read(&method) {
        let response = next(request).await;
        // After the write is done: a page rendered while it ran is not served after it.
        cache.wrote();
        return response;
    }
    let keep = method == Method::GET
        && is_cached_page(request.uri().path())
        && request.extensions().get::<Identity>().is_some();
    let view = keep.then(|| cache.current_view()).flatten();
    let (Some(view), Some(nonce)) = (view, request.extensions().get::<Nonce>().cloned()) else {
        return next(request).await;
    };
    let coding = Coding::negotiate(request.headers().get(ACCEPT_ENCODING));
    let slot = cache.slot(key_of(&request), &view);

    let mut own = Some((request, next));
    let mut not_kept = None;
    let page = slot
        .page
        .get_or_init(|| async {
            let (request, next) = own.take()?;
            match keep_page(next(request).await, &nonce).await {
                Ok(page) => Some(Arc::new(page)),
                Err(response) => {
                    not_kept = Some(response);
                    None
                }
            }
        })
        .await
        .clone();
    match (page, not_kept, own) {
        (Some(page), _, _) => page.respond(coding).await,
        // This request rendered it, and it could not be kept.
        (None, Some(response), _) => response,
        // Another request rendered it and could not keep it: this one renders its own.
        (None, None, Some((request, next))) => next(request).await,
        (None, None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The key of a request's page: its URL and the headers the render reads (credentials,
/// cookies), digested.
fn key_of(request: &Request) -> [u8; 32] {
    let mut digest = Sha256::new();
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    digest.update(target.as_bytes());
    for name in [AUTHORIZATION, COOKIE] {
        for value in request.headers().get_all(&name) {
            // Separators no header value contains keep the parts apart.
            digest.update(b"\0");
            digest.update(name.as_str().as_bytes());
            digest.update(b"\n");
            digest.update(value.as_bytes());
        }
    }
    digest.finalize().into()
}

/// The page of `response` to keep, or the response (to serve as it is) when it is not one.
async fn keep_page(response: Response, nonce: &Nonce) -> Result<Page, Response> {
    let headers = response.headers();
    let html = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let no_store = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .any(|value| value.as_bytes().windows(8).any(|w| w == b"no-store"));
    if response.status() != StatusCode::OK
        || !html
        || no_store
        || headers.contains_key(SET_COOKIE)
        || headers.contains_key(CONTENT_ENCODING)
    {
        return Err(response);
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => return Err(ApiError::internal(error).into_response()),
    };
    let hashes = match std::str::from_utf8(&bytes) {
        Ok(text) if bytes.len() <= MAX_BODY => inline_script_hashes(text, nonce),
        _ => return Err(Response::from_parts(parts, Body::from(bytes))),
    };
    let scripts = InlineScripts(hashes.into());
    parts.headers.remove(CONTENT_LENGTH);
    Ok(Page {
        headers: parts.headers,
        scripts,
        identity: bytes,
        gzip: OnceCell::new(),
        brotli: OnceCell::new(),
    })
}

/// The CSP hash sources (`'sha256-…'`) of the inline scripts in `html` that carry `nonce`,
/// in order. Leptos writes its own scripts as `<script nonce="…">` or
/// `<script type="module" nonce="…">`; the script's text is hashed as the browser sees it (a
/// script element's text is raw: no entities are decoded).
pub fn inline_script_hashes(html: &str, nonce: &str) -> Vec<String> {
    let marker = format!(" nonce=\"{nonce}\"");
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(found) = html[from..].find(&marker) {
        let at = from + found;
        from = at + marker.len();
        let Some(open) = html[..at].rfind('<') else {
            continue;
        };
        if !html[open..at].starts_with("<script") || html[open..at].contains('>') {
            continue;
        }
        let Some(tag_end) = html[from..].find('>') else {
            break;
        };
        let text_start = from + tag_end + 1;
        let Some(text_len) = html[text_start..].find("</script>") else {
            break;
        };
        let text = &html[text_start..text_start + text_len];
        hashes.push(format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(text.as_bytes()))
        ));
        from = text_start + text_len;
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(text: &str) -> String {
        format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text)))
    }

    #[test]
    fn only_the_scripts_with_the_nonce_are_hashed() {
        let html = concat!(
            r#"<head><link rel="modulepreload" href="/pkg/a.js" crossorigin="n0nce">"#,
            r#"<script type="module" nonce="n0nce">import("/pkg/a.js")</script></head>"#,
            r#"<body><p title="<script nonce=&quot;guess&quot;>">x</p>"#,
            r#"<script>alert(1)</script>"#,
            r#"<script nonce="other">alert(2)</script>"#,
            r#"<script nonce="n0nce">__RESOLVED_RESOURCES=[1];</script></body>"#,
        );
        assert_eq!(
            inline_script_hashes(html, "n0nce"),
            vec![
                sha(r#"import("/pkg/a.js")"#),
                sha("__RESOLVED_RESOURCES=[1];")
            ]
        );
    }

    #[test]
    fn a_nonce_outside_a_script_tag_is_not_a_script() {
        let html = r#"<div nonce="n0nce">text</div><script nonce="n0nce"></script>"#;
        assert_eq!(inline_script_hashes(html, "n0nce"), vec![sha("")]);
    }

    #[test]
    fn the_cluster_views_are_kept_and_the_rest_is_not() {
        for path in [
            "/",
            "/nodes",
            "/nodes/pve01",
            "/guests",
            "/balancing",
            "/rules",
        ] {
            assert!(is_cached_page(path), "{path}");
        }
        for path in [
            "/account",
            "/audit",
            "/config",
            "/logs",
            "/service",
            "/login",
            "/migrations",
            "/nodes/",
            "/nodes/a/b",
            "/api/nodes",
            "/sfn/x",
        ] {
            assert!(!is_cached_page(path), "{path}");
        }
    }

    #[test]
    fn a_slot_serves_one_view_until_a_write_or_its_time_is_up() {
        let meta = plb_domain::view::SnapshotMeta::default();
        let make = || {
            Arc::new(plb_domain::view::build_cluster_view(
                &plb_domain::proxlb::ClusterSnapshot::default(),
                &plb_domain::proxlb::ProxLbConfig::with_api(vec!["pve.invalid".into()], "root@pam"),
                meta.clone(),
                &plb_domain::view::ClusterExtras::default(),
                0,
                0,
            ))
        };
        let (view, newer) = (make(), make());
        let started = Instant::now();
        let slot = Slot {
            view: Arc::downgrade(&view),
            writes: 3,
            started,
            page: OnceCell::new(),
        };
        assert!(slot.serves(&view, 3, started));
        assert!(slot.serves(&view, 3, started + TTL - Duration::from_millis(1)));
        assert!(!slot.serves(&view, 3, started + TTL));
        assert!(!slot.serves(&view, 4, started), "a write since");
        assert!(!slot.serves(&newer, 3, started), "another view");
    }

    #[test]
    fn keys_differ_by_url_and_credentials_only() {
        let request = |uri: &str, headers: &[(&str, &str)]| {
            let mut builder = Request::get(uri);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder.body(Body::empty()).unwrap_or_default()
        };
        let alice = request("/", &[("authorization", "Bearer a")]);
        assert_eq!(
            key_of(&alice),
            key_of(&request(
                "/",
                &[("authorization", "Bearer a"), ("accept", "text/html")]
            ))
        );
        assert_ne!(
            key_of(&alice),
            key_of(&request("/", &[("authorization", "Bearer b")]))
        );
        assert_ne!(
            key_of(&alice),
            key_of(&request("/nodes", &[("authorization", "Bearer a")]))
        );
        assert_ne!(
            key_of(&request("/", &[("cookie", "plb_theme=dark")])),
            key_of(&request("/", &[("cookie", "plb_theme=light")]))
        );
        assert_ne!(
            key_of(&request("/guests?q=a", &[])),
            key_of(&request("/guests?q=b", &[]))
        );
    }
}
