//! The webhook servers the `bench` driver compares, and how it starts and stops them.
//!
//! - `ours`: moralis-webhooks (`bench/src/bin/ours.rs`);
//! - `ours-typed`: the same program with its GameScore beforeSave taking the object decoded
//!   into a struct of two fields (`--before-save typed`); measured with the beforeSave
//!   payloads only, as it serves the other hooks as `ours` does;
//! - `ours-metrics`: `ours` built with the framework's `metrics` feature (every call
//!   counted and timed for `GET /metrics`), from a directory of its own (`--features
//!   metrics` in a target directory of its own: features unify per build); not in the
//!   default peers;
//! - `raw-hyper`: the same handlers on hyper alone (`bench/src/bin/raw-hyper.rs`), every
//!   body parsed into a `serde_json::Value`;
//! - `raw-hyper-rawvalue`: the same program keeping afterFind results as raw text
//!   (`--after-find rawvalue`); measured with the afterFind payload only, as it serves the
//!   other hooks as `raw-hyper` does;
//! - `express`: Express 5 with its JSON body parser (`bench/node/express.js`);
//! - `parse-cloud-express`: parse-cloud-express 1.2.0 (`bench/node/parse-cloud-express.js`),
//!   which has no afterFind hook.
//!
//! Each is started on a free loopback port, optionally pinned to one CPU with `taskset`,
//! and prints `listening on <addr>` when ready. Its stderr goes to a log file, shown when
//! it fails.

use std::fmt;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use crate::wire::BlockingConnection;
use crate::workload::{Hook, Payload};

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server run by a wrapper may take: valgrind reads a release server's debug
/// info (tens of MB) before running it, 15 s for `ours` on a 2-core machine, over 30 s when
/// other processes share it.
const WRAPPED_START_TIMEOUT: Duration = Duration::from_secs(180);

/// The Tokio runtime the Rust servers run on. The benchmark gives each server one core:
/// `CurrentThread` (the default) runs everything on the main thread; `MultiThread` with
/// one worker adds the cross-thread machinery a default `#[tokio::main]` server has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `tokio::runtime::Builder::new_current_thread()`.
    CurrentThread,
    /// `tokio::runtime::Builder::new_multi_thread()`.
    MultiThread,
}

impl Flavor {
    /// Builds the runtime (`threads`: worker threads of the multi-thread runtime).
    pub fn runtime(self, threads: usize) -> Result<tokio::runtime::Runtime, String> {
        let mut builder = match self {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Flavor::MultiThread => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(threads.max(1));
                builder
            }
        };
        builder
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start Tokio: {error}"))
    }

    /// The `--runtime` value.
    pub fn id(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current",
            Flavor::MultiThread => "multi",
        }
    }
}

impl FromStr for Flavor {
    type Err = String;

    fn from_str(s: &str) -> Result<Flavor, String> {
        match s.trim() {
            "current" | "current-thread" => Ok(Flavor::CurrentThread),
            "multi" | "multi-thread" => Ok(Flavor::MultiThread),
            _ => Err(format!("`{s}` is not `current` or `multi`")),
        }
    }
}

/// A webhook server compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    /// moralis-webhooks.
    Ours,
    /// moralis-webhooks, the beforeSave object decoded into the handler's struct.
    OursTyped,
    /// moralis-webhooks with its `metrics` feature: every call recorded for `GET /metrics`.
    OursMetrics,
    /// hyper with no framework, every body parsed into a `serde_json::Value`.
    RawHyper,
    /// hyper with no framework, afterFind results kept as raw text (`&RawValue`).
    RawHyperRawValue,
    /// Express 5 and its JSON body parser.
    Express,
    /// parse-cloud-express 1.2.0.
    ParseCloudExpress,
}

impl Peer {
    /// Every server, in table order.
    pub const ALL: [Peer; 7] = [
        Peer::Ours,
        Peer::OursTyped,
        Peer::OursMetrics,
        Peer::RawHyper,
        Peer::RawHyperRawValue,
        Peer::Express,
        Peer::ParseCloudExpress,
    ];

    /// The servers of a run that names none: all but `ours-metrics`, which needs a second
    /// build of `ours` (scripts/bench makes it when the peer is named).
    pub const DEFAULT: [Peer; 6] = [
        Peer::Ours,
        Peer::OursTyped,
        Peer::RawHyper,
        Peer::RawHyperRawValue,
        Peer::Express,
        Peer::ParseCloudExpress,
    ];

