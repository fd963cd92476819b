//! The requests handlers receive: [`FunctionRequest`] for cloud functions and
//! [`TriggerRequest`] for save and delete triggers, decoded from Parse Server's webhook body.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::fields::{Field, Fields};
use crate::object::{decode_field, without_position, FieldOwner};
use crate::{Error, ParseObject};

/// Every trigger Parse Server can call a webhook for, by the name Parse Server gives it.
///
/// The file triggers are [`BeforeSave`](Trigger::BeforeSave) ... on the class `@File`, and
/// LiveQuery's beforeConnect is on `@Connect`, as Parse Server registers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Trigger {
    /// Before an object (or a file) is created or updated; may change or refuse the write.
    BeforeSave,
    /// After an object (or a file) was created or updated.
    AfterSave,
    /// Before an object (or a file) is deleted; may refuse the delete.
    BeforeDelete,
    /// After an object (or a file) was deleted.
    AfterDelete,
    /// Before a find, get or count runs; may refuse it.
    BeforeFind,
    /// After a find or get ran, with its results; may fail it.
    AfterFind,
    /// Before a login (`_User`); may refuse it.
    BeforeLogin,
    /// After a login (`_User`), with the new session.
    AfterLogin,
    /// After a logout (`_Session`), with the deleted session.
    AfterLogout,
    /// Before a password reset email is sent (`_User`); may refuse it.
    BeforePasswordResetRequest,
    /// Before a LiveQuery client connects (`@Connect`); may refuse it.
    BeforeConnect,
    /// Before a LiveQuery subscription is made; may refuse it.
    BeforeSubscribe,
    /// Before a LiveQuery event reaches a subscriber; an error sends the subscriber an error
    /// instead.
    AfterEvent,
}

impl Trigger {
    /// Every trigger, in a fixed order.
    pub const ALL: [Trigger; 13] = [
        Trigger::BeforeSave,
        Trigger::AfterSave,
        Trigger::BeforeDelete,
        Trigger::AfterDelete,
        Trigger::BeforeFind,
        Trigger::AfterFind,
        Trigger::BeforeLogin,
        Trigger::AfterLogin,
        Trigger::AfterLogout,
        Trigger::BeforePasswordResetRequest,
        Trigger::BeforeConnect,
        Trigger::BeforeSubscribe,
        Trigger::AfterEvent,
    ];

    /// The name Parse Server uses: `beforeSave`, `afterFind`, `beforeConnect`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::BeforeSave => "beforeSave",
            Trigger::AfterSave => "afterSave",
            Trigger::BeforeDelete => "beforeDelete",
            Trigger::AfterDelete => "afterDelete",
            Trigger::BeforeFind => "beforeFind",
            Trigger::AfterFind => "afterFind",
            Trigger::BeforeLogin => "beforeLogin",
            Trigger::AfterLogin => "afterLogin",
            Trigger::AfterLogout => "afterLogout",
            Trigger::BeforePasswordResetRequest => "beforePasswordResetRequest",
            Trigger::BeforeConnect => "beforeConnect",
            Trigger::BeforeSubscribe => "beforeSubscribe",
            Trigger::AfterEvent => "afterEvent",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`Trigger`] from a name Parse Server does not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown trigger `{0}`: Parse Server has no trigger of that name")]
pub struct UnknownTrigger(pub String);

impl FromStr for Trigger {
    type Err = UnknownTrigger;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Trigger::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnknownTrigger(name.to_owned()))
    }
}

/// The parameters of a cloud function call, as the client sent them.
///
/// Parse Server re-encodes some of them before the webhook sees them: a
/// `{"__type": "Date"}` parameter arrives as a plain ISO string, and a pointer may arrive as
/// `{"objectId": "..."}` only. Each parameter is decoded only when read; returned as the
/// function's result, unread ones are sent back as the JSON text they arrived as.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(Fields);

impl Params {
    /// Decodes parameter `name` as `T`; a missing parameter decodes from `null` (so
    /// `Option<T>` gives `None`) or is an error naming it.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, Error> {
        decode_field(self.0.get(name), name, || FieldOwner::Params)
    }

    /// The JSON value of parameter `name` (see [`ParseObject::get_raw`]).
    pub fn get_raw(&self, name: &str) -> Option<&Value> {
        self.0.get(name).map(Field::value)
    }

    /// Whether the client sent parameter `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The parameters, decoded, in the order received (see [`ParseObject::iter`]).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> + '_ {
        self.0.iter().map(|(key, field)| (key, field.value()))
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parameters as a JSON map (every value decoded and copied).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.to_map()
    }

    /// The parameters as a JSON map, moved out.
    pub fn into_map(self) -> Map<String, Value> {
        self.0.into_map()
    }
}

