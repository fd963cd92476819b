//! The harness shared by the fuzz targets (see `README.md`).
//!
//! Two [`App`]s are built once per process, with one handler per hook kind. What a handler
//! does (which fields it reads, sets, removes or increments, and what it returns) comes from
//! the fuzz input through a [`Script`] stored before each call; what it did and what reply
//! that must give is stored in a [`Record`], which [`check`] compares with the response
//! `App::handle` produced, together with the framework's reply rules.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use moralis_webhooks::{
    App, Error, FunctionRequest, HandlerSettings, ParseObject, Server, TriggerRequest, Webhooks,
};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};

mod estimate;
mod kinds;
mod routes;

pub use routes::{route, Route};

/// The webhook key both apps accept.
pub const KEY: &str = "fuzz-key-1";
/// The second key both apps accept (key rotation).
pub const OTHER_KEY: &str = "fuzz-key-2";
/// The public path of app B (it serves `/hooks/functions/...`).
pub const PREFIX: &str = "/hooks";
/// App B's body limit; app A has the default (16 MiB), far above any fuzz input.
pub const SMALL_BODY_LIMIT: usize = 1024;
/// The longest request target (path and query) the app accepts: longer ones get 414.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// What the client sees for internal errors, panics and unencodable results.
pub const INTERNAL_MESSAGE: &str = "internal error in the webhook server";
/// Keys Parse Server owns, never sent back on update (`objectId` neither).
pub const SERVER_KEYS: [&str; 3] = ["className", "createdAt", "updatedAt"];
/// Keys whose values `Debug` output must hide, at any depth.
pub const SECRET_KEYS: [&str; 5] = [
    "password",
    "sessionToken",
    "authData",
    "_hashed_password",
    "_session_token",
];
/// A value the harness plants under secret keys; `Debug` output must not show it.
pub const SENTINEL: &str = "SENTINEL-c0ffee-do-not-print";

/// The classes the triggers are registered on.
pub const CLASSES: [&str; 3] = ["GameScore", "_User", "_Installation"];

// ---- the apps -----------------------------------------------------------------------------

/// App A (no prefix, default limits) and app B (public path `/hooks`, 1 KiB body limit,
/// one call in flight).
pub struct Apps {
    pub a: App,
    pub b: App,
    runtime: tokio::runtime::Runtime,
}

static APPS: OnceLock<Apps> = OnceLock::new();

thread_local! {
    /// Set by a handler right before it panics on purpose.
    static EXPECT_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// The apps and the runtime, built on first use.
pub fn apps() -> &'static Apps {
    APPS.get_or_init(|| {
        // libfuzzer-sys' panic hook aborts the process on any panic. Deliberate handler
        // panics must instead unwind into the framework's `catch_unwind`, so they skip it;
        // every other panic still aborts (and is reported as a crash).
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if EXPECT_PANIC.with(|p| p.replace(false)) {
                return;
            }
            abort_hook(info)
        }));
        let build = |prefixed: bool| {
            let mut server = Server::new()
                .handlers_from_attributes(false)
                .webhook_keys([KEY, OTHER_KEY])
                .webhooks(webhooks());
            if prefixed {
                let registrar = moralis_webhooks::Registrar::new(
                    ["http://127.0.0.1:1/parse"],
                    "app",
                    "master",
                    format!("http://127.0.0.1:2{PREFIX}/"),
                )
                .expect("valid registrar settings");
                server = server
                    .register_with(registrar)
                    .body_limit(SMALL_BODY_LIMIT)
                    .max_in_flight(1);
            }
            server.into_app().expect("valid handlers")
        };
        // A paused clock: a handler sleeping past the timeout finishes at once.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a tokio runtime");
        let apps = Apps {
            a: build(false),
            b: build(true),
            runtime,
        };
        routes::check_table(apps.a.hooks());
        apps
    })
}

impl Apps {
    /// Runs `app.handle(request)` to completion with `script` driving the handlers, and
    /// returns the response and what the handlers did.
    pub fn handle(
        &self,
        b: bool,
        request: Request<Bytes>,
        script: Script,
    ) -> (Response<Bytes>, Record) {
        *lock(&SCRIPT) = script;
        *lock(&RECORD) = Record::default();
        let app = if b { &self.b } else { &self.a };
        let response = self.runtime.block_on(app.handle(request));
        let record = std::mem::take(&mut *lock(&RECORD));
        (response, record)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `FUZZ_DEBUG` is set: print each request and response (to read a crash input).
pub fn debug_enabled() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("FUZZ_DEBUG").is_some())
}

/// Prints the request and the response when `FUZZ_DEBUG` is set.
pub fn debug_print(label: &str, request: &Request<Bytes>, response: &Response<Bytes>) {
    if debug_enabled() {
        eprintln!(
            "--- {label}\n{} {}\n{:?}\nbody: {}\n=> {} {:?}\n{}",
            request.method(),
            request.uri(),
            request.headers(),
            String::from_utf8_lossy(request.body()),
            response.status(),
            response.headers(),
            String::from_utf8_lossy(response.body()),
        );
    }
}

// ---- what the handlers do -------------------------------------------------------------------

/// How a handler ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Succeeds: a function returns its params, a beforeSave returns the (edited) object.
    #[default]
    Ok,
    /// beforeSave returns `Ok(None)` (accept unchanged); others as `Ok`.
    Unchanged,
    /// beforeSave returns a new object built from the request's fields
    /// (`ParseObject::from_map`), without the edit record; others as `Ok`.
    Rebuilt,
    /// `Err(Error::new(<message>))`, the message chosen from the input (may be empty).
    PublicError,
    /// `Err(Error::internal(...))`.
    InternalError,
    /// The handler panics.
    Panic,
    /// The handler sleeps past its timeout.
    Sleep,
    /// A function returns a value serde_json cannot encode; others as `Ok`.
    Unencodable,
}

impl Mode {
    pub fn from_byte(b: u8) -> Mode {
        // Mostly Ok: the other modes are short paths.
        match b % 16 {
            0..=6 => Mode::Ok,
            7 => Mode::Unchanged,
            8 | 9 => Mode::Rebuilt,
            10 => Mode::PublicError,
            11 => Mode::InternalError,
            12 => Mode::Panic,
            13 => Mode::Sleep,
            14 => Mode::Unencodable,
            _ => Mode::Ok,
        }
    }
}

