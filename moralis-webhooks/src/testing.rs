//! A test kit that plays Parse Server 9.10 around your handlers (feature `testing`).
//!
//! [`TestKit`] builds the webhook calls exactly as Parse Server 9.10 sends them (a create,
//! an update with the client's pending operations over a stored original, a delete, a
//! cloud function call; as a user, as master, with a context), sends them through the same
//! pipeline as the server ([`App::handle`], key check included), and applies the replies
//! as Parse Server does. The [`Outcome`] tells what the database holds afterwards, what the
//! client's response is, and its error. A differential test runs the same scenarios through
//! the kit and a real Parse Server 9.10 and finds them equal (`tests/tests/differential.rs`).
//!
//! ```
//! use moralis_webhooks::testing::TestKit;
//! use moralis_webhooks::{Error, ParseObject, TriggerRequest, Webhooks};
//! use serde_json::json;
//!
//! async fn review(req: TriggerRequest) -> Result<ParseObject, Error> {
//!     let mut score = req.object;
//!     if score.get::<i64>("score")? < 0 {
//!         return Err(Error::new("score must not be negative"));
//!     }
//!     score.set("reviewed", true);
//!     Ok(score)
//! }
//!
//! # async fn demo() {
//! let kit = TestKit::new(Webhooks::new().before_save("GameScore", review));
//!
//! let saved = kit.create("GameScore", json!({"score": 3})).send().await;
//! let stored = saved.stored().unwrap();
//! assert_eq!(stored["reviewed"], json!(true));
//! assert_eq!(saved.error(), None);
//!
//! let refused = kit.create("GameScore", json!({"score": -1})).send().await;
//! assert_eq!(refused.stored(), None);
//! assert_eq!(refused.error(), Some((141, "score must not be negative".to_owned())));
//! assert_eq!(
//!     refused.response(),
//!     json!({"code": 141, "error": "score must not be negative"})
//! );
//!
//! let original = json!({"objectId": "abc", "score": 3, "reviewed": true});
//! let updated = kit
//!     .update("GameScore", original, json!({"score": {"__op": "Increment", "amount": 2}}))
//!     .send()
//!     .await;
//! assert_eq!(updated.stored().unwrap()["score"], json!(5));
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo());
//! ```
//!
//! # Ids and timestamps
//!
//! The kit invents the `objectId` of a created object (`kit0000001`, `kit0000002`, ...)
//! and the `createdAt` / `updatedAt` timestamps (from `2026-01-01T00:00:00.000Z`, one
//! second apart per save). A real Parse Server picks random ids and the current time: leave
//! `objectId`, `createdAt` and `updatedAt` out when comparing with one.
//!
//! # What the kit leaves out
//!
//! Only what the webhooks decide is modelled: there is no schema (a value of the wrong type
//! is saved, where Parse Server would refuse it), no ACL or class-level permission check,
//! no query, and a handler's calls back to Parse Server (through `req.parse()`) need a real
//! one; a read from Parse Server shows every relation field of the class's schema (as
//! `{"__type": "Relation", ...}`), even on an object that never had one, where the kit
//! shows those the object's own saves added. Operations are applied as the Parse SDKs and
//! MongoDB do: on PostgreSQL an `AddUnique` result comes in the database's order (compare
//! it as a set). Triggers no handler serves are skipped, as Parse Server skips unregistered ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::{ops, App, Hook, Server, Trigger, Webhooks};

/// The webhook key the kit's [`App`] checks, and sends with every call.
const KEY: &str = "moralis-webhooks-testing-kit";

/// Parse Server's error code for every webhook error (`Parse.Error.SCRIPT_FAILED`).
const SCRIPT_FAILED: i64 = 141;

/// Plays Parse Server 9.10 around webhook handlers: see the [module docs](self).
#[derive(Debug)]
pub struct TestKit {
    app: App,
    counter: AtomicU64,
}

impl TestKit {
    /// A kit serving the handlers of the attributes (`#[before_save]`, ...).
    ///
    /// # Panics
    ///
    /// When the handlers are invalid (as [`Server::into_app`] reports).
    pub fn from_attributes() -> TestKit {
        TestKit::with_server(Server::new())
    }

