//! kube's `DefaultIngressClass` admission plugin
//! (`plugin/pkg/admission/network/defaultingressclass`): an Ingress created with neither
//! `spec.ingressClassName` nor the `kubernetes.io/ingress.class` annotation gets the default
//! IngressClass, the one annotated `ingressclass.kubernetes.io/is-default-class: "true"`; the
//! newest when several are, the first by name among equally new ones. No default class: the
//! Ingress is left as it is.
//!
//! Classes are read through [`Objects`] in their storage version (`networking.k8s.io/v1`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::default_storage_class::{DefaultClass, annotation};
use super::{Attributes, Objects, Plugin};
use crate::meta::status::ApiError;

const GROUP: &str = "networking.k8s.io";
const CLASSES: &str = "ingressclasses";
/// The annotation that makes an IngressClass the default.
const IS_DEFAULT: &str = "ingressclass.kubernetes.io/is-default-class";
/// The Ingress's class from before `spec.ingressClassName`.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

fn is_default(class: &Value) -> bool {
    annotation(class, IS_DEFAULT) == Some(&json!("true"))
}

/// The plugin; reads IngressClasses through `objects`.
#[derive(Debug)]
pub struct DefaultIngressClass {
    objects: Arc<dyn Objects>,
}

impl DefaultIngressClass {
    pub fn new(objects: Arc<dyn Objects>) -> DefaultIngressClass {
        DefaultIngressClass { objects }
    }
}

/// Whether the Ingress names a class, by field or by the old annotation.
fn has_class(ingress: &Value) -> bool {
    annotation(ingress, CLASS_ANNOTATION).is_some()
        || ingress.pointer("/spec/ingressClassName").is_some_and(|c| !c.is_null())
}

const INGRESSES: DefaultClass = DefaultClass {
    group: GROUP,
    resource: "ingresses",
    field: "ingressClassName",
    has_class,
    class_group: GROUP,
    class_resource: CLASSES,
    is_default,
};

#[async_trait]
impl Plugin for DefaultIngressClass {
    fn name(&self) -> &'static str {
        "DefaultIngressClass"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        INGRESSES.admit(&*self.objects, attributes, object).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Action;
    use crate::admission::priority::tests::{FakeObjects, attributes};
    use crate::authn::UserInfo;

    fn class(name: &str, created: &str, default: bool) -> Value {
        let mut class = json!({"metadata": {"name": name, "creationTimestamp": created},
            "spec": {"controller": "example.com/c"}});
        if default {
            class["metadata"]["annotations"] = json!({IS_DEFAULT: "true"});
        }
        class
    }

    async fn admit(classes: Vec<Value>, ingress: &mut Value) {
        let plugin = DefaultIngressClass::new(FakeObjects::with(GROUP, CLASSES, classes));
        let user = UserInfo::anonymous();
        let attrs = attributes(&user, Action::Create, GROUP, "ingresses", "web", None);
        plugin.admit(&attrs, Some(ingress), &mut Vec::new()).await.unwrap();
    }

    #[tokio::test]
    async fn an_ingress_without_a_class_gets_the_newest_default() {
        let classes = vec![
            class("old", "2024-01-01T00:00:00Z", true),
            class("new", "2024-06-01T00:00:00Z", true),
            class("plain", "2025-01-01T00:00:00Z", false),
        ];
        let mut ingress = json!({"metadata": {"name": "web"}, "spec": {}});
        admit(classes.clone(), &mut ingress).await;
        assert_eq!(ingress["spec"]["ingressClassName"], "new");

        for mut named in [
            json!({"spec": {"ingressClassName": "mine"}}),
            json!({"metadata": {"annotations": {CLASS_ANNOTATION: "nginx"}}, "spec": {}}),
        ] {
            let before = named.clone();
            admit(classes.clone(), &mut named).await;
            assert_eq!(named, before);
        }
        let mut no_default = json!({"spec": {}});
        admit(vec![class("plain", "2025-01-01T00:00:00Z", false)], &mut no_default).await;
        assert_eq!(no_default, json!({"spec": {}}));
    }
}
