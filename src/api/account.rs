//! The account page's form endpoints: what a plain HTML form (no JavaScript) needs on top of the
//! typed server functions in [`crate::api::auth`], which do the work.
//!
//! - [`create_token_form`]: the token form's fields as text (the expiry select sends `""` for
//!   never). After a form post without JavaScript the new secret cannot travel in the redirect's
//!   URL, so it waits in [`NewTokenVault`] under a random one-time key for the page to fetch
//!   with [`take_new_token`].
//! - [`change_password_form`]: checks that the new password was typed twice the same.
//!
//! With JavaScript the same endpoints answer in place. Auditing, permissions and the rules
//! (operators only, scope no stronger than the creator) are the auth service's.

use leptos::prelude::*;
use plb_domain::auth::CreatedToken;

use crate::error::ApiError;

/// The URL parameter that hands a new token's secret to the account page after a form post
/// without JavaScript (a one-time key, not the secret).
pub const NEW_TOKEN_PARAM: &str = "new_token";

/// The URL parameter saying what just succeeded after a form post without JavaScript.
pub const DONE_PARAM: &str = "done";

/// [`DONE_PARAM`]'s value after the password was changed.
pub const PASSWORD_CHANGED: &str = "password_changed";

/// Expiry choices of the token form, in days (`None`: never).
pub const EXPIRY_CHOICES: [(Option<u32>, &str); 5] = [
    (None, "Never"),
    (Some(7), "In 7 days"),
    (Some(30), "In 30 days"),
    (Some(90), "In 90 days"),
    (Some(365), "In a year"),
];

/// Creates an API token from the token form: `scope` is `read` or `operate`, `expires_in_days`
/// empty for never or 1 to 3650. Operators only, from a browser session. The secret is in the
/// answer; after a plain form post the browser is sent to `/account?new_token=<key>` instead.
#[server(prefix = "/sfn", endpoint = "create_token_form")]
pub async fn create_token_form(
    name: String,
    scope: String,
    expires_in_days: String,
) -> Result<CreatedToken, ApiError> {
    use plb_domain::auth::{CreateToken, TokenScope};

    let who = crate::api::auth::require_operator()?;
    let request = CreateToken {
        name,
        scope: TokenScope::parse(scope.trim()).ok_or_else(|| ApiError::Invalid {
            message: "the scope must be read or operate".into(),
        })?,
        expires_in_days: parse_expiry_days(&expires_in_days)?,
    };
    let created = crate::api::auth::auth_service()?
        .create_token(&who, &request)
        .await?;
    if server::plain_form_post() {
        let key = server::vault().put(&who.user.user_id, created.clone())?;
        leptos_axum::redirect(&format!("/account?{NEW_TOKEN_PARAM}={key}"));
        // The browser follows the redirect; the secret waits in the vault, not in this body.
        return Ok(CreatedToken {
            token: String::new(),
            info: created.info,
        });
    }
    Ok(created)
}

/// After a token was created by a form post without JavaScript: its secret, once, for the
/// same user; `None` when the key is unknown, used or expired.
#[server(prefix = "/sfn", endpoint = "new_token")]
pub async fn take_new_token(key: String) -> Result<Option<CreatedToken>, ApiError> {
    let who = crate::api::auth::require_operator()?;
    Ok(server::vault().take(&who.user.user_id, key.trim()))
}

/// Changes the local account's password from the password form (`new` typed twice). Every
/// other session of the account ends; this browser gets a new one. After a plain form post the
/// browser is sent to `/account?done=password_changed`.
#[server(prefix = "/sfn", endpoint = "change_password_form")]
pub async fn change_password_form(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), ApiError> {
    use plb_domain::secret::Secret;

    if new != confirm {
        return Err(ApiError::Invalid {
            message: "the new password and its repetition differ".into(),
        });
    }
    let who = crate::api::auth::require_user()?;
    let cookie = crate::api::auth::auth_service()?
        .change_password(&who, &Secret::new(current), &Secret::new(new))
        .await?;
    crate::api::auth::set_session_cookie(&cookie);
    if server::plain_form_post() {
        leptos_axum::redirect(&format!("/account?{DONE_PARAM}={PASSWORD_CHANGED}"));
    }
    Ok(())
}

/// Parses the token form's expiry: empty (or `never`) for never, else whole days from 1 to
/// [`plb_domain::auth::MAX_TOKEN_DAYS`].
pub fn parse_expiry_days(text: &str) -> Result<Option<u32>, ApiError> {
    let text = text.trim();
    if text.is_empty() || text == "never" {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=plb_domain::auth::MAX_TOKEN_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(ApiError::Invalid {
            message: format!(
                "the expiry must be a number of days from 1 to {}, or empty for never",
                plb_domain::auth::MAX_TOKEN_DAYS
            ),
        }),
    }
}

#[cfg(feature = "ssr")]
pub use server::NewTokenVault;

#[cfg(feature = "ssr")]
pub(crate) use server::plain_form_post;

