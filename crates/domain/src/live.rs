//! The wire protocol of the live channel (`/ws/live`), shared by the server and the browser.
//!
//! `docs/live-protocol.md` describes it for people. In short: every message is one JSON text
//! frame. The client sends [`ClientMessage`]s (`{"op": "subscribe", …}`); the server sends
//! [`ServerMessage`]s, each with a `type`. Exactly one type, `event`, carries a topic's data (an
//! [`Envelope`] with the topic's name, an opaque [`Cursor`] and the event); every other type is
//! a control message of the connection (hello, heartbeat, acknowledgements, errors, shutdown).
//!
//! A topic is declared once here, as a [`Topic`] with its event type, so both ends agree on
//! what its events look like.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ServerInfo;

/// Path of the live channel on the server.
pub const PATH: &str = "/ws/live";

/// Version of this protocol, announced in [`Hello`]; bumped on incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest topic name the server accepts (bytes).
pub const MAX_TOPIC_BYTES: usize = 64;

/// Longest cursor the server accepts (bytes).
pub const MAX_CURSOR_BYTES: usize = 256;

/// Most topics one subscribe or unsubscribe message may name.
pub const MAX_TOPICS_PER_MESSAGE: usize = 16;

/// A topic of the live channel: its name on the wire and the type of its events.
pub trait Topic {
    /// The topic's name on the wire (`"cluster"`).
    const NAME: &'static str;
    /// What one event of the topic carries.
    type Event: Serialize + DeserializeOwned;
}

/// Topic `cluster`: the server published a new cluster view. A state topic: a subscriber gets
/// the current state first (unless its cursor says it has it already), then every newer one;
/// states it could not deliver in time are skipped, never queued.
#[derive(Clone, Copy, Debug)]
pub struct ClusterTopic;

impl Topic for ClusterTopic {
    const NAME: &'static str = "cluster";
    type Event = ClusterEvent;
}

/// Event of topic [`ClusterTopic`]: which cluster view is current. Pages showing cluster data
/// refetch it when this changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEvent {
    /// The view's snapshot version; `null` while no cluster is configured.
    pub version: Option<u64>,
    /// When the data was last fetched successfully (Unix seconds).
    pub fetched_at_unix: Option<u64>,
    /// The latest refresh failed; the data is the last good one.
    pub stale: bool,
}

/// Topic `service`: ProxLB's service state (running, stopped, failed, …) as its backend reports
/// it, each time it changes. A state topic: a subscriber gets the current state first, then
/// every newer one; states it could not take in time are skipped. Its events carry no cursor.
#[derive(Clone, Copy, Debug)]
pub struct ServiceTopic;

impl Topic for ServiceTopic {
    const NAME: &'static str = "service";
    type Event = crate::service::ServiceStatus;
}

/// Topic `runs`: where ProxLB's runs are (idle, running, sleeping until …), each time that
/// changes. A state topic like [`ServiceTopic`].
#[derive(Clone, Copy, Debug)]
pub struct RunsTopic;

impl Topic for RunsTopic {
    const NAME: &'static str = "runs";
    type Event = crate::runs::RunState;
}

/// Topic `logs`: ProxLB's log entries, every one in order. A stream topic: the cursor of an
/// entry (`<epoch>.<seq>`) resumes after it without a gap or a duplicate while the server still
/// retains the entries after it; a `gap` event says how many it no longer had, a `dropped`
/// message how many the connection discarded for a client that read too slowly.
#[derive(Clone, Copy, Debug)]
pub struct LogsTopic;

impl Topic for LogsTopic {
    const NAME: &'static str = "logs";
    type Event = LogsEvent;
}

/// Event of topic [`LogsTopic`] and frame of `/ws/logs`, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogsEvent {
    /// The next log entry (its fields beside `"kind": "entry"`).
    Entry(crate::logs::LogEntry),
    /// `missed` entries after the subscriber's cursor are no longer retained by the server;
    /// the entries that follow come after that gap.
    Gap {
        /// How many entries were missed.
        missed: u64,
    },
}

