//! Use cases, one module per view or resource. The web layer calls these and nothing deeper.

pub mod balancing;
pub mod cluster;
pub mod cluster_view;
pub mod migrations;
pub mod proxlb;
pub mod rrd_inputs;
pub mod server_info;
pub mod snapshot;
