//! Migration facts from ProxLB's log, the record type of the migration history, its filter,
//! and Proxmox task IDs (UPIDs). Pure: the server's history service stores records in SQLite
//! and correlates them with the PVE task list.
//!
//! At ProxLB's default INFO level there is no UPID in the log and no success line (ProxLB 2.3.0
//! `proxlb/models/balancing.py:144,453`): a started migration with no failure line before
//! `Finished: Balancing loop…` / `Some migrations did not complete…` succeeded by inference.
//! ProxLB keys guests by name and assumes names are unique, so facts correlate by name.

use serde::{Deserialize, Serialize};

use crate::logs::{LogEntry, LogEvent};
use crate::proxlb::cluster::GuestKind;

/// A migration fact read from one log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum MigrationLogFact {
    /// `Balancing: Starting to migrate {VM|CT} guest {guest} from {source} to {target}.`
    /// (or 1.0's `Rebalancing …`).
    Started {
        /// The guest's name.
        guest: String,
        /// VM or CT.
        kind: GuestKind,
        /// Source node.
        source: String,
        /// Target node.
        target: String,
        /// Transport time of the line (UTC Unix ms).
        at_unix_ms: i64,
        /// ProxLB's own timestamp text (local time).
        proxlb_time: Option<String>,
    },
    /// The migration succeeded: explicitly at DEBUG (`… was successfully.`), or inferred at the
    /// end of the balancing loop (`inferred: true`).
    Succeeded {
        /// The guest's name.
        guest: String,
        /// The migration task's UPID, when the log named it (DEBUG).
        upid: Option<String>,
        /// The `hamigrate` request's UPID, for HA-managed guests (DEBUG).
        ha_upid: Option<String>,
        /// No success line: inferred from the loop ending without a failure line.
        inferred: bool,
        /// Transport time of the line that told.
        at_unix_ms: i64,
        /// ProxLB's own timestamp text.
        proxlb_time: Option<String>,
    },
    /// The migration failed: POST rejected, task error, HA rejection, or ProxLB gave up
    /// waiting (retry counter).
    Failed {
        /// The guest's name.
        guest: String,
        /// The task's UPID, if the failure line named it.
        upid: Option<String>,
        /// The `hamigrate` request's UPID, for HA-managed guests.
        ha_upid: Option<String>,
        /// ProxLB's message (plus the API's answer to a rejected POST, when logged at DEBUG).
        reason: String,
        /// Transport time of the failure line.
        at_unix_ms: i64,
        /// ProxLB's own timestamp text.
        proxlb_time: Option<String>,
    },
    /// A started migration's outcome cannot be known from the log: the run ended without a
    /// balancing-loop summary (crash, stop, 1.0 format).
    Unresolved {
        /// The guest's name.
        guest: String,
        /// The task's UPID, if the log named it.
        upid: Option<String>,
        /// Transport time of the line that ended the run.
        at_unix_ms: i64,
    },
    /// The balancing loop ended (`Finished: Balancing loop…` or `Some migrations did not
    /// complete…`).
    RunFinished {
        /// Whether ProxLB reported failures.
        some_failed: bool,
        /// Transport time of the line.
        at_unix_ms: i64,
    },
}

impl MigrationLogFact {
    /// The guest the fact is about (`None` for [`MigrationLogFact::RunFinished`]).
    pub fn guest(&self) -> Option<&str> {
        match self {
            MigrationLogFact::Started { guest, .. }
            | MigrationLogFact::Succeeded { guest, .. }
            | MigrationLogFact::Failed { guest, .. }
            | MigrationLogFact::Unresolved { guest, .. } => Some(guest),
            MigrationLogFact::RunFinished { .. } => None,
        }
    }

    /// Transport time of the fact.
    pub fn at_unix_ms(&self) -> i64 {
        match self {
            MigrationLogFact::Started { at_unix_ms, .. }
            | MigrationLogFact::Succeeded { at_unix_ms, .. }
            | MigrationLogFact::Failed { at_unix_ms, .. }
            | MigrationLogFact::Unresolved { at_unix_ms, .. }
            | MigrationLogFact::RunFinished { at_unix_ms, .. } => *at_unix_ms,
        }
    }
}

