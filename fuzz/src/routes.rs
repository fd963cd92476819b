//! Where a keyed request must go: the routing rules written down apart from the
//! framework's code, with the hooks the harness serves, for [`check`](crate::check).

use crate::{Kind, CLASSES, PREFIX};

/// What a request to a path must get, when its key is right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// A hook the apps serve: its handler's kind (`POST`; other methods get 405).
    Served(Kind),
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
                Some(kind) => Route::Served(kind),
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
                Some(kind) => Route::Served(kind),
                None if class_ok(&class, trigger) => {
                    Route::Unserved(vec![trigger.to_string(), class])
                }
                None => Route::NotFound,
            }
        }
        _ => Route::NotFound,
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
fn trigger_kind(class: &str, trigger: &str) -> Option<Kind> {
    let on_classes = CLASSES.contains(&class);
    Some(match trigger {
        "beforeSave" if on_classes => Kind::BeforeSave,
        "afterSave" if on_classes => Kind::AfterSave,
        "beforeDelete" if class == "GameScore" => Kind::BeforeDelete,
        "afterDelete" if class == "GameScore" => Kind::AfterDelete,
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
