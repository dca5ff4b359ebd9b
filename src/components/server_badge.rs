//! The server's version and uptime, at the foot of the sidebar.

use crate::api::resource::ApiResource;
use leptos::prelude::*;
use plb_domain::units::format_duration;

use crate::components::error_panel::ErrorPanel;
use crate::components::live_status::LiveContext;

/// Shows `ProxLB Web 0.1.0 · up 5m 2s`; the uptime follows the live channel's heartbeats.
#[component]
pub fn ServerBadge() -> impl IntoView {
    let info =
        expect_context::<ApiResource<Result<plb_domain::ServerInfo, crate::error::ApiError>>>();
    let LiveContext { uptime_seconds, .. } = expect_context::<LiveContext>();
    view! {
        <Transition fallback=|| view! { <p class="plb-server-badge plb-muted">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    info.await
                        .map(|info| {
                            let uptime = move || {
                                format_duration(uptime_seconds.get().unwrap_or(info.uptime_seconds))
                            };
                            view! {
                                <p class="plb-server-badge">
                                    <span class="plb-server-badge__version">
                                        "ProxLB Web " {info.version.clone()}
                                    </span>
                                    <span class="plb-server-badge__uptime" data-testid="server-uptime">
                                        "up " {uptime}
                                    </span>
                                </p>
                            }
                        })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
