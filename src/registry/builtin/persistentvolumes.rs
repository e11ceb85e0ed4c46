//! `v1` PersistentVolumes (`pkg/registry/core/persistentvolume`, `ValidatePersistentVolume*` in
//! `pkg/apis/core/validation`): pieces of storage, cluster-scoped, short name `pv`. A volume
//! names exactly one source (hostPath, nfs, csi, local, …), a `storage` capacity and its access
//! modes; the source and the volume mode are fixed at creation. Its status starts `Pending`
//! with the time of that phase; nothing here binds volumes to claims, so the phase moves only
//! when a client writes `/status` (which stamps `lastPhaseTransitionTime` as kube does).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::persistentvolumeclaims::{
    BETA_STORAGE_CLASS, access_modes_text, attributes_class_column, phase_column,
    volume_mode_column,
};
use super::{
    Kind, age_column, array_at, child_object, column, default_value, name_column, opt_array,
    opt_object, opt_str, str_at,
};
use crate::meta::quantity::Quantity;
use crate::meta::validation::{CauseType, FieldCause, is_dns1123_subdomain};
use crate::registry::object;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const PLURAL: &str = "persistentvolumes";

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "PersistentVolume",
    plural: PLURAL,
    short_names: &["pv"],
    categories: &[],
    namespaced: false,
    storage_prefix: "/persistentvolumes",
};

/// The volume sources of `PersistentVolumeSource`, in the order kube's validation counts them.
pub(crate) const SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];
const ACCESS_MODES: &[&str] =
    &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const RECLAIM_POLICIES: &[&str] = &["Delete", "Recycle", "Retain"];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];
const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];
const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(VolumeStrategy), table()) }
}

/// PersistentVolume rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeStrategy;

/// `SetDefaults_PersistentVolume`: reclaim policy `Retain`, volume mode `Filesystem`, phase
/// `Pending`; a hostPath source's `type` is `""` when unset.
fn default_volume(volume: &mut Value) {
    let Some(map) = volume.as_object_mut() else { return };
    if let Some(spec) = child_object(map, "spec") {
        super::default_string(spec, "persistentVolumeReclaimPolicy", "Retain");
        default_value(spec, "volumeMode", json!("Filesystem"));
        if let Some(host_path) = spec.get_mut("hostPath").and_then(Value::as_object_mut) {
            default_value(host_path, "type", json!(""));
        }
    }
    if let Some(status) = child_object(map, "status") {
        super::default_string(status, "phase", "Pending");
    }
}

/// `spec.capacity`: `storage` and nothing else, each a quantity above zero.
fn validate_capacity(spec: &Value, causes: &mut Vec<FieldCause>) {
    let capacity = opt_object(spec, "capacity", "spec.capacity", causes);
    let empty = Map::new();
    let capacity_map = capacity.unwrap_or(&empty);
    if capacity_map.is_empty() {
        causes.push(FieldCause::required("spec.capacity", ""));
    }
    if !capacity_map.contains_key("storage") || capacity_map.len() > 1 {
        causes.push(FieldCause {
            field: "spec.capacity".into(),
            reason: CauseType::FieldValueNotSupported,
            message: format!(
                "Unsupported value: {}: supported values: \"storage\"",
                go_resource_list(capacity)
            ),
        });
    }
    for (name, amount) in capacity_map {
        let path = format!("spec.capacity[{name}]");
        match Quantity::from_json(amount) {
            None => causes.push(FieldCause::type_invalid(path, amount.clone(), QUANTITY_FORMAT)),
            Some(q) if q.nanos() <= 0 => {
                causes.push(FieldCause::invalid(path, amount.clone(), "must be greater than zero"))
            }
            Some(_) => {}
        }
    }
}

