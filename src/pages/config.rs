//! The Configuration view (`/config`): ProxLB's `proxlb.yaml`, masked, in an editor with
//! validation, a diff before saving and a conflict check; and its backups with diff and restore.
//! Reading needs a signed-in user; saving and restoring need an operator (the server says no
//! otherwise). Without JavaScript the editor is a plain form and the outcome of a post comes
//! back in the URL ([`OUTCOME_PARAM`]).

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::config::{get_config, OUTCOME_PARAM};
use crate::components::config_backups::ConfigBackups;
use crate::components::config_editor::ConfigEditor;
use crate::components::page_header::PageHeader;

/// ProxLB's configuration file, with validation and safe saves.
#[component]
pub fn ConfigPage() -> impl IntoView {
    // `version` refetches the file (after a restore); `listed` only the backups (after a save,
    // which keeps the editor and its text as they are).
    let version = RwSignal::new(0u64);
    let listed = RwSignal::new(0u64);
    let doc = api_resource(move || version.get(), |_| get_config());
    let query = use_query_map();
    let outcome = Memo::new(move |_| query.with(|q| q.get(OUTCOME_PARAM)));
    // The digest of the file now: the one a save answered, else the loaded one.
    let saved = RwSignal::new(None::<String>);
    let digest = Signal::derive(move || {
        saved
            .get()
            .or_else(|| doc.get().and_then(Result::ok).map(|d| d.digest))
            .unwrap_or_default()
    });
    let on_saved = Callback::new(move |new: String| {
        saved.set(Some(new));
        listed.update(|v| *v += 1);
    });
    let on_restored = Callback::new(move |()| {
        saved.set(None);
        version.update(|v| *v += 1);
        listed.update(|v| *v += 1);
    });
    view! {
        <PageHeader title="Configuration" subtitle="ProxLB's configuration file, with validation and safe saves." />
        {move || outcome.get().map(|o| view! {
            <p class="plb-message" role="status" data-testid="config-outcome">{describe_outcome(&o)}</p>
        })}
        <Transition fallback=|| view! { <p class="plb-loading">"Loading the configuration…"</p> }>
            {move || doc.get().map(|r| match r {
                Ok(doc) => view! { <ConfigEditor doc on_saved /> }.into_any(),
                Err(e) => view! { <p class="plb-message plb-message--error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
        <ConfigBackups digest reload=listed on_restored />
    }
}

/// What a plain form post's outcome word means, for people.
fn describe_outcome(word: &str) -> &'static str {
    match word {
        "saved" => "Saved. ProxLB reads it after its current sleep, or at once if restarted.",
        "saved_reloaded" => "Saved and ProxLB reloaded: it reads the file after its current sleep (a change under proxmox_api needs a restart).",
        "saved_restarted" => "Saved and ProxLB restarted: it runs with the new file now.",
        "saved_not_applied" => "Saved, but ProxLB could not be reloaded or restarted; the Service view says why.",
        "unchanged" => "Nothing changed; the file is untouched.",
        "rejected" => "Not saved: ProxLB would reject that text. The issues of the file on disk are listed below; fix the text and save again.",
        "conflict" => "Not saved: the file changed on disk since you loaded it. This is the file as it is now.",
        "forbidden" | "unauthorized" => "Not saved: only operators may change the configuration.",
        _ => "Not saved: it failed on the server.",
    }
}
