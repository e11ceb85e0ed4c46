//! Round trips of the v1 ⇄ v2 conversion: lossless both ways, annotations never on v2.

use super::*;

/// A v2 object using every metric source, behavior (with the stored defaults) and status.
/// The cpu utilization metric is last: kube appends it after the others coming back from v1.
fn full_v2() -> Value {
    json!({
        "apiVersion": V2, "kind": KIND,
        "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "rps"},
                    "target": {"type": "AverageValue", "averageValue": "10"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
                    "metric": {"name": "hits", "selector": {"matchLabels": {"path": "/"}}},
                    "target": {"type": "Value", "value": "2k"}}},
                {"type": "External", "external": {"metric": {"name": "queue"},
                    "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "container": "app", "target": {"type": "Utilization", "averageUtilization": 60}}},
                {"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70}}},
            ],
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15}]},
                "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Min",
                    "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]},
            },
        },
        "status": {
            "observedGeneration": 3, "lastScaleTime": "2024-01-01T00:00:00Z",
            "currentReplicas": 4, "desiredReplicas": 5,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "300Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "7"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
                    "metric": {"name": "hits", "selector": {"matchLabels": {"path": "/"}}},
                    "current": {"value": "1500"}}},
                {"type": "External", "external": {"metric": {"name": "queue"},
                    "current": {"value": "90", "averageValue": "22500m"}}},
                {"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageValue": "120m", "averageUtilization": 40}}},
            ],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z",
                 "reason": "ReadyForNewScale", "message": "recommended size matches current size"},
                {"type": "ScalingActive", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z",
                 "reason": "ValidMetricFound", "message": "the HPA was able to compute the replica count"},
            ],
        },
    })
}

fn annotation(object: &Value, key: &str) -> Value {
    let text = object["metadata"]["annotations"][key].as_str().unwrap_or_else(|| {
        panic!("{key} missing from {}", object["metadata"]);
    });
    serde_json::from_str(text).unwrap()
}

#[test]
fn v2_to_v1_maps_cpu_and_carries_the_rest_in_annotations() {
    let v1 = to_v1(full_v2());
    assert_eq!(v1["apiVersion"], V1);
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
    assert_eq!(v1["spec"]["minReplicas"], 2);
    assert_eq!(v1["spec"]["maxReplicas"], 10);
    assert!(v1["spec"].get("metrics").is_none() && v1["spec"].get("behavior").is_none());
    assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 40);
    assert_eq!(v1["status"]["currentReplicas"], 4);
    assert_eq!(v1["status"]["desiredReplicas"], 5);
    assert_eq!(v1["status"]["observedGeneration"], 3);
    assert!(v1["status"].get("currentMetrics").is_none());
    assert_eq!(v1["metadata"]["annotations"]["team"], "a");

    let metrics = annotation(&v1, METRICS_ANNOTATION);
    assert_eq!(metrics.as_array().unwrap().len(), 5, "all but the cpu utilization metric");
    assert_eq!(
        metrics[0],
        json!({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}})
    );
    assert_eq!(
        metrics[1],
        json!({"type": "Pods", "pods": {"metricName": "rps", "targetAverageValue": "10"}})
    );
    assert_eq!(
        metrics[2],
        json!({"type": "Object", "object": {"metricName": "hits", "targetValue": "2k",
            "selector": {"matchLabels": {"path": "/"}},
            "target": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"}}})
    );
    assert_eq!(
        metrics[3],
        json!({"type": "External", "external": {"metricName": "queue", "targetAverageValue": "30"}})
    );
    assert_eq!(
        metrics[4],
        json!({"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "targetAverageUtilization": 60}})
    );
    let current = annotation(&v1, CURRENT_METRICS_ANNOTATION);
    assert_eq!(current.as_array().unwrap().len(), 5, "every current metric, cpu too");
    assert_eq!(
        current[4],
        json!({"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 40, "currentAverageValue": "120m"}})
    );
    assert_eq!(annotation(&v1, CONDITIONS_ANNOTATION), full_v2()["status"]["conditions"]);
    let behavior = annotation(&v1, BEHAVIOR_ANNOTATION);
    assert_eq!(
        behavior["ScaleDown"],
        json!({"StabilizationWindowSeconds": 300, "SelectPolicy": "Min", "Tolerance": null,
               "Policies": [{"Type": "Percent", "Value": 50, "PeriodSeconds": 60}]})
    );
    assert_eq!(
        behavior["ScaleUp"]["Policies"][0],
        json!({"Type": "Pods", "Value": 4, "PeriodSeconds": 15})
    );
}

#[test]
fn v2_v1_v2_round_trip_is_lossless() {
    let back = from_v1(to_v1(full_v2())).unwrap();
    assert_eq!(back, full_v2());
    assert!(back["metadata"]["annotations"].as_object().unwrap().keys().all(|k| k == "team"));
}

#[test]
fn v1_v2_v1_round_trip_is_lossless() {
    let v1 = to_v1(full_v2());
    assert_eq!(to_v1(from_v1(v1.clone()).unwrap()), v1);

    let plain = json!({"apiVersion": V1, "kind": KIND,
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1,
                 "maxReplicas": 5, "targetCPUUtilizationPercentage": 50},
        "status": {"currentReplicas": 0, "desiredReplicas": 0}});
    let v2 = from_v1(plain.clone()).unwrap();
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 50}}}])
    );
    assert!(v2["metadata"].get("annotations").is_none());
    assert_eq!(v2["status"], json!({"desiredReplicas": 0}));
    assert_eq!(to_v1(v2), plain, "no annotation appears for a cpu-only object");
}

