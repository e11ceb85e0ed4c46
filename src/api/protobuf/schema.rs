//! The schema table: for each protobuf message of the built-in kinds, its fields' numbers, JSON
//! names, types and how kube's JSON encoding shows them.
//!
//! The table was generated from the prost sources of the `k8s-pb` 0.9 crate (field numbers and
//! proto types) and the attribute maps of the official Python client (exact JSON names such as
//! `clusterIPs` or `volumeID`), for the kinds in [`KINDS`] and every message they reach. It is
//! maintained by hand from here on: to add a kind, add its messages with the `tag = "N"` numbers
//! of `k8s-pb` and the JSON names of the Go types' `json` tags, and a `KINDS` entry. The tests
//! check it against what kubectl sends: every body captured from kubectl in
//! `tests/fixtures/protobuf` must decode to what `kubectl ... --dry-run=client -o json` prints
//! for the same object.
//!
//! Which scalars keep a zero value follows the Go types. Go clients write every non-pointer field,
//! zero or not, and a pointer field only when it is set; kube's JSON leaves out zero values of
//! `omitempty` non-pointer fields but shows set pointers (`replicas: 0`,
//! `automountServiceAccountToken: false`) and non-`omitempty` fields (`containerPort`). Hence
//! [`Card::Omit`] for the former and [`Card::Keep`] for the latter two.

/// One protobuf message type.
#[derive(Debug)]
pub(super) struct Message {
    /// Fully qualified proto name, for error messages.
    pub name: &'static str,
    /// Sorted by number.
    pub fields: &'static [Field],
}

impl Message {
    pub(super) fn field(&self, number: u32) -> Option<&'static Field> {
        let index = self.fields.binary_search_by_key(&number, |field| field.number).ok()?;
        self.fields.get(index)
    }
}

/// One field of a message.
#[derive(Debug)]
pub(super) struct Field {
    pub number: u32,
    /// The JSON name; empty for [`Card::Inline`].
    pub json: &'static str,
    pub ty: Type,
    pub card: Card,
}

const fn f(number: u32, json: &'static str, ty: Type, card: Card) -> Field {
    Field { number, json, ty, card }
}

/// What a field holds.
#[derive(Debug)]
pub(super) enum Type {
    /// `string`: a JSON string.
    Str,
    /// `int32`: a JSON number.
    I32,
    /// `int64`: a JSON number.
    I64,
    /// `bool`.
    Bool,
    /// `bytes`: base64 in JSON, as Go encodes `[]byte`.
    Bytes,
    /// A nested message: a JSON object.
    Msg(&'static Message),
    /// `map<string, T>`: repeated `{key = 1, value = 2}` entries, a JSON object.
    Map(&'static Type),
    /// `meta.v1.Time {seconds = 1, nanos = 2}`: RFC 3339 to the second; empty is `null`.
    Time,
    /// `meta.v1.MicroTime {seconds = 1, nanos = 2}`: RFC 3339 with 6 fractional digits.
    MicroTime,
    /// `intstr.IntOrString {type = 1, intVal = 2, strVal = 3}`: a JSON number or string.
    IntOrString,
    /// `resource.Quantity {string = 1}`: a JSON string.
    Quantity,
    /// `runtime.RawExtension {raw = 1}`: the raw bytes, which are JSON (or a nested
    /// `k8s\0` protobuf object).
    RawExtension,
    /// `meta.v1.FieldsV1 {Raw = 1}`: the raw bytes, which are JSON.
    FieldsV1,
}

/// How a field shows up in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Card {
    /// A non-pointer `omitempty` field: left out when zero (`""`, `0`, `false`).
    Omit,
    /// A pointer, struct or non-`omitempty` field: shown whenever it is on the wire.
    Keep,
    /// A `repeated` field or a map: a JSON array or object; left out when it has no entries.
    Rep,
    /// An embedded Go struct (`json:",inline"`): its fields are the enclosing object's.
    Inline,
}

use Card::*;
use Type::*;

// ---- The messages, sorted by group and name. ----

pub(super) static APIMACHINERY_META_V1_CONDITION: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.Condition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(3, "observedGeneration", I64, Omit),
        f(4, "lastTransitionTime", Time, Keep),
        f(5, "reason", Str, Keep),
        f(6, "message", Str, Keep),
    ],
};
pub(super) static APIMACHINERY_META_V1_DELETE_OPTIONS: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    fields: &[
        f(1, "gracePeriodSeconds", I64, Keep),
        f(2, "preconditions", Msg(&APIMACHINERY_META_V1_PRECONDITIONS), Keep),
        f(3, "orphanDependents", Bool, Keep),
        f(4, "propagationPolicy", Str, Omit),
        f(5, "dryRun", Str, Rep),
        f(6, "ignoreStoreReadErrorWithClusterBreakingPotential", Bool, Keep),
    ],
};
pub(super) static APIMACHINERY_META_V1_FIELD_SELECTOR_REQUIREMENT: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
    fields: &[f(1, "key", Str, Keep), f(2, "operator", Str, Keep), f(3, "values", Str, Rep)],
};
pub(super) static APIMACHINERY_META_V1_LABEL_SELECTOR: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
    fields: &[
        f(1, "matchLabels", Map(&Str), Rep),
        f(2, "matchExpressions", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR_REQUIREMENT), Rep),
    ],
};
pub(super) static APIMACHINERY_META_V1_LABEL_SELECTOR_REQUIREMENT: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    fields: &[f(1, "key", Str, Keep), f(2, "operator", Str, Keep), f(3, "values", Str, Rep)],
};
pub(super) static APIMACHINERY_META_V1_MANAGED_FIELDS_ENTRY: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    fields: &[
        f(1, "manager", Str, Omit),
        f(2, "operation", Str, Omit),
        f(3, "apiVersion", Str, Omit),
        f(4, "time", Time, Keep),
        f(6, "fieldsType", Str, Omit),
        f(7, "fieldsV1", FieldsV1, Keep),
        f(8, "subresource", Str, Omit),
    ],
};
pub(super) static APIMACHINERY_META_V1_OBJECT_META: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "generateName", Str, Omit),
        f(3, "namespace", Str, Omit),
        f(4, "selfLink", Str, Omit),
        f(5, "uid", Str, Omit),
        f(6, "resourceVersion", Str, Omit),
        f(7, "generation", I64, Omit),
        f(8, "creationTimestamp", Time, Keep),
        f(9, "deletionTimestamp", Time, Keep),
        f(10, "deletionGracePeriodSeconds", I64, Keep),
        f(11, "labels", Map(&Str), Rep),
        f(12, "annotations", Map(&Str), Rep),
        f(13, "ownerReferences", Msg(&APIMACHINERY_META_V1_OWNER_REFERENCE), Rep),
        f(14, "finalizers", Str, Rep),
        f(17, "managedFields", Msg(&APIMACHINERY_META_V1_MANAGED_FIELDS_ENTRY), Rep),
    ],
};
pub(super) static APIMACHINERY_META_V1_OWNER_REFERENCE: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
    fields: &[
        f(1, "kind", Str, Keep),
        f(3, "name", Str, Keep),
        f(4, "uid", Str, Keep),
        f(5, "apiVersion", Str, Keep),
        f(6, "controller", Bool, Keep),
        f(7, "blockOwnerDeletion", Bool, Keep),
    ],
};
pub(super) static APIMACHINERY_META_V1_PRECONDITIONS: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions",
    fields: &[f(1, "uid", Str, Omit), f(2, "resourceVersion", Str, Omit)],
};
pub(super) static APPS_V1_CONTROLLER_REVISION: Message = Message {
    name: "k8s.io.api.apps.v1.ControllerRevision",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "data", RawExtension, Keep),
        f(3, "revision", I64, Keep),
    ],
};
pub(super) static APPS_V1_DAEMON_SET: Message = Message {
    name: "k8s.io.api.apps.v1.DaemonSet",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&APPS_V1_DAEMON_SET_SPEC), Keep),
        f(3, "status", Msg(&APPS_V1_DAEMON_SET_STATUS), Keep),
    ],
};
pub(super) static APPS_V1_DAEMON_SET_CONDITION: Message = Message {
    name: "k8s.io.api.apps.v1.DaemonSetCondition",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "status", Str, Omit),
        f(3, "lastTransitionTime", Time, Keep),
        f(4, "reason", Str, Omit),
        f(5, "message", Str, Omit),
    ],
};
pub(super) static APPS_V1_DAEMON_SET_SPEC: Message = Message {
    name: "k8s.io.api.apps.v1.DaemonSetSpec",
    fields: &[
        f(1, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(2, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
        f(3, "updateStrategy", Msg(&APPS_V1_DAEMON_SET_UPDATE_STRATEGY), Keep),
        f(4, "minReadySeconds", I32, Omit),
        f(6, "revisionHistoryLimit", I32, Keep),
    ],
};
pub(super) static APPS_V1_DAEMON_SET_STATUS: Message = Message {
    name: "k8s.io.api.apps.v1.DaemonSetStatus",
    fields: &[
        f(1, "currentNumberScheduled", I32, Keep),
        f(2, "numberMisscheduled", I32, Keep),
        f(3, "desiredNumberScheduled", I32, Keep),
        f(4, "numberReady", I32, Keep),
        f(5, "observedGeneration", I64, Omit),
        f(6, "updatedNumberScheduled", I32, Omit),
        f(7, "numberAvailable", I32, Omit),
        f(8, "numberUnavailable", I32, Omit),
        f(9, "collisionCount", I32, Keep),
        f(10, "conditions", Msg(&APPS_V1_DAEMON_SET_CONDITION), Rep),
    ],
};
pub(super) static APPS_V1_DAEMON_SET_UPDATE_STRATEGY: Message = Message {
    name: "k8s.io.api.apps.v1.DaemonSetUpdateStrategy",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "rollingUpdate", Msg(&APPS_V1_ROLLING_UPDATE_DAEMON_SET), Keep),
    ],
};
pub(super) static APPS_V1_DEPLOYMENT: Message = Message {
    name: "k8s.io.api.apps.v1.Deployment",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&APPS_V1_DEPLOYMENT_SPEC), Keep),
        f(3, "status", Msg(&APPS_V1_DEPLOYMENT_STATUS), Keep),
    ],
};
pub(super) static APPS_V1_DEPLOYMENT_CONDITION: Message = Message {
    name: "k8s.io.api.apps.v1.DeploymentCondition",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "status", Str, Omit),
        f(4, "reason", Str, Omit),
        f(5, "message", Str, Omit),
        f(6, "lastUpdateTime", Time, Keep),
        f(7, "lastTransitionTime", Time, Keep),
    ],
};
pub(super) static APPS_V1_DEPLOYMENT_SPEC: Message = Message {
    name: "k8s.io.api.apps.v1.DeploymentSpec",
    fields: &[
        f(1, "replicas", I32, Keep),
        f(2, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
        f(4, "strategy", Msg(&APPS_V1_DEPLOYMENT_STRATEGY), Keep),
        f(5, "minReadySeconds", I32, Omit),
        f(6, "revisionHistoryLimit", I32, Keep),
        f(7, "paused", Bool, Omit),
        f(9, "progressDeadlineSeconds", I32, Keep),
    ],
};
pub(super) static APPS_V1_DEPLOYMENT_STATUS: Message = Message {
    name: "k8s.io.api.apps.v1.DeploymentStatus",
    fields: &[
        f(1, "observedGeneration", I64, Omit),
        f(2, "replicas", I32, Omit),
        f(3, "updatedReplicas", I32, Omit),
        f(4, "availableReplicas", I32, Omit),
        f(5, "unavailableReplicas", I32, Omit),
        f(6, "conditions", Msg(&APPS_V1_DEPLOYMENT_CONDITION), Rep),
        f(7, "readyReplicas", I32, Omit),
        f(8, "collisionCount", I32, Keep),
        f(9, "terminatingReplicas", I32, Keep),
    ],
};
pub(super) static APPS_V1_DEPLOYMENT_STRATEGY: Message = Message {
    name: "k8s.io.api.apps.v1.DeploymentStrategy",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "rollingUpdate", Msg(&APPS_V1_ROLLING_UPDATE_DEPLOYMENT), Keep),
    ],
};
pub(super) static APPS_V1_REPLICA_SET: Message = Message {
    name: "k8s.io.api.apps.v1.ReplicaSet",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&APPS_V1_REPLICA_SET_SPEC), Keep),
        f(3, "status", Msg(&APPS_V1_REPLICA_SET_STATUS), Keep),
    ],
};
pub(super) static APPS_V1_REPLICA_SET_CONDITION: Message = Message {
    name: "k8s.io.api.apps.v1.ReplicaSetCondition",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "status", Str, Omit),
        f(3, "lastTransitionTime", Time, Keep),
        f(4, "reason", Str, Omit),
        f(5, "message", Str, Omit),
    ],
};
pub(super) static APPS_V1_REPLICA_SET_SPEC: Message = Message {
    name: "k8s.io.api.apps.v1.ReplicaSetSpec",
    fields: &[
        f(1, "replicas", I32, Keep),
        f(2, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
        f(4, "minReadySeconds", I32, Omit),
    ],
};
pub(super) static APPS_V1_REPLICA_SET_STATUS: Message = Message {
    name: "k8s.io.api.apps.v1.ReplicaSetStatus",
    fields: &[
        f(1, "replicas", I32, Keep),
        f(2, "fullyLabeledReplicas", I32, Omit),
        f(3, "observedGeneration", I64, Omit),
        f(4, "readyReplicas", I32, Omit),
        f(5, "availableReplicas", I32, Omit),
        f(6, "conditions", Msg(&APPS_V1_REPLICA_SET_CONDITION), Rep),
        f(7, "terminatingReplicas", I32, Keep),
    ],
};
pub(super) static APPS_V1_ROLLING_UPDATE_DAEMON_SET: Message = Message {
    name: "k8s.io.api.apps.v1.RollingUpdateDaemonSet",
    fields: &[f(1, "maxUnavailable", IntOrString, Keep), f(2, "maxSurge", IntOrString, Keep)],
};
pub(super) static APPS_V1_ROLLING_UPDATE_DEPLOYMENT: Message = Message {
    name: "k8s.io.api.apps.v1.RollingUpdateDeployment",
    fields: &[f(1, "maxUnavailable", IntOrString, Keep), f(2, "maxSurge", IntOrString, Keep)],
};
pub(super) static APPS_V1_ROLLING_UPDATE_STATEFUL_SET_STRATEGY: Message = Message {
    name: "k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy",
    fields: &[f(1, "partition", I32, Keep), f(2, "maxUnavailable", IntOrString, Keep)],
};
pub(super) static APPS_V1_STATEFUL_SET: Message = Message {
    name: "k8s.io.api.apps.v1.StatefulSet",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&APPS_V1_STATEFUL_SET_SPEC), Keep),
        f(3, "status", Msg(&APPS_V1_STATEFUL_SET_STATUS), Keep),
    ],
};
pub(super) static APPS_V1_STATEFUL_SET_CONDITION: Message = Message {
    name: "k8s.io.api.apps.v1.StatefulSetCondition",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "status", Str, Omit),
        f(3, "lastTransitionTime", Time, Keep),
        f(4, "reason", Str, Omit),
        f(5, "message", Str, Omit),
    ],
};
pub(super) static APPS_V1_STATEFUL_SET_ORDINALS: Message =
    Message { name: "k8s.io.api.apps.v1.StatefulSetOrdinals", fields: &[f(1, "start", I32, Keep)] };
pub(super) static APPS_V1_STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: Message =
    Message {
        name: "k8s.io.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
        fields: &[f(1, "whenDeleted", Str, Omit), f(2, "whenScaled", Str, Omit)],
    };