/// One operation a trigger handler applies to the object: three bytes of input.
#[derive(Clone, Copy, Debug, Default)]
pub struct Op {
    pub kind: u8,
    pub key: u8,
    pub value: u8,
}

/// What the handlers do in the next call.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub mode: Mode,
    /// Selects the public error message.
    pub message: u8,
    pub ops: Vec<Op>,
    /// Where the body holds [`SENTINEL`] so that `Debug` may show it; set by the target.
    pub exposure: Exposure,
    /// Whether the body holds a `\u` escape (see [`has_escapes`]); set by the target.
    pub escapes: bool,
}

impl Script {
    /// Reads a mode byte, a message byte, a count byte and up to `max_ops` ops of three
    /// bytes each from the front of `data`; returns the script and the rest.
    pub fn parse(data: &[u8], max_ops: usize) -> (Script, &[u8]) {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let count = (byte(2) as usize) % (max_ops + 1);
        let ops: Vec<Op> = (0..count)
            .map(|i| Op {
                kind: byte(3 + 3 * i),
                key: byte(4 + 3 * i),
                value: byte(5 + 3 * i),
            })
            .collect();
        let used = (3 + 3 * count).min(data.len());
        let script = Script {
            mode: Mode::from_byte(byte(0)),
            message: byte(1),
            ops,
            exposure: Exposure::NONE,
            escapes: false,
        };
        (script, &data[used..])
    }
}

/// The hook kinds of the harness's handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `hello`, `ÄÖÜ`, `v2:price`: `FunctionRequest` with raw params, returns them.
    Echo,
    /// `typed`: `FunctionRequest<Typed>`, returns the decoded params.
    Typed,
    BeforeSave,
    AfterSave,
    BeforeDelete,
    AfterDelete,
    BeforeFind,
    AfterFind,
    BeforeLogin,
    AfterLogin,
    AfterLogout,
    BeforePasswordResetRequest,
    BeforeSaveFile,
    AfterSaveFile,
    BeforeDeleteFile,
    AfterDeleteFile,
    BeforeConnect,
    BeforeSubscribe,
    AfterEvent,
}

impl Kind {
    /// The name of the trigger (`None` for functions).
    pub fn trigger(self) -> Option<&'static str> {
        Some(match self {
            Kind::Echo | Kind::Typed => return None,
            Kind::BeforeSave | Kind::BeforeSaveFile => "beforeSave",
            Kind::AfterSave | Kind::AfterSaveFile => "afterSave",
            Kind::BeforeDelete | Kind::BeforeDeleteFile => "beforeDelete",
            Kind::AfterDelete | Kind::AfterDeleteFile => "afterDelete",
            Kind::BeforeFind => "beforeFind",
            Kind::AfterFind => "afterFind",
            Kind::BeforeLogin => "beforeLogin",
            Kind::AfterLogin => "afterLogin",
            Kind::AfterLogout => "afterLogout",
            Kind::BeforePasswordResetRequest => "beforePasswordResetRequest",
            Kind::BeforeConnect => "beforeConnect",
            Kind::BeforeSubscribe => "beforeSubscribe",
            Kind::AfterEvent => "afterEvent",
        })
    }

    /// Whether the kind's success is `{}`: every kind but functions and the object
    /// triggers, since Parse Server ignores what else they reply.
    pub fn replies_empty(self) -> bool {
        !matches!(
            self,
            Kind::Echo
                | Kind::Typed
                | Kind::BeforeSave
                | Kind::AfterSave
                | Kind::BeforeDelete
                | Kind::AfterDelete
        )
    }
}

/// What the reply to a call must be, given what the handler did.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// `{"success": <value>}`, and the value's exact encoding.
    Success(Value, Vec<u8>),
    /// `{"success": <exactly these fields>}` (a beforeSave that changed the object).
    Fields(BTreeMap<String, Value>),
    /// `{}`.
    NoChange,
    /// `{"success":true}`, byte for byte.
    SuccessTrue,
    /// `{"error": <this message>}`.
    Error(String),
    /// `{"error": <a message starting with this>}`.
    ErrorStartingWith(String),
}

/// What the handlers did during one call.
#[derive(Debug, Default)]
pub struct Record {
    /// How many handler calls started.
    pub calls: usize,
    pub kind: Option<Kind>,
    /// Whether the call was an update (the request had `original`).
    pub update: bool,
    /// Set when the handler finished (or was about to panic or sleep).
    pub expected: Option<Expected>,
    /// Problems found inside the handler (checked by [`check`]).
    pub problems: Vec<String>,
}

static SCRIPT: Mutex<Script> = Mutex::new(Script {
    mode: Mode::Ok,
    message: 0,
    ops: Vec::new(),
    exposure: Exposure::NONE,
    escapes: false,
});
static RECORD: Mutex<Record> = Mutex::new(Record {
    calls: 0,
    kind: None,
    update: false,
    expected: None,
    problems: Vec::new(),
});

fn script() -> Script {
    lock(&SCRIPT).clone()
}

fn start(kind: Kind, update: bool) {
    let mut record = lock(&RECORD);
    record.calls += 1;
    record.kind = Some(kind);
    record.update = update;
}

fn expect(expected: Expected) {
    lock(&RECORD).expected = Some(expected);
}

fn problem(message: String) {
    lock(&RECORD).problems.push(message);
}

fn public_message(selector: u8) -> String {
    match selector % 6 {
        0 => String::new(),
        1 => "refused by the fuzz handler".to_owned(),
        2 => "quote \" backslash \\ newline \n nul \u{0}".to_owned(),
        3 => "ünïcödé ✓ 🚀".to_owned(),
        4 => " ".to_owned(),
        _ => "x".repeat(300),
    }
}

