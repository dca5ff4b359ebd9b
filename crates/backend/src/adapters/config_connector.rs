//! The production [`ClusterConnector`]: ProxLB's configuration file (`PROXLB_CONFIG`) plus ProxLB
//! Web's own overrides (CA file, pins, timeout) → a [`PveClient`]. Read again on every connect,
//! so an edited `proxmox_api` is picked up by a reconnect.

use std::path::PathBuf;
use std::sync::Arc;

use crate::adapters::config_file::{self, PveOverrides};
use crate::adapters::pve::PveClient;
use crate::error::NotConfigured;
use crate::ports::{ClusterConnection, ClusterConnector};
use crate::Settings;

/// What to set when the configuration is unusable.
pub const HINT: &str = "Set PROXLB_CONFIG to the path of ProxLB's proxlb.yaml (ProxLB Web uses its proxmox_api section), or start with --demo to try a simulated cluster.";

/// Connects to the cluster ProxLB's configuration file describes.
#[derive(Clone, Debug)]
pub struct ConfigFileConnector {
    path: PathBuf,
    overrides: PveOverrides,
}

impl ConfigFileConnector {
    /// Reads `path` with `overrides` on every connect.
    pub fn new(path: PathBuf, overrides: PveOverrides) -> Self {
        Self { path, overrides }
    }

    /// The connector the server's settings describe.
    pub fn from_settings(settings: &Settings) -> Self {
        Self::new(
            settings.proxlb_config.clone(),
            PveOverrides::from_settings(settings),
        )
    }
}

impl ClusterConnector for ConfigFileConnector {
    fn connect(&self) -> Result<ClusterConnection, NotConfigured> {
        // Every reason names the file and field, never a secret (see `ConfigFileError`).
        let not_configured = |reason: String| NotConfigured {
            reason,
            hint: HINT.to_owned(),
        };
        let config = config_file::load(&self.path).map_err(|e| not_configured(e.to_string()))?;
        let connection = config_file::connection(&self.path, &config, &self.overrides)
            .map_err(|e| not_configured(e.to_string()))?;
        let client = PveClient::new(&connection).map_err(|error| {
            not_configured(format!(
                "{}: proxmox_api: {}",
                self.path.display(),
                error.safe_summary()
            ))
        })?;
        Ok(ClusterConnection {
            api: Arc::new(client),
            config: Arc::new(config),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_not_configured_with_the_hint() {
        let path = std::env::temp_dir().join("plb-no-such-dir/proxlb.yaml");
        let connector = ConfigFileConnector::new(path, PveOverrides::default());
        let Err(why) = connector.connect() else {
            panic!("a missing file must not connect")
        };
        assert!(
            why.reason.contains("plb-no-such-dir/proxlb.yaml"),
            "{}",
            why.reason
        );
        assert!(why.reason.contains("does not exist"), "{}", why.reason);
        assert!(why.hint.contains("PROXLB_CONFIG") && why.hint.contains("--demo"));
    }

    #[test]
    fn secrets_stay_out_of_the_reason() {
        let dir = std::env::temp_dir().join(format!("plb-connector-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("proxlb.yaml");
        // Both pass and token_secret: contradictory, so the connection is refused.
        std::fs::write(
            &path,
            "proxmox_api:\n  hosts: [pve1]\n  user: root@pam\n  pass: hunter2-secret\n  token_id: t\n  token_secret: tok-secret\n",
        )
        .unwrap();
        let Err(why) = ConfigFileConnector::new(path, PveOverrides::default()).connect() else {
            panic!("a contradictory proxmox_api must not connect")
        };
        assert!(why.reason.contains("proxmox_api"), "{}", why.reason);
        assert!(!why.reason.contains("hunter2") && !why.reason.contains("tok-secret"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
