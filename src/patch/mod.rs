//! Applying PATCH request bodies to stored objects, as kube-apiserver does before it validates
//! and stores the result.
//!
//! Three patch types, chosen by the request's `Content-Type` ([`PatchType`]):
//!
//! - `application/json-patch+json`: RFC 6902 operations, applied by the `json-patch` crate; at
//!   most [`MAX_JSON_PATCH_OPERATIONS`] of them;
//! - `application/merge-patch+json`: RFC 7386 merge patch, also by `json-patch`;
//! - `application/strategic-merge-patch+json`: Kubernetes' strategic merge patch
//!   ([`strategic`]), for built-in kinds only — custom resources get 415, as in kube.
//!
//! Server-side apply (`application/apply-patch+yaml`) is not a patch format in this sense and is
//! not handled here.
//!
//! Every failure is a [`PatchError`] whose [`code`](PatchError::code) and
//! [`reason`](PatchError::reason) say which `metav1.Status` to answer with.

pub mod strategic;

use serde_json::Value;

pub use strategic::{ListStrategy, StrategicSchema, apply_strategic_merge_patch};

/// Stands in where a schema is needed but cannot be missing (see [`apply_patch`]).
static EMPTY_SCHEMA: std::sync::LazyLock<StrategicSchema> =
    std::sync::LazyLock::new(StrategicSchema::new);

/// kube-apiserver's cap on the operations of one JSON patch.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

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
            PatchError::Apply(_) => 422,
        }
    }

    /// The `metav1.StatusReason` that goes with [`code`](Self::code).
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::Decode(_) | PatchError::Directive(_) => "BadRequest",
            PatchError::TooManyOperations { .. } => "RequestEntityTooLarge",
            PatchError::UnsupportedMediaType { .. } => "UnsupportedMediaType",
            PatchError::Apply(_) => "Invalid",
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
}

impl PatchType {
    /// The media type of this format.
    pub fn media_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
        }
    }

    /// The format named by a `Content-Type` header value; parameters (`; charset=utf-8`) and
    /// case are ignored. `None` for anything else, including server-side apply.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge]
            .into_iter()
            .find(|t| t.media_type().eq_ignore_ascii_case(media_type))
    }
}

/// Applies a patch body of the given type to `original`.
///
/// `schema` is the kind's [`StrategicSchema`] (from [`StrategicSchema::for_kind`]); strategic
/// merge patch without one is refused with [`PatchError::UnsupportedMediaType`], listing the
/// types that are accepted for such a kind.
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
                accepted: vec![PatchType::Json.media_type(), PatchType::Merge.media_type()],
            });
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
            apply_strategic_merge_patch(original, &patch, schema.unwrap_or(&EMPTY_SCHEMA))
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
    // `patch_unsafe` skips the crate's undo log (whose failure path panics); the copy we work
    // on is thrown away on error anyway.
    json_patch::patch_unsafe(&mut document, &operations)
        .map_err(|e| PatchError::Apply(e.to_string()))?;
    Ok(document)
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
        assert_eq!(PatchType::from_content_type("application/apply-patch+yaml"), None);
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
        let schema = StrategicSchema::for_kind("", "Pod");
        let got = apply_patch(&original, PatchType::StrategicMerge, body, schema).unwrap();
        assert_eq!(got, json!({"spec": {"containers": [{"name": "a", "image": "2"}]}}));
        let err = apply_patch(&original, PatchType::StrategicMerge, body, None).unwrap_err();
        assert_eq!(err.code(), 415);
        assert_eq!(err.reason(), "UnsupportedMediaType");
        assert_eq!(
            err.to_string(),
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json"
        );
    }

    #[test]
    fn undecodable_bodies() {
        let original = json!({});
        for patch_type in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
            let schema = StrategicSchema::for_kind("", "ConfigMap");
            let err = apply_patch(&original, patch_type, b"{not json", schema).unwrap_err();
            assert_eq!(err.code(), 400, "{patch_type:?}");
            assert_eq!(err.reason(), "BadRequest");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        let err = apply_patch(&original, PatchType::Merge, deep.as_bytes(), None).unwrap_err();
        assert!(matches!(err, PatchError::Decode(_)));
        assert_eq!(PatchError::Directive("x".into()).code(), 400);
    }
}
