//! How the migration history is put together from two sources that each see part of a move.
//!
//! **ProxLB's log** says *which guest* moved, from where to where, and that ProxLB did it, but at
//! the default INFO level it names the guest (not its vmid), carries no task id (UPID), and says
//! "succeeded" only by silence: no failure line before `Finished: Balancing loop…`
//! (`proxlb/models/balancing.py:144` in ProxLB 2.3.0). **Proxmox's task list**
//! (`GET /cluster/tasks`, kept by the snapshot poller) says *that a guest moved*: the task's UPID,
//! vmid, source node, user, start, end and exit status, but not the target node nor why.
//!
//! Every fact from either source is applied to the `migrations` table in its own transaction by
//! [`apply_log`] or [`apply_task`]; both are idempotent, so re-reading the log tail after a
//! restart, or seeing the same task in every poll, changes nothing. The rules:
//!
//! 1. **One row per move.** A task is recorded once (`upid` and `ha_upid` are unique); a ProxLB
//!    start line is recorded once (`log_key`: a hash of guest, source, target and ProxLB's own
//!    timestamp text, or the transport time when the line has none).
//! 2. **Start line → row.** The guest name is resolved to a vmid through the current snapshot;
//!    ProxLB assumes unique names, so two guests of that name leave the vmid empty and the row
//!    says so in its note (a matching task fills it in later). If a row made from a task
//!    already exists for the same vmid (or, without one, the same guest name), whose task
//!    started between [`TASK_BEFORE_LOG_MS`] before and [`TASK_AFTER_LOG_MS`] after the
//!    line's transport time, from the same source node, by ProxLB's API user (the configured
//!    `proxmox_api.user`, plus `!token_id` with a token), the line joins that row and its
//!    initiator becomes ProxLB. Otherwise a new row starts, `running`, initiated by ProxLB.
//! 3. **Task → row.** A task already recorded only has its end and status updated. Otherwise:
//!    - a `hamigrate` (an HA request) joins ProxLB's start line by the window of rule 2 (as
//!      `ha_upid`); failing that, a `qmigrate` by the HA stack recorded before it (the HA
//!      stack's move may be polled first); failing that, it starts a row of its own;
//!    - a `qmigrate`/`vzmigrate` by `root@pam` first joins an open HA request of the same vmid
//!      made at most [`HA_DELAY_MS`] before it: that is the HA stack carrying it out. Otherwise
//!      it joins ProxLB's start line by the window of rule 2, or starts a row of its own;
//!    - a row of its own is initiated by **HA** when the task is `root@pam`'s on an HA-managed
//!      guest, by **ProxLB** when its user is ProxLB's API token (nobody else holds it), and
//!      otherwise by a **person**: the task's user. (With a password login, ProxLB's user is a
//!      person's too, so only its log line makes a task ProxLB's.)
//! 4. **Outcome.** A finished task decides (`OK` or `WARNINGS: n` succeeded, anything else is
//!    the failure reason), and its times replace the log's: the start becomes the task's (the
//!    HA request's, for HA moves), the end the task's end. Before that, ProxLB's failure lines
//!    (POST rejected, job error, HA rejection, retry limit) and its DEBUG success line decide,
//!    ending the move at the line's time; failing those, the end-of-run line marks every move
//!    of the run still open as succeeded, inferred, ended then. An HA request's own `OK` only
//!    means "accepted": the HA stack's task decides. Evidence ranks task > log > inference;
//!    weaker evidence never overwrites stronger.
//! 5. **Target.** A task does not name its target: for a move seen only in the task list, the
//!    target is the guest's node in the snapshot once the task succeeded.
//! 6. **Lost track.** A move with no task and no end line after [`STALE_AFTER_MS`] (ProxLB
//!    crashed mid-run, the log was lost) becomes `unknown` ([`sweep`]).

use std::collections::HashMap;

use plb_domain::proxlb::cluster::GuestKind;
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

use super::rows::{self, Evidence, Initiator, Outcome, Row};
use crate::pve_wire::dto::{ClusterResource, ResourceType, TaskEntry};

