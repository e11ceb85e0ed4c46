//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`): request bodies decoded into the
//! JSON kube's own encoding of the same object would give, and responses encoded as kube-apiserver
//! writes them.
//!
//! Every object is the 4 magic bytes `k8s\0`, then a `runtime.Unknown` message
//! `{typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4}`
//! whose `raw` is the object's own message.
//!
//! - **Decoding** ([`decode`], module `decode`) walks the wire format (`wire`) guided by the
//!   type's schema ([`crate::schema`]: field numbers, JSON names, types, Go-inlined structs, the
//!   zero rule) and renders what kube-apiserver's JSON would be: zero values of `omitempty`
//!   fields left out, set pointers kept, `metav1.Time` as RFC 3339, `IntOrString` as a number or
//!   string, `Quantity` as a string, `[]byte` as base64, `RawExtension` as its JSON.
//! - **Encoding** ([`encode_object`], [`encode_message`]) walks the type's schema
//!   ([`crate::schema`], `encode`) over the object's JSON, and `envelope` writes the wrappers:
//!   the object's `Unknown`, a list's `{metadata = 1, items = 2}`, a watch event's length-prefixed
//!   frame, and the `meta.k8s.io` `PartialObjectMetadata(List)` forms. Only built-in kinds have
//!   a protobuf encoding; custom resources are JSON, as in kube.
//!
//! ```text
//!   request body ─▶ decode ─▶ JSON object ─▶ registry ─▶ JSON object ─▶ encode ─▶ response body
//! ```

mod decode;
pub mod encode;
mod envelope;
mod wire;

use serde_json::{Map, Value};

use wire::{Reader, Wire};

/// The magic prefix of every Kubernetes protobuf object.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Nesting deeper than this is refused (only `RawExtension`s holding `k8s\0` objects recurse).
const MAX_DEPTH: usize = 32;

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with `k8s\0`.
    #[error(
        "not a Kubernetes protobuf object: the body does not start with the bytes \"k8s\\x00\""
    )]
    NotProtobuf,
    /// The envelope names a kind this server has no protobuf schema for.
    #[error("protobuf decoding is not supported for kind {kind:?} of apiVersion {api_version:?}")]
    UnknownKind { api_version: String, kind: String },
    /// A field number the schema does not know (newer client, or a type left out).
    #[error("unsupported field {number} of message {message}{}", at_path(path))]
    UnsupportedField { message: &'static str, number: u32, path: String },
    /// The envelope's `contentEncoding` or `contentType` is not plain protobuf.
    #[error("unsupported protobuf envelope: {0}")]
    UnsupportedEnvelope(String),
    /// Not valid protobuf, or values kube's JSON cannot show (a year past 9999, an
    /// `IntOrString` of unknown type, a `RawExtension` that is not JSON).
    #[error("malformed protobuf: {reason}{}", at_path(path))]
    Malformed { reason: String, path: String },
    /// An object this server cannot write as protobuf.
    #[error("encoding {kind} as protobuf: {source}")]
    Encode { kind: String, source: encode::EncodeError },
}

fn at_path(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" (at {path})") }
}

impl ProtobufError {
    fn malformed(reason: impl Into<String>) -> Self {
        ProtobufError::Malformed { reason: reason.into(), path: String::new() }
    }

    /// Prefixes the JSON path of the field the error happened in: `spec`, then
    /// `containers[0]`, … as the error bubbles up.
    fn within(mut self, name: &str, index: Option<usize>) -> Self {
        if let ProtobufError::UnsupportedField { path, .. }
        | ProtobufError::Malformed { path, .. } = &mut self
        {
            let mut prefix = name.to_owned();
            if let Some(index) = index {
                prefix.push_str(&format!("[{index}]"));
            }
            if !path.is_empty() && !path.starts_with('[') {
                prefix.push('.');
            }
            prefix.push_str(path);
            *path = prefix;
        }
        self
    }
}

pub use envelope::{list, list_meta, watch_frame};

/// The `meta.k8s.io` group of `PartialObjectMetadata` and `Status`' definitions.
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";

/// The definition of `kind` in `apiVersion`, when it has a protobuf encoding (a built-in kind).
fn definition(api_version: &str, kind: &str) -> Option<crate::schema::DefId> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let schemas = crate::schema::builtin();
    let id = schemas.by_gvk(group, version, kind).or_else(|| match (api_version, kind) {
        ("v1", "Status") => schemas.by_name(STATUS),
        // Registered in every group version (`meta.k8s.io/v1` too), as kube's scheme does.
        (_, "DeleteOptions") => schemas.by_name(DELETE_OPTIONS),
        _ => None,
    })?;
    schemas.get(id).proto.map(|_| id)
}

/// Whether `kind` of `apiVersion` can be written as protobuf: a built-in kind, as kube serves
/// protobuf for its own types and never for custom resources.
pub fn has_encoding(api_version: &str, kind: &str) -> bool {
    definition(api_version, kind).is_some()
}

/// An object's own message (no envelope): a list item. The kind and apiVersion are the
/// arguments', not the object's (a list's items may leave theirs out).
pub fn encode_message(
    api_version: &str,
    kind: &str,
    object: &Value,
) -> Result<Vec<u8>, ProtobufError> {
    let Value::Object(object) = object else {
        return Err(ProtobufError::UnknownKind {
            api_version: api_version.into(),
            kind: kind.into(),
        });
    };
    if kind == "PartialObjectMetadata" && api_version.starts_with("meta.k8s.io/") {
        return partial_message(object);
    }
    let id = definition(api_version, kind).ok_or_else(|| ProtobufError::UnknownKind {
        api_version: api_version.into(),
        kind: kind.into(),
    })?;
    let mut buf = Vec::new();
    encode::message(&mut buf, id, object, 0)
        .map_err(|source| ProtobufError::Encode { kind: kind.into(), source })?;
    Ok(buf)
}

