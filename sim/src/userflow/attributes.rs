//! Attribute names, data types and operations (`docs/userflow-api.md` §4).
//!
//! A value in an `attributes` object is a literal (string, number, boolean, `null`, or an
//! array = a list) or an operation object: exactly one of `set`, `set_once`, `add`,
//! `subtract`, `append`, `prepend`, `remove`, optionally with `data_type`. Event attributes
//! accept only literals, `set` and `data_type`. Names may contain `a–z A–Z 0–9 _ -` and space.
//!
//! Data types are tracked per environment and scope ([`Definitions`]): the first non-null
//! value defines the type (inferred, or forced with `data_type`); a later `data_type` changes
//! it. Switching an attribute from `string` to `list` converts the stored strings of every
//! object of that scope into one-element lists (done by the store).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::errors::{ApiError, ApiResult};
use super::knobs::{Knobs, NullAttribute};

/// Attribute data type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// Text.
    String,
    /// Integer or decimal.
    Number,
    /// true/false.
    Boolean,
    /// ISO-8601 timestamp (stored as the string sent).
    Datetime,
    /// List of scalar values.
    List,
}

impl DataType {
    /// Parses a `data_type` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "datetime" => Self::Datetime,
            "list" => Self::List,
            _ => return None,
        })
    }
}

/// Which kind of object an attribute belongs to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// User attributes.
    User,
    /// Group (company) attributes.
    Group,
    /// Membership attributes (`scope=membership` or `group_membership` in queries).
    GroupMembership,
    /// Event attributes.
    Event,
}

impl Scope {
    /// Parses a `scope` query value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Self::User,
            "group" => Self::Group,
            "membership" | "group_membership" => Self::GroupMembership,
            "event" => Self::Event,
            _ => return None,
        })
    }

    /// The value shown in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::GroupMembership => "group_membership",
            Self::Event => "event",
        }
    }
}

/// One attribute definition.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    /// Data type.
    pub data_type: DataType,
    /// When first defined (ISO-8601).
    pub created_at: String,
}

/// Attribute definitions of one environment.
pub type Definitions = BTreeMap<(Scope, String), Definition>;

/// Standard attributes every environment knows from the start.
pub fn standard_definitions(now: &str) -> Definitions {
    let mut d = Definitions::new();
    let mut add = |scope, name: &str, data_type| {
        d.insert(
            (scope, name.to_string()),
            Definition {
                data_type,
                created_at: now.into(),
            },
        );
    };
    add(Scope::User, "name", DataType::String);
    add(Scope::User, "email", DataType::String);
    add(Scope::User, "signed_up_at", DataType::Datetime);
    add(Scope::User, "first_seen_at", DataType::Datetime);
    add(Scope::User, "last_seen_at", DataType::Datetime);
    add(Scope::User, "locale", DataType::String);
    add(Scope::Group, "name", DataType::String);
    d
}

/// `signed_up_at` → `Signed up at`.
pub fn display_name(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether `name` is a valid attribute (or event) name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ' ')
}

/// Whether `s` is an ISO-8601 datetime (RFC 3339) or date.
pub fn is_datetime(s: &str) -> bool {
    DateTime::parse_from_rfc3339(s).is_ok() || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Current time in the API's format (`2022-11-29T12:34:56.000+00:00`).
pub fn now_iso() -> String {
    iso(Utc::now())
}

/// A time in the API's format.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

enum Op {
    Set(Value),
    SetOnce(Value),
    Add(f64, bool),
    Append(Vec<Value>),
    Prepend(Vec<Value>),
    Remove(Vec<Value>),
}

fn infer(v: &Value, knobs: &Knobs) -> Option<DataType> {
    match v {
        Value::String(s) if knobs.infer_datetime && DateTime::parse_from_rfc3339(s).is_ok() => {
            Some(DataType::Datetime)
        }
        Value::String(_) => Some(DataType::String),
        Value::Number(_) => Some(DataType::Number),
        Value::Bool(_) => Some(DataType::Boolean),
        Value::Array(_) => Some(DataType::List),
        _ => None,
    }
}

fn numeric(v: &Value) -> Option<(f64, bool)> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| (f, n.is_i64() || n.is_u64())),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                Some((i as f64, true))
            } else {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| (f, false))
            }
        }
        _ => None,
    }
}

