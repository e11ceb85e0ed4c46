//! What an object costs against a quota, as kube's quota evaluators (`pkg/quota/v1/evaluator/
//! core` and the generic object-count evaluator) say: the usage of one object, which of a
//! quota's resources it can be charged to, and whether a quota's scopes select it. Shared by the
//! ResourceQuota admission plugin (charging one write) and the quota controller (summing a
//! namespace).

use serde_json::Value;

use crate::admission::pod_resources;
use crate::meta::quantity::{self, Quantity, ResourceList};

/// `count/<resource>` for the core group, `count/<resource>.<group>` otherwise.
pub fn count_name(group: &str, resource: &str) -> String {
    if group.is_empty() { format!("count/{resource}") } else { format!("count/{resource}.{group}") }
}

/// The core resources kube counts under their bare names too (`pods`, `services`, …).
const LEGACY_COUNTED: &[&str] = &[
    "pods",
    "services",
    "configmaps",
    "secrets",
    "resourcequotas",
    "replicationcontrollers",
    "persistentvolumeclaims",
];

/// The quota resource names `(group, resource)` objects can be charged to, given the names a
/// quota limits (`evaluator.MatchingResources`).
pub fn matching_resources(group: &str, resource: &str, names: &[String]) -> Vec<String> {
    names.iter().filter(|name| tracks(group, resource, name)).cloned().collect()
}

/// Whether objects of `(group, resource)` are charged to the quota resource `name`.
pub fn tracks(group: &str, resource: &str, name: &str) -> bool {
    if name == count_name(group, resource) {
        return true;
    }
    if !group.is_empty() {
        return false;
    }
    match resource {
        "pods" => is_pod_compute(name) || name == "pods",
        "services" => matches!(name, "services" | "services.nodeports" | "services.loadbalancers"),
        "persistentvolumeclaims" => {
            matches!(name, "persistentvolumeclaims" | "requests.storage")
                || name.ends_with(".storageclass.storage.k8s.io/requests.storage")
                || name.ends_with(".storageclass.storage.k8s.io/persistentvolumeclaims")
        }
        other => LEGACY_COUNTED.contains(&other) && name == other,
    }
}

/// The `(group, resource)` whose objects a quota limiting `name` counts: what the quota
/// controller sums and follows.
pub fn counted_resource(name: &str) -> Option<(String, String)> {
    if let Some(rest) = name.strip_prefix("count/") {
        return Some(match rest.split_once('.') {
            Some((resource, group)) => (group.to_owned(), resource.to_owned()),
            None => (String::new(), rest.to_owned()),
        });
    }
    let resource = if name == "pods" || is_pod_compute(name) {
        "pods"
    } else if tracks("", "services", name) {
        "services"
    } else if tracks("", "persistentvolumeclaims", name) {
        "persistentvolumeclaims"
    } else if LEGACY_COUNTED.contains(&name) {
        name
    } else {
        return None;
    };
    Some((String::new(), resource.to_owned()))
}

fn is_pod_compute(name: &str) -> bool {
    matches!(
        name,
        "cpu"
            | "memory"
            | "ephemeral-storage"
            | "requests.cpu"
            | "requests.memory"
            | "requests.ephemeral-storage"
            | "limits.cpu"
            | "limits.memory"
            | "limits.ephemeral-storage"
    ) || name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
        || (name.starts_with("requests.") && name.contains('/'))
}

/// The usage of one object of `(group, resource)` (`evaluator.Usage`).
pub fn usage(group: &str, resource: &str, object: &Value) -> ResourceList {
    let one = Quantity::from_units(1);
    let mut used = ResourceList::from([(count_name(group, resource), one)]);
    if !group.is_empty() {
        return used;
    }
    match resource {
        "pods" if counts_compute(object) => {
            used = quantity::add(&used, &pod_compute_usage(object));
        }
        "pods" => {}
        "services" => {
            used.insert("services".to_owned(), one);
            let kind = object.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
            let ports = object.pointer("/spec/ports").and_then(Value::as_array).map_or(0, Vec::len);
            let node_ports = match kind {
                "NodePort" => ports,
                "LoadBalancer"
                    if object.pointer("/spec/allocateLoadBalancerNodePorts")
                        != Some(&Value::Bool(false)) =>
                {
                    ports
                }
                _ => 0,
            };
            used.insert("services.nodeports".to_owned(), Quantity::from_units(node_ports as i64));
            let balancers = i64::from(kind == "LoadBalancer");
            used.insert("services.loadbalancers".to_owned(), Quantity::from_units(balancers));
        }
        "persistentvolumeclaims" => {
            used.insert("persistentvolumeclaims".to_owned(), one);
            let class = object.pointer("/spec/storageClassName").and_then(Value::as_str);
            let class = class.filter(|c| !c.is_empty());
            if let Some(class) = class {
                used.insert(
                    format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                    one,
                );
            }
            let storage =
                object.pointer("/spec/resources/requests/storage").and_then(Quantity::from_json);
            if let Some(storage) = storage {
                used.insert("requests.storage".to_owned(), storage);
                if let Some(class) = class {
                    used.insert(
                        format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                        storage,
                    );
                }
            }
        }
        other if LEGACY_COUNTED.contains(&other) => {
            used.insert(other.to_owned(), one);
        }
        _ => {}
    }
    used
}

