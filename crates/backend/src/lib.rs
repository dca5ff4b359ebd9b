//! Server-only half of ProxLB Web: ports (object-safe traits), their adapters, and the services
//! the web layer calls. No Leptos in here.

pub mod adapters;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod compose;
pub mod config_store;
pub mod error;
pub mod ports;
pub mod pve_wire;
pub mod services;
pub mod settings;
pub mod state;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;

pub use error::{Error, NotConfigured, Result};
pub use settings::{DemoScenario, Settings};
pub use state::{AppServices, AppState};
