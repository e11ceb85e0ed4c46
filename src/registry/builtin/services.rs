//! `v1` Services (`pkg/registry/core/service`): DNS-1035 names, kube's service defaulting, cluster
//! IPs from `--service-cluster-ip-range` and node ports from `--service-node-port-range` given
//! by the allocators (`system::allocator`: a requested value if free, else a free one; a value
//! another Service holds is refused with kube's messages), the allocations kept across updates
//! as kube's REST layer keeps them, and kube's validation.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::podspec::{is_valid_port_name, is_valid_port_num, validate_protocol};
use super::system::allocator::{Alloc, Allocators};
use super::{
    Kind, age_column, array_at, column, default_string, default_value, format_labels,
    go_string_slice, invalid_rendered, name_column, object_items, object_items_mut, opt_array,
    opt_int, opt_object, opt_str, opt_string_map, str_at,
};
use crate::meta::validation::{
    FieldCause, NameValidator, go_quote, is_dns1123_label, is_dns1123_subdomain,
    name_is_dns1035_label, validate_labels,
};
use crate::registry::object;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

/// The kubelet's port, which a load balancer may not expose.
const KUBELET_PORT: i64 = 10250;
/// Session affinity's default client-IP timeout (3 hours) and its maximum (1 day).
const DEFAULT_CLIENT_IP_TIMEOUT: i64 = 10800;
const MAX_CLIENT_IP_TIMEOUT: i64 = 86400;

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const SESSION_AFFINITIES: &[&str] = &["ClientIP", "None"];
const TRAFFIC_POLICIES: &[&str] = &["Cluster", "Local"];
const IP_FAMILY_POLICIES: &[&str] = &["SingleStack", "PreferDualStack", "RequireDualStack"];

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    short_names: &["svc"],
    categories: &["all"],
    namespaced: true,
    // kube-apiserver's historical key.
    storage_prefix: "/services/specs",
};

/// Services with allocators of their own (a server's: [`resource_with`]).
pub fn resource() -> Resource {
    resource_with(Arc::default())
}

/// Services allocating from `allocators`.
pub fn resource_with(allocators: Arc<Allocators>) -> Resource {
    let strategy = Arc::new(ServiceStrategy { allocators });
    Resource { status_subresource: true, ..KIND.resource(strategy, table()) }
}

/// Service rules, with the server's allocators.
#[derive(Debug, Clone, Default)]
pub struct ServiceStrategy {
    pub allocators: Arc<Allocators>,
}

fn service_type(svc: &Value) -> &str {
    str_at(svc, "/spec/type")
}

fn is_headless(svc: &Value) -> bool {
    str_at(svc, "/spec/clusterIP") == "None"
}

fn needs_cluster_ip(svc: &Value) -> bool {
    service_type(svc) != "ExternalName"
}

/// NodePort services, and LoadBalancers that did not opt out of node ports.
fn needs_node_ports(svc: &Value) -> bool {
    match service_type(svc) {
        "NodePort" => true,
        "LoadBalancer" => {
            svc.pointer("/spec/allocateLoadBalancerNodePorts").and_then(Value::as_bool)
                != Some(false)
        }
        _ => false,
    }
}

fn needs_health_check_port(svc: &Value) -> bool {
    service_type(svc) == "LoadBalancer" && str_at(svc, "/spec/externalTrafficPolicy") == "Local"
}

/// kube's `ExternallyAccessible`.
fn externally_accessible(svc: &Value) -> bool {
    match service_type(svc) {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => !array_at(svc, "/spec/externalIPs").is_empty(),
        _ => false,
    }
}

/// kube's `SetDefaults_Service`: affinity, type, ports, then the traffic policies of
/// [`default_traffic_policies`].
fn default_service(svc: &mut Value) {
    default_spec(svc);
    default_traffic_policies(svc);
}

/// The type-independent part of `SetDefaults_Service`.
fn default_spec(svc: &mut Value) {
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    default_string(spec, "sessionAffinity", "None");
    match spec.get("sessionAffinity").and_then(Value::as_str) {
        Some("None") => {
            spec.shift_remove("sessionAffinityConfig");
        }
        Some("ClientIP") => {
            let timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.pointer("/clientIP/timeoutSeconds"));
            if timeout.is_none_or(Value::is_null) {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_TIMEOUT}}),
                );
            }
        }
        _ => {}
    }
    default_string(spec, "type", "ClusterIP");
    for port in object_items_mut(spec, "ports") {
        default_string(port, "protocol", "TCP");
        let target = port.get("targetPort");
        let unset = matches!(target, None | Some(Value::Null))
            || target == Some(&json!(0))
            || target == Some(&json!(""));
        if unset && let Some(number) = port.get("port").cloned() {
            port.insert("targetPort".into(), number);
        }
    }
}

