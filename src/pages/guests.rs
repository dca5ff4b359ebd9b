//! The Guests view: every VM and CT, with search, filters, sorting and paging kept in the URL.
//!
//! The server filters and renders the page the URL asks for (also what a browser without
//! JavaScript gets: the filters are a GET form). After hydration the browser loads every guest
//! once per cluster view, in columns, and from then on every keystroke filters in memory.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use plb_domain::guest_query::{
    kind_word, query_indexed, status_word, GuestIndex, GuestQuery, PAGE_SIZE,
};
use plb_domain::projection::CompactGuests;
use plb_domain::proxlb::GuestKind;
use plb_domain::units::plural;
use plb_domain::view::{GuestRow, SnapshotMeta, TagKind};

use crate::api::cluster::get_guest_columns;
use crate::components::banners::StaleBanner;
use crate::components::cluster_data::{cluster_version, guest_page_resource};
use crate::components::error_panel::ErrorPanel;
use crate::components::guest_table::{guests_href, GuestTable};
use crate::components::page_header::PageHeader;
use crate::error::ApiError;

/// A filter `<select>` of the form: its label, its URL parameter and its options as
/// (URL value, text); the empty value means "no filter".
struct Filter {
    label: &'static str,
    param: &'static str,
    options: &'static [(&'static str, &'static str)],
}

/// The fixed filters, in form order. The URL values come from the query's own words.
const FILTERS: [Filter; 3] = [
    Filter {
        label: "Type",
        param: "kind",
        options: &[
            ("", "All types"),
            (kind_word(GuestKind::Vm), "VMs"),
            (kind_word(GuestKind::Ct), "Containers"),
        ],
    },
    Filter {
        label: "Status",
        param: "status",
        options: &[
            ("", "Any status"),
            (status_word(true), "Running"),
            (status_word(false), "Not running"),
        ],
    },
    Filter {
        label: "ProxLB tag",
        param: "tag",
        options: &[
            ("", "Any tags"),
            (TagKind::Affinity.as_str(), "Affinity"),
            (TagKind::AntiAffinity.as_str(), "Anti-affinity"),
            (TagKind::Pin.as_str(), "Pinned"),
            (TagKind::Ignore.as_str(), "Ignored"),
        ],
    },
];

/// The guest list with its filter form.
#[component]
pub fn GuestsPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|map| {
            GuestQuery::from_params(
                map.latest_values()
                    .map(|(key, value)| (key.as_ref(), value)),
            )
        })
    });
    // Every guest, loaded in the browser after hydration (an effect never runs on the server):
    // from then on every keystroke filters in memory. Until then, and without JavaScript, the
    // server filters and sends one page.
    let local: RwSignal<Option<Arc<LocalGuests>>> = RwSignal::new(None);
    let cluster_version = cluster_version();
    Effect::new(move |_| {
        cluster_version.track();
        leptos::task::spawn_local(async move {
            // On failure the server-filtered pages stay in use.
            if let Ok(columns) = get_guest_columns().await {
                local.set(Some(Arc::new(LocalGuests::new(columns))));
            }
        });
    });
    let page = guest_page_resource(move || local.with(Option::is_none).then(|| query.get()));
    let navigate = use_navigate();
    // Filtering in the browser: a field's change sets its URL parameter and replaces the URL (no
    // history entry per keystroke); the query memo follows the URL and the table re-filters in
    // memory.
    let on_param = move |param: &'static str| {
        let navigate = navigate.clone();
        move |event: leptos::ev::Event| {
            let mut next = query.get_untracked();
            next.set_param(param, &event_target_value(&event));
            next.page = 1;
            navigate(
                &guests_href(&next),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        // With JavaScript the fields already updated the URL; without it the browser submits.
        event.prevent_default();
    };
    let on_search = on_param("q");
    // The node list arrives with the data, so its `<select>` is rendered (and handled) later.
    let node_handler = {
        let on_param = on_param.clone();
        move || on_param("node")
    };
    let filters = FILTERS
        .iter()
        .map(|filter| view! { <FilterSelect filter query on_change=on_param(filter.param) /> })
        .collect_view();

    view! {
        <PageHeader title="Guests" subtitle="Every VM and container, where it runs and what ProxLB may do with it." />
        <form class="plb-filters" method="get" action="/guests" role="search" aria-label="Filter guests" on:submit=on_submit>
            <label class="plb-field plb-field--grow">
                <span class="plb-field__label">"Search"</span>
                <input
                    type="search"
                    name="q"
                    placeholder="Name, ID or tag"
                    autocomplete="off"
                    prop:value=move || query.get().search
                    value=move || query.get().search
                    on:input=on_search
                />
            </label>
            <Transition fallback=|| view! { <NodeSelect nodes=Vec::new() selected=None on_change=|_| {} /> }>
                {move || {
                    let on_change = node_handler();
                    Suspend::new(async move {
                        let nodes = match page.await {
                            Ok(Some(page)) => page.nodes,
                            _ => local.with_untracked(|all| all.as_ref().map(|all| all.nodes.clone()).unwrap_or_default()),
                        };
                        view! { <NodeSelect nodes selected=query.get_untracked().node on_change /> }
                    })
                }}
            </Transition>
            {filters}
            {move || {
                let q = query.get();
                view! {
                    <input type="hidden" name="sort" value=q.sort.as_str() />
                    {q.descending.then(|| view! { <input type="hidden" name="dir" value="desc" /> })}
                }
            }}
            <button class="plb-button plb-filters__apply" type="submit">"Apply"</button>
            <a class="plb-button plb-button--quiet" href="/guests">"Clear"</a>
        </form>
        {move || match local.get() {
            Some(all) => view! {
                <StaleBanner meta=all.meta.clone() />
                <LocalResults all query />
            }
            .into_any(),
            None => view! {
                <Transition fallback=|| view! { <p class="plb-loading">"Loading guests…"</p> }>
                    <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                        {move || Suspend::new(async move {
                            // `None` only once the browser has every guest (rendered above).
                            let Some(page) = page.await? else {
                                return Ok::<_, ApiError>(().into_any());
                            };
                            Ok(view! {
                                <StaleBanner meta=page.meta.clone() />
                                <ResultPage
                                    rows=page.rows
                                    matching=page.matching
                                    total=page.total
                                    page=page.page
                                    pages=page.pages
                                    query=query.get_untracked()
                                />
                            }
                            .into_any())
                        })}
                    </ErrorBoundary>
                </Transition>
            }
            .into_any(),
        }}
    }
}

