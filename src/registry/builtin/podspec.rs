//! The pod spec shared by Pods and pod templates (Deployments): kube's `SetDefaults_PodSpec` and
//! friends, `ValidatePodSpec` (the parts a server without nodes can judge), resource quantities
//! and the QoS class.
//!
//! Defaulting is split as kube splits it: [`default_pod_spec`] applies to every pod spec,
//! templates included; [`default_pod_only`] holds what kube defaults on Pods alone
//! (`enableServiceLinks`, requests copied from limits, host-network ports).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{
    child_object, default_string, default_value, object_items, object_items_mut, opt_array,
    opt_bool, opt_int, opt_object, opt_str, opt_string_map,
};
use crate::meta::validation::{
    FieldCause, is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_label_value,
    validate_annotations, validate_labels,
};

pub const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
pub const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
pub const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
pub const TERMINATION_MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];
/// `supportedPortProtocols`, sorted as kube lists them.
pub const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const TOLERATION_OPERATORS: &[&str] = &["Equal", "Exists"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// The container lists of a pod spec.
pub const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Volume sources, in the order kube's `validateVolumeSource` looks at them.
const VOLUME_SOURCES: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "configMap",
    "storageos",
    "csi",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "rbd",
    "projected",
];

// ---------------------------------------------------------------------------------------------
// Defaulting.

/// kube's defaults for any pod spec (Pods and templates): DNS and restart policy, security
/// context, grace period, scheduler, and the defaults of containers, ports, probes and volumes.
pub fn default_pod_spec(spec: &mut Map<String, Value>) {
    default_string(spec, "dnsPolicy", "ClusterFirst");
    default_string(spec, "restartPolicy", "Always");
    default_value(spec, "securityContext", json!({}));
    default_value(spec, "terminationGracePeriodSeconds", json!(30));
    default_string(spec, "schedulerName", "default-scheduler");
    // The v1 conversion: `serviceAccount` is the deprecated alias of `serviceAccountName`.
    let account = spec.get("serviceAccountName").and_then(Value::as_str).unwrap_or("");
    let deprecated = spec.get("serviceAccount").and_then(Value::as_str).unwrap_or("");
    if account.is_empty() && !deprecated.is_empty() {
        spec.insert("serviceAccountName".into(), deprecated.to_owned().into());
    } else if !account.is_empty() {
        spec.insert("serviceAccount".into(), account.to_owned().into());
    }
    for list in CONTAINER_LISTS {
        for container in object_items_mut(spec, list) {
            default_container(container);
        }
    }
    for volume in object_items_mut(spec, "volumes") {
        default_volume(volume);
    }
}

/// kube's `SetDefaults_Pod`: what only Pods (not templates) get.
pub fn default_pod_only(spec: &mut Map<String, Value>) {
    default_value(spec, "enableServiceLinks", json!(true));
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for list in ["containers", "initContainers"] {
        for container in object_items_mut(spec, list) {
            requests_from_limits(container);
            if host_network {
                for port in object_items_mut(container, "ports") {
                    let container_port = port.get("containerPort").cloned();
                    let unset = matches!(port.get("hostPort"), None | Some(Value::Null))
                        || port.get("hostPort") == Some(&json!(0));
                    if let (true, Some(p)) = (unset, container_port) {
                        port.insert("hostPort".into(), p);
                    }
                }
            }
        }
    }
}

/// Limits without a request become the request.
fn requests_from_limits(container: &mut Map<String, Value>) {
    let Some(resources) = container.get_mut("resources").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let Some(requests) = child_object(resources, "requests") else { return };
    for (name, quantity) in limits {
        requests.entry(name).or_insert(quantity);
    }
}

