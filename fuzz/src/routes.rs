//! Where a keyed request must go, and whether its body is a call of the hook there: the
//! routing and decoding rules written down apart from the framework's code, with the hooks
//! the harness serves, for [`check`](crate::check).

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use moralis_webhooks::Hook;

use crate::{Kind, CLASSES, PREFIX};

/// What a request to a path must get, when its key is right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// A hook the apps serve: its handler's kind, and its function or class name (`POST`;
    /// other methods get 405).
    Served(Kind, String),
    /// A hook Parse Server could call (its name passes Parse's rules) that no handler
    /// serves: `POST` gets 200 `{"error": "the <hook> is registered with Parse Server but
    /// not served by this webhook server"}`, the hook named by these words; other methods
    /// get 405.
    Unserved(Vec<String>),
    /// Not a hook: 404, whatever the method.
    NotFound,
}

/// How the reply to a call of an unserved hook ends.
pub const NOT_SERVED: &str =
    " is registered with Parse Server but not served by this webhook server";

/// The route of `path` (`Uri::path`, without the query) in app A, or in app B (`b`), which
/// also serves every hook under its public path [`PREFIX`].
pub fn route(path: &str, b: bool) -> Route {
    let path = match path.strip_prefix(PREFIX) {
        Some(rest) if b && rest.starts_with('/') => rest,
        _ => path,
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["functions", name] => {
            let Some(name) = decode_segment(name) else {
                return Route::NotFound;
            };
            match function_kind(&name) {
                Some(kind) => Route::Served(kind, name),
                None if function_name_ok(&name) => Route::Unserved(vec![name]),
                None => Route::NotFound,
            }
        }
        ["triggers", class, trigger] => {
            // The trigger's name is matched as is, without percent-decoding.
            let (Some(class), Some(trigger)) = (
                decode_segment(class),
                TRIGGERS.iter().find(|t| *t == trigger),
            ) else {
                return Route::NotFound;
            };
            match trigger_kind(&class, trigger) {
                Some(kind) => Route::Served(kind, class),
                None if class_ok(&class, trigger) => {
                    Route::Unserved(vec![trigger.to_string(), class])
                }
                None => Route::NotFound,
            }
        }
        _ => Route::NotFound,
    }
}

/// Panics unless `hooks`, what an app serves, are exactly the hooks of this model, each at
/// the route [`Hook::path`] names.
pub(crate) fn check_table(hooks: &[Hook]) {
    let mut classes: Vec<&str> = CLASSES.to_vec();
    classes.extend(["_Session", "@File", "@Connect"]);
    let modelled = ["hello", "ÄÖÜ", "v2:price", "typed"].len()
        + classes
            .iter()
            .flat_map(|class| TRIGGERS.map(|trigger| trigger_kind(class, trigger)))
            .flatten()
            .count();
    assert_eq!(hooks.len(), modelled, "the apps serve {hooks:?}");
    for hook in hooks {
        let served = match hook {
            Hook::Function { name } => function_kind(name),
            Hook::Trigger {
                class_name,
                trigger,
            } => trigger_kind(class_name, trigger.as_str()),
        };
        match (served, route(&hook.path(), false)) {
            (Some(kind), Route::Served(routed, _)) if kind == routed => {}
            other => panic!("{hook:?} at {}: {other:?}", hook.path()),
        }
    }
}

/// Every trigger name Parse Server uses.
const TRIGGERS: [&str; 13] = [
    "beforeSave",
    "afterSave",
    "beforeDelete",
    "afterDelete",
    "beforeFind",
    "afterFind",
    "beforeLogin",
    "afterLogin",
    "afterLogout",
    "beforePasswordResetRequest",
    "beforeConnect",
    "beforeSubscribe",
    "afterEvent",
];

/// A path segment, percent-decoded (a `%` not followed by two hex digits stays as is):
/// `None` unless it is UTF-8, not empty and without `/`.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded)
        .ok()
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

/// The harness's cloud functions.
fn function_kind(name: &str) -> Option<Kind> {
    match name {
        "hello" | "ÄÖÜ" | "v2:price" => Some(Kind::Echo),
        "typed" => Some(Kind::Typed),
        _ => None,
    }
}

/// The harness's triggers.
pub(crate) fn trigger_kind(class: &str, trigger: &str) -> Option<Kind> {
    let on_classes = CLASSES.contains(&class);
    Some(match (class, trigger) {
        (_, "beforeSave") if on_classes => Kind::BeforeSave,
        (_, "afterSave") if on_classes => Kind::AfterSave,
        ("GameScore", "beforeDelete") => Kind::BeforeDelete,
        ("GameScore", "afterDelete") => Kind::AfterDelete,
        (_, "beforeFind") if on_classes => Kind::BeforeFind,
        (_, "afterFind") if on_classes => Kind::AfterFind,
        (_, "beforeSubscribe") if on_classes => Kind::BeforeSubscribe,
        (_, "afterEvent") if on_classes => Kind::AfterEvent,
        ("_User", "beforeLogin") => Kind::BeforeLogin,
        ("_User", "afterLogin") => Kind::AfterLogin,
        ("_User", "beforePasswordResetRequest") => Kind::BeforePasswordResetRequest,
        ("_Session", "afterLogout") => Kind::AfterLogout,
        ("@File", "beforeSave") => Kind::BeforeSaveFile,
        ("@File", "afterSave") => Kind::AfterSaveFile,
        ("@File", "beforeDelete") => Kind::BeforeDeleteFile,
        ("@File", "afterDelete") => Kind::AfterDeleteFile,
        ("@Connect", "beforeConnect") => Kind::BeforeConnect,
        _ => return None,
    })
}

