//! Production hardening, proved against a real Parse Server 9.10.0:
//!
//! - Parse Server keeps its connections to a webhook forever and never retries a call, so our
//!   server must never close an idle kept-alive connection, whatever its read timeout:
//!   [`idle_gaps_around_the_read_timeout_keep_parse_servers_connection`].
//! - Two replicas behind nginx are restarted one after the other (SIGTERM, graceful drain,
//!   start again) under steady load from Parse Server clients, and no call fails:
//!   [`rolling_restart_behind_nginx_fails_no_call`].
//! - What a restart can lose, pinned down in-process and deterministically: a connection
//!   accepted while draining gets the call it was opened for answered:
//!   [`a_connection_accepted_while_draining_gets_its_call_answered`].
//!
//! The first two print their figures (run with `--nocapture` to see them). None asserts on
//! time. Needs `scripts/setup-parse-server` (PostgreSQL, Parse Server, nginx).

#[allow(dead_code)] // this file uses a few of the shared helpers only
mod common;
#[path = "common/processes.rs"]
mod processes;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moralis_webhooks::{Error, FunctionRequest, Hook, Webhooks};
use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
use serde_json::{json, Value};

use processes::{established_peers, free_port, readyz, Nginx, Replica};

// ---------------------------------------------------------------------------------------
// 1. Idle gaps against Parse Server's pooled connection
// ---------------------------------------------------------------------------------------

/// Our server's read timeout in the idle-gap test: the gaps straddle it.
const READ_TIMEOUT: Duration = Duration::from_secs(1);

/// A tiny xorshift generator: random idle gaps without a dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What the test saw around one call.
struct GapCall {
    gap: Duration,
    /// The connections our server held open just before the call (after the gap).
    before: Vec<u16>,
    result: Result<(), String>,
    /// The connections our server held open just after the call.
    after: Vec<u16>,
}

