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

/// An error fault: the next `count` requests matching `route` (after authentication) are answered
/// with `status` and `message` instead of running the handler. For added latency and dropped
/// connections use [`FaultRule`], which every `Fault` converts into (see there for the `route`
/// forms). [`crate::Simulator::inject_fault`] takes either.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fault {
    /// Route pattern including the method, e.g. `GET /nodes`, or `*` (see [`FaultRule::route`]).
    pub route: String,
    /// HTTP status to answer.
    pub status: u16,
    /// Error message (empty = a PVE-like default for `status`).
    pub message: String,
    /// How many requests it applies to; 0 = every one until cleared.
    pub count: u32,
}

impl Fault {
    /// Matching requests are answered with `status` and `message` (empty = PVE-like default)
    /// until cleared; limit it with [`Fault::times`].
    pub fn error(route: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Self {
            route: route.into(),
            status,
            message: message.into(),
            count: 0,
        }
    }

    /// Applies to the next `n` matching requests only (0 = until cleared).
    pub fn times(mut self, n: u32) -> Self {
        self.count = n;
        self
    }

    /// The same error, answered after `latency`.
    pub fn with_latency(self, latency: std::time::Duration) -> FaultRule {
        FaultRule::from(self).with_latency(latency)
    }
}

/// A fault in general: added latency, a dropped connection (`reset`) or an error answer (`status`
/// ≠ 0), latency combining with either.
///
/// `route` is one of
/// - `*`: every API request that resolves to a route;
/// - `GET *`: every request of that method;
/// - a route pattern as in [`crate::Simulator::request_counts`], e.g. `GET /nodes/{node}/qemu`;
/// - a concrete path, e.g. `GET /nodes/pve2/qemu` (only that node).
///
/// Build one with [`FaultRule::latency`], [`FaultRule::connection_reset`], from a [`Fault`], or
/// as a struct literal with `..FaultRule::default()`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultRule {
    /// Route pattern including the method, e.g. `GET /nodes`, or `*`.
    pub route: String,
    /// HTTP status to answer (e.g. 500, 503, 595); 0 = no error answer.
    pub status: u16,
    /// Error message; empty = a PVE-like default for `status`.
    pub message: String,
    /// How many matching requests it applies to; 0 = every one until it is cleared.
    pub count: u32,
    /// Latency added before the answer (or before the connection is dropped).
    pub latency: std::time::Duration,
    /// Drop the connection without an answer (the handler does not run).
    pub reset: bool,
}

impl From<Fault> for FaultRule {
    fn from(f: Fault) -> Self {
        Self {
            route: f.route,
            status: f.status,
            message: f.message,
            count: f.count,
            ..Self::default()
        }
    }
}

impl FaultRule {
    /// Matching requests are answered normally, `latency` later (until cleared).
    pub fn latency(route: impl Into<String>, latency: std::time::Duration) -> Self {
        Self {
            route: route.into(),
            latency,
            ..Self::default()
        }
    }

    /// Matching requests are not answered: the connection is dropped (until cleared).
    pub fn connection_reset(route: impl Into<String>) -> Self {
        Self {
            route: route.into(),
            reset: true,
            ..Self::default()
        }
    }

    /// Applies to the next `n` matching requests only (0 = until cleared).
    pub fn times(mut self, n: u32) -> Self {
        self.count = n;
        self
    }

