//! The browser's client of the live channel, for any page: one WebSocket per tab, opened after
//! hydration, reconnecting with capped exponential backoff, and [`use_live_topic`] to listen
//! to a topic. The client subscribes to a topic while at least one listener wants it, resumes
//! every topic from its last cursor after a reconnect, and unsubscribes when the last listener
//! goes. On the server (SSR) there is no connection and listening does nothing.
//!
//! The protocol is described in `docs/live-protocol.md`.

use leptos::prelude::*;
use plb_domain::live::Topic;

/// State of the live connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveConnection {
    /// Not connected and not trying (server render, or no JavaScript).
    Off,
    /// Opening the socket.
    Connecting,
    /// Connected; events arrive.
    Open,
    /// Lost; the next attempt starts after this many seconds.
    Retrying {
        /// Seconds until the next attempt.
        in_seconds: u32,
    },
}

impl LiveConnection {
    /// Modifier for the `plb-live` block's CSS class.
    pub fn css_modifier(self) -> &'static str {
        match self {
            LiveConnection::Off => "off",
            LiveConnection::Connecting => "connecting",
            LiveConnection::Open => "open",
            LiveConnection::Retrying { .. } => "retrying",
        }
    }

    /// A short label for people.
    pub fn label(self) -> String {
        match self {
            LiveConnection::Off => "Live updates off".to_owned(),
            LiveConnection::Connecting => "Connecting…".to_owned(),
            LiveConnection::Open => "Live".to_owned(),
            LiveConnection::Retrying { in_seconds } => format!("Reconnecting in {in_seconds}s"),
        }
    }
}

/// Backoff before reconnect attempt `attempt` (0-based): 1, 2, 4, 8, 16, 30, 30, … seconds.
pub fn backoff_seconds(attempt: u32) -> u32 {
    2u32.saturating_pow(attempt).min(30)
}

/// What a topic's listener receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicUpdate<E> {
    /// An event of the topic.
    Event(E),
    /// The server dropped this many events of the topic because the tab read too slowly; the
    /// next event follows the gap.
    Missed {
        /// How many events were dropped.
        count: u64,
    },
}

/// The tab's live channel client, provided as context by [`provide_live_client`].
#[derive(Clone, Copy, Debug)]
pub struct LiveClient {
    /// Connection state.
    pub connection: RwSignal<LiveConnection>,
    /// Server uptime from the latest hello or heartbeat, if one arrived.
    pub uptime_seconds: RwSignal<Option<u64>>,
    #[cfg(feature = "hydrate")]
    shared: StoredValue<browser::Shared, LocalStorage>,
}

/// Provides the client of the channel at `path` and, in the browser, connects after hydration.
pub fn provide_live_client(path: &'static str) -> LiveClient {
    let client = LiveClient {
        connection: RwSignal::new(LiveConnection::Off),
        uptime_seconds: RwSignal::new(None),
        #[cfg(feature = "hydrate")]
        shared: StoredValue::new_local(browser::Shared::new(path)),
    };
    #[cfg(not(feature = "hydrate"))]
    let _server_renders_never_connect = path;
    provide_context(client);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::connect(client, 0);
    });
    client
}

/// Calls `on_update` with every event of topic `T` while the calling component lives (needs
/// [`provide_live_client`] above it). Listeners get the events that arrive after they start;
/// the first listener of a topic also gets the topic's current state if it is a state topic.
pub fn use_live_topic<T>(on_update: impl Fn(TopicUpdate<T::Event>) + 'static)
where
    T: Topic,
    T::Event: 'static,
{
    use_live_topic_after::<T>(None, on_update);
}

/// Like [`use_live_topic`], but the topic resumes after `cursor` (e.g. the cursor a history page
/// came with, so history and live join without a gap or a duplicate). The cursor applies when
/// this is the topic's first listener; a cursor the server refuses falls back to the present.
pub fn use_live_topic_after<T>(
    cursor: Option<plb_domain::live::Cursor>,
    on_update: impl Fn(TopicUpdate<T::Event>) + 'static,
) where
    T: Topic,
    T::Event: 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use std::rc::Rc;

        use registry::Incoming;

        let Some(client) = use_context::<LiveClient>() else {
            leptos::logging::warn!("use_live_topic({}) without a live client", T::NAME);
            return;
        };
        let listener: registry::Listener = Rc::new(move |incoming: &Incoming| match incoming {
            // Through bytes, not `from_value`: server functions decode these types with the
            // byte reader already, so the WASM holds one deserializer per type, not two.
            Incoming::Event(value) => match serde_json::to_vec(value)
                .and_then(|bytes| serde_json::from_slice::<T::Event>(&bytes))
            {
                Ok(event) => on_update(TopicUpdate::Event(event)),
                Err(error) => {
                    leptos::logging::warn!("live topic {}: unreadable event: {error}", T::NAME)
                }
            },
            Incoming::Missed(count) => on_update(TopicUpdate::Missed { count: *count }),
        });
        let id = browser::listen(client, T::NAME, cursor, listener);
        on_cleanup(move || browser::unlisten(client, id));
    }
    #[cfg(not(feature = "hydrate"))]
    drop((cursor, on_update));
}

