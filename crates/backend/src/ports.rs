//! Ports: the object-safe traits through which services reach the outside world.
//!
//! Each is held as `Arc<dyn Port>` in [`crate::AppState`], so tests can swap in a fake.

use std::time::SystemTime;

/// Wall-clock time. Injected so uptime, countdowns and schedules can be tested.
pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}
