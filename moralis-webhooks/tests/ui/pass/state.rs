//! Handlers that take a `State<T>` after the request, with the attributes; the server
//! refuses to start without the state.

#![deny(warnings)]

use moralis_webhooks::{
    before_find, before_save, cloud_function, Error, FindRequest, FunctionRequest, ParseObject,
    Server, State, TriggerRequest,
};

#[derive(Clone)]
struct AppConfig {
    min_score: i64,
}

#[cloud_function("threshold")]
async fn threshold(_req: FunctionRequest, State(config): State<AppConfig>) -> Result<i64, Error> {
    Ok(config.min_score)
}

#[before_save("GameScore")]
async fn check(req: TriggerRequest, state: State<AppConfig>) -> Result<ParseObject, Error> {
    if req.object.get::<i64>("score")? < state.0.min_score {
        return Err(Error::new("too low"));
    }
    Ok(req.object)
}

#[before_find("GameScore")]
async fn gate(_req: FindRequest, moralis_webhooks::State(_config): moralis_webhooks::State<AppConfig>) {}

fn main() {
    let without = Server::new().allow_unauthenticated(true).into_app();
    let message = without.unwrap_err().to_string();
    assert!(message.contains("threshold") && message.contains("AppConfig"), "{message}");
    let with = Server::new()
        .allow_unauthenticated(true)
        .state(AppConfig { min_score: 10 })
        .into_app();
    assert!(with.is_ok());
}