/// Ends a handler in an error `mode`, if it is one: returns the error to return.
async fn fail(mode: Mode, message: u8) -> Option<Error> {
    match mode {
        Mode::PublicError => {
            let message = public_message(message);
            let client = if message.is_empty() {
                "Script failed.".to_owned()
            } else {
                message.clone()
            };
            expect(Expected::Error(client));
            Some(Error::new(message))
        }
        Mode::InternalError => {
            expect(Expected::Error(INTERNAL_MESSAGE.to_owned()));
            Some(Error::internal("a database error the client must not see"))
        }
        Mode::Panic => {
            expect(Expected::Error(INTERNAL_MESSAGE.to_owned()));
            EXPECT_PANIC.with(|p| p.set(true));
            panic!("deliberate panic of the fuzz handler");
        }
        Mode::Sleep => {
            expect(Expected::ErrorStartingWith("the ".to_owned()));
            tokio::time::sleep(Duration::from_secs(3600)).await;
            problem("a handler slept for an hour and was not stopped".to_owned());
            None
        }
        _ => None,
    }
}

/// The parameters of the `typed` function.
#[derive(Debug, Serialize, Deserialize)]
pub struct Typed {
    pub name: String,
    pub n: Option<i64>,
    pub nested: Option<Value>,
    pub when: Option<String>,
    pub ptr: Option<Pointer>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub ratio: Option<f64>,
    pub choice: Option<Choice>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Pointer {
    #[serde(rename = "objectId")]
    pub object_id: String,
    #[serde(rename = "className")]
    pub class_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Choice {
    Plain,
    Count(u8),
    Point { x: i32, y: i32 },
}

/// A function result: a JSON value, or one serde_json refuses (non-string map keys).
#[derive(Serialize)]
#[serde(untagged)]
enum FunctionResult {
    Value(Value),
    Unencodable(BTreeMap<(u8, u8), u8>),
}

async fn echo(req: FunctionRequest) -> Result<FunctionResult, Error> {
    start(Kind::Echo, false);
    let script = script();
    // Read everything a handler may read; none of it may panic.
    let _ = req.param::<String>("name");
    let _ = req.param::<Option<i64>>("n");
    let _ = req.param::<Vec<Value>>("nested");
    read_user(req.user.as_ref());
    let _ = req.headers.get("User-Agent");
    let _ = req.headers.get("X-PARSE-APPLICATION-ID");
    let _ = (
        req.headers.names().count(),
        req.headers.len(),
        req.context.len(),
    );
    let _ = format!("{req:?}");
    if let Some(error) = fail(script.mode, script.message).await {
        return Err(error);
    }
    if script.mode == Mode::Unencodable {
        expect(Expected::Error(INTERNAL_MESSAGE.to_owned()));
        return Ok(FunctionResult::Unencodable(BTreeMap::from([((1, 2), 3)])));
    }
    let params = Value::Object(req.params.into_map());
    let encoded = serde_json::to_vec(&params).expect("values encode");
    expect(Expected::Success(params.clone(), encoded));
    Ok(FunctionResult::Value(params))
}

async fn typed(req: FunctionRequest<Typed>) -> Result<Typed, Error> {
    start(Kind::Typed, false);
    let script = script();
    if let Some(error) = fail(script.mode, script.message).await {
        return Err(error);
    }
    match (
        serde_json::to_value(&req.params),
        serde_json::to_vec(&req.params),
    ) {
        (Ok(value), Ok(encoded)) => expect(Expected::Success(value, encoded)),
        (Err(error), _) | (_, Err(error)) => {
            problem(format!("typed params do not re-encode: {error}"))
        }
    }
    Ok(req.params)
}

/// Reads what the afterSave/beforeDelete/afterDelete handlers read, then ends per script.
async fn other_trigger(kind: Kind, req: TriggerRequest) -> Result<(), Error> {
    start(kind, req.original.is_some());
    let script = script();
    read_request(kind, &req, &script);
    let mut object = req.object.clone();
    let mut model = Model::other_request();
    for op in &script.ops {
        if let Err(error) = apply(&mut object, &mut model, *op, req.original.as_ref()) {
            expect(Expected::Error(error.client_message().to_owned()));
            return Err(error);
        }
    }
    if let Some(error) = fail(script.mode, script.message).await {
        return Err(error);
    }
    expect(Expected::SuccessTrue);
    Ok(())
}

async fn before_save(req: TriggerRequest) -> Result<Option<ParseObject>, Error> {
    start(Kind::BeforeSave, req.original.is_some());
    let script = script();
    read_request(Kind::BeforeSave, &req, &script);
    let original: Option<Map<String, Value>> = req.original.as_ref().map(fields);
    let original_object = req.original.clone();
    let mut object = req.object;
    let mut model = Model::save_request();
    for op in &script.ops {
        if let Err(error) = apply(&mut object, &mut model, *op, original_object.as_ref()) {
            expect(Expected::Error(error.client_message().to_owned()));
            return Err(error);
        }
    }
    if let Some(error) = fail(script.mode, script.message).await {
        return Err(error);
    }
    match script.mode {
        Mode::Unchanged => {
            // `object` is dropped on return: changed, it goes back to the framework.
            expect(model.expected_without_object(&object, original.as_ref()));
            Ok(None)
        }
        Mode::Rebuilt => {
            let rebuilt = ParseObject::from_map(object.into_map());
            let model = Model::built();
            expect(model.expected(&rebuilt, original.as_ref()));
            Ok(Some(rebuilt))
        }
        _ => {
            expect(model.expected(&object, original.as_ref()));
            Ok(Some(object))
        }
    }
}

/// Reads the request's other fields and checks that `Debug` hides the secrets.
fn read_request(kind: Kind, req: &TriggerRequest, script: &Script) {
    let _ = (req.class_name(), req.is_update(), req.trigger, req.master);
    read_user(req.user.as_ref());
    let _ = req.headers.get("Content-Type");
    let parts = [
        Part::Object,
        Part::Original,
        Part::User,
        Part::Context,
        Part::Ip,
        Part::InstallationId,
        Part::HeaderNames,
    ];
    kinds::check_printed(kind, &format!("{req:?}"), script, &parts);
}

/// Reads what a handler may read of the calling user; an error about a secret field must
/// not quote it.
fn read_user(user: Option<&moralis_webhooks::User>) {
    let Some(user) = user else {
        return;
    };
    let _ = (
        user.id(),
        user.username(),
        user.email(),
        user.session_token(),
    );
    let _ = user.get::<Option<String>>("objectId");
    let _ = user.get::<bool>("authData");
    let _ = user.get::<i64>("sessionToken").map_err(|e| {
        if e.client_message().contains(SENTINEL) {
            problem(format!("a user field error quotes a secret: {e}"));
        }
    });
}

/// Whether `Debug` may legitimately print the sentinel for field `key` = `value`: the
/// sentinel occurs outside every secret key.
fn exposes(key: &str, value: &Value) -> bool {
    if key.contains(SENTINEL) {
        return true;
    }
    if SECRET_KEYS.contains(&key) {
        return false;
    }
    match value {
        Value::String(s) => s.contains(SENTINEL),
        Value::Array(items) => items.iter().any(|v| exposes("", v)),
        Value::Object(map) => map.iter().any(|(k, v)| exposes(k, v)),
        _ => false,
    }
}

/// An object's fields as a map (through `iter`, which every version of the API has).
fn fields(object: &ParseObject) -> Map<String, Value> {
    object
        .iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
}

/// A part of a request that `Debug` prints (secret keys and header values aside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Object,
    Original,
    /// afterFind's results.
    Objects,
    User,
    Context,
    Ip,
    InstallationId,
    HeaderNames,
    Query,
    Event,
    File,
}

/// Where a body holds [`SENTINEL`] so that `Debug` of a request decoded from it may show
/// it: outside every secret key in `object`, `original`, `objects` or `user`; anywhere in
/// `context`, `ip`, `installationId`, `query`, `event` or `file`; in a header name. Its
/// other places (a secret key, a header's value, LiveQuery's `sessionToken`,
/// beforeConnect's `client`, fields no request keeps) must stay hidden.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The body is not JSON `serde_json::Value` reads: it may show anywhere.
    anywhere: bool,
    parts: Vec<Part>,
}

