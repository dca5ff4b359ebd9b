//! The migration history: every guest move, whoever started it, kept in the store.
//!
//! [`MigrationService`] follows two sources in one task: ProxLB's log entries (turned into
//! migration facts by `plb_domain::migrations::MigrationTracker`) and the Proxmox task list the
//! snapshot poller keeps (`/cluster/tasks`, migration tasks only). Each fact is merged into the
//! `migrations` table by the rules in [`correlate`] (read its module documentation), in its own
//! transaction on the store's blocking pool. Both paths are idempotent, so the history survives
//! restarts of ProxLB Web (the log tail is read again, the same tasks are polled again) and of
//! ProxLB without duplicates.
//!
//! Readers: [`MigrationService::list`] (the Migrations page and `GET /api/migrations`),
//! [`MigrationService::recent`] (the dashboard feed), and [`MigrationService::subscribe`] (the
//! live `migrations` topic: a version that rises with every change, plus the newest moves).

pub mod correlate;
pub mod query;
pub mod rows;
mod service;

pub use service::{MigrationService, MigrationsFeed, FEED_LEN};
