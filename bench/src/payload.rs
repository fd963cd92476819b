//! The calls the load generators send, made from the request bodies a real Parse Server
//! 9.10.0 sent (`moralis-webhooks/tests/fixtures`), and the replies they expect.
//!
//! Each call carries its own value: the function's `name` parameter is `caller-<n>`, a
//! GameScore's `score` is `2000 + n`, where `n` numbers the calls of a run. The expected
//! reply is derived from that value, so a reply sent to the wrong call, or on the wrong
//! connection, is caught.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::wire::{write_request, Reply};
use crate::{greeting, score_band};

/// Path of the cloud function the benchmark calls.
pub const HELLO_PATH: &str = "/functions/hello";
/// Path of the GameScore beforeSave trigger.
pub const BEFORE_SAVE_PATH: &str = "/triggers/GameScore/beforeSave";
/// Path of the GameScore afterSave trigger.
pub const AFTER_SAVE_PATH: &str = "/triggers/GameScore/afterSave";

const FUNCTION_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/function_hello_user.json");
const CREATE_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/beforeSave_create.json");
const UPDATE_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/beforeSave_update.json");
const AFTER_SAVE_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/afterSave_create.json");

/// Stands for the call's name in the serialized function body.
const NAME_MARK: &str = "@@CALLER@@";
/// Stands for the call's score in the serialized trigger bodies.
const SCORE_MARK: i64 = 9_876_543_210_123;

/// The fields Parse Server manages, which a beforeSave reply leaves out.
const MANAGED_FIELDS: [&str; 3] = ["className", "createdAt", "updatedAt"];

/// One kind of webhook call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Cloud function `hello` from a signed-in user (~1 KB).
    Function,
    /// GameScore beforeSave creating an object.
    Create,
    /// GameScore beforeSave updating an object (with `original`).
    Update,
    /// GameScore afterSave of a created object.
    AfterSave,
}

impl Kind {
    /// Every kind, in the order a mixed load cycles through them.
    pub const ALL: [Kind; 4] = [Kind::Function, Kind::Create, Kind::Update, Kind::AfterSave];

    /// The path the call is sent to.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Function => HELLO_PATH,
            Kind::Create | Kind::Update => BEFORE_SAVE_PATH,
            Kind::AfterSave => AFTER_SAVE_PATH,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Function => "function",
            Kind::Create => "create",
            Kind::Update => "update",
            Kind::AfterSave => "aftersave",
        })
    }
}

/// Which calls a run sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// Only calls of one kind.
    Only(Kind),
    /// Every kind in turn.
    Mixed,
}

impl Mix {
    /// The kind of call number `n`.
    pub fn kind(self, n: u64) -> Kind {
        match self {
            Mix::Only(kind) => kind,
            Mix::Mixed => Kind::ALL[(n % Kind::ALL.len() as u64) as usize],
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Mix, String> {
        match s.to_ascii_lowercase().as_str() {
            "function" => Ok(Mix::Only(Kind::Function)),
            "create" => Ok(Mix::Only(Kind::Create)),
            "update" => Ok(Mix::Only(Kind::Update)),
            "aftersave" => Ok(Mix::Only(Kind::AfterSave)),
            "mixed" => Ok(Mix::Mixed),
            _ => Err(format!(
                "`{s}` is not one of function, create, update, aftersave, mixed"
            )),
        }
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mix::Only(kind) => kind.fmt(f),
            Mix::Mixed => f.write_str("mixed (function, create, update, aftersave in turn)"),
        }
    }
}

/// A serialized body with one value left out.
#[derive(Debug)]
struct Template {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Template {
    fn new(body: &Value, mark: &str) -> Template {
        let text = serde_json::to_string(body).expect("a JSON value serializes");
        assert_eq!(text.matches(mark).count(), 1, "the mark appears once");
        let (head, tail) = text.split_once(mark).expect("the mark is present");
        Template {
            head: head.as_bytes().to_vec(),
            tail: tail.as_bytes().to_vec(),
        }
    }

    fn fill(&self, value: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(&self.tail);
    }

    fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }
}

/// The bodies of every kind of call, and what their replies must be.
#[derive(Debug)]
pub struct Payloads {
    templates: [Template; 4],
    /// The signed-in user of the function call.
    username: Option<String>,
    /// The fields a create reply carries besides `score` and the ones the handler sets.
    create_fields: Map<String, Value>,
    /// The fields an update reply carries besides `score` and the ones the handler sets.
    update_fields: Map<String, Value>,
}

impl Payloads {
    /// Reads the fixtures (compiled in).
    pub fn load() -> Payloads {
        let body = |fixture: &str| -> Value {
            let mut recorded: Value = serde_json::from_str(fixture).expect("fixtures are JSON");
            recorded["body"].take()
        };

        let mut function = body(FUNCTION_FIXTURE);
        function["params"]["name"] = Value::from(NAME_MARK);
        let username = function["user"]["username"].as_str().map(str::to_owned);

        let trigger = |fixture: &str| -> (Template, Value) {
            let mut body = body(fixture);
            let object = body["object"].take();
            let mut marked = object.clone();
            marked["score"] = Value::from(SCORE_MARK);
            body["object"] = marked;
            (Template::new(&body, &SCORE_MARK.to_string()), body)
        };
        let (create, create_body) = trigger(CREATE_FIXTURE);
        let (update, update_body) = trigger(UPDATE_FIXTURE);
        let (after_save, _) = trigger(AFTER_SAVE_FIXTURE);

        // Create: the whole object comes back. Update: only what differs from the original.
        let fields = |body: &Value, only_changed: bool| -> Map<String, Value> {
            let object = body["object"].as_object().expect("an object");
            let original = &body["original"];
            object
                .iter()
                .filter(|(key, _)| *key != "score" && !MANAGED_FIELDS.contains(&key.as_str()))
                .filter(|(key, value)| !only_changed || original.get(key.as_str()) != Some(value))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        };
        Payloads {
            templates: [
                Template::new(&function, NAME_MARK),
                create,
                update,
                after_save,
            ],
            username,
            create_fields: fields(&create_body, false),
            update_fields: fields(&update_body, true),
        }
    }

    /// The body size of call number `n` of kind `kind`, in bytes.
    pub fn body_size(&self, kind: Kind, n: u64) -> usize {
        self.templates[kind.index()].len() + value_of(kind, n).len()
    }

    /// Appends call number `n` of kind `kind`, as Parse Server sends it, to `out`; `scratch`
    /// holds the body meanwhile.
    pub fn write_call(
        &self,
        kind: Kind,
        n: u64,
        request: &RequestSettings<'_>,
        scratch: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) {
        scratch.clear();
        self.templates[kind.index()].fill(&value_of(kind, n), scratch);
        write_request(
            out,
            kind.path(),
            request.host,
            request.key,
            scratch,
            request.chunk,
        );
    }

    /// Checks the reply to call number `n` of kind `kind`.
    pub fn check(&self, kind: Kind, n: u64, reply: &Reply<'_>) -> Result<(), BadReply> {
        if reply.status != 200 {
            return Err(BadReply::Status {
                status: reply.status,
                body: excerpt(reply.body),
            });
        }
        let wrong = |why: &str| BadReply::Body {
            why: why.to_owned(),
            body: excerpt(reply.body),
        };
        let value: Value = serde_json::from_slice(reply.body).map_err(|_| wrong("not JSON"))?;
        let Some(reply_fields) = value.as_object().filter(|map| map.len() == 1) else {
            return Err(wrong("not an object with one field"));
        };
        let Some(success) = reply_fields.get("success") else {
            return Err(wrong("no `success`"));
        };
        match kind {
            Kind::Function => {
                let expected = greeting(&caller_name(n), self.username.as_deref());
                if success.as_str() != Some(expected.as_str()) {
                    return Err(wrong(&format!("expected the greeting `{expected}`")));
                }
            }
            Kind::Create | Kind::Update => {
                let fields = if kind == Kind::Create {
                    &self.create_fields
                } else {
                    &self.update_fields
                };
                check_saved(success, fields, score_of(n)).map_err(|why| wrong(&why))?;
            }
            Kind::AfterSave => {
                if success != &Value::Bool(true) {
                    return Err(wrong("expected `true`"));
                }
            }
        }
        Ok(())
    }
}

/// How requests are addressed and framed.
#[derive(Clone, Copy, Debug)]
pub struct RequestSettings<'a> {
    /// The `Host` header.
    pub host: &'a str,
    /// The `X-Parse-Webhook-Key` header.
    pub key: &'a str,
    /// The chunk size of bodies; `0`: one chunk, as Node sends a body written at once.
    pub chunk: usize,
}