/// The client's bookkeeping, free of browser APIs so it is tested natively: which topics are
/// wanted, by whom, and from which cursor; what to send when; whom to call with what.
#[cfg(any(feature = "hydrate", test))]
mod registry {
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use plb_domain::live::{
        ClientMessage, Cursor, ErrorCode, ServerMessage, Subscription, MAX_TOPICS_PER_MESSAGE,
    };

    /// An update as listeners get it, before they read the event as their topic's type.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Incoming {
        /// An event, as JSON.
        Event(serde_json::Value),
        /// Events dropped by the server.
        Missed(u64),
    }

    /// A listener of one topic.
    pub type Listener = Rc<dyn Fn(&Incoming)>;

    /// Identifies a listener, to remove it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ListenerId(u64);

    /// What to do about a message from the server.
    pub enum Received {
        /// Call these listeners with this update.
        Dispatch(Vec<Listener>, Incoming),
        /// The server said hello: its uptime and heartbeat interval.
        Hello {
            /// Server uptime.
            uptime_seconds: u64,
            /// Heartbeat interval.
            heartbeat_ms: u64,
        },
        /// A heartbeat with the server's uptime.
        Uptime(u64),
        /// Send this to the server.
        Reply(ClientMessage),
        /// Something to note in the console.
        Warn(String),
        /// Nothing to do.
        Nothing,
    }

    #[derive(Default)]
    struct Wanted {
        cursor: Option<Cursor>,
        listeners: Vec<(ListenerId, Listener)>,
    }

    /// Topics with listeners, and whether the connection is open.
    #[derive(Default)]
    pub struct Registry {
        topics: BTreeMap<String, Wanted>,
        next_id: u64,
        open: bool,
    }

    impl Registry {
        /// Adds a listener of `topic`; returns its id and, when it is the topic's first
        /// listener on an open connection, the subscribe message to send.
        #[cfg(test)]
        pub fn listen(
            &mut self,
            topic: &str,
            listener: Listener,
        ) -> (ListenerId, Option<ClientMessage>) {
            self.listen_after(topic, None, listener)
        }

        /// [`Self::listen`], resuming the topic after `cursor` if this is its first listener.
        pub fn listen_after(
            &mut self,
            topic: &str,
            cursor: Option<Cursor>,
            listener: Listener,
        ) -> (ListenerId, Option<ClientMessage>) {
            self.next_id += 1;
            let id = ListenerId(self.next_id);
            let wanted = self.topics.entry(topic.to_owned()).or_default();
            let first = wanted.listeners.is_empty();
            if first {
                wanted.cursor = cursor;
            }
            wanted.listeners.push((id, listener));
            let message = (first && self.open).then(|| ClientMessage::Subscribe {
                topics: vec![Subscription {
                    topic: topic.to_owned(),
                    cursor: wanted.cursor.clone(),
                }],
            });
            (id, message)
        }

        /// Removes a listener; returns the unsubscribe message to send when it was its
        /// topic's last one on an open connection. The topic's cursor is forgotten with it.
        pub fn unlisten(&mut self, id: ListenerId) -> Option<ClientMessage> {
            let topic = self
                .topics
                .iter()
                .find(|(_, wanted)| wanted.listeners.iter().any(|(each, _)| *each == id))
                .map(|(topic, _)| topic.clone())?;
            let wanted = self.topics.get_mut(&topic)?;
            wanted.listeners.retain(|(each, _)| *each != id);
            if !wanted.listeners.is_empty() {
                return None;
            }
            self.topics.remove(&topic);
            self.open.then(|| ClientMessage::Unsubscribe {
                topics: vec![topic],
            })
        }

        /// The connection opened: the messages that subscribe every wanted topic, each from
        /// its last cursor.
        pub fn opened(&mut self) -> Vec<ClientMessage> {
            self.open = true;
            let all: Vec<Subscription> = self
                .topics
                .iter()
                .map(|(topic, wanted)| Subscription {
                    topic: topic.clone(),
                    cursor: wanted.cursor.clone(),
                })
                .collect();
            all.chunks(MAX_TOPICS_PER_MESSAGE)
                .map(|chunk| ClientMessage::Subscribe {
                    topics: chunk.to_vec(),
                })
                .collect()
        }

        /// The connection closed (subscriptions end with it; cursors are kept).
        pub fn closed(&mut self) {
            self.open = false;
        }

        /// Reads one message from the server.
        pub fn receive(&mut self, text: &str) -> Received {
            // The byte reader, as everywhere in the client (src/api/resource.rs says why).
            let message =
                match serde_json::from_slice::<ServerMessage<serde_json::Value>>(text.as_bytes()) {
                    Ok(message) => message,
                    // A newer server may send what this client does not know: ignore it.
                    Err(_) => return Received::Nothing,
                };
            match message {
                ServerMessage::Hello(hello) => Received::Hello {
                    uptime_seconds: hello.server.uptime_seconds,
                    heartbeat_ms: hello.limits.heartbeat_ms,
                },
                ServerMessage::Heartbeat { uptime_seconds } => Received::Uptime(uptime_seconds),
                ServerMessage::Event(envelope) => match self.topics.get_mut(&envelope.topic) {
                    Some(wanted) => {
                        wanted.cursor = envelope.cursor;
                        Received::Dispatch(listeners(wanted), Incoming::Event(envelope.event))
                    }
                    // Still in flight when the last listener left.
                    None => Received::Nothing,
                },
                ServerMessage::Dropped { topic, count } => match self.topics.get(&topic) {
                    Some(wanted) => Received::Dispatch(listeners(wanted), Incoming::Missed(count)),
                    None => Received::Nothing,
                },
                ServerMessage::Error(error) => match (error.code, error.topic) {
                    // The topic cannot resume from our cursor: start from its present.
                    (ErrorCode::BadCursor, Some(topic)) => match self.topics.get_mut(&topic) {
                        Some(wanted) if wanted.cursor.is_some() => {
                            wanted.cursor = None;
                            Received::Reply(ClientMessage::Subscribe {
                                topics: vec![Subscription {
                                    topic,
                                    cursor: None,
                                }],
                            })
                        }
                        _ => Received::Warn(error.message),
                    },
                    _ => Received::Warn(error.message),
                },
                ServerMessage::Subscribed { .. }
                | ServerMessage::Unsubscribed { .. }
                | ServerMessage::ShuttingDown => Received::Nothing,
            }
        }
    }

    fn listeners(wanted: &Wanted) -> Vec<Listener> {
        wanted
            .listeners
            .iter()
            .map(|(_, listener)| Rc::clone(listener))
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use std::cell::RefCell;

        use super::*;

        fn recorder() -> (Listener, Rc<RefCell<Vec<Incoming>>>) {
            let seen = Rc::new(RefCell::new(Vec::new()));
            let sink = Rc::clone(&seen);
            (
                Rc::new(move |incoming: &Incoming| sink.borrow_mut().push(incoming.clone())),
                seen,
            )
        }

        fn subscribe(topic: &str, cursor: Option<&str>) -> ClientMessage {
            ClientMessage::Subscribe {
                topics: vec![Subscription {
                    topic: topic.into(),
                    cursor: cursor.map(Cursor::new),
                }],
            }
        }

        fn deliver(registry: &mut Registry, text: &str) {
            if let Received::Dispatch(listeners, incoming) = registry.receive(text) {
                for listener in listeners {
                    listener(&incoming);
                }
            }
        }

        #[test]
        fn listening_subscribes_once_per_topic_and_only_when_open() {
            let mut registry = Registry::default();
            let (a, _) = recorder();
            let (b, _) = recorder();
            // Before the connection opens nothing is sent; opening subscribes.
            let (first, message) = registry.listen("cluster", a);
            assert_eq!(message, None);
            assert_eq!(registry.opened(), vec![subscribe("cluster", None)]);
            // A second listener of the same topic needs no second subscription.
            let (second, message) = registry.listen("cluster", b);
            assert_eq!(message, None);
            assert_eq!(registry.unlisten(first), None);
            assert_eq!(
                registry.unlisten(second),
                Some(ClientMessage::Unsubscribe {
                    topics: vec!["cluster".into()]
                })
            );
            let (c, _) = recorder();
            assert_eq!(registry.listen("logs", c).1, Some(subscribe("logs", None)));
        }

        #[test]
        fn events_reach_their_topics_listeners_and_move_the_cursor() {
            let mut registry = Registry::default();
            let (cluster, cluster_seen) = recorder();
            let (logs, logs_seen) = recorder();
            registry.listen("cluster", cluster);
            registry.listen("logs", logs);
            registry.opened();
            deliver(
                &mut registry,
                r#"{"type":"event","topic":"cluster","cursor":"a.2","event":{"version":2}}"#,
            );
            deliver(
                &mut registry,
                r#"{"type":"dropped","topic":"cluster","count":3}"#,
            );
            assert_eq!(
                *cluster_seen.borrow(),
                vec![
                    Incoming::Event(serde_json::json!({"version": 2})),
                    Incoming::Missed(3)
                ]
            );
            assert!(logs_seen.borrow().is_empty());
            // After a reconnect each topic resumes from its own last cursor.
            registry.closed();
            assert_eq!(
                registry.opened(),
                vec![ClientMessage::Subscribe {
                    topics: vec![
                        Subscription {
                            topic: "cluster".into(),
                            cursor: Some(Cursor::new("a.2"))
                        },
                        Subscription {
                            topic: "logs".into(),
                            cursor: None
                        },
                    ]
                }]
            );
        }

        #[test]
        fn the_first_listener_may_resume_from_a_cursor() {
            let mut registry = Registry::default();
            let (first, _) = recorder();
            let (second, _) = recorder();
            let (_, message) = registry.listen_after("logs", Some(Cursor::new("e.7")), first);
            assert_eq!(message, None);
            // A later listener does not move the topic's cursor.
            registry.listen_after("logs", Some(Cursor::new("e.1")), second);
            assert_eq!(registry.opened(), vec![subscribe("logs", Some("e.7"))]);
            // On an open connection the subscription carries the cursor at once.
            let (third, _) = recorder();
            let (_, message) = registry.listen_after("runs", Some(Cursor::new("r.2")), third);
            assert_eq!(message, Some(subscribe("runs", Some("r.2"))));
        }

        #[test]
        fn a_refused_cursor_is_dropped_and_the_topic_subscribed_afresh() {
            let mut registry = Registry::default();
            let (listener, _) = recorder();
            registry.listen("cluster", listener);
            registry.opened();
            registry.receive(r#"{"type":"event","topic":"cluster","cursor":"x","event":{}}"#);
            let refused =
                r#"{"type":"error","code":"bad_cursor","topic":"cluster","message":"no"}"#;
            assert!(matches!(
                registry.receive(refused),
                Received::Reply(message) if message == subscribe("cluster", None)
            ));
            // Refused again without a cursor: nothing more to try.
            assert!(matches!(registry.receive(refused), Received::Warn(text) if text == "no"));
        }

        #[test]
        fn hello_heartbeats_and_unknown_messages() {
            let mut registry = Registry::default();
            let hello = r#"{"type":"hello","protocol":1,"server":{"version":"0.1.0","started_at_unix":1,"uptime_seconds":5,"demo":false},"topics":["cluster"],"limits":{"max_message_bytes":16384,"heartbeat_ms":10000,"write_timeout_ms":10000}}"#;
            assert!(matches!(
                registry.receive(hello),
                Received::Hello {
                    uptime_seconds: 5,
                    heartbeat_ms: 10_000
                }
            ));
            assert!(matches!(
                registry.receive(r#"{"type":"heartbeat","uptime_seconds":9}"#),
                Received::Uptime(9)
            ));
            assert!(matches!(
                registry.receive(r#"{"type":"from_the_future"}"#),
                Received::Nothing
            ));
            // Events of a topic nobody listens to any more are ignored.
            assert!(matches!(
                registry.receive(r#"{"type":"event","topic":"logs","cursor":null,"event":1}"#),
                Received::Nothing
            ));
        }

        #[test]
        fn many_topics_are_split_into_messages_the_server_accepts() {
            let mut registry = Registry::default();
            for n in 0..(MAX_TOPICS_PER_MESSAGE + 1) {
                let (listener, _) = recorder();
                registry.listen(&format!("t{n}"), listener);
            }
            let messages = registry.opened();
            assert_eq!(messages.len(), 2);
            assert!(messages.iter().all(|m| matches!(
                m,
                ClientMessage::Subscribe { topics } if topics.len() <= MAX_TOPICS_PER_MESSAGE
            )));
        }
    }
}

/// The WebSocket in the browser.
#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;
    use std::rc::Rc;

    use gloo_timers::callback::{Interval, Timeout};
    use leptos::prelude::*;
    use plb_domain::live::ClientMessage;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{MessageEvent, WebSocket};

    use super::registry::{Listener, ListenerId, Received, Registry};
    use super::{backoff_seconds, LiveClient, LiveConnection};

    /// Heartbeats that may go missing before the connection counts as dead.
    const MISSED_BEATS: u32 = 3;

    /// The client's state in the browser (shared by the socket's callbacks).
    #[derive(Clone)]
    pub struct Shared(Rc<RefCell<State>>);

    struct State {
        path: &'static str,
        registry: Registry,
        socket: Option<WebSocket>,
        /// The callbacks of `socket`, kept alive as long as it is.
        callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
        /// Closes a connection that has gone silent.
        watchdog: Option<Interval>,
        /// Watchdog ticks since the last message.
        silent_ticks: Rc<RefCell<u32>>,
    }

    impl Shared {
        /// No connection yet.
        pub fn new(path: &'static str) -> Self {
            Self(Rc::new(RefCell::new(State {
                path,
                registry: Registry::default(),
                socket: None,
                callbacks: Vec::new(),
                watchdog: None,
                silent_ticks: Rc::new(RefCell::new(0)),
            })))
        }
    }

    fn shared(client: LiveClient) -> Shared {
        client.shared.get_value()
    }

    /// Adds a listener, subscribing when it is its topic's first.
    pub fn listen(
        client: LiveClient,
        topic: &str,
        cursor: Option<plb_domain::live::Cursor>,
        listener: Listener,
    ) -> ListenerId {
        let shared = shared(client);
        let mut state = shared.0.borrow_mut();
        let (id, message) = state.registry.listen_after(topic, cursor, listener);
        if let (Some(message), Some(socket)) = (message, state.socket.as_ref()) {
            send(socket, &message);
        }
        id
    }

    /// Removes a listener, unsubscribing when it was its topic's last.
    pub fn unlisten(client: LiveClient, id: ListenerId) {
        let shared = shared(client);
        let mut state = shared.0.borrow_mut();
        let message = state.registry.unlisten(id);
        if let (Some(message), Some(socket)) = (message, state.socket.as_ref()) {
            send(socket, &message);
        }
    }

    fn send(socket: &WebSocket, message: &ClientMessage) {
        if let Ok(text) = serde_json::to_string(message) {
            // A failed send means the socket is closing; its close handler reconnects.
            let _ignored = socket.send_with_str(&text);
        }
    }

    /// Opens the socket; when it closes, schedules the next attempt.
    pub fn connect(client: LiveClient, attempt: u32) {
        let shared = shared(client);
        let path = shared.0.borrow().path;
        let Some(url) = live_url(path) else {
            return;
        };
        client.connection.set(LiveConnection::Connecting);
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => {
                retry_later(client, attempt + 1);
                return;
            }
        };

        let on_open = {
            let shared = shared.clone();
            let socket = socket.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                client.connection.set(LiveConnection::Open);
                let messages = shared.0.borrow_mut().registry.opened();
                for message in &messages {
                    send(&socket, message);
                }
            })
        };
        let on_message = {
            let shared = shared.clone();
            let socket = socket.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                let Some(text) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|event| event.data().as_string())
                else {
                    return;
                };
                let (received, silent) = {
                    let mut state = shared.0.borrow_mut();
                    (
                        state.registry.receive(&text),
                        Rc::clone(&state.silent_ticks),
                    )
                };
                *silent.borrow_mut() = 0;
                // The borrow is released: listeners may listen or unlisten themselves.
                match received {
                    Received::Dispatch(listeners, incoming) => {
                        for listener in listeners {
                            listener(&incoming);
                        }
                    }
                    Received::Hello {
                        uptime_seconds,
                        heartbeat_ms,
                    } => {
                        client.uptime_seconds.set(Some(uptime_seconds));
                        watch(client, &shared, &socket, heartbeat_ms);
                    }
                    Received::Uptime(seconds) => client.uptime_seconds.set(Some(seconds)),
                    Received::Reply(message) => send(&socket, &message),
                    Received::Warn(text) => leptos::logging::warn!("live channel: {text}"),
                    Received::Nothing => {}
                }
            })
        };
        let on_close = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| lost(client, attempt));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

        let mut state = shared.0.borrow_mut();
        // The previous socket is closed: its callbacks can go.
        if let Some(old) = state.socket.take() {
            detach(&old);
        }
        state.socket = Some(socket);
        state.callbacks = vec![on_open, on_message, on_close];
    }

    fn detach(socket: &WebSocket) {
        socket.set_onopen(None);
        socket.set_onmessage(None);
        socket.set_onclose(None);
    }

    /// The connection is gone: its subscriptions ended with it (cursors are kept); try again
    /// after a backoff. A socket that was open starts the backoff from scratch; one that never
    /// opened backs off further.
    fn lost(client: LiveClient, attempt: u32) {
        {
            let shared = shared(client);
            let mut state = shared.0.borrow_mut();
            state.registry.closed();
            state.watchdog = None;
            // Its callbacks stay alive (one of them may be running) until the next connect, but
            // are detached now: a late message from it must not reach a dropped callback.
            if let Some(socket) = state.socket.take() {
                detach(&socket);
            }
        }
        let next = if client.connection.get_untracked() == LiveConnection::Open {
            0
        } else {
            attempt + 1
        };
        retry_later(client, next);
    }

    /// Gives up on the socket when no message arrived for [`MISSED_BEATS`] heartbeat
    /// intervals, so a connection that died silently (a sleeping laptop, a dropped network) is
    /// replaced without waiting for the browser to notice.
    fn watch(client: LiveClient, shared: &Shared, socket: &WebSocket, heartbeat_ms: u64) {
        let every = u32::try_from(heartbeat_ms.max(1000)).unwrap_or(u32::MAX);
        let silent = Rc::clone(&shared.0.borrow().silent_ticks);
        *silent.borrow_mut() = 0;
        let socket = socket.clone();
        let interval = Interval::new(every, move || {
            let mut ticks = silent.borrow_mut();
            *ticks += 1;
            if *ticks == MISSED_BEATS {
                // This socket must not report its own close later: it is replaced now.
                socket.set_onclose(None);
                let _ignored = socket.close();
                // Not from inside this callback: `lost` drops the interval running it.
                Timeout::new(0, move || lost(client, 0)).forget();
            }
        });
        shared.0.borrow_mut().watchdog = Some(interval);
    }

    fn retry_later(client: LiveClient, attempt: u32) {
        let delay = backoff_seconds(attempt);
        client
            .connection
            .set(LiveConnection::Retrying { in_seconds: delay });
        Timeout::new(delay * 1000, move || connect(client, attempt)).forget();
    }

    fn live_url(path: &str) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}{path}", location.host().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_thirty_seconds() {
        let delays: Vec<u32> = (0..8).map(backoff_seconds).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff_seconds(u32::MAX), 30);
    }

    #[test]
    fn labels_say_what_is_happening() {
        assert_eq!(LiveConnection::Open.label(), "Live");
        assert_eq!(
            LiveConnection::Retrying { in_seconds: 4 }.label(),
            "Reconnecting in 4s"
        );
    }
}
