//! The transport-independent request pipeline: path and parameter parsing, routing (unknown →
//! 501), request counting, injected faults, authentication (ticket + CSRF or API token) and the
//! call into the route handler with the cluster state brought up to date.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;

use crate::auth::{Caller, TicketSigner};
use crate::clock::Clock;
use crate::parse::{
    api_segments, cookie_value, parse_api_token_header, parse_auth_cookie_header, parse_form,
    parse_json_params, Params,
};
use crate::response::{ApiError, ApiResult};
use crate::routes::{self, Ctx, Route};
use crate::state::Cluster;

/// One HTTP request, reduced to what the API looks at.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// `GET`, `POST`, `PUT`, `DELETE`, ...
    pub method: String,
    /// Path, e.g. `/api2/json/nodes`.
    pub path: String,
    /// Raw query string (without `?`).
    pub query: Option<String>,
    /// `Cookie` header.
    pub cookie: Option<String>,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `CSRFPreventionToken` header.
    pub csrf: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Body.
    pub body: Bytes,
}

/// A fault to inject: the next `count` requests matching `method` and route `pattern` (as in
/// [`crate::Simulator::request_counts`], e.g. `GET /nodes/{node}/qemu`) fail with `status` and
/// `message` (after authentication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Route pattern including the method, e.g. `GET /nodes`.
    pub route: String,
    /// HTTP status to answer.
    pub status: u16,
    /// Error message.
    pub message: String,
    /// How many requests it applies to.
    pub count: u32,
}

/// Shared simulator state behind the HTTP server.
#[derive(Debug)]
pub struct App {
    /// Simulated clock.
    pub clock: Arc<Clock>,
    /// Cluster state.
    pub cluster: Mutex<Cluster>,
    /// Ticket/CSRF signer.
    pub signer: TicketSigner,
    /// Requests per route pattern.
    pub counters: Mutex<BTreeMap<String, u64>>,
    /// Pending injected faults.
    pub faults: Mutex<Vec<Fault>>,
    /// Delay before answering 401 (PVE waits 3 s).
    pub unauthorized_delay: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    /// Locks the cluster state.
    pub fn cluster(&self) -> MutexGuard<'_, Cluster> {
        lock(&self.cluster)
    }

    /// Locks the request counters.
    pub fn counters(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        lock(&self.counters)
    }

    /// Locks the fault list.
    pub fn faults(&self) -> MutexGuard<'_, Vec<Fault>> {
        lock(&self.faults)
    }

    /// Handles one request and returns the route pattern it matched (or `None`) and the result.
    pub fn handle(&self, req: &ApiRequest) -> (Option<&'static str>, ApiResult) {
        let method = req.method.to_ascii_uppercase();
        let Some(segments) = api_segments(&req.path) else {
            return (None, Err(ApiError::not_implemented(&method, &req.path)));
        };
        let rel = format!("/{}", segments.join("/"));
        let Some(route) = Route::resolve(&method, &segments) else {
            self.count(&format!("{method} <unknown>"));
            return (None, Err(ApiError::not_implemented(&method, &rel)));
        };
        let pattern = route.pattern();
        self.count(pattern);
        (
            Some(pattern),
            self.handle_route(req, &method, route, pattern),
        )
    }

    fn count(&self, key: &str) {
        *self.counters().entry(key.to_string()).or_insert(0) += 1;
    }

    fn handle_route(
        &self,
        req: &ApiRequest,
        method: &str,
        route: Route,
        pattern: &str,
    ) -> ApiResult {
        let params = self.params(req, method)?;
        let now = self.clock.now();
        if route.is_public() {
            self.take_fault(pattern)?;
            let mut cluster = self.cluster();
            cluster.tick(now);
            return routes::access::ticket(&mut cluster, &self.signer, &params, now, method);
        }
        let caller = self.authenticate(req, method, now)?;
        self.take_fault(pattern)?;
        let mut cluster = self.cluster();
        cluster.tick(now);
        let mut ctx = Ctx {
            cluster: &mut cluster,
            caller: &caller,
            params: &params,
            now,
        };
        routes::dispatch(&mut ctx, route)
    }

    fn take_fault(&self, pattern: &str) -> Result<(), ApiError> {
        let mut faults = self.faults();
        if let Some(i) = faults
            .iter()
            .position(|f| f.route == pattern && f.count > 0)
        {
            let f = &mut faults[i];
            f.count -= 1;
            let err = ApiError::new(f.status, f.message.clone());
            if f.count == 0 {
                faults.remove(i);
            }
            return Err(err);
        }
        Ok(())
    }

    fn params(&self, req: &ApiRequest, method: &str) -> Result<Params, ApiError> {
        let mut pairs = req.query.as_deref().map(parse_form).unwrap_or_default();
        if method != "GET" && !req.body.is_empty() {
            let is_json = req
                .content_type
                .as_deref()
                .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
            if is_json {
                let body =
                    parse_json_params(&req.body).map_err(|e| ApiError::new(400, e.to_string()))?;
                pairs.extend(body);
            } else {
                let text = String::from_utf8_lossy(&req.body);
                pairs.extend(parse_form(&text));
            }
        }
        Ok(Params::from_pairs(pairs))
    }

    /// Authenticates like pveproxy: a `PVEAuthCookie` (cookie or `Authorization` header) wins over
    /// an API token; non-GET requests with a ticket need a valid `CSRFPreventionToken`.
    pub fn authenticate(
        &self,
        req: &ApiRequest,
        method: &str,
        now: f64,
    ) -> Result<Caller, ApiError> {
        let ticket = req
            .cookie
            .as_deref()
            .and_then(|c| cookie_value(c, "PVEAuthCookie"))
            .or_else(|| {
                req.authorization
                    .as_deref()
                    .and_then(parse_auth_cookie_header)
            });
        if let Some(ticket) = ticket {
            let userid = self
                .signer
                .verify_ticket(&ticket, now)
                .ok_or_else(|| ApiError::unauthorized("permission denied - invalid PVE ticket"))?;
            let cluster = self.cluster();
            if !cluster.users.get(&userid).is_some_and(|u| u.enable) {
                return Err(ApiError::unauthorized(
                    "permission denied - invalid PVE ticket",
                ));
            }
            if method != "GET" {
                let ok = req
                    .csrf
                    .as_deref()
                    .is_some_and(|t| self.signer.verify_csrf(t, &userid, now));
                if !ok {
                    return Err(ApiError::unauthorized(
                        "Permission denied - invalid csrf token",
                    ));
                }
            }
            return Ok(Caller {
                userid,
                tokenid: None,
                by_ticket: true,
            });
        }
        if let Some(auth) = req.authorization.as_deref() {
            if auth.trim_start().starts_with("PVEAPIToken") {
                let token = parse_api_token_header(auth)
                    .ok_or_else(|| ApiError::unauthorized("invalid token value!"))?;
                let cluster = self.cluster();
                let valid = cluster
                    .users
                    .get(&token.userid)
                    .filter(|u| u.enable)
                    .and_then(|u| u.tokens.get(&token.tokenid))
                    .is_some_and(|t| t.secret == token.secret);
                if !valid {
                    return Err(ApiError::unauthorized("invalid token value!"));
                }
                return Ok(Caller {
                    userid: token.userid,
                    tokenid: Some(token.tokenid),
                    by_ticket: false,
                });
            }
        }
        Err(ApiError::unauthorized("No ticket"))
    }
}
