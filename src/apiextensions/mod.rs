//! apiextensions: what kube-apiserver's apiextensions-apiserver does for CustomResourceDefinitions,
//! so that users can add their own kinds at runtime and have them served like built-in ones.
//!
//! A CRD names a new resource (group, versions, names, scope) and gives each version an
//! OpenAPI v3 schema. That schema decides what the server stores for the custom resources: it
//! must be structural, and it prunes unknown fields, supplies defaults and validates every write.
//!
//! - [`schema`]: the structural-schema engine — parsing and checking an `openAPIV3Schema`, then
//!   pruning, defaulting and validating custom resources against it. Pure, no I/O.

pub mod schema;
