//! JSON objects decoded lazily: each field keeps the JSON text it arrived as, and is decoded
//! only when a handler reads it. Unread fields go back to Parse Server as they came, so a
//! large object is never turned into a tree of values and back.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One field's value: the JSON text received, its decoded value, or both.
///
/// Text that is valid JSON but cannot be decoded into a [`Value`] (a number beyond the
/// range of `f64` such as `1e400`, or nesting deeper than 128 levels, which request
/// bodies cannot carry) reads as `null`: what Parse Server's own `JSON.parse` and
/// `JSON.stringify` make of such a number. Typed reads report the real error.
#[derive(Clone)]
pub(crate) struct Field {
    /// The text as received; `None` once the value was replaced or changed in place.
    raw: Option<Box<RawValue>>,
    /// The decoded value: filled on first read, or set by the handler.
    value: OnceLock<Value>,
}

impl Field {
    pub(crate) fn new(value: Value) -> Self {
        Field {
            raw: None,
            value: OnceLock::from(value),
        }
    }

    fn received(raw: Box<RawValue>) -> Self {
        Field {
            raw: Some(raw),
            value: OnceLock::new(),
        }
    }

    /// The decoded value (see the type's documentation for text that cannot be decoded).
    pub(crate) fn value(&self) -> &Value {
        self.value.get_or_init(|| match &self.raw {
            Some(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            None => Value::Null,
        })
    }

    /// The value, to change in place: the text received no longer stands for it.
    pub(crate) fn value_mut(&mut self) -> &mut Value {
        self.value();
        self.raw = None;
        self.value.get_mut().expect("decoded just above")
    }

    /// The value, moved out.
    pub(crate) fn into_value(self) -> Value {
        self.value();
        self.value.into_inner().unwrap_or(Value::Null)
    }

    /// Decodes the value as `T`, from the text received when it is still there.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match (&self.raw, self.value.get()) {
            (Some(raw), _) => serde_json::from_str(raw.get()),
            (None, Some(value)) => T::deserialize(value),
            (None, None) => T::deserialize(&Value::Null),
        }
    }

    /// The JSON text received, while it still stands for the value.
    pub(crate) fn raw_text(&self) -> Option<&str> {
        self.raw.as_deref().map(RawValue::get)
    }

    /// Whether the field may hold a pending operation (`{"__op": ...}`): a cheap look at
    /// the text received, so that reading a field does not decode it twice.
    pub(crate) fn may_be_op(&self) -> bool {
        match &self.raw {
            // A key may be written with escapes (`"\u005f_op"`): then look closer.
            Some(raw) => {
                let text = raw.get();
                text.starts_with('{') && (text.contains("\"__op\"") || text.contains("\\u"))
            }
            None => self.value().get("__op").is_some(),
        }
    }

    /// Whether two fields hold the same JSON value: the same text, or equal values.
    pub(crate) fn same_as(&self, other: &Field) -> bool {
        if let (Some(a), Some(b)) = (&self.raw, &other.raw) {
            if a.get() == b.get() {
                return true;
            }
        }
        self.value() == other.value()
    }

    /// Writes the field as JSON: the text received when it is still there.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        match (&self.raw, self.value.get()) {
            (Some(raw), _) => {
                out.extend_from_slice(raw.get().as_bytes());
                Ok(())
            }
            (None, Some(value)) => serde_json::to_writer(out, value),
            (None, None) => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
}

impl PartialEq for Field {
    fn eq(&self, other: &Self) -> bool {
        self.same_as(other)
    }
}

/// The fields of a JSON object, in the order received.
///
/// An object received whole in a list (afterFind's results) is kept as its text and split
/// into fields only when first looked at, so a handler that reads a few of a thousand
/// results does not pay for the rest.
#[derive(Clone, Default)]
pub(crate) struct Fields {
    split: OnceLock<Vec<(Box<str>, Field)>>,
    /// The object's text, while it is not split, and a `className` to add when it is.
    unsplit: Option<(Box<RawValue>, Option<Box<str>>)>,
}

impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.entries() == other.entries()
    }
}

