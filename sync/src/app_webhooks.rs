//! The HubSpot app's webhook settings and subscriptions, kept in line with the mappings.
//!
//! The app is shared by every integration of the cluster, so what it must subscribe to is
//! the union over all integrations that are not disconnected: `creation`, `deletion`,
//! `merge` and `associationChange` of every mapped object type, and `propertyChange` of
//! every HubSpot property a mapping reads (match properties and source paths; an association
//! path `companies.name` subscribes to `company.propertyChange` of `name`). Standard types use
//! `contact.*`/`company.*`/`deal.*`/`ticket.*`; custom types the generic `object.*` with
//! their `objectTypeId`. The target URL is `<public url>/webhooks/hubspot`. [`reconcile`]
//! creates (active) what is missing, activates what is paused, deletes what no mapping
//! needs any more, and reports what differed.

use std::collections::BTreeSet;

use hubsync_entities::prelude::{FieldMappingsEntity, IntegrationsEntity, ObjectMappingsEntity};
use hubsync_entities::{
    IntegrationStatus, SyncDirection, field_mappings, integrations, object_mappings,
};
use hubsync_hubspot::AppId;
use hubsync_hubspot::models::webhooks::{
    Subscription, SubscriptionCreate, Throttling, WebhookSettings,
};
use hubsync_hubspot::requests::webhooks::{
    CreateSubscription, DeleteSubscription, GetWebhookSettings, ListSubscriptions,
    PutWebhookSettings, UpdateSubscription,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use hubsync_entities::setup_status::WebhookReport;

use crate::context::SyncContext;
use crate::error::SyncError;
use crate::schema_setup::update_status;

/// Object-level events every mapped type is subscribed to.
const OBJECT_EVENTS: [&str; 4] = ["creation", "deletion", "merge", "associationChange"];

/// Concurrent deliveries asked for when hubsync sets the target URL (HubSpot wants > 5).
const MAX_CONCURRENT_REQUESTS: u32 = 10;

/// One subscription as compared: `(eventType, propertyName, objectTypeId)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wanted {
    pub event_type: String,
    pub property_name: Option<String>,
    pub object_type_id: Option<String>,
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.event_type)?;
        if let Some(t) = &self.object_type_id {
            write!(f, "[{t}]")?;
        }
        if let Some(p) = &self.property_name {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// The subscription prefix and generic object type id of a HubSpot object type.
fn prefix_of(object_type: &str) -> (String, Option<String>) {
    match object_type {
        "contacts" | "0-1" => ("contact".into(), None),
        "companies" | "0-2" => ("company".into(), None),
        "deals" | "0-3" => ("deal".into(), None),
        "tickets" | "0-5" => ("ticket".into(), None),
        other => ("object".into(), Some(other.to_owned())),
    }
}

fn wanted(object_type: &str, action: &str, property: Option<&str>) -> Wanted {
    let (prefix, object_type_id) = prefix_of(object_type);
    Wanted {
        event_type: format!("{prefix}.{action}"),
        property_name: property.map(str::to_owned),
        object_type_id,
    }
}

/// How an existing subscription compares with a [`Wanted`] one.
fn key_of(sub: &Subscription) -> Wanted {
    Wanted {
        event_type: sub.event_type.clone(),
        property_name: sub.property_name.clone().filter(|p| !p.is_empty()),
        object_type_id: sub.object_type_id.clone().filter(|t| !t.is_empty()),
    }
}

/// Properties HubSpot does not let an app subscribe to.
const UNSUBSCRIBABLE: [&str; 2] = ["hs_lastmodifieddate", "num_unique_conversion_events"];

/// What the mappings of every live integration need.
pub async fn desired(ctx: &SyncContext) -> Result<BTreeSet<Wanted>, SyncError> {
    let live: Vec<Uuid> = IntegrationsEntity::find()
        .filter(integrations::Column::Status.ne(IntegrationStatus::Disconnected))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mappings = ObjectMappingsEntity::find()
        .filter(object_mappings::Column::Enabled.eq(true))
        .filter(object_mappings::Column::IntegrationId.is_in(live))
        .all(&ctx.db)
        .await?;
    let mut out = BTreeSet::new();
    for m in &mappings {
        let t = m.hubspot_object_type.as_str();
        for action in OBJECT_EVENTS {
            out.insert(wanted(t, action, None));
        }
        let mut props = vec![(t.to_owned(), m.match_hubspot_property.clone())];
        let fields = FieldMappingsEntity::find()
            .filter(field_mappings::Column::ObjectMappingId.eq(m.id))
            .filter(field_mappings::Column::Direction.eq(SyncDirection::HubspotToUserflow))
            .all(&ctx.db)
            .await?;
        for f in fields {
            match f.source_path.split_once('.') {
                Some((assoc, prop)) => props.push((assoc.to_owned(), prop.to_owned())),
                None => props.push((t.to_owned(), f.source_path.clone())),
            }
        }
        for (object_type, prop) in props {
            if !UNSUBSCRIBABLE.contains(&prop.as_str()) {
                out.insert(wanted(&object_type, "propertyChange", Some(&prop)));
            }
        }
    }
    Ok(out)
}

/// Makes the app's target URL and subscriptions what the mappings need (see the module
/// docs). Fails only when HubSpot cannot be read at all; single refused changes are listed
/// in the report's `problems`.
#[tracing::instrument(skip_all)]
pub async fn reconcile(ctx: &SyncContext) -> Result<WebhookReport, SyncError> {
    let app = &ctx.settings.hubspot;
    let app_id = AppId(app.app_id.ok_or_else(|| {
        SyncError::Settings("--hubspot-app-id (HUBSYNC_HUBSPOT_APP_ID) is not set".into())
    })?);
    let key = app.developer_api_key.clone().ok_or_else(|| {
        SyncError::Settings(
            "--hubspot-developer-api-key (HUBSYNC_HUBSPOT_DEVELOPER_API_KEY) is not set".into(),
        )
    })?;
    let target_url = ctx.settings.public("/webhooks/hubspot")?;
    let client = hubsync_hubspot::Client::builder()
        .base_url(app.api_base.clone())
        .developer_api_key(key)
        .build()?;
    let mut report = WebhookReport {
        target_url: Some(target_url.clone()),
        checked_at: Some(hubsync_entities::now()),
        ..WebhookReport::default()
    };

    let current = match GetWebhookSettings::new(app_id).send(&client).await {
        Ok(s) => Some(s),
        Err(hubsync_hubspot::Error::Api { status: 404, .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if current.as_ref().map(|s| s.target_url.as_str()) != Some(target_url.as_str()) {
        report.drift.push(match &current {
            Some(s) => format!("target URL was {}", s.target_url),
            None => "no target URL was set".to_owned(),
        });
        let throttling = current
            .map(|s| s.throttling)
            .filter(|t| t.max_concurrent_requests > 5)
            .unwrap_or(Throttling {
                max_concurrent_requests: MAX_CONCURRENT_REQUESTS,
                period: None,
            });
        let settings = WebhookSettings {
            target_url: target_url.clone(),
            throttling,
        };
        if let Err(e) = PutWebhookSettings::new(app_id, settings)
            .send(&client)
            .await
        {
            report
                .problems
                .push(format!("setting the target URL failed: {e}"));
        }
    }

    let want = desired(ctx).await?;
    let have = ListSubscriptions::new(app_id).send(&client).await?.results;
    let mut seen = BTreeSet::new();
    for sub in &have {
        let key = key_of(sub);
        if want.contains(&key) && seen.insert(key.clone()) {
            if !sub.active {
                report.drift.push(format!("{key} was paused"));
                match UpdateSubscription::new(app_id, sub.id.to_string(), true)
                    .send(&client)
                    .await
                {
                    Ok(_) => report.activated.push(key.to_string()),
                    Err(e) => report
                        .problems
                        .push(format!("activating {key} failed: {e}")),
                }
            }
            continue;
        }
        report.drift.push(format!("{key} is not needed"));
        match DeleteSubscription::new(app_id, sub.id.to_string())
            .send(&client)
            .await
        {
            Ok(()) => report.deleted.push(key.to_string()),
            Err(hubsync_hubspot::Error::Api { status: 404, .. }) => {
                report.deleted.push(key.to_string())
            }
            Err(e) => report.problems.push(format!("deleting {key} failed: {e}")),
        }
    }
    let mut refused: Vec<(Wanted, String)> = Vec::new();
    for key in want.difference(&seen) {
        report.drift.push(format!("{key} was missing"));
        let create = SubscriptionCreate {
            event_type: key.event_type.clone(),
            property_name: key.property_name.clone(),
            active: Some(true),
            object_type_id: key.object_type_id.clone(),
        };
        match CreateSubscription::new(app_id, create).send(&client).await {
            Ok(_) => report.created.push(key.to_string()),
            Err(e) => refused.push((key.clone(), e.to_string())),
        }
    }
    if !refused.is_empty() {
        // Another replica may have created the same subscription meanwhile (HubSpot refuses
        // a duplicate): what exists now is not a problem.
        let now: BTreeSet<Wanted> = ListSubscriptions::new(app_id)
            .send(&client)
            .await?
            .results
            .iter()
            .map(key_of)
            .collect();
        for (key, e) in refused {
            if !now.contains(&key) {
                report.problems.push(format!("creating {key} failed: {e}"));
            }
        }
    }
    report.in_line = report.problems.is_empty();
    tracing::info!(
        in_line = report.in_line,
        created = report.created.len(),
        deleted = report.deleted.len(),
        "webhook subscriptions reconciled"
    );
    Ok(report)
}

/// [`reconcile`], with the outcome (or the error) stored in `integration_id`'s setup status.
pub async fn reconcile_and_record(
    ctx: &SyncContext,
    integration_id: Uuid,
) -> Result<WebhookReport, SyncError> {
    let report = match reconcile(ctx).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%integration_id, error = %e, "webhook reconciliation failed");
            WebhookReport {
                in_line: false,
                problems: vec![e.to_string()],
                checked_at: Some(hubsync_entities::now()),
                ..WebhookReport::default()
            }
        }
    };
    let stored = report.clone();
    update_status(&ctx.db, integration_id, move |s| s.webhooks = Some(stored)).await?;
    Ok(report)
}
