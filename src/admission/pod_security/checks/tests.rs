//! Each check with pods it passes and pods it refuses, in kube's words; then the evaluation's
//! order and versions.

use serde_json::{Value, json};

use super::*;
use crate::admission::pod_security::api::{Level, LevelVersion, Version};

const LATEST: Version = Version::Latest;

fn check(id: &str) -> Check {
    all().into_iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no check {id}"))
}

/// The check's verdict on a pod spec (no metadata): `None`, or `reason (detail)`.
fn run(id: &str, spec: Value) -> Option<String> {
    run_with(id, json!({}), spec)
}

fn run_with(id: &str, metadata: Value, spec: Value) -> Option<String> {
    (check(id).run)(&metadata, &spec, LATEST).map(|v| forbidden_detail(&[v]))
}

fn container(name: &str, security_context: Value) -> Value {
    json!({"name": name, "image": "busybox", "securityContext": security_context})
}

fn with_containers(containers: Vec<Value>) -> Value {
    json!({"containers": containers})
}

#[test]
fn host_namespaces() {
    assert_eq!(run("hostNamespaces", json!({"hostNetwork": false})), None);
    assert_eq!(
        run("hostNamespaces", json!({"hostPID": true, "hostNetwork": true, "hostIPC": false})),
        Some("host namespaces (hostNetwork=true, hostPID=true)".into())
    );
}

#[test]
fn privileged() {
    assert_eq!(
        run("privileged", with_containers(vec![container("a", json!({"privileged": false}))])),
        None
    );
    let spec = json!({
        "initContainers": [container("i", json!({"privileged": true}))],
        "containers": [container("a", json!({"privileged": true})), container("b", json!({}))],
    });
    assert_eq!(
        run("privileged", spec),
        Some(
            r#"privileged (containers "i", "a" must not set securityContext.privileged=true)"#
                .into()
        )
    );
}

#[test]
fn capabilities_baseline() {
    let ok = container("a", json!({"capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"]}}));
    assert_eq!(run("capabilities_baseline", with_containers(vec![ok])), None);
    let bad = container("a", json!({"capabilities": {"add": ["SYS_ADMIN", "NET_RAW", "KILL"]}}));
    assert_eq!(
        run("capabilities_baseline", with_containers(vec![bad])),
        Some(r#"non-default capabilities (container "a" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#.into())
    );
}

