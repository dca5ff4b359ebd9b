//! The ProxLB Web server binary.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    proxlb_web::server::run().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side has no `main`; see `hydrate()` in lib.rs.
}
