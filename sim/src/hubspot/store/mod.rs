//! CRM data of every portal: objects, property definitions and groups, custom object schemas
//! and associations, held in memory behind one `RwLock` per portal.
//!
//! Reads: [`Store::read`] hands a `&PortalData` to a closure. Writes: [`Store::write`] hands a
//! [`Tx`] to a closure; every write method of `Tx` records the [`Change`]s HubSpot would report
//! (Creation, one PropertyChange per changed property, Deletion, Restore, PrivacyDeletion, Merge,
//! AssociationChange for both directions), and they are emitted on the [`ChangeBus`] once the lock is released. The
//! automatically maintained properties (`hs_object_id`, create and last-modified dates) never
//! produce PropertyChange (HubSpot does not let apps subscribe to them). Validation is not done
//! here: callers (the CRM routes, the UI control routes) validate before writing.
//!
//! Objects live in a `BTreeMap` by numeric id (ids increase per portal, so id order is creation
//! order); contacts' `email` and every `hasUniqueValue` property have a unique index
//! (lower-cased value → id). Search lag: each object remembers what it looked like before its last
//! write while that write is younger than the CRM knob `search_index_lag_ms` ([`Obj::indexed`]).

pub mod assoc;
pub mod defs;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::{Value, json};

use super::Config;
use super::changes::{Change, ChangeBus, ChangeKind, ChangeSource};
use super::crm::CrmKnobs;
use assoc::AssocDef;
use defs::{Group, PropertyDef};

/// Type id of contacts.
pub const CONTACTS: &str = "0-1";
/// Type id of companies.
pub const COMPANIES: &str = "0-2";
/// Type id of deals.
pub const DEALS: &str = "0-3";

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// ISO-8601 with milliseconds and `Z`, as HubSpot renders timestamps.
pub fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One entry of a property's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistEntry {
    /// Value set ("" when cleared).
    pub value: String,
    /// When (epoch ms).
    pub timestamp_ms: i64,
    /// `API`, `CRM_UI`, …
    pub source_type: String,
    /// App id or `userId:<n>`.
    pub source_id: Option<String>,
}

impl HistEntry {
    /// `{value, timestamp, sourceType, sourceId?, updatedByUserId?}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"value": self.value, "timestamp": iso(self.timestamp_ms),
            "sourceType": self.source_type});
        if let (Some(s), Some(o)) = (&self.source_id, v.as_object_mut()) {
            o.insert("sourceId".into(), json!(s));
            if let Some(uid) = s
                .strip_prefix("userId:")
                .and_then(|u| u.parse::<u64>().ok())
            {
                o.insert("updatedByUserId".into(), json!(uid));
            }
        }
        v
    }
}

/// What search sees of an object written less than the index lag ago.
#[derive(Debug, Clone, PartialEq)]
pub enum Stale {
    /// Created within the lag: not searchable yet.
    NotIndexed,
    /// Properties as indexed before the recent write(s).
    Props(BTreeMap<String, String>),
}

/// One CRM object.
#[derive(Debug, Clone, PartialEq)]
pub struct Obj {
    /// Numeric id.
    pub id: u64,
    /// Property values; a missing key is `null`.
    pub props: BTreeMap<String, String>,
    /// History per property, oldest first.
    pub history: HashMap<String, Vec<HistEntry>>,
    /// Created (epoch ms).
    pub created_ms: i64,
    /// Updated (epoch ms).
    pub updated_ms: i64,
    /// In the recycle bin.
    pub archived: bool,
    /// When archived.
    pub archived_ms: Option<i64>,
    /// Last write (epoch ms), for the search lag.
    pub last_write_ms: i64,
    /// Search view before the last write (see [`Obj::indexed`]).
    pub stale: Option<Stale>,
}

impl Obj {
    /// The properties search sees at `now` with index lag `lag_ms`, or `None` when the object
    /// is not searchable (archived, or created less than the lag ago).
    pub fn indexed(&self, now: i64, lag_ms: u64) -> Option<&BTreeMap<String, String>> {
        if self.archived {
            return None;
        }
        if lag_ms == 0 || now >= self.last_write_ms.saturating_add(lag_ms as i64) {
            return Some(&self.props);
        }
        match &self.stale {
            None => Some(&self.props),
            Some(Stale::NotIndexed) => None,
            Some(Stale::Props(p)) => Some(p),
        }
    }

    fn mark_write(&mut self, now: i64, lag_ms: u64) {
        if lag_ms == 0 {
            self.stale = None;
        } else if self.stale.is_none() || now >= self.last_write_ms.saturating_add(lag_ms as i64) {
            self.stale = Some(Stale::Props(self.props.clone()));
        }
        self.last_write_ms = now;
    }
}

/// Objects, property definitions and groups of one object type in one portal.
#[derive(Debug, Default)]
pub struct TypeData {
    /// Objects by id (archived ones included).
    pub objects: BTreeMap<u64, Obj>,
    /// Property definitions by name.
    pub props: BTreeMap<String, PropertyDef>,
    /// Property groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Unique indexes: property → lower-cased value → id (live objects only).
    unique: HashMap<String, HashMap<String, u64>>,
    /// Merged-away id → surviving id.
    pub merged: HashMap<u64, u64>,
}

impl TypeData {
    fn new(type_id: &str, now: i64) -> Self {
        let mut t = TypeData::default();
        for d in defs::default_properties(type_id, now) {
            t.props.insert(d.name.clone(), d);
        }
        for g in defs::default_groups(type_id) {
            t.groups.insert(g.name.clone(), g);
        }
        if type_id == CONTACTS {
            t.unique.insert("email".into(), HashMap::new());
        }
        t
    }

