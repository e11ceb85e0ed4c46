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
    /// What this position is. A deduced position answers a granular map, the shape of an
    /// untyped object; [`TypeRef::shape_of`] deduces from the value when it is at hand.
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

    /// What this position is for `value`: as [`TypeRef::shape`], except that a deduced
    /// position takes the shape of its value (an object is a granular map, an array an atomic
    /// list, anything else a leaf), as structured-merge-diff deduces untyped values.
    pub fn shape_of(&self, value: &serde_json::Value) -> Shape<'a> {
        match self {
            TypeRef::Deduced => match value {
                serde_json::Value::Object(_) => Shape::Map { atomic: false },
                serde_json::Value::Array(_) => Shape::List(ListKind::Atomic),
                _ => Shape::Leaf,
            },
            _ => self.shape(),
        }
    }

    /// The default the schema gives field `name` of a struct here, which keys a `map` list's
    /// item that leaves the field out: a CRD property's `default`; for built-in kinds kube's
    /// OpenAPI defaults `protocol` (of container, service and endpoint ports) to `TCP`.
    pub fn key_default(&self, name: &str) -> Option<serde_json::Value> {
        types_impl::key_default(self, name)
    }

    /// Whether fields a struct here does not declare are welcome (deduced): untyped values and
    /// CRD nodes with `x-kubernetes-preserve-unknown-fields`. Built-in structs are closed.
    pub fn keeps_unknown_fields(&self) -> bool {
        match *self {
            TypeRef::Builtin { .. } => false,
            TypeRef::Crd(types, id) => match types.node(id) {
                crate::apply::crd_types::CrdNode::Struct { open, .. } => *open,
                _ => true,
            },
            TypeRef::Deduced => true,
        }
    }

    /// Whether a struct here declares the field `name` (a map's keys and a struct's unknown
    /// fields are not declared: field management owns them as members of their own).
    pub fn declares(&self, name: &str) -> bool {
        types_impl::declares(self, name)
    }
}

/// The lookups behind [`TypeRef`]'s methods.
mod types_impl {
    use super::*;
    use crate::apply::crd_types::{CrdList, CrdNode};
    use crate::schema::{MapType, Shape as DefShape};

