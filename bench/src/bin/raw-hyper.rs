//! The limit the framework is measured against: the benchmark's handlers on hyper 1 alone,
//! with no framework, doing the same work (compare `ours`):
//!
//! - `POST /functions/echo`: answers `{"success": <params>}`;
//! - `POST /triggers/GameScore/beforeSave`: `score` must be a number; answers
//!   `{"success": <the object without className, with reviewed: true>}`;
//! - `POST /triggers/GameScore/afterFind`: the results (`objects`) must be objects; answers
//!   `{}`.
//!
//! Every call must carry the `X-Parse-Webhook-Key` (401 otherwise); bodies are limited to
//! 16 MiB (413), collected, parsed into a `serde_json::Value`, and the reply is made by
//! moving values out of it, never copying them. HTTP/1.1 with keep-alive, `TCP_NODELAY`.
//!
//! `--after-find rawvalue` reads an afterFind call as a lean server written for it would:
//! only `objects`, each result kept as the text it came as (`Vec<&RawValue>`), every other
//! field skipped without building anything (`--after-find value`, the default: the whole
//! body parsed into a `serde_json::Value`, as every other hook).
//!
//! `--function <name>` and `--class <name>` serve the hooks under another function name and
//! class (the end-to-end part of `bench` gives each server names of its own).
//!
//! `--parse-url` and `--parse-app-id` name a Parse Server to call back: the server then also
//! serves the cloud function `topScores` (or `--top-scores <name>`), the baseline of `ours`' handler of that name. It
//! makes the same REST call as the caller (`GET <url>/classes/GameScore?where=
//! {"score":{"$gt":100}}&order=-score&limit=10` with the application id, and the caller's
//! session token and installation id when the call has them) through one kept-alive
//! hyper-util client, and answers `{"success": <the results>}`.
//!
//! `--runtime current` (the default) runs Tokio's current-thread runtime, `--runtime multi`
//! the multi-thread runtime with `--threads` workers (default 1), as `ours` does. Prints
//! `listening on <addr>` once it accepts calls; stops when killed.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use moralis_webhooks_bench::args::Args;
use moralis_webhooks_bench::servers::Flavor;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::net::TcpListener;

