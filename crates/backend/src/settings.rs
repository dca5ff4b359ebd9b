//! Settings read once from the environment into a typed struct.
//!
//! Bad values are rejected at start with a one-line message naming the variable, so a typo never
//! turns into a confusing failure later. Empty values count as unset (handy with compose files).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::adapters::pve::Fingerprint;

pub mod access;
pub mod data_dir;

pub use access::AccessSettings;

/// Default path of ProxLB's configuration file (the same default ProxLB uses).
pub const DEFAULT_PROXLB_CONFIG: &str = "/etc/proxlb/proxlb.yaml";
/// Default name of the Docker container running ProxLB.
pub const DEFAULT_PROXLB_CONTAINER: &str = "proxlb";
/// Default name of the systemd unit running ProxLB (the Debian package's `proxlb.service`).
pub const DEFAULT_PROXLB_UNIT: &str = "proxlb";
/// The interpreter of the Debian package's venv (`/opt/venvs/proxlb`, ProxLB 2.x).
pub const DEBIAN_PROXLB_PYTHON: &str = "/opt/venvs/proxlb/bin/python3";
/// The data folder of a server running as root (the container image, the systemd unit).
pub const SYSTEM_DATA_DIR: &str = "/var/lib/proxlb-web";
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
    /// Folder for ProxLB Web's own files (`PROXLB_WEB_DATA`; default [`default_data_dir`]):
    /// private (0700), persistent. Demo mode writes its config there.
    pub data_dir: PathBuf,
    /// Extra CA bundle to trust for Proxmox (`REQUESTS_CA_BUNDLE`, as ProxLB's units set it).
    pub ca_file: Option<PathBuf>,
    /// Pinned SHA-256 fingerprints of the Proxmox certificates (`PROXLB_WEB_PVE_FINGERPRINT`,
    /// comma-separated, as `pvenode cert info` shows them); when set, only these are trusted.
    pub pve_fingerprints: Vec<Fingerprint>,
    /// How often the cluster is polled (`PROXLB_WEB_POLL_SECONDS`, default 10).
    pub poll_interval: Duration,
    /// Per-request timeout of ProxLB Web's own Proxmox calls (`PROXLB_WEB_PVE_TIMEOUT_SECONDS`).
    /// Unset: the larger of `proxmox_api.timeout` and 10 s
    /// ([`DEFAULT_UI_TIMEOUT`](crate::adapters::config_file::DEFAULT_UI_TIMEOUT)).
    pub pve_timeout: Option<Duration>,
    /// Offset of ProxLB's local time from UTC in minutes (`PROXLB_UTC_OFFSET_MINUTES`, default 0),
    /// for `maintenance_nodes_schedule`, which ProxLB evaluates in its host's local time.
    pub utc_offset_minutes: i64,
    /// Who may reach the server and how: allowed hosts, trusted proxies, admin groups, direct
    /// TLS, session timeouts (see [`access`]).
    pub access: AccessSettings,
    /// How ProxLB runs and so how it is controlled (`PROXLB_SERVICE`, default `auto`).
    pub proxlb_service: ProxlbService,
    /// The Python interpreter that runs ProxLB for the process backend (`PROXLB_PYTHON`); unset:
    /// see [`Settings::proxlb_python`].
    pub proxlb_python: Option<PathBuf>,
    /// The systemd unit running ProxLB (`PROXLB_SYSTEMD_UNIT`, default `proxlb`).
    pub proxlb_systemd_unit: String,
    /// Whether demo mode runs real ProxLB against its simulator (`PROXLB_DEMO_PROXLB=on|off`).
    /// `None` (the variable unset): on, except for the `large` scenario (see
    /// [`Settings::demo_runs_proxlb`]). [`Settings::default`] has `Some(false)`: tests and
    /// benchmarks that build settings in code get a fixed cluster unless they ask for ProxLB.
    pub demo_proxlb: Option<bool>,
}

/// `PROXLB_SERVICE`: which backend controls ProxLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxlbService {
    /// Detect: the Docker container if the Docker socket answers, else the systemd unit if
    /// systemd runs and knows it, else none. In demo mode: the process backend.
    Auto,
    /// Exactly this backend (`process`, `docker`, `systemd` or `none`).
    Only(plb_domain::service::BackendKind),
}

