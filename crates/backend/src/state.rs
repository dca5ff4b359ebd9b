//! The one application state: settings, the ports and services built by the composition root
//! ([`crate::compose::wire`]), and the shutdown token.

use std::sync::Arc;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::auth::AuthService;
use crate::config_store::ConfigService;
use crate::ports::Clock;
use crate::services::balancing::BalancingService;
use crate::services::cluster::ClusterService;
use crate::services::migrations::MigrationService;
use crate::services::proxlb::Proxlb;
use crate::Settings;

/// Everything a request handler or server function needs, behind one reference count: axum
/// and Leptos clone the state for every request (each `State` extractor, each middleware with
/// state, each page's context), and cloning the services field by field cost two dozen atomic
/// increments and as many decrements per request, a quarter of the CPU of a cached REST answer
/// under load. Reads go through [`Deref`](std::ops::Deref) (`state.cluster`). Built only by
/// [`crate::compose::wire`]; each port is held once, here or inside the one service using it.
#[derive(Clone)]
pub struct AppState(Arc<AppServices>);

impl AppState {
    /// Wraps the services (only the composition root builds them).
    pub fn new(services: AppServices) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppServices;

    fn deref(&self) -> &AppServices {
        &self.0
    }
}

/// The services and settings an [`AppState`] shares.
pub struct AppServices {
    /// Settings read once at start (demo mode included: `settings.demo`).
    pub settings: Arc<Settings>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// When the server started, by `clock`.
    pub started_at: SystemTime,
    /// Cancelled when the server shuts down; long-lived streams and the poller end when it fires.
    pub shutdown: CancellationToken,
    /// The cluster views (and the `ClusterConnector` and `PveApi` behind them), reconnectable.
    pub cluster: ClusterService,
    /// Login, sessions, API tokens and the audit log (and the database behind them).
    pub auth: AuthService,
    /// ProxLB itself: its service (status, actions) and its log (entries, run state).
    pub proxlb: Proxlb,
    /// The migration history (ProxLB's log and the task list, merged into the store).
    pub migrations: MigrationService,
    /// ProxLB's configuration file: masked reads, validation and the one guarded write path.
    pub config: ConfigService,
    /// The Balancing view: settings, plan, what-if, best node and run now.
    pub balancing: BalancingService,
}
