//! The Rules view: what ProxLB derives from tags, pools and HA rules, and the conflicts.

use leptos::prelude::*;
use plb_domain::explain::{describe_conflict, describe_ignore, describe_source};
use plb_domain::proxlb::config::AffinityType;
use plb_domain::proxlb::rules::{GroupView, HaRuleSkip};
use plb_domain::proxlb::{HaRuleKind, RulesView};
use plb_domain::view::ClusterOverview;

use crate::components::cluster_data::WithOverview;
use crate::pages::PageHeader;

/// Groups, pins, ignores, pool and HA rules, with conflicts first.
#[component]
pub fn RulesPage() -> impl IntoView {
    view! {
        <PageHeader title="Rules" subtitle="Affinity, anti-affinity, pins, ignores, pools and HA rules." />
        <WithOverview render=Callback::new(|overview: ClusterOverview| view! { <Rules rules=overview.decision.rules /> }.into_any()) />
    }
}

fn join(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

/// A card with a counted heading; `children` render only when there is something to show.
#[component]
fn RuleSection(
    title: &'static str,
    id: &'static str,
    count: usize,
    empty: &'static str,
    children: Children,
) -> impl IntoView {
    let heading = format!("{id}-title");
    let labelled_by = heading.clone();
    view! {
        <section class="plb-card" aria-labelledby=labelled_by>
            <h2 class="plb-card__title" id=heading>{format!("{title} ({count})")}</h2>
            {if count == 0 { view! { <p>{empty}</p> }.into_any() } else { children() }}
        </section>
    }
}

#[component]
fn Rules(rules: RulesView) -> impl IntoView {
    view! {
        <RuleSection title="Conflicts" id="conflicts" count=rules.conflicts.len() empty="No conflicts: every rule can be applied as written.">
            <ul class="plb-conflicts">
                {rules.conflicts.iter().map(|c| view! { <li class="plb-banner plb-banner--warn">{describe_conflict(c)}</li> }).collect_view()}
            </ul>
        </RuleSection>
        <Groups title="Affinity groups" id="affinity" empty="No affinity groups." groups=rules.affinity_groups />
        <Groups title="Anti-affinity groups" id="anti-affinity" empty="No anti-affinity groups." groups=rules.anti_affinity_groups />
        <RuleSection title="Pinned guests" id="pins" count=rules.pinned.len() empty="No guest is pinned.">
            <div class="plb-table-wrap">
                <table class="plb-table">
                    <thead><tr><th scope="col">"Guest"</th><th scope="col">"Pinned to"</th><th scope="col">"Usable now"</th><th scope="col">"Strict"</th></tr></thead>
                    <tbody>
                        {rules.pinned.iter().map(|pin| view! {
                            <tr>
                                <th scope="row">{pin.guest.clone()}</th>
                                <td>{pin.pins.iter().map(|p| format!("{} ({})", p.node, describe_source(&p.source))).collect::<Vec<_>>().join(", ")}</td>
                                <td>{join(&pin.usable_nodes)}</td>
                                <td>{if pin.strict { "yes" } else { "no" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </RuleSection>
        <RuleSection title="Ignored guests" id="ignored" count=rules.ignored.len() empty="No guest is ignored.">
            <ul class="plb-list">
                {rules.ignored.iter().map(|ignored| view! {
                    <li><strong>{ignored.guest.clone()}</strong> " — " {ignored.reasons.iter().map(describe_ignore).collect::<Vec<_>>().join(", ")}</li>
                }).collect_view()}
            </ul>
        </RuleSection>
        <RuleSection title="Pool rules" id="pools" count=rules.pool_rules.len() empty="No pool rules in balancing.pools.">
            <div class="plb-table-wrap">
                <table class="plb-table">
                    <thead><tr><th scope="col">"Pool"</th><th scope="col">"Type"</th><th scope="col">"Pin"</th><th scope="col">"Strict"</th><th scope="col">"Members"</th></tr></thead>
                    <tbody>
                        {rules.pool_rules.iter().map(|pool| view! {
                            <tr>
                                <th scope="row">{pool.pool.clone()} {(!pool.exists).then(|| view! { <span class="plb-badge plb-badge--warn">"not in Proxmox"</span> })}</th>
                                <td>{pool.kind.map_or("—", AffinityType::as_str)}</td>
                                <td>{join(&pool.pin)}</td>
                                <td>{if pool.strict { "yes" } else { "no" }}</td>
                                <td>{join(&pool.members)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </RuleSection>
        <RuleSection title="Proxmox HA rules" id="ha" count=rules.ha_rules.len() empty="No HA rules (or Proxmox VE < 9, which has HA groups instead).">
            <div class="plb-table-wrap">
                <table class="plb-table">
                    <thead><tr><th scope="col">"Rule"</th><th scope="col">"Proxmox type"</th><th scope="col">"ProxLB reads it as"</th><th scope="col">"Guests"</th><th scope="col">"Nodes"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>
                        {rules.ha_rules.iter().map(|rule| view! {
                            <tr>
                                <th scope="row">{rule.id.clone()}</th>
                                <td>{match rule.kind { HaRuleKind::NodeAffinity => "node affinity", HaRuleKind::ResourceAffinity => "resource affinity", HaRuleKind::ResourceAntiAffinity => "resource anti-affinity" }}</td>
                                <td>{rule.proxlb_type.as_str()}</td>
                                <td>{join(&rule.member_guests)}</td>
                                <td>{join(&rule.nodes)}</td>
                                <td>{match rule.skipped { None => "applied", Some(HaRuleSkip::Disabled) => "disabled", Some(HaRuleSkip::PrePve9) => "skipped (PVE < 9)" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </RuleSection>
    }
}

#[component]
fn Groups(
    title: &'static str,
    id: &'static str,
    empty: &'static str,
    groups: Vec<GroupView>,
) -> impl IntoView {
    view! {
        <RuleSection title id count=groups.len() empty>
            <div class="plb-table-wrap">
                <table class="plb-table">
                    <thead><tr><th scope="col">"Group"</th><th scope="col">"Source"</th><th scope="col">"Members"</th><th scope="col">"On nodes"</th></tr></thead>
                    <tbody>
                        {groups.iter().map(|group| view! {
                            <tr>
                                <th scope="row">{group.name.clone()}</th>
                                <td>{group.sources.iter().map(describe_source).collect::<Vec<_>>().join(", ")}</td>
                                <td>{join(&group.members)}</td>
                                <td>{join(&group.nodes)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </RuleSection>
    }
}
