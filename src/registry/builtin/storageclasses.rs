//! `storage.k8s.io/v1` StorageClasses (`pkg/registry/storage/storageclass`,
//! `pkg/apis/storage/validation`): how volumes for PersistentVolumeClaims are provisioned.
//! Cluster-scoped; `provisioner`, `parameters`, `reclaimPolicy` and `volumeBindingMode` are fixed
//! at creation. The class annotated `storageclass.kubernetes.io/is-default-class: "true"` is what
//! the DefaultStorageClass admission plugin (`crate::admission::default_storage_class`) gives a
//! claim that names none; kubectl shows it as `name (default)`.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Kind, age_column, column, default_value, name_column, object_items, opt_array, opt_bool,
    opt_str, opt_string_map, str_at,
};
use crate::meta::validation::{FieldCause, is_qualified_name};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "storage.k8s.io";
pub const PLURAL: &str = "storageclasses";
/// The annotation that makes a class the default one.
pub const IS_DEFAULT: &str = "storageclass.kubernetes.io/is-default-class";
/// Its beta spelling, still honoured.
pub const BETA_IS_DEFAULT: &str = "storageclass.beta.kubernetes.io/is-default-class";

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "StorageClass",
    plural: PLURAL,
    short_names: &["sc"],
    categories: &[],
    namespaced: false,
    storage_prefix: "/storageclasses",
};

const RECLAIM_POLICIES: &[&str] = &["Delete", "Retain"];
const BINDING_MODES: &[&str] = &["Immediate", "WaitForFirstConsumer"];
/// At most this many parameters, of this many bytes in all.
const MAX_PARAMETERS: usize = 512;
const MAX_PARAMETERS_SIZE: usize = 256 * 1024;

pub fn resource() -> Resource {
    KIND.resource(Arc::new(StorageClassStrategy), table())
}

/// kube's `IsDefaultAnnotation`: either spelling set to `"true"`.
pub fn is_default(class: &Value) -> bool {
    [IS_DEFAULT, BETA_IS_DEFAULT].iter().any(|key| {
        class.pointer("/metadata/annotations").and_then(|a| a.get(*key)).and_then(Value::as_str)
            == Some("true")
    })
}

/// StorageClass rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct StorageClassStrategy;

/// `SetDefaults_StorageClass`.
fn default_class(class: &mut Value) {
    let Some(map) = class.as_object_mut() else { return };
    default_value(map, "reclaimPolicy", json!("Delete"));
    default_value(map, "volumeBindingMode", json!("Immediate"));
}

fn validate_allowed_topologies(class: &Value, causes: &mut Vec<FieldCause>) {
    let terms = opt_array(class, "allowedTopologies", "allowedTopologies", causes);
    let mut seen: Vec<Vec<(String, BTreeSet<String>)>> = Vec::new();
    for (i, term) in object_items(terms, "allowedTopologies", causes) {
        let path = format!("allowedTopologies[{i}]");
        let exprs_path = format!("{path}.matchLabelExpressions");
        let exprs = opt_array(term, "matchLabelExpressions", &exprs_path, causes);
        let mut keys: Vec<(String, BTreeSet<String>)> = Vec::new();
        for (j, expr) in object_items(exprs, &exprs_path, causes) {
            let expr_path = format!("{exprs_path}[{j}]");
            let values_path = format!("{expr_path}.values");
            let values = opt_array(expr, "values", &values_path, causes);
            if values.is_empty() {
                causes.push(FieldCause::required(&values_path, ""));
            }
            let mut set = BTreeSet::new();
            for (k, value) in values.iter().enumerate() {
                let value = value.as_str().unwrap_or_default().to_owned();
                if !set.insert(value.clone()) {
                    causes.push(FieldCause::duplicate(format!("{values_path}[{k}]"), value));
                }
            }
            let key_path = format!("{expr_path}.key");
            let key = opt_str(expr, "key", &key_path, causes).unwrap_or("");
            for msg in is_qualified_name(key) {
                causes.push(FieldCause::invalid(&key_path, key, &msg));
            }
            if keys.iter().any(|(k, _)| k == key) {
                causes.push(FieldCause::duplicate(&key_path, key));
            }
            keys.push((key.to_owned(), set));
        }
        keys.sort();
        if seen.contains(&keys) {
            causes.push(FieldCause::duplicate(&exprs_path, ""));
        }
        seen.push(keys);
    }
}

