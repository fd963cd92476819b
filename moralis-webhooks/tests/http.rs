//! Over loopback HTTP, as Parse Server calls: chunked request bodies without
//! Content-Length, several calls on one kept-alive connection, limits, and shutdown.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moralis_webhooks::{Error, FunctionRequest, Server, TriggerRequest, Webhooks};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

const KEY: &str = "S3cr3t key/+=~!";

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<Result<(), moralis_webhooks::ServeError>>,
}

impl Running {
    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.done.await.unwrap().unwrap();
    }
}

async fn start(server: Server) -> Running {
    let bound = server
        .handlers_from_attributes(false)
        .addr(([127, 0, 0, 1], 0))
        .bind()
        .await
        .unwrap();
    let addr = bound.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        done,
    }
}

fn webhooks() -> Webhooks {
    Webhooks::new()
        .cloud_function("echo", |req: FunctionRequest| async move {
            Ok::<_, Error>(req.params.into_map())
        })
        .cloud_function("sleep", |req: FunctionRequest| async move {
            let ms: u64 = req.param("ms")?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, Error>(format!("slept {ms} ms"))
        })
        .cloud_function("panic", |_: FunctionRequest| async {
            if true {
                panic!("boom");
            }
            Ok::<(), Error>(())
        })
        .before_save("GameScore", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.set("seen", true);
            Ok::<_, Error>(object)
        })
}

/// A minimal HTTP/1.1 client that sends bodies the way Node does: chunked.
struct Client {
    reader: BufReader<TcpStream>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        Client {
            reader: BufReader::new(TcpStream::connect(addr).await.unwrap()),
        }
    }

    /// Sends `body` in chunks of `chunk` bytes, with the headers Parse Server sends.
    async fn post_chunked(&mut self, path: &str, key: Option<&str>, body: &[u8], chunk: usize) {
        let mut head = format!("POST {path} HTTP/1.1\r\nContent-Type: application/json\r\n");
        if let Some(key) = key {
            head.push_str(&format!("X-Parse-Webhook-Key: {key}\r\n"));
        }
        head.push_str(
            "Host: 127.0.0.1\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).await.unwrap();
        for piece in body.chunks(chunk) {
            let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
            framed.extend_from_slice(piece);
            framed.extend_from_slice(b"\r\n");
            // A failed write means the server already answered and closed: read the reply.
            if stream.write_all(&framed).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }

    async fn read_reply(&mut self) -> Option<Reply> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let status = line.split(' ').nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).await.ok()?;
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':')?;
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .expect("replies carry a Content-Length");
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.ok()?;
        Some(Reply {
            status,
            headers,
            body,
        })
    }

    async fn call(&mut self, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap();
        self.post_chunked(path, Some(KEY), &bytes, 7).await;
        self.read_reply().await.expect("a reply")
    }

    /// Whether the server closed the connection.
    async fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.reader.read(&mut byte)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

#[tokio::test]
async fn chunked_calls_share_one_kept_alive_connection() {
    let server = start(Server::new().webhook_key(KEY).webhooks(webhooks())).await;
    let mut client = Client::connect(server.addr).await;
    for i in 0..20 {
        let reply = client
            .call(
                "/functions/echo",
                &json!({"functionName": "echo", "params": {"i": i, "text": "é ✓"}}),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json(), json!({"success": {"i": i, "text": "é ✓"}}));
    }
    let reply = client
        .call(
            "/triggers/GameScore/beforeSave",
            &json!({"triggerName": "beforeSave", "object": {"className": "GameScore", "score": 1}}),
        )
        .await;
    assert_eq!(reply.json(), json!({"success": {"score": 1, "seen": true}}));
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_answers_an_error_and_the_connection_keeps_serving() {
    let server = start(Server::new().webhook_key(KEY).webhooks(webhooks())).await;
    let mut client = Client::connect(server.addr).await;
    let reply = client
        .call("/functions/panic", &json!({"functionName": "panic"}))
        .await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            200,
            json!({"error": "internal error in the webhook server"})
        )
    );
    let reply = client
        .call("/functions/echo", &json!({"params": {"after": "panic"}}))
        .await;
    assert_eq!(reply.json(), json!({"success": {"after": "panic"}}));
    server.stop().await;
}

