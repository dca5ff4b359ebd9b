//! `/cluster/ha`: status (`current`, `manager_status`), rules (PVE 9), resources and the
//! deprecated groups endpoint.

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::clock::format_ctime;
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::scenario::{Affinity, HaRuleType};
use crate::state::{Cluster, Guest};

fn ha_guests(cluster: &Cluster) -> impl Iterator<Item = &Guest> {
    cluster.guests.values().filter(|g| g.spec.ha)
}

fn service_state(g: &Guest) -> String {
    g.ha_state.clone().unwrap_or_else(|| "started".to_string())
}

fn request_state(g: &Guest) -> &'static str {
    if g.running() {
        "started"
    } else {
        "stopped"
    }
}

/// `GET /cluster/ha/status/current` (`Sys.Audit` on `/`).
pub fn status_current(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    ctx.require("/", "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    let now = ctx.now.floor() as i64;
    let mut out = Vec::new();
    let local = cluster
        .local_node()
        .map_or(String::new(), |n| n.name.clone());
    let quorate = cluster.quorate();
    out.push(json!({"id": "quorum", "type": "quorum", "node": local,
                    "status": if quorate { "OK" } else { "No quorum on node" },
                    "quorate": u8::from(quorate)}));
    let any_ha = ha_guests(cluster).next().is_some();
    if let Some(master) = cluster.ha_master() {
        let status = if any_ha {
            format!("{} (active, {})", master.name, format_ctime(now))
        } else {
            format!("{} (idle, {})", master.name, format_ctime(now))
        };
        out.push(
            json!({"id": "master", "type": "master", "node": master.name,
                        "status": status, "timestamp": now}),
        );
        if master.version_tuple >= (9, 1, 0) {
            out.push(
                json!({"id": "fencing", "type": "fencing", "node": master.name,
                            "status": "armed (CRM watchdog active)", "armed-state": "armed",
                            "resource_mode": "freeze"}),
            );
        }
    }
    for n in &cluster.nodes {
        let has_services = ha_guests(cluster).any(|g| g.node() == n.name);
        let state = if !n.online {
            "old timestamp - dead?".to_string()
        } else if n.ha_maintenance {
            "maintenance mode".to_string()
        } else if has_services {
            "active".to_string()
        } else {
            "idle".to_string()
        };
        let watchdog = if has_services || n.ha_maintenance {
            "watchdog active"
        } else {
            "watchdog inactive"
        };
        let ts = if n.online { now } else { now - 600 };
        out.push(
            json!({"id": format!("lrm:{}", n.name), "type": "lrm", "node": n.name,
                        "status": format!("{} ({state}, {watchdog}, {})", n.name, format_ctime(ts)),
                        "timestamp": ts}),
        );
    }
    let pve9 = pve9(cluster);
    for g in ha_guests(cluster) {
        let sid = g.sid();
        let state = service_state(g);
        let mut entry = json!({"id": format!("service:{sid}"), "type": "service", "sid": sid,
                    "node": g.node(), "crm_state": state, "state": state,
                    "request_state": request_state(g), "max_restart": 1, "max_relocate": 1,
                    "status": format!("{sid} ({}, {state})", g.node())});
        if let (true, Some(obj)) = (pve9, entry.as_object_mut()) {
            obj.insert("failback".into(), json!(1));
        }
        out.push(entry);
    }
    Ok(ApiOk::data(Value::Array(out)))
}

/// `GET /cluster/ha/status/manager_status` (`Sys.Audit` on `/`).
pub fn manager_status(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    ctx.require("/", "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    let now = ctx.now.floor() as i64;
    let master = cluster
        .ha_master()
        .map_or(String::new(), |n| n.name.clone());
    let node_status: Map<String, Value> = cluster
        .nodes
        .iter()
        .map(|n| {
            let s = if !n.online {
                "unknown"
            } else if n.ha_maintenance {
                "maintenance"
            } else {
                "online"
            };
            (n.name.clone(), json!(s))
        })
        .collect();
    let service_status: Map<String, Value> = ha_guests(cluster)
        .map(|g| {
            (
                g.sid(),
                json!({"node": g.node(), "state": service_state(g), "running": u8::from(g.running()),
                       "uid": format!("{:022x}", g.key as u128 * 31)}),
            )
        })
        .collect();
    let lrm_status: Map<String, Value> = cluster
        .nodes
        .iter()
        .filter(|n| n.online)
        .map(|n| {
            let mode = if n.ha_maintenance { "maintenance" } else { "active" };
            (
                n.name.clone(),
                json!({"mode": mode, "state": if ha_guests(cluster).any(|g| g.node() == n.name) { "active" } else { "wait_for_agent_lock" },
                       "results": {}, "timestamp": now}),
            )
        })
        .collect();
    let quorum_node = cluster
        .local_node()
        .map_or(String::new(), |n| n.name.clone());
    Ok(ApiOk::data(json!({
        "manager_status": {"master_node": master, "node_status": node_status,
                           "service_status": service_status, "timestamp": now},
        "lrm_status": lrm_status,
        "quorum": {"node": quorum_node, "quorate": if cluster.quorate() { "1" } else { "0" }},
    })))
}

fn pve9(cluster: &Cluster) -> bool {
    cluster.local_node().is_some_and(|n| n.is_pve9())
}

/// Whether the HA groups have been migrated to node-affinity rules: PVE 9's HA manager does that
/// once every node runs PVE 9. Until then node-affinity rules of the scenario are HA groups.
fn groups_migrated(cluster: &Cluster) -> bool {
    cluster.nodes.iter().all(crate::state::Node::is_pve9)
}

/// The HA group name of a node-affinity rule (`ha-group-<name>` is what the migration creates).
fn group_name(rule: &str) -> &str {
    rule.strip_prefix("ha-group-").unwrap_or(rule)
}

/// The HA group of a guest (pre-migration): the node-affinity rule that contains it.
fn group_of(cluster: &Cluster, sid: &str) -> Option<String> {
    cluster
        .ha_rules
        .iter()
        .find(|r| r.kind == HaRuleType::NodeAffinity && r.resources.iter().any(|s| s == sid))
        .map(|r| group_name(&r.rule).to_string())
}

/// `GET /cluster/ha/rules[?type=...][&resource=...]` (PVE 9; 501 on older answering nodes).
pub fn rules(ctx: &mut Ctx<'_>) -> ApiResult {
    if !pve9(ctx.cluster) {
        return Err(ApiError::not_implemented("GET", "/cluster/ha/rules"));
    }
    ctx.allow_params(&["type", "resource"])?;
    let kind = ctx.enum_param("type", &["node-affinity", "resource-affinity"])?;
    ctx.require("/", "Sys.Audit")?;
    let resource = ctx.params.get("resource").map(str::to_string);
    let cluster = &*ctx.cluster;
    let digest = format!(
        "{:040x}",
        u128::from(crate::noise::key(&format!("{:?}", cluster.ha_rules)))
    );
    let migrated = groups_migrated(cluster);
    let out: Vec<Value> = cluster
        .ha_rules
        .iter()
        .enumerate()
        .filter(|(_, r)| migrated || r.kind != HaRuleType::NodeAffinity)
        .filter(|(_, r)| kind.as_deref().is_none_or(|k| k == r.kind.as_str()))
        .filter(|(_, r)| resource.as_ref().is_none_or(|s| r.resources.contains(s)))
        .map(|(i, r)| {
            let mut m = Map::new();
            m.insert("rule".into(), json!(r.rule));
            m.insert("type".into(), json!(r.kind.as_str()));
            m.insert("resources".into(), json!(r.resources.join(",")));
            match r.kind {
                HaRuleType::NodeAffinity => {
                    m.insert("nodes".into(), json!(r.nodes.join(",")));
                    if r.strict {
                        m.insert("strict".into(), json!(1));
                    }
                }
                HaRuleType::ResourceAffinity => {
                    let a = match r.affinity {
                        Some(Affinity::Negative) => "negative",
                        _ => "positive",
                    };
                    m.insert("affinity".into(), json!(a));
                }
            }
            if r.disable {
                m.insert("disable".into(), json!(1));
            }
            if let Some(c) = &r.comment {
                m.insert("comment".into(), json!(c));
            }
            m.insert("digest".into(), json!(digest));
            m.insert("order".into(), json!(i + 1));
            Value::Object(m)
        })
        .collect();
    Ok(ApiOk::data(Value::Array(out)))
}

/// `GET /cluster/ha/resources[?type=vm|ct]` (`Sys.Audit` on `/`).
pub fn resources(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&["type"])?;
    let kind = ctx.enum_param("type", &["vm", "ct"])?;
    ctx.require("/", "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    let digest = format!("{:040x}", u128::from(crate::noise::key("ha-resources")));
    let (pve9, migrated) = (pve9(cluster), groups_migrated(cluster));
    let out: Vec<Value> = ha_guests(cluster)
        .filter(|g| kind.as_deref().is_none_or(|k| k == g.spec.kind.ha_prefix()))
        .map(|g| {
            let mut m = Map::new();
            m.insert("sid".into(), json!(g.sid()));
            m.insert("type".into(), json!(g.spec.kind.ha_prefix()));
            m.insert("state".into(), json!(request_state(g)));
            if pve9 {
                m.insert("failback".into(), json!(1));
            }
            m.insert("max_restart".into(), json!(1));
            m.insert("max_relocate".into(), json!(1));
            if !migrated {
                if let Some(group) = group_of(cluster, &g.sid()) {
                    m.insert("group".into(), json!(group));
                }
            }
            m.insert("digest".into(), json!(digest));
            Value::Object(m)
        })
        .collect();
    Ok(ApiOk::data(Value::Array(out)))
}

/// `GET /cluster/ha/groups`: 500 once the groups were migrated to rules (every node on PVE 9);
/// before that (PVE 8, mixed 8/9 clusters) the scenario's node-affinity rules as HA groups.
pub fn groups(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    ctx.require("/", "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    if pve9(cluster) && groups_migrated(cluster) {
        return Err(ApiError::internal(
            "cannot index groups: ha groups have been migrated to rules",
        ));
    }
    let digest = format!(
        "{:040x}",
        u128::from(crate::noise::key(&format!("groups {:?}", cluster.ha_rules)))
    );
    let out: Vec<Value> = cluster
        .ha_rules
        .iter()
        .filter(|r| r.kind == HaRuleType::NodeAffinity)
        .map(|r| {
            let mut m = Map::new();
            m.insert("group".into(), json!(group_name(&r.rule)));
            m.insert("type".into(), json!("group"));
            m.insert("nodes".into(), json!(r.nodes.join(",")));
            m.insert("restricted".into(), json!(u8::from(r.strict)));
            m.insert("nofailback".into(), json!(0));
            if let Some(c) = &r.comment {
                m.insert("comment".into(), json!(c));
            }
            m.insert("digest".into(), json!(digest));
            Value::Object(m)
        })
        .collect();
    Ok(ApiOk::data(Value::Array(out)))
}
