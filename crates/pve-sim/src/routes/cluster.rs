//! `/cluster`: status (quorum), resources (guests, nodes, storage, pools, SDN; filtered by the
//! caller's privileges) and datacenter options (including CRS settings).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::metrics::{guest_usage, guests_by_node, node_root_used, node_usage_among};
use crate::response::{ApiOk, ApiResult};
use crate::scenario::GuestKind;
use crate::state::{Cluster, Guest, Node};

/// Cumulative network/disk counters of a guest after `uptime` seconds (mean rates × time, so
/// they only grow).
pub fn counters(g: &Guest, uptime: u64) -> [u64; 4] {
    let activity = f64::from(g.spec.cpus) * g.spec.cpu * uptime as f64;
    [
        (200_000.0 * activity) as u64,
        (150_000.0 * activity) as u64,
        (100_000.0 * activity) as u64,
        (250_000.0 * activity) as u64,
    ]
}

/// Status string of a guest as the cluster sees it (`unknown` when its node is offline).
pub fn guest_status(cluster: &Cluster, g: &Guest) -> &'static str {
    if !cluster.node(g.node()).is_some_and(|n| n.online) {
        "unknown"
    } else if g.running() {
        "running"
    } else {
        "stopped"
    }
}

/// A guest entry as in `/cluster/resources` (`with_meta` adds `tags` and `lock`, which pool
/// member lists omit). Typed rather than a `Value` map: at the large scenario the poll asks for
/// 10,000 of these every few seconds, and building a map per guest was most of its cost.
#[derive(Serialize)]
pub struct GuestResource<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    vmid: u32,
    name: &'a str,
    node: &'a str,
    status: &'static str,
    template: u8,
    cpu: f64,
    maxcpu: u32,
    mem: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    memhost: Option<u64>,
    maxmem: u64,
    disk: u64,
    maxdisk: u64,
    netin: u64,
    netout: u64,
    diskread: u64,
    diskwrite: u64,
    uptime: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hastate: Option<&'a str>,
}

/// The `/cluster/resources` entry of guest `g` at `now` (see [`GuestResource`]).
pub fn guest_resource<'a>(
    cluster: &Cluster,
    g: &'a Guest,
    now: f64,
    with_meta: bool,
) -> GuestResource<'a> {
    let u = guest_usage(cluster, g, now);
    let kind = g.spec.kind.api_type();
    let pve9 = cluster.node(g.node()).is_some_and(Node::is_pve9);
    let [netin, netout, diskread, diskwrite] = if u.running {
        counters(g, u.uptime)
    } else {
        [0; 4]
    };
    GuestResource {
        id: format!("{kind}/{}", g.spec.vmid),
        kind,
        vmid: g.spec.vmid,
        name: &g.spec.name,
        node: g.node(),
        status: guest_status(cluster, g),
        template: u8::from(g.spec.template),
        cpu: u.cpu,
        maxcpu: g.spec.cpus,
        mem: u.mem,
        memhost: (g.spec.kind == GuestKind::Vm && pve9).then_some(u.memhost),
        maxmem: g.spec.maxmem.0,
        disk: u.disk,
        maxdisk: g.spec.maxdisk.0,
        netin,
        netout,
        diskread,
        diskwrite,
        uptime: u.uptime,
        tags: with_meta.then(|| g.tags_joined()).flatten(),
        lock: with_meta.then_some(g.lock.as_deref()).flatten(),
        pool: g.spec.pool.as_deref(),
        hastate: g.ha_state.as_deref(),
    }
}

/// One entry of `/cluster/resources`: a guest (typed) or any other kind (few, built as JSON).
#[derive(Serialize)]
#[serde(untagged)]
// Nearly every entry is a guest: boxing them would add an allocation per guest.
#[allow(clippy::large_enum_variant)]
enum Resource<'a> {
    Guest(GuestResource<'a>),
    Other(Value),
}

fn ha_active(cluster: &Cluster) -> bool {
    cluster.guests.values().any(|g| g.spec.ha)
}

/// A node entry as in `/cluster/resources` (`audit` = caller has `Sys.Audit` on the node);
/// `guests` holds at least the node's guests at `now` ([`guests_by_node`]).
pub fn node_resource(
    cluster: &Cluster,
    n: &Node,
    now: f64,
    audit: bool,
    guests: &[&Guest],
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(format!("node/{}", n.name)));
    m.insert("type".into(), json!("node"));
    m.insert("node".into(), json!(n.name));
    m.insert(
        "status".into(),
        json!(if n.online { "online" } else { "offline" }),
    );
    m.insert("level".into(), json!(""));
    if !n.online {
        return Value::Object(m);
    }
    m.insert("cgroup-mode".into(), json!(2));
    if ha_active(cluster) {
        let state = if n.ha_maintenance {
            "maintenance"
        } else {
            "online"
        };
        m.insert("hastate".into(), json!(state));
    }
    if n.version_tuple >= (9, 2, 0) {
        m.insert("host-arch".into(), json!("x86_64"));
    }
    if audit {
        if let Some(u) = node_usage_among(cluster, n, now, guests.iter().copied()) {
            m.insert("cpu".into(), json!(u.cpu));
            m.insert("maxcpu".into(), json!(n.cores));
            m.insert("mem".into(), json!(u.mem));
            m.insert("maxmem".into(), json!(n.memory));
            m.insert("disk".into(), json!(u.disk));
            m.insert("maxdisk".into(), json!(n.disk));
            m.insert("uptime".into(), json!(u.uptime));
        }
    }
    Value::Object(m)
}

