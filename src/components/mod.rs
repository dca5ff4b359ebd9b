//! Shared widgets used by several views.

pub mod banners;
pub mod cluster_data;
pub mod confirm_dialog;
pub mod error_panel;
pub mod guest_table;
pub mod layout;
pub mod live_client;
pub mod live_status;
pub mod load_chart;
pub mod meter;
pub mod node_widgets;
pub mod not_built;
pub mod not_found;
pub mod page_header;
pub mod planned_moves;
pub mod server_badge;
pub mod tag_badge;
pub mod theme_switch;
pub mod user_menu;
