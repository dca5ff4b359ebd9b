//! The client's address and scheme.
//!
//! The TCP peer is the client unless it is a configured trusted proxy
//! (`PROXLB_WEB_TRUSTED_PROXIES`). Only then are `X-Forwarded-For` and `X-Forwarded-Proto`
//! believed: `X-Forwarded-For` is read from the right (the entry our proxy added) to the left,
//! skipping further trusted proxies, and the first address that is not one is the client; a
//! client can prepend anything it likes, but never get past the proxies we trust. From anyone
//! else these headers are ignored: they would let a client choose the address the login rate
//! limit counts against.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, HeaderName};
use plb_backend::auth::ClientInfo;
use plb_backend::settings::access::AccessSettings;

/// `X-Forwarded-For`.
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Where a request came from: `peer` is the TCP peer (if known), `tls` whether this server
/// terminated TLS itself.
pub fn client_info(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    access: &AccessSettings,
    tls: bool,
) -> ClientInfo {
    let Some(peer) = peer.map(canonical) else {
        return ClientInfo {
            ip: None,
            secure: tls,
        };
    };
    if !access.is_trusted_proxy(peer) {
        return ClientInfo {
            ip: Some(peer),
            secure: tls,
        };
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An entry we cannot read ends the walk: what is left of it is the client's doing.
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !access.is_trusted_proxy(ip) {
            break;
        }
    }
    // The last value is the one our proxy set (proxies that append add theirs at the end).
    let forwarded_https = headers
        .get_all(FORWARDED_PROTO)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .next_back()
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    ClientInfo {
        ip: Some(client),
        secure: tls || forwarded_https,
    }
}

/// An `X-Forwarded-For` entry: an address, `addr:port`, or `[v6]:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        })
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (a dual-stack listener's IPv4 clients) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn access(proxies: &str) -> AccessSettings {
        AccessSettings {
            trusted_proxies: proxies
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().unwrap())
                .collect(),
            ..AccessSettings::default()
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_of_untrusted_peers_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let info = client_info(Some(ip("203.0.113.5")), &h, &access(""), false);
        assert_eq!(info.ip, Some(ip("203.0.113.5")));
        assert!(!info.secure);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_the_scheme() {
        let a = access("10.0.0.0/8");
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let info = client_info(Some(ip("10.0.0.2")), &h, &a, false);
        // 1.2.3.4 was the client's own claim; 198.51.100.7 is who reached the trusted chain.
        assert_eq!(info.ip, Some(ip("198.51.100.7")));
        assert!(info.secure);
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:4711")]);
        let info = client_info(Some(ip("10.0.0.2")), &h, &a, false);
        assert_eq!(info.ip, Some(ip("2001:db8::1")));
        assert!(!info.secure);
    }

    #[test]
    fn garbage_stops_the_walk_and_tls_is_always_secure() {
        let a = access("127.0.0.1");
        let h = headers(&[("x-forwarded-for", "evil, 192.0.2.1")]);
        let info = client_info(Some(ip("::ffff:127.0.0.1")), &h, &a, true);
        assert_eq!(info.ip, Some(ip("192.0.2.1")));
        assert!(info.secure);
        let info = client_info(None, &h, &a, false);
        assert_eq!(info.ip, None);
    }
}
