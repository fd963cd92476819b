//! Parse values in their REST encoding, with serde impls that read what Parse Server sends
//! and write what it accepts.
//!
//! | Parse type | Rust type | REST JSON |
//! |---|---|---|
//! | String, Number, Boolean, Array, Object | `String`, integers and floats, `bool`, `Vec<T>`, maps and structs | as JSON |
//! | Date | [`Date`] | `{"__type": "Date", "iso": "2024-02-29T12:00:00.000Z"}` (plain ISO strings read too) |
//! | Pointer | [`Pointer`] | `{"__type": "Pointer", "className": "_User", "objectId": "u1"}` |
//! | Relation | [`Relation`] | `{"__type": "Relation", "className": "_User"}` |
//! | File | [`File`] | `{"__type": "File", "name": "…_a.txt", "url": "…"}` |
//! | GeoPoint | [`GeoPoint`] | `{"__type": "GeoPoint", "latitude": 48.85, "longitude": 2.35}` |
//! | Polygon | [`Polygon`] | `{"__type": "Polygon", "coordinates": [[0, 0], [0, 1], [1, 1]]}` |
//! | Bytes | [`Bytes`] | `{"__type": "Bytes", "base64": "aGk="}` |
//! | ACL | [`Acl`] | `{"*": {"read": true}, "u1": {"read": true, "write": true}}` |
//! | operations | [`Increment`], [`Add`], [`AddUnique`], [`Remove`], [`Delete`], [`AddRelation`], [`RemoveRelation`], [`Batch`] | `{"__op": "Increment", "amount": 1}`, ... |

mod acl;
mod bytes;
mod date;
mod file;
mod geo;
mod ops;
mod pointer;

