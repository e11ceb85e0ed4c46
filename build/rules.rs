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

/// Optional numbers and booleans declared as Go values with `omitempty` (not pointers): a Go
/// client's protobuf always carries them, zero or not, and kube's JSON leaves a zero out, so a
/// zero decoded from protobuf is dropped (`ZeroRule::Omit`) where the derived rule keeps it (a
/// set pointer such as `replicas: 0` must show). Each entry is a Go fact; the list covers the
/// fields kubectl's typed commands and controllers' status writes send.
pub const ZERO_OMITTED: &[(&str, &str)] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "generation"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "paused"),
    ("io.k8s.api.apps.v1.ReplicaSetSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.DaemonSetSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "replicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "updatedReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "availableReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "unavailableReplicas"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "fullyLabeledReplicas"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "availableReplicas"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "currentReplicas"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "updatedReplicas"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "updatedNumberScheduled"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "numberAvailable"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "numberUnavailable"),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "fullyLabeledReplicas"),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "readyReplicas"),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "availableReplicas"),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "observedGeneration"),
    ("io.k8s.api.batch.v1.JobStatus", "active"),
    ("io.k8s.api.batch.v1.JobStatus", "succeeded"),
    ("io.k8s.api.batch.v1.JobStatus", "failed"),
    ("io.k8s.api.core.v1.PodSpec", "hostNetwork"),
    ("io.k8s.api.core.v1.PodSpec", "hostPID"),
    ("io.k8s.api.core.v1.PodSpec", "hostIPC"),
    ("io.k8s.api.core.v1.Container", "stdin"),
    ("io.k8s.api.core.v1.Container", "stdinOnce"),
    ("io.k8s.api.core.v1.Container", "tty"),
    ("io.k8s.api.core.v1.EphemeralContainerCommon", "stdin"),
    ("io.k8s.api.core.v1.EphemeralContainerCommon", "stdinOnce"),
    ("io.k8s.api.core.v1.EphemeralContainerCommon", "tty"),
    ("io.k8s.api.core.v1.VolumeMount", "readOnly"),
    ("io.k8s.api.core.v1.ContainerPort", "hostPort"),
    ("io.k8s.api.core.v1.ServicePort", "nodePort"),
    ("io.k8s.api.core.v1.Probe", "initialDelaySeconds"),
    ("io.k8s.api.core.v1.Probe", "timeoutSeconds"),
    ("io.k8s.api.core.v1.Probe", "periodSeconds"),
    ("io.k8s.api.core.v1.Probe", "successThreshold"),
    ("io.k8s.api.core.v1.Probe", "failureThreshold"),
    ("io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource", "readOnly"),
];

/// Definitions served as `DeleteOptions` and `WatchEvent` in every group/version (kube's
/// `x-kubernetes-group-version-kind` lists them all): request and stream envelopes. Both are
/// also registered in their own group, `meta.k8s.io/v1` (clients send `DeleteOptions` there).
pub const IN_EVERY_GROUP_VERSION: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
];

/// The group/version of apimachinery's own types (`metav1.SchemeGroupVersion`).
pub const META_GROUP_VERSION: (&str, &str) = ("meta.k8s.io", "v1");

/// k8s-openapi puts `metadata` in `required` on every type whose Rust `metadata` is not an
/// `Option`; kube's definitions never require it.
pub const NEVER_REQUIRED: &str = "metadata";

/// GA definitions with no protobuf message: kube serves them as JSON only.
pub const JSON_ONLY: &[&str] = &["io.k8s.apimachinery.pkg.version.Info"];
