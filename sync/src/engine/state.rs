//! `sync_state`: the last value hubsync wrote per link, direction and field, in canonical
//! form. It tells a sync whether a value coming from one side is hubsync's own write to that
//! side coming back (echo suppression, design notes §5).

use std::collections::HashMap;

use hubsync_entities::SyncDirection;
use hubsync_entities::sync_state::{ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

/// Field → last value written (None: a clear), for one link and direction.
pub type Written = HashMap<String, Option<String>>;

pub async fn load<C: ConnectionTrait>(
    db: &C,
    link_id: Uuid,
    direction: SyncDirection,
) -> Result<Written, DbErr> {
    Ok(Entity::find()
        .filter(Column::ObjectLinkId.eq(link_id))
        .filter(Column::Direction.eq(direction))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.field, s.last_value))
        .collect())
}

/// Records that `values` (field, canonical value) were written now.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    link_id: Uuid,
    direction: SyncDirection,
    values: &[(String, Option<String>)],
) -> Result<(), DbErr> {
    let now = hubsync_entities::now();
    for (field, value) in values {
        let existing = Entity::find()
            .filter(Column::ObjectLinkId.eq(link_id))
            .filter(Column::Direction.eq(direction))
            .filter(Column::Field.eq(field.as_str()))
            .one(db)
            .await?;
        if let Some(row) = existing {
            let mut am = row.into_active_model();
            am.last_value = Set(value.clone());
            am.last_written_at = Set(now);
            am.update(db).await?;
        } else {
            ActiveModel {
                object_link_id: Set(link_id),
                direction: Set(direction),
                field: Set(field.clone()),
                last_value: Set(value.clone()),
                last_written_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}
