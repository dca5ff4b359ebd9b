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

/// Everything a request handler or server function needs. Cheap to clone. Built only by
/// [`crate::compose::wire`]; each port is held once, here or inside the one service using it.
#[derive(Clone)]
pub struct AppState {
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
