//! The cluster service: the one source of cluster views for pages, the REST API and the live
//! channel. No reader ever calls Proxmox.
//!
//! It runs one *generation* at a time: a [`ClusterConnection`] built by the
//! [`ClusterConnector`] port, the snapshot poller on it (on the service's own `plb-poller`
//! thread, so reading and decoding Proxmox's answers never delays a request), and a task that
//! turns every snapshot into a [`ClusterView`] exactly once, on tokio's blocking pool (at 10,000 guests a build takes
//! over half a second of CPU, which must not run on the workers that answer requests). [`ClusterService::reconnect`] re-reads the configuration
//! and swaps the generation (the old poller is cancelled through its child token), so a changed
//! `proxmox_api` takes effect without a restart. Every generation publishes into the same watch
//! channel, so subscribers keep receiving across reconnects.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plb_domain::proxlb::ProxLbConfig;
use plb_domain::view::ClusterView;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, NotConfigured};
use crate::ports::{Clock, ClusterConnection, ClusterConnector};
use crate::services::cluster_view::view_of;
use crate::services::snapshot::{self, Snapshot, SnapshotConfig, SnapshotHandle};

/// What the cluster service publishes: the latest view, or why there is none.
#[derive(Clone, Debug)]
pub enum ClusterFeed {
    /// No usable configuration; the UI explains what to set.
    NotConfigured(Arc<NotConfigured>),
    /// The latest view of the configured cluster (possibly still empty before the first fetch).
    View(Arc<ClusterView>),
}

impl ClusterFeed {
    /// The view, if there is a configured cluster.
    pub fn view(&self) -> Option<&Arc<ClusterView>> {
        match self {
            ClusterFeed::View(view) => Some(view),
            ClusterFeed::NotConfigured(_) => None,
        }
    }

    /// The view, or [`Error::NotConfigured`].
    pub fn to_result(&self) -> Result<Arc<ClusterView>, Error> {
        match self {
            ClusterFeed::View(view) => Ok(Arc::clone(view)),
            ClusterFeed::NotConfigured(why) => Err(NotConfigured::clone(why).into()),
        }
    }

    /// Whether a reader should stop waiting: there is data, a failure to show, or nothing to
    /// wait for.
    fn settled(&self) -> bool {
        match self {
            ClusterFeed::View(view) => {
                view.overview.meta.fetched_at_unix.is_some() || view.overview.meta.stale.is_some()
            }
            ClusterFeed::NotConfigured(_) => true,
        }
    }
}

/// The poller's state, for `/healthz` and the operator. Serialized as `{"state": "...", ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PollerHealth {
    /// Polling; the latest cycle succeeded (or the first one is still under way).
    Running {
        /// When data was last fetched; `None` before the first answer.
        fetched_at_unix: Option<u64>,
    },
    /// Polling, but cycles fail since `since_unix`: the views show the last good data, stale.
    Stale {
        /// When the failures started.
        since_unix: u64,
    },
    /// No usable configuration, so nothing to poll (the UI says what to set).
    NotConfigured,
    /// The poller is gone (it ended or panicked, or the server is shutting down): views no
    /// longer change. The only unhealthy state.
    Stopped,
}

impl PollerHealth {
    /// Whether the server works as configured: everything but [`PollerHealth::Stopped`]. A
    /// failing Proxmox is not the server's fault (restarting it would not help).
    pub fn is_healthy(&self) -> bool {
        !matches!(self, PollerHealth::Stopped)
    }
}

/// How every generation polls and builds views; fixed for the life of the service.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The poller's interval and optional per-node requests.
    pub snapshot: SnapshotConfig,
    /// Offset of ProxLB's local time from UTC, for maintenance schedules.
    pub utc_offset_seconds: i64,
}

