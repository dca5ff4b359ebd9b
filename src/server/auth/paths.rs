//! Which requests need credentials, and how a refusal looks for each kind of path.
//!
//! Default deny: a path is public only if listed here; everything else needs a session or a
//! token, so a new page, server function or endpoint cannot slip through unprotected (the
//! route-table walk in `tests/auth.rs` checks every route against this).

use axum::http::Method;
use plb_domain::auth::{LOGIN_ACTION, LOGIN_PATH, LOGOUT_ACTION};

/// How a request without credentials is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed.
    Public,
    /// A page: `303` to the login page, which comes back here after login.
    Page,
    /// An API (REST, server function, live channel, form action): `401` with a JSON
    /// `ApiError::Unauthorized`.
    Api,
}

/// Paths anyone may request.
pub const PUBLIC_PATHS: &[&str] = &[
    // Liveness for load balancers and the container's health check.
    "/healthz",
    LOGIN_PATH,
    LOGIN_ACTION,
    // Logging out needs no valid session (it clears a stale cookie too).
    LOGOUT_ACTION,
    // The login page's server functions: they reveal nothing without a session.
    "/sfn/current_user",
    "/sfn/login_info",
    // Static files of `public/` (checked against that folder by a test).
    "/favicon.svg",
    "/robots.txt",
];

/// Path prefix of the built JS, WASM and CSS (public: the login page needs them).
pub const STATIC_PREFIX: &str = "/pkg/";

/// How `method path` is treated.
pub fn access(method: &Method, path: &str) -> Access {
    if path.starts_with(STATIC_PREFIX) || PUBLIC_PATHS.contains(&path) {
        return Access::Public;
    }
    let api = path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/sfn/")
        || path.starts_with("/ws/")
        || path == plb_domain::live::PATH
        || path.starts_with("/auth/");
    // Only a browser's GET (or HEAD) of a page can be sent to the login page and back.
    if api || !matches!(*method, Method::GET | Method::HEAD) {
        Access::Api
    } else {
        Access::Page
    }
}

/// Whether `path` is a REST endpoint, whose writes need an operator in any case.
pub fn is_rest(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Whether `next` (from a login form or a redirect) is a path on this server: it starts with
/// one `/`, is not `//host` or `/\host` (which browsers treat as another host), and has no
/// control characters. Anything else would make the login an open redirect.
pub fn is_local_path(next: &str) -> bool {
    let Some(rest) = next.strip_prefix('/') else {
        return false;
    };
    !rest.starts_with('/')
        && !rest.starts_with('\\')
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\')
}

/// `next` if it is a local path (see [`is_local_path`]) and not an auth action, else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(next) if is_local_path(next) && !next.starts_with("/auth/") => next.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Percent-encodes `value` for a query parameter (everything but unreserved characters and
/// `/`).
pub fn query_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `/login?next=<path>` for a page that needs a login (`/login` alone for the home page).
pub fn login_redirect(path_and_query: &str) -> String {
    let next = safe_next(Some(path_and_query));
    if next == "/" {
        LOGIN_PATH.to_owned()
    } else {
        format!("{LOGIN_PATH}?next={}", query_encode(&next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allow_list_is_public() {
        for path in [
            "/healthz",
            "/login",
            "/auth/login",
            "/auth/logout",
            "/pkg/proxlb_web.wasm",
            "/favicon.svg",
            "/sfn/current_user",
        ] {
            assert_eq!(access(&Method::GET, path), Access::Public, "{path}");
        }
        for path in [
            "/",
            "/nodes",
            "/guests/pve1",
            "/nope",
            "/login/x",
            "/healthz/x",
        ] {
            assert_eq!(access(&Method::GET, path), Access::Page, "{path}");
            assert_eq!(access(&Method::POST, path), Access::Api, "{path}");
        }
        for path in [
            "/api",
            "/api/nodes",
            "/sfn/cluster_overview",
            "/ws/live",
            "/auth/logout-everywhere",
        ] {
            assert_eq!(access(&Method::GET, path), Access::Api, "{path}");
        }
    }

    #[test]
    fn next_must_stay_on_this_server() {
        for ok in ["/", "/nodes", "/guests?q=web&sort=cpu", "/nodes/pve1#x"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil",
            "javascript:alert(1)",
            "/a\nb",
            "",
            "nodes",
            "/auth/logout",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn login_redirects_carry_the_page_encoded() {
        assert_eq!(login_redirect("/"), "/login");
        assert_eq!(login_redirect("/nodes"), "/login?next=/nodes");
        assert_eq!(
            login_redirect("/guests?q=a b&x=1"),
            "/login?next=/guests%3Fq%3Da%20b%26x%3D1"
        );
        assert_eq!(login_redirect("//evil.example"), "/login");
    }
}
