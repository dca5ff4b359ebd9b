//! A plan as the Balancing view shows it: the verdict, the balance test per method with its
//! numbers, how old ProxLB's inputs are, the reasons, a bar per node before and after the plan
//! for the balanced resource (with balanciness and threshold), and the moves, each with why
//! behind a disclosure ([`PlanMoves`]). Used for today's plan and a what-if candidate.

use leptos::prelude::*;
use plb_domain::balancing::answer::BalancingPlan;
use plb_domain::explain::{
    describe_inputs, describe_method_check, describe_pass_trigger, mode_name,
};
use plb_domain::proxlb::config::Resource;
use plb_domain::proxlb::decision::ReasonEffect;
use plb_domain::proxlb::explanation::NodeBar;

use crate::components::balancing_moves::PlanMoves;

/// One plan, titled.
#[component]
pub fn PlanPanel(
    /// The heading ("Today", "With your changes").
    #[prop(into)]
    title: String,
    /// The plan.
    plan: BalancingPlan,
    /// `data-testid` of the panel.
    #[prop(into)]
    testid: String,
    /// Leave out how old the inputs are (a what-if's second panel: same snapshot).
    #[prop(optional)]
    hide_inputs: bool,
    /// Offer the plan's other pages of moves (today's plan; a what-if shows its first page).
    #[prop(optional)]
    pageable: bool,
) -> impl IntoView {
    let method = plan.method;
    let scale = plan
        .projection
        .nodes
        .iter()
        .flat_map(|n| [n.before.get(method), n.after.get(method)])
        .fold(100.0_f64, f64::max);
    let limits = format!(
        "{} {} · balanciness {} points{}",
        method.as_str(),
        mode_name(plan.mode),
        plan.balanciness,
        plan.threshold
            .map(|t| format!(" · threshold {t} %"))
            .unwrap_or_default()
    );
    let spread = match (plan.spread_before, plan.spread_after) {
        (Some(b), Some(a)) => format!("Spread {b:.1} → {a:.1} points"),
        _ => String::new(),
    };
    let inputs = (!hide_inputs).then(|| describe_inputs(plan.inputs.as_ref()));
    let cluster = &plan.projection.cluster;
    let pass = if cluster.pass_triggers.is_empty() {
        "The relocation pass does not run.".to_owned()
    } else {
        format!(
            "The relocation pass runs: {}.",
            cluster
                .pass_triggers
                .iter()
                .map(|t| describe_pass_trigger(*t))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let checks = cluster
        .checks
        .iter()
        .map(|c| {
            let class = if c.active {
                "plb-balancing-checks__item plb-balancing-checks__item--active"
            } else {
                "plb-balancing-checks__item"
            };
            let needed = if c.needed { "needed" } else { "balanced" };
            view! {
                <li class=class data-method=c.method.as_str() data-needed=needed>
                    {c.active.then(|| view! { <strong>"Configured: "</strong> })}
                    {describe_method_check(c)}
                </li>
            }
        })
        .collect_view();
    let threshold = plan.threshold;
    let (moves, from, total) = (
        plan.projection.moves,
        plan.projection.moves_from,
        plan.projection.moves_total,
    );
    let mode = plan.mode;
    view! {
        <section class="plb-card plb-balancing-plan" data-testid=testid>
            <h2 class="plb-card__title">{title}</h2>
            <p class="plb-balancing-plan__verdict" data-testid="plan-verdict">{plan.verdict.clone()}</p>
            <p class="plb-muted">{limits}</p>
            <p class="plb-muted" data-testid="plan-spread">{spread}</p>
            {inputs.map(|lines| {
                let mut lines = lines.into_iter();
                let head = lines.next().unwrap_or_default();
                view! {
                    <div class="plb-balancing-inputs" data-testid="plan-inputs">
                        <p class="plb-balancing-inputs__head">{head}</p>
                        <ul class="plb-balancing-inputs__diffs">
                            {lines.map(|l| view! { <li>{l}</li> }).collect_view()}
                        </ul>
                    </div>
                }
            })}
            <h3 class="plb-balancing-plan__subtitle">"Is balancing needed?"</h3>
            <ul class="plb-balancing-checks" data-testid="plan-checks">{checks}</ul>
            <p class="plb-muted" data-testid="plan-pass">{pass}</p>
            <ul class="plb-balancing-reasons" data-testid="plan-reasons">
                {plan.projection.reasons.iter().map(|r| {
                    let class = match r.effect {
                        ReasonEffect::Triggers => "plb-balancing-reasons__item plb-balancing-reasons__item--triggers",
                        ReasonEffect::Prevents => "plb-balancing-reasons__item plb-balancing-reasons__item--prevents",
                        ReasonEffect::Informs => "plb-balancing-reasons__item",
                    };
                    view! { <li class=class>{r.text.clone()}</li> }
                }).collect_view()}
                {plan.projection.notes.iter().map(|n| view! {
                    <li class="plb-balancing-reasons__item plb-balancing-reasons__item--quirk">{format!("Quirk: {n}")}</li>
                }).collect_view()}
            </ul>
            <NodeBars nodes=plan.projection.nodes method scale threshold />
            <PlanMoves moves from total method mode pageable />
        </section>
    }
}

/// Before/after bars per node for `method`, scaled to `scale` percent.
#[component]
fn NodeBars(
    nodes: Vec<NodeBar>,
    method: Resource,
    scale: f64,
    threshold: Option<i64>,
) -> impl IntoView {
    let width = move |v: f64| format!("width: {:.1}%", (v / scale * 100.0).clamp(0.0, 100.0));
    let mark =
        threshold.map(|t| format!("left: {:.1}%", (t as f64 / scale * 100.0).clamp(0.0, 100.0)));
    view! {
        <table class="plb-balancing-bars" data-testid="plan-bars">
            <thead>
                <tr><th scope="col">"Node"</th><th scope="col">"Before → after"</th><th scope="col" class="plb-num">"%"</th></tr>
            </thead>
            <tbody>
                {nodes.into_iter().map(|n| {
                    let (before, after) = (n.before.get(method), n.after.get(method));
                    let label = format!("{before:.1} → {after:.1}");
                    let moves = match (n.moves_out, n.moves_in) {
                        (0, 0) => String::new(),
                        (out, into) => format!(" · {out} out, {into} in"),
                    };
                    let mark = mark.clone();
                    // The bar is drawn for the eye; the cell beside it says the same in
                    // figures, for everyone.
                    view! {
                        <tr data-node=n.node.clone()>
                            <th scope="row">
                                {if n.maintenance { format!("{} (maintenance)", n.node) } else { n.node.clone() }}
                            </th>
                            <td>
                                <div class="plb-balancing-bars__track" aria-hidden="true">
                                    <div class="plb-balancing-bars__before" style=width(before)></div>
                                    <div class="plb-balancing-bars__after" style=width(after)></div>
                                    {mark.map(|m| view! { <div class="plb-balancing-bars__threshold" style=m></div> })}
                                </div>
                            </td>
                            <td class="plb-num">{label}<span class="plb-muted">{moves}</span></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