/// The part of `SetDefaults_Service` that depends on the type: the external traffic policy of
/// an externally accessible Service, the internal one, and a load balancer's node ports.
fn default_traffic_policies(svc: &mut Value) {
    let accessible = externally_accessible(svc);
    let kind = service_type(svc).to_owned();
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if accessible {
        default_string(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        default_value(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        default_value(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

/// What kube's REST layer sets once it has decided the type (after field management, so that
/// nobody owns it): the IP family policy and families; then the traffic policies again, for a
/// type that dropping its old fields left without them.
fn default_type_dependent(svc: &mut Value) {
    default_traffic_policies(svc);
    let kind = service_type(svc).to_owned();
    let headless_without_selector = is_headless(svc)
        && svc.pointer("/spec/selector").and_then(Value::as_object).is_none_or(Map::is_empty);
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        let policy = if headless_without_selector { "RequireDualStack" } else { "SingleStack" };
        default_value(spec, "ipFamilyPolicy", json!(policy));
        let families =
            spec.get("ipFamilies").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
        if !families {
            spec.insert("ipFamilies".into(), json!(["IPv4"]));
        }
    }
}

/// Whether `svc` is `default/kubernetes`, whose address is the cluster IP range's first.
fn is_kubernetes_service(svc: &Value) -> bool {
    object::namespace(svc) == Some(super::system::kubernetes::NAMESPACE)
        && object::name(svc) == Some(super::system::kubernetes::NAME)
}

/// Another Service asking for the `kubernetes` Service's address (the range's first), which is
/// refused as taken even while that Service is being recreated. One that holds it already
/// (stored before the address was reserved) keeps it.
fn taken_from_kubernetes(svc: &Value, allocators: &Allocators, uid: &str, ip: Ipv4Addr) -> bool {
    allocators.reserved_for_kubernetes(ip)
        && !is_kubernetes_service(svc)
        && !allocators.holds(uid, Alloc::Ip(IpAddr::V4(ip)))
}

/// Assigns what a service of its type needs and does not have — cluster IPs (`None` stays
/// headless), node ports and the health-check node port — and claims what it asks for, all for
/// its uid. A requested value another Service holds is left unclaimed: validation refuses it.
fn allocate(svc: &mut Value, allocators: &Allocators) {
    let uid = object::uid(svc).unwrap_or_default().to_owned();
    let is_kubernetes = is_kubernetes_service(svc);
    let needs_ip = needs_cluster_ip(svc);
    let needs_ports = needs_node_ports(svc);
    let needs_health = needs_health_check_port(svc);
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if needs_ip {
        let mut ip = spec.get("clusterIP").and_then(Value::as_str).unwrap_or("").to_owned();
        let first = spec
            .get("clusterIPs")
            .and_then(|ips| ips.get(0))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if ip.is_empty() && !first.is_empty() {
            ip = first;
        }
        if ip.is_empty() {
            if let Some(chosen) = allocators.allocate_ip(&uid) {
                ip = chosen.to_string();
            }
        } else if let Ok(IpAddr::V4(requested)) = ip.parse::<IpAddr>()
            && allocators.ip_range().contains(requested)
            && (is_kubernetes || !allocators.reserved_for_kubernetes(requested))
        {
            allocators.claim(&uid, Alloc::Ip(IpAddr::V4(requested)));
        }
        if !ip.is_empty() {
            spec.insert("clusterIP".into(), ip.clone().into());
            if spec.get("clusterIPs").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                spec.insert("clusterIPs".into(), json!([ip]));
            }
        }
    }
    let range = allocators.port_range();
    let mut taken: BTreeSet<i64> = BTreeSet::new();
    let mut requested: Vec<i64> = Vec::new();
    for port in object_items_mut(spec, "ports") {
        if let Some(n) = port.get("nodePort").and_then(Value::as_i64).filter(|n| *n != 0) {
            taken.insert(n);
            requested.push(n);
        }
    }
    let health = spec.get("healthCheckNodePort").and_then(Value::as_i64).unwrap_or(0);
    if health != 0 {
        taken.insert(health);
        requested.push(health);
    }
    for n in requested.into_iter().filter(|n| range.contains(*n)) {
        allocators.claim(&uid, Alloc::Port(n));
    }
    if needs_ports {
        for port in object_items_mut(spec, "ports") {
            if port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) == 0
                && let Some(chosen) = allocators.allocate_port(&uid, &taken)
            {
                taken.insert(chosen);
                port.insert("nodePort".into(), chosen.into());
            }
        }
    }
    if needs_health
        && health == 0
        && let Some(chosen) = allocators.allocate_port(&uid, &taken)
    {
        spec.insert("healthCheckNodePort".into(), chosen.into());
    }
}

/// What a stored Service holds: its cluster IPs and node ports.
pub fn held(svc: &Value) -> BTreeSet<Alloc> {
    let mut held: BTreeSet<Alloc> = array_at(svc, "/spec/clusterIPs")
        .iter()
        .chain(svc.pointer("/spec/clusterIP"))
        .filter_map(|ip| ip.as_str()?.parse::<IpAddr>().ok())
        .map(Alloc::Ip)
        .collect();
    let ports = array_at(svc, "/spec/ports").iter().filter_map(|p| p.get("nodePort"));
    for port in ports.chain(svc.pointer("/spec/healthCheckNodePort")) {
        if let Some(n) = port.as_i64().filter(|n| *n != 0) {
            held.insert(Alloc::Port(n));
        }
    }
    held
}

impl Strategy for ServiceStrategy {
    /// kube-apiserver's services storage sets `ReturnDeletedObject`.
    fn return_deleted_object(&self) -> bool {
        true
    }

    fn set_defaults(&self, svc: &mut Value) {
        default_service(svc);
    }

    fn prepare_for_create(&self, svc: &mut Value) {
        default_type_dependent(svc);
        allocate(svc, &self.allocators);
        if let Some(map) = svc.as_object_mut() {
            map.insert("status".into(), json!({"loadBalancer": {}}));
        }
    }

    fn prepare_for_update(&self, svc: &mut Value, old: &Value) {
        keep_allocations(svc, old);
        drop_type_dependent_fields(svc, old);
        default_type_dependent(svc);
        allocate(svc, &self.allocators);
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    /// A deleted Service's IPs and ports are free at once (the Services' view confirms it).
    fn deleted(&self, svc: &Value) {
        if let Some(uid) = object::uid(svc) {
            self.allocators.forget_deleted(uid);
        }
    }

    /// The claims of a create that stored nothing are freed at once.
    fn create_abandoned(&self, svc: &Value) {
        if let Some(uid) = object::uid(svc) {
            self.allocators.abandon(uid);
        }
    }

    fn validate(&self, svc: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if opt_object(svc, "spec", "spec", &mut causes).is_none() {
            if svc.get("spec").is_none_or(Value::is_null) {
                causes.push(FieldCause::required("spec.ports", ""));
            }
            return causes;
        }
        validate_spec(svc, &self.allocators, &mut causes);
        causes
    }

    fn validate_update(&self, svc: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if needs_cluster_ip(svc) && needs_cluster_ip(old) && !(is_headless(svc) && is_headless(old))
        {
            let new_ips = array_at(svc, "/spec/clusterIPs");
            let old_ips = array_at(old, "/spec/clusterIPs");
            let rendered = go_string_slice(svc.pointer("/spec/clusterIPs"));
            if new_ips.is_empty() && !old_ips.is_empty() {
                causes.push(invalid_rendered(
                    "spec.clusterIPs[0]",
                    &rendered,
                    "primary clusterIP can not be unset",
                ));
            }
            for (i, (new_ip, old_ip)) in new_ips.iter().zip(old_ips).enumerate() {
                if new_ip != old_ip {
                    causes.push(invalid_rendered(
                        format!("spec.clusterIPs[{i}]"),
                        &rendered,
                        "may not change once set",
                    ));
                }
            }
        }
        causes.extend(self.validate(svc));
        causes
    }

    fn name_validator(&self) -> NameValidator {
        name_is_dns1035_label
    }

    fn selectable_fields(&self, svc: &Value) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("spec.clusterIP".to_owned(), str_at(svc, "/spec/clusterIP").to_owned()),
            ("spec.type".to_owned(), service_type(svc).to_owned()),
        ])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["spec.clusterIP", "spec.type"]
    }
}

