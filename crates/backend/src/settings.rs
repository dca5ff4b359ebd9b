//! Settings read once from the environment into a typed struct.
//!
//! Bad values are rejected at start with a one-line message naming the variable, so a typo never
//! turns into a confusing failure later. Empty values count as unset (handy with compose files).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::adapters::pve::Fingerprint;

/// Default path of ProxLB's configuration file (the same default ProxLB uses).
pub const DEFAULT_PROXLB_CONFIG: &str = "/etc/proxlb/proxlb.yaml";
/// Default name of the Docker container running ProxLB.
pub const DEFAULT_PROXLB_CONTAINER: &str = "proxlb";
/// Default listen address when neither HOST/PORT nor LEPTOS_SITE_ADDR is set.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);

/// Typed settings of the ProxLB Web server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Where the HTTP server listens. `HOST`/`PORT` win over `LEPTOS_SITE_ADDR`.
    pub listen: SocketAddr,
    /// Path of ProxLB's YAML configuration (`PROXLB_CONFIG`).
    pub proxlb_config: PathBuf,
    /// Name of the Docker container running ProxLB (`PROXLB_CONTAINER`).
    pub proxlb_container: String,
    /// Folder holding the built site: `pkg/` with WASM, JS and CSS (`LEPTOS_SITE_ROOT`).
    pub site_root: PathBuf,
    /// Port of cargo-leptos' live-reload socket in development (`LEPTOS_RELOAD_PORT`).
    pub reload_port: u16,
    /// Development mode (`LEPTOS_ENV=DEV`, set by `cargo leptos watch`): enables live reload.
    pub dev_mode: bool,
    /// Demo mode (`PROXLB_DEMO=1` or `--demo`): an embedded simulated cluster instead of Proxmox.
    pub demo: bool,
    /// Which simulated cluster demo mode serves (`PROXLB_DEMO_SCENARIO`, default the 3-node demo).
    pub demo_scenario: DemoScenario,
    /// Folder for ProxLB Web's own files (`PROXLB_WEB_DATA`); demo mode writes its config there.
    pub data_dir: PathBuf,
    /// Extra CA bundle to trust for Proxmox (`REQUESTS_CA_BUNDLE`, as ProxLB's units set it).
    pub ca_file: Option<PathBuf>,
    /// Pinned SHA-256 fingerprints of the Proxmox certificates (`PROXLB_WEB_PVE_FINGERPRINT`,
    /// comma-separated, as `pvenode cert info` shows them); when set, only these are trusted.
    pub pve_fingerprints: Vec<Fingerprint>,
    /// How often the cluster is polled (`PROXLB_WEB_POLL_SECONDS`, default 10).
    pub poll_interval: Duration,
    /// Offset of ProxLB's local time from UTC in minutes (`PROXLB_UTC_OFFSET_MINUTES`, default 0),
    /// for `maintenance_nodes_schedule`, which ProxLB evaluates in its host's local time.
    pub utc_offset_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            proxlb_config: PathBuf::from(DEFAULT_PROXLB_CONFIG),
            proxlb_container: DEFAULT_PROXLB_CONTAINER.to_owned(),
            site_root: PathBuf::from("target/site"),
            reload_port: 3001,
            dev_mode: false,
            demo: false,
            demo_scenario: DemoScenario::ThreeNode,
            data_dir: std::env::temp_dir().join("proxlb-web"),
            ca_file: None,
            pve_fingerprints: Vec::new(),
            poll_interval: Duration::from_secs(10),
            utc_offset_minutes: 0,
        }
    }
}

/// The simulated cluster that demo mode serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DemoScenario {
    /// The deliberately unbalanced 3-node demo with tags, a pool and an HA rule (`3node`).
    ThreeNode,
    /// The generated large cluster: 64 nodes, 10,000 guests (`large`).
    Large,
    /// A pve-sim scenario file (YAML or JSON) of the user's own.
    File(PathBuf),
}

impl DemoScenario {
    /// Reads `PROXLB_DEMO_SCENARIO`: `3node`, `large`, or the path of a scenario file.
    fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "3node" | "demo" => Some(Self::ThreeNode),
            "large" => Some(Self::Large),
            path if path.ends_with(".yaml")
                || path.ends_with(".yml")
                || path.ends_with(".json") =>
            {
                Some(Self::File(PathBuf::from(path)))
            }
            _ => None,
        }
    }
}

/// A setting with a value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {variable}={value:?}: {expected}")]
pub struct SettingsError {
    /// Name of the environment variable.
    pub variable: &'static str,
    /// The value found.
    pub value: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let defaults = Settings::default();

