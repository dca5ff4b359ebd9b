//! Adapters: implementations of the [ports](crate::ports) that talk to the outside world.

pub mod config_connector;
pub mod config_file;
pub mod proxlb;
pub mod pve;