/// Topic `migrations`: the migration history changed. A state topic: a subscriber gets the
/// current state first (unless its cursor, `<epoch>.<version>`, says it has it), then every
/// newer one; states it could not take in time are skipped.
#[derive(Clone, Copy, Debug)]
pub struct MigrationsTopic;

impl Topic for MigrationsTopic {
    const NAME: &'static str = "migrations";
    type Event = MigrationsEvent;
}

/// Event of topic [`MigrationsTopic`]. Pages showing the history refetch when `version` rises;
/// the dashboard's feed shows `recent` as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationsEvent {
    /// Rises with every change of the history (counted since the server started).
    pub version: u64,
    /// The newest moves (up to 10), newest start first.
    pub recent: Vec<crate::migrations::MigrationRecord>,
}

/// A position in a topic's event sequence, opaque to the client: it keeps the cursor of the
/// last event it processed and sends it back when it subscribes again, so the topic resumes
/// after that event. Each topic defines what its cursors mean.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor with the given text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The cursor's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message from the client, tagged by `op`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Start (or restart, with a new cursor) delivering these topics.
    Subscribe {
        /// The topics, each with the cursor to resume after.
        topics: Vec<Subscription>,
    },
    /// Stop delivering these topics. Unsubscribing a topic that is not subscribed is no error.
    Unsubscribe {
        /// Topic names.
        topics: Vec<String>,
    },
}

/// One topic of a subscribe message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The topic's name.
    pub topic: String,
    /// Resume after this cursor; `null` (or absent) starts from the topic's present.
    #[serde(default)]
    pub cursor: Option<Cursor>,
}

/// A message from the server, tagged by `type`. `E` is the type of topic events: the server
/// sends concrete events; the browser reads them as raw JSON and hands each to its topic's
/// listeners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage<E> {
    /// First message on every connection.
    Hello(Hello),
    /// Sent on a fixed interval so both ends notice a dead connection.
    Heartbeat {
        /// Server uptime in whole seconds.
        uptime_seconds: u64,
    },
    /// The subscription to `topic` is in place; its events follow.
    Subscribed {
        /// The topic.
        topic: String,
    },
    /// The subscription to `topic` ended; no event of it follows.
    Unsubscribed {
        /// The topic.
        topic: String,
    },
    /// An event of a subscribed topic.
    Event(Envelope<E>),
    /// The server discarded `count` events of `topic` for this connection because the client
    /// read too slowly. The gap lies between the last event of the topic delivered before this
    /// notice and the next one after it.
    Dropped {
        /// The topic.
        topic: String,
        /// How many events were discarded.
        count: u64,
    },
    /// A request could not be carried out; the connection stays open.
    Error(ProtocolError),
    /// The server is shutting down; a close frame with code 1001 follows.
    ShuttingDown,
}

/// A server message without topic events: what the control part of the protocol needs.
pub type ControlMessage = ServerMessage<()>;

/// The `hello` message: who the server is and what the connection offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the server.
    pub protocol: u32,
    /// The server's identity and uptime at connect time.
    pub server: ServerInfo,
    /// Names of the topics this server offers.
    pub topics: Vec<String>,
    /// The connection's limits.
    pub limits: Limits,
}

/// Limits of a connection, announced in [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest message the server reads; a larger one closes the connection (code 1009).
    pub max_message_bytes: u64,
    /// Interval between heartbeats in milliseconds; a client that hears nothing for several
    /// of them may assume the connection is dead and reconnect.
    pub heartbeat_ms: u64,
    /// A client that does not take a message within this many milliseconds is disconnected.
    pub write_timeout_ms: u64,
}

/// The `event` message: one event of one topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<E> {
    /// The topic's name.
    pub topic: String,
    /// Position of this event in the topic; `null` when the topic cannot resume.
    pub cursor: Option<Cursor>,
    /// The event, shaped as the topic's [`Topic::Event`].
    pub event: E,
}

