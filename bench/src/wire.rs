//! A lean HTTP/1.1 client that calls webhooks the way Parse Server does, for every load
//! generator of the crate.
//!
//! Parse Server (Node's `http` module, through its keep-alive agent) sends a webhook call
//! as `POST` with `Content-Type: application/json`, `X-Parse-Webhook-Key` and the body
//! chunked, without `Content-Length` ([`write_request`]), and sends the next call on the
//! same connection. Requests go out in one write (prepared bytes); replies are read into a
//! buffer reused for the whole connection and handed out as slices of it, heads parsed in
//! place with `httparse`. A body is copied only when it is chunked (into a second reused
//! buffer). One call at a time per connection, no pipelining.
//!
//! [`Connection`] is the async (Tokio) client of the load generators; [`BlockingConnection`]
//! the blocking one of the sequential end-to-end calls. Both share [`Reader`].

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest reply head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The least free space offered to each read.
const READ_SPACE: usize = 64 * 1024;

/// Why a call got no complete reply.
#[derive(Debug)]
pub enum WireError {
    /// Opening the connection failed.
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

impl WireError {
    /// A short name of the kind of error, for counting.
    pub fn kind(&self) -> String {
        match self {
            WireError::Connect(error) => format!("connect: {:?}", error.kind()),
            WireError::Write(error) => format!("write: {:?}", error.kind()),
            WireError::Read(error) => format!("read: {:?}", error.kind()),
            WireError::Closed { midway: false } => "closed before replying".to_owned(),
            WireError::Closed { midway: true } => "closed in the middle of a reply".to_owned(),
            WireError::Malformed(_) => "malformed reply".to_owned(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Connect(error) => write!(f, "cannot connect: {error}"),
            WireError::Write(error) => write!(f, "cannot send the request: {error}"),
            WireError::Read(error) => write!(f, "cannot read the reply: {error}"),
            WireError::Closed { midway: false } => {
                f.write_str("the server closed the connection without replying")
            }
            WireError::Closed { midway: true } => {
                f.write_str("the server closed the connection in the middle of the reply")
            }
            WireError::Malformed(message) => write!(f, "malformed reply: {message}"),
        }
    }
}

impl std::error::Error for WireError {}

/// A complete reply, borrowed from the connection's buffers until the next call.
#[derive(Debug)]
pub struct Reply<'a> {
    /// The status code.
    pub status: u16,
    /// The body, without its framing.
    pub body: &'a [u8],
    /// Whether the server closes the connection after this reply.
    pub close: bool,
}

/// How the body of the reply being read is framed.
#[derive(Clone, Copy, Debug)]
enum State {
    /// `Content-Length`: the body is `start..end` of the buffer.
    Length { start: usize, end: usize },
    /// Chunked: chunks before `at` were copied out.
    Chunked { at: usize },
    /// Neither: the body runs until the server closes the connection.
    UntilClose { start: usize },
}

/// What a complete reply is made of.
#[derive(Clone, Debug)]
struct Parsed {
    status: u16,
    close: bool,
    body: Body,
}

#[derive(Clone, Debug)]
enum Body {
    InBuffer(Range<usize>),
    Dechunked,
}

/// The reply parser: bytes read so far, and where the reply being read stands.
#[derive(Debug, Default)]
pub struct Reader {
    buf: Vec<u8>,
    /// The reply being read starts here.
    start: usize,
    /// Once the head is parsed: the framing, the status, and whether the server closes.
    state: Option<(State, u16, bool)>,
    dechunked: Vec<u8>,
    /// Set once the connection reached its end.
    eof: bool,
}

impl Reader {
    /// Forgets the previous reply.
    fn begin(&mut self) {
        if self.start >= self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.drain(..self.start);
        }
        self.start = 0;
        self.state = None;
        self.dechunked.clear();
    }

    /// Ensures room for the next read, at least `READ_SPACE` or what the body still needs.
    fn reserve(&mut self) {
        let wanted = match self.state {
            Some((State::Length { end, .. }, _, _)) => end.saturating_sub(self.buf.len()),
            _ => 0,
        }
        .max(READ_SPACE);
        if self.buf.capacity() - self.buf.len() < wanted {
            self.buf.reserve(wanted);
        }
    }

