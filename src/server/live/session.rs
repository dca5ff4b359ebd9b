//! One live connection: hello, the client's subscriptions, heartbeats, and the writer that
//! drains the connection's outbox under a write timeout.
//!
//! Everything runs in the connection's own task except the topic producers (one task per
//! subscription, aborted when it ends), so a client that stops reading stalls nobody else, and
//! shutdown ends the connection at once whatever it is doing.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::stream::BoxStream;
use futures::{Sink, SinkExt, Stream, StreamExt};
use plb_backend::AppState;
use plb_domain::live::{
    ClientMessage, ControlMessage, ErrorCode, Hello, Limits, ProtocolError, ServerMessage,
    Subscription, MAX_CURSOR_BYTES, MAX_TOPICS_PER_MESSAGE, MAX_TOPIC_BYTES, PROTOCOL_VERSION,
};
use tokio::task::JoinHandle;

use super::outbox::{Outbox, SubscriptionId};
use super::topics::{registry, Published, Topics};
use super::LiveConfig;

/// Close code 1001: the server is going away.
const GOING_AWAY: u16 = 1001;

/// Close code 1009: the client sent a message larger than the limit.
const TOO_BIG: u16 = 1009;

/// How long the closing handshake may take before the socket is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Why a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The server is shutting down.
    Shutdown,
    /// The client closed the connection, or it broke.
    ClientLeft,
    /// The client sent a message over the size limit.
    TooBig,
    /// The client did not read a message within the write timeout.
    TooSlow,
}

/// Serves one connection until the client leaves, misbehaves, or the server shuts down.
pub async fn serve(socket: WebSocket, state: AppState, config: LiveConfig) {
    let topics = registry(&state);
    let outbox = Arc::new(Outbox::new(config.outbox));
    outbox
        .control(control(&hello(&state, &topics, &config)))
        .await;
    let (mut sink, mut stream) = socket.split();
    let mut session = Session {
        topics: &topics,
        outbox: &outbox,
        producers: HashMap::new(),
    };
    let end = tokio::select! {
        biased;
        () = state.shutdown.cancelled() => End::Shutdown,
        end = write(&mut sink, &outbox, config.write_timeout) => end,
        end = session.read(&mut stream) => end,
        never = heartbeat(&outbox, &state, config.heartbeat) => match never {},
    };
    // Stops the producers before anything else.
    drop(session);
    tracing::debug!(?end, "live connection ended");
    match end {
        End::Shutdown => {
            let goodbye = async {
                sink.send(Message::Text(control(&ServerMessage::ShuttingDown).into()))
                    .await?;
                sink.send(close(GOING_AWAY, "server shutting down")).await
            };
            let _ignored = tokio::time::timeout(CLOSE_GRACE, goodbye).await;
        }
        End::TooBig => {
            let _ignored =
                tokio::time::timeout(CLOSE_GRACE, sink.send(close(TOO_BIG, "message too big")))
                    .await;
        }
        // Completes the closing handshake the client started (tungstenite queued the reply).
        End::ClientLeft => {
            let _ignored = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
        }
        End::TooSlow => {
            tracing::info!(
                timeout = ?config.write_timeout,
                "live client dropped: it stopped reading"
            );
        }
    }
}

/// The requests of one connection and the producers of its subscriptions.
struct Session<'a> {
    topics: &'a Topics,
    outbox: &'a Arc<Outbox>,
    /// One producer task per subscribed topic.
    producers: HashMap<&'static str, Producer>,
}

/// A subscription's producer task; aborted when dropped.
struct Producer(JoinHandle<()>);

