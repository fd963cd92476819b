//! Turning handler results into the replies Parse Server handles correctly.
//!
//! The rules, observed on a real Parse Server 9.10.0:
//!
//! - functions: `{"success": <value>}`; errors `{"error": "<message>"}` (never empty: Parse
//!   reads `{"error": ""}` as a success);
//! - beforeSave, unchanged: `{}`. Never `{"success": true}` (the save fails with 105) nor
//!   `{"success": null}` (fails with 141);
//! - beforeSave, changed, on create: `{"success": <the whole object>}`, since the reply
//!   replaces the client's payload;
//! - beforeSave, changed, on update: `{"success": <only what differs from the original,
//!   plus every field the handler touched>}` and `{"__op": "Delete"}` for removed fields, so
//!   a concurrent update of another field is never overwritten with a stale value;
//! - afterSave, beforeDelete, afterDelete: `{"success": true}`. An object would replace the
//!   client's response to its save.

use serde::Serialize;

use crate::fields::Fields;
use crate::object::SERVER_KEYS;
use crate::ParseObject;

/// `{"success": true}`: the reply to afterSave, beforeDelete and afterDelete.
pub(crate) const SUCCESS_TRUE: &[u8] = br#"{"success":true}"#;

/// `{}`: beforeSave accepts the client's data unchanged.
pub(crate) const NO_CHANGE: &[u8] = b"{}";

/// `{"success": <value>}`.
pub(crate) fn success<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(br#"{"success":"#);
    serde_json::to_writer(&mut body, value)?;
    body.push(b'}');
    Ok(body)
}

/// `{"error": "<message>"}`.
pub(crate) fn error(message: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(message.len() + 16);
    body.extend_from_slice(br#"{"error":"#);
    serde_json::to_writer(&mut body, message).expect("a string always serializes");
    body.push(b'}');
    body
}

/// The reply to a beforeSave whose handler returned `object`; `original` is the stored
/// object on update, `None` on create. Fields the handler did not touch are written as the
/// JSON text they arrived as.
pub(crate) fn before_save(
    object: &ParseObject,
    original: Option<&Fields>,
) -> Result<Vec<u8>, String> {
    if let Some(why) = object.unencodable() {
        return Err(format!("the object's {why}"));
    }
    if object.is_unchanged_request_object() {
        return Ok(NO_CHANGE.to_vec());
    }
    encode_before_save(object, original)
        .map_err(|error| format!("the object cannot be encoded as JSON: {error}"))
}

fn encode_before_save(
    object: &ParseObject,
    original: Option<&Fields>,
) -> Result<Vec<u8>, serde_json::Error> {
    let fields = object.fields();
    let mut body = Vec::with_capacity(fields.len() * 16 + 16);
    body.extend_from_slice(br#"{"success":{"#);
    let mut first = true;
    let mut entry = |body: &mut Vec<u8>, key: &str| -> Result<(), serde_json::Error> {
        if !std::mem::take(&mut first) {
            body.push(b',');
        }
        serde_json::to_writer(&mut *body, key)?;
        body.push(b':');
        Ok(())
    };
    let original = original.map(Fields::index);
    for (key, field) in fields.iter() {
        if SERVER_KEYS.contains(&key) {
            continue;
        }
        let keep = match &original {
            None => true,
            Some(original) => {
                key != "objectId"
                    && (object.is_edited(key)
                        || original
                            .get(key)
                            .is_none_or(|stored| !field.same_as(stored)))
            }
        };
        if keep {
            entry(&mut body, key)?;
            field.write_json(&mut body)?;
        }
    }
    match &original {
        Some(original) => {
            for key in object.removed_keys() {
                if original.get(key).is_some() && !SERVER_KEYS.contains(&key) && key != "objectId" {
                    entry(&mut body, key)?;
                    body.extend_from_slice(br#"{"__op":"Delete"}"#);
                }
            }
        }
        // A field the client sent and the handler removed: the stored object will lack
        // it, and the Delete tells the client's SDK to drop it from its copy too, as Cloud
        // Code's reply does.
        None => {
            for key in object.dropped_keys() {
                if !SERVER_KEYS.contains(&key) && key != "objectId" {
                    entry(&mut body, key)?;
                    body.extend_from_slice(br#"{"__op":"Delete"}"#);
                }
            }
        }
    }
    body.extend_from_slice(b"}}");
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn received(value: Value) -> ParseObject {
        ParseObject::received(fields(value))
    }

    fn fields(value: Value) -> Fields {
        serde_json::from_value(value).unwrap()
    }

    fn parsed(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn errors_are_strings_and_escaped() {
        assert_eq!(parsed(&error("say \"no\"")), json!({"error": "say \"no\""}));
    }

    #[test]
    fn function_values_are_wrapped_in_success() {
        assert_eq!(
            parsed(&success(&json!(null)).unwrap()),
            json!({"success": null})
        );
        assert_eq!(
            parsed(&success(&[1, 2]).unwrap()),
            json!({"success": [1, 2]})
        );
    }

    #[test]
    fn unchanged_object_is_empty_reply_on_create_and_update() {
        let create = received(json!({"className": "GameScore", "score": 1}));
        assert_eq!(before_save(&create, None).unwrap(), b"{}");
        let original = json!({"className": "GameScore", "objectId": "x", "score": 1});
        let update = received(json!({"className": "GameScore", "objectId": "x", "score": 2}));
        assert_eq!(
            before_save(&update, Some(&fields(original.clone()))).unwrap(),
            b"{}"
        );
    }

    #[test]
    fn changed_object_on_create_is_sent_whole_without_server_keys() {
        let mut object = received(json!({"className": "GameScore", "score": 1, "name": "a"}));
        object.set("reviewed", true);
        assert_eq!(
            parsed(&before_save(&object, None).unwrap()),
            json!({"success": {"score": 1, "name": "a", "reviewed": true}})
        );
    }

    #[test]
    fn changed_object_on_update_carries_only_the_differences() {
        let original = json!({"className": "GameScore", "objectId": "x",
            "createdAt": "c", "updatedAt": "u", "score": 10, "name": "alice",
            "level": 3, "extra": "gone soon", "flag": true});
        let mut object = received(json!({"className": "GameScore", "objectId": "x",
            "createdAt": "c", "updatedAt": "u",
            "score": {"__op": "Increment", "amount": 5}, "name": "alice",
            "level": 4, "extra": "gone soon", "flag": true}));
        object.set("flag", true); // touched, same value: still sent
        object.set("reviewed", true);
        object.remove("extra");
        assert_eq!(
            parsed(&before_save(&object, Some(&fields(original.clone()))).unwrap()),
            json!({"success": {"score": {"__op": "Increment", "amount": 5}, "level": 4,
                               "flag": true, "reviewed": true,
                               "extra": {"__op": "Delete"}}})
        );
    }

    #[test]
    fn removing_a_field_the_original_lacks_sends_no_delete() {
        let original = json!({"className": "GameScore", "objectId": "x", "score": 1});
        let mut object = received(json!({"className": "GameScore", "objectId": "x",
                                         "score": 1, "junk": "client sent"}));
        object.remove("junk");
        assert_eq!(
            parsed(&before_save(&object, Some(&fields(original.clone()))).unwrap()),
            json!({"success": {}})
        );
    }
}
