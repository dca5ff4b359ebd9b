//! The simulator's clock: simulated UNIX time that runs at a configurable rate relative to real
//! time and can be advanced by hand. Everything time-dependent (metrics, tasks, ticket expiry)
//! reads this clock, so tests can run fast (large scale or manual advances) or frozen (scale 0).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Simulated wall clock (seconds since the UNIX epoch, fractional).
#[derive(Debug)]
pub struct Clock {
    inner: Mutex<Anchor>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Instant,
    sim: f64,
    scale: f64,
}

impl Clock {
    /// A clock that starts at `start` (UNIX seconds) and advances `scale` simulated seconds per
    /// real second. `scale = 0` freezes it (only [`Clock::advance`] moves it). Negative or
    /// non-finite scales are treated as 0.
    pub fn new(start: f64, scale: f64) -> Self {
        Self {
            inner: Mutex::new(Anchor {
                real: Instant::now(),
                sim: start,
                scale: sanitize_scale(scale),
            }),
        }
    }

    /// A clock that starts at the real current time and runs at real speed.
    pub fn real_time() -> Self {
        Self::new(real_now(), 1.0)
    }

    fn anchor(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current simulated time in UNIX seconds.
    pub fn now(&self) -> f64 {
        let a = *self.anchor();
        a.sim + a.real.elapsed().as_secs_f64() * a.scale
    }

    /// Jumps the simulated time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut a = self.anchor();
        a.sim += by.as_secs_f64();
    }

    /// Changes the rate (simulated seconds per real second) from now on.
    pub fn set_scale(&self, scale: f64) {
        let mut a = self.anchor();
        let now = a.sim + a.real.elapsed().as_secs_f64() * a.scale;
        *a = Anchor {
            real: Instant::now(),
            sim: now,
            scale: sanitize_scale(scale),
        };
    }

    /// The current rate (simulated seconds per real second).
    pub fn scale(&self) -> f64 {
        self.anchor().scale
    }

    /// Converts a simulated duration into the real time it takes at the current rate (`None`
    /// when the clock is frozen).
    pub fn real_duration(&self, sim: f64) -> Option<Duration> {
        let scale = self.scale();
        (scale > 0.0).then(|| Duration::from_secs_f64((sim / scale).max(0.0)))
    }
}

fn sanitize_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        0.0
    }
}

/// The real current time in UNIX seconds.
pub fn real_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Formats UNIX seconds as `YYYY-MM-DD HH:MM:SS` (UTC), the prefix of PVE task log lines.
pub fn format_datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Formats UNIX seconds like ctime (`Sun Nov 22 16:31:58 2026`, UTC), as in HA status strings.
pub fn format_ctime(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let mon = MONTHS[(m as usize).saturating_sub(1).min(11)];
    format!(
        "{wd} {mon} {d:2} {:02}:{:02}:{:02} {y}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_only_moves_by_advance() {
        let c = Clock::new(1_000.0, 0.0);
        assert_eq!(c.now(), 1_000.0);
        c.advance(Duration::from_secs(30));
        assert_eq!(c.now(), 1_030.0);
        assert!(c.real_duration(5.0).is_none());
        c.set_scale(10.0);
        assert_eq!(c.real_duration(5.0), Some(Duration::from_millis(500)));
        assert!(c.now() >= 1_030.0);
    }

    #[test]
    fn date_formatting() {
        assert_eq!(format_datetime(0), "1970-01-01 00:00:00");
        assert_eq!(format_datetime(1_795_365_120), "2026-11-22 16:32:00");
        assert_eq!(format_ctime(1_795_365_118), "Sun Nov 22 16:31:58 2026");
    }
}
