//! `networking.k8s.io/v1` NetworkPolicies (`pkg/registry/networking/networkpolicy`): kube's
//! defaults (`policyTypes` from the rules present: `Ingress`, plus `Egress` when there are
//! egress rules; ports' protocol TCP) and the validation users hit: selectors, ports (number
//! or name, `endPort` only after a numeric port), peers (exactly one kind when an `ipBlock`,
//! at least one), IP blocks (valid CIDRs, `except` strictly inside), policy types. No status:
//! nothing enforces policies.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::podspec::{is_valid_port_name, is_valid_port_num};
use super::workloads::format_label_selector;
use super::{
    Kind, age_column, column, default_value, name_column, object_items, object_items_mut,
    opt_array, opt_int, opt_object, opt_str,
};
use crate::meta::labels::validate_label_selector;
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    short_names: &["netpol"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/networkpolicies",
};

const CIDR_MESSAGE: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

pub fn resource() -> Resource {
    KIND.resource(Arc::new(NetworkPolicyStrategy), table())
}

/// NetworkPolicy rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetworkPolicyStrategy;

/// kube's `SetDefaults_NetworkPolicy` and `SetDefaults_NetworkPolicyPort`.
fn default_network_policy(object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else { return };
    let egress = spec.get("egress").and_then(Value::as_array).is_some_and(|e| !e.is_empty());
    if spec.get("policyTypes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        let types = if egress { json!(["Ingress", "Egress"]) } else { json!(["Ingress"]) };
        spec.insert("policyTypes".into(), types);
    }
    for direction in ["ingress", "egress"] {
        for rule in object_items_mut(spec, direction) {
            for port in object_items_mut(rule, "ports") {
                default_value(port, "protocol", json!("TCP"));
            }
        }
    }
}

impl Strategy for NetworkPolicyStrategy {
    /// The spec is a struct kube always decodes, so a body without one is defaulted too.
    fn set_defaults(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry("spec").or_insert_with(|| json!({}));
        }
        default_network_policy(object);
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let spec = opt_object(object, "spec", "spec", &mut causes).cloned().unwrap_or_default();
        validate_spec(&Value::Object(spec), &mut causes);
        causes
    }
}

fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    if let Some(selector) = spec.get("podSelector") {
        causes.extend(validate_label_selector(selector, "spec.podSelector"));
    }
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        let path = format!("spec.{direction}");
        let rules = opt_array(spec, direction, &path, causes);
        for (i, rule) in object_items(rules, &path, causes) {
            let rule_path = format!("{path}[{i}]");
            let ports_path = format!("{rule_path}.ports");
            let ports = opt_array(rule, "ports", &ports_path, causes);
            for (j, port) in object_items(ports, &ports_path, causes) {
                validate_port(port, &format!("{ports_path}[{j}]"), causes);
            }
            let peers_path = format!("{rule_path}.{peers}");
            let list = opt_array(rule, peers, &peers_path, causes);
            for (j, peer) in object_items(list, &peers_path, causes) {
                validate_peer(peer, &format!("{peers_path}[{j}]"), causes);
            }
        }
    }
    let types = opt_array(spec, "policyTypes", "spec.policyTypes", causes);
    if types.len() > 2 {
        causes.push(FieldCause::invalid(
            "spec.policyTypes",
            Value::Array(types.to_vec()),
            "may not specify more than two policyTypes",
        ));
        return;
    }
    for (i, kind) in types.iter().enumerate() {
        if !matches!(kind.as_str(), Some("Ingress" | "Egress")) {
            causes.push(FieldCause::not_supported(
                format!("spec.policyTypes[{i}]"),
                kind.clone(),
                &["Ingress", "Egress"],
            ));
        }
    }
}

