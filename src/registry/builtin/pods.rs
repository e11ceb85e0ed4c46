//! `v1` Pods (`pkg/registry/core/pod`): defaulted pod specs, `Pending` with a computed QoS class
//! on create, kube's pod-spec validation, the narrow set of fields an update may change, pod
//! field selectors, and `kubectl get pods` columns with kube's READY/STATUS/RESTARTS logic.
//!
//! Nothing schedules or runs pods here; a pod stays as written until a client (a test, a
//! controller) writes its status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::columns::text_or_none;
use super::podspec::{default_pod_only, default_pod_spec, qos_class, validate_pod_spec};
use super::system::{binding, ephemeral};
use super::{
    Kind, age_column, array_at, column, default_string, default_value, int_at, name_column,
    opt_object, str_at,
};
use crate::meta::validation::FieldCause;
use crate::registry::object::{deletion_timestamp, parse_timestamp};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec, age_since};

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    short_names: &["po"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/pods",
};

/// The fields `ValidatePodUpdate` lets an update change, as its message lists them.
pub const UPDATABLE_FIELDS_MESSAGE: &str = "pod updates may not change fields other than \
     `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,\
     `spec.tolerations` (only additions to existing tolerations),\
     `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

const SELECTABLE: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    // Old v1 clients' name for `spec.nodeName`.
    "spec.host",
];

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(PodStrategy), table()) }
}

/// Pod rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct PodStrategy;

/// kube's pod and pod-spec defaulting (`SetDefaults_Pod`, `SetDefaults_PodSpec` and those of
/// containers, probes and volumes).
fn default_pod(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return };
    default_pod_spec(spec);
    default_pod_only(spec);
}

/// What the default admission chain adds to a pod that names no priority class (the Priority
/// plugin; the ServiceAccount plugin, `crate::admission::service_account`, names its account):
/// set after field management, so nobody owns it.
fn default_priority(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return };
    // Priority admission: no class → priority 0, preempting lower priorities.
    default_value(spec, "priority", json!(0));
    default_string(spec, "preemptionPolicy", "PreemptLowerPriority");
}

impl Strategy for PodStrategy {
    /// kube-apiserver's pods storage sets `ReturnDeletedObject`.
    fn return_deleted_object(&self) -> bool {
        true
    }

    fn set_defaults(&self, pod: &mut Value) {
        default_pod(pod);
    }

    fn prepare_for_create(&self, pod: &mut Value) {
        default_priority(pod);
        let qos = pod.get("spec").map_or("BestEffort", qos_class);
        if let Some(map) = pod.as_object_mut() {
            map.insert("status".into(), json!({"phase": "Pending", "qosClass": qos}));
        }
    }

    fn prepare_for_update(&self, pod: &mut Value, old: &Value) {
        default_priority(pod);
        // The QoS class is fixed at creation; a status writer that drops it gets it back.
        let old_qos = old.pointer("/status/qosClass").cloned();
        if let (Some(qos), Some(status)) =
            (old_qos, pod.get_mut("status").and_then(Value::as_object_mut))
        {
            default_value(status, "qosClass", qos);
        }
    }

    fn validate(&self, pod: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        match opt_object(pod, "spec", "spec", &mut causes) {
            Some(_) => causes.extend(validate_pod_spec(&pod["spec"], "spec")),
            None if pod.get("spec").is_none_or(Value::is_null) => {
                causes.push(FieldCause::required("spec.containers", ""))
            }
            None => {}
        }
        causes
    }

    fn validate_update(&self, pod: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(pod);
        let null = Value::Null;
        let new_spec = pod.get("spec").unwrap_or(&null);
        let old_spec = old.get("spec").unwrap_or(&null);
        causes.extend(validate_spec_update(new_spec, old_spec));
        causes
    }

