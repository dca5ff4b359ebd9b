//! The real [`Clock`](crate::ports::Clock): the operating system's wall clock.

use std::time::SystemTime;

use crate::ports::Clock;

/// Reads the system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
