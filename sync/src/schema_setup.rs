//! Setting up HubSpot for an integration's mappings (the `ensure-schema` job):
//!
//! - the "Userflow" property group on every mapped HubSpot object type;
//! - a `userflow_<object>_<attribute>` property per Userflow → HubSpot field, with the
//!   HubSpot type of the field's type (a property that exists with another type is reported,
//!   never changed);
//! - a timeline event template per streamed event name and object type (developer API key
//!   and app id from the settings; tokens = the event's attributes), its id stored in
//!   `event_streams.timeline_templates`. Templates belong to the app, so integrations share
//!   them: one is found by name and object type before one is created.
//! - where the timeline cannot be used (no developer key or app id, HubSpot refuses with
//!   401/403/404, or a custom object type, which templates do not support) a
//!   `userflow_<object>_last_<event>_at` datetime property per event instead, and the reason
//!   in the report.
//!
//! Streaming mode `all` sets up the built-in Userflow events ([`BUILT_IN_EVENTS`]) and the
//! names Userflow's event definitions list at setup time; an event first seen later gets
//! its template from [`ensure_event_template`] when it is first posted.
//!
//! Every step looks before it creates, so a second run creates nothing. The report is stored
//! in `integrations.setup_status` and shown by the integration's status endpoint
//! ([`status_json`]).

use std::collections::BTreeMap;

use hubsync_core::mapping::naming::{PROPERTY_GROUP, PROPERTY_GROUP_LABEL, last_event_property};
use hubsync_core::mapping::types::{self as field_types, FieldType};
use hubsync_entities::integrations;
use hubsync_entities::prelude::{EventStreamsEntity, IntegrationsEntity};
use hubsync_entities::{EventStreamMode, TimelineTemplates, event_streams};
use hubsync_hubspot::models::property::PropertyCreate;
use hubsync_hubspot::models::timeline::{
    EventTemplate, EventTemplateCreate, TemplateToken, TokenType,
};
use hubsync_hubspot::requests::properties::{
    CreateProperty, CreatePropertyGroup, GetPropertyGroup,
};
use hubsync_hubspot::requests::timeline::{CreateEventTemplate, ListEventTemplates};
use hubsync_hubspot::{AppId, ObjectType};
use hubsync_userflow::Request as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

pub use hubsync_entities::setup_status::{
    SetupReport, SetupState, SetupStatus, TimelineAvailability, WebhookReport,
};

use crate::context::{SyncContext, Tenant};
use crate::engine::mappings::{self, Mapping};
use crate::error::SyncError;
use crate::schema::HubspotSchema;

/// Userflow's built-in event names (`docs/userflow-api.md` §10): set up front in mode `all`.
pub const BUILT_IN_EVENTS: &[&str] = &[
    "flow_started",
    "flow_step_seen",
    "flow_completed",
    "flow_ended",
    "tooltip_target_missing",
    "checklist_started",
    "checklist_shown",
    "checklist_hidden",
    "checklist_task_clicked",
    "checklist_task_completed",
    "checklist_completed",
    "checklist_ended",
    "question_answered",
    "launcher_seen",
    "launcher_activated",
    "launcher_dismissed",
    "resource_center_opened",
    "resource_center_closed",
    "resource_center_clicked",
    "announcement_seen",
    "banner_seen",
    "banner_dismissed",
    "assistant_message_sent",
    "assistant_rating_submitted",
    "assistant_feedback_submitted",
    "page_viewed",
    "random_ab_assigned",
    "random_number_assigned",
];

/// Object types HubSpot timeline templates can be attached to.
const TIMELINE_OBJECT_TYPES: [&str; 4] = ["contacts", "companies", "deals", "tickets"];

/// The template name an event is found by (with the object type).
pub fn template_name(event_name: &str) -> String {
    format!("Userflow {event_name}")
}

