//! Demo mode: an embedded Proxmox VE simulator on a loopback port (the 3-node demo scenario by
//! default, see [`DemoScenario`]) and a ProxLB configuration pointing at it. Zero
//! infrastructure, same code paths as production.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use plb_backend::adapters::proxlb::ProxlbBackend;
use plb_backend::settings::access::DemoLogin;
use plb_backend::{AppState, DemoScenario, Settings};
use plb_domain::secret::Secret;
use plb_pve_sim::{Credential, Scenario, SimConfig, Simulator, Timing};

/// The demo scenario, compiled in so the binary needs no file next to it.
const DEMO_SCENARIO: &str = include_str!("../../crates/pve-sim/scenarios/demo-3node.yaml");

/// A running demo cluster. Dropping it stops the simulator.
pub struct Demo {
    /// The simulator (kept alive for the life of the server).
    pub simulator: Simulator,
    /// The generated ProxLB configuration.
    pub config_path: PathBuf,
    /// The simulator's certificate, trusted as a CA so TLS verification stays on.
    pub ca_file: Option<PathBuf>,
    /// Keeps the simulator's own runtime thread alive; dropped after `simulator`.
    _runtime: SimRuntime,
}

/// The simulator's own single-threaded tokio runtime on a dedicated thread. At 64 nodes /
/// 10,000 guests the simulator spends seconds of CPU per poll cycle computing synthetic usage
/// (every node's RRD history sums every guest at every sample); on the server's runtime that
/// froze the request workers for seconds at a time (measured: `/api/nodes` max 3.7–4.0 s at one
/// client). On its own thread the OS scheduler shares the cores instead. Dropping this ends the
/// thread and its runtime.
struct SimRuntime {
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts the simulator for `scenario` on a new `pve-sim` thread with its own runtime.
async fn start_simulator(
    scenario: Scenario,
    config: SimConfig,
) -> Result<(Simulator, SimRuntime), DemoError> {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| DemoError::Simulator(error.to_string()))?;
    std::thread::Builder::new()
        .name("pve-sim".into())
        .spawn(move || {
            runtime.block_on(async move {
                let started = Simulator::start(scenario, config).await;
                if started_tx.send(started).is_err() {
                    return;
                }
                // Runs the simulator's tasks until the demo is dropped.
                let _stopped = stop_rx.await;
            });
        })
        .map_err(|error| DemoError::Simulator(error.to_string()))?;
    let simulator = started_rx
        .await
        .map_err(|_| DemoError::Simulator("the simulator thread ended".into()))?
        .map_err(|error| DemoError::Simulator(error.to_string()))?;
    Ok((simulator, SimRuntime { _stop: stop_tx }))
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The scenario could not be loaded.
    #[error("the demo scenario is unusable: {0}")]
    Scenario(String),
    /// The simulator did not start.
    #[error("the demo cluster did not start: {0}")]
    Simulator(String),
    /// The application state could not be built (e.g. the database in the data folder).
    #[error("{0}")]
    State(String),
    /// The configuration could not be written.
    #[error("cannot write the demo configuration to {path}: {reason}")]
    Write {
        /// Target file.
        path: PathBuf,
        /// Reason.
        reason: String,
    },
}

/// The application state for `settings`, built by the composition root
/// ([`plb_backend::compose::wire`]); with `settings.demo` the demo cluster is started first and
/// the settings point at it. The one way `main`, the tests and the benchmarks start the app.
///
/// In demo mode the login page offers one click as the simulated cluster's `root@pam` (or its
/// first user with a password): `settings.access.demo_login`.
pub async fn wire(mut settings: Settings) -> Result<(AppState, Option<Demo>), DemoError> {
    let demo = if settings.demo {
        let started = start(&settings.data_dir, &settings.demo_scenario).await?;
        settings.proxlb_config = started.config_path.clone();
        settings.ca_file = started.ca_file.clone();
        settings.access.demo_login = demo_login(&started.simulator);
        Some(started)
    } else {
        None
    };
    let ports = plb_backend::compose::Ports::production(&settings);
    let proxlb = ports.proxlb.clone();
    let state = plb_backend::compose::wire_with(settings, ports)
        .await
        .map_err(|error| DemoError::State(error.to_string()))?;
    if let Some(started) = &demo {
        if state.settings.demo_runs_proxlb() && proxlb.as_process().is_some() {
            run_proxlb(&state, proxlb, started);
        }
    }
    Ok((state, demo))
}

