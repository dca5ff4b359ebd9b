//! [`MigrationService`]: ingest loop, readers and the live feed (see the parent module).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_domain::logs::LogEntry;
use plb_domain::migrations::{
    Initiator as RecordInitiator, MigrationFilter, MigrationLogFact, MigrationOutcome,
    MigrationPage, MigrationRecord, MigrationTracker,
};
use plb_domain::proxlb::cluster::GuestKind;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::correlate::{self, ApiIdentity, Context, Guests, LogFact, TaskFact};
use super::query::{self, ListQuery, RowPage};
use super::rows::{Initiator, Outcome, Row};
use crate::ports::Clock;
use crate::services::cluster::ClusterService;
use crate::services::snapshot::Snapshot;
use crate::store::{Store, StoreError};

/// How long the ingest loop waits for the poller's first answer before it reads the log anyway
/// (names then resolve to vmids only through matching tasks).
pub const FIRST_SNAPSHOT_WAIT: Duration = Duration::from_secs(30);

/// How many of the newest moves each live event carries (the dashboard's feed).
pub const FEED_LEN: u32 = 10;

/// What the live `migrations` topic publishes: a version that rises whenever the history
/// changes (pages refetch), and the newest moves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationsFeed {
    /// Rises by one per change; 0 before the first.
    pub version: u64,
    /// The newest [`FEED_LEN`] moves, newest first.
    pub recent: Vec<MigrationRecord>,
}

/// The migration history. Cheap to clone; every clone is the same service.
#[derive(Clone)]
pub struct MigrationService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    /// ProxLB's configuration file, read for its `proxmox_api` identity.
    config_path: PathBuf,
    feed: watch::Sender<Arc<MigrationsFeed>>,
    /// The guests of the latest snapshot, for name → vmid.
    guests: Mutex<Arc<Guests>>,
}

