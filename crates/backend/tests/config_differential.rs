//! Differential test: on thousands of generated `proxlb.yaml` files, our accept/reject
//! (`config_store::service::check`) equals ProxLB 2.3.0's own loader run from the project's venv
//! (`scripts/config-differential.py`, all files in one batch).
//!
//! The venv is required: without it this test fails (it never skips). Set `PROXLB_PYTHON` to use
//! another interpreter that has ProxLB 2.3.0 installed.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use plb_backend::config_store::service::check;
use plb_domain::proxlb::validate::Context;

/// Configs generated per run.
const CASES: usize = 10_000;

/// xorshift64*: deterministic, so a disagreement is reproducible from its seed.
struct Rng(u64, u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Scalars PyYAML and pydantic treat in surprising ways, as raw YAML.
const TRICKY: &[&str] = &[
    "10",
    "'10'",
    "\" 10 \"",
    "1_0",
    "'1_0'",
    "010",
    "0o10",
    "0x1F",
    "0b11",
    "1:30",
    "'1:30'",
    "1:30.5",
    "1.0",
    "1.5",
    "'1.0'",
    "'1.'",
    "1e3",
    "'1e3'",
    "1.5e+3",
    "-1",
    "'-1'",
    "+5",
    "true",
    "True",
    "TRUE",
    "on",
    "'on'",
    "yes",
    "no",
    "'no'",
    "y",
    "'y'",
    "n",
    "off",
    "'t'",
    "'F'",
    "1",
    "0",
    "2",
    "0.0",
    "~",
    "null",
    "''",
    "",
    "[]",
    "{}",
    "[a]",
    "[1]",
    "{a: 1}",
    "pve1",
    "'pve1'",
    "\"pve1\"",
    "memory",
    "Memory",
    "used",
    "psi",
    "hours",
    "INFO",
    "info",
    "vm",
    "ct",
    "affinity",
    "anti-affinity",
    "2024-01-01",
    "2023-02-30",
    "'2024-01-01'",
    ".inf",
    "-.inf",
    ".nan",
    "'inf'",
    "'nan'",
    "!!str 12",
    "!!int '12'",
    "!!int 'x'",
    "!!float '1'",
    "!!bool 'yes'",
    "!!null x",
    "!!str [a]",
    "!foo x",
    "99999999999999999999999",
    "9223372036854775808.0",
    "'  +1_0  '",
    "0_",
    "0x_",
    "'1__0'",
    "1__0",
    "-0",
    "'-0'",
    "0.5",
    "12.0",
    "'12.0'",
    "\"\\t5\"",
    "'1.000'",
    "'0x10'",
    "'-Infinity'",
    "'1_0.5'",
    "=",
    "'='",
    "2001-12-14t21:59:43.10-05:00",
    "[vm, ct]",
    "[vm, VM]",
    "[]",
    "{memory: 4}",
    "0777",
];

#[derive(Clone, Copy)]
enum Kind {
    Int,
    IntGe0,
    Bool,
    Str,
    Float,
    Enum(&'static [&'static str]),
    ListStr,
    ListEnum(&'static [&'static str]),
    OptInt,
    OptStr,
}

const RESOURCES: &[&str] = &["memory", "cpu", "disk"];

fn good(rng: &mut Rng, kind: Kind) -> String {
    match kind {
        Kind::Int | Kind::OptInt => rng
            .pick(&["1", "10", "0", "-3", "'5'", "1800", "7.0"])
            .into(),
        Kind::IntGe0 => rng.pick(&["0", "3", "'10'", "1_0"]).into(),
        Kind::Bool => rng
            .pick(&["true", "false", "yes", "off", "'y'", "1"])
            .into(),
        Kind::Str | Kind::OptStr => rng.pick(&["root@pam", "'x'", "\"pve 1\"", "a-b"]).into(),
        Kind::Float => rng.pick(&["2.0", "1", "0.5", "'3'"]).into(),
        Kind::Enum(values) => rng.pick(values).into(),
        Kind::ListStr => list(rng, &["pve1", "'pve2'", "node-3", "'no'", "\"x y\""]),
        Kind::ListEnum(values) => list(rng, values),
    }
}