#[tokio::test]
async fn the_key_is_checked_over_http() {
    let server = start(Server::new().webhook_key(KEY).webhooks(webhooks())).await;
    let mut client = Client::connect(server.addr).await;
    client
        .post_chunked("/functions/echo", None, b"{}", 64)
        .await;
    let reply = client.read_reply().await.unwrap();
    assert_eq!(
        (reply.status, reply.json()),
        (401, json!({"error": "missing X-Parse-Webhook-Key header"}))
    );
    let mut client = Client::connect(server.addr).await;
    client
        .post_chunked("/functions/echo", Some("S3cr3t key/+=~?"), b"{}", 64)
        .await;
    let reply = client.read_reply().await.unwrap();
    assert_eq!(
        (reply.status, reply.json()),
        (401, json!({"error": "wrong X-Parse-Webhook-Key"}))
    );
    server.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_whether_chunked_or_declared() {
    let limit = 64 * 1024;
    let server = start(
        Server::new()
            .webhook_key(KEY)
            .body_limit(limit)
            .webhooks(webhooks()),
    )
    .await;
    let big = serde_json::to_vec(&json!({"params": {"blob": "x".repeat(limit)}})).unwrap();

    let mut client = Client::connect(server.addr).await;
    client
        .post_chunked("/functions/echo", Some(KEY), &big, 16 * 1024)
        .await;
    let reply = client.read_reply().await.unwrap();
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.json(),
        json!({"error": format!("the body is larger than the limit of {limit} bytes")})
    );

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /functions/echo HTTP/1.1\r\nHost: x\r\nX-Parse-Webhook-Key: {KEY}\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut client = Client {
        reader: BufReader::new(stream),
    };
    assert_eq!(
        client.read_reply().await.unwrap().status,
        413,
        "refused before the body is read"
    );

    // Just under the limit is fine.
    let fits = serde_json::to_vec(&json!({"params": {"blob": "x".repeat(limit - 100)}})).unwrap();
    let mut client = Client::connect(server.addr).await;
    client
        .post_chunked("/functions/echo", Some(KEY), &fits, 16 * 1024)
        .await;
    assert_eq!(client.read_reply().await.unwrap().status, 200);
    server.stop().await;
}

#[tokio::test]
async fn the_default_limit_takes_the_10_mib_parse_server_may_send() {
    let server = start(Server::new().webhook_key(KEY).webhooks(webhooks())).await;
    let ten_mib =
        serde_json::to_vec(&json!({"params": {"blob": "y".repeat(10 * 1024 * 1024)}})).unwrap();
    let mut client = Client::connect(server.addr).await;
    client
        .post_chunked("/functions/echo", Some(KEY), &ten_mib, 64 * 1024)
        .await;
    let reply = client.read_reply().await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["success"]["blob"].as_str().unwrap().len(),
        10 * 1024 * 1024
    );
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_gets_400_with_a_json_error() {
    let server = start(Server::new().webhook_key(KEY).webhooks(webhooks())).await;
    let mut client = Client::connect(server.addr).await;
    client
        .post_chunked("/functions/echo", Some(KEY), b"{\"params\": {", 3)
        .await;
    let reply = client.read_reply().await.unwrap();
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("the body is not a webhook request"));
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_calls_in_flight_finish_and_refuses_new_connections() {
    let server = start(
        Server::new()
            .webhook_key(KEY)
            .webhooks(webhooks())
            .shutdown_timeout(Duration::from_secs(10)),
    )
    .await;
    let addr = server.addr;
    let mut idle = Client::connect(addr).await;
    assert_eq!(
        idle.call("/functions/echo", &json!({"params": {}}))
            .await
            .status,
        200
    );

    let mut busy = Client::connect(addr).await;
    let body = serde_json::to_vec(&json!({"params": {"ms": 500}})).unwrap();
    busy.post_chunked("/functions/sleep", Some(KEY), &body, 5)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await; // the call is in flight
    let stopping = tokio::spawn(server.stop());

    let reply = busy
        .read_reply()
        .await
        .expect("the call in flight is answered");
    assert_eq!(reply.json(), json!({"success": "slept 500 ms"}));
    assert!(
        idle.is_closed().await,
        "idle kept-alive connections are closed"
    );
    stopping.await.unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn calls_run_concurrently() {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&started);
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let webhooks = Webhooks::new().cloud_function("meet", move |_: FunctionRequest| {
        counter.fetch_add(1, Ordering::SeqCst);
        let barrier = Arc::clone(&barrier);
        async move {
            // Completes only when all eight calls are in their handlers at once.
            barrier.wait().await;
            Ok::<_, Error>("met")
        }
    });
    let server = start(Server::new().webhook_key(KEY).webhooks(webhooks)).await;
    let calls = (0..8).map(|_| {
        let addr = server.addr;
        tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            client.call("/functions/meet", &json!({})).await.json()
        })
    });
    let replies = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("eight calls in their handlers at the same time");
    for reply in replies {
        assert_eq!(reply.unwrap(), json!({"success": "met"}));
    }
    assert_eq!(started.load(Ordering::SeqCst), 8);
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_stay_open_but_slow_headers_and_bodies_are_cut_off() {
    let server = start(
        Server::new()
            .webhook_key(KEY)
            .webhooks(webhooks())
            .read_timeout(Duration::from_millis(300)),
    )
    .await;
    // Parse Server keeps connections for ever: an idle gap longer than the read timeout
    // must not close them.
    let mut idle = Client::connect(server.addr).await;
    assert_eq!(
        idle.call("/functions/echo", &json!({"params": {"n": 1}}))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    let reply = idle
        .call("/functions/echo", &json!({"params": {"n": 2}}))
        .await;
    assert_eq!(
        reply.json(),
        json!({"success": {"n": 2}}),
        "the idle connection was kept"
    );

    // On a connection that has served a call, the limit runs from the next request's first
    // byte, not from the earlier call: a head that stalls is cut off no sooner and not much
    // later.
    let mut kept = Client::connect(server.addr).await;
    assert_eq!(
        kept.call("/functions/echo", &json!({"params": {"n": 4}}))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started_slow = Instant::now();
    kept.reader
        .get_mut()
        .write_all(b"POST /functions/echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        kept.is_closed().await,
        "a kept-alive connection whose next head stalls is closed"
    );
    let waited = started_slow.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "cut off {waited:?} after its first byte, with a limit of 300 ms"
    );

    // A request whose headers trickle in is cut off.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"POST /functions/echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut client = Client {
        reader: BufReader::new(slow),
    };
    assert!(
        client.is_closed().await,
        "headers that never finish close the connection"
    );

    // A body that stalls gets 408.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /functions/echo HTTP/1.1\r\nHost: x\r\nX-Parse-Webhook-Key: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{{\"pa\r\n"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let mut client = Client {
        reader: BufReader::new(stalled),
    };
    let reply = client.read_reply().await.expect("a reply");
    assert_eq!(reply.status, 408);
    assert_eq!(
        reply.json(),
        json!({"error": "the request body did not arrive within 0.3 s"})
    );
    server.stop().await;
}

