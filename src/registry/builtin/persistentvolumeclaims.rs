//! `v1` PersistentVolumeClaims (`pkg/registry/core/persistentvolumeclaim`,
//! `ValidatePersistentVolumeClaim*` in `pkg/apis/core/validation`): requests for storage. Nothing
//! here provisions or binds volumes, so a claim stays `Pending` until a client writes its status.
//! The spec is fixed at creation except what kube lets change: `volumeName` once, a
//! `storageClassName` that was unset (or only in the beta annotation), and a bound claim's
//! storage request. A claim without a class gets the default one from the DefaultStorageClass
//! admission plugin (`crate::admission::default_storage_class`).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::podspec::parse_quantity;
use super::{
    Kind, age_column, array_at, column, default_value, name_column, opt_array, opt_object, opt_str,
    str_at,
};
use crate::meta::labels::validate_label_selector;
use crate::meta::validation::{FieldCause, is_dns1123_subdomain};
use crate::registry::object;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, Column, TableSpec};

pub const PLURAL: &str = "persistentvolumeclaims";
/// The storage class annotation from before `spec.storageClassName`; it still wins.
pub const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "PersistentVolumeClaim",
    plural: PLURAL,
    short_names: &["pvc"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/persistentvolumeclaims",
};

/// kube's access modes, sorted as its messages list them.
const ACCESS_MODES: &[&str] =
    &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];
const STORAGE_PATH: &str = "spec.resources[storage]";

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(ClaimStrategy), table()) }
}

/// kube's `GetPersistentVolumeClaimClass`: the beta annotation, else `spec.storageClassName`.
fn claim_class(claim: &Value) -> String {
    let annotated = claim
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(BETA_STORAGE_CLASS))
        .and_then(Value::as_str);
    annotated.unwrap_or_else(|| str_at(claim, "/spec/storageClassName")).to_owned()
}

/// PersistentVolumeClaim rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimStrategy;

/// [`set_defaults`], and the data-source normalization kube's strategy does (`dataSource` and
/// `dataSourceRef` mirror each other when only one is set): what a StatefulSet's claim
/// templates get.
pub(crate) fn default_claim(claim: &mut Value) {
    set_defaults(claim);
    normalize_claim_data_sources(claim);
}

/// `SetDefaults_PersistentVolumeClaim(Spec)`.
fn set_defaults(claim: &mut Value) {
    if let Some(spec) = claim.get_mut("spec").and_then(Value::as_object_mut) {
        default_value(spec, "volumeMode", json!("Filesystem"));
    }
    if let Some(map) = claim.as_object_mut()
        && let Some(status) = super::child_object(map, "status")
    {
        default_value(status, "phase", json!("Pending"));
    }
}

fn normalize_claim_data_sources(claim: &mut Value) {
    if let Some(spec) = claim.get_mut("spec").and_then(Value::as_object_mut) {
        normalize_data_sources(spec);
    }
}

fn normalize_data_sources(spec: &mut Map<String, Value>) {
    let set = |v: Option<&Value>| v.is_some_and(Value::is_object);
    match (set(spec.get("dataSource")), set(spec.get("dataSourceRef"))) {
        (true, false) => {
            let source = spec["dataSource"].clone();
            spec.insert("dataSourceRef".into(), source);
        }
        (false, true) if spec["dataSourceRef"].get("namespace").is_none_or(Value::is_null) => {
            let source = spec["dataSourceRef"].clone();
            spec.insert("dataSource".into(), source);
        }
        _ => {}
    }
}

/// The storage request, if it is a quantity: `Err` when it is there but not one.
fn storage_request(claim: &Value) -> Result<Option<i128>, ()> {
    match claim.pointer("/spec/resources/requests/storage") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_quantity(text).map(Some).ok_or(()),
        Some(Value::Number(n)) => parse_quantity(&n.to_string()).map(Some).ok_or(()),
        Some(_) => Err(()),
    }
}