/// A task may start this long before ProxLB's start line (clocks of Proxmox and ProxLB Web
/// differ; transports add delay).
pub const TASK_BEFORE_LOG_MS: i64 = 30_000;
/// … and this long after it (ProxLB sleeps between requests; a busy node forks late).
pub const TASK_AFTER_LOG_MS: i64 = 120_000;
/// The HA stack carries out a request within this time (its manager loop runs every 10 s;
/// a busy cluster queues).
pub const HA_DELAY_MS: i64 = 10 * 60_000;
/// Clock slack between an HA request and the HA stack's task.
pub const HA_EARLY_MS: i64 = 5_000;
/// A result or end-of-run line refers to a start at most this long before it (ProxLB's
/// default `max_job_validation` waits about 2.5 h per job).
pub const RESULT_LOOKBACK_MS: i64 = 12 * 60 * 60_000;
/// A move with neither task nor end line for this long is `unknown`.
pub const STALE_AFTER_MS: i64 = 6 * 60 * 60_000;
/// The user the HA stack runs its migrations as.
pub const HA_USER: &str = "root@pam";

/// What ProxLB's log says about migrations, with the line's transport time (Unix ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFact {
    /// `Balancing: Starting to migrate {VM|CT} guest {guest} from {source} to {target}.`
    Started {
        /// Guest name.
        guest: String,
        /// VM or CT.
        kind: GuestKind,
        /// Node it leaves.
        source: String,
        /// Node it goes to.
        target: String,
        /// Transport time.
        at_ms: i64,
        /// ProxLB's own timestamp text of the line, if it had one (stable across re-reads).
        stamp: Option<String>,
    },
    /// The move succeeded: explicitly (DEBUG `…(guest: {guest}) was successfully.`) or, with
    /// `inferred`, because the balancing loop ended without a failure line for it.
    Succeeded {
        /// Guest name.
        guest: String,
        /// The task, when the log named it (DEBUG).
        upid: Option<String>,
        /// The HA request, when the log named it (DEBUG).
        ha_upid: Option<String>,
        /// Inferred from the end of the loop, not said.
        inferred: bool,
        /// Transport time.
        at_ms: i64,
    },
    /// The move failed (POST rejected, job error, HA rejection, retry limit).
    Failed {
        /// Guest name.
        guest: String,
        /// The task, when the line names it.
        upid: Option<String>,
        /// The HA request, when the log named it.
        ha_upid: Option<String>,
        /// What ProxLB said.
        reason: String,
        /// Transport time.
        at_ms: i64,
    },
    /// ProxLB's run ended without a loop summary (crash, stop): the log will not tell.
    Unresolved {
        /// Guest name.
        guest: String,
        /// The task, when the log named it.
        upid: Option<String>,
        /// Transport time.
        at_ms: i64,
    },
    /// `Finished: Balancing loop…`: every migration of the run is done.
    RunFinished {
        /// Transport time.
        at_ms: i64,
    },
}

/// Which kind of migration task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// A VM move.
    Qmigrate,
    /// A container move.
    Vzmigrate,
    /// An HA request (`ha-manager migrate`), carried out by a later `root@pam` task.
    Hamigrate,
}

impl TaskKind {
    /// From a UPID's or task entry's type.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "qmigrate" => Some(TaskKind::Qmigrate),
            "vzmigrate" => Some(TaskKind::Vzmigrate),
            "hamigrate" => Some(TaskKind::Hamigrate),
            _ => None,
        }
    }
}

/// One migration task from the task list, in the form the rules use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskFact {
    /// The UPID.
    pub upid: String,
    /// The node that ran it (the source, for ProxLB's and the HA stack's moves).
    pub node: String,
    /// Which kind.
    pub kind: TaskKind,
    /// The guest.
    pub vmid: u32,
    /// `user@realm`, or `user@realm!token` when started with an API token.
    pub user: String,
    /// Start (Unix ms).
    pub start_ms: i64,
    /// End (Unix ms), once ended.
    pub end_ms: Option<i64>,
    /// Exit status once ended: `OK`, `WARNINGS: n` or the error.
    pub status: Option<String>,
}

