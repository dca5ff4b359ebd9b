//! Browser sessions: created at login, checked on every request, ended by logout, by "log out
//! everywhere", or by the idle and absolute timeouts.
//!
//! A session id is 256 random bits. The cookie value is `base64url(id) "." base64url(tag)`, where
//! `tag` is HMAC-SHA256 of the id under the install secret; the database stores only SHA-256 of
//! the id. Why both:
//! - the hash means a copy of the database (a backup, a leaked file) yields no usable cookie;
//! - the signature rejects forged or garbled cookies without a database query, and ties cookies
//!   to this install: rotating the secret ends every session at once.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::{params, OptionalExtension, Row};

use super::secret::InstallSecret;
use super::{random, AuthError, AuthSource, Principal, Role, SecretText};
use crate::ports::Clock;
use crate::store::{from_unix, to_unix, Store, StoreError};

/// Separates session signatures from any other use of the install secret.
const SIGNATURE_PURPOSE: &[u8] = b"proxlb-web session v1";

/// Timeouts and caps of sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends (default 30 minutes).
    pub idle_timeout: Duration,
    /// A session ends this long after login however much it is used (default 12 hours).
    pub absolute_timeout: Duration,
    /// `last_seen` is written at most this often per session (default 1 minute), so reading
    /// pages does not mean writing the database; the idle timeout is exact to within this.
    pub touch_interval: Duration,
    /// Sessions one user may have; a new login beyond it ends their least recently used one.
    pub max_per_user: u32,
    /// Sessions in all; a new login beyond it ends the least recently used one.
    pub max_total: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            touch_interval: Duration::from_secs(60),
            max_per_user: 20,
            max_total: 10_000,
        }
    }
}

/// A live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Who is signed in, and as what. The role is the one found at login.
    pub user: Principal,
    /// When the user logged in.
    pub created_at: SystemTime,
    /// When the session was last used (to within [`SessionPolicy::touch_interval`]).
    pub last_seen: SystemTime,
    /// When it ends unless used again: the earlier of the idle and the absolute timeout.
    pub expires_at: SystemTime,
    /// Where the login came from.
    pub source_ip: Option<IpAddr>,
}