/// kube's `ValidateNetworkPolicyPort`.
fn validate_port(port: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let protocol_path = format!("{path}.protocol");
    if let Some(protocol) = opt_str(port, "protocol", &protocol_path, causes)
        && !["TCP", "UDP", "SCTP"].contains(&protocol)
    {
        causes.push(FieldCause::not_supported(protocol_path, protocol, &["TCP", "UDP", "SCTP"]));
    }
    let end_path = format!("{path}.endPort");
    let end_port = opt_int(port, "endPort", &end_path, causes);
    match port.get("port").filter(|p| !p.is_null()) {
        Some(Value::Number(number)) => {
            let number = number.as_i64().unwrap_or(-1);
            for msg in is_valid_port_num(number) {
                causes.push(FieldCause::invalid(format!("{path}.port"), number, &msg));
            }
            if let Some(end) = end_port {
                if end < number {
                    causes.push(FieldCause::invalid(
                        end_path.clone(),
                        number,
                        "must be greater than or equal to `port`",
                    ));
                }
                for msg in is_valid_port_num(end) {
                    causes.push(FieldCause::invalid(end_path.clone(), end, &msg));
                }
            }
        }
        Some(Value::String(name)) => {
            if let Some(end) = end_port {
                causes.push(FieldCause::invalid(
                    end_path,
                    end,
                    "may not be specified when `port` is non-numeric",
                ));
            }
            for msg in is_valid_port_name(name) {
                causes.push(FieldCause::invalid(format!("{path}.port"), name.as_str(), &msg));
            }
        }
        Some(other) => causes.push(FieldCause::type_invalid(
            format!("{path}.port"),
            other.clone(),
            "must be an integer or string",
        )),
        None => {
            if let Some(end) = end_port {
                causes.push(FieldCause::invalid(
                    end_path,
                    end,
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
}

/// kube's `ValidateNetworkPolicyPeer`.
fn validate_peer(peer: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let mut peers = 0;
    for selector in ["podSelector", "namespaceSelector"] {
        if let Some(value) = peer.get(selector).filter(|v| !v.is_null()) {
            peers += 1;
            causes.extend(validate_label_selector(value, &format!("{path}.{selector}")));
        }
    }
    let ip_block = opt_object(peer, "ipBlock", &format!("{path}.ipBlock"), causes);
    if let Some(block) = ip_block {
        peers += 1;
        validate_ip_block(block, &format!("{path}.ipBlock"), causes);
    }
    if peers == 0 {
        causes.push(FieldCause::required(path, "must specify a peer"));
    } else if peers > 1 && ip_block.is_some() {
        causes.push(FieldCause::forbidden(path, "may not specify both ipBlock and another peer"));
    }
}

/// A CIDR as Go's `net.ParseCIDR` reads it: the address and the prefix length.
fn parse_cidr(text: &str) -> Option<(IpAddr, u32)> {
    let (address, prefix) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u32 = prefix.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((address, bits))
}

/// Whether `ip` lies in the network `net/bits`.
fn contains(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    let mask = |len: u32, width: u32| -> u128 {
        if len == 0 { 0 } else { (!0u128 << (width - len)) & (!0u128 >> (128 - width)) }
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let m = mask(bits, 32);
            (u128::from(u32::from(n)) & m) == (u128::from(u32::from(i)) & m)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let m = mask(bits, 128);
            (u128::from(n) & m) == (u128::from(i) & m)
        }
        _ => false,
    }
}

/// kube's `ValidateIPBlock`.
fn validate_ip_block(block: &Map<String, Value>, path: &str, causes: &mut Vec<FieldCause>) {
    let block = Value::Object(block.clone());
    let cidr_path = format!("{path}.cidr");
    let cidr = opt_str(&block, "cidr", &cidr_path, causes).unwrap_or("");
    if cidr.is_empty() {
        causes.push(FieldCause::required(cidr_path, ""));
        return;
    }
    let Some((network, bits)) = parse_cidr(cidr) else {
        causes.push(FieldCause::invalid(cidr_path, cidr, CIDR_MESSAGE));
        return;
    };
    let except_path = format!("{path}.except");
    for (i, except) in opt_array(&block, "except", &except_path, causes).iter().enumerate() {
        let item_path = format!("{except_path}[{i}]");
        let text = except.as_str().unwrap_or("");
        let Some((address, except_bits)) = parse_cidr(text) else {
            causes.push(FieldCause::invalid(item_path, except.clone(), CIDR_MESSAGE));
            continue;
        };
        if !contains(network, bits, address) || bits >= except_bits {
            causes.push(FieldCause::invalid(item_path, text, "must be a strict subset of `cidr`"));
        }
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Pod-Selector",
                "string",
                0,
                &KIND.doc("/spec/podSelector"),
                Cell::Computed(|n| format_label_selector(n.pointer("/spec/podSelector")).into()),
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
    use crate::registry::table::render_table;

    fn created(mut n: Value) -> Value {
        NetworkPolicyStrategy.decoded_create(&mut n);
        n
    }

    #[test]
    fn policy_types_and_ports_are_defaulted() {
        let n =
            created(json!({"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}}));
        assert_eq!(n["spec"]["policyTypes"], json!(["Ingress"]));
        assert_eq!(n["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP");
        let n = created(json!({"spec": {"podSelector": {}, "egress": [{}]}}));
        assert_eq!(n["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        let n = created(json!({"spec": {"policyTypes": ["Egress"], "egress": [{}]}}));
        assert_eq!(n["spec"]["policyTypes"], json!(["Egress"]));
        assert!(NetworkPolicyStrategy.validate(&n).is_empty());
    }

    #[test]
    fn ports_peers_and_types() {
        let n = created(json!({"spec": {"podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [{"ports": [{"port": 70000}, {"port": "http", "endPort": 90},
                                   {"protocol": "ICMP", "port": 80, "endPort": 79}],
                         "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16", "10.1.0.0/16"]},
                                        "podSelector": {}}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}],
            "policyTypes": ["Ingress", "Sideways"]}}));
        assert_eq!(
            text(&NetworkPolicyStrategy.validate(&n)),
            [
                "spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, \
                 inclusive",
                "spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when \
                 `port` is non-numeric",
                "spec.ingress[0].ports[2].protocol: Unsupported value: \"ICMP\": supported values: \
                 \"TCP\", \"UDP\", \"SCTP\"",
                "spec.ingress[0].ports[2].endPort: Invalid value: 80: must be greater than or equal \
                 to `port`",
                "spec.ingress[0].from[0]: Required value: must specify a peer",
                "spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: \"11.0.0.0/16\": must be \
                 a strict subset of `cidr`",
                "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
                "spec.egress[0].to[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid \
                 CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                "spec.policyTypes[1]: Unsupported value: \"Sideways\": supported values: \
                 \"Ingress\", \"Egress\"",
            ]
        );
    }

    #[test]
    fn columns() {
        let n = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        let table = render_table(&table(), &[n], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["deny", "<none>", "<unknown>"]));
    }
}
