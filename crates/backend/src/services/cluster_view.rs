//! One poll cycle's [`Snapshot`] → the UI's [`ClusterView`]: assembles the domain's
//! [`ClusterSnapshot`] from the entries the PVE adapter converts, then lets `plb_domain` compute
//! ProxLB's rules, usage, maintenance and decision once. Pure: no IO, no clock of its own.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use plb_domain::proxlb::{ClusterSnapshot, Guest, Pool, ProxLbConfig};
use plb_domain::view::{
    build_cluster_view, BalancingInputs, ClusterExtras, ClusterView, SnapshotMeta, StaleInfo,
};

use crate::adapters::pve::convert;
use crate::services::snapshot::{ClusterData, Section, SectionWarning, Snapshot};

/// The view of one snapshot at `now`. `utc_offset_seconds` is the ProxLB host's offset from UTC,
/// for maintenance schedules.
pub fn view_of(
    snapshot: &Snapshot,
    config: &ProxLbConfig,
    now: SystemTime,
    utc_offset_seconds: i64,
) -> ClusterView {
    let domain = snapshot.data.as_deref().map(to_domain).unwrap_or_default();
    let extras = snapshot
        .data
        .as_deref()
        .map(|data| extras(data, snapshot.tls_verification_disabled))
        .unwrap_or_else(|| ClusterExtras {
            tls_verification_off: snapshot.tls_verification_disabled,
            ..ClusterExtras::default()
        });
    let mut view = build_cluster_view(
        &domain,
        config,
        meta(snapshot),
        &extras,
        unix(now),
        utc_offset_seconds,
    );
    if let Some(data) = snapshot.data.as_deref() {
        view.node_history = data
            .node_history
            .iter()
            .map(|(node, points)| (node.clone(), convert::load_points(points)))
            .collect();
    }
    view
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Freshness of a snapshot, with a safe error summary.
pub fn meta(snapshot: &Snapshot) -> SnapshotMeta {
    SnapshotMeta {
        version: snapshot.sequence,
        fetched_at_unix: snapshot.fetched_at.map(unix),
        stale: snapshot.failure.as_ref().map(|failure| StaleInfo {
            since_unix: unix(failure.since),
            // The kind of failure and the host, so the operator knows where to look.
            error: match &failure.host {
                Some(host) if !failure.summary.contains(host.as_str()) => {
                    format!("{} (host {host})", failure.summary)
                }
                _ => failure.summary.clone(),
            },
        }),
        host: snapshot.failure.as_ref().and_then(|f| f.host.clone()),
        balancing_inputs: snapshot.data.as_deref().and_then(|data| {
            let status = data.inputs_status();
            (status.oldest_unix.is_some()).then_some(BalancingInputs {
                running_guests: status.running_guests,
                guests_covered: status.guests_covered,
                oldest_unix: status.oldest_unix,
            })
        }),
    }
}

fn extras(data: &ClusterData, tls_verification_disabled: bool) -> ClusterExtras {
    let crs_auto_rebalance = data
        .cluster_options
        .as_ref()
        .and_then(|options| options.crs.as_ref())
        .and_then(|crs| crs.ha_auto_rebalance)
        .unwrap_or(false);
    ClusterExtras {
        quorate: data.quorate,
        crs_auto_rebalance,
        tls_verification_off: tls_verification_disabled,
        missing_privileges: data.missing_privileges.clone().unwrap_or_default(),
        unavailable: data.warnings.iter().map(unavailable).collect(),
    }
}

/// One line for a section Proxmox did not give: what it is, and the safe summary of why.
fn unavailable(warning: &SectionWarning) -> String {
    let what = match warning.section {
        Section::ClusterStatus => "cluster status (quorum)",
        Section::ClusterOptions => "cluster options (CRS)",
        Section::Tasks => "recent tasks (migrations)",
        Section::HaStatus => "HA status (maintenance)",
        Section::HaRules => "HA rules",
        Section::Pools => "pools",
        Section::Permissions => "permissions",
        Section::NodeStatus => "node status",
        Section::NodeHistory => "load history",
    };
    match &warning.node {
        Some(node) => format!("{what} of {node}: {}", warning.summary),
        None => format!("{what}: {}", warning.summary),
    }
}

/// The domain's cluster model of one cycle's data.
pub fn to_domain(data: &ClusterData) -> ClusterSnapshot {
    let maintenance = data.maintenance_nodes();
    let nodes: Vec<_> = data
        .nodes()
        .filter_map(|resource| {
            let name = resource.node.as_deref()?;
            convert::node(
                resource,
                data.node_status.get(name),
                maintenance.iter().any(|m| m == name),
            )
        })
        .collect();

    let mut guests: Vec<Guest> = data
        .guests()
        .filter(|g| !g.template)
        .filter_map(convert::guest)
        .collect();
    // ProxLB's inputs where the poller has them: the guest's CPU as its last hour's RRD mean
    // and PSI from RRD (`proxlb/models/guests.py:84-111`), node PSI from RRD
    // (`proxlb/models/nodes.py:89-128`). Without them: instantaneous CPU, no PSI.
    for guest in &mut guests {
        if let Some(inputs) = data.rrd.guests.get(&guest.vmid) {
            guest.cpu_usage = inputs.cpu;
            guest.psi = Some(inputs.psi);
        }
    }
    let mut nodes = nodes;
    for node in &mut nodes {
        if let Some(inputs) = data.rrd.nodes.get(&node.name) {
            node.psi = Some(inputs.psi);
        }
    }

    // Every pool PVE lists, also the empty ones; members from the guests' `pool` field.
    let mut pools: BTreeMap<String, Vec<String>> = data
        .pools
        .iter()
        .map(|pool| (pool.poolid.clone(), Vec::new()))
        .collect();
    for guest in &guests {
        if let Some(pool) = &guest.pool {
            pools
                .entry(pool.clone())
                .or_default()
                .push(guest.name.clone());
        }
    }

    ClusterSnapshot {
        nodes,
        guests,
        pools: pools
            .into_iter()
            .map(|(id, members)| Pool { id, members })
            .collect(),
        ha_rules: data
            .ha_rules
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(convert::ha_rule)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::pve_wire::dto::{ClusterResource, NodeStatus, PoolSummary, ResourceType};
    use crate::pve_wire::FailureKind;
    use crate::testing::node;

    fn data() -> ClusterData {
        let vm = ClusterResource {
            id: "qemu/100".into(),
            kind: ResourceType::Qemu,
            vmid: Some(100),
            name: Some("web01".into()),
            node: Some("pve1".into()),
            status: Some("running".into()),
            pool: Some("prod".into()),
            ..ClusterResource::default()
        };
        let template = ClusterResource {
            id: "qemu/9000".into(),
            vmid: Some(9000),
            template: true,
            ..vm.clone()
        };
        let status = NodeStatus {
            pveversion: Some("pve-manager/9.1.2/0123abcd".into()),
            ..NodeStatus::default()
        };
        ClusterData {
            resources: vec![node("pve1"), node("pve2"), vm, template],
            node_status: BTreeMap::from([("pve1".to_owned(), status)]),
            pools: vec![
                PoolSummary {
                    poolid: "prod".into(),
                    ..PoolSummary::default()
                },
                PoolSummary {
                    poolid: "empty".into(),
                    ..PoolSummary::default()
                },
            ],
            warnings: vec![SectionWarning {
                section: Section::NodeStatus,
                node: Some("pve2".into()),
                kind: FailureKind::Forbidden,
                summary: "permission denied on /nodes/pve2/status".into(),
            }],
            ..ClusterData::default()
        }
    }

    #[test]
    fn one_cycle_becomes_the_domain_model() {
        let domain = to_domain(&data());
        let names: Vec<&str> = domain.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["pve1", "pve2"]);
        assert_eq!(domain.nodes[0].pve_version, "9.1.2");
        assert_eq!(domain.nodes[1].pve_version, "", "no status, no version");
        assert_eq!(domain.guests.len(), 1, "templates are not guests");
        let pools: Vec<(&str, usize)> = domain
            .pools
            .iter()
            .map(|p| (p.id.as_str(), p.members.len()))
            .collect();
        assert_eq!(pools, [("empty", 0), ("prod", 1)]);
    }

    #[test]
    fn sections_proxmox_did_not_give_become_one_line_each() {
        let extras = extras(&data(), false);
        assert_eq!(
            extras.unavailable,
            ["node status of pve2: permission denied on /nodes/pve2/status"]
        );
    }
}
