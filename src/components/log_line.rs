//! One entry of ProxLB's log as a row: the transport's time (UTC), the level, and the message
//! with the search text highlighted. A multi-line entry (a traceback, a message with
//! continuation lines) is one readable block, not one row per line.

use leptos::prelude::*;
use plb_domain::calendar::format_datetime_utc;
use plb_domain::logs::{highlight_ranges, LogEntry, LogEvent};

/// `HH:MM:SS.mmm` of Unix milliseconds, in UTC.
pub fn format_log_time(unix_ms: i64) -> String {
    let ms_of_day = unix_ms.rem_euclid(86_400_000);
    let seconds = ms_of_day / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        seconds / 3600,
        (seconds % 3600) / 60,
        seconds % 60,
        ms_of_day % 1000
    )
}

/// `text` split into pieces, each marked whether it matches `needle` (case-insensitively).
pub fn split_matches<'a>(text: &'a str, needle: &str) -> Vec<(&'a str, bool)> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for range in highlight_ranges(text, needle) {
        if range.start > at {
            pieces.push((&text[at..range.start], false));
        }
        pieces.push((&text[range.clone()], true));
        at = range.end;
    }
    if at < text.len() || pieces.is_empty() {
        pieces.push((&text[at..], false));
    }
    pieces
}

/// `text` with the occurrences of `needle` in `<mark>`.
#[component]
pub fn Highlighted(#[prop(into)] text: String, #[prop(into)] needle: String) -> impl IntoView {
    split_matches(&text, needle.trim())
        .into_iter()
        .map(|(piece, matched)| {
            let piece = piece.to_owned();
            if matched {
                view! { <mark class="plb-log-line__match">{piece}</mark> }.into_any()
            } else {
                piece.into_any()
            }
        })
        .collect_view()
}

/// The level's label and CSS modifier; a line outside ProxLB's format has no level.
fn level_of(entry: &LogEntry) -> (&'static str, &'static str) {
    if matches!(entry.event, LogEvent::Traceback { .. }) {
        return ("TRACEBACK", "traceback");
    }
    match entry.level {
        Some(level) => (level.as_str(), level_class(level)),
        None => ("—", "plain"),
    }
}

fn level_class(level: plb_domain::logs::Level) -> &'static str {
    use plb_domain::logs::Level;
    match level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
        Level::Critical => "critical",
    }
}

/// One log entry as a list item.
#[component]
pub fn LogLine(
    /// The entry.
    entry: std::sync::Arc<LogEntry>,
    /// The search text to highlight (blank: none).
    #[prop(into)]
    needle: String,
) -> impl IntoView {
    let (label, class) = level_of(&entry);
    let time = format_log_time(entry.at_unix_ms);
    let mut title = format!(
        "{} (UTC, received)",
        format_datetime_utc(entry.at_unix_ms.div_euclid(1000))
    );
    if let Some(own) = &entry.proxlb_time {
        title.push_str(&format!("; ProxLB's own time: {own}"));
    }
    let summary = match &entry.event {
        LogEvent::Traceback { exception, detail } if !exception.is_empty() => {
            let first = detail.lines().next().unwrap_or_default();
            Some(if first.is_empty() {
                format!("ProxLB crashed: {exception}")
            } else {
                format!("ProxLB crashed: {exception}: {first}")
            })
        }
        _ => None,
    };
    // A traceback shows its lines as written; other multi-line entries their message.
    let block = match &entry.event {
        LogEvent::Traceback { .. } => Some(entry.raw.clone()),
        _ if entry.message.contains('\n') => Some(entry.message.clone()),
        _ => None,
    };
    let message = match (&summary, &block) {
        (Some(summary), Some(block)) => view! {
            <span class="plb-log-line__message">
                <strong class="plb-log-line__summary">{summary.clone()}</strong>
                <pre class="plb-log-block plb-log-block--error"><Highlighted text=block.clone() needle=needle.clone() /></pre>
            </span>
        }
        .into_any(),
        (None, Some(block)) => view! {
            <span class="plb-log-line__message">
                <pre class="plb-log-block"><Highlighted text=block.clone() needle=needle.clone() /></pre>
            </span>
        }
        .into_any(),
        _ => view! {
            <span class="plb-log-line__message"><Highlighted text=entry.message.clone() needle=needle.clone() /></span>
        }
        .into_any(),
    };
    view! {
        <li
            class=format!("plb-log-line plb-log-line--{class}")
            data-seq=entry.seq
            data-level=label
        >
            <time class="plb-log-line__time plb-num" title=title>{time}</time>
            <span class="plb-log-line__level">{label}</span>
            {message}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::Markup;

    #[test]
    fn times_are_utc_to_the_millisecond() {
        // 2023-11-14 22:13:20.042 UTC
        assert_eq!(format_log_time(1_700_000_000_042), "22:13:20.042");
        assert_eq!(format_log_time(0), "00:00:00.000");
    }

    #[test]
    fn matches_are_split_out_case_insensitively() {
        assert_eq!(
            split_matches("Migrate web02 to WEB02", "web02"),
            vec![
                ("Migrate ", false),
                ("web02", true),
                (" to ", false),
                ("WEB02", true)
            ]
        );
        assert_eq!(split_matches("abc", ""), vec![("abc", false)]);
        assert_eq!(split_matches("", "x"), vec![("", false)]);
        assert_eq!(split_matches("xx", "x"), vec![("x", true), ("x", true)]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_traceback_is_one_block_with_its_exception_named() {
        use plb_domain::logs::{Level, LogStream};
        let owner = Owner::new();
        owner.set();
        let raw = "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nproxmoxer.core.ResourceException: 500 Internal Server Error";
        let entry = std::sync::Arc::new(LogEntry {
            seq: 9,
            at_unix_ms: 1_700_000_000_042,
            stream: LogStream::Stderr,
            level: None::<Level>,
            proxlb_time: None,
            message: raw.into(),
            event: LogEvent::Traceback {
                exception: "proxmoxer.core.ResourceException".into(),
                detail: "500 Internal Server Error".into(),
            },
            raw: raw.into(),
        });
        let html = view! { <LogLine entry needle="500" /> }.to_html().markup();
        assert!(html.contains("data-level=\"TRACEBACK\""), "{html}");
        assert!(
            html.contains(
                "ProxLB crashed: proxmoxer.core.ResourceException: 500 Internal Server Error"
            ),
            "{html}"
        );
        assert!(html.contains("<pre class=\"plb-log-block plb-log-block--error\">Traceback (most recent call last):\n"), "{html}");
        assert!(
            html.contains("<mark class=\"plb-log-line__match\">500</mark>"),
            "{html}"
        );
    }
}