impl ProxlbService {
    /// Reads `auto|process|docker|systemd|none`.
    fn parse(value: &str) -> Option<Self> {
        use plb_domain::service::BackendKind;
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "process" => Some(Self::Only(BackendKind::Process)),
            "docker" => Some(Self::Only(BackendKind::Docker)),
            "systemd" => Some(Self::Only(BackendKind::Systemd)),
            "none" | "off" => Some(Self::Only(BackendKind::None)),
            _ => None,
        }
    }
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
            data_dir: PathBuf::from(SYSTEM_DATA_DIR),
            ca_file: None,
            pve_fingerprints: Vec::new(),
            poll_interval: Duration::from_secs(10),
            pve_timeout: None,
            utc_offset_minutes: 0,
            access: AccessSettings::default(),
            proxlb_service: ProxlbService::Auto,
            proxlb_python: None,
            proxlb_systemd_unit: DEFAULT_PROXLB_UNIT.to_owned(),
            demo_proxlb: Some(false),
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
        let pve_timeout = get("PROXLB_WEB_PVE_TIMEOUT_SECONDS")
            .map(|value| match value.trim().parse::<u64>() {
                Ok(seconds) if (1..=600).contains(&seconds) => Ok(Duration::from_secs(seconds)),
                _ => Err(SettingsError {
                    variable: "PROXLB_WEB_PVE_TIMEOUT_SECONDS",
                    value,
                    expected: "a whole number of seconds from 1 to 600",
                }),
            })
            .transpose()?;
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

        let proxlb_service = match get("PROXLB_SERVICE") {
            None => ProxlbService::Auto,
            Some(value) => ProxlbService::parse(&value).ok_or(SettingsError {
                variable: "PROXLB_SERVICE",
                value,
                expected: "auto, process, docker, systemd or none",
            })?,
        };
        let demo_proxlb = get("PROXLB_DEMO_PROXLB")
            .map(|value| {
                parse_bool(&value).ok_or(SettingsError {
                    variable: "PROXLB_DEMO_PROXLB",
                    value,
                    expected: "on or off (also 1/0, true/false, yes/no)",
                })
            })
            .transpose()?;
        let proxlb_systemd_unit = get("PROXLB_SYSTEMD_UNIT")
            .map(|unit| unit.trim().to_owned())
            .unwrap_or(defaults.proxlb_systemd_unit);

        let access = AccessSettings::from_lookup(get)?;

        Ok(Self {
            access,
            proxlb_service,
            proxlb_python: get("PROXLB_PYTHON").map(PathBuf::from),
            proxlb_systemd_unit,
            demo_proxlb,
            demo,
            demo_scenario,
            pve_fingerprints,
            data_dir: get("PROXLB_WEB_DATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| default_data_dir(get, data_dir::running_as_root())),
            pve_timeout,
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

impl Settings {
    /// The interpreter that runs ProxLB for the process backend: `PROXLB_PYTHON`, else
    /// `.venv/bin/python` in the working folder (a development checkout, `scripts/setup.sh`),
    /// else the Debian package's [`DEBIAN_PROXLB_PYTHON`], else `python3` from `PATH`.
    pub fn proxlb_python(&self) -> PathBuf {
        if let Some(python) = &self.proxlb_python {
            return python.clone();
        }
        let venv = PathBuf::from(".venv/bin/python");
        if let Ok(cwd) = std::env::current_dir() {
            if cwd.join(&venv).exists() {
                return cwd.join(venv);
            }
        }
        if std::path::Path::new(DEBIAN_PROXLB_PYTHON).exists() {
            return PathBuf::from(DEBIAN_PROXLB_PYTHON);
        }
        PathBuf::from("python3")
    }

    /// Whether demo mode should run ProxLB: `PROXLB_DEMO_PROXLB` if set, else on except for the
    /// `large` scenario (one ProxLB run there spends about 40 minutes in its per-request sleeps).
    /// Whether ProxLB is actually installed is checked when it starts.
    pub fn demo_runs_proxlb(&self) -> bool {
        self.demo
            && self
                .demo_proxlb
                .unwrap_or(!matches!(self.demo_scenario, DemoScenario::Large))
    }
}

/// Where ProxLB Web keeps its files when `PROXLB_WEB_DATA` is unset: persistent and private, never
/// a predictable path under a shared `/tmp` that another local user could create first.
///
/// 1. `$STATE_DIRECTORY` (systemd's `StateDirectory=`; the first entry if several),
/// 2. [`SYSTEM_DATA_DIR`] (`/var/lib/proxlb-web`) when running as root,
/// 3. `$XDG_STATE_HOME/proxlb-web` (an absolute `XDG_STATE_HOME` only),
/// 4. `$HOME/.local/state/proxlb-web`,
/// 5. else [`SYSTEM_DATA_DIR`] (creating it then fails with a message naming `PROXLB_WEB_DATA`).
pub fn default_data_dir(lookup: impl Fn(&str) -> Option<String>, root: bool) -> PathBuf {
    const NAME: &str = "proxlb-web";
    if let Some(dirs) = lookup("STATE_DIRECTORY") {
        if let Some(first) = dirs.split(':').map(str::trim).find(|d| d.starts_with('/')) {
            return PathBuf::from(first);
        }
    }
    if root {
        return PathBuf::from(SYSTEM_DATA_DIR);
    }
    if let Some(state) = lookup("XDG_STATE_HOME").filter(|d| d.trim().starts_with('/')) {
        return PathBuf::from(state.trim()).join(NAME);
    }
    if let Some(home) = lookup("HOME").filter(|d| d.trim().starts_with('/')) {
        return PathBuf::from(home.trim()).join(".local/state").join(NAME);
    }
    PathBuf::from(SYSTEM_DATA_DIR)
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
        // Unset PROXLB_DEMO_PROXLB means "auto"; settings built in code default to off.
        let auto = Settings {
            demo_proxlb: None,
            ..Settings::default()
        };
        assert_eq!(s, auto);
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
    fn the_data_folder_defaults_to_a_persistent_private_place() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let home = &[("HOME", "/home/ann")];
        let xdg = &[("HOME", "/home/ann"), ("XDG_STATE_HOME", "/srv/state")];
        let systemd = &[
            ("HOME", "/home/ann"),
            ("STATE_DIRECTORY", "/var/lib/plb:/x"),
        ];
        // Root: the system folder, whatever HOME says.
        assert_eq!(
            default_data_dir(env(home), true),
            PathBuf::from("/var/lib/proxlb-web")
        );
        // Another user: the XDG state folder, else ~/.local/state.
        assert_eq!(
            default_data_dir(env(home), false),
            PathBuf::from("/home/ann/.local/state/proxlb-web")
        );
        assert_eq!(
            default_data_dir(env(xdg), false),
            PathBuf::from("/srv/state/proxlb-web")
        );
        assert_eq!(
            default_data_dir(env(&[("XDG_STATE_HOME", "relative")]), false),
            PathBuf::from(SYSTEM_DATA_DIR)
        );
        // systemd's StateDirectory= wins.
        assert_eq!(
            default_data_dir(env(systemd), true),
            PathBuf::from("/var/lib/plb")
        );
        // Never under the shared temporary folder.
        for vars in [&home[..], &xdg[..], &systemd[..], &[]] {
            for root in [true, false] {
                let dir = default_data_dir(env(vars), root);
                assert!(!dir.starts_with(std::env::temp_dir()), "{dir:?}");
            }
        }
        // PROXLB_WEB_DATA wins over everything.
        let s = settings(&[("PROXLB_WEB_DATA", "/data"), ("HOME", "/home/ann")]).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/data"));
    }

    #[test]
    fn the_pve_timeout_is_optional_and_bounded() {
        assert_eq!(settings(&[]).unwrap().pve_timeout, None);
        assert_eq!(
            settings(&[("PROXLB_WEB_PVE_TIMEOUT_SECONDS", "30")])
                .unwrap()
                .pve_timeout,
            Some(Duration::from_secs(30))
        );
        for bad in ["0", "601", "1.5", "ten"] {
            let err = settings(&[("PROXLB_WEB_PVE_TIMEOUT_SECONDS", bad)]).unwrap_err();
            assert_eq!(err.variable, "PROXLB_WEB_PVE_TIMEOUT_SECONDS");
        }
    }

    #[test]
    fn proxlb_service_python_unit_and_demo_switch() {
        use plb_domain::service::BackendKind;
        let s = settings(&[]).unwrap();
        assert_eq!(s.proxlb_service, ProxlbService::Auto);
        assert_eq!(s.proxlb_systemd_unit, "proxlb");
        assert_eq!(s.proxlb_python, None);
        assert_eq!(s.demo_proxlb, None);
        // Settings built in code (tests, benchmarks) keep the demo cluster fixed.
        let coded = Settings {
            demo: true,
            ..Settings::default()
        };
        assert!(!coded.demo_runs_proxlb());
        let s = settings(&[
            ("PROXLB_SERVICE", "Systemd"),
            ("PROXLB_PYTHON", "/opt/py/bin/python3"),
            ("PROXLB_SYSTEMD_UNIT", "proxlb-eu.service"),
        ])
        .unwrap();
        assert_eq!(s.proxlb_service, ProxlbService::Only(BackendKind::Systemd));
        assert_eq!(s.proxlb_python(), PathBuf::from("/opt/py/bin/python3"));
        assert_eq!(s.proxlb_systemd_unit, "proxlb-eu.service");
        assert_eq!(
            settings(&[("PROXLB_SERVICE", "podman")])
                .unwrap_err()
                .variable,
            "PROXLB_SERVICE"
        );
        // Demo mode runs ProxLB by default, except for the large cluster.
        assert!(settings(&[("PROXLB_DEMO", "1")])
            .unwrap()
            .demo_runs_proxlb());
        assert!(!settings(&[]).unwrap().demo_runs_proxlb());
        let large = [("PROXLB_DEMO", "1"), ("PROXLB_DEMO_SCENARIO", "large")];
        assert!(!settings(&large).unwrap().demo_runs_proxlb());
        let forced = [
            ("PROXLB_DEMO", "1"),
            ("PROXLB_DEMO_SCENARIO", "large"),
            ("PROXLB_DEMO_PROXLB", "on"),
        ];
        assert!(settings(&forced).unwrap().demo_runs_proxlb());
        let off = [("PROXLB_DEMO", "1"), ("PROXLB_DEMO_PROXLB", "off")];
        assert!(!settings(&off).unwrap().demo_runs_proxlb());
        assert_eq!(
            settings(&[("PROXLB_DEMO_PROXLB", "sometimes")])
                .unwrap_err()
                .variable,
            "PROXLB_DEMO_PROXLB"
        );
    }

    #[test]
    fn dev_mode_from_leptos_env() {
        assert!(settings(&[("LEPTOS_ENV", "DEV")]).unwrap().dev_mode);
        assert!(!settings(&[("LEPTOS_ENV", "PROD")]).unwrap().dev_mode);
    }
}