/// A migration started in this run whose outcome is not known yet.
#[derive(Clone, Debug)]
struct Open {
    guest: String,
    upid: Option<String>,
    ha_upid: Option<String>,
}

/// A rejected POST, held for one entry: at DEBUG the API's answer follows on the next line.
#[derive(Clone, Debug)]
struct HeldRejection {
    guest: String,
    reason: String,
    at_unix_ms: i64,
    proxlb_time: Option<String>,
}

/// Reads [`MigrationLogFact`]s from log entries, one entry at a time, in `seq` order.
#[derive(Clone, Debug, Default)]
pub struct MigrationTracker {
    open: Vec<Open>,
    held: Option<HeldRejection>,
}

impl MigrationTracker {
    /// A tracker with no migration open.
    pub fn new() -> MigrationTracker {
        MigrationTracker::default()
    }

    /// Guests whose migration started and has no outcome yet.
    pub fn open_guests(&self) -> impl Iterator<Item = &str> {
        self.open.iter().map(|o| o.guest.as_str())
    }

    /// Feeds one entry; returns the facts it completes.
    pub fn feed(&mut self, entry: &LogEntry) -> Vec<MigrationLogFact> {
        let mut out = Vec::new();
        let at = entry.at_unix_ms;
        let time = || entry.proxlb_time.clone();
        use LogEvent as E;
        // The DEBUG detail of a rejected POST refines the held failure; anything else
        // releases it as it is.
        if let Some(held) = self.held.take() {
            match &entry.event {
                E::MigrationRejectedDetail { guest, error, .. } if *guest == held.guest => {
                    let reason = format!("{} Proxmox answered: {error}", held.reason);
                    self.fail(
                        &mut out,
                        &held.guest,
                        None,
                        reason,
                        held.at_unix_ms,
                        held.proxlb_time,
                    );
                    return out;
                }
                _ => self.fail(
                    &mut out,
                    &held.guest,
                    None,
                    held.reason,
                    held.at_unix_ms,
                    held.proxlb_time,
                ),
            }
        }
        match &entry.event {
            E::MigrationStarted {
                kind,
                guest,
                source,
                target,
            }
            | E::LegacyMigration {
                kind,
                guest,
                source,
                target,
                ..
            } => {
                self.open.retain(|o| o.guest != *guest);
                self.open.push(Open {
                    guest: guest.clone(),
                    upid: None,
                    ha_upid: None,
                });
                out.push(MigrationLogFact::Started {
                    guest: guest.clone(),
                    kind: *kind,
                    source: source.clone(),
                    target: target.clone(),
                    at_unix_ms: at,
                    proxlb_time: time(),
                });
            }
            E::MigrationRejected { guest, .. } => {
                self.held = Some(HeldRejection {
                    guest: guest.clone(),
                    reason: "Proxmox rejected the migration request (resource locked or similar)."
                        .into(),
                    at_unix_ms: at,
                    proxlb_time: time(),
                });
            }
            E::JobStandard { upid, guest } | E::JobRunning { upid, guest, .. } => {
                self.note_upid(guest, upid);
            }
            E::HaPending { upid, guest } | E::HaAcceptedWaiting { upid, guest } => {
                if let Some(o) = self.open.iter_mut().find(|o| o.guest == *guest) {
                    o.ha_upid.get_or_insert_with(|| upid.clone());
                }
            }
            E::HaResolved {
                hamigrate,
                qmigrate,
                guest,
            } => {
                if let Some(o) = self.open.iter_mut().find(|o| o.guest == *guest) {
                    o.ha_upid = Some(hamigrate.clone());
                    o.upid = Some(qmigrate.clone());
                }
            }
            E::JobSucceeded { upid, guest } => {
                if let Some(o) = self.take_open(guest) {
                    out.push(MigrationLogFact::Succeeded {
                        guest: o.guest,
                        upid: Some(upid.clone()),
                        ha_upid: o.ha_upid,
                        inferred: false,
                        at_unix_ms: at,
                        proxlb_time: time(),
                    });
                }
            }
            E::JobFailed { upid, guest }
            | E::JobFailedForMigration { upid, guest }
            | E::JobTookTooLong { upid, guest } => {
                self.fail(
                    &mut out,
                    guest,
                    Some(upid),
                    entry.message.clone(),
                    at,
                    time(),
                );
            }
            E::JobRetryExceeded { upid, guest, .. } => {
                self.fail(
                    &mut out,
                    guest,
                    Some(upid),
                    entry.message.clone(),
                    at,
                    time(),
                );
            }
            E::HaRejected { upid, guest, .. } => {
                // The UPID here is the hamigrate request's, not a migration task's.
                let ha = upid.clone();
                if let Some(o) = self.open.iter_mut().find(|o| o.guest == *guest) {
                    o.ha_upid = Some(ha);
                }
                self.fail(&mut out, guest, None, entry.message.clone(), at, time());
            }
            E::BalancingFinished | E::SomeMigrationsFailed => {
                for o in std::mem::take(&mut self.open) {
                    out.push(MigrationLogFact::Succeeded {
                        guest: o.guest,
                        upid: o.upid,
                        ha_upid: o.ha_upid,
                        inferred: true,
                        at_unix_ms: at,
                        proxlb_time: time(),
                    });
                }
                out.push(MigrationLogFact::RunFinished {
                    some_failed: entry.event == E::SomeMigrationsFailed,
                    at_unix_ms: at,
                });
            }
            E::NextRun { .. }
            | E::LegacyNextRun { .. }
            | E::DaemonNotActive
            | E::TerminatedByUser
            | E::Traceback { .. }
            | E::ConfigPath { .. } => {
                // The run ended (or a new process began) without a loop summary.
                for o in std::mem::take(&mut self.open) {
                    out.push(MigrationLogFact::Unresolved {
                        guest: o.guest,
                        upid: o.upid,
                        at_unix_ms: at,
                    });
                }
            }
            _ => {}
        }
        out
    }

