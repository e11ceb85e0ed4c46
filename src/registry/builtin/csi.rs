//! `storage.k8s.io/v1` CSIDrivers and CSINodes (`pkg/registry/storage/csidriver`, `csinode`,
//! `pkg/apis/storage/validation`): what a cluster knows of its CSI volume drivers and of the
//! drivers registered on each node. Both cluster-scoped, without short names. A CSIDriver's
//! spec is defaulted as kube's `SetDefaults_CSIDriver` does; `attachRequired` and
//! `volumeLifecycleModes` are fixed at creation. A CSINode's drivers each keep their entry
//! once registered.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::columns::item_count;
use super::{
    Kind, age_column, array_at, child_object, column, default_value, invalid_rendered, name_column,
    object_items, opt_array, opt_bool, opt_int, opt_object, opt_str, str_at, validate_nonnegative,
};
use crate::meta::validation::{FieldCause, go_quote, is_dns1123_subdomain, is_qualified_name};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "storage.k8s.io";

const DRIVER: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "CSIDriver",
    plural: "csidrivers",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/csidrivers",
};

const NODE: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "CSINode",
    plural: "csinodes",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/csinodes",
};

const FS_GROUP_POLICIES: &[&str] = &["File", "None", "ReadWriteOnceWithFSType"];
const LIFECYCLE_MODES: &[&str] = &["Persistent", "Ephemeral"];
/// kube's `csiNodeIDMaxLength`.
const NODE_ID_MAX: usize = 192;

pub fn driver_resource() -> Resource {
    DRIVER.resource(Arc::new(CsiDriverStrategy), driver_table())
}

pub fn node_resource() -> Resource {
    NODE.resource(Arc::new(CsiNodeStrategy), node_table())
}

/// kube's `ValidateCSIDriverName` (`apis/core/validation`), for the names of drivers that
/// other objects give: required, at most 63 characters, a DNS subdomain once lower-cased.
pub(crate) fn validate_driver_name(name: &str, path: &str, causes: &mut Vec<FieldCause>) {
    if name.is_empty() {
        causes.push(FieldCause::required(path, ""));
    }
    if name.len() > 63 {
        causes.push(FieldCause::too_long(path, 63));
    }
    for msg in is_dns1123_subdomain(&name.to_lowercase()) {
        causes.push(FieldCause::invalid(path, name, &msg));
    }
}

/// CSIDriver rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsiDriverStrategy;

