//! The session cookie on the wire: `plbw_session`, HttpOnly (no script reads it), SameSite=Strict
//! (no other site's page sends it), Path=/, `Secure` when the browser reached us over HTTPS
//! (directly, or through a trusted proxy that said so), `Max-Age` the session's absolute timeout
//! (the idle timeout is enforced by the server).

use std::net::IpAddr;
use std::time::Duration;

pub use plb_domain::auth::SESSION_COOKIE;

/// Where a request came from, as the server's middleware worked it out (the peer address, or
/// the client address a trusted proxy forwarded) and whether the browser used HTTPS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address, if known.
    pub ip: Option<IpAddr>,
    /// Whether the browser's connection is HTTPS (cookies get `Secure`).
    pub secure: bool,
}

/// The `Set-Cookie` value that stores session `value` for at most `max_age`.
pub fn set_cookie(value: &str, secure: bool, max_age: Duration) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that makes the browser forget the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", secure, Duration::ZERO)
}

/// The session cookie's value in the `Cookie` header values `headers` (`a=1; plbw_session=…`),
/// if there is a non-empty one.
pub fn find<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_https() {
        let c = set_cookie("abc.def", true, Duration::from_secs(43_200));
        assert_eq!(
            c,
            "plbw_session=abc.def; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure"
        );
        let plain = set_cookie("abc.def", false, Duration::from_secs(60));
        assert!(!plain.contains("Secure"), "{plain}");
        assert!(clear_cookie(false).starts_with("plbw_session=; "));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_is_found_among_other_cookies() {
        assert_eq!(find(["plb_theme=dark; plbw_session=x.y"]), Some("x.y"));
        assert_eq!(find(["a=1", "plbw_session=\"q.r\""]), Some("q.r"));
        assert_eq!(find(["plbw_session="]), None);
        assert_eq!(find(["xplbw_session=z"]), None);
        assert_eq!(find(Vec::<&str>::new()), None);
    }
}
