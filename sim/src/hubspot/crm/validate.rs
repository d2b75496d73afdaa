//! Property value validation on writes (`docs/hubspot-api.md` §2.3, §3.1, §5) and the error
//! bodies it produces: `message` embeds a JSON array of
//! `{isValid, message, error, name, localizedErrorMessage, portalId}`, `errors[]` repeats it in
//! structured form (`{message, code, context:{propertyName:[…]}}`).

use chrono::{DateTime, NaiveDate, Timelike};
use serde_json::{Map, Value, json};

use super::{CrmKnobs, value_string};
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::defs::PropertyDef;
use crate::hubspot::store::{COMPANIES, CONTACTS, DEALS, PortalData, TypeData};

/// One invalid property.
#[derive(Debug, Clone, PartialEq)]
pub struct PropError {
    /// Property name.
    pub name: String,
    /// `PROPERTY_DOESNT_EXIST`, `INVALID_INTEGER`, `INVALID_DATE`, `INVALID_LONG`,
    /// `INVALID_OPTION`, `INVALID_BOOLEAN`, `READ_ONLY_VALUE`, `MISSING_REQUIRED_PROPERTY`.
    pub code: String,
    /// Human message.
    pub message: String,
}

impl PropError {
    fn new(name: &str, code: &str, message: String) -> Self {
        Self {
            name: name.into(),
            code: code.into(),
            message,
        }
    }
}

/// `Property values were not valid: [ … ]` with the embedded JSON array.
pub fn message(portal_id: u64, errs: &[PropError]) -> String {
    // Built by hand to keep HubSpot's key order (serde_json maps sort their keys).
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let items: Vec<String> = errs
        .iter()
        .map(|e| {
            format!(
                "{{\"isValid\":false,\"message\":{m},\"error\":{c},\"name\":{n},\"localizedErrorMessage\":{m},\"portalId\":{portal_id}}}",
                m = q(&e.message),
                c = q(&e.code),
                n = q(&e.name),
            )
        })
        .collect();
    format!("Property values were not valid: [{}]", items.join(","))
}

/// Structured `errors[]` entries.
pub fn structured(errs: &[PropError]) -> Value {
    Value::Array(
        errs.iter()
            .map(|e| json!({"message": e.message, "code": e.code, "context": {"propertyName": [e.name]}}))
            .collect(),
    )
}

/// The 400 `VALIDATION_ERROR` for invalid properties.
pub fn error(portal_id: u64, errs: &[PropError]) -> HubspotError {
    HubspotError::validation(message(portal_id, errs)).with("errors", structured(errs))
}

fn is_number(v: &str) -> bool {
    let s = v.strip_prefix('-').unwrap_or(v);
    let mut parts = s.split('.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    if parts.next().is_some() {
        return false;
    }
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    !(int.is_empty() && frac.is_none_or(str::is_empty))
        && digits(int)
        && frac.is_none_or(|f| digits(f) && !f.is_empty())
}

