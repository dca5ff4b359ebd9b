//! The app's live data and the connection indicator in the top bar.
//!
//! [`provide_live`] starts the tab's live client (`live_client`) and keeps what every view
//! shares in [`LiveContext`]: the connection state, the server's uptime, and the version of the
//! newest cluster view, which views showing cluster data use as their resources' source.

use leptos::prelude::*;
use plb_domain::live::{ClusterTopic, PATH};

use crate::components::live_client::{
    provide_live_client, use_live_topic, LiveConnection, TopicUpdate,
};

/// Live data shared through context.
#[derive(Clone, Copy, Debug)]
pub struct LiveContext {
    /// Connection state.
    pub connection: RwSignal<LiveConnection>,
    /// Server uptime from the latest hello or heartbeat, if any arrived.
    pub uptime_seconds: RwSignal<Option<u64>>,
    /// Version of the latest cluster view announced by the server (`None` while no cluster is
    /// configured); pages showing cluster data use it as a resource source, so they refetch
    /// (from the server's cache) when it changes.
    pub cluster_version: RwSignal<Option<u64>>,
}

/// Provides the live client and context; in the browser, connects after hydration and follows
/// topic `cluster` for the whole app (one subscription, however many views read it).
pub fn provide_live() {
    let client = provide_live_client(PATH);
    let cluster_version = RwSignal::new(None);
    provide_context(LiveContext {
        connection: client.connection,
        uptime_seconds: client.uptime_seconds,
        cluster_version,
    });
    // The first event describes the data the page was rendered with: it becomes the baseline
    // instead of refetching what the page already shows. After a reconnect the server sends a
    // view only if it is newer than the last one this tab saw (the topic's cursor).
    let baseline_known = StoredValue::new(false);
    use_live_topic::<ClusterTopic>(move |update| {
        if let TopicUpdate::Event(event) = update {
            if baseline_known.get_value() {
                cluster_version.set(event.version);
            } else {
                baseline_known.set_value(true);
            }
        }
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
