//! `v1` ReplicationControllers (`pkg/registry/core/replicationcontroller`,
//! `ValidateReplicationController*`): the original replica controller, namespaced, short name
//! `rc`, in the `all` category, with `status` and `scale` subresources. Its selector is a plain
//! map of labels, defaulted (with the object's own labels) from the template's labels, and it
//! must match them; unlike a Deployment's it may change. Nothing runs pods: `status` is what
//! clients write.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::podspec::{default_pod_spec, validate_pod_template};
use super::workloads::{TEMPLATE_CONTAINERS, container_columns, replica_columns};
use super::{
    Kind, age_column, child_object, default_value, format_labels, go_string_map, invalid_rendered,
    name_column, opt_int, opt_object, opt_string_map, str_at, validate_nonnegative,
};
use crate::meta::validation::FieldCause;
use crate::registry::resource::{Resource, ScaleSubresource};
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "ReplicationController",
    plural: "replicationcontrollers",
    short_names: &["rc"],
    categories: &["all"],
    namespaced: true,
    // kube-apiserver's etcd key for replication controllers.
    storage_prefix: "/controllers",
};

pub fn resource() -> Resource {
    Resource {
        status_subresource: true,
        scale_subresource: Some(ScaleSubresource::workload()),
        ..KIND.resource(Arc::new(ControllerStrategy), table())
    }
}

/// ReplicationController rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ControllerStrategy;

fn non_empty_map(value: Option<&Value>) -> Option<Map<String, Value>> {
    value.and_then(Value::as_object).filter(|m| !m.is_empty()).cloned()
}

/// kube's `SetDefaults_ReplicationController`: the selector and the object's labels default to
/// the template's labels, one replica; the pod-template defaults.
fn default_controller(controller: &mut Value) {
    let template_labels = controller.pointer("/spec/template/metadata/labels").cloned();
    let Some(map) = controller.as_object_mut() else { return };
    if let Some(labels) = template_labels.as_ref().filter(|l| l.is_object())
        && non_empty_map(map.get("metadata").and_then(|m| m.get("labels"))).is_none()
        && let Some(meta) = child_object(map, "metadata")
    {
        meta.insert("labels".into(), labels.clone());
    }
    let Some(spec) = child_object(map, "spec") else { return };
    if let Some(labels) = template_labels.filter(Value::is_object)
        && non_empty_map(spec.get("selector")).is_none()
    {
        spec.insert("selector".into(), labels);
    }
    default_value(spec, "replicas", json!(1));
    let pod_spec = spec
        .get_mut("template")
        .and_then(Value::as_object_mut)
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut);
    if let Some(pod_spec) = pod_spec {
        default_pod_spec(pod_spec);
    }
}

/// kube's `ValidateReplicationControllerSpec`.
fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    let min_ready = opt_int(spec, "minReadySeconds", "spec.minReadySeconds", causes);
    validate_nonnegative(min_ready, "spec.minReadySeconds", causes);
    let selector: BTreeMap<&str, &str> =
        opt_string_map(spec, "selector", "spec.selector", causes).into_iter().collect();
    if selector.is_empty() {
        causes.push(FieldCause::required("spec.selector", ""));
    }
    let replicas = opt_int(spec, "replicas", "spec.replicas", causes);
    validate_nonnegative(replicas, "spec.replicas", causes);

    let template = spec.get("template").unwrap_or(&Value::Null);
    if template.is_null() {
        causes.push(FieldCause::required("spec.template", ""));
        return;
    }
    if !selector.is_empty() {
        let labels = template.pointer("/metadata/labels");
        let matches = selector.iter().all(|(key, value)| {
            labels.and_then(|l| l.get(*key)).and_then(Value::as_str) == Some(*value)
        });
        if !matches {
            causes.push(invalid_rendered(
                "spec.template.metadata.labels",
                &go_string_map(labels),
                "`selector` does not match template `labels`",
            ));
        }
    }
    causes.extend(validate_pod_template(template, "spec.template"));
    if template.get("spec").is_some_and(Value::is_object) {
        let policy = str_at(template, "/spec/restartPolicy");
        if policy != "Always" {
            causes.push(FieldCause::not_supported(
                "spec.template.spec.restartPolicy",
                policy,
                &["Always"],
            ));
        }
        if template.pointer("/spec/activeDeadlineSeconds").is_some_and(|v| !v.is_null()) {
            causes.push(FieldCause::forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicationController is not Supported",
            ));
        }
    }
}

/// kube's `ValidateReplicationControllerStatus`.
fn validate_status(controller: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let Some(status) = opt_object(controller, "status", "status", &mut causes) else {
        return causes;
    };
    let status = Value::Object(status.clone());
    let mut count = |key: &str| {
        let path = format!("status.{key}");
        let value = opt_int(&status, key, &path, &mut causes);
        validate_nonnegative(value, &path, &mut causes);
        value.unwrap_or(0)
    };
    let replicas = count("replicas");
    let labeled = count("fullyLabeledReplicas");
    let ready = count("readyReplicas");
    let available = count("availableReplicas");
    count("observedGeneration");
    let above = "cannot be greater than status.replicas";
    for (key, value) in [
        ("fullyLabeledReplicas", labeled),
        ("readyReplicas", ready),
        ("availableReplicas", available),
    ] {
        if value > replicas {
            causes.push(FieldCause::invalid(format!("status.{key}"), value, above));
        }
    }
    if available > ready {
        causes.push(FieldCause::invalid(
            "status.availableReplicas",
            available,
            "cannot be greater than readyReplicas",
        ));
    }
    causes
}

