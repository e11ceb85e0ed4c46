//! Merging an applied configuration into the live object by type (granular structs and maps
//! key by key, `set` lists by value, `map` lists by their key fields, atomic values replaced),
//! keeping kube's order of merged list items; and cutting a set of paths out of an object or
//! keeping only them — structured-merge-diff's `Merge`, `RemoveItems` and `ExtractItems`.
//!
//! Order of a merged list (structured-merge-diff's `visitListItems`): the live items and the
//! configuration's are walked side by side; live items the configuration does not mention stay
//! where they are, the configuration's items come in its order (so it can reorder the items it
//! names), and its new items are placed after the item that precedes them in it. Object keys
//! keep the live order, new keys follow in the configuration's order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::ApplyError;
use super::path::{Path, PathElement};
use super::set::Set;
use super::types::{ListKind, Shape, TypeRef};
use super::walk::{is_atomic, item_element};

/// `config` merged into `live` (`Value::Null` for an object that does not exist yet).
///
/// `config` is expected to have passed [`super::walk::fieldset`], which reports its
/// duplicate keys and items without keys; what merging meets of them is reported here too.
pub fn merge(live: &Value, config: &Value, ty: TypeRef<'_>) -> Result<Value, ApplyError> {
    if live.is_null() {
        return Ok(config.clone());
    }
    let mut merger = Merger::default();
    let out = merger.merge(Some(live), config, ty);
    if merger.errors.is_empty() {
        Ok(out)
    } else {
        Err(ApplyError::BadRequest(merger.errors.join("\n")))
    }
}

/// `value` without the paths of `set` (a manager's fields it stopped applying). Structs, maps
/// and lists the removal empties are left out of their parents (kube stores them as absent);
/// the root stays an object.
pub fn remove_items(value: &Value, set: &Set, ty: TypeRef<'_>) -> Value {
    match remove(value, set, ty) {
        Some(value) => value,
        None if value.is_object() => Value::Object(Map::new()),
        None => Value::Null,
    }
}

/// Only the parts of `value` that `set` covers. A granular struct, map or list that is a member
/// of `set` comes out empty (`{}`/`[]`) plus whatever of it `set` covers below; an item of a
/// `map` list keeps its key fields.
pub fn extract_items(value: &Value, set: &Set, ty: TypeRef<'_>) -> Value {
    extract(value, set, ty).unwrap_or_else(|| Value::Object(Map::new()))
}

#[derive(Default)]
struct Merger {
    path: Vec<PathElement>,
    errors: Vec<String>,
}

impl Merger {
    fn error(&mut self, message: impl std::fmt::Display) {
        self.errors.push(format!("{}: {message}", Path(self.path.clone())));
    }

    /// One position: the configuration's value merged into the live one (`None`: absent).
    fn merge(&mut self, live: Option<&Value>, config: &Value, ty: TypeRef<'_>) -> Value {
        let Some(live) = live else { return config.clone() };
        let shape = ty.shape_of(config);
        if is_atomic(shape)
            || std::mem::discriminant(&ty.shape_of(live)) != std::mem::discriminant(&shape)
        {
            return config.clone();
        }
        match shape {
            Shape::List(kind) => self.merge_lists(live, config, kind, ty),
            _ => self.merge_maps(live, config, ty),
        }
    }

    fn merge_maps(&mut self, live: &Value, config: &Value, ty: TypeRef<'_>) -> Value {
        let config_map = match config {
            Value::Object(map) => map,
            Value::Null => return if is_empty(live) { Value::Null } else { live.clone() },
            other => {
                self.error(format_args!("expected map, got {other}"));
                return config.clone();
            }
        };
        let Value::Object(live_map) = live else { return config.clone() };
        let mut out = Map::with_capacity(live_map.len().max(config_map.len()));
        for (key, lv) in live_map {
            let merged = match config_map.get(key) {
                Some(cv) => {
                    self.path.push(PathElement::field(key));
                    let merged = self.merge(Some(lv), cv, ty.field(key));
                    self.path.pop();
                    merged
                }
                None => lv.clone(),
            };
            out.insert(key.clone(), merged);
        }
        for (key, cv) in config_map {
            if !live_map.contains_key(key) {
                out.insert(key.clone(), cv.clone());
            }
        }
        Value::Object(out)
    }

