//! Test fixture for `moralis-webhooks`: a **real Parse Server 9.10.0** (Node.js)
//! on a throw-away **PostgreSQL** cluster, both bound to `127.0.0.1`, plus a
//! small blocking REST client to drive it the way a client app would.
//!
//! ```no_run
//! use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
//! use serde_json::json;
//!
//! let parse = ParseServer::start(ParseServerOptions::default());
//! // Clients cannot create classes (allowClientClassCreation is false): use the master key.
//! let (status, body) = parse.post_master("/schemas/GameScore", &json!({"className": "GameScore"}));
//! assert_eq!(status, 200, "{body}\n{}", parse.log());
//! let (status, body) = parse.post("/classes/GameScore", &json!({"score": 1337}));
//! assert_eq!(status, 201, "{body}");
//! // Dropping `parse` stops Parse Server and PostgreSQL and removes their files.
//! ```
//!
//! # Prerequisites
//!
//! Run `scripts/setup-parse-server` once per machine (and after
//! `tests/parse-server/package-lock.json` changes). It installs the PostgreSQL
//! server binaries with `apt-get` if they are missing and runs `npm ci` in
//! `tests/parse-server`. [`ParseServer::start`] panics with that advice when
//! something is missing; it never skips a test silently.
//!
//! # What an instance is
//!
//! Every [`ParseServer`] has its own temporary directory, its own PostgreSQL
//! cluster (a `cp -a` copy of a template that `initdb` creates once per test
//! process; its only database is `parse`) listening on a free loopback port
//! (TCP only, `fsync=off`), and its own `node .../bin/parse-server
//! config.json` on another free loopback port. As root, PostgreSQL runs as the
//! OS user `postgres`. Instances are independent, so tests may run in parallel.
//!
//! [`ParseServer::start`] takes about 1.25 s on a 2-core machine, almost all of
//! it Node.js loading Parse Server's modules; the first start in a test process
//! adds about 0.8 s for `initdb`. Stopping takes well under 0.1 s.
//!
//! # Files, mail and LiveQuery
//!
//! [`ParseServerOptions::all_features`] (or the fields
//! [`files`](ParseServerOptions::files), [`mail`](ParseServerOptions::mail) and
//! [`live_query_classes`](ParseServerOptions::live_query_classes)) adds what
//! Parse Server's other webhooks need:
//!
//! ```no_run
//! use std::time::Duration;
//! use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
//! use serde_json::json;
//!
//! let parse = ParseServer::start(ParseServerOptions::all_features().with_live_query_classes(["LQ"]));
//! // Files (`@File` triggers): stored in parse.files_dir().
//! let (status, body) = parse.upload_file("hello.txt", b"hi", None);
//! assert_eq!(status, 201, "{body}");
//! assert!(parse.file_exists(body["name"].as_str().unwrap()));
//! // Mail (`beforePasswordResetRequest`): recorded, never sent.
//! let (status, _) = parse.post("/requestPasswordReset", &json!({"email": "a@example.com"}));
//! println!("{status} {:?}", parse.mails());
//! // LiveQuery (`@Connect`, `beforeSubscribe`, `afterEvent`): a websocket client.
//! let (status, _) = parse.post_master("/schemas/LQ", &json!({"className": "LQ"}));
//! let lq = parse.live_query("LQ", &json!({}), None);
//! lq.expect_op("connected", Duration::from_secs(10));
//! lq.expect_op("subscribed", Duration::from_secs(10));
//! parse.post("/classes/LQ", &json!({"n": 1}));
//! let event = lq.expect_op("create", Duration::from_secs(10));
//! ```
//!
//! The LiveQuery client is a small Node.js script (written into the instance
//! directory, using the `ws` package Parse Server depends on) in a child
//! process; it ends when the [`LiveQueryClient`] is dropped or the test process
//! dies. Once a client has connected, stopping an instance with LiveQuery
//! takes about 0.5 s longer: Parse Server's LiveQuery ping timers would keep
//! Node.js alive for up to 20 s after its SIGTERM shutdown, so the fixture
//! makes it exit 0.5 s after SIGTERM.
//!
//! # Blocking API and async tests
//!
//! Every method blocks the calling thread. In a `#[tokio::test]` whose webhook
//! server runs on the same runtime, use
//! `#[tokio::test(flavor = "multi_thread")]` (or call the fixture inside
//! `tokio::task::spawn_blocking`): on the default current-thread runtime a
//! blocking call that makes Parse Server call your webhook would wait for a
//! server that cannot run, until the request times out.
//!
//! # Clean-up
//!
//! Dropping a [`ParseServer`] (also while a test panics) stops Parse Server
//! (SIGTERM) and PostgreSQL (SIGINT, i.e. fast shutdown), each followed by
//! SIGKILL after 10 s, waits for them, and removes the temporary directory. If
//! the test process dies without unwinding (SIGKILL, abort), a small `sh`
//! watchdog per instance notices that the test process's end of its stdin pipe
//! closed and kills that instance's Parse Server and PostgreSQL and removes its
//! directory; another watchdog removes the per-process template cluster when the
//! test process exits. The same happens to a [`ParseServer`] that is never
//! dropped (e.g. one kept in a `static` and shared by several tests) when the
//! test process exits.

