//! The simulator's own admin endpoint under `/_sim/` on the API listener (which only ever binds
//! loopback): plain JSON, no PVE authentication, never counted and never faulted. It exposes the
//! same operations as [`crate::Simulator`] to out-of-process users (the demo, shell scripts,
//! browser tests):
//!
//! | method | path | body | reply |
//! |---|---|---|---|
//! | `GET` | `/_sim/requests` | | `{"GET /nodes": 2, ...}` |
//! | `DELETE` | `/_sim/requests` | | `{"cleared": <routes>}` |
//! | `GET` | `/_sim/faults` | | `[<fault>, ...]` |
//! | `POST` | `/_sim/faults` | `<fault>` | `{"added": <fault>, "faults": <n>}` |
//! | `DELETE` | `/_sim/faults` | | `{"cleared": <n>}` |
//! | `POST` | `/_sim/nodes/{node}/online`, `/offline` | | `{"node": .., "status": ..}` |
//! | `POST` | `/_sim/tickets/expire` | | `{"expired": true}` |
//! | `GET` | `/_sim/state` | | [`StateSummary`] |
//!
//! `<fault>` is `{"route": "GET /nodes/{node}/qemu" | "*", "status"?: 503, "message"?: "..",
//! "count"?: 2, "latency_ms"?: 500, "reset"?: false}` (`count` absent or `null` = until cleared;
//! in listings `count` is the remaining number). Errors are `{"error": "..."}` with 400 (bad
//! body), 404 (unknown path or node) or 405 (wrong method).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::{App, FaultRule};
use crate::routes::cluster::guest_status;

/// A node in [`StateSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSummary {
    /// Node name.
    pub name: String,
    /// `online` or `offline`.
    pub status: String,
    /// pve-manager version.
    pub version: String,
    /// HA maintenance mode.
    pub maintenance: bool,
    /// Number of guests on it.
    pub guests: usize,
}

/// A guest in [`StateSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuestSummary {
    /// VM/CT id.
    pub vmid: u32,
    /// `qemu` or `lxc`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Name.
    pub name: String,
    /// Current node.
    pub node: String,
    /// `running`, `stopped` or `unknown` (node offline).
    pub status: String,
    /// Config lock (`migrate` while migrating).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
}

/// A short summary of the simulated cluster (`GET /_sim/state`, [`crate::Simulator::state`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateSummary {
    /// Simulated time (UNIX seconds).
    pub time: f64,
    /// Nodes in `/nodes` order.
    pub nodes: Vec<NodeSummary>,
    /// Guests by vmid.
    pub guests: Vec<GuestSummary>,
    /// Tasks still running.
    pub tasks_running: usize,
    /// Active injected faults.
    pub faults: usize,
}

/// Builds the state summary (the cluster is brought up to date with the clock first).
pub fn state_summary(app: &App) -> StateSummary {
    let now = app.clock.now();
    let faults = app.faults().len();
    let mut cluster = app.cluster();
    cluster.tick(now);
    let nodes = cluster
        .nodes
        .iter()
        .map(|n| NodeSummary {
            name: n.name.clone(),
            status: if n.online { "online" } else { "offline" }.to_string(),
            version: n.version.clone(),
            maintenance: n.ha_maintenance,
            guests: cluster
                .guests
                .values()
                .filter(|g| g.node() == n.name)
                .count(),
        })
        .collect();
    let guests = cluster
        .guests
        .values()
        .map(|g| GuestSummary {
            vmid: g.spec.vmid,
            kind: g.spec.kind.api_type().to_string(),
            name: g.spec.name.clone(),
            node: g.node().to_string(),
            status: guest_status(&cluster, g).to_string(),
            lock: g.lock.clone(),
        })
        .collect();
    StateSummary {
        time: now,
        nodes,
        guests,
        tasks_running: cluster.tasks.iter().filter(|t| t.running()).count(),
        faults,
    }
}

/// The wire form of a [`FaultRule`] (`POST /_sim/faults`, `GET /_sim/faults`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `*`, `GET *`, `GET /nodes/{node}/qemu` or a concrete `GET /nodes/pve2/qemu`.
    pub route: String,
    /// HTTP status to answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Error message (default: PVE-like for the status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Number of requests it applies to (absent/null = until cleared).
    #[serde(default)]
    pub count: Option<u32>,
    /// Added latency in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Drop the connection without an answer.
    #[serde(default)]
    pub reset: bool,
}

impl FaultSpec {
    /// Validates and converts to a [`FaultRule`].
    pub fn into_fault(self) -> Result<FaultRule, String> {
        let route = self.route.trim().to_string();
        let valid_route = route == "*"
            || route.split_once(' ').is_some_and(|(m, p)| {
                ["GET", "POST", "PUT", "DELETE"].contains(&m.to_ascii_uppercase().as_str())
                    && (p.trim() == "*" || p.trim().starts_with('/'))
            });
        if !valid_route {
            return Err(format!(
                "route must be '*', '<METHOD> *' or '<METHOD> /path' (e.g. 'GET /nodes/{{node}}/qemu'), got {route:?}"
            ));
        }
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err(format!("status must be between 400 and 599, got {s}"));
            }
        }
        if self.status.is_none() && self.latency_ms == 0 && !self.reset {
            return Err("a fault needs status, latency_ms or reset".to_string());
        }
        if self.count == Some(0) {
            return Err("count must be at least 1 (omit it for 'until cleared')".to_string());
        }
        Ok(FaultRule {
            route,
            status: self.status.unwrap_or(0),
            message: self.message.unwrap_or_default(),
            count: self.count.unwrap_or(0),
            latency: Duration::from_millis(self.latency_ms),
            reset: self.reset,
        })
    }

    /// The wire form of a fault (message filled in, remaining count).
    pub fn from_fault(f: &FaultRule) -> Self {
        Self {
            route: f.route.clone(),
            status: (f.status != 0).then_some(f.status),
            message: (f.status != 0).then(|| f.effective_message()),
            count: (f.count != 0).then_some(f.count),
            latency_ms: u64::try_from(f.latency.as_millis()).unwrap_or(u64::MAX),
            reset: f.reset,
        }
    }
}

