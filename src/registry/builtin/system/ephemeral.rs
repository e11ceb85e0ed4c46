//! `pods/{name}/ephemeralcontainers` (GET, PUT, PATCH), as kube's `EphemeralContainersREST`:
//! a write through it changes `spec.ephemeralContainers` and nothing else of the spec or status
//! (kube's `podEphemeralContainersStrategy`), and kube's
//! `ValidatePodEphemeralContainersUpdate` holds: ephemeral containers may be added, never
//! changed or removed, and a new one has a unique name, an image, and none of the fields an
//! ephemeral container cannot have.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::meta::validation::{FieldCause, is_dns1123_label};
use crate::registry::builtin::array_at;

/// The subresource's name.
pub const SUBRESOURCE: &str = "ephemeralcontainers";

/// Container fields an ephemeral container may not set (kube's `validateEphemeralContainers`).
const FORBIDDEN: &[&str] =
    &["ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources"];

/// `new` as the write may leave it: the stored pod's spec and status with `new`'s ephemeral
/// containers (its metadata is the generic update's).
pub fn prepare(new: &mut Value, old: &Value) {
    let ephemeral = new.pointer("/spec/ephemeralContainers").cloned();
    if let Some(map) = new.as_object_mut() {
        let mut spec = old.get("spec").cloned().unwrap_or(Value::Null);
        if let Some(spec) = spec.as_object_mut() {
            match ephemeral {
                Some(list) if !list.is_null() => {
                    spec.insert("ephemeralContainers".into(), list);
                }
                _ => {
                    spec.shift_remove("ephemeralContainers");
                }
            }
        }
        map.insert("spec".into(), spec);
        match old.get("status") {
            Some(status) => map.insert("status".into(), status.clone()),
            None => map.shift_remove("status"),
        };
    }
}

/// kube's `ValidatePodEphemeralContainersUpdate` rules on the ephemeral containers.
pub fn validate_update(new: &Value, old: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let path = "spec.ephemeralContainers";
    let new_list = array_at(new, "/spec/ephemeralContainers");
    let old_list = array_at(old, "/spec/ephemeralContainers");
    let name_of = |c: &Value| c.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
    for previous in old_list {
        let name = name_of(previous);
        match new_list.iter().position(|c| name_of(c) == name) {
            None => causes.push(FieldCause::forbidden(
                path,
                &format!("existing ephemeral containers {name:?} may not be removed"),
            )),
            Some(i) if new_list[i] != *previous => causes.push(FieldCause::forbidden(
                format!("{path}[{i}]"),
                &format!("existing ephemeral containers {name:?} may not be changed"),
            )),
            Some(_) => {}
        }
    }
    let old_names: BTreeSet<String> = old_list.iter().map(name_of).collect();
    let mut names: BTreeSet<String> = ["containers", "initContainers"]
        .iter()
        .flat_map(|list| array_at(new, &format!("/spec/{list}")))
        .map(name_of)
        .collect();
    let regular: BTreeSet<String> = array_at(new, "/spec/containers")
        .iter()
        .chain(array_at(new, "/spec/initContainers"))
        .map(name_of)
        .collect();
    for (i, container) in new_list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let name = name_of(container);
        if old_names.contains(&name) {
            names.insert(name);
            continue;
        }
        if name.is_empty() {
            causes.push(FieldCause::required(format!("{at}.name"), ""));
        } else {
            for message in is_dns1123_label(&name) {
                causes.push(FieldCause::invalid(format!("{at}.name"), name.as_str(), &message));
            }
            if !names.insert(name.clone()) {
                causes.push(FieldCause::duplicate(format!("{at}.name"), name.as_str()));
            }
        }
        if container.get("image").and_then(Value::as_str).unwrap_or("").is_empty() {
            causes.push(FieldCause::required(format!("{at}.image"), ""));
        }
        for field in FORBIDDEN {
            if container.get(*field).is_some_and(|v| !v.is_null()) {
                causes.push(FieldCause::forbidden(
                    format!("{at}.{field}"),
                    "cannot be set for an Ephemeral Container",
                ));
            }
        }
        if let Some(target) = container.get("targetContainerName").and_then(Value::as_str)
            && !target.is_empty()
            && !regular.contains(target)
        {
            causes.push(FieldCause::not_found(format!("{at}.targetContainerName"), target));
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use serde_json::json;

    #[test]
    fn only_additions() {
        let old = json!({"spec": {"containers": [{"name": "app", "image": "nginx"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]},
            "status": {"phase": "Running"}});
        let mut new = json!({"spec": {"containers": [{"name": "changed", "image": "x"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"},
                                    {"name": "more", "image": "busybox",
                                     "targetContainerName": "app"}]},
            "status": {"phase": "Failed"}});
        prepare(&mut new, &old);
        assert_eq!(new["spec"]["containers"], old["spec"]["containers"]);
        assert_eq!(new["status"], old["status"]);
        assert!(validate_update(&new, &old).is_empty());

        let bad = json!({"spec": {"containers": [{"name": "app"}], "ephemeralContainers": [
            {"name": "debug", "image": "alpine"}, {"name": "app", "ports": [{"containerPort": 1}]},
            {"name": "x", "image": "y", "targetContainerName": "nope"}]}});
        assert_eq!(
            text(&validate_update(&bad, &old)),
            [
                "spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers \"debug\" \
                 may not be changed",
                "spec.ephemeralContainers[1].name: Duplicate value: \"app\"",
                "spec.ephemeralContainers[1].image: Required value",
                "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral \
                 Container",
                "spec.ephemeralContainers[2].targetContainerName: Not found: \"nope\"",
            ]
        );
        let removed = json!({"spec": {"containers": [{"name": "app"}]}});
        assert_eq!(
            text(&validate_update(&removed, &old)),
            ["spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debug\" may \
              not be removed"]
        );
    }
}
