//! Properties and property groups (`docs/hubspot-api.md` §5).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Api, ApiResult, Inputs, Query, batch_error, batch_response, json_response, no_content,
    parse_body, resolve_type,
};
use crate::hubspot::Simulator;
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::defs::{Group, OptionDef, PropertyDef, valid_pair};
use crate::hubspot::store::{TypeData, now_ms};

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    let t = format!("{prefix}/{{objectType}}");
    Router::new()
        .route(&t, get(list).post(create))
        .route(
            &format!("{t}/{{propertyName}}"),
            get(get_one).patch(update).delete(archive),
        )
        .route(&format!("{t}/batch/create"), post(batch_create))
        .route(&format!("{t}/batch/read"), post(batch_read))
        .route(&format!("{t}/batch/archive"), post(batch_archive))
        .route(&format!("{t}/groups"), get(list_groups).post(create_group))
        .route(
            &format!("{t}/groups/{{groupName}}"),
            get(get_group).patch(update_group).delete(archive_group),
        )
}

/// An option as sent by clients.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionInput {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
    /// Hidden.
    #[serde(default)]
    pub hidden: bool,
    /// Order.
    #[serde(default)]
    pub display_order: Option<i64>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A property create or update body (every field optional here; create checks required ones).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct PropertyInput {
    /// Name.
    pub name: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Field type.
    pub field_type: Option<String>,
    /// Group.
    pub group_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Display order.
    pub display_order: Option<i64>,
    /// Options.
    pub options: Option<Vec<OptionInput>>,
    /// Unique values.
    pub has_unique_value: Option<bool>,
    /// Hidden.
    pub hidden: Option<bool>,
    /// Form field.
    pub form_field: Option<bool>,
    /// Calculation formula.
    pub calculation_formula: Option<String>,
    /// Data sensitivity.
    pub data_sensitivity: Option<String>,
}

fn options(list: &[OptionInput]) -> Vec<OptionDef> {
    list.iter()
        .enumerate()
        .map(|(i, o)| OptionDef {
            label: o.label.clone(),
            value: o.value.clone(),
            display_order: o.display_order.unwrap_or(i as i64),
            hidden: o.hidden,
            description: o.description.clone(),
        })
        .collect()
}

fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Builds a new property definition from a create body, checking required fields, the name,
/// the type/fieldType pair and the group.
pub fn build(td: &TypeData, input: &PropertyInput, now: i64) -> Result<PropertyDef, HubspotError> {
    let req = |v: &Option<String>, f: &str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| HubspotError::validation(format!("{f} is required")))
    };
    let name = req(&input.name, "name")?;
    let label = req(&input.label, "label")?;
    let type_ = req(&input.type_, "type")?;
    let field_type = req(&input.field_type, "fieldType")?;
    let group = req(&input.group_name, "groupName")?;
    if !valid_name(&name) {
        return Err(HubspotError::validation(format!(
            "Property name '{name}' is invalid: use lower-case letters, digits and underscores, starting with a letter"
        )));
    }
    if matches!(type_.as_str(), "object_coordinates" | "json") {
        return Err(HubspotError::validation(format!(
            "Properties of type {type_} cannot be created"
        )));
    }
    if !valid_pair(&type_, &field_type) {
        return Err(HubspotError::validation(format!(
            "Invalid combination of type \"{type_}\" and fieldType \"{field_type}\""
        )));
    }
    if td.groups.get(&group).is_none_or(|g| g.archived) {
        return Err(HubspotError::validation(format!(
            "Property group '{group}' does not exist"
        )));
    }
    if td.prop(&name).is_some() {
        return Err(already_exists(&name));
    }
    let mut d = PropertyDef::new(&name, &label, &type_, &field_type, &group);
    d.description = input.description.clone().unwrap_or_default();
    d.display_order = input.display_order.unwrap_or(-1);
    d.options = input.options.as_deref().map(options).unwrap_or_default();
    d.has_unique_value = input.has_unique_value.unwrap_or(false);
    d.hidden = input.hidden.unwrap_or(false);
    d.form_field = input.form_field.unwrap_or(true);
    d.calculation_formula = input.calculation_formula.clone();
    d.calculated = field_type == "calculation_equation";
    d.read_only_value = d.calculated;
    d.data_sensitivity = input.data_sensitivity.clone();
    d.created_ms = now;
    d.updated_ms = now;
    Ok(d)
}

fn already_exists(name: &str) -> HubspotError {
    HubspotError::new(
        StatusCode::CONFLICT,
        "OBJECT_ALREADY_EXISTS",
        format!("Property named '{name}' already exists."),
    )
}

fn not_found(name: &str) -> HubspotError {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Property {name} does not exist"),
    )
}

/// Adds a built property to a type (with its unique index when `hasUniqueValue`).
pub fn insert(td: &mut TypeData, d: PropertyDef) {
    let name = d.name.clone();
    let unique = d.has_unique_value;
    td.props.insert(name.clone(), d);
    if unique {
        td.add_unique_index(&name);
    }
}

