//! Baseline checks on what confines a container: added capabilities, AppArmor, SELinux, the
//! /proc mount, seccomp.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{
    Check, Violation, containers, containers_named, join_quote, name, set, setters, strings, text,
};
use crate::admission::pod_security::api::{Level, Version};
use crate::meta::validation::go_quote;

pub(super) fn checks() -> [Check; 5] {
    let check = |id, run| Check { id, level: Level::Baseline, since: 0, overrides: &[], run };
    [
        check("appArmorProfile", app_armor_profile),
        check("capabilities_baseline", capabilities_baseline),
        check("procMount", proc_mount),
        check("seLinuxOptions", se_linux_options),
        check("seccompProfile_baseline", seccomp_profile_baseline),
    ]
}

/// The capabilities a container may add at baseline (the container runtime's defaults).
const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `securityContext.capabilities.add` only from the default set.
fn capabilities_baseline(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut added = BTreeSet::new();
    for container in containers(spec) {
        let extra: Vec<&str> = strings(container, "/securityContext/capabilities/add")
            .into_iter()
            .filter(|c| !DEFAULT_CAPABILITIES.contains(c))
            .collect();
        if !extra.is_empty() {
            bad.push(name(container));
            added.extend(extra);
        }
    }
    if bad.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not include {} in securityContext.capabilities.add",
        containers_named(&bad),
        join_quote(&added)
    );
    Violation::new("non-default capabilities", detail)
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// `appArmorProfile.type` only `RuntimeDefault` or `Localhost` (pod and containers), and the
/// deprecated annotations only `runtime/default`, `localhost/*` or empty.
fn app_armor_profile(metadata: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let allowed = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut values = BTreeSet::new();
    let pod = set(spec, "/securityContext/appArmorProfile").map(|p| text(p, "/type"));
    let pod_bad = pod.is_some_and(|t| !allowed(t));
    if let Some(t) = pod.filter(|t| !allowed(t)) {
        values.insert(t.to_owned());
    }
    let mut bad = Vec::new();
    for container in containers(spec) {
        if let Some(profile) = set(container, "/securityContext/appArmorProfile") {
            let t = text(profile, "/type");
            if !allowed(t) {
                bad.push(name(container));
                values.insert(t.to_owned());
            }
        }
    }
    let mut who: Vec<String> = setters(pod_bad, &bad).into_iter().collect();
    let mut values: Vec<String> = values.into_iter().collect();
    let annotations = metadata.pointer("/annotations").and_then(Value::as_object);
    let mut forbidden: Vec<String> = annotations
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.starts_with(APPARMOR_ANNOTATION_PREFIX))
        .filter_map(|(key, value)| {
            let value = value.as_str().unwrap_or_default();
            let ok =
                value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
            (!ok).then(|| format!("{key}={}", go_quote(value)))
        })
        .collect();
    if !forbidden.is_empty() {
        forbidden.sort();
        who.push(super::pluralize("annotation", "annotations", forbidden.len()).to_owned());
        values.extend(forbidden);
    }
    if who.is_empty() {
        return None;
    }
    let reason =
        super::pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", values.len());
    let detail = format!(
        "{} must not set AppArmor profile type to {}",
        who.join(" and "),
        join_quote(&values)
    );
    Violation::new(reason, detail)
}

/// `securityContext.procMount` unset or `Default`.
fn proc_mount(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types = BTreeSet::new();
    for container in containers(spec) {
        if let Some(mount) = set(container, "/securityContext/procMount") {
            let mount = mount.as_str().unwrap_or_default();
            if mount != "Default" {
                bad.push(name(container));
                types.insert(mount.to_owned());
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not set securityContext.procMount to {}",
        containers_named(&bad),
        join_quote(&types)
    );
    Violation::new("procMount", detail)
}

/// `seLinuxOptions.type` only the container types of the version, `user` and `role` unset.
fn se_linux_options(_: &Value, spec: &Value, version: Version) -> Option<Violation> {
    let allowed = |t: &str| {
        matches!(t, "" | "container_t" | "container_init_t" | "container_kvm_t")
            || (t == "container_engine_t" && version.at_least(31))
    };
    let mut types = BTreeSet::new();
    let (mut user, mut role) = (false, false);
    let mut valid = |options: &Value| {
        let t = text(options, "/type");
        let mut ok = true;
        if !allowed(t) {
            ok = false;
            types.insert(t.to_owned());
        }
        if !text(options, "/user").is_empty() {
            ok = false;
            user = true;
        }
        if !text(options, "/role").is_empty() {
            ok = false;
            role = true;
        }
        ok
    };
    let pod_bad = set(spec, "/securityContext/seLinuxOptions").is_some_and(|o| !valid(o));
    let bad: Vec<String> = containers(spec)
        .filter(|c| set(c, "/securityContext/seLinuxOptions").is_some_and(|o| !valid(o)))
        .map(name)
        .collect();
    let who = setters(pod_bad, &bad)?;
    // As kube: the user and role notes only accompany a forbidden type.
    let mut data = Vec::new();
    if !types.is_empty() {
        let kind = super::pluralize("type", "types", types.len());
        data.push(format!("{kind} {}", join_quote(&types)));
        if user {
            data.push("user may not be set".to_owned());
        }
        if role {
            data.push("role may not be set".to_owned());
        }
    }
    let detail = format!("{who} set forbidden securityContext.seLinuxOptions: {}", data.join("; "));
    Violation::new("seLinuxOptions", detail)
}

/// `seccompProfile.type` unset, `RuntimeDefault` or `Localhost` (pod and containers).
fn seccomp_profile_baseline(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let (who, values) = bad_seccomp(spec).0?;
    seccomp_violation(&who, &values)
}

pub(super) fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// Who sets a forbidden seccomp profile type (`pod and containers "a"`) and the types; then the
/// containers that set none, and whether the pod sets a valid one.
pub(super) type SeccompFindings = (Option<(String, BTreeSet<String>)>, Vec<String>, bool);

pub(super) fn bad_seccomp(spec: &Value) -> SeccompFindings {
    let mut values = BTreeSet::new();
    let pod = set(spec, "/securityContext/seccompProfile").map(|p| text(p, "/type"));
    let pod_bad = pod.is_some_and(|t| !valid_seccomp(t));
    if let Some(t) = pod.filter(|t| !valid_seccomp(t)) {
        values.insert(t.to_owned());
    }
    let pod_valid = pod.is_some_and(valid_seccomp);
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for container in containers(spec) {
        match set(container, "/securityContext/seccompProfile") {
            Some(profile) => {
                let t = text(profile, "/type");
                if !valid_seccomp(t) {
                    explicit.push(name(container));
                    values.insert(t.to_owned());
                }
            }
            None if !pod_valid => implicit.push(name(container)),
            None => {}
        }
    }
    (setters(pod_bad, &explicit).map(|who| (who, values)), implicit, pod_valid)
}

pub(super) fn seccomp_violation(who: &str, values: &BTreeSet<String>) -> Option<Violation> {
    let detail =
        format!("{who} must not set securityContext.seccompProfile.type to {}", join_quote(values));
    Violation::new("seccompProfile", detail)
}
