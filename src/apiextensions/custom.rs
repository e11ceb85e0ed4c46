//! The custom resources of one CRD as registry [`Resource`]s: one per served version, sharing
//! the storage prefix `/{group}/{plural}` and storing objects in the `storage: true` version.
//!
//! Data flow on a write: body in the served version, defaulted with that version's schema
//! ([`CustomStrategy`]'s `set_defaults`, before field ownership, as apiextensions-apiserver defaults
//! while decoding) → [`VersionConversion`] (apiVersion rewritten: conversion strategy `None`) →
//! [`CustomStrategy`] prunes unknown fields, applies the written version's defaults (the storage
//! version's, after a conversion webhook) and validates → the store writes it. On a read the
//! stored object is converted to the served version and defaulted and pruned with that version's
//! schema, as apiextensions-apiserver does when it decodes from storage.

use std::sync::Arc;

use serde_json::Value;

use super::definition::{Definition, PrinterColumn, Version};
use super::schema::Schema;
use super::webhook::{Webhook, WebhookConfig, WebhookConversion};
use crate::meta::validation::FieldCause;
use crate::registry::builtin::{column, default_table, name_column};
use crate::registry::resource::{
    Conversion, Converted, GroupVersion, Resource, ScaleSubresource, stamp,
};
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

/// Why a CRD's versions could not be built (a stored CRD that would not pass validation today).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BuildError {
    #[error("no version is marked as the storage version")]
    NoStorageVersion,
    #[error("version {version} has no valid schema: {detail}")]
    Schema { version: String, detail: String },
}

/// The served versions of `definition`, in `spec.versions` order. `webhooks` applies when the
/// conversion strategy is `Webhook`.
pub fn resources(
    definition: &Definition,
    webhooks: WebhookConfig,
) -> Result<Vec<Resource>, BuildError> {
    let storage = definition.storage_version().ok_or(BuildError::NoStorageVersion)?;
    let spec = &definition.spec;
    let storage_gv = GroupVersion::new(&spec.group, &storage.name);
    // One client per CRD, shared by its versions. With a webhook the store validates objects
    // in the storage version (they are converted first), so its schema governs writes.
    let webhook =
        definition.webhook().map(|hook| Arc::new(Webhook::new(&hook, &spec.names.kind, webhooks)));
    let storage_schema = match webhook {
        Some(_) => Some(parse_schema(storage)?),
        None => None,
    };
    let mut out = Vec::new();
    for version in spec.versions.iter().filter(|v| v.served) {
        let schema = parse_schema(version)?;
        let gv = GroupVersion::new(&spec.group, &version.name);
        let status = version.subresources.as_ref().is_some_and(|s| s.status.is_some());
        let scale = version.subresources.as_ref().and_then(|s| s.scale.as_ref()).map(|s| {
            ScaleSubresource {
                spec_replicas_path: s.spec_replicas_path.clone(),
                status_replicas_path: s.status_replicas_path.clone(),
                label_selector_path: s.label_selector_path.clone().filter(|p| !p.is_empty()),
            }
        });
        let conversion: Arc<dyn Conversion> = match &webhook {
            Some(hook) => Arc::new(WebhookConversion::new(
                hook.clone(),
                gv.api_version(),
                storage_gv.api_version(),
                schema.clone(),
            )),
            None => Arc::new(VersionConversion {
                served: gv.api_version(),
                storage: storage_gv.api_version(),
                kind: spec.names.kind.clone(),
                schema: schema.clone(),
            }),
        };
        let write_schema = storage_schema.clone().unwrap_or_else(|| schema.clone());
        out.push(Resource {
            gv,
            kind: spec.names.kind.clone(),
            plural: spec.names.plural.clone(),
            singular: spec.names.singular.clone(),
            short_names: spec.names.short_names.clone(),
            categories: spec.names.categories.clone(),
            namespaced: definition.namespaced(),
            status_subresource: status,
            scale_subresource: scale,
            storage_prefix: storage_prefix(&spec.group, &spec.names.plural),
            storage_gv: storage_gv.clone(),
            conversion,
            strategy: Arc::new(CustomStrategy {
                served: schema,
                schema: write_schema,
                warning: definition.deprecation_warning(version),
                published: published_schema(version),
            }),
            table: table(&version.additional_printer_columns),
        });
    }
    Ok(out)
}

