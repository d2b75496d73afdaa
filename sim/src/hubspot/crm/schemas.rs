//! Custom object schemas (`docs/hubspot-api.md` §7), served at `/crm-object-schemas/v3/schemas`
//! and the older alias `/crm/v3/schemas`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::properties::{PropertyInput, build};
use super::{Api, json_response, no_content, parse_body};
use crate::hubspot::Simulator;
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::defs::{PropertyDef, info_group};
use crate::hubspot::store::{COMPANIES, CONTACTS, DEALS, PortalData, Schema, Tx, TypeData, iso};

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    Router::new()
        .route(prefix, get(list).post(create))
        .route(
            &format!("{prefix}/{{objectType}}"),
            get(get_one).patch(update).delete(delete),
        )
        .route(
            &format!("{prefix}/{{objectType}}/associations"),
            post(add_association),
        )
}

/// A schema create body.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct SchemaInput {
    /// Name (e.g. `cars`).
    pub name: Option<String>,
    /// `{singular, plural}`.
    pub labels: Option<Value>,
    /// Primary display property.
    pub primary_display_property: Option<String>,
    /// Required on create.
    pub required_properties: Vec<String>,
    /// Searchable.
    pub searchable_properties: Vec<String>,
    /// Secondary display.
    pub secondary_display_properties: Vec<String>,
    /// Properties.
    pub properties: Vec<PropertyInput>,
    /// Associated object types (`CONTACT`, `0-1`, `p123_cars`, …).
    pub associated_objects: Vec<String>,
}

fn not_found(name: &str) -> HubspotError {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Unable to find object type {name}"),
    )
}

fn resolve_associated(data: &PortalData, name: &str) -> Option<String> {
    match name.to_uppercase().as_str() {
        "CONTACT" => Some(CONTACTS.into()),
        "COMPANY" => Some(COMPANIES.into()),
        "DEAL" => Some(DEALS.into()),
        _ => data.resolve_type(name),
    }
}

/// Renders a schema as `ObjectSchema`.
pub fn render(data: &PortalData, s: &Schema) -> Value {
    let props: Vec<Value> = data
        .type_data(&s.object_type_id)
        .map(|td| {
            td.props
                .values()
                .filter(|p| !p.archived)
                .map(PropertyDef::to_json)
                .collect()
        })
        .unwrap_or_default();
    let assocs: Vec<Value> = data
        .assoc_defs
        .iter()
        .filter(|d| d.from == s.object_type_id && d.category == "HUBSPOT_DEFINED")
        .map(|d| {
            json!({"id": d.type_id.to_string(), "fromObjectTypeId": d.from, "toObjectTypeId": d.to,
                "name": d.webhook_name, "createdAt": iso(s.created_ms), "updatedAt": iso(s.updated_ms)})
        })
        .collect();
    json!({
        "id": s.id.to_string(),
        "objectTypeId": s.object_type_id,
        "name": s.name,
        "fullyQualifiedName": format!("p{}_{}", data.portal_id, s.name),
        "labels": s.labels,
        "primaryDisplayProperty": s.primary_display_property,
        "requiredProperties": s.required_properties,
        "searchableProperties": s.searchable_properties,
        "secondaryDisplayProperties": s.secondary_display_properties,
        "properties": props,
        "associations": assocs,
        "metaType": "PORTAL_SPECIFIC",
        "portalId": data.portal_id,
        "createdAt": iso(s.created_ms),
        "updatedAt": iso(s.updated_ms),
        "archived": s.archived,
    })
}

/// Validates a schema body and registers the custom object type. Returns its type id.
pub fn create_in(tx: &mut Tx<'_>, input: &SchemaInput) -> Result<String, HubspotError> {
    let name = input
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| HubspotError::validation("name is required"))?;
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(HubspotError::validation(format!(
            "Object type name '{name}' is invalid"
        )));
    }
    let labels = input
        .labels
        .clone()
        .filter(|l| l.get("singular").is_some() && l.get("plural").is_some());
    let labels = labels.ok_or_else(|| {
        HubspotError::validation("labels.singular and labels.plural are required")
    })?;
    if tx.data.resolve_type(&name).is_some() {
        return Err(HubspotError::new(
            StatusCode::CONFLICT,
            "OBJECT_ALREADY_EXISTS",
            format!("An object type with name '{name}' already exists"),
        ));
    }
    // Build the properties against a scratch type with the default groups.
    let scratch = TypeData::default();
    let mut scratch = scratch;
    for g in crate::hubspot::store::defs::default_groups("2-0") {
        scratch.groups.insert(g.name.clone(), g);
    }
    let mut props = Vec::new();
    for p in &input.properties {
        let mut p = p.clone();
        if p.group_name.is_none() {
            p.group_name = Some(info_group("2-0").to_string());
        }
        let d = build(&scratch, &p, tx.now)?;
        scratch.props.insert(d.name.clone(), d.clone());
        props.push(d);
    }
    let defined = |n: &String| props.iter().any(|p| &p.name == n);
    for r in input
        .required_properties
        .iter()
        .chain(input.searchable_properties.iter())
    {
        if !defined(r) {
            return Err(HubspotError::validation(format!(
                "Property '{r}' is not defined in properties"
            )));
        }
    }
    if let Some(p) = &input.primary_display_property
        && !defined(p)
    {
        return Err(HubspotError::validation(format!(
            "primaryDisplayProperty '{p}' is not defined in properties"
        )));
    }
    let mut associated = Vec::new();
    for a in &input.associated_objects {
        associated.push(resolve_associated(tx.data, a).ok_or_else(|| {
            HubspotError::validation(format!("Unknown associated object type {a}"))
        })?);
    }
    let schema = Schema {
        id: 0,
        object_type_id: String::new(),
        name,
        labels,
        primary_display_property: input.primary_display_property.clone(),
        required_properties: input.required_properties.clone(),
        searchable_properties: input.searchable_properties.clone(),
        secondary_display_properties: input.secondary_display_properties.clone(),
        created_ms: tx.now,
        updated_ms: tx.now,
        archived: false,
    };
    Ok(tx.add_schema(schema, props, &associated))
}

