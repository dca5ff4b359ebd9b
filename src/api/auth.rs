//! Server functions of the login, account and audit pages, and the helpers every other server
//! function uses to learn who is calling ([`require_user`], [`require_operator`]).
//!
//! The server's auth middleware (`crate::server::auth`) has already refused requests without a
//! valid session or token before any of these run (except `current_user` and `login_info`,
//! which answer signed-out visitors too); the checks here are the second line, and the only one
//! for in-process calls during server rendering.
//!
//! Logging in and out are plain form posts (`POST /auth/login`, `/auth/logout`,
//! `/auth/logout-everywhere`, see [`plb_domain::auth`]), so they work without JavaScript.

use leptos::prelude::*;
use plb_domain::audit::{AuditFilter, AuditPage};
use plb_domain::auth::{
    AccountInfo, CreatedToken, CurrentUser, LoginPageInfo, TokenInfo, TokenScope,
};

use crate::error::ApiError;

/// The signed-in user, or `None` for a visitor who is not signed in. Never fails for lack of a
/// session (the login page and the user menu ask it).
#[server(prefix = "/sfn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, ApiError> {
    Ok(identity().map(|who| who.user))
}

/// What the login page shows before anyone is signed in (the demo's one-click user).
#[server(prefix = "/sfn", endpoint = "login_info")]
pub async fn get_login_info() -> Result<LoginPageInfo, ApiError> {
    let auth = auth_service()?;
    Ok(LoginPageInfo {
        demo_user: auth.demo_user().map(str::to_owned),
    })
}

/// The account page: who is signed in, their session count, whether the initial password must
/// still be changed.
#[server(prefix = "/sfn", endpoint = "account")]
pub async fn get_account() -> Result<AccountInfo, ApiError> {
    let who = require_user()?;
    let auth = auth_service()?;
    let sessions = if who.token.is_some() {
        0
    } else {
        auth.session_count(&who).await?
    };
    let must_change_password = who.user.source == plb_domain::auth::AuthSource::Local
        && !who.user.via_token
        && auth.admin_uses_initial_password().await?;
    Ok(AccountInfo {
        user: who.user,
        sessions: u32::try_from(sessions).unwrap_or(u32::MAX),
        must_change_password,
    })
}

/// Every API token (never a secret). Anyone signed in may list them.
#[server(prefix = "/sfn", endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, ApiError> {
    let who = require_user()?;
    Ok(auth_service()?.list_tokens(&who).await?)
}

/// Creates an API token (operators, from a browser session, scope no stronger than their
/// role). The answer holds the token itself: show it once.
#[server(prefix = "/sfn", endpoint = "create_token")]
pub async fn create_token(
    name: String,
    scope: TokenScope,
    expires_in_days: Option<u32>,
) -> Result<CreatedToken, ApiError> {
    let who = require_operator()?;
    let request = plb_domain::auth::CreateToken {
        name,
        scope,
        expires_in_days,
    };
    Ok(auth_service()?.create_token(&who, &request).await?)
}

/// Revokes an API token (operators); it stops working at once.
#[server(prefix = "/sfn", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), ApiError> {
    let who = require_operator()?;
    auth_service()?.revoke_token(&who, id).await?;
    Ok(())
}

/// One page of the audit log, newest first (anyone signed in).
#[server(prefix = "/sfn", endpoint = "audit")]
pub async fn get_audit_page(filter: AuditFilter) -> Result<AuditPage, ApiError> {
    let who = require_user()?;
    Ok(auth_service()?.audit_page(&who, &filter).await?)
}

/// Changes the local account's password (local users only). Every session of the account ends;
/// this browser gets a fresh one.
#[server(prefix = "/sfn", endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ApiError> {
    use plb_domain::secret::Secret;

    let who = require_user()?;
    let cookie = auth_service()?
        .change_password(&who, &Secret::new(current), &Secret::new(new))
        .await?;
    set_session_cookie(&cookie);
    Ok(())
}

/// Who is calling: the identity the auth middleware put into the request, if any.
#[cfg(feature = "ssr")]
pub fn identity() -> Option<Identity> {
    use_context::<Identity>().or_else(|| {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Identity>().cloned())
    })
}

/// The identity of a request (re-exported for server functions).
#[cfg(feature = "ssr")]
pub use plb_backend::auth::Identity;

/// Where the request came from (address, HTTPS), as the auth middleware worked it out.
#[cfg(feature = "ssr")]
pub fn client_info() -> plb_backend::auth::ClientInfo {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<plb_backend::auth::ClientInfo>()
                .copied()
        })
        .unwrap_or_default()
}

/// Sets the session cookie to `value` on this server function's response (after a password
/// change, which ends every older session).
#[cfg(feature = "ssr")]
pub fn set_session_cookie(value: &plb_backend::auth::SecretText) {
    use plb_backend::auth::cookie;

    let Ok(auth) = auth_service() else { return };
    let header = cookie::set_cookie(
        value.expose(),
        client_info().secure,
        auth.session_policy().absolute_timeout,
    );
    match axum::http::HeaderValue::from_str(&header) {
        Ok(value) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.append_header(axum::http::header::SET_COOKIE, value);
            }
        }
        Err(_) => tracing::error!("a session cookie value is not a valid header"),
    }
}

/// The caller, signed in with a session or a token; `Unauthorized` otherwise.
#[cfg(feature = "ssr")]
pub fn require_user() -> Result<Identity, ApiError> {
    identity().ok_or_else(|| ApiError::Unauthorized {
        message: "sign in first (or send an API token as Authorization: Bearer …)".into(),
    })
}

/// The caller if they may change things (Operator); `Unauthorized` or `Forbidden` otherwise.
#[cfg(feature = "ssr")]
pub fn require_operator() -> Result<Identity, ApiError> {
    let who = require_user()?;
    who.require(plb_domain::auth::Role::Operator)?;
    Ok(who)
}

/// The login, session and token service, from the backend state in the request context.
#[cfg(feature = "ssr")]
pub fn auth_service() -> Result<plb_backend::auth::AuthService, ApiError> {
    Ok(super::app_state()?.auth.clone())
}
