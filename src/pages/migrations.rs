//! The Migrations view (`/migrations`): every guest move ProxLB Web has seen (from ProxLB's log
//! and Proxmox's task list), newest first, with outcome, duration, who started it and its task
//! UPID; filtered by guest, node, outcome and initiator, paged.
//!
//! The filters are a GET form and the pages are links, so everything lives in the URL
//! (`/migrations?guest=web&node=pve1&outcome=failed&before=42`) and works without JavaScript.
//! With JavaScript the page refetches when the live channel's `migrations` topic says the
//! history changed.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use plb_domain::calendar::format_datetime_utc;
use plb_domain::live::MigrationsTopic;
use plb_domain::migrations::{
    Initiator, MigrationFilter, MigrationOutcome, MigrationPage, MigrationRecord,
};
use plb_domain::units::plural;

use crate::api::migrations::get_migrations;
use crate::components::clock::use_clock;
use crate::components::error_panel::ErrorPanel;
use crate::components::history_pager::HistoryPager;
use crate::components::live_client::{use_live_topic, TopicUpdate};
use crate::components::migration_widgets::{
    duration_label, guest_label, initiator_label, kind_label, OutcomeBadge,
};
use crate::components::page_header::PageHeader;
use crate::error::ApiError;

/// Moves per page.
pub const PAGE_SIZE: u32 = 50;

const OUTCOMES: [MigrationOutcome; 4] = [
    MigrationOutcome::Running,
    MigrationOutcome::Succeeded,
    MigrationOutcome::Failed,
    MigrationOutcome::Unknown,
];

const INITIATORS: [(Initiator, &str); 4] = [
    (Initiator::ProxLb, "ProxLB"),
    (Initiator::Ha, "HA manager"),
    (Initiator::Person, "A person"),
    (Initiator::Unknown, "Unknown"),
];

/// The filter a URL's query asks for (`guest`, `node`, `outcome`, `initiator`, `before`).
/// Unknown or malformed values are ignored.
pub fn filter_from_params<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> MigrationFilter {
    let mut filter = MigrationFilter::default();
    for (key, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key {
            "guest" => filter.text = Some(value.to_owned()),
            "node" => filter.node = Some(value.to_owned()),
            "outcome" => filter.outcome = MigrationOutcome::parse(value),
            "initiator" => filter.initiator = Initiator::parse(value),
            "before" => filter.before_id = value.parse().ok().filter(|id: &i64| *id > 0),
            _ => {}
        }
    }
    filter
}

/// `/migrations` with `filter` in the query.
pub fn migrations_href(filter: &MigrationFilter) -> String {
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(text) = &filter.text {
        params.push(("guest", text.clone()));
    }
    if let Some(node) = &filter.node {
        params.push(("node", node.clone()));
    }
    if let Some(outcome) = filter.outcome {
        params.push(("outcome", outcome.as_str().to_owned()));
    }
    if let Some(initiator) = filter.initiator {
        params.push(("initiator", initiator.as_str().to_owned()));
    }
    if let Some(before) = filter.before_id {
        params.push(("before", before.to_string()));
    }
    let map: ParamsMap = params.into_iter().collect();
    format!("/migrations{}", map.to_query_string())
}