/// Where a CRD's objects live in the log: `/{group}/{plural}` (kube: `/registry/{group}/{plural}`).
pub fn storage_prefix(group: &str, plural: &str) -> String {
    format!("/{group}/{plural}")
}

/// The served version's `openAPIV3Schema` as written, for the OpenAPI documents.
fn published_schema(version: &Version) -> Value {
    let raw = version.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref());
    raw.cloned().unwrap_or(Value::Null)
}

fn parse_schema(version: &Version) -> Result<Schema, BuildError> {
    let path = "openAPIV3Schema";
    let raw = version.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref());
    let Some(raw) = raw else {
        return Err(BuildError::Schema { version: version.name.clone(), detail: "missing".into() });
    };
    Schema::parse(raw, path).map_err(|causes| BuildError::Schema {
        version: version.name.clone(),
        detail: causes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
    })
}

/// The table of a version: `Name`, then its `additionalPrinterColumns`; a version without
/// columns gets apiextensions-apiserver's default `Age` column.
pub fn table(columns: &[PrinterColumn]) -> TableSpec {
    if columns.is_empty() {
        return default_table();
    }
    let mut spec = TableSpec { columns: vec![name_column()] };
    for c in columns {
        spec.columns.push(crate::registry::table::Column {
            format: c.format.clone(),
            ..column(
                &c.name,
                &c.kind,
                c.priority,
                &c.description,
                Cell::JsonPath(c.json_path.clone()),
            )
        });
    }
    spec
}

/// Conversion strategy `None`: the object is the same in every version but for `apiVersion`.
/// Reads also default and prune with the served version's schema.
#[derive(Debug)]
pub struct VersionConversion {
    served: String,
    storage: String,
    kind: String,
    schema: Schema,
}

impl Conversion for VersionConversion {
    fn to_storage_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Ready(Ok(stamp(object, &self.storage, &self.kind)))
    }

    fn to_served_version(&self, object: Value) -> Converted<'_, Value> {
        let mut object = stamp(object, &self.served, &self.kind);
        self.schema.prune(&mut object);
        self.schema.apply_defaults(&mut object);
        Converted::Ready(Ok(object))
    }
}

/// One served version's rules: its schema prunes, defaults and validates every write.
#[derive(Debug)]
pub struct CustomStrategy {
    /// The served version's schema, whose `default`s a request body gets.
    served: Schema,
    /// The schema of the version written (the served one, or the storage version's with a
    /// conversion webhook).
    schema: Schema,
    /// The deprecation warning of the version, sent with every request to it.
    warning: Option<String>,
    /// The served version's `openAPIV3Schema` as written (the OpenAPI documents publish it;
    /// `schema` may be the storage version's, with a conversion webhook).
    published: Value,
}

impl CustomStrategy {
    fn prepare(&self, object: &mut Value) {
        self.schema.prune(object);
        self.schema.apply_defaults(object);
    }
}

impl Strategy for CustomStrategy {
    /// Custom resources are Go maps in kube-apiserver, written with their keys sorted.
    fn field_order(&self) -> crate::registry::object::FieldOrder {
        crate::registry::object::FieldOrder::Sorted
    }

    fn set_defaults(&self, object: &mut Value) {
        self.served.apply_defaults(object);
    }

    fn prepare_for_create(&self, object: &mut Value) {
        self.prepare(object);
    }

    fn prepare_for_update(&self, object: &mut Value, _old: &Value) {
        self.prepare(object);
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        self.schema.validate_write(object, None).0
    }

