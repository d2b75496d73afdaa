//! Object mappings of an integration (which HubSpot object type syncs with which Userflow
//! object type, how records match, which fields go which way, which events stream):
//!
//! | route | answers |
//! |---|---|
//! | `GET /integrations/{id}/mappings` | `{"mappings":[…]}`, oldest first |
//! | `POST /integrations/{id}/mappings[?validate_only=true]` | 201, the mapping (200 `{valid, mapping}` when only validating) |
//! | `POST /integrations/{id}/mappings/validate` | 200 `{valid: true, mapping}` or 422 |
//! | `GET /integrations/{id}/mappings/{mapping_id}` | the mapping |
//! | `PUT /integrations/{id}/mappings/{mapping_id}[?validate_only=true]` | the mapping |
//! | `DELETE /integrations/{id}/mappings/{mapping_id}` | 204 |
//!
//! A save is checked against the live schemas (HubSpot with the integration's token,
//! Userflow with its API key): the object type, the match property, every property and
//! association path, and every field's types. Every problem is listed in one 422
//! `invalid_mapping` answer (`problems: [...]`). Userflow → HubSpot fields always land in
//! the `userflow_<object>_<attribute>` property hubsync creates; such a field needs a `type`
//! when its Userflow attribute does not exist yet (Userflow learns attributes from data, so
//! hubsync cannot know the type otherwise). A HubSpot → Userflow field whose Userflow
//! attribute does not exist yet takes the HubSpot property's type. A Userflow attribute is
//! mapped in one direction only.
//!
//! After a save the integration's schema setup is marked pending, an `ensure-schema` job is
//! queued, and the app's webhook subscriptions are reconciled (failures go into the setup
//! status shown by `GET /integrations/{id}/status`, not into this answer).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hubsync_core::jobs::{EnsureSchema, Job, UserflowKind};
use hubsync_core::mapping::naming::attribute_property;
use hubsync_core::mapping::types::{self as field_types, FieldType, HubspotSide, UserflowSide};
use hubsync_entities::prelude::{EventStreamsEntity, FieldMappingsEntity, ObjectMappingsEntity};
use hubsync_entities::{
    EventStreamMode, FieldDataType, StringList, SyncDirection, UserflowMatchAttribute,
    UserflowObjectType, event_streams, field_mappings, integrations, object_mappings,
};
use hubsync_sync::schema::{HubspotSchema, PropertyInfo, userflow_attributes};
use hubsync_sync::{SyncError, Tenant, app_webhooks, schema_setup};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code, ErrorBody};
use crate::json::ApiJson;
use crate::openapi::string_enum;
use crate::query::{Params, bad};
use crate::routes::operator::lookup;

/// Most fields one direction of a mapping may hold.
const MAX_FIELDS: usize = 200;
/// Most selected events.
const MAX_EVENTS: usize = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations/{id}/mappings", get(list).post(create))
        .route("/integrations/{id}/mappings/validate", post(validate))
        .route(
            "/integrations/{id}/mappings/{mapping_id}",
            get(show).put(replace).delete(remove),
        )
}

/// The mapping routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(list, create, validate, show, replace, remove),
    tags((name = "mappings", description = "Object mappings of an integration: which HubSpot \
        object type syncs with which Userflow object type, how records match, which fields go \
        which way and which events stream. Saves are checked against the live schemas."))
)]
pub(crate) struct Api;

// ---- request shapes ----

/// An object mapping to save or validate. Every problem with it (missing parts, unknown
/// properties or attributes, type mismatches) is listed in one 422 `invalid_mapping` answer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingBody {
    /// `contacts`, `companies`, `deals`, or a custom object's type id or name; answered with
    /// HubSpot's canonical name. One mapping per HubSpot object type.
    #[schema(value_type = String, example = "contacts")]
    hubspot_object_type: Option<String>,
    #[schema(schema_with = object_type_schema, required = true)]
    userflow_object_type: Option<String>,
    /// How a HubSpot record and a Userflow object are paired.
    #[serde(rename = "match")]
    #[schema(value_type = MatchBody)]
    match_: Option<MatchBody>,
    /// Fields copied from HubSpot to Userflow.
    #[serde(default)]
    fields_to_userflow: Vec<ToUserflowBody>,
    /// Userflow attributes copied to HubSpot (into the `userflow_<object>_<attribute>`
    /// property hubsync creates).
    #[serde(default)]
    fields_to_hubspot: Vec<ToHubspotBody>,
    /// Which Userflow events go to HubSpot's timeline; none when absent.
    events: Option<EventsBody>,
    /// Whether the mapping syncs (default `true`).
    enabled: Option<bool>,
}

/// How records pair: a HubSpot property equal to a Userflow attribute.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MappingMatchBody)]
struct MatchBody {
    /// A HubSpot property of the object type holding text or a number.
    #[schema(value_type = String, example = "email")]
    hubspot_property: Option<String>,
    #[schema(schema_with = match_attribute_schema, required = true)]
    userflow_attribute: Option<String>,
}

