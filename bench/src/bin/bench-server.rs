//! The server under test: moralis-webhooks serving realistic handlers.
//!
//! - cloud function `hello`: reads the `name` parameter and the calling user, answers
//!   a greeting;
//! - `GameScore` beforeSave: reads `score`, refuses negative ones, sets `reviewed` and
//!   `scoreBand`, returns the object (so the framework computes the reply: the whole object
//!   on create, the changed fields on update);
//! - `GameScore` afterSave: reads the object's id and counts the saves.
//!
//! Configured like any moralis-webhooks server, from the `MORALIS_WEBHOOKS_*` variables,
//! which `--addr` and `--key` override. Once listening it prints `listening on <addr>`
//! on stdout (useful with `--addr 127.0.0.1:0`); it stops on SIGTERM or Ctrl-C. Logs go to
//! stderr (`RUST_LOG`, default `info`: start-up, warnings and errors, never one per call).

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use moralis_webhooks::{after_save, before_save, cloud_function, Error, FunctionRequest};
use moralis_webhooks::{ParseObject, Server, TriggerRequest};
use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::{greeting, score_band};

const USAGE: &str = "\
bench-server: moralis-webhooks serving the benchmark's handlers

  --addr <ip:port>   listen address (else MORALIS_WEBHOOKS_ADDR, else 127.0.0.1:3000;
                     port 0 picks a free port)
  --key <key>        the webhook key (else MORALIS_WEBHOOKS_KEY)
  --threads <n>      Tokio worker threads (default: the CPUs this process may run on)

Every other setting comes from the MORALIS_WEBHOOKS_* variables (see GUIDE.md).
Prints `listening on <addr>` when ready; stops on SIGTERM or Ctrl-C.";

/// GameScore saves seen by the afterSave handler.
static SAVES: AtomicU64 = AtomicU64::new(0);

#[cloud_function("hello")]
async fn hello(req: FunctionRequest) -> Result<String, Error> {
    let name: String = req.param("name")?;
    let username = req.user.as_ref().and_then(|user| user.username());
    Ok(greeting(&name, username))
}

#[before_save("GameScore")]
async fn review_score(req: TriggerRequest) -> Result<ParseObject, Error> {
    let mut score = req.object;
    let points: i64 = score.get("score")?;
    if points < 0 {
        return Err(Error::new("score must not be negative"));
    }
    score.set("reviewed", true);
    score.set("scoreBand", score_band(points));
    Ok(score)
}

#[after_save("GameScore")]
async fn count_save(req: TriggerRequest) -> Result<(), Error> {
    if req.object.id().is_none() {
        return Err(Error::new("a saved GameScore has an objectId"));
    }
    SAVES.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = Args::parse(USAGE, &["addr", "key", "threads"])?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let runtime = args.multi_thread_runtime()?;

    let mut server = Server::from_env().map_err(|error| error.to_string())?;
    if let Some(addr) = args.get::<SocketAddr>("addr")? {
        server = server.addr(addr);
    }
    if let Some(key) = args.get::<String>("key")? {
        server = server.webhook_key(key);
    }
    runtime.block_on(async move {
        let bound = server.bind().await.map_err(|error| error.to_string())?;
        println!("listening on {}", bound.local_addr());
        let _ = std::io::stdout().flush();
        bound.serve().await.map_err(|error| error.to_string())?;
        eprintln!(
            "bench-server: stopped after {} GameScore saves",
            SAVES.load(Ordering::Relaxed)
        );
        Ok(())
    })
}
