//! Access settings: who may reach the server and how (login, proxies, hosts, TLS).
//!
//! | Variable | Meaning |
//! |---|---|
//! | `PROXLB_WEB_ALLOWED_HOSTS` | Host names (optionally `:port`) the server answers to; unset: any |
//! | `PROXLB_WEB_TRUSTED_PROXIES` | Addresses or CIDRs whose `X-Forwarded-For`/`-Proto` count |
//! | `PROXLB_WEB_ADMIN_GROUPS` | Proxmox groups whose members operate without `Sys.Modify` |
//! | `PROXLB_WEB_TLS_CERT`, `PROXLB_WEB_TLS_KEY` | PEM files: serve HTTPS directly |
//! | `PROXLB_WEB_SESSION_IDLE_MINUTES` | A session unused this long ends (default 30) |
//! | `PROXLB_WEB_SESSION_MAX_HOURS` | A session ends this long after login (default 12) |

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use plb_domain::secret::Secret;

use super::SettingsError;

/// Default idle timeout of a session.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// Default absolute timeout of a session.
pub const DEFAULT_SESSION_MAX: Duration = Duration::from_secs(12 * 60 * 60);

/// The access settings (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessSettings {
    /// Allowed `Host` values, lowercase; empty: any host.
    pub allowed_hosts: Vec<AllowedHost>,
    /// Peers whose forwarded headers are believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Proxmox groups whose members are operators.
    pub admin_groups: Vec<String>,
    /// Serve HTTPS with this certificate chain and key (both or neither).
    pub tls: Option<TlsFiles>,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login.
    pub session_max: Duration,
    /// Demo mode's one-click login (set by demo mode, never from the environment).
    pub demo_login: Option<DemoLogin>,
}

/// The demo's one-click login: a simulated cluster's user and its password there.
#[derive(Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// The simulated user, with realm (`root@pam`).
    pub user_id: String,
    /// Its password on the simulator.
    pub password: Secret,
}

impl fmt::Debug for DemoLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoLogin")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            admin_groups: Vec::new(),
            tls: None,
            session_idle: DEFAULT_SESSION_IDLE,
            session_max: DEFAULT_SESSION_MAX,
            demo_login: None,
        }
    }
}

/// The PEM files of direct TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first (`PROXLB_WEB_TLS_CERT`).
    pub cert: PathBuf,
    /// Private key (`PROXLB_WEB_TLS_KEY`).
    pub key: PathBuf,
}

impl AccessSettings {
    /// Reads the access settings through `get` (which treats empty values as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let allowed_hosts = list("PROXLB_WEB_ALLOWED_HOSTS")
            .into_iter()
            .map(|h| {
                h.parse::<AllowedHost>().map_err(|()| SettingsError {
                    variable: "PROXLB_WEB_ALLOWED_HOSTS",
                    value: h.clone(),
                    expected: "host names or addresses, optionally with :port, separated by \
                               commas (e.g. plb.example.com,10.0.0.5:8080)",
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trusted_proxies = list("PROXLB_WEB_TRUSTED_PROXIES")
            .into_iter()
            .map(|c| {
                c.parse::<Cidr>().map_err(|()| SettingsError {
                    variable: "PROXLB_WEB_TRUSTED_PROXIES",
                    value: c.clone(),
                    expected: "IP addresses or CIDR ranges separated by commas \
                               (e.g. 127.0.0.1,10.0.0.0/8,fd00::/8)",
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let admin_groups = list("PROXLB_WEB_ADMIN_GROUPS");
        let tls = match (get("PROXLB_WEB_TLS_CERT"), get("PROXLB_WEB_TLS_KEY")) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: PathBuf::from(cert.trim()),
                key: PathBuf::from(key.trim()),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(SettingsError {
                    variable: "PROXLB_WEB_TLS_KEY",
                    value: String::new(),
                    expected: "set together with PROXLB_WEB_TLS_CERT (the private key in PEM)",
                })
            }
            (None, Some(_)) => {
                return Err(SettingsError {
                    variable: "PROXLB_WEB_TLS_CERT",
                    value: String::new(),
                    expected: "set together with PROXLB_WEB_TLS_KEY (the certificate chain in PEM)",
                })
            }
        };
        let whole = |name: &'static str, max: u64, expected: &'static str| {
            get(name)
                .map(|value| match value.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(SettingsError {
                        variable: name,
                        value,
                        expected,
                    }),
                })
                .transpose()
        };
        let session_idle = whole(
            "PROXLB_WEB_SESSION_IDLE_MINUTES",
            7 * 24 * 60,
            "a whole number of minutes from 1 to 10080",
        )?
        .map_or(DEFAULT_SESSION_IDLE, |m| Duration::from_secs(m * 60));
        let session_max = whole(
            "PROXLB_WEB_SESSION_MAX_HOURS",
            30 * 24,
            "a whole number of hours from 1 to 720",
        )?
        .map_or(DEFAULT_SESSION_MAX, |h| Duration::from_secs(h * 3600));
        Ok(Self {
            allowed_hosts,
            trusted_proxies,
            admin_groups,
            tls,
            session_idle,
            session_max,
            demo_login: None,
        })
    }

    /// Whether a request's `Host` is allowed: always when no list is set.
    pub fn host_allowed(&self, host: &str) -> bool {
        self.allowed_hosts.is_empty() || self.allowed_hosts.iter().any(|h| h.matches(host))
    }

    /// Whether forwarded headers from `peer` are believed.
    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(peer))
    }
}

/// One allowed `Host`: a name or address, with or without a port (without: any port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl FromStr for AllowedHost {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (host, port) = split_host(s.trim()).ok_or(())?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        {
            return Err(());
        }
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl AllowedHost {
    /// Whether the `Host` header value `host` (`name[:port]`, `[v6]:port`) is this one.
    pub fn matches(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host.trim()) else {
            return false;
        };
        let name = name.trim_end_matches('.');
        name.eq_ignore_ascii_case(&self.host) && self.port.is_none_or(|p| port == Some(p))
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => write!(f, "{host}:{port}"),
            None => f.write_str(&host),
        }
    }
}

