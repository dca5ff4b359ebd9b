//! The router's state: Leptos' options next to the backend's `AppState`.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::Env;
use leptos::prelude::LeptosOptions;
use plb_backend::{AppState, Settings};

/// Name of the generated JS/WASM/CSS files; must equal `output-name` in Cargo.toml.
pub const OUTPUT_NAME: &str = "proxlb_web";

/// State of the axum router, behind one reference count: axum clones a route's whole service
/// stack, this state included, for every request, and `LeptosOptions` alone is a dozen
/// reference-counted strings.
#[derive(Clone)]
pub struct ServerState(Arc<ServerParts>);

/// What a [`ServerState`] shares.
pub struct ServerParts {
    /// Options the Leptos integration needs (site root, output name, …).
    pub leptos_options: LeptosOptions,
    /// The backend state shared by handlers and server functions.
    pub app: AppState,
}

impl ServerState {
    /// The router's state for the Leptos options and the application.
    pub fn new(leptos_options: LeptosOptions, app: AppState) -> Self {
        Self(Arc::new(ServerParts {
            leptos_options,
            app,
        }))
    }
}

impl std::ops::Deref for ServerState {
    type Target = ServerParts;

    fn deref(&self) -> &ServerParts {
        &self.0
    }
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<ServerState> for AppState {
    fn from_ref(state: &ServerState) -> Self {
        state.app.clone()
    }
}

/// Builds Leptos' options from our settings, so the binary behaves the same whether started by
/// cargo-leptos, by `scripts/demo.sh` or in a container.
pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(settings.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .env(if settings.dev_mode {
            Env::DEV
        } else {
            Env::PROD
        })
        .site_addr(settings.listen)
        .reload_port(u32::from(settings.reload_port))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_name_matches_the_cargo_leptos_metadata() {
        let manifest = include_str!("../../Cargo.toml");
        assert!(
            manifest.contains(&format!("output-name = \"{OUTPUT_NAME}\"")),
            "Cargo.toml [package.metadata.leptos] output-name must be {OUTPUT_NAME}"
        );
    }

    #[test]
    fn options_follow_the_settings() {
        let settings = Settings {
            listen: "127.0.0.1:9999".parse().unwrap(),
            site_root: "/srv/site".into(),
            ..Settings::default()
        };
        let options = leptos_options(&settings);
        assert_eq!(options.site_addr, settings.listen);
        assert_eq!(&*options.site_root, "/srv/site");
        assert_eq!(&*options.output_name, OUTPUT_NAME);
    }
}
