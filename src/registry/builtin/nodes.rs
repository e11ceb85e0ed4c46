//! `v1` Nodes (`pkg/registry/core/node`, `ValidateNode*` in `pkg/apis/core/validation`): the
//! machines a kubelet registers. Cluster-scoped, short name `no`. Unlike most kinds a Node may be
//! created with its status (a kubelet registers with it), after which the main resource keeps
//! the status and `/status` keeps the spec. Nothing here watches node health: conditions,
//! addresses and capacity are whatever clients write. An update may set `podCIDRs` and
//! `providerID` once, never change them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Kind, age_column, array_at, child_object, column, invalid_rendered, name_column, object_items,
    opt_array, opt_bool, opt_object, opt_str, str_at,
};
use crate::meta::quantity::Quantity;
use crate::meta::validation::{FieldCause, go_quote, is_qualified_name, is_valid_label_value};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const PLURAL: &str = "nodes";

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Node",
    plural: PLURAL,
    short_names: &["no"],
    categories: &[],
    namespaced: false,
    // kube-apiserver's etcd key for nodes.
    storage_prefix: "/minions",
};

/// kube's taint effects, in the order its messages list them.
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
/// The node-role label prefix and the older role label kubectl reads roles from.
const ROLE_PREFIX: &str = "node-role.kubernetes.io/";
const ROLE_LABEL: &str = "kubernetes.io/role";
const CIDR_MESSAGE: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
const CHANGED_CIDR: &str = "node updates may not change podCIDR except from \"\" to valid";
const CHANGED_PROVIDER: &str = "node updates may not change providerID except from \"\" to valid";

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(NodeStrategy), table()) }
}

/// Node rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeStrategy;

/// `SetDefaults_NodeStatus` (allocatable is the capacity when unset), the v1 conversion of
/// `podCIDR` and `podCIDRs` (each the other's first entry), and the zero values kube's
/// encoding always writes (`spec: {}`, the kubelet endpoint's port, `nodeInfo`'s strings).
fn default_node(node: &mut Value) {
    let Some(map) = node.as_object_mut() else { return };
    if let Some(spec) = child_object(map, "spec") {
        let cidr = spec.get("podCIDR").and_then(Value::as_str).unwrap_or("").to_owned();
        let first = spec
            .get("podCIDRs")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
        match first {
            Some(first) => {
                spec.insert("podCIDR".into(), first.into());
            }
            None if !cidr.is_empty() => {
                spec.insert("podCIDRs".into(), json!([cidr]));
            }
            None => {}
        }
    }
    let Some(status) = child_object(map, "status") else { return };
    let unset = |v: Option<&Value>| v.is_none_or(Value::is_null);
    if unset(status.get("allocatable")) && !unset(status.get("capacity")) {
        let capacity = status["capacity"].clone();
        status.insert("allocatable".into(), capacity);
    }
    if let Some(endpoints) = child_object(status, "daemonEndpoints")
        && let Some(kubelet) = child_object(endpoints, "kubeletEndpoint")
    {
        super::default_value(kubelet, "Port", json!(0));
    }
    if let Some(info) = child_object(status, "nodeInfo") {
        for key in [
            "machineID",
            "systemUUID",
            "bootID",
            "kernelVersion",
            "osImage",
            "containerRuntimeVersion",
            "kubeletVersion",
            "kubeProxyVersion",
            "operatingSystem",
            "architecture",
        ] {
            super::default_value(info, key, json!(""));
        }
    }
}

/// `netutils.ParseCIDRSloppy`: an address and a prefix length that fits it.
fn is_cidr(text: &str) -> Option<IpAddr> {
    let (address, bits) = text.split_once('/')?;
    let ip: IpAddr = address.parse().ok()?;
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(ip)
}

/// Go's `%#v` of a `core.Taint` as kube's duplicate message prints it.
fn go_taint(taint: &Value) -> String {
    format!(
        "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:(*v1.Time)(nil)}}",
        go_quote(str_at(taint, "/key")),
        go_quote(str_at(taint, "/value")),
        go_quote(str_at(taint, "/effect"))
    )
}