    /// Parses what arrived; `Some` once the reply is complete.
    fn advance(&mut self) -> Result<Option<Parsed>, WireError> {
        loop {
            let Some((state, status, close)) = self.state else {
                if !self.parse_head()? {
                    return Ok(None);
                }
                continue;
            };
            match state {
                State::Length { start, end } => {
                    if self.buf.len() < end {
                        return Ok(None);
                    }
                    let parsed = Parsed {
                        status,
                        close,
                        body: Body::InBuffer(start..end),
                    };
                    self.start = end;
                    return Ok(Some(parsed));
                }
                State::Chunked { at } => match self.chunk(at)? {
                    Chunk::More => return Ok(None),
                    Chunk::Data { next } => {
                        self.state = Some((State::Chunked { at: next }, status, close));
                    }
                    Chunk::End { next } => {
                        self.start = next;
                        return Ok(Some(Parsed {
                            status,
                            close,
                            body: Body::Dechunked,
                        }));
                    }
                },
                State::UntilClose { start } => {
                    if !self.eof {
                        return Ok(None);
                    }
                    let end = self.buf.len();
                    self.start = end;
                    return Ok(Some(Parsed {
                        status,
                        close: true,
                        body: Body::InBuffer(start..end),
                    }));
                }
            }
        }
    }

    /// Parses the head if it is complete; sets the state.
    fn parse_head(&mut self) -> Result<bool, WireError> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let data = &self.buf[self.start..];
        let head_len = match response.parse(data) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                if data.len() > MAX_HEAD {
                    return Err(WireError::Malformed("the head is too long".to_owned()));
                }
                return Ok(false);
            }
            Err(error) => return Err(WireError::Malformed(error.to_string())),
        };
        let status = response.code.unwrap_or(0);
        let mut close = response.version != Some(1);
        let mut length = None;
        let mut chunked = false;
        for header in response.headers.iter() {
            let value = std::str::from_utf8(header.value)
                .map_err(|_| WireError::Malformed("a header is not UTF-8".to_owned()))?
                .trim();
            if header.name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| WireError::Malformed(format!("Content-Length `{value}`")))?,
                );
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().ends_with("chunked");
            } else if header.name.eq_ignore_ascii_case("connection") {
                for token in value.split(',') {
                    let token = token.trim();
                    if token.eq_ignore_ascii_case("close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        close = false;
                    }
                }
            }
        }
        let body_start = self.start + head_len;
        let state = if chunked {
            State::Chunked { at: body_start }
        } else if let Some(length) = length {
            State::Length {
                start: body_start,
                end: body_start + length,
            }
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            State::Length {
                start: body_start,
                end: body_start,
            }
        } else {
            State::UntilClose { start: body_start }
        };
        self.state = Some((state, status, close));
        Ok(true)
    }

    /// Reads one chunk at `at`.
    fn chunk(&mut self, at: usize) -> Result<Chunk, WireError> {
        let data = &self.buf[at..];
        let Some(line_end) = find_crlf(data) else {
            if data.len() > MAX_HEAD {
                return Err(WireError::Malformed("a chunk line is too long".to_owned()));
            }
            return Ok(Chunk::More);
        };
        let line = std::str::from_utf8(&data[..line_end])
            .map_err(|_| WireError::Malformed("a chunk line is not UTF-8".to_owned()))?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| WireError::Malformed(format!("chunk size `{line}`")))?;
        let data_start = at + line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            let mut pos = data_start;
            loop {
                let Some(end) = find_crlf(&self.buf[pos..]) else {
                    return Ok(Chunk::More);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Chunk::End { next: pos });
                }
            }
        }
        if self.buf.len() < data_start + size + 2 {
            return Ok(Chunk::More);
        }
        if &self.buf[data_start + size..data_start + size + 2] != b"\r\n" {
            return Err(WireError::Malformed("no CRLF after a chunk".to_owned()));
        }
        self.dechunked
            .extend_from_slice(&self.buf[data_start..data_start + size]);
        Ok(Chunk::Data {
            next: data_start + size + 2,
        })
    }

    /// The error of a connection that ended before the reply was complete.
    fn closed(&self) -> WireError {
        WireError::Closed {
            midway: self.buf.len() > self.start,
        }
    }

    fn reply(&self, parsed: Parsed) -> Reply<'_> {
        let body = match parsed.body {
            Body::InBuffer(range) => &self.buf[range],
            Body::Dechunked => &self.dechunked[..],
        };
        Reply {
            status: parsed.status,
            body,
            close: parsed.close,
        }
    }
}

enum Chunk {
    More,
    Data { next: usize },
    End { next: usize },
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|pair| pair == b"\r\n")
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

/// One kept-alive connection of the load (Tokio).
#[derive(Debug)]
pub struct Connection {
    stream: tokio::net::TcpStream,
    reader: Reader,
}