async fn list(api: Api) -> Response {
    let r = api.read(|data| {
        let results: Vec<Value> = data
            .schemas
            .values()
            .filter(|s| !s.archived)
            .map(|s| render(data, s))
            .collect();
        Ok(json_response(StatusCode::OK, json!({"results": results})))
    });
    api.done(r)
}

async fn get_one(api: Api, Path(t): Path<String>) -> Response {
    let r = api.read(|data| {
        let s = data
            .resolve_type(&t)
            .and_then(|id| data.schema(&id))
            .ok_or_else(|| not_found(&t))?;
        Ok(json_response(StatusCode::OK, render(data, s)))
    });
    api.done(r)
}

async fn create(api: Api, body: Bytes) -> Response {
    let r = (|| {
        let input: SchemaInput = parse_body(&body)?;
        api.write(|tx| {
            let id = create_in(tx, &input)?;
            let s = tx.data.schema(&id).ok_or_else(|| not_found(&id))?;
            Ok(json_response(StatusCode::CREATED, render(tx.data, s)))
        })
    })();
    api.done(r)
}

async fn update(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let input: Value = parse_body(&body)?;
        api.write(|tx| {
            let id = tx
                .data
                .resolve_type(&t)
                .filter(|i| i.starts_with("2-"))
                .ok_or_else(|| not_found(&t))?;
            let defined: Vec<String> = tx
                .data
                .type_data(&id)
                .map(|td| td.props.keys().cloned().collect())
                .unwrap_or_default();
            let now = tx.now;
            let s = tx.data.schemas.get_mut(&id).ok_or_else(|| not_found(&t))?;
            let strings = |v: &Value| -> Result<Vec<String>, HubspotError> {
                let list: Vec<String> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                match list.iter().find(|n| !defined.contains(n)) {
                    Some(bad) => Err(HubspotError::validation(format!(
                        "Property '{bad}' is not defined"
                    ))),
                    None => Ok(list),
                }
            };
            if let Some(l) = input.get("labels") {
                s.labels = l.clone();
            }
            if let Some(v) = input.get("requiredProperties") {
                s.required_properties = strings(v)?;
            }
            if let Some(v) = input.get("searchableProperties") {
                s.searchable_properties = strings(v)?;
            }
            if let Some(v) = input.get("secondaryDisplayProperties") {
                s.secondary_display_properties = strings(v)?;
            }
            if let Some(v) = input.get("primaryDisplayProperty").and_then(Value::as_str) {
                if !defined.iter().any(|d| d == v) {
                    return Err(HubspotError::validation(format!(
                        "Property '{v}' is not defined"
                    )));
                }
                s.primary_display_property = Some(v.to_string());
            }
            s.updated_ms = now;
            let s = tx.data.schema(&id).ok_or_else(|| not_found(&t))?;
            Ok(json_response(StatusCode::OK, render(tx.data, s)))
        })
    })();
    api.done(r)
}

async fn delete(api: Api, Path(t): Path<String>) -> Response {
    let r = api.write(|tx| {
        let id = tx
            .data
            .resolve_type(&t)
            .filter(|i| i.starts_with("2-"))
            .ok_or_else(|| not_found(&t))?;
        let live = tx
            .data
            .type_data(&id)
            .map_or(0, |td| td.objects.values().filter(|o| !o.archived).count());
        if live > 0 {
            return Err(HubspotError::validation(format!(
                "Object type {t} still has {live} records; delete them before deleting the schema"
            )));
        }
        let now = tx.now;
        if let Some(s) = tx.data.schemas.get_mut(&id) {
            s.archived = true;
            s.updated_ms = now;
        }
        Ok(no_content())
    });
    api.done(r)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssocInput {
    from_object_type_id: String,
    to_object_type_id: String,
    #[serde(default)]
    name: Option<String>,
}

async fn add_association(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let b: AssocInput = parse_body(&body)?;
        api.write(|tx| {
            let id = tx.data.resolve_type(&t).filter(|i| i.starts_with("2-")).ok_or_else(|| not_found(&t))?;
            let from = resolve_associated(tx.data, &b.from_object_type_id).ok_or_else(|| not_found(&b.from_object_type_id))?;
            let to = resolve_associated(tx.data, &b.to_object_type_id).ok_or_else(|| not_found(&b.to_object_type_id))?;
            if from != id && to != id {
                return Err(HubspotError::validation("One side of the association must be this object type"));
            }
            let (custom, other) = if from == id { (from.clone(), to.clone()) } else { (to.clone(), from.clone()) };
            let name = tx.data.schema(&custom).map(|s| s.name.clone()).unwrap_or_default();
            tx.add_custom_assoc(&custom, &name, &other);
            let d = tx.data.default_assoc(&from, &to).ok_or_else(|| not_found(&to))?;
            let out = json!({"id": d.type_id.to_string(), "fromObjectTypeId": from, "toObjectTypeId": to,
                "name": b.name.clone().unwrap_or_else(|| d.webhook_name.clone())});
            Ok(json_response(StatusCode::OK, out))
        })
    })();
    api.done(r)
}
