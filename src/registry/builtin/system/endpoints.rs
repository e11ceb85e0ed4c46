//! `v1` Endpoints (`pkg/registry/core/endpoint`): the legacy list of a Service's addresses,
//! deprecated in 1.33 (every request carries kube's deprecation warning). Ports default to TCP;
//! validation is kube's `ValidateEndpoints` for names, IPs, hostnames and ports. kube also
//! refuses loopback, link-local and multicast addresses; kube-ledger does not, because the
//! `default/kubernetes` Endpoints it keeps name the server's own address, `127.0.0.1` unless
//! `--advertise-address` says otherwise.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use super::super::podspec::{is_valid_port_num, validate_protocol};
use super::super::{
    Kind, age_column, array_at, column, default_string, name_column, object_items,
    object_items_mut, opt_array, opt_int, opt_str,
};
use crate::meta::validation::{FieldCause, is_dns1123_label, is_dns1123_subdomain};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Endpoints",
    plural: "endpoints",
    short_names: &["ep"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/services/endpoints",
};

/// kube-apiserver 1.33's warning on every request to v1 Endpoints.
pub const DEPRECATION_WARNING: &str =
    "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice";

pub fn resource() -> Resource {
    let mut resource = KIND.resource(Arc::new(EndpointsStrategy), table());
    resource.singular = "endpoints".to_owned();
    resource
}

/// Endpoints rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointsStrategy;

/// kube's `SetDefaults_EndpointPort`: the protocol defaults to TCP.
fn default_endpoints(endpoints: &mut Value) {
    let Some(map) = endpoints.as_object_mut() else { return };
    for subset in object_items_mut(map, "subsets") {
        for port in object_items_mut(subset, "ports") {
            default_string(port, "protocol", "TCP");
        }
    }
}

impl Strategy for EndpointsStrategy {
    fn set_defaults(&self, endpoints: &mut Value) {
        default_endpoints(endpoints);
    }

    fn validate(&self, endpoints: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let subsets = opt_array(endpoints, "subsets", "subsets", &mut causes);
        for (i, subset) in object_items(subsets, "subsets", &mut causes) {
            validate_subset(subset, &format!("subsets[{i}]"), &mut causes);
        }
        causes
    }

    fn request_warning(&self) -> Option<&str> {
        Some(DEPRECATION_WARNING)
    }
}

fn validate_subset(subset: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let addresses = opt_array(subset, "addresses", &format!("{path}.addresses"), causes);
    let not_ready =
        opt_array(subset, "notReadyAddresses", &format!("{path}.notReadyAddresses"), causes);
    if addresses.is_empty() && not_ready.is_empty() {
        causes.push(FieldCause::required(path, "must specify `addresses` or `notReadyAddresses`"));
    }
    for (field, items) in [("addresses", addresses), ("notReadyAddresses", not_ready)] {
        let list = format!("{path}.{field}");
        for (j, address) in object_items(items, &list, causes) {
            validate_address(address, &format!("{list}[{j}]"), causes);
        }
    }
    let ports = opt_array(subset, "ports", &format!("{path}.ports"), causes);
    let require_name = ports.len() > 1;
    let list = format!("{path}.ports");
    let mut names = std::collections::BTreeSet::new();
    for (j, port) in object_items(ports, &list, causes) {
        let at = format!("{list}[{j}]");
        let name = opt_str(port, "name", &format!("{at}.name"), causes).unwrap_or("");
        if require_name && name.is_empty() {
            causes.push(FieldCause::required(format!("{at}.name"), ""));
        } else if !name.is_empty() {
            for message in is_dns1123_label(name) {
                causes.push(FieldCause::invalid(format!("{at}.name"), name, &message));
            }
            if !names.insert(name) {
                causes.push(FieldCause::duplicate(format!("{at}.name"), name));
            }
        }
        let number = opt_int(port, "port", &format!("{at}.port"), causes).unwrap_or(0);
        for message in is_valid_port_num(number) {
            causes.push(FieldCause::invalid(format!("{at}.port"), number, &message));
        }
        validate_protocol(port, &format!("{at}.protocol"), causes);
    }
}