/// One field from HubSpot to Userflow.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FieldToUserflowBody)]
struct ToUserflowBody {
    /// A property of the object type, or `<associated object type>.<property>` (e.g.
    /// `companies.name`).
    hubspot: String,
    /// The Userflow attribute written.
    userflow: String,
    #[serde(rename = "type")]
    #[schema(schema_with = field_type_schema)]
    ty: Option<String>,
}

/// One attribute from Userflow to HubSpot.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FieldToHubspotBody)]
struct ToHubspotBody {
    /// The Userflow attribute read; mapped in one direction only.
    userflow: String,
    #[serde(rename = "type")]
    #[schema(schema_with = field_type_schema)]
    ty: Option<String>,
}

/// Which Userflow events are written to HubSpot's timeline.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MappingEventsBody)]
struct EventsBody {
    #[schema(schema_with = events_mode_schema)]
    mode: String,
    /// The event names, with mode `selected` only (at most 500).
    #[serde(default)]
    names: Vec<String>,
}

fn object_type_schema() -> Object {
    string_enum(
        UserflowObjectType::ALL.iter().map(|t| t.as_str()),
        "The Userflow object type: `user` or `group`.",
    )
}

fn match_attribute_schema() -> Object {
    string_enum(
        UserflowMatchAttribute::ALL.iter().map(|a| a.as_str()),
        "The Userflow side of the match: the user's `email`, or the `id` (groups match by id).",
    )
}

fn field_type_schema() -> Object {
    string_enum(
        FieldDataType::ALL.iter().map(|t| t.as_str()),
        "The field's type: must agree with the live schemas. Needed for a Userflow → HubSpot \
         field whose Userflow attribute does not exist yet; otherwise taken from the schemas.",
    )
}

fn field_type_view_schema() -> Object {
    string_enum(
        FieldDataType::ALL.iter().map(|t| t.as_str()),
        "The field's type: how values are converted.",
    )
}

fn events_mode_schema() -> Object {
    string_enum(
        EventStreamMode::ALL.iter().map(|m| m.as_str()),
        "`off` (no events), `all`, or `selected` (only `names`).",
    )
}

// ---- a checked mapping ----

/// A mapping that passed validation, with canonical names.
#[derive(Debug, Clone)]
struct Checked {
    hubspot_object_type: String,
    userflow_object_type: UserflowObjectType,
    match_property: String,
    match_attribute: UserflowMatchAttribute,
    /// `(source path, Userflow attribute, type)`.
    to_userflow: Vec<(String, String, FieldType)>,
    /// `(Userflow attribute, HubSpot property, type)`.
    to_hubspot: Vec<(String, String, FieldType)>,
    events_mode: EventStreamMode,
    event_names: Vec<String>,
    enabled: bool,
}

fn kind_of(t: UserflowObjectType) -> UserflowKind {
    match t {
        UserflowObjectType::User => UserflowKind::User,
        UserflowObjectType::Group => UserflowKind::Group,
    }
}

fn to_data_type(t: FieldType) -> FieldDataType {
    match t {
        FieldType::String => FieldDataType::String,
        FieldType::Number => FieldDataType::Number,
        FieldType::Boolean => FieldDataType::Boolean,
        FieldType::Datetime => FieldDataType::Datetime,
        FieldType::Date => FieldDataType::Date,
    }
}

/// Why a mapping was refused: every problem found.
#[derive(Debug)]
enum Refusal {
    Invalid(Vec<String>),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

/// The 422 answer: the error envelope with every problem found.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvalidMapping)]
struct InvalidBody {
    /// The problems joined; not stable, do not parse.
    message: String,
    #[schema(schema_with = invalid_code_schema)]
    code: &'static str,
    #[serde(rename = "type")]
    #[schema(schema_with = invalid_type_schema)]
    kind: &'static str,
    /// Every problem found, one sentence each.
    problems: Vec<String>,
}

fn invalid_code_schema() -> Object {
    string_enum(["invalid_mapping"], "Always `invalid_mapping`.")
}

fn invalid_type_schema() -> Object {
    string_enum(["invalid_request"], "Always `invalid_request`.")
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            Refusal::Invalid(problems) => {
                let message = format!("the mapping is not valid: {}", problems.join("; "));
                let body = InvalidBody {
                    message,
                    code: "invalid_mapping",
                    kind: "invalid_request",
                    problems,
                };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
        }
    }
}

