//! `autoscaling/v1` ⇄ `autoscaling/v2` HorizontalPodAutoscalers, the way kube-apiserver converts
//! them (`pkg/apis/autoscaling/v1/conversion.go`, `pkg/apis/autoscaling/annotations.go`).
//!
//! v1 knows one metric: `spec.targetCPUUtilizationPercentage` is the first v2 `Resource` metric
//! for `cpu` with a `Utilization` target, and `status.currentCPUUtilizationPercentage` the last
//! `cpu` entry of `status.currentMetrics` with an `averageUtilization`. Everything else v2 has
//! travels in annotations of the v1 object, as JSON strings:
//!
//! | annotation                                         | holds                                      |
//! |----------------------------------------------------|--------------------------------------------|
//! | `autoscaling.alpha.kubernetes.io/metrics`          | every other spec metric, in v1's metric shape (`targetAverageValue`, `metricName`, …) |
//! | `autoscaling.alpha.kubernetes.io/current-metrics`  | all of `status.currentMetrics`, v1 shape    |
//! | `autoscaling.alpha.kubernetes.io/conditions`       | `status.conditions`                         |
//! | `autoscaling.alpha.kubernetes.io/behavior`         | `spec.behavior`, with Go's field names (`ScaleUp`, `StabilizationWindowSeconds`): kube marshals its internal type, which has no JSON tags |
//!
//! Converting back, well-formed annotations are restored (the cpu metric goes after the others,
//! as kube appends it) and every round-trip annotation is dropped; malformed ones are ignored.
//! v2 objects never carry them. A v1 object with no metric at all gets kube's implicit
//! 80 % cpu target.
//!
//! One deliberate deviation: kube turns a v1 Object metric's non-pointer `targetValue` back
//! into a v2 `target.value` even when it is the zero value next to an `averageValue`, which makes
//! an `AverageValue` Object metric fail validation ("must be positive") after a v1 round trip.
//! Here a zero `targetValue` beside an `averageValue` stays unset, so the round trip is lossless.

use serde_json::{Map, Value, json};

use super::super::podspec::parse_quantity;
use crate::api::status::ApiError;
use crate::registry::resource::{Conversion, Converted, stamp};

pub const KIND: &str = "HorizontalPodAutoscaler";
pub const V1: &str = "autoscaling/v1";
pub const V2: &str = "autoscaling/v2";

/// `autoscaling.MetricSpecsAnnotation`.
pub const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// `autoscaling.MetricStatusesAnnotation`.
pub const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// `autoscaling.HorizontalPodAutoscalerConditionsAnnotation`.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// `autoscaling.BehaviorSpecsAnnotation`.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

/// Every annotation kube drops when an HPA enters or leaves a version (its
/// `DropRoundTripHorizontalPodAutoscalerAnnotations`; the two tolerance ones belong to
/// v2beta2's round trip).
pub const ROUND_TRIP_ANNOTATIONS: [&str; 6] = [
    METRICS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
    "autoscaling.alpha.kubernetes.io/scale-down-tolerance",
    "autoscaling.alpha.kubernetes.io/scale-up-tolerance",
];

/// `autoscaling.DefaultCPUUtilization`: the target of an HPA that names no metric.
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// The v2 metric kube adds when there is none: cpu at 80 % utilization.
pub fn default_cpu_metric() -> Value {
    cpu_metric(Value::from(DEFAULT_CPU_UTILIZATION))
}

fn cpu_metric(utilization: Value) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": utilization}}})
}

/// `autoscaling/v2` served in its storage version: only `apiVersion`/`kind` are stamped, and
/// round-trip annotations (which only v1 objects carry) are dropped both ways.
#[derive(Debug, Clone, Copy, Default)]
pub struct V2Conversion;

