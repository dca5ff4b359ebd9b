//! Pure types and pure logic of ProxLB Web, shared by the server and the browser.
//!
//! Nothing in this crate does IO: it compiles for `wasm32-unknown-unknown` and for the host,
//! and behaves the same on both.

pub mod audit;
pub mod auth;
pub mod balancing;
pub mod calendar;
pub mod explain;
pub mod guest_query;
pub mod live;
pub mod logs;
pub mod migrations;
pub mod projection;
pub mod proxlb;
pub mod runs;
pub mod secret;
pub mod server_info;
pub mod service;
pub mod theme;
pub mod units;
pub mod view;
pub mod yaml_highlight;

pub use server_info::ServerInfo;
pub use theme::ThemeChoice;