fn number_value(f: f64, integer: bool) -> Value {
    if integer && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn coerce(name: &str, v: Value, dt: DataType) -> ApiResult<Value> {
    let fail = |v: &Value| {
        ApiError::bad(
            "invalid_attribute_value",
            format!("Attribute '{name}': {v} cannot be stored as {dt:?}").to_lowercase(),
        )
    };
    Ok(match dt {
        DataType::String => match v {
            Value::String(_) => v,
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            other => return Err(fail(&other)),
        },
        DataType::Number => match numeric(&v) {
            Some((f, int)) => number_value(f, int),
            None => return Err(fail(&v)),
        },
        DataType::Boolean => match &v {
            Value::Bool(_) => v,
            Value::String(s) if s == "true" => Value::Bool(true),
            Value::String(s) if s == "false" => Value::Bool(false),
            _ => return Err(fail(&v)),
        },
        DataType::Datetime => match &v {
            Value::String(s) if is_datetime(s) => v,
            _ => return Err(fail(&v)),
        },
        DataType::List => match v {
            Value::Array(items) if items.iter().all(scalar) => Value::Array(items),
            v if scalar(&v) => Value::Array(vec![v]),
            other => return Err(fail(&other)),
        },
    })
}

fn as_list(v: Option<&Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    }
}

fn list_values(name: &str, op: &str, v: Value, knobs: &Knobs) -> ApiResult<Vec<Value>> {
    let values = match v {
        Value::Array(items) if knobs.list_op_accepts_array => items,
        v @ Value::Array(_) => {
            return Err(ApiError::bad(
                "invalid_attribute_value",
                format!("Attribute '{name}': '{op}' takes a single value, got {v}"),
            ));
        }
        v => vec![v],
    };
    if let Some(bad) = values.iter().find(|v| !scalar(v)) {
        return Err(ApiError::bad(
            "invalid_attribute_value",
            format!(
                "Attribute '{name}': list values must be strings, numbers or booleans, got {bad}"
            ),
        ));
    }
    Ok(values)
}

fn parse_op(
    name: &str,
    value: Value,
    event: bool,
    knobs: &Knobs,
) -> ApiResult<(Op, Option<DataType>)> {
    let obj = match value {
        Value::Object(obj) => obj,
        Value::Array(items) => {
            if event {
                return Err(ApiError::bad(
                    "invalid_attribute_value",
                    format!("Event attribute '{name}' cannot be a list"),
                ));
            }
            return Ok((Op::Set(Value::Array(items)), None));
        }
        literal => return Ok((Op::Set(literal), None)),
    };
    let mut data_type = None;
    let mut op: Option<(String, Value)> = None;
    for (k, v) in obj {
        if k == "data_type" {
            let dt = v.as_str().and_then(DataType::parse).ok_or_else(|| {
                ApiError::bad(
                    "invalid_data_type",
                    format!("Attribute '{name}': unknown data_type {v}; use string, number, boolean, datetime or list"),
                )
            })?;
            data_type = Some(dt);
            continue;
        }
        let allowed: &[&str] = if event {
            &["set"]
        } else {
            &[
                "set", "set_once", "add", "subtract", "append", "prepend", "remove",
            ]
        };
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad(
                "invalid_attribute_operation",
                format!(
                    "Attribute '{name}': unsupported operation '{k}' (allowed: {})",
                    allowed.join(", ")
                ),
            ));
        }
        if op.is_some() {
            return Err(ApiError::bad(
                "invalid_attribute_operation",
                format!("Attribute '{name}': only one operation per attribute"),
            ));
        }
        op = Some((k, v));
    }
    let Some((k, v)) = op else {
        return Err(ApiError::bad(
            "invalid_attribute_operation",
            format!("Attribute '{name}': an object value needs an operation such as 'set'"),
        ));
    };
    if matches!(v, Value::Object(_)) {
        return Err(ApiError::bad(
            "invalid_attribute_value",
            format!("Attribute '{name}': a value cannot be an object"),
        ));
    }
    let op = match k.as_str() {
        "set" => Op::Set(v),
        "set_once" => Op::SetOnce(v),
        "add" | "subtract" => {
            let (n, int) = numeric(&v).ok_or_else(|| {
                ApiError::bad(
                    "invalid_attribute_value",
                    format!("Attribute '{name}': '{k}' needs a number or numeric string, got {v}"),
                )
            })?;
            Op::Add(if k == "add" { n } else { -n }, int)
        }
        "append" => Op::Append(list_values(name, &k, v, knobs)?),
        "prepend" => Op::Prepend(list_values(name, &k, v, knobs)?),
        _ => Op::Remove(list_values(name, &k, v, knobs)?),
    };
    Ok((op, data_type))
}

