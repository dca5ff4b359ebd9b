//! Task endpoints: `/nodes/{node}/tasks` (with ProxLB's filters), `/nodes/{node}/tasks/{upid}/
//! {status,log}` and `/cluster/tasks`.

use serde_json::{json, Value};

use super::Ctx;
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::tasks::{Task, Upid};

fn owns(ctx: &Ctx<'_>, t: &Task) -> bool {
    t.upid.user == ctx.caller.upid_user()
        || (ctx.caller.tokenid.is_none() && t.upid.userid() == ctx.caller.userid)
}

fn may_see(ctx: &Ctx<'_>, t: &Task, audit_path: &str) -> bool {
    owns(ctx, t) || ctx.has(audit_path, "Sys.Audit")
}

fn newest_first(tasks: &mut [&Task]) {
    tasks.sort_by(|a, b| {
        b.upid
            .starttime
            .cmp(&a.upid.starttime)
            .then_with(|| b.started.total_cmp(&a.started))
            .then_with(|| b.upid.pid.cmp(&a.upid.pid))
    });
}

fn status_class(t: &Task) -> &'static str {
    match t.exitstatus.as_deref() {
        None => "unknown",
        Some("OK") => "ok",
        Some(s) if s.starts_with("WARNINGS") => "warning",
        Some(_) => "error",
    }
}

/// `GET /nodes/{node}/tasks` with `start, limit, source, typefilter, vmid, userfilter,
/// statusfilter, errors, since, until`; returns `total`.
pub fn node_tasks(ctx: &mut Ctx<'_>, node: &str) -> ApiResult {
    ctx.allow_params(&[
        "start",
        "limit",
        "source",
        "typefilter",
        "vmid",
        "userfilter",
        "statusfilter",
        "errors",
        "since",
        "until",
    ])?;
    let start = ctx.int_param("start")?.unwrap_or(0).max(0) as usize;
    let limit = ctx.int_param("limit")?.unwrap_or(50).max(0) as usize;
    let source = ctx
        .enum_param("source", &["archive", "active", "all"])?
        .unwrap_or_else(|| "archive".to_string());
    let vmid = ctx.int_param("vmid")?;
    let errors = ctx.bool_param("errors")?.unwrap_or(false);
    let since = ctx.int_param("since")?;
    let until = ctx.int_param("until")?;
    let typefilter = ctx.params.get("typefilter").map(str::to_string);
    let userfilter = ctx.params.get("userfilter").map(str::to_lowercase);
    let statusfilter: Option<Vec<String>> = ctx
        .params
        .get("statusfilter")
        .map(|s| s.split(',').map(|x| x.trim().to_lowercase()).collect());
    ctx.proxied_node(node)?;
    let audit_path = format!("/nodes/{node}");
    let mut list: Vec<&Task> = ctx
        .cluster
        .tasks
        .iter()
        .filter(|t| t.upid.node == node)
        .filter(|t| match source.as_str() {
            "active" => t.running(),
            "archive" => !t.running(),
            _ => true,
        })
        .filter(|t| typefilter.as_ref().is_none_or(|f| &t.upid.task_type == f))
        .filter(|t| vmid.is_none_or(|v| t.upid.id == v.to_string()))
        .filter(|t| {
            userfilter
                .as_ref()
                .is_none_or(|u| t.upid.user.to_lowercase().contains(u.as_str()))
        })
        .filter(|t| {
            statusfilter
                .as_ref()
                .is_none_or(|s| s.iter().any(|c| c == status_class(t)))
        })
        .filter(|t| !errors || t.exitstatus.as_deref().is_some_and(|s| s != "OK"))
        .filter(|t| since.is_none_or(|s| t.upid.starttime >= s))
        .filter(|t| until.is_none_or(|u| t.upid.starttime <= u))
        .filter(|t| may_see(ctx, t, &audit_path))
        .collect();
    newest_first(&mut list);
    let total = list.len();
    let page: Vec<Value> = list
        .into_iter()
        .skip(start)
        .take(limit)
        .map(Task::list_json)
        .collect();
    Ok(ApiOk::with_total(Value::Array(page), total))
}

/// `GET /cluster/tasks`: recent tasks of all nodes (own tasks unless `Sys.Audit` on `/`).
pub fn cluster_tasks(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&[])?;
    let mut list: Vec<&Task> = ctx
        .cluster
        .tasks
        .iter()
        .filter(|t| may_see(ctx, t, "/"))
        .collect();
    newest_first(&mut list);
    let out: Vec<Value> = list.into_iter().map(Task::list_json).collect();
    Ok(ApiOk::data(Value::Array(out)))
}

/// Finds the task of `{upid}` on `{node}` after the permission check; errors like PVE.
fn find<'a>(ctx: &'a Ctx<'_>, node: &str, upid: &str) -> Result<&'a Task, ApiError> {
    let parsed =
        Upid::parse(upid).map_err(|_| ApiError::param("upid", "unable to parse worker upid"))?;
    ctx.proxied_node(node)?;
    let task = ctx
        .cluster
        .task(&parsed)
        .filter(|t| t.upid.node == node)
        .ok_or_else(|| ApiError::param("upid", "no such task"))?;
    if !may_see(ctx, task, &format!("/nodes/{node}")) {
        return Err(ApiError::permission(&format!("/nodes/{node}"), "Sys.Audit"));
    }
    Ok(task)
}

/// `GET /nodes/{node}/tasks/{upid}`: directory index.
pub fn index(ctx: &mut Ctx<'_>, node: &str, upid: &str) -> ApiResult {
    ctx.allow_params(&[])?;
    find(ctx, node, upid)?;
    super::index("name", &["log", "status"])
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
pub fn status(ctx: &mut Ctx<'_>, node: &str, upid: &str) -> ApiResult {
    ctx.allow_params(&[])?;
    let task = find(ctx, node, upid)?;
    Ok(ApiOk::data(task.status_json()))
}

/// `GET /nodes/{node}/tasks/{upid}/log[?start=0&limit=50]`: `[{n, t}]` plus `total`.
pub fn log(ctx: &mut Ctx<'_>, node: &str, upid: &str) -> ApiResult {
    ctx.allow_params(&["start", "limit", "download"])?;
    let start = ctx.int_param("start")?.unwrap_or(0).max(0) as usize;
    let limit = ctx.int_param("limit")?.unwrap_or(50).max(0) as usize;
    ctx.bool_param("download")?;
    let task = find(ctx, node, upid)?;
    let lines = task.log_lines(ctx.now);
    let total = lines.len();
    let out: Vec<Value> = lines
        .into_iter()
        .enumerate()
        .skip(start)
        .take(limit)
        .map(|(i, t)| json!({"n": i + 1, "t": t}))
        .collect();
    Ok(ApiOk::with_total(Value::Array(out), total))
}
