//! `networking.k8s.io/v1` Ingresses (`pkg/registry/networking/ingress`, `ValidateIngress*` in
//! `pkg/apis/networking/validation`): HTTP routes to services. Nothing here routes traffic; the
//! object is checked as kube checks it — a default backend or rules, `pathType` on every path,
//! one kind of backend each, hosts as DNS names (a leading `*.` wildcard allowed), TLS hosts and
//! secret names — and its status is written through `/status`. An Ingress without a class gets
//! the default one from the DefaultIngressClass admission plugin
//! (`crate::admission::default_ingress_class`).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use super::ingressclasses::{GROUP, validate_typed_reference};
use super::podspec::{is_valid_port_name, is_valid_port_num};
use super::{
    Kind, age_column, array_at, column, invalid_rendered, name_column, object_items, opt_array,
    opt_int, opt_object, opt_str, str_at,
};
use crate::meta::validation::{
    FieldCause, is_dns1123_subdomain, name_is_dns_subdomain, name_is_dns1035_label, regex_error,
};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const PLURAL: &str = "ingresses";
/// The class annotation from before `spec.ingressClassName`.
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "Ingress",
    plural: PLURAL,
    short_names: &["ing"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/ingress",
};

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES: &[&str] = &["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: &[&str] = &["/..", "/."];
const WILDCARD_FMT: &str = r"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a \
     valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' \
     and end with an alphanumeric character";

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(IngressStrategy), table()) }
}

/// Ingress rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngressStrategy;

/// apimachinery's `IsWildcardDNS1123Subdomain`.
fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 253 {
        errors.push(crate::meta::validation::max_len_error(253));
    }
    let valid = value.strip_prefix("*.").is_some_and(|rest| is_dns1123_subdomain(rest).is_empty());
    if !valid {
        errors.push(regex_error(WILDCARD_MSG, WILDCARD_FMT, &["*.example.com"]));
    }
    errors
}

/// A host of a rule or a TLS entry: a DNS name, a `*.` wildcard one.
fn validate_host(host: &str, path: &str, causes: &mut Vec<FieldCause>) {
    let messages = if host.contains('*') {
        is_wildcard_dns1123_subdomain(host)
    } else {
        is_dns1123_subdomain(host)
    };
    for msg in messages {
        causes.push(FieldCause::invalid(path, host, &msg));
    }
}

/// kube's `validateIngressBackend`.
fn validate_backend(backend: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let resource = opt_object(backend, "resource", &format!("{path}.resource"), causes);
    let service = opt_object(backend, "service", &format!("{path}.service"), causes);
    match (resource, service) {
        (Some(_), Some(_)) => causes.push(FieldCause::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (Some(_), None) => {
            validate_typed_reference(&backend["resource"], &format!("{path}.resource"), causes)
        }
        (None, Some(_)) => {
            let service = &backend["service"];
            let name_path = format!("{path}.service.name");
            match opt_str(service, "name", &name_path, causes).unwrap_or("") {
                "" => causes.push(FieldCause::required(&name_path, "")),
                name => {
                    for msg in name_is_dns1035_label(name, false) {
                        causes.push(FieldCause::invalid(&name_path, name, &msg));
                    }
                }
            }
            let port_path = format!("{path}.service.port");
            let null = Value::Null;
            let port = match opt_object(service, "port", &port_path, causes) {
                Some(_) => &service["port"],
                None => &null,
            };
            let name = opt_str(port, "name", &format!("{port_path}.name"), causes).unwrap_or("");
            let number =
                opt_int(port, "number", &format!("{port_path}.number"), causes).unwrap_or(0);
            match (!name.is_empty(), number != 0) {
                (true, true) => causes.push(FieldCause::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                )),
                (true, false) => {
                    for msg in is_valid_port_name(name) {
                        causes.push(FieldCause::invalid(format!("{port_path}.name"), name, &msg));
                    }
                }
                (false, true) => {
                    for msg in is_valid_port_num(number) {
                        causes.push(FieldCause::invalid(
                            format!("{port_path}.number"),
                            number,
                            &msg,
                        ));
                    }
                }
                (false, false) => {
                    causes.push(FieldCause::required(path, "port name or number is required"))
                }
            }
        }
        (None, None) => {
            causes.push(FieldCause::invalid(path, "", "resource or service backend is required"))
        }
    }
}

