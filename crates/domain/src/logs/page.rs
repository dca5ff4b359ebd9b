//! One page of log entries, as `GET /api/logs` and the Logs view's history answer it.

use serde::{Deserialize, Serialize};

use super::LogEntry;

/// Entries matching a [`super::LogQuery`], oldest first, with the range the server retains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The entries, oldest first (ascending `seq`).
    pub entries: Vec<LogEntry>,
    /// The oldest `seq` the server still retains (`None` while it has no entry): history
    /// before it is gone from memory.
    pub oldest_seq: Option<u64>,
    /// The newest `seq` at the time of the query (0 before the first entry).
    pub newest_seq: u64,
    /// More matching entries lie beyond this page in the direction it was read (older ones
    /// for `before_seq` or no bound, newer ones for `after_seq`).
    pub has_more: bool,
    /// Cursor of the live `logs` topic at `newest_seq`: subscribing with it continues right
    /// after this query, with no gap and no duplicate.
    pub live_cursor: String,
}
