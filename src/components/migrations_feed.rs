//! The dashboard's recent-migrations feed: the newest moves, live. It is loaded with the page
//! (so it shows without JavaScript) and then follows the live channel's `migrations` topic,
//! whose events carry the newest moves themselves.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use plb_domain::live::MigrationsTopic;
use plb_domain::migrations::MigrationRecord;

use crate::api::migrations::{get_recent_migrations, FEED_SIZE};
use crate::components::clock::{ago, use_clock};
use crate::components::live_client::{use_live_topic, TopicUpdate};
use crate::components::migration_widgets::{
    duration_label, guest_label, initiator_label, move_label, OutcomeBadge,
};

/// The recent-migrations card's content: loading, error and the live list.
#[component]
pub fn MigrationsFeed() -> impl IntoView {
    let recent = api_resource(|| (), |_| get_recent_migrations());
    view! {
        <Transition fallback=|| view! { <p class="plb-loading">"Loading migrations…"</p> }>
            {move || Suspend::new(async move {
                match recent.await {
                    Ok(records) => view! { <FeedList initial=records /> }.into_any(),
                    // Only this card: the rest of the dashboard keeps working.
                    Err(error) => view! {
                        <p class="plb-message plb-message--error" role="alert">{error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <p class="plb-feed__more"><a href="/migrations">"All migrations →"</a></p>
    }
}

#[component]
fn FeedList(initial: Vec<MigrationRecord>) -> impl IntoView {
    let records = RwSignal::new(initial);
    use_live_topic::<MigrationsTopic>(move |update| {
        if let TopicUpdate::Event(event) = update {
            let mut recent = event.recent;
            recent.truncate(FEED_SIZE);
            records.set(recent);
        }
    });
    let now = use_clock();
    move || {
        let list = records.get();
        if list.is_empty() {
            return view! {
                <p class="plb-empty plb-feed__empty" data-testid="migrations-feed">
                    "No migrations yet. Moves appear here as they start."
                </p>
            }
            .into_any();
        }
        view! {
            <ol class="plb-feed" data-testid="migrations-feed">
                {list
                    .into_iter()
                    .map(|record| {
                        let started = record.started_unix_ms;
                        let duration = {
                            let record = record.clone();
                            move || duration_label(&record, now.get())
                        };
                        let initiator = initiator_label(&record);
                        view! {
                            <li class="plb-feed__item" data-id=record.id data-guest=record.guest.clone() data-outcome=record.outcome.as_str()>
                                <span class="plb-feed__guest">{guest_label(&record)}</span>
                                <span class="plb-feed__move">{move_label(&record)}</span>
                                <OutcomeBadge outcome=record.outcome reason=record.reason.clone() />
                                // One text node: adjacent text nodes are fragile to hydrate.
                                <span class="plb-feed__meta plb-muted">
                                    {move || {
                                        let took = duration().map(|d| format!(" · {d}")).unwrap_or_default();
                                        format!("{}{took} · {initiator}", ago(started, now.get()))
                                    }}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any()
    }
}
