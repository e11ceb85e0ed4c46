//! The built-in kinds kube-apiserver serves and kube-ledger serves too: one module per kind, each
//! exporting `resource()` — names, scope, subresources, storage prefix, conversion, strategy and
//! printer columns — and [`register_all`] to serve them all, or [`register_enabled`] to serve
//! those a `--runtime-config` leaves enabled.
//!
//! Strategies follow kube-apiserver's REST strategies and validation (`pkg/registry/*`,
//! `pkg/apis/*/validation`), including their field paths and messages, because clients and their
//! tests read those. Objects are JSON in the storage version; a field of the wrong JSON type is
//! reported as a `FieldValueTypeInvalid` cause where kube-apiserver would fail to decode.
//!
//! Defaulting that kube does in its versioned `SetDefaults_*` functions (and the conversions to
//! the internal version that fold fields, as a Secret's `stringData`) is each strategy's
//! `set_defaults`, which the store runs on every body it decodes, before field ownership, as
//! kube's decoder does; `prepare_for_create` / `prepare_for_update` keep what kube's strategies
//! and REST layer do after it (status, generated selectors, allocations, dropped fields).

pub mod admissionpolicies;
pub mod apiservices;
pub mod certificatesigningrequests;
pub mod clusterrolebindings;
pub mod clusterroles;
pub mod columns;
pub mod configmaps;
pub mod controllerrevisions;
pub mod cron;
pub mod cronjobs;
pub mod csi;
pub mod csistoragecapacities;
pub mod daemonsets;
pub mod deployments;
pub mod events;
pub mod flowcontrol;
pub mod hpa;
pub mod ingressclasses;
pub mod ingresses;
pub mod jobs;
pub mod leases;
pub mod ledger;
pub mod limitranges;
pub mod namespaces;
pub mod networkpolicies;
pub mod nodes;
pub mod persistentvolumeclaims;
pub mod persistentvolumes;
pub mod poddisruptionbudgets;
pub mod pods;
pub mod podspec;
pub mod podtemplates;
pub mod priorityclasses;
pub mod replicasets;
pub mod replicationcontrollers;
pub mod resourcequotas;
pub mod rolebindings;
pub mod roles;
pub mod runtimeclasses;
pub mod secrets;
pub mod serviceaccounts;
pub mod services;
pub mod statefulsets;
pub mod storageclasses;
pub mod system;
pub mod volumeattachments;
pub mod webhookconfigurations;
pub mod workloads;

pub use columns::{age_column, column, default_table, generic_table, name_column};

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Registry;
use super::resource::{GroupVersion, Resource, SameVersion};
use super::runtime_config::RuntimeConfig;
use super::strategy::Strategy;
use super::table::TableSpec;
use crate::meta::validation::{CauseType, FieldCause, go_quote};

/// Serves every built-in resource. A resource served twice is a programming error.
pub fn register_all(registry: &Registry) {
    register_enabled(registry, &RuntimeConfig::default());
}

/// Serves the built-in resources `config` enables; the others are not registered at all, so
/// neither discovery nor any path knows them (their stored objects stay, untouched).
pub fn register_enabled(registry: &Registry, config: &RuntimeConfig) {
    for resource in resources() {
        let name = format!("{}/{}", resource.gv, resource.plural);
        if !config.enabled(&resource.gv, &resource.plural) {
            tracing::info!(resource = %name, "disabled by --runtime-config");
            continue;
        }
        if let Err(err) = registry.register(resource) {
            panic!("built-in resource {name} registered twice: {err}");
        }
    }
}

/// Every built-in group/version and plural, the create-only reviews included: what
/// `--runtime-config` can name.
pub fn known() -> Vec<(GroupVersion, String)> {
    let stored = resources().into_iter().map(|r| (r.gv, r.plural));
    stored.chain(super::reviews::known()).collect()
}

