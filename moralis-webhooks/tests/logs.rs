//! No secret reaches any log, at any level: a global `tracing` subscriber captures
//! everything at TRACE (every target, span events with their fields, and a second layer
//! that records every field value raw), while a server runs over loopback HTTP through
//! every hook kind, the failures, refusals and malformed bodies, carrying recognisable
//! secrets (the webhook keys, session tokens, the master key, passwords, authData). None
//! may appear in the captured output.
//!
//! The subscriber is process-wide: this binary holds this one test.
//!
//! Not covered here: the panic hook's own message on stderr (not a log; the crate logs the
//! panic message itself, which is captured) and what handlers log themselves, apart from
//! `Debug` of the request types, which the crate promises to redact (the handlers here log
//! `?req`).

mod common;

use std::fmt::{self, Write as _};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use moralis_webhooks::{
    Error, FunctionRequest, HandlerSettings, ParseObject, Server, TriggerRequest, Webhooks,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use common::{exchange, fixture, Reply};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Every secret contains this, so that a partial leak is caught too.
const MARKER: &str = "SECRET";
const WEBHOOK_KEY: &str = "SECRET-WEBHOOK-KEY-7c1f0e2b";
/// A second accepted key (key rotation).
const OLD_WEBHOOK_KEY: &str = "SECRET-WEBHOOK-KEY-OLD-93ab41";
/// A wrong key: it may be a real key of another environment.
const WRONG_KEY: &str = "SECRET-WEBHOOK-KEY-WRONG-51d2aa";
const SESSION: &str = "r:SECRET-SESSION-0b8e4d77";
const MASTER: &str = "SECRET-MASTER-KEY-e2a9c3";
const PASSWORD: &str = "SECRET-PASSWORD-hunter2";
const NEW_PASSWORD: &str = "SECRET-PASSWORD-NEW-correct-horse";
const AUTH_TOKEN: &str = "SECRET-AUTHDATA-TOKEN-ab12";
const PIN: &str = "SECRET-PIN-4711";
const SECRETS: [&str; 10] = [
    WEBHOOK_KEY,
    OLD_WEBHOOK_KEY,
    WRONG_KEY,
    SESSION,
    MASTER,
    PASSWORD,
    NEW_PASSWORD,
    AUTH_TOKEN,
    PIN,
    MARKER,
];

// ---- the capture ---------------------------------------------------------------------

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn append(&self, bytes: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
    }

    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes every field of every span (at creation and when recorded later) and every event
/// raw: strings as they are, not escaped, other values with `Debug`.
struct RawFields(Capture);

struct Raw(String);

impl Visit for Raw {
    fn record_str(&mut self, field: &Field, value: &str) {
        write!(self.0, " {}={}", field.name(), value).unwrap();
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        write!(self.0, " {}={:?}", field.name(), value).unwrap();
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for RawFields {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let meta = attrs.metadata();
        let mut raw = Raw(format!("RAW new span {} {}:", meta.target(), meta.name()));
        attrs.record(&mut raw);
        raw.0.push('\n');
        self.0.append(raw.0.as_bytes());
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let name = ctx.span(id).map_or("?", |span| span.name());
        let mut raw = Raw(format!("RAW record {name}:"));
        values.record(&mut raw);
        raw.0.push('\n');
        self.0.append(raw.0.as_bytes());
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut raw = Raw(format!("RAW event {} {}:", meta.level(), meta.target()));
        event.record(&mut raw);
        raw.0.push('\n');
        self.0.append(raw.0.as_bytes());
    }
}

/// Installs the global subscriber: everything, at TRACE, into the capture (and the `log`
/// crate's records too, through `tracing-log`).
fn capture_everything() -> Capture {
    let capture = Capture::default();
    let writer = capture.clone();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::FULL)
        .with_target(true)
        .with_thread_names(true)
        .with_file(true)
        .with_line_number(true)
        .with_filter(tracing_subscriber::filter::LevelFilter::TRACE);
    tracing_subscriber::registry()
        .with(fmt)
        .with(RawFields(capture.clone()))
        .init();
    capture
}

// ---- the client ----------------------------------------------------------------------

/// A POST as Parse Server sends it (chunked), with these webhook keys.
fn post(path: &str, keys: &[&str], body: &[u8]) -> Vec<u8> {
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n");
    for key in keys {
        writeln!(head, "X-Parse-Webhook-Key: {key}\r").unwrap();
    }
    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    let mut bytes = head.into_bytes();
    for piece in body.chunks(1024) {
        bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        bytes.extend_from_slice(piece);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    bytes
}

async fn call(addr: SocketAddr, path: &str, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap();
    exchange(addr, post(path, &[WEBHOOK_KEY], &bytes)).await
}

// ---- the requests, as Parse Server sends them, with secrets ----------------------------

/// A caller with a session, calling with the master key too: every credential Parse
/// Server forwards.
fn with_credentials(mut body: Value) -> Value {
    body["headers"]["x-parse-session-token"] = json!(SESSION);
    body["headers"]["x-parse-master-key"] = json!(MASTER);
    body["user"] = json!({
        "objectId": "Xb1LfO0Dee",
        "username": "alice",
        "sessionToken": SESSION,
        "authData": {"facebook": {"id": "1234", "access_token": AUTH_TOKEN}},
        "ACL": {"Xb1LfO0Dee": {"read": true, "write": true}},
    });
    body
}

// ---- the handlers ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Login {
    username: String,
    pin: u32,
}

fn webhooks() -> Webhooks {
    Webhooks::new()
        .cloud_function("hello", |req: FunctionRequest| async move {
            tracing::info!(request = ?req, "hello called");
            tracing::trace!(user = ?req.user, headers = ?req.headers, params = ?req.params);
            let name: String = req.param("name")?;
            Ok::<_, Error>(format!("Hello, {name}!"))
        })
        .cloud_function("login", |req: FunctionRequest<Login>| async move {
            tracing::info!(request = ?req, "login called");
            Ok::<_, Error>("logged in")
        })
        .cloud_function("fails", |req: FunctionRequest| async move {
            tracing::debug!(request = ?req, "about to fail");
            match req.param::<String>("how")?.as_str() {
                "public" => Err(Error::new("the client is told this")),
                _ => Err(io::Error::other("the database is unavailable").into()),
            }
            .map(|()| "never")
        })
        .cloud_function("panics", |req: FunctionRequest| async move {
            if req.params.contains_key("password") {
                panic!("unexpected request: {req:?}");
            }
            Ok::<_, Error>("no panic")
        })
        .with(
            HandlerSettings::new().timeout(Duration::from_millis(50)),
            |w| {
                w.cloud_function("slow", |_: FunctionRequest| async move {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok::<_, Error>("too late")
                })
            },
        )
        .before_save("_User", |req: TriggerRequest| async move {
            tracing::info!(request = ?req, object = ?req.object, "user beforeSave");
            let mut user = req.object;
            match user.get::<Option<String>>("username")?.as_deref() {
                // A `ParseObject::get` type error on the password: the error says so
                // without quoting it.
                Some("typeerror") => {
                    user.get::<u64>("password")?;
                }
                Some("panic") => {
                    user.get::<u64>("password").unwrap();
                }
                _ => {}
            }
            user.set("checked", true);
            Ok::<ParseObject, Error>(user)
        })
        .after_save("_User", |req: TriggerRequest| async move {
            tracing::info!(request = ?req, "user afterSave");
        })
        .before_save("GameScore", |req: TriggerRequest| async move {
            tracing::info!(request = ?req, original = ?req.original, "score beforeSave");
            let mut score = req.object;
            score.set("reviewed", true);
            Ok::<_, Error>(score)
        })
        .after_save("GameScore", |req: TriggerRequest| async move {
            tracing::debug!(user = ?req.user, headers = ?req.headers, "score afterSave");
        })
        .before_delete("GameScore", |req: TriggerRequest| async move {
            tracing::debug!(request = ?req, "score beforeDelete");
            Err::<(), _>(Error::new("scores are never deleted"))
        })
        .after_delete("GameScore", |req: TriggerRequest| async move {
            tracing::debug!(request = ?req, "score afterDelete");
            Err::<(), Error>(io::Error::other("the audit log is unavailable").into())
        })
}

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<Result<(), moralis_webhooks::ServeError>>,
}

