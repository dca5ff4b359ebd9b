//! [`PveLogin`]: checks a person's Proxmox credentials against the cluster that ProxLB's
//! configuration names — the same hosts (in order, moving on when one does not answer), the same
//! TLS trust (system store, CA file, pins, or off) and timeout as the cluster connection.
//!
//! One login is:
//! 1. `POST /access/ticket` with the user's name and password. 401 → wrong credentials; an
//!    answer with `NeedTFA` → a second factor is needed (not supported: the ticket is dropped);
//! 2. `GET /access/permissions` with the user's own ticket (every user may read their own);
//! 3. `GET /access/users/{userid}` with the same ticket, for the user's groups. Proxmox VE only
//!    answers it with `Sys.Audit` or `User.Modify` on the user's groups; otherwise the groups are
//!    taken as empty (an admin-group member without that right is judged by privileges alone).
//!
//! The configuration is read again for every login, so an edited `proxmox_api` counts at once.
//! The password and the ticket live in [`Secret`]s and reach no log line or error.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderValue, COOKIE};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::auth::{percent_encode, ticket_cookie, TicketResponse};
use super::config::{PveConnectionConfig, PveHost};
use super::tls::client_config;
use super::Secret;
use crate::adapters::config_file::{self, PveOverrides};
use crate::auth::proxmox::{ProxmoxLogin, ProxmoxLoginError, ProxmoxUser};
use crate::pve_wire::dto::{Envelope, Permissions};

/// Largest answer read from a login endpoint (a permissions list of a big ACL is a few KiB).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The production [`ProxmoxLogin`]: ProxLB's configuration file plus ProxLB Web's overrides.
#[derive(Clone, Debug)]
pub struct PveLogin {
    path: PathBuf,
    overrides: PveOverrides,
}

impl PveLogin {
    /// Logs in against the cluster `path` (ProxLB's `proxlb.yaml`) describes, with `overrides`.
    pub fn new(path: PathBuf, overrides: PveOverrides) -> Self {
        Self { path, overrides }
    }

    /// The login the server's settings describe.
    pub fn from_settings(settings: &crate::Settings) -> Self {
        Self::new(
            settings.proxlb_config.clone(),
            PveOverrides::from_settings(settings),
        )
    }

    fn connection(&self) -> Result<PveConnectionConfig, ProxmoxLoginError> {
        let config = config_file::load(&self.path)
            .map_err(|e| ProxmoxLoginError::Unreachable(e.to_string()))?;
        config_file::connection(&self.path, &config, &self.overrides)
            .map_err(|e| ProxmoxLoginError::Unreachable(e.to_string()))
    }
}

#[async_trait::async_trait]
impl ProxmoxLogin for PveLogin {
    async fn login(
        &self,
        user_id: &str,
        password: &Secret,
    ) -> Result<ProxmoxUser, ProxmoxLoginError> {
        let connection = self.connection()?;
        LoginClient::new(&connection)?
            .login(user_id, password)
            .await
    }
}

/// The HTTP side of one login.
struct LoginClient {
    http: reqwest::Client,
    hosts: Vec<PveHost>,
}

/// `GET /access/users/{userid}` (only the field used). Proxmox VE sends the groups as a list;
/// older versions as a comma-separated string.
#[derive(Debug, Default, Deserialize)]
struct UserEntry {
    #[serde(default)]
    groups: Value,
}

impl LoginClient {
    fn new(connection: &PveConnectionConfig) -> Result<Self, ProxmoxLoginError> {
        let unusable = |reason: String| ProxmoxLoginError::Unreachable(reason);
        let tls = client_config(&connection.tls).map_err(|e| unusable(e.to_string()))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(connection.timeout)
            .connect_timeout(connection.timeout)
            .pool_idle_timeout(Duration::from_secs(5))
            .user_agent(concat!("proxlb-web/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| unusable(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            http,
            hosts: connection.hosts.clone(),
        })
    }