/// Go's `%#v` of a `core.ResourceList` as kube's "Unsupported value" prints it; quantities are
/// shown by their text (kube prints Quantity's inner fields, which no client reads).
fn go_resource_list(capacity: Option<&Map<String, Value>>) -> String {
    match capacity {
        None => "core.ResourceList(nil)".to_owned(),
        Some(map) => {
            // Go's fmt prints a map's keys sorted.
            let sorted: std::collections::BTreeMap<&String, &Value> = map.iter().collect();
            let items: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    format!("{}:{}", crate::meta::validation::go_quote(k), text)
                })
                .collect();
            format!("core.ResourceList{{{}}}", items.join(", "))
        }
    }
}

/// The one volume source, and the checks of the common ones.
fn validate_source(spec: &Value, causes: &mut Vec<FieldCause>) {
    let mut count = 0;
    for source in SOURCES {
        if spec.get(*source).is_none_or(Value::is_null) {
            continue;
        }
        if count > 0 {
            causes.push(FieldCause::forbidden(
                format!("spec.{source}"),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        let path = format!("spec.{source}");
        let Some(body) = opt_object(spec, source, &path, causes) else { continue };
        let body = Value::Object(body.clone());
        let required = |key: &str, causes: &mut Vec<FieldCause>| {
            let field = format!("{path}.{key}");
            let text = opt_str(&body, key, &field, causes).unwrap_or("");
            if text.is_empty() {
                causes.push(FieldCause::required(field, ""));
            }
            text.to_owned()
        };
        match *source {
            "hostPath" => {
                let host_path = required("path", causes);
                if host_path.split('/').any(|part| part == "..") {
                    causes.push(FieldCause::invalid(
                        format!("{path}.path"),
                        host_path,
                        "must not contain '..'",
                    ));
                }
                let kind = opt_str(&body, "type", &format!("{path}.type"), causes).unwrap_or("");
                if !HOST_PATH_TYPES.contains(&kind) {
                    causes.push(FieldCause::not_supported(
                        format!("{path}.type"),
                        kind,
                        HOST_PATH_TYPES,
                    ));
                }
            }
            "nfs" => {
                required("server", causes);
                let nfs_path = required("path", causes);
                if !nfs_path.is_empty() && !nfs_path.starts_with('/') {
                    causes.push(FieldCause::invalid(
                        format!("{path}.path"),
                        nfs_path,
                        "must be an absolute path",
                    ));
                }
            }
            "local" => {
                required("path", causes);
            }
            "csi" => {
                required("driver", causes);
                required("volumeHandle", causes);
            }
            _ => {}
        }
    }
    if count == 0 {
        causes.push(FieldCause::required("spec", "must specify a volume type"));
    }
}

/// kube's `ValidatePersistentVolumeSpec`.
fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    let modes = opt_array(spec, "accessModes", "spec.accessModes", causes);
    if modes.is_empty() {
        causes
            .push(FieldCause::required("spec.accessModes", "must specify at least 1 access mode"));
    }
    let (mut once_pod, mut others) = (false, false);
    for mode in modes {
        let text = mode.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&text) {
            causes.push(FieldCause::not_supported("spec.accessModes", mode.clone(), ACCESS_MODES));
        } else if text == "ReadWriteOncePod" {
            once_pod = true;
        } else {
            others = true;
        }
    }
    if once_pod && others {
        causes.push(FieldCause::forbidden(
            "spec.accessModes",
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    validate_capacity(spec, causes);
    let policy_path = "spec.persistentVolumeReclaimPolicy";
    if let Some(policy) = opt_str(spec, "persistentVolumeReclaimPolicy", policy_path, causes)
        && !RECLAIM_POLICIES.contains(&policy)
    {
        causes.push(FieldCause::not_supported(policy_path, policy, RECLAIM_POLICIES));
    }
    let class = opt_str(spec, "storageClassName", "spec.storageClassName", causes).unwrap_or("");
    if !class.is_empty() {
        for msg in is_dns1123_subdomain(class) {
            causes.push(FieldCause::invalid("spec.storageClassName", class, &msg));
        }
    }
    if let Some(mode) = opt_str(spec, "volumeMode", "spec.volumeMode", causes)
        && !VOLUME_MODES.contains(&mode)
    {
        causes.push(FieldCause::not_supported("spec.volumeMode", mode, VOLUME_MODES));
    }
    validate_source(spec, causes);
    let affinity = opt_object(spec, "nodeAffinity", "spec.nodeAffinity", causes);
    if spec.get("local").is_some_and(Value::is_object)
        && affinity.is_none_or(|a| a.get("required").is_none_or(Value::is_null))
    {
        causes
            .push(FieldCause::required("spec.nodeAffinity", "Local volume requires node affinity"));
    }
    if let Some(claim) = opt_object(spec, "claimRef", "spec.claimRef", causes) {
        let claim = Value::Object(claim.clone());
        opt_str(&claim, "name", "spec.claimRef.name", causes);
        opt_str(&claim, "namespace", "spec.claimRef.namespace", causes);
    }
}

/// The source fields of a spec: what may not change after creation.
fn source_of(volume: &Value) -> Map<String, Value> {
    let Some(spec) = volume.get("spec").and_then(Value::as_object) else { return Map::new() };
    spec.iter()
        .filter(|(k, v)| SOURCES.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The fields of two sources that differ, as `field: old → new` lines (kube prints a Go diff).
fn source_diff(new: &Map<String, Value>, old: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = new.keys().chain(old.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| new.get(*k) != old.get(*k))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("<unset>".to_owned(), Value::to_string);
            format!("  {k}: {} → {}", show(old.get(k)), show(new.get(k)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Strategy for VolumeStrategy {
    /// kube's `PrepareForCreate`: the status is the server's (`Pending`, stamped now); the
    /// VolumeAttributesClass field is dropped (its feature is off by default in 1.33).
    fn set_defaults(&self, volume: &mut Value) {
        default_volume(volume);
    }

    fn prepare_for_create(&self, volume: &mut Value) {
        if let Some(spec) = volume.get_mut("spec").and_then(Value::as_object_mut) {
            spec.shift_remove("volumeAttributesClassName");
        }
        if let Some(map) = volume.as_object_mut() {
            map.insert(
                "status".into(),
                json!({"phase": "Pending", "lastPhaseTransitionTime": object::now_rfc3339()}),
            );
        }
    }

    fn prepare_for_update(&self, volume: &mut Value, old: &Value) {
        if old.pointer("/spec/volumeAttributesClassName").is_none()
            && let Some(spec) = volume.get_mut("spec").and_then(Value::as_object_mut)
        {
            spec.shift_remove("volumeAttributesClassName");
        }
    }

    /// A status write that moves the phase stamps the time, unless the writer set it.
    fn prepare_for_subresource_update(&self, subresource: &str, volume: &mut Value, old: &Value) {
        self.prepare_for_update(volume, old);
        if subresource != "status" {
            return;
        }
        let phase = |v: &Value| str_at(v, "/status/phase").to_owned();
        let stamp = |v: &Value| v.pointer("/status/lastPhaseTransitionTime").cloned();
        if phase(volume) != phase(old)
            && (stamp(volume).is_none_or(|s| s.is_null()) || stamp(volume) == stamp(old))
            && let Some(status) = volume.get_mut("status").and_then(Value::as_object_mut)
        {
            status.insert("lastPhaseTransitionTime".into(), object::now_rfc3339().into());
        }
    }

    fn validate(&self, volume: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        match opt_object(volume, "spec", "spec", &mut causes) {
            Some(_) => validate_spec(&volume["spec"], &mut causes),
            None if volume.get("spec").is_none_or(Value::is_null) => {
                validate_spec(&json!({}), &mut causes)
            }
            None => {}
        }
        if let Some(status) = volume.get("status").filter(|s| !s.is_null()) {
            opt_str(status, "phase", "status.phase", &mut causes);
            opt_str(status, "reason", "status.reason", &mut causes);
        }
        causes
    }

    /// kube's `ValidatePersistentVolumeUpdate`: the source and the volume mode are fixed.
    fn validate_update(&self, volume: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(volume);
        let (new_source, old_source) = (source_of(volume), source_of(old));
        if new_source != old_source {
            causes.push(FieldCause::forbidden(
                "spec.persistentvolumesource",
                &format!(
                    "spec.persistentvolumesource is immutable after creation\n{}",
                    source_diff(&new_source, &old_source)
                ),
            ));
        }
        let mode = volume.pointer("/spec/volumeMode").cloned().unwrap_or(Value::Null);
        if mode != old.pointer("/spec/volumeMode").cloned().unwrap_or(Value::Null) {
            causes.push(super::immutable("volumeMode", &mode));
        }
        causes
    }

    /// Status writes are checked as kube's `ValidatePersistentVolumeStatusUpdate`: the status
    /// alone.
    fn validate_subresource_update(&self, sub: &str, new: &Value, old: &Value) -> Vec<FieldCause> {
        if sub != "status" {
            return self.validate_update(new, old);
        }
        let mut causes = Vec::new();
        if let Some(status) = new.get("status").filter(|s| !s.is_null()) {
            opt_str(status, "phase", "status.phase", &mut causes);
        }
        causes
    }
}

/// kube's `GetPersistentVolumeClass`: the beta annotation, else `spec.storageClassName`.
fn volume_class(volume: &Value) -> String {
    let annotated = volume
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(BETA_STORAGE_CLASS))
        .and_then(Value::as_str);
    annotated.unwrap_or_else(|| str_at(volume, "/spec/storageClassName")).to_owned()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Capacity",
                "string",
                0,
                &KIND.doc("/spec/capacity"),
                Cell::Computed(|v| {
                    let amount = v.pointer("/spec/capacity/storage").and_then(Quantity::from_json);
                    amount.map_or_else(|| "0".to_owned(), |q| q.canonical()).into()
                }),
            ),
            column(
                "Access Modes",
                "string",
                0,
                &KIND.doc("/spec/accessModes"),
                Cell::Computed(|v| access_modes_text(array_at(v, "/spec/accessModes")).into()),
            ),
            column(
                "Reclaim Policy",
                "string",
                0,
                &KIND.doc("/spec/persistentVolumeReclaimPolicy"),
                Cell::Computed(|v| str_at(v, "/spec/persistentVolumeReclaimPolicy").into()),
            ),
            phase_column(&KIND),
            column(
                "Claim",
                "string",
                0,
                &KIND.doc("/spec/claimRef"),
                Cell::Computed(|v| match v.pointer("/spec/claimRef") {
                    Some(claim) if claim.is_object() => {
                        format!("{}/{}", str_at(claim, "/namespace"), str_at(claim, "/name")).into()
                    }
                    _ => "".into(),
                }),
            ),
            column(
                "StorageClass",
                "string",
                0,
                "StorageClass of the pv",
                Cell::Computed(|v| volume_class(v).into()),
            ),
            attributes_class_column("pv"),
            column(
                "Reason",
                "string",
                0,
                &KIND.doc("/status/reason"),
                Cell::Computed(|v| str_at(v, "/status/reason").into()),
            ),
            age_column(),
            volume_mode_column(&KIND),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn volume(spec: Value) -> Value {
        let mut v = json!({"metadata": {"name": "pv-1"}, "spec": spec});
        VolumeStrategy.decoded_create(&mut v);
        v
    }

    fn valid() -> Value {
        volume(json!({"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/data"}}))
    }

    #[test]
    fn defaults_and_a_valid_volume() {
        let v = valid();
        assert_eq!(v["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(v["spec"]["volumeMode"], "Filesystem");
        assert_eq!(v["spec"]["hostPath"]["type"], "");
        assert_eq!(v["status"]["phase"], "Pending");
        assert!(v["status"]["lastPhaseTransitionTime"].is_string());
        assert!(VolumeStrategy.validate(&v).is_empty(), "{:?}", VolumeStrategy.validate(&v));
    }

    #[test]
    fn source_capacity_and_modes_are_checked() {
        assert_eq!(
            cause_texts(&VolumeStrategy.validate(&volume(json!({})))),
            [
                "spec.accessModes: Required value: must specify at least 1 access mode",
                "spec.capacity: Required value",
                "spec.capacity: Unsupported value: core.ResourceList(nil): supported values: \
                 \"storage\"",
                "spec: Required value: must specify a volume type",
            ]
        );
        let two = volume(json!({"capacity": {"storage": "0", "cpu": "1"},
            "accessModes": ["Sometimes"], "persistentVolumeReclaimPolicy": "Keep",
            "hostPath": {"path": "/a/../b"}, "nfs": {"server": "s", "path": "/x"}}));
        assert_eq!(
            cause_texts(&VolumeStrategy.validate(&two)),
            [
                "spec.accessModes: Unsupported value: \"Sometimes\": supported values: \
                 \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.capacity: Unsupported value: core.ResourceList{\"cpu\":1, \"storage\":0}: \
                 supported values: \"storage\"",
                "spec.capacity[storage]: Invalid value: \"0\": must be greater than zero",
                "spec.persistentVolumeReclaimPolicy: Unsupported value: \"Keep\": supported \
                 values: \"Delete\", \"Recycle\", \"Retain\"",
                "spec.hostPath.path: Invalid value: \"/a/../b\": must not contain '..'",
                "spec.nfs: Forbidden: may not specify more than 1 volume type",
            ]
        );
        let local =
            volume(json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "local": {"path": "/mnt/disk"}}));
        assert_eq!(
            cause_texts(&VolumeStrategy.validate(&local)),
            ["spec.nodeAffinity: Required value: Local volume requires node affinity"]
        );
        let csi = volume(json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "csi": {"driver": "ebs.csi.aws.com"}}));
        assert_eq!(
            cause_texts(&VolumeStrategy.validate(&csi)),
            ["spec.csi.volumeHandle: Required value"]
        );
    }

    #[test]
    fn source_and_mode_are_fixed_and_status_writes_stamp_the_phase() {
        let old = valid();
        let mut new = old.clone();
        new["spec"]["hostPath"]["path"] = json!("/other");
        new["spec"]["volumeMode"] = json!("Block");
        new["spec"]["capacity"]["storage"] = json!("20Gi");
        let texts = cause_texts(&VolumeStrategy.validate_update(&new, &old));
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(texts[0].starts_with(
            "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable \
             after creation\n  hostPath:"
        ));
        assert_eq!(texts[1], "volumeMode: Invalid value: \"Block\": field is immutable");

        let mut old = valid();
        old["status"]["lastPhaseTransitionTime"] = json!("2020-01-01T00:00:00Z");
        let mut bound = old.clone();
        bound["status"]["phase"] = json!("Available");
        VolumeStrategy.decoded_subresource_update("status", &mut bound, &old);
        assert_ne!(bound["status"]["lastPhaseTransitionTime"], "2020-01-01T00:00:00Z");
    }

    #[test]
    fn table_cells() {
        let mut v = valid();
        v["spec"]["claimRef"] = json!({"namespace": "default", "name": "data"});
        v["spec"]["storageClassName"] = json!("manual");
        v["spec"]["accessModes"] = json!(["ReadWriteMany", "ReadWriteOnce"]);
        let table = render_table(&table(), &[v], Default::default(), Default::default());
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells[..9],
            [
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Pending"),
                json!("default/data"),
                json!("manual"),
                json!("<unset>"),
                json!("")
            ]
        );
        assert_eq!(cells[10], "Filesystem");
    }
}
