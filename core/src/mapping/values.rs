//! Value conversion between the two systems, per mapped field type.
//!
//! HubSpot carries every property value as a string (numbers, booleans, epoch-ms or ISO
//! dates); Userflow stores JSON values (strings, numbers, booleans, RFC 3339 datetimes). A
//! mapped field converts with [`hubspot_to_userflow`] one way and [`userflow_to_hubspot`] the
//! other, and both sides are compared through [`canonical`], so `"42.0"` in HubSpot and `42`
//! in Userflow, or an epoch-ms and an ISO timestamp of the same instant, count as equal.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Number, Value};

/// The type a mapped field is converted as (`field_mappings.data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    String,
    Number,
    Boolean,
    Datetime,
    Date,
}

impl FieldType {
    /// The type for its stored name (`string`, `number`, `boolean`, `datetime`, `date`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "datetime" => Self::Datetime,
            "date" => Self::Date,
            _ => return None,
        })
    }
}

/// A value that does not fit the field's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {expected}")]
pub struct ValueError {
    pub value: String,
    pub expected: &'static str,
}

fn invalid(value: impl Into<String>, expected: &'static str) -> ValueError {
    ValueError {
        value: value.into(),
        expected,
    }
}

const DAY_MS: i64 = 86_400_000;

/// A HubSpot property value as the Userflow attribute value to write. An absent or empty
/// value is `null` (HubSpot has no other way to say "unset").
pub fn hubspot_to_userflow(raw: Option<&str>, ty: FieldType) -> Result<Value, ValueError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Value::Null);
    };
    match ty {
        FieldType::String => Ok(Value::String(raw.to_owned())),
        FieldType::Number => parse_number(raw)
            .map(Value::Number)
            .ok_or_else(|| invalid(raw, "number")),
        FieldType::Boolean => parse_bool(raw)
            .map(Value::Bool)
            .ok_or_else(|| invalid(raw, "boolean")),
        FieldType::Datetime => time_ms(raw)
            .and_then(format_datetime)
            .map(Value::String)
            .ok_or_else(|| invalid(raw, "datetime")),
        // Userflow has no date type: a date is a datetime at midnight UTC there.
        FieldType::Date => time_ms(raw)
            .map(|ms| ms.div_euclid(DAY_MS) * DAY_MS)
            .and_then(format_datetime)
            .map(Value::String)
            .ok_or_else(|| invalid(raw, "date")),
    }
}

/// A Userflow attribute value as the HubSpot property value to write; `null` clears the
/// property (`""`).
pub fn userflow_to_hubspot(value: &Value, ty: FieldType) -> Result<String, ValueError> {
    if value.is_null() {
        return Ok(String::new());
    }
    let text = value_text(value);
    match ty {
        FieldType::String => Ok(text),
        FieldType::Number => number_of(value)
            .map(|n| format_number(&n))
            .ok_or_else(|| invalid(text, "number")),
        FieldType::Boolean => bool_of(value)
            .map(|b| b.to_string())
            .ok_or_else(|| invalid(text, "boolean")),
        FieldType::Datetime => time_ms(&text)
            .and_then(format_datetime)
            .ok_or_else(|| invalid(text, "datetime")),
        // HubSpot date properties hold midnight UTC of the day.
        FieldType::Date => time_ms(&text)
            .and_then(format_date)
            .ok_or_else(|| invalid(text, "date")),
    }
}

/// The form two values of a field are compared in: `None` for "no value", else a string that
/// is equal for equal values whatever their spelling (numbers normalised, booleans
/// `true`/`false`, datetimes as epoch ms, dates as `YYYY-MM-DD`). A value that does not fit the
/// type compares by its text.
pub fn canonical(value: &Value, ty: FieldType) -> Option<String> {
    match value {
        Value::Null => return None,
        Value::String(s) if s.trim().is_empty() => return None,
        _ => {}
    }
    let text = value_text(value);
    let canon = match ty {
        FieldType::String => Some(text.clone()),
        FieldType::Number => number_of(value).map(|n| format_number(&n)),
        FieldType::Boolean => bool_of(value).map(|b| b.to_string()),
        FieldType::Datetime => time_ms(&text).map(|ms| ms.to_string()),
        FieldType::Date => time_ms(&text).and_then(format_date),
    };
    Some(canon.unwrap_or(text))
}

/// [`canonical`] of a HubSpot property value.
pub fn canonical_hubspot(raw: Option<&str>, ty: FieldType) -> Option<String> {
    let raw = raw?;
    canonical(&Value::String(raw.to_owned()), ty)
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn number_of(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => parse_number(s.trim()),
        Value::Bool(b) => Some(Number::from(u8::from(*b))),
        _ => None,
    }
}

fn bool_of(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s.trim()),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        _ => None,
    }
}

/// A decimal number; integral values become JSON integers.
fn parse_number(s: &str) -> Option<Number> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::from(i));
    }
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Some(Number::from(f as i64));
    }
    Number::from_f64(f)
}