/// The tokens of an event's template: the attributes Userflow sends with it (§10 names).
pub fn template_tokens(event_name: &str) -> Vec<TemplateToken> {
    let mut names: Vec<&str> = vec![
        "page_url",
        "locale_code",
        "viewport_width",
        "viewport_height",
    ];
    let family: &[&str] =
        if event_name.starts_with("flow_") || event_name == "tooltip_target_missing" {
            &[
                "flow_id",
                "flow_name",
                "flow_version_id",
                "flow_version_number",
                "flow_session_id",
                "flow_start_reason",
                "flow_end_reason",
                "flow_step_id",
                "flow_step_name",
                "flow_step_number",
                "flow_step_progress",
            ]
        } else if event_name.starts_with("checklist_") {
            &[
                "checklist_id",
                "checklist_name",
                "checklist_session_id",
                "checklist_version_id",
                "checklist_version_number",
                "checklist_start_reason",
                "checklist_end_reason",
                "checklist_task_id",
                "checklist_task_name",
            ]
        } else if event_name.starts_with("launcher_") {
            &[
                "launcher_id",
                "launcher_name",
                "launcher_session_id",
                "launcher_version_id",
                "launcher_version_number",
            ]
        } else if event_name == "question_answered" {
            &[
                "question_cvid",
                "question_name",
                "question_type",
                "text_answer",
                "number_answer",
                "list_answer",
            ]
        } else {
            &[]
        };
    names.extend_from_slice(family);
    names
        .into_iter()
        .map(|n| TemplateToken {
            name: n.to_owned(),
            label: n.replace('_', " "),
            kind: if n.ends_with("_number")
                || n.ends_with("_progress")
                || n.starts_with("viewport_")
                || n == "number_answer"
            {
                TokenType::Number
            } else {
                TokenType::String
            },
            options: Vec::new(),
            object_property_name: None,
        })
        .collect()
}

/// Why the timeline cannot be used, or the app's templates.
enum Timeline {
    Unknown,
    Available {
        client: hubsync_hubspot::Client,
        app_id: AppId,
        templates: Vec<EventTemplate>,
    },
    Unavailable(String),
}

impl Timeline {
    async fn probe(ctx: &SyncContext) -> Timeline {
        let app = &ctx.settings.hubspot;
        let (Some(app_id), Some(key)) = (app.app_id, app.developer_api_key.as_deref()) else {
            return Timeline::Unavailable(
                "no HubSpot developer API key or app id is configured (--hubspot-developer-api-key, --hubspot-app-id)"
                    .into(),
            );
        };
        let client = match hubsync_hubspot::Client::builder()
            .base_url(app.api_base.clone())
            .developer_api_key(key)
            .build()
        {
            Ok(c) => c,
            Err(e) => return Timeline::Unavailable(format!("HubSpot client: {e}")),
        };
        match ListEventTemplates::new(AppId(app_id)).send(&client).await {
            Ok(page) => Timeline::Available {
                client,
                app_id: AppId(app_id),
                templates: page.results,
            },
            Err(e) if refused(&e) => Timeline::Unavailable(format!(
                "HubSpot refuses the timeline API to app {app_id}: {e}"
            )),
            Err(e) => Timeline::Unavailable(format!("listing timeline templates failed: {e}")),
        }
    }
}

/// HubSpot answers that the caller may not use the endpoint at all.
fn refused(e: &hubsync_hubspot::Error) -> bool {
    matches!(
        e,
        hubsync_hubspot::Error::Api {
            status: 403 | 404,
            ..
        } | hubsync_hubspot::Error::Unauthorized { .. }
    )
}

/// Makes HubSpot hold everything the integration's enabled mappings need, and records the
/// report (or the error) in `integrations.setup_status`.
#[tracing::instrument(skip_all, fields(integration_id = %tenant.id()))]
pub async fn ensure_schema(tenant: &Tenant) -> Result<SetupReport, SyncError> {
    let result = run(tenant).await;
    let db = &tenant.ctx.db;
    match &result {
        Ok(report) => {
            tracing::info!(
                properties_created = report.properties_created.len(),
                templates_created = report.templates_created.len(),
                problems = report.problems.len(),
                "schema setup done"
            );
            let report = report.clone();
            update_status(db, tenant.id(), move |s| {
                s.state = SetupState::Done;
                s.error = None;
                s.schema = Some(report);
            })
            .await?;
        }
        Err(e) => {
            tracing::warn!(error = %e, "schema setup failed");
            let message = e.to_string();
            update_status(db, tenant.id(), move |s| {
                s.state = SetupState::Failed;
                s.error = Some(message);
            })
            .await?;
        }
    }
    result
}

