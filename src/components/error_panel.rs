//! What an `ErrorBoundary` shows when a panel's data failed to load.

use leptos::prelude::*;

use crate::error::ApiError;

/// Lists the errors caught by an `ErrorBoundary`, using `ApiError`'s safe wording.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let items = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| describe(&error))
            .collect::<Vec<_>>()
    };
    view! {
        <div class="plb-error-panel" role="alert">
            {move || {
                items()
                    .into_iter()
                    .map(|(title, message)| {
                        view! {
                            <p class="plb-error-panel__item">
                                <strong class="plb-error-panel__title">{title}</strong>
                                " "
                                <span class="plb-error-panel__message">{message}</span>
                            </p>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}

/// Title and message for one caught error; unknown error types get a generic text.
pub fn describe(error: &leptos::error::Error) -> (&'static str, String) {
    match error.downcast_ref::<ApiError>() {
        Some(api) => (api.title(), api.to_string()),
        None => ("Error", error.to_string()),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn renders_api_errors_with_their_title() {
        let owner = Owner::new();
        owner.set();
        let mut errors = Errors::default();
        errors.insert_with_default_key(ApiError::Unavailable {
            service: "Docker".into(),
        });
        let html = view! { <ErrorPanel errors=ArcRwSignal::new(errors) /> }.to_html();
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains("Unavailable"), "{html}");
        assert!(html.contains("Docker is unavailable right now"), "{html}");
    }

    #[test]
    fn describes_foreign_errors_generically() {
        let error = leptos::error::Error::from(std::io::Error::other("disk on fire"));
        assert_eq!(describe(&error), ("Error", "disk on fire".to_owned()));
    }
}
