//! Strategic merge patch (`application/strategic-merge-patch+json`), written after
//! k8s.io/apimachinery's `strategicpatch` package, for built-in kinds.
//!
//! It is JSON merge patch (RFC 7386) — maps merge key by key, `null` deletes — except for lists:
//!
//! - a list with a **merge key** (`containers` by `name`, `ports` by `containerPort`, …) merges
//!   item by item: a patch item updates the live item with the same key (recursively) or is
//!   added; `{"name": "x", "$patch": "delete"}` removes item `x`; an item `{"$patch": "replace"}`
//!   makes the rest of the patch list replace the live list;
//! - a **primitive list with the merge strategy** (`metadata.finalizers`) is a set union, and
//!   `$deleteFromPrimitiveList/<field>: [..]` removes values from it;
//! - every **other list** is replaced by the patch's list.
//!
//! Maps take directives too: `$patch: replace` (the patch replaces the map), `$patch: delete`
//! (the map becomes empty), `$retainKeys: [..]` (live keys not listed are cleared). The order of
//! a merged list is set by `$setElementOrder/<field>: [..]`; without it, kube's best effort
//! applies: items named by the patch come in patch order, live items keep their relative order,
//! and new items go before the live items they are not known to follow. kubectl's client-side
//! apply sends exactly these directives.
//!
//! Which lists merge, and by which key, comes from the kind's definition in the built-in schema
//! ([`crate::schema`], generated from kube's own types): the merge walks the schema along the
//! object, and each field's `patch` (kube's `patchStrategy`/`patchMergeKey` struct tags) says
//! how its list merges; `patchStrategy:"replace"` replaces a map whole. Go maps (`labels`) merge
//! key by key; fields the schema does not know merge as untyped JSON (maps merge, lists are
//! replaced). `$retainKeys` is honoured wherever a patch sends it, as kube's merge does (the
//! `retainKeys` strategy only tells clients where to send it). A kind without a built-in schema —
//! a custom resource — has no such tags; kube refuses strategic merge patch for it with 415, and
//! [`StrategicSchema::for_kind`] returns `None` so the caller can do the same.
//!
//! Deliberate differences from kube:
//! - directives and `null`s never reach the result (kube drops them when it decodes into typed
//!   structs; this server stores the JSON as patched);
//! - `$patch: merge` — the default behaviour — is accepted instead of rejected;
//! - `$deleteFromPrimitiveList/…` runs after the other keys of its map (kube's order is that of
//!   Go map iteration, i.e. random), so a value both added and deleted ends up deleted;
//! - inputs kube fails on with a 500 (a list item without its merge key, mixed item types, a
//!   `$setElementOrder` that contradicts the patch) are 400 or 422 here; a few it cannot handle
//!   at all (an empty `$setElementOrder` list with nothing to order) simply do nothing.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::PatchError;
use crate::schema::unknown::Node;
use crate::schema::{self, DefId, Field, Patch, Schemas};

const DIRECTIVE_MARKER: &str = "$patch";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

const BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const BAD_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";

/// How a list field merges. A list whose field has no patch strategy is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// A list of objects merged item by item, matching items by this field
    /// (`patchStrategy:"merge" patchMergeKey:"<key>"`).
    MergeByKey(&'static str),
    /// A list of scalars merged as a set (`patchStrategy:"merge"` without a key).
    MergePrimitives,
}

impl ListStrategy {
    /// The strategy a field's `+patchStrategy`/`+patchMergeKey` give its list; `None`: replaced.
    fn of(patch: Option<Patch>) -> Option<ListStrategy> {
        let patch = patch.filter(|p| p.merge)?;
        Some(match patch.merge_key {
            Some(key) => ListStrategy::MergeByKey(key),
            None => ListStrategy::MergePrimitives,
        })
    }
}

/// The merge facts of one kind: its definition in the built-in schema, whose fields say which
/// lists merge and by which key (`Field.patch`, kube's `patchStrategy`/`patchMergeKey` struct
/// tags), looked up along the path as the merge walks the object.
#[derive(Debug, Clone, Copy)]
pub struct StrategicSchema {
    /// `None`: no type at all; maps merge, lists are replaced.
    root: Option<(&'static Schemas, DefId)>,
}

impl StrategicSchema {
    /// The schema of a built-in kind (`group` is `""` for the core group), or `None` for kinds
    /// the built-in schema does not hold — custom resources — for which kube refuses strategic
    /// merge patch with 415 ([`apply_patch`](super::apply_patch) does the same given `None`).
    pub fn for_kind(group: &str, version: &str, kind: &str) -> Option<StrategicSchema> {
        let schemas = schema::builtin();
        let root = schemas.by_gvk(group, version, kind)?;
        Some(StrategicSchema { root: Some((schemas, root)) })
    }

    /// No type: strategic merge patch then behaves like JSON merge patch that also understands
    /// the directives (every list is replaced, unless a directive says otherwise).
    pub fn untyped() -> StrategicSchema {
        StrategicSchema { root: None }
    }

    /// How the list at `path` (field names from the object's root, list items transparent:
    /// `["spec", "containers", "ports"]`) merges; `None` means it is replaced.
    pub fn list_strategy(&self, path: &[&str]) -> Option<ListStrategy> {
        let (schemas, root) = self.root?;
        ListStrategy::of(schemas.field_at(root, path)?.patch)
    }

    fn root_node(&self) -> Node {
        match self.root {
            Some((_, root)) => Node::Struct(root),
            None => Node::Untyped,
        }
    }
}

/// Applies a strategic merge patch to an object. `original` must be a JSON object; `patch` must
/// be an object too, or `null` (which changes nothing, as in kube).
pub fn apply_strategic_merge_patch(
    original: &Value,
    patch: &Value,
    schema: &StrategicSchema,
) -> Result<Value, PatchError> {
    let original = match original {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => {
            return Err(PatchError::Apply(format!(
                "the object to patch is a JSON {}, not an object",
                json_type(other)
            )));
        }
    };
    let patch = match patch {
        Value::Object(map) => map.clone(),
        Value::Null => return Ok(Value::Object(original)),
        other => {
            return Err(PatchError::Decode(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type(other)
            )));
        }
    };
    let merger = Merger { schemas: schema.root.map(|(schemas, _)| schemas) };
    Ok(Value::Object(merger.merge_map(original, patch, schema.root_node())?))
}