/// A failed live read as an answer.
fn live_error(e: SyncError) -> ApiError {
    match e {
        SyncError::NotReady { reason, .. } => ApiError::new(
            Code::Conflict,
            format!("the integration cannot be validated yet: {reason}"),
        ),
        SyncError::AuthorizationExpired { reason, .. } => ApiError::new(
            Code::Conflict,
            format!("HubSpot authorization expired ({reason}): reconnect HubSpot"),
        ),
        SyncError::Hubspot(e) => {
            tracing::warn!(error = %e, "HubSpot schema read failed");
            ApiError::new(
                Code::Unavailable,
                format!("HubSpot's schema could not be read: {e}"),
            )
        }
        SyncError::Userflow(e) => {
            tracing::warn!(error = %e, "Userflow schema read failed");
            ApiError::new(
                Code::Unavailable,
                format!("Userflow's attributes could not be read: {e}"),
            )
        }
        SyncError::Settings(msg) => ApiError::new(Code::Conflict, msg),
        other => ApiError::internal(other),
    }
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_type(field: &str, raw: Option<&str>, problems: &mut Vec<String>) -> Option<FieldType> {
    let raw = raw?;
    let t = FieldType::parse(raw.trim());
    if t.is_none() {
        problems.push(format!(
            "field \"{field}\": type \"{raw}\" is not one of string, number, boolean, date, datetime"
        ));
    }
    t
}

/// Checks `body` against the live schemas of `tenant`; `except` is the mapping being replaced.
async fn check(
    tenant: &Tenant,
    body: &MappingBody,
    except: Option<Uuid>,
) -> Result<Checked, Refusal> {
    let mut problems: Vec<String> = Vec::new();

    // Shape first: what can be said without asking anyone.
    let userflow_object_type = match text(&body.userflow_object_type) {
        None => {
            problems.push("`userflow_object_type` is required (user or group)".into());
            None
        }
        Some(s) => match s.parse::<UserflowObjectType>() {
            Ok(t) => Some(t),
            Err(_) => {
                problems.push(format!(
                    "`userflow_object_type` \"{s}\" is not user or group"
                ));
                None
            }
        },
    };
    let match_body = body.match_.clone().unwrap_or(MatchBody {
        hubspot_property: None,
        userflow_attribute: None,
    });
    let match_property = text(&match_body.hubspot_property).map(str::to_owned);
    if match_property.is_none() {
        problems.push("`match.hubspot_property` is required".into());
    }
    let match_attribute = match text(&match_body.userflow_attribute) {
        None => {
            problems.push("`match.userflow_attribute` is required (email or id)".into());
            None
        }
        Some(s) => match s.parse::<UserflowMatchAttribute>() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push(format!(
                    "`match.userflow_attribute` \"{s}\" is not email or id"
                ));
                None
            }
        },
    };
    if userflow_object_type == Some(UserflowObjectType::Group)
        && match_attribute == Some(UserflowMatchAttribute::Email)
    {
        problems.push(
            "Userflow groups are matched by id (the id given to `userflow.group`), not by email"
                .into(),
        );
    }
    if body.fields_to_userflow.len() > MAX_FIELDS || body.fields_to_hubspot.len() > MAX_FIELDS {
        problems.push(format!("at most {MAX_FIELDS} fields per direction"));
    }
    let (events_mode, event_names) = match &body.events {
        None => (EventStreamMode::Off, Vec::new()),
        Some(e) => match e.mode.trim().parse::<EventStreamMode>() {
            Err(_) => {
                problems.push(format!(
                    "`events.mode` \"{}\" is not off, all or selected",
                    e.mode
                ));
                (EventStreamMode::Off, Vec::new())
            }
            Ok(mode) => {
                let mut names: Vec<String> = e
                    .names
                    .iter()
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect();
                names.sort();
                names.dedup();
                if mode == EventStreamMode::Selected && names.is_empty() {
                    problems.push(
                        "`events.names` must list at least one event when mode is selected".into(),
                    );
                }
                if mode != EventStreamMode::Selected && !names.is_empty() {
                    problems.push("`events.names` is only for mode selected".into());
                }
                if names.len() > MAX_EVENTS {
                    problems.push(format!("at most {MAX_EVENTS} events"));
                }
                (mode, names)
            }
        },
    };
    // One direction per Userflow attribute, each at most once.
    let mut incoming = BTreeSet::new();
    for f in &body.fields_to_userflow {
        if !incoming.insert(f.userflow.trim()) {
            problems.push(format!(
                "field \"{}\" is mapped from HubSpot more than once",
                f.userflow.trim()
            ));
        }
    }
    let mut outgoing = BTreeSet::new();
    for f in &body.fields_to_hubspot {
        let name = f.userflow.trim();
        if !outgoing.insert(name) {
            problems.push(format!(
                "field \"{name}\" is mapped to HubSpot more than once"
            ));
        }
        if incoming.contains(name) {
            problems.push(format!(
                "field \"{name}\" is mapped in both directions; a field syncs one way only"
            ));
        }
    }
    for f in &body.fields_to_userflow {
        if f.hubspot.trim().is_empty() || f.userflow.trim().is_empty() {
            problems.push("every `fields_to_userflow` entry needs `hubspot` and `userflow`".into());
        }
    }
    if body
        .fields_to_hubspot
        .iter()
        .any(|f| f.userflow.trim().is_empty())
    {
        problems.push("every `fields_to_hubspot` entry needs `userflow`".into());
    }

    let hubspot_type_raw = text(&body.hubspot_object_type).map(str::to_owned);
    if hubspot_type_raw.is_none() {
        problems.push("`hubspot_object_type` is required (contacts, companies, deals or a custom object type id)".into());
    }
    let (Some(uf_type), Some(hs_raw)) = (userflow_object_type, hubspot_type_raw) else {
        return Err(Refusal::Invalid(problems));
    };
    let kind = kind_of(uf_type);

    // Live schemas.
    let mut hs = HubspotSchema::new(tenant.hubspot().await.map_err(live_error)?);
    let uf_client = tenant.userflow().map_err(live_error)?;
    let uf_attrs = userflow_attributes(&uf_client, kind)
        .await
        .map_err(live_error)?;
    let Some(object_type) = hs.object_type(&hs_raw).await.map_err(live_error)? else {
        problems.push(format!("HubSpot has no object type \"{hs_raw}\""));
        return Err(Refusal::Invalid(problems));
    };
    // One mapping per HubSpot object type: webhooks route by type.
    let others = ObjectMappingsEntity::find()
        .filter(object_mappings::Column::IntegrationId.eq(tenant.id()))
        .filter(object_mappings::Column::HubspotObjectType.eq(object_type.clone()))
        .all(&tenant.ctx.db)
        .await
        .map_err(ApiError::internal)?;
    if others.iter().any(|o| Some(o.id) != except) {
        problems.push(format!(
            "the integration already maps HubSpot {object_type}; change that mapping instead"
        ));
    }
    let props = hs
        .properties(&object_type)
        .await
        .map_err(live_error)?
        .clone();

    if let Some(p) = &match_property {
        match props.get(p) {
            None => problems.push(format!(
                "match: HubSpot {object_type} have no property \"{p}\""
            )),
            Some(info) => {
                let t = field_types::hubspot_common_type(&info.kind, &info.field_type);
                if !matches!(t, Some(FieldType::String | FieldType::Number)) {
                    problems.push(format!(
                        "match: HubSpot property \"{p}\" is {}; a match property holds text or a number",
                        info.kind
                    ));
                }
            }
        }
    }

    let mut to_userflow = Vec::new();
    for f in &body.fields_to_userflow {
        let attr = f.userflow.trim();
        let path = f.hubspot.trim();
        if attr.is_empty() || path.is_empty() {
            continue;
        }
        let declared = parse_type(attr, f.ty.as_deref(), &mut problems);
        let resolved: Option<(String, PropertyInfo)> = match path.split_once('.') {
            None => match props.get(path) {
                Some(info) => Some((path.to_owned(), info.clone())),
                None => {
                    problems.push(format!(
                        "field \"{attr}\": HubSpot {object_type} have no property \"{path}\""
                    ));
                    None
                }
            },
            Some((assoc, prop)) => match hs.object_type(assoc).await.map_err(live_error)? {
                None => {
                    problems.push(format!(
                            "field \"{attr}\": association path \"{path}\": HubSpot has no object type \"{assoc}\""
                        ));
                    None
                }
                Some(assoc_type) => {
                    if !hs
                        .associated(&object_type, &assoc_type)
                        .await
                        .map_err(live_error)?
                    {
                        problems.push(format!(
                                "field \"{attr}\": association path \"{path}\": HubSpot {object_type} cannot be associated with {assoc_type}"
                            ));
                        None
                    } else {
                        match hs.property(&assoc_type, prop).await.map_err(live_error)? {
                            Some(info) => Some((format!("{assoc_type}.{prop}"), info)),
                            None => {
                                problems.push(format!(
                                        "field \"{attr}\": association path \"{path}\": HubSpot {assoc_type} have no property \"{prop}\""
                                    ));
                                None
                            }
                        }
                    }
                }
            },
        };
        let Some((source_path, info)) = resolved else {
            continue;
        };
        match field_types::check_field(
            attr,
            HubspotSide {
                name: path,
                kind: &info.kind,
                field_type: &info.field_type,
            },
            UserflowSide {
                name: attr,
                data_type: uf_attrs.get(attr).map(String::as_str),
            },
            declared,
        ) {
            Ok(t) => to_userflow.push((source_path, attr.to_owned(), t)),
            Err(message) => problems.push(message),
        }
    }

    let mut to_hubspot = Vec::new();
    for f in &body.fields_to_hubspot {
        let attr = f.userflow.trim();
        if attr.is_empty() {
            continue;
        }
        let declared = parse_type(attr, f.ty.as_deref(), &mut problems);
        if f.ty.is_some() && declared.is_none() {
            continue;
        }
        let t = match field_types::check_outgoing(
            attr,
            UserflowSide {
                name: attr,
                data_type: uf_attrs.get(attr).map(String::as_str),
            },
            declared,
        ) {
            Ok(t) => t,
            Err(message) => {
                problems.push(message);
                continue;
            }
        };
        let target = attribute_property(kind, attr);
        if let Some(existing) = props.get(&target)
            && !field_types::hubspot_property_holds(&existing.kind, &existing.field_type, t)
        {
            let (want_kind, _) = field_types::hubspot_property(t);
            problems.push(format!(
                "field \"{attr}\": HubSpot property \"{target}\" already exists as {} but the field is {} (HubSpot {want_kind})",
                existing.kind,
                field_types::name(t)
            ));
            continue;
        }
        to_hubspot.push((attr.to_owned(), target, t));
    }
    // Two attributes may fold into one property name (`planTier` and `plan_tier`).
    let mut targets = BTreeSet::new();
    for (attr, target, _) in &to_hubspot {
        if !targets.insert(target.as_str()) {
            problems.push(format!(
                "field \"{attr}\": another field also lands in HubSpot property \"{target}\""
            ));
        }
    }

    let (Some(match_property), Some(match_attribute)) = (match_property, match_attribute) else {
        return Err(Refusal::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(Refusal::Invalid(problems));
    }
    Ok(Checked {
        hubspot_object_type: object_type,
        userflow_object_type: uf_type,
        match_property,
        match_attribute,
        to_userflow,
        to_hubspot,
        events_mode,
        event_names,
        enabled: body.enabled.unwrap_or(true),
    })
}