/// Pods that reached a terminal phase no longer count against `pods` and compute quotas
/// (`count/pods` counts every stored pod).
fn counts_compute(pod: &Value) -> bool {
    !matches!(pod.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed"))
}

/// `pods: 1` and the compute resources of a pod's requests and limits
/// (`podComputeUsageHelper` over `PodRequests`/`PodLimits`).
fn pod_compute_usage(pod: &Value) -> ResourceList {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let requests = pod_resources::pod_total(spec, "requests", true);
    let limits = pod_resources::pod_total(spec, "limits", true);
    compute_usage(&requests, &limits)
}

/// `podComputeUsageHelper`: `pods` and the quota names of a request/limit list.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut used = ResourceList::from([("pods".to_owned(), Quantity::from_units(1))]);
    for name in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(name) {
            used.insert(name.to_owned(), *q);
            used.insert(format!("requests.{name}"), *q);
        }
        if let Some(q) = limits.get(name) {
            used.insert(format!("limits.{name}"), *q);
        }
    }
    for (name, q) in requests {
        if name.starts_with("hugepages-") {
            used.insert(name.clone(), *q);
            used.insert(format!("requests.{name}"), *q);
        } else if name.contains('/') && !name.contains("kubernetes.io/") {
            used.insert(format!("requests.{name}"), *q);
        }
    }
    used
}

