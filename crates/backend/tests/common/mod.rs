//! Shared helpers for the integration tests against the in-process Proxmox VE simulator.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use plb_backend::adapters::pve::{
    PveClient, PveConnectionConfig, PveCredentials, PveHost, Secret, TlsTrust,
};
use plb_pve_sim::{Scenario, SimConfig, Simulator, UserSpec};

/// Root's API token in the demo scenario.
pub const ROOT_TOKEN_ID: &str = "proxlb";
/// Its secret.
pub const ROOT_TOKEN_SECRET: &str = "5f1c3e9a-6a8b-4f0e-9d2c-7b4a1e3f8c21";
/// Root's password in the demo scenario.
pub const ROOT_PASSWORD: &str = "pve-sim-demo";

/// The demo scenario shipped with the simulator, plus a user without any privilege.
pub fn demo() -> Scenario {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../pve-sim/scenarios/demo-3node.yaml");
    Scenario::from_path(path)
        .unwrap()
        .user(UserSpec::new("nobody@pve", Some("nobody-pw")))
}

/// Starts the simulator over HTTPS on a free loopback port with a frozen clock.
pub async fn start_sim() -> Simulator {
    plb_backend::tls::install_crypto_provider();
    let config = SimConfig {
        time_scale: 0.0,
        start_time: Some(1_795_365_000.0),
        ..SimConfig::default()
    };
    Simulator::start(demo(), config).await.unwrap()
}

/// The simulator as a host entry.
pub fn host(sim: &Simulator) -> PveHost {
    PveHost::new("127.0.0.1", sim.addr().port())
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// Root's token.
pub fn root_token() -> PveCredentials {
    PveCredentials::Token {
        user: "root@pam".into(),
        token_id: ROOT_TOKEN_ID.into(),
        secret: Secret::new(ROOT_TOKEN_SECRET),
    }
}

/// A password login.
pub fn password(user: &str, password: &str) -> PveCredentials {
    PveCredentials::Password {
        user: user.into(),
        password: Secret::new(password),
    }
}

/// Trust the simulator's certificate through its pinned fingerprint.
pub fn pinned(sim: &Simulator) -> TlsTrust {
    TlsTrust::Pinned(vec![sim.fingerprint().unwrap().parse().unwrap()])
}

/// Trust the simulator's certificate file as CA bundle.
pub fn ca_file(sim: &Simulator) -> TlsTrust {
    TlsTrust::CaFile(sim.cert().unwrap().cert_path.clone())
}

/// A client for the simulator.
pub fn client(sim: &Simulator, credentials: PveCredentials, tls: TlsTrust) -> PveClient {
    let config = PveConnectionConfig::new(vec![host(sim)], credentials)
        .with_tls(tls)
        .with_timeout(Duration::from_secs(5));
    PveClient::new(&config).unwrap()
}

/// Requests the simulator served for a route pattern.
pub fn count(sim: &Simulator, route: &str) -> u64 {
    sim.request_counts().get(route).copied().unwrap_or(0)
}

/// The Python that has ProxLB 2.3.0: `PROXLB_PYTHON`, else `<workspace>/.venv/bin/python`
/// (scripts/setup.sh installs it there). Tests that need real ProxLB FAIL without it; they
/// never pass silently.
pub fn proxlb_python() -> PathBuf {
    let path = std::env::var_os("PROXLB_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "ProxLB is not installed: {} does not exist. Run scripts/setup.sh (it installs ProxLB 2.3.0 \
         into <workspace>/.venv) or set PROXLB_PYTHON to a python that has proxlb installed.",
        path.display()
    );
    path
}

/// The demo cluster in real time with fast migrations (1 s, HA requests too) and constant usage,
/// over HTTPS: what the tests that run real ProxLB against it need.
pub async fn start_fast_sim() -> Simulator {
    plb_backend::tls::install_crypto_provider();
    let config = SimConfig {
        noise: 0.0,
        timing: plb_pve_sim::Timing {
            migration: 1.0,
            ha_request: 1.0,
            ha_delay: 1.0,
            ..plb_pve_sim::Timing::default()
        },
        ..SimConfig::default()
    };
    Simulator::start(demo(), config).await.unwrap()
}

/// A local user of `role`, as the services see a signed-in caller.
pub fn identity(role: plb_domain::auth::Role) -> plb_backend::auth::Identity {
    plb_backend::auth::Identity {
        user: plb_domain::auth::CurrentUser {
            user_id: "admin@proxlb-web".into(),
            display_name: "admin@proxlb-web".into(),
            role,
            source: plb_domain::auth::AuthSource::Local,
            via_token: false,
        },
        token: None,
        source_ip: None,
    }
}

/// Polls `f` every 100 ms until it gives a value; fails the test after `within`.
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut f: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = f().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