/// Starts real ProxLB (the process backend) against the demo cluster, in the background so the
/// server is up at once, and keeps the demo alive with the load drift
/// ([`super::demo_drift`]). Where ProxLB is not installed the start fails with a problem
/// (interpreter or module missing, with the demo's hint) that the Service and Logs panels show.
fn run_proxlb(state: &AppState, proxlb: ProxlbBackend, demo: &Demo) {
    super::demo_drift::spawn(
        demo.simulator.handle(),
        Arc::clone(&proxlb.logs),
        state.shutdown.clone(),
    );
    let published = state.proxlb.clone();
    tokio::spawn(async move {
        match proxlb.manager.start().await {
            Ok(()) => tracing::info!("demo: ProxLB runs against the simulated cluster"),
            Err(error) => tracing::warn!(%error, "demo: ProxLB is not running"),
        }
        // Publish the new status at once (the run tracker hears of it from the status watcher).
        published.refresh().await;
    });
}

/// The simulated user the demo's one-click login signs in as: `root@pam` if it has a password,
/// else the first user that has one.
fn demo_login(simulator: &Simulator) -> Option<DemoLogin> {
    let passwords = simulator
        .credentials()
        .iter()
        .filter_map(|credential| match credential {
            Credential::Password { userid, password } => Some((userid, password)),
            Credential::Token { .. } => None,
        });
    let mut first = None;
    for (userid, password) in passwords {
        let login = DemoLogin {
            user_id: userid.clone(),
            password: Secret::new(password.clone()),
        };
        if userid == "root@pam" {
            return Some(login);
        }
        first.get_or_insert(login);
    }
    first
}

/// Loads the scenario demo mode should serve.
fn load_scenario(which: &DemoScenario) -> Result<Scenario, DemoError> {
    let scenario = match which {
        DemoScenario::ThreeNode => Scenario::from_yaml_str(DEMO_SCENARIO),
        // The seed only shapes the generated names and loads; 1 keeps every run the same.
        DemoScenario::Large => Ok(Scenario::generated_large(1)),
        DemoScenario::File(path) => Scenario::from_path(path),
    };
    scenario.map_err(|error| DemoError::Scenario(error.to_string()))
}

/// Starts the simulator with `which` scenario and writes `<data_dir>/demo/proxlb.yaml` for it.
pub async fn start(data_dir: &Path, which: &DemoScenario) -> Result<Demo, DemoError> {
    let folder = data_dir.join("demo");
    let scenario = load_scenario(which)?;
    let (simulator, runtime) = start_simulator(
        scenario,
        SimConfig {
            cert_dir: Some(folder.join("pve")),
            // Migrations finish in a few seconds, so ProxLB's runs (and the demo) move along.
            timing: Timing {
                migration: 4.0,
                ..Timing::default()
            },
            ..SimConfig::default()
        },
    )
    .await?;

    let token = simulator
        .credentials()
        .iter()
        .find_map(|credential| match credential {
            Credential::Token {
                userid,
                tokenid,
                secret,
            } => Some((userid.clone(), tokenid.clone(), secret.clone())),
            Credential::Password { .. } => None,
        });
    let Some((user, token_id, token_secret)) = token else {
        return Err(DemoError::Simulator(
            "the demo scenario defines no API token".into(),
        ));
    };
    let config = serde_json::json!({
        "proxmox_api": {
            "hosts": [simulator.host_port()],
            "user": user,
            "token_id": token_id,
            "token_secret": token_secret,
            "ssl_verification": true,
            "timeout": 10,
        },
        "proxmox_cluster": { "maintenance_nodes": [], "ignore_nodes": [] },
        "balancing": {
            "enable": true,
            "balance_types": ["vm", "ct"],
            "balanciness": 10,
            "method": "memory",
            "mode": "used",
            "max_job_validation": 60,
        },
        // A run every minute, so a newcomer sees runs, migrations and the countdown at once.
        "service": { "daemon": true, "schedule": { "interval": 1, "format": "minutes" }, "log_level": "INFO" },
    });
    let config_path = folder.join("proxlb.yaml");
    let write_error = |reason: String| DemoError::Write {
        path: config_path.clone(),
        reason,
    };
    let yaml = serde_norway::to_string(&config).map_err(|error| write_error(error.to_string()))?;
    let header = "# Generated by ProxLB Web's demo mode for its embedded Proxmox VE simulator.\n";
    std::fs::create_dir_all(&folder).map_err(|error| write_error(error.to_string()))?;
    std::fs::write(&config_path, format!("{header}{yaml}"))
        .map_err(|error| write_error(error.to_string()))?;

    Ok(Demo {
        ca_file: simulator.cert().map(|cert| cert.cert_path.clone()),
        simulator,
        config_path,
        _runtime: runtime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_each_kind_of_scenario_and_names_a_bad_file() {
        assert_eq!(
            load_scenario(&DemoScenario::ThreeNode).unwrap().nodes.len(),
            3
        );
        assert_eq!(load_scenario(&DemoScenario::Large).unwrap().nodes.len(), 64);
        let missing = DemoScenario::File(PathBuf::from("/nonexistent/cluster.yaml"));
        let error = load_scenario(&missing).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/cluster.yaml"), "{error}");
    }
}
