//! A lean HTTP/1.1 client for the `bench` driver: one write per request (prepared bytes),
//! replies read into a buffer reused for the whole connection and handed out as slices of
//! it, heads parsed in place with `httparse`. A body is copied only when it is chunked
//! (into a second reused buffer). One call at a time per connection, no pipelining.
//!
//! [`Connection`] is the async (Tokio) client of the load; [`BlockingConnection`] the
//! blocking one of the sequential end-to-end calls. Both share [`Reader`].

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
    Closed,
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
            WireError::Closed => "connection closed".to_owned(),
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
            WireError::Closed => f.write_str("the server closed the connection"),
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
                return Err(WireError::Closed);
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
                return Err(WireError::Closed);
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
}
