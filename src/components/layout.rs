//! The page frame: sidebar navigation, top bar and content area.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use plb_domain::auth::LOGIN_PATH;

use crate::components::banners::DemoBanner;
use crate::components::live_status::LiveStatus;
use crate::components::server_badge::ServerBadge;
use crate::components::theme_switch::ThemeSwitch;
use crate::components::user_menu::UserMenu;
use crate::pages::NAV_ITEMS;

/// Frame around every view. The login page gets a bare frame: no navigation, top bar or demo
/// banner, nothing that needs a session.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let pathname = use_location().pathname;
    let full = move || pathname.with(|path| path != LOGIN_PATH);
    view! {
        <a class="plb-skip-link" href="#main">"Skip to content"</a>
        <div class=move || if full() { "plb-app" } else { "plb-app plb-app--bare" }>
            <Show when=full>
                // The aside fills the whole height of the page (its background and border); the
                // inner column sticks to the window, so the navigation stays in view while scrolling.
                <aside class="plb-sidebar">
                    <div class="plb-sidebar__inner">
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
                    </div>
                </aside>
            </Show>
            <div class="plb-main">
                <Show when=full>
                    <header class="plb-topbar">
                        <LiveStatus />
                        <ThemeSwitch />
                        <UserMenu />
                    </header>
                </Show>
                <main class="plb-content" id="main" tabindex="-1">
                    <Show when=full>
                        <DemoBanner />
                    </Show>
                    {children()}
                </main>
            </div>
        </div>
    }
}
