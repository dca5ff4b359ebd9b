//! The configuration endpoints end to end on a real file: `GET/POST /api/config`,
//! `/api/config/validate`, `/api/maintenance`, `/api/ignore` and the backups, through the whole
//! router (auth, roles, audit). Every response body is scanned for the secrets.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::{Method, StatusCode};
use axum::Router;
use plb_backend::compose;
use plb_backend::{AppState, Settings};
use serde_json::{json, Value};

const PASSWORD: &str = "pw-Do-Not-Leak-9";
const TOKEN: &str = "tok-Do-Not-Leak-7";

fn sample() -> String {
    format!(
        "# ProxLB\nproxmox_api:\n  hosts: [127.0.0.1:1]\n  user: root@pam\n  pass: '{PASSWORD}' # pw\n  \
         token_secret: \"{TOKEN}\"\n  timeout: 10\nproxmox_cluster:\n  maintenance_nodes: []\n\
         balancing:\n  enable: true\n  balance_types: [vm]\n"
    )
}

struct App {
    router: Router,
    state: AppState,
    operator: String,
    viewer: String,
    path: std::path::PathBuf,
    bodies: std::sync::Mutex<Vec<String>>,
    _data: tempfile::TempDir,
}

impl App {
    async fn start() -> Self {
        Self::start_with(|_, _, _| {}).await
    }

