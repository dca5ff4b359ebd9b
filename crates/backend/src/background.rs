//! Background threads yield the CPU to request handling.
//!
//! At 10,000 guests a poll cycle decodes about 3.5 MB of JSON and the view built from it takes
//! about 140 ms of CPU. On a small machine (2 cores is common for a management VM) that work ran
//! at the same priority as the request workers, so every rebuild showed up as a latency spike.
//! Threads that do such work lower their own priority with [`lower_this_threads_priority`]:
//! under load the scheduler then gives the request workers the CPU first and the snapshot
//! comes a little later, which is the trade an operator wants (a page answered now, data
//! that is at most one rebuild older).

/// How much nicer than the rest of the process a background thread runs (CFS gives a thread at
/// +10 about a tenth of the CPU share of one at 0 while both want it).
pub const BACKGROUND_NICE_STEP: i32 = 10;

/// Lowers the calling thread's CPU priority by [`BACKGROUND_NICE_STEP`] (Linux: `setpriority`
/// on the thread id changes only that thread). Never fails the caller: a refusal is logged.
/// The step cannot be undone without `CAP_SYS_NICE`, so call it only on threads that do
/// background work for their whole life, never on a pool shared with requests.
pub fn lower_this_threads_priority() {
    let thread = rustix::thread::gettid();
    let lowered = rustix::process::getpriority_process(Some(thread)).and_then(|nice| {
        rustix::process::setpriority_process(Some(thread), (nice + BACKGROUND_NICE_STEP).min(19))
    });
    if let Err(error) = lowered {
        tracing::warn!(%error, "could not lower a background thread's CPU priority");
    }
}

/// The calling thread's nice value (for tests and diagnostics).
pub fn this_threads_nice() -> Option<i32> {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_calling_thread_becomes_nicer() {
        let before = this_threads_nice().unwrap_or_default();
        let lowered = std::thread::spawn(|| {
            lower_this_threads_priority();
            this_threads_nice()
        })
        .join()
        .unwrap_or_default();
        assert_eq!(lowered, Some((before + BACKGROUND_NICE_STEP).min(19)));
        assert_eq!(
            this_threads_nice(),
            Some(before),
            "the caller's own thread is untouched"
        );
    }
}
