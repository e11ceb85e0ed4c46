//! LimitRanger, as kube-apiserver's plugin of that name: the namespace's LimitRanges give a new
//! pod's containers the requests and limits they leave out (mutating phase; the pod is annotated
//! `kubernetes.io/limit-ranger` with what was set), then bound what containers and pods ask for
//! (validating phase: `min`, `max`, `maxLimitRequestRatio`, a 403 in kube's words). New
//! PersistentVolumeClaims are bounded by `PersistentVolumeClaim` items, when the server serves
//! them.
//!
//! LimitRanges are read through [`Objects`] (`v1` `limitranges` of the namespace). As in kube,
//! pod updates are not looked at (containers' resources cannot change), nor subresources, nor
//! objects being deleted.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::pod_resources::{container_list, pod_total};
use super::resource_quota::forbidden;
use super::{Action, Attributes, Objects, Plugin};
use crate::meta::quantity::{self, Quantity, ResourceList};
use crate::meta::status::ApiError;

/// The annotation that records what the plugin set.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// The plugin.
#[derive(Debug)]
pub struct LimitRanger {
    objects: Arc<dyn Objects>,
}

impl LimitRanger {
    pub fn new(objects: Arc<dyn Objects>) -> LimitRanger {
        LimitRanger { objects }
    }

    /// The namespace's LimitRanges, when the write is one the plugin looks at.
    async fn ranges(&self, attributes: &Attributes<'_>) -> Result<Vec<Value>, ApiError> {
        let kind = (attributes.group, attributes.resource);
        let supported = attributes.subresource.is_empty()
            && attributes.action == Action::Create
            && matches!(kind, ("", "pods" | "persistentvolumeclaims"))
            && !attributes.namespace.is_empty();
        if !supported {
            return Ok(Vec::new());
        }
        self.objects.list("", "limitranges", attributes.namespace).await
    }
}

#[async_trait]
impl Plugin for LimitRanger {
    fn name(&self) -> &'static str {
        "LimitRanger"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let Some(pod) = object else { return Ok(()) };
        if attributes.resource != "pods" {
            return Ok(());
        }
        for range in self.ranges(attributes).await? {
            default_pod(&range, pod);
        }
        Ok(())
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let Some(object) = object else { return Ok(()) };
        for range in self.ranges(attributes).await? {
            let errors = if attributes.resource == "pods" {
                validate_pod(&range, object)
            } else {
                validate_claim(&range, object)
            };
            if !errors.is_empty() {
                return Err(forbidden(attributes, &aggregate(errors)));
            }
        }
        Ok(())
    }
}

/// The items of a LimitRange of one type.
fn items<'a>(range: &'a Value, limit_type: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    let items = range.pointer("/spec/limits").and_then(Value::as_array);
    items
        .into_iter()
        .flatten()
        .filter(move |item| item.get("type").and_then(Value::as_str) == Some(limit_type))
}

/// `defaultContainerResourceRequirements` merged into every container
/// (`mergePodResourceRequirements`), with the annotation.
fn default_pod(range: &Value, pod: &mut Value) {
    let mut requests = Map::new();
    let mut limits = Map::new();
    for item in items(range, "Container") {
        requests.extend(
            item.get("defaultRequest").and_then(Value::as_object).cloned().unwrap_or_default(),
        );
        limits.extend(item.get("default").and_then(Value::as_object).cloned().unwrap_or_default());
    }
    if requests.is_empty() && limits.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    for (list, what) in [("containers", "container"), ("initContainers", "init container")] {
        let containers = pod.pointer_mut(&format!("/spec/{list}")).and_then(Value::as_array_mut);
        for container in containers.into_iter().flatten().filter_map(Value::as_object_mut) {
            merge_container(container, &requests, &limits, what, &mut notes);
        }
    }
    if notes.is_empty() {
        return;
    }
    let Some(meta) = pod
        .as_object_mut()
        .map(|p| p.entry("metadata").or_insert_with(|| Value::Object(Map::new())))
    else {
        return;
    };
    let Some(meta) = meta.as_object_mut() else { return };
    let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
    if annotations.is_null() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        let text = format!("LimitRanger plugin set: {}", notes.join("; "));
        annotations.insert(ANNOTATION.to_owned(), text.into());
    }
}

/// `mergeContainerResources`. kube decodes a pod with its requests defaulted from its limits
/// before the plugin sees it, and so does the store (`Strategy::set_defaults`); a limit still
/// counts as a request already given, for a pod handed to the plugin undefaulted.
fn merge_container(
    container: &mut Map<String, Value>,
    requests: &Map<String, Value>,
    limits: &Map<String, Value>,
    what: &str,
    notes: &mut Vec<String>,
) {
    let name = container.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
    let Some(resources) = child(container, "resources") else { return };
    let given_limits: BTreeSet<String> = resources
        .get("limits")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let given_requests: BTreeSet<String> = resources
        .get("requests")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut set_limits = Vec::new();
    let mut set_requests = Vec::new();
    for (key, value) in limits {
        if !given_limits.contains(key) {
            if let Some(map) = child(resources, "limits") {
                map.insert(key.clone(), value.clone());
            }
            set_limits.push(key.clone());
        }
    }
    for (key, value) in requests {
        if !given_requests.contains(key) && !given_limits.contains(key) {
            if let Some(map) = child(resources, "requests") {
                map.insert(key.clone(), value.clone());
            }
            set_requests.push(key.clone());
        }
    }
    if resources.is_empty() {
        container.shift_remove("resources");
    }
    set_requests.sort();
    set_limits.sort();
    if !set_requests.is_empty() {
        notes.push(format!("{} request for {what} {name}", set_requests.join(", ")));
    }
    if !set_limits.is_empty() {
        notes.push(format!("{} limit for {what} {name}", set_limits.join(", ")));
    }
}

fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    let entry = map.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// `PodValidateLimitFunc`: Container items against each container, Pod items against the pod's
/// totals.
fn validate_pod(range: &Value, pod: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let items = range.pointer("/spec/limits").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        match item.get("type").and_then(Value::as_str) {
            Some("Container") => {
                for list in ["containers", "initContainers"] {
                    let containers = spec.get(list).and_then(Value::as_array);
                    for container in containers.into_iter().flatten() {
                        let requests = container_list(container, "requests");
                        let limits = container_list(container, "limits");
                        check_item(item, "Container", &requests, &limits, &mut errors);
                    }
                }
            }
            Some("Pod") => {
                let requests = pod_total(spec, "requests", false);
                let limits = pod_total(spec, "limits", false);
                check_item(item, "Pod", &requests, &limits, &mut errors);
            }
            _ => {}
        }
    }
    errors
}

/// `PersistentVolumeClaimValidateLimitFunc`: the claim's requests within min and max.
fn validate_claim(range: &Value, claim: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let requests = quantity::list_from_json(claim.pointer("/spec/resources/requests"));
    for item in items(range, "PersistentVolumeClaim") {
        for (name, min) in quantity::list_from_json(item.get("min")) {
            min_constraint(
                "PersistentVolumeClaim",
                &name,
                &min,
                &requests,
                &ResourceList::new(),
                &mut errors,
            );
        }
        for (name, max) in quantity::list_from_json(item.get("max")) {
            match requests.get(&name) {
                None => errors.push(format!(
                    "maximum {name} usage per PersistentVolumeClaim is {max}.  No request is specified"
                )),
                Some(request) if request > &max => errors.push(format!(
                    "maximum {name} usage per PersistentVolumeClaim is {max}, but request is {request}"
                )),
                Some(_) => {}
            }
        }
    }
    errors
}

fn check_item(
    item: &Value,
    limit_type: &str,
    requests: &ResourceList,
    limits: &ResourceList,
    errors: &mut Vec<String>,
) {
    for (name, min) in quantity::list_from_json(item.get("min")) {
        min_constraint(limit_type, &name, &min, requests, limits, errors);
    }
    for (name, max) in quantity::list_from_json(item.get("max")) {
        match (requests.get(&name), limits.get(&name)) {
            (_, None) => errors.push(format!(
                "maximum {name} usage per {limit_type} is {max}.  No limit is specified"
            )),
            (_, Some(limit)) if limit > &max => errors.push(format!(
                "maximum {name} usage per {limit_type} is {max}, but limit is {limit}"
            )),
            (Some(request), _) if request > &max => errors.push(format!(
                "maximum {name} usage per {limit_type} is {max}, but request is {request}"
            )),
            _ => {}
        }
    }
    for (name, ratio) in quantity::list_from_json(item.get("maxLimitRequestRatio")) {
        let request = requests.get(&name).filter(|q| !q.is_zero());
        let limit = limits.get(&name).filter(|q| !q.is_zero());
        let (Some(request), Some(limit)) = (request, limit) else {
            let missing = if request.is_none() { "request" } else { "limit" };
            errors.push(format!(
                "{name} max limit to request ratio per {limit_type} is {ratio}, but no {missing} is specified or {missing} is 0"
            ));
            continue;
        };
        let observed = limit.nanos() as f64 / request.nanos() as f64;
        let allowed = ratio.nanos() as f64 / 1e9;
        if observed > allowed {
            errors.push(format!(
                "{name} max limit to request ratio per {limit_type} is {ratio}, but provided ratio is {observed:.6}"
            ));
        }
    }
}

fn min_constraint(
    limit_type: &str,
    name: &str,
    min: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
    errors: &mut Vec<String>,
) {
    match (requests.get(name), limits.get(name)) {
        (None, _) => errors.push(format!(
            "minimum {name} usage per {limit_type} is {min}.  No request is specified"
        )),
        (Some(request), _) if request < min => errors.push(format!(
            "minimum {name} usage per {limit_type} is {min}, but request is {request}"
        )),
        (_, Some(limit)) if limit < min => errors
            .push(format!("minimum {name} usage per {limit_type} is {min}, but limit is {limit}")),
        _ => {}
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several in brackets, each once.
fn aggregate(errors: Vec<String>) -> String {
    let mut seen = BTreeSet::new();
    let unique: Vec<String> = errors.into_iter().filter(|e| seen.insert(e.clone())).collect();
    match unique.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests;
