//! The balancing settings form: every setting with a one-line explanation, a what-if of the
//! changed settings and of per-node maintenance and ignore toggles (debounced,
//! [`WHAT_IF_DELAY_MS`]; the toggles are never saved) shown beside today's plan, and a save
//! behind a confirmation that shows "theirs vs yours" when the file changed meanwhile.

use leptos::prelude::*;
use plb_domain::balancing::answer::{NodeState, WhatIfAnswer};
use plb_domain::balancing::settings::{BalancingSettings, Field};
use plb_domain::balancing::wire::{Candidate, SaveRefusal};
use plb_domain::proxlb::config::{BalanceType, Mode, PsiThreshold, Resource, TimeFormat};

use leptos_router::hooks::use_query_map;

use crate::api::balancing::{
    describe_save_outcome, plan_what_if, save_balancing, SaveAnswer, SaveBalancingForm, SAVE_PARAM,
};
use crate::components::balancing_plan::PlanPanel;

/// Quiet time after the last change before the what-if is asked (the server answers in
/// milliseconds; this only avoids one request per keystroke).
pub const WHAT_IF_DELAY_MS: u64 = 250;

/// Where the plain form posts (the server function's URL).
fn save_form_path() -> String {
    use leptos::server_fn::ServerFn;
    SaveBalancingForm::url().to_owned()
}

const DEFAULT_PSI: PsiThreshold = PsiThreshold {
    pressure_full: 5.0,
    pressure_some: 20.0,
    pressure_spikes: 50.0,
};

fn explain(field: Field) -> impl IntoView {
    view! { <span class="plb-balancing-form__hint">{field.explain()}</span> }
}

