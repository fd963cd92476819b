//! Set-up shared by the conformance tests: shared Parse Servers, our webhook server on its
//! own runtime, hook registration through Parse Server's hooks API, and small REST helpers.
//!
//! Every test starts its own webhook server (with the handlers it needs) and registers its
//! hooks on a Parse Server shared by the whole test binary (see [`shared_parse`]); tests use
//! class and function names of their own, so they do not interfere. Starting a Parse Server
//! costs ~1.2 s.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use moralis_webhooks::{Hook, Server, Webhooks};
use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
use serde_json::{json, Value};

/// The webhook key of the shared Parse Servers that have one, and of our servers.
pub(crate) const KEY: &str = "hookkey";

/// The Parse Server in `cell`, started on first use with `webhook_key` (`None`: without
/// one), and with `classes` created one after the other before any test uses it.
///
/// Tests must not create classes while others run: Parse Server 9.10.0 caches the schema and
/// refreshes it after every schema change by reading every class and replacing the cache;
/// when two refreshes overlap, the one that read first can write last and drop a class just
/// created from the cache. A client saving to that class then gets
/// `400 {"code":119,"error":"Permission denied"}` (its log: "This user is not allowed to
/// access non-existent class"), until the next schema change refreshes the cache.
pub(crate) fn shared_parse(
    cell: &'static OnceLock<ParseServer>,
    webhook_key: Option<&str>,
    classes: &[&str],
) -> &'static ParseServer {
    let options = ParseServerOptions {
        webhook_key: webhook_key.map(str::to_owned),
        ..ParseServerOptions::default()
    };
    shared_parse_with(cell, options, classes)
}

/// [`shared_parse`] with the Parse Server started with `options` (a files adapter, say).
pub(crate) fn shared_parse_with(
    cell: &'static OnceLock<ParseServer>,
    options: ParseServerOptions,
    classes: &[&str],
) -> &'static ParseServer {
    cell.get_or_init(|| {
        let parse = ParseServer::start(options);
        for class in classes {
            let (status, body) =
                parse.post_master(&format!("/schemas/{class}"), &json!({"className": class}));
            assert_eq!(status, 200, "create class {class}: {body}");
        }
        parse
    })
}

/// Our webhook server with `webhook_key(KEY)`.
pub(crate) fn keyed() -> Server {
    Server::new().webhook_key(KEY)
}

/// Our webhook server, running on a runtime of its own until dropped, with its hooks
/// registered on a Parse Server.
pub(crate) struct Hooked {
    addr: SocketAddr,
    // Dropped last: stops the server (and the handlers' tasks).
    runtime: tokio::runtime::Runtime,
}

impl Hooked {
    /// The URL the hooks are served under: `http://127.0.0.1:<port>`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL Parse Server calls for `hook`.
    pub(crate) fn url(&self, hook: &Hook) -> String {
        format!("{}{}", self.base_url(), hook.path())
    }
}

/// Starts `server` (settings only: key, unauthenticated mode) with `webhooks` on a free
/// loopback port, creates the classes of its triggers on `parse` and registers every hook
/// with the master key.
pub(crate) fn serve(parse: &ParseServer, server: Server, webhooks: Webhooks) -> Hooked {
    let (hooked, hooks) = start(server, webhooks);
    for hook in &hooks {
        register(parse, &hooked, hook);
    }
    hooked
}

/// Starts `server` with `webhooks` as [`serve`] does, without registering anything;
/// returns it with the hooks it serves.
pub(crate) fn start(server: Server, webhooks: Webhooks) -> (Hooked, Vec<Hook>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let bound = runtime
        .block_on(
            server
                .handlers_from_attributes(false)
                .addr(([127, 0, 0, 1], 0))
                .webhooks(webhooks)
                .bind(),
        )
        .expect("our webhook server starts");
    let hooks = bound.app().hooks().to_vec();
    let hooked = Hooked {
        addr: bound.local_addr(),
        runtime,
    };
    hooked
        .runtime
        .spawn(bound.serve_until(std::future::pending::<()>()));
    (hooked, hooks)
}

