//! HubSpot deletions and merges (`HubspotRemoved`): a deleted object loses its links (nothing
//! is deleted in Userflow); a merged-away object's link moves to the surviving object unless
//! that one is linked already.

use hubsync_core::jobs::HubspotRemoved;
use hubsync_entities::SyncDirection;

use super::links::{self, Merged};
use super::{EngineError, JobReport, ObjectSync, Outcome, log, mappings};
use crate::Tenant;

pub async fn handle(
    tenant: &Tenant,
    job: &HubspotRemoved,
    job_id: Option<String>,
) -> Result<JobReport, EngineError> {
    let db = &tenant.ctx.db;
    let mut report = JobReport::default();
    for mapping in mappings::load(db, tenant.id())
        .await?
        .iter()
        .filter(|m| m.covers_hubspot(&job.object_type))
    {
        let link = links::by_hubspot(db, mapping.id(), &job.object_id).await?;
        let mut entry = log::Entry::new(tenant.id(), SyncDirection::HubspotToUserflow);
        entry.object_mapping_id = Some(mapping.id());
        entry.job_id = job_id.clone();
        entry.hubspot_object_type = Some(job.object_type.clone());
        entry.hubspot_object_id = Some(job.object_id.clone());
        entry.userflow_object_id = link.as_ref().map(|l| l.userflow_object_id.clone());
        let reason = match &job.merged_into {
            Some(into) => match links::merge(db, mapping.id(), &job.object_id, into).await? {
                Merged::NoLink => "merged_not_linked",
                Merged::Moved => "merged_link_moved",
                Merged::Dropped => "merged_into_linked_object",
            },
            None => {
                if links::unlink(db, &[mapping.id()], &job.object_id).await? > 0 {
                    "deleted_unlinked"
                } else {
                    "deleted_not_linked"
                }
            }
        };
        entry.skipped(db, reason).await?;
        tracing::info!(mapping_id = %mapping.id(), hubspot_object_id = %job.object_id, merged_into = ?job.merged_into, reason, "HubSpot object removed");
        report.objects.push(ObjectSync {
            mapping_id: mapping.id(),
            direction: SyncDirection::HubspotToUserflow,
            hubspot_object_id: Some(
                job.merged_into
                    .clone()
                    .unwrap_or_else(|| job.object_id.clone()),
            ),
            userflow_object_id: entry.userflow_object_id.clone(),
            outcome: Outcome::skipped(reason),
            changes: Vec::new(),
        });
    }
    Ok(report)
}
