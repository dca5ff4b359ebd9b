//! The Account view (`/account`): who you are signed in as, the local account's password,
//! "log out everywhere", and API tokens (operators: create, list, revoke).
//!
//! Every form works without JavaScript (plain posts, redirected back here); destructive actions
//! go through the confirmation dialog ([`ConfirmDialog`]). Viewers do not see what they may not
//! do; the server refuses it regardless.

use crate::api::resource::api_resource;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use plb_domain::auth::{
    AccountInfo, AuthSource, CreatedToken, CurrentUser, TokenInfo, TokenScope,
    LOGOUT_EVERYWHERE_ACTION,
};
use plb_domain::calendar::format_datetime_utc;
use plb_domain::units::plural;

use crate::api::account::{
    take_new_token, ChangePasswordForm, CreateTokenForm, DONE_PARAM, EXPIRY_CHOICES,
    NEW_TOKEN_PARAM, PASSWORD_CHANGED,
};
use crate::api::auth::{get_account, list_tokens, RevokeToken};
use crate::components::confirm_dialog::{confirm_href, use_confirm_key, ConfirmDialog};
use crate::components::error_panel::ErrorPanel;
use crate::components::page_header::PageHeader;
use crate::components::user_menu::{role_description, source_label};
use crate::error::ApiError;

/// The confirmation key of "log out everywhere".
const LOGOUT_EVERYWHERE_KEY: &str = "logout-everywhere";