mod client;
mod features;
mod live_query;
mod postgres;
pub mod process;

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, PoisonError};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use tempfile::TempDir;

pub use client::percent_encode;
pub use live_query::LiveQueryClient;

use crate::features::Features;
use crate::postgres::Postgres;
use crate::process::{free_port, tail, terminate, Watchdog};

/// The application id of every fixture Parse Server.
const APP_ID: &str = "app";
/// The master key of every fixture Parse Server.
const MASTER_KEY: &str = "master";
/// How long Parse Server may take to answer `GET /parse/health`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a process may take to exit after SIGTERM/SIGINT before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Parse Server options that the fixture owns (ports, addresses, database).
const RESERVED_KEYS: [&str; 5] = ["databaseURI", "host", "port", "mountPath", "serverURL"];
/// How many lines of a log a panic message shows.
const LOG_TAIL_LINES: usize = 60;
/// What to do when something is not installed.
const SETUP_HINT: &str = "run scripts/setup-parse-server";

/// The directory holding `package.json`, `package-lock.json` and (after
/// `scripts/setup-parse-server`) the `node_modules` of Parse Server.
pub fn parse_server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("parse-server")
}

/// How to configure a [`ParseServer`].
#[derive(Clone, Debug)]
pub struct ParseServerOptions {
    /// Parse Server's `webhookKey`, sent to webhooks as `X-Parse-Webhook-Key`;
    /// `None` starts Parse Server without one.
    pub webhook_key: Option<String>,
    /// A JSON object whose top-level keys are set on Parse Server's config
    /// after the fixture's own (replacing them), e.g.
    /// `{"allowClientClassCreation": true}`. `null` counts as `{}`. The keys
    /// `databaseURI`, `host`, `port`, `mountPath` and `serverURL` belong to the
    /// fixture and are rejected. The keys that [`files`](Self::files),
    /// [`mail`](Self::mail) and [`live_query_classes`](Self::live_query_classes)
    /// set are left alone when `extra_config` sets them.
    pub extra_config: Value,
    /// Store files with `@parse/fs-files-adapter` in [`ParseServer::files_dir`]
    /// and let everyone upload them (`fileUpload.enableForPublic`,
    /// `enableForAnonymousUser` and `enableForAuthenticatedUser` all `true`),
    /// for tests of the `@File` triggers. Without it Parse Server has no
    /// working files adapter.
    pub files: bool,
    /// Give Parse Server an email adapter that only records mails (see
    /// [`ParseServer::mails`]) and an `appName`; with the `publicServerURL` the
    /// fixture always sets, that is what `POST /requestPasswordReset` needs
    /// (without it, it answers 500 before any trigger runs).
    pub mail: bool,
    /// `Some(classes)` starts the LiveQuery server in the Parse Server process
    /// (`startLiveQueryServer`, at [`ParseServer::live_query_url`]) and
    /// publishes the events of `classes` (`liveQuery.classNames`; may be empty:
    /// clients can still connect and subscribe, but get no events). `None`: no
    /// LiveQuery server. See [`ParseServer::live_query`].
    pub live_query_classes: Option<Vec<String>>,
}

