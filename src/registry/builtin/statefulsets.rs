//! `apps/v1` StatefulSets (`pkg/registry/apps/statefulset`): kube's defaults (one replica,
//! `OrderedReady` pods, rolling updates from partition 0, 10 revisions, claims retained), the
//! claim templates' defaults, a non-empty selector matching the template, a spec of which only
//! the replicas, ordinals, template, update strategy, revision history limit, claim retention
//! policy and minReadySeconds may change, `status`, and `scale` over `.spec.replicas`. Nothing
//! creates pods or claims: `status` is what clients write.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::persistentvolumeclaims::default_claim;
use super::replicasets::validate_status;
use super::workloads::{
    TEMPLATE_CONTAINERS, container_columns, default_template, ready_column,
    validate_required_selector, validate_restart_always, validate_template_labels,
};
use super::{
    Kind, age_column, child_object, default_string, default_value, name_column, opt_int,
    opt_object, opt_str, opt_string_map, validate_nonnegative,
};
use crate::meta::validation::{FieldCause, validate_annotations, validate_labels};
use crate::registry::resource::{Resource, ScaleSubresource};
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "StatefulSet",
    plural: "statefulsets",
    short_names: &["sts"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/statefulsets",
};

const RETENTION_POLICIES: &[&str] = &["Retain", "Delete"];

/// The spec fields an update may change (kube's `ValidateStatefulSetUpdate`).
const MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

pub fn resource() -> Resource {
    Resource {
        status_subresource: true,
        scale_subresource: Some(ScaleSubresource::workload()),
        ..KIND.resource(Arc::new(StatefulSetStrategy), table())
    }
}

/// StatefulSet rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatefulSetStrategy;

/// kube's `SetDefaults_StatefulSet`, the pod template's and the claim templates' defaults.
fn default_stateful_set(object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else { return };
    default_string(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = child_object(spec, "updateStrategy") {
        if matches!(strategy.get("type").and_then(Value::as_str), None | Some("")) {
            strategy.insert("type".into(), "RollingUpdate".into());
            default_value(strategy, "rollingUpdate", json!({}));
        }
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(rolling) = strategy.get_mut("rollingUpdate").and_then(Value::as_object_mut)
        {
            default_value(rolling, "partition", json!(0));
        }
    }
    if let Some(retention) = child_object(spec, "persistentVolumeClaimRetentionPolicy") {
        default_string(retention, "whenDeleted", "Retain");
        default_string(retention, "whenScaled", "Retain");
    }
    default_value(spec, "replicas", json!(1));
    default_value(spec, "revisionHistoryLimit", json!(10));
    if let Some(claims) = spec.get_mut("volumeClaimTemplates").and_then(Value::as_array_mut) {
        claims.iter_mut().filter(|c| c.is_object()).for_each(default_claim);
    }
    default_template(object, "/spec/template");
}

impl Strategy for StatefulSetStrategy {
    /// The spec is a struct kube always decodes, so a body without one is defaulted too.
    fn set_defaults(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry("spec").or_insert_with(|| json!({}));
        }
        default_stateful_set(object);
    }

    fn prepare_for_create(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), json!({"replicas": 0}));
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let Some(spec) = opt_object(object, "spec", "spec", &mut causes) else {
            return causes;
        };
        validate_spec(&Value::Object(spec.clone()), &mut causes);
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(new);
        if fixed_part(new) != fixed_part(old) {
            causes.push(FieldCause::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', \
                 'template', 'updateStrategy', 'revisionHistoryLimit', \
                 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
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
                    "readyReplicas",
                    "currentReplicas",
                    "updatedReplicas",
                    "availableReplicas",
                ],
            );
        }
        self.validate_update(new, old)
    }
}

