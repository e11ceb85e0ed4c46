//! `v1` Namespaces (`pkg/registry/core/namespace`): cluster-scoped, named by DNS-1123 labels,
//! created `Active` with the `kubernetes` finalizer that the namespace lifecycle removes once the
//! namespace is empty (see [`crate::registry::namespaces`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Kind, age_column, child_object, column, name_column, opt_array, str_at};
use crate::meta::validation::{FieldCause, NameValidator, is_qualified_name, name_is_dns_label};
use crate::registry::object;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

/// The spec finalizer every namespace is created with.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";

/// The label kube's defaulting sets to the namespace's own name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    short_names: &["ns"],
    categories: &[],
    namespaced: false,
    storage_prefix: "/namespaces",
};

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(NamespaceStrategy), table()) }
}

/// Namespace rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamespaceStrategy;

/// kube's `SetDefaults_Namespace`: the name label always reflects the name.
fn default_name_label(ns: &mut Value) {
    let Some(name) = object::name(ns).map(str::to_owned) else { return };
    let meta = object::metadata_mut(ns);
    if let Some(labels) = child_object(meta, "labels") {
        labels.insert(NAME_LABEL.to_owned(), name.into());
    }
}

impl Strategy for NamespaceStrategy {
    /// kube's namespace storage has no `DeleteCollection`.
    fn delete_collection(&self) -> bool {
        false
    }

    /// kube-apiserver's namespaces storage sets `ReturnDeletedObject`.
    fn return_deleted_object(&self) -> bool {
        true
    }

    /// kube's `ShouldDeleteNamespaceDuringUpdate`: a terminating namespace goes only once its
    /// spec finalizers are gone too (the namespace controller's `/finalize`), not on any update
    /// that happens to leave its metadata finalizers empty.
    fn finalized(&self, ns: &Value) -> bool {
        let spec_finalizers = ns.pointer("/spec/finalizers").and_then(Value::as_array);
        object::finalizers(ns).is_empty() && spec_finalizers.is_none_or(Vec::is_empty)
    }

    fn set_defaults(&self, ns: &mut Value) {
        default_name_label(ns);
    }

    /// kube's `PrepareForCreate`, with its `Canonicalize`: the name label once more, for a
    /// namespace named from its `generateName` after defaulting.
    fn prepare_for_create(&self, ns: &mut Value) {
        default_name_label(ns);
        let Some(map) = ns.as_object_mut() else { return };
        map.insert("status".into(), json!({"phase": "Active"}));
        let Some(spec) = child_object(map, "spec") else { return };
        match spec.get_mut("finalizers") {
            Some(Value::Array(finalizers)) => {
                if !finalizers.iter().any(|f| f == FINALIZER_KUBERNETES) {
                    finalizers.push(FINALIZER_KUBERNETES.into());
                }
            }
            None | Some(Value::Null) => {
                spec.insert("finalizers".into(), json!([FINALIZER_KUBERNETES]));
            }
            Some(_) => {}
        }
    }

    fn prepare_for_update(&self, ns: &mut Value, old: &Value) {
        default_name_label(ns);
        // Spec finalizers change only through `/finalize`.
        let old_finalizers = old.pointer("/spec/finalizers").cloned();
        let Some(map) = ns.as_object_mut() else { return };
        let Some(spec) = child_object(map, "spec") else { return };
        match old_finalizers {
            Some(finalizers) => spec.insert("finalizers".into(), finalizers),
            None => spec.shift_remove("finalizers"),
        };
    }

    fn validate(&self, ns: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let spec = ns.get("spec").unwrap_or(&Value::Null);
        for finalizer in opt_array(spec, "finalizers", "spec.finalizers", &mut causes) {
            match finalizer.as_str() {
                Some(name) => validate_finalizer_name(name, "spec.finalizers", &mut causes),
                None => causes.push(FieldCause::type_invalid(
                    "spec.finalizers",
                    finalizer.clone(),
                    "must be a string",
                )),
            }
        }
        causes
    }

    fn validate_update(&self, ns: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(ns);
        // What `/status` may write: the phase follows the deletion state.
        if ns.get("status") != old.get("status") {
            let phase = str_at(ns, "/status/phase");
            if object::deletion_timestamp(ns).is_none() {
                if phase != "Active" {
                    causes.push(FieldCause::invalid(
                        "status.Phase",
                        phase,
                        "may only be 'Active' if `deletionTimestamp` is empty",
                    ));
                }
            } else if phase != "Terminating" {
                causes.push(FieldCause::invalid(
                    "status.Phase",
                    phase,
                    "may only be 'Terminating' if `deletionTimestamp` is not empty",
                ));
            }
        }
        causes
    }