fn storage_entries(cluster: &Cluster, n: &Node, now: f64) -> Vec<(String, Value)> {
    let rootfs = node_root_used(cluster, n, now);
    // Guest disks live on one shared RBD pool: every node reports the same numbers for it.
    let shared_used: u64 = cluster
        .guests
        .values()
        .map(|g| g.spec.maxdisk.0 / 5 * 2)
        .sum();
    let shared_total: u64 = cluster.nodes.iter().map(|n| n.storage).sum();
    vec![
        (
            "local".to_string(),
            json!({"id": format!("storage/{}/local", n.name), "type": "storage", "storage": "local",
                   "node": n.name, "plugintype": "dir", "status": "available", "shared": 0,
                   "content": "backup,iso,vztmpl", "disk": rootfs, "maxdisk": n.disk}),
        ),
        (
            "ceph-vm".to_string(),
            json!({"id": format!("storage/{}/ceph-vm", n.name), "type": "storage",
                   "storage": "ceph-vm", "node": n.name, "plugintype": "rbd",
                   "status": "available", "shared": 1, "content": "images,rootdir",
                   "disk": shared_used.min(shared_total), "maxdisk": shared_total}),
        ),
    ]
}

/// `GET /cluster/resources[?type=vm|storage|node|sdn]`.
pub fn resources(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&["type"])?;
    let filter = ctx.enum_param("type", &["vm", "storage", "node", "sdn"])?;
    let want = |t: &str| filter.as_deref().is_none_or(|f| f == t);
    let cluster = &*ctx.cluster;
    let mut out = Vec::new();
    if want("vm") {
        for g in cluster.guests.values() {
            if ctx.has_vm(g.spec.vmid, "VM.Audit") {
                out.push(Resource::Guest(guest_resource(cluster, g, ctx.now, true)));
            }
        }
    }
    if want("node") {
        let by_node = guests_by_node(cluster, ctx.now);
        for n in &cluster.nodes {
            let audit = ctx.has(&format!("/nodes/{}", n.name), "Sys.Audit");
            let guests = by_node.get(n.name.as_str()).map_or(&[][..], Vec::as_slice);
            out.push(Resource::Other(node_resource(
                cluster, n, ctx.now, audit, guests,
            )));
        }
    }
    if want("storage") {
        for n in cluster.nodes.iter().filter(|n| n.online) {
            for (sid, entry) in storage_entries(cluster, n, ctx.now) {
                if ctx.has(&format!("/storage/{sid}"), "Datastore.Audit") {
                    out.push(Resource::Other(entry));
                }
            }
        }
    }
    if filter.is_none() {
        for p in &cluster.pools {
            if ctx.has(&format!("/pool/{}", p.poolid), "Pool.Audit") {
                out.push(Resource::Other(
                    json!({"id": format!("pool/{}", p.poolid), "type": "pool", "pool": p.poolid}),
                ));
            }
        }
    }
    if want("sdn") {
        for n in cluster.nodes.iter().filter(|n| n.online) {
            if !ctx.has("/sdn/zones/localnetwork", "SDN.Audit") {
                continue;
            }
            out.push(Resource::Other(if n.is_pve9() {
                json!({"id": format!("network/{}/zone/localnetwork", n.name), "type": "network",
                       "network-type": "zone", "network": "localnetwork", "node": n.name,
                       "status": "ok"})
            } else {
                json!({"id": format!("sdn/{}/localnetwork", n.name), "type": "sdn",
                       "sdn": "localnetwork", "node": n.name, "status": "ok"})
            }));
        }
    }
    ApiOk::serialized(&out)
}

/// `GET /cluster/status` (`Sys.Audit` on `/`).
pub fn status(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    ctx.require("/", "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    let local = cluster.local_node().map(|n| n.name.clone());
    let mut out = Vec::new();
    if cluster.nodes.len() > 1 {
        out.push(
            json!({"type": "cluster", "id": "cluster", "name": cluster.name,
                        "nodes": cluster.nodes.len(), "version": cluster.nodes.len() + 4,
                        "quorate": u8::from(cluster.quorate())}),
        );
    }
    for n in &cluster.nodes {
        out.push(
            json!({"type": "node", "id": format!("node/{}", n.name), "name": n.name,
                        "nodeid": n.index + 1, "ip": n.ip,
                        "local": u8::from(local.as_deref() == Some(n.name.as_str())),
                        "online": u8::from(n.online), "level": ""}),
        );
    }
    Ok(ApiOk::data(Value::Array(out)))
}

/// `GET /cluster/options` (`Sys.Audit` on `/`): the datacenter configuration.
pub fn options(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    ctx.require("/", "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    let mut m: Map<String, Value> = cluster
        .options
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(crs) = &cluster.crs {
        let crs: Map<String, Value> = crs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        m.insert("crs".into(), Value::Object(crs));
    }
    Ok(ApiOk::data(Value::Object(m)))
}