pub(super) static APPS_V1_STATEFUL_SET_SPEC: Message = Message {
    name: "k8s.io.api.apps.v1.StatefulSetSpec",
    fields: &[
        f(1, "replicas", I32, Keep),
        f(2, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
        f(4, "volumeClaimTemplates", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM), Rep),
        f(5, "serviceName", Str, Omit),
        f(6, "podManagementPolicy", Str, Omit),
        f(7, "updateStrategy", Msg(&APPS_V1_STATEFUL_SET_UPDATE_STRATEGY), Keep),
        f(8, "revisionHistoryLimit", I32, Keep),
        f(9, "minReadySeconds", I32, Omit),
        f(
            10,
            "persistentVolumeClaimRetentionPolicy",
            Msg(&APPS_V1_STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY),
            Keep,
        ),
        f(11, "ordinals", Msg(&APPS_V1_STATEFUL_SET_ORDINALS), Keep),
    ],
};
pub(super) static APPS_V1_STATEFUL_SET_STATUS: Message = Message {
    name: "k8s.io.api.apps.v1.StatefulSetStatus",
    fields: &[
        f(1, "observedGeneration", I64, Omit),
        f(2, "replicas", I32, Keep),
        f(3, "readyReplicas", I32, Omit),
        f(4, "currentReplicas", I32, Omit),
        f(5, "updatedReplicas", I32, Omit),
        f(6, "currentRevision", Str, Omit),
        f(7, "updateRevision", Str, Omit),
        f(9, "collisionCount", I32, Keep),
        f(10, "conditions", Msg(&APPS_V1_STATEFUL_SET_CONDITION), Rep),
        f(11, "availableReplicas", I32, Keep),
    ],
};
pub(super) static APPS_V1_STATEFUL_SET_UPDATE_STRATEGY: Message = Message {
    name: "k8s.io.api.apps.v1.StatefulSetUpdateStrategy",
    fields: &[
        f(1, "type", Str, Omit),
        f(2, "rollingUpdate", Msg(&APPS_V1_ROLLING_UPDATE_STATEFUL_SET_STRATEGY), Keep),
    ],
};
pub(super) static AUTHENTICATION_V1_BOUND_OBJECT_REFERENCE: Message = Message {
    name: "k8s.io.api.authentication.v1.BoundObjectReference",
    fields: &[
        f(1, "kind", Str, Omit),
        f(2, "apiVersion", Str, Omit),
        f(3, "name", Str, Omit),
        f(4, "uid", Str, Omit),
    ],
};
pub(super) static AUTHENTICATION_V1_EXTRA_VALUE: Message =
    Message { name: "k8s.io.api.authentication.v1.ExtraValue", fields: &[f(1, "items", Str, Rep)] };
pub(super) static AUTHENTICATION_V1_SELF_SUBJECT_REVIEW: Message = Message {
    name: "k8s.io.api.authentication.v1.SelfSubjectReview",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "status", Msg(&AUTHENTICATION_V1_SELF_SUBJECT_REVIEW_STATUS), Keep),
    ],
};
pub(super) static AUTHENTICATION_V1_SELF_SUBJECT_REVIEW_STATUS: Message = Message {
    name: "k8s.io.api.authentication.v1.SelfSubjectReviewStatus",
    fields: &[f(1, "userInfo", Msg(&AUTHENTICATION_V1_USER_INFO), Keep)],
};
pub(super) static AUTHENTICATION_V1_TOKEN_REQUEST: Message = Message {
    name: "k8s.io.api.authentication.v1.TokenRequest",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTHENTICATION_V1_TOKEN_REQUEST_SPEC), Keep),
        f(3, "status", Msg(&AUTHENTICATION_V1_TOKEN_REQUEST_STATUS), Keep),
    ],
};
pub(super) static AUTHENTICATION_V1_TOKEN_REQUEST_SPEC: Message = Message {
    name: "k8s.io.api.authentication.v1.TokenRequestSpec",
    fields: &[
        f(1, "audiences", Str, Rep),
        f(3, "boundObjectRef", Msg(&AUTHENTICATION_V1_BOUND_OBJECT_REFERENCE), Keep),
        f(4, "expirationSeconds", I64, Keep),
    ],
};
pub(super) static AUTHENTICATION_V1_TOKEN_REQUEST_STATUS: Message = Message {
    name: "k8s.io.api.authentication.v1.TokenRequestStatus",
    fields: &[f(1, "token", Str, Omit), f(2, "expirationTimestamp", Time, Keep)],
};
pub(super) static AUTHENTICATION_V1_TOKEN_REVIEW: Message = Message {
    name: "k8s.io.api.authentication.v1.TokenReview",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTHENTICATION_V1_TOKEN_REVIEW_SPEC), Keep),
        f(3, "status", Msg(&AUTHENTICATION_V1_TOKEN_REVIEW_STATUS), Keep),
    ],
};
pub(super) static AUTHENTICATION_V1_TOKEN_REVIEW_SPEC: Message = Message {
    name: "k8s.io.api.authentication.v1.TokenReviewSpec",
    fields: &[f(1, "token", Str, Keep), f(2, "audiences", Str, Rep)],
};
pub(super) static AUTHENTICATION_V1_TOKEN_REVIEW_STATUS: Message = Message {
    name: "k8s.io.api.authentication.v1.TokenReviewStatus",
    fields: &[
        f(1, "authenticated", Bool, Omit),
        f(2, "user", Msg(&AUTHENTICATION_V1_USER_INFO), Keep),
        f(3, "error", Str, Omit),
        f(4, "audiences", Str, Rep),
    ],
};
pub(super) static AUTHENTICATION_V1_USER_INFO: Message = Message {
    name: "k8s.io.api.authentication.v1.UserInfo",
    fields: &[
        f(1, "username", Str, Omit),
        f(2, "uid", Str, Omit),
        f(3, "groups", Str, Rep),
        f(4, "extra", Map(&Msg(&AUTHENTICATION_V1_EXTRA_VALUE)), Rep),
    ],
};
pub(super) static AUTHORIZATION_V1_EXTRA_VALUE: Message =
    Message { name: "k8s.io.api.authorization.v1.ExtraValue", fields: &[f(1, "items", Str, Rep)] };
pub(super) static AUTHORIZATION_V1_FIELD_SELECTOR_ATTRIBUTES: Message = Message {
    name: "k8s.io.api.authorization.v1.FieldSelectorAttributes",
    fields: &[
        f(1, "rawSelector", Str, Omit),
        f(2, "requirements", Msg(&APIMACHINERY_META_V1_FIELD_SELECTOR_REQUIREMENT), Rep),
    ],
};
pub(super) static AUTHORIZATION_V1_LABEL_SELECTOR_ATTRIBUTES: Message = Message {
    name: "k8s.io.api.authorization.v1.LabelSelectorAttributes",
    fields: &[
        f(1, "rawSelector", Str, Omit),
        f(2, "requirements", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR_REQUIREMENT), Rep),
    ],
};
pub(super) static AUTHORIZATION_V1_LOCAL_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "k8s.io.api.authorization.v1.LocalSubjectAccessReview",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_SPEC), Keep),
        f(3, "status", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS), Keep),
    ],
};
pub(super) static AUTHORIZATION_V1_NON_RESOURCE_ATTRIBUTES: Message = Message {
    name: "k8s.io.api.authorization.v1.NonResourceAttributes",
    fields: &[f(1, "path", Str, Omit), f(2, "verb", Str, Omit)],
};
pub(super) static AUTHORIZATION_V1_NON_RESOURCE_RULE: Message = Message {
    name: "k8s.io.api.authorization.v1.NonResourceRule",
    fields: &[f(1, "verbs", Str, Rep), f(2, "nonResourceURLs", Str, Rep)],
};
pub(super) static AUTHORIZATION_V1_RESOURCE_ATTRIBUTES: Message = Message {
    name: "k8s.io.api.authorization.v1.ResourceAttributes",
    fields: &[
        f(1, "namespace", Str, Omit),
        f(2, "verb", Str, Omit),
        f(3, "group", Str, Omit),
        f(4, "version", Str, Omit),
        f(5, "resource", Str, Omit),
        f(6, "subresource", Str, Omit),
        f(7, "name", Str, Omit),
        f(8, "fieldSelector", Msg(&AUTHORIZATION_V1_FIELD_SELECTOR_ATTRIBUTES), Keep),
        f(9, "labelSelector", Msg(&AUTHORIZATION_V1_LABEL_SELECTOR_ATTRIBUTES), Keep),
    ],
};
pub(super) static AUTHORIZATION_V1_RESOURCE_RULE: Message = Message {
    name: "k8s.io.api.authorization.v1.ResourceRule",
    fields: &[
        f(1, "verbs", Str, Rep),
        f(2, "apiGroups", Str, Rep),
        f(3, "resources", Str, Rep),
        f(4, "resourceNames", Str, Rep),
    ],
};
pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "k8s.io.api.authorization.v1.SelfSubjectAccessReview",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW_SPEC), Keep),
        f(3, "status", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS), Keep),
    ],
};
pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    name: "k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec",
    fields: &[
        f(1, "resourceAttributes", Msg(&AUTHORIZATION_V1_RESOURCE_ATTRIBUTES), Keep),
        f(2, "nonResourceAttributes", Msg(&AUTHORIZATION_V1_NON_RESOURCE_ATTRIBUTES), Keep),
    ],
};
pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW: Message = Message {
    name: "k8s.io.api.authorization.v1.SelfSubjectRulesReview",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW_SPEC), Keep),
        f(3, "status", Msg(&AUTHORIZATION_V1_SUBJECT_RULES_REVIEW_STATUS), Keep),
    ],
};
pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message {
    name: "k8s.io.api.authorization.v1.SelfSubjectRulesReviewSpec",
    fields: &[f(1, "namespace", Str, Omit)],
};
pub(super) static AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "k8s.io.api.authorization.v1.SubjectAccessReview",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_SPEC), Keep),
        f(3, "status", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS), Keep),
    ],
};
pub(super) static AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    name: "k8s.io.api.authorization.v1.SubjectAccessReviewSpec",
    fields: &[
        f(1, "resourceAttributes", Msg(&AUTHORIZATION_V1_RESOURCE_ATTRIBUTES), Keep),
        f(2, "nonResourceAttributes", Msg(&AUTHORIZATION_V1_NON_RESOURCE_ATTRIBUTES), Keep),
        f(3, "user", Str, Omit),
        f(4, "groups", Str, Rep),
        f(5, "extra", Map(&Msg(&AUTHORIZATION_V1_EXTRA_VALUE)), Rep),
        f(6, "uid", Str, Omit),
    ],
};
pub(super) static AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS: Message = Message {
    name: "k8s.io.api.authorization.v1.SubjectAccessReviewStatus",
    fields: &[
        f(1, "allowed", Bool, Keep),
        f(2, "reason", Str, Omit),
        f(3, "evaluationError", Str, Omit),
        f(4, "denied", Bool, Omit),
    ],
};
pub(super) static AUTHORIZATION_V1_SUBJECT_RULES_REVIEW_STATUS: Message = Message {
    name: "k8s.io.api.authorization.v1.SubjectRulesReviewStatus",
    fields: &[
        f(1, "resourceRules", Msg(&AUTHORIZATION_V1_RESOURCE_RULE), Rep),
        f(2, "nonResourceRules", Msg(&AUTHORIZATION_V1_NON_RESOURCE_RULE), Rep),
        f(3, "incomplete", Bool, Keep),
        f(4, "evaluationError", Str, Omit),
    ],
};
pub(super) static AUTOSCALING_V1_CROSS_VERSION_OBJECT_REFERENCE: Message = Message {
    name: "k8s.io.api.autoscaling.v1.CrossVersionObjectReference",
    fields: &[f(1, "kind", Str, Keep), f(2, "name", Str, Keep), f(3, "apiVersion", Str, Omit)],
};
pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER: Message = Message {
    name: "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_SPEC), Keep),
        f(3, "status", Msg(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_STATUS), Keep),
    ],
};
pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_SPEC: Message = Message {
    name: "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
    fields: &[
        f(1, "scaleTargetRef", Msg(&AUTOSCALING_V1_CROSS_VERSION_OBJECT_REFERENCE), Keep),
        f(2, "minReplicas", I32, Keep),
        f(3, "maxReplicas", I32, Keep),
        f(4, "targetCPUUtilizationPercentage", I32, Keep),
    ],
};
pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerStatus",
    fields: &[
        f(1, "observedGeneration", I64, Keep),
        f(2, "lastScaleTime", Time, Keep),
        f(3, "currentReplicas", I32, Keep),
        f(4, "desiredReplicas", I32, Keep),
        f(5, "currentCPUUtilizationPercentage", I32, Keep),
    ],
};
pub(super) static AUTOSCALING_V1_SCALE: Message = Message {
    name: "k8s.io.api.autoscaling.v1.Scale",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTOSCALING_V1_SCALE_SPEC), Keep),
        f(3, "status", Msg(&AUTOSCALING_V1_SCALE_STATUS), Keep),
    ],
};
pub(super) static AUTOSCALING_V1_SCALE_SPEC: Message =
    Message { name: "k8s.io.api.autoscaling.v1.ScaleSpec", fields: &[f(1, "replicas", I32, Omit)] };
