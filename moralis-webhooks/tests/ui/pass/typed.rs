//! Triggers whose objects are the user's own type, with the attributes.

#![deny(warnings)]

use moralis_webhooks::types::{Date, Pointer};
use moralis_webhooks::{after_save, before_save, Error, Trigger, TriggerRequest, Webhooks};

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GameScore {
    score: i64,
    player: Option<Pointer>,
    reviewed: Option<bool>,
    played_at: Option<Date>,
}

#[before_save("GameScore")]
async fn check(mut req: TriggerRequest<GameScore>) -> Result<GameScore, Error> {
    if req.object.score < 0 {
        return Err(Error::new("score must not be negative"));
    }
    req.object.reviewed = Some(true);
    Ok(req.object)
}

#[after_save("GameScore")]
async fn saved(req: TriggerRequest<GameScore>) -> Result<(), Error> {
    let _ = (req.object.player, req.original.map(|o| o.score));
    Ok(())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let score = GameScore {
        score: -1,
        player: None,
        reviewed: None,
        played_at: None,
    };
    let request = TriggerRequest::of(Trigger::BeforeSave, "GameScore", score);
    assert!(runtime.block_on(check(request)).is_err());
    assert_eq!(Webhooks::from_attributes().len(), 2);
}
