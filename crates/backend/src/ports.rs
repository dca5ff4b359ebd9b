//! Ports: the object-safe traits through which services reach the outside world.
//!
//! Each is held as `Arc<dyn Port>` in [`crate::AppState`], so tests can swap in a fake.

use std::time::SystemTime;

use crate::adapters::pve::dto::{
    ClusterOptions, ClusterResource, ClusterStatusEntry, GuestConfig, GuestKind, GuestListEntry,
    HaManagerStatus, HaResource, HaRule, HaStatusEntry, NodeListEntry, NodeRrdPoint, NodeStatus,
    Permissions, PoolDetail, PoolSummary, ResourceFilter, RrdCf, RrdTimeframe, TaskEntry,
    VersionInfo,
};
use crate::adapters::pve::{PveError, REQUIRED_PRIVILEGES};

/// Wall-clock time. Injected so uptime, countdowns and schedules can be tested.
pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The Proxmox VE API as the services need it: read-only calls returning the wire DTOs of
/// [`crate::adapters::pve::dto`]. Implemented by [`crate::adapters::pve::PveClient`]; tests use
/// fakes. Object-safe (`Arc<dyn PveApi>`).
#[async_trait::async_trait]
pub trait PveApi: Send + Sync {
    /// `GET /version`.
    async fn version(&self) -> Result<VersionInfo, PveError>;
    /// `GET /cluster/status` (membership and quorum; needs `Sys.Audit` on `/`).
    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError>;
    /// `GET /cluster/resources[?type=…]` (guests with tags and pool, nodes, storages, pools).
    async fn cluster_resources(
        &self,
        filter: Option<ResourceFilter>,
    ) -> Result<Vec<ClusterResource>, PveError>;
    /// `GET /nodes`.
    async fn nodes(&self) -> Result<Vec<NodeListEntry>, PveError>;
    /// `GET /nodes/{node}/status`.
    async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError>;
    /// `GET /nodes/{node}/rrddata?timeframe=…&cf=…`.
    async fn node_rrddata(
        &self,
        node: &str,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<NodeRrdPoint>, PveError>;
    /// `GET /nodes/{node}/version`.
    async fn node_version(&self, node: &str) -> Result<VersionInfo, PveError>;
    /// `GET /nodes/{node}/qemu` or `/lxc`.
    async fn node_guests(
        &self,
        node: &str,
        kind: GuestKind,
    ) -> Result<Vec<GuestListEntry>, PveError>;
    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`.
    async fn guest_config(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
    ) -> Result<GuestConfig, PveError>;
    /// `GET /pools`.
    async fn pools(&self) -> Result<Vec<PoolSummary>, PveError>;
    /// `GET /pools?poolid=…` (the pool with its members).
    async fn pool(&self, poolid: &str) -> Result<PoolDetail, PveError>;
    /// `GET /cluster/ha/rules` (PVE 9; `NotImplemented` before).
    async fn ha_rules(&self) -> Result<Vec<HaRule>, PveError>;
    /// `GET /cluster/ha/status/current`.
    async fn ha_status_current(&self) -> Result<Vec<HaStatusEntry>, PveError>;
    /// `GET /cluster/ha/status/manager_status`.
    async fn ha_manager_status(&self) -> Result<HaManagerStatus, PveError>;
    /// `GET /cluster/ha/resources`.
    async fn ha_resources(&self) -> Result<Vec<HaResource>, PveError>;
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
}