    /// The variants of `ours`, each compared with it (`<id> / ours`) in parts 1 and 3.
    pub const VARIANTS_OF_OURS: [Peer; 2] = [Peer::OursTyped, Peer::OursMetrics];

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Peer::Ours => "ours",
            Peer::OursTyped => "ours-typed",
            Peer::OursMetrics => "ours-metrics",
            Peer::RawHyper => "raw-hyper",
            Peer::RawHyperRawValue => "raw-hyper-rawvalue",
            Peer::Express => "express",
            Peer::ParseCloudExpress => "parse-cloud-express",
        }
    }

    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            Peer::Ours => "moralis-webhooks",
            Peer::OursTyped => "moralis-webhooks, typed",
            Peer::OursMetrics => "moralis-webhooks + metrics",
            Peer::RawHyper => "raw hyper",
            Peer::RawHyperRawValue => "raw hyper, RawValue",
            Peer::Express => "Express 5",
            Peer::ParseCloudExpress => "parse-cloud-express 1.2",
        }
    }

    /// The path of cloud function `name`.
    pub fn function_path(self, name: &str) -> String {
        match self {
            Peer::ParseCloudExpress => format!("/function_{name}"),
            _ => format!("/functions/{name}"),
        }
    }

    /// The path of the beforeSave trigger of `class`.
    pub fn before_save_path(self, class: &str) -> String {
        match self {
            Peer::ParseCloudExpress => format!("/beforeSave_{class}"),
            _ => format!("/triggers/{class}/beforeSave"),
        }
    }

    /// The path of the afterFind trigger of `class`.
    pub fn after_find_path(self, class: &str) -> String {
        match self {
            Peer::ParseCloudExpress => format!("/afterFind_{class}"),
            _ => format!("/triggers/{class}/afterFind"),
        }
    }

    /// Whether the comparison measures this server with `payload`, and if not, whether
    /// its table shows the cell as not applicable (`Some(why)`) or leaves it out (`None`).
    pub fn measures(self, payload: Payload) -> Result<(), Option<&'static str>> {
        match (self, payload.hook()) {
            (Peer::ParseCloudExpress, Hook::AfterFind) => Err(Some(
                "parse-cloud-express 1.2 has no afterFind hook (only functions, beforeSave, \
                 afterSave, beforeDelete and afterDelete)",
            )),
            // Served as raw hyper serves it: the same cell twice.
            (Peer::RawHyperRawValue, Hook::Function | Hook::BeforeSave) => Err(None),
            // Served as ours serves it: the same cell twice.
            (Peer::OursTyped, Hook::Function | Hook::AfterFind) => Err(None),
            _ => Ok(()),
        }
    }

    /// The Rust program that serves this peer, and the arguments that make it this peer.
    fn rust_program(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Peer::Ours | Peer::OursMetrics => Some(("ours", &[])),
            Peer::OursTyped => Some(("ours", &["--before-save", "typed"])),
            Peer::RawHyper => Some(("raw-hyper", &[])),
            Peer::RawHyperRawValue => Some(("raw-hyper", &["--after-find", "rawvalue"])),
            Peer::Express | Peer::ParseCloudExpress => None,
        }
    }

    /// The Node.js package that serves this peer, which also names its script in
    /// `bench/node`; `None` for the Rust servers.
    fn node_package(self) -> Option<&'static str> {
        match self {
            Peer::Express => Some("express"),
            Peer::ParseCloudExpress => Some("parse-cloud-express"),
            _ => None,
        }
    }

    /// Whether the server runs on Node.js.
    pub fn is_node(self) -> bool {
        self.node_package().is_some()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Peer {
    type Err = String;

    fn from_str(s: &str) -> Result<Peer, String> {
        Peer::ALL
            .into_iter()
            .find(|peer| peer.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let ids: Vec<&str> = Peer::ALL.iter().map(|p| p.id()).collect();
                format!("`{s}` is not one of {}", ids.join(", "))
            })
    }
}

/// Where the servers' programs are, and how to run them.
#[derive(Clone, Debug)]
pub struct Programs {
    /// The directory of the `ours` and `raw-hyper` executables.
    pub bin_dir: PathBuf,
    /// The directory of `ours` built with `--features metrics` (the `ours-metrics` peer),
    /// if there is one.
    pub metrics_bin_dir: Option<PathBuf>,
    /// `bench/node`, with its `node_modules` installed.
    pub node_dir: PathBuf,
    /// The runtime of the Rust servers.
    pub flavor: Flavor,
    /// Where servers' logs go.
    pub log_dir: PathBuf,
    /// The Parse Server the servers call back, if any: then each also serves the cloud
    /// function `topScores` (one query as its caller).
    pub parse: Option<ParseTarget>,
}

/// A Parse Server the webhook servers call back.
#[derive(Clone, Debug)]
pub struct ParseTarget {
    /// Its URL with the mount path (`http://127.0.0.1:1337/parse`).
    pub url: String,
    /// Its application id.
    pub app_id: String,
    /// Its master key.
    pub master_key: String,
    /// The name the servers serve `topScores` under.
    pub top_scores: String,
}

