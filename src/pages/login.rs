//! The login page (`/login`): Proxmox VE credentials (realms pam and pve) or the local admin
//! account; in demo mode also one click as the demo user.
//!
//! It is a plain HTML form posting to `/auth/login`, so it works without JavaScript: the server
//! answers with a redirect to `next`, or back here with `?error=<code>` (and `retry_after`
//! seconds when logins are rate limited). The layout renders this route without the sidebar and
//! top bar, and nothing on it needs a session.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use plb_domain::auth::{LoginFailure, LoginRealm, LOGIN_ACTION, LOGIN_PATH};

use crate::api::auth::get_login_info;
use crate::components::user_menu::use_current_user;

/// What a `?notice=<code>` on the login page says (set by the pages that end sessions).
pub fn notice_message(code: &str) -> Option<&'static str> {
    match code {
        "logged_out" => Some("You are logged out."),
        "logged_out_everywhere" => Some("You are logged out on every device."),
        "password_changed" => {
            Some("Your password was changed and every session ended. Log in with the new password.")
        }
        _ => None,
    }
}

/// `next` if it is a path on this site (`/…` but not `//…`, which browsers read as another
/// host, and without backslashes or control characters); the server checks it again.
pub fn local_next(next: &str) -> Option<&str> {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    safe.then_some(next)
}

/// The failure a login page URL reports: `error` as a [`LoginFailure`] code, with the wait of a
/// rate limit from `retry_after` (seconds) when given.
pub fn failure_from_query(error: &str, retry_after: Option<&str>) -> Option<LoginFailure> {
    match LoginFailure::from_code(error)? {
        LoginFailure::RateLimited { .. } => Some(LoginFailure::RateLimited {
            retry_after_secs: retry_after.and_then(|s| s.trim().parse().ok()).unwrap_or(0),
        }),
        other => Some(other),
    }
}

/// Whether this page load is the login page: on the server from the request, in the browser
/// from the address bar. The app opens no live channel there (it needs a session), and the
/// login page is only ever entered and left by full page loads (form posts, redirects).
pub fn is_login_page_load() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .is_some_and(|parts| parts.uri.path() == LOGIN_PATH)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        window()
            .location()
            .pathname()
            .is_ok_and(|path| path == LOGIN_PATH)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        false
    }
}

/// The login page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let failure = Memo::new(move |_| {
        query.with(|q| {
            q.get_str("error")
                .and_then(|code| failure_from_query(code, q.get_str("retry_after")))
        })
    });
    let notice = Memo::new(move |_| query.with(|q| q.get_str("notice").and_then(notice_message)));
    let next = Memo::new(move |_| {
        query.with(|q| q.get_str("next").and_then(local_next).map(str::to_owned))
    });

    view! {
        <Title text="Log in" />
        <div class="plb-login">
            <p class="plb-login__brand">
                <span class="plb-sidebar__logo" aria-hidden="true">"⇄"</span>
                <span>"ProxLB Web"</span>
            </p>
            <section class="plb-card plb-login__card" aria-labelledby="login-title">
                <h1 class="plb-login__title" id="login-title">"Log in"</h1>
                <p class="plb-login__lead">
                    "Use your Proxmox VE user, or ProxLB Web's local admin account."
                </p>
                <AlreadySignedIn next />
                {move || notice.get().map(|text| view! {
                    <p class="plb-message plb-message--ok" role="status" data-testid="login-notice">{text}</p>
                })}
                <DemoLogin next />
                <CredentialsForm failure next />
                <p class="plb-login__hint">
                    "Proxmox users log in with the same name and password as in the Proxmox VE web interface "
                    "(e.g. " <code>"root"</code> " with realm Linux PAM). The local admin's first password is in the file "
                    <code>"initial-admin-password"</code> " in ProxLB Web's data folder."
                </p>
            </section>
        </div>
    }
}

/// The login form's failure message and the credentials form (user, password, realm).
#[component]
fn CredentialsForm(
    failure: Memo<Option<LoginFailure>>,
    next: Memo<Option<String>>,
) -> impl IntoView {
    view! {
        {move || failure.get().map(|failure| view! {
            <p class="plb-message plb-message--error" role="alert" id="login-error" data-testid="login-error">
                {failure.message()}
            </p>
        })}
        <form class="plb-login__form" method="post" action=LOGIN_ACTION>
            <label class="plb-field">
                <span class="plb-field__label">"User name"</span>
                <input
                    type="text"
                    name="username"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    autofocus
                    aria-describedby=move || failure.get().map(|_| "login-error")
                />
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Password"</span>
                <input
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                    aria-describedby=move || failure.get().map(|_| "login-error")
                />
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Realm"</span>
                <select name="realm">
                    {LoginRealm::ALL
                        .into_iter()
                        .map(|realm| view! {
                            <option value=realm.as_str() selected=realm == LoginRealm::default()>
                                {realm.label()}
                            </option>
                        })
                        .collect_view()}
                </select>
            </label>
            <NextField next />
            <button class="plb-button plb-login__submit" type="submit">"Log in"</button>
        </form>
    }
}

