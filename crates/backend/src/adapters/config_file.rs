//! ProxLB's configuration file: typed reads (serde_norway) and the Proxmox connection it describes.
//!
//! ProxLB Web uses the same `proxmox_api` section ProxLB uses, so operators configure credentials
//! once. Errors name the file and the bad field, never a secret value.

use std::path::{Path, PathBuf};
use std::time::Duration;

use plb_domain::proxlb::ProxLbConfig;

use crate::adapters::pve::{
    Fingerprint, PveConnectionConfig, PveCredentials, PveHost, Secret, TlsTrust,
};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file does not exist.
    #[error("{path} does not exist")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The YAML is malformed or a field has the wrong type.
    #[error("{path}: {field}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Path of the bad field (`balancing.balanciness`), or `.` for the document.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The `proxmox_api` section cannot describe a connection.
    #[error("{path}: proxmox_api: {reason}")]
    Connection {
        /// The file.
        path: PathBuf,
        /// What is missing or contradictory.
        reason: String,
    },
}

/// Reads and parses ProxLB's YAML configuration.
pub fn load(path: &Path) -> Result<ProxLbConfig, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ConfigFileError::Missing {
            path: path.to_owned(),
        },
        _ => ConfigFileError::Unreadable {
            path: path.to_owned(),
            reason: error.to_string(),
        },
    })?;
    parse(path, &text)
}

/// Parses YAML text (the path is only used in messages).
pub fn parse(path: &Path, text: &str) -> Result<ProxLbConfig, ConfigFileError> {
    let deserializer = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        // serde_norway's messages quote the offending value for some errors; a secret could be
        // that value, so keep only the part before the first colon-quoted value.
        let reason = redact_values(&error.inner().to_string());
        ConfigFileError::Invalid {
            path: path.to_owned(),
            field,
            reason,
        }
    })
}

/// Drops quoted values from a parser message (`invalid type: string "hunter2", expected …`).
fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for ch in message.chars() {
        match ch {
            '"' if !in_quotes => {
                in_quotes = true;
                out.push_str("\"…");
            }
            '"' => {
                in_quotes = false;
                out.push('"');
            }
            _ if in_quotes => {}
            _ => out.push(ch),
        }
    }
    out
}

/// What ProxLB Web's own settings add to ProxLB's `proxmox_api` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PveOverrides {
    /// Extra CA bundle (`REQUESTS_CA_BUNDLE`, as ProxLB's units set it); used with
    /// `ssl_verification: true` and no pins.
    pub ca_file: Option<PathBuf>,
    /// Pinned certificate fingerprints (`PROXLB_WEB_PVE_FINGERPRINT`). They win over the CA
    /// file and over `ssl_verification: false`: when pins are set, they are always checked.
    pub fingerprints: Vec<Fingerprint>,
    /// The UI's own per-request timeout (`PROXLB_WEB_PVE_TIMEOUT_SECONDS`). Unset: the larger of
    /// `proxmox_api.timeout` and [`DEFAULT_UI_TIMEOUT`].
    pub timeout: Option<Duration>,
}

impl PveOverrides {
    /// The overrides the server's settings ask for.
    pub fn from_settings(settings: &crate::Settings) -> Self {
        Self {
            ca_file: settings.ca_file.clone(),
            fingerprints: settings.pve_fingerprints.clone(),
            timeout: settings.pve_timeout,
        }
    }
}

/// The per-request timeout of the UI's own Proxmox calls when `PROXLB_WEB_PVE_TIMEOUT_SECONDS`
/// is unset and `proxmox_api.timeout` is smaller. ProxLB's own default (1 s, also when the key is
/// missing) is too short for `/cluster/resources` of a 10,000-guest cluster (3.5 MB), which
/// would leave the views permanently stale.
pub const DEFAULT_UI_TIMEOUT: Duration = Duration::from_secs(10);

/// The timeout the UI uses: the explicit setting, else the larger of ProxLB's and the UI default.
fn ui_timeout(proxlb_seconds: i64, setting: Option<Duration>) -> Duration {
    setting.unwrap_or_else(|| {
        let proxlb = Duration::from_secs(u64::try_from(proxlb_seconds).unwrap_or(0).max(1));
        proxlb.max(DEFAULT_UI_TIMEOUT)
    })
}