impl Drop for Producer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Session<'_> {
    /// Reads the client's requests until it leaves or breaks a limit.
    async fn read<S>(&mut self, stream: &mut S) -> End
    where
        S: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        while let Some(message) = stream.next().await {
            match message {
                Ok(Message::Text(text)) => self.handle(text.as_str()).await,
                Ok(Message::Binary(_)) => {
                    self.error(
                        ErrorCode::BadMessage,
                        None,
                        "binary frames are not part of the protocol".into(),
                    )
                    .await
                }
                Ok(Message::Close(_)) => return End::ClientLeft,
                // Pings are answered by the WebSocket layer.
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                Err(error) if is_too_big(&error) => return End::TooBig,
                Err(_) => return End::ClientLeft,
            }
        }
        End::ClientLeft
    }

    /// Carries out one request; every problem is answered with an `error` message.
    async fn handle(&mut self, text: &str) {
        let request = match serde_json::from_str::<ClientMessage>(text) {
            Ok(request) => request,
            Err(error) => {
                let message = format!(
                    "not a message of the live protocol ({}); expected {{\"op\":\"subscribe\",\"topics\":[…]}} or {{\"op\":\"unsubscribe\",\"topics\":[…]}}",
                    bounded(&error.to_string())
                );
                return self.error(ErrorCode::BadMessage, None, message).await;
            }
        };
        let count = match &request {
            ClientMessage::Subscribe { topics } => topics.len(),
            ClientMessage::Unsubscribe { topics } => topics.len(),
        };
        if count > MAX_TOPICS_PER_MESSAGE {
            let message = format!("at most {MAX_TOPICS_PER_MESSAGE} topics per message");
            return self.error(ErrorCode::BadMessage, None, message).await;
        }
        match request {
            ClientMessage::Subscribe { topics } => {
                for subscription in topics {
                    self.subscribe(subscription).await;
                }
            }
            ClientMessage::Unsubscribe { topics } => {
                for topic in topics {
                    self.unsubscribe(&topic).await;
                }
            }
        }
    }

    async fn subscribe(&mut self, Subscription { topic, cursor }: Subscription) {
        let Some(source) = self.topic(&topic).await else {
            return;
        };
        let name = source.name();
        if cursor
            .as_ref()
            .is_some_and(|c| c.as_str().len() > MAX_CURSOR_BYTES)
        {
            let message = format!("cursors are at most {MAX_CURSOR_BYTES} bytes");
            return self.error(ErrorCode::BadCursor, Some(name), message).await;
        }
        let events = match source.subscribe(cursor.as_ref()) {
            Ok(events) => events,
            Err(bad) => {
                return self
                    .error(ErrorCode::BadCursor, Some(name), bad.reason)
                    .await
            }
        };
        // A new subscription replaces an earlier one: nothing of the old one follows the ack.
        self.producers.remove(name);
        self.outbox.unsubscribe(name);
        let ack: ControlMessage = ServerMessage::Subscribed {
            topic: name.to_owned(),
        };
        self.outbox.control(control(&ack)).await;
        let id = self.outbox.subscribe(name, source.delivery());
        let task = tokio::spawn(produce(events, name, id, Arc::clone(self.outbox)));
        self.producers.insert(name, Producer(task));
    }

    async fn unsubscribe(&mut self, topic: &str) {
        let Some(source) = self.topic(topic).await else {
            return;
        };
        let name = source.name();
        self.producers.remove(name);
        self.outbox.unsubscribe(name);
        let ack: ControlMessage = ServerMessage::Unsubscribed {
            topic: name.to_owned(),
        };
        self.outbox.control(control(&ack)).await;
    }

    /// The topic named `name`, or `None` after telling the client there is none.
    async fn topic(&self, name: &str) -> Option<Arc<dyn super::topics::AnyTopicSource>> {
        let found = self.topics.get(name);
        if found.is_none() {
            let shown = bounded_to(name, MAX_TOPIC_BYTES);
            let message = format!(
                "no topic {shown:?}; this server offers: {}",
                self.topics.names().join(", ")
            );
            self.error(ErrorCode::UnknownTopic, Some(&shown), message)
                .await;
        }
        found
    }

    async fn error(&self, code: ErrorCode, topic: Option<&str>, message: String) {
        let error: ControlMessage = ServerMessage::Error(ProtocolError {
            code,
            topic: topic.map(str::to_owned),
            message,
        });
        self.outbox.control(control(&error)).await;
    }
}

