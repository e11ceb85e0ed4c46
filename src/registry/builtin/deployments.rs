//! `apps/v1` Deployments (`pkg/registry/apps/deployment`): kube's deployment defaults (one
//! replica, 25%/25% rolling updates, 10 revisions, 600 s progress deadline) and pod-template
//! defaults, a selector that must match the template and never changes, and the `scale`
//! subresource over `.spec.replicas`. Nothing rolls pods out: `status` is what clients write.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::columns::count as count_cell;
use super::podspec::{default_pod_spec, validate_pod_template};
use super::workloads::{TEMPLATE_CONTAINERS, container_columns, ready_column};
use super::{
    Kind, age_column, array_at, child_object, default_string, default_value, go_string_map,
    invalid_rendered, name_column, opt_int, opt_object, opt_str, str_at, validate_nonnegative,
};
use crate::meta::labels::{LabelSelector, validate_label_selector};
use crate::meta::validation::{FieldCause, go_quote};
use crate::registry::resource::{Resource, ScaleSubresource};
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    short_names: &["deploy"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/deployments",
};

const STRATEGY_TYPES: &[&str] = &["Recreate", "RollingUpdate"];

pub fn resource() -> Resource {
    Resource {
        status_subresource: true,
        scale_subresource: Some(ScaleSubresource::workload()),
        ..KIND.resource(Arc::new(DeploymentStrategy), table())
    }
}

/// Deployment rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeploymentStrategy;

