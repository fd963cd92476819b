//! Bad input over loopback HTTP, table-driven: every case goes over a new TCP connection
//! to one running server and must be refused with a 4xx and a JSON `{"error": ...}` that
//! says what is wrong, without running any handler, and the server must keep serving.
//!
//! # What hyper answers itself
//!
//! A few requests are refused by hyper before our code sees them; hyper then answers with
//! its own status, an EMPTY body, and closes the connection. We leave these to hyper:
//!
//! - malformed HTTP (a header line without `:`, a request line that is not one, an
//!   unparsable `Content-Length`): there is no request to hand to our code;
//! - more than 100 headers (hyper's default `max_headers`, 431): raising it moves hyper's
//!   header array from the stack to a heap allocation on every request, Parse Server's
//!   included (hyper documents ~5% slower), and whatever the limit, more headers than it
//!   would still get hyper's bare 431. Parse Server sends a handful of headers;
//! - a request target over 65 534 bytes (hyper's fixed `MAX_URI_LEN`, 414; not
//!   configurable). Targets over 8 KiB and up to that get our JSON 414;
//! - a header section that does not fit hyper's read buffer (its default `max_buf_size`,
//!   about 400 KiB, 431): this is what bounds the memory a connection's headers take.
//!   Header sections over 32 KiB and up to that get our JSON 431.
//!
//! Fields nobody reads (Parse Server's `log`, fields of newer versions) are held to the same
//! rules: a body nesting deeper than 128 levels or not in UTF-8 is refused whole, wherever
//! the fault lies, so what reaches a handler always decodes.

mod common;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use moralis_webhooks::{Error, FunctionRequest, Server, TriggerRequest, Webhooks};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use common::{exchange, Reply};

const KEY: &str = "bad-input-key";
const MIB: usize = 1024 * 1024;

/// What a case must get back.
#[derive(Clone)]
enum Expect {
    /// Our refusal: this 4xx status and `{"error": <this exact message>}`.
    Json(u16, String),
    /// Our refusal, where the message ends with serde_json's position (line/column):
    /// this 4xx status and a message starting with this.
    JsonPrefix(u16, String),
    /// hyper's own refusal: this 4xx status and an empty body (see the module docs).
    Hyper(u16),
}

struct Case {
    name: String,
    request: Vec<u8>,
    expect: Expect,
}

/// A request, written out byte for byte.
struct Req {
    method: &'static str,
    target: String,
    headers: Vec<(String, String)>,
    key: Option<String>,
    body: Vec<u8>,
    /// `Some(n)`: a chunked body in chunks of `n` bytes (as Parse Server's Node client
    /// sends); `None`: with Content-Length.
    chunked: Option<usize>,
    /// A Content-Length that differs from the body actually sent.
    declared: Option<usize>,
}

impl Req {
    fn new(method: &'static str, target: impl Into<String>) -> Req {
        Req {
            method,
            target: target.into(),
            headers: Vec::new(),
            key: Some(KEY.to_owned()),
            body: Vec::new(),
            chunked: None,
            declared: None,
        }
    }

    fn post(target: impl Into<String>, body: impl Into<Vec<u8>>) -> Req {
        let mut req = Req::new("POST", target);
        req.body = body.into();
        req
    }

    fn post_json(target: impl Into<String>, body: &Value) -> Req {
        Req::post(target, serde_json::to_vec(body).unwrap())
    }

    fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn key(mut self, key: Option<&str>) -> Req {
        self.key = key.map(str::to_owned);
        self
    }

    fn chunked(mut self, chunk: usize) -> Req {
        self.chunked = Some(chunk);
        self
    }

    fn declared(mut self, length: usize) -> Req {
        self.declared = Some(length);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
            self.method, self.target
        );
        if let Some(key) = &self.key {
            writeln!(head, "X-Parse-Webhook-Key: {key}\r").unwrap();
        }
        for (name, value) in &self.headers {
            writeln!(head, "{name}: {value}\r").unwrap();
        }
        let mut bytes = match self.chunked {
            Some(_) => {
                head.push_str("Transfer-Encoding: chunked\r\n\r\n");
                head.into_bytes()
            }
            None => {
                let length = self.declared.unwrap_or(self.body.len());
                if length > 0 || self.method != "GET" {
                    writeln!(head, "Content-Length: {length}\r").unwrap();
                }
                head.push_str("\r\n");
                head.into_bytes()
            }
        };
        match self.chunked {
            Some(chunk) => {
                for piece in self.body.chunks(chunk) {
                    bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    bytes.extend_from_slice(piece);
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"0\r\n\r\n");
            }
            None => bytes.extend_from_slice(&self.body),
        }
        bytes
    }
}

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<Result<(), moralis_webhooks::ServeError>>,
}