#[test]
fn v1_without_a_target_gets_the_implicit_80_percent() {
    let v2 = from_v1(
        json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "w"}, "maxReplicas": 3}}),
    )
    .unwrap();
    assert_eq!(v2["spec"]["metrics"], json!([default_cpu_metric()]));
    assert!(v2.get("status").is_none());
    // Other metrics from the annotation: no implicit cpu metric then.
    let memory =
        json!([{"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "1Gi"}}]);
    let v2 = from_v1(json!({"metadata": {"annotations": {METRICS_ANNOTATION: memory.to_string()}},
        "spec": {"maxReplicas": 3}}))
    .unwrap();
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "AverageValue", "averageValue": "1Gi"}}}])
    );
    assert!(v2["metadata"].get("annotations").is_none());
}

#[test]
fn the_cpu_metric_moves_last_as_kube_appends_it() {
    let mut first = full_v2();
    let metrics = first["spec"]["metrics"].as_array_mut().unwrap();
    let cpu = metrics.pop().unwrap();
    metrics.insert(0, cpu);
    assert_eq!(from_v1(to_v1(first)).unwrap()["spec"]["metrics"], full_v2()["spec"]["metrics"]);
}

#[test]
fn the_first_cpu_utilization_metric_is_v1s_target() {
    // kube #101370: a cpu AverageValue metric before the utilization one does not hide it.
    let v2 = json!({"spec": {"metrics": [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "300m"}}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}});
    let v1 = to_v1(v2);
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
    assert_eq!(annotation(&v1, METRICS_ANNOTATION).as_array().unwrap().len(), 1);
}

#[test]
fn annotations_never_reach_v2() {
    let mut stale = full_v2();
    stale["metadata"]["annotations"][METRICS_ANNOTATION] = json!("[]");
    stale["metadata"]["annotations"][BEHAVIOR_ANNOTATION] = json!("{}");
    let stored = V2Conversion.to_storage_version(stale.clone()).now().unwrap().unwrap();
    assert_eq!(stored["metadata"]["annotations"], json!({"team": "a"}));
    let served = V2Conversion.to_served_version(stale).now().unwrap().unwrap();
    assert_eq!(served["metadata"]["annotations"], json!({"team": "a"}));
    let only = json!({"metadata": {"annotations": {CONDITIONS_ANNOTATION: "[]"}}});
    let stored = V2Conversion.to_storage_version(only).now().unwrap().unwrap();
    assert!(stored["metadata"].get("annotations").is_none());
    // A v1 object read, changed and written back: its annotations become fields again.
    let stored = V1Conversion.to_storage_version(to_v1(full_v2())).now().unwrap().unwrap();
    assert_eq!(stored["metadata"]["annotations"], json!({"team": "a"}));
}

#[test]
fn malformed_annotations_are_ignored() {
    for garbage in ["", "abc", "[]", "{}", "[1]", "{\"ScaleUp\": {\"Policies\": 3}}"] {
        let mut annotations = Map::new();
        for key in ROUND_TRIP_ANNOTATIONS {
            annotations.insert(key.to_owned(), garbage.into());
        }
        let v1 = json!({"metadata": {"annotations": annotations},
            "spec": {"maxReplicas": 2, "targetCPUUtilizationPercentage": 30},
            "status": {"currentCPUUtilizationPercentage": 20}});
        let v2 = from_v1(v1).unwrap();
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 30,
            "{garbage}"
        );
        assert!(v2["spec"].get("behavior").is_none(), "{garbage}");
        assert!(v2["metadata"].get("annotations").is_none(), "{garbage}");
    }
    let v1 = json!({"spec": {"targetCPUUtilizationPercentage": "high"}});
    assert_eq!(from_v1(v1).unwrap_err().reason.as_str(), "BadRequest");
    assert!(from_v1(json!([])).is_err());
}

#[test]
fn behavior_annotation_reads_go_names_case_insensitively() {
    let text = r#"{"scaleup": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 30}],
        "Tolerance": "0.05"}, "ScaleDown": null}"#;
    let v2 = from_v1(json!({"metadata": {"annotations": {BEHAVIOR_ANNOTATION: text}}, "spec": {}}))
        .unwrap();
    assert_eq!(
        v2["spec"]["behavior"],
        json!({"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 30}], "tolerance": "0.05"}})
    );
}

#[test]
fn object_average_value_round_trips_without_a_zero_value() {
    let v2 = json!({"spec": {"metrics": [{"type": "Object", "object": {
        "describedObject": {"kind": "Service", "name": "s"}, "metric": {"name": "m"},
        "target": {"type": "AverageValue", "averageValue": "5"}}}]}});
    let v1 = to_v1(v2.clone());
    assert_eq!(annotation(&v1, METRICS_ANNOTATION)[0]["object"]["targetValue"], "0");
    let back = from_v1(v1).unwrap();
    assert_eq!(back["spec"]["metrics"], v2["spec"]["metrics"]);
}
