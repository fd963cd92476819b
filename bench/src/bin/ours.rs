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
//! `--before-save typed` serves the GameScore beforeSave as a user with a struct of the
//! object writes it: the handler takes the object decoded into `Score` (`score` must decode
//! as a number, the object's other fields are skipped unparsed), sets `reviewed` and returns
//! the struct; the framework sends back what changed, so the reply is the same as the
//! untyped handler's. `--before-save object` (the default) serves the handler above, which
//! reads and sets fields of a `ParseObject`. The `ours-typed` peer of `bench`.
//!
//! `--function <name>` and `--class <name>` serve the same handlers under one more function
//! name and class (the end-to-end part of `bench` gives each server names of its own).
//!
//! `--parse-url`, `--parse-app-id` and `--parse-master-key` name a Parse Server to call
//! back: the server then also serves the cloud function `topScores` (or the name given with
//! `--top-scores <name>`), which runs one query as its caller (`GameScore` with `score > 100`, highest first, 10 of them:
//! `req.parse().as_caller()`) and answers the objects found.
//!
//! `--runtime current` (the default) runs Tokio's current-thread runtime, `--runtime multi`
//! the multi-thread runtime with `--threads` workers (default 1): the benchmark gives each
//! server one core. Prints `listening on <addr>` once it accepts calls; stops when killed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use moralis_webhooks::{after_find, before_save, cloud_function, AfterFindRequest, Error};
use moralis_webhooks::{FunctionRequest, Params, ParseClient, ParseObject, Server};
use moralis_webhooks::{TriggerRequest, Webhooks};
use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::servers::Flavor;
use serde::{Deserialize, Serialize};

