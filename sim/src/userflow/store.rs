//! In-memory data of every environment and the write operations shared by the API routes,
//! the control routes ("as the product would") and the seeder. Every write returns the
//! [`Change`]s it caused; callers hand them to [`super::webhooks::emit`] after the lock is
//! released. Writes validate first and change nothing on error.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Config;
use super::attributes::{self, Definitions, ListSwitch, Scope, now_iso};
use super::errors::{ApiError, ApiResult};
use super::knobs::Knobs;
use super::paging::ListParams;

/// Rows kept in insertion order (the list order) with an index by id.
pub struct Table<T> {
    rows: BTreeMap<u64, T>,
    index: HashMap<String, u64>,
    next: u64,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            index: HashMap::new(),
            next: 0,
        }
    }
}

impl<T> Table<T> {
    /// Row by id.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.index.get(id).and_then(|s| self.rows.get(s))
    }

    /// Mutable row by id.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let seq = *self.index.get(id)?;
        self.rows.get_mut(&seq)
    }

    /// Inserts or replaces (keeping the position of an existing row).
    pub fn put(&mut self, id: &str, row: T) {
        let seq = match self.index.get(id) {
            Some(s) => *s,
            None => {
                self.next += 1;
                self.index.insert(id.to_string(), self.next);
                self.next
            }
        };
        self.rows.insert(seq, row);
    }

    /// Removes a row.
    pub fn remove(&mut self, id: &str) -> Option<T> {
        let seq = self.index.remove(id)?;
        self.rows.remove(&seq)
    }

    /// Row by id, or 404 `not_found` naming `kind`.
    pub fn find(&self, kind: &str, id: &str) -> ApiResult<&T> {
        self.get(id).ok_or_else(|| ApiError::not_found(kind, id))
    }

    /// Mutable row by id, or 404 `not_found` naming `kind`.
    pub fn find_mut(&mut self, kind: &str, id: &str) -> ApiResult<&mut T> {
        self.get_mut(id)
            .ok_or_else(|| ApiError::not_found(kind, id))
    }

    /// Removes a row, or 404 `not_found` naming `kind`.
    pub fn take(&mut self, kind: &str, id: &str) -> ApiResult<T> {
        self.remove(id).ok_or_else(|| ApiError::not_found(kind, id))
    }

    /// Rows in insertion order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.values()
    }

    /// Mutable rows.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.rows.values_mut()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Removes rows not matching `keep`.
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        let drop: Vec<u64> = self
            .rows
            .iter()
            .filter(|(_, r)| !keep(r))
            .map(|(s, _)| *s)
            .collect();
        for s in drop {
            self.rows.remove(&s);
        }
        let rows = &self.rows;
        self.index.retain(|_, s| rows.contains_key(s));
    }

    /// One page (`lp`): rows after the row `starting_after` (in the chosen direction) that match
    /// `filter`, at most `limit`, each rendered by `render`, and whether more follow. An unknown
    /// cursor is a 400.
    pub fn page(
        &self,
        lp: &ListParams,
        filter: impl Fn(&T) -> bool,
        render: impl Fn(&T) -> Value,
    ) -> ApiResult<(Vec<Value>, bool)> {
        let cursor = match lp.starting_after.as_deref() {
            Some(id) => Some(*self.index.get(id).ok_or_else(|| {
                ApiError::bad(
                    "invalid_starting_after",
                    format!("No such object for starting_after: '{id}'"),
                )
            })?),
            None => None,
        };
        let iter: Box<dyn Iterator<Item = (&u64, &T)>> = match (cursor, lp.descending) {
            (None, false) => Box::new(self.rows.iter()),
            (None, true) => Box::new(self.rows.iter().rev()),
            (Some(c), false) => Box::new(self.rows.range(c + 1..)),
            (Some(c), true) => Box::new(self.rows.range(..c).rev()),
        };
        let mut matching = iter.map(|(_, r)| r).filter(|r| filter(r));
        let page: Vec<Value> = matching.by_ref().take(lp.limit).map(render).collect();
        let has_more = matching.next().is_some();
        Ok((page, has_more))
    }
}

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Attributes.
    pub attributes: Map<String, Value>,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601; changes only when an attribute changes.
    pub updated_at: String,
}

/// A group (company).
pub type Group = User;

