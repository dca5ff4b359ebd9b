//! One module per view (route component), named like its route.

pub mod account;
pub mod audit;
pub mod balancing;
pub mod config;
pub mod dashboard;
pub mod guests;
pub mod login;
pub mod logs;
pub mod migrations;
pub mod node_detail;
pub mod nodes;
pub mod not_found;
pub mod rules;
pub mod service;

/// An entry of the sidebar navigation.
#[derive(Clone, Copy, Debug)]
pub struct NavItem {
    /// Route path.
    pub path: &'static str,
    /// Label in the sidebar and page heading.
    pub label: &'static str,
    /// SVG path data (24×24, stroked) of the icon shown before the label.
    pub icon: &'static str,
}

/// The views in sidebar order: the spec's eight and the migration history.
pub const NAV_ITEMS: [NavItem; 9] = [
    NavItem {
        path: "/",
        label: "Dashboard",
        icon: "M3 3h7v9H3zM14 3h7v5h-7zM14 12h7v9h-7zM3 16h7v5H3z",
    },
    NavItem {
        path: "/nodes",
        label: "Nodes",
        icon: "M3 4h18v6H3zM3 14h18v6H3zM7 7h.01M7 17h.01",
    },
    NavItem {
        path: "/guests",
        label: "Guests",
        icon: "M4 4h16v12H4zM8 20h8M12 16v4",
    },
    NavItem {
        path: "/balancing",
        label: "Balancing",
        icon: "M12 3v18M7 21h10M5 7h14M5 7l-3 7a3 3 0 0 0 6 0zM19 7l-3 7a3 3 0 0 0 6 0z",
    },
    NavItem {
        path: "/rules",
        label: "Rules",
        icon: "M10 13a5 5 0 0 0 7.07 0l3-3a5 5 0 0 0-7.07-7.07l-1 1M14 11a5 5 0 0 0-7.07 0l-3 3a5 5 0 0 0 7.07 7.07l1-1",
    },
    NavItem {
        path: "/config",
        label: "Configuration",
        icon: "M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6",
    },
    NavItem {
        path: "/logs",
        label: "Logs",
        icon: "M4 6h16M4 12h16M4 18h10",
    },
    NavItem {
        path: "/migrations",
        label: "Migrations",
        icon: "M4 7h13l-3-3M20 17H7l3 3",
    },
    NavItem {
        path: "/service",
        label: "Service",
        icon: "M12 2v10M18.36 6.64a9 9 0 1 1-12.73 0",
    },
];
