//! A stateful Proxmox VE API simulator (see the crate README).
//!
//! Start one in-process with [`Simulator::start`]: it binds a loopback port (0 = any), serves
//! `https://127.0.0.1:<port>/api2/json/...` with a freshly generated self-signed certificate (or
//! plain HTTP), authenticates like PVE (tickets + CSRF, API tokens) and answers the endpoints
//! ProxLB and a dashboard use from a [`Scenario`], with usage that moves over (simulated) time and
//! migrations that really move guests. Faults (errors, latency, dropped connections), node
//! outages and ticket expiry can be injected from Rust or through the JSON admin endpoint under
//! `/_sim/` on the same listener (see [`admin`]); [`generate`] builds large clusters.

pub mod admin;
pub mod app;
pub mod auth;
pub mod clock;
pub mod generate;
pub mod metrics;
pub mod noise;
pub mod parse;
pub mod response;
pub mod routes;
pub mod scenario;
pub mod server;
pub mod state;
pub mod tasks;
pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use admin::{FaultSpec, GuestSummary, NodeSummary, StateSummary};
pub use app::{Fault, FaultRule};
pub use clock::Clock;
pub use scenario::{
    AclSpec, Affinity, ByteSize, ClusterSpec, GuestKind, GuestSpec, GuestStatus, HaRuleSpec,
    HaRuleType, NodeSpec, NodeStatus, PoolSpec, Scenario, ScenarioError, TokenSpec, UserSpec,
};
pub use state::{Cluster, Timing};
pub use tls::CertInfo;

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind; must be a loopback address. Default `127.0.0.1:0` (any free port).
    pub bind: SocketAddr,
    /// Serve HTTPS (default) or plain HTTP.
    pub tls: bool,
    /// Where to write `pve-ssl.pem`, `pve-ssl.key` and `pve-ssl.fingerprint`. Default: a fresh
    /// directory under the system temp dir (removed on shutdown).
    pub cert_dir: Option<PathBuf>,
    /// Simulated seconds per real second (0 = frozen; move it with [`Simulator::advance`]).
    pub time_scale: f64,
    /// Simulated start time (UNIX seconds). Default: the real current time.
    pub start_time: Option<f64>,
    /// Task durations and metric sampling (simulated seconds).
    pub timing: Timing,
    /// Ticket lifetime (simulated). PVE: 2 hours.
    pub ticket_lifetime: Duration,
    /// Delay before every 401 answer (PVE: 3 s). Default 0.
    pub unauthorized_delay: Duration,
    /// Amplitude of the usage noise (1 = default; 0 = usage constant at the scenario's means,
    /// useful when a test compares two runs of a balancer).
    pub noise: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: true,
            cert_dir: None,
            time_scale: 1.0,
            start_time: None,
            timing: Timing::default(),
            ticket_lifetime: Duration::from_secs(2 * 3600),
            unauthorized_delay: Duration::ZERO,
            noise: 1.0,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario is invalid.
    #[error("invalid scenario: {0}")]
    Scenario(#[from] ScenarioError),
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Binding the port failed.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Error.
        source: std::io::Error,
    },
    /// The bind address is not a loopback address.
    #[error("refusing to bind non-loopback address {0}")]
    NotLoopback(SocketAddr),
}

/// A login the scenario defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Ticket login.
    Password {
        /// `user@realm`.
        userid: String,
        /// Password.
        password: String,
    },
    /// API token.
    Token {
        /// `user@realm`.
        userid: String,
        /// Token name.
        tokenid: String,
        /// Secret.
        secret: String,
    },
}

impl Credential {
    /// For tokens: the `Authorization` header value `PVEAPIToken=user@realm!id=secret`.
    pub fn authorization_header(&self) -> Option<String> {
        match self {
            Self::Token {
                userid,
                tokenid,
                secret,
            } => Some(format!("PVEAPIToken={userid}!{tokenid}={secret}")),
            Self::Password { .. } => None,
        }
    }
}