    fn note_upid(&mut self, guest: &str, upid: &str) {
        if let Some(o) = self.open.iter_mut().find(|o| o.guest == guest) {
            // The first UPID seen is the migration task; an HA job's qmigrate comes via
            // `Resolved hamigrate …` instead.
            if o.upid.is_none() && o.ha_upid.as_deref() != Some(upid) {
                o.upid = Some(upid.to_string());
            }
        }
    }

    fn take_open(&mut self, guest: &str) -> Option<Open> {
        let i = self.open.iter().position(|o| o.guest == guest)?;
        Some(self.open.remove(i))
    }

    /// Emits one failure per open migration (ProxLB logs a task error twice).
    fn fail(
        &mut self,
        out: &mut Vec<MigrationLogFact>,
        guest: &str,
        upid: Option<&String>,
        reason: String,
        at_unix_ms: i64,
        proxlb_time: Option<String>,
    ) {
        let Some(o) = self.take_open(guest) else {
            return;
        };
        out.push(MigrationLogFact::Failed {
            guest: o.guest,
            upid: upid.cloned().or(o.upid),
            ha_upid: o.ha_upid,
            reason,
            at_unix_ms,
            proxlb_time,
        });
    }
}

/// How a migration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationOutcome {
    /// Still in progress.
    Running,
    /// Done; the guest is on the target.
    Succeeded,
    /// Failed (see the record's `reason`).
    Failed,
    /// Not known (the log ended, no matching task).
    Unknown,
}

impl MigrationOutcome {
    /// Name in the API and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationOutcome::Running => "running",
            MigrationOutcome::Succeeded => "succeeded",
            MigrationOutcome::Failed => "failed",
            MigrationOutcome::Unknown => "unknown",
        }
    }

    /// Parses [`MigrationOutcome::as_str`] (ignoring case).
    pub fn parse(s: &str) -> Option<MigrationOutcome> {
        [Self::Running, Self::Succeeded, Self::Failed, Self::Unknown]
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Who started a migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    /// A ProxLB run (its log named the move, or the task's user is ProxLB's API user).
    #[serde(rename = "proxlb")]
    ProxLb,
    /// The Proxmox HA manager (a `hamigrate`-driven move ProxLB did not request).
    Ha,
    /// A person in Proxmox (the record's `initiator_user`).
    Person,
    /// Not known.
    Unknown,
}