// ---- views ----

/// An object mapping as answered. A mapping only validated has no `id`, `created_at` or
/// `updated_at`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Mapping)]
struct MappingView {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Uuid>,
    integration_id: Uuid,
    /// HubSpot's canonical name of the object type.
    hubspot_object_type: String,
    #[schema(schema_with = object_type_schema)]
    userflow_object_type: UserflowObjectType,
    #[serde(rename = "match")]
    match_: MatchView,
    fields_to_userflow: Vec<ToUserflowView>,
    fields_to_hubspot: Vec<ToHubspotView>,
    events: EventsView,
    enabled: bool,
    /// The HubSpot properties hubsync creates for this mapping.
    hubspot_properties: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How records pair.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MappingMatch)]
struct MatchView {
    hubspot_property: String,
    #[schema(schema_with = match_attribute_schema)]
    userflow_attribute: UserflowMatchAttribute,
}

/// One field from HubSpot to Userflow.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldToUserflow)]
struct ToUserflowView {
    /// The HubSpot property, or `<associated object type>.<property>`.
    hubspot: String,
    /// The Userflow attribute written.
    userflow: String,
    #[serde(rename = "type")]
    #[schema(schema_with = field_type_view_schema)]
    ty: &'static str,
}

/// One attribute from Userflow to HubSpot.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldToHubspot)]
struct ToHubspotView {
    /// The Userflow attribute read.
    userflow: String,
    /// The HubSpot property written (`userflow_<object>_<attribute>`).
    hubspot: String,
    #[serde(rename = "type")]
    #[schema(schema_with = field_type_view_schema)]
    ty: &'static str,
}

