//! The benchmark's handlers served by moralis-webhooks, as a user of the framework writes
//! them (compare `raw-hyper`, `bench/node/express.js`, `bench/node/parse-cloud-express.js`):
//!
//! - cloud function `echo`: answers `{"success": <params>}`;
//! - `GameScore` beforeSave: `score` must be a number; sets `reviewed: true` and returns the
//!   object, which the framework answers on create with `{"success": <the object without
//!   className>}`;
//! - `GameScore` afterFind: reads nothing and lets the results through, which the framework
//!   answers with `{}` (each result stays the text it came as, never split into fields).
//!
//! `--function <name>` and `--class <name>` serve the same handlers under one more function
//! name and class (the end-to-end part of `bench` gives each server names of its own).
//!
//! `--runtime current` (the default) runs Tokio's current-thread runtime, `--runtime multi`
//! the multi-thread runtime with `--threads` workers (default 1): the benchmark gives each
//! server one core. Prints `listening on <addr>` once it accepts calls; stops when killed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use moralis_webhooks::{after_find, before_save, cloud_function, AfterFindRequest, Error};
use moralis_webhooks::{FunctionRequest, Params, ParseObject, Server, TriggerRequest, Webhooks};
use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::servers::Flavor;

const USAGE: &str = "\
ours: moralis-webhooks serving the benchmark's `echo` function, GameScore beforeSave and
GameScore afterFind

  --addr <ip:port>     listen address (default 127.0.0.1:0: a free port)
  --key <key>          the webhook key (required)
  --function <name>    also serve `echo` as cloud function <name>
  --class <name>       also serve the GameScore beforeSave and afterFind for class <name>
  --runtime <kind>     current (Tokio's current-thread runtime, the default) or multi
  --threads <n>        worker threads of the multi-thread runtime (default 1)

Prints `listening on <addr>` when ready. Warnings go to stderr (RUST_LOG, default warn).";

#[cloud_function("echo")]
async fn echo(req: FunctionRequest) -> Result<Params, Error> {
    Ok(req.params)
}

#[before_save("GameScore")]
async fn review(req: TriggerRequest) -> Result<ParseObject, Error> {
    let mut object = req.object;
    // Any number will do; anything else cancels the save.
    let _: f64 = object.get("score")?;
    object.set("reviewed", true);
    Ok(object)
}

#[after_find("GameScore")]
async fn let_through(_req: AfterFindRequest) -> Result<(), Error> {
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ours: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = Args::parse(
        USAGE,
        &["addr", "key", "function", "class", "runtime", "threads"],
    )?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let addr: SocketAddr = args.get_or("addr", SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let key: String = args.require("key")?;
    let mut more = Webhooks::new();
    if let Some(name) = args.get::<String>("function")? {
        more = more.cloud_function(name, echo);
    }
    if let Some(class) = args.get::<String>("class")? {
        more = more
            .before_save(class.clone(), review)
            .after_find(class, let_through);
    }
    let flavor: Flavor = args.get_or("runtime", Flavor::CurrentThread)?;
    let runtime = flavor.runtime(args.get_or("threads", 1)?)?;
    runtime.block_on(async move {
        let bound = Server::new()
            .addr(addr)
            .webhook_key(key)
            .webhooks(more)
            .bind()
            .await
            .map_err(|error| error.to_string())?;
        println!("listening on {}", bound.local_addr());
        let _ = std::io::stdout().flush();
        bound.serve().await.map_err(|error| error.to_string())
    })
}
