//! The pager under a newest-first history (audit log, migrations) paged by the id of its oldest
//! row: back to the newest page, on to the next older one.

use leptos::prelude::*;

/// "← Newest" when `newest` is given (an older page is shown), "Older →" when `older` is (more
/// rows follow); nothing when neither is. Both are plain links, so paging works without
/// JavaScript.
#[component]
pub fn HistoryPager(
    /// The first page's address, when this is not it.
    newest: Option<String>,
    /// The next older page's address, when there is one.
    older: Option<String>,
) -> impl IntoView {
    (newest.is_some() || older.is_some()).then(|| {
        view! {
            <nav class="plb-pager" aria-label="Pages">
                {newest.map(|href| view! { <a href=href>"← Newest"</a> })}
                {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
            </nav>
        }
    })
}