pub(super) static AUTOSCALING_V1_SCALE_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v1.ScaleStatus",
    fields: &[f(1, "replicas", I32, Keep), f(2, "selector", Str, Omit)],
};
pub(super) static AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_SOURCE: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ContainerResourceMetricSource",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET), Keep),
        f(3, "container", Str, Keep),
    ],
};
pub(super) static AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ContainerResourceMetricStatus",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS), Keep),
        f(3, "container", Str, Keep),
    ],
};
pub(super) static AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE: Message = Message {
    name: "k8s.io.api.autoscaling.v2.CrossVersionObjectReference",
    fields: &[f(1, "kind", Str, Keep), f(2, "name", Str, Keep), f(3, "apiVersion", Str, Omit)],
};
pub(super) static AUTOSCALING_V2_EXTERNAL_METRIC_SOURCE: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ExternalMetricSource",
    fields: &[
        f(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER), Keep),
        f(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_EXTERNAL_METRIC_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ExternalMetricStatus",
    fields: &[
        f(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER), Keep),
        f(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_SPEC), Keep),
        f(3, "status", Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_STATUS), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_BEHAVIOR: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
    fields: &[
        f(1, "scaleUp", Msg(&AUTOSCALING_V2_HPA_SCALING_RULES), Keep),
        f(2, "scaleDown", Msg(&AUTOSCALING_V2_HPA_SCALING_RULES), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_CONDITION: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(3, "lastTransitionTime", Time, Keep),
        f(4, "reason", Str, Omit),
        f(5, "message", Str, Omit),
    ],
};
pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_SPEC: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
    fields: &[
        f(1, "scaleTargetRef", Msg(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE), Keep),
        f(2, "minReplicas", I32, Keep),
        f(3, "maxReplicas", I32, Keep),
        f(4, "metrics", Msg(&AUTOSCALING_V2_METRIC_SPEC), Rep),
        f(5, "behavior", Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_BEHAVIOR), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    fields: &[
        f(1, "observedGeneration", I64, Keep),
        f(2, "lastScaleTime", Time, Keep),
        f(3, "currentReplicas", I32, Omit),
        f(4, "desiredReplicas", I32, Keep),
        f(5, "currentMetrics", Msg(&AUTOSCALING_V2_METRIC_STATUS), Rep),
        f(6, "conditions", Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_CONDITION), Rep),
    ],
};
pub(super) static AUTOSCALING_V2_HPA_SCALING_POLICY: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HpaScalingPolicy",
    fields: &[f(1, "type", Str, Keep), f(2, "value", I32, Keep), f(3, "periodSeconds", I32, Keep)],
};
pub(super) static AUTOSCALING_V2_HPA_SCALING_RULES: Message = Message {
    name: "k8s.io.api.autoscaling.v2.HpaScalingRules",
    fields: &[
        f(1, "selectPolicy", Str, Omit),
        f(2, "policies", Msg(&AUTOSCALING_V2_HPA_SCALING_POLICY), Rep),
        f(3, "stabilizationWindowSeconds", I32, Keep),
        f(4, "tolerance", Quantity, Keep),
    ],
};
pub(super) static AUTOSCALING_V2_METRIC_IDENTIFIER: Message = Message {
    name: "k8s.io.api.autoscaling.v2.MetricIdentifier",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_METRIC_SPEC: Message = Message {
    name: "k8s.io.api.autoscaling.v2.MetricSpec",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "object", Msg(&AUTOSCALING_V2_OBJECT_METRIC_SOURCE), Keep),
        f(3, "pods", Msg(&AUTOSCALING_V2_PODS_METRIC_SOURCE), Keep),
        f(4, "resource", Msg(&AUTOSCALING_V2_RESOURCE_METRIC_SOURCE), Keep),
        f(5, "external", Msg(&AUTOSCALING_V2_EXTERNAL_METRIC_SOURCE), Keep),
        f(7, "containerResource", Msg(&AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_SOURCE), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_METRIC_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.MetricStatus",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "object", Msg(&AUTOSCALING_V2_OBJECT_METRIC_STATUS), Keep),
        f(3, "pods", Msg(&AUTOSCALING_V2_PODS_METRIC_STATUS), Keep),
        f(4, "resource", Msg(&AUTOSCALING_V2_RESOURCE_METRIC_STATUS), Keep),
        f(5, "external", Msg(&AUTOSCALING_V2_EXTERNAL_METRIC_STATUS), Keep),
        f(7, "containerResource", Msg(&AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_STATUS), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_METRIC_TARGET: Message = Message {
    name: "k8s.io.api.autoscaling.v2.MetricTarget",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "value", Quantity, Keep),
        f(3, "averageValue", Quantity, Keep),
        f(4, "averageUtilization", I32, Keep),
    ],
};
pub(super) static AUTOSCALING_V2_METRIC_VALUE_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.MetricValueStatus",
    fields: &[
        f(1, "value", Quantity, Keep),
        f(2, "averageValue", Quantity, Keep),
        f(3, "averageUtilization", I32, Keep),
    ],
};
pub(super) static AUTOSCALING_V2_OBJECT_METRIC_SOURCE: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ObjectMetricSource",
    fields: &[
        f(1, "describedObject", Msg(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE), Keep),
        f(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET), Keep),
        f(3, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_OBJECT_METRIC_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ObjectMetricStatus",
    fields: &[
        f(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER), Keep),
        f(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS), Keep),
        f(3, "describedObject", Msg(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_PODS_METRIC_SOURCE: Message = Message {
    name: "k8s.io.api.autoscaling.v2.PodsMetricSource",
    fields: &[
        f(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER), Keep),
        f(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_PODS_METRIC_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.PodsMetricStatus",
    fields: &[
        f(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER), Keep),
        f(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS), Keep),
    ],
};
pub(super) static AUTOSCALING_V2_RESOURCE_METRIC_SOURCE: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ResourceMetricSource",
    fields: &[f(1, "name", Str, Keep), f(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET), Keep)],
};
pub(super) static AUTOSCALING_V2_RESOURCE_METRIC_STATUS: Message = Message {
    name: "k8s.io.api.autoscaling.v2.ResourceMetricStatus",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS), Keep),
    ],
};
pub(super) static BATCH_V1_CRON_JOB: Message = Message {
    name: "k8s.io.api.batch.v1.CronJob",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&BATCH_V1_CRON_JOB_SPEC), Keep),
        f(3, "status", Msg(&BATCH_V1_CRON_JOB_STATUS), Keep),
    ],
};
pub(super) static BATCH_V1_CRON_JOB_SPEC: Message = Message {
    name: "k8s.io.api.batch.v1.CronJobSpec",
    fields: &[
        f(1, "schedule", Str, Keep),
        f(2, "startingDeadlineSeconds", I64, Keep),
        f(3, "concurrencyPolicy", Str, Omit),
        f(4, "suspend", Bool, Keep),
        f(5, "jobTemplate", Msg(&BATCH_V1_JOB_TEMPLATE_SPEC), Keep),
        f(6, "successfulJobsHistoryLimit", I32, Keep),
        f(7, "failedJobsHistoryLimit", I32, Keep),
        f(8, "timeZone", Str, Keep),
    ],
};
pub(super) static BATCH_V1_CRON_JOB_STATUS: Message = Message {
    name: "k8s.io.api.batch.v1.CronJobStatus",
    fields: &[
        f(1, "active", Msg(&CORE_V1_OBJECT_REFERENCE), Rep),
        f(4, "lastScheduleTime", Time, Keep),
        f(5, "lastSuccessfulTime", Time, Keep),
    ],
};
pub(super) static BATCH_V1_JOB: Message = Message {
    name: "k8s.io.api.batch.v1.Job",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&BATCH_V1_JOB_SPEC), Keep),
        f(3, "status", Msg(&BATCH_V1_JOB_STATUS), Keep),
    ],
};
pub(super) static BATCH_V1_JOB_CONDITION: Message = Message {
    name: "k8s.io.api.batch.v1.JobCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(3, "lastProbeTime", Time, Keep),
        f(4, "lastTransitionTime", Time, Keep),
        f(5, "reason", Str, Omit),
        f(6, "message", Str, Omit),
    ],
};
pub(super) static BATCH_V1_JOB_SPEC: Message = Message {
    name: "k8s.io.api.batch.v1.JobSpec",
    fields: &[
        f(1, "parallelism", I32, Keep),
        f(2, "completions", I32, Keep),
        f(3, "activeDeadlineSeconds", I64, Keep),
        f(4, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(5, "manualSelector", Bool, Keep),
        f(6, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
        f(7, "backoffLimit", I32, Keep),
        f(8, "ttlSecondsAfterFinished", I32, Keep),
        f(9, "completionMode", Str, Keep),
        f(10, "suspend", Bool, Keep),
        f(11, "podFailurePolicy", Msg(&BATCH_V1_POD_FAILURE_POLICY), Keep),
        f(12, "backoffLimitPerIndex", I32, Keep),
        f(13, "maxFailedIndexes", I32, Keep),
        f(14, "podReplacementPolicy", Str, Keep),
        f(15, "managedBy", Str, Keep),
        f(16, "successPolicy", Msg(&BATCH_V1_SUCCESS_POLICY), Keep),
    ],
};
pub(super) static BATCH_V1_JOB_STATUS: Message = Message {
    name: "k8s.io.api.batch.v1.JobStatus",
    fields: &[
        f(1, "conditions", Msg(&BATCH_V1_JOB_CONDITION), Rep),
        f(2, "startTime", Time, Keep),
        f(3, "completionTime", Time, Keep),
        f(4, "active", I32, Omit),
        f(5, "succeeded", I32, Omit),
        f(6, "failed", I32, Omit),
        f(7, "completedIndexes", Str, Omit),
        f(8, "uncountedTerminatedPods", Msg(&BATCH_V1_UNCOUNTED_TERMINATED_PODS), Keep),
        f(9, "ready", I32, Keep),
        f(10, "failedIndexes", Str, Keep),
        f(11, "terminating", I32, Keep),
    ],
};
pub(super) static BATCH_V1_JOB_TEMPLATE_SPEC: Message = Message {
    name: "k8s.io.api.batch.v1.JobTemplateSpec",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&BATCH_V1_JOB_SPEC), Keep),
    ],
};
pub(super) static BATCH_V1_POD_FAILURE_POLICY: Message = Message {
    name: "k8s.io.api.batch.v1.PodFailurePolicy",
    fields: &[f(1, "rules", Msg(&BATCH_V1_POD_FAILURE_POLICY_RULE), Rep)],
};
pub(super) static BATCH_V1_POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: Message = Message {
    name: "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
    fields: &[
        f(1, "containerName", Str, Omit),
        f(2, "operator", Str, Keep),
        f(3, "values", I32, Rep),
    ],
};
pub(super) static BATCH_V1_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: Message = Message {
    name: "k8s.io.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
    fields: &[f(1, "type", Str, Keep), f(2, "status", Str, Omit)],
};
pub(super) static BATCH_V1_POD_FAILURE_POLICY_RULE: Message = Message {
    name: "k8s.io.api.batch.v1.PodFailurePolicyRule",
    fields: &[
        f(1, "action", Str, Keep),
        f(2, "onExitCodes", Msg(&BATCH_V1_POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT), Keep),
        f(3, "onPodConditions", Msg(&BATCH_V1_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN), Rep),
    ],
};
pub(super) static BATCH_V1_SUCCESS_POLICY: Message = Message {
    name: "k8s.io.api.batch.v1.SuccessPolicy",
    fields: &[f(1, "rules", Msg(&BATCH_V1_SUCCESS_POLICY_RULE), Rep)],
};
pub(super) static BATCH_V1_SUCCESS_POLICY_RULE: Message = Message {
    name: "k8s.io.api.batch.v1.SuccessPolicyRule",
    fields: &[f(1, "succeededIndexes", Str, Omit), f(2, "succeededCount", I32, Keep)],
};
pub(super) static BATCH_V1_UNCOUNTED_TERMINATED_PODS: Message = Message {
    name: "k8s.io.api.batch.v1.UncountedTerminatedPods",
    fields: &[f(1, "succeeded", Str, Rep), f(2, "failed", Str, Rep)],
};
pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST: Message = Message {
    name: "k8s.io.api.certificates.v1.CertificateSigningRequest",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_SPEC), Keep),
        f(3, "status", Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_STATUS), Keep),
    ],
};
pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_CONDITION: Message = Message {
    name: "k8s.io.api.certificates.v1.CertificateSigningRequestCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "reason", Str, Omit),
        f(3, "message", Str, Omit),
        f(4, "lastUpdateTime", Time, Keep),
        f(5, "lastTransitionTime", Time, Keep),
        f(6, "status", Str, Keep),
    ],
};
pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_SPEC: Message = Message {
    name: "k8s.io.api.certificates.v1.CertificateSigningRequestSpec",
    fields: &[
        f(1, "request", Bytes, Keep),
        f(2, "username", Str, Omit),
        f(3, "uid", Str, Omit),
        f(4, "groups", Str, Rep),
        f(5, "usages", Str, Rep),
        f(6, "extra", Map(&Msg(&CERTIFICATES_V1_EXTRA_VALUE)), Rep),
        f(7, "signerName", Str, Keep),
        f(8, "expirationSeconds", I32, Keep),
    ],
};
pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_STATUS: Message = Message {
    name: "k8s.io.api.certificates.v1.CertificateSigningRequestStatus",
    fields: &[
        f(1, "conditions", Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_CONDITION), Rep),
        f(2, "certificate", Bytes, Omit),
    ],
};
pub(super) static CERTIFICATES_V1_EXTRA_VALUE: Message =
    Message { name: "k8s.io.api.certificates.v1.ExtraValue", fields: &[f(1, "items", Str, Rep)] };
