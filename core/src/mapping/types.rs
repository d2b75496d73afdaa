//! Which HubSpot property types and Userflow attribute types can be mapped onto each other,
//! the common type a field mapping stores, the types hubsync creates on each side, and the
//! messages that explain a refusal.
//!
//! HubSpot `string`/`phone_number`/`enumeration` read as text, `number` as a number,
//! `bool` (and an `enumeration` shown as a `booleancheckbox`) as a boolean, `date` as a
//! calendar date and `datetime` as a point in time. Userflow has no date type: a HubSpot
//! `date` maps onto a Userflow `datetime` (written at midnight UTC), and the field's common
//! type is then `date`. Userflow `list` and internal types map onto nothing.

pub use super::values::FieldType;

/// Every field type.
pub const ALL: [FieldType; 5] = [
    FieldType::String,
    FieldType::Number,
    FieldType::Boolean,
    FieldType::Date,
    FieldType::Datetime,
];

/// The stored name (`string`, `number`, `boolean`, `date`, `datetime`).
pub const fn name(t: FieldType) -> &'static str {
    match t {
        FieldType::String => "string",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::Datetime => "datetime",
    }
}

/// The HubSpot `(type, fieldType)` of a property hubsync creates for `t`.
pub const fn hubspot_property(t: FieldType) -> (&'static str, &'static str) {
    match t {
        FieldType::String => ("string", "text"),
        FieldType::Number => ("number", "number"),
        FieldType::Boolean => ("bool", "booleancheckbox"),
        FieldType::Date => ("date", "date"),
        FieldType::Datetime => ("datetime", "date"),
    }
}

/// The Userflow `data_type` values of `t` are written with.
pub const fn userflow_data_type(t: FieldType) -> &'static str {
    match t {
        FieldType::String => "string",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Date | FieldType::Datetime => "datetime",
    }
}

/// The common type of a HubSpot property with `kind` (`type`) and `field_type`, or `None`
/// when it cannot be mapped (`json`, `object_coordinates`, unknown types).
pub fn hubspot_common_type(kind: &str, field_type: &str) -> Option<FieldType> {
    Some(match kind {
        "string" | "phone_number" => FieldType::String,
        "enumeration" if field_type == "booleancheckbox" => FieldType::Boolean,
        "enumeration" => FieldType::String,
        "number" => FieldType::Number,
        "bool" => FieldType::Boolean,
        "date" => FieldType::Date,
        "datetime" => FieldType::Datetime,
        _ => return None,
    })
}

/// The common type of a Userflow attribute `data_type`, or `None` (`list`, internal types).
/// `datetime` reads as [`FieldType::Datetime`]; see [`compatible`] for dates.
pub fn userflow_common_type(data_type: &str) -> Option<FieldType> {
    Some(match data_type {
        "string" => FieldType::String,
        "number" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "datetime" => FieldType::Datetime,
        _ => return None,
    })
}

/// Whether a value of common type `hubspot` fits a Userflow attribute of common type
/// `userflow` (and back): equal types, or a HubSpot date against a Userflow datetime.
pub fn compatible(hubspot: FieldType, userflow: FieldType) -> bool {
    hubspot == userflow || (hubspot == FieldType::Date && userflow == FieldType::Datetime)
}

/// One side of a field as the live schemas describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubspotSide<'a> {
    /// Property name (or association path) as the mapping names it.
    pub name: &'a str,
    /// HubSpot `type`.
    pub kind: &'a str,
    /// HubSpot `fieldType`.
    pub field_type: &'a str,
}

/// The Userflow side of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserflowSide<'a> {
    /// Attribute name.
    pub name: &'a str,
    /// Userflow `data_type`, `None` when the attribute does not exist yet.
    pub data_type: Option<&'a str>,
}

/// Checks a field mapped between an existing HubSpot property and a Userflow attribute
/// (which may not exist yet), against an optional declared type. Answers the field's
/// common type, or the message that explains why it cannot be mapped. `field` is how the
/// message names the field (the Userflow attribute for both directions).
pub fn check_field(
    field: &str,
    hubspot: HubspotSide<'_>,
    userflow: UserflowSide<'_>,
    declared: Option<FieldType>,
) -> Result<FieldType, String> {
    let hs = hubspot_common_type(hubspot.kind, hubspot.field_type).ok_or_else(|| {
        format!(
            "field \"{field}\": HubSpot property \"{}\" is {} ({}), which hubsync cannot map",
            hubspot.name, hubspot.kind, hubspot.field_type
        )
    })?;
    if let Some(uf_type) = userflow.data_type {
        let uf = userflow_common_type(uf_type).ok_or_else(|| {
            format!(
                "field \"{field}\": Userflow attribute \"{}\" is {uf_type}, which hubsync cannot map",
                userflow.name
            )
        })?;
        if !compatible(hs, uf) {
            return Err(mismatch(field, hubspot, userflow.name, uf_type));
        }
    }
    if let Some(d) = declared
        && d != hs
    {
        return Err(format!(
            "field \"{field}\": declared type is {} but HubSpot property \"{}\" is {}",
            name(d),
            hubspot.name,
            hubspot.kind
        ));
    }
    Ok(hs)
}

