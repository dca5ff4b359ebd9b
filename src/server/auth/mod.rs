//! Login, sessions and API tokens on the HTTP side: every request but a short allow-list needs a
//! session cookie or a `Bearer` token.
//!
//! - [`paths`]: which paths are public, which answer like an API, which are pages.
//! - [`client`]: the client's address and scheme (forwarded headers only from trusted proxies).
//! - [`hosts`]: the `Host` allow-list (DNS rebinding).
//! - [`gate`]: the middleware that authenticates each request and refuses the rest.
//! - [`forms`]: `POST /auth/login`, `/auth/logout`, `/auth/logout-everywhere`.
//! - [`rest`]: `/api/me`, `/api/tokens`, `/api/audit`.
//! - [`headers`]: security headers on every response (CSP with a per-request nonce, …).
//!
//! The rules themselves (rate limits before Proxmox, roles, token scopes, audit) are the
//! backend's [`plb_backend::auth::AuthService`]; this module translates them into HTTP.

pub mod client;
pub mod forms;
pub mod gate;
pub mod headers;
pub mod hosts;
pub mod paths;
pub mod rest;

pub use plb_backend::auth::{ClientInfo, Identity};