impl MigrationService {
    /// A service over `store` that ingests nothing by itself (tests feed it; [`Self::start`]
    /// is the production path).
    pub fn new(store: Store, clock: Arc<dyn Clock>, config_path: PathBuf) -> Self {
        let (feed, _) = watch::channel(Arc::new(MigrationsFeed::default()));
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                config_path,
                feed,
                guests: Mutex::new(Arc::new(Guests::default())),
            }),
        }
    }

    /// Starts following `entries` (ProxLB's log, from the oldest retained entry on) and the
    /// cluster service's snapshots until `shutdown`.
    pub fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        config_path: PathBuf,
        cluster: ClusterService,
        entries: BoxStream<'static, Arc<LogEntry>>,
        shutdown: CancellationToken,
    ) -> Self {
        let service = Self::new(store, clock, config_path);
        tokio::spawn(service.clone().follow(cluster, entries, shutdown));
        service
    }

    /// A receiver of the live feed; its first value is the current one.
    pub fn subscribe(&self) -> watch::Receiver<Arc<MigrationsFeed>> {
        self.inner.feed.subscribe()
    }

    /// The moves matching `filter`, one page, newest start first.
    pub async fn list(&self, filter: &MigrationFilter) -> Result<MigrationPage, crate::Error> {
        let query = list_query(filter);
        let page: RowPage = self
            .inner
            .store
            .call(move |conn| Ok(query::list(conn, &query)?))
            .await?;
        Ok(MigrationPage {
            records: page.rows.into_iter().map(record_of).collect(),
            total: page.total,
            next_before_id: page.next_before_id,
        })
    }

    /// The newest `n` moves (at most [`query::MAX_PAGE`]).
    pub async fn recent(&self, n: u32) -> Result<Vec<MigrationRecord>, crate::Error> {
        let filter = MigrationFilter {
            limit: Some(n.max(1)),
            ..MigrationFilter::default()
        };
        Ok(self.list(&filter).await?.records)
    }

    /// Merges log facts into the history; returns whether it changed.
    pub async fn apply_log_facts(&self, facts: Vec<LogFact>) -> Result<bool, StoreError> {
        if facts.is_empty() {
            return Ok(false);
        }
        let guests = self.guests();
        let identity = self.identity();
        let now_ms = self.now_ms();
        let changed = self
            .inner
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let ctx = Context {
                    guests: &guests,
                    proxlb: identity.as_ref(),
                    now_ms,
                };
                let mut changed = false;
                for fact in &facts {
                    changed |= correlate::apply_log(&tx, &ctx, fact)?;
                }
                tx.commit()?;
                Ok(changed)
            })
            .await?;
        if changed {
            self.publish().await;
        }
        Ok(changed)
    }

    /// Merges the migration tasks of a snapshot (and its guests, which replace the known ones)
    /// into the history, then marks long-lost moves `unknown`; returns whether it changed.
    pub async fn apply_tasks(
        &self,
        guests: Guests,
        mut tasks: Vec<TaskFact>,
    ) -> Result<bool, StoreError> {
        let guests = Arc::new(guests);
        *self
            .inner
            .guests
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::clone(&guests);
        // Oldest first: an HA request is merged before the HA stack's task that carries it out.
        tasks.sort_by_key(|t| (t.start_ms, t.kind != correlate::TaskKind::Hamigrate));
        let identity = self.identity();
        let now_ms = self.now_ms();
        let changed = self
            .inner
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let ctx = Context {
                    guests: &guests,
                    proxlb: identity.as_ref(),
                    now_ms,
                };
                let mut changed = false;
                for task in &tasks {
                    changed |= correlate::apply_task(&tx, &ctx, task)?;
                }
                changed |= correlate::sweep(&tx, now_ms)? > 0;
                tx.commit()?;
                Ok(changed)
            })
            .await?;
        if changed {
            self.publish().await;
        }
        Ok(changed)
    }

    fn guests(&self) -> Arc<Guests> {
        Arc::clone(
            &self
                .inner
                .guests
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// ProxLB's API identity from its configuration file, read each time (it is small, and an
    /// edited file takes effect at once); `None` when it cannot be read.
    fn identity(&self) -> Option<ApiIdentity> {
        match crate::adapters::config_file::load(&self.inner.config_path) {
            Ok(config) => Some(ApiIdentity {
                user: config.proxmox_api.user.clone(),
                token: config
                    .proxmox_api
                    .token_id
                    .clone()
                    .filter(|t| !t.is_empty()),
            }),
            Err(error) => {
                tracing::debug!(%error, "ProxLB's API user is unknown; matching tasks by time only");
                None
            }
        }
    }

    fn now_ms(&self) -> i64 {
        unix_ms(self.inner.clock.now())
    }

    /// Publishes a new version with the newest moves.
    async fn publish(&self) {
        let recent = match self.recent(FEED_LEN).await {
            Ok(recent) => recent,
            Err(error) => {
                tracing::warn!(%error, "reading the newest migrations failed");
                return;
            }
        };
        self.inner.feed.send_modify(|feed| {
            *feed = Arc::new(MigrationsFeed {
                version: feed.version + 1,
                recent,
            });
        });
    }

    /// The ingest loop: log entries and snapshots, one at a time, until `shutdown`.
    async fn follow(
        self,
        cluster: ClusterService,
        mut entries: BoxStream<'static, Arc<LogEntry>>,
        shutdown: CancellationToken,
    ) {
        let mut views = cluster.subscribe();
        let mut tracker = MigrationTracker::new();
        let mut log_open = true;
        let mut last_snapshot: Option<Arc<Snapshot>> = None;
        // The feed's first value, so a subscriber sees the stored history before any change.
        self.publish().await;
        // Log lines name guests; their vmids come from the snapshot. Wait (bounded) for the
        // poller's first answer before reading the log, so a replayed tail is not read against
        // an empty cluster.
        let first = async {
            loop {
                if let Some(snapshot) = cluster.snapshot().filter(|s| s.data.is_some()) {
                    return snapshot;
                }
                if views.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            found = tokio::time::timeout(FIRST_SNAPSHOT_WAIT, first) => {
                if let Ok(snapshot) = found {
                    last_snapshot = Some(Arc::clone(&snapshot));
                    self.ingest_snapshot(snapshot).await;
                }
            }
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                entry = entries.next(), if log_open => match entry {
                    Some(entry) => {
                        let facts = facts_of(tracker.feed(&entry));
                        if let Err(error) = self.apply_log_facts(facts).await {
                            tracing::warn!(%error, "recording a migration from the log failed");
                        }
                    }
                    None => log_open = false,
                },
                changed = views.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    views.borrow_and_update();
                    let Some(snapshot) = cluster.snapshot() else { continue };
                    // Every view of one snapshot would repeat the same work.
                    // (By identity: sequence numbers start again after a reconnect.)
                    if last_snapshot.as_ref().is_some_and(|last| Arc::ptr_eq(last, &snapshot)) {
                        continue;
                    }
                    last_snapshot = Some(Arc::clone(&snapshot));
                    self.ingest_snapshot(snapshot).await;
                }
            }
        }
    }

    /// Merges a snapshot's guests and migration tasks (off the async workers for the parse).
    async fn ingest_snapshot(&self, snapshot: Arc<Snapshot>) {
        let Some(data) = snapshot.data.clone() else {
            return;
        };
        let work = tokio::task::spawn_blocking(move || {
            let guests = Guests::from_resources(&data.resources);
            let tasks: Vec<TaskFact> = data
                .migrations
                .iter()
                .filter_map(TaskFact::from_entry)
                .collect();
            (guests, tasks)
        });
        match work.await {
            Ok((guests, tasks)) => {
                if let Err(error) = self.apply_tasks(guests, tasks).await {
                    tracing::warn!(%error, "recording migrations from the task list failed");
                }
            }
            Err(error) => tracing::error!(%error, "reading the task list failed"),
        }
    }
}

