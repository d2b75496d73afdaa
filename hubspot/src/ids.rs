//! Identifiers: object types and ids as HubSpot spells them on the wire.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A CRM object type in a path: a name (`contacts`) or a type id (`0-1`, `2-1234567`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectType {
    /// `contacts` (`0-1`).
    Contacts,
    /// `companies` (`0-2`).
    Companies,
    /// `deals` (`0-3`).
    Deals,
    /// Any other type by name or id, e.g. a custom object `2-1234567` or `p62515_projects`.
    Other(String),
}

impl ObjectType {
    /// A custom or other object type by name or id.
    pub fn custom(name_or_id: impl Into<String>) -> Self {
        ObjectType::Other(name_or_id.into())
    }

    /// The path segment.
    pub fn as_str(&self) -> &str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Companies => "companies",
            ObjectType::Deals => "deals",
            ObjectType::Other(s) => s,
        }
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ObjectType {
    fn from(s: &str) -> Self {
        match s {
            "contacts" | "0-1" => ObjectType::Contacts,
            "companies" | "0-2" => ObjectType::Companies,
            "deals" | "0-3" => ObjectType::Deals,
            other => ObjectType::Other(other.to_owned()),
        }
    }
}

/// A CRM object id. HubSpot sends ids as strings in v3 and as numbers in v4 and webhooks;
/// both deserialize into this.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ObjectId(pub String);

impl ObjectId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ObjectId {
    fn from(s: &str) -> Self {
        ObjectId(s.to_owned())
    }
}

impl From<String> for ObjectId {
    fn from(s: String) -> Self {
        ObjectId(s)
    }
}

impl From<u64> for ObjectId {
    fn from(n: u64) -> Self {
        ObjectId(n.to_string())
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(u64),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::S(s) => ObjectId(s),
            Raw::N(n) => ObjectId(n.to_string()),
        })
    }
}

/// A public app's id (numeric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppId(pub u64);

/// A portal (hub) id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PortalId(pub u64);

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for PortalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
