//! Baseline checks on access to the host: host namespaces, privileged containers, hostPath
//! volumes, host ports, sysctls beyond the safe set, Windows HostProcess.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{
    Check, Violation, containers, containers_named, is_true, join_quote, name, pluralize, set,
    setters, text,
};
use crate::admission::pod_security::api::{Level, Version};

pub(super) fn checks() -> [Check; 6] {
    let check = |id, run| Check { id, level: Level::Baseline, since: 0, overrides: &[], run };
    [
        check("hostNamespaces", host_namespaces),
        check("privileged", privileged),
        check("hostPathVolumes", host_path_volumes),
        check("hostPorts", host_ports),
        check("sysctls", sysctls),
        check("windowsHostProcess", windows_host_process),
    ]
}

/// `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC` must not be true.
fn host_namespaces(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let shared: BTreeSet<&str> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|field| is_true(spec, &format!("/{field}")))
        .collect();
    if shared.is_empty() {
        return None;
    }
    let list: Vec<String> = shared.iter().map(|f| format!("{f}=true")).collect();
    Violation::new("host namespaces", list.join(", "))
}

/// No container sets `securityContext.privileged=true`.
fn privileged(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let bad: Vec<String> =
        containers(spec).filter(|c| is_true(c, "/securityContext/privileged")).map(name).collect();
    if bad.is_empty() {
        return None;
    }
    let detail = format!("{} must not set securityContext.privileged=true", containers_named(&bad));
    Violation::new("privileged", detail)
}

/// No `hostPath` volumes.
fn host_path_volumes(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let volumes = spec.get("volumes").and_then(Value::as_array);
    let bad: Vec<String> =
        volumes.into_iter().flatten().filter(|v| set(v, "/hostPath").is_some()).map(name).collect();
    if bad.is_empty() {
        return None;
    }
    let detail = format!("{} {}", pluralize("volume", "volumes", bad.len()), join_quote(&bad));
    Violation::new("hostPath volumes", detail)
}

/// No container port sets a `hostPort`.
fn host_ports(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut ports = BTreeSet::new();
    for container in containers(spec) {
        let list = container.get("ports").and_then(Value::as_array);
        let host: Vec<i64> = list
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("hostPort").and_then(Value::as_i64))
            .filter(|port| *port != 0)
            .collect();
        if !host.is_empty() {
            bad.push(name(container));
            ports.extend(host.iter().map(i64::to_string));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    let detail = format!(
        "{} {} {} {}",
        containers_named(&bad),
        pluralize("uses", "use", bad.len()),
        pluralize("hostPort", "hostPorts", ports.len()),
        ports.join(", ")
    );
    Violation::new("hostPort", detail)
}

/// The sysctls the baseline allows, with the version each was added in.
const SAFE_SYSCTLS: [(&str, u32); 12] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
];

/// `spec.securityContext.sysctls[*].name` only from the safe set of the version.
fn sysctls(_: &Value, spec: &Value, version: Version) -> Option<Violation> {
    let list = spec.pointer("/securityContext/sysctls").and_then(Value::as_array);
    let bad: Vec<&str> = list
        .into_iter()
        .flatten()
        .map(|s| text(s, "/name"))
        .filter(|n| !SAFE_SYSCTLS.iter().any(|(safe, since)| safe == n && version.at_least(*since)))
        .collect();
    if bad.is_empty() {
        return None;
    }
    Violation::new("forbidden sysctls", bad.join(", "))
}

/// `securityContext.windowsOptions.hostProcess` never true, at the pod or any container.
fn windows_host_process(_: &Value, spec: &Value, _: Version) -> Option<Violation> {
    const FIELD: &str = "/securityContext/windowsOptions/hostProcess";
    let bad: Vec<String> = containers(spec).filter(|c| is_true(c, FIELD)).map(name).collect();
    let who = setters(is_true(spec, FIELD), &bad)?;
    let detail = format!("{who} must not set securityContext.windowsOptions.hostProcess=true");
    Violation::new("hostProcess", detail)
}
