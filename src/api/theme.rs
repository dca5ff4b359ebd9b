//! `set_theme`: remembers the theme choice in a cookie.
//!
//! The theme switch calls this as a plain HTML form post when JavaScript is off; the server then
//! redirects back to the page. With JavaScript the browser sets the cookie itself.

use leptos::prelude::*;
use plb_domain::ThemeChoice;

use crate::error::ApiError;

/// Stores `theme` (`system`, `light` or `dark`) in the theme cookie.
#[server(prefix = "/sfn", endpoint = "set_theme")]
pub async fn set_theme(theme: String) -> Result<ThemeChoice, ApiError> {
    use axum::http::{header::SET_COOKIE, HeaderValue};

    let choice = ThemeChoice::parse(&theme).ok_or_else(|| ApiError::Invalid {
        message: format!("unknown theme {theme:?}: choose system, light or dark"),
    })?;
    let cookie = HeaderValue::from_str(&choice.set_cookie_value())
        .map_err(|error| ApiError::internal(format!("theme cookie: {error}")))?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(SET_COOKIE, cookie);
    }
    Ok(choice)
}