pub(super) static COORDINATION_V1_LEASE: Message = Message {
    name: "k8s.io.api.coordination.v1.Lease",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&COORDINATION_V1_LEASE_SPEC), Keep),
    ],
};
pub(super) static COORDINATION_V1_LEASE_SPEC: Message = Message {
    name: "k8s.io.api.coordination.v1.LeaseSpec",
    fields: &[
        f(1, "holderIdentity", Str, Omit),
        f(2, "leaseDurationSeconds", I32, Keep),
        f(3, "acquireTime", MicroTime, Keep),
        f(4, "renewTime", MicroTime, Keep),
        f(5, "leaseTransitions", I32, Keep),
        f(6, "strategy", Str, Omit),
        f(7, "preferredHolder", Str, Omit),
    ],
};
pub(super) static CORE_V1_AFFINITY: Message = Message {
    name: "k8s.io.api.core.v1.Affinity",
    fields: &[
        f(1, "nodeAffinity", Msg(&CORE_V1_NODE_AFFINITY), Keep),
        f(2, "podAffinity", Msg(&CORE_V1_POD_AFFINITY), Keep),
        f(3, "podAntiAffinity", Msg(&CORE_V1_POD_ANTI_AFFINITY), Keep),
    ],
};
pub(super) static CORE_V1_APP_ARMOR_PROFILE: Message = Message {
    name: "k8s.io.api.core.v1.AppArmorProfile",
    fields: &[f(1, "type", Str, Keep), f(2, "localhostProfile", Str, Keep)],
};
pub(super) static CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.AwsElasticBlockStoreVolumeSource",
    fields: &[
        f(1, "volumeID", Str, Keep),
        f(2, "fsType", Str, Omit),
        f(3, "partition", I32, Omit),
        f(4, "readOnly", Bool, Omit),
    ],
};
pub(super) static CORE_V1_AZURE_DISK_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.AzureDiskVolumeSource",
    fields: &[
        f(1, "diskName", Str, Keep),
        f(2, "diskURI", Str, Keep),
        f(3, "cachingMode", Str, Keep),
        f(4, "fsType", Str, Keep),
        f(5, "readOnly", Bool, Keep),
        f(6, "kind", Str, Keep),
    ],
};
pub(super) static CORE_V1_AZURE_FILE_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.AzureFileVolumeSource",
    fields: &[
        f(1, "secretName", Str, Keep),
        f(2, "shareName", Str, Keep),
        f(3, "readOnly", Bool, Omit),
    ],
};
pub(super) static CORE_V1_BINDING: Message = Message {
    name: "k8s.io.api.core.v1.Binding",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "target", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
    ],
};
pub(super) static CORE_V1_CAPABILITIES: Message = Message {
    name: "k8s.io.api.core.v1.Capabilities",
    fields: &[f(1, "add", Str, Rep), f(2, "drop", Str, Rep)],
};
pub(super) static CORE_V1_CEPH_FS_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.CephFsVolumeSource",
    fields: &[
        f(1, "monitors", Str, Rep),
        f(2, "path", Str, Omit),
        f(3, "user", Str, Omit),
        f(4, "secretFile", Str, Omit),
        f(5, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
        f(6, "readOnly", Bool, Omit),
    ],
};
pub(super) static CORE_V1_CINDER_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.CinderVolumeSource",
    fields: &[
        f(1, "volumeID", Str, Keep),
        f(2, "fsType", Str, Omit),
        f(3, "readOnly", Bool, Omit),
        f(4, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
    ],
};
pub(super) static CORE_V1_CLIENT_IP_CONFIG: Message = Message {
    name: "k8s.io.api.core.v1.ClientIpConfig",
    fields: &[f(1, "timeoutSeconds", I32, Keep)],
};
pub(super) static CORE_V1_CLUSTER_TRUST_BUNDLE_PROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.ClusterTrustBundleProjection",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "signerName", Str, Keep),
        f(3, "labelSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(4, "path", Str, Keep),
        f(5, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_CONFIG_MAP: Message = Message {
    name: "k8s.io.api.core.v1.ConfigMap",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "data", Map(&Str), Rep),
        f(3, "binaryData", Map(&Bytes), Rep),
        f(4, "immutable", Bool, Keep),
    ],
};
pub(super) static CORE_V1_CONFIG_MAP_ENV_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.ConfigMapEnvSource",
    fields: &[f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline), f(2, "optional", Bool, Keep)],
};
pub(super) static CORE_V1_CONFIG_MAP_KEY_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.ConfigMapKeySelector",
    fields: &[
        f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline),
        f(2, "key", Str, Keep),
        f(3, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_CONFIG_MAP_PROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.ConfigMapProjection",
    fields: &[
        f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline),
        f(2, "items", Msg(&CORE_V1_KEY_TO_PATH), Rep),
        f(4, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_CONFIG_MAP_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.ConfigMapVolumeSource",
    fields: &[
        f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline),
        f(2, "items", Msg(&CORE_V1_KEY_TO_PATH), Rep),
        f(3, "defaultMode", I32, Keep),
        f(4, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_CONTAINER: Message = Message {
    name: "k8s.io.api.core.v1.Container",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "image", Str, Omit),
        f(3, "command", Str, Rep),
        f(4, "args", Str, Rep),
        f(5, "workingDir", Str, Omit),
        f(6, "ports", Msg(&CORE_V1_CONTAINER_PORT), Rep),
        f(7, "env", Msg(&CORE_V1_ENV_VAR), Rep),
        f(8, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS), Keep),
        f(9, "volumeMounts", Msg(&CORE_V1_VOLUME_MOUNT), Rep),
        f(10, "livenessProbe", Msg(&CORE_V1_PROBE), Keep),
        f(11, "readinessProbe", Msg(&CORE_V1_PROBE), Keep),
        f(12, "lifecycle", Msg(&CORE_V1_LIFECYCLE), Keep),
        f(13, "terminationMessagePath", Str, Omit),
        f(14, "imagePullPolicy", Str, Omit),
        f(15, "securityContext", Msg(&CORE_V1_SECURITY_CONTEXT), Keep),
        f(16, "stdin", Bool, Omit),
        f(17, "stdinOnce", Bool, Omit),
        f(18, "tty", Bool, Omit),
        f(19, "envFrom", Msg(&CORE_V1_ENV_FROM_SOURCE), Rep),
        f(20, "terminationMessagePolicy", Str, Omit),
        f(21, "volumeDevices", Msg(&CORE_V1_VOLUME_DEVICE), Rep),
        f(22, "startupProbe", Msg(&CORE_V1_PROBE), Keep),
        f(23, "resizePolicy", Msg(&CORE_V1_CONTAINER_RESIZE_POLICY), Rep),
        f(24, "restartPolicy", Str, Keep),
        f(25, "restartPolicyRules", Msg(&CORE_V1_CONTAINER_RESTART_RULE), Rep),
    ],
};
pub(super) static CORE_V1_CONTAINER_EXTENDED_RESOURCE_REQUEST: Message = Message {
    name: "k8s.io.api.core.v1.ContainerExtendedResourceRequest",
    fields: &[
        f(1, "containerName", Str, Keep),
        f(2, "resourceName", Str, Keep),
        f(3, "requestName", Str, Keep),
    ],
};
pub(super) static CORE_V1_CONTAINER_PORT: Message = Message {
    name: "k8s.io.api.core.v1.ContainerPort",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "hostPort", I32, Omit),
        f(3, "containerPort", I32, Keep),
        f(4, "protocol", Str, Omit),
        f(5, "hostIP", Str, Omit),
    ],
};
pub(super) static CORE_V1_CONTAINER_RESIZE_POLICY: Message = Message {
    name: "k8s.io.api.core.v1.ContainerResizePolicy",
    fields: &[f(1, "resourceName", Str, Keep), f(2, "restartPolicy", Str, Keep)],
};
pub(super) static CORE_V1_CONTAINER_RESTART_RULE: Message = Message {
    name: "k8s.io.api.core.v1.ContainerRestartRule",
    fields: &[
        f(1, "action", Str, Keep),
        f(2, "exitCodes", Msg(&CORE_V1_CONTAINER_RESTART_RULE_ON_EXIT_CODES), Keep),
    ],
};
pub(super) static CORE_V1_CONTAINER_RESTART_RULE_ON_EXIT_CODES: Message = Message {
    name: "k8s.io.api.core.v1.ContainerRestartRuleOnExitCodes",
    fields: &[f(1, "operator", Str, Keep), f(2, "values", I32, Rep)],
};
pub(super) static CORE_V1_CONTAINER_STATE: Message = Message {
    name: "k8s.io.api.core.v1.ContainerState",
    fields: &[
        f(1, "waiting", Msg(&CORE_V1_CONTAINER_STATE_WAITING), Keep),
        f(2, "running", Msg(&CORE_V1_CONTAINER_STATE_RUNNING), Keep),
        f(3, "terminated", Msg(&CORE_V1_CONTAINER_STATE_TERMINATED), Keep),
    ],
};
pub(super) static CORE_V1_CONTAINER_STATE_RUNNING: Message = Message {
    name: "k8s.io.api.core.v1.ContainerStateRunning",
    fields: &[f(1, "startedAt", Time, Keep)],
};
pub(super) static CORE_V1_CONTAINER_STATE_TERMINATED: Message = Message {
    name: "k8s.io.api.core.v1.ContainerStateTerminated",
    fields: &[
        f(1, "exitCode", I32, Keep),
        f(2, "signal", I32, Omit),
        f(3, "reason", Str, Omit),
        f(4, "message", Str, Omit),
        f(5, "startedAt", Time, Keep),
        f(6, "finishedAt", Time, Keep),
        f(7, "containerID", Str, Omit),
    ],
};
pub(super) static CORE_V1_CONTAINER_STATE_WAITING: Message = Message {
    name: "k8s.io.api.core.v1.ContainerStateWaiting",
    fields: &[f(1, "reason", Str, Omit), f(2, "message", Str, Omit)],
};
pub(super) static CORE_V1_CONTAINER_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ContainerStatus",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "state", Msg(&CORE_V1_CONTAINER_STATE), Keep),
        f(3, "lastState", Msg(&CORE_V1_CONTAINER_STATE), Keep),
        f(4, "ready", Bool, Keep),
        f(5, "restartCount", I32, Keep),
        f(6, "image", Str, Keep),
        f(7, "imageID", Str, Keep),
        f(8, "containerID", Str, Omit),
        f(9, "started", Bool, Keep),
        f(10, "allocatedResources", Map(&Quantity), Rep),
        f(11, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS), Keep),
        f(12, "volumeMounts", Msg(&CORE_V1_VOLUME_MOUNT_STATUS), Rep),
        f(13, "user", Msg(&CORE_V1_CONTAINER_USER), Keep),
        f(14, "allocatedResourcesStatus", Msg(&CORE_V1_RESOURCE_STATUS), Rep),
        f(15, "stopSignal", Str, Omit),
    ],
};
pub(super) static CORE_V1_CONTAINER_USER: Message = Message {
    name: "k8s.io.api.core.v1.ContainerUser",
    fields: &[f(1, "linux", Msg(&CORE_V1_LINUX_CONTAINER_USER), Keep)],
};
pub(super) static CORE_V1_CSIVOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.CSIVolumeSource",
    fields: &[
        f(1, "driver", Str, Keep),
        f(2, "readOnly", Bool, Keep),
        f(3, "fsType", Str, Keep),
        f(4, "volumeAttributes", Map(&Str), Rep),
        f(5, "nodePublishSecretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
    ],
};
pub(super) static CORE_V1_DOWNWARD_APIPROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.DownwardAPIProjection",
    fields: &[f(1, "items", Msg(&CORE_V1_DOWNWARD_APIVOLUME_FILE), Rep)],
};
pub(super) static CORE_V1_DOWNWARD_APIVOLUME_FILE: Message = Message {
    name: "k8s.io.api.core.v1.DownwardAPIVolumeFile",
    fields: &[
        f(1, "path", Str, Keep),
        f(2, "fieldRef", Msg(&CORE_V1_OBJECT_FIELD_SELECTOR), Keep),
        f(3, "resourceFieldRef", Msg(&CORE_V1_RESOURCE_FIELD_SELECTOR), Keep),
        f(4, "mode", I32, Keep),
    ],
};
pub(super) static CORE_V1_DOWNWARD_APIVOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.DownwardAPIVolumeSource",
    fields: &[
        f(1, "items", Msg(&CORE_V1_DOWNWARD_APIVOLUME_FILE), Rep),
        f(2, "defaultMode", I32, Keep),
    ],
};
pub(super) static CORE_V1_EMPTY_DIR_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.EmptyDirVolumeSource",
    fields: &[f(1, "medium", Str, Omit), f(2, "sizeLimit", Quantity, Keep)],
};
pub(super) static CORE_V1_ENDPOINTS: Message = Message {
    name: "k8s.io.api.core.v1.Endpoints",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "subsets", Msg(&CORE_V1_ENDPOINT_SUBSET), Rep),
    ],
};
pub(super) static CORE_V1_ENDPOINT_ADDRESS: Message = Message {
    name: "k8s.io.api.core.v1.EndpointAddress",
    fields: &[
        f(1, "ip", Str, Keep),
        f(2, "targetRef", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
        f(3, "hostname", Str, Omit),
        f(4, "nodeName", Str, Omit),
    ],
};
pub(super) static CORE_V1_ENDPOINT_PORT: Message = Message {
    name: "k8s.io.api.core.v1.EndpointPort",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "port", I32, Keep),
        f(3, "protocol", Str, Omit),
        f(4, "appProtocol", Str, Omit),
    ],
};
pub(super) static CORE_V1_ENDPOINT_SUBSET: Message = Message {
    name: "k8s.io.api.core.v1.EndpointSubset",
    fields: &[
        f(1, "addresses", Msg(&CORE_V1_ENDPOINT_ADDRESS), Rep),
        f(2, "notReadyAddresses", Msg(&CORE_V1_ENDPOINT_ADDRESS), Rep),
        f(3, "ports", Msg(&CORE_V1_ENDPOINT_PORT), Rep),
    ],
};
pub(super) static CORE_V1_ENV_FROM_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.EnvFromSource",
    fields: &[
        f(1, "prefix", Str, Omit),
        f(2, "configMapRef", Msg(&CORE_V1_CONFIG_MAP_ENV_SOURCE), Keep),
        f(3, "secretRef", Msg(&CORE_V1_SECRET_ENV_SOURCE), Keep),
    ],
};
pub(super) static CORE_V1_ENV_VAR: Message = Message {
    name: "k8s.io.api.core.v1.EnvVar",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "value", Str, Omit),
        f(3, "valueFrom", Msg(&CORE_V1_ENV_VAR_SOURCE), Keep),
    ],
};
pub(super) static CORE_V1_ENV_VAR_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.EnvVarSource",
    fields: &[
        f(1, "fieldRef", Msg(&CORE_V1_OBJECT_FIELD_SELECTOR), Keep),
        f(2, "resourceFieldRef", Msg(&CORE_V1_RESOURCE_FIELD_SELECTOR), Keep),
        f(3, "configMapKeyRef", Msg(&CORE_V1_CONFIG_MAP_KEY_SELECTOR), Keep),
        f(4, "secretKeyRef", Msg(&CORE_V1_SECRET_KEY_SELECTOR), Keep),
        f(5, "fileKeyRef", Msg(&CORE_V1_FILE_KEY_SELECTOR), Keep),
    ],
};
pub(super) static CORE_V1_EPHEMERAL_CONTAINER: Message = Message {
    name: "k8s.io.api.core.v1.EphemeralContainer",
    fields: &[
        f(1, "", Msg(&CORE_V1_EPHEMERAL_CONTAINER_COMMON), Inline),
        f(2, "targetContainerName", Str, Omit),
    ],
};
pub(super) static CORE_V1_EPHEMERAL_CONTAINER_COMMON: Message = Message {
    name: "k8s.io.api.core.v1.EphemeralContainerCommon",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "image", Str, Omit),
        f(3, "command", Str, Rep),
        f(4, "args", Str, Rep),
        f(5, "workingDir", Str, Omit),
        f(6, "ports", Msg(&CORE_V1_CONTAINER_PORT), Rep),
        f(7, "env", Msg(&CORE_V1_ENV_VAR), Rep),
        f(8, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS), Keep),
        f(9, "volumeMounts", Msg(&CORE_V1_VOLUME_MOUNT), Rep),
        f(10, "livenessProbe", Msg(&CORE_V1_PROBE), Keep),
        f(11, "readinessProbe", Msg(&CORE_V1_PROBE), Keep),
        f(12, "lifecycle", Msg(&CORE_V1_LIFECYCLE), Keep),
        f(13, "terminationMessagePath", Str, Omit),
        f(14, "imagePullPolicy", Str, Omit),
        f(15, "securityContext", Msg(&CORE_V1_SECURITY_CONTEXT), Keep),
        f(16, "stdin", Bool, Omit),
        f(17, "stdinOnce", Bool, Omit),
        f(18, "tty", Bool, Omit),
        f(19, "envFrom", Msg(&CORE_V1_ENV_FROM_SOURCE), Rep),
        f(20, "terminationMessagePolicy", Str, Omit),
        f(21, "volumeDevices", Msg(&CORE_V1_VOLUME_DEVICE), Rep),
        f(22, "startupProbe", Msg(&CORE_V1_PROBE), Keep),
        f(23, "resizePolicy", Msg(&CORE_V1_CONTAINER_RESIZE_POLICY), Rep),
        f(24, "restartPolicy", Str, Omit),
        f(25, "restartPolicyRules", Msg(&CORE_V1_CONTAINER_RESTART_RULE), Rep),
    ],
};
pub(super) static CORE_V1_EPHEMERAL_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.EphemeralVolumeSource",
    fields: &[f(1, "volumeClaimTemplate", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_TEMPLATE), Keep)],
};
pub(super) static CORE_V1_EVENT: Message = Message {
    name: "k8s.io.api.core.v1.Event",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "involvedObject", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
        f(3, "reason", Str, Omit),
        f(4, "message", Str, Omit),
        f(5, "source", Msg(&CORE_V1_EVENT_SOURCE), Keep),
        f(6, "firstTimestamp", Time, Keep),
        f(7, "lastTimestamp", Time, Keep),
        f(8, "count", I32, Omit),
        f(9, "type", Str, Omit),
        f(10, "eventTime", MicroTime, Keep),
        f(11, "series", Msg(&CORE_V1_EVENT_SERIES), Keep),
        f(12, "action", Str, Omit),
        f(13, "related", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
        f(14, "reportingComponent", Str, Omit),
        f(15, "reportingInstance", Str, Omit),
    ],
};
pub(super) static CORE_V1_EVENT_SERIES: Message = Message {
    name: "k8s.io.api.core.v1.EventSeries",
    fields: &[f(1, "count", I32, Omit), f(2, "lastObservedTime", MicroTime, Keep)],
};
pub(super) static CORE_V1_EVENT_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.EventSource",
    fields: &[f(1, "component", Str, Omit), f(2, "host", Str, Omit)],
};
pub(super) static CORE_V1_EXEC_ACTION: Message =
    Message { name: "k8s.io.api.core.v1.ExecAction", fields: &[f(1, "command", Str, Rep)] };
pub(super) static CORE_V1_FC_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.FcVolumeSource",
    fields: &[
        f(1, "targetWWNs", Str, Rep),
        f(2, "lun", I32, Keep),
        f(3, "fsType", Str, Omit),
        f(4, "readOnly", Bool, Omit),
        f(5, "wwids", Str, Rep),
    ],
};
pub(super) static CORE_V1_FILE_KEY_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.FileKeySelector",
    fields: &[
        f(1, "volumeName", Str, Keep),
        f(2, "path", Str, Keep),
        f(3, "key", Str, Keep),
        f(4, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_FLEX_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.FlexVolumeSource",
    fields: &[
        f(1, "driver", Str, Keep),
        f(2, "fsType", Str, Omit),
        f(3, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
        f(4, "readOnly", Bool, Omit),
        f(5, "options", Map(&Str), Rep),
    ],
};
pub(super) static CORE_V1_FLOCKER_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.FlockerVolumeSource",
    fields: &[f(1, "datasetName", Str, Omit), f(2, "datasetUUID", Str, Omit)],
};
pub(super) static CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.GcePersistentDiskVolumeSource",
    fields: &[
        f(1, "pdName", Str, Keep),
        f(2, "fsType", Str, Omit),
        f(3, "partition", I32, Omit),
        f(4, "readOnly", Bool, Omit),
    ],
};
pub(super) static CORE_V1_GIT_REPO_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.GitRepoVolumeSource",
    fields: &[
        f(1, "repository", Str, Keep),
        f(2, "revision", Str, Omit),
        f(3, "directory", Str, Omit),
    ],
};
pub(super) static CORE_V1_GLUSTERFS_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.GlusterfsVolumeSource",
    fields: &[f(1, "endpoints", Str, Keep), f(2, "path", Str, Keep), f(3, "readOnly", Bool, Omit)],
};
pub(super) static CORE_V1_GRPC_ACTION: Message = Message {
    name: "k8s.io.api.core.v1.GrpcAction",
    fields: &[f(1, "port", I32, Keep), f(2, "service", Str, Keep)],
};
pub(super) static CORE_V1_HOST_ALIAS: Message = Message {
    name: "k8s.io.api.core.v1.HostAlias",
    fields: &[f(1, "ip", Str, Keep), f(2, "hostnames", Str, Rep)],
};
pub(super) static CORE_V1_HOST_IP: Message =
    Message { name: "k8s.io.api.core.v1.HostIp", fields: &[f(1, "ip", Str, Keep)] };
