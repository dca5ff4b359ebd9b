//! Notices `proxlb.yaml` changing on disk (ProxLB's tooling, an admin with vim, our own writes)
//! by polling its digest, and calls back once per change. Polling a small file every few seconds
//! works on every mount, bind-mounted single files included, where inotify misses a rename.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::ports::config::{ConfigStore, Digest};

/// How often the file is checked.
pub const POLL_INTERVAL: Duration = Duration::from_secs(3);

/// Polls `store` every `interval` until `shutdown`; calls `on_change` with the new digest each
/// time the bytes differ from the last seen ones (the first read only sets the baseline). A
/// missing or unreadable file counts as a state too, so its return is noticed.
pub fn spawn(
    store: Arc<dyn ConfigStore>,
    interval: Duration,
    shutdown: CancellationToken,
    on_change: impl Fn(Option<&Digest>) + Send + Sync + 'static,
) -> tokio::task::JoinHandle<()> {
    // The baseline is read now, not in the task: a change between start-up and the task's first
    // turn on a busy runtime would otherwise become the baseline and never be reported.
    let baseline = store.read().ok().map(|s| s.digest);
    tokio::spawn(async move {
        let read = |store: Arc<dyn ConfigStore>| async move {
            tokio::task::spawn_blocking(move || store.read().ok().map(|s| s.digest))
                .await
                .ok()
                .flatten()
        };
        let mut last = baseline;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let now = read(Arc::clone(&store)).await;
            if now != last {
                tracing::info!("ProxLB configuration changed on disk; reloading");
                on_change(now.as_ref());
                last = now;
            }
        }
    })
}
