//! Secrets and the two ways of authenticating against Proxmox VE: API tokens and tickets.
//!
//! Every secret (password, token secret, ticket, CSRF token) lives in a [`Secret`], whose `Debug`
//! and `Display` print `***`, so it cannot end up in a log line or an error message by accident.

use std::fmt;

use serde::{Deserialize, Deserializer};
use tokio::time::Instant;

/// A secret string. `Debug` and `Display` print `***`; read it with [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Only for building a request; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// The token name part of a token id: `proxlb` from `proxlb`, or from `user@pve!proxlb` when the
/// full id was configured.
pub fn token_name(token_id: &str) -> &str {
    token_id.rsplit_once('!').map_or(token_id, |(_, name)| name)
}

/// The `Authorization` header value for an API token:
/// `PVEAPIToken=user@realm!tokenid=secret`. The result is itself a secret.
pub fn token_header(user: &str, token_id: &str, secret: &Secret) -> Secret {
    Secret(format!(
        "PVEAPIToken={}!{}={}",
        user.trim(),
        token_name(token_id.trim()),
        secret.expose()
    ))
}

/// The `Cookie` header value carrying a ticket: `PVEAuthCookie=<percent-encoded ticket>` (as a
/// browser sends it; pveproxy decodes it).
pub fn ticket_cookie(ticket: &Secret) -> Secret {
    Secret(format!("PVEAuthCookie={}", percent_encode(ticket.expose())))
}

/// Percent-encodes everything but RFC 3986 unreserved characters (cookies, path segments).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A ticket from `POST /access/ticket` with its CSRF token and when it was obtained.
#[derive(Clone, Debug)]
pub struct Ticket {
    /// The ticket (`PVE:user@realm:...`), sent as cookie `PVEAuthCookie`.
    pub ticket: Secret,
    /// Sent as header `CSRFPreventionToken` on writes.
    pub csrf: Secret,
    /// When it was obtained (monotonic), to renew it before it expires.
    pub obtained: Instant,
}

impl Ticket {
    /// Whether the ticket is at least `renew_after` old.
    pub fn needs_renewal(&self, now: Instant, renew_after: std::time::Duration) -> bool {
        now.saturating_duration_since(self.obtained) >= renew_after
    }
}

/// The answer of `POST /access/ticket` (only the fields we use).
#[derive(Clone, Debug, Deserialize)]
pub struct TicketResponse {
    /// The authenticated user.
    #[serde(default)]
    pub username: Option<String>,
    /// The ticket.
    pub ticket: Secret,
    /// The CSRF prevention token.
    #[serde(rename = "CSRFPreventionToken")]
    pub csrf: Secret,
    /// Cluster name (present with `Sys.Audit` on `/`).
    #[serde(default)]
    pub clustername: Option<String>,
    /// Set when a second factor is still needed.
    #[serde(
        default,
        rename = "NeedTFA",
        deserialize_with = "super::lenient::bool_or_false"
    )]
    pub need_tfa: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("5f1c3e9a-6a8b");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(secret.expose(), "5f1c3e9a-6a8b");
        let ticket = Ticket {
            ticket: Secret::new("PVE:root@pam:ABC::sig"),
            csrf: Secret::new("csrf-value"),
            obtained: Instant::now(),
        };
        let debug = format!("{ticket:?}");
        assert!(!debug.contains("PVE:root"), "{debug}");
        assert!(!debug.contains("csrf-value"), "{debug}");
    }

    #[test]
    fn token_header_follows_pve_format() {
        let header = token_header("proxlb@pve", "balancer", &Secret::new("0d7b-2f64"));
        assert_eq!(header.expose(), "PVEAPIToken=proxlb@pve!balancer=0d7b-2f64");
        // A full token id is reduced to its name.
        let header = token_header("proxlb@pve", "proxlb@pve!balancer", &Secret::new("x"));
        assert_eq!(header.expose(), "PVEAPIToken=proxlb@pve!balancer=x");
        assert_eq!(format!("{header:?}"), "***");
    }

    #[test]
    fn ticket_cookie_is_percent_encoded() {
        let cookie = ticket_cookie(&Secret::new("PVE:root@pam:65A0B1C2::ab+c/d="));
        assert_eq!(
            cookie.expose(),
            "PVEAuthCookie=PVE%3Aroot%40pam%3A65A0B1C2%3A%3Aab%2Bc%2Fd%3D"
        );
    }

    #[test]
    fn renewal_is_due_after_the_configured_age() {
        let start = Instant::now();
        let ticket = Ticket {
            ticket: Secret::new("t"),
            csrf: Secret::new("c"),
            obtained: start,
        };
        let hour = std::time::Duration::from_secs(3600);
        assert!(!ticket.needs_renewal(start + hour / 2, hour));
        assert!(ticket.needs_renewal(start + hour, hour));
    }

    #[test]
    fn ticket_response_decodes_and_hides_secrets() {
        let json = r#"{"username":"root@pam","ticket":"PVE:root@pam:1::s","CSRFPreventionToken":"c:1","cap":{}}"#;
        let response: TicketResponse = serde_json::from_str(json).unwrap();
        assert_eq!(response.ticket.expose(), "PVE:root@pam:1::s");
        assert!(!response.need_tfa);
        assert!(!format!("{response:?}").contains("PVE:root"));
    }
}
