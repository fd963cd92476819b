//! `Acl`: who may read and write an object.

use std::collections::BTreeMap;

use serde::de;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An access control list: `{"*": {"read": true}, "<userId>": {"read": true, "write": true},
/// "role:<name>": {"write": true}}`.
///
/// Each entry grants read and/or write to the public (`*`), a user (by `objectId`) or a
/// role. As Parse Server does, a permission set to `false` is simply not written, and an
/// entry with neither is dropped.
///
/// ```
/// use moralis_webhooks::types::Acl;
///
/// let mut acl = Acl::private_to("u1"); // read and write for user u1 only
/// acl.set_public_read(true);
/// acl.set_role_write("Moderators", true);
/// assert!(acl.public_read() && !acl.public_write());
/// assert!(acl.user_write("u1") && acl.role_write("Moderators"));
/// ```
#[derive(Clone, PartialEq, Eq, Default, Debug)]
pub struct Acl {
    entries: BTreeMap<String, Access>,
}

#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
struct Access {
    read: bool,
    write: bool,
}

/// The key of the public entry.
const PUBLIC: &str = "*";

impl Acl {
    /// An ACL that grants nothing (only the master key can read or write).
    pub fn new() -> Self {
        Acl::default()
    }

    /// An ACL that lets user `user_id` read and write, and no one else.
    pub fn private_to(user_id: impl Into<String>) -> Self {
        let mut acl = Acl::new();
        let user_id = user_id.into();
        acl.set_user_read(user_id.clone(), true);
        acl.set_user_write(user_id, true);
        acl
    }

    fn set(&mut self, key: String, read: Option<bool>, write: Option<bool>) {
        let entry = self.entries.entry(key.clone()).or_default();
        if let Some(read) = read {
            entry.read = read;
        }
        if let Some(write) = write {
            entry.write = write;
        }
        if !entry.read && !entry.write {
            self.entries.remove(&key);
        }
    }

    fn get(&self, key: &str) -> Access {
        self.entries.get(key).copied().unwrap_or_default()
    }

    /// Lets everyone read, or not.
    pub fn set_public_read(&mut self, allowed: bool) -> &mut Self {
        self.set(PUBLIC.to_owned(), Some(allowed), None);
        self
    }

    /// Lets everyone write, or not.
    pub fn set_public_write(&mut self, allowed: bool) -> &mut Self {
        self.set(PUBLIC.to_owned(), None, Some(allowed));
        self
    }

    /// Lets user `user_id` read, or not.
    pub fn set_user_read(&mut self, user_id: impl Into<String>, allowed: bool) -> &mut Self {
        self.set(user_id.into(), Some(allowed), None);
        self
    }

    /// Lets user `user_id` write, or not.
    pub fn set_user_write(&mut self, user_id: impl Into<String>, allowed: bool) -> &mut Self {
        self.set(user_id.into(), None, Some(allowed));
        self
    }

    /// Lets the members of role `name` read, or not.
    pub fn set_role_read(&mut self, name: &str, allowed: bool) -> &mut Self {
        self.set(format!("role:{name}"), Some(allowed), None);
        self
    }

    /// Lets the members of role `name` write, or not.
    pub fn set_role_write(&mut self, name: &str, allowed: bool) -> &mut Self {
        self.set(format!("role:{name}"), None, Some(allowed));
        self
    }

    /// Whether everyone may read.
    pub fn public_read(&self) -> bool {
        self.get(PUBLIC).read
    }

    /// Whether everyone may write.
    pub fn public_write(&self) -> bool {
        self.get(PUBLIC).write
    }

    /// Whether user `user_id` is granted read by an entry of their own.
    pub fn user_read(&self, user_id: &str) -> bool {
        self.get(user_id).read
    }

    /// Whether user `user_id` is granted write by an entry of their own.
    pub fn user_write(&self, user_id: &str) -> bool {
        self.get(user_id).write
    }

    /// Whether role `name` is granted read.
    pub fn role_read(&self, name: &str) -> bool {
        self.get(&format!("role:{name}")).read
    }

    /// Whether role `name` is granted write.
    pub fn role_write(&self, name: &str) -> bool {
        self.get(&format!("role:{name}")).write
    }
}

impl Serialize for Acl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Granted {
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            read: bool,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            write: bool,
        }
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, access) in &self.entries {
            let granted = Granted {
                read: access.read,
                write: access.write,
            };
            map.serialize_entry(key, &granted)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Acl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Granted {
            #[serde(default)]
            read: bool,
            #[serde(default)]
            write: bool,
        }
        let entries = BTreeMap::<String, Granted>::deserialize(deserializer)?;
        let mut acl = Acl::new();
        for (key, granted) in entries {
            if key.is_empty() {
                return Err(de::Error::custom("an ACL entry has an empty key"));
            }
            acl.set(key, Some(granted.read), Some(granted.write));
        }
        Ok(acl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_parse_acls() {
        let rest = json!({"*": {"read": true}, "u1": {"read": true, "write": true},
                          "role:Admins": {"write": true}});
        let acl: Acl = serde_json::from_value(rest.clone()).unwrap();
        assert!(acl.public_read() && !acl.public_write());
        assert!(acl.user_read("u1") && acl.user_write("u1"));
        assert!(!acl.role_read("Admins") && acl.role_write("Admins"));
        assert_eq!(serde_json::to_value(&acl).unwrap(), rest);
    }

    #[test]
    fn false_permissions_are_not_written() {
        let mut acl = Acl::private_to("u1");
        acl.set_public_read(true).set_public_read(false);
        acl.set_user_write("u1", false);
        assert_eq!(
            serde_json::to_value(&acl).unwrap(),
            json!({"u1": {"read": true}})
        );
        let read: Acl = serde_json::from_value(json!({"u2": {"read": false}})).unwrap();
        assert_eq!(read, Acl::new());
        assert!(serde_json::from_value::<Acl>(json!({"u2": {"admin": true}})).is_err());
        assert!(serde_json::from_value::<Acl>(json!({"u2": true})).is_err());
    }
}