impl Programs {
    /// The path of `peer`'s Rust program and the arguments that make it this peer, or
    /// `None` for a Node.js peer; an error for `ours-metrics` without its directory.
    fn rust_program(
        &self,
        peer: Peer,
    ) -> Result<Option<(PathBuf, &'static [&'static str])>, String> {
        let Some((name, args)) = peer.rust_program() else {
            return Ok(None);
        };
        let dir = match peer {
            Peer::OursMetrics => self
                .metrics_bin_dir
                .as_ref()
                .ok_or_else(|| format!("{peer} needs {METRICS_HINT}"))?,
            _ => &self.bin_dir,
        };
        Ok(Some((dir.join(name), args)))
    }

    /// Checks that every program of `peers` is there.
    pub fn check(&self, peers: &[Peer]) -> Result<(), String> {
        for &peer in peers {
            let (path, hint) = match self.rust_program(peer)? {
                Some((path, _)) if peer == Peer::OursMetrics => (
                    path,
                    "build it with cargo, `--features metrics` (scripts/bench does)",
                ),
                Some((path, _)) => (path, "build with cargo"),
                None => (
                    self.node_dir
                        .join("node_modules")
                        .join(peer.node_package().expect("a Node.js peer"))
                        .join("package.json"),
                    "run `npm ci` in bench/node",
                ),
            };
            if !path.exists() {
                return Err(format!("{} is missing: {hint}", path.display()));
            }
        }
        Ok(())
    }

    /// Starts `peer` with webhook key `key` on a free loopback port, pinned to `cpu`;
    /// `names`: a function name and a class it serves besides (for `raw-hyper` and the Node
    /// peers: instead of) `echo` and `GameScore`.
    pub fn start(
        &self,
        peer: Peer,
        key: &str,
        cpu: Option<usize>,
        names: Option<(&str, &str)>,
    ) -> Result<Running, String> {
        self.start_under(&[], peer, key, cpu, names)
    }

    /// [`Programs::start`], with the server run by `wrapper` (a command and its arguments,
    /// the server's command line appended; say, valgrind).
    pub fn start_under(
        &self,
        wrapper: &[String],
        peer: Peer,
        key: &str,
        cpu: Option<usize>,
        names: Option<(&str, &str)>,
    ) -> Result<Running, String> {
        let mut program: Vec<String> = wrapper.to_vec();
        program.extend(match self.rust_program(peer)? {
            Some((path, args)) => {
                let mut program = vec![
                    path.display().to_string(),
                    "--key".to_owned(),
                    key.to_owned(),
                    "--runtime".to_owned(),
                    self.flavor.id().to_owned(),
                ];
                program.extend(args.iter().map(|arg| (*arg).to_owned()));
                if let Some((function, class)) = names {
                    program.extend([
                        "--function".to_owned(),
                        function.to_owned(),
                        "--class".to_owned(),
                        class.to_owned(),
                    ]);
                }
                if let Some(parse) = &self.parse {
                    program.extend([
                        "--parse-url".to_owned(),
                        parse.url.clone(),
                        "--parse-app-id".to_owned(),
                        parse.app_id.clone(),
                        "--parse-master-key".to_owned(),
                        parse.master_key.clone(),
                        "--top-scores".to_owned(),
                        parse.top_scores.clone(),
                    ]);
                }
                program
            }
            None => vec![
                "node".to_owned(),
                self.node_dir
                    .join(format!(
                        "{}.js",
                        peer.node_package().expect("a Node.js peer")
                    ))
                    .display()
                    .to_string(),
            ],
        });
        let mut command = match cpu {
            Some(cpu) => {
                let mut command = Command::new("taskset");
                command.arg("-c").arg(cpu.to_string()).args(&program);
                command
            }
            None => {
                let mut command = Command::new(&program[0]);
                command.args(&program[1..]);
                command
            }
        };
        let log = self.log_dir.join(format!("{}.log", peer.id()));
        let stderr = std::fs::File::create(&log)
            .map_err(|error| format!("cannot create {}: {error}", log.display()))?;
        command
            .current_dir(&self.node_dir)
            .env("WEBHOOK_KEY", key)
            .env("PARSE_WEBHOOK_KEY", key)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("NODE_ENV", "production")
            .env(
                "FUNCTION_NAME",
                names.map_or("echo", |(function, _)| function),
            )
            .env("CLASS_NAME", names.map_or("GameScore", |(_, class)| class))
            .env_remove("RUST_LOG")
            .env_remove("BENCH_PARSE_URL")
            .env_remove("BENCH_PARSE_APP_ID")
            .env_remove("TOP_SCORES_NAME");
        if let Some(parse) = &self.parse {
            command
                .env("BENCH_PARSE_URL", &parse.url)
                .env("BENCH_PARSE_APP_ID", &parse.app_id)
                .env("TOP_SCORES_NAME", &parse.top_scores);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", program.join(" ")))?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on ") {
                    if let Some(sender) = sender.take() {
                        let _ = sender.send(addr.trim().to_owned());
                    }
                }
            }
        });
        let mut running = Running {
            peer,
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        let patience = if wrapper.is_empty() {
            START_TIMEOUT
        } else {
            WRAPPED_START_TIMEOUT
        };
        match receiver.recv_timeout(patience) {
            Ok(addr) => {
                running.addr = addr
                    .parse()
                    .map_err(|_| format!("{peer} printed a bad address `{addr}`"))?;
                if peer == Peer::OursMetrics {
                    serves_metrics(running.addr).map_err(|why| format!("{peer}: {why}"))?;
                }
                Ok(running)
            }
            Err(_) => {
                running.stop();
                Err(format!(
                    "{peer} did not print its address within {patience:?}; its log:\n{}",
                    running.log_tail()
                ))
            }
        }
    }
}

