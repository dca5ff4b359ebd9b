//! Messages of the live push channel (`/ws/live`) from the server to the browser.

use serde::{Deserialize, Serialize};

use crate::ServerInfo;

/// One message on the live channel, JSON-encoded with a `type` tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// First message after connecting: who the server is.
    Hello {
        /// The server's identity and uptime at connect time.
        server: ServerInfo,
    },
    /// Sent on a fixed interval so both ends notice a dead connection.
    Heartbeat {
        /// Server uptime in whole seconds.
        uptime_seconds: u64,
    },
    /// A new cluster view was published: pages showing cluster data refetch it.
    Cluster {
        /// The view's snapshot version.
        version: u64,
        /// When the data was last fetched successfully (Unix seconds).
        fetched_at_unix: Option<u64>,
        /// The latest refresh failed; the data is the last good one.
        stale: bool,
    },
    /// The server is shutting down; the browser should reconnect later.
    ShuttingDown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_json() {
        let json =
            serde_json::to_string(&LiveEvent::Heartbeat { uptime_seconds: 7 }).unwrap_or_default();
        assert_eq!(json, r#"{"type":"heartbeat","uptime_seconds":7}"#);
        let back: Result<LiveEvent, _> = serde_json::from_str(r#"{"type":"shutting_down"}"#);
        assert!(matches!(back, Ok(LiveEvent::ShuttingDown)));
    }
}