fn parse_opt(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// The form, the what-if and the save.
#[component]
pub fn BalancingForm(
    /// The settings as saved.
    saved: BalancingSettings,
    /// The file's digest they were read from.
    digest: String,
    /// The cluster reports pressure: PSI mode is offered.
    pressure_reported: bool,
    /// Operators may save; others see why not.
    can_operate: bool,
    /// Why the file cannot be written, if so.
    read_only: Option<String>,
    /// Every node's maintenance and ignore state (the what-if's toggles start from it).
    nodes: Vec<NodeState>,
    /// Where the latest what-if candidate is published (e.g. for "ask real ProxLB"); `None`
    /// while nothing differs from the saved configuration.
    #[prop(optional)]
    publish: Option<RwSignal<Option<Candidate>>>,
) -> impl IntoView {
    let saved = RwSignal::new(saved);
    let digest = RwSignal::new(digest);
    let form = RwSignal::new(saved.get_untracked());
    let result = RwSignal::new(None::<Result<WhatIfAnswer, String>>);
    let listed = |pick: fn(&NodeState) -> bool| -> Vec<String> {
        nodes
            .iter()
            .filter(|n| pick(n))
            .map(|n| n.node.clone())
            .collect()
    };
    let saved_maintenance = listed(|n| n.maintenance_listed);
    let saved_ignored = listed(|n| n.ignored);
    let maintenance = RwSignal::new(saved_maintenance.clone());
    let ignored = RwSignal::new(saved_ignored.clone());
    let generation = StoredValue::new(0_u64);
    let confirming = RwSignal::new(false);
    // After a plain-form save (no JavaScript) the outcome comes back in the URL.
    let from_url = use_query_map()
        .with_untracked(|q| q.get(SAVE_PARAM))
        .and_then(|word| describe_save_outcome(&word))
        .map(|o| o.map(str::to_owned).map_err(str::to_owned));
    let outcome = RwSignal::new(from_url);
    let conflict = RwSignal::new(None::<(BalancingSettings, BalancingSettings)>);
    let saving = RwSignal::new(false);
    let dirty = move || form.with(|f| saved.with(|s| f != s));

    // What-if: debounced; only the answer to the latest change is shown.
    let (kept_maintenance, kept_ignored) = (saved_maintenance.clone(), saved_ignored.clone());
    Effect::new(move |_| {
        let settings = form.get();
        // Compared as sets: unticking and ticking a node again changes nothing.
        let changed = |now: Vec<String>, kept: &[String]| {
            let mut sorted = now.clone();
            sorted.sort();
            let mut was = kept.to_vec();
            was.sort();
            (sorted != was).then_some(now)
        };
        let candidate = Candidate {
            settings,
            maintenance_nodes: changed(maintenance.get(), &kept_maintenance),
            ignore_nodes: changed(ignored.get(), &kept_ignored),
        };
        if !dirty() && candidate.maintenance_nodes.is_none() && candidate.ignore_nodes.is_none() {
            result.set(None);
            if let Some(publish) = publish {
                publish.set(None);
            }
            return;
        }
        if let Some(publish) = publish {
            publish.set(Some(candidate.clone()));
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = plan_what_if(candidate).await.map_err(|e| e.to_string());
                    if generation.get_value() == mine {
                        result.set(Some(answer));
                    }
                });
            },
            std::time::Duration::from_millis(WHAT_IF_DELAY_MS),
        );
    });

    let save = move |_| {
        saving.set(true);
        let settings = form.get_untracked();
        let base = digest.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = save_balancing(base, settings.clone()).await;
            saving.set(false);
            confirming.set(false);
            match answer {
                Ok(SaveAnswer::Saved { digest: new }) => {
                    digest.set(new);
                    saved.set(settings);
                    conflict.set(None);
                    outcome.set(Some(Ok(
                        "Saved. ProxLB applies it on its next run after a reload or restart."
                            .to_owned(),
                    )));
                }
                Ok(SaveAnswer::Refused(SaveRefusal::Conflict {
                    theirs,
                    yours,
                    digest: now,
                })) => {
                    conflict.set(Some((*theirs, *yours)));
                    digest.set(now);
                    outcome.set(Some(Err("The file changed since you loaded it; nothing was written. Compare below, then save again to keep yours.".to_owned())));
                }
                Ok(SaveAnswer::Refused(SaveRefusal::Invalid { fields })) => {
                    outcome.set(Some(Err(fields
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "))))
                }
                Ok(SaveAnswer::Rejected { issues }) => outcome.set(Some(Err(format!(
                    "ProxLB would reject the file: {}",
                    issues.join("; ")
                )))),
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };

    let set = move |f: fn(&mut BalancingSettings, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            form.update(|s| f(s, value));
        }
    };
    let check = move |f: fn(&mut BalancingSettings, bool)| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            form.update(|s| f(s, on));
        }
    };
    let why_not = if !can_operate {
        Some("Only operators can change balancing; you are signed in as a viewer.".to_owned())
    } else {
        read_only.map(|why| format!("The configuration file cannot be written: {why}"))
    };
    let disabled = why_not.is_some();
    let initial = saved.get_untracked();
    let initial_digest = digest.get_untracked();
    let n = |v: Option<i64>| v.map(|t| t.to_string()).unwrap_or_default();
    // Set once hydrated: the plain-form controls are for browsers without JavaScript.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <section class="plb-card plb-balancing-form" aria-labelledby="balancing-settings" data-testid="balancing-form">
            <h2 class="plb-card__title" id="balancing-settings">"Settings"</h2>
            // A plain form: without JavaScript it posts (with the confirmation box below); with
            // JavaScript the submit is handled here (what-if, dialog, 409 in place).
            <form method="post" action=save_form_path() on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                <input type="hidden" name="digest" value=initial_digest />
                <fieldset disabled=disabled class="plb-balancing-form__grid">
                    <label class="plb-field plb-field--check">
                        <input type="checkbox" name="enable" checked=initial.enable prop:checked=move || form.with(|f| f.enable) on:change=check(|s, v| s.enable = v) />
                        <span class="plb-field__label">"Balancing enabled"</span>
                        {explain(Field::Enable)}
                    </label>
                    <label class="plb-field">
                        <span class="plb-field__label">"Method"</span>
                        <select name="method" data-testid="field-method" on:change=set(|s, v| s.method = match v.as_str() { "cpu" => Resource::Cpu, "disk" => Resource::Disk, _ => Resource::Memory })>
                            {Resource::ALL.into_iter().map(|r| view! {
                                <option value=r.as_str() selected=move || form.with(|f| f.method == r)>{r.as_str()}</option>
                            }).collect_view()}
                        </select>
                        {explain(Field::Method)}
                    </label>
                    <label class="plb-field">
                        <span class="plb-field__label">"Mode"</span>
                        <select name="mode" data-testid="field-mode" on:change=set(|s, v| {
                            s.mode = match v.as_str() { "assigned" => Mode::Assigned, "psi" => Mode::Psi, _ => Mode::Used };
                            if s.mode == Mode::Psi {
                                s.psi_nodes.get_or_insert(DEFAULT_PSI);
                                s.psi_guests.get_or_insert(DEFAULT_PSI);
                            }
                        })>
                            <option value="used" selected=move || form.with(|f| f.mode == Mode::Used)>"used"</option>
                            <option value="assigned" selected=move || form.with(|f| f.mode == Mode::Assigned)>"assigned"</option>
                            {pressure_reported.then(|| view! {
                                <option value="psi" selected=move || form.with(|f| f.mode == Mode::Psi)>"psi"</option>
                            })}
                        </select>
                        {explain(Field::Mode)}
                    </label>
                    {move || (form.with(|f| f.mode == Mode::Psi)).then(|| view! { <PsiFields form /> })}
                    <label class="plb-field">
                        <span class="plb-field__label">"Balanciness (points)"</span>
                        <input type="number" min="0" max="100" name="balanciness" data-testid="field-balanciness" value=initial.balanciness.to_string()
                            prop:value=move || form.with(|f| f.balanciness.to_string())
                            on:input=set(|s, v| if let Ok(n) = v.trim().parse() { s.balanciness = n }) />
                        {explain(Field::Balanciness)}
                    </label>
                    <div class="plb-field">
                        <span class="plb-field__label">"Thresholds (%)"</span>
                        <div class="plb-balancing-form__row">
                            <label>"memory "<input type="number" min="1" max="100" name="memory_threshold" value=n(initial.memory_threshold) prop:value=move || form.with(|f| f.memory_threshold.map(|t| t.to_string()).unwrap_or_default()) on:input=set(|s, v| s.memory_threshold = parse_opt(&v)) /></label>
                            <label>"cpu "<input type="number" min="1" max="100" name="cpu_threshold" value=n(initial.cpu_threshold) prop:value=move || form.with(|f| f.cpu_threshold.map(|t| t.to_string()).unwrap_or_default()) on:input=set(|s, v| s.cpu_threshold = parse_opt(&v)) /></label>
                            <label>"disk "<input type="number" min="1" max="100" name="disk_threshold" value=n(initial.disk_threshold) prop:value=move || form.with(|f| f.disk_threshold.map(|t| t.to_string()).unwrap_or_default()) on:input=set(|s, v| s.disk_threshold = parse_opt(&v)) /></label>
                        </div>
                        {explain(Field::Thresholds)}
                    </div>
                    <div class="plb-field">
                        <span class="plb-field__label">"Balance types"</span>
                        <div class="plb-balancing-form__row">
                            <label><input type="checkbox" name="balance_vm" checked=initial.balance_types.contains(&BalanceType::Vm) prop:checked=move || form.with(|f| f.balance_types.contains(&BalanceType::Vm)) on:change=check(|s, v| toggle_type(s, BalanceType::Vm, v)) />" VMs"</label>
                            <label><input type="checkbox" name="balance_ct" checked=initial.balance_types.contains(&BalanceType::Ct) prop:checked=move || form.with(|f| f.balance_types.contains(&BalanceType::Ct)) on:change=check(|s, v| toggle_type(s, BalanceType::Ct, v)) />" containers"</label>
                        </div>
                        {explain(Field::BalanceTypes)}
                    </div>
                    <label class="plb-field plb-field--check">
                        <input type="checkbox" name="larger_first" checked=initial.balance_larger_guests_first prop:checked=move || form.with(|f| f.balance_larger_guests_first) on:change=check(|s, v| s.balance_larger_guests_first = v) />
                        <span class="plb-field__label">"Larger guests first"</span>
                        {explain(Field::LargerFirst)}
                    </label>
                    <div class="plb-field">
                        <span class="plb-field__label">"Parallel migrations"</span>
                        <div class="plb-balancing-form__row">
                            <label><input type="checkbox" name="parallel" checked=initial.parallel prop:checked=move || form.with(|f| f.parallel) on:change=check(|s, v| s.parallel = v) />" in parallel, up to "</label>
                            <input type="number" min="1" name="parallel_jobs" aria-label="Parallel jobs" value=initial.parallel_jobs.to_string() prop:value=move || form.with(|f| f.parallel_jobs.to_string()) on:input=set(|s, v| if let Ok(n) = v.trim().parse() { s.parallel_jobs = n }) />
                        </div>
                        {explain(Field::Parallel)}
                    </div>
                    <label class="plb-field plb-field--check">
                        <input type="checkbox" name="live" checked=initial.live prop:checked=move || form.with(|f| f.live) on:change=check(|s, v| s.live = v) />
                        <span class="plb-field__label">"Live migration"</span>
                        {explain(Field::Live)}
                    </label>
                    <label class="plb-field plb-field--check">
                        <input type="checkbox" name="with_local_disks" checked=initial.with_local_disks prop:checked=move || form.with(|f| f.with_local_disks) on:change=check(|s, v| s.with_local_disks = v) />
                        <span class="plb-field__label">"With local disks"</span>
                        {explain(Field::LocalDisks)}
                    </label>
                    <label class="plb-field plb-field--check">
                        <input type="checkbox" name="with_conntrack_state" checked=initial.with_conntrack_state prop:checked=move || form.with(|f| f.with_conntrack_state) on:change=check(|s, v| s.with_conntrack_state = v) />
                        <span class="plb-field__label">"Keep conntrack state"</span>
                        {explain(Field::Conntrack)}
                    </label>
                    <div class="plb-field">
                        <span class="plb-field__label">"Schedule: every"</span>
                        <div class="plb-balancing-form__row">
                            <input type="number" min="1" name="schedule_interval" aria-label="Interval" value=initial.schedule_interval.to_string() prop:value=move || form.with(|f| f.schedule_interval.to_string()) on:input=set(|s, v| if let Ok(n) = v.trim().parse() { s.schedule_interval = n }) />
                            <select name="schedule_format" aria-label="Unit" on:change=set(|s, v| s.schedule_format = if v == "minutes" { TimeFormat::Minutes } else { TimeFormat::Hours })>
                                <option value="hours" selected=move || form.with(|f| f.schedule_format == TimeFormat::Hours)>"hours"</option>
                                <option value="minutes" selected=move || form.with(|f| f.schedule_format == TimeFormat::Minutes)>"minutes"</option>
                            </select>
                        </div>
                        {explain(Field::Schedule)}
                    </div>
                </fieldset>
                {why_not.map(|why| view! { <p class="plb-muted" data-testid="balancing-viewer-note">{why}</p> })}
                <div class="plb-balancing-form__plain" class:plb-balancing-form__hidden=move || hydrated.get()>
                    <label class="plb-field plb-field--check">
                        <input type="checkbox" name="confirm" disabled=disabled />
                        <span class="plb-field__label">"Write these settings to proxlb.yaml (a backup is kept)"</span>
                    </label>
                    <button type="submit" class="plb-button" disabled=disabled data-testid="balancing-save-plain">"Save"</button>
                </div>
                <div class="plb-balancing-form__actions" class:plb-balancing-form__hidden=move || !hydrated.get()>
                    <button type="button" class="plb-button" data-testid="balancing-save"
                        disabled=move || disabled || !dirty() || saving.get()
                        on:click=move |_| confirming.set(true)>"Save…"</button>
                    <button type="button" class="plb-button plb-button--quiet"
                        disabled=move || !dirty()
                        on:click=move |_| { form.set(saved.get_untracked()); outcome.set(None); }>"Discard changes"</button>
                </div>
                {move || confirming.get().then(|| view! {
                    <div class="plb-balancing-confirm" role="alertdialog" aria-labelledby="balancing-confirm-title" data-testid="balancing-save-confirm">
                        <p id="balancing-confirm-title">"Write these settings to proxlb.yaml? Only the changed keys are written; a backup is kept."</p>
                        <button type="button" class="plb-button" autofocus on:click=save disabled=move || saving.get()>"Save"</button>
                        <button type="button" class="plb-button plb-button--quiet" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </div>
                })}
                {move || outcome.get().map(|o| match o {
                    Ok(text) => view! { <p class="plb-message plb-message--ok" role="status" data-testid="balancing-save-outcome">{text}</p> }.into_any(),
                    Err(text) => view! { <p class="plb-message plb-message--error" role="alert" data-testid="balancing-save-outcome">{text}</p> }.into_any(),
                })}
                {move || conflict.get().map(|(theirs, yours)| view! { <TheirsVsYours theirs yours /> })}
            </form>
        </section>
        <section class="plb-balancing-whatif" aria-label="What-if" data-testid="balancing-whatif">
            <NodeToggles nodes maintenance ignored />
            {move || match result.get() {
                None => view! { <p class="plb-muted">"Change a setting or a node above to see its plan next to today's before saving."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="plb-message plb-message--error" role="alert">{e}</p> }.into_any(),
                Some(Ok(w)) => {
                    let d = &w.diff;
                    let summary = if d.is_empty() {
                        "The same guests would move to the same nodes.".to_owned()
                    } else {
                        format!(
                            "With your changes: {} more, {} fewer, {} to another node or issued differently.",
                            d.added_total,
                            d.removed_total,
                            d.changed_total
                        )
                    };
                    view! {
                        <div>
                            <p class="plb-balancing-whatif__summary" data-testid="whatif-summary">{summary}</p>
                            <div class="plb-balancing-whatif__side">
                                <PlanPanel title="Today" plan=w.today testid="whatif-today" hide_inputs=true />
                                <PlanPanel title="With your changes" plan=w.candidate testid="whatif-candidate" hide_inputs=true />
                            </div>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// Per-node maintenance and ignore toggles for the what-if only (the Nodes view changes them
/// for real). Needs JavaScript, as the what-if does.
#[component]
fn NodeToggles(
    nodes: Vec<NodeState>,
    maintenance: RwSignal<Vec<String>>,
    ignored: RwSignal<Vec<String>>,
) -> impl IntoView {
    if nodes.is_empty() {
        return None;
    }
    let toggle = |list: RwSignal<Vec<String>>, node: String| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            list.update(|l| {
                l.retain(|n| *n != node);
                if on {
                    l.push(node.clone());
                }
            });
        }
    };
    // The rows (about 300 bytes of HTML per node) are built when the list is first opened: a
    // closed list costs the page nothing, and without JavaScript it is hidden (CSS), as the
    // what-if needs it.
    let opened = RwSignal::new(false);
    let rows = move || {
        opened.get().then(|| {
            nodes
                .clone()
                .into_iter()
                .map(|n| {
            let (m, i) = (n.node.clone(), n.node.clone());
            let (m2, i2) = (n.node.clone(), n.node.clone());
            view! {
                <tr data-node=n.node.clone()>
                    <th scope="row">{n.node.clone()}</th>
                    <td>
                        <label>
                            <input type="checkbox" data-testid="whatif-maintenance"
                                checked=n.maintenance_listed
                                prop:checked=move || maintenance.with(|l| l.contains(&m2))
                                on:change=toggle(maintenance, m) />
                            " in maintenance_nodes"
                        </label>
                        {n.maintenance_elsewhere.then(|| view! {
                            <span class="plb-muted">" (also in maintenance by schedule or HA)"</span>
                        })}
                    </td>
                    <td>
                        <label>
                            <input type="checkbox" data-testid="whatif-ignore"
                                checked=n.ignored
                                prop:checked=move || ignored.with(|l| l.contains(&i2))
                                on:change=toggle(ignored, i) />
                            " in ignore_nodes"
                        </label>
                    </td>
                </tr>
            }
                })
                .collect_view()
        })
    };
    Some(view! {
        <details class="plb-balancing-whatif__nodes" data-testid="whatif-nodes" on:toggle=move |_| opened.set(true)>
            <summary>"What if a node were in maintenance or ignored?"</summary>
            <p class="plb-muted">"Only for the what-if: nothing is written. The Nodes view changes them for real."</p>
            <table class="plb-table">
                <thead><tr><th scope="col">"Node"</th><th scope="col">"Maintenance"</th><th scope="col">"Ignore"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    })
}

fn toggle_type(s: &mut BalancingSettings, t: BalanceType, on: bool) {
    s.balance_types.retain(|x| *x != t);
    if on {
        s.balance_types.push(t);
    }
}

/// PSI thresholds of the balanced resource for nodes and guests.
#[component]
fn PsiFields(form: RwSignal<BalancingSettings>) -> impl IntoView {
    let field = move |label: &'static str,
                      get: fn(&BalancingSettings) -> f64,
                      put: fn(&mut BalancingSettings, f64)| {
        view! {
            <label>{label}
                <input type="number" min="0" max="100" step="0.1"
                    prop:value=move || form.with(|f| get(f).to_string())
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).trim().parse() { form.update(|s| put(s, v)) } } />
            </label>
        }
    };
    view! {
        <div class="plb-field">
            <span class="plb-field__label">"Pressure thresholds (node full / some / spikes)"</span>
            <div class="plb-balancing-form__row">
                {field("full ", |f| f.psi_nodes.map_or(0.0, |p| p.pressure_full), |s, v| s.psi_nodes.get_or_insert(DEFAULT_PSI).pressure_full = v)}
                {field("some ", |f| f.psi_nodes.map_or(0.0, |p| p.pressure_some), |s, v| s.psi_nodes.get_or_insert(DEFAULT_PSI).pressure_some = v)}
                {field("spikes ", |f| f.psi_nodes.map_or(0.0, |p| p.pressure_spikes), |s, v| s.psi_nodes.get_or_insert(DEFAULT_PSI).pressure_spikes = v)}
            </div>
            {explain(Field::Psi)}
        </div>
    }
}

/// The settings in the file now next to the submitted ones, differing rows marked.
#[component]
fn TheirsVsYours(theirs: BalancingSettings, yours: BalancingSettings) -> impl IntoView {
    let rows = rows(&theirs)
        .into_iter()
        .zip(rows(&yours))
        .map(|((name, t), (_, y))| {
            let class = if t == y {
                ""
            } else {
                "plb-balancing-conflict__differs"
            };
            view! { <tr class=class><th scope="row">{name}</th><td>{t}</td><td>{y}</td></tr> }
        })
        .collect_view();
    view! {
        <table class="plb-table plb-balancing-conflict" data-testid="balancing-conflict">
            <thead><tr><th scope="col">"Setting"</th><th scope="col">"In the file now (theirs)"</th><th scope="col">"Yours"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn rows(s: &BalancingSettings) -> Vec<(&'static str, String)> {
    let opt = |v: Option<i64>| v.map_or_else(|| "–".to_owned(), |v| v.to_string());
    vec![
        ("enable", s.enable.to_string()),
        ("method", s.method.as_str().to_owned()),
        ("mode", plb_domain::explain::mode_name(s.mode).to_owned()),
        ("balanciness", s.balanciness.to_string()),
        ("memory_threshold", opt(s.memory_threshold)),
        ("cpu_threshold", opt(s.cpu_threshold)),
        ("disk_threshold", opt(s.disk_threshold)),
        (
            "balance_types",
            format!("{:?}", s.balance_types).to_lowercase(),
        ),
        (
            "balance_larger_guests_first",
            s.balance_larger_guests_first.to_string(),
        ),
        ("parallel", format!("{} ({})", s.parallel, s.parallel_jobs)),
        ("live", s.live.to_string()),
        ("with_local_disks", s.with_local_disks.to_string()),
        ("with_conntrack_state", s.with_conntrack_state.to_string()),
        (
            "schedule",
            format!("{} {:?}", s.schedule_interval, s.schedule_format).to_lowercase(),
        ),
    ]
}
