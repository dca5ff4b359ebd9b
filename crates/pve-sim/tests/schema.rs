//! Schema conformance: every route of the simulator's route table (`plb_pve_sim::routes::ROUTES`)
//! is checked against the official PVE 9.1.3 API schema, via the trimmed extract
//! `schema/pve-api-extract.json` written by `scripts/pve-schema-extract.py`:
//!
//! - the path and method exist in the schema;
//! - every required parameter is enforced (a request without it is a 400 naming it);
//! - undeclared parameters are rejected with 400 (the schema has `additionalProperties: 0`) and
//!   every declared parameter is accepted (never "not defined in schema");
//! - the reply's `data` matches `returns`, leniently as PVE sends it: integers may arrive as
//!   numbers, booleans as 0/1, numbers as numeric strings (Perl), optional properties may be
//!   absent, undeclared properties are allowed (the schema does not list every property PVE
//!   returns). Declared non-optional properties must be present, enums and minimum/maximum are
//!   checked.
//!
//! It runs against the demo scenario on PVE 9.1 and on PVE 8.4 (each with the routes the profile
//! refuses by design, e.g. HA groups on PVE 9), every route must validate in at least one.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{enc, Client, ROOT_PW, ROOT_TOKEN};
use plb_pve_sim::routes::ROUTES;
use plb_pve_sim::{Scenario, Simulator};
use serde_json::Value;

const UNDEFINED: &str = "pve_sim_undefined_param";

fn extract() -> Value {
    let text = include_str!("../schema/pve-api-extract.json");
    serde_json::from_str(text).unwrap()
}

/// Lenient type check of `v` against a (trimmed) PVE JSON schema; problems go to `errs`.
fn check(schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let numeric_string = |v: &Value| v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok());
    let ok = match ty {
        "any" => true,
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_number(),
        "number" => v.is_number() || numeric_string(v),
        "boolean" => {
            v.is_boolean()
                || v.as_f64().is_some_and(|n| n == 0.0 || n == 1.0)
                || v.as_str().is_some_and(|s| s == "0" || s == "1")
        }
        "object" => v.is_object(),
        "array" => v.is_array(),
        other => {
            errs.push(format!("{at}: unknown schema type {other:?}"));
            true
        }
    };
    if !ok {
        errs.push(format!("{at}: expected {ty}, got {v}"));
        return;
    }
    if let (Some(allowed), Some(s)) = (schema.get("enum").and_then(Value::as_array), v.as_str()) {
        if !allowed.iter().any(|a| a.as_str() == Some(s)) {
            errs.push(format!("{at}: {s:?} not in enum {allowed:?}"));
        }
    }
    let n = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), n) {
        if n < min {
            errs.push(format!("{at}: {n} < minimum {min}"));
        }
    }
    if let (Some(max), Some(n)) = (schema.get("maximum").and_then(Value::as_f64), n) {
        if n > max {
            errs.push(format!("{at}: {n} > maximum {max}"));
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (name, prop) in props {
            let optional = prop.get("optional").is_some_and(|o| o == 1 || o == true);
            let indexed = name.ends_with("[n]");
            match obj.get(name) {
                Some(value) => check(prop, value, &format!("{at}.{name}"), errs),
                None if optional || indexed => {}
                None => errs.push(format!("{at}: required property {name:?} missing")),
            }
        }
        // Indexed config keys (`net0`) are declared as `net[n]`.
        for (key, value) in obj {
            if props.contains_key(key) {
                continue;
            }
            let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
            if base.len() < key.len() {
                if let Some(prop) = props.get(&format!("{base}[n]")) {
                    check(prop, value, &format!("{at}.{key}"), errs);
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), errs);
        }
    }
}

