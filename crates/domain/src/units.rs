//! Human-readable formatting of durations and sizes.

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

#[cfg(test)]
mod tests {
    use super::format_duration;
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
