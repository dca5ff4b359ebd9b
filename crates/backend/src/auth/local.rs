//! The local `admin` account, for when Proxmox is unreachable.
//!
//! At first start a random password is generated, written to
//! `PROXLB_WEB_DATA/initial-admin-password` (mode 0600) and only its argon2id hash is stored. The
//! log names the file, never the password. Changing the password (which needs the current one)
//! deletes that file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rusqlite::{params, OptionalExtension};
use tokio::sync::{OnceCell, Semaphore};

use super::password::{self, PasswordCost};
use super::{AuthError, AuthSource, Principal, Role, SecretText};
use crate::store::{private_file, to_unix, Store, StoreError};

/// The local admin's user name.
pub const ADMIN_USERNAME: &str = "admin";
/// The realm local accounts are shown in (`admin@proxlb-web`).
pub const LOCAL_REALM: &str = "proxlb-web";
/// Name of the initial password's file inside the data directory.
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";
/// How many password hashes may run at once (each takes 19 MiB and a core for ~50 ms).
const MAX_CONCURRENT_HASHES: usize = 2;

/// What [`LocalAccounts::ensure_admin`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// The account was created; its initial password is in this file.
    Created {
        /// `PROXLB_WEB_DATA/initial-admin-password`.
        password_file: PathBuf,
    },
    /// The account existed already.
    Exists,
}

/// The local account store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LocalAccounts {
    store: Store,
    data_dir: Arc<PathBuf>,
    cost: PasswordCost,
    hashing: Arc<Semaphore>,
    /// A hash verified against when the user does not exist, so both cases take as long.
    dummy_hash: Arc<OnceCell<String>>,
}

impl LocalAccounts {
    /// Accounts in `store`; the initial password file goes to `data_dir`. New hashes use
    /// [`PasswordCost::default`].
    pub fn new(store: Store, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            store,
            data_dir: Arc::new(data_dir.into()),
            cost: PasswordCost::default(),
            hashing: Arc::new(Semaphore::new(MAX_CONCURRENT_HASHES)),
            dummy_hash: Arc::new(OnceCell::new()),
        }
    }

    /// The same with another cost for new hashes (tests use a cheap one).
    pub fn with_cost(mut self, cost: PasswordCost) -> Self {
        self.cost = cost;
        self
    }

    /// `admin@proxlb-web`: the local admin's user id.
    pub fn admin_user_id() -> String {
        format!("{ADMIN_USERNAME}@{LOCAL_REALM}")
    }

    /// Where the initial password is written.
    pub fn initial_password_file(&self) -> PathBuf {
        self.data_dir.join(INITIAL_PASSWORD_FILE)
    }

    /// Creates the admin account on first start (see the module docs); does nothing when it
    /// exists.
    pub async fn ensure_admin(&self, now: SystemTime) -> Result<AdminBootstrap, AuthError> {
        let exists = self
            .store
            .call(|c| {
                Ok(c.query_row(
                    "SELECT 1 FROM local_users WHERE username = ?1",
                    [ADMIN_USERNAME],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
            })
            .await?;
        if exists {
            return Ok(AdminBootstrap::Exists);
        }
        let password_file = self.set_generated_password(now).await?;
        tracing::info!(
            user = %Self::admin_user_id(),
            file = %password_file.display(),
            "created the local admin account; its initial password is in the file"
        );
        Ok(AdminBootstrap::Created { password_file })
    }

    /// Gives the admin a new generated password, written to the initial password file as at
    /// first start (for a recovery command when the password is lost). Returns the file.
    pub async fn reset_admin_password(&self, now: SystemTime) -> Result<PathBuf, AuthError> {
        let file = self.set_generated_password(now).await?;
        tracing::warn!(
            user = %Self::admin_user_id(),
            file = %file.display(),
            "reset the local admin's password; the new one is in the file"
        );
        Ok(file)
    }

    /// The account `username` (`admin` or `admin@proxlb-web`, any case) if `password` is its
    /// password. Unknown users take as long as a wrong password.
    pub async fn verify(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal>, AuthError> {
        let Some(name) = local_name(username) else {
            // Not a local user id at all: still spend the time of a check.
            self.check_password(password, None).await?;
            return Ok(None);
        };
        let stored = self.stored_hash(&name).await?;
        let ok = self.check_password(password, stored).await?;
        Ok(ok.then(|| principal(&name)))
    }

    /// Changes `username`'s password: needs the current one, and the new one must meet
    /// [`password::check_policy`] and differ from it. Once the admin's password is changed the
    /// initial password file is deleted. The caller should end the user's other sessions and
    /// write an audit entry.
    pub async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
        now: SystemTime,
    ) -> Result<(), AuthError> {
        password::check_policy(new)?;
        if new == current {
            return Err(AuthError::WeakPassword(
                "the new password must differ from the current one",
            ));
        }
        let name = local_name(username);
        let stored = match &name {
            Some(name) => self.stored_hash(name).await?,
            None => None,
        };
        if !self.check_password(current, stored).await? {
            return Err(AuthError::WrongPassword);
        }
        let Some(name) = name else {
            return Err(AuthError::WrongPassword);
        };
        let hash = self.hash(new.to_owned()).await?;
        let when = to_unix(now);
        let user = name.clone();
        self.store
            .call(move |c| {
                c.execute(
                    "UPDATE local_users SET password_hash = ?1, initial_password = 0,
                            password_changed_at = ?2 WHERE username = ?3",
                    params![hash, when, user],
                )?;
                Ok(())
            })
            .await?;
        if name == ADMIN_USERNAME {
            let file = self.initial_password_file();
            if remove_blocking(file.clone()).await? {
                tracing::info!(file = %file.display(), "removed the initial admin password file");
            }
        }
        tracing::info!(user = %format!("{name}@{LOCAL_REALM}"), "local password changed");
        Ok(())
    }

    /// Whether the admin still has the generated initial password (the UI asks to change it).
    pub async fn admin_uses_initial_password(&self) -> Result<bool, AuthError> {
        Ok(self
            .store
            .call(|c| {
                Ok(c.query_row(
                    "SELECT initial_password FROM local_users WHERE username = ?1",
                    [ADMIN_USERNAME],
                    |r| r.get::<_, bool>(0),
                )
                .optional()?)
            })
            .await?
            .unwrap_or(false))
    }

    async fn set_generated_password(&self, now: SystemTime) -> Result<PathBuf, AuthError> {
        let password = password::generate()?;
        let hash = self.hash(password.expose().to_owned()).await?;
        // The file first: if the database write fails, the next start makes a new password and
        // overwrites the file, so the file never holds a password the database does not know.
        let file = self.initial_password_file();
        write_blocking(file.clone(), password).await?;
        let when = to_unix(now);
        self.store
            .call(move |c| {
                c.execute(
                    "INSERT INTO local_users
                         (username, password_hash, initial_password, created_at, password_changed_at)
                     VALUES (?1, ?2, 1, ?3, ?3)
                     ON CONFLICT (username) DO UPDATE SET
                         password_hash = excluded.password_hash, initial_password = 1,
                         password_changed_at = excluded.password_changed_at",
                    params![ADMIN_USERNAME, hash, when],
                )?;
                Ok(())
            })
            .await?;
        Ok(file)
    }

    async fn stored_hash(&self, name: &str) -> Result<Option<String>, AuthError> {
        let name = name.to_owned();
        Ok(self
            .store
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT password_hash FROM local_users WHERE username = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?)
            })
            .await?)
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is none (and
    /// then answers false), so a missing user costs the same time.
    async fn check_password(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, AuthError> {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => {
                let dummy = self
                    .dummy_hash
                    .get_or_try_init(|| self.hash("dummy password".to_owned()))
                    .await?;
                (dummy.clone(), false)
            }
        };
        let password = password.to_owned();
        let ok = self
            .blocking(move || Ok(password::verify(&password, &hash)))
            .await?;
        Ok(ok && real)
    }

    async fn hash(&self, password: String) -> Result<String, AuthError> {
        let cost = self.cost;
        self.blocking(move || password::hash(&password, cost)).await
    }

    /// Runs password work on the blocking pool, at most [`MAX_CONCURRENT_HASHES`] at a time.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| AuthError::Crypto(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| AuthError::Crypto(format!("hashing task: {e}")))?
    }
}