/// A beforeSave reply must hold `fields`, the call's score, and what the handler set.
fn check_saved(success: &Value, fields: &Map<String, Value>, score: i64) -> Result<(), String> {
    let object = success.as_object().ok_or("`success` is not an object")?;
    let expected_len = fields.len() + 3;
    if object.len() != expected_len {
        return Err(format!(
            "`success` has {} fields, expected {expected_len}",
            object.len()
        ));
    }
    for (key, value) in fields {
        if object.get(key) != Some(value) {
            return Err(format!("`{key}` is not {value}"));
        }
    }
    if object.get("score").and_then(Value::as_i64) != Some(score) {
        return Err(format!("`score` is not this call's {score}"));
    }
    if object.get("reviewed") != Some(&Value::Bool(true)) {
        return Err("`reviewed` is not true".to_owned());
    }
    if object.get("scoreBand").and_then(Value::as_i64) != Some(score_band(score)) {
        return Err(format!("`scoreBand` is not {}", score_band(score)));
    }
    Ok(())
}

/// The text standing for the call's own value in its body.
fn value_of(kind: Kind, n: u64) -> String {
    match kind {
        Kind::Function => caller_name(n),
        _ => score_of(n).to_string(),
    }
}

fn caller_name(n: u64) -> String {
    format!("caller-{n}")
}

fn score_of(n: u64) -> i64 {
    2000 + (n % (1 << 40)) as i64
}

/// The start of a body, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

/// A reply that is not the one expected.
#[derive(Debug)]
pub enum BadReply {
    /// Not 200.
    Status {
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// 200 with the wrong body.
    Body {
        /// What is wrong.
        why: String,
        /// The start of the body.
        body: String,
    },
}

impl BadReply {
    /// A short name of the kind of error, for counting.
    pub fn kind(&self) -> String {
        match self {
            BadReply::Status { status, .. } => format!("status {status}"),
            BadReply::Body { .. } => "wrong reply body".to_owned(),
        }
    }
}

impl fmt::Display for BadReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadReply::Status { status, body } => write!(f, "status {status}: {body}"),
            BadReply::Body { why, body } => write!(f, "{why}: {body}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str) -> Reply<'_> {
        Reply {
            status: 200,
            body: body.as_bytes(),
            close: false,
        }
    }

    fn body_of(payloads: &Payloads, kind: Kind, n: u64) -> Value {
        let settings = RequestSettings {
            host: "h",
            key: "k",
            chunk: 0,
        };
        let (mut scratch, mut out) = (Vec::new(), Vec::new());
        payloads.write_call(kind, n, &settings, &mut scratch, &mut out);
        serde_json::from_slice(&scratch).unwrap()
    }

    #[test]
    fn bodies_carry_the_calls_value() {
        let payloads = Payloads::load();
        let function = body_of(&payloads, Kind::Function, 7);
        assert_eq!(function["params"]["name"], "caller-7");
        assert_eq!(function["user"]["username"], "alice");
        assert_eq!(
            payloads.body_size(Kind::Function, 7),
            serde_json::to_vec(&function).unwrap().len()
        );
        assert!((800..1200).contains(&payloads.body_size(Kind::Function, 7)));
        let update = body_of(&payloads, Kind::Update, 7);
        assert_eq!(update["object"]["score"], 2007);
        assert_eq!(update["original"]["score"], 1337);
    }

    #[test]
    fn replies_the_framework_sends_pass_and_others_fail() {
        let payloads = Payloads::load();
        let ok = |kind, n, body: &str| payloads.check(kind, n, &reply(body)).is_ok();
        assert!(ok(
            Kind::Function,
            3,
            r#"{"success":"Hello, caller-3! (signed in as alice)"}"#
        ));
        assert!(!ok(
            Kind::Function,
            4,
            r#"{"success":"Hello, caller-3! (signed in as alice)"}"#
        ));
        assert!(ok(
            Kind::Create,
            1,
            r#"{"success":{"cheatMode":false,"playerName":"Sean Plott","reviewed":true,"score":2001,"scoreBand":20}}"#
        ));
        // An update reply echoing unchanged fields would overwrite concurrent changes.
        assert!(ok(
            Kind::Update,
            1,
            r#"{"success":{"extra":"new field","reviewed":true,"score":2001,"scoreBand":20}}"#
        ));
        assert!(!ok(
            Kind::Update,
            1,
            r#"{"success":{"extra":"new field","playerName":"Sean Plott","reviewed":true,"score":2001,"scoreBand":20}}"#
        ));
        assert!(ok(Kind::AfterSave, 1, r#"{"success":true}"#));
        assert!(!ok(Kind::AfterSave, 1, r#"{"error":"busy"}"#));
        let refused = Reply {
            status: 401,
            ..reply("{}")
        };
        assert!(matches!(
            payloads.check(Kind::AfterSave, 1, &refused),
            Err(BadReply::Status { status: 401, .. })
        ));
    }
}