pub(super) static CORE_V1_HOST_PATH_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.HostPathVolumeSource",
    fields: &[f(1, "path", Str, Keep), f(2, "type", Str, Keep)],
};
pub(super) static CORE_V1_HTTP_GET_ACTION: Message = Message {
    name: "k8s.io.api.core.v1.HttpGetAction",
    fields: &[
        f(1, "path", Str, Omit),
        f(2, "port", IntOrString, Keep),
        f(3, "host", Str, Omit),
        f(4, "scheme", Str, Omit),
        f(5, "httpHeaders", Msg(&CORE_V1_HTTP_HEADER), Rep),
    ],
};
pub(super) static CORE_V1_HTTP_HEADER: Message = Message {
    name: "k8s.io.api.core.v1.HttpHeader",
    fields: &[f(1, "name", Str, Keep), f(2, "value", Str, Keep)],
};
pub(super) static CORE_V1_IMAGE_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.ImageVolumeSource",
    fields: &[f(1, "reference", Str, Omit), f(2, "pullPolicy", Str, Omit)],
};
pub(super) static CORE_V1_ISCSI_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.IscsiVolumeSource",
    fields: &[
        f(1, "targetPortal", Str, Keep),
        f(2, "iqn", Str, Keep),
        f(3, "lun", I32, Keep),
        f(4, "iscsiInterface", Str, Omit),
        f(5, "fsType", Str, Omit),
        f(6, "readOnly", Bool, Omit),
        f(7, "portals", Str, Rep),
        f(8, "chapAuthDiscovery", Bool, Omit),
        f(10, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
        f(11, "chapAuthSession", Bool, Omit),
        f(12, "initiatorName", Str, Keep),
    ],
};
pub(super) static CORE_V1_KEY_TO_PATH: Message = Message {
    name: "k8s.io.api.core.v1.KeyToPath",
    fields: &[f(1, "key", Str, Keep), f(2, "path", Str, Keep), f(3, "mode", I32, Keep)],
};
pub(super) static CORE_V1_LIFECYCLE: Message = Message {
    name: "k8s.io.api.core.v1.Lifecycle",
    fields: &[
        f(1, "postStart", Msg(&CORE_V1_LIFECYCLE_HANDLER), Keep),
        f(2, "preStop", Msg(&CORE_V1_LIFECYCLE_HANDLER), Keep),
        f(3, "stopSignal", Str, Keep),
    ],
};
pub(super) static CORE_V1_LIFECYCLE_HANDLER: Message = Message {
    name: "k8s.io.api.core.v1.LifecycleHandler",
    fields: &[
        f(1, "exec", Msg(&CORE_V1_EXEC_ACTION), Keep),
        f(2, "httpGet", Msg(&CORE_V1_HTTP_GET_ACTION), Keep),
        f(3, "tcpSocket", Msg(&CORE_V1_TCP_SOCKET_ACTION), Keep),
        f(4, "sleep", Msg(&CORE_V1_SLEEP_ACTION), Keep),
    ],
};
pub(super) static CORE_V1_LIMIT_RANGE: Message = Message {
    name: "k8s.io.api.core.v1.LimitRange",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_LIMIT_RANGE_SPEC), Keep),
    ],
};
pub(super) static CORE_V1_LIMIT_RANGE_ITEM: Message = Message {
    name: "k8s.io.api.core.v1.LimitRangeItem",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "max", Map(&Quantity), Rep),
        f(3, "min", Map(&Quantity), Rep),
        f(4, "default", Map(&Quantity), Rep),
        f(5, "defaultRequest", Map(&Quantity), Rep),
        f(6, "maxLimitRequestRatio", Map(&Quantity), Rep),
    ],
};
pub(super) static CORE_V1_LIMIT_RANGE_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.LimitRangeSpec",
    fields: &[f(1, "limits", Msg(&CORE_V1_LIMIT_RANGE_ITEM), Rep)],
};
pub(super) static CORE_V1_LINUX_CONTAINER_USER: Message = Message {
    name: "k8s.io.api.core.v1.LinuxContainerUser",
    fields: &[f(1, "uid", I64, Keep), f(2, "gid", I64, Keep), f(3, "supplementalGroups", I64, Rep)],
};
pub(super) static CORE_V1_LOAD_BALANCER_INGRESS: Message = Message {
    name: "k8s.io.api.core.v1.LoadBalancerIngress",
    fields: &[
        f(1, "ip", Str, Omit),
        f(2, "hostname", Str, Omit),
        f(3, "ipMode", Str, Omit),
        f(4, "ports", Msg(&CORE_V1_PORT_STATUS), Rep),
    ],
};
pub(super) static CORE_V1_LOAD_BALANCER_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.LoadBalancerStatus",
    fields: &[f(1, "ingress", Msg(&CORE_V1_LOAD_BALANCER_INGRESS), Rep)],
};
pub(super) static CORE_V1_LOCAL_OBJECT_REFERENCE: Message =
    Message { name: "k8s.io.api.core.v1.LocalObjectReference", fields: &[f(1, "name", Str, Omit)] };
pub(super) static CORE_V1_MODIFY_VOLUME_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ModifyVolumeStatus",
    fields: &[f(1, "targetVolumeAttributesClassName", Str, Omit), f(2, "status", Str, Keep)],
};
pub(super) static CORE_V1_NAMESPACE: Message = Message {
    name: "k8s.io.api.core.v1.Namespace",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_NAMESPACE_SPEC), Keep),
        f(3, "status", Msg(&CORE_V1_NAMESPACE_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_NAMESPACE_CONDITION: Message = Message {
    name: "k8s.io.api.core.v1.NamespaceCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(4, "lastTransitionTime", Time, Keep),
        f(5, "reason", Str, Omit),
        f(6, "message", Str, Omit),
    ],
};
pub(super) static CORE_V1_NAMESPACE_SPEC: Message =
    Message { name: "k8s.io.api.core.v1.NamespaceSpec", fields: &[f(1, "finalizers", Str, Rep)] };
pub(super) static CORE_V1_NAMESPACE_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.NamespaceStatus",
    fields: &[f(1, "phase", Str, Omit), f(2, "conditions", Msg(&CORE_V1_NAMESPACE_CONDITION), Rep)],
};
pub(super) static CORE_V1_NFS_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.NfsVolumeSource",
    fields: &[f(1, "server", Str, Keep), f(2, "path", Str, Keep), f(3, "readOnly", Bool, Omit)],
};
pub(super) static CORE_V1_NODE_AFFINITY: Message = Message {
    name: "k8s.io.api.core.v1.NodeAffinity",
    fields: &[
        f(1, "requiredDuringSchedulingIgnoredDuringExecution", Msg(&CORE_V1_NODE_SELECTOR), Keep),
        f(
            2,
            "preferredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_PREFERRED_SCHEDULING_TERM),
            Rep,
        ),
    ],
};
pub(super) static CORE_V1_NODE_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.NodeSelector",
    fields: &[f(1, "nodeSelectorTerms", Msg(&CORE_V1_NODE_SELECTOR_TERM), Rep)],
};
pub(super) static CORE_V1_NODE_SELECTOR_REQUIREMENT: Message = Message {
    name: "k8s.io.api.core.v1.NodeSelectorRequirement",
    fields: &[f(1, "key", Str, Keep), f(2, "operator", Str, Keep), f(3, "values", Str, Rep)],
};
pub(super) static CORE_V1_NODE_SELECTOR_TERM: Message = Message {
    name: "k8s.io.api.core.v1.NodeSelectorTerm",
    fields: &[
        f(1, "matchExpressions", Msg(&CORE_V1_NODE_SELECTOR_REQUIREMENT), Rep),
        f(2, "matchFields", Msg(&CORE_V1_NODE_SELECTOR_REQUIREMENT), Rep),
    ],
};
pub(super) static CORE_V1_OBJECT_FIELD_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.ObjectFieldSelector",
    fields: &[f(1, "apiVersion", Str, Omit), f(2, "fieldPath", Str, Keep)],
};
pub(super) static CORE_V1_OBJECT_REFERENCE: Message = Message {
    name: "k8s.io.api.core.v1.ObjectReference",
    fields: &[
        f(1, "kind", Str, Omit),
        f(2, "namespace", Str, Omit),
        f(3, "name", Str, Omit),
        f(4, "uid", Str, Omit),
        f(5, "apiVersion", Str, Omit),
        f(6, "resourceVersion", Str, Omit),
        f(7, "fieldPath", Str, Omit),
    ],
};
pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM: Message = Message {
    name: "k8s.io.api.core.v1.PersistentVolumeClaim",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC), Keep),
        f(3, "status", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_CONDITION: Message = Message {
    name: "k8s.io.api.core.v1.PersistentVolumeClaimCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(3, "lastProbeTime", Time, Keep),
        f(4, "lastTransitionTime", Time, Keep),
        f(5, "reason", Str, Omit),
        f(6, "message", Str, Omit),
    ],
};
pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.PersistentVolumeClaimSpec",
    fields: &[
        f(1, "accessModes", Str, Rep),
        f(2, "resources", Msg(&CORE_V1_VOLUME_RESOURCE_REQUIREMENTS), Keep),
        f(3, "volumeName", Str, Omit),
        f(4, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(5, "storageClassName", Str, Keep),
        f(6, "volumeMode", Str, Keep),
        f(7, "dataSource", Msg(&CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE), Keep),
        f(8, "dataSourceRef", Msg(&CORE_V1_TYPED_OBJECT_REFERENCE), Keep),
        f(9, "volumeAttributesClassName", Str, Keep),
    ],
};
pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.PersistentVolumeClaimStatus",
    fields: &[
        f(1, "phase", Str, Omit),
        f(2, "accessModes", Str, Rep),
        f(3, "capacity", Map(&Quantity), Rep),
        f(4, "conditions", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_CONDITION), Rep),
        f(5, "allocatedResources", Map(&Quantity), Rep),
        f(7, "allocatedResourceStatuses", Map(&Str), Rep),
        f(8, "currentVolumeAttributesClassName", Str, Omit),
        f(9, "modifyVolumeStatus", Msg(&CORE_V1_MODIFY_VOLUME_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_TEMPLATE: Message = Message {
    name: "k8s.io.api.core.v1.PersistentVolumeClaimTemplate",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC), Keep),
    ],
};
pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource",
    fields: &[f(1, "claimName", Str, Keep), f(2, "readOnly", Bool, Omit)],
};
pub(super) static CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource",
    fields: &[f(1, "pdID", Str, Keep), f(2, "fsType", Str, Omit)],
};
pub(super) static CORE_V1_POD: Message = Message {
    name: "k8s.io.api.core.v1.Pod",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_POD_SPEC), Keep),
        f(3, "status", Msg(&CORE_V1_POD_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_POD_AFFINITY: Message = Message {
    name: "k8s.io.api.core.v1.PodAffinity",
    fields: &[
        f(
            1,
            "requiredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_POD_AFFINITY_TERM),
            Rep,
        ),
        f(
            2,
            "preferredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_WEIGHTED_POD_AFFINITY_TERM),
            Rep,
        ),
    ],
};
pub(super) static CORE_V1_POD_AFFINITY_TERM: Message = Message {
    name: "k8s.io.api.core.v1.PodAffinityTerm",
    fields: &[
        f(1, "labelSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(2, "namespaces", Str, Rep),
        f(3, "topologyKey", Str, Keep),
        f(4, "namespaceSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(5, "matchLabelKeys", Str, Rep),
        f(6, "mismatchLabelKeys", Str, Rep),
    ],
};
pub(super) static CORE_V1_POD_ANTI_AFFINITY: Message = Message {
    name: "k8s.io.api.core.v1.PodAntiAffinity",
    fields: &[
        f(
            1,
            "requiredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_POD_AFFINITY_TERM),
            Rep,
        ),
        f(
            2,
            "preferredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_WEIGHTED_POD_AFFINITY_TERM),
            Rep,
        ),
    ],
};
pub(super) static CORE_V1_POD_CERTIFICATE_PROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.PodCertificateProjection",
    fields: &[
        f(1, "signerName", Str, Keep),
        f(2, "keyType", Str, Keep),
        f(3, "maxExpirationSeconds", I32, Keep),
        f(4, "credentialBundlePath", Str, Omit),
        f(5, "keyPath", Str, Omit),
        f(6, "certificateChainPath", Str, Omit),
        f(7, "userAnnotations", Map(&Str), Rep),
    ],
};
pub(super) static CORE_V1_POD_CONDITION: Message = Message {
    name: "k8s.io.api.core.v1.PodCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(3, "lastProbeTime", Time, Keep),
        f(4, "lastTransitionTime", Time, Keep),
        f(5, "reason", Str, Omit),
        f(6, "message", Str, Omit),
        f(7, "observedGeneration", I64, Omit),
    ],
};
pub(super) static CORE_V1_POD_DNS_CONFIG: Message = Message {
    name: "k8s.io.api.core.v1.PodDnsConfig",
    fields: &[
        f(1, "nameservers", Str, Rep),
        f(2, "searches", Str, Rep),
        f(3, "options", Msg(&CORE_V1_POD_DNS_CONFIG_OPTION), Rep),
    ],
};
pub(super) static CORE_V1_POD_DNS_CONFIG_OPTION: Message = Message {
    name: "k8s.io.api.core.v1.PodDnsConfigOption",
    fields: &[f(1, "name", Str, Omit), f(2, "value", Str, Keep)],
};
pub(super) static CORE_V1_POD_EXTENDED_RESOURCE_CLAIM_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.PodExtendedResourceClaimStatus",
    fields: &[
        f(1, "requestMappings", Msg(&CORE_V1_CONTAINER_EXTENDED_RESOURCE_REQUEST), Rep),
        f(2, "resourceClaimName", Str, Keep),
    ],
};
pub(super) static CORE_V1_POD_IP: Message =
    Message { name: "k8s.io.api.core.v1.PodIp", fields: &[f(1, "ip", Str, Keep)] };
pub(super) static CORE_V1_POD_OS: Message =
    Message { name: "k8s.io.api.core.v1.PodOs", fields: &[f(1, "name", Str, Keep)] };
pub(super) static CORE_V1_POD_READINESS_GATE: Message = Message {
    name: "k8s.io.api.core.v1.PodReadinessGate",
    fields: &[f(1, "conditionType", Str, Keep)],
};
pub(super) static CORE_V1_POD_RESOURCE_CLAIM: Message = Message {
    name: "k8s.io.api.core.v1.PodResourceClaim",
    fields: &[
        f(1, "name", Str, Keep),
        f(3, "resourceClaimName", Str, Keep),
        f(4, "resourceClaimTemplateName", Str, Keep),
    ],
};
pub(super) static CORE_V1_POD_RESOURCE_CLAIM_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.PodResourceClaimStatus",
    fields: &[f(1, "name", Str, Keep), f(2, "resourceClaimName", Str, Omit)],
};
pub(super) static CORE_V1_POD_SCHEDULING_GATE: Message =
    Message { name: "k8s.io.api.core.v1.PodSchedulingGate", fields: &[f(1, "name", Str, Keep)] };