/// Above this many fields, duplicate keys are found with a hash set.
const LINEAR_LIMIT: usize = 32;

impl Fields {
    fn with_entries(entries: Vec<(Box<str>, Field)>) -> Self {
        Fields {
            split: OnceLock::from(entries),
            unsplit: None,
        }
    }

    /// The fields of an object received as `text` (a JSON object), split on first use;
    /// `class_name` is added unless the text has one.
    pub(crate) fn unsplit(text: Box<RawValue>, class_name: Option<&str>) -> Self {
        Fields {
            split: OnceLock::new(),
            unsplit: Some((text, class_name.map(Box::from))),
        }
    }

    fn entries(&self) -> &Vec<(Box<str>, Field)> {
        self.split.get_or_init(|| {
            let Some((text, class_name)) = &self.unsplit else {
                return Vec::new();
            };
            // The text was checked as JSON within the body's depth limit when received.
            let mut fields: Fields = serde_json::from_str(text.get()).unwrap_or_default();
            if let Some(class_name) = class_name {
                if !fields.contains_key("className") {
                    fields.insert("className".to_owned(), Value::from(&**class_name));
                }
            }
            fields.split.take().unwrap_or_default()
        })
    }

    fn entries_mut(&mut self) -> &mut Vec<(Box<str>, Field)> {
        self.entries();
        self.unsplit = None;
        self.split.get_mut().expect("split just above")
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Field> {
        self.entries()
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, field)| field)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Field> {
        self.entries_mut()
            .iter_mut()
            .find(|(k, _)| &**k == key)
            .map(|(_, field)| field)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, keeping its place when it exists.
    pub(crate) fn insert(&mut self, key: String, value: Value) {
        match self.get_mut(&key) {
            Some(field) => *field = Field::new(value),
            None => self
                .entries_mut()
                .push((key.into_boxed_str(), Field::new(value))),
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Field> {
        let entries = self.entries_mut();
        let index = entries.iter().position(|(k, _)| &**k == key)?;
        Some(entries.remove(index).1)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Field)> + '_ {
        self.entries().iter().map(|(k, field)| (&**k, field))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// A lookup by key, quick for objects with many fields.
    pub(crate) fn index(&self) -> Index<'_> {
        if self.entries().len() <= LINEAR_LIMIT {
            Index::Linear(self)
        } else {
            Index::Hashed(self.entries().iter().map(|(k, f)| (&**k, f)).collect())
        }
    }

    /// Every value decoded, as a JSON map.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, field)| (k.to_owned(), field.value().clone()))
            .collect()
    }

    pub(crate) fn into_map(mut self) -> Map<String, Value> {
        std::mem::take(self.entries_mut())
            .into_iter()
            .map(|(k, field)| (k.into_string(), field.into_value()))
            .collect()
    }

    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Fields::with_entries(
            map.into_iter()
                .map(|(k, v)| (k.into_boxed_str(), Field::new(v)))
                .collect(),
        )
    }
}

/// A lookup of fields by key.
pub(crate) enum Index<'a> {
    Linear(&'a Fields),
    Hashed(std::collections::HashMap<&'a str, &'a Field>),
}

impl<'a> Index<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a Field> {
        match self {
            Index::Linear(fields) => fields.get(key),
            Index::Hashed(map) => map.get(key).copied(),
        }
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;

        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut entries: Vec<(Box<str>, Field)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                let mut seen: Option<HashSet<Box<str>>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let raw: Box<RawValue> = map.next_value()?;
                    let key = key.into_boxed_str();
                    // As with JSON.parse and serde_json's maps, the last of duplicate keys
                    // wins.
                    let duplicate = match &mut seen {
                        Some(seen) => !seen.insert(key.clone()),
                        None => entries.iter().any(|(k, _)| *k == key),
                    };
                    if duplicate {
                        let slot = entries.iter_mut().find(|(k, _)| *k == key);
                        if let Some((_, field)) = slot {
                            *field = Field::received(raw);
                        }
                        continue;
                    }
                    entries.push((key, Field::received(raw)));
                    if seen.is_none() && entries.len() > LINEAR_LIMIT {
                        seen = Some(entries.iter().map(|(k, _)| k.clone()).collect());
                    }
                }
                Ok(Fields::with_entries(entries))
            }
        }

        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// Whether `S` is one of serde_json's serializers, which write a field's text received as
