//! Parsers for what arrives on the wire: query strings, form bodies, JSON bodies, cookies and the
//! `PVEAPIToken` authorization header. All of them are total: malformed input yields `None` or an
//! error value, never a panic (see the proptests at the bottom).

use std::collections::BTreeMap;

/// Decodes one `application/x-www-form-urlencoded` component: `+` becomes a space and `%XX`
/// escapes are decoded. Invalid escapes are kept literally, invalid UTF-8 is replaced (U+FFFD).
pub fn percent_decode(input: &str, plus_is_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a query string or a form body (`a=1&b=x%20y`) into ordered key/value pairs. Empty
/// pieces are skipped; a key without `=` gets an empty value. A later duplicate key wins when the
/// pairs are collected into a map, as in PVE's CGI parameter handling.
pub fn parse_form(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(piece, true), String::new()),
        })
        .collect()
}

/// Error of [`parse_json_params`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonParamsError {
    /// The body is not valid JSON.
    #[error("malformed JSON body: {0}")]
    Malformed(String),
    /// The body is JSON but not an object.
    #[error("JSON body must be an object")]
    NotAnObject,
}

/// Parses an `application/json` request body into string parameters the way PVE's JSON schema
/// validation sees them: booleans become `1`/`0`, numbers their decimal text, arrays and objects
/// their JSON text, `null` is dropped.
pub fn parse_json_params(body: &[u8]) -> Result<Vec<(String, String)>, JsonParamsError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| JsonParamsError::Malformed(e.to_string()))?;
    let serde_json::Value::Object(map) = value else {
        return Err(JsonParamsError::NotAnObject);
    };
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| {
            let s = match v {
                serde_json::Value::Null => return None,
                serde_json::Value::Bool(b) => if b { "1" } else { "0" }.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            Some((k, s))
        })
        .collect())
}

/// Returns the value of cookie `name` from a `Cookie:` header value (`a=1; PVEAuthCookie=...`).
/// The value is percent-decoded, as browsers and proxmoxer may encode the ticket's `:`.
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == name).then(|| percent_decode(v.trim(), false))
    })
}

/// A parsed `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenHeader {
    /// `user@realm`.
    pub userid: String,
    /// The token name (after `!`).
    pub tokenid: String,
    /// The secret (after the `=` that follows the token name).
    pub secret: String,
}

impl ApiTokenHeader {
    /// The full token id `user@realm!tokenid`.
    pub fn full_id(&self) -> String {
        format!("{}!{}", self.userid, self.tokenid)
    }
}

/// Parses the value of an `Authorization` header of the form `PVEAPIToken=USER@REALM!ID=SECRET`
/// (PVE also accepts a space instead of the first `=`). Returns `None` for any other shape.
pub fn parse_api_token_header(value: &str) -> Option<ApiTokenHeader> {
    let rest = value.trim().strip_prefix("PVEAPIToken")?;
    let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix(' '))?;
    let (full_id, secret) = rest.split_once('=')?;
    let (userid, tokenid) = full_id.split_once('!')?;
    let (user, realm) = userid.split_once('@')?;
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if user.is_empty() || !valid_name(realm) || !valid_name(tokenid) || secret.is_empty() {
        return None;
    }
    Some(ApiTokenHeader {
        userid: userid.to_string(),
        tokenid: tokenid.to_string(),
        secret: secret.to_string(),
    })
}

/// Returns the ticket of an `Authorization: PVEAuthCookie=<ticket>` header, if that is its form.
pub fn parse_auth_cookie_header(value: &str) -> Option<String> {
    let ticket = value.trim().strip_prefix("PVEAuthCookie=")?;
    (!ticket.is_empty()).then(|| percent_decode(ticket, false))
}

/// Splits a request path below `/api2/json` into decoded segments. Returns `None` when the path
/// does not start with `/api2/json`. Empty segments (double slashes) are dropped, as PVE does.
pub fn api_segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/api2/json")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(
        rest.split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect(),
    )
}

