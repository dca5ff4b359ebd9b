//! [`Secret`]: a string that cannot leak by accident.
//!
//! Passwords, token secrets and tickets live in a `Secret` from the moment they are read (the
//! typed `proxlb.yaml`, a login answer) until a request is built. Its `Debug`, `Display` and
//! `Serialize` all produce [`SECRET_MASK`], so a secret never ends up in a log line, an error, a
//! JSON answer or HTML by accident; reading it takes an explicit [`Secret::expose`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The fixed text shown instead of a secret (ProxLB overwrites secrets with the same string).
pub const SECRET_MASK: &str = "********";

/// A secret string. `Debug`, `Display` and `Serialize` give [`SECRET_MASK`]; read it with
/// [`Secret::expose`]. Deserializes from a plain string.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Only for building a request or a file; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_MASK)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl Serialize for Secret {
    /// Always the mask: a config or DTO serialized for a browser or a log never carries the value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(SECRET_MASK)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_and_serializes_as_the_mask_only() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), SECRET_MASK);
        assert_eq!(format!("{secret}"), SECRET_MASK);
        assert_eq!(
            format!("{:?}", Some(&secret)),
            format!("Some({SECRET_MASK})")
        );
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            format!("\"{SECRET_MASK}\"")
        );
        assert_eq!(secret.expose(), "hunter2-very-secret");
        assert!(!secret.is_empty());
        assert!(Secret::default().is_empty());
    }

    #[test]
    fn a_secret_deserializes_from_a_plain_string() {
        let secret: Secret = serde_json::from_str("\"5f1c3e9a\"").unwrap();
        assert_eq!(secret.expose(), "5f1c3e9a");
        assert_eq!(secret, Secret::from("5f1c3e9a"));
        assert_eq!(secret, Secret::from(String::from("5f1c3e9a")));
        assert!(serde_json::from_str::<Secret>("12").is_err());
    }
}
