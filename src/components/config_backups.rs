//! The configuration's backups: time and size, a diff to the current file (`?backup=<id>`), and
//! "Restore" behind a confirmation (`?confirm=restore-<id>`) whose form posts [`RestoreBackup`]
//! with the digest of the file it replaces. Works without JavaScript (links and a form).

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use plb_domain::calendar::format_datetime_utc;
use plb_domain::units::format_bytes;

use crate::api::config::{get_backup, list_backups, RestoreBackup, WriteResult};
use crate::components::config_editor::DiffView;
use crate::components::confirm_dialog::{confirm_href, use_confirm_key, ConfirmDialog};

/// The URL parameter naming the backup whose diff is shown.
pub const BACKUP_PARAM: &str = "backup";

/// The backups list; `digest` is the loaded file's (a restore carries it), `reload` bumps after
/// a save or restore so the list is fetched again; `on_restored` runs after a restore.
#[component]
pub fn ConfigBackups(
    /// The digest of the file as loaded.
    #[prop(into)]
    digest: Signal<String>,
    /// Changes when the list must be fetched again.
    #[prop(into)]
    reload: Signal<u64>,
    /// Called after a restore wrote the file.
    on_restored: Callback<()>,
) -> impl IntoView {
    let list = api_resource(move || reload.get(), |_| list_backups());
    let query = use_query_map();
    let shown = Memo::new(move |_| query.with(|q| q.get(BACKUP_PARAM)));
    let detail = api_resource(
        move || shown.get(),
        |id| async move {
            match id {
                Some(id) => Some(get_backup(id).await),
                None => None,
            }
        },
    );
    let restore = ServerAction::<RestoreBackup>::new();
    let confirm = use_confirm_key();
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| match restore.value().get() {
        Some(Ok(WriteResult::Saved { .. })) => {
            message.set(Some("Restored.".to_owned()));
            on_restored.run(());
        }
        Some(Ok(WriteResult::Rejected { .. })) => message.set(Some(
            "ProxLB would reject that backup; nothing was written.".to_owned(),
        )),
        Some(Ok(WriteResult::Conflict { message: m, .. })) => {
            message.set(Some(format!("Not restored: the file {m}; reload first.")));
        }
        Some(Err(e)) => message.set(Some(e.to_string())),
        None => {}
    });

    view! {
        <section class="plb-card plb-config-backups" aria-labelledby="config-backups-title">
            <h2 class="plb-card__title" id="config-backups-title">"Backups"</h2>
            {move || message.get().map(|m| view! { <p class="plb-message" role="status">{m}</p> })}
            <Transition fallback=|| view! { <p class="plb-loading">"Loading backups…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="plb-message plb-message--error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! { <p>"No backups yet: each save keeps the previous version here."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="plb-table" data-testid="config-backups">
                            <thead><tr><th>"Taken"</th><th>"Size"</th><th></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|row| {
                                    let key = format!("restore-{}", row.id);
                                    let id = row.id.clone();
                                    let when = format_datetime_utc(row.taken_at_unix_ms.div_euclid(1000));
                                    view! {
                                        <tr>
                                            <td>{when.clone()}</td>
                                            <td>{format_bytes(row.size)}</td>
                                            <td class="plb-config-backups__actions">
                                                <a href=format!("/config?{BACKUP_PARAM}={}", row.id)>"Diff"</a>
                                                " "
                                                <a class="plb-button plb-button--small" href=confirm_href("/config", &key)>"Restore…"</a>
                                                {move || (confirm.get().as_deref() == Some(key.as_str())).then(|| {
                                                    let id = id.clone();
                                                    view! {
                                                        <ConfirmDialog
                                                            title=format!("Restore the backup of {when}?")
                                                            body="The current file is backed up first, then replaced by this backup (secrets as they were then). ProxLB reads it after its current sleep, or at once if restarted."
                                                            cancel_href="/config"
                                                        >
                                                            <ActionForm action=restore>
                                                                <input type="hidden" name="id" value=id />
                                                                <input type="hidden" name="digest" value=move || digest.get() />
                                                                <button class="plb-button" type="submit" autofocus data-testid="confirm-action">"Restore"</button>
                                                            </ActionForm>
                                                        </ConfirmDialog>
                                                    }
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
            <Transition fallback=|| ()>
                {move || detail.get().flatten().map(|r| match r {
                    Err(e) => view! { <p class="plb-message plb-message--error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(doc) => view! {
                        <div class="plb-config__diff" data-testid="config-backup-diff">
                            <h3>{format!("From the backup of {} to the current file", format_datetime_utc(doc.row.taken_at_unix_ms.div_euclid(1000)))}</h3>
                            <DiffView diff=doc.diff_to_current />
                        </div>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}
