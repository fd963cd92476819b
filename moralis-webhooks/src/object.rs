//! Parse objects as webhooks receive and return them: REST-encoded JSON fields, with the
//! handler's edits tracked so that the reply to Parse Server carries exactly what changed.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::decode::ObjectDeserializer;
use crate::fields::{Field, Fields, SECRET_KEYS};
use crate::types::{Add, AddRelation, AddUnique, Date, Increment, Pointer, Remove, RemoveRelation};
use crate::{Error, TriggerRequest};

/// Keys Parse Server owns: it ignores them in a beforeSave reply (and `objectId` counts only
/// on create).
pub(crate) const SERVER_KEYS: [&str; 3] = ["className", "createdAt", "updatedAt"];

/// A Parse object: its class, id, timestamps and fields, in Parse's REST JSON encoding.
///
/// Values keep their REST encoding: a date is `{"__type": "Date", "iso": "..."}`, a pointer
/// `{"__type": "Pointer", "className": ..., "objectId": ...}`, and so on, while `createdAt`
/// and `updatedAt` are plain ISO strings. In a beforeSave on update, a field the client
/// changed with an operator holds that pending operation, e.g.
/// `{"__op": "Increment", "amount": 5}`; [`ParseObject::pending_op`] tells which.
///
/// Reading is typed ([`get`](Self::get)); writing goes through [`set`](Self::set),
/// [`remove`](Self::remove), [`increment`](Self::increment) or
/// [`get_raw_mut`](Self::get_raw_mut), which record what the handler changed. When a
/// beforeSave handler returns the object, the framework uses that record to send Parse
/// Server only what must be written (see the crate documentation on replies): fields nobody
/// touched are never rewritten, and pending operations of the client stay atomic.
///
/// Fields are decoded only when read: a field the handler never reads goes back to Parse
/// Server as the JSON text it arrived as, so a large object costs little more than its
/// bytes.
///
/// `Debug` output hides `password`, `sessionToken` and `authData` values, at any depth.
pub struct ParseObject {
    fields: Arc<Fields>,
    edited: Vec<String>,
    from_request: bool,
    /// The stored object a beforeSave on update changes (shared with the request's
    /// `original`): what pending operations are estimated over.
    original: Option<Arc<Fields>>,
    /// Set on a beforeSave request's object: where it goes when the handler lets go of it
    /// changed, so that changes made to it count even when the handler returns `()`.
    handback: Option<Handback>,
    /// Whether this is a beforeSave request's object, whose fields the client sent.
    in_before_save: bool,
    /// Received fields the handler removed: a create's reply deletes them too, so that the
    /// client's copy of the object drops them.
    dropped: Vec<String>,
    /// Why a value set could not be encoded as JSON: the reply fails with it.
    unencodable: Option<String>,
}

impl Clone for ParseObject {
    /// A copy; changes to it are not saved unless it is returned.
    fn clone(&self) -> Self {
        ParseObject {
            fields: Arc::clone(&self.fields),
            edited: self.edited.clone(),
            from_request: self.from_request,
            original: self.original.clone(),
            handback: None,
            in_before_save: self.in_before_save,
            dropped: self.dropped.clone(),
            unencodable: self.unencodable.clone(),
        }
    }
}

impl Drop for ParseObject {
    fn drop(&mut self) {
        if let Some(handback) = self.handback.take() {
            if !self.edited.is_empty() {
                handback.put(ParseObject {
                    fields: std::mem::take(&mut self.fields),
                    edited: std::mem::take(&mut self.edited),
                    from_request: self.from_request,
                    original: self.original.take(),
                    handback: None,
                    in_before_save: self.in_before_save,
                    dropped: std::mem::take(&mut self.dropped),
                    unencodable: self.unencodable.take(),
                });
            }
        }
    }
}

/// Where a beforeSave request's object goes when the handler drops it changed.
#[derive(Clone, Default)]
pub(crate) struct Handback(Arc<Mutex<Option<ParseObject>>>);

impl Handback {
    fn put(&self, object: ParseObject) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(object);
    }

    fn take(&self) -> Option<ParseObject> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// What a beforeSave call keeps for its reply: the original's fields (shared with the
