//! Who is signed in: the current user, loaded once per page load, and the user menu in the top
//! bar (name, role, where the login came from, links to Account and Audit log, Log out).
//!
//! The menu is a `<details>` disclosure and logging out is a plain form post, so both work
//! without JavaScript.

use crate::api::resource::{api_resource, ApiResource};
use leptos::prelude::*;
use plb_domain::auth::{AuthSource, CurrentUser, Role, LOGOUT_ACTION};

use crate::api::auth::get_current_user;
use crate::error::ApiError;

/// The signed-in user (`None` when nobody is), shared through context. It is read once per page
/// load: logging in and out are full page loads.
#[derive(Clone, Copy, Debug)]
pub struct CurrentUserResource(pub ApiResource<Result<Option<CurrentUser>, ApiError>>);

/// Loads the current user and provides it to every view (the user menu, the login and account
/// pages, and views that hide actions the user may not take).
pub fn provide_current_user() {
    provide_context(CurrentUserResource(api_resource(
        || (),
        |_| get_current_user(),
    )));
}

/// The current user resource from context.
pub fn use_current_user() -> ApiResource<Result<Option<CurrentUser>, ApiError>> {
    expect_context::<CurrentUserResource>().0
}

/// How a user's login was checked, for people.
pub fn source_label(source: AuthSource) -> &'static str {
    match source {
        AuthSource::Proxmox => "Signed in with Proxmox VE",
        AuthSource::Local => "Local ProxLB Web account",
    }
}

/// What a role may do, for people.
pub fn role_description(role: Role) -> &'static str {
    match role {
        Role::Viewer => {
            "May view the cluster, ProxLB's state and the audit log; may change nothing."
        }
        Role::Operator => {
            "May view everything and change things: configuration, service, maintenance, \
             balancing runs and API tokens."
        }
    }
}

/// The user menu in the top bar; empty while nobody is signed in.
#[component]
pub fn UserMenu() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Transition>
            {move || Suspend::new(async move {
                user.await.ok().flatten().map(|user| view! { <UserMenuPanel user /> })
            })}
        </Transition>
    }
}

#[component]
fn UserMenuPanel(user: CurrentUser) -> impl IntoView {
    let menu = NodeRef::<leptos::html::Details>::new();
    // A link navigates in place with JavaScript; close the menu so it does not stay open over
    // the next view.
    let close = move |_| {
        if let Some(details) = menu.get_untracked() {
            let _ignored = details.remove_attribute("open");
        }
    };
    let initial = user
        .display_name
        .chars()
        .find(|c| c.is_alphanumeric())
        .unwrap_or('?')
        .to_string();
    let role_class = format!("plb-badge plb-role plb-role--{}", user.role.as_str());
    view! {
        <details class="plb-user-menu" data-testid="user-menu" node_ref=menu>
            <summary class="plb-user-menu__summary" title=user.user_id.clone()>
                <span class="plb-user-menu__avatar" aria-hidden="true">{initial}</span>
                <span class="plb-user-menu__name" data-testid="user-name">{user.display_name.clone()}</span>
                <span class=role_class data-testid="user-role">{user.role.label()}</span>
            </summary>
            <div class="plb-user-menu__panel">
                <p class="plb-user-menu__who">
                    <span class="plb-user-menu__id">{user.user_id.clone()}</span>
                    <span class="plb-muted">{source_label(user.source)}</span>
                </p>
                <ul class="plb-user-menu__links">
                    <li>
                        <a class="plb-user-menu__link" href="/account" on:click=close>"Account and API tokens"</a>
                    </li>
                    <li>
                        <a class="plb-user-menu__link" href="/audit" on:click=close>"Audit log"</a>
                    </li>
                </ul>
                <form class="plb-user-menu__logout" method="post" action=LOGOUT_ACTION>
                    <button class="plb-button plb-button--quiet" type="submit">"Log out"</button>
                </form>
            </div>
        </details>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::components::Markup;

    fn user(role: Role, source: AuthSource) -> CurrentUser {
        CurrentUser {
            user_id: "alice@pve".into(),
            display_name: "alice@pve".into(),
            role,
            source,
            via_token: false,
        }
    }

    #[test]
    fn the_panel_names_the_user_role_and_source_and_logs_out_by_form_post() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <UserMenuPanel user=user(Role::Viewer, AuthSource::Proxmox) /> }
            .to_html()
            .markup();
        assert!(html.contains("alice@pve"), "{html}");
        assert!(html.contains(">Viewer<"), "{html}");
        assert!(html.contains("Signed in with Proxmox VE"), "{html}");
        assert!(
            html.contains(
                r#"<form method="post" action="/auth/logout" class="plb-user-menu__logout">"#
            ),
            "{html}"
        );
        assert!(html.contains(r#"href="/account""#), "{html}");
        assert!(html.contains(r#"href="/audit""#), "{html}");
    }

    #[test]
    fn the_avatar_shows_the_first_letter_or_digit() {
        let owner = Owner::new();
        owner.set();
        let mut someone = user(Role::Operator, AuthSource::Local);
        someone.display_name = "token:ci".into();
        let html = view! { <UserMenuPanel user=someone /> }.to_html().markup();
        assert!(
            html.contains(r#"plb-user-menu__avatar">t</span>"#),
            "{html}"
        );
        assert!(html.contains("plb-role--operator"), "{html}");
        assert!(html.contains("Local ProxLB Web account"), "{html}");
    }
}
