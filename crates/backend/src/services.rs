//! Use cases, one module per view or resource. The web layer calls these and nothing deeper.

pub mod server_info;