/// The hidden `next` field: where the server sends the user after logging in.
#[component]
fn NextField(next: Memo<Option<String>>) -> impl IntoView {
    move || {
        next.get()
            .map(|next| view! { <input type="hidden" name="next" value=next /> })
    }
}

/// A note when a session exists already, with a way on.
#[component]
fn AlreadySignedIn(next: Memo<Option<String>>) -> impl IntoView {
    let user = use_current_user();
    view! {
        <Transition>
            {move || Suspend::new(async move {
                user.await.ok().flatten().map(|user| {
                    let href = next.get_untracked().unwrap_or_else(|| "/".to_owned());
                    view! {
                        <p class="plb-message plb-message--info" role="status">
                            "You are signed in as " <strong>{user.display_name}</strong> ". "
                            <a href=href rel="external">"Continue"</a>
                            " or log in as someone else below."
                        </p>
                    }
                })
            })}
        </Transition>
    }
}

/// In demo mode: one click logs in as the demo user.
#[component]
fn DemoLogin(next: Memo<Option<String>>) -> impl IntoView {
    let info = api_resource(|| (), |_| get_login_info());
    view! {
        <Transition>
            {move || Suspend::new(async move {
                info.await.ok().and_then(|info| info.demo_user).map(|demo_user| view! {
                    <form class="plb-login__demo" method="post" action=LOGIN_ACTION data-testid="demo-login">
                        <p>
                            <strong>"This is a demo. "</strong>
                            "It serves a simulated Proxmox VE cluster; nothing here touches a real one."
                        </p>
                        <input type="hidden" name="demo" value="1" />
                        <NextField next />
                        <button class="plb-button plb-login__submit" type="submit">"Log in as the demo user"</button>
                        <p class="plb-login__hint">"You will be signed in as " <code>{demo_user}</code> "."</p>
                    </form>
                    <p class="plb-login__or" aria-hidden="true">"or"</p>
                })
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(local_next("/guests?q=db"), Some("/guests?q=db"));
        assert_eq!(local_next("/"), Some("/"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "guests",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rate_limits_carry_their_wait_and_unknown_codes_say_nothing() {
        assert_eq!(
            failure_from_query("rate_limited", Some("125")),
            Some(LoginFailure::RateLimited {
                retry_after_secs: 125
            })
        );
        assert!(failure_from_query("rate_limited", Some("125"))
            .map(|f| f.message())
            .is_some_and(|m| m.contains("3 minutes")));
        assert_eq!(
            failure_from_query("rate_limited", Some("soon")),
            Some(LoginFailure::RateLimited {
                retry_after_secs: 0
            })
        );
        assert_eq!(
            failure_from_query("needs_second_factor", None),
            Some(LoginFailure::NeedsSecondFactor)
        );
        assert_eq!(failure_from_query("<b>hi</b>", None), None);
    }

    #[test]
    fn only_known_notices_are_shown() {
        assert!(notice_message("password_changed").is_some_and(|m| m.contains("new password")));
        assert_eq!(notice_message("you won a prize"), None);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod render_tests {
    use super::*;

    fn render(failure: Option<LoginFailure>, next: Option<&str>) -> String {
        let owner = Owner::new();
        owner.set();
        let failure = Memo::new(move |_| failure);
        let next = Memo::new({
            let next = next.map(str::to_owned);
            move |_| next.clone()
        });
        view! { <CredentialsForm failure next /> }.to_html()
    }

    #[test]
    fn the_form_posts_credentials_realm_and_next() {
        let html = render(Some(LoginFailure::BadCredentials), Some("/guests"));
        assert!(
            html.contains(r#"<form method="post" action="/auth/login" class="plb-login__form">"#),
            "{html}"
        );
        for field in [
            r#"name="username""#,
            r#"name="password""#,
            r#"name="realm""#,
        ] {
            assert!(html.contains(field), "{field}: {html}");
        }
        assert!(
            html.contains(r#"<input type="hidden" name="next" value="/guests""#),
            "{html}"
        );
        assert!(html.contains("Wrong user name or password"), "{html}");
        assert!(html.contains(r#"role="alert""#), "{html}");
        assert!(html.contains("autofocus"), "{html}");
    }

    #[test]
    fn without_a_failure_or_next_there_is_no_alert_or_hidden_field() {
        let html = render(None, None);
        assert!(html.contains(r#"name="username""#), "{html}");
        assert!(!html.contains(r#"name="next""#), "{html}");
        assert!(!html.contains(r#"role="alert""#), "{html}");
        assert!(!html.contains("aria-describedby"), "{html}");
    }
}