/// Checks a Userflow → HubSpot field whose HubSpot property hubsync creates: the common type
/// comes from the Userflow attribute, or from `declared` when the attribute does not exist
/// yet (then `declared` is required). A declared `date` fits a Userflow `datetime`.
pub fn check_outgoing(
    field: &str,
    userflow: UserflowSide<'_>,
    declared: Option<FieldType>,
) -> Result<FieldType, String> {
    match (userflow.data_type, declared) {
        (None, None) => Err(format!(
            "field \"{field}\": Userflow attribute \"{}\" does not exist yet; give its \"type\" \
             (string, number, boolean, date or datetime)",
            userflow.name
        )),
        (None, Some(d)) => Ok(d),
        (Some(uf_type), declared) => {
            let uf = userflow_common_type(uf_type).ok_or_else(|| {
                format!(
                    "field \"{field}\": Userflow attribute \"{}\" is {uf_type}, which hubsync cannot map",
                    userflow.name
                )
            })?;
            match declared {
                None => Ok(uf),
                Some(d) if compatible(d, uf) => Ok(d),
                Some(d) => Err(format!(
                    "field \"{field}\": declared type is {} but Userflow attribute \"{}\" is {uf_type}",
                    name(d),
                    userflow.name
                )),
            }
        }
    }
}

/// Whether an existing HubSpot property (`kind`, `field_type`) can hold values of `common`:
/// used when a property hubsync would create is already there.
pub fn hubspot_property_holds(kind: &str, field_type: &str, common: FieldType) -> bool {
    hubspot_common_type(kind, field_type) == Some(common)
}

fn mismatch(field: &str, hubspot: HubspotSide<'_>, uf_name: &str, uf_type: &str) -> String {
    format!(
        "field \"{field}\": HubSpot property \"{}\" is {} but Userflow attribute \"{uf_name}\" is {uf_type}",
        hubspot.name, hubspot.kind
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs<'a>(name: &'a str, kind: &'a str, field_type: &'a str) -> HubspotSide<'a> {
        HubspotSide {
            name,
            kind,
            field_type,
        }
    }

    fn uf<'a>(name: &'a str, data_type: Option<&'a str>) -> UserflowSide<'a> {
        UserflowSide { name, data_type }
    }

    #[test]
    fn hubspot_types_read_as_the_documented_common_types() {
        let cases = [
            ("string", "text", Some(FieldType::String)),
            ("string", "textarea", Some(FieldType::String)),
            ("phone_number", "phonenumber", Some(FieldType::String)),
            ("enumeration", "select", Some(FieldType::String)),
            ("enumeration", "booleancheckbox", Some(FieldType::Boolean)),
            ("number", "number", Some(FieldType::Number)),
            ("bool", "booleancheckbox", Some(FieldType::Boolean)),
            ("date", "date", Some(FieldType::Date)),
            ("datetime", "date", Some(FieldType::Datetime)),
            ("json", "text", None),
            ("object_coordinates", "text", None),
        ];
        for (kind, field_type, want) in cases {
            assert_eq!(
                hubspot_common_type(kind, field_type),
                want,
                "{kind}/{field_type}"
            );
        }
        assert_eq!(userflow_common_type("list"), None);
        assert_eq!(userflow_common_type("datetime"), Some(FieldType::Datetime));
    }

    #[test]
    fn a_mismatch_names_the_field_and_both_types() {
        let err = check_field(
            "plan",
            hs("plan", "number", "number"),
            uf("plan", Some("string")),
            None,
        )
        .expect_err("mismatch");
        assert_eq!(
            err,
            "field \"plan\": HubSpot property \"plan\" is number but Userflow attribute \"plan\" is string"
        );
    }

    #[test]
    fn dates_fit_userflow_datetimes_and_keep_their_type() {
        assert_eq!(
            check_field(
                "renewal",
                hs("renewal", "date", "date"),
                uf("renewal", Some("datetime")),
                None
            ),
            Ok(FieldType::Date)
        );
        assert!(
            check_field(
                "seen",
                hs("seen", "datetime", "date"),
                uf("seen", Some("datetime")),
                None
            ) == Ok(FieldType::Datetime)
        );
        // A Userflow datetime cannot go into a HubSpot number.
        assert!(
            check_field(
                "x",
                hs("x", "number", "number"),
                uf("x", Some("datetime")),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn a_missing_userflow_attribute_takes_the_hubspot_type_and_a_declared_type_must_agree() {
        assert_eq!(
            check_field("n", hs("n", "string", "text"), uf("n", None), None),
            Ok(FieldType::String)
        );
        let err = check_field(
            "n",
            hs("n", "string", "text"),
            uf("n", None),
            Some(FieldType::Number),
        )
        .expect_err("declared");
        assert!(err.contains("declared type is number"), "{err}");
    }

    #[test]
    fn outgoing_fields_need_a_type_when_the_attribute_is_new() {
        let err = check_outgoing("nps", uf("nps", None), None).expect_err("no type");
        assert!(err.contains("does not exist yet"), "{err}");
        assert_eq!(
            check_outgoing("nps", uf("nps", None), Some(FieldType::Number)),
            Ok(FieldType::Number)
        );
        assert_eq!(
            check_outgoing("logins", uf("logins", Some("number")), None),
            Ok(FieldType::Number)
        );
        assert_eq!(
            check_outgoing(
                "signed_up_at",
                uf("signed_up_at", Some("datetime")),
                Some(FieldType::Date)
            ),
            Ok(FieldType::Date)
        );
        assert!(
            check_outgoing(
                "logins",
                uf("logins", Some("number")),
                Some(FieldType::String)
            )
            .is_err()
        );
        assert!(check_outgoing("tags", uf("tags", Some("list")), None).is_err());
    }

    #[test]
    fn created_properties_hold_their_own_type() {
        for t in ALL {
            let (kind, field_type) = hubspot_property(t);
            assert!(hubspot_property_holds(kind, field_type, t), "{t:?}");
            assert_eq!(FieldType::parse(name(t)), Some(t));
            let uf = userflow_common_type(userflow_data_type(t)).expect("userflow type");
            assert!(compatible(t, uf), "{t:?}");
        }
    }
}