/// The Proxmox connection ProxLB's `proxmox_api` section describes, with ProxLB Web's own
/// [`PveOverrides`] (CA file, pins, timeout) applied.
pub fn connection(
    path: &Path,
    config: &ProxLbConfig,
    overrides: &PveOverrides,
) -> Result<PveConnectionConfig, ConfigFileError> {
    let api = &config.proxmox_api;
    let invalid = |reason: String| ConfigFileError::Connection {
        path: path.to_owned(),
        reason,
    };
    let mut hosts = Vec::with_capacity(api.hosts.len());
    for (parsed, written) in api.api_hosts().into_iter().zip(&api.hosts) {
        let host = parsed.map_err(|error| invalid(format!("host {written:?}: {error}")))?;
        hosts.push(PveHost::new(host.host, host.port));
    }
    if hosts.is_empty() {
        return Err(invalid("hosts is empty".into()));
    }
    // An empty value counts as unset, as in ProxLB.
    let secret = |value: &Option<Secret>| value.clone().filter(|v| !v.is_empty());
    let token_id = api
        .token_id
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let credentials = match (secret(&api.pass), token_id, secret(&api.token_secret)) {
        (Some(_), _, Some(_)) => {
            return Err(invalid("set either pass or token_secret, not both".into()))
        }
        (Some(password), _, None) => PveCredentials::Password {
            user: api.user.clone(),
            password,
        },
        (None, Some(token_id), Some(secret)) => PveCredentials::Token {
            user: api.user.clone(),
            token_id,
            secret,
        },
        (None, None, Some(_)) => {
            return Err(invalid(
                "token_secret is set but token_id is missing".into(),
            ))
        }
        (None, _, None) => {
            return Err(invalid(
                "neither pass nor token_id + token_secret is set".into(),
            ))
        }
    };
    if !api.ssl_verification && !overrides.fingerprints.is_empty() {
        tracing::warn!(
            "PROXLB_WEB_PVE_FINGERPRINT is set: ProxLB Web checks Proxmox VE's certificates \
             against the pins although proxmox_api.ssl_verification is false"
        );
    }
    Ok(PveConnectionConfig::new(hosts, credentials)
        .with_tls(TlsTrust::from_settings(
            api.ssl_verification,
            overrides.ca_file.clone(),
            overrides.fingerprints.clone(),
        ))
        .with_timeout(ui_timeout(api.timeout, overrides.timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/etc/proxlb/proxlb.yaml";

    fn parse_ok(text: &str) -> ProxLbConfig {
        parse(Path::new(PATH), text).unwrap()
    }

    #[test]
    fn reads_the_shipped_example_shape() {
        let config = parse_ok(
            "proxmox_api:\n  hosts: ['virt01.example.com', '10.10.10.10:8007', '[fe01::1]']\n  user: root@pam\n  pass: crazyPassw0rd!\n  ssl_verification: true\n  timeout: 10\nbalancing:\n  enable: true\n  balanciness: 5\n  method: memory\n  mode: used\n  unknown_key: kept-silently\n",
        );
        assert_eq!(config.balancing.balanciness, 5);
        let connection = connection(Path::new(PATH), &config, &PveOverrides::default()).unwrap();
        let urls: Vec<String> = connection.hosts.iter().map(PveHost::base_url).collect();
        assert_eq!(
            urls,
            vec![
                "https://virt01.example.com:8006/api2/json",
                "https://10.10.10.10:8007/api2/json",
                "https://[fe01::1]:8006/api2/json",
            ]
        );
        assert_eq!(connection.timeout, Duration::from_secs(10));
        assert!(matches!(connection.tls, TlsTrust::System));
    }

    #[test]
    fn token_credentials_and_insecure_tls() {
        let config = parse_ok(
            "proxmox_api:\n  hosts: ['127.0.0.1']\n  user: root@pam\n  token_id: proxlb\n  token_secret: abc\n  ssl_verification: false\n",
        );
        let connection = connection(Path::new(PATH), &config, &PveOverrides::default()).unwrap();
        assert!(
            matches!(connection.credentials, PveCredentials::Token { ref token_id, .. } if token_id == "proxlb")
        );
        assert!(connection.tls.is_insecure());
    }

    #[test]
    fn bad_fields_are_named_and_secrets_not_echoed() {
        let error = parse(
            Path::new(PATH),
            "proxmox_api:\n  hosts: ['h']\n  user: root@pam\n  pass: hunter2\nbalancing:\n  balanciness: hunter2\n",
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("balancing.balanciness"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let error = parse(Path::new(PATH), "proxmox_api: [unclosed").unwrap_err();
        assert!(matches!(error, ConfigFileError::Invalid { .. }));
    }

    #[test]
    fn contradictory_or_missing_credentials_are_rejected() {
        let both = parse_ok("proxmox_api:\n  hosts: ['h']\n  user: u@pam\n  pass: p\n  token_id: t\n  token_secret: s\n");
        assert!(connection(Path::new(PATH), &both, &PveOverrides::default())
            .unwrap_err()
            .to_string()
            .contains("not both"));
        let none = parse_ok("proxmox_api:\n  hosts: ['h']\n  user: u@pam\n");
        assert!(connection(Path::new(PATH), &none, &PveOverrides::default()).is_err());
        let no_hosts = parse_ok("proxmox_api:\n  hosts: []\n  user: u@pam\n  pass: p\n");
        assert!(
            connection(Path::new(PATH), &no_hosts, &PveOverrides::default())
                .unwrap_err()
                .to_string()
                .contains("hosts is empty")
        );
    }

    #[test]
    fn debug_of_the_config_and_the_connection_holds_no_secret() {
        let password = parse_ok(
            "proxmox_api:\n  hosts: ['h']\n  user: root@pam\n  pass: hunter2-pass-value\n",
        );
        let token = parse_ok(
            "proxmox_api:\n  hosts: ['h']\n  user: root@pam\n  token_id: proxlb\n  token_secret: 5f1c3e9a-token-value\n",
        );
        for (config, secret) in [(password, "hunter2"), (token, "5f1c3e9a")] {
            let connection =
                connection(Path::new(PATH), &config, &PveOverrides::default()).unwrap();
            let debug = format!("{config:?} {config:#?} {connection:?} {connection:#?}");
            assert!(!debug.contains(secret), "{debug}");
            assert!(debug.contains("root@pam"), "{debug}");
            let json = serde_json::to_string(&config).unwrap();
            assert!(!json.contains(secret), "{json}");
            // The value itself is still there for the login.
            let exposed = match &connection.credentials {
                PveCredentials::Password { password, .. } => password.expose(),
                PveCredentials::Token { secret, .. } => secret.expose(),
            };
            assert!(exposed.starts_with(secret));
        }
    }

    #[test]
    fn the_ui_timeout_is_never_below_its_default_unless_set() {
        let with = |yaml_timeout: &str, setting: Option<u64>| {
            let config = parse_ok(&format!(
                "proxmox_api:\n  hosts: ['h']\n  user: u@pam\n  pass: p\n{yaml_timeout}"
            ));
            let overrides = PveOverrides {
                timeout: setting.map(Duration::from_secs),
                ..PveOverrides::default()
            };
            connection(Path::new(PATH), &config, &overrides)
                .unwrap()
                .timeout
        };
        // ProxLB's default (1 s, also when the key is missing) would time out on large clusters.
        assert_eq!(with("", None), DEFAULT_UI_TIMEOUT);
        assert_eq!(with("  timeout: 1\n", None), DEFAULT_UI_TIMEOUT);
        assert_eq!(with("  timeout: 0\n", None), DEFAULT_UI_TIMEOUT);
        // A longer ProxLB timeout is kept.
        assert_eq!(with("  timeout: 30\n", None), Duration::from_secs(30));
        // PROXLB_WEB_PVE_TIMEOUT_SECONDS wins either way.
        assert_eq!(with("  timeout: 30\n", Some(5)), Duration::from_secs(5));
        assert_eq!(with("", Some(60)), Duration::from_secs(60));
    }

    #[test]
    fn pins_win_over_ssl_verification_false() {
        let config = parse_ok(
            "proxmox_api:\n  hosts: ['h']\n  user: u@pam\n  pass: p\n  ssl_verification: false\n",
        );
        let pin = Fingerprint([9; 32]);
        let overrides = PveOverrides {
            ca_file: Some("/ca.pem".into()),
            fingerprints: vec![pin],
            timeout: None,
        };
        let pinned = connection(Path::new(PATH), &config, &overrides).unwrap();
        assert_eq!(pinned.tls, TlsTrust::Pinned(vec![pin]));
        assert!(!pinned.tls.is_insecure());
        // Without pins, verification off stays off (and the CA file is not used).
        let overrides = PveOverrides {
            fingerprints: Vec::new(),
            ..overrides
        };
        let off = connection(Path::new(PATH), &config, &overrides).unwrap();
        assert!(off.tls.is_insecure());
    }

    #[test]
    fn a_missing_file_says_so() {
        let error = load(Path::new("/nonexistent/proxlb.yaml")).unwrap_err();
        assert_eq!(error.to_string(), "/nonexistent/proxlb.yaml does not exist");
    }
}
