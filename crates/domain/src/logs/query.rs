//! Filtering log entries (level, text search, time, paging) and the search highlight.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{Level, LogEntry};

/// Default and largest page size of a log query.
pub const DEFAULT_LIMIT: u32 = 500;
/// Largest page size the server serves.
pub const MAX_LIMIT: u32 = 5_000;

/// A query over the log: which entries, and which page of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    /// Only entries at this level or above ([`LogEntry::effective_level`]).
    pub min_level: Option<Level>,
    /// Only entries whose message contains this text (case-insensitive); blank = no filter.
    pub search: Option<String>,
    /// Only entries at or after this transport time (Unix ms).
    pub since_unix_ms: Option<i64>,
    /// Only entries with `seq > after_seq` (paging forward, resuming a stream).
    pub after_seq: Option<u64>,
    /// Only entries with `seq < before_seq` (paging back through history).
    pub before_seq: Option<u64>,
    /// Page size; `None` means [`DEFAULT_LIMIT`], capped at [`MAX_LIMIT`].
    pub limit: Option<u32>,
}

impl LogQuery {
    /// Whether `entry` passes every filter (paging bounds included; `limit` is the caller's).
    pub fn matches(&self, entry: &LogEntry) -> bool {
        if let Some(min) = self.min_level {
            if entry.effective_level() < min {
                return false;
            }
        }
        if let Some(since) = self.since_unix_ms {
            if entry.at_unix_ms < since {
                return false;
            }
        }
        if let Some(after) = self.after_seq {
            if entry.seq <= after {
                return false;
            }
        }
        if let Some(before) = self.before_seq {
            if entry.seq >= before {
                return false;
            }
        }
        match self.search_needle() {
            Some(needle) => find_ci(&entry.message, needle, 0).is_some(),
            None => true,
        }
    }

    /// The search text, if it is not blank.
    pub fn search_needle(&self) -> Option<&str> {
        self.search.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// The effective page size.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize
    }
}

/// Byte ranges of the non-overlapping, case-insensitive occurrences of `needle` in `text`,
/// left to right. Every range starts and ends on a char boundary of `text`, so
/// `&text[range]` never panics. An empty needle has no occurrences.
pub fn highlight_ranges(text: &str, needle: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if needle.is_empty() {
        return out;
    }
    let mut from = 0;
    while let Some(r) = find_ci(text, needle, from) {
        from = r.end;
        out.push(r);
    }
    out
}

/// First case-insensitive occurrence of `needle` in `text` starting at byte `from` (a char
/// boundary). Compares lower-cased chars one by one, so ranges map back to `text` exactly even
/// where lower-casing changes a char's length.
fn find_ci(text: &str, needle: &str, from: usize) -> Option<Range<usize>> {
    if needle.is_empty() {
        return None;
    }
    let hay = text.get(from..)?;
    for (start, _) in hay.char_indices() {
        if let Some(len) = match_at(&hay[start..], needle) {
            return Some(from + start..from + start + len);
        }
    }
    None
}

