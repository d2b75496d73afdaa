//! Dry run of one object mapping, for checking a mapping before it syncs:
//!
//! | route | answers |
//! |---|---|
//! | `POST /integrations/{id}/mappings/{mapping_id}/dry-run` `{sample?, object_ids?}` | per object: the paired object and the fields each direction would write, old → new |
//!
//! Runs the sync engine in plan-only mode (`hubsync_sync::engine::preview`): the same reads,
//! matching and diff as a real sync, and nothing written to HubSpot, Userflow or the database.
//! Values appear in the answer: they are the operator's own data.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use hubsync_sync::SyncError;
use hubsync_sync::engine::preview::{self, Preview, PreviewError, PreviewObject};
use hubsync_sync::engine::{EngineError, FieldChange};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code, ErrorBody};
use crate::json::OptionalJson;
use crate::query::bad;
use crate::routes::operator::lookup;

/// Longest HubSpot object id accepted in `object_ids`.
const MAX_ID: usize = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/integrations/{id}/mappings/{mapping_id}/dry-run",
        post(dry_run),
    )
}

/// The dry-run route, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(dry_run),
    tags((name = "dry-run", description = "What a mapping would sync, without writing."))
)]
pub(crate) struct Api;

/// Body of a dry run; empty means a sample of 5.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DryRunBody {
    /// How many HubSpot objects of the mapping's type to look at when `object_ids` is not
    /// given: 1..=50, default 5.
    sample: Option<u32>,
    /// These HubSpot object ids (at most 50) instead of a sample.
    object_ids: Option<Vec<String>>,
}

/// One field a sync would write.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DryRunField)]
pub(crate) struct FieldView {
    /// The target field: a Userflow attribute or a HubSpot property.
    field: String,
    /// Its value on the target now (`null`: none).
    #[schema(value_type = Value)]
    old: serde_json::Value,
    /// The value a sync would write (`null`: clear).
    #[schema(value_type = Value)]
    new: serde_json::Value,
}

/// One object of the dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DryRunObject)]
pub(crate) struct ObjectView {
    hubspot_object_id: String,
    /// The Userflow object it pairs with; `null` when it is not in both systems.
    userflow_object_id: Option<String>,
    in_both_systems: bool,
    /// Why nothing would be written (`not_in_both_systems`, `unchanged`, `echo`,
    /// `hubspot_object_not_found`), when nothing would.
    skipped: Option<String>,
    /// Userflow attributes a HubSpot → Userflow sync would write.
    to_userflow: Vec<FieldView>,
    /// HubSpot properties a Userflow → HubSpot sync would write.
    to_hubspot: Vec<FieldView>,
}

/// What a mapping would sync.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DryRun)]
pub(crate) struct DryRunView {
    mapping_id: Uuid,
    hubspot_object_type: String,
    userflow_object_type: String,
    objects: Vec<ObjectView>,
}

fn fields(changes: Vec<FieldChange>) -> Vec<FieldView> {
    changes
        .into_iter()
        .map(|c| FieldView {
            field: c.field,
            old: c.old,
            new: c.new,
        })
        .collect()
}

impl From<PreviewObject> for ObjectView {
    fn from(o: PreviewObject) -> Self {
        Self {
            hubspot_object_id: o.hubspot_object_id,
            userflow_object_id: o.userflow_object_id,
            in_both_systems: o.in_both_systems,
            skipped: o.skipped,
            to_userflow: fields(o.to_userflow),
            to_hubspot: fields(o.to_hubspot),
        }
    }
}

impl From<Preview> for DryRunView {
    fn from(p: Preview) -> Self {
        Self {
            mapping_id: p.mapping_id,
            hubspot_object_type: p.hubspot_object_type,
            userflow_object_type: p.userflow_object_type,
            objects: p.objects.into_iter().map(Into::into).collect(),
        }
    }
}

/// A sync failure as answered: HubSpot or Userflow unreachable or rate limited → 503, a
/// refusal by either (credentials, a missing property, …) → 409 with its message.
fn engine_error(e: EngineError) -> ApiError {
    match e.category {
        "rate_limited" | "transient" => ApiError::new(Code::Unavailable, e.message),
        "internal" => ApiError::internal(e.message),
        _ => ApiError::new(Code::Conflict, e.message),
    }
}

