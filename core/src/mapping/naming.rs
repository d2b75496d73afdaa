//! Names of what hubsync creates in HubSpot, so the mapping API, the schema job and the
//! workers agree on them.
//!
//! HubSpot property names are lowercase, start with a letter and hold only letters, digits
//! and underscores; Userflow attribute and event names are freer (`plan-tier`,
//! `signedUpAt`), so they are folded into that alphabet.

use crate::jobs::UserflowKind;

/// The property group every hubsync-created property belongs to.
pub const PROPERTY_GROUP: &str = "userflow";
/// The group's label in HubSpot's UI.
pub const PROPERTY_GROUP_LABEL: &str = "Userflow";

/// `userflow_<object>_<attribute>`: where a Userflow attribute lands in HubSpot.
pub fn attribute_property(kind: UserflowKind, attribute: &str) -> String {
    format!("userflow_{}_{}", kind.as_str(), fold(attribute))
}

/// `userflow_<object>_last_<event>_at`: the fallback for a streamed event when the timeline
/// API is not available to the app.
pub fn last_event_property(kind: UserflowKind, event_name: &str) -> String {
    format!("userflow_{}_last_{}_at", kind.as_str(), fold(event_name))
}

/// Lowercase ASCII letters, digits and single underscores; camelCase splits into words.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "x".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_hubspot_rules() {
        assert_eq!(
            attribute_property(UserflowKind::User, "plan"),
            "userflow_user_plan"
        );
        assert_eq!(
            attribute_property(UserflowKind::Group, "signedUpAt"),
            "userflow_group_signed_up_at"
        );
        assert_eq!(fold("plan-tier (beta)"), "plan_tier_beta");
        assert_eq!(fold("__"), "x");
        assert_eq!(
            last_event_property(UserflowKind::User, "flow_started"),
            "userflow_user_last_flow_started_at"
        );
    }
}
