//! The restricted level's own checks: no privilege escalation, every capability dropped, only
//! volume types that do not reach the host, running as non-root, and a seccomp profile set.

use std::collections::BTreeSet;

use serde_json::Value;

use super::profiles::{bad_seccomp, seccomp_violation};
use super::{
    Check, Violation, containers, containers_named, join_quote, name, pluralize, set, setters,
    strings,
};
use crate::admission::pod_security::api::{Level, Version};

pub(super) fn checks() -> [Check; 6] {
    let check =
        |id, since, overrides, run| Check { id, level: Level::Restricted, since, overrides, run };
    [
        check("allowPrivilegeEscalation", 8, &[], allow_privilege_escalation),
        check("capabilities_restricted", 22, &["capabilities_baseline"], capabilities_restricted),
        check("restrictedVolumes", 0, &["hostPathVolumes"], restricted_volumes),
        check("runAsNonRoot", 0, &[], run_as_non_root),
        check("runAsUser", 23, &[], run_as_user),
        check("seccompProfile_restricted", 19, &["seccompProfile_baseline"], seccomp_restricted),
    ]
}

/// Every container sets `securityContext.allowPrivilegeEscalation=false`.
fn allow_privilege_escalation(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let bad: Vec<String> = containers(spec)
        .filter(|c| {
            c.pointer("/securityContext/allowPrivilegeEscalation") != Some(&Value::Bool(false))
        })
        .map(name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must set securityContext.allowPrivilegeEscalation=false",
        containers_named(&bad)
    );
    Violation::new("allowPrivilegeEscalation != false", detail)
}

/// Every container drops `ALL` and adds nothing but `NET_BIND_SERVICE`.
fn capabilities_restricted(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let (mut missing_drop, mut adding) = (Vec::new(), Vec::new());
    let mut forbidden = BTreeSet::new();
    for container in containers(spec) {
        if set(container, "/securityContext/capabilities").is_none() {
            missing_drop.push(name(container));
            continue;
        }
        if !strings(container, "/securityContext/capabilities/drop").contains(&"ALL") {
            missing_drop.push(name(container));
        }
        let extra: Vec<&str> = strings(container, "/securityContext/capabilities/add")
            .into_iter()
            .filter(|c| *c != "NET_BIND_SERVICE")
            .collect();
        if !extra.is_empty() {
            adding.push(name(container));
            forbidden.extend(extra);
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        let who = containers_named(&missing_drop);
        details.push(format!(r#"{who} must set securityContext.capabilities.drop=["ALL"]"#));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_named(&adding),
            join_quote(&forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Violation::new("unrestricted capabilities", details.join("; "))
}

/// The volume sources the restricted level allows.
const ALLOWED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The sources it names when it refuses one, in kube's order.
const RESTRICTED_VOLUMES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// Volumes only of the allowed sources.
fn restricted_volumes(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let (mut bad, mut types) = (Vec::new(), BTreeSet::new());
    for volume in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        let has = |source: &&str| set(volume, &format!("/{source}")).is_some();
        if ALLOWED_VOLUMES.iter().any(has) {
            continue;
        }
        bad.push(name(volume));
        types.insert(RESTRICTED_VOLUMES.into_iter().find(|s| has(s)).unwrap_or("unknown"));
    }
    if bad.is_empty() {
        return None;
    }
    let detail = format!(
        "{} {} {} {} {}",
        pluralize("volume", "volumes", bad.len()),
        join_quote(&bad),
        pluralize("uses", "use", bad.len()),
        pluralize("restricted volume type", "restricted volume types", types.len()),
        join_quote(&types)
    );
    Violation::new("restricted volume types", detail)
}

/// `runAsNonRoot=true` at the pod, or at every container; never false.
fn run_as_non_root(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    const FIELD: &str = "/securityContext/runAsNonRoot";
    let pod = set(spec, FIELD);
    let pod_bad = pod == Some(&Value::Bool(false));
    let pod_true = pod == Some(&Value::Bool(true));
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for container in containers(spec) {
        match set(container, FIELD) {
            Some(Value::Bool(false)) => explicit.push(name(container)),
            Some(_) => {}
            None if !pod_true => implicit.push(name(container)),
            None => {}
        }
    }
    if let Some(who) = setters(pod_bad, &explicit) {
        let detail = format!("{who} must not set securityContext.runAsNonRoot=false");
        return Violation::new("runAsNonRoot != true", detail);
    }
    if implicit.is_empty() {
        return None;
    }
    let detail = format!(
        "pod or {} must set securityContext.runAsNonRoot=true",
        containers_named(&implicit)
    );
    Violation::new("runAsNonRoot != true", detail)
}

/// `runAsUser` never 0, at the pod or any container.
fn run_as_user(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    const FIELD: &str = "/securityContext/runAsUser";
    let root = |v: &Value| v.pointer(FIELD).and_then(Value::as_i64) == Some(0);
    let bad: Vec<String> = containers(spec).filter(|c| root(c)).map(name).collect();
    let who = setters(root(spec), &bad)?;
    Violation::new("runAsUser=0", format!("{who} must not set runAsUser=0"))
}

/// A valid seccomp profile type at the pod, or at every container.
fn seccomp_restricted(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let (explicit, implicit, _) = bad_seccomp(spec);
    if let Some((who, values)) = explicit {
        return seccomp_violation(&who, &values);
    }
    if implicit.is_empty() {
        return None;
    }
    let detail = format!(
        r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
        containers_named(&implicit)
    );
    Violation::new("seccompProfile", detail)
}