    /// A live (or archived, when `archived`) property definition.
    pub fn prop(&self, name: &str) -> Option<&PropertyDef> {
        self.props.get(name).filter(|p| !p.archived)
    }

    /// Whether `name` is a unique key (`email` of contacts or a `hasUniqueValue` property).
    pub fn is_unique(&self, name: &str) -> bool {
        self.unique.contains_key(name)
    }

    /// The live object whose unique property `name` has `value` (case-insensitive).
    pub fn find_unique(&self, name: &str, value: &str) -> Option<u64> {
        self.unique.get(name)?.get(&value.to_lowercase()).copied()
    }

    /// Starts indexing a `hasUniqueValue` property.
    pub fn add_unique_index(&mut self, name: &str) {
        let mut idx = HashMap::new();
        for o in self.objects.values().filter(|o| !o.archived) {
            if let Some(v) = o.props.get(name) {
                idx.insert(v.to_lowercase(), o.id);
            }
        }
        self.unique.insert(name.to_string(), idx);
    }

    /// Resolves merged-away ids to their survivor.
    pub fn resolve_id(&self, id: u64) -> u64 {
        let mut id = id;
        for _ in 0..16 {
            match self.merged.get(&id) {
                Some(s) => id = *s,
                None => break,
            }
        }
        id
    }

    /// A live object by id (merged ids resolved when `follow_merges`).
    pub fn live(&self, id: u64, follow_merges: bool) -> Option<&Obj> {
        let id = if follow_merges {
            self.resolve_id(id)
        } else {
            id
        };
        self.objects.get(&id).filter(|o| !o.archived)
    }

    fn unindex(&mut self, obj_id: u64, props: &BTreeMap<String, String>) {
        for (name, idx) in self.unique.iter_mut() {
            if let Some(v) = props.get(name) {
                let k = v.to_lowercase();
                if idx.get(&k) == Some(&obj_id) {
                    idx.remove(&k);
                }
            }
        }
    }

    fn index(&mut self, obj_id: u64, props: &BTreeMap<String, String>) {
        for (name, idx) in self.unique.iter_mut() {
            if let Some(v) = props.get(name) {
                idx.insert(v.to_lowercase(), obj_id);
            }
        }
    }
}

/// A custom object schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Numeric id (as a string in responses).
    pub id: u64,
    /// `2-<n>`.
    pub object_type_id: String,
    /// Name, e.g. `cars`.
    pub name: String,
    /// `{singular, plural}`.
    pub labels: Value,
    /// Primary display property.
    pub primary_display_property: Option<String>,
    /// Required on create.
    pub required_properties: Vec<String>,
    /// Searchable properties.
    pub searchable_properties: Vec<String>,
    /// Secondary display properties.
    pub secondary_display_properties: Vec<String>,
    /// Created (epoch ms).
    pub created_ms: i64,
    /// Updated (epoch ms).
    pub updated_ms: i64,
    /// Deleted.
    pub archived: bool,
}

/// `(object type id, object id)`.
pub type ObjKey = (String, u64);

/// All CRM data of one portal.
#[derive(Debug)]
pub struct PortalData {
    /// Portal id.
    pub portal_id: u64,
    next_id: u64,
    /// Per object type id.
    pub types: BTreeMap<String, TypeData>,
    /// Custom object schemas by type id.
    pub schemas: BTreeMap<String, Schema>,
    /// Association type definitions.
    pub assoc_defs: Vec<AssocDef>,
    /// (from type, from id) → (to type, to id) → type ids.
    assocs: HashMap<ObjKey, BTreeMap<ObjKey, Vec<u32>>>,
    /// Emails blocklisted by gdpr-delete.
    pub blocklist: HashSet<String>,
}

impl PortalData {
    fn new(portal_id: u64) -> Self {
        let now = now_ms();
        let mut types = BTreeMap::new();
        for t in [CONTACTS, COMPANIES, DEALS] {
            types.insert(t.to_string(), TypeData::new(t, now));
        }
        Self {
            portal_id,
            next_id: 100,
            types,
            schemas: BTreeMap::new(),
            assoc_defs: assoc::default_defs(),
            assocs: HashMap::new(),
            blocklist: HashSet::new(),
        }
    }

    /// Resolves an object type given as a name (`contacts`, `contact`), a type id (`0-1`,
    /// `2-7`), a custom schema name or its `fullyQualifiedName` to its type id.
    pub fn resolve_type(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        let builtin = match lower.as_str() {
            "contacts" | "contact" | "0-1" => Some(CONTACTS),
            "companies" | "company" | "0-2" => Some(COMPANIES),
            "deals" | "deal" | "0-3" => Some(DEALS),
            _ => None,
        };
        if let Some(b) = builtin {
            return Some(b.to_string());
        }
        let fqn_prefix = format!("p{}_", self.portal_id);
        self.schemas
            .values()
            .filter(|s| !s.archived)
            .find(|s| {
                s.object_type_id == lower
                    || s.name.to_lowercase() == lower
                    || lower.strip_prefix(&fqn_prefix) == Some(&s.name.to_lowercase())
            })
            .map(|s| s.object_type_id.clone())
    }

    /// Data of a type id.
    pub fn type_data(&self, type_id: &str) -> Option<&TypeData> {
        self.types.get(type_id)
    }

