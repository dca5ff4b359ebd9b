//! Integration tests of the server: the real router with the real app state, driven over HTTP
//! (in-process with `oneshot`) and over a real loopback socket for the live channel.
#![cfg(feature = "ssr")]
// A failed unwrap in a test helper is a test failure with a backtrace, which is what we want.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use futures::StreamExt;
use http_body_util::BodyExt;
use plb_backend::Settings;
use proxlb_web::pages::NAV_ITEMS;
use proxlb_web::server::router;
use support::TestApp;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt;

/// A fresh app on a private data folder (see `support`), signed in.
async fn app() -> TestApp {
    TestApp::plain().await
}

/// Sends `request` through `app` as its signed-in browser: the session cookie joins the
/// request's own cookies.
async fn browse(app: &TestApp, mut request: Request<Body>) -> axum::response::Response {
    let cookies = match request.headers().get(header::COOKIE) {
        Some(own) => format!("{}; {}", own.to_str().unwrap(), app.cookie_header()),
        None => app.cookie_header(),
    };
    request
        .headers_mut()
        .insert(header::COOKIE, cookies.parse().unwrap());
    app.router.clone().oneshot(request).await.unwrap()
}

async fn get(
    app: &TestApp,
    uri: &str,
    cookie: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = browse(app, request.body(Body::empty()).unwrap()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn every_view_renders_the_shell_and_navigation() {
    for item in NAV_ITEMS {
        let (status, _, html) = get(&app().await, item.path, None).await;
        assert_eq!(status, StatusCode::OK, "{}", item.path);
        assert!(
            html.contains(&format!("<title>{} · ProxLB Web</title>", item.label)),
            "{}: {html}",
            item.path
        );
        for link in NAV_ITEMS {
            assert!(
                html.contains(&format!("href=\"{}\"", link.path)),
                "{} lacks a link to {}",
                item.path,
                link.path
            );
        }
        assert!(
            html.contains("aria-current=\"page\""),
            "{}: active link not marked",
            item.path
        );
        assert!(
            html.contains("/pkg/proxlb_web.js"),
            "hydration script missing on {}",
            item.path
        );
        // The file cargo-leptos writes, whoever built this binary (see .cargo/config.toml).
        assert!(
            html.contains("/pkg/proxlb_web.wasm") && !html.contains("_bg.wasm"),
            "wrong WASM file name on {}",
            item.path
        );
        // The sidebar's server function resolved during server rendering (async SSR).
        assert!(
            html.contains(&format!("ProxLB Web <!>{}", env!("CARGO_PKG_VERSION"))),
            "{}: server info missing: {html}",
            item.path
        );
    }
}

#[tokio::test]
async fn unknown_paths_answer_404_with_the_not_found_page() {
    let (status, _, html) = get(&app().await, "/no/such/page", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains("href=\"/nodes\""),
        "the 404 page keeps the navigation"
    );
}

#[tokio::test]
async fn healthz_reports_ok_with_version() {
    let (status, headers, body) = get(&app().await, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["uptime_seconds"].as_u64().is_some());
}

#[tokio::test]
async fn theme_cookie_is_rendered_on_the_html_element() {
    let (_, _, dark) = get(&app().await, "/", Some("other=1; plb_theme=dark")).await;
    assert!(
        dark.contains("<html lang=\"en\" data-theme=\"dark\""),
        "{}",
        &dark[..200.min(dark.len())]
    );
    assert!(
        dark.contains("data-theme-choice=\"dark\" aria-pressed=\"true\""),
        "dark button not pressed"
    );
    let (_, _, light) = get(&app().await, "/nodes", Some("plb_theme=light")).await;
    assert!(light.contains("data-theme=\"light\""));
    let (_, _, system) = get(&app().await, "/", None).await;
    assert!(
        !system.contains("data-theme=\""),
        "no cookie must leave the theme to the browser"
    );
    assert!(system.contains("data-theme-choice=\"system\" aria-pressed=\"true\""));
}

#[tokio::test]
async fn server_info_server_fn_answers_json_under_sfn() {
    let response = browse(
        &app().await,
        Request::post("/sfn/server_info")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let info: plb_domain::ServerInfo = serde_json::from_slice(&body).unwrap();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn set_theme_form_post_sets_the_cookie_and_redirects_back() {
    let response = browse(
        &app().await,
        Request::post("/sfn/set_theme")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, "http://127.0.0.1/nodes")
            .body(Body::from("theme=dark"))
            .unwrap(),
    )
    .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    // Leptos strips its error marker from the Referer and may leave an empty query ("?").
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location.trim_end_matches('?'), "http://127.0.0.1/nodes");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("plb_theme=dark;"), "{cookie}");
}

#[tokio::test]
async fn set_theme_rejects_unknown_themes_with_a_clear_error() {
    let response = browse(
        &app().await,
        Request::post("/sfn/set_theme")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from("theme=purple"))
            .unwrap(),
    )
    .await;
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let error: proxlb_web::error::ApiError = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        error,
        proxlb_web::error::ApiError::Invalid {
            message: "unknown theme \"purple\": choose system, light or dark".into()
        }
    );
}