pub use acl::Acl;
pub use bytes::Bytes;
pub use date::{Date, InvalidDate};
pub use file::File;
pub use geo::{GeoPoint, InvalidValue, Polygon};
pub use ops::{Add, AddRelation, AddUnique, Batch, Delete, Increment, Remove, RemoveRelation};
pub use pointer::{Pointer, Relation};

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};

    /// A small deterministic generator of JSON values shaped like Parse's REST values and
    /// their near misses.
    struct Gen(u64);

    impl Gen {
        /// A well-formed value of one of the types, often with one part replaced or removed.
        fn near_miss(&mut self, depth: u32) -> Value {
            let pointer = json!({"__type": "Pointer", "className": "_User", "objectId": "u1"});
            let well_formed = [
                json!({"__type": "Date", "iso": "2024-02-29T12:00:00.123Z"}),
                pointer.clone(),
                json!({"__type": "Relation", "className": "_User"}),
                json!({"__type": "File", "name": "a.txt", "url": "http://f/a.txt"}),
                json!({"__type": "GeoPoint", "latitude": 10.5, "longitude": -20}),
                json!({"__type": "Polygon", "coordinates": [[0, 0], [0, 1], [1, 1], [1, 0]]}),
                json!({"__type": "Bytes", "base64": "aGVsbG8="}),
                json!({"*": {"read": true}, "u1": {"read": true, "write": true}}),
                json!({"__op": "Increment", "amount": 3}),
                json!({"__op": "Add", "objects": [1, "a"]}),
                json!({"__op": "AddUnique", "objects": [{"x": 1}]}),
                json!({"__op": "Remove", "objects": [null]}),
                json!({"__op": "Delete"}),
                json!({"__op": "AddRelation", "objects": [pointer.clone()]}),
                json!({"__op": "RemoveRelation", "objects": [pointer]}),
                json!({"__op": "Batch", "ops": [{"__op": "Delete"}]}),
            ];
            let mut value = well_formed[(self.next() % well_formed.len() as u64) as usize].clone();
            if let Value::Object(map) = &mut value {
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = &keys[(self.next() % keys.len() as u64) as usize];
                match self.next() % 4 {
                    0 => {
                        map.remove(key);
                    }
                    1 => {
                        map.insert(key.clone(), self.value(depth.saturating_sub(1)));
                    }
                    _ => {}
                }
            }
            value
        }

        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }

        fn value(&mut self, depth: u32) -> Value {
            let scalars = [
                json!(null),
                json!(true),
                json!(0),
                json!(-1),
                json!(1.5),
                json!(1e300),
                json!(u64::MAX),
                json!(i64::MIN),
                json!(""),
                json!("x"),
                json!("2024-02-29T12:00:00Z"),
                json!("2024-02-30T12:00:00Z"),
                json!("aGk="),
                json!("%%"),
                json!(91),
                json!(-181),
                json!(f64::MAX),
            ];
            match self.next() % if depth == 0 { 2 } else { 7 } {
                0 | 1 => scalars[(self.next() % scalars.len() as u64) as usize].clone(),
                5 | 6 => self.near_miss(depth),
                2 => Value::Array(
                    (0..self.next() % 4)
                        .map(|_| self.value(depth - 1))
                        .collect(),
                ),
                _ => {
                    let keys = [
                        "__type",
                        "__op",
                        "iso",
                        "className",
                        "objectId",
                        "name",
                        "url",
                        "latitude",
                        "longitude",
                        "coordinates",
                        "base64",
                        "amount",
                        "objects",
                        "ops",
                        "read",
                        "write",
                        "*",
                        "u1",
                        "role:A",
                    ];
                    let types = [
                        "Date",
                        "Pointer",
                        "Object",
                        "Relation",
                        "File",
                        "GeoPoint",
                        "Polygon",
                        "Bytes",
                        "Increment",
                        "Add",
                        "AddUnique",
                        "Remove",
                        "Delete",
                        "Batch",
                        "AddRelation",
                        "RemoveRelation",
                    ];
                    let mut map = serde_json::Map::new();
                    for _ in 0..self.next() % 5 {
                        let key = self.pick(&keys).to_owned();
                        let value = if key == "__type" || key == "__op" {
                            json!(self.pick(&types))
                        } else {
                            self.value(depth - 1)
                        };
                        map.insert(key, value);
                    }
                    Value::Object(map)
                }
            }
        }
    }

    /// Decodes `value` as a `T`, if it is one; true if it was.
    fn survives<T: DeserializeOwned + serde::Serialize>(value: &Value) -> bool {
        let decoded = serde_json::from_value::<T>(value.clone());
        if let Ok(decoded) = &decoded {
            // What decodes writes back, and reads again as the same.
            let written = serde_json::to_value(decoded).expect("a decoded value encodes");
            let again: T =
                serde_json::from_value(written.clone()).expect("its own encoding decodes");
            assert_eq!(serde_json::to_value(&again).unwrap(), written, "{value}");
        }
        decoded.is_ok()
    }

    /// Every type's decoder, on 100,000 values made to look like Parse's: no panic, and
    /// whatever decodes round-trips.
    #[test]
    fn no_decoder_panics_and_whatever_decodes_round_trips() {
        let mut gen = Gen(0x2545_f491_4f6c_dd1d);
        let mut decoded = [0usize; 16];
        for _ in 0..100_000 {
            let value = gen.value(3);
            let results = [
                survives::<Date>(&value),
                survives::<Pointer>(&value),
                survives::<Relation>(&value),
                survives::<File>(&value),
                survives::<GeoPoint>(&value),
                survives::<Polygon>(&value),
                survives::<Bytes>(&value),
                survives::<Acl>(&value),
                survives::<Increment>(&value),
                survives::<Add>(&value),
                survives::<AddUnique>(&value),
                survives::<Remove>(&value),
                survives::<Delete>(&value),
                survives::<AddRelation>(&value),
                survives::<RemoveRelation>(&value),
                survives::<Batch>(&value),
            ];
            for (count, ok) in decoded.iter_mut().zip(results) {
                *count += usize::from(ok);
            }
        }
        // The generator reaches every decoder's accepting paths too.
        assert!(decoded.iter().all(|&n| n > 0), "{decoded:?}");
    }
}
