//! The benchmark of issue 5: moralis-webhooks against raw hyper (the limit), Express 5
//! and parse-cloud-express 1.2.0 (the peers), then end to end through a real Parse Server.
//! Prints Markdown tables on stdout (progress on stderr). `scripts/bench` builds
//! everything and runs it; see BENCHMARKS.md for what each figure means.
//!
//! Part 1 (`load`): for each payload and server, the server is started pinned to one CPU
//! (`taskset`), this process pins itself to another and runs the load: kept-alive
//! connections, each making one call at a time, chunked bodies as Parse Server sends them,
//! every reply checked. Part 2 (`e2e`): sequential calls through Parse Server to each
//! webhook server and to in-process Cloud Code.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::e2e::{CallKind, EndToEnd, SaveObject};
use moralis_webhooks_bench::instructions::{self, InstructionCount};
use moralis_webhooks_bench::load::{CellSettings, Comparison};
use moralis_webhooks_bench::servers::{Flavor, Peer, Programs};
use moralis_webhooks_bench::workload::{Payload, Workload};
use moralis_webhooks_bench::{e2e, load};

const USAGE: &str = "\
bench: moralis-webhooks against raw hyper, Express 5 and parse-cloud-express, then end to
end through a real Parse Server, then instructions per call of the Rust servers (callgrind).
Prints Markdown tables.

  --parts <list>          any of load, e2e, instructions (default: all three; instructions
                          only where valgrind is installed)
  --peers <list>          servers of the load and instructions parts (default ours,
                          ours-typed,raw-hyper,raw-hyper-rawvalue,express,
                          parse-cloud-express; ours-typed serves the beforesave payloads
                          only, raw-hyper-rawvalue afterfind-1k only; also ours-metrics,
                          with --metrics-bin-dir)
  --payloads <list>       function-1k, beforesave-10k, beforesave-1m, afterfind-1k
                          (default: all)
  --connections <list>    connections per payload, in the order of --payloads
                          (default 64 for 1 KB and 10 KB, 8 for 1 MB and afterfind-1k)
  --rounds <n>            times each cell is measured; tables show medians (default 5)
  --warmup <seconds>      load before each cell's window (default 2)
  --seconds <seconds>     each cell's measuring window (default 4)
  --timeout <seconds>     a call without a reply by then fails (default 10)
  --server-cpu <n|none>   the CPU the servers are pinned to (default 0)
  --client-cpu <n|none>   the CPU this process (the load generator) is pinned to (default 1)
  --runtime <kind>        Tokio runtime of the Rust servers: current (default) or multi
                          (multi-thread, one worker)
  --e2e-peers <list>      webhook servers of the end-to-end part (default
                          ours,raw-hyper,express)
  --e2e-in-process <bool> also measure in-process Cloud Code (default true)
  --e2e-calls <n>         measured function calls per route (default 10000)
  --e2e-saves <n>         measured creates per route (default 4000)
  --e2e-kinds <list>      the calls measured, any of function, save, top-scores (a cloud
                          function that runs one query as its caller; default: all three)
  --e2e-top-calls <n>     measured topScores calls per route (default 500)
  --e2e-seed <n>          GameScores seeded for topScores (default 300)
  --e2e-warmup <n>        unmeasured calls of each kind per route first (default 300)
  --e2e-cpu-calls <n>     calls of each kind per route in the pass reading Parse Server's
                          CPU time (default 300; 0: no such pass)
  --e2e-save <object>     the object created: small (the recorded beforeSave_create.json
                          object, default) or 10k (the 10 KB object of the load part)
  --bin-dir <dir>         where `ours` and `raw-hyper` are (default: next to this program)
  --metrics-bin-dir <dir> where `ours` built with `--features metrics` is (the
                          ours-metrics peer; scripts/bench builds it when it is named)
  --node-dir <dir>        bench/node, with node_modules (default: the checkout's)";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::from(2)
        }
    }
}

