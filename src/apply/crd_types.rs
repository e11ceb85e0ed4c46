//! A custom resource's structural schema compiled for field management: at every node, what
//! it is (struct, map, list kind with its keys, leaf) and its children. Built once per CRD
//! version from the raw `openAPIV3Schema`, because the parsed [`crate::apiextensions::schema`]
//! keeps only that the markers are present, not their values.
//!
//! Data flows one way: the raw schema → [`CrdTypes::compile`] → a flat list of [`CrdNode`]s
//! (children by [`NodeId`]) that [`super::types::TypeRef::Crd`] walks. `metadata` at the root
//! and in embedded resources is the built-in ObjectMeta, as kube-apiserver gives it whatever
//! the CRD says.

use serde_json::Value;

use crate::schema::DefId;

/// An index into [`CrdTypes`]' nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// The compiled schema of one custom resource version.
#[derive(Debug, Default)]
pub struct CrdTypes {
    /// The compiled nodes; the root is the first.
    pub(crate) nodes: Vec<CrdNode>,
    /// The `default` of the nodes that have one, by node (sorted): a `map` list's items may
    /// leave out a key field with a default, which then keys them.
    pub(crate) defaults: Vec<(NodeId, Value)>,
}

/// One schema node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CrdNode {
    /// `properties`: named fields, sorted by name; `atomic` for `x-kubernetes-map-type:
    /// atomic`; `open` for `x-kubernetes-preserve-unknown-fields`, whose fields it does not
    /// name are deduced (in a closed struct they are not declared in the schema).
    Struct { fields: Vec<(String, NodeId)>, atomic: bool, open: bool },
    /// `additionalProperties`: any keys, each value of one type.
    Map { values: NodeId, atomic: bool },
    /// `items`, with `x-kubernetes-list-type` (atomic when absent).
    List { items: NodeId, kind: CrdList },
    /// A scalar, or `x-kubernetes-int-or-string`.
    Leaf,
    /// No structure: `x-kubernetes-preserve-unknown-fields` alone, or a node that is no schema.
    #[default]
    Deduced,
    /// A built-in type: ObjectMeta for `metadata`.
    Builtin(DefId),
}

/// `x-kubernetes-list-type` of a CRD list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrdList {
    Atomic,
    Set,
    /// `map`, keyed by `x-kubernetes-list-map-keys`.
    Map(Vec<String>),
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

impl CrdTypes {
    /// Compiles a served version's `openAPIV3Schema`.
    pub fn compile(schema: &Value) -> CrdTypes {
        let mut types = CrdTypes { nodes: vec![CrdNode::Deduced], defaults: Vec::new() };
        let root = types.compile_node(schema, true);
        types.nodes[0] = root;
        types
    }

    pub fn root(&self) -> NodeId {
        debug_assert!(!self.nodes.is_empty(), "a compiled schema has a root");
        NodeId(0)
    }

    /// The node `id` (a deduced node for an id from another schema).
    pub fn node(&self, id: NodeId) -> &CrdNode {
        const DEDUCED: CrdNode = CrdNode::Deduced;
        self.nodes.get(id.0 as usize).unwrap_or(&DEDUCED)
    }

    /// The schema's `default` of node `id`.
    pub fn default_of(&self, id: NodeId) -> Option<&Value> {
        let i = self.defaults.binary_search_by_key(&id.0, |(n, _)| n.0).ok()?;
        Some(&self.defaults[i].1)
    }

    fn add(&mut self, schema: &Value) -> NodeId {
        let node = self.compile_node(schema, false);
        let id = self.push(node);
        if let Some(default) = schema.get("default") {
            // Ids grow as nodes are pushed, so the list stays sorted.
            self.defaults.push((id, default.clone()));
        }
        id
    }

    fn push(&mut self, node: CrdNode) -> NodeId {
        self.nodes.push(node);
        NodeId(self.nodes.len() as u32 - 1)
    }

