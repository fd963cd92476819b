//! The value a field will hold once Parse Server applies a client's pending operation to
//! the stored value: the estimate the Parse JS SDK makes, which Cloud Code's
//! `request.object.get(key)` returns in a beforeSave.

use serde_json::{Map, Number, Value};

/// The value `op` gives over `stored` (`None`: the field was never set): `Some(None)`
/// for a deletion, `None` for something that is not an operation this knows.
pub(crate) fn estimate(op: &Value, stored: Option<&Value>) -> Option<Option<Value>> {
    let op = op.as_object()?;
    let stored = stored.filter(|v| !v.is_null());
    let objects = || op.get("objects").and_then(Value::as_array);
    let array = || match stored {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    Some(match op.get("__op")?.as_str()? {
        "Delete" => None,
        "Increment" => Some(add_numbers(stored, op.get("amount")?)?),
        "Add" => {
            let mut items = array();
            items.extend(objects()?.iter().cloned());
            Some(Value::Array(items))
        }
        "AddUnique" => {
            let mut items = array();
            for object in objects()? {
                if !items.iter().any(|item| same(item, object)) {
                    items.push(object.clone());
                }
            }
            Some(Value::Array(items))
        }
        "Remove" => {
            let remove = objects()?;
            let mut items = array();
            items.retain(|item| !remove.iter().any(|gone| same(item, gone)));
            Some(Value::Array(items))
        }
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
            for step in op.get("ops")?.as_array()? {
                value = estimate(step, value.as_ref())?;
            }
            value
        }
        _ => return None,
    })
}

/// `stored + amount`, as integers when both are (and the sum fits), else as floats.
fn add_numbers(stored: Option<&Value>, amount: &Value) -> Option<Value> {
    let amount = amount.as_number()?;
    let base = match stored {
        None => Number::from(0),
        Some(Value::Number(n)) => n.clone(),
        // The JS SDK gives the amount over a value that is not a number; Parse Server
        // refuses the save.
        Some(_) => Number::from(0),
    };
    if let (Some(a), Some(b)) = (base.as_i64(), amount.as_i64()) {
        if let Some(sum) = a.checked_add(b) {
            return Some(Value::from(sum));
        }
    }
    Number::from_f64(base.as_f64()? + amount.as_f64()?).map(Value::Number)
}

/// Equality as Parse applies it to array elements: objects by `objectId` when both are
/// Parse objects or pointers, everything else by value.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    let id = |v: &Value| {
        let object = v.as_object()?;
        Some((
            object.get("className")?.clone(),
            object.get("objectId")?.clone(),
        ))
    };
    match (id(a), id(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn est(op: Value, stored: Option<Value>) -> Option<Value> {
        estimate(&op, stored.as_ref()).expect("an operation")
    }

    #[test]
    fn increments_add_to_the_stored_number() {
        let inc = |n: Value| json!({"__op": "Increment", "amount": n});
        assert_eq!(est(inc(json!(5)), Some(json!(10))), Some(json!(15)));
        assert_eq!(est(inc(json!(5)), None), Some(json!(5)));
        assert_eq!(est(inc(json!(-2)), Some(json!(1.5))), Some(json!(-0.5)));
        assert_eq!(
            est(inc(json!(1)), Some(json!(i64::MAX))),
            Some(json!(9.223372036854776e18))
        );
        assert_eq!(est(inc(json!(1)), Some(json!(null))), Some(json!(1)));
    }

    #[test]
    fn array_operations_apply_to_the_stored_array() {
        let stored = Some(json!(["a", "b"]));
        assert_eq!(
            est(
                json!({"__op": "Add", "objects": ["b", "c"]}),
                stored.clone()
            ),
            Some(json!(["a", "b", "b", "c"]))
        );
        assert_eq!(
            est(
                json!({"__op": "AddUnique", "objects": ["b", "c"]}),
                stored.clone()
            ),
            Some(json!(["a", "b", "c"]))
        );
        assert_eq!(
            est(json!({"__op": "Remove", "objects": ["a", "x"]}), stored),
            Some(json!(["b"]))
        );
        assert_eq!(
            est(json!({"__op": "Add", "objects": [1]}), None),
            Some(json!([1]))
        );
        let pointer = json!({"__type": "Pointer", "className": "P", "objectId": "1"});
        let included = json!({"__type": "Object", "className": "P", "objectId": "1", "x": 2});
        assert_eq!(
            est(
                json!({"__op": "AddUnique", "objects": [pointer]}),
                Some(json!([included]))
            ),
            Some(json!([included]))
        );
    }

    #[test]
    fn delete_reads_as_missing_and_batches_chain() {
        assert_eq!(est(json!({"__op": "Delete"}), Some(json!(3))), None);
        assert_eq!(
            est(
                json!({"__op": "Batch", "ops": [{"__op": "Increment", "amount": 2},
                                                {"__op": "Increment", "amount": 3}]}),
                Some(json!(1))
            ),
            Some(json!(6))
        );
        let relation = est(
            json!({"__op": "AddRelation", "objects": [{"__type": "Pointer", "className": "_User", "objectId": "u"}]}),
            None,
        );
        assert_eq!(
            relation,
            Some(json!({"__type": "Relation", "className": "_User"}))
        );
    }

    #[test]
    fn what_is_not_an_operation_is_left_alone() {
        for value in [
            json!(1),
            json!({"__op": "Frobnicate"}),
            json!({"__op": 1}),
            json!({"__op": "Increment"}),
            json!({"__op": "Add", "objects": 1}),
        ] {
            assert_eq!(estimate(&value, None), None, "{value}");
        }
    }
}