#[tokio::test]
async fn draining_turns_readyz_off_and_asks_clients_to_close_connections() {
    let server = start(
        Server::new()
            .webhook_key(KEY)
            .webhooks(webhooks())
            .drain_delay(Duration::from_millis(600)),
    )
    .await;
    let addr = server.addr;
    let get = |path: &'static str| async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut client = Client {
            reader: BufReader::new(stream),
        };
        client.read_reply().await.unwrap()
    };
    assert_eq!(get("/readyz").await.json(), json!({"status": "ok"}));
    let mut kept = Client::connect(addr).await;
    let reply = kept.call("/functions/echo", &json!({})).await;
    assert_eq!(reply.header("connection"), None);

    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let readyz = get("/readyz").await;
    assert_eq!(
        (readyz.status, readyz.json()),
        (503, json!({"status": "draining"}))
    );
    assert_eq!(get("/livez").await.status, 200);
    // Still serving during the drain delay, but asking clients not to reuse connections.
    let reply = kept
        .call("/functions/echo", &json!({"params": {"during": "drain"}}))
        .await;
    assert_eq!(reply.json(), json!({"success": {"during": "drain"}}));
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(kept.is_closed().await);
    stopping.await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}

/// The app as a `tower::Service`: the same pipeline for any request body type.
#[cfg(feature = "tower")]
#[tokio::test]
async fn the_app_is_a_tower_service_for_any_body() {
    use http_body_util::{BodyExt, Full};
    use tower_service::Service;

    let mut app = moralis_webhooks::Server::new()
        .handlers_from_attributes(false)
        .webhook_key("hookkey")
        .webhooks(moralis_webhooks::Webhooks::new().cloud_function(
            "hello",
            |req: moralis_webhooks::FunctionRequest| async move {
                Ok::<_, moralis_webhooks::Error>(format!(
                    "Hello, {}!",
                    req.param::<String>("name")?
                ))
            },
        ))
        .into_app()
        .unwrap();
    let call = |key: &'static str| {
        http::Request::post("/functions/hello")
            .header("X-Parse-Webhook-Key", key)
            .body(Full::new(bytes::Bytes::from(
                r#"{"params":{"name":"Ada"}}"#,
            )))
            .unwrap()
    };
    let response = app.call(call("hookkey")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, r#"{"success":"Hello, Ada!"}"#);
    let refused = app.clone().call(call("wrong")).await.unwrap();
    assert_eq!(refused.status(), 401);
}