impl Strategy for StorageClassStrategy {
    fn set_defaults(&self, class: &mut Value) {
        default_class(class);
    }

    fn validate(&self, class: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let provisioner = opt_str(class, "provisioner", "provisioner", &mut causes).unwrap_or("");
        if provisioner.is_empty() {
            causes.push(FieldCause::required("provisioner", ""));
        } else {
            for msg in is_qualified_name(&provisioner.to_lowercase()) {
                causes.push(FieldCause::invalid("provisioner", provisioner.to_lowercase(), &msg));
            }
        }
        let parameters = opt_string_map(class, "parameters", "parameters", &mut causes);
        if parameters.len() > MAX_PARAMETERS {
            causes.push(FieldCause::too_long("parameters", MAX_PARAMETERS));
        } else {
            for (key, _) in &parameters {
                if key.is_empty() {
                    causes.push(FieldCause::invalid("parameters", *key, "field can not be empty."));
                }
            }
            let size: usize = parameters.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > MAX_PARAMETERS_SIZE {
                causes.push(FieldCause::too_long("parameters", MAX_PARAMETERS_SIZE));
            }
        }
        let reclaim = opt_str(class, "reclaimPolicy", "reclaimPolicy", &mut causes);
        if let Some(policy) = reclaim.filter(|p| !p.is_empty() && !RECLAIM_POLICIES.contains(p)) {
            causes.push(FieldCause::not_supported("reclaimPolicy", policy, RECLAIM_POLICIES));
        }
        match opt_str(class, "volumeBindingMode", "volumeBindingMode", &mut causes) {
            None => causes.push(FieldCause::required("volumeBindingMode", "")),
            Some(mode) if !BINDING_MODES.contains(&mode) => {
                causes.push(FieldCause::not_supported("volumeBindingMode", mode, BINDING_MODES))
            }
            Some(_) => {}
        }
        opt_bool(class, "allowVolumeExpansion", "allowVolumeExpansion", &mut causes);
        opt_array(class, "mountOptions", "mountOptions", &mut causes);
        validate_allowed_topologies(class, &mut causes);
        causes
    }

