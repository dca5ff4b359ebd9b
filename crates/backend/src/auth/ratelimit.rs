//! Login throttling and lockout, decided **before** Proxmox is asked: every failed Proxmox login
//! counts toward fail2ban on the PVE host, which would lock out ProxLB itself.
//!
//! Two sliding windows of failures: per user (normalised: trimmed, lowercase, with realm) and
//! per source address (IPv6 by /64, since one host usually has a whole /64). Reaching a window's
//! limit blocks that user or source for the lockout time; a success clears the user's failures
//! (not the source's, or one valid account would reset an attacker's address).
//!
//! The state is in memory: a restart forgets it. That is deliberate (no writes per failed login)
//! and harmless, since an attacker cannot restart the server; the audit log keeps every failure.
//! Memory is bounded by [`LimitPolicy::max_tracked`] keys per kind.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// One limit: at most `max_failures` in `window`, else blocked for `lockout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitRule {
    /// Failures allowed within the window; the one that reaches it starts the lockout.
    pub max_failures: u32,
    /// The sliding window.
    pub window: Duration,
    /// How long logins stay blocked after the limit is reached.
    pub lockout: Duration,
}

/// Both limits and the memory bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitPolicy {
    /// Per user: 5 failures in 5 minutes lock the user for 15 minutes.
    pub per_user: LimitRule,
    /// Per source address: 20 failures in 5 minutes block it for 15 minutes.
    pub per_source: LimitRule,
    /// Users and sources tracked at most (each); beyond, the longest quiet ones are forgotten.
    pub max_tracked: usize,
}

impl Default for LimitPolicy {
    fn default() -> Self {
        Self {
            per_user: LimitRule {
                max_failures: 5,
                window: Duration::from_secs(5 * 60),
                lockout: Duration::from_secs(15 * 60),
            },
            per_source: LimitRule {
                max_failures: 20,
                window: Duration::from_secs(5 * 60),
                lockout: Duration::from_secs(15 * 60),
            },
            max_tracked: 10_000,
        }
    }
}

/// What limited a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitScope {
    /// Too many failures for this user: the account is locked.
    User,
    /// Too many failures from this address.
    Source,
}

/// Whether a login may be attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginDecision {
    /// Go ahead (ask Proxmox or check the local password).
    Allowed,
    /// Refuse without asking anyone.
    Limited {
        /// Which limit was hit.
        scope: LimitScope,
        /// How long until a login may be tried again.
        retry_after: Duration,
    },
}

impl LoginDecision {
    /// Whole seconds until retrying makes sense (rounded up; for `Retry-After` and the message).
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            LoginDecision::Allowed => 0,
            LoginDecision::Limited { retry_after, .. } => {
                retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)
            }
        }
    }

    /// A message for the login page.
    pub fn message(&self) -> Option<String> {
        let LoginDecision::Limited { scope, .. } = self else {
            return None;
        };
        let minutes = self.retry_after_secs().div_ceil(60);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        Some(match scope {
            LimitScope::User => format!(
                "Too many failed logins for this user: it is locked. Try again in {minutes} {unit}."
            ),
            LimitScope::Source => {
                format!("Too many failed logins from your address. Try again in {minutes} {unit}.")
            }
        })
    }
}

#[derive(Debug, Default)]
struct Track {
    failures: VecDeque<SystemTime>,
    locked_until: Option<SystemTime>,
    last_failure: Option<SystemTime>,
}

impl Track {
    fn blocked(&self, now: SystemTime) -> Option<Duration> {
        self.locked_until
            .and_then(|until| until.duration_since(now).ok())
            .filter(|left| !left.is_zero())
    }

    fn fail(&mut self, rule: &LimitRule, now: SystemTime) {
        self.last_failure = Some(now);
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t).unwrap_or_default() >= rule.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() >= rule.max_failures as usize {
            self.locked_until = Some(now + rule.lockout);
            self.failures.clear();
        }
    }

    /// Whether the entry holds nothing that still matters at `now`.
    fn expired(&self, rule: &LimitRule, now: SystemTime) -> bool {
        self.blocked(now).is_none()
            && self
                .failures
                .back()
                .is_none_or(|t| now.duration_since(*t).unwrap_or_default() >= rule.window)
    }
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<String, Track>,
    sources: HashMap<IpAddr, Track>,
}

/// The login limiter. One per server; share it by `Arc`.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    policy: LimitPolicy,
    state: Mutex<State>,
}

