//! ProxLB's log levels (Python's `logging` level names).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A log level, ordered from least to most severe (`Debug < Info < … < Critical`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// `CRITICAL`.
    Critical,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// ProxLB's spelling (`"WARNING"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    /// Parses a level name, ignoring case; `WARN` and `CRIT` are accepted too (query strings).
    pub fn parse(text: &str) -> Option<Level> {
        let t = text.trim();
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t))
            .or_else(|| {
                if t.eq_ignore_ascii_case("warn") {
                    Some(Level::Warning)
                } else if t.eq_ignore_ascii_case("crit") || t.eq_ignore_ascii_case("fatal") {
                    Some(Level::Critical)
                } else {
                    None
                }
            })
    }

    /// The level of an sd-daemon priority prefix (`<6>`), as ProxLB 1.0 writes it.
    pub fn from_syslog_priority(prio: u8) -> Option<Level> {
        match prio {
            0..=2 => Some(Level::Critical),
            3 => Some(Level::Error),
            4 => Some(Level::Warning),
            5 | 6 => Some(Level::Info),
            7 => Some(Level::Debug),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a level name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)")]
pub struct UnknownLevel;

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse(s).ok_or(UnknownLevel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_by_severity() {
        assert!(Level::Debug < Level::Info);
        assert!(Level::Info < Level::Warning);
        assert!(Level::Warning < Level::Error);
        assert!(Level::Error < Level::Critical);
    }

    #[test]
    fn parse_round_trips_and_ignores_case() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
            assert_eq!(Level::parse(&l.as_str().to_lowercase()), Some(l));
        }
        assert_eq!("warn".parse::<Level>(), Ok(Level::Warning));
        assert_eq!(Level::parse("NOTICE"), None);
    }

    #[test]
    fn syslog_priorities_map_like_proxlb_1_0() {
        assert_eq!(Level::from_syslog_priority(2), Some(Level::Critical));
        assert_eq!(Level::from_syslog_priority(3), Some(Level::Error));
        assert_eq!(Level::from_syslog_priority(4), Some(Level::Warning));
        assert_eq!(Level::from_syslog_priority(6), Some(Level::Info));
        assert_eq!(Level::from_syslog_priority(7), Some(Level::Debug));
        assert_eq!(Level::from_syslog_priority(8), None);
    }
}
