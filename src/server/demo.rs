//! Demo mode: an embedded Proxmox VE simulator on a loopback port (the 3-node demo scenario by
//! default, see [`DemoScenario`]) and a ProxLB configuration pointing at it. Zero
//! infrastructure, same code paths as production.

use std::path::{Path, PathBuf};

use plb_backend::settings::access::DemoLogin;
use plb_backend::{AppState, DemoScenario, Settings};
use plb_domain::secret::Secret;
use plb_pve_sim::{Credential, Scenario, SimConfig, Simulator};

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
    let state = plb_backend::compose::wire(settings)
        .await
        .map_err(|error| DemoError::State(error.to_string()))?;
    Ok((state, demo))
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
    let simulator = Simulator::start(
        scenario,
        SimConfig {
            cert_dir: Some(folder.join("pve")),
            ..SimConfig::default()
        },
    )
    .await
    .map_err(|error| DemoError::Simulator(error.to_string()))?;

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
        "service": { "daemon": true, "schedule": { "interval": 1, "format": "hours" }, "log_level": "INFO" },
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