/// `PartialObjectMetadata{metadata = 1}`.
fn partial_message(object: &Map<String, Value>) -> Result<Vec<u8>, ProtobufError> {
    let mut buf = Vec::new();
    if let (Some(Value::Object(meta)), Some(id)) =
        (object.get("metadata"), crate::schema::builtin().by_name(OBJECT_META))
    {
        let start = wire::begin(&mut buf, 1);
        encode::message(&mut buf, id, meta, 1).map_err(|source| ProtobufError::Encode {
            kind: "PartialObjectMetadata".into(),
            source,
        })?;
        wire::end(&mut buf, start);
    }
    Ok(buf)
}

/// A response document as kube writes it in protobuf: an object, or a list (`…List` with
/// `items`), in its `k8s\0` envelope, by the document's own `apiVersion` and `kind`.
pub fn encode_object(document: &Value) -> Result<Vec<u8>, ProtobufError> {
    let text = |name: &str| document.get(name).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if let (Some(item_kind), Some(Value::Array(items))) =
        (kind.strip_suffix("List"), document.get("items"))
    {
        let meta = match document.get("metadata") {
            Some(Value::Object(meta)) => list_meta(meta),
            _ => list_meta(&Map::new()),
        };
        let items = items
            .iter()
            .map(|item| encode_message(api_version, item_kind, item))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(list(api_version, kind, &meta, items.iter().map(Vec::as_slice)));
    }
    let raw = encode_message(api_version, kind, document)?;
    Ok(envelope::object(api_version, kind, &raw))
}

/// Decodes a `k8s\0`-prefixed protobuf body into the object's JSON, `apiVersion` and `kind`
/// included.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    decode_at(body, 0).map(Value::Object)
}

fn decode_at(body: &[u8], depth: usize) -> Result<Map<String, Value>, ProtobufError> {
    let raw = body.strip_prefix(MAGIC).ok_or(ProtobufError::NotProtobuf)?;
    let envelope = Envelope::parse(raw)?;
    if !envelope.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEnvelope(format!(
            "content encoding {:?}",
            envelope.content_encoding
        )));
    }
    let mut object = match envelope.content_type.as_str() {
        "" | "application/vnd.kubernetes.protobuf" => {
            let id = definition(&envelope.api_version, &envelope.kind).ok_or_else(|| {
                ProtobufError::UnknownKind {
                    api_version: envelope.api_version.clone(),
                    kind: envelope.kind.clone(),
                }
            })?;
            decode::message(id, envelope.raw, depth)?
        }
        "application/json" => match serde_json::from_slice(envelope.raw) {
            Ok(Value::Object(object)) => object,
            _ => return Err(ProtobufError::malformed("the raw object is not a JSON object")),
        },
        other => {
            return Err(ProtobufError::UnsupportedEnvelope(format!("content type {other:?}")));
        }
    };
    // The envelope's type wins over anything the raw object claimed, as in kube.
    if !envelope.api_version.is_empty() {
        object.insert("apiVersion".into(), Value::String(envelope.api_version));
    }
    if !envelope.kind.is_empty() {
        object.insert("kind".into(), Value::String(envelope.kind));
    }
    Ok(object)
}

/// `runtime.Unknown`, flattened.
#[derive(Debug, Default)]
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

impl<'a> Envelope<'a> {
    fn parse(buf: &'a [u8]) -> Result<Self, ProtobufError> {
        let mut envelope = Envelope::default();
        let mut reader = Reader::new(buf);
        while let Some((number, wire)) = reader.next_field().map_err(ProtobufError::malformed)? {
            let bytes = |wire| match wire {
                Wire::Bytes(bytes) => Ok(bytes),
                other => Err(wire_mismatch(UNKNOWN, number, other)),
            };
            match number {
                1 => {
                    let mut type_meta = Reader::new(bytes(wire)?);
                    while let Some((number, wire)) =
                        type_meta.next_field().map_err(ProtobufError::malformed)?
                    {
                        let Wire::Bytes(value) = wire else {
                            return Err(wire_mismatch(TYPE_META, number, wire));
                        };
                        match number {
                            1 => envelope.api_version = lossy(value),
                            2 => envelope.kind = lossy(value),
                            _ => return Err(unsupported(TYPE_META, number)),
                        }
                    }
                }
                2 => envelope.raw = bytes(wire)?,
                3 => envelope.content_encoding = lossy(bytes(wire)?),
                4 => envelope.content_type = lossy(bytes(wire)?),
                _ => return Err(unsupported(UNKNOWN, number)),
            }
        }
        Ok(envelope)
    }
}

const UNKNOWN: &str = "k8s.io.apimachinery.pkg.runtime.Unknown";
const TYPE_META: &str = "k8s.io.apimachinery.pkg.runtime.TypeMeta";
fn unsupported(message: &'static str, number: u32) -> ProtobufError {
    ProtobufError::UnsupportedField { message, number, path: String::new() }
}

fn wire_mismatch(message: &str, number: u32, wire: Wire<'_>) -> ProtobufError {
    ProtobufError::malformed(format!(
        "field {number} of message {message} has the wrong wire type ({})",
        wire.kind()
    ))
}

