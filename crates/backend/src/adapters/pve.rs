//! A typed client for the Proxmox VE REST API (`https://{host}:{port}/api2/json`).
//!
//! - [`config`]: what to connect to and how to authenticate ([`PveConnectionConfig`]).
//! - [`auth`]: secrets that never print ([`Secret`]), token headers and tickets.
//! - [`tls`]: trust modes (system store, CA bundle, pinned SHA-256 fingerprints, off).
//! - [`lenient`]: serde helpers for Perl-generated JSON (`0`/`1` booleans, numbers as strings).
//! - [`dto`]: the response types, mirroring PVE's JSON.
//! - [`error`]: [`PveError`], free of secrets, and its conversion into [`crate::Error`].
//! - [`client`]: [`PveClient`], host failover, ticket renewal, and the
//!   [`PveApi`](crate::ports::PveApi) implementation.

pub mod auth;
pub mod client;
pub mod config;
pub mod dto;
pub mod error;
pub mod lenient;
pub mod tls;

pub use auth::Secret;
pub use client::{PveClient, REQUIRED_PRIVILEGES};
pub use config::{Fingerprint, PveConnectionConfig, PveCredentials, PveHost, TlsTrust};
pub use error::{FailureKind, PveError};
