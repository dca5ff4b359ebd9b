//! The one write path for ProxLB's configuration: the raw editor, the form (later), the
//! maintenance and ignore toggles and backup restores all end in [`ConfigService::commit`]:
//! validate as ProxLB 2.3.0 would, then write only if the file is still what the change was
//! based on. Every text that leaves this module has its secrets masked.

use std::sync::Arc;

use plb_domain::balancing::settings::KeyChange;
use plb_domain::proxlb::validate::{self, looks_like_ini, Context, Issue, Report};
use plb_domain::proxlb::yaml11::Pos;
use serde::{Deserialize, Serialize};

use super::edit::{self, EditError, EditValue};
use super::load;
use crate::error::Service;
use crate::ports::config::{
    BackupInfo, ConfigStore, ConfigStoreError, Digest, Snapshot, Writability, WriteOutcome,
};
use crate::Error;

/// The message of a stale write (the UI shows it with the diff).
pub const STALE_MESSAGE: &str = "changed on disk since you loaded it";

/// The configuration as the editor sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigView {
    /// The file's text with secrets masked.
    pub text: String,
    /// Digest of the file's bytes (send it back with a change).
    pub digest: Digest,
    /// What ProxLB 2.3.0 would say about the file, with warnings.
    pub report: Report,
    /// Whether and how it can be written.
    pub writability: Writability,
}

/// A change that was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The new digest (`None`: nothing needed changing, the file is untouched).
    pub digest: Option<Digest>,
    /// How it was written and which backup holds the previous version.
    pub outcome: Option<WriteOutcome>,
    /// Warnings about the new file.
    pub warnings: Vec<Issue>,
}

/// A backup as shown: masked text and its diff against the current file (masked too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupView {
    /// Which backup.
    pub info: BackupInfo,
    /// Its text, secrets masked.
    pub text: String,
    /// Unified diff from the backup to the current file, secrets masked.
    pub diff_to_current: String,
}

/// Which node list a toggle writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeList {
    /// `proxmox_cluster.maintenance_nodes`: ProxLB drains the node on its next run.
    Maintenance,
    /// `proxmox_cluster.ignore_nodes`: the node and its guests become invisible to ProxLB.
    Ignore,
}

impl NodeList {
    /// The key path in the file.
    pub fn path(self) -> [&'static str; 2] {
        match self {
            NodeList::Maintenance => ["proxmox_cluster", "maintenance_nodes"],
            NodeList::Ignore => ["proxmox_cluster", "ignore_nodes"],
        }
    }
}

