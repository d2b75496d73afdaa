//! Timeline events v3 (`docs/hubspot-api.md` §8) under both prefixes
//! (`/integrators/timeline/v3`, `/crm/v3/timeline`): event templates and their tokens per app
//! (developer key, [`templates`]) and events on CRM objects (OAuth bearer, [`events`]).
//!
//! Simulator choices (HubSpot leaves them undocumented):
//! - `timeline_available: false` makes every timeline call answer **403** `FORBIDDEN` (status
//!   configurable with `unavailable_status`) with a message pointing at app events, before
//!   authentication — the way HubSpot refuses apps that never defined v1/v3 timeline events.
//! - Templates belong to one app; events need an OAuth token of that app (a private-app token
//!   owns no templates, so its events fail with 404 like an unknown template) holding
//!   `timeline` or an object scope ([`EventCaller`]: HubSpot checks it per endpoint, before it
//!   knows the template's object type).
//! - Unknown template → 404 `OBJECT_NOT_FOUND`; unknown object (id or contact e-mail) in the
//!   caller's portal → 404 `OBJECT_NOT_FOUND`; bad tokens → 400 `VALIDATION_ERROR`. `utk`
//!   alone cannot be resolved by the simulator (400).
//! - Event ids are unique per (app, template, id). Re-posting an id follows
//!   `timeline_duplicate_id` (default: replace the event and move it to the new object).
//! - `objectPropertyName` copies token values onto *existing* CRM properties (as an API write
//!   of the app, so webhooks fire); missing properties are not created.

pub mod events;
pub mod objects;
pub mod templates;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, RwLock};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Caller;
use super::control;
use super::errors::HubspotError;
use super::scopes;
use super::webhooks::json_body;
use super::{Config, Simulator};

/// What re-posting an event id already used for the same (app, template) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateIdPolicy {
    /// Replace the existing event and move it to the new object ("the last to be processed
    /// will win").
    Replace,
    /// Keep the first event and answer it again unchanged.
    KeepFirst,
    /// Answer 409 `CONFLICT`.
    Reject,
}

/// Timeline behaviour. Change at run time with `PUT /_sim/hubspot/timeline/knobs`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TimelineKnobs {
    /// Whether the timeline API works for the apps (§13 `timeline_available`). Default true.
    pub timeline_available: bool,
    /// Status of every timeline answer while unavailable. Default 403.
    pub unavailable_status: u16,
    /// Re-posting an event id (§13 `timeline_duplicate_id`). Default `replace`.
    pub timeline_duplicate_id: DuplicateIdPolicy,
    /// Path prefixes served (§13 `timeline_prefixes`); others answer 404. Default
    /// `/integrators/timeline/v3` and `/crm/v3/timeline`.
    pub timeline_prefixes: Vec<String>,
    /// Event templates per app (§8). Default 750.
    pub max_templates_per_app: usize,
    /// Inputs per `events/batch/create` (undocumented for v3; legacy v1 allowed 100). Default 100.
    pub batch_max_inputs: usize,
}

impl Default for TimelineKnobs {
    fn default() -> Self {
        Self {
            timeline_available: true,
            unavailable_status: 403,
            timeline_duplicate_id: DuplicateIdPolicy::Replace,
            timeline_prefixes: vec!["/integrators/timeline/v3".into(), "/crm/v3/timeline".into()],
            max_templates_per_app: 750,
            batch_max_inputs: 100,
        }
    }
}

/// One enumeration option of a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenOption {
    /// Stored value.
    pub value: String,
    /// Shown label.
    pub label: String,
}

/// A template token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenDef {
    /// Name (alphanumerics and `.-_`).
    pub name: String,
    /// Label.
    pub label: String,
    /// `date`, `enumeration`, `number` or `string`.
    pub token_type: String,
    /// Options (enumeration only).
    pub options: Vec<TokenOption>,
    /// CRM property the value is copied to.
    pub object_property_name: Option<String>,
    /// Epoch ms.
    pub created_at_ms: i64,
    /// Epoch ms.
    pub updated_at_ms: i64,
}