impl Default for ParseServerOptions {
    /// `webhook_key: Some("hookkey")`, `extra_config: {}`, no files adapter,
    /// no mail, no LiveQuery.
    fn default() -> Self {
        ParseServerOptions {
            webhook_key: Some("hookkey".to_owned()),
            extra_config: json!({}),
            files: false,
            mail: false,
            live_query_classes: None,
        }
    }
}

impl ParseServerOptions {
    /// The [default](Self::default) plus everything the file, password-reset and
    /// LiveQuery webhooks need: `files: true`, `mail: true` and the LiveQuery
    /// server without classes (set them with
    /// [`with_live_query_classes`](Self::with_live_query_classes)).
    pub fn all_features() -> Self {
        ParseServerOptions {
            files: true,
            mail: true,
            live_query_classes: Some(Vec::new()),
            ..ParseServerOptions::default()
        }
    }

    /// Starts the LiveQuery server publishing the events of `classes`, e.g.
    /// `ParseServerOptions::all_features().with_live_query_classes(["LQ"])`.
    pub fn with_live_query_classes<I>(mut self, classes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.live_query_classes = Some(classes.into_iter().map(Into::into).collect());
        self
    }
}

/// A running Parse Server with its own PostgreSQL cluster; see the
/// [crate documentation](crate). Stopped and removed on drop.
pub struct ParseServer {
    node: Mutex<NodeProcess>,
    /// More Parse Server processes on the same database (see [`ParseServer::add_process`]).
    others: Vec<(NodeProcess, String)>,
    postgres: Postgres,
    watchdog: Watchdog,
    url: String,
    port: u16,
    database_uri: String,
    config: Value,
    config_path: PathBuf,
    log_path: PathBuf,
    agent: ureq::Agent,
    /// The optional features it was started with.
    features: Features,
    /// How many LiveQuery clients were started (numbers their log files).
    live_query_clients: AtomicUsize,
    /// Declared last so it is removed after everything else was stopped.
    dir: TempDir,
}

impl fmt::Debug for ParseServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseServer")
            .field("url", &self.url)
            .field("database_uri", &self.database_uri)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// The Parse Server (node) process.
struct NodeProcess {
    child: Child,
    stopped: bool,
}

impl NodeProcess {
    /// Runs `node [--require <preload>] .../bin/parse-server <config_path>` in `dir`.
    fn spawn(
        dir: &Path,
        config_path: &Path,
        log_path: &Path,
        preload: Option<&Path>,
    ) -> Result<NodeProcess, String> {
        let script = parse_server_dir().join("node_modules/parse-server/bin/parse-server");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let stderr = log
            .try_clone()
            .map_err(|e| format!("cannot dup a file handle: {e}"))?;
        let mut cmd = Command::new("node");
        if let Some(preload) = preload {
            cmd.arg("--require").arg(preload);
        }
        cmd.arg(script)
            .arg(config_path)
            // Parse Server's default logger writes to ./logs before `logsFolder`
            // applies: keep that inside the instance directory too.
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        // The parse-server CLI also reads options from the environment; do not
        // let the environment of the test run change the configuration.
        for (key, _) in std::env::vars_os() {
            let key_str = key.to_string_lossy();
            if key_str.starts_with("PARSE_")
                || ["PORT", "SILENT", "VERBOSE", "JSON_LOGS", "TESTING"].contains(&&*key_str)
            {
                cmd.env_remove(&key);
            }
        }
        let child = cmd.spawn().map_err(|e| {
            format!("cannot run `node` (Node.js 20 or newer must be on PATH; {SETUP_HINT}): {e}")
        })?;
        Ok(NodeProcess {
            child,
            stopped: false,
        })
    }

    fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM (Parse Server closes its HTTP server and database pool), SIGKILL
    /// after 10 s. Idempotent; never panics.
    fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            terminate(&mut self.child, "TERM", STOP_GRACE);
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Panics unless `tests/parse-server/node_modules` holds an up-to-date install.
fn check_node_modules() {
    let dir = parse_server_dir();
    let script = dir.join("node_modules/parse-server/bin/parse-server");
    if !script.is_file() {
        panic!(
            "Parse Server is not installed: {} is missing; {SETUP_HINT} (it runs `npm ci` in {})",
            script.display(),
            dir.display()
        );
    }
    // npm writes node_modules/.package-lock.json at the end of every install.
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = mtime(&dir.join("package-lock.json"));
    let installed = mtime(&dir.join("node_modules/.package-lock.json"));
    if let (Some(lock), Some(installed)) = (lock, installed) {
        if lock > installed {
            panic!(
                "{}/node_modules is older than package-lock.json; {SETUP_HINT} to update it",
                dir.display()
            );
        }
    }
}

/// Is Parse Server answering `GET <url>/health` with `{"status":"ok"}`?
fn healthy(agent: &ureq::Agent, url: &str) -> bool {
    match agent.get(format!("{url}/health")).call() {
        Ok(mut response) if response.status().as_u16() == 200 => response
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .is_some_and(|v| v["status"] == "ok"),
        _ => false,
    }
}

/// Waits until Parse Server is healthy; fails if it exits or takes too long.
fn wait_healthy(node: &mut NodeProcess, url: &str) -> Result<(), String> {
    let agent = ureq::Agent::config_builder()
        .proxy(None)
        .max_idle_connections(0)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .new_agent();
    let deadline = Instant::now() + HEALTH_TIMEOUT;
    loop {
        if healthy(&agent, url) {
            return Ok(());
        }
        if let Some(status) = node.exit_status() {
            return Err(format!(
                "Parse Server exited ({status}) before it became healthy"
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "Parse Server did not answer GET {url}/health with {{\"status\":\"ok\"}} within {HEALTH_TIMEOUT:?}"
            ));
        }
        sleep(Duration::from_millis(20));
    }
}

/// The fixture's Parse Server configuration plus `opts`, without the parts
/// that depend on ports (`databaseURI`, `port`, URLs). Panics on bad `opts`.
fn base_config(opts: &ParseServerOptions) -> Value {
    let mut config = json!({
        "appId": APP_ID,
        "masterKey": MASTER_KEY,
        "host": "127.0.0.1",
        "mountPath": "/parse",
        "masterKeyIps": ["127.0.0.1", "::1"],
    });
    if let Some(key) = &opts.webhook_key {
        config["webhookKey"] = json!(key);
    }
    match &opts.extra_config {
        Value::Null => {}
        Value::Object(extra) => {
            for (key, value) in extra {
                if RESERVED_KEYS.contains(&key.as_str()) {
                    panic!(
                        "ParseServerOptions::extra_config must not set `{key}`: the fixture \
                         owns {RESERVED_KEYS:?}"
                    );
                }
                config[key] = value.clone();
            }
        }
        other => panic!("ParseServerOptions::extra_config must be a JSON object, not {other}"),
    }
    config
}

/// Adds the parts of the configuration that depend on Parse Server's port.
fn with_port(base: &Value, port: u16, url: &str) -> Value {
    let mut config = base.clone();
    config["port"] = json!(port);
    config["serverURL"] = json!(url);
    if base.get("publicServerURL").is_none() {
        config["publicServerURL"] = json!(url);
    }
    config
}

fn write_config(path: &Path, config: &Value) {
    let text = serde_json::to_string_pretty(config).expect("a JSON value serialises");
    fs::write(path, text + "\n").unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn log_tail_message(log_path: &Path) -> String {
    format!(
        "--- last {LOG_TAIL_LINES} lines of {} ---\n{}",
        log_path.display(),
        tail(log_path, LOG_TAIL_LINES)
    )
}

impl ParseServer {
    /// Starts PostgreSQL and Parse Server and waits (up to 60 s) until
    /// `GET /parse/health` answers `{"status":"ok"}`.
    ///
    /// # Panics
    ///
    /// If Node.js, Parse Server's `node_modules` or the PostgreSQL binaries are
    /// missing (the message says to run `scripts/setup-parse-server`), if
    /// `opts.extra_config` is not an object or sets a key the fixture owns, or
    /// if a server fails to start (the message ends with the log's tail).
    pub fn start(opts: ParseServerOptions) -> ParseServer {
        let mut base = base_config(&opts);
        check_node_modules();
        postgres::prepare();

        let dir = tempfile::Builder::new()
            .prefix("moralis-webhooks-conformance-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        // PostgreSQL may run as another user: it must be able to enter `dir`.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o711))
            .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", dir.path().display()));
        let mut watchdog = Watchdog::spawn(dir.path())
            .unwrap_or_else(|e| panic!("cannot start the clean-up watchdog (/bin/sh): {e}"));

        let postgres = Postgres::start(dir.path(), &mut watchdog)
            .unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}"));
        let database_uri = format!("postgres://postgres@127.0.0.1:{}/parse", postgres.port());

        let logs = dir.path().join("logs");
        fs::create_dir(&logs).unwrap_or_else(|e| panic!("cannot create {}: {e}", logs.display()));
        base["databaseURI"] = json!(database_uri);
        if base.get("logsFolder").is_none() {
            base["logsFolder"] = json!(logs);
        }
        let features = features::configure(&opts, &mut base, dir.path());
        let config_path = dir.path().join("parse-server.json");
        let log_path = dir.path().join("parse-server.log");

        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}/parse");
            let config = with_port(&base, port, &url);
            write_config(&config_path, &config);
            let preload = features.node_preload(dir.path());
            let mut node =
                NodeProcess::spawn(dir.path(), &config_path, &log_path, preload.as_deref())
                    .unwrap_or_else(|e| panic!("{e}"));
            watchdog.watch("node", node.child.id());
            match wait_healthy(&mut node, &url) {
                Ok(()) => {
                    return ParseServer {
                        node: Mutex::new(node),
                        others: Vec::new(),
                        postgres,
                        watchdog,
                        url,
                        port,
                        database_uri,
                        config,
                        config_path,
                        log_path,
                        agent: client::agent(),
                        features,
                        live_query_clients: AtomicUsize::new(0),
                        dir,
                    };
                }
                Err(e) => {
                    node.stop();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    if log.contains("EADDRINUSE") && attempt < ATTEMPTS {
                        // Another process took the port after we probed it: retry.
                        continue;
                    }
                    panic!(
                        "cannot start Parse Server: {e}\n{}",
                        log_tail_message(&log_path)
                    );
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Stops Parse Server and starts it again on the same port with the same
    /// configuration and database, then waits until it is healthy. Parse
    /// Server loads webhooks registered through `/hooks` only at start-up, so
    /// this is how a test sees them "reloaded from the database". Also works
    /// when Parse Server has crashed.
    ///
    /// # Panics
    ///
    /// If Parse Server does not become healthy again (with the log's tail).
    pub fn restart(&mut self) {
        let node = self.node.get_mut().unwrap_or_else(PoisonError::into_inner);
        node.stop();
        if let Ok(mut log) = OpenOptions::new().append(true).open(&self.log_path) {
            let _ = writeln!(
                log,
                "==== moralis-webhooks-conformance: restarting Parse Server ({:?}) ====",
                SystemTime::now()
            );
        }
        let preload = self.features.node_preload(self.dir.path());
        *node = NodeProcess::spawn(
            self.dir.path(),
            &self.config_path,
            &self.log_path,
            preload.as_deref(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.watchdog.watch("node", node.child.id());
        if let Err(e) = wait_healthy(node, &self.url) {
            panic!(
                "Parse Server did not come back after restart(): {e}\n{}",
                log_tail_message(&self.log_path)
            );
        }
    }

    /// Starts one more Parse Server process on the same database (another port, the same
    /// configuration otherwise), as a deployment with several Parse Server nodes has, and
    /// returns its URL. Each process loads the webhooks from the database only at its own
    /// start. It is stopped with the instance.
    ///
    /// # Panics
    ///
    /// If it does not become healthy (with its log's tail).
    pub fn add_process(&mut self) -> String {
        let n = self.others.len() + 2;
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/parse");
        let config_path = self.dir.path().join(format!("parse-server-{n}.json"));
        let log_path = self.dir.path().join(format!("parse-server-{n}.log"));
        write_config(&config_path, &with_port(&self.config, port, &url));
        let preload = self.features.node_preload(self.dir.path());
        let mut node =
            NodeProcess::spawn(self.dir.path(), &config_path, &log_path, preload.as_deref())
                .unwrap_or_else(|e| panic!("{e}"));
        self.watchdog.watch("node", node.child.id());
        if let Err(e) = wait_healthy(&mut node, &url) {
            node.stop();
            panic!(
                "the Parse Server process {n} did not start: {e}\n{}",
                log_tail_message(&log_path)
            );
        }
        self.others.push((node, url.clone()));
        url
    }

    /// Parse Server's URL including the mount path, e.g.
    /// `http://127.0.0.1:40123/parse` (its `serverURL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port Parse Server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Parse Server's `appId`: `"app"` unless `extra_config` changed it.
    pub fn app_id(&self) -> &str {
        self.config["appId"].as_str().unwrap_or(APP_ID)
    }

    /// Parse Server's `masterKey`: `"master"` unless `extra_config` changed it.
    pub fn master_key(&self) -> &str {
        self.config["masterKey"].as_str().unwrap_or(MASTER_KEY)
    }

    /// Parse Server's `webhookKey`, if it has one.
    pub fn webhook_key(&self) -> Option<&str> {
        self.config.get("webhookKey").and_then(Value::as_str)
    }

    /// The complete configuration Parse Server was started with.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// The TCP port of this instance's PostgreSQL (on 127.0.0.1, user
    /// `postgres`, no password).
    pub fn postgres_port(&self) -> u16 {
        self.postgres.port()
    }

    /// Parse Server's `databaseURI`, e.g. `postgres://postgres@127.0.0.1:40124/parse`.
    pub fn database_uri(&self) -> &str {
        &self.database_uri
    }

    /// Whether the Parse Server process is still running (it can crash, e.g.
    /// on some malformed webhook answers; [`restart`](Self::restart) revives it).
    pub fn is_running(&self) -> bool {
        let mut node = self.node.lock().unwrap_or_else(PoisonError::into_inner);
        node.exit_status().is_none()
    }

    /// Everything Parse Server wrote to stdout and stderr so far (across
    /// restarts), for failure messages.
    pub fn log(&self) -> String {
        fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Everything PostgreSQL wrote to stdout and stderr so far.
    pub fn postgres_log(&self) -> String {
        self.postgres.log()
    }

    /// The instance's temporary directory (config, logs, PostgreSQL data);
    /// removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for ParseServer {
    /// Stops Parse Server, then PostgreSQL (waiting for both), disarms the
    /// watchdog, and then the temporary directory is removed.
    fn drop(&mut self) {
        for (node, _) in &mut self.others {
            node.stop();
        }
        self.node
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .stop();
        self.postgres.stop();
        self.watchdog.disarm();
    }
}
