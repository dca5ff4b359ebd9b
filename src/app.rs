//! The HTML shell, the root component and the routes.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::Layout;
use crate::components::live_status::provide_live;
use crate::components::theme_switch::{initial_theme_choice, provide_theme};
use crate::components::user_menu::provide_current_user;
use crate::pages::{
    account::AccountPage, audit::AuditPage, balancing::BalancingPage, config::ConfigPage,
    dashboard::DashboardPage, guests::GuestsPage, login::LoginPage, logs::LogsPage,
    migrations::MigrationsPage, node_detail::NodeDetailPage, nodes::NodesPage,
    not_found::NotFoundPage, rules::RulesPage, service::ServicePage,
};

/// The whole HTML document. The theme cookie is read here during server rendering, so the first
/// byte already carries the right `data-theme` and there is no flash of the wrong theme.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = initial_theme_choice();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.data_theme()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: contexts, layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_theme();
    // The login page has no session to open the live channel with.
    if !crate::pages::login::is_login_page_load() {
        provide_live();
    }
    provide_current_user();
    provide_context(api_resource(
        || (),
        |_| crate::api::server_info::get_server_info(),
    ));
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/proxlb_web.css" />
        <Title formatter=|page: String| format!("{page} · ProxLB Web") />
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    // Async: every resource resolves before the first byte, so pages show real
                    // data without JavaScript (no out-of-order streaming into templates).
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/nodes") view=NodesPage ssr=SsrMode::Async />
                    <Route path=path!("/nodes/:name") view=NodeDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/guests") view=GuestsPage ssr=SsrMode::Async />
                    <Route path=path!("/balancing") view=BalancingPage ssr=SsrMode::Async />
                    <Route path=path!("/rules") view=RulesPage ssr=SsrMode::Async />
                    <Route path=path!("/config") view=ConfigPage ssr=SsrMode::Async />
                    <Route path=path!("/logs") view=LogsPage ssr=SsrMode::Async />
                    <Route path=path!("/migrations") view=MigrationsPage ssr=SsrMode::Async />
                    <Route path=path!("/service") view=ServicePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Sets `data-hydrated` on `<html>` once the WASM has taken over (tests wait for it).
fn mark_hydrated() {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
        {
            let _ignored = root.set_attribute("data-hydrated", "true");
        }
    });
}
