//! The REST API for ProxLB itself (merged under `/api` by [`crate::server::rest`]), and the
//! `/ws/logs` stream for scripts:
//!
//! | Method | Path | Who | Answer |
//! |---|---|---|---|
//! | `GET` | `/api/status` | anyone signed in | [`StatusReply`] |
//! | `POST` | `/api/service/start`, `stop`, `restart`, `reload` | operator | `ServiceStatus` after the action |
//! | `GET` | `/api/logs?level=&search=&since=&before=&after=&limit=` | anyone signed in | `LogPage` |
//! | `GET` | `/api/logs/raw?…` (same filters) | anyone signed in | `text/plain`: the lines as ProxLB wrote them |
//! | `GET` (WebSocket) | `/ws/logs?after=&level=&search=` | anyone signed in | one JSON text frame per `LogsEvent` |
//!
//! `level` is the least severe level shown (`debug` … `critical`), `search` a case-insensitive
//! text, `since` Unix milliseconds (the transport's time), `before`/`after` a `seq` to page
//! from (see `LogService::query`), `limit` 1 to 5,000 (default 500). A page's entries are
//! oldest first. Service actions are permission-checked, one at a time (`409` while another
//! runs) and recorded in the audit log; the same-origin rule for writes applies.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use plb_backend::services::proxlb::LogFeed;
use plb_backend::AppState;
use plb_domain::live::LogsEvent;
use plb_domain::logs::{Level, LogPage, LogQuery};
use plb_domain::runs::RunState;
use plb_domain::service::{BackendKind, ServiceAction, ServiceStatus};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::server::auth::rest::Caller;
use crate::server::origin;
use crate::server::state::ServerState;

/// Paths of these endpoints, relative to `/api` (for the route table).
pub const PATHS: &[&str] = &[
    "/status",
    "/service/start",
    "/service/stop",
    "/service/restart",
    "/service/reload",
    "/logs",
    "/logs/raw",
];

/// Path of the log stream for scripts.
pub const WS_LOGS_PATH: &str = "/ws/logs";

/// A `/ws/logs` client that does not take a frame within this time is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Interval of the pings that find dead `/ws/logs` connections.
const PING_INTERVAL: Duration = Duration::from_secs(30);

/// The routes, relative to `/api`.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/status", get(status))
        .route("/service/start", post(start))
        .route("/service/stop", post(stop))
        .route("/service/restart", post(restart))
        .route("/service/reload", post(reload))
        .route("/logs", get(logs))
        .route("/logs/raw", get(raw_logs))
}

/// `GET /api/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReply {
    /// The service's state as its backend reports it (state `unknown` with a `problem` when
    /// the backend cannot be asked).
    pub service: ServiceStatus,
    /// Where ProxLB's runs are, as its log tells.
    pub run: RunState,
    /// The backend in use.
    pub backend: BackendReply,
    /// The newest log entry's `seq` (0 before the first): `after` for `/ws/logs`.
    pub newest_log_seq: u64,
}

/// The backend in use, by name and for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendReply {
    /// `process`, `docker`, `systemd` or `none`.
    pub kind: BackendKind,
    /// A name for people ("Docker container").
    pub label: String,
}

async fn status(State(state): State<AppState>, _caller: Caller) -> Json<StatusReply> {
    let backend = state.proxlb.backend();
    Json(StatusReply {
        service: state.proxlb.status(),
        run: state.proxlb.logs.run_state(),
        backend: BackendReply {
            kind: backend,
            label: backend.label().to_owned(),
        },
        newest_log_seq: state.proxlb.logs.newest_seq(),
    })
}

