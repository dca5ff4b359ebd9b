//! The Logs view (`/logs`): ProxLB's log, newest at the bottom, filtered by level and searched
//! (matches highlighted), live, with pause, history paging and download.
//!
//! The filters are a GET form and the pages are links, so everything lives in the URL
//! (`/logs?level=warning&q=web02&before=1200`) and works without JavaScript. With JavaScript the
//! newest page continues live: the live channel's `logs` topic resumes right after the page
//! (its `live_cursor`), so nothing is missed or shown twice. Entries arrive in batches (one
//! update of the list per [`FLUSH_MS`]), and the list keeps at most [`MAX_LINES`] entries:
//! older ones leave the view (they stay reachable through "Older lines"). Lines the server
//! skipped for this tab are counted in a visible "lines dropped" counter.

use crate::api::resource::{api_resource, ApiResource};
use std::collections::VecDeque;
use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use plb_domain::live::{Cursor, LogsEvent, LogsTopic};
use plb_domain::logs::{Level, LogEntry, LogPage, LogQuery};
use plb_domain::service::ServiceState;
use plb_domain::units::plural;
use plb_domain::ServerInfo;

use crate::api::logs::get_log_page;
use crate::api::service::get_proxlb_overview;
use crate::components::error_panel::ErrorPanel;
use crate::components::live_client::{use_live_topic_after, TopicUpdate};
use crate::components::live_status::LiveContext;
use crate::components::log_line::LogLine;
use crate::components::page_header::PageHeader;
use crate::components::service_state::ProblemNote;
use crate::error::ApiError;

/// Entries per history page.
pub const PAGE_SIZE: u32 = 500;

/// Most entries the view keeps (in the DOM and in memory); older ones leave it.
pub const MAX_LINES: usize = 5_000;

/// Live entries are added to the list at most this often (milliseconds): at thousands of lines
/// per second one update per batch keeps the page responsive.
pub const FLUSH_MS: u64 = 100;

/// The log query a URL's query asks for: `level` (minimum), `q` (search), `before` (page).
/// Unknown or malformed values are ignored.
pub fn log_query_from_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> LogQuery {
    let mut query = LogQuery::default();
    for (key, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key {
            "level" => query.min_level = Level::parse(value),
            "q" => query.search = Some(value.to_owned()),
            "before" => query.before_seq = value.parse().ok().filter(|seq| *seq > 0),
            _ => {}
        }
    }
    query
}

/// The filters of `query` as URL parameters (`level`, `q`), paging left out.
fn filter_params(query: &LogQuery) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    if let Some(level) = query.min_level {
        params.push(("level", level.as_str().to_ascii_lowercase()));
    }
    if let Some(search) = query.search_needle() {
        params.push(("q", search.to_owned()));
    }
    params
}

/// `/logs` with `query`'s filters and page in the URL.
pub fn logs_href(query: &LogQuery) -> String {
    let mut params = filter_params(query);
    if let Some(before) = query.before_seq {
        params.push(("before", before.to_string()));
    }
    let map: ParamsMap = params.into_iter().collect();
    format!("/logs{}", map.to_query_string())
}

/// The download of the log as text with `query`'s filters (`GET /api/logs/raw`).
pub fn raw_href(query: &LogQuery) -> String {
    let params: ParamsMap = filter_params(query)
        .into_iter()
        .map(|(key, value)| (if key == "q" { "search" } else { key }, value))
        .collect();
    format!("/api/logs/raw{}", params.to_query_string())
}

