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
    /// ProxLB Web has no usable cluster configuration: why, and what to set.
    #[error("{reason}. {hint}")]
    NotConfigured {
        /// What is missing or wrong (paths and field names, never secrets).
        reason: String,
        /// What to set to fix it.
        hint: String,
    },
    /// The request needs a signed-in user or a valid API token.
    #[error("{message}")]
    Unauthorized {
        /// What is missing, for people (never which part of a credential was wrong).
        message: String,
    },
    /// The user or token may not do this.
    #[error("{message}")]
    Forbidden {
        /// What was refused, for people.
        message: String,
    },
    /// The change conflicts with the current state; reload and retry.
    #[error("{message}")]
    Conflict {
        /// What conflicts, for people.
        message: String,
        /// The current state the change ran into, when safe to show (e.g. a revision).
        current: Option<String>,
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
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::Conflict { .. } => 409,
            ApiError::Unavailable { .. } | ApiError::NotConfigured { .. } => 503,
            ApiError::Internal { .. } | ApiError::Transport { .. } => 500,
        }
    }

    /// A short title for error panels.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "Not found",
            ApiError::Invalid { .. } => "Invalid input",
            ApiError::Unauthorized { .. } => "Sign-in required",
            ApiError::Forbidden { .. } => "Not allowed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Unavailable { .. } => "Unavailable",
            ApiError::NotConfigured { .. } => "Not configured",
            ApiError::Internal { .. } => "Server error",
            ApiError::Transport { .. } => "Connection problem",
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// Bad arguments are the caller's mistake (`Invalid`, 400); everything else the framework
    /// reports is a transport failure.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server these mean the request's arguments could not be read: a missing
            // field, a wrong type, a body that is not the encoding (form or JSON) expected.
            // In the browser, `Deserialization` means the *reply* could not be read, which is
            // a transport problem, not the user's input.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                ApiError::Invalid {
                    message: format!("invalid arguments: {detail}"),
                }
            }
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(detail) => ApiError::Invalid {
                message: format!("invalid arguments: {detail}"),
            },
            other => ApiError::Transport {
                message: other.to_string(),
            },
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for ApiError {
    /// The REST API's error reply: the error's status and its JSON.
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status_code())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        // RFC 9110 §15.5.2: a 401 names the scheme that would be accepted.
        if matches!(self, ApiError::Unauthorized { .. }) {
            let challenge = [(axum::http::header::WWW_AUTHENTICATE, "Bearer")];
            return (status, challenge, axum::Json(self)).into_response();
        }
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

    impl ApiError {
        /// An internal failure: logs `detail` with a new incident id and returns
        /// [`ApiError::Internal`] carrying only that id.
        pub fn internal(detail: impl std::fmt::Display) -> Self {
            let incident = incident_id();
            tracing::error!(%incident, error = %detail, "internal error");
            ApiError::Internal { incident }
        }
    }

    impl From<plb_backend::Error> for ApiError {
        fn from(error: plb_backend::Error) -> Self {
            use plb_backend::Error;
            match error {
                Error::NotFound { what } => ApiError::NotFound { what },
                Error::Invalid { message } => ApiError::Invalid { message },
                Error::NotConfigured { reason, hint } => ApiError::NotConfigured { reason, hint },
                Error::Unauthorized { message } => ApiError::Unauthorized { message },
                Error::Forbidden { message } => ApiError::Forbidden { message },
                Error::Conflict { message, current } => ApiError::Conflict { message, current },
                Error::Unavailable { service, detail } => {
                    tracing::warn!(%service, %detail, "dependency unavailable");
                    ApiError::Unavailable {
                        service: service.to_string(),
                    }
                }
                other => ApiError::internal(other),
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
        fn internal_logs_the_detail_and_sends_only_an_incident_id() {
            let api = ApiError::internal("AppState missing from the request context");
            let ApiError::Internal { incident } = &api else {
                panic!("expected Internal, got {api:?}")
            };
            assert!(!incident.is_empty());
            assert!(!serde_json::to_string(&api).unwrap().contains("AppState"));
            assert_eq!(api.status_code(), 500);
        }

        #[test]
        fn not_configured_keeps_reason_and_hint_apart() {
            let api: ApiError = Error::NotConfigured {
                reason: "/etc/proxlb/proxlb.yaml does not exist".into(),
                hint: "Set PROXLB_CONFIG, or start with --demo.".into(),
            }
            .into();
            assert_eq!(api.status_code(), 503);
            assert_eq!(api.title(), "Not configured");
            let json = serde_json::to_value(&api).unwrap();
            assert_eq!(json["kind"], "not_configured");
            assert_eq!(json["reason"], "/etc/proxlb/proxlb.yaml does not exist");
            assert_eq!(json["hint"], "Set PROXLB_CONFIG, or start with --demo.");
            assert_eq!(
                api.to_string(),
                "/etc/proxlb/proxlb.yaml does not exist. Set PROXLB_CONFIG, or start with --demo."
            );
        }

        #[test]
        fn access_and_conflict_errors_map_with_their_status() {
            let unauthorized: ApiError = Error::Unauthorized {
                message: "sign in first".into(),
            }
            .into();
            assert_eq!(
                unauthorized,
                ApiError::Unauthorized {
                    message: "sign in first".into()
                }
            );
            let forbidden: ApiError = Error::Forbidden {
                message: "viewers cannot start ProxLB".into(),
            }
            .into();
            assert_eq!(
                forbidden,
                ApiError::Forbidden {
                    message: "viewers cannot start ProxLB".into()
                }
            );
            let conflict: ApiError = Error::Conflict {
                message: "proxlb.yaml changed since it was loaded".into(),
                current: Some("rev 7".into()),
            }
            .into();
            assert_eq!(
                conflict,
                ApiError::Conflict {
                    message: "proxlb.yaml changed since it was loaded".into(),
                    current: Some("rev 7".into()),
                }
            );
        }

        #[test]
        fn rest_replies_carry_the_status_and_a_401_its_challenge() {
            use axum::response::IntoResponse;
            let response = ApiError::Unauthorized {
                message: "sign in first".into(),
            }
            .into_response();
            assert_eq!(response.status(), 401);
            assert_eq!(
                response.headers()[axum::http::header::WWW_AUTHENTICATE],
                "Bearer"
            );
            let response = ApiError::Conflict {
                message: "changed".into(),
                current: None,
            }
            .into_response();
            assert_eq!(response.status(), 409);
            assert!(response
                .headers()
                .get(axum::http::header::WWW_AUTHENTICATE)
                .is_none());
            let forbidden = ApiError::Forbidden {
                message: "no".into(),
            };
            assert_eq!(forbidden.into_response().status(), 403);
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
    fn unreadable_arguments_are_invalid_input() {
        for error in [
            ServerFnErrorErr::Args("missing field `node`".into()),
            ServerFnErrorErr::MissingArg("node".into()),
        ] {
            let api = ApiError::from_server_fn_error(error);
            assert_eq!(api.status_code(), 400, "{api:?}");
            assert!(api.to_string().starts_with("invalid arguments: "), "{api}");
        }
    }

    #[test]
    fn access_errors_have_their_status_title_and_kind() {
        for (error, status, title, kind) in [
            (
                ApiError::Unauthorized {
                    message: "sign in first".into(),
                },
                401,
                "Sign-in required",
                "unauthorized",
            ),
            (
                ApiError::Forbidden {
                    message: "viewers cannot do this".into(),
                },
                403,
                "Not allowed",
                "forbidden",
            ),
            (
                ApiError::Conflict {
                    message: "the file changed meanwhile".into(),
                    current: Some("rev 7".into()),
                },
                409,
                "Conflict",
                "conflict",
            ),
        ] {
            assert_eq!(error.status_code(), status, "{error:?}");
            assert_eq!(error.title(), title, "{error:?}");
            let json = serde_json::to_value(&error).unwrap();
            assert_eq!(json["kind"], kind);
            assert_eq!(ApiError::de(error.ser()), error, "round trip");
        }
        let conflict = ApiError::Conflict {
            message: "the file changed meanwhile".into(),
            current: Some("rev 7".into()),
        };
        assert_eq!(serde_json::to_value(&conflict).unwrap()["current"], "rev 7");
        assert_eq!(conflict.to_string(), "the file changed meanwhile");
    }

    #[test]
    fn framework_failures_become_transport_errors() {
        let error =
            ApiError::from_server_fn_error(ServerFnErrorErr::Request("connection reset".into()));
        assert_eq!(error.status_code(), 500);
        assert!(error.to_string().contains("connection reset"));
    }
}