    fn merge_lists(
        &mut self,
        live: &Value,
        config: &Value,
        kind: ListKind<'_>,
        ty: TypeRef<'_>,
    ) -> Value {
        let config_items = match config {
            Value::Array(items) => items,
            Value::Null => return if is_empty(live) { Value::Null } else { live.clone() },
            other => {
                self.error(format_args!("expected list, got {other}"));
                return config.clone();
            }
        };
        let Value::Array(live_items) = live else { return config.clone() };
        if live_items.is_empty() && config_items.is_empty() {
            return config.clone();
        }
        let item_ty = ty.item();
        let mut rhs = Vec::with_capacity(config_items.len());
        let mut rhs_map = BTreeMap::new();
        for (index, item) in config_items.iter().enumerate() {
            match item_element(kind, item_ty, index, item) {
                Ok(element) => {
                    if rhs_map.insert(element.clone(), item).is_some() {
                        self.error(format_args!("duplicate entries for key {element}"));
                        continue;
                    }
                    rhs.push(element);
                }
                Err(message) => self.error(format_args!("element {index}: {message}")),
            }
        }
        // Live items: those without a key are dropped (they cannot be live after validation);
        // duplicates are kept, the first of them is the one the configuration merges into.
        let mut lhs = Vec::with_capacity(live_items.len());
        let mut lhs_map = BTreeMap::new();
        for (index, item) in live_items.iter().enumerate() {
            if let Ok(element) = item_element(kind, item_ty, index, item) {
                lhs_map.entry(element.clone()).or_insert(item);
                lhs.push((element, item));
            }
        }
        let mut shared = rhs.iter().filter(|e| lhs_map.contains_key(*e));
        let mut next_shared = shared.next();
        let mut merged: BTreeSet<&PathElement> = BTreeSet::new();
        let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
        let (mut li, mut ri) = (0, 0);
        while li < lhs.len() || ri < rhs.len() {
            if li < lhs.len() && ri < rhs.len() {
                let element = &lhs[li].0;
                if *element == rhs[ri] {
                    if merged.insert(&rhs[ri]) {
                        out.push(self.merge_item(
                            element,
                            lhs_map.get(element).copied(),
                            rhs_map[element],
                            item_ty,
                        ));
                    }
                    li += 1;
                    ri += 1;
                    next_shared = shared.next();
                    continue;
                }
                if rhs_map.contains_key(element) && next_shared.is_some_and(|n| n != element) {
                    // A shared item the configuration places later: it comes when it does.
                    li += 1;
                    continue;
                }
            }
            if li < lhs.len() {
                let (element, item) = &lhs[li];
                if !rhs_map.contains_key(element) {
                    out.push((*item).clone());
                    li += 1;
                    continue;
                }
                if merged.contains(element) {
                    li += 1;
                    continue;
                }
            }
            if ri < rhs.len() {
                let element = &rhs[ri];
                if merged.insert(element) {
                    out.push(self.merge_item(
                        element,
                        lhs_map.get(element).copied(),
                        rhs_map[element],
                        item_ty,
                    ));
                }
                ri += 1;
                if next_shared == Some(element) {
                    next_shared = shared.next();
                }
            }
        }
        Value::Array(out)
    }

    fn merge_item(
        &mut self,
        element: &PathElement,
        live: Option<&Value>,
        config: &Value,
        ty: TypeRef<'_>,
    ) -> Value {
        self.path.push(element.clone());
        let out = self.merge(live, config, ty);
        self.path.pop();
        out
    }
}

/// `null`, `{}` or `[]`.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// [`remove_items`] at one position: `None` when the removal emptied it.
fn remove(value: &Value, set: &Set, ty: TypeRef<'_>) -> Option<Value> {
    let shape = ty.shape_of(value);
    if is_atomic(shape) || is_empty(value) {
        return Some(value.clone());
    }
    match (shape, value) {
        (Shape::List(kind), Value::Array(items)) => {
            let item_ty = ty.item();
            let out: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let Ok(element) = item_element(kind, item_ty, index, item) else {
                        return Some(item.clone());
                    };
                    if set.members().binary_search(&element).is_ok() {
                        return None;
                    }
                    match set.child(&element) {
                        Some(below) => remove(item, below, item_ty),
                        None => Some(item.clone()),
                    }
                })
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        (_, Value::Object(map)) => {
            let mut out = Map::with_capacity(map.len());
            for (key, child) in map {
                let element = PathElement::field(key);
                if set.members().binary_search(&element).is_ok() {
                    continue;
                }
                let kept = match set.child(&element) {
                    Some(below) => remove(child, below, ty.field(key)),
                    None => Some(child.clone()),
                };
                if let Some(kept) = kept {
                    out.insert(key.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => Some(value.clone()),
    }
}

/// [`extract_items`] at one position: `None` when `set` covers nothing of it.
fn extract(value: &Value, set: &Set, ty: TypeRef<'_>) -> Option<Value> {
    match (ty.shape_of(value), value) {
        (shape, Value::Array(items)) if !is_atomic(shape) => {
            let Shape::List(kind) = shape else { return None };
            let item_ty = ty.item();
            let out: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let element = item_element(kind, item_ty, index, item).ok()?;
                    let member = set.members().binary_search(&element).is_ok();
                    extract_member(item, member, set.child(&element), item_ty, kind)
                })
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        (shape, Value::Object(map)) if !is_atomic(shape) => {
            let mut out = Map::new();
            for (key, child) in map {
                let element = PathElement::field(key);
                let member = set.members().binary_search(&element).is_ok();
                let below = set.child(&element);
                if let Some(kept) =
                    extract_member(child, member, below, ty.field(key), ListKind::Atomic)
                {
                    out.insert(key.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => None,
    }
}

/// One child of [`extract`]: whole when it is a member and one value (a leaf, an atomic
/// value); otherwise what `below` covers of it, starting from an empty container when it is a
/// member (with the key fields of a `map` list item, `kind` being its list's).
fn extract_member(
    value: &Value,
    member: bool,
    below: Option<&Set>,
    ty: TypeRef<'_>,
    kind: ListKind<'_>,
) -> Option<Value> {
    let shape = ty.shape_of(value);
    if member && (is_atomic(shape) || !(value.is_object() || value.is_array())) {
        return Some(value.clone());
    }
    let inner = below.and_then(|below| extract(value, below, ty));
    if !member {
        return inner;
    }
    Some(match (inner, value) {
        (Some(Value::Object(mut inner)), Value::Object(item)) => {
            add_keys(&mut inner, item, kind);
            Value::Object(inner)
        }
        (Some(inner), _) => inner,
        (None, Value::Object(item)) => {
            let mut keys = Map::new();
            add_keys(&mut keys, item, kind);
            Value::Object(keys)
        }
        (None, _) => Value::Array(Vec::new()),
    })
}

fn add_keys(out: &mut Map<String, Value>, item: &Map<String, Value>, kind: ListKind<'_>) {
    if let ListKind::Map(keys) = kind {
        for key in keys.iter() {
            if let Some(value) = item.get(key)
                && !out.contains_key(key)
            {
                out.insert(key.to_owned(), value.clone());
            }
        }
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
