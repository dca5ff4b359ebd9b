//! The wall clock for views that count (the next-run countdown, "5m ago"): the time now, and a
//! signal that ticks once a second in the browser.
//!
//! On the server a page renders with the server's time once; after hydration the browser's
//! clock takes over and ticks, so a countdown counts down without refetching anything.

use leptos::prelude::*;

/// The time now in Unix milliseconds (the browser's clock after hydration, else the server's).
pub fn now_unix_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        // Milliseconds since the epoch as a float; far below 2^53, so the cast is exact.
        web_sys::js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// The time now (Unix milliseconds), updated every second in the browser while the calling
/// component lives; on the server it is the render's time.
pub fn use_clock() -> ReadSignal<i64> {
    let (now, set_now) = signal(now_unix_ms());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            set_now.set(now_unix_ms());
            if let Ok(handle) = set_interval_with_handle(
                move || set_now.set(now_unix_ms()),
                std::time::Duration::from_secs(1),
            ) {
                on_cleanup(move || handle.clear());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _server_never_ticks = set_now;
    });
    now
}

/// How long ago `then_ms` was, relative to `now_ms`, for people: `just now`, `5m 2s ago`.
pub fn ago(then_ms: i64, now_ms: i64) -> String {
    let seconds = now_ms.saturating_sub(then_ms) / 1000;
    if seconds < 5 {
        return "just now".to_owned();
    }
    format!(
        "{} ago",
        plb_domain::units::format_duration(u64::try_from(seconds).unwrap_or(0))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_says_just_now_then_counts() {
        assert_eq!(ago(10_000, 12_000), "just now");
        assert_eq!(ago(0, 302_000), "5m 2s ago");
        // A clock that runs behind the server's never reads as "in the future".
        assert_eq!(ago(20_000, 10_000), "just now");
    }

    #[test]
    fn the_server_clock_is_after_2020() {
        assert!(now_unix_ms() > 1_577_836_800_000);
    }
}
