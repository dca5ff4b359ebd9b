//! Banners above the content: demo mode, stale data, cluster warnings.

use crate::api::resource::ApiResource;
use leptos::prelude::*;
use plb_domain::units::format_clock_utc;
use plb_domain::view::{ClusterWarning, SnapshotMeta};
use plb_domain::ServerInfo;

use crate::error::ApiError;

/// Shows that the data is the last good snapshot because refreshing failed.
#[component]
pub fn StaleBanner(meta: SnapshotMeta) -> impl IntoView {
    meta.stale.map(|stale| {
        let shown = match meta.fetched_at_unix {
            Some(at) => format!(
                "Showing data from {} (stale since {}).",
                format_clock_utc(at),
                format_clock_utc(stale.since_unix)
            ),
            None => "No cluster data has been received yet.".to_owned(),
        };
        view! {
            <div class="plb-banner plb-banner--crit" role="alert" data-testid="stale-banner">
                <strong class="plb-banner__title">"Proxmox VE cannot be reached. "</strong>
                <span>{stale.error} ". " {shown} " ProxLB Web keeps retrying."</span>
            </div>
        }
    })
}

/// Lists cluster warnings, most important first.
#[component]
pub fn WarningList(warnings: Vec<ClusterWarning>) -> impl IntoView {
    (!warnings.is_empty()).then(|| {
        view! {
            <ul class="plb-warnings" aria-label="Warnings">
                {warnings
                    .into_iter()
                    .map(|warning| {
                        let kind = match &warning {
                            ClusterWarning::CrsAutoRebalance { .. } => "crs",
                            ClusterWarning::TlsVerificationOff => "tls",
                            ClusterWarning::MissingPrivileges { .. } => "privileges",
                            ClusterWarning::NoQuorum => "quorum",
                            ClusterWarning::NodesOffline { .. } => "offline",
                            ClusterWarning::PartialData { .. } => "partial",
                        };
                        view! {
                            <li class="plb-banner plb-banner--warn" data-warning=kind>
                                {warning.message()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// The demo-mode banner, shown on every page when the cluster is the embedded simulator.
#[component]
pub fn DemoBanner() -> impl IntoView {
    let info = expect_context::<ApiResource<Result<ServerInfo, ApiError>>>();
    view! {
        <Transition>
            {move || Suspend::new(async move {
                info.await
                    .ok()
                    .filter(|info| info.demo)
                    .map(|_| {
                        view! {
                            <p class="plb-banner plb-banner--info plb-demo-banner" data-testid="demo-banner">
                                <strong>"Demo mode. "</strong>
                                "This is a simulated Proxmox VE cluster embedded in ProxLB Web; nothing here touches a real cluster."
                            </p>
                        }
                    })
            })}
        </Transition>
    }
}
