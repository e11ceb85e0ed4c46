//! Built-in types as OpenAPI schemas: one definition of `crate::schema::builtin()` →
//! the JSON schema kube-apiserver publishes for it, in v2 (`#/definitions/…`, `$ref` beside a
//! description) or v3 (`#/components/schemas/…`, a described reference as `allOf`).
//!
//! The types apimachinery encodes by hand (`Wire`) are published as kube does: Time and
//! MicroTime `string`/`date-time`, IntOrString `string`/`int-or-string` in v2 and `oneOf`
//! integer|string in v3, Quantity `string` (v3: `oneOf` string|number), RawExtension and
//! FieldsV1 `object`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::schema::{
    DefId, Definition, Field, ListType, MapType, Scalar, Schemas, Shape, Ty, Wire, element,
};

/// Which OpenAPI document a schema is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    V2,
    V3,
}

impl Flavor {
    /// Where definitions live: `#/definitions/NAME` or `#/components/schemas/NAME`.
    pub fn reference(self, name: &str) -> String {
        match self {
            Flavor::V2 => format!("#/definitions/{name}"),
            Flavor::V3 => format!("#/components/schemas/{name}"),
        }
    }

    /// A reference with a description (and possibly a default) beside it: v2 puts them next
    /// to `$ref`, v3 wraps the reference in `allOf` as kube does.
    pub fn described_ref(self, name: &str, description: &str) -> Value {
        let reference = json!({"$ref": self.reference(name)});
        if description.is_empty() {
            return reference;
        }
        match self {
            Flavor::V2 => json!({"$ref": self.reference(name), "description": description}),
            Flavor::V3 => json!({"allOf": [reference], "description": description}),
        }
    }
}

/// Every definition reachable from `roots` through fields, items and map values.
pub fn closure(schemas: &Schemas, roots: impl IntoIterator<Item = DefId>) -> BTreeSet<DefId> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<DefId> = roots.into_iter().collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for field in schemas.get(id).fields() {
            if let Some(next) = element(&field.ty) {
                todo.push(next);
            }
        }
    }
    seen
}

/// The published schema of one built-in definition.
pub fn definition(schemas: &Schemas, id: DefId, flavor: Flavor) -> Value {
    let definition = schemas.get(id);
    let mut out = Map::new();
    if !definition.description.is_empty() {
        out.insert("description".into(), definition.description.into());
    }
    match definition.shape {
        Shape::Object(_) => object(schemas, definition, flavor, &mut out),
        Shape::Wire(wire) => wire_schema(wire, flavor, &mut out),
        Shape::Opaque => {
            out.insert("type".into(), "object".into());
            out.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
        }
    }
    if !definition.gvks.is_empty() {
        let gvks: Vec<Value> = definition
            .gvks
            .iter()
            .map(|g| json!({"group": g.group, "kind": g.kind, "version": g.version}))
            .collect();
        out.insert("x-kubernetes-group-version-kind".into(), gvks.into());
    }
    if definition.struct_atomic {
        out.insert("x-kubernetes-map-type".into(), "atomic".into());
    }
    sorted(out)
}

fn object(
    schemas: &Schemas,
    definition: &Definition,
    flavor: Flavor,
    out: &mut Map<String, Value>,
) {
    let mut fields = Vec::new();
    flatten(schemas, definition.fields(), &mut fields);
    fields.sort_by_key(|f| f.json);
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        properties.insert(field.json.into(), property(schemas, field, flavor));
        // k8s-openapi lists `metadata` as required on every resource; kube does not.
        let quirk = field.json == "metadata" && !definition.gvks.is_empty();
        if field.required && !quirk {
            required.push(Value::from(field.json));
        }
    }
    if !properties.is_empty() {
        out.insert("properties".into(), properties.into());
    }
    if !required.is_empty() {
        out.insert("required".into(), required.into());
    }
    out.insert("type".into(), "object".into());
}

