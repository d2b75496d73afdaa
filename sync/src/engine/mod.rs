//! The sync engine: what every realtime and bulk job does for one object (design notes
//! §3–§6), and the same code in "plan only" mode for dry runs.
//!
//! | module | holds |
//! |---|---|
//! | [`mappings`] | an integration's enabled mappings with fields and event stream |
//! | [`links`] | `object_links`: find, create, move, unlink |
//! | [`state`] | `sync_state`: last value written per link, direction, field |
//! | [`pair`] | the link and the sync state one object sync writes through |
//! | [`log`] | `sync_log` rows |
//! | [`from_hubspot`] / [`from_userflow`] | one object, one direction |
//! | [`timeline`] | Userflow events onto HubSpot timelines (or a last-event property) |
//! | [`removed`] | HubSpot deletions and merges |
//! | [`errors`] | failure classes and what the queue does with them |
//! | [`preview`] | dry run of a mapping |
//!
//! Every HubSpot call takes a permit from the shared limiter first; a wait or a 429 becomes
//! `retry_at` without using an attempt. Values are compared in canonical form
//! ([`hubsync_core::mapping::values`]) and decided by [`hubsync_core::mapping::diff`].

pub mod errors;
pub mod from_hubspot;
pub mod from_userflow;
pub mod links;
pub mod log;
pub mod mappings;
pub mod pair;
pub mod preview;
pub mod removed;
pub mod state;
pub mod timeline;

use std::time::SystemTime;

use hubsync_core::jobs::{Job, UserflowKind};
use hubsync_core::mapping::diff::{self, FieldDecision, Verdict};
use hubsync_entities::{IntegrationStatus, SyncDirection, skip_reason};
use hubsync_hubspot::ObjectType;
use hubsync_hubspot::models::object::CrmObject;
use hubsync_hubspot::models::search::{Filter, Operator};
use hubsync_hubspot::requests::objects::{GetObject, SearchObjects};
use hubsync_userflow::models::AttributeMap;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::ratelimit::{Acquire, CallKind, PortalLimits};
use crate::{SyncContext, SyncError, Tenant};
pub use errors::{Action, EngineError};
use mappings::Mapping;

/// Whether a sync writes or only says what it would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write changes, links, sync state and the sync log.
    Apply,
    /// Read both sides and report; write nothing anywhere.
    Plan,
}

/// One field a sync writes (or would write), with values: only dry runs show these.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// What a sync did (or would do) with one object for one mapping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectSync {
    pub mapping_id: Uuid,
    pub direction: SyncDirection,
    pub hubspot_object_id: Option<String>,
    pub userflow_object_id: Option<String>,
    pub outcome: Outcome,
    pub changes: Vec<FieldChange>,
}

/// The outcome of one object sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// These fields were (would be) written.
    Synced { fields: Vec<String> },
    /// Nothing was (would be) written.
    Skipped { reason: String },
}

impl Outcome {
    pub fn skipped(reason: &str) -> Self {
        Self::Skipped {
            reason: reason.to_owned(),
        }
    }
}

/// A Userflow user or group as the engine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserflowObject {
    pub kind: UserflowKind,
    pub id: String,
    pub attributes: AttributeMap,
}

impl UserflowObject {
    pub fn attribute(&self, name: &str) -> Value {
        self.attributes.get(name).cloned().unwrap_or(Value::Null)
    }
}

/// What a job did, for the worker's log line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobReport {
    pub objects: Vec<ObjectSync>,
    /// Set when the job had nothing to do (`disconnected`, `integration_not_found`, …).
    pub note: Option<String>,
}