/// Splits `name[:port]` or `[v6][:port]` (or a bare IPv6 address) into host and port.
fn split_host(s: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            port => Some((host, Some(port.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match s.matches(':').count() {
        0 => Some((s, None)),
        1 => {
            let (host, port) = s.split_once(':')?;
            Some((host, Some(port.parse().ok()?)))
        }
        // A bare IPv6 address (only in the setting; a Host header brackets it).
        _ => s.parse::<std::net::Ipv6Addr>().ok().map(|_| (s, None)),
    }
}

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| ())?)),
            None => (s.trim(), None),
        };
        let network: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| ())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(());
        }
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is inside the range. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<AccessSettings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AccessSettings::from_lookup(|n| map.get(n).cloned().filter(|v| !v.trim().is_empty()))
    }

    #[test]
    fn defaults_allow_any_host_and_trust_no_proxy() {
        let s = read(&[]).unwrap();
        assert_eq!(s, AccessSettings::default());
        assert!(s.host_allowed("anything.example:1234"));
        assert!(!s.is_trusted_proxy("127.0.0.1".parse().unwrap()));
        assert_eq!(s.session_idle, Duration::from_secs(1800));
        assert_eq!(s.session_max, Duration::from_secs(43_200));
    }

    #[test]
    fn allowed_hosts_match_name_and_optional_port() {
        let s = read(&[(
            "PROXLB_WEB_ALLOWED_HOSTS",
            "PLB.example.com, 10.0.0.5:8080, [fd00::1]:443",
        )])
        .unwrap();
        assert!(s.host_allowed("plb.example.com"));
        assert!(s.host_allowed("plb.example.com:8443"));
        assert!(s.host_allowed("plb.EXAMPLE.com."));
        assert!(s.host_allowed("10.0.0.5:8080"));
        assert!(!s.host_allowed("10.0.0.5:8081"));
        assert!(!s.host_allowed("10.0.0.5"));
        assert!(s.host_allowed("[fd00::1]:443"));
        assert!(!s.host_allowed("evil.example"));
        assert!(!s.host_allowed("plb.example.com.evil.example"));
        assert!(!s.host_allowed(""));
        let e = read(&[("PROXLB_WEB_ALLOWED_HOSTS", "a b")]).unwrap_err();
        assert_eq!(e.variable, "PROXLB_WEB_ALLOWED_HOSTS");
    }

    #[test]
    fn cidrs_contain_their_addresses() {
        let s = read(&[(
            "PROXLB_WEB_TRUSTED_PROXIES",
            "10.0.0.0/8, 127.0.0.1, fd00::/8",
        )])
        .unwrap();
        for ip in ["10.1.2.3", "127.0.0.1", "fd12::1", "::ffff:10.9.9.9"] {
            assert!(s.is_trusted_proxy(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["11.0.0.1", "127.0.0.2", "fe80::1", "::1"] {
            assert!(!s.is_trusted_proxy(ip.parse().unwrap()), "{ip}");
        }
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let e = read(&[("PROXLB_WEB_TRUSTED_PROXIES", "10.0.0.0/99")]).unwrap_err();
        assert_eq!(e.variable, "PROXLB_WEB_TRUSTED_PROXIES");
    }

    #[test]
    fn tls_needs_both_files_and_sessions_their_bounds() {
        let s = read(&[
            ("PROXLB_WEB_TLS_CERT", "/etc/plb/cert.pem"),
            ("PROXLB_WEB_TLS_KEY", "/etc/plb/key.pem"),
            ("PROXLB_WEB_SESSION_IDLE_MINUTES", "15"),
            ("PROXLB_WEB_SESSION_MAX_HOURS", "8"),
            ("PROXLB_WEB_ADMIN_GROUPS", "plb-admins, ops"),
        ])
        .unwrap();
        assert_eq!(
            s.tls,
            Some(TlsFiles {
                cert: "/etc/plb/cert.pem".into(),
                key: "/etc/plb/key.pem".into()
            })
        );
        assert_eq!(s.session_idle, Duration::from_secs(900));
        assert_eq!(s.session_max, Duration::from_secs(8 * 3600));
        assert_eq!(s.admin_groups, vec!["plb-admins", "ops"]);
        assert_eq!(
            read(&[("PROXLB_WEB_TLS_CERT", "/x")]).unwrap_err().variable,
            "PROXLB_WEB_TLS_KEY"
        );
        assert_eq!(
            read(&[("PROXLB_WEB_SESSION_IDLE_MINUTES", "0")])
                .unwrap_err()
                .variable,
            "PROXLB_WEB_SESSION_IDLE_MINUTES"
        );
    }
}
