//! `apiregistration.k8s.io/v1` APIServices (kube-aggregator's `pkg/registry/apiservice` and
//! `pkg/apis/apiregistration/validation`): which server answers one group/version. An
//! APIService without `spec.service` is *local* (this server serves the group/version itself,
//! see `crate::aggregator::autoregister`); one with a Service names an extension API server.
//! Cluster-scoped, named `<version>.<group>`, with a `status` subresource holding the
//! `Available` condition.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Kind, age_column, column, default_value, name_column, opt_bool, opt_int, opt_object};
use super::{opt_str, str_at};
use crate::meta::validation::{
    FieldCause, NameValidator, is_dns1035_label, is_dns1123_subdomain, is_valid_path_segment_name,
};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "apiregistration.k8s.io";

pub(crate) const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "APIService",
    plural: "apiservices",
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    storage_prefix: "/apiregistration.k8s.io/apiservices",
};

/// kube's bounds: `groupPriorityMinimum` in 1..=20000, `versionPriority` in 1..=1000.
const MAX_GROUP_PRIORITY: i64 = 20000;
const MAX_VERSION_PRIORITY: i64 = 1000;

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(ApiServiceStrategy), table()) }
}

/// APIService rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiServiceStrategy;

/// The name an APIService for `group`/`version` must have.
pub fn name_of(group: &str, version: &str) -> String {
    format!("{version}.{group}")
}

/// The `Available` condition of an APIService, if it has one.
pub fn available_condition(api_service: &Value) -> Option<&Value> {
    api_service
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Available"))
}

/// `spec.<field>` must be in 1..=`max` (absent counts as 0), with kube's message.
fn priority_in_range(spec: &Value, field: &str, max: i64, causes: &mut Vec<FieldCause>) {
    let path = format!("spec.{field}");
    let priority = opt_int(spec, field, &path, causes).unwrap_or(0);
    if !(1..=max).contains(&priority) {
        let detail = format!("must be positive and less than {max}");
        causes.push(FieldCause::invalid(&path, priority, &detail));
    }
}

/// kube's `ValidateAPIService`: the name is `spec.version + "." + spec.group`, the group a
/// DNS subdomain (empty only for the legacy `v1`), the version a DNS-1035 label, priorities
/// in range; a local APIService has no TLS settings, a remote one a complete Service.
fn validate_api_service(api_service: &Value, causes: &mut Vec<FieldCause>) {
    let empty = json!({});
    let spec = match opt_object(api_service, "spec", "spec", causes) {
        Some(_) => &api_service["spec"],
        None => &empty,
    };
    let group = opt_str(spec, "group", "spec.group", causes).unwrap_or("");
    let version = opt_str(spec, "version", "spec.version", causes).unwrap_or("");
    let name = str_at(api_service, "/metadata/name");
    let required = name_of(group, version);
    if !name.is_empty() && is_valid_path_segment_name(name).is_empty() && name != required {
        let detail = format!("must be `spec.version+\".\"+spec.group`: {required:?}");
        causes.push(FieldCause::invalid("metadata.name", name, &detail));
    }
    if group.is_empty() && version != "v1" {
        causes.push(FieldCause::required(
            "spec.group",
            "only v1 may have an empty group and it better be legacy kube",
        ));
    }
    if !group.is_empty() {
        for msg in is_dns1123_subdomain(group) {
            causes.push(FieldCause::invalid("spec.group", group, &msg));
        }
    }
    for msg in is_dns1035_label(version) {
        causes.push(FieldCause::invalid("spec.version", version, &msg));
    }
    priority_in_range(spec, "groupPriorityMinimum", MAX_GROUP_PRIORITY, causes);
    priority_in_range(spec, "versionPriority", MAX_VERSION_PRIORITY, causes);
    let ca_bundle = opt_str(spec, "caBundle", "spec.caBundle", causes).unwrap_or("");
    // caBundle is base64 in JSON; kube counts the decoded bytes.
    let padding = ca_bundle.chars().rev().take_while(|c| *c == '=').count();
    let ca_bytes = (ca_bundle.len() / 4 * 3).saturating_sub(padding);
    let insecure = opt_bool(spec, "insecureSkipTLSVerify", "spec.insecureSkipTLSVerify", causes)
        .unwrap_or(false);
    let Some(service) = opt_object(spec, "service", "spec.service", causes) else {
        if !ca_bundle.is_empty() {
            causes.push(FieldCause::invalid(
                "spec.caBundle",
                format!("{ca_bytes} bytes"),
                "local APIServices may not have a caBundle",
            ));
        }
        if insecure {
            causes.push(FieldCause::invalid(
                "spec.insecureSkipTLSVerify",
                true,
                "local APIServices may not have insecureSkipTLSVerify",
            ));
        }
        return;
    };
    let service = Value::Object(service.clone());
    for key in ["namespace", "name"] {
        let path = format!("spec.service.{key}");
        if opt_str(&service, key, &path, causes).unwrap_or("").is_empty() {
            causes.push(FieldCause::required(path, ""));
        }
    }
    let port = opt_int(&service, "port", "spec.service.port", causes).unwrap_or(443);
    if !(1..=65535).contains(&port) {
        causes.push(FieldCause::invalid(
            "spec.service.port",
            port,
            "port is not valid: must be between 1 and 65535, inclusive",
        ));
    }
    if insecure && !ca_bundle.is_empty() {
        causes.push(FieldCause::invalid(
            "spec.insecureSkipTLSVerify",
            true,
            "may not be true if caBundle is present",
        ));
    }
}