impl LoginLimiter {
    /// A limiter with these limits.
    pub fn new(policy: LimitPolicy) -> Self {
        Self {
            policy,
            state: Mutex::default(),
        }
    }

    /// Whether `user` (a full user id such as `alice@pve`) may try to log in from `source` now.
    /// Ask this before anything else; a limited attempt must not reach Proxmox.
    pub fn check(&self, source: IpAddr, user: &str, now: SystemTime) -> LoginDecision {
        let state = self.lock();
        let user_block = state
            .users
            .get(&user_key(user))
            .and_then(|t| t.blocked(now));
        let source_block = state
            .sources
            .get(&source_key(source))
            .and_then(|t| t.blocked(now));
        match (user_block, source_block) {
            (Some(u), Some(s)) if s > u => LoginDecision::Limited {
                scope: LimitScope::Source,
                retry_after: s,
            },
            (Some(u), _) => LoginDecision::Limited {
                scope: LimitScope::User,
                retry_after: u,
            },
            (None, Some(s)) => LoginDecision::Limited {
                scope: LimitScope::Source,
                retry_after: s,
            },
            (None, None) => LoginDecision::Allowed,
        }
    }

    /// Records a failed login (wrong password, unknown user, no privileges). Returns what the
    /// next attempt will face, so the answer to this one can already say so.
    pub fn record_failure(&self, source: IpAddr, user: &str, now: SystemTime) -> LoginDecision {
        {
            let mut state = self.lock();
            let policy = self.policy;
            let State { users, sources } = &mut *state;
            bound(users, &policy.per_user, policy.max_tracked, now);
            bound(sources, &policy.per_source, policy.max_tracked, now);
            users
                .entry(user_key(user))
                .or_default()
                .fail(&policy.per_user, now);
            sources
                .entry(source_key(source))
                .or_default()
                .fail(&policy.per_source, now);
        }
        self.check(source, user, now)
    }

    /// Records a successful login: the user's failures are forgotten.
    pub fn record_success(&self, user: &str) {
        self.lock().users.remove(&user_key(user));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps `map` below `max` entries before one is added: first drops entries that no longer
/// matter, then (under attack with many keys) those whose last failure is oldest.
fn bound<K: Clone + Eq + std::hash::Hash>(
    map: &mut HashMap<K, Track>,
    rule: &LimitRule,
    max: usize,
    now: SystemTime,
) {
    if map.len() < max {
        return;
    }
    map.retain(|_, t| !t.expired(rule, now));
    if map.len() < max {
        return;
    }
    let mut by_age: Vec<(Option<SystemTime>, K)> = map
        .iter()
        .map(|(k, t)| (t.last_failure, k.clone()))
        .collect();
    by_age.sort_by_key(|(at, _)| *at);
    // Free a tenth at once, so this O(n log n) pass runs rarely.
    let excess = map.len() + 1 - max + max / 10;
    for (_, key) in by_age.into_iter().take(excess) {
        map.remove(&key);
    }
}

/// The key of a user: trimmed and lowercase, so `Alice@PVE` and `alice@pve` share a counter.
pub fn user_key(user: &str) -> String {
    user.trim().to_lowercase()
}

/// The key of a source: IPv4 as is (also when IPv4-mapped), IPv6 by its /64.
pub fn source_key(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised() {
        assert_eq!(user_key(" Alice@PVE "), "alice@pve");
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(source_key(a), source_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn retry_after_rounds_up_and_reads_well() {
        let d = LoginDecision::Limited {
            scope: LimitScope::User,
            retry_after: Duration::from_millis(60_001),
        };
        assert_eq!(d.retry_after_secs(), 61);
        assert_eq!(
            d.message().unwrap(),
            "Too many failed logins for this user: it is locked. Try again in 2 minutes."
        );
        assert_eq!(LoginDecision::Allowed.message(), None);
        assert_eq!(LoginDecision::Allowed.retry_after_secs(), 0);
    }

    #[test]
    fn the_tracked_keys_stay_bounded() {
        let limiter = LoginLimiter::new(LimitPolicy {
            max_tracked: 100,
            ..LimitPolicy::default()
        });
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..1_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            limiter.record_failure(
                ip,
                &format!("user{i}@pve"),
                now + Duration::from_secs(u64::from(i)),
            );
        }
        let state = limiter.lock();
        assert!(state.users.len() <= 100, "{}", state.users.len());
        assert!(state.sources.len() <= 100, "{}", state.sources.len());
        assert!(state.users.contains_key("user999@pve"), "the newest stays");
    }
}
