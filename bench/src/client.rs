//! A minimal HTTP/1.1 client that calls webhooks the way Parse Server does.
//!
//! Parse Server (Node's `http` module, through its keep-alive agent) sends a webhook call
//! as `POST` with `Content-Type: application/json`, `X-Parse-Webhook-Key` and the body
//! chunked, without `Content-Length`: one chunk for the whole JSON, then the last chunk.
//! It keeps connections alive and sends the next call on the same connection. This client
//! does the same over a plain [`TcpStream`], one call at a time per connection, and reads
//! replies with a `Content-Length` or chunked.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest reply head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Why a call got no complete reply.
#[derive(Debug)]
pub enum TransportError {
    /// The connection could not be opened.
    Connect(io::Error),
    /// Writing the request failed.
    Write(io::Error),
    /// Reading the reply failed.
    Read(io::Error),
    /// The server closed the connection before the reply was complete.
    Closed {
        /// Whether part of the reply had arrived.
        midway: bool,
    },
    /// The reply is not valid HTTP/1.1.
    Malformed(String),
}

impl TransportError {
    /// A short name of the kind of error, for counting.
    pub fn kind(&self) -> String {
        match self {
            TransportError::Connect(error) => format!("connect: {:?}", error.kind()),
            TransportError::Write(error) => format!("write: {:?}", error.kind()),
            TransportError::Read(error) => format!("read: {:?}", error.kind()),
            TransportError::Closed { midway: false } => "closed before replying".to_owned(),
            TransportError::Closed { midway: true } => "closed in the middle of a reply".to_owned(),
            TransportError::Malformed(_) => "malformed reply".to_owned(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Connect(error) => write!(f, "cannot connect: {error}"),
            TransportError::Write(error) => write!(f, "cannot send the request: {error}"),
            TransportError::Read(error) => write!(f, "cannot read the reply: {error}"),
            TransportError::Closed { midway: false } => {
                f.write_str("the server closed the connection without replying")
            }
            TransportError::Closed { midway: true } => {
                f.write_str("the server closed the connection in the middle of the reply")
            }
            TransportError::Malformed(message) => write!(f, "malformed reply: {message}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// A complete reply.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body, decoded from its framing.
    pub body: Vec<u8>,
    /// Whether the server said it closes the connection after this reply.
    pub close: bool,
}

/// Appends a webhook call to `out`: the head as Parse Server sends it, then `body` in
/// chunks of at most `chunk` bytes (`0`: one chunk for the whole body, as Node sends a body
/// written at once), then the last chunk.
pub fn write_request(
    out: &mut Vec<u8>,
    path: &str,
    host: &str,
    key: &str,
    body: &[u8],
    chunk: usize,
) {
    use std::io::Write as _;
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "POST {path} HTTP/1.1\r\n\
         Content-Type: application/json\r\n\
         X-Parse-Webhook-Key: {key}\r\n\
         Host: {host}\r\n\
         Connection: keep-alive\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let size = if chunk == 0 { body.len().max(1) } else { chunk };
    for piece in body.chunks(size) {
        let _ = write!(out, "{:x}\r\n", piece.len());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
}

/// One kept-alive connection to the server.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    /// Bytes read and not yet consumed start at `start`.
    buf: Vec<u8>,
    start: usize,
    /// Whether a byte of the reply being read has arrived.
    reply_started: bool,
    calls: u64,
}

impl Connection {
    /// Opens a connection, with Nagle's algorithm off as Node's HTTP client does.
    pub async fn open(addr: SocketAddr) -> Result<Connection, TransportError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(TransportError::Connect)?;
        stream.set_nodelay(true).map_err(TransportError::Connect)?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(16 * 1024),
            start: 0,
            reply_started: false,
            calls: 0,
        })
    }

    /// How many calls were sent on this connection.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Sends one request (made with [`write_request`]) in a single write and reads its reply.
    pub async fn call(&mut self, request: &[u8]) -> Result<Reply, TransportError> {
        self.calls += 1;
        self.stream
            .write_all(request)
            .await
            .map_err(TransportError::Write)?;
        self.read_reply().await
    }

    /// Reads one reply.
    async fn read_reply(&mut self) -> Result<Reply, TransportError> {
        self.reply_started = self.buf.len() > self.start;
        let head_end = loop {
            if let Some(at) = find(&self.buf[self.start..], b"\r\n\r\n") {
                break self.start + at + 4;
            }
            if self.buf.len() - self.start > MAX_HEAD {
                return Err(TransportError::Malformed("the head is too long".to_owned()));
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[self.start..head_end - 4])
            .map_err(|_| TransportError::Malformed("the head is not UTF-8".to_owned()))?;
        let head = Head::parse(head)?;
        self.start = head_end;
        let body = if head.chunked {
            self.read_chunked().await?
        } else if let Some(length) = head.content_length {
            self.take(length).await?
        } else {
            // Neither: the body runs until the server closes the connection.
            let mut body = self.buf.split_off(self.start);
            self.stream
                .read_to_end(&mut body)
                .await
                .map_err(TransportError::Read)?;
            self.buf.clear();
            self.start = 0;
            return Ok(Reply {
                status: head.status,
                body,
                close: true,
            });
        };
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Reply {
            status: head.status,
            body,
            close: head.close,
        })
    }

    /// Reads more bytes into the buffer; the connection closing is an error.
    async fn fill(&mut self) -> Result<(), TransportError> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let read = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .map_err(TransportError::Read)?;
        self.reply_started |= read > 0;
        if read == 0 {
            return Err(TransportError::Closed {
                midway: self.reply_started,
            });
        }
        Ok(())
    }

