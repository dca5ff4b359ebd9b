//! ProxLB Web: the Leptos app (server rendering + WASM hydration).
//!
//! The same crate compiles twice: with feature `ssr` into the axum server binary, and with
//! feature `hydrate` into the WASM bundle that makes the server-rendered pages interactive.

// Leptos views are nested generic types; the dashboard's is deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
