//! The API routes: path resolution into [`Route`], the handler context [`Ctx`] (caller,
//! parameters, permission helpers) and the dispatch into the per-area handler modules.

pub mod access;
pub mod cluster;
pub mod guests;
pub mod ha;
pub mod nodes;
pub mod pools;
pub mod tasks;

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::auth::{caller_is_unrestricted, caller_privileges, Caller};
use crate::parse::Params;
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::scenario::GuestKind;
use crate::state::{Cluster, Node};

/// A resolved API route with its path arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /version`.
    Version,
    /// `GET|POST /access/ticket` (`post` tells which).
    Ticket {
        /// A POST (login/renewal) rather than the GET no-op.
        post: bool,
    },
    /// `GET /access/permissions`.
    Permissions,
    /// `GET /access`.
    AccessIndex,
    /// `GET /cluster`.
    ClusterIndex,
    /// `GET /cluster/status`.
    ClusterStatus,
    /// `GET /cluster/resources`.
    ClusterResources,
    /// `GET /cluster/options`.
    ClusterOptions,
    /// `GET /cluster/tasks`.
    ClusterTasks,
    /// `GET /cluster/ha/status/current`.
    HaStatusCurrent,
    /// `GET /cluster/ha/status/manager_status`.
    HaManagerStatus,
    /// `GET /cluster/ha/rules`.
    HaRules,
    /// `GET /cluster/ha/resources`.
    HaResources,
    /// `GET /cluster/ha/groups`.
    HaGroups,
    /// `GET /pools`.
    Pools,
    /// `GET /pools/{poolid}`.
    Pool(String),
    /// `GET /nodes`.
    Nodes,
    /// `GET /nodes/{node}`.
    NodeIndex(String),
    /// `GET /nodes/{node}/status`.
    NodeStatus(String),
    /// `GET /nodes/{node}/version`.
    NodeVersion(String),
    /// `GET /nodes/{node}/rrddata`.
    NodeRrd(String),
    /// `GET /nodes/{node}/{qemu|lxc}`.
    GuestList(String, GuestKind),
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}`.
    GuestIndex(String, GuestKind, String),
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/status/current`.
    GuestStatus(String, GuestKind, String),
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`.
    GuestConfig(String, GuestKind, String),
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/rrddata`.
    GuestRrd(String, GuestKind, String),
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/migrate` (preconditions).
    MigratePrecondition(String, GuestKind, String),
    /// `POST /nodes/{node}/{qemu|lxc}/{vmid}/migrate`.
    Migrate(String, GuestKind, String),
    /// `GET /nodes/{node}/tasks`.
    NodeTasks(String),
    /// `GET /nodes/{node}/tasks/{upid}`.
    TaskIndex(String, String),
    /// `GET /nodes/{node}/tasks/{upid}/status`.
    TaskStatus(String, String),
    /// `GET /nodes/{node}/tasks/{upid}/log`.
    TaskLog(String, String),
}

fn kind_of(seg: &str) -> Option<GuestKind> {
    match seg {
        "qemu" => Some(GuestKind::Vm),
        "lxc" => Some(GuestKind::Ct),
        _ => None,
    }
}

/// Every route the simulator serves, as `(method, path pattern below /api2/json)`. This table is
/// the router: [`Route::resolve`] only matches these entries (placeholders such as `{node}` match
/// one path segment), so tests and `scripts/pve-schema-extract.py` can enumerate it and a new
/// route cannot be left out of the schema conformance test.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/version"),
    ("GET", "/access"),
    ("GET", "/access/ticket"),
    ("POST", "/access/ticket"),
    ("GET", "/access/permissions"),
    ("GET", "/cluster"),
    ("GET", "/cluster/status"),
    ("GET", "/cluster/resources"),
    ("GET", "/cluster/options"),
    ("GET", "/cluster/tasks"),
    ("GET", "/cluster/ha/status/current"),
    ("GET", "/cluster/ha/status/manager_status"),
    ("GET", "/cluster/ha/rules"),
    ("GET", "/cluster/ha/resources"),
    ("GET", "/cluster/ha/groups"),
    ("GET", "/pools"),
    ("GET", "/pools/{poolid}"),
    ("GET", "/nodes"),
    ("GET", "/nodes/{node}"),
    ("GET", "/nodes/{node}/status"),
    ("GET", "/nodes/{node}/version"),
    ("GET", "/nodes/{node}/rrddata"),
    ("GET", "/nodes/{node}/tasks"),
    ("GET", "/nodes/{node}/tasks/{upid}"),
    ("GET", "/nodes/{node}/tasks/{upid}/status"),
    ("GET", "/nodes/{node}/tasks/{upid}/log"),
    ("GET", "/nodes/{node}/qemu"),
    ("GET", "/nodes/{node}/qemu/{vmid}"),
    ("GET", "/nodes/{node}/qemu/{vmid}/status/current"),
    ("GET", "/nodes/{node}/qemu/{vmid}/config"),
    ("GET", "/nodes/{node}/qemu/{vmid}/rrddata"),
    ("GET", "/nodes/{node}/qemu/{vmid}/migrate"),
    ("POST", "/nodes/{node}/qemu/{vmid}/migrate"),
    ("GET", "/nodes/{node}/lxc"),
    ("GET", "/nodes/{node}/lxc/{vmid}"),
    ("GET", "/nodes/{node}/lxc/{vmid}/status/current"),
    ("GET", "/nodes/{node}/lxc/{vmid}/config"),
    ("GET", "/nodes/{node}/lxc/{vmid}/rrddata"),
    ("GET", "/nodes/{node}/lxc/{vmid}/migrate"),
    ("POST", "/nodes/{node}/lxc/{vmid}/migrate"),
];

/// Matches path segments against a `ROUTES` pattern; returns the placeholder values in order.
fn match_pattern(pattern: &str, segs: &[String]) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() != segs.len() {
        return None;
    }
    let mut args = Vec::new();
    for (p, s) in parts.iter().zip(segs) {
        if p.starts_with('{') && p.ends_with('}') {
            args.push(s.clone());
        } else if p != s {
            return None;
        }
    }
    Some(args)
}

impl Route {
    /// Resolves a method and the path segments below `/api2/json` through [`ROUTES`].
    pub fn resolve(method: &str, segs: &[String]) -> Option<Self> {
        ROUTES
            .iter()
            .filter(|(m, _)| *m == method)
            .find_map(|(m, p)| match_pattern(p, segs).and_then(|a| Self::build(m, p, a)))
    }

    /// Builds the route of a `ROUTES` entry from its placeholder values.
    fn build(method: &str, pattern: &str, args: Vec<String>) -> Option<Self> {
        let mut it = args.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let route = match (method, pattern) {
            ("GET", "/version") => Self::Version,
            ("GET", "/access/ticket") => Self::Ticket { post: false },
            ("POST", "/access/ticket") => Self::Ticket { post: true },
            ("GET", "/access/permissions") => Self::Permissions,
            ("GET", "/access") => Self::AccessIndex,
            ("GET", "/cluster") => Self::ClusterIndex,
            ("GET", "/cluster/status") => Self::ClusterStatus,
            ("GET", "/cluster/resources") => Self::ClusterResources,
            ("GET", "/cluster/options") => Self::ClusterOptions,
            ("GET", "/cluster/tasks") => Self::ClusterTasks,
            ("GET", "/cluster/ha/status/current") => Self::HaStatusCurrent,
            ("GET", "/cluster/ha/status/manager_status") => Self::HaManagerStatus,
            ("GET", "/cluster/ha/rules") => Self::HaRules,
            ("GET", "/cluster/ha/resources") => Self::HaResources,
            ("GET", "/cluster/ha/groups") => Self::HaGroups,
            ("GET", "/pools") => Self::Pools,
            ("GET", "/pools/{poolid}") => Self::Pool(next()),
            ("GET", "/nodes") => Self::Nodes,
            ("GET", "/nodes/{node}") => Self::NodeIndex(next()),
            ("GET", "/nodes/{node}/status") => Self::NodeStatus(next()),
            ("GET", "/nodes/{node}/version") => Self::NodeVersion(next()),
            ("GET", "/nodes/{node}/rrddata") => Self::NodeRrd(next()),
            ("GET", "/nodes/{node}/tasks") => Self::NodeTasks(next()),
            ("GET", "/nodes/{node}/tasks/{upid}") => Self::TaskIndex(next(), next()),
            ("GET", "/nodes/{node}/tasks/{upid}/status") => Self::TaskStatus(next(), next()),
            ("GET", "/nodes/{node}/tasks/{upid}/log") => Self::TaskLog(next(), next()),
            (m, p) => {
                let rest = p.strip_prefix("/nodes/{node}/")?;
                let (kind, rest) = match rest.split_once('/') {
                    Some((k, r)) => (k, Some(r)),
                    None => (rest, None),
                };
                let kind = kind_of(kind)?;
                let node = next();
                match (m, rest) {
                    ("GET", None) => Self::GuestList(node, kind),
                    ("GET", Some("{vmid}")) => Self::GuestIndex(node, kind, next()),
                    ("GET", Some("{vmid}/status/current")) => Self::GuestStatus(node, kind, next()),
                    ("GET", Some("{vmid}/config")) => Self::GuestConfig(node, kind, next()),
                    ("GET", Some("{vmid}/rrddata")) => Self::GuestRrd(node, kind, next()),
                    ("GET", Some("{vmid}/migrate")) => {
                        Self::MigratePrecondition(node, kind, next())
                    }
                    ("POST", Some("{vmid}/migrate")) => Self::Migrate(node, kind, next()),
                    _ => return None,
                }
            }
        };
        Some(route)
    }

    /// The route pattern used for request counting, e.g. `GET /nodes/{node}/qemu`.
    pub fn pattern(&self) -> &'static str {
        use GuestKind::{Ct, Vm};
        match self {
            Self::Version => "GET /version",
            Self::Ticket { post: true } => "POST /access/ticket",
            Self::Ticket { post: false } => "GET /access/ticket",
            Self::Permissions => "GET /access/permissions",
            Self::AccessIndex => "GET /access",
            Self::ClusterIndex => "GET /cluster",
            Self::ClusterStatus => "GET /cluster/status",
            Self::ClusterResources => "GET /cluster/resources",
            Self::ClusterOptions => "GET /cluster/options",
            Self::ClusterTasks => "GET /cluster/tasks",
            Self::HaStatusCurrent => "GET /cluster/ha/status/current",
            Self::HaManagerStatus => "GET /cluster/ha/status/manager_status",
            Self::HaRules => "GET /cluster/ha/rules",
            Self::HaResources => "GET /cluster/ha/resources",
            Self::HaGroups => "GET /cluster/ha/groups",
            Self::Pools => "GET /pools",
            Self::Pool(_) => "GET /pools/{poolid}",
            Self::Nodes => "GET /nodes",
            Self::NodeIndex(_) => "GET /nodes/{node}",
            Self::NodeStatus(_) => "GET /nodes/{node}/status",
            Self::NodeVersion(_) => "GET /nodes/{node}/version",
            Self::NodeRrd(_) => "GET /nodes/{node}/rrddata",
            Self::GuestList(_, Vm) => "GET /nodes/{node}/qemu",
            Self::GuestList(_, Ct) => "GET /nodes/{node}/lxc",
            Self::GuestIndex(_, Vm, _) => "GET /nodes/{node}/qemu/{vmid}",
            Self::GuestIndex(_, Ct, _) => "GET /nodes/{node}/lxc/{vmid}",
            Self::GuestStatus(_, Vm, _) => "GET /nodes/{node}/qemu/{vmid}/status/current",
            Self::GuestStatus(_, Ct, _) => "GET /nodes/{node}/lxc/{vmid}/status/current",
            Self::GuestConfig(_, Vm, _) => "GET /nodes/{node}/qemu/{vmid}/config",
            Self::GuestConfig(_, Ct, _) => "GET /nodes/{node}/lxc/{vmid}/config",
            Self::GuestRrd(_, Vm, _) => "GET /nodes/{node}/qemu/{vmid}/rrddata",
            Self::GuestRrd(_, Ct, _) => "GET /nodes/{node}/lxc/{vmid}/rrddata",
            Self::MigratePrecondition(_, Vm, _) => "GET /nodes/{node}/qemu/{vmid}/migrate",
            Self::MigratePrecondition(_, Ct, _) => "GET /nodes/{node}/lxc/{vmid}/migrate",
            Self::Migrate(_, Vm, _) => "POST /nodes/{node}/qemu/{vmid}/migrate",
            Self::Migrate(_, Ct, _) => "POST /nodes/{node}/lxc/{vmid}/migrate",
            Self::NodeTasks(_) => "GET /nodes/{node}/tasks",
            Self::TaskIndex(..) => "GET /nodes/{node}/tasks/{upid}",
            Self::TaskStatus(..) => "GET /nodes/{node}/tasks/{upid}/status",
            Self::TaskLog(..) => "GET /nodes/{node}/tasks/{upid}/log",
        }
    }

    /// Routes reachable without authentication (`/access/ticket`).
    pub fn is_public(&self) -> bool {
        matches!(self, Self::Ticket { .. })
    }
}

/// What a handler gets: the state, the caller, the parameters and the simulated time.
pub struct Ctx<'a> {
    /// Cluster state (already ticked to `now`).
    pub cluster: &'a mut Cluster,
    /// The authenticated caller.
    pub caller: &'a Caller,
    /// Query and body parameters.
    pub params: &'a Params,
    /// Simulated time.
    pub now: f64,
}

impl Ctx<'_> {
    /// Effective privileges on `path`.
    pub fn privs(&self, path: &str, pool: Option<&str>) -> BTreeSet<&'static str> {
        caller_privileges(&self.cluster.users, self.caller, path, pool)
    }

    /// Whether the caller has `privilege` on `path`.
    pub fn has(&self, path: &str, privilege: &str) -> bool {
        caller_is_unrestricted(&self.cluster.users, self.caller)
            || self.privs(path, None).contains(privilege)
    }

    /// Whether the caller has `privilege` on guest `vmid` (pool ACLs included).
    pub fn has_vm(&self, vmid: u32, privilege: &str) -> bool {
        if caller_is_unrestricted(&self.cluster.users, self.caller) {
            return true;
        }
        let pool = self
            .cluster
            .guests
            .get(&vmid)
            .and_then(|g| g.spec.pool.clone());
        self.privs(&format!("/vms/{vmid}"), pool.as_deref())
            .contains(privilege)
    }

    /// 403 unless the caller has `privilege` on `path`.
    pub fn require(&self, path: &str, privilege: &str) -> Result<(), ApiError> {
        if self.has(path, privilege) {
            Ok(())
        } else {
            Err(ApiError::permission(path, privilege))
        }
    }

    /// 403 unless the caller has `privilege` on guest `vmid`.
    pub fn require_vm(&self, vmid: u32, privilege: &str) -> Result<(), ApiError> {
        if self.has_vm(vmid, privilege) {
            Ok(())
        } else {
            Err(ApiError::permission(&format!("/vms/{vmid}"), privilege))
        }
    }

    /// 400 for parameters the endpoint's schema does not define (path parameters are implicit).
    pub fn allow_params(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let bad: Vec<(String, String)> = self
            .params
            .keys()
            .filter(|k| !allowed.contains(k))
            .map(|k| {
                (
                    k.to_string(),
                    "property is not defined in schema and the schema does not allow additional properties"
                        .to_string(),
                )
            })
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(ApiError::params(bad))
        }
    }

    /// A boolean parameter (400 on a malformed value).
    pub fn bool_param(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.params.bool(key).map_err(|m| ApiError::param(key, m))
    }

    /// An integer parameter (400 on a malformed value).
    pub fn int_param(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.params.int(key).map_err(|m| ApiError::param(key, m))
    }

    /// An enum parameter (400 when not one of `values`).
    pub fn enum_param(&self, key: &str, values: &[&str]) -> Result<Option<String>, ApiError> {
        match self.params.get(key) {
            None => Ok(None),
            Some(v) if values.contains(&v) => Ok(Some(v.to_string())),
            Some(v) => Err(ApiError::param(
                key,
                format!(
                    "value '{v}' does not have a value in the enumeration '{}'",
                    values.join(", ")
                ),
            )),
        }
    }

    /// The node a proxied call goes to: unknown → 500 (hostname lookup), offline → 595.
    pub fn proxied_node(&self, name: &str) -> Result<Node, ApiError> {
        let node = self.known_node(name)?;
        if !node.online {
            return Err(ApiError::unreachable(name));
        }
        Ok(node)
    }

    /// A node that must exist (any state): unknown → 500 like PVE's hostname lookup.
    pub fn known_node(&self, name: &str) -> Result<Node, ApiError> {
        self.cluster.node(name).cloned().ok_or_else(|| {
            ApiError::internal(format!(
                "hostname lookup '{name}' failed - failed to get address info for: {name}: Name or service not known"
            ))
        })
    }
}

/// Parses a `{vmid}` path argument (400 like PVE's schema check).
pub fn vmid_arg(v: &str) -> Result<u32, ApiError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (100..=999_999_999).contains(n))
        .ok_or_else(|| {
            ApiError::param("vmid", format!("type check ('integer') failed - got '{v}'"))
        })
}

/// A directory index (`[{"name": ...}]` or `[{"subdir": ...}]`).
pub fn index(key: &str, names: &[&str]) -> ApiResult {
    Ok(ApiOk::data(Value::Array(
        names.iter().map(|n| json!({ key: n })).collect(),
    )))
}

/// Calls the handler of `route`.
pub fn dispatch(ctx: &mut Ctx<'_>, route: Route) -> ApiResult {
    match route {
        Route::Version => nodes::cluster_version(ctx),
        Route::Ticket { .. } => Err(ApiError::internal(
            "ticket route is handled before authentication",
        )),
        Route::Permissions => access::permissions(ctx),
        Route::AccessIndex => ctx.allow_params(&[]).and_then(|()| {
            index(
                "subdir",
                &[
                    "acl",
                    "domains",
                    "groups",
                    "openid",
                    "permissions",
                    "roles",
                    "tfa",
                    "ticket",
                    "users",
                ],
            )
        }),
        Route::ClusterIndex => ctx.allow_params(&[]).and_then(|()| {
            index(
                "name",
                &["ha", "log", "options", "resources", "status", "tasks"],
            )
        }),
        Route::ClusterStatus => cluster::status(ctx),
        Route::ClusterResources => cluster::resources(ctx),
        Route::ClusterOptions => cluster::options(ctx),
        Route::ClusterTasks => tasks::cluster_tasks(ctx),
        Route::HaStatusCurrent => ha::status_current(ctx),
        Route::HaManagerStatus => ha::manager_status(ctx),
        Route::HaRules => ha::rules(ctx),
        Route::HaResources => ha::resources(ctx),
        Route::HaGroups => ha::groups(ctx),
        Route::Pools => pools::list(ctx),
        Route::Pool(id) => pools::get(ctx, &id),
        Route::Nodes => nodes::list(ctx),
        Route::NodeIndex(n) => {
            ctx.allow_params(&[])?;
            ctx.known_node(&n)?;
            index(
                "name",
                &["lxc", "qemu", "rrddata", "status", "tasks", "version"],
            )
        }
        Route::NodeStatus(n) => nodes::status(ctx, &n),
        Route::NodeVersion(n) => nodes::version(ctx, &n),
        Route::NodeRrd(n) => nodes::rrddata(ctx, &n),
        Route::GuestList(n, k) => guests::list(ctx, &n, k),
        Route::GuestIndex(n, k, v) => guests::index(ctx, &n, k, &v),
        Route::GuestStatus(n, k, v) => guests::status(ctx, &n, k, &v),
        Route::GuestConfig(n, k, v) => guests::config(ctx, &n, k, &v),
        Route::GuestRrd(n, k, v) => guests::rrddata(ctx, &n, k, &v),
        Route::MigratePrecondition(n, k, v) => guests::migrate_precondition(ctx, &n, k, &v),
        Route::Migrate(n, k, v) => guests::migrate(ctx, &n, k, &v),
        Route::NodeTasks(n) => tasks::node_tasks(ctx, &n),
        Route::TaskIndex(n, u) => tasks::index(ctx, &n, &u),
        Route::TaskStatus(n, u) => tasks::status(ctx, &n, &u),
        Route::TaskLog(n, u) => tasks::log(ctx, &n, &u),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: &str, path: &str) -> Option<Route> {
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Route::resolve(method, &segs)
    }

    #[test]
    fn resolves() {
        assert_eq!(r("GET", "/nodes"), Some(Route::Nodes));
        assert_eq!(
            r("POST", "/nodes/pve1/lxc/200/migrate"),
            Some(Route::Migrate("pve1".into(), GuestKind::Ct, "200".into()))
        );
        assert_eq!(
            r("GET", "/nodes/pve1/tasks/UPID:pve1:00000001:00000002:6B031900:qmigrate:100:root@pam:/status"),
            Some(Route::TaskStatus(
                "pve1".into(),
                "UPID:pve1:00000001:00000002:6B031900:qmigrate:100:root@pam:".into()
            ))
        );
        assert_eq!(r("GET", "/foo"), None);
        assert_eq!(r("DELETE", "/nodes"), None);
        assert_eq!(r("GET", "/nodes/pve1/openvz"), None);
        assert_eq!(r("POST", "/nodes/pve1/qemu/100/config"), None);
    }

    #[test]
    fn every_table_entry_resolves_to_its_pattern() {
        for (method, pattern) in ROUTES {
            let path = pattern
                .replace("{node}", "pve1")
                .replace("{vmid}", "100")
                .replace("{poolid}", "prod")
                .replace(
                    "{upid}",
                    "UPID:pve1:00000001:00000002:6B031900:qmigrate:100:root@pam:",
                );
            let route = r(method, &path).unwrap_or_else(|| panic!("{method} {pattern}"));
            assert_eq!(route.pattern(), format!("{method} {pattern}"));
        }
        let mut seen = std::collections::BTreeSet::new();
        assert!(ROUTES.iter().all(|e| seen.insert(e)), "duplicate route");
    }
}