/// Every handler counts its calls: no bad case may reach one.
fn webhooks(calls: &Arc<AtomicUsize>) -> Webhooks {
    let counted = |calls: &Arc<AtomicUsize>| {
        let calls = Arc::clone(calls);
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
        }
    };
    let (f, bs, us, ad, bd) = (
        counted(calls),
        counted(calls),
        counted(calls),
        counted(calls),
        counted(calls),
    );
    Webhooks::new()
        .cloud_function("echo", move |req: FunctionRequest| {
            f();
            async move { Ok::<_, Error>(req.params.into_map()) }
        })
        .before_save("GameScore", move |req: TriggerRequest| {
            bs();
            async move { Ok::<_, Error>(req.object) }
        })
        .after_save("GameScore", move |_: TriggerRequest| {
            us();
            async {}
        })
        .after_delete("GameScore", move |_: TriggerRequest| {
            ad();
            async {}
        })
        .before_delete("GameScore", move |_: TriggerRequest| {
            bd();
            async { Ok::<_, Error>(()) }
        })
}

async fn start(calls: &Arc<AtomicUsize>) -> Running {
    let bound = Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(webhooks(calls))
        .addr(([127, 0, 0, 1], 0))
        .bind()
        .await
        .unwrap();
    assert_eq!(bound.app().body_limit(), 16 * MIB, "the default body limit");
    let addr = bound.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    Running { addr, stop, done }
}

