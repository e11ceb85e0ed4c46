//! Applying PATCH request bodies to stored objects, as kube-apiserver does before it validates
//! and stores the result.
//!
//! Three patch types, chosen by the request's `Content-Type` ([`PatchType`]):
//!
//! - `application/json-patch+json`: RFC 6902 operations, applied one at a time by the
//!   `json-patch` crate; at most [`MAX_JSON_PATCH_OPERATIONS`] of them, and `copy` operations
//!   may grow the object by at most [`MAX_JSON_PATCH_COPY_BYTES`] in all ([`CopyBudget`]);
//! - `application/merge-patch+json`: RFC 7386 merge patch, also by `json-patch`;
//! - `application/strategic-merge-patch+json`: Kubernetes' strategic merge patch
//!   ([`strategic`]), for built-in kinds only — custom resources get 415, as in kube.
//!
//! Server-side apply (`application/apply-patch+yaml`, [`PatchType::Apply`]) is named here with
//! the other PATCH content types, but it is not a patch format in this sense: its body is a
//! configuration merged by the field manager ([`crate::apply`]), which the store calls
//! (`registry::store::apply`); [`apply_patch`] refuses it.
//!
//! A patch's result is then decoded strictly as the kind's type ([`strict`]: `fieldValidation`
//! on the patched object).
//!
//! Every failure is a [`PatchError`] whose [`code`](PatchError::code) and
//! [`reason`](PatchError::reason) say which `metav1.Status` to answer with.

pub mod strategic;
pub mod strict;

use serde_json::Value;

pub use strategic::{ListStrategy, StrategicSchema, apply_strategic_merge_patch};

/// kube-apiserver's cap on the operations of one JSON patch.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// kube-apiserver's cap (`JSONPatchMaxCopyBytes`, twice etcd's 1.5 MiB request limit) on how
/// much the `copy` operations of one JSON patch may add to the object, counted as the JSON
/// encoding of each copied value. Without it a few dozen copies of the growing object into
/// itself double it each time: a 2 KB patch builds gigabytes.
pub const MAX_JSON_PATCH_COPY_BYTES: u64 = 3 * 1024 * 1024;

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The body is not a patch of its type (not JSON, not a list of operations, not an
    /// object…): 400 `BadRequest`.
    #[error("{0}")]
    Decode(String),
    /// A strategic-merge directive is malformed (`$retainKeys`, `$setElementOrder/…`,
    /// `$deleteFromPrimitiveList/…`, an unknown `$patch`): 400 `BadRequest`.
    #[error("{0}")]
    Directive(String),
    /// More JSON patch operations than [`MAX_JSON_PATCH_OPERATIONS`]: 413. kube prefixes the
    /// status message with `Request entity too large: `.
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations { max: usize, got: usize },
    /// The patch is well-formed but does not apply to this object (a JSON patch `test` that
    /// fails or a path that does not exist; a merge list item without its merge key): 422.
    /// For JSON patch, kube's status message is the generic "the server rejected our request
    /// due to an error in our request", with this text as the cause.
    #[error("{0}")]
    Apply(String),
    /// The `copy` operations of a JSON patch would add more than their budget
    /// ([`MAX_JSON_PATCH_COPY_BYTES`]) to the object: 422, as any JSON patch that does not
    /// apply (kube-apiserver's json-patch library words it this way).
    #[error(
        "Unable to complete the copy, the accumulated size increase of copy is {accumulated}, exceeding the limit {limit}"
    )]
    CopyTooLarge { limit: u64, accumulated: u64 },
    /// Strategic merge patch for a kind without a strategic schema (custom resources): 415.
    #[error(
        "the body of the request was in an unknown format - accepted media types include: {}",
        .accepted.join(", ")
    )]
    UnsupportedMediaType { accepted: Vec<&'static str> },
}

impl PatchError {
    /// The HTTP status code kube-apiserver answers with.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::Decode(_) | PatchError::Directive(_) => 400,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::UnsupportedMediaType { .. } => 415,
            PatchError::Apply(_) | PatchError::CopyTooLarge { .. } => 422,
        }
    }

    /// The `metav1.StatusReason` that goes with [`code`](Self::code).
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::Decode(_) | PatchError::Directive(_) => "BadRequest",
            PatchError::TooManyOperations { .. } => "RequestEntityTooLarge",
            PatchError::UnsupportedMediaType { .. } => "UnsupportedMediaType",
            PatchError::Apply(_) | PatchError::CopyTooLarge { .. } => "Invalid",
        }
    }
}

/// The patch formats, by media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// RFC 6902 JSON patch.
    Json,
    /// RFC 7386 JSON merge patch.
    Merge,
    /// Kubernetes strategic merge patch.
    StrategicMerge,
    /// Server-side apply: a (partial) object in YAML or JSON, merged by field ownership.
    Apply,
}

