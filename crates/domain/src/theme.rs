//! The colour theme a user picked: follow the system, or force light or dark.

use serde::{Deserialize, Serialize};

/// Name of the cookie that remembers the theme choice (read during server rendering).
pub const THEME_COOKIE: &str = "plb_theme";

/// The user's theme choice. `System` follows the browser's `prefers-color-scheme`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    /// Follow the browser (`prefers-color-scheme`).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl ThemeChoice {
    /// Every choice, in the order the theme switch shows them.
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::System, ThemeChoice::Light, ThemeChoice::Dark];

    /// The stable lowercase name used in the cookie and in form values.
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeChoice::System => "system",
            ThemeChoice::Light => "light",
            ThemeChoice::Dark => "dark",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            ThemeChoice::System => "System",
            ThemeChoice::Light => "Light",
            ThemeChoice::Dark => "Dark",
        }
    }

    /// Parses the cookie or form value; unknown values are `None`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|choice| choice.as_str() == value.trim())
    }

    /// The value for the `data-theme` attribute of `<html>`; `None` lets CSS follow the system.
    pub fn data_theme(self) -> Option<&'static str> {
        match self {
            ThemeChoice::System => None,
            forced => Some(forced.as_str()),
        }
    }

    /// Finds the theme cookie in a `Cookie` header value (`a=1; plb_theme=dark`).
    /// A missing or unreadable cookie means `System`.
    pub fn from_cookie_header(header: &str) -> Self {
        header
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| name.trim() == THEME_COOKIE)
            .and_then(|(_, value)| Self::parse(value))
            .unwrap_or_default()
    }

    /// The `Set-Cookie` value that remembers this choice for a year (`System` deletes the cookie).
    pub fn set_cookie_value(self) -> String {
        match self {
            ThemeChoice::System => format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
            forced => format!(
                "{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                forced.as_str()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cookie_among_others() {
        assert_eq!(
            ThemeChoice::from_cookie_header("a=1; plb_theme=dark; b=2"),
            ThemeChoice::Dark
        );
        assert_eq!(
            ThemeChoice::from_cookie_header("plb_theme=light"),
            ThemeChoice::Light
        );
        assert_eq!(ThemeChoice::from_cookie_header(""), ThemeChoice::System);
        assert_eq!(
            ThemeChoice::from_cookie_header("plb_theme=purple"),
            ThemeChoice::System
        );
        assert_eq!(
            ThemeChoice::from_cookie_header("xplb_theme=dark"),
            ThemeChoice::System
        );
    }

    #[test]
    fn set_cookie_round_trips_through_the_cookie_header() {
        for choice in [ThemeChoice::Light, ThemeChoice::Dark] {
            let set = choice.set_cookie_value();
            let pair = set.split(';').next().unwrap_or_default();
            assert_eq!(ThemeChoice::from_cookie_header(pair), choice);
        }
        assert!(ThemeChoice::System.set_cookie_value().contains("Max-Age=0"));
    }

    #[test]
    fn system_leaves_data_theme_unset() {
        assert_eq!(ThemeChoice::System.data_theme(), None);
        assert_eq!(ThemeChoice::Dark.data_theme(), Some("dark"));
    }
}
