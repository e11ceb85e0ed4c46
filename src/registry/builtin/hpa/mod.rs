//! HorizontalPodAutoscalers (`pkg/registry/autoscaling/horizontalpodautoscaler`), served as
//! `autoscaling/v2` and `autoscaling/v1` over one store: objects are stored as `autoscaling/v2`
//! (kube-apiserver's storage version) under `/horizontalpodautoscalers`, and v1 requests are
//! converted at the edge ([`convert`]), with kube's round-trip annotations carrying what v1
//! cannot say.
//!
//! Defaulting is v2's `SetDefaults_HorizontalPodAutoscaler`: `minReplicas` 1, a cpu metric at
//! 80 % utilization when none is named, and — only when `behavior` is given — every unset
//! scaling rule field filled (scale up: no stabilization window, `Max` of 4 pods or 100 % per
//! 15 s; scale down: `Max` of 100 % per 15 s, the window left to the controller's flag). The
//! alpha `tolerance` fields are dropped unless the stored object already has them (the
//! HPAConfigurableTolerance gate is off by default). `/status` writes only status; nothing
//! computes it here.

pub mod convert;
mod validation;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Kind, age_column, child_object, column, default_value, name_column};
use crate::meta::validation::FieldCause;
use crate::registry::resource::{GroupVersion, Resource};
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};
use convert::{V1Conversion, V2Conversion, default_cpu_metric, from_v1};

const V2: Kind = Kind {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    short_names: &["hpa"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/horizontalpodautoscalers",
};

const V1: Kind = Kind { version: "v1", ..V2 };

/// `autoscaling/v2` HorizontalPodAutoscalers, the storage version.
pub fn resource() -> Resource {
    Resource {
        status_subresource: true,
        conversion: Arc::new(V2Conversion),
        ..V2.resource(Arc::new(HpaStrategy::V2), table(false))
    }
}

/// `autoscaling/v1` HorizontalPodAutoscalers, stored as `autoscaling/v2`.
pub fn v1_resource() -> Resource {
    Resource {
        status_subresource: true,
        storage_gv: GroupVersion::new(V2.group, V2.version),
        conversion: Arc::new(V1Conversion),
        ..V1.resource(Arc::new(HpaStrategy::V1), table(true))
    }
}

/// HorizontalPodAutoscaler rules, on the stored `autoscaling/v2` shape; the variant is the
/// served version, whose defaults a request body gets ([`Strategy::set_defaults`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpaStrategy {
    V2,
    V1,
}

/// v2's `SetDefaults_HorizontalPodAutoscaler`.
fn default_hpa(hpa: &mut Value) {
    let Some(map) = hpa.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    default_value(spec, "minReplicas", json!(1));
    let no_metrics = match spec.get("metrics") {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    };
    if no_metrics {
        spec.insert("metrics".into(), json!([default_cpu_metric()]));
    }
    let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) else { return };
    let scale_up = json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15}]});
    let scale_down = json!({"selectPolicy": "Max", "policies": [
        {"type": "Percent", "value": 100, "periodSeconds": 15}]});
    for (key, defaults) in [("scaleUp", scale_up), ("scaleDown", scale_down)] {
        let Some(rules) = child_object(behavior, key) else { continue };
        if let Value::Object(defaults) = defaults {
            for (field, value) in defaults {
                default_value(rules, &field, value);
            }
        }
    }
}

/// Whether any scaling rule of the object sets the alpha `tolerance`.
fn uses_tolerance(hpa: &Value) -> bool {
    ["scaleUp", "scaleDown"].iter().any(|key| {
        hpa.pointer(&format!("/spec/behavior/{key}/tolerance")).is_some_and(|t| !t.is_null())
    })
}

/// kube's `dropDisabledFields` with the HPAConfigurableTolerance gate off.
fn drop_tolerance(hpa: &mut Value) {
    for key in ["scaleUp", "scaleDown"] {
        if let Some(rules) =
            hpa.pointer_mut(&format!("/spec/behavior/{key}")).and_then(Value::as_object_mut)
        {
            rules.shift_remove("tolerance");
        }
    }
}

