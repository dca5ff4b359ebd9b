//! The Rules view: what ProxLB derives from tags, pools and HA rules, and the conflicts.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use plb_domain::explain::{describe_conflict, describe_ignore, describe_source};
use plb_domain::projection::{RulesPageView, RULES_SHOWN};
use plb_domain::proxlb::config::AffinityType;
use plb_domain::proxlb::rules::{GroupView, HaRuleSkip};
use plb_domain::proxlb::HaRuleKind;

use crate::components::cluster_data::{rules_resource, with_data};
use crate::components::page_header::PageHeader;

/// Groups, pins, ignores, pool and HA rules, with conflicts first.
#[component]
pub fn RulesPage() -> impl IntoView {
    // `?all=1` lists every entry; by default each list shows its first few (see RULES_SHOWN).
    let query = use_query_map();
    let show_all = move || query.with(|q| q.get("all").is_some_and(|v| v == "1"));
    view! {
        <PageHeader title="Rules" subtitle="Affinity, anti-affinity, pins, ignores, pools and HA rules." />
        {with_data(rules_resource(show_all), |data: RulesPageView| view! { <Rules data /> }.into_any())}
    }
}

fn join(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

/// "yes" or "no".
fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// A table with fixed column headings; `children` are its body rows.
#[component]
fn RuleTable(columns: &'static [&'static str], children: Children) -> impl IntoView {
    view! {
        <div class="plb-table-wrap">
            <table class="plb-table">
                <thead>
                    <tr>{columns.iter().map(|column| view! { <th scope="col">{*column}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
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
fn Rules(data: RulesPageView) -> impl IntoView {
    let RulesPageView { rules, totals, .. } = data;
    let cut = totals.any_cut(&rules);
    view! {
        {cut.then(|| view! {
            <p class="plb-muted" data-testid="rules-cut">
                {format!("Each list shows its first {RULES_SHOWN} entries. ")}
                <a href="/rules?all=1">"Show every rule"</a>
            </p>
        })}
        <RuleSection title="Conflicts" id="conflicts" count=totals.conflicts empty="No conflicts: every rule can be applied as written.">
            <ul class="plb-conflicts">
                {rules.conflicts.iter().map(|c| view! { <li class="plb-banner plb-banner--warn">{describe_conflict(c)}</li> }).collect_view()}
            </ul>
        </RuleSection>
        <Groups title="Affinity groups" id="affinity" empty="No affinity groups." count=totals.affinity_groups groups=rules.affinity_groups />
        <Groups title="Anti-affinity groups" id="anti-affinity" empty="No anti-affinity groups." count=totals.anti_affinity_groups groups=rules.anti_affinity_groups />
        <RuleSection title="Pinned guests" id="pins" count=totals.pinned empty="No guest is pinned.">
            <RuleTable columns=&["Guest", "Pinned to", "Usable now", "Strict"]>
                {rules.pinned.iter().map(|pin| view! {
                    <tr>
                        <th scope="row">{pin.guest.clone()}</th>
                        <td>{pin.pins.iter().map(|p| format!("{} ({})", p.node, describe_source(&p.source))).collect::<Vec<_>>().join(", ")}</td>
                        <td>{join(&pin.usable_nodes)}</td>
                        <td>{yes_no(pin.strict)}</td>
                    </tr>
                }).collect_view()}
            </RuleTable>
        </RuleSection>
        <RuleSection title="Ignored guests" id="ignored" count=totals.ignored empty="No guest is ignored.">
            <ul class="plb-list">
                {rules.ignored.iter().map(|ignored| view! {
                    <li><strong>{ignored.guest.clone()}</strong> " — " {ignored.reasons.iter().map(describe_ignore).collect::<Vec<_>>().join(", ")}</li>
                }).collect_view()}
            </ul>
        </RuleSection>
        <RuleSection title="Pool rules" id="pools" count=totals.pool_rules empty="No pool rules in balancing.pools.">
            <RuleTable columns=&["Pool", "Type", "Pin", "Strict", "Members"]>
                {rules.pool_rules.iter().map(|pool| view! {
                    <tr>
                        <th scope="row">{pool.pool.clone()} {(!pool.exists).then(|| view! { <span class="plb-badge plb-badge--warn">"not in Proxmox"</span> })}</th>
                        <td>{pool.kind.map_or("—", AffinityType::as_str)}</td>
                        <td>{join(&pool.pin)}</td>
                        <td>{yes_no(pool.strict)}</td>
                        <td>{join(&pool.members)}</td>
                    </tr>
                }).collect_view()}
            </RuleTable>
        </RuleSection>
        <RuleSection title="Proxmox HA rules" id="ha" count=totals.ha_rules empty="No HA rules (or Proxmox VE < 9, which has HA groups instead).">
            <RuleTable columns=&["Rule", "Proxmox type", "ProxLB reads it as", "Guests", "Nodes", "State"]>
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
            </RuleTable>
        </RuleSection>
    }
}

#[component]
fn Groups(
    title: &'static str,
    id: &'static str,
    empty: &'static str,
    /// Groups in all (`groups` may be the first of them).
    count: usize,
    groups: Vec<GroupView>,
) -> impl IntoView {
    view! {
        <RuleSection title id count empty>
            <RuleTable columns=&["Group", "Source", "Members", "On nodes"]>
                {groups.iter().map(|group| view! {
                    <tr>
                        <th scope="row">{group.name.clone()}</th>
                        <td>{group.sources.iter().map(describe_source).collect::<Vec<_>>().join(", ")}</td>
                        <td>{join(&group.members)}</td>
                        <td>{join(&group.nodes)}</td>
                    </tr>
                }).collect_view()}
            </RuleTable>
        </RuleSection>
    }
}
