//! Part 1 of the `bench` driver: throughput and latency of each webhook server under a
//! closed-loop load on kept-alive connections, every reply checked.
//!
//! A *cell* is one server and one payload: the server is started fresh (pinned to its
//! core), `connections` sessions each make one call at a time for the warm-up, then for the
//! measuring window; only calls that complete inside the window count for throughput and
//! latency. The server's CPU time and the load generator's own are read from `/proc` at the
//! window's ends, the server's peak RSS (VmHWM) before it is killed. Cells are repeated
//! in rounds (all cells once per round, so noise from other processes spreads over all of
//! them) and summarized by medians.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::histogram::Histogram;
use crate::procfs;
use crate::run::micros;
use crate::servers::{Peer, Programs};
use crate::wire::Connection;
use crate::workload::{Checker, Hook, Payload, Request, Workload};

/// How each cell is run.
#[derive(Clone, Debug)]
pub struct CellSettings {
    /// Calls before the window (connections are opened then too).
    pub warmup: Duration,
    /// The measuring window.
    pub window: Duration,
    /// Sessions (kept-alive connections, one call at a time each).
    pub connections: usize,
    /// A call without a complete reply after this long fails (and its connection is
    /// dropped).
    pub timeout: Duration,
}

/// What one cell measured.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    /// Calls that succeeded inside the window.
    pub ok: u64,
    /// The window's length.
    pub window: Duration,
    /// Latency of the calls that succeeded inside the window (µs).
    pub latency: Histogram,
    /// Calls that failed, in the warm-up and the window.
    pub errors: u64,
    /// Calls that succeeded in the warm-up.
    pub warmup_ok: u64,
    /// Failed calls by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// The first failure, in full.
    pub first_error: Option<String>,
    /// Every warm-up call failed: the window was skipped.
    pub failing: bool,
    /// CPU time the server used in the window.
    pub server_cpu: Option<Duration>,
    /// CPU time the load generator used in the window.
    pub client_cpu: Option<Duration>,
    /// The server's peak resident memory (VmHWM), in bytes.
    pub peak_rss: Option<u64>,
    /// The server died during the cell.
    pub crashed: Option<String>,
}

impl Cell {
    /// Successful calls per second in the window.
    pub fn rate(&self) -> f64 {
        if self.window.is_zero() {
            0.0
        } else {
            self.ok as f64 / self.window.as_secs_f64()
        }
    }

    /// CPU time used in the window, in % of one core.
    fn percent(&self, cpu: Option<Duration>) -> Option<f64> {
        let cpu = cpu?;
        (!self.window.is_zero()).then(|| 100.0 * cpu.as_secs_f64() / self.window.as_secs_f64())
    }

    /// The server's CPU use in the window, in % of one core.
    pub fn server_percent(&self) -> Option<f64> {
        self.percent(self.server_cpu)
    }

    /// The load generator's CPU use in the window, in % of one core.
    pub fn client_percent(&self) -> Option<f64> {
        self.percent(self.client_cpu)
    }