    /// The app on the sample file; `configure` gets the settings (already pointing at the
    /// file), the test's folder and the file's path.
    async fn start_with(
        configure: impl FnOnce(&mut Settings, &std::path::Path, std::path::PathBuf),
    ) -> Self {
        let support::ConfigApp {
            router,
            state,
            operator,
            viewer,
            path,
            data,
            ..
        } = support::ConfigApp::start(&sample(), configure).await;
        Self {
            router,
            state,
            operator,
            viewer,
            path,
            bodies: std::sync::Mutex::new(Vec::new()),
            _data: data,
        }
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, text) =
            support::call_api(&self.router, method, uri, token, body.as_ref()).await;
        self.bodies.lock().unwrap().push(text.clone());
        (status, support::json_or_text(text))
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_endpoints_edit_the_file_losslessly_audit_and_never_leak_a_secret() {
    let app = App::start().await;

    // Read: masked, with digest and validation.
    let (status, view) = app
        .call(Method::GET, "/api/config", &app.viewer, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let text = view["text"].as_str().unwrap().to_owned();
    let digest = view["digest"].clone();
    assert!(text.contains("pass: '********' # pw"), "{text}");
    assert_eq!(view["report"]["errors"], json!([]));
    assert_eq!(view["writability"], json!("Atomic"));

    // A viewer may not write.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/config",
            &app.viewer,
            Some(json!({"digest": digest, "text": text})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Validation only: errors with line and column.
    let (status, report) = app
        .call(
            Method::POST,
            "/api/config/validate",
            // A read-only token may not POST at all (the gate refuses it); validation is read-only
            // for the file but is a POST, so the operator asks.
            &app.operator,
            Some(json!({"text": text.replace("enable: true", "enable: maybe")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["errors"][0]["path"], "balancing.enable");
    assert_eq!(report["errors"][0]["line"], 11);

    // Save: only the edited bytes change, the masked secret stays as stored.
    let edited = text.replace("timeout: 10", "timeout: 20");
    let (status, saved) = app
        .call(
            Method::POST,
            "/api/config",
            &app.operator,
            Some(json!({"digest": digest, "text": edited})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(app.file(), sample().replace("timeout: 10", "timeout: 20"));

    // Stale digest: 409 with the message and a masked diff; file untouched.
    let (status, conflict) = app
        .call(
            Method::POST,
            "/api/config",
            &app.operator,
            Some(json!({"digest": digest, "text": text})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["message"], "changed on disk since you loaded it");
    assert!(
        conflict["diff"]
            .as_str()
            .unwrap()
            .contains("-  timeout: 20"),
        "{conflict}"
    );
    let current = saved["digest"].clone();

    // Invalid: 400 with positions, file untouched.
    let (status, refused) = app
        .call(
            Method::POST,
            "/api/config",
            &app.operator,
            Some(json!({"digest": current, "text": edited.replace("balance_types: [vm]", "balance_types: [vm")})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["kind"], "invalid");
    assert!(
        refused["issues"][0]["line"].as_u64().unwrap() >= 12,
        "{refused}"
    );
    assert_eq!(app.file(), sample().replace("timeout: 10", "timeout: 20"));

    // Maintenance and ignore toggles.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/maintenance",
            &app.operator,
            Some(json!({"node": "pve1", "state": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/ignore",
            &app.operator,
            Some(json!({"node": "no", "state": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let file = app.file();
    assert!(file.contains("maintenance_nodes: [pve1]"), "{file}");
    assert!(file.contains("ignore_nodes:\n    - 'no'"), "{file}");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/maintenance",
            &app.viewer,
            Some(json!({"node": "pve1", "state": false})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Backups: listed, masked, restorable.
    let (status, list) = app
        .call(Method::GET, "/api/config/backups", &app.viewer, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "{list:?}");
    let oldest = list.last().unwrap()["id"].as_str().unwrap().to_owned();
    let (status, shown) = app
        .call(
            Method::GET,
            &format!("/api/config/backups/{oldest}"),
            &app.viewer,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown["text"].as_str().unwrap().contains("'********'"));
    let (_, view) = app
        .call(Method::GET, "/api/config", &app.viewer, None)
        .await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/config/backups/{oldest}/restore"),
            &app.operator,
            Some(json!({"digest": view["digest"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.file(), sample());

    // Every write is in the audit log, refusals included.
    let (status, audit) = app
        .call(Method::GET, "/api/audit?limit=100", &app.operator, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let audit = audit.to_string();
    for action in ["config_changed", "maintenance_toggled", "ignore_toggled"] {
        assert!(audit.contains(action), "{action} missing from {audit}");
    }

    // No secret in any response.
    for body in app.bodies.lock().unwrap().iter() {
        assert!(!body.contains(PASSWORD) && !body.contains(TOKEN), "{body}");
    }
    app.state.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_appearing_on_disk_reconnects_the_cluster_views_without_a_restart() {
    plb_backend::tls::install_crypto_provider();
    let (mut settings, data) = support::private_settings(Settings::default());
    let path = data.path().join("proxlb.yaml");
    settings.proxlb_config = path.clone();
    let state = compose::wire(settings).await.unwrap();
    let reason = |state: AppState| async move {
        match state.cluster.view(std::time::Duration::ZERO).await {
            Err(plb_backend::Error::NotConfigured { reason, .. }) => reason,
            Err(other) => other.to_string(),
            Ok(_) => "connected".to_owned(),
        }
    };
    assert!(reason(state.clone()).await.contains("does not exist"));
    // An admin creates the file, still without `user`: the views follow it within a few polls
    // and now name the missing field instead of the missing file.
    std::fs::write(&path, "proxmox_api:\n  hosts: [127.0.0.1:1]\n").unwrap();
    let followed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let now = reason(state.clone()).await;
            if !now.contains("does not exist") {
                return now;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the watcher reconnects the cluster service after the file changes");
    assert!(followed.contains("user"), "{followed}");
    state.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_reload_or_restart_applies_the_file_to_a_real_child_and_is_audited() {
    let app = App::start_with(support::fake_process_backend).await;
    let (status, started) = app
        .call(Method::POST, "/api/service/start", &app.operator, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let first_pid = started["pid"].as_u64().unwrap();
    // Its signal handlers are set once it logs (like ProxLB, after the interpreter starts).
    assert!(logged(&app.state, "line 1").await, "the child never logged");
    let load = || async {
        let (_, view) = app
            .call(Method::GET, "/api/config", &app.viewer, None)
            .await;
        (
            view["text"].as_str().unwrap().to_owned(),
            view["digest"].clone(),
        )
    };

    // An unknown apply word is refused before anything is written.
    let (text, digest) = load().await;
    let before = app.file();
    let (status, _) = app
        .call(
            Method::POST,
            "/api/config",
            &app.operator,
            Some(json!({"digest": digest, "text": text.replace("enable: true", "enable: false"), "apply": "reboot"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.file(), before);

    // Save and reload: written, then SIGHUP to the same process (it logs the reload).
    let (status, answer) = app
        .call(
            Method::POST,
            "/api/config",
            &app.operator,
            Some(json!({"digest": digest, "text": text.replace("enable: true", "enable: false"), "apply": "reload"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["applied"]["action"], "reload", "{answer}");
    assert_eq!(answer["applied"]["ok"], true, "{answer}");
    assert!(app.file().contains("enable: false"));
    assert!(
        logged(&app.state, "reload requested").await,
        "the child never saw the SIGHUP"
    );
    let (_, status_now) = app
        .call(Method::GET, "/api/status", &app.viewer, None)
        .await;
    assert_eq!(
        status_now["service"]["pid"].as_u64(),
        Some(first_pid),
        "{status_now}"
    );

    // Save and restart: written, then a new process.
    let (text, digest) = load().await;
    let (status, answer) = app
        .call(
            Method::POST,
            "/api/config",
            &app.operator,
            Some(json!({"digest": digest, "text": text.replace("enable: false", "enable: true"), "apply": "restart"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["applied"]["action"], "restart", "{answer}");
    assert_eq!(answer["applied"]["ok"], true, "{answer}");
    let (_, status_now) = app
        .call(Method::GET, "/api/status", &app.viewer, None)
        .await;
    let new_pid = status_now["service"]["pid"].as_u64();
    assert!(
        new_pid.is_some() && new_pid != Some(first_pid),
        "{status_now}"
    );

    // Both writes and both service actions are in the audit log.
    let (_, audit) = app
        .call(Method::GET, "/api/audit?limit=50", &app.operator, None)
        .await;
    let actions: Vec<String> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap_or(""),
                e["target"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        actions
            .iter()
            .filter(|a| a.starts_with("config_changed"))
            .count()
            >= 2,
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a.contains("reload")), "{actions:?}");
    assert!(actions.iter().any(|a| a.contains("restart")), "{actions:?}");

    let (status, _) = app
        .call(Method::POST, "/api/service/stop", &app.operator, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.state.shutdown.cancel();
}

/// Whether a log line containing `needle` arrives within 20 s.
async fn logged(state: &AppState, needle: &str) -> bool {
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let page = state.proxlb.logs.query(&plb_domain::logs::LogQuery {
                search: Some(needle.into()),
                ..Default::default()
            });
            if !page.entries.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok()
}
