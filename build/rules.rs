//! What neither crate says, kept as short named rules (apimachinery's own behaviour and Go facts).

/// The types apimachinery encodes by hand (custom JSON and protobuf marshalers), by definition
/// name, with their `Wire` variant in `src/schema/model.rs`.
pub const WIRE: &[(&str, &str)] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "Time"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", "MicroTime"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", "FieldsV1"),
    ("io.k8s.apimachinery.pkg.util.intstr.IntOrString", "IntOrString"),
    ("io.k8s.apimachinery.pkg.api.resource.Quantity", "Quantity"),
    ("io.k8s.apimachinery.pkg.runtime.RawExtension", "RawExtension"),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON", "Json"),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        "JsonSchemaPropsOrArray",
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        "JsonSchemaPropsOrBool",
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
        "JsonSchemaPropsOrStringArray",
    ),
];

/// Optional `*string` fields whose empty value means something kube-ledger acts on, so a `""`
/// decoded from protobuf is kept (`ZeroRule::Keep`) where the derived rule would drop it. Go's
/// pointer-ness is in no crate; each entry is a Go fact:
/// - a claim's `storageClassName: ""` asks for no class: the DefaultStorageClass admission
///   plugin leaves it alone, where an absent one gets the default class;
/// - an Ingress's `ingressClassName: ""` likewise opts out of DefaultIngressClass.
pub const EMPTY_STRING_KEPT: &[(&str, &str)] = &[
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "storageClassName"),
    ("io.k8s.api.networking.v1.IngressSpec", "ingressClassName"),
];

/// Definitions served as `DeleteOptions` and `WatchEvent` in every group/version (kube's
/// `x-kubernetes-group-version-kind` lists them all): request and stream envelopes.
pub const IN_EVERY_GROUP_VERSION: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
];

/// k8s-openapi puts `metadata` in `required` on every type whose Rust `metadata` is not an
/// `Option`; kube's definitions never require it.
pub const NEVER_REQUIRED: &str = "metadata";

/// GA definitions with no protobuf message: kube serves them as JSON only.
pub const JSON_ONLY: &[&str] = &["io.k8s.apimachinery.pkg.version.Info"];
