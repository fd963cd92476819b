//! Quick start: a cloud function and the four triggers of one class, served on
//! 127.0.0.1:3000. Run: `MORALIS_WEBHOOKS_KEY=hookkey cargo run --example quickstart`
//! (the key is your Parse Server's `webhookKey`). This package enables the `metrics`
//! feature: `curl http://127.0.0.1:3000/metrics` shows the calls served.

use moralis_webhooks::{
    after_delete, after_save, before_delete, before_save, cloud_function, Error, FunctionRequest,
    ParseObject, TriggerRequest,
};

#[cloud_function("hello")]
async fn hello(req: FunctionRequest) -> Result<String, Error> {
    let name: String = req.param("name")?; // missing or not a string: the client is told
    Ok(format!("Hello, {name}!"))
}

#[before_save("GameScore")]
async fn check_score(req: TriggerRequest) -> Result<ParseObject, Error> {
    let mut score = req.object;
    if let Some(points) = score.get::<Option<i64>>("score")? {
        if points < 0 {
            return Err(Error::new("score must not be negative")); // the save is cancelled
        }
    }
    score.set("reviewed", true);
    Ok(score) // only what changed goes back to Parse Server
}

#[after_save("GameScore")]
async fn saved(req: TriggerRequest) {
    println!(
        "GameScore {:?} saved (update: {})",
        req.object.id(),
        req.is_update()
    );
}

#[before_delete("GameScore")]
async fn keep_records(req: TriggerRequest) -> Result<(), Error> {
    if req.object.get::<Option<bool>>("locked")?.unwrap_or(false) && !req.master {
        return Err(Error::new("this score is locked"));
    }
    Ok(())
}

#[after_delete("GameScore")]
async fn deleted(req: TriggerRequest) {
    println!("GameScore {:?} deleted", req.object.id());
}

#[tokio::main]
async fn main() -> Result<(), moralis_webhooks::ServeError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    moralis_webhooks::serve().await
}
