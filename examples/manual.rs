//! Registering handlers without macros, with closures that share state, and the server
//! configured in code instead of the environment.
//! Run: `cargo run --example manual` (key `dev-key`, port 3001).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use moralis_webhooks::{Error, FunctionRequest, Server, TriggerRequest, Webhooks};

async fn hello(req: FunctionRequest) -> Result<String, Error> {
    Ok(format!("Hello, {}!", req.param::<String>("name")?))
}

#[tokio::main]
async fn main() -> Result<(), moralis_webhooks::ServeError> {
    tracing_subscriber::fmt().init();
    let saves = Arc::new(AtomicU64::new(0));

    let counter = Arc::clone(&saves);
    let reader = Arc::clone(&saves);
    let webhooks = Webhooks::new()
        .cloud_function("hello", hello)
        .cloud_function("saveCount", move |_req: FunctionRequest| {
            let saves = Arc::clone(&reader);
            async move { Ok::<_, Error>(saves.load(Ordering::Relaxed)) }
        })
        .after_save("GameScore", move |_req: TriggerRequest| {
            let saves = Arc::clone(&counter);
            async move {
                saves.fetch_add(1, Ordering::Relaxed);
            }
        });

    Server::new()
        .addr(([127, 0, 0, 1], 3001))
        .webhook_key("dev-key")
        .webhooks(webhooks)
        .serve()
        .await
}
