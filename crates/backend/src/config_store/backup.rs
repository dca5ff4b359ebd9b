//! Backups of `proxlb.yaml` under the data folder: mode 0600, named by UTC time, the newest
//! [`KEEP`] kept. They hold secrets, so they are only ever shown masked.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ports::config::{BackupInfo, ConfigStoreError};
use crate::store::private_file::{ensure_private_dir, write_private_file};

/// How many backups are kept.
pub const KEEP: usize = 20;
const PREFIX: &str = "proxlb.yaml.";

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ConfigStoreError {
    let context = context.into();
    move |source| ConfigStoreError::Io { context, source }
}

/// The backup folder of one data folder.
#[derive(Clone, Debug)]
pub struct Backups {
    dir: PathBuf,
    keep: usize,
}

fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `20261130T060512.123Z` for a time (sorts like the time).
fn stamp(at: SystemTime) -> String {
    let ms = unix_ms(at);
    let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second(),
        when.millisecond()
    )
}

fn parse_stamp(id: &str) -> Option<i64> {
    let s = id.strip_prefix(PREFIX)?;
    let s = s.get(..20)?;
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<i64>().ok());
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms_milli(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
        u16::try_from(num(16..19)?).ok()?,
    )
    .ok()?;
    let at = time::PrimitiveDateTime::new(date, t).assume_utc();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

impl Backups {
    /// Backups under `data_dir/config-backups`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("config-backups"),
            keep: KEEP,
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores `bytes` as a new backup taken at `at` and prunes old ones. Returns its id.
    pub fn take(&self, bytes: &[u8], at: SystemTime) -> Result<String, ConfigStoreError> {
        ensure_private_dir(&self.dir).map_err(|e| ConfigStoreError::Io {
            context: format!("creating {}", self.dir.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
        let base = format!("{PREFIX}{}", stamp(at));
        let mut id = base.clone();
        let mut n = 1;
        while self.dir.join(&id).exists() {
            id = format!("{base}-{n}");
            n += 1;
        }
        let path = self.dir.join(&id);
        write_private_file(&path, bytes).map_err(|e| ConfigStoreError::Io {
            context: format!("writing backup {}", path.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
        self.prune()?;
        Ok(id)
    }

    fn ids(&self) -> Result<Vec<String>, ConfigStoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(format!("listing {}", self.dir.display()))(e)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| parse_stamp(name).is_some())
            .collect();
        // Newest first: the names sort like their times (a same-millisecond suffix sorts after).
        ids.sort_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    fn prune(&self) -> Result<(), ConfigStoreError> {
        for old in self.ids()?.into_iter().skip(self.keep) {
            let path = self.dir.join(&old);
            fs::remove_file(&path).map_err(io(format!("removing {}", path.display())))?;
        }
        Ok(())
    }

    /// Stored backups, newest first.
    pub fn list(&self) -> Result<Vec<BackupInfo>, ConfigStoreError> {
        self.ids()?
            .into_iter()
            .map(|id| {
                let path = self.dir.join(&id);
                let meta =
                    fs::metadata(&path).map_err(io(format!("reading {}", path.display())))?;
                Ok(BackupInfo {
                    taken_at_unix_ms: parse_stamp(&id).unwrap_or(0),
                    size: meta.len(),
                    id,
                })
            })
            .collect()
    }

    /// The text of one backup. Only ids that [`Backups::list`] returns are accepted (no paths).
    pub fn read(&self, id: &str) -> Result<String, ConfigStoreError> {
        if !self.ids()?.iter().any(|known| known == id) {
            return Err(ConfigStoreError::NoBackup(id.to_owned()));
        }
        let path = self.dir.join(id);
        let bytes = fs::read(&path).map_err(io(format!("reading {}", path.display())))?;
        String::from_utf8(bytes).map_err(|_| ConfigStoreError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stamps_round_trip_and_prune_keeps_the_newest() {
        let at = UNIX_EPOCH + Duration::from_millis(1_780_000_000_123);
        let id = format!("{PREFIX}{}", stamp(at));
        assert_eq!(parse_stamp(&id), Some(1_780_000_000_123));
        let dir = tempfile::tempdir().unwrap();
        let backups = Backups {
            dir: dir.path().join("b"),
            keep: 3,
        };
        for i in 0..5u64 {
            backups
                .take(format!("v{i}").as_bytes(), at + Duration::from_secs(i))
                .unwrap();
        }
        let list = backups.list().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(backups.read(&list[0].id).unwrap(), "v4");
        assert!(backups.read("../../etc/passwd").is_err());
    }
}