/// request, not copied) and the request's object if the handler changed it and let it go.
pub(crate) struct SaveContext {
    original: Option<Arc<Fields>>,
    handback: Handback,
}

impl SaveContext {
    /// Links the request's object to the reply: it reads pending operations over the
    /// original, and comes back here if the handler drops it changed.
    pub(crate) fn attach(request: &mut TriggerRequest) -> Self {
        let original = request.original.as_ref().map(|o| Arc::clone(&o.fields));
        let handback = Handback::default();
        request.object.original = original.clone();
        request.object.handback = Some(handback.clone());
        request.object.in_before_save = true;
        SaveContext { original, handback }
    }

    /// The stored object, on update.
    pub(crate) fn original(&self) -> Option<&Fields> {
        self.original.as_deref()
    }

    /// The request's object, if the handler changed it and dropped it.
    pub(crate) fn handed_back(&self) -> Option<ParseObject> {
        self.handback.take()
    }
}

impl ParseObject {
    /// A new, empty object of the given class.
    pub fn new(class_name: impl Into<String>) -> Self {
        let mut fields = Fields::default();
        fields.insert("className".to_owned(), Value::String(class_name.into()));
        ParseObject::with_fields(fields, false)
    }

    /// An object made of these fields (`className` included, if it should have one).
    pub fn from_map(fields: Map<String, Value>) -> Self {
        ParseObject::read(Fields::from_map(fields))
    }

    /// An object read from JSON: a `"__type": "Object"` is how it was written, not a field
    /// (it would make Parse Server refuse a save of it), and is left out.
    fn read(mut fields: Fields) -> Self {
        if matches!(fields.get("__type").map(Field::value), Some(Value::String(kind)) if kind == "Object")
        {
            fields.remove("__type");
        }
        ParseObject::with_fields(fields, false)
    }

    /// An object Parse Server answered a query with.
    pub(crate) fn fetched(fields: Fields) -> Self {
        ParseObject::with_fields(fields, false)
    }

    /// The object of a webhook request, as received.
    pub(crate) fn received(fields: Fields) -> Self {
        ParseObject::with_fields(fields, true)
    }

    fn with_fields(fields: Fields, from_request: bool) -> Self {
        ParseObject {
            fields: Arc::new(fields),
            edited: Vec::new(),
            from_request,
            original: None,
            handback: None,
            in_before_save: false,
            dropped: Vec::new(),
            unencodable: None,
        }
    }

    /// The class name, or `""` for an object that has none.
    pub fn class_name(&self) -> &str {
        self.str_field("className").unwrap_or("")
    }

    /// The `objectId`; `None` for an object not yet created (beforeSave on create).
    pub fn id(&self) -> Option<&str> {
        self.str_field("objectId")
    }

    /// When the object was created; `None` before it is (beforeSave on create).
    pub fn created_at(&self) -> Option<Date> {
        self.str_field("createdAt")?.parse().ok()
    }

    /// When the object was last saved; `None` before it is created.
    pub fn updated_at(&self) -> Option<Date> {
        self.str_field("updatedAt")?.parse().ok()
    }

