//! [`PveClient`]: the Proxmox VE API over HTTPS with host failover, token or ticket auth, and
//! lenient decoding; implements [`PveApi`].
//!
//! - **Failover**: hosts are tried in order, starting with the one that answered last; a connect
//!   error, timeout or TLS failure moves on to the next host, and the host that answers is
//!   remembered. An HTTP error status is an answer (no failover).
//! - **Tickets**: the first request logs in (`POST /access/ticket`); a ticket older than
//!   `ticket_renew_after` is renewed with the ticket as password (falling back to the password
//!   when that fails); a request answered 401 (ticket expired early, e.g. after a restart of the
//!   cluster's auth key) logs in again once and is retried. Writes would carry the CSRF token.
//! - **Tokens**: `Authorization: PVEAPIToken=user@realm!id=secret` on every request. Until the
//!   token has been accepted once (and again after a 401), one request at a time tries it.
//! - **Failed authentication is cached** ([`AuthFailure`]): a refused login (or token) is not
//!   retried before its back-off (10 s, doubling up to 5 min; reset by a success or a new client),
//!   so a wrong password costs Proxmox VE one login per back-off step, not one per request; a
//!   failure (refusal, timeout, unreachable host) that happened while other requests waited for
//!   the login is their answer too, so a poll cycle fails within one timeout, not one per call.
//! - **Body cap**: a response body larger than `max_body_bytes` (default 64 MiB) is an error naming
//!   the limit; nothing beyond the limit is buffered.
//! - Authorization and cookie headers are marked sensitive; secrets never reach logs or errors.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, COOKIE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

use super::auth::{
    percent_encode, ticket_cookie, token_header, AuthFailure, Secret, Ticket, TicketResponse,
};
use super::config::{PveConnectionConfig, PveCredentials, PveHost};
use super::tls::{client_config, tls_reason};
use crate::clock::SystemClock;
use crate::ports::{Clock, PveApi};
use crate::pve_wire::dto::{
    ClusterOptions, ClusterResource, ClusterStatusEntry, Envelope, ErrorBody, GuestConfig,
    GuestKind, GuestListEntry, GuestRrdPoint, HaManagerStatus, HaResource, HaRule, HaStatusEntry,
    NodeListEntry, NodeRrdPoint, NodeStatus, Permissions, PoolDetail, PoolSummary, ResourceFilter,
    RrdCf, RrdTimeframe, TaskEntry, VersionInfo,
};
use crate::pve_wire::error::{privilege_from_message, PveError};

/// Header carrying the CSRF token of a ticket on writes.
const CSRF_HEADER: &str = "CSRFPreventionToken";

/// How requests authenticate.
#[derive(Debug)]
enum Credentials {
    Token {
        header: Secret,
    },
    Ticket {
        user: String,
        password: Secret,
        renew_after: Duration,
    },
}

/// Authentication state shared by every request of one client.
#[derive(Debug, Default)]
struct AuthState {
    /// The current ticket (ticket login).
    ticket: Option<Ticket>,
    /// The API token was accepted since the last failure (token login).
    token_accepted: bool,
    /// The last failed attempt, until one succeeds.
    failure: Option<AuthFailure>,
}

/// What one request sends to authenticate.
#[derive(Clone, Debug, Default)]
struct AuthHeaders {
    authorization: Option<Secret>,
    ticket: Option<Secret>,
    csrf: Option<Secret>,
}

/// A Proxmox VE API client for one cluster. Cheap to share behind an `Arc`.
pub struct PveClient {
    http: reqwest::Client,
    hosts: Vec<PveHost>,
    preferred: AtomicUsize,
    credentials: Credentials,
    auth: Mutex<AuthState>,
    /// Failed authentication attempts so far: a request that sees it change while it waited for
    /// [`Self::auth`] takes that failure as its own answer instead of trying again.
    auth_failures: AtomicU64,
    /// Times the back-off of refused logins.
    clock: Arc<dyn Clock>,
    insecure: bool,
    max_body_bytes: u64,
}