impl PatchType {
    /// The media type of this format.
    pub fn media_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }

    /// The format named by a `Content-Type` header value; parameters (`; charset=utf-8`) and
    /// case are ignored. `None` for anything else — `application/apply-patch+cbor` included, as
    /// kube-apiserver without its CBOR feature gate.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge, PatchType::Apply]
            .into_iter()
            .find(|t| t.media_type().eq_ignore_ascii_case(media_type))
    }
}

/// Applies a patch body of the given type to `original`.
///
/// `schema` is the kind's [`StrategicSchema`] (from [`StrategicSchema::for_kind`]); strategic
/// merge patch without one is refused with [`PatchError::UnsupportedMediaType`], listing the
/// types that are accepted for such a kind. An apply body is not a patch: the store hands it to
/// the field manager, and here it is a [`PatchError::Decode`].
pub fn apply_patch(
    original: &Value,
    patch_type: PatchType,
    body: &[u8],
    schema: Option<&StrategicSchema>,
) -> Result<Value, PatchError> {
    // Like kube, refuse by media type before reading the body.
    let strategic_schema = match (patch_type, schema) {
        (PatchType::StrategicMerge, None) => {
            return Err(PatchError::UnsupportedMediaType {
                accepted: vec![
                    PatchType::Json.media_type(),
                    PatchType::Merge.media_type(),
                    PatchType::Apply.media_type(),
                ],
            });
        }
        (PatchType::Apply, _) => {
            return Err(PatchError::Decode(
                "an apply patch is merged by the field manager, not patched".to_owned(),
            ));
        }
        (_, schema) => schema,
    };
    // serde_json refuses nesting deeper than 128 levels, which bounds the recursion below.
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| PatchError::Decode(e.to_string()))?;
    match (patch_type, strategic_schema) {
        (PatchType::Json, _) => apply_json_patch(original, &patch),
        (PatchType::Merge, _) => apply_merge_patch(original, &patch),
        (PatchType::StrategicMerge, schema) => {
            let schema = schema.copied().unwrap_or_else(StrategicSchema::untyped);
            apply_strategic_merge_patch(original, &patch, &schema)
        }
        (PatchType::Apply, _) => {
            Err(PatchError::Decode("an apply patch is merged by the field manager".to_owned()))
        }
    }
}

/// Applies an RFC 6902 JSON patch (a list of operations). The original is left untouched, so a
/// failing operation leaves nothing half-applied.
pub fn apply_json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let operations: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| PatchError::Decode(e.to_string()))?;
    if operations.0.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            max: MAX_JSON_PATCH_OPERATIONS,
            got: operations.0.len(),
        });
    }
    let mut document = original.clone();
    apply_operations(&mut document, &operations.0, CopyBudget::new(MAX_JSON_PATCH_COPY_BYTES))?;
    Ok(document)
}

/// Applies `operations` to `document` in order, charging every `copy` to `budget` before it is
/// applied. On error `document` holds the operations before the failing one (callers work on a
/// copy and throw it away).
fn apply_operations(
    document: &mut Value,
    operations: &[json_patch::PatchOperation],
    mut budget: CopyBudget,
) -> Result<(), PatchError> {
    for (index, operation) in operations.iter().enumerate() {
        if let json_patch::PatchOperation::Copy(copy) = operation
            && let Some(source) = document.pointer(copy.from.as_str())
        {
            // A missing source is left to the crate, which reports it.
            budget.charge(source)?;
        }
        // `patch_unsafe` skips the crate's undo log (whose failure path panics); the document
        // we work on is thrown away on error anyway.
        json_patch::patch_unsafe(document, std::slice::from_ref(operation)).map_err(|mut e| {
            e.operation = index;
            PatchError::Apply(e.to_string())
        })?;
    }
    Ok(())
}

/// How much the `copy` operations of one JSON patch may still add to the object, as in
/// kube-apiserver: the JSON-encoded size of every copied value counts, and the copy that would
/// take the total past the limit is refused before anything is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyBudget {
    limit: u64,
    accumulated: u64,
}

impl CopyBudget {
    pub fn new(limit: u64) -> Self {
        CopyBudget { limit, accumulated: 0 }
    }

    /// Bytes charged so far.
    pub fn accumulated(&self) -> u64 {
        self.accumulated
    }

    /// Charges a copy of `value`, or refuses it. Measuring writes the encoding to a counter,
    /// not to memory, so refusing a huge copy costs no allocation.
    pub fn charge(&mut self, value: &Value) -> Result<(), PatchError> {
        let accumulated = self.accumulated.saturating_add(encoded_len(value));
        if accumulated > self.limit {
            return Err(PatchError::CopyTooLarge { limit: self.limit, accumulated });
        }
        self.accumulated = accumulated;
        Ok(())
    }
}

