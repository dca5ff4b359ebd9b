//! Same-origin writes: a request that changes something must come from a page of this server.
//!
//! This is the defence against cross-site request forgery for every non-GET request (server
//! functions, JS-off forms, the REST API's future writes) and, through [`same_origin`], for the
//! live channel's WebSocket handshake. It follows the model of Go's
//! `net/http.CrossOriginProtection` (Go 1.25), which relies only on headers a page's script
//! cannot set (`Sec-Fetch-Site` and `Origin` are "forbidden request headers" in the Fetch
//! standard):
//!
//! 1. `Sec-Fetch-Site: same-origin` or `none` (typed URL, bookmark): the browser itself vouches
//!    for the request; allowed. Any other value (`same-site`, `cross-site`): refused.
//! 2. No `Sec-Fetch-Site` (older browsers) but an `Origin`: allowed only when its host and port
//!    equal the request's own (`Host`, or the HTTP/2 `:authority`).
//! 3. Neither header: allowed. Every browser that can be tricked into a cross-site POST sends at
//!    least one of them (Origin on every cross-origin POST since 2020 in all major engines,
//!    Sec-Fetch-Site since Chrome 76, Firefox 90, Safari 16.4), so a request without either
//!    comes from a non-browser client (curl, scripts, tests) that no attacker's page controls.
//!
//! The scheme of `Origin` is not compared: the server speaks plain HTTP and often sits behind a
//! TLS-terminating proxy, so `https://plb.example` arriving as `Host: plb.example` is this
//! server. An attacker who could serve a page on the very same host and port over the other
//! scheme already controls the network path; that is out of scope for CSRF protection.
//!
//! Requests with `Authorization: Bearer …` are exempt (scripts): a browser never attaches that
//! header on its own, and a page on another site can only add it after a CORS preflight, which
//! this server never grants. Exemption is from this check only; whoever reads the token must
//! still validate it.

use std::future::Future;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, Method, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The `Sec-Fetch-Site` request header (not in `http`'s list of well-known names).
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Why a request passed the check (for logs and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// GET, HEAD, OPTIONS and TRACE change nothing.
    SafeMethod,
    /// It carries `Authorization: Bearer …`.
    Bearer,
    /// `Sec-Fetch-Site` says `same-origin` or `none`.
    FetchSite,
    /// `Origin` names this server.
    Origin,
    /// Neither `Origin` nor `Sec-Fetch-Site`: not a browser.
    NotABrowser,
}

/// Why a request was refused. The text is safe to show (it only echoes what the client sent
/// about itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `Sec-Fetch-Site` named another origin.
    FetchSite(String),
    /// `Origin` named another origin (or was unreadable, or `null`).
    Origin(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::FetchSite(site) => write!(
                f,
                "cross-origin request refused: the browser reports Sec-Fetch-Site {site:?}"
            ),
            Refused::Origin(origin) => write!(
                f,
                "cross-origin request refused: Origin {origin:?} is not this server"
            ),
        }
    }
}

/// Whether a request of `method` may proceed: safe methods and Bearer-authenticated requests
/// always, everything else only when [`same_origin`] allows it.
pub fn check(method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Allowed, Refused> {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Ok(Allowed::SafeMethod);
    }
    if has_bearer(headers) {
        return Ok(Allowed::Bearer);
    }
    same_origin(uri, headers)
}

/// Whether the request comes from a page of this server (or from no browser at all), whatever
/// its method: the check for WebSocket handshakes, which are GETs.
pub fn same_origin(uri: &Uri, headers: &HeaderMap) -> Result<Allowed, Refused> {
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        let site = site.to_str().unwrap_or_default().trim();
        return if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") {
            Ok(Allowed::FetchSite)
        } else {
            Err(Refused::FetchSite(printable(site)))
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(Allowed::NotABrowser);
    };
    let origin = origin.to_str().unwrap_or_default();
    let own = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()));
    match own {
        Some(own) if origin_matches_host(origin, own) => Ok(Allowed::Origin),
        _ => Err(Refused::Origin(printable(origin))),
    }
}