/// A normal call and `/readyz` work, each on a new connection.
async fn assert_healthy(addr: SocketAddr, calls: &AtomicUsize, after: &str) {
    let before = calls.load(Ordering::SeqCst);
    let ok = Req::post_json(
        "/functions/echo",
        &json!({"functionName": "echo", "params": {"still": "serving"}}),
    )
    .chunked(16);
    let reply = exchange(addr, ok.bytes()).await;
    assert_eq!(reply.status, 200, "a normal call after {after}");
    assert_eq!(
        serde_json::from_slice::<Value>(&reply.body).unwrap(),
        json!({"success": {"still": "serving"}}),
        "a normal call after {after}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
    let readyz = exchange(addr, Req::new("GET", "/readyz").key(None).bytes()).await;
    assert_eq!(
        (readyz.status, readyz.body.as_slice()),
        (200, &br#"{"status":"ok"}"#[..]),
        "/readyz after {after}"
    );
}

impl From<Req> for Vec<u8> {
    fn from(req: Req) -> Vec<u8> {
        req.bytes()
    }
}

fn json_case(
    name: impl Into<String>,
    request: impl Into<Vec<u8>>,
    status: u16,
    message: impl Into<String>,
) -> Case {
    Case {
        name: name.into(),
        request: request.into(),
        expect: Expect::Json(status, message.into()),
    }
}

fn prefix_case(
    name: impl Into<String>,
    request: impl Into<Vec<u8>>,
    status: u16,
    prefix: impl Into<String>,
) -> Case {
    Case {
        name: name.into(),
        request: request.into(),
        expect: Expect::JsonPrefix(status, prefix.into()),
    }
}

fn hyper_case(name: impl Into<String>, request: impl Into<Vec<u8>>, status: u16) -> Case {
    Case {
        name: name.into(),
        request: request.into(),
        expect: Expect::Hyper(status),
    }
}

/// `[[[...]]]`, `depth` deep.
fn nested(depth: usize) -> String {
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    text
}

fn cases() -> Vec<Case> {
    const NOT_A_REQUEST: &str = "the body is not a webhook request: ";
    const NOT_UTF8: &str = "it is not UTF-8 (invalid byte at offset";
    const NOT_AN_OBJECT: &str = "the body is not a webhook request: expected a JSON object";
    const TOO_LARGE: &str = "the body is larger than the limit of 16777216 bytes";
    const URL_TOO_LONG: &str = "the request URL is longer than the limit of 8192 bytes";
    const HEADERS_TOO_LARGE: &str = "the request headers are larger than the limit of 32768 bytes";
    const NOT_POST: &str = "webhooks are called with POST, not ";
    const NO_WEBHOOK_HERE: &str = "no webhook at this path: webhooks are served at POST \
                                   /functions/<name> and POST /triggers/<className>/<triggerName>";
    let before_save = "/triggers/GameScore/beforeSave";
    let object = json!({"className": "GameScore", "score": 1});
    let thirty_mib = {
        let mut body = br#"{"functionName":"echo","params":{"blob":""#.to_vec();
        body.resize(30 * MIB, b'x');
        body.extend_from_slice(br#""}}"#);
        body
    };
    let filler = |count: usize, size: usize| {
        (0..count).fold(Req::post("/functions/echo", "{}"), |req, i| {
            req.header(format!("X-Filler-{i}"), "v".repeat(size))
        })
    };

    vec![
        // ---- bodies that are not webhook requests ----
        prefix_case(
            "invalid JSON",
            Req::post("/functions/echo", r#"{"functionName": "echo", "params": {"#).chunked(5),
            400,
            format!("{NOT_A_REQUEST}EOF while parsing"),
        ),
        prefix_case(
            "invalid JSON: a bare word",
            Req::post("/functions/echo", r#"{"params": oops}"#),
            400,
            format!("{NOT_A_REQUEST}expected value"),
        ),
        prefix_case(
            "empty body (Content-Length: 0)",
            Req::post("/functions/echo", ""),
            400,
            format!("{NOT_A_REQUEST}EOF while parsing a value"),
        ),
        prefix_case(
            "empty body (chunked)",
            Req::post(before_save, "").chunked(8),
            400,
            format!("{NOT_A_REQUEST}EOF while parsing a value"),
        ),
        json_case(
            "a JSON array",
            Req::post("/functions/echo", r#"[{"functionName": "echo"}]"#),
            400,
            NOT_AN_OBJECT,
        ),
        json_case(
            "a JSON number",
            Req::post(before_save, "42"),
            400,
            NOT_AN_OBJECT,
        ),
        json_case(
            "a JSON string",
            Req::post("/functions/echo", r#""echo""#),
            400,
            NOT_AN_OBJECT,
        ),
        json_case(
            "JSON null",
            Req::post("/functions/echo", "null"),
            400,
            NOT_AN_OBJECT,
        ),
        // ---- size ----
        json_case(
            "30 MiB body, chunked",
            Req::post("/functions/echo", thirty_mib.clone()).chunked(MIB),
            413,
            TOO_LARGE,
        ),
        json_case(
            "30 MiB body, Content-Length",
            Req::post("/functions/echo", thirty_mib),
            413,
            TOO_LARGE,
        ),
        json_case(
            "Content-Length of 30 MiB, no body sent",
            Req::post("/functions/echo", "").declared(30 * MIB),
            413,
            TOO_LARGE,
        ),
        // ---- nesting (over 128 levels anywhere is refused before decoding) ----
        json_case(
            "JSON nested 100 000 deep (the whole body)",
            Req::post("/functions/echo", nested(100_000)),
            400,
            NOT_AN_OBJECT,
        ),
        prefix_case(
            "JSON nested 100 000 deep (in the trigger's object)",
            Req::post(
                before_save,
                format!(
                    r#"{{"triggerName":"beforeSave","object":{{"className":"GameScore","deep":{}}}}}"#,
                    nested(100_000)
                ),
            )
            .chunked(64 * 1024),
            400,
            format!("{NOT_A_REQUEST}it nests deeper than 128 levels"),
        ),
        prefix_case(
            "JSON nested 100 000 deep (in the user)",
            Req::post(
                "/functions/echo",
                format!(r#"{{"user":{{"deep":{}}}}}"#, nested(100_000)),
            ),
            400,
            format!("{NOT_A_REQUEST}it nests deeper than 128 levels"),
        ),
        prefix_case(
            "JSON nested 100 000 deep (in the params)",
            Req::post(
                "/functions/echo",
                format!(r#"{{"functionName":"echo","params":{{"deep":{}}}}}"#, nested(100_000)),
            ),
            400,
            format!("{NOT_A_REQUEST}it nests deeper than 128 levels"),
        ),
        prefix_case(
            "JSON nested 100 000 deep (in a field the framework ignores, `log`)",
            Req::post(
                "/functions/echo",
                format!(r#"{{"functionName":"echo","log":{}}}"#, nested(100_000)),
            ),
            400,
            format!("{NOT_A_REQUEST}it nests deeper than 128 levels"),
        ),
        // ---- invalid UTF-8 ----
        json_case(
            "invalid UTF-8 inside a string (functionName)",
            Req::post("/functions/echo", &b"{\"functionName\":\"ec\xffho\"}"[..]),
            400,
            format!("{NOT_A_REQUEST}{NOT_UTF8} 19)"),
        ),
        json_case(
            "invalid UTF-8 inside a string (params)",
            Req::post("/functions/echo", &b"{\"params\":{\"name\":\"\xc3\x28\"}}"[..]),
            400,
            format!("{NOT_A_REQUEST}{NOT_UTF8} 19)"),
        ),
        json_case(
            "invalid UTF-8 inside a string (object)",
            Req::post(
                before_save,
                &b"{\"object\":{\"className\":\"GameScore\",\"name\":\"\xed\xa0\x80\"}}"[..],
            ),
            400,
            format!("{NOT_A_REQUEST}{NOT_UTF8} 43)"),
        ),
        json_case(
            "invalid UTF-8 in a field nobody reads (a newer Parse Server's)",
            Req::post("/functions/echo", {
                let mut body =
                    br#"{"functionName":"echo","params":{"n":1},"log":{"x":[1,{"y":2}]}"#
                        .to_vec();
                body.extend_from_slice(b",\"newerField\":\"\xff\xfe\"}");
                body
            }),
            400,
            format!("{NOT_A_REQUEST}{NOT_UTF8} 78)"),
        ),
        json_case(
            "invalid UTF-8 as raw bytes (the whole body)",
            Req::post("/functions/echo", &b"\xff\xfe\x00\x01garbage"[..]),
            400,
            NOT_AN_OBJECT,
        ),
        json_case(
            "invalid UTF-8 as raw bytes (after `{`)",
            Req::post("/functions/echo", &b"{\xff\xfe}"[..]),
            400,
            format!("{NOT_A_REQUEST}{NOT_UTF8} 1)"),
        ),
        // ---- method and route ----
        json_case(
            "GET on a hook path",
            Req::new("GET", "/functions/echo"),
            405,
            format!("{NOT_POST}GET"),
        ),
        json_case(
            "PUT on a hook path",
            Req::post_json(before_save, &json!({"object": object})).with_method("PUT"),
            405,
            format!("{NOT_POST}PUT"),
        ),
        json_case(
            "DELETE on a hook path",
            Req::new("DELETE", "/triggers/GameScore/afterDelete"),
            405,
            format!("{NOT_POST}DELETE"),
        ),
        json_case(
            "unknown trigger name",
            Req::post_json("/triggers/GameScore/afterFound", &json!({"object": object})),
            404,
            "unknown trigger `afterFound`: Parse Server has no trigger of that name",
        ),
        json_case(
            "unknown path",
            Req::post_json("/functions/echo/extra", &json!({})),
            404,
            NO_WEBHOOK_HERE,
        ),
        json_case(
            "`..` as a function name",
            Req::post_json("/functions/..", &json!({})),
            404,
            "no cloud function `..` is served here",
        ),
        json_case(
            "`..` as a class name",
            Req::post_json("/triggers/../beforeSave", &json!({"object": object})),
            404,
            "no beforeSave trigger of class `..` is served here",
        ),
        json_case(
            "`..` percent-encoded (%2E%2E)",
            Req::post_json("/functions/%2E%2E", &json!({})),
            404,
            "no cloud function `..` is served here",
        ),
        json_case(
            "`..` to climb to another hook",
            Req::post_json("/functions/../functions/echo", &json!({})),
            404,
            NO_WEBHOOK_HERE,
        ),
        json_case(
            "`%2F` in a function name",
            Req::post_json("/functions/ec%2Fho", &json!({})),
            404,
            "invalid function name in the path",
        ),
        json_case(
            "`%2F` in a class name",
            Req::post_json("/triggers/Game%2FScore/beforeSave", &json!({"object": object})),
            404,
            "invalid class name in the path",
        ),
        json_case(
            "10 KB path",
            Req::post_json(format!("/functions/{}", "a".repeat(10_000)), &json!({})),
            414,
            URL_TOO_LONG,
        ),
        json_case(
            "10 KB query string",
            Req::post_json(format!("/functions/echo?q={}", "a".repeat(10_000)), &json!({})),
            414,
            URL_TOO_LONG,
        ),
        hyper_case(
            "100 KB path",
            Req::post_json(format!("/functions/{}", "a".repeat(100_000)), &json!({})).bytes(),
            414,
        ),
        // ---- headers ----
        json_case(
            "duplicate X-Parse-Webhook-Key (both right)",
            Req::post("/functions/echo", "{}").header("X-Parse-Webhook-Key", KEY),
            401,
            "send exactly one X-Parse-Webhook-Key header",
        ),
        json_case(
            "duplicate X-Parse-Webhook-Key (right, then wrong)",
            Req::post("/functions/echo", "{}").header("x-parse-webhook-key", "other"),
            401,
            "send exactly one X-Parse-Webhook-Key header",
        ),
        hyper_case("200 headers", filler(200, 1).bytes(), 431),
        json_case(
            "a 100 KB header value",
            filler(1, 100 * 1024),
            431,
            HEADERS_TOO_LARGE,
        ),
        json_case(
            "50 headers of 2 KB (100 KB in all)",
            filler(50, 2 * 1024),
            431,
            HEADERS_TOO_LARGE,
        ),
        hyper_case("a 1 MB header value", filler(1, MIB).bytes(), 431),
        hyper_case(
            "60 headers of 10 KB (600 KB in all)",
            filler(60, 10 * 1024).bytes(),
            431,
        ),
        // ---- malformed HTTP ----
        hyper_case(
            "a header line without `:`",
            b"POST /functions/echo HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n".to_vec(),
            400,
        ),
        hyper_case(
            "not a request line",
            b"HELLO THERE\r\n\r\n".to_vec(),
            400,
        ),
        hyper_case(
            "an unparsable Content-Length",
            format!(
                "POST /functions/echo HTTP/1.1\r\nHost: x\r\nX-Parse-Webhook-Key: {KEY}\r\n\
                 Content-Length: two\r\n\r\n{{}}"
            )
            .into_bytes(),
            400,
        ),
        prefix_case(
            "a malformed chunk size",
            Req::post("/functions/echo", "").with_raw_body(b"zz\r\n{}\r\n0\r\n\r\n"),
            400,
            "cannot read the request body: error reading a body from connection: \
             Invalid chunk size line",
        ),
        // ---- bodies that contradict their route ----
        json_case(
            "functionName mismatch",
            Req::post_json("/functions/echo", &json!({"functionName": "other"})),
            400,
            "the body calls function `other` but was sent to the route of `echo`",
        ),
        json_case(
            "triggerName mismatch",
            Req::post_json(before_save, &json!({"triggerName": "afterSave", "object": object})),
            400,
            "the body is a `afterSave` call but was sent to the route of `beforeSave`",
        ),
        json_case(
            "object.className mismatch",
            Req::post_json(
                before_save,
                &json!({"triggerName": "beforeSave", "object": {"className": "Other"}}),
            ),
            400,
            "the body's object has className \"Other\" but was sent to the route of class `GameScore`",
        ),
        json_case(
            "original.className mismatch",
            Req::post_json(
                "/triggers/GameScore/afterSave",
                &json!({"triggerName": "afterSave", "object": object,
                        "original": {"className": "Other", "objectId": "x"}}),
            ),
            400,
            "the body's original has className \"Other\" but was sent to the route of class `GameScore`",
        ),
        json_case(
            "trigger body without `object`",
            Req::post_json(before_save, &json!({"triggerName": "beforeSave"})),
            400,
            "the beforeSave call has no `object`",
        ),
        json_case(
            "trigger body with `object: null`",
            Req::post_json("/triggers/GameScore/beforeDelete", &json!({"object": null})),
            400,
            "the beforeDelete call has no `object`",
        ),
        prefix_case(
            "trigger body whose `object` is an array",
            Req::post_json("/triggers/GameScore/afterDelete", &json!({"object": [object]})),
            400,
            format!("{NOT_A_REQUEST}invalid type: sequence, expected a map"),
        ),
        // ---- key ----
        json_case(
            "wrong key",
            Req::post("/functions/echo", "{}").key(Some("bad-input-kez")),
            401,
            "wrong X-Parse-Webhook-Key",
        ),
        json_case(
            "missing key",
            Req::post("/functions/echo", "{}").key(None),
            401,
            "missing X-Parse-Webhook-Key header",
        ),
        json_case(
            "empty key",
            Req::post("/functions/echo", "{}").key(Some("")),
            401,
            "wrong X-Parse-Webhook-Key",
        ),
    ]
}

impl Req {
    fn with_method(mut self, method: &'static str) -> Req {
        self.method = method;
        self
    }

    /// A chunked request whose body is sent as is (not framed here).
    fn with_raw_body(self, framed: &[u8]) -> Vec<u8> {
        let mut bytes = self.chunked(1).bytes();
        assert!(bytes.ends_with(b"0\r\n\r\n"));
        bytes.truncate(bytes.len() - b"0\r\n\r\n".len());
        bytes.extend_from_slice(framed);
        bytes
    }
}

/// Long messages (the 10 KB path echoed back, ...) cut for the table.
fn shorten(message: &str) -> String {
    if message.chars().count() > 200 {
        format!("{}...", message.chars().take(200).collect::<String>())
    } else {
        message.to_owned()
    }
}

/// Checks a reply against what the case expects; the message for the table, or what is
/// wrong.
fn check(expect: &Expect, reply: &Reply) -> Result<String, String> {
    let body_text = String::from_utf8_lossy(&reply.body);
    if !(400..500).contains(&reply.status) {
        return Err(format!(
            "status {}, not a 4xx (body {body_text:?})",
            reply.status
        ));
    }
    let (status, message) = match expect {
        Expect::Hyper(status) => {
            if !reply.body.is_empty() {
                return Err(format!(
                    "expected hyper's empty body, got {body_text:?}: our code answered"
                ));
            }
            (*status, "(empty body: hyper's own refusal)".to_owned())
        }
        Expect::Json(status, _) | Expect::JsonPrefix(status, _) => {
            if reply.header("content-type") != Some("application/json") {
                return Err(format!("not application/json: {:?}", reply.headers));
            }
            let body: Value = serde_json::from_slice(&reply.body)
                .map_err(|e| format!("the body is not JSON ({e}): {body_text:?}"))?;
            let message = match body.as_object().map(|o| (o.len(), o.get("error"))) {
                Some((1, Some(Value::String(message)))) => message.clone(),
                _ => return Err(format!("not {{\"error\": \"...\"}}: {body}")),
            };
            let matches = match expect {
                Expect::Json(_, expected) => &message == expected,
                Expect::JsonPrefix(_, prefix) => message.starts_with(prefix.as_str()),
                Expect::Hyper(_) => unreachable!(),
            };
            if !matches {
                return Err(format!("unexpected message {message:?}"));
            }
            if *status == 405 && reply.header("allow") != Some("POST") {
                return Err("405 without `Allow: POST`".to_owned());
            }
            (*status, message)
        }
    };
    if reply.status != status {
        return Err(format!(
            "status {}, expected {status} (body {body_text:?})",
            reply.status
        ));
    }
    Ok(message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_json_error_runs_no_handler_and_the_server_keeps_serving() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = start(&calls).await;
    assert_healthy(server.addr, &calls, "start").await;
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for case in cases() {
        let before = calls.load(Ordering::SeqCst);
        let reply = exchange(server.addr, case.request).await;
        let ran = calls.load(Ordering::SeqCst) - before;
        let message = match check(&case.expect, &reply) {
            Ok(message) if ran == 0 => message,
            Ok(message) => {
                failures.push(format!("{}: {ran} handler(s) ran", case.name));
                message
            }
            Err(wrong) => {
                let wrong = shorten(&wrong);
                failures.push(format!("{}: {wrong}", case.name));
                format!("WRONG: {wrong}")
            }
        };
        assert_healthy(server.addr, &calls, &case.name).await;
        table.push((case.name, reply.status, message));
    }

    let width = table.iter().map(|(name, ..)| name.len()).max().unwrap_or(0);
    println!("\n{:width$} | status | message", "case");
    println!("{:-<width$}-|--------|--------", "");
    for (name, status, message) in &table {
        let message = shorten(message);
        println!("{name:width$} | {status}    | {message}");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    server.stop.send(()).unwrap();
    server.done.await.unwrap().unwrap();
}