pub(super) static CORE_V1_POD_SECURITY_CONTEXT: Message = Message {
    name: "k8s.io.api.core.v1.PodSecurityContext",
    fields: &[
        f(1, "seLinuxOptions", Msg(&CORE_V1_SE_LINUX_OPTIONS), Keep),
        f(2, "runAsUser", I64, Keep),
        f(3, "runAsNonRoot", Bool, Keep),
        f(4, "supplementalGroups", I64, Rep),
        f(5, "fsGroup", I64, Keep),
        f(6, "runAsGroup", I64, Keep),
        f(7, "sysctls", Msg(&CORE_V1_SYSCTL), Rep),
        f(8, "windowsOptions", Msg(&CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS), Keep),
        f(9, "fsGroupChangePolicy", Str, Keep),
        f(10, "seccompProfile", Msg(&CORE_V1_SECCOMP_PROFILE), Keep),
        f(11, "appArmorProfile", Msg(&CORE_V1_APP_ARMOR_PROFILE), Keep),
        f(12, "supplementalGroupsPolicy", Str, Keep),
        f(13, "seLinuxChangePolicy", Str, Keep),
    ],
};
pub(super) static CORE_V1_POD_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.PodSpec",
    fields: &[
        f(1, "volumes", Msg(&CORE_V1_VOLUME), Rep),
        f(2, "containers", Msg(&CORE_V1_CONTAINER), Rep),
        f(3, "restartPolicy", Str, Omit),
        f(4, "terminationGracePeriodSeconds", I64, Keep),
        f(5, "activeDeadlineSeconds", I64, Keep),
        f(6, "dnsPolicy", Str, Omit),
        f(7, "nodeSelector", Map(&Str), Rep),
        f(8, "serviceAccountName", Str, Omit),
        f(9, "serviceAccount", Str, Omit),
        f(10, "nodeName", Str, Omit),
        f(11, "hostNetwork", Bool, Omit),
        f(12, "hostPID", Bool, Omit),
        f(13, "hostIPC", Bool, Omit),
        f(14, "securityContext", Msg(&CORE_V1_POD_SECURITY_CONTEXT), Keep),
        f(15, "imagePullSecrets", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Rep),
        f(16, "hostname", Str, Omit),
        f(17, "subdomain", Str, Omit),
        f(18, "affinity", Msg(&CORE_V1_AFFINITY), Keep),
        f(19, "schedulerName", Str, Omit),
        f(20, "initContainers", Msg(&CORE_V1_CONTAINER), Rep),
        f(21, "automountServiceAccountToken", Bool, Keep),
        f(22, "tolerations", Msg(&CORE_V1_TOLERATION), Rep),
        f(23, "hostAliases", Msg(&CORE_V1_HOST_ALIAS), Rep),
        f(24, "priorityClassName", Str, Omit),
        f(25, "priority", I32, Keep),
        f(26, "dnsConfig", Msg(&CORE_V1_POD_DNS_CONFIG), Keep),
        f(27, "shareProcessNamespace", Bool, Keep),
        f(28, "readinessGates", Msg(&CORE_V1_POD_READINESS_GATE), Rep),
        f(29, "runtimeClassName", Str, Keep),
        f(30, "enableServiceLinks", Bool, Keep),
        f(31, "preemptionPolicy", Str, Keep),
        f(32, "overhead", Map(&Quantity), Rep),
        f(33, "topologySpreadConstraints", Msg(&CORE_V1_TOPOLOGY_SPREAD_CONSTRAINT), Rep),
        f(34, "ephemeralContainers", Msg(&CORE_V1_EPHEMERAL_CONTAINER), Rep),
        f(35, "setHostnameAsFQDN", Bool, Keep),
        f(36, "os", Msg(&CORE_V1_POD_OS), Keep),
        f(37, "hostUsers", Bool, Keep),
        f(38, "schedulingGates", Msg(&CORE_V1_POD_SCHEDULING_GATE), Rep),
        f(39, "resourceClaims", Msg(&CORE_V1_POD_RESOURCE_CLAIM), Rep),
        f(40, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS), Keep),
        f(41, "hostnameOverride", Str, Keep),
        f(42, "workloadRef", Msg(&CORE_V1_WORKLOAD_REFERENCE), Keep),
    ],
};
pub(super) static CORE_V1_POD_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.PodStatus",
    fields: &[
        f(1, "phase", Str, Omit),
        f(2, "conditions", Msg(&CORE_V1_POD_CONDITION), Rep),
        f(3, "message", Str, Omit),
        f(4, "reason", Str, Omit),
        f(5, "hostIP", Str, Omit),
        f(6, "podIP", Str, Omit),
        f(7, "startTime", Time, Keep),
        f(8, "containerStatuses", Msg(&CORE_V1_CONTAINER_STATUS), Rep),
        f(9, "qosClass", Str, Omit),
        f(10, "initContainerStatuses", Msg(&CORE_V1_CONTAINER_STATUS), Rep),
        f(11, "nominatedNodeName", Str, Omit),
        f(12, "podIPs", Msg(&CORE_V1_POD_IP), Rep),
        f(13, "ephemeralContainerStatuses", Msg(&CORE_V1_CONTAINER_STATUS), Rep),
        f(14, "resize", Str, Omit),
        f(15, "resourceClaimStatuses", Msg(&CORE_V1_POD_RESOURCE_CLAIM_STATUS), Rep),
        f(16, "hostIPs", Msg(&CORE_V1_HOST_IP), Rep),
        f(17, "observedGeneration", I64, Omit),
        f(
            18,
            "extendedResourceClaimStatus",
            Msg(&CORE_V1_POD_EXTENDED_RESOURCE_CLAIM_STATUS),
            Keep,
        ),
        f(19, "allocatedResources", Map(&Quantity), Rep),
        f(20, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS), Keep),
    ],
};
pub(super) static CORE_V1_POD_TEMPLATE: Message = Message {
    name: "k8s.io.api.core.v1.PodTemplate",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
    ],
};
pub(super) static CORE_V1_POD_TEMPLATE_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.PodTemplateSpec",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_POD_SPEC), Keep),
    ],
};
pub(super) static CORE_V1_PORTWORX_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.PortworxVolumeSource",
    fields: &[f(1, "volumeID", Str, Keep), f(2, "fsType", Str, Omit), f(3, "readOnly", Bool, Omit)],
};
pub(super) static CORE_V1_PORT_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.PortStatus",
    fields: &[f(1, "port", I32, Keep), f(2, "protocol", Str, Keep), f(3, "error", Str, Omit)],
};
pub(super) static CORE_V1_PREFERRED_SCHEDULING_TERM: Message = Message {
    name: "k8s.io.api.core.v1.PreferredSchedulingTerm",
    fields: &[
        f(1, "weight", I32, Keep),
        f(2, "preference", Msg(&CORE_V1_NODE_SELECTOR_TERM), Keep),
    ],
};
pub(super) static CORE_V1_PROBE: Message = Message {
    name: "k8s.io.api.core.v1.Probe",
    fields: &[
        f(1, "", Msg(&CORE_V1_PROBE_HANDLER), Inline),
        f(2, "initialDelaySeconds", I32, Omit),
        f(3, "timeoutSeconds", I32, Omit),
        f(4, "periodSeconds", I32, Omit),
        f(5, "successThreshold", I32, Omit),
        f(6, "failureThreshold", I32, Omit),
        f(7, "terminationGracePeriodSeconds", I64, Keep),
    ],
};
pub(super) static CORE_V1_PROBE_HANDLER: Message = Message {
    name: "k8s.io.api.core.v1.ProbeHandler",
    fields: &[
        f(1, "exec", Msg(&CORE_V1_EXEC_ACTION), Keep),
        f(2, "httpGet", Msg(&CORE_V1_HTTP_GET_ACTION), Keep),
        f(3, "tcpSocket", Msg(&CORE_V1_TCP_SOCKET_ACTION), Keep),
        f(4, "grpc", Msg(&CORE_V1_GRPC_ACTION), Keep),
    ],
};
pub(super) static CORE_V1_PROJECTED_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.ProjectedVolumeSource",
    fields: &[
        f(1, "sources", Msg(&CORE_V1_VOLUME_PROJECTION), Rep),
        f(2, "defaultMode", I32, Keep),
    ],
};
pub(super) static CORE_V1_QUOBYTE_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.QuobyteVolumeSource",
    fields: &[
        f(1, "registry", Str, Keep),
        f(2, "volume", Str, Keep),
        f(3, "readOnly", Bool, Omit),
        f(4, "user", Str, Omit),
        f(5, "group", Str, Omit),
        f(6, "tenant", Str, Omit),
    ],
};
pub(super) static CORE_V1_RBD_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.RbdVolumeSource",
    fields: &[
        f(1, "monitors", Str, Rep),
        f(2, "image", Str, Keep),
        f(3, "fsType", Str, Omit),
        f(4, "pool", Str, Omit),
        f(5, "user", Str, Omit),
        f(6, "keyring", Str, Omit),
        f(7, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
        f(8, "readOnly", Bool, Omit),
    ],
};
pub(super) static CORE_V1_REPLICATION_CONTROLLER: Message = Message {
    name: "k8s.io.api.core.v1.ReplicationController",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_REPLICATION_CONTROLLER_SPEC), Keep),
        f(3, "status", Msg(&CORE_V1_REPLICATION_CONTROLLER_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_REPLICATION_CONTROLLER_CONDITION: Message = Message {
    name: "k8s.io.api.core.v1.ReplicationControllerCondition",
    fields: &[
        f(1, "type", Str, Keep),
        f(2, "status", Str, Keep),
        f(3, "lastTransitionTime", Time, Keep),
        f(4, "reason", Str, Omit),
        f(5, "message", Str, Omit),
    ],
};
pub(super) static CORE_V1_REPLICATION_CONTROLLER_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.ReplicationControllerSpec",
    fields: &[
        f(1, "replicas", I32, Keep),
        f(2, "selector", Map(&Str), Rep),
        f(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC), Keep),
        f(4, "minReadySeconds", I32, Omit),
    ],
};
pub(super) static CORE_V1_REPLICATION_CONTROLLER_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ReplicationControllerStatus",
    fields: &[
        f(1, "replicas", I32, Keep),
        f(2, "fullyLabeledReplicas", I32, Omit),
        f(3, "observedGeneration", I64, Omit),
        f(4, "readyReplicas", I32, Omit),
        f(5, "availableReplicas", I32, Omit),
        f(6, "conditions", Msg(&CORE_V1_REPLICATION_CONTROLLER_CONDITION), Rep),
    ],
};
pub(super) static CORE_V1_RESOURCE_CLAIM: Message = Message {
    name: "k8s.io.api.core.v1.ResourceClaim",
    fields: &[f(1, "name", Str, Keep), f(2, "request", Str, Omit)],
};
pub(super) static CORE_V1_RESOURCE_FIELD_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.ResourceFieldSelector",
    fields: &[
        f(1, "containerName", Str, Omit),
        f(2, "resource", Str, Keep),
        f(3, "divisor", Quantity, Keep),
    ],
};
pub(super) static CORE_V1_RESOURCE_HEALTH: Message = Message {
    name: "k8s.io.api.core.v1.ResourceHealth",
    fields: &[f(1, "resourceID", Str, Keep), f(2, "health", Str, Omit)],
};
pub(super) static CORE_V1_RESOURCE_QUOTA: Message = Message {
    name: "k8s.io.api.core.v1.ResourceQuota",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_RESOURCE_QUOTA_SPEC), Keep),
        f(3, "status", Msg(&CORE_V1_RESOURCE_QUOTA_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_RESOURCE_QUOTA_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.ResourceQuotaSpec",
    fields: &[
        f(1, "hard", Map(&Quantity), Rep),
        f(2, "scopes", Str, Rep),
        f(3, "scopeSelector", Msg(&CORE_V1_SCOPE_SELECTOR), Keep),
    ],
};
pub(super) static CORE_V1_RESOURCE_QUOTA_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ResourceQuotaStatus",
    fields: &[f(1, "hard", Map(&Quantity), Rep), f(2, "used", Map(&Quantity), Rep)],
};
pub(super) static CORE_V1_RESOURCE_REQUIREMENTS: Message = Message {
    name: "k8s.io.api.core.v1.ResourceRequirements",
    fields: &[
        f(1, "limits", Map(&Quantity), Rep),
        f(2, "requests", Map(&Quantity), Rep),
        f(3, "claims", Msg(&CORE_V1_RESOURCE_CLAIM), Rep),
    ],
};
pub(super) static CORE_V1_RESOURCE_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ResourceStatus",
    fields: &[f(1, "name", Str, Keep), f(2, "resources", Msg(&CORE_V1_RESOURCE_HEALTH), Rep)],
};
pub(super) static CORE_V1_SCALE_IO_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.ScaleIoVolumeSource",
    fields: &[
        f(1, "gateway", Str, Keep),
        f(2, "system", Str, Keep),
        f(3, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
        f(4, "sslEnabled", Bool, Omit),
        f(5, "protectionDomain", Str, Omit),
        f(6, "storagePool", Str, Omit),
        f(7, "storageMode", Str, Omit),
        f(8, "volumeName", Str, Omit),
        f(9, "fsType", Str, Omit),
        f(10, "readOnly", Bool, Omit),
    ],
};
pub(super) static CORE_V1_SCOPED_RESOURCE_SELECTOR_REQUIREMENT: Message = Message {
    name: "k8s.io.api.core.v1.ScopedResourceSelectorRequirement",
    fields: &[f(1, "scopeName", Str, Keep), f(2, "operator", Str, Keep), f(3, "values", Str, Rep)],
};
pub(super) static CORE_V1_SCOPE_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.ScopeSelector",
    fields: &[f(1, "matchExpressions", Msg(&CORE_V1_SCOPED_RESOURCE_SELECTOR_REQUIREMENT), Rep)],
};
pub(super) static CORE_V1_SECCOMP_PROFILE: Message = Message {
    name: "k8s.io.api.core.v1.SeccompProfile",
    fields: &[f(1, "type", Str, Keep), f(2, "localhostProfile", Str, Keep)],
};
pub(super) static CORE_V1_SECRET: Message = Message {
    name: "k8s.io.api.core.v1.Secret",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "data", Map(&Bytes), Rep),
        f(3, "type", Str, Omit),
        f(4, "stringData", Map(&Str), Rep),
        f(5, "immutable", Bool, Keep),
    ],
};
pub(super) static CORE_V1_SECRET_ENV_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.SecretEnvSource",
    fields: &[f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline), f(2, "optional", Bool, Keep)],
};
pub(super) static CORE_V1_SECRET_KEY_SELECTOR: Message = Message {
    name: "k8s.io.api.core.v1.SecretKeySelector",
    fields: &[
        f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline),
        f(2, "key", Str, Keep),
        f(3, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_SECRET_PROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.SecretProjection",
    fields: &[
        f(1, "", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Inline),
        f(2, "items", Msg(&CORE_V1_KEY_TO_PATH), Rep),
        f(4, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_SECRET_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.SecretVolumeSource",
    fields: &[
        f(1, "secretName", Str, Omit),
        f(2, "items", Msg(&CORE_V1_KEY_TO_PATH), Rep),
        f(3, "defaultMode", I32, Keep),
        f(4, "optional", Bool, Keep),
    ],
};
pub(super) static CORE_V1_SECURITY_CONTEXT: Message = Message {
    name: "k8s.io.api.core.v1.SecurityContext",
    fields: &[
        f(1, "capabilities", Msg(&CORE_V1_CAPABILITIES), Keep),
        f(2, "privileged", Bool, Keep),
        f(3, "seLinuxOptions", Msg(&CORE_V1_SE_LINUX_OPTIONS), Keep),
        f(4, "runAsUser", I64, Keep),
        f(5, "runAsNonRoot", Bool, Keep),
        f(6, "readOnlyRootFilesystem", Bool, Keep),
        f(7, "allowPrivilegeEscalation", Bool, Keep),
        f(8, "runAsGroup", I64, Keep),
        f(9, "procMount", Str, Keep),
        f(10, "windowsOptions", Msg(&CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS), Keep),
        f(11, "seccompProfile", Msg(&CORE_V1_SECCOMP_PROFILE), Keep),
        f(12, "appArmorProfile", Msg(&CORE_V1_APP_ARMOR_PROFILE), Keep),
    ],
};
pub(super) static CORE_V1_SERVICE: Message = Message {
    name: "k8s.io.api.core.v1.Service",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&CORE_V1_SERVICE_SPEC), Keep),
        f(3, "status", Msg(&CORE_V1_SERVICE_STATUS), Keep),
    ],
};
pub(super) static CORE_V1_SERVICE_ACCOUNT: Message = Message {
    name: "k8s.io.api.core.v1.ServiceAccount",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "secrets", Msg(&CORE_V1_OBJECT_REFERENCE), Rep),
        f(3, "imagePullSecrets", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Rep),
        f(4, "automountServiceAccountToken", Bool, Keep),
    ],
};
pub(super) static CORE_V1_SERVICE_ACCOUNT_TOKEN_PROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.ServiceAccountTokenProjection",
    fields: &[
        f(1, "audience", Str, Omit),
        f(2, "expirationSeconds", I64, Keep),
        f(3, "path", Str, Keep),
    ],
};
pub(super) static CORE_V1_SERVICE_PORT: Message = Message {
    name: "k8s.io.api.core.v1.ServicePort",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "protocol", Str, Omit),
        f(3, "port", I32, Keep),
        f(4, "targetPort", IntOrString, Keep),
        f(5, "nodePort", I32, Omit),
        f(6, "appProtocol", Str, Keep),
    ],
};
pub(super) static CORE_V1_SERVICE_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.ServiceSpec",
    fields: &[
        f(1, "ports", Msg(&CORE_V1_SERVICE_PORT), Rep),
        f(2, "selector", Map(&Str), Rep),
        f(3, "clusterIP", Str, Omit),
        f(4, "type", Str, Omit),
        f(5, "externalIPs", Str, Rep),
        f(7, "sessionAffinity", Str, Omit),
        f(8, "loadBalancerIP", Str, Omit),
        f(9, "loadBalancerSourceRanges", Str, Rep),
        f(10, "externalName", Str, Omit),
        f(11, "externalTrafficPolicy", Str, Omit),
        f(12, "healthCheckNodePort", I32, Omit),
        f(13, "publishNotReadyAddresses", Bool, Omit),
        f(14, "sessionAffinityConfig", Msg(&CORE_V1_SESSION_AFFINITY_CONFIG), Keep),
        f(17, "ipFamilyPolicy", Str, Keep),
        f(18, "clusterIPs", Str, Rep),
        f(19, "ipFamilies", Str, Rep),
        f(20, "allocateLoadBalancerNodePorts", Bool, Keep),
        f(21, "loadBalancerClass", Str, Keep),
        f(22, "internalTrafficPolicy", Str, Keep),
        f(23, "trafficDistribution", Str, Keep),
    ],
};
pub(super) static CORE_V1_SERVICE_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ServiceStatus",
    fields: &[
        f(1, "loadBalancer", Msg(&CORE_V1_LOAD_BALANCER_STATUS), Keep),
        f(2, "conditions", Msg(&APIMACHINERY_META_V1_CONDITION), Rep),
    ],
};
pub(super) static CORE_V1_SESSION_AFFINITY_CONFIG: Message = Message {
    name: "k8s.io.api.core.v1.SessionAffinityConfig",
    fields: &[f(1, "clientIP", Msg(&CORE_V1_CLIENT_IP_CONFIG), Keep)],
};
pub(super) static CORE_V1_SE_LINUX_OPTIONS: Message = Message {
    name: "k8s.io.api.core.v1.SeLinuxOptions",
    fields: &[
        f(1, "user", Str, Omit),
        f(2, "role", Str, Omit),
        f(3, "type", Str, Omit),
        f(4, "level", Str, Omit),
    ],
};
pub(super) static CORE_V1_SLEEP_ACTION: Message =
    Message { name: "k8s.io.api.core.v1.SleepAction", fields: &[f(1, "seconds", I64, Keep)] };