/// kube's `validateNodeTaints`.
fn validate_taints(spec: &Value, causes: &mut Vec<FieldCause>) {
    let taints = opt_array(spec, "taints", "spec.taints", causes);
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, taint) in object_items(taints, "spec.taints", causes) {
        let path = format!("spec.taints[{i}]");
        let key = opt_str(taint, "key", &format!("{path}.key"), causes).unwrap_or("");
        for msg in is_qualified_name(key) {
            causes.push(FieldCause::invalid(format!("{path}.key"), key, &msg));
        }
        let value = opt_str(taint, "value", &format!("{path}.value"), causes).unwrap_or("");
        let errors = is_valid_label_value(value);
        if !errors.is_empty() {
            causes.push(FieldCause::invalid(format!("{path}.value"), value, &errors.join(";")));
        }
        let effect = opt_str(taint, "effect", &format!("{path}.effect"), causes).unwrap_or("");
        if effect.is_empty() {
            causes.push(FieldCause::required(format!("{path}.effect"), ""));
        } else if !TAINT_EFFECTS.contains(&effect) {
            causes.push(FieldCause::not_supported(format!("{path}.effect"), effect, TAINT_EFFECTS));
        }
        let keys = seen.entry(effect.to_owned()).or_default();
        if !keys.insert(key.to_owned()) {
            causes.push(FieldCause {
                field: path,
                reason: crate::meta::validation::CauseType::FieldValueDuplicate,
                message: format!(
                    "Duplicate value: {}: taints must be unique by key and effect pair",
                    go_taint(taint)
                ),
            });
        }
    }
}

/// The pod CIDRs: each a CIDR, at most one per IP family.
fn validate_pod_cidrs(spec: &Value, causes: &mut Vec<FieldCause>) {
    let cidrs = opt_array(spec, "podCIDRs", "spec.podCIDRs", causes);
    let mut families = Vec::new();
    for (i, cidr) in cidrs.iter().enumerate() {
        let text = cidr.as_str().unwrap_or_default();
        match is_cidr(text) {
            Some(ip) => families.push(ip.is_ipv4()),
            None => {
                causes.push(FieldCause::invalid(format!("spec.podCIDRs[{i}]"), text, CIDR_MESSAGE))
            }
        }
    }
    if cidrs.len() > 1 && (cidrs.len() > 2 || families.first() == families.get(1)) {
        causes.push(invalid_rendered(
            "spec.podCIDRs",
            &super::go_string_slice(spec.get("podCIDRs")),
            "may specify no more than one CIDR for each IP family",
        ));
    }
}