/// The session store. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    secret: Arc<InstallSecret>,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions kept in `store`, cookies signed with `secret`, time from `clock`.
    pub fn new(
        store: Store,
        secret: InstallSecret,
        clock: Arc<dyn Clock>,
        policy: SessionPolicy,
    ) -> Self {
        Self {
            store,
            secret: Arc::new(secret),
            clock,
            policy,
        }
    }

    /// The timeouts and caps in force (e.g. for the cookie's `Max-Age`).
    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    /// Starts a session for `user` (already authenticated and authorised). Returns the cookie
    /// value, to be sent once in `Set-Cookie`, and the session.
    pub async fn create(
        &self,
        user: Principal,
        source_ip: Option<IpAddr>,
    ) -> Result<(SecretText, Session), AuthError> {
        let id = random::bytes::<32>()?;
        let tag = self.secret.sign(SIGNATURE_PURPOSE, &id);
        let cookie = SecretText::new(format!("{}.{}", random::encode(&id), random::encode(&tag)));

        let now = self.clock.now();
        let session = Session {
            expires_at: expiry(&self.policy, now, now),
            user,
            created_at: now,
            last_seen: now,
            source_ip,
        };
        let row = session.clone();
        let policy = self.policy;
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                let now = to_unix(row.created_at);
                tx.execute(
                    "DELETE FROM sessions WHERE user_id = ?1 AND expires_at <= ?2",
                    params![row.user.user_id, now],
                )?;
                // Make room: keep max - 1 of the user's and of all sessions, most recent first.
                tx.execute(
                    "DELETE FROM sessions WHERE id_hash IN
                       (SELECT id_hash FROM sessions WHERE user_id = ?1
                        ORDER BY last_seen DESC LIMIT -1 OFFSET ?2)",
                    params![row.user.user_id, policy.max_per_user.saturating_sub(1)],
                )?;
                tx.execute(
                    "DELETE FROM sessions WHERE id_hash IN
                       (SELECT id_hash FROM sessions ORDER BY last_seen DESC LIMIT -1 OFFSET ?1)",
                    [policy.max_total.saturating_sub(1)],
                )?;
                tx.execute(
                    "INSERT INTO sessions (id_hash, user_id, display_name, source, role,
                                           created_at, last_seen, expires_at, source_ip)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
                    params![
                        random::sha256(&id),
                        row.user.user_id,
                        row.user.display_name,
                        row.user.source.as_str(),
                        row.user.role.as_str(),
                        now,
                        to_unix(row.expires_at),
                        row.source_ip.map(|ip| ip.to_string()),
                    ],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok((cookie, session))
    }

    /// The session a cookie value belongs to, if it is genuine and live. Marks it used (at most
    /// once per [`SessionPolicy::touch_interval`]); deletes it if it has expired.
    pub async fn validate(&self, cookie: &str) -> Result<Option<Session>, AuthError> {
        let Some(id_hash) = self.verified_id_hash(cookie) else {
            return Ok(None);
        };
        let now = self.clock.now();
        let policy = self.policy;
        Ok(self
            .store
            .call(move |c| {
                let Some(mut session) = c
                    .query_row(
                        "SELECT user_id, display_name, source, role, created_at, last_seen,
                                source_ip
                         FROM sessions WHERE id_hash = ?1",
                        [id_hash],
                        read_session,
                    )
                    .optional()?
                    .transpose()?
                else {
                    return Ok(None);
                };
                session.expires_at = expiry(&policy, session.created_at, session.last_seen);
                if session.expires_at <= now {
                    c.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
                    return Ok(None);
                }
                let idle_for = now.duration_since(session.last_seen).unwrap_or_default();
                if idle_for >= policy.touch_interval {
                    session.last_seen = now;
                    session.expires_at = expiry(&policy, session.created_at, now);
                    c.execute(
                        "UPDATE sessions SET last_seen = ?1, expires_at = ?2 WHERE id_hash = ?3",
                        params![to_unix(now), to_unix(session.expires_at), id_hash],
                    )?;
                }
                Ok(Some(session))
            })
            .await?)
    }

    /// Ends the session of this cookie value. Returns whether there was one.
    pub async fn logout(&self, cookie: &str) -> Result<bool, AuthError> {
        let Some(id_hash) = self.verified_id_hash(cookie) else {
            return Ok(false);
        };
        Ok(self
            .store
            .call(move |c| Ok(c.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])? > 0))
            .await?)
    }

    /// Ends every session of `user_id` ("log out everywhere"). Returns how many there were.
    pub async fn logout_everywhere(&self, user_id: &str) -> Result<usize, AuthError> {
        let user_id = user_id.to_owned();
        Ok(self
            .store
            .call(move |c| Ok(c.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?))
            .await?)
    }

    /// How many live sessions `user_id` has (e.g. for "log out everywhere (3 sessions)").
    pub async fn count_for_user(&self, user_id: &str) -> Result<usize, AuthError> {
        let user_id = user_id.to_owned();
        let now = to_unix(self.clock.now());
        let count: i64 = self
            .store
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM sessions WHERE user_id = ?1 AND expires_at > ?2",
                    params![user_id, now],
                    |r| r.get(0),
                )?)
            })
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// SHA-256 of the id in `cookie`, if its signature is genuine.
    fn verified_id_hash(&self, cookie: &str) -> Option<[u8; 32]> {
        let (id, tag) = cookie.trim().split_once('.')?;
        let id = random::decode::<32>(id)?;
        let tag = random::decode::<32>(tag)?;
        self.secret
            .verify(SIGNATURE_PURPOSE, &id, &tag)
            .then(|| random::sha256(&id))
    }
}

/// When a session created at `created` and last used at `last_seen` ends.
fn expiry(policy: &SessionPolicy, created: SystemTime, last_seen: SystemTime) -> SystemTime {
    (created + policy.absolute_timeout).min(last_seen + policy.idle_timeout)
}

fn read_session(row: &Row<'_>) -> rusqlite::Result<Result<Session, StoreError>> {
    let source: String = row.get(2)?;
    let role: String = row.get(3)?;
    let ip: Option<String> = row.get(6)?;
    let (Some(source), Some(role)) = (AuthSource::parse(&source), Role::parse(&role)) else {
        return Ok(Err(StoreError::Corrupt(format!(
            "session with source {source:?} and role {role:?}"
        ))));
    };
    let created_at = from_unix(row.get(4)?);
    let last_seen = from_unix(row.get(5)?);
    Ok(Ok(Session {
        user: Principal {
            user_id: row.get(0)?,
            display_name: row.get(1)?,
            source,
            role,
        },
        created_at,
        last_seen,
        expires_at: last_seen,
        source_ip: ip.and_then(|ip| ip.parse().ok()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_earlier_timeout() {
        let p = SessionPolicy::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(expiry(&p, t0, t0), t0 + p.idle_timeout);
        let late = t0 + p.absolute_timeout - Duration::from_secs(60);
        assert_eq!(expiry(&p, t0, late), t0 + p.absolute_timeout);
    }

    #[test]
    fn the_defaults_are_thirty_minutes_and_twelve_hours() {
        let p = SessionPolicy::default();
        assert_eq!(p.idle_timeout, Duration::from_secs(1_800));
        assert_eq!(p.absolute_timeout, Duration::from_secs(43_200));
    }
}
