//! Unknown and duplicate fields of a request body, as `fieldValidation` reports them, and the
//! pruning of unknown fields from a built-in object.
//!
//! kube-apiserver decodes a built-in object into its Go struct: a field the struct does not have
//! is dropped (`unknown field "spec.foo"`), and its strict JSON decoder (sigs.k8s.io/json) also
//! notices a key given twice in one object (`duplicate field "spec.replicas"`, the last one
//! wins). Both come in document order, with list items as `[i]`; a key that is both unknown and
//! repeated is reported once, as unknown. The paths and wording here are kube's.
//!
//! Data flows: request bytes → [`Raw`] (every key, repeats kept) → [`issues`] against a
//! definition of [`super::builtin`] → the handler's `fieldValidation` (a 400, warnings, or
//! nothing); and [`prune`] drops the unknown fields from the decoded object before it is stored.
//! Values the schema leaves open — a type with its own JSON form ([`super::Wire`]: RawExtension,
//! IntOrString, Time …), an opaque definition, a field that preserves unknown fields — are not
//! looked into.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{DefId, Field, Scalar, Schemas, Shape, Ty};

/// What the schema says about one place in a JSON document.
#[derive(Debug, Clone, Copy)]
pub enum Node {
    /// A Go struct: these fields (Go-inlined structs' fields included).
    Struct(DefId),
    /// A Go map: any key, values of this type.
    Map(Ty),
    /// A Go slice: items of this type.
    List(Ty),
    /// A scalar.
    Scalar(Scalar),
    /// Anything: a type with its own JSON form, an opaque definition, preserved unknown fields.
    Any,
    /// No schema at all (a custom resource): only repeated keys are reported.
    Untyped,
}

impl Node {
    /// The node of a value of type `ty`.
    pub fn of(schemas: &Schemas, ty: Ty) -> Node {
        match ty {
            Ty::Scalar(scalar) => Node::Scalar(scalar),
            Ty::Array(inner) => Node::List(*inner),
            Ty::Map(inner) => Node::Map(*inner),
            Ty::Ref(id) => match schemas.get(id).shape {
                Shape::Object(_) => Node::Struct(id),
                Shape::Wire(_) | Shape::Opaque => Node::Any,
            },
        }
    }

    /// The node of a field's value.
    pub fn of_field(schemas: &Schemas, field: &Field) -> Node {
        if field.preserve_unknown { Node::Any } else { Node::of(schemas, field.ty) }
    }
}

/// One finding of the strict decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    /// `unknown field "spec.foo"`.
    Unknown(String),
    /// `duplicate field "spec.replicas"`.
    Duplicate(String),
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Issue::Unknown(path) => write!(f, "unknown field {path:?}"),
            Issue::Duplicate(path) => write!(f, "duplicate field {path:?}"),
        }
    }
}

/// A JSON document with every key kept, repeats included, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Object(Vec<(String, Raw)>),
    Array(Vec<Raw>),
    Null,
    /// Any other scalar.
    Scalar,
}

impl Raw {
    /// Reads a JSON body; `None` if it is not JSON (its decoder reports that).
    pub fn parse(body: &[u8]) -> Option<Raw> {
        serde_json::from_slice(body).ok()
    }