    /// Decodes the whole object into `T`, a struct of the fields it needs, say.
    ///
    /// Fields `T` does not know are skipped without being decoded, so a struct of a few
    /// fields costs about what reading them by name costs. Fields holding a client's pending
    /// operation read as the value Parse Server will store (see [`get`](Self::get)). An
    /// error names the class and the field.
    ///
    /// ```
    /// # use moralis_webhooks::ParseObject;
    /// #[derive(serde::Deserialize)]
    /// struct Score { score: i64, player: String }
    ///
    /// let object: ParseObject = serde_json::from_str(
    ///     r#"{"className": "GameScore", "score": 10, "player": "ada", "big": [1, 2, 3]}"#,
    /// ).unwrap();
    /// let score: Score = object.decode().unwrap();
    /// assert_eq!((score.score, score.player.as_str()), (10, "ada"));
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Wrong { score: String }
    /// assert_eq!(
    ///     object.decode::<Wrong>().unwrap_err().client_message(),
    ///     "GameScore: invalid field `score`: invalid type: integer `10`, expected a string"
    /// );
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let deserializer = ObjectDeserializer {
            fields: &self.fields,
            original: self.original.as_deref(),
        };
        T::deserialize(deserializer).map_err(|error| {
            Error::new(format!(
                "{}: {}",
                self.class_name(),
                without_position(&error)
            ))
        })
    }

    /// Whether field `key` is changed by this save, as Cloud Code's `object.dirty(key)`
    /// says: in a beforeSave, a field the client sent (on update, one that differs from the
    /// stored object or holds an operation) or that the handler set or removed; in an
    /// object made here, a field set.
    pub fn dirty(&self, key: &str) -> bool {
        if self.is_edited(key) {
            return true;
        }
        if !self.in_before_save || SERVER_KEYS.contains(&key) || key == "objectId" {
            return false;
        }
        let Some(field) = self.fields.get(key) else {
            return false;
        };
        match &self.original {
            None => true,
            Some(original) => {
                (field.may_be_op() && pending_op(field.value()).is_some())
                    || original
                        .get(key)
                        .is_none_or(|stored| !field.same_as(stored))
            }
        }
    }

    /// The fields [`dirty`](Self::dirty) says are changed, in the object's order (removed
    /// fields last).
    pub fn dirty_keys(&self) -> impl Iterator<Item = &str> + '_ {
        let present = self.fields.iter().map(|(key, _)| key);
        present
            .filter(|key| self.dirty(key))
            .chain(self.removed_keys())
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.fields.get(key)?.value().as_str()
    }

    /// Decodes field `key` as `T`.
    ///
    /// A missing field decodes as `T` from `null` when `T` accepts it (`Option<T>` gives
    /// `None`); otherwise it is an error, as is a value of another type. The error's message
    /// names the class and the field, so `?` gives the Parse client a useful answer.
    ///
    /// A field that holds a client's pending operation (a beforeSave on update) reads as
    /// the value Parse Server will store, estimated as the Parse JS SDK does: an
    /// `Increment` of 5 over a stored 10 reads 15; `Add`, `AddUnique` and `Remove` apply to
    /// the stored array; a `Delete` reads as missing. The reply still carries the client's
    /// operation, not the estimate, unless the handler sets the field, so concurrent
    /// increments stay atomic. [`get_raw`](Self::get_raw) and
    /// [`pending_op`](Self::pending_op) show the operation itself.
    ///
    /// ```
    /// # use moralis_webhooks::ParseObject;
    /// let mut score = ParseObject::new("GameScore");
    /// score.set("score", 10);
    /// assert_eq!(score.get::<i64>("score").unwrap(), 10);
    /// assert_eq!(score.get::<Option<String>>("playerName").unwrap(), None);
    /// assert_eq!(
    ///     score.get::<String>("playerName").unwrap_err().client_message(),
    ///     "GameScore: missing field `playerName`"
    /// );
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, Error> {
        let owner = || FieldOwner::Object(self.class_name().to_owned());
        let field = self.fields.get(key);
        if let Some(op) = field.filter(|f| f.may_be_op()).map(Field::value) {
            if pending_op(op).is_some() {
                let stored = self.original.as_ref().and_then(|o| o.get(key));
                if let Some(estimate) = crate::ops::estimate(op, stored.map(Field::value)) {
                    let estimate = estimate.map(Field::new);
                    return decode_field(estimate.as_ref(), key, owner);
                }
            }
        }
        decode_field(field, key, owner)
    }

    /// The JSON value of field `key`, decoded (once) if it was not yet; `None` when the
    /// object has no such field.
    ///
    /// A number beyond the range of `f64` (valid JSON, such as `1e400`) reads as `null`
    /// here, which is what Parse Server makes of it; [`get`](Self::get) reports it as an
    /// error, and an unchanged field goes back to Parse Server as received.
    pub fn get_raw(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).map(Field::value)
    }

    /// Mutable access to the value of field `key`; the field counts as changed by the
    /// handler.
    pub fn get_raw_mut(&mut self, key: &str) -> Option<&mut Value> {
        if !self.fields.contains_key(key) {
            return None;
        }
        self.mark_edited(key);
        Arc::make_mut(&mut self.fields)
            .get_mut(key)
            .map(Field::value_mut)
    }

    /// Whether the object has field `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// If field `key` holds a pending operation (`{"__op": "Increment", ...}`), its name.
    ///
    /// Only a beforeSave on update sees these: they are the client's changes, applied by
    /// Parse Server atomically after the hook.
    pub fn pending_op(&self, key: &str) -> Option<&str> {
        pending_op(self.fields.get(key)?.value())
    }

    /// Sets field `key` to `value`, replacing any value or pending operation it had.
    ///
    /// Any `Serialize` value works: numbers, strings, `json!(...)`, the Parse
    /// [`types`](crate::types) (a [`Date`], a [`Pointer`](crate::types::Pointer), an
    /// operation...) and your own types. A saved `ParseObject` in the value (or any
    /// `{"__type": "Object"}` with a class and an id) is set as a pointer to it, as the
    /// Parse SDKs do; an unsaved one has no id to point to, and Parse Server refuses to
    /// store it (code 111, "This is not a valid Object"). A value that cannot be encoded as JSON (a map with non-string keys,
    /// say) fails the reply with an internal error naming the field.
    pub fn set(&mut self, key: impl Into<String>, value: impl Serialize) -> &mut Self {
        let key = key.into();
        match serde_json::to_value(&value) {
            Ok(mut value) => {
                objects_to_pointers(&mut value);
                self.mark_edited(&key);
                Arc::make_mut(&mut self.fields).insert(key, value);
            }
            Err(error) => {
                self.unencodable.get_or_insert_with(|| {
                    format!("field `{key}` cannot be encoded as JSON: {error}")
                });
            }
        }
        self
    }

    /// Sets field `key` to an atomic increment by `amount`, applied by Parse Server to the
    /// stored value (so concurrent increments are never lost).
    pub fn increment(&mut self, key: impl Into<String>, amount: i64) -> &mut Self {
        self.set(key, Increment::new(amount))
    }

    /// Appends `items` to the array in field `key`, atomically (an [`Add`]).
    pub fn add<T: Serialize>(
        &mut self,
        key: impl Into<String>,
        items: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.set(key, Add::new(items))
    }

    /// Appends the `items` that the array in field `key` does not hold yet, each once,
    /// atomically (an [`AddUnique`]).
    pub fn add_unique<T: Serialize>(
        &mut self,
        key: impl Into<String>,
        items: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.set(key, AddUnique::new(items))
    }

    /// Removes every occurrence of `items` from the array in field `key`, atomically (a
    /// [`Remove`]; Cloud Code's `object.remove(key, value)`).
    pub fn remove_items<T: Serialize>(
        &mut self,
        key: impl Into<String>,
        items: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.set(key, Remove::new(items))
    }

    /// Adds `objects` to the relation in field `key` (an [`AddRelation`]).
    pub fn add_relation(
        &mut self,
        key: impl Into<String>,
        objects: impl IntoIterator<Item = Pointer>,
    ) -> &mut Self {
        self.set(key, AddRelation::new(objects))
    }

    /// Removes `objects` from the relation in field `key` (a [`RemoveRelation`]).
    pub fn remove_relation(
        &mut self,
        key: impl Into<String>,
        objects: impl IntoIterator<Item = Pointer>,
    ) -> &mut Self {
        self.set(key, RemoveRelation::new(objects))
    }

    /// Deletes field `key` (Cloud Code's `object.unset(key)`): the reply carries
    /// `{"__op": "Delete"}` for it when Parse Server holds it (or the client sent it).
    pub fn unset(&mut self, key: &str) -> &mut Self {
        self.remove(key);
        self
    }

    /// Removes field `key` and returns its value; what [`unset`](Self::unset) does.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.mark_edited(key);
        let removed = Arc::make_mut(&mut self.fields).remove(key)?;
        if self.from_request && !self.dropped.iter().any(|k| k == key) {
            self.dropped.push(key.to_owned());
        }
        Some(removed.into_value())
    }

    /// The field names, in the order received.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields.iter().map(|(key, _)| key)
    }

    /// The fields with their values, decoded (once) if they were not yet, in the order
    /// received (see [`get_raw`](Self::get_raw)).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> + '_ {
        self.fields.iter().map(|(key, field)| (key, field.value()))
    }

    /// The number of fields, `className` and the timestamps included.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the object has no field at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as a JSON map (every value decoded and copied).
    pub fn to_map(&self) -> Map<String, Value> {
        self.fields.to_map()
    }

    /// The fields as a JSON map, moved out without copying when possible.
    pub fn into_map(mut self) -> Map<String, Value> {
        self.handback = None;
        Arc::try_unwrap(std::mem::take(&mut self.fields))
            .unwrap_or_else(|shared| (*shared).clone())
            .into_map()
    }

    fn mark_edited(&mut self, key: &str) {
        if !self.edited.iter().any(|k| k == key) {
            self.edited.push(key.to_owned());
        }
    }

    /// Whether the handler set, changed or removed field `key`.
    pub(crate) fn is_edited(&self, key: &str) -> bool {
        self.edited.iter().any(|k| k == key)
    }

    /// Keys the handler removed.
    pub(crate) fn removed_keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.edited
            .iter()
            .map(String::as_str)
            .filter(|k| !self.fields.contains_key(k))
    }

    /// Whether this is a request's object that the handler did not change.
    pub(crate) fn is_unchanged_request_object(&self) -> bool {
        self.from_request && self.edited.is_empty()
    }

    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Received fields the handler removed.
    pub(crate) fn dropped_keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.dropped
            .iter()
            .map(String::as_str)
            .filter(|k| !self.fields.contains_key(k))
    }

    /// The stored object a beforeSave on update changes.
    pub(crate) fn original_fields(&self) -> Option<&Fields> {
        self.original.as_deref()
    }

    /// Why a value set could not be encoded, if one could not.
    pub(crate) fn unencodable(&self) -> Option<&str> {
        self.unencodable.as_deref()
    }

    /// Records a save through the [`ParseClient`](crate::client::ParseClient): the fields
    /// Parse Server answered (`objectId`, timestamps, the results of operations, fields a
    /// trigger changed) are merged in; operations it did not answer for are dropped (their
    /// result is unknown until fetched), except relation operations, which become the
    /// relation; and the object counts as unchanged from then on (no edits, no beforeSave
    /// state).
    pub(crate) fn saved(&mut self, mut answer: Map<String, Value>) {
        // A create is answered with `createdAt` alone: the object was updated then too (as
        // the Parse SDKs set it).
        if let (Some(created), false) = (answer.get("createdAt"), answer.contains_key("updatedAt"))
        {
            let created = created.clone();
            answer.insert("updatedAt".to_owned(), created);
        }
        let fields = Arc::make_mut(&mut self.fields);
        for (key, value) in answer {
            fields.insert(key, value);
        }
        let leftover: Vec<(String, Option<Value>)> = fields
            .iter()
            .filter(|(_, field)| field.may_be_op())
            .filter_map(|(key, field)| {
                let value = field.value();
                let relation = match pending_op(value)? {
                    "AddRelation" | "RemoveRelation" => value
                        .get("objects")
                        .and_then(|objects| objects.get(0))
                        .and_then(|pointer| pointer.get("className"))
                        .and_then(Value::as_str)
                        .map(|class| serde_json::json!({"__type": "Relation", "className": class})),
                    _ => None,
                };
                Some((key.to_owned(), relation))
            })
            .collect();
        for (key, relation) in leftover {
            match relation {
                Some(relation) => fields.insert(key, relation),
                None => {
                    fields.remove(&key);
                }
            }
        }
        self.edited.clear();
        self.dropped.clear();
        self.unencodable = None;
        self.original = None;
        self.in_before_save = false;
    }
}