#[test]
fn capabilities_restricted() {
    let ok =
        container("a", json!({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}));
    assert_eq!(run("capabilities_restricted", with_containers(vec![ok])), None);
    let spec = with_containers(vec![
        container("a", json!({})),
        container("b", json!({"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}})),
    ]);
    assert_eq!(
        run("capabilities_restricted", spec),
        Some(r#"unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "CHOWN" in securityContext.capabilities.add)"#.into())
    );
}

#[test]
fn host_path_volumes() {
    assert_eq!(run("hostPathVolumes", json!({"volumes": [{"name": "e", "emptyDir": {}}]})), None);
    let spec = json!({"volumes": [{"name": "h", "hostPath": {"path": "/"}}, {"name": "g", "hostPath": {"path": "/x"}}]});
    assert_eq!(run("hostPathVolumes", spec), Some(r#"hostPath volumes (volumes "h", "g")"#.into()));
}

#[test]
fn host_ports() {
    let ok =
        json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 0}]}]});
    assert_eq!(run("hostPorts", ok), None);
    let one =
        json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}]}]});
    assert_eq!(
        run("hostPorts", one),
        Some(r#"hostPort (container "a" uses hostPort 8080)"#.into())
    );
    let two = json!({"containers": [
        {"name": "a", "ports": [{"hostPort": 80}, {"hostPort": 9090}]},
        {"name": "b", "ports": [{"hostPort": 80}]}]});
    assert_eq!(
        run("hostPorts", two),
        Some(r#"hostPort (containers "a", "b" use hostPorts 80, 9090)"#.into())
    );
}

#[test]
fn app_armor() {
    let ok = json!({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
        "containers": [container("a", json!({"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}))]});
    let annotations = json!({"annotations": {
        "container.apparmor.security.beta.kubernetes.io/a": "localhost/p"}});
    assert_eq!(run_with("appArmorProfile", annotations, ok), None);
    let bad = json!({"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
        "containers": [container("a", json!({"appArmorProfile": {"type": "Unconfined"}}))]});
    assert_eq!(
        run("appArmorProfile", bad),
        Some(r#"forbidden AppArmor profile (pod and container "a" must not set AppArmor profile type to "Unconfined")"#.into())
    );
    let annotated = json!({"annotations": {
        "container.apparmor.security.beta.kubernetes.io/a": "unconfined"}});
    assert_eq!(
        run_with("appArmorProfile", annotated, with_containers(vec![container("a", json!({}))])),
        Some(r#"forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"")"#.into())
    );
}

#[test]
fn se_linux_options() {
    let ok =
        json!({"securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1"}}});
    assert_eq!(run("seLinuxOptions", ok), None);
    let bad = json!({"securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "root"}},
        "containers": [container("a", json!({"seLinuxOptions": {"role": "sysadm_r"}}))]});
    assert_eq!(
        run("seLinuxOptions", bad),
        Some(r#"seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)"#.into())
    );
    // container_engine_t from v1.31 on.
    let engine = json!({"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}});
    let c = check("seLinuxOptions");
    assert!((c.run)(&json!({}), &engine, Version::Minor(31)).is_none());
    assert!((c.run)(&json!({}), &engine, Version::Minor(30)).is_some());
}

#[test]
fn proc_mount() {
    assert_eq!(
        run("procMount", with_containers(vec![container("a", json!({"procMount": "Default"}))])),
        None
    );
    assert_eq!(
        run("procMount", with_containers(vec![container("a", json!({"procMount": "Unmasked"}))])),
        Some(
            r#"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#
                .into()
        )
    );
}

#[test]
fn seccomp_baseline() {
    assert_eq!(
        run("seccompProfile_baseline", with_containers(vec![container("a", json!({}))])),
        None
    );
    let bad = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}});
    assert_eq!(
        run("seccompProfile_baseline", bad),
        Some(r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#.into())
    );
}

#[test]
fn seccomp_restricted() {
    let pod_level = json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container("a", json!({}))]});
    assert_eq!(run("seccompProfile_restricted", pod_level), None);
    assert_eq!(
        run("seccompProfile_restricted", with_containers(vec![container("a", json!({}))])),
        Some(r#"seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#.into())
    );
    let explicit =
        with_containers(vec![container("a", json!({"seccompProfile": {"type": "Unconfined"}}))]);
    assert_eq!(
        run("seccompProfile_restricted", explicit),
        Some(r#"seccompProfile (container "a" must not set securityContext.seccompProfile.type to "Unconfined")"#.into())
    );
}

#[test]
fn sysctls() {
    let ok = json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}});
    assert_eq!(run("sysctls", ok), None);
    let bad = json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax"}, {"name": "net.ipv4.tcp_rmem"}, {"name": "vm.swappiness"}]}});
    assert_eq!(
        run("sysctls", bad.clone()),
        Some("forbidden sysctls (kernel.msgmax, vm.swappiness)".into())
    );
    // tcp_rmem is safe from v1.32 on.
    let old = (check("sysctls").run)(&json!({}), &bad, Version::Minor(31)).unwrap();
    assert_eq!(old.detail, "kernel.msgmax, net.ipv4.tcp_rmem, vm.swappiness");
}

#[test]
fn windows_host_process() {
    assert_eq!(
        run(
            "windowsHostProcess",
            json!({"securityContext": {"windowsOptions": {"hostProcess": false}}})
        ),
        None
    );
    let bad = json!({"securityContext": {"windowsOptions": {"hostProcess": true}},
        "containers": [container("a", json!({"windowsOptions": {"hostProcess": true}}))]});
    assert_eq!(
        run("windowsHostProcess", bad),
        Some(r#"hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)"#.into())
    );
}

#[test]
fn allow_privilege_escalation() {
    let ok = with_containers(vec![container("a", json!({"allowPrivilegeEscalation": false}))]);
    assert_eq!(run("allowPrivilegeEscalation", ok), None);
    let bad = with_containers(vec![
        container("a", json!({"allowPrivilegeEscalation": true})),
        json!({"name": "b"}),
    ]);
    assert_eq!(
        run("allowPrivilegeEscalation", bad),
        Some(r#"allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)"#.into())
    );
}

#[test]
fn restricted_volumes() {
    let ok = json!({"volumes": [{"name": "c", "configMap": {"name": "x"}}, {"name": "p", "persistentVolumeClaim": {"claimName": "x"}}]});
    assert_eq!(run("restrictedVolumes", ok), None);
    let bad = json!({"volumes": [{"name": "h", "hostPath": {"path": "/"}}, {"name": "n", "nfs": {"server": "s", "path": "/"}},
        {"name": "e", "emptyDir": {}}]});
    assert_eq!(
        run("restrictedVolumes", bad),
        Some(r#"restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs")"#.into())
    );
    let one = json!({"volumes": [{"name": "g", "gitRepo": {"repository": "r"}}]});
    assert_eq!(
        run("restrictedVolumes", one),
        Some(
            r#"restricted volume types (volume "g" uses restricted volume type "gitRepo")"#.into()
        )
    );
}

#[test]
fn run_as_non_root() {
    let pod_level = json!({"securityContext": {"runAsNonRoot": true}, "containers": [container("a", json!({}))]});
    assert_eq!(run("runAsNonRoot", pod_level), None);
    assert_eq!(
        run("runAsNonRoot", with_containers(vec![container("a", json!({}))])),
        Some(r#"runAsNonRoot != true (pod or container "a" must set securityContext.runAsNonRoot=true)"#.into())
    );
    let explicit = json!({"securityContext": {"runAsNonRoot": true},
        "containers": [container("a", json!({"runAsNonRoot": false}))]});
    assert_eq!(
        run("runAsNonRoot", explicit),
        Some(r#"runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)"#.into())
    );
}

#[test]
fn run_as_user() {
    let ok = json!({"securityContext": {"runAsUser": 1000}, "containers": [container("a", json!({"runAsUser": 5}))]});
    assert_eq!(run("runAsUser", ok), None);
    let bad = json!({"securityContext": {"runAsUser": 0}, "containers": [container("a", json!({"runAsUser": 0}))]});
    assert_eq!(
        run("runAsUser", bad),
        Some(r#"runAsUser=0 (pod and container "a" must not set runAsUser=0)"#.into())
    );
}

fn lv(level: Level, version: Version) -> LevelVersion {
    LevelVersion { level, version }
}

/// A pod that passes restricted.
fn compliant() -> Value {
    json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container("c", json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}))]})
}

#[test]
fn levels_run_baseline_then_restricted_checks_in_id_order() {
    assert!(evaluate(lv(Level::Restricted, LATEST), &json!({}), &compliant()).is_empty());
    let privileged = json!({"hostNetwork": true, "containers": [container("c", json!({"privileged": true}))],
        "volumes": [{"name": "h", "hostPath": {"path": "/"}}]});
    let meta = json!({});
    let reasons = |level| forbidden_reason(&evaluate(lv(level, LATEST), &meta, &privileged));
    assert_eq!(reasons(Level::Privileged), "");
    assert_eq!(reasons(Level::Baseline), "host namespaces, hostPath volumes, privileged");
    assert_eq!(
        reasons(Level::Restricted),
        "host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, restricted volume types, runAsNonRoot != true, seccompProfile"
    );
}

#[test]
fn checks_apply_from_their_version_on() {
    let mut spec = compliant();
    spec["securityContext"]["runAsUser"] = json!(0);
    spec["containers"][0]["securityContext"] = json!({"allowPrivilegeEscalation": false});
    let meta = json!({});
    let reasons =
        |version| forbidden_reason(&evaluate(lv(Level::Restricted, version), &meta, &spec));
    assert_eq!(reasons(LATEST), "unrestricted capabilities, runAsUser=0");
    assert_eq!(reasons(Version::Minor(23)), "unrestricted capabilities, runAsUser=0");
    // Before v1.22 restricted did not require dropping capabilities, nor before v1.23 a
    // non-zero user.
    assert_eq!(reasons(Version::Minor(21)), "");
}