/// Every built-in resource, in registration order.
fn resources() -> Vec<Resource> {
    vec![
        namespaces::resource(),
        configmaps::resource(),
        secrets::resource(),
        pods::resource(),
        services::resource(),
        serviceaccounts::resource(),
        events::resource(),
        events::events_v1_resource(),
        leases::resource(),
        deployments::resource(),
        hpa::resource(),
        hpa::v1_resource(),
        roles::resource(),
        clusterroles::resource(),
        rolebindings::resource(),
        clusterrolebindings::resource(),
        webhookconfigurations::mutating_resource(),
        webhookconfigurations::validating_resource(),
        admissionpolicies::policy_resource(),
        admissionpolicies::binding_resource(),
        certificatesigningrequests::resource(),
        resourcequotas::resource(),
        limitranges::resource(),
        priorityclasses::resource(),
        storageclasses::resource(),
        persistentvolumeclaims::resource(),
        ingressclasses::resource(),
        ingresses::resource(),
        // apps/v1, batch/v1, policy/v1, networking.k8s.io/v1 networkpolicies (kinds-apps):
        replicasets::resource(),
        statefulsets::resource(),
        daemonsets::resource(),
        controllerrevisions::resource(),
        jobs::resource(),
        cronjobs::resource(),
        poddisruptionbudgets::resource(),
        networkpolicies::resource(),
        // core/v1, storage.k8s.io, node.k8s.io, flowcontrol.apiserver.k8s.io (kinds-core):
        nodes::resource(),
        persistentvolumes::resource(),
        podtemplates::resource(),
        replicationcontrollers::resource(),
        csi::driver_resource(),
        csi::node_resource(),
        volumeattachments::resource(),
        csistoragecapacities::resource(),
        runtimeclasses::resource(),
        flowcontrol::flowschemas::resource(),
        flowcontrol::prioritylevels::resource(),
        // endpoints, endpointslices and what kube-apiserver serves by itself (system):
        system::endpoints::resource(),
        system::endpointslices::resource(),
        system::componentstatuses::resource(),
        // apiregistration.k8s.io/v1, the aggregation layer (issue 17):
        apiservices::resource(),
    ]
    .into_iter()
    // ledger.kube-ledger.io/v1: the log read across objects (issue 15).
    .chain(ledger::resources())
    .collect()
}

/// The names and placement of a built-in kind served in its storage version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub namespaced: bool,
    pub storage_prefix: &'static str,
}

impl Kind {
    pub(crate) fn api_version(&self) -> String {
        GroupVersion::new(self.group, self.version).api_version()
    }