/// v1's `SetDefaults_HorizontalPodAutoscaler`: one replica at least.
fn default_v1(hpa: &mut Value) {
    let Some(map) = hpa.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    default_value(spec, "minReplicas", json!(1));
}

impl HpaStrategy {
    /// A write through `autoscaling/v1` reaches the store in v2 with only v1's defaults: v2's
    /// are applied to what is stored, as they always were.
    fn default_stored(self, hpa: &mut Value) {
        if self == HpaStrategy::V1 {
            default_hpa(hpa);
        }
    }
}

impl Strategy for HpaStrategy {
    fn set_defaults(&self, hpa: &mut Value) {
        match self {
            HpaStrategy::V2 => default_hpa(hpa),
            HpaStrategy::V1 => default_v1(hpa),
        }
    }

    fn prepare_for_create(&self, hpa: &mut Value) {
        drop_tolerance(hpa);
        self.default_stored(hpa);
        if let Some(map) = hpa.as_object_mut() {
            map.insert("status".into(), json!({"desiredReplicas": 0}));
        }
    }

    fn prepare_for_update(&self, hpa: &mut Value, old: &Value) {
        if !uses_tolerance(old) {
            drop_tolerance(hpa);
        }
        self.default_stored(hpa);
    }

    fn validate(&self, hpa: &Value) -> Vec<FieldCause> {
        validation::validate_spec(hpa, 1)
    }

    fn validate_update(&self, hpa: &Value, old: &Value) -> Vec<FieldCause> {
        let floor =
            if old.pointer("/spec/minReplicas").and_then(Value::as_i64) == Some(0) { 0 } else { 1 };
        let mut causes = validation::validate_spec(hpa, floor);
        causes.extend(validation::validate_status(hpa));
        causes
    }
}

// ---------------------------------------------------------------------------------------------
// Printing (kube's `printHorizontalPodAutoscaler` and `formatHPAMetrics`, on the v2 shape).

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A quantity as kube prints it: as written, `<nil>` for an unset pointer (Go's `String()` of
/// a nil `*Quantity`).
fn quantity_text(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "<nil>".to_owned(),
    }
}

/// The `i`-th current metric's source of kind `key`, if it is one.
fn status_source<'a>(statuses: &'a [Value], i: usize, key: &str) -> Option<&'a Value> {
    statuses.get(i).and_then(|s| s.get(key)).filter(|s| s.is_object())
}

/// One metric as `current/target` (`cpu: 40%/80%`, `5/10 (avg)`).
fn format_metric(spec: &Value, statuses: &[Value], i: usize) -> String {
    let unknown = || "<unknown>".to_owned();
    match text(spec, "/type") {
        "External" | "Object" => {
            let key = if text(spec, "/type") == "External" { "external" } else { "object" };
            let source = spec.get(key).unwrap_or(&Value::Null);
            let current = status_source(statuses, i, key);
            if source.pointer("/target/averageValue").is_some_and(|v| !v.is_null()) {
                let now = current
                    .filter(|c| c.pointer("/current/averageValue").is_some_and(|v| !v.is_null()))
                    .map_or_else(unknown, |c| quantity_text(c, "/current/averageValue"));
                format!("{now}/{} (avg)", quantity_text(source, "/target/averageValue"))
            } else {
                let now = current.map_or_else(unknown, |c| quantity_text(c, "/current/value"));
                format!("{now}/{}", quantity_text(source, "/target/value"))
            }
        }
        "Pods" => {
            let now = status_source(statuses, i, "pods")
                .map_or_else(unknown, |c| quantity_text(c, "/current/averageValue"));
            format!("{now}/{}", quantity_text(spec, "/pods/target/averageValue"))
        }
        kind @ ("Resource" | "ContainerResource") => {
            let key = if kind == "Resource" { "resource" } else { "containerResource" };
            let source = spec.get(key).unwrap_or(&Value::Null);
            let name = text(source, "/name");
            let current = status_source(statuses, i, key);
            if source.pointer("/target/averageValue").is_some_and(|v| !v.is_null()) {
                let now =
                    current.map_or_else(unknown, |c| quantity_text(c, "/current/averageValue"));
                format!("{name}: {now}/{}", quantity_text(source, "/target/averageValue"))
            } else {
                let now = current
                    .and_then(|c| c.pointer("/current/averageUtilization"))
                    .and_then(Value::as_i64)
                    .map_or_else(unknown, |u| format!("{u}%"));
                let target = source
                    .pointer("/target/averageUtilization")
                    .and_then(Value::as_i64)
                    .map_or_else(|| "<auto>".to_owned(), |u| format!("{u}%"));
                format!("{name}: {now}/{target}")
            }
        }
        _ => "<unknown type>".to_owned(),
    }
}