async fn run(tenant: &Tenant) -> Result<SetupReport, SyncError> {
    let db = &tenant.ctx.db;
    let loaded = mappings::load(db, tenant.id()).await?;
    let mut report = SetupReport::default();
    if loaded.is_empty() {
        return Ok(report);
    }
    let mut schema = HubspotSchema::new(tenant.hubspot().await?);
    let mut timeline = Timeline::Unknown;
    let mut unavailable: Vec<String> = Vec::new();
    let mut streams_any = false;

    for m in &loaded {
        let object_type = m.model.hubspot_object_type.clone();
        let kind = m.kind();
        ensure_group(&schema, &object_type, &mut report).await?;

        let mut wanted: Vec<(String, String, FieldType)> = m
            .to_hubspot
            .iter()
            .map(|f| {
                (
                    f.target.clone(),
                    format!("Userflow {}: {}", kind.as_str(), f.source),
                    f.ty,
                )
            })
            .collect();
        wanted.sort_by(|a, b| a.0.cmp(&b.0));

        let events = streamed_events(tenant, m, &mut report).await;
        if !events.is_empty() {
            streams_any = true;
            let fallback = if !TIMELINE_OBJECT_TYPES.contains(&object_type.as_str()) {
                Some(format!(
                    "{object_type} is a custom object type, which timeline templates do not support"
                ))
            } else {
                if matches!(timeline, Timeline::Unknown) {
                    timeline = Timeline::probe(&tenant.ctx).await;
                }
                ensure_templates(db, &mut timeline, m, &events, &mut report).await?
            };
            if let Some(reason) = fallback {
                if !unavailable.contains(&reason) {
                    unavailable.push(reason);
                }
                for e in &events {
                    wanted.push((
                        last_event_property(kind, e),
                        format!("Userflow {}: last {e}", kind.as_str()),
                        FieldType::Datetime,
                    ));
                    report
                        .fallback_properties
                        .push(format!("{object_type}.{}", last_event_property(kind, e)));
                }
            }
        }
        ensure_properties(&mut schema, &object_type, &wanted, &mut report).await?;
    }
    report.timeline = match (streams_any, unavailable.is_empty()) {
        (false, _) => TimelineAvailability::NotNeeded,
        (true, true) => TimelineAvailability::Available,
        (true, false) => TimelineAvailability::Unavailable,
    };
    if !unavailable.is_empty() {
        report.timeline_reason = Some(unavailable.join("; "));
    }
    Ok(report)
}

/// The event names a mapping streams.
async fn streamed_events(tenant: &Tenant, m: &Mapping, report: &mut SetupReport) -> Vec<String> {
    let Some(stream) = &m.events else {
        return Vec::new();
    };
    let mut names: Vec<String> = match stream.mode {
        EventStreamMode::Off => return Vec::new(),
        EventStreamMode::Selected => stream.event_names.iter().cloned().collect(),
        EventStreamMode::All => {
            let mut names: Vec<String> = BUILT_IN_EVENTS.iter().map(|s| (*s).to_owned()).collect();
            match tenant.userflow() {
                Ok(client) => {
                    match hubsync_userflow::requests::event_definitions::List::new()
                        .limit(100)
                        .send(&client)
                        .await
                    {
                        Ok(page) => names.extend(page.data.into_iter().map(|d| d.name)),
                        Err(e) => report
                            .problems
                            .push(format!("Userflow event definitions could not be read: {e}")),
                    }
                }
                Err(e) => report
                    .problems
                    .push(format!("Userflow event definitions could not be read: {e}")),
            }
            names
        }
    };
    names.sort();
    names.dedup();
    names
}

