//! The floor under `scripts/bench.sh wrk`: an axum server with no middleware, answering
//! `GET /api/nodes` with the bytes of a file (a saved `/api/nodes` answer) on 127.0.0.1.
//!
//! The HTTP targets of `docs/benchmarks.md` are measured on a 2-core machine that the load
//! generator shares; what this empty server reaches there is the most the real one can.
//!
//! ```sh
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/nodes >nodes.json
//! cargo run --release --features ssr --example bare_axum -- nodes.json 3999
//! wrk -t2 -c200 -d10s --latency http://127.0.0.1:3999/api/nodes
//! ```

use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        return Err("usage: bare_axum <body.json> [port]".into());
    };
    let port: u16 = args.next().map_or(Ok(3999), |p| p.parse())?;
    let body = Bytes::from(std::fs::read(&path)?);
    let app = Router::new().route(
        "/api/nodes",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