impl std::fmt::Debug for PveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveClient")
            .field("hosts", &self.hosts)
            .field("preferred", &self.preferred)
            .field("credentials", &self.credentials)
            .field("auth_failures", &self.auth_failures)
            .field("insecure", &self.insecure)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// Whether a request was the one trying the API token for everyone.
enum TokenTurn<'a> {
    /// The token is known to work: no lock held.
    Accepted,
    /// This request tries the token; the others wait on this guard.
    Probe(MutexGuard<'a, AuthState>),
}

fn config_error(reason: &str) -> PveError {
    PveError::Config {
        reason: reason.to_owned(),
    }
}

impl PveClient {
    /// Builds a client (no request is made). Fails on unusable settings: no host, a user without
    /// realm, empty credentials, an unreadable CA bundle.
    pub fn new(config: &PveConnectionConfig) -> Result<Self, PveError> {
        if config.hosts.is_empty() {
            return Err(config_error("no Proxmox VE host configured"));
        }
        if config.hosts.iter().any(|h| h.host.is_empty()) {
            return Err(config_error("a Proxmox VE host name is empty"));
        }
        let user = config.credentials.user().trim();
        if !user.contains('@') {
            return Err(config_error(
                "the user must include the realm, like root@pam",
            ));
        }
        let credentials = match &config.credentials {
            PveCredentials::Token {
                user,
                token_id,
                secret,
            } => {
                if token_id.trim().is_empty() || secret.is_empty() {
                    return Err(config_error("the API token id or secret is empty"));
                }
                Credentials::Token {
                    header: token_header(user, token_id, secret),
                }
            }
            PveCredentials::Password { user, password } => {
                if password.is_empty() {
                    return Err(config_error("the password is empty"));
                }
                Credentials::Ticket {
                    user: user.trim().to_owned(),
                    password: password.clone(),
                    renew_after: config.ticket_renew_after,
                }
            }
        };
        let tls = client_config(&config.tls)?;
        if config.tls.is_insecure() {
            tracing::warn!(
                "TLS certificate verification is disabled for the Proxmox VE API \
                 (ssl_verification: false); connections can be intercepted"
            );
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // pveproxy closes idle keep-alive connections early; do not reuse stale ones.
            .pool_idle_timeout(Duration::from_secs(5))
            .user_agent(concat!("proxlb-web/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot build the Proxmox VE HTTP client");
                config_error("cannot set up the HTTP client")
            })?;
        Ok(Self {
            http,
            hosts: config.hosts.clone(),
            preferred: AtomicUsize::new(0),
            credentials,
            auth: Mutex::new(AuthState::default()),
            auth_failures: AtomicU64::new(0),
            clock: Arc::new(SystemClock),
            insecure: config.tls.is_insecure(),
            max_body_bytes: config.max_body_bytes,
        })
    }

    /// Uses `clock` to time the back-off of refused logins (tests use a manual clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configured hosts, in order.
    pub fn hosts(&self) -> &[PveHost] {
        &self.hosts
    }

    /// The host requests go to first (the one that answered last).
    pub fn active_host(&self) -> &PveHost {
        let index = self.preferred.load(Ordering::Relaxed) % self.hosts.len();
        &self.hosts[index]
    }

    /// Whether the client authenticates with an API token (else with tickets).
    pub fn uses_token(&self) -> bool {
        matches!(self.credentials, Credentials::Token { .. })
    }