impl Exposure {
    /// The sentinel shows nowhere.
    pub const NONE: Exposure = Exposure {
        anywhere: false,
        parts: Vec::new(),
    };

    /// Where `body` holds the sentinel in the open.
    pub fn of(body: &[u8]) -> Exposure {
        let contains = body
            .windows(SENTINEL.len())
            .any(|w| w == SENTINEL.as_bytes());
        if !contains {
            return Exposure::NONE;
        }
        let text = String::from_utf8_lossy(body);
        let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&text) else {
            return Exposure {
                anywhere: true,
                parts: Vec::new(),
            };
        };
        let fields = |name: &str| match body.get(name) {
            Some(Value::Object(map)) => map.iter().any(|(k, v)| exposes(k, v)),
            Some(other) => mentions(other),
            None => false,
        };
        let results = || match body.get("objects") {
            Some(Value::Array(objects)) => objects.iter().any(|object| match object {
                Value::Object(map) => map.iter().any(|(k, v)| exposes(k, v)),
                other => mentions(other),
            }),
            Some(other) => mentions(other),
            None => false,
        };
        let anywhere = |name: &str| body.get(name).is_some_and(mentions);
        let header_names = || match body.get("headers") {
            Some(Value::Object(headers)) => headers.keys().any(|k| k.contains(SENTINEL)),
            _ => false,
        };
        let parts = [
            (Part::Object, fields("object")),
            (Part::Original, fields("original")),
            (Part::Objects, results()),
            (Part::User, fields("user")),
            (Part::Context, anywhere("context")),
            (Part::Ip, anywhere("ip")),
            (Part::InstallationId, anywhere("installationId")),
            (Part::HeaderNames, header_names()),
            (Part::Query, anywhere("query")),
            (Part::Event, anywhere("event")),
            (Part::File, anywhere("file")),
        ];
        Exposure {
            anywhere: false,
            parts: parts
                .into_iter()
                .filter_map(|(part, shows)| shows.then_some(part))
                .collect(),
        }
    }

    /// Whether `Debug` of a request made of `parts` may show the sentinel.
    pub fn shows(&self, parts: &[Part]) -> bool {
        self.anywhere || parts.iter().any(|part| self.parts.contains(part))
    }
}

/// Whether `body` holds a `\u` escape. The framework spots pending operations by the text
/// `"__op"`, so a field written `{"\u005f_op": "Delete"}` reads as the operation itself
/// rather than Parse's estimate; Parse Server never escapes `_`, and the checks let that
/// pass (see README.md).
pub fn has_escapes(body: &[u8]) -> bool {
    body.windows(2).any(|w| w == b"\\u")
}

/// Whether the sentinel occurs anywhere in `value`.
fn mentions(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(SENTINEL),
        Value::Array(items) => items.iter().any(mentions),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains(SENTINEL) || mentions(v)),
        _ => false,
    }
}

// ---- the model of an object's edits --------------------------------------------------------

/// What the harness knows the handler did to an object, kept apart from `ParseObject`'s
/// own record.
struct Model {
    from_request: bool,
    /// Whether reads of pending operations estimate over the request's `original`: true
    /// for a beforeSave request's object and its copies.
    linked: bool,
    /// Whether the object goes back to the framework when the handler drops it changed:
    /// a beforeSave request's object, until `*object = object.clone()` lets it go (a copy
    /// never does).
    attached: bool,
    edited: BTreeSet<String>,
    /// Fields of the request's object the handler removed while they were there: on
    /// create, those still missing go back as `{"__op": "Delete"}`.
    dropped: BTreeSet<String>,
    /// The request's object as the framework got it back when it was let go changed, and
    /// the model of it then.
    handed_back: Option<(ParseObject, Edits)>,
}

/// What the handler did to an object's fields, as far as the reply depends on it.
#[derive(Clone)]
struct Edits {
    edited: BTreeSet<String>,
    dropped: BTreeSet<String>,
}

impl Model {
    /// For the object of a beforeSave request.
    fn save_request() -> Self {
        Model {
            from_request: true,
            linked: true,
            attached: true,
            edited: BTreeSet::new(),
            dropped: BTreeSet::new(),
            handed_back: None,
        }
    }

    /// For the object of another request: nothing is saved from it.
    fn other_request() -> Self {
        Model {
            linked: false,
            attached: false,
            ..Model::save_request()
        }
    }

    /// For an object the handler built.
    fn built() -> Self {
        Model {
            from_request: false,
            ..Model::other_request()
        }
    }

    /// The reply the framework must send for `object` returned from a beforeSave.
    fn expected(&self, object: &ParseObject, original: Option<&Map<String, Value>>) -> Expected {
        expected_reply(object, self.from_request, &self.edits(), original)
    }

    fn edits(&self) -> Edits {
        Edits {
            edited: self.edited.clone(),
            dropped: self.dropped.clone(),
        }
    }

