//! Running calls: sessions (one kept-alive connection each, one call at a time), a budget of
//! calls they share, and the tally of outcomes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::time::Interval;

use crate::histogram::Histogram;
use crate::payload::{Kind, Mix, Payloads, RequestSettings};
use crate::wire::{Connection, WireError};

/// How many error messages a tally keeps, besides the counts.
const KEPT_MESSAGES: usize = 12;

/// What the sessions call, and how.
#[derive(Debug)]
pub struct Target {
    /// The server's address.
    pub addr: SocketAddr,
    /// The webhook key.
    pub key: String,
    /// Chunk size of request bodies (`0`: one chunk per body).
    pub chunk: usize,
    /// The calls to send.
    pub mix: Mix,
    /// The bodies and expected replies.
    pub payloads: Payloads,
    /// Open a new connection after this many calls on one (`0`: keep each connection).
    pub reconnect_every: u64,
}

/// The calls a phase may make, shared by its sessions: calls are numbered from `first`,
/// and stop at a number or a deadline.
#[derive(Debug)]
pub struct Budget {
    next: AtomicU64,
    end: u64,
    deadline: Option<Instant>,
}

impl Budget {
    /// Calls `first .. first + count`.
    pub fn calls(first: u64, count: u64) -> Budget {
        Budget {
            next: AtomicU64::new(first),
            end: first.saturating_add(count),
            deadline: None,
        }
    }

    /// Calls numbered from `first`, until `deadline`.
    pub fn until(first: u64, deadline: Instant) -> Budget {
        Budget {
            next: AtomicU64::new(first),
            end: u64::MAX,
            deadline: Some(deadline),
        }
    }

    /// The number of the next call to make, if any is left.
    fn claim(&self) -> Option<u64> {
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (n < self.end).then_some(n)
    }
}

/// Outcomes of calls, shared by sessions.
#[derive(Debug, Default)]
pub struct Tally {
    succeeded: AtomicU64,
    failed: AtomicU64,
    errors: Mutex<Errors>,
}

#[derive(Debug, Default)]
struct Errors {
    by_kind: BTreeMap<String, u64>,
    first: Vec<String>,
}

impl Tally {
    fn succeeded(&self) {
        self.succeeded.fetch_add(1, Ordering::Relaxed);
    }

    fn failed(&self, kind: String, message: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        *errors.by_kind.entry(kind).or_default() += 1;
        if errors.first.len() < KEPT_MESSAGES {
            errors.first.push(message);
        }
    }

