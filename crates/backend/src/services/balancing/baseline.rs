//! Today's evaluation, kept while its inputs stay the same: the poller's cluster data (by
//! identity), the configuration file (by digest) and the local minute (maintenance schedules).
//! The plan, every explained guest and every what-if (`what_if_against`) reuse it, so a what-if
//! costs one evaluation of the candidate only.
//!
//! At 10,000 guests a baseline holds about 30 MB (the domain model and ProxLB's replayed
//! calculation), and the poll data it was built from about 10 MB more. So the cache never keeps
//! poll data alive (the key holds it weakly), lets a baseline go before building its successor
//! (it never holds the two at once), and lets it go as soon as the poller publishes
//! newer data ([`release_when_polled`]): after the last balancing request the server falls back
//! to its idle size.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use plb_domain::projection::BalancingProjection;
use plb_domain::proxlb::decision::Evaluation;
use plb_domain::proxlb::{ClusterSnapshot, LocalTime};
use plb_domain::view::BalancingInputs;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::services::snapshot::ClusterData;

/// One evaluation of today's configuration with what it was made from.
pub struct Baseline {
    /// The domain's cluster model it was evaluated on.
    pub snapshot: ClusterSnapshot,
    /// ProxLB's calculation replayed.
    pub evaluation: Evaluation,
    /// Its projection (the plan as the view shows it), made once: every what-if shows it too.
    pub projection: BalancingProjection,
    /// Coverage and age of the RRD inputs of that data.
    pub inputs: Option<BalancingInputs>,
    /// The ProxLB host's local time it was evaluated at.
    pub now: LocalTime,
}

/// What a baseline depends on.
#[derive(Clone)]
pub struct Key {
    /// The poller's data, compared by identity (a new poll is a new `Arc`) and held weakly:
    /// the poller's next cycle frees it whatever the cache holds.
    data: Weak<ClusterData>,
    /// Digest of ProxLB's configuration file.
    digest: String,
    /// Local time, to the minute.
    now: LocalTime,
}

impl Key {
    /// The key of a baseline built from `data` under the file of `digest` at `now`.
    pub fn new(data: &Arc<ClusterData>, digest: String, now: LocalTime) -> Self {
        Self {
            data: Arc::downgrade(data),
            digest,
            now,
        }
    }

    fn same(&self, other: &Key) -> bool {
        // The weak reference keeps the data's allocation, so its address cannot be reused by a
        // later poll while a key names it.
        Weak::ptr_eq(&self.data, &other.data)
            && self.digest == other.digest
            && self.now == other.now
    }

    fn built_from(&self, data: &Arc<ClusterData>) -> bool {
        std::ptr::eq(self.data.as_ptr(), Arc::as_ptr(data))
    }
}

/// The kept baseline with its key.
type Kept = Option<(Key, Arc<Baseline>)>;

/// The latest baseline. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct BaselineCache {
    latest: Arc<Mutex<Kept>>,
}

impl BaselineCache {
    /// The baseline for `key`, built with `build` when the kept one is for other inputs. The
    /// kept one is let go first, so the cache never holds both at once; the lock is not held
    /// while building: two callers may both build once after a change, which costs time, never
    /// correctness.
    pub fn get_or_build(&self, key: Key, build: impl FnOnce() -> Baseline) -> Arc<Baseline> {
        let stale = {
            let mut kept = self.lock();
            match kept.as_ref() {
                Some((kept_key, baseline)) if kept_key.same(&key) => return Arc::clone(baseline),
                _ => kept.take(),
            }
        };
        drop(stale);
        let baseline = Arc::new(build());
        *self.lock() = Some((key, Arc::clone(&baseline)));
        baseline
    }