/// Why a change was not written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// ProxLB would reject the result; nothing was written.
    #[error("ProxLB would reject this configuration")]
    Rejected(Report),
    /// The file changed since the change was based on it; nothing was written.
    #[error("{STALE_MESSAGE}")]
    Conflict {
        /// Digest of the file now.
        current: Digest,
        /// Unified diff from the file on disk ("theirs") to the submitted text ("yours"), masked.
        diff: String,
    },
    /// The edit cannot be made on this file's structure.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// The store failed (read-only, missing, IO).
    #[error(transparent)]
    Store(#[from] ConfigStoreError),
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        match error {
            ConfigError::Rejected(report) => Error::Invalid {
                message: report
                    .errors
                    .iter()
                    .map(|e| format!("line {}, column {}: {}", e.line, e.column, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
            ConfigError::Conflict { diff, .. } => Error::Conflict {
                message: STALE_MESSAGE.to_owned(),
                current: Some(diff),
            },
            ConfigError::Edit(e) => Error::Invalid {
                message: e.to_string(),
            },
            ConfigError::Store(ConfigStoreError::ReadOnly(why)) => {
                Error::Forbidden { message: why }
            }
            ConfigError::Store(ConfigStoreError::Missing) => Error::NotFound {
                what: "the ProxLB configuration file".to_owned(),
            },
            ConfigError::Store(ConfigStoreError::NoBackup(id)) => Error::NotFound {
                what: format!("backup {id:?}"),
            },
            ConfigError::Store(e) => Error::Unavailable {
                service: Service::Config,
                detail: e.to_string(),
            },
        }
    }
}

/// Validates `text` as ProxLB 2.3.0 would (syntax first, with its line and column).
pub fn check(text: &str, ctx: &Context) -> Report {
    if looks_like_ini(text) {
        return Report {
            errors: vec![Issue::at(
                Pos { line: 1, column: 1 },
                "",
                "this is a ProxLB 1.0 configuration (INI); ProxLB 2.x needs proxlb.yaml (see the 2.x example)",
            )],
            warnings: Vec::new(),
            legacy_1x: true,
        };
    }
    match load::load(text) {
        Ok(root) => validate::validate(root.as_ref(), ctx),
        Err(issue) => Report {
            errors: vec![issue],
            ..Report::default()
        },
    }
}

/// `submitted` with the line endings of the file on disk: browsers send a form's textarea with
/// CRLF line breaks (HTML's form encoding), which must not turn an LF file into a CRLF one.
/// A file that already uses CRLF keeps it.
pub fn with_line_endings_of<'a>(submitted: &'a str, on_disk: &str) -> std::borrow::Cow<'a, str> {
    if submitted.contains("\r\n") && !on_disk.contains("\r\n") {
        std::borrow::Cow::Owned(submitted.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(submitted)
    }
}

/// Unified diff of two texts (callers pass masked texts).
pub fn diff(from_name: &str, from: &str, to_name: &str, to: &str) -> String {
    similar::TextDiff::from_lines(from, to)
        .unified_diff()
        .context_radius(3)
        .header(from_name, to_name)
        .to_string()
}

/// The configuration service over a [`ConfigStore`].
#[derive(Clone)]
pub struct ConfigService {
    store: Arc<dyn ConfigStore>,
}

impl ConfigService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn ConfigStore>) -> Self {
        Self { store }
    }

    /// The store (for the change watcher).
    pub fn store(&self) -> &Arc<dyn ConfigStore> {
        &self.store
    }

    /// The file, masked, with its digest, validation and writability.
    pub fn view(&self, ctx: &Context) -> Result<ConfigView, ConfigError> {
        let Snapshot { text, digest } = self.store.read()?;
        Ok(ConfigView {
            report: check(&text, ctx),
            text: edit::mask(&text),
            digest,
            writability: self.store.writability(),
        })
    }

    /// Validates a submitted editor text (masks stand for the stored secrets) without writing.
    pub fn validate_text(&self, submitted: &str, ctx: &Context) -> Result<Report, ConfigError> {
        let current = self.store.read()?;
        let text = edit::unmask(submitted, &current.text)?;
        Ok(check(&text, ctx))
    }

    /// The single write path: validate `text`, then write it if the file still has `base`.
    pub fn commit(&self, base: &Digest, text: &str, ctx: &Context) -> Result<Saved, ConfigError> {
        let report = check(text, ctx);
        if !report.accepted() {
            return Err(ConfigError::Rejected(report));
        }
        match self.store.write(base, text) {
            Ok(outcome) => Ok(Saved {
                digest: Some(outcome.digest.clone()),
                outcome: Some(outcome),
                warnings: report.warnings,
            }),
            Err(ConfigStoreError::Stale { current }) => Err(ConfigError::Conflict {
                diff: diff(
                    "on disk (theirs)",
                    &edit::mask(&current.text),
                    "yours",
                    &edit::mask(text),
                ),
                current: current.digest,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves the raw editor's text: a masked secret keeps the stored bytes.
    pub fn save_text(
        &self,
        base: &Digest,
        submitted: &str,
        ctx: &Context,
    ) -> Result<Saved, ConfigError> {
        let current = self.store.read()?;
        let submitted = with_line_endings_of(submitted, &current.text);
        let text = edit::unmask(&submitted, &current.text)?;
        if text == current.text {
            // The file already says this: no write, no backup, no new digest (the editor
            // answers "nothing changed"). A file ProxLB would reject is still refused.
            let report = check(&text, ctx);
            if !report.accepted() {
                return Err(ConfigError::Rejected(report));
            }
            return Ok(Saved {
                digest: None,
                outcome: None,
                warnings: report.warnings,
            });
        }
        self.commit(base, &text, ctx)
    }

    /// Applies a lossless edit to the file as it is now; retried once if the file changes
    /// between reading and writing (the edit is re-applied to the newer file).
    fn edit_now(
        &self,
        base: Option<&Digest>,
        ctx: &Context,
        f: impl Fn(&str) -> Result<String, EditError>,
    ) -> Result<Saved, ConfigError> {
        let mut attempts = 0;
        loop {
            let current = self.store.read()?;
            if let Some(base) = base {
                if base != &current.digest {
                    // The caller's view is older than the file: never edit blind.
                    return Err(ConfigError::Conflict {
                        current: current.digest,
                        diff: String::new(),
                    });
                }
            }
            let text = f(&current.text)?;
            if text == current.text {
                return Ok(Saved {
                    digest: None,
                    outcome: None,
                    warnings: check(&text, ctx).warnings,
                });
            }
            match self.commit(&current.digest, &text, ctx) {
                Err(ConfigError::Conflict { .. }) if base.is_none() && attempts == 0 => {
                    attempts += 1;
                }
                other => return other,
            }
        }
    }

    /// Sets one value (`path`: sections then key), losslessly.
    pub fn set_value(
        &self,
        base: Option<&Digest>,
        path: &[&str],
        value: &EditValue,
        ctx: &Context,
    ) -> Result<Saved, ConfigError> {
        self.edit_now(base, ctx, |text| edit::set_value(text, path, value))
    }

    /// Writes several keys (balancing settings) as one lossless change based on `base`: a
    /// stale `base` is a conflict, nothing is written.
    pub fn apply_changes(
        &self,
        base: &Digest,
        changes: &[KeyChange],
        ctx: &Context,
    ) -> Result<Saved, ConfigError> {
        self.edit_now(Some(base), ctx, |text| {
            changes.iter().try_fold(text.to_owned(), |text, change| {
                edit::apply_change(&text, change)
            })
        })
    }

    /// Puts `node` on or off a node list (maintenance or ignore), losslessly.
    pub fn set_node(
        &self,
        list: NodeList,
        node: &str,
        on: bool,
        ctx: &Context,
    ) -> Result<Saved, ConfigError> {
        let path = list.path();
        self.edit_now(None, ctx, |text| {
            edit::set_list_member(text, &path, node, on)
        })
    }

    /// Stored backups, newest first.
    pub fn backups(&self) -> Result<Vec<BackupInfo>, ConfigError> {
        Ok(self.store.backups()?)
    }

    /// One backup, masked, with its diff to the current file.
    pub fn backup(&self, id: &str) -> Result<BackupView, ConfigError> {
        let info = self
            .store
            .backups()?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| ConfigStoreError::NoBackup(id.to_owned()))?;
        let text = edit::mask(&self.store.backup_text(id)?);
        let current = edit::mask(&self.store.read()?.text);
        Ok(BackupView {
            diff_to_current: diff(id, &text, "current", &current),
            text,
            info,
        })
    }

    /// Restores a backup through the same write path (validated, digest-checked, backed up).
    pub fn restore(&self, id: &str, base: &Digest, ctx: &Context) -> Result<Saved, ConfigError> {
        let text = self.store.backup_text(id)?;
        self.commit(base, &text, ctx)
    }
}