impl PartialEq for ParseObject {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl fmt::Debug for ParseObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ParseObject").field(&*self.fields).finish()
    }
}

/// Written as Parse encodes a whole object (the JS SDK's `_toFullJSON`, what Parse Server
/// sends for a `Parse.Object` a Cloud Code function returns): its fields, `className`
/// included, and `"__type": "Object"` when it has a class and no `__type` field of its own.
/// The Parse SDKs make an object of it: a cloud function returning `ParseObject`s (bare,
/// in a `Vec`, in a struct or in `json!`) gives the JS SDK's `Parse.Cloud.run`
/// `Parse.Object`s. Set into a field with [`ParseObject::set`], a saved object becomes a
/// pointer.
impl Serialize for ParseObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize_as(serializer, true)
    }
}

impl<'de> Deserialize<'de> for ParseObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Fields::deserialize(deserializer).map(ParseObject::read)
    }
}

/// Replaces every whole object in `value` (`"__type": "Object"` with a class and an id) by
/// a pointer to it, as the Parse SDKs save an object set into another's field.
fn objects_to_pointers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("__type").and_then(Value::as_str) == Some("Object") {
                if let (Some(Value::String(class)), Some(Value::String(id))) =
                    (map.get("className"), map.get("objectId"))
                {
                    *value = serde_json::json!({"__type": "Pointer", "className": class, "objectId": id});
                    return;
                }
            }
            map.values_mut().for_each(objects_to_pointers);
        }
        Value::Array(items) => items.iter_mut().for_each(objects_to_pointers),
        _ => {}
    }
}