impl Initiator {
    /// Name in the API and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::ProxLb => "proxlb",
            Initiator::Ha => "ha",
            Initiator::Person => "person",
            Initiator::Unknown => "unknown",
        }
    }

    /// Parses [`Initiator::as_str`] (ignoring case).
    pub fn parse(s: &str) -> Option<Initiator> {
        [Self::ProxLb, Self::Ha, Self::Person, Self::Unknown]
            .into_iter()
            .find(|i| i.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One migration in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationRecord {
    /// Row id in the store.
    pub id: i64,
    /// Guest name (from the log or the snapshot).
    pub guest: Option<String>,
    /// Guest vmid (from the task or the snapshot).
    pub vmid: Option<u32>,
    /// VM or CT.
    pub kind: GuestKind,
    /// Source node.
    pub source: Option<String>,
    /// Target node.
    pub target: Option<String>,
    /// Start (UTC Unix ms).
    pub started_unix_ms: i64,
    /// End (UTC Unix ms), once known.
    pub ended_unix_ms: Option<i64>,
    /// `ended - started`, once known.
    pub duration_ms: Option<i64>,
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Why it failed (or why the outcome is unknown).
    pub reason: Option<String>,
    /// Who started it.
    pub initiator: Initiator,
    /// The Proxmox user of the task (`root@pam`, `proxlb@pve!token`).
    pub initiator_user: Option<String>,
    /// The migration task's UPID (`qmigrate` / `vzmigrate`).
    pub upid: Option<String>,
    /// The HA request's UPID (`hamigrate`), for HA-managed guests.
    pub ha_upid: Option<String>,
}

/// Default page size of the migration history.
pub const DEFAULT_MIGRATION_LIMIT: u32 = 100;
/// Largest page size of the migration history.
pub const MAX_MIGRATION_LIMIT: u32 = 1_000;

/// A query over the migration history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MigrationFilter {
    /// Guest name (case-insensitive substring) or exact vmid.
    pub text: Option<String>,
    /// Source or target node (exact, case-insensitive).
    pub node: Option<String>,
    /// Only this outcome.
    pub outcome: Option<MigrationOutcome>,
    /// Only this initiator.
    pub initiator: Option<Initiator>,
    /// Only migrations started at or after this time (Unix ms).
    pub since_unix_ms: Option<i64>,
    /// Only records with `id < before_id` (paging back).
    pub before_id: Option<i64>,
    /// Page size; `None` means [`DEFAULT_MIGRATION_LIMIT`], capped at [`MAX_MIGRATION_LIMIT`].
    pub limit: Option<u32>,
}

impl MigrationFilter {
    /// Whether `record` passes every filter (`limit` is the caller's).
    pub fn matches(&self, record: &MigrationRecord) -> bool {
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let by_vmid = text
                .parse::<u32>()
                .ok()
                .is_some_and(|v| record.vmid == Some(v));
            let by_name = record
                .guest
                .as_deref()
                .is_some_and(|g| g.to_lowercase().contains(&text.to_lowercase()));
            if !by_vmid && !by_name {
                return false;
            }
        }
        if let Some(node) = self
            .node
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let on =
                |n: &Option<String>| n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(node));
            if !on(&record.source) && !on(&record.target) {
                return false;
            }
        }
        if self.outcome.is_some_and(|o| o != record.outcome) {
            return false;
        }
        if self.initiator.is_some_and(|i| i != record.initiator) {
            return false;
        }
        if self
            .since_unix_ms
            .is_some_and(|s| record.started_unix_ms < s)
        {
            return false;
        }
        if self.before_id.is_some_and(|b| record.id >= b) {
            return false;
        }
        true
    }

    /// The effective page size.
    pub fn effective_limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_MIGRATION_LIMIT)
            .clamp(1, MAX_MIGRATION_LIMIT) as usize
    }
}

/// One page of the migration history (`GET /api/migrations`), newest start first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationPage {
    /// The records of this page.
    pub records: Vec<MigrationRecord>,
    /// How many records match the filter in all.
    pub total: u64,
    /// Pass as [`MigrationFilter::before_id`] for the next, older page; `None` on the last.
    pub next_before_id: Option<i64>,
}

