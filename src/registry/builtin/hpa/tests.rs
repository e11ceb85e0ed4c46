use super::*;
use crate::registry::builtin::cause_texts as text;
use crate::registry::strategy::DecodedWrite as _;
use crate::registry::table::render_table;

fn created(mut hpa: Value) -> Value {
    HpaStrategy::V2.decoded_create(&mut hpa);
    hpa
}

fn minimal() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "maxReplicas": 5}})
}

#[test]
fn defaults() {
    let hpa = created(minimal());
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(hpa["spec"]["metrics"], json!([default_cpu_metric()]));
    assert!(hpa["spec"].get("behavior").is_none(), "behavior is defaulted only when given");
    assert_eq!(hpa["status"], json!({"desiredReplicas": 0}));
    assert!(HpaStrategy::V2.validate(&hpa).is_empty(), "{:?}", HpaStrategy::V2.validate(&hpa));

    let mut with_behavior = minimal();
    with_behavior["spec"]["behavior"] =
        json!({"scaleDown": {"stabilizationWindowSeconds": 60, "tolerance": "0.1"}});
    let hpa = created(with_behavior);
    assert_eq!(
        hpa["spec"]["behavior"],
        json!({
            "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}]},
            "scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max", "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15}]},
        }),
        "tolerance dropped (alpha gate off), the rest defaulted"
    );
    let mut kept = hpa.clone();
    kept["spec"]["behavior"]["scaleUp"]["tolerance"] = json!("0.1");
    let mut update = kept.clone();
    HpaStrategy::V2.decoded_update(&mut update, &kept);
    assert_eq!(update["spec"]["behavior"]["scaleUp"]["tolerance"], "0.1", "kept once in use");
}

#[test]
fn spec_validation() {
    let hpa = json!({"spec": {"minReplicas": 0, "maxReplicas": 0,
        "scaleTargetRef": {"kind": "", "name": "a/b"}}});
    assert_eq!(
        text(&HpaStrategy::V2.validate(&hpa)),
        [
            "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
            "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            "spec.scaleTargetRef.kind: Required value",
            "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
            "spec.metrics: Forbidden: must specify at least one Object or External metric to \
             support scaling to zero replicas",
        ]
    );
    let mut hpa = created(minimal());
    hpa["spec"]["minReplicas"] = json!(6);
    assert_eq!(
        text(&HpaStrategy::V2.validate(&hpa)),
        ["spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`"]
    );
    assert_eq!(
        text(&HpaStrategy::V2.validate(&json!({}))),
        [
            "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            "spec.scaleTargetRef.kind: Required value",
            "spec.scaleTargetRef.name: Required value",
        ]
    );
    let mut zero = created(minimal());
    zero["spec"]["minReplicas"] = json!(0);
    zero["spec"]["metrics"] = json!([{"type": "External", "external": {"metric": {"name": "q"},
        "target": {"type": "Value", "value": "1"}}}]);
    assert_eq!(HpaStrategy::V2.validate(&zero).len(), 1, "scale to zero is gated on create");
    assert!(HpaStrategy::V2.validate_update(&zero, &zero).is_empty(), "but kept once stored");
}

#[test]
fn metric_validation() {
    let mut hpa = created(minimal());
    hpa["spec"]["metrics"] = json!([
        {"type": "Resource", "pods": {"metric": {"name": "x"}, "target": {"type": "AverageValue", "averageValue": "1"}}},
        {"type": "Pods", "pods": {"metric": {"name": ""}, "target": {"type": "Bogus", "averageValue": "-1"}},
         "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}},
        {"type": "Resource", "resource": {"name": "", "target": {"type": "AverageValue"}}},
        {"type": "External", "external": {"metric": {"name": "q"},
            "target": {"type": "Value", "value": "1", "averageValue": "1"}}},
        {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s"},
            "metric": {"name": "m"}, "target": {"type": "Value"}}},
        {"type": "Foo"},
    ]);
    assert_eq!(
        text(&HpaStrategy::V2.validate(&hpa)),
        [
            "spec.metrics[0].resource: Required value: must populate information for the given \
             metric source",
            "spec.metrics[1].pods.metric.name: Required value: must specify a metric name",
            "spec.metrics[1].pods.target.type: Invalid value: \"Bogus\": must be either \
             Utilization, Value, or AverageValue",
            "spec.metrics[1].pods.target.averageValue: Invalid value: -1: must be positive",
            "spec.metrics[1].resource: Forbidden: must populate the given metric source only",
            "spec.metrics[2].resource.target.averageUtilization: Invalid value: 0: must be \
             greater than 0",
            "spec.metrics[3].resource.name: Required value: must specify a resource name",
            "spec.metrics[3].resource.target.averageUtilization: Required value: must set either \
             a target raw value or a target utilization",
            "spec.metrics[4].external.target.value: Forbidden: may not set both a target value \
             for metric and a per-pod target",
            "spec.metrics[5].object.target.averageValue: Required value: must set either a target \
             value or averageValue",
            "spec.metrics[6].type: Unsupported value: \"Foo\": supported values: \
             \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
            "spec.metrics[6].type: Unsupported value: \"Foo\": supported values: \
             \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
        ]
    );
}

