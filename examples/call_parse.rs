//! Handlers that call Parse Server back: a query as the caller, a save as master marked so
//! that the trigger it re-enters can tell it apart, shared state, and validators.
//! Run: `MORALIS_WEBHOOKS_KEY=hookkey PARSE_SERVER_URL=http://127.0.0.1:1337/parse
//! PARSE_SERVER_APPLICATION_ID=app PARSE_SERVER_MASTER_KEY=master cargo run --example call_parse`.

use moralis_webhooks::types::Pointer;
use moralis_webhooks::{
    after_save, cloud_function, Error, FunctionRequest, ParseObject, Server, State, TriggerRequest,
};
use serde_json::json;

#[derive(Clone)]
struct AppConfig {
    min_score: i64,
}

/// The best scores the caller may read (their ACLs apply), above the configured minimum.
#[cloud_function("topScores", require_user)]
async fn top_scores(
    req: FunctionRequest,
    State(config): State<AppConfig>,
) -> Result<Vec<ParseObject>, Error> {
    req.parse()
        .as_caller()
        .query("GameScore")
        .greater_than("score", config.min_score)
        .order("-score")
        .limit(10)
        .find()
        .await
}

/// Keeps an audit trail of saves. The audit entry is written with the master key and the
/// context `fromHook`: its own afterSave (the same class) sees it and stops there.
#[after_save("Audit")]
async fn audit(req: TriggerRequest) -> Result<(), Error> {
    if req.context.get("fromHook").is_some() {
        return Ok(());
    }
    let mut entry = ParseObject::new("Audit");
    entry.set(
        "of",
        Pointer::new("Audit", req.object.id().unwrap_or_default()),
    );
    req.parse()
        .as_master()
        .context(json!({"fromHook": true}))
        .save(&mut entry)
        .await
}

/// Only members of `Moderators` (or of a role inside it) may reset a score.
#[cloud_function("resetScore", require_any_role = ["Moderators"])]
async fn reset_score(req: FunctionRequest) -> Result<(), Error> {
    let id: String = req.param("id")?;
    let parse = req.parse().as_master();
    let mut score: ParseObject = parse.get("GameScore", &id).await?; // 101 if missing
    score.set("score", 0);
    parse.save(&mut score).await
}

#[tokio::main]
async fn main() -> Result<(), moralis_webhooks::ServeError> {
    tracing_subscriber::fmt().init();
    Server::from_env()?
        .state(AppConfig { min_score: 100 })
        .serve()
        .await
}
