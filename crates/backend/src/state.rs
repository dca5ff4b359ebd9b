//! The one application state: settings, the ports as trait objects, and the shutdown token.

use std::sync::Arc;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::clock::SystemClock;
use crate::ports::Clock;
use crate::Settings;

/// Everything a request handler or server function needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Settings read once at start.
    pub settings: Arc<Settings>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// When the server started, by `clock`.
    pub started_at: SystemTime,
    /// Cancelled when the server shuts down; long-lived streams end when it fires.
    pub shutdown: CancellationToken,
}

impl AppState {
    /// Builds the state with the given clock; the start time is the clock's "now".
    pub fn new(settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let started_at = clock.now();
        Self {
            settings: Arc::new(settings),
            clock,
            started_at,
            shutdown: CancellationToken::new(),
        }
    }

    /// The production state: system clock.
    pub fn production(settings: Settings) -> Self {
        Self::new(settings, Arc::new(SystemClock))
    }
}
