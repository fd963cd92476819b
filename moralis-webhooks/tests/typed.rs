//! Objects decoded into the user's types: what a typed handler reads (pending operations as
//! the value Parse Server will store) and the reply when it returns its object (only what
//! changed by value; operations, unknown fields and `None`s left alone), with the bodies a
//! real Parse Server 9.10.0 sent.

mod common;

use bytes::Bytes;
use moralis_webhooks::types::{Date, Pointer};
use moralis_webhooks::{App, Error, ParseObject, Server, TriggerRequest, Webhooks};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::fixture;

const KEY: &str = "hookkey";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GameScore {
    score: i64,
    player_name: String,
    reviewed: Option<bool>,
    played_at: Option<Date>,
}

fn app(webhooks: Webhooks) -> App {
    Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(webhooks)
        .into_app()
        .expect("valid handlers")
}

async fn call(app: &App, path: &str, body: &Value) -> Value {
    let request = http::Request::post(path)
        .header("X-Parse-Webhook-Key", KEY)
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let response = app.handle(request).await;
    assert_eq!(response.status(), 200);
    serde_json::from_slice(response.body()).unwrap()
}

async fn call_fixture(app: &App, name: &str) -> Value {
    let (path, body) = fixture(name);
    call(app, &path, &body).await
}

/// Marks the score reviewed; refuses scores over 5000 (read through the client's ops).
fn reviewing() -> Webhooks {
    Webhooks::new().before_save(
        "GameScore",
        |mut req: TriggerRequest<GameScore>| async move {
            if req.object.score > 5000 {
                return Err(Error::new(format!(
                    "score {} is too high",
                    req.object.score
                )));
            }
            req.object.reviewed = Some(true);
            Ok(req.object)
        },
    )
}

#[tokio::test]
async fn a_typed_before_save_on_create_sends_the_whole_object_with_its_change() {
    let app = app(reviewing());
    assert_eq!(
        call_fixture(&app, "beforeSave_create").await,
        json!({"success": {"score": 1337, "playerName": "Sean Plott", "cheatMode": false,
                           "reviewed": true}})
    );
}

#[tokio::test]
async fn a_typed_before_save_on_update_keeps_the_clients_increment_atomic() {
    let app = app(reviewing());
    // The handler read 1343 (1338 stored + 5) and left it: the reply carries the client's
    // operation, not 1343, and the field the struct does not know (`cheatMode`) is not sent.
    assert_eq!(
        call_fixture(&app, "beforeSave_update_increment_user").await,
        json!({"success": {"score": {"__op": "Increment", "amount": 5}, "reviewed": true}})
    );
    let (path, mut body) = fixture("beforeSave_update_increment_user");
    body["object"]["score"] = json!({"__op": "Increment", "amount": 4000});
    assert_eq!(
        call(&app, &path, &body).await,
        json!({"error": "score 5338 is too high"})
    );
}

#[tokio::test]
async fn values_equal_by_value_are_no_change() {
    let app = app(Webhooks::new().before_save(
        "GameScore",
        |req: TriggerRequest<Value>| async move {
            let mut object = req.object;
            // The same number written as a float, the same date with more digits.
            object["score"] = json!(1338.0);
            object["when"] = json!({"__type": "Date", "iso": "2024-01-02T03:04:05.678000Z"});
            Ok::<_, Error>(object)
        },
    ));
    let (path, mut body) = fixture("beforeSave_update");
    body["object"]["when"] = json!({"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"});
    body["original"]["when"] = body["object"]["when"].clone();
    // Nothing changed: `{}`, so Parse Server saves the client's data as it sent it.
    assert_eq!(call(&app, &path, &body).await, json!({}));
}

#[tokio::test]
async fn none_is_never_a_deletion_and_unknown_fields_stay() {
    #[derive(Serialize, Deserialize)]
    struct Partial {
        #[serde(rename = "playerName")]
        player_name: Option<String>,
        flag: Option<bool>,
    }
    let app = app(Webhooks::new().before_save(
        "GameScore",
        |mut req: TriggerRequest<Partial>| async move {
            req.object.player_name = None;
            req.object.flag = Some(true);
            Ok::<_, Error>(req.object)
        },
    ));
    assert_eq!(
        call_fixture(&app, "beforeSave_update").await,
        json!({"success": {"score": 1338, "extra": "new field", "flag": true}})
    );
}