/// kube's `validateHTTPIngressPath`.
fn validate_path(http_path: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let type_path = format!("{path}.pathType");
    let Some(path_type) = opt_str(http_path, "pathType", &type_path, causes) else {
        if http_path.get("pathType").is_none_or(Value::is_null) {
            causes.push(FieldCause::required(&type_path, "pathType must be specified"));
        }
        return;
    };
    let value_path = format!("{path}.path");
    let value = opt_str(http_path, "path", &value_path, causes).unwrap_or("");
    match path_type {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                causes.push(FieldCause::invalid(&value_path, value, "must be an absolute path"));
            }
            if !value.is_empty() {
                for sequence in INVALID_PATH_SEQUENCES.iter().filter(|s| value.contains(**s)) {
                    let detail = format!("must not contain '{sequence}'");
                    causes.push(FieldCause::invalid(&value_path, value, &detail));
                }
                for suffix in INVALID_PATH_SUFFIXES.iter().filter(|s| value.ends_with(**s)) {
                    let detail = format!("cannot end with '{suffix}'");
                    causes.push(FieldCause::invalid(&value_path, value, &detail));
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                causes.push(FieldCause::invalid(&value_path, value, "must be an absolute path"));
            }
        }
        other => causes.push(FieldCause::not_supported(&type_path, other, PATH_TYPES)),
    }
    let backend_path = format!("{path}.backend");
    match opt_object(http_path, "backend", &backend_path, causes) {
        Some(_) => validate_backend(&http_path["backend"], &backend_path, causes),
        None => validate_backend(&Value::Null, &backend_path, causes),
    }
}