pub(super) static CORE_V1_STORAGE_OS_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.StorageOsVolumeSource",
    fields: &[
        f(1, "volumeName", Str, Omit),
        f(2, "volumeNamespace", Str, Omit),
        f(3, "fsType", Str, Omit),
        f(4, "readOnly", Bool, Omit),
        f(5, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE), Keep),
    ],
};
pub(super) static CORE_V1_SYSCTL: Message = Message {
    name: "k8s.io.api.core.v1.Sysctl",
    fields: &[f(1, "name", Str, Keep), f(2, "value", Str, Keep)],
};
pub(super) static CORE_V1_TCP_SOCKET_ACTION: Message = Message {
    name: "k8s.io.api.core.v1.TcpSocketAction",
    fields: &[f(1, "port", IntOrString, Keep), f(2, "host", Str, Omit)],
};
pub(super) static CORE_V1_TOLERATION: Message = Message {
    name: "k8s.io.api.core.v1.Toleration",
    fields: &[
        f(1, "key", Str, Omit),
        f(2, "operator", Str, Omit),
        f(3, "value", Str, Omit),
        f(4, "effect", Str, Omit),
        f(5, "tolerationSeconds", I64, Keep),
    ],
};
pub(super) static CORE_V1_TOPOLOGY_SPREAD_CONSTRAINT: Message = Message {
    name: "k8s.io.api.core.v1.TopologySpreadConstraint",
    fields: &[
        f(1, "maxSkew", I32, Keep),
        f(2, "topologyKey", Str, Keep),
        f(3, "whenUnsatisfiable", Str, Keep),
        f(4, "labelSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(5, "minDomains", I32, Keep),
        f(6, "nodeAffinityPolicy", Str, Keep),
        f(7, "nodeTaintsPolicy", Str, Keep),
        f(8, "matchLabelKeys", Str, Rep),
    ],
};
pub(super) static CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE: Message = Message {
    name: "k8s.io.api.core.v1.TypedLocalObjectReference",
    fields: &[f(1, "apiGroup", Str, Keep), f(2, "kind", Str, Keep), f(3, "name", Str, Keep)],
};
pub(super) static CORE_V1_TYPED_OBJECT_REFERENCE: Message = Message {
    name: "k8s.io.api.core.v1.TypedObjectReference",
    fields: &[
        f(1, "apiGroup", Str, Keep),
        f(2, "kind", Str, Keep),
        f(3, "name", Str, Keep),
        f(4, "namespace", Str, Keep),
    ],
};
pub(super) static CORE_V1_VOLUME: Message = Message {
    name: "k8s.io.api.core.v1.Volume",
    fields: &[f(1, "name", Str, Omit), f(2, "", Msg(&CORE_V1_VOLUME_SOURCE), Inline)],
};
pub(super) static CORE_V1_VOLUME_DEVICE: Message = Message {
    name: "k8s.io.api.core.v1.VolumeDevice",
    fields: &[f(1, "name", Str, Keep), f(2, "devicePath", Str, Keep)],
};
pub(super) static CORE_V1_VOLUME_MOUNT: Message = Message {
    name: "k8s.io.api.core.v1.VolumeMount",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "readOnly", Bool, Omit),
        f(3, "mountPath", Str, Keep),
        f(4, "subPath", Str, Omit),
        f(5, "mountPropagation", Str, Keep),
        f(6, "subPathExpr", Str, Omit),
        f(7, "recursiveReadOnly", Str, Keep),
    ],
};
pub(super) static CORE_V1_VOLUME_MOUNT_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.VolumeMountStatus",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "mountPath", Str, Keep),
        f(3, "readOnly", Bool, Omit),
        f(4, "recursiveReadOnly", Str, Omit),
    ],
};
pub(super) static CORE_V1_VOLUME_PROJECTION: Message = Message {
    name: "k8s.io.api.core.v1.VolumeProjection",
    fields: &[
        f(1, "secret", Msg(&CORE_V1_SECRET_PROJECTION), Keep),
        f(2, "downwardAPI", Msg(&CORE_V1_DOWNWARD_APIPROJECTION), Keep),
        f(3, "configMap", Msg(&CORE_V1_CONFIG_MAP_PROJECTION), Keep),
        f(4, "serviceAccountToken", Msg(&CORE_V1_SERVICE_ACCOUNT_TOKEN_PROJECTION), Keep),
        f(5, "clusterTrustBundle", Msg(&CORE_V1_CLUSTER_TRUST_BUNDLE_PROJECTION), Keep),
        f(6, "podCertificate", Msg(&CORE_V1_POD_CERTIFICATE_PROJECTION), Keep),
    ],
};
pub(super) static CORE_V1_VOLUME_RESOURCE_REQUIREMENTS: Message = Message {
    name: "k8s.io.api.core.v1.VolumeResourceRequirements",
    fields: &[f(1, "limits", Map(&Quantity), Rep), f(2, "requests", Map(&Quantity), Rep)],
};
pub(super) static CORE_V1_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.VolumeSource",
    fields: &[
        f(1, "hostPath", Msg(&CORE_V1_HOST_PATH_VOLUME_SOURCE), Keep),
        f(2, "emptyDir", Msg(&CORE_V1_EMPTY_DIR_VOLUME_SOURCE), Keep),
        f(3, "gcePersistentDisk", Msg(&CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE), Keep),
        f(4, "awsElasticBlockStore", Msg(&CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE), Keep),
        f(5, "gitRepo", Msg(&CORE_V1_GIT_REPO_VOLUME_SOURCE), Keep),
        f(6, "secret", Msg(&CORE_V1_SECRET_VOLUME_SOURCE), Keep),
        f(7, "nfs", Msg(&CORE_V1_NFS_VOLUME_SOURCE), Keep),
        f(8, "iscsi", Msg(&CORE_V1_ISCSI_VOLUME_SOURCE), Keep),
        f(9, "glusterfs", Msg(&CORE_V1_GLUSTERFS_VOLUME_SOURCE), Keep),
        f(10, "persistentVolumeClaim", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE), Keep),
        f(11, "rbd", Msg(&CORE_V1_RBD_VOLUME_SOURCE), Keep),
        f(12, "flexVolume", Msg(&CORE_V1_FLEX_VOLUME_SOURCE), Keep),
        f(13, "cinder", Msg(&CORE_V1_CINDER_VOLUME_SOURCE), Keep),
        f(14, "cephfs", Msg(&CORE_V1_CEPH_FS_VOLUME_SOURCE), Keep),
        f(15, "flocker", Msg(&CORE_V1_FLOCKER_VOLUME_SOURCE), Keep),
        f(16, "downwardAPI", Msg(&CORE_V1_DOWNWARD_APIVOLUME_SOURCE), Keep),
        f(17, "fc", Msg(&CORE_V1_FC_VOLUME_SOURCE), Keep),
        f(18, "azureFile", Msg(&CORE_V1_AZURE_FILE_VOLUME_SOURCE), Keep),
        f(19, "configMap", Msg(&CORE_V1_CONFIG_MAP_VOLUME_SOURCE), Keep),
        f(20, "vsphereVolume", Msg(&CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE), Keep),
        f(21, "quobyte", Msg(&CORE_V1_QUOBYTE_VOLUME_SOURCE), Keep),
        f(22, "azureDisk", Msg(&CORE_V1_AZURE_DISK_VOLUME_SOURCE), Keep),
        f(23, "photonPersistentDisk", Msg(&CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE), Keep),
        f(24, "portworxVolume", Msg(&CORE_V1_PORTWORX_VOLUME_SOURCE), Keep),
        f(25, "scaleIO", Msg(&CORE_V1_SCALE_IO_VOLUME_SOURCE), Keep),
        f(26, "projected", Msg(&CORE_V1_PROJECTED_VOLUME_SOURCE), Keep),
        f(27, "storageos", Msg(&CORE_V1_STORAGE_OS_VOLUME_SOURCE), Keep),
        f(28, "csi", Msg(&CORE_V1_CSIVOLUME_SOURCE), Keep),
        f(29, "ephemeral", Msg(&CORE_V1_EPHEMERAL_VOLUME_SOURCE), Keep),
        f(30, "image", Msg(&CORE_V1_IMAGE_VOLUME_SOURCE), Keep),
    ],
};
pub(super) static CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Message = Message {
    name: "k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource",
    fields: &[
        f(1, "volumePath", Str, Keep),
        f(2, "fsType", Str, Omit),
        f(3, "storagePolicyName", Str, Omit),
        f(4, "storagePolicyID", Str, Omit),
    ],
};
pub(super) static CORE_V1_WEIGHTED_POD_AFFINITY_TERM: Message = Message {
    name: "k8s.io.api.core.v1.WeightedPodAffinityTerm",
    fields: &[
        f(1, "weight", I32, Keep),
        f(2, "podAffinityTerm", Msg(&CORE_V1_POD_AFFINITY_TERM), Keep),
    ],
};
pub(super) static CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS: Message = Message {
    name: "k8s.io.api.core.v1.WindowsSecurityContextOptions",
    fields: &[
        f(1, "gmsaCredentialSpecName", Str, Keep),
        f(2, "gmsaCredentialSpec", Str, Keep),
        f(3, "runAsUserName", Str, Keep),
        f(4, "hostProcess", Bool, Keep),
    ],
};
pub(super) static CORE_V1_WORKLOAD_REFERENCE: Message = Message {
    name: "k8s.io.api.core.v1.WorkloadReference",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "podGroup", Str, Omit),
        f(3, "podGroupReplicaKey", Str, Omit),
    ],
};
pub(super) static DISCOVERY_V1_ENDPOINT: Message = Message {
    name: "k8s.io.api.discovery.v1.Endpoint",
    fields: &[
        f(1, "addresses", Str, Rep),
        f(2, "conditions", Msg(&DISCOVERY_V1_ENDPOINT_CONDITIONS), Keep),
        f(3, "hostname", Str, Omit),
        f(4, "targetRef", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
        f(5, "deprecatedTopology", Map(&Str), Rep),
        f(6, "nodeName", Str, Omit),
        f(7, "zone", Str, Omit),
        f(8, "hints", Msg(&DISCOVERY_V1_ENDPOINT_HINTS), Keep),
    ],
};
pub(super) static DISCOVERY_V1_ENDPOINT_CONDITIONS: Message = Message {
    name: "k8s.io.api.discovery.v1.EndpointConditions",
    fields: &[
        f(1, "ready", Bool, Keep),
        f(2, "serving", Bool, Keep),
        f(3, "terminating", Bool, Keep),
    ],
};
pub(super) static DISCOVERY_V1_ENDPOINT_HINTS: Message = Message {
    name: "k8s.io.api.discovery.v1.EndpointHints",
    fields: &[
        f(1, "forZones", Msg(&DISCOVERY_V1_FOR_ZONE), Rep),
        f(2, "forNodes", Msg(&DISCOVERY_V1_FOR_NODE), Rep),
    ],
};
pub(super) static DISCOVERY_V1_ENDPOINT_PORT: Message = Message {
    name: "k8s.io.api.discovery.v1.EndpointPort",
    fields: &[
        f(1, "name", Str, Omit),
        f(2, "protocol", Str, Omit),
        f(3, "port", I32, Keep),
        f(4, "appProtocol", Str, Omit),
    ],
};
pub(super) static DISCOVERY_V1_ENDPOINT_SLICE: Message = Message {
    name: "k8s.io.api.discovery.v1.EndpointSlice",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "endpoints", Msg(&DISCOVERY_V1_ENDPOINT), Rep),
        f(3, "ports", Msg(&DISCOVERY_V1_ENDPOINT_PORT), Rep),
        f(4, "addressType", Str, Keep),
    ],
};
pub(super) static DISCOVERY_V1_FOR_NODE: Message =
    Message { name: "k8s.io.api.discovery.v1.ForNode", fields: &[f(1, "name", Str, Keep)] };
pub(super) static DISCOVERY_V1_FOR_ZONE: Message =
    Message { name: "k8s.io.api.discovery.v1.ForZone", fields: &[f(1, "name", Str, Keep)] };