impl Connection {
    /// Opens a connection, with Nagle's algorithm off as Node's HTTP client does.
    pub async fn open(addr: SocketAddr) -> Result<Connection, WireError> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(WireError::Connect)?;
        stream.set_nodelay(true).map_err(WireError::Connect)?;
        Ok(Connection {
            stream,
            reader: Reader::default(),
        })
    }

    /// Sends `request` (one write) and reads its reply.
    pub async fn call(&mut self, request: &[u8]) -> Result<Reply<'_>, WireError> {
        self.reader.begin();
        self.stream
            .write_all(request)
            .await
            .map_err(WireError::Write)?;
        loop {
            if let Some(parsed) = self.reader.advance()? {
                return Ok(self.reader.reply(parsed));
            }
            if self.reader.eof {
                return Err(self.reader.closed());
            }
            self.reader.reserve();
            let read = self
                .stream
                .read_buf(&mut self.reader.buf)
                .await
                .map_err(WireError::Read)?;
            if read == 0 {
                self.reader.eof = true;
            }
        }
    }
}

/// One kept-alive connection making blocking calls (the end-to-end part).
#[derive(Debug)]
pub struct BlockingConnection {
    stream: std::net::TcpStream,
    reader: Reader,
}

impl BlockingConnection {
    /// Opens a connection, with Nagle's algorithm off.
    pub fn open(addr: SocketAddr) -> Result<BlockingConnection, WireError> {
        let stream = std::net::TcpStream::connect(addr).map_err(WireError::Connect)?;
        stream.set_nodelay(true).map_err(WireError::Connect)?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .map_err(WireError::Connect)?;
        Ok(BlockingConnection {
            stream,
            reader: Reader::default(),
        })
    }

    /// Sends `request` (one write) and reads its reply.
    pub fn call(&mut self, request: &[u8]) -> Result<Reply<'_>, WireError> {
        self.reader.begin();
        self.stream.write_all(request).map_err(WireError::Write)?;
        loop {
            if let Some(parsed) = self.reader.advance()? {
                return Ok(self.reader.reply(parsed));
            }
            if self.reader.eof {
                return Err(self.reader.closed());
            }
            self.reader.reserve();
            let filled = self.reader.buf.len();
            let capacity = self.reader.buf.capacity();
            self.reader.buf.resize(capacity, 0);
            let read = self.stream.read(&mut self.reader.buf[filled..]);
            self.reader
                .buf
                .truncate(filled + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => self.reader.eof = true,
                Ok(_) => {}
                Err(error) => return Err(WireError::Read(error)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn parse_all(pieces: &[&[u8]]) -> Vec<(u16, Vec<u8>, bool)> {
        let mut reader = Reader::default();
        let mut replies = Vec::new();
        reader.begin();
        for piece in pieces {
            reader.buf.extend_from_slice(piece);
            while let Some(parsed) = reader.advance().unwrap() {
                let reply = reader.reply(parsed);
                replies.push((reply.status, reply.body.to_vec(), reply.close));
                reader.begin();
            }
        }
        replies
    }

    #[test]
    fn replies_are_read_in_any_framing_and_any_pieces() {
        let stream: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n{}{}\
HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n\
HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno";
        let expected = vec![
            (200, b"{}{}".to_vec(), false),
            (201, b"abcde".to_vec(), false),
            (413, b"no".to_vec(), true),
        ];
        assert_eq!(parse_all(&[stream]), expected);
        let pieces: Vec<&[u8]> = stream.chunks(3).collect();
        assert_eq!(parse_all(&pieces), expected);
    }

    #[test]
    fn malformed_replies_are_errors() {
        let mut reader = Reader::default();
        reader
            .buf
            .extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n");
        assert!(matches!(reader.advance(), Err(WireError::Malformed(_))));
        let mut reader = Reader::default();
        reader
            .buf
            .extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        assert!(matches!(reader.advance(), Err(WireError::Malformed(_))));
    }

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
            (first.status, first.body, first.close),
            (200, &b"{}{}"[..], false)
        );
        let second = connection.call(b"y").await.unwrap();
        assert_eq!(
            (second.status, second.body, second.close),
            (201, &b"abcde"[..], true)
        );
        server.await.unwrap();
        assert!(matches!(
            connection.call(b"z").await,
            Err(WireError::Closed { midway: false } | WireError::Write(_) | WireError::Read(_))
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
            matches!(error, WireError::Closed { midway: true }),
            "{error}"
        );
        assert_eq!(error.kind(), "closed in the middle of a reply");
        server.await.unwrap();
    }
}
