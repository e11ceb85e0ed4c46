//! `metadata.managedFields`: its entries read from and written to objects in kube's shape,
//! their identity and order, and the bookkeeping kube does on them (fields of the object's own
//! identity stripped, empty entries dropped, more than ten Update managers folded into
//! `ancient-changes`).
//!
//! Data flows: an object's `metadata.managedFields` JSON → [`decode`] → [`Managed`] (each
//! `fieldsV1` read into a [`Set`] by [`super::fields_v1`]) → changed by [`super::updater`] →
//! [`encode_into`] writes it back, sorted as kube sorts it.

use std::time::UNIX_EPOCH;

use serde_json::{Map, Value};

use crate::meta::gojson;

use super::fields_v1;
use super::path::PathElement;
use super::set::Set;

/// `managedFields[].operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `ManagedFieldsEntry`, its `fieldsV1` read into a [`Set`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    pub operation: Operation,
    /// `apps/v1`, `v1`.
    pub api_version: String,
    /// RFC 3339, whole seconds; `None` when the entry has none.
    pub time: Option<String>,
    pub fields: Set,
    /// `""` for the main resource.
    pub subresource: String,
}

/// The manager kube folds the oldest Update entries into once there are too many.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// The paths of an object's own identity that no entry ever holds (kube's `stripmeta`):
/// `apiVersion`, `kind`, `metadata` itself and its server-set fields. Only these exact paths —
/// `metadata.labels` and the rest of `metadata` stay ownable.
pub fn identity_fields() -> Set {
    let mut set = Set::new();
    set.insert(&[PathElement::field("apiVersion")]);
    set.insert(&[PathElement::field("kind")]);
    set.insert(&[PathElement::field("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[PathElement::field("metadata"), PathElement::field(name)]);
    }
    set
}

impl Entry {
    /// An entry without fields or time.
    pub fn new(manager: &str, operation: Operation, api_version: &str, subresource: &str) -> Self {
        Entry {
            manager: manager.to_owned(),
            operation,
            api_version: api_version.to_owned(),
            time: None,
            fields: Set::new(),
            subresource: subresource.to_owned(),
        }
    }

    /// Whether `self` and `other` are the same owner, as kube identifies owners: the manager,
    /// the operation and the subresource, and for an Update also the apiVersion (an applier
    /// keeps one entry whatever version it applies in).
    pub fn same_owner(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == Operation::Apply || self.api_version == other.api_version)
    }

    /// kube's manager identifier: the entry without time and fields as Go's `encoding/json`
    /// writes it (`{"manager":"m","operation":"Update","apiVersion":"v1"}`). kube orders
    /// owners by it when it folds old entries and when it lists conflicts.
    pub fn identifier(&self) -> String {
        let mut out = format!(
            "{{\"manager\":{},\"operation\":\"{}\"",
            gojson::string(&self.manager),
            self.operation.as_str()
        );
        if self.operation == Operation::Update && !self.api_version.is_empty() {
            out.push_str(&format!(",\"apiVersion\":{}", gojson::string(&self.api_version)));
        }
        if !self.subresource.is_empty() {
            out.push_str(&format!(",\"subresource\":{}", gojson::string(&self.subresource)));
        }
        out.push('}');
        out
    }

    /// The entry's time in whole seconds since the epoch; `0` without one (as kube counts).
    pub fn seconds(&self) -> i64 {
        self.time
            .as_deref()
            .and_then(crate::registry::object::parse_timestamp)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64)
    }

    /// The entry as kube writes it, keys in `ManagedFieldsEntry`'s order.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("manager".into(), self.manager.clone().into());
        map.insert("operation".into(), self.operation.as_str().into());
        map.insert("apiVersion".into(), self.api_version.clone().into());
        if let Some(time) = &self.time {
            map.insert("time".into(), time.clone().into());
        }
        map.insert("fieldsType".into(), "FieldsV1".into());
        map.insert("fieldsV1".into(), fields_v1::to_value(&self.fields));
        if !self.subresource.is_empty() {
            map.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(map)
    }
}

/// An object's entries, in kube's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Managed {
    pub entries: Vec<Entry>,
}

impl Managed {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of `owner`'s owner.
    pub fn find(&self, owner: &Entry) -> Option<&Entry> {
        self.entries.iter().find(|e| e.same_owner(owner))
    }