/// The running cluster service. Cheap to clone; every clone is the same service.
#[derive(Clone)]
pub struct ClusterService {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Arc<dyn ClusterConnector>,
    clock: Arc<dyn Clock>,
    options: ClusterOptions,
    /// Parent of every generation's token: shutdown ends them all.
    shutdown: CancellationToken,
    /// The one sender every generation publishes into.
    feed: watch::Sender<ClusterFeed>,
    /// One above the highest view version ever published (0: none yet). A new generation
    /// starts above it, also after a spell without configuration, so a version names one view
    /// for the life of the process (the REST API's ETags rely on it).
    next_version: AtomicU64,
    current: Mutex<Generation>,
    /// Where every generation's poller runs.
    poller: PollerThread,
}

/// A single-threaded tokio runtime on a thread of its own (`plb-poller`) for the pollers and the
/// view builds: at 10,000 guests one cycle reads and decodes about 3.5 MB of JSON and builds a
/// view in about 140 ms, which on the request workers delayed every request queued behind it.
/// Ends when the service is dropped. (It runs at the process's priority: a nicer thread also
/// loses to every other process on the machine, and measured it gained little; see
/// docs/benchmarks.md.)
struct PollerThread {
    handle: tokio::runtime::Handle,
    /// Dropping it ends the thread (and its runtime, off any async context).
    _stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl PollerThread {
    /// The poller thread, or the current runtime when no thread can be started.
    fn start() -> Self {
        let started = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .and_then(|runtime| {
                let handle = runtime.handle().clone();
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                std::thread::Builder::new()
                    .name("plb-poller".into())
                    .spawn(move || {
                        runtime.block_on(async {
                            let _stopped = stopped.await;
                        });
                    })?;
                Ok(Self {
                    handle,
                    _stop: Some(stop),
                })
            });
        started.unwrap_or_else(|error| {
            tracing::warn!(%error, "no poller thread; polling on the request workers");
            Self {
                handle: tokio::runtime::Handle::current(),
                _stop: None,
            }
        })
    }
}

/// The generation that may publish; replaced as a whole under the mutex.
struct Generation {
    id: u64,
    source: Source,
}

enum Source {
    NotConfigured,
    Live {
        snapshots: SnapshotHandle,
        cancel: CancellationToken,
        follower: JoinHandle<()>,
    },
}

impl ClusterService {
    /// Connects with `connector` and starts polling (on the current tokio runtime). An unusable
    /// configuration is not an error here: the service publishes
    /// [`ClusterFeed::NotConfigured`] until a [`reconnect`](Self::reconnect) succeeds.
    pub fn start(
        connector: Arc<dyn ClusterConnector>,
        clock: Arc<dyn Clock>,
        options: ClusterOptions,
        shutdown: CancellationToken,
    ) -> Self {
        let starting = NotConfigured {
            reason: "ProxLB Web is starting".to_owned(),
            hint: String::new(),
        };
        let (feed, _) = watch::channel(ClusterFeed::NotConfigured(Arc::new(starting)));
        let service = Self {
            inner: Arc::new(Inner {
                connector,
                clock,
                options,
                shutdown,
                feed,
                next_version: AtomicU64::new(0),
                current: Mutex::new(Generation {
                    id: 0,
                    source: Source::NotConfigured,
                }),
                poller: PollerThread::start(),
            }),
        };
        if let Err(error) = service.reconnect() {
            tracing::warn!(%error, "no cluster to show");
        }
        service
    }

