//! ProxLB tags as badges, coloured by what ProxLB makes of them.

use leptos::prelude::*;
use plb_domain::view::{TagBadge, TagKind};

/// The badges of a guest's tags.
#[component]
pub fn TagBadges(tags: Vec<TagBadge>) -> impl IntoView {
    view! {
        <span class="plb-tags">
            {tags
                .into_iter()
                .map(|badge| {
                    let title = match badge.kind {
                        TagKind::Affinity => "ProxLB affinity: kept on one node with its group",
                        TagKind::AntiAffinity => "ProxLB anti-affinity: kept apart from its group",
                        TagKind::Pin => "ProxLB pin: only placed on the named node",
                        TagKind::Ignore => "ProxLB ignore: never moved",
                        TagKind::Other => "Not a ProxLB tag",
                    };
                    view! {
                        <span class=format!("plb-badge plb-badge--{}", badge.kind.as_str()) title=title>
                            {badge.tag}
                        </span>
                    }
                })
                .collect_view()}
        </span>
    }
}
