//! The object a create is compared against: kube's zero value of the kind.
//!
//! kube-apiserver records a create as an update from `New()` — the Go zero value of the type,
//! converted to JSON — to the created object. What that zero value already holds decides which
//! containers the creator's entry marks as members (`".": {}`): a value-type struct (`spec`,
//! `template`, a Deployment's `strategy`) and a field without `omitempty` (`containers: null`)
//! exist in the zero value, so only their children are added; a pointer struct, a map or an
//! omitted list (`rollingUpdate`, `labels`, a Service's `ports`) is added whole. Custom
//! resources are unstructured: their zero value is `{}`.
//!
//! Go's pointer-ness is in no crate (see `build/rules.rs`): fields the OpenAPI requires are
//! present; optional object fields named `metadata`, `spec` or `status` are value types, as
//! kube's API conventions make them; [`VALUE_STRUCTS`] lists the other optional value-type
//! structs, each a Go fact.

use serde_json::{Map, Value};

use crate::schema::{self, DefId, Scalar, Shape, Ty, Wire};

use super::types::TypeRoot;

/// Optional struct fields declared as Go values, not pointers (`definition`, `field`), beyond
/// `metadata`, `spec` and `status`.
pub const VALUE_STRUCTS: &[(&str, &str)] = &[
    ("io.k8s.api.apps.v1.DeploymentSpec", "strategy"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "updateStrategy"),
    ("io.k8s.api.apps.v1.DaemonSetSpec", "updateStrategy"),
    ("io.k8s.api.core.v1.Container", "resources"),
    ("io.k8s.api.core.v1.EphemeralContainer", "resources"),
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "resources"),
    ("io.k8s.api.core.v1.ServiceStatus", "loadBalancer"),
    ("io.k8s.api.networking.v1.IngressStatus", "loadBalancer"),
    ("io.k8s.api.core.v1.NodeStatus", "daemonEndpoints"),
    ("io.k8s.api.core.v1.NodeStatus", "nodeInfo"),
    ("io.k8s.api.core.v1.NodeDaemonEndpoints", "kubeletEndpoint"),
];

/// Nesting beyond which a zero value stops (the built-in types are not recursive through value
/// structs, but `JSONSchemaProps` is through pointers; this bounds any surprise).
const MAX_DEPTH: usize = 16;

/// The zero value of objects of `root`'s type, as kube's create compares against.
pub fn zero_object(root: &TypeRoot) -> Value {
    match root {
        TypeRoot::Builtin(id) => zero_struct(*id, 0),
        TypeRoot::Crd(_) | TypeRoot::Deduced => Value::Object(Map::new()),
    }
}

fn zero_struct(id: DefId, depth: usize) -> Value {
    let mut object = Map::new();
    fill(id, depth, &mut object);
    Value::Object(object)
}

/// Adds the zero value's fields of definition `id` to `object` (Go-inlined structs flattened).
fn fill(id: DefId, depth: usize, object: &mut Map<String, Value>) {
    let schemas = schema::builtin();
    let definition = schemas.get(id);
    for field in definition.fields() {
        if field.json.is_empty() {
            if let Some(inner) = schema::element(&field.ty) {
                fill(inner, depth, object);
            }
            continue;
        }
        let value_struct = matches!(field.json, "metadata" | "spec" | "status")
            || VALUE_STRUCTS.contains(&(definition.name, field.json));
        let zero = match field.ty {
            Ty::Ref(inner) if is_struct(inner) && (field.required || value_struct) => {
                if depth < MAX_DEPTH { Some(zero_struct(inner, depth + 1)) } else { None }
            }
            _ if field.required => Some(zero_leaf(&field.ty)),
            _ => None,
        };
        if let Some(zero) = zero {
            object.insert(field.json.to_owned(), zero);
        }
    }
}

fn is_struct(id: DefId) -> bool {
    matches!(schema::builtin().get(id).shape, Shape::Object(_))
}

/// The JSON of a Go zero value that `encoding/json` writes even without `omitempty`.
fn zero_leaf(ty: &Ty) -> Value {
    match ty {
        Ty::Scalar(Scalar::String) => Value::String(String::new()),
        Ty::Scalar(Scalar::Int32 | Scalar::Int64) => Value::from(0),
        Ty::Scalar(Scalar::Double) => Value::from(0.0),
        Ty::Scalar(Scalar::Bool) => Value::Bool(false),
        // A nil []byte, slice or map.
        Ty::Scalar(Scalar::Bytes) | Ty::Array(_) | Ty::Map(_) => Value::Null,
        Ty::Ref(id) => match schema::builtin().get(*id).shape {
            Shape::Wire(Wire::IntOrString) => Value::from(0),
            Shape::Wire(Wire::Quantity) => Value::String("0".into()),
            Shape::Wire(Wire::Duration) => Value::String("0s".into()),
            _ => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn zero(group: &str, version: &str, kind: &str) -> Value {
        zero_object(&TypeRoot::builtin(group, version, kind).expect(kind))
    }

    #[test]
    fn a_deployment_zero_value_holds_its_value_structs_and_null_required_fields() {
        let deployment = zero("apps", "v1", "Deployment");
        assert_eq!(deployment["spec"]["strategy"], json!({}), "{deployment}");
        assert_eq!(deployment["spec"]["template"]["spec"]["containers"], Value::Null);
        assert!(deployment["spec"]["template"]["metadata"].is_object(), "{deployment}");
        assert!(deployment["status"].is_object());
        // Pointers and omitted collections are absent.
        assert!(deployment["spec"].get("replicas").is_none());
        assert!(deployment["spec"]["strategy"].get("rollingUpdate").is_none());
        assert!(deployment["metadata"].get("labels").is_none());
    }

    #[test]
    fn a_service_zero_value_omits_its_ports_and_a_configmap_is_nearly_empty() {
        let service = zero("", "v1", "Service");
        assert!(service["spec"].get("ports").is_none(), "{service}");
        assert_eq!(service["status"]["loadBalancer"], json!({}));
        let configmap = zero("", "v1", "ConfigMap");
        assert_eq!(configmap, json!({"metadata": {}}));
    }

    #[test]
    fn custom_resources_start_empty() {
        assert_eq!(zero_object(&TypeRoot::crd(None)), json!({}));
    }
}
