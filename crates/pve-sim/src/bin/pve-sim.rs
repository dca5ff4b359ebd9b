//! `pve-sim`: runs the Proxmox VE API simulator on a loopback port with a scenario file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use plb_pve_sim::{Credential, Scenario, SimConfig, Simulator, Timing};

/// A stateful Proxmox VE API simulator (HTTPS, PVE auth, ProxLB-compatible endpoints).
#[derive(Debug, Parser)]
#[command(name = "pve-sim", version, about)]
struct Args {
    /// Scenario file (YAML or JSON), e.g. crates/pve-sim/scenarios/demo-3node.yaml.
    #[arg(long)]
    scenario: PathBuf,
    /// Port to listen on (127.0.0.1 only); 0 picks a free port.
    #[arg(long, default_value_t = 8006)]
    port: u16,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    /// Directory for pve-ssl.pem / pve-ssl.key / pve-ssl.fingerprint (default: a temp dir).
    #[arg(long)]
    cert_dir: Option<PathBuf>,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Duration of a migration task in simulated seconds.
    #[arg(long, default_value_t = 8.0)]
    migration_seconds: f64,
    /// Ticket lifetime in simulated seconds (PVE: 7200).
    #[arg(long, default_value_t = 7200)]
    ticket_lifetime: u64,
    /// Delay 401 answers by this many milliseconds (PVE: 3000).
    #[arg(long, default_value_t = 0)]
    unauthorized_delay_ms: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let scenario = match Scenario::from_path(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pve-sim: {}: {e}", args.scenario.display());
            return ExitCode::from(2);
        }
    };
    let config = SimConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], args.port)),
        tls: !args.http,
        cert_dir: args.cert_dir.clone(),
        time_scale: args.time_scale,
        timing: Timing {
            migration: args.migration_seconds,
            ..Timing::default()
        },
        ticket_lifetime: Duration::from_secs(args.ticket_lifetime),
        unauthorized_delay: Duration::from_millis(args.unauthorized_delay_ms),
        ..SimConfig::default()
    };
    let sim = match Simulator::start(scenario, config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pve-sim: {e}");
            return ExitCode::from(1);
        }
    };
    println!("pve-sim listening on {}", sim.base_url());
    if let Some(cert) = sim.cert() {
        println!("certificate: {}", cert.cert_path.display());
        println!("fingerprint (SHA-256): {}", cert.fingerprint);
    }
    for c in sim.credentials() {
        match c {
            Credential::Password { userid, password } => {
                println!("login: {userid} / {password}");
            }
            Credential::Token { .. } => {
                if let Some(h) = c.authorization_header() {
                    println!("token: Authorization: {h}");
                }
            }
        }
    }
    println!("press Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