/// kube's `patchAllocatedValues`: an update that leaves out the cluster IP or node ports (as
/// `kubectl apply` does) keeps the ones the service has.
fn keep_allocations(svc: &mut Value, old: &Value) {
    let old_needs_ip = needs_cluster_ip(old);
    let old_needs_ports = needs_node_ports(old);
    let old_needs_health = needs_health_check_port(old);
    let new_needs_ip = needs_cluster_ip(svc);
    let new_needs_ports = needs_node_ports(svc);
    let new_needs_health = needs_health_check_port(svc);
    let old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if old_needs_ip && new_needs_ip {
        if spec.get("clusterIP").and_then(Value::as_str).unwrap_or("").is_empty()
            && let Some(ip) = old_spec.get("clusterIP")
        {
            spec.insert("clusterIP".into(), ip.clone());
        }
        if spec.get("clusterIPs").and_then(Value::as_array).is_none_or(Vec::is_empty)
            && let Some(ips) = old_spec.get("clusterIPs")
        {
            spec.insert("clusterIPs".into(), ips.clone());
        }
        for field in ["ipFamilies", "ipFamilyPolicy"] {
            if spec.get(field).is_none_or(Value::is_null)
                && let Some(value) = old_spec.get(field)
            {
                spec.insert(field.into(), value.clone());
            }
        }
    }
    if old_needs_ports && new_needs_ports {
        let by_name: BTreeMap<&str, i64> = array_at(&old_spec, "/ports")
            .iter()
            .map(|p| (str_at(p, "/name"), p.get("nodePort").and_then(Value::as_i64).unwrap_or(0)))
            .collect();
        let used: BTreeSet<i64> = object_items_mut(spec, "ports")
            .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
            .filter(|n| *n != 0)
            .collect();
        for port in object_items_mut(spec, "ports") {
            if port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) == 0 {
                let name = port.get("name").and_then(Value::as_str).unwrap_or("");
                if let Some(old_port) = by_name.get(name).filter(|n| **n != 0 && !used.contains(n))
                {
                    port.insert("nodePort".into(), (*old_port).into());
                }
            }
        }
    }
    if old_needs_health && new_needs_health {
        let missing = spec.get("healthCheckNodePort").and_then(Value::as_i64).unwrap_or(0) == 0;
        if let (true, Some(port)) = (missing, old_spec.get("healthCheckNodePort")) {
            spec.insert("healthCheckNodePort".into(), port.clone());
        }
    }
}

