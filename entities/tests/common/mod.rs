//! Sample rows for the entity tests: one row of every table, with every
//! column set (including JSON and timestamps) and all foreign keys satisfied.

#![allow(dead_code, reason = "each test binary uses a different part")]

use chrono::{DateTime, TimeZone, Utc};
use hubsync_entities::sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    SqlErr,
};
use hubsync_entities::{
    EventStreamMode, FieldDataType, FullSyncStatus, FullSyncTrigger, IntegrationStatus, StringList,
    SyncDirection, SyncOutcome, TimelineTemplates, UserflowMatchAttribute, UserflowObjectType,
    event_streams, field_mappings, full_sync_runs, full_sync_shards, integrations, object_links,
    object_mappings, skip_reason, sync_log, sync_state,
};
use uuid::Uuid;

/// A fixed UTC time with microseconds, `offset_secs` after a base instant.
pub fn at(offset_secs: i64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2026, 11, 28, 8, 30, 0)
        .single()
        .expect("valid date");
    base + chrono::Duration::seconds(offset_secs) + chrono::Duration::microseconds(123_456)
}

pub fn integration() -> integrations::Model {
    integrations::Model {
        id: Uuid::new_v4(),
        name: "Acme production".to_owned(),
        hubspot_portal_id: Some(9_876_543_210),
        userflow_environment: Some("env_prod_1".to_owned()),
        status: IntegrationStatus::AuthorizationExpired,
        status_reason: Some("refresh token revoked".to_owned()),
        hubspot_access_token_enc: Some("enc:v1:access".to_owned()),
        hubspot_refresh_token_enc: Some("enc:v1:refresh".to_owned()),
        hubspot_token_expires_at: Some(at(3600)),
        hubspot_scopes: Some(StringList::from_iter([
            "crm.objects.contacts.read",
            "crm.objects.contacts.write",
            "timeline",
        ])),
        userflow_api_key_enc: Some("enc:v1:ufkey".to_owned()),
        userflow_webhook_secret_enc: Some("enc:v1:whsec".to_owned()),
        userflow_webhook_subscription_id: Some("whsub_123".to_owned()),
        setup_status: None,
        created_at: at(0),
        updated_at: at(1),
    }
}

pub fn object_mapping(integration_id: Uuid) -> object_mappings::Model {
    object_mappings::Model {
        id: Uuid::new_v4(),
        integration_id,
        hubspot_object_type: "2-123".to_owned(),
        userflow_object_type: UserflowObjectType::Group,
        match_hubspot_property: "userflow_id".to_owned(),
        match_userflow_attribute: UserflowMatchAttribute::Id,
        enabled: false,
        created_at: at(10),
        updated_at: at(11),
    }
}

pub fn field_mapping(object_mapping_id: Uuid) -> field_mappings::Model {
    field_mappings::Model {
        id: Uuid::new_v4(),
        object_mapping_id,
        direction: SyncDirection::HubspotToUserflow,
        source_path: "companies.name".to_owned(),
        target: "company_name".to_owned(),
        data_type: FieldDataType::Datetime,
        created_at: at(20),
    }
}

pub fn event_stream(object_mapping_id: Uuid) -> event_streams::Model {
    event_streams::Model {
        id: Uuid::new_v4(),
        object_mapping_id,
        mode: EventStreamMode::Selected,
        event_names: StringList::from_iter(["flow_completed", "checklist_task_completed"]),
        timeline_templates: Some(TimelineTemplates::from_iter([
            ("flow_completed", "1001"),
            ("checklist_task_completed", "1002"),
        ])),
        created_at: at(30),
        updated_at: at(31),
    }
}

pub fn object_link(object_mapping_id: Uuid) -> object_links::Model {
    object_links::Model {
        id: Uuid::new_v4(),
        object_mapping_id,
        hubspot_object_id: "51".to_owned(),
        userflow_object_id: "user-51".to_owned(),
        created_at: at(40),
        updated_at: at(41),
    }
}

pub fn sync_state(object_link_id: Uuid) -> sync_state::Model {
    sync_state::Model {
        id: Uuid::new_v4(),
        object_link_id,
        direction: SyncDirection::UserflowToHubspot,
        field: "lifecyclestage".to_owned(),
        last_value: Some("customer — ünïcode ✓".to_owned()),
        last_written_at: at(50),
        created_at: at(51),
        updated_at: at(52),
    }
}