fn validate_data_source(source: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let name = opt_str(source, "name", &format!("{path}.name"), causes).unwrap_or("");
    let kind = opt_str(source, "kind", &format!("{path}.kind"), causes).unwrap_or("");
    let group = opt_str(source, "apiGroup", &format!("{path}.apiGroup"), causes).unwrap_or("");
    if name.is_empty() {
        causes.push(FieldCause::required(format!("{path}.name"), ""));
    }
    if kind.is_empty() {
        causes.push(FieldCause::required(format!("{path}.kind"), ""));
    }
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        causes.push(FieldCause::invalid(
            path,
            kind,
            "when apiGroup is not specified, kind must be PersistentVolumeClaim",
        ));
    }
}

/// kube's `ValidatePersistentVolumeClaimSpec`.
fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    let modes = opt_array(spec, "accessModes", "spec.accessModes", causes);
    if modes.is_empty() {
        causes.push(FieldCause::required("spec.accessModes", "at least 1 access mode is required"));
    }
    if let Some(selector) = spec.get("selector").filter(|s| !s.is_null()) {
        causes.extend(validate_label_selector(selector, "spec.selector"));
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
    if let Some(resources) = opt_object(spec, "resources", "spec.resources", causes) {
        let resources = Value::Object(resources.clone());
        opt_object(&resources, "requests", "spec.resources.requests", causes);
    }
    let claim = json!({"spec": spec});
    match storage_request(&claim) {
        Ok(None) => causes.push(FieldCause::required(STORAGE_PATH, "")),
        Ok(Some(amount)) if amount <= 0 => {
            let text = claim.pointer("/spec/resources/requests/storage").cloned();
            let shown = match text {
                Some(Value::String(s)) => s,
                other => other.map(|v| v.to_string()).unwrap_or_default(),
            };
            causes.push(FieldCause::invalid(STORAGE_PATH, shown, "must be greater than zero"));
        }
        Ok(Some(_)) => {}
        Err(()) => causes.push(FieldCause::type_invalid(
            STORAGE_PATH,
            claim.pointer("/spec/resources/requests/storage").cloned().unwrap_or(Value::Null),
            "quantities must match the regular expression \
             '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        )),
    }
    for (key, path) in [
        ("storageClassName", "spec.storageClassName"),
        ("volumeAttributesClassName", "spec.volumeAttributesClassName"),
    ] {
        let class = opt_str(spec, key, path, causes).unwrap_or("");
        if !class.is_empty() {
            for msg in is_dns1123_subdomain(class) {
                causes.push(FieldCause::invalid(path, class, &msg));
            }
        }
    }
    if let Some(mode) = opt_str(spec, "volumeMode", "spec.volumeMode", causes)
        && !VOLUME_MODES.contains(&mode)
    {
        causes.push(FieldCause::not_supported("spec.volumeMode", mode, VOLUME_MODES));
    }
    opt_str(spec, "volumeName", "spec.volumeName", causes);
    if let Some(source) = opt_object(spec, "dataSource", "spec.dataSource", causes) {
        validate_data_source(&Value::Object(source.clone()), "spec.dataSource", causes);
    }
    if let Some(source) = opt_object(spec, "dataSourceRef", "spec.dataSourceRef", causes) {
        validate_data_source(&Value::Object(source.clone()), "spec.dataSourceRef", causes);
    }
}

/// A bad status field: capacities must be quantities.
fn validate_status(claim: &Value, causes: &mut Vec<FieldCause>) {
    let Some(status) = claim.get("status").filter(|s| !s.is_null()) else { return };
    opt_str(status, "phase", "status.phase", causes);
    opt_array(status, "accessModes", "status.accessModes", causes);
    if let Some(capacity) = opt_object(status, "capacity", "status.capacity", causes) {
        for (name, amount) in capacity {
            let parsed = match amount {
                Value::String(s) => parse_quantity(s),
                Value::Number(n) => parse_quantity(&n.to_string()),
                _ => None,
            };
            if parsed.is_none_or(|q| q < 0) {
                causes.push(FieldCause::invalid(
                    format!("status.capacity[{name}]"),
                    amount.clone(),
                    "must be greater than or equal to 0",
                ));
            }
        }
    }
}

/// The beta storage-class annotation of an object, if any.
fn beta_class(claim: &Value) -> Option<&Value> {
    claim.pointer("/metadata/annotations").and_then(|a| a.get(BETA_STORAGE_CLASS))
}

/// The parts of the spec an update may change, taken out of both sides as kube's
/// `ValidatePersistentVolumeClaimUpdate` does before comparing them.
fn comparable_specs(new: &Value, old: &Value) -> (Value, Value) {
    let mut new_spec = new.get("spec").cloned().unwrap_or(Value::Null);
    let mut old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
    let (Some(n), Some(o)) = (new_spec.as_object_mut(), old_spec.as_object_mut()) else {
        return (new_spec, old_spec);
    };
    // `volumeName` may be set once.
    if o.get("volumeName").and_then(Value::as_str).unwrap_or("").is_empty() {
        match n.get("volumeName") {
            Some(name) => o.insert("volumeName".into(), name.clone()),
            None => o.shift_remove("volumeName"),
        };
    }
    // A class may be set where only the annotation, or nothing, named one.
    let unset = |spec: &Map<String, Value>| spec.get("storageClassName").is_none_or(Value::is_null);
    if unset(&*o) && !unset(&*n) {
        let from_annotation = beta_class(old)
            .is_some_and(|a| Some(a) == beta_class(new) && n.get("storageClassName") == Some(a));
        if from_annotation || beta_class(old).is_none() {
            n.shift_remove("storageClassName");
        }
    }
    // A bound claim may change its storage request (growth is checked apart).
    if new.pointer("/status/phase").and_then(Value::as_str) == Some("Bound") {
        let storage = old.pointer("/spec/resources/requests/storage").cloned();
        if let Some(requests) = n
            .get_mut("resources")
            .and_then(|r| r.get_mut("requests"))
            .and_then(Value::as_object_mut)
        {
            match storage {
                Some(storage) => requests.insert("storage".into(), storage),
                None => requests.shift_remove("storage"),
            };
        }
    }
    (new_spec, old_spec)
}

/// The fields of two specs that differ, as `field: old → new` lines (kube prints a Go diff).
fn spec_diff(new: &Value, old: &Value) -> String {
    let empty = Map::new();
    let (n, o) = (new.as_object().unwrap_or(&empty), old.as_object().unwrap_or(&empty));
    let mut keys: Vec<&String> = n.keys().chain(o.keys()).collect();
    keys.sort();
    keys.dedup();
    let null = Value::Null;
    keys.into_iter()
        .filter(|k| n.get(*k).unwrap_or(&null) != o.get(*k).unwrap_or(&null))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("<unset>".to_owned(), Value::to_string);
            format!("  {k}: {} → {}", show(o.get(k)), show(n.get(k)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Strategy for ClaimStrategy {
    fn set_defaults(&self, claim: &mut Value) {
        set_defaults(claim);
    }

    fn prepare_for_create(&self, claim: &mut Value) {
        // VolumeAttributesClass is off by default in 1.33: kube drops the field.
        if let Some(spec) = claim.get_mut("spec").and_then(Value::as_object_mut) {
            spec.shift_remove("volumeAttributesClassName");
        }
        normalize_claim_data_sources(claim);
    }

    fn prepare_for_update(&self, claim: &mut Value, old: &Value) {
        if old.pointer("/spec/volumeAttributesClassName").is_none()
            && let Some(spec) = claim.get_mut("spec").and_then(Value::as_object_mut)
        {
            spec.shift_remove("volumeAttributesClassName");
        }
        normalize_claim_data_sources(claim);
    }

    fn validate(&self, claim: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        match opt_object(claim, "spec", "spec", &mut causes) {
            Some(_) => validate_spec(&claim["spec"], &mut causes),
            None if claim.get("spec").is_none_or(Value::is_null) => {
                validate_spec(&json!({}), &mut causes)
            }
            None => {}
        }
        validate_status(claim, &mut causes);
        causes
    }

    /// kube's `ValidatePersistentVolumeClaimUpdate`.
    fn validate_update(&self, claim: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(claim);
        let (old_class, new_class) = (beta_class(old), beta_class(claim));
        let (new_spec, old_spec) = comparable_specs(claim, old);
        let upgraded = old_class.is_some()
            && old_class == new_class
            && old.pointer("/spec/storageClassName").is_none_or(Value::is_null)
            && claim.pointer("/spec/storageClassName") == old_class;
        if !upgraded && old_class != new_class {
            let shown = new_class.and_then(Value::as_str).unwrap_or("");
            causes.push(FieldCause::invalid(
                format!("metadata.annotations[{BETA_STORAGE_CLASS}]"),
                shown,
                "field is immutable",
            ));
        }
        if new_spec != old_spec {
            causes.push(FieldCause::forbidden(
                "spec",
                &format!(
                    "spec is immutable after creation except resources.requests and \
                     volumeAttributesClassName for bound claims\n{}",
                    spec_diff(&new_spec, &old_spec)
                ),
            ));
        }
        // kube 1.33 lets a bound claim shrink back to what it has (RecoverVolumeExpansionFailure).
        if let (Ok(Some(new_size)), Ok(old_size)) = (storage_request(claim), storage_request(old))
            && new_size < old_size.unwrap_or(0)
        {
            let capacity = old
                .pointer("/status/capacity/storage")
                .and_then(|c| match c {
                    Value::String(s) => parse_quantity(s),
                    Value::Number(n) => parse_quantity(&n.to_string()),
                    _ => None,
                })
                .unwrap_or(0);
            if new_size <= capacity {
                causes.push(FieldCause::forbidden(
                    "spec.resources.requests.storage",
                    "field can not be less than status.capacity",
                ));
            }
        }
        causes
    }
}

/// kube's `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP`, in that order, each once.
pub(crate) fn access_modes_text(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn bound(claim: &Value) -> bool {
    !str_at(claim, "/spec/volumeName").is_empty()
}

/// STATUS of PersistentVolumes and their claims: `Terminating` once deleted, else the phase.
pub(crate) fn phase_column(kind: &Kind) -> Column {
    column(
        "Status",
        "string",
        0,
        &kind.doc("/status/phase"),
        Cell::Computed(|object| {
            if object::deletion_timestamp(object).is_some() {
                "Terminating".into()
            } else {
                str_at(object, "/status/phase").into()
            }
        }),
    )
}

/// VOLUMEATTRIBUTESCLASS of PersistentVolumes (`what` = `pv`) and claims (`pvc`), in kube's
/// words; `<unset>` without a class.
pub(crate) fn attributes_class_column(what: &str) -> Column {
    let pointer = "/spec/volumeAttributesClassName";
    column(
        "VolumeAttributesClass",
        "string",
        0,
        &format!("VolumeAttributesClass of the {what}"),
        Cell::Field { pointer, show: |class| text_or_unset(class, false) },
    )
}

/// The wide VOLUMEMODE of PersistentVolumes and claims, `<unset>` when not set.
pub(crate) fn volume_mode_column(kind: &Kind) -> Column {
    kind.field_column("VolumeMode", "string", 1, "/spec/volumeMode", |mode| {
        text_or_unset(mode, true)
    })
}

/// A string field, `<unset>` when absent (or, if `empty_unset`, empty).
fn text_or_unset(value: Option<&Value>, empty_unset: bool) -> Value {
    match value.and_then(Value::as_str) {
        Some("") if empty_unset => "<unset>".into(),
        Some(text) => text.into(),
        None => "<unset>".into(),
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            phase_column(&KIND),
            column(
                "Volume",
                "string",
                0,
                &KIND.doc("/spec/volumeName"),
                Cell::Computed(|claim| str_at(claim, "/spec/volumeName").into()),
            ),
            column(
                "Capacity",
                "string",
                0,
                &KIND.doc("/status/capacity"),
                Cell::Computed(|claim| {
                    if !bound(claim) {
                        return "".into();
                    }
                    match claim.pointer("/status/capacity/storage") {
                        Some(Value::String(s)) => s.clone().into(),
                        Some(Value::Number(n)) => n.to_string().into(),
                        _ => "0".into(),
                    }
                }),
            ),
            column(
                "Access Modes",
                "string",
                0,
                &KIND.doc("/status/accessModes"),
                Cell::Computed(|claim| {
                    if bound(claim) {
                        access_modes_text(array_at(claim, "/status/accessModes")).into()
                    } else {
                        "".into()
                    }
                }),
            ),
            column(
                "StorageClass",
                "string",
                0,
                "StorageClass of the pvc",
                Cell::Computed(|claim| claim_class(claim).into()),
            ),
            attributes_class_column("pvc"),
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

    fn claim(spec: Value) -> Value {
        let mut c = json!({"metadata": {"name": "data", "namespace": "default"}, "spec": spec});
        ClaimStrategy.decoded_create(&mut c);
        c
    }

    fn valid() -> Value {
        claim(
            json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
        )
    }

    #[test]
    fn defaults_and_a_valid_claim() {
        let c = valid();
        assert_eq!(c["spec"]["volumeMode"], "Filesystem");
        assert_eq!(c["status"], json!({"phase": "Pending"}));
        assert!(ClaimStrategy.validate(&c).is_empty());
        let sourced = claim(json!({"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "dataSource": {"kind": "PersistentVolumeClaim", "name": "src"}}));
        assert_eq!(sourced["spec"]["dataSourceRef"], sourced["spec"]["dataSource"]);
    }

    #[test]
    fn access_modes_and_storage_are_checked() {
        assert_eq!(
            cause_texts(&ClaimStrategy.validate(&claim(json!({})))),
            [
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ]
        );
        let bad = claim(json!({"accessModes": ["ReadWriteOncePod", "ReadWriteOnce", "Sometimes"],
            "resources": {"requests": {"storage": "0"}}, "volumeMode": "Tape",
            "storageClassName": "Fast_SSD"}));
        let texts = cause_texts(&ClaimStrategy.validate(&bad));
        assert_eq!(
            texts[..4],
            [
                "spec.accessModes: Unsupported value: \"Sometimes\": supported values: \
                 \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
                "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
                "spec.storageClassName: Invalid value: \"Fast_SSD\": a lowercase RFC 1123 \
                 subdomain must consist of lower case alphanumeric characters, '-' or '.', and \
                 must start and end with an alphanumeric character (e.g. 'example.com', regex \
                 used for validation is \
                 '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ]
        );
        assert_eq!(
            texts[4],
            "spec.volumeMode: Unsupported value: \"Tape\": supported values: \"Block\", \
             \"Filesystem\""
        );
    }

    #[test]
    fn the_spec_is_fixed_but_for_what_kube_allows() {
        let old = valid();
        // A pending claim may not grow.
        let mut bigger = old.clone();
        bigger["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        let causes = ClaimStrategy.validate_update(&bigger, &old);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec");
        assert!(causes[0].message.starts_with(
            "Forbidden: spec is immutable after creation except resources.requests and \
             volumeAttributesClassName for bound claims\n"
        ));
        // A bound claim may; it may shrink only down to more than its capacity.
        let mut bound = old.clone();
        bound["spec"]["volumeName"] = json!("pv-1");
        bound["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"}});
        assert!(ClaimStrategy.validate_update(&bound, &old).is_empty());
        let mut grown = bound.clone();
        grown["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert!(ClaimStrategy.validate_update(&grown, &bound).is_empty());
        let mut shrunk = bound.clone();
        shrunk["spec"]["resources"]["requests"]["storage"] = json!("1Gi");
        assert_eq!(
            cause_texts(&ClaimStrategy.validate_update(&shrunk, &grown)),
            ["spec.resources.requests.storage: Forbidden: field can not be less than \
                 status.capacity"]
        );
        // An unset class may be set; a set one may not change.
        let mut classed = old.clone();
        classed["spec"]["storageClassName"] = json!("fast");
        assert!(ClaimStrategy.validate_update(&classed, &old).is_empty());
        let mut reclassed = classed.clone();
        reclassed["spec"]["storageClassName"] = json!("slow");
        assert_eq!(ClaimStrategy.validate_update(&reclassed, &classed)[0].field, "spec");
    }

    #[test]
    fn table_columns() {
        let mut c = valid();
        c["spec"]["storageClassName"] = json!("standard");
        let pending = render_table(&table(), &[c.clone()], Default::default(), Default::default());
        let cells = pending["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells[..7],
            [
                json!("data"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("standard"),
                json!("<unset>")
            ]
        );
        assert_eq!(cells[8], "Filesystem");
        c["spec"]["volumeName"] = json!("pv-1");
        c["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"]});
        let bound = render_table(&table(), &[c], Default::default(), Default::default());
        let cells = bound["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(cells[1..5], [json!("Bound"), json!("pv-1"), json!("1Gi"), json!("RWO,RWX")]);
    }
}
