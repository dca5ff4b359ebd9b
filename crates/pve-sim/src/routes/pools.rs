//! `/pools` and the deprecated `/pools/{poolid}` (still called by ProxLB).

use serde_json::{json, Map, Value};

use super::cluster::guest_resource;
use super::Ctx;
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::scenario::PoolSpec;

fn members(ctx: &Ctx<'_>, poolid: &str, kind: Option<&str>) -> Vec<Value> {
    let cluster = &*ctx.cluster;
    cluster
        .guests
        .values()
        .filter(|g| g.spec.pool.as_deref() == Some(poolid))
        .filter(|g| kind.is_none_or(|k| k == g.spec.kind.api_type()))
        .filter(|g| ctx.has_vm(g.spec.vmid, "VM.Audit"))
        .map(|g| json!(guest_resource(cluster, g, ctx.now, false)))
        .collect()
}

fn find(ctx: &Ctx<'_>, poolid: &str) -> Result<PoolSpec, ApiError> {
    let pool = ctx
        .cluster
        .pools
        .iter()
        .find(|p| p.poolid == poolid)
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("pool '{poolid}' does not exist")))?;
    ctx.require(&format!("/pool/{poolid}"), "Pool.Audit")?;
    Ok(pool)
}

/// `GET /pools[?poolid=...][&type=qemu|lxc|storage]`.
pub fn list(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&["poolid", "type"])?;
    let kind = ctx.enum_param("type", &["qemu", "lxc", "storage"])?;
    if let Some(poolid) = ctx.params.get("poolid").map(str::to_string) {
        let pool = find(ctx, &poolid)?;
        let mut m = Map::new();
        m.insert("poolid".into(), json!(pool.poolid));
        if let Some(c) = &pool.comment {
            m.insert("comment".into(), json!(c));
        }
        m.insert(
            "members".into(),
            json!(members(ctx, &poolid, kind.as_deref())),
        );
        return Ok(ApiOk::data(json!([Value::Object(m)])));
    }
    let out: Vec<Value> = ctx
        .cluster
        .pools
        .iter()
        .filter(|p| ctx.has(&format!("/pool/{}", p.poolid), "Pool.Audit"))
        .map(|p| {
            let mut m = Map::new();
            m.insert("poolid".into(), json!(p.poolid));
            if let Some(c) = &p.comment {
                m.insert("comment".into(), json!(c));
            }
            Value::Object(m)
        })
        .collect();
    Ok(ApiOk::data(Value::Array(out)))
}

/// `GET /pools/{poolid}[?type=...]`: `{comment?, members}`.
pub fn get(ctx: &mut Ctx<'_>, poolid: &str) -> ApiResult {
    ctx.allow_params(&["type"])?;
    let kind = ctx.enum_param("type", &["qemu", "lxc", "storage"])?;
    let pool = find(ctx, poolid)?;
    let mut m = Map::new();
    if let Some(c) = &pool.comment {
        m.insert("comment".into(), json!(c));
    }
    m.insert(
        "members".into(),
        json!(members(ctx, poolid, kind.as_deref())),
    );
    Ok(ApiOk::data(Value::Object(m)))
}
