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

/// Optional value-type fields whose Go zero value `encoding/json` writes as `null`: a
/// `metav1.Time` struct (not a pointer), so the zero value of every ObjectMeta — a pod
/// template's too — holds `creationTimestamp: null`, and a body that sends it (kubectl does)
/// changes nothing there.
pub const NULL_VALUE_FIELDS: &[(&str, &str)] =
    &[("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "creationTimestamp")];

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
            _ if NULL_VALUE_FIELDS.contains(&(definition.name, field.json)) => Some(Value::Null),
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
        let template_meta = &deployment["spec"]["template"]["metadata"];
        assert_eq!(template_meta, &json!({"creationTimestamp": null}), "{deployment}");
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
        assert_eq!(configmap, json!({"metadata": {"creationTimestamp": null}}));
    }

    #[test]
    fn custom_resources_start_empty() {
        assert_eq!(zero_object(&TypeRoot::crd(None)), json!({}));
    }

    #[test]
    fn kubectl_create_of_a_deployment_gets_kubes_entry() {
        // `kubectl create deployment nginx --image=nginx`, as stored after defaulting, and the
        // entry kube-apiserver 1.33 writes for it (its documented shape: the value-type structs
        // spec, strategy, template and template.spec carry no ".", the pointer rollingUpdate and
        // the maps do).
        let root = TypeRoot::builtin("apps", "v1", "Deployment").expect("Deployment");
        let fm = crate::apply::FieldManager::new(root, "apps/v1", "", &[&["status"]]);
        let mut new = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
            "spec": {
                "replicas": 1, "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "nginx"}},
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {"app": "nginx"}},
                    "spec": {
                        "containers": [{"name": "nginx", "image": "nginx",
                            "imagePullPolicy": "Always", "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"}],
                        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                        "schedulerName": "default-scheduler", "securityContext": {},
                        "terminationGracePeriodSeconds": 30}}},
            "status": {}});
        let now = crate::apply::Now("2026-12-07T12:00:00Z".into());
        fm.update(&Value::Null, &mut new, "kubectl-create", &now);
        let labels = json!({".": {}, "f:app": {}});
        assert_eq!(
            new["metadata"]["managedFields"][0]["fieldsV1"],
            json!({
                "f:metadata": {"f:labels": labels},
                "f:spec": {
                    "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {},
                    "f:selector": {},
                    "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {},
                                                       "f:maxUnavailable": {}},
                                   "f:type": {}},
                    "f:template": {
                        "f:metadata": {"f:labels": labels},
                        "f:spec": {
                            "f:containers": {"k:{\"name\":\"nginx\"}": {
                                ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                                "f:resources": {}, "f:terminationMessagePath": {},
                                "f:terminationMessagePolicy": {}}},
                            "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                            "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}}})
        );
    }
}
