//! kube's HorizontalPodAutoscaler validation (`pkg/apis/autoscaling/validation`), on the stored
//! `autoscaling/v2` shape, with its field paths and messages: the scale target reference, the
//! replica bounds, each metric (its `type` must name the one source it fills in, and each source
//! its own rules), and the scaling behavior. Wrong JSON types are `FieldValueTypeInvalid`
//! causes, where kube-apiserver would fail to decode.
//!
//! Approximations: a bad quantity's value is printed as written (kube prints Go's `%#v` of a
//! `resource.Quantity` struct), and the set of extra metric sources is reported in sorted order
//! (kube iterates a Go map).

use serde_json::Value;

use super::super::podspec::parse_quantity;
use super::super::{invalid_rendered, object_items, opt_array, opt_int, opt_object, opt_str};
use crate::meta::validation::{FieldCause, is_dns1123_label, is_valid_path_segment_name};

/// `MaxPeriodSeconds`: the longest scaling policy period.
const MAX_PERIOD_SECONDS: i64 = 1800;
/// `MaxStabilizationWindowSeconds`.
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;

/// kube's metric source types, sorted as its error messages list them.
const METRIC_SOURCE_TYPES: &[&str] =
    &["ContainerResource", "External", "Object", "Pods", "Resource"];
const SELECT_POLICIES: &[&str] = &["Disabled", "Max", "Min"];
const POLICY_TYPES: &[&str] = &["Percent", "Pods"];