        let site_addr = get("LEPTOS_SITE_ADDR")
            .map(|value| {
                value
                    .trim()
                    .parse::<SocketAddr>()
                    .map_err(|_| SettingsError {
                        variable: "LEPTOS_SITE_ADDR",
                        value,
                        expected: "an address with port, like 127.0.0.1:3000 or [::1]:3000",
                    })
            })
            .transpose()?
            .unwrap_or(DEFAULT_LISTEN);
        let host = get("HOST")
            .map(|value| {
                parse_host(&value).ok_or(SettingsError {
                    variable: "HOST",
                    value,
                    expected: "an IP address such as 0.0.0.0, 127.0.0.1 or ::, or localhost",
                })
            })
            .transpose()?
            .unwrap_or(site_addr.ip());
        let port = get("PORT")
            .map(|value| {
                value.trim().parse::<u16>().map_err(|_| SettingsError {
                    variable: "PORT",
                    value,
                    expected: "a whole number from 0 to 65535 (0 picks a free port)",
                })
            })
            .transpose()?
            .unwrap_or(site_addr.port());
        let reload_port = get("LEPTOS_RELOAD_PORT")
            .map(|value| {
                value.trim().parse::<u16>().map_err(|_| SettingsError {
                    variable: "LEPTOS_RELOAD_PORT",
                    value,
                    expected: "a whole number from 1 to 65535",
                })
            })
            .transpose()?
            .unwrap_or(defaults.reload_port);
        let dev_mode = match get("LEPTOS_ENV") {
            None => false,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "dev" | "development" => true,
                "prod" | "production" => false,
                _ => {
                    return Err(SettingsError {
                        variable: "LEPTOS_ENV",
                        value,
                        expected: "DEV or PROD",
                    })
                }
            },
        };

        let demo = match get("PROXLB_DEMO") {
            None => false,
            Some(value) => parse_bool(&value).ok_or(SettingsError {
                variable: "PROXLB_DEMO",
                value,
                expected: "1, true, yes or on to enable; 0, false, no or off to disable",
            })?,
        };
        let demo_scenario = match get("PROXLB_DEMO_SCENARIO") {
            None => DemoScenario::ThreeNode,
            Some(value) => DemoScenario::parse(&value).ok_or(SettingsError {
                variable: "PROXLB_DEMO_SCENARIO",
                value,
                expected:
                    "3node, large, or the path of a scenario file ending in .yaml, .yml or .json",
            })?,
        };
        let poll_seconds = get("PROXLB_WEB_POLL_SECONDS")
            .map(|value| match value.trim().parse::<u64>() {
                Ok(seconds) if (1..=3600).contains(&seconds) => Ok(seconds),
                _ => Err(SettingsError {
                    variable: "PROXLB_WEB_POLL_SECONDS",
                    value,
                    expected: "a whole number of seconds from 1 to 3600",
                }),
            })
            .transpose()?
            .unwrap_or(10);
        let utc_offset_minutes = get("PROXLB_UTC_OFFSET_MINUTES")
            .map(|value| match value.trim().parse::<i64>() {
                Ok(minutes) if (-14 * 60..=14 * 60).contains(&minutes) => Ok(minutes),
                _ => Err(SettingsError {
                    variable: "PROXLB_UTC_OFFSET_MINUTES",
                    value,
                    expected: "minutes east of UTC from -840 to 840, e.g. 60 for CET",
                }),
            })
            .transpose()?
            .unwrap_or(0);

        let pve_fingerprints = match get("PROXLB_WEB_PVE_FINGERPRINT") {
            None => Vec::new(),
            Some(value) => value
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::parse::<Fingerprint>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| SettingsError {
                    variable: "PROXLB_WEB_PVE_FINGERPRINT",
                    value: value.clone(),
                    expected:
                        "SHA-256 fingerprints (32 hex pairs like AB:CD:…), separated by commas",
                })?,
        };

        Ok(Self {
            demo,
            demo_scenario,
            pve_fingerprints,
            data_dir: get("PROXLB_WEB_DATA")
                .map(PathBuf::from)
                .unwrap_or(defaults.data_dir),
            ca_file: get("REQUESTS_CA_BUNDLE").map(PathBuf::from),
            poll_interval: Duration::from_secs(poll_seconds),
            utc_offset_minutes,
            listen: SocketAddr::new(host, port),
            proxlb_config: get("PROXLB_CONFIG")
                .map(PathBuf::from)
                .unwrap_or(defaults.proxlb_config),
            proxlb_container: get("PROXLB_CONTAINER")
                .map(|name| name.trim().to_owned())
                .unwrap_or(defaults.proxlb_container),
            site_root: get("LEPTOS_SITE_ROOT")
                .map(PathBuf::from)
                .unwrap_or(defaults.site_root),
            reload_port,
            dev_mode,
        })
    }
}

