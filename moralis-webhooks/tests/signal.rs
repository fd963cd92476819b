//! `BoundServer::serve` stops on SIGTERM and lets the call in flight finish. This binary
//! holds only this test: the signal goes to the whole test process.

#![cfg(unix)]

use std::time::Duration;

use moralis_webhooks::{Error, FunctionRequest, Server, Webhooks};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn sigterm_stops_the_server_after_the_call_in_flight() {
    let webhooks = Webhooks::new().cloud_function("slow", |_: FunctionRequest| async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Ok::<_, Error>("finished")
    });
    let bound = Server::new()
        .handlers_from_attributes(false)
        .webhook_key("k")
        .addr(([127, 0, 0, 1], 0))
        .webhooks(webhooks)
        .bind()
        .await
        .unwrap();
    let addr = bound.local_addr();
    let serving = tokio::spawn(bound.serve());
    tokio::time::sleep(Duration::from_millis(100)).await; // signal handler installed

    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"functionName":"slow"}"#;
    let request = format!(
        "POST /functions/slow HTTP/1.1\r\nHost: x\r\nX-Parse-Webhook-Key: k\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await; // the call is in flight

    let pid = std::process::id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with(r#"{"success":"finished"}"#), "{reply}");
    let result = tokio::time::timeout(Duration::from_secs(5), serving).await;
    result.expect("the server stopped").unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}
