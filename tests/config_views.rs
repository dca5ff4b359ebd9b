//! The Configuration view and the node toggles as a browser without JavaScript gets them: the
//! page shows the file masked with its digest in the form, and the plain form posts of the
//! server functions (`/sfn/config_save`, `/sfn/config_node`) write the real file, losslessly,
//! keep a masked secret, refuse a stale digest, and redirect back with the outcome.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;

const TOKEN: &str = "tok-Do-Not-Leak-7";

fn sample() -> String {
    format!(
        "# ProxLB\nproxmox_api:\n  hosts: [127.0.0.1:1]\n  user: root@pam\n  token_id: web\n  \
         token_secret: \"{TOKEN}\" # keep\n  timeout: 10\nproxmox_cluster:\n  maintenance_nodes: []\n\
         balancing:\n  enable: true\n  balanciness: 10\n  balance_types: [vm]\n"
    )
}

struct App {
    router: Router,
    state: plb_backend::AppState,
    cookie: String,
    path: std::path::PathBuf,
    _data: tempfile::TempDir,
}

impl App {
    async fn start() -> Self {
        let support::ConfigApp {
            router,
            state,
            cookie,
            path,
            data,
            ..
        } = support::ConfigApp::start(&sample(), |_, _, _| {}).await;
        Self {
            router,
            state,
            cookie,
            path,
            _data: data,
        }
    }

    async fn page(&self, uri: &str) -> String {
        let request = Request::get(uri)
            .header(header::COOKIE, format!("plbw_session={}", self.cookie))
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = support::send(&self.router, request).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        body
    }

    /// A plain HTML form post; answers the redirect's target.
    async fn form_post(&self, uri: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut url = reqwest::Url::parse("http://localhost/").unwrap();
        url.query_pairs_mut().extend_pairs(fields);
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, format!("plbw_session={}", self.cookie))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::REFERER, "http://localhost/config")
            .body(Body::from(url.query().unwrap_or_default().to_owned()))
            .unwrap();
        let (status, headers, _) = support::send(&self.router, request).await;
        let location = headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location)
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }
}

/// The value of the hidden `digest` field in the page's editor form.
fn digest_in(html: &str) -> String {
    let at = html.find("name=\"digest\"").expect("a digest field");
    let tail = &html[at..];
    let start = tail.find("value=\"").unwrap() + "value=\"".len();
    let end = tail[start..].find('"').unwrap();
    tail[start..start + end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plain_form_saves_losslessly_keeps_the_secret_and_refuses_a_stale_digest() {
    let app = App::start().await;
    let html = app.page("/config").await;
    assert!(!html.contains(TOKEN), "the secret reached the page");
    assert!(html.contains("********"), "{html}");
    assert!(html.contains("action=\"/sfn/config_save\""), "{html}");
    let digest = digest_in(&html);
    assert!(!digest.is_empty());

    // The editor's text as the browser would submit it: masked, one value changed, and with
    // CRLF line breaks (HTML's form encoding of a textarea) that must not reach the LF file.
    let before = app.file();
    assert!(!before.contains('\r'));
    let masked = before.replace(&format!("\"{TOKEN}\""), "'********'");
    let edited = masked
        .replace("balanciness: 10", "balanciness: 11")
        .replace('\n', "\r\n");
    let (status, location) = app
        .form_post(
            "/sfn/config_save",
            &[("digest", &digest), ("text", &edited)],
        )
        .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location, "/config?outcome=saved");
    let after = app.file();
    assert_eq!(after, before.replace("balanciness: 10", "balanciness: 11"));

    // The same digest again is stale now: nothing written, the outcome says so.
    let again = masked.replace("balanciness: 10", "balanciness: 12");
    let (_, location) = app
        .form_post("/sfn/config_save", &[("digest", &digest), ("text", &again)])
        .await;
    assert_eq!(location, "/config?outcome=conflict");
    assert_eq!(app.file(), after);

    // A backup of the previous version is listed, and its diff shows no secret.
    let html = app.page("/config").await;
    assert!(html.contains("data-testid=\"config-backups\""), "{html}");
    assert!(!html.contains(TOKEN));
    let audit = app.page("/api/audit?limit=100").await;
    assert!(audit.contains("config_changed"), "{audit}");
    app.state.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_toggle_form_writes_the_list_and_goes_back() {
    let app = App::start().await;
    let (status, location) = app
        .form_post(
            "/sfn/config_node",
            &[
                ("node", "pve2"),
                ("list", "maintenance"),
                ("on", "true"),
                ("back", "/nodes/pve2"),
            ],
        )
        .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location, "/nodes/pve2?outcome=saved");
    let file = app.file();
    assert!(file.contains("maintenance_nodes: [pve2]"), "{file}");
    assert!(file.contains(&format!("\"{TOKEN}\" # keep")));

    // A redirect target off the site is not followed.
    let (_, location) = app
        .form_post(
            "/sfn/config_node",
            &[
                ("node", "pve2"),
                ("list", "maintenance"),
                ("on", "false"),
                ("back", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location, "/nodes?outcome=saved");
    assert!(
        app.file().contains("maintenance_nodes: []"),
        "{}",
        app.file()
    );
}
