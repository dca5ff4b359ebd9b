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
        demo: state.settings.demo,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::testing::{self, FakeConnector, ManualClock, TempDataDir};
    use crate::Settings;

    async fn state_at(clock: &Arc<ManualClock>, settings: Settings) -> (AppState, TempDataDir) {
        let ports = testing::ports(
            Arc::clone(clock) as _,
            FakeConnector::unconfigured("no cluster in this test"),
        );
        testing::wire_private(settings, ports).await
    }

    #[tokio::test]
    async fn uptime_follows_the_clock() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = ManualClock::at(start);
        let (state, _dir) = state_at(&clock, Settings::default()).await;
        assert_eq!(server_info(&state).uptime_seconds, 0);
        clock.set(start + Duration::from_secs(90));
        let info = server_info(&state);
        assert_eq!(info.uptime_seconds, 90);
        assert_eq!(info.started_at_unix, 1_700_000_000);
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert!(!info.demo);
    }

    #[tokio::test]
    async fn a_clock_that_went_backwards_reports_zero_uptime() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = ManualClock::at(start);
        let (state, _dir) = state_at(&clock, Settings::default()).await;
        clock.set(start - Duration::from_secs(5));
        assert_eq!(server_info(&state).uptime_seconds, 0);
    }

    #[tokio::test]
    async fn demo_mode_is_read_from_the_settings() {
        let settings = Settings {
            demo: true,
            ..Settings::default()
        };
        let (state, _dir) = state_at(&ManualClock::new(), settings).await;
        assert!(server_info(&state).demo);
    }
}
