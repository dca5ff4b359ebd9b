//! Topic `migrations`: the migration history changed. Each event carries the history's version
//! (pages showing it refetch when it rises) and the newest moves (the dashboard's feed shows
//! them without a request).
//!
//! A state topic: a cursor names one state, `<epoch>.<version>`, where the epoch identifies this
//! server process (its start time) and the version counts the history's changes since then.
//! Resuming with the cursor of the current state sends nothing until the next change; any other
//! well-formed cursor (an older version, or one from a previous process) gets the current
//! state at once. States published faster than a subscriber reads are skipped.

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use plb_backend::services::migrations::MigrationsFeed;
use plb_backend::AppState;
use plb_domain::live::{Cursor, MigrationsEvent, MigrationsTopic};
use std::sync::Arc;
use tokio::sync::watch;

use super::topics::{process_epoch, BadCursor, Delivery, TopicSource};

/// The server side of topic `migrations`.
pub struct MigrationsTopicSource {
    feed: watch::Receiver<Arc<MigrationsFeed>>,
    /// This process's part of every cursor.
    epoch: String,
}

impl MigrationsTopicSource {
    /// The topic over `state`'s migration history.
    pub fn new(state: &AppState) -> Self {
        Self {
            feed: state.migrations.subscribe(),
            epoch: process_epoch(state),
        }
    }
}

impl TopicSource for MigrationsTopicSource {
    type Topic = MigrationsTopic;
    const DELIVERY: Delivery = Delivery::Latest;

    fn subscribe(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, (Option<Cursor>, MigrationsEvent)>, BadCursor> {
        if let Some(cursor) = cursor {
            check_cursor(cursor)?;
        }
        Ok(states(
            self.feed.clone(),
            self.epoch.clone(),
            cursor.cloned(),
        ))
    }
}

/// A cursor of this topic is `<hex epoch>.<decimal version>`.
fn check_cursor(cursor: &Cursor) -> Result<(), BadCursor> {
    let well_formed = cursor
        .as_str()
        .split_once('.')
        .is_some_and(|(epoch, version)| {
            !epoch.is_empty()
                && epoch.bytes().all(|b| b.is_ascii_hexdigit())
                && version.bytes().all(|b| b.is_ascii_digit())
                && version.parse::<u64>().is_ok()
        });
    if well_formed {
        Ok(())
    } else {
        Err(BadCursor {
            reason: "not a cursor of topic \"migrations\" (expected <epoch>.<version>)".to_owned(),
        })
    }
}

/// The feed's states as events: the current one first unless `known` names it, then every
/// newer one.
fn states(
    feed: watch::Receiver<Arc<MigrationsFeed>>,
    epoch: String,
    known: Option<Cursor>,
) -> BoxStream<'static, (Option<Cursor>, MigrationsEvent)> {
    struct State {
        feed: watch::Receiver<Arc<MigrationsFeed>>,
        epoch: String,
        last: Option<Cursor>,
        seen_current: bool,
    }
    let start = State {
        feed,
        epoch,
        last: known,
        seen_current: false,
    };
    stream::unfold(start, |mut state| async move {
        loop {
            if state.seen_current {
                // The sender lives as long as the service; without it the topic ends.
                state.feed.changed().await.ok()?;
            }
            state.seen_current = true;
            let current = Arc::clone(&state.feed.borrow_and_update());
            let cursor = Cursor::new(format!("{}.{}", state.epoch, current.version));
            if state.last.as_ref() != Some(&cursor) {
                state.last = Some(cursor.clone());
                let event = MigrationsEvent {
                    version: current.version,
                    recent: current.recent.clone(),
                };
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

    fn feed(version: u64) -> Arc<MigrationsFeed> {
        Arc::new(MigrationsFeed {
            version,
            recent: Vec::new(),
        })
    }

    async fn next(events: &mut BoxStream<'static, (Option<Cursor>, MigrationsEvent)>) -> String {
        let (cursor, event) = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .unwrap();
        let cursor = cursor.unwrap();
        assert!(cursor.as_str().ends_with(&format!(".{}", event.version)));
        cursor.as_str().to_owned()
    }

    #[tokio::test]
    async fn subscribers_get_the_current_state_then_each_newer_one() {
        let (publish, receiver) = watch::channel(feed(3));
        let mut events = states(receiver.clone(), "ab".into(), None);
        assert_eq!(next(&mut events).await, "ab.3");
        publish.send_replace(feed(4));
        assert_eq!(next(&mut events).await, "ab.4");

        // Resuming at the current state waits for the next one.
        let mut resumed = states(receiver.clone(), "ab".into(), Some(Cursor::new("ab.4")));
        assert!(futures::FutureExt::now_or_never(resumed.next()).is_none());
        publish.send_replace(feed(5));
        assert_eq!(next(&mut resumed).await, "ab.5");

        // Another process's cursor gets the current state at once.
        let mut other = states(receiver, "ab".into(), Some(Cursor::new("cd.5")));
        assert_eq!(next(&mut other).await, "ab.5");
    }

    #[test]
    fn malformed_cursors_are_refused() {
        assert!(check_cursor(&Cursor::new("18c0f3a.42")).is_ok());
        for bad in ["", "42", ".42", "xyz.1", "ab.", "ab.-", "ab.+1", "ab.4.2"] {
            assert!(check_cursor(&Cursor::new(bad)).is_err(), "{bad:?}");
        }
    }
}