async fn ensure_group(
    schema: &HubspotSchema,
    object_type: &str,
    report: &mut SetupReport,
) -> Result<(), SyncError> {
    let ot = ObjectType::from(object_type);
    match GetPropertyGroup::new(ot.clone(), PROPERTY_GROUP)
        .send(schema.client())
        .await
    {
        Ok(_) => Ok(()),
        Err(hubsync_hubspot::Error::Api { status: 404, .. }) => {
            match CreatePropertyGroup::new(ot, PROPERTY_GROUP, PROPERTY_GROUP_LABEL)
                .display_order(-1)
                .send(schema.client())
                .await
            {
                Ok(_) => {
                    report.groups_created.push(object_type.to_owned());
                    Ok(())
                }
                // Another run created it meanwhile.
                Err(hubsync_hubspot::Error::Api { status: 409, .. }) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn ensure_properties(
    schema: &mut HubspotSchema,
    object_type: &str,
    wanted: &[(String, String, FieldType)],
    report: &mut SetupReport,
) -> Result<(), SyncError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let existing = schema.properties(object_type).await?.clone();
    let mut created = false;
    for (name, label, ty) in wanted {
        let qualified = format!("{object_type}.{name}");
        if let Some(p) = existing.get(name) {
            if field_types::hubspot_property_holds(&p.kind, &p.field_type, *ty) {
                push_once(&mut report.properties_present, qualified);
            } else {
                let (kind, field_type) = field_types::hubspot_property(*ty);
                push_once(
                    &mut report.problems,
                    format!(
                        "property {qualified} exists as {} ({}) but the mapping needs {kind} ({field_type}); it was not changed",
                        p.kind, p.field_type
                    ),
                );
            }
            continue;
        }
        if report.properties_created.contains(&qualified) {
            continue;
        }
        let (kind, field_type) = field_types::hubspot_property(*ty);
        let create = PropertyCreate::new(
            name.clone(),
            label.clone(),
            serde_json::from_value(json!(kind)).map_err(|e| SyncError::Settings(e.to_string()))?,
            serde_json::from_value(json!(field_type))
                .map_err(|e| SyncError::Settings(e.to_string()))?,
            PROPERTY_GROUP,
        );
        match CreateProperty::new(ObjectType::from(object_type), create)
            .send(schema.client())
            .await
        {
            Ok(_) => {
                created = true;
                report.properties_created.push(qualified);
            }
            Err(hubsync_hubspot::Error::Api { status: 409, .. }) => {
                push_once(&mut report.properties_present, qualified);
            }
            Err(e @ hubsync_hubspot::Error::Validation { .. }) => {
                report
                    .problems
                    .push(format!("property {qualified} could not be created: {e}"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if created {
        schema.forget_properties(object_type);
    }
    Ok(())
}

fn push_once(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Creates the missing templates of `events` for mapping `m` and stores their ids. Answers
/// why the timeline cannot be used, if it cannot.
async fn ensure_templates(
    db: &impl ConnectionTrait,
    timeline: &mut Timeline,
    m: &Mapping,
    events: &[String],
    report: &mut SetupReport,
) -> Result<Option<String>, SyncError> {
    let object_type = m.model.hubspot_object_type.as_str();
    let Timeline::Available {
        client,
        app_id,
        templates,
    } = timeline
    else {
        return Ok(match timeline {
            Timeline::Unavailable(reason) => Some(reason.clone()),
            _ => Some("timeline availability unknown".into()),
        });
    };
    let mut ids: BTreeMap<String, String> = m
        .events
        .as_ref()
        .and_then(|s| s.timeline_templates.clone())
        .map(|t| t.0)
        .unwrap_or_default();
    let mut refused_reason = None;
    for event in events {
        let name = template_name(event);
        let found = templates.iter().find(|t| {
            t.name == name && t.object_type.as_deref().unwrap_or("contacts") == object_type
        });
        if let Some(t) = found {
            ids.insert(event.clone(), t.id.to_string());
            push_once(
                &mut report.templates_present,
                format!("{object_type}.{event}"),
            );
            continue;
        }
        let create = EventTemplateCreate {
            name: name.clone(),
            object_type: object_type.to_owned(),
            tokens: template_tokens(event),
            header_template: Some(format!("Userflow: {event}")),
            detail_template: None,
        };
        match CreateEventTemplate::new(*app_id, create).send(client).await {
            Ok(t) => {
                ids.insert(event.clone(), t.id.to_string());
                report
                    .templates_created
                    .push(format!("{object_type}.{event}"));
                templates.push(t);
            }
            Err(e) if refused(&e) => {
                refused_reason = Some(format!(
                    "HubSpot refuses timeline templates to app {}: {e}",
                    app_id.0
                ));
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(stream) = &m.events {
        let known = stream
            .timeline_templates
            .clone()
            .map(|t| t.0)
            .unwrap_or_default();
        if known != ids {
            let mut am = stream.clone().into_active_model();
            am.timeline_templates = Set(Some(TimelineTemplates(ids)));
            am.update(db).await?;
        }
    }
    if let Some(reason) = &refused_reason {
        *timeline = Timeline::Unavailable(reason.clone());
    }
    Ok(refused_reason)
}

/// Creates (or finds) the timeline template of `event_name` for object mapping
/// `object_mapping_id` and stores its id: for an event first seen after the schema setup
/// (streaming mode `all`). `None` when the timeline cannot be used; then the caller writes
/// the `last_<event>_at` property, which the next schema setup creates.
pub async fn ensure_event_template(
    tenant: &Tenant,
    object_mapping_id: Uuid,
    event_name: &str,
) -> Result<Option<String>, SyncError> {
    let db = &tenant.ctx.db;
    let loaded = mappings::load(db, tenant.id()).await?;
    let Some(m) = loaded.into_iter().find(|l| l.id() == object_mapping_id) else {
        return Ok(None);
    };
    if !TIMELINE_OBJECT_TYPES.contains(&m.model.hubspot_object_type.as_str()) {
        return Ok(None);
    }
    if let Some(id) = m
        .events
        .as_ref()
        .and_then(|s| s.timeline_templates.as_ref())
        .and_then(|t| t.get(event_name))
    {
        return Ok(Some(id.to_owned()));
    }
    let mut timeline = Timeline::probe(&tenant.ctx).await;
    let mut report = SetupReport::default();
    let events = [event_name.to_owned()];
    if ensure_templates(db, &mut timeline, &m, &events, &mut report)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let stream = EventStreamsEntity::find()
        .filter(event_streams::Column::ObjectMappingId.eq(object_mapping_id))
        .one(db)
        .await?;
    Ok(stream
        .and_then(|s| s.timeline_templates)
        .and_then(|t| t.get(event_name).map(str::to_owned)))
}

/// Reads, changes and writes `integrations.setup_status` of `integration_id`.
pub async fn update_status(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    change: impl FnOnce(&mut SetupStatus),
) -> Result<(), DbErr> {
    let Some(model) = IntegrationsEntity::find_by_id(integration_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let mut status = model.setup_status.unwrap_or_default();
    change(&mut status);
    status.updated_at = Some(hubsync_entities::now());
    let value = serde_json::to_value(&status).map_err(|e| DbErr::Custom(e.to_string()))?;
    IntegrationsEntity::update_many()
        .col_expr(integrations::Column::SetupStatus, Expr::value(value))
        .filter(integrations::Column::Id.eq(integration_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the integration's schema setup as pending (mappings changed, a job is queued).
pub async fn mark_pending(db: &impl ConnectionTrait, integration_id: Uuid) -> Result<(), DbErr> {
    update_status(db, integration_id, |s| {
        s.state = SetupState::Pending;
        s.error = None;
    })
    .await
}

/// The `setup` part of an integration's status answer.
pub fn status_json(integration: &integrations::Model) -> Value {
    let Some(s) = &integration.setup_status else {
        return json!({"state": "not_started", "webhooks": "not checked yet"});
    };
    let webhooks = match &s.webhooks {
        None => "not checked yet".to_owned(),
        Some(w) if w.in_line => "in line".to_owned(),
        Some(w) => format!("not in line because {}", w.problems.join("; ")),
    };
    json!({
        "state": s.state,
        "updated_at": s.updated_at,
        "error": s.error,
        "schema": s.schema,
        "timeline": s.schema.as_ref().map(|r| json!({"availability": r.timeline, "reason": r.timeline_reason})),
        "webhooks": webhooks,
        "webhook_report": s.webhooks,
    })
}