/// kube's `dropTypeDependentFields`: allocations the new type no longer needs are released —
/// when the client left them as they were.
fn drop_type_dependent_fields(svc: &mut Value, old: &Value) {
    let drop_ip = needs_cluster_ip(old) && !needs_cluster_ip(svc);
    let drop_ports = needs_node_ports(old) && !needs_node_ports(svc);
    let drop_health = needs_health_check_port(old) && !needs_health_check_port(svc);
    let old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if drop_ip && spec.get("clusterIP") == old_spec.get("clusterIP") {
        for field in
            ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"]
        {
            if spec.get(field) == old_spec.get(field) {
                spec.shift_remove(field);
            }
        }
    }
    if drop_ports {
        let old_ports: Vec<i64> = array_at(&old_spec, "/ports")
            .iter()
            .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
            .collect();
        for port in object_items_mut(spec, "ports") {
            if port.get("nodePort").and_then(Value::as_i64).is_some_and(|n| old_ports.contains(&n))
            {
                port.shift_remove("nodePort");
            }
        }
    }
    if drop_health && spec.get("healthCheckNodePort") == old_spec.get("healthCheckNodePort") {
        spec.shift_remove("healthCheckNodePort");
    }
    if !externally_accessible_spec(spec)
        && spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy")
    {
        spec.shift_remove("externalTrafficPolicy");
    }
}

fn externally_accessible_spec(spec: &Map<String, Value>) -> bool {
    externally_accessible(&json!({"spec": {
        "type": spec.get("type").cloned().unwrap_or(Value::Null),
        "externalIPs": spec.get("externalIPs").cloned().unwrap_or(Value::Null),
    }}))
}

/// Go's `%#v` of the `core.ServicePort` key kube uses to find duplicate ports.
fn go_service_port_key(protocol: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, \
         TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        go_quote(protocol)
    )
}

