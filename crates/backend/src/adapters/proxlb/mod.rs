//! The ProxLB backends: one adapter per way ProxLB runs, each implementing both
//! [`ServiceManager`](crate::ports::ServiceManager) and [`LogSource`](crate::ports::LogSource).
//! [`select::select`] picks one from the settings (`PROXLB_SERVICE`).

pub mod buffer;
pub mod docker;
pub mod docker_one_shot;
pub mod none;
pub mod plan_json;
pub mod process;
pub mod select;
pub mod systemd;
pub mod version;

pub use select::{select, ProxlbBackend};
