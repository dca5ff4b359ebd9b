//! Shared widgets used by several views.

pub mod error_panel;
pub mod layout;
pub mod live_status;
pub mod not_built;
pub mod server_badge;
pub mod theme_switch;
