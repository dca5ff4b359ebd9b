//! The axum server: start-up, routes beside the Leptos app, the live channel, shutdown.

pub mod auth;
pub mod balancing_ask_rest;
pub mod balancing_rest;
pub mod compression;
pub mod config_rest;
pub mod demo;
pub mod demo_drift;
pub mod front_door;
pub mod gzip_only;
pub mod health;
pub mod limits;
pub mod live;
pub mod migrations_rest;
pub mod origin;
pub mod page_cache;
pub mod proxlb_rest;
pub mod rest;
pub mod rest_cache;
pub mod router;
pub mod serve;
pub mod sfn_status;
pub mod shutdown;
pub mod state;
pub mod telemetry;
pub mod tls;

use std::process::ExitCode;

use clap::Parser;
use plb_backend::Settings;

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
    // Sessions, the database and config backups live there: private (0700), or no start.
    if let Err(error) = plb_backend::settings::data_dir::prepare(&settings.data_dir) {
        eprintln!("proxlb-web: {error}");
        return ExitCode::from(EXIT_BAD_SETTINGS);
    }

    // Demo mode: the simulator lives as long as this function, i.e. the server.
    let (state, demo) = match demo::wire(settings).await {
        Ok(wired) => wired,
        Err(error) => {
            eprintln!("proxlb-web: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(started) = &demo {
        tracing::warn!(
            config = %started.config_path.display(),
            proxmox = %started.simulator.base_url(),
            "DEMO MODE: serving an embedded simulated cluster, not a real Proxmox VE"
        );
    }
    // Direct HTTPS when a certificate is configured; a bad one stops the start.
    let tls = match &state.settings.access.tls {
        Some(files) => match tls::acceptor(files) {
            Ok(acceptor) => Some(acceptor),
            Err(error) => {
                eprintln!("proxlb-web: {error}");
                return ExitCode::from(EXIT_BAD_SETTINGS);
            }
        },
        None => None,
    };
    let listen = state.settings.listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("proxlb-web: cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().unwrap_or(listen);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        version = plb_backend::services::server_info::VERSION,
        "ProxLB Web listening on {scheme}://{address}"
    );

    shutdown::cancel_on_signal(state.shutdown.clone());
    let app = router::build(state.clone());
    serve::serve_with(
        listener,
        app,
        state.shutdown.clone(),
        serve::Limits::default(),
        tls,
    )
    .await;
    // A ProxLB child process (process backend) ends with the server: SIGINT, exit 0.
    state.proxlb.shutdown().await;
    if let Some(demo) = demo {
        demo.simulator.shutdown().await;
    }
    tracing::info!("ProxLB Web stopped");
    ExitCode::SUCCESS
}