/// A Proxmox task ID: `UPID:{node}:{pid}:{pstart}:{starttime}:{type}:{id}:{user}:` with pid,
/// pstart and starttime in hex (`PVE::Tools::upid_decode` in pve-common's `PVE/Tools.pm`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Upid {
    /// Node that runs the task.
    pub node: String,
    /// Worker process id.
    pub pid: u32,
    /// Process start time (clock ticks since boot).
    pub pstart: u64,
    /// Task start (Unix seconds).
    pub starttime: i64,
    /// Task type (`qmigrate`, `vzmigrate`, `hamigrate`, …).
    pub kind: String,
    /// Task object id (the vmid for guest tasks; may be empty).
    pub id: String,
    /// User who started it (`root@pam`), without the token part.
    pub user: String,
    /// API token name, when a token started it (`root@pam!proxlb` → `proxlb`).
    pub token: Option<String>,
}

impl Upid {
    /// Parses a UPID; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Upid> {
        let rest = text.trim().strip_prefix("UPID:")?;
        let rest = rest.strip_suffix(':').unwrap_or(rest);
        let mut parts = rest.split(':');
        let node = parts.next().filter(|n| !n.is_empty())?;
        let pid = u32::from_str_radix(hex_field(parts.next()?)?, 16).ok()?;
        let pstart = u64::from_str_radix(hex_field(parts.next()?)?, 16).ok()?;
        let starttime = i64::from_str_radix(hex_field(parts.next()?)?, 16).ok()?;
        let kind = parts.next().filter(|k| !k.is_empty())?;
        let id = parts.next()?;
        let user_token = parts.next().filter(|u| !u.is_empty())?;
        if parts.next().is_some() {
            return None;
        }
        let (user, token) = match user_token.split_once('!') {
            Some((u, t)) => (u, Some(t.to_string())),
            None => (user_token, None),
        };
        Some(Upid {
            node: node.to_string(),
            pid,
            pstart,
            starttime,
            kind: kind.to_string(),
            id: id.to_string(),
            user: user.to_string(),
            token,
        })
    }

    /// The vmid, for guest tasks.
    pub fn vmid(&self) -> Option<u32> {
        self.id.parse().ok()
    }

    /// Task start in Unix milliseconds.
    pub fn started_unix_ms(&self) -> i64 {
        self.starttime.saturating_mul(1000)
    }

    /// The guest kind of a migration task (`qmigrate` → VM, `vzmigrate` → CT).
    pub fn migration_kind(&self) -> Option<GuestKind> {
        match self.kind.as_str() {
            "qmigrate" => Some(GuestKind::Vm),
            "vzmigrate" => Some(GuestKind::Ct),
            _ => None,
        }
    }

    /// `user@realm!token`, or `user@realm` without a token: the task's user as PVE lists it.
    pub fn full_user(&self) -> String {
        match &self.token {
            Some(t) => format!("{}!{t}", self.user),
            None => self.user.clone(),
        }
    }
}