    /// Tries the hosts in order until one answers `POST /access/ticket`, then reads the
    /// permissions and groups from that host.
    async fn login(
        &self,
        user_id: &str,
        password: &Secret,
    ) -> Result<ProxmoxUser, ProxmoxLoginError> {
        let mut failures = Vec::new();
        for host in &self.hosts {
            let base = host.base_url();
            let answer = self
                .http
                .post(format!("{base}/access/ticket"))
                .form(&[("username", user_id), ("password", password.expose())])
                .send()
                .await;
            let response = match answer {
                Ok(response) => response,
                Err(error) => {
                    // No answer from this host: the next one may do better.
                    failures.push(format!("{host}: {}", describe(&error)));
                    continue;
                }
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED {
                return Err(ProxmoxLoginError::BadCredentials);
            }
            if !status.is_success() {
                // Parameter errors (400) come from what the user typed: a refusal, not an
                // outage. Anything else is Proxmox VE failing.
                return Err(if status == StatusCode::BAD_REQUEST {
                    ProxmoxLoginError::BadCredentials
                } else {
                    ProxmoxLoginError::Unreachable(format!(
                        "{host}: POST /access/ticket answered {status}"
                    ))
                });
            }
            let body = read_capped(response)
                .await
                .map_err(|e| ProxmoxLoginError::Unreachable(format!("{host}: {e}")))?;
            // Decode without quoting the body: it holds the ticket.
            let ticket = serde_json::from_slice::<Envelope<TicketResponse>>(&body)
                .map_err(|_| {
                    ProxmoxLoginError::Unreachable(format!(
                        "{host}: unexpected answer from POST /access/ticket"
                    ))
                })?
                .data;
            if ticket.need_tfa {
                return Err(ProxmoxLoginError::NeedsSecondFactor);
            }
            let user_id = ticket
                .username
                .clone()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| user_id.to_owned());
            let cookie = HeaderValue::from_str(ticket_cookie(&ticket.ticket).expose())
                .map(|mut v| {
                    v.set_sensitive(true);
                    v
                })
                .map_err(|_| ProxmoxLoginError::Unreachable(format!("{host}: unusable ticket")))?;
            let permissions: Permissions = self
                .get(&base, "/access/permissions", &cookie)
                .await
                .map_err(|e| ProxmoxLoginError::Unreachable(format!("{host}: {e}")))?;
            let groups = match self
                .get::<UserEntry>(
                    &base,
                    &format!("/access/users/{}", percent_encode(&user_id)),
                    &cookie,
                )
                .await
            {
                Ok(entry) => group_names(&entry.groups),
                Err(reason) => {
                    tracing::debug!(user = %user_id, %reason,
                        "the user's groups could not be read; judging by privileges alone");
                    Vec::new()
                }
            };
            return Ok(ProxmoxUser {
                user_id,
                permissions,
                groups,
            });
        }
        Err(ProxmoxLoginError::Unreachable(if failures.is_empty() {
            "no Proxmox VE host configured".to_owned()
        } else {
            failures.join("; ")
        }))
    }

    /// `GET {base}{path}` with the user's ticket; the envelope's `data`.
    async fn get<T: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        cookie: &HeaderValue,
    ) -> Result<T, String> {
        let response = self
            .http
            .get(format!("{base}{path}"))
            .header(COOKIE, cookie.clone())
            .send()
            .await
            .map_err(|e| format!("GET {path}: {}", describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}"));
        }
        let body = read_capped(response).await?;
        serde_json::from_slice::<Envelope<T>>(&body)
            .map(|e| e.data)
            .map_err(|e| format!("GET {path}: unexpected answer ({:?})", e.classify()))
    }
}

/// Group names from `groups` as a list or a comma-separated string.
fn group_names(groups: &Value) -> Vec<String> {
    let names: Vec<String> = match groups {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(list) => list.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect()
}

/// A transport failure for the log: timeout or connection failure, with the cause chain (no
/// secrets: the password travels in the body, which errors never quote).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        "no connection".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The body, at most [`MAX_BODY_BYTES`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the answer: {}", describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!("answer larger than {MAX_BODY_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn groups_come_as_a_list_or_a_comma_string() {
        assert_eq!(
            group_names(&json!(["plb-admins", " ops "])),
            vec!["plb-admins", "ops"]
        );
        assert_eq!(group_names(&json!("a,b,,c")), vec!["a", "b", "c"]);
        assert!(group_names(&Value::Null).is_empty());
    }
}