async fn start() -> Running {
    let bound = Server::new()
        .handlers_from_attributes(false)
        .webhook_keys([WEBHOOK_KEY, OLD_WEBHOOK_KEY])
        .body_limit(1024 * 1024)
        .webhooks(webhooks())
        .addr(([127, 0, 0, 1], 0))
        .bind()
        .await
        .unwrap();
    tracing::debug!(app = ?bound.app(), server = ?bound, "bound");
    let addr = bound.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    Running { addr, stop, done }
}

// ---- the test ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_secret_reaches_any_log_at_any_level() {
    let capture = capture_everything();
    let server = start().await;
    let addr = server.addr;
    let success = |reply: &Reply| (reply.status, reply.json()["success"].clone());
    let error = |reply: &Reply| (reply.status, reply.json()["error"].clone());

    // Every hook kind, with every credential Parse Server forwards.
    let (path, mut body) = fixture("function_hello_context");
    body["params"]["password"] = json!(PASSWORD);
    let reply = call(addr, &path, &with_credentials(body)).await;
    assert_eq!(success(&reply), (200, json!("Hello, world!")));

    let (path, mut signup) = fixture("_User_beforeSave_signup");
    signup["object"]["password"] = json!(PASSWORD);
    signup["headers"]["x-parse-master-key"] = json!(MASTER);
    signup["object"]["authData"] = json!({"facebook": {"id": "1", "access_token": AUTH_TOKEN}});
    let reply = call(addr, &path, &signup).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["success"]["password"],
        PASSWORD,
        "the reply carries it"
    );

    let (path, mut change) = fixture("_User_beforeSave_update");
    change["object"]["password"] = json!(NEW_PASSWORD);
    change["object"]["sessionToken"] = json!(SESSION);
    change["original"]["sessionToken"] = json!(SESSION);
    let reply = call(addr, &path, &with_credentials(change)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json());

    let (path, mut after_signup) = fixture("_User_afterSave_signup");
    after_signup["object"]["sessionToken"] = json!(SESSION);
    let reply = call(addr, &path, &after_signup).await;
    assert_eq!(success(&reply), (200, json!(true)));

    for name in [
        "beforeSave_create",
        "beforeSave_update_increment_user",
        "afterSave_update_increment_user",
    ] {
        let (path, body) = fixture(name);
        let reply = call(addr, &path, &with_credentials(body)).await;
        assert_eq!(reply.status, 200, "{name}: {:?}", reply.json());
        assert!(reply.json().get("success").is_some(), "{name}");
    }
    let (path, body) = fixture("beforeDelete");
    let reply = call(addr, &path, &with_credentials(body)).await;
    assert_eq!(error(&reply), (200, json!("scores are never deleted")));
    let (path, body) = fixture("afterDelete");
    let reply = call(addr, &path, &with_credentials(body)).await;
    assert_eq!(
        error(&reply),
        (200, json!("internal error in the webhook server"))
    );

    // Handler failures: public and internal errors, a panic whose message holds the
    // request's `Debug`, a panic on the password's type, a timeout.
    let credentials = with_credentials(json!({"functionName": "fails", "params": {}}));
    for (how, expected) in [
        ("public", "the client is told this"),
        ("internal", "internal error in the webhook server"),
    ] {
        let mut body = credentials.clone();
        body["params"] = json!({"how": how, "password": PASSWORD});
        let reply = call(addr, "/functions/fails", &body).await;
        assert_eq!(error(&reply), (200, json!(expected)));
    }
    let mut body = credentials.clone();
    body["functionName"] = json!("panics");
    body["params"] = json!({"password": PASSWORD});
    let reply = call(addr, "/functions/panics", &body).await;
    assert_eq!(
        error(&reply),
        (200, json!("internal error in the webhook server"))
    );
    let mut panic_signup = signup.clone();
    panic_signup["object"]["username"] = json!("panic");
    let reply = call(addr, "/triggers/_User/beforeSave", &panic_signup).await;
    assert_eq!(
        error(&reply),
        (200, json!("internal error in the webhook server"))
    );
    let mut typeerror = signup.clone();
    typeerror["object"]["username"] = json!("typeerror");
    let reply = call(addr, "/triggers/_User/beforeSave", &typeerror).await;
    assert_eq!(
        error(&reply),
        (
            200,
            json!("_User: invalid field `password`: it has another type")
        )
    );
    let mut body = credentials.clone();
    body["functionName"] = json!("slow");
    let reply = call(addr, "/functions/slow", &body).await;
    assert_eq!(
        error(&reply),
        (
            200,
            json!("the cloud function `slow` did not finish within 0.05 s")
        )
    );

    // A typed-params error where the bad value is a secret: the client is told (it sent
    // it), the log is not.
    let mut body = credentials.clone();
    body["functionName"] = json!("login");
    body["params"] = json!({"username": "alice", "pin": PIN});
    let reply = call(addr, "/functions/login", &body).await;
    assert_eq!(reply.status, 200);
    let message = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(message.starts_with("invalid parameter `pin`"), "{message}");

    // Keys: the old key still works; wrong, missing and duplicate keys are refused.
    let body = serde_json::to_vec(&with_credentials(json!({"params": {"name": "Ada"}}))).unwrap();
    let reply = exchange(addr, post("/functions/hello", &[OLD_WEBHOOK_KEY], &body)).await;
    assert_eq!(success(&reply), (200, json!("Hello, Ada!")));
    for (keys, expected) in [
        (&[WRONG_KEY][..], "wrong X-Parse-Webhook-Key"),
        (&[][..], "missing X-Parse-Webhook-Key header"),
        (
            &[WEBHOOK_KEY, WRONG_KEY][..],
            "send exactly one X-Parse-Webhook-Key header",
        ),
        (
            &[WEBHOOK_KEY, WEBHOOK_KEY][..],
            "send exactly one X-Parse-Webhook-Key header",
        ),
    ] {
        let reply = exchange(addr, post("/functions/hello", keys, &body)).await;
        assert_eq!(error(&reply), (401, json!(expected)), "{keys:?}");
    }

    // Malformed bodies holding secrets, at the place the error is found.
    let malformed: [(&str, Vec<u8>); 9] = [
        (
            "/functions/hello",
            format!(r#"{{"params":{{"password":"{PASSWORD}""#).into_bytes(),
        ),
        (
            "/functions/hello",
            format!(r#"{{"params":{{"password":{PASSWORD}}}}}"#).into_bytes(),
        ),
        (
            "/functions/hello",
            format!(r#"{{"master":"{MASTER}"}}"#).into_bytes(),
        ),
        (
            "/functions/hello",
            format!(r#"{{"user":"{SESSION}"}}"#).into_bytes(),
        ),
        (
            "/functions/hello",
            format!(r#"{{"headers":{{"x-parse-session-token":"{SESSION}"}},"installationId":["{MASTER}"]}}"#)
                .into_bytes(),
        ),
        (
            "/triggers/_User/beforeSave",
            format!(r#"{{"object":{{"className":"_User","password":"{PASSWORD}","x":[{}]}}}}"#, "[".repeat(200))
                .into_bytes(),
        ),
        (
            "/triggers/_User/beforeSave",
            [
                format!(r#"{{"object":{{"className":"_User","password":"{PASSWORD}"#).as_bytes(),
                b"\xff\"}}",
            ]
            .concat(),
        ),
        (
            "/triggers/GameScore/afterSave",
            format!(r#"{{"object":"{SESSION}"}}"#).into_bytes(),
        ),
        (
            "/functions/hello",
            format!(r#"{{"params":{{"password":"{PASSWORD}","blob":"{}"}}}}"#, "x".repeat(2 * 1024 * 1024))
                .into_bytes(),
        ),
    ];
    for (path, body) in malformed {
        let reply = exchange(addr, post(path, &[WEBHOOK_KEY], &body)).await;
        assert!(
            matches!(reply.status, 400 | 413),
            "{path}: {} {:?}",
            reply.status,
            reply.json()
        );
    }

    // Bodies that contradict their route, with secrets where the names go.
    let contradictions = [
        ("/functions/hello", json!({"functionName": MASTER})),
        (
            "/triggers/GameScore/beforeSave",
            json!({"triggerName": SESSION, "object": {"className": "GameScore"}}),
        ),
        (
            "/triggers/_User/beforeSave",
            json!({"object": {"className": {"password": PASSWORD}}}),
        ),
        (
            "/triggers/_User/beforeSave",
            json!({"object": {"className": "_User"}, "original": {"className": SESSION}}),
        ),
    ];
    for (path, body) in &contradictions {
        let reply = call(addr, path, body).await;
        assert_eq!(reply.status, 400, "{path}: {:?}", reply.json());
    }

    // Refused before any handler: unknown hooks named by a secret, malformed HTTP and
    // oversized headers carrying the key, health checks sent with the key.
    let reply = call(addr, &format!("/functions/{MASTER}"), &json!({})).await;
    assert_eq!(
        reply.status, 200,
        "an unserved hook: a clean error for the client"
    );
    assert!(reply.json()["error"].is_string());
    let reply = call(
        addr,
        &format!("/functions/hello?token={SESSION}"),
        &json!({}),
    )
    .await;
    assert_eq!(reply.status, 200);
    let reply = exchange(
        addr,
        format!("POST /functions/hello HTTP/1.1\r\nX-Parse-Webhook-Key {WEBHOOK_KEY}\r\n\r\n")
            .into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 400);
    let big = format!(
        "POST /functions/hello HTTP/1.1\r\nX-Parse-Webhook-Key: {WEBHOOK_KEY}\r\nX-Big: {}\r\n\
         Content-Length: 2\r\n\r\n{{}}",
        SESSION.repeat(8 * 1024)
    );
    let reply = exchange(addr, big.into_bytes()).await;
    assert_eq!(reply.status, 431);
    for path in ["/livez", "/readyz"] {
        let reply = exchange(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Parse-Webhook-Key: {WRONG_KEY}\r\n\r\n")
                .into_bytes(),
        )
        .await;
        assert_eq!(reply.status, 200);
    }

    server.stop.send(()).unwrap();
    server.done.await.unwrap().unwrap();

    // The capture works: it holds the spans with their fields, the refusals and failures.
    let text = capture.text();
    for expected in [
        "listening on http://",
        "serving beforeSave trigger",
        "webhook{hook=\"function\" name=\"hello\"",
        "outcome=\"success\"",
        "duration_ms=",
        "hook=\"beforeSave\"",
        "hook=\"afterSave\"",
        "hook=\"beforeDelete\"",
        "hook=\"afterDelete\"",
        " close ",
        "RAW record webhook: outcome=success",
        "RAW record webhook: duration_ms=",
        "refused a call with a wrong X-Parse-Webhook-Key",
        "refused a call with no X-Parse-Webhook-Key header",
        "refused a call with more than one X-Parse-Webhook-Key header",
        "refused a malformed call",
        "call failed with an internal error: the database is unavailable",
        "handler panicked",
        "did not finish within",
        "hello called",
        "x-parse-session-token",
        "sessionToken",
        "<redacted>",
        "TRACE",
        "all calls finished; stopped",
    ] {
        assert!(
            text.contains(expected),
            "the capture lacks {expected:?}:\n{text}"
        );
    }
    if let Ok(path) = std::env::var("MORALIS_WEBHOOKS_LOG_CAPTURE") {
        std::fs::write(&path, &text).unwrap(); // to read what was captured
    }
    let lines = text.lines().count();
    println!(
        "captured {} bytes, {lines} lines, at TRACE, every target",
        text.len()
    );

    let leaks: Vec<String> = text
        .lines()
        .filter(|line| SECRETS.iter().any(|secret| line.contains(secret)))
        .map(|line| {
            let found: Vec<&str> = SECRETS
                .iter()
                .copied()
                .filter(|secret| line.contains(secret))
                .collect();
            let line = if line.len() > 600 {
                format!(
                    "{}...",
                    &line[..line.char_indices().nth(600).map_or(line.len(), |(i, _)| i)]
                )
            } else {
                line.to_owned()
            };
            format!("{found:?} in: {line}")
        })
        .collect();
    println!("secrets found in the capture: {}", leaks.len());
    assert!(
        leaks.is_empty(),
        "{} log lines hold a secret:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
