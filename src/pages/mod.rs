//! One module per view (route component), named like its route.

pub mod balancing;
pub mod config;
pub mod dashboard;
pub mod guests;
pub mod logs;
pub mod nodes;
pub mod not_found;
pub mod rules;
pub mod service;

use leptos::prelude::*;
use leptos_meta::Title;

/// An entry of the sidebar navigation.
#[derive(Clone, Copy, Debug)]
pub struct NavItem {
    /// Route path.
    pub path: &'static str,
    /// Label in the sidebar and page heading.
    pub label: &'static str,
    /// A small glyph shown before the label.
    pub icon: &'static str,
}

/// The eight views of the spec, in sidebar order.
pub const NAV_ITEMS: [NavItem; 8] = [
    NavItem { path: "/", label: "Dashboard", icon: "◫" },
    NavItem { path: "/nodes", label: "Nodes", icon: "▤" },
    NavItem { path: "/guests", label: "Guests", icon: "▣" },
    NavItem { path: "/balancing", label: "Balancing", icon: "⚖" },
    NavItem { path: "/rules", label: "Rules", icon: "⛓" },
    NavItem { path: "/config", label: "Configuration", icon: "⚙" },
    NavItem { path: "/logs", label: "Logs", icon: "☰" },
    NavItem { path: "/service", label: "Service", icon: "⏻" },
];

/// The heading of a view, with the document title.
#[component]
pub fn PageHeader(
    /// The view's name.
    title: &'static str,
    /// One sentence on what the view is for.
    subtitle: &'static str,
) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="plb-page-header">
            <h1 class="plb-page-header__title">{title}</h1>
            <p class="plb-page-header__subtitle">{subtitle}</p>
        </header>
    }
}
