//! Parse values and typed objects: a beforeSave that works on a struct of the class's
//! fields (dates, pointers, an ACL), and a cloud function whose parameters are Parse values.
//! Run: `MORALIS_WEBHOOKS_KEY=hookkey cargo run --example typed_objects`.

use moralis_webhooks::types::{Acl, Date, GeoPoint, Pointer};
use moralis_webhooks::{before_save, cloud_function, Error, FunctionRequest, TriggerRequest};
use serde::{Deserialize, Serialize};

/// The fields of `GameScore` this server cares about; the others are left as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GameScore {
    score: i64,
    player: Pointer,
    reviewed: Option<bool>,
    played_at: Option<Date>,
    #[serde(rename = "ACL")]
    acl: Option<Acl>,
}

#[before_save("GameScore")]
async fn check(mut req: TriggerRequest<GameScore>) -> Result<GameScore, Error> {
    // Under a client's `Increment`, `score` is what Parse Server will store; left as is,
    // the increment goes back as an increment.
    if req.object.score < 0 {
        return Err(Error::new("score must not be negative"));
    }
    req.object.reviewed = Some(true);
    let played_at = *req.object.played_at.get_or_insert_with(Date::now);
    // With the `chrono` feature, dates convert to and from `chrono::DateTime<Utc>`.
    let played = chrono::DateTime::<chrono::Utc>::from(played_at);
    if played > chrono::DateTime::<chrono::Utc>::from(Date::now()) {
        return Err(Error::new("a score cannot be played in the future"));
    }
    if req.object.acl.is_none() {
        // Readable by everyone, written by its player only.
        let mut acl = Acl::private_to(req.object.player.object_id());
        acl.set_public_read(true);
        req.object.acl = Some(acl);
    }
    Ok(req.object) // only the fields that changed are sent back
}

#[derive(Deserialize)]
struct Checkin {
    /// A Date parameter arrives as a plain ISO string; `Date` reads both forms.
    at: Date,
    /// A pointer parameter arrives as `{"objectId": ...}` only.
    venue: Pointer,
    latitude: f64,
    longitude: f64,
}

#[cloud_function("checkin")]
async fn checkin(req: FunctionRequest<Checkin>) -> Result<serde_json::Value, Error> {
    let place = GeoPoint::new(req.params.latitude, req.params.longitude)?; // out of range: refused
    Ok(serde_json::json!({
        "venue": req.params.venue.object_id(),
        "at": req.params.at,
        "where": place,
    }))
}

#[tokio::main]
async fn main() -> Result<(), moralis_webhooks::ServeError> {
    tracing_subscriber::fmt().init();
    moralis_webhooks::serve().await
}