/// kube's `formatHPAMetrics`: the first two metrics, then `+ N more...`.
fn targets(hpa: &Value) -> Value {
    let specs = super::array_at(hpa, "/spec/metrics");
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = super::array_at(hpa, "/status/currentMetrics");
    let shown: Vec<String> =
        specs.iter().take(2).enumerate().map(|(i, s)| format_metric(s, statuses, i)).collect();
    let text = shown.join(", ");
    if specs.len() > 2 {
        format!("{text} + {} more...", specs.len() - 2).into()
    } else {
        text.into()
    }
}

fn reference(hpa: &Value) -> Value {
    format!("{}/{}", text(hpa, "/spec/scaleTargetRef/kind"), text(hpa, "/spec/scaleTargetRef/name"))
        .into()
}

fn min_pods(hpa: &Value) -> Value {
    match hpa.pointer("/spec/minReplicas").and_then(Value::as_i64) {
        Some(n) => n.to_string().into(),
        None => "<unset>".into(),
    }
}

fn max_pods(hpa: &Value) -> Value {
    hpa.pointer("/spec/maxReplicas").and_then(Value::as_i64).unwrap_or(0).into()
}

fn replicas(hpa: &Value) -> Value {
    hpa.pointer("/status/currentReplicas").and_then(Value::as_i64).unwrap_or(0).into()
}

/// The v1 cells: the same functions, on the object converted to v2.
fn on_v2(hpa: &Value, cell: fn(&Value) -> Value) -> Value {
    match from_v1(hpa.clone()) {
        Ok(v2) => cell(&v2),
        Err(_) => cell(&Value::Object(Map::new())),
    }
}

fn v1_reference(hpa: &Value) -> Value {
    on_v2(hpa, reference)
}

fn v1_targets(hpa: &Value) -> Value {
    on_v2(hpa, targets)
}

fn v1_min_pods(hpa: &Value) -> Value {
    on_v2(hpa, min_pods)
}

fn v1_max_pods(hpa: &Value) -> Value {
    on_v2(hpa, max_pods)
}

fn v1_replicas(hpa: &Value) -> Value {
    on_v2(hpa, replicas)
}

/// The columns, computed on the v2 shape (`v1` objects are converted first).
fn table(v1: bool) -> TableSpec {
    type CellFn = fn(&Value) -> Value;
    let cells: [CellFn; 5] = if v1 {
        [v1_reference, v1_targets, v1_min_pods, v1_max_pods, v1_replicas]
    } else {
        [reference, targets, min_pods, max_pods, replicas]
    };
    let [reference, targets, min_pods, max_pods, replicas] = cells;
    // kube prints both versions with one printer, described by the v2 fields.
    let described = |name: &str, pointer: &str, cell: fn(&Value) -> Value| {
        column(name, "string", 0, &V2.doc(pointer), Cell::Computed(cell))
    };
    TableSpec {
        columns: vec![
            name_column(),
            described("Reference", "/spec/scaleTargetRef", reference),
            described("Targets", "/spec/metrics", targets),
            described("MinPods", "/spec/minReplicas", min_pods),
            described("MaxPods", "/spec/maxReplicas", max_pods),
            described("Replicas", "/status/currentReplicas", replicas),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests;