/// The local user name in `username` (`admin`, `Admin@proxlb-web`, …), if it names a local user.
fn local_name(username: &str) -> Option<String> {
    let lower = username.trim().to_lowercase();
    let name = match lower.split_once('@') {
        Some((name, realm)) if realm == LOCAL_REALM => name.to_owned(),
        Some(_) => return None,
        None => lower,
    };
    (name == ADMIN_USERNAME).then_some(name)
}

fn principal(name: &str) -> Principal {
    let user_id = format!("{name}@{LOCAL_REALM}");
    Principal {
        display_name: user_id.clone(),
        user_id,
        source: AuthSource::Local,
        role: Role::Operator,
    }
}

async fn write_blocking(file: PathBuf, password: SecretText) -> Result<(), AuthError> {
    tokio::task::spawn_blocking(move || {
        let mut text = password.expose().to_owned();
        text.push('\n');
        private_file::write_private_file(&file, text.as_bytes())
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))??;
    Ok(())
}

async fn remove_blocking(file: PathBuf) -> Result<bool, AuthError> {
    Ok(
        tokio::task::spawn_blocking(move || private_file::remove_file(Path::new(&file)))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_accept_the_realm_and_any_case() {
        assert_eq!(local_name("admin").as_deref(), Some("admin"));
        assert_eq!(local_name(" Admin@PROXLB-WEB ").as_deref(), Some("admin"));
        assert_eq!(local_name("admin@pam"), None);
        assert_eq!(local_name("root"), None);
        assert_eq!(local_name(""), None);
    }

    #[test]
    fn the_admin_is_a_local_operator() {
        let p = principal("admin");
        assert_eq!(p.user_id, "admin@proxlb-web");
        assert_eq!(p.user_id, LocalAccounts::admin_user_id());
        assert_eq!(p.source, AuthSource::Local);
        assert_eq!(p.role, Role::Operator);
    }
}
