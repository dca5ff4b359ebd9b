//! A plan's moves, one page at a time: each move with why behind a disclosure ([`MoveWhy`]),
//! and for today's plan a pager. Without JavaScript the pager is a GET form that reloads
//! `/balancing` at the next page; with it, the next page is fetched in place, so the settings
//! form and a what-if keep what was typed.

use leptos::prelude::*;
use plb_domain::balancing::answer::BalancingPlan;
use plb_domain::explain::describe_move;
use plb_domain::projection::{MoveLine, BALANCING_MOVES, MOVES_PAGE};
use plb_domain::proxlb::config::{Mode, Resource};

use crate::api::balancing::{get_plan_page, MOVES_FROM_PARAM};
use crate::components::balancing_move::MoveWhy;

/// One page of a plan's moves.
#[derive(Clone, Debug, PartialEq)]
struct MovesPage {
    moves: Vec<MoveLine>,
    from: usize,
    total: usize,
}

impl MovesPage {
    /// The page `plan` carries.
    fn of(plan: BalancingPlan) -> Self {
        let p = plan.projection;
        Self {
            moves: p.moves,
            from: p.moves_from,
            total: p.moves_total,
        }
    }

    /// Moves the plan lists at all (the pager stops there; the rest are counted).
    fn shipped_until(&self) -> usize {
        self.total.min(BALANCING_MOVES)
    }
}

/// One page of a plan's moves and, when `pageable`, the pager.
#[component]
pub fn PlanMoves(
    /// The page's moves, in plan order.
    moves: Vec<MoveLine>,
    /// Position of the first in the plan.
    from: usize,
    /// All planned moves.
    total: usize,
    /// Method compared (the candidate tables' unit).
    method: Resource,
    /// Mode compared.
    mode: Mode,
    /// Offer the other pages (today's plan; a what-if shows its first page only).
    #[prop(optional)]
    pageable: bool,
) -> impl IntoView {
    let page = RwSignal::new(MovesPage { moves, from, total });
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let go = move |from: usize| {
        loading.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match get_plan_page(from).await {
                Ok(plan) => page.set(MovesPage::of(plan)),
                Err(e) => error.set(Some(format!("Could not load these moves: {e}"))),
            }
            loading.set(false);
        });
    };
    let title = move || {
        page.with(|p| {
            if p.total == 0 {
                "Moves (0)".to_owned()
            } else if p.moves.len() == p.total {
                format!("Moves ({})", p.total)
            } else {
                let last = p.from + p.moves.len();
                format!("Moves {}–{last} of {}", p.from + 1, p.total)
            }
        })
    };
    let list = move || {
        let p = page.get();
        if p.moves.is_empty() {
            return view! { <p class="plb-muted" data-testid="plan-no-moves">"No guest would move."</p> }
                .into_any();
        }
        view! {
            <ol class="plb-balancing-moves" data-testid="plan-moves" start=p.from + 1>
                {p.moves.into_iter().map(|m| view! { <MoveItem m method mode /> }).collect_view()}
            </ol>
        }
        .into_any()
    };
    // The pager is built once and its buttons only change their target and disabled state, so
    // the keyboard focus stays on the button pressed while the next page arrives.
    let previous =
        Memo::new(move |_| page.with(|p| (p.from > 0).then(|| p.from.saturating_sub(MOVES_PAGE))));
    let next = Memo::new(move |_| {
        page.with(|p| Some(p.from + p.moves.len()).filter(|n| *n < p.shipped_until()))
    });
    let note = move || {
        page.with(|p| {
            let unshipped = p.total.saturating_sub(p.shipped_until());
            (p.from + p.moves.len() >= p.shipped_until() && unshipped > 0)
                .then(|| format!("{unshipped} more planned moves are counted, not listed."))
        })
    };
    let paged = page.with_untracked(|p| p.shipped_until() > p.moves.len());
    let pager = (pageable && paged).then(|| {
        view! {
            <nav class="plb-pager" aria-label="Pages of moves" data-testid="plan-moves-pager">
                <PageButton from=previous label="Previous moves" go loading />
                <PageButton from=next label="Next moves" go loading />
                {move || note().map(|n| view! { <span class="plb-muted">{n}</span> })}
            </nav>
        }
    });
    view! {
        <h3 class="plb-balancing-plan__subtitle" id=pageable.then_some("plan-moves") aria-live="polite" data-testid="plan-moves-title">{title}</h3>
        {list}
        {move || error.get().map(|e| view! { <p class="plb-message plb-message--error" role="alert">{e}</p> })}
        {pager}
    }
}

/// One move: what, whether it would be issued, and why behind a disclosure.
#[component]
fn MoveItem(m: MoveLine, method: Resource, mode: Mode) -> impl IntoView {
    let head = format!(
        "{} ({})",
        describe_move(&m.planned.planned),
        m.planned.planned.vmid
    );
    let issued = m.planned.issued;
    let class = if issued {
        "plb-balancing-moves__item"
    } else {
        "plb-balancing-moves__item plb-balancing-moves__item--held"
    };
    view! {
        <li class=class data-guest=m.planned.planned.guest.clone()>
            <details>
                <summary>{if issued { head } else { format!("{head} · not issued") }}</summary>
                <MoveWhy
                    vmid=m.planned.planned.vmid
                    why_guest=m.why_guest
                    why_target=m.why_target
                    candidates=m.candidates
                    not_issued=m.not_issued
                    quirks=m.quirks
                    method
                    mode
                />
            </details>
        </li>
    }
}

/// A pager button: a GET form to `/balancing` at `from` (without JavaScript), a fetch in
/// place with it. Without a page to go to (`None`) or while one loads it is `aria-disabled`, not
/// `disabled`: a disabled button drops the keyboard focus to the page.
#[component]
fn PageButton(
    from: Memo<Option<usize>>,
    label: &'static str,
    go: impl Fn(usize) + Copy + Send + Sync + 'static,
    loading: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <form method="get" action="/balancing#plan-moves" class="plb-pager__form"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                if loading.get_untracked() {
                    return;
                }
                if let Some(from) = from.get_untracked() {
                    go(from);
                }
            }>
            <input type="hidden" name=MOVES_FROM_PARAM prop:value=move || from.get().unwrap_or(0).to_string()
                value=from.get_untracked().unwrap_or(0).to_string() />
            <button class="plb-button plb-button--quiet" type="submit"
                aria-disabled=move || (from.get().is_none() || loading.get()).then_some("true")>{label}</button>
        </form>
    }
}