    /// One node; `resource` for the root and embedded resources, which have `apiVersion`,
    /// `kind` and an ObjectMeta `metadata` whether the schema lists them or not.
    fn compile_node(&mut self, schema: &Value, root: bool) -> CrdNode {
        let Value::Object(schema) = schema else { return CrdNode::Deduced };
        let flag = |name: &str| schema.get(name).and_then(Value::as_bool).unwrap_or(false);
        if flag("x-kubernetes-int-or-string") {
            return CrdNode::Leaf;
        }
        let resource = root || flag("x-kubernetes-embedded-resource");
        let atomic = schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
        let ty = schema.get("type").and_then(Value::as_str);
        let properties = schema.get("properties").and_then(Value::as_object);
        if properties.is_some() || resource {
            let mut fields = Vec::new();
            for (name, child) in properties.into_iter().flatten() {
                let id = self.add(child);
                fields.push((name.clone(), id));
            }
            if resource {
                self.resource_fields(&mut fields);
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            let open = flag("x-kubernetes-preserve-unknown-fields");
            return CrdNode::Struct { fields, atomic, open };
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            let values = self.add(values);
            return CrdNode::Map { values, atomic };
        }
        match ty {
            Some("array") => {
                let items = match schema.get("items") {
                    Some(items) => self.add(items),
                    None => self.push(CrdNode::Deduced),
                };
                let kind = match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => CrdList::Set,
                    Some("map") => {
                        let keys: Vec<String> = schema
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|k| k.as_str().map(str::to_owned))
                            .collect();
                        if keys.is_empty() { CrdList::Atomic } else { CrdList::Map(keys) }
                    }
                    _ => CrdList::Atomic,
                };
                CrdNode::List { items, kind }
            }
            Some("object") if !flag("x-kubernetes-preserve-unknown-fields") => {
                CrdNode::Struct { fields: Vec::new(), atomic, open: false }
            }
            Some("object") | None => CrdNode::Deduced,
            Some(_) => CrdNode::Leaf,
        }
    }

    /// `apiVersion` and `kind` (leaves unless the schema says otherwise) and `metadata`
    /// (always ObjectMeta).
    fn resource_fields(&mut self, fields: &mut Vec<(String, NodeId)>) {
        for name in ["apiVersion", "kind"] {
            if !fields.iter().any(|(n, _)| n == name) {
                let id = self.push(CrdNode::Leaf);
                fields.push((name.to_owned(), id));
            }
        }
        let meta = match crate::schema::builtin().by_name(OBJECT_META) {
            Some(def) => CrdNode::Builtin(def),
            None => CrdNode::Deduced,
        };
        let id = self.push(meta);
        match fields.iter_mut().find(|(n, _)| n == "metadata") {
            Some(field) => field.1 = id,
            None => fields.push(("metadata".to_owned(), id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_root_is_the_first_node_and_fields_are_sorted() {
        let types = CrdTypes::compile(&json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "b": {"type": "string"}, "a": {"type": "integer"}}}}
        }));
        let CrdNode::Struct { fields, atomic: false, open: false } = types.node(types.root())
        else {
            panic!("the root is a struct: {:?}", types.node(types.root()));
        };
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["apiVersion", "kind", "metadata", "spec"]);
        let spec = fields[3].1;
        let CrdNode::Struct { fields, .. } = types.node(spec) else { panic!("spec") };
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(types.node(fields[0].1), &CrdNode::Leaf);
    }

    #[test]
    fn list_markers_and_degenerate_schemas() {
        let types = CrdTypes::compile(&json!({
            "type": "object",
            "properties": {
                "m": {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object"}},
                "free": {"x-kubernetes-preserve-unknown-fields": true},
                "nothing": {"type": "object"},
                "weird": 3
            }
        }));
        let CrdNode::Struct { fields, .. } = types.node(types.root()) else { panic!("root") };
        let node = |name: &str| types.node(fields.iter().find(|(n, _)| n == name).expect(name).1);
        // A map list without keys cannot be keyed: atomic.
        assert!(matches!(node("m"), CrdNode::List { kind: CrdList::Atomic, .. }));
        assert_eq!(node("free"), &CrdNode::Deduced);
        assert_eq!(
            node("nothing"),
            &CrdNode::Struct { fields: vec![], atomic: false, open: false }
        );
        assert_eq!(node("weird"), &CrdNode::Deduced);
        assert_eq!(types.node(NodeId(9999)), &CrdNode::Deduced);
    }
}