/// Runs `f` on the definitions of the object type named `t` in the caller's portal.
fn read_type<R>(
    api: &Api,
    t: &str,
    f: impl FnOnce(&TypeData) -> Result<R, HubspotError>,
) -> Result<R, HubspotError> {
    api.read(|data| {
        let type_id = resolve_type(data, t)?;
        f(data.type_data(&type_id).ok_or_else(|| not_found(t))?)
    })
}

/// Runs `f` on the definitions of the object type named `t` in a write transaction, with the
/// transaction's time.
fn write_type<R>(
    api: &Api,
    t: &str,
    f: impl FnOnce(&mut TypeData, i64) -> Result<R, HubspotError>,
) -> Result<R, HubspotError> {
    api.write(|tx| {
        let type_id = resolve_type(tx.data, t)?;
        let now = tx.now;
        f(
            tx.data
                .types
                .get_mut(&type_id)
                .ok_or_else(|| not_found(t))?,
            now,
        )
    })
}

async fn list(api: Api, Path(t): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let archived = q.flag("archived");
    let wanted = q.list("properties");
    let r = read_type(&api, &t, |td| {
        let results: Vec<Value> = td
            .props
            .values()
            .filter(|p| p.archived == archived)
            .filter(|p| wanted.is_empty() || wanted.contains(&p.name))
            .map(PropertyDef::to_json)
            .collect();
        Ok(json_response(StatusCode::OK, json!({"results": results})))
    });
    api.done(r)
}

async fn get_one(
    api: Api,
    Path((t, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let archived = Query::parse(raw.as_deref()).flag("archived");
    let r = read_type(&api, &t, |td| {
        let p = td
            .props
            .get(&name)
            .filter(|p| p.archived == archived)
            .ok_or_else(|| not_found(&name))?;
        Ok(json_response(StatusCode::OK, p.to_json()))
    });
    api.done(r)
}

async fn create(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let input: PropertyInput = parse_body(&body)?;
        write_type(&api, &t, |td, now| {
            let d = build(td, &input, now)?;
            let out = d.to_json();
            insert(td, d);
            Ok(json_response(StatusCode::CREATED, out))
        })
    })();
    api.done(r)
}

async fn update(api: Api, Path((t, name)): Path<(String, String)>, body: Bytes) -> Response {
    let r = (|| {
        let input: PropertyInput = parse_body(&body)?;
        write_type(&api, &t, |td, now| {
            let group_ok = |g: &str| td.groups.get(g).is_some_and(|g| !g.archived);
            if let Some(g) = &input.group_name
                && !group_ok(g)
            {
                return Err(HubspotError::validation(format!(
                    "Property group '{g}' does not exist"
                )));
            }
            let p = td
                .props
                .get_mut(&name)
                .filter(|p| !p.archived)
                .ok_or_else(|| not_found(&name))?;
            if p.read_only_definition {
                return Err(HubspotError::validation(format!(
                    "Property {name} is a HubSpot-defined property with a read-only definition"
                )));
            }
            if input
                .has_unique_value
                .is_some_and(|u| u != p.has_unique_value)
            {
                return Err(HubspotError::validation(
                    "hasUniqueValue cannot be changed after a property is created",
                ));
            }
            let type_ = input.type_.clone().unwrap_or_else(|| p.type_.clone());
            let field_type = input
                .field_type
                .clone()
                .unwrap_or_else(|| p.field_type.clone());
            if !valid_pair(&type_, &field_type) {
                return Err(HubspotError::validation(format!(
                    "Invalid combination of type \"{type_}\" and fieldType \"{field_type}\""
                )));
            }
            p.type_ = type_;
            p.field_type = field_type;
            if let Some(v) = &input.label {
                p.label = v.clone();
            }
            if let Some(v) = &input.group_name {
                p.group_name = v.clone();
            }
            if let Some(v) = &input.description {
                p.description = v.clone();
            }
            if let Some(v) = input.display_order {
                p.display_order = v;
            }
            if let Some(v) = &input.options {
                p.options = options(v);
            }
            if let Some(v) = input.hidden {
                p.hidden = v;
            }
            if let Some(v) = input.form_field {
                p.form_field = v;
            }
            if let Some(v) = &input.calculation_formula {
                p.calculation_formula = Some(v.clone());
            }
            p.updated_ms = now;
            Ok(json_response(StatusCode::OK, p.to_json()))
        })
    })();
    api.done(r)
}

fn archive_in(td: &mut TypeData, name: &str, now: i64) -> Result<bool, HubspotError> {
    let Some(p) = td.props.get_mut(name).filter(|p| !p.archived) else {
        return Ok(false);
    };
    if !p.archivable {
        return Err(HubspotError::validation(format!(
            "Property {name} is HubSpot-defined and cannot be archived"
        )));
    }
    p.archived = true;
    p.archived_ms = Some(now);
    p.updated_ms = now;
    Ok(true)
}

async fn archive(api: Api, Path((t, name)): Path<(String, String)>) -> Response {
    let r = write_type(&api, &t, |td, now| {
        if !archive_in(td, &name, now)? {
            return Err(not_found(&name));
        }
        Ok(no_content())
    });
    api.done(r)
}

