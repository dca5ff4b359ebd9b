//! The HTTP(S) transport: accepts TCP connections (TLS via tokio-rustls when configured), serves
//! HTTP/1.1 with hyper and hands each request to [`App::handle`]. Stops when the shutdown signal
//! fires, aborting open connections.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::admin;
use crate::app::{ApiRequest, App};
use crate::response::{render, ApiError};

/// PVE's request body limit (`$limit_max_post`).
const MAX_BODY: usize = 64 * 1024;

/// Serves until `shutdown` changes (or its sender is dropped).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _peer)) => {
                        let app = Arc::clone(&app);
                        let tls = tls.clone();
                        conns.spawn(serve_connection(stream, tls, app));
                    }
                    Err(e) => tracing::debug!("accept failed: {e}"),
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn serve_connection(stream: TcpStream, tls: Option<TlsAcceptor>, app: Arc<App>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| handle(Arc::clone(&app), req));
    let builder = hyper::server::conn::http1::Builder::new();
    let result = match tls {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(tls_stream) => {
                builder
                    .serve_connection(TokioIo::new(tls_stream), service)
                    .await
            }
            Err(e) => {
                // ProxLB opens raw TCP probes that never speak TLS.
                tracing::debug!("TLS handshake failed: {e}");
                return;
            }
        },
        None => {
            builder
                .serve_connection(TokioIo::new(stream), service)
                .await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection error: {e}");
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join("; "))
}

/// Returned by the service to make hyper drop the connection without an answer (an injected
/// connection-reset fault).
#[derive(Debug, thiserror::Error)]
#[error("connection reset by an injected fault")]
pub struct InjectedReset;

async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, InjectedReset> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(render(Err(ApiError::new(413, "Request Entity Too Large"))));
        }
    };
    if admin::is_admin_path(parts.uri.path()) {
        return Ok(admin::handle(
            &app,
            parts.method.as_str(),
            parts.uri.path(),
            &body,
        ));
    }
    let api_req = ApiRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        cookie: header(&parts.headers, "cookie"),
        authorization: header(&parts.headers, "authorization"),
        csrf: header(&parts.headers, "csrfpreventiontoken"),
        content_type: header(&parts.headers, "content-type"),
        body,
    };
    let handled = app.handle_full(&api_req);
    if !handled.latency.is_zero() {
        tokio::time::sleep(handled.latency).await;
    }
    if handled.reset {
        tracing::debug!(
            "{} {}: injected connection reset",
            api_req.method,
            api_req.path
        );
        return Err(InjectedReset);
    }
    let (pattern, result) = (handled.pattern, handled.result);
    if let Err(e) = &result {
        tracing::debug!(
            "{} {} -> {} {}",
            api_req.method,
            pattern.unwrap_or("<unknown>"),
            e.status,
            e.message
        );
        if e.status == 401 && !app.unauthorized_delay.is_zero() {
            tokio::time::sleep(app.unauthorized_delay).await;
        }
    }
    Ok(render(result))
}