/// Shows what syncing a mapping would write, writing nothing.
///
/// Reads a sample of HubSpot objects of the mapping's type (or the ids given), finds each
/// one's Userflow object by the mapping's match key, and lists per direction the fields a
/// sync would write with their current and new values.
#[utoipa::path(
    post,
    path = "/integrations/{id}/mappings/{mapping_id}/dry-run",
    operation_id = "dry_run_mapping",
    tag = "dry-run",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("mapping_id" = Uuid, Path, description = "Object mapping id.")
    ),
    request_body(content = Option<DryRunBody>, content_type = "application/json", description = "Optional; an empty body samples 5 objects."),
    responses(
        (status = 200, description = "What a sync would write, per object.", body = DryRunView),
        (status = 400, description = "A bad id, `sample` outside 1..=50, too many or invalid `object_ids`, or malformed JSON / an unknown field.", body = ErrorBody),
        (status = 404, description = "No such integration, or no such enabled mapping in it.", body = ErrorBody),
        (status = 409, description = "The integration is not connected, or HubSpot or Userflow refused a read.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "A body that is not `application/json`.", body = ErrorBody),
        (status = 503, description = "HubSpot or Userflow is unreachable or rate limited; try again.", body = ErrorBody)
    )
)]
async fn dry_run(
    _op: Operator,
    State(state): State<AppState>,
    Path((id, mapping_id)): Path<(String, String)>,
    OptionalJson(body): OptionalJson<DryRunBody>,
) -> Result<Json<DryRunView>, ApiError> {
    let id = lookup::uuid(&id, "integration id")?;
    let mapping_id = lookup::uuid(&mapping_id, "mapping id")?;
    let sample = body.sample.unwrap_or(preview::DEFAULT_SAMPLE);
    if !(1..=preview::MAX_SAMPLE).contains(&sample) {
        return Err(bad(format!(
            "`sample` must be within 1..={} (got {sample})",
            preview::MAX_SAMPLE
        )));
    }
    let ids = body.object_ids.unwrap_or_default();
    if ids.len() > preview::MAX_SAMPLE as usize {
        return Err(bad(format!(
            "`object_ids` holds at most {} ids (got {})",
            preview::MAX_SAMPLE,
            ids.len()
        )));
    }
    if let Some(bad_id) = ids.iter().find(|i| i.trim().is_empty() || i.len() > MAX_ID) {
        return Err(bad(format!("`object_ids` has an invalid id `{bad_id}`")));
    }
    let tenant = match state.sync.tenant(id).await {
        Ok(t) => t,
        Err(SyncError::IntegrationNotFound(_)) => {
            return Err(lookup::no_integration(id));
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    if !tenant.is_active() {
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "integration `{id}` is {}; connect it before a dry run",
                tenant.integration.status
            ),
        ));
    }
    match preview::dry_run(tenant, mapping_id, sample, &ids).await {
        Ok(p) => Ok(Json(p.into())),
        Err(PreviewError::MappingNotFound(m)) => Err(ApiError::new(
            Code::NotFound,
            format!("integration `{id}` has no enabled mapping `{m}`"),
        )),
        Err(PreviewError::Engine(e)) => Err(engine_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use hubsync_entities::{
        FieldDataType, SyncDirection, UserflowMatchAttribute, UserflowObjectType, field_mappings,
        object_mappings,
    };
    use hubsync_sim::{hubspot, serve, userflow};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use serde_json::{Value, json};

    use hubsync_sync::test_support::{connected_integration, mint_tokens};

    use super::*;
    use crate::test_support::{TestApp, test_secrets};

    const TOKEN: &str = "op-token";

    struct Sims {
        _hs: serve::Running,
        _uf: serve::Running,
        hs_base: String,
        uf_base: String,
    }

    async fn sims() -> Sims {
        let hs = hubspot::Simulator::new(hubspot::Config::default());
        let uf = userflow::Simulator::new(userflow::Config::default());
        let hs_srv = serve::spawn("127.0.0.1:0", hs.router()).await.expect("hs");
        let uf_srv = serve::spawn("127.0.0.1:0", uf.router()).await.expect("uf");
        Sims {
            hs_base: hs_srv.base_url(),
            uf_base: uf_srv.base_url(),
            _hs: hs_srv,
            _uf: uf_srv,
        }
    }

    /// An app against both simulators, a connected integration and a contact ↔ user mapping
    /// by email with one field each way.
    async fn setup(sims: &Sims) -> (TestApp, Uuid, Uuid) {
        let settings = hubsync_sync::Settings {
            hubspot: hubsync_sync::HubspotApp {
                app_id: Some(54321),
                client_id: Some("sim-client-id".into()),
                client_secret: Some("sim-client-secret".into()),
                api_base: sims.hs_base.clone(),
                ..Default::default()
            },
            userflow_api_base: sims.uf_base.clone(),
            ..Default::default()
        };
        let app = TestApp::with_settings(&[TOKEN], settings).await;
        hubsync_migrations::migrate(&app.state.db)
            .await
            .expect("migrate");
        let tokens = mint_tokens(&sims.hs_base, &json!({})).await;
        let integration =
            connected_integration(&app.state.db, &test_secrets(), "acme", &tokens).await;
        let mapping = object_mappings::ActiveModel {
            integration_id: Set(integration.id),
            hubspot_object_type: Set("contacts".into()),
            userflow_object_type: Set(UserflowObjectType::User),
            match_hubspot_property: Set("email".into()),
            match_userflow_attribute: Set(UserflowMatchAttribute::Email),
            enabled: Set(true),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("mapping");
        for (direction, source, target) in [
            (SyncDirection::HubspotToUserflow, "jobtitle", "job_title"),
            (
                SyncDirection::UserflowToHubspot,
                "plan",
                "userflow_user_plan",
            ),
        ] {
            field_mappings::ActiveModel {
                object_mapping_id: Set(mapping.id),
                direction: Set(direction),
                source_path: Set(source.into()),
                target: Set(target.into()),
                data_type: Set(FieldDataType::String),
                ..Default::default()
            }
            .insert(&app.state.db)
            .await
            .expect("field");
        }
        (app, integration.id, mapping.id)
    }

    #[tokio::test]
    async fn dry_run_lists_what_would_be_written_both_ways() {
        let sims = sims().await;
        let (app, id, mapping) = setup(&sims).await;
        let path = format!("/api/v1/integrations/{id}/mappings/{mapping}/dry-run");
        let (status, body) = app
            .call("POST", &path, Some(TOKEN), Some(json!({"sample": 3})))
            .await;
        assert_eq!(status, 200, "{body}");
        let objects = body["objects"].as_array().expect("objects");
        assert_eq!(objects.len(), 3);
        let first = &objects[0];
        assert_eq!(first["in_both_systems"], json!(true));
        assert_eq!(first["userflow_object_id"], json!("u_0001"));
        assert_eq!(first["to_userflow"][0]["field"], json!("job_title"));
        assert_eq!(first["to_userflow"][0]["old"], Value::Null);
        assert!(first["to_userflow"][0]["new"].is_string());
        assert_eq!(first["to_hubspot"][0]["field"], json!("userflow_user_plan"));

        // Nothing was written: a second dry run plans the same changes.
        let (_, again) = app
            .call("POST", &path, Some(TOKEN), Some(json!({"sample": 3})))
            .await;
        assert_eq!(again, body);

        let (status, _) = app.call("POST", &path, Some(TOKEN), None).await;
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn dry_run_refuses_bad_requests() {
        let sims = sims().await;
        let (app, id, mapping) = setup(&sims).await;
        let path = format!("/api/v1/integrations/{id}/mappings/{mapping}/dry-run");
        let (status, body) = app
            .call("POST", &path, Some(TOKEN), Some(json!({"sample": 51})))
            .await;
        assert_eq!((status, body["code"].clone()), (400, json!("bad_request")));
        let other = format!(
            "/api/v1/integrations/{id}/mappings/{}/dry-run",
            Uuid::new_v4()
        );
        let (status, _) = app.call("POST", &other, Some(TOKEN), None).await;
        assert_eq!(status, 404);
        let (status, _) = app.call("POST", &path, None, None).await;
        assert_eq!(status, 401);
        let missing = format!(
            "/api/v1/integrations/{}/mappings/{mapping}/dry-run",
            Uuid::new_v4()
        );
        let (status, _) = app.call("POST", &missing, Some(TOKEN), None).await;
        assert_eq!(status, 404);
    }
}
