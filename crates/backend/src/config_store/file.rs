//! The file adapter of [`ConfigStore`]: `proxlb.yaml` at `PROXLB_CONFIG`.
//!
//! A write is checked against the digest it was based on (under a lock, so of two concurrent
//! writes one wins and the other is stale), backs up the old bytes, then replaces the file:
//! - atomically where the file system allows: a temporary file in the same directory, fsync,
//!   mode/owner/group copied, rename over the target, fsync of the directory;
//! - in place when a rename cannot work: the directory is not writable or rename answers
//!   `EBUSY` (ProxLB's documented Docker setup bind-mounts the single file), or the owner/group
//!   could not be kept on a new file (ProxLB must still read it). The backup is taken first.
//!
//! A symlinked config is written through (the link's target is replaced, the link stays).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use super::backup::Backups;
use crate::ports::config::{
    BackupInfo, ConfigStore, ConfigStoreError, Digest, Snapshot, Writability, WriteOutcome,
};

/// Environment variable that makes a `testing` build abort between writing the temporary file
/// and renaming it (the crash test's child process).
#[cfg(feature = "testing")]
pub const CRASH_BEFORE_RENAME: &str = "PLB_TEST_CRASH_BEFORE_RENAME";

fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> ConfigStoreError {
    let context = context.into();
    move |source| ConfigStoreError::Io { context, source }
}

/// `proxlb.yaml` on disk.
pub struct FileConfigStore {
    path: PathBuf,
    backups: Backups,
    /// Serialises read-compare-write within this process.
    lock: Mutex<()>,
}

impl FileConfigStore {
    /// The file at `path`, backups under `data_dir`.
    pub fn new(path: impl Into<PathBuf>, data_dir: &Path) -> Self {
        Self {
            path: path.into(),
            backups: Backups::new(data_dir),
            lock: Mutex::new(()),
        }
    }

    /// The configured path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file actually written: the symlink's target, or the path itself.
    fn target(&self) -> PathBuf {
        fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone())
    }

    fn read_bytes(&self) -> Result<Vec<u8>, ConfigStoreError> {
        fs::read(&self.path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ConfigStoreError::Missing,
            _ => io(format!("reading {}", self.path.display()))(e),
        })
    }

    fn snapshot(&self) -> Result<Snapshot, ConfigStoreError> {
        let bytes = self.read_bytes()?;
        let digest = Digest::of(&bytes);
        let text = String::from_utf8(bytes).map_err(|_| ConfigStoreError::NotUtf8)?;
        Ok(Snapshot { text, digest })
    }
}

fn dir_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn temp_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "proxlb.yaml".to_owned());
    dir_of(target).join(format!(".{name}.plb-web-{}.tmp", std::process::id()))
}

/// Whether a new file can be created next to `target` (then a rename can replace it).
fn dir_writable(target: &Path) -> bool {
    let probe = temp_name(target);
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => fs::remove_file(&probe).is_ok(),
        Err(_) => false,
    }
}

fn describe_readonly(error: &io::Error, path: &Path) -> String {
    match error.raw_os_error() {
        Some(30) => format!(
            "{} is on a read-only mount (for example `:ro` or a Helm subPath); mount it read-write to edit it here",
            path.display()
        ),
        _ if error.kind() == io::ErrorKind::PermissionDenied => format!(
            "ProxLB Web's user may not write {}; give it write access (keep ProxLB's owner and group)",
            path.display()
        ),
        _ => format!("{} cannot be opened for writing", path.display()),
    }
}

/// Copies mode, owner and group of `from` onto `to`. Returns false when the owner or group
/// could not be kept (then the caller writes in place instead).
#[cfg(unix)]
fn copy_ownership(from: &fs::Metadata, to: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    fs::set_permissions(to, from.permissions())?;
    let same = fs::metadata(to)
        .map(|m| m.uid() == from.uid() && m.gid() == from.gid())
        .unwrap_or(false);
    if same {
        return Ok(true);
    }
    Ok(std::os::unix::fs::chown(to, Some(from.uid()), Some(from.gid())).is_ok())
}

#[cfg(not(unix))]
fn copy_ownership(from: &fs::Metadata, to: &Path) -> io::Result<bool> {
    fs::set_permissions(to, from.permissions())?;
    Ok(true)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` over `target` in place (same inode: owner, group, mode and mounts kept).
fn write_in_place(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).truncate(true).open(target)?;
    file.write_all(bytes)?;
    file.sync_all()
}

enum Renamed {
    Done,
    /// Rename was not possible (EBUSY, EXDEV, ownership not kept): the temp file is gone.
    Refused,
}

fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<Renamed> {
    let meta = fs::metadata(target)?;
    let tmp = temp_name(target);
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if !copy_ownership(&meta, &tmp)? {
            return Ok(Renamed::Refused);
        }
        #[cfg(feature = "testing")]
        if std::env::var_os(CRASH_BEFORE_RENAME).is_some() {
            // The crash test's child: die exactly between the write and the rename.
            std::process::abort();
        }
        match fs::rename(&tmp, target) {
            Ok(()) => {
                sync_dir(&dir_of(target))?;
                Ok(Renamed::Done)
            }
            // EBUSY (a bind-mounted file) and EXDEV: the target cannot be replaced by rename.
            Err(e) if matches!(e.raw_os_error(), Some(16) | Some(18)) => Ok(Renamed::Refused),
            Err(e) => Err(e),
        }
    })();
    if !matches!(result, Ok(Renamed::Done)) {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl ConfigStore for FileConfigStore {
    fn read(&self) -> Result<Snapshot, ConfigStoreError> {
        self.snapshot()
    }

    fn writability(&self) -> Writability {
        let target = self.target();
        if let Err(e) = OpenOptions::new().write(true).open(&target) {
            return Writability::ReadOnly(describe_readonly(&e, &self.path));
        }
        if dir_writable(&target) {
            Writability::Atomic
        } else {
            Writability::InPlace
        }
    }

    fn write(&self, base: &Digest, text: &str) -> Result<WriteOutcome, ConfigStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.snapshot()?;
        if &current.digest != base {
            return Err(ConfigStoreError::Stale { current });
        }
        let mode = self.writability();
        if let Writability::ReadOnly(why) = mode {
            return Err(ConfigStoreError::ReadOnly(why));
        }
        let backup = Some(
            self.backups
                .take(current.text.as_bytes(), SystemTime::now())?,
        );
        let target = self.target();
        let bytes = text.as_bytes();
        let context = format!("writing {}", target.display());
        let mode = if mode == Writability::Atomic {
            match write_atomic(&target, bytes).map_err(io(context.clone()))? {
                Renamed::Done => Writability::Atomic,
                Renamed::Refused => {
                    write_in_place(&target, bytes).map_err(io(context))?;
                    Writability::InPlace
                }
            }
        } else {
            write_in_place(&target, bytes).map_err(io(context))?;
            Writability::InPlace
        };
        if mode == Writability::InPlace {
            tracing::info!(path = %target.display(), "configuration written in place (rename not possible here); the previous version is backed up");
        }
        Ok(WriteOutcome {
            digest: Digest::of(bytes),
            mode,
            backup,
        })
    }

    fn backups(&self) -> Result<Vec<BackupInfo>, ConfigStoreError> {
        self.backups.list()
    }

    fn backup_text(&self, id: &str) -> Result<String, ConfigStoreError> {
        self.backups.read(id)
    }
}