/// The spec without the fields an update may change, `null`s and empty values dropped (kube
/// compares semantically: a missing list equals an empty one).
fn fixed_part(object: &Value) -> Value {
    fn prune(value: &Value) -> Option<Value> {
        match value {
            Value::Null => None,
            Value::Object(map) => {
                let pruned: Map<String, Value> =
                    map.iter().filter_map(|(k, v)| Some((k.clone(), prune(v)?))).collect();
                (!pruned.is_empty()).then_some(Value::Object(pruned))
            }
            Value::Array(items) if items.is_empty() => None,
            Value::Array(items) => {
                Some(Value::Array(items.iter().map(|i| prune(i).unwrap_or(json!({}))).collect()))
            }
            Value::String(s) if s.is_empty() => None,
            other => Some(other.clone()),
        }
    }
    let mut spec = object.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(map) = spec.as_object_mut() {
        for field in MUTABLE {
            map.shift_remove(*field);
        }
    }
    prune(&spec).unwrap_or(Value::Null)
}

fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    match opt_str(spec, "podManagementPolicy", "spec.podManagementPolicy", causes) {
        None | Some("") => causes.push(FieldCause::required("spec.podManagementPolicy", "")),
        Some("OrderedReady" | "Parallel") => {}
        Some(other) => causes.push(FieldCause::invalid(
            "spec.podManagementPolicy",
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    validate_update_strategy(spec, causes);
    validate_retention_policy(spec, causes);
    let replicas = opt_int(spec, "replicas", "spec.replicas", causes);
    validate_nonnegative(replicas, "spec.replicas", causes);
    let min_ready = opt_int(spec, "minReadySeconds", "spec.minReadySeconds", causes);
    validate_nonnegative(min_ready, "spec.minReadySeconds", causes);
    if let Some(ordinals) = opt_object(spec, "ordinals", "spec.ordinals", causes) {
        let ordinals = Value::Object(ordinals.clone());
        let start = opt_int(&ordinals, "start", "spec.ordinals.start", causes);
        validate_nonnegative(start, "spec.ordinals.start", causes);
    }
    let history = opt_int(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", causes);
    validate_nonnegative(history, "spec.revisionHistoryLimit", causes);

    let template = spec.get("template").unwrap_or(&Value::Null);
    if let Some(selector) = validate_required_selector(spec, "spec", "statefulset", causes) {
        // kube's ValidatePodTemplateSpecForStatefulSet: the labels and annotations of the
        // template, not its pod spec (its volumes may name claim templates).
        validate_template_labels(&selector, template, "spec.template", causes);
        if let Some(meta) = opt_object(template, "metadata", "spec.template.metadata", causes) {
            let meta = Value::Object(meta.clone());
            let labels = opt_string_map(&meta, "labels", "spec.template.metadata.labels", causes);
            causes.extend(validate_labels(labels, "spec.template.labels"));
            let annotations =
                opt_string_map(&meta, "annotations", "spec.template.metadata.annotations", causes);
            causes.extend(validate_annotations(annotations, "spec.template.annotations"));
        }
    }
    validate_restart_always(template, "spec.template", causes);
    if template.pointer("/spec/activeDeadlineSeconds").is_some_and(|v| !v.is_null()) {
        causes.push(FieldCause::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
}

fn validate_update_strategy(spec: &Value, causes: &mut Vec<FieldCause>) {
    let Some(strategy) = opt_object(spec, "updateStrategy", "spec.updateStrategy", causes) else {
        causes.push(FieldCause::required("spec.updateStrategy", ""));
        return;
    };
    let strategy = Value::Object(strategy.clone());
    let rolling = strategy.get("rollingUpdate").filter(|r| !r.is_null());
    match opt_str(&strategy, "type", "spec.updateStrategy.type", causes).unwrap_or("") {
        "" => causes.push(FieldCause::required("spec.updateStrategy", "")),
        "OnDelete" => {
            if let Some(rolling) = rolling {
                causes.push(FieldCause::invalid(
                    "spec.updateStrategy.rollingUpdate",
                    rolling.clone(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(rolling) = rolling {
                let path = "spec.updateStrategy.rollingUpdate.partition";
                let partition = opt_int(rolling, "partition", path, causes);
                validate_nonnegative(partition, path, causes);
            }
        }
        _ => causes.push(FieldCause::invalid(
            "spec.updateStrategy",
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
}

fn validate_retention_policy(spec: &Value, causes: &mut Vec<FieldCause>) {
    let path = "spec.persistentVolumeClaimRetentionPolicy";
    let Some(policy) = opt_object(spec, "persistentVolumeClaimRetentionPolicy", path, causes)
    else {
        return;
    };
    let policy = Value::Object(policy.clone());
    for field in ["whenDeleted", "whenScaled"] {
        let field_path = format!("{path}.{field}");
        match opt_str(&policy, field, &field_path, causes).unwrap_or("") {
            "Retain" | "Delete" => {}
            other => causes.push(FieldCause::not_supported(field_path, other, RETENTION_POLICIES)),
        }
    }
}

fn table() -> TableSpec {
    let [containers, images] = container_columns(1, TEMPLATE_CONTAINERS);
    TableSpec { columns: vec![name_column(), ready_column(), age_column(), containers, images] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn db() -> Value {
        json!({"metadata": {"name": "db"}, "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                         "spec": {"containers": [{"name": "pg", "image": "postgres:16",
                                  "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}})
    }

    fn created(mut s: Value) -> Value {
        StatefulSetStrategy.decoded_create(&mut s);
        s
    }

    #[test]
    fn defaults() {
        let s = created(db());
        let spec = &s["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(spec["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
        assert_eq!(spec["volumeClaimTemplates"][0]["status"], json!({"phase": "Pending"}));
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(s["status"], json!({"replicas": 0}));
        // Volume mounts naming a claim template are fine: kube does not validate the pod spec.
        assert!(
            StatefulSetStrategy.validate(&s).is_empty(),
            "{:?}",
            StatefulSetStrategy.validate(&s)
        );
        let on_delete = created(json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}));
        assert_eq!(on_delete["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
    }

    #[test]
    fn rules() {
        let mut s = db();
        s["spec"]["podManagementPolicy"] = json!("Random");
        s["spec"]["updateStrategy"] =
            json!({"type": "OnDelete", "rollingUpdate": {"partition": 1}});
        s["spec"]["persistentVolumeClaimRetentionPolicy"] = json!({"whenDeleted": "Keep"});
        s["spec"]["ordinals"] = json!({"start": -1});
        s["spec"]["selector"] = json!({});
        assert_eq!(
            text(&StatefulSetStrategy.validate(&created(s))),
            [
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or \
                 'Parallel'",
                "spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed \
                 for updateStrategy 'RollingUpdate'",
                "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: \"Keep\": \
                 supported values: \"Retain\", \"Delete\"",
                "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0",
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), \
                 MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid \
                 for statefulset",
            ]
        );
        let mut s = db();
        s["spec"]["template"]["metadata"]["labels"] = json!({"app": "web"});
        s["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
        assert_eq!(
            text(&StatefulSetStrategy.validate(&created(s))),
            [
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: \
                 `selector` does not match template `labels`",
                "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported \
                 values: \"Always\"",
            ]
        );
        let mut s = db();
        s["spec"]["selector"] = Value::Null;
        assert_eq!(
            text(&StatefulSetStrategy.validate(&created(s))),
            ["spec.selector: Required value"]
        );
    }

    #[test]
    fn only_some_fields_change() {
        let old = created(db());
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("postgres:17");
        new["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(2);
        new["spec"]["minReadySeconds"] = json!(5);
        assert!(StatefulSetStrategy.validate_update(&new, &old).is_empty());
        new["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
            json!("2Gi");
        assert_eq!(
            text(&StatefulSetStrategy.validate_update(&new, &old)),
            ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', \
              'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', \
              'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]
        );
    }

    #[test]
    fn columns() {
        let mut s = created(db());
        s["spec"]["replicas"] = json!(3);
        s["status"] = json!({"replicas": 3, "readyReplicas": 2});
        let table = render_table(&table(), &[s], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["db", "2/3", "<unknown>", "pg", "postgres:16"])
        );
        assert_eq!(resource().short_names, ["sts"]);
    }
}