/// Every guest in the browser, indexed once per list so a keystroke only scans precomputed
/// lowercase text.
struct LocalGuests {
    meta: SnapshotMeta,
    nodes: Vec<String>,
    index: GuestIndex,
    rows: Vec<GuestRow>,
}

impl LocalGuests {
    fn new(columns: CompactGuests) -> Self {
        let rows = columns.rows();
        Self {
            index: GuestIndex::new(&rows),
            meta: columns.meta,
            nodes: columns.nodes,
            rows,
        }
    }
}

/// A labelled filter `<select>` with fixed options; the option the query has is selected, both
/// in the server-rendered HTML (for forms without JavaScript) and live.
#[component]
fn FilterSelect<F>(filter: &'static Filter, query: Memo<GuestQuery>, on_change: F) -> impl IntoView
where
    F: Fn(leptos::ev::Event) + 'static,
{
    let current = move || query.with(|q| q.param(filter.param));
    view! {
        <label class="plb-field">
            <span class="plb-field__label">{filter.label}</span>
            <select name=filter.param prop:value=current on:change=on_change>
                {filter
                    .options
                    .iter()
                    .map(|&(value, text)| view! { <option value=value selected=move || current() == value>{text}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

#[component]
fn NodeSelect<F>(nodes: Vec<String>, selected: Option<String>, on_change: F) -> impl IntoView
where
    F: Fn(leptos::ev::Event) + 'static,
{
    view! {
        <label class="plb-field">
            <span class="plb-field__label">"Node"</span>
            <select name="node" on:change=on_change>
                <option value="" selected=selected.is_none()>"All nodes"</option>
                {nodes
                    .into_iter()
                    .map(|node| {
                        let is_selected = selected.as_deref() == Some(node.as_str());
                        view! { <option value=node.clone() selected=is_selected>{node.clone()}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The guests of the query, filtered in the browser on every change of the URL.
#[component]
fn LocalResults(all: Arc<LocalGuests>, query: Memo<GuestQuery>) -> impl IntoView {
    move || {
        let q = query.get();
        let page = query_indexed(&all.rows, &all.index, &q);
        let rows: Vec<GuestRow> = page.rows.into_iter().cloned().collect();
        view! {
            <ResultPage
                rows
                matching=page.matching
                total=all.rows.len()
                page=page.page
                pages=page.pages
                query=q
            />
        }
    }
}

/// One page of results: the count, the table and the pager.
#[component]
fn ResultPage(
    rows: Vec<GuestRow>,
    matching: usize,
    total: usize,
    page: usize,
    pages: usize,
    query: GuestQuery,
) -> impl IntoView {
    let first = (page - 1) * PAGE_SIZE + usize::from(matching > 0);
    let last = (page - 1) * PAGE_SIZE + rows.len();
    let summary = if matching == total {
        format!(
            "Showing {first}–{last} of {}",
            plural(total, "guest", "guests")
        )
    } else {
        format!(
            "Showing {first}–{last} of {} ({total} in all)",
            plural(matching, "matching guest", "matching guests")
        )
    };
    let link = |target: usize| {
        let mut next = query.clone();
        next.page = target;
        guests_href(&next)
    };
    let current = page;
    view! {
        <p class="plb-results__summary" role="status" data-testid="guest-count">{summary}</p>
        {if rows.is_empty() {
            view! { <p class="plb-empty">"No guest matches these filters."</p> }.into_any()
        } else {
            view! { <GuestTable rows sorting=query.clone() /> }.into_any()
        }}
        {(pages > 1).then(|| view! {
            <nav class="plb-pager" aria-label="Pages">
                {(current > 1).then(|| view! { <a class="plb-button plb-button--quiet" href=link(current - 1) rel="prev">"Previous"</a> })}
                <span>{format!("Page {current} of {pages}")}</span>
                {(current < pages).then(|| view! { <a class="plb-button plb-button--quiet" href=link(current + 1) rel="next">"Next"</a> })}
            </nav>
        })}
    }
}
