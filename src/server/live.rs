//! `/ws/live`: the one push channel from the server to the browser.
//!
//! It says hello, beats every [`HEARTBEAT`], and closes with "going away" when the server shuts
//! down, so no socket keeps the process alive.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use plb_backend::{AppState, ClusterSource};
use plb_domain::view::ClusterView;
use plb_domain::LiveEvent;
use tokio::sync::watch;

/// Interval between heartbeats.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// WebSocket close code 1001: the server is going away.
const GOING_AWAY: u16 = 1001;

/// Upgrades the request and serves the channel.
pub async fn live_socket(
    upgrade: WebSocketUpgrade,
    State(state): State<AppState>,
    heartbeat: Duration,
) -> Response {
    upgrade.on_upgrade(move |socket| serve(socket, state, heartbeat))
}

/// Sends events until the client leaves or the server shuts down.
pub async fn serve(mut socket: WebSocket, state: AppState, heartbeat: Duration) {
    let server = plb_backend::services::server_info::server_info(&state);
    if send(&mut socket, &LiveEvent::Hello { server })
        .await
        .is_err()
    {
        return;
    }
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut views = match &state.cluster {
        ClusterSource::Live(cluster) => Some(cluster.subscribe()),
        ClusterSource::Unconfigured { .. } => None,
    };
    if let Some(views) = views.as_mut() {
        let event = cluster_event(&views.borrow_and_update());
        if send(&mut socket, &event).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            event = next_cluster_event(&mut views) => match event {
                Some(event) => {
                    if send(&mut socket, &event).await.is_err() {
                        return;
                    }
                }
                // The cluster service stopped (shutdown): only the heartbeat and the token remain.
                None => views = None,
            },
            () = state.shutdown.cancelled() => {
                let _ignored = send(&mut socket, &LiveEvent::ShuttingDown).await;
                let _ignored = socket
                    .send(Message::Close(Some(CloseFrame { code: GOING_AWAY, reason: "server shutting down".into() })))
                    .await;
                return;
            }
            _ = ticker.tick() => {
                let uptime_seconds = plb_backend::services::server_info::server_info(&state).uptime_seconds;
                if send(&mut socket, &LiveEvent::Heartbeat { uptime_seconds }).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {} // the channel is one-way; pings are answered by axum
            }
        }
    }
}

/// Waits for the next cluster view; never resolves without a cluster.
async fn next_cluster_event(
    views: &mut Option<watch::Receiver<Arc<ClusterView>>>,
) -> Option<LiveEvent> {
    match views {
        Some(views) => match views.changed().await {
            Ok(()) => Some(cluster_event(&views.borrow_and_update())),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

fn cluster_event(view: &ClusterView) -> LiveEvent {
    let meta = &view.overview.meta;
    LiveEvent::Cluster {
        version: meta.version,
        fetched_at_unix: meta.fetched_at_unix,
        stale: meta.stale.is_some(),
    }
}

async fn send(socket: &mut WebSocket, event: &LiveEvent) -> Result<(), axum::Error> {
    let text = serde_json::to_string(event).map_err(axum::Error::new)?;
    socket.send(Message::Text(text.into())).await
}
