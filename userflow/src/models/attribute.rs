//! Attribute values to write: literals or one operation, optionally with a forced data type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Attribute map of a write (user, group, membership or event attributes).
pub type Attributes = BTreeMap<String, AttributeValue>;

/// Attribute data types. Userflow has more internal types (`content`, `flow_step`, ...); those
/// read as [`DataType::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// Text.
    String,
    /// Number.
    Number,
    /// Boolean.
    Boolean,
    /// ISO-8601 date-time.
    Datetime,
    /// List of values.
    List,
    /// Any other type Userflow reports (read only).
    #[serde(other)]
    Other,
}

/// One attribute operation (`{"set": v}`, `{"add": n}`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Overwrite (same as a literal).
    Set(serde_json::Value),
    /// Set only if the attribute was never set.
    SetOnce(serde_json::Value),
    /// Increment a number (a number or numeric string).
    Add(serde_json::Value),
    /// Decrement a number (a number or numeric string).
    Subtract(serde_json::Value),
    /// Append value(s) to a list.
    Append(serde_json::Value),
    /// Prepend value(s) to a list.
    Prepend(serde_json::Value),
    /// Remove value(s) from a list.
    Remove(serde_json::Value),
}

/// An operation with an optional `data_type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeOp {
    /// The operation.
    #[serde(flatten)]
    pub op: Operation,
    /// Forces the stored type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<DataType>,
}

/// An attribute value in a write. Event attributes accept only literals and `set` (with
/// `data_type`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// `null` (stores null or unsets; undocumented).
    Null,
    /// A boolean literal.
    Bool(bool),
    /// A number literal.
    Number(serde_json::Number),
    /// A string literal.
    String(String),
    /// An operation.
    Op(AttributeOp),
}

impl AttributeValue {
    fn op(op: Operation) -> Self {
        AttributeValue::Op(AttributeOp {
            op,
            data_type: None,
        })
    }
    /// `{"set": v}`.
    pub fn set(v: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::Set(v.into()))
    }
    /// `{"set_once": v}`.
    pub fn set_once(v: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::SetOnce(v.into()))
    }
    /// `{"add": n}`.
    pub fn add(n: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::Add(n.into()))
    }
    /// `{"subtract": n}`.
    pub fn subtract(n: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::Subtract(n.into()))
    }
    /// `{"append": v}` (a value or an array of values).
    pub fn append(v: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::Append(v.into()))
    }
    /// `{"prepend": v}` (a value or an array of values).
    pub fn prepend(v: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::Prepend(v.into()))
    }
    /// `{"remove": v}` (a value or an array of values).
    pub fn remove(v: impl Into<serde_json::Value>) -> Self {
        Self::op(Operation::Remove(v.into()))
    }
    /// Adds `data_type`; a literal becomes `{"set": literal, "data_type": …}`.
    pub fn with_data_type(self, data_type: DataType) -> Self {
        let op = match self {
            AttributeValue::Op(mut op) => {
                op.data_type = Some(data_type);
                return AttributeValue::Op(op);
            }
            AttributeValue::Null => Operation::Set(serde_json::Value::Null),
            AttributeValue::Bool(b) => Operation::Set(b.into()),
            AttributeValue::Number(n) => Operation::Set(serde_json::Value::Number(n)),
            AttributeValue::String(s) => Operation::Set(s.into()),
        };
        AttributeValue::Op(AttributeOp {
            op,
            data_type: Some(data_type),
        })
    }
}

impl From<&str> for AttributeValue {
    fn from(v: &str) -> Self {
        AttributeValue::String(v.to_owned())
    }
}
impl From<String> for AttributeValue {
    fn from(v: String) -> Self {
        AttributeValue::String(v)
    }
}
impl From<bool> for AttributeValue {
    fn from(v: bool) -> Self {
        AttributeValue::Bool(v)
    }
}
impl From<i64> for AttributeValue {
    fn from(v: i64) -> Self {
        AttributeValue::Number(v.into())
    }
}
impl From<f64> for AttributeValue {
    /// A non-finite float becomes `null`.
    fn from(v: f64) -> Self {
        serde_json::Number::from_f64(v).map_or(AttributeValue::Null, AttributeValue::Number)
    }
}
impl<T: Into<AttributeValue>> From<Option<T>> for AttributeValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(AttributeValue::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_value_serializes_literals_and_ops() {
        let cases = [
            (AttributeValue::from("pro"), json!("pro")),
            (AttributeValue::from(3), json!(3)),
            (AttributeValue::from(true), json!(true)),
            (AttributeValue::Null, json!(null)),
            (AttributeValue::add(1), json!({"add": 1})),
            (AttributeValue::set_once("x"), json!({"set_once": "x"})),
            (
                AttributeValue::remove(json!(["a", "b"])),
                json!({"remove": ["a", "b"]}),
            ),
            (
                AttributeValue::from("2024-05-01T00:00:00Z").with_data_type(DataType::Datetime),
                json!({"set": "2024-05-01T00:00:00Z", "data_type": "datetime"}),
            ),
            (
                AttributeValue::append("a").with_data_type(DataType::List),
                json!({"append": "a", "data_type": "list"}),
            ),
        ];
        for (v, want) in cases {
            assert_eq!(serde_json::to_value(&v).expect("serialize"), want);
        }
    }

    #[test]
    fn data_type_reads_unknown_as_other() {
        let t: DataType = serde_json::from_value(json!("flow_step")).expect("parse");
        assert_eq!(t, DataType::Other);
    }
}