/// Which Userflow events are written to HubSpot's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MappingEvents)]
struct EventsView {
    #[schema(schema_with = events_mode_schema)]
    mode: EventStreamMode,
    names: Vec<String>,
    /// Event name → the HubSpot timeline event template it is written with, once the schema
    /// setup has created it.
    timeline_templates: BTreeMap<String, String>,
}

/// The mappings of an integration, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MappingList)]
struct ListView {
    mappings: Vec<MappingView>,
}

/// A mapping that passed validation, as it would be saved (nothing was saved).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MappingValidation)]
struct Validated {
    /// Always `true`: an invalid mapping answers 422.
    valid: bool,
    mapping: MappingView,
}

/// The answer of a replace: the saved mapping, or with `validate_only=true` the validation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = MappingReplaced)]
enum Replaced {
    Saved(MappingView),
    Validated(Validated),
}

impl Validated {
    fn new(mapping: MappingView) -> Self {
        Self {
            valid: true,
            mapping,
        }
    }
}

fn view_of_checked(integration_id: Uuid, c: &Checked) -> MappingView {
    MappingView {
        id: None,
        integration_id,
        hubspot_object_type: c.hubspot_object_type.clone(),
        userflow_object_type: c.userflow_object_type,
        match_: MatchView {
            hubspot_property: c.match_property.clone(),
            userflow_attribute: c.match_attribute,
        },
        fields_to_userflow: c
            .to_userflow
            .iter()
            .map(|(s, t, ty)| ToUserflowView {
                hubspot: s.clone(),
                userflow: t.clone(),
                ty: field_types::name(*ty),
            })
            .collect(),
        fields_to_hubspot: c
            .to_hubspot
            .iter()
            .map(|(s, t, ty)| ToHubspotView {
                userflow: s.clone(),
                hubspot: t.clone(),
                ty: field_types::name(*ty),
            })
            .collect(),
        events: EventsView {
            mode: c.events_mode,
            names: c.event_names.clone(),
            timeline_templates: BTreeMap::new(),
        },
        enabled: c.enabled,
        hubspot_properties: c.to_hubspot.iter().map(|(_, t, _)| t.clone()).collect(),
        created_at: None,
        updated_at: None,
    }
}