pub(super) static EVENTS_V1_EVENT: Message = Message {
    name: "k8s.io.api.events.v1.Event",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "eventTime", MicroTime, Keep),
        f(3, "series", Msg(&EVENTS_V1_EVENT_SERIES), Keep),
        f(4, "reportingController", Str, Omit),
        f(5, "reportingInstance", Str, Omit),
        f(6, "action", Str, Omit),
        f(7, "reason", Str, Omit),
        f(8, "regarding", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
        f(9, "related", Msg(&CORE_V1_OBJECT_REFERENCE), Keep),
        f(10, "note", Str, Omit),
        f(11, "type", Str, Omit),
        f(12, "deprecatedSource", Msg(&CORE_V1_EVENT_SOURCE), Keep),
        f(13, "deprecatedFirstTimestamp", Time, Keep),
        f(14, "deprecatedLastTimestamp", Time, Keep),
        f(15, "deprecatedCount", I32, Omit),
    ],
};
pub(super) static EVENTS_V1_EVENT_SERIES: Message = Message {
    name: "k8s.io.api.events.v1.EventSeries",
    fields: &[f(1, "count", I32, Keep), f(2, "lastObservedTime", MicroTime, Keep)],
};
pub(super) static NETWORKING_V1_HTTP_INGRESS_PATH: Message = Message {
    name: "k8s.io.api.networking.v1.HttpIngressPath",
    fields: &[
        f(1, "path", Str, Omit),
        f(2, "backend", Msg(&NETWORKING_V1_INGRESS_BACKEND), Keep),
        f(3, "pathType", Str, Keep),
    ],
};
pub(super) static NETWORKING_V1_HTTP_INGRESS_RULE_VALUE: Message = Message {
    name: "k8s.io.api.networking.v1.HttpIngressRuleValue",
    fields: &[f(1, "paths", Msg(&NETWORKING_V1_HTTP_INGRESS_PATH), Rep)],
};
pub(super) static NETWORKING_V1_INGRESS: Message = Message {
    name: "k8s.io.api.networking.v1.Ingress",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&NETWORKING_V1_INGRESS_SPEC), Keep),
        f(3, "status", Msg(&NETWORKING_V1_INGRESS_STATUS), Keep),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_BACKEND: Message = Message {
    name: "k8s.io.api.networking.v1.IngressBackend",
    fields: &[
        f(3, "resource", Msg(&CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE), Keep),
        f(4, "service", Msg(&NETWORKING_V1_INGRESS_SERVICE_BACKEND), Keep),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_CLASS: Message = Message {
    name: "k8s.io.api.networking.v1.IngressClass",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&NETWORKING_V1_INGRESS_CLASS_SPEC), Keep),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_CLASS_PARAMETERS_REFERENCE: Message = Message {
    name: "k8s.io.api.networking.v1.IngressClassParametersReference",
    fields: &[
        f(1, "apiGroup", Str, Omit),
        f(2, "kind", Str, Keep),
        f(3, "name", Str, Keep),
        f(4, "scope", Str, Omit),
        f(5, "namespace", Str, Omit),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_CLASS_SPEC: Message = Message {
    name: "k8s.io.api.networking.v1.IngressClassSpec",
    fields: &[
        f(1, "controller", Str, Omit),
        f(2, "parameters", Msg(&NETWORKING_V1_INGRESS_CLASS_PARAMETERS_REFERENCE), Keep),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_LOAD_BALANCER_INGRESS: Message = Message {
    name: "k8s.io.api.networking.v1.IngressLoadBalancerIngress",
    fields: &[
        f(1, "ip", Str, Omit),
        f(2, "hostname", Str, Omit),
        f(4, "ports", Msg(&NETWORKING_V1_INGRESS_PORT_STATUS), Rep),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_LOAD_BALANCER_STATUS: Message = Message {
    name: "k8s.io.api.networking.v1.IngressLoadBalancerStatus",
    fields: &[f(1, "ingress", Msg(&NETWORKING_V1_INGRESS_LOAD_BALANCER_INGRESS), Rep)],
};
pub(super) static NETWORKING_V1_INGRESS_PORT_STATUS: Message = Message {
    name: "k8s.io.api.networking.v1.IngressPortStatus",
    fields: &[f(1, "port", I32, Keep), f(2, "protocol", Str, Keep), f(3, "error", Str, Omit)],
};
pub(super) static NETWORKING_V1_INGRESS_RULE: Message = Message {
    name: "k8s.io.api.networking.v1.IngressRule",
    fields: &[f(1, "host", Str, Omit), f(2, "", Msg(&NETWORKING_V1_INGRESS_RULE_VALUE), Inline)],
};
pub(super) static NETWORKING_V1_INGRESS_RULE_VALUE: Message = Message {
    name: "k8s.io.api.networking.v1.IngressRuleValue",
    fields: &[f(1, "http", Msg(&NETWORKING_V1_HTTP_INGRESS_RULE_VALUE), Keep)],
};
pub(super) static NETWORKING_V1_INGRESS_SERVICE_BACKEND: Message = Message {
    name: "k8s.io.api.networking.v1.IngressServiceBackend",
    fields: &[
        f(1, "name", Str, Keep),
        f(2, "port", Msg(&NETWORKING_V1_SERVICE_BACKEND_PORT), Keep),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_SPEC: Message = Message {
    name: "k8s.io.api.networking.v1.IngressSpec",
    fields: &[
        f(1, "defaultBackend", Msg(&NETWORKING_V1_INGRESS_BACKEND), Keep),
        f(2, "tls", Msg(&NETWORKING_V1_INGRESS_TLS), Rep),
        f(3, "rules", Msg(&NETWORKING_V1_INGRESS_RULE), Rep),
        f(4, "ingressClassName", Str, Omit),
    ],
};
pub(super) static NETWORKING_V1_INGRESS_STATUS: Message = Message {
    name: "k8s.io.api.networking.v1.IngressStatus",
    fields: &[f(1, "loadBalancer", Msg(&NETWORKING_V1_INGRESS_LOAD_BALANCER_STATUS), Keep)],
};
pub(super) static NETWORKING_V1_INGRESS_TLS: Message = Message {
    name: "k8s.io.api.networking.v1.IngressTls",
    fields: &[f(1, "hosts", Str, Rep), f(2, "secretName", Str, Omit)],
};
pub(super) static NETWORKING_V1_IP_BLOCK: Message = Message {
    name: "k8s.io.api.networking.v1.IpBlock",
    fields: &[f(1, "cidr", Str, Keep), f(2, "except", Str, Rep)],
};
pub(super) static NETWORKING_V1_NETWORK_POLICY: Message = Message {
    name: "k8s.io.api.networking.v1.NetworkPolicy",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&NETWORKING_V1_NETWORK_POLICY_SPEC), Keep),
    ],
};
pub(super) static NETWORKING_V1_NETWORK_POLICY_EGRESS_RULE: Message = Message {
    name: "k8s.io.api.networking.v1.NetworkPolicyEgressRule",
    fields: &[
        f(1, "ports", Msg(&NETWORKING_V1_NETWORK_POLICY_PORT), Rep),
        f(2, "to", Msg(&NETWORKING_V1_NETWORK_POLICY_PEER), Rep),
    ],
};
pub(super) static NETWORKING_V1_NETWORK_POLICY_INGRESS_RULE: Message = Message {
    name: "k8s.io.api.networking.v1.NetworkPolicyIngressRule",
    fields: &[
        f(1, "ports", Msg(&NETWORKING_V1_NETWORK_POLICY_PORT), Rep),
        f(2, "from", Msg(&NETWORKING_V1_NETWORK_POLICY_PEER), Rep),
    ],
};
pub(super) static NETWORKING_V1_NETWORK_POLICY_PEER: Message = Message {
    name: "k8s.io.api.networking.v1.NetworkPolicyPeer",
    fields: &[
        f(1, "podSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(2, "namespaceSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(3, "ipBlock", Msg(&NETWORKING_V1_IP_BLOCK), Keep),
    ],
};
pub(super) static NETWORKING_V1_NETWORK_POLICY_PORT: Message = Message {
    name: "k8s.io.api.networking.v1.NetworkPolicyPort",
    fields: &[
        f(1, "protocol", Str, Omit),
        f(2, "port", IntOrString, Keep),
        f(3, "endPort", I32, Keep),
    ],
};
pub(super) static NETWORKING_V1_NETWORK_POLICY_SPEC: Message = Message {
    name: "k8s.io.api.networking.v1.NetworkPolicySpec",
    fields: &[
        f(1, "podSelector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(2, "ingress", Msg(&NETWORKING_V1_NETWORK_POLICY_INGRESS_RULE), Rep),
        f(3, "egress", Msg(&NETWORKING_V1_NETWORK_POLICY_EGRESS_RULE), Rep),
        f(4, "policyTypes", Str, Rep),
    ],
};
pub(super) static NETWORKING_V1_SERVICE_BACKEND_PORT: Message = Message {
    name: "k8s.io.api.networking.v1.ServiceBackendPort",
    fields: &[f(1, "name", Str, Omit), f(2, "number", I32, Omit)],
};
pub(super) static POLICY_V1_EVICTION: Message = Message {
    name: "k8s.io.api.policy.v1.Eviction",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "deleteOptions", Msg(&APIMACHINERY_META_V1_DELETE_OPTIONS), Keep),
    ],
};
pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET: Message = Message {
    name: "k8s.io.api.policy.v1.PodDisruptionBudget",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "spec", Msg(&POLICY_V1_POD_DISRUPTION_BUDGET_SPEC), Keep),
        f(3, "status", Msg(&POLICY_V1_POD_DISRUPTION_BUDGET_STATUS), Keep),
    ],
};
pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET_SPEC: Message = Message {
    name: "k8s.io.api.policy.v1.PodDisruptionBudgetSpec",
    fields: &[
        f(1, "minAvailable", IntOrString, Keep),
        f(2, "selector", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Keep),
        f(3, "maxUnavailable", IntOrString, Keep),
        f(4, "unhealthyPodEvictionPolicy", Str, Keep),
    ],
};
pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET_STATUS: Message = Message {
    name: "k8s.io.api.policy.v1.PodDisruptionBudgetStatus",
    fields: &[
        f(1, "observedGeneration", I64, Omit),
        f(2, "disruptedPods", Map(&Time), Rep),
        f(3, "disruptionsAllowed", I32, Keep),
        f(4, "currentHealthy", I32, Keep),
        f(5, "desiredHealthy", I32, Keep),
        f(6, "expectedPods", I32, Keep),
        f(7, "conditions", Msg(&APIMACHINERY_META_V1_CONDITION), Rep),
    ],
};
pub(super) static RBAC_V1_AGGREGATION_RULE: Message = Message {
    name: "k8s.io.api.rbac.v1.AggregationRule",
    fields: &[f(1, "clusterRoleSelectors", Msg(&APIMACHINERY_META_V1_LABEL_SELECTOR), Rep)],
};
pub(super) static RBAC_V1_CLUSTER_ROLE: Message = Message {
    name: "k8s.io.api.rbac.v1.ClusterRole",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "rules", Msg(&RBAC_V1_POLICY_RULE), Rep),
        f(3, "aggregationRule", Msg(&RBAC_V1_AGGREGATION_RULE), Keep),
    ],
};
pub(super) static RBAC_V1_CLUSTER_ROLE_BINDING: Message = Message {
    name: "k8s.io.api.rbac.v1.ClusterRoleBinding",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "subjects", Msg(&RBAC_V1_SUBJECT), Rep),
        f(3, "roleRef", Msg(&RBAC_V1_ROLE_REF), Keep),
    ],
};
pub(super) static RBAC_V1_POLICY_RULE: Message = Message {
    name: "k8s.io.api.rbac.v1.PolicyRule",
    fields: &[
        f(1, "verbs", Str, Rep),
        f(2, "apiGroups", Str, Rep),
        f(3, "resources", Str, Rep),
        f(4, "resourceNames", Str, Rep),
        f(5, "nonResourceURLs", Str, Rep),
    ],
};
pub(super) static RBAC_V1_ROLE: Message = Message {
    name: "k8s.io.api.rbac.v1.Role",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "rules", Msg(&RBAC_V1_POLICY_RULE), Rep),
    ],
};
pub(super) static RBAC_V1_ROLE_BINDING: Message = Message {
    name: "k8s.io.api.rbac.v1.RoleBinding",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "subjects", Msg(&RBAC_V1_SUBJECT), Rep),
        f(3, "roleRef", Msg(&RBAC_V1_ROLE_REF), Keep),
    ],
};
pub(super) static RBAC_V1_ROLE_REF: Message = Message {
    name: "k8s.io.api.rbac.v1.RoleRef",
    fields: &[f(1, "apiGroup", Str, Omit), f(2, "kind", Str, Keep), f(3, "name", Str, Keep)],
};
pub(super) static RBAC_V1_SUBJECT: Message = Message {
    name: "k8s.io.api.rbac.v1.Subject",
    fields: &[
        f(1, "kind", Str, Keep),
        f(2, "apiGroup", Str, Omit),
        f(3, "name", Str, Keep),
        f(4, "namespace", Str, Omit),
    ],
};
pub(super) static SCHEDULING_V1_PRIORITY_CLASS: Message = Message {
    name: "k8s.io.api.scheduling.v1.PriorityClass",
    fields: &[
        f(1, "metadata", Msg(&APIMACHINERY_META_V1_OBJECT_META), Keep),
        f(2, "value", I32, Keep),
        f(3, "globalDefault", Bool, Omit),
        f(4, "description", Str, Omit),
        f(5, "preemptionPolicy", Str, Omit),
    ],
};

/// `(apiVersion, kind)` → the message of that kind's objects.
pub(super) static KINDS: &[(&str, &str, &Message)] = &[
    ("v1", "Namespace", &CORE_V1_NAMESPACE),
    ("v1", "ConfigMap", &CORE_V1_CONFIG_MAP),
    ("v1", "Secret", &CORE_V1_SECRET),
    ("v1", "ServiceAccount", &CORE_V1_SERVICE_ACCOUNT),
    ("v1", "Service", &CORE_V1_SERVICE),
    ("v1", "Pod", &CORE_V1_POD),
    ("v1", "PodTemplate", &CORE_V1_POD_TEMPLATE),
    ("v1", "ReplicationController", &CORE_V1_REPLICATION_CONTROLLER),
    ("v1", "Event", &CORE_V1_EVENT),
    ("v1", "Endpoints", &CORE_V1_ENDPOINTS),
    ("v1", "ResourceQuota", &CORE_V1_RESOURCE_QUOTA),
    ("v1", "LimitRange", &CORE_V1_LIMIT_RANGE),
    ("v1", "PersistentVolumeClaim", &CORE_V1_PERSISTENT_VOLUME_CLAIM),
    ("v1", "Binding", &CORE_V1_BINDING),
    ("apps/v1", "Deployment", &APPS_V1_DEPLOYMENT),
    ("apps/v1", "ReplicaSet", &APPS_V1_REPLICA_SET),
    ("apps/v1", "StatefulSet", &APPS_V1_STATEFUL_SET),
    ("apps/v1", "DaemonSet", &APPS_V1_DAEMON_SET),
    ("apps/v1", "ControllerRevision", &APPS_V1_CONTROLLER_REVISION),
    ("batch/v1", "Job", &BATCH_V1_JOB),
    ("batch/v1", "CronJob", &BATCH_V1_CRON_JOB),
    ("autoscaling/v1", "Scale", &AUTOSCALING_V1_SCALE),
    ("autoscaling/v1", "HorizontalPodAutoscaler", &AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER),
    ("autoscaling/v2", "HorizontalPodAutoscaler", &AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER),
    ("coordination.k8s.io/v1", "Lease", &COORDINATION_V1_LEASE),
    (
        "certificates.k8s.io/v1",
        "CertificateSigningRequest",
        &CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST,
    ),
    ("events.k8s.io/v1", "Event", &EVENTS_V1_EVENT),
    ("scheduling.k8s.io/v1", "PriorityClass", &SCHEDULING_V1_PRIORITY_CLASS),
    ("rbac.authorization.k8s.io/v1", "Role", &RBAC_V1_ROLE),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", &RBAC_V1_CLUSTER_ROLE),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", &RBAC_V1_ROLE_BINDING),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &RBAC_V1_CLUSTER_ROLE_BINDING),
    ("networking.k8s.io/v1", "Ingress", &NETWORKING_V1_INGRESS),
    ("networking.k8s.io/v1", "IngressClass", &NETWORKING_V1_INGRESS_CLASS),
    ("networking.k8s.io/v1", "NetworkPolicy", &NETWORKING_V1_NETWORK_POLICY),
    ("policy/v1", "PodDisruptionBudget", &POLICY_V1_POD_DISRUPTION_BUDGET),
    ("policy/v1", "Eviction", &POLICY_V1_EVICTION),
    ("authentication.k8s.io/v1", "TokenRequest", &AUTHENTICATION_V1_TOKEN_REQUEST),
    ("authentication.k8s.io/v1", "TokenReview", &AUTHENTICATION_V1_TOKEN_REVIEW),
    ("authentication.k8s.io/v1", "SelfSubjectReview", &AUTHENTICATION_V1_SELF_SUBJECT_REVIEW),
    (
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        &AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW,
    ),
    (
        "authorization.k8s.io/v1",
        "SelfSubjectRulesReview",
        &AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW,
    ),
    ("authorization.k8s.io/v1", "SubjectAccessReview", &AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW),
    (
        "authorization.k8s.io/v1",
        "LocalSubjectAccessReview",
        &AUTHORIZATION_V1_LOCAL_SUBJECT_ACCESS_REVIEW,
    ),
    ("discovery.k8s.io/v1", "EndpointSlice", &DISCOVERY_V1_ENDPOINT_SLICE),
    ("meta.k8s.io/v1", "DeleteOptions", &APIMACHINERY_META_V1_DELETE_OPTIONS),
];