    /// A GET request returning the envelope's `data`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, PveError> {
        let (user, password, renew_after) = match &self.credentials {
            Credentials::Token { header } => {
                let turn = self.token_turn().await?;
                let headers = AuthHeaders {
                    authorization: Some(header.clone()),
                    ..AuthHeaders::default()
                };
                let answer = self.send(&Method::GET, path, query, None, &headers).await;
                self.token_outcome(turn, &answer).await;
                let (status, body) = answer?;
                return decode("GET", path, status, &body);
            }
            Credentials::Ticket {
                user,
                password,
                renew_after,
            } => (user, password, *renew_after),
        };
        let headers = self.ticket_headers(user, password, renew_after).await?;
        let (status, body) = self.send(&Method::GET, path, query, None, &headers).await?;
        if status == StatusCode::UNAUTHORIZED {
            if let Some(stale) = &headers.ticket {
                tracing::debug!(path, "ticket rejected; logging in again");
                let headers = self.relogin(user, password, stale).await?;
                let (status, body) = self.send(&Method::GET, path, query, None, &headers).await?;
                return decode("GET", path, status, &body);
            }
        }
        decode("GET", path, status, &body)
    }

    /// The cached failure this request must answer with instead of trying: one that happened
    /// while it waited for the lock (`seen` is the failure count before waiting), or one still
    /// in its back-off.
    fn cached_failure(&self, state: &AuthState, seen: u64) -> Result<(), PveError> {
        let Some(failure) = &state.failure else {
            return Ok(());
        };
        if self.auth_failures.load(Ordering::SeqCst) != seen || failure.blocks(self.clock.now()) {
            return Err(failure.error.clone());
        }
        Ok(())
    }

    /// Records the outcome of an authentication attempt made while holding the lock.
    fn settle<T>(&self, state: &mut AuthState, result: Result<T, PveError>) -> Result<T, PveError> {
        match result {
            Ok(value) => {
                if state.failure.take().is_some() {
                    tracing::info!("Proxmox VE accepted the credentials again");
                }
                Ok(value)
            }
            Err(error) => {
                let failure = AuthFailure::after(state.failure.as_ref(), error, self.clock.now());
                let backoff = failure.backoff();
                if !backoff.is_zero() {
                    tracing::warn!(
                        error = %failure.error,
                        retry_in_seconds = backoff.as_secs(),
                        "Proxmox VE refused the credentials; not asking again before the back-off"
                    );
                }
                let error = failure.error.clone();
                state.failure = Some(failure);
                self.auth_failures.fetch_add(1, Ordering::SeqCst);
                Err(error)
            }
        }
    }

    /// Whether this request may use the token freely or must try it for everyone (first use,
    /// or after a failure whose back-off has passed); the cached failure otherwise.
    async fn token_turn(&self) -> Result<TokenTurn<'_>, PveError> {
        let seen = self.auth_failures.load(Ordering::SeqCst);
        let state = self.auth.lock().await;
        if state.token_accepted {
            return Ok(TokenTurn::Accepted);
        }
        self.cached_failure(&state, seen)?;
        Ok(TokenTurn::Probe(state))
    }

    /// Learns from a token request's answer: accepted, refused (401) or not answered.
    async fn token_outcome(
        &self,
        turn: TokenTurn<'_>,
        answer: &Result<(StatusCode, Vec<u8>), PveError>,
    ) {
        let refused = matches!(answer, Ok((status, _)) if *status == StatusCode::UNAUTHORIZED);
        match turn {
            TokenTurn::Probe(mut state) => {
                let result = match answer {
                    Ok(_) if refused => Err(PveError::Unauthorized),
                    // Any other status: Proxmox VE checked the token before answering.
                    Ok(_) => Ok(()),
                    // No answer from the host: the waiting requests would not get one either.
                    Err(error) if error.is_transport_or_auth() => Err(error.clone()),
                    // An answer about this request only (e.g. too large): the next one tries.
                    Err(_) => return,
                };
                state.token_accepted = result.is_ok();
                // The error goes back to the caller through `answer`.
                let _ = self.settle(&mut state, result);
            }
            TokenTurn::Accepted if refused => {
                let mut state = self.auth.lock().await;
                // The first request to see the token revoked records it; later ones were sent
                // before they knew.
                if state.token_accepted {
                    state.token_accepted = false;
                    let _ = self.settle::<()>(&mut state, Err(PveError::Unauthorized));
                }
            }
            TokenTurn::Accepted => {}
        }
    }

    /// The ticket headers, logging in (or renewing the ticket) first when needed.
    async fn ticket_headers(
        &self,
        user: &str,
        password: &Secret,
        renew_after: Duration,
    ) -> Result<AuthHeaders, PveError> {
        let seen = self.auth_failures.load(Ordering::SeqCst);
        let mut state = self.auth.lock().await;
        if let Some(ticket) = &state.ticket {
            if !ticket.needs_renewal(Instant::now(), renew_after) {
                return Ok(ticket_headers(ticket));
            }
        }
        self.cached_failure(&state, seen)?;
        let old = state.ticket.as_ref().map(|ticket| ticket.ticket.clone());
        let result = match old {
            Some(old) => match self.login(user, &old).await {
                Ok(renewed) => {
                    tracing::debug!("Proxmox VE ticket renewed");
                    Ok(renewed)
                }
                Err(PveError::Unauthorized) => {
                    tracing::debug!("ticket renewal refused; logging in with the password");
                    state.ticket = None;
                    self.login(user, password).await
                }
                Err(other) => Err(other),
            },
            None => self.login(user, password).await,
        };
        let fresh = self.settle(&mut state, result)?;
        let headers = ticket_headers(&fresh);
        state.ticket = Some(fresh);
        Ok(headers)
    }

    /// Logs in with the password after `stale` was rejected, unless another request already did
    /// (or already failed to).
    async fn relogin(
        &self,
        user: &str,
        password: &Secret,
        stale: &Secret,
    ) -> Result<AuthHeaders, PveError> {
        let seen = self.auth_failures.load(Ordering::SeqCst);
        let mut state = self.auth.lock().await;
        if let Some(ticket) = &state.ticket {
            if &ticket.ticket != stale {
                return Ok(ticket_headers(ticket));
            }
        }
        state.ticket = None;
        self.cached_failure(&state, seen)?;
        let result = self.login(user, password).await;
        let fresh = self.settle(&mut state, result)?;
        let headers = ticket_headers(&fresh);
        state.ticket = Some(fresh);
        Ok(headers)
    }

    /// `POST /access/ticket` with `username` and `password` (or the current ticket to renew).
    async fn login(&self, user: &str, password: &Secret) -> Result<Ticket, PveError> {
        let path = "/access/ticket";
        let form = [("username", user), ("password", password.expose())];
        let (status, body) = self
            .send(
                &Method::POST,
                path,
                &[],
                Some(&form),
                &AuthHeaders::default(),
            )
            .await?;
        if !status.is_success() {
            return Err(
                match decode::<serde_json::Value>("POST", path, status, &body) {
                    Err(PveError::Unauthorized) => PveError::Unauthorized,
                    Err(other) => other,
                    Ok(_) => PveError::Unauthorized,
                },
            );
        }
        // Decode without quoting anything of the body: it holds the ticket.
        let response = serde_json::from_slice::<Envelope<TicketResponse>>(&body)
            .map_err(|_| PveError::Decode {
                context: "POST /access/ticket".to_owned(),
            })?
            .data;
        if response.need_tfa {
            return Err(config_error(
                "two-factor authentication is enabled for this user; use an API token",
            ));
        }
        Ok(Ticket {
            ticket: response.ticket,
            csrf: response.csrf,
            obtained: Instant::now(),
        })
    }

    /// Sends one request, failing over across hosts on connection-level failures.
    async fn send(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
        auth: &AuthHeaders,
    ) -> Result<(StatusCode, Vec<u8>), PveError> {
        let count = self.hosts.len();
        let start = self.preferred.load(Ordering::Relaxed) % count;
        let mut tls_failure: Option<PveError> = None;
        let mut last_failure: Option<PveError> = None;
        for offset in 0..count {
            let index = (start + offset) % count;
            let host = &self.hosts[index];
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", host.base_url()));
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(form) = form {
                request = request.form(form);
            }
            if let Some(value) = &auth.authorization {
                request = request.header(AUTHORIZATION, sensitive(value)?);
            }
            if let Some(ticket) = &auth.ticket {
                request = request.header(COOKIE, sensitive(&ticket_cookie(ticket))?);
                if *method != Method::GET {
                    if let Some(csrf) = &auth.csrf {
                        request = request.header(CSRF_HEADER, sensitive(csrf)?);
                    }
                }
            }
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    read_body(response, self.max_body_bytes, path, host)
                        .await
                        .map(|body| (status, body))
                }
                Err(e) => Err(transport_error(&e, host)),
            };
            match outcome {
                Ok(answer) => {
                    if offset > 0 {
                        tracing::info!(host = %host, "Proxmox VE API: switched to another host");
                    }
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(answer);
                }
                // Answers, not host failures: another host would not do better.
                Err(error @ (PveError::Config { .. } | PveError::TooLarge { .. })) => {
                    return Err(error)
                }
                Err(error) => {
                    tracing::debug!(host = %host, %error, "Proxmox VE host failed; trying the next one");
                    if matches!(error, PveError::Tls { .. }) && tls_failure.is_none() {
                        tls_failure = Some(error);
                    } else {
                        last_failure = Some(error);
                    }
                }
            }
        }
        // A TLS failure is a configuration problem the user must see, so it wins.
        Err(tls_failure
            .or(last_failure)
            .unwrap_or_else(|| PveError::Unreachable {
                host: self.hosts[start].to_string(),
            }))
    }
}