/// The JSON type name Go's decoder uses in its messages.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The Go type of a decoded JSON value, for kube's `expected a X, but received a Y` messages.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Formats a number as Go's `%v` formats a `float64` (JSON numbers decode to float64 in Go).
fn go_number(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let exponent = value.abs().log10().floor();
    if (-4.0..6.0).contains(&exponent) {
        return format!("{value}");
    }
    // Go's %v switches to exponent form from 1e+06 (and below 1e-04): 1.5e+06, 1e-05.
    let rust = format!("{value:e}");
    match rust.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => rust,
    }
}

/// Formats a value as Go's `%v` formats decoded JSON (`map[a:1 b:[x y]]`), for messages that
/// should read like kube's.
pub(crate) fn go_fmt(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), go_number),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_fmt).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => go_fmt_map(map),
    }
}

fn go_fmt_map(map: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let parts: Vec<String> =
        keys.iter().map(|k| format!("{k}:{}", go_fmt(&map[k.as_str()]))).collect();
    format!("map[{}]", parts.join(" "))
}

/// A comparable form of a value: equal JSON values, numbers included (`80` and `80.0` are one
/// float64 in Go), give equal strings.
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => (f as i64).to_string(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn no_merge_key(map: &Map<String, Value>, key: &str) -> PatchError {
    PatchError::Apply(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt_map(map)
    ))
}

fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::Apply(format!("expected a {expected}, but received a {}", go_type(actual)))
}

/// Whether a key is a patch directive rather than data.
fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE_MARKER
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

/// The field a parallel directive (`$setElementOrder/containers`) is about.
fn directive_target<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.split_once('/').and_then(|(head, field)| (head == prefix).then_some(field))
}

/// Prepares a patch value that lands where there is nothing to merge with (a new field, a new
/// list item, a replaced list): a map carrying `$patch` is dropped, like kube's
/// `removeDirectives`; `null` fields are dropped, like its `discardNullValuesFromPatch`; and the
/// remaining directive keys are removed, which kube leaves to typed decoding.
fn strip(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key(DIRECTIVE_MARKER) => None,
        Value::Object(map) => Some(Value::Object(strip_map(map))),
        Value::Array(items) => Some(Value::Array(strip_list(items))),
        other => Some(other),
    }
}

fn strip_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(key, value)| !value.is_null() && !is_directive_key(key))
        .filter_map(|(key, value)| strip(value).map(|value| (key, value)))
        .collect()
}

fn strip_list(items: Vec<Value>) -> Vec<Value> {
    items.into_iter().filter_map(strip).collect()
}

/// The JSON kind shared by the items of the lists being merged; kube requires one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Object,
    Scalar(u8),
}

fn item_kind(value: &Value) -> Result<ItemKind, ()> {
    Ok(match value {
        Value::Object(_) => ItemKind::Object,
        Value::Array(_) => return Err(()),
        Value::Null => ItemKind::Scalar(0),
        Value::Bool(_) => ItemKind::Scalar(1),
        Value::Number(_) => ItemKind::Scalar(2),
        Value::String(_) => ItemKind::Scalar(3),
    })
}

fn list_item_kind(original: &[Value], patch: &[Value]) -> Result<ItemKind, PatchError> {
    let mut kind = None;
    for item in original.iter().chain(patch) {
        let this = item_kind(item)
            .map_err(|()| PatchError::Apply("lists of lists are not supported".to_owned()))?;
        match kind {
            None => kind = Some(this),
            Some(k) if k == this => {}
            Some(_) => {
                return Err(PatchError::Apply(format!(
                    "list element types are not identical: [{} {}]",
                    go_fmt(&Value::Array(original.to_vec())),
                    go_fmt(&Value::Array(patch.to_vec()))
                )));
            }
        }
    }
    // Both lists empty: callers return early, the kind does not matter.
    Ok(kind.unwrap_or(ItemKind::Scalar(0)))
}

/// The key that identifies a list item for ordering and matching: its merge-key value for an
/// object of a keyed list, the value itself otherwise.
fn identity(item: &Value, merge_key: Option<&str>) -> Result<String, PatchError> {
    match (merge_key, item) {
        (Some(key), Value::Object(map)) => {
            map.get(key).map(canonical).ok_or_else(|| no_merge_key(map, key))
        }
        _ => Ok(canonical(item)),
    }
}

/// kube's list ordering (`normalizeElementOrder`): the items named in `patch_order` come in that
/// order, the others in `server_order`'s order, and the two runs are interleaved so that an item
/// known to the server before a patch item stays before it. New items therefore come first.
fn normalize_order(
    merged: Vec<Value>,
    merge_key: Option<&str>,
    patch_order: &[String],
    server_order: &[String],
) -> Result<Vec<Value>, PatchError> {
    fn first_positions(keys: &[String]) -> HashMap<&str, usize> {
        let mut positions = HashMap::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            positions.entry(key.as_str()).or_insert(i);
        }
        positions
    }
    let in_patch = first_positions(patch_order);
    let in_server = first_positions(server_order);

    let mut patch_items = Vec::new();
    let mut server_only = Vec::new();
    for item in merged {
        let id = identity(&item, merge_key)?;
        match in_patch.get(id.as_str()) {
            Some(&position) => patch_items.push((position, id, item)),
            None => {
                let position = in_server.get(id.as_str()).copied().unwrap_or(usize::MAX);
                server_only.push((position, id, item));
            }
        }
    }
    patch_items.sort_by_key(|(position, _, _)| *position);
    server_only.sort_by_key(|(position, _, _)| *position);

    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some((_, left_id, _)), Some((_, right_id, _))) => {
                match (in_server.get(left_id.as_str()), in_server.get(right_id.as_str())) {
                    (Some(l), Some(r)) => l < r,
                    _ => false,
                }
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { left.next() } else { right.next() };
        if let Some((_, _, item)) = next {
            out.push(item);
        }
    }
    Ok(out)
}

/// One strategic merge, carrying the schema through the recursion. Every value merged is at a
/// place of the schema, a [`Node`]: a struct's fields carry their patch strategy, a Go map's
/// values and a list's items have their type, and anything the schema does not know is
/// [`Node::Untyped`] (maps merge, lists are replaced).
struct Merger {
    schemas: Option<&'static Schemas>,
}