/// One integration's sync, with clients, limiter identity and mappings loaded.
pub struct Engine {
    pub tenant: Tenant,
    pub mode: Mode,
    pub job_id: Option<String>,
    pub mappings: Vec<Mapping>,
    hubspot: hubsync_hubspot::Client,
    /// The access token `hubspot` holds, to name it when HubSpot refuses it.
    token: std::sync::Mutex<String>,
    userflow: hubsync_userflow::Client,
    portal: u64,
    app: Option<u64>,
    limits: PortalLimits,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("integration_id", &self.tenant.id())
            .field("mode", &self.mode)
            .field("job_id", &self.job_id)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Loads clients and mappings for `tenant`.
    pub async fn new(
        tenant: Tenant,
        mode: Mode,
        job_id: Option<String>,
    ) -> Result<Self, EngineError> {
        let token = tenant.hubspot_token().await?;
        let hubspot = tenant.hubspot_with_token(token.clone())?;
        let userflow = tenant.userflow()?;
        let portal = tenant.portal_id()?;
        let app = tenant.ctx.settings.hubspot.app_id;
        let mappings = mappings::load(&tenant.ctx.db, tenant.id()).await?;
        Ok(Self {
            hubspot,
            token: std::sync::Mutex::new(token),
            userflow,
            portal,
            app,
            limits: tenant.ctx.settings.hubspot_limits,
            mappings,
            tenant,
            mode,
            job_id,
        })
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.tenant.ctx.db
    }

    pub fn applies(&self) -> bool {
        self.mode == Mode::Apply
    }

    /// A HubSpot call under the shared limiter. A 401 refreshes the token (once across
    /// replicas) and tries again once.
    pub async fn hubspot<R: hubsync_hubspot::Request + ?Sized>(
        &self,
        request: &R,
        kind: CallKind,
    ) -> Result<R::Output, EngineError> {
        let mut refreshed = false;
        loop {
            match self.hubspot_once(request, kind).await {
                Err(CallError::Hubspot(
                    hubsync_hubspot::Error::Unauthorized { .. }
                    | hubsync_hubspot::Error::Expired { .. },
                )) if !refreshed => {
                    refreshed = true;
                    let rejected = self.token.lock().map(|t| t.clone()).unwrap_or_default();
                    tracing::info!("HubSpot refused the access token; refreshing");
                    let fresh = self.tenant.refresh_hubspot(&rejected).await?;
                    self.hubspot.set_access_token(fresh.clone());
                    if let Ok(mut t) = self.token.lock() {
                        *t = fresh;
                    }
                }
                Err(CallError::Engine(e)) => return Err(e),
                Err(CallError::Hubspot(e)) => return Err(self.hubspot_failure(e).await),
                Ok(out) => return Ok(out),
            }
        }
    }

    async fn hubspot_once<R: hubsync_hubspot::Request + ?Sized>(
        &self,
        request: &R,
        kind: CallKind,
    ) -> Result<R::Output, CallError> {
        let limiter = &self.tenant.ctx.limiter;
        let acquired = limiter
            .acquire(self.portal, self.app, kind, &self.limits)
            .await
            .map_err(|e| CallError::Engine(e.into()))?;
        if let Acquire::Wait(w) = acquired {
            return Err(CallError::Engine(EngineError::rate_limited(
                w.retry_at(SystemTime::now()),
                w.to_string(),
            )));
        }
        let res = self.hubspot.send(request).await;
        if let Some(info) = self.hubspot.last_rate_limit()
            && let Err(e) = limiter.observe(self.portal, self.app, &info).await
        {
            tracing::debug!(error = %e, "could not record HubSpot rate-limit headers");
        }
        res.map_err(CallError::Hubspot)
    }