/// The two attribute-bearing objects users can be members of: users and groups (companies).
/// They share one row type ([`User`]), one upsert/merge logic and one set of routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A user.
    User,
    /// A group (company).
    Group,
}

impl ObjectKind {
    /// `user` / `group`: the `object` field, the error text, the webhook topic prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
        }
    }

    /// The other side of a membership.
    pub fn other(self) -> Self {
        match self {
            Self::User => Self::Group,
            Self::Group => Self::User,
        }
    }

    /// The scope of its attributes.
    pub fn scope(self) -> Scope {
        match self {
            Self::User => Scope::User,
            Self::Group => Scope::Group,
        }
    }

    /// `<kind>.created` or `<kind>.updated`.
    fn topic(self, created: bool) -> &'static str {
        match (self, created) {
            (Self::User, true) => "user.created",
            (Self::User, false) => "user.updated",
            (Self::Group, true) => "group.created",
            (Self::Group, false) => "group.updated",
        }
    }
}

/// A user's membership of a group.
#[derive(Debug, Clone)]
pub struct Membership {
    /// User id.
    pub user_id: String,
    /// Group id.
    pub group_id: String,
    /// Membership attributes.
    pub attributes: Map<String, Value>,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
}

impl Membership {
    /// The user's or the group's id.
    pub fn id_of(&self, kind: ObjectKind) -> &str {
        match kind {
            ObjectKind::User => &self.user_id,
            ObjectKind::Group => &self.group_id,
        }
    }
}

/// A tracked event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Id (uuid).
    pub id: String,
    /// Event name.
    pub name: String,
    /// User, if any.
    pub user_id: Option<String>,
    /// Group, if any.
    pub group_id: Option<String>,
    /// Event attributes.
    pub attributes: Map<String, Value>,
    /// When it happened (ISO-8601).
    pub time: String,
    /// When received (ISO-8601).
    pub created_at: String,
}

impl Event {
    /// The user's or the group's id, if any.
    pub fn id_of(&self, kind: ObjectKind) -> Option<&str> {
        match kind {
            ObjectKind::User => self.user_id.as_deref(),
            ObjectKind::Group => self.group_id.as_deref(),
        }
    }
}

/// A webhook subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Id.
    pub id: String,
    /// Always `2020-01-03`.
    pub api_version: String,
    /// Target URL.
    pub url: String,
    /// Topics.
    pub topics: Vec<String>,
    /// Whether deliveries are off.
    pub disabled: bool,
    /// Signing secret (64 hex chars).
    pub secret: String,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
}

/// An event name seen in an environment.
#[derive(Debug, Clone)]
pub struct EventDefinition {
    /// First tracked (ISO-8601).
    pub created_at: String,
    /// Last tracked (ISO-8601).
    pub last_tracked_at: String,
    /// Events tracked with this name.
    pub count: u64,
}

/// Everything one environment holds.
#[derive(Default)]
pub struct EnvData {
    /// Users.
    pub users: Table<User>,
    /// Groups.
    pub groups: Table<Group>,
    /// Memberships keyed by `(user_id, group_id)`.
    pub memberships: BTreeMap<(String, String), Membership>,
    /// Events.
    pub events: Table<Event>,
    /// Webhook subscriptions.
    pub subscriptions: Table<Subscription>,
    /// Attribute definitions.
    pub definitions: Definitions,
    /// Event names.
    pub event_definitions: BTreeMap<String, EventDefinition>,
}

/// What a write changed, as a webhook topic and `data` payload.
#[derive(Debug, Clone)]
pub struct Change {
    /// `user.created`, `user.updated`, `group.created`, `group.updated` or `event.tracked`.
    pub topic: &'static str,
    /// Event name for `event.tracked`.
    pub event_name: Option<String>,
    /// The notification's `data`.
    pub data: Value,
}

/// `{id, attributes?}` in `groups` / `memberships[].group`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// Group id.
    pub id: String,
    /// Attributes to apply.
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
}

/// `{attributes?, group}` in `memberships`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipInput {
    /// Membership attributes.
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// The group.
    pub group: GroupInput,
}