/// A comma-separated option, or `default`.
fn list<T>(args: &Args, name: &str, default: &[T]) -> Result<Vec<T>, String>
where
    T: std::str::FromStr<Err = String> + Clone,
{
    match args.get::<String>(name)? {
        None => Ok(default.to_vec()),
        Some(text) => text
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(|item| item.parse().map_err(|error| format!("--{name}: {error}")))
            .collect(),
    }
}

/// A CPU number, or `none`.
fn cpu(args: &Args, name: &str, default: usize) -> Result<Option<usize>, String> {
    match args.get::<String>(name)? {
        None => Ok(Some(default)),
        Some(text) if text.trim() == "none" => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("--{name} {text}: not a CPU number or `none`")),
    }
}

fn seconds(args: &Args, name: &str, default: f64) -> Result<Duration, String> {
    let value: f64 = args.get_or(name, default)?;
    Duration::try_from_secs_f64(value).map_err(|error| format!("--{name}: {error}"))
}

fn run() -> Result<ExitCode, String> {
    let args = Args::parse(
        USAGE,
        &[
            "parts",
            "peers",
            "payloads",
            "connections",
            "rounds",
            "warmup",
            "seconds",
            "timeout",
            "server-cpu",
            "client-cpu",
            "runtime",
            "e2e-peers",
            "e2e-in-process",
            "e2e-calls",
            "e2e-saves",
            "e2e-kinds",
            "e2e-top-calls",
            "e2e-seed",
            "e2e-warmup",
            "e2e-cpu-calls",
            "e2e-save",
            "bin-dir",
            "metrics-bin-dir",
            "node-dir",
        ],
    )?;
    let parts: Vec<String> = args
        .get::<String>("parts")?
        .unwrap_or_else(|| "load,e2e,instructions".to_owned())
        .split(',')
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect();
    if let Some(unknown) = parts
        .iter()
        .find(|p| !["load", "e2e", "instructions"].contains(&p.as_str()))
    {
        return Err(format!(
            "--parts: `{unknown}` is not load, e2e or instructions"
        ));
    }
    let peers: Vec<Peer> = list(&args, "peers", &Peer::DEFAULT)?;
    let payloads: Vec<Payload> = list(&args, "payloads", &Payload::ALL)?;
    let connections: Vec<usize> = match args.get::<String>("connections")? {
        None => payloads.iter().map(|p| p.default_connections()).collect(),
        Some(text) => {
            let counts: Vec<usize> = text
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse::<usize>()
                        .map_err(|e| format!("--connections: {e}"))
                })
                .collect::<Result<_, _>>()?;
            if counts.len() != payloads.len() || counts.contains(&0) {
                return Err("--connections needs one count (≥ 1) per payload".to_owned());
            }
            counts
        }
    };
    let bin_dir = match args.get::<PathBuf>("bin-dir")? {
        Some(dir) => dir,
        None => std::env::current_exe()
            .map_err(|error| format!("cannot find this program: {error}"))?
            .parent()
            .map(PathBuf::from)
            .ok_or("this program has no directory")?,
    };
    let node_dir = args
        .get::<PathBuf>("node-dir")?
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/node")));
    let log_dir =
        std::env::temp_dir().join(format!("moralis-webhooks-bench-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir)
        .map_err(|error| format!("cannot create {}: {error}", log_dir.display()))?;
    let programs = Programs {
        bin_dir,
        metrics_bin_dir: args.get("metrics-bin-dir")?,
        node_dir: node_dir.clone(),
        flavor: args.get_or("runtime", Flavor::CurrentThread)?,
        log_dir: log_dir.clone(),
        parse: None,
    };
    let server_cpu = cpu(&args, "server-cpu", 0)?;
    let client_cpu = cpu(&args, "client-cpu", 1)?;

    print_machine(&programs);
    let mut status = ExitCode::SUCCESS;

    if parts.iter().any(|p| p == "load") {
        programs.check(&peers)?;
        let comparison = Comparison {
            programs: programs.clone(),
            peers: peers.clone(),
            payloads: payloads.clone(),
            connections,
            settings: CellSettings {
                warmup: seconds(&args, "warmup", 2.0)?,
                window: seconds(&args, "seconds", 4.0)?,
                connections: 0,
                timeout: seconds(&args, "timeout", 10.0)?,
            },
            rounds: args.get_or("rounds", 5usize)?.max(1),
            server_cpu,
        };
        println!("## Part 1: each server on one core\n");
        describe_load(&comparison, client_cpu);
        let original = allowed_cpus();
        if let Some(cpu) = client_cpu {
            pin_self(&cpu.to_string())?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start Tokio: {error}"))?;
        let series = comparison.run(&runtime);
        drop(runtime);
        if client_cpu.is_some() {
            if let Some(original) = original {
                pin_self(&original)?;
            }
        }
        load::print_tables(&series, &comparison);
        println!();
        if series
            .iter()
            .any(|s| s.peer != Peer::ParseCloudExpress && s.errors() > 0)
        {
            status = ExitCode::FAILURE;
        }
    }

    if parts.iter().any(|p| p == "e2e") {
        let e2e_peers: Vec<Peer> = list(
            &args,
            "e2e-peers",
            &[Peer::Ours, Peer::RawHyper, Peer::Express],
        )?;
        programs.check(&e2e_peers)?;
        let end_to_end = EndToEnd {
            programs: programs.clone(),
            peers: e2e_peers,
            in_process: args.get_or("e2e-in-process", true)?,
            function_calls: args.get_or("e2e-calls", 10000)?,
            save_calls: args.get_or("e2e-saves", 4000)?,
            kinds: list(&args, "e2e-kinds", &CallKind::ALL)?,
            top_calls: args.get_or("e2e-top-calls", 500)?,
            seed_rows: args.get_or("e2e-seed", 300)?,
            warmup: args.get_or("e2e-warmup", 300)?,
            cpu_calls: args.get_or("e2e-cpu-calls", 300)?,
            save_object: args.get_or("e2e-save", SaveObject::Small)?,
            cloud_file: node_dir.join("cloud.js"),
        };
        println!("## Part 2: end to end through Parse Server 9.10.0\n");
        let mut measured = Vec::new();
        for kind in &end_to_end.kinds {
            measured.push(match kind {
                CallKind::Function => format!(
                    "{} measured cloud function calls (signed in: Parse Server forwards the \
                     user and headers, about 1 KB)",
                    end_to_end.function_calls
                ),
                CallKind::Save => format!(
                    "{} measured creates of {}",
                    end_to_end.save_calls,
                    match end_to_end.save_object {
                        SaveObject::Small => "a small GameScore (score, playerName, cheatMode)",
                        SaveObject::TenK => "the 10 KB GameScore of part 1",
                    }
                ),
                CallKind::TopScores => format!(
                    "{} measured anonymous calls of `topScores<Route>`, whose handler runs \
                     one query as its caller (GameScore, score > 100, order -score, limit \
                     10; {} GameScores seeded) and answers the objects found",
                    end_to_end.top_calls, end_to_end.seed_rows
                ),
            });
        }
        println!(
            "One Parse Server serves every route at once, under names of its own \
             (`echo<Route>`, `GameScore<Route>`, `topScores<Route>`). Per route: {}, \
             interleaved (every route once per cycle, in a shuffled order), after {} \
             unmeasured calls of each kind. One kept-alive client connection, sequential \
             calls; nothing pinned. Parse Server CPU/call: from a separate pass of {} \
             consecutive calls per route.\n",
            measured.join(", then "),
            end_to_end.warmup,
            end_to_end.cpu_calls,
        );
        let series = end_to_end.run()?;
        e2e::print_tables(&series);
        println!();
        if series.iter().any(|s| s.errors > 0) {
            status = ExitCode::FAILURE;
        }
    }

    if parts.iter().any(|p| p == "instructions") {
        println!("## Part 3: instructions per call (callgrind)\n");
        if InstructionCount::available() {
            let rust: Vec<Peer> = Peer::ALL
                .into_iter()
                .filter(|peer| !peer.is_node() && peers.contains(peer))
                .collect();
            programs.check(&rust)?;
            println!(
                "Each Rust server under valgrind's callgrind, sent sequential calls on one \
                 kept-alive connection, twice (few calls, then many); instructions per call \
                 = the difference of the two totals over the difference in calls: start-up \
                 and shutdown cancel out. The whole process is counted (hyper, Tokio, the \
                 allocator, the kernel excepted). Not a time, but the same on every run, \
                 whatever else the machine does.\n"
            );
            let counts = InstructionCount {
                programs: programs.clone(),
                peers: rust,
                payloads: payloads.clone(),
            }
            .run();
            instructions::print_table(&counts);
            println!();
            if counts.iter().any(|count| count.per_call.is_err()) {
                status = ExitCode::FAILURE;
            }
        } else {
            println!("Not measured: valgrind is not installed (`apt-get install valgrind`).\n");
        }
    }
    let _ = std::fs::remove_dir_all(&log_dir);
    Ok(status)
}

/// The CPUs this process may run on, as `taskset` writes them.
fn allowed_cpus() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
}

/// Pins every thread of this process to `cpus` (with `taskset`: no unsafe code here).
fn pin_self(cpus: &str) -> Result<(), String> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|error| format!("cannot run taskset: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("taskset could not pin this process to CPU {cpus}"))
    }
}

