//! A beforeSave that validates and modifies: it refuses bad data, normalises a field, keeps
//! the client's atomic increments, and counts edits with an increment of its own.
//! Run: `MORALIS_WEBHOOKS_KEY=hookkey cargo run --example before_save`.

use moralis_webhooks::{before_save, Error, ParseObject, TriggerRequest};

#[before_save("GameScore")]
async fn validate_score(req: TriggerRequest) -> Result<ParseObject, Error> {
    let is_update = req.is_update();
    let mut score = req.object;

    // Under a client's `{"__op": "Increment"}`, this reads the value Parse Server will
    // store; the reply still sends the increment, so it stays atomic.
    let points: i64 = score.get("score")?; // missing or not a number: refused
    if !(0..=1_000_000).contains(&points) {
        return Err(Error::new("score must be between 0 and 1000000"));
    }

    if let Some(name) = score.get::<Option<String>>("playerName")? {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(Error::new("playerName must not be blank"));
        }
        if trimmed != name {
            score.set("playerName", trimmed);
        }
    }

    if is_update {
        score.increment("edits", 1); // atomic, even with concurrent saves
    } else {
        score.set("edits", 0);
    }
    // On update only the fields that changed are sent back, so a concurrent update of
    // another field is never overwritten.
    Ok(score)
}

#[tokio::main]
async fn main() -> Result<(), moralis_webhooks::ServeError> {
    tracing_subscriber::fmt().init();
    moralis_webhooks::serve().await
}
