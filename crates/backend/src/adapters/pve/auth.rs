//! Secrets and the two ways of authenticating against Proxmox VE: API tokens and tickets.
//!
//! Every secret (password, token secret, ticket, CSRF token) lives in a [`Secret`], whose `Debug`,
//! `Display` and `Serialize` give a mask, so it cannot end up in a log line, an error message or
//! a JSON answer by accident.
//!
//! A refused login is remembered as an [`AuthFailure`] and not repeated before its back-off
//! ([`login_backoff`]: 10 s, doubling up to 5 min) has passed: Proxmox VE logs every refused
//! login, and the usual fail2ban recipes for pveproxy would otherwise ban this host (and ProxLB,
//! which often runs on the same one).

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use tokio::time::Instant;

use crate::pve_wire::PveError;

/// The secret type: the domain crate's, so the typed `proxlb.yaml` and the client share one.
pub use plb_domain::secret::Secret;

/// The token name part of a token id: `proxlb` from `proxlb`, or from `user@pve!proxlb` when the
/// full id was configured.
pub fn token_name(token_id: &str) -> &str {
    token_id.rsplit_once('!').map_or(token_id, |(_, name)| name)
}

/// The `Authorization` header value for an API token:
/// `PVEAPIToken=user@realm!tokenid=secret`. The result is itself a secret.
pub fn token_header(user: &str, token_id: &str, secret: &Secret) -> Secret {
    Secret::new(format!(
        "PVEAPIToken={}!{}={}",
        user.trim(),
        token_name(token_id.trim()),
        secret.expose()
    ))
}

/// The `Cookie` header value carrying a ticket: `PVEAuthCookie=<percent-encoded ticket>` (as a
/// browser sends it; pveproxy decodes it).
pub fn ticket_cookie(ticket: &Secret) -> Secret {
    Secret::new(format!("PVEAuthCookie={}", percent_encode(ticket.expose())))
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

/// Wait after the first refused login.
pub const LOGIN_BACKOFF_FIRST: Duration = Duration::from_secs(10);
/// Longest wait between two login attempts after refusals.
pub const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// How long to wait before the next login after `refusals` refused ones in a row: 10 s, 20 s,
/// 40 s, … at most 5 min (zero without a refusal).
pub fn login_backoff(refusals: u32) -> Duration {
    if refusals == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32.checked_shl(refusals - 1).unwrap_or(u32::MAX);
    LOGIN_BACKOFF_FIRST
        .checked_mul(factor)
        .map_or(LOGIN_BACKOFF_MAX, |wait| wait.min(LOGIN_BACKOFF_MAX))
}

/// The last failed authentication (a login, or a request with the API token): requests reuse
/// its error instead of asking Proxmox VE again until it may be retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFailure {
    /// What the attempt failed with.
    pub error: PveError,
    /// When it failed (by the client's clock).
    pub at: SystemTime,
    /// Refused attempts in a row (credentials or a second factor); a failure that is not a
    /// refusal (host unreachable, timeout) keeps the count but sets no back-off.
    pub refusals: u32,
}

impl AuthFailure {
    /// The failure that follows `previous` when an attempt at `at` failed with `error`.
    pub fn after(previous: Option<&AuthFailure>, error: PveError, at: SystemTime) -> Self {
        let before = previous.map_or(0, |p| p.refusals);
        let refusals = if is_refusal(&error) {
            before.saturating_add(1)
        } else {
            before
        };
        Self {
            error,
            at,
            refusals,
        }
    }

    /// The back-off this failure imposes: zero unless the attempt itself was refused.
    pub fn backoff(&self) -> Duration {
        if is_refusal(&self.error) {
            login_backoff(self.refusals)
        } else {
            Duration::ZERO
        }
    }

    /// Whether no attempt may be made at `now`. A clock that went back before the failure does
    /// not extend the wait.
    pub fn blocks(&self, now: SystemTime) -> bool {
        match now.duration_since(self.at) {
            Ok(elapsed) => elapsed < self.backoff(),
            Err(_) => false,
        }
    }
}

/// Whether Proxmox VE refused the credentials themselves (so asking again soon is pointless and
/// counts against fail2ban), as opposed to not answering.
fn is_refusal(error: &PveError) -> bool {
    matches!(error, PveError::Unauthorized | PveError::Config { .. })
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
        deserialize_with = "crate::pve_wire::lenient::bool_or_false"
    )]
    pub need_tfa: bool,
}

#[cfg(test)]
mod tests {
    use plb_domain::secret::SECRET_MASK;

    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("5f1c3e9a-6a8b");
        assert_eq!(format!("{secret:?}"), SECRET_MASK);
        assert_eq!(format!("{secret}"), SECRET_MASK);
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
    fn login_backoff_doubles_from_ten_seconds_up_to_five_minutes() {
        let steps: Vec<u64> = (0..9).map(|n| login_backoff(n).as_secs()).collect();
        assert_eq!(steps, vec![0, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(login_backoff(u32::MAX), LOGIN_BACKOFF_MAX);
    }

    #[test]
    fn refusals_count_up_and_only_refusals_impose_a_wait() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let first = AuthFailure::after(None, PveError::Unauthorized, t0);
        assert_eq!(first.refusals, 1);
        assert!(first.blocks(t0));
        assert!(first.blocks(t0 + Duration::from_secs(9)));
        assert!(!first.blocks(t0 + Duration::from_secs(10)));
        // A clock that went back does not make the wait longer.
        assert!(!first.blocks(t0 - Duration::from_secs(60)));

        let t1 = t0 + Duration::from_secs(10);
        let second = AuthFailure::after(Some(&first), PveError::Unauthorized, t1);
        assert_eq!(second.backoff(), Duration::from_secs(20));
        assert!(second.blocks(t1 + Duration::from_secs(19)));

        // An unreachable host is no refusal: retry at once, but keep the count.
        let t2 = t1 + Duration::from_secs(20);
        let down = PveError::Timeout {
            host: "pve1:8006".into(),
        };
        let third = AuthFailure::after(Some(&second), down, t2);
        assert_eq!(third.refusals, 2);
        assert!(!third.blocks(t2));
        let fourth = AuthFailure::after(Some(&third), PveError::Unauthorized, t2);
        assert_eq!(fourth.backoff(), Duration::from_secs(40));
    }

    #[test]
    fn token_header_follows_pve_format() {
        let header = token_header("proxlb@pve", "balancer", &Secret::new("0d7b-2f64"));
        assert_eq!(header.expose(), "PVEAPIToken=proxlb@pve!balancer=0d7b-2f64");
        // A full token id is reduced to its name.
        let header = token_header("proxlb@pve", "proxlb@pve!balancer", &Secret::new("x"));
        assert_eq!(header.expose(), "PVEAPIToken=proxlb@pve!balancer=x");
        assert_eq!(format!("{header:?}"), SECRET_MASK);
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
