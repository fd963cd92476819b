//! `object`: trigger bodies decoded into `ParseObject`s, edited by a beforeSave (or
//! afterSave, or LiveQuery afterEvent) handler with get/set/remove/increment/get_raw_mut,
//! and the reply encoding checked field by field against a model of the edits.
//!
//! Input layout (see README.md):
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | class: `% 3` GameScore, _User, _Installation |
//! | 1 | bit 0: plant secrets (password, authData, the user's sessionToken, LiveQuery's sessionToken, a session header); bit 1: add `original` (= `object`) if missing (an update); bit 2: drop `original` (a create); bit 3: the afterSave route instead of beforeSave; bit 4: the afterEvent route |
//! | 2.. | the handler script: mode, message, op count (0–16), 3 bytes per op |
//! | rest | JSON: a trigger body (an object with `object`), or any object, sent as both `object` and `original` |
#![no_main]

use bytes::Bytes;
use http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use moralis_webhooks_fuzz::{
    apps, check, debug_print, Exposure, Script, Sent, CLASSES, KEY, SENTINEL,
};
use serde_json::{json, Map, Value};

fuzz_target!(|data: &[u8]| {
    let apps = apps();
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let class = CLASSES[byte(0) as usize % CLASSES.len()];
    let flags = byte(1);
    let (mut script, rest) = Script::parse(data.get(2..).unwrap_or_default(), 16);
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let mut body = if json.contains_key("object") {
        json
    } else {
        let mut body = Map::new();
        body.insert("object".to_owned(), Value::Object(json.clone()));
        body.insert("original".to_owned(), Value::Object(json));
        body
    };
    let trigger = if flags & 16 == 16 {
        "afterEvent"
    } else if flags & 8 == 8 {
        "afterSave"
    } else {
        "beforeSave"
    };
    if body.contains_key("triggerName") {
        body.insert("triggerName".to_owned(), json!(trigger));
    }
    if flags & 2 == 2 && !body.contains_key("original") {
        let object = body["object"].clone();
        body.insert("original".to_owned(), object);
    }
    if flags & 4 == 4 {
        body.remove("original");
    }
    if flags & 1 == 1 {
        plant_secrets(&mut body);
    }
    let body = serde_json::to_vec(&body).expect("JSON values encode");
    script.exposure = Exposure::of(&body);
    let path = format!("/triggers/{class}/{trigger}");
    let request = Request::post(path.as_str())
        .header("X-Parse-Webhook-Key", KEY)
        .header("content-type", "application/json")
        .body(Bytes::from(body.clone()))
        .expect("a valid request");
    let (response, record) = apps.handle(false, request, script);
    if moralis_webhooks_fuzz::debug_enabled() {
        let copy = Request::post(path.as_str())
            .body(Bytes::from(body.clone()))
            .unwrap();
        debug_print("object", &copy, &response);
    }
    let keys: [&[u8]; 1] = [KEY.as_bytes()];
    let sent = Sent {
        method: &Method::POST,
        path: &path,
        target_len: path.len(),
        keys: &keys,
        body: &body,
        b: false,
    };
    check(&sent, &response, &record);
});

fn plant_secrets(body: &mut Map<String, Value>) {
    for which in ["object", "original"] {
        if let Some(Value::Object(object)) = body.get_mut(which) {
            object.insert("password".to_owned(), json!(SENTINEL));
            object.insert(
                "authData".to_owned(),
                json!({"anonymous": {"id": SENTINEL}}),
            );
        }
    }
    match body.get_mut("user") {
        Some(Value::Object(user)) => {
            user.insert("sessionToken".to_owned(), json!(SENTINEL));
        }
        _ => {
            body.insert(
                "user".to_owned(),
                json!({"objectId": "u1", "username": "ada", "sessionToken": SENTINEL}),
            );
        }
    }
    if let Some(Value::Object(headers)) = body.get_mut("headers") {
        headers.insert("x-parse-session-token".to_owned(), json!(SENTINEL));
    }
    // LiveQuery's: the token the client connected with.
    body.insert("sessionToken".to_owned(), json!(SENTINEL));
}