    /// Updates through the object and through `status` validate the whole object, as kube's
    /// two strategies do; transition rules see the stored object, and rule failures on values
    /// the update left unchanged are ratcheted.
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let (causes, warnings) = self.schema.validate_write(new, Some(old));
        for warning in warnings {
            tracing::debug!(%warning, "CEL rule failure ratcheted: the value is unchanged");
        }
        causes
    }

    fn unknown_fields(&self, object: &Value) -> Vec<String> {
        let mut copy = object.clone();
        self.schema.prune(&mut copy)
    }

    fn request_warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    fn openapi_v3_schema(&self) -> Option<&Value> {
        Some(&self.published).filter(|v| v.is_object())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::{IncludeObject, render_table};

    fn definition() -> Definition {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer", "default": 1},
                "mode": {"type": "string"}}},
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}});
        Definition::from_value(&json!({"metadata": {"name": "foos.example.com"}, "spec": {
            "group": "example.com", "scope": "Cluster",
            "names": {"plural": "foos", "singular": "foo", "kind": "Foo", "listKind": "FooList",
                      "shortNames": ["fo"]},
            "versions": [
                {"name": "v1beta1", "served": true, "storage": false, "deprecated": true,
                 "schema": {"openAPIV3Schema": schema}},
                {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema},
                 "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas"}},
                 "additionalPrinterColumns": [
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Mode", "type": "string", "jsonPath": ".spec.mode", "priority": 1}]},
                {"name": "v0", "served": false, "storage": false}]}}))
        .unwrap()
    }

    #[test]
    fn one_resource_per_served_version_over_one_prefix() {
        let resources = resources(&definition(), WebhookConfig::default()).unwrap();
        let served: Vec<String> = resources.iter().map(|r| r.gv.to_string()).collect();
        assert_eq!(served, ["example.com/v1beta1", "example.com/v1"]);
        for r in &resources {
            assert_eq!(r.storage_prefix, "/example.com/foos");
            assert_eq!(r.storage_gv, GroupVersion::new("example.com", "v1"));
            assert!(!r.namespaced);
            assert_eq!(r.short_names, ["fo"]);
        }
        assert!(!resources[0].status_subresource && resources[1].status_subresource);
        let scale = resources[1].scale_subresource.clone().unwrap();
        assert_eq!(scale.spec_replicas_path, ".spec.replicas");
        assert_eq!(scale.label_selector_path, None);
        assert_eq!(
            resources[0].strategy.request_warning(),
            Some("example.com/v1beta1 Foo is deprecated; use example.com/v1 Foo")
        );
        assert_eq!(resources[1].strategy.request_warning(), None);
    }

    #[test]
    fn conversion_none_rewrites_the_api_version_and_defaults_on_read() {
        let resources = resources(&definition(), WebhookConfig::default()).unwrap();
        let beta = &resources[0];
        let body = json!({"apiVersion": "example.com/v1beta1", "kind": "Foo",
            "metadata": {"name": "a"}, "spec": {"mode": "x"}});
        let stored = beta.conversion.to_storage_version(body).now().unwrap().unwrap();
        assert_eq!(stored["apiVersion"], "example.com/v1");
        let mut stored = stored;
        stored["spec"].as_object_mut().unwrap().shift_remove("replicas");
        let served = beta.conversion.to_served_version(stored).now().unwrap().unwrap();
        assert_eq!(served["apiVersion"], "example.com/v1beta1");
        assert_eq!(served["spec"]["replicas"], 1);
    }

    #[test]
    fn the_strategy_prunes_defaults_and_validates() {
        let resources = resources(&definition(), WebhookConfig::default()).unwrap();
        let strategy = &resources[1].strategy;
        let mut object = json!({"apiVersion": "example.com/v1", "kind": "Foo",
            "metadata": {"name": "a"}, "spec": {"extra": 1}});
        assert_eq!(strategy.unknown_fields(&object), ["spec.extra"]);
        strategy.decoded_create(&mut object);
        assert_eq!(object["spec"], json!({"replicas": 1}));
        assert!(strategy.validate(&object).is_empty());
        object["spec"]["replicas"] = json!("three");
        let causes = strategy.validate(&object);
        assert_eq!(causes[0].field, "spec.replicas");
    }

    #[test]
    fn printer_columns_become_the_table() {
        let resources = resources(&definition(), WebhookConfig::default()).unwrap();
        let names: Vec<_> = resources[1].table.columns.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, ["Name", "Replicas", "Mode"]);
        let default: Vec<_> = resources[0].table.columns.iter().map(|c| c.name.clone()).collect();
        assert_eq!(default, ["Name", "Age"]);
        let object = json!({"metadata": {"name": "a"}, "spec": {"replicas": 3, "mode": "m"}});
        let table =
            render_table(&resources[1].table, &[object], IncludeObject::None, Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["a", 3, "m"]));
        assert_eq!(table["columnDefinitions"][2]["priority"], 1);
    }

    #[test]
    fn a_crd_without_storage_version_does_not_build() {
        let mut def = definition();
        def.spec.versions[1].storage = false;
        assert_eq!(
            resources(&def, WebhookConfig::default()).unwrap_err(),
            BuildError::NoStorageVersion
        );
    }
}
