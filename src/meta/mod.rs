//! The pure "apimachinery" of the API: what k8s.io/apimachinery gives kube-apiserver for reading
//! queries and checking objects, with no I/O.
//!
//! - [`labels`]: label selectors — the `labelSelector` query parameter and the structured
//!   `metav1.LabelSelector` of Deployments and friends — and how they match labels.
//! - [`fields`]: field selectors (`fieldSelector`), matched against the field values a registry
//!   computes per kind.
//! - [`status`]: the API error type ([`status::ApiError`], a `metav1.Status`) every layer from
//!   the registry up returns; the endpoints render it.
//! - [`gojson`]: JSON text as Go's `encoding/json` writes it (escapes, sorted keys).
//! - [`validation`]: kube's name and value validators and `metadata` validation, producing the
//!   `details.causes` of a 422 `Invalid` status.
//!
//! Error messages follow kube-apiserver's wording, because clients and their tests read them.

pub mod fields;
pub mod gojson;
pub mod labels;
pub mod quantity;
pub mod status;
pub mod validation;

pub use fields::{FieldOperator, FieldRequirement, FieldSelector, FieldSelectorError};
pub use labels::{LabelSelector, LabelSelectorError, Labels, Operator, Requirement};
pub use validation::{CauseType, FieldCause, NameValidator};

/// Writes `items` joined by `,`: the string form of both kinds of selector.
fn write_joined<T: std::fmt::Display>(
    f: &mut std::fmt::Formatter<'_>,
    items: &[T],
) -> std::fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