/// Parse Server calls a function of ours, then again after idle gaps shorter than, equal to
/// and longer than our read timeout (1 s). Every call succeeds, and from the kernel's table
/// of TCP connections: Parse Server used one single connection throughout, which our server
/// still held open at the end of every gap (it never closed it as idle).
#[test]
fn idle_gaps_around_the_read_timeout_keep_parse_servers_connection() {
    let started = Instant::now();
    let parse = ParseServer::start(ParseServerOptions::default());
    let name = "idleGapEcho";
    let hooked = common::serve(
        &parse,
        common::keyed().read_timeout(READ_TIMEOUT),
        Webhooks::new().cloud_function(name, |req: FunctionRequest| async move {
            Ok::<_, Error>(json!({"n": req.param::<u64>("n")?}))
        }),
    );
    let url = hooked.url(&Hook::Function {
        name: name.to_owned(),
    });
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected hook URL {url}"));

    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut rng = XorShift(seed);
    let mut gaps: Vec<Duration> = [500, 950, 1000, 1050, 1500, 3000]
        .into_iter()
        .map(Duration::from_millis)
        .collect();
    // Four more anywhere from 0.2 s to 2.5 s.
    gaps.extend((0..4).map(|_| Duration::from_millis(200 + rng.next() % 2300)));

    let call = |n: usize| -> Result<(), String> {
        let (status, body) = parse.try_request(
            "POST",
            &format!("/functions/{name}"),
            &parse.client_headers(),
            Some(&json!({"n": n})),
        )?;
        let expected = json!({"result": {"n": n}});
        if status == 200 && body == expected {
            Ok(())
        } else {
            Err(format!("{status} {body} (expected 200 {expected})"))
        }
    };

    let first = call(0);
    let mut calls = vec![GapCall {
        gap: Duration::ZERO,
        before: Vec::new(),
        result: first,
        after: established_peers(port),
    }];
    for (i, gap) in gaps.iter().enumerate() {
        sleep(*gap);
        let before = established_peers(port);
        let result = call(i + 1);
        let after = established_peers(port);
        calls.push(GapCall {
            gap: *gap,
            before,
            result,
            after,
        });
    }

    let mut report = format!(
        "idle gaps (read timeout {READ_TIMEOUT:?}, random seed {seed}): Parse Server's \
         connections to our port {port}, by Parse Server's port\n"
    );
    let mut connections = BTreeSet::new();
    for (i, c) in calls.iter().enumerate() {
        connections.extend(c.before.iter().chain(&c.after).copied());
        let _ = writeln!(
            report,
            "  call {i:2} after {:>5} ms idle: open before {:?}, after {:?}: {}",
            c.gap.as_millis(),
            c.before,
            c.after,
            match &c.result {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        );
    }
    let failed = calls.iter().filter(|c| c.result.is_err()).count();
    let _ = writeln!(
        report,
        "  {} calls, {failed} failed; {} connection(s) seen: {connections:?}; {:.1} s",
        calls.len(),
        connections.len(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("{report}");

    assert_eq!(failed, 0, "calls failed after idle gaps\n{report}");
    // Every call but the first found the connection of the call before it still open: our
    // server never closed it while idle, not even after 3 s with a 1 s read timeout.
    for c in &calls[1..] {
        assert_eq!(
            c.before.len(),
            1,
            "after {:?} idle, our server did not hold Parse Server's connection open\n{report}",
            c.gap
        );
    }
    // And Parse Server sent every call on that one connection: it never had to reconnect.
    assert_eq!(
        connections.len(),
        1,
        "Parse Server used more than one connection: one was closed under it\n{report}"
    );
}

// ---------------------------------------------------------------------------------------
// 2. Rolling restart behind nginx
// ---------------------------------------------------------------------------------------

/// The replicas' drain delay (`MORALIS_WEBHOOKS_DRAIN_DELAY`).
const DRAIN_DELAY: &str = "1";
/// Client threads calling through Parse Server.
const CLIENTS: usize = 4;
/// How long a restarted replica may take to receive its first call through nginx.
const FIRST_CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// What the clients saw.
#[derive(Default)]
struct Tally {
    functions: AtomicU64,
    creates: AtomicU64,
    /// Failed calls, with the time since the load started.
    failures: Mutex<Vec<String>>,
    /// Calls answered, by replica name and process id.
    served: Mutex<BTreeMap<(String, u32), u64>>,
    /// The objectIds of the objects created.
    created: Mutex<Vec<String>>,
}

impl Tally {
    fn served_by(&self, replica: &str, pid: u32) -> u64 {
        let served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        served.get(&(replica.to_owned(), pid)).copied().unwrap_or(0)
    }

    fn record(&self, replica: &Value, pid: &Value) -> Result<(), String> {
        let (Some(replica), Some(pid)) = (replica.as_str(), pid.as_u64()) else {
            return Err(format!("no replica name and pid: {replica} {pid}"));
        };
        let pid = u32::try_from(pid).map_err(|e| e.to_string())?;
        *self
            .served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((replica.to_owned(), pid))
            .or_default() += 1;
        Ok(())
    }

    fn fail(&self, since: Instant, what: String) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("{:>6.3} s: {what}", since.elapsed().as_secs_f64()));
    }
}

/// Sets the flag when dropped: the load threads stop even if the test panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// One client: alternately calls `whoami` and creates a GameScore (through the beforeSave),
/// checking each answer, until `stop`.
fn client_load(
    parse: &ParseServer,
    client: usize,
    tally: &Tally,
    since: Instant,
    stop: &AtomicBool,
) {
    let headers = parse.client_headers();
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        if i % 2 == 1 {
            tally.functions.fetch_add(1, Ordering::SeqCst);
            match parse.try_request("POST", "/functions/whoami", &headers, Some(&json!({}))) {
                Ok((200, body)) => {
                    let result = &body["result"];
                    if let Err(e) = tally.record(&result["replica"], &result["pid"]) {
                        tally.fail(
                            since,
                            format!("client {client}: whoami answered {body}: {e}"),
                        );
                    }
                }
                Ok((status, body)) => {
                    tally.fail(since, format!("client {client}: whoami: {status} {body}"));
                }
                Err(e) => tally.fail(since, format!("client {client}: whoami: {e}")),
            }
        } else {
            tally.creates.fetch_add(1, Ordering::SeqCst);
            let fields = json!({"score": i, "client": client});
            let created = parse.try_request("POST", "/classes/GameScore", &headers, Some(&fields));
            if let Err(e) = check_create(created, tally) {
                tally.fail(since, format!("client {client}: create: {e}"));
            }
        }
    }
}