/// The name of the pending operation a value holds, if it is one.
pub(crate) fn pending_op(value: &Value) -> Option<&str> {
    value.as_object()?.get("__op")?.as_str()
}

/// What a decoded field belongs to, for error messages.
pub(crate) enum FieldOwner {
    Object(String),
    User,
    Params,
}

/// Decodes an optional field as `T`, with a message naming the field.
pub(crate) fn decode_field<T: DeserializeOwned>(
    field: Option<&Field>,
    key: &str,
    owner: impl FnOnce() -> FieldOwner,
) -> Result<T, Error> {
    let Some(field) = field else {
        return T::deserialize(&Value::Null).map_err(|_| {
            Error::new(match owner() {
                FieldOwner::Params => format!("missing parameter `{key}`"),
                FieldOwner::Object(class) => format!("{class}: missing field `{key}`"),
                FieldOwner::User => format!("user: missing field `{key}`"),
            })
        });
    };
    field.decode::<T>().map_err(|error| {
        let prefix = match owner() {
            FieldOwner::Params => format!("invalid parameter `{key}`"),
            FieldOwner::Object(class) => format!("{class}: invalid field `{key}`"),
            FieldOwner::User => format!("user: invalid field `{key}`"),
        };
        Error::new(match pending_op(field.value()) {
            Some(op) => format!("{prefix}: it holds a pending `{op}` operation, not a value"),
            // serde's message quotes the value, which must not reach logs.
            None if SECRET_KEYS.contains(&key) => format!("{prefix}: it has another type"),
            None => format!("{prefix}: {}", without_position(&error)),
        })
    })
}

