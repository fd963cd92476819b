//! The webhooks mounted in an existing axum service, under `/webhooks`, next to the
//! service's own routes; health and graceful shutdown are axum's.
//! Run: `MORALIS_WEBHOOKS_KEY=hookkey cargo run --example axum` (port 3000), then
//! `curl -X POST -H 'X-Parse-Webhook-Key: hookkey' -d '{"params":{"name":"Ada"}}'
//! http://127.0.0.1:3000/webhooks/functions/hello`.
//!
//! Register the hooks with the public URL ending in the prefix
//! (`MORALIS_WEBHOOKS_PUBLIC_URL=https://api.example.com/webhooks`): the app then also
//! accepts the paths with the prefix, however the router passes them on.

use axum::routing::get;
use axum::Router;
use moralis_webhooks::{cloud_function, Error, FunctionRequest, Server};

#[cloud_function("hello")]
async fn hello(req: FunctionRequest) -> Result<String, Error> {
    Ok(format!("Hello, {}!", req.param::<String>("name")?))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    // The same settings as `serve()` (the key, limits, timeouts, the Parse client), as a
    // tower service; the address and drain settings are axum's business here.
    let webhooks = Server::from_env()?.into_app()?;
    let app = Router::new()
        .route("/", get(|| async { "the service's own routes" }))
        .route("/healthz", get(|| async { "ok" }))
        .nest_service("/webhooks", webhooks);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 3000)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