/// The first line `program args` prints, or `?`.
fn version(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8(out.stdout)
                .ok()?
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn print_machine(programs: &Programs) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("?".to_owned(), |(_, model)| model.trim().to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .map_or("?".to_owned(), |kb| {
            let kb: f64 = kb
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0.0);
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let commit = version("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--", "moralis-webhooks"])
        .current_dir(env!("CARGO_MANIFEST_DIR").trim_end_matches("/bench"))
        .output()
        .map(|out| !out.stdout.is_empty())
        .unwrap_or(false);
    let load = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!("# moralis-webhooks benchmark\n");
    println!("| machine | |");
    println!("|---|---|");
    println!("| CPUs (nproc) | {cpus} |");
    println!("| CPU model | {model} |");
    println!("| memory | {memory} |");
    println!("| kernel | {} |", version("uname", &["-sr"]));
    println!("| Rust | {} |", version("rustc", &["--version"]));
    println!("| Node.js | {} |", version("node", &["--version"]));
    println!(
        "| code | {commit}{} |",
        if dirty {
            " with uncommitted changes in moralis-webhooks/"
        } else {
            ""
        }
    );
    println!(
        "| Rust servers' runtime | Tokio {} |",
        match programs.flavor {
            Flavor::CurrentThread => "current-thread",
            Flavor::MultiThread => "multi-thread, one worker",
        }
    );
    println!("| load average at the start | {load} |");
    println!();
}

fn describe_load(comparison: &Comparison, client_cpu: Option<usize>) {
    let sizes: Vec<String> = comparison
        .payloads
        .iter()
        .zip(&comparison.connections)
        .map(|(payload, connections)| {
            format!(
                "{} ({} B body, {connections} connections)",
                payload.label(),
                Workload::new(*payload).body.len()
            )
        })
        .collect();
    println!(
        "Payloads: {}. Each cell: {:.0} s warm-up, then a {:.0} s window; {} rounds, \
         medians shown (spread: half the range of calls/s over rounds, relative to the \
         median). Servers pinned to {}, the load generator to {}.\n",
        sizes.join("; "),
        comparison.settings.warmup.as_secs_f64(),
        comparison.settings.window.as_secs_f64(),
        comparison.rounds,
        comparison
            .server_cpu
            .map_or("no CPU".to_owned(), |cpu| format!("CPU {cpu}")),
        client_cpu.map_or("no CPU".to_owned(), |cpu| format!("CPU {cpu}")),
    );
}
