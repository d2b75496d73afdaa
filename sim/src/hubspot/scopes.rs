//! OAuth scopes (`docs/hubspot-api.md` §5, §7, §8, §12): which scopes a call needs, and the
//! 403 `MISSING_SCOPES` for an OAuth caller that holds none of them.
//!
//! Why here and not in the handlers: HubSpot checks scopes at its gateway, per endpoint and
//! before it reads the body, so the requirement follows from the method and the route template
//! alone. The CRM [`Api`](super::crm::Api) extractor and the timeline
//! [`EventCaller`](super::timeline::EventCaller) extractor call [`authorize`]; no handler checks
//! scopes itself, so a new route cannot forget to. A sync client that asks for too few scopes at
//! install time then fails in tests the way it would fail in production.
//!
//! Simulator choices: association calls need the scope of the *from* object type; association
//! label definitions count as object writes; an object type that is not contacts, companies or
//! deals counts as `custom`; schema reads and writes need `crm.schemas.custom.*`; timeline event
//! calls accept `timeline` or any object scope of a template object type (read for `GET`, write
//! otherwise; `tickets` for tickets), since HubSpot decides before it knows the template. The 403
//! lists every alternative in `requiredGranularScopes`. Private-app tokens hold every scope. The
//! OAuth knob `enforce_scopes` (default on) turns the check off.

use axum::http::Method;
use axum::http::request::Parts;

use super::Simulator;
use super::auth::Caller;
use super::errors::HubspotError;

/// Every scope the simulator checks, plus `oauth`: what `POST /_sim/hubspot/oauth/tokens`
/// grants when it is given no `scopes`.
pub const ALL: [&str; 19] = [
    "oauth",
    "timeline",
    "tickets",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.custom.read",
    "crm.objects.custom.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
    "crm.schemas.custom.read",
    "crm.schemas.custom.write",
];

/// The scope family of an `{objectType}` path segment: `contacts`, `companies`, `deals`, or
/// `custom` for anything else (custom schema names, `2-…` ids, fully qualified names).
pub fn family(object_type: &str) -> &'static str {
    match object_type.to_ascii_lowercase().as_str() {
        "contacts" | "contact" | "0-1" => "contacts",
        "companies" | "company" | "0-2" => "companies",
        "deals" | "deal" | "0-3" => "deals",
        _ => "custom",
    }
}

/// Whether a call only reads: `GET`, or a `POST` to a batch read or a search.
fn is_read(method: &Method, template: &str) -> bool {
    *method == Method::GET
        || *method == Method::HEAD
        || template.ends_with("/batch/read")
        || template.ends_with("/search")
}

/// The path segment standing where `template` has `{objectType}` or `{fromObjectType}`.
fn object_type_segment<'a>(template: &str, path: &'a str) -> Option<&'a str> {
    let at = template
        .split('/')
        .position(|s| s == "{objectType}" || s == "{fromObjectType}")?;
    path.split('/').nth(at)
}

/// Scopes any one of which allows the call (empty: none needed), from the method, the route
/// template (`/crm/v3/objects/{objectType}/{objectId}`) and the concrete path.
pub fn required(method: &Method, template: &str, path: &str) -> Vec<String> {
    let read = is_read(method, template);
    let rw = if read { "read" } else { "write" };
    if template.starts_with("/crm-object-schemas/") || template.starts_with("/crm/v3/schemas") {
        return vec![format!("crm.schemas.custom.{rw}")];
    }
    if template.contains("/timeline/") {
        let objects = ["contacts", "companies", "deals"];
        let mut any: Vec<String> = vec!["timeline".into()];
        any.extend(objects.iter().map(|o| format!("crm.objects.{o}.{rw}")));
        any.push("tickets".into());
        return any;
    }
    let Some(family) = object_type_segment(template, path).map(family) else {
        return Vec::new();
    };
    let is_properties =
        template.starts_with("/crm/v3/properties/") || template.starts_with("/crm/properties/");
    match (is_properties, read) {
        (true, true) => vec![
            format!("crm.objects.{family}.read"),
            format!("crm.schemas.{family}.read"),
        ],
        (true, false) => vec![format!("crm.schemas.{family}.write")],
        (false, _) => vec![format!("crm.objects.{family}.{rw}")],
    }
}

