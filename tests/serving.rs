//! Integration tests of serving under abuse and of the HTTP contract around the handlers: the
//! accept loop's limits over real loopback sockets, the same-origin check for writes, JSON
//! errors under `/api`, and server-function input errors as `400`.
#![cfg(feature = "ssr")]
// A failed unwrap in a test helper is a test failure with a backtrace, which is what we want.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use futures::StreamExt;
use proxlb_web::error::ApiError;
use proxlb_web::server::limits;
use proxlb_web::server::serve::{self, Limits};
use support::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

/// Bound for anything that must happen "within a few seconds"; generous for a loaded CI host.
const PATIENCE: Duration = Duration::from_secs(10);

/// A running server on a loopback port.
struct Server {
    address: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    /// The signed-in browser's `Cookie` header (nearly every route needs a session).
    cookie: String,
    _app: TestApp,
}

impl Server {
    async fn start(limits: Limits) -> Server {
        let app = TestApp::plain().await;
        let shutdown = app.state.shutdown.clone();
        let router: Router = app.router.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(serve::serve(listener, router, shutdown.clone(), limits));
        Server {
            address,
            shutdown,
            task,
            cookie: app.cookie_header(),
            _app: app,
        }
    }

    /// Cancels the token and waits for `serve` to return; panics if it takes beyond patience.
    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the server did not stop")
            .unwrap();
    }
}