    /// A kit serving `webhooks` only (not the attributes' handlers).
    ///
    /// # Panics
    ///
    /// When the handlers are invalid (as [`Server::into_app`] reports).
    pub fn new(webhooks: Webhooks) -> TestKit {
        TestKit::with_server(
            Server::new()
                .handlers_from_attributes(false)
                .webhooks(webhooks),
        )
    }

    /// A kit serving what `server` would, with its state, handlers, limits and Parse
    /// client; the webhook key is replaced by one of the kit's own.
    ///
    /// # Panics
    ///
    /// When the settings or handlers are invalid (as [`Server::into_app`] reports).
    pub fn with_server(server: Server) -> TestKit {
        let app = server
            .webhook_key(KEY)
            .into_app()
            .unwrap_or_else(|error| panic!("the test kit cannot build the app: {error}"));
        TestKit {
            app,
            counter: AtomicU64::new(0),
        }
    }

    /// The [`App`] the kit sends its calls to.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// A client's create of a `class` object with `fields` (REST JSON; may hold operations
    /// such as `{"__op": "Increment", "amount": 1}`): beforeSave, then afterSave.
    pub fn create(&self, class: impl Into<String>, fields: Value) -> Call<'_> {
        self.call(Action::Create {
            class: class.into(),
            fields,
        })
    }

    /// A client's update of the stored `original` (REST JSON; an `objectId` is invented
    /// when missing) with `changes` (may hold operations): beforeSave, then afterSave.
    pub fn update(&self, class: impl Into<String>, original: Value, changes: Value) -> Call<'_> {
        self.call(Action::Update {
            class: class.into(),
            original,
            changes,
        })
    }

    /// A client's delete of the stored `object` (REST JSON): beforeDelete, then afterDelete.
    pub fn delete(&self, class: impl Into<String>, object: Value) -> Call<'_> {
        self.call(Action::Delete {
            class: class.into(),
            object,
        })
    }

    /// A client's call of the cloud function `function` with `params`.
    pub fn run(&self, function: impl Into<String>, params: Value) -> Call<'_> {
        self.call(Action::Run {
            function: function.into(),
            params,
        })
    }

    fn call(&self, action: Action) -> Call<'_> {
        Call {
            kit: self,
            action,
            user: None,
            master: false,
            context: Map::new(),
            installation_id: None,
            sent: Mutex::new(Vec::new()),
        }
    }

    fn serves(&self, hook: &Hook) -> bool {
        self.app.hooks().contains(hook)
    }

    /// The next number of the kit's invented ids and timestamps.
    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn new_id(&self) -> String {
        format!("kit{:07}", self.next())
    }

    fn new_date(&self) -> String {
        let n = self.next() % 86_400;
        format!(
            "2026-01-01T{:02}:{:02}:{:02}.000Z",
            n / 3600,
            n / 60 % 60,
            n % 60
        )
    }
}

#[derive(Debug)]
enum Action {
    Create {
        class: String,
        fields: Value,
    },
    Update {
        class: String,
        original: Value,
        changes: Value,
    },
    Delete {
        class: String,
        object: Value,
    },
    Run {
        function: String,
        params: Value,
    },
}

/// One client request to play, built by [`TestKit`]; [`send`](Call::send) plays it.
#[derive(Debug)]
#[must_use = "a call does nothing until sent"]
pub struct Call<'a> {
    kit: &'a TestKit,
    action: Action,
    user: Option<Value>,
    master: bool,
    context: Map<String, Value>,
    installation_id: Option<String>,
    /// The webhook calls made so far, for [`Outcome::calls`].
    sent: Mutex<Vec<(Hook, Value)>>,
}