/// The fields of an object as JSON shows them: Go-inlined structs' fields in the parent.
fn flatten(schemas: &Schemas, fields: &'static [Field], out: &mut Vec<&'static Field>) {
    for field in fields {
        if field.json.is_empty() {
            if let Some(inner) = element(&field.ty) {
                flatten(schemas, schemas.get(inner).fields(), out);
            }
        } else {
            out.push(field);
        }
    }
}

/// One property: its type, description and `x-kubernetes-*` extensions.
pub fn property(schemas: &Schemas, field: &Field, flavor: Flavor) -> Value {
    let mut out = match field.ty {
        Ty::Ref(id) => {
            let name = schemas.get(id).name;
            // kube's v3 gives ObjectMeta-valued fields (never pointers) `default: {}`.
            let mut value = flavor.described_ref(name, field.description);
            if flavor == Flavor::V3 && name.ends_with(".meta.v1.ObjectMeta") {
                wrap_all_of(&mut value, flavor, name);
                value["default"] = json!({});
            }
            value.as_object().cloned().unwrap_or_default()
        }
        ty => {
            let mut map = ty_schema(schemas, &ty, flavor);
            if !field.description.is_empty() {
                map.insert("description".into(), field.description.into());
            }
            map
        }
    };
    if !field.enumeration.is_empty() {
        out.insert("enum".into(), field.enumeration.iter().map(|v| Value::from(*v)).collect());
    }
    match field.list {
        Some(ListType::Atomic) => {
            out.insert("x-kubernetes-list-type".into(), "atomic".into());
        }
        Some(ListType::Set) => {
            out.insert("x-kubernetes-list-type".into(), "set".into());
        }
        Some(ListType::Map(keys)) => {
            out.insert("x-kubernetes-list-map-keys".into(), keys.iter().copied().collect());
            out.insert("x-kubernetes-list-type".into(), "map".into());
        }
        None => {}
    }
    match field.map_type {
        Some(MapType::Atomic) => {
            out.insert("x-kubernetes-map-type".into(), "atomic".into());
        }
        Some(MapType::Granular) => {
            out.insert("x-kubernetes-map-type".into(), "granular".into());
        }
        None => {}
    }
    if let Some(patch) = field.patch {
        let strategy = match (patch.merge, patch.retain_keys, patch.replace) {
            (true, true, _) => Some("merge,retainKeys"),
            (true, false, _) => Some("merge"),
            (false, true, _) => Some("retainKeys"),
            (false, false, true) => Some("replace"),
            _ => None,
        };
        if let Some(key) = patch.merge_key {
            out.insert("x-kubernetes-patch-merge-key".into(), key.into());
        }
        if let Some(strategy) = strategy {
            out.insert("x-kubernetes-patch-strategy".into(), strategy.into());
        }
    }
    if field.embedded_resource {
        out.insert("x-kubernetes-embedded-resource".into(), true.into());
    }
    if field.preserve_unknown {
        out.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
    }
    sorted(out)
}

fn wrap_all_of(value: &mut Value, flavor: Flavor, name: &str) {
    if value.get("allOf").is_none() {
        *value = json!({"allOf": [{"$ref": flavor.reference(name)}]});
    }
}

/// The schema of a field's type without its description.
fn ty_schema(schemas: &Schemas, ty: &Ty, flavor: Flavor) -> Map<String, Value> {
    let value = match ty {
        Ty::Scalar(scalar) => scalar_schema(*scalar),
        Ty::Ref(id) => json!({"$ref": flavor.reference(schemas.get(*id).name)}),
        Ty::Array(inner) => {
            json!({"items": Value::Object(ty_schema(schemas, inner, flavor)), "type": "array"})
        }
        Ty::Map(inner) => json!({
            "additionalProperties": Value::Object(ty_schema(schemas, inner, flavor)),
            "type": "object",
        }),
    };
    value.as_object().cloned().unwrap_or_default()
}