/// Whether Parse Server can call a cloud function of this name over a webhook: not empty,
/// no dot (a namespace), no quote, nothing a URL path cannot hold.
fn function_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| {
            matches!(c, '.' | '"' | '\'' | '`' | '/' | '\\' | '?' | '#' | '%')
                || c.is_whitespace()
                || c.is_control()
        })
}

/// Whether Parse Server accepts `trigger` on `class`: the login, logout, password reset
/// and connect triggers on their one class; files (`@File`) only save and delete; no
/// trigger on `@Config`, no other on `_Session`, no beforeSave on `_PushStatus`; else a
/// system class, or a name of ASCII letters, digits and `_` starting with a letter.
fn class_ok(class: &str, trigger: &str) -> bool {
    match trigger {
        "beforeLogin" | "afterLogin" | "beforePasswordResetRequest" => return class == "_User",
        "afterLogout" => return class == "_Session",
        "beforeConnect" => return class == "@Connect",
        _ => {}
    }
    match class {
        "@File" => matches!(
            trigger,
            "beforeSave" | "afterSave" | "beforeDelete" | "afterDelete"
        ),
        "@Config" | "@Connect" | "_Session" => false,
        "_PushStatus" => trigger != "beforeSave",
        "_User" | "_Installation" | "_Role" | "_Product" | "_Audience" => true,
        _ => {
            let mut chars = class.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
    }
}

// ---- the bodies ---------------------------------------------------------------------------

/// Whether `body` is a call of trigger `kind` on `class` that the framework must decode
/// (`Some(true)`: the handler runs) or refuse (`Some(false)`: 400), as Parse Server's
/// webhook bodies are documented; `None` where the model says nothing: JSON that
/// `serde_json::Value` cannot hold (a number beyond `f64`, deep nesting), duplicate keys, a
/// query given as an array. Functions are not modelled (`None`).
///
/// A body is a JSON object (UTF-8); every field the kind's request type reads, when present
/// and not `null`, has its JSON type (`master`: a boolean, `user`: an object, ...), and
/// the fields of the calls of the same family are read (and so checked) too: the object
/// triggers read those of `TriggerRequest`, the other kinds share one set. A `triggerName`
/// is the route's. The kind's required field is there (`object`, or `file` for files), and
/// objects (`object`, `original`, afterFind's results) name no other class than the
/// route's.
pub fn decodes(kind: Kind, class: &str, body: &[u8]) -> Option<bool> {
    let trigger = kind.trigger()?;
    let Ok(text) = std::str::from_utf8(body) else {
        return Some(false);
    };
    if !text
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .starts_with('{')
    {
        return Some(false);
    }
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let plain = depth(&Value::Object(body.clone())) <= 100
        && serde_json::from_str::<EntryCount>(text)
            .is_ok_and(|count| count.0 == entries(&Value::Object(body.clone())));
    if !plain {
        return None;
    }
    let typed =
        |key: &str, ok: fn(&Value) -> bool| body.get(key).is_none_or(|v| v.is_null() || ok(v));
    let of_class = |value: &Value| match value.get("className") {
        None => true,
        Some(sent) => sent.as_str() == Some(class),
    };
    let object = |required: bool| match body.get("object") {
        None | Some(Value::Null) => !required,
        Some(object) => of_class(object),
    };
    let original = || {
        body.get("original")
            .is_none_or(|o| o.is_null() || of_class(o))
    };
    let common = typed("triggerName", Value::is_string)
        && body
            .get("triggerName")
            .and_then(Value::as_str)
            .is_none_or(|sent| sent == trigger)
        && typed("master", Value::is_boolean)
        && typed("isReadOnly", Value::is_boolean)
        && typed("user", Value::is_object)
        && typed("installationId", Value::is_string)
        && typed("context", Value::is_object)
        && typed("headers", Value::is_object)
        && typed("ip", Value::is_string)
        && typed("object", Value::is_object)
        && typed("original", Value::is_object);
    if !kind.replies_empty() {
        return Some(common && object(true) && original());
    }
    let shared = common
        && typed("count", Value::is_boolean)
        && typed("isGet", Value::is_boolean)
        && typed("objects", |v| {
            v.as_array().is_some_and(|a| a.iter().all(Value::is_object))
        })
        && typed("file", file)
        && typed("fileSize", |v| v.as_u64().is_some())
        && typed("event", Value::is_string)
        && typed("useMasterKey", Value::is_boolean)
        && typed("sessionToken", Value::is_string)
        && typed("requestId", |v| v.as_i64().is_some())
        && typed("clients", |v| v.as_u64().is_some())
        && typed("subscriptions", |v| v.as_u64().is_some());
    if !shared {
        return Some(false);
    }
    let query = body.get("query").filter(|q| !q.is_null());
    Some(match kind {
        Kind::BeforeFind => find_query(query)?,
        Kind::AfterFind => {
            find_query(query)?
                && body
                    .get("objects")
                    .and_then(Value::as_array)
                    .is_none_or(|objects| objects.iter().all(of_class))
        }
        Kind::BeforeLogin
        | Kind::AfterLogin
        | Kind::AfterLogout
        | Kind::BeforePasswordResetRequest => object(true),
        Kind::BeforeSaveFile
        | Kind::AfterSaveFile
        | Kind::BeforeDeleteFile
        | Kind::AfterDeleteFile => body.get("file").is_some_and(|f| !f.is_null()),
        Kind::BeforeConnect => true,
        Kind::BeforeSubscribe => live_query(query, class)?,
        Kind::AfterEvent => object(true) && original(),
        _ => return None,
    })
}

/// A Parse file: `{"__type": "File", "name": <string>, "url": <string or null>}`, the
/// `__type` optional.
fn file(value: &Value) -> bool {
    let Some(file) = value.as_object() else {
        return false;
    };
    file.get("__type").is_none_or(|t| t == "File")
        && file.get("name").is_some_and(Value::is_string)
        && file.get("url").is_none_or(|u| u.is_null() || u.is_string())
}

/// The query of a find: an object whose `where` is an object (`null` reads as none),
/// `limit` and `skip` integers, and `order`, `keys`, `include`, `excludeKeys` strings or
/// arrays of strings. `None` for an array.
fn find_query(query: Option<&Value>) -> Option<bool> {
    let query = match query {
        None => return Some(true),
        Some(Value::Array(_)) => return None,
        Some(Value::Object(query)) => query,
        Some(_) => return Some(false),
    };
    let typed =
        |key: &str, ok: fn(&Value) -> bool| query.get(key).is_none_or(|v| v.is_null() || ok(v));
    let list = |v: &Value| {
        v.is_string()
            || v.as_array()
                .is_some_and(|items| items.iter().all(Value::is_string))
    };
    Some(
        typed("where", Value::is_object)
            && typed("limit", |v| v.as_i64().is_some())
            && typed("skip", |v| v.as_i64().is_some())
            && ["order", "keys", "include", "excludeKeys"]
                .iter()
                .all(|key| typed(key, list)),
    )
}

/// The query of a LiveQuery subscription: an object whose `className` is a string (the
/// route's, or empty for it), `where` an object (`null` reads as none) and `keys` an
/// array of strings. `None` for an array.
fn live_query(query: Option<&Value>, class: &str) -> Option<bool> {
    let query: &Map<String, Value> = match query {
        None => return Some(true),
        Some(Value::Array(_)) => return None,
        Some(Value::Object(query)) => query,
        Some(_) => return Some(false),
    };
    Some(
        query
            .get("className")
            .is_none_or(|c| c.as_str().is_some_and(|c| c.is_empty() || c == class))
            && query
                .get("where")
                .is_none_or(|w| w.is_null() || w.is_object())
            && query.get("keys").is_none_or(|k| {
                k.is_null()
                    || k.as_array()
                        .is_some_and(|keys| keys.iter().all(Value::is_string))
            }),
    )
}

/// How deep arrays and objects nest in `value`.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The number of object entries in `value`, at any depth.
fn entries(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(entries).sum(),
        Value::Object(map) => map.len() + map.values().map(entries).sum::<usize>(),
        _ => 0,
    }
}

