//! Server-only half of ProxLB Web: ports (object-safe traits), their adapters, and the services
//! the web layer calls. No Leptos in here.

pub mod adapters;
pub mod clock;
pub mod error;
pub mod ports;
pub mod services;
pub mod settings;
pub mod state;
pub mod tls;

pub use error::{Error, Result};
pub use settings::{DemoScenario, Settings};
pub use state::{AppState, ClusterSource};