impl Conversion for V2Conversion {
    fn to_storage_version(&self, mut object: Value) -> Converted<'_, Value> {
        drop_round_trip_annotations(&mut object);
        Converted::Ready(Ok(stamp(object, V2, KIND)))
    }

    fn to_served_version(&self, mut object: Value) -> Converted<'_, Value> {
        drop_round_trip_annotations(&mut object);
        // Go encodes v2's `desiredReplicas` even when it is zero.
        if let Some(status) = object.get_mut("status").and_then(Value::as_object_mut) {
            status.entry("desiredReplicas").or_insert(Value::from(0));
        }
        Converted::Ready(Ok(stamp(object, V2, KIND)))
    }
}

/// `autoscaling/v1` over objects stored as `autoscaling/v2`.
#[derive(Debug, Clone, Copy, Default)]
pub struct V1Conversion;

impl Conversion for V1Conversion {
    fn to_storage_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Ready(from_v1(object))
    }

    fn to_served_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Ready(Ok(to_v1(object)))
    }
}

// ---------------------------------------------------------------------------------------------
// Small JSON helpers.

/// `value[key]` unless absent or `null`.
fn present<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// `value[key]` as an object, unless absent, `null` or another type.
fn object<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| v.is_object())
}

/// Copies `from` into `out[key]` when it is set (Go's `omitempty` pointers).
fn set(out: &mut Map<String, Value>, key: &str, from: Option<&Value>) {
    if let Some(value) = from.filter(|v| !v.is_null()) {
        out.insert(key.to_owned(), value.clone());
    }
}

/// `value[key]`, or Go's zero value of its type when unset.
fn or_zero(value: &Value, key: &str, zero: Value) -> Value {
    present(value, key).cloned().unwrap_or(zero)
}

/// A non-pointer `resource.Quantity` when unset: Go marshals it as `"0"`.
fn quantity_or_zero(value: &Value, key: &str) -> Value {
    or_zero(value, key, Value::from("0"))
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Removes the round-trip annotations from an object, returning them; an `annotations` map
/// left empty by that is removed (Go omits empty maps).
fn drop_round_trip_annotations(object: &mut Value) -> Map<String, Value> {
    let mut removed = Map::new();
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return removed;
    };
    let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) else {
        return removed;
    };
    for key in ROUND_TRIP_ANNOTATIONS {
        if let Some(value) = annotations.shift_remove(key) {
            removed.insert(key.to_owned(), value);
        }
    }
    if !removed.is_empty() && annotations.is_empty() {
        meta.shift_remove("annotations");
    }
    removed
}

/// An annotation's JSON, when it is a string holding JSON.
fn annotation_json(annotations: &Map<String, Value>, key: &str) -> Option<Value> {
    serde_json::from_str(annotations.get(key)?.as_str()?).ok()
}

