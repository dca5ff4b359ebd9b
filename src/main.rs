//! The ProxLB Web server binary.

/// jemalloc, with the settings compiled in from `.cargo/config.toml`
/// (`JEMALLOC_SYS_WITH_MALLOC_CONF`): one arena, freed pages returned to the system at once, a
/// background thread for the purging. At 10,000 guests the server then goes back to its idle
/// size once the load stops, and pages and what-if replays are served faster than with glibc's
/// malloc (docs/benchmarks.md, "jemalloc"). `_RJEM_MALLOC_CONF` overrides the settings at run
/// time.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    proxlb_web::server::run().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side has no `main`; see `hydrate()` in lib.rs.
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use tikv_jemalloc_ctl::{opt, Access, AsName};

    /// The settings are compiled in by a build environment variable that nothing else checks:
    /// without them jemalloc keeps freed memory for seconds, in an arena per core.
    #[test]
    fn the_server_allocator_runs_with_the_compiled_in_settings() {
        assert_eq!(opt::narenas::read().expect("opt.narenas"), 1);
        assert!(opt::background_thread::read().expect("opt.background_thread"));
        let decay = |key: &'static [u8]| -> isize { key.name().read().expect("a decay option") };
        assert_eq!(decay(b"opt.dirty_decay_ms\0"), 0);
        assert_eq!(decay(b"opt.muzzy_decay_ms\0"), 0);
    }
}