/// The migration history with its filter form.
#[component]
pub fn MigrationsPage() -> impl IntoView {
    let query_map = use_query_map();
    let filter = Memo::new(move |_| {
        query_map.with(|map| {
            filter_from_params(
                map.latest_values()
                    .map(|(key, value)| (key.as_ref(), value)),
            )
        })
    });
    // Rises when the live channel says the history changed. The topic's first event describes
    // the history the page was rendered with, so it is not a reason to refetch.
    let version = RwSignal::new(0_u64);
    let baseline_known = StoredValue::new(false);
    use_live_topic::<MigrationsTopic>(move |update| {
        if let TopicUpdate::Event(_) = update {
            if baseline_known.get_value() {
                version.update(|v| *v += 1);
            }
            baseline_known.set_value(true);
        }
    });
    // The page size is always sent: an all-`None` filter encodes as an empty form body, which
    // the server function cannot read back.
    let page = api_resource(
        move || {
            (
                MigrationFilter {
                    limit: Some(PAGE_SIZE),
                    ..filter.get()
                },
                version.get(),
            )
        },
        |(filter, _)| get_migrations(filter),
    );
    view! {
        <PageHeader
            title="Migrations"
            subtitle="Every guest move: who started it, how it ended, how long it took, and its Proxmox task."
        />
        <MigrationFilters filter />
        <Transition fallback=|| view! { <p class="plb-loading">"Loading the migration history…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let page = page.await?;
                    Ok::<_, ApiError>(view! { <MigrationResults page filter=filter.get_untracked() /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn MigrationFilters(filter: Memo<MigrationFilter>) -> impl IntoView {
    let text = move || filter.get().text.unwrap_or_default();
    let node = move || filter.get().node.unwrap_or_default();
    view! {
        <Form method="get" action="/migrations" attr:class="plb-filters" attr:role="search" attr:aria-label="Filter the migrations">
            <label class="plb-field plb-field--grow">
                <span class="plb-field__label">"Guest"</span>
                <input type="search" name="guest" placeholder="Name or ID" autocomplete="off" value=text prop:value=text />
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Node"</span>
                <input type="search" name="node" placeholder="Source or target" autocomplete="off" value=node prop:value=node />
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Outcome"</span>
                <select name="outcome" prop:value=move || filter.get().outcome.map(MigrationOutcome::as_str).unwrap_or_default()>
                    <option value="" selected=move || filter.get().outcome.is_none()>"Any outcome"</option>
                    {OUTCOMES
                        .into_iter()
                        .map(|outcome| view! {
                            <option value=outcome.as_str() selected=move || filter.get().outcome == Some(outcome)>
                                {crate::components::migration_widgets::outcome_label(outcome).1}
                            </option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Started by"</span>
                <select name="initiator" prop:value=move || filter.get().initiator.map(Initiator::as_str).unwrap_or_default()>
                    <option value="" selected=move || filter.get().initiator.is_none()>"Anyone"</option>
                    {INITIATORS
                        .into_iter()
                        .map(|(initiator, label)| view! {
                            <option value=initiator.as_str() selected=move || filter.get().initiator == Some(initiator)>
                                {label}
                            </option>
                        })
                        .collect_view()}
                </select>
            </label>
            <button class="plb-button" type="submit">"Filter"</button>
            <a class="plb-button plb-button--quiet" href="/migrations">"Clear"</a>
        </Form>
    }
}

#[component]
fn MigrationResults(page: MigrationPage, filter: MigrationFilter) -> impl IntoView {
    let shown = page.records.len();
    let filtered = filter.text.is_some()
        || filter.node.is_some()
        || filter.outcome.is_some()
        || filter.initiator.is_some();
    let summary = match (shown, filtered) {
        (0, true) => "No migrations match these filters.".to_owned(),
        (0, false) => {
            "No migrations yet: moves appear here as ProxLB, HA or a person starts them.".to_owned()
        }
        (_, true) => format!(
            "Showing {shown} of {}",
            plural(page.total, "matching migration", "matching migrations")
        ),
        (_, false) => format!(
            "Showing {shown} of {}",
            plural(page.total, "migration", "migrations")
        ),
    };
    let newer = filter.before_id.map(|_| MigrationFilter {
        before_id: None,
        ..filter.clone()
    });
    let older = page.next_before_id.map(|before| MigrationFilter {
        before_id: Some(before),
        ..filter.clone()
    });
    view! {
        <p class="plb-results__summary" data-testid="migrations-count">{summary}</p>
        {(shown > 0).then(|| view! {
            // Focusable, so keyboard users can scroll the wide table sideways.
            <div class="plb-table-wrap" tabindex="0" role="region" aria-label="Migrations table">
                <table class="plb-table plb-migration-table">
                    <caption class="plb-visually-hidden">"Migrations, newest first"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Started"</th>
                            <th scope="col">"Guest"</th>
                            <th scope="col">"From"</th>
                            <th scope="col">"To"</th>
                            <th scope="col">"Outcome"</th>
                            <th scope="col">"Duration"</th>
                            <th scope="col">"Started by"</th>
                            <th scope="col">"Proxmox task"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.records.into_iter().map(|record| view! { <MigrationRow record /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        <HistoryPager newest=newer.map(|f| migrations_href(&f)) older=older.map(|f| migrations_href(&f)) />
    }
}

#[component]
fn MigrationRow(record: MigrationRecord) -> impl IntoView {
    let now = use_clock();
    let duration = {
        let record = record.clone();
        move || duration_label(&record, now.get()).unwrap_or_else(|| "—".to_owned())
    };
    let user = (record.initiator != plb_domain::migrations::Initiator::Person)
        .then(|| record.initiator_user.clone())
        .flatten();
    let task = record.upid.clone().or_else(|| record.ha_upid.clone());
    view! {
        <tr data-guest=record.guest.clone() data-outcome=record.outcome.as_str()>
            <td class="plb-num">{format_datetime_utc(record.started_unix_ms.div_euclid(1000))}</td>
            <th scope="row">
                {guest_label(&record)}
                " " <span class="plb-badge">{kind_label(&record)}</span>
            </th>
            <td>{record.source.clone().unwrap_or_else(|| "?".to_owned())}</td>
            <td>{record.target.clone().unwrap_or_else(|| "?".to_owned())}</td>
            <td>
                <OutcomeBadge outcome=record.outcome reason=record.reason.clone() />
                {record.reason.clone().map(|reason| view! { <p class="plb-migration__reason">{reason}</p> })}
            </td>
            <td class="plb-num">{duration}</td>
            <td>
                {initiator_label(&record)}
                {user.map(|user| view! { <span class="plb-muted">" (" {user} ")"</span> })}
            </td>
            <td>
                {task.map(|upid| view! { <code class="plb-upid" title=upid.clone()>{upid.clone()}</code> })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_filter_and_ignores_junk() {
        let filter = filter_from_params([
            ("guest", " web "),
            ("node", "pve1"),
            ("outcome", "failed"),
            ("initiator", "ha"),
            ("before", "42"),
            ("x", "y"),
        ]);
        assert_eq!(
            filter,
            MigrationFilter {
                text: Some("web".into()),
                node: Some("pve1".into()),
                outcome: Some(MigrationOutcome::Failed),
                initiator: Some(Initiator::Ha),
                before_id: Some(42),
                ..MigrationFilter::default()
            }
        );
        let junk =
            filter_from_params([("outcome", "great"), ("initiator", "god"), ("before", "0")]);
        assert_eq!(junk, MigrationFilter::default());
    }

    #[test]
    fn links_carry_the_filter() {
        let filter = MigrationFilter {
            text: Some("web 02".into()),
            outcome: Some(MigrationOutcome::Succeeded),
            before_id: Some(9),
            ..MigrationFilter::default()
        };
        let href = migrations_href(&filter);
        assert!(href.starts_with("/migrations?guest=web"), "{href}");
        assert!(href.contains("outcome=succeeded"), "{href}");
        assert!(href.ends_with("before=9"), "{href}");
        assert_eq!(migrations_href(&MigrationFilter::default()), "/migrations");
    }
}