impl TaskFact {
    /// The migration task described by `entry`, or `None` for other tasks and entries missing
    /// what the rules need (vmid, start, node). Fields absent from the entry come from its UPID
    /// (`UPID:node:pid:pstart:starttime:type:id:user:`).
    pub fn from_entry(entry: &TaskEntry) -> Option<Self> {
        let parts: Vec<&str> = entry.upid.split(':').collect();
        let field = |i: usize| parts.get(i).copied().filter(|s| !s.is_empty());
        let kind = TaskKind::parse(&entry.kind).or_else(|| field(5).and_then(TaskKind::parse))?;
        let vmid = entry
            .id
            .as_deref()
            .or(field(6))
            .and_then(|id| id.parse::<u32>().ok())?;
        let node = entry.node.clone().or(field(1).map(str::to_owned))?;
        let start = entry
            .starttime
            .or_else(|| field(4).and_then(|hex| i64::from_str_radix(hex, 16).ok()))?;
        let user = match (&entry.user, &entry.tokenid) {
            (Some(user), Some(token)) if !user.contains('!') => format!("{user}!{token}"),
            (Some(user), _) => user.clone(),
            (None, _) => field(7)?.to_owned(),
        };
        let (end_ms, status) = match (entry.endtime, entry.status.as_deref()) {
            (_, Some("running")) | (None, None) => (None, None),
            (end, status) => (
                Some(end.unwrap_or(start).saturating_mul(1_000)),
                status.map(str::to_owned),
            ),
        };
        Some(Self {
            upid: entry.upid.clone(),
            node,
            kind,
            vmid,
            user,
            start_ms: start.saturating_mul(1_000),
            end_ms,
            status,
        })
    }

    /// Whether the task ended well (`OK` or `WARNINGS: n`); `None` while running.
    pub fn succeeded(&self) -> Option<bool> {
        self.end_ms?;
        Some(
            self.status
                .as_deref()
                .is_some_and(|s| s == "OK" || s.starts_with("WARNINGS")),
        )
    }
}

/// What the snapshot says about one guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestInfo {
    /// Name.
    pub name: String,
    /// Current node.
    pub node: Option<String>,
    /// VM or CT.
    pub kind: GuestKind,
    /// Managed by Proxmox HA.
    pub ha_managed: bool,
}

/// The snapshot's guests by vmid and by name.
#[derive(Clone, Debug, Default)]
pub struct Guests {
    by_vmid: HashMap<u32, GuestInfo>,
    by_name: HashMap<String, Vec<u32>>,
}

/// What a guest name resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Exactly one guest has that name.
    One(u32),
    /// This many guests have it.
    Ambiguous(usize),
    /// None has it.
    Missing,
}

impl Guests {
    /// From `/cluster/resources` (guest entries only are used).
    pub fn from_resources(resources: &[ClusterResource]) -> Self {
        let mut guests = Self::default();
        for resource in resources.iter().filter(|r| r.is_guest()) {
            let Some(vmid) = resource.vmid else { continue };
            let kind = if resource.kind == ResourceType::Lxc {
                GuestKind::Ct
            } else {
                GuestKind::Vm
            };
            let name = resource.name.clone().unwrap_or_default();
            guests.insert(
                vmid,
                GuestInfo {
                    name,
                    node: resource.node.clone(),
                    kind,
                    ha_managed: resource.hastate.is_some(),
                },
            );
        }
        guests
    }

    /// Adds one guest.
    pub fn insert(&mut self, vmid: u32, info: GuestInfo) {
        if !info.name.is_empty() {
            self.by_name
                .entry(info.name.clone())
                .or_default()
                .push(vmid);
        }
        self.by_vmid.insert(vmid, info);
    }

    /// The guest with this vmid.
    pub fn get(&self, vmid: u32) -> Option<&GuestInfo> {
        self.by_vmid.get(&vmid)
    }

    /// The vmid of the guest named `name`.
    pub fn resolve(&self, name: &str) -> Resolved {
        match self.by_name.get(name).map(Vec::as_slice) {
            Some([vmid]) => Resolved::One(*vmid),
            Some(many) if many.len() > 1 => Resolved::Ambiguous(many.len()),
            _ => Resolved::Missing,
        }
    }
}

/// The Proxmox identity ProxLB's configuration logs in with (`proxmox_api.user` and
/// `token_id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiIdentity {
    /// `user@realm`.
    pub user: String,
    /// Token name, when ProxLB uses an API token.
    pub token: Option<String>,
}

impl ApiIdentity {
    /// The user as a task records it: `user@realm` or `user@realm!token`.
    pub fn task_user(&self) -> String {
        match &self.token {
            Some(token) => format!("{}!{token}", self.user),
            None => self.user.clone(),
        }
    }