async fn view_of(state: &AppState, m: object_mappings::Model) -> Result<MappingView, ApiError> {
    let fields = FieldMappingsEntity::find()
        .filter(field_mappings::Column::ObjectMappingId.eq(m.id))
        .order_by_asc(field_mappings::Column::CreatedAt)
        .order_by_asc(field_mappings::Column::Target)
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    let stream = EventStreamsEntity::find()
        .filter(event_streams::Column::ObjectMappingId.eq(m.id))
        .one(&state.db)
        .await
        .map_err(ApiError::internal)?;
    let (incoming, outgoing): (Vec<_>, Vec<_>) = fields
        .into_iter()
        .partition(|f| f.direction == SyncDirection::HubspotToUserflow);
    let events = match stream {
        None => EventsView {
            mode: EventStreamMode::Off,
            names: Vec::new(),
            timeline_templates: BTreeMap::new(),
        },
        Some(s) => EventsView {
            mode: s.mode,
            names: s.event_names.into(),
            timeline_templates: s.timeline_templates.map(|t| t.0).unwrap_or_default(),
        },
    };
    Ok(MappingView {
        id: Some(m.id),
        integration_id: m.integration_id,
        hubspot_object_type: m.hubspot_object_type,
        userflow_object_type: m.userflow_object_type,
        match_: MatchView {
            hubspot_property: m.match_hubspot_property,
            userflow_attribute: m.match_userflow_attribute,
        },
        fields_to_userflow: incoming
            .iter()
            .map(|f| ToUserflowView {
                hubspot: f.source_path.clone(),
                userflow: f.target.clone(),
                ty: f.data_type.as_str(),
            })
            .collect(),
        hubspot_properties: outgoing.iter().map(|f| f.target.clone()).collect(),
        fields_to_hubspot: outgoing
            .iter()
            .map(|f| ToHubspotView {
                userflow: f.source_path.clone(),
                hubspot: f.target.clone(),
                ty: f.data_type.as_str(),
            })
            .collect(),
        events,
        enabled: m.enabled,
        created_at: Some(m.created_at),
        updated_at: Some(m.updated_at),
    })
}

// ---- helpers ----

/// Mapping `raw` of `integration`: another integration's mapping is as unknown as none.
async fn mapping(
    state: &AppState,
    integration: &integrations::Model,
    raw: &str,
) -> Result<object_mappings::Model, ApiError> {
    let id = lookup::uuid(raw, "mapping id")?;
    ObjectMappingsEntity::find_by_id(id)
        .filter(object_mappings::Column::IntegrationId.eq(integration.id))
        .one(&state.db)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                Code::NotFound,
                format!("no mapping `{id}` in this integration"),
            )
        })
}

fn validate_only(raw: Option<&str>) -> Result<bool, ApiError> {
    let params = Params::parse(raw, &["validate_only"])?;
    match params.get("validate_only") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(bad(format!(
            "`validate_only` must be true or false (got `{other}`)"
        ))),
    }
}