/// Reads a response body of at most `limit` bytes: a larger `Content-Length` is refused before
/// reading, a body that grows past the limit while streaming is dropped.
async fn read_body(
    mut response: reqwest::Response,
    limit: u64,
    path: &str,
    host: &PveHost,
) -> Result<Vec<u8>, PveError> {
    let too_large = || {
        tracing::warn!(path, limit, "Proxmox VE answer larger than the body limit");
        PveError::TooLarge {
            path: path.to_owned(),
            limit,
        }
    };
    let announced = response.content_length();
    if announced.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let capacity = usize::try_from(announced.unwrap_or(0)).unwrap_or(0);
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&e, host))?
    {
        let length = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
        if length > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn ticket_headers(ticket: &Ticket) -> AuthHeaders {
    AuthHeaders {
        authorization: None,
        ticket: Some(ticket.ticket.clone()),
        csrf: Some(ticket.csrf.clone()),
    }
}

fn sensitive(secret: &Secret) -> Result<HeaderValue, PveError> {
    let mut value = HeaderValue::from_str(secret.expose()).map_err(|_| {
        config_error("the credentials contain characters that cannot be sent in HTTP headers")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Finds a rustls error anywhere in an error chain (io errors hide theirs behind `get_ref`).
fn find_rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                let inner: &'a (dyn StdError + 'static) = inner;
                if let Some(found) = find_rustls_error(inner) {
                    return Some(found);
                }
            }
        }
        current = err.source();
    }
    None
}