/// The length of `value`'s compact JSON encoding, without building it.
fn encoded_len(value: &Value) -> u64 {
    struct Counter(u64);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Applies an RFC 7386 JSON merge patch. Kubernetes objects are JSON objects, so the patch must
/// be one too (kube answers anything else with `Invalid JSON Patch`).
pub fn apply_merge_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::Decode("Invalid JSON Patch".to_owned()));
    }
    let mut document = original.clone();
    json_patch::merge(&mut document, patch);
    Ok(document)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/json-patch+json"),
            Some(PatchType::Json)
        );
        assert_eq!(
            PatchType::from_content_type("Application/Merge-Patch+JSON; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type(" application/strategic-merge-patch+json "),
            Some(PatchType::StrategicMerge)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml; charset=utf-8"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("application/apply-patch+cbor"), None);
        assert_eq!(PatchType::from_content_type("application/json"), None);
        assert_eq!(PatchType::from_content_type(""), None);
    }

    #[test]
    fn json_patch() {
        let original = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"k": "v"}});
        let got = apply_patch(
            &original,
            PatchType::Json,
            br#"[{"op": "test", "path": "/metadata/name", "value": "a"},
                 {"op": "add", "path": "/metadata/labels/y", "value": "2"},
                 {"op": "remove", "path": "/data/k"},
                 {"op": "replace", "path": "/metadata/labels/x", "value": "3"},
                 {"op": "copy", "from": "/metadata/labels", "path": "/data/copy"},
                 {"op": "move", "from": "/data/copy/y", "path": "/data/moved"}]"#,
            None,
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"metadata": {"name": "a", "labels": {"x": "3", "y": "2"}},
                   "data": {"copy": {"x": "3"}, "moved": "2"}})
        );
    }

    #[test]
    fn json_patch_errors() {
        let original = json!({"a": 1});
        let err = apply_json_patch(&original, &json!([{"op": "test", "path": "/a", "value": 2}]))
            .unwrap_err();
        assert_eq!(err.code(), 422);
        assert_eq!(err.reason(), "Invalid");
        assert!(err.to_string().contains("value did not match"), "{err}");
        let err =
            apply_json_patch(&original, &json!([{"op": "remove", "path": "/nope"}])).unwrap_err();
        assert!(matches!(err, PatchError::Apply(_)));
        let err = apply_json_patch(&original, &json!({"op": "remove"})).unwrap_err();
        assert_eq!(err.code(), 400);
        let err =
            apply_json_patch(&original, &json!([{"op": "explode", "path": "/a"}])).unwrap_err();
        assert!(matches!(err, PatchError::Decode(_)));
        let many = Value::Array(vec![json!({"op": "test", "path": "/a", "value": 1}); 10_001]);
        let err = apply_json_patch(&original, &many).unwrap_err();
        assert_eq!(err, PatchError::TooManyOperations { max: 10_000, got: 10_001 });
        assert_eq!(err.code(), 413);
        assert_eq!(err.reason(), "RequestEntityTooLarge");
        assert_eq!(
            err.to_string(),
            "The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
        let ok = Value::Array(vec![json!({"op": "test", "path": "/a", "value": 1}); 10_000]);
        assert!(apply_json_patch(&original, &ok).is_ok());
        // Array edge cases must fail cleanly, not panic.
        for op in [
            json!([{"op": "remove", "path": "/l/-"}]),
            json!([{"op": "move", "from": "/l/-", "path": "/m"}]),
            json!([{"op": "add", "path": "/l/5", "value": 1}]),
            json!([{"op": "move", "from": "/l", "path": "/l/0"}]),
            json!([{"op": "add", "path": "/x/y/z", "value": 1}]),
        ] {
            assert!(apply_json_patch(&json!({"l": []}), &op).is_err(), "{op}");
        }
    }

    /// The body of issue 11: one `add` of a 1 KiB value, then 20 copies of the growing object
    /// into itself (each doubles it).
    fn amplifying_patch() -> Value {
        let mut ops = vec![json!({"op": "add", "path": "/x", "value": {"s": "A".repeat(1024)}})];
        ops.extend(
            (0..20).map(|i| json!({"op": "copy", "from": "/x", "path": format!("/x/c{i}")})),
        );
        Value::Array(ops)
    }

    #[test]
    fn copies_past_the_budget_are_refused_before_they_are_applied() {
        let operations: json_patch::Patch = serde_json::from_value(amplifying_patch()).unwrap();
        let limit = 100_000;
        let mut document = json!({"data": {}});
        let err =
            apply_operations(&mut document, &operations.0, CopyBudget::new(limit)).unwrap_err();
        let PatchError::CopyTooLarge { limit: got_limit, accumulated } = err else {
            panic!("{err:?}")
        };
        assert_eq!(got_limit, limit);
        assert!(accumulated > limit, "{accumulated}");
        // Every copy before the refused one was applied; the refused one and all after it
        // were not, so the object grew by at most the budget.
        let x = document["x"].as_object().unwrap();
        let copied: Vec<&String> = x.keys().filter(|k| k.starts_with('c')).collect();
        let refused = copied.len();
        assert!((1..20).contains(&refused), "{copied:?}");
        assert!(!x.contains_key(&format!("c{refused}")));
        assert!(encoded_len(&document) <= 1100 + limit, "{}", encoded_len(&document));
        // The refused copy is the first that would have crossed the limit: what was charged
        // before it (the total less the object it would have copied) is within the limit.
        let charged_before = accumulated - encoded_len(&document["x"]);
        assert!(charged_before <= limit, "{charged_before}");
    }

    #[test]
    fn the_amplifying_patch_of_issue_11_is_refused_as_kube_refuses_it() {
        let original = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cb"}});
        let err = apply_json_patch(&original, &amplifying_patch()).unwrap_err();
        assert_eq!(err, PatchError::CopyTooLarge { limit: 3_145_728, accumulated: 4_250_539 });
        assert_eq!(err.code(), 422);
        assert_eq!(err.reason(), "Invalid");
        assert_eq!(
            err.to_string(),
            "Unable to complete the copy, the accumulated size increase of copy is 4250539, \
             exceeding the limit 3145728"
        );
        // Copies within the budget still apply.
        let ok = json!([{"op": "add", "path": "/x", "value": {"s": "A"}},
                        {"op": "copy", "from": "/x", "path": "/x/c"},
                        {"op": "copy", "from": "/x/c/s", "path": "/y"}]);
        assert_eq!(
            apply_json_patch(&json!({}), &ok).unwrap(),
            json!({"x": {"s": "A", "c": {"s": "A"}}, "y": "A"})
        );
    }

    #[test]
    fn encoded_len_is_the_compact_json_length() {
        for value in [
            json!(null),
            json!("é\"\n"),
            json!([1, 2.5, -3, true]),
            json!({"a": {"b": [{}, []]}, "c": "x"}),
        ] {
            assert_eq!(encoded_len(&value), serde_json::to_vec(&value).unwrap().len() as u64);
        }
    }

    #[test]
    fn merge_patch() {
        let original =
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"list": [1, 2]}});
        let got = apply_patch(
            &original,
            PatchType::Merge,
            br#"{"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"list": [3], "new": {"x": null, "y": 1}}}"#,
            None,
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"list": [3], "new": {"y": 1}}})
        );
        for bad in [json!(null), json!([1]), json!("x"), json!(3)] {
            let err = apply_merge_patch(&original, &bad).unwrap_err();
            assert_eq!(err, PatchError::Decode("Invalid JSON Patch".to_owned()));
        }
    }

    #[test]
    fn strategic_merge_and_custom_resources() {
        let original = json!({"spec": {"containers": [{"name": "a", "image": "1"}]}});
        let body = br#"{"spec": {"containers": [{"name": "a", "image": "2"}]}}"#;
        let schema = StrategicSchema::for_kind("", "v1", "Pod");
        let got = apply_patch(&original, PatchType::StrategicMerge, body, schema.as_ref()).unwrap();
        assert_eq!(got, json!({"spec": {"containers": [{"name": "a", "image": "2"}]}}));
        let err = apply_patch(&original, PatchType::StrategicMerge, body, None).unwrap_err();
        assert_eq!(err.code(), 415);
        assert_eq!(err.reason(), "UnsupportedMediaType");
        assert_eq!(
            err.to_string(),
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json, \
             application/apply-patch+yaml"
        );
        let err = apply_patch(&original, PatchType::Apply, body, None).unwrap_err();
        assert_eq!(err.code(), 400);
    }

    #[test]
    fn undecodable_bodies() {
        let original = json!({});
        for patch_type in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
            let schema = StrategicSchema::for_kind("", "v1", "ConfigMap");
            let err =
                apply_patch(&original, patch_type, b"{not json", schema.as_ref()).unwrap_err();
            assert_eq!(err.code(), 400, "{patch_type:?}");
            assert_eq!(err.reason(), "BadRequest");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        let err = apply_patch(&original, PatchType::Merge, deep.as_bytes(), None).unwrap_err();
        assert!(matches!(err, PatchError::Decode(_)));
        assert_eq!(PatchError::Directive("x".into()).code(), 400);
    }
}
