//! `pve-sim`: runs the Proxmox VE API simulator on a loopback port with a scenario file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use plb_pve_sim::generate::{self, LARGE_GUESTS, LARGE_NODES};
use plb_pve_sim::{Credential, Scenario, SimConfig, Simulator, Timing};

/// A stateful Proxmox VE API simulator (HTTPS, PVE auth, ProxLB-compatible endpoints).
#[derive(Debug, Parser)]
#[command(name = "pve-sim", version, about)]
struct Args {
    /// Scenario file (YAML or JSON), e.g. crates/pve-sim/scenarios/demo-3node.yaml, or `large`
    /// for the generated 64-node, 10,000-guest cluster.
    #[arg(
        long,
        required_unless_present = "generate",
        conflicts_with = "generate"
    )]
    scenario: Option<String>,
    /// Generate a cluster of NODESxGUESTS instead of reading a file, e.g. 64x10000.
    #[arg(long, value_name = "NODESxGUESTS")]
    generate: Option<String>,
    /// Seed of a generated scenario (`--scenario large`, `--generate`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
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
    let started = Instant::now();
    let scenario = match (&args.scenario, &args.generate) {
        (_, Some(size)) => match generate::parse_size(size) {
            Some((nodes, guests)) => generate::large(nodes, guests, args.seed),
            None => {
                eprintln!("pve-sim: --generate expects NODESxGUESTS (e.g. 64x10000), got {size:?}");
                return ExitCode::from(2);
            }
        },
        (Some(name), None) if name == "large" && !PathBuf::from(name).exists() => {
            generate::large(LARGE_NODES, LARGE_GUESTS, args.seed)
        }
        (Some(path), None) => match Scenario::from_path(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pve-sim: {path}: {e}");
                return ExitCode::from(2);
            }
        },
        (None, None) => {
            eprintln!("pve-sim: --scenario or --generate is required");
            return ExitCode::from(2);
        }
    };
    let (node_count, guest_count) = (scenario.nodes.len(), scenario.guests.len());
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
    println!(
        "pve-sim: {node_count} nodes, {guest_count} guests, started in {} ms",
        started.elapsed().as_millis()
    );
    println!("pve-sim listening on {}", sim.base_url());
    let scheme = if args.http { "http" } else { "https" };
    println!("admin: {scheme}://{}/_sim/state", sim.addr());
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