/// If `hay` starts with `needle` (case-insensitively, char by char), the matched byte length.
fn match_at(hay: &str, needle: &str) -> Option<usize> {
    let mut hay_chars = hay.char_indices();
    let mut end = 0;
    for n in needle.chars() {
        let (i, h) = hay_chars.next()?;
        if h != n && !h.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
        end = i + h.len_utf8();
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogEvent, LogStream};
    use proptest::prelude::*;

    fn entry(seq: u64, level: Option<Level>, message: &str) -> LogEntry {
        LogEntry {
            seq,
            at_unix_ms: 1_000 + seq as i64,
            stream: LogStream::Stdout,
            level,
            proxlb_time: None,
            message: message.into(),
            event: LogEvent::Other,
            raw: message.into(),
        }
    }

    #[test]
    fn level_filter_keeps_that_level_and_above() {
        let q = LogQuery {
            min_level: Some(Level::Warning),
            ..LogQuery::default()
        };
        assert!(!q.matches(&entry(1, Some(Level::Info), "a")));
        assert!(q.matches(&entry(2, Some(Level::Warning), "a")));
        assert!(q.matches(&entry(3, Some(Level::Critical), "a")));
        // A print() without level counts as INFO.
        assert!(!q.matches(&entry(4, None, "Daemon mode not active - stopping.")));
    }

    #[test]
    fn search_is_case_insensitive_and_blank_means_all() {
        let e = entry(
            1,
            Some(Level::Info),
            "Balancing: Starting to migrate VM guest Web02",
        );
        let q = |s: &str| LogQuery {
            search: Some(s.into()),
            ..LogQuery::default()
        };
        assert!(q("web02").matches(&e));
        assert!(q("  ").matches(&e));
        assert!(!q("web03").matches(&e));
    }

    #[test]
    fn paging_bounds_are_exclusive() {
        let q = LogQuery {
            after_seq: Some(5),
            before_seq: Some(8),
            ..LogQuery::default()
        };
        let seqs: Vec<u64> = (1..12)
            .filter(|s| q.matches(&entry(*s, None, "x")))
            .collect();
        assert_eq!(seqs, vec![6, 7]);
        let q = LogQuery {
            since_unix_ms: Some(1_010),
            ..LogQuery::default()
        };
        assert!(!q.matches(&entry(9, None, "x")));
        assert!(q.matches(&entry(10, None, "x")));
    }

    #[test]
    fn limit_defaults_and_caps() {
        assert_eq!(
            LogQuery::default().effective_limit(),
            DEFAULT_LIMIT as usize
        );
        let q = LogQuery {
            limit: Some(1_000_000),
            ..LogQuery::default()
        };
        assert_eq!(q.effective_limit(), MAX_LIMIT as usize);
        let q = LogQuery {
            limit: Some(0),
            ..LogQuery::default()
        };
        assert_eq!(q.effective_limit(), 1);
    }

    #[test]
    fn highlight_finds_all_occurrences() {
        assert_eq!(
            highlight_ranges("Node node NODE", "node"),
            vec![0..4, 5..9, 10..14]
        );
        assert_eq!(highlight_ranges("aaaa", "aa"), vec![0..2, 2..4]);
        assert!(highlight_ranges("abc", "").is_empty());
        assert!(highlight_ranges("abc", "abcd").is_empty());
    }

    #[test]
    fn highlight_maps_back_across_case_changes_of_other_lengths() {
        // 'İ' (2 bytes) lower-cases to "i̇" (3 bytes); ranges must still point into the text.
        let text = "xİstanbul ÄÖÜ äöü";
        let r = highlight_ranges(text, "äöü");
        assert_eq!(r.len(), 2);
        for range in &r {
            assert_eq!(text[range.clone()].to_lowercase(), "äöü");
        }
    }

    proptest! {
        #[test]
        fn highlight_ranges_are_char_boundaries_and_match(text in "\\PC{0,40}", needle in "\\PC{0,4}") {
            let ranges = highlight_ranges(&text, &needle);
            let mut last_end = 0;
            for r in ranges {
                prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                prop_assert!(r.start >= last_end && r.start < r.end);
                last_end = r.end;
                prop_assert_eq!(text[r].chars().count(), needle.chars().count());
            }
        }

        #[test]
        fn ascii_highlight_agrees_with_lowercase_find(text in "[a-cA-C ]{0,30}", needle in "[a-cA-C]{1,3}") {
            let lower = text.to_ascii_lowercase();
            let n = needle.to_ascii_lowercase();
            let expected: Vec<Range<usize>> = lower.match_indices(&n).map(|(i, m)| i..i + m.len()).collect();
            prop_assert_eq!(highlight_ranges(&text, &needle), expected);
        }
    }
}
