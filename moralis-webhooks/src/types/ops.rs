//! The operations a write may carry instead of a value: Parse Server applies them to the
//! stored value atomically.

use serde::de::{self, DeserializeOwned};
use serde::ser::{self, SerializeMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use super::Pointer;

/// Items of an array operation, encoded when the operation is made; an item that cannot
/// be encoded as JSON makes the write fail with an internal error naming the field.
#[derive(Clone, PartialEq, Debug)]
struct Items(Result<Vec<Value>, String>);

impl Items {
    fn of<T: Serialize>(items: impl IntoIterator<Item = T>) -> Self {
        Items(
            items
                .into_iter()
                .map(|item| serde_json::to_value(item).map_err(|e| e.to_string()))
                .collect(),
        )
    }

    fn values(&self) -> &[Value] {
        self.0.as_deref().unwrap_or_default()
    }

    /// Each item once (pointers and objects by `objectId`), as the Parse JS SDK makes an
    /// `AddUnique`: on create, Parse Server stores an `AddUnique`'s items as they are.
    fn unique(self) -> Self {
        Items(self.0.map(|items| {
            let mut unique: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !unique.iter().any(|kept| crate::ops::same(kept, &item)) {
                    unique.push(item);
                }
            }
            unique
        }))
    }
}

fn write_op<S: Serializer>(
    serializer: S,
    op: &str,
    field: Option<(&str, &dyn erased::Field)>,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1 + usize::from(field.is_some())))?;
    map.serialize_entry("__op", op)?;
    if let Some((key, value)) = field {
        map.serialize_entry(key, &erased::Wrap(value))?;
    }
    map.end()
}

/// Serializing a field of any type through one function.
mod erased {
    use serde::{Serialize, Serializer};

    pub(super) trait Field {
        fn to_value(&self) -> Result<serde_json::Value, String>;
    }

    impl<T: Serialize> Field for T {
        fn to_value(&self) -> Result<serde_json::Value, String> {
            serde_json::to_value(self).map_err(|e| e.to_string())
        }
    }

    pub(super) struct Wrap<'a>(pub(super) &'a dyn Field);

    impl Serialize for Wrap<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0
                .to_value()
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer)
        }
    }
}

/// Reads `{"__op": "<op>", ...}` into the fields of `T` (the rest of the object), checking
/// the name.
fn read_op<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    deserializer: D,
    op: &str,
) -> Result<T, D::Error> {
    let mut object = serde_json::Map::deserialize(deserializer)?;
    match object.remove("__op") {
        Some(Value::String(name)) if name == op => {}
        Some(other) => {
            return Err(de::Error::custom(format_args!(
                "expected an `{op}` operation, found {other}"
            )))
        }
        None => {
            return Err(de::Error::custom(format_args!(
                "expected an `{op}` operation"
            )))
        }
    }
    T::deserialize(Value::Object(object)).map_err(de::Error::custom)
}

/// `{"__op": "Increment", "amount": n}`: adds `n` to the stored number (0 when unset).
#[derive(Clone, PartialEq, Debug)]
pub struct Increment {
    amount: Number,
}

impl Increment {
    /// An increment by `amount` (negative to decrement).
    pub fn new(amount: impl Into<Number>) -> Self {
        Increment {
            amount: amount.into(),
        }
    }

    /// The amount.
    pub fn amount(&self) -> &Number {
        &self.amount
    }
}

impl Serialize for Increment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_op(serializer, "Increment", Some(("amount", &self.amount)))
    }
}

impl<'de> Deserialize<'de> for Increment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            amount: Number,
        }
        let wire: Wire = read_op(deserializer, "Increment")?;
        Ok(Increment {
            amount: wire.amount,
        })
    }
}

/// The array operations: each carries the items it adds or removes.
macro_rules! array_op {
    ($(#[$doc:meta])* $name:ident, $op:literal $(, $normalize:path)?) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Debug)]
        pub struct $name {
            objects: Items,
        }

        impl $name {
            /// The operation with these items.
            pub fn new<T: Serialize>(items: impl IntoIterator<Item = T>) -> Self {
                let objects = Items::of(items);
                $(let objects = $normalize(objects);)?
                $name { objects }
            }

            /// The items, as JSON.
            pub fn objects(&self) -> &[Value] {
                self.objects.values()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let objects = self.objects.0.as_ref().map_err(ser::Error::custom)?;
                write_op(serializer, $op, Some(("objects", objects)))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                struct Wire {
                    objects: Vec<Value>,
                }
                let wire: Wire = read_op(deserializer, $op)?;
                Ok($name {
                    objects: Items(Ok(wire.objects)),
                })
            }
        }
    };
}

array_op!(
    /// `{"__op": "Add", "objects": [...]}`: appends the items to the stored array.
    Add,
    "Add"
);
array_op!(
    /// `{"__op": "AddUnique", "objects": [...]}`: appends the items the stored array does
    /// not hold yet. Made here, it holds each item once.
    AddUnique,
    "AddUnique",
    Items::unique
);
array_op!(
    /// `{"__op": "Remove", "objects": [...]}`: removes every occurrence of the items from
    /// the stored array.
    Remove,
    "Remove"
);

/// `{"__op": "Delete"}`: removes the field.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Delete;

impl Serialize for Delete {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_op(serializer, "Delete", None)
    }
}

impl<'de> Deserialize<'de> for Delete {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {}
        let _: Wire = read_op(deserializer, "Delete")?;
        Ok(Delete)
    }
}