/// A JSON list whose elements are all objects (what Go can unmarshal into a slice of structs).
fn object_list(value: Option<Value>) -> Option<Vec<Value>> {
    match value? {
        Value::Array(items) if items.iter().all(Value::is_object) => Some(items),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// v2 → v1.

/// Whether a v2 metric is the one v1 shows as `targetCPUUtilizationPercentage`.
fn is_cpu_utilization(metric: &Value) -> bool {
    str_of(metric, "type") == "Resource"
        && object(metric, "resource").is_some_and(|r| {
            str_of(r, "name") == "cpu"
                && r.pointer("/target/averageUtilization").is_some_and(|u| !u.is_null())
        })
}

/// A stored `autoscaling/v2` object as `autoscaling/v1`.
pub fn to_v1(mut hpa: Value) -> Value {
    if !hpa.is_object() {
        return hpa;
    }
    drop_round_trip_annotations(&mut hpa);
    let spec = hpa.get("spec").cloned().unwrap_or(Value::Null);
    let status = hpa.get("status").cloned().unwrap_or(Value::Null);
    let mut annotations: Vec<(&str, String)> = Vec::new();

    let mut v1_spec = Map::new();
    set(&mut v1_spec, "scaleTargetRef", spec.get("scaleTargetRef"));
    set(&mut v1_spec, "minReplicas", spec.get("minReplicas"));
    v1_spec.insert("maxReplicas".into(), or_zero(&spec, "maxReplicas", Value::from(0)));
    let metrics = spec.get("metrics").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    if let Some(cpu) = metrics.iter().find(|m| is_cpu_utilization(m)) {
        set(
            &mut v1_spec,
            "targetCPUUtilizationPercentage",
            cpu.pointer("/resource/target/averageUtilization"),
        );
    }
    let others: Vec<Value> =
        metrics.iter().filter(|m| !is_cpu_utilization(m)).map(metric_spec_to_v1).collect();
    if !others.is_empty() {
        annotations.push((METRICS_ANNOTATION, Value::Array(others).to_string()));
    }
    if let Some(behavior) = object(&spec, "behavior") {
        annotations.push((BEHAVIOR_ANNOTATION, behavior_to_internal(behavior).to_string()));
    }

    let mut v1_status = Map::new();
    set(&mut v1_status, "observedGeneration", status.get("observedGeneration"));
    set(&mut v1_status, "lastScaleTime", status.get("lastScaleTime"));
    v1_status.insert("currentReplicas".into(), or_zero(&status, "currentReplicas", 0.into()));
    v1_status.insert("desiredReplicas".into(), or_zero(&status, "desiredReplicas", 0.into()));
    let current =
        status.get("currentMetrics").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let cpu_now = current.iter().rev().find_map(|m| {
        let resource = object(m, "resource").filter(|_| str_of(m, "type") == "Resource")?;
        if str_of(resource, "name") != "cpu" {
            return None;
        }
        resource.pointer("/current/averageUtilization").filter(|u| !u.is_null())
    });
    set(&mut v1_status, "currentCPUUtilizationPercentage", cpu_now);
    if !current.is_empty() {
        let statuses: Vec<Value> = current.iter().map(metric_status_to_v1).collect();
        annotations.push((CURRENT_METRICS_ANNOTATION, Value::Array(statuses).to_string()));
    }
    if let Some(conditions) =
        status.get("conditions").and_then(Value::as_array).filter(|c| !c.is_empty())
    {
        annotations.push((CONDITIONS_ANNOTATION, Value::Array(conditions.clone()).to_string()));
    }

    let Some(map) = hpa.as_object_mut() else { return hpa };
    map.insert("spec".into(), Value::Object(v1_spec));
    map.insert("status".into(), Value::Object(v1_status));
    if !annotations.is_empty() {
        let meta = map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Some(meta) = meta.as_object_mut() {
            let entry = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Some(target) = entry.as_object_mut() {
                for (key, text) in annotations {
                    target.insert(key.to_owned(), Value::String(text));
                }
            }
        }
    }
    stamp(hpa, V1, KIND)
}

/// A v2 `MetricSpec` in v1's (v2beta1-like) shape.
fn metric_spec_to_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), or_zero(metric, "type", "".into()));
    for key in ["resource", "containerResource"] {
        if let Some(source) = object(metric, key) {
            let mut v1 = Map::new();
            v1.insert("name".into(), or_zero(source, "name", "".into()));
            if key == "containerResource" {
                v1.insert("container".into(), or_zero(source, "container", "".into()));
            }
            set(&mut v1, "targetAverageUtilization", source.pointer("/target/averageUtilization"));
            set(&mut v1, "targetAverageValue", source.pointer("/target/averageValue"));
            out.insert(key.into(), Value::Object(v1));
        }
    }
    if let Some(pods) = object(metric, "pods") {
        let mut v1 = identifier_to_v1(pods, "selector");
        let target = pods.get("target").unwrap_or(&Value::Null);
        v1.insert("targetAverageValue".into(), quantity_or_zero(target, "averageValue"));
        out.insert("pods".into(), Value::Object(v1));
    }
    if let Some(source) = object(metric, "object") {
        let mut v1 = identifier_to_v1(source, "selector");
        v1.insert(
            "target".into(),
            or_zero(source, "describedObject", json!({"kind": "", "name": ""})),
        );
        let target = source.get("target").unwrap_or(&Value::Null);
        v1.insert("targetValue".into(), quantity_or_zero(target, "value"));
        set(&mut v1, "averageValue", target.get("averageValue"));
        out.insert("object".into(), Value::Object(v1));
    }
    if let Some(external) = object(metric, "external") {
        let mut v1 = identifier_to_v1(external, "metricSelector");
        let target = external.get("target").unwrap_or(&Value::Null);
        set(&mut v1, "targetValue", target.get("value"));
        set(&mut v1, "targetAverageValue", target.get("averageValue"));
        out.insert("external".into(), Value::Object(v1));
    }
    Value::Object(out)
}

