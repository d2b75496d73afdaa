//! The pair one object sync writes through: the link of a HubSpot object and a Userflow
//! object under one mapping, and what hubsync last wrote each way through it, which the diff
//! needs to tell a change from its own write coming back.

use hubsync_entities::SyncDirection;
use hubsync_entities::object_links::Model as Link;

use super::mappings::Mapping;
use super::state::{self, Written};
use super::{Engine, EngineError, links};

pub struct Pair {
    /// None only in plan mode, when the two objects are not linked yet.
    pub link: Option<Link>,
    /// What the sync's own direction last wrote into its target.
    pub ours: Written,
    /// What the other direction last wrote into this sync's source.
    pub theirs: Written,
}

impl Pair {
    /// Links `hubspot_id` ↔ `userflow_id` when the engine applies; when it only plans, takes
    /// the existing link of exactly this pair, if any (found from the sync's source side).
    pub async fn load(
        engine: &Engine,
        mapping: &Mapping,
        direction: SyncDirection,
        hubspot_id: &str,
        userflow_id: &str,
    ) -> Result<Pair, EngineError> {
        let db = engine.db();
        let link = if engine.applies() {
            Some(links::link(db, mapping.id(), hubspot_id, userflow_id).await?)
        } else {
            match direction {
                SyncDirection::HubspotToUserflow => links::by_hubspot(db, mapping.id(), hubspot_id)
                    .await?
                    .filter(|l| l.userflow_object_id == userflow_id),
                SyncDirection::UserflowToHubspot => {
                    links::by_userflow(db, mapping.id(), userflow_id)
                        .await?
                        .filter(|l| l.hubspot_object_id == hubspot_id)
                }
            }
        };
        let (ours, theirs) = match &link {
            Some(l) => (
                state::load(db, l.id, direction).await?,
                state::load(db, l.id, other(direction)).await?,
            ),
            None => Default::default(),
        };
        Ok(Pair { link, ours, theirs })
    }

    /// Records that `direction` wrote `values` (field, canonical value) through the link.
    pub async fn record(
        &self,
        engine: &Engine,
        direction: SyncDirection,
        values: &[(String, Option<String>)],
    ) -> Result<(), EngineError> {
        if let Some(l) = &self.link {
            state::record(engine.db(), l.id, direction, values).await?;
        }
        Ok(())
    }
}

fn other(direction: SyncDirection) -> SyncDirection {
    match direction {
        SyncDirection::HubspotToUserflow => SyncDirection::UserflowToHubspot,
        SyncDirection::UserflowToHubspot => SyncDirection::HubspotToUserflow,
    }
}
