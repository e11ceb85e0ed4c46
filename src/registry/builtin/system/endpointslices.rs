//! `discovery.k8s.io/v1` EndpointSlices (`pkg/registry/discovery/endpointslice`): a Service's
//! endpoints in slices of at most 1000. Ports default to TCP and an empty name, as kube's
//! `SetDefaults_EndpointPort`; validation is kube's `ValidateEndpointSlice` (address type,
//! addresses of that type, hostnames, node names, ports, the limits), the address type immutable.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::super::podspec::is_valid_port_num;
use super::super::{
    Kind, age_column, array_at, child_object, column, default_value, immutable, name_column,
    object_items, object_items_mut, opt_array, opt_int, opt_object, opt_str, str_at,
};
use crate::meta::validation::{
    CauseType, FieldCause, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "discovery.k8s.io",
    version: "v1",
    kind: "EndpointSlice",
    plural: "endpointslices",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/endpointslices",
};

const ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const MAX_ENDPOINTS: usize = 1000;
const MAX_PORTS: usize = 100;
const MAX_ADDRESSES: usize = 100;

pub fn resource() -> Resource {
    KIND.resource(Arc::new(EndpointSliceStrategy), table())
}

/// EndpointSlice rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointSliceStrategy;

/// kube's defaults: a port's `name` and `protocol`; `conditions` is a Go struct (never
/// omitted).
fn default_slice(slice: &mut Value) {
    let Some(map) = slice.as_object_mut() else { return };
    for port in object_items_mut(map, "ports") {
        default_value(port, "name", json!(""));
        default_value(port, "protocol", json!("TCP"));
    }
    for endpoint in object_items_mut(map, "endpoints") {
        child_object(endpoint, "conditions");
    }
}

impl Strategy for EndpointSliceStrategy {
    fn set_defaults(&self, slice: &mut Value) {
        default_slice(slice);
    }

    fn validate(&self, slice: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let address_type = opt_str(slice, "addressType", "addressType", &mut causes).unwrap_or("");
        if address_type.is_empty() {
            causes.push(FieldCause::required("addressType", ""));
        } else if !ADDRESS_TYPES.contains(&address_type) {
            causes.push(FieldCause::not_supported("addressType", address_type, ADDRESS_TYPES));
        }
        let endpoints = opt_array(slice, "endpoints", "endpoints", &mut causes);
        if endpoints.len() > MAX_ENDPOINTS {
            causes.push(too_many("endpoints", endpoints.len(), MAX_ENDPOINTS));
        }
        for (i, endpoint) in object_items(endpoints, "endpoints", &mut causes) {
            validate_endpoint(endpoint, address_type, &format!("endpoints[{i}]"), &mut causes);
        }
        let ports = opt_array(slice, "ports", "ports", &mut causes);
        if ports.len() > MAX_PORTS {
            causes.push(too_many("ports", ports.len(), MAX_PORTS));
        }
        let mut names = BTreeSet::new();
        for (i, port) in object_items(ports, "ports", &mut causes) {
            let at = format!("ports[{i}]");
            let name = opt_str(port, "name", &format!("{at}.name"), &mut causes).unwrap_or("");
            if !name.is_empty() {
                for message in is_dns1123_label(name) {
                    causes.push(FieldCause::invalid(format!("{at}.name"), name, &message));
                }
            }
            if !names.insert(name) {
                causes.push(FieldCause::duplicate(format!("{at}.name"), name));
            }
            let protocol =
                opt_str(port, "protocol", &format!("{at}.protocol"), &mut causes).unwrap_or("");
            if !PROTOCOLS.contains(&protocol) {
                causes.push(FieldCause::not_supported(
                    format!("{at}.protocol"),
                    protocol,
                    PROTOCOLS,
                ));
            }
            if let Some(number) = opt_int(port, "port", &format!("{at}.port"), &mut causes) {
                for message in is_valid_port_num(number) {
                    causes.push(FieldCause::invalid(format!("{at}.port"), number, &message));
                }
            }
            let app = format!("{at}.appProtocol");
            if let Some(app_protocol) = opt_str(port, "appProtocol", &app, &mut causes) {
                for message in is_qualified_name(app_protocol) {
                    causes.push(FieldCause::invalid(app.clone(), app_protocol, &message));
                }
            }
        }
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(new);
        let (now, before) = (str_at(new, "/addressType"), str_at(old, "/addressType"));
        if now != before {
            causes.push(immutable("addressType", &Value::from(now)));
        }
        causes
    }
}

/// `field.TooMany`.
fn too_many(field: &str, actual: usize, max: usize) -> FieldCause {
    FieldCause {
        field: field.to_owned(),
        reason: CauseType::FieldValueTooMany,
        message: format!("Too many: {actual}: must have at most {max} items"),
    }
}

