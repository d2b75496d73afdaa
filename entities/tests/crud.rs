//! Every entity is written and read back unchanged, on PostgreSQL and SQLite.

mod common;

use std::time::Duration;

use common::{at, insert, insert_graph};
use hubsync_entities::sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder, Set,
};
use hubsync_entities::{
    EventStreamMode, FullSyncStatus, IntegrationStatus, StringList, SyncOutcome, TimelineTemplates,
    event_streams, field_mappings, full_sync_runs, full_sync_shards, integrations, object_links,
    object_mappings, sync_log, sync_state,
};
use hubsync_migrations::backend_tests;
use hubsync_migrations::test_support::{Backend, TestDb};
use uuid::Uuid;

backend_tests!(
    every_entity_round_trips,
    nulls_round_trip,
    updates_round_trip,
    behavior_fills_ids_and_timestamps,
    database_defaults_apply,
    relations_resolve,
    unique_key_finders,
);

/// Inserts `$model` through its ActiveModel, then checks that both the row
/// returned by the insert and the row selected by primary key equal it.
macro_rules! round_trip {
    ($conn:expr, $module:ident, $model:expr) => {{
        let expected: $module::Model = $model;
        let inserted = insert($conn, expected.clone().into_active_model()).await;
        assert_eq!(
            inserted,
            expected,
            "{} as returned by insert",
            stringify!($module)
        );
        let read = $module::Entity::find_by_id(expected.id.clone())
            .one($conn)
            .await
            .expect(concat!("select ", stringify!($module)))
            .expect(concat!(stringify!($module), " row exists"));
        assert_eq!(read, expected, "{} as selected", stringify!($module));
        read
    }};
}

async fn every_entity_round_trips(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();

    let integration = round_trip!(conn, integrations, common::integration());
    let mapping = round_trip!(
        conn,
        object_mappings,
        common::object_mapping(integration.id)
    );
    round_trip!(conn, field_mappings, common::field_mapping(mapping.id));
    round_trip!(conn, event_streams, common::event_stream(mapping.id));
    let link = round_trip!(conn, object_links, common::object_link(mapping.id));
    round_trip!(conn, sync_state, common::sync_state(link.id));
    let run = round_trip!(conn, full_sync_runs, common::full_sync_run(integration.id));
    round_trip!(conn, full_sync_shards, common::full_sync_shard(run.id, 0));

    // sync_log: the id is generated.
    let mut ids = Vec::new();
    for object_mapping_id in [Some(mapping.id), None] {
        let mut expected = common::sync_log(integration.id, object_mapping_id);
        let mut row = expected.clone().into_active_model();
        row.id = NotSet;
        let inserted = insert(conn, row).await;
        expected.id = inserted.id;
        assert_eq!(inserted, expected, "sync_log as returned by insert");
        let read = sync_log::Entity::find_by_id(expected.id)
            .one(conn)
            .await
            .expect("select sync_log")
            .expect("sync_log row exists");
        assert_eq!(read, expected, "sync_log as selected");
        ids.push(inserted.id);
    }
    assert!(ids[0] >= 1 && ids[1] > ids[0], "ids increase: {ids:?}");

    db.close().await.expect("drop test database");
}

/// Every nullable column stores and returns `None`.
async fn nulls_round_trip(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();

    let integration = round_trip!(
        conn,
        integrations,
        integrations::Model {
            id: Uuid::new_v4(),
            name: String::new(),
            hubspot_portal_id: None,
            userflow_environment: None,
            status: IntegrationStatus::Pending,
            status_reason: None,
            hubspot_access_token_enc: None,
            hubspot_refresh_token_enc: None,
            hubspot_token_expires_at: None,
            hubspot_scopes: None,
            userflow_api_key_enc: None,
            userflow_webhook_secret_enc: None,
            userflow_webhook_subscription_id: None,
            setup_status: None,
            created_at: at(0),
            updated_at: at(0),
        }
    );
    let mapping = round_trip!(
        conn,
        object_mappings,
        common::object_mapping(integration.id)
    );
    round_trip!(
        conn,
        event_streams,
        event_streams::Model {
            mode: EventStreamMode::Off,
            event_names: StringList::new(),
            timeline_templates: None,
            ..common::event_stream(mapping.id)
        }
    );
    let link = round_trip!(conn, object_links, common::object_link(mapping.id));
    round_trip!(
        conn,
        sync_state,
        sync_state::Model {
            last_value: None,
            ..common::sync_state(link.id)
        }
    );
    round_trip!(
        conn,
        full_sync_runs,
        full_sync_runs::Model {
            total_estimated: None,
            error: None,
            started_at: None,
            finished_at: None,
            status: FullSyncStatus::Pending,
            ..common::full_sync_run(integration.id)
        }
    );

    let mut row = sync_log::Model {
        object_mapping_id: None,
        job_id: None,
        hubspot_object_type: None,
        hubspot_object_id: None,
        userflow_object_id: None,
        outcome: SyncOutcome::Synced,
        reason: None,
        fields_changed: StringList::new(),
        error_category: None,
        error_message: None,
        ..common::sync_log(integration.id, None)
    };
    let mut active = row.clone().into_active_model();
    active.id = NotSet;
    let inserted = insert(conn, active).await;
    row.id = inserted.id;
    assert_eq!(inserted, row);
    let read = sync_log::Entity::find_by_id(row.id)
        .one(conn)
        .await
        .expect("select sync_log")
        .expect("sync_log row exists");
    assert_eq!(read, row);

    db.close().await.expect("drop test database");
}

