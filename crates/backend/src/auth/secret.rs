//! The per-install secret: 256 random bits made at first start, kept in
//! `PROXLB_WEB_DATA/session-secret` (mode 0600), reused on every restart. It signs session cookies
//! (HMAC-SHA256). There is no default: each install has its own. Deleting the file and restarting
//! rotates it, which logs everyone out.

use std::fmt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{random, AuthError};
use crate::store::private_file;
use crate::store::StoreError;

/// Name of the secret's file inside the data directory.
pub const FILE_NAME: &str = "session-secret";

/// The install's signing key. `Debug` never shows it.
#[derive(Clone)]
pub struct InstallSecret {
    key: [u8; 32],
}

impl fmt::Debug for InstallSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallSecret(***)")
    }
}

impl InstallSecret {
    /// Reads `data_dir/session-secret`, or makes a new secret and writes it there (0600) on first
    /// start. A file with loose permissions is tightened; a file that does not hold a secret is an
    /// error (it is never silently replaced). Blocking: call at startup.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AuthError> {
        private_file::ensure_private_dir(data_dir)?;
        let path = data_dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                private_file::ensure_private_file(&path)?;
                let key = random::decode::<32>(text.trim())
                    .ok_or_else(|| AuthError::BadSecretFile { path: path.clone() })?;
                Ok(Self { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random::bytes::<32>()?;
                let mut text = random::encode(&key);
                text.push('\n');
                private_file::write_private_file(&path, text.as_bytes())?;
                tracing::info!(path = %path.display(), "generated this install's session secret");
                Ok(Self { key })
            }
            Err(source) => Err(StoreError::Io { path, source }.into()),
        }
    }

    /// Path of the secret's file in `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    /// HMAC-SHA256 of `message` under this secret, separated by `purpose` so a signature made
    /// for one use is never valid for another.
    pub(crate) fn sign(&self, purpose: &[u8], message: &[u8]) -> [u8; 32] {
        self.mac(purpose, message).finalize().into_bytes().into()
    }

    /// Whether `tag` is [`InstallSecret::sign`] of `message` (compared in constant time).
    pub(crate) fn verify(&self, purpose: &[u8], message: &[u8], tag: &[u8]) -> bool {
        self.mac(purpose, message).verify_slice(tag).is_ok()
    }

    fn mac(&self, purpose: &[u8], message: &[u8]) -> Hmac<Sha256> {
        #[allow(clippy::expect_used)] // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        // Length-prefixed, so (purpose, message) pairs cannot collide.
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose);
        mac.update(message);
        mac
    }

    /// A secret from fixed bytes, for tests of code that signs.
    #[cfg(test)]
    pub(crate) fn from_bytes(key: [u8; 32]) -> Self {
        Self { key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_key_purpose_and_message() {
        let a = InstallSecret::from_bytes([1; 32]);
        let b = InstallSecret::from_bytes([2; 32]);
        let tag = a.sign(b"session", b"id");
        assert!(a.verify(b"session", b"id", &tag));
        assert!(!b.verify(b"session", b"id", &tag));
        assert!(!a.verify(b"other", b"id", &tag));
        assert!(!a.verify(b"session", b"id2", &tag));
        assert!(!a.verify(b"session", b"id", &tag[..31]));
        assert_eq!(format!("{a:?}"), "InstallSecret(***)");
    }

    #[test]
    fn a_file_without_a_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "short").unwrap();
        let err = InstallSecret::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, AuthError::BadSecretFile { .. }));
    }
}
