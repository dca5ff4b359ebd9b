//! API tokens for automation (`Authorization: Bearer plbw_…`).
//!
//! A token is `plbw_` followed by 256 random bits (base64url). It is shown once, at creation; the
//! database keeps only its SHA-256. Checking one costs one SHA-256 and a hash-map lookup in
//! memory (microseconds; argon2 is for passwords only): [`ApiTokens`] keeps every live token's
//! hash in memory, loaded at start and updated by its own create and revoke, so a revoked token
//! stops working as soon as [`ApiTokens::revoke`] returns. Only one `ApiTokens` may manage a store.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

/// What a token may do, and a token as listed (shared with the browser).
pub use plb_domain::auth::{TokenInfo, TokenScope};
use rusqlite::{params, Row};
use subtle::ConstantTimeEq;

use super::{random, AuthError, Role, SecretText};
use crate::ports::Clock;
use crate::store::{from_unix, to_unix, Store, StoreError};

/// Every token starts with this, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "plbw_";
/// Characters of a token kept for display (the prefix and 3 characters: 18 of its 256 bits).
const DISPLAY_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 3;
/// `last_used_at` is written at most this often per token.
pub const LAST_USED_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A freshly created token: its secret, to show once, and its listing.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// The token itself (`plbw_…`). Shown once; never stored or logged.
    pub secret: SecretText,
    /// What the list will show.
    pub info: TokenInfo,
}

/// Who is calling, when a request carries a valid token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenIdentity {
    /// The token's id.
    pub id: i64,
    /// The token's name (for the audit log: `token:terraform`).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// Who created it.
    pub created_by: String,
}

impl TokenIdentity {
    /// The role of requests with this token.
    pub fn role(&self) -> Role {
        self.scope.role()
    }

    /// The actor name for the audit log.
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }
}

#[derive(Clone, Debug)]
struct Cached {
    hash: [u8; 32],
    identity: TokenIdentity,
    expires_at: Option<SystemTime>,
    /// When `last_used_at` was last written (or loaded).
    last_written: Option<SystemTime>,
}

/// The API token store. Cheap to clone; every clone shares the in-memory index.
#[derive(Clone)]
pub struct ApiTokens {
    store: Store,
    clock: Arc<dyn Clock>,
    by_hash: Arc<RwLock<HashMap<[u8; 32], Cached>>>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokens").finish_non_exhaustive()
    }
}

impl ApiTokens {
    /// The most tokens that may exist at once.
    pub const MAX_TOKENS: usize = 200;

    /// Loads the live tokens of `store` into memory.
    pub async fn load(store: Store, clock: Arc<dyn Clock>) -> Result<Self, AuthError> {
        let rows = store
            .call(|c| {
                let mut stmt = c.prepare(
                    "SELECT id, name, prefix, scope, created_by, created_at, expires_at,
                            last_used_at, token_hash
                     FROM api_tokens",
                )?;
                let rows = stmt
                    .query_map([], read_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                rows.into_iter().collect::<Result<Vec<_>, StoreError>>()
            })
            .await?;
        let by_hash = rows
            .into_iter()
            .map(|(info, hash)| (hash, cached(&info, hash)))
            .collect();
        Ok(Self {
            store,
            clock,
            by_hash: Arc::new(RwLock::new(by_hash)),
        })
    }

    /// Creates a token named `name` (unique; 1–64 characters without control characters) with
    /// `scope`, by `created_by`, optionally expiring. The secret is in the answer and nowhere else.
    pub async fn create(
        &self,
        name: &str,
        scope: TokenScope,
        created_by: &str,
        expires_at: Option<SystemTime>,
    ) -> Result<NewToken, AuthError> {
        let name = check_name(name)?;
        let token = format!("{TOKEN_PREFIX}{}", random::encode(&random::bytes::<32>()?));
        let hash = random::sha256(token.as_bytes());
        let now = to_unix(self.clock.now());
        let mut info = TokenInfo {
            id: 0,
            name,
            prefix: token.chars().take(DISPLAY_PREFIX_LEN).collect(),
            scope,
            created_by: created_by.to_owned(),
            created_at_unix: now,
            expires_at_unix: expires_at.map(to_unix),
            last_used_at_unix: None,
        };
        let row = info.clone();
        let outcome = self
            .store
            .call(move |c| {
                let tx = c.transaction()?;
                let live: i64 = tx.query_row(
                    "SELECT count(*) FROM api_tokens WHERE expires_at IS NULL OR expires_at > ?1",
                    [now],
                    |r| r.get(0),
                )?;
                if usize::try_from(live).unwrap_or(usize::MAX) >= ApiTokens::MAX_TOKENS {
                    return Ok(Err(AuthError::TooManyTokens {
                        max: ApiTokens::MAX_TOKENS,
                    }));
                }
                let taken: i64 = tx.query_row(
                    "SELECT count(*) FROM api_tokens WHERE name = ?1",
                    [&row.name],
                    |r| r.get(0),
                )?;
                if taken > 0 {
                    return Ok(Err(AuthError::TokenNameTaken));
                }
                tx.execute(
                    "INSERT INTO api_tokens (name, token_hash, prefix, scope, created_by,
                                             created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        row.name,
                        hash,
                        row.prefix,
                        row.scope.as_str(),
                        row.created_by,
                        row.created_at_unix,
                        row.expires_at_unix
                    ],
                )?;
                let id = tx.last_insert_rowid();
                tx.commit()?;
                Ok(Ok(id))
            })
            .await?;
        info.id = outcome?;
        self.write_index().insert(hash, cached(&info, hash));
        tracing::info!(token = %info.name, scope = info.scope.as_str(), by = %info.created_by,
            "API token created");
        Ok(NewToken {
            secret: SecretText::new(token),
            info,
        })
    }

