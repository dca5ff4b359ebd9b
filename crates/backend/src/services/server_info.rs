//! Reports the running server's version and uptime.

use std::time::UNIX_EPOCH;

use plb_domain::ServerInfo;

use crate::AppState;

/// Version of this build, from the package metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The server's identity and how long it has been up, by the state's clock.
pub fn server_info(state: &AppState) -> ServerInfo {
    let now = state.clock.now();
    let uptime = now.duration_since(state.started_at).unwrap_or_default();
    let started_at_unix = state
        .started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    ServerInfo {
        version: VERSION.to_owned(),
        started_at_unix,
        uptime_seconds: uptime.as_secs(),
        demo: state.demo,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::ports::Clock;
    use crate::Settings;

    /// A clock tests can move by hand.
    struct ManualClock(Mutex<SystemTime>);

    impl Clock for ManualClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    #[test]
    fn uptime_follows_the_clock() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Arc::new(ManualClock(Mutex::new(start)));
        let state = AppState::new(Settings::default(), clock.clone());
        assert_eq!(server_info(&state).uptime_seconds, 0);
        *clock.0.lock().unwrap() = start + Duration::from_secs(90);
        let info = server_info(&state);
        assert_eq!(info.uptime_seconds, 90);
        assert_eq!(info.started_at_unix, 1_700_000_000);
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn a_clock_that_went_backwards_reports_zero_uptime() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Arc::new(ManualClock(Mutex::new(start)));
        let state = AppState::new(Settings::default(), clock.clone());
        *clock.0.lock().unwrap() = start - Duration::from_secs(5);
        assert_eq!(server_info(&state).uptime_seconds, 0);
    }
}
