//! Response shapes: PVE's `{"data": ...}` success envelope (with optional `total`) and its errors
//! (HTTP status whose reason phrase is the message, body `{"data":null,"message":"...\n",
//! "errors":{...}}`), plus the headers pveproxy sends.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

/// A successful API result.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOk {
    /// The `data` payload.
    pub data: Data,
    /// `total`, for paged lists (tasks, task log).
    pub total: Option<usize>,
}

/// The `data` payload of an [`ApiOk`].
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// A JSON tree built by the handler.
    Tree(Value),
    /// One JSON value, already serialized from typed data: large listings (10,000 guests in
    /// `/cluster/resources`) skip building a map per entry.
    Serialized(Vec<u8>),
}

impl ApiOk {
    /// `{"data": data}`.
    pub fn data(data: Value) -> Self {
        Self {
            data: Data::Tree(data),
            total: None,
        }
    }

    /// `{"data": data}`, serialized straight from `data`.
    pub fn serialized<T: serde::Serialize + ?Sized>(data: &T) -> ApiResult {
        serde_json::to_vec(data)
            .map(|json| Self {
                data: Data::Serialized(json),
                total: None,
            })
            .map_err(|error| ApiError::internal(error.to_string()))
    }

    /// `{"data": data, "total": total}`.
    pub fn with_total(data: Value, total: usize) -> Self {
        Self {
            data: Data::Tree(data),
            total: Some(total),
        }
    }
}

/// An API error as PVE reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (may be a PVE pseudo-status such as 595).
    pub status: u16,
    /// Message (also the reason phrase, first line).
    pub message: String,
    /// Parameter errors (`errors` in the body).
    pub errors: BTreeMap<String, String>,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
        }
    }

    /// 400 `Parameter verification failed.` with one parameter error.
    pub fn param(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::params([(param.into(), message.into())])
    }

    /// 400 `Parameter verification failed.` with several parameter errors.
    pub fn params(errors: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            status: 400,
            message: "Parameter verification failed.".to_string(),
            errors: errors.into_iter().collect(),
        }
    }

    /// 401 with a message.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }

    /// 403 `Permission check failed (<path>, <priv>)`.
    pub fn permission(path: &str, privilege: &str) -> Self {
        Self::new(
            403,
            format!("Permission check failed ({path}, {privilege})"),
        )
    }

    /// 500 with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// 501 `Method '<METHOD> /<path>' not implemented`.
    pub fn not_implemented(method: &str, path: &str) -> Self {
        Self::new(501, format!("Method '{method} {path}' not implemented"))
    }

    /// 595, what pveproxy answers when the node a call is proxied to is unreachable.
    pub fn unreachable(node: &str) -> Self {
        let _ = node;
        Self::new(595, "No route to host")
    }
}

/// Result of a route handler.
pub type ApiResult = Result<ApiOk, ApiError>;

fn reason_phrase(message: &str) -> Option<hyper::ext::ReasonPhrase> {
    let line: String = message
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| *c == '\t' || (' '..='~').contains(c))
        .collect();
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    hyper::ext::ReasonPhrase::try_from(line.as_bytes().to_vec()).ok()
}

fn base(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        hyper::header::SERVER,
        "pve-api-daemon/3.0".parse().expect_static(),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        "max-age=0".parse().expect_static(),
    );
    h.insert(hyper::header::PRAGMA, "no-cache".parse().expect_static());
    h.insert(
        hyper::header::CONTENT_TYPE,
        "application/json;charset=UTF-8".parse().expect_static(),
    );
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    if let Ok(v) = now.parse() {
        h.insert(hyper::header::DATE, v);
    }
    if let Ok(v) = now.parse() {
        h.insert(hyper::header::EXPIRES, v);
    }
    resp
}

/// A successful answer as pveproxy wraps it: `{"data": …, "total": n}` (`total` only for listings
/// that have it).
#[derive(serde::Serialize)]
struct Envelope<'a> {
    data: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<usize>,
}

/// Turns a handler result into the HTTP response pveproxy would send.
pub fn render(result: ApiResult) -> Response<Full<Bytes>> {
    match result {
        Ok(ApiOk {
            data: Data::Tree(data),
            total,
        }) => {
            // Serialized straight into bytes, without moving `data` into an envelope `Value`
            // (and not through `Display`, whose formatter adapter was a third of the demo's
            // simulator time at 10,000 guests).
            let envelope = Envelope { data: &data, total };
            match serde_json::to_vec(&envelope) {
                Ok(bytes) => base(StatusCode::OK, bytes),
                Err(error) => render(Err(ApiError::internal(error.to_string()))),
            }
        }
        Ok(ApiOk {
            data: Data::Serialized(json),
            total,
        }) => {
            let mut body = Vec::with_capacity(json.len() + 32);
            body.extend_from_slice(b"{\"data\":");
            body.extend_from_slice(&json);
            if let Some(total) = total {
                body.extend_from_slice(format!(",\"total\":{total}").as_bytes());
            }
            body.push(b'}');
            base(StatusCode::OK, body)
        }
        Err(err) => {
            let status =
                StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut body = json!({ "data": null, "message": format!("{}\n", err.message) });
            if !err.errors.is_empty() {
                if let Some(obj) = body.as_object_mut() {
                    obj.insert("errors".into(), json!(err.errors));
                }
            }
            let mut resp = base(status, body.to_string().into_bytes());
            if let Some(reason) = reason_phrase(&err.message) {
                resp.extensions_mut().insert(reason);
            }
            resp
        }
    }
}

/// `HeaderValue` parsing of compile-time constants cannot fail; this avoids `unwrap`.
trait ExpectStatic {
    fn expect_static(self) -> hyper::header::HeaderValue;
}

impl ExpectStatic for Result<hyper::header::HeaderValue, hyper::header::InvalidHeaderValue> {
    fn expect_static(self) -> hyper::header::HeaderValue {
        self.unwrap_or_else(|_| hyper::header::HeaderValue::from_static(""))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(resp: Response<Full<Bytes>>) -> Value {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn error_shape() {
        let resp = render(Err(ApiError::param("target", "target is local node.")));
        assert_eq!(resp.status(), 400);
        assert_eq!(
            resp.extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .unwrap()
                .as_bytes(),
            b"Parameter verification failed."
        );
        assert_eq!(resp.headers()["server"], "pve-api-daemon/3.0");
        let b = body(resp).await;
        assert_eq!(
            b,
            json!({"data": null, "message": "Parameter verification failed.\n",
                   "errors": {"target": "target is local node."}})
        );
        let resp = render(Err(ApiError::unreachable("pve3")));
        assert_eq!(resp.status().as_u16(), 595);
    }

    #[tokio::test]
    async fn ok_shape() {
        let b = body(render(Ok(ApiOk::with_total(json!([1]), 1)))).await;
        assert_eq!(b, json!({"data": [1], "total": 1}));
        let b = body(render(Ok(ApiOk::data(json!({"a": 1}))))).await;
        assert_eq!(b, json!({"data": {"a": 1}}), "no total where there is none");
        let b = body(render(ApiOk::serialized(&[("a", 1)]))).await;
        assert_eq!(
            b,
            json!({"data": [["a", 1]]}),
            "typed data, serialized once"
        );
        let mut listing = ApiOk::serialized(&[1, 2]).unwrap();
        listing.total = Some(7);
        let b = body(render(Ok(listing))).await;
        assert_eq!(b, json!({"data": [1, 2], "total": 7}));
    }
}