fn list(rng: &mut Rng, items: &[&str]) -> String {
    let n = rng.below(4);
    let chosen: Vec<String> = (0..n)
        .map(|_| {
            if rng.chance(10) {
                rng.pick(TRICKY).to_owned()
            } else {
                rng.pick(items).to_owned()
            }
        })
        .collect();
    if rng.chance(50) || chosen.is_empty() {
        format!("[{}]", chosen.join(", "))
    } else {
        // A block list, marked for the renderer.
        format!("\u{1}{}", chosen.join("\u{1}"))
    }
}

fn value(rng: &mut Rng, kind: Kind) -> String {
    // `rng.1`: how often a value is drawn from the tricky pool in this config.
    if rng.chance(rng.1) {
        let t = rng.pick(TRICKY).to_owned();
        if matches!(kind, Kind::OptInt | Kind::OptStr) && rng.chance(20) {
            return "~".into();
        }
        t
    } else {
        good(rng, kind)
    }
}

/// A section: key, kind.
type Section = &'static [(&'static str, Kind)];

const API: Section = &[
    ("retries", Kind::Int),
    ("ssl_verification", Kind::Bool),
    ("timeout", Kind::Int),
    ("token_id", Kind::OptStr),
    ("token_secret", Kind::OptStr),
    ("pass", Kind::OptStr),
    ("wait_time", Kind::Int),
];
const CLUSTER: Section = &[
    ("ignore_nodes", Kind::ListStr),
    ("maintenance_nodes", Kind::ListStr),
    ("overprovisioning", Kind::Bool),
];
const BALANCING: Section = &[
    ("balance_larger_guests_first", Kind::Bool),
    ("balance_types", Kind::ListEnum(&["vm", "ct"])),
    ("balanciness", Kind::Int),
    ("cpu_overcommit", Kind::Float),
    ("cpu_threshold", Kind::OptInt),
    ("enable", Kind::Bool),
    ("enforce_affinity", Kind::Bool),
    ("enforce_pinning", Kind::Bool),
    ("ignore_guests", Kind::ListStr),
    ("live", Kind::Bool),
    ("max_job_validation", Kind::Int),
    ("max_node_inflow", Kind::OptInt),
    ("memory_threshold", Kind::OptInt),
    ("disk_threshold", Kind::OptInt),
    ("method", Kind::Enum(RESOURCES)),
    ("mode", Kind::Enum(&["used", "assigned", "psi"])),
    ("parallel", Kind::Bool),
    ("parallel_jobs", Kind::Int),
    ("with_conntrack_state", Kind::Bool),
    ("with_local_disks", Kind::Bool),
];
const SERVICE: Section = &[
    ("daemon", Kind::Bool),
    ("enable_ha", Kind::Bool),
    (
        "log_level",
        Kind::Enum(&["INFO", "DEBUG", "WARNING", "ERROR", "CRITICAL"]),
    ),
];
const SOLVER: Section = &[
    ("active_step_retries", Kind::Int),
    ("enable", Kind::Bool),
    ("fallback_to_greedy", Kind::Bool),
    ("log_dir", Kind::Str),
    ("mode", Kind::Enum(&["shadow", "active"])),
    ("timeout_seconds", Kind::Float),
    ("use_reservations", Kind::Bool),
];

/// A mapping being built: (key, rendered value) where a value is a scalar/flow text or a
/// nested mapping.
enum Val {
    Text(String),
    Map(Vec<(String, Val)>),
}

