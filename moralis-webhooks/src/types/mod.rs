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