    /// Lets the kept baseline go unless it was built from `current` (the poller's latest
    /// data); returns it, so the caller chooses where the drop's work is done.
    #[must_use = "dropping the returned baseline frees it here"]
    pub fn take_unless_built_from(
        &self,
        current: Option<&Arc<ClusterData>>,
    ) -> Option<Arc<Baseline>> {
        let mut kept = self.lock();
        let still_current = match (kept.as_ref(), current) {
            (Some((key, _)), Some(data)) => key.built_from(data),
            _ => false,
        };
        if still_current {
            None
        } else {
            kept.take().map(|(_, baseline)| baseline)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while holding the lock leaves a complete value or none: keep going.
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Until `shutdown`: each time `published` changes (the poller published a new view), lets
/// `cache`'s baseline go unless it was built from `current()`, the poller's latest data. The
/// baseline is freed on the blocking pool: at 10,000 guests that is some 100,000 allocations,
/// which the request workers should not pay for.
pub async fn release_when_polled<T>(
    cache: BaselineCache,
    mut published: watch::Receiver<T>,
    current: impl Fn() -> Option<Arc<ClusterData>>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = published.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        if let Some(stale) = cache.take_unless_built_from(current().as_ref()) {
            // Only the drop runs there; a join error would only mean the drop panicked.
            let _freed = tokio::task::spawn_blocking(move || drop(stale)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use plb_domain::proxlb::decision::{evaluate_full, EvaluationInput};
    use plb_domain::proxlb::{ProxLbConfig, Weekday};

    use super::*;

    fn minute(minute: u8) -> LocalTime {
        LocalTime {
            weekday: Weekday::Monday,
            hour: 12,
            minute,
        }
    }

    fn key(data: &Arc<ClusterData>, digest: &str, at: u8) -> Key {
        Key::new(data, digest.to_owned(), minute(at))
    }

    fn baseline() -> Baseline {
        let config: ProxLbConfig =
            serde_json::from_str(r#"{"proxmox_api": {"hosts": ["h"], "user": "u"}}"#)
                .expect("a minimal config");
        let snapshot = ClusterSnapshot::default();
        let evaluation = evaluate_full(EvaluationInput {
            snapshot: &snapshot,
            config: &config,
            now: minute(0),
            dry_run: false,
        });
        Baseline {
            snapshot,
            projection: evaluation.balancing_projection(),
            evaluation,
            inputs: None,
            now: minute(0),
        }
    }

    fn counted(builds: &Cell<usize>) -> impl FnOnce() -> Baseline + '_ {
        move || {
            builds.set(builds.get() + 1);
            baseline()
        }
    }

    #[test]
    fn a_baseline_is_kept_until_the_data_the_file_or_the_minute_changes() {
        let cache = BaselineCache::default();
        let builds = Cell::new(0);
        let data = Arc::new(ClusterData::default());
        let first = cache.get_or_build(key(&data, "a", 0), counted(&builds));
        let again = cache.get_or_build(key(&data, "a", 0), counted(&builds));
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(builds.get(), 1);
        // Equal but newly fetched data is a new poll.
        let polled = Arc::new(ClusterData::default());
        cache.get_or_build(key(&polled, "a", 0), counted(&builds));
        cache.get_or_build(key(&polled, "b", 0), counted(&builds));
        cache.get_or_build(key(&polled, "b", 1), counted(&builds));
        assert_eq!(builds.get(), 4);
        cache.get_or_build(key(&polled, "b", 1), counted(&builds));
        assert_eq!(builds.get(), 4);
    }

    #[test]
    fn the_cache_does_not_keep_the_poll_data_alive() {
        let cache = BaselineCache::default();
        let data = Arc::new(ClusterData::default());
        let polled = Arc::downgrade(&data);
        let _kept = cache.get_or_build(key(&data, "a", 0), baseline);
        drop(data);
        assert!(
            polled.upgrade().is_none(),
            "the poller's next cycle frees its data"
        );
    }

    #[test]
    fn a_stale_baseline_is_let_go_before_its_successor_is_built() {
        let cache = BaselineCache::default();
        let first_data = Arc::new(ClusterData::default());
        let first = Arc::downgrade(&cache.get_or_build(key(&first_data, "a", 0), baseline));
        assert!(first.upgrade().is_some(), "kept while current");
        let polled = Arc::new(ClusterData::default());
        cache.get_or_build(key(&polled, "a", 0), || {
            assert!(first.upgrade().is_none(), "both baselines held at once");
            baseline()
        });
    }

    #[test]
    fn only_a_baseline_of_other_data_is_taken() {
        let cache = BaselineCache::default();
        let data = Arc::new(ClusterData::default());
        let kept = Arc::downgrade(&cache.get_or_build(key(&data, "a", 0), baseline));
        assert!(cache.take_unless_built_from(Some(&data)).is_none());
        assert!(kept.upgrade().is_some());
        let polled = Arc::new(ClusterData::default());
        assert!(cache.take_unless_built_from(Some(&polled)).is_some());
        assert!(kept.upgrade().is_none());
        // Nothing kept, nothing to take; and without data (no cluster) nothing is kept.
        assert!(cache.take_unless_built_from(Some(&polled)).is_none());
        let _again = cache.get_or_build(key(&data, "a", 0), baseline);
        assert!(cache.take_unless_built_from(None).is_some());
    }

    #[tokio::test]
    async fn a_new_poll_releases_the_baseline_and_the_same_poll_keeps_it() {
        let cache = BaselineCache::default();
        let first_data = Arc::new(ClusterData::default());
        let kept = Arc::downgrade(&cache.get_or_build(key(&first_data, "a", 0), baseline));
        let (publish, published) = watch::channel(0_u64);
        let current = Arc::new(Mutex::new(Arc::clone(&first_data)));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(release_when_polled(
            cache.clone(),
            published,
            {
                let current = Arc::clone(&current);
                move || Some(Arc::clone(&current.lock().expect("not poisoned")))
            },
            shutdown.clone(),
        ));
        // A view published from the same data (e.g. after a config change) keeps it.
        publish.send_replace(1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(kept.upgrade().is_some(), "released though still current");
        *current.lock().expect("not poisoned") = Arc::new(ClusterData::default());
        publish.send_replace(2);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while kept.upgrade().is_some() {
            assert!(tokio::time::Instant::now() < deadline, "never released");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops on shutdown")
            .expect("did not panic");
    }
}
