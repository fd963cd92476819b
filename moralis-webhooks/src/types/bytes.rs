//! `Bytes`: binary data, base64-encoded.

use std::fmt;

use base64::Engine;
use serde::de;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Binary data: `{"__type": "Bytes", "base64": ...}`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(Vec<u8>);

impl Bytes {
    /// The data.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(data: Vec<u8>) -> Self {
        Bytes(data)
    }
}

impl From<&[u8]> for Bytes {
    fn from(data: &[u8]) -> Self {
        Bytes(data.to_vec())
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("__type", "Bytes")?;
        map.serialize_entry(
            "base64",
            &base64::engine::general_purpose::STANDARD.encode(&self.0),
        )?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "__type")]
            kind: String,
            base64: String,
        }
        let wire = Wire::deserialize(deserializer)?;
        if wire.kind != "Bytes" {
            return Err(de::Error::custom(format_args!(
                "expected Parse bytes, found a `{}`",
                wire.kind
            )));
        }
        base64::engine::general_purpose::STANDARD
            .decode(wire.base64.trim())
            .map(Bytes)
            .map_err(|error| de::Error::custom(format_args!("invalid base64: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_base64() {
        let bytes = Bytes::from(b"hello\x00\xff".to_vec());
        let rest = json!({"__type": "Bytes", "base64": "aGVsbG8A/w=="});
        assert_eq!(serde_json::to_value(&bytes).unwrap(), rest);
        assert_eq!(serde_json::from_value::<Bytes>(rest).unwrap(), bytes);
        assert_eq!(bytes.as_ref(), b"hello\x00\xff");
        assert!(
            serde_json::from_value::<Bytes>(json!({"__type": "Bytes", "base64": "%%%"})).is_err()
        );
        assert!(serde_json::from_value::<Bytes>(json!({"__type": "File", "base64": ""})).is_err());
        assert_eq!(format!("{bytes:?}"), "Bytes(7 bytes)");
    }
}
