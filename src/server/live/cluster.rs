//! Topic `cluster`: one event per new cluster view, so pages refetch what they show.
//!
//! A cursor names one state: `<epoch>.<version>`, where the epoch identifies this server process
//! (its start time) and the version is the view's snapshot version (it keeps rising across
//! reconnects of the cluster service), or `<epoch>.-` while no cluster is configured. Resuming
//! with the cursor of the current state sends nothing until the next one; any other well-formed
//! cursor (an older view, or one from a previous process) gets the current state at once.

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use plb_backend::services::cluster::ClusterFeed;
use plb_backend::AppState;
use plb_domain::live::{ClusterEvent, ClusterTopic, Cursor};
use tokio::sync::watch;

use super::topics::{process_epoch, BadCursor, Delivery, TopicSource};

/// The server side of topic `cluster`.
pub struct ClusterTopicSource {
    /// What the cluster service publishes (across its reconnects).
    feed: watch::Receiver<ClusterFeed>,
    /// This process's part of every cursor.
    epoch: String,
}

impl ClusterTopicSource {
    /// The topic over `state`'s cluster views.
    pub fn new(state: &AppState) -> Self {
        Self {
            feed: state.cluster.subscribe(),
            epoch: process_epoch(state),
        }
    }
}

impl TopicSource for ClusterTopicSource {
    type Topic = ClusterTopic;
    const DELIVERY: Delivery = Delivery::Latest;

    fn subscribe(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, (Option<Cursor>, ClusterEvent)>, BadCursor> {
        if let Some(cursor) = cursor {
            check_cursor(cursor)?;
        }
        Ok(states(
            self.feed.clone(),
            self.epoch.clone(),
            cursor.cloned(),
            event_of,
        ))
    }
}

/// What the browser needs to know about the cluster's state.
fn event_of(feed: &ClusterFeed) -> ClusterEvent {
    match feed.view() {
        Some(view) => {
            let meta = &view.overview.meta;
            ClusterEvent {
                version: Some(meta.version),
                fetched_at_unix: meta.fetched_at_unix,
                stale: meta.stale.is_some(),
            }
        }
        None => ClusterEvent {
            version: None,
            fetched_at_unix: None,
            stale: false,
        },
    }
}

/// The cursor of a state.
fn cursor_of(epoch: &str, event: &ClusterEvent) -> Cursor {
    match event.version {
        Some(version) => Cursor::new(format!("{epoch}.{version}")),
        None => Cursor::new(format!("{epoch}.-")),
    }
}

/// A cursor of this topic is `<hex epoch>.<decimal version>` or `<hex epoch>.-`.
fn check_cursor(cursor: &Cursor) -> Result<(), BadCursor> {
    let well_formed = cursor
        .as_str()
        .split_once('.')
        .is_some_and(|(epoch, version)| {
            !epoch.is_empty()
                && epoch.bytes().all(|b| b.is_ascii_hexdigit())
                && (version == "-" || version.parse::<u64>().is_ok())
        });
    if well_formed {
        Ok(())
    } else {
        Err(BadCursor {
            reason: "not a cursor of topic \"cluster\" (expected <epoch>.<version>)".to_owned(),
        })
    }
}

/// The views of `views` as events: the current one first unless its cursor is `known`, then
/// every newer one. Views published faster than the subscriber polls are skipped (the watch
/// channel keeps only the newest), which is right for a state topic.
fn states<T: Send + Sync + 'static>(
    views: watch::Receiver<T>,
    epoch: String,
    known: Option<Cursor>,
    describe: fn(&T) -> ClusterEvent,
) -> BoxStream<'static, (Option<Cursor>, ClusterEvent)> {
    struct State<T> {
        views: watch::Receiver<T>,
        epoch: String,
        /// The cursor the subscriber has: the one it resumed with, then the last one sent.
        last: Option<Cursor>,
        /// Whether the current view was looked at already.
        seen_current: bool,
    }
    let start = State {
        views,
        epoch,
        last: known,
        seen_current: false,
    };
    stream::unfold(start, move |mut state| async move {
        loop {
            if state.seen_current {
                // The sender lives as long as the cluster service; without it the topic ends.
                state.views.changed().await.ok()?;
            }
            state.seen_current = true;
            let event = describe(&state.views.borrow_and_update());
            let cursor = cursor_of(&state.epoch, &event);
            if state.last.as_ref() != Some(&cursor) {
                state.last = Some(cursor.clone());
                return Some(((Some(cursor), event), state));
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn event(version: &u64) -> ClusterEvent {
        ClusterEvent {
            version: Some(*version),
            fetched_at_unix: Some(1_000 + *version),
            stale: false,
        }
    }

    async fn next(
        events: &mut BoxStream<'static, (Option<Cursor>, ClusterEvent)>,
    ) -> Option<(String, u64)> {
        let item = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .ok()??;
        Some((item.0.map(|c| c.as_str().to_owned())?, item.1.version?))
    }

    #[tokio::test]
    async fn a_new_subscriber_gets_the_current_view_then_every_newer_one() {
        let (publish, views) = watch::channel(3_u64);
        let mut events = states(views, "ab".into(), None, event);
        assert_eq!(next(&mut events).await, Some(("ab.3".into(), 3)));
        publish.send_replace(4);
        assert_eq!(next(&mut events).await, Some(("ab.4".into(), 4)));
        drop(publish);
        assert_eq!(
            next(&mut events).await,
            None,
            "the topic ends with its sender"
        );
    }

    #[tokio::test]
    async fn resuming_at_the_current_view_waits_for_the_next() {
        let (publish, views) = watch::channel(7_u64);
        let mut events = states(views, "ab".into(), Some(Cursor::new("ab.7")), event);
        // Polled once, the stream finds nothing new and waits.
        assert!(
            futures::FutureExt::now_or_never(events.next()).is_none(),
            "sent the view the subscriber has"
        );
        publish.send_replace(8);
        assert_eq!(next(&mut events).await, Some(("ab.8".into(), 8)));
    }

    #[tokio::test]
    async fn a_cursor_of_another_view_or_process_gets_the_current_view() {
        for known in ["ab.6", "cd.7"] {
            let (_publish, views) = watch::channel(7_u64);
            let mut events = states(views, "ab".into(), Some(Cursor::new(known)), event);
            assert_eq!(next(&mut events).await, Some(("ab.7".into(), 7)), "{known}");
        }
    }

    #[tokio::test]
    async fn views_published_while_nobody_reads_are_skipped() {
        let (publish, views) = watch::channel(1_u64);
        let mut events = states(views, "ab".into(), None, event);
        assert_eq!(next(&mut events).await, Some(("ab.1".into(), 1)));
        for version in 2..=9 {
            publish.send_replace(version);
        }
        assert_eq!(next(&mut events).await, Some(("ab.9".into(), 9)));
    }

    #[test]
    fn malformed_cursors_are_refused() {
        assert!(check_cursor(&Cursor::new("18c0f3a.42")).is_ok());
        assert!(check_cursor(&Cursor::new("18c0f3a.-")).is_ok());
        for bad in ["", "42", ".42", "xyz.42", "ab.", "ab.-1", "ab.4.2", "ab.--"] {
            assert!(check_cursor(&Cursor::new(bad)).is_err(), "{bad:?}");
        }
    }
}