impl Merger {
    /// The field `key` of a map at `at`: its place, and the field when a struct declares it.
    fn child(&self, at: Node, key: &str) -> (Node, Option<&'static Field>) {
        let Some(schemas) = self.schemas else { return (Node::Untyped, None) };
        match at {
            Node::Struct(id) => match schemas.field(id, key) {
                Some(field) => (Node::of_field(schemas, field), Some(field)),
                None => (Node::Untyped, None),
            },
            Node::Map(inner) => (Node::of(schemas, inner), None),
            _ => (Node::Untyped, None),
        }
    }

    /// The place of the items of a list at `list`.
    fn item(&self, list: Node) -> Node {
        match (self.schemas, list) {
            (Some(schemas), Node::List(inner)) => Node::of(schemas, inner),
            _ => Node::Untyped,
        }
    }

    /// Merges `patch` into `original`, the object at `at`.
    fn merge_map(
        &self,
        mut original: Map<String, Value>,
        mut patch: Map<String, Value>,
        at: Node,
    ) -> Result<Map<String, Value>, PatchError> {
        if let Some(directive) = patch.shift_remove(DIRECTIVE_MARKER) {
            match directive.as_str() {
                Some("replace") => return Ok(strip_map(patch)),
                Some("delete") => return Ok(Map::new()),
                Some("merge") => {}
                _ => {
                    let shown = go_fmt(&directive);
                    patch.insert(DIRECTIVE_MARKER.to_owned(), directive);
                    return Err(PatchError::Directive(format!(
                        "unknown patch type: {shown} in map: {}",
                        go_fmt_map(&patch)
                    )));
                }
            }
        }
        apply_retain_keys(&mut original, &mut patch)?;
        self.apply_set_element_orders(&mut original, &mut patch, at)?;

        let mut deletions = Vec::new();
        for (key, value) in patch {
            if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                deletions.push((key, value));
            } else {
                self.merge_field(&mut original, key, value, at)?;
            }
        }
        // Deletions run after additions, so a value both added and deleted ends up deleted.
        for (key, value) in deletions {
            let field = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                .ok_or_else(|| PatchError::Directive(BAD_PRIMITIVE_LIST.to_owned()))?;
            match value {
                Value::Null => {
                    original.shift_remove(field);
                }
                Value::Array(remove) => {
                    if let Some(Value::Array(current)) = original.get_mut(field) {
                        let remove: HashSet<String> = remove.iter().map(canonical).collect();
                        current.retain(|item| !remove.contains(&canonical(item)));
                    }
                }
                // kube ignores a deletion list of another type.
                _ => {}
            }
        }
        Ok(original)
    }

    fn merge_field(
        &self,
        original: &mut Map<String, Value>,
        key: String,
        patch_value: Value,
        at: Node,
    ) -> Result<(), PatchError> {
        if patch_value.is_null() {
            original.shift_remove(&key);
            return Ok(());
        }
        let (child, field) = self.child(at, &key);
        // `patchStrategy:"replace"`: the patch's value replaces the live one whole.
        let replace = field.and_then(|f| f.patch).is_some_and(|p| p.replace);
        let merged = match (original.get_mut(&key), patch_value) {
            (Some(Value::Object(live)), Value::Object(patch)) if !replace => {
                Value::Object(self.merge_map(std::mem::take(live), patch, child)?)
            }
            (Some(Value::Array(live)), Value::Array(patch)) => {
                Value::Array(self.merge_list(std::mem::take(live), patch, field, child)?)
            }
            // New field, different type, or a scalar: the patch value wins.
            (_, patch) => match strip(patch) {
                Some(value) => value,
                None => {
                    original.shift_remove(&key);
                    return Ok(());
                }
            },
        };
        original.insert(key, merged);
        Ok(())
    }

    /// Merges the list at `list`, the value of `field`, by the field's patch strategy.
    fn merge_list(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        field: Option<&'static Field>,
        list: Node,
    ) -> Result<Vec<Value>, PatchError> {
        let item = self.item(list);
        match ListStrategy::of(field.and_then(|f| f.patch)) {
            None => Ok(strip_list(patch)),
            Some(ListStrategy::MergePrimitives) => {
                self.merge_strategic_list(original, patch, None, item)
            }
            Some(ListStrategy::MergeByKey(key)) => {
                self.merge_strategic_list(original, patch, Some(key), item)
            }
        }
    }

    fn merge_strategic_list(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        merge_key: Option<&str>,
        item: Node,
    ) -> Result<Vec<Value>, PatchError> {
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        match list_item_kind(&original, &patch)? {
            ItemKind::Scalar(_) => merge_scalar_list(original, patch),
            ItemKind::Object => match merge_key {
                Some(key) => self.merge_object_list(original, patch, key, item),
                None => Err(PatchError::Apply(
                    "cannot merge lists without merge key for type map".to_owned(),
                )),
            },
        }
    }

    fn merge_object_list(
        &self,
        mut original: Vec<Value>,
        patch: Vec<Value>,
        merge_key: &str,
        item: Node,
    ) -> Result<Vec<Value>, PatchError> {
        // Directive items first: deletions apply to the live list, a replace ends the merge.
        let mut plain: Vec<Map<String, Value>> = Vec::with_capacity(patch.len());
        let mut replace = false;
        for item in patch {
            let Value::Object(mut map) = item else {
                return Err(bad_arg_type("map[string]interface {}", &item));
            };
            let Some(directive) = map.get(DIRECTIVE_MARKER) else {
                plain.push(map);
                continue;
            };
            match directive.as_str() {
                Some("delete") => {
                    let doomed = map.get(merge_key).ok_or_else(|| no_merge_key(&map, merge_key))?;
                    let doomed = canonical(doomed);
                    original.retain(|live| {
                        live.get(merge_key).map(canonical).as_ref() != Some(&doomed)
                    });
                }
                Some("replace") => replace = true,
                Some("merge") => {
                    map.shift_remove(DIRECTIVE_MARKER);
                    plain.push(map);
                }
                _ => {
                    return Err(PatchError::Directive(format!(
                        "unknown patch type: {} in map: {}",
                        go_fmt(directive),
                        go_fmt_map(&map)
                    )));
                }
            }
        }
        if replace {
            return Ok(plain.into_iter().filter_map(|map| strip(Value::Object(map))).collect());
        }

        let server_order = original
            .iter()
            .map(|item| identity(item, Some(merge_key)))
            .collect::<Result<Vec<_>, _>>()?;
        let patch_order = plain
            .iter()
            .map(|map| {
                map.get(merge_key).map(canonical).ok_or_else(|| no_merge_key(map, merge_key))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut positions: HashMap<String, usize> = HashMap::with_capacity(original.len());
        for (i, id) in server_order.iter().enumerate() {
            positions.entry(id.clone()).or_insert(i);
        }
        for (map, id) in plain.into_iter().zip(&patch_order) {
            match positions.get(id) {
                Some(&i) => {
                    let live = match std::mem::take(&mut original[i]) {
                        Value::Object(live) => live,
                        other => return Err(bad_arg_type("map[string]interface {}", &other)),
                    };
                    original[i] = Value::Object(self.merge_map(live, map, item)?);
                }
                None => {
                    if let Some(item) = strip(Value::Object(map)) {
                        positions.insert(id.clone(), original.len());
                        original.push(item);
                    }
                }
            }
        }
        normalize_order(original, Some(merge_key), &patch_order, &server_order)
    }

    /// Processes every `$setElementOrder/<field>` of a map: merges `<field>` (so the main loop
    /// skips it) and puts the result in the requested order.
    fn apply_set_element_orders(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        at: Node,
    ) -> Result<(), PatchError> {
        let directives: Vec<String> =
            patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX)).cloned().collect();
        for directive in directives {
            let order = patch.shift_remove(&directive).unwrap_or(Value::Null);
            let field = directive_target(&directive, SET_ELEMENT_ORDER_PREFIX)
                .ok_or_else(|| PatchError::Directive(BAD_SET_ELEMENT_ORDER.to_owned()))?
                .to_owned();
            let Value::Array(order) = order else {
                return Err(PatchError::Directive(BAD_SET_ELEMENT_ORDER.to_owned()));
            };
            let live = match original.get(&field) {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) => Some(items.clone()),
                Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            };
            let patch_list = match patch.get(&field) {
                None => None,
                // The field is being deleted; there is nothing to order.
                Some(Value::Null) => continue,
                Some(Value::Array(items)) => Some(items.clone()),
                Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            };
            let (child, field_schema) = self.child(at, &field);
            let merge_key = match ListStrategy::of(field_schema.and_then(|f| f.patch)) {
                Some(ListStrategy::MergeByKey(key)) => Some(key),
                _ => None,
            };
            validate_patch_with_order(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;

            let live_items = live.clone().unwrap_or_default();
            let merged = match (live, patch_list) {
                (None, None) => continue,
                (Some(live), None) => live,
                (live, Some(patch_items)) => {
                    patch.shift_remove(&field);
                    self.merge_list(live.unwrap_or_default(), patch_items, field_schema, child)?
                }
            };
            let order_ids = order
                .iter()
                .map(|item| identity(item, merge_key))
                .collect::<Result<Vec<_>, _>>()?;
            let server_ids = live_items
                .iter()
                .map(|item| identity(item, merge_key))
                .collect::<Result<Vec<_>, _>>()?;
            let ordered = normalize_order(merged, merge_key, &order_ids, &server_ids)?;
            original.insert(field, Value::Array(ordered));
        }
        Ok(())
    }
}