/// The number of object entries in a JSON text, at any depth, duplicate keys included:
/// more than [`entries`] of its `Value` when it has duplicates.
struct EntryCount(usize);

impl<'de> Deserialize<'de> for EntryCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Counter;
        impl<'de> Visitor<'de> for Counter {
            type Value = EntryCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<EntryCount, E> {
                Ok(EntryCount(0))
            }
            fn visit_i64<E>(self, _: i64) -> Result<EntryCount, E> {
                Ok(EntryCount(0))
            }
            fn visit_u64<E>(self, _: u64) -> Result<EntryCount, E> {
                Ok(EntryCount(0))
            }
            fn visit_f64<E>(self, _: f64) -> Result<EntryCount, E> {
                Ok(EntryCount(0))
            }
            fn visit_str<E>(self, _: &str) -> Result<EntryCount, E> {
                Ok(EntryCount(0))
            }
            fn visit_unit<E>(self) -> Result<EntryCount, E> {
                Ok(EntryCount(0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EntryCount, A::Error> {
                let mut count = 0;
                while let Some(EntryCount(inner)) = seq.next_element()? {
                    count += inner;
                }
                Ok(EntryCount(count))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntryCount, A::Error> {
                let mut count = 0;
                while let Some((IgnoredAny, EntryCount(inner))) = map.next_entry()? {
                    count += 1 + inner;
                }
                Ok(EntryCount(count))
            }
        }
        deserializer.deserialize_any(Counter)
    }
}
