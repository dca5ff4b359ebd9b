//! The Audit log view (`/audit`): who did what, when, from where, with which result; newest
//! first, filtered by actor, action, result and date, paged.
//!
//! The filters are a GET form and the pages are links, so everything lives in the URL
//! (`/audit?actor=alice@pve&action=login_failed&result=failed&since=2026-01-31&before=120`) and
//! works without JavaScript; with it, the router submits the form in place.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use plb_domain::audit::{AuditAction, AuditFilter, AuditPage, AuditRecord, ResultFilter};
use plb_domain::calendar::{format_date_utc, format_datetime_utc, parse_date_utc};
use plb_domain::units::plural;

use crate::api::auth::get_audit_page;
use crate::components::error_panel::ErrorPanel;
use crate::components::history_pager::HistoryPager;
use crate::components::page_header::PageHeader;
use crate::error::ApiError;

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;

/// The audit filters a URL's query asks for. Unknown values are ignored (no filter).
pub fn filter_from_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> AuditFilter {
    let mut filter = AuditFilter::default();
    for (key, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key {
            "actor" => filter.actor = Some(value.to_owned()),
            "action" => filter.action = value.parse().ok(),
            "result" => filter.result = result_from_word(value),
            "since" => filter.since = parse_date_utc(value),
            "before" => filter.before_id = value.parse().ok().filter(|id: &i64| *id > 0),
            _ => {}
        }
    }
    filter
}

/// `/audit` with `filter` in the query (the date of `since`, in UTC), for links and the pager.
pub fn audit_href(filter: &AuditFilter) -> String {
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(actor) = &filter.actor {
        params.push(("actor", actor.clone()));
    }
    if let Some(action) = filter.action {
        params.push(("action", action.as_str().to_owned()));
    }
    if let Some(result) = filter.result {
        params.push(("result", result_word(result).to_owned()));
    }
    if let Some(since) = filter.since {
        params.push(("since", format_date_utc(since)));
    }
    if let Some(before) = filter.before_id {
        params.push(("before", before.to_string()));
    }
    if params.is_empty() {
        return "/audit".to_owned();
    }
    let query = params
        .into_iter()
        .map(|(key, value)| format!("{key}={}", encode_component(&value)))
        .collect::<Vec<_>>()
        .join("&");
    format!("/audit?{query}")
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `@` (common in actors).
fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'@' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn result_word(result: ResultFilter) -> &'static str {
    match result {
        ResultFilter::Ok => "ok",
        ResultFilter::Failed => "failed",
    }
}

fn result_from_word(word: &str) -> Option<ResultFilter> {
    match word {
        "ok" => Some(ResultFilter::Ok),
        "failed" => Some(ResultFilter::Failed),
        _ => None,
    }
}

