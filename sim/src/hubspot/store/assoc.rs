//! Association type definitions (`docs/hubspot-api.md` §6): HubSpot's default type ids, their
//! inverses and names, plus the ones made for custom objects and user-defined labels.

use serde_json::{Value, json};

use super::{COMPANIES, CONTACTS, DEALS};

/// One association type: a direction between two object types, with its inverse.
#[derive(Debug, Clone, PartialEq)]
pub struct AssocDef {
    /// From object type id.
    pub from: String,
    /// To object type id.
    pub to: String,
    /// Type id (e.g. 279).
    pub type_id: u32,
    /// `HUBSPOT_DEFINED`, `USER_DEFINED`, …
    pub category: String,
    /// Label (`None` for the unlabeled type; `Primary` for primary ones).
    pub label: Option<String>,
    /// Type id of the opposite direction.
    pub inverse: u32,
    /// Whether this is the primary type of its pair.
    pub primary: bool,
    /// v3 name, e.g. `contact_to_company` / `contact_to_company_unlabeled`.
    pub name: String,
    /// Webhook `associationType`, e.g. `CONTACT_TO_COMPANY`.
    pub webhook_name: String,
}

impl AssocDef {
    /// `{category, typeId, label}` as in v4 reads.
    pub fn type_json(&self) -> Value {
        json!({"category": self.category, "typeId": self.type_id, "label": self.label})
    }
}

/// Singular lower-case name used in association names (`contact`, `company`, …).
pub fn singular(type_id: &str, custom_name: Option<&str>) -> String {
    match type_id {
        CONTACTS => "contact".into(),
        COMPANIES => "company".into(),
        DEALS => "deal".into(),
        "0-5" => "ticket".into(),
        _ => custom_name.unwrap_or(type_id).to_lowercase(),
    }
}

fn pair(
    out: &mut Vec<AssocDef>,
    (a, an): (&str, &str),
    (b, bn): (&str, &str),
    (fwd, inv): (u32, u32),
    primary: Option<(u32, u32)>,
) {
    let base_ab = format!("{an}_to_{bn}");
    let base_ba = format!("{bn}_to_{an}");
    let suffix = if primary.is_some() { "_unlabeled" } else { "" };
    let mk =
        |from: &str, to: &str, id: u32, inverse: u32, base: &str, primary: bool, label| AssocDef {
            from: from.into(),
            to: to.into(),
            type_id: id,
            category: "HUBSPOT_DEFINED".into(),
            label,
            inverse,
            primary,
            name: if primary {
                base.to_string()
            } else {
                format!("{base}{suffix}")
            },
            webhook_name: base.to_uppercase(),
        };
    out.push(mk(a, b, fwd, inv, &base_ab, false, None));
    if a != b {
        out.push(mk(b, a, inv, fwd, &base_ba, false, None));
    }
    if let Some((pf, pi)) = primary {
        out.push(mk(a, b, pf, pi, &base_ab, true, Some("Primary".into())));
        out.push(mk(b, a, pi, pf, &base_ba, true, Some("Primary".into())));
    }
}

/// HubSpot's default association types between the built-in types.
pub fn default_defs() -> Vec<AssocDef> {
    let c = (CONTACTS, "contact");
    let co = (COMPANIES, "company");
    let d = (DEALS, "deal");
    let mut v = Vec::new();
    pair(&mut v, c, co, (279, 280), Some((1, 2)));
    pair(&mut v, d, co, (341, 342), Some((5, 6)));
    pair(&mut v, c, d, (4, 3), None);
    pair(&mut v, c, c, (449, 449), None);
    pair(&mut v, co, co, (450, 450), None);
    pair(&mut v, d, d, (451, 451), None);
    v
}

/// Unlabeled HUBSPOT_DEFINED types (both directions) between a custom type and another type,
/// with type ids `fwd` and `inv`.
pub fn custom_defs(a: (&str, &str), b: (&str, &str), fwd: u32, inv: u32) -> Vec<AssocDef> {
    let mut v = Vec::new();
    pair(&mut v, a, b, (fwd, inv), None);
    v
}