/// What `ours-metrics` runs.
const METRICS_HINT: &str = "`ours` built with `--features metrics` in a target directory \
    of its own, named with --metrics-bin-dir (scripts/bench does both when ours-metrics is \
    among the peers)";

/// Checks that the server at `addr` answers `GET /metrics`: the `ours` started was built
/// with the feature (one scrape before the calls; under callgrind, in both counts alike).
fn serves_metrics(addr: SocketAddr) -> Result<(), String> {
    let mut connection = BlockingConnection::open(addr).map_err(|error| error.to_string())?;
    let reply = connection
        .call(b"GET /metrics HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
        .map_err(|error| format!("GET /metrics: {error}"))?;
    if reply.status == 200 && reply.body.starts_with(b"# HELP") {
        Ok(())
    } else {
        Err(format!(
            "GET /metrics answered status {}: this is not {METRICS_HINT}",
            reply.status
        ))
    }
}

/// A server started by [`Programs::start`]; killed on drop.
#[derive(Debug)]
pub struct Running {
    /// Which server.
    pub peer: Peer,
    child: Child,
    /// Its process id (that of the server itself, `taskset` runs it in its place).
    pub pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Running {
    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks it to stop with SIGINT and waits up to `patience` for it to exit (a server
    /// under valgrind writes its counts then); kills it if it does not.
    pub fn interrupt(&mut self, patience: Duration) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + patience;
        while std::time::Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
    }

    /// Kills it and waits for it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The end of its log (stderr).
    pub fn log_tail(&self) -> String {
        tail(&self.log, 20)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `lines` lines of a file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(metrics_bin_dir: Option<&str>) -> Programs {
        Programs {
            bin_dir: PathBuf::from("release"),
            metrics_bin_dir: metrics_bin_dir.map(PathBuf::from),
            node_dir: PathBuf::from("node"),
            flavor: Flavor::CurrentThread,
            log_dir: PathBuf::from("logs"),
            parse: None,
        }
    }

    /// `ours-metrics` is named on the command line, but a run that names no peers leaves it
    /// out (it needs a second build); the defaults are every other peer, in table order.
    #[test]
    fn ours_metrics_is_a_peer_but_not_a_default() {
        assert_eq!("ours-metrics".parse(), Ok(Peer::OursMetrics));
        let others: Vec<Peer> = Peer::ALL
            .into_iter()
            .filter(|&peer| peer != Peer::OursMetrics)
            .collect();
        assert_eq!(Peer::DEFAULT.to_vec(), others);
        for payload in Payload::ALL {
            assert_eq!(Peer::OursMetrics.measures(payload), Ok(()));
        }
    }

    /// `ours-metrics` runs `ours`, as `ours` does, from the metrics build's directory, and
    /// refuses to run without one.
    #[test]
    fn ours_metrics_runs_ours_of_the_metrics_build() {
        let without = programs(None);
        assert!(without.rust_program(Peer::OursMetrics).is_err());
        assert!(without.check(&[Peer::OursMetrics]).is_err());
        let with = programs(Some("metrics/release"));
        let ours: &[&str] = &[];
        assert_eq!(
            with.rust_program(Peer::OursMetrics),
            Ok(Some((PathBuf::from("metrics/release/ours"), ours)))
        );
        assert_eq!(
            with.rust_program(Peer::Ours),
            Ok(Some((PathBuf::from("release/ours"), ours)))
        );
        assert_eq!(with.rust_program(Peer::Express), Ok(None));
    }
}