    /// `pods/{name}/ephemeralcontainers` (`super::system::ephemeral`).
    fn update_subresources(&self) -> &'static [&'static str] {
        &[ephemeral::SUBRESOURCE]
    }

    /// Through `ephemeralcontainers` only the ephemeral containers move; through `binding`
    /// (`super::system::binding`, the store's write of a Binding) only `spec.nodeName` and the
    /// annotations.
    fn prepare_for_subresource_update(&self, subresource: &str, new: &mut Value, old: &Value) {
        match subresource {
            ephemeral::SUBRESOURCE => ephemeral::prepare(new, old),
            binding::SUBRESOURCE => {
                let node = new.pointer("/spec/nodeName").cloned();
                let meta = new.get("metadata").cloned();
                let mut bound = old.clone();
                if let (Some(spec), Some(node)) =
                    (bound.get_mut("spec").and_then(Value::as_object_mut), node)
                {
                    spec.insert("nodeName".into(), node);
                }
                if let (Some(map), Some(meta)) = (bound.as_object_mut(), meta) {
                    map.insert("metadata".into(), meta);
                }
                *new = bound;
            }
            _ => {}
        }
        self.prepare_for_update(new, old);
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        match subresource {
            ephemeral::SUBRESOURCE => ephemeral::validate_update(new, old),
            binding::SUBRESOURCE => Vec::new(),
            _ => self.validate_update(new, old),
        }
    }

    fn selectable_fields(&self, pod: &Value) -> BTreeMap<String, String> {
        let text = |pointer: &str| str_at(pod, pointer).to_owned();
        let host_network = pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true);
        BTreeMap::from([
            ("spec.nodeName".to_owned(), text("/spec/nodeName")),
            ("spec.host".to_owned(), text("/spec/nodeName")),
            ("spec.restartPolicy".to_owned(), text("/spec/restartPolicy")),
            ("spec.schedulerName".to_owned(), text("/spec/schedulerName")),
            ("spec.serviceAccountName".to_owned(), text("/spec/serviceAccountName")),
            ("spec.hostNetwork".to_owned(), host_network.to_string()),
            ("status.phase".to_owned(), text("/status/phase")),
            ("status.podIP".to_owned(), primary_pod_ip(pod).to_owned()),
            ("status.nominatedNodeName".to_owned(), text("/status/nominatedNodeName")),
        ])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        SELECTABLE
    }

    /// `spec.nodeName` (and its old name `spec.host`): one kubelet per node watches its pods with
    /// `fieldSelector=spec.nodeName=<node>`, so each pod event concerns one of them.
    fn indexed_fields(&self) -> &'static [(&'static str, &'static str)] {
        &[("spec.nodeName", "/spec/nodeName"), ("spec.host", "/spec/nodeName")]
    }
}

/// `status.podIPs[0].ip`, or the older single `status.podIP`.
fn primary_pod_ip(pod: &Value) -> &str {
    match str_at(pod, "/status/podIPs/0/ip") {
        "" => str_at(pod, "/status/podIP"),
        ip => ip,
    }
}