/// The tracker's facts in the form the merge rules take.
fn facts_of(facts: Vec<MigrationLogFact>) -> Vec<LogFact> {
    facts
        .into_iter()
        .map(|fact| match fact {
            MigrationLogFact::Started {
                guest,
                kind,
                source,
                target,
                at_unix_ms,
                proxlb_time,
            } => LogFact::Started {
                guest,
                kind,
                source,
                target,
                at_ms: at_unix_ms,
                stamp: proxlb_time,
            },
            MigrationLogFact::Succeeded {
                guest,
                upid,
                ha_upid,
                inferred,
                at_unix_ms,
                ..
            } => LogFact::Succeeded {
                guest,
                upid,
                ha_upid,
                inferred,
                at_ms: at_unix_ms,
            },
            MigrationLogFact::Failed {
                guest,
                upid,
                ha_upid,
                reason,
                at_unix_ms,
                ..
            } => LogFact::Failed {
                guest,
                upid,
                ha_upid,
                reason,
                at_ms: at_unix_ms,
            },
            MigrationLogFact::Unresolved {
                guest,
                upid,
                at_unix_ms,
            } => LogFact::Unresolved {
                guest,
                upid,
                at_ms: at_unix_ms,
            },
            MigrationLogFact::RunFinished { at_unix_ms, .. } => {
                LogFact::RunFinished { at_ms: at_unix_ms }
            }
        })
        .collect()
}

/// The store's query for a filter from the API.
fn list_query(filter: &MigrationFilter) -> ListQuery {
    ListQuery {
        text: filter.text.clone(),
        node: filter.node.clone().filter(|n| !n.is_empty()),
        outcome: filter.outcome.map(|o| match o {
            MigrationOutcome::Running => Outcome::Running,
            MigrationOutcome::Succeeded => Outcome::Succeeded,
            MigrationOutcome::Failed => Outcome::Failed,
            MigrationOutcome::Unknown => Outcome::Unknown,
        }),
        initiator: filter.initiator.map(|i| match i {
            RecordInitiator::ProxLb => Initiator::Proxlb,
            RecordInitiator::Ha => Initiator::Ha,
            RecordInitiator::Person => Initiator::Person,
            RecordInitiator::Unknown => Initiator::Unknown,
        }),
        since_ms: filter.since_unix_ms,
        before_id: filter.before_id,
        limit: u32::try_from(filter.effective_limit()).ok(),
    }
}

/// A stored row as the API shows it.
fn record_of(row: Row) -> MigrationRecord {
    MigrationRecord {
        id: row.id.unwrap_or_default(),
        guest: row.guest,
        vmid: row.vmid,
        // Unknown only for an HA request of a guest that was gone before it was seen.
        kind: match row.kind.as_deref() {
            Some("ct") => GuestKind::Ct,
            _ => GuestKind::Vm,
        },
        source: row.source,
        target: row.target,
        started_unix_ms: row.started_ms,
        ended_unix_ms: row.ended_ms,
        duration_ms: row.duration_ms,
        outcome: match row.outcome {
            Outcome::Running => MigrationOutcome::Running,
            Outcome::Succeeded => MigrationOutcome::Succeeded,
            Outcome::Failed => MigrationOutcome::Failed,
            Outcome::Unknown => MigrationOutcome::Unknown,
        },
        reason: row.reason,
        initiator: match row.initiator {
            Initiator::Proxlb => RecordInitiator::ProxLb,
            Initiator::Ha => RecordInitiator::Ha,
            Initiator::Person => RecordInitiator::Person,
            Initiator::Unknown => RecordInitiator::Unknown,
        },
        initiator_user: row.initiator_user,
        upid: row.upid,
        ha_upid: row.ha_upid,
    }
}

fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
