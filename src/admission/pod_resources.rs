//! What a pod asks for, as kube's resource helpers compute it (`PodRequests`, `PodLimits`):
//! the sum over its containers, at least the largest init container, with restartable
//! ("sidecar") init containers running alongside the rest. Read by LimitRanger (Pod limits)
//! and ResourceQuota (compute usage).

use serde_json::Value;

use crate::meta::quantity::{self, Quantity, ResourceList};

/// `resources.requests` or `resources.limits` of one container.
pub fn container_list(container: &Value, part: &str) -> ResourceList {
    quantity::list_from_json(container.get("resources").and_then(|r| r.get(part)))
}

/// The containers of `list` (`containers`, `initContainers`) of a pod's spec.
pub fn containers<'a>(spec: &'a Value, list: &str) -> &'a [Value] {
    spec.get(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn add_into(total: &mut ResourceList, list: &ResourceList) {
    for (name, q) in list {
        total.entry(name.clone()).or_default().add(q);
    }
}

fn max_into(total: &mut ResourceList, list: &ResourceList) {
    for (name, q) in list {
        let entry = total.entry(name.clone()).or_insert(*q);
        if q > entry {
            *entry = *q;
        }
    }
}

/// The pod's total `part` (`requests` or `limits`): containers summed, restartable init
/// containers added, the largest of each other init container (with the restartable ones
/// started before it) kept at least; `spec.overhead` added when `with_overhead`.
pub fn pod_total(spec: &Value, part: &str, with_overhead: bool) -> ResourceList {
    let mut total = ResourceList::new();
    for container in containers(spec, "containers") {
        add_into(&mut total, &container_list(container, part));
    }
    let mut sidecars = ResourceList::new();
    let mut init_max = ResourceList::new();
    for container in containers(spec, "initContainers") {
        let own = container_list(container, part);
        if container.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            add_into(&mut total, &own);
            add_into(&mut sidecars, &own);
            max_into(&mut init_max, &sidecars);
        } else {
            let mut with_sidecars = own;
            add_into(&mut with_sidecars, &sidecars);
            max_into(&mut init_max, &with_sidecars);
        }
    }
    max_into(&mut total, &init_max);
    if with_overhead {
        add_into(&mut total, &quantity::list_from_json(spec.get("overhead")));
    }
    total
}

/// Whether a pod is BestEffort: no CPU or memory request or limit in any container.
pub fn is_best_effort(spec: &Value) -> bool {
    ["containers", "initContainers"].iter().all(|list| {
        containers(spec, list).iter().all(|c| {
            ["requests", "limits"].iter().all(|part| {
                let list = container_list(c, part);
                ["cpu", "memory"].iter().all(|name| list.get(*name).is_none_or(Quantity::is_zero))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn totals_follow_kubes_helpers() {
        let spec = json!({
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "200m"}}}],
            "initContainers": [
                {"name": "big", "resources": {"requests": {"cpu": "1"}}},
                {"name": "side", "restartPolicy": "Always",
                 "resources": {"requests": {"memory": "32Mi"}}}],
            "overhead": {"cpu": "10m"}});
        let requests = pod_total(&spec, "requests", false);
        assert_eq!(quantity::pretty(&requests), "cpu=1,memory=96Mi");
        let with_overhead = pod_total(&spec, "requests", true);
        assert_eq!(quantity::pretty(&with_overhead), "cpu=1010m,memory=96Mi");
        assert!(!is_best_effort(&spec));
        assert!(is_best_effort(&json!({"containers": [{"name": "a"}]})));
    }
}
