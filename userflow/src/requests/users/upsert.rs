use reqwest::Method;
use serde::Serialize;

use crate::ids::{GroupId, UserId};
use crate::models::{AttributeValue, Attributes, User};
use crate::{HttpRequest, Request};

/// A group the user joins (`groups[]`): created or updated with `attributes`.
#[derive(Debug, Clone, Serialize)]
pub struct GroupInput {
    /// Group id.
    pub id: GroupId,
    /// Group attributes to merge.
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
}

impl GroupInput {
    /// Joins group `id`.
    pub fn new(id: impl Into<GroupId>) -> Self {
        Self {
            id: id.into(),
            attributes: Attributes::new(),
        }
    }
    /// Sets a group attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
}

/// A membership (`memberships[]`): membership attributes plus the group.
#[derive(Debug, Clone, Serialize)]
pub struct MembershipInput {
    /// Membership-level attributes (scope `membership`).
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    /// The group.
    pub group: GroupInput,
}

impl MembershipInput {
    /// A membership of `group`.
    pub fn new(group: GroupInput) -> Self {
        Self {
            attributes: Attributes::new(),
            group,
        }
    }
    /// Sets a membership attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
enum Links {
    Groups(Vec<GroupInput>),
    Memberships(Vec<MembershipInput>),
}

/// `POST /users`: creates the user or merges `attributes` into it (attributes not sent stay).
/// Carries `groups` **or** `memberships`, never both (the type enforces it: the last call wins).
#[derive(Debug, Clone, Serialize)]
pub struct Upsert {
    id: UserId,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    attributes: Attributes,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    links: Option<Links>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prune_memberships: Option<bool>,
}

impl Upsert {
    /// Upserts user `id`.
    pub fn new(id: impl Into<UserId>) -> Self {
        Self {
            id: id.into(),
            attributes: Attributes::new(),
            links: None,
            prune_memberships: None,
        }
    }
    /// Sets one attribute (a literal or an [`AttributeValue`] operation).
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
    /// Sets several attributes.
    pub fn attributes(mut self, attributes: Attributes) -> Self {
        self.attributes.extend(attributes);
        self
    }
    /// Groups the user joins (replaces any `memberships`).
    pub fn groups(mut self, groups: Vec<GroupInput>) -> Self {
        self.links = Some(Links::Groups(groups));
        self
    }
    /// Memberships with membership attributes (replaces any `groups`).
    pub fn memberships(mut self, memberships: Vec<MembershipInput>) -> Self {
        self.links = Some(Links::Memberships(memberships));
        self
    }
    /// `prune_memberships`: removes memberships the request does not list.
    pub fn prune_memberships(mut self, prune: bool) -> Self {
        self.prune_memberships = Some(prune);
        self
    }
}

impl Request for Upsert {
    type Output = User;
    fn build(&self) -> HttpRequest {
        let body = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        HttpRequest::new(Method::POST, "/users").json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_upsert_body_has_groups_or_memberships() {
        let r = Upsert::new("u_1")
            .attribute("plan", "pro")
            .groups(vec![GroupInput::new("g").attribute("name", "G")])
            .memberships(vec![
                MembershipInput::new(GroupInput::new("g")).attribute("role", "admin"),
            ]);
        assert_eq!(
            r.build().body,
            Some(json!({"id": "u_1", "attributes": {"plan": "pro"},
                "memberships": [{"attributes": {"role": "admin"}, "group": {"id": "g"}}]}))
        );
    }
}
