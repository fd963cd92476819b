//! Decoding a whole object into a user's type, lazily: the type asks for its fields by
//! name, each is decoded from the text it arrived as, and the fields it does not know are
//! skipped without being parsed. A struct of a few fields thus costs about what reading
//! those fields by name costs, whatever the size of the object.
//!
//! A field that holds a client's pending operation is presented as the value Parse Server
//! will store (see [`crate::ops`]); a pending `Delete` as no field at all.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::Value;

use crate::fields::{Field, Fields, SECRET_KEYS};
use crate::object::{pending_op, without_position};

/// The fields of an object, seen through the estimates over `original`.
pub(crate) struct ObjectDeserializer<'a> {
    pub(crate) fields: &'a Fields,
    pub(crate) original: Option<&'a Fields>,
}

/// Where one field's value is read from.
enum Source<'a> {
    Text(&'a str),
    Value(&'a Value),
    Estimate(Value),
}

impl<'a> ObjectDeserializer<'a> {
    /// The value of `field`, or `None` for a pending deletion.
    fn source(&self, key: &str, field: &'a Field) -> Option<Source<'a>> {
        if field.may_be_op() && pending_op(field.value()).is_some() {
            let stored = self.original.and_then(|o| o.get(key)).map(Field::value);
            if let Some(estimate) = crate::ops::estimate(field.value(), stored) {
                return estimate.map(Source::Estimate);
            }
        }
        Some(match field.raw_text() {
            Some(text) => Source::Text(text),
            None => Source::Value(field.value()),
        })
    }
}

impl<'a> Deserializer<'a> for ObjectDeserializer<'a> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let entries = self
            .fields
            .iter()
            .filter_map(|(key, field)| Some((key, field, self.source(key, field)?)))
            .collect::<Vec<_>>()
            .into_iter();
        visitor.visit_map(Entries {
            entries,
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

type EntryIter<'a> = std::vec::IntoIter<(&'a str, &'a Field, Source<'a>)>;

struct Entries<'a> {
    entries: EntryIter<'a>,
    current: Option<(&'a str, &'a Field, Source<'a>)>,
}

impl<'a> MapAccess<'a> for Entries<'a> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let key = entry.0;
        self.current = Some(entry);
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        let (key, field, source) = self
            .current
            .take()
            .ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        seed.deserialize(FieldValue(source)).map_err(|error| {
            let why = match pending_op(field.value()) {
                Some(op) => format!("it holds a pending `{op}` operation, not a value"),
                // serde's message quotes the value, which must not reach logs.
                None if SECRET_KEYS.contains(&key) => "it has another type".to_owned(),
                None => without_position(&error),
            };
            de::Error::custom(format_args!("invalid field `{key}`: {why}"))
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// One field's value as a deserializer; a field the type does not know is skipped
/// unparsed.
struct FieldValue<'a>(Source<'a>);

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Source::Text(text) => {
                    serde_json::Deserializer::from_str(text).$method($($arg,)* visitor)
                }
                Source::Value(value) => value.$method($($arg,)* visitor),
                Source::Estimate(value) => value.$method($($arg,)* visitor),
            }
        }
    )*};
}

impl<'a> Deserializer<'a> for FieldValue<'a> {
    type Error = serde_json::Error;

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward! {
        deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(),
        deserialize_i32(), deserialize_i64(), deserialize_i128(), deserialize_u8(),
        deserialize_u16(), deserialize_u32(), deserialize_u64(), deserialize_u128(),
        deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(),
        deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
        deserialize_option(), deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_seq(), deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_identifier(),
    }
}
