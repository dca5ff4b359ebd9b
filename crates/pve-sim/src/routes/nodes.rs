//! `/nodes` and node-level reads: the node list, `/nodes/{n}/status`, `/nodes/{n}/version`,
//! `/nodes/{n}/rrddata`, and the cluster-wide `/version`.

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::metrics::{self, node_rrd, node_usage, Cf, SWAP_TOTAL};
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::state::Node;

/// `GET /nodes`: every node with its usage (usage only with `Sys.Audit` on the node).
pub fn list(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    let cluster = &*ctx.cluster;
    let t = ctx.now;
    let by_node = metrics::guests_by_node(cluster, t);
    let out = cluster
        .nodes
        .iter()
        .map(|n| {
            let guests = by_node.get(n.name.as_str()).map_or(&[][..], Vec::as_slice);
            let mut m = Map::new();
            m.insert("node".into(), json!(n.name));
            m.insert(
                "status".into(),
                json!(if n.online { "online" } else { "offline" }),
            );
            m.insert("id".into(), json!(format!("node/{}", n.name)));
            m.insert("type".into(), json!("node"));
            if n.online {
                m.insert("level".into(), json!(""));
                m.insert("ssl_fingerprint".into(), json!(n.fingerprint));
                let audit = ctx.has(&format!("/nodes/{}", n.name), "Sys.Audit");
                if let Some(u) = metrics::node_usage_among(cluster, n, t, guests.iter().copied())
                    .filter(|_| audit)
                {
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
        })
        .collect();
    Ok(ApiOk::data(Value::Array(out)))
}

fn version_json(n: &Node) -> Value {
    json!({"version": n.version, "release": n.release(), "repoid": n.repoid()})
}

/// `GET /version`: the answering node's version.
pub fn cluster_version(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    let node = ctx
        .cluster
        .local_node()
        .ok_or_else(|| ApiError::internal("no online node"))?;
    let mut v = version_json(node);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("console".into(), json!("xtermjs"));
    }
    Ok(ApiOk::data(v))
}

/// `GET /nodes/{node}/version`.
pub fn version(ctx: &mut Ctx<'_>, node: &str) -> ApiResult {
    ctx.allow_params(&[])?;
    let n = ctx.proxied_node(node)?;
    Ok(ApiOk::data(version_json(&n)))
}

/// `GET /nodes/{node}/status` (`Sys.Audit` on `/nodes/{node}`).
pub fn status(ctx: &mut Ctx<'_>, node: &str) -> ApiResult {
    ctx.allow_params(&[])?;
    let n = ctx.proxied_node(node)?;
    ctx.require(&format!("/nodes/{node}"), "Sys.Audit")?;
    let cluster = &*ctx.cluster;
    let u = node_usage(cluster, &n, ctx.now).ok_or_else(|| ApiError::unreachable(node))?;
    let available = n.memory - u.mem;
    let kernel = "6.17.2-1-pve";
    let kversion = "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)";
    let mhz = 2_900.0 + (n.key % 2000) as f64 / 10.0;
    let mut data = json!({
        "uptime": u.uptime,
        "idle": 0,
        "loadavg": u.loadavg.iter().map(|l| format!("{l:.2}")).collect::<Vec<_>>(),
        "cpu": u.cpu,
        "wait": u.iowait,
        "cpuinfo": {"model": n.cpu_model, "sockets": 1, "cores": (n.cores / 2).max(1), "cpus": n.cores,
                     "mhz": format!("{mhz:.3}"), "hvm": "1", "user_hz": 100,
                     "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov svm npt"},
        "memory": {"total": n.memory, "used": u.mem, "free": available / 10 * 9},
        "swap": {"total": SWAP_TOTAL, "used": u.swap_used, "free": SWAP_TOTAL - u.swap_used},
        "ksm": {"shared": 0},
        "rootfs": {"total": n.disk, "used": u.disk, "free": n.disk.saturating_sub(u.disk),
                   "avail": n.disk.saturating_sub(u.disk) / 20 * 19},
        "kversion": format!("Linux {kernel} {kversion} x86_64"),
        "current-kernel": {"sysname": "Linux", "release": kernel, "version": kversion, "machine": "x86_64"},
        "boot-info": {"mode": "efi", "secureboot": 0},
        "pveversion": format!("pve-manager/{}/{}", n.version, n.repoid()),
    });
    if n.is_pve9() {
        if let Some(mem) = data.get_mut("memory").and_then(Value::as_object_mut) {
            mem.insert("available".into(), json!(available));
        }
    }
    Ok(ApiOk::data(data))
}

/// Parses `timeframe` and `cf` of an rrddata call.
pub fn rrd_params(
    ctx: &Ctx<'_>,
    pve9: bool,
    allowed: &[&str],
) -> Result<(f64, usize, Cf), ApiError> {
    ctx.allow_params(allowed)?;
    let frames: &[&str] = if pve9 {
        &["hour", "day", "week", "month", "year", "decade"]
    } else {
        &["hour", "day", "week", "month", "year"]
    };
    let tf = ctx.enum_param("timeframe", frames)?.ok_or_else(|| {
        ApiError::param("timeframe", "property is missing and it is not optional")
    })?;
    let cf = match ctx.enum_param("cf", &["AVERAGE", "MAX"])?.as_deref() {
        Some("MAX") => Cf::Max,
        _ => Cf::Average,
    };
    let (step, rows) = metrics::timeframe(&tf, pve9)
        .ok_or_else(|| ApiError::param("timeframe", format!("unknown timeframe '{tf}'")))?;
    Ok((step, rows, cf))
}

/// `GET /nodes/{node}/rrddata?timeframe=...&cf=...` (`Sys.Audit` on `/nodes/{node}`; answered
/// from the cluster-wide RRD, so offline nodes return rows without values).
pub fn rrddata(ctx: &mut Ctx<'_>, node: &str) -> ApiResult {
    let n = ctx.known_node(node)?;
    let (step, rows, cf) = rrd_params(ctx, n.is_pve9(), &["timeframe", "cf"])?;
    ctx.require(&format!("/nodes/{node}"), "Sys.Audit")?;
    Ok(ApiOk::data(Value::Array(node_rrd(
        ctx.cluster,
        &n,
        ctx.now,
        step,
        rows,
        cf,
    ))))
}