    /// The custom schema of a type id.
    pub fn schema(&self, type_id: &str) -> Option<&Schema> {
        self.schemas.get(type_id).filter(|s| !s.archived)
    }

    /// Upper-case singular label used in batch error messages (`CONTACT`, `COMPANY`, …).
    pub fn type_label(&self, type_id: &str) -> String {
        assoc::singular(type_id, self.schema(type_id).map(|s| s.name.as_str())).to_uppercase()
    }

    /// Plural name used as the key of v3 `associations` (`companies`, custom: schema name).
    pub fn plural_name(&self, type_id: &str) -> String {
        match type_id {
            CONTACTS => "contacts".into(),
            COMPANIES => "companies".into(),
            DEALS => "deals".into(),
            _ => self
                .schema(type_id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| type_id.into()),
        }
    }

    /// The association type `type_id` from `from` to `to`.
    pub fn assoc_def(&self, from: &str, to: &str, type_id: u32) -> Option<&AssocDef> {
        self.assoc_defs
            .iter()
            .find(|d| d.from == from && d.to == to && d.type_id == type_id)
    }

    /// All association types from `from` to `to`.
    pub fn assoc_defs_between(&self, from: &str, to: &str) -> Vec<&AssocDef> {
        self.assoc_defs
            .iter()
            .filter(|d| d.from == from && d.to == to)
            .collect()
    }

    /// The unlabeled (default) type from `from` to `to`.
    pub fn default_assoc(&self, from: &str, to: &str) -> Option<&AssocDef> {
        self.assoc_defs.iter().find(|d| {
            d.from == from && d.to == to && d.label.is_none() && d.category == "HUBSPOT_DEFINED"
        })
    }

    /// Associations of one object to objects of type `to` (live targets only), by target id.
    pub fn associations(&self, from: &str, from_id: u64, to: &str) -> Vec<(u64, Vec<&AssocDef>)> {
        let Some(m) = self.assocs.get(&(from.to_string(), from_id)) else {
            return Vec::new();
        };
        let live = |id: u64| self.types.get(to).and_then(|t| t.live(id, false)).is_some();
        m.range((to.to_string(), 0)..=(to.to_string(), u64::MAX))
            .filter(|((_, id), _)| live(*id))
            .map(|((_, id), types)| {
                (
                    *id,
                    types
                        .iter()
                        .filter_map(|t| self.assoc_def(from, to, *t))
                        .collect(),
                )
            })
            .collect()
    }

    /// Type ids currently set between two objects (from `from`'s side).
    pub fn pair_types(&self, from: &str, from_id: u64, to: &str, to_id: u64) -> Vec<u32> {
        self.assocs
            .get(&(from.to_string(), from_id))
            .and_then(|m| m.get(&(to.to_string(), to_id)))
            .cloned()
            .unwrap_or_default()
    }

    /// Adds one association type from one object to another (this direction only); `false`
    /// when it was there already.
    fn insert_pair_type(&mut self, from: &str, from_id: u64, to: &str, to_id: u64, t: u32) -> bool {
        let types = self
            .assocs
            .entry((from.to_string(), from_id))
            .or_default()
            .entry((to.to_string(), to_id))
            .or_default();
        if types.contains(&t) {
            return false;
        }
        types.push(t);
        true
    }

    /// Ids of `from` objects associated with `to_type`/`to_id` (any type).
    pub fn associated_ids(&self, to: &str, to_id: u64, from: &str) -> HashSet<u64> {
        self.associations(to, to_id, from)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// Every association of the portal as `(from type, from id, to type, to id, type ids)`.
    pub fn all_associations(&self) -> Vec<(String, u64, String, u64, Vec<u32>)> {
        let mut v: Vec<_> = self
            .assocs
            .iter()
            .flat_map(|((ft, fi), m)| {
                m.iter()
                    .map(move |((tt, ti), ids)| (ft.clone(), *fi, tt.clone(), *ti, ids.clone()))
            })
            .collect();
        v.sort();
        v
    }
}

/// All portals' CRM data plus the run-time CRM knobs.
pub struct Store {
    portals: HashMap<u64, RwLock<PortalData>>,
    knobs: RwLock<CrmKnobs>,
    /// Global counter for custom object type numbers and association type ids.
    counter: AtomicU64,
}

impl Store {
    /// Empty store (default properties and groups only) for the configured portals.
    pub fn new(config: &Config) -> Self {
        Self {
            portals: config
                .portals
                .iter()
                .map(|p| (p.portal_id, RwLock::new(PortalData::new(p.portal_id))))
                .collect(),
            knobs: RwLock::new(config.crm.clone()),
            counter: AtomicU64::new(1),
        }
    }