    fn name_validator(&self) -> NameValidator {
        name_is_dns_label
    }

    fn selectable_fields(&self, ns: &Value) -> BTreeMap<String, String> {
        BTreeMap::from([("status.phase".to_owned(), str_at(ns, "/status/phase").to_owned())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["status.phase"]
    }
}

/// kube's `validateFinalizerName`: a qualified name, and a bare (unprefixed) one must be one of
/// the standard finalizers.
pub(crate) fn validate_finalizer_name(name: &str, path: &str, causes: &mut Vec<FieldCause>) {
    for msg in is_qualified_name(name) {
        causes.push(FieldCause::invalid(path, name, &msg));
    }
    let standard = [FINALIZER_KUBERNETES, "orphan", "foregroundDeletion"];
    if !name.contains('/') && !standard.contains(&name) {
        causes.push(FieldCause::invalid(
            path,
            name,
            "name is neither a standard finalizer name nor is it fully qualified",
        ));
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Status",
                "string",
                0,
                "The status of the namespace",
                Cell::Computed(|ns| str_at(ns, "/status/phase").into()),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn created(body: Value) -> Value {
        let mut ns = body;
        NamespaceStrategy.decoded_create(&mut ns);
        ns
    }

    #[test]
    fn create_defaults_phase_finalizer_and_name_label() {
        let ns = created(json!({"metadata": {"name": "team-a"}}));
        assert_eq!(ns["status"], json!({"phase": "Active"}));
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["metadata"]["labels"][NAME_LABEL], "team-a");
        let ns = created(json!({"metadata": {"name": "b", "labels": {NAME_LABEL: "x"}},
                                "spec": {"finalizers": ["example.com/x"]},
                                "status": {"phase": "Terminating"}}));
        assert_eq!(ns["spec"]["finalizers"], json!(["example.com/x", "kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(ns["metadata"]["labels"][NAME_LABEL], "b");
        assert!(NamespaceStrategy.validate(&ns).is_empty());
    }

    #[test]
    fn update_keeps_spec_finalizers() {
        let old = created(json!({"metadata": {"name": "a"}}));
        let mut new = json!({"metadata": {"name": "a"}, "spec": {"finalizers": []}});
        NamespaceStrategy.decoded_update(&mut new, &old);
        assert_eq!(new["spec"]["finalizers"], json!(["kubernetes"]));
    }

    #[test]
    fn finalizer_names_are_checked() {
        let ns = json!({"metadata": {"name": "a"}, "spec": {"finalizers": ["custom", "a/b/c", 1]}});
        let causes = NamespaceStrategy.validate(&ns);
        let fields: Vec<_> = causes.iter().map(|c| (c.field.as_str(), c.reason.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("spec.finalizers", "FieldValueInvalid"),
                ("spec.finalizers", "FieldValueInvalid"),
                ("spec.finalizers", "FieldValueTypeInvalid"),
            ]
        );
        assert_eq!(
            causes[0].message,
            "Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully \
             qualified"
        );
    }

    #[test]
    fn status_phase_follows_deletion() {
        let old = created(json!({"metadata": {"name": "a"}}));
        let mut new = old.clone();
        new["status"]["phase"] = "Terminating".into();
        let causes = NamespaceStrategy.validate_update(&new, &old);
        assert_eq!(
            causes[0].to_string(),
            "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if \
             `deletionTimestamp` is empty"
        );
        new["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z".into();
        assert!(NamespaceStrategy.validate_update(&new, &old).is_empty());
    }

    #[test]
    fn names_are_dns_labels_and_phase_is_selectable() {
        assert!(!NamespaceStrategy.name_validator()("a.b", false).is_empty());
        let ns = created(json!({"metadata": {"name": "a"}}));
        assert_eq!(NamespaceStrategy.selectable_fields(&ns)["status.phase"], "Active");
        let r = resource();
        assert!(!r.namespaced && r.status_subresource);
        assert_eq!(r.short_names, ["ns"]);
        assert_eq!(r.key(None, "a"), "/namespaces/a");
    }

    #[test]
    fn table_columns() {
        let ns = created(json!({"metadata": {"name": "a"}}));
        let table = render_table(&table(), &[ns], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["a", "Active", "<unknown>"]));
        let names: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Name", "Status", "Age"]);
    }
}
