//! `webhook-replica`: one replica of a webhook deployment, as the production tests
//! (`tests/tests/production.rs`) run two of them behind nginx and restart them one at a time.
//!
//! Configured from the environment like any `moralis_webhooks` server (`Server::from_env()`:
//! `MORALIS_WEBHOOKS_ADDR`, `MORALIS_WEBHOOKS_KEY`, `MORALIS_WEBHOOKS_DRAIN_DELAY`, the
//! registration variables, ...), plus `WEBHOOK_REPLICA_NAME`, the name its answers carry
//! (default `replica`). Logs go to stderr (`RUST_LOG`, default `info`).
//!
//! Its hooks:
//! - cloud function `whoami`: `{"replica": <name>, "pid": <process id>}`;
//! - `GameScore` beforeSave: sets `servedBy` (the name), `servedByPid` (the process id) and
//!   `reviewed: true`.
//!
//! When it stops (SIGTERM or Ctrl-C start the framework's graceful drain), it prints
//! `webhook-replica <name> (pid <pid>): served <n> calls` to stderr: the calls its handlers
//! answered, so that a test can check that no call was delivered twice.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use moralis_webhooks::TriggerRequest;
use moralis_webhooks::{before_save, cloud_function, Error, FunctionRequest, ParseObject, Server};
use serde_json::{json, Value};

/// The calls the handlers answered.
static SERVED: AtomicU64 = AtomicU64::new(0);

/// This replica's name (`WEBHOOK_REPLICA_NAME`).
fn name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var("WEBHOOK_REPLICA_NAME").unwrap_or_else(|_| "replica".to_owned())
    })
}

#[cloud_function("whoami")]
async fn whoami(_req: FunctionRequest) -> Result<Value, Error> {
    SERVED.fetch_add(1, Ordering::Relaxed);
    Ok(json!({"replica": name(), "pid": std::process::id()}))
}

#[before_save("GameScore")]
async fn stamp(req: TriggerRequest) -> Result<ParseObject, Error> {
    SERVED.fetch_add(1, Ordering::Relaxed);
    let mut score = req.object;
    score
        .set("servedBy", name())
        .set("servedByPid", std::process::id())
        .set("reviewed", true);
    Ok(score)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Server::from_env() {
        Ok(server) => server.serve().await,
        Err(error) => Err(error),
    };
    eprintln!(
        "webhook-replica {} (pid {}): served {} calls",
        name(),
        std::process::id(),
        SERVED.load(Ordering::Relaxed)
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("webhook-replica {}: {error}", name());
            ExitCode::FAILURE
        }
    }
}