    /// Current CRM knobs.
    pub fn knobs(&self) -> CrmKnobs {
        self.knobs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the CRM knobs.
    pub fn set_knobs(&self, knobs: CrmKnobs) {
        *self.knobs.write().unwrap_or_else(PoisonError::into_inner) = knobs;
    }

    /// Ids of the portals served.
    pub fn portal_ids(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.portals.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Runs `f` on a portal's data under the read lock; `None` for an unknown portal.
    pub fn read<R>(&self, portal_id: u64, f: impl FnOnce(&PortalData) -> R) -> Option<R> {
        let lock = self.portals.get(&portal_id)?;
        let guard = lock.read().unwrap_or_else(PoisonError::into_inner);
        Some(f(&guard))
    }

    /// Runs `f` with a write transaction on a portal; afterwards emits every recorded change
    /// on `bus` (when given). `None` for an unknown portal.
    pub fn write<R>(
        &self,
        portal_id: u64,
        bus: Option<&ChangeBus>,
        source: ChangeSource,
        f: impl FnOnce(&mut Tx<'_>) -> R,
    ) -> Option<R> {
        let lock = self.portals.get(&portal_id)?;
        let lag_ms = self.knobs().search_index_lag_ms;
        let mut guard = lock.write().unwrap_or_else(PoisonError::into_inner);
        let mut tx = Tx {
            data: &mut guard,
            source,
            now: now_ms(),
            lag_ms,
            changes: Vec::new(),
            counter: &self.counter,
        };
        let r = f(&mut tx);
        let changes = std::mem::take(&mut tx.changes);
        drop(guard);
        if let Some(bus) = bus {
            for c in changes {
                bus.emit(c);
            }
        }
        Some(r)
    }

    /// Makes every pending write of a portal searchable at once (tests, `/_sim/` reindex).
    pub fn flush_index(&self, portal_id: u64) {
        if let Some(lock) = self.portals.get(&portal_id) {
            let mut g = lock.write().unwrap_or_else(PoisonError::into_inner);
            for t in g.types.values_mut() {
                for o in t.objects.values_mut() {
                    o.stale = None;
                }
            }
        }
    }
}

/// A write transaction on one portal (see the module doc).
pub struct Tx<'a> {
    /// The portal's data (direct access for reads and definition edits).
    pub data: &'a mut PortalData,
    /// Who writes.
    pub source: ChangeSource,
    /// Time of the transaction (epoch ms).
    pub now: i64,
    lag_ms: u64,
    changes: Vec<Change>,
    counter: &'a AtomicU64,
}

impl Tx<'_> {
    /// A fresh number from the store-wide counter.
    pub fn next_global(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    fn emit(&mut self, type_id: &str, object_id: u64, kind: ChangeKind) {
        self.changes.push(Change {
            portal_id: self.data.portal_id,
            object_type_id: type_id.to_string(),
            object_id,
            kind,
            occurred_at_ms: self.now,
            source: self.source.clone(),
        });
    }

    fn hist(&self, value: &str) -> HistEntry {
        HistEntry {
            value: value.to_string(),
            timestamp_ms: self.now,
            source_type: self.source.change_source.clone(),
            source_id: self.source.source_id.clone(),
        }
    }

    /// Creates an object with already validated properties ("" values are skipped) and emits
    /// Creation. Returns its id, or `None` for an unknown type.
    pub fn create(&mut self, type_id: &str, props: &[(String, String)]) -> Option<u64> {
        if !self.data.types.contains_key(type_id) {
            return None;
        }
        let id = self.data.next_id;
        self.data.next_id += 1;
        let now = self.now;
        let mut obj = Obj {
            id,
            props: BTreeMap::new(),
            history: HashMap::new(),
            created_ms: now,
            updated_ms: now,
            archived: false,
            archived_ms: None,
            last_write_ms: now,
            stale: (self.lag_ms > 0).then_some(Stale::NotIndexed),
        };
        let auto = [
            ("hs_object_id".to_string(), id.to_string()),
            (defs::created_prop(type_id).to_string(), iso(now)),
            (defs::modified_prop(type_id).to_string(), iso(now)),
        ];
        for (k, v) in props.iter().chain(auto.iter()) {
            if v.is_empty() {
                continue;
            }
            let v = if type_id == CONTACTS && k == "email" {
                v.to_lowercase()
            } else {
                v.clone()
            };
            obj.history
                .entry(k.clone())
                .or_default()
                .push(self.hist(&v));
            obj.props.insert(k.clone(), v);
        }
        let td = self.data.types.get_mut(type_id)?;
        td.index(id, &obj.props);
        td.objects.insert(id, obj);
        self.emit(type_id, id, ChangeKind::Creation);
        Some(id)
    }

    /// Sets already validated properties ("" clears) on a live object, emitting one
    /// PropertyChange per value that actually changed. Returns the number changed, or `None`
    /// when the object does not exist.
    pub fn update(&mut self, type_id: &str, id: u64, props: &[(String, String)]) -> Option<usize> {
        let now = self.now;
        let lag = self.lag_ms;
        let mut changed = Vec::new();
        let td = self.data.types.get_mut(type_id)?;
        let obj = td.objects.get(&id).filter(|o| !o.archived)?;
        let old = obj.props.clone();
        let mut new = old.clone();
        for (k, v) in props {
            let v = if type_id == CONTACTS && k == "email" {
                v.to_lowercase()
            } else {
                v.clone()
            };
            if new.get(k).map(String::as_str).unwrap_or("") == v {
                continue;
            }
            if v.is_empty() {
                new.remove(k);
            } else {
                new.insert(k.clone(), v.clone());
            }
            changed.push((k.clone(), v));
        }
        if changed.is_empty() {
            return Some(0);
        }
        new.insert(defs::modified_prop(type_id).to_string(), iso(now));
        td.unindex(id, &old);
        td.index(id, &new);
        let entries: Vec<(String, HistEntry)> = changed
            .iter()
            .map(|(k, v)| (k.clone(), self_hist(&self.source, now, v)))
            .chain(std::iter::once((
                defs::modified_prop(type_id).to_string(),
                self_hist(&self.source, now, &iso(now)),
            )))
            .collect();
        let obj = td.objects.get_mut(&id)?;
        obj.mark_write(now, lag);
        obj.props = new;
        obj.updated_ms = now;
        for (k, h) in entries {
            obj.history.entry(k).or_default().push(h);
        }
        let n = changed.len();
        for (k, v) in changed {
            self.emit(
                type_id,
                id,
                ChangeKind::PropertyChange {
                    property_name: k,
                    property_value: v,
                },
            );
        }
        Some(n)
    }

    /// Moves a live object to the recycle bin and emits Deletion. `false` if not live.
    pub fn archive(&mut self, type_id: &str, id: u64) -> bool {
        let now = self.now;
        let Some(td) = self.data.types.get_mut(type_id) else {
            return false;
        };
        let Some(obj) = td.objects.get_mut(&id).filter(|o| !o.archived) else {
            return false;
        };
        obj.archived = true;
        obj.archived_ms = Some(now);
        obj.updated_ms = now;
        let props = obj.props.clone();
        td.unindex(id, &props);
        self.emit(type_id, id, ChangeKind::Deletion);
        true
    }

    /// Takes an archived object out of the recycle bin and emits Restore. `false` if it is not
    /// archived. Callers check first that its unique values are still free.
    pub fn restore(&mut self, type_id: &str, id: u64) -> bool {
        let now = self.now;
        let lag = self.lag_ms;
        let Some(td) = self.data.types.get_mut(type_id) else {
            return false;
        };
        let Some(obj) = td.objects.get_mut(&id).filter(|o| o.archived) else {
            return false;
        };
        obj.archived = false;
        obj.archived_ms = None;
        obj.updated_ms = now;
        // Back in search only once the index catches up, like a new object.
        obj.last_write_ms = now;
        obj.stale = (lag > 0).then_some(Stale::NotIndexed);
        let props = obj.props.clone();
        td.index(id, &props);
        self.emit(type_id, id, ChangeKind::Restore);
        true
    }

    /// Deletes an object for good (GDPR): object, indexes and associations. Emits
    /// PrivacyDeletion.
    pub fn hard_delete(&mut self, type_id: &str, id: u64) -> bool {
        let Some(td) = self.data.types.get_mut(type_id) else {
            return false;
        };
        let Some(obj) = td.objects.remove(&id) else {
            return false;
        };
        td.unindex(id, &obj.props);
        td.merged.retain(|_, s| *s != id);
        self.silent_remove_all(type_id, id);
        self.emit(type_id, id, ChangeKind::PrivacyDeletion);
        true
    }

    /// Merges `merged` into `primary`: the primary keeps its values, empty ones are filled from
    /// the merged object, associations move over, the merged id then resolves to the primary.
    /// Emits Merge (on the primary). Returns the number of properties moved.
    pub fn merge(&mut self, type_id: &str, primary: u64, merged: u64) -> Option<u64> {
        let td = self.data.types.get(type_id)?;
        let p = td.live(primary, false)?.clone();
        let m = td.live(merged, false)?.clone();
        let skip = [
            "hs_object_id",
            defs::created_prop(type_id),
            defs::modified_prop(type_id),
        ];
        let mut moved: Vec<(String, String)> = m
            .props
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()) && !p.props.contains_key(*k))
            .filter(|(k, _)| !(type_id == CONTACTS && k.as_str() == "email"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let count = moved.len() as u64;
        // `;`-joined multi-values of the primary, with one more item.
        let appended = |name: &str, item: &str| {
            let mut list: Vec<&str> = p
                .props
                .get(name)
                .map_or(Vec::new(), |s| s.split(';').collect());
            list.push(item);
            (name.to_string(), list.join(";"))
        };
        moved.push(appended("hs_merged_object_ids", &merged.to_string()));
        if type_id == CONTACTS
            && let Some(email) = m.props.get("email")
        {
            moved.push(appended("hs_additional_emails", email));
        }
        // Associations of the merged object move to the primary.
        let moved_assocs: Vec<((String, u64), Vec<u32>)> = self
            .data
            .assocs
            .get(&(type_id.to_string(), merged))
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        self.silent_remove_all(type_id, merged);
        for ((tt, ti), ids) in moved_assocs {
            if tt == type_id && (ti == primary || ti == merged) {
                continue;
            }
            self.link(type_id, primary, &tt, ti, &ids, false);
        }
        // The merged object disappears; its id resolves to the primary.
        let td = self.data.types.get_mut(type_id)?;
        if let Some(obj) = td.objects.remove(&merged) {
            td.unindex(merged, &obj.props);
            if let (Some(email), Some(idx)) = (obj.props.get("email"), td.unique.get_mut("email")) {
                idx.insert(email.to_lowercase(), primary);
            }
        }
        td.merged.insert(merged, primary);
        for s in td.merged.values_mut() {
            if *s == merged {
                *s = primary;
            }
        }
        self.set_silently(type_id, primary, &moved);
        self.emit(
            type_id,
            primary,
            ChangeKind::Merge {
                primary_object_id: primary,
                merged_object_ids: vec![merged],
                new_object_id: primary,
                number_of_properties_moved: count,
            },
        );
        Some(count)
    }

    /// Sets properties without PropertyChange events (merge bookkeeping).
    fn set_silently(&mut self, type_id: &str, id: u64, props: &[(String, String)]) {
        let now = self.now;
        let lag = self.lag_ms;
        let source = self.source.clone();
        let Some(td) = self.data.types.get_mut(type_id) else {
            return;
        };
        let Some(obj) = td.objects.get_mut(&id) else {
            return;
        };
        let old = obj.props.clone();
        obj.mark_write(now, lag);
        for (k, v) in props {
            obj.props.insert(k.clone(), v.clone());
            obj.history
                .entry(k.clone())
                .or_default()
                .push(self_hist(&source, now, v));
        }
        obj.props
            .insert(defs::modified_prop(type_id).to_string(), iso(now));
        obj.updated_ms = now;
        let new = obj.props.clone();
        td.unindex(id, &old);
        td.index(id, &new);
    }

    /// Drops every association of an object, both directions, without AssociationChange.
    fn silent_remove_all(&mut self, type_id: &str, id: u64) {
        let key = (type_id.to_string(), id);
        if let Some(m) = self.data.assocs.remove(&key) {
            for (to_key, _) in m {
                if let Some(back) = self.data.assocs.get_mut(&to_key) {
                    back.remove(&key);
                }
            }
        }
    }

    /// Adds association types (given from `from`'s side) between two objects, both
    /// directions, emitting AssociationChange for each new type in each direction. Unknown
    /// type ids are skipped. Returns the number of types added.
    pub fn associate(
        &mut self,
        from: &str,
        from_id: u64,
        to: &str,
        to_id: u64,
        type_ids: &[u32],
    ) -> usize {
        self.link(from, from_id, to, to_id, type_ids, true)
    }

    fn link(
        &mut self,
        from: &str,
        from_id: u64,
        to: &str,
        to_id: u64,
        type_ids: &[u32],
        emit: bool,
    ) -> usize {
        let mut added = Vec::new();
        for t in type_ids {
            let Some(def) = self.data.assoc_def(from, to, *t).cloned() else {
                continue;
            };
            if def.primary {
                // Only one primary per object and target type: move it.
                let others: Vec<u64> = self
                    .data
                    .assocs
                    .get(&(from.to_string(), from_id))
                    .map(|m| {
                        m.iter()
                            .filter(|((tt, ti), ids)| tt == to && *ti != to_id && ids.contains(t))
                            .map(|((_, ti), _)| *ti)
                            .collect()
                    })
                    .unwrap_or_default();
                for other in others {
                    self.unassociate(from, from_id, to, other, Some(&[*t]));
                }
            }
            if !self.data.insert_pair_type(from, from_id, to, to_id, *t) {
                continue;
            }
            self.data
                .insert_pair_type(to, to_id, from, from_id, def.inverse);
            added.push(def);
        }
        if from == CONTACTS && to == COMPANIES && added.iter().any(|d| d.primary) {
            self.set_silently(
                CONTACTS,
                from_id,
                &[("associatedcompanyid".into(), to_id.to_string())],
            );
        }
        if emit {
            for def in &added {
                self.emit_assoc(def, from_id, to_id, false);
            }
        }
        added.len()
    }

    fn emit_assoc(&mut self, def: &AssocDef, from_id: u64, to_id: u64, removed: bool) {
        let inverse = self
            .data
            .assoc_def(&def.to, &def.from, def.inverse)
            .cloned();
        let mk = |d: &AssocDef, f: u64, t: u64| ChangeKind::AssociationChange {
            association_type: d.webhook_name.clone(),
            from_object_id: f,
            to_object_id: t,
            from_object_type_id: d.from.clone(),
            to_object_type_id: d.to.clone(),
            association_removed: removed,
            is_primary_association: d.primary,
        };
        self.emit(&def.from.clone(), from_id, mk(def, from_id, to_id));
        if let Some(inv) = inverse {
            self.emit(&inv.from.clone(), to_id, mk(&inv, to_id, from_id));
        }
    }

    /// Removes association types between two objects (both directions); `None` removes all.
    /// Removing the unlabeled HUBSPOT_DEFINED type removes all (as HubSpot does). Emits
    /// AssociationChange (removed) for each. Returns the number removed.
    pub fn unassociate(
        &mut self,
        from: &str,
        from_id: u64,
        to: &str,
        to_id: u64,
        type_ids: Option<&[u32]>,
    ) -> usize {
        let current = self.data.pair_types(from, from_id, to, to_id);
        let all = match type_ids {
            None => true,
            Some(ids) => ids.iter().any(|t| {
                self.data
                    .assoc_def(from, to, *t)
                    .is_some_and(|d| d.label.is_none() && d.category == "HUBSPOT_DEFINED")
            }),
        };
        let remove: Vec<u32> = match (all, type_ids) {
            (false, Some(ids)) => current
                .iter()
                .copied()
                .filter(|t| ids.contains(t))
                .collect(),
            _ => current.clone(),
        };
        self.remove_types(from, from_id, to, to_id, &remove)
    }

    /// Removes exactly these association types between two objects (both directions),
    /// emitting AssociationChange (removed) for each one present. Returns the number removed.
    pub fn remove_types(
        &mut self,
        from: &str,
        from_id: u64,
        to: &str,
        to_id: u64,
        remove: &[u32],
    ) -> usize {
        let key = (from.to_string(), from_id);
        let tkey = (to.to_string(), to_id);
        let current = self.data.pair_types(from, from_id, to, to_id);
        let mut removed = Vec::new();
        for t in remove.iter().filter(|t| current.contains(t)) {
            let Some(def) = self.data.assoc_def(from, to, *t).cloned() else {
                continue;
            };
            if let Some(m) = self.data.assocs.get_mut(&key)
                && let Some(v) = m.get_mut(&tkey)
            {
                v.retain(|x| x != t);
                if v.is_empty() {
                    m.remove(&tkey);
                }
            }
            if let Some(m) = self.data.assocs.get_mut(&tkey)
                && let Some(v) = m.get_mut(&key)
            {
                v.retain(|x| *x != def.inverse);
                if v.is_empty() {
                    m.remove(&key);
                }
            }
            removed.push(def);
        }
        if from == CONTACTS && to == COMPANIES && removed.iter().any(|d| d.primary) {
            self.set_silently(CONTACTS, from_id, &[]);
            if let Some(o) = self
                .data
                .types
                .get_mut(CONTACTS)
                .and_then(|t| t.objects.get_mut(&from_id))
            {
                o.props.remove("associatedcompanyid");
            }
        }
        for def in &removed {
            self.emit_assoc(def, from_id, to_id, true);
        }
        removed.len()
    }

    /// Registers a custom object type (schema plus its type data and default associations to
    /// `associated` type ids). Returns the new type id.
    pub fn add_schema(
        &mut self,
        mut schema: Schema,
        props: Vec<PropertyDef>,
        associated: &[String],
    ) -> String {
        let n = 1_000_000 + self.next_global();
        let type_id = format!("2-{n}");
        schema.object_type_id = type_id.clone();
        schema.id = n;
        let mut td = TypeData::new(&type_id, self.now);
        for mut p in props {
            p.created_ms = self.now;
            p.updated_ms = self.now;
            let unique = p.has_unique_value;
            let name = p.name.clone();
            td.props.insert(name.clone(), p);
            if unique {
                td.add_unique_index(&name);
            }
        }
        let name = schema.name.clone();
        self.data.types.insert(type_id.clone(), td);
        self.data.schemas.insert(type_id.clone(), schema);
        for other in associated {
            self.add_custom_assoc(&type_id, &name, other);
        }
        type_id
    }

    /// Adds an unlabeled association type pair between a custom type and `other` (if none).
    pub fn add_custom_assoc(&mut self, type_id: &str, name: &str, other: &str) -> Option<u32> {
        if let Some(d) = self.data.default_assoc(type_id, other) {
            return Some(d.type_id);
        }
        let other_name = assoc::singular(other, self.data.schema(other).map(|s| s.name.as_str()));
        let fwd = 10_000 + (self.next_global() as u32);
        let inv = if other == type_id {
            fwd
        } else {
            10_000 + (self.next_global() as u32)
        };
        let defs = assoc::custom_defs((type_id, name), (other, &other_name), fwd, inv);
        self.data.assoc_defs.extend(defs);
        Some(fwd)
    }

    /// Adds a USER_DEFINED label between two types (both directions). Returns the type id.
    pub fn add_label(
        &mut self,
        from: &str,
        to: &str,
        label: &str,
        inverse_label: Option<&str>,
    ) -> u32 {
        let fwd = 10_000 + (self.next_global() as u32);
        let inv = if from == to {
            fwd
        } else {
            10_000 + (self.next_global() as u32)
        };
        let fname = assoc::singular(from, self.data.schema(from).map(|s| s.name.as_str()));
        let tname = assoc::singular(to, self.data.schema(to).map(|s| s.name.as_str()));
        let mk = |f: &str, t: &str, id: u32, inverse: u32, l: &str, base: String| AssocDef {
            from: f.into(),
            to: t.into(),
            type_id: id,
            category: "USER_DEFINED".into(),
            label: Some(l.into()),
            inverse,
            primary: false,
            name: l.to_lowercase().replace(' ', "_"),
            webhook_name: base.to_uppercase(),
        };
        self.data
            .assoc_defs
            .push(mk(from, to, fwd, inv, label, format!("{fname}_to_{tname}")));
        if from != to {
            let il = inverse_label.unwrap_or(label);
            self.data
                .assoc_defs
                .push(mk(to, from, inv, fwd, il, format!("{tname}_to_{fname}")));
        }
        fwd
    }
}

fn self_hist(source: &ChangeSource, now: i64, value: &str) -> HistEntry {
    HistEntry {
        value: value.to_string(),
        timestamp_ms: now,
        source_type: source.change_source.clone(),
        source_id: source.source_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (
        Store,
        ChangeBus,
        tokio::sync::mpsc::UnboundedReceiver<Change>,
    ) {
        let mut config = Config::default();
        config.crm.search_index_lag_ms = 0;
        let (bus, rx) = ChangeBus::new();
        (Store::new(&config), bus, rx)
    }

    fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Change>) -> Vec<Change> {
        let mut v = Vec::new();
        while let Ok(c) = rx.try_recv() {
            v.push(c);
        }
        v
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn writes_emit_creation_property_changes_and_deletion() {
        let (store, bus, mut rx) = setup();
        let id = store
            .write(62515, Some(&bus), ChangeSource::api(Some(7)), |tx| {
                tx.create(CONTACTS, &[p("email", "A@x.io"), p("firstname", "A")])
            })
            .flatten()
            .unwrap();
        let got = drain(&mut rx);
        assert_eq!(got.len(), 1, "only Creation on create: {got:?}");
        assert_eq!(got[0].kind, ChangeKind::Creation);
        assert_eq!(got[0].source.source_id.as_deref(), Some("7"));

        store.write(62515, Some(&bus), ChangeSource::ui(3), |tx| {
            tx.update(
                CONTACTS,
                id,
                &[p("firstname", "A"), p("lastname", "B"), p("email", "")],
            )
        });
        let got = drain(&mut rx);
        let names: Vec<_> = got
            .iter()
            .map(|c| match &c.kind {
                ChangeKind::PropertyChange {
                    property_name,
                    property_value,
                } => {
                    format!("{property_name}={property_value}")
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            vec!["lastname=B", "email="],
            "only changed values, in input order"
        );
        assert_eq!(got[0].source.change_source, "CRM_UI");

        store.write(62515, Some(&bus), ChangeSource::api(None), |tx| {
            tx.archive(CONTACTS, id)
        });
        assert_eq!(drain(&mut rx)[0].kind, ChangeKind::Deletion);
    }

    #[test]
    fn restore_reindexes_and_gdpr_delete_emits_privacy_deletion() {
        let (store, bus, mut rx) = setup();
        store.write(62515, Some(&bus), ChangeSource::ui(1), |tx| {
            let a = tx.create(CONTACTS, &[p("email", "a@x.io")]).unwrap();
            assert!(!tx.restore(CONTACTS, a), "a live object is not restored");
            tx.archive(CONTACTS, a);
            assert_eq!(tx.data.types[CONTACTS].find_unique("email", "a@x.io"), None);
            assert!(tx.restore(CONTACTS, a));
            let td = &tx.data.types[CONTACTS];
            assert_eq!(td.find_unique("email", "a@x.io"), Some(a));
            assert!(!td.objects[&a].archived);
            assert!(tx.hard_delete(CONTACTS, a));
        });
        let kinds: Vec<ChangeKind> = drain(&mut rx).into_iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::Creation,
                ChangeKind::Deletion,
                ChangeKind::Restore,
                ChangeKind::PrivacyDeletion
            ]
        );
    }

    #[test]
    fn associations_emit_both_directions_and_merge_emits_merge() {
        let (store, bus, mut rx) = setup();
        store.write(62515, Some(&bus), ChangeSource::api(None), |tx| {
            let c = tx.create(CONTACTS, &[p("email", "a@x.io")]).unwrap();
            let c2 = tx.create(CONTACTS, &[p("email", "b@x.io")]).unwrap();
            let co = tx.create(COMPANIES, &[p("name", "X")]).unwrap();
            assert_eq!(tx.associate(CONTACTS, c, COMPANIES, co, &[279, 1]), 2);
            assert_eq!(tx.merge(CONTACTS, c, c2), Some(0));
            assert_eq!(tx.unassociate(CONTACTS, c, COMPANIES, co, None), 2);
        });
        let got = drain(&mut rx);
        let assoc: Vec<_> = got
            .iter()
            .filter_map(|c| match &c.kind {
                ChangeKind::AssociationChange {
                    association_type,
                    association_removed,
                    ..
                } => Some((
                    c.object_type_id.clone(),
                    association_type.clone(),
                    *association_removed,
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            assoc.len(),
            8,
            "2 types x 2 directions x (add, remove): {assoc:?}"
        );
        assert!(assoc.contains(&("0-2".into(), "COMPANY_TO_CONTACT".into(), false)));
        assert!(got.iter().any(|c| matches!(
            c.kind,
            ChangeKind::Merge {
                primary_object_id: 100,
                ..
            }
        )));
    }

    #[test]
    fn unique_index_follows_updates_archives_and_merges() {
        let (store, _bus, _rx) = setup();
        store.write(62515, None, ChangeSource::api(None), |tx| {
            let a = tx.create(CONTACTS, &[p("email", "a@x.io")]).unwrap();
            let b = tx.create(CONTACTS, &[p("email", "b@x.io")]).unwrap();
            tx.update(CONTACTS, a, &[p("email", "c@x.io")]);
            let td = &tx.data.types[CONTACTS];
            assert_eq!(td.find_unique("email", "C@X.io"), Some(a));
            assert_eq!(td.find_unique("email", "a@x.io"), None);
            tx.merge(CONTACTS, a, b);
            let td = &tx.data.types[CONTACTS];
            assert_eq!(td.find_unique("email", "b@x.io"), Some(a));
            assert_eq!(td.resolve_id(b), a);
            tx.archive(CONTACTS, a);
            assert_eq!(tx.data.types[CONTACTS].find_unique("email", "c@x.io"), None);
        });
    }

    #[test]
    fn search_view_lags_behind_writes() {
        let mut config = Config::default();
        config.crm.search_index_lag_ms = 60_000;
        let store = Store::new(&config);
        let now = now_ms();
        store.write(62515, None, ChangeSource::api(None), |tx| {
            let a = tx.create(CONTACTS, &[p("firstname", "old")]).unwrap();
            assert!(
                tx.data.types[CONTACTS].objects[&a]
                    .indexed(now, 60_000)
                    .is_none()
            );
            if let Some(o) = tx
                .data
                .types
                .get_mut(CONTACTS)
                .and_then(|t| t.objects.get_mut(&a))
            {
                o.stale = None; // pretend indexed
            }
            tx.update(CONTACTS, a, &[p("firstname", "new")]);
            let o = &tx.data.types[CONTACTS].objects[&a];
            assert_eq!(
                o.indexed(now, 60_000)
                    .and_then(|p| p.get("firstname"))
                    .map(String::as_str),
                Some("old")
            );
            assert_eq!(
                o.indexed(now + 60_001, 60_000)
                    .and_then(|p| p.get("firstname"))
                    .map(String::as_str),
                Some("new")
            );
        });
    }
}