/// Checks a create's answer: 201 with the fields the beforeSave set (Parse Server returns
/// them), and records which replica served it.
fn check_create(answer: Result<(u16, Value), String>, tally: &Tally) -> Result<(), String> {
    let (status, body) = answer?;
    if status != 201 {
        return Err(format!("{status} {body}"));
    }
    let (Some(id), Some(true)) = (body["objectId"].as_str(), body["reviewed"].as_bool()) else {
        return Err(format!("answered without the beforeSave's changes: {body}"));
    };
    tally
        .created
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(id.to_owned());
    tally
        .record(&body["servedBy"], &body["servedByPid"])
        .map_err(|e| format!("{body}: {e}"))
}

/// Polls `done` every 10 ms for up to `timeout`.
fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        sleep(Duration::from_millis(10));
    }
    true
}

/// How one replica's restart went.
struct Restart {
    replica: String,
    old_pid: u32,
    new_pid: u32,
    /// When SIGTERM was sent, in seconds since the epoch (as nginx's `$msec`).
    sigterm_at: f64,
    /// Whether `/readyz` answered 503 between SIGTERM and the exit.
    saw_draining: bool,
    /// SIGTERM to exit: the drain delay plus the calls in flight.
    drained: Duration,
    /// Exit to `/readyz` 200 of the new process (start-up and registration).
    started: Duration,
    /// The calls the new process had served by then: it serves while it registers, and
    /// nginx (which does not read `/readyz`) sends it calls as soon as it listens.
    served_when_ready: u64,
}

/// Restarts `replica` as a deployment does: SIGTERM, wait for the exit, start it again on
/// the same port, wait until it is ready and has served a call.
fn restart(replica: &mut Replica, name: &str, tally: &Tally, nginx: &Nginx) -> Restart {
    let old_pid = replica.pid();
    let t0 = Instant::now();
    let sigterm_at = epoch_seconds();
    replica.terminate();
    // Load balancers that read /readyz stop sending once it answers 503 (nginx does not).
    let mut saw_draining = false;
    wait_for(Duration::from_secs(10), || match readyz(replica.port()) {
        Some(503) => {
            saw_draining = true;
            true
        }
        Some(_) => false,
        None => true,
    });
    let status = replica.wait_exit();
    let drained = t0.elapsed();
    assert!(
        status.is_some_and(|s| s.success()),
        "replica {name} did not exit cleanly after SIGTERM: {status:?}\n{}",
        replica.log_tail()
    );
    let t1 = Instant::now();
    replica.spawn();
    let new_pid = replica.pid();
    let started = t1.elapsed();
    let served_when_ready = tally.served_by(name, new_pid);
    assert!(
        wait_for(FIRST_CALL_TIMEOUT, || tally.served_by(name, new_pid) > 0),
        "the restarted replica {name} (pid {new_pid}) served no call within \
         {FIRST_CALL_TIMEOUT:?}\n{}\n{}",
        replica.log_tail(),
        nginx.diagnostics()
    );
    Restart {
        replica: name.to_owned(),
        old_pid,
        new_pid,
        sigterm_at,
        saw_draining,
        drained,
        started,
        served_when_ready,
    }
}

/// Now, in seconds since the epoch.
fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// How to read nginx's errors about a replica, for failure messages.
const READING_NGINX_ERRORS: &str = "How to read nginx's errors about a replica: \
    \"connect() failed (111: Connection refused)\" is expected (its listener is closed; nginx \
    moves the call to the other replica). \"connect() failed (104: Connection reset by peer) \
    while connecting\": the replica closed its listener with this connection still in the \
    kernel's accept queue (nginx could still move the call, as nothing was sent). \
    \"upstream prematurely closed connection\" or \"recv() failed (104: ...) while reading \
    response header\" at the instant the replica logs \"shutting down\", on a connection nginx \
    had just opened (the drain answers Connection: close, so every call opens one): the \
    replica closed a connection whose call it had not read yet (see \
    a_connection_accepted_while_draining_gets_its_call_answered), or reset it in its accept \
    queue; nginx cannot send a POST again, so the call fails.";