/// A definition whose type changed from `string` to `list`: stored strings must become lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSwitch {
    /// Scope.
    pub scope: Scope,
    /// Attribute name.
    pub name: String,
}

/// Applies `input` (an `attributes` object from a request) to `current`, updating `defs`.
/// Validates everything first: on error neither `current` nor `defs` is changed.
pub fn apply(
    current: &mut Map<String, Value>,
    input: Map<String, Value>,
    scope: Scope,
    defs: &mut Definitions,
    knobs: &Knobs,
) -> ApiResult<Vec<ListSwitch>> {
    let event = scope == Scope::Event;
    let mut next = current.clone();
    let mut next_defs = defs.clone();
    let mut switches = Vec::new();
    let now = now_iso();
    for (name, value) in input {
        if !valid_name(&name) {
            return Err(ApiError::bad(
                "invalid_attribute_name",
                format!(
                    "Invalid attribute name '{name}': use letters, digits, '_', '-' and spaces"
                ),
            ));
        }
        let (op, forced) = parse_op(&name, value, event, knobs)?;
        let key = (scope, name.clone());
        let defined = next_defs.get(&key).map(|d| d.data_type);
        let new_value = match op {
            Op::SetOnce(_) if next.contains_key(&name) => continue,
            Op::Set(Value::Null) | Op::SetOnce(Value::Null) => {
                if knobs.null_attribute == NullAttribute::Unset && !event {
                    next.remove(&name);
                } else {
                    next.insert(name.clone(), Value::Null);
                }
                if let Some(dt) = forced {
                    set_def(&mut next_defs, key, dt, defined, &now, &mut switches);
                }
                continue;
            }
            Op::Set(v) | Op::SetOnce(v) => match forced {
                Some(dt) => coerce(&name, v, dt)?,
                None => v,
            },
            Op::Add(n, int) => {
                let (base, base_int) = next.get(&name).and_then(numeric).unwrap_or((0.0, true));
                number_value(base + n, int && base_int)
            }
            Op::Append(vals) => {
                let mut l = as_list(next.get(&name));
                l.extend(vals);
                Value::Array(l)
            }
            Op::Prepend(vals) => {
                let mut l = vals;
                l.extend(as_list(next.get(&name)));
                Value::Array(l)
            }
            Op::Remove(vals) => {
                let l = as_list(next.get(&name))
                    .into_iter()
                    .filter(|v| !vals.contains(v))
                    .collect();
                Value::Array(l)
            }
        };
        let dt = forced.or(defined).or_else(|| infer(&new_value, knobs));
        if let Some(dt) = dt
            && (forced.is_some() || defined.is_none())
        {
            set_def(&mut next_defs, key, dt, defined, &now, &mut switches);
        }
        next.insert(name, new_value);
    }
    *current = next;
    *defs = next_defs;
    Ok(switches)
}