/// The `error` message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// The topic concerned, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// What went wrong, for people.
    pub message: String,
}

/// Machine-readable reason of a [`ProtocolError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a message of this protocol (not JSON, unknown `op`, binary frame, too many topics).
    BadMessage,
    /// The server offers no topic of that name.
    UnknownTopic,
    /// The topic cannot resume after that cursor; subscribe again without one.
    BadCursor,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }

    #[test]
    fn control_messages_are_tagged_by_type() {
        let beat: ControlMessage = ServerMessage::Heartbeat { uptime_seconds: 7 };
        assert_eq!(json(&beat), r#"{"type":"heartbeat","uptime_seconds":7}"#);
        let back: Result<ControlMessage, _> = serde_json::from_str(r#"{"type":"shutting_down"}"#);
        assert!(matches!(back, Ok(ServerMessage::ShuttingDown)));
        let error: ControlMessage = ServerMessage::Error(ProtocolError {
            code: ErrorCode::UnknownTopic,
            topic: Some("nope".into()),
            message: "no topic \"nope\"".into(),
        });
        assert_eq!(
            json(&error),
            r#"{"type":"error","code":"unknown_topic","topic":"nope","message":"no topic \"nope\""}"#
        );
    }

    #[test]
    fn topic_events_travel_in_an_envelope() {
        let event = ServerMessage::Event(Envelope {
            topic: ClusterTopic::NAME.to_owned(),
            cursor: Some(Cursor::new("a.3")),
            event: ClusterEvent {
                version: Some(3),
                fetched_at_unix: Some(1_700_000_000),
                stale: false,
            },
        });
        let text = json(&event);
        assert_eq!(
            text,
            r#"{"type":"event","topic":"cluster","cursor":"a.3","event":{"version":3,"fetched_at_unix":1700000000,"stale":false}}"#
        );
        // The browser reads the event generically first, then as the topic's type.
        let generic: Result<ServerMessage<serde_json::Value>, _> = serde_json::from_str(&text);
        let Ok(ServerMessage::Event(envelope)) = generic else {
            panic!("not an event: {generic:?}");
        };
        assert_eq!(envelope.cursor, Some(Cursor::new("a.3")));
        let typed: Result<ClusterEvent, _> = serde_json::from_value(envelope.event);
        assert_eq!(typed.ok().and_then(|e| e.version), Some(3));
    }

    #[test]
    fn log_events_are_tagged_by_kind() {
        let gap = LogsEvent::Gap { missed: 3 };
        assert_eq!(json(&gap), r#"{"kind":"gap","missed":3}"#);
        let entry = LogsEvent::Entry(crate::logs::LogEntry {
            seq: 7,
            at_unix_ms: 1_000,
            stream: crate::logs::LogStream::Stdout,
            level: Some(crate::logs::Level::Info),
            proxlb_time: None,
            message: "hello".into(),
            event: crate::logs::LogEvent::Other,
            raw: "hello".into(),
        });
        let text = json(&entry);
        assert!(text.starts_with(r#"{"kind":"entry","seq":7,"#), "{text}");
        let back: Result<LogsEvent, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(entry));
    }

    #[test]
    fn client_messages_are_tagged_by_op_and_cursors_are_optional() {
        let parsed: Result<ClientMessage, _> =
            serde_json::from_str(r#"{"op":"subscribe","topics":[{"topic":"cluster"}]}"#);
        assert_eq!(
            parsed.ok(),
            Some(ClientMessage::Subscribe {
                topics: vec![Subscription {
                    topic: "cluster".into(),
                    cursor: None
                }]
            })
        );
        let unsubscribe = ClientMessage::Unsubscribe {
            topics: vec!["cluster".into()],
        };
        assert_eq!(
            json(&unsubscribe),
            r#"{"op":"unsubscribe","topics":["cluster"]}"#
        );
        let unknown: Result<ClientMessage, _> = serde_json::from_str(r#"{"op":"shout"}"#);
        assert!(unknown.is_err());
    }
}