    /// The resource, served in its storage version, without subresources.
    pub(crate) fn resource(&self, strategy: Arc<dyn Strategy>, table: TableSpec) -> Resource {
        let gv = GroupVersion::new(self.group, self.version);
        Resource {
            gv: gv.clone(),
            kind: self.kind.to_owned(),
            plural: self.plural.to_owned(),
            singular: self.kind.to_lowercase(),
            short_names: self.short_names.iter().map(|s| (*s).to_owned()).collect(),
            categories: self.categories.iter().map(|s| (*s).to_owned()).collect(),
            namespaced: self.namespaced,
            status_subresource: false,
            scale_subresource: None,
            storage_prefix: self.storage_prefix.to_owned(),
            storage_gv: gv,
            conversion: Arc::new(SameVersion {
                api_version: self.api_version(),
                kind: self.kind.to_owned(),
            }),
            strategy,
            table,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading JSON objects.

/// The string at a JSON pointer, `""` when missing or not a string.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The array at a JSON pointer, empty when missing or not an array.
pub(crate) fn array_at<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value.pointer(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The integer at a JSON pointer.
pub(crate) fn int_at(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

/// A map of strings (labels, selectors, `data`); non-string values are skipped.
pub(crate) fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// `labels.FormatLabels`: `a=b,c=d` sorted by key, `<none>` when empty.
pub(crate) fn format_labels(value: Option<&Value>) -> String {
    let map = string_map(value);
    if map.is_empty() {
        return "<none>".to_owned();
    }
    map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Go's `%#v` of a `map[string]string`, as kube prints maps in validation messages:
/// `map[string]string{"a":"b", "c":"d"}`, `map[string]string(nil)` for no map.
pub(crate) fn go_string_map(value: Option<&Value>) -> String {
    match value.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_owned(),
        Some(_) => {
            let entries: Vec<String> = string_map(value)
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", entries.join(", "))
        }
    }
}

/// Go's `%#v` of a `[]string`: `[]string{"a", "b"}`, `[]string(nil)` for none.
pub(crate) fn go_string_slice(values: Option<&Value>) -> String {
    match values.and_then(Value::as_array) {
        None => "[]string(nil)".to_owned(),
        Some(items) => {
            let items: Vec<String> =
                items.iter().map(|v| go_quote(v.as_str().unwrap_or_default())).collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing JSON objects.

/// `object[key]` as an object, created (or replaced, if it is `null`) when missing. A value of
/// another type is left alone and `None` returned: validation reports it.
pub(crate) fn child_object<'a>(
    object: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    let entry = object.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// Sets `object[key]` unless it holds a non-null value (kube's "default if unset").
pub(crate) fn default_value(object: &mut Map<String, Value>, key: &str, value: Value) {
    match object.get(key) {
        None | Some(Value::Null) => {
            object.insert(key.to_owned(), value);
        }
        Some(_) => {}
    }
}

/// Like [`default_value`], but an empty string counts as unset too (Go's zero value).
pub(crate) fn default_string(object: &mut Map<String, Value>, key: &str, value: &str) {
    match object.get(key) {
        None | Some(Value::Null) => {
            object.insert(key.to_owned(), value.into());
        }
        Some(Value::String(s)) if s.is_empty() => {
            object.insert(key.to_owned(), value.into());
        }
        Some(_) => {}
    }
}

/// The elements of `object[key]` that are objects, mutably.
pub(crate) fn object_items_mut<'a>(
    object: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    object
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flat_map(|items| items.iter_mut().filter_map(Value::as_object_mut))
}

// ---------------------------------------------------------------------------------------------
// Validation helpers: typed reads that report wrong JSON types, and causes whose bad value kube
// prints with Go's `%#v`.

/// A cause with a bad value already rendered (Go `%#v` forms such as `map[string]string{…}`).
pub(crate) fn invalid_rendered(
    field: impl Into<String>,
    rendered: &str,
    detail: &str,
) -> FieldCause {
    let mut message = format!("Invalid value: {rendered}");
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(detail);
    }
    FieldCause { field: field.into(), reason: CauseType::FieldValueInvalid, message }
}

/// apimachinery's `ValidateImmutableField` failure: `Invalid value: <new>: field is immutable`.
pub(crate) fn immutable(field: impl Into<String>, new_value: &Value) -> FieldCause {
    FieldCause::invalid(field, new_value.clone(), "field is immutable")
}

/// `ValidateNonnegativeField`.
pub(crate) fn validate_nonnegative(value: Option<i64>, field: &str, causes: &mut Vec<FieldCause>) {
    if let Some(n) = value.filter(|n| *n < 0) {
        causes.push(FieldCause::invalid(field, n, "must be greater than or equal to 0"));
    }
}

/// `object[key]` as a string: `None` when absent or `null`; a wrong type adds a cause.
pub(crate) fn opt_str<'a>(
    object: &'a Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<&'a str> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a string"));
            None
        }
    }
}

/// `object[key]` as an integer: `None` when absent or `null`; a wrong type adds a cause.
pub(crate) fn opt_int(
    object: &Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<i64> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be an integer"));
            None
        }
    }
}

/// `object[key]` as a boolean: `None` when absent or `null`; a wrong type adds a cause.
pub(crate) fn opt_bool(
    object: &Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<bool> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a boolean"));
            None
        }
    }
}

/// `object[key]` as a list: empty when absent or `null`; a wrong type adds a cause.
pub(crate) fn opt_array<'a>(
    object: &'a Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> &'a [Value] {
    match object.get(key) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a list"));
            &[]
        }
    }
}

/// `object[key]` as an object: `None` when absent or `null`; a wrong type adds a cause.
pub(crate) fn opt_object<'a>(
    object: &'a Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<&'a Map<String, Value>> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be an object"));
            None
        }
    }
}

/// `object[key]` as a map of strings: empty when absent; wrong types add causes.
pub(crate) fn opt_string_map<'a>(
    object: &'a Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<(&'a str, &'a str)> {
    let Some(map) = opt_object(object, key, path, causes) else { return Vec::new() };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        match v {
            Value::String(s) => out.push((k.as_str(), s.as_str())),
            other => causes.push(FieldCause::type_invalid(
                format!("{path}[{k}]"),
                other.clone(),
                "must be a string",
            )),
        }
    }
    out
}

/// Every element of a list must be an object; others add a cause and are skipped.
pub(crate) fn object_items<'a>(
    items: &'a [Value],
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<(usize, &'a Value)> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.is_object() {
            out.push((i, item));
        } else {
            causes.push(FieldCause::type_invalid(
                format!("{path}[{i}]"),
                item.clone(),
                "must be an object",
            ));
        }
    }
    out
}

