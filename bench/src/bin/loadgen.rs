//! A bounded load test: a number of webhook calls, sent as Parse Server sends them (chunked
//! bodies on kept-alive connections), over many connections each making one call at a
//! time. Every reply is checked. Prints calls, errors, duration, throughput, latency
//! percentiles, and the server's peak memory when given its pid. Exits with 1 if any call
//! failed, 2 if the run could not start.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::histogram::Histogram;
use moralis_webhooks_bench::payload::{Kind, Mix, Payloads};
use moralis_webhooks_bench::procfs;
use moralis_webhooks_bench::run::{
    grouped, join_sessions, ms, print_table, Budget, Session, Tally, Target,
};

const USAGE: &str = "\
loadgen: a bounded load test of a moralis-webhooks server (see bench-server)

  --addr <ip:port>          the server (required)
  --key <key>               the webhook key (else MORALIS_WEBHOOKS_KEY)
  --calls <n>               calls measured (default 100000)
  --connections <n>         kept-alive connections, one call at a time each (default 256)
  --payload <kind>          function (~1 KB, a signed-in user), create, update (GameScore
                            beforeSave), aftersave, or mixed (default function)
  --warmup <n>              calls before measuring, on the same connections (default 5000)
  --chunk-size <bytes>      split bodies into chunks of this size (default 0: one chunk,
                            as Parse Server sends them)
  --reconnect-every <n>     open a new connection after n calls on one (default 0: never)
  --server-pid <pid>        read the server's memory and CPU time from /proc
  --threads <n>             Tokio worker threads (default: the CPUs this process may use)";

fn main() -> ExitCode {
    match setup() {
        Ok((runtime, settings)) => runtime.block_on(run(settings)),
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::from(2)
        }
    }
}

struct Settings {
    target: Arc<Target>,
    calls: u64,
    connections: usize,
    warmup: u64,
    server_pid: Option<u32>,
}

fn setup() -> Result<(tokio::runtime::Runtime, Settings), String> {
    let args = Args::parse(
        USAGE,
        &[
            "addr",
            "key",
            "calls",
            "connections",
            "payload",
            "warmup",
            "chunk-size",
            "reconnect-every",
            "server-pid",
            "threads",
        ],
    )?;
    let key = match args.get::<String>("key")? {
        Some(key) => key,
        None => std::env::var("MORALIS_WEBHOOKS_KEY")
            .map_err(|_| "--key or MORALIS_WEBHOOKS_KEY is required".to_owned())?,
    };
    let connections: usize = args.get_or("connections", 256)?;
    if connections == 0 {
        return Err("--connections must be at least 1".to_owned());
    }
    let target = Target {
        addr: args.require::<SocketAddr>("addr")?,
        key,
        chunk: args.get_or("chunk-size", 0)?,
        mix: args.get_or("payload", Mix::Only(Kind::Function))?,
        payloads: Payloads::load(),
        reconnect_every: args.get_or("reconnect-every", 0)?,
    };
    let runtime = args.multi_thread_runtime()?;
    let settings = Settings {
        target: Arc::new(target),
        calls: args.get_or("calls", 100_000)?,
        connections,
        warmup: args.get_or("warmup", 5_000)?,
        server_pid: args.get("server-pid")?,
    };
    Ok((runtime, settings))
}