    pub fn find_mut(&mut self, owner: &Entry) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.same_owner(owner))
    }

    /// Adds `entry`, replacing the entry of the same owner if there is one.
    pub fn put(&mut self, entry: Entry) {
        match self.find_mut(&entry) {
            Some(existing) => *existing = entry,
            None => self.entries.push(entry),
        }
    }

    /// Removes the entry of `owner`'s owner.
    pub fn remove(&mut self, owner: &Entry) -> Option<Entry> {
        let i = self.entries.iter().position(|e| e.same_owner(owner))?;
        Some(self.entries.remove(i))
    }

    /// Drops the entries that own nothing.
    pub fn drop_empty(&mut self) {
        self.entries.retain(|e| !e.fields.is_empty());
    }

    /// kube's order: Apply before Update, then oldest first (no time counts as the epoch), then
    /// by manager, apiVersion and subresource.
    pub fn sort(&mut self) {
        self.entries.sort_by(|p, q| {
            p.operation
                .cmp(&q.operation)
                .then_with(|| p.seconds().cmp(&q.seconds()))
                .then_with(|| p.manager.cmp(&q.manager))
                .then_with(|| p.api_version.cmp(&q.api_version))
                .then_with(|| p.subresource.cmp(&q.subresource))
        });
    }

    /// kube's cap on Update entries: while there are more than `max`, the oldest are merged,
    /// per apiVersion, into an `ancient-changes` entry of that version, which takes the time of
    /// the newest entry folded into it. The first (oldest) entry of each version is only moved
    /// into the bucket when a second one of that version is folded.
    pub fn cap_updates(&mut self, max: usize) {
        let mut updaters: Vec<Entry> =
            self.entries.iter().filter(|e| e.operation == Operation::Update).cloned().collect();
        if updaters.len() <= max {
            return;
        }
        updaters.sort_by(|a, b| {
            a.seconds().cmp(&b.seconds()).then_with(|| a.identifier().cmp(&b.identifier()))
        });
        let mut first_of_version: Vec<(String, Entry)> = Vec::new();
        let mut length = updaters.len();
        for updater in updaters {
            if length <= max {
                break;
            }
            let version = updater.api_version.clone();
            let bucket_owner = Entry::new(ANCIENT_CHANGES, Operation::Update, &version, "");
            let Some((_, first)) = first_of_version.iter().find(|(v, _)| *v == version) else {
                first_of_version.push((version, updater));
                continue;
            };
            if self.find(&bucket_owner).is_none() {
                let moved = self.remove(first).map(|e| e.fields).unwrap_or_default();
                self.entries.push(Entry { fields: moved, ..bucket_owner.clone() });
            }
            let folded = self.remove(&updater).map(|e| e.fields).unwrap_or_default();
            if let Some(bucket) = self.find_mut(&bucket_owner) {
                bucket.fields = folded.union(&bucket.fields);
                bucket.time = updater.time.clone();
            }
            length -= 1;
        }
    }
}

/// `metadata.managedFields` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ManagedError(pub String);

/// The raw `metadata.managedFields` list of `object`, if it has one.
fn raw_entries(object: &Value) -> Option<&Value> {
    object.get("metadata")?.get("managedFields").filter(|v| !v.is_null())
}

/// The entries of `object` (none when it has no `managedFields`). Fails as kube's decoder
/// does: an operation other than `Apply`/`Update`, an empty apiVersion, a missing or foreign
/// `fieldsType`, a `fieldsV1` that cannot be read. Two entries of the same owner: the later
/// one counts.
pub fn decode(object: &Value) -> Result<Managed, ManagedError> {
    let Some(raw) = raw_entries(object) else {
        return Ok(Managed::default());
    };
    let Value::Array(items) = raw else {
        return Err(ManagedError("metadata.managedFields must be a list".into()));
    };
    let mut managed = Managed::default();
    for (i, item) in items.iter().enumerate() {
        managed.put(decode_entry(i, item)?);
    }
    Ok(managed)
}

fn decode_entry(i: usize, item: &Value) -> Result<Entry, ManagedError> {
    let Value::Object(map) = item else {
        return Err(ManagedError(format!("managed fields entry {i} must be an object")));
    };
    let text = |key: &str| -> Result<String, ManagedError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => {
                Err(ManagedError(format!("{key} of managed fields entry {i} must be a string")))
            }
        }
    };
    let operation = match text("operation")?.as_str() {
        "Apply" => Operation::Apply,
        "Update" => Operation::Update,
        _ => return Err(ManagedError("operation must be `Apply` or `Update`".into())),
    };
    let api_version = text("apiVersion")?;
    if api_version.is_empty() {
        return Err(ManagedError("apiVersion must not be empty".into()));
    }
    match text("fieldsType")?.as_str() {
        "FieldsV1" => {}
        "" => return Err(ManagedError(format!("missing fieldsType in managed fields entry {i}"))),
        other => {
            return Err(ManagedError(format!(
                "invalid fieldsType {} in managed fields entry {i}",
                gojson::string(other)
            )));
        }
    }
    let fields = match map.get("fieldsV1") {
        None | Some(Value::Null) => Set::new(),
        Some(value) => fields_v1::from_value(value).map_err(|e| {
            ManagedError(format!("error decoding versioned set of managed fields entry {i}: {e}"))
        })?,
    };
    let time = text("time")?;
    Ok(Entry {
        manager: text("manager")?,
        operation,
        api_version,
        time: (!time.is_empty()).then_some(time),
        fields,
        subresource: text("subresource")?,
    })
}

/// Whether `object`'s `managedFields` asks for them to be cleared, as kube reads a write: the
/// list is present but empty, or holds a single entry with nothing set (`[{}]`).
pub fn is_reset(object: &Value) -> bool {
    let Some(Value::Array(items)) = raw_entries(object) else {
        return false;
    };
    match items.as_slice() {
        [] => true,
        [Value::Object(entry)] => {
            ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource"]
                .iter()
                .all(|key| match entry.get(*key) {
                    None | Some(Value::Null) => true,
                    Some(Value::String(s)) => s.is_empty(),
                    Some(_) => false,
                })
        }
        _ => false,
    }
}

/// Writes `managed` as `object`'s `metadata.managedFields` in kube's shape and order; no
/// entries remove the key. The key keeps its place when present, else goes last in
/// `metadata` (where ObjectMeta has it).
pub fn encode_into(object: &mut Value, managed: &Managed) {
    let Some(Value::Object(metadata)) = object.get_mut("metadata") else {
        return;
    };
    let mut sorted = managed.clone();
    sorted.drop_empty();
    if sorted.is_empty() {
        metadata.shift_remove("managedFields");
        return;
    }
    sorted.sort();
    let list = Value::Array(sorted.entries.iter().map(Entry::to_json).collect());
    metadata.insert("managedFields".into(), list);
}

/// Removes `metadata.managedFields` from `object`.
pub fn remove_from(object: &mut Value) {
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        metadata.shift_remove("managedFields");
    }
}

#[cfg(test)]
mod tests;
