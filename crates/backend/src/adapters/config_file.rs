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

/// The Proxmox connection ProxLB's `proxmox_api` section describes. `ca_file` is an extra CA
/// bundle (ProxLB's units set `REQUESTS_CA_BUNDLE`) and `fingerprints` are pinned certificates;
/// both apply only when verification is on (pins win over the CA file).
pub fn connection(
    path: &Path,
    config: &ProxLbConfig,
    ca_file: Option<PathBuf>,
    fingerprints: Vec<Fingerprint>,
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
    let non_empty = |value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let credentials = match (
        non_empty(&api.pass),
        non_empty(&api.token_id),
        non_empty(&api.token_secret),
    ) {
        (Some(_), _, Some(_)) => {
            return Err(invalid("set either pass or token_secret, not both".into()))
        }
        (Some(password), _, None) => PveCredentials::Password {
            user: api.user.clone(),
            password: Secret::new(password),
        },
        (None, Some(token_id), Some(secret)) => PveCredentials::Token {
            user: api.user.clone(),
            token_id,
            secret: Secret::new(secret),
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
    let timeout = Duration::from_secs(u64::try_from(api.timeout).unwrap_or(0).max(1));
    Ok(PveConnectionConfig::new(hosts, credentials)
        .with_tls(TlsTrust::from_settings(
            api.ssl_verification,
            ca_file,
            fingerprints,
        ))
        .with_timeout(timeout))
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
        let connection = connection(Path::new(PATH), &config, None, Vec::new()).unwrap();
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
        let connection = connection(Path::new(PATH), &config, None, Vec::new()).unwrap();
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
        assert!(connection(Path::new(PATH), &both, None, Vec::new())
            .unwrap_err()
            .to_string()
            .contains("not both"));
        let none = parse_ok("proxmox_api:\n  hosts: ['h']\n  user: u@pam\n");
        assert!(connection(Path::new(PATH), &none, None, Vec::new()).is_err());
        let no_hosts = parse_ok("proxmox_api:\n  hosts: []\n  user: u@pam\n  pass: p\n");
        assert!(connection(Path::new(PATH), &no_hosts, None, Vec::new())
            .unwrap_err()
            .to_string()
            .contains("hosts is empty"));
    }

    #[test]
    fn a_missing_file_says_so() {
        let error = load(Path::new("/nonexistent/proxlb.yaml")).unwrap_err();
        assert_eq!(error.to_string(), "/nonexistent/proxlb.yaml does not exist");
    }
}
