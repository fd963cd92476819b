//! `Pointer` and `Relation`: references to other objects.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A pointer to an object: `{"__type": "Pointer", "className": ..., "objectId": ...}`.
///
/// It also reads what stands for a pointer in what Parse Server sends: a whole object
/// fetched through `include` (`{"__type": "Object", "className": ..., "objectId": ...,
/// ...}`), and a pointer parameter of a cloud function, which Parse Server 9 reduces to
/// `{"objectId": ...}` (its class is then `""`: the function knows which class it means).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Pointer {
    class_name: String,
    object_id: String,
}

impl Pointer {
    /// A pointer to object `object_id` of class `class_name`.
    pub fn new(class_name: impl Into<String>, object_id: impl Into<String>) -> Self {
        Pointer {
            class_name: class_name.into(),
            object_id: object_id.into(),
        }
    }

    /// The class pointed to (`""` when Parse Server did not send it).
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The id of the object pointed to.
    pub fn object_id(&self) -> &str {
        &self.object_id
    }
}

impl Serialize for Pointer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("__type", "Pointer")?;
        map.serialize_entry("className", &self.class_name)?;
        map.serialize_entry("objectId", &self.object_id)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Pointer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PointerVisitor;

        impl<'de> Visitor<'de> for PointerVisitor {
            type Value = Pointer;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    r#"a Parse pointer, {"__type": "Pointer", "className": ..., "objectId": ...}"#,
                )
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pointer, A::Error> {
                let (mut class_name, mut object_id) = (None::<String>, None::<String>);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match &*key {
                        "__type" => {
                            let kind = map.next_value::<Cow<'de, str>>()?;
                            if kind != "Pointer" && kind != "Object" {
                                return Err(de::Error::custom(format_args!(
                                    "expected a Parse pointer, found a `{kind}`"
                                )));
                            }
                        }
                        "className" => class_name = Some(map.next_value()?),
                        "objectId" => object_id = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Pointer {
                    class_name: class_name.unwrap_or_default(),
                    object_id: object_id.ok_or_else(|| de::Error::missing_field("objectId"))?,
                })
            }
        }

        deserializer.deserialize_map(PointerVisitor)
    }
}

/// A relation field: `{"__type": "Relation", "className": ...}`. Its members are changed
/// with [`AddRelation`](super::AddRelation) and [`RemoveRelation`](super::RemoveRelation)
/// and queried through the REST API.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Relation {
    class_name: String,
}

impl Relation {
    /// A relation to objects of class `class_name`.
    pub fn new(class_name: impl Into<String>) -> Self {
        Relation {
            class_name: class_name.into(),
        }
    }

    /// The class of the related objects.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }
}

impl Serialize for Relation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("__type", "Relation")?;
        map.serialize_entry("className", &self.class_name)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Relation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "__type")]
            kind: String,
            #[serde(rename = "className")]
            class_name: String,
        }
        let wire = Wire::deserialize(deserializer)?;
        if wire.kind != "Relation" {
            return Err(de::Error::custom(format_args!(
                "expected a Parse relation, found a `{}`",
                wire.kind
            )));
        }
        Ok(Relation::new(wire.class_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_read_what_stands_for_them() {
        let rest = json!({"__type": "Pointer", "className": "_User", "objectId": "u1"});
        let pointer: Pointer = serde_json::from_value(rest.clone()).unwrap();
        assert_eq!((pointer.class_name(), pointer.object_id()), ("_User", "u1"));
        assert_eq!(serde_json::to_value(&pointer).unwrap(), rest);
        let included: Pointer = serde_json::from_value(
            json!({"__type": "Object", "className": "_User", "objectId": "u1", "username": "a"}),
        )
        .unwrap();
        assert_eq!(included, pointer);
        let param: Pointer = serde_json::from_value(json!({"objectId": "u1"})).unwrap();
        assert_eq!((param.class_name(), param.object_id()), ("", "u1"));
        for bad in [
            json!({"__type": "Date", "objectId": "u1"}),
            json!({"__type": "Pointer", "className": "A"}),
            json!("u1"),
            json!({"objectId": 1}),
        ] {
            assert!(
                serde_json::from_value::<Pointer>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn relations_round_trip() {
        let rest = json!({"__type": "Relation", "className": "_User"});
        let relation: Relation = serde_json::from_value(rest.clone()).unwrap();
        assert_eq!(relation.class_name(), "_User");
        assert_eq!(serde_json::to_value(&relation).unwrap(), rest);
        assert!(
            serde_json::from_value::<Relation>(json!({"__type": "Pointer", "className": "A"}))
                .is_err()
        );
    }
}
