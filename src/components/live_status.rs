//! The live push channel (`/ws/live`) on the browser side, and its status indicator.
//!
//! One WebSocket per tab, opened after hydration, reconnecting with capped exponential backoff.
//! Later views subscribe to its events through [`LiveContext`].

use leptos::prelude::*;

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

/// Live data shared through context.
#[derive(Clone, Copy, Debug)]
pub struct LiveContext {
    /// Connection state.
    pub connection: RwSignal<LiveConnection>,
    /// Server uptime from the latest event, if any arrived.
    pub uptime_seconds: RwSignal<Option<u64>>,
    /// Version of the latest cluster view announced by the server; pages showing cluster data
    /// use it as a resource source, so they refetch (from the server's cache) when it changes.
    pub cluster_version: RwSignal<Option<u64>>,
}

/// Backoff before reconnect attempt `attempt` (0-based): 1, 2, 4, 8, 16, 30, 30, … seconds.
pub fn backoff_seconds(attempt: u32) -> u32 {
    2u32.saturating_pow(attempt).min(30)
}

/// Provides the live context and, in the browser, opens the channel after hydration.
pub fn provide_live() {
    let context = LiveContext {
        connection: RwSignal::new(LiveConnection::Off),
        uptime_seconds: RwSignal::new(None),
        cluster_version: RwSignal::new(None),
    };
    provide_context(context);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        client::connect(context, 0);
    });
}

/// The connection indicator in the top bar.
#[component]
pub fn LiveStatus() -> impl IntoView {
    let LiveContext { connection, .. } = expect_context::<LiveContext>();
    view! {
        <p
            class=move || format!("plb-live plb-live--{}", connection.get().css_modifier())
            role="status"
            data-live=move || connection.get().css_modifier()
        >
            <span class="plb-live__dot" aria-hidden="true"></span>
            <span class="plb-live__label">{move || connection.get().label()}</span>
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use plb_domain::LiveEvent;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{MessageEvent, WebSocket};

    use super::{backoff_seconds, LiveConnection, LiveContext};

    /// Opens the socket; on close, schedules the next attempt.
    pub fn connect(context: LiveContext, attempt: u32) {
        connect_with(context, attempt, StoredValue::new_local(None));
    }

    /// Opens the socket. `baseline` is the last cluster version this tab has seen; it is not
    /// reactive, so only a change of version triggers refetches.
    fn connect_with(
        context: LiveContext,
        attempt: u32,
        baseline: StoredValue<Option<u64>, LocalStorage>,
    ) {
        let Some(url) = live_url() else {
            return;
        };
        context.connection.set(LiveConnection::Connecting);
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => {
                retry_later(context, attempt, baseline);
                return;
            }
        };

        let on_open = Closure::<dyn FnMut()>::new(move || {
            context.connection.set(LiveConnection::Open);
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match serde_json::from_str::<LiveEvent>(&text) {
                Ok(LiveEvent::Hello { server }) => {
                    context.uptime_seconds.set(Some(server.uptime_seconds))
                }
                Ok(LiveEvent::Heartbeat { uptime_seconds }) => {
                    context.uptime_seconds.set(Some(uptime_seconds))
                }
                Ok(LiveEvent::Cluster { version, .. }) => match baseline.get_value() {
                    // The first announcement describes the data the page was rendered with:
                    // remember it instead of refetching what the page already shows.
                    None => baseline.set_value(Some(version)),
                    // Reconnects announce the same version again: nothing to do.
                    Some(known) if known == version => {}
                    Some(_) => {
                        baseline.set_value(Some(version));
                        context.cluster_version.set(Some(version));
                    }
                },
                Ok(LiveEvent::ShuttingDown) | Err(_) => {}
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        // A socket that was open starts the backoff from scratch; one that never opened backs off.
        let on_close = Closure::<dyn FnMut()>::new(move || {
            let next = if context.connection.get_untracked() == LiveConnection::Open {
                0
            } else {
                attempt + 1
            };
            retry_later(context, next, baseline);
        });
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
    }

    fn retry_later(
        context: LiveContext,
        attempt: u32,
        baseline: StoredValue<Option<u64>, LocalStorage>,
    ) {
        let delay = backoff_seconds(attempt);
        context
            .connection
            .set(LiveConnection::Retrying { in_seconds: delay });
        gloo_timers::callback::Timeout::new(delay * 1000, move || {
            connect_with(context, attempt, baseline)
        })
        .forget();
    }

    fn live_url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/ws/live", location.host().ok()?))
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
