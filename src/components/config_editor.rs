//! The configuration editor: the masked YAML in a `<textarea>` with a line-number gutter
//! (markers at lines with issues), "Validate" (issues with line:column; clicking one moves the
//! cursor to it), "Save" that first shows the pending change as a diff, and a conflict panel
//! when the file changed on disk (theirs vs yours, nothing typed is lost).
//!
//! A textarea rather than an editor crate keeps the WASM small: with JavaScript, a `<pre>` under
//! the transparent textarea shows the same text coloured by `plb_domain::yaml_highlight` (a few
//! line rules, a few KB of WASM). Without JavaScript it is a plain
//! form: the textarea, the digest as a hidden field, and Save posting to [`SaveConfig`]
//! (redirected back with the outcome; the file's own validation shows on the page).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use plb_domain::proxlb::validate::{Issue, Report};

use crate::api::config::{
    Applied, ConfigDoc, PreviewConfig, SaveConfig, ValidateConfig, WriteResult,
};

/// The editor for `doc`; `on_saved` runs after a successful save (the page reloads backups).
#[component]
pub fn ConfigEditor(
    /// The file as loaded.
    doc: ConfigDoc,
    /// Called with the new digest after a save that wrote the file.
    on_saved: Callback<String>,
) -> impl IntoView {
    let text = RwSignal::new(doc.text.clone());
    let digest = RwSignal::new(doc.digest.clone());
    let report = RwSignal::new(Some(doc.report.clone()));
    let diff = RwSignal::new(None::<String>);
    // The pending change touches proxmox_api: only a restart brings it to ProxLB.
    let restart_needed = RwSignal::new(false);
    let apply_unavailable = doc.apply_unavailable.clone();
    let can_apply = apply_unavailable.is_none();
    let conflict = RwSignal::new(None::<(String, String)>);
    let notice = RwSignal::new(None::<String>);
    let read_only = doc.read_only.clone();
    let disabled = read_only.is_some();
    let area = NodeRef::<leptos::html::Textarea>::new();
    let gutter = NodeRef::<leptos::html::Div>::new();
    let overlay = NodeRef::<leptos::html::Pre>::new();

    // Validate answers in place, so it is offered once JavaScript runs (effects run only in
    // the browser); without it, Save validates and the outcome comes back in the URL.
    let scripted = RwSignal::new(false);
    Effect::new(move |_| scripted.set(true));
    let validate = ServerAction::<ValidateConfig>::new();
    let preview = ServerAction::<PreviewConfig>::new();
    let save = ServerAction::<SaveConfig>::new();

    Effect::new(move |_| match validate.value().get() {
        Some(Ok(r)) => {
            notice.set(Some(if r.accepted() {
                "ProxLB 2.3.0 would accept this file.".to_owned()
            } else {
                "ProxLB 2.3.0 would reject this file; see the issues below.".to_owned()
            }));
            report.set(Some(r));
        }
        Some(Err(e)) => notice.set(Some(e.to_string())),
        None => {}
    });
    Effect::new(move |_| match preview.value().get() {
        Some(Ok(p)) => {
            restart_needed.set(p.restart_needed);
            diff.set(Some(p.diff));
        }
        Some(Err(e)) => notice.set(Some(e.to_string())),
        None => {}
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(WriteResult::Saved {
            digest: new,
            backup,
            warnings,
            applied,
        })) => {
            diff.set(None);
            conflict.set(None);
            let saved = match new {
                Some(new) => {
                    digest.set(new.clone());
                    on_saved.run(new);
                    match backup {
                        Some(b) => format!("Saved; the previous version is backup {b}."),
                        None => "Saved.".to_owned(),
                    }
                }
                None => "Nothing changed; the file is untouched.".to_owned(),
            };
            notice.set(Some(match applied {
                Some(Applied { message, .. }) => format!("{saved} {message}"),
                None => format!(
                    "{saved} ProxLB reads it after its current sleep, or at once if restarted."
                ),
            }));
            report.set(Some(Report {
                errors: Vec::new(),
                warnings,
                legacy_1x: false,
            }));
        }
        Some(Ok(WriteResult::Rejected { report: r })) => {
            diff.set(None);
            notice.set(Some(
                "ProxLB would reject this file; nothing was written.".to_owned(),
            ));
            report.set(Some(r));
        }
        Some(Ok(WriteResult::Conflict {
            message,
            diff: theirs_vs_yours,
            digest: now,
        })) => {
            diff.set(None);
            notice.set(Some(format!("Not saved: the file {message}.")));
            conflict.set(Some((theirs_vs_yours, now)));
        }
        Some(Err(e)) => notice.set(Some(e.to_string())),
        None => {}
    });

    let issue_lines = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref()
                .map(|r| r.errors.iter().map(|i| i.line).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let line_count = Memo::new(move |_| {
        text.with(|t| t.lines().count().max(1) + usize::from(t.ends_with('\n')))
    });

    let jump = move |issue: &Issue| {
        let (line, column) = (issue.line, issue.column);
        #[cfg(feature = "hydrate")]
        if let Some(el) = area.get_untracked() {
            let value = el.value();
            let offset = offset_of(&value, line, column);
            let _ = el.focus();
            let _ = el.set_selection_range(offset, offset);
            let lines = value.lines().count().max(1) as i32;
            let per_line = el.scroll_height() / lines;
            el.set_scroll_top(per_line * (line as i32 - 3).max(0));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (line, column, area);
    };

    let save_url = <SaveConfig as ServerFn>::PATH;
    view! {
        <section class="plb-card plb-config" aria-labelledby="config-editor-title">
            <h2 class="plb-card__title" id="config-editor-title">"proxlb.yaml"</h2>
            {doc.demo.then(|| view! {
                <p class="plb-message" data-testid="config-demo-note">
                    "Demo mode: the demo's configuration is regenerated at every start, so edits here reset on restart."
                </p>
            })}
            {read_only.clone().map(|why| view! {
                <p class="plb-message plb-message--error" data-testid="config-read-only">
                    {format!("Read-only: {why}")}
                </p>
            })}
            {doc.in_place.then(|| view! {
                <p class="plb-message">"The file is a single-file mount: saves write it in place after a backup (no atomic rename)."</p>
            })}
            <form
                class="plb-config__form"
                method="post"
                action=save_url
                on:submit=move |ev| {
                    // With JavaScript: show the pending change first; the diff panel saves.
                    ev.prevent_default();
                    preview.dispatch(PreviewConfig { text: text.get_untracked() });
                }
            >
                <input type="hidden" name="digest" value=move || digest.get() />
                <div class="plb-config__editor" class:plb-config__editor--highlighted=move || scripted.get()>
                    <div class="plb-config__gutter" node_ref=gutter aria-hidden="true">
                        {move || {
                            let marked = issue_lines.get();
                            (1..=line_count.get())
                                .map(|n| {
                                    let bad = marked.contains(&(n as u32));
                                    view! {
                                        <span class="plb-config__line" class:plb-config__line--error=bad>
                                            {n}
                                        </span>
                                    }
                                })
                                .collect_view()
                        }}
                    </div>
                    <div class="plb-config__code">
                    // With JavaScript the text is drawn coloured underneath a transparent
                    // textarea (same font, padding and scroll); without it, the textarea shows
                    // its own text.
                    <pre class="plb-config__highlight" node_ref=overlay aria-hidden="true" hidden=move || !scripted.get()>
                        {move || if scripted.get() { text.with(|t| highlighted(t)) } else { ().into_any() }}
                    </pre>
                    <textarea
                        class="plb-config__text"
                        name="text"
                        node_ref=area
                        spellcheck="false"
                        autocomplete="off"
                        wrap="off"
                        aria-label="proxlb.yaml"
                        data-testid="config-text"
                        disabled=disabled
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                        on:scroll=move |_| {
                            #[cfg(feature = "hydrate")]
                            if let (Some(a), Some(g)) = (area.get_untracked(), gutter.get_untracked()) {
                                g.set_scroll_top(a.scroll_top());
                                if let Some(o) = overlay.get_untracked() {
                                    o.set_scroll_top(a.scroll_top());
                                    o.set_scroll_left(a.scroll_left());
                                }
                            }
                        }
                    >
                        {doc.text.clone()}
                    </textarea>
                    </div>
                </div>
                <div class="plb-config__actions">
                    <button
                        class="plb-button plb-button--quiet"
                        type="button"
                        data-testid="config-validate"
                        hidden=move || !scripted.get()
                        on:click=move |_| { validate.dispatch(ValidateConfig { text: text.get_untracked() }); }
                    >
                        "Validate"
                    </button>
                    <button class="plb-button" type="submit" name="apply" value="save" disabled=disabled data-testid="config-save">
                        "Save…"
                    </button>
                    // Without JavaScript there is no diff step: the choice is made here.
                    {can_apply.then(|| view! {
                        <button class="plb-button plb-button--quiet" type="submit" name="apply" value="reload"
                            disabled=disabled hidden=move || scripted.get()>
                            "Save and reload ProxLB"
                        </button>
                    })}
                    {can_apply.then(|| view! {
                        <button class="plb-button plb-button--quiet" type="submit" name="apply" value="restart"
                            disabled=disabled hidden=move || scripted.get()>
                            "Save and restart ProxLB"
                        </button>
                    })}
                </div>
            </form>
            {move || notice.get().map(|n| view! { <p class="plb-message" role="status" data-testid="config-notice">{n}</p> })}
            {move || report.get().map(|r| view! { <IssueList report=r on_pick=Callback::new(move |i: Issue| jump(&i)) /> })}
            {move || diff.get().map(|d| view! {
                <div class="plb-config__diff" data-testid="config-diff">
                    <h3>"Pending change"</h3>
                    <DiffView diff=d />
                    <p class="plb-message" data-testid="config-apply-advice">
                        {move || if restart_needed.get() {
                            "This change touches proxmox_api: ProxLB reads that only when it starts, so save and restart."
                        } else {
                            "Reload: ProxLB applies it after its current sleep (12 h by default). Restart: at once, and it balances at once."
                        }}
                    </p>
                    {apply_unavailable.clone().map(|why| view! {
                        <p class="plb-message" data-testid="config-apply-unavailable">{format!("Reload and restart are not offered: {why}")}</p>
                    })}
                    <div class="plb-config__actions">
                        <button class="plb-button plb-button--quiet" type="button" on:click=move |_| diff.set(None)>"Keep editing"</button>
                        <button
                            class="plb-button"
                            class:plb-button--quiet=move || can_apply
                            type="button"
                            data-testid="config-confirm-save"
                            disabled=move || save.pending().get()
                            on:click=move |_| { save.dispatch(SaveConfig { digest: digest.get_untracked(), text: text.get_untracked(), apply: None }); }
                        >
                            "Save only"
                        </button>
                        {can_apply.then(|| view! {
                            <button
                                class="plb-button"
                                class:plb-button--quiet=move || restart_needed.get()
                                type="button"
                                data-testid="config-save-reload"
                                disabled=move || save.pending().get()
                                on:click=move |_| { save.dispatch(SaveConfig { digest: digest.get_untracked(), text: text.get_untracked(), apply: Some("reload".to_owned()) }); }
                            >
                                "Save and reload"
                            </button>
                        })}
                        {can_apply.then(|| view! {
                            <button
                                class="plb-button"
                                class:plb-button--quiet=move || !restart_needed.get()
                                type="button"
                                data-testid="config-save-restart"
                                disabled=move || save.pending().get()
                                on:click=move |_| { save.dispatch(SaveConfig { digest: digest.get_untracked(), text: text.get_untracked(), apply: Some("restart".to_owned()) }); }
                            >
                                "Save and restart"
                            </button>
                        })}
                    </div>
                </div>
            })}
            {move || conflict.get().map(|(d, now)| view! {
                <div class="plb-config__conflict" role="alert" data-testid="config-conflict">
                    <h3>"Changed on disk since you loaded it"</h3>
                    <p>"Nothing was written. The diff goes from the file on disk (theirs) to your text (yours); your text is still in the editor."</p>
                    <DiffView diff=d />
                    <div class="plb-config__actions">
                        <a class="plb-button plb-button--quiet" href="/config" rel="external">"Discard mine and reload"</a>
                        <button
                            class="plb-button"
                            type="button"
                            on:click=move |_| {
                                digest.set(now.clone());
                                conflict.set(None);
                                preview.dispatch(PreviewConfig { text: text.get_untracked() });
                            }
                        >
                            "Keep mine over theirs…"
                        </button>
                    </div>
                </div>
            })}
        </section>
    }
}

/// `text` as coloured spans (`plb-yaml__<class>`), line by line, for the overlay.
fn highlighted(text: &str) -> AnyView {
    use plb_domain::yaml_highlight::{highlight_line, Token};

    let mut spans = Vec::new();
    for line in text.split('\n') {
        for (token, range) in highlight_line(line) {
            let part = line[range].to_owned();
            spans.push(if token == Token::Plain {
                view! { <span>{part}</span> }.into_any()
            } else {
                let class = format!("plb-yaml__{}", token.class());
                view! { <span class=class>{part}</span> }.into_any()
            });
        }
        spans.push(view! { <span>"\n"</span> }.into_any());
    }
    spans.collect_view().into_any()
}

/// Errors and warnings with line:column; clicking one calls `on_pick`.
#[component]
fn IssueList(report: Report, on_pick: Callback<Issue>) -> impl IntoView {
    if report.errors.is_empty() && report.warnings.is_empty() && !report.legacy_1x {
        return view! { <p class="plb-config__ok" data-testid="config-valid">"No issues."</p> }
            .into_any();
    }
    let item = move |issue: Issue, kind: &'static str| {
        let label = format!("{}:{}", issue.line, issue.column);
        let message = issue.message.clone();
        view! {
            <li class=format!("plb-config__issue plb-config__issue--{kind}") data-testid="config-issue">
                <button class="plb-link" type="button" on:click=move |_| on_pick.run(issue.clone())>
                    {label}
                </button>
                " "
                {message}
            </li>
        }
    };
    view! {
        <div class="plb-config__issues">
            {report.legacy_1x.then(|| view! { <p class="plb-message">"This is a ProxLB 1.x configuration; 2.3.0 rejects or misreads it."</p> })}
            <ul>
                {report.errors.into_iter().map(|i| item(i, "error")).collect_view()}
                {report.warnings.into_iter().map(|i| item(i, "warning")).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// A unified diff, one line per row, added and removed lines marked.
#[component]
pub fn DiffView(
    /// The unified diff text.
    diff: String,
) -> impl IntoView {
    if diff.trim().is_empty() {
        return view! { <p class="plb-diff plb-diff--empty">"No differences."</p> }.into_any();
    }
    let rows = diff
        .lines()
        .map(|line| {
            let class = if line.starts_with("+++") || line.starts_with("---") {
                "plb-diff__line plb-diff__line--file"
            } else if line.starts_with('+') {
                "plb-diff__line plb-diff__line--add"
            } else if line.starts_with('-') {
                "plb-diff__line plb-diff__line--del"
            } else if line.starts_with("@@") {
                "plb-diff__line plb-diff__line--hunk"
            } else {
                "plb-diff__line"
            };
            view! { <span class=class>{line.to_owned()}"\n"</span> }
        })
        .collect_view();
    view! { <pre class="plb-diff">{rows}</pre> }.into_any()
}

/// The offset (in UTF-16 units, as the DOM counts) of `line`:`column` (both from 1) in `text`.
pub fn offset_of(text: &str, line: u32, column: u32) -> u32 {
    let mut offset = 0u32;
    for (n, l) in text.split('\n').enumerate() {
        let units = l.encode_utf16().count() as u32;
        if n + 1 == line as usize {
            return offset + column.saturating_sub(1).min(units);
        }
        offset += units + 1;
    }
    offset.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::offset_of;
    use crate::components::Markup;

    #[test]
    fn offsets_count_lines_and_columns_from_one() {
        let text = "a: 1\nbb: 2\nc: ü\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 1), 5);
        assert_eq!(offset_of(text, 2, 4), 8);
        assert_eq!(offset_of(text, 3, 99), 15);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_read_only_demo_file_renders_disabled_with_why_and_the_digest_in_the_form() {
        use leptos::prelude::*;
        use plb_domain::proxlb::validate::{Issue, Report};

        use super::ConfigEditor;
        use crate::api::config::ConfigDoc;

        let owner = Owner::new();
        owner.set();
        let doc = ConfigDoc {
            text: "a: 1\nb: [\n".to_owned(),
            digest: "d1g".to_owned(),
            report: Report {
                errors: vec![Issue {
                    path: String::new(),
                    line: 2,
                    column: 4,
                    message: "unclosed".to_owned(),
                }],
                warnings: Vec::new(),
                legacy_1x: false,
            },
            read_only: Some("mounted read-only".to_owned()),
            in_place: false,
            demo: true,
            apply_unavailable: None,
        };
        let html = view! { <ConfigEditor doc on_saved=Callback::new(|_: String| {}) /> }
            .to_html()
            .markup();
        assert!(html.contains("Read-only: mounted read-only"), "{html}");
        assert!(html.contains("edits here reset on restart"), "{html}");
        assert!(html.contains("name=\"digest\" value=\"d1g\""), "{html}");
        assert!(html.contains("action=\"/sfn/config_save\""), "{html}");
        assert!(html.contains(">2:4</button>"), "{html}");
        assert!(html.contains("plb-config__line--error"), "{html}");
        assert!(html.contains("disabled"), "{html}");
        assert!(html.contains("value=\"restart\""), "{html}");
    }
}