impl Call<'_> {
    /// Made with the session token of `user`: a `_User` in REST JSON with `objectId` and
    /// `sessionToken`, sent to the handlers as `user`.
    pub fn as_user(mut self, user: Value) -> Self {
        self.user = Some(user);
        self
    }

    /// Made with the master key: `master` is `true` and, for triggers, the installation
    /// id is `"cloud"` unless one is given.
    pub fn as_master(mut self) -> Self {
        self.master = true;
        self
    }

    /// The cloud context the client sends (`X-Parse-Cloud-Context`); a JSON object.
    /// Anything else is sent as no context.
    pub fn context(mut self, context: Value) -> Self {
        self.context = match context {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self
    }

    /// The client's installation id (`X-Parse-Installation-Id`).
    pub fn installation_id(mut self, id: impl Into<String>) -> Self {
        self.installation_id = Some(id.into());
        self
    }

    /// Plays the request: the webhook calls Parse Server would make, in its order, and
    /// what it would do with their replies. Runs on a Tokio runtime with timers (as
    /// `#[tokio::test]` gives), which the handler timeout needs.
    pub async fn send(self) -> Outcome {
        let mut outcome = self.play().await;
        outcome.calls = self
            .sent
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        outcome
    }

    async fn play(&self) -> Outcome {
        match &self.action {
            Action::Create { class, fields } => {
                let fields = object_of(fields);
                self.save(class, None, fields).await
            }
            Action::Update {
                class,
                original,
                changes,
            } => {
                let mut original = object_of(original);
                if !original.contains_key("objectId") {
                    original.insert("objectId".into(), self.kit.new_id().into());
                }
                for key in ["createdAt", "updatedAt"] {
                    if !original.contains_key(key) {
                        original.insert(key.into(), self.kit.new_date().into());
                    }
                }
                self.save(class, Some(original), object_of(changes)).await
            }
            Action::Delete { class, object } => self.delete(class, object_of(object)).await,
            Action::Run { function, params } => self.run(function, params).await,
        }
    }

    /// A create (`original` is `None`) or an update of `original` with `data`, as
    /// Parse Server's `RestWrite` does it.
    async fn save(
        &self,
        class: &str,
        original: Option<Map<String, Value>>,
        mut data: Map<String, Value>,
    ) -> Outcome {
        let mut changed_by_trigger = Vec::new();
        if self.kit.serves(&Hook::trigger(class, Trigger::BeforeSave)) {
            let mut object = original.clone().unwrap_or_default();
            object.extend(data.clone());
            object.insert("className".into(), class.into());
            let mut body = self.trigger_body(Trigger::BeforeSave, Value::Object(object));
            if let Some(original) = &original {
                body.insert("original".into(), with_class(original, class));
            }
            match self
                .call_hook(&Hook::trigger(class, Trigger::BeforeSave), body)
                .await
            {
                Reply::Error(error) => return Outcome::failed(None, error),
                Reply::Success(Value::Object(mut object)) => {
                    for key in ["createdAt", "updatedAt", "className", "objectId"] {
                        object.remove(key);
                    }
                    changed_by_trigger = object
                        .iter()
                        .filter(|(key, value)| !data.get(*key).is_some_and(|d| same(d, value)))
                        .map(|(key, _)| key.clone())
                        .collect();
                    data = object;
                }
                Reply::Success(_) | Reply::Nothing => {}
            }
        }

        // The database write.
        let now = self.kit.new_date();
        let mut stored = original.clone().unwrap_or_default();
        for (key, value) in &data {
            match ops::estimate(value, stored.get(key)) {
                // A null is no value: the database drops the field.
                Some(None | Some(Value::Null)) => {
                    stored.remove(key);
                }
                Some(Some(value)) => {
                    stored.insert(key.clone(), value);
                }
                None if value.is_null() => {
                    stored.remove(key);
                }
                None => {
                    stored.insert(key.clone(), value.clone());
                }
            }
        }
        let is_create = original.is_none();
        if is_create {
            stored.insert("objectId".into(), self.kit.new_id().into());
            stored.insert("createdAt".into(), now.clone().into());
        }
        stored.insert("updatedAt".into(), now.clone().into());
        let mut response = Map::new();
        if is_create {
            response.insert("objectId".into(), stored["objectId"].clone());
            response.insert("createdAt".into(), now.clone().into());
        } else {
            response.insert("updatedAt".into(), now.into());
        }
        // Parse Server answers with the results of the operations it applied.
        for (key, value) in &data {
            let op = value.get("__op").and_then(Value::as_str);
            if matches!(op, Some("Add" | "AddUnique" | "Remove" | "Increment")) {
                if let Some(result) = stored.get(key) {
                    response.insert(key.clone(), result.clone());
                }
            }
        }
        let mut response = response_with_data(
            response,
            &data,
            original.as_ref(),
            &changed_by_trigger,
            is_create,
        );

        if self.kit.serves(&Hook::trigger(class, Trigger::AfterSave)) {
            let mut body = self.trigger_body(Trigger::AfterSave, with_class(&stored, class));
            if let Some(original) = &original {
                body.insert("original".into(), with_class(original, class));
            }
            match self
                .call_hook(&Hook::trigger(class, Trigger::AfterSave), body)
                .await
            {
                // Parse Server logs an afterSave's error and answers as if there were none.
                Reply::Error(_) => {}
                // Parse Server answers with the saved object, less what the client knows.
                _ => {
                    response = response_with_data(
                        stored.clone(),
                        &data,
                        original.as_ref(),
                        &changed_by_trigger,
                        is_create,
                    )
                }
            }
        }
        Outcome::new(Some(stored), Value::Object(response))
    }

    async fn delete(&self, class: &str, mut object: Map<String, Value>) -> Outcome {
        if !object.contains_key("objectId") {
            object.insert("objectId".into(), self.kit.new_id().into());
        }
        for key in ["createdAt", "updatedAt"] {
            if !object.contains_key(key) {
                object.insert(key.into(), self.kit.new_date().into());
            }
        }
        for (trigger, stored) in [
            (Trigger::BeforeDelete, Some(object.clone())),
            (Trigger::AfterDelete, None),
        ] {
            let hook = Hook::trigger(class, trigger);
            if self.kit.serves(&hook) {
                let body = self.trigger_body(trigger, with_class(&object, class));
                if let Reply::Error(error) = self.call_hook(&hook, body).await {
                    return Outcome::failed(stored, error);
                }
            }
        }
        Outcome::new(None, json!({}))
    }

    async fn run(&self, function: &str, params: &Value) -> Outcome {
        let hook = Hook::function(function);
        if !self.kit.serves(&hook) {
            return Outcome::failed(None, format!("Invalid function: \"{function}\""));
        }
        let mut body = self.common_body(false);
        body.insert("functionName".into(), function.into());
        body.insert("params".into(), function_params(params));
        match self.call_hook(&hook, body).await {
            Reply::Error(error) => Outcome::failed(None, error),
            Reply::Success(result) => Outcome::new(None, json!({ "result": result })),
            Reply::Nothing => Outcome::new(None, json!({})),
        }
    }

    fn trigger_body(&self, trigger: Trigger, object: Value) -> Map<String, Value> {
        let mut body = self.common_body(true);
        body.insert("triggerName".into(), trigger.as_str().into());
        body.insert("object".into(), object);
        body
    }

    /// What every call carries: `master`, `user`, `installationId`, `context`, `headers`,
    /// `ip`, `log`.
    fn common_body(&self, is_trigger: bool) -> Map<String, Value> {
        let mut headers = Map::new();
        headers.insert("x-parse-application-id".into(), "app".into());
        headers.insert("content-type".into(), "application/json".into());
        let mut body = Map::new();
        body.insert("master".into(), self.master.into());
        body.insert("isReadOnly".into(), false.into());
        if self.master {
            headers.insert("x-parse-master-key".into(), "master".into());
        }
        if let Some(user) = &self.user {
            if let Some(token) = user.get("sessionToken") {
                headers.insert("x-parse-session-token".into(), token.clone());
            }
            body.insert("user".into(), user.clone());
        }
        let installation_id = match &self.installation_id {
            Some(id) => Some(id.clone()),
            None if self.master && is_trigger => Some("cloud".to_owned()),
            None => None,
        };
        if let Some(id) = &self.installation_id {
            headers.insert("x-parse-installation-id".into(), id.clone().into());
        }
        if let Some(id) = installation_id {
            body.insert("installationId".into(), id.into());
        }
        if !self.context.is_empty() {
            headers.insert(
                "x-parse-cloud-context".into(),
                Value::Object(self.context.clone()).to_string().into(),
            );
        }
        body.insert("context".into(), Value::Object(self.context.clone()));
        body.insert("headers".into(), Value::Object(headers));
        body.insert("ip".into(), "127.0.0.1".into());
        body.insert(
            "log".into(),
            json!({"options": {"jsonLogs": false, "logsFolder": "./logs", "verbose": false,
                               "logLevel": "info"},
                   "appId": "app"}),
        );
        body
    }

    /// Sends one webhook call through the app and reads its reply as Parse Server does.
    async fn call_hook(&self, hook: &Hook, body: Map<String, Value>) -> Reply {
        let body = Value::Object(body);
        let request = http::Request::post(hook.path())
            .header(crate::dispatch::WEBHOOK_KEY_HEADER, KEY)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(body.to_string()))
            .expect("a valid request");
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((hook.clone(), body));
        let response = self.kit.app.handle(request).await;
        let text = String::from_utf8_lossy(response.body()).into_owned();
        if !response.status().is_success() {
            // Parse Server would hand its client a dump of the HTTP error; the kit gives
            // the raw body.
            return Reply::Error(text);
        }
        let Ok(Value::Object(mut reply)) = serde_json::from_str::<Value>(&text) else {
            return Reply::Error(text);
        };
        match reply.remove("error") {
            // Parse Server checks the error for truth: `""`, `false`, `0` and `null` are
            // no error.
            Some(Value::String(message)) if !message.is_empty() => {
                return Reply::Error(message);
            }
            Some(Value::Bool(true)) => return Reply::Error("true".into()),
            Some(Value::Number(n)) if n.as_f64() != Some(0.0) => {
                return Reply::Error(n.to_string());
            }
            Some(error @ (Value::Object(_) | Value::Array(_))) => {
                return Reply::Error(error.to_string());
            }
            _ => {}
        }
        match reply.remove("success") {
            Some(value) => Reply::Success(value),
            None => Reply::Nothing,
        }
    }
}

