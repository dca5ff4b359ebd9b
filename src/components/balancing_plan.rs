//! A plan as the Balancing view shows it: the verdict and its reasons, a bar per node before and
//! after the plan for the balanced resource (with balanciness and threshold), and the moves,
//! each with its reasons behind a disclosure. Used for today's plan and a what-if candidate.

use leptos::prelude::*;
use plb_domain::balancing::plan_view::{NodeBar, PlanView};
use plb_domain::explain::mode_name;
use plb_domain::proxlb::decision::ReasonEffect;

/// One plan, titled.
#[component]
pub fn PlanPanel(
    /// The heading ("Today", "With your changes").
    #[prop(into)]
    title: String,
    /// The plan.
    plan: PlanView,
    /// `data-testid` of the panel.
    #[prop(into)]
    testid: String,
) -> impl IntoView {
    let scale = plan
        .nodes
        .iter()
        .flat_map(|n| [n.before, n.after])
        .fold(100.0_f64, f64::max);
    let limits = format!(
        "{} {} · balanciness {} points{}",
        plan.method.as_str(),
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
    let threshold = plan.threshold;
    view! {
        <section class="plb-card plb-balancing-plan" data-testid=testid>
            <h2 class="plb-card__title">{title}</h2>
            <p class="plb-balancing-plan__verdict" data-testid="plan-verdict">{plan.verdict.clone()}</p>
            <p class="plb-muted">{limits}</p>
            <p class="plb-muted" data-testid="plan-spread">{spread}</p>
            <ul class="plb-balancing-reasons" data-testid="plan-reasons">
                {plan.reasons.iter().map(|r| {
                    let class = match r.effect {
                        ReasonEffect::Triggers => "plb-balancing-reasons__item plb-balancing-reasons__item--triggers",
                        ReasonEffect::Prevents => "plb-balancing-reasons__item plb-balancing-reasons__item--prevents",
                        ReasonEffect::Informs => "plb-balancing-reasons__item",
                    };
                    view! { <li class=class>{r.text.clone()}</li> }
                }).collect_view()}
                {plan.notes.iter().map(|n| view! {
                    <li class="plb-balancing-reasons__item plb-balancing-reasons__item--quirk">{format!("Quirk: {n}")}</li>
                }).collect_view()}
            </ul>
            <NodeBars nodes=plan.nodes.clone() scale threshold />
            <h3 class="plb-balancing-plan__subtitle">
                {format!("Moves ({})", plan.moves.len())}
            </h3>
            {if plan.moves.is_empty() {
                view! { <p class="plb-muted" data-testid="plan-no-moves">"No guest would move."</p> }.into_any()
            } else {
                view! {
                    <ol class="plb-balancing-moves" data-testid="plan-moves">
                        {plan.moves.iter().map(|m| {
                            let head = format!("{} ({}): {} → {}", m.guest, m.vmid, m.from, m.to);
                            let class = if m.issued { "plb-balancing-moves__item" } else { "plb-balancing-moves__item plb-balancing-moves__item--held" };
                            view! {
                                <li class=class data-guest=m.guest.clone()>
                                    <details>
                                        <summary>{if m.issued { head } else { format!("{head} · not issued") }}</summary>
                                        <ul class="plb-balancing-moves__reasons">
                                            {m.reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}
                                        </ul>
                                    </details>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            {(!plan.events.is_empty()).then(|| view! {
                <ul class="plb-balancing-events plb-muted">
                    {plan.events.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// Before/after bars per node, scaled to `scale` percent.
#[component]
fn NodeBars(nodes: Vec<NodeBar>, scale: f64, threshold: Option<i64>) -> impl IntoView {
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
                    let label = format!("{:.1} → {:.1}", n.before, n.after);
                    let mark = mark.clone();
                    view! {
                        <tr data-node=n.node.clone()>
                            <th scope="row">
                                {if n.maintenance { format!("{} (maintenance)", n.node) } else { n.node.clone() }}
                            </th>
                            <td>
                                <div class="plb-balancing-bars__track" role="img" aria-label=format!("{}: {label} percent", n.node)>
                                    <div class="plb-balancing-bars__before" style=width(n.before)></div>
                                    <div class="plb-balancing-bars__after" style=width(n.after)></div>
                                    {mark.map(|m| view! { <div class="plb-balancing-bars__threshold" style=m></div> })}
                                </div>
                            </td>
                            <td class="plb-num">{label}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