    /// Calls finished, whatever their outcome.
    pub fn calls(&self) -> u64 {
        self.succeeded.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    /// Calls that failed: no reply, not 200, or not the expected body.
    pub fn errors(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Failed calls by kind of error, with the first few messages.
    pub fn error_report(&self) -> (Vec<(String, u64)>, Vec<String>) {
        let errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        let kinds = errors
            .by_kind
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        (kinds, errors.first.clone())
    }

    /// Prints the errors by kind and the first messages, if there were errors.
    pub fn print_errors(&self, title: &str) {
        let (kinds, first) = self.error_report();
        if kinds.is_empty() {
            return;
        }
        println!("\n{title}, by kind:");
        for (kind, count) in kinds {
            println!("  {count:>8}  {kind}");
        }
        println!("first errors:");
        for message in first {
            println!("  {message}");
        }
    }
}

/// One client connection sending calls one after another, as one of Parse Server's
/// kept-alive sockets does.
#[derive(Debug)]
pub struct Session {
    target: Arc<Target>,
    id: usize,
    host: String,
    connection: Option<Connection>,
    /// Calls sent on the current connection.
    calls_on_connection: u64,
    request: Vec<u8>,
    scratch: Vec<u8>,
    /// Latency of the calls that got a reply, in microseconds, from the first byte sent
    /// (or the connect, when one was needed) to the last byte of the reply.
    pub latency: Histogram,
    /// Connections opened.
    pub connects: u64,
}

impl Session {
    /// A session numbered `id`, not yet connected.
    pub fn new(target: Arc<Target>, id: usize) -> Session {
        let host = target.addr.to_string();
        Session {
            target,
            id,
            host,
            connection: None,
            calls_on_connection: 0,
            request: Vec::with_capacity(4096),
            scratch: Vec::with_capacity(4096),
            latency: Histogram::new(),
            connects: 0,
        }
    }

    /// Opens the connection now (otherwise the first call does).
    pub async fn connect(&mut self) -> Result<(), WireError> {
        let connection = Connection::open(self.target.addr).await?;
        self.connection = Some(connection);
        self.calls_on_connection = 0;
        self.connects += 1;
        Ok(())
    }

    /// Makes calls from `budget` until it runs out, waiting for `pace` before each.
    pub async fn run(&mut self, budget: &Budget, tally: &Tally, mut pace: Option<Interval>) {
        loop {
            if let Some(pace) = pace.as_mut() {
                pace.tick().await;
            }
            let Some(n) = budget.claim() else {
                return;
            };
            self.call(n, tally).await;
        }
    }

    /// Makes call number `n` and counts its outcome.
    async fn call(&mut self, n: u64, tally: &Tally) {
        let target = Arc::clone(&self.target);
        let kind = target.mix.kind(n);
        self.request.clear();
        let settings = RequestSettings {
            host: &self.host,
            key: &target.key,
            chunk: target.chunk,
        };
        target
            .payloads
            .write_call(kind, n, &settings, &mut self.scratch, &mut self.request);
        let started = Instant::now();
        let worn_out =
            target.reconnect_every > 0 && self.calls_on_connection >= target.reconnect_every;
        if self.connection.is_none() || worn_out {
            self.connection = None;
            if let Err(error) = self.connect().await {
                self.failed(tally, kind, n, error.kind(), &error);
                // The server is unreachable: do not spin through the budget.
                tokio::time::sleep(Duration::from_millis(10)).await;
                return;
            }
        }
        let connection = self.connection.as_mut().expect("connected above");
        let calls_before = self.calls_on_connection;
        self.calls_on_connection += 1;
        match connection.call(&self.request).await {
            Ok(reply) => {
                self.latency.record(micros(started.elapsed()));
                let close = reply.close;
                let checked = target.payloads.check(kind, n, &reply);
                if close {
                    self.connection = None;
                }
                match checked {
                    Ok(()) => tally.succeeded(),
                    Err(bad) => self.failed(tally, kind, n, bad.kind(), &bad),
                }
            }
            Err(error) => {
                self.connection = None;
                let message = format!("{error} (after {calls_before} calls on the connection)");
                self.failed(tally, kind, n, error.kind(), &message);
            }
        }
    }

    fn failed(
        &self,
        tally: &Tally,
        kind: Kind,
        n: u64,
        error_kind: String,
        message: &dyn std::fmt::Display,
    ) {
        tally.failed(
            format!("{kind}: {error_kind}"),
            format!("call {n} ({kind}) on connection {}: {message}", self.id),
        );
    }
}

/// Waits for the sessions' tasks: their latencies merged, and the connections they opened.
/// A task that failed is reported on stderr under `program`'s name.
pub async fn join_sessions(
    sessions: Vec<tokio::task::JoinHandle<Session>>,
    program: &str,
) -> (Histogram, u64) {
    let mut latency = Histogram::new();
    let mut connects = 0;
    for session in sessions {
        match session.await {
            Ok(session) => {
                latency.merge(&session.latency);
                connects += session.connects;
            }
            Err(error) => eprintln!("{program}: a session failed: {error}"),
        }
    }
    (latency, connects)
}

/// A duration in whole microseconds.
pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Microseconds as milliseconds, for tables.
pub fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

/// A whole number with thin groups of three digits: `100 000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// Prints rows as a Markdown table with aligned columns.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    print_header(header, &widths);
    for row in rows {
        print_row(row, &widths);
    }
}

/// Prints a Markdown table's header with columns at least `widths` wide, for rows printed
/// later with [`print_row`].
pub fn print_header(header: &[&str], widths: &[usize]) {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    print_row(&header, widths);
    let rules: Vec<String> = header
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{}:", "-".repeat(cell.chars().count().max(*width) + 1)))
        .collect();
    println!("|{}|", rules.join("|"));
}

/// Prints one row of a Markdown table, right-aligned in columns at least `widths` wide.
pub fn print_row(cells: &[String], widths: &[usize]) {
    let cells: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:>width$}"))
        .collect();
    println!("| {} |", cells.join(" | "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_hand_out_each_number_once() {
        let budget = Budget::calls(5, 3);
        let claimed: Vec<_> = std::iter::from_fn(|| budget.claim()).collect();
        assert_eq!(claimed, [5, 6, 7]);
        assert_eq!(budget.claim(), None);
        let over = Budget::until(0, Instant::now());
        assert_eq!(over.claim(), None);
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(100_000), "100 000");
        assert_eq!(grouped(1_234_567), "1 234 567");
    }
}
