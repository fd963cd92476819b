//! Typed parameters: a cloud function whose params decode into a struct; bad params never
//! reach the handler, and the client is told which one is wrong.
//! Run: `MORALIS_WEBHOOKS_KEY=hookkey cargo run --example typed_params`, then
//! `curl -H 'X-Parse-Webhook-Key: hookkey' -d '{"params":{"a":2,"b":"x"}}' localhost:3000/functions/add`.

use moralis_webhooks::{cloud_function, Error, FunctionRequest};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
struct Add {
    a: f64,
    b: f64,
}

#[cloud_function("add")]
async fn add(req: FunctionRequest<Add>) -> Result<f64, Error> {
    Ok(req.params.a + req.params.b)
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default = "first_page")]
    page: u32,
    #[serde(default)]
    tags: Vec<String>,
}

fn first_page() -> u32 {
    1
}

#[derive(Serialize)]
struct Listing {
    page: u32,
    tags: Vec<String>,
    caller: Option<String>,
}

/// The result can be any `Serialize` type: the client gets it as `result`.
#[cloud_function("listScores")]
async fn list_scores(req: FunctionRequest<Page>) -> Result<Listing, Error> {
    Ok(Listing {
        page: req.params.page,
        tags: req.params.tags,
        caller: req.user.and_then(|user| user.username().map(str::to_owned)),
    })
}

#[tokio::main]
async fn main() -> Result<(), moralis_webhooks::ServeError> {
    tracing_subscriber::fmt().init();
    moralis_webhooks::serve().await
}