/// An event template of an app.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Template id.
    pub id: u64,
    /// Owning app.
    pub app_id: u64,
    /// Name.
    pub name: String,
    /// `contacts`, `companies`, `deals` or `tickets`.
    pub object_type: String,
    /// Markdown/Handlebars header.
    pub header_template: Option<String>,
    /// Markdown/Handlebars detail.
    pub detail_template: Option<String>,
    /// Tokens.
    pub tokens: Vec<TokenDef>,
    /// Epoch ms.
    pub created_at_ms: i64,
    /// Epoch ms.
    pub updated_at_ms: i64,
}

/// One event on a CRM object's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Event id (unique per app and template).
    pub id: String,
    /// App that wrote it.
    pub app_id: u64,
    /// Template.
    pub template_id: u64,
    /// Portal.
    pub portal_id: u64,
    /// Object the event is on.
    pub object_id: u64,
    /// The template's object type.
    pub object_type: String,
    /// As given.
    pub email: Option<String>,
    /// As given.
    pub utk: Option<String>,
    /// As given.
    pub domain: Option<String>,
    /// ISO-8601.
    pub timestamp: String,
    /// Token values.
    pub tokens: BTreeMap<String, String>,
    /// `extraData`, as given.
    pub extra_data: Option<Value>,
    /// `timelineIFrame`, as given.
    pub timeline_iframe: Option<Value>,
    /// Epoch ms.
    pub created_at_ms: i64,
}

#[derive(Default)]
pub(crate) struct Data {
    pub(crate) templates: BTreeMap<u64, Template>,
    pub(crate) next_template_id: u64,
    /// (app id, template id, event id) → event.
    pub(crate) events: HashMap<(u64, u64, String), Event>,
}

/// Templates and events.
pub struct TimelineState {
    knobs: RwLock<TimelineKnobs>,
    data: Mutex<Data>,
}

impl TimelineState {
    /// New state: no templates or events.
    pub fn new(config: &Config) -> Self {
        Self {
            knobs: RwLock::new(config.timeline.clone()),
            data: Mutex::new(Data {
                next_template_id: 1_001_001,
                ..Data::default()
            }),
        }
    }

    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current knobs.
    pub fn knobs(&self) -> TimelineKnobs {
        self.knobs.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// Replaces the knobs.
    pub fn set_knobs(&self, knobs: TimelineKnobs) {
        if let Ok(mut k) = self.knobs.write() {
            *k = knobs;
        }
    }

    /// Events of a portal, optionally only those on `object_id`, oldest first.
    pub fn events(&self, portal_id: u64, object_id: Option<u64>) -> Vec<Event> {
        let mut v: Vec<Event> = self
            .data()
            .events
            .values()
            .filter(|e| e.portal_id == portal_id && object_id.is_none_or(|o| e.object_id == o))
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            a.created_at_ms
                .cmp(&b.created_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }
}

/// Extractor guarding every timeline route: the path prefix must be one of
/// `timeline_prefixes` and the API must be available (`timeline_available`).
pub struct TimelineGuard;

impl FromRequestParts<Simulator> for TimelineGuard {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        let knobs = sim.inner.timeline.knobs();
        let path = parts.uri.path();
        if !knobs
            .timeline_prefixes
            .iter()
            .any(|p| path.starts_with(&format!("{p}/")))
        {
            return Err(HubspotError::plain(StatusCode::NOT_FOUND, "Not found.").into_response());
        }
        if !knobs.timeline_available {
            let status =
                StatusCode::from_u16(knobs.unavailable_status).unwrap_or(StatusCode::FORBIDDEN);
            return Err(HubspotError::new(
                status,
                "FORBIDDEN",
                "The timeline events API is not available to this app: only apps that already define v1/v3 timeline events may use it. Use app events or custom behavioral events instead.",
            )
            .into_response());
        }
        Ok(TimelineGuard)
    }
}

/// Extractor of every event route: [`TimelineGuard`], then the bearer token ([`Caller`]), then
/// its scopes ([`super::scopes::authorize`]: `timeline` or an object scope).
pub struct EventCaller(pub Caller);

impl FromRequestParts<Simulator> for EventCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        TimelineGuard::from_request_parts(parts, sim).await?;
        let caller = Caller::from_request_parts(parts, sim)
            .await
            .map_err(IntoResponse::into_response)?;
        scopes::authorize(sim, &caller, parts).map_err(IntoResponse::into_response)?;
        Ok(EventCaller(caller))
    }
}