    /// A built-in type at a position; kube's OpenAPI gives an opaque definition no structure,
    /// so it is deduced from its values.
    fn builtin<'a>(ty: Ty, field: Option<&'static Field>) -> TypeRef<'a> {
        if let Ty::Ref(id) = ty
            && matches!(crate::schema::builtin().get(id).shape, DefShape::Opaque)
        {
            return TypeRef::Deduced;
        }
        TypeRef::Builtin { ty, field }
    }

    /// A CRD schema node at a position: built-in types (ObjectMeta) and deduced nodes are
    /// handed to their own variants.
    fn crd(types: &CrdTypes, id: NodeId) -> TypeRef<'_> {
        match types.node(id) {
            CrdNode::Builtin(def) => builtin(Ty::Ref(*def), None),
            CrdNode::Deduced => TypeRef::Deduced,
            _ => TypeRef::Crd(types, id),
        }
    }

    fn atomic(field: Option<&'static Field>) -> bool {
        field.is_some_and(|f| f.map_type == Some(MapType::Atomic))
    }

    /// The list kind of a built-in list field: its `x-kubernetes-list-type`, else what its
    /// patch strategy implies (kube's OpenAPI → structured-merge-diff conversion): `merge`
    /// with a merge key is a map keyed by it, `merge` on scalars a set; anything else atomic.
    fn builtin_list(field: Option<&'static Field>, items: &Ty) -> ListKind<'static> {
        let Some(field) = field else { return ListKind::Atomic };
        match field.list {
            Some(crate::schema::ListType::Atomic) => return ListKind::Atomic,
            Some(crate::schema::ListType::Set) => return ListKind::Set,
            Some(crate::schema::ListType::Map(keys)) => {
                return ListKind::Map(MapKeys::Builtin(keys));
            }
            None => {}
        }
        match &field.patch {
            Some(patch) if patch.merge => match &patch.merge_key {
                Some(key) => ListKind::Map(MapKeys::Builtin(std::slice::from_ref(key))),
                None if matches!(items, Ty::Scalar(_)) => ListKind::Set,
                None => ListKind::Atomic,
            },
            _ => ListKind::Atomic,
        }
    }

    pub(super) fn shape<'a>(ty: &TypeRef<'a>) -> Shape<'a> {
        match *ty {
            TypeRef::Builtin { ty, field } => match ty {
                Ty::Scalar(_) => Shape::Leaf,
                Ty::Ref(id) => {
                    let def = crate::schema::builtin().get(id);
                    match def.shape {
                        DefShape::Object(_) => {
                            Shape::Struct { atomic: def.struct_atomic || atomic(field) }
                        }
                        DefShape::Wire(_) => Shape::Leaf,
                        DefShape::Opaque => Shape::Map { atomic: false },
                    }
                }
                Ty::Array(items) => Shape::List(builtin_list(field, items)),
                Ty::Map(_) => Shape::Map { atomic: atomic(field) },
            },
            TypeRef::Crd(types, id) => match types.node(id) {
                CrdNode::Struct { atomic, .. } => Shape::Struct { atomic: *atomic },
                CrdNode::Map { atomic, .. } => Shape::Map { atomic: *atomic },
                CrdNode::List { kind, .. } => Shape::List(match kind {
                    CrdList::Atomic => ListKind::Atomic,
                    CrdList::Set => ListKind::Set,
                    CrdList::Map(keys) => ListKind::Map(MapKeys::Crd(keys)),
                }),
                CrdNode::Leaf => Shape::Leaf,
                // Handed to their own variants by `crd`; kept total for a root.
                CrdNode::Deduced => Shape::Map { atomic: false },
                CrdNode::Builtin(def) => builtin(Ty::Ref(*def), None).shape(),
            },
            TypeRef::Deduced => Shape::Map { atomic: false },
        }
    }

    pub(super) fn field<'a>(ty: &TypeRef<'a>, name: &str) -> TypeRef<'a> {
        match *ty {
            TypeRef::Builtin { ty: Ty::Ref(id), .. } => {
                match crate::schema::builtin().field(id, name) {
                    Some(field) => builtin(field.ty, Some(field)),
                    None => TypeRef::Deduced,
                }
            }
            TypeRef::Builtin { ty: Ty::Map(values), .. } => builtin(*values, None),
            TypeRef::Builtin { .. } | TypeRef::Deduced => TypeRef::Deduced,
            TypeRef::Crd(types, id) => match types.node(id) {
                CrdNode::Struct { fields, .. } => {
                    match fields.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
                        Ok(i) => crd(types, fields[i].1),
                        Err(_) => TypeRef::Deduced,
                    }
                }
                CrdNode::Map { values, .. } => crd(types, *values),
                CrdNode::Builtin(def) => field(&builtin(Ty::Ref(*def), None), name),
                _ => TypeRef::Deduced,
            },
        }
    }

    pub(super) fn item<'a>(ty: &TypeRef<'a>) -> TypeRef<'a> {
        match *ty {
            TypeRef::Builtin { ty: Ty::Array(items), .. } => builtin(*items, None),
            TypeRef::Crd(types, id) => match types.node(id) {
                CrdNode::List { items, .. } => crd(types, *items),
                _ => TypeRef::Deduced,
            },
            _ => TypeRef::Deduced,
        }
    }

    pub(super) fn key_default(ty: &TypeRef<'_>, name: &str) -> Option<serde_json::Value> {
        match *ty {
            TypeRef::Builtin { .. } => {
                (name == "protocol" && declares(ty, name)).then(|| serde_json::Value::from("TCP"))
            }
            TypeRef::Crd(types, id) => match types.node(id) {
                CrdNode::Struct { fields, .. } => {
                    let i = fields.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok()?;
                    types.default_of(fields[i].1).cloned()
                }
                _ => None,
            },
            TypeRef::Deduced => None,
        }
    }

    pub(super) fn declares(ty: &TypeRef<'_>, name: &str) -> bool {
        match *ty {
            TypeRef::Builtin { ty: Ty::Ref(id), .. } => {
                let schemas = crate::schema::builtin();
                matches!(schemas.get(id).shape, DefShape::Object(_))
                    && schemas.field(id, name).is_some()
            }
            TypeRef::Crd(types, id) => match types.node(id) {
                CrdNode::Struct { fields, .. } => {
                    fields.binary_search_by(|(n, _)| n.as_str().cmp(name)).is_ok()
                }
                CrdNode::Builtin(def) => declares(&builtin(Ty::Ref(*def), None), name),
                _ => false,
            },
            _ => false,
        }
    }
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;