impl Strategy for ControllerStrategy {
    fn set_defaults(&self, controller: &mut Value) {
        default_controller(controller);
    }

    fn prepare_for_create(&self, controller: &mut Value) {
        if let Some(map) = controller.as_object_mut() {
            map.insert("status".into(), json!({"replicas": 0}));
        }
    }

    fn validate(&self, controller: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        match opt_object(controller, "spec", "spec", &mut causes) {
            Some(_) => validate_spec(&controller["spec"], &mut causes),
            None if controller.get("spec").is_none_or(Value::is_null) => {
                validate_spec(&json!({}), &mut causes)
            }
            None => {}
        }
        causes
    }

    /// A `/status` write is checked as kube's `ValidateReplicationControllerStatusUpdate`: the
    /// status alone.
    fn validate_subresource_update(&self, sub: &str, new: &Value, old: &Value) -> Vec<FieldCause> {
        if sub == "status" { validate_status(new) } else { self.validate_update(new, old) }
    }

    fn selectable_fields(&self, controller: &Value) -> BTreeMap<String, String> {
        let replicas = controller.pointer("/status/replicas").and_then(Value::as_i64);
        BTreeMap::from([("status.replicas".to_owned(), replicas.unwrap_or(0).to_string())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["status.replicas"]
    }
}

fn table() -> TableSpec {
    let [desired, current, ready] = replica_columns(&KIND);
    let [containers, images] = container_columns(1, TEMPLATE_CONTAINERS);
    TableSpec {
        columns: vec![
            name_column(),
            desired,
            current,
            ready,
            age_column(),
            containers,
            images,
            // A ReplicationController's selector is a plain map of labels.
            KIND.field_column("Selector", "string", 1, "/spec/selector", |s| {
                format_labels(s).into()
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn nginx() -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
    }

    fn created(mut c: Value) -> Value {
        ControllerStrategy.decoded_create(&mut c);
        c
    }

    #[test]
    fn defaults_from_the_template() {
        let c = created(nginx());
        assert_eq!(c["spec"]["replicas"], 1);
        assert_eq!(c["spec"]["selector"], json!({"app": "web"}));
        assert_eq!(c["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(c["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(c["status"], json!({"replicas": 0}));
        assert!(
            ControllerStrategy.validate(&c).is_empty(),
            "{:?}",
            ControllerStrategy.validate(&c)
        );
        // Set selectors and labels are kept.
        let mut own = nginx();
        own["metadata"]["labels"] = json!({"tier": "fe"});
        own["spec"]["selector"] = json!({"app": "web"});
        own["spec"]["replicas"] = json!(0);
        let own = created(own);
        assert_eq!(own["metadata"]["labels"], json!({"tier": "fe"}));
        assert_eq!(own["spec"]["replicas"], 0);
    }

    #[test]
    fn selector_template_and_replicas_are_checked() {
        let mut c = nginx();
        c["spec"]["selector"] = json!({"app": "other"});
        c["spec"]["replicas"] = json!(-1);
        c["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
        c["spec"]["template"]["spec"]["activeDeadlineSeconds"] = json!(5);
        assert_eq!(
            cause_texts(&ControllerStrategy.validate(&created(c))),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: \
                 `selector` does not match template `labels`",
                "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported \
                 values: \"Always\"",
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in \
                 ReplicationController is not Supported",
            ]
        );
        let bare = created(json!({"metadata": {"name": "x"}, "spec": {}}));
        assert_eq!(
            cause_texts(&ControllerStrategy.validate(&bare)),
            ["spec.selector: Required value", "spec.template: Required value"]
        );
    }

    #[test]
    fn status_writes_are_checked_alone() {
        let old = created(nginx());
        let mut new = old.clone();
        new["status"] = json!({"replicas": 1, "readyReplicas": 2, "availableReplicas": 3});
        assert_eq!(
            cause_texts(&ControllerStrategy.validate_subresource_update("status", &new, &old)),
            [
                "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
                "status.availableReplicas: Invalid value: 3: cannot be greater than \
                 status.replicas",
                "status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas",
            ]
        );
    }

    #[test]
    fn table_and_resource() {
        let mut c = created(nginx());
        c["spec"]["replicas"] = json!(3);
        c["status"] = json!({"replicas": 3, "readyReplicas": 2});
        let table = render_table(&table(), &[c], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web", 3, 3, 2, "<unknown>", "nginx", "nginx:1.25", "app=web"])
        );
        let r = resource();
        assert_eq!(r.short_names, ["rc"]);
        assert_eq!(r.categories, ["all"]);
        assert!(r.scale_subresource.is_some() && r.status_subresource);
    }
}