    /// Whether a task by `user` was started with this identity.
    pub fn started(&self, user: &str) -> bool {
        user == self.task_user()
    }
}

/// What the rules know beyond the fact itself.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The current snapshot's guests.
    pub guests: &'a Guests,
    /// ProxLB's API identity, when its configuration could be read.
    pub proxlb: Option<&'a ApiIdentity>,
    /// Now (Unix ms), for `updated_ms`.
    pub now_ms: i64,
}

impl Context<'_> {
    /// Whether a task by `user` may be ProxLB's (always, when ProxLB's identity is unknown).
    fn may_be_proxlb(&self, user: Option<&str>) -> bool {
        match (self.proxlb, user) {
            (Some(identity), Some(user)) => identity.started(user),
            _ => true,
        }
    }

    /// Who started a task that no ProxLB line explains.
    fn initiator_of(&self, task: &TaskFact) -> Initiator {
        let ha_managed = self.guests.get(task.vmid).is_some_and(|g| g.ha_managed);
        if task.kind != TaskKind::Hamigrate && task.user == HA_USER && ha_managed {
            Initiator::Ha
        } else if self
            .proxlb
            .is_some_and(|id| id.token.is_some() && id.started(&task.user))
        {
            Initiator::Proxlb
        } else {
            Initiator::Person
        }
    }
}

