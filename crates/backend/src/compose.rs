//! The composition root: the one place that builds every port and service, once. `main`, demo
//! mode, the tests and the benchmarks all start from [`wire`] (tests may swap ports through
//! [`wire_with`]).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::adapters::config_connector::ConfigFileConnector;
use crate::adapters::proxlb::{self as proxlb_backend, ProxlbBackend};
use crate::adapters::pve::login::PveLogin;
use crate::auth::{AuthConfig, AuthService, ProxmoxLogin};
use crate::clock::SystemClock;
use crate::config_store::{self, ConfigService, FileConfigStore};
use crate::ports::{Clock, ClusterConnector};
use crate::services::balancing::BalancingService;
use crate::services::cluster::{ClusterOptions, ClusterService};
use crate::services::migrations::MigrationService;
use crate::services::proxlb::Proxlb;
use crate::services::snapshot::SnapshotConfig;
use crate::state::AppServices;
use crate::{AppState, Error, Settings};

/// The ports the application runs on.
#[derive(Clone)]
pub struct Ports {
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Builds the Proxmox connection from the configuration (at start and on reconnect).
    pub cluster: Arc<dyn ClusterConnector>,
    /// Checks a person's Proxmox credentials at login (same cluster, hosts and TLS trust).
    pub proxmox_login: Arc<dyn ProxmoxLogin>,
    /// Controls ProxLB and reads its log (the backend `PROXLB_SERVICE` picks).
    pub proxlb: ProxlbBackend,
}

impl Ports {
    /// The real adapters: the system clock, ProxLB's configuration file, and the ProxLB backend
    /// the settings select.
    pub fn production(settings: &Settings) -> Self {
        Self {
            clock: Arc::new(SystemClock),
            cluster: Arc::new(ConfigFileConnector::from_settings(settings)),
            proxmox_login: Arc::new(PveLogin::from_settings(settings)),
            proxlb: proxlb_backend::select(settings),
        }
    }
}

/// Builds the application state on the real adapters and starts the cluster service, the
/// database pruner and the release of stale balancing evaluations. Call it inside a tokio
/// runtime (they are spawned on it). An unusable cluster configuration is not an error: the
/// views say what to set until it is fixed and [`ClusterService::reconnect`] is called. The
/// database, the install secret and the local admin under `settings.data_dir` are needed,
/// though: without them nobody could log in, so that is an error (its message names the file).
pub async fn wire(settings: Settings) -> Result<AppState, Error> {
    let ports = Ports::production(&settings);
    wire_with(settings, ports).await
}

/// [`wire`] with the given ports (tests pass fakes).
pub async fn wire_with(settings: Settings, ports: Ports) -> Result<AppState, Error> {
    let shutdown = CancellationToken::new();
    let started_at = ports.clock.now();
    let auth = AuthService::open(
        &settings.data_dir,
        Arc::clone(&ports.clock),
        ports.proxmox_login,
        AuthConfig::from_settings(&settings),
    )
    .await
    .map_err(|error| Error::Internal(error.to_string()))?;
    auth.spawn_pruner(shutdown.clone());
    let cluster = ClusterService::start(
        ports.cluster,
        Arc::clone(&ports.clock),
        ClusterOptions {
            snapshot: SnapshotConfig {
                interval: settings.poll_interval,
                ..SnapshotConfig::default()
            },
            utc_offset_seconds: settings.utc_offset_minutes * 60,
        },
        shutdown.clone(),
    );
    let proxlb = Proxlb::start(
        ports.proxlb,
        auth.clone(),
        Arc::clone(&ports.clock),
        shutdown.clone(),
    );
    // The migration history: ProxLB's log (from the oldest retained entry, so a restart re-reads
    // the tail and the history deduplicates it) and the poller's task list, into the store.
    let migrations = MigrationService::start(
        auth.store().clone(),
        Arc::clone(&ports.clock),
        settings.proxlb_config.clone(),
        cluster.clone(),
        proxlb.logs.subscribe_entries(),
        shutdown.clone(),
    );
    // The configuration file: one write path, and a watcher so a change on disk (ours, ProxLB's
    // tooling, an admin with vim) reaches the cluster views without a restart.
    let config = ConfigService::new(Arc::new(FileConfigStore::new(
        &settings.proxlb_config,
        &settings.data_dir,
    )));
    {
        let cluster = cluster.clone();
        config_store::watch::spawn(
            Arc::clone(config.store()),
            config_store::watch::POLL_INTERVAL,
            shutdown.clone(),
            move |_| {
                // An unusable file is reported by the cluster views themselves.
                let _ = cluster.reconnect();
            },
        );
    }
    let balancing = BalancingService::new(
        config.clone(),
        cluster.clone(),
        proxlb.clone(),
        auth.clone(),
        Arc::clone(&ports.clock),
        settings.utc_offset_minutes * 60,
    );
    balancing.spawn_baseline_release(shutdown.clone());
    Ok(AppState::new(AppServices {
        settings: Arc::new(settings),
        clock: ports.clock,
        started_at,
        shutdown,
        cluster,
        auth,
        proxlb,
        migrations,
        config,
        balancing,
    }))
}