/// Writes `c` as mapping `existing` (or a new one) with its fields and stream, in one
/// transaction.
async fn save(
    state: &AppState,
    integration_id: Uuid,
    existing: Option<object_mappings::Model>,
    c: &Checked,
) -> Result<object_mappings::Model, ApiError> {
    let txn = state.db.begin().await.map_err(ApiError::internal)?;
    let model = match existing {
        Some(m) => {
            let mut am = m.into_active_model();
            am.hubspot_object_type = Set(c.hubspot_object_type.clone());
            am.userflow_object_type = Set(c.userflow_object_type);
            am.match_hubspot_property = Set(c.match_property.clone());
            am.match_userflow_attribute = Set(c.match_attribute);
            am.enabled = Set(c.enabled);
            am.update(&txn).await
        }
        None => {
            object_mappings::ActiveModel {
                integration_id: Set(integration_id),
                hubspot_object_type: Set(c.hubspot_object_type.clone()),
                userflow_object_type: Set(c.userflow_object_type),
                match_hubspot_property: Set(c.match_property.clone()),
                match_userflow_attribute: Set(c.match_attribute),
                enabled: Set(c.enabled),
                ..Default::default()
            }
            .insert(&txn)
            .await
        }
    }
    .map_err(ApiError::internal)?;
    FieldMappingsEntity::delete_many()
        .filter(field_mappings::Column::ObjectMappingId.eq(model.id))
        .exec(&txn)
        .await
        .map_err(ApiError::internal)?;
    let rows = c
        .to_userflow
        .iter()
        .map(|(s, t, ty)| (SyncDirection::HubspotToUserflow, s, t, ty))
        .chain(
            c.to_hubspot
                .iter()
                .map(|(s, t, ty)| (SyncDirection::UserflowToHubspot, s, t, ty)),
        );
    for (direction, source, target, ty) in rows {
        field_mappings::ActiveModel {
            object_mapping_id: Set(model.id),
            direction: Set(direction),
            source_path: Set(source.clone()),
            target: Set(target.clone()),
            data_type: Set(to_data_type(*ty)),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(ApiError::internal)?;
    }
    let stream = EventStreamsEntity::find()
        .filter(event_streams::Column::ObjectMappingId.eq(model.id))
        .one(&txn)
        .await
        .map_err(ApiError::internal)?;
    let names = StringList::from(c.event_names.clone());
    match stream {
        // Template ids are the app's and stay valid; the setup job adds missing ones.
        Some(s) => {
            let mut am = s.into_active_model();
            am.mode = Set(c.events_mode);
            am.event_names = Set(names);
            am.update(&txn).await.map(|_| ())
        }
        None => event_streams::ActiveModel {
            object_mapping_id: Set(model.id),
            mode: Set(c.events_mode),
            event_names: Set(names),
            timeline_templates: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map(|_| ()),
    }
    .map_err(ApiError::internal)?;
    txn.commit().await.map_err(ApiError::internal)?;
    Ok(model)
}

/// After a change: setup pending, a setup job queued, the app's webhooks reconciled. Failures
/// are recorded in the setup status (and logged), never answered.
async fn after_change(state: &AppState, integration_id: Uuid, schema_changed: bool) {
    if schema_changed {
        if let Err(e) = schema_setup::mark_pending(&state.db, integration_id).await {
            tracing::error!(%integration_id, error = %e, "could not mark the schema setup pending");
        }
        let job = Job::EnsureSchema(EnsureSchema { integration_id });
        if let Err(e) = state.jobs.realtime(job).await {
            tracing::error!(%integration_id, error = %e, "could not queue the schema setup");
            let message =
                format!("the schema setup could not be queued ({e}); save the mapping again");
            let _ = schema_setup::update_status(&state.db, integration_id, move |s| {
                s.state = schema_setup::SetupState::Failed;
                s.error = Some(message);
            })
            .await;
        }
    }
    if let Err(e) = app_webhooks::reconcile_and_record(&state.sync, integration_id).await {
        tracing::error!(%integration_id, error = %e, "could not record the webhook reconciliation");
    }
}

// ---- handlers ----

/// The object mappings of an integration, oldest first.
#[utoipa::path(
    get,
    path = "/integrations/{id}/mappings",
    operation_id = "list_mappings",
    tag = "mappings",
    params(("id" = Uuid, Path, description = "Integration id.")),
    responses(
        (status = 200, description = "The integration's mappings.", body = ListView),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn list(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ListView>, ApiError> {
    let integration = lookup::integration(&state, &id).await?;
    let rows = ObjectMappingsEntity::find()
        .filter(object_mappings::Column::IntegrationId.eq(integration.id))
        .order_by_asc(object_mappings::Column::CreatedAt)
        .order_by_asc(object_mappings::Column::Id)
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    let mut views = Vec::with_capacity(rows.len());
    for m in rows {
        views.push(view_of(&state, m).await?);
    }
    Ok(Json(ListView { mappings: views }))
}

/// One object mapping.
#[utoipa::path(
    get,
    path = "/integrations/{id}/mappings/{mapping_id}",
    operation_id = "show_mapping",
    tag = "mappings",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("mapping_id" = Uuid, Path, description = "Object mapping id."),
    ),
    responses(
        (status = 200, description = "The mapping.", body = MappingView),
        (status = 400, description = "An id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration, or no such mapping in it.", body = ErrorBody),
    )
)]
async fn show(
    _op: Operator,
    State(state): State<AppState>,
    Path((id, mapping_id)): Path<(String, String)>,
) -> Result<Json<MappingView>, ApiError> {
    let integration = lookup::integration(&state, &id).await?;
    let m = mapping(&state, &integration, &mapping_id).await?;
    Ok(Json(view_of(&state, m).await?))
}

/// Checks a mapping against the live schemas without saving it.
///
/// The same checks as a save: the object type, the match property, every property and
/// association path, and every field's types, against HubSpot (with the integration's token)
/// and Userflow (with its API key).
#[utoipa::path(
    post,
    path = "/integrations/{id}/mappings/validate",
    operation_id = "validate_mapping",
    tag = "mappings",
    params(("id" = Uuid, Path, description = "Integration id.")),
    request_body(content = MappingBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The mapping is valid; as it would be saved.", body = Validated),
        (status = 400, description = "The id is not a UUID, or malformed JSON / an unknown field.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 409, description = "The integration cannot be checked yet (not connected, HubSpot authorization expired, or the HubSpot app is not configured).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "The mapping is not valid (`invalid_mapping`); `problems` lists every problem.", body = InvalidBody),
        (status = 503, description = "HubSpot's schema or Userflow's attributes could not be read.", body = ErrorBody),
    )
)]
async fn validate(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MappingBody>,
) -> Result<Json<Validated>, Refusal> {
    let integration = lookup::integration(&state, &id).await?;
    let tenant = state.sync.tenant_of(integration.clone());
    let checked = check(&tenant, &body, None).await?;
    Ok(Json(Validated::new(view_of_checked(
        integration.id,
        &checked,
    ))))
}

