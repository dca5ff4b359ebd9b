//! The axum server: start-up, routes beside the Leptos app, the live channel, shutdown.

pub mod demo;
pub mod health;
pub mod live;
pub mod rest;
pub mod router;
pub mod shutdown;
pub mod state;
pub mod telemetry;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use plb_backend::services::cluster::{self, ConnectOptions};
use plb_backend::{AppState, ClusterSource, Settings};

/// Exit code for bad settings (like a usage error).
const EXIT_BAD_SETTINGS: u8 = 2;

/// Command line. Everything else is configured through the environment (see the README).
#[derive(Debug, Parser)]
#[command(
    name = "proxlb-web",
    version,
    about = "Web control plane for ProxLB, the load balancer for Proxmox VE clusters"
)]
struct Cli {
    /// Serve an embedded simulated cluster instead of the one in PROXLB_CONFIG
    /// (same as PROXLB_DEMO=1; PROXLB_DEMO_SCENARIO picks which cluster).
    #[arg(long)]
    demo: bool,
    /// Ask the server at HOST/PORT for /healthz and exit: 0 when it answers, 1 when it does not
    /// (the container image's health check).
    #[arg(long)]
    healthcheck: bool,
}

/// Runs the server until SIGTERM or SIGINT. Bad settings print one line and exit with code 2.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("proxlb-web: {error}");
            return ExitCode::from(EXIT_BAD_SETTINGS);
        }
    };
    settings.demo |= cli.demo;
    plb_backend::tls::install_crypto_provider();
    if cli.healthcheck {
        return match health::probe(settings.listen).await {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(line) => {
                eprintln!("{line}");
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init();

    // Demo mode: the simulator lives as long as this function, i.e. the server.
    let mut demo = None;
    if settings.demo {
        match demo::start(&settings.data_dir, &settings.demo_scenario).await {
            Ok(started) => {
                tracing::warn!(
                    config = %started.config_path.display(),
                    proxmox = %started.simulator.base_url(),
                    "DEMO MODE: serving an embedded simulated cluster, not a real Proxmox VE"
                );
                settings.proxlb_config = started.config_path.clone();
                settings.ca_file = started.ca_file.clone();
                demo = Some(started);
            }
            Err(error) => {
                eprintln!("proxlb-web: {error}");
                return ExitCode::FAILURE;
            }
        }
    }

    let state = AppState::production(settings);
    let source = cluster::connect(
        ConnectOptions::from_settings(&state.settings),
        Arc::clone(&state.clock),
        state.shutdown.clone(),
    );
    if let ClusterSource::Unconfigured { reason } = &source {
        tracing::warn!(%reason, "no cluster: set PROXLB_CONFIG to ProxLB's proxlb.yaml, or start with --demo");
    }
    let state = state.with_cluster(source, demo.is_some());
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
            if let Some(demo) = demo {
                demo.simulator.shutdown().await;
            }
            tracing::info!("ProxLB Web stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
