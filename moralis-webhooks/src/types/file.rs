//! `File`: a reference to a file stored by Parse Server's files adapter.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Parse file: `{"__type": "File", "name": ..., "url": ...}`.
///
/// A file a client is uploading has the name it chose and no url yet (a `@File` beforeSave
/// sees that); once stored, Parse Server prefixes the name with a random hex string and
/// adds the url. A received url is kept when the value is written back.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct File {
    name: String,
    url: Option<String>,
}

impl File {
    /// A reference to the stored file `name` (as Parse Server named it), without a url.
    pub fn new(name: impl Into<String>) -> Self {
        File {
            name: name.into(),
            url: None,
        }
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's url, when Parse Server sent one.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

impl Serialize for File {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2 + usize::from(self.url.is_some())))?;
        map.serialize_entry("__type", "File")?;
        map.serialize_entry("name", &self.name)?;
        if let Some(url) = &self.url {
            map.serialize_entry("url", url)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for File {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;

        impl<'de> Visitor<'de> for FileVisitor {
            type Value = File;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a Parse file, {"__type": "File", "name": ...}"#)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<File, A::Error> {
                let (mut name, mut url) = (None::<String>, None::<Option<String>>);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "__type" => {
                            let kind = map.next_value::<std::borrow::Cow<'de, str>>()?;
                            if kind != "File" {
                                return Err(de::Error::custom(format_args!(
                                    "expected a Parse file, found a `{kind}`"
                                )));
                            }
                        }
                        "name" if name.is_none() => name = Some(map.next_value()?),
                        "url" if url.is_none() => url = Some(map.next_value()?),
                        "name" | "url" => {
                            return Err(de::Error::custom(format_args!("duplicate field `{key}`")))
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(File {
                    name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                    url: url.flatten(),
                })
            }
        }

        deserializer.deserialize_map(FileVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes_the_rest_form() {
        let received = json!({"__type": "File", "name": "ab12_hello.txt",
                              "url": "http://files.example/app/ab12_hello.txt"});
        let file: File = serde_json::from_value(received.clone()).unwrap();
        assert_eq!(file.name(), "ab12_hello.txt");
        assert_eq!(file.url(), Some("http://files.example/app/ab12_hello.txt"));
        assert_eq!(serde_json::to_value(&file).unwrap(), received);
        let fresh = File::new("hello.txt");
        assert_eq!(
            serde_json::to_value(&fresh).unwrap(),
            json!({"__type": "File", "name": "hello.txt"})
        );
        let uploading: File =
            serde_json::from_value(json!({"__type": "File", "name": "a"})).unwrap();
        assert_eq!(uploading.url(), None);
    }

    #[test]
    fn refuses_what_is_not_a_file() {
        for bad in [
            json!({"__type": "Pointer", "name": "a"}),
            json!({"__type": "File"}),
            json!("a.txt"),
            json!(null),
            json!({"__type": "File", "name": 1}),
        ] {
            assert!(
                serde_json::from_value::<File>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