    /// Adds latency.
    pub fn with_latency(mut self, latency: std::time::Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Whether the fault applies to a request of `method` with route `pattern` (e.g.
    /// `GET /nodes/{node}/qemu`) and path `rel` below `/api2/json` (e.g. `/nodes/pve1/qemu`).
    pub fn matches(&self, method: &str, pattern: &str, rel: &str) -> bool {
        let route = self.route.trim();
        if route == "*" {
            return true;
        }
        let Some((m, p)) = route.split_once(' ') else {
            return false;
        };
        if !m.eq_ignore_ascii_case(method) {
            return false;
        }
        let p = p.trim();
        let p = p.strip_prefix("/api2/json").unwrap_or(p);
        p == "*" || format!("{method} {p}") == pattern || p.trim_end_matches('/') == rel
    }

    /// The message answered: `message`, or a PVE-like default for `status`.
    pub fn effective_message(&self) -> String {
        if !self.message.is_empty() {
            return self.message.clone();
        }
        match self.status {
            500 => "Internal Server Error".to_string(),
            501 => "Not Implemented".to_string(),
            502 => "Bad Gateway".to_string(),
            503 => "Service Unavailable".to_string(),
            504 => "Gateway Timeout".to_string(),
            595 => "No route to host".to_string(),
            596 => "Connection timed out".to_string(),
            s => hyper::StatusCode::from_u16(s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("injected fault")
                .to_string(),
        }
    }
}

/// What the transport has to do with a handled request.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// The route pattern it matched (`None` for unknown paths).
    pub pattern: Option<&'static str>,
    /// The API result (for a reset: a placeholder error that is never sent).
    pub result: ApiResult,
    /// Injected latency to wait before answering.
    pub latency: Duration,
    /// Drop the connection instead of answering.
    pub reset: bool,
}

/// The effect of the injected faults on one request.
#[derive(Debug, Default)]
struct FaultHit {
    latency: Duration,
    reset: bool,
    error: Option<ApiError>,
}

impl FaultHit {
    /// The error to answer instead of running the handler (reset: a placeholder never sent).
    fn check(&self) -> Result<(), ApiError> {
        if self.reset {
            return Err(ApiError::new(
                599,
                "connection reset by injected fault (never sent)",
            ));
        }
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
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
    /// Active injected faults.
    pub faults: Mutex<Vec<FaultRule>>,
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
    pub fn faults(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        lock(&self.faults)
    }

    /// Handles one request and returns the route pattern it matched (or `None`) and the result
    /// (injected latency and connection resets are left to the transport, see
    /// [`App::handle_full`]; a reset comes back as an error here).
    pub fn handle(&self, req: &ApiRequest) -> (Option<&'static str>, ApiResult) {
        let h = self.handle_full(req);
        (h.pattern, h.result)
    }

    /// Handles one request, including the injected faults' latency and resets.
    pub fn handle_full(&self, req: &ApiRequest) -> Handled {
        let method = req.method.to_ascii_uppercase();
        let plain = |pattern, result| Handled {
            pattern,
            result,
            latency: Duration::ZERO,
            reset: false,
        };
        let Some(segments) = api_segments(&req.path) else {
            return plain(None, Err(ApiError::not_implemented(&method, &req.path)));
        };
        let rel = format!("/{}", segments.join("/"));
        let Some(route) = Route::resolve(&method, &segments) else {
            self.count(&format!("{method} <unknown>"));
            return plain(None, Err(ApiError::not_implemented(&method, &rel)));
        };
        let pattern = route.pattern();
        self.count(pattern);
        let mut hit = FaultHit::default();
        let result = self.handle_route(req, &method, &rel, route, pattern, &mut hit);
        Handled {
            pattern: Some(pattern),
            result,
            latency: hit.latency,
            reset: hit.reset,
        }
    }

    fn count(&self, key: &str) {
        *self.counters().entry(key.to_string()).or_insert(0) += 1;
    }

    fn handle_route(
        &self,
        req: &ApiRequest,
        method: &str,
        rel: &str,
        route: Route,
        pattern: &str,
        hit: &mut FaultHit,
    ) -> ApiResult {
        let params = self.params(req, method)?;
        let now = self.clock.now();
        if route.is_public() {
            *hit = self.take_faults(method, pattern, rel);
            hit.check()?;
            let mut cluster = self.cluster();
            cluster.tick(now);
            return routes::access::ticket(&mut cluster, &self.signer, &params, now, method);
        }
        let caller = self.authenticate(req, method, now)?;
        *hit = self.take_faults(method, pattern, rel);
        hit.check()?;
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

    /// Consumes one use of every active fault matching the request and combines them: the
    /// latencies add up, any reset resets, the first error status answers.
    fn take_faults(&self, method: &str, pattern: &str, rel: &str) -> FaultHit {
        let mut faults = self.faults();
        let mut hit = FaultHit::default();
        faults.retain_mut(|f| {
            if !f.matches(method, pattern, rel) {
                return true;
            }
            hit.latency += f.latency;
            hit.reset |= f.reset;
            if f.status != 0 && hit.error.is_none() {
                hit.error = Some(ApiError::new(f.status, f.effective_message()));
            }
            match f.count {
                0 => true,
                1 => false,
                _ => {
                    f.count -= 1;
                    true
                }
            }
        });
        hit
    }

    /// Every issued ticket and CSRF token becomes invalid now.
    pub fn expire_tickets(&self) {
        self.signer.rotate();
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