/// `validateHorizontalPodAutoscalerSpec`. `min_replicas_floor` is 1, or 0 on an update of an
/// object that already has `minReplicas: 0` (the HPAScaleToZero gate is off, as by default).
pub fn validate_spec(hpa: &Value, min_replicas_floor: i64) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let spec = match opt_object(hpa, "spec", "spec", &mut causes) {
        Some(spec) => Value::Object(spec.clone()),
        None if hpa.get("spec").is_some_and(|s| !s.is_null()) => return causes,
        None => Value::Null,
    };
    let spec = &spec;
    let min = opt_int(spec, "minReplicas", "spec.minReplicas", &mut causes);
    let max = opt_int(spec, "maxReplicas", "spec.maxReplicas", &mut causes).unwrap_or(0);
    if let Some(min) = min.filter(|m| *m < min_replicas_floor) {
        causes.push(FieldCause::invalid(
            "spec.minReplicas",
            min,
            &format!("must be greater than or equal to {min_replicas_floor}"),
        ));
    }
    if max < 1 {
        causes.push(FieldCause::invalid("spec.maxReplicas", max, "must be greater than 0"));
    }
    if min.is_some_and(|m| max < m) {
        causes.push(FieldCause::invalid(
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let reference = opt_object(spec, "scaleTargetRef", "spec.scaleTargetRef", &mut causes);
    let reference = reference.map(|r| Value::Object(r.clone())).unwrap_or(Value::Null);
    cross_version_reference(&reference, "spec.scaleTargetRef", &mut causes);

    let metrics = opt_array(spec, "metrics", "spec.metrics", &mut causes);
    let mut scales_to_zero_ok = false;
    for (i, metric) in object_items(metrics, "spec.metrics", &mut causes) {
        validate_metric(metric, &format!("spec.metrics[{i}]"), &mut causes);
        scales_to_zero_ok |=
            matches!(metric.get("type").and_then(Value::as_str), Some("Object" | "External"));
    }
    if min == Some(0) && !scales_to_zero_ok {
        causes.push(FieldCause::forbidden(
            "spec.metrics",
            "must specify at least one Object or External metric to support scaling to zero \
             replicas",
        ));
    }
    if let Some(behavior) = opt_object(spec, "behavior", "spec.behavior", &mut causes) {
        let behavior = Value::Object(behavior.clone());
        for key in ["scaleUp", "scaleDown"] {
            let path = format!("spec.behavior.{key}");
            if let Some(rules) = opt_object(&behavior, key, &path, &mut causes) {
                validate_rules(&Value::Object(rules.clone()), &path, &mut causes);
            }
        }
    }
    causes
}

/// `ValidateHorizontalPodAutoscalerStatusUpdate`'s own rules.
pub fn validate_status(hpa: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let Some(status) = opt_object(hpa, "status", "status", &mut causes) else { return causes };
    let status = Value::Object(status.clone());
    for key in ["currentReplicas", "desiredReplicas"] {
        let path = format!("status.{key}");
        if let Some(n) = opt_int(&status, key, &path, &mut causes).filter(|n| *n < 0) {
            causes.push(FieldCause::invalid(path, n, "must be greater than or equal to 0"));
        }
    }
    causes
}

/// `ValidateCrossVersionObjectReference`.
fn cross_version_reference(reference: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    for key in ["kind", "name"] {
        let field = format!("{path}.{key}");
        match opt_str(reference, key, &field, causes).unwrap_or("") {
            "" => causes.push(FieldCause::required(field, "")),
            value => {
                for msg in is_valid_path_segment_name(value) {
                    causes.push(FieldCause::invalid(field.clone(), value, &msg));
                }
            }
        }
    }
}

/// The sources a metric may fill in, in the order kube checks them.
const SOURCES: [(&str, &str); 5] = [
    ("object", "Object"),
    ("external", "External"),
    ("pods", "Pods"),
    ("resource", "Resource"),
    ("containerResource", "ContainerResource"),
];

/// `validateMetricSpec`.
fn validate_metric(metric: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let type_path = format!("{path}.type");
    let kind = opt_str(metric, "type", &type_path, causes).unwrap_or("");
    if kind.is_empty() {
        causes.push(FieldCause::required(type_path.clone(), "must specify a metric source type"));
    }
    if !METRIC_SOURCE_TYPES.contains(&kind) {
        causes.push(FieldCause::not_supported(type_path.clone(), kind, METRIC_SOURCE_TYPES));
    }
    let mut present: Vec<&str> = Vec::new();
    for (key, _) in SOURCES {
        let source_path = format!("{path}.{key}");
        let Some(source) = opt_object(metric, key, &source_path, causes) else { continue };
        present.push(key);
        if present.len() == 1 {
            let source = Value::Object(source.clone());
            match key {
                "object" => validate_object_source(&source, &source_path, causes),
                "external" => validate_external_source(&source, &source_path, causes),
                "pods" => validate_pods_source(&source, &source_path, causes),
                "resource" => validate_resource_source(&source, &source_path, false, causes),
                _ => validate_resource_source(&source, &source_path, true, causes),
            }
        }
    }
    let expected = SOURCES.iter().find(|(_, name)| *name == kind).map(|(key, _)| *key);
    match expected {
        Some(key) if !present.contains(&key) => causes.push(FieldCause::required(
            format!("{path}.{key}"),
            "must populate information for the given metric source",
        )),
        Some(_) => {}
        None => causes.push(FieldCause::not_supported(type_path, kind, METRIC_SOURCE_TYPES)),
    }
    if present.len() != 1 {
        let mut extra: Vec<&str> =
            present.into_iter().filter(|key| Some(*key) != expected).collect();
        extra.sort_unstable();
        for key in extra {
            causes.push(FieldCause::forbidden(
                format!("{path}.{key}"),
                "must populate the given metric source only",
            ));
        }
    }
}

/// A metric source's `target` (absent reads as Go's zero `MetricTarget`).
fn target_of(source: &Value, path: &str, causes: &mut Vec<FieldCause>) -> Value {
    let target = opt_object(source, "target", &format!("{path}.target"), causes);
    target.map(|t| Value::Object(t.clone())).unwrap_or(Value::Null)
}

/// Whether a target field is set.
fn is_set(target: &Value, key: &str) -> bool {
    target.get(key).is_some_and(|v| !v.is_null())
}

fn validate_object_source(source: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let described_path = format!("{path}.describedObject");
    let described = opt_object(source, "describedObject", &described_path, causes);
    let described = described.map(|d| Value::Object(d.clone())).unwrap_or(Value::Null);
    cross_version_reference(&described, &described_path, causes);
    validate_identifier(source, path, causes);
    let target = target_of(source, path, causes);
    validate_target(&target, &format!("{path}.target"), causes);
    if !is_set(&target, "value") && !is_set(&target, "averageValue") {
        causes.push(FieldCause::required(
            format!("{path}.target.averageValue"),
            "must set either a target value or averageValue",
        ));
    }
}

fn validate_external_source(source: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    validate_identifier(source, path, causes);
    let target = target_of(source, path, causes);
    validate_target(&target, &format!("{path}.target"), causes);
    match (is_set(&target, "value"), is_set(&target, "averageValue")) {
        (false, false) => causes.push(FieldCause::required(
            format!("{path}.target.averageValue"),
            "must set either a target value for metric or a per-pod target",
        )),
        (true, true) => causes.push(FieldCause::forbidden(
            format!("{path}.target.value"),
            "may not set both a target value for metric and a per-pod target",
        )),
        _ => {}
    }
}

fn validate_pods_source(source: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    validate_identifier(source, path, causes);
    let target = target_of(source, path, causes);
    validate_target(&target, &format!("{path}.target"), causes);
    if !is_set(&target, "averageValue") {
        causes.push(FieldCause::required(
            format!("{path}.target.averageValue"),
            "must specify a positive target averageValue",
        ));
    }
}

/// `validateResourceSource` and `validateContainerResourceSource`.
fn validate_resource_source(
    source: &Value,
    path: &str,
    container: bool,
    causes: &mut Vec<FieldCause>,
) {
    let name_path = format!("{path}.name");
    if opt_str(source, "name", &name_path, causes).unwrap_or("").is_empty() {
        causes.push(FieldCause::required(name_path, "must specify a resource name"));
    }
    if container {
        let container_path = format!("{path}.container");
        match opt_str(source, "container", &container_path, causes).unwrap_or("") {
            "" => causes.push(FieldCause::required(container_path, "must specify a container")),
            name => {
                for msg in is_dns1123_label(name) {
                    causes.push(FieldCause::invalid(container_path.clone(), name, &msg));
                }
            }
        }
    }
    let target = target_of(source, path, causes);
    validate_target(&target, &format!("{path}.target"), causes);
    match (is_set(&target, "averageUtilization"), is_set(&target, "averageValue")) {
        (false, false) => causes.push(FieldCause::required(
            format!("{path}.target.averageUtilization"),
            "must set either a target raw value or a target utilization",
        )),
        (true, true) => causes.push(FieldCause::forbidden(
            format!("{path}.target.averageValue"),
            "may not set both a target raw value and a target utilization",
        )),
        _ => {}
    }
}

/// `validateMetricTarget`.
fn validate_target(target: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let type_path = format!("{path}.type");
    let kind = opt_str(target, "type", &type_path, causes).unwrap_or("");
    if kind.is_empty() {
        causes.push(FieldCause::required(type_path.clone(), "must specify a metric target type"));
    }
    if !matches!(kind, "Utilization" | "Value" | "AverageValue") {
        causes.push(FieldCause::invalid(
            type_path,
            kind,
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for key in ["value", "averageValue"] {
        let field = format!("{path}.{key}");
        if let Some(amount) = quantity(target, key, &field, causes).filter(|(n, _)| *n <= 0) {
            causes.push(invalid_rendered(field, &amount.1, "must be positive"));
        }
    }
    let utilization_path = format!("{path}.averageUtilization");
    if let Some(n) =
        opt_int(target, "averageUtilization", &utilization_path, causes).filter(|n| *n < 1)
    {
        causes.push(FieldCause::invalid(utilization_path, n, "must be greater than 0"));
    }
}

/// A quantity field: its value in nano-units and its text; malformed ones add a cause.
fn quantity(
    object: &Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<(i128, String)> {
    let text = match object.get(key)? {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a quantity"));
            return None;
        }
    };
    match parse_quantity(&text) {
        Some(n) => Some((n, text)),
        None => {
            causes.push(FieldCause::invalid(
                path,
                text.as_str(),
                "quantities must match the regular expression \
                 '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ));
            None
        }
    }
}

/// `validateMetricIdentifier` of a source's `metric`.
fn validate_identifier(source: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let metric_path = format!("{path}.metric");
    let metric = opt_object(source, "metric", &metric_path, causes);
    let metric = metric.map(|m| Value::Object(m.clone())).unwrap_or(Value::Null);
    let name_path = format!("{metric_path}.name");
    match opt_str(&metric, "name", &name_path, causes).unwrap_or("") {
        "" => causes.push(FieldCause::required(name_path, "must specify a metric name")),
        name => {
            for msg in is_valid_path_segment_name(name) {
                causes.push(FieldCause::invalid(name_path.clone(), name, &msg));
            }
        }
    }
}

/// `validateScalingRules`.
fn validate_rules(rules: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let window_path = format!("{path}.stabilizationWindowSeconds");
    if let Some(window) = opt_int(rules, "stabilizationWindowSeconds", &window_path, causes) {
        if window < 0 {
            causes.push(FieldCause::invalid(
                window_path.clone(),
                window,
                "must be greater than or equal to zero",
            ));
        }
        if window > MAX_STABILIZATION_WINDOW_SECONDS {
            causes.push(FieldCause::invalid(
                window_path,
                window,
                &format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    let select_path = format!("{path}.selectPolicy");
    if let Some(select) = opt_str(rules, "selectPolicy", &select_path, causes)
        && !SELECT_POLICIES.contains(&select)
    {
        causes.push(FieldCause::not_supported(select_path, select, SELECT_POLICIES));
    }
    let policies_path = format!("{path}.policies");
    let policies = opt_array(rules, "policies", &policies_path, causes);
    if policies.is_empty() {
        causes
            .push(FieldCause::required(policies_path.clone(), "must specify at least one Policy"));
    }
    for (i, policy) in object_items(policies, &policies_path, causes) {
        let at = format!("{policies_path}[{i}]");
        let type_path = format!("{at}.type");
        let kind = opt_str(policy, "type", &type_path, causes).unwrap_or("");
        if !POLICY_TYPES.contains(&kind) {
            causes.push(FieldCause::not_supported(type_path, kind, POLICY_TYPES));
        }
        let value_path = format!("{at}.value");
        let value = opt_int(policy, "value", &value_path, causes).unwrap_or(0);
        if value <= 0 {
            causes.push(FieldCause::invalid(value_path, value, "must be greater than zero"));
        }
        let period_path = format!("{at}.periodSeconds");
        let period = opt_int(policy, "periodSeconds", &period_path, causes).unwrap_or(0);
        if period <= 0 {
            causes.push(FieldCause::invalid(
                period_path.clone(),
                period,
                "must be greater than zero",
            ));
        }
        if period > MAX_PERIOD_SECONDS {
            causes.push(FieldCause::invalid(
                period_path,
                period,
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
}
