//! Tasks: UPIDs (encoded exactly like `PVE/UPID.pm`), task records with their timed log lines,
//! and the JSON shapes of the task endpoints.

use std::fmt;

use serde_json::{json, Map, Value};

use crate::clock::format_datetime;

/// A unique process id: `UPID:<node>:<pid 8 hex>:<pstart 8 hex>:<starttime 8 hex>:<type>:<id>:<user>:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upid {
    /// Node the worker runs on.
    pub node: String,
    /// Worker pid.
    pub pid: u32,
    /// Process start time in clock ticks since boot.
    pub pstart: u64,
    /// Task start, UNIX seconds.
    pub starttime: i64,
    /// Task type (`qmigrate`, `vzmigrate`, `hamigrate`, ...).
    pub task_type: String,
    /// Task id (usually the vmid; may be empty).
    pub id: String,
    /// `user@realm` or `user@realm!token`.
    pub user: String,
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UPID:{}:{:08X}:{:08X}:{:08X}:{}:{}:{}:",
            self.node, self.pid, self.pstart, self.starttime, self.task_type, self.id, self.user
        )
    }
}

/// Why a UPID string could not be parsed (PVE: `unable to parse worker upid '...'`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse worker upid '{0}'")]
pub struct UpidError(pub String);

impl Upid {
    /// Parses a UPID. Accepts PVE's format (hex fields 8 or 9 digits wide, trailing colon).
    pub fn parse(s: &str) -> Result<Self, UpidError> {
        let err = || UpidError(s.to_string());
        let rest = s.strip_prefix("UPID:").ok_or_else(err)?;
        let rest = rest.strip_suffix(':').ok_or_else(err)?;
        let mut parts = rest.splitn(7, ':');
        let node = parts.next().ok_or_else(err)?;
        let pid = parts.next().ok_or_else(err)?;
        let pstart = parts.next().ok_or_else(err)?;
        let starttime = parts.next().ok_or_else(err)?;
        let task_type = parts.next().ok_or_else(err)?;
        let id = parts.next().ok_or_else(err)?;
        let user = parts.next().ok_or_else(err)?;
        let hex = |v: &str, min: usize, max: usize| -> Result<u64, UpidError> {
            if v.len() < min || v.len() > max || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            u64::from_str_radix(v, 16).map_err(|_| err())
        };
        let node_ok = !node.is_empty()
            && node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        let type_ok = !task_type.is_empty()
            && task_type
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let user_ok = user.contains('@') && !user.contains(':');
        if !node_ok || !type_ok || !user_ok || id.contains(':') {
            return Err(err());
        }
        Ok(Self {
            node: node.to_string(),
            pid: u32::try_from(hex(pid, 8, 8)?).map_err(|_| err())?,
            pstart: hex(pstart, 8, 9)?,
            starttime: i64::try_from(hex(starttime, 8, 8)?).map_err(|_| err())?,
            task_type: task_type.to_string(),
            id: id.to_string(),
            user: user.to_string(),
        })
    }

    /// The user part without a token (`root@pam` for `root@pam!proxlb`).
    pub fn userid(&self) -> &str {
        self.user.split_once('!').map_or(&self.user, |(u, _)| u)
    }

    /// The token name, if the task was started with an API token.
    pub fn tokenid(&self) -> Option<&str> {
        self.user.split_once('!').map(|(_, t)| t)
    }
}

/// What finishing a task does to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEffect {
    /// Move guest `vmid` to node `target` (and restart a container when `restart`).
    Migrate {
        /// Guest.
        vmid: u32,
        /// Target node.
        target: String,
    },
    /// Hand guest `vmid` to the HA stack, which later runs the real migration to `target`.
    HaMigrate {
        /// Guest.
        vmid: u32,
        /// Target node.
        target: String,
    },
    /// No effect on the cluster.
    None,
}

/// One task.
#[derive(Debug, Clone)]
pub struct Task {
    /// Its UPID.
    pub upid: Upid,
    /// Start time (fractional UNIX seconds, simulated).
    pub started: f64,
    /// When it ends (simulated time).
    pub ends: f64,
    /// Log lines with their offset (seconds after `started`); the `TASK ...` line is added when
    /// the task has stopped.
    pub log: Vec<(f64, String)>,
    /// Exit status once stopped (`OK`, `WARNINGS: n` or an error text).
    pub exitstatus: Option<String>,
    /// What completion does.
    pub effect: TaskEffect,
}

impl Task {
    /// Whether the task is still running at time `now`.
    pub fn running(&self) -> bool {
        self.exitstatus.is_none()
    }