/// Body of `POST /users`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// User id.
    pub id: String,
    /// Attributes to apply.
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// Groups to join.
    #[serde(default)]
    pub groups: Option<Vec<GroupInput>>,
    /// Memberships to set.
    #[serde(default)]
    pub memberships: Option<Vec<MembershipInput>>,
    /// Remove memberships not listed.
    #[serde(default)]
    pub prune_memberships: Option<bool>,
}

/// Body of `POST /events`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Event name.
    pub name: String,
    /// User.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Group.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Attributes (literals, `set`, `data_type`).
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// When it happened; default: now.
    #[serde(default)]
    pub time: Option<String>,
}

/// Data of all environments.
pub struct Store {
    envs: Mutex<HashMap<String, EnvData>>,
}

/// Locked access to all environments.
pub type Envs<'a> = MutexGuard<'a, HashMap<String, EnvData>>;

impl Store {
    /// Empty environments for the configured ids, with the standard attribute definitions.
    pub fn new(config: &Config) -> Self {
        let now = now_iso();
        let envs = config
            .environments
            .iter()
            .map(|e| {
                let data = EnvData {
                    definitions: attributes::standard_definitions(&now),
                    ..EnvData::default()
                };
                (e.id.clone(), data)
            })
            .collect();
        Self {
            envs: Mutex::new(envs),
        }
    }

    /// Locks the store.
    pub fn lock(&self) -> Envs<'_> {
        match self.envs.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Runs `f` on one environment (404 `not_found` for an unknown one).
    pub fn with_env<R>(
        &self,
        env: &str,
        f: impl FnOnce(&mut EnvData) -> ApiResult<R>,
    ) -> ApiResult<R> {
        let mut envs = self.lock();
        let data = envs
            .get_mut(env)
            .ok_or_else(|| ApiError::not_found("environment", env))?;
        f(data)
    }
}

fn check_id(kind: &str, id: &str) -> ApiResult<()> {
    if id.trim().is_empty() || id.len() > 500 {
        return Err(ApiError::bad(
            "invalid_id",
            format!("A {kind} id must be a non-empty string"),
        ));
    }
    Ok(())
}

/// Renders a user or group object (`object` = `"user"` / `"group"`).
pub fn object_json(kind: &str, u: &User) -> Value {
    json!({
        "id": u.id,
        "object": kind,
        "attributes": u.attributes,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    })
}

fn membership_json(m: &Membership) -> Value {
    json!({
        "object": "group_membership",
        "user_id": m.user_id,
        "group_id": m.group_id,
        "attributes": m.attributes,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    })
}

/// Definitions and list switches of a write being planned: applied to the environment only once
/// every part of the write has validated.
struct Draft {
    defs: Definitions,
    switches: Vec<ListSwitch>,
}

impl Draft {
    /// Applies `input` (if any) to `attrs` under the draft definitions.
    fn apply(
        &mut self,
        attrs: &mut Map<String, Value>,
        input: Option<Map<String, Value>>,
        scope: Scope,
        knobs: &Knobs,
    ) -> ApiResult<()> {
        if let Some(input) = input {
            self.switches.extend(attributes::apply(
                attrs,
                input,
                scope,
                &mut self.defs,
                knobs,
            )?);
        }
        Ok(())
    }
}

/// A user's or group's planned state: the stored row (if any) and its new attributes.
type Planned = (Option<User>, Map<String, Value>);

impl EnvData {
    /// The table of users or of groups.
    pub fn table(&self, kind: ObjectKind) -> &Table<User> {
        match kind {
            ObjectKind::User => &self.users,
            ObjectKind::Group => &self.groups,
        }
    }

    fn table_mut(&mut self, kind: ObjectKind) -> &mut Table<User> {
        match kind {
            ObjectKind::User => &mut self.users,
            ObjectKind::Group => &mut self.groups,
        }
    }