/// The confirmation key of revoking token `id`.
fn revoke_key(id: i64) -> String {
    format!("revoke-{id}")
}

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let create = ServerAction::<CreateTokenForm>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let change = ServerAction::<ChangePasswordForm>::new();
    // Refetched after a change made in place (with JavaScript).
    let account = api_resource(move || change.version().get(), |_| get_account());
    let tokens = api_resource(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let query = use_query_map();
    let new_token_key = Memo::new(move |_| query.with(|q| q.get(NEW_TOKEN_PARAM)));
    let password_changed = Memo::new(move |_| {
        query.with(|q| q.get_str(DONE_PARAM) == Some(PASSWORD_CHANGED))
            || matches!(change.value().get(), Some(Ok(())))
    });
    // A token created by a form post without JavaScript: its secret, handed over once.
    let posted_token = api_resource(
        move || new_token_key.get(),
        |key| async move {
            match key {
                Some(key) => take_new_token(key).await,
                None => Ok(None),
            }
        },
    );

    // With JavaScript a confirmed revoke closes its dialog by leaving the confirmation URL.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(revoke.value().get(), Some(Ok(()))) {
            navigate(
                "/account",
                NavigateOptions {
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    });

    view! {
        <PageHeader
            title="Account"
            subtitle="Who you are signed in as, your password and sessions, and API tokens for scripts."
        />
        <Transition fallback=|| view! { <p class="plb-loading">"Loading your account…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                {move || Suspend::new(async move {
                    let info = account.await?;
                    let tokens = tokens.await?;
                    let posted = posted_token.await.ok().flatten();
                    Ok::<_, ApiError>(view! {
                        <AccountSections info tokens posted password_changed create revoke change />
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn AccountSections(
    info: AccountInfo,
    tokens: Vec<TokenInfo>,
    posted: Option<CreatedToken>,
    password_changed: Memo<bool>,
    create: ServerAction<CreateTokenForm>,
    revoke: ServerAction<RevokeToken>,
    change: ServerAction<ChangePasswordForm>,
) -> impl IntoView {
    let AccountInfo {
        user,
        sessions,
        must_change_password,
    } = info;
    let local_password = user.source == AuthSource::Local && !user.via_token;
    let can_operate = user.can_operate();
    view! {
        <div class="plb-account">
            <Identity user />
            {local_password.then(|| view! {
                <PasswordSection must_change_password password_changed change />
            })}
            <SessionsSection sessions />
            <TokensSection tokens posted can_operate create revoke />
        </div>
    }
}

#[component]
fn Identity(user: CurrentUser) -> impl IntoView {
    view! {
        <section class="plb-card plb-account__section" aria-labelledby="account-you">
            <h2 class="plb-card__title" id="account-you">"You"</h2>
            <dl class="plb-facts" data-testid="account-identity">
                <dt>"Name"</dt>
                <dd>{user.display_name.clone()}</dd>
                <dt>"User id"</dt>
                <dd><code>{user.user_id.clone()}</code></dd>
                <dt>"Role"</dt>
                <dd>
                    <strong>{user.role.label()}</strong>
                    <span class="plb-muted">" — " {role_description(user.role)}</span>
                </dd>
                <dt>"Login"</dt>
                <dd>{source_label(user.source)}</dd>
            </dl>
        </section>
    }
}

/// Error text of an action's last result, if it failed.
fn action_error<T>(result: Option<Result<T, ApiError>>) -> Option<String> {
    result.and_then(|r| r.err()).map(|error| error.to_string())
}

#[component]
fn PasswordSection(
    must_change_password: bool,
    password_changed: Memo<bool>,
    change: ServerAction<ChangePasswordForm>,
) -> impl IntoView {
    let error = move || action_error(change.value().get());
    view! {
        <section class="plb-card plb-account__section" aria-labelledby="account-password">
            <h2 class="plb-card__title" id="account-password">"Password"</h2>
            {move || password_changed.get().then(|| view! {
                <p class="plb-message plb-message--ok" role="status" data-testid="password-changed">
                    "Your password was changed. Every other session ended; this browser stays logged in."
                </p>
            })}
            {(must_change_password && !password_changed.get_untracked()).then(|| view! {
                <p class="plb-message plb-message--error" data-testid="initial-password">
                    "This account still has its generated initial password. Change it now: the file "
                    <code>"initial-admin-password"</code> " is deleted once you do."
                </p>
            })}
            <p class="plb-muted">
                "At least 12 characters. Changing it ends your sessions everywhere else."
            </p>
            {move || error().map(|text| view! {
                <p class="plb-message plb-message--error" role="alert" id="password-error">{text}</p>
            })}
            <ActionForm action=change attr:class="plb-form">
                <label class="plb-field">
                    <span class="plb-field__label">"Current password"</span>
                    <input type="password" name="current" autocomplete="current-password" required />
                </label>
                <label class="plb-field">
                    <span class="plb-field__label">"New password"</span>
                    <input type="password" name="new" autocomplete="new-password" minlength="12" required />
                </label>
                <label class="plb-field">
                    <span class="plb-field__label">"New password again"</span>
                    <input type="password" name="confirm" autocomplete="new-password" minlength="12" required />
                </label>
                <div class="plb-form__actions">
                    <button class="plb-button" type="submit" disabled=move || change.pending().get()>
                        "Change password"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionsSection(sessions: u32) -> impl IntoView {
    let confirm = use_confirm_key();
    let count = plural(sessions, "session", "sessions");
    let body = format!(
        "This ends your {count}, this one included: you log in again in every browser. API \
         tokens keep working."
    );
    view! {
        <section class="plb-card plb-account__section" aria-labelledby="account-sessions">
            <h2 class="plb-card__title" id="account-sessions">"Sessions"</h2>
            <p data-testid="session-count">
                {plural(sessions, "active session", "active sessions")}
                " (browsers where you are logged in), this one included."
            </p>
            <p>
                <a class="plb-button plb-button--danger-quiet" href=confirm_href("/account", LOGOUT_EVERYWHERE_KEY)>
                    "Log out everywhere…"
                </a>
            </p>
            {move || (confirm.get().as_deref() == Some(LOGOUT_EVERYWHERE_KEY)).then(|| {
                let body = body.clone();
                view! {
                    <ConfirmDialog title="Log out everywhere?" body cancel_href="/account">
                        <form method="post" action=LOGOUT_EVERYWHERE_ACTION>
                            <button class="plb-button plb-button--danger" type="submit" autofocus>
                                "Log out everywhere"
                            </button>
                        </form>
                    </ConfirmDialog>
                }
            })}
        </section>
    }
}

#[component]
fn TokensSection(
    tokens: Vec<TokenInfo>,
    posted: Option<CreatedToken>,
    can_operate: bool,
    create: ServerAction<CreateTokenForm>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let confirm = use_confirm_key();
    // The new secret: from the action (with JavaScript) or handed over after a plain post.
    let new_token = move || {
        create
            .value()
            .get()
            .and_then(|result| result.ok())
            .or_else(|| posted.clone())
    };
    let to_confirm = {
        let tokens = tokens.clone();
        move || {
            let key = confirm.get()?;
            tokens.iter().find(|t| revoke_key(t.id) == key).cloned()
        }
    };
    view! {
        <section class="plb-card plb-account__section plb-account__wide" aria-labelledby="account-tokens">
            <h2 class="plb-card__title" id="account-tokens">"API tokens"</h2>
            <p class="plb-muted">
                "For scripts and automation: send " <code>"Authorization: Bearer <token>"</code>
                " with requests to the REST API (" <code>"/api/…"</code> "). A read-only token may only read; an operate token may also change things."
                {(!can_operate).then_some(" Only operators can create and revoke tokens.")}
            </p>
            {can_operate.then(|| view! {
                {move || new_token().map(|token| view! { <NewTokenSecret token /> })}
                <CreateTokenForm create />
            })}
            <TokenTable tokens can_operate />
            {move || {
                to_confirm()
                    .filter(|_| can_operate)
                    .map(|token| view! { <RevokeDialog token revoke /> })
            }}
        </section>
    }
}

#[component]
fn CreateTokenForm(create: ServerAction<CreateTokenForm>) -> impl IntoView {
    let error = move || action_error(create.value().get());
    let form = NodeRef::<leptos::html::Form>::new();
    // With JavaScript the form stays on the page: empty it once the token exists.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        {move || error().map(|text| view! {
            <p class="plb-message plb-message--error" role="alert">{text}</p>
        })}
        <ActionForm action=create node_ref=form attr:class="plb-form plb-form--row" attr:aria-label="Create an API token">
            <label class="plb-field plb-field--grow">
                <span class="plb-field__label">"Name"</span>
                <input type="text" name="name" maxlength="64" required placeholder="e.g. terraform" autocomplete="off" />
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Scope"</span>
                <select name="scope">
                    {TokenScope::ALL
                        .into_iter()
                        .map(|scope| view! { <option value=scope.as_str()>{scope.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="plb-field">
                <span class="plb-field__label">"Expires"</span>
                <select name="expires_in_days">
                    {EXPIRY_CHOICES
                        .into_iter()
                        .map(|(days, label)| {
                            let value = days.map(|d| d.to_string()).unwrap_or_default();
                            view! { <option value=value>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <button class="plb-button" type="submit" disabled=move || create.pending().get()>"Create token"</button>
        </ActionForm>
    }
}

/// A new token's secret, shown once, with a copy button (JavaScript) and a warning.
#[component]
fn NewTokenSecret(token: CreatedToken) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(element) = input.get_untracked() {
            use wasm_bindgen::JsCast;
            element.select();
            // `execCommand("copy")` also works on plain-HTTP sites, where the Clipboard API is
            // not available.
            let done = document()
                .dyn_into::<web_sys::HtmlDocument>()
                .ok()
                .and_then(|d| d.exec_command("copy").ok())
                .unwrap_or(false);
            copied.set(done);
        }
        #[cfg(not(feature = "hydrate"))]
        let _server_never_copies = (input, &copied);
    };
    view! {
        <div class="plb-secret" role="status" data-testid="new-token">
            <p class="plb-secret__title">
                "Token " <strong>{token.info.name.clone()}</strong> " created (" {token.info.scope.label()} ")."
            </p>
            <div class="plb-secret__row">
                <label class="plb-visually-hidden" for="new-token-value">"The new token"</label>
                <input
                    id="new-token-value"
                    class="plb-secret__value"
                    type="text"
                    readonly
                    value=token.token.clone()
                    node_ref=input
                    data-testid="new-token-value"
                    autocomplete="off"
                    spellcheck="false"
                />
                <button class="plb-button plb-secret__copy" type="button" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <p class="plb-secret__warning">
                "Copy it now: it is shown only this once. ProxLB Web keeps only a hash of it."
            </p>
        </div>
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenInfo>, can_operate: bool) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="plb-empty" data-testid="no-tokens">"No API tokens yet."</p> }
            .into_any();
    }
    view! {
        <div class="plb-table-wrap">
            <table class="plb-table plb-token-table">
                <caption class="plb-visually-hidden">"API tokens"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Scope"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        {can_operate.then(|| view! {
                            <th scope="col"><span class="plb-visually-hidden">"Actions"</span></th>
                        })}
                    </tr>
                </thead>
                <tbody>
                    {tokens
                        .into_iter()
                        .map(|token| {
                            let revoke_href = confirm_href("/account", &revoke_key(token.id));
                            let label = format!("Revoke {}…", token.name);
                            view! {
                                <tr data-token=token.name.clone()>
                                    <th scope="row">{token.name.clone()}</th>
                                    <td><code>{token.prefix.clone()} "…"</code></td>
                                    <td>{token.scope.label()}</td>
                                    <td>
                                        <span class="plb-num">{format_datetime_utc(token.created_at_unix)}</span>
                                        <span class="plb-muted">" by " {token.created_by.clone()}</span>
                                    </td>
                                    <td class="plb-num">
                                        {token.last_used_at_unix.map(format_datetime_utc).unwrap_or_else(|| "never".into())}
                                    </td>
                                    <td class="plb-num">
                                        {token.expires_at_unix.map(format_datetime_utc).unwrap_or_else(|| "never".into())}
                                    </td>
                                    {can_operate.then(|| view! {
                                        <td>
                                            <a class="plb-button plb-button--danger-quiet plb-button--small" href=revoke_href aria-label=label>
                                                "Revoke…"
                                            </a>
                                        </td>
                                    })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn RevokeDialog(token: TokenInfo, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let title = format!("Revoke the token “{}”?", token.name);
    let body = format!(
        "Scripts using {} ({}…) stop working at once. This cannot be undone.",
        token.name, token.prefix
    );
    let error = move || action_error(revoke.value().get());
    view! {
        <ConfirmDialog title body cancel_href="/account">
            {move || error().map(|text| view! {
                <p class="plb-message plb-message--error" role="alert">{text}</p>
            })}
            <ActionForm action=revoke>
                <input type="hidden" name="id" value=token.id.to_string() />
                <button class="plb-button plb-button--danger" type="submit" autofocus disabled=move || revoke.pending().get()>
                    "Revoke token"
                </button>
            </ActionForm>
        </ConfirmDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_keys_name_the_token() {
        assert_eq!(revoke_key(7), "revoke-7");
        assert_eq!(
            confirm_href("/account", &revoke_key(7)),
            "/account?confirm=revoke-7"
        );
    }
}
