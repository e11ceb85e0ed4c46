//! `apps/v1` ReplicaSets (`pkg/registry/apps/replicaset`): one replica by default, the pod
//! template's defaults, a selector that must match the template and never changes, `status`
//! and the `scale` subresource over `.spec.replicas`. Nothing creates pods: `status` is what
//! clients write.

use std::sync::Arc;

use serde_json::{Value, json};

use super::workloads::{
    TEMPLATE_CONTAINERS, container_columns, default_template, replica_columns, selector_column,
    validate_always_running_template, validate_required_selector, validate_selector_unchanged,
    validate_template_labels,
};
use super::{
    Kind, age_column, default_value, name_column, opt_int, opt_object, validate_nonnegative,
};
use crate::meta::validation::FieldCause;
use crate::registry::resource::{Resource, ScaleSubresource};
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    plural: "replicasets",
    short_names: &["rs"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/replicasets",
};

pub fn resource() -> Resource {
    Resource {
        status_subresource: true,
        scale_subresource: Some(ScaleSubresource::workload()),
        ..KIND.resource(Arc::new(ReplicaSetStrategy), table())
    }
}

/// ReplicaSet rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplicaSetStrategy;

/// kube's `SetDefaults_ReplicaSet` and the pod-template defaults.
fn default_replica_set(object: &mut Value) {
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        default_value(spec, "replicas", json!(1));
    }
    default_template(object, "/spec/template");
}

impl Strategy for ReplicaSetStrategy {
    /// The spec is a struct kube always decodes, so a body without one is defaulted too.
    fn set_defaults(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry("spec").or_insert_with(|| json!({}));
        }
        default_replica_set(object);
    }

    fn prepare_for_create(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), json!({"replicas": 0}));
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let Some(spec) = opt_object(object, "spec", "spec", &mut causes) else {
            if causes.is_empty() {
                causes.push(FieldCause::required("spec.selector", ""));
            }
            return causes;
        };
        let spec = Value::Object(spec.clone());
        let replicas = opt_int(&spec, "replicas", "spec.replicas", &mut causes);
        validate_nonnegative(replicas, "spec.replicas", &mut causes);
        let min_ready = opt_int(&spec, "minReadySeconds", "spec.minReadySeconds", &mut causes);
        validate_nonnegative(min_ready, "spec.minReadySeconds", &mut causes);
        // kube words the empty selector of a ReplicaSet as a deployment's.
        if let Some(selector) = validate_required_selector(&spec, "spec", "deployment", &mut causes)
        {
            let template = spec.get("template").unwrap_or(&Value::Null);
            validate_template_labels(&selector, template, "spec.template", &mut causes);
            validate_always_running_template(template, "spec.template", "ReplicaSet", &mut causes);
        }
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(new);
        validate_selector_unchanged(new, old, "/spec/selector", "spec.selector", &mut causes);
        causes
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        if subresource == "status" {
            return validate_status(
                new,
                &[
                    "replicas",
                    "fullyLabeledReplicas",
                    "readyReplicas",
                    "availableReplicas",
                    "terminatingReplicas",
                ],
            );
        }
        self.validate_update(new, old)
    }
}

/// kube's status validation of the replica counters: each non-negative.
pub(crate) fn validate_status(object: &Value, counters: &[&str]) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let status = object.get("status").cloned().unwrap_or(Value::Null);
    for counter in counters {
        let path = format!("status.{counter}");
        let value = opt_int(&status, counter, &path, &mut causes);
        validate_nonnegative(value, &path, &mut causes);
    }
    causes
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
            selector_column(&KIND, "/spec/selector"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn web() -> Value {
        json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
    }

    fn created(mut r: Value) -> Value {
        ReplicaSetStrategy.decoded_create(&mut r);
        r
    }

    #[test]
    fn defaults_and_rules() {
        let r = created(web());
        assert_eq!(r["spec"]["replicas"], 1);
        assert_eq!(r["status"], json!({"replicas": 0}));
        assert_eq!(r["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert!(ReplicaSetStrategy.validate(&r).is_empty());

        let mut bad = web();
        bad["spec"]["replicas"] = json!(-2);
        bad["spec"]["selector"] = json!({});
        bad["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            text(&ReplicaSetStrategy.validate(&created(bad))),
            [
                "spec.replicas: Invalid value: -2: must be greater than or equal to 0",
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), \
                 MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid \
                 for deployment",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \
                 \"Always\"",
            ]
        );
        let mut other = web();
        other["spec"]["template"]["metadata"]["labels"] = json!({"app": "db"});
        assert_eq!(
            text(&ReplicaSetStrategy.validate(&created(other))),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"db\"}: \
              `selector` does not match template `labels`"]
        );
        let old = created(web());
        let mut new = old.clone();
        new["spec"]["selector"]["matchLabels"]["v"] = json!("2");
        new["spec"]["template"]["metadata"]["labels"]["v"] = json!("2");
        assert_eq!(
            text(&ReplicaSetStrategy.validate_update(&new, &old)),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\
              \"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: \
              field is immutable"]
        );
    }

    #[test]
    fn columns() {
        let mut r = created(web());
        r["status"] = json!({"replicas": 1, "readyReplicas": 1});
        let table = render_table(&table(), &[r], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web", 1, 1, 1, "<unknown>", "nginx", "nginx:1.25", "app=web"])
        );
    }
}