/// Serves the router on a loopback port; returns the address and the app (its state and
/// session).
async fn serve(heartbeat: Duration) -> (std::net::SocketAddr, TestApp) {
    let app = TestApp::start_with(Settings::default(), |state| {
        router::build_with_heartbeat(state, heartbeat)
    })
    .await;
    let router = app.router.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let stopped = app.state.shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await
    });
    (address, app)
}

/// Opens the live channel as `app`'s signed-in browser.
async fn live(
    address: std::net::SocketAddr,
    app: &TestApp,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://{address}/ws/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::COOKIE, app.cookie_header().parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn next_text<S>(socket: &mut S) -> String
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("no message within 5 s")
        .expect("socket ended")
        .expect("socket error");
    match message {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn live_channel_says_hello_and_beats() {
    let (address, app) = serve(Duration::from_millis(100)).await;
    let mut socket = live(address, &app).await;
    let hello: serde_json::Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["server"]["version"], env!("CARGO_PKG_VERSION"));
    let beat: serde_json::Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
    assert_eq!(beat["type"], "heartbeat");
}

#[tokio::test]
async fn shutdown_ends_open_live_streams_and_the_server() {
    let (address, app) = serve(Duration::from_secs(3600)).await;
    let mut socket = live(address, &app).await;
    assert!(next_text(&mut socket).await.contains("hello"));
    app.state.shutdown.cancel();
    assert!(next_text(&mut socket).await.contains("shutting_down"));
    let close = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    match close {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // The listener is gone too: new connections are refused.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(address).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "server still accepts connections after shutdown");
}

/// Building a router while another one renders pages must not stall those renders: route
/// generation raises a process-global flag that freezes resources first polled meanwhile
/// (leptos-rs/leptos#4773). Without the once-per-process route list this hung within a few rounds.
#[test]
fn building_routers_while_pages_render_never_stalls_a_render() {
    let renderer = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let app = app().await;
            for round in 0..40 {
                let render = get(&app, "/", None);
                let (status, _, html) = tokio::time::timeout(Duration::from_secs(10), render)
                    .await
                    .unwrap_or_else(|_| panic!("render {round} stalled"));
                assert_eq!(status, StatusCode::OK);
                assert!(html.contains("Dashboard"));
            }
        });
    });
    let builder = std::thread::spawn(|| {
        // Route generation spawns resources, so it needs a runtime, as in `main`.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let app = runtime.block_on(app());
        let _entered = runtime.enter();
        for _ in 0..200 {
            drop(router::build(app.state.clone()));
        }
    });
    builder.join().unwrap();
    renderer.join().unwrap();
}

#[tokio::test]
async fn pages_are_compressed_for_browsers_that_accept_it() {
    let response = browse(
        &app().await,
        Request::get("/")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "not a gzip stream");

    // Without Accept-Encoding the page is plain HTML.
    let (status, headers, html) = get(&app().await, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
}

#[tokio::test]
async fn the_healthcheck_probe_tells_a_serving_server_from_a_stopped_one() {
    plb_backend::tls::install_crypto_provider();
    let (address, app) = serve(Duration::from_secs(3600)).await;
    let state = &app.state;
    let healthy = proxlb_web::server::health::probe(address).await.unwrap();
    assert!(
        healthy.starts_with("healthy: http://127.0.0.1:"),
        "{healthy}"
    );
    // HOST=0.0.0.0 (the image's default) is probed on loopback.
    let wildcard = std::net::SocketAddr::from(([0, 0, 0, 0], address.port()));
    assert!(proxlb_web::server::health::probe(wildcard).await.is_ok());

    state.shutdown.cancel();
    let mut answer = Ok(String::new());
    for _ in 0..50 {
        answer = proxlb_web::server::health::probe(address).await;
        if answer.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = answer.unwrap_err();
    assert!(error.starts_with("unhealthy: http://127.0.0.1:"), "{error}");
}