    /// Every token, oldest first, without secrets.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, AuthError> {
        Ok(self
            .store
            .call(|c| {
                let mut stmt = c.prepare(
                    "SELECT id, name, prefix, scope, created_by, created_at, expires_at,
                            last_used_at, token_hash
                     FROM api_tokens ORDER BY id",
                )?;
                let rows = stmt
                    .query_map([], read_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                rows.into_iter()
                    .map(|r| r.map(|(info, _)| info))
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .await?)
    }

    /// Revokes the token `id`: it stops working before this returns. Returns the revoked
    /// token's listing, or `None` if there was no such token.
    pub async fn revoke(&self, id: i64) -> Result<Option<TokenInfo>, AuthError> {
        let revoked = self
            .store
            .call(move |c| {
                let tx = c.transaction()?;
                let row = {
                    let mut stmt = tx.prepare(
                        "SELECT id, name, prefix, scope, created_by, created_at, expires_at,
                                last_used_at, token_hash
                         FROM api_tokens WHERE id = ?1",
                    )?;
                    let mut rows = stmt.query_map([id], read_row)?;
                    rows.next().transpose()?.transpose()?
                };
                tx.execute("DELETE FROM api_tokens WHERE id = ?1", [id])?;
                tx.commit()?;
                Ok(row)
            })
            .await?;
        // Whether or not the row existed, drop every cache entry with this id.
        self.write_index().retain(|_, t| t.identity.id != id);
        if let Some((info, _)) = &revoked {
            tracing::info!(token = %info.name, "API token revoked");
        }
        Ok(revoked.map(|(info, _)| info))
    }

    /// The identity of a presented token (the `Bearer` value), if it is live. Never touches
    /// the database except to record use, at most every [`LAST_USED_INTERVAL`] per token.
    pub async fn check(&self, presented: &str) -> Option<TokenIdentity> {
        let presented = presented.trim();
        if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 128 {
            return None;
        }
        let hash = random::sha256(presented.as_bytes());
        let now = self.clock.now();
        let (identity, record_use) = {
            let index = self.read_index();
            let entry = index.get(&hash)?;
            // The map lookup already matched; the constant-time comparison keeps it so should
            // the index ever be searched differently.
            if !bool::from(entry.hash.ct_eq(&hash)) {
                return None;
            }
            if entry.expires_at.is_some_and(|at| at <= now) {
                return None;
            }
            let stale = entry
                .last_written
                .is_none_or(|at| now.duration_since(at).unwrap_or_default() >= LAST_USED_INTERVAL);
            (entry.identity.clone(), stale)
        };
        if record_use {
            self.record_use(hash, identity.id, now).await;
        }
        Some(identity)
    }

    async fn record_use(&self, hash: [u8; 32], id: i64, now: SystemTime) {
        {
            let mut index = self.write_index();
            match index.get_mut(&hash) {
                // Another request may have recorded it meanwhile.
                Some(entry)
                    if entry.last_written.is_none_or(|at| {
                        now.duration_since(at).unwrap_or_default() >= LAST_USED_INTERVAL
                    }) =>
                {
                    entry.last_written = Some(now);
                }
                _ => return,
            }
        }
        let when = to_unix(now);
        let result = self
            .store
            .call(move |c| {
                c.execute(
                    "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
                    params![when, id],
                )?;
                Ok(())
            })
            .await;
        if let Err(err) = result {
            // The token still works; only the "last used" column lags.
            tracing::warn!(%err, token_id = id, "could not record an API token's use");
        }
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, HashMap<[u8; 32], Cached>> {
        self.by_hash.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<[u8; 32], Cached>> {
        self.by_hash.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn cached(info: &TokenInfo, hash: [u8; 32]) -> Cached {
    Cached {
        hash,
        identity: TokenIdentity {
            id: info.id,
            name: info.name.clone(),
            scope: info.scope,
            created_by: info.created_by.clone(),
        },
        expires_at: info.expires_at_unix.map(from_unix),
        last_written: info.last_used_at_unix.map(from_unix),
    }
}

fn check_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AuthError::InvalidTokenName("the token needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AuthError::InvalidTokenName(
            "the token name must have at most 64 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::InvalidTokenName(
            "the token name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

type TokenRow = Result<(TokenInfo, [u8; 32]), StoreError>;

fn read_row(row: &Row<'_>) -> rusqlite::Result<TokenRow> {
    let scope: String = row.get(3)?;
    let hash: Vec<u8> = row.get(8)?;
    let (Some(scope), Ok(hash)) = (TokenScope::parse(&scope), <[u8; 32]>::try_from(hash)) else {
        return Ok(Err(StoreError::Corrupt(format!(
            "API token with scope {scope:?}"
        ))));
    };
    Ok(Ok((
        TokenInfo {
            id: row.get(0)?,
            name: row.get(1)?,
            prefix: row.get(2)?,
            scope,
            created_by: row.get(4)?,
            created_at_unix: row.get(5)?,
            expires_at_unix: row.get(6)?,
            last_used_at_unix: row.get(7)?,
        },
        hash,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(check_name("  terraform ").unwrap(), "terraform");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert!(check_name(&"ä".repeat(64)).is_ok());
        assert!(check_name("a\nb").is_err());
    }

    #[test]
    fn scopes_map_to_roles_and_names() {
        assert_eq!(TokenScope::Read.role(), Role::Viewer);
        assert_eq!(TokenScope::Operate.role(), Role::Operator);
        for s in [TokenScope::Read, TokenScope::Operate] {
            assert_eq!(TokenScope::parse(s.as_str()), Some(s));
        }
        assert_eq!(TokenScope::parse("admin"), None);
    }
}