#[cfg(feature = "ssr")]
mod server {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock, PoisonError};
    use std::time::{Duration, Instant};

    use plb_domain::auth::CreatedToken;

    use crate::error::ApiError;

    /// How long a new token's secret waits for the page after a form post without JavaScript.
    const VAULT_TTL: Duration = Duration::from_secs(120);
    /// Most secrets waiting at once (the oldest is dropped first).
    const VAULT_CAP: usize = 64;

    /// Whether the request is a plain HTML form post (no JavaScript): the browser then asks for
    /// HTML, the server function client for its encoding.
    pub(crate) fn plain_form_post() -> bool {
        use axum::http::{header::ACCEPT, request::Parts};
        leptos::prelude::use_context::<Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(ACCEPT)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.contains("text/html"))
        })
    }

    /// New tokens' secrets between a form post without JavaScript and the page it redirects to:
    /// in memory only, for one user, for two minutes, handed out once. The key in the URL is
    /// random and worthless once used.
    #[derive(Clone, Default)]
    pub struct NewTokenVault {
        waiting: Arc<Mutex<HashMap<String, Waiting>>>,
    }

    impl std::fmt::Debug for NewTokenVault {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("NewTokenVault").finish_non_exhaustive()
        }
    }

    struct Waiting {
        user_id: String,
        token: CreatedToken,
        since: Instant,
    }

    impl NewTokenVault {
        /// Keeps `token` for `user_id`; returns the key to put in the URL.
        pub fn put(&self, user_id: &str, token: CreatedToken) -> Result<String, ApiError> {
            // 144 random bits, URL-safe.
            let key = plb_backend::auth::password::generate()
                .map_err(|error| ApiError::internal(format!("random key: {error}")))?
                .expose()
                .to_owned();
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.retain(|_, w| w.since.elapsed() < VAULT_TTL);
            while waiting.len() >= VAULT_CAP {
                let Some(oldest) = waiting
                    .iter()
                    .min_by_key(|(_, w)| w.since)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                waiting.remove(&oldest);
            }
            waiting.insert(
                key.clone(),
                Waiting {
                    user_id: user_id.to_owned(),
                    token,
                    since: Instant::now(),
                },
            );
            Ok(key)
        }

        /// The token kept under `key` for `user_id`, once; `None` for another user, an unknown
        /// key or one older than two minutes.
        pub fn take(&self, user_id: &str, key: &str) -> Option<CreatedToken> {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            let fresh = waiting
                .get(key)
                .is_some_and(|w| w.user_id == user_id && w.since.elapsed() < VAULT_TTL);
            if !fresh {
                return None;
            }
            waiting.remove(key).map(|w| w.token)
        }
    }

    /// The process's vault. One per process is enough: keys are random and bound to a user,
    /// so servers sharing a process (tests) cannot read each other's secrets.
    pub(super) fn vault() -> &'static NewTokenVault {
        static VAULT: OnceLock<NewTokenVault> = OnceLock::new();
        VAULT.get_or_init(NewTokenVault::default)
    }

    #[cfg(test)]
    mod tests {
        use plb_domain::auth::{TokenInfo, TokenScope};

        use super::*;

        fn token(name: &str) -> CreatedToken {
            CreatedToken {
                token: format!("plbw_{name}"),
                info: TokenInfo {
                    id: 1,
                    name: name.into(),
                    prefix: "plbw_abc".into(),
                    scope: TokenScope::Read,
                    created_by: "root@pam".into(),
                    created_at_unix: 0,
                    expires_at_unix: None,
                    last_used_at_unix: None,
                },
            }
        }

        #[test]
        fn a_secret_is_handed_out_once_and_only_to_its_user() {
            let vault = NewTokenVault::default();
            let key = vault.put("root@pam", token("ci")).unwrap();
            assert!(key.len() >= 20, "{key}");
            assert_eq!(vault.take("alice@pve", &key), None);
            assert_eq!(
                vault.take("root@pam", &key).map(|t| t.token),
                Some("plbw_ci".into())
            );
            assert_eq!(vault.take("root@pam", &key), None);
            assert_eq!(vault.take("root@pam", "guess"), None);
        }

        #[test]
        fn keys_differ_and_the_vault_stays_small() {
            let vault = NewTokenVault::default();
            let keys: Vec<String> = (0..VAULT_CAP + 10)
                .map(|i| vault.put("root@pam", token(&format!("t{i}"))).unwrap())
                .collect();
            let unique: std::collections::HashSet<&String> = keys.iter().collect();
            assert_eq!(unique.len(), keys.len());
            let left = vault.waiting.lock().unwrap().len();
            assert_eq!(left, VAULT_CAP);
            // The newest are kept.
            assert!(vault.take("root@pam", &keys[keys.len() - 1]).is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_empty_or_whole_days_in_range() {
        assert_eq!(parse_expiry_days(""), Ok(None));
        assert_eq!(parse_expiry_days(" 30 "), Ok(Some(30)));
        assert_eq!(parse_expiry_days("3650"), Ok(Some(3650)));
        for bad in ["0", "3651", "-1", "1.5", "soon"] {
            assert!(parse_expiry_days(bad).is_err(), "{bad}");
        }
        for (days, _) in EXPIRY_CHOICES {
            let text = days.map(|d| d.to_string()).unwrap_or_default();
            assert_eq!(parse_expiry_days(&text), Ok(days));
        }
    }
}
