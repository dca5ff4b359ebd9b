//! What the [`PveApi`](crate::ports::PveApi) port speaks: the Proxmox VE wire types, shared by
//! the port, the adapter that implements it and the services that call it.
//!
//! Neutral ground so that ports never depend on adapters:
//! - [`dto`]: the response types, mirroring PVE's JSON.
//! - [`lenient`]: serde helpers for Perl-generated JSON (`0`/`1` booleans, numbers as strings).
//! - [`error`]: [`PveError`], free of secrets, and its conversion into [`crate::Error`].

pub mod dto;
pub mod error;
pub mod lenient;

pub use error::{FailureKind, PveError};

/// The privileges ProxLB needs (and checks at start): without them PVE silently filters lists.
pub const REQUIRED_PRIVILEGES: [&str; 4] =
    ["Sys.Audit", "VM.Audit", "Datastore.Audit", "VM.Migrate"];
