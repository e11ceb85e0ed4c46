//! Server-side apply and `metadata.managedFields`: which manager owns which field of an object,
//! computed from the object's type schema, as kube-apiserver's field manager and
//! structured-merge-diff compute it.
//!
//! Pure: values in, values out; no I/O, no storage, no HTTP. The store calls [`FieldManager`] at
//! stage 1b of a write (after decode and defaulting, before mutating admission):
//! [`FieldManager::update`] for a create, an update or a non-apply patch, and
//! [`FieldManager::apply`] for an apply patch.
//!
//! Data flows: the live object and the request's object, both in the request's version →
//! walked by the type at each position ([`types`], [`crd_types`]) into sets of field paths
//! ([`path`], [`set`]; [`walk`] compares, [`merge`] merges and prunes) → the managers' entries
//! ([`managed`], each set written as FieldsV1 by [`fields_v1`]) updated by [`updater`] → the
//! new object carrying its `managedFields`, or the conflicts ([`conflict`]) that make a 409.
//! [`last_applied`] is kube's client-side → server-side apply hand-over for `kubectl`;
//! [`scale`] maps entries between a workload and its `/scale` subresource; [`manager`] names
//! the manager of a request.

pub mod conflict;
pub mod crd_types;
pub mod fields_v1;
pub mod last_applied;
pub mod managed;
pub mod manager;
pub mod merge;
pub mod path;
pub mod scale;
pub mod set;
pub mod types;
pub mod updater;
pub mod walk;
pub mod zero;

use serde_json::Value;

use crate::meta::validation::FieldCause;

pub use path::{Path, PathElement};
pub use set::Set;
pub use types::{TypeRef, TypeRoot};

/// kube's limit on Update entries before the oldest are merged into `ancient-changes`
/// (`DefaultMaxUpdateManagers`).
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The time of a write, as `managedFields[].time` writes it: RFC 3339 UTC, whole seconds
/// (`2026-12-07T06:30:00Z`). One value per request, so every entry it touches agrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Now(pub String);

/// One field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The owner, as kube prints it: `"kubectl"`, `"m" with subresource "scale"`,
    /// `"updater" using apps/v1`.
    pub manager: String,
    pub path: Path,
}

/// Why an apply cannot be carried out.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyError {
    /// Fields owned by other managers would change: a 409 (see [`conflict`]).
    Conflicts(Vec<Conflict>),
    /// The configuration cannot be used (a duplicate key in a keyed list, a value whose type
    /// does not fit the schema): a 400 with this message.
    BadRequest(String),
    /// Invalid as an object: a 422 with these causes.
    Invalid(Vec<FieldCause>),
}

/// The field manager of one resource in one served version, for the main resource or one of
/// its subresources: what the store calls at stage 1b.
#[derive(Debug, Clone)]
pub struct FieldManager {
    /// The type of the objects, at their root.
    pub(crate) root: TypeRoot,
    /// The version requests are made in and entries record: `apps/v1`, `v1`.
    pub(crate) api_version: String,
    /// `""` for the main resource, `status`, `scale`.
    pub(crate) subresource: String,
    /// Fields this endpoint does not write (`status` on the main resource of a kind with
    /// `/status`, `spec` on `/status`): never compared, never owned.
    pub(crate) reset: Set,
    pub(crate) max_update_managers: usize,
    /// kube's zero value of the type ([`zero`]), the object a create is compared against;
    /// built once here rather than on every create.
    pub(crate) zero: Value,
}

impl FieldManager {
    /// A field manager for objects of `root`'s type served as `api_version`, written through
    /// `subresource` (`""` for the main resource); `reset_fields` are paths of field names
    /// (`&["status"]`, `&["metadata", "labels"]`) this endpoint leaves alone.
    pub fn new(
        root: TypeRoot,
        api_version: &str,
        subresource: &str,
        reset_fields: &[&[&str]],
    ) -> Self {
        let mut reset = Set::default();
        for fields in reset_fields {
            let path: Vec<PathElement> = fields.iter().map(|f| PathElement::field(f)).collect();
            reset.insert(&path);
        }
        Self {
            zero: zero::zero_object(&root),
            root,
            api_version: api_version.to_owned(),
            subresource: subresource.to_owned(),
            reset,
            max_update_managers: MAX_UPDATE_MANAGERS,
        }
    }

    /// A create, an update or a non-apply patch by `manager`: rewrites `new`'s
    /// `metadata.managedFields` from `live`'s (`Value::Null` on create) and what changed. Never
    /// fails, as kube's `UpdateNoErrors`: when the entries cannot be computed, `new` keeps
    /// `live`'s entries.
    pub fn update(&self, live: &Value, new: &mut Value, manager: &str, now: &Now) {
        updater::update(self, live, new, manager, now)
    }

    /// An apply of `config` by `manager` to `live` (`Value::Null` when the object does not
    /// exist yet): the merged object with its entries, `None` when the apply changes nothing
    /// (no write, no new revision), or why it cannot be applied. `force` takes the conflicting
    /// fields over instead of refusing.
    ///
    /// As kube: `config` must be in this endpoint's version (else 400 `invalid object type`;
    /// its kind is the caller's to check) and carry no `metadata.managedFields` (400); an
    /// object nobody tracks yet is first owned by `before-first-apply`; for the manager
    /// `kubectl`, conflicts on what its last client-side apply set and the object still holds
    /// are forgiven, and its last-applied annotation is kept current.
    pub fn apply(
        &self,
        live: &Value,
        config: Value,
        manager: &str,
        force: bool,
        now: &Now,
    ) -> Result<Option<Value>, ApplyError> {
        updater::apply(self, live, config, manager, force, now)
    }
}