/// A v2 `MetricStatus` in v1's shape.
fn metric_status_to_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), or_zero(metric, "type", "".into()));
    for key in ["resource", "containerResource"] {
        if let Some(source) = object(metric, key) {
            let mut v1 = Map::new();
            v1.insert("name".into(), or_zero(source, "name", "".into()));
            if key == "containerResource" {
                v1.insert("container".into(), or_zero(source, "container", "".into()));
            }
            let current = source.get("current").unwrap_or(&Value::Null);
            set(&mut v1, "currentAverageUtilization", current.get("averageUtilization"));
            v1.insert("currentAverageValue".into(), quantity_or_zero(current, "averageValue"));
            out.insert(key.into(), Value::Object(v1));
        }
    }
    if let Some(pods) = object(metric, "pods") {
        let mut v1 = identifier_to_v1(pods, "selector");
        let current = pods.get("current").unwrap_or(&Value::Null);
        v1.insert("currentAverageValue".into(), quantity_or_zero(current, "averageValue"));
        out.insert("pods".into(), Value::Object(v1));
    }
    if let Some(source) = object(metric, "object") {
        let mut v1 = identifier_to_v1(source, "selector");
        v1.insert(
            "target".into(),
            or_zero(source, "describedObject", json!({"kind": "", "name": ""})),
        );
        let current = source.get("current").unwrap_or(&Value::Null);
        v1.insert("currentValue".into(), quantity_or_zero(current, "value"));
        set(&mut v1, "averageValue", current.get("averageValue"));
        out.insert("object".into(), Value::Object(v1));
    }
    if let Some(external) = object(metric, "external") {
        let mut v1 = identifier_to_v1(external, "metricSelector");
        let current = external.get("current").unwrap_or(&Value::Null);
        v1.insert("currentValue".into(), quantity_or_zero(current, "value"));
        set(&mut v1, "currentAverageValue", current.get("averageValue"));
        out.insert("external".into(), Value::Object(v1));
    }
    Value::Object(out)
}

/// v2's `metric: {name, selector}` as v1's `metricName` and a selector field.
fn identifier_to_v1(source: &Value, selector_key: &str) -> Map<String, Value> {
    let metric = source.get("metric").unwrap_or(&Value::Null);
    let mut v1 = Map::new();
    v1.insert("metricName".into(), or_zero(metric, "name", "".into()));
    set(&mut v1, selector_key, metric.get("selector"));
    v1
}

