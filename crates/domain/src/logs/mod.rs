//! ProxLB's log output: the lines as a transport delivers them ([`RawLine`]), and (in the
//! submodules) their parse into typed events.

mod raw;

pub use raw::{LogStream, RawLine};