/// Request parameters (query string plus body), with helpers that validate them the way PVE's
/// JSON schema does and produce its `errors` map.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// Builds parameters from pairs; later pairs win over earlier ones.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            map: pairs.into_iter().collect(),
        }
    }

    /// The raw value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Iterates over all parameter names.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Interprets a parameter as a PVE boolean (`1`, `0`, `true`, `false`, `yes`, `no`, `on`,
    /// `off`). `Err` carries PVE's message for a malformed value.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(Some(true)),
                "0" | "false" | "no" | "off" => Ok(Some(false)),
                _ => Err(format!("type check ('boolean') failed - got '{v}'")),
            },
        }
    }

    /// Interprets a parameter as an integer. `Err` carries PVE's message for a malformed value.
    pub fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("type check ('integer') failed - got '{v}'")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn form_decoding() {
        let pairs = parse_form("target=pve2&online=1&with-local-disks=0&x=a+b%21&flag");
        assert_eq!(
            pairs,
            vec![
                ("target".into(), "pve2".into()),
                ("online".into(), "1".into()),
                ("with-local-disks".into(), "0".into()),
                ("x".into(), "a b!".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("UPID%3Apve1%3A", false), "UPID:pve1:");
    }

    #[test]
    fn json_params() {
        let p =
            parse_json_params(br#"{"target":"pve2","online":true,"bwlimit":10,"n":null}"#).unwrap();
        assert_eq!(
            p,
            vec![
                ("bwlimit".into(), "10".into()),
                ("online".into(), "1".into()),
                ("target".into(), "pve2".into()),
            ]
        );
        assert_eq!(parse_json_params(b"[1]"), Err(JsonParamsError::NotAnObject));
        assert!(parse_json_params(b"{").is_err());
    }

    #[test]
    fn token_header() {
        let t = parse_api_token_header("PVEAPIToken=root@pam!proxlb=1234-abcd").unwrap();
        assert_eq!(t.userid, "root@pam");
        assert_eq!(t.tokenid, "proxlb");
        assert_eq!(t.secret, "1234-abcd");
        assert_eq!(t.full_id(), "root@pam!proxlb");
        assert!(parse_api_token_header("PVEAPIToken=root@pam=secret").is_none());
        assert!(parse_api_token_header("PVEAPIToken=rootpam!x=secret").is_none());
        assert!(parse_api_token_header("PVEAPIToken=root@pam!x=").is_none());
        assert!(parse_api_token_header("Bearer abc").is_none());
    }

    #[test]
    fn cookies_and_segments() {
        let h = "foo=bar; PVEAuthCookie=PVE%3Aroot@pam%3A65000000::sig; x=y";
        assert_eq!(
            cookie_value(h, "PVEAuthCookie").unwrap(),
            "PVE:root@pam:65000000::sig"
        );
        assert!(cookie_value("foo=bar", "PVEAuthCookie").is_none());
        assert_eq!(
            api_segments("/api2/json/nodes//pve1/qemu").unwrap(),
            vec!["nodes", "pve1", "qemu"]
        );
        assert_eq!(api_segments("/api2/json").unwrap(), Vec::<String>::new());
        assert!(api_segments("/api2/jsonx/nodes").is_none());
        assert!(api_segments("/foo").is_none());
    }

    #[test]
    fn params_types() {
        let p = Params::from_pairs(parse_form("a=1&b=off&c=x&d=42&e=4x"));
        assert_eq!(p.bool("a"), Ok(Some(true)));
        assert_eq!(p.bool("b"), Ok(Some(false)));
        assert!(p.bool("c").is_err());
        assert_eq!(p.bool("zz"), Ok(None));
        assert_eq!(p.int("d"), Ok(Some(42)));
        assert!(p.int("e").is_err());
    }

    proptest! {
        #[test]
        fn form_parser_never_panics(s in "\\PC*") {
            let _ = parse_form(&s);
            let _ = percent_decode(&s, true);
        }

        #[test]
        fn form_parser_handles_escape_soup(s in "[%+=&a-f0-9]{0,64}") {
            let pairs = parse_form(&s);
            prop_assert!(pairs.len() <= s.split('&').count());
            for (k, v) in pairs {
                // a literal '&' only appears in a decoded key or value when it was escaped
                prop_assert!(!(k.contains('&') || v.contains('&')) || s.contains("%26"));
                prop_assert!(!k.contains('+') || s.contains("%2B") || s.contains("%2b"));
            }
        }

        #[test]
        fn form_roundtrip(k in "[a-z-]{1,12}", v in "\\PC{0,24}") {
            let enc: String = v.bytes().map(|b| format!("%{b:02X}")).collect();
            let pairs = parse_form(&format!("{k}={enc}"));
            prop_assert_eq!(pairs, vec![(k, v)]);
        }

        #[test]
        fn token_header_never_panics(s in "\\PC*") {
            let _ = parse_api_token_header(&s);
            let _ = parse_api_token_header(&format!("PVEAPIToken={s}"));
            let _ = parse_auth_cookie_header(&s);
            let _ = cookie_value(&s, "PVEAuthCookie");
        }

        #[test]
        fn token_header_roundtrip(u in "[a-z][a-z0-9]{0,8}", r in "[a-z]{2,5}", t in "[a-z][a-z0-9_-]{0,8}", sec in "[A-Za-z0-9-]{1,36}") {
            let h = parse_api_token_header(&format!("PVEAPIToken={u}@{r}!{t}={sec}")).unwrap();
            prop_assert_eq!(h.userid, format!("{u}@{r}"));
            prop_assert_eq!(h.tokenid, t);
            prop_assert_eq!(h.secret, sec);
        }

        #[test]
        fn json_and_segments_never_panic(b in proptest::collection::vec(any::<u8>(), 0..128), s in "\\PC*") {
            let _ = parse_json_params(&b);
            let _ = api_segments(&s);
            let _ = api_segments(&format!("/api2/json/{s}"));
            let p = Params::from_pairs(parse_form(&s));
            for k in p.keys() {
                let _ = p.bool(k);
                let _ = p.int(k);
            }
        }
    }
}