/// Epoch milliseconds of a date/datetime value given as epoch ms, an ISO date or ISO-8601.
pub fn parse_time_ms(v: &str) -> Option<i64> {
    if !v.is_empty()
        && v.chars().all(|c| c.is_ascii_digit() || c == '-')
        && let Ok(n) = v.parse::<i64>()
    {
        return Some(n);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Some(d.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    None
}

fn check_value(def: &PropertyDef, value: &str, knobs: &CrmKnobs) -> Result<String, PropError> {
    let name = def.name.as_str();
    match def.type_.as_str() {
        "number" => {
            if is_number(value) {
                Ok(value.to_string())
            } else {
                Err(PropError::new(
                    name,
                    "INVALID_INTEGER",
                    format!("{value} was not a valid number."),
                ))
            }
        }
        "bool" => match value {
            "true" | "false" => Ok(value.to_string()),
            _ => Err(PropError::new(
                name,
                "INVALID_BOOLEAN",
                format!("{value} was not a valid boolean (\"true\" or \"false\")."),
            )),
        },
        "date" => {
            let Some(ms) = parse_time_ms(value) else {
                return Err(PropError::new(
                    name,
                    "INVALID_DATE",
                    format!("{value} was not a valid date."),
                ));
            };
            if knobs.date_requires_midnight_utc && ms.rem_euclid(86_400_000) != 0 {
                let t = DateTime::from_timestamp_millis(ms).unwrap_or_default();
                let msg = format!(
                    "{value} is at {:02}:{:02}:{:02}.{:03} UTC, not midnight!",
                    t.hour(),
                    t.minute(),
                    t.second(),
                    ms.rem_euclid(1000)
                );
                return Err(PropError::new(name, "INVALID_DATE", msg));
            }
            Ok(value.to_string())
        }
        "datetime" => match parse_time_ms(value) {
            Some(_) => Ok(value.to_string()),
            None => Err(PropError::new(
                name,
                "INVALID_LONG",
                format!("{value} was not a valid long."),
            )),
        },
        "enumeration" => {
            let mut out = Vec::new();
            for part in value.split(';') {
                let found = def.options.iter().find(|o| {
                    if knobs.enum_case_sensitive {
                        o.value == part
                    } else {
                        o.value.eq_ignore_ascii_case(part)
                    }
                });
                match found {
                    Some(o) => out.push(o.value.clone()),
                    None => {
                        let allowed: Vec<&str> =
                            def.options.iter().map(|o| o.value.as_str()).collect();
                        return Err(PropError::new(
                            name,
                            "INVALID_OPTION",
                            format!(
                                "{part} was not one of the allowed options: [{}]",
                                allowed.join(", ")
                            ),
                        ));
                    }
                }
            }
            Ok(out.join(";"))
        }
        _ => Ok(value.to_string()),
    }
}

/// Checks the `properties` of a write against the type's definitions. Returns the values to
/// store (as strings; "" clears) or every problem found. `allow_read_only` lets the
/// simulator's own writes set read-only properties.
pub fn check(
    portal_id: u64,
    td: &TypeData,
    input: &Map<String, Value>,
    knobs: &CrmKnobs,
) -> Result<Vec<(String, String)>, Vec<PropError>> {
    let _ = portal_id;
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (name, raw) in input {
        let value = value_string(raw);
        let Some(def) = td.prop(name) else {
            errs.push(PropError::new(
                name,
                "PROPERTY_DOESNT_EXIST",
                format!("Property \"{name}\" does not exist"),
            ));
            continue;
        };
        if value.is_empty() || !knobs.validate_property_values {
            if knobs.validate_property_values && def.read_only_value {
                errs.push(read_only(name));
            } else {
                out.push((name.clone(), value));
            }
            continue;
        }
        if def.read_only_value {
            errs.push(read_only(name));
            continue;
        }
        match check_value(def, &value, knobs) {
            Ok(v) => out.push((name.clone(), v)),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

fn read_only(name: &str) -> PropError {
    PropError::new(
        name,
        "READ_ONLY_VALUE",
        format!("\"{name}\" is a read only property; its value cannot be set."),
    )
}

/// Properties required on create that are missing (§3.1): companies `domain` or `name`;
/// deals `dealname`, `dealstage`, `pipeline`; custom objects the schema's `requiredProperties`.
pub fn required_missing(
    data: &PortalData,
    type_id: &str,
    props: &[(String, String)],
) -> Vec<PropError> {
    let has = |n: &str| props.iter().any(|(k, v)| k == n && !v.is_empty());
    let missing = |n: &str| {
        PropError::new(
            n,
            "MISSING_REQUIRED_PROPERTY",
            format!("Property \"{n}\" is required on create"),
        )
    };
    match type_id {
        CONTACTS => Vec::new(),
        COMPANIES => {
            if has("domain") || has("name") {
                Vec::new()
            } else {
                vec![PropError::new(
                    "name",
                    "MISSING_REQUIRED_PROPERTY",
                    "Either \"name\" or \"domain\" is required to create a company".into(),
                )]
            }
        }
        DEALS => ["dealname", "dealstage", "pipeline"]
            .into_iter()
            .filter(|n| !has(n))
            .map(missing)
            .collect(),
        _ => data
            .schema(type_id)
            .map(|s| {
                s.required_properties
                    .iter()
                    .filter(|n| !has(n))
                    .map(|n| missing(n))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A unique value (contacts' email, `hasUniqueValue` properties) already held by another live
/// object: 409 CONFLICT "Contact already exists. Existing ID: N" (other types name the value).
pub fn unique_conflict(
    data: &PortalData,
    type_id: &str,
    props: &[(String, String)],
    self_id: Option<u64>,
    knobs: &CrmKnobs,
) -> Option<HubspotError> {
    let td = data.type_data(type_id)?;
    for (k, v) in props {
        if v.is_empty() || !td.is_unique(k) {
            continue;
        }
        if type_id == CONTACTS && k == "email" && !knobs.reject_duplicate_email {
            continue;
        }
        if let Some(existing) = td.find_unique(k, v).filter(|e| Some(*e) != self_id) {
            return Some(conflict(type_id, k, v, existing));
        }
    }
    None
}

/// The 409 for a duplicate unique value.
pub fn conflict(type_id: &str, prop: &str, value: &str, existing: u64) -> HubspotError {
    if type_id == CONTACTS && prop == "email" {
        HubspotError::conflict_existing(&existing.to_string())
    } else {
        HubspotError::new(
            axum::http::StatusCode::CONFLICT,
            "CONFLICT",
            format!("A record with {prop} \"{value}\" already exists. Existing ID: {existing}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_documented_rule() {
        for ok in ["1", "-17", "3.14", "0.5", ".5"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "1,000", "1 000", "1.2.3", "abc", "-", "1.", "1e5"] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn times_parse_from_ms_iso_date_and_datetime() {
        assert_eq!(parse_time_ms("1572480000000"), Some(1_572_480_000_000));
        assert_eq!(parse_time_ms("2019-10-31"), Some(1_572_480_000_000));
        assert_eq!(
            parse_time_ms("2019-10-31T00:00:00Z"),
            Some(1_572_480_000_000)
        );
        assert_eq!(parse_time_ms("yesterday"), None);
    }

    #[test]
    fn message_embeds_the_json_array() {
        let m = message(
            123,
            &[PropError::new(
                "foo",
                "PROPERTY_DOESNT_EXIST",
                "Property \"foo\" does not exist".into(),
            )],
        );
        assert_eq!(
            m,
            r#"Property values were not valid: [{"isValid":false,"message":"Property \"foo\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"foo","localizedErrorMessage":"Property \"foo\" does not exist","portalId":123}]"#
        );
    }
}
