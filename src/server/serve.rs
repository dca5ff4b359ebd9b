//! The accept loop: serves the router on a TCP listener with limits that hold when clients
//! misbehave (the product binds 0.0.0.0 by default).
//!
//! axum's own `serve` has no timer, so a client that opens a connection and never finishes its
//! request keeps a file descriptor for ever. This loop serves each connection with hyper's
//! HTTP/1 builder and a Tokio timer:
//!
//! - a **header-read timeout** ([`Limits::header_read_timeout`]): a connection that does not
//!   deliver a complete request head in time is closed; hyper arms it whenever it waits for a
//!   head, so it also ends idle keep-alive connections and clients that connect and say nothing;
//! - a **write-stall timeout** ([`Limits::write_stall_timeout`]): a client that stops reading its
//!   response (or, after an upgrade, its WebSocket) is dropped once a write made no progress
//!   for that long;
//! - a **connection cap** ([`Limits::max_connections`]): at the cap the loop stops accepting and
//!   the kernel's backlog holds newcomers until a connection ends;
//! - **graceful shutdown**: on the shutdown token the listener closes at once, idle connections
//!   close, in-flight requests may finish, and no connection outlives
//!   [`Limits::shutdown_grace`].
//!
//! The per-request limits (timeout, body size) are layers of the router, see [`super::limits`].
//!
//! Why HTTP/1 only, not hyper-util's auto (HTTP/1 + HTTP/2) builder: the auto builder first
//! reads the connection preface to pick the protocol, and that read has no timeout (hyper-util
//! 0.1.21, `server/conn/auto/mod.rs`, `ReadVersion`), so a client that connects and sends
//! nothing would pin its descriptor until shutdown; and an HTTP/2 connection with no open
//! stream has no idle timeout at all. Browsers never speak cleartext HTTP/2 (h2c), and reverse
//! proxies talk HTTP/1.1 to an `http://` upstream by default, so HTTP/2 would add only attack
//! surface here. WebSocket upgrades work through [`hyper::server::conn::http1::Connection::with_upgrades`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

pub use tokio_rustls::TlsAcceptor;

/// Limits of the accept loop; [`Limits::default`] is what the server uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection must deliver a complete request head within this time after the server
    /// starts waiting for one (10 s).
    pub header_read_timeout: Duration,
    /// A write to the client that makes no progress for this long ends the connection (30 s).
    pub write_stall_timeout: Duration,
    /// At most this many connections are served at once (1024).
    pub max_connections: usize,
    /// After shutdown starts, connections get this long to finish their requests (5 s).
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            write_stall_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then drains connections (bounded by
/// [`Limits::shutdown_grace`]) and returns. Accept errors are logged and retried, never fatal.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    limits: Limits,
) {
    serve_with(listener, app, shutdown, limits, None).await;
}

/// [`serve`], speaking HTTPS with `tls` when given (`PROXLB_WEB_TLS_CERT`/`_KEY`). The TLS
/// handshake must finish within [`Limits::header_read_timeout`], like a request head.
///
/// Every request carries the TCP peer's address as `ConnectInfo<SocketAddr>` (the auth layer
/// reads it for the login rate limit and the audit log).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    limits: Limits,
    tls: Option<TlsAcceptor>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);

    loop {
        // Waiting for a permit before accepting is the cap: at the cap, nothing is accepted.
        let permit = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_connection_error(&error) {
                        // Most likely out of file descriptors (EMFILE): give connections time
                        // to end instead of spinning on the error.
                        tracing::error!(%error, "accept failed; retrying in 1 s");
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                    continue;
                }
            },
        };
        // Small writes (WebSocket frames, short JSON) should leave at once.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        let stream = StallGuard::new(stream, limits.write_stall_timeout);
        let service =
            app.clone()
                .map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let http = http.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _permit = permit;
            match tls {
                None => drive(&http, stream, service, &shutdown, limits.shutdown_grace).await,
                Some(acceptor) => {
                    let handshake = tokio::select! {
                        () = shutdown.cancelled() => return,
                        done = tokio::time::timeout(
                            limits.header_read_timeout,
                            acceptor.accept(stream),
                        ) => done,
                    };
                    match handshake {
                        Ok(Ok(stream)) => {
                            drive(&http, stream, service, &shutdown, limits.shutdown_grace).await
                        }
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_elapsed) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }

    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Serves one connection until it ends, or until `grace` after `shutdown`.
async fn drive<I, S>(
    http: &hyper::server::conn::http1::Builder,
    io: I,
    service: S,
    shutdown: &CancellationToken,
    grace: Duration,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            axum::extract::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection = http
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = shutdown.cancelled() => {
            // Idle connections close now, busy ones after their current request.
            connection.as_mut().graceful_shutdown();
            match tokio::time::timeout(grace, connection.as_mut()).await {
                Ok(ended) => ended,
                Err(_elapsed) => {
                    tracing::debug!("connection still busy after the shutdown grace: dropped");
                    Ok(())
                }
            }
        }
    };
    if let Err(error) = ended {
        // Timeouts, resets and malformed requests: the client's problem, not ours.
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Accept errors that concern one connection only (it was reset before we took it).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A stream (the TCP connection) whose writes fail with `TimedOut` once one has been pending for `limit`: a
/// client that stops reading cannot hold the connection (and its buffers) for ever.
struct StallGuard<S> {
    stream: S,
    limit: Duration,
    /// Armed while a write is pending; reset by any progress.
    stall: Option<Pin<Box<Sleep>>>,
}

impl<S> StallGuard<S> {
    fn new(stream: S, limit: Duration) -> Self {
        StallGuard {
            stream,
            limit,
            stall: None,
        }
    }

    /// Turns a pending write into `TimedOut` once the stall lasted `limit`; any ready result
    /// disarms the timer.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if result.is_ready() {
            self.stall = None;
            return result;
        }
        let limit = self.limit;
        let stall = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stall.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.stall = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_peer_that_stops_reading_fails_the_write() {
        // A 16-byte pipe whose far end is never read: the second write stays pending.
        let (near, _far) = tokio::io::duplex(16);
        let mut guarded = StallGuard::new(near, Duration::from_millis(100));
        let error = guarded.write_all(&[0; 64]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_slow_but_steady_reader_is_not_dropped() {
        let (near, mut far) = tokio::io::duplex(16);
        // The whole transfer takes longer than the limit; each stall is far shorter.
        let mut guarded = StallGuard::new(near, Duration::from_millis(500));
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            let mut chunk = [0; 8];
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                match far.read(&mut chunk).await.unwrap() {
                    0 => return received,
                    n => received.extend_from_slice(&chunk[..n]),
                }
            }
        });
        guarded.write_all(&[7; 1024]).await.unwrap();
        guarded.shutdown().await.unwrap();
        drop(guarded);
        assert_eq!(reader.await.unwrap(), vec![7; 1024]);
    }

    #[tokio::test]
    async fn reads_pass_through() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(near, Duration::from_millis(100));
        far.write_all(b"hello").await.unwrap();
        let mut buf = [0; 5];
        guarded.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
    }
}