    /// A decoded value, its keys in their order, or sorted (`sorted`: the order kube walks an
    /// object it decoded into Go maps, such as a patched object).
    pub fn from_value(value: &Value, sorted: bool) -> Raw {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(String, Raw)> =
                    map.iter().map(|(k, v)| (k.clone(), Raw::from_value(v, sorted))).collect();
                if sorted {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                }
                Raw::Object(entries)
            }
            Value::Array(items) => {
                Raw::Array(items.iter().map(|v| Raw::from_value(v, sorted)).collect())
            }
            Value::Null => Raw::Null,
            _ => Raw::Scalar,
        }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Raw, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
                Ok(Raw::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Raw, E> {
                Ok(Raw::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Raw, E> {
                Ok(Raw::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
                Ok(Raw::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Raw, E> {
                Ok(Raw::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Raw::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Raw>()? {
                    entries.push((key, value));
                }
                Ok(Raw::Object(entries))
            }
        }
        deserializer.deserialize_any(RawVisitor)
    }
}

/// What is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Unknown and repeated fields of a whole object (a create or update body).
    Object,
    /// Repeated fields only: a patch body, decoded into a Go map first.
    DuplicatesOnly,
    /// Unknown fields only, of a merge or strategic merge patch (a partial object): keys that
    /// set `null` (deletions) and strategic merge directives (`$patch`, `$retainKeys`,
    /// `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) are not fields.
    PatchUnknowns,
}

/// The issues of `raw` read as `node`, in document order.
pub fn issues(schemas: &Schemas, node: Node, raw: &Raw, check: Check) -> Vec<Issue> {
    let mut out = Vec::new();
    walk(schemas, node, raw, check, &mut String::new(), &mut out);
    out
}

/// The issues of a body sent to the built-in definition `root`.
pub fn object_issues(schemas: &Schemas, root: DefId, raw: &Raw) -> Vec<Issue> {
    issues(schemas, Node::Struct(root), raw, Check::Object)
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn walk(
    schemas: &Schemas,
    node: Node,
    raw: &Raw,
    check: Check,
    path: &mut String,
    out: &mut Vec<Issue>,
) {
    let report_unknown = check != Check::DuplicatesOnly;
    let report_duplicates = check != Check::PatchUnknowns;
    match (node, raw) {
        (Node::Struct(_) | Node::Map(_) | Node::Untyped, Raw::Object(entries)) => {
            let mut seen: HashSet<&str> = HashSet::with_capacity(entries.len());
            for (key, value) in entries {
                let first = seen.insert(key.as_str());
                if check == Check::PatchUnknowns && (key.starts_with('$') || *value == Raw::Null) {
                    continue;
                }
                let child = match node {
                    Node::Struct(id) if check == Check::DuplicatesOnly => {
                        schemas.field(id, key).map(|f| Node::of_field(schemas, f))
                    }
                    Node::Struct(id) => match schemas.field(id, key) {
                        Some(field) => Some(Node::of_field(schemas, field)),
                        None => {
                            // Reported once, as unknown, however often it comes.
                            if first && report_unknown {
                                out.push(Issue::Unknown(child_path(path, key)));
                            }
                            continue;
                        }
                    },
                    Node::Map(inner) => Some(Node::of(schemas, inner)),
                    _ => Some(Node::Untyped),
                };
                if !first && report_duplicates {
                    out.push(Issue::Duplicate(child_path(path, key)));
                }
                let child = child.unwrap_or(Node::Untyped);
                let saved = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(schemas, child, value, check, path, out);
                path.truncate(saved);
            }
        }
        (Node::List(inner), Raw::Array(items)) => {
            let inner = Node::of(schemas, inner);
            walk_items(schemas, inner, items, check, path, out);
        }
        (Node::Untyped, Raw::Array(items)) => {
            walk_items(schemas, Node::Untyped, items, check, path, out);
        }
        // Scalars, open values, and values of the wrong type (a type error, not ours).
        _ => {}
    }
}

fn walk_items(
    schemas: &Schemas,
    node: Node,
    items: &[Raw],
    check: Check,
    path: &mut String,
    out: &mut Vec<Issue>,
) {
    for (i, item) in items.iter().enumerate() {
        let saved = path.len();
        path.push_str(&format!("[{i}]"));
        walk(schemas, node, item, check, path, out);
        path.truncate(saved);
    }
}

/// Drops from `value` (read as `node`) every field the schema does not know, as decoding into
/// the Go struct does. Values of the wrong type are left for the type check.
pub fn prune(schemas: &Schemas, node: Node, value: &mut Value) {
    match (node, value) {
        (Node::Struct(id), Value::Object(map)) => {
            map.retain(|key, _| schemas.field(id, key).is_some());
            for (key, child) in map.iter_mut() {
                if let Some(field) = schemas.field(id, key) {
                    prune(schemas, Node::of_field(schemas, field), child);
                }
            }
        }
        (Node::Map(inner), Value::Object(map)) => {
            let inner = Node::of(schemas, inner);
            map.values_mut().for_each(|child| prune(schemas, inner, child));
        }
        (Node::List(inner), Value::Array(items)) => {
            let inner = Node::of(schemas, inner);
            items.iter_mut().for_each(|child| prune(schemas, inner, child));
        }
        _ => {}
    }
}

/// [`prune`] for a merge or strategic merge patch (a partial object): strategic merge
/// directives (`$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) stay.
pub fn prune_patch(schemas: &Schemas, node: Node, patch: &mut Value) {
    match (node, patch) {
        (Node::Struct(id), Value::Object(map)) => {
            map.retain(|key, _| key.starts_with('$') || schemas.field(id, key).is_some());
            for (key, child) in map.iter_mut() {
                if let Some(field) = schemas.field(id, key) {
                    prune_patch(schemas, Node::of_field(schemas, field), child);
                }
            }
        }
        (Node::Map(inner), Value::Object(map)) => {
            let inner = Node::of(schemas, inner);
            map.iter_mut()
                .filter(|(key, _)| !key.starts_with('$'))
                .for_each(|(_, child)| prune_patch(schemas, inner, child));
        }
        (Node::List(inner), Value::Array(items)) => {
            let inner = Node::of(schemas, inner);
            items.iter_mut().for_each(|child| prune_patch(schemas, inner, child));
        }
        _ => {}
    }
}

/// The keys a YAML body repeats, as kube's strict YAML step (sigs.k8s.io/yaml's
/// `YAMLToJSONStrict`, go-yaml v2's `UnmarshalStrict`) reports them: one error for the whole
/// body, `yaml: unmarshal errors:` then a line `  line N: key "x" already set in map` per repeat,
/// where N is the line of the repeated key's value. Keys are compared as go-yaml resolves them
/// (`true` and `yes` are the same bool, `1` an int, `"1"` a string). go-yaml decodes a value
/// before it sets its key, so repeats inside a value come before the repeat of its key. Only
/// the first document counts, as kube decodes only that one. `None` when nothing repeats, or
/// the body is not YAML (its decoder reports that).
pub fn yaml_duplicates(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let mut found = Vec::new();
    let mut stack: Vec<YamlFrame> = Vec::new();
    for event in granit_parser::Parser::new_from_str(text) {
        let (event, span) = event.ok()?;
        let line = span.start.line();
        match event {
            granit_parser::Event::Scalar(value, style, _, _) => {
                let key = YamlKey::resolve(&value, style == granit_parser::ScalarStyle::Plain);
                node_started(&mut stack, line, Some(key));
                node_ended(&mut stack, &mut found);
            }
            granit_parser::Event::Alias(_) => {
                node_started(&mut stack, line, None);
                node_ended(&mut stack, &mut found);
            }
            granit_parser::Event::MappingStart(..) | granit_parser::Event::SequenceStart(..) => {
                node_started(&mut stack, line, None);
                let map = matches!(event, granit_parser::Event::MappingStart(..));
                stack.push(if map { YamlFrame::map() } else { YamlFrame::Seq });
            }
            granit_parser::Event::MappingEnd | granit_parser::Event::SequenceEnd => {
                stack.pop();
                node_ended(&mut stack, &mut found);
            }
            granit_parser::Event::DocumentEnd => break,
            _ => {}
        }
    }
    if found.is_empty() {
        return None;
    }
    Some(format!("yaml: unmarshal errors:\n  {}", found.join("\n  ")))
}

/// A YAML mapping or sequence being read by [`yaml_duplicates`].
enum YamlFrame {
    Seq,
    Map {
        /// The keys set so far.
        seen: Vec<YamlKey>,
        /// The key whose value is being read, and the line its value starts on; `None` while a
        /// key is expected, `Some((None, _))` for a key that is not a scalar.
        pending: Option<(Option<YamlKey>, usize)>,
        /// The key just read, before its value starts.
        key: Option<Option<YamlKey>>,
    },
}

impl YamlFrame {
    fn map() -> Self {
        YamlFrame::Map { seen: Vec::new(), pending: None, key: None }
    }
}

/// A node starts at `line`; `scalar` is its resolved value when it is a scalar.
fn node_started(stack: &mut [YamlFrame], line: usize, scalar: Option<YamlKey>) {
    if let Some(YamlFrame::Map { pending, key, .. }) = stack.last_mut() {
        match key.take() {
            None => *key = Some(scalar),
            Some(read) => *pending = Some((read, line)),
        }
    }
}

/// A node ended: if it was a mapping's value, its key is set (or found set already).
fn node_ended(stack: &mut [YamlFrame], found: &mut Vec<String>) {
    let Some(YamlFrame::Map { seen, pending, .. }) = stack.last_mut() else { return };
    let Some((key, line)) = pending.take() else { return };
    // `<<` merges another mapping in: not a key of its own.
    let Some(key) = key.filter(|k| *k != YamlKey::Str("<<".into())) else { return };
    if seen.contains(&key) {
        found.push(format!("line {line}: key {} already set in map", key.go_syntax()));
    } else {
        seen.push(key);
    }
}

/// A scalar key as go-yaml v2 resolves it (YAML 1.1 booleans, ints, floats, null).
#[derive(Debug, Clone, PartialEq)]
enum YamlKey {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl YamlKey {
    fn resolve(text: &str, plain: bool) -> YamlKey {
        if !plain {
            return YamlKey::Str(text.to_owned());
        }
        match text {
            "" | "~" | "null" | "Null" | "NULL" => YamlKey::Null,
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
                YamlKey::Bool(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False"
            | "FALSE" => YamlKey::Bool(false),
            _ => {
                let digits = text.replace('_', "");
                if let Ok(i) = digits.parse::<i64>() {
                    YamlKey::Int(i)
                } else if text.bytes().any(|b| b.is_ascii_digit())
                    && let Ok(f) = digits.parse::<f64>()
                {
                    YamlKey::Float(f)
                } else {
                    YamlKey::Str(text.to_owned())
                }
            }
        }
    }

    /// Go's `%#v` of the key.
    fn go_syntax(&self) -> String {
        match self {
            YamlKey::Null => "<nil>".to_owned(),
            YamlKey::Bool(b) => b.to_string(),
            YamlKey::Int(i) => i.to_string(),
            YamlKey::Float(f) => f.to_string(),
            YamlKey::Str(s) => format!("{s:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::builtin;

    fn config_map() -> DefId {
        builtin().by_gvk("", "v1", "ConfigMap").expect("ConfigMap")
    }

    fn shown(issues: &[Issue]) -> Vec<String> {
        issues.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn unknown_and_duplicate_fields_in_document_order() {
        let body = br#"{"kind": "ConfigMap", "metadata": {"name": "a", "name": "b", "bogus": 1,
            "ownerReferences": [{"uid": "u"}, {"uid": "v", "nope": true}]},
            "extra": 1, "extra": 2, "data": {"k": "1", "k": "2"}, "immutable": true}"#;
        let raw = Raw::parse(body).unwrap();
        assert_eq!(
            shown(&object_issues(builtin(), config_map(), &raw)),
            [
                r#"duplicate field "metadata.name""#,
                r#"unknown field "metadata.bogus""#,
                r#"unknown field "metadata.ownerReferences[1].nope""#,
                r#"unknown field "extra""#,
                r#"duplicate field "data.k""#,
            ]
        );
        let patch = Raw::parse(br#"{"data": {"a": "1", "a": "2"}, "zz": 1, "zz": 2}"#).unwrap();
        let dups = issues(builtin(), Node::Struct(config_map()), &patch, Check::DuplicatesOnly);
        assert_eq!(shown(&dups), [r#"duplicate field "data.a""#, r#"duplicate field "zz""#]);
        let untyped = Raw::parse(br#"{"spec": {"x": [{"a": 1, "a": 2}]}}"#).unwrap();
        let dups = issues(builtin(), Node::Untyped, &untyped, Check::Object);
        assert_eq!(shown(&dups), [r#"duplicate field "spec.x[0].a""#]);
    }

    #[test]
    fn patch_unknowns_skip_directives_and_deletions_and_sort() {
        let patch = json!({"zeta": 1, "metadata": {"$patch": "merge", "gone": null, "odd": 1},
            "$setElementOrder/data": [], "alpha": {"x": 1}});
        let raw = Raw::from_value(&patch, true);
        let found = issues(builtin(), Node::Struct(config_map()), &raw, Check::PatchUnknowns);
        assert_eq!(
            shown(&found),
            [
                r#"unknown field "alpha""#,
                r#"unknown field "metadata.odd""#,
                r#"unknown field "zeta""#
            ]
        );
    }

    #[test]
    fn repeated_yaml_keys_as_go_yaml_reports_them() {
        let body = b"kind: ConfigMap\nmetadata:\n  name: a\n  name: b\ndata:\n  k: '1'\n\
            data:\n  x: '2'\n  x: '3'\nlist:\n- {a: 1, a: 2}\n";
        assert_eq!(
            yaml_duplicates(body).unwrap(),
            "yaml: unmarshal errors:\n  line 4: key \"name\" already set in map\n  \
             line 9: key \"x\" already set in map\n  line 8: key \"data\" already set in map\n  \
             line 11: key \"a\" already set in map"
        );
        // Resolved as go-yaml resolves them: `yes` is `true`, `'1'` is not `1`.
        let keys = b"true: 1\nyes: 2\n'1': 3\n1: 4\nnull: 5\n~: 6\n";
        assert_eq!(
            yaml_duplicates(keys).unwrap(),
            "yaml: unmarshal errors:\n  line 2: key true already set in map\n  \
             line 6: key <nil> already set in map"
        );
        assert_eq!(yaml_duplicates(b"a: 1\nb: {a: 1}\n---\na: 2\n"), None);
        assert_eq!(yaml_duplicates(b"a: [1\n"), None, "not YAML: its decoder says so");
    }

    #[test]
    fn prune_drops_what_the_type_does_not_have() {
        let mut object = json!({"kind": "ConfigMap", "metadata": {"name": "a", "bogus": 1,
            "ownerReferences": [{"uid": "u", "nope": 1}]}, "data": {"k": "v"}, "extra": {}});
        prune(builtin(), Node::Struct(config_map()), &mut object);
        assert_eq!(
            object,
            json!({"kind": "ConfigMap", "metadata": {"name": "a",
                "ownerReferences": [{"uid": "u"}]}, "data": {"k": "v"}})
        );
    }
}
