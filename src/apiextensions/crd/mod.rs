//! `apiextensions.k8s.io/v1` CustomResourceDefinitions as a served resource: cluster-scoped,
//! with `/status`, short name `crd`, kube's default table (`NAME`, `CREATED AT`), stored through
//! the generic store under `/apiextensions.k8s.io/customresourcedefinitions`.
//!
//! The strategy defaults a CRD as `SetDefaults_CustomResourceDefinition*` do, keeps
//! `status.storedVersions` (the storage version is added whenever it changes, never dropped),
//! validates ([`validation`]), and asks every delete to add the cleanup finalizer, so the CRD
//! stays until the controller ([`super::controller`]) has deleted its objects.

pub mod validation;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::meta::validation::FieldCause;
use crate::registry::builtin::{child_object, default_string, generic_table};
use crate::registry::resource::{GroupVersion, Resource, SameVersion};
use crate::registry::strategy::Strategy;

pub use validation::CLEANUP_FINALIZER;

pub const GROUP: &str = "apiextensions.k8s.io";
pub const VERSION: &str = "v1";
pub const KIND: &str = "CustomResourceDefinition";
pub const PLURAL: &str = "customresourcedefinitions";

/// The CRD resource. `builtin_groups` are the groups the server serves itself, which no CRD may
/// take.
pub fn resource(builtin_groups: Vec<String>) -> Resource {
    let gv = GroupVersion::new(GROUP, VERSION);
    Resource {
        gv: gv.clone(),
        kind: KIND.to_owned(),
        plural: PLURAL.to_owned(),
        singular: "customresourcedefinition".to_owned(),
        short_names: vec!["crd".to_owned(), "crds".to_owned()],
        categories: vec!["api-extensions".to_owned()],
        namespaced: false,
        status_subresource: true,
        scale_subresource: None,
        storage_prefix: format!("/{GROUP}/{PLURAL}"),
        storage_gv: gv.clone(),
        conversion: Arc::new(SameVersion { api_version: gv.api_version(), kind: KIND.to_owned() }),
        strategy: Arc::new(CrdStrategy { builtin_groups }),
        table: generic_table(),
    }
}

/// CustomResourceDefinition rules.
#[derive(Debug, Clone, Default)]
pub struct CrdStrategy {
    builtin_groups: Vec<String>,
}

/// `SetDefaults_CustomResourceDefinitionSpec` and friends.
fn default_crd(crd: &mut Value) {
    let Some(map) = crd.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    if let Some(names) = child_object(spec, "names") {
        let kind = names.get("kind").and_then(Value::as_str).unwrap_or("").to_owned();
        if !kind.is_empty() {
            default_string(names, "singular", &kind.to_lowercase());
            default_string(names, "listKind", &format!("{kind}List"));
        }
    }
    if let Some(conversion) = child_object(spec, "conversion") {
        default_string(conversion, "strategy", "None");
        let service = conversion
            .get_mut("webhook")
            .and_then(|w| w.get_mut("clientConfig"))
            .and_then(|c| c.get_mut("service"))
            .and_then(Value::as_object_mut);
        if let Some(service) = service {
            crate::registry::builtin::default_value(service, "port", json!(443));
        }
    }
    for version in spec.get_mut("versions").and_then(Value::as_array_mut).into_iter().flatten() {
        for column in version
            .get_mut("additionalPrinterColumns")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            crate::registry::builtin::default_value(column, "priority", json!(0));
        }
    }
}

/// The name of the version marked `storage: true`, if exactly findable.
fn storage_version(crd: &Value) -> Option<String> {
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

/// Adds the storage version to `status.storedVersions` unless it is there.
fn record_storage_version(crd: &mut Value) {
    let Some(version) = storage_version(crd) else { return };
    let Some(map) = crd.as_object_mut() else { return };
    let Some(status) = child_object(map, "status") else { return };
    let stored = status.entry("storedVersions").or_insert_with(|| json!([]));
    if !stored.is_array() {
        *stored = json!([]);
    }
    if let Some(list) = stored.as_array_mut()
        && !list.iter().any(|v| v.as_str() == Some(version.as_str()))
    {
        list.push(version.into());
    }
}

impl Strategy for CrdStrategy {
    fn set_defaults(&self, crd: &mut Value) {
        default_crd(crd);
    }

    fn prepare_for_create(&self, crd: &mut Value) {
        if let Some(map) = crd.as_object_mut() {
            let mut status = Map::new();
            status.insert("acceptedNames".into(), json!({"plural": "", "kind": ""}));
            status.insert("storedVersions".into(), json!([]));
            map.insert("status".into(), Value::Object(status));
        }
        record_storage_version(crd);
    }

    fn prepare_for_update(&self, crd: &mut Value, _old: &Value) {
        record_storage_version(crd);
    }

    fn validate(&self, crd: &Value) -> Vec<FieldCause> {
        validation::validate(crd, &self.builtin_groups)
    }

    fn validate_update(&self, crd: &Value, old: &Value) -> Vec<FieldCause> {
        validation::validate_update(crd, old, &self.builtin_groups)
    }

    fn finalizers_on_delete(&self) -> &'static [&'static str] {
        &[CLEANUP_FINALIZER]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::DecodedWrite as _;

    #[test]
    fn defaults_and_stored_versions() {
        let strategy = CrdStrategy::default();
        let mut crd = json!({"spec": {"names": {"kind": "Foo"}, "versions": [
            {"name": "v1", "storage": true, "additionalPrinterColumns": [{"name": "x"}]},
            {"name": "v2", "storage": false}]}});
        strategy.decoded_create(&mut crd);
        assert_eq!(crd["spec"]["names"]["singular"], "foo");
        assert_eq!(crd["spec"]["names"]["listKind"], "FooList");
        assert_eq!(crd["spec"]["conversion"]["strategy"], "None");
        assert_eq!(crd["spec"]["versions"][0]["additionalPrinterColumns"][0]["priority"], 0);
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
        let old = crd.clone();
        crd["spec"]["versions"][0]["storage"] = json!(false);
        crd["spec"]["versions"][1]["storage"] = json!(true);
        strategy.decoded_update(&mut crd, &old);
        assert_eq!(crd["status"]["storedVersions"], json!(["v1", "v2"]));
        assert_eq!(strategy.finalizers_on_delete(), [CLEANUP_FINALIZER]);
    }

    #[test]
    fn the_resource_is_cluster_scoped_with_status() {
        let r = resource(vec![]);
        assert!(!r.namespaced && r.status_subresource);
        assert_eq!(r.storage_prefix, "/apiextensions.k8s.io/customresourcedefinitions");
        assert_eq!(r.short_names, ["crd", "crds"]);
        let columns: Vec<_> = r.table.columns.iter().map(|c| c.name.clone()).collect();
        assert_eq!(columns, ["Name", "Created At"]);
    }
}
