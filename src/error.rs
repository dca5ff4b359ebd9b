//! `ApiError`: the one error type that crosses the wire, for server functions and the REST API.
//!
//! It carries only what a user may see. Internal failures are logged on the server with an
//! incident id, and only that id reaches the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error as the browser and API clients see it. JSON: `{"kind": "...", ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    /// The thing asked for does not exist.
    #[error("{what} was not found")]
    NotFound {
        /// What was looked for, e.g. `node "pve9"`.
        what: String,
    },
    /// The request's input is wrong.
    #[error("{message}")]
    Invalid {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// ProxLB Web has no usable cluster configuration; the message says what to set.
    #[error("{message}")]
    NotConfigured {
        /// What is missing and how to fix it (paths and field names, never secrets).
        message: String,
    },
    /// A system we depend on cannot be used right now.
    #[error("{service} is unavailable right now")]
    Unavailable {
        /// Which system (e.g. `Proxmox VE`, `Docker`).
        service: String,
    },
    /// Something failed on the server; details are in the server log under this incident id.
    #[error("internal error (incident {incident}); the server log has the details")]
    Internal {
        /// Correlates this error with the server log.
        incident: String,
    },
    /// The request did not reach the server function or its reply could not be read.
    #[error("request failed: {message}")]
    Transport {
        /// What the framework reported.
        message: String,
    },
}

impl ApiError {
    /// The HTTP status that goes with this error.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::Invalid { .. } => 400,
            ApiError::Unavailable { .. } | ApiError::NotConfigured { .. } => 503,
            ApiError::Internal { .. } | ApiError::Transport { .. } => 500,
        }
    }

    /// A short title for error panels.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "Not found",
            ApiError::Invalid { .. } => "Invalid input",
            ApiError::Unavailable { .. } => "Unavailable",
            ApiError::NotConfigured { .. } => "Not configured",
            ApiError::Internal { .. } => "Server error",
            ApiError::Transport { .. } => "Connection problem",
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Transport {
            message: value.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for ApiError {
    /// The REST API's error reply: the error's status and its JSON.
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status_code())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self)).into_response()
    }
}

#[cfg(feature = "ssr")]
mod from_backend {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::ApiError;

    /// A short id that is unique enough to find one failure in the log.
    fn incident_id() -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{count:x}", seconds & 0xff_ffff)
    }

    impl From<plb_backend::Error> for ApiError {
        fn from(error: plb_backend::Error) -> Self {
            use plb_backend::Error;
            match error {
                Error::NotFound { what } => ApiError::NotFound { what },
                Error::Invalid { message } => ApiError::Invalid { message },
                Error::Unavailable { service, detail } => {
                    tracing::warn!(%service, %detail, "dependency unavailable");
                    ApiError::Unavailable {
                        service: service.to_string(),
                    }
                }
                other => {
                    let incident = incident_id();
                    tracing::error!(%incident, error = %other, "internal error");
                    ApiError::Internal { incident }
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use plb_backend::error::Service;
        use plb_backend::Error;

        use super::*;

        #[test]
        fn internal_details_stay_on_the_server() {
            let api: ApiError =
                Error::Internal("open /etc/secret.yaml: permission denied".into()).into();
            let json = serde_json::to_string(&api).unwrap();
            assert!(!json.contains("secret"), "{json}");
            assert!(matches!(api, ApiError::Internal { .. }));
            assert_eq!(api.status_code(), 500);
        }

        #[test]
        fn unavailable_names_the_service_but_not_the_detail() {
            let api: ApiError = Error::Unavailable {
                service: Service::Docker,
                detail: "connect /var/run/docker.sock: no such file".into(),
            }
            .into();
            assert_eq!(api.to_string(), "Docker is unavailable right now");
            assert!(!serde_json::to_string(&api).unwrap().contains("docker.sock"));
            assert_eq!(api.status_code(), 503);
        }

        #[test]
        fn incident_ids_differ() {
            assert_ne!(incident_id(), incident_id());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_server_fn_encoding() {
        let error = ApiError::NotFound {
            what: "node \"pve9\"".into(),
        };
        let bytes = error.ser();
        assert_eq!(ApiError::de(bytes), error);
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "not_found");
    }

    #[test]
    fn framework_failures_become_transport_errors() {
        let error =
            ApiError::from_server_fn_error(ServerFnErrorErr::Request("connection reset".into()));
        assert_eq!(error.status_code(), 500);
        assert!(error.to_string().contains("connection reset"));
    }
}