/// is; other formats get the decoded values.
fn is_serde_json<S>() -> bool {
    std::any::type_name::<S>().contains("serde_json::")
}

/// The text of an unsplit object (a JSON object) with `"className": class_name` added, and
/// `"__type": "Object"` with `object_type`; `None` when the text has a top-level `className`
/// or `__type` of its own (it is then written field by field).
fn with_class_name(text: &str, class_name: &str, object_type: bool) -> Option<String> {
    if has_own_class_or_type(text) {
        return None;
    }
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let class_name = serde_json::to_string(class_name).ok()?;
    let mut spliced = String::with_capacity(text.len() + class_name.len() + 32);
    spliced.push('{');
    if !inner.trim().is_empty() {
        spliced.push_str(inner);
        spliced.push(',');
    }
    spliced.push_str("\"className\":");
    spliced.push_str(&class_name);
    if object_type {
        spliced.push_str(",\"__type\":\"Object\"");
    }
    spliced.push('}');
    Some(spliced)
}

/// Whether the JSON object `text` (valid JSON, as received) has a top-level key that is,
/// or may be (it holds an escape), `className` or `__type`. A scan of the text's bytes:
/// keys of nested objects and the contents of strings are skipped.
fn has_own_class_or_type(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (mut depth, mut at_key, mut i) = (0usize, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let (mut end, mut escaped) = (start, false);
                while end < bytes.len() && bytes[end] != b'"' {
                    if bytes[end] == b'\\' {
                        escaped = true;
                        end += 1;
                    }
                    end += 1;
                }
                if depth == 1 && at_key {
                    let key = &bytes[start..end.min(bytes.len())];
                    if escaped || key == b"className" || key == b"__type" {
                        return true;
                    }
                    at_key = false;
                }
                i = end + 1;
                continue;
            }
            b'{' => {
                depth += 1;
                at_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => at_key = true,
            _ => {}
        }
        i += 1;
    }
    false
}

impl Fields {
    /// Writes the fields as a JSON object; with `object_type`, as Parse encodes a whole
    /// object: with `"__type": "Object"` added when it has a `className` and no `__type`.
    pub(crate) fn serialize_as<S: Serializer>(
        &self,
        serializer: S,
        object_type: bool,
    ) -> Result<S::Ok, S::Error> {
        let as_text = is_serde_json::<S>();
        // An object never split is written as the text it came as.
        if let (true, None, Some((text, class_name))) = (as_text, self.split.get(), &self.unsplit) {
            match class_name {
                None if !object_type => return text.serialize(serializer),
                None => {}
                Some(class_name) => {
                    let object_type = object_type && !class_name.is_empty();
                    if let Some(spliced) = with_class_name(text.get(), class_name, object_type) {
                        if let Ok(raw) = RawValue::from_string(spliced) {
                            return raw.serialize(serializer);
                        }
                    }
                }
            }
        }
        let object_type = object_type
            && !self.contains_key("__type")
            && matches!(
                self.get("className").map(Field::value),
                Some(Value::String(class_name)) if !class_name.is_empty()
            );
        let mut map = serializer.serialize_map(Some(self.len() + usize::from(object_type)))?;
        for (key, field) in self.entries() {
            match (&field.raw, as_text) {
                (Some(raw), true) => map.serialize_entry(&**key, &**raw)?,
                _ => map.serialize_entry(&**key, field.value())?,
            }
        }
        if object_type {
            map.serialize_entry("__type", "Object")?;
        }
        map.end()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_as(serializer, false)
    }
}

/// Keys whose values never appear in `Debug` output or logs.
pub(crate) const SECRET_KEYS: [&str; 5] = [
    "password",
    "sessionToken",
    "authData",
    "_hashed_password",
    "_session_token",
];

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, field) in self.entries() {
            if SECRET_KEYS.contains(&&**key) {
                map.entry(key, &format_args!("<redacted>"));
            } else {
                map.entry(key, &Redacted(field.value()));
            }
        }
        map.finish()
    }
}