    /// The end time as UNIX seconds, once stopped.
    pub fn endtime(&self) -> Option<i64> {
        self.exitstatus.as_ref().map(|_| self.ends.floor() as i64)
    }

    fn common(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("upid".into(), json!(self.upid.to_string()));
        m.insert("node".into(), json!(self.upid.node));
        m.insert("pid".into(), json!(self.upid.pid));
        m.insert("pstart".into(), json!(self.upid.pstart));
        m.insert("starttime".into(), json!(self.upid.starttime));
        m.insert("type".into(), json!(self.upid.task_type));
        m.insert("id".into(), json!(self.upid.id));
        m.insert("user".into(), json!(self.upid.userid()));
        if let Some(t) = self.upid.tokenid() {
            m.insert("tokenid".into(), json!(t));
        }
        m
    }

    /// `GET /nodes/{n}/tasks/{upid}/status`.
    pub fn status_json(&self) -> Value {
        let mut m = self.common();
        match &self.exitstatus {
            None => {
                m.insert("status".into(), json!("running"));
            }
            Some(e) => {
                m.insert("status".into(), json!("stopped"));
                m.insert("exitstatus".into(), json!(e));
            }
        }
        Value::Object(m)
    }

    /// An item of `GET /nodes/{n}/tasks` and `GET /cluster/tasks` (`status` is the exit status,
    /// absent while running; `endtime` only once stopped).
    pub fn list_json(&self) -> Value {
        let mut m = self.common();
        if let Some(e) = &self.exitstatus {
            m.insert("status".into(), json!(e));
            m.insert("endtime".into(), json!(self.endtime()));
        }
        Value::Object(m)
    }

    /// The log lines visible at time `now`, each prefixed with its timestamp, plus the final
    /// `TASK ...` line once the task has stopped.
    pub fn log_lines(&self, now: f64) -> Vec<String> {
        let mut lines: Vec<String> = self
            .log
            .iter()
            .filter(|(off, _)| self.exitstatus.is_some() || self.started + off <= now)
            .map(|(off, text)| {
                format!(
                    "{} {text}",
                    format_datetime((self.started + off).floor() as i64)
                )
            })
            .collect();
        match self.exitstatus.as_deref() {
            Some("OK") => lines.push("TASK OK".to_string()),
            Some(e) if e.starts_with("WARNINGS") => lines.push(format!("TASK {e}")),
            Some(e) => lines.push(format!("TASK ERROR: {e}")),
            None => {}
        }
        lines
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn upid_roundtrip_matches_pve_example() {
        let s = "UPID:pve1:00064AB9:05E30A78:6B031900:qmigrate:100:proxlb@pve!dashboard:";
        let u = Upid::parse(s).unwrap();
        assert_eq!(u.node, "pve1");
        assert_eq!(u.pid, 0x64AB9);
        assert_eq!(u.pstart, 0x05E3_0A78);
        assert_eq!(u.starttime, 1_795_365_120);
        assert_eq!(u.task_type, "qmigrate");
        assert_eq!(u.id, "100");
        assert_eq!(u.userid(), "proxlb@pve");
        assert_eq!(u.tokenid(), Some("dashboard"));
        assert_eq!(u.to_string(), s);
    }

    #[test]
    fn bad_upids() {
        for s in [
            "",
            "UPID:",
            "UPID:pve1:0001:00000001:6B031900:qmigrate:100:root@pam:",
            "UPID:pve1:00000001:00000001:6B031900:qmigrate:100:root@pam",
            "UPID:pve1:0000000G:00000001:6B031900:qmigrate:100:root@pam:",
            "UPID:pve1:00000001:00000001:6B031900:qmigrate:100:nobody:",
        ] {
            assert!(Upid::parse(s).is_err(), "{s}");
        }
        let e = Upid::parse("nope").unwrap_err();
        assert_eq!(e.to_string(), "unable to parse worker upid 'nope'");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Upid::parse(&s);
            let _ = Upid::parse(&format!("UPID:{s}:"));
        }

        #[test]
        fn roundtrip(node in "[a-z][a-z0-9-]{0,10}", pid in any::<u32>(), pstart in 0u64..0xF_FFFF_FFFF,
                     start in 0i64..0xFFFF_FFFF, ty in "[a-z]{2,10}", id in "[0-9]{0,9}",
                     user in "[a-z]{1,8}@[a-z]{2,4}(![a-z]{1,6})?") {
            let u = Upid { node, pid, pstart, starttime: start, task_type: ty, id, user };
            prop_assert_eq!(Upid::parse(&u.to_string()).unwrap(), u);
        }
    }
}
