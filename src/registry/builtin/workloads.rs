//! What the workload kinds share (`apps/v1` Deployments, ReplicaSets, StatefulSets, DaemonSets,
//! `batch/v1` Jobs and CronJobs, core ReplicationControllers and PodTemplates): pod-template
//! defaults, the selector and its match against the template's labels as kube's apps validation
//! words them, the immutable selector, and the printer columns they have in common (READY,
//! DESIRED/CURRENT/READY, CONTAINERS, IMAGES, SELECTOR), each written once. Data flows one way:
//! each kind's strategy calls these on the object it is defaulting or validating, and its
//! `table()` takes its columns from here.

use serde_json::{Map, Value};

use super::columns::count as count_cell;
use super::deployments::go_label_selector;
use super::podspec::{default_pod_spec, validate_pod_template};
use super::{Kind, array_at, column, go_string_map, invalid_rendered, str_at};
use crate::meta::labels::{LabelSelector, validate_label_selector};
use crate::meta::validation::FieldCause;
use crate::registry::table::{Cell, Column};

/// `spec.template.spec` of a workload (`pointer` to the template), pod-spec defaults applied.
pub(crate) fn default_template(object: &mut Value, pointer: &str) {
    if let Some(spec) =
        object.pointer_mut(&format!("{pointer}/spec")).and_then(Value::as_object_mut)
    {
        default_pod_spec(spec);
    }
}