impl From<Map<String, Value>> for Params {
    fn from(map: Map<String, Value>) -> Self {
        Params(Fields::from_map(map))
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Params").field(&self.0).finish()
    }
}

/// The user who made the call, when the client sent a valid session token (and not the
/// master key).
///
/// Parse Server sends the `_User` object without `className` but with the caller's
/// `sessionToken`, which you can use to call Parse Server back on the user's behalf.
/// `Debug` output hides the session token and `authData`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct User(Fields);

impl User {
    /// A user with these fields (`objectId`, `username`, ...), for tests.
    pub fn from_map(fields: Map<String, Value>) -> Self {
        User(Fields::from_map(fields))
    }

    /// The user's `objectId` (`""` if Parse Server sent none, which it does not do).
    pub fn id(&self) -> &str {
        self.str_field("objectId").unwrap_or("")
    }

    /// The `username`.
    pub fn username(&self) -> Option<&str> {
        self.str_field("username")
    }

    /// The `email`, if the caller may read it.
    pub fn email(&self) -> Option<&str> {
        self.str_field("email")
    }

    /// The caller's session token: a credential. Never log it.
    pub fn session_token(&self) -> Option<&str> {
        self.str_field("sessionToken")
    }

    /// Decodes field `key` of the user as `T`, as [`ParseObject::get`] does.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, Error> {
        decode_field(self.0.get(key), key, || FieldOwner::User)
    }

    /// The JSON value of field `key` (see [`ParseObject::get_raw`]).
    pub fn get_raw(&self, key: &str) -> Option<&Value> {
        self.0.get(key).map(Field::value)
    }

    /// The user's fields as a JSON map (it holds the session token).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.to_map()
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.value().as_str()
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("User").field(&self.0).finish()
    }
}

/// The HTTP headers of the client's request to Parse Server, lower-cased, as Parse Server
/// forwards them.
///
/// They can carry credentials: `x-parse-session-token`, and `x-parse-master-key` when the
/// client used the master key. `Debug` output therefore lists the header names only.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Headers(Fields);

