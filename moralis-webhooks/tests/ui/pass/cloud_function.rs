//! Every accepted `#[cloud_function]` signature, called as the server would call it.

#![deny(warnings)]

use moralis_webhooks::{cloud_function, Error, FunctionRequest, Hook, Params, Webhooks};
use serde::{Deserialize, Serialize};

#[cloud_function("hello")]
async fn hello(req: FunctionRequest) -> Result<String, Error> {
    let name: Option<String> = req.param("name")?;
    Ok(format!("Hello, {}!", name.as_deref().unwrap_or("world")))
}

#[derive(Default, Deserialize)]
struct Add {
    a: f64,
    b: f64,
}

#[cloud_function("add")]
async fn add(req: FunctionRequest<Add>) -> Result<f64, Error> {
    Ok(req.params.a + req.params.b)
}

#[derive(Serialize)]
struct Score {
    player: String,
    score: i64,
}

#[cloud_function("top-score")]
async fn top_score(_req: FunctionRequest) -> Result<Score, Error> {
    Ok(Score {
        player: "ann".to_owned(),
        score: 42,
    })
}

#[cloud_function("ping")]
async fn ping(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl std::error::Error for MyError {}

#[cloud_function("fails")]
async fn fails(_req: FunctionRequest) -> Result<u32, MyError> {
    Err(MyError)
}

/// Unicode and `:` are fine in function names.
#[cloud_function("v2:Größe")]
async fn size(_req: FunctionRequest<serde_json::Value>) -> Result<serde_json::Value, Error> {
    Ok(serde_json::json!({ "size": 1 }))
}

/// A handler with its own time limit, in seconds (integer or fractional).
#[cloud_function("monthlyReport", timeout = 120)]
async fn monthly_report(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("quick", timeout = 0.5, crate = moralis_webhooks)]
async fn quick(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn main() {
    // The handlers are still ordinary functions.
    assert_eq!(
        block_on(hello(FunctionRequest::new("hello", Params::default()))).unwrap(),
        "Hello, world!"
    );
    let sum = block_on(add(FunctionRequest::new("add", Add { a: 1.0, b: 2.0 }))).unwrap();
    assert_eq!(sum, 3.0);
    let _ = add(FunctionRequest::new("add", Add::default()));
    let score = block_on(top_score(FunctionRequest::new(
        "top-score",
        Params::default(),
    )));
    assert_eq!(
        score.map(|s| (s.player, s.score)).unwrap(),
        ("ann".to_owned(), 42)
    );
    block_on(ping(FunctionRequest::new("ping", Params::default()))).unwrap();
    assert!(block_on(fails(FunctionRequest::new("fails", Params::default()))).is_err());
    let _ = size(FunctionRequest::new("v2:Größe", serde_json::Value::Null));
    let _ = (monthly_report, quick);

    // And the attributes registered each one.
    let webhooks = Webhooks::from_attributes();
    let mut names: Vec<&str> = webhooks
        .hooks()
        .map(|(hook, _)| match hook {
            Hook::Function { name } => name.as_str(),
            Hook::Trigger { .. } => panic!("unexpected trigger {hook}"),
        })
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add",
            "fails",
            "hello",
            "monthlyReport",
            "ping",
            "quick",
            "top-score",
            "v2:Größe"
        ]
    );
}
