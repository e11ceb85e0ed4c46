//! The `kube-root-ca.crt` ConfigMap of every namespace (kube-controller-manager's
//! root-ca-cert-publisher): `ca.crt` is the CA that verifies this server (the generated CA, or
//! `--root-ca-file`), so pods can trust the API through their token volume. Created when a
//! namespace appears, created again when deleted, and put back when its data or description
//! annotation changes.

use serde_json::{Map, Value, json};

use super::Kept;
use crate::admission::service_account::ROOT_CA_CONFIG_MAP;

/// Who the publisher's writes are recorded as.
pub const CONTROLLER: &str = "system:serviceaccount:kube-system:root-ca-cert-publisher";

/// The annotation saying what the ConfigMap is for, and kube's text of it.
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver \
     when using internal endpoints such as the internal service IP or kubernetes.default.svc. No \
     other usage is guaranteed across distributions of Kubernetes clusters.";

/// The ConfigMap, holding `ca` (PEM) as `ca.crt`.
#[derive(Debug, Clone)]
pub struct RootCaConfigMap {
    pub ca: String,
}

impl RootCaConfigMap {
    fn data(&self) -> Value {
        json!({"ca.crt": self.ca})
    }
}

impl Kept for RootCaConfigMap {
    fn controller(&self) -> &'static str {
        "root-ca-cert-publisher"
    }

    fn user(&self) -> &'static str {
        CONTROLLER
    }

    fn plural(&self) -> &'static str {
        "configmaps"
    }

    fn name(&self) -> &'static str {
        ROOT_CA_CONFIG_MAP
    }

    fn desired(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": ROOT_CA_CONFIG_MAP,
                "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
            },
            "data": self.data(),
        })
    }

    /// Exactly `{"ca.crt": ca}` as data and a description, else both put back (other
    /// annotations and fields stay).
    fn repaired(&self, current: &Value) -> Option<Value> {
        let described = current
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
            .and_then(Value::as_str)
            .is_some_and(|d| !d.is_empty());
        if current.get("data") == Some(&self.data()) && described {
            return None;
        }
        let mut repaired = current.clone();
        let object = repaired.as_object_mut()?;
        object.insert("data".into(), self.data());
        let metadata = object.entry("metadata").or_insert_with(|| json!({}));
        let annotations = metadata.as_object_mut()?.entry("annotations").or_insert(Value::Null);
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        annotations.as_object_mut()?.insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
        Some(repaired)
    }

    fn follows_changes(&self) -> bool {
        true
    }
}