/// Creates an object mapping, checked against the live schemas.
///
/// Then marks the schema setup pending, queues an `ensure-schema` job (the HubSpot properties
/// and timeline templates hubsync needs) and reconciles the app's webhook subscriptions;
/// failures of those show in `GET /integrations/{id}/status`, not here. With
/// `validate_only=true` nothing is saved and the answer is that of `…/mappings/validate`.
#[utoipa::path(
    post,
    path = "/integrations/{id}/mappings",
    operation_id = "create_mapping",
    tag = "mappings",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("validate_only" = Option<bool>, Query, description = "`true`: only check, save nothing (default `false`)."),
    ),
    request_body(content = MappingBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = MappingView),
        (status = 200, description = "With `validate_only=true`: the mapping is valid; nothing was saved.", body = Validated),
        (status = 400, description = "The id is not a UUID, a bad `validate_only` or an unknown parameter, or malformed JSON / an unknown field.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 409, description = "The integration cannot be checked yet (not connected, HubSpot authorization expired, or the HubSpot app is not configured).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "The mapping is not valid (`invalid_mapping`); `problems` lists every problem.", body = InvalidBody),
        (status = 503, description = "HubSpot's schema or Userflow's attributes could not be read.", body = ErrorBody),
    )
)]
async fn create(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<MappingBody>,
) -> Result<Response, Refusal> {
    let only = validate_only(raw.as_deref())?;
    let integration = lookup::integration(&state, &id).await?;
    let tenant = state.sync.tenant_of(integration.clone());
    let checked = check(&tenant, &body, None).await?;
    if only {
        return Ok(Json(Validated::new(view_of_checked(integration.id, &checked))).into_response());
    }
    let model = save(&state, integration.id, None, &checked).await?;
    tracing::info!(integration_id = %integration.id, mapping_id = %model.id, "mapping created");
    after_change(&state, integration.id, true).await;
    let view = view_of(&state, model).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Replaces an object mapping (its fields and events too), checked against the live schemas.
///
/// Then, as on create, the schema setup is redone and the webhook subscriptions reconciled.
/// With `validate_only=true` nothing is saved and the answer is that of
/// `…/mappings/validate`.
#[utoipa::path(
    put,
    path = "/integrations/{id}/mappings/{mapping_id}",
    operation_id = "replace_mapping",
    tag = "mappings",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("mapping_id" = Uuid, Path, description = "Object mapping id."),
        ("validate_only" = Option<bool>, Query, description = "`true`: only check, save nothing (default `false`)."),
    ),
    request_body(content = MappingBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The replaced mapping; with `validate_only=true`, the validation and nothing saved.", body = Replaced),
        (status = 400, description = "An id is not a UUID, a bad `validate_only` or an unknown parameter, or malformed JSON / an unknown field.", body = ErrorBody),
        (status = 404, description = "No such integration, or no such mapping in it.", body = ErrorBody),
        (status = 409, description = "The integration cannot be checked yet (not connected, HubSpot authorization expired, or the HubSpot app is not configured).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "The mapping is not valid (`invalid_mapping`); `problems` lists every problem.", body = InvalidBody),
        (status = 503, description = "HubSpot's schema or Userflow's attributes could not be read.", body = ErrorBody),
    )
)]
async fn replace(
    _op: Operator,
    State(state): State<AppState>,
    Path((id, mapping_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<MappingBody>,
) -> Result<Json<Replaced>, Refusal> {
    let only = validate_only(raw.as_deref())?;
    let integration = lookup::integration(&state, &id).await?;
    let existing = mapping(&state, &integration, &mapping_id).await?;
    let tenant = state.sync.tenant_of(integration.clone());
    let checked = check(&tenant, &body, Some(existing.id)).await?;
    if only {
        return Ok(Json(Replaced::Validated(Validated::new(view_of_checked(
            integration.id,
            &checked,
        )))));
    }
    let model = save(&state, integration.id, Some(existing), &checked).await?;
    tracing::info!(integration_id = %integration.id, mapping_id = %model.id, "mapping replaced");
    after_change(&state, integration.id, true).await;
    Ok(Json(Replaced::Saved(view_of(&state, model).await?)))
}

/// Deletes an object mapping with its fields and event stream.
///
/// The HubSpot properties hubsync created stay (they hold data); the app's webhook
/// subscriptions are reconciled.
#[utoipa::path(
    delete,
    path = "/integrations/{id}/mappings/{mapping_id}",
    operation_id = "delete_mapping",
    tag = "mappings",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("mapping_id" = Uuid, Path, description = "Object mapping id."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "An id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration, or no such mapping in it.", body = ErrorBody),
    )
)]
async fn remove(
    _op: Operator,
    State(state): State<AppState>,
    Path((id, mapping_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let integration = lookup::integration(&state, &id).await?;
    let m = mapping(&state, &integration, &mapping_id).await?;
    let mapping_id = m.id;
    m.delete(&state.db).await.map_err(ApiError::internal)?;
    tracing::info!(integration_id = %integration.id, %mapping_id, "mapping deleted");
    // Properties hubsync created stay in HubSpot (they hold data); only subscriptions go.
    after_change(&state, integration.id, false).await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[path = "mappings_tests.rs"]
mod tests;
