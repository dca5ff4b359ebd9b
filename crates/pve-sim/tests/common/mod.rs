//! Shared test helpers: a tiny HTTP/1.1 client (hyper, optional TLS pinned to the simulator's
//! SHA-256 fingerprint with the ring provider) and scenario loaders.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use plb_pve_sim::{Scenario, SimConfig, Simulator};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The demo scenario shipped with the crate.
pub fn demo() -> Scenario {
    Scenario::from_path(scenario_path("demo-3node.yaml")).unwrap()
}

/// Path of a shipped scenario.
pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Config with a frozen clock (tests move it by hand) and short tasks.
pub fn frozen(tls: bool) -> SimConfig {
    SimConfig {
        tls,
        time_scale: 0.0,
        start_time: Some(1_795_365_000.0),
        ..SimConfig::default()
    }
}

/// Root password of the demo scenario.
pub const ROOT_PW: &str = "pve-sim-demo";
/// Root token header of the demo scenario.
pub const ROOT_TOKEN: &str = "PVEAPIToken=root@pam!proxlb=5f1c3e9a-6a8b-4f0e-9d2c-7b4a1e3f8c21";

/// Accepts exactly one certificate, identified by its SHA-256 fingerprint (`AB:CD:...`).
#[derive(Debug)]
struct PinnedVerifier {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp: Vec<String> = Sha256::digest(end_entity.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        if fp.join(":") == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("fingerprint mismatch".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: hyper::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// `data` of the envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

/// A minimal API client: one connection per request.
#[derive(Clone)]
pub struct Client {
    addr: SocketAddr,
    tls: Option<TlsConnector>,
    /// `PVEAuthCookie` ticket.
    pub ticket: Option<String>,
    /// CSRF token sent on non-GET requests.
    pub csrf: Option<String>,
    /// `Authorization` header.
    pub authorization: Option<String>,
}

impl Client {
    /// A client for a running simulator (TLS pinned to its fingerprint when HTTPS).
    pub fn new(sim: &Simulator) -> Self {
        let tls = sim.fingerprint().map(|fp| Self::connector(fp.to_string()));
        Self {
            addr: sim.addr(),
            tls,
            ticket: None,
            csrf: None,
            authorization: None,
        }
    }

    /// A client for an address (TLS pinned to `fingerprint` when given).
    pub fn for_addr(
        addr: SocketAddr,
        fingerprint: Option<String>,
        authorization: Option<&str>,
    ) -> Self {
        Self {
            addr,
            tls: fingerprint.map(Self::connector),
            ticket: None,
            csrf: None,
            authorization: authorization.map(str::to_string),
        }
    }

    /// A TLS connector that only trusts `fingerprint`.
    pub fn connector(fingerprint: String) -> TlsConnector {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                fingerprint,
                provider,
            }))
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    /// A client authenticated with an API token header.
    pub fn with_token(sim: &Simulator, header: &str) -> Self {
        let mut c = Self::new(sim);
        c.authorization = Some(header.to_string());
        c
    }

    /// Sends a request (`body` is form-encoded) to `/api2/json{path}` unless `path` starts with
    /// `!` (then it is sent verbatim without the `!`).
    pub async fn request(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        self.request_with(method, path, body, "application/x-www-form-urlencoded")
            .await
    }

    /// Like [`Client::request`] with an explicit content type.
    pub async fn request_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: &str,
    ) -> Resp {
        let uri = match path.strip_prefix('!') {
            Some(raw) => raw.to_string(),
            None => format!("/api2/json{path}"),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", self.addr.to_string());
        if let Some(t) = &self.ticket {
            builder = builder.header("cookie", format!("PVEAuthCookie={t}"));
        }
        if let (Some(c), true) = (&self.csrf, method != "GET") {
            builder = builder.header("CSRFPreventionToken", c);
        }
        if let Some(a) = &self.authorization {
            builder = builder.header("authorization", a);
        }
        if body.is_some() {
            builder = builder.header("content-type", content_type);
        }
        let req = builder
            .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
            .unwrap();
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let resp = match &self.tls {
            Some(connector) => {
                let name = ServerName::try_from("localhost").unwrap();
                let stream = connector.connect(name, tcp).await.unwrap();
                let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                send.send_request(req).await.unwrap()
            }
            None => {
                let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                send.send_request(req).await.unwrap()
            }
        };
        let status = resp.status();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| status.canonical_reason().map(str::to_string))
            .unwrap_or_default();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp {
            status: status.as_u16(),
            reason,
            headers,
            body,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None).await
    }

    /// POST with a form body.
    pub async fn post(&self, path: &str, form: &str) -> Resp {
        self.request("POST", path, Some(form)).await
    }

    /// Password login; stores ticket and CSRF token.
    pub async fn login(&mut self, user: &str, password: &str) -> Resp {
        let form = format!("username={}&password={}", enc(user), enc(password));
        let r = self.post("/access/ticket", &form).await;
        if r.status == 200 {
            self.ticket = r.data()["ticket"].as_str().map(str::to_string);
            self.csrf = r.data()["CSRFPreventionToken"].as_str().map(str::to_string);
        }
        r
    }
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Starts the demo scenario with a frozen clock and returns it with a root-token client.
pub async fn demo_sim(tls: bool) -> (Simulator, Client) {
    let sim = Simulator::start(demo(), frozen(tls)).await.unwrap();
    let client = Client::with_token(&sim, ROOT_TOKEN);
    (sim, client)
}
