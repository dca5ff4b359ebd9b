//! The page frame: sidebar navigation, top bar and content area.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::banners::DemoBanner;
use crate::components::live_status::LiveStatus;
use crate::components::server_badge::ServerBadge;
use crate::components::theme_switch::ThemeSwitch;
use crate::pages::NAV_ITEMS;

/// Frame around every view.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="plb-skip-link" href="#main">"Skip to content"</a>
        <div class="plb-app">
            <aside class="plb-sidebar">
                <a class="plb-sidebar__brand" href="/">
                    <span class="plb-sidebar__logo" aria-hidden="true">"⇄"</span>
                    <span>"ProxLB Web"</span>
                </a>
                <nav class="plb-nav" aria-label="Main">
                    <ul class="plb-nav__list">
                        {NAV_ITEMS
                            .iter()
                            .map(|item| {
                                view! {
                                    <li class="plb-nav__item">
                                        <A href=item.path attr:class="plb-nav__link">
                                            <svg
                                                class="plb-nav__icon"
                                                viewBox="0 0 24 24"
                                                aria-hidden="true"
                                            >
                                                <path d=item.icon />
                                            </svg>
                                            <span class="plb-nav__label">{item.label}</span>
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <div class="plb-sidebar__footer">
                    <ServerBadge />
                </div>
            </aside>
            <div class="plb-main">
                <header class="plb-topbar">
                    <LiveStatus />
                    <ThemeSwitch />
                </header>
                <main class="plb-content" id="main" tabindex="-1">
                    <DemoBanner />
                    {children()}
                </main>
            </div>
        </div>
    }
}