impl Headers {
    /// The value of header `name` (case-insensitive), if it is a string.
    pub fn get(&self, name: &str) -> Option<&str> {
        let field = match self.0.get(name) {
            Some(field) => Some(field),
            None if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                self.0.get(&name.to_ascii_lowercase())
            }
            None => None,
        };
        field?.value().as_str()
    }

    /// The header names.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(name, _)| name)
    }

    /// The headers as a JSON map (values are strings, or arrays for repeated headers).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.to_map()
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Map<String, Value>> for Headers {
    fn from(map: Map<String, Value>) -> Self {
        Headers(Fields::from_map(map))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Headers")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A call of a cloud function.
///
/// `P` is the type of the parameters: by default the raw [`Params`] map, read with
/// [`param`](FunctionRequest::param); any `serde::Deserialize` type decodes them whole, and
/// when that fails the handler does not run and the client is told which parameter is wrong.
///
/// Parse Server also sends `log`, the settings of its own logger, which is dropped, and
/// fields of newer versions are ignored.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FunctionRequest<P = Params> {
    /// The parameters the client sent.
    pub params: P,
    /// The name of the function called.
    pub function_name: String,
    /// Whether the client used the master key (or the read-only master key).
    pub master: bool,
    /// Whether the client used the read-only master key (sent by Parse Server 9 and later).
    pub is_read_only: bool,
    /// The calling user, when the client sent a valid session token without the master key.
    pub user: Option<User>,
    /// The client's `X-Parse-Installation-Id`, when it sent one.
    pub installation_id: Option<String>,
    /// The client's `X-Parse-Cloud-Context` (an empty map by default).
    pub context: Map<String, Value>,
    /// The headers of the client's request (secret-bearing; see [`Headers`]).
    pub headers: Headers,
    /// The client's IP address, as Parse Server saw it.
    pub ip: Option<String>,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

impl<P> FunctionRequest<P> {
    /// A request with these parameters and nothing else, for unit tests of handlers.
    pub fn new(function_name: impl Into<String>, params: P) -> Self {
        FunctionRequest {
            parse: None,
            params,
            function_name: function_name.into(),
            master: false,
            is_read_only: false,
            user: None,
            installation_id: None,
            context: Map::new(),
            headers: Headers::default(),
            ip: None,
        }
    }
}

impl FunctionRequest<Params> {
    /// Decodes parameter `name` as `T` (see [`Params::get`]).
    ///
    /// ```
    /// # use moralis_webhooks::{FunctionRequest, Params};
    /// let params = serde_json::from_str::<Params>(r#"{"name": "world"}"#).unwrap();
    /// let req = FunctionRequest::new("hello", params);
    /// assert_eq!(req.param::<String>("name").unwrap(), "world");
    /// assert_eq!(
    ///     req.param::<u32>("count").unwrap_err().client_message(),
    ///     "missing parameter `count`"
    /// );
    /// ```
    pub fn param<T: DeserializeOwned>(&self, name: &str) -> Result<T, Error> {
        self.params.get(name)
    }
}

/// A call of a save or delete trigger.
///
/// `T` is the type of the object: by default a [`ParseObject`], which reads its fields by
/// name and tracks what the handler changes; any type that is `Deserialize + Serialize`
/// (a struct of the class's fields, say) gets the object decoded into it, fields holding a
/// client's pending operation reading as the value Parse Server will store. A beforeSave
/// that returns its `T` changes exactly the fields whose values differ from what arrived
/// (compared by value, so a number or date written another way is no change); fields `T`
/// does not know stay as they are, a pending operation the handler left alone stays an
/// atomic operation, and a `None` is never a deletion. If the object does not decode, the
/// handler does not run and the client is told which field is wrong.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TriggerRequest<T = ParseObject> {
    /// Which trigger fired.
    pub trigger: Trigger,
    /// The object being saved or deleted. In a beforeSave on update it is the stored object
    /// merged with the client's changes (see [`ParseObject::get`] for fields the client
    /// changed with an operation).
    pub object: T,
    /// On update (beforeSave and afterSave), the object as stored before the change, as far
    /// as the caller may read it.
    pub original: Option<T>,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key (Parse Server 9 and later).
    pub is_read_only: bool,
    /// The calling user, when the client sent a valid session token.
    pub user: Option<User>,
    /// The client's installation id; `"cloud"` for calls with the master key.
    pub installation_id: Option<String>,
    /// The client's `X-Parse-Cloud-Context`. Changes to it are not sent back: Parse Server
    /// cannot pass context from a beforeSave webhook to the afterSave.
    pub context: Map<String, Value>,
    /// The headers of the client's request (secret-bearing; see [`Headers`]).
    pub headers: Headers,
    /// The client's IP address, as Parse Server saw it.
    pub ip: Option<String>,
    class_name: String,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

impl TriggerRequest {
    /// A request for this trigger and object and nothing else, for unit tests of handlers.
    pub fn new(trigger: Trigger, object: ParseObject) -> Self {
        let class_name = object.class_name().to_owned();
        TriggerRequest::of(trigger, class_name, object)
    }
}

impl<T> TriggerRequest<T> {
    /// A request for this trigger and object of class `class_name` and nothing else, for
    /// unit tests of handlers of typed objects.
    pub fn of(trigger: Trigger, class_name: impl Into<String>, object: T) -> Self {
        TriggerRequest {
            parse: None,
            trigger,
            object,
            original: None,
            master: false,
            is_read_only: false,
            user: None,
            installation_id: None,
            context: Map::new(),
            headers: Headers::default(),
            ip: None,
            class_name: class_name.into(),
        }
    }

    /// The class of the object.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// Whether this save updates an existing object (Parse Server sent `original`).
    pub fn is_update(&self) -> bool {
        self.original.is_some()
    }

    /// The same request with its objects converted by `convert`.
    pub(crate) fn try_map<U, E>(
        self,
        mut convert: impl FnMut(T) -> Result<U, E>,
    ) -> Result<TriggerRequest<U>, E> {
        Ok(TriggerRequest {
            parse: self.parse,
            trigger: self.trigger,
            object: convert(self.object)?,
            original: self.original.map(&mut convert).transpose()?,
            master: self.master,
            is_read_only: self.is_read_only,
            user: self.user,
            installation_id: self.installation_id,
            context: self.context,
            headers: self.headers,
            ip: self.ip,
            class_name: self.class_name,
        })
    }
}

/// A body that is not a webhook request for the route it came to: answered with 400.
#[derive(Debug)]
pub(crate) struct BadRequest {
    /// For the caller: may quote parts of the body.
    pub(crate) message: String,
    /// For the log: never quotes the body, which may hold secrets.
    pub(crate) summary: String,
}

impl BadRequest {
    /// A refusal whose message quotes nothing but names.
    pub(crate) fn new(message: String) -> Self {
        BadRequest {
            summary: message.clone(),
            message,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FunctionBody<'a> {
    #[serde(borrow)]
    function_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    #[serde(default)]
    master: Option<bool>,
    #[serde(default)]
    is_read_only: Option<bool>,
    user: Option<User>,
    installation_id: Option<String>,
    context: Option<Map<String, Value>>,
    headers: Option<Headers>,
    ip: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TriggerBody<'a> {
    #[serde(borrow)]
    trigger_name: Option<Cow<'a, str>>,
    object: Option<Fields>,
    original: Option<Fields>,
    #[serde(default)]
    master: Option<bool>,
    #[serde(default)]
    is_read_only: Option<bool>,
    user: Option<User>,
    installation_id: Option<String>,
    context: Option<Map<String, Value>>,
    headers: Option<Headers>,
    ip: Option<String>,
}

/// Decodes a body that must be a JSON object (serde would also take an array for a
/// struct).
pub(crate) fn decode_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, BadRequest> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(BadRequest::new(
            "the body is not a webhook request: expected a JSON object".to_owned(),
        ));
    }
    if nests_deeper_than(body, MAX_DEPTH) {
        return Err(BadRequest::new(format!(
            "the body is not a webhook request: it nests deeper than {MAX_DEPTH} levels"
        )));
    }
    // One check of the whole body (std's, fast on ASCII) spares serde_json checking every
    // string as it reads it, and again every field it keeps as text.
    let text = std::str::from_utf8(body).map_err(|error| {
        BadRequest::new(format!(
            "the body is not a webhook request: it is not UTF-8 (invalid byte at offset {})",
            error.valid_up_to()
        ))
    })?;
    serde_json::from_str(text).map_err(|error| BadRequest {
        message: format!("the body is not a webhook request: {error}"),
        summary: format!(
            "the body is not a webhook request: {:?} error at line {} column {}",
            error.classify(),
            error.line(),
            error.column()
        ),
    })
}

/// The deepest nesting of arrays and objects accepted in a body: serde_json's own limit
/// when it decodes a value. Fields are kept as text until read, so without this check a
/// value too deep to decode could reach a handler.
const MAX_DEPTH: usize = 128;

/// Whether arrays and objects in `json` nest deeper than `limit`, strings aside.
///
/// Nesting cannot exceed the number of opening brackets, which a vectorized count finds
/// in a fraction of the time of the exact scan: most bodies have fewer than `limit` and
/// are done. Otherwise one exact pass, a word at a time.
fn nests_deeper_than(json: &[u8], limit: usize) -> bool {
    let mut opening = 0usize;
    let few = json.chunks(255).all(|chunk| {
        // A byte-wide count per chunk, which the compiler vectorizes.
        let count = chunk.iter().fold(0u8, |count, &byte| {
            count + u8::from(byte == b'[' || byte == b'{')
        });
        opening += usize::from(count);
        opening <= limit
    });
    if few {
        return false;
    }
    let mut scan = NestingScan {
        limit,
        depth: 0,
        in_string: false,
        skip_until: 0,
    };
    // Eight bytes at a time: a word's quotes, backslashes and brackets are found with a
    // few arithmetic operations, and only those bytes are looked at.
    let mut words = json.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        // `[` and `]` differ from `{` and `}` in bit 5 only.
        let folded = word | (ONES * 0x20);
        let mut marks = bytes_equal(word, b'"')
            | bytes_equal(word, b'\\')
            | bytes_equal(folded, b'{')
            | bytes_equal(folded, b'}');
        while marks != 0 {
            let offset = marks.trailing_zeros() as usize / 8;
            marks &= marks - 1;
            if scan.byte(at + offset, json[at + offset]) {
                return true;
            }
        }
        at += 8;
    }
    for (offset, &byte) in words.remainder().iter().enumerate() {
        if scan.byte(at + offset, byte) {
            return true;
        }
    }
    false
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `word` that equals `byte`, and no other bit.
fn bytes_equal(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = ONES * 0x7f;
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    // Exact (no borrow from one byte into the next): the high bit is set where the low
    // seven bits and the high bit are all zero.
    !(((zero_where_equal & LOW7) + LOW7) | zero_where_equal | LOW7)
}

/// The state of [`nests_deeper_than`]'s pass: where it is in the JSON text.
struct NestingScan {
    limit: usize,
    depth: usize,
    in_string: bool,
    /// Bytes before this index are skipped (the character after a backslash).
    skip_until: usize,
}

impl NestingScan {
    /// Reads the byte at `at`, given only when it may matter (a quote, a backslash or a
    /// bracket); true when the nesting just went past the limit.
    fn byte(&mut self, at: usize, byte: u8) -> bool {
        if at < self.skip_until {
            return false;
        }
        if self.in_string {
            match byte {
                b'"' => self.in_string = false,
                b'\\' => self.skip_until = at + 2,
                _ => {}
            }
            return false;
        }
        match byte {
            b'"' => self.in_string = true,
            b'[' | b'{' => {
                self.depth += 1;
                return self.depth > self.limit;
            }
            b']' | b'}' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        false
    }
}

/// Decodes a function call for the function served at `name`.
///
/// The outer error is a malformed body (400); the inner one bad parameters, which the
/// client is told about in a normal error reply.
pub(crate) fn decode_function<P: DeserializeOwned>(
    body: &[u8],
    name: &str,
) -> Result<Result<FunctionRequest<P>, Error>, BadRequest> {
    let wire: FunctionBody<'_> = decode_body(body)?;
    if let Some(sent) = wire.function_name.as_deref() {
        if sent != name {
            return Err(BadRequest {
                message: format!(
                    "the body calls function `{sent}` but was sent to the route of `{name}`"
                ),
                summary: format!("the body calls another function than `{name}`, its route's"),
            });
        }
    }
    let params = match wire.params {
        Some(raw) => decode_params::<P>(raw.get()),
        None => decode_params::<P>("{}"),
    };
    Ok(params.map(|params| FunctionRequest {
        parse: None,
        params,
        function_name: name.to_owned(),
        master: wire.master.unwrap_or(false),
        is_read_only: wire.is_read_only.unwrap_or(false),
        user: wire.user,
        installation_id: wire.installation_id,
        context: wire.context.unwrap_or_default(),
        headers: wire.headers.unwrap_or_default(),
        ip: wire.ip,
    }))
}

fn decode_params<P: DeserializeOwned>(json: &str) -> Result<P, Error> {
    // Most calls decode: tracking the path costs, so it is only done again to explain a
    // failure.
    if let Ok(params) = serde_json::from_str(json) {
        return Ok(params);
    }
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = without_position(error.inner());
        let message = if path == "." || path.is_empty() {
            match message.strip_prefix("missing field ") {
                Some(field) => format!("missing parameter {field}"),
                None => format!("invalid parameters: {message}"),
            }
        } else {
            // A path into deeply nested params can be hundreds of characters long.
            let path = match path.char_indices().nth(80) {
                Some((end, _)) => format!("{}…", &path[..end]),
                None => path,
            };
            format!("invalid parameter `{path}`: {message}")
        };
        Error::new(message)
    })
}

/// Decodes a trigger call for the handler of `trigger` on `class_name`.
pub(crate) fn decode_trigger(
    body: &[u8],
    class_name: &str,
    trigger: Trigger,
) -> Result<TriggerRequest, BadRequest> {
    let wire: TriggerBody<'_> = decode_body(body)?;
    check_trigger_name(wire.trigger_name.as_deref(), trigger)?;
    let object = wire
        .object
        .ok_or_else(|| BadRequest::new(format!("the {trigger} call has no `object`")))?;
    let object = received_object(object, class_name, "object")?;
    if let Some(id) = object.id() {
        tracing::Span::current().record("object_id", id);
    }
    let original = match wire.original {
        Some(original) => Some(received_object(original, class_name, "original")?),
        None => None,
    };
    Ok(TriggerRequest {
        parse: None,
        trigger,
        object,
        original,
        master: wire.master.unwrap_or(false),
        is_read_only: wire.is_read_only.unwrap_or(false),
        user: wire.user,
        installation_id: wire.installation_id,
        context: wire.context.unwrap_or_default(),
        headers: wire.headers.unwrap_or_default(),
        ip: wire.ip,
        class_name: class_name.to_owned(),
    })
}

/// Refuses a body whose `triggerName` (when it has one) is not its route's.
pub(crate) fn check_trigger_name(sent: Option<&str>, trigger: Trigger) -> Result<(), BadRequest> {
    match sent {
        Some(sent) if sent != trigger.as_str() => Err(BadRequest {
            message: format!(
                "the body is a `{sent}` call but was sent to the route of `{trigger}`"
            ),
            summary: format!("the body is not a {trigger} call, as its route is"),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn received_object(
    mut fields: Fields,
    class_name: &str,
    what: &str,
) -> Result<ParseObject, BadRequest> {
    match fields.get("className").map(Field::value) {
        Some(Value::String(sent)) if sent == class_name => {}
        Some(sent) => {
            return Err(BadRequest {
                message: format!(
                    "the body's {what} has className {sent} but was sent to the route of class `{class_name}`"
                ),
                summary: format!(
                    "the body's {what} has another className than `{class_name}`, its route's"
                ),
            });
        }
        None => fields.insert("className".to_owned(), Value::from(class_name)),
    }
    Ok(ParseObject::received(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn nesting_is_measured_outside_strings() {
        let deep = |n: usize| format!("{{\"a\": {}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(!nests_deeper_than(deep(127).as_bytes(), 128));
        assert!(nests_deeper_than(deep(128).as_bytes(), 128));
        // Brackets in strings, escaped quotes, and closing brackets count right.
        let tricky = format!(
            r#"{{"s": "[[[{{\"[[", "t": [{}], "u": {{"v": "\\"}}}}"#,
            "[]".repeat(300)
        );
        assert!(!nests_deeper_than(tricky.as_bytes(), 3));
        assert!(nests_deeper_than(br#"{"a": [{"b": [1]}]}"#, 3));
        assert!(!nests_deeper_than(
            br#"{"a": [{"b": 1}], "c": [{"d": 2}]}"#,
            3
        ));
    }

    /// The scan agrees with the plainest byte-by-byte reading on every string of
    /// brackets, quotes, backslashes and letters up to a length, limits 0 to 3.
    #[test]
    fn nesting_scan_agrees_with_a_byte_by_byte_reading() {
        fn plain(json: &[u8], limit: usize) -> bool {
            let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
            for &byte in json {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if byte == b'\\' {
                        escaped = true;
                    } else if byte == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match byte {
                    b'"' => in_string = true,
                    b'[' | b'{' => {
                        depth += 1;
                        if depth > limit {
                            return true;
                        }
                    }
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            false
        }
        const ALPHABET: &[u8] = b"[]{}\"\\a";
        /// Every text of `length` bytes of the alphabet.
        fn every_text(length: u32) -> impl Iterator<Item = Vec<u8>> {
            (0..ALPHABET.len().pow(length)).map(move |mut n| {
                (0..length)
                    .map(|_| {
                        let byte = ALPHABET[n % ALPHABET.len()];
                        n /= ALPHABET.len();
                        byte
                    })
                    .collect()
            })
        }
        let agree = |text: &[u8], limit: usize| {
            assert_eq!(
                nests_deeper_than(text, limit),
                plain(text, limit),
                "{:?} with limit {limit}",
                String::from_utf8_lossy(text)
            );
        };
        let mut checked = 0;
        for text in (0..=7).flat_map(every_text) {
            for limit in 0..=3 {
                agree(&text, limit);
                checked += 1;
            }
        }
        assert!(checked > 3_000_000);

        // Longer texts go through the word-at-a-time path: every string of up to five of
        // those bytes at each alignment, with letters around it, and random texts of up
        // to 200 bytes in which the marks cross word boundaries every way.
        for core in (0..=5).flat_map(every_text) {
            for before in [1, 5, 7, 8, 9] {
                let mut text = b"[{\"ab".repeat(before);
                text.truncate(before * 2);
                text.extend_from_slice(&core);
                text.extend_from_slice(b"]}x\\\"[[[");
                for limit in 0..=4 {
                    agree(&text, limit);
                }
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let length = (seed % 200) as usize;
            let text: Vec<u8> = (0..length)
                .map(|i| {
                    let pick = (seed.rotate_left(i as u32 * 5) % 11) as usize;
                    ALPHABET.get(pick).copied().unwrap_or(b'a' + pick as u8)
                })
                .collect();
            for limit in [0, 1, 2, 5, 20] {
                agree(&text, limit);
            }
        }
    }

    #[test]
    fn trigger_names_round_trip() {
        for trigger in Trigger::ALL {
            assert_eq!(trigger.as_str().parse::<Trigger>().unwrap(), trigger);
        }
        assert!("afterFound".parse::<Trigger>().is_err());
    }

    #[test]
    fn function_body_fields_are_decoded() {
        let request = decode_function::<Params>(
            &body(json!({"functionName": "hello", "params": {"name": "world"},
                         "master": false, "isReadOnly": false,
                         "user": {"objectId": "u1", "username": "alice", "sessionToken": "r:secret"},
                         "installationId": "inst-1", "context": {"k": "v"},
                         "headers": {"x-parse-session-token": "r:secret", "user-agent": "curl"},
                         "ip": "127.0.0.1", "log": {"appId": "app"}, "somethingNew": 1})),
            "hello",
        )
        .unwrap()
        .unwrap();
        assert_eq!(request.param::<String>("name").unwrap(), "world");
        let user = request.user.as_ref().unwrap();
        assert_eq!((user.id(), user.username()), ("u1", Some("alice")));
        assert_eq!(user.session_token(), Some("r:secret"));
        assert_eq!(request.installation_id.as_deref(), Some("inst-1"));
        assert_eq!(request.context["k"], "v");
        assert_eq!(request.headers.get("User-Agent"), Some("curl"));
        assert_eq!(request.ip.as_deref(), Some("127.0.0.1"));
        let printed = format!("{request:?}");
        assert!(!printed.contains("r:secret"), "{printed}");
        assert!(printed.contains("x-parse-session-token"));
    }

    #[test]
    fn typed_params_errors_name_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Add {
            a: f64,
            b: f64,
        }
        let bad_type = decode_function::<Add>(&body(json!({"params": {"a": "x", "b": 1}})), "add");
        assert_eq!(
            bad_type.unwrap().unwrap_err().client_message(),
            "invalid parameter `a`: invalid type: string \"x\", expected f64"
        );
        let missing = decode_function::<Add>(&body(json!({"params": {"a": 1}})), "add");
        assert_eq!(
            missing.unwrap().unwrap_err().client_message(),
            "missing parameter `b`"
        );
        let absent = decode_function::<Params>(&body(json!({})), "add");
        assert!(absent.unwrap().unwrap().params.is_empty());
    }

    #[test]
    fn bodies_that_contradict_the_route_are_refused() {
        let wrong_function =
            decode_function::<Params>(&body(json!({"functionName": "other"})), "hello");
        assert!(wrong_function.unwrap_err().message.contains("`other`"));
        let wrong_trigger = decode_trigger(
            &body(json!({"triggerName": "afterSave", "object": {"className": "GameScore"}})),
            "GameScore",
            Trigger::BeforeSave,
        );
        assert!(wrong_trigger.unwrap_err().message.contains("afterSave"));
        let wrong_class = decode_trigger(
            &body(json!({"triggerName": "beforeSave", "object": {"className": "Other"}})),
            "GameScore",
            Trigger::BeforeSave,
        );
        assert!(wrong_class.unwrap_err().message.contains("\"Other\""));
        let no_object = decode_trigger(
            &body(json!({"triggerName": "beforeSave"})),
            "GameScore",
            Trigger::BeforeSave,
        );
        assert!(no_object.unwrap_err().message.contains("no `object`"));
        for not_an_object in [&b"[]"[..], b" [1,2]", b"7", b"\"s\"", b"null"] {
            let error =
                decode_trigger(not_an_object, "GameScore", Trigger::BeforeSave).unwrap_err();
            assert!(
                error.message.contains("expected a JSON object"),
                "{}",
                error.message
            );
            assert!(decode_function::<Params>(not_an_object, "f").is_err());
        }
    }
}