/// A running simulator. Dropping it stops the server; [`Simulator::shutdown`] also waits for it.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    tls: bool,
    cert: Option<CertInfo>,
    owned_cert_dir: Option<PathBuf>,
    app: Arc<app::App>,
    shutdown: watch::Sender<bool>,
    join: Option<JoinHandle<()>>,
    credentials: Vec<Credential>,
}

/// A cloneable handle on a simulator's cluster state ([`Simulator::handle`]).
#[derive(Debug, Clone)]
pub struct SimHandle {
    app: Arc<app::App>,
}

impl SimHandle {
    /// The simulated time now (UNIX seconds).
    pub fn now(&self) -> f64 {
        self.app.clock.now()
    }

    /// Runs `f` on the cluster state, brought up to date with the clock first (as
    /// [`Simulator::with_cluster`]).
    pub fn with_cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let now = self.app.clock.now();
        let mut cluster = self.app.cluster();
        cluster.tick(now);
        f(&mut cluster)
    }
}

static INSTANCE: AtomicU64 = AtomicU64::new(0);

impl Simulator {
    /// Validates the scenario, binds `config.bind`, sets up TLS and starts serving on the current
    /// tokio runtime.
    pub async fn start(scenario: Scenario, config: SimConfig) -> Result<Self, SimError> {
        scenario.validate()?;
        if !config.bind.ip().is_loopback() {
            return Err(SimError::NotLoopback(config.bind));
        }
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.bind,
            source,
        })?;
        let local_name = scenario
            .nodes
            .iter()
            .find(|n| n.status == NodeStatus::Online)
            .map_or("pve", |n| n.name.as_str())
            .to_string();
        let (acceptor, cert, owned_cert_dir) = if config.tls {
            let (dir, owned) = match &config.cert_dir {
                Some(d) => (d.clone(), None),
                None => {
                    let d = std::env::temp_dir().join(format!(
                        "pve-sim-{}-{}-{}",
                        std::process::id(),
                        addr.port(),
                        INSTANCE.fetch_add(1, Ordering::Relaxed)
                    ));
                    (d.clone(), Some(d))
                }
            };
            let (server_config, info) = tls::setup(&dir, &local_name)?;
            (
                Some(tokio_rustls::TlsAcceptor::from(server_config)),
                Some(info),
                owned,
            )
        } else {
            (None, None, None)
        };
        let clock = Arc::new(Clock::new(
            config.start_time.unwrap_or_else(clock::real_now),
            config.time_scale,
        ));
        let now = clock.now();
        let mut cluster = Cluster::new(
            &scenario,
            now,
            config.timing,
            cert.as_ref().map(|c| c.fingerprint.as_str()),
        );
        cluster.noise = if config.noise.is_finite() {
            config.noise.max(0.0)
        } else {
            1.0
        };
        let key_material = format!(
            "{}:{}:{}:{}",
            scenario.seed,
            clock::real_now(),
            std::process::id(),
            addr
        );
        let credentials = scenario
            .users
            .iter()
            .flat_map(|u| {
                let pw = u.password.as_ref().map(|p| Credential::Password {
                    userid: u.userid.clone(),
                    password: p.clone(),
                });
                pw.into_iter()
                    .chain(u.tokens.iter().map(|t| Credential::Token {
                        userid: u.userid.clone(),
                        tokenid: t.id.clone(),
                        secret: t.secret.clone(),
                    }))
            })
            .collect();
        let app = Arc::new(app::App {
            clock,
            cluster: Mutex::new(cluster),
            signer: auth::TicketSigner::new(
                key_material.as_bytes(),
                config.ticket_lifetime.as_secs_f64(),
            ),
            counters: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(Vec::new()),
            unauthorized_delay: config.unauthorized_delay,
        });
        let (tx, rx) = watch::channel(false);
        let join = tokio::spawn(server::serve(listener, acceptor, Arc::clone(&app), rx));
        Ok(Self {
            addr,
            tls: config.tls,
            cert,
            owned_cert_dir,
            app,
            shutdown: tx,
            join: Some(join),
            credentials,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:<port>` (the form ProxLB's `proxmox_api.hosts` takes).
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// `https://127.0.0.1:<port>/api2/json` (or `http://` in plain mode).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/api2/json", self.addr)
    }

    /// The served certificate (HTTPS mode).
    pub fn cert(&self) -> Option<&CertInfo> {
        self.cert.as_ref()
    }

    /// SHA-256 fingerprint of the served certificate (`AB:CD:...`), HTTPS mode.
    pub fn fingerprint(&self) -> Option<&str> {
        self.cert.as_ref().map(|c| c.fingerprint.as_str())
    }

    /// Logins defined by the scenario (passwords and API tokens).
    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// The simulated clock.
    pub fn clock(&self) -> &Clock {
        &self.app.clock
    }

    /// Moves simulated time forward (tasks finish, tickets expire, metrics move).
    pub fn advance(&self, by: Duration) {
        self.app.clock.advance(by);
    }

    /// Runs `f` on the cluster state, brought up to date with the clock first. Use it to read
    /// state (guest placement, tasks) or inject changes.
    pub fn with_cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let now = self.app.clock.now();
        let mut cluster = self.app.cluster();
        cluster.tick(now);
        f(&mut cluster)
    }

    /// A cloneable handle on this simulator's cluster, for tasks that outlive a borrow of the
    /// simulator (e.g. demo mode's load drift). It keeps the state alive, not the server.
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            app: Arc::clone(&self.app),
        }
    }

    /// The node guest `vmid` is on.
    pub fn guest_node(&self, vmid: u32) -> Option<String> {
        self.with_cluster(|c| c.guests.get(&vmid).map(|g| g.node().to_string()))
    }

    /// Takes a node on- or offline (false if unknown).
    pub fn set_node_online(&self, node: &str, online: bool) -> bool {
        self.with_cluster(|c| c.set_node_online(node, online))
    }

    /// Sets or clears HA maintenance on a node (false if unknown).
    pub fn set_node_maintenance(&self, node: &str, on: bool) -> bool {
        self.with_cluster(|c| c.set_node_maintenance(node, on))
    }

    /// Starts or stops a guest (false if unknown).
    pub fn set_guest_running(&self, vmid: u32, running: bool) -> bool {
        let now = self.app.clock.now();
        self.with_cluster(|c| c.set_guest_running(vmid, running, now))
    }

    /// Makes the next migration task of guest `vmid` end with `exitstatus = message` (the guest
    /// does not move).
    pub fn fail_next_migration(&self, vmid: u32, message: &str) {
        self.with_cluster(|c| c.fail_next_migration(vmid, message));
    }

    /// Adds a fault: matching requests get an error ([`Fault`]), or, with a [`FaultRule`], added
    /// latency and/or a dropped connection. Several matching faults combine (latencies add up,
    /// the first error answers, any reset resets), each using up one of its count.
    pub fn inject_fault(&self, fault: impl Into<FaultRule>) {
        self.app.faults().push(fault.into());
    }

    /// The active faults (with their remaining counts).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.app.faults().clone()
    }

    /// Removes every injected fault; returns how many were active.
    pub fn clear_faults(&self) -> usize {
        let mut faults = self.app.faults();
        let n = faults.len();
        faults.clear();
        n
    }

    /// Makes every ticket (and CSRF token) issued so far invalid now, as if they had expired:
    /// ticket clients get 401 and must log in again; API tokens are unaffected.
    pub fn expire_tickets(&self) {
        self.app.expire_tickets();
    }

    /// A short summary of the cluster: nodes with status, guests with node (the same as
    /// `GET /_sim/state`).
    pub fn state(&self) -> StateSummary {
        admin::state_summary(&self.app)
    }

    /// Requests served per route pattern (`GET /nodes/{node}/qemu` ...; unknown paths count as
    /// `<METHOD> <unknown>`).
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.app.counters().clone()
    }

    /// Resets the request counters.
    pub fn reset_request_counts(&self) {
        self.app.counters().clear();
    }

    /// Stops serving, waits for the server task and removes a temporary certificate directory.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(dir) = self.owned_cert_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
