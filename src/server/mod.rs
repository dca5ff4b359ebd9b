//! The axum server: start-up, routes beside the Leptos app, the live channel, shutdown.

pub mod health;
pub mod live;
pub mod router;
pub mod shutdown;
pub mod state;
pub mod telemetry;

use std::process::ExitCode;

use plb_backend::{AppState, Settings};

/// Exit code for bad settings (like a usage error).
const EXIT_BAD_SETTINGS: u8 = 2;

/// Runs the server until SIGTERM or SIGINT. Bad settings print one line and exit with code 2.
pub async fn run() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("proxlb-web: {error}");
            return ExitCode::from(EXIT_BAD_SETTINGS);
        }
    };
    telemetry::init();
    plb_backend::tls::install_crypto_provider();

    let state = AppState::production(settings);
    let listen = state.settings.listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("proxlb-web: cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().unwrap_or(listen);
    tracing::info!(
        version = plb_backend::services::server_info::VERSION,
        "ProxLB Web listening on http://{address}"
    );

    shutdown::cancel_on_signal(state.shutdown.clone());
    let app = router::build(state.clone());
    let stopped = state.shutdown.clone();
    match axum::serve(listener, app)
        .with_graceful_shutdown(async move { stopped.cancelled().await })
        .await
    {
        Ok(()) => {
            tracing::info!("ProxLB Web stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