fn render(out: &mut String, entries: &[(String, Val)], indent: usize, rng: &mut Rng) {
    let pad = " ".repeat(indent);
    for (key, val) in entries {
        if rng.chance(5) {
            let _ = writeln!(out, "{pad}# a comment");
        }
        match val {
            Val::Text(t) if t.starts_with('\u{1}') => {
                let _ = writeln!(out, "{pad}{key}:");
                for item in t.split('\u{1}').skip(1) {
                    let _ = writeln!(out, "{pad}  - {item}");
                }
            }
            Val::Text(t) => {
                let _ = writeln!(out, "{pad}{key}: {t}");
            }
            Val::Map(inner) if inner.is_empty() && rng.chance(90) => {
                let _ = writeln!(out, "{pad}{key}: {{}}");
            }
            Val::Map(inner) if rng.chance(15) && inner.iter().all(|(_, v)| flowable(v)) => {
                let parts: Vec<String> = inner
                    .iter()
                    .map(|(k, v)| match v {
                        Val::Text(t) => format!("{k}: {}", flow_text(t)),
                        Val::Map(_) => String::new(),
                    })
                    .collect();
                let _ = writeln!(out, "{pad}{key}: {{{}}}", parts.join(", "));
            }
            Val::Map(inner) => {
                let _ = writeln!(out, "{pad}{key}:");
                render(out, inner, indent + 2, rng);
            }
        }
    }
}

fn flowable(v: &Val) -> bool {
    matches!(v, Val::Text(_))
}

fn flow_text(t: &str) -> String {
    if let Some(rest) = t.strip_prefix('\u{1}') {
        format!("[{}]", rest.split('\u{1}').collect::<Vec<_>>().join(", "))
    } else {
        t.to_owned()
    }
}

fn section(rng: &mut Rng, fields: Section, percent: u64) -> Vec<(String, Val)> {
    let mut out = Vec::new();
    for (key, kind) in fields {
        if rng.chance(percent) {
            out.push(((*key).to_owned(), Val::Text(value(rng, *kind))));
        }
    }
    if rng.chance(10) {
        out.push(("unknown_key".into(), Val::Text(value(rng, Kind::Str))));
    }
    if rng.chance(5) && !out.is_empty() {
        // A repeated key: the last one wins in PyYAML.
        let i = rng.below(out.len());
        let (key, kind) = (
            out[i].0.clone(),
            fields.iter().find(|(k, _)| *k == out[i].0),
        );
        let v = match kind {
            Some((_, kind)) => value(rng, *kind),
            None => rng.pick(TRICKY).to_owned(),
        };
        out.push((key, Val::Text(v)));
    }
    out
}