const USAGE: &str = "\
raw-hyper: the benchmark's handlers on hyper alone (no framework)

  --addr <ip:port>     listen address (default 127.0.0.1:0: a free port)
  --key <key>          the webhook key (required)
  --function <name>    the cloud function's name (default echo)
  --class <name>       the beforeSave's and afterFind's class (default GameScore)
  --after-find <how>   value (parse the whole call, the default) or rawvalue (keep each
                       result as raw text)
  --runtime <kind>     current (Tokio's current-thread runtime, the default) or multi
  --threads <n>        worker threads of the multi-thread runtime (default 1)
  --parse-url <url>    a Parse Server to call back (with --parse-app-id): also serve
                       `topScores`, one query as the caller
  --parse-app-id <id>  its application id
  --parse-master-key <key>
                       accepted and unused (the query runs as the caller)
  --top-scores <name>  the name `topScores` is served under (default topScores)

Prints `listening on <addr>` when ready.";

/// The largest body accepted, as the framework's default.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("raw-hyper: {message}");
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
            "after-find",
            "runtime",
            "threads",
            "parse-url",
            "parse-app-id",
            "parse-master-key",
            "top-scores",
        ],
    )?;
    let addr: SocketAddr = args.get_or("addr", SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let class = args.get_or("class", "GameScore".to_owned())?;
    let top_scores = format!(
        "/functions/{}",
        args.get_or("top-scores", "topScores".to_owned())?
    );
    let routes = Arc::new(Routes {
        key: args.require::<String>("key")?,
        function: format!("/functions/{}", args.get_or("function", "echo".to_owned())?),
        before_save: format!("/triggers/{class}/beforeSave"),
        after_find: format!("/triggers/{class}/afterFind"),
        results: match args.get_or("after-find", "value".to_owned())?.as_str() {
            "value" => Results::Value,
            "rawvalue" => Results::RawValue,
            other => return Err(format!("--after-find {other}: not value or rawvalue")),
        },
        top_scores,
        parse: match args.get::<String>("parse-url")? {
            Some(url) => Some(Callback::new(&url, args.require("parse-app-id")?)?),
            None => None,
        },
    });
    let flavor: Flavor = args.get_or("runtime", Flavor::CurrentThread)?;
    let runtime = flavor.runtime(args.get_or("threads", 1)?)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
        let local = listener
            .local_addr()
            .map_err(|error| format!("cannot read the address: {error}"))?;
        println!("listening on {local}");
        let _ = std::io::stdout().flush();
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("raw-hyper: accept failed: {error}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let routes = Arc::clone(&routes);
            tokio::spawn(async move {
                let service = service_fn(move |request| handle(request, Arc::clone(&routes)));
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// The key, the paths of the hooks, and how afterFind results are read.
struct Routes {
    key: String,
    function: String,
    before_save: String,
    after_find: String,
    results: Results,
    /// The path of `topScores`.
    top_scores: String,
    /// The Parse Server `topScores` calls back, if any.
    parse: Option<Callback>,
}

/// `topScores`' call to Parse Server: its URI, application id and kept-alive client.
struct Callback {
    uri: hyper::Uri,
    app_id: HeaderValue,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Callback {
    fn new(url: &str, app_id: String) -> Result<Callback, String> {
        // where={"score":{"$gt":100}}&order=-score&limit=10, encoded.
        let uri = format!(
            "{}/classes/GameScore?where=%7B%22score%22%3A%7B%22%24gt%22%3A100%7D%7D\
             &order=-score&limit=10",
            url.trim_end_matches('/')
        );
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Ok(Callback {
            uri: uri
                .parse()
                .map_err(|error| format!("--parse-url {url}: {error}"))?,
            app_id: HeaderValue::from_str(&app_id)
                .map_err(|_| "--parse-app-id: not a header value".to_owned())?,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Runs the query as the caller of `call` (its session token and installation id);
    /// the results, or why not.
    async fn top_scores(&self, call: &Map<String, Value>) -> Result<Value, String> {
        let mut request =
            Request::get(self.uri.clone()).header("x-parse-application-id", self.app_id.clone());
        if let Some(Value::String(token)) =
            call.get("user").and_then(|user| user.get("sessionToken"))
        {
            request = request.header("x-parse-session-token", token.as_str());
        }
        if let Some(Value::String(id)) = call.get("installationId") {
            request = request.header("x-parse-installation-id", id.as_str());
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|error| error.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| format!("Parse Server: {error}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| format!("Parse Server: {error}"))?
            .to_bytes();
        let mut answer: Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|_| format!("Parse Server answered {status} with no JSON object"))?;
        match answer.remove("results") {
            Some(results) if status.is_success() => Ok(results),
            _ => Err(format!(
                "Parse Server answered {status}: {}",
                String::from_utf8_lossy(&body)
            )),
        }
    }
}

/// How an afterFind call is read.
#[derive(Clone, Copy)]
enum Results {
    /// The whole call parsed into a `serde_json::Value`.
    Value,
    /// Only `objects`, each result kept as raw text.
    RawValue,
}

/// The hooks.
enum Hook {
    Echo,
    TopScores,
    BeforeSave,
    AfterFind,
}

async fn handle(
    request: Request<Incoming>,
    routes: Arc<Routes>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    let hook = if request.method() != Method::POST {
        return Ok(reply(StatusCode::NOT_FOUND, error("no such hook")));
    } else if path == routes.function {
        Hook::Echo
    } else if path == routes.before_save {
        Hook::BeforeSave
    } else if path == routes.after_find {
        Hook::AfterFind
    } else if path == routes.top_scores && routes.parse.is_some() {
        Hook::TopScores
    } else {
        return Ok(reply(StatusCode::NOT_FOUND, error("no such hook")));
    };
    let authorized = request
        .headers()
        .get("x-parse-webhook-key")
        .is_some_and(|sent| sent.as_bytes() == routes.key.as_bytes());
    if !authorized {
        return Ok(reply(StatusCode::UNAUTHORIZED, error("unauthorized")));
    }
    let body = match Limited::new(request.into_body(), BODY_LIMIT)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                error("body too large"),
            ))
        }
    };
    let not_json = || reply(StatusCode::BAD_REQUEST, error("not a JSON object"));
    let answer = match hook {
        Hook::AfterFind => {
            let checked = match routes.results {
                Results::Value => serde_json::from_slice(&body).map(after_find),
                Results::RawValue => serde_json::from_slice(&body).map(after_find_raw),
            };
            match checked {
                Ok(checked) => checked.map(|()| b"{}".to_vec()),
                Err(_) => return Ok(not_json()),
            }
        }
        Hook::TopScores => {
            let Ok(call) = serde_json::from_slice::<Map<String, Value>>(&body) else {
                return Ok(not_json());
            };
            let parse = routes
                .parse
                .as_ref()
                .expect("routed only with a Parse Server");
            match parse.top_scores(&call).await {
                Ok(results) => Ok(success(results, 4096)),
                Err(message) => return Ok(reply(StatusCode::OK, error(&message))),
            }
        }
        Hook::Echo | Hook::BeforeSave => {
            let Ok(call) = serde_json::from_slice::<Map<String, Value>>(&body) else {
                return Ok(not_json());
            };
            let answer = match hook {
                Hook::BeforeSave => before_save(call),
                _ => echo(call),
            };
            answer.map(|value| success(value, body.len()))
        }
    };
    let answer = answer.unwrap_or_else(error);
    Ok(reply(StatusCode::OK, answer))
}

/// `{"success": <params>}`.
fn echo(mut call: Map<String, Value>) -> Result<Value, &'static str> {
    Ok(call
        .remove("params")
        .unwrap_or_else(|| Value::Object(Map::new())))
}

/// `{"success": <the object without className, with reviewed: true>}`.
fn before_save(mut call: Map<String, Value>) -> Result<Value, &'static str> {
    let Some(Value::Object(mut object)) = call.remove("object") else {
        return Err("no object");
    };
    if !object.get("score").is_some_and(Value::is_number) {
        return Err("score must be a number");
    }
    object.remove("className");
    object.insert("reviewed".to_owned(), Value::Bool(true));
    Ok(Value::Object(object))
}

/// An afterFind call, parsed whole: the results must be objects.
fn after_find(call: Map<String, Value>) -> Result<(), &'static str> {
    match call.get("objects") {
        Some(Value::Array(objects)) if objects.iter().all(Value::is_object) => Ok(()),
        _ => Err("the results are not objects"),
    }
}

/// The part of an afterFind call a lean server reads: the results, each kept as the text
/// it came as (every other field is skipped without building anything).
#[derive(Deserialize)]
struct AfterFindCall<'a> {
    #[serde(borrow)]
    objects: Vec<&'a RawValue>,
}

/// An afterFind call, its results kept as text: they must be objects.
fn after_find_raw(call: AfterFindCall<'_>) -> Result<(), &'static str> {
    if call
        .objects
        .iter()
        .all(|object| object.get().starts_with('{'))
    {
        Ok(())
    } else {
        Err("the results are not objects")
    }
}

/// Serializes `{"success": value}`; `hint` is the size of the request body, about that of
/// the reply.
fn success(value: Value, hint: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(hint + 16);
    out.extend_from_slice(b"{\"success\":");
    serde_json::to_writer(&mut out, &value).expect("a JSON value serializes");
    out.push(b'}');
    out
}

/// `{"error": message}`.
fn error(message: &str) -> Vec<u8> {
    let mut out = b"{\"error\":".to_vec();
    serde_json::to_writer(&mut out, message).expect("a string serializes");
    out.push(b'}');
    out
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
