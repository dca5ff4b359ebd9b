//! The `ConfigStore` port: ProxLB's configuration file as bytes, with a digest, backups and one
//! guarded write path. Implemented by [`crate::config_store::file::FileConfigStore`].
//!
//! The port moves raw bytes only; masking secrets, validating and lossless edits live in
//! [`crate::config_store::service::ConfigService`], so every write takes the same road.

use std::fmt;

use serde::{Deserialize, Serialize};

/// SHA-256 of the file's bytes, lowercase hex. A write names the digest it was based on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(bytes);
        Self(hash.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the editor may write, and if not, why (safe to show).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Writability {
    /// Written atomically (temp file, fsync, rename).
    Atomic,
    /// Rename is refused (a single-file bind mount): written in place after a backup.
    InPlace,
    /// Not writable; the reason says why (read-only mount, permissions).
    ReadOnly(String),
}

/// The file as read: its bytes and their digest.
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The file's text (UTF-8; ProxLB opens it as UTF-8 too). Holds secrets: never send it.
    pub text: String,
    /// Digest of the bytes.
    pub digest: Digest,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text holds secrets.
        f.debug_struct("Snapshot")
            .field("digest", &self.digest)
            .field("len", &self.text.len())
            .finish()
    }
}

/// How a write went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOutcome {
    /// Digest of the new bytes.
    pub digest: Digest,
    /// How the file was replaced.
    pub mode: Writability,
    /// The backup of the previous version, if one was taken (the file existed).
    pub backup: Option<String>,
}

/// One stored backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    /// Identifier (the file name under the backup folder).
    pub id: String,
    /// When it was taken, Unix milliseconds.
    pub taken_at_unix_ms: i64,
    /// Size in bytes.
    pub size: u64,
}

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigStoreError {
    /// The file does not exist.
    #[error("the configuration file does not exist")]
    Missing,
    /// The write was based on an older version.
    #[error("changed on disk since you loaded it")]
    Stale {
        /// The file as it is now.
        current: Snapshot,
    },
    /// The file cannot be written; the reason is safe to show.
    #[error("the configuration cannot be written: {0}")]
    ReadOnly(String),
    /// No such backup.
    #[error("no backup {0:?}")]
    NoBackup(String),
    /// The file is not UTF-8.
    #[error("the configuration file is not UTF-8 text")]
    NotUtf8,
    /// Any other IO failure (detail for the log).
    #[error("{context}: {source}")]
    Io {
        /// What was being done (names files, never contents).
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// ProxLB's configuration file behind one guarded write path. Object-safe; blocking (call it
/// from `spawn_blocking` in async code).
pub trait ConfigStore: Send + Sync {
    /// The file's text and digest now.
    fn read(&self) -> Result<Snapshot, ConfigStoreError>;
    /// Whether writes are possible and how they will be done.
    fn writability(&self) -> Writability;
    /// Replaces the file with `text` if its digest is still `base`: backs up the old version,
    /// writes atomically where possible. A different digest is [`ConfigStoreError::Stale`].
    fn write(&self, base: &Digest, text: &str) -> Result<WriteOutcome, ConfigStoreError>;
    /// Stored backups, newest first.
    fn backups(&self) -> Result<Vec<BackupInfo>, ConfigStoreError>;
    /// The raw text of a backup (holds secrets: mask before showing).
    fn backup_text(&self, id: &str) -> Result<String, ConfigStoreError>;
}
