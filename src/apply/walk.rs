//! Reading field paths out of objects by their type: every field a value sets
//! ([`fieldset`]), and what changed between two versions of an object ([`compare`]) —
//! structured-merge-diff's `ToFieldSet` and `Compare`.
//!
//! Both walk a value and its [`TypeRef`] together, one path element at a time: struct fields
//! and map keys are `f:` elements, items of `map` lists `k:` (their key fields), of `set`
//! lists `v:` (their value), of atomic lists `i:` (never descended into: an atomic list is one
//! leaf). The list-item elements come from [`item_element`], which [`super::merge`] shares.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::ApplyError;
use super::path::{Path, PathElement};
use super::set::Set;
use super::types::{ListKind, Shape, TypeRef};

/// The paths that changed from one object to another.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// Every path `value` sets: its leaves, the items of keyed and set lists (with their key
/// fields), and the structs and maps it holds as members. A duplicate key in a `map` or `set`
/// list is an error.
///
/// A map's keys are members (as are a struct's fields it does not declare), so a map a value
/// sets keeps belonging to its writer when other fields join it; a struct field is a member
/// only when its value is `null` or `{}` (structured-merge-diff has owned empty structs since
/// its "fix remove structures" change, PR #184); a granular list or struct with content is
/// owned through its content, an empty granular list not at all.
pub fn fieldset(value: &Value, ty: TypeRef<'_>) -> Result<Set, ApplyError> {
    let mut walk = Walk::default();
    let mut set = Set::new();
    walk.fieldset(value, ty, &mut set);
    walk.finish().map(|()| set)
}

/// Refuses the fields `value` sets that its type does not declare, as structured-merge-diff
/// refuses them when it types an applied configuration (kube: `failed to create typed patch
/// object (…): .spec.foo: field not declared in schema`). Structs that keep unknown fields
/// ([`TypeRef::keeps_unknown_fields`]) and atomic values are not looked into.
pub fn check_declared(value: &Value, ty: TypeRef<'_>) -> Result<(), ApplyError> {
    let mut walk = Walk::default();
    walk.check_declared(value, ty);
    walk.finish()
}

/// What changed from `old` to `new` (both of type `ty`). `Value::Null` for `old` is an
/// object that did not exist: everything `new` sets is added.
pub fn compare(old: &Value, new: &Value, ty: TypeRef<'_>) -> Result<Comparison, ApplyError> {
    let mut walk = Walk::default();
    let mut out = Comparison::default();
    walk.compare(Some(old), Some(new), ty, &mut out);
    walk.finish().map(|()| out)
}

/// The path element of item `index` of a list of kind `kind` whose items are of type
/// `item_ty` (which gives key fields their defaults), or why it has none (in
/// structured-merge-diff's words).
pub fn item_element(
    kind: ListKind<'_>,
    item_ty: TypeRef<'_>,
    index: usize,
    item: &Value,
) -> Result<PathElement, String> {
    match kind {
        ListKind::Atomic => Ok(PathElement::Index(index as u32)),
        ListKind::Set => match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".into())
            }
            Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
            Value::Null => {
                Err("associative list without keys has an element that's an explicit null".into())
            }
            scalar => Ok(PathElement::Value(scalar.clone())),
        },
        ListKind::Map(keys) => {
            let object = match item {
                Value::Object(object) => object,
                Value::Null => {
                    return Err("associative list with keys may not have a null element".into());
                }
                _ => return Err("associative list with keys may not have non-map elements".into()),
            };
            let mut fields = Vec::new();
            for key in keys.iter() {
                match object.get(key).cloned().or_else(|| item_ty.key_default(key)) {
                    Some(value) => fields.push((key.into(), value)),
                    None => {
                        return Err(format!(
                            "associative list with keys has an element that omits key field \
                             {key:?} (and doesn't have default value)"
                        ));
                    }
                }
            }
            Ok(PathElement::key(fields))
        }
    }
}

/// JSON equality as structured-merge-diff compares values: numbers by value (`1` equals
/// `1.0`), objects whatever their key order.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| values_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `shape` is one value as a whole (a leaf, or an atomic struct, map or list).
pub(crate) fn is_atomic(shape: Shape<'_>) -> bool {
    matches!(
        shape,
        Shape::Leaf
            | Shape::Struct { atomic: true }
            | Shape::Map { atomic: true }
            | Shape::List(ListKind::Atomic)
    )
}

