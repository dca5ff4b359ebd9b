//! One what-if replay at a time: each replays ProxLB's whole calculation on its own copy of the
//! plan (at 10,000 guests tens of megabytes and a core for 50–150 ms). Side by side they only
//! shared the same cores and stacked their memory, so later callers wait their turn.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::Error;

/// Runs CPU-heavy work on the blocking pool, one piece at a time. Cheap to clone; clones share
/// the turn.
#[derive(Clone)]
pub(crate) struct OneAtATime(Arc<Semaphore>);

impl Default for OneAtATime {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(1)))
    }
}

impl OneAtATime {
    /// Waits for the turn, then runs `work` off the async workers and returns its result.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        // The semaphore is never closed, so acquiring only waits.
        let turn = Arc::clone(&self.0)
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            work()
        })
        .await
        .map_err(Error::internal)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn pieces_of_work_run_one_after_another_and_all_finish() {
        let turns = OneAtATime::default();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..4)
            .map(|piece| {
                let (turns, running, most) =
                    (turns.clone(), Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(async move {
                    turns
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(30));
                            running.fetch_sub(1, Ordering::SeqCst);
                            piece
                        })
                        .await
                })
            })
            .collect();
        let mut done = Vec::new();
        for caller in callers {
            done.push(caller.await.unwrap().unwrap());
        }
        done.sort_unstable();
        assert_eq!(done, [0, 1, 2, 3], "every caller gets its own answer");
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two pieces ran side by side"
        );
    }
}