const USAGE: &str = "\
ours: moralis-webhooks serving the benchmark's `echo` function, GameScore beforeSave and
GameScore afterFind

  --addr <ip:port>     listen address (default 127.0.0.1:0: a free port)
  --key <key>          the webhook key (required)
  --function <name>    also serve `echo` as cloud function <name>
  --class <name>       also serve the GameScore beforeSave and afterFind for class <name>
  --before-save <how>  object (the handler reads a ParseObject, the default) or typed (it
                       takes the object decoded into a struct of the fields it uses)
  --runtime <kind>     current (Tokio's current-thread runtime, the default) or multi
  --threads <n>        worker threads of the multi-thread runtime (default 1)
  --parse-url <url>    a Parse Server to call back (with --parse-app-id and
                       --parse-master-key): also serve `topScores`, one query as the caller
  --parse-app-id <id>  its application id
  --parse-master-key <key>
                       its master key
  --top-scores <name>  the name `topScores` is served under (default topScores)

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

/// The GameScore fields the typed beforeSave uses; the object's others are not decoded and
/// stay as they came.
#[derive(Deserialize, Serialize)]
struct Score {
    /// Any number will do; anything else fails to decode, which cancels the save.
    score: f64,
    reviewed: Option<bool>,
}

/// The GameScore beforeSave above, written with a struct (registered by `run` under
/// `--before-save typed`, in place of `review`).
async fn review_typed(req: TriggerRequest<Score>) -> Result<Score, Error> {
    let mut score = req.object;
    score.reviewed = Some(true);
    Ok(score)
}

/// The ten highest GameScores above 100, as the caller may read them (registered by
/// `server` when a Parse Server is named).
async fn top_scores(req: FunctionRequest) -> Result<Vec<ParseObject>, Error> {
    req.parse()
        .as_caller()
        .query("GameScore")
        .greater_than("score", 100)
        .order("-score")
        .limit(10)
        .find::<ParseObject>()
        .await
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
        &[
            "addr",
            "key",
            "function",
            "class",
            "before-save",
            "runtime",
            "threads",
            "parse-url",
            "parse-app-id",
            "parse-master-key",
            "top-scores",
        ],
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
    let typed = match args.get_or("before-save", "object".to_owned())?.as_str() {
        "object" => false,
        "typed" => true,
        other => return Err(format!("--before-save {other}: not object or typed")),
    };
    let mut server = server(
        typed,
        args.get::<String>("function")?,
        args.get::<String>("class")?,
    );
    if let Some(url) = args.get::<String>("parse-url")? {
        let client = ParseClient::builder(url, args.require::<String>("parse-app-id")?)
            .master_key(args.require::<String>("parse-master-key")?)
            .build()
            .map_err(|error| error.to_string())?;
        server = server
            .parse_client(client)
            .webhooks(Webhooks::new().cloud_function(
                args.get_or("top-scores", "topScores".to_owned())?,
                top_scores,
            ));
    }
    let flavor: Flavor = args.get_or("runtime", Flavor::CurrentThread)?;
    let runtime = flavor.runtime(args.get_or("threads", 1)?)?;
    runtime.block_on(async move {
        let bound = server
            .addr(addr)
            .webhook_key(key)
            .bind()
            .await
            .map_err(|error| error.to_string())?;
        println!("listening on {}", bound.local_addr());
        let _ = std::io::stdout().flush();
        bound.serve().await.map_err(|error| error.to_string())
    })
}

/// The server's handlers: those of the attributes, or with `typed` the same registered here
/// with the typed beforeSave (the attributes' would serve the untyped one for GameScore);
/// `function` and `class`: one more name each serves.
fn server(typed: bool, function: Option<String>, class: Option<String>) -> Server {
    let mut more = Webhooks::new();
    let mut classes = Vec::new();
    if typed {
        more = more.cloud_function("echo", echo);
        classes.push("GameScore".to_owned());
    }
    if let Some(name) = function {
        more = more.cloud_function(name, echo);
    }
    classes.extend(class);
    for class in classes {
        more = if typed {
            more.before_save(class.clone(), review_typed)
        } else {
            more.before_save(class.clone(), review)
        };
        more = more.after_find(class, let_through);
    }
    Server::new()
        .handlers_from_attributes(!typed)
        .webhooks(more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use moralis_webhooks::App;
    use moralis_webhooks_bench::workload::{Payload, Workload};

    const KEY: &str = "k";

    fn app(typed: bool) -> App {
        server(typed, Some("echoMore".to_owned()), Some("More".to_owned()))
            .webhook_key(KEY)
            .into_app()
            .expect("valid handlers")
    }

    async fn call(app: &App, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let request = hyper::Request::post(path)
            .header("X-Parse-Webhook-Key", KEY)
            .body(bytes::Bytes::from(body))
            .expect("a request");
        let response = app.handle(request).await;
        (response.status().as_u16(), response.body().to_vec())
    }

    /// The typed beforeSave answers every payload as the untyped one does, byte for byte,
    /// and its reply passes the benchmark's check; so do the other hooks (and the extra
    /// names register without clashing with the attributes').
    #[tokio::test]
    async fn typed_replies_are_the_untyped_ones() {
        let (object, typed) = (app(false), app(true));
        for payload in Payload::ALL {
            let workload = Workload::new(payload);
            let path = match payload {
                Payload::Function => "/functions/echo",
                Payload::Save10K | Payload::Save1M => "/triggers/GameScore/beforeSave",
                Payload::AfterFind1K => "/triggers/GameScore/afterFind",
            };
            let (status, body) = call(&typed, path, workload.body.clone()).await;
            workload
                .check(0, status, &body)
                .unwrap_or_else(|bad| panic!("{payload}: {bad}"));
            assert_eq!(
                (status, body),
                call(&object, path, workload.body.clone()).await,
                "{payload}"
            );
        }
        // A score that is not a number cancels the save, with the same message.
        let body = br#"{"triggerName":"beforeSave","object":{"className":"GameScore",
            "score":"high"},"master":false,"headers":{}}"#;
        let path = "/triggers/GameScore/beforeSave";
        let refused = call(&typed, path, body.to_vec()).await;
        assert!(
            String::from_utf8_lossy(&refused.1).contains("invalid field `score`"),
            "{refused:?}"
        );
        assert_eq!(refused, call(&object, path, body.to_vec()).await);
    }

    /// Built with the `metrics` feature (the `ours-metrics` peer of `bench`), the server
    /// answers `GET /metrics` with the text the driver looks for before it measures it.
    #[cfg(feature = "metrics")]
    #[tokio::test]
    async fn metrics_are_served() {
        let request = hyper::Request::get("/metrics")
            .body(bytes::Bytes::new())
            .expect("a request");
        let response = app(false).handle(request).await;
        assert_eq!(response.status(), 200);
        assert!(response.body().starts_with(b"# HELP"), "{response:?}");
    }
}