/// Whether the serialized origin `origin` (`scheme://host[:port]`) names the authority `host`
/// (`host[:port]`, as in the `Host` header). Hosts compare case-insensitively; a port the origin
/// leaves out is its scheme's default, which the `Host` header may state or leave out.
pub fn origin_matches_host(origin: &str, host: &str) -> bool {
    let Ok(origin) = origin.parse::<Uri>() else {
        return false;
    };
    // A serialized origin has no path, query or user info: anything else is not an origin.
    let (Some(scheme), Some(authority)) = (origin.scheme_str(), origin.authority()) else {
        return false;
    };
    if origin.path() != "/" || origin.query().is_some() || authority.as_str().contains('@') {
        return false;
    }
    let Ok(own) = host.trim().parse::<axum::http::uri::Authority>() else {
        return false;
    };
    if own.as_str().contains('@') || !authority.host().eq_ignore_ascii_case(own.host()) {
        return false;
    }
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let origin_port = authority.port_u16().or(default_port);
    match own.port_u16() {
        Some(port) => origin_port == Some(port),
        None => authority.port_u16().is_none() && default_port.is_some(),
    }
}

/// Whether `Authorization` carries a Bearer token (scheme names are case-insensitive).
fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| {
            let mut parts = value.trim().splitn(2, ' ');
            let scheme = parts.next().unwrap_or_default();
            let token = parts.next().unwrap_or_default().trim();
            scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()
        })
}

/// The client's header value, bounded and without control characters, for the error text.
fn printable(value: &str) -> String {
    const LIMIT: usize = 100;
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(LIMIT)
        .collect()
}