/// Undeclared properties of a reply (informational: the schema is known to be incomplete).
fn undeclared(schema: &Value, v: &Value, at: &str, out: &mut BTreeSet<String>) {
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (key, value) in obj {
            let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
            match props.get(key).or_else(|| props.get(&format!("{base}[n]"))) {
                Some(prop) => undeclared(prop, value, &format!("{at}.{key}"), out),
                None => {
                    out.insert(format!("{at}.{key}"));
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for item in arr {
            undeclared(items, item, &format!("{at}[]"), out);
        }
    }
}

/// A sample value for a parameter, valid for its declared type.
fn sample(name: &str, schema: &Value) -> String {
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.as_str().unwrap_or_default().to_string();
    }
    let known = match name {
        "username" => Some("root@pam"),
        "password" => Some(ROOT_PW),
        "userid" => Some("root@pam"),
        "path" => Some("/"),
        "typefilter" => Some("qmigrate"),
        "userfilter" => Some("root"),
        "statusfilter" => Some("ok"),
        "poolid" => Some("prod"),
        "resource" => Some("vm:102"),
        "realm" => Some("pam"),
        _ => None,
    };
    if let Some(k) = known {
        return k.to_string();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => "0".to_string(),
        Some("integer") | Some("number") => schema
            .get("minimum")
            .and_then(Value::as_i64)
            .map_or("1".to_string(), |m| m.max(1).to_string()),
        _ => "x".to_string(),
    }
}

/// One concrete request of a route.
#[derive(Debug, Clone)]
struct Instance {
    path: String,
    /// Values of the required non-path parameters.
    required: BTreeMap<String, String>,
}

fn query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn send(
    c: &Client,
    method: &str,
    path: &str,
    params: &BTreeMap<String, String>,
) -> common::Resp {
    let q = query(params);
    match method {
        "GET" if q.is_empty() => c.get(path).await,
        "GET" => c.get(&format!("{path}?{q}")).await,
        _ => c.post(path, &q).await,
    }
}

fn error_keys(r: &common::Resp) -> BTreeSet<String> {
    r.body
        .get("errors")
        .and_then(Value::as_object)
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default()
}

struct Report {
    validated: BTreeSet<String>,
    problems: Vec<String>,
    requests: usize,
    undeclared: BTreeMap<String, BTreeSet<String>>,
}

/// Checks every route on one simulator. `refused` are routes this profile answers with an error
/// by design (their error status is checked instead); `differences` are (route, problem
/// substring) pairs where the profile deliberately differs from the 9.1.3 schema (each must
/// occur, so a stale entry fails too).
async fn check_profile(
    label: &str,
    sim: &Simulator,
    refused: &[(&str, u16)],
    differences: &[(&str, &str)],
    report: &mut Report,
) {
    let mut seen_differences = BTreeSet::new();
    let routes = extract()["routes"].clone();
    let c = Client::with_token(sim, ROOT_TOKEN);
    // Tasks: a finished and a running migration.
    let r = c
        .post("/nodes/pve1/qemu/105/migrate", "target=pve3&online=1")
        .await;
    assert_eq!(r.status, 200, "{label}: {:?}", r.body);
    sim.advance(Duration::from_secs(120));
    let r = c
        .post("/nodes/pve1/qemu/104/migrate", "target=pve3&online=1")
        .await;
    assert_eq!(r.status, 200, "{label}: {:?}", r.body);
    let tasks = c.get("/cluster/tasks").await.data().clone();
    let state = sim.state();
    let online: Vec<String> = state
        .nodes
        .iter()
        .filter(|n| n.status == "online")
        .map(|n| n.name.clone())
        .collect();
    let pools: Vec<String> =
        sim.with_cluster(|cl| cl.pools.iter().map(|p| p.poolid.clone()).collect());

    for (method, pattern) in ROUTES {
        let key = format!("{method} {pattern}");
        let Some(schema) = routes.get(&key) else {
            report.problems.push(format!(
                "{key}: not in the schema extract (rerun scripts/pve-schema-extract.py)"
            ));
            continue;
        };
        let path_params: BTreeSet<&str> = pattern
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let required: Vec<String> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|p| !path_params.contains(p))
            .map(str::to_string)
            .collect();
        let declared = schema["parameters"].as_object().unwrap().clone();
        let mut base = BTreeMap::new();
        for p in &required {
            base.insert(p.clone(), sample(p, &declared[p]));
        }
        // Concrete instances.
        let mut instances = Vec::new();
        let kind = if pattern.contains("/qemu") {
            Some("qemu")
        } else if pattern.contains("/lxc") {
            Some("lxc")
        } else {
            None
        };
        if *method == "POST" && pattern.ends_with("/migrate") {
            let (vmid, node, target) = if kind == Some("qemu") {
                (111, "pve2", "pve3")
            } else {
                (203, "pve3", "pve2")
            };
            let mut req = base.clone();
            req.insert("target".into(), target.into());
            let path = pattern
                .replace("{node}", node)
                .replace("{vmid}", &vmid.to_string());
            instances.push(Instance {
                path,
                required: req,
            });
        } else if pattern.contains("{vmid}") {
            for g in state
                .guests
                .iter()
                .filter(|g| Some(g.kind.as_str()) == kind)
            {
                if online.contains(&g.node) {
                    let path = pattern
                        .replace("{node}", &g.node)
                        .replace("{vmid}", &g.vmid.to_string());
                    instances.push(Instance {
                        path,
                        required: base.clone(),
                    });
                }
            }
        } else if pattern.contains("{upid}") {
            for t in tasks.as_array().unwrap() {
                let path = pattern
                    .replace("{node}", t["node"].as_str().unwrap())
                    .replace("{upid}", &enc(t["upid"].as_str().unwrap()));
                instances.push(Instance {
                    path,
                    required: base.clone(),
                });
            }
        } else if pattern.contains("{node}") {
            for n in &online {
                instances.push(Instance {
                    path: pattern.replace("{node}", n),
                    required: base.clone(),
                });
            }
        } else if pattern.contains("{poolid}") {
            for p in &pools {
                instances.push(Instance {
                    path: pattern.replace("{poolid}", p),
                    required: base.clone(),
                });
            }
        } else {
            instances.push(Instance {
                path: pattern.to_string(),
                required: base.clone(),
            });
        }
        if instances.is_empty() {
            report
                .problems
                .push(format!("{label} {key}: no instance to test"));
            continue;
        }
        let refused_status = refused.iter().find(|(r, _)| *r == key).map(|(_, s)| *s);
        let mut route_ok = true;
        for (i, inst) in instances.iter().enumerate() {
            let at = format!("{label} {method} {}", inst.path);
            // Parameter checks on the first instance (they do not depend on the instance).
            if i == 0 && refused_status.is_none() {
                for p in &required {
                    let mut params = inst.required.clone();
                    params.remove(p);
                    let r = send(&c, method, &inst.path, &params).await;
                    report.requests += 1;
                    if r.status != 400 || !error_keys(&r).contains(p) {
                        route_ok = false;
                        report.problems.push(format!(
                            "{at}: without required '{p}': {} {:?}",
                            r.status, r.body
                        ));
                    }
                }
                if !schema["additionalProperties"].as_bool().unwrap() {
                    let mut params = inst.required.clone();
                    params.insert(UNDEFINED.into(), "1".into());
                    let r = send(&c, method, &inst.path, &params).await;
                    report.requests += 1;
                    if r.status != 400 || !error_keys(&r).contains(UNDEFINED) {
                        route_ok = false;
                        report.problems.push(format!(
                            "{at}: undeclared parameter accepted: {} {:?}",
                            r.status, r.body
                        ));
                    }
                }
                for (name, prop) in &declared {
                    if path_params.contains(name.as_str()) || required.contains(name) {
                        continue;
                    }
                    // POSTs: without the required parameters, so nothing is executed.
                    let mut params = if *method == "POST" {
                        BTreeMap::new()
                    } else {
                        inst.required.clone()
                    };
                    params.insert(name.clone(), sample(name, prop));
                    let r = send(&c, method, &inst.path, &params).await;
                    report.requests += 1;
                    let rejected = r.status == 400 && error_keys(&r).contains(name);
                    let post_ok = *method != "POST" || r.status == 400;
                    if rejected || !post_ok {
                        route_ok = false;
                        report.problems.push(format!(
                            "{at}: declared parameter '{name}={}' not accepted: {} {:?}",
                            sample(name, prop),
                            r.status,
                            r.body
                        ));
                    }
                }
            }
            let r = send(&c, method, &inst.path, &inst.required).await;
            report.requests += 1;
            if let Some(expected) = refused_status {
                if r.status != expected {
                    report.problems.push(format!(
                        "{at}: expected {expected} on this profile, got {} {:?}",
                        r.status, r.body
                    ));
                }
                route_ok = false;
                continue;
            }
            if r.status != 200 {
                route_ok = false;
                report
                    .problems
                    .push(format!("{at}: {} {:?}", r.status, r.body));
                continue;
            }
            let mut errs = Vec::new();
            check(&schema["returns"], r.data(), "data", &mut errs);
            undeclared(
                &schema["returns"],
                r.data(),
                "data",
                report.undeclared.entry(key.clone()).or_default(),
            );
            errs.retain(|e| {
                let expected = differences
                    .iter()
                    .position(|(route, what)| *route == key && e.contains(what));
                if let Some(i) = expected {
                    seen_differences.insert(i);
                }
                expected.is_none()
            });
            if !errs.is_empty() {
                route_ok = false;
                report
                    .problems
                    .extend(errs.into_iter().map(|e| format!("{at}: {e}")));
            }
        }
        if route_ok {
            report.validated.insert(key);
        }
    }
    for (i, d) in differences.iter().enumerate() {
        if !seen_differences.contains(&i) {
            report
                .problems
                .push(format!("{label}: expected difference {d:?} did not occur"));
        }
    }
}