    /// A user or group object. When `expand`, with `memberships`, each carrying the object on
    /// the other side (`group` in a user's memberships, `user` in a group's).
    pub fn render(&self, kind: ObjectKind, o: &User, expand: bool) -> Value {
        let mut v = object_json(kind.as_str(), o);
        if expand {
            let other = kind.other();
            let ms: Vec<Value> = self
                .memberships
                .values()
                .filter(|m| m.id_of(kind) == o.id)
                .map(|m| {
                    let mut mj = membership_json(m);
                    if let (Some(obj), Some(x)) =
                        (mj.as_object_mut(), self.table(other).get(m.id_of(other)))
                    {
                        obj.insert(other.as_str().into(), object_json(other.as_str(), x));
                    }
                    mj
                })
                .collect();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("memberships".into(), Value::Array(ms));
            }
        }
        v
    }

    /// [`EnvData::render`] of the user or group `id` (404 `not_found` if there is none).
    pub fn render_id(&self, kind: ObjectKind, id: &str, expand: bool) -> ApiResult<Value> {
        let o = self.table(kind).find(kind.as_str(), id)?;
        Ok(self.render(kind, o, expand))
    }

    fn draft(&self) -> Draft {
        Draft {
            defs: self.definitions.clone(),
            switches: Vec::new(),
        }
    }

    /// Makes a validated draft's definitions current and converts the stored strings of every
    /// attribute it switched from `string` to `list`. Called after the draft's rows are stored.
    fn finish(&mut self, draft: Draft) {
        self.definitions = draft.defs;
        for s in &draft.switches {
            let attrs: Box<dyn Iterator<Item = &mut Map<String, Value>>> = match s.scope {
                Scope::User => Box::new(self.users.iter_mut().map(|u| &mut u.attributes)),
                Scope::Group => Box::new(self.groups.iter_mut().map(|g| &mut g.attributes)),
                Scope::GroupMembership => {
                    Box::new(self.memberships.values_mut().map(|m| &mut m.attributes))
                }
                Scope::Event => Box::new(self.events.iter_mut().map(|e| &mut e.attributes)),
            };
            attrs.for_each(|a| attributes::convert_to_list(a, &s.name));
        }
    }

    /// Computes the new attributes of a user or group without storing them.
    fn plan(
        &self,
        kind: ObjectKind,
        id: &str,
        input: Option<Map<String, Value>>,
        draft: &mut Draft,
        knobs: &Knobs,
    ) -> ApiResult<Planned> {
        let existing = self.table(kind).get(id).cloned();
        let mut attrs = existing
            .as_ref()
            .map(|u| u.attributes.clone())
            .unwrap_or_default();
        draft.apply(&mut attrs, input, kind.scope(), knobs)?;
        Ok((existing, attrs))
    }

    /// Stores planned attributes and returns the change (if any).
    fn commit(
        &mut self,
        kind: ObjectKind,
        id: &str,
        (existing, attrs): Planned,
        now: &str,
        knobs: &Knobs,
    ) -> Option<Change> {
        let created = existing.is_none();
        let (row, data) = match existing {
            None => {
                let u = User {
                    id: id.to_string(),
                    attributes: attrs,
                    created_at: now.to_string(),
                    updated_at: now.to_string(),
                };
                let data = json!({"object": object_json(kind.as_str(), &u)});
                (u, data)
            }
            Some(mut u) => {
                let (prev, upd) = attributes::diff(&u.attributes, &attrs);
                if upd.is_empty() && !knobs.webhook_emit_on_noop_write {
                    return None;
                }
                if !upd.is_empty() {
                    u.attributes = attrs;
                    u.updated_at = now.to_string();
                }
                let data = json!({
                    "object": object_json(kind.as_str(), &u),
                    "previous_attributes": prev,
                    "updated_attributes": upd,
                });
                (u, data)
            }
        };
        self.table_mut(kind).put(id, row);
        Some(Change {
            topic: kind.topic(created),
            event_name: None,
            data,
        })
    }

    /// `POST /users`: creates or merges a user, its groups and memberships.
    pub fn upsert_user(&mut self, input: UserInput, knobs: &Knobs) -> ApiResult<Vec<Change>> {
        check_id("user", &input.id)?;
        if input.groups.is_some()
            && input.memberships.is_some()
            && knobs.reject_groups_and_memberships_together
        {
            return Err(ApiError::bad(
                "invalid_request",
                "Send either 'groups' or 'memberships', not both",
            ));
        }
        let mut draft = self.draft();
        let user = self.plan(
            ObjectKind::User,
            &input.id,
            input.attributes,
            &mut draft,
            knobs,
        )?;
        // Groups and memberships as (group input, membership attributes).
        let mut wanted: Vec<(GroupInput, Option<Map<String, Value>>)> = Vec::new();
        for g in input.groups.unwrap_or_default() {
            wanted.push((g, None));
        }
        for m in input.memberships.unwrap_or_default() {
            wanted.push((m.group, m.attributes));
        }
        let mut planned_groups = Vec::new();
        let mut planned_members = Vec::new();
        for (g, m_attrs) in wanted {
            check_id("group", &g.id)?;
            let group = self.plan(ObjectKind::Group, &g.id, g.attributes, &mut draft, knobs)?;
            let key = (input.id.clone(), g.id.clone());
            let mut mattrs = self
                .memberships
                .get(&key)
                .map(|m| m.attributes.clone())
                .unwrap_or_default();
            draft.apply(&mut mattrs, m_attrs, Scope::GroupMembership, knobs)?;
            planned_groups.push((g.id, group));
            planned_members.push((key, mattrs));
        }
        // Everything validated: commit.
        let now = now_iso();
        let mut changes = Vec::new();
        changes.extend(self.commit(ObjectKind::User, &input.id, user, &now, knobs));
        for (gid, (g_existing, g_attrs)) in planned_groups {
            // A group listed twice: the second plan must see the first one's result.
            let g_existing = if g_existing.is_none() {
                self.groups.get(&gid).cloned()
            } else {
                g_existing
            };
            changes.extend(self.commit(
                ObjectKind::Group,
                &gid,
                (g_existing, g_attrs),
                &now,
                knobs,
            ));
        }
        let listed: Vec<(String, String)> =
            planned_members.iter().map(|(k, _)| k.clone()).collect();
        for (key, mattrs) in planned_members {
            match self.memberships.get_mut(&key) {
                Some(m) => {
                    if m.attributes != mattrs {
                        m.attributes = mattrs;
                        m.updated_at = now.clone();
                    }
                }
                None => {
                    self.memberships.insert(
                        key.clone(),
                        Membership {
                            user_id: key.0.clone(),
                            group_id: key.1.clone(),
                            attributes: mattrs,
                            created_at: now.clone(),
                            updated_at: now.clone(),
                        },
                    );
                }
            }
        }
        if input.prune_memberships == Some(true) {
            let uid = input.id.clone();
            self.memberships
                .retain(|k, _| k.0 != uid || listed.contains(k));
        }
        self.finish(draft);
        Ok(changes)
    }

    /// `POST /groups`: creates or merges a group.
    pub fn upsert_group(&mut self, input: GroupInput, knobs: &Knobs) -> ApiResult<Vec<Change>> {
        check_id("group", &input.id)?;
        let mut draft = self.draft();
        let group = self.plan(
            ObjectKind::Group,
            &input.id,
            input.attributes,
            &mut draft,
            knobs,
        )?;
        let change = self.commit(ObjectKind::Group, &input.id, group, &now_iso(), knobs);
        self.finish(draft);
        Ok(change.into_iter().collect())
    }

    /// `POST /events`: records an event; returns the event object and the changes.
    pub fn track(&mut self, input: EventInput, knobs: &Knobs) -> ApiResult<(Value, Vec<Change>)> {
        if !attributes::valid_name(&input.name) {
            return Err(ApiError::bad(
                "invalid_event_name",
                format!(
                    "Invalid event name '{}': use letters, digits, '_', '-' and spaces",
                    input.name
                ),
            ));
        }
        let user_id = input.user_id.filter(|s| !s.is_empty());
        let group_id = input.group_id.filter(|s| !s.is_empty());
        if user_id.is_none() && group_id.is_none() && knobs.event_requires_user_or_group {
            return Err(ApiError::bad(
                "invalid_request",
                "An event needs a user_id or a group_id",
            ));
        }
        let subjects = [(ObjectKind::User, &user_id), (ObjectKind::Group, &group_id)];
        let unknown: Vec<(ObjectKind, &String)> = subjects
            .into_iter()
            .filter_map(|(kind, id)| id.as_ref().map(|id| (kind, id)))
            .filter(|(kind, id)| self.table(*kind).get(id).is_none())
            .collect();
        if !knobs.event_creates_unknown
            && let Some((kind, id)) = unknown.first()
        {
            return Err(ApiError::not_found(kind.as_str(), id));
        }
        let now = now_iso();
        let time = match input.time {
            None => now.clone(),
            Some(t) => match chrono::DateTime::parse_from_rfc3339(&t) {
                Ok(dt) => attributes::iso(dt.with_timezone(&chrono::Utc)),
                Err(_) => {
                    return Err(ApiError::bad(
                        "invalid_time",
                        format!("'time' must be ISO-8601, got '{t}'"),
                    ));
                }
            },
        };
        let mut draft = self.draft();
        let mut attrs = Map::new();
        draft.apply(&mut attrs, input.attributes, Scope::Event, knobs)?;
        // Event attributes are literals: stored events are not converted on a list switch.
        self.definitions = draft.defs;
        let mut changes = Vec::new();
        for (kind, id) in unknown {
            changes.extend(self.commit(kind, id, (None, Map::new()), &now, knobs));
        }
        let event = Event {
            id: uuid::Uuid::new_v4().to_string(),
            name: input.name.clone(),
            user_id,
            group_id,
            attributes: attrs,
            time,
            created_at: now.clone(),
        };
        let obj = event_json(&event);
        let mut payload = obj.clone();
        if let Some(o) = payload.as_object_mut() {
            o.insert("user".into(), Value::Null);
            o.insert("group".into(), Value::Null);
        }
        self.events.put(&event.id.clone(), event);
        let def = self
            .event_definitions
            .entry(input.name.clone())
            .or_insert_with(|| EventDefinition {
                created_at: now.clone(),
                last_tracked_at: now.clone(),
                count: 0,
            });
        def.count += 1;
        def.last_tracked_at = now;
        changes.push(Change {
            topic: "event.tracked",
            event_name: Some(input.name),
            data: json!({"object": payload}),
        });
        Ok((obj, changes))
    }

    /// `DELETE /users/{id}` and `DELETE /groups/{id}`: removes the user or group, its
    /// memberships and events (deleting a group leaves its users).
    pub fn delete(&mut self, kind: ObjectKind, id: &str) -> ApiResult<()> {
        self.table_mut(kind).take(kind.as_str(), id)?;
        self.memberships.retain(|_, m| m.id_of(kind) != id);
        self.events.retain(|e| e.id_of(kind) != Some(id));
        Ok(())
    }

    /// Removes one membership.
    pub fn remove_membership(&mut self, group_id: &str, user_id: &str) -> ApiResult<()> {
        self.memberships
            .remove(&(user_id.to_string(), group_id.to_string()))
            .map(|_| ())
            .ok_or_else(|| {
                ApiError::not_found(
                    "group_membership",
                    &format!("user '{user_id}' in group '{group_id}'"),
                )
            })
    }

    /// Everything, for `/_sim/userflow/envs/{env}/dump` (secrets included).
    pub fn dump(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| self.render(ObjectKind::User, u, true))
            .collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| object_json("group", g))
            .collect();
        let memberships: Vec<Value> = self.memberships.values().map(membership_json).collect();
        let events: Vec<Value> = self.events.iter().map(event_json).collect();
        let subs: Vec<Value> = self
            .subscriptions
            .iter()
            .map(|s| subscription_json(s, true))
            .collect();
        let defs: Vec<Value> = self
            .definitions
            .iter()
            .map(|((scope, name), d)| json!({"scope": scope.as_str(), "name": name, "data_type": d.data_type}))
            .collect();
        json!({
            "users": users,
            "groups": groups,
            "memberships": memberships,
            "events": events,
            "subscriptions": subs,
            "attribute_definitions": defs,
            "event_definitions": self.event_definitions.keys().collect::<Vec<_>>(),
        })
    }
}

/// Renders an event object.
pub fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "object": "event",
        "name": e.name,
        "user_id": e.user_id,
        "group_id": e.group_id,
        "attributes": e.attributes,
        "time": e.time,
        "created_at": e.created_at,
    })
}

/// Renders a subscription; `secret` only when `with_secret`.
pub fn subscription_json(s: &Subscription, with_secret: bool) -> Value {
    let mut v = json!({
        "id": s.id,
        "object": "webhook_subscription",
        "api_version": s.api_version,
        "url": s.url,
        "topics": s.topics,
        "disabled": s.disabled,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    });
    if with_secret && let Some(o) = v.as_object_mut() {
        o.insert("secret".into(), json!(s.secret));
    }
    v
}
