//! ProxLB's log, read once and kept in memory for every reader: the Logs view's pages and live
//! stream, `GET /api/logs`, `/ws/logs`, the run tracker and the migration history.
//!
//! One task follows the [`LogSource`] and turns its lines into entries (a traceback becomes
//! one entry). Each entry gets the next sequence number (`seq`: 1, 2, 3, … in this process,
//! without holes) and goes into a ring of the newest [`RETAINED`] entries. Readers never get
//! their own copy of the stream: they read the ring after the last `seq` they saw, so a slow
//! reader costs no memory, repeats nothing and learns exactly how many entries it missed when
//! the ring has moved past it.
//!
//! Memory is bounded by the ring: at 10,000 lines per second the oldest entries are dropped,
//! never queued. When the source ends or fails (container restarted, journald rotated, child
//! exited), the task follows it again after the last position it got, with a growing pause
//! (up to [`MAX_BACKOFF`]) while it keeps failing, so nothing is lost or read twice.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use plb_domain::logs::{Assembler, LogEntry, LogPage, LogQuery};
use plb_domain::runs::{RunState, RunSummary, RunTracker};
use plb_domain::service::{ServiceState, ServiceStatus};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::ring::{Direction, Ring};
use crate::ports::{Clock, LogSource};

/// How many entries are kept in memory: at about 300 bytes an entry some 6 MB, the last
/// 20,000 lines (about a day of ProxLB at INFO, 2 s of a 10,000 lines/s flood).
pub const RETAINED: usize = 20_000;

/// Pause before following the source again after it failed the first time.
pub const MIN_BACKOFF: Duration = Duration::from_millis(250);

/// Longest pause between attempts to follow a source that keeps failing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How often an unfinished entry (a traceback still being written) is checked for idleness.
const FLUSH_TICK: Duration = Duration::from_millis(250);

/// How often the run tracker's clock moves on.
const RUN_TICK: Duration = Duration::from_millis(500);

/// Most entries one subscriber takes from the ring at a time.
const READ_BATCH: usize = 256;

/// What a subscription yields.
#[derive(Clone, Debug, PartialEq)]
pub enum LogFeed {
    /// The next entry.
    Entry(Arc<LogEntry>),
    /// `missed` entries after the subscriber's cursor were dropped from memory before it could
    /// read them; the entries that follow come after that gap.
    Gap {
        /// How many.
        missed: u64,
        /// The `seq` of the last entry missed: resuming after it continues right after the gap.
        last_seq: u64,
    },
}

/// Why a live cursor cannot be resumed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not `<hex epoch>.<seq>`.
    #[error("not a cursor of topic \"logs\" (expected <epoch>.<seq>)")]
    Malformed,
    /// A cursor of an earlier server process: its numbers mean other entries.
    #[error("the cursor is from an earlier server process; subscribe without one")]
    OtherProcess,
}

/// The log service. Cheap to clone.
#[derive(Clone)]
pub struct LogService {
    inner: Arc<Inner>,
}

struct Inner {
    ring: Mutex<Ring<LogEntry>>,
    /// The newest `seq` (0 before the first entry); subscribers wait on it.
    newest: watch::Sender<u64>,
    runs: Mutex<RunTracker>,
    run_state: watch::Sender<RunState>,
    clock: Arc<dyn Clock>,
    /// This service's part of every live cursor (its start time), so a cursor from another
    /// server process, whose `seq`s mean other entries, is recognised.
    epoch: String,
}