/// `Debug` for JSON that prints `<redacted>` instead of secret values, at any depth.
pub(crate) struct Redacted<'a>(pub(crate) &'a Value);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Object(map) => {
                let mut out = f.debug_map();
                for (key, value) in map {
                    if SECRET_KEYS.contains(&key.as_str()) {
                        out.entry(key, &format_args!("<redacted>"));
                    } else {
                        out.entry(key, &Redacted(value));
                    }
                }
                out.finish()
            }
            Value::Array(items) => f.debug_list().entries(items.iter().map(Redacted)).finish(),
            other => fmt::Debug::fmt(other, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    /// An object kept as text splits on first use, gains its class, and behaves as one
    /// decoded at once.
    #[test]
    fn unsplit_objects_split_on_first_use() {
        let text = r#"{"objectId":"a","score":1,"score":2,"ref":{"__type":"Pointer","className":"R","objectId":"r"}}"#;
        let lazy = Fields::unsplit(raw(text), Some("GameScore"));
        assert!(lazy.split.get().is_none());
        assert_eq!(lazy.get("score").unwrap().value(), &json!(2));
        assert_eq!(lazy.get("className").unwrap().value(), &json!("GameScore"));
        assert_eq!(lazy.len(), 4);
        let mut eager: Fields = serde_json::from_str(text).unwrap();
        eager.insert("className".to_owned(), json!("GameScore"));
        assert!(lazy == eager);
        let mut changed = Fields::unsplit(raw(text), Some("GameScore"));
        changed.insert("score".to_owned(), json!(3));
        assert_eq!(changed.remove("objectId").unwrap().value(), &json!("a"));
        assert_eq!(
            serde_json::to_value(&changed).unwrap(),
            json!({"score": 3, "ref": {"__type": "Pointer", "className": "R", "objectId": "r"},
                   "className": "GameScore"})
        );
        let own_class = Fields::unsplit(raw(r#"{"className":"Other"}"#), Some("GameScore"));
        assert_eq!(own_class.get("className").unwrap().value(), &json!("Other"));
    }

    /// An object never split is written as its text, its class added at the end; one that
    /// may name a class of its own, or was split, is written field by field, to the same
    /// JSON.
    #[test]
    fn unsplit_objects_are_written_as_their_text() {
        let text = r#"{"objectId":"a", "n":[1, 2]}"#;
        let lazy = Fields::unsplit(raw(text), Some("Game\"Score"));
        assert_eq!(
            serde_json::to_string(&lazy).unwrap(),
            r#"{"objectId":"a", "n":[1, 2],"className":"Game\"Score"}"#
        );
        assert!(lazy.split.get().is_none(), "written without being split");
        let empty = Fields::unsplit(raw("{ }"), Some("GameScore"));
        assert_eq!(
            serde_json::to_string(&empty).unwrap(),
            r#"{"className":"GameScore"}"#
        );
        let classless = Fields::unsplit(raw(text), None);
        assert_eq!(serde_json::to_string(&classless).unwrap(), text);
        for text in [
            r#"{"className":"Other","n":1}"#,
            r#"{"\u0063lassName":"Other","n":1}"#,
            r#"{"ref":{"className":"R"},"n":1}"#,
        ] {
            let lazy = Fields::unsplit(raw(text), Some("GameScore"));
            let mut expected: Map<String, Value> = serde_json::from_str(text).unwrap();
            expected.entry("className").or_insert(json!("GameScore"));
            let written: Value =
                serde_json::from_str(&serde_json::to_string(&lazy).unwrap()).unwrap();
            assert_eq!(written, Value::Object(expected), "{text}");
        }
        let read = Fields::unsplit(raw(text), Some("GameScore"));
        assert_eq!(read.get("n").unwrap().value(), &json!([1, 2]));
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"objectId":"a","n":[1, 2],"className":"GameScore"}"#
        );
    }

    /// The scan finds top-level `className` and `__type` keys only, whatever the text
    /// around them, and counts an escaped key as one of them.
    #[test]
    fn own_class_or_type_is_found_at_the_top_level_only() {
        for (text, own) in [
            (r#"{}"#, false),
            (r#"{ }"#, false),
            (r#"{"a":1,"b":"className"}"#, false),
            (
                r#"{"a":{"className":"X","__type":"Pointer"},"b":[{"__type":"Date"}]}"#,
                false,
            ),
            (r#"{"a":"}{\"className\":","b":["{\"__type\""]}"#, false),
            (r#"{"a":"\\","b":1}"#, false),
            (r#"{"className":"X"}"#, true),
            (r#"{ "a" : [1, {"b": 2}] , "__type" : "Object"}"#, true),
            (r#"{"a":{"b":{}},"className":"X"}"#, true),
            (r#"{"\u0063lassName":"X"}"#, true),
            (r#"{"classNameX":1,"__typ":2}"#, false),
        ] {
            assert_eq!(has_own_class_or_type(text), own, "{text}");
            let parsed: Map<String, Value> = serde_json::from_str(text).unwrap();
            if !text.contains("\\u") {
                let truth = parsed.contains_key("className") || parsed.contains_key("__type");
                assert_eq!(own, truth, "{text}");
            }
        }
    }

    fn fields(text: &str) -> Fields {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn fields_keep_their_text_until_changed() {
        let mut f = fields(r#"{"a": {"x": [1, 2.50, "\u00e9"]}, "b": 1}"#);
        let mut out = Vec::new();
        f.get("a").unwrap().write_json(&mut out).unwrap();
        assert_eq!(
            out, br#"{"x": [1, 2.50, "\u00e9"]}"#,
            "unread text is kept verbatim"
        );
        assert_eq!(f.get("a").unwrap().value(), &json!({"x": [1, 2.5, "é"]}));
        assert_eq!(f.get("b").unwrap().decode::<i64>().unwrap(), 1);
        f.get_mut("a").unwrap().value_mut()["x"] = json!(0);
        out.clear();
        f.get("a").unwrap().write_json(&mut out).unwrap();
        assert_eq!(out, br#"{"x":0}"#);
    }

    #[test]
    fn the_last_of_duplicate_keys_wins_as_in_json_parse() {
        for n in [2, 40] {
            let mut text: Vec<String> = (0..n).map(|i| format!("\"k{i}\": {i}")).collect();
            text.push("\"k1\": \"last\"".to_owned());
            let f = fields(&format!("{{{}}}", text.join(",")));
            assert_eq!(f.len(), n);
            assert_eq!(f.get("k1").unwrap().value(), &json!("last"));
        }
    }

    #[test]
    fn equal_values_are_the_same_whatever_their_text() {
        let a = fields(r#"{"v": {"x": 1, "y": [true]}}"#);
        let b = fields(r#"{"v": {"y": [ true ], "x": 1}}"#);
        assert!(a.get("v").unwrap().same_as(b.get("v").unwrap()));
        let c = fields(r#"{"v": {"x": 2}}"#);
        assert!(!a.get("v").unwrap().same_as(c.get("v").unwrap()));
    }

    #[test]
    fn serialization_writes_the_text_or_the_values() {
        let f = fields(r#"{"n": 1.50, "s": "\u00e9"}"#);
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"n":1.50,"s":"\u00e9"}"#
        );
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"n": 1.5, "s": "é"})
        );
    }

    #[test]
    fn undecodable_text_reads_as_null_and_is_written_back_as_received() {
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let f = fields(&format!(r#"{{"d": {deep}, "huge": 1e400}}"#));
        for key in ["d", "huge"] {
            let field = f.get(key).unwrap();
            assert_eq!(field.value(), &Value::Null, "{key}");
            assert!(field.decode::<Value>().is_err(), "{key}: typed reads fail");
            let mut out = Vec::new();
            field.write_json(&mut out).unwrap();
            assert_ne!(out, b"null", "{key}: the text goes back as received");
        }
        assert_eq!(
            f.to_map(),
            serde_json::from_str::<Map<String, Value>>(r#"{"d": null, "huge": null}"#).unwrap()
        );
    }
}
