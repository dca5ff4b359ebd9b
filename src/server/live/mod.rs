//! `/ws/live`: the one push channel from the server to the browser, with topics.
//!
//! The protocol (messages, topics, cursors, limits, close codes) is written down in
//! `docs/live-protocol.md`; its types are in `plb_domain::live`. This module accepts the
//! WebSocket (same-origin only, with a size limit on what the client sends); `session` runs one
//! connection; `outbox` is its bounded outbound buffer; `topics` lists the topics.

mod cluster;
mod logs;
mod migrations;
pub mod outbox;
mod service;
mod session;
pub mod topics;

use std::time::Duration;

use axum::extract::{FromRef, State, WebSocketUpgrade};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use plb_backend::AppState;

use crate::error::ApiError;
use crate::server::origin;
pub use outbox::OutboxLimits;

/// Interval between heartbeats.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// Settings of the live channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveConfig {
    /// Interval between heartbeats.
    pub heartbeat: Duration,
    /// A client that does not take a message within this time is disconnected, so it can
    /// neither hold memory nor delay anything else.
    pub write_timeout: Duration,
    /// Largest message (and frame) read from a client; a larger one closes the connection.
    pub max_message_bytes: usize,
    /// Limits of each connection's outbound buffer.
    pub outbox: OutboxLimits,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            heartbeat: HEARTBEAT,
            write_timeout: Duration::from_secs(10),
            // A subscribe message naming every topic with a cursor is well below 4 KiB.
            max_message_bytes: 16 * 1024,
            outbox: OutboxLimits::default(),
        }
    }
}

impl LiveConfig {
    /// The defaults with another heartbeat interval (short in tests).
    pub fn with_heartbeat(heartbeat: Duration) -> Self {
        Self {
            heartbeat,
            ..Self::default()
        }
    }
}

/// The route of the channel, for a router whose state provides the [`AppState`].
pub fn route<S>(config: LiveConfig) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    get(
        move |upgrade: WebSocketUpgrade,
              State(state): State<AppState>,
              uri: Uri,
              headers: HeaderMap| { live_socket(upgrade, state, uri, headers, config) },
    )
}

/// Upgrades a same-origin request and serves the channel; a cross-origin one is answered 403.
///
/// Why the check: browsers let any page open a WebSocket to any host, with the user's cookies,
/// and only say where the page came from in `Origin`. Scripts without `Origin` are let in.
pub async fn live_socket(
    upgrade: WebSocketUpgrade,
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    config: LiveConfig,
) -> Response {
    if let Err(refused) = origin::same_origin(&uri, &headers) {
        tracing::info!(reason = %refused, "cross-origin live channel refused");
        return ApiError::Forbidden {
            message: refused.to_string(),
        }
        .into_response();
    }
    upgrade
        .max_message_size(config.max_message_bytes)
        .max_frame_size(config.max_message_bytes)
        .on_upgrade(move |socket| session::serve(socket, state, config))
}