    /// The reply the framework must send when a beforeSave handler that worked on
    /// `object`, the request's, returns `()`: the changes it made are saved too.
    fn expected_without_object(
        &self,
        object: &ParseObject,
        original: Option<&Map<String, Value>>,
    ) -> Expected {
        if self.attached {
            return self.expected(object, original);
        }
        match &self.handed_back {
            Some((object, edits)) => expected_reply(object, true, edits, original),
            None => Expected::NoChange,
        }
    }
}

/// The reply to a beforeSave that returned `object` with these edits.
fn expected_reply(
    object: &ParseObject,
    from_request: bool,
    edits: &Edits,
    original: Option<&Map<String, Value>>,
) -> Expected {
    let edited = &edits.edited;
    if from_request && edited.is_empty() {
        return Expected::NoChange;
    }
    let mut fields = BTreeMap::new();
    for (key, value) in object.iter() {
        if SERVER_KEYS.contains(&key) {
            continue;
        }
        if let Some(original) = original {
            let changed = original.get(key) != Some(value);
            if key == "objectId" || !(changed || edited.contains(key)) {
                continue;
            }
        }
        fields.insert(key.to_owned(), value.clone());
    }
    if let Some(original) = original {
        for key in edited {
            if !object.contains_key(key)
                && original.contains_key(key)
                && !SERVER_KEYS.contains(&key.as_str())
                && key != "objectId"
            {
                fields.insert(key.clone(), json!({"__op": "Delete"}));
            }
        }
    } else {
        // On create: what the client sent and the handler removed, so that the client's
        // SDK drops it too.
        for key in &edits.dropped {
            if !object.contains_key(key)
                && !SERVER_KEYS.contains(&key.as_str())
                && key != "objectId"
            {
                fields.insert(key.clone(), json!({"__op": "Delete"}));
            }
        }
    }
    Expected::Fields(fields)
}

const KEYS: [&str; 20] = [
    "score",
    "playerName",
    "cheatMode",
    "reviewed",
    "extra",
    "password",
    "authData",
    "sessionToken",
    "objectId",
    "className",
    "createdAt",
    "updatedAt",
    "ACL",
    "__op",
    "",
    "ß",
    "plays",
    "_hashed_password",
    "a.b",
    "x y",
];

/// The key an op works on: an existing field (`className` and the timestamps included), or
/// one from [`KEYS`].
fn key_of(object: &ParseObject, selector: u8) -> String {
    let len = object.len();
    if selector < 0x80 && len > 0 {
        object
            .keys()
            .nth(selector as usize % len)
            .unwrap_or_default()
            .to_owned()
    } else {
        KEYS[(selector & 0x7f) as usize % KEYS.len()].to_owned()
    }
}

fn value_of(
    selector: u8,
    key: &str,
    object: &ParseObject,
    original: Option<&ParseObject>,
) -> Value {
    match selector % 22 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(false),
        3 => json!(0),
        4 => json!(-1),
        5 => json!(i64::MAX),
        6 => json!(u64::MAX),
        7 => json!(1.5),
        8 => json!(-0.0),
        9 => json!(""),
        10 => json!("x"),
        11 => json!([]),
        12 => json!({}),
        13 => json!({"__op": "Increment", "amount": 1}),
        14 => json!({"__op": "Delete"}),
        15 => json!({"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"}),
        16 => json!({"__type": "Pointer", "className": "_User", "objectId": "u1"}),
        // The current value: touched, but the same.
        17 => object.get_raw(key).cloned().unwrap_or(Value::Null),
        // The stored value: a revert.
        18 => original
            .and_then(|o| o.get_raw(key).cloned())
            .unwrap_or(Value::Null),
        19 => json!(SENTINEL),
        20 => json!({"facebook": {"id": "1", "access_token": SENTINEL}}),
        _ => json!([1, "two", {"three": [3.0, null]}]),
    }
}

/// Applies `op` to `object`, tracking it in `model` and checking what `ParseObject`
/// promises; an `Err` is what the handler returns (a failed typed read with `?`).
fn apply(
    object: &mut ParseObject,
    model: &mut Model,
    op: Op,
    original: Option<&ParseObject>,
) -> Result<(), Error> {
    let key = key_of(object, op.key);
    match op.kind % 14 {
        0 | 1 => {
            let value = value_of(op.value, &key, object, original);
            object.set(key.clone(), value.clone());
            model.edited.insert(key.clone());
            if object.get_raw(&key) != Some(&value) {
                problem(format!("set `{key}` did not store the value"));
            }
        }
        2 => {
            let had = object.get_raw(&key).cloned();
            let removed = object.remove(&key);
            model.edited.insert(key.clone());
            if had.is_some() && model.from_request {
                model.dropped.insert(key.clone());
            }
            if removed != had || object.contains_key(&key) {
                problem(format!("remove `{key}` returned {removed:?}, had {had:?}"));
            }
            if !matches!(object.get::<Option<Value>>(&key), Ok(None)) {
                problem(format!("removed `{key}` still reads as present"));
            }
        }
        3 => {
            let amount = i64::from(op.value as i8) * 1_000_000_007;
            object.increment(key.clone(), amount);
            model.edited.insert(key.clone());
            if object.pending_op(&key) != Some("Increment")
                || object.get_raw(&key) != Some(&json!({"__op": "Increment", "amount": amount}))
            {
                problem(format!(
                    "increment `{key}` stored {:?}",
                    object.get_raw(&key)
                ));
            }
        }
        4 => {
            // Mutable access; counts as an edit when the field exists.
            let new = value_of(op.value, &key, object, original);
            let exists = object.contains_key(&key);
            match object.get_raw_mut(&key) {
                Some(slot) => {
                    if op.value & 1 == 0 {
                        *slot = new;
                    }
                    model.edited.insert(key.clone());
                }
                None if exists => problem(format!("get_raw_mut `{key}` is None but it exists")),
                None => {}
            }
        }
        5 => typed_reads(
            object,
            &key,
            if model.linked { original } else { None },
            lock(&SCRIPT).escapes,
        ),
        6 => {
            let pending = object.pending_op(&key);
            let expected = object
                .get_raw(&key)
                .and_then(Value::as_object)
                .and_then(|m| m.get("__op"))
                .and_then(Value::as_str);
            if pending != expected {
                problem(format!(
                    "pending_op `{key}` is {pending:?}, expected {expected:?}"
                ));
            }
        }
        7 => {
            // Plant a secret, then check `Debug` hides it.
            let secret = SECRET_KEYS[op.value as usize % SECRET_KEYS.len()];
            let value = match op.value / 8 % 3 {
                0 => json!(SENTINEL),
                1 => json!({"inner": SENTINEL}),
                _ => json!([SENTINEL]),
            };
            object.set(secret, value);
            model.edited.insert(secret.to_owned());
            check_debug(object);
            // Typed reads of a secret field never quote its value.
            if let Err(error) = object.get::<i64>(secret) {
                if error.client_message().contains(SENTINEL) && !object_exposes(object) {
                    problem(format!("an error about `{secret}` quotes it: {error}"));
                }
            }
        }
        8 => accessors(object),
        9 => check_debug(object),
        10 => {
            // A clone keeps the record of edits (and what pending operations read over),
            // not the way back to the framework: the assignment lets the request's object
            // go, and the framework keeps it if it was changed.
            let copy = object.clone();
            if model.attached {
                model.attached = false;
                if !model.edited.is_empty() {
                    model.handed_back = Some((copy.clone(), model.edits()));
                }
            }
            *object = copy;
        }
        11 => {
            // `?` on a typed read: the client gets the message.
            object.get::<i64>(&key)?;
        }
        12 => {
            let _ = object.get::<Option<String>>(&key)?;
        }
        _ => {
            // Serialize: the fields, exactly.
            match serde_json::to_value(&*object) {
                Ok(Value::Object(map)) if map == fields(object) => {}
                other => problem(format!("ParseObject serializes as {other:?}")),
            }
        }
    }
    Ok(())
}