/// A number as HubSpot accepts it: digits, an optional sign and fraction, no exponent.
fn format_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return (f as i64).to_string();
    }
    let s = format!("{f}");
    if s.contains(['e', 'E']) {
        let fixed = format!("{f:.12}");
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// Epoch milliseconds of epoch ms, RFC 3339 or a `YYYY-MM-DD` date (midnight UTC).
fn time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '-')
        && let Ok(n) = s.parse::<i64>()
    {
        return Some(n);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

fn format_datetime(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn format_date(ms: i64) -> Option<String> {
    let day = ms.div_euclid(DAY_MS) * DAY_MS;
    DateTime::<Utc>::from_timestamp_millis(day).map(|t| t.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hubspot_strings_become_typed_values() {
        let h = |raw, ty| hubspot_to_userflow(Some(raw), ty).expect("valid");
        assert_eq!(h("Acme", FieldType::String), json!("Acme"));
        assert_eq!(h("42", FieldType::Number), json!(42));
        assert_eq!(h("42.0", FieldType::Number), json!(42));
        assert_eq!(h("1.5", FieldType::Number), json!(1.5));
        assert_eq!(h("true", FieldType::Boolean), json!(true));
        assert_eq!(
            h("1704067200000", FieldType::Datetime),
            json!("2024-01-01T00:00:00.000Z")
        );
        assert_eq!(
            h("2024-01-01T09:00:00+02:00", FieldType::Datetime),
            json!("2024-01-01T07:00:00.000Z")
        );
        assert_eq!(
            h("1704067200000", FieldType::Date),
            json!("2024-01-01T00:00:00.000Z")
        );
        assert_eq!(
            h("2024-01-01", FieldType::Date),
            json!("2024-01-01T00:00:00.000Z")
        );
        assert_eq!(
            hubspot_to_userflow(Some(""), FieldType::Number),
            Ok(json!(null))
        );
        assert_eq!(
            hubspot_to_userflow(None, FieldType::String),
            Ok(json!(null))
        );
        let err = hubspot_to_userflow(Some("many"), FieldType::Number).expect_err("bad");
        assert_eq!(err.expected, "number");
    }

    #[test]
    fn userflow_values_become_hubspot_strings() {
        let u = |v: Value, ty| userflow_to_hubspot(&v, ty).expect("valid");
        assert_eq!(u(json!("pro"), FieldType::String), "pro");
        assert_eq!(u(json!(12), FieldType::String), "12");
        assert_eq!(u(json!(12.0), FieldType::Number), "12");
        assert_eq!(u(json!(0.25), FieldType::Number), "0.25");
        assert_eq!(u(json!("7"), FieldType::Number), "7");
        assert_eq!(u(json!(false), FieldType::Boolean), "false");
        assert_eq!(
            u(json!("2024-03-05T09:00:00.000+00:00"), FieldType::Datetime),
            "2024-03-05T09:00:00.000Z"
        );
        assert_eq!(
            u(json!("2024-03-05T09:00:00.000+00:00"), FieldType::Date),
            "2024-03-05"
        );
        assert_eq!(u(json!(null), FieldType::Number), "");
        assert!(userflow_to_hubspot(&json!("x"), FieldType::Boolean).is_err());
    }

    #[test]
    fn canonical_forms_ignore_spelling() {
        let c = |v: Value, ty| canonical(&v, ty);
        assert_eq!(
            c(json!("42.0"), FieldType::Number),
            c(json!(42), FieldType::Number)
        );
        assert_eq!(
            c(json!("1704067200000"), FieldType::Datetime),
            c(json!("2024-01-01T00:00:00.000+00:00"), FieldType::Datetime)
        );
        assert_eq!(c(json!("TRUE"), FieldType::Boolean), Some("true".into()));
        assert_eq!(c(json!(""), FieldType::String), None);
        assert_eq!(c(json!(null), FieldType::String), None);
        assert_eq!(c(json!("abc"), FieldType::Number), Some("abc".into()));
        assert_eq!(
            canonical_hubspot(Some("2024-01-01"), FieldType::Date),
            Some("2024-01-01".into())
        );
        assert_eq!(FieldType::parse("date"), Some(FieldType::Date));
        assert_eq!(FieldType::parse("list"), None);
    }

    #[test]
    fn round_trips_agree_with_canonical_forms() {
        for (raw, ty) in [
            ("3.75", FieldType::Number),
            ("false", FieldType::Boolean),
            ("1709629200000", FieldType::Datetime),
            ("2024-03-05", FieldType::Date),
            ("Globex", FieldType::String),
        ] {
            let uf = hubspot_to_userflow(Some(raw), ty).expect("to userflow");
            let back = userflow_to_hubspot(&uf, ty).expect("to hubspot");
            assert_eq!(
                canonical_hubspot(Some(&back), ty),
                canonical(&uf, ty),
                "{raw}"
            );
            assert_eq!(
                canonical_hubspot(Some(raw), ty),
                canonical(&uf, ty),
                "{raw}"
            );
        }
    }
}
