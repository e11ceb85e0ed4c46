//! apiextensions: what kube-apiserver's apiextensions-apiserver does for CustomResourceDefinitions,
//! so that users can add their own kinds at runtime and have them served like built-in ones.
//!
//! A CRD names a new resource (group, versions, names, scope) and gives each version an
//! OpenAPI v3 schema. That schema decides what the server stores for the custom resources: it
//! must be structural, and it prunes unknown fields, supplies defaults and validates every write.
//!
//! # Layout
//! - [`schema`]: the structural-schema engine — parsing and checking an `openAPIV3Schema`, then
//!   pruning, defaulting and validating custom resources against it. Pure, no I/O.
//! - [`crd`]: the `customresourcedefinitions` resource itself: defaults, stored versions and
//!   validation of a CRD.
//! - [`definition`]: a stored CRD read into types.
//! - [`names`]: which names a CRD is given when others of its group hold some.
//! - [`custom`]: a CRD's served versions as registry resources (strategy, conversion, table).
//! - [`webhook`]: conversion webhooks (`spec.conversion.strategy: Webhook`): ConversionReviews
//!   over HTTPS to the CRD's `url`, trusting its `caBundle`.
//! - [`controller`]: follows the CRDs and serves, updates, cleans up and unserves their
//!   resources.
//!
//! # Data flow
//! ```text
//! POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions ─▶ generic store (crd strategy)
//!   └▶ log ─▶ CRD view ─▶ controller ─▶ Registry::replace(custom resources) + CRD status
//! POST /apis/{group}/{version}/.../{plural} ─▶ generic store (custom strategy: prune, default,
//!   validate) ─▶ log under /{group}/{plural}
//! ```

pub mod cel;
pub mod controller;
pub mod crd;
pub mod custom;
pub mod definition;
pub mod names;
pub mod schema;
pub mod webhook;

use crate::registry::Registry;

/// Serves `customresourcedefinitions`. No CRD may define a built-in group (whether
/// `--runtime-config` serves it or not) nor `apiextensions.k8s.io`.
pub fn register(registry: &Registry) {
    let mut groups: Vec<String> = Vec::new();
    for (gv, _) in crate::registry::builtin::known() {
        if !groups.contains(&gv.group) {
            groups.push(gv.group);
        }
    }
    groups.push(crd::GROUP.to_owned());
    if let Err(err) = registry.register(crd::resource(groups)) {
        tracing::error!(%err, "customresourcedefinitions registered twice");
    }
}
