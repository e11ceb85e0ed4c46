//! The schema of a built-in type, as every consumer needs it: JSON names and types, descriptions,
//! required fields, the `x-kubernetes-*` list/map/patch semantics and the protobuf field numbers.
//!
//! Everything here is `'static`: the built-in table is generated at build time (`build.rs`) into
//! `static` arrays, so nothing is parsed at start-up. Definitions refer to each other by
//! [`DefId`], an index into [`super::Schemas`].

/// An index into the definitions of a [`super::Schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId(pub u16);

/// One group/version/kind a definition is served as (`x-kubernetes-group-version-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gvk {
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

/// One OpenAPI definition: `io.k8s.api.core.v1.ConfigMap`.
#[derive(Debug)]
pub struct Definition {
    /// kube's OpenAPI name: `io.k8s.api.core.v1.ConfigMap`.
    pub name: &'static str,
    /// The protobuf message: `k8s.io.api.core.v1.ConfigMap`; `None` for types without one.
    pub proto: Option<&'static str>,
    pub description: &'static str,
    pub shape: Shape,
    /// The kinds this definition is served as; empty for nested types.
    pub gvks: &'static [Gvk],
    /// `+structType=atomic`: the object is replaced as a whole by apply.
    pub struct_atomic: bool,
    /// kube's OpenAPI has this definition. `false` for a Go-inlined struct that kube's OpenAPI
    /// folds into its parents' properties (`io.k8s.api.core.v1.VolumeSource`): it is here for
    /// protobuf, where it is a message of its own; OpenAPI documents leave it out.
    pub in_openapi: bool,
}

impl Definition {
    /// The fields of an object, in Go struct order (kube's JSON order); empty for other shapes.
    pub fn fields(&self) -> &'static [Field] {
        match self.shape {
            Shape::Object(fields) => fields,
            _ => &[],
        }
    }
}

/// What a definition is.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A struct: its fields in Go order.
    Object(&'static [Field]),
    /// A type with its own JSON and protobuf encodings (a custom marshaler in Go).
    Wire(Wire),
    /// Anything goes (`x-kubernetes-preserve-unknown-fields` without properties).
    Opaque,
}

/// The types apimachinery encodes by hand, recognised by definition name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `meta.v1.Time`: RFC 3339 to the second; protobuf `{seconds = 1, nanos = 2}`.
    Time,
    /// `meta.v1.MicroTime`: RFC 3339 with 6 fractional digits; protobuf as `Time`.
    MicroTime,
    /// `meta.v1.Duration`: a Go duration string; protobuf `{duration = 1}` (int64 nanoseconds).
    Duration,
    /// `intstr.IntOrString`: a JSON number or string; protobuf `{type = 1, intVal = 2, strVal = 3}`.
    IntOrString,
    /// `resource.Quantity`: a JSON string; protobuf `{string = 1}`.
    Quantity,
    /// `runtime.RawExtension`: any JSON; protobuf `{raw = 1}` (JSON, or a `k8s\0` object).
    RawExtension,
    /// `meta.v1.FieldsV1`: a JSON object; protobuf `{Raw = 1}` holding its JSON.
    FieldsV1,
    /// `apiextensions.v1.JSON`: any JSON; protobuf `{raw = 1}`.
    Json,
    /// `apiextensions.v1.JSONSchemaPropsOrArray`: a schema or a list of schemas.
    JsonSchemaPropsOrArray,
    /// `apiextensions.v1.JSONSchemaPropsOrBool`: a schema or a bool.
    JsonSchemaPropsOrBool,
    /// `apiextensions.v1.JSONSchemaPropsOrStringArray`: a schema or a list of strings.
    JsonSchemaPropsOrStringArray,
}

/// One field of an object.
#[derive(Debug)]
pub struct Field {
    /// The JSON name; `""` for a Go-inlined (embedded) struct, whose fields appear in the parent's
    /// JSON and whose protobuf message is nested under `number`.
    pub json: &'static str,
    /// The protobuf field number; `None` for `apiVersion`/`kind`, which live in the envelope.
    pub number: Option<u32>,
    pub ty: Ty,
    pub description: &'static str,
    /// In the OpenAPI `required` list (not kube's validation: see `docs/architecture.md`).
    pub required: bool,
    /// `x-kubernetes-list-type` (`+listType`), with `x-kubernetes-list-map-keys` for `map`.
    pub list: Option<ListType>,
    /// `x-kubernetes-map-type` (`+mapType`).
    pub map_type: Option<MapType>,
    /// `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`.
    pub patch: Option<Patch>,
    /// How a zero value decoded from protobuf shows in JSON (Go pointer vs value field).
    pub zero: ZeroRule,
    /// `enum` values, when known.
    pub enumeration: &'static [&'static str],
    /// `x-kubernetes-embedded-resource`.
    pub embedded_resource: bool,
    /// `x-kubernetes-preserve-unknown-fields`.
    pub preserve_unknown: bool,
    /// Protobuf carries this list in a message of its own, `{repeated <element> items = 1}`
    /// (Go's named slice types: `meta.v1.Verbs` for `APIResource.verbs`; the `ExtraValue`s of
    /// `map[string]ExtraValue`, where the map's values are so wrapped). JSON is a plain array.
    pub wrapped: bool,
}

/// A field's type.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Scalar(Scalar),
    /// Another definition (which may be a [`Wire`] type).
    Ref(DefId),
    /// A JSON array; protobuf `repeated`.
    Array(&'static Ty),
    /// A JSON object with string keys; protobuf `map<string, T>`.
    Map(&'static Ty),
}

/// A JSON scalar and its protobuf wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `string`.
    String,
    /// `[]byte`: base64 in JSON (OpenAPI `format: byte`), `bytes` in protobuf.
    Bytes,
    /// `int32` (varint).
    Int32,
    /// `int64` (varint).
    Int64,
    /// `float64` (OpenAPI `format: double`; protobuf `double`).
    Double,
    Bool,
}

/// `+listType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    Atomic,
    Set,
    /// `map`, keyed by these fields (`+listMapKey`).
    Map(&'static [&'static str]),
}

/// `+mapType`, and `+structType` for object fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapType {
    Atomic,
    Granular,
}

/// `+patchStrategy` and `+patchMergeKey`: how a strategic merge patch treats the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    /// `merge`: lists merge (by `merge_key` for objects, as a set for scalars).
    pub merge: bool,
    /// `retainKeys`: fields absent from the patch are cleared (a union's members).
    pub retain_keys: bool,
    /// `replace`.
    pub replace: bool,
    pub merge_key: Option<&'static str>,
}

/// How a zero scalar decoded from protobuf shows in kube's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroRule {
    /// An `omitempty` value field: a zero value is left out.
    Omit,
    /// A pointer, or a field without `omitempty`: shown whatever its value.
    Keep,
}

/// What k8s-openapi's `impl Resource` says of a kind: the plural (the URL path segment; for a
/// subresource kind such as `Scale`, the subresource's name) and the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceNames {
    pub gvk: Gvk,
    pub plural: &'static str,
    pub scope: ResourceScope,
}

/// A kind's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceScope {
    Namespaced,
    Cluster,
    /// Served only under another resource (`Scale`, `Eviction`, `TokenRequest`).
    Subresource,
}