impl LogService {
    /// The service following `source` until `shutdown`, keeping [`RETAINED`] entries.
    pub fn start(
        source: Arc<dyn LogSource>,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Self {
        Self::start_with_capacity(source, clock, shutdown, RETAINED)
    }

    /// [`LogService::start`] keeping `capacity` entries (tests use small rings).
    pub fn start_with_capacity(
        source: Arc<dyn LogSource>,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
        capacity: usize,
    ) -> Self {
        let tracker = RunTracker::new();
        let (run_state, _) = watch::channel(tracker.state());
        let started = clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let service = Self {
            inner: Arc::new(Inner {
                ring: Mutex::new(Ring::new(capacity)),
                newest: watch::channel(0).0,
                runs: Mutex::new(tracker),
                run_state,
                clock,
                epoch: format!("{started:x}"),
            }),
        };
        let follower = service.clone();
        let follow_shutdown = shutdown.clone();
        tokio::spawn(async move { follower.follow(source, capacity, follow_shutdown).await });
        let ticker = service.clone();
        tokio::spawn(async move { ticker.tick_runs(shutdown).await });
        service
    }

    /// One page of the retained entries that match `query`, oldest first. With `before_seq`
    /// the newest matches below it (paging back in time), with `after_seq` the oldest matches
    /// above it (paging forward), with neither the newest matches; at most
    /// [`LogQuery::effective_limit`].
    pub fn query(&self, query: &LogQuery) -> LogPage {
        let limit = query.effective_limit();
        let direction = match (query.before_seq, query.after_seq) {
            (None, Some(after)) => Direction::After { after },
            (before, _) => Direction::Newest { before },
        };
        let ring = self.inner.lock_ring();
        let page = ring.page(direction, limit, |entry| query.matches(entry));
        LogPage {
            entries: page
                .items
                .into_iter()
                .map(|(_, entry)| LogEntry::clone(&entry))
                .collect(),
            oldest_seq: ring.oldest_seq(),
            newest_seq: ring.newest_seq(),
            has_more: page.has_more,
            live_cursor: self.cursor(ring.newest_seq()),
        }
    }

    /// The live cursor of the entry numbered `seq`: `<epoch>.<seq>`.
    pub fn cursor(&self, seq: u64) -> String {
        format!("{}.{seq}", self.inner.epoch)
    }

    /// The `seq` a live cursor names, if it is one of this server process.
    pub fn parse_cursor(&self, cursor: &str) -> Result<u64, CursorError> {
        let (epoch, seq) = cursor.split_once('.').ok_or(CursorError::Malformed)?;
        if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CursorError::Malformed);
        }
        let seq = seq.parse::<u64>().map_err(|_| CursorError::Malformed)?;
        if epoch == self.inner.epoch {
            Ok(seq)
        } else {
            Err(CursorError::OtherProcess)
        }
    }

    /// The lines of the entries [`LogService::query`] answers, as ProxLB wrote them (a
    /// traceback's lines each on their own), one per line: the download.
    pub fn raw(&self, query: &LogQuery) -> String {
        let mut text = String::new();
        for entry in self.query(query).entries {
            text.push_str(&entry.raw);
            text.push('\n');
        }
        text
    }

    /// The newest `seq` handed out (0 before the first entry).
    pub fn newest_seq(&self) -> u64 {
        *self.inner.newest.borrow()
    }

    /// The entries after `after_seq` as they come: first those still retained, then new ones,
    /// none twice and none skipped; a [`LogFeed::Gap`] says how many were dropped before the
    /// subscriber read them. `None` starts at the present (only new entries); `Some(0)` starts
    /// at the oldest entry retained. A cursor beyond the newest entry starts at the present.
    /// The stream ends at shutdown.
    pub fn subscribe(&self, after_seq: Option<u64>) -> BoxStream<'static, LogFeed> {
        let mut newest = self.inner.newest.subscribe();
        let present = *newest.borrow_and_update();
        let next = after_seq.map_or(present, |after| after.min(present));
        let start = (
            Arc::clone(&self.inner),
            newest,
            next,
            Vec::new().into_iter(),
        );
        stream::unfold(
            start,
            |(inner, mut newest, mut after, mut pending)| async move {
                loop {
                    if let Some(feed) = pending.next() {
                        return Some((feed, (inner, newest, after, pending)));
                    }
                    let read = inner.lock_ring().read_after(after, READ_BATCH);
                    if read.missed == 0 && read.items.is_empty() {
                        // `changed` marks the value seen before the ring is read again, so an
                        // entry added after this read wakes us at once.
                        newest.changed().await.ok()?;
                        continue;
                    }
                    let mut batch = Vec::with_capacity(read.items.len() + 1);
                    if read.missed > 0 {
                        batch.push(LogFeed::Gap {
                            missed: read.missed,
                            last_seq: after + read.missed,
                        });
                    }
                    if let Some((seq, _)) = read.items.last() {
                        after = *seq;
                    } else {
                        after += read.missed;
                    }
                    batch.extend(read.items.into_iter().map(|(_, e)| LogFeed::Entry(e)));
                    pending = batch.into_iter();
                }
            },
        )
        .boxed()
    }

    /// Every entry from the oldest retained on, then every new one, in order: for consumers
    /// that build on the log (the migration history). Entries dropped before they were read
    /// are skipped (and logged); at ProxLB's pace that does not happen.
    pub fn subscribe_entries(&self) -> BoxStream<'static, Arc<LogEntry>> {
        self.subscribe(Some(0))
            .filter_map(|feed| async move {
                match feed {
                    LogFeed::Entry(entry) => Some(entry),
                    LogFeed::Gap { missed, .. } => {
                        tracing::warn!(missed, "a log consumer fell behind; entries skipped");
                        None
                    }
                }
            })
            .boxed()
    }

    /// The run state as the log tells it (idle, running, sleeping until …).
    pub fn runs(&self) -> watch::Receiver<RunState> {
        self.inner.run_state.subscribe()
    }

    /// The run state now.
    pub fn run_state(&self) -> RunState {
        self.inner.run_state.borrow().clone()
    }

    /// The last finished run (when, how many migrations, how it ended), if any.
    pub fn last_run(&self) -> Option<RunSummary> {
        self.inner.lock_runs().last_run().cloned()
    }

    /// Tells the run tracker that the service changed state (a stopped ProxLB runs nothing).
    /// `started_now`: ProxLB Web itself has just started or restarted it, so a running service
    /// is a new process even where the backend reports no start time.
    pub fn service_changed(&self, status: &ServiceStatus, started_now: bool) {
        let running = match status.state {
            ServiceState::Running => true,
            ServiceState::Stopped | ServiceState::Failed => false,
            // Passing states and a backend that cannot be asked say nothing about runs.
            ServiceState::Restarting | ServiceState::Unknown => return,
        };
        let now = self.inner.now_ms();
        let mut tracker = self.inner.lock_runs();
        if running {
            if !tracker.service_running(status.since_unix_ms, now, started_now) {
                return;
            }
        } else {
            tracker.service_stopped(status.since_unix_ms.unwrap_or(now));
        }
        self.inner.publish_run(&tracker);
    }

    /// Moves the run tracker's clock on, so a sleep that has ended shows as a run even while
    /// ProxLB logs nothing (at INFO it logs nothing when a run starts).
    async fn tick_runs(&self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(RUN_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = self.inner.now_ms();
            let mut tracker = self.inner.lock_runs();
            if tracker.tick(now) {
                self.inner.publish_run(&tracker);
            }
        }
    }

    /// Follows `source` for the life of the service (see the module documentation).
    async fn follow(&self, source: Arc<dyn LogSource>, tail: usize, shutdown: CancellationToken) {
        let mut position: Option<String> = None;
        let mut assembler = Assembler::new();
        let mut backoff = MIN_BACKOFF;
        loop {
            let tail = if position.is_none() { tail } else { 0 };
            let followed = tokio::select! {
                () = shutdown.cancelled() => return,
                followed = source.follow(position.clone(), tail) => followed,
            };
            let mut got_lines = false;
            match followed {
                Ok(mut lines) => {
                    let mut tick = tokio::time::interval(FLUSH_TICK);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            _ = tick.tick() => {
                                let done = assembler.flush_if_idle(self.inner.now_ms());
                                self.inner.append(done);
                            }
                            line = lines.next() => match line {
                                Some(Ok(line)) => {
                                    got_lines = true;
                                    position = Some(line.position);
                                    let done = assembler.push(line.line);
                                    self.inner.append(done);
                                    // A source that always has a line ready must not keep the
                                    // other tasks of this thread waiting.
                                    tokio::task::consume_budget().await;
                                }
                                Some(Err(error)) => {
                                    tracing::warn!(%error, "reading ProxLB's log failed; following again");
                                    break;
                                }
                                None => break,
                            },
                        }
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "cannot follow ProxLB's log yet");
                }
            }
            // The source ended (ProxLB exited, its container went): what is pending is complete,
            // a crash's traceback included.
            self.inner.append(assembler.flush());
            backoff = if got_lines {
                MIN_BACKOFF
            } else {
                (backoff * 2).min(MAX_BACKOFF)
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
        }
    }
}