    /// Consumes exactly `length` bytes.
    async fn take(&mut self, length: usize) -> Result<Vec<u8>, TransportError> {
        while self.buf.len() - self.start < length {
            self.fill().await?;
        }
        let bytes = self.buf[self.start..self.start + length].to_vec();
        self.start += length;
        Ok(bytes)
    }

    /// Consumes one line, without its CRLF.
    async fn line(&mut self) -> Result<String, TransportError> {
        loop {
            if let Some(at) = find(&self.buf[self.start..], b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.start..self.start + at]);
                let line = line.into_owned();
                self.start += at + 2;
                return Ok(line);
            }
            if self.buf.len() - self.start > MAX_HEAD {
                return Err(TransportError::Malformed(
                    "a chunk line is too long".to_owned(),
                ));
            }
            self.fill().await?;
        }
    }

    /// Consumes a chunked body and its trailers.
    async fn read_chunked(&mut self) -> Result<Vec<u8>, TransportError> {
        let mut body = Vec::new();
        loop {
            let line = self.line().await?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| TransportError::Malformed(format!("chunk size `{line}`")))?;
            if size == 0 {
                while !self.line().await?.is_empty() {}
                return Ok(body);
            }
            body.extend_from_slice(&self.take(size).await?);
            if !self.line().await?.is_empty() {
                return Err(TransportError::Malformed(
                    "no CRLF after a chunk".to_owned(),
                ));
            }
        }
    }
}

/// What the client needs of a reply's head.
struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
}

impl Head {
    fn parse(head: &str) -> Result<Head, TransportError> {
        let malformed = |what: &str| TransportError::Malformed(format!("{what}: `{head}`"));
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| malformed("no status code"))?;
        let mut parsed = Head {
            status,
            content_length: None,
            chunked: false,
            close: match version {
                "HTTP/1.1" => false,
                "HTTP/1.0" => true,
                _ => return Err(malformed("not HTTP/1.x")),
            },
        };
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| malformed("header line"))?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                let length = value.parse().map_err(|_| malformed("Content-Length"))?;
                parsed.content_length = Some(length);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                parsed.chunked = value.to_ascii_lowercase().ends_with("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                let value = value.to_ascii_lowercase();
                if value.split(',').any(|token| token.trim() == "close") {
                    parsed.close = true;
                } else if value.split(',').any(|token| token.trim() == "keep-alive") {
                    parsed.close = false;
                }
            }
        }
        Ok(parsed)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn requests_are_chunked_like_node_sends_them() {
        let mut out = Vec::new();
        write_request(&mut out, "/functions/hello", "h:1", "k", b"{\"a\":1}", 0);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("POST /functions/hello HTTP/1.1\r\n"));
        assert!(text.contains("Transfer-Encoding: chunked\r\n"));
        assert!(!text.to_ascii_lowercase().contains("content-length"));
        assert!(text.ends_with("\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n"));
        let mut out = Vec::new();
        write_request(&mut out, "/", "h", "k", b"abcde", 2);
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("2\r\nab\r\n2\r\ncd\r\n1\r\ne\r\n0\r\n\r\n"));
    }

    /// Replies with a length, chunked and split into small writes are read whole, and
    /// several on one connection.
    #[tokio::test]
    async fn replies_are_read_in_any_framing() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let replies: [&[u8]; 2] = [
                b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n{}{}",
                b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            ];
            for reply in replies {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await.unwrap();
                for piece in reply.chunks(5) {
                    stream.write_all(piece).await.unwrap();
                    stream.flush().await.unwrap();
                    tokio::task::yield_now().await;
                }
            }
        });
        let mut connection = Connection::open(addr).await.unwrap();
        let first = connection.call(b"x").await.unwrap();
        assert_eq!(
            (first.status, &first.body[..], first.close),
            (200, &b"{}{}"[..], false)
        );
        let second = connection.call(b"y").await.unwrap();
        assert_eq!(
            (second.status, &second.body[..], second.close),
            (201, &b"abcde"[..], true)
        );
        server.await.unwrap();
        assert!(matches!(
            connection.call(b"z").await,
            Err(TransportError::Closed { midway: false }
                | TransportError::Write(_)
                | TransportError::Read(_))
        ));
    }

    /// A connection closed after the head of a reply is told apart from one closed before.
    #[tokio::test]
    async fn a_reply_cut_short_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await.unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}")
                .await
                .unwrap();
        });
        let mut connection = Connection::open(addr).await.unwrap();
        let error = connection.call(b"x").await.unwrap_err();
        assert!(
            matches!(error, TransportError::Closed { midway: true }),
            "{error}"
        );
        assert_eq!(error.kind(), "closed in the middle of a reply");
        server.await.unwrap();
    }
}
