//! The type at each position of an object, as field management needs it: is it a struct, a
//! map, a list (atomic, a set, or a map keyed by some fields) or a leaf, and is it replaced
//! whole (atomic) or merged key by key (granular).
//!
//! Built-in kinds read [`crate::schema::builtin`] (a field's `list`, `map_type` and, for lists
//! without a list type, `patch` — `patchStrategy: merge` with a merge key is a `map` list keyed
//! by it); custom resources read their version's structural schema compiled by
//! [`super::crd_types`]; anything without a schema is [`TypeRef::Deduced`] (objects granular,
//! lists atomic), as kube deduces.

use std::sync::Arc;

use crate::schema::{DefId, Field, Ty};

use super::crd_types::{CrdTypes, NodeId};

/// The type of a resource's objects, at their root. Cheap to clone.
#[derive(Debug, Clone)]
pub enum TypeRoot {
    /// A built-in kind's definition.
    Builtin(DefId),
    /// A custom resource's served version.
    Crd(Arc<CrdTypes>),
    /// No schema: everything deduced from the values.
    Deduced,
}

impl TypeRoot {
    /// The root of the built-in kind `group/version, Kind=kind`, if the schema has it.
    pub fn builtin(group: &str, version: &str, kind: &str) -> Option<TypeRoot> {
        crate::schema::builtin().by_gvk(group, version, kind).map(TypeRoot::Builtin)
    }

    /// The root of a custom resource whose served version has this `openAPIV3Schema` (as the
    /// CustomResourceDefinition writes it); `None` gives a deduced type.
    pub fn crd(open_api_v3_schema: Option<&serde_json::Value>) -> TypeRoot {
        match open_api_v3_schema {
            Some(schema) => TypeRoot::Crd(Arc::new(CrdTypes::compile(schema))),
            None => TypeRoot::Deduced,
        }
    }

    /// The type at the root.
    pub fn at_root(&self) -> TypeRef<'_> {
        match self {
            TypeRoot::Builtin(id) => TypeRef::Builtin { ty: Ty::Ref(*id), field: None },
            TypeRoot::Crd(types) => TypeRef::Crd(types, types.root()),
            TypeRoot::Deduced => TypeRef::Deduced,
        }
    }
}

/// The type at one position of an object.
#[derive(Debug, Clone, Copy)]
pub enum TypeRef<'a> {
    /// A built-in type; `field` is the field holding it (its list and map markers), `None` at
    /// the root and for list items and map values.
    Builtin { ty: Ty, field: Option<&'static Field> },
    /// A node of a custom resource's schema.
    Crd(&'a CrdTypes, NodeId),
    /// No schema here: objects are granular structs, lists atomic.
    Deduced,
}

/// What a position is, for merging and ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape<'a> {
    /// Named fields; `atomic` when replaced as a whole (`+structType=atomic`).
    Struct {
        atomic: bool,
    },
    /// Any string keys; `atomic` when replaced as a whole (`+mapType=atomic`).
    Map {
        atomic: bool,
    },
    List(ListKind<'a>),
    /// A scalar, or a type with its own JSON form (Time, Quantity, IntOrString, RawExtension…).
    Leaf,
}

/// `x-kubernetes-list-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind<'a> {
    Atomic,
    Set,
    /// A map keyed by these fields (`x-kubernetes-list-map-keys`).
    Map(MapKeys<'a>),
}

/// The key fields of a `map` list, from the built-in schema or a CRD's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKeys<'a> {
    Builtin(&'static [&'static str]),
    Crd(&'a [String]),
}

impl<'a> MapKeys<'a> {
    /// The key fields' names, in the schema's order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let (builtin, crd): (&'static [&'static str], &'a [String]) = match *self {
            MapKeys::Builtin(keys) => (keys, &[]),
            MapKeys::Crd(keys) => (&[], keys),
        };
        builtin.iter().copied().chain(crd.iter().map(String::as_str))
    }
}

impl<'a> TypeRef<'a> {
    /// What this position is.
    pub fn shape(&self) -> Shape<'a> {
        types_impl::shape(self)
    }

    /// The type of field (or map key) `name` of a struct or map here; [`TypeRef::Deduced`]
    /// when unknown.
    pub fn field(&self, name: &str) -> TypeRef<'a> {
        types_impl::field(self, name)
    }

    /// The type of this list's items.
    pub fn item(&self) -> TypeRef<'a> {
        types_impl::item(self)
    }
}

/// The lookups behind [`TypeRef`]'s methods (helper ssa-core fills these in).
mod types_impl {
    use super::*;

    pub(super) fn shape<'a>(_ty: &TypeRef<'a>) -> Shape<'a> {
        Shape::Leaf
    }

    pub(super) fn field<'a>(_ty: &TypeRef<'a>, _name: &str) -> TypeRef<'a> {
        TypeRef::Deduced
    }

    pub(super) fn item<'a>(_ty: &TypeRef<'a>) -> TypeRef<'a> {
        TypeRef::Deduced
    }
}