/// kube's `SetDefaults_Deployment` and the pod-template defaults.
fn default_deployment(deployment: &mut Value) {
    let Some(map) = deployment.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    default_value(spec, "replicas", json!(1));
    if let Some(strategy) = child_object(spec, "strategy") {
        default_string(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(rolling) = child_object(strategy, "rollingUpdate")
        {
            default_value(rolling, "maxUnavailable", json!("25%"));
            default_value(rolling, "maxSurge", json!("25%"));
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    default_value(spec, "progressDeadlineSeconds", json!(600));
    let template_spec = spec
        .get_mut("template")
        .and_then(Value::as_object_mut)
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut);
    if let Some(pod_spec) = template_spec {
        default_pod_spec(pod_spec);
    }
}

impl Strategy for DeploymentStrategy {
    fn set_defaults(&self, deployment: &mut Value) {
        default_deployment(deployment);
    }

    fn prepare_for_create(&self, deployment: &mut Value) {
        if let Some(map) = deployment.as_object_mut() {
            map.insert("status".into(), json!({}));
        }
    }

    fn validate(&self, deployment: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if opt_object(deployment, "spec", "spec", &mut causes).is_none() {
            if deployment.get("spec").is_none_or(Value::is_null) {
                causes.push(FieldCause::required("spec.selector", ""));
            }
            return causes;
        }
        validate_spec(&deployment["spec"], &mut causes);
        causes
    }

    fn validate_update(&self, deployment: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(deployment);
        let new_selector = deployment.pointer("/spec/selector");
        if normalized_selector(new_selector) != normalized_selector(old.pointer("/spec/selector")) {
            causes.push(invalid_rendered(
                "spec.selector",
                &go_label_selector(new_selector),
                "field is immutable",
            ));
        }
        causes
    }
}

fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    let replicas = opt_int(spec, "replicas", "spec.replicas", causes);
    validate_nonnegative(replicas, "spec.replicas", causes);

    let selector_value = spec.get("selector").filter(|s| !s.is_null());
    match selector_value {
        None => causes.push(FieldCause::required("spec.selector", "")),
        Some(selector) => {
            causes.extend(validate_label_selector(selector, "spec.selector"));
            let labels = selector.get("matchLabels").and_then(Value::as_object).map_or(0, Map::len);
            let expressions = array_at(selector, "/matchExpressions").len();
            if selector.is_object() && labels + expressions == 0 {
                causes.push(invalid_rendered(
                    "spec.selector",
                    &go_label_selector(Some(selector)),
                    "empty selector is invalid for deployment",
                ));
            }
        }
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    match LabelSelector::from_structured(selector_value.unwrap_or(&Value::Null)) {
        Err(_) => causes.push(invalid_rendered(
            "spec.selector",
            &go_label_selector(selector_value),
            "invalid label selector",
        )),
        Ok(selector) => {
            if !selector.is_everything() && !selector.is_nothing() {
                let labels = template.pointer("/metadata/labels");
                let empty = Map::new();
                let label_map = labels.and_then(Value::as_object).unwrap_or(&empty);
                if !selector.matches(label_map) {
                    causes.push(invalid_rendered(
                        "spec.template.metadata.labels",
                        &go_string_map(labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            causes.extend(validate_pod_template(template, "spec.template"));
            let policy = str_at(template, "/spec/restartPolicy");
            if template.get("spec").is_some_and(Value::is_object) && policy != "Always" {
                causes.push(FieldCause::not_supported(
                    "spec.template.spec.restartPolicy",
                    policy,
                    &["Always"],
                ));
            }
            if template.pointer("/spec/activeDeadlineSeconds").is_some_and(|v| !v.is_null()) {
                causes.push(FieldCause::forbidden(
                    "spec.template.spec.activeDeadlineSeconds",
                    "activeDeadlineSeconds in ReplicaSet is not Supported",
                ));
            }
        }
    }

    validate_strategy(spec, causes);
    let min_ready = opt_int(spec, "minReadySeconds", "spec.minReadySeconds", causes);
    validate_nonnegative(min_ready, "spec.minReadySeconds", causes);
    let history = opt_int(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", causes);
    validate_nonnegative(history, "spec.revisionHistoryLimit", causes);
    let deadline_path = "spec.progressDeadlineSeconds";
    if let Some(deadline) = opt_int(spec, "progressDeadlineSeconds", deadline_path, causes) {
        validate_nonnegative(Some(deadline), deadline_path, causes);
        if deadline <= min_ready.unwrap_or(0) {
            causes.push(FieldCause::invalid(
                deadline_path,
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
}

fn validate_strategy(spec: &Value, causes: &mut Vec<FieldCause>) {
    let Some(strategy) = opt_object(spec, "strategy", "spec.strategy", causes) else { return };
    let strategy = Value::Object(strategy.clone());
    let kind = opt_str(&strategy, "type", "spec.strategy.type", causes).unwrap_or("");
    let rolling = strategy.get("rollingUpdate").filter(|r| !r.is_null());
    match kind {
        "Recreate" => {
            if rolling.is_some() {
                causes.push(FieldCause::forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match rolling {
            None => causes.push(FieldCause::required(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            )),
            Some(rolling) => validate_rolling_update(rolling, causes),
        },
        _ => causes.push(FieldCause::not_supported(
            "spec.strategy",
            strategy.clone(),
            STRATEGY_TYPES,
        )),
    }
}

/// An `IntOrString` of a rolling update: its number (a percentage's too), or `None` when it
/// is malformed (a cause is added).
pub(crate) fn int_or_percent(
    value: Option<&Value>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<(i64, bool)> {
    match value {
        None | Some(Value::Null) => Some((0, false)),
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            validate_nonnegative(Some(n), path, causes);
            Some((n, false))
        }
        Some(Value::String(text)) => {
            let digits = text
                .strip_suffix('%')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            match digits {
                Some(d) => Some((d.parse().unwrap_or(i64::MAX), true)),
                None => {
                    causes.push(invalid_rendered(
                        path,
                        text,
                        "a valid percent string must be a numeric string followed by an ending \
                         '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    ));
                    None
                }
            }
        }
        Some(other) => {
            causes.push(FieldCause::type_invalid(
                path,
                other.clone(),
                "must be an integer or percentage",
            ));
            None
        }
    }
}

fn validate_rolling_update(rolling: &Value, causes: &mut Vec<FieldCause>) {
    let unavailable_path = "spec.strategy.rollingUpdate.maxUnavailable";
    let surge_path = "spec.strategy.rollingUpdate.maxSurge";
    let unavailable = int_or_percent(rolling.get("maxUnavailable"), unavailable_path, causes);
    let surge = int_or_percent(rolling.get("maxSurge"), surge_path, causes);
    let rendered = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "0".to_owned(),
    };
    if unavailable.map(|u| u.0) == Some(0) && surge.map(|s| s.0) == Some(0) {
        causes.push(invalid_rendered(
            unavailable_path,
            &rendered(rolling.get("maxUnavailable")),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if let Some((value, true)) = unavailable
        && value > 100
    {
        causes.push(invalid_rendered(
            unavailable_path,
            &rendered(rolling.get("maxUnavailable")),
            "must not be greater than 100%",
        ));
    }
}

/// A structured selector with `null`/empty parts dropped, for equality as kube's semantic
/// comparison sees it.
fn normalized_selector(selector: Option<&Value>) -> Value {
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

/// Go's `%#v` of a `metav1.LabelSelector`, as kube prints a selector in validation messages.
pub(crate) fn go_label_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector.filter(|s| s.is_object()) else {
        return "(*v1.LabelSelector)(nil)".to_owned();
    };
    let expressions = match selector.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_owned(),
        Some(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|e| {
                    let values = match e.get("values").and_then(Value::as_array) {
                        None => "[]string(nil)".to_owned(),
                        Some(values) => {
                            let quoted: Vec<String> =
                                values.iter().map(|v| go_quote(v.as_str().unwrap_or(""))).collect();
                            format!("[]string{{{}}}", quoted.join(", "))
                        }
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{values}}}",
                        go_quote(str_at(e, "/key")),
                        go_quote(str_at(e, "/operator"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{expressions}}}",
        go_string_map(selector.get("matchLabels"))
    )
}

/// kube's `layoutContainerCells`: names and images, comma-separated.
fn table() -> TableSpec {
    let [containers, images] = container_columns(1, TEMPLATE_CONTAINERS);
    TableSpec {
        columns: vec![
            name_column(),
            ready_column(),
            KIND.field_column("Up-to-date", "string", 0, "/status/updatedReplicas", count_cell),
            KIND.field_column("Available", "string", 0, "/status/availableReplicas", count_cell),
            age_column(),
            containers,
            images,
            // kube prints the parsed selector's `String()` here (empty when it selects
            // everything), not `FormatLabelSelector` as the other workloads do.
            KIND.field_column("Selector", "string", 1, "/spec/selector", |selector| {
                match LabelSelector::from_structured(selector.unwrap_or(&Value::Null)) {
                    Ok(selector) => selector.to_string().into(),
                    Err(_) => "<invalid>".into(),
                }
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn nginx() -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
    }

    fn created(mut d: Value) -> Value {
        DeploymentStrategy.decoded_create(&mut d);
        d
    }

    #[test]
    fn defaults() {
        let d = created(nginx());
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert!(pod.get("enableServiceLinks").is_none());
        assert_eq!(d["status"], json!({}));
        assert!(
            DeploymentStrategy.validate(&d).is_empty(),
            "{:?}",
            DeploymentStrategy.validate(&d)
        );
        let recreate = created(json!({"spec": {"strategy": {"type": "Recreate"}}}));
        assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn selector_must_match_the_template() {
        let mut d = nginx();
        d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other", "tier": "fe"});
        let d = created(d);
        assert_eq!(
            text(&DeploymentStrategy.validate(&d)),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\", \
              \"tier\":\"fe\"}: `selector` does not match template `labels`"]
        );
        let mut d = nginx();
        d["spec"]["selector"] = Value::Null;
        assert_eq!(
            text(&DeploymentStrategy.validate(&created(d))),
            ["spec.selector: Required value"]
        );
        let mut d = nginx();
        d["spec"]["selector"] = json!({});
        assert_eq!(
            text(&DeploymentStrategy.validate(&created(d))),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), \
              MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for \
              deployment"]
        );
    }

    #[test]
    fn replicas_restart_policy_and_strategy() {
        let mut d = nginx();
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        d["spec"]["strategy"] = json!({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}});
        d["spec"]["progressDeadlineSeconds"] = json!(5);
        d["spec"]["minReadySeconds"] = json!(10);
        assert_eq!(
            text(&DeploymentStrategy.validate(&created(d))),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \
                 \"Always\"",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when \
                 `maxSurge` is 0",
                "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than \
                 minReadySeconds",
            ]
        );
        let mut d = nginx();
        d["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": {}});
        assert_eq!(
            text(&DeploymentStrategy.validate(&created(d))),
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is \
              'Recreate'"
            ]
        );
        let mut d = nginx();
        d["spec"]["strategy"] =
            json!({"rollingUpdate": {"maxUnavailable": "150%", "maxSurge": "x"}});
        assert_eq!(
            text(&DeploymentStrategy.validate(&created(d))),
            [
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: x: a valid percent string \
                 must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex \
                 used for validation is '[0-9]+%')",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be \
                 greater than 100%",
            ]
        );
    }

    #[test]
    fn the_selector_is_immutable() {
        let old = created(nginx());
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        new["spec"]["selector"]["matchExpressions"] = json!([]);
        DeploymentStrategy.decoded_update(&mut new, &old);
        assert!(DeploymentStrategy.validate_update(&new, &old).is_empty());
        new["spec"]["selector"] = json!({"matchLabels": {"app": "web", "v": "2"}});
        new["spec"]["template"]["metadata"]["labels"]["v"] = json!("2");
        assert_eq!(
            text(&DeploymentStrategy.validate_update(&new, &old)),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\
              \"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: \
              field is immutable"]
        );
        let with_expressions =
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]});
        assert_eq!(
            go_label_selector(Some(&with_expressions)),
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:\
             []v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"tier\", \
             Operator:\"In\", Values:[]string{\"a\"}}}}"
        );
    }

    #[test]
    fn table_cells_and_scale() {
        let mut d = created(nginx());
        d["spec"]["replicas"] = json!(3);
        d["status"] = json!({"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2});
        let table = render_table(&table(), &[d], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web", "2/3", 3, 2, "<unknown>", "nginx", "nginx:1.25", "app=web"])
        );
        let r = resource();
        let scale = r.scale_subresource.unwrap();
        assert_eq!(scale.spec_replicas_path, ".spec.replicas");
        assert_eq!(scale.label_selector_path.as_deref(), Some(".spec.selector"));
        assert_eq!(r.short_names, ["deploy"]);
        assert_eq!(r.categories, ["all"]);
    }
}
