//! What `ParseObject::get` must read for a field holding a client's pending operation: the
//! value Parse Server will store, estimated as the Parse JS SDK does (`Op.applyTo`) over the
//! stored value of a beforeSave on update. Written from that description, apart from the
//! framework's own code, for the checks in `typed_reads`.

use serde_json::{Map, Number, Value};

/// What `get::<Value>(key)` must give for a field holding `raw` (`None`: no such field),
/// `stored` being the field in `original` when the object reads over one (a beforeSave
/// request's object and its copies), `None` otherwise.
pub(crate) fn read_value(raw: Option<&Value>, stored: Option<&Value>) -> Value {
    match raw {
        None => Value::Null,
        Some(value) if op_name(value).is_some() => match estimate(value, stored) {
            Some(Some(estimate)) => estimate,
            // A deletion reads as a missing field.
            Some(None) => Value::Null,
            // Not an operation that can be estimated: the value as it is.
            None => value.clone(),
        },
        Some(value) => value.clone(),
    }
}

/// `{"__op": "<name>", ...}`: the name.
fn op_name(value: &Value) -> Option<&str> {
    value.as_object()?.get("__op")?.as_str()
}

/// The value `op` leaves over `stored` (`null` counts as never set): `Some(None)` when it
/// deletes the field, `None` when it is not an operation with a known result.
fn estimate(op: &Value, stored: Option<&Value>) -> Option<Option<Value>> {
    let stored = stored.filter(|value| !value.is_null());
    let fields = op.as_object()?;
    let objects = || fields.get("objects").and_then(Value::as_array);
    let stored_items = || match stored {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let result = match op_name(op)? {
        "Delete" => None,
        "Increment" => {
            let Some(Value::Number(amount)) = fields.get("amount") else {
                return None;
            };
            // Over anything but a number, the amount alone (as over nothing).
            let base = match stored {
                Some(Value::Number(number)) => number.clone(),
                _ => Number::from(0),
            };
            Some(sum(&base, amount)?)
        }
        "Add" => {
            let mut items = stored_items();
            items.extend(objects()?.iter().cloned());
            Some(Value::Array(items))
        }
        "AddUnique" => {
            let mut items = stored_items();
            for added in objects()? {
                if !items.iter().any(|item| same_element(item, added)) {
                    items.push(added.clone());
                }
            }
            Some(Value::Array(items))
        }
        "Remove" => {
            let removed = objects()?;
            let mut items = stored_items();
            items.retain(|item| removed.iter().all(|gone| !same_element(item, gone)));
            Some(Value::Array(items))
        }
        // A relation field reads as the relation, whatever is added or removed.
        "AddRelation" | "RemoveRelation" => match stored {
            Some(relation) => Some(relation.clone()),
            None => {
                let class = objects()?.first()?.get("className")?.clone();
                let mut relation = Map::new();
                relation.insert("__type".to_owned(), Value::from("Relation"));
                relation.insert("className".to_owned(), class);
                Some(Value::Object(relation))
            }
        },
        "Batch" => {
            let mut value = stored.cloned();
            for step in fields.get("ops")?.as_array()? {
                value = estimate(step, value.as_ref())?;
            }
            value
        }
        _ => return None,
    };
    Some(result)
}

/// `a + b`: an integer when both are and the sum fits in `i64`, else a float (`None` if
/// that overflows to infinity).
fn sum(a: &Number, b: &Number) -> Option<Value> {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        if let Some(sum) = a.checked_add(b) {
            return Some(Value::from(sum));
        }
    }
    Number::from_f64(a.as_f64()? + b.as_f64()?).map(Value::Number)
}

/// Array elements are the same Parse object when both name a class and an id (a pointer
/// and the object it points to are the same); anything else by value.
fn same_element(a: &Value, b: &Value) -> bool {
    fn identity(value: &Value) -> Option<(&Value, &Value)> {
        let object = value.as_object()?;
        Some((object.get("className")?, object.get("objectId")?))
    }
    match (identity(a), identity(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}
