//! The cluster view service: turns every snapshot into the UI's [`ClusterView`] exactly once and
//! publishes it to all readers (pages, REST API, live channel). No reader ever calls Proxmox.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plb_domain::proxlb::{
    ClusterSnapshot, Guest, GuestKind, GuestStatus, HaRule, HaRuleKind, Node, NodeStatus, Pool,
    ProxLbConfig,
};
use plb_domain::view::{
    build_cluster_view, ClusterExtras, ClusterView, LoadPoint, SnapshotMeta, StaleInfo,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::adapters::pve::dto::{ClusterResource, NodeRrdPoint, ResourceType};
use crate::ports::Clock;
use crate::services::snapshot::{ClusterData, Snapshot, SnapshotHandle};

/// Readers' handle on the latest cluster view.
#[derive(Clone)]
pub struct ClusterHandle {
    views: watch::Receiver<Arc<ClusterView>>,
    snapshots: SnapshotHandle,
}

impl ClusterHandle {
    /// The latest view.
    pub fn current(&self) -> Arc<ClusterView> {
        Arc::clone(&self.views.borrow())
    }

    /// A receiver that wakes on every new view.
    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterView>> {
        self.views.clone()
    }

    /// The latest view, waiting up to `patience` for the very first fetch to finish, so the
    /// first page after start-up shows data instead of "loading".
    pub async fn ready(&self, patience: Duration) -> Arc<ClusterView> {
        let mut views = self.views.clone();
        let waited = tokio::time::timeout(patience, async {
            loop {
                {
                    let view = views.borrow_and_update();
                    if view.overview.meta.fetched_at_unix.is_some()
                        || view.overview.meta.stale.is_some()
                    {
                        return;
                    }
                }
                if views.changed().await.is_err() {
                    return;
                }
            }
        });
        let _timed_out = waited.await;
        self.current()
    }

    /// Asks the poller for a refresh now (coalesced with other demands).
    pub fn request_refresh(&self) {
        self.snapshots.request_refresh();
    }
}

/// Starts the view service on top of the snapshot poller. `utc_offset_seconds` is the ProxLB
/// host's offset from UTC, for maintenance schedules.
pub fn spawn(
    snapshots: SnapshotHandle,
    config: Arc<ProxLbConfig>,
    clock: Arc<dyn Clock>,
    utc_offset_seconds: i64,
    cancel: CancellationToken,
) -> ClusterHandle {
    let mut source = snapshots.subscribe();
    let build = {
        let config = Arc::clone(&config);
        let clock = Arc::clone(&clock);
        move |snapshot: &Snapshot| {
            Arc::new(view_of(snapshot, &config, clock.now(), utc_offset_seconds))
        }
    };
    let first = build(&source.borrow_and_update());
    let (publish, views) = watch::channel(first);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                changed = source.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let snapshot = Arc::clone(&source.borrow_and_update());
                    if publish.send(build(&snapshot)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    ClusterHandle { views, snapshots }
}

/// The view of one snapshot.
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
            .map(|(node, points)| (node.clone(), load_points(points)))
            .collect();
    }
    view
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
    }
}

/// Converts Proxmox's shapes into the domain's cluster model.
pub fn to_domain(data: &ClusterData) -> ClusterSnapshot {
    let maintenance = data.maintenance_nodes();
    let nodes = data
        .nodes()
        .filter_map(|resource| {
            let name = resource.node.clone()?;
            let version = data
                .node_status
                .get(&name)
                .and_then(|status| status.pveversion.as_deref())
                .map(pve_version)
                .unwrap_or_default();
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
                pve_version: version,
                ha_maintenance: maintenance.contains(&name),
                psi: None,
                name,
            })
        })
        .collect();

    let guests: Vec<Guest> = data
        .guests()
        .filter(|g| !g.template)
        .filter_map(guest)
        .collect();

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

    let ha_rules = data
        .ha_rules
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|rule| HaRule {
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
        })
        .collect();

    ClusterSnapshot {
        nodes,
        guests,
        pools: pools
            .into_iter()
            .map(|(id, members)| Pool { id, members })
            .collect(),
        ha_rules,
    }
}

fn guest(resource: &ClusterResource) -> Option<Guest> {
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
}

/// Connects to the cluster ProxLB's configuration file describes and starts the poller and the
/// view service. A configuration that cannot be used gives [`ClusterSource::Unconfigured`] with
/// a reason that is safe to show (path, field; never a secret).
pub fn connect(
    options: ConnectOptions,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
) -> crate::ClusterSource {
    use crate::adapters::config_file;
    use crate::adapters::pve::PveClient;
    use crate::services::snapshot::{self, SnapshotConfig};

    let unconfigured = |reason: String| crate::ClusterSource::Unconfigured { reason };
    let config = match config_file::load(&options.config_path) {
        Ok(config) => config,
        Err(error) => return unconfigured(error.to_string()),
    };
    let connection = match config_file::connection(
        &options.config_path,
        &config,
        options.ca_file,
        options.fingerprints,
    ) {
        Ok(connection) => connection,
        Err(error) => return unconfigured(error.to_string()),
    };
    let client = match PveClient::new(&connection) {
        Ok(client) => client,
        Err(error) => {
            return unconfigured(format!(
                "{}: proxmox_api: {}",
                options.config_path.display(),
                error.safe_summary()
            ))
        }
    };
    let snapshots = snapshot::spawn(
        Arc::new(client),
        Arc::clone(&clock),
        SnapshotConfig {
            interval: options.interval,
            ..SnapshotConfig::default()
        },
        cancel.clone(),
    );
    crate::ClusterSource::Live(spawn(
        snapshots,
        Arc::new(config),
        clock,
        options.utc_offset_seconds,
        cancel,
    ))
}

/// What [`connect`] needs.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// ProxLB's configuration file.
    pub config_path: std::path::PathBuf,
    /// Extra CA bundle for Proxmox's certificate.
    pub ca_file: Option<std::path::PathBuf>,
    /// Pinned certificate fingerprints (win over the CA file).
    pub fingerprints: Vec<crate::adapters::pve::Fingerprint>,
    /// Poll interval.
    pub interval: Duration,
    /// Offset of ProxLB's local time from UTC, for maintenance schedules.
    pub utc_offset_seconds: i64,
}

impl ConnectOptions {
    /// The options the server's settings ask for.
    pub fn from_settings(settings: &crate::Settings) -> Self {
        Self {
            config_path: settings.proxlb_config.clone(),
            ca_file: settings.ca_file.clone(),
            fingerprints: settings.pve_fingerprints.clone(),
            interval: settings.poll_interval,
            utc_offset_seconds: settings.utc_offset_minutes * 60,
        }
    }
}
