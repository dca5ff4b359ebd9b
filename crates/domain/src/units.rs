//! Human-readable formatting of durations, sizes and counts.

/// Formats a duration in seconds as the two most significant units, e.g. `3d 4h`, `5m 2s`, `42s`.
pub fn format_duration(total_seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::with_capacity(2);
    let mut rest = total_seconds;
    for (size, suffix) in UNITS {
        let amount = rest / size;
        rest %= size;
        if amount > 0 || (!parts.is_empty() && parts.len() < 2) {
            parts.push(format!("{amount}{suffix}"));
        }
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() {
        "0s".to_owned()
    } else {
        parts.join(" ")
    }
}

/// Formats bytes with binary units and one decimal, e.g. `12.0 GiB`, `512 B`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A count with its noun in the right number, e.g. `1 guest`, `4 guests`, `0 guests`.
///
/// The one place for plural forms: UI texts never write `guest(s)`.
pub fn plural<N>(count: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    let noun = if count == N::from(1) { one } else { many };
    format!("{count} {noun}")
}

/// Formats Unix seconds as a UTC wall-clock time, `HH:MM:SS UTC`.
pub fn format_clock_utc(unix: u64) -> String {
    let second_of_day = unix % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        second_of_day / 3_600,
        (second_of_day % 3_600) / 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::{format_bytes, format_clock_utc, format_duration, plural};

    #[test]
    fn plural_picks_the_noun_by_count() {
        assert_eq!(plural(0, "guest", "guests"), "0 guests");
        assert_eq!(plural(1, "guest", "guests"), "1 guest");
        assert_eq!(plural(4, "guest", "guests"), "4 guests");
        assert_eq!(plural(1_i64, "point", "points"), "1 point");
        assert_eq!(plural(-1_i64, "point", "points"), "-1 points");
        assert_eq!(plural(12_u32, "core", "cores"), "12 cores");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(12 << 30), "12.0 GiB");
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn clock_is_utc() {
        assert_eq!(format_clock_utc(1_795_429_800), "10:30:00 UTC");
        assert_eq!(format_clock_utc(86_399), "23:59:59 UTC");
    }
    use proptest::prelude::*;

    #[test]
    fn formats_the_two_most_significant_units() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(42), "42s");
        assert_eq!(format_duration(60), "1m 0s");
        assert_eq!(format_duration(302), "5m 2s");
        assert_eq!(format_duration(3_600 * 5 + 59), "5h 0m");
        assert_eq!(format_duration(86_400 * 3 + 3_600 * 4 + 12), "3d 4h");
    }

    proptest! {
        #[test]
        fn never_more_than_two_parts_and_leading_part_is_non_zero(secs in 0u64..10_000_000_000) {
            let text = format_duration(secs);
            let parts: Vec<&str> = text.split(' ').collect();
            prop_assert!(parts.len() <= 2);
            if secs > 0 {
                prop_assert!(!parts[0].starts_with('0'));
            }
        }
    }
}
