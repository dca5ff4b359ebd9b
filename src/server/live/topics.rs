//! The topics of the live channel: what a topic's server side implements, and the one list of
//! topics the channel offers ([`registry`]).
//!
//! Adding a topic:
//! 1. declare it in `plb_domain::live` (a [`Topic`] with its event type), so the browser can
//!    read its events;
//! 2. write its [`TopicSource`] in a file beside `cluster.rs`, deciding what its cursors mean;
//! 3. list it in [`registry`].

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_backend::AppState;
use plb_domain::live::{Cursor, Envelope, ServerMessage, Topic};

use super::cluster::ClusterTopicSource;
use super::logs::LogsTopicSource;
use super::migrations::MigrationsTopicSource;
use super::service::{RunsTopicSource, ServiceTopicSource};

/// Every topic the live channel offers, built for one connection.
pub fn registry(state: &AppState) -> Topics {
    Topics(vec![
        Arc::new(ClusterTopicSource::new(state)),
        Arc::new(ServiceTopicSource::new(state)),
        Arc::new(RunsTopicSource::new(state)),
        Arc::new(LogsTopicSource::new(state)),
        Arc::new(MigrationsTopicSource::new(state)),
    ])
}

/// This server process's part of a state topic's cursors: its start time in hex milliseconds, so
/// a cursor from an earlier process is recognised as foreign.
pub fn process_epoch(state: &AppState) -> String {
    let started = state
        .started_at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!("{started:x}")
}

/// How a connection's outbound buffer treats events its client has not read yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A state topic: only the newest event matters. A newer event replaces a queued one of the
    /// same topic (counted as dropped), so the buffer holds at most one per topic and the client
    /// always gets the latest state eventually.
    Latest,
    /// A stream topic (log lines): every event matters, in order. When the buffer is full, new
    /// events are dropped and counted; the client hears how many before the next one.
    Every,
}

/// The topic refused the cursor of a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCursor {
    /// Why, safe to show (it must not echo more than the client sent).
    pub reason: String,
}

/// The server side of one topic.
pub trait TopicSource: Send + Sync + 'static {
    /// The topic, with its name and event type.
    type Topic: Topic;
    /// How unread events are buffered.
    const DELIVERY: Delivery;

    /// Starts one subscription: the topic's events after `cursor` (without one, from the
    /// topic's present), each with its own cursor, as they happen. The stream ends when the
    /// topic does (e.g. at shutdown).
    #[allow(clippy::type_complexity)]
    fn subscribe(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, (Option<Cursor>, <Self::Topic as Topic>::Event)>, BadCursor>;
}

/// One event, serialized as its `event` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The JSON text of the message.
    pub frame: String,
}

/// A topic source with its types erased, so the registry can hold different topics.
pub trait AnyTopicSource: Send + Sync {
    /// The topic's name on the wire.
    fn name(&self) -> &'static str;
    /// How unread events are buffered.
    fn delivery(&self) -> Delivery;
    /// Starts one subscription, with every event serialized.
    fn subscribe(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, Published>, BadCursor>;
}

impl<S> AnyTopicSource for S
where
    S: TopicSource,
    <S::Topic as Topic>::Event: Send + 'static,
{
    fn name(&self) -> &'static str {
        S::Topic::NAME
    }

    fn delivery(&self) -> Delivery {
        S::DELIVERY
    }

    fn subscribe(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, Published>, BadCursor> {
        let events = TopicSource::subscribe(self, cursor)?;
        Ok(events
            .filter_map(|(cursor, event)| async move {
                let message = ServerMessage::Event(Envelope {
                    topic: S::Topic::NAME.to_owned(),
                    cursor,
                    event,
                });
                match serde_json::to_string(&message) {
                    Ok(frame) => Some(Published { frame }),
                    Err(error) => {
                        // A bug in the topic's event type, not a client's fault: skip the event.
                        tracing::error!(topic = S::Topic::NAME, %error, "live event not serializable");
                        None
                    }
                }
            })
            .boxed())
    }
}

/// The topics one connection can subscribe to.
pub struct Topics(Vec<Arc<dyn AnyTopicSource>>);

impl Topics {
    /// The topic named `name`, if offered.
    pub fn get(&self, name: &str) -> Option<Arc<dyn AnyTopicSource>> {
        self.0.iter().find(|topic| topic.name() == name).cloned()
    }

    /// Names of all topics, for the hello message.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|topic| topic.name().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use plb_backend::Settings;
    use plb_domain::live::{ClusterTopic, LogsTopic, MigrationsTopic, RunsTopic, ServiceTopic};

    use super::*;

    #[tokio::test]
    async fn the_registry_offers_each_topic_once_under_its_wire_name() {
        let (state, _dir) = plb_backend::testing::wire_private(
            Settings::default(),
            plb_backend::compose::Ports::production(&Settings::default()),
        )
        .await;
        let topics = registry(&state);
        let names = topics.names();
        assert_eq!(
            names,
            vec![
                ClusterTopic::NAME.to_owned(),
                ServiceTopic::NAME.to_owned(),
                RunsTopic::NAME.to_owned(),
                LogsTopic::NAME.to_owned(),
                MigrationsTopic::NAME.to_owned(),
            ]
        );
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a topic listed twice: {names:?}");
        assert!(topics.get("cluster").is_some());
        assert!(topics.get("Cluster").is_none());
        assert!(topics.get("nope").is_none());
    }
}