async fn act(
    state: &AppState,
    Caller(who): Caller,
    action: ServiceAction,
) -> Result<Json<ServiceStatus>, ApiError> {
    Ok(Json(state.proxlb.act(&who, action).await?))
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ServiceStatus>, ApiError> {
    act(&state, caller, ServiceAction::Start).await
}

async fn stop(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ServiceStatus>, ApiError> {
    act(&state, caller, ServiceAction::Stop).await
}

async fn restart(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ServiceStatus>, ApiError> {
    act(&state, caller, ServiceAction::Restart).await
}

async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ServiceStatus>, ApiError> {
    act(&state, caller, ServiceAction::Reload).await
}

/// The query string of `/api/logs`, `/api/logs/raw` and `/ws/logs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogParams {
    /// Least severe level shown.
    pub level: Option<String>,
    /// Case-insensitive text to find.
    pub search: Option<String>,
    /// Only entries at or after this time (Unix milliseconds).
    pub since: Option<i64>,
    /// Only entries with a smaller `seq` (page back).
    pub before: Option<u64>,
    /// Only entries with a larger `seq` (page forward; for `/ws/logs`, resume after it).
    pub after: Option<u64>,
    /// Page size.
    pub limit: Option<u32>,
}

impl LogParams {
    /// The filters as a [`LogQuery`]; a bad level is refused with a message that lists them.
    pub fn query(&self) -> Result<LogQuery, ApiError> {
        let min_level = match self.level.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(Level::parse(name).ok_or_else(|| ApiError::Invalid {
                message: "level must be debug, info, warning, error or critical".into(),
            })?),
        };
        Ok(LogQuery {
            min_level,
            search: self
                .search
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned),
            since_unix_ms: self.since,
            after_seq: self.after,
            before_seq: self.before,
            limit: self.limit,
        })
    }
}

fn params(query: Result<Query<LogParams>, QueryRejection>) -> Result<LogQuery, ApiError> {
    let Query(params) = query.map_err(|rejection| ApiError::Invalid {
        message: rejection.body_text(),
    })?;
    params.query()
}

async fn logs(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<LogParams>, QueryRejection>,
) -> Result<Json<LogPage>, ApiError> {
    Ok(Json(state.proxlb.logs.query(&params(query)?)))
}

async fn raw_logs(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<LogParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let text = state.proxlb.logs.raw(&params(query)?);
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"proxlb.log\""),
    );
    Ok(response)
}

/// `WS /ws/logs`: same-origin (or a script without `Origin`), signed in; streams the entries
/// after `after` (from now without it) that pass the filters, then new ones, one `LogsEvent`
/// JSON text frame each. A client that reads too slowly is not buffered for: it gets a `gap`
/// frame with the number of entries it missed (or is disconnected after 10 s without reading).
pub async fn ws_logs(
    upgrade: WebSocketUpgrade,
    State(state): State<AppState>,
    _caller: Caller,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<LogParams>, QueryRejection>,
) -> Response {
    if let Err(refused) = origin::same_origin(&uri, &headers) {
        tracing::info!(reason = %refused, "cross-origin log stream refused");
        return ApiError::Forbidden {
            message: refused.to_string(),
        }
        .into_response();
    }
    let query = match params(query) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    upgrade
        .max_message_size(16 * 1024)
        .on_upgrade(move |socket| stream_logs(socket, state, query))
}

async fn stream_logs(mut socket: WebSocket, state: AppState, query: LogQuery) {
    let mut feed = state.proxlb.logs.subscribe(query.after_seq);
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.reset();
    loop {
        let message = tokio::select! {
            () = state.shutdown.cancelled() => None,
            incoming = socket.recv() => match incoming {
                // Scripts only listen; anything but a close (or pong) is ignored.
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => continue,
            },
            _ = ping.tick() => Some(Message::Ping(Default::default())),
            next = feed.next() => match next {
                None => None,
                Some(LogFeed::Gap { missed, .. }) => frame(&LogsEvent::Gap { missed }),
                Some(LogFeed::Entry(entry)) if query.matches(&entry) => {
                    frame(&LogsEvent::Entry((*entry).clone()))
                }
                Some(LogFeed::Entry(_)) => continue,
            },
        };
        let Some(message) = message else {
            let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(None))).await;
            return;
        };
        match tokio::time::timeout(WRITE_TIMEOUT, socket.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
    }
}

fn frame(event: &LogsEvent) -> Option<Message> {
    match serde_json::to_string(event) {
        Ok(text) => Some(Message::Text(text.into())),
        Err(error) => {
            tracing::error!(%error, "log event not serializable");
            None
        }
    }
}