/// kube's `ValidatePodUpdate` rules on the spec: containers are neither added nor removed,
/// images stay set, the deadline only shrinks, tolerations are only added, scheduling gates only
/// removed — and nothing else changes.
fn validate_spec_update(new: &Value, old: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    for list in ["containers", "initContainers"] {
        let new_items = array_at(new, &format!("/{list}"));
        let old_items = array_at(old, &format!("/{list}"));
        if new_items.len() != old_items.len() {
            causes.push(FieldCause::forbidden(
                format!("spec.{list}"),
                "pod updates may not add or remove containers",
            ));
            return causes;
        }
    }
    let deadline_path = "spec.activeDeadlineSeconds";
    match (int_at(new, "/activeDeadlineSeconds"), int_at(old, "/activeDeadlineSeconds")) {
        (Some(n), _) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            causes.push(FieldCause::invalid(
                deadline_path,
                n,
                "must be between 0 and 2147483647, inclusive",
            ));
            return causes;
        }
        (Some(n), Some(o)) if o < n => {
            causes.push(FieldCause::invalid(
                deadline_path,
                n,
                "must be less than or equal to previous value",
            ));
            return causes;
        }
        (None, Some(_)) => causes.push(FieldCause::invalid(
            deadline_path,
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    // Tolerations: every old one must still be there (its tolerationSeconds may change).
    let new_tolerations = array_at(new, "/tolerations");
    for old_toleration in array_at(old, "/tolerations") {
        let found = new_tolerations.iter().any(|t| {
            let mut candidate = old_toleration.clone();
            if let Some(map) = candidate.as_object_mut() {
                match t.get("tolerationSeconds") {
                    Some(seconds) => map.insert("tolerationSeconds".into(), seconds.clone()),
                    None => map.shift_remove("tolerationSeconds"),
                };
            }
            candidate == *t
        });
        if !found {
            causes.push(FieldCause::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    let old_gates = array_at(old, "/schedulingGates");
    for gate in array_at(new, "/schedulingGates") {
        if !old_gates.contains(gate) {
            causes.push(FieldCause::forbidden(
                "spec.schedulingGates",
                &format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    str_at(gate, "/name")
                ),
            ));
        }
    }

    // Everything else must be as it was: overwrite the updatable fields with the old values
    // and compare.
    let mut munged = new.clone();
    if let (Some(munged_map), Some(old_map)) = (munged.as_object_mut(), old.as_object()) {
        for list in ["containers", "initContainers"] {
            let old_items = old_map.get(list).and_then(Value::as_array);
            let items = munged_map.get_mut(list).and_then(Value::as_array_mut);
            if let (Some(items), Some(old_items)) = (items, old_items) {
                for (item, old_item) in items.iter_mut().zip(old_items) {
                    if let Some(item) = item.as_object_mut() {
                        match old_item.get("image") {
                            Some(image) => item.insert("image".into(), image.clone()),
                            None => item.shift_remove("image"),
                        };
                    }
                }
            }
        }
        for field in ["activeDeadlineSeconds", "tolerations", "schedulingGates"] {
            restore(munged_map, old_map, field);
        }
        let old_grace = old_map.get("terminationGracePeriodSeconds").and_then(Value::as_i64);
        let new_grace = munged_map.get("terminationGracePeriodSeconds").and_then(Value::as_i64);
        if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
            restore(munged_map, old_map, "terminationGracePeriodSeconds");
        }
    }
    if munged != *old {
        let mut diff = Vec::new();
        json_diff("", old, &munged, &mut diff);
        let message =
            format!("{UPDATABLE_FIELDS_MESSAGE}\n  core.PodSpec{{\n{}\n  }}", diff.join("\n"));
        causes.push(FieldCause::forbidden("spec", &message));
    }
    causes
}

fn restore(map: &mut Map<String, Value>, old: &Map<String, Value>, field: &str) {
    match old.get(field) {
        Some(value) => map.insert(field.to_owned(), value.clone()),
        None => map.shift_remove(field),
    };
}

/// A short line diff of two JSON values (`-` old, `+` new), one pair per changed leaf: a stand-in
/// for the Go struct diff kube appends to the forbidden-update message.
fn json_diff(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                json_diff(
                    &child,
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                json_diff(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if old != new => {
            out.push(format!("- \t{path}: {old}"));
            out.push(format!("+ \t{path}: {new}"));
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Printing.

/// What `kubectl get pods` shows for one pod, computed as kube's `printPod` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSummary {
    /// `ready/total` containers (restartable init containers count as containers).
    pub ready: String,
    /// The phase, the pod's reason, or the reason of the container holding it up.
    pub status: String,
    /// The restart count, with `(5m ago)` for the last restart when known.
    pub restarts: String,
}

/// A pod's READY, STATUS and RESTARTS at time `now`.
pub fn summarize(pod: &Value, now: SystemTime) -> PodSummary {
    let containers = array_at(pod, "/spec/containers");
    let init_specs = array_at(pod, "/spec/initContainers");
    let phase = str_at(pod, "/status/phase");
    let mut reason = match str_at(pod, "/status/reason") {
        "" => phase.to_owned(),
        r => r.to_owned(),
    };
    let conditions = array_at(pod, "/status/conditions");
    if conditions
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".to_owned();
    }
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always")
    };
    let mut total = containers.len();
    total += init_specs.iter().filter(|c| str_at(c, "/restartPolicy") == "Always").count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut restartable_restarts = 0i64;
    let mut last_restart: Option<SystemTime> = None;
    let mut last_restartable_restart: Option<SystemTime> = None;
    let later = |a: Option<SystemTime>, status: &Value| {
        let finished = status
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(parse_timestamp);
        match (a, finished) {
            (Some(a), Some(f)) => Some(a.max(f)),
            (a, f) => a.or(f),
        }
    };

    let mut initializing = false;
    for (i, status) in array_at(pod, "/status/initContainerStatuses").iter().enumerate() {
        let count = int_at(status, "/restartCount").unwrap_or(0);
        restarts += count;
        last_restart = later(last_restart, status);
        let is_restartable = restartable(str_at(status, "/name"));
        if is_restartable {
            restartable_restarts += count;
            last_restartable_restart = later(last_restartable_restart, status);
        }
        let terminated = status.pointer("/state/terminated").filter(|t| t.is_object());
        let waiting_reason = str_at(status, "/state/waiting/reason");
        if terminated.is_some_and(|t| int_at(t, "/exitCode").unwrap_or(0) == 0) {
            continue;
        }
        if is_restartable && status.get("started").and_then(Value::as_bool) == Some(true) {
            if status.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match str_at(t, "/reason") {
                "" => match int_at(t, "/signal").unwrap_or(0) {
                    0 => format!("Init:ExitCode:{}", int_at(t, "/exitCode").unwrap_or(0)),
                    signal => format!("Init:Signal:{signal}"),
                },
                r => format!("Init:{r}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .any(|c| str_at(c, "/type") == "Initialized" && str_at(c, "/status") == "True");
    if !initializing || initialized {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        for status in array_at(pod, "/status/containerStatuses").iter().rev() {
            restarts += int_at(status, "/restartCount").unwrap_or(0);
            last_restart = later(last_restart, status);
            let waiting_reason = str_at(status, "/state/waiting/reason");
            let terminated = status.pointer("/state/terminated").filter(|t| t.is_object());
            let running = status.pointer("/state/running").is_some_and(Value::is_object);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_owned();
            } else if let Some(t) = terminated {
                reason = match str_at(t, "/reason") {
                    "" => match int_at(t, "/signal").unwrap_or(0) {
                        0 => format!("ExitCode:{}", int_at(t, "/exitCode").unwrap_or(0)),
                        signal => format!("Signal:{signal}"),
                    },
                    r => r.to_owned(),
                };
            } else if status.get("ready").and_then(Value::as_bool) == Some(true) && running {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_owned();
        }
    }

    if deletion_timestamp(pod).is_some() {
        if str_at(pod, "/status/reason") == "NodeLost" {
            reason = "Unknown".to_owned();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".to_owned();
        }
    }

    let restarts = match last_restart {
        Some(when) if restarts != 0 => {
            let since = humantime::format_rfc3339_seconds(when).to_string();
            format!("{restarts} ({} ago)", age_since(Some(&since), now))
        }
        _ => restarts.to_string(),
    };
    PodSummary { ready: format!("{ready}/{total}"), status: reason, restarts }
}

fn or_none(text: &str) -> Value {
    if text.is_empty() { "<none>".into() } else { text.into() }
}

fn readiness_gates(pod: &Value) -> Value {
    let gates = array_at(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".into();
    }
    let conditions = array_at(pod, "/status/conditions");
    let passed = gates
        .iter()
        .filter(|gate| {
            let wanted = str_at(gate, "/conditionType");
            conditions
                .iter()
                .find(|c| str_at(c, "/type") == wanted)
                .is_some_and(|c| str_at(c, "/status") == "True")
        })
        .count();
    format!("{passed}/{}", gates.len()).into()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Ready",
                "string",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
                Cell::Computed(|pod| summarize(pod, SystemTime::now()).ready.into()),
            ),
            column(
                "Status",
                "string",
                0,
                "The aggregate status of the containers in this pod.",
                Cell::Computed(|pod| summarize(pod, SystemTime::now()).status.into()),
            ),
            column(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted and when the \
                 last container in this pod has restarted.",
                Cell::Computed(|pod| summarize(pod, SystemTime::now()).restarts.into()),
            ),
            age_column(),
            column(
                "IP",
                "string",
                1,
                &KIND.doc("/status/podIP"),
                Cell::Computed(|pod| or_none(primary_pod_ip(pod))),
            ),
            KIND.field_column("Node", "string", 1, "/spec/nodeName", text_or_none),
            KIND.field_column(
                "Nominated Node",
                "string",
                1,
                "/status/nominatedNodeName",
                text_or_none,
            ),
            column(
                "Readiness Gates",
                "string",
                1,
                &KIND.doc("/spec/readinessGates"),
                Cell::Computed(readiness_gates),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use std::time::Duration;

    fn created(mut pod: Value) -> Value {
        PodStrategy.decoded_create(&mut pod);
        pod
    }

    fn nginx() -> Value {
        created(json!({"metadata": {"name": "web", "namespace": "default"},
                       "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                                "ports": [{"containerPort": 80}]}]}}))
    }

    fn ago(secs: u64) -> String {
        humantime::format_rfc3339_seconds(SystemTime::now() - Duration::from_secs(secs)).to_string()
    }

    /// An indexed field's value must be what the field selector sees, or an index hint would
    /// hide events from the watchers whose selector they match.
    #[test]
    fn indexed_fields_are_read_as_field_selectors_read_them() {
        let pods = [
            nginx(),
            json!({"spec": {"nodeName": "node-1"}}),
            json!({"spec": {"nodeName": 7}}),
            json!({"spec": null}),
            json!({}),
        ];
        for pod in &pods {
            let fields = PodStrategy.selectable_fields(pod);
            for (name, pointer) in PodStrategy.indexed_fields() {
                assert!(SELECTABLE.contains(name), "{name} is selectable");
                let indexed = pod.pointer(pointer).and_then(Value::as_str).unwrap_or("");
                assert_eq!(fields.get(*name).map(String::as_str), Some(indexed), "{name}: {pod}");
            }
        }
    }

    #[test]
    fn create_defaults_spec_and_status() {
        let pod = nginx();
        let spec = &pod["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["securityContext"], json!({}));
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(spec["priority"], 0);
        // The account is the ServiceAccount admission plugin's to name, not the strategy's.
        assert!(spec.get("serviceAccountName").is_none(), "{spec}");
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(pod["status"], json!({"phase": "Pending", "qosClass": "BestEffort"}));
        assert!(PodStrategy.validate(&pod).is_empty());

        let guaranteed = created(json!({"spec": {"containers": [{"name": "a", "image": "a",
            "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}]}}));
        assert_eq!(guaranteed["status"]["qosClass"], "Guaranteed");
        assert_eq!(
            guaranteed["spec"]["containers"][0]["resources"]["requests"],
            json!({"cpu": "1", "memory": "64Mi"})
        );
        let burstable = created(json!({"spec": {"containers": [{"name": "a", "image": "a",
            "resources": {"requests": {"cpu": "1"}}}]}}));
        assert_eq!(burstable["status"]["qosClass"], "Burstable");
    }

    #[test]
    fn a_pod_needs_containers() {
        let pod = created(json!({"metadata": {"name": "p"}, "spec": {}}));
        assert_eq!(text(&PodStrategy.validate(&pod)), ["spec.containers: Required value"]);
        let pod = created(json!({"metadata": {"name": "p"}}));
        assert_eq!(text(&PodStrategy.validate(&pod)), ["spec.containers: Required value"]);
    }

    #[test]
    fn updates_may_change_images_and_deadlines_only() {
        let old = nginx();
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = "nginx:1.26".into();
        new["spec"]["activeDeadlineSeconds"] = 60.into();
        new["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
        new["metadata"]["labels"] = json!({"a": "b"});
        PodStrategy.decoded_update(&mut new, &old);
        assert!(PodStrategy.validate_update(&new, &old).is_empty());

        let mut changed = old.clone();
        changed["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080.into();
        PodStrategy.decoded_update(&mut changed, &old);
        let causes = PodStrategy.validate_update(&changed, &old);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec");
        assert_eq!(causes[0].reason.as_str(), "FieldValueForbidden");
        assert!(causes[0].message.starts_with(&format!("Forbidden: {UPDATABLE_FIELDS_MESSAGE}\n")));
        assert!(causes[0].message.contains("containers[0].ports[0].containerPort: 8080"));

        let mut more = old.clone();
        more["spec"]["containers"].as_array_mut().unwrap().push(json!({"name": "b", "image": "b"}));
        PodStrategy.decoded_update(&mut more, &old);
        assert_eq!(
            text(&PodStrategy.validate_update(&more, &old)),
            ["spec.containers: Forbidden: pod updates may not add or remove containers"]
        );
    }

    #[test]
    fn deadlines_shrink_and_tolerations_stay() {
        let mut old = nginx();
        old["spec"]["activeDeadlineSeconds"] = 60.into();
        old["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists", "effect": "NoExecute",
                                             "tolerationSeconds": 10}]);
        let mut new = old.clone();
        new["spec"]["activeDeadlineSeconds"] = 120.into();
        assert_eq!(
            text(&PodStrategy.validate_update(&new, &old)),
            ["spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to \
              previous value"]
        );
        let mut new = old.clone();
        new["spec"]["tolerations"][0]["tolerationSeconds"] = 20.into();
        assert!(PodStrategy.validate_update(&new, &old).is_empty());
        new["spec"]["tolerations"][0]["key"] = "other".into();
        assert_eq!(
            text(&PodStrategy.validate_update(&new, &old)),
            ["spec.tolerations: Forbidden: existing toleration can not be modified except its \
              tolerationSeconds"]
        );
    }

    #[test]
    fn status_writes_keep_the_qos_class() {
        let old = nginx();
        let mut new = old.clone();
        new["status"] = json!({"phase": "Running"});
        PodStrategy.decoded_update(&mut new, &old);
        assert_eq!(new["status"], json!({"phase": "Running", "qosClass": "BestEffort"}));
    }

    #[test]
    fn field_selectors() {
        let mut pod = nginx();
        pod["spec"]["nodeName"] = "node-1".into();
        pod["spec"]["serviceAccountName"] = "default".into();
        pod["status"]["podIPs"] = json!([{"ip": "10.0.0.5"}]);
        let fields = PodStrategy.selectable_fields(&pod);
        assert_eq!(fields["spec.nodeName"], "node-1");
        assert_eq!(fields["spec.host"], "node-1");
        assert_eq!(fields["spec.restartPolicy"], "Always");
        assert_eq!(fields["spec.schedulerName"], "default-scheduler");
        assert_eq!(fields["spec.serviceAccountName"], "default");
        assert_eq!(fields["spec.hostNetwork"], "false");
        assert_eq!(fields["status.phase"], "Pending");
        assert_eq!(fields["status.podIP"], "10.0.0.5");
        assert_eq!(fields["status.nominatedNodeName"], "");
        for name in fields.keys() {
            assert!(SELECTABLE.contains(&name.as_str()), "{name}");
        }
    }

    fn with_status(status: Value) -> Value {
        let mut pod = nginx();
        pod["spec"]["containers"] =
            json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]);
        pod["status"] = status;
        pod
    }

    #[test]
    fn summaries_follow_kubectl() {
        let pod = with_status(json!({"phase": "Running", "containerStatuses": [
            {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
            {"name": "b", "ready": false, "restartCount": 0, "state": {"running": {}}}]}));
        let s = summarize(&pod, SystemTime::now());
        assert_eq!(
            (s.ready.as_str(), s.status.as_str(), s.restarts.as_str()),
            ("1/2", "Running", "0")
        );

        let crashing = with_status(json!({"phase": "Running", "containerStatuses": [
            {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
            {"name": "b", "ready": false, "restartCount": 4,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(300)}}}]}));
        let s = summarize(&crashing, SystemTime::now());
        assert_eq!(s.status, "CrashLoopBackOff");
        assert_eq!(s.restarts, "4 (5m ago)");

        let exited = with_status(json!({"phase": "Failed", "containerStatuses": [
            {"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}));
        assert_eq!(summarize(&exited, SystemTime::now()).status, "Signal:9");

        let pending = with_status(json!({"phase": "Pending"}));
        assert_eq!(summarize(&pending, SystemTime::now()).ready, "0/2");
        assert_eq!(summarize(&pending, SystemTime::now()).status, "Pending");

        let mut deleting = pending.clone();
        deleting["metadata"]["deletionTimestamp"] = ago(1).into();
        assert_eq!(summarize(&deleting, SystemTime::now()).status, "Terminating");

        let evicted = with_status(json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(summarize(&evicted, SystemTime::now()).status, "Evicted");
    }

    #[test]
    fn init_containers_show_progress() {
        let now = SystemTime::now();
        let mut pod = with_status(json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "init-1", "state": {"terminated": {"exitCode": 0}}},
            {"name": "init-2", "restartCount": 2, "state": {"running": {}}}]}));
        pod["spec"]["initContainers"] = json!([{"name": "init-1", "image": "x"},
                                               {"name": "init-2", "image": "x"},
                                               {"name": "sidecar", "image": "x", "restartPolicy": "Always"}]);
        let s = summarize(&pod, now);
        assert_eq!(
            (s.status.as_str(), s.ready.as_str(), s.restarts.as_str()),
            ("Init:1/3", "0/3", "2")
        );
        pod["status"]["initContainerStatuses"][1]["state"] =
            json!({"waiting": {"reason": "ImagePullBackOff"}});
        assert_eq!(summarize(&pod, now).status, "Init:ImagePullBackOff");
        pod["status"]["initContainerStatuses"][1]["state"] = json!({"terminated": {"exitCode": 2}});
        assert_eq!(summarize(&pod, now).status, "Init:ExitCode:2");
    }

    #[test]
    fn table_cells() {
        let mut pod =
            with_status(json!({"phase": "Running", "podIP": "10.1.2.3", "containerStatuses": [
            {"name": "a", "ready": true, "state": {"running": {}}},
            {"name": "b", "ready": true, "state": {"running": {}}}],
            "conditions": [{"type": "example.com/gate", "status": "True"}]}));
        pod["spec"]["nodeName"] = "node-1".into();
        pod["spec"]["readinessGates"] = json!([{"conditionType": "example.com/gate"},
                                               {"conditionType": "other"}]);
        pod["metadata"]["creationTimestamp"] = ago(3 * 3600).into();
        let table = render_table(&table(), &[pod], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web", "2/2", "Running", "0", "3h", "10.1.2.3", "node-1", "<none>", "1/2"])
        );
        let names: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_owned(), c["priority"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                ("Name".to_owned(), 0),
                ("Ready".to_owned(), 0),
                ("Status".to_owned(), 0),
                ("Restarts".to_owned(), 0),
                ("Age".to_owned(), 0),
                ("IP".to_owned(), 1),
                ("Node".to_owned(), 1),
                ("Nominated Node".to_owned(), 1),
                ("Readiness Gates".to_owned(), 1),
            ]
        );
        let r = resource();
        assert_eq!(r.categories, ["all"]);
        assert_eq!(r.short_names, ["po"]);
        assert!(r.status_subresource);
    }
}
