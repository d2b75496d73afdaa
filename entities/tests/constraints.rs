//! Unique constraints, foreign keys and cascading deletes, on PostgreSQL and
//! SQLite.

mod common;

use common::{insert, insert_graph, is_foreign_key_violation, is_unique_violation};
use hubsync_entities::sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set,
};
use hubsync_entities::{
    SyncDirection, event_streams, field_mappings, full_sync_runs, full_sync_shards, integrations,
    object_links, object_mappings, sync_log, sync_state,
};
use hubsync_migrations::backend_tests;
use hubsync_migrations::test_support::{Backend, TestDb};
use uuid::Uuid;

backend_tests!(
    unique_constraints_reject_duplicates,
    same_portal_may_be_paired_twice,
    foreign_keys_are_enforced,
    deleting_an_integration_cascades,
    deleting_a_mapping_cascades_and_keeps_its_log,
    deleting_a_run_cascades_to_its_shards,
);

/// Inserts `$row` and asserts that it fails with a unique violation.
macro_rules! assert_unique_violation {
    ($conn:expr, $row:expr, $what:literal) => {{
        let err = $row
            .into_active_model()
            .insert($conn)
            .await
            .expect_err(concat!("duplicate ", $what, " must be rejected"));
        assert!(
            is_unique_violation(&err),
            "{}: expected a unique violation, got {err:?}",
            $what
        );
    }};
}

async fn unique_constraints_reject_duplicates(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let g = insert_graph(conn, common::integration()).await;
    let other_mapping = insert(
        conn,
        common::object_mapping(g.integration.id).into_active_model(),
    )
    .await;

    // field_mappings: (object_mapping_id, direction, target)
    assert_unique_violation!(
        conn,
        field_mappings::Model {
            id: Uuid::new_v4(),
            source_path: "other".to_owned(),
            ..g.field_mapping.clone()
        },
        "field mapping target"
    );
    let reverse = field_mappings::Model {
        id: Uuid::new_v4(),
        direction: SyncDirection::UserflowToHubspot,
        ..g.field_mapping.clone()
    };
    insert(conn, reverse.into_active_model()).await;
    let elsewhere = field_mappings::Model {
        id: Uuid::new_v4(),
        object_mapping_id: other_mapping.id,
        ..g.field_mapping.clone()
    };
    insert(conn, elsewhere.into_active_model()).await;

    // event_streams: one per object mapping
    assert_unique_violation!(
        conn,
        event_streams::Model {
            id: Uuid::new_v4(),
            ..g.event_stream.clone()
        },
        "event stream"
    );

    // object_links: (object_mapping_id, hubspot_object_id)
    assert_unique_violation!(
        conn,
        object_links::Model {
            id: Uuid::new_v4(),
            userflow_object_id: "someone-else".to_owned(),
            ..g.object_link.clone()
        },
        "HubSpot object link"
    );
    // object_links: (object_mapping_id, userflow_object_id)
    assert_unique_violation!(
        conn,
        object_links::Model {
            id: Uuid::new_v4(),
            hubspot_object_id: "999".to_owned(),
            ..g.object_link.clone()
        },
        "Userflow object link"
    );
    // The same pair under another mapping is fine.
    let link_elsewhere = object_links::Model {
        id: Uuid::new_v4(),
        object_mapping_id: other_mapping.id,
        ..g.object_link.clone()
    };
    insert(conn, link_elsewhere.into_active_model()).await;

    // sync_state: (object_link_id, direction, field)
    assert_unique_violation!(
        conn,
        sync_state::Model {
            id: Uuid::new_v4(),
            last_value: Some("other".to_owned()),
            ..g.sync_state.clone()
        },
        "sync state"
    );
    let other_direction = sync_state::Model {
        id: Uuid::new_v4(),
        direction: SyncDirection::HubspotToUserflow,
        ..g.sync_state.clone()
    };
    insert(conn, other_direction.into_active_model()).await;

    // full_sync_shards: (run_id, shard_index)
    assert_unique_violation!(
        conn,
        full_sync_shards::Model {
            id: Uuid::new_v4(),
            ..g.full_sync_shard.clone()
        },
        "shard index"
    );
    insert(
        conn,
        common::full_sync_shard(g.full_sync_run.id, 1).into_active_model(),
    )
    .await;

    // Primary keys.
    assert_unique_violation!(conn, g.integration.clone(), "integration id");
    assert_unique_violation!(conn, g.object_mapping.clone(), "object mapping id");

    db.close().await.expect("drop test database");
}

/// There is no unique constraint on the portal: the application decides.
async fn same_portal_may_be_paired_twice(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let first = insert(conn, common::integration().into_active_model()).await;
    let second = insert(conn, common::integration().into_active_model()).await;
    assert_eq!(first.hubspot_portal_id, second.hubspot_portal_id);
    let same_portal = integrations::Entity::find()
        .filter(integrations::Column::HubspotPortalId.eq(first.hubspot_portal_id))
        .count(conn)
        .await
        .expect("count");
    assert_eq!(same_portal, 2);
    db.close().await.expect("drop test database");
}

