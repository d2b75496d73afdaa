//! The live schemas a mapping is checked against and set up from: HubSpot object types
//! (standard and custom), their properties and associations, read with the integration's
//! OAuth token; Userflow attribute definitions per scope, read with its API key. Reads are
//! cached for the life of one [`HubspotSchema`], so one validation asks each thing once.

use std::collections::{BTreeMap, HashMap};

use hubsync_core::jobs::UserflowKind;
use hubsync_hubspot::models::property::Property;
use hubsync_hubspot::requests::associations::ListAssociationLabels;
use hubsync_hubspot::requests::properties::ListProperties;
use hubsync_hubspot::requests::schemas::{ListSchemas, ObjectSchema};
use hubsync_hubspot::{Client, ObjectType};
use hubsync_userflow::Request as _;
use hubsync_userflow::models::{AttributeScope, DataType};
use hubsync_userflow::requests::attribute_definitions;
use serde::Serialize;

use crate::error::SyncError;

/// Standard object types a mapping may name, with their type ids.
const STANDARD: [(&str, &str); 4] = [
    ("contacts", "0-1"),
    ("companies", "0-2"),
    ("deals", "0-3"),
    ("tickets", "0-5"),
];

/// A HubSpot property as a mapping sees it: its wire `type` and `fieldType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyInfo {
    pub name: String,
    pub kind: String,
    pub field_type: String,
    pub group_name: Option<String>,
}

impl From<&Property> for PropertyInfo {
    fn from(p: &Property) -> Self {
        PropertyInfo {
            name: p.name.clone(),
            kind: wire(&p.kind),
            field_type: wire(&p.field_type),
            group_name: p.group_name.clone(),
        }
    }
}

/// The string serde writes for a unit enum value (`number`, `booleancheckbox`).
fn wire<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// One portal's schema, read lazily through `client`.
#[derive(Debug)]
pub struct HubspotSchema {
    client: Client,
    custom: Option<Vec<ObjectSchema>>,
    properties: HashMap<String, BTreeMap<String, PropertyInfo>>,
    associations: HashMap<(String, String), bool>,
}

impl HubspotSchema {
    pub fn new(client: Client) -> Self {
        HubspotSchema {
            client,
            custom: None,
            properties: HashMap::new(),
            associations: HashMap::new(),
        }
    }

    /// The client the schema is read with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The canonical name of object type `name` (`contacts` for `contacts`/`0-1`, the type
    /// id `2-123` for a custom object named by id, name or fully qualified name), or `None`
    /// when the portal has no such type.
    pub async fn object_type(&mut self, name: &str) -> Result<Option<String>, SyncError> {
        let name = name.trim();
        if let Some((n, _)) = STANDARD
            .iter()
            .find(|(n, id)| n.eq_ignore_ascii_case(name) || *id == name)
        {
            return Ok(Some((*n).to_owned()));
        }
        Ok(self
            .custom_schemas()
            .await?
            .iter()
            .find(|s| !s.archived && s.is_named(name))
            .map(|s| s.object_type_id.clone()))
    }

    async fn custom_schemas(&mut self) -> Result<&[ObjectSchema], SyncError> {
        if self.custom.is_none() {
            let page = ListSchemas::new().send(&self.client).await?;
            self.custom = Some(page.results);
        }
        Ok(self.custom.as_deref().unwrap_or_default())
    }

    /// Every property of canonical type `object_type`.
    pub async fn properties(
        &mut self,
        object_type: &str,
    ) -> Result<&BTreeMap<String, PropertyInfo>, SyncError> {
        if !self.properties.contains_key(object_type) {
            let page = ListProperties::new(ObjectType::from(object_type))
                .send(&self.client)
                .await?;
            let map = page
                .results
                .iter()
                .filter(|p| !p.archived)
                .map(|p| (p.name.clone(), PropertyInfo::from(p)))
                .collect();
            self.properties.insert(object_type.to_owned(), map);
        }
        self.properties
            .get(object_type)
            .ok_or_else(|| SyncError::Settings("property cache".into()))
    }

    /// Property `name` of canonical type `object_type`.
    pub async fn property(
        &mut self,
        object_type: &str,
        name: &str,
    ) -> Result<Option<PropertyInfo>, SyncError> {
        Ok(self.properties(object_type).await?.get(name).cloned())
    }

    /// Forgets what was read about `object_type`'s properties (after creating some).
    pub fn forget_properties(&mut self, object_type: &str) {
        self.properties.remove(object_type);
    }

    /// Whether objects of canonical types `from` and `to` can be associated.
    pub async fn associated(&mut self, from: &str, to: &str) -> Result<bool, SyncError> {
        let key = (from.to_owned(), to.to_owned());
        if let Some(known) = self.associations.get(&key) {
            return Ok(*known);
        }
        let found = match ListAssociationLabels::new(ObjectType::from(from), ObjectType::from(to))
            .send(&self.client)
            .await
        {
            Ok(page) => !page.results.is_empty(),
            // HubSpot answers 400/404 for a pair of types that cannot be associated.
            Err(hubsync_hubspot::Error::Api {
                status: 400 | 404, ..
            }) => false,
            Err(hubsync_hubspot::Error::Validation { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        self.associations.insert(key, found);
        Ok(found)
    }
}

/// Userflow attribute definitions of one scope: name → `data_type` (`string`, `number`,
/// `boolean`, `datetime`, `list`, or `other`).
pub async fn userflow_attributes(
    client: &hubsync_userflow::Client,
    kind: UserflowKind,
) -> Result<BTreeMap<String, String>, SyncError> {
    let scope = match kind {
        UserflowKind::User => AttributeScope::User,
        UserflowKind::Group => AttributeScope::Group,
    };
    let mut out = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let mut req = attribute_definitions::List::new().scope(scope).limit(100);
        if let Some(a) = after.take() {
            req = req.starting_after(a);
        }
        let page = req.send(client).await?;
        for d in &page.data {
            out.insert(d.name.clone(), data_type_name(d.data_type).to_owned());
        }
        match (page.has_more, page.data.last()) {
            (true, Some(last)) => {
                after = Some(last.id.clone().unwrap_or_else(|| last.name.clone()))
            }
            _ => return Ok(out),
        }
    }
}

/// The wire name of a Userflow data type.
pub fn data_type_name(t: DataType) -> &'static str {
    match t {
        DataType::String => "string",
        DataType::Number => "number",
        DataType::Boolean => "boolean",
        DataType::Datetime => "datetime",
        DataType::List => "list",
        DataType::Other => "other",
    }
}
