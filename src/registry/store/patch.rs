//! Applying a PATCH body to an object in its served version, with the kind's strategic-merge
//! schema; patch failures become API errors here.

use serde_json::Value;

use crate::meta::status::{ApiError, Cause, Reason};
use crate::patch::{PatchError, PatchType, StrategicSchema, apply_patch};
use crate::registry::Resource;

/// Patches `current` (served version) of `resource`'s object `name`.
pub(crate) fn apply(
    resource: &Resource,
    name: &str,
    patch_type: PatchType,
    current: &Value,
    patch: &[u8],
) -> Result<Value, ApiError> {
    let gv = &resource.gv;
    apply_to_kind((&gv.group, &gv.version, &resource.kind), name, patch_type, current, patch)
}

/// Patches an object of `(group, version, kind)` (also used for `Scale` objects of the scale
/// subresource); strategic merge patch takes its merge keys from the kind's built-in schema.
pub(crate) fn apply_to_kind(
    (group, version, kind): (&str, &str, &str),
    name: &str,
    patch_type: PatchType,
    current: &Value,
    patch: &[u8],
) -> Result<Value, ApiError> {
    let schema = StrategicSchema::for_kind(group, version, kind);
    apply_patch(current, patch_type, patch, schema.as_ref()).map_err(|err| match err {
        PatchError::Apply(_) | PatchError::CopyTooLarge { .. } => {
            let detail = err.to_string();
            let cause = Cause {
                reason: "FieldValueInvalid".into(),
                message: detail.clone(),
                field: String::new(),
            };
            let mut error = ApiError::invalid(group, kind, name, vec![cause]);
            error.message =
                format!("the server rejected our request due to an error in our request: {detail}");
            error
        }
        PatchError::TooManyOperations { .. } => {
            ApiError::new(Reason::RequestEntityTooLarge, format!("Request entity too large: {err}"))
        }
        PatchError::UnsupportedMediaType { .. } => {
            ApiError::new(Reason::UnsupportedMediaType, err.to_string())
        }
        PatchError::Decode(_) | PatchError::Directive(_) => ApiError::bad_request(err.to_string()),
    })
}
