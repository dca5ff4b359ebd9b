//! The maintenance and ignore toggles of one node: each a button leading to a confirmation that
//! says what ProxLB will do and when, whose form writes `proxmox_cluster.maintenance_nodes` or
//! `ignore_nodes` through the configuration's one write path ([`SetNodeFlag`]). HA maintenance
//! (set in Proxmox) is shown as such and not toggled from here.
//!
//! Without JavaScript the confirmation is its own page step and the form posts and redirects
//! back; with JavaScript the dialog is modal and the toggle's state follows the answer.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::config::{SetNodeFlag, WriteResult};
use crate::components::confirm_dialog::{confirm_href, use_confirm_key, ConfirmDialog};

/// Which list a toggle writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    Maintenance,
    Ignore,
}

impl List {
    fn wire(self) -> &'static str {
        match self {
            List::Maintenance => "maintenance",
            List::Ignore => "ignore",
        }
    }

    /// The confirmation key for turning it `on` or off.
    fn key(self, on: bool) -> String {
        format!("{}-{}", self.wire(), if on { "on" } else { "off" })
    }

    /// The dialog's title and what ProxLB will do, and when.
    fn explain(self, node: &str, on: bool) -> (String, String) {
        const WHEN: &str = "ProxLB reads the change on its next run: after its current sleep, \
                            or at once if it is restarted.";
        match (self, on) {
            (List::Maintenance, true) => (
                format!("Put {node} into maintenance?"),
                format!(
                    "Adds {node} to proxmox_cluster.maintenance_nodes. ProxLB then drains it: it \
                     migrates the node's guests to other nodes and places none there. {WHEN}"
                ),
            ),
            (List::Maintenance, false) => (
                format!("Take {node} out of maintenance?"),
                format!(
                    "Removes {node} from proxmox_cluster.maintenance_nodes. ProxLB may then place \
                     guests there again. {WHEN}"
                ),
            ),
            (List::Ignore, true) => (
                format!("Ignore {node}?"),
                format!(
                    "Adds {node} to proxmox_cluster.ignore_nodes. The node and its guests become \
                     invisible to ProxLB: it neither moves them nor places guests there. {WHEN}"
                ),
            ),
            (List::Ignore, false) => (
                format!("Stop ignoring {node}?"),
                format!(
                    "Removes {node} from proxmox_cluster.ignore_nodes. ProxLB balances the node \
                     and its guests again. {WHEN}"
                ),
            ),
        }
    }
}