/// Registers `hook` (served by `hooked`) on `parse` with the master key. The class of a
/// trigger must exist (see [`shared_parse`]), unless it is a system class or one of the
/// pseudo-classes `@File` and `@Connect`.
pub(crate) fn register(parse: &ParseServer, hooked: &Hooked, hook: &Hook) {
    let url = hooked.url(hook);
    let (status, body) = match hook {
        Hook::Function { name } => parse.post_master(
            "/hooks/functions",
            &json!({"functionName": name, "url": url}),
        ),
        Hook::Trigger {
            class_name,
            trigger,
        } => {
            if !class_name.starts_with(['_', '@']) {
                let (status, body) = parse.get_master(&format!("/schemas/{class_name}"));
                assert_eq!(
                    status, 200,
                    "class {class_name} does not exist: list it with the classes its shared \
                     Parse Server creates at start\n{body}"
                );
            }
            parse.post_master(
                "/hooks/triggers",
                &json!({"className": class_name, "triggerName": trigger.as_str(), "url": url}),
            )
        }
    };
    assert_eq!(status, 200, "register {hook}: {body}\n{}", parse.log());
}

/// What the handlers of a test received, for the test to assert on.
pub(crate) struct Recorder<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Self {
        Recorder(Arc::clone(&self.0))
    }
}

impl<T: Clone> Recorder<T> {
    pub(crate) fn new() -> Self {
        Recorder(Arc::new(Mutex::new(Vec::new())))
    }

    pub(crate) fn push(&self, item: T) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(item);
    }

    /// Everything recorded so far, and forgets it.
    pub(crate) fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// A client app's request: `X-Parse-Application-Id` plus `headers`.
pub(crate) fn client(
    parse: &ParseServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let mut all = vec![("X-Parse-Application-Id", parse.app_id())];
    all.extend_from_slice(headers);
    parse.request(method, path, &all, body)
}

/// Creates an object as a client app; returns its objectId.
pub(crate) fn create(parse: &ParseServer, class: &str, fields: &Value) -> String {
    let (status, body) = parse.post(&format!("/classes/{class}"), fields);
    assert_eq!(status, 201, "create {class} {fields}: {body}");
    object_id(&body)
}

/// The `objectId` of a response body.
pub(crate) fn object_id(body: &Value) -> String {
    body["objectId"]
        .as_str()
        .unwrap_or_else(|| panic!("no objectId in {body}"))
        .to_owned()
}

/// The object as stored, read with the master key.
pub(crate) fn stored(parse: &ParseServer, class: &str, id: &str) -> Value {
    let (status, body) = parse.get_master(&format!("/classes/{class}/{id}"));
    assert_eq!(status, 200, "read {class}/{id}: {body}");
    body
}

/// Whether the object exists, read with the master key.
pub(crate) fn exists(parse: &ParseServer, class: &str, id: &str) -> bool {
    let (status, body) = parse.get_master(&format!("/classes/{class}/{id}"));
    match status {
        200 => true,
        404 => {
            assert_eq!(body["code"], 101, "{body}");
            false
        }
        _ => panic!("read {class}/{id}: {status} {body}"),
    }
}

/// How many objects of `class` are stored. (Not `count=1`: on PostgreSQL, Parse Server
/// answers a count without constraints with the planner's estimate, 0 for a young table.)
pub(crate) fn count(parse: &ParseServer, class: &str) -> usize {
    let (status, body) = parse.get_master(&format!("/classes/{class}?limit=1000&keys=objectId"));
    assert_eq!(status, 200, "list {class}: {body}");
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .len()
}

/// The keys of a JSON object, sorted.
pub(crate) fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// The user-visible fields of a stored object: without `objectId`, the timestamps and `ACL`.
pub(crate) fn fields(value: &Value) -> Value {
    let mut map = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .clone();
    for key in ["objectId", "createdAt", "updatedAt", "ACL"] {
        map.remove(key);
    }
    Value::Object(map)
}

/// `{"code": 141, "error": message}`: how a client sees every webhook error.
pub(crate) fn error_141(message: &str) -> Value {
    json!({"code": 141, "error": message})
}
