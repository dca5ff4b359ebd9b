//! ProxLB's log output: the lines as a transport delivers them ([`RawLine`]), their parse into
//! typed events ([`LogEvent`]), multi-line assembly into [`LogEntry`]s, and queries over them.

mod assemble;
mod entry;
mod event;
mod level;
mod page;
mod parse;
mod query;
mod raw;
#[cfg(test)]
mod roundtrip_tests;
mod traceback;

pub use assemble::{Assembler, IDLE_FLUSH_MS, MAX_ENTRY_BYTES, MAX_ENTRY_LINES};
pub use entry::LogEntry;
pub use event::{
    HotScope, IpFamily, LogEvent, MaintenanceBy, RrdCf, StepPhase, UsageMetric, PERMISSIONS_DOC_URL,
};
pub use level::{Level, UnknownLevel};
pub use page::LogPage;
pub use parse::{parse_line, parse_message, ParsedLine, TRACEBACK_HEADER};
pub use query::{highlight_ranges, LogQuery, DEFAULT_LIMIT, MAX_LIMIT};
pub use raw::{LogStream, RawLine};
pub use traceback::exception_of;
