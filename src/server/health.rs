//! `GET /healthz`: liveness for load balancers, compose and systemd, and the client side of it
//! that `proxlb-web --healthcheck` runs inside the container.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::{extract::State, Json};
use plb_backend::AppState;
use plb_domain::ServerInfo;
use serde::Serialize;

/// Body of `/healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: &'static str,
    /// Version and uptime.
    #[serde(flatten)]
    pub server: ServerInfo,
}

/// Answers 200 with the server's version and uptime.
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        server: plb_backend::services::server_info::server_info(&state),
    })
}

/// How long `--healthcheck` waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Asks the server listening on `listen` for `/healthz`. A wildcard address (0.0.0.0, ::) is
/// probed on loopback. `Ok` carries a line for a healthy server, `Err` says what went wrong.
pub async fn probe(listen: SocketAddr) -> Result<String, String> {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let url = format!("http://{}/healthz", SocketAddr::new(ip, listen.port()));
    let client = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|error| format!("cannot make an HTTP client: {error}"))?;
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => Ok(format!("healthy: {url}")),
        Ok(response) => Err(format!("unhealthy: {url} answered {}", response.status())),
        Err(error) => Err(format!("unhealthy: {url}: {error}")),
    }
}