/// Typed reads of field `key`; `linked` is the stored object pending operations read over,
/// `escapes` whether the body has `\u` escapes (see [`has_escapes`]).
fn typed_reads(object: &ParseObject, key: &str, linked: Option<&ParseObject>, escapes: bool) {
    fn read<T: serde::de::DeserializeOwned>(object: &ParseObject, key: &str) {
        if let Err(error) = object.get::<T>(key) {
            let message = error.client_message();
            if message.is_empty() || error.is_internal() {
                problem(format!("get `{key}` failed with {error:?}"));
            }
            if SECRET_KEYS.contains(&key) && message.contains(SENTINEL) && !object_exposes(object) {
                problem(format!(
                    "an error about `{key}` quotes its value: {message}"
                ));
            }
        }
    }
    read::<i64>(object, key);
    read::<u8>(object, key);
    read::<f64>(object, key);
    read::<bool>(object, key);
    read::<String>(object, key);
    read::<Option<String>>(object, key);
    read::<Vec<i64>>(object, key);
    read::<BTreeMap<String, Value>>(object, key);
    read::<Typed>(object, key);
    read::<Choice>(object, key);
    // `get_raw`, or over a pending operation Parse's estimate of the value it stores.
    let want = estimate::read_value(
        object.get_raw(key),
        linked.and_then(|stored| stored.get_raw(key)),
    );
    match object.get::<Value>(key) {
        Ok(value) => {
            let unestimated =
                escapes && object.pending_op(key).is_some() && Some(&value) == object.get_raw(key);
            if value != want && !unestimated {
                problem(format!(
                    "get::<Value> `{key}` is {value}, expected {want} (raw {:?})",
                    object.get_raw(key)
                ));
            }
        }
        Err(error) => problem(format!("get::<Value> `{key}` failed: {error}")),
    }
}

fn accessors(object: &ParseObject) {
    let _ = (object.id(), object.created_at(), object.updated_at());
    let class = object.class_name();
    let expected = object
        .get_raw("className")
        .and_then(Value::as_str)
        .unwrap_or("");
    if class != expected {
        problem(format!(
            "class_name is {class:?}, className is {expected:?}"
        ));
    }
    let keys: Vec<&str> = object.keys().collect();
    let iterated: Vec<&str> = object.iter().map(|(k, _)| k).collect();
    if keys != iterated || keys.len() != object.len() || object.is_empty() != keys.is_empty() {
        problem("keys, iter, len and is_empty disagree".to_owned());
    }
    if keys.iter().any(|k| !object.contains_key(k)) {
        problem("a key from keys() is not contained".to_owned());
    }
}

/// Whether the sentinel occurs in `object` outside every secret key.
fn object_exposes(object: &ParseObject) -> bool {
    object.iter().any(|(k, v)| exposes(k, v))
}

fn check_debug(object: &ParseObject) {
    let printed = format!("{object:?}");
    let exposed = object_exposes(object);
    if printed.contains(SENTINEL) && !exposed {
        problem(format!(
            "Debug of an object shows a secret value: {printed}"
        ));
    }
}

fn webhooks() -> Webhooks {
    let mut webhooks = Webhooks::new()
        .cloud_function("hello", echo)
        .cloud_function("ÄÖÜ", echo)
        .cloud_function("v2:price", echo)
        // Its own timeout, shorter than the server's.
        .with(
            HandlerSettings::new().timeout(Duration::from_millis(1500)),
            |w| w.cloud_function("typed", typed),
        );
    for class in CLASSES {
        webhooks = webhooks
            .before_save(class, before_save)
            .after_save(class, |req: TriggerRequest| {
                other_trigger(Kind::AfterSave, req)
            });
    }
    let webhooks = webhooks
        .before_delete("GameScore", |req: TriggerRequest| {
            other_trigger(Kind::BeforeDelete, req)
        })
        .after_delete("GameScore", |req: TriggerRequest| {
            other_trigger(Kind::AfterDelete, req)
        });
    kinds::register(webhooks)
}

// ---- the checks -----------------------------------------------------------------------------

/// A JSON object's entries in order, duplicates kept.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

fn entries(json: &[u8]) -> Result<Vec<(String, Value)>, String> {
    serde_json::from_slice::<Entries>(json)
        .map(|e| e.0)
        .map_err(|e| format!("not a JSON object ({e}): {}", String::from_utf8_lossy(json)))
}