pub(crate) fn routes() -> Router<Simulator> {
    let mut r = Router::new();
    for prefix in ["/integrators/timeline/v3", "/crm/v3/timeline"] {
        r = r
            .merge(templates::routes(prefix))
            .merge(events::routes(prefix));
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Control routes

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(rename = "objectId")]
    object_id: Option<u64>,
}

async fn portal_events(
    State(sim): State<Simulator>,
    Path(portal_id): Path<u64>,
    Query(q): Query<EventsQuery>,
) -> Json<Value> {
    let results: Vec<Value> = sim
        .inner
        .timeline
        .events(portal_id, q.object_id)
        .iter()
        .map(events::event_json)
        .collect();
    Json(json!({"total": results.len(), "results": results}))
}

async fn counts(State(sim): State<Simulator>) -> Json<Value> {
    let data = sim.inner.timeline.data();
    let mut per_portal: BTreeMap<String, usize> = BTreeMap::new();
    for e in data.events.values() {
        *per_portal.entry(e.portal_id.to_string()).or_default() += 1;
    }
    let mut per_app: BTreeMap<String, usize> = BTreeMap::new();
    for t in data.templates.values() {
        *per_app.entry(t.app_id.to_string()).or_default() += 1;
    }
    Json(json!({
        "events": data.events.len(),
        "eventsPerPortal": per_portal,
        "templates": data.templates.len(),
        "templatesPerApp": per_app,
    }))
}

async fn get_knobs(State(sim): State<Simulator>) -> Json<TimelineKnobs> {
    Json(sim.inner.timeline.knobs())
}

async fn put_knobs(State(sim): State<Simulator>, body: Bytes) -> Response {
    control::put_knobs(json_body::<TimelineKnobs>(&body), |k| {
        sim.inner.timeline.set_knobs(k.clone());
    })
}

/// `/_sim/hubspot/…` timeline control routes:
/// - `GET /_sim/hubspot/portals/{portal}/timeline/events?objectId=`: a portal's events
///   (optionally on one object), oldest first, as the API renders them.
/// - `GET /_sim/hubspot/timeline/counts`: events per portal, templates per app.
/// - `GET`/`PUT /_sim/hubspot/timeline/knobs`: [`TimelineKnobs`].
pub(crate) fn control_routes() -> Router<Simulator> {
    Router::new()
        .route(
            "/_sim/hubspot/portals/{portal}/timeline/events",
            get(portal_events),
        )
        .route("/_sim/hubspot/timeline/counts", get(counts))
        .route(
            "/_sim/hubspot/timeline/knobs",
            get(get_knobs).put(put_knobs),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_defaults_follow_section_13() {
        let k = TimelineKnobs::default();
        assert!(k.timeline_available);
        assert_eq!(k.timeline_duplicate_id, DuplicateIdPolicy::Replace);
        assert_eq!(k.timeline_prefixes.len(), 2);
        assert_eq!(k.max_templates_per_app, 750);
        assert!(serde_json::from_str::<TimelineKnobs>(r#"{"available":false}"#).is_err());
        let k: TimelineKnobs =
            serde_json::from_str(r#"{"timeline_duplicate_id":"keep_first"}"#).unwrap();
        assert_eq!(k.timeline_duplicate_id, DuplicateIdPolicy::KeepFirst);
    }
}
