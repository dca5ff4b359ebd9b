//! Today's evaluation, kept while its inputs stay the same: the poller's cluster data (by
//! identity), the configuration file (by digest) and the local minute (maintenance schedules).
//! The plan, every explained guest and every what-if (`what_if_against`) reuse it, so a what-if
//! costs one evaluation of the candidate only.

use std::sync::{Arc, Mutex, PoisonError};

use plb_domain::projection::BalancingProjection;
use plb_domain::proxlb::decision::Evaluation;
use plb_domain::proxlb::{ClusterSnapshot, LocalTime};
use plb_domain::view::BalancingInputs;

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
    /// The poller's data (compared by identity: a new poll is a new `Arc`).
    pub data: Arc<ClusterData>,
    /// Digest of ProxLB's configuration file.
    pub digest: String,
    /// Local time, to the minute.
    pub now: LocalTime,
}

impl Key {
    fn same(&self, other: &Key) -> bool {
        Arc::ptr_eq(&self.data, &other.data) && self.digest == other.digest && self.now == other.now
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
    /// lock is not held while building: two callers may both build once after a change, which
    /// costs time, never correctness.
    pub fn get_or_build(&self, key: Key, build: impl FnOnce(&Key) -> Baseline) -> Arc<Baseline> {
        if let Some((kept, baseline)) = self.lock().as_ref() {
            if kept.same(&key) {
                return Arc::clone(baseline);
            }
        }
        let baseline = Arc::new(build(&key));
        *self.lock() = Some((key, Arc::clone(&baseline)));
        baseline
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while holding the lock leaves a complete value or none: keep going.
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use plb_domain::proxlb::decision::{evaluate_full, EvaluationInput};
    use plb_domain::proxlb::{ProxLbConfig, Weekday};

    use super::*;

    fn key(data: &Arc<ClusterData>, digest: &str, minute: u8) -> Key {
        Key {
            data: Arc::clone(data),
            digest: digest.to_owned(),
            now: LocalTime {
                weekday: Weekday::Monday,
                hour: 12,
                minute,
            },
        }
    }

    fn build(builds: &Cell<usize>) -> impl FnOnce(&Key) -> Baseline + '_ {
        move |key| {
            builds.set(builds.get() + 1);
            let config: ProxLbConfig =
                serde_json::from_str(r#"{"proxmox_api": {"hosts": ["h"], "user": "u"}}"#)
                    .expect("a minimal config");
            let snapshot = ClusterSnapshot::default();
            let evaluation = evaluate_full(EvaluationInput {
                snapshot: &snapshot,
                config: &config,
                now: key.now,
                dry_run: false,
            });
            Baseline {
                snapshot,
                projection: evaluation.balancing_projection(),
                evaluation,
                inputs: None,
                now: key.now,
            }
        }
    }

    #[test]
    fn a_baseline_is_kept_until_the_data_the_file_or_the_minute_changes() {
        let cache = BaselineCache::default();
        let builds = Cell::new(0);
        let data = Arc::new(ClusterData::default());
        let first = cache.get_or_build(key(&data, "a", 0), build(&builds));
        let again = cache.get_or_build(key(&data, "a", 0), build(&builds));
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(builds.get(), 1);
        // Equal but newly fetched data is a new poll.
        let polled = Arc::new(ClusterData::default());
        cache.get_or_build(key(&polled, "a", 0), build(&builds));
        cache.get_or_build(key(&polled, "b", 0), build(&builds));
        cache.get_or_build(key(&polled, "b", 1), build(&builds));
        assert_eq!(builds.get(), 4);
        cache.get_or_build(key(&polled, "b", 1), build(&builds));
        assert_eq!(builds.get(), 4);
    }
}