/// The audit log with its filter form.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query_map = use_query_map();
    let filter = Memo::new(move |_| {
        query_map.with(|map| {
            filter_from_params(
                map.latest_values()
                    .map(|(key, value)| (key.as_ref(), value)),
            )
        })
    });
    // The page size is always sent: an all-`None` filter encodes as an empty form body, which
    // the server function cannot read back.
    let page = api_resource(
        move || AuditFilter {
            limit: Some(PAGE_SIZE),
            ..filter.get()
        },
        get_audit_page,
    );

    view! {
        <PageHeader
            title="Audit log"
            subtitle="Every login, logout, token and change: who, when, from where and the result. Newest first."
        />
        <Form method="get" action="/audit" attr:class="plb-filters" attr:role="search" attr:aria-label="Filter the audit log">
            <label class="plb-field plb-field--grow">
                <span class="plb-field__label">"Actor"</span>
                <input
                    type="search"
                    name="actor"
                    placeholder="e.g. root@pam or token:ci"
                    autocomplete="off"
                    value=move || filter.get().actor.unwrap_or_default()
                    prop:value=move || filter.get().actor.unwrap_or_default()
                />
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Action"</span>
                <select name="action" prop:value=move || filter.get().action.map(AuditAction::as_str).unwrap_or_default()>
                    <option value="" selected=move || filter.get().action.is_none()>"All actions"</option>
                    {AuditAction::ALL
                        .into_iter()
                        .map(|action| view! {
                            <option value=action.as_str() selected=move || filter.get().action == Some(action)>
                                {action.label()}
                            </option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Result"</span>
                <select name="result" prop:value=move || filter.get().result.map(result_word).unwrap_or_default()>
                    <option value="" selected=move || filter.get().result.is_none()>"Any result"</option>
                    <option value="ok" selected=move || filter.get().result == Some(ResultFilter::Ok)>"Succeeded"</option>
                    <option value="failed" selected=move || filter.get().result == Some(ResultFilter::Failed)>"Failed"</option>
                </select>
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Since (UTC)"</span>
                <input
                    type="date"
                    name="since"
                    value=move || filter.get().since.map(format_date_utc).unwrap_or_default()
                    prop:value=move || filter.get().since.map(format_date_utc).unwrap_or_default()
                />
            </label>
            <button class="plb-button" type="submit">"Filter"</button>
            <a class="plb-button plb-button--quiet" href="/audit">"Clear"</a>
        </Form>
        <Transition fallback=|| view! { <p class="plb-loading">"Loading the audit log…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let entries = page.await?;
                    Ok::<_, ApiError>(view! { <AuditResults page=entries filter=filter.get_untracked() /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The summary line, the table and the pager of one page of entries.
#[component]
fn AuditResults(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    let shown = page.records.len();
    let filtered = filter.actor.is_some()
        || filter.action.is_some()
        || filter.result.is_some()
        || filter.since.is_some();
    let summary = match (shown, filtered) {
        (0, true) => "No entries match these filters.".to_owned(),
        (0, false) => "The audit log is empty.".to_owned(),
        (_, true) => format!(
            "Showing {shown} of {}",
            plural(page.total, "matching entry", "matching entries")
        ),
        (_, false) => format!(
            "Showing {shown} of {}",
            plural(page.total, "entry", "entries")
        ),
    };
    let newer = filter.before_id.map(|_| AuditFilter {
        before_id: None,
        ..filter.clone()
    });
    let older = page.next_before_id.map(|before| AuditFilter {
        before_id: Some(before),
        ..filter.clone()
    });
    view! {
        <p class="plb-results__summary" data-testid="audit-count">{summary}</p>
        {(shown > 0).then(|| view! {
            <div class="plb-table-wrap">
                <table class="plb-table plb-audit-table">
                    <caption class="plb-visually-hidden">"Audit log entries, newest first"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col">"Actor"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Target"</th>
                            <th scope="col">"From"</th>
                            <th scope="col">"Result"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.records.into_iter().map(|record| view! { <AuditRow record /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        <HistoryPager newest=newer.map(|f| audit_href(&f)) older=older.map(|f| audit_href(&f)) />
    }
}

#[component]
fn AuditRow(record: AuditRecord) -> impl IntoView {
    let details = record
        .details
        .as_ref()
        .map(|details| serde_json::to_string(details).unwrap_or_default())
        .filter(|text| !text.is_empty() && text != "null");
    let (result_class, result_text) = if record.ok {
        ("plb-result plb-result--ok", "Succeeded")
    } else {
        ("plb-result plb-result--failed", "Failed")
    };
    view! {
        <tr data-action=record.action.as_str()>
            <td class="plb-audit__when">{format_datetime_utc(record.at_unix)}</td>
            <td class="plb-audit__actor">{record.actor}</td>
            <td>
                {record.action.label()}
                {details.map(|text| view! { <p class="plb-audit__details">{text}</p> })}
            </td>
            <td>{record.target.unwrap_or_default()}</td>
            <td class="plb-num">{record.source_ip.unwrap_or_default()}</td>
            <td>
                <span class=result_class>{result_text}</span>
                {record.error.map(|error| view! { <span class="plb-audit__error">{error}</span> })}
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
            ("actor", " alice@pve "),
            ("action", "login_failed"),
            ("result", "failed"),
            ("since", "2024-02-29"),
            ("before", "120"),
            ("utm", "x"),
        ]);
        assert_eq!(
            filter,
            AuditFilter {
                actor: Some("alice@pve".into()),
                action: Some(AuditAction::LoginFailed),
                result: Some(ResultFilter::Failed),
                since: Some(1_709_164_800),
                before_id: Some(120),
                ..AuditFilter::default()
            }
        );
        let junk = filter_from_params([
            ("actor", "  "),
            ("action", "dance"),
            ("result", "maybe"),
            ("since", "yesterday"),
            ("before", "-3"),
        ]);
        assert_eq!(junk, AuditFilter::default());
    }

    #[test]
    fn links_round_trip_through_the_query() {
        let filter = AuditFilter {
            actor: Some("token:ci & co".into()),
            action: Some(AuditAction::TokenRevoked),
            result: Some(ResultFilter::Ok),
            since: Some(1_709_164_800),
            before_id: Some(7),
            ..AuditFilter::default()
        };
        let href = audit_href(&filter);
        assert_eq!(
            href,
            "/audit?actor=token:ci%20%26%20co&action=token_revoked&result=ok&since=2024-02-29&before=7"
        );
        let query = href.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let decoded: Vec<(String, String)> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.replace("%20", " ").replace("%26", "&")))
            .collect();
        let back = filter_from_params(decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(back, filter);
        assert_eq!(audit_href(&AuditFilter::default()), "/audit");
    }
}