#[test]
fn behavior_and_status_validation() {
    let mut hpa = created(minimal());
    hpa["spec"]["behavior"] = json!({"scaleUp": {"stabilizationWindowSeconds": 4000,
        "selectPolicy": "Sometimes", "policies": [{"type": "Nodes", "value": 0, "periodSeconds": 1801}]},
        "scaleDown": {"policies": []}});
    hpa["status"] = json!({"currentReplicas": -1, "desiredReplicas": 1});
    assert_eq!(
        text(&HpaStrategy::V2.validate_update(&hpa, &hpa)),
        [
            "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less \
             than or equal to 3600",
            "spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Sometimes\": supported \
             values: \"Disabled\", \"Max\", \"Min\"",
            "spec.behavior.scaleUp.policies[0].type: Unsupported value: \"Nodes\": supported \
             values: \"Percent\", \"Pods\"",
            "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
            "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less \
             than or equal to 1800",
            "spec.behavior.scaleDown.policies: Required value: must specify at least one Policy",
            "status.currentReplicas: Invalid value: -1: must be greater than or equal to 0",
        ]
    );
    let typed = json!({"spec": {"maxReplicas": "5", "metrics": "cpu",
        "scaleTargetRef": {"kind": "Deployment", "name": "w"}}});
    assert_eq!(
        text(&HpaStrategy::V2.validate(&typed)),
        [
            "spec.maxReplicas: Invalid value: \"5\": must be an integer",
            "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            "spec.metrics: Invalid value: \"cpu\": must be a list",
        ]
    );
}

fn row(table: &TableSpec, hpa: &Value) -> Value {
    render_table(table, std::slice::from_ref(hpa), Default::default(), Default::default())["rows"]
        [0]["cells"]
        .clone()
}

#[test]
fn table_cells() {
    let mut hpa = created(minimal());
    let spec = table(false);
    let names: Vec<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"]);
    assert_eq!(
        row(&spec, &hpa),
        json!(["web", "Deployment/web", "cpu: <unknown>/80%", "1", 5, 0, "<unknown>"])
    );
    hpa["spec"]["metrics"] = json!([
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
        {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
    ]);
    hpa["status"] = json!({"currentReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40, "averageValue": "120m"}}},
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "300Mi"}}}]});
    assert_eq!(
        row(&spec, &hpa),
        json!([
            "web",
            "Deployment/web",
            "cpu: 40%/70%, memory: 300Mi/500Mi + 1 more...",
            "1",
            5,
            3,
            "<unknown>"
        ])
    );
    hpa["spec"]["metrics"] = json!([
        {"type": "Object", "object": {"target": {"type": "AverageValue", "averageValue": "5"}}},
        {"type": "External", "external": {"target": {"type": "Value", "value": "7"}}}]);
    assert_eq!(row(&spec, &hpa)[2], "<unknown>/5 (avg), <unknown>/7");
    // v1 rows show the same cells, computed on the object converted to v2.
    let v1 = convert::to_v1(hpa.clone());
    assert_eq!(row(&table(true), &v1), row(&spec, &hpa));
}

#[test]
fn resources() {
    let v2 = resource();
    let v1 = v1_resource();
    assert_eq!(v2.gv.api_version(), "autoscaling/v2");
    assert_eq!(v1.gv.api_version(), "autoscaling/v1");
    for r in [&v1, &v2] {
        assert_eq!(r.storage_prefix, "/horizontalpodautoscalers");
        assert_eq!(r.storage_gv.api_version(), "autoscaling/v2");
        assert_eq!(r.short_names, ["hpa"]);
        assert_eq!(r.categories, ["all"]);
        assert!(r.namespaced && r.status_subresource);
        assert_eq!(r.singular, "horizontalpodautoscaler");
    }
}