/// The middleware: runs [`check`] on every request; a refused one is answered `403` with an
/// [`ApiError::Forbidden`] body and never reaches `next`, the rest of its way
/// ([`super::front_door`]).
pub async fn require_same_origin<Fut: Future<Output = Response>>(
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    match check(request.method(), request.uri(), request.headers()) {
        Ok(_) => next(request).await,
        Err(refused) => {
            tracing::info!(
                method = %request.method(),
                path = %request.uri().path(),
                reason = %refused,
                "cross-origin write refused"
            );
            ApiError::Forbidden {
                message: refused.to_string(),
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn post(pairs: &[(&str, &str)]) -> Result<Allowed, Refused> {
        check(&Method::POST, &Uri::from_static("/sfn/x"), &headers(pairs))
    }

    #[test]
    fn safe_methods_pass_whatever_their_origin() {
        let evil = headers(&[("origin", "https://evil.example"), ("host", "plb:3000")]);
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(
                check(&method, &Uri::from_static("/"), &evil),
                Ok(Allowed::SafeMethod)
            );
        }
        assert!(check(&Method::DELETE, &Uri::from_static("/"), &evil).is_err());
        assert!(check(&Method::PUT, &Uri::from_static("/"), &evil).is_err());
    }

    #[test]
    fn a_post_from_this_servers_page_passes() {
        assert_eq!(
            post(&[("origin", "http://plb:3000"), ("host", "plb:3000")]),
            Ok(Allowed::Origin)
        );
        // Behind a TLS proxy that keeps the Host header.
        assert_eq!(
            post(&[("origin", "https://PLB.example"), ("host", "plb.example")]),
            Ok(Allowed::Origin)
        );
    }

    #[test]
    fn a_post_from_another_site_is_refused() {
        for (origin, host) in [
            ("https://evil.example", "plb:3000"),
            ("http://plb:3001", "plb:3000"),
            ("http://plb", "plb:3000"),
            ("http://plb:3000", "plb"),
            ("http://plb.evil.example:3000", "plb:3000"),
            ("null", "plb:3000"),
            ("", "plb:3000"),
            ("http://plb:3000/path", "plb:3000"),
            ("http://user@plb:3000", "plb:3000"),
        ] {
            let refused = post(&[("origin", origin), ("host", host)]);
            assert!(
                matches!(refused, Err(Refused::Origin(_))),
                "{origin} vs {host}: {refused:?}"
            );
        }
        // An origin without any Host to compare with is not trusted either.
        assert!(post(&[("origin", "http://plb:3000")]).is_err());
    }

    #[test]
    fn fetch_metadata_decides_when_the_browser_sends_it() {
        assert_eq!(
            post(&[("sec-fetch-site", "same-origin")]),
            Ok(Allowed::FetchSite)
        );
        assert_eq!(post(&[("sec-fetch-site", "none")]), Ok(Allowed::FetchSite));
        for site in ["same-site", "cross-site", "bogus"] {
            assert_eq!(
                post(&[("sec-fetch-site", site)]),
                Err(Refused::FetchSite(site.into()))
            );
        }
        // Sec-Fetch-Site wins over Origin: a proxy that rewrites Host breaks the Origin
        // comparison, but not the browser's own statement.
        assert_eq!(
            post(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://plb.example"),
                ("host", "127.0.0.1:3000"),
            ]),
            Ok(Allowed::FetchSite)
        );
        assert!(post(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://plb:3000"),
            ("host", "plb:3000"),
        ])
        .is_err());
    }

    #[test]
    fn clients_that_are_not_browsers_pass() {
        assert_eq!(post(&[]), Ok(Allowed::NotABrowser));
        assert_eq!(post(&[("host", "plb:3000")]), Ok(Allowed::NotABrowser));
    }

    #[test]
    fn bearer_requests_are_exempt() {
        assert_eq!(
            post(&[
                ("authorization", "Bearer abc.def"),
                ("origin", "https://evil.example"),
                ("host", "plb:3000"),
            ]),
            Ok(Allowed::Bearer)
        );
        assert_eq!(
            post(&[
                ("authorization", "bearer x"),
                ("sec-fetch-site", "cross-site")
            ]),
            Ok(Allowed::Bearer)
        );
        // Other schemes and empty tokens are not exempt.
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Bearerx y"] {
            assert!(
                post(&[
                    ("authorization", value),
                    ("origin", "https://evil.example"),
                    ("host", "plb:3000"),
                ])
                .is_err(),
                "{value}"
            );
        }
    }

    #[test]
    fn http2_requests_compare_with_the_authority() {
        let uri: Uri = "http://plb:3000/sfn/x".parse().unwrap();
        let with = |origin| headers(&[("origin", origin)]);
        assert_eq!(
            same_origin(&uri, &with("http://plb:3000")),
            Ok(Allowed::Origin)
        );
        assert!(same_origin(&uri, &with("http://evil:3000")).is_err());
    }

    #[test]
    fn origins_and_hosts_match_by_host_and_effective_port() {
        assert!(origin_matches_host(
            "http://127.0.0.1:3000",
            "127.0.0.1:3000"
        ));
        assert!(origin_matches_host("http://[::1]:3000", "[::1]:3000"));
        assert!(origin_matches_host(
            "https://plb.example",
            "plb.example:443"
        ));
        assert!(origin_matches_host("http://plb.example", "plb.example:80"));
        assert!(!origin_matches_host(
            "https://plb.example",
            "plb.example:80"
        ));
        assert!(!origin_matches_host("http://[::1]:3000", "[::2]:3000"));
        assert!(!origin_matches_host("ftp://plb.example", "plb.example"));
        assert!(!origin_matches_host("plb.example", "plb.example"));
        assert!(!origin_matches_host("http://plb.example", "not a host"));
    }

    #[test]
    fn refusals_echo_a_bounded_printable_value() {
        let long = format!("https://{}.example", "a".repeat(500));
        let Err(refused) = post(&[("origin", &long), ("host", "plb")]) else {
            panic!("allowed");
        };
        assert!(refused.to_string().len() < 200, "{refused}");
    }
}
