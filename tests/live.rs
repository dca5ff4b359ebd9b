//! Integration tests of the live channel (`/ws/live`): the real router and accept loop on a
//! loopback port, driven by WebSocket clients. Topic `cluster` runs on the backend's fake
//! Proxmox VE, polled only on demand, so every new view in these tests is one a test asked for.
#![cfg(feature = "ssr")]
// A failed unwrap in a test helper is a test failure with a backtrace, which is what we want.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use plb_backend::compose::{self, Ports};
use plb_backend::testing::{private_settings, FakeConnector, FakePve, TempDataDir};
use plb_backend::{AppState, Settings};
use proxlb_web::server::router;
use proxlb_web::server::serve::{self, Limits};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Bound for anything that must happen "within a few seconds"; generous for a loaded CI host.
const PATIENCE: Duration = Duration::from_secs(10);

/// A heartbeat interval no test waits for.
const NEVER: Duration = Duration::from_secs(3600);

/// A running server on a loopback port.
struct Server {
    address: SocketAddr,
    state: AppState,
    task: JoinHandle<()>,
    /// A signed-in browser's `Cookie` header (the live channel needs a session or a token).
    cookie: String,
    _data: TempDataDir,
}

impl Server {
    /// Serves a state without a configured cluster.
    async fn unconfigured(heartbeat: Duration) -> Server {
        let (settings, data) = private_settings(Settings::default());
        let state = compose::wire(settings).await.unwrap();
        Server::start(state, data, heartbeat).await
    }

    /// Serves a fake two-node cluster that is polled once at start and then only on demand.
    async fn with_cluster(heartbeat: Duration) -> Server {
        let (settings, data) = private_settings(Settings {
            poll_interval: Duration::from_secs(3600),
            ..Settings::default()
        });
        let ports = Ports {
            cluster: FakeConnector::to(FakePve::with_nodes(&["pve1", "pve2"])),
            ..Ports::production(&settings)
        };
        let state = compose::wire_with(settings, ports).await.unwrap();
        // The first fetch is done: no view changes until a test asks for one.
        state.cluster.view(PATIENCE).await.unwrap();
        Server::start(state, data, heartbeat).await
    }

    async fn start(state: AppState, data: TempDataDir, heartbeat: Duration) -> Server {
        let cookie = format!("plbw_session={}", support::session(&state).await);
        let app = router::build_with_heartbeat(state.clone(), heartbeat);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(serve::serve(
            listener,
            app,
            state.shutdown.clone(),
            Limits::default(),
        ));
        Server {
            address,
            state,
            task,
            cookie,
            _data: data,
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/ws/live", self.address)
    }

    /// The handshake request of a signed-in browser.
    fn request(&self) -> tungstenite::handshake::client::Request {
        let mut request = self.url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(&self.cookie).unwrap());
        request
    }

    /// Publishes a new cluster view.
    fn new_view(&self) {
        self.state.cluster.request_refresh();
    }