/// Go keeps strings' bytes as they are; its JSON encoder then replaces invalid UTF-8.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_pb::api::apps::v1 as apps;
    use k8s_pb::api::coordination::v1 as coordination;
    use k8s_pb::api::core::v1 as core;
    use k8s_pb::apimachinery::pkg::api::resource::Quantity;
    use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
    use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
    use prost::Message as _;
    use serde_json::json;

    use super::*;

    /// `k8s\0` + `runtime.Unknown` around `object`, as Go's protobuf serializer writes it.
    fn envelope(api_version: &str, kind: &str, object: &impl prost::Message) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(object.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        body
    }

    fn s(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn string_map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn quantities(entries: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), Quantity { string: s(v) })).collect()
    }

    fn int(value: i32) -> Option<IntOrString> {
        Some(IntOrString { r#type: Some(0), int_val: Some(value), str_val: None })
    }

    fn string(value: &str) -> Option<IntOrString> {
        Some(IntOrString { r#type: Some(1), int_val: None, str_val: s(value) })
    }

    fn at(seconds: i64) -> Option<meta::Time> {
        Some(meta::Time { seconds: Some(seconds), nanos: Some(0) })
    }

    /// 2024-01-02T03:04:05Z.
    const T0: i64 = 1_704_164_645;

    fn object_meta(name: &str) -> Option<meta::ObjectMeta> {
        Some(meta::ObjectMeta {
            name: s(name),
            namespace: s("default"),
            // What Go clients send for a zero `creationTimestamp`: an empty message.
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        })
    }

    #[test]
    fn config_map_with_binary_data_and_explicit_false() {
        let config_map = core::ConfigMap {
            metadata: Some(meta::ObjectMeta {
                name: s("cm"),
                namespace: s("default"),
                generate_name: s(""),
                labels: string_map(&[("app", "web")]),
                annotations: string_map(&[("note", "x")]),
                resource_version: s("42"),
                uid: s("0b4c5f9e-1111-2222-3333-444455556666"),
                generation: Some(0),
                creation_timestamp: at(T0),
                deletion_timestamp: at(T0 + 86_400 * 366),
                deletion_grace_period_seconds: Some(0),
                finalizers: strings(&["example.com/f"]),
                owner_references: vec![meta::OwnerReference {
                    api_version: s("apps/v1"),
                    kind: s("ReplicaSet"),
                    name: s("rs"),
                    uid: s("u"),
                    controller: Some(true),
                    block_owner_deletion: Some(false),
                }],
                managed_fields: vec![meta::ManagedFieldsEntry {
                    manager: s("kubectl"),
                    operation: s("Update"),
                    api_version: s("v1"),
                    time: at(T0),
                    fields_type: s("FieldsV1"),
                    fields_v1: Some(meta::FieldsV1 { raw: Some(br#"{"f:data":{}}"#.to_vec()) }),
                    subresource: s(""),
                }],
                ..Default::default()
            }),
            data: string_map(&[("a", "1"), ("empty", "")]),
            binary_data: [("bin".to_owned(), vec![0u8, 1, 2, 255])].into(),
            immutable: Some(false),
        };
        let got = decode(&envelope("v1", "ConfigMap", &config_map)).unwrap();
        assert_eq!(
            got,
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "cm",
                    "namespace": "default",
                    "labels": {"app": "web"},
                    "annotations": {"note": "x"},
                    "resourceVersion": "42",
                    "uid": "0b4c5f9e-1111-2222-3333-444455556666",
                    "creationTimestamp": "2024-01-02T03:04:05Z",
                    "deletionTimestamp": "2025-01-02T03:04:05Z",
                    "deletionGracePeriodSeconds": 0,
                    "finalizers": ["example.com/f"],
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u",
                        "controller": true, "blockOwnerDeletion": false
                    }],
                    "managedFields": [{
                        "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                        "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:data": {}}
                    }]
                },
                "data": {"a": "1", "empty": ""},
                "binaryData": {"bin": "AAEC/w=="},
                "immutable": false
            })
        );
    }

    #[test]
    fn secret_data_is_base64() {
        let secret = core::Secret {
            metadata: object_meta("s"),
            immutable: Some(true),
            data: [("user".to_owned(), b"admin".to_vec()), ("empty".to_owned(), vec![])].into(),
            string_data: string_map(&[("plain", "text")]),
            r#type: s("Opaque"),
        };
        assert_eq!(
            decode(&envelope("v1", "Secret", &secret)).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s", "namespace": "default"},
                "immutable": true,
                "data": {"user": "YWRtaW4=", "empty": ""},
                "stringData": {"plain": "text"},
                "type": "Opaque"
            })
        );
    }

    #[test]
    fn namespace_and_service_account() {
        let namespace = core::Namespace {
            metadata: Some(meta::ObjectMeta {
                name: s("ns"),
                creation_timestamp: Some(meta::Time::default()),
                ..Default::default()
            }),
            spec: Some(core::NamespaceSpec { finalizers: strings(&["kubernetes"]) }),
            status: Some(core::NamespaceStatus { phase: s("Active"), conditions: vec![] }),
        };
        assert_eq!(
            decode(&envelope("v1", "Namespace", &namespace)).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "ns"},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            })
        );

        let account = core::ServiceAccount {
            metadata: object_meta("sa"),
            secrets: vec![core::ObjectReference { name: s("token"), ..Default::default() }],
            image_pull_secrets: vec![core::LocalObjectReference { name: s("registry") }],
            automount_service_account_token: Some(false),
        };
        assert_eq!(
            decode(&envelope("v1", "ServiceAccount", &account)).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "sa", "namespace": "default"},
                "secrets": [{"name": "token"}],
                "imagePullSecrets": [{"name": "registry"}],
                "automountServiceAccountToken": false
            })
        );
    }

    #[test]
    fn service_with_int_or_string_ports() {
        let service = core::Service {
            metadata: object_meta("web"),
            spec: Some(core::ServiceSpec {
                ports: vec![
                    core::ServicePort {
                        name: s("http"),
                        protocol: s("TCP"),
                        port: Some(80),
                        target_port: string("http"),
                        node_port: Some(30080),
                        app_protocol: s("http"),
                    },
                    core::ServicePort {
                        name: s("metrics"),
                        protocol: s("TCP"),
                        port: Some(9090),
                        target_port: int(9091),
                        node_port: Some(0),
                        app_protocol: None,
                    },
                ],
                selector: string_map(&[("app", "web")]),
                cluster_ip: s("10.0.0.10"),
                cluster_ips: strings(&["10.0.0.10", "fd00::10"]),
                r#type: s("NodePort"),
                external_ips: strings(&["192.0.2.1"]),
                session_affinity: s("ClientIP"),
                session_affinity_config: Some(core::SessionAffinityConfig {
                    client_ip: Some(core::ClientIpConfig { timeout_seconds: Some(600) }),
                }),
                load_balancer_ip: s(""),
                external_name: s(""),
                external_traffic_policy: s("Local"),
                health_check_node_port: Some(0),
                publish_not_ready_addresses: Some(false),
                ip_families: strings(&["IPv4", "IPv6"]),
                ip_family_policy: s("PreferDualStack"),
                allocate_load_balancer_node_ports: Some(false),
                internal_traffic_policy: s("Cluster"),
                ..Default::default()
            }),
            status: Some(core::ServiceStatus::default()),
        };
        assert_eq!(
            decode(&envelope("v1", "Service", &service)).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "ports": [
                        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http",
                         "nodePort": 30080, "appProtocol": "http"},
                        {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": 9091}
                    ],
                    "selector": {"app": "web"},
                    "clusterIP": "10.0.0.10",
                    "clusterIPs": ["10.0.0.10", "fd00::10"],
                    "type": "NodePort",
                    "externalIPs": ["192.0.2.1"],
                    "sessionAffinity": "ClientIP",
                    "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
                    "externalTrafficPolicy": "Local",
                    "ipFamilies": ["IPv4", "IPv6"],
                    "ipFamilyPolicy": "PreferDualStack",
                    "allocateLoadBalancerNodePorts": false,
                    "internalTrafficPolicy": "Cluster",
                    "healthCheckNodePort": 0,
                    "publishNotReadyAddresses": false
                },
                "status": {}
            })
        );
    }

    fn container() -> core::Container {
        core::Container {
            name: s("app"),
            image: s("nginx:1.27"),
            command: strings(&["/bin/sh", "-c"]),
            args: strings(&["exec nginx"]),
            working_dir: s("/srv"),
            ports: vec![core::ContainerPort {
                name: s("http"),
                host_port: Some(0),
                container_port: Some(80),
                protocol: s("TCP"),
                host_ip: s(""),
            }],
            env: vec![
                core::EnvVar { name: s("A"), value: s("1"), value_from: None },
                core::EnvVar {
                    name: s("POD"),
                    value: None,
                    value_from: Some(core::EnvVarSource {
                        field_ref: Some(core::ObjectFieldSelector {
                            api_version: s("v1"),
                            field_path: s("metadata.name"),
                        }),
                        ..Default::default()
                    }),
                },
                core::EnvVar {
                    name: s("KEY"),
                    value: None,
                    value_from: Some(core::EnvVarSource {
                        secret_key_ref: Some(core::SecretKeySelector {
                            local_object_reference: Some(core::LocalObjectReference {
                                name: s("creds"),
                            }),
                            key: s("key"),
                            optional: Some(false),
                        }),
                        ..Default::default()
                    }),
                },
            ],
            env_from: vec![core::EnvFromSource {
                prefix: s("CM_"),
                config_map_ref: Some(core::ConfigMapEnvSource {
                    local_object_reference: Some(core::LocalObjectReference { name: s("cm") }),
                    optional: None,
                }),
                secret_ref: None,
            }],
            resources: Some(core::ResourceRequirements {
                limits: quantities(&[("cpu", "500m"), ("memory", "128Mi")]),
                requests: quantities(&[("cpu", "250m")]),
                claims: vec![],
            }),
            volume_mounts: vec![core::VolumeMount {
                name: s("data"),
                read_only: Some(true),
                mount_path: s("/data"),
                sub_path: s(""),
                ..Default::default()
            }],
            liveness_probe: Some(core::Probe {
                handler: Some(core::ProbeHandler {
                    http_get: Some(core::HttpGetAction {
                        path: s("/healthz"),
                        port: int(8080),
                        scheme: s("HTTP"),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                initial_delay_seconds: Some(0),
                period_seconds: Some(10),
                failure_threshold: Some(3),
                ..Default::default()
            }),
            readiness_probe: Some(core::Probe {
                handler: Some(core::ProbeHandler {
                    exec: Some(core::ExecAction { command: strings(&["cat", "/ready"]) }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            startup_probe: Some(core::Probe {
                handler: Some(core::ProbeHandler {
                    tcp_socket: Some(core::TcpSocketAction { port: string("http"), host: None }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            termination_message_path: s("/dev/termination-log"),
            termination_message_policy: s("File"),
            image_pull_policy: s("IfNotPresent"),
            security_context: Some(core::SecurityContext {
                capabilities: Some(core::Capabilities { add: vec![], drop: strings(&["ALL"]) }),
                privileged: Some(false),
                run_as_user: Some(0),
                run_as_non_root: Some(false),
                read_only_root_filesystem: Some(true),
                allow_privilege_escalation: Some(false),
                ..Default::default()
            }),
            stdin: Some(false),
            stdin_once: Some(false),
            tty: Some(true),
            ..Default::default()
        }
    }

    fn container_json() -> Value {
        json!({
            "name": "app",
            "image": "nginx:1.27",
            "command": ["/bin/sh", "-c"],
            "args": ["exec nginx"],
            "workingDir": "/srv",
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
            "env": [
                {"name": "A", "value": "1"},
                {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                    "fieldPath": "metadata.name"}}},
                {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "key",
                    "optional": false}}}
            ],
            "envFrom": [{"prefix": "CM_", "configMapRef": {"name": "cm"}}],
            "resources": {
                "limits": {"cpu": "500m", "memory": "128Mi"},
                "requests": {"cpu": "250m"}
            },
            "volumeMounts": [{"name": "data", "readOnly": true, "mountPath": "/data"}],
            "livenessProbe": {
                "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                "periodSeconds": 10,
                "failureThreshold": 3
            },
            "readinessProbe": {"exec": {"command": ["cat", "/ready"]}},
            "startupProbe": {"tcpSocket": {"port": "http"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
            "securityContext": {
                "capabilities": {"drop": ["ALL"]},
                "privileged": false,
                "runAsUser": 0,
                "runAsNonRoot": false,
                "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false
            },
            "tty": true
        })
    }

    fn pod_spec() -> core::PodSpec {
        core::PodSpec {
            volumes: vec![
                core::Volume {
                    name: s("data"),
                    volume_source: Some(core::VolumeSource {
                        empty_dir: Some(core::EmptyDirVolumeSource::default()),
                        ..Default::default()
                    }),
                },
                core::Volume {
                    name: s("cfg"),
                    volume_source: Some(core::VolumeSource {
                        config_map: Some(core::ConfigMapVolumeSource {
                            local_object_reference: Some(core::LocalObjectReference {
                                name: s("cm"),
                            }),
                            items: vec![core::KeyToPath {
                                key: s("a"),
                                path: s("a.txt"),
                                mode: Some(0o644),
                            }],
                            default_mode: Some(0o400),
                            optional: Some(true),
                        }),
                        ..Default::default()
                    }),
                },
                core::Volume {
                    name: s("host"),
                    volume_source: Some(core::VolumeSource {
                        host_path: Some(core::HostPathVolumeSource {
                            path: s("/var/log"),
                            r#type: s(""),
                        }),
                        ..Default::default()
                    }),
                },
                core::Volume {
                    name: s("claim"),
                    volume_source: Some(core::VolumeSource {
                        persistent_volume_claim: Some(core::PersistentVolumeClaimVolumeSource {
                            claim_name: s("pvc"),
                            read_only: Some(false),
                        }),
                        ..Default::default()
                    }),
                },
                core::Volume {
                    name: s("token"),
                    volume_source: Some(core::VolumeSource {
                        projected: Some(core::ProjectedVolumeSource {
                            sources: vec![core::VolumeProjection {
                                service_account_token: Some(core::ServiceAccountTokenProjection {
                                    audience: s("api"),
                                    expiration_seconds: Some(3600),
                                    path: s("token"),
                                }),
                                ..Default::default()
                            }],
                            default_mode: None,
                        }),
                        ..Default::default()
                    }),
                },
            ],
            init_containers: vec![core::Container {
                name: s("init"),
                image: s("busybox"),
                restart_policy: s("Always"),
                ..Default::default()
            }],
            containers: vec![container()],
            restart_policy: s("Always"),
            termination_grace_period_seconds: Some(0),
            dns_policy: s("ClusterFirst"),
            node_selector: string_map(&[("disk", "ssd")]),
            service_account_name: s("sa"),
            automount_service_account_token: Some(false),
            node_name: s(""),
            host_network: Some(false),
            host_pid: Some(true),
            security_context: Some(core::PodSecurityContext {
                run_as_user: Some(1000),
                fs_group: Some(2000),
                supplemental_groups: vec![3000, 4000],
                sysctls: vec![core::Sysctl { name: s("net.core.somaxconn"), value: s("1024") }],
                ..Default::default()
            }),
            image_pull_secrets: vec![core::LocalObjectReference { name: s("registry") }],
            scheduler_name: s("default-scheduler"),
            tolerations: vec![core::Toleration {
                key: s("node.kubernetes.io/not-ready"),
                operator: s("Exists"),
                value: s(""),
                effect: s("NoExecute"),
                toleration_seconds: Some(300),
            }],
            priority_class_name: s("high"),
            priority: Some(1000),
            enable_service_links: Some(true),
            affinity: Some(core::Affinity {
                node_affinity: Some(core::NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(core::NodeSelector {
                        node_selector_terms: vec![core::NodeSelectorTerm {
                            match_expressions: vec![core::NodeSelectorRequirement {
                                key: s("zone"),
                                operator: s("In"),
                                values: strings(&["a"]),
                            }],
                            match_fields: vec![],
                        }],
                    }),
                    preferred_during_scheduling_ignored_during_execution: vec![],
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod_spec_json() -> Value {
        json!({
            "volumes": [
                {"name": "data", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "cm", "items": [{"key": "a",
                    "path": "a.txt", "mode": 420}], "defaultMode": 256, "optional": true}},
                {"name": "host", "hostPath": {"path": "/var/log"}},
                {"name": "claim", "persistentVolumeClaim": {"claimName": "pvc"}},
                {"name": "token", "projected": {"sources": [{"serviceAccountToken": {
                    "audience": "api", "expirationSeconds": 3600, "path": "token"}}]}}
            ],
            "initContainers": [{"name": "init", "image": "busybox", "restartPolicy": "Always"}],
            "containers": [container_json()],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 0,
            "dnsPolicy": "ClusterFirst",
            "nodeSelector": {"disk": "ssd"},
            "serviceAccountName": "sa",
            "automountServiceAccountToken": false,
            "hostPID": true,
            "securityContext": {
                "runAsUser": 1000,
                "fsGroup": 2000,
                "supplementalGroups": [3000, 4000],
                "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]
            },
            "imagePullSecrets": [{"name": "registry"}],
            "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 300}],
            "priorityClassName": "high",
            "priority": 1000,
            "enableServiceLinks": true,
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In",
                    "values": ["a"]}]}]}}}
        })
    }

    #[test]
    fn pod_with_a_full_spec() {
        let pod = core::Pod {
            metadata: object_meta("web"),
            spec: Some(pod_spec()),
            status: Some(core::PodStatus {
                phase: s("Running"),
                start_time: at(T0),
                pod_ip: s("10.1.0.5"),
                conditions: vec![core::PodCondition {
                    r#type: s("Ready"),
                    status: s("True"),
                    last_probe_time: Some(meta::Time::default()),
                    last_transition_time: at(0),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        };
        assert_eq!(
            decode(&envelope("v1", "Pod", &pod)).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": pod_spec_json(),
                "status": {
                    "phase": "Running",
                    "startTime": "2024-01-02T03:04:05Z",
                    "podIP": "10.1.0.5",
                    "conditions": [{"type": "Ready", "status": "True",
                        "lastTransitionTime": "1970-01-01T00:00:00Z"}]
                }
            })
        );
    }

    #[test]
    fn deployment_with_zero_replicas_and_rolling_update() {
        let deployment = apps::Deployment {
            metadata: object_meta("web"),
            spec: Some(apps::DeploymentSpec {
                replicas: Some(0),
                selector: Some(meta::LabelSelector {
                    match_labels: string_map(&[("app", "web")]),
                    match_expressions: vec![meta::LabelSelectorRequirement {
                        key: s("tier"),
                        operator: s("NotIn"),
                        values: strings(&["db"]),
                    }],
                }),
                template: Some(core::PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta {
                        labels: string_map(&[("app", "web")]),
                        creation_timestamp: Some(meta::Time::default()),
                        ..Default::default()
                    }),
                    spec: Some(core::PodSpec {
                        containers: vec![core::Container {
                            name: s("app"),
                            image: s("nginx"),
                            resources: Some(core::ResourceRequirements::default()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                }),
                strategy: Some(apps::DeploymentStrategy {
                    r#type: s("RollingUpdate"),
                    rolling_update: Some(apps::RollingUpdateDeployment {
                        max_unavailable: int(0),
                        max_surge: string("25%"),
                    }),
                }),
                min_ready_seconds: Some(0),
                revision_history_limit: Some(0),
                paused: Some(false),
                progress_deadline_seconds: Some(600),
            }),
            status: Some(apps::DeploymentStatus {
                observed_generation: Some(0),
                replicas: Some(0),
                updated_replicas: Some(0),
                ..Default::default()
            }),
        };
        assert_eq!(
            decode(&envelope("apps/v1", "Deployment", &deployment)).unwrap(),
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "replicas": 0,
                    "selector": {
                        "matchLabels": {"app": "web"},
                        "matchExpressions": [{"key": "tier", "operator": "NotIn",
                            "values": ["db"]}]
                    },
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "app", "image": "nginx",
                            "resources": {}}]}
                    },
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}
                    },
                    // minReadySeconds and paused are Go values with omitempty (a Go
                    // client always sends them): a zero is left out, as kube's JSON does;
                    // replicas and revisionHistoryLimit are pointers: a zero shows.
                    "revisionHistoryLimit": 0,
                    "progressDeadlineSeconds": 600
                },
                "status": {}
            })
        );
    }

    #[test]
    fn lease_event_and_micro_time() {
        let lease = coordination::Lease {
            metadata: object_meta("leader"),
            spec: Some(coordination::LeaseSpec {
                holder_identity: s("node-1"),
                lease_duration_seconds: Some(15),
                acquire_time: Some(meta::MicroTime { seconds: Some(T0), nanos: Some(123_456_789) }),
                renew_time: Some(meta::MicroTime { seconds: Some(T0), nanos: None }),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        assert_eq!(
            decode(&envelope("coordination.k8s.io/v1", "Lease", &lease)).unwrap(),
            json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": "leader", "namespace": "default"},
                "spec": {
                    "holderIdentity": "node-1",
                    "leaseDurationSeconds": 15,
                    "acquireTime": "2024-01-02T03:04:05.123456Z",
                    "renewTime": "2024-01-02T03:04:05.000000Z",
                    "leaseTransitions": 0
                }
            })
        );

        let event = core::Event {
            metadata: object_meta("web.17a"),
            involved_object: Some(core::ObjectReference {
                kind: s("Pod"),
                namespace: s("default"),
                name: s("web"),
                uid: s("u"),
                api_version: s("v1"),
                field_path: s("spec.containers{app}"),
                ..Default::default()
            }),
            reason: s("Pulled"),
            message: s("pulled"),
            source: Some(core::EventSource { component: s("kubelet"), host: s("node-1") }),
            first_timestamp: at(T0),
            last_timestamp: at(T0 + 60),
            count: Some(2),
            r#type: s("Normal"),
            event_time: Some(meta::MicroTime::default()),
            reporting_component: s("kubelet"),
            reporting_instance: s("node-1"),
            ..Default::default()
        };
        assert_eq!(
            decode(&envelope("v1", "Event", &event)).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "web.17a", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web",
                    "uid": "u", "apiVersion": "v1", "fieldPath": "spec.containers{app}"},
                "reason": "Pulled",
                "message": "pulled",
                "source": {"component": "kubelet", "host": "node-1"},
                "firstTimestamp": "2024-01-02T03:04:05Z",
                "lastTimestamp": "2024-01-02T03:05:05Z",
                "count": 2,
                "type": "Normal",
                "reportingComponent": "kubelet",
                "reportingInstance": "node-1"
            })
        );
    }

    #[test]
    fn delete_options_in_any_group_version() {
        let options = meta::DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(meta::Preconditions { uid: s("u"), resource_version: s("7") }),
            orphan_dependents: Some(false),
            propagation_policy: s("Foreground"),
            dry_run: strings(&["All"]),
            ignore_store_read_error_with_cluster_breaking_potential: None,
        };
        for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
            assert_eq!(
                decode(&envelope(api_version, "DeleteOptions", &options)).unwrap(),
                json!({
                    "apiVersion": api_version,
                    "kind": "DeleteOptions",
                    "gracePeriodSeconds": 0,
                    "preconditions": {"uid": "u", "resourceVersion": "7"},
                    "orphanDependents": false,
                    "propagationPolicy": "Foreground",
                    "dryRun": ["All"]
                })
            );
        }
    }

    #[test]
    fn raw_extension_holds_json_or_a_nested_object() {
        let nested = envelope(
            "v1",
            "ConfigMap",
            &core::ConfigMap { metadata: object_meta("inner"), ..Default::default() },
        );
        for (raw, expected) in [
            (br#"{"spec":{"replicas":2}}"#.to_vec(), json!({"spec": {"replicas": 2}})),
            (
                nested,
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "inner", "namespace": "default"}}),
            ),
        ] {
            let revision = apps::ControllerRevision {
                metadata: object_meta("web-1"),
                data: Some(RawExtension { raw: Some(raw) }),
                revision: Some(1),
            };
            assert_eq!(
                decode(&envelope("apps/v1", "ControllerRevision", &revision)).unwrap(),
                json!({
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "metadata": {"name": "web-1", "namespace": "default"},
                    "data": expected,
                    "revision": 1
                })
            );
        }
        let empty = apps::ControllerRevision {
            data: Some(RawExtension { raw: None }),
            ..Default::default()
        };
        assert_eq!(
            decode(&envelope("apps/v1", "ControllerRevision", &empty)).unwrap(),
            json!({"apiVersion": "apps/v1", "kind": "ControllerRevision"})
        );
        let not_json = apps::ControllerRevision {
            data: Some(RawExtension { raw: Some(b"\x01\x02".to_vec()) }),
            ..Default::default()
        };
        let err = decode(&envelope("apps/v1", "ControllerRevision", &not_json)).unwrap_err();
        assert!(matches!(&err, ProtobufError::Malformed { path, .. } if path == "data"), "{err}");
    }

    #[test]
    fn times() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"),
            (T0, 999_999_999, "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.999999Z"),
            (-1, 0, "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.000000Z"),
            (951_782_400, 0, "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000000Z"),
            (253_402_300_799, 0, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000000Z"),
            (-62_167_219_200, 0, "0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000000Z"),
        ];
        for (seconds, nanos, rfc, micro) in cases {
            let bytes = meta::Time { seconds: Some(seconds), nanos: Some(nanos) }.encode_to_vec();
            assert_eq!(super::decode::time(&bytes, false).unwrap(), Some(json!(rfc)), "{seconds}");
            assert_eq!(super::decode::time(&bytes, true).unwrap(), Some(json!(micro)), "{seconds}");
        }
        // Go's time.Unix normalises nanoseconds out of range.
        let bytes = meta::Time { seconds: Some(T0), nanos: Some(-1) }.encode_to_vec();
        assert_eq!(
            super::decode::time(&bytes, true).unwrap(),
            Some(json!("2024-01-02T03:04:04.999999Z"))
        );
        assert_eq!(super::decode::time(&[], false).unwrap(), None);
        for seconds in [253_402_300_800, -62_167_219_201, i64::MAX, i64::MIN] {
            let bytes = meta::Time { seconds: Some(seconds), nanos: Some(0) }.encode_to_vec();
            assert!(super::decode::time(&bytes, false).is_err(), "{seconds}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(decode(b"{\"kind\":\"Pod\"}"), Err(ProtobufError::NotProtobuf));
        assert_eq!(decode(b""), Err(ProtobufError::NotProtobuf));

        // A custom resource's kind: no protobuf message.
        let err = decode(&envelope("stable.example.com/v1", "CronTab", &core::Node::default()))
            .unwrap_err();
        assert_eq!(
            err,
            ProtobufError::UnknownKind {
                api_version: "stable.example.com/v1".into(),
                kind: "CronTab".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "protobuf decoding is not supported for kind \"CronTab\" of apiVersion \"stable.example.com/v1\""
        );

        // Field 99 appended to the first container: a field this schema does not know.
        let mut pod = core::Pod {
            spec: Some(core::PodSpec { containers: vec![container()], ..Default::default() }),
            ..Default::default()
        };
        let mut container_bytes = container().encode_to_vec();
        container_bytes.extend([0x98, 0x06, 0x01]); // key (99 << 3 | 0), varint 1
        pod.spec.as_mut().unwrap().containers.clear();
        let mut spec_bytes = pod.spec.as_ref().unwrap().encode_to_vec();
        spec_bytes.push(0x12); // PodSpec.containers = 2, length-delimited
        prost::encoding::encode_varint(container_bytes.len() as u64, &mut spec_bytes);
        spec_bytes.extend(&container_bytes);
        let mut pod_bytes = vec![0x12];
        prost::encoding::encode_varint(spec_bytes.len() as u64, &mut pod_bytes);
        pod_bytes.extend(&spec_bytes);
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("Pod") }),
            raw: Some(pod_bytes),
            ..Default::default()
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        // An unknown field (a newer client's) is skipped, as kube-apiserver does.
        let pod = decode(&body).unwrap();
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["name"], "app");
        assert_eq!(container.as_object().unwrap().len(), 18, "only the known fields: {container}");

        // A string field sent as a varint.
        let mut body = envelope("v1", "ConfigMap", &core::ConfigMap::default());
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("ConfigMap") }),
            raw: Some(vec![0x0a, 0x02, 0x08, 0x01]), // metadata { name: varint 1 }
            ..Default::default()
        };
        body.truncate(4);
        body.extend(unknown.encode_to_vec());
        let err = decode(&body).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed protobuf: field 1 of message \
             k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta has the wrong wire type (varint) \
             (at metadata.name)"
        );

        let gzip = Unknown {
            type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("ConfigMap") }),
            content_encoding: s("gzip"),
            ..Default::default()
        };
        let mut body = MAGIC.to_vec();
        body.extend(gzip.encode_to_vec());
        assert!(matches!(decode(&body), Err(ProtobufError::UnsupportedEnvelope(_))));

        let bad_int_or_string = Some(IntOrString { r#type: Some(7), ..Default::default() });
        let service = core::Service {
            spec: Some(core::ServiceSpec {
                ports: vec![core::ServicePort {
                    target_port: bad_int_or_string,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = decode(&envelope("v1", "Service", &service)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed protobuf: IntOrString of unknown type 7 (at spec.ports[0].targetPort)"
        );
    }

    #[test]
    fn json_content_type_in_the_envelope() {
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("ConfigMap") }),
            raw: Some(br#"{"data":{"a":"b"}}"#.to_vec()),
            content_type: s("application/json"),
            ..Default::default()
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}})
        );
    }

    #[test]
    fn repeated_scalars_may_be_packed_and_messages_merge() {
        // PodSecurityContext.supplementalGroups = 4, packed; then runAsUser = 2 and a second
        // securityContext occurrence that proto merges into the first.
        let mut context = vec![0x22, 0x03, 0x01, 0x02, 0x03, 0x10, 0x05];
        context.extend([0x22, 0x01, 0x04]);
        let mut spec = vec![0x72]; // PodSpec.securityContext = 14
        prost::encoding::encode_varint(context.len() as u64, &mut spec);
        spec.extend(&context);
        spec.extend([0x72, 0x02, 0x10, 0x06]); // runAsUser = 6 in a second occurrence
        let mut pod = vec![0x12];
        prost::encoding::encode_varint(spec.len() as u64, &mut pod);
        pod.extend(&spec);
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("Pod") }),
            raw: Some(pod),
            ..Default::default()
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "Pod", "spec": {"securityContext": {
                "supplementalGroups": [1, 2, 3, 4], "runAsUser": 6}}})
        );
    }

    /// Bodies kubectl 1.32.4 sent to a recording proxy in front of this server, with the JSON
    /// they must decode to. For the commands that have `--dry-run=client -o json`, that JSON is
    /// kubectl's own output for the same object (Go's JSON encoding, `null`s left out); for
    /// `create token`, `auth can-i`, `auth can-i --list`, `auth whoami` and
    /// `debug --copy-to` (a pod with most PodSpec fields) it is reviewed decoder output.
    fn fixtures() -> Vec<(String, Vec<u8>, Value)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/protobuf");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "bin") {
                let body = std::fs::read(&path).unwrap();
                let expected = std::fs::read(path.with_extension("json")).unwrap();
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                out.push((name, body, serde_json::from_slice(&expected).unwrap()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn kubectl_bodies_decode_to_kubectls_json() {
        let fixtures = fixtures();
        assert!(fixtures.len() >= 30, "{} fixtures", fixtures.len());
        for (name, body, expected) in fixtures {
            assert_eq!(decode(&body).unwrap(), expected, "{name}");
        }
    }

    /// The encoder against the decoder: every kubectl body's JSON, encoded, decodes to itself
    /// (Pods, Deployments, Services, RBAC, reviews: most of the schema's shapes).
    #[test]
    fn encoding_what_was_decoded_decodes_the_same() {
        for (name, _, expected) in fixtures() {
            let encoded = encode_object(&expected).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(decode(&encoded).unwrap(), expected, "{name}");
        }
    }

    /// Sample bodies for the robustness tests: the fixtures and the typed objects above.
    fn samples() -> Vec<Vec<u8>> {
        let mut samples: Vec<Vec<u8>> = fixtures().into_iter().map(|(_, body, _)| body).collect();
        let pod = core::Pod { metadata: object_meta("p"), spec: Some(pod_spec()), status: None };
        samples.push(envelope("v1", "Pod", &pod));
        let lease = coordination::Lease {
            spec: Some(coordination::LeaseSpec {
                renew_time: Some(meta::MicroTime { seconds: Some(T0), nanos: Some(5) }),
                ..Default::default()
            }),
            ..Default::default()
        };
        samples.push(envelope("coordination.k8s.io/v1", "Lease", &lease));
        samples
    }

    /// A small xorshift generator: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn no_panic_on_truncated_valid_bodies() {
        for body in samples() {
            for len in 0..body.len() {
                let _ = decode(&body[..len]);
            }
        }
    }

    #[test]
    fn no_panic_on_mutated_valid_bodies() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for body in samples() {
            for _ in 0..300 {
                let mut mutated = body.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = 4 + rng.below(mutated.len() - 4);
                    match rng.below(3) {
                        0 => mutated[at] = rng.next() as u8,
                        1 => mutated[at] ^= 1 << rng.below(8),
                        _ => {
                            mutated.insert(at, rng.next() as u8);
                        }
                    }
                }
                let _ = decode(&mutated);
            }
        }
    }

    #[test]
    fn no_panic_on_random_bytes() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let len = rng.below(200);
            let mut body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if rng.below(2) == 0 {
                body.splice(0..0, MAGIC.iter().copied());
            }
            let _ = decode(&body);
        }
        // Random bytes as the raw object of known kinds reach deeper.
        let kinds = crate::schema::builtin().iter().flat_map(|(_, d)| d.gvks.iter());
        for gvk in kinds.take(200) {
            let api_version = match gvk.group {
                "" => gvk.version.to_owned(),
                group => format!("{group}/{}", gvk.version),
            };
            let kind = gvk.kind;
            for _ in 0..200 {
                let raw: Vec<u8> = (0..rng.below(120)).map(|_| rng.next() as u8).collect();
                let unknown = Unknown {
                    type_meta: Some(TypeMeta { api_version: s(&api_version), kind: s(kind) }),
                    raw: Some(raw),
                    ..Default::default()
                };
                let mut body = MAGIC.to_vec();
                body.extend(unknown.encode_to_vec());
                let _ = decode(&body);
            }
        }
    }

    #[test]
    fn deeply_nested_raw_extensions_are_refused() {
        let mut body = envelope("v1", "ConfigMap", &core::ConfigMap::default());
        for _ in 0..MAX_DEPTH + 5 {
            let revision = apps::ControllerRevision {
                data: Some(RawExtension { raw: Some(body) }),
                ..Default::default()
            };
            body = envelope("apps/v1", "ControllerRevision", &revision);
        }
        assert!(matches!(decode(&body), Err(ProtobufError::Malformed { .. })));
    }
}