fn default_container(container: &mut Map<String, Value>) {
    if matches!(container.get("imagePullPolicy"), None | Some(Value::Null))
        || container.get("imagePullPolicy") == Some(&json!(""))
    {
        let image = container.get("image").and_then(Value::as_str).unwrap_or("");
        let policy = if image_tag(image) == Some("latest") { "Always" } else { "IfNotPresent" };
        container.insert("imagePullPolicy".into(), policy.into());
    }
    default_string(container, "terminationMessagePath", "/dev/termination-log");
    default_string(container, "terminationMessagePolicy", "File");
    for port in object_items_mut(container, "ports") {
        default_string(port, "protocol", "TCP");
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).and_then(Value::as_object_mut) {
            default_value(probe, "timeoutSeconds", json!(1));
            default_value(probe, "periodSeconds", json!(10));
            default_value(probe, "successThreshold", json!(1));
            default_value(probe, "failureThreshold", json!(3));
            default_http_get(probe);
        }
    }
    if let Some(lifecycle) = container.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for hook in ["postStart", "preStop"] {
            if let Some(handler) = lifecycle.get_mut(hook).and_then(Value::as_object_mut) {
                default_http_get(handler);
            }
        }
    }
    for env in object_items_mut(container, "env") {
        let field_ref = env
            .get_mut("valueFrom")
            .and_then(Value::as_object_mut)
            .and_then(|v| v.get_mut("fieldRef"))
            .and_then(Value::as_object_mut);
        if let Some(field_ref) = field_ref {
            default_string(field_ref, "apiVersion", "v1");
        }
    }
}

/// `SetDefaults_HTTPGetAction`.
fn default_http_get(handler: &mut Map<String, Value>) {
    if let Some(get) = handler.get_mut("httpGet").and_then(Value::as_object_mut) {
        default_string(get, "path", "/");
        default_string(get, "scheme", "HTTP");
    }
}

/// `SetDefaults_Volume` and the sources' default modes.
fn default_volume(volume: &mut Map<String, Value>) {
    if !VOLUME_SOURCES.iter().any(|s| !matches!(volume.get(*s), None | Some(Value::Null))) {
        volume.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "projected", "downwardAPI"] {
        if let Some(source) = volume.get_mut(source).and_then(Value::as_object_mut) {
            default_value(source, "defaultMode", json!(420));
        }
    }
    if let Some(host_path) = volume.get_mut("hostPath").and_then(Value::as_object_mut) {
        default_value(host_path, "type", json!(""));
    }
}

