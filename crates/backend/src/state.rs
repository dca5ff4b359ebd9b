//! The one application state: settings, the ports as trait objects, the cluster source and the
//! shutdown token.

use std::sync::Arc;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::clock::SystemClock;
use crate::ports::Clock;
use crate::services::cluster::ClusterHandle;
use crate::Settings;

/// Where cluster data comes from.
#[derive(Clone)]
pub enum ClusterSource {
    /// No usable ProxLB configuration: the UI explains what to set.
    Unconfigured {
        /// What is missing or wrong, safe to show (file path and field, no secrets).
        reason: String,
    },
    /// A live Proxmox cluster behind the snapshot poller.
    Live(ClusterHandle),
}

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
    /// The cluster views read from.
    pub cluster: ClusterSource,
    /// Set when the cluster is the embedded demo simulator.
    pub demo: bool,
}

impl AppState {
    /// Builds the state with the given clock; the start time is the clock's "now". The cluster
    /// starts unconfigured; see [`AppState::with_cluster`].
    pub fn new(settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let started_at = clock.now();
        Self {
            settings: Arc::new(settings),
            clock,
            started_at,
            shutdown: CancellationToken::new(),
            cluster: ClusterSource::Unconfigured {
                reason: "no ProxLB configuration has been loaded".to_owned(),
            },
            demo: false,
        }
    }

    /// The production state: system clock.
    pub fn production(settings: Settings) -> Self {
        Self::new(settings, Arc::new(SystemClock))
    }

    /// The same state with a cluster source.
    pub fn with_cluster(mut self, cluster: ClusterSource, demo: bool) -> Self {
        self.cluster = cluster;
        self.demo = demo;
        self
    }
}
