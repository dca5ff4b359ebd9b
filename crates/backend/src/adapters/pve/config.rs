//! What to connect to and how: the backend's own view of ProxLB's `proxmox_api` section.
//!
//! The domain crate owns the full ProxLB configuration model (and its hosts parser); this module
//! holds only what the client needs, so the two can evolve independently. Secrets are
//! [`Secret`]s: `Debug` on any of these types never shows them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::auth::Secret;

/// Default API port of `pveproxy`.
pub const DEFAULT_PORT: u16 = 8006;

/// Default per-request timeout. (ProxLB's own default is 1 s; its example config uses 10 s.)
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default cap on the size of one response body: 64 MiB. The largest answer the UI reads,
/// `/cluster/resources` of a 10,000-guest cluster, is about 3.5 MB; a larger body is an error
/// naming the limit, never an unbounded allocation.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// One API endpoint: a host name or IP address and a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PveHost {
    /// Host name, IPv4 or IPv6 address (without brackets).
    pub host: String,
    /// TCP port (PVE: 8006).
    pub port: u16,
}

impl PveHost {
    /// A host and port; brackets around an IPv6 address are removed.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        let host: String = host.into();
        let host = host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Self { host, port }
    }

    /// The base URL of the API on this host: `https://{host}:{port}/api2/json`.
    pub fn base_url(&self) -> String {
        format!("https://{self}/api2/json")
    }
}

impl fmt::Display for PveHost {
    /// `host:port`, with brackets around IPv6 addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// How to authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PveCredentials {
    /// Ticket login with a password (`POST /access/ticket`), renewed before it expires.
    Password {
        /// `user@realm`.
        user: String,
        /// The password.
        password: Secret,
    },
    /// API token (`Authorization: PVEAPIToken=user@realm!token_id=secret`); no ticket, no CSRF.
    Token {
        /// `user@realm`, the token's owner.
        user: String,
        /// The token name (`proxlb`); a full id `user@realm!proxlb` is accepted too.
        token_id: String,
        /// The token secret (a UUID).
        secret: Secret,
    },
}

impl PveCredentials {
    /// The user (`user@realm`) in either form.
    pub fn user(&self) -> &str {
        match self {
            PveCredentials::Password { user, .. } | PveCredentials::Token { user, .. } => user,
        }
    }

    /// Whether these are API token credentials.
    pub fn is_token(&self) -> bool {
        matches!(self, PveCredentials::Token { .. })
    }
}

/// A SHA-256 certificate fingerprint (32 bytes), shown as PVE shows it: `AB:CD:…`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a fingerprint string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a SHA-256 fingerprint is 32 hex pairs like AB:CD:…:EF (64 hex digits)")]
pub struct FingerprintError;

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    /// Accepts `AB:CD:…` (any case) or 64 hex digits without separators.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let hex: String = value
            .trim()
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(FingerprintError);
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2).ok_or(FingerprintError)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| FingerprintError)?;
        }
        Ok(Self(bytes))
    }
}

/// Which server certificates to trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsTrust {
    /// The operating system's trust store (the default).
    System,
    /// Only the CA certificates in this PEM bundle (like `REQUESTS_CA_BUNDLE`), e.g. the
    /// cluster's `/etc/pve/pve-root-ca.pem`. Host names are verified.
    CaFile(PathBuf),
    /// Only certificates whose SHA-256 fingerprint is one of these (one per node: every node has
    /// its own certificate). No chain or name check: the pin is the trust decision.
    Pinned(Vec<Fingerprint>),
    /// No verification at all (`ssl_verification: false`). The UI should warn.
    Insecure,
}

impl TlsTrust {
    /// The mode the settings describe: pinned fingerprints win (also over `ssl_verification:
    /// false`: pins are an explicit trust decision, never dropped silently), then verification
    /// off, then a CA bundle, else the system store.
    pub fn from_settings(
        ssl_verification: bool,
        ca_file: Option<PathBuf>,
        fingerprints: Vec<Fingerprint>,
    ) -> Self {
        if !fingerprints.is_empty() {
            TlsTrust::Pinned(fingerprints)
        } else if !ssl_verification {
            TlsTrust::Insecure
        } else if let Some(path) = ca_file {
            TlsTrust::CaFile(path)
        } else {
            TlsTrust::System
        }
    }

