//! The data folder (`PROXLB_WEB_DATA`) made safe at start: sessions, the database and config
//! backups live there, so it must be private and must not have been prepared by someone else.
//!
//! - A missing folder is created with mode 0700 (parents too).
//! - An existing folder must belong to this process's user and must not be writable by group or
//!   others; otherwise the server refuses to start with a message saying what to change. (A
//!   folder another user owns or may write to could hold planted files or symlinks.)

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Mode of a data folder this code creates.
pub const DIR_MODE: u32 = 0o700;

/// Whether the process runs as root (effective uid 0).
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Why the data folder cannot be used. Every message names the folder and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    /// The folder is missing and cannot be created.
    #[error(
        "cannot create the data folder {}: {reason} (set PROXLB_WEB_DATA to a folder this user \
         may create)",
        path.display()
    )]
    Create {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The folder's metadata cannot be read.
    #[error("cannot use the data folder {}: {reason}", path.display())]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The path exists but is not a folder.
    #[error("the data folder {} is not a folder (set PROXLB_WEB_DATA)", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// The folder belongs to another user.
    #[error(
        "the data folder {} belongs to uid {owner}, not to this server's uid {uid}: chown it to \
         uid {uid} or set PROXLB_WEB_DATA to another folder",
        path.display()
    )]
    ForeignOwner {
        /// The folder.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The server's effective uid.
        uid: u32,
    },
    /// The folder may be written by group or others.
    #[error(
        "the data folder {} is writable by its group or by others (mode {mode:03o}): run \
         `chmod 700` on it or set PROXLB_WEB_DATA to another folder",
        path.display()
    )]
    Writable {
        /// The folder.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// Creates the data folder (0700) if it is missing, else checks that it is this user's and not
/// writable by anyone else.
pub fn prepare(path: &Path) -> Result<(), DataDirError> {
    prepare_as(path, rustix::process::geteuid().as_raw())
}

/// [`prepare`] for a process running as `uid`.
fn prepare_as(path: &Path, uid: u32) -> Result<(), DataDirError> {
    match fs::metadata(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(path)
                .map_err(|error| DataDirError::Create {
                    path: path.to_owned(),
                    reason: error.to_string(),
                })?;
            tracing::info!(path = %path.display(), "created the data folder (mode 0700)");
            // Whoever created it in the meantime, the checks below still apply.
            check(path, uid)
        }
        Err(error) => Err(DataDirError::Unreadable {
            path: path.to_owned(),
            reason: error.to_string(),
        }),
        Ok(_) => check(path, uid),
    }
}

fn check(path: &Path, uid: u32) -> Result<(), DataDirError> {
    let meta = fs::metadata(path).map_err(|error| DataDirError::Unreadable {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(DataDirError::NotAFolder {
            path: path.to_owned(),
        });
    }
    if meta.uid() != uid {
        return Err(DataDirError::ForeignOwner {
            path: path.to_owned(),
            owner: meta.uid(),
            uid,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(DataDirError::Writable {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn uid() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_missing_folder_is_created_0700_with_its_parents() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("state/proxlb-web");
        prepare(&dir).unwrap();
        assert!(dir.is_dir());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&scratch.path().join("state")), 0o700);
        // Running again on the folder it made is fine.
        prepare(&dir).unwrap();
    }

    #[test]
    fn an_own_folder_that_others_cannot_write_is_accepted_as_it_is() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o755, "left as the operator made it");
    }

    #[test]
    fn a_group_or_world_writable_folder_is_refused() {
        let scratch = tempfile::tempdir().unwrap();
        for bits in [0o770, 0o777, 0o1777, 0o702] {
            let dir = scratch.path().join(format!("data-{bits:o}"));
            fs::create_dir(&dir).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(bits)).unwrap();
            let error = prepare(&dir).unwrap_err();
            assert!(matches!(error, DataDirError::Writable { .. }), "{error}");
            let message = error.to_string();
            assert!(message.contains("chmod 700"), "{message}");
            assert!(message.contains("PROXLB_WEB_DATA"), "{message}");
        }
    }

    #[test]
    fn a_folder_of_another_user_is_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("data");
        fs::create_dir(&dir).unwrap();
        let other = uid().wrapping_add(1);
        let error = prepare_as(&dir, other).unwrap_err();
        match &error {
            DataDirError::ForeignOwner { owner, uid: us, .. } => {
                assert_eq!(*owner, uid());
                assert_eq!(*us, other);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains("chown"), "{error}");
    }

    #[test]
    fn a_file_in_its_place_is_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let file = scratch.path().join("data");
        fs::write(&file, b"x").unwrap();
        assert!(matches!(
            prepare(&file).unwrap_err(),
            DataDirError::NotAFolder { .. }
        ));
    }
}