fn set_def(
    defs: &mut Definitions,
    key: (Scope, String),
    dt: DataType,
    previous: Option<DataType>,
    now: &str,
    switches: &mut Vec<ListSwitch>,
) {
    if previous == Some(DataType::String) && dt == DataType::List {
        switches.push(ListSwitch {
            scope: key.0,
            name: key.1.clone(),
        });
    }
    match defs.get_mut(&key) {
        Some(d) => d.data_type = dt,
        None => {
            defs.insert(
                key,
                Definition {
                    data_type: dt,
                    created_at: now.to_string(),
                },
            );
        }
    }
}

/// Converts a stored string value of a switched attribute into a one-element list.
pub fn convert_to_list(attrs: &mut Map<String, Value>, name: &str) {
    if let Some(v) = attrs.get_mut(name)
        && let Value::String(s) = v
    {
        *v = Value::Array(vec![Value::String(std::mem::take(s))]);
    }
}

/// Attributes whose value differs between `before` and `after`: `(previous, updated)`, with
/// `null` standing for "absent".
pub fn diff(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut prev = Map::new();
    let mut upd = Map::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            prev.insert(k.clone(), before.get(k).cloned().unwrap_or(Value::Null));
            upd.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in before {
        if !after.contains_key(k) {
            prev.insert(k.clone(), v.clone());
            upd.insert(k.clone(), Value::Null);
        }
    }
    (prev, upd)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(current: Value, input: Value) -> ApiResult<(Value, Definitions)> {
        let mut cur = current.as_object().cloned().unwrap_or_default();
        let mut defs = standard_definitions("t");
        let input = input.as_object().cloned().unwrap_or_default();
        apply(&mut cur, input, Scope::User, &mut defs, &Knobs::default())?;
        Ok((Value::Object(cur), defs))
    }

    #[test]
    fn operations() {
        let (v, _) = run(
            json!({"n": 2, "l": ["a", "b"], "s": "x", "once": 1}),
            json!({"n": {"add": "3"}, "l": {"remove": "a"}, "s": {"append": "y"},
                   "once": {"set_once": 5}, "fresh": {"set_once": 6},
                   "p": {"prepend": ["z", "w"]}, "m": {"subtract": 1.5}}),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"n": 5, "l": ["b"], "s": ["x", "y"], "once": 1, "fresh": 6,
                   "p": ["z", "w"], "m": -1.5})
        );
    }

    #[test]
    fn data_type_coerces_and_defines() {
        let (v, defs) = run(
            json!({}),
            json!({"score": {"set": "42", "data_type": "number"},
                   "at": {"set": "2024-05-01T00:00:00Z", "data_type": "datetime"}}),
        )
        .unwrap();
        assert_eq!(v, json!({"score": 42, "at": "2024-05-01T00:00:00Z"}));
        assert_eq!(
            defs[&(Scope::User, "score".to_string())].data_type,
            DataType::Number
        );
        assert_eq!(
            defs[&(Scope::User, "at".to_string())].data_type,
            DataType::Datetime
        );
    }

    #[test]
    fn invalid_inputs_are_rejected() {
        assert_eq!(
            run(json!({}), json!({"bad.name": 1})).unwrap_err().code,
            "invalid_attribute_name"
        );
        assert_eq!(
            run(json!({}), json!({"a": {"add": "x"}})).unwrap_err().code,
            "invalid_attribute_value"
        );
        assert_eq!(
            run(json!({}), json!({"a": {"set": 1, "add": 1}}))
                .unwrap_err()
                .code,
            "invalid_attribute_operation"
        );
        assert_eq!(
            run(json!({}), json!({"a": {"set": 1, "data_type": "money"}}))
                .unwrap_err()
                .code,
            "invalid_data_type"
        );
    }

    #[test]
    fn diff_lists_only_changed_values() {
        let (p, u) = diff(
            json!({"a": 1, "b": 2}).as_object().unwrap(),
            json!({"a": 1, "b": 3, "c": 4}).as_object().unwrap(),
        );
        assert_eq!(Value::Object(p), json!({"b": 2, "c": null}));
        assert_eq!(Value::Object(u), json!({"b": 3, "c": 4}));
    }
}
