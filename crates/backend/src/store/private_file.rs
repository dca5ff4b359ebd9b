//! Files only the server's user may read: the database, the install secret, the initial admin
//! password. Created with mode 0600 (directories 0700) from the start, never chmod-ed after a
//! window in which others could read them; an existing file that is too open is tightened.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::StoreError;

/// Mode of every private file.
pub const FILE_MODE: u32 = 0o600;
/// Mode of a data directory this code creates.
pub const DIR_MODE: u32 = 0o700;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `dir` (and its parents) with mode 0700 if it is missing. An existing directory is left
/// as it is: the operator may share it deliberately (e.g. a volume mounted into a container).
pub fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir).map_err(io_err(dir))
}

/// Makes sure `path` exists with mode 0600: creates it empty if missing, tightens it if it is
/// readable or writable by group or others.
pub fn ensure_private_file(path: &Path) -> Result<(), StoreError> {
    match open_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(path),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Writes `contents` to `path` atomically (temporary file, fsync, rename) with mode 0600.
/// Readers see either the old file or the new one, never a half-written file.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    let tmp = temp_path(path);
    // A leftover from a crash would make create_new fail; it holds nothing worth keeping.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&tmp)(e)),
    }
    let result = (|| {
        let mut file = open_new(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: the error below is what matters.
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// Removes `path`; a file that is already gone counts as removed. Returns whether it existed.
pub fn remove_file(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// The permission bits of `path` (unix), for checks and tests.
#[cfg(unix)]
pub fn mode(path: &Path) -> Result<u32, StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(io_err(path))?;
    Ok(meta.permissions().mode() & 0o777)
}

fn open_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options.open(path)
}

#[cfg(unix)]
fn tighten(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let current = mode(path)?;
    if current & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{current:o}"),
            "private file was readable by others; setting mode 0600"
        );
        fs::set_permissions(path, fs::Permissions::from_mode(FILE_MODE)).map_err(io_err(path))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn files_are_created_0600_and_loose_ones_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh");
        ensure_private_file(&fresh).unwrap();
        assert_eq!(mode(&fresh).unwrap(), 0o600);

        let loose = dir.path().join("loose");
        fs::write(&loose, b"x").unwrap();
        fs::set_permissions(&loose, fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&loose).unwrap();
        assert_eq!(mode(&loose).unwrap(), 0o600);
        assert_eq!(fs::read(&loose).unwrap(), b"x", "contents kept");
    }

    #[test]
    fn atomic_write_replaces_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_private_file(&path, b"one").unwrap();
        write_private_file(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path).unwrap(), 0o600);
        assert!(!temp_path(&path).exists());
        assert!(remove_file(&path).unwrap());
        assert!(!remove_file(&path).unwrap());
    }

    #[test]
    fn missing_data_dirs_are_created_0700() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        ensure_private_dir(&nested).unwrap();
        assert_eq!(mode(&nested).unwrap(), 0o700);
    }
}
