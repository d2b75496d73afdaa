//! An integration's enabled mappings, loaded once per job with their field mappings and
//! event stream.

use hubsync_core::jobs::UserflowKind;
use hubsync_core::mapping::values::FieldType;
use hubsync_entities::prelude::{EventStreamsEntity, FieldMappingsEntity, ObjectMappingsEntity};
use hubsync_entities::{
    EventStreamMode, FieldDataType, SyncDirection, UserflowMatchAttribute, UserflowObjectType,
    event_streams, field_mappings, object_mappings,
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// One mapped field of one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// HubSpot property or `<association type>.<property>` (to Userflow), or Userflow
    /// attribute (to HubSpot).
    pub source: String,
    /// Userflow attribute (to Userflow) or HubSpot property (to HubSpot).
    pub target: String,
    pub ty: FieldType,
}

impl Field {
    /// For an association path `companies.name`: `("companies", "name")`.
    pub fn association(&self) -> Option<(&str, &str)> {
        self.source.split_once('.')
    }
}

/// An enabled object mapping with what it syncs.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub model: object_mappings::Model,
    pub to_userflow: Vec<Field>,
    pub to_hubspot: Vec<Field>,
    pub events: Option<event_streams::Model>,
}

impl Mapping {
    pub fn id(&self) -> Uuid {
        self.model.id
    }

    pub fn kind(&self) -> UserflowKind {
        match self.model.userflow_object_type {
            UserflowObjectType::User => UserflowKind::User,
            UserflowObjectType::Group => UserflowKind::Group,
        }
    }

    /// The HubSpot object type as a path segment (`contacts`, `2-123`).
    pub fn hubspot_type(&self) -> &str {
        &self.model.hubspot_object_type
    }

    /// Whether this mapping covers HubSpot objects of `object_type` (`contacts` or `0-1`).
    pub fn covers_hubspot(&self, object_type: &str) -> bool {
        let norm = |t: &str| hubsync_hubspot::ObjectType::from(t).as_str().to_owned();
        norm(self.hubspot_type()) == norm(object_type)
    }

    pub fn match_property(&self) -> &str {
        &self.model.match_hubspot_property
    }

    pub fn matches_by_email(&self) -> bool {
        self.model.match_userflow_attribute == UserflowMatchAttribute::Email
    }

    /// Whether the event stream sends `event_name` to HubSpot.
    pub fn streams(&self, event_name: &str) -> bool {
        self.events.as_ref().is_some_and(|e| match e.mode {
            EventStreamMode::Off => false,
            EventStreamMode::All => true,
            EventStreamMode::Selected => e.event_names.contains(event_name),
        })
    }

    /// The timeline template id for `event_name`, when the schema job created one.
    pub fn timeline_template(&self, event_name: &str) -> Option<&str> {
        self.events
            .as_ref()
            .and_then(|e| e.timeline_templates.as_ref())
            .and_then(|t| t.get(event_name))
    }
}

pub fn field_type(t: FieldDataType) -> FieldType {
    match t {
        FieldDataType::String => FieldType::String,
        FieldDataType::Number => FieldType::Number,
        FieldDataType::Boolean => FieldType::Boolean,
        FieldDataType::Datetime => FieldType::Datetime,
        FieldDataType::Date => FieldType::Date,
    }
}

/// The enabled mappings of `integration_id`, oldest first.
pub async fn load(db: &DatabaseConnection, integration_id: Uuid) -> Result<Vec<Mapping>, DbErr> {
    let models = ObjectMappingsEntity::find()
        .filter(object_mappings::Column::IntegrationId.eq(integration_id))
        .filter(object_mappings::Column::Enabled.eq(true))
        .order_by_asc(object_mappings::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(models.len());
    for model in models {
        let fields = FieldMappingsEntity::find()
            .filter(field_mappings::Column::ObjectMappingId.eq(model.id))
            .order_by_asc(field_mappings::Column::CreatedAt)
            .all(db)
            .await?;
        let events = EventStreamsEntity::find()
            .filter(event_streams::Column::ObjectMappingId.eq(model.id))
            .one(db)
            .await?;
        let (mut to_userflow, mut to_hubspot) = (Vec::new(), Vec::new());
        for f in fields {
            let field = Field {
                source: f.source_path,
                target: f.target,
                ty: field_type(f.data_type),
            };
            match f.direction {
                SyncDirection::HubspotToUserflow => to_userflow.push(field),
                SyncDirection::UserflowToHubspot => to_hubspot.push(field),
            }
        }
        out.push(Mapping {
            model,
            to_userflow,
            to_hubspot,
            events,
        });
    }
    Ok(out)
}