/// serde_json's message without the ` at line 1 column 7` it adds for text it parsed.
pub(crate) fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    if error.line() == 0 {
        return message;
    }
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(stripped) => stripped.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> ParseObject {
        ParseObject::received(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn typed_get_reads_values_and_explains_failures() {
        let score = object(json!({"className": "GameScore", "score": 10, "name": "x",
                                  "bonus": {"__op": "Increment", "amount": 5}}));
        assert_eq!(score.get::<i64>("score").unwrap(), 10);
        assert_eq!(score.get::<Option<i64>>("missing").unwrap(), None);
        assert_eq!(
            score.get::<i64>("name").unwrap_err().client_message(),
            "GameScore: invalid field `name`: invalid type: string \"x\", expected i64"
        );
        // A pending operation with nothing stored: the JS SDK's estimate.
        assert_eq!(score.get::<i64>("bonus").unwrap(), 5);
        assert_eq!(score.pending_op("bonus"), Some("Increment"));
        assert_eq!(score.pending_op("score"), None);
        assert_eq!(
            score.get_raw("bonus"),
            Some(&json!({"__op": "Increment", "amount": 5}))
        );
        let unknown = object(json!({"className": "GameScore", "x": {"__op": "Frobnicate"}}));
        assert_eq!(
            unknown.get::<i64>("x").unwrap_err().client_message(),
            "GameScore: invalid field `x`: it holds a pending `Frobnicate` operation, not a value"
        );
    }

    /// In a beforeSave on update, reads under the client's operations give what Parse
    /// Server will store, as Cloud Code's `request.object.get` does.
    #[test]
    fn reads_under_pending_operations_estimate_over_the_original() {
        let stored = json!({"className": "GameScore", "objectId": "x", "score": 10,
                            "tags": ["a", "b"], "gone": 1, "name": "n"});
        let mut request = TriggerRequest::new(
            crate::Trigger::BeforeSave,
            object(json!({"className": "GameScore", "objectId": "x",
                "score": {"__op": "Increment", "amount": 5},
                "tags": {"__op": "AddUnique", "objects": ["b", "c"]},
                "gone": {"__op": "Delete"}, "name": "n"})),
        );
        request.original = Some(object(stored));
        let _context = SaveContext::attach(&mut request);
        let score = &request.object;
        assert_eq!(score.get::<i64>("score").unwrap(), 15);
        assert_eq!(score.get::<Vec<String>>("tags").unwrap(), ["a", "b", "c"]);
        assert_eq!(score.get::<Option<i64>>("gone").unwrap(), None);
        assert_eq!(
            score.get::<i64>("gone").unwrap_err().client_message(),
            "GameScore: missing field `gone`"
        );
        assert_eq!(score.get::<String>("name").unwrap(), "n");
    }

    /// An operation whose key is written with escapes is still an operation.
    #[test]
    fn escaped_operation_keys_are_estimated_too() {
        let mut request = TriggerRequest::new(
            crate::Trigger::BeforeSave,
            ParseObject::received(
                serde_json::from_str(
                    r#"{"className": "GameScore", "objectId": "x", "score": {"\u005f_op": "Delete"}}"#,
                )
                .unwrap(),
            ),
        );
        request.original = Some(object(
            json!({"className": "GameScore", "objectId": "x", "score": 10}),
        ));
        let _context = SaveContext::attach(&mut request);
        assert_eq!(request.object.pending_op("score"), Some("Delete"));
        assert_eq!(request.object.get::<Option<i64>>("score").unwrap(), None);
    }

    /// Changes made to a beforeSave request's object come back when the handler drops it,
    /// and a copy never does.
    #[test]
    fn a_changed_request_object_is_handed_back_when_dropped() {
        let mut request = TriggerRequest::new(
            crate::Trigger::BeforeSave,
            object(json!({"className": "GameScore", "score": 1})),
        );
        let context = SaveContext::attach(&mut request);
        let copy = request.object.clone();
        drop(copy);
        assert!(context.handed_back().is_none(), "an unchanged object");
        let mut edited_copy = request.object.clone();
        edited_copy.set("x", 1);
        drop(edited_copy);
        assert!(context.handed_back().is_none(), "a copy");
        request.object.set("reviewed", true);
        drop(request);
        let back = context.handed_back().expect("the changed object");
        assert!(back.get::<bool>("reviewed").unwrap());
        assert!(back.is_edited("reviewed"));
    }

    #[test]
    fn edits_are_recorded() {
        let mut score = object(json!({"className": "GameScore", "score": 10, "name": "x"}));
        assert!(score.is_unchanged_request_object());
        score.set("reviewed", true).increment("plays", 1);
        score.remove("name");
        assert!(score.is_edited("reviewed"));
        assert!(score.is_edited("plays"));
        assert!(!score.is_edited("score"));
        assert_eq!(score.removed_keys().collect::<Vec<_>>(), ["name"]);
        assert_eq!(
            score.get_raw("plays"),
            Some(&json!({"__op": "Increment", "amount": 1}))
        );
        assert!(!score.is_unchanged_request_object());
        *score.get_raw_mut("score").unwrap() = json!(11);
        assert!(score.is_edited("score"));
        assert!(score.get_raw_mut("absent").is_none());
        assert!(!score.is_edited("absent"));
    }

    #[test]
    fn accessors_read_the_parse_fields() {
        let user = object(json!({"className": "_User", "objectId": "abc",
                                 "createdAt": "2024-01-01T00:00:00.000Z",
                                 "updatedAt": "2024-01-02T00:00:00.000Z"}));
        assert_eq!(user.class_name(), "_User");
        assert_eq!(user.id(), Some("abc"));
        assert_eq!(
            user.created_at().unwrap().to_string(),
            "2024-01-01T00:00:00.000Z"
        );
        assert_eq!(
            user.updated_at().unwrap().to_string(),
            "2024-01-02T00:00:00.000Z"
        );
        let fresh = ParseObject::new("GameScore");
        assert_eq!(fresh.class_name(), "GameScore");
        assert_eq!(fresh.id(), None);
        assert!(!fresh.is_unchanged_request_object());
    }

    #[test]
    fn debug_hides_secrets_at_any_depth() {
        let user = object(json!({"className": "_User", "username": "bob",
            "password": "pw-bob", "sessionToken": "r:tok",
            "authData": {"facebook": {"access_token": "fb-secret"}},
            "nested": [{"password": "deep-secret"}]}));
        let printed = format!("{user:?}");
        for secret in ["pw-bob", "r:tok", "fb-secret", "deep-secret"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("bob"));
        assert!(printed.contains("<redacted>"));
        let wrong_type = user
            .get::<u64>("password")
            .unwrap_err()
            .client_message()
            .to_owned();
        assert_eq!(
            wrong_type,
            "_User: invalid field `password`: it has another type"
        );
    }

    #[test]
    fn serde_round_trip_keeps_rest_encodings() {
        let value = json!({"className": "GameScore", "when": {"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"},
                           "owner": {"__type": "Pointer", "className": "_User", "objectId": "u1"}});
        let parsed: ParseObject = serde_json::from_value(value.clone()).unwrap();
        let mut written = value.clone();
        written["__type"] = json!("Object");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), written);
        // A whole object read back has its fields, not the `__type` (a save of it would be
        // refused), and is written the same again; one with a `__type` of its own (a
        // pointer read as an object) is written as it came.
        let again: ParseObject = serde_json::from_value(written.clone()).unwrap();
        assert!(!again.contains_key("__type"));
        assert_eq!(again, parsed);
        assert_eq!(serde_json::to_value(&again).unwrap(), written);
        let pointer = json!({"__type": "Pointer", "className": "_User", "objectId": "u1"});
        let read: ParseObject = serde_json::from_value(pointer.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), pointer);
        let classless = json!({"n": 1});
        let read: ParseObject = serde_json::from_value(classless.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), classless);
    }

    /// A saved object set into a field, alone or nested, is set as a pointer to it, as the
    /// Parse SDKs save it; an unsaved one stays a whole object.
    #[test]
    fn objects_set_into_fields_become_pointers() {
        let saved = ParseObject::from_map(
            json!({"className": "_User", "objectId": "u1", "name": "Ada"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let pointer = json!({"__type": "Pointer", "className": "_User", "objectId": "u1"});
        let mut score = ParseObject::new("GameScore");
        score.set("player", &saved);
        score.set("team", vec![&saved]);
        score.set("nested", json!({"by": saved.clone(), "n": 1}));
        score.set("new", ParseObject::new("Team"));
        assert_eq!(score.get::<Value>("player").unwrap(), pointer);
        assert_eq!(score.get::<Value>("team").unwrap(), json!([pointer]));
        assert_eq!(
            score.get::<Value>("nested").unwrap(),
            json!({"by": pointer, "n": 1})
        );
        assert_eq!(
            score.get::<Value>("new").unwrap(),
            json!({"className": "Team", "__type": "Object"})
        );
    }
}
