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

/// The unit a bare number (no suffix) is read in by [`parse_size`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    /// Bytes.
    Bytes,
    /// KiB.
    Kib,
    /// MiB (`qm create --memory`, Terraform's `memory` in MiB).
    Mib,
    /// GiB (Proxmox disk sizes such as `local-lvm:32`).
    Gib,
}

impl SizeUnit {
    fn bytes(self) -> u64 {
        match self {
            SizeUnit::Bytes => 1,
            SizeUnit::Kib => 1 << 10,
            SizeUnit::Mib => 1 << 20,
            SizeUnit::Gib => 1 << 30,
        }
    }
}

/// Why a size could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Nothing given.
    #[error("the size is empty")]
    Empty,
    /// Not a number with an optional unit.
    #[error(
        "`{0}` is not a size: use a number with an optional unit B, K, M, G or T (e.g. 4G, 512M)"
    )]
    Invalid(String),
    /// Too large for 64 bits.
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Reads a size such as `4G`, `4GiB`, `512M`, `1.5T`, `4096` or `100B`. Units are binary
/// (K = 1024, as Proxmox uses them), case-insensitive, with an optional `i` and `B`
/// (`4g`, `4GB`, `4GiB` are all 4 GiB); a bare number is in `default_unit`. Fractions are
/// allowed and rounded down to whole bytes.
pub fn parse_size(text: &str, default_unit: SizeUnit) -> Result<u64, SizeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SizeError::Empty);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let invalid = || SizeError::Invalid(text.to_owned());
    if number.is_empty() || number.matches('.').count() > 1 {
        return Err(invalid());
    }
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" => default_unit.bytes(),
        "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(invalid()),
    };
    match number.split_once('.') {
        None => number
            .parse::<u64>()
            .map_err(|_| SizeError::TooLarge(text.to_owned()))?
            .checked_mul(factor)
            .ok_or_else(|| SizeError::TooLarge(text.to_owned())),
        Some((whole, fraction)) => {
            let value: f64 = format!(
                "{}.{}",
                if whole.is_empty() { "0" } else { whole },
                fraction
            )
            .parse()
            .map_err(|_| invalid())?;
            let bytes = value * factor as f64;
            if bytes >= u64::MAX as f64 {
                Err(SizeError::TooLarge(text.to_owned()))
            } else {
                Ok(bytes as u64)
            }
        }
    }
}

/// A memory size for the best-node query: a bare number is MiB, like `qm create --memory 4096`.
pub fn parse_memory(text: &str) -> Result<u64, SizeError> {
    parse_size(text, SizeUnit::Mib)
}

/// A disk size for the best-node query: a bare number is GiB, like Proxmox disk sizes
/// (`local-lvm:32`).
pub fn parse_disk(text: &str) -> Result<u64, SizeError> {
    parse_size(text, SizeUnit::Gib)
}

#[cfg(test)]
mod tests {
    use super::{parse_disk, parse_memory, parse_size, SizeError, SizeUnit};

    #[test]
    fn sizes_read_binary_units_and_bare_numbers_in_the_default_unit() {
        assert_eq!(parse_memory("4096"), Ok(4096 << 20));
        assert_eq!(parse_memory("4G"), Ok(4 << 30));
        assert_eq!(parse_memory("4 GiB"), Ok(4 << 30));
        assert_eq!(parse_memory("4gb"), Ok(4 << 30));
        assert_eq!(parse_memory("512M"), Ok(512 << 20));
        assert_eq!(parse_memory("1.5G"), Ok(3 << 29));
        assert_eq!(parse_memory("100B"), Ok(100));
        assert_eq!(parse_disk("32"), Ok(32 << 30));
        assert_eq!(parse_disk("1T"), Ok(1 << 40));
        assert_eq!(parse_size("2K", SizeUnit::Bytes), Ok(2048));
        assert_eq!(parse_size("7", SizeUnit::Bytes), Ok(7));
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert_eq!(parse_memory(""), Err(SizeError::Empty));
        assert!(matches!(parse_memory("G"), Err(SizeError::Invalid(_))));
        assert!(matches!(parse_memory("4X"), Err(SizeError::Invalid(_))));
        assert!(matches!(parse_memory("-4G"), Err(SizeError::Invalid(_))));
        assert!(matches!(parse_memory("1.2.3G"), Err(SizeError::Invalid(_))));
        assert!(matches!(
            parse_memory("99999999999999999999"),
            Err(SizeError::TooLarge(_))
        ));
        assert!(matches!(
            parse_memory("20000000T"),
            Err(SizeError::TooLarge(_))
        ));
    }

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
