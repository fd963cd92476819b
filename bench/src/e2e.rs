//! Part 2 of the `bench` driver: what a Parse client sees, through a real Parse Server
//! 9.10.0 (the `moralis-webhooks-conformance` fixture, PostgreSQL included).
//!
//! One Parse Server serves every *route* at once, each under names of its own: each
//! webhook server serves the cloud function `echo<Server>` and the beforeSave of class
//! `GameScore<Server>` (registered through `/hooks`), and in-process Cloud Code
//! (`bench/node/cloud.js`, through Parse Server's `cloud` option) serves `echoCloud` and
//! `GameScoreCloud`. A client on one kept-alive connection makes sequential calls:
//! `POST /functions/echo<Route>` as a signed-in user (so Parse Server forwards the user and
//! the headers, about 1 KB), and `POST /classes/GameScore<Route>` creating an object.
//!
//! A third kind of call has the handler call Parse Server back: `POST
//! /functions/topScores<Route>` (anonymous), whose handler runs one query as its caller
//! (the ten highest `GameScore`s above 100, of a few hundred seeded first) and answers the
//! objects found: `ours` with `req.parse().as_caller()`, raw hyper with the same REST call
//! through a kept-alive hyper-util client, Express with the Parse JS SDK, Cloud Code with
//! `Parse.Query`.
//!
//! The measured calls are interleaved: every route once per cycle, in a shuffled order, so
//! that whatever else runs on the machine meanwhile (a GC pause, another process) falls on
//! every route alike, and a difference of a few hundredths of a millisecond shows. Nothing
//! is pinned: client, Parse Server, PostgreSQL and the webhook servers share the machine's
//! cores, as in a deployment on one host. Each webhook server's CPU time over the
//! measured calls is read from `/proc`; Parse Server's CPU time per call is read in a
//! separate pass of consecutive calls per route.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
use serde_json::{json, Value};

use crate::histogram::Histogram;
use crate::load::ms;
use crate::procfs;
use crate::run::micros;
use crate::servers::{ParseTarget, Peer, Programs, Running};
use crate::shape::fingerprint;
use crate::wire::BlockingConnection;
use crate::workload::{Payload, Request, Workload, MARKER_BASE};

/// Who serves the hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A webhook server.
    Webhook(Peer),
    /// Cloud Code inside Parse Server.
    InProcess,
}

impl Route {
    /// The name used in tables.
    pub fn label(self) -> String {
        match self {
            Route::Webhook(peer) => format!("webhook: {}", peer.label()),
            Route::InProcess => "in-process Cloud Code".to_owned(),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Route::Webhook(Peer::Ours) => "Ours",
            Route::Webhook(Peer::OursTyped) => "OursTyped",
            Route::Webhook(Peer::OursMetrics) => "OursMetrics",
            Route::Webhook(Peer::RawHyper) => "Raw",
            Route::Webhook(Peer::RawHyperRawValue) => "RawValue",
            Route::Webhook(Peer::Express) => "Express",
            Route::Webhook(Peer::ParseCloudExpress) => "Pce",
            Route::InProcess => "Cloud",
        }
    }

    /// The cloud function's name on this route.
    pub fn function_name(self) -> String {
        format!("echo{}", self.suffix())
    }

    /// The name of `topScores` on this route.
    pub fn top_scores_name(self) -> String {
        format!("topScores{}", self.suffix())
    }

    /// The class of the beforeSave on this route.
    pub fn class_name(self) -> String {
        format!("GameScore{}", self.suffix())
    }
}

/// The calls a client makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// `POST /functions/echo`, signed in.
    Function,
    /// `POST /classes/GameScore`, through the beforeSave.
    Save,
    /// `POST /functions/topScores`, anonymous: the handler runs one query as its caller.
    TopScores,
}

impl CallKind {
    /// Every kind, in table order.
    pub const ALL: [CallKind; 3] = [CallKind::Function, CallKind::Save, CallKind::TopScores];

    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            CallKind::Function => "cloud function",
            CallKind::Save => "create through beforeSave",
            CallKind::TopScores => "topScores (one query as the caller)",
        }
    }

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            CallKind::Function => "function",
            CallKind::Save => "save",
            CallKind::TopScores => "top-scores",
        }
    }

    /// The goal: ours at most this much slower than raw hyper (ms).
    fn goal_ms(self) -> f64 {
        match self {
            CallKind::Function | CallKind::Save => 0.05,
            CallKind::TopScores => 0.1,
        }
    }
}

