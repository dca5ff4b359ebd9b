//! ProxLB's configuration file as an editable, guarded resource: the file adapter of the
//! [`crate::ports::config::ConfigStore`] port, backups, lossless YAML edits, PyYAML-equal loading,
//! the one write path ([`service::ConfigService`]) and the on-disk change watcher.

pub mod apply;
pub mod backup;
pub mod edit;
pub mod file;
pub mod load;
pub mod service;
pub mod watch;

pub use file::FileConfigStore;
pub use service::{ConfigError, ConfigService, ConfigView, NodeList, Saved};