async fn batch_create(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| {
        let b: Inputs<PropertyInput> = parse_body(&body)?;
        write_type(&api, &t, |td, now| {
            let (mut results, mut errors) = (Vec::new(), Vec::new());
            for i in &b.inputs {
                match build(td, i, now) {
                    Ok(d) => {
                        results.push(d.to_json());
                        insert(td, d);
                    }
                    Err(e) => errors.push(batch_error(
                        e.body["category"].as_str().unwrap_or("VALIDATION_ERROR"),
                        e.body["message"].as_str().unwrap_or_default(),
                        json!({"name": [i.name.clone().unwrap_or_default()]}),
                    )),
                }
            }
            Ok(batch_response(
                StatusCode::CREATED,
                results,
                errors,
                started,
            ))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize)]
struct NameInput {
    name: String,
}

#[derive(Debug, Deserialize)]
struct BatchReadBody {
    inputs: Vec<NameInput>,
    #[serde(default)]
    archived: bool,
}

async fn batch_read(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| -> ApiResult {
        let b: BatchReadBody = parse_body(&body)?;
        read_type(&api, &t, |td| {
            let (mut results, mut errors) = (Vec::new(), Vec::new());
            for i in &b.inputs {
                match td.props.get(&i.name).filter(|p| p.archived == b.archived) {
                    Some(p) => results.push(p.to_json()),
                    None => errors.push(batch_error(
                        "OBJECT_NOT_FOUND",
                        &format!("Property {} does not exist", i.name),
                        json!({"name": [i.name]}),
                    )),
                }
            }
            Ok(batch_response(StatusCode::OK, results, errors, started))
        })
    })();
    api.done(r)
}

async fn batch_archive(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let b: Inputs<NameInput> = parse_body(&body)?;
        write_type(&api, &t, |td, now| {
            for i in &b.inputs {
                // 204 even for unknown names; HubSpot-defined ones stay.
                let _ = archive_in(td, &i.name, now);
            }
            Ok(no_content())
        })
    })();
    api.done(r)
}

fn group_not_found(name: &str) -> HubspotError {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Property group {name} does not exist"),
    )
}

async fn list_groups(api: Api, Path(t): Path<String>) -> Response {
    let r = read_type(&api, &t, |td| {
        let results: Vec<Value> = td
            .groups
            .values()
            .filter(|g| !g.archived)
            .map(Group::to_json)
            .collect();
        Ok(json_response(StatusCode::OK, json!({"results": results})))
    });
    api.done(r)
}

async fn get_group(api: Api, Path((t, name)): Path<(String, String)>) -> Response {
    let r = read_type(&api, &t, |td| {
        let g = td
            .groups
            .get(&name)
            .filter(|g| !g.archived)
            .ok_or_else(|| group_not_found(&name))?;
        Ok(json_response(StatusCode::OK, g.to_json()))
    });
    api.done(r)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GroupInput {
    name: Option<String>,
    label: Option<String>,
    display_order: Option<i64>,
}

async fn create_group(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let g: GroupInput = parse_body(&body)?;
        let name = g
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| HubspotError::validation("name is required"))?;
        let label = g
            .label
            .filter(|n| !n.is_empty())
            .ok_or_else(|| HubspotError::validation("label is required"))?;
        if !valid_name(&name) {
            return Err(HubspotError::validation(format!(
                "Property group name '{name}' is invalid"
            )));
        }
        write_type(&api, &t, |td, _| {
            if td.groups.get(&name).is_some_and(|g| !g.archived) {
                return Err(HubspotError::new(
                    StatusCode::CONFLICT,
                    "OBJECT_ALREADY_EXISTS",
                    format!("Property group named '{name}' already exists."),
                ));
            }
            let group = Group {
                name: name.clone(),
                label,
                display_order: g.display_order.unwrap_or(-1),
                archived: false,
            };
            let out = group.to_json();
            td.groups.insert(name, group);
            Ok(json_response(StatusCode::CREATED, out))
        })
    })();
    api.done(r)
}

async fn update_group(api: Api, Path((t, name)): Path<(String, String)>, body: Bytes) -> Response {
    let r = (|| {
        let g: GroupInput = parse_body(&body)?;
        write_type(&api, &t, |td, _| {
            let group = td
                .groups
                .get_mut(&name)
                .filter(|g| !g.archived)
                .ok_or_else(|| group_not_found(&name))?;
            if let Some(l) = g.label {
                group.label = l;
            }
            if let Some(o) = g.display_order {
                group.display_order = o;
            }
            Ok(json_response(StatusCode::OK, group.to_json()))
        })
    })();
    api.done(r)
}

async fn archive_group(api: Api, Path((t, name)): Path<(String, String)>) -> Response {
    let r = write_type(&api, &t, |td, _| {
        let group = td
            .groups
            .get_mut(&name)
            .filter(|g| !g.archived)
            .ok_or_else(|| group_not_found(&name))?;
        group.archived = true;
        Ok(no_content())
    });
    api.done(r)
}
