//! Index hints: how a watcher tells the dispatcher the one value its selector requires of an
//! indexed key, and how the dispatcher reads that key's value from an object.
//!
//! A hint only narrows the watchers an event is handed to; every watcher still applies its full
//! [`crate::Filter`]. So a hint must be a NECESSARY condition of its watcher's filter: whenever the
//! filter accepts an object, the object's value for the hint's key is the hint's value. The value
//! of a key is read here, once per event and key in use, from the object the view decoded once:
//! - [`IndexKey::Label`]: the string value of that label in `metadata.labels`; none when the
//!   label is missing or not a string (a label selector `k=v` never matches such an object).
//! - [`IndexKey::Field`]: the string at the field's JSON pointer ([`IndexedField::pointer`]),
//!   or `""` when it is missing or not a string — the zero value a typed object would have, and
//!   what kube-ledger's field selectors see for such a field.

use std::sync::Arc;

use serde_json::Value;

/// A key the dispatcher can index watchers by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexKey {
    /// A label, by its key (`app`): every label can be indexed.
    Label(String),
    /// A field, by its field-selector name (`spec.nodeName`): only the fields of
    /// [`crate::ViewConfig::indexed_fields`]. A hint naming another field is ignored (the watcher
    /// is dispatched every event of its namespace, as without a hint).
    Field(String),
}

/// A watcher's index hint ([`crate::WatchRequest::index`]): its filter only accepts objects whose
/// `key` has this `value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexValue {
    pub key: IndexKey,
    pub value: String,
}

impl IndexValue {
    /// The hint of a label selector requiring `key=value`.
    pub fn label(key: impl Into<String>, value: impl Into<String>) -> IndexValue {
        IndexValue { key: IndexKey::Label(key.into()), value: value.into() }
    }

    /// The hint of a field selector requiring `field=value`.
    pub fn field(field: impl Into<String>, value: impl Into<String>) -> IndexValue {
        IndexValue { key: IndexKey::Field(field.into()), value: value.into() }
    }
}

/// A field a view can index watchers by: its field-selector name and where its value lives in the
/// stored object. Only declare a field whose selector value is exactly the string at `pointer`,
/// or `""` when that is missing or not a string; otherwise a hint could hide an event from a
/// watcher whose filter accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedField {
    /// The name field selectors use: `spec.nodeName`.
    pub name: String,
    /// A JSON pointer into the stored object: `/spec/nodeName`.
    pub pointer: String,
}

impl IndexedField {
    pub fn new(name: impl Into<String>, pointer: impl Into<String>) -> IndexedField {
        IndexedField { name: name.into(), pointer: pointer.into() }
    }
}

/// A key as the dispatcher indexes it: a label key, or a field resolved to its pointer (two
/// field names with one pointer, such as pods' `spec.nodeName` and `spec.host`, share a key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Label(Arc<str>),
    Field { pointer: Arc<str> },
}

impl Key {
    /// The value of this key in `object`, when it has one (see the module docs).
    pub(crate) fn value_in<'a>(&self, object: &'a Value) -> Option<&'a str> {
        match self {
            Key::Label(key) => object.get("metadata")?.get("labels")?.get(&**key)?.as_str(),
            Key::Field { pointer } => {
                Some(object.pointer(pointer).and_then(Value::as_str).unwrap_or(""))
            }
        }
    }
}

/// Resolves a hint against the view's indexed fields: `None` for a field it does not index.
pub(crate) fn resolve(hint: &IndexValue, fields: &[IndexedField]) -> Option<(Key, Arc<str>)> {
    let key = match &hint.key {
        IndexKey::Label(key) => Key::Label(key.as_str().into()),
        IndexKey::Field(name) => {
            let field = fields.iter().find(|f| f.name == *name)?;
            Key::Field { pointer: field.pointer.as_str().into() }
        }
    };
    Some((key, hint.value.as_str().into()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_follow_what_selectors_see() {
        let pod = json!({
            "metadata": {"labels": {"app": "web", "n": 3}},
            "spec": {"nodeName": "node-1", "replicas": 2},
        });
        let label = |k: &str| Key::Label(k.into());
        let field = |p: &str| Key::Field { pointer: p.into() };
        assert_eq!(label("app").value_in(&pod), Some("web"));
        assert_eq!(label("n").value_in(&pod), None, "a non-string label is no label");
        assert_eq!(label("tier").value_in(&pod), None);
        assert_eq!(label("app").value_in(&Value::Null), None);
        assert_eq!(field("/spec/nodeName").value_in(&pod), Some("node-1"));
        assert_eq!(field("/spec/host").value_in(&pod), Some(""), "missing: the zero value");
        assert_eq!(field("/spec/replicas").value_in(&pod), Some(""), "not a string");
        assert_eq!(field("/spec/nodeName").value_in(&Value::Null), Some(""));
    }

    #[test]
    fn field_hints_resolve_only_for_indexed_fields() {
        let fields = [
            IndexedField::new("spec.nodeName", "/spec/nodeName"),
            IndexedField::new("spec.host", "/spec/nodeName"),
        ];
        let (by_name, value) = resolve(&IndexValue::field("spec.nodeName", "n1"), &fields).unwrap();
        let (by_alias, _) = resolve(&IndexValue::field("spec.host", "n1"), &fields).unwrap();
        assert_eq!((&by_name, &*value), (&by_alias, "n1"));
        assert!(resolve(&IndexValue::field("status.phase", "Running"), &fields).is_none());
        let (label, _) = resolve(&IndexValue::label("app", "web"), &[]).unwrap();
        assert_eq!(label, Key::Label("app".into()));
    }
}