async fn foreign_keys_are_enforced(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();

    let err = common::object_mapping(Uuid::new_v4())
        .into_active_model()
        .insert(conn)
        .await
        .expect_err("mapping of a missing integration must be rejected");
    assert!(is_foreign_key_violation(&err), "{err:?}");

    let err = common::full_sync_shard(Uuid::new_v4(), 0)
        .into_active_model()
        .insert(conn)
        .await
        .expect_err("shard of a missing run must be rejected");
    assert!(is_foreign_key_violation(&err), "{err:?}");

    let integration = insert(conn, common::integration().into_active_model()).await;
    let mut log = common::sync_log(integration.id, Some(Uuid::new_v4())).into_active_model();
    log.id = Default::default();
    let err = log
        .insert(conn)
        .await
        .expect_err("log of a missing mapping must be rejected");
    assert!(is_foreign_key_violation(&err), "{err:?}");

    db.close().await.expect("drop test database");
}

/// Number of rows of each table, in `hubsync_migrations::TABLES` order.
async fn row_counts(conn: &DatabaseConnection) -> [u64; 9] {
    [
        integrations::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        object_mappings::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        field_mappings::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        event_streams::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        object_links::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        sync_state::Entity::find().count(conn).await.expect("count"),
        sync_log::Entity::find().count(conn).await.expect("count"),
        full_sync_runs::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        full_sync_shards::Entity::find()
            .count(conn)
            .await
            .expect("count"),
    ]
}

async fn deleting_an_integration_cascades(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let doomed = insert_graph(conn, common::integration()).await;
    let kept = insert_graph(conn, common::integration()).await;
    assert_eq!(row_counts(conn).await, [2; 9]);

    let result = integrations::Entity::delete_by_id(doomed.integration.id)
        .exec(conn)
        .await
        .expect("delete integration");
    assert_eq!(result.rows_affected, 1);

    // Everything that hung off the deleted integration is gone ...
    assert_eq!(row_counts(conn).await, [1; 9]);
    assert!(
        object_mappings::Entity::find_by_id(doomed.object_mapping.id)
            .one(conn)
            .await
            .expect("select")
            .is_none()
    );
    assert!(
        sync_state::Entity::find_by_id(doomed.sync_state.id)
            .one(conn)
            .await
            .expect("select")
            .is_none()
    );
    assert!(
        sync_log::Entity::find_by_id(doomed.sync_log.id)
            .one(conn)
            .await
            .expect("select")
            .is_none()
    );
    assert!(
        full_sync_shards::Entity::find_by_id(doomed.full_sync_shard.id)
            .one(conn)
            .await
            .expect("select")
            .is_none()
    );
    // ... and the other integration is untouched.
    assert_eq!(
        object_links::Entity::find_by_id(kept.object_link.id)
            .one(conn)
            .await
            .expect("select"),
        Some(kept.object_link.clone())
    );
    assert_eq!(
        sync_log::Entity::find_by_id(kept.sync_log.id)
            .one(conn)
            .await
            .expect("select"),
        Some(kept.sync_log.clone())
    );

    db.close().await.expect("drop test database");
}

async fn deleting_a_mapping_cascades_and_keeps_its_log(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let g = insert_graph(conn, common::integration()).await;

    object_mappings::Entity::delete_by_id(g.object_mapping.id)
        .exec(conn)
        .await
        .expect("delete object mapping");

    // integrations, mappings, fields, streams, links, state, log, runs, shards
    assert_eq!(row_counts(conn).await, [1, 0, 0, 0, 0, 0, 1, 1, 1]);
    let log = sync_log::Entity::find_by_id(g.sync_log.id)
        .one(conn)
        .await
        .expect("select")
        .expect("log row kept");
    assert_eq!(
        log,
        sync_log::Model {
            object_mapping_id: None,
            ..g.sync_log.clone()
        }
    );

    db.close().await.expect("drop test database");
}

async fn deleting_a_run_cascades_to_its_shards(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let g = insert_graph(conn, common::integration()).await;
    insert(
        conn,
        common::full_sync_shard(g.full_sync_run.id, 1).into_active_model(),
    )
    .await;

    let mut run = g.full_sync_run.clone().into_active_model();
    run.status = Set(hubsync_entities::FullSyncStatus::Cancelled);
    let run = run.update(conn).await.expect("cancel run");
    assert_eq!(
        full_sync_shards::Entity::find()
            .filter(full_sync_shards::Column::RunId.eq(run.id))
            .count(conn)
            .await
            .expect("count"),
        2
    );

    full_sync_runs::Entity::delete_by_id(run.id)
        .exec(conn)
        .await
        .expect("delete run");
    assert_eq!(row_counts(conn).await, [1, 1, 1, 1, 1, 1, 1, 0, 0]);

    db.close().await.expect("drop test database");
}