/// v2 behavior as kube's internal Go type marshals it: Go field names, `null` for unset
/// pointers and slices, zero for unset numbers.
fn behavior_to_internal(behavior: &Value) -> Value {
    let rules = |rules: Option<&Value>| -> Value {
        let Some(rules) = rules.filter(|r| r.is_object()) else { return Value::Null };
        let policies = match rules.get("policies").and_then(Value::as_array) {
            None => Value::Null,
            Some(items) => items
                .iter()
                .map(|p| {
                    json!({
                        "Type": or_zero(p, "type", "".into()),
                        "Value": or_zero(p, "value", 0.into()),
                        "PeriodSeconds": or_zero(p, "periodSeconds", 0.into()),
                    })
                })
                .collect(),
        };
        json!({
            "StabilizationWindowSeconds": or_zero(rules, "stabilizationWindowSeconds", Value::Null),
            "SelectPolicy": or_zero(rules, "selectPolicy", Value::Null),
            "Policies": policies,
            "Tolerance": or_zero(rules, "tolerance", Value::Null),
        })
    };
    json!({"ScaleUp": rules(behavior.get("scaleUp")), "ScaleDown": rules(behavior.get("scaleDown"))})
}

// ---------------------------------------------------------------------------------------------
// v1 → v2.

/// A v1 request body (or a v1 object) as the `autoscaling/v2` object it is stored as.
pub fn from_v1(mut hpa: Value) -> Result<Value, ApiError> {
    if !hpa.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON or YAML object"));
    }
    let carried = drop_round_trip_annotations(&mut hpa);
    let spec = hpa.get("spec").cloned().unwrap_or(Value::Null);
    let status = hpa.get("status").cloned();

    let mut v2_spec = Map::new();
    set(&mut v2_spec, "scaleTargetRef", spec.get("scaleTargetRef"));
    set(&mut v2_spec, "minReplicas", spec.get("minReplicas"));
    set(&mut v2_spec, "maxReplicas", spec.get("maxReplicas"));
    let target = match present(&spec, "targetCPUUtilizationPercentage") {
        None => None,
        Some(n) if n.is_i64() => Some(n.clone()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "json: cannot unmarshal {} into Go struct field \
                 HorizontalPodAutoscalerSpec.spec.targetCPUUtilizationPercentage of type int32",
                go_json_kind(other)
            )));
        }
    };
    let mut metrics: Vec<Value> = object_list(annotation_json(&carried, METRICS_ANNOTATION))
        .unwrap_or_default()
        .iter()
        .map(metric_spec_from_v1)
        .collect();
    if let Some(utilization) = target {
        metrics.push(cpu_metric(utilization));
    }
    if metrics.is_empty() {
        metrics.push(default_cpu_metric());
    }
    v2_spec.insert("metrics".into(), Value::Array(metrics));
    if let Some(behavior) =
        annotation_json(&carried, BEHAVIOR_ANNOTATION).as_ref().and_then(behavior_from_internal)
    {
        v2_spec.insert("behavior".into(), behavior);
    }

    let current = object_list(annotation_json(&carried, CURRENT_METRICS_ANNOTATION));
    let conditions = object_list(annotation_json(&carried, CONDITIONS_ANNOTATION));
    let v2_status = match (&status, &current, &conditions) {
        (None, None, None) => None,
        _ => {
            let status = status.unwrap_or(Value::Null);
            let mut v2 = Map::new();
            set(&mut v2, "observedGeneration", status.get("observedGeneration"));
            set(&mut v2, "lastScaleTime", status.get("lastScaleTime"));
            if present(&status, "currentReplicas").is_some_and(|n| n.as_i64() != Some(0)) {
                set(&mut v2, "currentReplicas", status.get("currentReplicas"));
            }
            v2.insert("desiredReplicas".into(), or_zero(&status, "desiredReplicas", 0.into()));
            match current {
                Some(items) if !items.is_empty() => {
                    let items = items.iter().map(metric_status_from_v1).collect();
                    v2.insert("currentMetrics".into(), Value::Array(items));
                }
                Some(_) => {}
                None => {
                    if let Some(cpu) = present(&status, "currentCPUUtilizationPercentage") {
                        v2.insert(
                            "currentMetrics".into(),
                            json!([{"type": "Resource", "resource": {"name": "cpu",
                                "current": {"averageUtilization": cpu}}}]),
                        );
                    }
                }
            }
            if let Some(items) = conditions.filter(|c| !c.is_empty()) {
                v2.insert("conditions".into(), Value::Array(items));
            }
            Some(Value::Object(v2))
        }
    };

    let Some(map) = hpa.as_object_mut() else { return Ok(hpa) };
    map.retain(|key, _| matches!(key.as_str(), "apiVersion" | "kind" | "metadata"));
    map.insert("spec".into(), Value::Object(v2_spec));
    if let Some(status) = v2_status {
        map.insert("status".into(), status);
    }
    Ok(stamp(hpa, V2, KIND))
}