/// A webhook's reply as Parse Server reads it.
enum Reply {
    Success(Value),
    /// Neither `success` nor `error`.
    Nothing,
    Error(String),
}

/// What Parse Server did with a request played by [`Call::send`].
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    stored: Option<Map<String, Value>>,
    response: Value,
    error: Option<(i64, String)>,
    calls: Vec<(Hook, Value)>,
}

impl Outcome {
    fn new(stored: Option<Map<String, Value>>, response: Value) -> Outcome {
        Outcome {
            stored,
            response,
            error: None,
            calls: Vec::new(),
        }
    }

    fn failed(stored: Option<Map<String, Value>>, message: String) -> Outcome {
        Outcome {
            stored,
            response: json!({"code": SCRIPT_FAILED, "error": message}),
            error: Some((SCRIPT_FAILED, message)),
            calls: Vec::new(),
        }
    }

    /// The webhook calls Parse Server would have made, in order: each hook with the body
    /// sent to it (what the handler received). A trigger no handler serves is not called.
    pub fn calls(&self) -> &[(Hook, Value)] {
        &self.calls
    }

    /// The object as the database holds it afterwards, in REST JSON as a read with the
    /// master key gives it (with `objectId`, `createdAt`, `updatedAt`, operations
    /// applied).
    ///
    /// `None` when a save was refused (by beforeSave), the object was deleted, or the
    /// call was a function. A delete refused by beforeDelete leaves the object as it was.
    /// A field set to `null` is not stored, as a read from Parse Server shows it.
    pub fn stored(&self) -> Option<Map<String, Value>> {
        self.stored.clone()
    }