fn single_string<'a>(entries: &'a [(String, Value)], name: &str) -> Result<&'a str, String> {
    match entries {
        [(key, Value::String(message))] if key == name => Ok(message),
        _ => Err(format!(
            "expected exactly {{\"{name}\": <string>}}, got {entries:?}"
        )),
    }
}

/// What the harness sent, for [`check`].
pub struct Sent<'a> {
    pub method: &'a Method,
    /// The request's path (`Uri::path`).
    pub path: &'a str,
    /// The length of the request target (path and query).
    pub target_len: usize,
    /// The `X-Parse-Webhook-Key` header values sent.
    pub keys: &'a [&'a [u8]],
    pub body: &'a [u8],
    /// App B (body limit [`SMALL_BODY_LIMIT`]).
    pub b: bool,
}

/// Checks a response against the framework's rules and against what the handler did;
/// panics (a crash for libFuzzer) with a description on a violation.
pub fn check(sent: &Sent<'_>, response: &Response<Bytes>, record: &Record) {
    if let Err(message) = check_inner(sent, response, record) {
        panic!(
            "rule violated: {message}\nrequest: {} {} keys={:?} app={}\nbody: {}\nresponse: {} {}\nrecord: {record:?}",
            sent.method,
            sent.path,
            sent.keys
                .iter()
                .map(|k| String::from_utf8_lossy(k))
                .collect::<Vec<_>>(),
            if sent.b { "B" } else { "A" },
            String::from_utf8_lossy(sent.body),
            response.status(),
            String::from_utf8_lossy(response.body()),
        );
    }
}