/// An object's entries in path order (by key bytes): sets built in this order grow by
/// appending, where insertion into their sorted lists is cheapest.
fn sorted(object: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = object.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

/// A value as an object, `null` as none; `Err` for anything else.
fn as_map(value: &Value) -> Result<Option<&Map<String, Value>>, String> {
    match value {
        Value::Object(object) => Ok(Some(object)),
        Value::Null => Ok(None),
        other => Err(format!("expected map, got {other}")),
    }
}

fn as_list(value: &Value) -> Result<Option<&Vec<Value>>, String> {
    match value {
        Value::Array(items) => Ok(Some(items)),
        Value::Null => Ok(None),
        other => Err(format!("expected list, got {other}")),
    }
}

/// The walk's position and the errors it met.
#[derive(Default)]
struct Walk {
    path: Vec<PathElement>,
    errors: Vec<String>,
}

impl Walk {
    fn error(&mut self, message: impl std::fmt::Display) {
        self.errors.push(format!("{}: {message}", Path(self.path.clone())));
    }

    fn finish(self) -> Result<(), ApplyError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApplyError::BadRequest(self.errors.join("\n")))
        }
    }

    /// The list's items with their path elements, duplicates and items without one
    /// reported (`report_duplicates`) or skipped.
    fn index_items<'v>(
        &mut self,
        kind: ListKind<'_>,
        item_ty: TypeRef<'_>,
        items: &'v [Value],
        report_duplicates: bool,
    ) -> Vec<(PathElement, &'v Value)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item_element(kind, item_ty, index, item) {
                Ok(element) => {
                    if !seen.insert(element.clone()) {
                        if report_duplicates {
                            self.error(format_args!("duplicate entries for key {element}"));
                        }
                        continue;
                    }
                    out.push((element, item));
                }
                Err(message) => self.error(format_args!("element {index}: {message}")),
            }
        }
        out
    }

    fn fieldset(&mut self, value: &Value, ty: TypeRef<'_>, set: &mut Set) {
        let shape = ty.shape_of(value);
        if is_atomic(shape) {
            set.insert(&self.path);
            return;
        }
        match shape {
            Shape::List(kind) => {
                let items = match as_list(value) {
                    Ok(Some(items)) => items,
                    Ok(None) => return,
                    Err(message) => return self.error(message),
                };
                let item_ty = ty.item();
                let mut indexed = self.index_items(kind, item_ty, items, true);
                indexed.sort_by(|a, b| a.0.cmp(&b.0));
                for (element, item) in indexed {
                    self.path.push(element);
                    self.fieldset(item, item_ty, set);
                    set.insert(&self.path);
                    self.path.pop();
                }
            }
            _ => {
                let object = match as_map(value) {
                    Ok(Some(object)) => object,
                    Ok(None) => return,
                    Err(message) => return self.error(message),
                };
                for (key, child) in sorted(object) {
                    self.path.push(PathElement::field(key));
                    self.fieldset(child, ty.field(key), set);
                    let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                    if empty || !ty.declares(key) {
                        set.insert(&self.path);
                    }
                    self.path.pop();
                }
            }
        }
    }

    fn check_declared(&mut self, value: &Value, ty: TypeRef<'_>) {
        let shape = ty.shape_of(value);
        if is_atomic(shape) {
            return;
        }
        match (shape, value) {
            (Shape::List(kind), Value::Array(items)) => {
                let item_ty = ty.item();
                for (index, item) in items.iter().enumerate() {
                    if let Ok(element) = item_element(kind, item_ty, index, item) {
                        self.path.push(element);
                        self.check_declared(item, item_ty);
                        self.path.pop();
                    }
                }
            }
            (shape, Value::Object(object)) => {
                let closed = matches!(shape, Shape::Struct { .. }) && !ty.keeps_unknown_fields();
                for (key, child) in object {
                    self.path.push(PathElement::field(key));
                    if closed && !ty.declares(key) {
                        self.error("field not declared in schema");
                    } else {
                        self.check_declared(child, ty.field(key));
                    }
                    self.path.pop();
                }
            }
            _ => {}
        }
    }

    /// One position of [`compare`]: `None` is absent, `Some(Value::Null)` an explicit null.
    fn compare(
        &mut self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        ty: TypeRef<'_>,
        out: &mut Comparison,
    ) {
        let (Some(shape), other) = (match (lhs, rhs) {
            (_, Some(r)) => (Some(ty.shape_of(r)), lhs.map(|l| ty.shape_of(l))),
            (Some(l), None) => (Some(ty.shape_of(l)), None),
            (None, None) => (None, None),
        }) else {
            return;
        };
        // A deduced value that changed its kind (an object became a string): the old
        // content is removed and the position modified.
        if let (Some(other), Some(l)) = (other, lhs)
            && std::mem::discriminant(&other) != std::mem::discriminant(&shape)
        {
            let contents = |v: &Value| {
                let mut set = Set::new();
                Walk { path: self.path.clone(), errors: Vec::new() }.fieldset(v, ty, &mut set);
                set
            };
            if !is_atomic(other) {
                out.removed = out.removed.union(&contents(l));
            }
            if !is_atomic(shape)
                && let Some(r) = rhs
            {
                out.added = out.added.union(&contents(r));
            }
            out.modified.insert(&self.path);
            return;
        }
        if is_atomic(shape) {
            return self.compare_leaf(lhs, rhs, out);
        }
        let descended = match shape {
            Shape::List(kind) => self.compare_lists(lhs, rhs, kind, ty, out),
            _ => self.compare_maps(lhs, rhs, ty, out),
        };
        if !descended {
            return self.compare_leaf(lhs, rhs, out);
        }
        if lhs.is_none() {
            out.added.insert(&self.path);
        } else if rhs.is_none() {
            out.removed.insert(&self.path);
        }
    }

    /// One side of a comparison as a container, `None` when absent or null (a value of
    /// another kind is reported).
    fn side<'v, T>(
        &mut self,
        value: Option<&'v Value>,
        read: fn(&'v Value) -> Result<Option<&'v T>, String>,
        which: &str,
    ) -> Option<&'v T> {
        match read(value?) {
            Ok(container) => container,
            Err(message) => {
                self.error(format_args!("{which}: {message}"));
                None
            }
        }
    }

    fn compare_leaf(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, out: &mut Comparison) {
        match (lhs, rhs) {
            (None, Some(_)) => out.added.insert(&self.path),
            (Some(_), None) => out.removed.insert(&self.path),
            (Some(l), Some(r)) if !values_equal(l, r) => out.modified.insert(&self.path),
            _ => {}
        }
    }

    /// Compares two granular maps or structs item by item; `false` when both are empty or
    /// null, which compare as leaves (keeping the `{}`/`null` distinction).
    fn compare_maps(
        &mut self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        ty: TypeRef<'_>,
        out: &mut Comparison,
    ) -> bool {
        let l = self.side(lhs, as_map, "lhs");
        let r = self.side(rhs, as_map, "rhs");
        if l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty) {
            return false;
        }
        let mut keys: Vec<&String> = l.into_iter().chain(r).flat_map(Map::keys).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            self.path.push(PathElement::field(key));
            let (lv, rv) = (l.and_then(|l| l.get(key)), r.and_then(|r| r.get(key)));
            self.compare(lv, rv, ty.field(key), out);
            self.path.pop();
        }
        true
    }

    fn compare_lists(
        &mut self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        kind: ListKind<'_>,
        ty: TypeRef<'_>,
        out: &mut Comparison,
    ) -> bool {
        let l = self.side(lhs, as_list, "lhs");
        let r = self.side(rhs, as_list, "rhs");
        if l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty) {
            return false;
        }
        let item_ty = ty.item();
        let l_items = self.index_items(kind, item_ty, l.map_or(&[][..], Vec::as_slice), false);
        let r_items = self.index_items(kind, item_ty, r.map_or(&[][..], Vec::as_slice), false);
        let l_map: BTreeMap<&PathElement, &Value> = l_items.iter().map(|(e, v)| (e, *v)).collect();
        let r_map: BTreeMap<&PathElement, &Value> = r_items.iter().map(|(e, v)| (e, *v)).collect();
        // Both maps iterate in path order, so the sets grow by appending.
        let elements: BTreeSet<&PathElement> = l_map.keys().chain(r_map.keys()).copied().collect();
        for element in elements {
            self.path.push(element.clone());
            let (lv, rv) = (l_map.get(element).copied(), r_map.get(element).copied());
            self.compare(lv, rv, item_ty, out);
            self.path.pop();
        }
        true
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