impl std::str::FromStr for CallKind {
    type Err = String;

    fn from_str(s: &str) -> Result<CallKind, String> {
        CallKind::ALL
            .into_iter()
            .find(|kind| kind.id() == s.trim())
            .ok_or_else(|| format!("`{s}` is not function, save or top-scores"))
    }
}

/// The object the client creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveObject {
    /// The object of `beforeSave_create.json`: `score`, `playerName`, `cheatMode`.
    Small,
    /// The 10 KB object of the load part.
    TenK,
}

impl SaveObject {
    fn object(self) -> serde_json::Map<String, Value> {
        match self {
            SaveObject::Small => match json!({
                "score": MARKER_BASE, "playerName": "Sean Plott", "cheatMode": false
            }) {
                Value::Object(object) => object,
                _ => unreachable!("made as an object"),
            },
            SaveObject::TenK => Workload::new(Payload::Save10K)
                .object()
                .expect("a beforeSave payload has an object"),
        }
    }
}

impl std::str::FromStr for SaveObject {
    type Err = String;

    fn from_str(s: &str) -> Result<SaveObject, String> {
        match s.trim() {
            "small" => Ok(SaveObject::Small),
            "10k" => Ok(SaveObject::TenK),
            _ => Err(format!("`{s}` is not `small` or `10k`")),
        }
    }
}

/// The settings of the end-to-end part.
#[derive(Clone, Debug)]
pub struct EndToEnd {
    /// How to start the webhook servers.
    pub programs: Programs,
    /// The webhook servers to route through.
    pub peers: Vec<Peer>,
    /// Whether to measure in-process Cloud Code too.
    pub in_process: bool,
    /// Measured function calls per route.
    pub function_calls: usize,
    /// Measured saves per route.
    pub save_calls: usize,
    /// The kinds of call measured, in this order.
    pub kinds: Vec<CallKind>,
    /// Measured `topScores` calls per route.
    pub top_calls: usize,
    /// `GameScore` rows seeded for `topScores`.
    pub seed_rows: usize,
    /// Unmeasured calls of each kind per route first (Parse Server's JIT warms up, the
    /// connections open).
    pub warmup: usize,
    /// Calls of each kind per route in the pass that reads Parse Server's CPU time.
    pub cpu_calls: usize,
    /// The object created.
    pub save_object: SaveObject,
    /// The Cloud Code file (`bench/node/cloud.js`).
    pub cloud_file: PathBuf,
}

/// The measured calls of one route and kind of call.
#[derive(Debug)]
pub struct Series {
    /// Who served.
    pub route: Route,
    /// Which call.
    pub kind: CallKind,
    /// Latency of successful calls (µs).
    pub latency: Histogram,
    /// The same latencies one by one, in the order measured (µs): the goal's intervals
    /// resample them.
    pub samples: Vec<u64>,
    /// Failed calls (warm-up and CPU pass included).
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Parse Server's CPU time per call, from the separate pass.
    pub parse_cpu_per_call: Option<Duration>,
    /// The webhook server's CPU time over the measured calls.
    pub webhook_cpu: Option<Duration>,
    /// Measured calls that succeeded.
    pub calls: u64,
    /// Whether the last object saved was read back with `reviewed: true`.
    pub verified: Option<bool>,
}

impl Series {
    fn new(route: Route, kind: CallKind) -> Series {
        Series {
            route,
            kind,
            latency: Histogram::new(),
            samples: Vec::new(),
            errors: 0,
            first_error: None,
            parse_cpu_per_call: None,
            webhook_cpu: None,
            calls: 0,
            verified: None,
        }
    }

    fn fail(&mut self, message: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message);
        }
    }
}

/// A route's server, requests and last saved object.
struct Lane {
    route: Route,
    server: Option<Running>,
    function: Request,
    save: Request,
    top: Request,
    last_id: Option<String>,
}

/// The client: one kept-alive connection to Parse Server, reopened when it closes.
struct Client {
    addr: SocketAddr,
    connection: Option<BlockingConnection>,
    next_call: u64,
}