/// A 64-bit FNV-1a hash: small, and stable across builds (unlike std's hasher), for values the
/// server derives from a uid (where the service allocators start looking).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Causes as kube prints them (`field: Invalid value: …`), for assertions in the kinds' tests.
#[cfg(test)]
pub(crate) fn cause_texts(causes: &[crate::meta::validation::FieldCause]) -> Vec<String> {
    causes.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registers_every_built_in_resource() {
        let registry = Registry::new();
        register_all(&registry);
        let served: Vec<String> =
            registry.all().iter().map(|r| format!("{}/{}", r.gv, r.plural)).collect();
        assert_eq!(
            served,
            [
                "v1/componentstatuses",
                "v1/configmaps",
                "v1/endpoints",
                "v1/events",
                "v1/limitranges",
                "v1/namespaces",
                "v1/nodes",
                "v1/persistentvolumeclaims",
                "v1/persistentvolumes",
                "v1/pods",
                "v1/podtemplates",
                "v1/replicationcontrollers",
                "v1/resourcequotas",
                "v1/secrets",
                "v1/serviceaccounts",
                "v1/services",
                "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                "admissionregistration.k8s.io/v1/validatingadmissionpolicies",
                "admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
                "admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                "apiregistration.k8s.io/v1/apiservices",
                "apps/v1/controllerrevisions",
                "apps/v1/daemonsets",
                "apps/v1/deployments",
                "apps/v1/replicasets",
                "apps/v1/statefulsets",
                "autoscaling/v1/horizontalpodautoscalers",
                "autoscaling/v2/horizontalpodautoscalers",
                "batch/v1/cronjobs",
                "batch/v1/jobs",
                "certificates.k8s.io/v1/certificatesigningrequests",
                "coordination.k8s.io/v1/leases",
                "discovery.k8s.io/v1/endpointslices",
                "events.k8s.io/v1/events",
                "flowcontrol.apiserver.k8s.io/v1/flowschemas",
                "flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
                "ledger.kube-ledger.io/v1/deletedobjects",
                "ledger.kube-ledger.io/v1/logpositions",
                "ledger.kube-ledger.io/v1/replay",
                "networking.k8s.io/v1/ingressclasses",
                "networking.k8s.io/v1/ingresses",
                "networking.k8s.io/v1/networkpolicies",
                "node.k8s.io/v1/runtimeclasses",
                "policy/v1/poddisruptionbudgets",
                "rbac.authorization.k8s.io/v1/clusterrolebindings",
                "rbac.authorization.k8s.io/v1/clusterroles",
                "rbac.authorization.k8s.io/v1/rolebindings",
                "rbac.authorization.k8s.io/v1/roles",
                "scheduling.k8s.io/v1/priorityclasses",
                "storage.k8s.io/v1/csidrivers",
                "storage.k8s.io/v1/csinodes",
                "storage.k8s.io/v1/csistoragecapacities",
                "storage.k8s.io/v1/storageclasses",
                "storage.k8s.io/v1/volumeattachments",
            ]
        );
        let core = registry.get("", "v1", "events").unwrap();
        let new = registry.get("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(core.storage_prefix, new.storage_prefix);
        assert_eq!(new.storage_gv, core.gv);
    }

    #[test]
    fn runtime_config_leaves_disabled_resources_out() {
        let config =
            RuntimeConfig::parse("autoscaling/v2=false,events.k8s.io/v1=false,v1/pods", &known())
                .unwrap();
        let registry = Registry::new();
        register_enabled(&registry, &config);
        assert!(registry.get("autoscaling", "v2", "horizontalpodautoscalers").is_none());
        assert!(registry.get("events.k8s.io", "v1", "events").is_none());
        assert_eq!(registry.versions_of("autoscaling"), ["v1"]);
        assert!(!registry.groups().contains(&"events.k8s.io".to_owned()));
        // The other version of a resource keeps its storage and conversion.
        let v1 = registry.get("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        assert_eq!(v1.storage_gv, GroupVersion::new("autoscaling", "v2"));
        assert!(registry.get("", "v1", "events").is_some());
        let reviews = super::super::reviews::known().len();
        assert_eq!(registry.all().len(), known().len() - reviews - 2);
    }

    #[test]
    fn go_renderings() {
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        assert_eq!(
            go_string_map(Some(&json!({"b": "2", "a": "1"}))),
            "map[string]string{\"a\":\"1\", \"b\":\"2\"}"
        );
        assert_eq!(go_string_slice(Some(&json!(["x", "y"]))), "[]string{\"x\", \"y\"}");
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(None), "<none>");
    }
}