    /// kube's `ValidateStorageClassUpdate`: the class as on create, and what provisions
    /// volumes unchanged.
    fn validate_update(&self, class: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(class);
        let field = |object: &Value, key: &str| object.get(key).cloned().unwrap_or(Value::Null);
        let empty_map = |v: Value| if v == json!({}) { Value::Null } else { v };
        if empty_map(field(class, "parameters")) != empty_map(field(old, "parameters")) {
            causes
                .push(FieldCause::forbidden("parameters", "updates to parameters are forbidden."));
        }
        if field(class, "provisioner") != field(old, "provisioner") {
            causes.push(FieldCause::forbidden(
                "provisioner",
                "updates to provisioner are forbidden.",
            ));
        }
        if field(class, "reclaimPolicy") != field(old, "reclaimPolicy") {
            causes.push(FieldCause::forbidden(
                "reclaimPolicy",
                "updates to reclaimPolicy are forbidden.",
            ));
        }
        let mode = field(class, "volumeBindingMode");
        if mode != field(old, "volumeBindingMode") {
            causes.push(super::immutable("volumeBindingMode", &mode));
        }
        causes
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            crate::registry::table::Column {
                // The default class is printed `name (default)`, as kubectl shows it.
                cell: Cell::Computed(|class| {
                    let name = str_at(class, "/metadata/name");
                    let text = if is_default(class) {
                        format!("{name} (default)")
                    } else {
                        name.to_owned()
                    };
                    text.into()
                }),
                ..name_column()
            },
            column(
                "Provisioner",
                "string",
                0,
                &KIND.doc("/provisioner"),
                Cell::Computed(|class| str_at(class, "/provisioner").into()),
            ),
            column(
                "ReclaimPolicy",
                "string",
                0,
                &KIND.doc("/reclaimPolicy"),
                Cell::Computed(|class| match str_at(class, "/reclaimPolicy") {
                    "" => "Delete".into(),
                    policy => policy.into(),
                }),
            ),
            column(
                "VolumeBindingMode",
                "string",
                0,
                &KIND.doc("/volumeBindingMode"),
                Cell::Computed(|class| match str_at(class, "/volumeBindingMode") {
                    "" => "Immediate".into(),
                    mode => mode.into(),
                }),
            ),
            column(
                "AllowVolumeExpansion",
                "string",
                0,
                &KIND.doc("/allowVolumeExpansion"),
                Cell::Computed(|class| {
                    json!(class.get("allowVolumeExpansion").and_then(Value::as_bool) == Some(true))
                }),
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

    fn class(extra: Value) -> Value {
        let mut c = json!({"metadata": {"name": "fast"}, "provisioner": "example.com/ssd"});
        if let (Some(map), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        c
    }

    fn prepared(extra: Value) -> Value {
        let mut c = class(extra);
        StorageClassStrategy.decoded_create(&mut c);
        c
    }

    #[test]
    fn defaults_and_a_valid_class() {
        let c = prepared(json!({"parameters": {"type": "ssd"}}));
        assert_eq!(c["reclaimPolicy"], "Delete");
        assert_eq!(c["volumeBindingMode"], "Immediate");
        assert!(StorageClassStrategy.validate(&c).is_empty());
    }

    #[test]
    fn fields_are_checked() {
        let c = prepared(json!({"provisioner": "", "reclaimPolicy": "Recycle",
            "volumeBindingMode": "Later", "parameters": {"": "x"}}));
        assert_eq!(
            cause_texts(&StorageClassStrategy.validate(&c)),
            [
                "provisioner: Required value",
                "parameters: Invalid value: \"\": field can not be empty.",
                "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \
                 \"Retain\"",
                "volumeBindingMode: Unsupported value: \"Later\": supported values: \
                 \"Immediate\", \"WaitForFirstConsumer\"",
            ]
        );
        let bad = prepared(json!({"provisioner": "a b"}));
        assert_eq!(StorageClassStrategy.validate(&bad)[0].field, "provisioner");
        let topologies = prepared(json!({"allowedTopologies": [
            {"matchLabelExpressions": [{"key": "zone", "values": []}]},
            {"matchLabelExpressions": [{"key": "zone", "values": ["a", "a"]}]}]}));
        assert_eq!(
            cause_texts(&StorageClassStrategy.validate(&topologies)),
            [
                "allowedTopologies[0].matchLabelExpressions[0].values: Required value",
                "allowedTopologies[1].matchLabelExpressions[0].values[1]: Duplicate value: \"a\"",
            ]
        );
    }

    #[test]
    fn provisioning_fields_are_fixed() {
        let old = prepared(json!({"parameters": {"type": "ssd"}}));
        let new = prepared(json!({"provisioner": "example.com/hdd", "parameters": {"type": "hdd"},
            "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"}));
        assert_eq!(
            cause_texts(&StorageClassStrategy.validate_update(&new, &old)),
            [
                "parameters: Forbidden: updates to parameters are forbidden.",
                "provisioner: Forbidden: updates to provisioner are forbidden.",
                "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is immutable",
            ]
        );
        let mut expandable = old.clone();
        expandable["allowVolumeExpansion"] = json!(true);
        expandable["metadata"]["annotations"] = json!({IS_DEFAULT: "true"});
        assert!(StorageClassStrategy.validate_update(&expandable, &old).is_empty());
    }

    #[test]
    fn the_default_class_is_marked_in_its_row() {
        let mut default = prepared(json!({}));
        default["metadata"]["annotations"] = json!({IS_DEFAULT: "true"});
        assert!(is_default(&default));
        let table = render_table(&table(), &[default], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"].as_array().unwrap()[..5],
            [
                json!("fast (default)"),
                json!("example.com/ssd"),
                json!("Delete"),
                json!("Immediate"),
                json!(false)
            ]
        );
    }
}
