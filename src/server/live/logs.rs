//! Topic `logs`: ProxLB's log entries, every one, in order.
//!
//! A cursor names one entry: `<epoch>.<seq>`, where the epoch identifies this server process's
//! log service and `seq` the entry's number (1, 2, 3, … without holes). Resuming with a cursor
//! delivers the retained entries after it, then new ones: no gap and no duplicate while the
//! server still retains them; if it no longer does, a `gap` event says how many were missed
//! first. Without a cursor the topic starts at the present (new entries only): a view that
//! shows history first loads a page (`LogPage::live_cursor`) and subscribes with its cursor.
//! A cursor of another process is refused (`bad_cursor`), and the client subscribes afresh.
//!
//! Entries the connection cannot send in time are dropped and counted by the outbox
//! ([`Delivery::Every`]): the client hears `dropped` with the count.

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_backend::services::proxlb::{LogFeed, LogService};
use plb_backend::AppState;
use plb_domain::live::{Cursor, LogsEvent, LogsTopic};

use super::topics::{BadCursor, Delivery, TopicSource};

/// The server side of topic `logs`.
pub struct LogsTopicSource {
    logs: LogService,
}

impl LogsTopicSource {
    /// The topic over `state`'s ProxLB log.
    pub fn new(state: &AppState) -> Self {
        Self {
            logs: state.proxlb.logs.clone(),
        }
    }
}

impl TopicSource for LogsTopicSource {
    type Topic = LogsTopic;
    const DELIVERY: Delivery = Delivery::Every;

    fn subscribe(
        &self,
        cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, (Option<Cursor>, LogsEvent)>, BadCursor> {
        let after = match cursor {
            Some(cursor) => {
                Some(
                    self.logs
                        .parse_cursor(cursor.as_str())
                        .map_err(|error| BadCursor {
                            reason: error.to_string(),
                        })?,
                )
            }
            None => None,
        };
        let logs = self.logs.clone();
        Ok(self
            .logs
            .subscribe(after)
            .map(move |feed| match feed {
                LogFeed::Entry(entry) => (
                    Some(Cursor::new(logs.cursor(entry.seq))),
                    LogsEvent::Entry(entry.as_ref().clone()),
                ),
                // Resuming at a gap continues right after it (the client keeps the cursor of
                // every event it gets, gaps included).
                LogFeed::Gap { missed, last_seq } => (
                    Some(Cursor::new(logs.cursor(last_seq))),
                    LogsEvent::Gap { missed },
                ),
            })
            .boxed())
    }
}