async fn run(settings: Settings) -> ExitCode {
    let Settings {
        target,
        calls,
        connections,
        warmup,
        server_pid,
    } = settings;
    describe(&target, calls, connections, warmup, server_pid);
    let rss_before = server_pid.and_then(|pid| procfs::rss(pid).ok());

    // Every session connects and takes part in the warm-up; all then wait for the start.
    let warmup_budget = Arc::new(Budget::calls(0, warmup));
    let budget = Arc::new(Budget::calls(warmup, calls));
    let (warmup_tally, tally) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let start = Arc::new(tokio::sync::Barrier::new(connections + 1));
    let mut sessions = Vec::with_capacity(connections);
    for id in 0..connections {
        let mut session = Session::new(Arc::clone(&target), id);
        let (warmup_budget, budget) = (Arc::clone(&warmup_budget), Arc::clone(&budget));
        let (warmup_tally, tally) = (Arc::clone(&warmup_tally), Arc::clone(&tally));
        let start = Arc::clone(&start);
        sessions.push(tokio::spawn(async move {
            // A failed connect is retried, and counted, by the first call.
            let _ = session.connect().await;
            session.run(&warmup_budget, &warmup_tally, None).await;
            session.latency = Histogram::new();
            start.wait().await;
            session.run(&budget, &tally, None).await;
            session
        }));
    }
    start.wait().await;
    let started = Instant::now();
    let cpu_before = server_pid.and_then(|pid| procfs::cpu_time(pid).ok());
    let own_cpu_before = procfs::cpu_time(std::process::id()).ok();
    let (latency, connects) = join_sessions(sessions, "loadgen").await;
    let elapsed = started.elapsed();
    let cpu_after = server_pid.and_then(|pid| procfs::cpu_time(pid).ok());
    let own_cpu_after = procfs::cpu_time(std::process::id()).ok();

    println!(
        "warm-up: {} calls, {} errors",
        grouped(warmup_tally.calls()),
        grouped(warmup_tally.errors())
    );
    println!();
    let peak = server_pid.map_or_else(
        || "n/a (no --server-pid)".to_owned(),
        |pid| match procfs::peak_rss(pid) {
            Ok(bytes) => procfs::mib(bytes),
            Err(error) => format!("n/a ({error})"),
        },
    );
    print_table(
        &[
            "calls",
            "errors",
            "duration",
            "throughput",
            "p50",
            "p90",
            "p99",
            "max",
            "server peak RSS",
        ],
        &[vec![
            grouped(tally.calls()),
            grouped(tally.errors()),
            format!("{:.2} s", elapsed.as_secs_f64()),
            format!(
                "{} calls/s",
                grouped((tally.calls() as f64 / elapsed.as_secs_f64()) as u64)
            ),
            ms(latency.percentile(50.0)),
            ms(latency.percentile(90.0)),
            ms(latency.percentile(99.0)),
            ms(latency.max()),
            peak,
        ]],
    );
    println!();
    println!(
        "latency: mean {} over {} replies; connections opened: {}",
        ms(latency.mean() as u64),
        grouped(latency.len()),
        grouped(connects)
    );
    if let (Some(pid), Some(before), Some(after)) = (server_pid, cpu_before, cpu_after) {
        let used = after.saturating_sub(before);
        println!(
            "server CPU: {:.2} s in {:.2} s ({:.0} % of one core), {:.1} µs per call; \
             RSS {} before the warm-up, {} after",
            used.as_secs_f64(),
            elapsed.as_secs_f64(),
            100.0 * used.as_secs_f64() / elapsed.as_secs_f64().max(1e-9),
            1e6 * used.as_secs_f64() / tally.calls().max(1) as f64,
            rss_before.map_or("n/a".to_owned(), procfs::mib),
            procfs::rss(pid).map_or("n/a".to_owned(), procfs::mib),
        );
    }
    if let (Some(before), Some(after)) = (own_cpu_before, own_cpu_after) {
        let used = after.saturating_sub(before);
        println!(
            "load generator CPU: {:.2} s ({:.0} % of one core)",
            used.as_secs_f64(),
            100.0 * used.as_secs_f64() / elapsed.as_secs_f64().max(1e-9),
        );
    }
    warmup_tally.print_errors("warm-up errors");
    tally.print_errors("errors");
    if tally.errors() + warmup_tally.errors() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn describe(target: &Target, calls: u64, connections: usize, warmup: u64, pid: Option<u32>) {
    let pid = pid.map_or(String::new(), |pid| format!(" (server pid {pid})"));
    println!("load test of http://{}{pid}", target.addr);
    let sizes: Vec<String> = Kind::ALL
        .iter()
        .filter(|kind| (0..4).any(|n| target.mix.kind(n) == **kind))
        .map(|kind| format!("{kind} {} B", target.payloads.body_size(*kind, warmup)))
        .collect();
    let framing = match target.chunk {
        0 => "one chunk per body".to_owned(),
        size => format!("chunks of {size} B"),
    };
    println!(
        "payload: {} ({}), chunked without Content-Length, {framing}",
        target.mix,
        sizes.join(", ")
    );
    let reconnect = match target.reconnect_every {
        0 => "kept alive throughout".to_owned(),
        n => format!("reopened every {n} calls"),
    };
    println!(
        "{} calls after {} warm-up calls, over {connections} connections ({reconnect}), \
         each making one call at a time; client Tokio threads: {}",
        grouped(calls),
        grouped(warmup),
        tokio::runtime::Handle::current().metrics().num_workers()
    );
}