    /// Shuts the server down and waits for its accept loop to return.
    async fn stop(self) {
        self.state.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the server did not stop")
            .unwrap();
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A live channel client that reads JSON messages.
struct Client {
    socket: Socket,
    syncs: u32,
}

impl Client {
    /// Connects and reads the hello.
    async fn connect(server: &Server) -> (Client, Value) {
        let (socket, _) = tokio_tungstenite::connect_async(server.request())
            .await
            .unwrap();
        let mut client = Client { socket, syncs: 0 };
        let hello = client.next().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        (client, hello)
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next message, heartbeats included.
    async fn next(&mut self) -> Value {
        let message = tokio::time::timeout(PATIENCE, self.socket.next())
            .await
            .expect("no message in time")
            .expect("socket ended")
            .expect("socket error");
        match message {
            Message::Text(text) => serde_json::from_str(text.as_str()).unwrap(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next message that is not a heartbeat.
    async fn next_news(&mut self) -> Value {
        loop {
            let message = self.next().await;
            if message["type"] != "heartbeat" {
                return message;
            }
        }
    }

    async fn subscribe(&mut self, topic: &str, cursor: Option<&str>) {
        self.send(json!({"op": "subscribe", "topics": [{"topic": topic, "cursor": cursor}]}))
            .await;
    }

    /// Everything but heartbeats the server sent before it answered a request sent now: the
    /// server answers requests in order, so what it queued earlier arrives first.
    async fn news_so_far(&mut self) -> Vec<Value> {
        self.syncs += 1;
        let marker = format!("sync-{}", self.syncs);
        self.subscribe(&marker, None).await;
        let mut news = Vec::new();
        loop {
            let message = self.next_news().await;
            if message["type"] == "error" && message["topic"] == marker.as_str() {
                return news;
            }
            news.push(message);
        }
    }
}

fn version(event: &Value) -> u64 {
    assert_eq!(event["type"], "event", "{event}");
    assert_eq!(event["topic"], "cluster", "{event}");
    event["event"]["version"].as_u64().unwrap()
}

#[tokio::test]
async fn hello_names_the_protocol_topics_and_limits_then_heartbeats_follow() {
    let server = Server::unconfigured(Duration::from_millis(100)).await;
    let (mut client, hello) = Client::connect(&server).await;
    assert_eq!(hello["protocol"], 1);
    assert_eq!(hello["server"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        hello["topics"],
        json!(["cluster", "service", "runs", "logs", "migrations"])
    );
    assert_eq!(hello["limits"]["max_message_bytes"], 16 * 1024);
    assert_eq!(hello["limits"]["heartbeat_ms"], 100);
    assert_eq!(hello["limits"]["write_timeout_ms"], 10_000);
    let beat = client.next().await;
    assert_eq!(beat["type"], "heartbeat");
    assert!(beat["uptime_seconds"].as_u64().is_some(), "{beat}");
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_delivers_only_its_topics() {
    let server = Server::with_cluster(NEVER).await;
    let (mut subscribed, _) = Client::connect(&server).await;
    let (mut bystander, _) = Client::connect(&server).await;

    subscribed.subscribe("cluster", None).await;
    assert_eq!(
        subscribed.next_news().await,
        json!({"type": "subscribed", "topic": "cluster"})
    );
    // A state topic starts with the current state.
    let first = subscribed.next_news().await;
    let start = version(&first);
    assert!(first["cursor"].is_string(), "{first}");
    assert_eq!(first["event"]["stale"], false);
    assert!(first["event"]["fetched_at_unix"].as_u64().is_some());

    server.new_view();
    assert!(version(&subscribed.next_news().await) > start);
    assert_eq!(
        bystander.news_so_far().await,
        Vec::<Value>::new(),
        "a client without subscriptions got cluster events"
    );

    // After unsubscribing, nothing of the topic follows the acknowledgement.
    subscribed
        .send(json!({"op": "unsubscribe", "topics": ["cluster"]}))
        .await;
    loop {
        let message = subscribed.next_news().await;
        if message["type"] == "unsubscribed" {
            assert_eq!(message["topic"], "cluster");
            break;
        }
        // Only events queued before the request may come first.
        version(&message);
    }
    server.new_view();
    bystander.subscribe("cluster", None).await;
    assert_eq!(bystander.next_news().await["type"], "subscribed");
    bystander.next_news().await;
    server.new_view();
    // The view asked for before the subscription may be published after it: the newer one can
    // then replace it in the queue, and a state topic says so (`dropped`) before delivering it.
    let mut message = bystander.next_news().await;
    if message["type"] == "dropped" {
        assert_eq!(message["topic"], "cluster");
        message = bystander.next_news().await;
    }
    assert_eq!(message["type"], "event");
    assert_eq!(subscribed.news_so_far().await, Vec::<Value>::new());
    server.stop().await;
}

#[tokio::test]
async fn a_cursor_resumes_the_topic_after_the_state_it_names() {
    let server = Server::with_cluster(NEVER).await;
    let (mut first, _) = Client::connect(&server).await;
    first.subscribe("cluster", None).await;
    first.next_news().await;
    let current = first.next_news().await;
    let cursor = current["cursor"].as_str().unwrap().to_owned();

    // A client that reconnects with the cursor of the current view is not sent it again.
    let (mut resumed, _) = Client::connect(&server).await;
    resumed.subscribe("cluster", Some(&cursor)).await;
    assert_eq!(resumed.next_news().await["type"], "subscribed");
    assert_eq!(resumed.news_so_far().await, Vec::<Value>::new());
    server.new_view();
    let next = resumed.next_news().await;
    assert!(version(&next) > version(&current));
    assert_ne!(next["cursor"], cursor.as_str());

    // One with an older (or another process's) cursor gets the current view at once.
    let (mut behind, _) = Client::connect(&server).await;
    behind.subscribe("cluster", Some(&cursor)).await;
    assert_eq!(behind.next_news().await["type"], "subscribed");
    assert_eq!(behind.next_news().await, next);
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_errors_and_the_connection_stays() {
    let server = Server::unconfigured(NEVER).await;
    let (mut client, _) = Client::connect(&server).await;

    client.subscribe("nope", None).await;
    let unknown = client.next_news().await;
    assert_eq!(unknown["type"], "error");
    assert_eq!(unknown["code"], "unknown_topic");
    assert_eq!(unknown["topic"], "nope");
    assert!(
        unknown["message"].as_str().unwrap().contains("cluster"),
        "{unknown}"
    );

    client.subscribe("cluster", Some("not a cursor")).await;
    let refused = client.next_news().await;
    assert_eq!(refused["code"], "bad_cursor", "{refused}");
    assert_eq!(refused["topic"], "cluster");

    client
        .socket
        .send(Message::Text("not json".into()))
        .await
        .unwrap();
    assert_eq!(client.next_news().await["code"], "bad_message");
    client
        .socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(client.next_news().await["code"], "bad_message");
    let too_many: Vec<Value> = (0..17).map(|n| json!({"topic": format!("t{n}")})).collect();
    client
        .send(json!({"op": "subscribe", "topics": too_many}))
        .await;
    assert_eq!(client.next_news().await["code"], "bad_message");

    // Still connected and served.
    client.subscribe("cluster", None).await;
    assert_eq!(
        client.next_news().await,
        json!({"type": "subscribed", "topic": "cluster"})
    );
    // Without a configured cluster the topic says so.
    let state = client.next_news().await;
    assert_eq!(state["event"]["version"], Value::Null, "{state}");
    server.stop().await;
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_connection() {
    let server = Server::unconfigured(NEVER).await;
    let (mut client, _) = Client::connect(&server).await;
    // Under the limit, a long cursor is an ordinary error.
    client
        .subscribe("cluster", Some(&"a".repeat(8 * 1024)))
        .await;
    assert_eq!(client.next_news().await["code"], "bad_cursor");
    // Over it, the connection ends (close code 1009 when the frame gets through).
    client
        .subscribe("cluster", Some(&"a".repeat(64 * 1024)))
        .await;
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match client.socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(Message::Text(text))) if text.contains("heartbeat") => {}
                Some(Ok(other)) => panic!("the connection stayed open: {other:?}"),
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the connection stayed open");
    assert!(matches!(ended, Some(1009) | None), "{ended:?}");
    server.stop().await;
}

#[tokio::test]
async fn cross_origin_upgrades_are_refused() {
    let server = Server::unconfigured(NEVER).await;
    let with_headers = |headers: &[(&'static str, &str)]| {
        let mut request = server.request();
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).unwrap());
        }
        request
    };
    let own = format!("http://{}", server.address);
    let refused: [&[(&'static str, &str)]; 3] = [
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[("origin", &own), ("sec-fetch-site", "cross-site")],
    ];
    for headers in refused {
        match tokio_tungstenite::connect_async(with_headers(headers)).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
            }
            other => panic!(
                "a cross-origin upgrade was not refused ({headers:?}): {:?}",
                other.map(|_| ())
            ),
        }
    }
    // The server's own pages may connect, and so may scripts that send neither header.
    let allowed: [&[(&'static str, &str)]; 3] = [
        &[("origin", &own)],
        &[("origin", &own), ("sec-fetch-site", "same-origin")],
        &[],
    ];
    for headers in allowed {
        let (mut socket, _) = tokio_tungstenite::connect_async(with_headers(headers))
            .await
            .unwrap();
        assert!(
            matches!(socket.next().await, Some(Ok(Message::Text(_)))),
            "{headers:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_blocks_neither_others_nor_shutdown() {
    let server = Server::with_cluster(Duration::from_millis(50)).await;

    // A client that only writes: requests that each produce sixteen error answers, which it
    // never reads. Once the server cannot write to it, its buffer fills, the server stops
    // reading its requests, and then the client's own writes stall: proof that it is stuck.
    let (stuck, _) = tokio_tungstenite::connect_async(server.request())
        .await
        .unwrap();
    let (mut requests, mut answers) = stuck.split();
    let topics: Vec<Value> = (0..16)
        .map(|n| json!({"topic": format!("{n:0>60}")}))
        .collect();
    let flood = json!({"op": "subscribe", "topics": topics}).to_string();
    let flooding = tokio::time::timeout(Duration::from_secs(60), async {
        let mut sent = 0_u64;
        loop {
            let send = requests.send(Message::Text(flood.clone().into()));
            match tokio::time::timeout(Duration::from_secs(2), send).await {
                Ok(Ok(())) => sent += 1,
                Ok(Err(error)) => panic!("the stuck client was dropped early: {error}"),
                Err(_stalled) => return sent,
            }
        }
    });
    let sent = flooding.await.expect("the server never stopped reading");
    assert!(sent > 100, "stalled after {sent} requests");

    // Others are served meanwhile: hello, heartbeats, subscriptions, events.
    let (mut other, _) = Client::connect(&server).await;
    assert_eq!(other.next().await["type"], "heartbeat");
    other.subscribe("cluster", None).await;
    assert_eq!(other.next_news().await["type"], "subscribed");
    let start = version(&other.next_news().await);
    server.new_view();
    assert!(version(&other.next_news().await) > start);

    // Shutdown completes with the stuck client still connected, and closes it.
    let address = server.address;
    server.stop().await;
    assert_eq!(other.next_news().await["type"], "shutting_down");
    // Well before the write timeout (10 s from when the server's writes to it blocked) could
    // have ended it instead.
    let drained = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = answers.next().await {}
    });
    drained
        .await
        .expect("the stuck client's connection stayed open");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still accepting"
    );
}

#[tokio::test]
async fn shutdown_tells_every_client_and_closes_with_1001() {
    let server = Server::with_cluster(NEVER).await;
    let (mut idle, _) = Client::connect(&server).await;
    let (mut subscribed, _) = Client::connect(&server).await;
    subscribed.subscribe("cluster", None).await;
    subscribed.next_news().await;
    subscribed.next_news().await;
    server.stop().await;
    for client in [&mut idle, &mut subscribed] {
        assert_eq!(client.next_news().await["type"], "shutting_down");
        let close = tokio::time::timeout(PATIENCE, client.socket.next())
            .await
            .unwrap();
        match close {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