/// Moves one subscription's events into the outbox until it ends.
async fn produce(
    mut events: BoxStream<'static, Published>,
    topic: &'static str,
    id: SubscriptionId,
    outbox: Arc<Outbox>,
) {
    while let Some(published) = events.next().await {
        if !outbox.event(topic, id, published.frame) {
            return;
        }
    }
}

/// Writes what the outbox holds; ends when the client stops taking messages within
/// `timeout` or the connection breaks.
pub(super) async fn write<S>(sink: &mut S, outbox: &Outbox, timeout: Duration) -> End
where
    S: Sink<Message> + Unpin,
{
    loop {
        for text in outbox.next().await {
            match tokio::time::timeout(timeout, sink.send(Message::Text(text.into()))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return End::ClientLeft,
                Err(_elapsed) => return End::TooSlow,
            }
        }
    }
}

/// Queues a heartbeat every `every`.
async fn heartbeat(outbox: &Outbox, state: &AppState, every: Duration) -> Infallible {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let uptime_seconds = plb_backend::services::server_info::server_info(state).uptime_seconds;
        outbox.heartbeat(control(&ServerMessage::Heartbeat { uptime_seconds }));
    }
}

fn hello(state: &AppState, topics: &Topics, config: &LiveConfig) -> ControlMessage {
    ServerMessage::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        server: plb_backend::services::server_info::server_info(state),
        topics: topics.names(),
        limits: Limits {
            max_message_bytes: u64::try_from(config.max_message_bytes).unwrap_or(u64::MAX),
            heartbeat_ms: millis(config.heartbeat),
            write_timeout_ms: millis(config.write_timeout),
        },
    })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn control(message: &ControlMessage) -> String {
    // Control messages are plain data: serializing them cannot fail.
    serde_json::to_string(message).unwrap_or_default()
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Whether reading failed because the client's message was over the size limit.
///
/// axum does not re-export tungstenite's error type to match on; its capacity error (frame or
/// message too long) is the one whose text starts like this.
fn is_too_big(error: &axum::Error) -> bool {
    error.to_string().starts_with("Space limit exceeded")
}

/// `text` cut to a length fit for an error message.
fn bounded(text: &str) -> String {
    bounded_to(text, 200)
}

fn bounded_to(text: &str, max_bytes: usize) -> String {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;
    use crate::server::live::OutboxLimits;

    /// A client that never takes a message: its sink is never ready.
    struct Stuck;

    impl Sink<Message> for Stuck {
        type Error = axum::Error;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), Self::Error> {
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_is_dropped_after_the_write_timeout() {
        let outbox = Outbox::new(OutboxLimits::default());
        outbox.heartbeat("{}".into());
        let end = tokio::time::timeout(
            Duration::from_secs(5),
            write(&mut Stuck, &outbox, Duration::from_millis(20)),
        )
        .await;
        assert_eq!(end.ok(), Some(End::TooSlow));
    }

    #[tokio::test]
    async fn the_writer_sends_in_order_until_the_client_is_gone() {
        let (sink, mut received) = futures::channel::mpsc::unbounded::<Message>();
        let outbox = Outbox::new(OutboxLimits::default());
        outbox.control("a".into()).await;
        outbox.control("b".into()).await;
        let mut sink = sink.sink_map_err(axum::Error::new);
        let writer = write(&mut sink, &outbox, Duration::from_secs(5));
        let reader = async {
            let first = received.next().await;
            let second = received.next().await;
            drop(received);
            outbox.control("c".into()).await;
            (first, second)
        };
        let (end, (first, second)) = tokio::join!(writer, reader);
        assert_eq!(first, Some(Message::Text("a".into())));
        assert_eq!(second, Some(Message::Text("b".into())));
        assert_eq!(end, End::ClientLeft);
    }

    #[test]
    fn error_texts_are_bounded_on_a_character_boundary() {
        assert_eq!(bounded_to("äöü", 3), "ä");
        assert_eq!(bounded_to("abc", 10), "abc");
        assert!(bounded(&"x".repeat(10_000)).len() <= 200);
    }
}
