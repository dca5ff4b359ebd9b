//! One line of ProxLB's output as a transport (a child's pipe, Docker, journald) delivers it.

use serde::{Deserialize, Serialize};

/// Where a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// Standard output (ProxLB's log handler and its `print()`s).
    Stdout,
    /// Standard error (Python tracebacks).
    Stderr,
    /// journald, which does not tell the two apart.
    Journal,
}

/// One line of output, without its line break, with the transport's time.
///
/// ProxLB's own timestamps are local time without a zone, so lines are ordered and timed by
/// `at_unix_ms`: Docker's timestamp, journald's `__REALTIME_TIMESTAMP`, or the time ProxLB Web
/// read the line from a child process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawLine {
    /// The transport's UTC time of the line (Unix milliseconds).
    pub at_unix_ms: i64,
    /// The stream it came from.
    pub stream: LogStream,
    /// The text, without the trailing line break (and without Docker's timestamp prefix).
    pub text: String,
}