/// `SetDefaults_CSIDriver` (with `SELinuxMountReadWriteOncePod`, on in 1.33).
fn default_driver(driver: &mut Value) {
    let Some(map) = driver.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    default_value(spec, "attachRequired", json!(true));
    default_value(spec, "podInfoOnMount", json!(false));
    default_value(spec, "storageCapacity", json!(false));
    default_value(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    if spec.get("volumeLifecycleModes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        spec.insert("volumeLifecycleModes".into(), json!(["Persistent"]));
    }
    default_value(spec, "requiresRepublish", json!(false));
    default_value(spec, "seLinuxMount", json!(false));
    // MutableCSINodeAllocatableCount is alpha (off) in 1.33: kube drops the field.
    spec.shift_remove("nodeAllocatableUpdatePeriodSeconds");
}

/// kube's `validateCSIDriverSpec`. The Required path of `attachRequired` is kube's own
/// spelling, `spec.attachedRequired`.
fn validate_driver_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    for (key, path) in [
        ("attachRequired", "spec.attachedRequired"),
        ("podInfoOnMount", "spec.podInfoOnMount"),
        ("storageCapacity", "spec.storageCapacity"),
    ] {
        if opt_bool(spec, key, path, causes).is_none() && spec.get(key).is_none_or(Value::is_null) {
            causes.push(FieldCause::required(path, ""));
        }
    }
    if let Some(policy) = opt_str(spec, "fsGroupPolicy", "spec.fsGroupPolicy", causes)
        && !FS_GROUP_POLICIES.contains(&policy)
    {
        causes.push(FieldCause::not_supported("spec.fsGroupPolicy", policy, FS_GROUP_POLICIES));
    }
    let requests = opt_array(spec, "tokenRequests", "spec.tokenRequests", causes);
    let mut audiences = BTreeSet::new();
    for (i, request) in object_items(requests, "spec.tokenRequests", causes) {
        let path = format!("spec.tokenRequests[{i}]");
        let audience = opt_str(request, "audience", &format!("{path}.audience"), causes);
        let audience = audience.unwrap_or("");
        if !audiences.insert(audience.to_owned()) {
            causes.push(FieldCause::duplicate(format!("{path}.audience"), audience));
            continue;
        }
        let seconds_path = format!("{path}.expirationSeconds");
        if let Some(seconds) = opt_int(request, "expirationSeconds", &seconds_path, causes) {
            if seconds < 600 {
                causes.push(FieldCause::invalid(
                    &seconds_path,
                    seconds,
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if seconds > 1 << 32 {
                causes.push(FieldCause::invalid(
                    &seconds_path,
                    seconds,
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
        }
    }
    for mode in opt_array(spec, "volumeLifecycleModes", "spec.volumeLifecycleModes", causes) {
        let text = mode.as_str().unwrap_or_default();
        if !LIFECYCLE_MODES.contains(&text) {
            causes.push(FieldCause::not_supported(
                "spec.volumeLifecycleModes",
                mode.clone(),
                LIFECYCLE_MODES,
            ));
        }
    }
    if opt_bool(spec, "seLinuxMount", "spec.seLinuxMount", causes).is_none()
        && spec.get("seLinuxMount").is_none_or(Value::is_null)
    {
        causes.push(FieldCause::required("spec.seLinuxMount", ""));
    }
    opt_bool(spec, "requiresRepublish", "spec.requiresRepublish", causes);
}

/// Go's `%#v` of a `[]storage.VolumeLifecycleMode`.
fn go_modes(modes: Option<&Value>) -> String {
    match modes.and_then(Value::as_array) {
        None => "[]storage.VolumeLifecycleMode(nil)".to_owned(),
        Some(items) => {
            let items: Vec<String> =
                items.iter().map(|m| go_quote(m.as_str().unwrap_or_default())).collect();
            format!("[]storage.VolumeLifecycleMode{{{}}}", items.join(", "))
        }
    }
}

impl Strategy for CsiDriverStrategy {
    fn set_defaults(&self, driver: &mut Value) {
        default_driver(driver);
    }

    fn validate(&self, driver: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        match opt_object(driver, "spec", "spec", &mut causes) {
            Some(_) => validate_driver_spec(&driver["spec"], &mut causes),
            None if driver.get("spec").is_none_or(Value::is_null) => {
                validate_driver_spec(&json!({}), &mut causes)
            }
            None => {}
        }
        causes
    }

    /// kube's `ValidateCSIDriverUpdate`: `attachRequired` (reported at kube's
    /// `spec.attachedRequired`) and `volumeLifecycleModes` are fixed.
    fn validate_update(&self, driver: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(driver);
        let attach = driver.pointer("/spec/attachRequired").cloned().unwrap_or(Value::Null);
        if attach != old.pointer("/spec/attachRequired").cloned().unwrap_or(Value::Null) {
            causes.push(super::immutable("spec.attachedRequired", &attach));
        }
        let modes = driver.pointer("/spec/volumeLifecycleModes");
        if modes != old.pointer("/spec/volumeLifecycleModes") {
            causes.push(invalid_rendered(
                "spec.volumeLifecycleModes",
                &go_modes(modes),
                "field is immutable",
            ));
        }
        causes
    }
}

fn flag(driver: &Value, key: &str, default: bool) -> Value {
    json!(driver.pointer(&format!("/spec/{key}")).and_then(Value::as_bool).unwrap_or(default))
}

fn driver_table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "AttachRequired",
                "boolean",
                0,
                &DRIVER.doc("/spec/attachRequired"),
                Cell::Computed(|d| flag(d, "attachRequired", true)),
            ),
            column(
                "PodInfoOnMount",
                "boolean",
                0,
                &DRIVER.doc("/spec/podInfoOnMount"),
                Cell::Computed(|d| flag(d, "podInfoOnMount", false)),
            ),
            column(
                "StorageCapacity",
                "boolean",
                0,
                &DRIVER.doc("/spec/storageCapacity"),
                Cell::Computed(|d| flag(d, "storageCapacity", false)),
            ),
            column(
                "TokenRequests",
                "string",
                0,
                &DRIVER.doc("/spec/tokenRequests"),
                Cell::Computed(|d| {
                    match d.pointer("/spec/tokenRequests").and_then(Value::as_array) {
                        None => "<unset>".into(),
                        Some(requests) => requests
                            .iter()
                            .map(|r| str_at(r, "/audience"))
                            .collect::<Vec<_>>()
                            .join(",")
                            .into(),
                    }
                }),
            ),
            column(
                "RequiresRepublish",
                "boolean",
                0,
                &DRIVER.doc("/spec/requiresRepublish"),
                Cell::Computed(|d| flag(d, "requiresRepublish", false)),
            ),
            column(
                "Modes",
                "string",
                0,
                &DRIVER.doc("/spec/volumeLifecycleModes"),
                Cell::Computed(|d| {
                    let modes: Vec<&str> = array_at(d, "/spec/volumeLifecycleModes")
                        .iter()
                        .map(|m| m.as_str().unwrap_or_default())
                        .collect();
                    if modes.is_empty() { "<none>".into() } else { modes.join(",").into() }
                }),
            ),
            age_column(),
        ],
    }
}

/// CSINode rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsiNodeStrategy;

/// kube's `validateCSINodeDriver` for each driver.
fn validate_node_drivers(node: &Value, causes: &mut Vec<FieldCause>) {
    let Some(spec) = opt_object(node, "spec", "spec", causes) else { return };
    let spec = Value::Object(spec.clone());
    let drivers = opt_array(&spec, "drivers", "spec.drivers", causes);
    let mut names = BTreeSet::new();
    for (i, driver) in object_items(drivers, "spec.drivers", causes) {
        let path = format!("spec.drivers[{i}]");
        let name = opt_str(driver, "name", &format!("{path}.name"), causes).unwrap_or("");
        validate_driver_name(name, &format!("{path}.name"), causes);
        let id_path = format!("{path}.nodeID");
        let id = opt_str(driver, "nodeID", &id_path, causes).unwrap_or("");
        if id.is_empty() {
            causes.push(FieldCause::required(&id_path, ""));
        }
        if id.len() > NODE_ID_MAX {
            causes.push(FieldCause::invalid(
                &id_path,
                id,
                &format!("must be {NODE_ID_MAX} characters or less"),
            ));
        }
        if let Some(allocatable) =
            opt_object(driver, "allocatable", &format!("{path}.allocatable"), causes)
        {
            let allocatable = Value::Object(allocatable.clone());
            let count_path = format!("{path}.allocatable.count");
            let count = opt_int(&allocatable, "count", &count_path, causes);
            validate_nonnegative(count, &count_path, causes);
        }
        if !names.insert(name.to_owned()) {
            causes.push(FieldCause::duplicate(format!("{path}.name"), name));
        }
        let mut keys = BTreeSet::new();
        let keys_path = format!("{path}.topologyKeys");
        for key in opt_array(driver, "topologyKeys", &keys_path, causes) {
            let key = key.as_str().unwrap_or_default();
            if key.is_empty() {
                causes.push(FieldCause::required(&path, ""));
            }
            if !keys.insert(key) {
                causes.push(FieldCause::duplicate(&path, key));
            }
            for msg in is_qualified_name(key) {
                causes.push(FieldCause::invalid(&path, key, &msg));
            }
        }
    }
}

/// Go's `%#v` of a `storage.CSINodeDriver`, as kube's immutability message prints it.
fn go_node_driver(driver: &Value) -> String {
    let allocatable = match driver.get("allocatable") {
        Some(a) if a.is_object() => "&storage.VolumeNodeResources{…}",
        _ => "(*storage.VolumeNodeResources)(nil)",
    };
    format!(
        "storage.CSINodeDriver{{Name:{}, NodeID:{}, TopologyKeys:{}, Allocatable:{allocatable}}}",
        go_quote(str_at(driver, "/name")),
        go_quote(str_at(driver, "/nodeID")),
        super::go_string_slice(driver.get("topologyKeys")),
    )
}

impl Strategy for CsiNodeStrategy {
    fn validate(&self, node: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_node_drivers(node, &mut causes);
        causes
    }

    /// kube's `ValidateCSINodeUpdate`: a driver that stays keeps its entry as it was.
    fn validate_update(&self, node: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(node);
        for old_driver in array_at(old, "/spec/drivers") {
            for new_driver in array_at(node, "/spec/drivers") {
                if str_at(old_driver, "/name") == str_at(new_driver, "/name")
                    && old_driver != new_driver
                {
                    causes.push(invalid_rendered(
                        "spec.drivers",
                        &go_node_driver(new_driver),
                        "field is immutable",
                    ));
                }
            }
        }
        causes
    }
}

fn node_table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Drivers",
                "integer",
                0,
                "Drivers indicates the number of CSI drivers registered on the node",
                Cell::Field { pointer: "/spec/drivers", show: item_count },
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn driver(spec: Value) -> Value {
        let mut d = json!({"metadata": {"name": "ebs.csi.aws.com"}, "spec": spec});
        CsiDriverStrategy.decoded_create(&mut d);
        d
    }

    #[test]
    fn driver_defaults_and_table() {
        let d = driver(json!({}));
        assert_eq!(
            d["spec"],
            json!({"attachRequired": true, "podInfoOnMount": false, "storageCapacity": false,
                "fsGroupPolicy": "ReadWriteOnceWithFSType", "volumeLifecycleModes": ["Persistent"],
                "requiresRepublish": false, "seLinuxMount": false})
        );
        assert!(CsiDriverStrategy.validate(&d).is_empty());
        let table = render_table(&driver_table(), &[d], Default::default(), Default::default());
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells[..7],
            [
                json!("ebs.csi.aws.com"),
                json!(true),
                json!(false),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("Persistent")
            ]
        );
    }

    #[test]
    fn driver_fields_are_checked_and_partly_fixed() {
        let d = driver(json!({"fsGroupPolicy": "Always", "volumeLifecycleModes": ["Forever"],
            "tokenRequests": [{"audience": "a", "expirationSeconds": 60}, {"audience": "a"}]}));
        assert_eq!(
            cause_texts(&CsiDriverStrategy.validate(&d)),
            [
                "spec.fsGroupPolicy: Unsupported value: \"Always\": supported values: \"File\", \
                 \"None\", \"ReadWriteOnceWithFSType\"",
                "spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a \
                 duration less than 10 minutes",
                "spec.tokenRequests[1].audience: Duplicate value: \"a\"",
                "spec.volumeLifecycleModes: Unsupported value: \"Forever\": supported values: \
                 \"Persistent\", \"Ephemeral\"",
            ]
        );
        let old = driver(json!({}));
        let mut new = driver(json!({"attachRequired": false, "podInfoOnMount": true,
            "volumeLifecycleModes": ["Persistent", "Ephemeral"]}));
        CsiDriverStrategy.decoded_update(&mut new, &old);
        assert_eq!(
            cause_texts(&CsiDriverStrategy.validate_update(&new, &old)),
            [
                "spec.attachedRequired: Invalid value: false: field is immutable",
                "spec.volumeLifecycleModes: Invalid value: \
                 []storage.VolumeLifecycleMode{\"Persistent\", \"Ephemeral\"}: field is immutable",
            ]
        );
    }

    #[test]
    fn node_drivers_are_checked_and_kept() {
        let node =
            |drivers: Value| json!({"metadata": {"name": "node-1"}, "spec": {"drivers": drivers}});
        let bad = node(json!([{"name": "", "nodeID": ""},
            {"name": "a.example.com", "nodeID": "n", "topologyKeys": ["zone", "zone"],
             "allocatable": {"count": -1}},
            {"name": "a.example.com", "nodeID": "n"}]));
        let texts = cause_texts(&CsiNodeStrategy.validate(&bad));
        assert_eq!(texts[0], "spec.drivers[0].name: Required value");
        assert!(texts.contains(&"spec.drivers[0].nodeID: Required value".to_owned()), "{texts:?}");
        assert!(texts.contains(
            &"spec.drivers[1].allocatable.count: Invalid value: -1: must be greater than or equal to 0"
                .to_owned()
        ));
        assert!(texts.contains(&"spec.drivers[1]: Duplicate value: \"zone\"".to_owned()));
        assert!(
            texts.contains(&"spec.drivers[2].name: Duplicate value: \"a.example.com\"".to_owned())
        );

        let old = node(json!([{"name": "a.example.com", "nodeID": "n1"}]));
        let moved = node(json!([{"name": "a.example.com", "nodeID": "n2"}]));
        assert_eq!(
            cause_texts(&CsiNodeStrategy.validate_update(&moved, &old)),
            ["spec.drivers: Invalid value: storage.CSINodeDriver{Name:\"a.example.com\", \
              NodeID:\"n2\", TopologyKeys:[]string(nil), \
              Allocatable:(*storage.VolumeNodeResources)(nil)}: field is immutable"]
        );
        let added = node(json!([{"name": "a.example.com", "nodeID": "n1"},
            {"name": "b.example.com", "nodeID": "n1"}]));
        assert!(CsiNodeStrategy.validate_update(&added, &old).is_empty());
        let table = render_table(&node_table(), &[added], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"][1], 2);
    }
}