/// ProxLB's log with its filter form.
#[component]
pub fn LogsPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|map| {
            log_query_from_params(
                map.latest_values()
                    .map(|(key, value)| (key.as_ref(), value)),
            )
        })
    });
    // The page size is always sent: an all-`None` query encodes as an empty form body, which
    // the server function cannot read back.
    let page = api_resource(
        move || LogQuery {
            limit: Some(PAGE_SIZE),
            ..query.get()
        },
        get_log_page,
    );
    view! {
        <PageHeader title="Logs" subtitle="ProxLB's log, live: filter by level, search, pause, page back and download." />
        <SourceNote />
        <LogFilters query />
        <Transition fallback=|| view! { <p class="plb-loading">"Loading the log…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let page = page.await?;
                    Ok::<_, ApiError>(view! { <LogList page query=query.get_untracked() /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// Where the log comes from, when that needs saying: the backend cannot be used (ProxLB not
/// installed in the demo, a missing socket …) or ProxLB is not running. A note, never red: only
/// the Service view goes red.
#[component]
fn SourceNote() -> impl IntoView {
    let overview = api_resource(|| (), |_| get_proxlb_overview());
    let info = expect_context::<ApiResource<Result<ServerInfo, ApiError>>>();
    view! {
        <Transition>
            {move || Suspend::new(async move {
                let service = overview.await.ok()?.service;
                let demo = info.await.is_ok_and(|info| info.demo);
                if let Some(problem) = service.problem {
                    return Some(view! { <ProblemNote problem demo quiet=true /> }.into_any());
                }
                let text = match service.state {
                    ServiceState::Running | ServiceState::Restarting => return None,
                    ServiceState::Failed => "ProxLB has failed: its last lines are at the end of the log.",
                    ServiceState::Stopped => "ProxLB is stopped: no new lines arrive until it is started.",
                    ServiceState::Unknown => "ProxLB's state is unknown.",
                };
                Some(view! {
                    <p class="plb-message plb-message--info plb-logs__note" role="status" data-testid="logs-source-note">
                        {text} " " <a href="/service">"Service"</a>
                    </p>
                }
                .into_any())
            })}
        </Transition>
    }
}

/// The level and search form (a GET form: the filters live in the URL).
#[component]
fn LogFilters(query: Memo<LogQuery>) -> impl IntoView {
    let search = move || query.get().search.unwrap_or_default();
    view! {
        <Form method="get" action="/logs" attr:class="plb-filters plb-logs__filters" attr:role="search" attr:aria-label="Filter the log">
            <label class="plb-field">
                <span class="plb-field__label">"Level"</span>
                <select name="level" prop:value=move || query.get().min_level.map(|l| l.as_str().to_ascii_lowercase()).unwrap_or_default()>
                    <option value="" selected=move || query.get().min_level.is_none()>"All levels"</option>
                    {Level::ALL
                        .into_iter()
                        .map(|level| {
                            let label = if level == Level::Critical {
                                "CRITICAL only".to_owned()
                            } else {
                                format!("{} and above", level.as_str())
                            };
                            view! {
                                <option value=level.as_str().to_ascii_lowercase() selected=move || query.get().min_level == Some(level)>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="plb-field plb-field--grow">
                <span class="plb-field__label">"Search"</span>
                <input type="search" name="q" placeholder="e.g. web02 or Next run" autocomplete="off" value=search prop:value=search />
            </label>
            <button class="plb-button" type="submit">"Filter"</button>
            <a class="plb-button plb-button--quiet" href="/logs">"Clear"</a>
            <a class="plb-button plb-button--quiet plb-logs__download" href=move || raw_href(&query.get()) download="proxlb.log" data-testid="logs-download">
                "Download"
            </a>
        </Form>
    }
}

/// Appends `incoming` to `entries`, keeping the newest [`MAX_LINES`]; returns how many left.
fn append_bounded(entries: &mut VecDeque<Arc<LogEntry>>, incoming: Vec<Arc<LogEntry>>) -> usize {
    entries.extend(incoming);
    let excess = entries.len().saturating_sub(MAX_LINES);
    entries.drain(..excess);
    excess
}

/// The entries of one page, then (on the newest page, with JavaScript) the live ones.
#[component]
fn LogList(page: LogPage, query: LogQuery) -> impl IntoView {
    let live = query.before_seq.is_none();
    let needle = query.search_needle().unwrap_or_default().to_owned();
    let filtered = query.min_level.is_some() || query.search_needle().is_some();
    let entries = RwSignal::new(
        page.entries
            .into_iter()
            .map(Arc::new)
            .collect::<VecDeque<_>>(),
    );
    // Older entries exist: beyond this page, or pushed out of the view by live ones.
    let more_before = RwSignal::new(page.has_more);
    let dropped = RwSignal::new(0_u64);
    let paused = RwSignal::new(false);
    let held = RwSignal::new(0_usize);
    // Entries received but not yet in the list (the next batch, or held while paused).
    let inbox = StoredValue::new(Vec::<Arc<LogEntry>>::new());
    let flush_due = StoredValue::new(false);

    let flush = move || {
        flush_due.set_value(false);
        if paused.get_untracked() {
            return;
        }
        let batch = inbox.try_update_value(std::mem::take).unwrap_or_default();
        if batch.is_empty() {
            return;
        }
        entries.update(|list| {
            if append_bounded(list, batch) > 0 {
                more_before.set(true);
            }
        });
        held.set(0);
    };

    if live {
        let filter = query.clone();
        // The newest entry this list has, shown or filtered out. A live entry at or before it
        // is one the page already has (an event still in flight from the previous filter's
        // subscription), so it is skipped; a restarted server numbers its log afresh, so a
        // falling server uptime resets it.
        let newest = StoredValue::new(page.newest_seq);
        if let Some(live) = use_context::<LiveContext>() {
            let uptime = StoredValue::new(None::<u64>);
            Effect::new(move |_| {
                let now = live.uptime_seconds.get();
                if let (Some(before), Some(now)) = (uptime.get_value(), now) {
                    if now < before {
                        newest.set_value(0);
                    }
                }
                uptime.set_value(now);
            });
        }
        use_live_topic_after::<LogsTopic>(Some(Cursor::new(page.live_cursor)), move |update| {
            match update {
                TopicUpdate::Event(LogsEvent::Entry(entry)) => {
                    if entry.seq <= newest.get_value() {
                        return;
                    }
                    newest.set_value(entry.seq);
                    if !filter.matches(&entry) {
                        return;
                    }
                    inbox.update_value(|waiting| {
                        waiting.push(Arc::new(entry));
                        // Held while paused: only the newest MAX_LINES could be shown anyway.
                        let excess = waiting.len().saturating_sub(MAX_LINES);
                        waiting.drain(..excess);
                    });
                    if paused.get_untracked() {
                        held.update(|n| *n += 1);
                    } else if !flush_due.get_value() {
                        flush_due.set_value(true);
                        set_timeout(flush, std::time::Duration::from_millis(FLUSH_MS));
                    }
                }
                TopicUpdate::Event(LogsEvent::Gap { missed }) => dropped.update(|n| *n += missed),
                TopicUpdate::Missed { count } => dropped.update(|n| *n += count),
            }
        });
    }

    let toggle_pause = move |_| {
        let now_paused = !paused.get_untracked();
        paused.set(now_paused);
        if !now_paused {
            flush();
        }
    };
    let older_href = {
        let query = query.clone();
        move || {
            let first = entries.with(|list| list.front().map(|entry| entry.seq))?;
            more_before.get().then(|| {
                logs_href(&LogQuery {
                    before_seq: Some(first),
                    ..query.clone()
                })
            })
        }
    };
    let newest_href = (!live).then(|| {
        logs_href(&LogQuery {
            before_seq: None,
            ..query.clone()
        })
    });
    let summary = move || {
        let shown = entries.with(VecDeque::len);
        match (shown, filtered) {
            (0, true) => "No lines match these filters.".to_owned(),
            (0, false) => "No log lines yet.".to_owned(),
            (_, true) => format!("{} matching", plural(shown, "line", "lines")),
            (_, false) => plural(shown, "line", "lines"),
        }
    };

    view! {
        <div class="plb-logs__bar">
            <p class="plb-results__summary plb-logs__count" data-testid="logs-count">{summary}</p>
            {live.then(|| view! {
                <div class="plb-logs__live" data-testid="logs-live">
                    <span
                        class=move || {
                            if dropped.get() > 0 { "plb-logs__dropped plb-logs__dropped--some" } else { "plb-logs__dropped" }
                        }
                        data-testid="logs-dropped"
                        title="Lines the server skipped because this tab could not keep up (or no longer had). They are in the download and in a reload."
                    >
                        {move || plural(dropped.get(), "line dropped", "lines dropped")}
                    </span>
                    <span class="plb-logs__held" role="status">
                        {move || paused.get().then(|| format!("Paused: {} waiting", plural(held.get(), "new line", "new lines")))}
                    </span>
                    <button
                        class="plb-button plb-button--quiet plb-button--small plb-logs__pause"
                        type="button"
                        aria-pressed=move || paused.get().to_string()
                        on:click=toggle_pause
                        data-testid="logs-pause"
                    >
                        {move || if paused.get() { "Follow" } else { "Pause" }}
                    </button>
                </div>
            })}
            {newest_href.map(|href| view! {
                <p class="plb-logs__history-note">
                    "Older lines; the view does not follow the log here. "
                    <a href=href>"Newest lines (live) →"</a>
                </p>
            })}
        </div>
        {move || older_href().map(|href| view! {
            <p class="plb-logs__older"><a href=href rel="prev" data-testid="logs-older">"← Older lines"</a></p>
        })}
        // Newest at the bottom; the column-reverse scroller starts at the bottom and stays
        // there while lines arrive, unless the reader scrolled up (no script needed).
        <div class="plb-log-scroll" tabindex="0" role="region" aria-label="ProxLB's log">
            <ol class="plb-log-list" data-testid="log-list">
                <For each=move || entries.get() key=|entry| entry.seq let:entry>
                    <LogLine entry needle=needle.clone() />
                </For>
            </ol>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use plb_domain::logs::{LogEvent, LogStream};

    use super::*;

    #[test]
    fn reads_the_filters_and_ignores_junk() {
        let query = log_query_from_params([
            ("level", "Warning"),
            ("q", " web02 "),
            ("before", "1200"),
            ("utm", "x"),
        ]);
        assert_eq!(
            query,
            LogQuery {
                min_level: Some(Level::Warning),
                search: Some("web02".into()),
                before_seq: Some(1200),
                ..LogQuery::default()
            }
        );
        let junk = log_query_from_params([("level", "loud"), ("q", "  "), ("before", "-1")]);
        assert_eq!(junk, LogQuery::default());
    }

    #[test]
    fn links_round_trip_and_downloads_keep_the_filters() {
        let query = LogQuery {
            min_level: Some(Level::Error),
            search: Some("guest web02 & co".into()),
            before_seq: Some(77),
            ..LogQuery::default()
        };
        let href = logs_href(&query);
        assert!(href.starts_with("/logs?level=error&q=guest"), "{href}");
        let map = ParamsMap::from_iter(
            href.trim_start_matches("/logs?")
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| {
                    (
                        k.to_owned(),
                        v.replace("%20", " ").replace("%26", "&").replace('+', " "),
                    )
                }),
        );
        let back = log_query_from_params(map.latest_values().map(|(k, v)| (k.as_ref(), v)));
        assert_eq!(back, query);
        assert_eq!(logs_href(&LogQuery::default()), "/logs");
        let raw = raw_href(&query);
        assert!(
            raw.starts_with("/api/logs/raw?level=error&search=guest"),
            "{raw}"
        );
        assert!(!raw.contains("before"), "{raw}");
    }

    fn entry(seq: u64) -> Arc<LogEntry> {
        Arc::new(LogEntry {
            seq,
            at_unix_ms: 0,
            stream: LogStream::Stdout,
            level: Some(Level::Info),
            proxlb_time: None,
            message: String::new(),
            event: LogEvent::Other,
            raw: String::new(),
        })
    }

    #[test]
    fn the_view_keeps_the_newest_lines_only() {
        let mut list: VecDeque<_> = (0..MAX_LINES as u64 - 2).map(entry).collect();
        let left = append_bounded(&mut list, (0..5).map(|n| entry(10_000 + n)).collect());
        assert_eq!(left, 3);
        assert_eq!(list.len(), MAX_LINES);
        assert_eq!(list.front().map(|e| e.seq), Some(3));
        assert_eq!(list.back().map(|e| e.seq), Some(10_004));
    }
}