/// A hex field of a UPID: non-empty, hex digits only (no sign).
fn hex_field(s: &str) -> Option<&str> {
    (!s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{parse_message, LogStream};
    use proptest::prelude::*;

    fn e(at: i64, message: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            at_unix_ms: at,
            stream: LogStream::Stdout,
            level: None,
            proxlb_time: Some(format!("2026-11-22 17:49:{:02},000", at % 60)),
            message: message.into(),
            event: parse_message(message),
            raw: message.into(),
        }
    }

    fn feed_all(t: &mut MigrationTracker, entries: &[LogEntry]) -> Vec<MigrationLogFact> {
        entries.iter().flat_map(|x| t.feed(x)).collect()
    }

    const Q: &str = "UPID:n1:0000A1B2:00C0FFEE:6740A1B2:qmigrate:101:root@pam:";
    const H: &str = "UPID:n1:0000A1B3:00C0FFEE:6740A1B0:hamigrate:101:root@pam:";

    #[test]
    fn at_info_level_success_is_inferred_at_the_end_of_the_loop() {
        let mut t = MigrationTracker::new();
        let facts = feed_all(
            &mut t,
            &[
                e(1, "Balancing: Starting to migrate VM guest web01 from node1 to node2."),
                e(2, "Balancing: Starting to migrate CT guest ct01 from node1 to node3."),
                e(2, "Balancing: Failed to migrate guest ct01 of type CT due to some Proxmox errors. Please check if resource is locked or similar."),
                e(9, "Finished: Balancing loop for guests. All guests processed and migrations completed."),
            ],
        );
        assert_eq!(facts.len(), 5, "{facts:#?}");
        assert!(
            matches!(&facts[0], MigrationLogFact::Started { guest, kind: GuestKind::Vm, source, target, at_unix_ms: 1, proxlb_time: Some(_) }
            if guest == "web01" && source == "node1" && target == "node2")
        );
        assert!(
            matches!(&facts[1], MigrationLogFact::Started { guest, kind: GuestKind::Ct, .. } if guest == "ct01")
        );
        // The rejection is released by the next entry (no DEBUG detail followed).
        assert!(
            matches!(&facts[2], MigrationLogFact::Failed { guest, upid: None, at_unix_ms: 2, reason, .. }
            if guest == "ct01" && reason.contains("rejected"))
        );
        assert_eq!(
            facts[3],
            MigrationLogFact::Succeeded {
                guest: "web01".into(),
                upid: None,
                ha_upid: None,
                inferred: true,
                at_unix_ms: 9,
                proxlb_time: Some("2026-11-22 17:49:09,000".into())
            }
        );
        assert_eq!(
            facts[4],
            MigrationLogFact::RunFinished {
                some_failed: false,
                at_unix_ms: 9
            }
        );
        assert_eq!(t.open_guests().count(), 0);
    }

    #[test]
    fn at_debug_level_success_and_the_api_answer_are_explicit() {
        let mut t = MigrationTracker::new();
        let facts = feed_all(
            &mut t,
            &[
                e(1, "Balancing: Starting to migrate VM guest web01 from node1 to node2."),
                e(1, "Balancing: Starting to migrate VM guest web02 from node1 to node2."),
                e(1, "Balancing: Failed to migrate guest web02 of type VM due to some Proxmox errors. Please check if resource is locked or similar."),
                e(1, "Balancing: Failed to migrate guest web02 of type VM due to some Proxmox errors: 500 Internal Server Error: VM is locked (backup)"),
                e(2, &format!("Balancing: Job ID {Q} (guest: web01) is a standard migration job. Proceeding with status check.")),
                e(3, &format!("Balancing: Job ID {Q} (guest: web01) for migration is still running...")),
                e(4, &format!("Balancing: Job ID {Q} (guest: web01) was successfully.")),
                e(5, "Finished: Balancing loop for guests. All guests processed and migrations completed."),
            ],
        );
        let failed = facts
            .iter()
            .find(|f| matches!(f, MigrationLogFact::Failed { .. }))
            .expect("failed");
        assert!(
            matches!(failed, MigrationLogFact::Failed { guest, reason, .. }
            if guest == "web02" && reason.ends_with("Proxmox answered: 500 Internal Server Error: VM is locked (backup)"))
        );
        assert!(facts.iter().any(|f| matches!(f, MigrationLogFact::Succeeded { guest, upid: Some(u), inferred: false, at_unix_ms: 4, .. }
            if guest == "web01" && u == Q)));
        assert_eq!(
            facts
                .iter()
                .filter(|f| matches!(f, MigrationLogFact::Succeeded { .. }))
                .count(),
            1
        );
    }

    #[test]
    fn a_task_error_logged_twice_is_one_failure() {
        let mut t = MigrationTracker::new();
        let facts = feed_all(
            &mut t,
            &[
                e(1, "Balancing: Starting to migrate VM guest web01 from node1 to node2."),
                e(2, &format!("Balancing: Job ID {Q} (guest: web01) went into an error! Please check manually.")),
                e(2, &format!("Balancing: Job ID {Q} (guest: web01) for migration went into an error! Please check manually.")),
                e(3, "Balancing: Some migrations did not complete successfully. Please check the logs and Proxmox cluster manually."),
            ],
        );
        assert_eq!(facts.len(), 3);
        assert!(matches!(&facts[1], MigrationLogFact::Failed { upid: Some(u), .. } if u == Q));
        assert_eq!(
            facts[2],
            MigrationLogFact::RunFinished {
                some_failed: true,
                at_unix_ms: 3
            }
        );
    }

    #[test]
    fn ha_jobs_carry_both_task_ids() {
        let mut t = MigrationTracker::new();
        let facts = feed_all(
            &mut t,
            &[
                e(1, "Balancing: Starting to migrate VM guest db01 from node1 to node2."),
                e(2, &format!("Balancing: HA migration request {H} (guest: db01) is still being processed by the HA manager...")),
                e(3, &format!("Balancing: Resolved hamigrate {H} to qmigrate {Q} for guest db01.")),
                e(4, &format!("Balancing: Job ID {Q} (guest: db01) was successfully.")),
                e(5, "Balancing: Starting to migrate VM guest db02 from node1 to node2."),
                e(6, &format!("Balancing: HA migration request {H} (guest: db02) was rejected by the HA manager: 'no'. Please check manually.")),
            ],
        );
        assert!(facts.iter().any(|f| matches!(f, MigrationLogFact::Succeeded { guest, upid: Some(u), ha_upid: Some(h), .. }
            if guest == "db01" && u == Q && h == H)));
        assert!(facts.iter().any(
            |f| matches!(f, MigrationLogFact::Failed { guest, upid: None, ha_upid: Some(h), .. }
            if guest == "db02" && h == H)
        ));
    }

    #[test]
    fn a_run_that_ends_without_a_summary_leaves_outcomes_unresolved() {
        let mut t = MigrationTracker::new();
        let mut crash = e(3, "Traceback (most recent call last):");
        crash.event = LogEvent::Traceback {
            exception: "X".into(),
            detail: String::new(),
        };
        let facts = feed_all(
            &mut t,
            &[
                e(1, "Balancing: Starting to migrate VM guest web01 from node1 to node2."),
                e(2, &format!("Balancing: Job ID {Q} (guest: web01) for migration is still running. Retry counter: 3 exceeded.")),
                e(2, "Balancing: Starting to migrate VM guest web03 from node1 to node2."),
                crash,
            ],
        );
        assert!(
            matches!(&facts[1], MigrationLogFact::Failed { guest, upid: Some(_), reason, .. } if guest == "web01" && reason.contains("Retry counter: 3"))
        );
        assert_eq!(
            facts.last().and_then(MigrationLogFact::guest),
            Some("web03")
        );
        assert!(matches!(
            facts.last(),
            Some(MigrationLogFact::Unresolved { at_unix_ms: 3, .. })
        ));
        // Facts about guests with no started migration are ignored.
        assert!(t
            .feed(&e(
                4,
                &format!("Balancing: Job ID {Q} (guest: ghost) was successfully.")
            ))
            .is_empty());
    }

    #[test]
    fn upid_parses_the_documented_layout() {
        let u = Upid::parse(Q).expect("upid");
        assert_eq!(u.node, "n1");
        assert_eq!(u.pid, 0xA1B2);
        assert_eq!(u.pstart, 0x00C0_FFEE);
        assert_eq!(u.starttime, 0x6740_A1B2);
        assert_eq!(u.started_unix_ms(), 0x6740_A1B2 * 1000);
        assert_eq!(u.kind, "qmigrate");
        assert_eq!(u.vmid(), Some(101));
        assert_eq!(u.migration_kind(), Some(GuestKind::Vm));
        assert_eq!((u.user.as_str(), u.token.as_deref()), ("root@pam", None));

        let t = Upid::parse("UPID:pve-2:000F4240:0ABCDEF0:6740a1b2:vzmigrate:200:proxlb@pve!lb:")
            .expect("token");
        assert_eq!(
            (t.user.as_str(), t.token.as_deref()),
            ("proxlb@pve", Some("lb"))
        );
        assert_eq!(t.full_user(), "proxlb@pve!lb");
        assert_eq!(t.migration_kind(), Some(GuestKind::Ct));

        let empty_id =
            Upid::parse("UPID:n1:00000001:00000002:00000003:aptupdate::root@pam:").expect("no id");
        assert_eq!(empty_id.vmid(), None);

        for bad in [
            "",
            "UPID:",
            "PID:n1:1:2:3:qmigrate:101:root@pam:",
            "UPID::1:2:3:qmigrate:101:root@pam:",
            "UPID:n1:XYZ:2:3:qmigrate:101:root@pam:",
            "UPID:n1:-1:2:3:qmigrate:101:root@pam:",
            "UPID:n1:1:2:3:qmigrate:101::",
            "UPID:n1:1:2:3:qmigrate:101:root@pam:extra:",
            "UPID:n1:1:2:3",
        ] {
            assert_eq!(Upid::parse(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn upid_round_trips(node in "[a-z][a-z0-9-]{0,10}", pid: u32, pstart: u32, start: u32,
                            kind in "[a-z]{1,10}", id in "[0-9]{0,6}", user in "[a-z]{1,8}@(pam|pve)",
                            token in proptest::option::of("[a-z0-9]{1,6}")) {
            let full = match &token { Some(t) => format!("{user}!{t}"), None => user.clone() };
            let text = format!("UPID:{node}:{pid:08X}:{pstart:08X}:{start:08X}:{kind}:{id}:{full}:");
            let u = Upid::parse(&text).expect("parses");
            prop_assert_eq!(u, Upid { node, pid, pstart: u64::from(pstart), starttime: i64::from(start), kind, id, user, token });
        }

        #[test]
        fn upid_parse_never_panics(text in "(?s).{0,80}") {
            let _ = Upid::parse(&text);
        }
    }

    fn record() -> MigrationRecord {
        MigrationRecord {
            id: 7,
            guest: Some("Web01".into()),
            vmid: Some(101),
            kind: GuestKind::Vm,
            source: Some("node1".into()),
            target: Some("node2".into()),
            started_unix_ms: 1_000,
            ended_unix_ms: Some(5_000),
            duration_ms: Some(4_000),
            outcome: MigrationOutcome::Succeeded,
            reason: None,
            initiator: Initiator::ProxLb,
            initiator_user: Some("root@pam".into()),
            upid: Some(Q.into()),
            ha_upid: None,
        }
    }

    #[test]
    fn migration_filter() {
        let r = record();
        let f = |f: MigrationFilter| f.matches(&r);
        assert!(f(MigrationFilter::default()));
        assert!(f(MigrationFilter {
            text: Some("web".into()),
            ..Default::default()
        }));
        assert!(f(MigrationFilter {
            text: Some("101".into()),
            ..Default::default()
        }));
        assert!(!f(MigrationFilter {
            text: Some("db".into()),
            ..Default::default()
        }));
        assert!(f(MigrationFilter {
            node: Some("NODE2".into()),
            ..Default::default()
        }));
        assert!(!f(MigrationFilter {
            node: Some("node3".into()),
            ..Default::default()
        }));
        assert!(f(MigrationFilter {
            outcome: Some(MigrationOutcome::Succeeded),
            ..Default::default()
        }));
        assert!(!f(MigrationFilter {
            outcome: Some(MigrationOutcome::Failed),
            ..Default::default()
        }));
        assert!(!f(MigrationFilter {
            initiator: Some(Initiator::Ha),
            ..Default::default()
        }));
        assert!(f(MigrationFilter {
            since_unix_ms: Some(1_000),
            ..Default::default()
        }));
        assert!(!f(MigrationFilter {
            since_unix_ms: Some(1_001),
            ..Default::default()
        }));
        assert!(f(MigrationFilter {
            before_id: Some(8),
            ..Default::default()
        }));
        assert!(!f(MigrationFilter {
            before_id: Some(7),
            ..Default::default()
        }));
        assert_eq!(
            MigrationFilter {
                limit: Some(0),
                ..Default::default()
            }
            .effective_limit(),
            1
        );
        assert_eq!(
            MigrationOutcome::parse("FAILED"),
            Some(MigrationOutcome::Failed)
        );
        assert_eq!(Initiator::parse("proxlb"), Some(Initiator::ProxLb));
        assert_eq!(Initiator::parse("robot"), None);
    }
}