    /// Whether certificate verification is switched off.
    pub fn is_insecure(&self) -> bool {
        matches!(self, TlsTrust::Insecure)
    }
}

/// Everything needed to reach one Proxmox VE cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PveConnectionConfig {
    /// API endpoints, tried in order; the first that answers is remembered.
    pub hosts: Vec<PveHost>,
    /// How to log in.
    pub credentials: PveCredentials,
    /// Which certificates to trust.
    pub tls: TlsTrust,
    /// Per-request timeout (connect + answer).
    pub timeout: Duration,
    /// Renew a ticket once it is this old (PVE tickets live 2 h; ProxLB renews after 1 h).
    pub ticket_renew_after: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: u64,
}

impl PveConnectionConfig {
    /// A configuration with the default trust (system store), timeout and renewal age.
    pub fn new(hosts: Vec<PveHost>, credentials: PveCredentials) -> Self {
        Self {
            hosts,
            credentials,
            tls: TlsTrust::System,
            timeout: DEFAULT_TIMEOUT,
            ticket_renew_after: Duration::from_secs(3600),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Sets the trust mode.
    pub fn with_tls(mut self, tls: TlsTrust) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets after how long a ticket is renewed.
    pub fn with_ticket_renew_after(mut self, age: Duration) -> Self {
        self.ticket_renew_after = age;
        self
    }

    /// Sets the largest response body accepted.
    pub fn with_max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body_bytes = bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_format_with_brackets_for_ipv6() {
        assert_eq!(PveHost::new("pve1", 8006).to_string(), "pve1:8006");
        assert_eq!(
            PveHost::new("[fd00::1]", 8006).to_string(),
            "[fd00::1]:8006"
        );
        assert_eq!(
            PveHost::new("fd00::1", 443).base_url(),
            "https://[fd00::1]:443/api2/json"
        );
        assert_eq!(
            PveHost::new("10.0.0.1", DEFAULT_PORT).base_url(),
            "https://10.0.0.1:8006/api2/json"
        );
    }

    #[test]
    fn fingerprints_parse_and_print_like_pve() {
        let text = "3A:9F:1C:7E:44:B0:5D:21:E8:6A:0F:93:C2:7B:18:D4:55:E1:9C:02:AF:36:8B:71:D0:4E:2C:97:B5:63:1A:F8";
        let fp: Fingerprint = text.parse().unwrap();
        assert_eq!(fp.to_string(), text);
        let lower: Fingerprint = text.to_lowercase().replace(':', "").parse().unwrap();
        assert_eq!(lower, fp);
        assert!("AB:CD".parse::<Fingerprint>().is_err());
        assert!(text.replace("3A", "ZZ").parse::<Fingerprint>().is_err());
        assert_eq!(Fingerprint::of_der(b"x").0.len(), 32);
    }

    #[test]
    fn trust_mode_follows_the_settings() {
        let fp = Fingerprint([7; 32]);
        // Pins are never dropped: they win over verification off.
        assert_eq!(
            TlsTrust::from_settings(false, Some("/ca.pem".into()), vec![fp]),
            TlsTrust::Pinned(vec![fp])
        );
        assert_eq!(
            TlsTrust::from_settings(false, Some("/ca.pem".into()), vec![]),
            TlsTrust::Insecure
        );
        assert_eq!(
            TlsTrust::from_settings(true, Some("/ca.pem".into()), vec![fp]),
            TlsTrust::Pinned(vec![fp])
        );
        assert_eq!(
            TlsTrust::from_settings(true, Some("/ca.pem".into()), vec![]),
            TlsTrust::CaFile("/ca.pem".into())
        );
        assert_eq!(
            TlsTrust::from_settings(true, None, vec![]),
            TlsTrust::System
        );
        assert!(TlsTrust::Insecure.is_insecure());
    }

    #[test]
    fn config_debug_hides_secrets() {
        let config = PveConnectionConfig::new(
            vec![PveHost::new("pve1", 8006)],
            PveCredentials::Password {
                user: "root@pam".into(),
                password: Secret::new("hunter2-very-secret"),
            },
        );
        let token = PveCredentials::Token {
            user: "root@pam".into(),
            token_id: "proxlb".into(),
            secret: Secret::new("5f1c3e9a-6a8b-4f0e"),
        };
        let debug = format!("{config:?} {token:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("5f1c3e9a"), "{debug}");
        assert!(debug.contains("root@pam"));
    }
}
