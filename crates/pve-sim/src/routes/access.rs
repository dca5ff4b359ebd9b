//! `/access`: ticket login and renewal (`POST /access/ticket`) and the caller's permissions
//! (`GET /access/permissions`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::auth::{caller_privileges, Caller, TicketSigner};
use crate::parse::Params;
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::state::Cluster;

const TICKET_PARAMS: &[&str] = &[
    "username",
    "password",
    "realm",
    "otp",
    "path",
    "privs",
    "tfa-challenge",
    "new-format",
];

/// `GET /access/ticket` (a no-op returning null) and `POST /access/ticket`.
pub fn ticket(
    cluster: &mut Cluster,
    signer: &TicketSigner,
    params: &Params,
    now: f64,
    method: &str,
) -> ApiResult {
    // GET is a dummy without parameters (for login-page formatters).
    let allowed: &[&str] = if method == "GET" { &[] } else { TICKET_PARAMS };
    let unknown: Vec<(String, String)> = params
        .keys()
        .filter(|k| !allowed.contains(k))
        .map(|k| {
            (
                k.to_string(),
                "property is not defined in schema and the schema does not allow additional properties".to_string(),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::params(unknown));
    }
    if method == "GET" {
        return Ok(ApiOk::data(Value::Null));
    }
    let missing: Vec<(String, String)> = ["username", "password"]
        .iter()
        .filter(|k| params.get(k).is_none())
        .map(|k| {
            (
                k.to_string(),
                "property is missing and it is not optional".to_string(),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::params(missing));
    }
    let mut username = params.get("username").unwrap_or_default().to_string();
    let password = params.get("password").unwrap_or_default();
    if !username.contains('@') {
        if let Some(realm) = params.get("realm") {
            username = format!("{username}@{realm}");
        }
    }
    let failure = || ApiError::unauthorized("authentication failure");
    let user = cluster
        .users
        .get(&username)
        .filter(|u| u.enable)
        .ok_or_else(failure)?;
    let authenticated = if password.starts_with("PVE:") {
        // Renewal: the current (still valid) ticket of the same user is accepted as password.
        signer.verify_ticket(password, now).as_deref() == Some(username.as_str())
    } else {
        user.password.as_deref() == Some(password)
    };
    if !authenticated {
        return Err(failure());
    }
    if user.tfa && !password.starts_with("PVE:") {
        // PVE answers the first step with a half ticket that only the TFA endpoint accepts; this
        // one is not signed, so it opens nothing here.
        let mut data = Map::new();
        data.insert("username".into(), json!(username));
        data.insert(
            "ticket".into(),
            json!(format!("PVE:!tfa!{username}:pending")),
        );
        data.insert("CSRFPreventionToken".into(), json!("tfa-pending"));
        data.insert("NeedTFA".into(), json!(1));
        return Ok(ApiOk::data(Value::Object(data)));
    }
    let caller = Caller {
        userid: username.clone(),
        tokenid: None,
        by_ticket: true,
    };
    let mut data = Map::new();
    data.insert("username".into(), json!(username));
    data.insert("ticket".into(), json!(signer.ticket(&username, now)));
    data.insert(
        "CSRFPreventionToken".into(),
        json!(signer.csrf_token(&username, now)),
    );
    if caller_privileges(&cluster.users, &caller, "/", None).contains("Sys.Audit") {
        data.insert("clustername".into(), json!(cluster.name));
    }
    data.insert("cap".into(), capabilities(cluster, &caller));
    Ok(ApiOk::data(Value::Object(data)))
}

/// The `cap` object of a ticket: privileges on the top-level paths the GUI looks at.
fn capabilities(cluster: &Cluster, caller: &Caller) -> Value {
    let mut cap = Map::new();
    for (key, path, prefixes) in [
        ("vms", "/vms", &["VM."][..]),
        ("storage", "/storage", &["Datastore."][..]),
        ("nodes", "/nodes", &["Sys."][..]),
        (
            "access",
            "/access",
            &["User.", "Group.", "Permissions.", "Realm."][..],
        ),
        (
            "dc",
            "/",
            &["Sys.Audit", "Sys.Modify", "SDN.", "Pool.", "Mapping."][..],
        ),
        ("sdn", "/sdn", &["SDN."][..]),
        ("mapping", "/mapping", &["Mapping."][..]),
    ] {
        let privs = caller_privileges(&cluster.users, caller, path, None);
        let m: Map<String, Value> = privs
            .iter()
            .filter(|p| prefixes.iter().any(|x| p.starts_with(x)))
            .map(|p| (p.to_string(), json!(1)))
            .collect();
        cap.insert(key.into(), Value::Object(m));
    }
    Value::Object(cap)
}

/// `GET /access/permissions[?path=...][&userid=...]`: `{path: {privilege: propagate}}`.
pub fn permissions(ctx: &mut Ctx<'_>) -> ApiResult {
    ctx.allow_params(&["path", "userid"])?;
    let target = match ctx.params.get("userid") {
        None => ctx.caller.clone(),
        Some(id) => {
            let (userid, tokenid) = match id.split_once('!') {
                Some((u, t)) => (u.to_string(), Some(t.to_string())),
                None => (id.to_string(), None),
            };
            let own = userid == ctx.caller.userid
                && (ctx.caller.tokenid.is_none() || ctx.caller.tokenid == tokenid);
            if !own {
                ctx.require("/access", "Sys.Audit")?;
            }
            let exists = ctx
                .cluster
                .users
                .get(&userid)
                .is_some_and(|u| tokenid.as_ref().is_none_or(|t| u.tokens.contains_key(t)));
            if !exists {
                return Err(ApiError::internal(format!("no such user ('{id}')")));
            }
            Caller {
                userid,
                tokenid,
                by_ticket: false,
            }
        }
    };
    let users = &ctx.cluster.users;
    let Some(user) = users.get(&target.userid) else {
        return Err(ApiError::internal(format!(
            "no such user ('{}')",
            target.userid
        )));
    };
    let mut paths: BTreeSet<String> = BTreeSet::new();
    let mut propagating: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    if let Some(path) = ctx.params.get("path") {
        paths.insert(path.to_string());
    } else if user.is_root() {
        for p in [
            "/",
            "/access",
            "/access/groups",
            "/nodes",
            "/pool",
            "/sdn",
            "/storage",
            "/vms",
        ] {
            paths.insert(p.to_string());
        }
    } else {
        let token_acls = target
            .tokenid
            .as_ref()
            .and_then(|t| user.tokens.get(t))
            .filter(|t| t.privsep)
            .map(|t| t.acls.clone())
            .unwrap_or_default();
        for acl in user.acls.iter().chain(token_acls.iter()) {
            paths.insert(acl.path.clone());
            if acl.propagate {
                propagating
                    .entry(acl.path.clone())
                    .or_default()
                    .extend(acl.privs.iter().copied());
            }
        }
    }
    let mut out = Map::new();
    for path in paths {
        let privs = caller_privileges(users, &target, &path, None);
        let m: Map<String, Value> = privs
            .iter()
            .map(|p| {
                let prop = user.is_root()
                    || propagating.get(&path).is_some_and(|s| s.contains(p))
                    || ctx.params.get("path").is_some();
                (p.to_string(), json!(u8::from(prop)))
            })
            .collect();
        out.insert(path, Value::Object(m));
    }
    Ok(ApiOk::data(Value::Object(out)))
}
