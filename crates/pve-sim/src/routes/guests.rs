//! Guest endpoints below `/nodes/{node}/{qemu|lxc}`: lists, `status/current`, `config`,
//! `rrddata`, migration preconditions and `POST .../migrate`.

use serde_json::{json, Map, Value};

use super::cluster::{counters, guest_status};
use super::{vmid_arg, Ctx};
use crate::metrics::{guest_rrd, guest_usage, GuestUsage};
use crate::noise;
use crate::response::{ApiError, ApiOk, ApiResult};
use crate::scenario::GuestKind;
use crate::state::{config_missing, Cluster, Guest, MigrateError, Node};

const PSI_NAMES: [&str; 6] = [
    "pressurecpusome",
    "pressurecpufull",
    "pressureiosome",
    "pressureiofull",
    "pressurememorysome",
    "pressurememoryfull",
];

fn list_entry(cluster: &Cluster, node: &Node, g: &Guest, now: f64) -> Map<String, Value> {
    let u: GuestUsage = guest_usage(cluster, g, now);
    let mut m = Map::new();
    m.insert("vmid".into(), json!(g.spec.vmid));
    m.insert("name".into(), json!(g.spec.name));
    m.insert("status".into(), json!(guest_status(cluster, g)));
    m.insert("cpu".into(), json!(u.cpu));
    m.insert("cpus".into(), json!(g.spec.cpus));
    m.insert("mem".into(), json!(u.mem));
    m.insert("maxmem".into(), json!(g.spec.maxmem.0));
    m.insert("disk".into(), json!(u.disk));
    m.insert("maxdisk".into(), json!(g.spec.maxdisk.0));
    let c = if u.running {
        counters(g, u.uptime)
    } else {
        [0; 4]
    };
    m.insert("netin".into(), json!(c[0]));
    m.insert("netout".into(), json!(c[1]));
    m.insert("diskread".into(), json!(c[2]));
    m.insert("diskwrite".into(), json!(c[3]));
    m.insert("uptime".into(), json!(u.uptime));
    if u.running {
        let pid = 1_000 + noise::pick(cluster.seed, g.key, 20, 900_000);
        m.insert("pid".into(), json!(pid));
    }
    if let Some(tags) = g.tags_joined() {
        m.insert("tags".into(), json!(tags));
    }
    if let Some(lock) = &g.lock {
        m.insert("lock".into(), json!(lock));
    }
    if g.spec.template {
        m.insert("template".into(), json!(1));
    }
    match g.spec.kind {
        GuestKind::Vm => {
            if node.is_pve9() {
                m.insert("memhost".into(), json!(u.memhost));
            }
            m.insert("serial".into(), json!(0));
        }
        GuestKind::Ct => {
            m.insert("type".into(), json!("lxc"));
            m.insert("maxswap".into(), json!(512u64 << 20));
            m.insert("swap".into(), json!(0));
        }
    }
    if u.running && node.is_pve9() {
        for (i, name) in PSI_NAMES.iter().enumerate() {
            let v = match g.spec.kind {
                GuestKind::Vm => json!(u.psi[i]),
                // pve-container copies the regex captures: strings on the wire.
                GuestKind::Ct => json!(format!("{:.2}", u.psi[i])),
            };
            m.insert((*name).into(), v);
        }
    }
    m
}

/// `GET /nodes/{node}/{qemu|lxc}`: guests on the node the caller may audit.
pub fn list(ctx: &mut Ctx<'_>, node: &str, kind: GuestKind) -> ApiResult {
    let allowed: &[&str] = match kind {
        GuestKind::Vm => &["full"],
        GuestKind::Ct => &[],
    };
    ctx.allow_params(allowed)?;
    ctx.bool_param("full")?;
    let n = ctx.proxied_node(node)?;
    let cluster = &*ctx.cluster;
    let out: Vec<Value> = cluster
        .guests
        .values()
        .filter(|g| g.spec.kind == kind && g.node() == node)
        .filter(|g| ctx.has_vm(g.spec.vmid, "VM.Audit"))
        .map(|g| Value::Object(list_entry(cluster, &n, g, ctx.now)))
        .collect();
    Ok(ApiOk::data(Value::Array(out)))
}