/// A set union of scalars: live values first-seen, then new patch values, ordered as kube does.
fn merge_scalar_list(original: Vec<Value>, patch: Vec<Value>) -> Result<Vec<Value>, PatchError> {
    let server_order: Vec<String> = original.iter().map(canonical).collect();
    let patch_order: Vec<String> = patch.iter().map(canonical).collect();
    let mut seen = HashSet::with_capacity(original.len() + patch.len());
    let merged: Vec<Value> =
        original.into_iter().chain(patch).filter(|item| seen.insert(canonical(item))).collect();
    normalize_order(merged, None, &patch_order, &server_order)
}

/// kube's `validatePatchWithSetOrderList`: every patch item (deletions aside) must appear in the
/// `$setElementOrder` list, in the same relative order.
fn validate_patch_with_order(
    patch_list: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let mut kept = Vec::with_capacity(patch_list.len());
    for item in patch_list {
        if merge_key.is_some() {
            let Some(map) = item.as_object() else {
                return Err(bad_arg_type("map[string]interface {}", item));
            };
            if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some("delete") {
                continue;
            }
        }
        kept.push(item);
    }
    let same = |a: &Value, b: &Value| -> Result<bool, PatchError> {
        let Some(key) = merge_key else {
            return Ok(canonical(a) == canonical(b));
        };
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            let odd = if a.is_object() { b } else { a };
            return Err(bad_arg_type("map[string]interface {}", odd));
        };
        let left = a.get(key).ok_or_else(|| no_merge_key(a, key))?;
        let right = b.get(key).ok_or_else(|| no_merge_key(b, key))?;
        Ok(canonical(left) == canonical(right))
    };
    let (mut p, mut o) = (0, 0);
    while p < kept.len() && o < order.len() {
        if kept[p].as_object().is_some_and(|m| m.contains_key(DIRECTIVE_MARKER)) {
            p += 1;
            continue;
        }
        if same(kept[p], &order[o])? {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() {
        return Err(PatchError::Directive(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

/// Removes the `$retainKeys` directive and applies it: live keys it does not list are cleared,
/// and the patch may only set keys it lists.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::Directive(BAD_RETAIN_KEYS.to_owned()));
    };
    let keep: HashSet<&str> = retain.iter().filter_map(Value::as_str).collect();
    let stray = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            && !key.starts_with(SET_ELEMENT_ORDER_PREFIX)
            && !keep.contains(key.as_str())
    });
    if stray {
        return Err(PatchError::Directive(BAD_RETAIN_KEYS.to_owned()));
    }
    original.retain(|key, _| keep.contains(key.as_str()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema_of(group: &str, version: &str, kind: &str) -> StrategicSchema {
        StrategicSchema::for_kind(group, version, kind).unwrap_or_else(|| panic!("{kind}"))
    }

    fn pod_schema() -> StrategicSchema {
        schema_of("", "v1", "Pod")
    }

    fn smp(original: Value, patch: Value) -> Value {
        apply_strategic_merge_patch(&original, &patch, &pod_schema())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn smp_err(original: Value, patch: Value) -> PatchError {
        apply_strategic_merge_patch(&original, &patch, &pod_schema()).unwrap_err()
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
    }

    #[test]
    fn maps_merge_and_null_deletes() {
        let got = smp(
            json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}}),
            json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": null}),
        );
        assert_eq!(got, json!({"metadata": {"name": "p", "labels": {"b": "2", "c": "3"}}}));
        // A type change replaces; nulls inside new subtrees vanish.
        let got = smp(json!({"a": "s"}), json!({"a": {"b": null, "c": 1}, "n": {"x": null}}));
        assert_eq!(got, json!({"a": {"c": 1}, "n": {}}));
        assert_eq!(smp(json!({"a": 1}), json!(null)), json!({"a": 1}));
        assert_eq!(smp(json!({"a": 1}), json!({})), json!({"a": 1}));
    }

    #[test]
    fn unkeyed_lists_are_replaced() {
        let got = smp(
            json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
            json!({"spec": {"tolerations": [{"key": "c", "value": null}]}}),
        );
        assert_eq!(got, json!({"spec": {"tolerations": [{"key": "c"}]}}));
        let got = smp(
            json!({"spec": {"containers": [{"name": "a", "args": ["x", "y"]}]}}),
            json!({"spec": {"containers": [{"name": "a", "args": ["z"]}]}}),
        );
        assert_eq!(got["spec"]["containers"][0]["args"], json!(["z"]));
    }

    #[test]
    fn keyed_lists_merge_by_key() {
        let original = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "b", "image": "b:1"}
        ]}});
        let got = smp(
            original,
            json!({"spec": {"containers": [
                {"name": "a", "image": "a:2", "env": [{"name": "Y", "value": "2"}],
                 "ports": [{"containerPort": 80.0, "name": "http"}]}
            ]}}),
        );
        let a = &got["spec"]["containers"][0];
        assert_eq!(names(&got["spec"]["containers"]), ["a", "b"]);
        assert_eq!(a["image"], "a:2");
        assert_eq!(names(&a["env"]), ["Y", "X"], "new items go first, as in kube");
        // 80.0 matched 80 (one float64 in Go); the patch's spelling of the value wins.
        assert_eq!(a["ports"], json!([{"containerPort": 80.0, "protocol": "TCP", "name": "http"}]));
    }

    #[test]
    fn new_items_are_placed_as_kube_places_them() {
        let original =
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
        // Only new items: before the live ones.
        let got = smp(original.clone(), json!({"spec": {"containers": [{"name": "d"}]}}));
        assert_eq!(names(&got["spec"]["containers"]), ["d", "a", "b", "c"]);
        // A new item after a known one stays after everything the server knows before it.
        let got = smp(
            original.clone(),
            json!({"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "d"}]}}),
        );
        assert_eq!(names(&got["spec"]["containers"]), ["a", "b", "c", "d"]);
        // Patch order wins among the items it names, but a live item the server had before a
        // patch item stays before it: b (live index 1) precedes c (live index 2).
        let got = smp(original, json!({"spec": {"containers": [{"name": "c"}, {"name": "a"}]}}));
        assert_eq!(names(&got["spec"]["containers"]), ["b", "c", "a"]);
    }

    #[test]
    fn empty_patch_list_changes_nothing_in_a_merging_list() {
        let original = json!({"spec": {"containers": [{"name": "a"}]}});
        assert_eq!(smp(original.clone(), json!({"spec": {"containers": []}})), original);
        let got = smp(json!({"spec": {}}), json!({"spec": {"containers": []}}));
        assert_eq!(got, json!({"spec": {"containers": []}}));
        let got = smp(json!({"spec": {"containers": []}}), json!({"spec": {"containers": []}}));
        assert_eq!(got, json!({"spec": {"containers": []}}));
    }

    #[test]
    fn delete_and_replace_directives_in_lists() {
        let original = json!({"spec": {"volumes": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}});
        let got = smp(
            original.clone(),
            json!({"spec": {"volumes": [{"name": "a", "$patch": "delete"}]}}),
        );
        assert_eq!(got, json!({"spec": {"volumes": [{"name": "b"}]}}), "every match goes");
        let got = smp(
            original.clone(),
            json!({"spec": {"volumes": [{"$patch": "replace"}, {"name": "z", "emptyDir": {"x": null}}]}}),
        );
        assert_eq!(got, json!({"spec": {"volumes": [{"name": "z", "emptyDir": {}}]}}));
        let got =
            smp(original.clone(), json!({"spec": {"volumes": [{"name": "q", "$patch": "merge"}]}}));
        // Duplicate keys sort to their first occurrence, as kube's order normalization does.
        assert_eq!(names(&got["spec"]["volumes"]), ["q", "a", "a", "b"]);
        // Deleting from a list that is not there yet adds nothing.
        let got = smp(
            json!({"spec": {}}),
            json!({"spec": {"volumes": [{"name": "a", "$patch": "delete"}]}}),
        );
        assert_eq!(got, json!({"spec": {"volumes": []}}));
    }

    #[test]
    fn map_directives() {
        let original = json!({"spec": {"securityContext": {"runAsUser": 1, "fsGroup": 2}}});
        let got = smp(
            original.clone(),
            json!({"spec": {"securityContext": {"$patch": "replace", "runAsGroup": 3}}}),
        );
        assert_eq!(got, json!({"spec": {"securityContext": {"runAsGroup": 3}}}));
        let got = smp(original.clone(), json!({"spec": {"securityContext": {"$patch": "delete"}}}));
        assert_eq!(got, json!({"spec": {"securityContext": {}}}));
        let got = smp(
            original.clone(),
            json!({"spec": {"securityContext": {"$patch": "merge", "fsGroup": 5}}}),
        );
        assert_eq!(got["spec"]["securityContext"], json!({"runAsUser": 1, "fsGroup": 5}));
        // On a field that is not there, a directive map is dropped (kube's removeDirectives).
        let got = smp(json!({"spec": {}}), json!({"spec": {"affinity": {"$patch": "delete"}}}));
        assert_eq!(got, json!({"spec": {}}));
        assert_eq!(smp(json!({"a": 1}), json!({"$patch": "delete"})), json!({}));
        assert_eq!(smp(json!({"a": 1}), json!({"$patch": "replace", "b": 2})), json!({"b": 2}));
        let err = smp_err(original, json!({"spec": {"$patch": "explode"}}));
        assert!(matches!(err, PatchError::Directive(_)));
        assert!(
            err.to_string().starts_with("unknown patch type: explode in map: map[$patch:explode")
        );
    }

    #[test]
    fn primitive_lists_union_and_delete() {
        let original = json!({"metadata": {"finalizers": ["a", "b"]}});
        let got = smp(original.clone(), json!({"metadata": {"finalizers": ["c", "a"]}}));
        assert_eq!(got["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let got = smp(
            original.clone(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zzz"]}}),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["b"]));
        let got = smp(
            original.clone(),
            json!({"metadata": {"finalizers": ["x"], "$deleteFromPrimitiveList/finalizers": ["x", "b"]}}),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["a"]), "deletions win");
        let got = smp(
            json!({"metadata": {}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(got, json!({"metadata": {}}));
        let got = smp(
            original.clone(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": null}}),
        );
        assert_eq!(got, json!({"metadata": {}}));
        let got = smp(
            original.clone(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
        );
        assert_eq!(got, original);
        let err =
            smp_err(original, json!({"metadata": {"$deleteFromPrimitiveListX/finalizers": []}}));
        assert_eq!(err, PatchError::Directive(BAD_PRIMITIVE_LIST.to_owned()));
    }

    #[test]
    fn set_element_order_for_keyed_lists() {
        let original =
            json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}]}});
        // Reorder only.
        let got = smp(
            original.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
        );
        assert_eq!(names(&got["spec"]["containers"]), ["b", "a"]);
        // Add in the middle, as kubectl apply does.
        let got = smp(
            original.clone(),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "n"}, {"name": "b"}],
                "containers": [{"name": "n", "image": "new"}]
            }}),
        );
        assert_eq!(names(&got["spec"]["containers"]), ["a", "n", "b"]);
        assert_eq!(got["spec"]["containers"][0]["image"], "1");
        // Delete one, keep the other.
        let got = smp(
            original.clone(),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "b"}],
                "containers": [{"name": "a", "$patch": "delete"}]
            }}),
        );
        assert_eq!(got, json!({"spec": {"containers": [{"name": "b"}]}}));
        // The list does not exist yet.
        let got = smp(
            json!({"spec": {}}),
            json!({"spec": {"$setElementOrder/initContainers": [{"name": "i"}],
                            "initContainers": [{"name": "i"}]}}),
        );
        assert_eq!(got, json!({"spec": {"initContainers": [{"name": "i"}]}}));
        // Nothing on either side: nothing appears.
        let got = smp(
            json!({"spec": {}}),
            json!({"spec": {"$setElementOrder/volumes": [{"name": "v"}]}}),
        );
        assert_eq!(got, json!({"spec": {}}));
        // The list is being deleted.
        let got =
            smp(original, json!({"spec": {"$setElementOrder/containers": [], "containers": null}}));
        assert_eq!(got, json!({"spec": {}}));
    }

    #[test]
    fn set_element_order_for_primitive_lists() {
        let original = json!({"metadata": {"finalizers": ["a", "b"]}});
        let got = smp(
            original.clone(),
            json!({"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"], "finalizers": ["c"]}}),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["b", "c", "a"]));
        let got = smp(
            original,
            json!({"metadata": {"$setElementOrder/finalizers": ["a"],
                                "$deleteFromPrimitiveList/finalizers": ["b"]}}),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["a"]));
    }

    #[test]
    fn set_element_order_errors() {
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let err = smp_err(
            original.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                            "containers": [{"name": "b"}, {"name": "a"}]}}),
        );
        assert!(matches!(err, PatchError::Directive(_)));
        assert!(err.to_string().starts_with(
            "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n"
        ));
        let err = smp_err(original.clone(), json!({"spec": {"$setElementOrder/containers": "a"}}));
        assert_eq!(err, PatchError::Directive(BAD_SET_ELEMENT_ORDER.to_owned()));
        let err = smp_err(original.clone(), json!({"spec": {"$setElementOrderX/containers": []}}));
        assert_eq!(err, PatchError::Directive(BAD_SET_ELEMENT_ORDER.to_owned()));
        let err = smp_err(original.clone(), json!({"spec": {"$setElementOrder": []}}));
        assert_eq!(err, PatchError::Directive(BAD_SET_ELEMENT_ORDER.to_owned()));
        let err = smp_err(
            original.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"image": "x"}], "containers": [{"name": "a"}]}}),
        );
        assert_eq!(err.to_string(), "map: map[image:x] does not contain declared merge key: name");
        let err = smp_err(
            original.clone(),
            json!({"spec": {"$setElementOrder/containers": ["a"], "containers": [{"name": "a"}]}}),
        );
        assert_eq!(err.to_string(), "expected a map[string]interface {}, but received a string");
        let err = smp_err(
            original.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": "x"}}),
        );
        assert_eq!(err.to_string(), "expected a []interface {}, but received a string");
        let err = smp_err(
            json!({"spec": {"containers": 5}}),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}]}}),
        );
        assert_eq!(err.to_string(), "expected a []interface {}, but received a float64");
        let err = smp_err(
            original,
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [5]}}),
        );
        assert_eq!(err.to_string(), "expected a map[string]interface {}, but received a float64");
    }

    #[test]
    fn retain_keys() {
        let original = json!({"spec": {"strategy": {"type": "RollingUpdate",
                                                     "rollingUpdate": {"maxSurge": 1}}}});
        let schema = &schema_of("apps", "v1", "Deployment");
        let got = apply_strategic_merge_patch(
            &original,
            &json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate",
                                          "rollingUpdate": null}}}),
            schema,
        )
        .unwrap();
        assert_eq!(got, json!({"spec": {"strategy": {"type": "Recreate"}}}));
        let err = apply_strategic_merge_patch(
            &original,
            &json!({"spec": {"strategy": {"$retainKeys": ["type"], "other": 1}}}),
            schema,
        )
        .unwrap_err();
        assert_eq!(err, PatchError::Directive(BAD_RETAIN_KEYS.to_owned()));
        let err = apply_strategic_merge_patch(
            &original,
            &json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            schema,
        )
        .unwrap_err();
        assert_eq!(err, PatchError::Directive(BAD_RETAIN_KEYS.to_owned()));
        // Directive keys do not need to be listed.
        let got = apply_strategic_merge_patch(
            &json!({"metadata": {"finalizers": ["a"], "x": 1}}),
            &json!({"metadata": {"$retainKeys": ["finalizers"],
                                 "$setElementOrder/finalizers": ["a"],
                                 "$deleteFromPrimitiveList/finalizers": ["a"]}}),
            schema,
        )
        .unwrap();
        assert_eq!(got, json!({"metadata": {"finalizers": []}}));
    }

    #[test]
    fn list_errors() {
        let err = smp_err(
            json!({"metadata": {"finalizers": [["a"]]}}),
            json!({"metadata": {"finalizers": ["b"]}}),
        );
        assert_eq!(err, PatchError::Apply("lists of lists are not supported".to_owned()));
        let err = smp_err(
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"finalizers": [1]}}),
        );
        assert_eq!(err.to_string(), "list element types are not identical: [[a] [1]]");
        let err = smp_err(
            json!({"metadata": {"finalizers": [{"a": 1}]}}),
            json!({"metadata": {"finalizers": [{"b": 1}]}}),
        );
        assert_eq!(err.to_string(), "cannot merge lists without merge key for type map");
        let err = smp_err(
            json!({"spec": {"containers": [{"name": "a"}]}}),
            json!({"spec": {"containers": [{"image": "x"}]}}),
        );
        assert_eq!(err.to_string(), "map: map[image:x] does not contain declared merge key: name");
        let err = smp_err(
            json!({"spec": {"containers": [{"image": "old"}]}}),
            json!({"spec": {"containers": [{"name": "a"}]}}),
        );
        assert_eq!(
            err.to_string(),
            "map: map[image:old] does not contain declared merge key: name"
        );
        let err = smp_err(
            json!({"spec": {"containers": [{"name": "a"}]}}),
            json!({"spec": {"containers": [{"$patch": "delete"}]}}),
        );
        assert_eq!(
            err.to_string(),
            "map: map[$patch:delete] does not contain declared merge key: name"
        );
        let err = smp_err(
            json!({"spec": {"containers": [{"name": "a"}]}}),
            json!({"spec": {"containers": [{"name": "a", "$patch": 7}]}}),
        );
        assert_eq!(err.to_string(), "unknown patch type: 7 in map: map[$patch:7 name:a]");
        assert!(matches!(err, PatchError::Directive(_)));
    }

    #[test]
    fn top_level_shapes() {
        let schema = &pod_schema();
        let err = apply_strategic_merge_patch(&json!({}), &json!([1]), schema).unwrap_err();
        assert_eq!(
            err,
            PatchError::Decode(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
                    .to_owned()
            )
        );
        assert!(apply_strategic_merge_patch(&json!("x"), &json!({}), schema).is_err());
        assert_eq!(
            apply_strategic_merge_patch(&json!(null), &json!({"a": 1}), schema).unwrap(),
            json!({"a": 1})
        );
    }

    /// The body `kubectl apply` (client-side) sends after a user edits a Deployment manifest:
    /// an image bump, a new env var in the middle, a removed sidecar, a strategy switch, and the
    /// refreshed last-applied annotation.
    #[test]
    fn kubectl_client_side_apply_patch() {
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "generation": 1,
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{old}",
                                         "deployment.kubernetes.io/revision": "1"},
                         "finalizers": ["example.com/keep"]},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "containers": [
                        {"name": "app", "image": "web:1", "env": [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}],
                         "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
                        {"name": "sidecar", "image": "proxy:1"}
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}]
                }}
            },
            "status": {"conditions": [{"type": "Available", "status": "True"}]}
        });
        let patch = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{new}"}},
            "spec": {
                "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null},
                "template": {"spec": {
                    "$setElementOrder/containers": [{"name": "app"}],
                    "containers": [
                        {"name": "app", "image": "web:2",
                         "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
                         "env": [{"name": "B", "value": "2"}]},
                        {"$patch": "delete", "name": "sidecar"}
                    ]
                }}
            }
        });
        let schema = &schema_of("apps", "v1", "Deployment");
        let got = apply_strategic_merge_patch(&live, &patch, schema).unwrap();
        let expected = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "generation": 1,
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{new}",
                                         "deployment.kubernetes.io/revision": "1"},
                         "finalizers": ["example.com/keep"]},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "Recreate"},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "containers": [
                        {"name": "app", "image": "web:2",
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}],
                         "ports": [{"containerPort": 8080, "protocol": "TCP"}]}
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}]
                }}
            },
            "status": {"conditions": [{"type": "Available", "status": "True"}]}
        });
        assert_eq!(got, expected);
    }

    /// What the kubelet sends for a pod's status: conditions merged by type with an order list.
    #[test]
    fn kubelet_status_patch() {
        let live = json!({"status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "False"}
        ], "podIPs": [{"ip": "10.0.0.1"}]}});
        let patch = json!({"status": {
            "$setElementOrder/conditions": [{"type": "PodScheduled"}, {"type": "Initialized"}, {"type": "Ready"}],
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "phase": "Running",
            "podIPs": [{"ip": "10.0.0.2"}]
        }});
        let got = smp(live, patch);
        assert_eq!(
            got,
            json!({"status": {"phase": "Running", "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"}
        ], "podIPs": [{"ip": "10.0.0.2"}, {"ip": "10.0.0.1"}]}})
        );
    }

    /// The merge facts come from Go's struct tags (`+patchStrategy`, `+patchMergeKey`), carried
    /// by the built-in schema; where they differ from the hand table this replaced, Go wins.
    #[test]
    fn merge_facts_come_from_the_schema() {
        let pod = pod_schema();
        let by_key = |key| Some(ListStrategy::MergeByKey(key));
        assert_eq!(pod.list_strategy(&["spec", "containers"]), by_key("name"));
        assert_eq!(
            pod.list_strategy(&["spec", "initContainers", "volumeMounts"]),
            by_key("mountPath")
        );
        // The patch merge key is `containerPort` alone; `protocol` is a list-map key for
        // server-side apply only.
        assert_eq!(pod.list_strategy(&["spec", "containers", "ports"]), by_key("containerPort"));
        assert_eq!(pod.list_strategy(&["spec", "tolerations"]), None);
        assert_eq!(
            pod.list_strategy(&["metadata", "finalizers"]),
            Some(ListStrategy::MergePrimitives)
        );
        // `hostIPs` merges by `ip` for strategic merge patch though its list type is atomic.
        assert_eq!(pod.list_strategy(&["status", "hostIPs"]), by_key("ip"));
        let volumes = schema::builtin()
            .field_at(schema::builtin().by_gvk("", "v1", "Pod").unwrap(), &["spec", "volumes"])
            .and_then(|f| f.patch)
            .unwrap();
        assert!(volumes.merge && volumes.retain_keys, "{volumes:?}");
        let cron = schema_of("batch", "v1", "CronJob");
        let env = ["spec", "jobTemplate", "spec", "template", "spec", "containers", "env"];
        assert_eq!(cron.list_strategy(&env), by_key("name"));
        assert_eq!(
            schema_of("", "v1", "Service").list_strategy(&["spec", "ports"]),
            by_key("port")
        );
        assert_eq!(
            schema_of("", "v1", "ServiceAccount").list_strategy(&["secrets"]),
            by_key("name")
        );
        let deployment = schema_of("apps", "v1", "Deployment");
        assert_eq!(deployment.list_strategy(&["status", "conditions"]), by_key("type"));
        // A CertificateSigningRequest's conditions have no merge key in Go: they are replaced.
        let csr = schema_of("certificates.k8s.io", "v1", "CertificateSigningRequest");
        assert_eq!(csr.list_strategy(&["status", "conditions"]), None);
        let crd = schema_of("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
        assert_eq!(crd.list_strategy(&["status", "conditions"]), None);
        assert!(StrategicSchema::for_kind("networking.k8s.io", "v1", "Ingress").is_some());
        assert!(StrategicSchema::for_kind("example.com", "v1", "Widget").is_none());
        // Untyped: maps merge, lists are replaced.
        let got = apply_strategic_merge_patch(
            &json!({"items": [{"id": 1, "v": "a"}], "m": {"a": 1}}),
            &json!({"items": [{"id": 1, "v": "b"}], "m": {"b": 2}}),
            &StrategicSchema::untyped(),
        )
        .unwrap();
        assert_eq!(got, json!({"items": [{"id": 1, "v": "b"}], "m": {"a": 1, "b": 2}}));
    }

    /// Pod volumes merge by name, and the `$retainKeys` kubectl sends for them (a volume source
    /// is a union: `emptyDir` replaced by `configMap`) clears the members it does not list.
    #[test]
    fn pod_volumes_merge_by_name_and_retain_keys() {
        let live = json!({"spec": {"volumes": [
            {"name": "a", "emptyDir": {}},
            {"name": "b", "secret": {"secretName": "s"}}
        ]}});
        let got = smp(
            live,
            json!({"spec": {"volumes": [
                {"name": "a", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}},
                {"name": "c", "emptyDir": {}}
            ]}}),
        );
        assert_eq!(
            got["spec"]["volumes"],
            json!([{"name": "a", "configMap": {"name": "cm"}},
                   {"name": "c", "emptyDir": {}},
                   {"name": "b", "secret": {"secretName": "s"}}])
        );
    }

    /// Container ports merge by `containerPort` only (Go's patch merge key), so a second
    /// protocol on the same port updates the item rather than adding one: kube's behaviour
    /// (kubernetes#39188), which only server-side apply's `containerPort`+`protocol` keys fix.
    #[test]
    fn container_ports_merge_by_container_port() {
        let live = json!({"spec": {"containers": [{"name": "a", "ports": [
            {"containerPort": 53, "protocol": "TCP"}, {"containerPort": 80, "protocol": "TCP"}
        ]}]}});
        let got = smp(
            live,
            json!({"spec": {"containers": [{"name": "a", "ports": [
                {"containerPort": 53, "protocol": "UDP"}, {"containerPort": 8080}
            ]}]}}),
        );
        assert_eq!(
            got["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 8080},
                   {"containerPort": 80, "protocol": "TCP"}])
        );
    }

    /// Service ports merge by `port`.
    #[test]
    fn service_ports_merge_by_port() {
        let service = schema_of("", "v1", "Service");
        let got = apply_strategic_merge_patch(
            &json!({"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080},
                                       {"name": "https", "port": 443}]}}),
            &json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
            &service,
        )
        .unwrap();
        assert_eq!(
            got["spec"]["ports"],
            json!([{"name": "http", "port": 80, "targetPort": 9090}, {"name": "https", "port": 443}])
        );
    }

    #[test]
    fn go_formatting() {
        assert_eq!(
            go_fmt(&json!({"b": [1, "x", null], "a": {"c": true}})),
            "map[a:map[c:true] b:[1 x <nil>]]"
        );
        assert_eq!(go_fmt(&json!(80)), "80");
        assert_eq!(go_fmt(&json!(1.5)), "1.5");
        assert_eq!(go_fmt(&json!(1_000_000)), "1e+06");
        assert_eq!(go_fmt(&json!(1_234_567)), "1.234567e+06");
        assert_eq!(go_fmt(&json!(0.00001)), "1e-05");
        assert_eq!(go_fmt(&json!(0)), "0");
        assert_eq!(go_fmt(&json!(-42)), "-42");
        assert_eq!(canonical(&json!(80.0)), canonical(&json!(80)));
        assert_ne!(canonical(&json!("80")), canonical(&json!(80)));
    }

    #[test]
    fn fuzz_never_panics() {
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let keys: Vec<&str> = "name image $patch $retainKeys $setElementOrder/containers \
                                $deleteFromPrimitiveList/finalizers containers finalizers env \
                                spec metadata x"
            .split_whitespace()
            .collect();
        fn random_value(next: &mut dyn FnMut() -> u64, keys: &[&str], depth: u32) -> Value {
            match next() % if depth == 0 { 5 } else { 8 } {
                0 => Value::Null,
                1 => json!(next() % 3),
                2 => json!(["a", "b", "delete", "replace", "merge"][(next() % 5) as usize]),
                3 => json!(next().is_multiple_of(2)),
                4 => json!("name"),
                5 | 6 => {
                    let n = next() % 4;
                    let mut map = Map::new();
                    for _ in 0..n {
                        let k = keys[(next() % keys.len() as u64) as usize];
                        map.insert(k.to_owned(), random_value(next, keys, depth - 1));
                    }
                    Value::Object(map)
                }
                _ => {
                    let n = next() % 4;
                    Value::Array((0..n).map(|_| random_value(next, keys, depth - 1)).collect())
                }
            }
        }
        let schema = &schema_of("apps", "v1", "Deployment");
        let pod = &pod_schema();
        let flat = &StrategicSchema::untyped();
        let mut ok = 0;
        for _ in 0..30_000 {
            let original = random_value(&mut next, &keys, 4);
            let patch = random_value(&mut next, &keys, 4);
            for schema in [schema, pod, flat] {
                if let Ok(result) = apply_strategic_merge_patch(&original, &patch, schema) {
                    ok += 1;
                    fn no_directives(v: &Value) -> bool {
                        match v {
                            Value::Object(m) => {
                                m.iter().all(|(k, v)| !is_directive_key(k) && no_directives(v))
                            }
                            Value::Array(items) => items.iter().all(no_directives),
                            _ => true,
                        }
                    }
                    if no_directives(&original) {
                        assert!(no_directives(&result), "{original} + {patch} = {result}");
                    }
                }
            }
        }
        assert!(ok > 5_000, "{ok}");
    }
}