    fn fail(&mut self, kind: String, message: String) {
        self.errors += 1;
        *self.error_kinds.entry(kind).or_default() += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message);
        }
    }

    fn merge(&mut self, other: Cell) {
        self.ok += other.ok;
        self.warmup_ok += other.warmup_ok;
        self.latency.merge(&other.latency);
        self.errors += other.errors;
        for (kind, count) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += count;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// What the sessions of a cell share.
struct Shared {
    addr: SocketAddr,
    workload: Arc<Workload>,
    next_call: AtomicU64,
    window_start: Instant,
    end: Instant,
    timeout: Duration,
    warmup_ok: AtomicU64,
    warmup_failed: AtomicU64,
    abort: AtomicBool,
}

/// Runs the load of one cell against a server already listening at `addr` (on the
/// current Tokio runtime); `server_pid` is read from `/proc`.
pub async fn run_cell(
    addr: SocketAddr,
    server_pid: u32,
    workload: Arc<Workload>,
    requests: Vec<Request>,
    settings: &CellSettings,
) -> Cell {
    let started = Instant::now();
    let shared = Arc::new(Shared {
        addr,
        workload,
        next_call: AtomicU64::new(0),
        window_start: started + settings.warmup,
        end: started + settings.warmup + settings.window,
        timeout: settings.timeout,
        warmup_ok: AtomicU64::new(0),
        warmup_failed: AtomicU64::new(0),
        abort: AtomicBool::new(false),
    });
    let sessions: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(session(Arc::clone(&shared), request)))
        .collect();

    let me = std::process::id();
    tokio::time::sleep_until(shared.window_start.into()).await;
    let server_before = procfs::cpu_time(server_pid).ok();
    let client_before = procfs::cpu_time(me).ok();
    let failing = shared.warmup_ok.load(Ordering::Relaxed) == 0
        && shared.warmup_failed.load(Ordering::Relaxed) > 0;
    if failing {
        shared.abort.store(true, Ordering::Relaxed);
    } else {
        tokio::time::sleep_until(shared.end.into()).await;
    }
    let server_after = procfs::cpu_time(server_pid).ok();
    let client_after = procfs::cpu_time(me).ok();

    let mut cell = Cell::default();
    for session in sessions {
        match session.await {
            Ok(result) => cell.merge(result),
            Err(error) => cell.fail("load generator".to_owned(), error.to_string()),
        }
    }
    cell.failing = failing;
    if !failing {
        cell.window = settings.window;
        cell.server_cpu = server_before
            .zip(server_after)
            .map(|(before, after)| after.saturating_sub(before));
        cell.client_cpu = client_before
            .zip(client_after)
            .map(|(before, after)| after.saturating_sub(before));
    }
    cell.peak_rss = procfs::peak_rss(server_pid).ok();
    cell
}