/// The tag of an image reference as the docker reference grammar reads it: after the last `:`
/// that follows the last `/`, before any digest; an image with neither tag nor digest is
/// `latest`, one with only a digest has no tag.
pub fn image_tag(image: &str) -> Option<&str> {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    match last_segment.rsplit_once(':') {
        Some((_, tag)) => Some(tag),
        None if digest.is_some() => None,
        None => Some("latest"),
    }
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// kube's `ValidatePodTemplateSpec`: the template's labels (at `<path>.labels`, as kube words
/// it) and annotations, and its pod spec.
pub fn validate_pod_template(template: &Value, path: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    if !template.is_object() {
        if !template.is_null() {
            causes.push(FieldCause::type_invalid(path, template.clone(), "must be an object"));
        }
        causes.push(FieldCause::required(format!("{path}.spec.containers"), ""));
        return causes;
    }
    let meta_path = format!("{path}.metadata");
    if opt_object(template, "metadata", &meta_path, &mut causes).is_some() {
        let meta = &template["metadata"];
        let labels = opt_string_map(meta, "labels", &format!("{meta_path}.labels"), &mut causes);
        causes.extend(validate_labels(labels, &format!("{path}.labels")));
        let annotations =
            opt_string_map(meta, "annotations", &format!("{meta_path}.annotations"), &mut causes);
        causes.extend(validate_annotations(annotations, &format!("{path}.annotations")));
    }
    let spec_path = format!("{path}.spec");
    match template.get("spec") {
        Some(spec) if spec.is_object() => causes.extend(validate_pod_spec(spec, &spec_path)),
        None | Some(Value::Null) => {
            causes.push(FieldCause::required(format!("{spec_path}.containers"), ""))
        }
        Some(other) => {
            causes.push(FieldCause::type_invalid(spec_path, other.clone(), "must be an object"))
        }
    }
    causes
}

/// kube's `ValidatePodSpec` for the fields an API server can judge without nodes: volumes,
/// containers (names, images, ports, mounts, policies, resources), restart and DNS policy,
/// names of the service account, node and host, deadlines and tolerations.
pub fn validate_pod_spec(spec: &Value, path: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let volumes = validate_volumes(spec, path, &mut causes);

    let containers_path = format!("{path}.containers");
    let containers = opt_array(spec, "containers", &containers_path, &mut causes);
    if containers.is_empty() && spec.get("containers").is_none_or(|c| c.is_null() || c.is_array()) {
        causes.push(FieldCause::required(containers_path.clone(), ""));
    }
    let mut names = BTreeSet::new();
    for (i, container) in object_items(containers, &containers_path, &mut causes) {
        let container_path = format!("{containers_path}[{i}]");
        validate_container(container, &container_path, &volumes, &mut names, &mut causes);
    }
    let init_path = format!("{path}.initContainers");
    let init_containers = opt_array(spec, "initContainers", &init_path, &mut causes);
    for (i, container) in object_items(init_containers, &init_path, &mut causes) {
        let container_path = format!("{init_path}[{i}]");
        validate_container(container, &container_path, &volumes, &mut names, &mut causes);
        let policy_path = format!("{container_path}.restartPolicy");
        if let Some(policy) = opt_str(container, "restartPolicy", &policy_path, &mut causes)
            && policy != "Always"
        {
            causes.push(FieldCause::not_supported(policy_path, policy, &["Always"]));
        }
    }

    let restart_path = format!("{path}.restartPolicy");
    match opt_str(spec, "restartPolicy", &restart_path, &mut causes) {
        None | Some("") => causes.push(FieldCause::required(restart_path, "")),
        Some(policy) if !RESTART_POLICIES.contains(&policy) => {
            causes.push(FieldCause::not_supported(restart_path, policy, RESTART_POLICIES))
        }
        Some(_) => {}
    }
    let dns_path = format!("{path}.dnsPolicy");
    match opt_str(spec, "dnsPolicy", &dns_path, &mut causes) {
        None | Some("") => causes.push(FieldCause::required(dns_path, "")),
        Some(policy) if !DNS_POLICIES.contains(&policy) => {
            causes.push(FieldCause::not_supported(dns_path, policy, DNS_POLICIES))
        }
        Some("None") if spec.get("dnsConfig").is_none_or(Value::is_null) => {
            causes.push(FieldCause::required(
                format!("{path}.dnsConfig"),
                "must provide `dnsConfig` when `dnsPolicy` is None",
            ))
        }
        Some(_) => {}
    }

    let selector_path = format!("{path}.nodeSelector");
    let selector = opt_string_map(spec, "nodeSelector", &selector_path, &mut causes);
    causes.extend(validate_labels(selector, &selector_path));
    for field in ["serviceAccountName", "nodeName"] {
        let field_path = format!("{path}.{field}");
        if let Some(name) = opt_str(spec, field, &field_path, &mut causes)
            && !name.is_empty()
        {
            for msg in is_dns1123_subdomain(name) {
                causes.push(FieldCause::invalid(field_path.clone(), name, &msg));
            }
        }
    }
    for field in ["hostname", "subdomain"] {
        let field_path = format!("{path}.{field}");
        if let Some(name) = opt_str(spec, field, &field_path, &mut causes)
            && !name.is_empty()
        {
            for msg in is_dns1123_label(name) {
                causes.push(FieldCause::invalid(field_path.clone(), name, &msg));
            }
        }
    }
    for field in ["hostNetwork", "hostPID", "hostIPC", "enableServiceLinks"] {
        opt_bool(spec, field, &format!("{path}.{field}"), &mut causes);
    }
    let deadline_path = format!("{path}.activeDeadlineSeconds");
    if let Some(seconds) = opt_int(spec, "activeDeadlineSeconds", &deadline_path, &mut causes)
        && !(1..=i64::from(i32::MAX)).contains(&seconds)
    {
        causes.push(FieldCause::invalid(
            deadline_path,
            seconds,
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    let grace_path = format!("{path}.terminationGracePeriodSeconds");
    opt_int(spec, "terminationGracePeriodSeconds", &grace_path, &mut causes);
    let tolerations_path = format!("{path}.tolerations");
    let tolerations = opt_array(spec, "tolerations", &tolerations_path, &mut causes);
    for (i, toleration) in object_items(tolerations, &tolerations_path, &mut causes) {
        validate_toleration(toleration, &format!("{tolerations_path}[{i}]"), &mut causes);
    }
    causes
}

/// Validates `volumes` and returns their names, for the mounts to refer to.
fn validate_volumes(spec: &Value, path: &str, causes: &mut Vec<FieldCause>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let volumes_path = format!("{path}.volumes");
    let volumes = opt_array(spec, "volumes", &volumes_path, causes);
    for (i, volume) in object_items(volumes, &volumes_path, causes) {
        let volume_path = format!("{volumes_path}[{i}]");
        check_unique_name(volume, &volume_path, &mut names, causes);
        let sources: Vec<&str> = VOLUME_SOURCES
            .iter()
            .copied()
            .filter(|s| volume.get(*s).is_some_and(|v| !v.is_null()))
            .collect();
        match sources.as_slice() {
            [] => causes.push(FieldCause::required(volume_path, "must specify a volume type")),
            [_] => {}
            [_, second, ..] => causes.push(FieldCause::forbidden(
                format!("{volume_path}.{second}"),
                "may not specify more than 1 volume type",
            )),
        }
    }
    names
}

/// A required DNS-1123 label `name`, unique among `names` (volumes; containers of a pod).
fn check_unique_name(
    item: &Value,
    path: &str,
    names: &mut BTreeSet<String>,
    causes: &mut Vec<FieldCause>,
) {
    let name_path = format!("{path}.name");
    match opt_str(item, "name", &name_path, causes) {
        None | Some("") => causes.push(FieldCause::required(name_path, "")),
        Some(name) => {
            for msg in is_dns1123_label(name) {
                causes.push(FieldCause::invalid(name_path.clone(), name, &msg));
            }
            if !names.insert(name.to_owned()) {
                causes.push(FieldCause::duplicate(name_path, name));
            }
        }
    }
}

fn validate_container(
    container: &Value,
    path: &str,
    volumes: &BTreeSet<String>,
    names: &mut BTreeSet<String>,
    causes: &mut Vec<FieldCause>,
) {
    check_unique_name(container, path, names, causes);
    let image_path = format!("{path}.image");
    match opt_str(container, "image", &image_path, causes) {
        None | Some("") => causes.push(FieldCause::required(image_path, "")),
        Some(image) if image.trim() != image => causes.push(FieldCause::invalid(
            image_path,
            image,
            "must not have leading or trailing whitespace",
        )),
        Some(_) => {}
    }
    validate_ports(container, &format!("{path}.ports"), causes);
    let env_path = format!("{path}.env");
    let env = opt_array(container, "env", &env_path, causes);
    for (i, var) in object_items(env, &env_path, causes) {
        let var_name_path = format!("{env_path}[{i}].name");
        if opt_str(var, "name", &var_name_path, causes).is_none_or(str::is_empty) {
            causes.push(FieldCause::required(var_name_path, ""));
        }
    }
    let mounts_path = format!("{path}.volumeMounts");
    let mounts = opt_array(container, "volumeMounts", &mounts_path, causes);
    let mut mount_points = BTreeSet::new();
    for (i, mount) in object_items(mounts, &mounts_path, causes) {
        let mount_path = format!("{mounts_path}[{i}]");
        let name_path = format!("{mount_path}.name");
        let name = opt_str(mount, "name", &name_path, causes).unwrap_or("");
        if name.is_empty() {
            causes.push(FieldCause::required(name_path.clone(), ""));
        }
        if !volumes.contains(name) {
            causes.push(FieldCause::not_found(name_path, name));
        }
        let point_path = format!("{mount_path}.mountPath");
        let point = opt_str(mount, "mountPath", &point_path, causes).unwrap_or("");
        if point.is_empty() {
            causes.push(FieldCause::required(point_path.clone(), ""));
        }
        if !mount_points.insert(point.to_owned()) {
            causes.push(FieldCause::invalid(point_path, point, "must be unique"));
        }
    }
    let pull_path = format!("{path}.imagePullPolicy");
    match opt_str(container, "imagePullPolicy", &pull_path, causes) {
        None | Some("") => causes.push(FieldCause::required(pull_path, "")),
        Some(policy) if !PULL_POLICIES.contains(&policy) => {
            causes.push(FieldCause::not_supported(pull_path, policy, PULL_POLICIES))
        }
        Some(_) => {}
    }
    let message_path = format!("{path}.terminationMessagePolicy");
    match opt_str(container, "terminationMessagePolicy", &message_path, causes) {
        None | Some("") => causes
            .push(FieldCause::required(message_path, "must be 'File' or 'FallbackToLogsOnError'")),
        Some(policy) if !TERMINATION_MESSAGE_POLICIES.contains(&policy) => causes
            .push(FieldCause::not_supported(message_path, policy, TERMINATION_MESSAGE_POLICIES)),
        Some(_) => {}
    }
    validate_resources(container, &format!("{path}.resources"), causes);
}

fn validate_ports(container: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let ports = opt_array(container, "ports", path, causes);
    let mut names = BTreeSet::new();
    for (i, port) in object_items(ports, path, causes) {
        let port_path = format!("{path}[{i}]");
        let name_path = format!("{port_path}.name");
        if let Some(name) = opt_str(port, "name", &name_path, causes).filter(|n| !n.is_empty()) {
            let errors = is_valid_port_name(name);
            if !errors.is_empty() {
                for msg in errors {
                    causes.push(FieldCause::invalid(name_path.clone(), name, &msg));
                }
            } else if !names.insert(name.to_owned()) {
                causes.push(FieldCause::duplicate(name_path, name));
            }
        }
        let number_path = format!("{port_path}.containerPort");
        match opt_int(port, "containerPort", &number_path, causes) {
            None | Some(0) => causes.push(FieldCause::required(number_path, "")),
            Some(n) => {
                for msg in is_valid_port_num(n) {
                    causes.push(FieldCause::invalid(number_path.clone(), n, &msg));
                }
            }
        }
        let host_path = format!("{port_path}.hostPort");
        if let Some(n) = opt_int(port, "hostPort", &host_path, causes).filter(|n| *n != 0) {
            for msg in is_valid_port_num(n) {
                causes.push(FieldCause::invalid(host_path.clone(), n, &msg));
            }
        }
        validate_protocol(port, &format!("{port_path}.protocol"), causes);
    }
}

/// A port's `protocol`: required (it is defaulted) and one of [`PROTOCOLS`].
pub(crate) fn validate_protocol(port: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    match opt_str(port, "protocol", path, causes) {
        None | Some("") => causes.push(FieldCause::required(path, "")),
        Some(protocol) if !PROTOCOLS.contains(&protocol) => {
            causes.push(FieldCause::not_supported(path, protocol, PROTOCOLS))
        }
        Some(_) => {}
    }
}

/// apimachinery's `IsValidPortNum`.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".to_owned()]
    }
}

/// apimachinery's `IsValidPortName` (an IANA service name).
pub fn is_valid_port_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push(crate::meta::validation::max_len_error(15));
    }
    if name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    } else if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