fn validate_spec(svc: &Value, allocators: &Allocators, causes: &mut Vec<FieldCause>) {
    let spec = &svc["spec"];
    let uid = object::uid(svc).unwrap_or_default();
    let (ip_range, port_range) = (allocators.ip_range(), allocators.port_range());
    let kind = opt_str(spec, "type", "spec.type", causes).unwrap_or("");
    let cluster_ip = opt_str(spec, "clusterIP", "spec.clusterIP", causes).unwrap_or("");
    let headless = cluster_ip == "None";
    let ports = opt_array(spec, "ports", "spec.ports", causes);
    let ports_unset = spec.get("ports").is_none_or(|p| p.is_null() || p.is_array());
    if ports.is_empty() && ports_unset && !headless && kind != "ExternalName" {
        causes.push(FieldCause::required("spec.ports", ""));
    }
    match kind {
        "LoadBalancer" => {
            for (i, port) in ports.iter().enumerate() {
                if port.get("port").and_then(Value::as_i64) == Some(KUBELET_PORT) {
                    causes.push(FieldCause::invalid(
                        format!("spec.ports[{i}]"),
                        KUBELET_PORT,
                        &format!(
                            "may not expose port {KUBELET_PORT} externally since it is used by \
                             kubelet"
                        ),
                    ));
                }
            }
            if headless {
                causes.push(FieldCause::invalid(
                    "spec.clusterIP",
                    cluster_ip,
                    "may not be set to 'None' for LoadBalancer services",
                ));
            }
        }
        "NodePort" if headless => causes.push(FieldCause::invalid(
            "spec.clusterIP",
            cluster_ip,
            "may not be set to 'None' for NodePort services",
        )),
        "ExternalName" => {
            if !cluster_ip.is_empty() {
                causes.push(FieldCause::forbidden(
                    "spec.clusterIP",
                    "must be empty for ExternalName services",
                ));
            }
            match opt_str(spec, "externalName", "spec.externalName", causes) {
                None | Some("") => causes.push(FieldCause::required("spec.externalName", "")),
                Some(name) => {
                    let name = name.strip_suffix('.').unwrap_or(name);
                    for msg in is_dns1123_subdomain(name) {
                        causes.push(FieldCause::invalid("spec.externalName", name, &msg));
                    }
                }
            }
        }
        _ => {}
    }

    let mut names = BTreeSet::new();
    let mut node_ports: BTreeSet<(String, i64)> = BTreeSet::new();
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    let require_names = ports.len() > 1;
    for (i, port) in object_items(ports, "spec.ports", causes) {
        let path = format!("spec.ports[{i}]");
        let name_path = format!("{path}.name");
        match opt_str(port, "name", &name_path, causes).unwrap_or("") {
            "" if require_names => causes.push(FieldCause::required(name_path, "")),
            "" => {}
            name => {
                for msg in is_dns1123_label(name) {
                    causes.push(FieldCause::invalid(name_path.clone(), name, &msg));
                }
                if !names.insert(name.to_owned()) {
                    causes.push(FieldCause::duplicate(name_path, name));
                }
            }
        }
        let number_path = format!("{path}.port");
        let number = opt_int(port, "port", &number_path, causes).unwrap_or(0);
        for msg in is_valid_port_num(number) {
            causes.push(FieldCause::invalid(number_path.clone(), number, &msg));
        }
        validate_protocol(port, &format!("{path}.protocol"), causes);
        let protocol = str_at(port, "/protocol").to_owned();
        let target_path = format!("{path}.targetPort");
        match port.get("targetPort") {
            Some(Value::Number(n)) => {
                let n = n.as_i64().unwrap_or(0);
                for msg in is_valid_port_num(n) {
                    causes.push(FieldCause::invalid(target_path.clone(), n, &msg));
                }
            }
            Some(Value::String(name)) => {
                for msg in is_valid_port_name(name) {
                    causes.push(FieldCause::invalid(target_path.clone(), name.as_str(), &msg));
                }
            }
            None | Some(Value::Null) => {}
            Some(other) => causes.push(FieldCause::type_invalid(
                target_path,
                other.clone(),
                "must be an integer or a string",
            )),
        }
        let node_port_path = format!("{path}.nodePort");
        let node_port = opt_int(port, "nodePort", &node_port_path, causes).unwrap_or(0);
        if node_port != 0 {
            if kind == "ClusterIP" {
                causes.push(FieldCause::forbidden(
                    node_port_path.clone(),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else if !port_range.contains(node_port) {
                causes.push(FieldCause::invalid(
                    node_port_path.clone(),
                    node_port,
                    &format!(
                        "provided port is not in the valid range. The range of valid ports is \
                         {port_range}"
                    ),
                ));
            } else if allocators.held_by_other(uid, Alloc::Port(node_port)) {
                causes.push(FieldCause::invalid(
                    node_port_path.clone(),
                    node_port,
                    "provided port is already allocated",
                ));
            }
            if !node_ports.insert((protocol.clone(), node_port)) {
                causes.push(FieldCause::duplicate(node_port_path, node_port));
            }
        }
        if !seen.insert((protocol.clone(), number)) {
            causes.push(FieldCause {
                field: path,
                reason: crate::meta::validation::CauseType::FieldValueDuplicate,
                message: format!("Duplicate value: {}", go_service_port_key(&protocol, number)),
            });
        }
    }

    let selector = opt_string_map(spec, "selector", "spec.selector", causes);
    causes.extend(validate_labels(selector, "spec.selector"));

    match opt_str(spec, "sessionAffinity", "spec.sessionAffinity", causes) {
        None | Some("") => causes.push(FieldCause::required("spec.sessionAffinity", "")),
        Some(a) if !SESSION_AFFINITIES.contains(&a) => {
            causes.push(FieldCause::not_supported("spec.sessionAffinity", a, SESSION_AFFINITIES))
        }
        Some("ClientIP") => {
            let timeout_path = "spec.sessionAffinityConfig.clientIP.timeoutSeconds";
            match spec
                .pointer("/sessionAffinityConfig/clientIP/timeoutSeconds")
                .and_then(Value::as_i64)
            {
                None => causes.push(FieldCause::required(timeout_path, "")),
                Some(t) if t <= 0 || t > MAX_CLIENT_IP_TIMEOUT => causes.push(FieldCause::invalid(
                    timeout_path,
                    t,
                    &format!("must be greater than 0 and less than {MAX_CLIENT_IP_TIMEOUT}"),
                )),
                Some(_) => {}
            }
        }
        Some(_) => {}
    }

    if cluster_ip.is_empty() && needs_cluster_ip(svc) {
        // Nothing was free. kube answers a 500 in these words; a strategy refuses with a cause.
        causes.push(invalid_rendered(
            "spec.clusterIPs",
            "[]string(nil)",
            "failed to allocate a serviceIP: range is full",
        ));
    }
    if !cluster_ip.is_empty() && !headless {
        match cluster_ip.parse::<IpAddr>() {
            Err(_) => causes.push(FieldCause::invalid(
                "spec.clusterIP",
                cluster_ip,
                "must be empty, 'None', or a valid IP address",
            )),
            Ok(IpAddr::V4(ip)) if !ip_range.contains(ip) => causes.push(invalid_rendered(
                "spec.clusterIPs",
                &go_string_slice(spec.get("clusterIPs")),
                &format!(
                    "failed to allocate IP {ip}: provided IP ({ip}) is not in the valid range. The \
                     range of valid IPs is {ip_range}"
                ),
            )),
            Ok(IpAddr::V4(ip))
                if allocators.held_by_other(uid, Alloc::Ip(IpAddr::V4(ip)))
                    || taken_from_kubernetes(svc, allocators, uid, ip) =>
            {
                causes.push(invalid_rendered(
                    "spec.clusterIPs",
                    &go_string_slice(spec.get("clusterIPs")),
                    &format!("failed to allocate IP {ip}: provided IP is already allocated"),
                ))
            }
            Ok(IpAddr::V6(ip)) => causes.push(invalid_rendered(
                "spec.clusterIPs",
                &go_string_slice(spec.get("clusterIPs")),
                &format!("failed to allocate IP {ip}: IPv6 is not configured on this cluster"),
            )),
            Ok(_) => {}
        }
    }
    let ips = array_at(spec, "/clusterIPs");
    if let Some(first) = ips.first().and_then(Value::as_str)
        && !cluster_ip.is_empty()
        && first != cluster_ip
    {
        causes.push(invalid_rendered(
            "spec.clusterIPs",
            &go_string_slice(spec.get("clusterIPs")),
            "first value must match `clusterIP`",
        ));
    }
    let external_ips = opt_array(spec, "externalIPs", "spec.externalIPs", causes);
    for (i, ip) in external_ips.iter().enumerate() {
        let text = ip.as_str().unwrap_or("");
        if text.parse::<IpAddr>().is_err() {
            causes.push(FieldCause::invalid(
                format!("spec.externalIPs[{i}]"),
                text,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    match kind {
        "" => causes.push(FieldCause::required("spec.type", "")),
        k if !SERVICE_TYPES.contains(&k) => {
            causes.push(FieldCause::not_supported("spec.type", k, SERVICE_TYPES))
        }
        _ => {}
    }

    let etp = opt_str(spec, "externalTrafficPolicy", "spec.externalTrafficPolicy", causes);
    if !externally_accessible(svc) {
        if let Some(policy) = etp.filter(|p| !p.is_empty()) {
            causes.push(FieldCause::invalid(
                "spec.externalTrafficPolicy",
                policy,
                "may only be set for externally-accessible services",
            ));
        }
    } else {
        match etp {
            None | Some("") => causes.push(FieldCause::required("spec.externalTrafficPolicy", "")),
            Some(p) if !TRAFFIC_POLICIES.contains(&p) => causes.push(FieldCause::not_supported(
                "spec.externalTrafficPolicy",
                p,
                TRAFFIC_POLICIES,
            )),
            Some(_) => {}
        }
    }
    let itp = opt_str(spec, "internalTrafficPolicy", "spec.internalTrafficPolicy", causes);
    match itp {
        None if matches!(kind, "ClusterIP" | "NodePort" | "LoadBalancer") => {
            causes.push(FieldCause::required("spec.internalTrafficPolicy", ""))
        }
        Some(p) if !TRAFFIC_POLICIES.contains(&p) => causes.push(FieldCause::not_supported(
            "spec.internalTrafficPolicy",
            p,
            TRAFFIC_POLICIES,
        )),
        _ => {}
    }
    let health_path = "spec.healthCheckNodePort";
    if let Some(port) =
        opt_int(spec, "healthCheckNodePort", health_path, causes).filter(|p| *p != 0)
        && !needs_health_check_port(svc)
    {
        causes.push(FieldCause::invalid(
            health_path,
            port,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is \
                 'Local'",
        ));
    } else if let Some(port) = spec.get("healthCheckNodePort").and_then(Value::as_i64)
        && port != 0
        && port_range.contains(port)
        && allocators.held_by_other(uid, Alloc::Port(port))
    {
        causes.push(FieldCause::invalid(health_path, port, "provided port is already allocated"));
    }
    let policy = opt_str(spec, "ipFamilyPolicy", "spec.ipFamilyPolicy", causes);
    match policy {
        Some(p) if !IP_FAMILY_POLICIES.contains(&p) => {
            causes.push(FieldCause::not_supported("spec.ipFamilyPolicy", p, IP_FAMILY_POLICIES))
        }
        Some("RequireDualStack") if !headless => causes.push(FieldCause::invalid(
            "spec.ipFamilyPolicy",
            "RequireDualStack",
            "this cluster is not configured for dual-stack services",
        )),
        _ => {}
    }
    for (i, family) in opt_array(spec, "ipFamilies", "spec.ipFamilies", causes).iter().enumerate() {
        let path = format!("spec.ipFamilies[{i}]");
        match family.as_str() {
            Some("IPv4") => {}
            Some("IPv6") if !headless => {
                causes.push(FieldCause::invalid(path, "IPv6", "not configured on this cluster"))
            }
            Some("IPv6") => {}
            Some(other) => causes.push(FieldCause::not_supported(path, other, &["IPv4", "IPv6"])),
            None => causes.push(FieldCause::type_invalid(path, family.clone(), "must be a string")),
        }
    }
}

/// kube's `getServiceExternalIP` (as kube-apiserver prints, always "wide").
fn external_ip(svc: &Value) -> String {
    let external: Vec<&str> =
        array_at(svc, "/spec/externalIPs").iter().filter_map(Value::as_str).collect();
    match service_type(svc) {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_owned()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress: BTreeSet<&str> = array_at(svc, "/status/loadBalancer/ingress")
                .iter()
                .filter_map(|i| match (str_at(i, "/ip"), str_at(i, "/hostname")) {
                    ("", "") => None,
                    ("", host) => Some(host),
                    (ip, _) => Some(ip),
                })
                .collect();
            let mut all: Vec<&str> = ingress.into_iter().collect();
            if all.is_empty() && external.is_empty() {
                return "<pending>".to_owned();
            }
            all.extend(external);
            all.join(",")
        }
        "ExternalName" => str_at(svc, "/spec/externalName").to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

/// kube's `makePortString`.
fn ports(svc: &Value) -> String {
    let pieces: Vec<String> = array_at(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let protocol = str_at(p, "/protocol");
            match p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) {
                0 => format!("{port}/{protocol}"),
                node => format!("{port}:{node}/{protocol}"),
            }
        })
        .collect();
    if pieces.is_empty() { "<none>".to_owned() } else { pieces.join(",") }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Type",
                "string",
                0,
                &KIND.doc("/spec/type"),
                Cell::Computed(|svc| service_type(svc).into()),
            ),
            column(
                "Cluster-IP",
                "string",
                0,
                &KIND.doc("/spec/clusterIP"),
                Cell::Computed(|svc| match str_at(svc, "/spec/clusterIPs/0") {
                    "" => "<none>".into(),
                    ip => ip.into(),
                }),
            ),
            column(
                "External-IP",
                "string",
                0,
                &KIND.doc("/spec/externalIPs"),
                Cell::Computed(|svc| external_ip(svc).into()),
            ),
            column(
                "Port(s)",
                "string",
                0,
                &KIND.doc("/spec/ports"),
                Cell::Computed(|svc| ports(svc).into()),
            ),
            age_column(),
            column(
                "Selector",
                "string",
                1,
                &KIND.doc("/spec/selector"),
                Cell::Computed(|svc| format_labels(svc.pointer("/spec/selector")).into()),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use std::net::Ipv4Addr;

    fn created(spec: Value) -> Value {
        let mut svc = json!({"metadata": {"name": "web", "namespace": "default", "uid": "u-1"},
                             "spec": spec});
        ServiceStrategy::default().decoded_create(&mut svc);
        svc
    }

    #[test]
    fn cluster_ip_defaults_and_allocation() {
        let svc = created(json!({"selector": {"app": "web"}, "ports": [{"port": 80}]}));
        let spec = &svc["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["ports"][0], json!({"port": 80, "protocol": "TCP", "targetPort": 80}));
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert!(spec.get("externalTrafficPolicy").is_none());
        let ip: Ipv4Addr = spec["clusterIP"].as_str().unwrap().parse().unwrap();
        assert!(Allocators::default().ip_range().contains(ip));
        assert_ne!(ip, Ipv4Addr::new(10, 96, 0, 0));
        assert_ne!(ip, Ipv4Addr::new(10, 96, 0, 1));
        assert_eq!(spec["clusterIPs"], json!([ip.to_string()]));
        assert!(u32::from(ip) >= u32::from(Ipv4Addr::new(10, 96, 1, 0)), "the dynamic band");
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        assert!(
            ServiceStrategy::default().validate(&svc).is_empty(),
            "{:?}",
            ServiceStrategy::default().validate(&svc)
        );
    }

    #[test]
    fn headless_and_given_ips_are_kept() {
        let svc = created(json!({"clusterIP": "None", "selector": {"app": "db"}}));
        assert_eq!(svc["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(svc["spec"]["ipFamilyPolicy"], "SingleStack");
        assert!(ServiceStrategy::default().validate(&svc).is_empty());
        let bare = created(json!({"clusterIP": "None"}));
        assert_eq!(bare["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert!(ServiceStrategy::default().validate(&bare).is_empty());
        let given =
            created(json!({"clusterIP": "10.96.0.10", "ports": [{"port": 53, "protocol": "UDP"}]}));
        assert_eq!(given["spec"]["clusterIPs"], json!(["10.96.0.10"]));
        let outside = created(json!({"clusterIP": "192.168.0.1", "ports": [{"port": 1}]}));
        assert_eq!(
            text(&ServiceStrategy::default().validate(&outside)),
            ["spec.clusterIPs: Invalid value: []string{\"192.168.0.1\"}: failed to allocate IP \
              192.168.0.1: provided IP (192.168.0.1) is not in the valid range. The range of valid \
              IPs is 10.96.0.0/12"]
        );
    }

    #[test]
    fn node_ports_are_allocated_in_range() {
        let svc = created(json!({"type": "NodePort", "ports": [
            {"name": "http", "port": 80}, {"name": "https", "port": 443, "nodePort": 30443}]}));
        let first = svc["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
        assert!((30000..=32767).contains(&first));
        assert_ne!(first, 30443);
        assert_eq!(svc["spec"]["ports"][1]["nodePort"], 30443);
        assert_eq!(svc["spec"]["externalTrafficPolicy"], "Cluster");
        assert!(ServiceStrategy::default().validate(&svc).is_empty());
        let lb = created(json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                                "ports": [{"port": 80}]}));
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        assert!(lb["spec"]["ports"][0]["nodePort"].as_i64().is_some());
        assert!(lb["spec"]["healthCheckNodePort"].as_i64().is_some());
        assert!(ServiceStrategy::default().validate(&lb).is_empty());
    }

    #[test]
    fn updates_keep_allocations_and_cluster_ips_are_immutable() {
        let old = created(json!({"type": "NodePort", "ports": [{"name": "http", "port": 80}]}));
        let mut new = json!({"metadata": old["metadata"].clone(),
                             "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80}]}});
        ServiceStrategy::default().decoded_update(&mut new, &old);
        assert_eq!(new["spec"]["clusterIP"], old["spec"]["clusterIP"]);
        assert_eq!(new["spec"]["ports"][0]["nodePort"], old["spec"]["ports"][0]["nodePort"]);
        assert!(ServiceStrategy::default().validate_update(&new, &old).is_empty());

        let mut moved = new.clone();
        moved["spec"]["clusterIP"] = "10.96.0.99".into();
        moved["spec"]["clusterIPs"] = json!(["10.96.0.99"]);
        assert_eq!(
            text(&ServiceStrategy::default().validate_update(&moved, &old)),
            [
                "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.99\"}: may not change once set"
            ]
        );

        // Back to ClusterIP: the node ports the client left alone are released.
        let mut plain = new.clone();
        plain["spec"]["type"] = "ClusterIP".into();
        ServiceStrategy::default().decoded_update(&mut plain, &old);
        assert!(plain["spec"]["ports"][0].get("nodePort").is_none());
        assert!(plain["spec"].get("externalTrafficPolicy").is_none());
        assert!(ServiceStrategy::default().validate_update(&plain, &old).is_empty());
    }

    #[test]
    fn ports_are_checked() {
        let svc = created(json!({"ports": [
            {"port": 80, "targetPort": "Web"},
            {"name": "a", "port": 0, "protocol": "HTTP", "nodePort": 31000},
            {"name": "a", "port": 80}]}));
        assert_eq!(
            text(&ServiceStrategy::default().validate(&svc)),
            [
                "spec.ports[0].name: Required value",
                "spec.ports[0].targetPort: Invalid value: \"Web\": must contain only \
                 alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \
                 \"TCP\", \"UDP\"",
                "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                "spec.ports[2].name: Duplicate value: \"a\"",
                "spec.ports[2]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", \
                 AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, \
                 IntVal:0, StrVal:\"\"}, NodePort:0}",
            ]
        );
        let empty = created(json!({}));
        assert_eq!(
            text(&ServiceStrategy::default().validate(&empty)),
            ["spec.ports: Required value"]
        );
        let bad_type = created(json!({"type": "Magic", "ports": [{"port": 1}]}));
        assert_eq!(
            text(&ServiceStrategy::default().validate(&bad_type)),
            ["spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \
              \"ExternalName\", \"LoadBalancer\", \"NodePort\""]
        );
        let out_of_range =
            created(json!({"type": "NodePort", "ports": [{"port": 1, "nodePort": 80}]}));
        assert_eq!(
            text(&ServiceStrategy::default().validate(&out_of_range)),
            [
                "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. \
              The range of valid ports is 30000-32767"
            ]
        );
    }

    #[test]
    fn external_name_services() {
        let svc = created(json!({"type": "ExternalName", "externalName": "db.example.com"}));
        assert!(svc["spec"].get("clusterIP").is_none());
        assert!(svc["spec"].get("ipFamilies").is_none());
        assert!(ServiceStrategy::default().validate(&svc).is_empty());
        let bad = created(json!({"type": "ExternalName", "clusterIP": "10.96.0.5"}));
        assert_eq!(
            text(&ServiceStrategy::default().validate(&bad)),
            [
                "spec.clusterIP: Forbidden: must be empty for ExternalName services",
                "spec.externalName: Required value",
            ]
        );
    }

    #[test]
    fn names_are_dns1035_and_fields_selectable() {
        assert!(!ServiceStrategy::default().name_validator()("1web", false).is_empty());
        let svc = created(json!({"ports": [{"port": 80}]}));
        let fields = ServiceStrategy::default().selectable_fields(&svc);
        assert_eq!(fields["spec.type"], "ClusterIP");
        assert_eq!(fields["spec.clusterIP"], svc["spec"]["clusterIP"].as_str().unwrap());
        let r = resource();
        assert_eq!(r.key(Some("default"), "web"), "/services/specs/default/web");
        assert_eq!(r.categories, ["all"]);
    }

    #[test]
    fn table_cells() {
        let mut svc = created(json!({"type": "NodePort", "selector": {"app": "web", "tier": "fe"},
                                     "ports": [{"port": 80, "nodePort": 30080}, {"name": "dns", "port": 53, "protocol": "UDP"}]}));
        svc["spec"]["clusterIPs"] = json!(["10.96.0.20"]);
        let table = render_table(&table(), &[svc.clone()], Default::default(), Default::default());
        let cells = &table["rows"][0]["cells"];
        assert_eq!(cells[0], "web");
        assert_eq!(cells[1], "NodePort");
        assert_eq!(cells[2], "10.96.0.20");
        assert_eq!(cells[3], "<none>");
        let udp = svc["spec"]["ports"][1]["nodePort"].as_i64().unwrap();
        assert_eq!(cells[4], format!("80:30080/TCP,53:{udp}/UDP"));
        assert_eq!(cells[6], "app=web,tier=fe");
        let mut lb = svc.clone();
        lb["spec"]["type"] = "LoadBalancer".into();
        assert_eq!(external_ip(&lb), "<pending>");
        lb["status"]["loadBalancer"]["ingress"] =
            json!([{"ip": "203.0.113.9"}, {"hostname": "lb.example"}]);
        assert_eq!(external_ip(&lb), "203.0.113.9,lb.example");
    }
}