/// One connection making calls until the end of the window.
async fn session(shared: Arc<Shared>, mut request: Request) -> Cell {
    let mut cell = Cell::default();
    let mut connection: Option<Connection> = None;
    let mut checker = Checker::default();
    loop {
        let now = Instant::now();
        if now >= shared.end || shared.abort.load(Ordering::Relaxed) {
            break;
        }
        let n = shared.next_call.fetch_add(1, Ordering::Relaxed);
        let open = match connection.as_mut() {
            Some(open) => open,
            None => match tokio::time::timeout(shared.timeout, Connection::open(shared.addr)).await
            {
                Ok(Ok(opened)) => connection.insert(opened),
                Ok(Err(error)) => {
                    record_failure(&shared, &mut cell, Instant::now(), error.kind(), &error);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(_) => {
                    let message = "no connection within the timeout";
                    record_failure(
                        &shared,
                        &mut cell,
                        Instant::now(),
                        "connect: timeout".to_owned(),
                        &message,
                    );
                    continue;
                }
            },
        };
        let sent = Instant::now();
        let outcome = tokio::time::timeout(shared.timeout, open.call(request.for_call(n))).await;
        let done = Instant::now();
        let (verdict, keep) = match outcome {
            Ok(Ok(reply)) => (
                shared
                    .workload
                    .check_with(&mut checker, n, reply.status, reply.body)
                    .map_err(|bad| (bad.kind(), bad.to_string())),
                !reply.close,
            ),
            Ok(Err(error)) => (Err((error.kind(), error.to_string())), false),
            Err(_) => (
                Err((
                    "no reply within the timeout".to_owned(),
                    format!("no reply within {:?}", shared.timeout),
                )),
                false,
            ),
        };
        if !keep {
            connection = None;
        }
        match verdict {
            Ok(()) => {
                if done < shared.window_start {
                    cell.warmup_ok += 1;
                    shared.warmup_ok.fetch_add(1, Ordering::Relaxed);
                } else if done <= shared.end {
                    cell.ok += 1;
                    cell.latency.record(micros(done - sent));
                }
            }
            Err((kind, message)) => {
                record_failure(
                    &shared,
                    &mut cell,
                    done,
                    kind,
                    &format!("call {n}: {message}"),
                );
            }
        }
    }
    cell
}

fn record_failure(
    shared: &Shared,
    cell: &mut Cell,
    at: Instant,
    kind: String,
    message: &dyn std::fmt::Display,
) {
    if at < shared.window_start {
        shared.warmup_failed.fetch_add(1, Ordering::Relaxed);
    } else if at > shared.end {
        return;
    }
    cell.fail(kind, message.to_string());
}

/// The requests of `connections` sessions calling `peer` with `workload`.
pub fn requests(
    peer: Peer,
    workload: &Workload,
    addr: SocketAddr,
    key: &str,
    connections: usize,
) -> Vec<Request> {
    let path = match workload.payload.hook() {
        Hook::Function => peer.function_path("echo"),
        Hook::BeforeSave => peer.before_save_path("GameScore"),
        Hook::AfterFind => peer.after_find_path("GameScore"),
    };
    let request = workload.request(&path, &addr.to_string(), key);
    vec![request; connections]
}

/// Every round's cell of one server and one payload.
#[derive(Debug)]
pub struct Series {
    /// The server.
    pub peer: Peer,
    /// The payload.
    pub payload: Payload,
    /// The connections used.
    pub connections: usize,
    /// One cell per round.
    pub cells: Vec<Cell>,
    /// Why the server is not measured with this payload (it cannot serve the hook).
    pub not_applicable: Option<&'static str>,
}

impl Series {
    fn measured(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(|cell| !cell.failing && cell.ok > 0)
    }

    /// Whether no round measured a successful call.
    pub fn failed(&self) -> bool {
        self.measured().next().is_none()
    }

    /// The median throughput over rounds.
    pub fn rate(&self) -> Option<f64> {
        median(self.measured().map(Cell::rate).collect())
    }

    /// The median of a latency percentile over rounds (µs).
    pub fn percentile(&self, percent: f64) -> Option<f64> {
        median(
            self.measured()
                .map(|cell| cell.latency.percentile(percent) as f64)
                .collect(),
        )
    }

    /// The spread of throughput over rounds: (max - min) / median.
    pub fn spread(&self) -> Option<f64> {
        let rates: Vec<f64> = self.measured().map(Cell::rate).collect();
        if rates.len() < 2 {
            return None;
        }
        let max = rates.iter().copied().fold(f64::MIN, f64::max);
        let min = rates.iter().copied().fold(f64::MAX, f64::min);
        median(rates).map(|m| (max - min) / m)
    }

    /// The largest peak RSS over rounds.
    pub fn peak_rss(&self) -> Option<u64> {
        self.cells.iter().filter_map(|cell| cell.peak_rss).max()
    }

    /// The median server CPU use (% of one core).
    pub fn server_percent(&self) -> Option<f64> {
        median(self.measured().filter_map(Cell::server_percent).collect())
    }

    /// The median server CPU time per successful call (µs): unlike throughput, hardly
    /// changed when other processes take turns on the server's core.
    pub fn server_cpu_per_call(&self) -> Option<f64> {
        median(
            self.measured()
                .filter_map(|cell| Some(1e6 * cell.server_cpu?.as_secs_f64() / cell.ok as f64))
                .collect(),
        )
    }

    /// The median load generator CPU use (% of one core).
    pub fn client_percent(&self) -> Option<f64> {
        median(self.measured().filter_map(Cell::client_percent).collect())
    }

    /// Failed calls over every round.
    pub fn errors(&self) -> u64 {
        self.cells.iter().map(|cell| cell.errors).sum()
    }

    /// Failed calls by kind over every round.
    pub fn error_kinds(&self) -> BTreeMap<String, u64> {
        let mut kinds = BTreeMap::new();
        for cell in &self.cells {
            for (kind, count) in &cell.error_kinds {
                *kinds.entry(kind.clone()).or_default() += count;
            }
        }
        kinds
    }

    /// The first failure of any round.
    pub fn first_error(&self) -> Option<&str> {
        self.cells
            .iter()
            .find_map(|cell| cell.first_error.as_deref().or(cell.crashed.as_deref()))
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// Everything the load part needs.
#[derive(Debug)]
pub struct Comparison {
    /// How to start the servers.
    pub programs: Programs,
    /// The servers compared.
    pub peers: Vec<Peer>,
    /// The payloads sent.
    pub payloads: Vec<Payload>,
    /// Connections per payload (same order as `payloads`).
    pub connections: Vec<usize>,
    /// Warm-up, window and timeout (connections are taken from `connections`).
    pub settings: CellSettings,
    /// How often every cell is measured.
    pub rounds: usize,
    /// The CPU the servers are pinned to.
    pub server_cpu: Option<usize>,
}

impl Comparison {
    /// Runs every cell `rounds` times, reporting progress on stderr. A server that fails
    /// every warm-up call of a payload is not measured again with it.
    pub fn run(&self, runtime: &tokio::runtime::Runtime) -> Vec<Series> {
        let workloads: Vec<Arc<Workload>> = self
            .payloads
            .iter()
            .map(|payload| Arc::new(Workload::new(*payload)))
            .collect();
        let mut series: Vec<Series> = Vec::new();
        // The indices in `series` of the cells measured, one group per payload.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (index, payload) in self.payloads.iter().enumerate() {
            let mut group = Vec::new();
            for peer in &self.peers {
                let not_applicable = match peer.measures(*payload) {
                    Ok(()) => None,
                    Err(Some(why)) => Some(why),
                    Err(None) => continue,
                };
                if not_applicable.is_none() {
                    group.push(series.len());
                }
                series.push(Series {
                    peer: *peer,
                    payload: *payload,
                    connections: self.connections[index],
                    cells: Vec::new(),
                    not_applicable,
                });
            }
            groups.push(group);
        }
        let key = format!("bench-{}", std::process::id());
        // The machine's first seconds of load run slower (a VM's vCPUs waking, caches
        // filling): a cell whose figures are dropped takes them.
        if let Some(first) = groups.iter().flatten().next().map(|&index| &series[index]) {
            let peer = first.peer;
            eprint!("warming up the machine with {peer} ... ");
            let settings = CellSettings {
                connections: first.connections,
                ..self.settings.clone()
            };
            let workload = self.workload(&workloads, first.payload);
            let cell = self.run_cell(runtime, peer, workload, &settings, &key);
            eprintln!("{} (not counted)", progress(&cell));
        }
        for round in 1..=self.rounds {
            // Servers take turns going first: every other round runs each payload's
            // servers in reverse order, so no server always follows the same one.
            let mut order: Vec<usize> = Vec::new();
            for group in &groups {
                if round % 2 == 0 {
                    order.extend(group.iter().rev());
                } else {
                    order.extend(group);
                }
            }
            for index in order {
                let entry = &mut series[index];
                if entry.cells.iter().any(|cell| cell.failing) {
                    continue;
                }
                let workload = self.workload(&workloads, entry.payload);
                let settings = CellSettings {
                    connections: entry.connections,
                    ..self.settings.clone()
                };
                eprint!(
                    "round {round}/{}: {} with {} ({} connections) ... ",
                    self.rounds, entry.payload, entry.peer, settings.connections
                );
                let cell = self.run_cell(runtime, entry.peer, workload, &settings, &key);
                eprintln!("{}", progress(&cell));
                entry.cells.push(cell);
            }
        }
        series
    }

    /// The workload of `payload`, one of the comparison's.
    fn workload(&self, workloads: &[Arc<Workload>], payload: Payload) -> Arc<Workload> {
        let index = self
            .payloads
            .iter()
            .position(|p| *p == payload)
            .expect("a payload of the comparison");
        Arc::clone(&workloads[index])
    }

    fn run_cell(
        &self,
        runtime: &tokio::runtime::Runtime,
        peer: Peer,
        workload: Arc<Workload>,
        settings: &CellSettings,
        key: &str,
    ) -> Cell {
        let mut server = match self.programs.start(peer, key, self.server_cpu, None) {
            Ok(server) => server,
            Err(error) => {
                let mut cell = Cell {
                    failing: true,
                    ..Cell::default()
                };
                cell.fail("server did not start".to_owned(), error);
                return cell;
            }
        };
        let requests = requests(peer, &workload, server.addr, key, settings.connections);
        let mut cell = runtime.block_on(run_cell(
            server.addr,
            server.pid,
            workload,
            requests,
            settings,
        ));
        if !server.is_running() {
            cell.crashed = Some(format!(
                "{peer} exited during the run; its log:\n{}",
                server.log_tail()
            ));
        }
        server.stop();
        cell
    }
}

fn progress(cell: &Cell) -> String {
    let mut text = if cell.failing {
        "FAILS".to_owned()
    } else {
        format!(
            "{:.0} calls/s, p50 {}, p99 {}",
            cell.rate(),
            ms(cell.latency.percentile(50.0) as f64),
            ms(cell.latency.percentile(99.0) as f64)
        )
    };
    if let Some(client) = cell.client_percent() {
        let _ = write!(text, ", client CPU {client:.0} %");
    }
    if cell.errors > 0 {
        let _ = write!(text, ", {} errors", cell.errors);
    }
    text
}

/// Microseconds as milliseconds, with two or three decimals.
pub fn ms(micros: f64) -> String {
    let millis = micros / 1000.0;
    if millis < 1.0 {
        format!("{millis:.3} ms")
    } else {
        format!("{millis:.2} ms")
    }
}

/// Prints the load part's tables (Markdown) and notes.
pub fn print_tables(series: &[Series], comparison: &Comparison) {
    let mut rows = Vec::new();
    for entry in series {
        if entry.not_applicable.is_some() {
            let mut row = vec![
                entry.payload.label().to_owned(),
                entry.peer.label().to_owned(),
                entry.connections.to_string(),
                "n/a".to_owned(),
            ];
            row.extend(std::iter::repeat_n("–".to_owned(), 8));
            rows.push(row);
            continue;
        }
        let failed = entry.failed();
        let rate = entry.rate();
        let kinds: Vec<String> = entry
            .error_kinds()
            .into_iter()
            .map(|(kind, count)| format!("{count} × {kind}"))
            .collect();
        rows.push(vec![
            entry.payload.label().to_owned(),
            entry.peer.label().to_owned(),
            entry.connections.to_string(),
            if failed {
                "**fails**".to_owned()
            } else {
                rate.map_or("n/a".to_owned(), |r| crate::run::grouped(r.round() as u64))
            },
            entry
                .spread()
                .map_or("–".to_owned(), |s| format!("±{:.0} %", 50.0 * s)),
            entry.percentile(50.0).map_or("–".to_owned(), ms),
            entry.percentile(99.0).map_or("–".to_owned(), ms),
            entry.peak_rss().map_or("n/a".to_owned(), procfs::mib),
            entry
                .server_percent()
                .map_or("–".to_owned(), |p| format!("{p:.0} %")),
            entry
                .server_cpu_per_call()
                .map_or("–".to_owned(), |us| format!("{us:.1} µs")),
            entry
                .client_percent()
                .map_or("–".to_owned(), |p| format!("{p:.0} %")),
            if kinds.is_empty() {
                "0".to_owned()
            } else {
                kinds.join(", ")
            },
        ]);
    }
    crate::run::print_table(
        &[
            "payload",
            "server",
            "conns",
            "calls/s",
            "spread",
            "p50",
            "p99",
            "peak RSS",
            "server CPU",
            "CPU/call",
            "client CPU",
            "errors",
        ],
        &rows,
    );
    let not_applicable: Vec<&Series> = series
        .iter()
        .filter(|s| s.not_applicable.is_some())
        .collect();
    if !not_applicable.is_empty() {
        println!();
        for entry in not_applicable {
            println!(
                "n/a: {} with {}: not measured: {}.",
                entry.peer,
                entry.payload,
                entry.not_applicable.unwrap_or("?")
            );
        }
    }
    println!();
    print_ratios(series, comparison);
    let failures: Vec<&Series> = series.iter().filter(|s| s.errors() > 0).collect();
    if !failures.is_empty() {
        println!();
        println!("First error of each server and payload with errors:");
        println!();
        for entry in failures {
            let mut first = entry.first_error().unwrap_or("?").replace('\n', " ");
            if first.chars().count() > 300 {
                first = first.chars().take(300).collect::<String>() + "…";
            }
            println!("- {} with {}: {first}", entry.peer, entry.payload);
        }
    }
    let busy: Vec<String> = series
        .iter()
        .filter(|s| s.client_percent().is_some_and(|p| p >= 90.0))
        .map(|s| format!("{} with {}", s.peer, s.payload))
        .collect();
    if !busy.is_empty() {
        println!();
        println!(
            "Note: the load generator used ≥ 90 % of its core for {}: there, the figure is a \
             lower bound of what the server can do.",
            busy.join("; ")
        );
    }
}

fn find(series: &[Series], peer: Peer, payload: Payload) -> Option<&Series> {
    series
        .iter()
        .find(|s| s.peer == peer && s.payload == payload)
}

/// `ours / other` of throughput, or why there is none.
fn ratio(ours: Option<&Series>, other: Option<&Series>) -> Option<f64> {
    let ours = ours?.rate()?;
    let other = other.filter(|other| other.not_applicable.is_none())?;
    if other.failed() {
        return Some(f64::INFINITY);
    }
    Some(ours / other.rate()?)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

fn show_ratio(value: Option<f64>) -> String {
    match value {
        None => "n/a".to_owned(),
        Some(v) if v.is_infinite() => "∞ (it fails)".to_owned(),
        Some(v) => format!("{v:.2}"),
    }
}

/// The goals of a payload's row of the ratio table.
struct Goals {
    /// The least ours / raw hyper (throughput, and CPU per call).
    raw_hyper: f64,
    /// The least ours / Express 5.
    express: f64,
    /// The reference figure of raw hyper / Express 5.
    reference: Option<&'static str>,
}

impl Goals {
    fn of(payload: Payload) -> Goals {
        match payload {
            Payload::Function => Goals {
                raw_hyper: 0.95,
                express: 1.0,
                reference: Some("13"),
            },
            Payload::Save10K => Goals {
                raw_hyper: 0.95,
                express: 2.0,
                reference: Some("1.7"),
            },
            Payload::Save1M => Goals {
                raw_hyper: 0.95,
                express: 2.0,
                reference: Some("0.67"),
            },
            // Ours keeps each result as text and splits none of them: against a server
            // that builds a value of every result, it has the most to gain.
            Payload::AfterFind1K => Goals {
                raw_hyper: 4.0,
                express: 3.0,
                reference: None,
            },
        }
    }
}

/// The least variant of ours / ours ([`Peer::VARIANTS_OF_OURS`]), by throughput, CPU per
/// call and instructions per call: a handler taking its object as a struct should cost
/// about what one reading the same fields costs, and recording metrics about nothing.
pub const VARIANT_GOAL: f64 = 0.95;

/// The heading of `variant` / ours, with its goal.
pub fn variant_heading(variant: Peer) -> String {
    format!(
        "{} / ours (goal ≥ {VARIANT_GOAL}: about the same)",
        variant.id()
    )
}

/// The cells of a variant of ours / ours: throughput, and CPU per call (ours' over the
/// variant's, so that above 1 is faster either way); `–` where the variant was not
/// measured.
fn variant_ratios(variant: Option<&Series>, ours: Option<&Series>) -> [String; 2] {
    let Some(variant) = variant.filter(|s| s.not_applicable.is_none()) else {
        return ["–".to_owned(), "–".to_owned()];
    };
    let by_rate = if variant.failed() {
        Some(0.0)
    } else {
        variant
            .rate()
            .zip(ours.and_then(Series::rate))
            .map(|(v, o)| v / o)
    };
    let by_cpu = variant
        .server_cpu_per_call()
        .zip(ours.and_then(Series::server_cpu_per_call))
        .map(|(variant, ours)| ours / variant);
    [by_rate, by_cpu].map(|value| {
        format!(
            "{} ({})",
            show_ratio(value),
            verdict(value.is_some_and(|r| r >= VARIANT_GOAL))
        )
    })
}

fn print_ratios(series: &[Series], comparison: &Comparison) {
    // The column of raw hyper keeping afterFind results as text, when it was measured.
    let with_raw_value = series
        .iter()
        .any(|s| s.peer == Peer::RawHyperRawValue && s.not_applicable.is_none());
    // The columns of each variant of ours against ours (the typed beforeSave, metrics),
    // when it was measured.
    let variants: Vec<Peer> = Peer::VARIANTS_OF_OURS
        .into_iter()
        .filter(|&variant| {
            series
                .iter()
                .any(|s| s.peer == variant && s.not_applicable.is_none())
        })
        .collect();
    // The columns of the Node.js peers, when one of them was in the run (without them,
    // each would read "n/a (missed)").
    let with_node = comparison.peers.iter().any(|peer| peer.is_node());
    let mut rows = Vec::new();
    for payload in &comparison.payloads {
        let goals = Goals::of(*payload);
        let ours = find(series, Peer::Ours, *payload);
        let raw = find(series, Peer::RawHyper, *payload);
        let raw_value = find(series, Peer::RawHyperRawValue, *payload);
        let express = find(series, Peer::Express, *payload);
        let pce = find(series, Peer::ParseCloudExpress, *payload);
        let ours_raw = ratio(ours, raw);
        let cpu_ratio = ours
            .and_then(Series::server_cpu_per_call)
            .zip(raw.and_then(Series::server_cpu_per_call))
            .map(|(ours, raw)| raw / ours);
        let ours_express = ratio(ours, express);
        let ours_pce = ratio(ours, pce);
        let p99 = |s: Option<&Series>| s.and_then(|s| s.percentile(99.0));
        let ours_p99 = p99(ours);
        let lower_p99 = [express, pce]
            .into_iter()
            .flatten()
            .filter(|peer| peer.not_applicable.is_none())
            .all(|peer| match (ours_p99, p99(Some(peer))) {
                (Some(o), Some(p)) => o < p,
                (Some(_), None) => peer.failed(),
                _ => false,
            });
        let mut row = vec![
            payload.label().to_owned(),
            format!(
                "{} ({})",
                show_ratio(ours_raw),
                verdict(ours_raw.is_some_and(|r| r >= goals.raw_hyper))
            ),
            format!(
                "{} ({})",
                show_ratio(cpu_ratio),
                verdict(cpu_ratio.is_some_and(|r| r >= goals.raw_hyper))
            ),
        ];
        if with_raw_value {
            row.push(
                raw_value
                    .filter(|s| s.not_applicable.is_none())
                    .map_or("–".to_owned(), |s| show_ratio(ratio(ours, Some(s)))),
            );
        }
        for &variant in &variants {
            row.extend(variant_ratios(find(series, variant, *payload), ours));
        }
        if !with_node {
            rows.push(row);
            continue;
        }
        row.extend([
            format!(
                "{} ({})",
                show_ratio(ours_express),
                verdict(ours_express.is_some_and(|r| r >= goals.express))
            ),
            match pce {
                Some(pce) if pce.not_applicable.is_some() => "n/a (no such hook)".to_owned(),
                _ => format!(
                    "{} ({})",
                    show_ratio(ours_pce),
                    verdict(ours_pce.is_some_and(|r| r > 1.0))
                ),
            },
            format!(
                "{} vs {} / {} ({})",
                ours_p99.map_or("–".to_owned(), ms),
                p99(express).map_or("–".to_owned(), ms),
                pce.map_or("–".to_owned(), |s| {
                    if s.not_applicable.is_some() {
                        "n/a".to_owned()
                    } else if s.failed() {
                        "fails".to_owned()
                    } else {
                        s.percentile(99.0).map_or("–".to_owned(), ms)
                    }
                }),
                verdict(ours_p99.is_some() && lower_p99)
            ),
            format!(
                "{} (reference {})",
                show_ratio(ratio(raw, express)),
                goals.reference.unwrap_or("–")
            ),
        ]);
        rows.push(row);
    }
    let variant_heads: Vec<String> = variants.iter().map(|&v| variant_heading(v)).collect();
    let mut head = vec![
        "payload",
        "ours / raw hyper (goal ≥ 0.95; ≥ 4 for afterFind)",
        "same, by CPU per call",
    ];
    if with_raw_value {
        head.push("ours / raw hyper, RawValue (no goal)");
    }
    for variant_head in &variant_heads {
        head.extend([variant_head.as_str(), "same, by CPU per call"]);
    }
    if with_node {
        head.extend([
            "ours / Express 5 (goal > 1; ≥ 2 at 10 KB, 1 MB; ≥ 3 for afterFind)",
            "ours / parse-cloud-express (goal > 1)",
            "p99 ours vs Express 5 / parse-cloud-express (goal: lower)",
            "raw hyper / Express 5",
        ]);
    }
    crate::run::print_table(&head, &rows);
}