/// The relation operations: each carries the pointers it adds or removes.
macro_rules! relation_op {
    ($(#[$doc:meta])* $name:ident, $op:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Debug)]
        pub struct $name {
            objects: Vec<Pointer>,
        }

        impl $name {
            /// The operation on these objects.
            pub fn new(objects: impl IntoIterator<Item = Pointer>) -> Self {
                $name {
                    objects: objects.into_iter().collect(),
                }
            }

            /// The objects.
            pub fn objects(&self) -> &[Pointer] {
                &self.objects
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                write_op(serializer, $op, Some(("objects", &self.objects)))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                struct Wire {
                    objects: Vec<Pointer>,
                }
                let wire: Wire = read_op(deserializer, $op)?;
                Ok($name {
                    objects: wire.objects,
                })
            }
        }
    };
}

relation_op!(
    /// `{"__op": "AddRelation", "objects": [pointers]}`: adds the objects to a relation.
    AddRelation,
    "AddRelation"
);
relation_op!(
    /// `{"__op": "RemoveRelation", "objects": [pointers]}`: removes the objects from a
    /// relation.
    RemoveRelation,
    "RemoveRelation"
);

/// `{"__op": "Batch", "ops": [...]}`: several operations on one field, applied in order
/// (Parse Server accepts an `AddRelation` and a `RemoveRelation` together).
#[derive(Clone, PartialEq, Debug)]
pub struct Batch {
    ops: Items,
}

impl Batch {
    /// The operations, each any of the operation types.
    pub fn new<T: Serialize>(ops: impl IntoIterator<Item = T>) -> Self {
        Batch {
            ops: Items::of(ops),
        }
    }

    /// The operations, as JSON.
    pub fn ops(&self) -> &[Value] {
        self.ops.values()
    }
}

impl Serialize for Batch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ops = self.ops.0.as_ref().map_err(ser::Error::custom)?;
        write_op(serializer, "Batch", Some(("ops", ops)))
    }
}

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            ops: Vec<Value>,
        }
        let wire: Wire = read_op(deserializer, "Batch")?;
        Ok(Batch {
            ops: Items(Ok(wire.ops)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        op: T,
        rest: Value,
    ) {
        assert_eq!(serde_json::to_value(&op).unwrap(), rest);
        assert_eq!(serde_json::from_value::<T>(rest).unwrap(), op);
    }

    #[test]
    fn every_operation_round_trips() {
        round_trip(Increment::new(5), json!({"__op": "Increment", "amount": 5}));
        round_trip(
            Increment::new(-1),
            json!({"__op": "Increment", "amount": -1}),
        );
        round_trip(
            Add::new(["a", "b"]),
            json!({"__op": "Add", "objects": ["a", "b"]}),
        );
        round_trip(
            AddUnique::new([1, 2]),
            json!({"__op": "AddUnique", "objects": [1, 2]}),
        );
        round_trip(
            Remove::new([json!({"x": 1})]),
            json!({"__op": "Remove", "objects": [{"x": 1}]}),
        );
        round_trip(Delete, json!({"__op": "Delete"}));
        let user = Pointer::new("_User", "u1");
        let pointer = json!({"__type": "Pointer", "className": "_User", "objectId": "u1"});
        round_trip(
            AddRelation::new([user.clone()]),
            json!({"__op": "AddRelation", "objects": [pointer]}),
        );
        round_trip(
            RemoveRelation::new([user.clone()]),
            json!({"__op": "RemoveRelation", "objects": [pointer]}),
        );
        round_trip(
            Batch::new([
                serde_json::to_value(AddRelation::new([user.clone()])).unwrap(),
                serde_json::to_value(RemoveRelation::new([user])).unwrap(),
            ]),
            json!({"__op": "Batch", "ops": [{"__op": "AddRelation", "objects": [pointer]},
                                            {"__op": "RemoveRelation", "objects": [pointer]}]}),
        );
    }

    /// Parse Server stores a create's `AddUnique` items as they are, so a repeated item
    /// would be stored twice: made here, as the JS SDK makes them, each item is kept once.
    #[test]
    fn add_unique_holds_each_item_once() {
        let user = |id: &str| json!({"__type": "Pointer", "className": "_User", "objectId": id});
        assert_eq!(
            serde_json::to_value(AddUnique::new([json!("a"), json!("b"), json!("a")])).unwrap(),
            json!({"__op": "AddUnique", "objects": ["a", "b"]})
        );
        let included = json!({"__type": "Object", "className": "_User", "objectId": "u1",
                              "username": "a"});
        assert_eq!(
            AddUnique::new([user("u1"), included, user("u2")]).objects(),
            [user("u1"), user("u2")]
        );
        assert_eq!(Add::new(["a", "a"]).objects(), ["a", "a"]);
        // What a client sent is read as it is.
        let sent = json!({"__op": "AddUnique", "objects": ["a", "a"]});
        let read: AddUnique = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(serde_json::to_value(read).unwrap(), sent);
    }

    #[test]
    fn other_operations_and_values_are_refused() {
        assert!(serde_json::from_value::<Increment>(json!({"__op": "Add", "amount": 1})).is_err());
        assert!(serde_json::from_value::<Increment>(json!({"amount": 1})).is_err());
        assert!(serde_json::from_value::<Add>(json!({"__op": "Add", "objects": 1})).is_err());
        assert!(serde_json::from_value::<Delete>(json!(1)).is_err());
        assert!(serde_json::from_value::<AddRelation>(
            json!({"__op": "AddRelation", "objects": [1]})
        )
        .is_err());
    }

    #[test]
    fn items_that_cannot_be_encoded_fail_when_written() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let add = Add::new([map]);
        assert!(serde_json::to_value(&add).is_err());
    }
}
