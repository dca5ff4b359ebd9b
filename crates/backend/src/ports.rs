//! Ports: the object-safe traits through which services reach the outside world.
//!
//! Each is built once by the composition root ([`crate::compose`]) and held as `Arc<dyn Port>`,
//! in [`crate::AppState`] or in the one service that uses it, so tests can swap in a fake
//! (see `crate::testing`). Ports speak neutral types ([`crate::pve_wire`], `plb_domain`), never
//! an adapter's.

use std::sync::Arc;
use std::time::SystemTime;

use plb_domain::proxlb::ProxLbConfig;

use crate::error::NotConfigured;
use crate::pve_wire::dto::{
    ClusterOptions, ClusterResource, ClusterStatusEntry, GuestConfig, GuestKind, GuestListEntry,
    GuestRrdPoint, HaManagerStatus, HaResource, HaRule, HaStatusEntry, NodeListEntry, NodeRrdPoint,
    NodeStatus, Permissions, PoolDetail, PoolSummary, ResourceFilter, RrdCf, RrdTimeframe,
    TaskEntry, VersionInfo,
};
use crate::pve_wire::{PveError, REQUIRED_PRIVILEGES};

pub mod config;
pub mod service;

pub use service::{
    LocalProxlb, LogSource, OneShot, OneShotOutput, OneShotRun, OneShotRunner, OneShotSignal,
    ServiceError, ServiceManager, SourceLine,
};

/// Wall-clock time. Injected so uptime, countdowns and schedules can be tested.
pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The answer of an endpoint an implementation does not provide: what a PVE without it answers.
fn not_provided<T>(path: &str) -> Result<T, PveError> {
    Err(PveError::NotImplemented {
        path: path.to_owned(),
    })
}

/// The Proxmox VE API as the services need it: read-only calls returning the wire DTOs of
/// [`crate::pve_wire::dto`]. Implemented by [`crate::adapters::pve::PveClient`]; tests use
/// fakes. Object-safe (`Arc<dyn PveApi>`).
///
/// The methods without a default body are the ones the services call (the snapshot poller);
/// the others default to [`PveError::NotImplemented`], so a fake implements only what it needs.
#[async_trait::async_trait]
pub trait PveApi: Send + Sync {
    /// `GET /cluster/status` (membership and quorum; needs `Sys.Audit` on `/`).
    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError>;
    /// `GET /cluster/resources[?type=…]` (guests with tags and pool, nodes, storages, pools).
    async fn cluster_resources(
        &self,
        filter: Option<ResourceFilter>,
    ) -> Result<Vec<ClusterResource>, PveError>;
    /// `GET /nodes/{node}/status`.
    async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError>;
    /// `GET /nodes/{node}/rrddata?timeframe=…&cf=…`.
    async fn node_rrddata(
        &self,
        node: &str,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<NodeRrdPoint>, PveError>;
    /// `GET /pools`.
    async fn pools(&self) -> Result<Vec<PoolSummary>, PveError>;
    /// `GET /cluster/ha/rules` (PVE 9; `NotImplemented` before).
    async fn ha_rules(&self) -> Result<Vec<HaRule>, PveError>;
    /// `GET /cluster/ha/status/current`.
    async fn ha_status_current(&self) -> Result<Vec<HaStatusEntry>, PveError>;
    /// `GET /cluster/options` (incl. `crs`).
    async fn cluster_options(&self) -> Result<ClusterOptions, PveError>;
    /// `GET /cluster/tasks` (recent tasks cluster-wide, newest first).
    async fn cluster_tasks(&self) -> Result<Vec<TaskEntry>, PveError>;
    /// `GET /access/permissions` (the caller's own).
    async fn permissions(&self) -> Result<Permissions, PveError>;
    /// Whether TLS certificate verification is off (`ssl_verification: false`), so the UI warns.
    fn tls_verification_disabled(&self) -> bool;

    /// The host (`host:port`) requests currently go to, if the adapter knows it.
    fn active_host(&self) -> Option<String> {
        None
    }

    /// Which of [`REQUIRED_PRIVILEGES`] the configured user or token lacks on every path. PVE
    /// silently filters lists without them, so the UI must tell the user.
    async fn missing_privileges(&self) -> Result<Vec<String>, PveError> {
        Ok(self.permissions().await?.missing(&REQUIRED_PRIVILEGES))
    }

    /// `GET /version`.
    async fn version(&self) -> Result<VersionInfo, PveError> {
        not_provided("/version")
    }
    /// `GET /nodes`.
    async fn nodes(&self) -> Result<Vec<NodeListEntry>, PveError> {
        not_provided("/nodes")
    }
    /// `GET /nodes/{node}/version`.
    async fn node_version(&self, node: &str) -> Result<VersionInfo, PveError> {
        not_provided(&format!("/nodes/{node}/version"))
    }
    /// `GET /nodes/{node}/qemu` or `/lxc`.
    async fn node_guests(
        &self,
        node: &str,
        kind: GuestKind,
    ) -> Result<Vec<GuestListEntry>, PveError> {
        not_provided(&format!("/nodes/{node}/{}", kind.as_str()))
    }
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`.
    async fn guest_config(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
    ) -> Result<GuestConfig, PveError> {
        not_provided(&format!("/nodes/{node}/{}/{vmid}/config", kind.as_str()))
    }
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/rrddata?timeframe=…&cf=…` (ProxLB's guest CPU and
    /// PSI inputs).
    async fn guest_rrddata(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<GuestRrdPoint>, PveError> {
        let _ = (timeframe, cf);
        not_provided(&format!("/nodes/{node}/{}/{vmid}/rrddata", kind.as_str()))
    }
    /// `GET /pools?poolid=…` (the pool with its members).
    async fn pool(&self, poolid: &str) -> Result<PoolDetail, PveError> {
        not_provided(&format!("/pools?poolid={poolid}"))
    }
    /// `GET /cluster/ha/status/manager_status`.
    async fn ha_manager_status(&self) -> Result<HaManagerStatus, PveError> {
        not_provided("/cluster/ha/status/manager_status")
    }
    /// `GET /cluster/ha/resources`.
    async fn ha_resources(&self) -> Result<Vec<HaResource>, PveError> {
        not_provided("/cluster/ha/resources")
    }
}

/// What the cluster service runs on: the API client and ProxLB's configuration, both read from
/// the configuration at the time of the (re)connect.
#[derive(Clone)]
pub struct ClusterConnection {
    /// The Proxmox VE API of the configured cluster.
    pub api: Arc<dyn PveApi>,
    /// ProxLB's configuration (balancing, maintenance, rules).
    pub config: Arc<ProxLbConfig>,
}

/// Builds the [`ClusterConnection`] from the configuration as it is now. Called once at start and
/// again on every [`reconnect`](crate::services::cluster::ClusterService::reconnect), so a
/// changed `proxmox_api` takes effect without a restart. Makes no request.
pub trait ClusterConnector: Send + Sync {
    /// Reads the configuration and builds the client, or says why that is not possible.
    fn connect(&self) -> Result<ClusterConnection, NotConfigured>;
}
