//! The login and logout form actions: plain `POST`s (form-urlencoded), so they work without
//! JavaScript and from scripts. With `Accept: application/json` they answer JSON instead of
//! redirecting.
//!
//! - `POST /auth/login`: `username`, `password`, `realm` (`pam`, `pve` or `local`), `next` (a
//!   path on this server; anything else means `/`), or `demo=1` in demo mode. Success: the
//!   session cookie and `303` to `next` (JSON: `200 {"user": …}`). Failure: `303` to
//!   `/login?error=<code>&next=…` (JSON: `400`/`401`/`403`/`429`/`503` with an `ApiError`).
//! - `POST /auth/logout`: ends this session; `303` to `/login`.
//! - `POST /auth/logout-everywhere`: ends every session of the user; `303` to `/login`.
//!
//! Like every write, these pass the same-origin check first (so no other site can log a
//! visitor in or out).

use std::net::{IpAddr, Ipv6Addr};

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use plb_backend::auth::{
    cookie, AuthService, ClientInfo, Identity, LoggedIn, LoginAttempt, LoginError,
};
use plb_domain::auth::{
    CurrentUser, LoginFailure, LoginRealm, LOGIN_ACTION, LOGIN_PATH, LOGOUT_ACTION,
    LOGOUT_EVERYWHERE_ACTION,
};
use plb_domain::secret::Secret;
use serde::{Deserialize, Serialize};

use super::gate::{see_other, session_cookie};
use super::paths::{query_encode, safe_next};
use crate::error::ApiError;
use crate::server::state::ServerState;

/// The form actions (all `POST`).
pub const ACTIONS: &[&str] = &[LOGIN_ACTION, LOGOUT_ACTION, LOGOUT_EVERYWHERE_ACTION];

/// The form actions' routes.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route(LOGIN_ACTION, post(login))
        .route(LOGOUT_ACTION, post(logout))
        .route(LOGOUT_EVERYWHERE_ACTION, post(logout_everywhere))
}

/// The login form's fields (all optional: a missing one is an `invalid` login, not a `422`).
#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    realm: Option<String>,
    next: Option<String>,
    demo: Option<String>,
}

/// JSON answer of a successful login.
#[derive(Debug, Serialize)]
pub struct LoginReply {
    /// Who is now signed in.
    pub user: CurrentUser,
}

async fn login(State(auth): State<AuthService>, request: Request) -> Response {
    let json = wants_json(request.headers());
    let client = client_of(&request);
    // A missing or unreadable body is an incomplete form: `invalid`, like an empty field.
    let form = Form::<LoginForm>::from_request(request, &())
        .await
        .map(|Form(form)| form)
        .unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    let ip = client.ip.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let demo = form
        .demo
        .as_deref()
        .is_some_and(|d| matches!(d.trim(), "1" | "true" | "on" | "yes"));
    let outcome = if demo {
        auth.demo_login(ip).await
    } else {
        match (form.username, form.password) {
            (Some(username), Some(password)) => {
                let realm = form
                    .realm
                    .as_deref()
                    .and_then(LoginRealm::parse)
                    .unwrap_or_default();
                auth.login(LoginAttempt {
                    username,
                    password: Secret::new(password),
                    realm,
                    source_ip: ip,
                })
                .await
            }
            _ => Err(LoginError::Refused(LoginFailure::Invalid)),
        }
    };
    match outcome {
        Ok(logged_in) => logged_in_reply(&auth, &logged_in, client, json, &next),
        Err(LoginError::Refused(failure)) => refused_reply(failure, json, &next),
        Err(LoginError::Internal(error)) => ApiError::internal(error).into_response(),
    }
}

fn logged_in_reply(
    auth: &AuthService,
    logged_in: &LoggedIn,
    client: ClientInfo,
    json: bool,
    next: &str,
) -> Response {
    let set_cookie = cookie::set_cookie(
        logged_in.cookie.expose(),
        client.secure,
        auth.session_policy().absolute_timeout,
    );
    let Ok(set_cookie) = HeaderValue::from_str(&set_cookie) else {
        return ApiError::internal("a session cookie is not a valid header value").into_response();
    };
    let mut response = if json {
        let user = Identity::from_session(&logged_in.session, client.ip).user;
        Json(LoginReply { user }).into_response()
    } else {
        see_other(next)
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie);
    response
}

fn refused_reply(failure: LoginFailure, json: bool, next: &str) -> Response {
    if !json {
        let mut location = format!("{LOGIN_PATH}?error={}", failure.code());
        // The login page turns this into "try again in N minutes" instead of "later".
        if let LoginFailure::RateLimited { retry_after_secs } = failure {
            location.push_str(&format!("&retry_after={retry_after_secs}"));
        }
        if next != "/" {
            location.push_str("&next=");
            location.push_str(&query_encode(next));
        }
        return see_other(&location);
    }
    let status = match failure {
        LoginFailure::BadCredentials | LoginFailure::NeedsSecondFactor => StatusCode::UNAUTHORIZED,
        LoginFailure::NoPermission => StatusCode::FORBIDDEN,
        LoginFailure::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        LoginFailure::ProxmoxUnreachable => StatusCode::SERVICE_UNAVAILABLE,
        LoginFailure::Invalid => StatusCode::BAD_REQUEST,
    };
    let error = ApiError::Unauthorized {
        message: failure.message(),
    };
    let mut response = (status, Json(error)).into_response();
    if let LoginFailure::RateLimited { retry_after_secs } = failure {
        if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

async fn logout(State(auth): State<AuthService>, request: Request) -> Response {
    let client = client_of(&request);
    let who = request.extensions().get::<Identity>().cloned();
    if let Some(cookie) = session_cookie(request.headers()) {
        if let Err(error) = auth.logout(cookie, who.as_ref()).await {
            return ApiError::from(error).into_response();
        }
    }
    signed_out(wants_json(request.headers()), client)
}

async fn logout_everywhere(State(auth): State<AuthService>, request: Request) -> Response {
    let client = client_of(&request);
    let json = wants_json(request.headers());
    let Some(who) = request.extensions().get::<Identity>().cloned() else {
        return ApiError::Unauthorized {
            message: "sign in first".into(),
        }
        .into_response();
    };
    match auth.logout_everywhere(&who).await {
        Ok(_) => signed_out(json, client),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// `303` to the login page (JSON: `204`), clearing the session cookie.
fn signed_out(json: bool, client: ClientInfo) -> Response {
    let mut response = if json {
        StatusCode::NO_CONTENT.into_response()
    } else {
        see_other(LOGIN_PATH)
    };
    if let Ok(value) = HeaderValue::from_str(&cookie::clear_cookie(client.secure)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn client_of(request: &Request) -> ClientInfo {
    request
        .extensions()
        .get::<ClientInfo>()
        .copied()
        .unwrap_or_default()
}

/// Whether the client asked for JSON (`Accept: application/json`).
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_redirect_with_the_code_and_the_page() {
        let r = refused_reply(LoginFailure::BadCredentials, false, "/nodes");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?error=bad_credentials&next=/nodes"
        );
        let r = refused_reply(LoginFailure::Invalid, false, "/");
        assert_eq!(r.headers()[header::LOCATION], "/login?error=invalid");
    }

    #[test]
    fn json_refusals_carry_a_status_and_retry_after() {
        let r = refused_reply(
            LoginFailure::RateLimited {
                retry_after_secs: 90,
            },
            true,
            "/",
        );
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "90");
        let r = refused_reply(LoginFailure::BadCredentials, true, "/");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}