/// Counts the lines of `log` that contain `needle`.
fn count_lines(log: &str, needle: &str) -> usize {
    log.lines().filter(|line| line.contains(needle)).count()
}

/// Two `webhook-replica` processes (drain delay 1 s) behind nginx, round robin; Parse Server's
/// hooks point at nginx. Under steady load from client threads calling a cloud function and
/// creating objects (through a beforeSave that changes them) via Parse Server, replica A is
/// restarted (SIGTERM, exit, start on the same port, ready), then replica B. No client call
/// fails, both replicas serve calls before and after their restarts, every created object is
/// stored as the beforeSave changed it, and the replicas handled exactly as many calls as
/// the clients made (none was delivered twice).
#[test]
fn rolling_restart_behind_nginx_fails_no_call() {
    // Before anything starts: a missing nginx fails with the setup advice.
    processes::require_nginx();
    let test_started = Instant::now();
    let parse = ParseServer::start(ParseServerOptions::default());
    let (status, body) =
        parse.post_master("/schemas/GameScore", &json!({"className": "GameScore"}));
    assert_eq!(status, 200, "create class GameScore: {body}");

    let (port_a, port_b) = (free_port(), free_port());
    let nginx = Nginx::start(&[port_a, port_b]);
    let nginx_url = nginx.url();
    let env = [
        ("MORALIS_WEBHOOKS_KEY", common::KEY),
        ("MORALIS_WEBHOOKS_DRAIN_DELAY", DRAIN_DELAY),
        // Each replica registers the hooks at start, under nginx's URL (unchanged after the
        // first: a restart leaves them alone).
        ("PARSE_SERVER_URL", parse.url()),
        ("PARSE_SERVER_APPLICATION_ID", parse.app_id()),
        ("PARSE_SERVER_MASTER_KEY", parse.master_key()),
        ("MORALIS_WEBHOOKS_PUBLIC_URL", &nginx_url),
    ];
    let mut replica_a = Replica::start("A", port_a, &env);
    let mut replica_b = Replica::start("B", port_b, &env);
    let (status, hooks) = parse.get_master("/hooks/functions/whoami");
    assert_eq!(status, 200, "{hooks}");
    assert_eq!(hooks["url"], json!(format!("{nginx_url}/functions/whoami")));

    let tally = Tally::default();
    let stop = AtomicBool::new(false);
    let load_started = Instant::now();
    let (first_pids, restarts) = std::thread::scope(|scope| {
        let _stop_on_exit = StopOnDrop(&stop);
        for client in 0..CLIENTS {
            let (parse, tally, stop) = (&parse, &tally, &stop);
            scope.spawn(move || client_load(parse, client, tally, load_started, stop));
        }
        let first_pids = (replica_a.pid(), replica_b.pid());
        assert!(
            wait_for(FIRST_CALL_TIMEOUT, || {
                tally.served_by("A", first_pids.0) > 0 && tally.served_by("B", first_pids.1) > 0
            }),
            "the replicas did not both serve calls through nginx\n{}",
            nginx.diagnostics()
        );
        // Some steady load before the first restart.
        sleep(Duration::from_millis(1500));
        let restart_a = restart(&mut replica_a, "A", &tally, &nginx);
        sleep(Duration::from_millis(500));
        let restart_b = restart(&mut replica_b, "B", &tally, &nginx);
        // And after the last one.
        sleep(Duration::from_millis(2000));
        stop.store(true, Ordering::SeqCst);
        (first_pids, [restart_a, restart_b])
    });
    let load_time = load_started.elapsed();

    // Stop the replicas now, so that they print how many calls they served.
    let second_pids = (replica_a.pid(), replica_b.pid());
    replica_a.stop();
    replica_b.stop();

    let functions = tally.functions.load(Ordering::SeqCst);
    let creates = tally.creates.load(Ordering::SeqCst);
    let calls = functions + creates;
    let failures = tally
        .failures
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let served = tally
        .served
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let created = tally
        .created
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let by = |name: &str, pid: u32| served.get(&(name.to_owned(), pid)).copied().unwrap_or(0);
    let (a1, b1, a2, b2) = (
        by("A", first_pids.0),
        by("B", first_pids.1),
        by("A", second_pids.0),
        by("B", second_pids.1),
    );
    let handled: BTreeMap<u32, u64> = replica_a
        .served_by_pid()
        .into_iter()
        .chain(replica_b.served_by_pid())
        .collect();
    let handled_total: u64 = handled.values().sum();

    let access = nginx.access_log();
    let errors = nginx.error_log();
    let proxied = count_lines(&access, "\"POST ");
    let moved_on = access
        .lines()
        .filter(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("upstream="))
                .is_some_and(|upstream| upstream.ends_with(','))
        })
        .count();
    // The calls nginx did not simply pass to one replica and back: moved on, or not 200.
    let unusual: Vec<&str> = access
        .lines()
        .filter(|line| {
            !line.contains(" status=200 ")
                || line
                    .split(' ')
                    .find_map(|field| field.strip_prefix("upstream="))
                    .is_some_and(|upstream| upstream.ends_with(','))
        })
        .collect();
    let refused = count_lines(&errors, "(111: Connection refused)");
    let other_errors: Vec<&str> = errors
        .lines()
        .filter(|line| line.contains("[error]") && !line.contains("(111: Connection refused)"))
        .collect();

    let mut report = format!(
        "rolling restart behind nginx: {calls} calls through Parse Server ({functions} whoami, \
         {creates} creates) from {CLIENTS} clients in {:.1} s of load, {} failed\n",
        load_time.as_secs_f64(),
        failures.len()
    );
    let _ = writeln!(
        report,
        "  calls served: A pid {} {a1} before its restart, A pid {} {a2} after; \
         B pid {} {b1} before, B pid {} {b2} after",
        first_pids.0, second_pids.0, first_pids.1, second_pids.1
    );
    for r in &restarts {
        let _ = writeln!(
            report,
            "  restart {}: pid {} -> {}: SIGTERM (at {:.3}) to exit {:.3} s (drain delay \
             {DRAIN_DELAY} s; /readyz 503 seen: {}), start to ready {:.3} s (calls served by \
             then: {})",
            r.replica,
            r.old_pid,
            r.new_pid,
            r.sigterm_at,
            r.drained.as_secs_f64(),
            r.saw_draining,
            r.started.as_secs_f64(),
            r.served_when_ready
        );
    }
    let _ = writeln!(
        report,
        "  nginx: {proxied} calls proxied, {moved_on} moved to the other replica after a \
         refused connection ({refused} refused connects logged), {} other errors",
        other_errors.len()
    );
    let _ = writeln!(
        report,
        "  the replicas' own count of handled calls: {handled:?} = {handled_total}"
    );
    let _ = writeln!(
        report,
        "  whole test {:.1} s",
        test_started.elapsed().as_secs_f64()
    );
    eprintln!("{report}");

    let diagnostics = || {
        format!(
            "--- nginx's calls that moved on or were not 200 ---\n{}\n{}\n{}\n{}\n\
             --- Parse Server log (end) ---\n{}",
            unusual.join("\n"),
            nginx.diagnostics(),
            replica_a.log_tail(),
            replica_b.log_tail(),
            parse
                .log()
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    assert!(
        failures.is_empty(),
        "{} of {calls} calls failed during the rolling restart:\n{}\n{report}\nnginx errors \
         other than refused connects:\n{}\n{READING_NGINX_ERRORS}\n{}",
        failures.len(),
        failures.join("\n"),
        other_errors.join("\n"),
        diagnostics()
    );
    assert!(
        a1 > 0 && a2 > 0 && b1 > 0 && b2 > 0,
        "each replica must serve calls before and after its restart\n{report}"
    );
    for r in &restarts {
        assert!(
            r.saw_draining,
            "replica {}'s /readyz did not answer 503 while it drained\n{report}",
            r.replica
        );
    }
    // Every call reached exactly one handler once: nothing was lost or delivered twice.
    assert_eq!(
        handled_total,
        calls,
        "the replicas handled another number of calls than the clients made\n{report}\n{}",
        diagnostics()
    );
    assert_eq!(
        proxied as u64, calls,
        "nginx proxied another number of calls\n{report}"
    );
    assert_eq!(
        other_errors,
        Vec::<&str>::new(),
        "nginx logged errors other than refused connects\n{READING_NGINX_ERRORS}\n{report}\n{}",
        diagnostics()
    );

    // Every created object is stored, as the beforeSave changed it.
    let (status, body) = parse.get_master("/classes/GameScore?limit=100000&keys=reviewed,servedBy");
    assert_eq!(status, 200, "{body}");
    let stored: BTreeMap<&str, &Value> = body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|object| (object["objectId"].as_str().unwrap_or_default(), object))
        .collect();
    assert_eq!(stored.len() as u64, creates, "stored objects vs creates");
    for id in &created {
        let object = stored
            .get(id.as_str())
            .unwrap_or_else(|| panic!("object {id} was created but is not stored"));
        assert_eq!(object["reviewed"], json!(true), "{object}");
        assert!(
            matches!(object["servedBy"].as_str(), Some("A" | "B")),
            "{object}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. What the rolling restart can lose, pinned down
// ---------------------------------------------------------------------------------------

/// The call a client sends on a connection it opened while the server drained.
const DRAIN_PROBE_CALL: &str = "POST /functions/drainProbe HTTP/1.1\r\nHost: 127.0.0.1\r\n\
    Content-Type: application/json\r\nX-Parse-Webhook-Key: hookkey\r\nContent-Length: 2\r\n\r\n{}";

/// A connection our server accepted while draining gets the call it was opened for
/// answered, even when that call arrives just after the drain delay ended.
///
/// While a replica drains it answers with `Connection: close`, so nginx opens a new
/// connection for every call it still sends there, and writes the call right after the
/// connection is made. When the drain delay ends, the server stops accepting and shuts its
/// connections down gracefully; a connection accepted a moment earlier whose call has not
/// been read yet is closed unanswered (hyper closes HTTP/1 connections that have not read
/// anything yet). nginx cannot send a POST again, Parse Server gets a 502 and the client's
/// call fails: `rolling_restart_behind_nginx_fails_no_call` sees this in some of its runs
/// (nginx: "upstream prematurely closed connection" or "recv() failed (104: Connection
/// reset by peer) while reading response header from upstream", on a connection it had
/// just opened, at the instant the replica logs "shutting down"). Here the same happens
/// every time: the call is sent just after the listener closed, on a connection accepted
/// during the drain.
#[test]
fn a_connection_accepted_while_draining_gets_its_call_answered() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let bound = runtime
        .block_on(
            common::keyed()
                .drain_delay(Duration::from_millis(500))
                .handlers_from_attributes(false)
                .addr(([127, 0, 0, 1], 0))
                .webhooks(
                    Webhooks::new().cloud_function("drainProbe", |_: FunctionRequest| async {
                        Ok::<_, Error>("answered")
                    }),
                )
                .bind(),
        )
        .expect("our webhook server starts");
    let addr = bound.local_addr();
    let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(bound.serve_until(async {
        let _ = shutdown_rx.await;
    }));

    let _ = shutdown.send(());
    assert!(
        wait_for(Duration::from_secs(5), || readyz(addr.port()) == Some(503)),
        "the server did not start draining"
    );
    // Accepted while draining (the listener is open for the drain delay)...
    let mut client = TcpStream::connect(addr).expect("the draining server accepts");
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    // ...and the call follows once the listener has closed (new connections are refused).
    assert!(
        wait_for(Duration::from_secs(10), || TcpStream::connect(addr)
            .is_err()),
        "the listener did not close after the drain delay"
    );
    let sent = client.write_all(DRAIN_PROBE_CALL.as_bytes());
    let mut answer = Vec::new();
    let read = client.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let _ = runtime.block_on(server);
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("answered"),
        "the connection accepted while draining was closed without an answer to its call \
         (send: {sent:?}, read: {read:?}, answer: {answer:?}); a POST sent through nginx on \
         such a connection fails (502) and is not retried"
    );
}
