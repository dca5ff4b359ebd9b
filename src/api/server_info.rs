//! `get_server_info`: the server's version and uptime.

use leptos::prelude::*;
use plb_domain::ServerInfo;

use crate::error::ApiError;

/// Reports the ProxLB Web server's version and how long it has been running.
#[server(prefix = "/sfn", endpoint = "server_info")]
pub async fn get_server_info() -> Result<ServerInfo, ApiError> {
    let state = super::app_state()?;
    Ok(plb_backend::services::server_info::server_info(&state))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::prelude::*;
    use plb_backend::Settings;

    use super::*;

    #[tokio::test]
    async fn reports_version_and_uptime_with_state() {
        let owner = Owner::new();
        owner.set();
        let (state, _dir) = plb_backend::testing::wire_private(
            Settings::default(),
            plb_backend::compose::Ports::production(&Settings::default()),
        )
        .await;
        provide_context(state);
        let info = get_server_info().await.unwrap();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert!(info.uptime_seconds < 60);
        assert!(info.started_at_unix > 1_700_000_000);
    }

    #[tokio::test]
    async fn without_state_it_fails_with_an_internal_error_and_no_detail() {
        let owner = Owner::new();
        owner.set();
        let error = get_server_info().await.unwrap_err();
        assert!(matches!(error, ApiError::Internal { .. }), "{error:?}");
        assert!(!error.to_string().contains("AppState"));
    }
}