/// How Go's JSON decoder names a value's type in its errors.
fn go_json_kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

/// A metric target's type as kube's v1 conversions infer it.
fn target_type(utilization: bool, value: bool) -> &'static str {
    match (utilization, value) {
        (true, _) => "Utilization",
        (false, true) => "Value",
        (false, false) => "AverageValue",
    }
}

/// A v1-shaped metric from the annotation as a v2 `MetricSpec`.
fn metric_spec_from_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), or_zero(metric, "type", "".into()));
    for key in ["resource", "containerResource"] {
        if let Some(source) = object(metric, key) {
            let utilization = present(source, "targetAverageUtilization");
            let mut target = Map::new();
            target.insert("type".into(), target_type(utilization.is_some(), false).into());
            set(&mut target, "averageUtilization", utilization);
            set(&mut target, "averageValue", source.get("targetAverageValue"));
            let mut v2 = Map::new();
            v2.insert("name".into(), or_zero(source, "name", "".into()));
            if key == "containerResource" {
                v2.insert("container".into(), or_zero(source, "container", "".into()));
            }
            v2.insert("target".into(), Value::Object(target));
            out.insert(key.into(), Value::Object(v2));
        }
    }
    if let Some(pods) = object(metric, "pods") {
        let target = json!({"type": "AverageValue",
            "averageValue": quantity_or_zero(pods, "targetAverageValue")});
        out.insert(
            "pods".into(),
            json!({"metric": identifier_from_v1(pods, "selector"), "target": target}),
        );
    }
    if let Some(source) = object(metric, "object") {
        let average = present(source, "averageValue");
        let value = quantity_or_zero(source, "targetValue");
        let value_is_zero = value.as_str().and_then(parse_quantity) == Some(0);
        let mut target = Map::new();
        target.insert("type".into(), target_type(false, average.is_none()).into());
        if !(value_is_zero && average.is_some()) {
            target.insert("value".into(), value);
        }
        set(&mut target, "averageValue", average);
        out.insert(
            "object".into(),
            json!({
                "describedObject": or_zero(source, "target", json!({"kind": "", "name": ""})),
                "metric": identifier_from_v1(source, "selector"),
                "target": target,
            }),
        );
    }
    if let Some(external) = object(metric, "external") {
        let value = present(external, "targetValue");
        let mut target = Map::new();
        target.insert("type".into(), target_type(false, value.is_some()).into());
        set(&mut target, "value", value);
        set(&mut target, "averageValue", external.get("targetAverageValue"));
        out.insert(
            "external".into(),
            json!({"metric": identifier_from_v1(external, "metricSelector"), "target": target}),
        );
    }
    Value::Object(out)
}

