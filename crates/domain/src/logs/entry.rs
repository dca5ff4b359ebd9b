//! One assembled log event as the server stores and serves it.

use serde::{Deserialize, Serialize};

use super::parse::{parse_message, TRACEBACK_HEADER};
use super::traceback::exception_of;
use super::{Level, LogEvent, LogStream};

/// One log event: a ProxLB message with its continuation lines, a whole traceback, or a line
/// kept verbatim.
///
/// On the wire `event` is written out in full (for scripts reading `/api/logs`), but reading an
/// entry back derives it from `message` and `raw` ([`LogEntry::event_of`]) instead of decoding
/// it: the event is a function of those two, and decoding ~80 typed variants would cost the
/// browser's WASM about 280 KB (measured: 386 KB vs 108 KB for a module that only reads
/// entries, `opt-level = "z"`), re-deriving costs the parser only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "LogEntryWire")]
pub struct LogEntry {
    /// Position in the server's log (monotonic, assigned by the log service).
    pub seq: u64,
    /// Transport time of the event's first line (UTC Unix milliseconds). ProxLB's own
    /// timestamps are local time without a zone, so this is what orders and times events.
    pub at_unix_ms: i64,
    /// The stream of the event's first line.
    pub stream: LogStream,
    /// ProxLB's level; `None` for lines outside its log format (prints, tracebacks).
    pub level: Option<Level>,
    /// ProxLB's own timestamp text (`2026-11-22 17:49:17,282`, local time), if the line had one.
    pub proxlb_time: Option<String>,
    /// The message: the text after `LEVEL - ` plus continuation lines (joined with `\n`), or
    /// the whole text for lines outside the format.
    pub message: String,
    /// What the message means (derived from `message` and `raw` when read back).
    pub event: LogEvent,
    /// All original lines, verbatim, joined with `\n`.
    pub raw: String,
}

impl LogEntry {
    /// The event of an entry with this message and raw text, as the assembler derives it: a
    /// traceback if its first line is the traceback header, the `-j` dump if it is `{`, else
    /// the message's template (or, for a multi-line message that matches none, its first
    /// line's).
    pub fn event_of(message: &str, raw: &str) -> LogEvent {
        let first = raw.split('\n').next().unwrap_or_default();
        if first == TRACEBACK_HEADER {
            let lines: Vec<&str> = raw.split('\n').collect();
            let (exception, detail) = exception_of(&lines);
            LogEvent::Traceback { exception, detail }
        } else if first == "{" {
            LogEvent::JsonOutput
        } else {
            message_event(message)
        }
    }

    /// The level used for filtering: ProxLB's level, else CRITICAL for a traceback (the
    /// process died), WARNING for other stderr output, INFO for the rest (ProxLB's `print()`s).
    pub fn effective_level(&self) -> Level {
        match (self.level, &self.event, self.stream) {
            (Some(l), _, _) => l,
            (None, LogEvent::Traceback { .. }, _) => Level::Critical,
            (None, _, LogStream::Stderr) => Level::Warning,
            (None, _, _) => Level::Info,
        }
    }
}

/// The event of a message: its template, or for a multi-line message that matches none (a
/// template followed by stray lines), the template of its first line.
pub(crate) fn message_event(message: &str) -> LogEvent {
    let event = parse_message(message);
    match message.split_once('\n') {
        Some((first, _)) if event == LogEvent::Other => parse_message(first),
        _ => event,
    }
}

/// [`LogEntry`] as read from JSON: everything but the event, which is derived.
#[derive(Deserialize)]
struct LogEntryWire {
    seq: u64,
    at_unix_ms: i64,
    stream: LogStream,
    level: Option<Level>,
    proxlb_time: Option<String>,
    message: String,
    raw: String,
}

impl From<LogEntryWire> for LogEntry {
    fn from(w: LogEntryWire) -> LogEntry {
        LogEntry {
            event: LogEntry::event_of(&w.message, &w.raw),
            seq: w.seq,
            at_unix_ms: w.at_unix_ms,
            stream: w.stream,
            level: w.level,
            proxlb_time: w.proxlb_time,
            message: w.message,
            raw: w.raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_is_written_out_and_derived_when_read() {
        let message = "Balancing: Starting to migrate VM guest web02 from node1 to node2.";
        let raw = format!("2026-11-22 17:49:17,282 - ProxLB - INFO - {message}");
        let entry = LogEntry {
            seq: 3,
            at_unix_ms: 9,
            stream: LogStream::Stdout,
            level: Some(Level::Info),
            proxlb_time: Some("2026-11-22 17:49:17,282".into()),
            message: message.into(),
            event: LogEntry::event_of(message, &raw),
            raw,
        };
        let mut json = serde_json::to_value(&entry).expect("json");
        assert_eq!(json["event"]["type"], "migration_started");
        assert_eq!(json["event"]["guest"], "web02");
        // A reader ignores what the JSON claims and derives the event itself.
        json["event"] = serde_json::json!({"type": "other"});
        let back: LogEntry = serde_json::from_value(json).expect("entry");
        assert_eq!(back, entry);
    }

    #[test]
    fn tracebacks_and_json_dumps_are_recognised_by_their_first_line() {
        let raw =
            "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: 'x'";
        assert_eq!(
            LogEntry::event_of(raw, raw),
            LogEvent::Traceback {
                exception: "KeyError".into(),
                detail: "'x'".into()
            }
        );
        assert_eq!(LogEntry::event_of("{\n}", "{\n}"), LogEvent::JsonOutput);
        assert_eq!(
            LogEntry::event_of("Daemon mode not active - stopping.\nstray", "x"),
            LogEvent::DaemonNotActive
        );
    }
}
