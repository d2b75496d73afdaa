//! `object_links`: which HubSpot object is paired with which Userflow object, per mapping.
//! A link is refreshed by every sync that finds both sides, moved on a HubSpot merge and
//! dropped on a deletion; nothing on either side is ever deleted because of it.

use hubsync_entities::object_links::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

pub async fn by_hubspot<C: ConnectionTrait>(
    db: &C,
    mapping_id: Uuid,
    hubspot_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ObjectMappingId.eq(mapping_id))
        .filter(Column::HubspotObjectId.eq(hubspot_id))
        .one(db)
        .await
}

pub async fn by_userflow<C: ConnectionTrait>(
    db: &C,
    mapping_id: Uuid,
    userflow_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ObjectMappingId.eq(mapping_id))
        .filter(Column::UserflowObjectId.eq(userflow_id))
        .one(db)
        .await
}

/// Stores the pairing `hubspot_id` ↔ `userflow_id` and returns its link. A link that paired
/// either object with another one is replaced, with its sync state (it described another
/// pair).
pub async fn link<C: ConnectionTrait>(
    db: &C,
    mapping_id: Uuid,
    hubspot_id: &str,
    userflow_id: &str,
) -> Result<Model, DbErr> {
    let by_hs = by_hubspot(db, mapping_id, hubspot_id).await?;
    if let Some(l) = &by_hs
        && l.userflow_object_id == userflow_id
    {
        return Ok(l.clone());
    }
    if let Some(l) = by_hs {
        Entity::delete_by_id(l.id).exec(db).await?;
    }
    if let Some(l) = by_userflow(db, mapping_id, userflow_id).await? {
        Entity::delete_by_id(l.id).exec(db).await?;
    }
    let created = ActiveModel {
        object_mapping_id: Set(mapping_id),
        hubspot_object_id: Set(hubspot_id.to_owned()),
        userflow_object_id: Set(userflow_id.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match created {
        Ok(m) => Ok(m),
        // Another job linked the same pair at the same time.
        Err(e) => match by_hubspot(db, mapping_id, hubspot_id).await? {
            Some(l) if l.userflow_object_id == userflow_id => Ok(l),
            _ => Err(e),
        },
    }
}

/// Drops the links of HubSpot object `hubspot_id` in `mapping_ids`; returns how many.
pub async fn unlink<C: ConnectionTrait>(
    db: &C,
    mapping_ids: &[Uuid],
    hubspot_id: &str,
) -> Result<u64, DbErr> {
    if mapping_ids.is_empty() {
        return Ok(0);
    }
    let res = Entity::delete_many()
        .filter(Column::ObjectMappingId.is_in(mapping_ids.iter().copied()))
        .filter(Column::HubspotObjectId.eq(hubspot_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// What [`merge`] did with a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// The merged-away object had no link.
    NoLink,
    /// Its link now points at the surviving object.
    Moved,
    /// The survivor already had a link; the merged-away object's link was dropped.
    Dropped,
}

/// Moves the link of `from` (merged away) to `into` in `mapping_id`, unless `into` has one.
pub async fn merge<C: ConnectionTrait>(
    db: &C,
    mapping_id: Uuid,
    from: &str,
    into: &str,
) -> Result<Merged, DbErr> {
    let Some(old) = by_hubspot(db, mapping_id, from).await? else {
        return Ok(Merged::NoLink);
    };
    if by_hubspot(db, mapping_id, into).await?.is_some() {
        Entity::delete_by_id(old.id).exec(db).await?;
        return Ok(Merged::Dropped);
    }
    let mut am = old.into_active_model();
    am.hubspot_object_id = Set(into.to_owned());
    am.update(db).await?;
    Ok(Merged::Moved)
}