fn generate(rng: &mut Rng) -> String {
    // Half the configs are mostly valid (so acceptance is exercised), half adversarial.
    rng.1 = *[2u64, 4, 25, 40].get(rng.below(4)).unwrap_or(&10);
    match rng.below(100) {
        0 => return String::new(),
        1 => return "- a\n- b\n".into(),
        2 => return "just text\n".into(),
        3 => return "[proxmox]\napi_host=pve1\n".into(),
        _ => {}
    }
    let mut root: Vec<(String, Val)> = Vec::new();
    let mut prefix = String::new();
    let use_anchor = rng.chance(8);
    if use_anchor {
        prefix.push_str("x-defaults: &defaults\n  timeout: 10\n  retries: 2\n");
    }
    if rng.chance(95) {
        let mut api = Vec::new();
        if use_anchor {
            api.push(("<<".to_owned(), Val::Text("*defaults".into())));
        }
        if rng.chance(95) {
            api.push((
                "hosts".into(),
                Val::Text(if rng.chance(85) {
                    list(
                        rng,
                        &[
                            "pve1",
                            "'10.0.0.1:8006'",
                            "\"[fc00::1]\"",
                            "pve2.example.com",
                        ],
                    )
                } else {
                    rng.pick(TRICKY).to_owned()
                }),
            ));
        }
        if rng.chance(95) {
            api.push(("user".into(), Val::Text(value(rng, Kind::Str))));
        }
        api.extend(section(rng, API, 30));
        if rng.chance(3) {
            root.push(("proxmox_api".into(), Val::Text(rng.pick(TRICKY).to_owned())));
        } else {
            root.push(("proxmox_api".into(), Val::Map(api)));
        }
    }
    if rng.chance(50) {
        let mut cluster = section(rng, CLUSTER, 40);
        if rng.chance(30) {
            let mut sched = Vec::new();
            if rng.chance(60) {
                sched.push(("duration".to_owned(), Val::Text(value(rng, Kind::IntGe0))));
            }
            if rng.chance(60) {
                sched.push((
                    "pre-migration".to_owned(),
                    Val::Text(value(rng, Kind::IntGe0)),
                ));
            }
            if rng.chance(60) {
                let node = rng
                    .pick(&["pve1", "'no'", "no", "12", "'pve 2'"])
                    .to_owned();
                sched.push((
                    "schedules".to_owned(),
                    Val::Map(vec![(node, Val::Text(value(rng, Kind::ListStr)))]),
                ));
            }
            cluster.push(("maintenance_nodes_schedule".into(), Val::Map(sched)));
        }
        root.push(("proxmox_cluster".into(), Val::Map(cluster)));
    }
    if rng.chance(60) {
        let mut bal = section(rng, BALANCING, 25);
        if rng.chance(15) {
            let name = rng.pick(&["dev", "'db'", "12", "on"]).to_owned();
            let mut pool = Vec::new();
            if rng.chance(60) {
                pool.push((
                    "type".to_owned(),
                    Val::Text(
                        rng.pick(&["affinity", "anti-affinity", "Affinity", "~", "1"])
                            .into(),
                    ),
                ));
            }
            if rng.chance(50) {
                pool.push(("pin".to_owned(), Val::Text(value(rng, Kind::ListStr))));
            }
            if rng.chance(40) {
                pool.push(("strict".to_owned(), Val::Text(value(rng, Kind::Bool))));
            }
            bal.push(("pools".into(), Val::Map(vec![(name, Val::Map(pool))])));
        }
        if rng.chance(10) {
            let node = rng.pick(&["defaults", "pve1", "'no'", "1"]).to_owned();
            let res = rng
                .pick(&["memory", "cpu", "disk", "Memory", "ram"])
                .to_owned();
            bal.push((
                "node_resource_reserve".into(),
                Val::Map(vec![(
                    node,
                    Val::Map(vec![(res, Val::Text(value(rng, Kind::Int)))]),
                )]),
            ));
        }
        if rng.chance(8) {
            let mut psi = Vec::new();
            for side in ["guests", "nodes"] {
                if rng.chance(85) {
                    let res = rng.pick(&["memory", "cpu", "disk", "io"]).to_owned();
                    let mut p = Vec::new();
                    for k in ["pressure_full", "pressure_some", "pressure_spikes"] {
                        if rng.chance(90) {
                            p.push((k.to_owned(), Val::Text(value(rng, Kind::Float))));
                        }
                    }
                    psi.push((side.to_owned(), Val::Map(vec![(res, Val::Map(p))])));
                }
            }
            bal.push(("psi".into(), Val::Map(psi)));
        }
        if rng.chance(5) {
            root.push((
                "balancing".into(),
                Val::Text(rng.pick(&["", "~", "[]", "1"]).into()),
            ));
        } else {
            root.push(("balancing".into(), Val::Map(bal)));
        }
    }
    if rng.chance(40) {
        let mut svc = section(rng, SERVICE, 40);
        if rng.chance(30) {
            if rng.chance(20) {
                // ProxLB 1.1.0's form.
                svc.push((
                    "schedule".into(),
                    Val::Text(rng.pick(&["12", "'12'"]).into()),
                ));
            } else {
                let mut s = Vec::new();
                if rng.chance(70) {
                    s.push(("interval".to_owned(), Val::Text(value(rng, Kind::Int))));
                }
                if rng.chance(70) {
                    s.push((
                        "format".to_owned(),
                        Val::Text(value(rng, Kind::Enum(&["hours", "minutes"]))),
                    ));
                }
                svc.push(("schedule".into(), Val::Map(s)));
            }
        }
        if rng.chance(15) {
            let d = vec![
                ("enable".to_owned(), Val::Text(value(rng, Kind::Bool))),
                ("time".to_owned(), Val::Text(value(rng, Kind::Int))),
            ];
            svc.push(("delay".into(), Val::Map(d)));
        }
        root.push(("service".into(), Val::Map(svc)));
    }
    if rng.chance(15) {
        root.push(("solver".into(), Val::Map(section(rng, SOLVER, 40))));
    }
    if rng.chance(10) {
        root.push((
            "unknown_section".into(),
            Val::Text(rng.pick(TRICKY).to_owned()),
        ));
    }
    if rng.chance(2) {
        root.push(("12".into(), Val::Text("a".into())));
    }
    let mut out = String::new();
    if rng.chance(20) {
        out.push_str("# ProxLB configuration\n");
    }
    if rng.chance(10) {
        out.push_str("---\n");
    }
    out.push_str(&prefix);
    render(&mut out, &root, 0, rng);
    match rng.below(200) {
        0 => out.push_str("broken: [unclosed\n"),
        1 => out.push_str("---\nsecond: document\n"),
        2 => out.push_str("\tbad: tab\n"),
        3 => out.push_str("a: b: c\n"),
        4 => out.push_str("alias: *nowhere\n"),
        _ => {}
    }
    out
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PROXLB_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

#[test]
fn accept_reject_equals_proxlb_2_3_0_on_generated_configs() {
    let python = python();
    assert!(
        python.exists(),
        "ProxLB's venv is missing ({}): run scripts/setup.sh or set PROXLB_PYTHON; this test does not skip",
        python.display()
    );
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/config-differential.py");
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_cafe_f00d_1234, 10);
    let mut texts = Vec::with_capacity(CASES);
    for i in 0..CASES {
        let text = generate(&mut rng);
        std::fs::write(dir.path().join(format!("{i:05}.yaml")), &text).unwrap();
        texts.push(text);
    }
    let output = Command::new(&python)
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("run the ProxLB harness");
    assert!(
        output.status.success(),
        "harness failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let theirs: Vec<bool> = stdout.lines().map(|l| l.ends_with(" accept")).collect();
    assert_eq!(theirs.len(), CASES, "one verdict per file");
    let mut disagreements = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for (i, text) in texts.iter().enumerate() {
        let ours = check(text, &Context::default()).accepted();
        if std::env::var_os("PLB_DIFF_DEBUG").is_some() && !ours {
            println!(
                "{:?}",
                check(text, &Context::default())
                    .errors
                    .first()
                    .map(|e| e.message.clone())
            );
        }
        if ours {
            accepted += 1;
        } else {
            rejected += 1;
        }
        if ours != theirs[i] {
            disagreements.push(format!(
                "#{i}: ProxLB {} / ours {}\n{text}\n{:?}",
                if theirs[i] { "accepts" } else { "rejects" },
                if ours { "accepts" } else { "rejects" },
                check(text, &Context::default()).errors
            ));
        }
    }
    let agree = CASES - disagreements.len();
    println!(
        "config differential: {agree}/{CASES} agree with ProxLB 2.3.0 ({accepted} accepted, {rejected} rejected by us)"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {CASES} disagree; first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n----\n")
    );
    // The corpus must exercise both sides, or agreement means little.
    assert!(
        accepted > CASES / 10 && rejected > CASES / 10,
        "{accepted} accepted, {rejected} rejected"
    );
}