#[tokio::test]
async fn every_served_route_conforms_to_the_pve_schema() {
    let ex = extract();
    let routes = ex["routes"].as_object().unwrap();
    // The extract covers exactly the route table (a new route needs a regenerated extract).
    let table: BTreeSet<String> = ROUTES.iter().map(|(m, p)| format!("{m} {p}")).collect();
    let extracted: BTreeSet<String> = routes.keys().cloned().collect();
    assert_eq!(table, extracted, "rerun scripts/pve-schema-extract.py");
    assert!(ex["not_in_schema"].as_array().unwrap().is_empty());

    let mut report = Report {
        validated: BTreeSet::new(),
        problems: Vec::new(),
        requests: 0,
        undeclared: BTreeMap::new(),
    };
    let pve9 = Simulator::start(common::demo(), common::frozen(false))
        .await
        .unwrap();
    check_profile(
        "pve9",
        &pve9,
        &[("GET /cluster/ha/groups", 500)],
        &[],
        &mut report,
    )
    .await;
    pve9.shutdown().await;

    let mut old: Scenario = common::demo();
    for n in &mut old.nodes {
        n.version = "8.4.1".into();
    }
    let pve8 = Simulator::start(old, common::frozen(false)).await.unwrap();
    // PVE 8 has no `memory.available` in node status (added in 9.0; the schema is 9.1.3).
    check_profile(
        "pve8",
        &pve8,
        &[("GET /cluster/ha/rules", 501)],
        &[(
            "GET /nodes/{node}/status",
            "required property \"available\" missing",
        )],
        &mut report,
    )
    .await;
    pve8.shutdown().await;

    for (route, keys) in &report.undeclared {
        if !keys.is_empty() {
            eprintln!(
                "undeclared (allowed) in {route}: {}",
                keys.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    eprintln!(
        "schema conformance: {}/{} routes validated, {} requests",
        report.validated.len(),
        table.len(),
        report.requests
    );
    assert!(
        report.problems.is_empty(),
        "{} problems:\n{}",
        report.problems.len(),
        report.problems.join("\n")
    );
    let missing: Vec<&String> = table.difference(&report.validated).collect();
    assert!(
        missing.is_empty(),
        "not validated on any profile: {missing:?}"
    );
}

#[test]
fn lenient_checker_accepts_perl_types_and_catches_real_mismatches() {
    let schema = serde_json::json!({"type": "object", "properties": {
        "n": {"type": "integer"}, "f": {"type": "number", "optional": 1},
        "b": {"type": "boolean", "optional": 1}, "s": {"type": "string", "enum": ["a", "b"], "optional": 1},
        "net[n]": {"type": "string", "optional": 1},
        "list": {"type": "array", "optional": 1, "items": {"type": "integer"}}}});
    let mut errs = Vec::new();
    check(
        &schema,
        &serde_json::json!({"n": 1.0, "f": "0.25", "b": 1, "s": "a", "net0": "x", "list": [1, 2], "extra": {}}),
        "d",
        &mut errs,
    );
    assert!(errs.is_empty(), "{errs:?}");
    for (bad, what) in [
        (serde_json::json!({"f": 1}), "required"),
        (serde_json::json!({"n": "1"}), "expected integer"),
        (serde_json::json!({"n": 1, "b": 2}), "expected boolean"),
        (serde_json::json!({"n": 1, "s": "c"}), "not in enum"),
        (serde_json::json!({"n": 1, "net1": 5}), "expected string"),
        (
            serde_json::json!({"n": 1, "list": [1, "x"]}),
            "expected integer",
        ),
        (serde_json::json!([]), "expected object"),
    ] {
        let mut errs = Vec::new();
        check(&schema, &bad, "d", &mut errs);
        assert!(errs.iter().any(|e| e.contains(what)), "{bad}: {errs:?}");
    }
}
