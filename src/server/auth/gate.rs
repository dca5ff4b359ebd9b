//! The authentication middleware: who is this request, and may it pass?
//!
//! For every request it works out the client ([`super::client`]), then looks at the credentials:
//! `Authorization: Bearer <token>` if present (then only that), else the session cookie. A request
//! that has valid ones carries its [`Identity`] on (request extensions; the router also puts it
//! into the Leptos context). One without is refused unless its path is public
//! ([`super::paths`]): pages with `303` to the login page, everything else with `401` and an
//! [`ApiError::Unauthorized`] body. A REST write by a viewer or a read-only token is refused
//! with `403` here already (handlers check again).

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use plb_backend::auth::{cookie, Identity, Role};
use plb_backend::AppState;

use super::client::client_info;
use super::paths::{self, Access};
use crate::error::ApiError;

/// The `Bearer` credential of `Authorization`, if any (scheme names are case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
        })
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie::find(
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

/// The middleware (see the module docs); `next` is the rest of the request's way
/// ([`crate::server::front_door`]).
pub async fn authenticate<Fut: Future<Output = Response>>(
    state: &AppState,
    mut request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let access = paths::access(request.method(), request.uri().path());
    if access == Access::Public && is_static(request.uri().path()) {
        return next(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let proxies = &state.settings.access;
    let client = client_info(peer, request.headers(), proxies, proxies.tls.is_some());
    request.extensions_mut().insert(client);

    let bearer = bearer_token(request.headers()).map(str::to_owned);
    let cookie = session_cookie(request.headers()).map(str::to_owned);
    let identity = if bearer.is_none() && cookie.is_none() {
        None
    } else {
        match state
            .auth
            .authenticate(cookie.as_deref(), bearer.as_deref(), client.ip)
            .await
        {
            Ok(identity) => identity,
            Err(error) => return ApiError::internal(error).into_response(),
        }
    };
    // A cookie that no longer names a session is dropped from the browser.
    let stale_cookie = identity.is_none() && bearer.is_none() && cookie.is_some();
    let bad_token = identity.is_none() && bearer.is_some();

    let mut response = match identity {
        Some(who) => {
            if paths::is_rest(request.uri().path()) && !is_read(request.method()) {
                if let Err(error) = who.require(Role::Operator) {
                    return ApiError::from(error).into_response();
                }
            }
            request.extensions_mut().insert(who);
            next(request).await
        }
        None => match access {
            Access::Public => next(request).await,
            Access::Page => {
                let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
                see_other(&paths::login_redirect(target))
            }
            Access::Api => unauthorized(bad_token),
        },
    };
    if stale_cookie {
        if let Ok(value) = HeaderValue::from_str(&cookie::clear_cookie(client.secure)) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The identity the gate attached to a request, if any.
pub fn identity_of(request: &Request) -> Option<&Identity> {
    request.extensions().get::<Identity>()
}

/// Whether `method` only reads (GET, HEAD, OPTIONS); anything else is a write.
pub fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Public files that need no look at the credentials at all (no database work per file).
fn is_static(path: &str) -> bool {
    path.starts_with(paths::STATIC_PREFIX)
        || matches!(path, "/favicon.svg" | "/robots.txt" | "/healthz")
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response(),
    }
}

/// `401` with a JSON [`ApiError::Unauthorized`].
fn unauthorized(bad_token: bool) -> Response {
    let message = if bad_token {
        "the API token is not valid (wrong, expired or revoked)"
    } else {
        "sign in first, or send an API token as Authorization: Bearer <token>"
    };
    ApiError::Unauthorized {
        message: message.into(),
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer plbw_x"),
        );
        assert_eq!(bearer_token(&h), Some("plbw_x"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("plb_theme=dark"));
        h.append(header::COOKIE, HeaderValue::from_static("plbw_session=a.b"));
        assert_eq!(session_cookie(&h), Some("a.b"));
    }
}