/// Reads the usual spellings of a yes/no environment value.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Accepts IP addresses (v4, v6, optionally in brackets) and `localhost`.
fn parse_host(value: &str) -> Option<IpAddr> {
    let trimmed = value.trim();
    if trimmed.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    trimmed
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_spec() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(s.proxlb_config, PathBuf::from("/etc/proxlb/proxlb.yaml"));
        assert_eq!(s.proxlb_container, "proxlb");
        assert!(!s.dev_mode);
    }

    #[test]
    fn host_and_port_win_over_leptos_site_addr() {
        let s = settings(&[("LEPTOS_SITE_ADDR", "127.0.0.1:3000"), ("PORT", "9000")]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9000".parse().unwrap());
        let s = settings(&[("LEPTOS_SITE_ADDR", "127.0.0.1:3000"), ("HOST", "::1")]).unwrap();
        assert_eq!(s.listen, "[::1]:3000".parse().unwrap());
        let s = settings(&[("LEPTOS_SITE_ADDR", "127.0.0.1:3000")]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:3000".parse().unwrap());
        let s = settings(&[("HOST", "localhost"), ("PORT", "0")]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:0".parse().unwrap());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = settings(&[("PORT", "abc")]).unwrap_err();
        assert_eq!(err.variable, "PORT");
        assert_eq!(
            err.to_string(),
            "invalid setting PORT=\"abc\": a whole number from 0 to 65535 (0 picks a free port)"
        );
        assert_eq!(settings(&[("PORT", "70000")]).unwrap_err().variable, "PORT");
        assert_eq!(
            settings(&[("HOST", "not a host")]).unwrap_err().variable,
            "HOST"
        );
        assert_eq!(
            settings(&[("LEPTOS_SITE_ADDR", "nowhere")])
                .unwrap_err()
                .variable,
            "LEPTOS_SITE_ADDR"
        );
        assert_eq!(
            settings(&[("LEPTOS_ENV", "staging")]).unwrap_err().variable,
            "LEPTOS_ENV"
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let s = settings(&[("PORT", ""), ("PROXLB_CONFIG", "  ")]).unwrap();
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn demo_scenario_is_3node_large_or_a_file() {
        assert_eq!(
            settings(&[]).unwrap().demo_scenario,
            DemoScenario::ThreeNode
        );
        assert_eq!(
            settings(&[("PROXLB_DEMO_SCENARIO", "large")])
                .unwrap()
                .demo_scenario,
            DemoScenario::Large
        );
        assert_eq!(
            settings(&[("PROXLB_DEMO_SCENARIO", "/srv/my-cluster.yaml")])
                .unwrap()
                .demo_scenario,
            DemoScenario::File(PathBuf::from("/srv/my-cluster.yaml"))
        );
        let error = settings(&[("PROXLB_DEMO_SCENARIO", "huge")]).unwrap_err();
        assert_eq!(error.variable, "PROXLB_DEMO_SCENARIO");
        assert!(error.to_string().contains("3node, large"), "{error}");
    }

    #[test]
    fn demo_poll_interval_and_offset() {
        let s = settings(&[
            ("PROXLB_DEMO", "yes"),
            ("PROXLB_WEB_POLL_SECONDS", "30"),
            ("PROXLB_UTC_OFFSET_MINUTES", "-300"),
        ])
        .unwrap();
        assert!(s.demo);
        assert_eq!(s.poll_interval, Duration::from_secs(30));
        assert_eq!(s.utc_offset_minutes, -300);
        assert_eq!(
            settings(&[("PROXLB_DEMO", "maybe")]).unwrap_err().variable,
            "PROXLB_DEMO"
        );
        assert_eq!(
            settings(&[("PROXLB_WEB_POLL_SECONDS", "0")])
                .unwrap_err()
                .variable,
            "PROXLB_WEB_POLL_SECONDS"
        );
        assert_eq!(
            settings(&[("PROXLB_UTC_OFFSET_MINUTES", "9999")])
                .unwrap_err()
                .variable,
            "PROXLB_UTC_OFFSET_MINUTES"
        );
        let pin = "AB:".repeat(31) + "AB";
        let s = settings(&[(
            "PROXLB_WEB_PVE_FINGERPRINT",
            &format!("{pin}, {}", "cd".repeat(32)),
        )])
        .unwrap();
        assert_eq!(s.pve_fingerprints.len(), 2);
        assert_eq!(s.pve_fingerprints[0].to_string(), pin);
        let err = settings(&[("PROXLB_WEB_PVE_FINGERPRINT", "AB:CD")]).unwrap_err();
        assert_eq!(err.variable, "PROXLB_WEB_PVE_FINGERPRINT");
        let s = settings(&[("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")]).unwrap();
        assert_eq!(
            s.ca_file,
            Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt"))
        );
    }

    #[test]
    fn dev_mode_from_leptos_env() {
        assert!(settings(&[("LEPTOS_ENV", "DEV")]).unwrap().dev_mode);
        assert!(!settings(&[("LEPTOS_ENV", "PROD")]).unwrap().dev_mode);
    }
}