/// Reads until the server closes the connection (a reset counts as closed); returns what came.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut chunk = [0; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    });
    read.await.expect("the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

/// Sends `request` (raw HTTP/1.1, which should say `Connection: close`) and returns the reply.
async fn exchange(address: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_until_closed(&mut stream).await
}

/// Sends `request` through a fresh app, as a signed-in browser (the session cookie is added).
async fn oneshot(mut request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let app = TestApp::plain().await;
    request
        .headers_mut()
        .insert(header::COOKIE, app.cookie_header().parse().unwrap());
    app.send(request).await
}

fn json_error(body: &str) -> ApiError {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

// --- the accept loop ---------------------------------------------------------------------

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_dropped() {
    let server = Server::start(Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    // Half a request head, then silence.
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    // Not a byte at all.
    let mut mute = TcpStream::connect(server.address).await.unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    read_until_closed(&mut mute).await;
    // The server itself is fine and still answers others.
    let reply = exchange(
        server.address,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn shutdown_completes_while_a_slow_client_is_connected() {
    // The header timeout alone would keep these clients for a minute; the grace must not.
    let server = Server::start(Limits {
        header_read_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    slow.write_all(b"POST /sfn/set_theme HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut mute = TcpStream::connect(server.address).await.unwrap();
    // A keep-alive connection that finished one request and idles.
    let mut idle = TcpStream::connect(server.address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // Make sure the server has accepted the mute and slow connections before stopping.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let address = server.address;
    server.stop().await;
    read_until_closed(&mut slow).await;
    read_until_closed(&mut mute).await;
    read_until_closed(&mut idle).await;
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn at_the_connection_cap_newcomers_wait_for_a_free_slot() {
    let server = Server::start(Limits {
        max_connections: 1,
        ..Limits::default()
    })
    .await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut holder = TcpStream::connect(server.address).await.unwrap();
    holder.write_all(request).await.unwrap();
    let mut status = [0; 12];
    holder.read_exact(&mut status).await.unwrap();
    assert_eq!(&status, b"HTTP/1.1 200");

    // The kernel completes the handshake, but the server does not take the connection.
    let mut waiting = TcpStream::connect(server.address).await.unwrap();
    waiting.write_all(request).await.unwrap();
    let mut early = [0; 12];
    let answered =
        tokio::time::timeout(Duration::from_millis(300), waiting.read_exact(&mut early)).await;
    assert!(answered.is_err(), "served beyond the cap");

    drop(holder);
    tokio::time::timeout(PATIENCE, waiting.read_exact(&mut early))
        .await
        .expect("not served after a slot freed")
        .unwrap();
    assert_eq!(&early, b"HTTP/1.1 200");
    server.stop().await;
}

#[tokio::test]
async fn websocket_upgrades_work_through_the_server() {
    let server = Server::start(Limits::default()).await;
    let mut request = format!("ws://{}/ws/live", server.address)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::COOKIE, server.cookie.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let first = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("no message")
        .expect("socket ended")
        .unwrap();
    assert!(first.is_text(), "{first:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let body = "theme=dark&".repeat(limits::BODY_LIMIT / 10);
    assert!(body.len() > limits::BODY_LIMIT);
    let (status, headers, _) = oneshot(
        Request::post("/sfn/set_theme")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(headers.get(header::SET_COOKIE).is_none());

    // Without a Content-Length (chunked), the limit holds while the body is read.
    let server = Server::start(Limits::default()).await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let head = format!(
        "POST /sfn/set_theme HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Cookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        server.cookie
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
    for _ in 0..(limits::BODY_LIMIT / (64 * 1024) + 2) {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break; // The server already answered and closed.
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let reply = read_until_closed(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    server.stop().await;
}

// --- same-origin writes --------------------------------------------------------------------

fn theme_post(headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post("/sfn/set_theme")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from("theme=dark")).unwrap()
}

#[tokio::test]
async fn a_cross_origin_post_to_a_server_function_is_refused() {
    for headers in [
        // An older browser: Origin only.
        vec![
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
            ("accept", "text/html"),
        ],
        // A current browser: fetch metadata too.
        vec![
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        // A sibling subdomain is not this origin either.
        vec![("host", "plb.example"), ("sec-fetch-site", "same-site")],
    ] {
        let (status, response_headers, body) = oneshot(theme_post(&headers)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(response_headers.get(header::SET_COOKIE).is_none());
        assert!(
            matches!(json_error(&body), ApiError::Forbidden { .. }),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_same_origin_form_post_works_with_javascript_off() {
    let server = Server::start(Limits::default()).await;
    let own = format!("http://{}", server.address);
    // What a browser sends for the theme switch's plain form, with and without fetch metadata.
    for fetch_metadata in ["", "Sec-Fetch-Site: same-origin\r\n"] {
        let request = format!(
            "POST /sfn/set_theme HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
             Origin: {own}\r\nReferer: {own}/nodes\r\n{fetch_metadata}Cookie: {cookie}\r\n\
             Accept: text/html,application/xhtml+xml\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n\
             theme=dark",
            host = server.address,
            cookie = server.cookie,
        );
        let reply = exchange(server.address, &request).await;
        assert!(reply.starts_with("HTTP/1.1 302"), "{reply}");
        let lower = reply.to_ascii_lowercase();
        assert!(
            lower.contains(&format!("location: {own}/nodes")),
            "not redirected back: {reply}"
        );
        assert!(lower.contains("set-cookie: plb_theme=dark;"), "{reply}");
    }
    server.stop().await;
}

#[tokio::test]
async fn bearer_requests_pass_the_origin_check() {
    let app = TestApp::plain().await;
    let bearer = app.bearer();
    let (status, _, body) = app
        .send(theme_post(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
            ("authorization", &bearer),
            ("accept", "application/json"),
        ]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The exemption is from the origin check only: a wrong token is still refused.
    let (status, _, _) = app
        .send(theme_post(&[
            ("origin", "https://evil.example"),
            ("authorization", "Bearer plbw_wrong"),
        ]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reads_are_not_subject_to_the_origin_check() {
    let (status, _, _) = oneshot(
        Request::get("/healthz")
            .header(header::ORIGIN, "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

// --- JSON errors ------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_api_paths_answer_a_json_404() {
    for path in ["/api/nope", "/api/nodes/extra/parts", "/api/"] {
        let (status, headers, body) =
            oneshot(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{path}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["kind"], "not_found", "{path}: {body}");
    }
    // Pages keep their HTML 404.
    let (status, _, html) = oneshot(Request::get("/apis").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
}

#[tokio::test]
async fn a_wrong_method_on_the_api_answers_a_json_405() {
    let (status, headers, body) =
        oneshot(Request::delete("/api/nodes").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(
        headers[header::ALLOW].to_str().unwrap().contains("GET"),
        "{headers:?}"
    );
    assert!(
        matches!(json_error(&body), ApiError::Invalid { .. }),
        "{body}"
    );
}

#[tokio::test]
async fn a_malformed_server_function_body_is_a_400_with_a_message() {
    for body in ["", "garbage%%%", "{\"node\":\"pve1\"}", "node[x]=1"] {
        let (status, _, reply) = oneshot(
            Request::post("/sfn/node_history")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {reply}");
        match json_error(&reply) {
            ApiError::Invalid { message } => assert!(!message.is_empty()),
            other => panic!("{body:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn server_function_errors_carry_their_own_status() {
    let (status, _, reply) = oneshot(
        Request::post("/sfn/set_theme")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from("theme=purple"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert!(matches!(json_error(&reply), ApiError::Invalid { .. }));
}

/// A file of the site as the image ships the WASM: only `.gz` (and `.br`) copies.
fn gzipped(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Status, headers and the raw body bytes of `request`.
async fn bytes_of(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

#[tokio::test]
async fn a_file_shipped_only_compressed_reaches_a_client_that_takes_no_encoding() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let wasm: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(pkg.join("app.wasm.gz"), gzipped(&wasm)).unwrap();
    // A file that exists plainly is the file handler's, whatever its copies say.
    std::fs::write(pkg.join("app.js"), b"plain").unwrap();
    std::fs::write(pkg.join("app.js.gz"), gzipped(b"compressed copy")).unwrap();
    let settings = plb_backend::settings::Settings {
        site_root: site.path().to_path_buf(),
        ..Default::default()
    };
    let app = TestApp::start(settings).await;
    let get = |path: &str, accept: Option<&str>| {
        let mut request = app.browser(axum::http::Method::GET, path);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        request.body(Body::empty()).unwrap()
    };

    // No encoding taken: the `.gz` copy, decompressed, as WASM.
    let (status, headers, body) = bytes_of(&app.router, get("/pkg/app.wasm", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(body, wasm);
    // `gzip;q=0` refuses gzip: the same.
    let (status, _, body) = bytes_of(
        &app.router,
        get("/pkg/app.wasm", Some("gzip;q=0, identity")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, wasm);
    // A browser takes gzip: the copy as it is, marked as gzip.
    let (status, headers, body) =
        bytes_of(&app.router, get("/pkg/app.wasm", Some("gzip, deflate"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(body, gzipped(&wasm));
    // HEAD: the length, no body.
    let head = app
        .browser(axum::http::Method::HEAD, "/pkg/app.wasm")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = bytes_of(&app.router, head).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_LENGTH], wasm.len().to_string());
    assert!(body.is_empty());
    // A plain file is served as it is; a missing one (no copy either) is still a 404.
    let (status, _, body) = bytes_of(&app.router, get("/pkg/app.js", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"plain");
    let (status, _, _) = bytes_of(&app.router, get("/pkg/missing.wasm", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