fn validate_resources(container: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let Some(resources) = opt_object(container, "resources", path, causes) else { return };
    let resources = Value::Object(resources.clone());
    let mut limits: BTreeMap<String, (i128, String)> = BTreeMap::new();
    for part in ["limits", "requests"] {
        let part_path = format!("{path}.{part}");
        let Some(list) = opt_object(&resources, part, &part_path, causes) else { continue };
        for (name, value) in list {
            let value_path = format!("{part_path}[{name}]");
            for msg in is_qualified_name(name) {
                causes.push(FieldCause::invalid(value_path.clone(), name.as_str(), &msg));
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    causes.push(FieldCause::type_invalid(
                        value_path,
                        other.clone(),
                        "must be a quantity",
                    ));
                    continue;
                }
            };
            let Some(amount) = parse_quantity(&text) else {
                causes.push(FieldCause::invalid(
                    value_path,
                    text.as_str(),
                    "quantities must match the regular expression \
                     '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                ));
                continue;
            };
            if amount < 0 {
                causes.push(FieldCause::invalid(
                    value_path,
                    text.as_str(),
                    "must be greater than or equal to 0",
                ));
                continue;
            }
            if part == "limits" {
                limits.insert(name.clone(), (amount, text));
            } else if let Some((limit, limit_text)) = limits.get(name)
                && amount > *limit
            {
                causes.push(FieldCause::invalid(
                    part_path.clone(),
                    text.as_str(),
                    &format!("must be less than or equal to {name} limit of {limit_text}"),
                ));
            }
        }
    }
}

pub(crate) fn validate_toleration(toleration: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let key = opt_str(toleration, "key", &format!("{path}.key"), causes).unwrap_or("");
    let operator =
        opt_str(toleration, "operator", &format!("{path}.operator"), causes).unwrap_or("");
    let value = opt_str(toleration, "value", &format!("{path}.value"), causes).unwrap_or("");
    let effect = opt_str(toleration, "effect", &format!("{path}.effect"), causes).unwrap_or("");
    let seconds =
        opt_int(toleration, "tolerationSeconds", &format!("{path}.tolerationSeconds"), causes);
    if !key.is_empty() {
        for msg in is_qualified_name(key) {
            causes.push(FieldCause::invalid(format!("{path}.key"), key, &msg));
        }
    }
    if key.is_empty() && operator != "Exists" {
        causes.push(FieldCause::invalid(
            format!("{path}.operator"),
            operator,
            "operator must be Exists when `key` is empty, which means \"match all values and all \
             keys\"",
        ));
    }
    if seconds.is_some() && effect != "NoExecute" {
        causes.push(FieldCause::invalid(
            format!("{path}.effect"),
            effect,
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ));
    }
    match operator {
        "" | "Equal" => {
            let errors = is_valid_label_value(value);
            if !errors.is_empty() {
                causes.push(FieldCause::invalid(
                    format!("{path}.operator"),
                    value,
                    &errors.join(";"),
                ));
            }
        }
        "Exists" => {
            if !value.is_empty() {
                causes.push(FieldCause::invalid(
                    format!("{path}.operator"),
                    toleration.clone(),
                    "value must be empty when `operator` is 'Exists'",
                ));
            }
        }
        other => causes.push(FieldCause::not_supported(
            format!("{path}.operator"),
            other,
            TOLERATION_OPERATORS,
        )),
    }
    if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
        causes.push(FieldCause::not_supported(format!("{path}.effect"), effect, TAINT_EFFECTS));
    }
}

