//! Proxmox VE's wire types ([`crate::pve_wire::dto`]) into `plb_domain`'s cluster model, one
//! entry at a time. Assembling a whole [`plb_domain::proxlb::ClusterSnapshot`] from a poll cycle
//! is the view service's job (`services::cluster_view`).

use plb_domain::proxlb::{Guest, GuestKind, GuestStatus, HaRule, HaRuleKind, Node, NodeStatus};
use plb_domain::view::LoadPoint;

use crate::pve_wire::dto::{self, ClusterResource, NodeRrdPoint, ResourceType};

/// A node entry of `/cluster/resources`, with the node's `/nodes/{node}/status` when it was
/// fetched (for the PVE version) and whether its HA LRM is in maintenance. `None` for an entry
/// without a node name.
pub fn node(
    resource: &ClusterResource,
    status: Option<&dto::NodeStatus>,
    ha_maintenance: bool,
) -> Option<Node> {
    let name = resource.node.clone()?;
    Some(Node {
        status: match resource.status.as_deref() {
            Some("online") => NodeStatus::Online,
            Some("offline") => NodeStatus::Offline,
            _ => NodeStatus::Unknown,
        },
        cpu_usage: resource.cpu.unwrap_or(0.0),
        cpu_cores: whole(resource.maxcpu),
        mem_used: resource.mem.unwrap_or(0),
        mem_total: resource.maxmem.unwrap_or(0),
        disk_used: resource.disk.unwrap_or(0),
        disk_total: resource.maxdisk.unwrap_or(0),
        pve_version: status
            .and_then(|status| status.pveversion.as_deref())
            .map(pve_version)
            .unwrap_or_default(),
        ha_maintenance,
        psi: None,
        name,
    })
}

/// A VM or container entry of `/cluster/resources`; `None` for other entries and entries
/// without a VMID.
pub fn guest(resource: &ClusterResource) -> Option<Guest> {
    let kind = match resource.kind {
        ResourceType::Qemu => GuestKind::Vm,
        ResourceType::Lxc => GuestKind::Ct,
        _ => return None,
    };
    let vmid = resource.vmid?;
    Some(Guest {
        vmid,
        name: resource.name.clone().unwrap_or_else(|| format!("{vmid}")),
        kind,
        status: match resource.status.as_deref() {
            Some("running") => GuestStatus::Running,
            Some("stopped") => GuestStatus::Stopped,
            _ => GuestStatus::Other,
        },
        node: resource.node.clone().unwrap_or_default(),
        cpus: whole(resource.maxcpu),
        cpu_usage: resource.cpu.unwrap_or(0.0),
        mem_used: resource.mem.unwrap_or(0),
        mem_total: resource.maxmem.unwrap_or(0),
        disk_used: resource.disk.unwrap_or(0),
        disk_total: resource.maxdisk.unwrap_or(0),
        tags: resource.tag_list(),
        pool: resource.pool.clone(),
        ha_managed: resource.hastate.is_some(),
        lock: resource.lock.clone(),
        psi: None,
    })
}