/// kube's `validateIngressRules`.
fn validate_rules(rules: &[Value], causes: &mut Vec<FieldCause>) {
    for (i, rule) in object_items(rules, "spec.rules", causes) {
        let host_path = format!("spec.rules[{i}].host");
        let host = opt_str(rule, "host", &host_path, causes).unwrap_or("");
        if !host.is_empty() {
            if host.parse::<IpAddr>().is_ok() {
                causes.push(FieldCause::invalid(
                    &host_path,
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            validate_host(host, &host_path, causes);
        }
        let http_path = format!("spec.rules[{i}].http");
        if opt_object(rule, "http", &http_path, causes).is_some() {
            let paths_path = format!("{http_path}.paths");
            let paths = opt_array(&rule["http"], "paths", &paths_path, causes);
            if paths.is_empty() {
                causes.push(FieldCause::required(&paths_path, ""));
            }
            for (j, http_path) in object_items(paths, &paths_path, causes) {
                validate_path(http_path, &format!("{paths_path}[{j}]"), causes);
            }
        }
    }
}

fn validate_tls(tls: &[Value], causes: &mut Vec<FieldCause>) {
    for (i, entry) in object_items(tls, "spec.tls", causes) {
        let hosts_path = format!("spec.tls[{i}].hosts");
        for (j, host) in opt_array(entry, "hosts", &hosts_path, causes).iter().enumerate() {
            validate_host(host.as_str().unwrap_or_default(), &format!("{hosts_path}[{j}]"), causes);
        }
        let secret_path = format!("spec.tls[{i}].secretName");
        let secret = opt_str(entry, "secretName", &secret_path, causes).unwrap_or("");
        if !secret.is_empty() {
            for msg in name_is_dns_subdomain(secret, false) {
                causes.push(FieldCause::invalid(&secret_path, secret, &msg));
            }
        }
    }
}

/// kube's `ValidateIngressLoadBalancerStatus`.
fn validate_status(ingress: &Value, causes: &mut Vec<FieldCause>) {
    let points = array_at(ingress, "/status/loadBalancer/ingress");
    for (i, point) in object_items(points, "status.loadBalancer.ingress", causes) {
        let path = format!("status.loadBalancer.ingress[{i}]");
        let ip = opt_str(point, "ip", &format!("{path}.ip"), causes).unwrap_or("");
        if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
            causes.push(FieldCause::invalid(
                format!("{path}.ip"),
                ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
        let hostname =
            opt_str(point, "hostname", &format!("{path}.hostname"), causes).unwrap_or("");
        if !hostname.is_empty() {
            for msg in is_dns1123_subdomain(hostname) {
                causes.push(FieldCause::invalid(format!("{path}.hostname"), hostname, &msg));
            }
            if hostname.parse::<IpAddr>().is_ok() {
                causes.push(FieldCause::invalid(
                    format!("{path}.hostname"),
                    hostname,
                    "must be a DNS name, not an IP address",
                ));
            }
        }
    }
}

/// kube's `ValidateIngressSpec`.
fn validate_spec(ingress: &Value, causes: &mut Vec<FieldCause>) {
    let null = Value::Null;
    let spec = match opt_object(ingress, "spec", "spec", causes) {
        Some(_) => &ingress["spec"],
        None => &null,
    };
    let rules = opt_array(spec, "rules", "spec.rules", causes);
    let default_backend = opt_object(spec, "defaultBackend", "spec.defaultBackend", causes);
    if rules.is_empty() && default_backend.is_none() {
        let shown = match spec.get("rules") {
            Some(Value::Array(_)) => "[]networking.IngressRule{}",
            _ => "[]networking.IngressRule(nil)",
        };
        causes.push(invalid_rendered(
            "spec",
            shown,
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if default_backend.is_some() {
        validate_backend(&spec["defaultBackend"], "spec.defaultBackend", causes);
    }
    validate_rules(rules, causes);
    validate_tls(opt_array(spec, "tls", "spec.tls", causes), causes);
    if let Some(class) = opt_str(spec, "ingressClassName", "spec.ingressClassName", causes) {
        for msg in name_is_dns_subdomain(class, false) {
            causes.push(FieldCause::invalid("spec.ingressClassName", class, &msg));
        }
    }
}

/// kube writes an Ingress's status as it is typed: `loadBalancer` is a struct, never omitted.
fn default_status(ingress: &mut Value) {
    if let Some(map) = ingress.as_object_mut()
        && let Some(status) = super::child_object(map, "status")
    {
        super::default_value(status, "loadBalancer", serde_json::json!({}));
    }
}

impl Strategy for IngressStrategy {
    fn prepare_for_create(&self, ingress: &mut Value) {
        default_status(ingress);
    }

    fn prepare_for_update(&self, ingress: &mut Value, _old: &Value) {
        default_status(ingress);
    }

    /// `ValidateIngressCreate`: the Ingress, and a class annotation that agrees with
    /// `ingressClassName`.
    fn validate(&self, ingress: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate_update(ingress, &Value::Null);
        let annotation = ingress
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(CLASS_ANNOTATION))
            .and_then(Value::as_str);
        let class = ingress.pointer("/spec/ingressClassName").and_then(Value::as_str);
        if let (Some(annotation), Some(class)) = (annotation, class)
            && annotation != class
        {
            causes.push(FieldCause::invalid(
                format!("annotations.{CLASS_ANNOTATION}"),
                annotation,
                "must match `ingressClassName` when both are specified",
            ));
        }
        causes
    }

    /// `ValidateIngressUpdate` (and the status update's checks: the status is validated on
    /// every write, it can only change through `/status`).
    fn validate_update(&self, ingress: &Value, _old: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_spec(ingress, &mut causes);
        validate_status(ingress, &mut causes);
        causes
    }
}

/// kube's `formatHosts`: up to three hosts, `*` for none; once three are listed, any further
/// rule (with a host or not) makes it `… + N more...`, N counting every rule past the third.
fn hosts_text(ingress: &Value) -> Value {
    const MAX: usize = 3;
    let rules = array_at(ingress, "/spec/rules");
    let (mut hosts, mut more) = (Vec::new(), false);
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = str_at(rule, "/host");
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".into();
    }
    let text = hosts.join(",");
    if more { format!("{text} + {} more...", rules.len() - MAX).into() } else { text.into() }
}

/// The load balancer's addresses, sorted and unique (kube prints wide on the server).
fn address_text(ingress: &Value) -> Value {
    let points = array_at(ingress, "/status/loadBalancer/ingress");
    let addresses: BTreeSet<&str> = points
        .iter()
        .filter_map(|p| {
            let ip = str_at(p, "/ip");
            let hostname = str_at(p, "/hostname");
            if !ip.is_empty() {
                Some(ip)
            } else if !hostname.is_empty() {
                Some(hostname)
            } else {
                None
            }
        })
        .collect();
    addresses.into_iter().collect::<Vec<_>>().join(",").into()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Class",
                "string",
                0,
                "The name of the IngressClass resource that should be used for additional \
                 configuration",
                Cell::Computed(|ingress| match ingress.pointer("/spec/ingressClassName") {
                    Some(Value::String(class)) => class.clone().into(),
                    _ => "<none>".into(),
                }),
            ),
            column(
                "Hosts",
                "string",
                0,
                "Hosts that incoming requests are matched against before the ingress rule",
                Cell::Computed(hosts_text),
            ),
            column(
                "Address",
                "string",
                0,
                "Address is a list containing ingress points for the load-balancer",
                Cell::Computed(address_text),
            ),
            column(
                "Ports",
                "string",
                0,
                "Ports of TLS configurations that open",
                Cell::Computed(|ingress| {
                    if array_at(ingress, "/spec/tls").is_empty() { "80" } else { "80, 443" }.into()
                }),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn ingress(spec: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    fn route(path: Value) -> Value {
        ingress(json!({"rules": [{"host": "example.com", "http": {"paths": [path]}}]}))
    }

    fn service_backend() -> Value {
        json!({"service": {"name": "web", "port": {"number": 80}}})
    }

    #[test]
    fn a_valid_ingress() {
        let i = ingress(json!({
            "ingressClassName": "nginx",
            "defaultBackend": service_backend(),
            "rules": [{"host": "*.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": service_backend()},
                {"pathType": "ImplementationSpecific", "backend": {"resource": {
                    "apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "b"}}}]}}],
            "tls": [{"hosts": ["www.example.com"], "secretName": "tls"}]}));
        assert!(IngressStrategy.validate(&i).is_empty(), "{:?}", IngressStrategy.validate(&i));
        let mut created = i.clone();
        IngressStrategy.decoded_create(&mut created);
        assert_eq!(created["status"], json!({"loadBalancer": {}}));
    }

    #[test]
    fn rules_or_a_default_backend() {
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&ingress(json!({})))),
            ["spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or \
                 `rules` must be specified"]
        );
    }

    #[test]
    fn path_types_and_paths_are_checked() {
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&route(json!({"path": "/",
                "backend": service_backend()})))),
            ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]
        );
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&route(json!({"path": "/",
                "pathType": "Regex", "backend": service_backend()})))),
            ["spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported \
                 values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""]
        );
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&route(json!({"path": "a//b/..",
                "pathType": "Exact", "backend": service_backend()})))),
            [
                "spec.rules[0].http.paths[0].path: Invalid value: \"a//b/..\": must be an \
                 absolute path",
                "spec.rules[0].http.paths[0].path: Invalid value: \"a//b/..\": must not contain \
                 '//'",
                "spec.rules[0].http.paths[0].path: Invalid value: \"a//b/..\": cannot end with \
                 '/..'",
            ]
        );
    }

    #[test]
    fn backends_are_exclusive_and_complete() {
        let both = json!({"service": {"name": "web", "port": {"number": 80}},
            "resource": {"kind": "K", "name": "n"}});
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&ingress(json!({"defaultBackend": both})))),
            ["spec.defaultBackend: Invalid value: \"\": cannot set both resource and service \
                 backends"]
        );
        let no_port = json!({"service": {"name": "Web"}});
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&ingress(json!({"defaultBackend": no_port})))),
            [
                "spec.defaultBackend.service.name: Invalid value: \"Web\": a DNS-1035 label must \
                 consist of lower case alphanumeric characters or '-', start with an alphabetic \
                 character, and end with an alphanumeric character (e.g. 'my-name',  or \
                 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                "spec.defaultBackend: Required value: port name or number is required",
            ]
        );
        let both_ports =
            json!({"service": {"name": "web", "port": {"name": "http", "number": 80}}});
        assert_eq!(
            IngressStrategy.validate(&ingress(json!({"defaultBackend": both_ports})))[0].message,
            "Invalid value: \"\": cannot set both port name & port number"
        );
        assert_eq!(
            cause_texts(&IngressStrategy.validate(&ingress(json!({"defaultBackend": {}})))),
            ["spec.defaultBackend: Invalid value: \"\": resource or service backend is required"]
        );
    }

    #[test]
    fn hosts_tls_and_class_annotation() {
        let i = ingress(json!({"ingressClassName": "a", "rules": [
            {"host": "10.0.0.1"}, {"host": "*.*.example.com"}, {"host": "foo.*.com"}],
            "tls": [{"hosts": ["*.example.com", "Bad"], "secretName": "Not_Valid"}]}));
        let mut i = i;
        i["metadata"]["annotations"] = json!({CLASS_ANNOTATION: "b"});
        let fields: Vec<String> =
            IngressStrategy.validate(&i).iter().map(|c| c.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "spec.rules[0].host",
                "spec.rules[1].host",
                "spec.rules[2].host",
                "spec.tls[0].hosts[1]",
                "spec.tls[0].secretName",
                "annotations.kubernetes.io/ingress.class",
            ]
        );
        assert_eq!(
            IngressStrategy.validate(&i)[0].message,
            "Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address"
        );
    }

    #[test]
    fn table_columns() {
        let mut i =
            ingress(json!({"rules": [{"host": "a.com"}, {"host": "b.com"}, {"host": "c.com"},
            {"host": "d.com"}, {"host": "e.com"}], "tls": [{"hosts": ["a.com"]}]}));
        i["status"] =
            json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}, {"hostname": "lb.example"}]}});
        let plain =
            ingress(json!({"ingressClassName": "nginx", "defaultBackend": service_backend()}));
        let table = render_table(&table(), &[i, plain], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"].as_array().unwrap()[..5],
            [
                json!("web"),
                json!("<none>"),
                json!("a.com,b.com,c.com + 2 more..."),
                json!("10.0.0.2,lb.example"),
                json!("80, 443")
            ]
        );
        assert_eq!(
            table["rows"][1]["cells"].as_array().unwrap()[..5],
            [json!("web"), json!("nginx"), json!("*"), json!(""), json!("80")]
        );
    }
}