/// A required, non-empty `selector` (kube's `Required value`, `ValidateLabelSelector` and
/// `empty selector is invalid for <kind>`), at `<path>.selector`. Returns the parsed selector
/// when it parses.
pub(crate) fn validate_required_selector(
    spec: &Value,
    path: &str,
    kind: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<LabelSelector> {
    let selector_path = format!("{path}.selector");
    let selector = spec.get("selector").filter(|s| !s.is_null());
    match selector {
        None => {
            causes.push(FieldCause::required(selector_path, ""));
            return None;
        }
        Some(selector) => {
            causes.extend(validate_label_selector(selector, &selector_path));
            if selector.is_object() && selector_size(selector) == 0 {
                causes.push(invalid_rendered(
                    &selector_path,
                    &go_label_selector(Some(selector)),
                    &format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
    parse_selector(selector, &selector_path, causes)
}

/// The number of `matchLabels` and `matchExpressions` of a selector.
pub(crate) fn selector_size(selector: &Value) -> usize {
    let labels = selector.get("matchLabels").and_then(Value::as_object).map_or(0, Map::len);
    labels + array_at(selector, "/matchExpressions").len()
}

/// `metav1.LabelSelectorAsSelector`; a failure is `Invalid value: …: invalid label selector`.
pub(crate) fn parse_selector(
    selector: Option<&Value>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<LabelSelector> {
    match LabelSelector::from_structured(selector.unwrap_or(&Value::Null)) {
        Ok(parsed) => Some(parsed),
        Err(_) => {
            causes.push(invalid_rendered(
                path,
                &go_label_selector(selector),
                "invalid label selector",
            ));
            None
        }
    }
}

/// The template's labels must match a non-empty selector, at `<template_path>.metadata.labels`.
pub(crate) fn validate_template_labels(
    selector: &LabelSelector,
    template: &Value,
    template_path: &str,
    causes: &mut Vec<FieldCause>,
) {
    if selector.is_everything() {
        return;
    }
    let labels = template.pointer("/metadata/labels");
    let empty = Map::new();
    if !selector.matches(labels.and_then(Value::as_object).unwrap_or(&empty)) {
        causes.push(invalid_rendered(
            format!("{template_path}.metadata.labels"),
            &go_string_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
}

/// kube's `ValidatePodTemplateSpecForReplicaSet` (and the DaemonSet's part alike): the pod
/// template validated as a pod's, restart policy `Always`, no `activeDeadlineSeconds`.
pub(crate) fn validate_always_running_template(
    template: &Value,
    template_path: &str,
    kind: &str,
    causes: &mut Vec<FieldCause>,
) {
    causes.extend(validate_pod_template(template, template_path));
    validate_restart_always(template, template_path, causes);
    if template.pointer("/spec/activeDeadlineSeconds").is_some_and(|v| !v.is_null()) {
        causes.push(FieldCause::forbidden(
            format!("{template_path}.spec.activeDeadlineSeconds"),
            &format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

/// `spec.template.spec.restartPolicy` must be `Always` (kube's `NotSupported`).
pub(crate) fn validate_restart_always(
    template: &Value,
    template_path: &str,
    causes: &mut Vec<FieldCause>,
) {
    let policy = str_at(template, "/spec/restartPolicy");
    if template.get("spec").is_some_and(Value::is_object) && policy != "Always" {
        causes.push(FieldCause::not_supported(
            format!("{template_path}.spec.restartPolicy"),
            policy,
            &["Always"],
        ));
    }
}

/// A structured selector with `null`/empty parts dropped, for equality as kube's semantic
/// comparison sees it.
pub(crate) fn normalized_selector(selector: Option<&Value>) -> Value {
    let Some(Value::Object(map)) = selector else { return Value::Null };
    let mut out = Map::new();
    for (key, value) in map {
        let empty = match value {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

/// `ValidateImmutableField` of `<path>` = `spec.selector` (or a CronJob's job template's).
pub(crate) fn validate_selector_unchanged(
    new: &Value,
    old: &Value,
    pointer: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    let new_selector = new.pointer(pointer);
    if normalized_selector(new_selector) != normalized_selector(old.pointer(pointer)) {
        causes.push(invalid_rendered(path, &go_label_selector(new_selector), "field is immutable"));
    }
}

/// `metav1.FormatLabelSelector`: the selector's string form, `<none>` when empty or absent,
/// `<error>` when it does not parse.
pub(crate) fn format_label_selector(selector: Option<&Value>) -> String {
    match LabelSelector::from_structured(selector.unwrap_or(&Value::Null)) {
        Ok(parsed) => {
            let text = parsed.to_string();
            if text.is_empty() { "<none>".to_owned() } else { text }
        }
        Err(_) => "<error>".to_owned(),
    }
}

/// An integer at a pointer, 0 when missing (Go's zero value in a printer).
pub(crate) fn count(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// An `IntOrString` as Go's `String()` prints it.
pub(crate) fn int_or_string_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `IsNotMoreThan100Percent` and `ValidatePositiveIntOrPercent` of an `IntOrString` at `path`:
/// its value (a percentage's number) when it is well formed.
pub(crate) fn validate_positive_int_or_percent(
    value: Option<&Value>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<i64> {
    let value = value.filter(|v| !v.is_null())?;
    let (number, percent) = super::deployments::int_or_percent(Some(value), path, causes)?;
    if percent && number > 100 {
        causes.push(invalid_rendered(
            path,
            &int_or_string_text(value),
            "must not be greater than 100%",
        ));
    }
    Some(number)
}

// ---------------------------------------------------------------------------------------------
// Printer columns.

/// Where a workload's pod template keeps its containers.
pub(crate) const TEMPLATE_CONTAINERS: &str = "/spec/template/spec/containers";

/// The READY column of Deployments and StatefulSets: ready replicas over desired (`2/3`), in
/// kube's words (no field documents it).
pub(crate) fn ready_column() -> Column {
    column(
        "Ready",
        "string",
        0,
        "Number of the pod with ready state",
        Cell::Computed(|workload| {
            let ready = count(workload, "/status/readyReplicas");
            format!("{ready}/{}", count(workload, "/spec/replicas")).into()
        }),
    )
}

/// DESIRED, CURRENT and READY of ReplicaSets and ReplicationControllers: `spec.replicas`,
/// `status.replicas` and `status.readyReplicas`, described by those fields.
pub(crate) fn replica_columns(kind: &Kind) -> [Column; 3] {
    [
        kind.field_column("Desired", "integer", 0, "/spec/replicas", count_cell),
        kind.field_column("Current", "integer", 0, "/status/replicas", count_cell),
        kind.field_column("Ready", "integer", 0, "/status/readyReplicas", count_cell),
    ]
}

/// CONTAINERS and IMAGES of the pod template whose containers are at `containers` (kube's
/// `layoutContainerCells`: names and images, comma-separated), in kube's words; `priority` 1
/// (wide) for workloads, 0 for PodTemplates.
pub(crate) fn container_columns(priority: i32, containers: &'static str) -> [Column; 2] {
    [
        column(
            "Containers",
            "string",
            priority,
            "Names of each container in the template.",
            Cell::Field { pointer: containers, show: |c| joined(c, "/name") },
        ),
        column(
            "Images",
            "string",
            priority,
            "Images referenced by each container in the template.",
            Cell::Field { pointer: containers, show: |c| joined(c, "/image") },
        ),
    ]
}

/// One string field of each container, comma-separated.
fn joined(containers: Option<&Value>, field: &str) -> Value {
    let containers = containers.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    containers.iter().map(|c| str_at(c, field)).collect::<Vec<_>>().join(",").into()
}

/// The wide SELECTOR of a kind with a structured label selector at `pointer`, as
/// `metav1.FormatLabelSelector` prints it, described by that field.
pub(crate) fn selector_column(kind: &Kind, pointer: &'static str) -> Column {
    kind.field_column("Selector", "string", 1, pointer, |s| format_label_selector(s).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use serde_json::json;

    #[test]
    fn selectors_and_templates() {
        let mut causes = Vec::new();
        let spec = json!({"selector": {}});
        assert!(validate_required_selector(&spec, "spec", "statefulset", &mut causes).is_some());
        assert_eq!(
            text(&causes),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), \
              MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for \
              statefulset"]
        );
        let mut causes = Vec::new();
        let selector = LabelSelector::from_structured(&json!({"matchLabels": {"a": "b"}})).unwrap();
        validate_template_labels(&selector, &json!({}), "spec.template", &mut causes);
        assert_eq!(
            text(&causes),
            ["spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` \
              does not match template `labels`"]
        );
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(Some(&json!({"matchLabels": {"a": "b"}}))), "a=b");
        let mut causes = Vec::new();
        assert_eq!(
            validate_positive_int_or_percent(Some(&json!("120%")), "x", &mut causes),
            Some(120)
        );
        assert_eq!(text(&causes), ["x: Invalid value: 120%: must not be greater than 100%"]);
    }
}