/// A sync log row; `id` is 0 and must be replaced by the generated one.
pub fn sync_log(integration_id: Uuid, object_mapping_id: Option<Uuid>) -> sync_log::Model {
    sync_log::Model {
        id: 0,
        integration_id,
        object_mapping_id,
        job_id: Some("job-42".to_owned()),
        direction: SyncDirection::HubspotToUserflow,
        hubspot_object_type: Some("contacts".to_owned()),
        hubspot_object_id: Some("51".to_owned()),
        userflow_object_id: Some("user-51".to_owned()),
        outcome: SyncOutcome::Skipped,
        reason: Some(skip_reason::ECHO.to_owned()),
        fields_changed: StringList::from_iter(["email", "firstname"]),
        error_category: Some("rate_limited".to_owned()),
        error_message: Some("429 Too Many Requests".to_owned()),
        created_at: at(60),
    }
}

pub fn full_sync_run(integration_id: Uuid) -> full_sync_runs::Model {
    full_sync_runs::Model {
        id: Uuid::new_v4(),
        integration_id,
        trigger: FullSyncTrigger::Scheduled,
        status: FullSyncStatus::Running,
        shard_count: 8,
        total_estimated: Some(5_000_000_000),
        processed: 1_234,
        failed: 5,
        error: Some("shard 3 gave up".to_owned()),
        started_at: Some(at(70)),
        finished_at: Some(at(71)),
        created_at: at(72),
        updated_at: at(73),
    }
}

pub fn full_sync_shard(run_id: Uuid, shard_index: i32) -> full_sync_shards::Model {
    full_sync_shards::Model {
        id: Uuid::new_v4(),
        run_id,
        shard_index,
        cursor: Some("after=0x7f&page=3".to_owned()),
        status: FullSyncStatus::Completed,
        processed: 617,
        failed: 2,
        created_at: at(80),
        updated_at: at(81),
    }
}

/// One row of every table, linked together.
#[derive(Debug, Clone)]
pub struct Graph {
    pub integration: integrations::Model,
    pub object_mapping: object_mappings::Model,
    pub field_mapping: field_mappings::Model,
    pub event_stream: event_streams::Model,
    pub object_link: object_links::Model,
    pub sync_state: sync_state::Model,
    pub sync_log: sync_log::Model,
    pub full_sync_run: full_sync_runs::Model,
    pub full_sync_shard: full_sync_shards::Model,
}

/// Inserts `row` (usually a whole `Model` turned into an `ActiveModel`)
/// and returns the stored row.
pub async fn insert<A>(conn: &DatabaseConnection, row: A) -> <A::Entity as EntityTrait>::Model
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    row.insert(conn).await.expect("insert row")
}

/// Inserts one row of every table (with `integration` as the root).
pub async fn insert_graph(conn: &DatabaseConnection, integration: integrations::Model) -> Graph {
    let integration = insert(conn, integration.into_active_model()).await;
    let object_mapping = insert(conn, object_mapping(integration.id).into_active_model()).await;
    let field_mapping = insert(conn, field_mapping(object_mapping.id).into_active_model()).await;
    let event_stream = insert(conn, event_stream(object_mapping.id).into_active_model()).await;
    let object_link = insert(conn, object_link(object_mapping.id).into_active_model()).await;
    let sync_state = insert(conn, sync_state(object_link.id).into_active_model()).await;
    let mut log = sync_log(integration.id, Some(object_mapping.id)).into_active_model();
    log.id = hubsync_entities::sea_orm::ActiveValue::NotSet;
    let sync_log = insert(conn, log).await;
    let full_sync_run = insert(conn, full_sync_run(integration.id).into_active_model()).await;
    let full_sync_shard = insert(
        conn,
        full_sync_shard(full_sync_run.id, 0).into_active_model(),
    )
    .await;
    Graph {
        integration,
        object_mapping,
        field_mapping,
        event_stream,
        object_link,
        sync_state,
        sync_log,
        full_sync_run,
        full_sync_shard,
    }
}

/// Whether `err` is a unique constraint violation.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether `err` is a foreign key violation.
pub fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}
