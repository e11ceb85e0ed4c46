//! The built-in schemas.
//!
//! CONTRACT FIXTURE: four hand-written definitions so consumers can be written against the model
//! while the generator (`build.rs`) is built; it is replaced by
//! `include!(concat!(env!("OUT_DIR"), "/builtin_schema.rs"))`.

use super::Schemas;
use super::model::*;

const CONFIG_MAP: DefId = DefId(0);
const OBJECT_META: DefId = DefId(1);
const OWNER_REFERENCE: DefId = DefId(2);
const TIME: DefId = DefId(3);

const fn field(json: &'static str, number: Option<u32>, ty: Ty, zero: ZeroRule) -> Field {
    Field {
        json,
        number,
        ty,
        description: "",
        required: false,
        list: None,
        map_type: None,
        patch: None,
        zero,
        enumeration: &[],
        embedded_resource: false,
        preserve_unknown: false,
    }
}

const STRING: Ty = Ty::Scalar(Scalar::String);

static DEFINITIONS: [Definition; 4] = [
    Definition {
        name: "io.k8s.api.core.v1.ConfigMap",
        proto: Some("k8s.io.api.core.v1.ConfigMap"),
        description: "ConfigMap holds configuration data for pods to consume.",
        shape: Shape::Object(&[
            field("kind", None, STRING, ZeroRule::Omit),
            field("apiVersion", None, STRING, ZeroRule::Omit),
            field("metadata", Some(1), Ty::Ref(OBJECT_META), ZeroRule::Omit),
            field("immutable", Some(4), Ty::Scalar(Scalar::Bool), ZeroRule::Keep),
            field("data", Some(2), Ty::Map(&STRING), ZeroRule::Omit),
            field("binaryData", Some(3), Ty::Map(&Ty::Scalar(Scalar::Bytes)), ZeroRule::Omit),
        ]),
        gvks: &[Gvk { group: "", version: "v1", kind: "ConfigMap" }],
        struct_atomic: false,
    },
    Definition {
        name: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        proto: Some("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        description: "ObjectMeta is metadata that all persisted resources must have.",
        shape: Shape::Object(&[
            field("name", Some(1), STRING, ZeroRule::Omit),
            field("namespace", Some(3), STRING, ZeroRule::Omit),
            field("creationTimestamp", Some(8), Ty::Ref(TIME), ZeroRule::Keep),
            field("labels", Some(11), Ty::Map(&STRING), ZeroRule::Omit),
            Field {
                list: Some(ListType::Map(&["uid"])),
                patch: Some(Patch {
                    merge: true,
                    retain_keys: false,
                    replace: false,
                    merge_key: Some("uid"),
                }),
                ..field(
                    "ownerReferences",
                    Some(13),
                    Ty::Array(&Ty::Ref(OWNER_REFERENCE)),
                    ZeroRule::Omit,
                )
            },
            Field {
                list: Some(ListType::Set),
                patch: Some(Patch {
                    merge: true,
                    retain_keys: false,
                    replace: false,
                    merge_key: None,
                }),
                ..field("finalizers", Some(14), Ty::Array(&STRING), ZeroRule::Omit)
            },
        ]),
        gvks: &[],
        struct_atomic: false,
    },
    Definition {
        name: "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        proto: Some("k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference"),
        description: "OwnerReference contains enough information to let you identify an owning object.",
        shape: Shape::Object(&[
            Field { required: true, ..field("apiVersion", Some(5), STRING, ZeroRule::Keep) },
            Field { required: true, ..field("kind", Some(1), STRING, ZeroRule::Keep) },
            Field { required: true, ..field("name", Some(3), STRING, ZeroRule::Keep) },
            Field { required: true, ..field("uid", Some(4), STRING, ZeroRule::Keep) },
            field("controller", Some(6), Ty::Scalar(Scalar::Bool), ZeroRule::Keep),
        ]),
        gvks: &[],
        struct_atomic: true,
    },
    Definition {
        name: "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        proto: Some("k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
        description: "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.",
        shape: Shape::Wire(Wire::Time),
        gvks: &[],
        struct_atomic: false,
    },
];

static BY_GVK: [(Gvk, DefId); 1] =
    [(Gvk { group: "", version: "v1", kind: "ConfigMap" }, CONFIG_MAP)];

pub(super) static SCHEMAS: Schemas = Schemas::new(&DEFINITIONS, &BY_GVK);
