//! What several integration tests share: the recorded requests of `fixtures/`, and a raw
//! HTTP exchange on a fresh connection. Included with `mod common;`; a test uses what it
//! needs.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A recorded Parse Server request (`fixtures/<name>.json`): its route and body.
pub(crate) fn fixture(name: &str) -> (String, Value) {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut record: Value = serde_json::from_str(&text).unwrap();
    let route = record["path"].as_str().unwrap().to_owned();
    (route, record["body"].take())
}

/// A reply read off the wire.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends `bytes` on a new connection, while reading the reply: the server may answer (and
/// close) before it has read everything, as it does for bodies over the limit.
pub(crate) async fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        // A failed write means the server answered and closed already: the reply says why.
        let _ = writer.write_all(&bytes).await;
        writer
    });
    let reply = tokio::time::timeout(Duration::from_secs(60), read_reply(reader))
        .await
        .expect("a reply within a minute (not a timing assertion: a hang guard)")
        .expect("a well-formed HTTP reply");
    writing.abort();
    reply
}

async fn read_reply(reader: tokio::net::tcp::OwnedReadHalf) -> Option<Reply> {
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse::<usize>().unwrap());
    let mut body = Vec::new();
    match length {
        Some(length) => {
            body.resize(length, 0);
            reader.read_exact(&mut body).await.ok()?;
        }
        // No length: the body runs to the end of the connection.
        None => {
            reader.read_to_end(&mut body).await.ok()?;
        }
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}
