//! `sync_log`: one row per record sync attempt (synced, skipped with a reason, failed with a
//! category). Field names only, never values.

use hubsync_entities::sync_log::ActiveModel;
use hubsync_entities::{StringList, SyncDirection, SyncOutcome};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};
use uuid::Uuid;

use super::errors::EngineError;

/// One sync log row to write.
#[derive(Debug, Clone)]
pub struct Entry {
    pub integration_id: Uuid,
    pub object_mapping_id: Option<Uuid>,
    pub job_id: Option<String>,
    pub direction: SyncDirection,
    pub hubspot_object_type: Option<String>,
    pub hubspot_object_id: Option<String>,
    pub userflow_object_id: Option<String>,
}

impl Entry {
    pub fn new(integration_id: Uuid, direction: SyncDirection) -> Self {
        Self {
            integration_id,
            object_mapping_id: None,
            job_id: None,
            direction,
            hubspot_object_type: None,
            hubspot_object_id: None,
            userflow_object_id: None,
        }
    }

    fn row(&self, outcome: SyncOutcome) -> ActiveModel {
        ActiveModel {
            integration_id: Set(self.integration_id),
            object_mapping_id: Set(self.object_mapping_id),
            job_id: Set(self.job_id.clone()),
            direction: Set(self.direction),
            hubspot_object_type: Set(self.hubspot_object_type.clone()),
            hubspot_object_id: Set(self.hubspot_object_id.clone()),
            userflow_object_id: Set(self.userflow_object_id.clone()),
            outcome: Set(outcome),
            reason: Set(None),
            fields_changed: Set(StringList::new()),
            error_category: Set(None),
            error_message: Set(None),
            ..Default::default()
        }
    }

    /// `synced`, with the names of the fields written.
    pub async fn synced<C: ConnectionTrait>(&self, db: &C, fields: &[String]) -> Result<(), DbErr> {
        let mut row = self.row(SyncOutcome::Synced);
        row.fields_changed = Set(fields.iter().cloned().collect());
        row.insert(db).await.map(|_| ())
    }

    /// `skipped`, with why (`hubsync_entities::skip_reason` or another short word).
    pub async fn skipped<C: ConnectionTrait>(&self, db: &C, reason: &str) -> Result<(), DbErr> {
        let mut row = self.row(SyncOutcome::Skipped);
        row.reason = Set(Some(reason.to_owned()));
        row.insert(db).await.map(|_| ())
    }

    /// `failed`, with the error's category and message.
    pub async fn failed<C: ConnectionTrait>(&self, db: &C, err: &EngineError) -> Result<(), DbErr> {
        let mut row = self.row(SyncOutcome::Failed);
        row.reason = Set(Some(if err.is_retryable() {
            "will_retry".to_owned()
        } else {
            "dead_letter".to_owned()
        }));
        row.error_category = Set(Some(err.category.to_owned()));
        row.error_message = Set(Some(err.message.clone()));
        row.insert(db).await.map(|_| ())
    }
}