/// A v1-shaped metric status from the annotation as a v2 `MetricStatus`.
fn metric_status_from_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), or_zero(metric, "type", "".into()));
    for key in ["resource", "containerResource"] {
        if let Some(source) = object(metric, key) {
            let mut current = Map::new();
            current.insert("averageValue".into(), quantity_or_zero(source, "currentAverageValue"));
            set(&mut current, "averageUtilization", source.get("currentAverageUtilization"));
            let mut v2 = Map::new();
            v2.insert("name".into(), or_zero(source, "name", "".into()));
            if key == "containerResource" {
                v2.insert("container".into(), or_zero(source, "container", "".into()));
            }
            v2.insert("current".into(), Value::Object(current));
            out.insert(key.into(), Value::Object(v2));
        }
    }
    if let Some(pods) = object(metric, "pods") {
        let current = json!({"averageValue": quantity_or_zero(pods, "currentAverageValue")});
        out.insert(
            "pods".into(),
            json!({"metric": identifier_from_v1(pods, "selector"), "current": current}),
        );
    }
    if let Some(source) = object(metric, "object") {
        let mut current = Map::new();
        current.insert("value".into(), quantity_or_zero(source, "currentValue"));
        set(&mut current, "averageValue", source.get("averageValue"));
        out.insert(
            "object".into(),
            json!({
                "describedObject": or_zero(source, "target", json!({"kind": "", "name": ""})),
                "metric": identifier_from_v1(source, "selector"),
                "current": current,
            }),
        );
    }
    if let Some(external) = object(metric, "external") {
        let mut current = Map::new();
        current.insert("value".into(), quantity_or_zero(external, "currentValue"));
        set(&mut current, "averageValue", external.get("currentAverageValue"));
        out.insert(
            "external".into(),
            json!({"metric": identifier_from_v1(external, "metricSelector"), "current": current}),
        );
    }
    Value::Object(out)
}

/// v1's `metricName` and selector as v2's `metric: {name, selector}`.
fn identifier_from_v1(source: &Value, selector_key: &str) -> Value {
    let mut metric = Map::new();
    metric.insert("name".into(), or_zero(source, "metricName", "".into()));
    set(&mut metric, "selector", source.get(selector_key));
    Value::Object(metric)
}

/// `object[key]` matched as Go's decoder matches field names: exactly, else ignoring case.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .get(key)
        .or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
        .filter(|v| !v.is_null())
}

/// The behavior annotation (kube's internal type, Go field names) as a v2 `behavior`; `None`
/// when it is malformed or empty, as kube then leaves `spec.behavior` unset.
fn behavior_from_internal(value: &Value) -> Option<Value> {
    let behavior = value.as_object()?;
    let mut out = Map::new();
    for (go_name, name) in [("ScaleUp", "scaleUp"), ("ScaleDown", "scaleDown")] {
        if let Some(rules) = field(behavior, go_name) {
            out.insert(name.into(), rules_from_internal(rules)?);
        }
    }
    if out.is_empty() { None } else { Some(Value::Object(out)) }
}

fn rules_from_internal(value: &Value) -> Option<Value> {
    let rules = value.as_object()?;
    let mut out = Map::new();
    if let Some(window) = field(rules, "StabilizationWindowSeconds") {
        out.insert("stabilizationWindowSeconds".into(), Value::from(window.as_i64()?));
    }
    if let Some(select) = field(rules, "SelectPolicy") {
        out.insert("selectPolicy".into(), Value::from(select.as_str()?));
    }
    if let Some(policies) = field(rules, "Policies") {
        let mut list = Vec::new();
        for policy in policies.as_array()? {
            let policy = policy.as_object()?;
            let text = |key: &str| -> Option<Value> {
                field(policy, key).map_or(Some(Value::from("")), |v| v.as_str().map(Value::from))
            };
            let int = |key: &str| -> Option<Value> {
                field(policy, key).map_or(Some(Value::from(0)), |v| v.as_i64().map(Value::from))
            };
            list.push(json!({"type": text("Type")?, "value": int("Value")?,
                "periodSeconds": int("PeriodSeconds")?}));
        }
        out.insert("policies".into(), Value::Array(list));
    }
    if let Some(tolerance) = field(rules, "Tolerance") {
        let text = match tolerance {
            Value::String(s) if parse_quantity(s).is_some() => tolerance.clone(),
            Value::Number(_) => Value::from(tolerance.to_string()),
            _ => return None,
        };
        out.insert("tolerance".into(), text);
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests;