fn reply(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    if let Ok(v) = "application/json;charset=UTF-8".parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

fn ok(body: Value) -> Response<Full<Bytes>> {
    reply(StatusCode::OK, &body)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(status, &json!({ "error": message.into() }))
}

fn method_not_allowed(allowed: &str) -> Response<Full<Bytes>> {
    let mut resp = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed (allowed: {allowed})"),
    );
    if let Ok(v) = allowed.parse() {
        resp.headers_mut().insert(hyper::header::ALLOW, v);
    }
    resp
}

/// Whether `path` belongs to the admin endpoint.
pub fn is_admin_path(path: &str) -> bool {
    path == "/_sim" || path.starts_with("/_sim/")
}

/// Handles one admin request.
pub fn handle(app: &App, method: &str, path: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let segs: Vec<&str> = path
        .trim_start_matches("/_sim")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = method.to_ascii_uppercase();
    match (segs.as_slice(), method.as_str()) {
        (["requests"], "GET") => ok(json!(app.counters().clone())),
        (["requests"], "DELETE") => {
            let mut counters = app.counters();
            let n = counters.len();
            counters.clear();
            ok(json!({ "cleared": n }))
        }
        (["requests"], _) => method_not_allowed("GET, DELETE"),
        (["faults"], "GET") => {
            let list: Vec<FaultSpec> = app.faults().iter().map(FaultSpec::from_fault).collect();
            ok(json!(list))
        }
        (["faults"], "POST") => {
            let spec: FaultSpec = match serde_json::from_slice(body) {
                Ok(s) => s,
                Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid fault: {e}")),
            };
            match spec.into_fault() {
                Ok(fault) => {
                    let shown = FaultSpec::from_fault(&fault);
                    let mut faults = app.faults();
                    faults.push(fault);
                    ok(json!({ "added": shown, "faults": faults.len() }))
                }
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            }
        }
        (["faults"], "DELETE") => {
            let mut faults = app.faults();
            let n = faults.len();
            faults.clear();
            ok(json!({ "cleared": n }))
        }
        (["faults"], _) => method_not_allowed("GET, POST, DELETE"),
        (["nodes", node, state @ ("online" | "offline")], "POST") => {
            let online = *state == "online";
            let now = app.clock.now();
            let mut cluster = app.cluster();
            cluster.tick(now);
            if cluster.set_node_online(node, online) {
                ok(json!({ "node": node, "status": state }))
            } else {
                error(StatusCode::NOT_FOUND, format!("unknown node '{node}'"))
            }
        }
        (["nodes", _, "online" | "offline"], _) => method_not_allowed("POST"),
        (["tickets", "expire"], "POST") => {
            app.expire_tickets();
            ok(json!({ "expired": true }))
        }
        (["tickets", "expire"], _) => method_not_allowed("POST"),
        (["state"], "GET") => ok(json!(state_summary(app))),
        (["state"], _) => method_not_allowed("GET"),
        _ => error(
            StatusCode::NOT_FOUND,
            format!("unknown admin endpoint '{path}'"),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::app::Fault;

    #[test]
    fn fault_specs_validate_and_round_trip() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"route": "GET /nodes/{node}/qemu", "status": 503, "count": 2, "latency_ms": 20}"#,
        )
        .unwrap();
        let f = spec.clone().into_fault().unwrap();
        assert_eq!(f.status, 503);
        assert_eq!(f.count, 2);
        assert_eq!(f.latency, Duration::from_millis(20));
        assert_eq!(f.effective_message(), "Service Unavailable");
        let back = FaultSpec::from_fault(&f);
        assert_eq!(back.message.as_deref(), Some("Service Unavailable"));
        assert_eq!(back.count, Some(2));
        for bad in [
            r#"{"route": "nodes", "status": 500}"#,
            r#"{"route": "GET /nodes"}"#,
            r#"{"route": "GET /nodes", "status": 200}"#,
            r#"{"route": "GET /nodes", "status": 500, "count": 0}"#,
        ] {
            let spec: FaultSpec = serde_json::from_str(bad).unwrap();
            assert!(spec.into_fault().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<FaultSpec>(r#"{"route": "*", "colour": 1}"#).is_err());
    }

    #[test]
    fn fault_route_matching() {
        let f = FaultRule::from(Fault::error("GET /nodes/{node}/qemu", 500, ""));
        assert!(f.matches("GET", "GET /nodes/{node}/qemu", "/nodes/pve1/qemu"));
        assert!(!f.matches("GET", "GET /nodes/{node}/lxc", "/nodes/pve1/lxc"));
        let f = FaultRule::from(Fault::error("GET /nodes/pve2/qemu", 500, ""));
        assert!(f.matches("GET", "GET /nodes/{node}/qemu", "/nodes/pve2/qemu"));
        assert!(!f.matches("GET", "GET /nodes/{node}/qemu", "/nodes/pve1/qemu"));
        assert!(FaultRule::connection_reset("*").matches("POST", "POST /access/ticket", "/x"));
        let f = FaultRule::latency("post *", Duration::from_millis(1));
        assert!(f.matches("POST", "POST /access/ticket", "/access/ticket"));
        assert!(!f.matches("GET", "GET /nodes", "/nodes"));
    }
}