/// Updates through the ActiveModel are stored, JSON and timestamps included.
async fn updates_round_trip(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let graph = insert_graph(conn, common::integration()).await;

    let mut integration = graph.integration.clone().into_active_model();
    integration.status = Set(IntegrationStatus::Connected);
    integration.status_reason = Set(None);
    integration.hubspot_scopes = Set(Some(StringList::from_iter(["oauth"])));
    integration.hubspot_token_expires_at = Set(Some(at(7200)));
    integration.updated_at = Set(at(100));
    let updated = integration.update(conn).await.expect("update integration");
    let expected = integrations::Model {
        status: IntegrationStatus::Connected,
        status_reason: None,
        hubspot_scopes: Some(StringList::from_iter(["oauth"])),
        hubspot_token_expires_at: Some(at(7200)),
        updated_at: at(100),
        ..graph.integration.clone()
    };
    assert_eq!(updated, expected);
    let read = integrations::Entity::find_by_id(expected.id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert_eq!(read, expected);

    let mut stream = graph.event_stream.clone().into_active_model();
    stream.mode = Set(EventStreamMode::All);
    stream.timeline_templates = Set(Some(TimelineTemplates::from_iter([("x", "9")])));
    stream.updated_at = Set(at(101));
    let updated = stream.update(conn).await.expect("update event stream");
    let read = event_streams::Entity::find_by_id(updated.id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert_eq!(read, updated);
    assert_eq!(
        read.timeline_templates.as_ref().and_then(|t| t.get("x")),
        Some("9")
    );

    let mut shard = graph.full_sync_shard.clone().into_active_model();
    shard.cursor = Set(Some("page=4".to_owned()));
    shard.processed = Set(700);
    shard.status = Set(FullSyncStatus::Running);
    let updated = shard.update(conn).await.expect("update shard");
    let read = full_sync_shards::Entity::find_by_id(updated.id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert_eq!(read, updated);
    assert_eq!(read.processed, 700);
    assert_eq!(read.cursor.as_deref(), Some("page=4"));

    db.close().await.expect("drop test database");
}

/// `ActiveModel::insert` fills in `id`, `created_at` and `updated_at`, and
/// `update` refreshes `updated_at`.
async fn behavior_fills_ids_and_timestamps(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let before = hubsync_entities::now();

    let integration = integrations::ActiveModel {
        name: Set("new".to_owned()),
        status: Set(IntegrationStatus::Pending),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert integration");
    assert!(!integration.id.is_nil());
    assert!(integration.created_at >= before);
    assert!(integration.created_at <= hubsync_entities::now());
    assert_eq!(integration.updated_at, integration.created_at);

    // An explicit created_at also becomes the initial updated_at.
    let mapping = object_mappings::ActiveModel {
        integration_id: Set(integration.id),
        hubspot_object_type: Set("contacts".to_owned()),
        userflow_object_type: Set(hubsync_entities::UserflowObjectType::User),
        match_hubspot_property: Set("email".to_owned()),
        match_userflow_attribute: Set(hubsync_entities::UserflowMatchAttribute::Email),
        created_at: Set(at(0)),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert mapping");
    assert_eq!(mapping.created_at, at(0));
    assert_eq!(mapping.updated_at, at(0));
    assert!(mapping.enabled, "enabled defaults to true");

    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut active = integration.clone().into_active_model();
    active.name = Set("renamed".to_owned());
    let updated = active.update(conn).await.expect("update integration");
    assert_eq!(updated.name, "renamed");
    assert_eq!(updated.created_at, integration.created_at);
    assert!(updated.updated_at > integration.updated_at);

    let log = sync_log::ActiveModel {
        integration_id: Set(integration.id),
        direction: Set(hubsync_entities::SyncDirection::HubspotToUserflow),
        outcome: Set(SyncOutcome::Skipped),
        reason: Set(Some(hubsync_entities::skip_reason::UNCHANGED.to_owned())),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert sync_log");
    assert!(log.created_at >= before);
    assert!(log.fields_changed.is_empty());

    db.close().await.expect("drop test database");
}

/// Bulk inserts bypass `ActiveModelBehavior`; the database defaults fill
/// the timestamps, counters, flags and JSON lists.
async fn database_defaults_apply(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let before = hubsync_entities::now() - chrono::Duration::seconds(5);

    let integration_id = Uuid::new_v4();
    integrations::Entity::insert(integrations::ActiveModel {
        id: Set(integration_id),
        name: Set("bulk".to_owned()),
        status: Set(IntegrationStatus::Pending),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .expect("insert integration");
    let integration = integrations::Entity::find_by_id(integration_id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    let after = hubsync_entities::now() + chrono::Duration::seconds(5);
    assert!(
        integration.created_at >= before && integration.created_at <= after,
        "created_at {} not between {before} and {after}",
        integration.created_at
    );
    assert!(integration.updated_at >= before && integration.updated_at <= after);

    let mapping_id = Uuid::new_v4();
    object_mappings::Entity::insert(object_mappings::ActiveModel {
        id: Set(mapping_id),
        integration_id: Set(integration_id),
        hubspot_object_type: Set("contacts".to_owned()),
        userflow_object_type: Set(hubsync_entities::UserflowObjectType::User),
        match_hubspot_property: Set("email".to_owned()),
        match_userflow_attribute: Set(hubsync_entities::UserflowMatchAttribute::Email),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .expect("insert mapping");
    let mapping = object_mappings::Entity::find_by_id(mapping_id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert!(mapping.enabled);

    let stream_id = Uuid::new_v4();
    event_streams::Entity::insert(event_streams::ActiveModel {
        id: Set(stream_id),
        object_mapping_id: Set(mapping_id),
        mode: Set(EventStreamMode::Off),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .expect("insert event stream");
    let stream = event_streams::Entity::find_by_id(stream_id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert_eq!(stream.event_names, StringList::new());
    assert_eq!(stream.timeline_templates, None);

    let run_id = Uuid::new_v4();
    full_sync_runs::Entity::insert(full_sync_runs::ActiveModel {
        id: Set(run_id),
        integration_id: Set(integration_id),
        trigger: Set(hubsync_entities::FullSyncTrigger::Manual),
        status: Set(FullSyncStatus::Pending),
        shard_count: Set(4),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .expect("insert run");
    let run = full_sync_runs::Entity::find_by_id(run_id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert_eq!((run.processed, run.failed), (0, 0));

    let shard_id = Uuid::new_v4();
    full_sync_shards::Entity::insert(full_sync_shards::ActiveModel {
        id: Set(shard_id),
        run_id: Set(run_id),
        shard_index: Set(3),
        status: Set(FullSyncStatus::Pending),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await
    .expect("insert shard");
    let shard = full_sync_shards::Entity::find_by_id(shard_id)
        .one(conn)
        .await
        .expect("select")
        .expect("row exists");
    assert_eq!((shard.processed, shard.failed, shard.cursor), (0, 0, None));

    sync_log::Entity::insert_many([
        sync_log::ActiveModel {
            integration_id: Set(integration_id),
            direction: Set(hubsync_entities::SyncDirection::UserflowToHubspot),
            outcome: Set(SyncOutcome::Failed),
            ..Default::default()
        },
        sync_log::ActiveModel {
            integration_id: Set(integration_id),
            direction: Set(hubsync_entities::SyncDirection::UserflowToHubspot),
            outcome: Set(SyncOutcome::Synced),
            ..Default::default()
        },
    ])
    .exec_without_returning(conn)
    .await
    .expect("insert sync log");
    let logs = sync_log::Entity::find()
        .filter(sync_log::Column::IntegrationId.eq(integration_id))
        .order_by_asc(sync_log::Column::Id)
        .all(conn)
        .await
        .expect("select sync log");
    assert_eq!(logs.len(), 2);
    for log in &logs {
        assert!(log.fields_changed.is_empty());
        assert!(log.created_at >= before && log.created_at <= after);
    }

    db.close().await.expect("drop test database");
}

/// The relations declared on the entities match the foreign keys.
async fn relations_resolve(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let g = insert_graph(conn, common::integration()).await;
    // A second integration, so that filters are really exercised.
    insert_graph(conn, common::integration()).await;

    let mappings = g
        .integration
        .find_related(object_mappings::Entity)
        .all(conn)
        .await
        .expect("integration -> object mappings");
    assert_eq!(mappings, vec![g.object_mapping.clone()]);

    let owner = g
        .object_mapping
        .find_related(integrations::Entity)
        .one(conn)
        .await
        .expect("object mapping -> integration");
    assert_eq!(owner, Some(g.integration.clone()));

    let fields = g
        .object_mapping
        .find_related(field_mappings::Entity)
        .all(conn)
        .await
        .expect("object mapping -> field mappings");
    assert_eq!(fields, vec![g.field_mapping.clone()]);

    let stream = g
        .object_mapping
        .find_related(event_streams::Entity)
        .one(conn)
        .await
        .expect("object mapping -> event stream");
    assert_eq!(stream, Some(g.event_stream.clone()));

    let links = g
        .object_mapping
        .find_related(object_links::Entity)
        .all(conn)
        .await
        .expect("object mapping -> object links");
    assert_eq!(links, vec![g.object_link.clone()]);

    let states = g
        .object_link
        .find_related(sync_state::Entity)
        .all(conn)
        .await
        .expect("object link -> sync state");
    assert_eq!(states, vec![g.sync_state.clone()]);

    let logs = g
        .integration
        .find_related(sync_log::Entity)
        .all(conn)
        .await
        .expect("integration -> sync log");
    assert_eq!(logs, vec![g.sync_log.clone()]);
    let log_mapping = g
        .sync_log
        .find_related(object_mappings::Entity)
        .one(conn)
        .await
        .expect("sync log -> object mapping");
    assert_eq!(log_mapping, Some(g.object_mapping.clone()));

    let runs = g
        .integration
        .find_related(full_sync_runs::Entity)
        .all(conn)
        .await
        .expect("integration -> runs");
    assert_eq!(runs, vec![g.full_sync_run.clone()]);
    let shards = g
        .full_sync_run
        .find_related(full_sync_shards::Entity)
        .all(conn)
        .await
        .expect("run -> shards");
    assert_eq!(shards, vec![g.full_sync_shard.clone()]);

    let with_stream = object_mappings::Entity::find_by_id(g.object_mapping.id)
        .find_also_related(event_streams::Entity)
        .one(conn)
        .await
        .expect("join object mapping and event stream");
    assert_eq!(
        with_stream,
        Some((g.object_mapping.clone(), Some(g.event_stream.clone())))
    );

    db.close().await.expect("drop test database");
}

/// The finders generated from the unique keys.
async fn unique_key_finders(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let g = insert_graph(conn, common::integration()).await;

    let by_hubspot = object_links::Entity::find_by_mapping_hubspot_object((
        g.object_mapping.id,
        g.object_link.hubspot_object_id.clone(),
    ))
    .one(conn)
    .await
    .expect("find link by HubSpot id");
    assert_eq!(by_hubspot, Some(g.object_link.clone()));

    let by_userflow = object_links::Entity::find_by_mapping_userflow_object((
        g.object_mapping.id,
        g.object_link.userflow_object_id.clone(),
    ))
    .one(conn)
    .await
    .expect("find link by Userflow id");
    assert_eq!(by_userflow, Some(g.object_link.clone()));

    let state = sync_state::Entity::find_by_link_direction_field((
        g.object_link.id,
        g.sync_state.direction,
        g.sync_state.field.clone(),
    ))
    .one(conn)
    .await
    .expect("find sync state");
    assert_eq!(state, Some(g.sync_state.clone()));

    let stream = event_streams::Entity::find_by_object_mapping_id(g.object_mapping.id)
        .one(conn)
        .await
        .expect("find event stream");
    assert_eq!(stream, Some(g.event_stream.clone()));

    let shard = full_sync_shards::Entity::find_by_run_shard_index((g.full_sync_run.id, 0))
        .one(conn)
        .await
        .expect("find shard");
    assert_eq!(shard, Some(g.full_sync_shard.clone()));

    let field = field_mappings::Entity::find_by_mapping_direction_target((
        g.object_mapping.id,
        g.field_mapping.direction,
        g.field_mapping.target.clone(),
    ))
    .one(conn)
    .await
    .expect("find field mapping");
    assert_eq!(field, Some(g.field_mapping.clone()));

    db.close().await.expect("drop test database");
}