/// kube's APIService names: a valid path segment (the `version.group` rule is checked with the
/// spec, in [`validate_api_service`]).
fn path_segment_name(name: &str, _prefix: bool) -> Vec<String> {
    is_valid_path_segment_name(name)
}

impl Strategy for ApiServiceStrategy {
    /// kube's `SetDefaults_ServiceReference`: the port is 443.
    fn set_defaults(&self, api_service: &mut Value) {
        if let Some(Value::Object(service)) = api_service.pointer_mut("/spec/service") {
            default_value(service, "port", json!(443));
        }
    }

    fn validate(&self, api_service: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_api_service(api_service, &mut causes);
        causes
    }

    fn name_validator(&self) -> NameValidator {
        path_segment_name
    }
}

/// kube-aggregator's SERVICE column: `namespace/name`, or `Local`.
fn service_cell(api_service: &Value) -> Value {
    match api_service.pointer("/spec/service").filter(|s| s.is_object()) {
        Some(service) => {
            format!("{}/{}", str_at(service, "/namespace"), str_at(service, "/name")).into()
        }
        None => "Local".into(),
    }
}

/// kube-aggregator's AVAILABLE column: `True`, `False (Reason)`, or `Unknown` without the
/// condition.
fn available_cell(api_service: &Value) -> Value {
    match available_condition(api_service) {
        None => "Unknown".into(),
        Some(condition) => {
            let status = str_at(condition, "/status");
            if status == "True" {
                status.into()
            } else {
                format!("{status} ({})", str_at(condition, "/reason")).into()
            }
        }
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Service",
                "string",
                0,
                "The reference to the service that hosts this API endpoint.",
                Cell::Computed(service_cell),
            ),
            column(
                "Available",
                "string",
                0,
                "Whether this service is available.",
                Cell::Computed(available_cell),
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

    fn api_service(name: &str, spec: Value) -> Value {
        let mut a = json!({"metadata": {"name": name}, "spec": spec});
        ApiServiceStrategy.decoded_create(&mut a);
        a
    }

    fn remote() -> Value {
        api_service(
            "v1alpha1.wardle.example.com",
            json!({"group": "wardle.example.com", "version": "v1alpha1",
                   "groupPriorityMinimum": 1000, "versionPriority": 15, "caBundle": "QUJD",
                   "service": {"namespace": "wardle", "name": "api"}}),
        )
    }

    #[test]
    fn a_remote_api_service_is_valid_with_the_default_port_and_its_row() {
        let a = remote();
        assert_eq!(a["spec"]["service"]["port"], json!(443));
        assert!(
            ApiServiceStrategy.validate(&a).is_empty(),
            "{:?}",
            ApiServiceStrategy.validate(&a)
        );
        let mut available = a.clone();
        available["status"] = json!({"conditions": [{"type": "Available", "status": "False",
            "reason": "FailedDiscoveryCheck"}]});
        let local = api_service(
            "v1.",
            json!({"group": "", "version": "v1", "groupPriorityMinimum": 18000,
                   "versionPriority": 1}),
        );
        assert!(ApiServiceStrategy.validate(&local).is_empty());
        let table =
            render_table(&table(), &[available, local], Default::default(), Default::default());
        let cells = |row: usize| table["rows"][row]["cells"].as_array().unwrap()[..3].to_vec();
        assert_eq!(
            cells(0),
            [
                json!("v1alpha1.wardle.example.com"),
                json!("wardle/api"),
                json!("False (FailedDiscoveryCheck)")
            ]
        );
        assert_eq!(cells(1), [json!("v1."), json!("Local"), json!("Unknown")]);
    }

    #[test]
    fn kube_validation_messages() {
        let bad = api_service(
            "v1.other",
            json!({"group": "", "version": "v2", "groupPriorityMinimum": 0,
                   "versionPriority": 1001, "caBundle": "QUJD", "insecureSkipTLSVerify": true}),
        );
        assert_eq!(
            cause_texts(&ApiServiceStrategy.validate(&bad)),
            [
                "metadata.name: Invalid value: \"v1.other\": must be \
                 `spec.version+\".\"+spec.group`: \"v2.\"",
                "spec.group: Required value: only v1 may have an empty group and it better be \
                 legacy kube",
                "spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000",
                "spec.versionPriority: Invalid value: 1001: must be positive and less than 1000",
                "spec.caBundle: Invalid value: \"3 bytes\": local APIServices may not have a \
                 caBundle",
                "spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have \
                 insecureSkipTLSVerify",
            ]
        );
        let mut remote = remote();
        remote["spec"]["service"] = json!({"port": 70000});
        remote["spec"]["insecureSkipTLSVerify"] = json!(true);
        assert_eq!(
            cause_texts(&ApiServiceStrategy.validate(&remote)),
            [
                "spec.service.namespace: Required value",
                "spec.service.name: Required value",
                "spec.service.port: Invalid value: 70000: port is not valid: must be between 1 \
                 and 65535, inclusive",
                "spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle \
                 is present",
            ]
        );
        assert_eq!(path_segment_name("a/b", false), is_valid_path_segment_name("a/b"));
        assert!(!path_segment_name("..", false).is_empty());
    }
}