/// Maintenance and ignore toggles for `node`, shown on its page at `path`.
#[component]
pub fn NodeToggles(
    /// Node name.
    #[prop(into)]
    node: String,
    /// The page the toggles are on (the dialog's Cancel and the no-JS redirect go back here).
    #[prop(into)]
    path: String,
    /// Listed in `maintenance_nodes` now.
    maintenance: bool,
    /// Listed in `ignore_nodes` now.
    ignored: bool,
    /// The PVE HA stack has the node in maintenance (set in Proxmox; not toggled here).
    ha_maintenance: bool,
) -> impl IntoView {
    let act = ServerAction::<SetNodeFlag>::new();
    let maintenance = RwSignal::new(maintenance);
    let ignored = RwSignal::new(ignored);
    let confirm = use_confirm_key();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    {
        let path = path.clone();
        // With JavaScript: follow the answer, then leave the confirmation URL.
        Effect::new(move |_| match act.value().get() {
            Some(Ok(WriteResult::Saved { .. })) => {
                // The confirmation key still in the URL names what was changed.
                if let Some(key) = confirm.get_untracked() {
                    apply(&key, maintenance, ignored);
                }
                error.set(None);
                navigate(
                    &path,
                    NavigateOptions {
                        scroll: false,
                        ..NavigateOptions::default()
                    },
                );
            }
            Some(Ok(WriteResult::Rejected { report })) => error.set(Some(format!(
                "ProxLB would reject the result; nothing was written ({}).",
                report
                    .errors
                    .iter()
                    .map(|e| format!("line {}: {}", e.line, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
            Some(Ok(WriteResult::Conflict { message, .. })) => {
                error.set(Some(format!("The file {message}; try again.")));
            }
            Some(Err(e)) => error.set(Some(e.to_string())),
            None => {}
        });
    }

    let toggle = move |list: List, state: RwSignal<bool>, label: &'static str| {
        let node = node.clone();
        let path = path.clone();
        view! {
            <div class="plb-toggle">
                <span class="plb-toggle__label">{label}</span>
                <span class="plb-toggle__state" data-testid=format!("{}-state", list.wire())>
                    {move || if state.get() { "on" } else { "off" }}
                </span>
                {
                    let path = path.clone();
                    move || {
                        let on = !state.get();
                        view! {
                            <a
                                class="plb-button plb-button--small"
                                href=confirm_href(&path, &list.key(on))
                                data-testid=format!("{}-toggle", list.wire())
                            >
                                {if on { "Turn on…" } else { "Turn off…" }}
                            </a>
                        }
                    }
                }
                {
                    let node = node.clone();
                    let path = path.clone();
                    move || {
                        let on = !state.get();
                        (confirm.get().as_deref() == Some(list.key(on).as_str())).then(|| {
                            let (node, path) = (node.clone(), path.clone());
                            let (title, body) = list.explain(&node, on);
                            view! {
                                <ConfirmDialog title body cancel_href=path.clone()>
                                    {move || error.get().map(|text| view! {
                                        <p class="plb-message plb-message--error" role="alert">{text}</p>
                                    })}
                                    <ActionForm action=act>
                                        <input type="hidden" name="node" value=node.clone() />
                                        <input type="hidden" name="list" value=list.wire() />
                                        <input type="hidden" name="on" value=on.to_string() />
                                        <input type="hidden" name="back" value=path.clone() />
                                        <button
                                            class="plb-button"
                                            type="submit"
                                            autofocus
                                            disabled=move || act.pending().get()
                                            data-testid="confirm-action"
                                        >
                                            {if on { "Turn on" } else { "Turn off" }}
                                        </button>
                                    </ActionForm>
                                </ConfirmDialog>
                            }
                        })
                    }
                }
            </div>
        }
    };

    view! {
        <div class="plb-node-toggles" data-testid="node-toggles">
            {toggle(List::Maintenance, maintenance, "Maintenance (maintenance_nodes)")}
            {toggle(List::Ignore, ignored, "Ignored (ignore_nodes)")}
            {ha_maintenance.then(|| view! {
                <p class="plb-node-toggles__ha">
                    "HA maintenance is set in Proxmox (ha-manager crm-command node-maintenance); \
                     ProxLB treats the node as in maintenance. Change it in Proxmox, not here."
                </p>
            })}
        </div>
    }
}

/// Sets the toggle a confirmation key (`maintenance-on`, `ignore-off`, …) changed.
fn apply(key: &str, maintenance: RwSignal<bool>, ignored: RwSignal<bool>) {
    match key {
        "maintenance-on" => maintenance.set(true),
        "maintenance-off" => maintenance.set(false),
        "ignore-on" => ignored.set(true),
        "ignore-off" => ignored.set(false),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_say_what_and_when() {
        let (title, body) = List::Maintenance.explain("pve2", true);
        assert_eq!(title, "Put pve2 into maintenance?");
        assert!(body.contains("drains"));
        assert!(body.contains("after its current sleep"));
        let (_, body) = List::Ignore.explain("pve2", true);
        assert!(body.contains("invisible to ProxLB"));
        assert_eq!(List::Ignore.key(false), "ignore-off");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_server_renders_the_confirmation_with_the_form_posting_the_toggle() {
        use leptos_router::components::Router;
        use leptos_router::location::RequestUrl;

        let owner = Owner::new();
        owner.set();
        provide_context(RequestUrl::new("/nodes/pve2?confirm=maintenance-on"));
        let html = view! {
            <Router>
                <NodeToggles node="pve2" path="/nodes/pve2" maintenance=false ignored=true ha_maintenance=true />
            </Router>
        }
        .to_html();
        assert!(html.contains("Put pve2 into maintenance?"), "{html}");
        assert!(html.contains("action=\"/sfn/config_node\""), "{html}");
        assert!(html.contains("name=\"on\" value=\"true\""), "{html}");
        assert!(
            html.contains("href=\"/nodes/pve2?confirm=ignore-off\""),
            "{html}"
        );
        assert!(html.contains("HA maintenance is set in Proxmox"), "{html}");
        // Only the asked-for confirmation is open.
        assert!(!html.contains("Stop ignoring pve2?"), "{html}");
    }
}