    /// The latest view, waiting up to `patience` for the current connection's first answer, so
    /// the first page after start-up shows data instead of "loading".
    /// [`Error::NotConfigured`] (reason and hint) when there is no usable configuration.
    pub async fn view(&self, patience: Duration) -> Result<Arc<ClusterView>, Error> {
        let mut feed = self.inner.feed.subscribe();
        let _timed_out = tokio::time::timeout(patience, async {
            // The sender lives as long as `self`, so `changed` only fails if it is dropped.
            while !feed.borrow_and_update().settled() {
                if feed.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        let current = feed.borrow().clone();
        current.to_result()
    }

    /// A receiver that sees every newly published view, across reconnects. Its first value is
    /// the current one (`borrow()`), later ones wake `changed()`.
    pub fn subscribe(&self) -> watch::Receiver<ClusterFeed> {
        self.inner.feed.subscribe()
    }

    /// Asks the poller for a fetch now (coalesced with other demands); nothing without a cluster.
    pub fn request_refresh(&self) {
        if let Source::Live { snapshots, .. } = &self.inner.lock().source {
            snapshots.request_refresh();
        }
    }

    /// Re-reads the configuration through the connector and starts a new generation on it; the
    /// old poller is cancelled. On an unusable configuration the service switches to
    /// [`ClusterFeed::NotConfigured`] and returns that error: the views follow the configuration
    /// as it is now, never an older one.
    pub fn reconnect(&self) -> Result<(), Error> {
        // Outside the lock: reading the file and building the client take a moment.
        let connected = self.inner.connector.connect();
        let mut current = self.inner.lock();
        if let Source::Live { cancel, .. } = &current.source {
            cancel.cancel();
        }
        let id = current.id + 1;
        match connected {
            Ok(connection) => {
                let source = self.inner.start_generation(id, connection);
                *current = Generation { id, source };
                Ok(())
            }
            Err(why) => {
                tracing::warn!(reason = %why.reason, hint = %why.hint, "no usable cluster configuration");
                self.inner
                    .feed
                    .send_replace(ClusterFeed::NotConfigured(Arc::new(why.clone())));
                *current = Generation {
                    id,
                    source: Source::NotConfigured,
                };
                Err(why.into())
            }
        }
    }

    /// The current connection's latest raw snapshot (PVE's data at DTO level); `None` without a
    /// cluster. For services that need what the views leave out, such as the migration
    /// history's task list.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        match &self.inner.lock().source {
            Source::Live { snapshots, .. } => Some(snapshots.current()),
            Source::NotConfigured => None,
        }
    }

    /// The poller's state now.
    pub fn health(&self) -> PollerHealth {
        match &self.inner.lock().source {
            Source::NotConfigured => PollerHealth::NotConfigured,
            Source::Live {
                snapshots,
                follower,
                ..
            } => {
                // The follower ends when the poller's channel closes (the poller ended or
                // panicked) or when cancelled: either way no new view will come.
                if follower.is_finished() {
                    return PollerHealth::Stopped;
                }
                let snapshot = snapshots.current();
                match &snapshot.failure {
                    Some(failure) => PollerHealth::Stale {
                        since_unix: unix(failure.since),
                    },
                    None => PollerHealth::Running {
                        fetched_at_unix: snapshot.fetched_at.map(unix),
                    },
                }
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Generation> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the poller and the view follower of generation `id` and publishes its first
    /// (empty) view. Called with the lock held, so no older generation publishes after it.
    fn start_generation(self: &Arc<Self>, id: u64, connection: ClusterConnection) -> Source {
        let cancel = self.shutdown.child_token();
        let snapshots = snapshot::spawn_on(
            &self.poller.handle,
            connection.api,
            Arc::clone(&self.clock),
            self.options.snapshot.clone(),
            cancel.clone(),
        );
        let mut source = snapshots.subscribe();
        // View versions keep rising across generations: browsers refetch when it changes.
        let base = self.next_version.load(Ordering::SeqCst);
        let builder = ViewBuilder {
            config: connection.config,
            clock: Arc::clone(&self.clock),
            utc_offset_seconds: self.options.utc_offset_seconds,
            base,
        };
        // The poller has not answered yet: an empty snapshot, cheap to build here.
        let first = builder.build(&source.borrow_and_update());
        self.note_published(&first);
        self.feed.send_replace(ClusterFeed::View(first));
        // On the poller's thread: the view build stays off the request workers and the
        // blocking pool they share.
        let follower = self.poller.handle.spawn(follow(
            Arc::downgrade(self),
            id,
            source,
            builder,
            cancel.clone(),
        ));
        Source::Live {
            snapshots,
            cancel,
            follower,
        }
    }

    /// Publishes `view` if generation `id` is still the current one; false when it is not.
    ///
    /// A view whose version is not above the published one is dropped (and true returned, the
    /// generation goes on): readers, the REST cache and browsers key on the version, so an
    /// older view must never replace a newer one, whatever order builds finish in.
    fn publish(&self, id: u64, view: Arc<ClusterView>) -> bool {
        let current = self.lock();
        if current.id != id {
            return false;
        }
        self.feed.send_if_modified(|feed| match feed {
            ClusterFeed::View(published)
                if published.overview.meta.version >= view.overview.meta.version =>
            {
                tracing::debug!(
                    published = published.overview.meta.version,
                    dropped = view.overview.meta.version,
                    "a cluster view older than the published one was dropped"
                );
                false
            }
            _ => {
                self.note_published(&view);
                *feed = ClusterFeed::View(view);
                true
            }
        });
        true
    }

    /// Raises the version the next generation starts at above `view`'s.
    fn note_published(&self, view: &ClusterView) {
        self.next_version
            .fetch_max(view.overview.meta.version + 1, Ordering::SeqCst);
    }
}

/// Builds the views of one generation.
struct ViewBuilder {
    config: Arc<ProxLbConfig>,
    clock: Arc<dyn Clock>,
    utc_offset_seconds: i64,
    base: u64,
}

impl ViewBuilder {
    fn build(&self, snapshot: &Snapshot) -> Arc<ClusterView> {
        let mut view = view_of(
            snapshot,
            &self.config,
            self.clock.now(),
            self.utc_offset_seconds,
        );
        view.overview.meta.version += self.base;
        Arc::new(view)
    }
}

/// Turns every snapshot of one generation into a view until cancelled, replaced, or the poller
/// stops.
///
/// The build runs right here, on the poller's own thread ([`PollerThread`]): at 64 nodes and
/// 10,000 guests the conversion and ProxLB's decision take long enough to stall every request
/// queued behind them on a request worker or the blocking pool the workers share. One build at
/// a time, finished before the next snapshot is taken, so the views of one generation are
/// published in snapshot order; snapshots that arrive meanwhile coalesce in the watch channel
/// and only the newest is built.
async fn follow(
    service: Weak<Inner>,
    id: u64,
    mut source: watch::Receiver<Arc<Snapshot>>,
    builder: ViewBuilder,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = source.changed() => {
                if changed.is_err() {
                    if !cancel.is_cancelled() {
                        tracing::error!("the Proxmox VE poller stopped; cluster views no longer change");
                    }
                    return;
                }
                let snapshot = Arc::clone(&source.borrow_and_update());
                let started = Instant::now();
                // Built right here on the poller's own thread (see `PollerThread`); the next
                // poll waits for it anyway.
                let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| builder.build(&snapshot)));
                let view = match built {
                    Ok(view) => view,
                    Err(_) => {
                        // A panic in the domain code: the views stop changing and /healthz says so.
                        tracing::error!("building the cluster view failed; cluster views no longer change");
                        return;
                    }
                };
                tracing::debug!(
                    version = view.overview.meta.version,
                    guests = view.guests.len(),
                    elapsed_ms = started.elapsed().as_millis(),
                    "cluster view rebuilt"
                );
                let published = service.upgrade().is_some_and(|service| service.publish(id, view));
                if !published {
                    return;
                }
            }
        }
    }
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pve_wire::PveError;
    use crate::testing::{FakeConnector, FakePve, ManualClock, ResourcesAnswer};