fn check_inner(sent: &Sent<'_>, response: &Response<Bytes>, record: &Record) -> Result<(), String> {
    if let Some(problem) = record.problems.first() {
        return Err(format!("in the handler: {problem}"));
    }
    if record.calls > 1 {
        return Err(format!("{} handler calls for one request", record.calls));
    }
    let content_types: Vec<&HeaderValue> =
        response.headers().get_all(CONTENT_TYPE).iter().collect();
    if content_types != [&HeaderValue::from_static("application/json")] {
        return Err(format!("content-type is {content_types:?}"));
    }
    let body = response.body();
    let fields = entries(body)?;
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err("duplicate keys in the reply".to_owned());
    }
    let status = response.status();

    // Health checks: any key or none, never a handler.
    if sent.path == "/livez" || sent.path == "/readyz" {
        if record.calls > 0 {
            return Err("a health check reached a handler".to_owned());
        }
        return match status {
            StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE => {
                single_string(&fields, "status").map(drop)
            }
            StatusCode::METHOD_NOT_ALLOWED => {
                check_allow(response, "GET, HEAD")?;
                nonempty_error(&fields)
            }
            other => Err(format!("health check answered {other}")),
        };
    }

    // Oversized targets are refused before the key check (header sections over 32 KiB
    // too, but the harness's are small).
    if sent.target_len > MAX_TARGET_BYTES {
        if record.calls > 0 {
            return Err("a request with an oversized target reached a handler".to_owned());
        }
        if status != StatusCode::URI_TOO_LONG {
            return Err(format!(
                "a target over {MAX_TARGET_BYTES} bytes got {status}"
            ));
        }
        return nonempty_error(&fields);
    }
    let key_ok =
        matches!(sent.keys, [key] if *key == KEY.as_bytes() || *key == OTHER_KEY.as_bytes());
    if !key_ok {
        if record.calls > 0 {
            return Err("a request without the right key reached a handler".to_owned());
        }
        if status != StatusCode::UNAUTHORIZED {
            return Err(format!("a request without the right key got {status}"));
        }
    }
    let limit = if sent.b { SMALL_BODY_LIMIT } else { usize::MAX };
    let post = sent.method == Method::POST;
    if record.calls > 0 {
        if !post {
            return Err(format!("a {} request reached a handler", sent.method));
        }
        if sent.body.len() > limit {
            return Err("a body over the limit reached a handler".to_owned());
        }
    }

    // Where a keyed request goes.
    let route = routes::route(sent.path, sent.b);
    if key_ok {
        let want = match &route {
            Route::NotFound => Some(StatusCode::NOT_FOUND),
            _ if !post => Some(StatusCode::METHOD_NOT_ALLOWED),
            Route::Unserved(_) => Some(StatusCode::OK),
            _ if sent.body.len() > limit => Some(StatusCode::PAYLOAD_TOO_LARGE),
            // 200, or 400 for a body that is not a call of the hook.
            Route::Served(..) => None,
        };
        if want.is_some_and(|want| want != status) {
            return Err(format!("{route:?} answered {status}, expected {want:?}"));
        }
        if let (Route::Served(kind, _), Some(called)) = (&route, record.kind) {
            if *kind != called {
                return Err(format!(
                    "the route of a {kind:?} reached a {called:?} handler"
                ));
            }
        }
        // A trigger's body: a call of it runs the handler, anything else gets 400.
        if let Route::Served(kind, class) = &route {
            let within = post && sent.body.len() <= limit;
            match routes::decodes(*kind, class, sent.body).filter(|_| within) {
                Some(true) if record.calls == 0 => {
                    return Err(format!(
                        "a {kind:?} call did not reach its handler: {status} {}",
                        String::from_utf8_lossy(body)
                    ))
                }
                Some(false) if record.calls > 0 || status != StatusCode::BAD_REQUEST => {
                    return Err(format!("a body that is no {kind:?} call got {status}"))
                }
                _ => {}
            }
        }
        if let Route::Unserved(names) = &route {
            if post {
                if record.calls > 0 {
                    return Err("an unserved hook reached a handler".to_owned());
                }
                let message = single_string(&fields, "error")?;
                let names_it = message.starts_with("the ")
                    && message.ends_with(routes::NOT_SERVED)
                    && names.iter().all(|name| message.contains(name.as_str()));
                if !names_it {
                    return Err(format!(
                        "an unserved hook's reply does not name it ({names:?})"
                    ));
                }
                return Ok(());
            }
        }
    }

    if status != StatusCode::OK {
        if record.calls > 0 {
            return Err(format!("a handler ran but the status is {status}"));
        }
        match status {
            StatusCode::BAD_REQUEST
            | StatusCode::UNAUTHORIZED
            | StatusCode::NOT_FOUND
            | StatusCode::PAYLOAD_TOO_LARGE => {}
            StatusCode::METHOD_NOT_ALLOWED => check_allow(response, "POST")?,
            other => return Err(format!("unexpected status {other}")),
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE
            && !(sent.b && sent.body.len() > SMALL_BODY_LIMIT)
        {
            return Err("413 for a body within the limit".to_owned());
        }
        return nonempty_error(&fields);
    }

    // 200: {"success": ...}, {} or {"error": "<non-empty>"}.
    let reply = match fields.as_slice() {
        [] => Reply::NoChange,
        [(key, value)] if key == "success" => Reply::Success(value),
        [(key, Value::String(message))] if key == "error" => {
            if message.is_empty() {
                return Err("empty error message".to_owned());
            }
            Reply::Error(message)
        }
        _ => return Err("a 200 reply that is neither success, {} nor error".to_owned()),
    };
    if record.calls == 0 {
        // Only a function whose params do not decode answers 200 without running its
        // handler (unserved hooks are checked above).
        return match (&route, reply) {
            (Route::Served(Kind::Echo | Kind::Typed, _), Reply::Error(message))
                if message.contains("parameter") =>
            {
                Ok(())
            }
            _ => Err("a 200 reply other than a parameter error without a handler call".to_owned()),
        };
    }
    let kind = record.kind.expect("a call records its kind");
    match (kind, &reply) {
        (Kind::BeforeSave, Reply::Success(Value::Bool(true) | Value::Null)) => {
            return Err("beforeSave answered {\"success\": true/null}".to_owned())
        }
        (Kind::BeforeSave, Reply::Success(Value::Object(fields))) => {
            let forbidden: &[&str] = if record.update {
                &["className", "createdAt", "updatedAt", "objectId"]
            } else {
                &SERVER_KEYS
            };
            if let Some(key) = forbidden.iter().find(|k| fields.contains_key(**k)) {
                return Err(format!("beforeSave reply carries `{key}`"));
            }
            #[derive(Deserialize)]
            struct Wrapped {
                success: Entries,
            }
            let written = serde_json::from_slice::<Wrapped>(body)
                .map_err(|e| format!("the success object does not decode: {e}"))?;
            if written.success.0.len() != fields.len() {
                return Err("duplicate keys in the beforeSave success object".to_owned());
            }
        }
        (Kind::BeforeSave, Reply::Success(other)) => {
            return Err(format!(
                "beforeSave answered success with a non-object {other}"
            ))
        }
        (Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete, Reply::Success(_))
            if body.as_ref() != br#"{"success":true}"# =>
        {
            return Err(format!(
                "{kind:?} success reply is not {{\"success\":true}}"
            ))
        }
        (
            Kind::Echo | Kind::Typed | Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete,
            Reply::NoChange,
        ) => return Err(format!("{kind:?} answered {{}}")),
        // The other kinds: `{}` (byte for byte) or an error, never `success`.
        (_, Reply::Success(_)) if kind.replies_empty() => {
            return Err(format!("{kind:?} answered success"))
        }
        (_, Reply::NoChange) if kind.replies_empty() && body.as_ref() != b"{}" => {
            return Err(format!("{kind:?} answered {{}} other than as `{{}}`"))
        }
        _ => {}
    }
    if kind == Kind::Echo {
        if let (Reply::Success(_), Some(Expected::Success(echoed, _))) = (&reply, &record.expected)
        {
            // The params the handler got, against an independent decoding of the body.
            // Fields other than `params` are skipped, as the framework skips unknown ones:
            // serde_json skips without checking UTF-8 or number ranges.
            #[derive(Deserialize)]
            struct FunctionBody {
                params: Option<Value>,
            }
            let sent_params = match serde_json::from_slice::<FunctionBody>(sent.body) {
                Ok(FunctionBody { params: None }) => json!({}),
                Ok(FunctionBody {
                    params: Some(params),
                }) => params,
                // A number beyond f64 (`1e400`) reads as null, as Parse Server's own
                // JSON.parse and JSON.stringify make it: this decoding cannot say where.
                Err(error) if error.to_string().starts_with("number out of range") => {
                    echoed.clone()
                }
                Err(error) => {
                    return Err(format!(
                        "the function ran on a body that does not decode: {error}"
                    ))
                }
            };
            if *echoed != sent_params {
                return Err(format!(
                    "the handler got params {echoed}, the body has {sent_params}"
                ));
            }
        }
    }
    let Some(expected) = &record.expected else {
        return Err("the handler ran but did not finish".to_owned());
    };
    let matches = match (expected, &reply) {
        // Exactly the encoding of the value (re-parsing is not exact: serde_json's default
        // float parsing does not round-trip every f64).
        (Expected::Success(_, want), Reply::Success(_)) => {
            let mut encoded = br#"{"success":"#.to_vec();
            encoded.extend_from_slice(want);
            encoded.push(b'}');
            encoded == body.as_ref()
        }
        (Expected::Fields(want), Reply::Success(Value::Object(got))) => {
            want.len() == got.len()
                && want
                    .iter()
                    .all(|(k, v)| got.get(k).is_some_and(|g| nearly_equal(v, g)))
        }
        (Expected::NoChange, Reply::NoChange) => true,
        (Expected::SuccessTrue, Reply::Success(Value::Bool(true))) => true,
        (Expected::Error(want), Reply::Error(got)) => want == got,
        (Expected::ErrorStartingWith(want), Reply::Error(got)) => got.starts_with(want.as_str()),
        _ => false,
    };
    if !matches {
        return Err(format!("expected {expected:?}"));
    }
    Ok(())
}

enum Reply<'a> {
    NoChange,
    Success(&'a Value),
    Error(&'a str),
}

fn nonempty_error(fields: &[(String, Value)]) -> Result<(), String> {
    let message = single_string(fields, "error")?;
    if message.is_empty() {
        return Err("empty error message".to_owned());
    }
    Ok(())
}

fn check_allow(response: &Response<Bytes>, allow: &str) -> Result<(), String> {
    match response.headers().get(ALLOW) {
        Some(value) if value == allow => Ok(()),
        other => Err(format!("405 with Allow {other:?}, expected {allow}")),
    }
}

/// JSON equality, with floats equal up to the last bits: serde_json's default float parsing
/// may read a number it printed one ulp or so off.
fn nearly_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-14 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| nearly_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| nearly_equal(v, w)))
        }
        _ => a == b,
    }
}