// ---------------------------------------------------------------------------------------------
// Quantities and QoS.

/// Parses a `resource.Quantity` (`100m`, `1.5Gi`, `2e3`, `128974848`) into billionths of a unit
/// (nano-units); `None` when it is not a quantity. Precise enough to compare and add requests.
pub fn parse_quantity(text: &str) -> Option<i128> {
    crate::meta::quantity::Quantity::parse(text.trim()).map(|quantity| quantity.nanos())
}

/// kube's `qos.GetPodQOS` over `spec.containers` and `spec.initContainers` (after requests
/// were defaulted from limits): `BestEffort` without any CPU/memory request or limit,
/// `Guaranteed` when every container limits both and requests equal limits, else `Burstable`.
pub fn qos_class(spec: &Value) -> &'static str {
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    for list in ["containers", "initContainers"] {
        for container in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
            let quantities = |part: &str| -> Vec<(&'static str, i128)> {
                ["cpu", "memory"]
                    .into_iter()
                    .filter_map(|name| {
                        let value = container.pointer(&format!("/resources/{part}/{name}"))?;
                        let text = match value {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => return None,
                        };
                        parse_quantity(&text).filter(|q| *q > 0).map(|q| (name, q))
                    })
                    .collect()
            };
            for (name, q) in quantities("requests") {
                *requests.entry(name).or_default() += q;
            }
            let container_limits = quantities("limits");
            if container_limits.len() < 2 {
                guaranteed = false;
            }
            for (name, q) in container_limits {
                *limits.entry(name).or_default() += q;
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed
        && requests.iter().all(|(name, q)| limits.get(name) == Some(q))
        && requests.len() == limits.len()
    {
        return "Guaranteed";
    }
    "Burstable"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;

    fn defaulted(mut spec: Value) -> Value {
        default_pod_spec(spec.as_object_mut().unwrap());
        spec
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), Some("latest"));
        assert_eq!(image_tag("nginx:1.25"), Some("1.25"));
        assert_eq!(image_tag("localhost:5000/app"), Some("latest"));
        assert_eq!(image_tag("localhost:5000/app:v1"), Some("v1"));
        assert_eq!(image_tag("app@sha256:abc"), None);
        assert_eq!(image_tag("app:v2@sha256:abc"), Some("v2"));
    }

    #[test]
    fn pod_spec_defaults() {
        let spec = defaulted(json!({
            "serviceAccount": "builder",
            "containers": [
                {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}],
                 "livenessProbe": {"httpGet": {"port": 80}},
                 "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]},
                {"name": "b", "image": "nginx:1.25", "imagePullPolicy": "Never"}
            ],
            "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]
        }));
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["securityContext"], json!({}));
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["serviceAccountName"], "builder");
        let a = &spec["containers"][0];
        assert_eq!(a["imagePullPolicy"], "Always");
        assert_eq!(a["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(a["terminationMessagePolicy"], "File");
        assert_eq!(a["ports"][0]["protocol"], "TCP");
        assert_eq!(
            a["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(a["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        assert_eq!(spec["containers"][1]["imagePullPolicy"], "Never");
        assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(spec["volumes"][1]["configMap"]["defaultMode"], 420);
        assert!(spec.get("enableServiceLinks").is_none(), "templates do not get it");
        assert!(
            validate_pod_spec(&spec, "spec").is_empty(),
            "{:?}",
            validate_pod_spec(&spec, "spec")
        );
    }

    #[test]
    fn pod_only_defaults() {
        let mut spec = json!({"hostNetwork": true, "containers": [{"name": "a",
            "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Gi"}},
            "ports": [{"containerPort": 8080}]}]});
        default_pod_only(spec.as_object_mut().unwrap());
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(
            spec["containers"][0]["resources"]["requests"],
            json!({"cpu": "1", "memory": "1Gi"})
        );
        assert_eq!(spec["containers"][0]["ports"][0]["hostPort"], 8080);
    }

    #[test]
    fn containers_are_required_and_checked() {
        let spec = defaulted(json!({"containers": []}));
        assert_eq!(text(&validate_pod_spec(&spec, "spec")), ["spec.containers: Required value"]);
        let spec = defaulted(json!({
            "containers": [
                {"name": "Web", "image": ""},
                {"name": "dup", "image": "x"},
                {"name": "dup", "image": " y"}
            ],
            "initContainers": [{"name": "dup", "image": "x", "restartPolicy": "Never"}]
        }));
        let causes = validate_pod_spec(&spec, "spec");
        let fields: Vec<_> = causes.iter().map(|c| (c.field.as_str(), c.reason.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("spec.containers[0].name", "FieldValueInvalid"),
                ("spec.containers[0].image", "FieldValueRequired"),
                ("spec.containers[2].name", "FieldValueDuplicate"),
                ("spec.containers[2].image", "FieldValueInvalid"),
                ("spec.initContainers[0].name", "FieldValueDuplicate"),
                ("spec.initContainers[0].restartPolicy", "FieldValueNotSupported"),
            ]
        );
        assert_eq!(causes[2].message, "Duplicate value: \"dup\"");
        assert!(
            causes[0].message.starts_with("Invalid value: \"Web\": a lowercase RFC 1123 label")
        );
    }

    #[test]
    fn ports_are_checked() {
        let spec = defaulted(json!({"containers": [{"name": "a", "image": "x", "ports": [
            {"containerPort": 0},
            {"containerPort": 70000, "name": "http"},
            {"containerPort": 80, "name": "http", "protocol": "HTTP"},
            {"containerPort": 81, "name": "Bad--", "hostPort": -1}
        ]}]}));
        assert_eq!(
            text(&validate_pod_spec(&spec, "spec")),
            [
                "spec.containers[0].ports[0].containerPort: Required value",
                "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between \
                 1 and 65535, inclusive",
                "spec.containers[0].ports[2].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[2].protocol: Unsupported value: \"HTTP\": supported \
                 values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.containers[0].ports[3].name: Invalid value: \"Bad--\": must contain only \
                 alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.containers[0].ports[3].name: Invalid value: \"Bad--\": must not contain \
                 consecutive hyphens",
                "spec.containers[0].ports[3].name: Invalid value: \"Bad--\": must not begin or \
                 end with a hyphen",
                "spec.containers[0].ports[3].hostPort: Invalid value: -1: must be between 1 and \
                 65535, inclusive",
            ]
        );
    }

    #[test]
    fn policies_and_volumes_are_checked() {
        let spec = json!({
            "restartPolicy": "Sometimes", "dnsPolicy": "None",
            "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Maybe",
                            "terminationMessagePolicy": "File",
                            "volumeMounts": [{"name": "missing", "mountPath": "/a"},
                                             {"name": "v", "mountPath": "/a"}]}],
            "volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}, "secret": {}}]
        });
        assert_eq!(
            text(&validate_pod_spec(&spec, "spec")),
            [
                "spec.volumes[1].name: Duplicate value: \"v\"",
                "spec.volumes[1].secret: Forbidden: may not specify more than 1 volume type",
                "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique",
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Maybe\": supported \
                 values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \
                 \"Always\", \"OnFailure\", \"Never\"",
                "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
            ]
        );
        let spec = defaulted(json!({"dnsPolicy": "Cluster", "activeDeadlineSeconds": 0,
                                    "containers": [{"name": "a", "image": "x"}]}));
        assert_eq!(
            text(&validate_pod_spec(&spec, "spec")),
            [
                "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \
                 \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, \
                 inclusive",
            ]
        );
    }

    #[test]
    fn resources_and_tolerations_are_checked() {
        let spec = defaulted(json!({"containers": [{"name": "a", "image": "x", "resources": {
            "limits": {"cpu": "500m"}, "requests": {"cpu": "1", "memory": "lots"}}}],
            "tolerations": [{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Sometimes",
                             "effect": "Never"}]}));
        assert_eq!(
            text(&validate_pod_spec(&spec, "spec")),
            [
                "spec.containers[0].resources.requests: Invalid value: \"1\": must be less than \
                 or equal to cpu limit of 500m",
                "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": \
                 quantities must match the regular expression \
                 '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists \
                 when `key` is empty, which means \"match all values and all keys\"",
                "spec.tolerations[1].operator: Unsupported value: \"Sometimes\": supported \
                 values: \"Equal\", \"Exists\"",
                "spec.tolerations[1].effect: Unsupported value: \"Never\": supported values: \
                 \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ]
        );
    }

    #[test]
    fn templates_report_labels_at_kubes_path() {
        let template = json!({"metadata": {"labels": {"bad key": "x"}},
                              "spec": defaulted(json!({"containers": [{"name": "a", "image": "x"}]}))});
        let causes = validate_pod_template(&template, "spec.template");
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.template.labels");
        assert_eq!(
            text(&validate_pod_template(&Value::Null, "spec.template")),
            ["spec.template.spec.containers: Required value"]
        );
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("1"), Some(1_000_000_000));
        assert_eq!(parse_quantity("100m"), Some(100_000_000));
        assert_eq!(parse_quantity("0.1"), Some(100_000_000));
        assert_eq!(parse_quantity("1Ki"), Some(1024 * 1_000_000_000));
        assert_eq!(parse_quantity("1.5Gi"), Some(1_610_612_736 * 1_000_000_000));
        assert_eq!(parse_quantity("2e3"), Some(2_000 * 1_000_000_000));
        assert_eq!(parse_quantity("1E"), Some(10i128.pow(27)));
        assert_eq!(parse_quantity("-5"), Some(-5_000_000_000));
        assert_eq!(parse_quantity("1n"), Some(1));
        assert_eq!(parse_quantity("1000m"), parse_quantity("1"));
        for bad in ["", "abc", "1x", "1.2.3", "Mi", "."] {
            assert_eq!(parse_quantity(bad), None, "{bad}");
        }
    }

    #[test]
    fn qos_classes() {
        let qos = |containers: Value| qos_class(&json!({"containers": containers}));
        assert_eq!(qos(json!([{"name": "a"}])), "BestEffort");
        assert_eq!(qos(json!([{"resources": {"requests": {"cpu": "0"}}}])), "BestEffort");
        assert_eq!(qos(json!([{"resources": {"requests": {"cpu": "100m"}}}])), "Burstable");
        let full = json!({"resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                        "requests": {"cpu": "1000m", "memory": "1Gi"}}});
        assert_eq!(qos(json!([full.clone()])), "Guaranteed");
        assert_eq!(qos(json!([full.clone(), {"name": "b"}])), "Burstable");
        let low = json!({"resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                       "requests": {"cpu": "500m", "memory": "1Gi"}}});
        assert_eq!(qos(json!([low])), "Burstable");
        assert_eq!(
            qos(json!([{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}])),
            "Burstable"
        );
    }
}