impl Client {
    /// Makes one call of `kind` on `lane`; returns its latency, or why it failed.
    fn call(&mut self, lane: &mut Lane, kind: CallKind) -> Result<Duration, String> {
        let n = self.next_call;
        self.next_call += 1;
        if self.connection.is_none() {
            self.connection = Some(
                BlockingConnection::open(self.addr)
                    .map_err(|error| format!("call {n}: {error}"))?,
            );
        }
        let connection = self.connection.as_mut().expect("opened above");
        let request = match kind {
            CallKind::Function => &mut lane.function,
            CallKind::Save => &mut lane.save,
            CallKind::TopScores => &mut lane.top,
        };
        let sent = Instant::now();
        let outcome = connection.call(request.for_call(n));
        let elapsed = sent.elapsed();
        let (verdict, keep) = match outcome {
            Ok(reply) => (check(kind, n, reply.status, reply.body), !reply.close),
            Err(error) => (Err(error.to_string()), false),
        };
        if !keep {
            self.connection = None;
        }
        match verdict {
            Ok(id) => {
                if id.is_some() {
                    lane.last_id = id;
                }
                Ok(elapsed)
            }
            Err(message) => Err(format!("call {n}: {message}")),
        }
    }
}

/// A small deterministic generator (xorshift64*) for the shuffles and resamplings.
struct Shuffle(u64);

impl Shuffle {
    /// A number below `bound`.
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound as u64) as usize
    }

    fn order(&mut self, len: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..len).collect();
        for i in (1..len).rev() {
            let j = self.below(i + 1);
            order.swap(i, j);
        }
        order
    }
}

/// The goal of the calls with no callback: ours at most this much slower than raw hyper
/// (ms).
#[cfg(test)]
const GOAL_MS: f64 = 0.05;
/// Resamplings behind each interval.
const BOOTSTRAP_ROUNDS: usize = 1000;

/// A percentile of ours minus the same percentile of raw hyper (ms), with a 95 % bootstrap
/// interval.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Difference {
    estimate: f64,
    low: f64,
    high: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Met,
    Missed,
    Unresolved,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
            Verdict::Unresolved => "cannot tell",
        }
    }
}