/// Maps a reqwest failure to a host-level error.
fn transport_error(error: &reqwest::Error, host: &PveHost) -> PveError {
    let host_text = host.to_string();
    if let Some(tls) = find_rustls_error(error) {
        return PveError::Tls {
            host: host_text,
            reason: tls_reason(tls),
        };
    }
    if error.is_timeout() {
        PveError::Timeout { host: host_text }
    } else if error.is_builder() {
        config_error("invalid host name or port")
    } else {
        PveError::Unreachable { host: host_text }
    }
}

/// Decodes an answer: `data` of a 2xx envelope, or the typed error of a failure status.
fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    status: StatusCode,
    body: &[u8],
) -> Result<T, PveError> {
    if status.is_success() {
        return serde_json::from_slice::<Envelope<T>>(body)
            .map(|envelope| envelope.data)
            .map_err(|e| PveError::Decode {
                context: format!(
                    "{method} {path} ({:?} error at line {}, column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            });
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    Err(match status.as_u16() {
        401 => PveError::Unauthorized,
        403 => PveError::Forbidden {
            path: path.to_owned(),
            privilege: privilege_from_message(&message),
        },
        501 => PveError::NotImplemented {
            path: path.to_owned(),
        },
        code => PveError::Server {
            status: code,
            path: path.to_owned(),
            message,
        },
    })
}

#[async_trait::async_trait]
impl PveApi for PveClient {
    async fn version(&self) -> Result<VersionInfo, PveError> {
        self.get("/version", &[]).await
    }

    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError> {
        self.get("/cluster/status", &[]).await
    }

    async fn cluster_resources(
        &self,
        filter: Option<ResourceFilter>,
    ) -> Result<Vec<ClusterResource>, PveError> {
        match filter {
            Some(filter) => {
                self.get("/cluster/resources", &[("type", filter.as_str())])
                    .await
            }
            None => self.get("/cluster/resources", &[]).await,
        }
    }

    async fn nodes(&self) -> Result<Vec<NodeListEntry>, PveError> {
        self.get("/nodes", &[]).await
    }

    async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError> {
        self.get(&format!("/nodes/{}/status", percent_encode(node)), &[])
            .await
    }

    async fn node_rrddata(
        &self,
        node: &str,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<NodeRrdPoint>, PveError> {
        self.get(
            &format!("/nodes/{}/rrddata", percent_encode(node)),
            &[("timeframe", timeframe.as_str()), ("cf", cf.as_str())],
        )
        .await
    }

    async fn node_version(&self, node: &str) -> Result<VersionInfo, PveError> {
        self.get(&format!("/nodes/{}/version", percent_encode(node)), &[])
            .await
    }

    async fn guest_rrddata(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<GuestRrdPoint>, PveError> {
        self.get(
            &format!(
                "/nodes/{}/{}/{vmid}/rrddata",
                percent_encode(node),
                kind.as_str()
            ),
            &[("timeframe", timeframe.as_str()), ("cf", cf.as_str())],
        )
        .await
    }

    async fn node_guests(
        &self,
        node: &str,
        kind: GuestKind,
    ) -> Result<Vec<GuestListEntry>, PveError> {
        self.get(
            &format!("/nodes/{}/{}", percent_encode(node), kind.as_str()),
            &[],
        )
        .await
    }

    async fn guest_config(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
    ) -> Result<GuestConfig, PveError> {
        self.get(
            &format!(
                "/nodes/{}/{}/{vmid}/config",
                percent_encode(node),
                kind.as_str()
            ),
            &[],
        )
        .await
    }

    async fn pools(&self) -> Result<Vec<PoolSummary>, PveError> {
        self.get("/pools", &[]).await
    }

    async fn pool(&self, poolid: &str) -> Result<PoolDetail, PveError> {
        // `GET /pools/{poolid}` is deprecated on 8.x+ but answered by every version.
        let mut detail: PoolDetail = self
            .get(&format!("/pools/{}", percent_encode(poolid)), &[])
            .await?;
        if detail.poolid.is_empty() {
            poolid.clone_into(&mut detail.poolid);
        }
        Ok(detail)
    }

    async fn ha_rules(&self) -> Result<Vec<HaRule>, PveError> {
        self.get("/cluster/ha/rules", &[]).await
    }

    async fn ha_status_current(&self) -> Result<Vec<HaStatusEntry>, PveError> {
        self.get("/cluster/ha/status/current", &[]).await
    }

    async fn ha_manager_status(&self) -> Result<HaManagerStatus, PveError> {
        self.get("/cluster/ha/status/manager_status", &[]).await
    }

    async fn ha_resources(&self) -> Result<Vec<HaResource>, PveError> {
        self.get("/cluster/ha/resources", &[]).await
    }

    async fn cluster_options(&self) -> Result<ClusterOptions, PveError> {
        self.get("/cluster/options", &[]).await
    }

    async fn cluster_tasks(&self) -> Result<Vec<TaskEntry>, PveError> {
        self.get("/cluster/tasks", &[]).await
    }

    async fn permissions(&self) -> Result<Permissions, PveError> {
        self.get("/access/permissions", &[]).await
    }

    fn tls_verification_disabled(&self) -> bool {
        self.insecure
    }

    fn active_host(&self) -> Option<String> {
        Some(PveClient::active_host(self).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::pve::config::TlsTrust;
    use crate::pve_wire::FailureKind;

    fn token_config() -> PveConnectionConfig {
        PveConnectionConfig::new(
            vec![PveHost::new("pve1.invalid", 8006)],
            PveCredentials::Token {
                user: "root@pam".into(),
                token_id: "proxlb".into(),
                secret: Secret::new("very-secret-token-value"),
            },
        )
        .with_tls(TlsTrust::Insecure)
    }

    #[test]
    fn error_statuses_map_to_typed_errors() {
        let forbidden =
            br#"{"data":null,"message":"Permission check failed (/vms/100, VM.Audit)\n"}"#;
        let err = decode::<serde_json::Value>(
            "GET",
            "/nodes/pve1/qemu/100/config",
            StatusCode::FORBIDDEN,
            forbidden,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PveError::Forbidden {
                path: "/nodes/pve1/qemu/100/config".into(),
                privilege: Some("VM.Audit".into())
            }
        );
        let err =
            decode::<serde_json::Value>("GET", "/x", StatusCode::UNAUTHORIZED, b"").unwrap_err();
        assert_eq!(err, PveError::Unauthorized);
        let err = decode::<serde_json::Value>(
            "GET",
            "/cluster/ha/rules",
            StatusCode::NOT_IMPLEMENTED,
            b"{}",
        )
        .unwrap_err();
        assert_eq!(err.kind(), FailureKind::NotImplemented);
        let status = StatusCode::from_u16(595).unwrap();
        let err = decode::<serde_json::Value>(
            "GET",
            "/nodes/pve3/status",
            status,
            br#"{"data":null,"message":"No route to host\n"}"#,
        )
        .unwrap_err();
        assert!(err.is_node_unreachable());
        match err {
            PveError::Server { message, .. } => assert_eq!(message, "No route to host"),
            other => panic!("unexpected {other:?}"),
        }
        let err =
            decode::<serde_json::Value>("GET", "/y", StatusCode::INTERNAL_SERVER_ERROR, b"<html>")
                .unwrap_err();
        match err {
            PveError::Server {
                message, status, ..
            } => {
                assert_eq!(status, 500);
                assert_eq!(message, "Internal Server Error");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn decode_errors_name_the_endpoint_but_not_the_body() {
        let err = decode::<Vec<ClusterResource>>(
            "GET",
            "/cluster/resources",
            StatusCode::OK,
            br#"{"data":{"secret-looking":"value-xyz"}}"#,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/cluster/resources"), "{text}");
        assert!(!text.contains("value-xyz"), "{text}");
        let ok: Vec<ClusterResource> = decode(
            "GET",
            "/cluster/resources",
            StatusCode::OK,
            br#"{"data":[]}"#,
        )
        .unwrap();
        assert!(ok.is_empty());
    }

    #[test]
    fn bad_settings_are_rejected_without_echoing_secrets() {
        crate::tls::install_crypto_provider();
        let mut config = token_config();
        config.hosts.clear();
        assert!(matches!(
            PveClient::new(&config),
            Err(PveError::Config { .. })
        ));
        let mut config = token_config();
        config.credentials = PveCredentials::Token {
            user: "root".into(),
            token_id: "proxlb".into(),
            secret: Secret::new("very-secret-token-value"),
        };
        let err = PveClient::new(&config).unwrap_err();
        assert!(!err.to_string().contains("very-secret"));
        let mut config = token_config();
        config.credentials = PveCredentials::Password {
            user: "root@pam".into(),
            password: Secret::new(""),
        };
        assert!(PveClient::new(&config).is_err());
        let mut config = token_config();
        config.credentials = PveCredentials::Token {
            user: "root@pam".into(),
            token_id: "proxlb".into(),
            secret: Secret::new("line\nbreak"),
        };
        // Accepted at build time, refused (without echo) when a header is made.
        assert!(PveClient::new(&config).is_ok());
        let err = sensitive(&Secret::new("line\nbreak")).unwrap_err();
        assert!(!err.to_string().contains("break"));
    }

    #[test]
    fn client_debug_hides_credentials() {
        crate::tls::install_crypto_provider();
        let client = PveClient::new(&token_config()).unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("very-secret-token-value"), "{debug}");
        assert!(client.uses_token());
        assert!(client.tls_verification_disabled());
        assert_eq!(client.active_host().to_string(), "pve1.invalid:8006");
    }
}
