//! Calendar dates and times in UTC for people: `2026-03-14 09:26 UTC`, and the date a form's
//! `<input type="date">` sends (`2026-03-14`) as Unix seconds.
//!
//! UTC on purpose: the server and the browser then show the same text, and a server-rendered page
//! hydrates without a mismatch.

/// Days since 1970-01-01 of the proleptic Gregorian date `year-month-day`
/// (Howard Hinnant's `days_from_civil`, <https://howardhinnant.github.io/date_algorithms.html>).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: `(year, month, day)`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// The date of Unix seconds `unix` in UTC, `YYYY-MM-DD` (as `<input type="date">` wants it).
pub fn format_date_utc(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Unix seconds as a UTC date and time to the minute, `YYYY-MM-DD HH:MM UTC`.
pub fn format_datetime_utc(unix: i64) -> String {
    let second_of_day = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02} UTC",
        format_date_utc(unix),
        second_of_day / 3_600,
        (second_of_day % 3_600) / 60
    )
}

/// The start (00:00 UTC) of the date `YYYY-MM-DD`, in Unix seconds; `None` unless it is a real
/// date between the years 1970 and 9999.
pub fn parse_date_utc(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parse_digits(parts.next()?, 4)?;
    let month: u32 = parse_digits(parts.next()?, 2)?;
    let day: u32 = parse_digits(parts.next()?, 2)?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Rejects 2025-02-30 and the like: the day must survive the round trip.
    (civil_from_days(days) == (year, month, day)).then_some(days * 86_400)
}

/// `text` as a number of exactly `len` ASCII digits.
fn parse_digits<N: std::str::FromStr>(text: &str, len: usize) -> Option<N> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_datetime_utc(0), "1970-01-01 00:00 UTC");
        // 2024-02-29 12:34:56 UTC (a leap day).
        assert_eq!(format_datetime_utc(1_709_210_096), "2024-02-29 12:34 UTC");
        assert_eq!(format_date_utc(1_709_210_096), "2024-02-29");
        assert_eq!(format_datetime_utc(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn parses_dates_to_midnight_utc() {
        assert_eq!(parse_date_utc("1970-01-01"), Some(0));
        assert_eq!(parse_date_utc("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_date_utc(" 2000-03-01 "), Some(951_868_800));
    }

    #[test]
    fn rejects_what_is_not_a_real_date() {
        for bad in [
            "",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-5",
            "24-01-05",
            "1969-12-31",
            "2024-01-05T00:00",
            "+024-01-05",
            "２０２４-01-05",
        ] {
            assert_eq!(parse_date_utc(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn date_round_trips_for_every_day_of_some_years() {
        let start = parse_date_utc("1999-12-01").expect("a date");
        for day in 0..(366 * 30) {
            let unix = start + day * 86_400;
            assert_eq!(parse_date_utc(&format_date_utc(unix)), Some(unix));
        }
    }
}