impl Difference {
    /// `percent` of `ours` minus that of `theirs`; latencies in µs.
    fn of(ours: &[u64], theirs: &[u64], percent: f64) -> Difference {
        let estimate = (percentile(&mut ours.to_vec(), percent)
            - percentile(&mut theirs.to_vec(), percent))
            / 1000.0;
        let mut rng = Shuffle(0xb007_5712_a9e5_0001);
        let mut resample = |from: &[u64], into: &mut Vec<u64>| {
            into.clear();
            into.extend((0..from.len()).map(|_| from[rng.below(from.len())]));
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut differences: Vec<f64> = (0..BOOTSTRAP_ROUNDS)
            .map(|_| {
                resample(ours, &mut a);
                resample(theirs, &mut b);
                (percentile(&mut a, percent) - percentile(&mut b, percent)) / 1000.0
            })
            .collect();
        differences.sort_by(f64::total_cmp);
        let at = |q: f64| differences[((q * (differences.len() - 1) as f64).round()) as usize];
        Difference {
            estimate,
            low: at(0.025),
            high: at(0.975),
        }
    }

    fn verdict(self, goal: f64) -> Verdict {
        if self.high <= goal {
            Verdict::Met
        } else if self.low > goal {
            Verdict::Missed
        } else {
            Verdict::Unresolved
        }
    }
}

/// The nearest-rank percentile of `values` (reordered), as f64; 0 when empty.
fn percentile(values: &mut [u64], percent: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let rank = ((percent / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    let (_, value, _) = values.select_nth_unstable(rank - 1);
    *value as f64
}

impl EndToEnd {
    /// Runs the part; progress goes to stderr.
    ///
    /// # Panics
    ///
    /// If Parse Server cannot start (the fixture says what to install).
    pub fn run(&self) -> Result<Vec<Series>, String> {
        let key = format!("bench-e2e-{}", std::process::id());
        let mut config = json!({ "allowClientClassCreation": true });
        if self.in_process {
            config["cloud"] = json!(self.cloud_file.display().to_string());
        }
        eprintln!("end to end: starting Parse Server ...");
        let parse = ParseServer::start(ParseServerOptions {
            webhook_key: Some(key.clone()),
            extra_config: config,
            ..ParseServerOptions::default()
        });
        let config_path = parse.dir().join("parse-server.json");
        let parse_pid = procfs::find_process_with_arg(&config_path.display().to_string());
        let (status, user) = parse.post(
            "/users",
            &json!({"username": "alice", "password": "correct horse battery staple",
                    "email": "alice@example.com"}),
        );
        if status != 201 {
            return Err(format!("sign-up failed: {status} {user}"));
        }
        let token = user["sessionToken"]
            .as_str()
            .ok_or("no session token")?
            .to_owned();
        let addr = SocketAddr::from(([127, 0, 0, 1], parse.port()));
        let host = addr.to_string();
        let mut params = Workload::client_params();
        params["n"] = json!(MARKER_BASE);
        let object = Value::Object(self.save_object.object());
        let top_scores = self.kinds.contains(&CallKind::TopScores);
        if top_scores {
            seed(&parse, self.seed_rows)?;
        }

        let mut routes: Vec<Route> = self.peers.iter().map(|p| Route::Webhook(*p)).collect();
        if self.in_process {
            routes.push(Route::InProcess);
        }
        let mut lanes = Vec::new();
        for route in &routes {
            let (function, class) = (route.function_name(), route.class_name());
            let server = match route {
                Route::Webhook(peer) => {
                    let mut programs = self.programs.clone();
                    programs.parse = top_scores.then(|| ParseTarget {
                        url: parse.url().to_owned(),
                        app_id: parse.app_id().to_owned(),
                        master_key: parse.master_key().to_owned(),
                        top_scores: route.top_scores_name(),
                    });
                    let server = programs.start(*peer, &key, None, Some((&function, &class)))?;
                    register(&parse, *peer, server.addr, &function, &class)?;
                    if top_scores {
                        register_top_scores(&parse, *peer, server.addr, &route.top_scores_name())?;
                    }
                    Some(server)
                }
                Route::InProcess => None,
            };
            let function_request = Request::client(
                &format!("/parse/functions/{function}"),
                &host,
                &[
                    ("X-Parse-Application-Id", parse.app_id()),
                    ("X-Parse-Session-Token", &token),
                    ("User-Agent", "moralis-webhooks-bench"),
                ],
                &params,
            );
            let save_request = Request::client(
                &format!("/parse/classes/{class}"),
                &host,
                &[
                    ("X-Parse-Application-Id", parse.app_id()),
                    ("User-Agent", "moralis-webhooks-bench"),
                ],
                &object,
            );
            let top_request = Request::client(
                &format!("/parse/functions/{}", route.top_scores_name()),
                &host,
                &[
                    ("X-Parse-Application-Id", parse.app_id()),
                    ("User-Agent", "moralis-webhooks-bench"),
                ],
                &json!({ "n": MARKER_BASE }),
            );
            lanes.push(Lane {
                route: *route,
                server,
                function: function_request,
                save: save_request,
                top: top_request,
                last_id: None,
            });
        }
        let mut series: Vec<Series> = Vec::new();
        for kind in &self.kinds {
            let kind = *kind;
            for route in &routes {
                series.push(Series::new(*route, kind));
            }
        }
        let mut client = Client {
            addr,
            connection: None,
            next_call: 0,
        };
        let mut shuffle = Shuffle(0x0e2e_5eed_0000_0001);
        for kind in &self.kinds {
            let kind = *kind;
            let calls = match kind {
                CallKind::Function => self.function_calls,
                CallKind::Save => self.save_calls,
                CallKind::TopScores => self.top_calls,
            };
            let first = series
                .iter()
                .position(|s| s.kind == kind)
                .expect("made above");
            let entries = &mut series[first..first + lanes.len()];
            eprintln!(
                "end to end: {} x {} routes, warm-up ({} each) ...",
                kind.label(),
                lanes.len(),
                self.warmup
            );
            for _ in 0..self.warmup {
                for index in shuffle.order(lanes.len()) {
                    if let Err(message) = client.call(&mut lanes[index], kind) {
                        entries[index].fail(message);
                    }
                }
            }
            eprintln!(
                "end to end: {} x {} routes, measuring ({} each, interleaved) ...",
                kind.label(),
                lanes.len(),
                calls
            );
            let before: Vec<Option<Duration>> = lanes.iter().map(webhook_cpu).collect();
            for _ in 0..calls {
                for index in shuffle.order(lanes.len()) {
                    match client.call(&mut lanes[index], kind) {
                        Ok(latency) => {
                            entries[index].latency.record(micros(latency));
                            entries[index].samples.push(micros(latency));
                            entries[index].calls += 1;
                        }
                        Err(message) => entries[index].fail(message),
                    }
                }
            }
            for ((lane, entry), before) in lanes.iter().zip(entries.iter_mut()).zip(before) {
                if let (Some(before), Some(after)) = (before, webhook_cpu(lane)) {
                    entry.webhook_cpu = Some(after.saturating_sub(before));
                }
            }
            // Parse Server's CPU time per call cannot be told apart when calls interleave:
            // a pass of consecutive calls per route.
            if let Some(pid) = parse_pid.filter(|_| self.cpu_calls > 0) {
                eprintln!(
                    "end to end: {}, Parse Server's CPU time ({} calls per route) ...",
                    kind.label(),
                    self.cpu_calls
                );
                for (lane, entry) in lanes.iter_mut().zip(entries.iter_mut()) {
                    let before = procfs::cpu_time(pid).ok();
                    let mut ok = 0u32;
                    for _ in 0..self.cpu_calls {
                        match client.call(lane, kind) {
                            Ok(_) => ok += 1,
                            Err(message) => entry.fail(message),
                        }
                    }
                    let after = procfs::cpu_time(pid).ok();
                    if let (Some(before), Some(after)) = (before, after) {
                        if ok > 0 {
                            entry.parse_cpu_per_call = Some(after.saturating_sub(before) / ok);
                        }
                    }
                }
            }
            if kind == CallKind::Save {
                for (lane, entry) in lanes.iter().zip(entries.iter_mut()) {
                    verify(&parse, lane, entry);
                }
            }
        }
        Ok(series)
    }
}

fn webhook_cpu(lane: &Lane) -> Option<Duration> {
    lane.server
        .as_ref()
        .and_then(|server| procfs::cpu_time(server.pid).ok())
}

/// Registers cloud function `function` and the beforeSave of `class` at `peer`.
fn register(
    parse: &ParseServer,
    peer: Peer,
    addr: SocketAddr,
    function: &str,
    class: &str,
) -> Result<(), String> {
    let function_url = format!("http://{addr}{}", peer.function_path(function));
    let trigger_url = format!("http://{addr}{}", peer.before_save_path(class));
    let answers = [
        parse.post_master(
            "/hooks/functions",
            &json!({ "functionName": function, "url": function_url }),
        ),
        parse.post_master(
            "/hooks/triggers",
            &json!({ "className": class, "triggerName": "beforeSave", "url": trigger_url }),
        ),
    ];
    for (status, body) in answers {
        if !(200..300).contains(&status) {
            return Err(format!(
                "cannot register the hooks of {peer}: {status} {body}"
            ));
        }
    }
    Ok(())
}

/// Seeds `rows` GameScores (scores 0 to 999, spread; most above 100) for `topScores`.
fn seed(parse: &ParseServer, rows: usize) -> Result<(), String> {
    eprintln!("end to end: seeding {rows} GameScores ...");
    let objects: Vec<Value> = (0..rows)
        .map(|i| {
            json!({
                "method": "POST",
                "path": "/parse/classes/GameScore",
                "body": { "score": (i * 397) % 1000, "playerName": format!("player {i}") },
            })
        })
        .collect();
    for chunk in objects.chunks(50) {
        let (status, body) = parse.post_master("/batch", &json!({ "requests": chunk }));
        let failed = body
            .as_array()
            .is_none_or(|answers| answers.iter().any(|answer| answer.get("success").is_none()));
        if status != 200 || failed {
            return Err(format!("cannot seed GameScore: {status} {body}"));
        }
    }
    Ok(())
}

/// Registers cloud function `name` at `peer`, which serves `topScores` under that name.
fn register_top_scores(
    parse: &ParseServer,
    peer: Peer,
    addr: SocketAddr,
    name: &str,
) -> Result<(), String> {
    let url = format!("http://{addr}{}", peer.function_path(name));
    let (status, body) = parse.post_master(
        "/hooks/functions",
        &json!({ "functionName": name, "url": url }),
    );
    if !(200..300).contains(&status) {
        return Err(format!(
            "cannot register topScores of {peer}: {status} {body}"
        ));
    }
    Ok(())
}

/// Reads the last object saved on `lane` back: the beforeSave must have set `reviewed`.
fn verify(parse: &ParseServer, lane: &Lane, series: &mut Series) {
    let Some(id) = &lane.last_id else {
        return;
    };
    let (status, saved) = parse.get_master(&format!("/classes/{}/{id}", lane.route.class_name()));
    let ok = status == 200 && saved["reviewed"] == json!(true);
    series.verified = Some(ok);
    if !ok {
        series.fail(format!(
            "the saved object {id} has no reviewed: true: {status} {saved}"
        ));
    }
}

/// Checks a reply; for a save, returns the new object's id.
fn check(kind: CallKind, n: u64, status: u16, body: &[u8]) -> Result<Option<String>, String> {
    let text = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    match kind {
        CallKind::Function => {
            if status != 200 {
                return Err(format!("status {status}: {}", text()));
            }
            let found = fingerprint(body, &["result", "n"]).map_err(|_| "not JSON".to_owned())?;
            if found.marker != Some((MARKER_BASE + n) as f64) {
                return Err(format!("not this call's result: {}", text()));
            }
            Ok(None)
        }
        CallKind::Save => {
            if status != 201 {
                return Err(format!("status {status}: {}", text()));
            }
            let reply: Value =
                serde_json::from_slice(body).map_err(|_| format!("not JSON: {}", text()))?;
            match reply["objectId"].as_str() {
                Some(id) => Ok(Some(id.to_owned())),
                None => Err(format!("no objectId: {}", text())),
            }
        }
        CallKind::TopScores => {
            if status != 200 {
                return Err(format!("status {status}: {}", text()));
            }
            let reply: Value =
                serde_json::from_slice(body).map_err(|_| format!("not JSON: {}", text()))?;
            let scores: Option<Vec<f64>> = reply["result"]
                .as_array()
                .map(|results| results.iter().filter_map(|r| r["score"].as_f64()).collect());
            match scores {
                Some(scores)
                    if scores.len() == 10
                        && scores.iter().all(|score| *score > 100.0)
                        && scores.windows(2).all(|pair| pair[0] >= pair[1]) =>
                {
                    Ok(None)
                }
                _ => Err(format!("not the ten highest scores above 100: {}", text())),
            }
        }
    }
}

/// Prints the end-to-end table (Markdown) and the goal.
pub fn print_tables(series: &[Series]) {
    let mut rows = Vec::new();
    for entry in series {
        let per_call = |cpu: Duration| {
            if entry.calls == 0 {
                "–".to_owned()
            } else {
                ms(1e6 * cpu.as_secs_f64() / entry.calls as f64)
            }
        };
        rows.push(vec![
            entry.kind.label().to_owned(),
            entry.route.label(),
            if entry.calls == 0 {
                "**fails**".to_owned()
            } else {
                ms(entry.latency.percentile(50.0) as f64)
            },
            ms(entry.latency.percentile(99.0) as f64),
            ms(entry.latency.mean()),
            entry
                .parse_cpu_per_call
                .map_or("–".to_owned(), |cpu| ms(1e6 * cpu.as_secs_f64())),
            entry.webhook_cpu.map_or("–".to_owned(), per_call),
            crate::run::grouped(entry.calls),
            entry.errors.to_string(),
        ]);
    }
    crate::run::print_table(
        &[
            "call",
            "served by",
            "p50",
            "p99",
            "mean",
            "Parse Server CPU/call",
            "webhook CPU/call",
            "calls",
            "errors",
        ],
        &rows,
    );
    println!();
    let mut goals = Vec::new();
    let mut kinds: Vec<CallKind> = Vec::new();
    for entry in series {
        if !kinds.contains(&entry.kind) {
            kinds.push(entry.kind);
        }
    }
    for kind in kinds {
        let goal = kind.goal_ms();
        let find = |peer| {
            series
                .iter()
                .find(|s| s.kind == kind && s.route == Route::Webhook(peer) && s.calls > 0)
        };
        if let (Some(ours), Some(raw)) = (find(Peer::Ours), find(Peer::RawHyper)) {
            let mut row = vec![kind.label().to_owned()];
            let mut verdicts = Vec::new();
            for percent in [50.0, 99.0] {
                let difference = Difference::of(&ours.samples, &raw.samples, percent);
                let verdict = difference.verdict(goal);
                row.push(format!(
                    "{:+.3} ms ({:+.3} to {:+.3}): {}",
                    difference.estimate,
                    difference.low,
                    difference.high,
                    verdict.label()
                ));
                verdicts.push(verdict);
            }
            let verdict = if verdicts.iter().all(|v| *v == Verdict::Met) {
                "met"
            } else if verdicts.contains(&Verdict::Missed) {
                "**missed**"
            } else {
                "not told apart by this run"
            };
            row.push(format!("{verdict} (both ≤ {goal} ms)"));
            goals.push(row);
        }
    }
    if !goals.is_empty() {
        crate::run::print_table(
            &[
                "call",
                "p50 ours − raw hyper (95 % interval)",
                "p99 ours − raw hyper (95 % interval)",
                "goal",
            ],
            &goals,
        );
        println!();
        println!(
            "Intervals: 95 %, from {BOOTSTRAP_ROUNDS} bootstrap resamplings of each route's \
             measured calls. \"met\": the whole interval is at most the goal; \"missed\": \
             the whole interval is above it; \"cannot tell\": the interval straddles the \
             goal, so this run's noise is wider than the goal."
        );
    }
    let failures: Vec<&Series> = series.iter().filter(|s| s.errors > 0).collect();
    if !failures.is_empty() {
        println!();
        println!("First error of each route with errors:");
        println!();
        for entry in failures {
            println!(
                "- {} via {}: {}",
                entry.kind.label(),
                entry.route.label(),
                entry
                    .first_error
                    .as_deref()
                    .unwrap_or("?")
                    .replace('\n', " ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Latencies around 1.7 ms with a tail, as the end-to-end calls have (µs).
    fn latencies(seed: u64, shift: u64) -> Vec<u64> {
        let mut rng = Shuffle(seed);
        (0..4000)
            .map(|_| {
                let base = 1600 + rng.below(200) as u64;
                let tail = if rng.below(50) == 0 {
                    rng.below(3000) as u64
                } else {
                    0
                };
                base + tail + shift
            })
            .collect()
    }

    #[test]
    fn top_scores_replies_must_be_the_ten_highest_above_100() {
        let scores = |scores: &[u32]| {
            let results: Vec<Value> = scores.iter().map(|s| json!({ "score": s })).collect();
            serde_json::to_vec(&json!({ "result": results })).expect("JSON")
        };
        let top = [999, 990, 700, 700, 500, 300, 250, 200, 150, 101];
        assert_eq!(check(CallKind::TopScores, 0, 200, &scores(&top)), Ok(None));
        let mut unordered = top;
        unordered.swap(0, 1);
        for wrong in [
            &unordered[..],
            &top[..9],
            &[999, 990, 700, 700, 500, 300, 250, 200, 150, 100],
        ] {
            assert!(check(CallKind::TopScores, 0, 200, &scores(wrong)).is_err());
        }
        assert!(check(CallKind::TopScores, 0, 400, &scores(&top)).is_err());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut values: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut values, 50.0), 50.0);
        assert_eq!(percentile(&mut values, 99.0), 99.0);
        assert_eq!(percentile(&mut values, 100.0), 100.0);
        assert_eq!(percentile(&mut [], 99.0), 0.0);
    }

    #[test]
    fn a_shift_far_above_the_goal_is_missed_and_none_is_met_at_the_median() {
        let ours = latencies(7, 1000);
        let theirs = latencies(11, 0);
        let p50 = Difference::of(&ours, &theirs, 50.0);
        assert!((p50.estimate - 1.0).abs() < 0.02, "{p50:?}");
        assert!(
            p50.low <= p50.estimate && p50.estimate <= p50.high,
            "{p50:?}"
        );
        assert_eq!(p50.verdict(GOAL_MS), Verdict::Missed);

        let same = Difference::of(&latencies(3, 0), &latencies(5, 0), 50.0);
        assert!(same.low <= 0.0 && 0.0 <= same.high, "{same:?}");
        assert_eq!(same.verdict(GOAL_MS), Verdict::Met);
    }

    #[test]
    fn a_wide_tail_cannot_be_judged_at_the_goals_resolution() {
        let p99 = Difference::of(&latencies(3, 0), &latencies(5, 0), 99.0);
        assert!(p99.high - p99.low > 2.0 * GOAL_MS, "{p99:?}");
        assert_eq!(p99.verdict(GOAL_MS), Verdict::Unresolved);
    }
}
