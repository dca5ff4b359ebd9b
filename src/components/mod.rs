//! Shared widgets used by several views.

pub mod balancing_ask;
pub mod balancing_explainer;
pub mod balancing_form;
pub mod balancing_move;
pub mod balancing_moves;
pub mod balancing_plan;
pub mod balancing_run;
pub mod banners;
pub mod clock;
pub mod cluster_data;
pub mod config_backups;
pub mod config_editor;
pub mod confirm_dialog;
pub mod error_panel;
pub mod guest_table;
pub mod history_pager;
pub mod layout;
pub mod live_client;
pub mod live_status;
pub mod load_chart;
pub mod log_line;
pub mod meter;
pub mod migration_widgets;
pub mod migrations_feed;
pub mod node_toggles;
pub mod node_widgets;
pub mod not_built;
pub mod not_found;
pub mod page_header;
pub mod planned_moves;
pub mod run_countdown;
pub mod server_badge;
pub mod service_card;
pub mod service_state;
pub mod tag_badge;
pub mod theme_switch;
pub mod user_menu;

/// Rendered HTML as a browser shows it, for tests that assert on markup: without Leptos'
/// hydration markers (`<!>`), which type-erased views (`erase_components`) put after text.
#[cfg(test)]
pub(crate) trait Markup {
    /// The HTML without `<!>` markers.
    fn markup(self) -> String;
}

#[cfg(test)]
impl Markup for String {
    fn markup(self) -> String {
        self.replace("<!>", "")
    }
}
