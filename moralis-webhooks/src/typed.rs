//! Objects of the user's types: decoding a received [`ParseObject`] into them, and turning
//! one a beforeSave returns into the changes Parse Server must make, compared by value with
//! what arrived.

use std::any::{Any, TypeId};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::fields::Field;
use crate::object::{pending_op, SERVER_KEYS};
use crate::types::Date;
use crate::{Error, ParseObject};

/// Whether `T` is [`ParseObject`] itself, which needs no conversion.
pub(crate) fn is_parse_object<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<ParseObject>()
}

/// `value` as a `U`, when `T` and `U` are one type.
pub(crate) fn same_type<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let boxed: Box<dyn Any> = Box::new(value);
    match boxed.downcast::<U>() {
        Ok(value) => Ok(*value),
        Err(boxed) => Err(*boxed
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("the box holds a T"))),
    }
}

/// The received object as a `T`: itself for [`ParseObject`], else decoded.
pub(crate) fn decode<T: DeserializeOwned + 'static>(object: ParseObject) -> Result<T, Error> {
    match same_type::<ParseObject, T>(object) {
        Ok(object) => Ok(object),
        Err(object) => object.decode(),
    }
}

/// Sets on `received` every field of `returned` whose value differs from what arrived:
/// fields `returned` lacks or holds as `null` are left as they are, and one equal by value
/// to what arrived (the estimate, for a pending operation) is not touched, so its text or
/// operation goes back unchanged.
pub(crate) fn apply<T: Serialize>(received: &mut ParseObject, returned: &T) -> Result<(), Error> {
    let value = serde_json::to_value(returned).map_err(|error| {
        Error::internal(format!(
            "the returned object cannot be encoded as JSON: {error}"
        ))
    })?;
    let Value::Object(fields) = value else {
        return Err(Error::internal(format!(
            "a beforeSave's returned object must encode as a JSON object, not {}",
            kind(&value)
        )));
    };
    for (key, value) in fields {
        if value.is_null() || SERVER_KEYS.contains(&key.as_str()) {
            continue;
        }
        let unchanged = match received.fields().get(&key) {
            None => false,
            Some(field) => match arrived(received, &key, field) {
                Some(current) => same_value(&current, &value),
                None => false,
            },
        };
        if !unchanged {
            received.set(key, value);
        }
    }
    Ok(())
}

/// The value a field arrived with, as the handler read it: the estimate for a pending
/// operation (`None` for a pending deletion).
fn arrived(received: &ParseObject, key: &str, field: &Field) -> Option<Value> {
    if field.may_be_op() && pending_op(field.value()).is_some() {
        let stored = received.original_fields().and_then(|o| o.get(key));
        if let Some(estimate) = crate::ops::estimate(field.value(), stored.map(Field::value)) {
            return estimate;
        }
    }
    Some(field.value().clone())
}

/// Equality by value: numbers by magnitude (`1` and `1.0`), dates by instant (the REST form
/// and a plain ISO string, any number of fraction digits), the rest structurally.
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
    if let (Some(a), Some(b)) = (as_date(a), as_date(b)) {
        return a == b;
    }
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => a == b,
                _ => a.as_f64() == b.as_f64(),
            },
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| same_value(a, b)))
        }
        _ => a == b,
    }
}

/// A REST date, as an instant.
fn as_date(value: &Value) -> Option<Date> {
    let object = value.as_object()?;
    if object.get("__type")?.as_str()? != "Date" {
        return None;
    }
    object.get("iso")?.as_str()?.parse().ok()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_compare_as_parse_stores_them() {
        assert!(same_value(&json!(1), &json!(1.0)));
        assert!(same_value(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!same_value(&json!(1), &json!(2)));
        assert!(same_value(
            &json!({"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"}),
            &json!({"__type": "Date", "iso": "2024-01-02T03:04:05.678000Z"})
        ));
        assert!(same_value(
            &json!({"a": [1, {"b": 2.0}]}),
            &json!({"a": [1.0, {"b": 2}]})
        ));
        assert!(!same_value(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!same_value(&json!("1"), &json!(1)));
    }
}