fn validate_address(address: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let ip = opt_str(address, "ip", &format!("{path}.ip"), causes).unwrap_or("");
    if ip.parse::<IpAddr>().is_err() {
        causes.push(FieldCause::invalid(
            format!("{path}.ip"),
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
    if let Some(hostname) = opt_str(address, "hostname", &format!("{path}.hostname"), causes)
        && !hostname.is_empty()
    {
        for message in is_dns1123_label(hostname) {
            causes.push(FieldCause::invalid(format!("{path}.hostname"), hostname, &message));
        }
    }
    if let Some(node) = opt_str(address, "nodeName", &format!("{path}.nodeName"), causes)
        && !node.is_empty()
    {
        for message in is_dns1123_subdomain(node) {
            causes.push(FieldCause::invalid(format!("{path}.nodeName"), node, &message));
        }
    }
}

/// kube's `formatEndpoints`: `ip:port` pairs (bare IPs for a subset without ports), three at
/// most, then ` + N more...`; `<none>` without subsets.
pub fn format_endpoints(endpoints: &Value) -> String {
    let subsets = array_at(endpoints, "/subsets");
    if subsets.is_empty() {
        return "<none>".to_owned();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let (mut more, mut count) = (false, 0usize);
    for subset in subsets {
        let addresses = array_at(subset, "/addresses");
        let ports = array_at(subset, "/ports");
        let ip = |a: &Value| a.get("ip").and_then(Value::as_str).unwrap_or("").to_owned();
        if ports.is_empty() {
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(ip(address));
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                let host = ip(address);
                // Go's net.JoinHostPort brackets IPv6 addresses.
                let joined = if host.contains(':') {
                    format!("[{host}]:{number}")
                } else {
                    format!("{host}:{number}")
                };
                list.push(joined);
            }
        }
    }
    let joined = list.join(",");
    if more { format!("{joined} + {} more...", count - MAX) } else { joined }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Endpoints",
                "string",
                0,
                &KIND.doc("/subsets"),
                Cell::Computed(|ep| format_endpoints(ep).into()),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use serde_json::json;

    #[test]
    fn defaults_and_validation() {
        let mut ep = json!({"metadata": {"name": "web"}, "subsets": [
            {"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]});
        EndpointsStrategy.decoded_create(&mut ep);
        assert_eq!(ep["subsets"][0]["ports"][0]["protocol"], "TCP");
        assert!(EndpointsStrategy.validate(&ep).is_empty());
        let bad = json!({"subsets": [{}, {"addresses": [{"ip": "nope", "hostname": "A_B"}],
            "ports": [{"port": 0, "protocol": "TCP"}, {"name": "b", "port": 1, "protocol": "X"}]}]});
        assert_eq!(
            text(&EndpointsStrategy.validate(&bad)),
            [
                "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
                "subsets[1].addresses[0].ip: Invalid value: \"nope\": must be a valid IP address, \
                 (e.g. 10.9.8.7 or 2001:db8::ffff)",
                "subsets[1].addresses[0].hostname: Invalid value: \"A_B\": a lowercase RFC 1123 \
                 label must consist of lower case alphanumeric characters or '-', and must start \
                 and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex \
                 used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "subsets[1].ports[0].name: Required value",
                "subsets[1].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "subsets[1].ports[1].protocol: Unsupported value: \"X\": supported values: \
                 \"SCTP\", \"TCP\", \"UDP\"",
            ]
        );
    }

    #[test]
    fn endpoints_column() {
        assert_eq!(format_endpoints(&json!({})), "<none>");
        let ep = json!({"subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
             "ports": [{"port": 80}, {"port": 443}]},
            {"addresses": [{"ip": "fd00::1"}]}]});
        assert_eq!(format_endpoints(&ep), "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...");
        let one =
            json!({"subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 6443}]}]});
        assert_eq!(format_endpoints(&one), "[fd00::1]:6443");
        assert_eq!(resource().short_names, ["ep"]);
        assert_eq!(resource().singular, "endpoints");
    }
}