/// The resources a quota that tracks CPU or memory requires every container to state
/// (`podEvaluator.Constraints`): `must specify limits.cpu for: a,b; requests.memory for: a`.
pub fn pod_constraints(required: &[String], pod: &Value) -> Result<(), String> {
    const VALIDATED: &[&str] =
        &["requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory"];
    let required: Vec<&String> =
        required.iter().filter(|r| VALIDATED.contains(&r.as_str())).collect();
    let mut missing: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    for list in ["containers", "initContainers"] {
        for container in pod_resources::containers(spec, list) {
            let requests = pod_resources::container_list(container, "requests");
            let limits = pod_resources::container_list(container, "limits");
            let has = compute_usage(&requests, &limits);
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            for resource in &required {
                if !has.contains_key(resource.as_str()) {
                    missing.entry(resource.as_str()).or_default().insert(name);
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(resource, names)| {
            format!("{resource} for: {}", names.iter().copied().collect::<Vec<_>>().join(","))
        })
        .collect();
    Err(format!("must specify {}", parts.join("; ")))
}

/// One scope requirement of a quota: its `scopes` (each as `Exists`) and its
/// `scopeSelector.matchExpressions`.
#[derive(Debug, Clone)]
pub struct ScopeRequirement {
    pub scope: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// `GetScopeSelectorsFromQuota`.
pub fn scope_requirements(quota: &Value) -> Vec<ScopeRequirement> {
    let mut out = Vec::new();
    let scopes = quota.pointer("/spec/scopes").and_then(Value::as_array);
    for scope in scopes.into_iter().flatten().filter_map(Value::as_str) {
        out.push(ScopeRequirement {
            scope: scope.to_owned(),
            operator: "Exists".to_owned(),
            values: Vec::new(),
        });
    }
    let expressions =
        quota.pointer("/spec/scopeSelector/matchExpressions").and_then(Value::as_array);
    for expression in expressions.into_iter().flatten() {
        let text = |key: &str| expression.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let values = expression.get("values").and_then(Value::as_array);
        out.push(ScopeRequirement {
            scope: text("scopeName"),
            operator: text("operator"),
            values: values
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        });
    }
    out
}

/// Whether a quota applies to this object (`evaluator.Matches`): it limits something the object
/// is charged to, and every scope selects it. Only pods are selected by scopes.
pub fn quota_matches(quota: &Value, group: &str, resource: &str, object: &Value) -> bool {
    applies(&hard_names(quota), quota, group, resource, object)
}

/// [`quota_matches`] for a quota limiting `hard` (the controller's: `spec.hard`).
pub fn applies(
    hard: &[String],
    quota: &Value,
    group: &str,
    resource: &str,
    object: &Value,
) -> bool {
    if matching_resources(group, resource, hard).is_empty() {
        return false;
    }
    let is_pod = group.is_empty() && resource == "pods";
    scope_requirements(quota).iter().all(|requirement| is_pod && pod_in_scope(requirement, object))
}

/// The names `status.hard` limits.
pub fn hard_names(quota: &Value) -> Vec<String> {
    let hard = quota.pointer("/status/hard").and_then(Value::as_object);
    hard.map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// `podMatchesScopeFunc`.
fn pod_in_scope(requirement: &ScopeRequirement, pod: &Value) -> bool {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let terminating =
        spec.get("activeDeadlineSeconds").and_then(Value::as_i64).is_some_and(|s| s >= 0);
    match requirement.scope.as_str() {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => pod_resources::is_best_effort(spec),
        "NotBestEffort" => !pod_resources::is_best_effort(spec),
        "PriorityClass" => {
            let class =
                spec.get("priorityClassName").and_then(Value::as_str).filter(|c| !c.is_empty());
            let listed = |c: &str| requirement.values.iter().any(|v| v == c);
            match requirement.operator.as_str() {
                "In" => class.is_some_and(listed),
                "NotIn" => !class.is_some_and(listed),
                "Exists" => class.is_some(),
                "DoesNotExist" => class.is_none(),
                _ => false,
            }
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(spec),
        _ => false,
    }
}

/// A pod (anti-)affinity term with `namespaces` or a `namespaceSelector`.
fn uses_cross_namespace_affinity(spec: &Value) -> bool {
    let mut terms = Vec::new();
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(affinity) = spec.pointer(&format!("/affinity/{kind}")) else { continue };
        let required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution");
        terms.extend(required.and_then(Value::as_array).into_iter().flatten());
        let preferred = affinity.get("preferredDuringSchedulingIgnoredDuringExecution");
        for weighted in preferred.and_then(Value::as_array).into_iter().flatten() {
            terms.extend(weighted.get("podAffinityTerm"));
        }
    }
    terms.iter().any(|term| {
        term.get("namespaces").and_then(Value::as_array).is_some_and(|n| !n.is_empty())
            || term.get("namespaceSelector").is_some_and(|s| !s.is_null())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pods_are_charged_for_count_and_compute() {
        let pod = json!({"spec": {"containers": [{"name": "a", "resources": {
            "requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m"}}}]}});
        assert_eq!(
            quantity::pretty(&usage("", "pods", &pod)),
            "count/pods=1,cpu=250m,limits.cpu=500m,memory=64Mi,pods=1,requests.cpu=250m,requests.memory=64Mi"
        );
        let done = json!({"spec": {}, "status": {"phase": "Succeeded"}});
        assert_eq!(quantity::pretty(&usage("", "pods", &done)), "count/pods=1");
        assert_eq!(
            quantity::pretty(&usage("apps", "deployments", &json!({}))),
            "count/deployments.apps=1"
        );
        assert_eq!(
            quantity::pretty(&usage("", "configmaps", &json!({}))),
            "configmaps=1,count/configmaps=1"
        );
    }

    #[test]
    fn quota_names_say_what_they_count() {
        let core = |r: &str| Some((String::new(), r.to_owned()));
        assert_eq!(counted_resource("requests.cpu"), core("pods"));
        assert_eq!(counted_resource("services.nodeports"), core("services"));
        assert_eq!(counted_resource("requests.storage"), core("persistentvolumeclaims"));
        assert_eq!(counted_resource("configmaps"), core("configmaps"));
        assert_eq!(counted_resource("count/widgets"), core("widgets"));
        assert_eq!(
            counted_resource("count/deployments.apps"),
            Some(("apps".to_owned(), "deployments".to_owned()))
        );
        assert_eq!(counted_resource("nonsense"), None);
    }

    #[test]
    fn services_count_node_ports_and_balancers() {
        let svc = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            quantity::pretty(&usage("", "services", &svc)),
            "count/services=1,services=1,services.loadbalancers=1,services.nodeports=2"
        );
    }

    #[test]
    fn constraints_name_the_containers_missing_a_resource() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "resources": {"limits": {"cpu": "1"}}}, {"name": "b"}]}});
        let required = ["limits.cpu".to_owned(), "limits.memory".to_owned(), "pods".to_owned()];
        assert_eq!(
            pod_constraints(&required, &pod).unwrap_err(),
            "must specify limits.cpu for: b; limits.memory for: a,b"
        );
    }

    #[test]
    fn scopes_select_pods_only() {
        let quota = |spec: Value| json!({"spec": spec, "status": {"hard": {"pods": "1", "configmaps": "1"}}});
        let best_effort = json!({"spec": {"containers": [{"name": "a"}]}});
        let high = json!({"spec": {"priorityClassName": "high", "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1"}}}]}});
        let scoped = quota(json!({"scopes": ["BestEffort"]}));
        assert!(quota_matches(&scoped, "", "pods", &best_effort));
        assert!(!quota_matches(&scoped, "", "pods", &high));
        assert!(!quota_matches(&scoped, "", "configmaps", &json!({})));
        let by_class = quota(json!({"scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}));
        assert!(quota_matches(&by_class, "", "pods", &high));
        assert!(!quota_matches(&by_class, "", "pods", &best_effort));
        assert!(quota_matches(&quota(json!({})), "", "configmaps", &json!({})));
        assert!(!quota_matches(&quota(json!({})), "", "secrets", &json!({})));
    }
}