    /// Like [`Engine::hubspot`], with a 404 as `None`.
    pub async fn hubspot_opt<R: hubsync_hubspot::Request + ?Sized>(
        &self,
        request: &R,
        kind: CallKind,
    ) -> Result<Option<R::Output>, EngineError> {
        match self.hubspot(request, kind).await {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.category == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Classifies a HubSpot error; a 429 also pauses every replica's limiter for the time
    /// HubSpot implies.
    async fn hubspot_failure(&self, err: hubsync_hubspot::Error) -> EngineError {
        if let hubsync_hubspot::Error::RateLimited {
            retry_after,
            policy,
            ..
        } = &err
        {
            let now = SystemTime::now();
            let mut at = now + *retry_after;
            match self
                .tenant
                .ctx
                .limiter
                .observe_429(self.portal, self.app, policy, &self.limits)
                .await
            {
                Ok(wait) => at = at.max(wait.retry_at(now)),
                Err(e) => tracing::warn!(error = %e, "could not record a HubSpot 429"),
            }
            return EngineError::rate_limited(at, format!("HubSpot rate limit: {err}"));
        }
        let classified = errors::classify_hubspot(&err);
        if classified.category == "unauthorized" {
            tracing::warn!(error = %err, "HubSpot refused the access token");
        }
        classified
    }

    /// A Userflow call.
    pub async fn userflow<R: hubsync_userflow::Request>(
        &self,
        request: &R,
    ) -> Result<R::Output, EngineError>
    where
        R::Output: Send,
    {
        request
            .send(&self.userflow)
            .await
            .map_err(|e| errors::classify_userflow(&e))
    }

    /// Like [`Engine::userflow`], with a 404 as `None`.
    pub async fn userflow_opt<R: hubsync_userflow::Request>(
        &self,
        request: &R,
    ) -> Result<Option<R::Output>, EngineError>
    where
        R::Output: Send,
    {
        match request.send(&self.userflow).await {
            Ok(out) => Ok(Some(out)),
            Err(hubsync_userflow::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(errors::classify_userflow(&e)),
        }
    }

    /// The Userflow user or group `id`.
    pub async fn read_userflow(
        &self,
        kind: UserflowKind,
        id: &str,
    ) -> Result<Option<UserflowObject>, EngineError> {
        use hubsync_userflow::requests::{groups, users};
        Ok(match kind {
            UserflowKind::User => {
                self.userflow_opt(&users::Get::new(id))
                    .await?
                    .map(|u| UserflowObject {
                        kind,
                        id: u.id.as_str().to_owned(),
                        attributes: u.attributes,
                    })
            }
            UserflowKind::Group => {
                self.userflow_opt(&groups::Get::new(id))
                    .await?
                    .map(|g| UserflowObject {
                        kind,
                        id: g.id.as_str().to_owned(),
                        attributes: g.attributes,
                    })
            }
        })
    }

    /// The Userflow object `mapping` pairs with the HubSpot object `object` (read with the
    /// match property), or `None` when Userflow has none.
    pub async fn find_userflow_for(
        &self,
        mapping: &Mapping,
        object: &CrmObject,
    ) -> Result<Option<UserflowObject>, EngineError> {
        let Some(key) = object
            .property(mapping.match_property())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            return Ok(None);
        };
        match (mapping.matches_by_email(), mapping.kind()) {
            (true, UserflowKind::User) => {
                let found = self
                    .userflow(&hubsync_userflow::requests::users::FindByEmail::new(key))
                    .await?;
                Ok(found.data.into_iter().next().map(|u| UserflowObject {
                    kind: UserflowKind::User,
                    id: u.id.as_str().to_owned(),
                    attributes: u.attributes,
                }))
            }
            // Groups have no email: only an id pairs them.
            (true, UserflowKind::Group) => Ok(None),
            (false, kind) => self.read_userflow(kind, key).await,
        }
    }

    /// The value the HubSpot match property must hold for `object`.
    fn userflow_key(mapping: &Mapping, object: &UserflowObject) -> Option<String> {
        if mapping.matches_by_email() {
            object
                .attribute("email")
                .as_str()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
        } else {
            Some(object.id.clone())
        }
    }

    /// The HubSpot object `mapping` pairs with `object`, read with `properties` (the match
    /// property is added), or `None` when HubSpot has none. The stored link is tried first and
    /// trusted only while its match property still agrees.
    pub async fn find_hubspot_for(
        &self,
        mapping: &Mapping,
        object: &UserflowObject,
        properties: &[String],
    ) -> Result<Option<CrmObject>, EngineError> {
        let Some(key) = Self::userflow_key(mapping, object) else {
            return Ok(None);
        };
        let match_prop = mapping.match_property();
        let mut props: Vec<String> = properties.to_vec();
        if !props.iter().any(|p| p == match_prop) {
            props.push(match_prop.to_owned());
        }
        let object_type = ObjectType::from(mapping.hubspot_type());
        let agrees = |o: &CrmObject| {
            o.property(match_prop).is_some_and(|v| {
                if mapping.matches_by_email() {
                    v.trim().eq_ignore_ascii_case(&key)
                } else {
                    v.trim() == key
                }
            })
        };
        if let Some(link) = links::by_userflow(self.db(), mapping.id(), &object.id).await? {
            let get = GetObject::new(object_type.clone(), link.hubspot_object_id)
                .properties(props.clone());
            if let Some(found) = self.hubspot_opt(&get, CallKind::Standard).await?
                && agrees(&found)
            {
                return Ok(Some(found));
            }
        }
        if match_prop == "hs_object_id" {
            let get = GetObject::new(object_type, key).properties(props);
            return self.hubspot_opt(&get, CallKind::Standard).await;
        }
        if match_prop == "email" && object_type == ObjectType::Contacts {
            let get = GetObject::new(object_type, key)
                .properties(props)
                .id_property("email");
            return self.hubspot_opt(&get, CallKind::Standard).await;
        }
        let search = SearchObjects::new(object_type)
            .filter_group(vec![Filter::new(match_prop, Operator::Eq, key)])
            .properties(props)
            .limit(1);
        let page = self.hubspot(&search, CallKind::Search).await?;
        Ok(page.results.into_iter().next())
    }

    /// A sync log entry for `mapping` in `direction`.
    pub fn entry(&self, mapping: &Mapping, direction: SyncDirection) -> log::Entry {
        let mut e = log::Entry::new(self.tenant.id(), direction);
        e.object_mapping_id = Some(mapping.id());
        e.job_id = self.job_id.clone();
        e.hubspot_object_type = Some(mapping.hubspot_type().to_owned());
        e
    }

    /// Writes a sync log row for `err` (apply mode only) and hands the error back.
    pub async fn failed(&self, entry: &log::Entry, err: EngineError) -> EngineError {
        if self.applies()
            && let Err(e) = entry.failed(self.db(), &err).await
        {
            tracing::warn!(error = %e, "could not write the sync log");
        }
        err
    }

    /// The fields to write, or, when the decisions write none, the logged echo or unchanged
    /// skip.
    pub async fn fields_to_write<'a>(
        &self,
        entry: &log::Entry,
        decisions: impl IntoIterator<Item = (&'a str, FieldDecision)>,
    ) -> Result<Result<Vec<String>, Outcome>, EngineError> {
        Ok(match diff::verdict(decisions) {
            Verdict::Write(_) if self.applies() && !self.still_active().await? => {
                Err(self.skip(entry, "disconnected").await?)
            }
            Verdict::Write(fields) => Ok(fields),
            Verdict::Echo => Err(self.skip(entry, skip_reason::ECHO).await?),
            Verdict::Unchanged => Err(self.skip(entry, skip_reason::UNCHANGED).await?),
        })
    }

    /// Whether the integration still takes writes: the gate checked it when the job started,
    /// but an operator may have disconnected since, and disconnect stops sync at once.
    async fn still_active(&self) -> Result<bool, EngineError> {
        use sea_orm::EntityTrait;
        let now = hubsync_entities::integrations::Entity::find_by_id(self.tenant.id())
            .one(self.db())
            .await?;
        Ok(now.is_some_and(|i| {
            !matches!(
                i.status,
                IntegrationStatus::Disconnected | IntegrationStatus::Pending
            )
        }))
    }

    /// Records a skip: a sync log row in apply mode; the outcome either way.
    pub async fn skip(&self, entry: &log::Entry, reason: &str) -> Result<Outcome, EngineError> {
        if self.applies() {
            entry.skipped(self.db(), reason).await?;
        }
        Ok(Outcome::skipped(reason))
    }
}

/// A HubSpot call that did not succeed: classified already, or HubSpot's answer.
enum CallError {
    Engine(EngineError),
    Hubspot(hubsync_hubspot::Error),
}

/// How a job's integration stands before any work.
#[derive(Debug)]
pub enum Gate {
    /// Connected: go on.
    Run(Box<Tenant>),
    /// Nothing to do; the job finishes (the note says why).
    Done(String),
}

/// Loads the integration of `integration_id` and decides whether a job runs: a missing
/// integration finishes the job; a disconnected or pending one finishes it as a no-op with a
/// `skipped: disconnected` log row; an expired authorization waits an hour (no attempt used).
pub async fn gate(
    ctx: &SyncContext,
    integration_id: Uuid,
    job: &Job,
    job_id: Option<&str>,
) -> Result<Gate, EngineError> {
    let tenant = match ctx.tenant(integration_id).await {
        Ok(t) => t,
        Err(SyncError::IntegrationNotFound(_)) => {
            tracing::info!("integration no longer exists; job dropped");
            return Ok(Gate::Done("integration_not_found".into()));
        }
        Err(e) => return Err(e.into()),
    };
    match tenant.integration.status {
        IntegrationStatus::Connected => Ok(Gate::Run(Box::new(tenant))),
        IntegrationStatus::Disconnected | IntegrationStatus::Pending => {
            let mut entry = log::Entry::new(integration_id, job_direction(job));
            entry.job_id = job_id.map(str::to_owned);
            if let Job::SyncFromHubspot(j) = job {
                entry.hubspot_object_type = Some(j.object_type.clone());
                entry.hubspot_object_id = Some(j.object_id.clone());
            }
            if let Job::SyncFromUserflow(j) = job {
                entry.userflow_object_id = Some(j.id.clone());
            }
            entry.skipped(&ctx.db, "disconnected").await?;
            tracing::info!(status = %tenant.integration.status, "integration not connected; job is a no-op");
            Ok(Gate::Done("disconnected".into()))
        }
        IntegrationStatus::AuthorizationExpired => Err(EngineError::new(
            "authorization_expired",
            format!(
                "HubSpot authorization expired ({}); waiting for a reconnect",
                tenant
                    .integration
                    .status_reason
                    .as_deref()
                    .unwrap_or("reconnect HubSpot")
            ),
            Action::RetryAt(SystemTime::now() + errors::AUTHORIZATION_PAUSE),
        )),
    }
}

/// The direction a job's log rows carry.
fn job_direction(job: &Job) -> SyncDirection {
    match job {
        Job::SyncFromHubspot(_) | Job::HubspotRemoved(_) => SyncDirection::HubspotToUserflow,
        _ => SyncDirection::UserflowToHubspot,
    }
}

/// Runs an object job behind the integration [`gate`].
pub async fn run(
    ctx: &SyncContext,
    job: &Job,
    job_id: Option<&str>,
) -> Result<JobReport, EngineError> {
    match gate(ctx, job.integration_id(), job, job_id).await? {
        Gate::Run(t) => run_object_job(*t, job, job_id.map(str::to_owned)).await,
        Gate::Done(note) => Ok(JobReport {
            objects: Vec::new(),
            note: Some(note),
        }),
    }
}

/// Runs an object job (`SyncFromHubspot`, `SyncFromUserflow`, `PostTimelineEvent`,
/// `HubspotRemoved`) for a connected `tenant`. Schema and full-sync jobs are not object jobs:
/// the worker runs those itself.
pub async fn run_object_job(
    tenant: Tenant,
    job: &Job,
    job_id: Option<String>,
) -> Result<JobReport, EngineError> {
    if let Job::HubspotRemoved(j) = job {
        return removed::handle(&tenant, j, job_id).await;
    }
    let engine = Engine::new(tenant, Mode::Apply, job_id).await?;
    let objects = match job {
        Job::SyncFromHubspot(j) => {
            from_hubspot::sync(&engine, &j.object_type, &j.object_id, None).await?
        }
        Job::SyncFromUserflow(j) => from_userflow::sync(&engine, j.kind, &j.id, None).await?,
        Job::PostTimelineEvent(j) => timeline::post(&engine, j).await?,
        Job::HubspotRemoved(_) | Job::EnsureSchema(_) | Job::FullSyncShard(_) => {
            return Err(EngineError::permanent(
                "internal",
                format!("{} is not an object job", job.kind()),
            ));
        }
    };
    Ok(JobReport {
        objects,
        note: None,
    })
}