impl Inner {
    fn lock_ring(&self) -> MutexGuard<'_, Ring<LogEntry>> {
        // Pushing is one step: a panic elsewhere cannot leave the ring half-changed.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_runs(&self) -> MutexGuard<'_, RunTracker> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now_ms(&self) -> i64 {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
            })
    }

    /// Numbers the finished entries, keeps them, tells the run tracker and wakes subscribers.
    fn append(&self, entries: Vec<LogEntry>) {
        if entries.is_empty() {
            return;
        }
        let mut tracker = self.lock_runs();
        let newest = {
            let mut ring = self.lock_ring();
            for mut entry in entries {
                entry.seq = ring.next_seq();
                tracker.feed(&entry);
                ring.push(Arc::new(entry));
            }
            ring.newest_seq()
        };
        self.publish_run(&tracker);
        drop(tracker);
        self.newest.send_replace(newest);
    }

    fn publish_run(&self, tracker: &RunTracker) {
        let state = tracker.state();
        self.run_state.send_if_modified(|current| {
            let changed = *current != state;
            if changed {
                *current = state.clone();
            }
            changed
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::stream;
    use plb_domain::logs::{Level, LogStream, RawLine};

    use super::*;
    use crate::clock::SystemClock;
    use crate::ports::{ServiceError, SourceLine};
    use crate::testing::FakeLogSource;

    /// Bound for anything that must happen "soon"; generous for a loaded host.
    const PATIENCE: Duration = Duration::from_secs(60);

    /// A transport time well in the past, so an unfinished entry counts as idle at once.
    const T0: i64 = 1_795_365_000_000;

    fn line(n: u64, level: &str) -> String {
        format!("2026-11-22 17:49:17,282 - ProxLB - {level} - line {n}")
    }

    fn start(source: Arc<dyn LogSource>, capacity: usize) -> (LogService, CancellationToken) {
        let shutdown = CancellationToken::new();
        let service = LogService::start_with_capacity(
            source,
            Arc::new(SystemClock),
            shutdown.clone(),
            capacity,
        );
        (service, shutdown)
    }

    async fn wait_for_seq(service: &LogService, seq: u64) {
        let mut newest = service.inner.newest.subscribe();
        tokio::time::timeout(PATIENCE, newest.wait_for(|newest| *newest >= seq))
            .await
            .expect("entries did not arrive in time")
            .expect("the log service ended");
    }

    /// The line number in an entry's message ("line 7" → 7).
    fn number(entry: &LogEntry) -> u64 {
        entry
            .message
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    }

    async fn take(feed: &mut BoxStream<'static, LogFeed>, count: usize) -> Vec<LogFeed> {
        let mut out = Vec::new();
        while out.len() < count {
            let next = tokio::time::timeout(PATIENCE, feed.next())
                .await
                .expect("no entry in time")
                .expect("the feed ended");
            out.push(next);
        }
        out
    }

    fn entries(feed: &[LogFeed]) -> Vec<(u64, u64)> {
        feed.iter()
            .filter_map(|item| match item {
                LogFeed::Entry(entry) => Some((entry.seq, number(entry))),
                LogFeed::Gap { .. } => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_running_service_without_a_start_time_is_a_new_run_only_when_started_here() {
        let (service, shutdown) = start(FakeLogSource::new(), 100);
        let running = ServiceStatus {
            backend: plb_domain::service::BackendKind::Process,
            target: "proxlb".to_owned(),
            state: ServiceState::Running,
            since_unix_ms: None,
            pid: Some(7),
            exit_code: None,
            last_error_lines: Vec::new(),
            version: None,
            problem: None,
        };
        let since = |service: &LogService| match service.run_state() {
            RunState::Running { since_unix_ms } => since_unix_ms,
            other => panic!("not running: {other:?}"),
        };
        // First seen running: a run.
        service.service_changed(&running, false);
        let first = since(&service);
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Seen running again (the next poll): the same process, the same run.
        service.service_changed(&running, false);
        assert_eq!(since(&service), first);
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Restarted by ProxLB Web: a new process, a new run.
        service.service_changed(&running, true);
        assert!(since(&service) > first);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_subscriber_resumes_after_its_cursor_across_refollows_without_gap_or_duplicate() {
        let source = FakeLogSource::new();
        for n in 1..=10 {
            source.push(T0 + n as i64, &line(n, "INFO"));
        }
        let (service, shutdown) = start(source.clone(), 1_000);
        wait_for_seq(&service, 10).await;

        let mut feed = service.subscribe(Some(4));
        let first = take(&mut feed, 6).await;
        assert_eq!(
            entries(&first),
            (5..=10).map(|n| (n, n)).collect::<Vec<_>>()
        );

        // The source ends (a container restart); the service follows again after the last
        // position it got, so the lines after it arrive once.
        source.cut();
        for n in 11..=20 {
            source.push(T0 + n as i64, &line(n, "INFO"));
        }
        let second = take(&mut feed, 10).await;
        assert_eq!(
            entries(&second),
            (11..=20).map(|n| (n, n)).collect::<Vec<_>>()
        );
        let follows = source.follows();
        assert_eq!(follows.first(), Some(&None), "{follows:?}");
        assert!(
            follows.iter().skip(1).all(|after| after.is_some()),
            "every later follow resumes after a position: {follows:?}"
        );

        // A second subscriber with the first one's cursor sees exactly what came after it.
        let mut again = service.subscribe(Some(15));
        assert_eq!(
            entries(&take(&mut again, 5).await),
            (16..=20).map(|n| (n, n)).collect::<Vec<_>>()
        );
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_source_that_fails_is_followed_again_from_where_it_stopped() {
        let source = FakeLogSource::new();
        source.fail_next(2);
        source.push(T0, &line(1, "INFO"));
        source.push(T0 + 1, &line(2, "INFO"));
        let (service, shutdown) = start(source.clone(), 1_000);
        wait_for_seq(&service, 2).await;
        assert!(source.follows().len() >= 3, "{:?}", source.follows());
        let page = service.query(&LogQuery::default());
        assert_eq!(
            page.entries.iter().map(number).collect::<Vec<_>>(),
            vec![1, 2]
        );
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_cursor_older_than_the_ring_gets_a_gap_then_the_oldest_retained_entry() {
        let source = FakeLogSource::new();
        let (service, shutdown) = start(source.clone(), 10);
        // Pushed after the first follow: the service reads all 30 (at start it would read
        // only the last 10, its capacity).
        tokio::time::timeout(PATIENCE, async {
            while source.follows().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the source was never followed");
        for n in 1..=30 {
            source.push(T0 + n as i64, &line(n, "INFO"));
        }
        wait_for_seq(&service, 30).await;
        let mut feed = service.subscribe(Some(3));
        let got = take(&mut feed, 11).await;
        assert_eq!(
            got[0],
            LogFeed::Gap {
                missed: 17,
                last_seq: 20
            }
        );
        assert_eq!(
            entries(&got[1..]),
            (21..=30).map(|n| (n, n)).collect::<Vec<_>>()
        );
        // Without a cursor only new entries come; `Some(0)` means "all retained".
        let mut everything = service.subscribe(Some(0));
        assert!(matches!(
            take(&mut everything, 1).await[0],
            LogFeed::Gap { missed: 20, .. }
        ));
        shutdown.cancel();
    }

    #[tokio::test]
    async fn pages_filter_by_level_and_text_and_cover_the_log_exactly_once() {
        let source = FakeLogSource::new();
        for n in 1..=60_u64 {
            let level = if n.is_multiple_of(3) {
                "WARNING"
            } else {
                "INFO"
            };
            source.push(T0 + n as i64, &line(n, level));
        }
        let (service, shutdown) = start(source, 1_000);
        wait_for_seq(&service, 60).await;

        let warnings = |before: Option<u64>, after: Option<u64>| LogQuery {
            min_level: Some(Level::Warning),
            before_seq: before,
            after_seq: after,
            limit: Some(7),
            ..LogQuery::default()
        };
        let mut back = Vec::new();
        let mut before = None;
        loop {
            let page = service.query(&warnings(before, None));
            assert_eq!(page.newest_seq, 60);
            assert_eq!(page.oldest_seq, Some(1));
            let mut numbers: Vec<u64> = page.entries.iter().map(number).collect();
            before = page.entries.first().map(|e| e.seq);
            numbers.extend(back);
            back = numbers;
            if !page.has_more {
                break;
            }
        }
        let expected: Vec<u64> = (1..=20).map(|n| n * 3).collect();
        assert_eq!(back, expected);
        let mut forward = Vec::new();
        let mut after = 0;
        loop {
            let page = service.query(&warnings(None, Some(after)));
            forward.extend(page.entries.iter().map(number));
            after = page.entries.last().map_or(after, |e| e.seq);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(forward, expected);

        let search = LogQuery {
            search: Some("LINE 42".into()),
            ..LogQuery::default()
        };
        assert_eq!(service.raw(&search), format!("{}\n", line(42, "WARNING")));
        shutdown.cancel();
    }

    /// A source that produces `total` lines as fast as it is read, without keeping them.
    struct Flood {
        total: u64,
    }

    #[async_trait::async_trait]
    impl LogSource for Flood {
        async fn follow(
            &self,
            after: Option<String>,
            _tail: usize,
        ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
            let start = after
                .and_then(|p| p.parse::<u64>().ok())
                .map_or(1, |p| p + 1);
            let lines = stream::iter(start..=self.total).map(|n| {
                Ok(SourceLine {
                    position: n.to_string(),
                    line: RawLine {
                        at_unix_ms: T0 + n as i64,
                        stream: LogStream::Stdout,
                        text: line(n, "INFO"),
                    },
                })
            });
            // After the flood the source stays open, as a running ProxLB's would.
            Ok(lines.chain(stream::pending()).boxed())
        }
    }

    #[tokio::test]
    async fn memory_stays_bounded_when_600k_lines_arrive_at_once() {
        const TOTAL: u64 = 600_000;
        let (service, shutdown) = start(Arc::new(Flood { total: TOTAL }), RETAINED);
        // A subscriber that never reads holds nothing: it reads the ring, not a queue.
        let idle = service.subscribe(Some(0));
        let mut newest = service.inner.newest.subscribe();
        let mut largest = 0;
        let finished = tokio::time::timeout(PATIENCE * 5, async {
            loop {
                largest = largest.max(service.inner.lock_ring().len());
                if *newest.borrow_and_update() >= TOTAL - 1 {
                    return;
                }
                if newest.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(finished.is_ok(), "the flood was not taken in time");
        largest = largest.max(service.inner.lock_ring().len());
        assert!(largest <= RETAINED, "the ring grew to {largest}");
        assert_eq!(largest, RETAINED, "the ring filled up");
        let page = service.query(&LogQuery::default());
        let oldest = page.oldest_seq.unwrap_or_default();
        assert_eq!(page.newest_seq - oldest + 1, RETAINED as u64);
        drop(idle);
        shutdown.cancel();
    }
}