fn validate_endpoint(
    endpoint: &Value,
    address_type: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    let list = format!("{path}.addresses");
    let addresses = opt_array(endpoint, "addresses", &list, causes);
    if addresses.is_empty() {
        causes.push(FieldCause::required(list.clone(), "must contain at least 1 address"));
    } else if addresses.len() > MAX_ADDRESSES {
        causes.push(too_many(&list, addresses.len(), MAX_ADDRESSES));
    }
    for (j, address) in addresses.iter().enumerate() {
        let at = format!("{list}[{j}]");
        let Some(text) = address.as_str() else {
            causes.push(FieldCause::type_invalid(at, address.clone(), "must be a string"));
            continue;
        };
        let problem = match address_type {
            "IPv4" if text.parse::<Ipv4Addr>().is_err() => Some("must be a valid IPv4 address"),
            "IPv6" if text.parse::<Ipv6Addr>().is_err() => Some("must be a valid IPv6 address"),
            _ => None,
        };
        if let Some(problem) = problem {
            causes.push(FieldCause::invalid(at.clone(), text, problem));
        }
        if address_type == "FQDN" {
            for message in is_dns1123_subdomain(text) {
                causes.push(FieldCause::invalid(at.clone(), text, &message));
            }
        }
    }
    opt_object(endpoint, "conditions", &format!("{path}.conditions"), causes);
    if let Some(hostname) = opt_str(endpoint, "hostname", &format!("{path}.hostname"), causes) {
        for message in is_dns1123_label(hostname) {
            causes.push(FieldCause::invalid(format!("{path}.hostname"), hostname, &message));
        }
    }
    if let Some(node) = opt_str(endpoint, "nodeName", &format!("{path}.nodeName"), causes) {
        for message in is_dns1123_subdomain(node) {
            causes.push(FieldCause::invalid(format!("{path}.nodeName"), node, &message));
        }
    }
}

/// kube's `listWithMoreString`: three at most, then ` + N more...`; `<unset>` for none.
fn list_with_more(items: impl Iterator<Item = String>) -> String {
    const MAX: usize = 3;
    let all: Vec<String> = items.collect();
    let shown = all.iter().take(MAX).cloned().collect::<Vec<_>>().join(",");
    if all.len() > MAX {
        format!("{shown} + {} more...", all.len() - MAX)
    } else if shown.is_empty() {
        "<unset>".to_owned()
    } else {
        shown
    }
}

/// kube's `formatDiscoveryPorts`: the port number, else its name, else `*`.
fn format_ports(slice: &Value) -> String {
    list_with_more(array_at(slice, "/ports").iter().map(|port| {
        match (port.get("port").and_then(Value::as_i64), port.get("name").and_then(Value::as_str)) {
            (Some(number), _) => number.to_string(),
            (None, Some(name)) => name.to_owned(),
            (None, None) => "*".to_owned(),
        }
    }))
}

/// kube's `formatDiscoveryEndpoints`: every address of every endpoint.
fn format_endpoints(slice: &Value) -> String {
    list_with_more(array_at(slice, "/endpoints").iter().flat_map(|endpoint| {
        array_at(endpoint, "/addresses")
            .iter()
            .map(|a| a.as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    }))
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "AddressType",
                "string",
                0,
                &KIND.doc("/addressType"),
                Cell::Computed(|slice| str_at(slice, "/addressType").into()),
            ),
            column(
                "Ports",
                "string",
                0,
                &KIND.doc("/ports"),
                Cell::Computed(|slice| format_ports(slice).into()),
            ),
            column(
                "Endpoints",
                "string",
                0,
                &KIND.doc("/endpoints"),
                Cell::Computed(|slice| format_endpoints(slice).into()),
            ),
            age_column(),
        ],
    }
}

/// An EndpointSlice's `endpoints[]` entry for one ready address (what kube's reconcilers
/// write).
pub fn ready_endpoint(address: &str) -> Value {
    let mut endpoint = Map::new();
    endpoint.insert("addresses".into(), json!([address]));
    endpoint.insert("conditions".into(), json!({"ready": true}));
    Value::Object(endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;

    #[test]
    fn defaults_validation_and_columns() {
        let mut slice = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}],
            "ports": [{"port": 80}]});
        EndpointSliceStrategy.decoded_create(&mut slice);
        assert_eq!(slice["ports"][0], json!({"port": 80, "name": "", "protocol": "TCP"}));
        assert_eq!(slice["endpoints"][0]["conditions"], json!({}));
        assert!(EndpointSliceStrategy.validate(&slice).is_empty());
        assert_eq!(format_ports(&slice), "80");
        assert_eq!(format_endpoints(&slice), "10.0.0.1,10.0.0.2");
        assert_eq!(format_ports(&json!({})), "<unset>");
        let many =
            json!({"endpoints": [{"addresses": ["a", "b"]}, {"addresses": ["c", "d", "e"]}]});
        assert_eq!(format_endpoints(&many), "a,b,c + 2 more...");

        let bad = json!({"addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1"]},
            {"addresses": []}], "ports": [{"name": "a", "protocol": "TCP"},
            {"name": "a", "protocol": "HTTP", "port": 70000}]});
        assert_eq!(
            text(&EndpointSliceStrategy.validate(&bad)),
            [
                "endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address",
                "endpoints[1].addresses: Required value: must contain at least 1 address",
                "ports[1].name: Duplicate value: \"a\"",
                "ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \
                 \"TCP\", \"UDP\"",
                "ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
            ]
        );
        assert_eq!(
            text(&EndpointSliceStrategy.validate(&json!({}))),
            ["addressType: Required value"]
        );
        let mut moved = slice.clone();
        moved["addressType"] = "IPv6".into();
        moved["endpoints"] = json!([]);
        assert_eq!(
            text(&EndpointSliceStrategy.validate_update(&moved, &slice)),
            ["addressType: Invalid value: \"IPv6\": field is immutable"]
        );
    }
}
