//! kube's `DefaultStorageClass` admission plugin
//! (`plugin/pkg/admission/storage/storageclass/setdefault`): a PersistentVolumeClaim created
//! without a class — neither `spec.storageClassName` (even `""`, which asks for none) nor the
//! beta annotation `volume.beta.kubernetes.io/storage-class` — gets the default StorageClass, the
//! one annotated `storageclass.kubernetes.io/is-default-class: "true"` (or the beta spelling);
//! the newest when several are, the first by name among equally new ones. No default class: the
//! claim is left as it is.
//!
//! Classes are read through [`Objects`] in their storage version (`storage.k8s.io/v1`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::priority::name_of;
use super::{Action, Attributes, Objects, Plugin};
use crate::meta::status::ApiError;

const GROUP: &str = "storage.k8s.io";
const CLASSES: &str = "storageclasses";
/// The annotation that makes a StorageClass the default, and its beta spelling.
const IS_DEFAULT: &str = "storageclass.kubernetes.io/is-default-class";
const BETA_IS_DEFAULT: &str = "storageclass.beta.kubernetes.io/is-default-class";
/// The claim's storage class from before `spec.storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// The value of an annotation.
pub(crate) fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object.pointer("/metadata/annotations").and_then(|a| a.get(key))
}

/// kube's `IsDefaultAnnotation`: either spelling set to `"true"`.
fn is_default(class: &Value) -> bool {
    [IS_DEFAULT, BETA_IS_DEFAULT].iter().any(|key| annotation(class, key) == Some(&json!("true")))
}

/// kube's `PersistentVolumeClaimHasClass`: the beta annotation or `spec.storageClassName`
/// (even `""`, which asks for no class).
fn has_class(claim: &Value) -> bool {
    annotation(claim, BETA_STORAGE_CLASS).is_some()
        || claim.pointer("/spec/storageClassName").is_some_and(|c| !c.is_null())
}

/// `spec`, created when missing; `None` when it is not an object (validation says so).
pub(crate) fn spec_mut(object: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let map = object.as_object_mut()?;
    let spec = map.entry("spec").or_insert_with(|| json!({}));
    if spec.is_null() {
        *spec = json!({});
    }
    spec.as_object_mut()
}

/// The plugin; reads StorageClasses through `objects`.
#[derive(Debug)]
pub struct DefaultStorageClass {
    objects: Arc<dyn Objects>,
}

/// The newest of `classes` that `is_default` says are defaults (equally new: the first by name),
/// as kube's `GetDefaultClass` and the DefaultIngressClass plugin choose.
pub(crate) fn newest_default(classes: Vec<Value>, is_default: fn(&Value) -> bool) -> Option<Value> {
    let created = |class: &Value| {
        class
            .pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str)
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
    };
    let mut defaults: Vec<Value> = classes.into_iter().filter(is_default).collect();
    defaults.sort_by(|a, b| {
        let names = name_of(a).cmp(name_of(b));
        created(b).cmp(&created(a)).then(names)
    });
    defaults.into_iter().next()
}

impl DefaultStorageClass {
    pub fn new(objects: Arc<dyn Objects>) -> DefaultStorageClass {
        DefaultStorageClass { objects }
    }
}

/// What the default-class plugins (this one and DefaultIngressClass) differ in: the objects
/// they default, where the class is named, and the classes they read.
pub(crate) struct DefaultClass {
    /// The API group and resource of the objects defaulted (on create, main resource only).
    pub group: &'static str,
    pub resource: &'static str,
    /// The `spec` field the default class's name goes in.
    pub field: &'static str,
    /// Whether the object already names a class (then it is left alone).
    pub has_class: fn(&Value) -> bool,
    /// The classes' API group and resource, and whether a class is a default one.
    pub class_group: &'static str,
    pub class_resource: &'static str,
    pub is_default: fn(&Value) -> bool,
}

impl DefaultClass {
    /// Names the newest default class in a created object that names none.
    pub(crate) async fn admit(
        &self,
        objects: &dyn Objects,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        let Some(object) = object else { return Ok(()) };
        if (attributes.group, attributes.resource) != (self.group, self.resource)
            || attributes.action != Action::Create
            || !attributes.subresource.is_empty()
            || (self.has_class)(object)
        {
            return Ok(());
        }
        let classes = objects.list(self.class_group, self.class_resource, "").await?;
        let Some(default) = newest_default(classes, self.is_default) else { return Ok(()) };
        if let Some(spec) = spec_mut(object) {
            spec.insert(self.field.into(), json!(name_of(&default)));
        }
        Ok(())
    }
}

const CLAIMS: DefaultClass = DefaultClass {
    group: "",
    resource: "persistentvolumeclaims",
    field: "storageClassName",
    has_class,
    class_group: GROUP,
    class_resource: CLASSES,
    is_default,
};

#[async_trait]
impl Plugin for DefaultStorageClass {
    fn name(&self) -> &'static str {
        "DefaultStorageClass"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        CLAIMS.admit(&*self.objects, attributes, object).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::priority::tests::{FakeObjects, attributes};
    use crate::authn::UserInfo;

    fn class(name: &str, created: &str, default: Option<&str>) -> Value {
        let mut class = json!({"metadata": {"name": name, "creationTimestamp": created},
            "provisioner": "example.com/p"});
        if let Some(value) = default {
            class["metadata"]["annotations"] = json!({IS_DEFAULT: value});
        }
        class
    }

    async fn admit(classes: Vec<Value>, claim: &mut Value, action: Action) {
        let plugin = DefaultStorageClass::new(FakeObjects::with(GROUP, CLASSES, classes));
        let user = UserInfo::anonymous();
        let attrs = attributes(&user, action, "", "persistentvolumeclaims", "c", None);
        plugin.admit(&attrs, Some(claim), &mut Vec::new()).await.unwrap();
    }

    #[tokio::test]
    async fn a_claim_without_a_class_gets_the_newest_default() {
        let classes = vec![
            class("old", "2024-01-01T00:00:00Z", Some("true")),
            class("new-b", "2024-06-01T00:00:00Z", Some("true")),
            class("new-a", "2024-06-01T00:00:00Z", Some("true")),
            class("newest-but-not-default", "2025-01-01T00:00:00Z", Some("false")),
        ];
        let mut claim =
            json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"]}});
        admit(classes.clone(), &mut claim, Action::Create).await;
        assert_eq!(claim["spec"]["storageClassName"], "new-a");

        // A class, even "", or the beta annotation: left alone. Updates too.
        for mut named in [
            json!({"spec": {"storageClassName": ""}}),
            json!({"spec": {"storageClassName": "slow"}}),
            json!({"metadata": {"annotations": {BETA_STORAGE_CLASS: "x"}},
                "spec": {}}),
        ] {
            let before = named.clone();
            admit(classes.clone(), &mut named, Action::Create).await;
            assert_eq!(named, before);
        }
        let mut unnamed = json!({"spec": {}});
        admit(classes, &mut unnamed, Action::Update).await;
        assert_eq!(unnamed, json!({"spec": {}}));
    }

    #[tokio::test]
    async fn no_default_no_class() {
        let mut claim = json!({"spec": {}});
        admit(vec![class("plain", "2024-01-01T00:00:00Z", None)], &mut claim, Action::Create).await;
        assert_eq!(claim, json!({"spec": {}}));
    }
}
