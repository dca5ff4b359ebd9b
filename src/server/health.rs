//! `GET /healthz`: liveness for load balancers, compose and systemd, and the client side of it
//! that `proxlb-web --healthcheck` runs inside the container.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::http::StatusCode;
use axum::{extract::State, Json};
use plb_backend::services::cluster::PollerHealth;
use plb_backend::AppState;
use plb_domain::ServerInfo;
use serde::Serialize;

/// Body of `/healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok`, or `unhealthy` when the Proxmox VE poller is gone (the views no longer change).
    pub status: &'static str,
    /// The poller's state: `running`, `stale` (Proxmox fails; the server is fine),
    /// `not_configured` or `stopped`.
    pub poller: PollerHealth,
    /// Version and uptime.
    #[serde(flatten)]
    pub server: ServerInfo,
}

/// Answers 200 with the server's version, uptime and poller state; 503 when the poller is gone,
/// so container health checks and load balancers notice a server that only looks alive.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let poller = state.cluster.health();
    let (code, status) = if poller.is_healthy() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unhealthy")
    };
    let server = plb_backend::services::server_info::server_info(&state);
    (
        code,
        Json(Health {
            status,
            poller,
            server,
        }),
    )
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use plb_backend::testing::{
        self, FakeConnector, FakePve, ManualClock, ResourcesAnswer, TempDataDir,
    };
    use plb_backend::Settings;

    use super::*;

    async fn state(connector: Arc<FakeConnector>) -> (AppState, TempDataDir) {
        let ports = testing::ports(ManualClock::new(), connector);
        testing::wire_private(Settings::default(), ports).await
    }

    /// Polls `/healthz` until `done` holds for its answer (the poller runs on its own task).
    async fn healthz_until(
        state: &AppState,
        done: impl Fn(StatusCode, &Health) -> bool,
    ) -> (StatusCode, serde_json::Value) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (code, Json(health)) = healthz(State(state.clone())).await;
            if done(code, &health) {
                return (code, serde_json::to_value(&health).unwrap());
            }
            assert!(Instant::now() < deadline, "still {code}: {health:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_dead_poller_is_not_healthy() {
        let fake = FakePve::with_nodes(&["pve1"]);
        let (state, _dir) = state(FakeConnector::to(fake.clone())).await;
        let (code, body) = healthz_until(&state, |_, health| {
            matches!(
                health.poller,
                PollerHealth::Running {
                    fetched_at_unix: Some(_)
                }
            )
        })
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["poller"]["state"], "running");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

        // A bug that kills the poller task: the server still answers, but not as healthy.
        fake.answer(ResourcesAnswer::Panic);
        state.cluster.request_refresh();
        let (code, body) =
            healthz_until(&state, |_, health| health.poller == PollerHealth::Stopped).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "unhealthy");
        assert_eq!(body["poller"]["state"], "stopped");
    }

    #[tokio::test]
    async fn a_failing_proxmox_or_a_missing_config_keeps_the_server_healthy() {
        let fake = FakePve::with_nodes(&["pve1"]);
        fake.answer(ResourcesAnswer::Fail(
            plb_backend::pve_wire::PveError::Unreachable {
                host: "pve1:8006".into(),
            },
        ));
        let (state, _dir) = state(FakeConnector::to(fake)).await;
        let (code, body) = healthz_until(&state, |_, health| {
            matches!(health.poller, PollerHealth::Stale { .. })
        })
        .await;
        assert_eq!(
            code,
            StatusCode::OK,
            "restarting ProxLB Web would not fix Proxmox"
        );
        assert_eq!(body["poller"]["state"], "stale");
        assert!(body["poller"]["since_unix"].as_u64().is_some());

        let (state, _dir) =
            super::tests::state(FakeConnector::unconfigured("no proxlb.yaml")).await;
        let (code, Json(health)) = healthz(State(state)).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(health.poller, PollerHealth::NotConfigured);
    }
}
