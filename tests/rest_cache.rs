//! The REST API's encode-once cache end to end on the demo cluster: one encode per view
//! version however many clients ask, `ETag`/`If-None-Match` round trips, and precompressed
//! gzip and br bodies that the router's compression layer leaves alone.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read as _;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use proxlb_web::server::rest;
use proxlb_web::server::rest_cache::RestCache;
use proxlb_web::server::state::{leptos_options, ServerState};
use support::{next_view, quiet_demo as demo_app};
use tower::ServiceExt;

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_guest_requests_of_one_version_encode_once() {
    let demo = demo_app().await;
    let state = demo.state.clone();
    // The REST routes alone, with a cache whose counters the test reads.
    let cache = RestCache::new();
    let app = Router::new()
        .merge(rest::routes_with_cache(cache.clone()))
        .with_state(ServerState::new(
            leptos_options(&state.settings),
            state.clone(),
        ));

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let app = app.clone();
        requests.spawn(async move { get(&app, "/api/guests", &[]).await });
    }
    let mut bodies = Vec::new();
    while let Some(answer) = requests.join_next().await {
        let (status, _, body) = answer.unwrap();
        assert_eq!(status, StatusCode::OK);
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(cache.encodes(), 1, "one view version, one encode");

    // A new view: the previous body is served while the new one is encoded (once, in the
    // background), then the new one.
    let old = etag_of(&app, "/api/guests", &[]).await;
    next_view(&state).await;
    let new = newer_etag(&app, "/api/guests", &[], &old).await;
    for _ in 0..5 {
        assert_eq!(etag_of(&app, "/api/guests", &[]).await, new);
    }
    assert_eq!(cache.encodes(), 2, "a new version encodes once more");
}

/// The ETag of `uri`'s answer (which must be 200).
async fn etag_of(app: &Router, uri: &str, headers: &[(&str, &str)]) -> String {
    let (status, answer, _) = get(app, uri, headers).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    answer[ETAG].to_str().unwrap().to_owned()
}

/// Asks `uri` until its answer carries an ETag other than `old` (the new view's body is ready)
/// and returns it.
async fn newer_etag(app: &Router, uri: &str, headers: &[(&str, &str)], old: &str) -> String {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let etag = etag_of(app, uri, headers).await;
            if etag != old {
                break etag;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the new view's answer")
}

#[tokio::test]
async fn etag_round_trip_gives_304_without_a_body() {
    let demo = demo_app().await;
    let (app, state, bearer) = (&demo.router, &demo.state, demo.bearer());
    let auth = ("authorization", bearer.as_str());
    for uri in [
        "/api/nodes",
        "/api/guests",
        "/api/cluster",
        "/api/rules",
        "/api/guests/pve1",
    ] {
        let (status, headers, body) = get(app, uri, &[auth]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(!body.is_empty());
        let etag = headers.get(ETAG).unwrap().to_str().unwrap().to_owned();
        assert_eq!(headers[CACHE_CONTROL], "private, no-cache");
        // Who asks and in which coding, each named once: the handler names the coding, the
        // security-headers layer cookie and token.
        let mut vary: Vec<String> = headers
            .get_all(VARY)
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect();
        vary.sort();
        assert_eq!(
            vary,
            ["accept-encoding", "authorization", "cookie"],
            "{uri}"
        );

        let (status, headers, body) = get(
            app,
            uri,
            &[
                auth,
                ("if-none-match", &etag),
                ("accept-encoding", "gzip, br"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(body.is_empty(), "{uri}: a 304 has no body");
        assert_eq!(headers[ETAG], etag.as_str());
        assert!(headers.get(CONTENT_ENCODING).is_none(), "{uri}");
    }

    // A new view is a new answer once its body is encoded (until then the old one is served,
    // and its ETag still matches): the old ETag then no longer does.
    let old = etag_of(app, "/api/nodes", &[auth]).await;
    next_view(state).await;
    let new = newer_etag(app, "/api/nodes", &[auth], &old).await;
    let (status, headers, body) =
        get(app, "/api/nodes", &[auth, (IF_NONE_MATCH.as_str(), &old)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.is_empty());
    assert_eq!(headers[ETAG], new.as_str());
}

#[tokio::test]
async fn gzip_and_br_bodies_decompress_to_the_identity_json() {
    let demo = demo_app().await;
    let (app, bearer) = (&demo.router, demo.bearer());
    let auth = ("authorization", bearer.as_str());
    for uri in ["/api/guests", "/api/nodes"] {
        let (_, headers, plain) = get(app, uri, &[auth]).await;
        assert!(headers.get(CONTENT_ENCODING).is_none());
        let json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert!(json.get("meta").is_some(), "{uri}: {json}");

        let (status, headers, gz) =
            get(app, uri, &[auth, (ACCEPT_ENCODING.as_str(), "gzip")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_ENCODING], "gzip", "{uri}");
        assert_eq!(gunzip(&gz), plain, "{uri}: compressed exactly once");

        let (status, headers, br) = get(
            app,
            uri,
            &[auth, (ACCEPT_ENCODING.as_str(), "gzip, deflate, br, zstd")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_ENCODING], "br", "{uri}");
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, plain, "{uri}: compressed exactly once");
    }
    // One node's guests are encoded per request, so the compression layer compresses them.
    let (status, headers, gz) = get(
        app,
        "/api/guests/pve1",
        &[auth, (ACCEPT_ENCODING.as_str(), "gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[CONTENT_ENCODING], "gzip");
    let json: serde_json::Value = serde_json::from_slice(&gunzip(&gz)).unwrap();
    assert_eq!(json["nodes"], serde_json::json!(["pve1"]));
}

/// The bytes a gzip stream holds.
fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut unzipped)
        .unwrap();
    unzipped
}