fn scalar_schema(scalar: Scalar) -> Value {
    match scalar {
        Scalar::String => json!({"type": "string"}),
        Scalar::Bytes => json!({"format": "byte", "type": "string"}),
        Scalar::Int32 => json!({"format": "int32", "type": "integer"}),
        Scalar::Int64 => json!({"format": "int64", "type": "integer"}),
        Scalar::Double => json!({"format": "double", "type": "number"}),
        Scalar::Bool => json!({"type": "boolean"}),
    }
}

fn wire_schema(wire: Wire, flavor: Flavor, out: &mut Map<String, Value>) {
    let extra = match (wire, flavor) {
        (Wire::Time | Wire::MicroTime, _) => json!({"format": "date-time", "type": "string"}),
        (Wire::Duration, _) => json!({"type": "string"}),
        (Wire::IntOrString, Flavor::V2) => json!({"format": "int-or-string", "type": "string"}),
        (Wire::IntOrString, Flavor::V3) => {
            json!({"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]})
        }
        (Wire::Quantity, Flavor::V2) => json!({"type": "string"}),
        (Wire::Quantity, Flavor::V3) => json!({"oneOf": [{"type": "string"}, {"type": "number"}]}),
        (Wire::RawExtension | Wire::FieldsV1, _) => json!({"type": "object"}),
        (
            Wire::Json
            | Wire::JsonSchemaPropsOrArray
            | Wire::JsonSchemaPropsOrBool
            | Wire::JsonSchemaPropsOrStringArray,
            _,
        ) => json!({}),
    };
    if let Value::Object(extra) = extra {
        out.extend(extra);
    }
}

/// A schema object with its keys in alphabetical order, as kube's documents show them.
pub fn sorted(map: Map<String, Value>) -> Value {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin;

    #[test]
    fn config_map_in_both_flavors() {
        let schemas = builtin();
        let cm = schemas.by_gvk("", "v1", "ConfigMap").unwrap();
        let v2 = definition(schemas, cm, Flavor::V2);
        assert_eq!(v2["type"], "object");
        assert_eq!(v2["x-kubernetes-group-version-kind"][0]["kind"], "ConfigMap");
        assert_eq!(v2["properties"]["data"]["additionalProperties"]["type"], "string");
        assert_eq!(v2["properties"]["binaryData"]["additionalProperties"]["format"], "byte");
        let meta = &v2["properties"]["metadata"]["$ref"];
        assert_eq!(meta, "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        assert!(v2.get("required").is_none(), "metadata is not required: {v2}");
        let v3 = definition(schemas, cm, Flavor::V3);
        let meta = &v3["properties"]["metadata"];
        assert_eq!(
            meta["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
        assert_eq!(meta["default"], json!({}));
    }

    #[test]
    fn list_and_patch_extensions_and_time() {
        let schemas = builtin();
        let meta = schemas.by_name("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").unwrap();
        let v2 = definition(schemas, meta, Flavor::V2);
        let owners = &v2["properties"]["ownerReferences"];
        assert_eq!(owners["x-kubernetes-list-type"], "map");
        assert_eq!(owners["x-kubernetes-list-map-keys"], json!(["uid"]));
        assert_eq!(owners["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(owners["x-kubernetes-patch-merge-key"], "uid");
        assert_eq!(v2["properties"]["finalizers"]["x-kubernetes-list-type"], "set");
        let time = schemas.by_name("io.k8s.apimachinery.pkg.apis.meta.v1.Time").unwrap();
        let time = definition(schemas, time, Flavor::V2);
        assert_eq!((&time["type"], &time["format"]), (&json!("string"), &json!("date-time")));
        let owner = schemas.by_name("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference");
        let owner = definition(schemas, owner.unwrap(), Flavor::V2);
        assert_eq!(owner["x-kubernetes-map-type"], "atomic");
        assert_eq!(owner["required"], json!(["apiVersion", "kind", "name", "uid"]));
    }
}