/// Resolves `{node}`/`{vmid}` to a guest of `kind` on that node, after the permission check
/// (`privilege` on `/vms/{vmid}`), failing like PVE when the config is elsewhere.
fn guest_on(
    ctx: &Ctx<'_>,
    node: &str,
    kind: GuestKind,
    vmid: &str,
    privilege: &str,
) -> Result<(Node, u32), ApiError> {
    let vmid = vmid_arg(vmid)?;
    let n = ctx.proxied_node(node)?;
    ctx.require_vm(vmid, privilege)?;
    let ok = ctx
        .cluster
        .guests
        .get(&vmid)
        .is_some_and(|g| g.spec.kind == kind && g.node() == node);
    if !ok {
        return Err(ApiError::internal(config_missing(node, kind, vmid)));
    }
    Ok((n, vmid))
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}`: directory index.
pub fn index(ctx: &mut Ctx<'_>, node: &str, kind: GuestKind, vmid: &str) -> ApiResult {
    ctx.allow_params(&[])?;
    guest_on(ctx, node, kind, vmid, "VM.Audit")?;
    super::index("subdir", &["config", "migrate", "rrddata", "status"])
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/status/current`.
pub fn status(ctx: &mut Ctx<'_>, node: &str, kind: GuestKind, vmid: &str) -> ApiResult {
    ctx.allow_params(&[])?;
    let (n, vmid) = guest_on(ctx, node, kind, vmid, "VM.Audit")?;
    let cluster = &*ctx.cluster;
    let Some(g) = cluster.guests.get(&vmid) else {
        return Err(ApiError::internal(config_missing(node, kind, vmid)));
    };
    let mut m = list_entry(cluster, &n, g, ctx.now);
    let ha = match &g.ha_state {
        Some(state) => json!({"managed": 1, "state": state}),
        None => json!({"managed": 0}),
    };
    m.insert("ha".into(), ha);
    if kind == GuestKind::Vm {
        let running = g.running();
        m.insert(
            "qmpstatus".into(),
            json!(if running { "running" } else { "stopped" }),
        );
        m.insert("agent".into(), json!(1));
        if running {
            m.insert("running-machine".into(), json!("pc-q35-10.0+pve1"));
            m.insert("running-qemu".into(), json!("10.0.2"));
        }
    }
    Ok(ApiOk::data(Value::Object(m)))
}

fn mac(seed: u64, vmid: u32) -> String {
    let h = noise::mix(seed ^ u64::from(vmid));
    format!(
        "BC:24:11:{:02X}:{:02X}:{:02X}",
        (h >> 16) as u8,
        (h >> 8) as u8,
        h as u8
    )
}

