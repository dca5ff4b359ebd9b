//! What the ProxLB Web server reports about itself.

use serde::{Deserialize, Serialize};

/// Identity and uptime of the running ProxLB Web server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Package version of the server binary (e.g. `0.1.0`).
    pub version: String,
    /// Seconds since the Unix epoch at which the server process started.
    pub started_at_unix: u64,
    /// Whole seconds the server has been running.
    pub uptime_seconds: u64,
    /// The cluster is ProxLB Web's embedded demo simulator, not a real Proxmox VE.
    pub demo: bool,
}