#[tokio::test]
async fn an_object_that_does_not_decode_is_refused_naming_the_field() {
    let app = app(reviewing());
    let (path, mut body) = fixture("beforeSave_create");
    body["object"]["score"] = json!("high");
    assert_eq!(
        call(&app, &path, &body).await,
        json!({"error": "GameScore: invalid field `score`: invalid type: string \"high\", expected i64"})
    );
    body["object"].as_object_mut().unwrap().remove("playerName");
    body["object"]["score"] = json!(1);
    assert_eq!(
        call(&app, &path, &body).await,
        json!({"error": "GameScore: missing field `playerName`"})
    );
}

#[tokio::test]
async fn typed_after_triggers_and_originals_decode() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let app = app(Webhooks::new().after_save(
        "GameScore",
        move |req: TriggerRequest<GameScore>| {
            let sink = sink.clone();
            async move {
                let original = req.original.as_ref().map(|o| o.score);
                sink.lock().unwrap().push((
                    req.class_name().to_owned(),
                    req.object.score,
                    original,
                ));
            }
        },
    ));
    assert_eq!(
        call_fixture(&app, "afterSave_update").await,
        json!({"success": true})
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "GameScore");
    assert!(seen[0].2.is_some(), "the original decoded too");
}

/// As Cloud Code does ("before save can revert fields"): a field the client sent on create
/// and the handler removed goes back as a Delete, so the client's SDK drops it.
#[tokio::test]
async fn removing_a_client_field_on_create_sends_a_delete() {
    let app = app(
        Webhooks::new().before_save("GameScore", |mut req: TriggerRequest| async move {
            req.object.unset("cheatMode");
            Ok::<_, Error>(req.object)
        }),
    );
    assert_eq!(
        call_fixture(&app, "beforeSave_create").await,
        json!({"success": {"score": 1337, "playerName": "Sean Plott",
                           "cheatMode": {"__op": "Delete"}}})
    );
}

/// The values of `types` set on an object are written in Parse's REST encoding, and the op
/// setters write operations.
#[tokio::test]
async fn parse_values_and_operations_set_by_a_handler() {
    let app = app(
        Webhooks::new().before_save("GameScore", |mut req: TriggerRequest| async move {
            let object: &mut ParseObject = &mut req.object;
            object.set("owner", Pointer::new("_User", "u1"));
            object.set("when", "2024-02-29T12:00:00Z".parse::<Date>()?);
            object.add_unique("tags", ["a", "b"]);
            object.increment("plays", 1);
            assert!(object.dirty("owner") && object.dirty("score"));
            Ok::<_, Error>(req.object)
        }),
    );
    let reply = call_fixture(&app, "beforeSave_update").await;
    assert_eq!(
        reply,
        json!({"success": {"score": 1338, "extra": "new field",
            "owner": {"__type": "Pointer", "className": "_User", "objectId": "u1"},
            "when": {"__type": "Date", "iso": "2024-02-29T12:00:00.000Z"},
            "tags": {"__op": "AddUnique", "objects": ["a", "b"]},
            "plays": {"__op": "Increment", "amount": 1}}})
    );
}

/// Parameters arrive as Parse Server re-encodes them: a Date as a plain ISO string, a
/// pointer as `{"objectId"}` only, a file as `{__type, name, url}`.
#[tokio::test]
async fn typed_params_decode_what_parse_server_sends() {
    #[derive(Deserialize)]
    struct Params {
        at: Date,
        venue: Pointer,
        doc: moralis_webhooks::types::File,
    }
    let app = app(Webhooks::new().cloud_function(
        "checkin",
        |req: moralis_webhooks::FunctionRequest<Params>| async move {
            Ok::<_, Error>(
                json!({"at": req.params.at, "venue": req.params.venue.object_id(),
                                  "class": req.params.venue.class_name(),
                                  "doc": req.params.doc.name()}),
            )
        },
    ));
    let body = json!({"functionName": "checkin", "params": {
        "at": "2024-01-02T03:04:05.678Z", "venue": {"objectId": "v1"},
        "doc": {"__type": "File", "name": "ab_c.txt", "url": "http://files/ab_c.txt"}}});
    assert_eq!(
        call(&app, "/functions/checkin", &body).await,
        json!({"success": {"at": {"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"},
                           "venue": "v1", "class": "", "doc": "ab_c.txt"}})
    );
    let mut bad = body.clone();
    bad["params"]["at"] = json!("yesterday");
    let reply = call(&app, "/functions/checkin", &bad).await;
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid parameter `at`: `yesterday` is not an ISO 8601 date"),
        "{reply}"
    );
}