fn gib_text(bytes: u64) -> String {
    format!("{}G", bytes.div_ceil(1 << 30))
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`: flat config keys plus `digest`.
pub fn config(ctx: &mut Ctx<'_>, node: &str, kind: GuestKind, vmid: &str) -> ApiResult {
    ctx.allow_params(&["current", "snapshot"])?;
    ctx.bool_param("current")?;
    let (_, vmid) = guest_on(ctx, node, kind, vmid, "VM.Audit")?;
    let cluster = &*ctx.cluster;
    let Some(g) = cluster.guests.get(&vmid) else {
        return Err(ApiError::internal(config_missing(node, kind, vmid)));
    };
    if let Some(snap) = ctx.params.get("snapshot") {
        return Err(ApiError::internal(format!(
            "snapshot '{snap}' does not exist"
        )));
    }
    let s = &g.spec;
    let mib = s.maxmem.0 >> 20;
    let mut m = Map::new();
    match kind {
        GuestKind::Vm => {
            m.insert("name".into(), json!(s.name));
            m.insert("memory".into(), json!(mib.to_string()));
            m.insert("cores".into(), json!(s.cpus));
            m.insert("sockets".into(), json!(1));
            m.insert("cpu".into(), json!("x86-64-v2-AES"));
            m.insert("numa".into(), json!(0));
            m.insert("ostype".into(), json!("l26"));
            m.insert("scsihw".into(), json!("virtio-scsi-single"));
            m.insert(
                "scsi0".into(),
                json!(format!(
                    "ceph-vm:vm-{vmid}-disk-0,iothread=1,size={}",
                    gib_text(s.maxdisk.0)
                )),
            );
            m.insert(
                "net0".into(),
                json!(format!(
                    "virtio={},bridge=vmbr0,firewall=1",
                    mac(cluster.seed, vmid)
                )),
            );
            m.insert("boot".into(), json!("order=scsi0;net0"));
            m.insert("agent".into(), json!("1"));
            m.insert("onboot".into(), json!(1));
            let ctime = cluster.created as i64 - 90 * 86_400;
            m.insert(
                "meta".into(),
                json!(format!("creation-qemu=9.2.0,ctime={ctime}")),
            );
            let h = noise::mix(cluster.seed ^ (u64::from(vmid) << 8));
            m.insert(
                "smbios1".into(),
                json!(format!(
                    "uuid={:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    h as u32,
                    (h >> 32) as u16,
                    (h >> 48) & 0xfff,
                    h & 0xfff,
                    h & 0xffff_ffff_ffff
                )),
            );
            m.insert(
                "vmgenid".into(),
                json!(format!(
                    "{:08x}-{:04x}-4{:03x}-9{:03x}-{:012x}",
                    (h >> 5) as u32,
                    (h >> 40) as u16,
                    (h >> 20) & 0xfff,
                    (h >> 3) & 0xfff,
                    (h >> 7) & 0xffff_ffff_ffff
                )),
            );
        }
        GuestKind::Ct => {
            m.insert("hostname".into(), json!(s.name));
            m.insert("memory".into(), json!(mib));
            m.insert("swap".into(), json!(512));
            m.insert("cores".into(), json!(s.cpus));
            m.insert("arch".into(), json!("amd64"));
            m.insert("ostype".into(), json!("debian"));
            m.insert("unprivileged".into(), json!(1));
            m.insert(
                "rootfs".into(),
                json!(format!(
                    "ceph-vm:vm-{vmid}-disk-0,size={}",
                    gib_text(s.maxdisk.0)
                )),
            );
            m.insert(
                "net0".into(),
                json!(format!(
                    "name=eth0,bridge=vmbr0,hwaddr={},ip=dhcp,type=veth",
                    mac(cluster.seed, vmid)
                )),
            );
            m.insert("onboot".into(), json!(1));
        }
    }
    if let Some(tags) = g.tags_joined() {
        m.insert("tags".into(), json!(tags));
    }
    if let Some(lock) = &g.lock {
        m.insert("lock".into(), json!(lock));
    }
    if s.template {
        m.insert("template".into(), json!(1));
    }
    let digest = {
        use sha2::{Digest, Sha256};
        let text = serde_json::to_string(&m).unwrap_or_default();
        let d = Sha256::digest(text.as_bytes());
        d.iter()
            .take(20)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    m.insert("digest".into(), json!(digest));
    Ok(ApiOk::data(Value::Object(m)))
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/rrddata?timeframe=...&cf=...`.
pub fn rrddata(ctx: &mut Ctx<'_>, node: &str, kind: GuestKind, vmid: &str) -> ApiResult {
    let pve9 = ctx.known_node(node)?.is_pve9();
    let (step, rows, cf) = super::nodes::rrd_params(ctx, pve9, &["timeframe", "cf"])?;
    let (_, vmid) = guest_on(ctx, node, kind, vmid, "VM.Audit")?;
    let cluster = &*ctx.cluster;
    let Some(g) = cluster.guests.get(&vmid) else {
        return Err(ApiError::internal(config_missing(node, kind, vmid)));
    };
    Ok(ApiOk::data(Value::Array(guest_rrd(
        cluster, g, ctx.now, step, rows, cf, pve9,
    ))))
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/migrate`: migration preconditions.
pub fn migrate_precondition(
    ctx: &mut Ctx<'_>,
    node: &str,
    kind: GuestKind,
    vmid: &str,
) -> ApiResult {
    match kind {
        GuestKind::Vm => ctx.allow_params(&["target"])?,
        GuestKind::Ct => ctx.allow_params(&["target"])?,
    }
    let (_, vmid) = guest_on(ctx, node, kind, vmid, "VM.Migrate")?;
    let cluster = &*ctx.cluster;
    let running = cluster.guests.get(&vmid).is_some_and(Guest::running);
    let ha = cluster.guests.get(&vmid).is_some_and(|g| g.spec.ha);
    let mut allowed = Vec::new();
    let mut not_allowed = Map::new();
    for n in cluster.nodes.iter().filter(|n| n.name != node) {
        if n.online {
            allowed.push(json!(n.name));
        } else {
            not_allowed.insert(n.name.clone(), json!({"unavailable_storages": ["ceph-vm"]}));
        }
    }
    let mut m = Map::new();
    m.insert("running".into(), json!(u8::from(running)));
    match kind {
        GuestKind::Vm => {
            m.insert("allowed_nodes".into(), json!(allowed));
            m.insert("not_allowed_nodes".into(), Value::Object(not_allowed));
            m.insert("local_disks".into(), json!([]));
            m.insert("local_resources".into(), json!([]));
            m.insert("mapped-resources".into(), json!([]));
            m.insert("mapped-resource-info".into(), json!({}));
            m.insert("has-dbus-vmstate".into(), json!(0));
        }
        GuestKind::Ct => {
            m.insert("allowed-nodes".into(), json!(allowed));
            m.insert("not-allowed-nodes".into(), Value::Object(not_allowed));
        }
    }
    if ha {
        m.insert("dependent-ha-resources".into(), json!([]));
    }
    Ok(ApiOk::data(Value::Object(m)))
}

/// `POST /nodes/{node}/{qemu|lxc}/{vmid}/migrate`: starts a `qmigrate`/`vzmigrate` task (or
/// `hamigrate` for HA-managed guests) and returns its UPID.
pub fn migrate(ctx: &mut Ctx<'_>, node: &str, kind: GuestKind, vmid: &str) -> ApiResult {
    let allowed: &[&str] = match kind {
        GuestKind::Vm => &[
            "target",
            "online",
            "with-local-disks",
            "targetstorage",
            "bwlimit",
            "with-conntrack-state",
            "force",
            "migration_type",
            "migration_network",
        ],
        GuestKind::Ct => &[
            "target",
            "online",
            "restart",
            "timeout",
            "target-storage",
            "bwlimit",
        ],
    };
    ctx.allow_params(allowed)?;
    let vmid = vmid_arg(vmid)?;
    let Some(target) = ctx.params.get("target").map(str::to_string) else {
        return Err(ApiError::param(
            "target",
            "property is missing and it is not optional",
        ));
    };
    let online = ctx.bool_param("online")?.unwrap_or(false);
    let restart = ctx.bool_param("restart")?.unwrap_or(false);
    ctx.bool_param("with-local-disks")?;
    ctx.bool_param("with-conntrack-state")?;
    ctx.bool_param("force")?;
    ctx.int_param("bwlimit")?;
    ctx.int_param("timeout")?;
    ctx.proxied_node(node)?;
    ctx.require_vm(vmid, "VM.Migrate")?;
    for root_only in ["force", "migration_type", "migration_network"] {
        if ctx.params.get(root_only).is_some() && ctx.caller.userid != "root@pam" {
            return Err(ApiError::param(root_only, "Only root may use this option."));
        }
    }
    let user = ctx.caller.upid_user();
    let now = ctx.now;
    match ctx
        .cluster
        .migrate(now, node, kind, vmid, &target, online, restart, &user)
    {
        Ok(upid) => Ok(ApiOk::data(json!(upid.to_string()))),
        Err(MigrateError::Param { param, message }) => Err(ApiError::param(param, message)),
        Err(MigrateError::Failed(message)) => Err(ApiError::internal(message)),
    }
}
