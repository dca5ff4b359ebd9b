//! The moves ProxLB plans, shown the same way on the dashboard and in the node view.

use leptos::prelude::*;
use plb_domain::explain::describe_move;
use plb_domain::proxlb::decision::MoveDecision;

/// Planned moves shown before the rest folds away.
pub const MOVES_SHOWN: usize = 10;

/// The planned moves under a counted heading: the first [`MOVES_SHOWN`], the rest folded away. A
/// large cluster can plan hundreds; they stay one click away in a native `<details>`, which opens
/// without JavaScript.
#[component]
pub fn PlannedMoves(
    /// The moves, in plan order.
    moves: Vec<MoveDecision>,
    /// All planned moves when `moves` is only the first of them (the dashboard ships the top
    /// ones); the rest are then counted, not listed.
    #[prop(optional)]
    total: Option<usize>,
) -> impl IntoView {
    let unlisted = total.unwrap_or(0).saturating_sub(moves.len());
    let total = moves.len() + unlisted;
    let rest = moves
        .get(MOVES_SHOWN..)
        .map(<[_]>::to_vec)
        .unwrap_or_default();
    let shown: Vec<_> = moves.into_iter().take(MOVES_SHOWN).collect();
    view! {
        <h3 class="plb-subtitle">{format!("Planned moves ({total})")}</h3>
        <MoveList moves=shown />
        {(!rest.is_empty()).then(|| view! {
            <details class="plb-more">
                <summary>{format!("Show {} more", rest.len())}</summary>
                <MoveList moves=rest />
            </details>
        })}
        {(unlisted > 0).then(|| view! {
            <p class="plb-muted">{format!("{unlisted} more not listed here; each node's view lists the moves from or to it.")}</p>
        })}
    }
}

/// One list item per move; a move ProxLB would plan but not send carries a badge.
#[component]
fn MoveList(moves: Vec<MoveDecision>) -> impl IntoView {
    view! {
        <ul class="plb-moves">
            {moves.into_iter().map(|m| view! {
                <li>
                    {describe_move(&m.planned)}
                    {(!m.issued).then(|| view! { <span class="plb-badge plb-badge--other">"not sent"</span> })}
                </li>
            }).collect_view()}
        </ul>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use plb_domain::proxlb::plan::PlannedMove;
    use plb_domain::proxlb::GuestKind;

    use super::*;

    fn moves(count: usize) -> Vec<MoveDecision> {
        (0..count)
            .map(|i| MoveDecision {
                planned: PlannedMove {
                    guest: format!("vm{i}"),
                    vmid: 100 + i as u32,
                    kind: GuestKind::Vm,
                    from: "pve1".into(),
                    to: "pve2".into(),
                },
                issued: i % 2 == 0,
            })
            .collect()
    }

    #[test]
    fn many_planned_moves_fold_after_the_first_ten() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <PlannedMoves moves=moves(25) /> }.to_html();
        assert!(html.contains("Planned moves (25)"), "{html}");
        assert_eq!(
            html.matches("<li>").count(),
            25,
            "every move is in the page"
        );
        let (before, after) = html.split_once("<details").expect("the rest is folded");
        assert_eq!(before.matches("<li>").count(), MOVES_SHOWN);
        assert!(after.contains("Show 15 more"), "{after}");

        let html = view! { <PlannedMoves moves=moves(3) /> }.to_html();
        assert!(!html.contains("<details"), "nothing to fold: {html}");
        assert_eq!(html.matches("<li>").count(), 3);
    }

    #[test]
    fn a_move_not_sent_says_so() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <PlannedMoves moves=moves(2) /> }.to_html();
        let items: Vec<&str> = html.split("<li>").skip(1).collect();
        assert!(items[0].starts_with("vm0: pve1 → pve2"), "{html}");
        assert!(!items[0].contains("not sent"), "{html}");
        assert!(items[1].contains("not sent"), "{html}");
    }
}
