//! A soak run: steady, paced webhook calls for a while, sent as Parse Server sends them,
//! sampling the server's resident memory. Prints a row per sample (time, calls so far,
//! errors, RSS, open files), then compares the RSS of the second quarter of the run (after
//! warm-up) with the last quarter. It only prints figures; it exits with 1 if any call
//! failed, 2 if the run could not start.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::payload::{Mix, Payloads};
use moralis_webhooks_bench::procfs;
use moralis_webhooks_bench::run::{
    grouped, join_sessions, ms, print_header, print_row, print_table,
};
use moralis_webhooks_bench::run::{Budget, Session, Tally, Target};
use tokio::time::MissedTickBehavior;

const USAGE: &str = "\
soak: steady load on a moralis-webhooks server, sampling its memory (see bench-server)

  --addr <ip:port>          the server (required)
  --server-pid <pid>        the server's process, whose memory is sampled (required)
  --key <key>               the webhook key (else MORALIS_WEBHOOKS_KEY)
  --seconds <s>             how long to run (default 600)
  --rate <calls/s>          calls per second, spread over the connections (default 2000)
  --connections <n>         kept-alive connections, one call at a time each (default 64)
  --payload <kind>          function, create, update, aftersave or mixed (default mixed)
  --sample-every <s>        seconds between memory samples (default 5)
  --reconnect-every <n>     open a new connection after n calls on one (default 0: never)
  --chunk-size <bytes>      split bodies into chunks of this size (default 0: one chunk)
  --threads <n>             Tokio worker threads (default: the CPUs this process may use)";

/// How long the server gets to close the connections after the load, before the last sample.
const SETTLE: Duration = Duration::from_secs(2);

struct Settings {
    target: Arc<Target>,
    pid: u32,
    duration: Duration,
    rate: f64,
    connections: usize,
    sample_every: Duration,
}

fn main() -> ExitCode {
    match setup() {
        Ok((runtime, settings)) => runtime.block_on(run(settings)),
        Err(message) => {
            eprintln!("soak: {message}");
            ExitCode::from(2)
        }
    }
}

fn setup() -> Result<(tokio::runtime::Runtime, Settings), String> {
    let args = Args::parse(
        USAGE,
        &[
            "addr",
            "server-pid",
            "key",
            "seconds",
            "rate",
            "connections",
            "payload",
            "sample-every",
            "reconnect-every",
            "chunk-size",
            "threads",
        ],
    )?;
    let key = match args.get::<String>("key")? {
        Some(key) => key,
        None => std::env::var("MORALIS_WEBHOOKS_KEY")
            .map_err(|_| "--key or MORALIS_WEBHOOKS_KEY is required".to_owned())?,
    };
    let pid: u32 = args.require("server-pid")?;
    procfs::rss(pid).map_err(|error| format!("cannot read the memory of pid {pid}: {error}"))?;
    let positive = |name: &str, value: f64| {
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(format!("--{name} must be more than 0"))
        }
    };
    let duration = positive("seconds", args.get_or("seconds", 600.0)?)?;
    let rate = positive("rate", args.get_or("rate", 2000.0)?)?;
    let sample_every = positive("sample-every", args.get_or("sample-every", 5.0)?)?;
    let connections: usize = args.get_or("connections", 64)?;
    if connections == 0 {
        return Err("--connections must be at least 1".to_owned());
    }
    let target = Target {
        addr: args.require::<SocketAddr>("addr")?,
        key,
        chunk: args.get_or("chunk-size", 0)?,
        mix: args.get_or("payload", Mix::Mixed)?,
        payloads: Payloads::load(),
        reconnect_every: args.get_or("reconnect-every", 0)?,
    };
    let runtime = args.multi_thread_runtime()?;
    let settings = Settings {
        target: Arc::new(target),
        pid,
        duration: Duration::from_secs_f64(duration),
        rate,
        connections,
        sample_every: Duration::from_secs_f64(sample_every),
    };
    Ok((runtime, settings))
}

/// One memory sample.
struct Sample {
    at: Duration,
    calls: u64,
    errors: u64,
    rss: Option<u64>,
    open_files: Option<usize>,
}

impl Sample {
    fn row(&self) -> Vec<String> {
        vec![
            format!("{:.0} s", self.at.as_secs_f64()),
            grouped(self.calls),
            grouped(self.errors),
            self.rss.map_or("n/a".to_owned(), procfs::mib),
            self.open_files.map_or("n/a".to_owned(), |n| n.to_string()),
        ]
    }
}