/// Capacity and allocatable: quantities, none negative.
fn validate_status(node: &Value, causes: &mut Vec<FieldCause>) {
    let Some(status) = node.get("status").filter(|s| !s.is_null()) else { return };
    for key in ["capacity", "allocatable"] {
        let path = format!("status.{key}");
        let Some(resources) = opt_object(status, key, &path, causes) else { continue };
        for (name, amount) in resources {
            let field = format!("{path}[{name}]");
            match Quantity::from_json(amount) {
                None => causes.push(FieldCause::type_invalid(
                    field,
                    amount.clone(),
                    "quantities must match the regular expression \
                     '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                )),
                Some(q) if q.nanos() < 0 => causes.push(FieldCause::invalid(
                    field,
                    amount.clone(),
                    "must be greater than or equal to 0",
                )),
                Some(_) => {}
            }
        }
    }
    opt_array(status, "conditions", "status.conditions", causes);
    opt_array(status, "addresses", "status.addresses", causes);
}

impl Strategy for NodeStrategy {
    /// Nodes keep the status they are created with: the store is told so by
    /// [`Strategy::keeps_status_on_create`].
    fn set_defaults(&self, node: &mut Value) {
        default_node(node);
    }

    fn keeps_status_on_create(&self) -> bool {
        true
    }

    fn validate(&self, node: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if opt_object(node, "spec", "spec", &mut causes).is_some() {
            let spec = &node["spec"];
            validate_taints(spec, &mut causes);
            validate_pod_cidrs(spec, &mut causes);
            opt_bool(spec, "unschedulable", "spec.unschedulable", &mut causes);
            opt_str(spec, "providerID", "spec.providerID", &mut causes);
        }
        validate_status(node, &mut causes);
        causes
    }

    /// kube's `ValidateNodeUpdate`: pod CIDRs and the provider ID are set once.
    fn validate_update(&self, node: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(node);
        let old_cidrs = array_at(old, "/spec/podCIDRs");
        let new_cidrs = array_at(node, "/spec/podCIDRs");
        if !old_cidrs.is_empty() {
            if old_cidrs.len() != new_cidrs.len() {
                causes.push(FieldCause::forbidden("spec.podCIDRs", CHANGED_CIDR));
            } else {
                for (old, new) in old_cidrs.iter().zip(new_cidrs) {
                    if old != new {
                        causes.push(FieldCause::forbidden("spec.podCIDRs", CHANGED_CIDR));
                    }
                }
            }
        }
        let old_provider = str_at(old, "/spec/providerID");
        if !old_provider.is_empty() && old_provider != str_at(node, "/spec/providerID") {
            causes.push(FieldCause::forbidden("spec.providerID", CHANGED_PROVIDER));
        }
        causes
    }

    fn selectable_fields(&self, node: &Value) -> BTreeMap<String, String> {
        let unschedulable = node.pointer("/spec/unschedulable").and_then(Value::as_bool);
        BTreeMap::from([(
            "spec.unschedulable".to_owned(),
            unschedulable.unwrap_or(false).to_string(),
        )])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["spec.unschedulable"]
    }
}

/// kubectl's STATUS: `Ready`/`NotReady` from the Ready condition (`Unknown` without one), then
/// `SchedulingDisabled` for a cordoned node.
fn node_status(node: &Value) -> String {
    let ready = array_at(node, "/status/conditions")
        .iter()
        .rev()
        .find(|c| str_at(c, "/type") == "Ready")
        .map(|c| if str_at(c, "/status") == "True" { "Ready" } else { "NotReady" });
    let mut status = vec![ready.unwrap_or("Unknown")];
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// kubectl's ROLES: `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`, sorted.
fn node_roles(node: &Value) -> String {
    let labels = node.pointer("/metadata/labels").and_then(Value::as_object);
    let mut roles = BTreeSet::new();
    for (key, value) in labels.into_iter().flatten() {
        if let Some(role) = key.strip_prefix(ROLE_PREFIX).filter(|r| !r.is_empty()) {
            roles.insert(role.to_owned());
        } else if key == ROLE_LABEL && value.as_str().is_some_and(|v| !v.is_empty()) {
            roles.insert(value.as_str().unwrap_or_default().to_owned());
        }
    }
    if roles.is_empty() {
        return "<none>".to_owned();
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

fn address(node: &Value, kind: &str) -> Value {
    array_at(node, "/status/addresses")
        .iter()
        .find(|a| str_at(a, "/type") == kind)
        .map_or("<none>".into(), |a| str_at(a, "/address").into())
}

fn table() -> TableSpec {
    // What the node reports about itself, `<unknown>` when it has not.
    let info = |name: &str, pointer: &'static str| {
        KIND.field_column(name, "string", 1, pointer, |text| match text.and_then(Value::as_str) {
            None | Some("") => "<unknown>".into(),
            Some(text) => text.into(),
        })
    };
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Status",
                "string",
                0,
                "The status of the node",
                Cell::Computed(|n| node_status(n).into()),
            ),
            column(
                "Roles",
                "string",
                0,
                "The roles of the node",
                Cell::Computed(|n| node_roles(n).into()),
            ),
            age_column(),
            column(
                "Version",
                "string",
                0,
                &KIND.doc("/status/nodeInfo/kubeletVersion"),
                Cell::Computed(|n| str_at(n, "/status/nodeInfo/kubeletVersion").into()),
            ),
            column(
                "Internal-IP",
                "string",
                1,
                &KIND.doc("/status/addresses"),
                Cell::Computed(|n| address(n, "InternalIP")),
            ),
            column(
                "External-IP",
                "string",
                1,
                &KIND.doc("/status/addresses"),
                Cell::Computed(|n| address(n, "ExternalIP")),
            ),
            info("OS-Image", "/status/nodeInfo/osImage"),
            info("Kernel-Version", "/status/nodeInfo/kernelVersion"),
            info("Container-Runtime", "/status/nodeInfo/containerRuntimeVersion"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn node(extra: Value) -> Value {
        let mut n = json!({"metadata": {"name": "node-1"}});
        if let (Some(map), Some(extra)) = (n.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        NodeStrategy.decoded_create(&mut n);
        n
    }

    #[test]
    fn defaults() {
        let n = node(json!({"status": {"capacity": {"cpu": "4", "pods": "110"}}}));
        assert_eq!(n["spec"], json!({}));
        assert_eq!(n["status"]["allocatable"], json!({"cpu": "4", "pods": "110"}));
        assert_eq!(n["status"]["daemonEndpoints"], json!({"kubeletEndpoint": {"Port": 0}}));
        assert_eq!(n["status"]["nodeInfo"].as_object().unwrap().len(), 10);
        assert!(NodeStrategy.validate(&n).is_empty());
        let cidr = node(json!({"spec": {"podCIDR": "10.244.0.0/24"}}));
        assert_eq!(cidr["spec"]["podCIDRs"], json!(["10.244.0.0/24"]));
        assert!(NodeStrategy.keeps_status_on_create());
    }

    #[test]
    fn taints_and_cidrs_are_checked() {
        let n = node(json!({"spec": {"taints": [
            {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
            {"key": "dedicated", "value": "other", "effect": "NoSchedule"},
            {"key": "a b", "effect": "Sometimes"},
            {"key": "x"}],
            "podCIDRs": ["10.0.0.0/33", "fd00::/64"]}}));
        assert_eq!(
            cause_texts(&NodeStrategy.validate(&n)),
            [
                "spec.taints[1]: Duplicate value: core.Taint{Key:\"dedicated\", Value:\"other\", \
                 Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key \
                 and effect pair",
                "spec.taints[2].key: Invalid value: \"a b\": name part must consist of \
                 alphanumeric characters, '-', '_' or '.', and must start and end with an \
                 alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used \
                 for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "spec.taints[2].effect: Unsupported value: \"Sometimes\": supported values: \
                 \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                "spec.taints[3].effect: Required value",
                "spec.podCIDRs[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, \
                 (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ]
        );
        let two_v4 = node(json!({"spec": {"podCIDRs": ["10.0.0.0/24", "10.1.0.0/24"]}}));
        assert_eq!(
            cause_texts(&NodeStrategy.validate(&two_v4)),
            ["spec.podCIDRs: Invalid value: []string{\"10.0.0.0/24\", \"10.1.0.0/24\"}: may \
              specify no more than one CIDR for each IP family"]
        );
        let bad = node(json!({"status": {"capacity": {"cpu": "-1"}}}));
        assert_eq!(
            cause_texts(&NodeStrategy.validate(&bad)),
            [
                "status.capacity[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "status.allocatable[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn cidrs_and_provider_are_set_once() {
        let old = node(json!({}));
        let set = node(json!({"spec": {"podCIDRs": ["10.0.0.0/24"], "providerID": "aws://i-1"}}));
        assert!(NodeStrategy.validate_update(&set, &old).is_empty());
        let moved = node(json!({"spec": {"podCIDRs": ["10.9.0.0/24"], "providerID": "aws://i-2"}}));
        assert_eq!(
            cause_texts(&NodeStrategy.validate_update(&moved, &set)),
            [
                "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" \
                 to valid",
                "spec.providerID: Forbidden: node updates may not change providerID except from \
                 \"\" to valid",
            ]
        );
    }

    #[test]
    fn table_cells() {
        let mut n = node(json!({
            "metadata": {"name": "node-1", "labels": {
                "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian"}}}));
        n["metadata"]["name"] = json!("node-1");
        let table =
            render_table(&table(), &[n, node(json!({}))], Default::default(), Default::default());
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells[..3],
            [json!("node-1"), json!("Ready,SchedulingDisabled"), json!("control-plane,edge")]
        );
        assert_eq!(
            cells[4..],
            [
                json!("v1.33.0"),
                json!("10.0.0.5"),
                json!("<none>"),
                json!("Debian"),
                json!("<unknown>"),
                json!("<unknown>")
            ]
        );
        let bare = table["rows"][1]["cells"].as_array().unwrap();
        assert_eq!(bare[1..3], [json!("Unknown"), json!("<none>")]);
        assert_eq!(resource().short_names, ["no"]);
    }
}