/// A rule of `/cluster/ha/rules` (PVE 9).
pub fn ha_rule(rule: &dto::HaRule) -> HaRule {
    HaRule {
        id: rule.rule.clone(),
        kind: match (rule.kind.as_str(), rule.affinity.as_deref()) {
            ("node-affinity", _) => HaRuleKind::NodeAffinity,
            (_, Some("negative")) => HaRuleKind::ResourceAntiAffinity,
            _ => HaRuleKind::ResourceAffinity,
        },
        members: rule
            .resources
            .split(',')
            .filter_map(|sid| sid.trim().split_once(':'))
            .filter_map(|(_, vmid)| vmid.parse().ok())
            .collect(),
        // ProxLB takes the node list verbatim (priorities included); keep the raw entries.
        nodes: rule
            .nodes
            .as_deref()
            .map(|nodes| {
                nodes
                    .split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        disabled: rule.disable,
    }
}

/// RRD samples → load points; samples without time or values (gaps in PVE's RRD) are skipped.
pub fn load_points(points: &[NodeRrdPoint]) -> Vec<LoadPoint> {
    let mut series: Vec<LoadPoint> = points
        .iter()
        .filter_map(|point| {
            let time_unix = point.time?;
            let cpu = point.cpu?;
            let mem_percent = match (point.memused, point.memtotal) {
                (Some(used), Some(total)) if total > 0.0 => used * 100.0 / total,
                _ => return None,
            };
            Some(LoadPoint {
                time_unix,
                cpu_percent: cpu * 100.0,
                mem_percent,
            })
        })
        .collect();
    series.sort_by_key(|point| point.time_unix);
    series
}

/// `pve-manager/9.0.3/abcdef` → `9.0.3`; a bare version stays as it is.
fn pve_version(raw: &str) -> String {
    raw.split('/').nth(1).unwrap_or(raw).to_owned()
}

fn whole(value: Option<f64>) -> u32 {
    value
        .map(|v| v.round().clamp(0.0, f64::from(u32::MAX)) as u32)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_taken_from_pve_manager_strings() {
        assert_eq!(pve_version("pve-manager/9.0.3/0123abcd"), "9.0.3");
        assert_eq!(pve_version("8.4.1"), "8.4.1");
    }

    #[test]
    fn rrd_samples_become_sorted_load_points_without_gaps() {
        let sample = |time: Option<i64>, cpu: Option<f64>, used: Option<f64>| NodeRrdPoint {
            time,
            cpu,
            memused: used,
            memtotal: Some(200.0),
            ..NodeRrdPoint::default()
        };
        let points = load_points(&[
            sample(Some(120), Some(0.5), Some(50.0)),
            sample(Some(60), Some(0.25), Some(100.0)),
            sample(Some(180), None, Some(10.0)),
            sample(None, Some(0.1), Some(10.0)),
        ]);
        assert_eq!(
            points,
            vec![
                LoadPoint {
                    time_unix: 60,
                    cpu_percent: 25.0,
                    mem_percent: 50.0
                },
                LoadPoint {
                    time_unix: 120,
                    cpu_percent: 50.0,
                    mem_percent: 25.0
                },
            ]
        );
    }

    #[test]
    fn whole_rounds_and_clamps() {
        assert_eq!(whole(Some(3.6)), 4);
        assert_eq!(whole(Some(-2.0)), 0);
        assert_eq!(whole(None), 0);
    }

    #[test]
    fn ha_rules_keep_their_kind_members_and_raw_nodes() {
        let rule: dto::HaRule = serde_json::from_value(serde_json::json!({
            "rule": "keep-apart",
            "type": "resource-affinity",
            "affinity": "negative",
            "resources": "vm:100, ct:200,junk",
            "nodes": "pve1:2, pve2",
        }))
        .unwrap();
        let converted = ha_rule(&rule);
        assert_eq!(converted.id, "keep-apart");
        assert_eq!(converted.kind, HaRuleKind::ResourceAntiAffinity);
        assert_eq!(converted.members, vec![100, 200]);
        assert_eq!(converted.nodes, vec!["pve1:2", "pve2"]);
        assert!(!converted.disabled);
    }

    #[test]
    fn only_guests_with_a_vmid_convert() {
        let vm: ClusterResource = serde_json::from_value(serde_json::json!({
            "id": "qemu/100", "type": "qemu", "vmid": 100, "node": "pve1",
            "status": "running", "maxcpu": 2, "hastate": "started",
        }))
        .unwrap();
        let converted = guest(&vm).unwrap();
        assert_eq!(
            (converted.kind, converted.status),
            (GuestKind::Vm, GuestStatus::Running)
        );
        assert_eq!(converted.name, "100");
        assert!(converted.ha_managed);
        let storage: ClusterResource = serde_json::from_value(
            serde_json::json!({"id": "storage/pve1/local", "type": "storage"}),
        )
        .unwrap();
        assert!(guest(&storage).is_none());
    }
}