async fn run(settings: Settings) -> ExitCode {
    let Settings {
        target,
        pid,
        duration,
        rate,
        connections,
        sample_every,
    } = settings;
    let reconnect = match target.reconnect_every {
        0 => "kept alive throughout".to_owned(),
        n => format!("reopened every {n} calls"),
    };
    println!(
        "soak test of http://{} (server pid {pid}): {:.0} s at {rate} calls/s over {connections} \
         connections ({reconnect}); payload {}; memory sampled every {:.0} s",
        target.addr,
        duration.as_secs_f64(),
        target.mix,
        sample_every.as_secs_f64()
    );
    println!();

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let budget = Arc::new(Budget::until(0, started + duration));
    // Each connection calls at rate / connections, the connections staggered evenly.
    let period = Duration::from_secs_f64(connections as f64 / rate);
    let mut sessions = Vec::with_capacity(connections);
    for id in 0..connections {
        let mut session = Session::new(Arc::clone(&target), id);
        let (budget, tally) = (Arc::clone(&budget), Arc::clone(&tally));
        let offset = period.mul_f64(id as f64 / connections as f64);
        sessions.push(tokio::spawn(async move {
            let mut pace = tokio::time::interval_at((started + offset).into(), period);
            pace.set_missed_tick_behavior(MissedTickBehavior::Skip);
            session.run(&budget, &tally, Some(pace)).await;
            session
        }));
    }

    let cpu_before = procfs::cpu_time(pid).ok();
    let widths = [6, 11, 6, 10, 10];
    print_header(
        &["time", "calls", "errors", "server RSS", "server fds"],
        &widths,
    );
    let sample = |tally: &Tally| Sample {
        at: started.elapsed(),
        calls: tally.calls(),
        errors: tally.errors(),
        rss: procfs::rss(pid).ok(),
        open_files: procfs::open_files(pid).ok(),
    };
    let print_sample = |sample: &Sample| {
        print_row(&sample.row(), &widths);
        let _ = std::io::stdout().flush();
    };
    let mut samples = vec![sample(&tally)];
    print_sample(&samples[0]);
    let mut ticks = tokio::time::interval_at((started + sample_every).into(), sample_every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while started.elapsed() + sample_every / 2 < duration {
        ticks.tick().await;
        let next = sample(&tally);
        print_sample(&next);
        samples.push(next);
    }
    let (latency, connects) = join_sessions(sessions, "soak").await;
    let elapsed = started.elapsed();
    let last = sample(&tally);
    print_sample(&last);
    samples.push(last);
    let cpu_after = procfs::cpu_time(pid).ok();
    // The client's connections are closed now: the server should be back to idle.
    tokio::time::sleep(SETTLE).await;
    let idle = sample(&tally);

    println!();
    print_table(
        &[
            "calls", "errors", "duration", "rate", "p50", "p90", "p99", "max", "peak RSS",
        ],
        &[vec![
            grouped(tally.calls()),
            grouped(tally.errors()),
            format!("{:.0} s", elapsed.as_secs_f64()),
            format!(
                "{} calls/s",
                grouped((tally.calls() as f64 / elapsed.as_secs_f64()) as u64)
            ),
            ms(latency.percentile(50.0)),
            ms(latency.percentile(90.0)),
            ms(latency.percentile(99.0)),
            ms(latency.max()),
            procfs::peak_rss(pid).map_or("n/a".to_owned(), procfs::mib),
        ]],
    );
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let used = after.saturating_sub(before).as_secs_f64();
        println!(
            "server CPU: {used:.1} s ({:.0} % of one core), {:.1} µs per call; connections \
             opened: {}",
            100.0 * used / elapsed.as_secs_f64(),
            1e6 * used / tally.calls().max(1) as f64,
            grouped(connects)
        );
    }
    println!(
        "{:.0} s after the load stopped (client connections closed): server RSS {}, {} fds \
         (at the start: {}, {} fds)",
        SETTLE.as_secs_f64(),
        idle.row()[3],
        idle.row()[4],
        samples[0].row()[3],
        samples[0].row()[4],
    );
    println!("{}", verdict(&samples, elapsed));
    tally.print_errors("errors");
    if tally.errors() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Compares the median RSS of the second quarter of the run (the first quarter is warm-up)
/// with the median of the last quarter.
fn verdict(samples: &[Sample], elapsed: Duration) -> String {
    let quarter = |q: u32| -> Vec<u64> {
        let (from, to) = (elapsed * (q - 1) / 4, elapsed * q / 4);
        samples
            .iter()
            .filter(|s| s.at > from && s.at <= to)
            .filter_map(|s| s.rss)
            .collect()
    };
    let (second, last) = (quarter(2), quarter(4));
    match (median(second.clone()), median(last.clone())) {
        (Some(early), Some(late)) => format!(
            "RSS verdict: median {} in the second quarter ({} samples), {} in the last quarter \
             ({} samples): ratio last/second = {:.3}",
            procfs::mib(early),
            second.len(),
            procfs::mib(late),
            last.len(),
            late as f64 / early as f64
        ),
        _ => {
            "RSS verdict: too few samples for quarters; run longer or sample more often".to_owned()
        }
    }
}

fn median(mut values: Vec<u64>) -> Option<u64> {
    values.sort_unstable();
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[middle]),
        _ => Some((values[middle - 1] + values[middle]) / 2),
    }
}
