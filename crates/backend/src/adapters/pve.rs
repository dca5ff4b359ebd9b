//! A typed client for the Proxmox VE REST API (`https://{host}:{port}/api2/json`). The wire types
//! it decodes into live in [`crate::pve_wire`], shared with the port.
//!
//! - [`config`]: what to connect to and how to authenticate ([`PveConnectionConfig`]).
//! - [`auth`]: secrets that never print ([`Secret`]), token headers and tickets.
//! - [`tls`]: trust modes (system store, CA bundle, pinned SHA-256 fingerprints, off).
//! - [`login`]: [`login::PveLogin`], checking a person's credentials for ProxLB Web's login.
//! - [`convert`]: the wire types into `plb_domain`'s cluster model, entry by entry.
//! - [`client`]: [`PveClient`], host failover, ticket renewal, and the
//!   [`PveApi`](crate::ports::PveApi) implementation.

pub mod auth;
pub mod client;
pub mod config;
pub mod convert;
pub mod login;
pub mod tls;

pub use auth::Secret;
pub use client::PveClient;
pub use config::{Fingerprint, PveConnectionConfig, PveCredentials, PveHost, TlsTrust};
