//! The rendered-page cache end to end on the demo cluster: a cluster view is rendered once per
//! snapshot, viewer and moment, never shared between viewers, rendered anew after a write, and
//! served with a CSP that allows exactly its inline scripts.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read as _;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, VARY};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use plb_domain::auth::TokenScope;
use proxlb_web::server::page_cache::TTL;
use sha2::{Digest, Sha256};
use support::{next_view, quiet_demo, token, TestApp};

/// The nonce the page was rendered with (Leptos puts it on its module script): the same value
/// in two answers means one render.
fn render_nonce(body: &str) -> String {
    let marker = "<script type=\"module\" nonce=\"";
    let start = body.find(marker).expect("a hydration script") + marker.len();
    let len = body[start..].find('"').unwrap();
    body[start..start + len].to_owned()
}

async fn page(app: &TestApp, uri: &str, bearer: &str) -> (StatusCode, HeaderMap, String) {
    app.send(
        Request::get(uri)
            .header("authorization", format!("Bearer {bearer}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_view_is_rendered_once_per_snapshot() {
    let app = quiet_demo().await;
    let (status, _, first) = page(&app, "/", &app.token).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, again) = page(&app, "/", &app.token).await;
    assert_eq!(
        render_nonce(&first),
        render_nonce(&again),
        "served as rendered"
    );
    assert_eq!(first, again);

    // Another URL is another page.
    let (_, _, nodes) = page(&app, "/nodes", &app.token).await;
    assert_ne!(render_nonce(&nodes), render_nonce(&first));

    next_view(&app.state).await;
    let (_, _, newer) = page(&app, "/", &app.token).await;
    assert_ne!(
        render_nonce(&newer),
        render_nonce(&first),
        "a new snapshot renders anew"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_served_for_one_second_at_most() {
    let app = quiet_demo().await;
    let (_, _, first) = page(&app, "/rules", &app.token).await;
    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    let (_, _, later) = page(&app, "/rules", &app.token).await;
    assert_ne!(render_nonce(&later), render_nonce(&first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_never_get_each_others_pages() {
    let app = quiet_demo().await;
    let reader = token(&app.state, "reader", TokenScope::Read).await;
    let (_, _, operator_page) = page(&app, "/", &app.token).await;
    let (status, _, reader_page) = page(&app, "/", &reader).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(render_nonce(&reader_page), render_nonce(&operator_page));
    assert!(operator_page.contains("token:tests") && !operator_page.contains("token:reader"));
    assert!(reader_page.contains("token:reader") && !reader_page.contains("token:tests"));

    // The theme cookie is part of the key: the page carries the theme it was asked with.
    let themed = |theme: &'static str| {
        app.request(Method::GET, "/")
            .header(
                "cookie",
                format!("{}={theme}", plb_domain::theme::THEME_COOKIE),
            )
            .body(Body::empty())
            .unwrap()
    };
    let (_, _, dark) = app.send(themed("dark")).await;
    let (_, _, light) = app.send(themed("light")).await;
    assert!(dark.contains("data-theme=\"dark\""), "dark page");
    assert!(light.contains("data-theme=\"light\""), "light page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_renders_the_next_page_anew() {
    let app = quiet_demo().await;
    let (_, _, before) = page(&app, "/", &app.token).await;
    let (status, _, _) = app
        .send(
            app.browser(Method::POST, "/api/tokens")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"name":"made-now","scope":"read"}"#))
                .unwrap(),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let (_, _, after) = page(&app, "/", &app.token).await;
    assert_ne!(render_nonce(&after), render_nonce(&before));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_pages_are_rendered_per_request() {
    let app = quiet_demo().await;
    let (_, _, first) = page(&app, "/account", &app.token).await;
    let (_, _, again) = page(&app, "/account", &app.token).await;
    assert_ne!(render_nonce(&first), render_nonce(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_page_allows_exactly_its_inline_scripts() {
    let app = quiet_demo().await;
    let (_, headers, body) = page(&app, "/guests", &app.token).await;
    let policy = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(!policy.contains("'nonce-"), "{policy}");

    // Every inline script of the page, hashed here on its own.
    let nonce = render_nonce(&body);
    let mut expected = Vec::new();
    for (start, _) in body.match_indices("<script") {
        let tag_end = start + body[start..].find('>').unwrap();
        if body[start..tag_end].contains(" src=") {
            continue;
        }
        assert!(
            body[start..tag_end].contains(&format!("nonce=\"{nonce}\"")),
            "an inline script without the render's nonce: {}",
            &body[start..tag_end]
        );
        let text_len = body[tag_end + 1..].find("</script>").unwrap();
        let text = &body[tag_end + 1..tag_end + 1 + text_len];
        expected.push(format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(text.as_bytes()))
        ));
    }
    assert!(
        expected.len() >= 2,
        "the module script and the resolved data"
    );
    let script_src = policy
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("script-src "))
        .unwrap();
    let allowed: Vec<&str> = script_src
        .split_whitespace()
        .filter(|source| source.starts_with("'sha256-"))
        .collect();
    assert_eq!(allowed, expected, "{script_src}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_page_is_served_in_the_coding_asked_for() {
    let app = quiet_demo().await;
    let (_, _, plain) = page(&app, "/nodes", &app.token).await;
    let brotli = app
        .send(
            app.request(Method::GET, "/nodes")
                .header(ACCEPT_ENCODING, "br")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(brotli.1[CONTENT_ENCODING], "br");
    assert!(brotli
        .1
        .get_all(VARY)
        .iter()
        .any(|v| v.to_str().unwrap().contains("Accept-Encoding")));
    // `send` reads the body as text: compare the decompressed bytes instead.
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        app.request(Method::GET, "/nodes")
            .header(ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let packed = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let mut unpacked = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain, "the same page, gzipped");
}