    fn start(connector: Arc<FakeConnector>) -> (ClusterService, CancellationToken) {
        start_polling_every(connector, Duration::from_secs(600))
    }

    fn start_polling_every(
        connector: Arc<FakeConnector>,
        interval: Duration,
    ) -> (ClusterService, CancellationToken) {
        let shutdown = CancellationToken::new();
        let service = ClusterService::start(
            connector,
            ManualClock::new(),
            ClusterOptions {
                snapshot: SnapshotConfig {
                    interval,
                    ..SnapshotConfig::default()
                },
                utc_offset_seconds: 0,
            },
            shutdown.clone(),
        );
        (service, shutdown)
    }

    fn node_names(view: &ClusterView) -> Vec<String> {
        view.overview.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// Waits (on the feed, bounded) until a published view satisfies `done`.
    async fn until(
        feed: &mut watch::Receiver<ClusterFeed>,
        done: impl Fn(&ClusterView) -> bool,
    ) -> Arc<ClusterView> {
        let wait = async {
            loop {
                if let Some(view) = feed.borrow_and_update().view() {
                    if done(view) {
                        return Arc::clone(view);
                    }
                }
                feed.changed().await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn reconnecting_switches_the_views_to_the_new_cluster_for_every_subscriber() {
        let connector = FakeConnector::to(FakePve::with_nodes(&["alpha1", "alpha2"]));
        let (service, shutdown) = start(Arc::clone(&connector));
        let mut feed = service.subscribe();
        let first = service.view(Duration::from_secs(10)).await.unwrap();
        assert_eq!(node_names(&first), ["alpha1", "alpha2"]);

        connector.switch_to(FakePve::with_nodes(&["beta1"]));
        service.reconnect().unwrap();
        // The subscriber taken before the reconnect sees the new cluster.
        let next = until(&mut feed, |view| node_names(view) == ["beta1"]).await;
        assert!(
            next.overview.meta.version > first.overview.meta.version,
            "versions keep rising across reconnects, so browsers refetch"
        );
        assert_eq!(
            node_names(&service.view(Duration::from_secs(10)).await.unwrap()),
            ["beta1"]
        );
        shutdown.cancel();
    }

    #[tokio::test]
    async fn an_old_generation_never_publishes_after_a_reconnect() {
        // Polling fast, so an old poller left running would publish within the wait below.
        let old = FakePve::with_nodes(&["old1"]);
        let connector = FakeConnector::to(old.clone());
        let (service, shutdown) = start_polling_every(connector.clone(), Duration::from_millis(10));
        service.view(Duration::from_secs(10)).await.unwrap();
        connector.switch_to(FakePve::with_nodes(&["new1"]));
        service.reconnect().unwrap();
        old.answer(ResourcesAnswer::Entries(vec![crate::testing::node(
            "zombie",
        )]));
        let mut feed = service.subscribe();
        let switched = until(&mut feed, |view| node_names(view) == ["new1"]).await;
        // Ten more cycles of the new cluster: none of them, nor anything between, is the old one.
        let later = switched.overview.meta.version + 10;
        let mut seen = Vec::new();
        let wait = async {
            loop {
                if let Some(view) = feed.borrow_and_update().view() {
                    seen.push(node_names(view));
                    if view.overview.meta.version >= later {
                        return;
                    }
                }
                feed.changed().await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap();
        assert!(seen.iter().all(|names| names == &["new1"]), "{seen:?}");
        shutdown.cancel();
    }

    /// `view` with another version.
    fn at_version(view: &ClusterView, version: u64) -> Arc<ClusterView> {
        let mut view = view.clone();
        view.overview.meta.version = version;
        Arc::new(view)
    }

    fn published_version(service: &ClusterService) -> u64 {
        service
            .subscribe()
            .borrow()
            .view()
            .unwrap()
            .overview
            .meta
            .version
    }

    #[tokio::test]
    async fn an_older_view_is_never_published_after_a_newer_one() {
        let (service, shutdown) = start(FakeConnector::to(FakePve::with_nodes(&["pve1"])));
        let view = service.view(Duration::from_secs(10)).await.unwrap();
        let id = service.inner.lock().id;
        let newest = view.overview.meta.version + 5;
        assert!(service.inner.publish(id, at_version(&view, newest)));
        assert_eq!(published_version(&service), newest);

        // A build that finishes late (an older snapshot) is dropped, the generation goes on.
        assert!(service.inner.publish(id, at_version(&view, newest - 1)));
        assert_eq!(published_version(&service), newest);
        assert!(service.inner.publish(id, at_version(&view, newest)));
        assert_eq!(
            published_version(&service),
            newest,
            "the same version is not re-sent"
        );

        assert!(service.inner.publish(id, at_version(&view, newest + 1)));
        assert_eq!(published_version(&service), newest + 1);
        // A generation that is no longer current publishes nothing, whatever its version.
        assert!(!service.inner.publish(id + 1, at_version(&view, newest + 9)));
        assert_eq!(published_version(&service), newest + 1);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn views_built_off_the_workers_arrive_in_rising_version_order() {
        let fake = FakePve::with_nodes(&["pve1"]);
        let (service, shutdown) =
            start_polling_every(FakeConnector::to(fake), Duration::from_millis(5));
        let mut feed = service.subscribe();
        let mut seen = Vec::new();
        let wait = async {
            while seen.len() < 20 {
                if let Some(view) = feed.borrow_and_update().view() {
                    seen.push(view.overview.meta.version);
                }
                feed.changed().await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_new_generation_starts_above_every_published_version() {
        let connector = FakeConnector::to(FakePve::with_nodes(&["pve1"]));
        let (service, shutdown) = start(Arc::clone(&connector));
        let view = service.view(Duration::from_secs(10)).await.unwrap();
        let id = service.inner.lock().id;
        let high = view.overview.meta.version + 100;
        assert!(service.inner.publish(id, at_version(&view, high)));
        service.reconnect().unwrap();
        assert!(published_version(&service) > high);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn without_a_configuration_views_say_why_until_a_reconnect_finds_one() {
        let connector = FakeConnector::unconfigured("/etc/proxlb/proxlb.yaml does not exist");
        let (service, shutdown) = start(Arc::clone(&connector));
        let error = service.view(Duration::from_secs(10)).await.unwrap_err();
        match error {
            Error::NotConfigured { reason, hint } => {
                assert_eq!(reason, "/etc/proxlb/proxlb.yaml does not exist");
                assert!(hint.contains("PROXLB_CONFIG"), "{hint}");
            }
            other => panic!("expected NotConfigured, got {other:?}"),
        }
        assert_eq!(service.health(), PollerHealth::NotConfigured);
        service.request_refresh(); // nothing to refresh, and no panic

        let mut feed = service.subscribe();
        connector.switch_to(FakePve::with_nodes(&["pve1"]));
        service.reconnect().unwrap();
        until(&mut feed, |view| node_names(view) == ["pve1"]).await;
        assert!(matches!(service.health(), PollerHealth::Running { .. }));
        shutdown.cancel();
    }

    #[tokio::test]
    async fn health_follows_the_poller() {
        let fake = FakePve::with_nodes(&["pve1"]);
        let (service, shutdown) = start(FakeConnector::to(fake.clone()));
        service.view(Duration::from_secs(10)).await.unwrap();
        assert!(matches!(
            service.health(),
            PollerHealth::Running {
                fetched_at_unix: Some(_)
            }
        ));

        fake.answer(ResourcesAnswer::Fail(PveError::Unreachable {
            host: "pve1:8006".into(),
        }));
        service.request_refresh();
        let mut feed = service.subscribe();
        until(&mut feed, |view| view.overview.meta.stale.is_some()).await;
        assert!(matches!(service.health(), PollerHealth::Stale { .. }));
        assert!(service.health().is_healthy());

        shutdown.cancel();
        let deadline = Instant::now() + Duration::from_secs(10);
        while service.health() != PollerHealth::Stopped {
            assert!(Instant::now() < deadline, "{:?}", service.health());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!service.health().is_healthy());
    }
}