/// Refuses an OAuth caller that holds none of the scopes the request needs (while the knob
/// `enforce_scopes` is on). `parts` must come from a matched route.
pub fn authorize(sim: &Simulator, caller: &Caller, parts: &Parts) -> Result<(), HubspotError> {
    if caller.app_id.is_none() || !sim.inner.oauth.knobs().enforce_scopes {
        return Ok(());
    }
    let template = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| parts.uri.path(), |m| m.as_str());
    let any_of = required(&parts.method, template, parts.uri.path());
    if any_of.is_empty() || any_of.iter().any(|s| caller.has_scope(s)) {
        return Ok(());
    }
    let names: Vec<&str> = any_of.iter().map(String::as_str).collect();
    Err(HubspotError::missing_scopes(&names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, template: &str, path: &str) -> Vec<String> {
        required(&method, template, path)
    }

    #[test]
    fn objects_need_the_read_or_write_scope_of_their_family() {
        let t = "/crm/v3/objects/{objectType}/{objectId}";
        assert_eq!(
            req(Method::GET, t, "/crm/v3/objects/contacts/1"),
            ["crm.objects.contacts.read"]
        );
        assert_eq!(
            req(Method::PATCH, t, "/crm/v3/objects/0-2/1"),
            ["crm.objects.companies.write"]
        );
        assert_eq!(
            req(
                Method::POST,
                "/crm/objects/2026-03/{objectType}/batch/read",
                "/crm/objects/2026-03/deals/batch/read"
            ),
            ["crm.objects.deals.read"]
        );
        assert_eq!(
            req(
                Method::POST,
                "/crm/v3/objects/{objectType}/search",
                "/crm/v3/objects/p62515_cars/search"
            ),
            ["crm.objects.custom.read"]
        );
        assert_eq!(
            req(
                Method::POST,
                "/crm/v3/objects/{objectType}/batch/upsert",
                "/crm/v3/objects/contacts/batch/upsert"
            ),
            ["crm.objects.contacts.write"]
        );
        assert_eq!(
            req(
                Method::GET,
                "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/{toObjectType}",
                "/crm/v4/objects/companies/5/associations/contacts"
            ),
            ["crm.objects.companies.read"]
        );
    }

    #[test]
    fn properties_schemas_and_timeline_have_their_own_scopes() {
        let t = "/crm/v3/properties/{objectType}/{propertyName}";
        assert_eq!(
            req(Method::GET, t, "/crm/v3/properties/contacts/email"),
            ["crm.objects.contacts.read", "crm.schemas.contacts.read"]
        );
        assert_eq!(
            req(Method::DELETE, t, "/crm/v3/properties/deals/x"),
            ["crm.schemas.deals.write"]
        );
        assert_eq!(
            req(
                Method::GET,
                "/crm-object-schemas/v3/schemas",
                "/crm-object-schemas/v3/schemas"
            ),
            ["crm.schemas.custom.read"]
        );
        assert_eq!(
            req(
                Method::POST,
                "/crm/v3/schemas/{objectType}/associations",
                "/crm/v3/schemas/cars/associations"
            ),
            ["crm.schemas.custom.write"]
        );
        let tl = req(
            Method::POST,
            "/integrators/timeline/v3/events",
            "/integrators/timeline/v3/events",
        );
        assert_eq!(tl[0], "timeline");
        assert!(tl.contains(&"crm.objects.contacts.write".to_string()));
    }

    #[test]
    fn every_checked_scope_is_in_the_default_grant() {
        let families = ["contacts", "companies", "deals", "custom"];
        for f in families {
            for rw in ["read", "write"] {
                for kind in ["objects", "schemas"] {
                    let scope = format!("crm.{kind}.{f}.{rw}");
                    assert!(ALL.contains(&scope.as_str()), "{scope}");
                }
            }
        }
        assert!(ALL.contains(&"timeline"));
    }
}