    /// The body of the client's response: `{"result": ...}` for a function,
    /// `{"objectId", "createdAt", ...}` for a create, `{"updatedAt", ...}` for an update
    /// (plus what Parse Server adds: the results of operations, fields the beforeSave
    /// changed), `{}` for a delete, `{"code": 141, "error": ...}` for an error.
    pub fn response(&self) -> Value {
        self.response.clone()
    }

    /// The client's error code and message: 141 (`SCRIPT_FAILED`) for every webhook
    /// error; `None` when the request succeeded.
    pub fn error(&self) -> Option<(i64, String)> {
        self.error.clone()
    }
}

/// The fields of a JSON object given to the kit (anything else is no fields), without a
/// `className`, which the kit adds where Parse Server sends it.
fn object_of(value: &Value) -> Map<String, Value> {
    let mut map = match value {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    map.remove("className");
    map
}

fn with_class(object: &Map<String, Value>, class: &str) -> Value {
    let mut object = object.clone();
    object.insert("className".into(), class.into());
    Value::Object(object)
}

/// Parse Server's `RestWrite._updateResponseWithData`: drops from `response` what the
/// client knows already (what it sent, or what was stored), adds what the beforeSave
/// changed, operations stripped but deletions kept.
fn response_with_data(
    mut response: Map<String, Value>,
    data: &Map<String, Value>,
    original: Option<&Map<String, Value>>,
    changed_by_trigger: &[String],
    is_create: bool,
) -> Map<String, Value> {
    let skip: &[&str] = if is_create {
        &["objectId", "createdAt"]
    } else {
        response.remove("objectId");
        &["updatedAt"]
    };
    response.retain(|key, value| {
        if skip.contains(&key.as_str()) {
            return true;
        }
        let pointer = value.get("__type").and_then(Value::as_str) == Some("Pointer");
        let known = data.get(key).is_some_and(|d| same(d, value))
            || original
                .and_then(|o| o.get(key))
                .is_some_and(|o| same(o, value));
        !(value.is_null() || pointer || known)
    });
    for key in changed_by_trigger {
        let data_value = data.get(key);
        if !response.contains_key(key) {
            if let Some(value) = data_value {
                response.insert(key.clone(), value.clone());
            }
        }
        if response.get(key).and_then(|v| v.get("__op")).is_some() {
            response.remove(key);
            if let Some(value) = data_value {
                if value.get("__op").and_then(Value::as_str) == Some("Delete") {
                    response.insert(key.clone(), value.clone());
                }
            }
        }
    }
    response
}

/// Deep equality as JavaScript's: numbers by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

/// Function params as Parse Server sends them: it decodes them into JS objects and
/// encodes those back, so a Date arrives as its ISO string and a Pointer or Object as its
/// fields (`{"objectId": ...}` for a pointer).
fn function_params(params: &Value) -> Value {
    match params {
        Value::Array(items) => Value::Array(items.iter().map(function_params).collect()),
        Value::Object(map) => match map.get("__type").and_then(Value::as_str) {
            Some("Date") => map.get("iso").cloned().unwrap_or(Value::Null),
            Some("Pointer" | "Object") => Value::Object(
                map.iter()
                    .filter(|(key, _)| *key != "__type" && *key != "className")
                    .map(|(key, value)| (key.clone(), function_params(value)))
                    .collect(),
            ),
            Some(_) => params.clone(),
            None => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), function_params(value)))
                    .collect(),
            ),
        },
        _ => params.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FunctionRequest, TriggerRequest};

    /// The body of a fixture (recorded from Parse Server 9.10.0), without its `headers`
    /// and `log`, which the kit only imitates.
    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let fixture: Value = serde_json::from_str(&text).unwrap();
        comparable(&fixture["body"], false)
    }

    /// `body` without `headers` and `log`; with `invented`, without the object's id and
    /// timestamps either.
    fn comparable(body: &Value, invented: bool) -> Value {
        let mut body = body.clone();
        let map = body.as_object_mut().unwrap();
        map.remove("headers");
        map.remove("log");
        if invented {
            if let Some(object) = map.get_mut("object").and_then(Value::as_object_mut) {
                for key in ["objectId", "createdAt", "updatedAt"] {
                    object.remove(key);
                }
            }
        }
        body
    }

    fn kit() -> TestKit {
        async fn ok(_: TriggerRequest) {}
        async fn hello(_: FunctionRequest) -> Result<&'static str, crate::Error> {
            Ok("ok")
        }
        TestKit::new(
            Webhooks::new()
                .before_save("GameScore", ok)
                .after_save("GameScore", ok)
                .before_delete("GameScore", ok)
                .after_delete("GameScore", ok)
                .cloud_function("hello", hello),
        )
    }

    fn without_class(value: &Value) -> Value {
        let mut value = value.clone();
        value.as_object_mut().unwrap().remove("className");
        value
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn trigger_bodies_are_parse_servers() {
        let kit = kit();
        let fields = json!({"score": 1337, "playerName": "Sean Plott", "cheatMode": false});
        let created = block_on(kit.create("GameScore", fields).send());
        assert_eq!(
            comparable(&created.calls()[0].1, true),
            comparable(&fixture("beforeSave_create"), true)
        );
        assert_eq!(
            comparable(&created.calls()[1].1, true),
            comparable(&fixture("afterSave_create"), true)
        );

        let before = fixture("beforeSave_update");
        let original = without_class(&before["original"]);
        let changes = json!({"score": 1338, "extra": "new field"});
        let updated = block_on(kit.update("GameScore", original, changes).send());
        assert_eq!(comparable(&updated.calls()[0].1, false), before);
        let mut after = fixture("afterSave_update");
        after["object"]["updatedAt"] = updated.calls()[1].1["object"]["updatedAt"].clone();
        assert_eq!(comparable(&updated.calls()[1].1, false), after);

        let before = fixture("beforeSave_update_increment_user");
        let original = without_class(&before["original"]);
        let changes = json!({"score": {"__op": "Increment", "amount": 5}});
        let updated = block_on(
            kit.update("GameScore", original, changes)
                .as_user(before["user"].clone())
                .installation_id("inst-0002")
                .send(),
        );
        assert_eq!(comparable(&updated.calls()[0].1, false), before);
        let mut after = fixture("afterSave_update_increment_user");
        after["object"]["updatedAt"] = updated.calls()[1].1["object"]["updatedAt"].clone();
        assert_eq!(comparable(&updated.calls()[1].1, false), after);

        let fields = json!({"score": 1, "playerName": "master"});
        let created = block_on(kit.create("GameScore", fields).as_master().send());
        assert_eq!(
            comparable(&created.calls()[0].1, true),
            comparable(&fixture("beforeSave_create_master"), true)
        );
        assert_eq!(
            comparable(&created.calls()[1].1, true),
            comparable(&fixture("afterSave_create_master"), true)
        );

        let before = fixture("beforeDelete");
        let object = without_class(&before["object"]);
        let deleted = block_on(
            kit.delete("GameScore", object)
                .as_user(before["user"].clone())
                .send(),
        );
        assert_eq!(comparable(&deleted.calls()[0].1, false), before);
        assert_eq!(
            comparable(&deleted.calls()[1].1, false),
            fixture("afterDelete")
        );
        assert_eq!(deleted.stored(), None);
        assert_eq!(deleted.response(), json!({}));
    }

    #[test]
    fn function_bodies_are_parse_servers() {
        let kit = kit();
        let params = json!({"name": "world", "n": 3, "nested": {"a": [1, 2, {"b": true}]},
            "when": {"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"},
            "ptr": {"__type": "Pointer", "className": "GameScore", "objectId": "abc123"}});
        let user = fixture("function_hello_user")["user"].clone();
        let calls = [
            ("function_hello_no_user", kit.run("hello", params.clone())),
            (
                "function_hello_user",
                kit.run("hello", params.clone()).as_user(user),
            ),
            (
                "function_hello_master",
                kit.run("hello", params.clone()).as_master(),
            ),
            (
                "function_hello_installation",
                kit.run("hello", params.clone())
                    .installation_id("inst-0001"),
            ),
            (
                "function_hello_context",
                kit.run("hello", params.clone())
                    .context(json!({"ctxKey": "ctxVal"})),
            ),
        ];
        for (name, call) in calls {
            let outcome = block_on(call.send());
            assert_eq!(
                comparable(&outcome.calls()[0].1, false),
                fixture(name),
                "{name}"
            );
            assert_eq!(outcome.response(), json!({"result": "ok"}), "{name}");
        }
    }

    #[test]
    fn unserved_hooks_are_not_called() {
        let kit = TestKit::new(Webhooks::new());
        let created = block_on(kit.create("GameScore", json!({"a": 1})).send());
        assert!(created.calls().is_empty());
        assert_eq!(created.stored().unwrap()["a"], json!(1));
        let run = block_on(kit.run("nope", json!({})).send());
        assert_eq!(
            run.error(),
            Some((141, "Invalid function: \"nope\"".to_owned()))
        );
    }
}