/// The stable key of a start line: the same line read again gives the same key.
pub fn log_key(guest: &str, source: &str, target: &str, stamp: Option<&str>, at_ms: i64) -> String {
    let mut hash = Sha256::new();
    for part in [guest, source, target] {
        hash.update(part.as_bytes());
        hash.update([0x1f]);
    }
    match stamp {
        Some(stamp) => hash.update(stamp.as_bytes()),
        None => hash.update(at_ms.to_string().as_bytes()),
    }
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies one log fact. Returns whether the history changed.
pub fn apply_log(conn: &Connection, ctx: &Context<'_>, fact: &LogFact) -> rusqlite::Result<bool> {
    match fact {
        LogFact::Started {
            guest,
            kind,
            source,
            target,
            at_ms,
            stamp,
        } => {
            let key = log_key(guest, source, target, stamp.as_deref(), *at_ms);
            started(conn, ctx, guest, *kind, source, target, *at_ms, key)
        }
        LogFact::Succeeded {
            guest,
            upid,
            ha_upid,
            inferred,
            at_ms,
        } => {
            let evidence = if *inferred {
                Evidence::Inferred
            } else {
                Evidence::Log
            };
            let links = [upid.as_deref(), ha_upid.as_deref()];
            let outcome = (Outcome::Succeeded, evidence, None);
            result(conn, ctx, guest, links, outcome, *at_ms)
        }
        LogFact::Failed {
            guest,
            upid,
            ha_upid,
            reason,
            at_ms,
        } => {
            let links = [upid.as_deref(), ha_upid.as_deref()];
            let outcome = (Outcome::Failed, Evidence::Log, Some(reason.clone()));
            result(conn, ctx, guest, links, outcome, *at_ms)
        }
        LogFact::Unresolved { guest, upid, at_ms } => {
            let why = "ProxLB's run ended before it reported this move (stopped or crashed)";
            let outcome = (Outcome::Unknown, Evidence::Log, Some(why.to_owned()));
            result(conn, ctx, guest, [upid.as_deref(), None], outcome, *at_ms)
        }
        LogFact::RunFinished { at_ms } => run_finished(conn, ctx, *at_ms),
    }
}

fn kind_name(kind: GuestKind) -> String {
    match kind {
        GuestKind::Vm => "vm".to_owned(),
        GuestKind::Ct => "ct".to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
fn started(
    conn: &Connection,
    ctx: &Context<'_>,
    guest: &str,
    kind: GuestKind,
    source: &str,
    target: &str,
    at_ms: i64,
    key: String,
) -> rusqlite::Result<bool> {
    if rows::by_log_key(conn, &key)?.is_some() {
        return Ok(false);
    }
    let (vmid, note) = match ctx.guests.resolve(guest) {
        Resolved::One(vmid) => (Some(vmid), None),
        Resolved::Ambiguous(n) => (
            None,
            Some(format!(
                "{n} guests are named {guest:?}; ProxLB assumes unique names, so the vmid is \
                 known only from a matching task"
            )),
        ),
        Resolved::Missing => (
            None,
            Some(format!(
                "no guest named {guest:?} in the cluster when the line was read"
            )),
        ),
    };
    // A row made from the task before this line was read (rule 2).
    let candidates = rows::select(
        conn,
        "log_key IS NULL AND initiator != 'ha' AND (upid IS NOT NULL OR ha_upid IS NOT NULL)
         AND started_ms BETWEEN ?1 AND ?2
         AND (vmid = ?3 OR (?3 IS NULL AND guest = ?4))",
        params![
            at_ms - TASK_BEFORE_LOG_MS,
            at_ms + TASK_AFTER_LOG_MS,
            vmid,
            guest
        ],
    )?;
    let joined = candidates
        .into_iter()
        .filter(|row| ctx.may_be_proxlb(row.initiator_user.as_deref()))
        .filter(|row| row.source.as_deref().is_none_or(|s| s == source))
        .min_by_key(|row| (row.started_ms - at_ms).abs());
    let mut row = match joined {
        Some(row) => row,
        None => {
            let mut row = Row::new(at_ms, Initiator::Proxlb);
            row.initiator_user = ctx.proxlb.map(ApiIdentity::task_user);
            row.vmid = vmid;
            row
        }
    };
    row.initiator = Initiator::Proxlb;
    row.log_key = Some(key);
    row.guest = Some(guest.to_owned());
    row.kind = Some(kind_name(kind));
    row.source = Some(source.to_owned());
    row.target = Some(target.to_owned());
    row.note = if row.vmid.is_some() { None } else { note };
    Ok(rows::save(conn, &row, ctx.now_ms)?.1)
}

/// A result line: `links` are the task and HA request it names, `outcome` what it says.
fn result(
    conn: &Connection,
    ctx: &Context<'_>,
    guest: &str,
    links: [Option<&str>; 2],
    (outcome, evidence, reason): (Outcome, Evidence, Option<String>),
    at_ms: i64,
) -> rusqlite::Result<bool> {
    let mut by_upid = None;
    for link in links.into_iter().flatten() {
        if by_upid.is_none() {
            by_upid = rows::by_upid(conn, link)?;
        }
    }
    // The newest start line of this guest before the result line.
    let by_guest = rows::select(
        conn,
        "guest = ?1 AND log_key IS NOT NULL AND started_ms BETWEEN ?2 AND ?3",
        params![
            guest,
            at_ms - RESULT_LOOKBACK_MS,
            at_ms + TASK_BEFORE_LOG_MS
        ],
    )?
    .into_iter()
    .next();
    let mut changed = false;
    let mut row = match (by_upid, by_guest) {
        (Some(task_row), Some(log_row)) if task_row.id != log_row.id => {
            if task_row.log_key.is_none() && log_row.upid.is_none() {
                // Rule 1: the task's row and the start line's row are one move.
                changed = true;
                absorb(conn, log_row, task_row)?
            } else {
                // The UPID is the stronger link.
                task_row
            }
        }
        (Some(row), _) | (None, Some(row)) => row,
        (None, None) => {
            tracing::debug!(guest, "a migration result line without its start line");
            return Ok(false);
        }
    };
    for link in links.into_iter().flatten() {
        let is_request = link.split(':').nth(5) == Some("hamigrate");
        let free = match rows::by_upid(conn, link)? {
            Some(other) => other.id == row.id,
            None => true,
        };
        let slot = if is_request {
            &mut row.ha_upid
        } else {
            &mut row.upid
        };
        if slot.is_none() && free {
            *slot = Some(link.to_owned());
        }
    }
    let ends = outcome != Outcome::Unknown;
    if row.settle(outcome, evidence, reason) && ends && row.ended_ms.is_none() {
        row.end_at(at_ms);
    }
    Ok(rows::save(conn, &row, ctx.now_ms)?.1 || changed)
}

fn run_finished(conn: &Connection, ctx: &Context<'_>, at_ms: i64) -> rusqlite::Result<bool> {
    let open = rows::select(
        conn,
        "log_key IS NOT NULL AND outcome = 'running' AND evidence IS NULL
         AND started_ms BETWEEN ?1 AND ?2",
        params![at_ms - RESULT_LOOKBACK_MS, at_ms + TASK_BEFORE_LOG_MS],
    )?;
    let mut changed = false;
    for mut row in open {
        row.settle(Outcome::Succeeded, Evidence::Inferred, None);
        if row.ended_ms.is_none() {
            row.end_at(at_ms);
        }
        changed |= rows::save(conn, &row, ctx.now_ms)?.1;
    }
    Ok(changed)
}

/// Merges `other` (a row made from a task) into `keep` (a row made from a start line), deletes
/// `other`, and returns the merged row (not yet saved).
fn absorb(conn: &Connection, mut keep: Row, other: Row) -> rusqlite::Result<Row> {
    if let Some(id) = other.id {
        rows::delete(conn, id)?;
    }
    if other.upid.is_some() || other.ha_upid.is_some() {
        keep.started_ms = other.started_ms;
        keep.initiator_user = other.initiator_user.or(keep.initiator_user);
    }
    keep.upid = keep.upid.or(other.upid);
    keep.ha_upid = keep.ha_upid.or(other.ha_upid);
    keep.vmid = keep.vmid.or(other.vmid);
    if keep.vmid.is_some() {
        keep.note = None;
    }
    keep.source = keep.source.or(other.source);
    keep.target = keep.target.or(other.target);
    if other.evidence == Some(Evidence::Task) {
        keep.outcome = other.outcome;
        keep.evidence = other.evidence;
        keep.reason = other.reason;
        keep.ended_ms = other.ended_ms;
    }
    keep.fix_duration();
    Ok(keep)
}

/// Applies one task of the task list. Returns whether the history changed.
pub fn apply_task(conn: &Connection, ctx: &Context<'_>, task: &TaskFact) -> rusqlite::Result<bool> {
    if let Some(row) = rows::by_upid(conn, &task.upid)? {
        return update_from_task(conn, ctx, row, task);
    }
    let row = match task.kind {
        TaskKind::Hamigrate => match log_row_for(conn, ctx, task)? {
            Some(row) => Some(row),
            None => ha_move_for(conn, task)?,
        },
        TaskKind::Qmigrate | TaskKind::Vzmigrate => {
            let request = if task.user == HA_USER {
                ha_request_for(conn, task)?
            } else {
                None
            };
            match request {
                Some(row) => Some(row),
                None => log_row_for(conn, ctx, task)?,
            }
        }
    };
    let row = match row {
        Some(mut row) => {
            attach(&mut row, task);
            if task.kind == TaskKind::Hamigrate && row.log_key.is_none() {
                // The HA stack's move turned out to be someone's request.
                row.initiator = ctx.initiator_of(task);
            }
            row
        }
        None => {
            let mut row = Row::new(task.start_ms, ctx.initiator_of(task));
            row.initiator_user = Some(task.user.clone());
            row.vmid = Some(task.vmid);
            attach(&mut row, task);
            row
        }
    };
    update_from_task(conn, ctx, row, task).map(|_| true)
}

/// ProxLB's start line this task belongs to (rule 2's window, identity and node).
fn log_row_for(
    conn: &Connection,
    ctx: &Context<'_>,
    task: &TaskFact,
) -> rusqlite::Result<Option<Row>> {
    if !ctx.may_be_proxlb(Some(&task.user)) {
        return Ok(None);
    }
    let slot_free = match task.kind {
        TaskKind::Hamigrate => "ha_upid IS NULL AND upid IS NULL",
        TaskKind::Qmigrate | TaskKind::Vzmigrate => "upid IS NULL AND ha_upid IS NULL",
    };
    let name = ctx.guests.get(task.vmid).map(|g| g.name.clone());
    let candidates = rows::select(
        conn,
        &format!(
            "log_key IS NOT NULL AND {slot_free} AND started_ms BETWEEN ?1 AND ?2
             AND (vmid = ?3 OR (vmid IS NULL AND guest = ?4))"
        ),
        params![
            task.start_ms - TASK_AFTER_LOG_MS,
            task.start_ms + TASK_BEFORE_LOG_MS,
            task.vmid,
            name
        ],
    )?;
    Ok(candidates
        .into_iter()
        .filter(|row| row.source.as_deref().is_none_or(|s| s == task.node))
        .min_by_key(|row| (row.started_ms - task.start_ms).abs()))
}

/// An open HA request of the same guest that this `root@pam` task carries out.
fn ha_request_for(conn: &Connection, task: &TaskFact) -> rusqlite::Result<Option<Row>> {
    Ok(rows::select(
        conn,
        "ha_upid IS NOT NULL AND upid IS NULL AND vmid = ?1 AND started_ms BETWEEN ?2 AND ?3",
        params![
            task.vmid,
            task.start_ms - HA_DELAY_MS,
            task.start_ms + HA_EARLY_MS
        ],
    )?
    .into_iter()
    .next())
}

/// The HA stack's move, polled before the request that led to it.
fn ha_move_for(conn: &Connection, request: &TaskFact) -> rusqlite::Result<Option<Row>> {
    Ok(rows::select(
        conn,
        "initiator = 'ha' AND ha_upid IS NULL AND upid IS NOT NULL AND vmid = ?1
         AND started_ms BETWEEN ?2 AND ?3",
        params![
            request.vmid,
            request.start_ms - HA_EARLY_MS,
            request.start_ms + HA_DELAY_MS
        ],
    )?
    .into_iter()
    .last())
}

/// Links `task` to `row` (not yet saved).
fn attach(row: &mut Row, task: &TaskFact) {
    match task.kind {
        TaskKind::Hamigrate => {
            row.ha_upid = Some(task.upid.clone());
            // The request starts the move; it may have been a person's or ProxLB's.
            row.started_ms = task.start_ms;
            row.initiator_user = Some(task.user.clone());
        }
        TaskKind::Qmigrate | TaskKind::Vzmigrate => {
            row.upid = Some(task.upid.clone());
            if row.ha_upid.is_none() {
                row.started_ms = task.start_ms;
                row.initiator_user = Some(task.user.clone());
            }
        }
    }
    row.vmid = Some(task.vmid);
    if row.log_key.is_some() {
        row.note = None;
    }
    row.fix_duration();
}

/// Takes what `task` says about the move into `row` and saves it.
fn update_from_task(
    conn: &Connection,
    ctx: &Context<'_>,
    mut row: Row,
    task: &TaskFact,
) -> rusqlite::Result<bool> {
    let guest = ctx.guests.get(task.vmid);
    if row.vmid.is_none() {
        row.vmid = Some(task.vmid);
    }
    if row.guest.is_none() {
        row.guest = guest.map(|g| g.name.clone()).filter(|n| !n.is_empty());
    }
    if row.kind.is_none() {
        row.kind = match task.kind {
            TaskKind::Qmigrate => Some("vm".to_owned()),
            TaskKind::Vzmigrate => Some("ct".to_owned()),
            TaskKind::Hamigrate => guest.map(|g| kind_name(g.kind)),
        };
    }
    if row.source.is_none() {
        row.source = Some(task.node.clone());
    }
    match (task.kind, task.succeeded(), task.end_ms) {
        // An accepted HA request: the HA stack's own task decides.
        (TaskKind::Hamigrate, Some(true), _) | (_, None, _) => {}
        (TaskKind::Hamigrate, Some(false), Some(end)) => {
            if row.upid.is_none() {
                let why = task.status.clone().unwrap_or_default();
                row.settle(
                    Outcome::Failed,
                    Evidence::Task,
                    Some(format!("HA request failed: {why}")),
                );
                row.end_at(end);
            }
        }
        (_, Some(ok), Some(end)) => {
            let outcome = if ok {
                Outcome::Succeeded
            } else {
                Outcome::Failed
            };
            row.settle(outcome, Evidence::Task, task.status.clone());
            row.end_at(end);
        }
        (_, Some(_), None) => {}
    }
    if row.outcome == Outcome::Succeeded && row.target.is_none() {
        // Rule 5: the task does not name the target; the guest's node now does.
        row.target = guest
            .and_then(|g| g.node.clone())
            .filter(|node| row.source.as_deref() != Some(node.as_str()));
    }
    Ok(rows::save(conn, &row, ctx.now_ms)?.1)
}

/// Rule 6: moves with neither task nor end line for [`STALE_AFTER_MS`] become `unknown`.
/// Returns how many.
pub fn sweep(conn: &Connection, now_ms: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE migrations SET outcome = 'unknown', updated_ms = ?1,
             reason = 'no end of this move was seen in the log or the task list'
         WHERE outcome = 'running' AND upid IS NULL AND ha_upid IS NULL AND started_ms < ?2",
    )?
    .execute(params![now_ms, now_ms - STALE_AFTER_MS])
}

#[cfg(test)]
#[path = "correlate_tests.rs"]
mod tests;
