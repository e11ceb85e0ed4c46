//! A create or update body's `apiVersion` and `kind` against the resource it is sent to,
//! refused as kube-apiserver's decoder refuses them (400 `BadRequest`).
//!
//! kube fills a missing `apiVersion` or `kind` from the URL, decodes the body as the type it
//! names and converts that to the resource's internal type:
//!
//! - another version of the same type (an `autoscaling/v1` HPA sent to `autoscaling/v2`, a core
//!   `v1` Event sent to `events.k8s.io/v1`) converts, and is then refused because it is not the
//!   URL's version: `the API version in the data (…) does not match the expected API version (…)`;
//! - another type kube knows (a `Secret` sent to `configmaps`) fails to convert:
//!   `Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to
//!   (core.ConfigMap): unknown conversion`;
//! - a kind its scheme does not hold for that version (`apps/v1` `ConfigMap`): `… cannot be
//!   handled as a ConfigMap: no kind "ConfigMap" is registered for version "apps/v1" in scheme
//!   "pkg/api/legacyscheme/scheme.go:30"`.
//!
//! The last two are worded for kinds of kube-apiserver's own scheme (its legacy scheme);
//! CustomResourceDefinitions and custom resources, which other decoders read, are left to the
//! store's check, apart from the API version rule that holds for every resource.

use serde_json::Value;

use super::status::ApiError;
use crate::registry::{Registry, Resource};

/// The groups whose kinds live in kube-apiserver's legacy scheme.
const LEGACY_SCHEME_GROUPS: &[&str] = &[
    "",
    "apps",
    "autoscaling",
    "coordination.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

/// How kube-apiserver's messages name its legacy scheme (the file and line that made it).
const LEGACY_SCHEME: &str = "pkg/api/legacyscheme/scheme.go:30";

/// Refuses a body (already decoded, an object) whose `apiVersion`/`kind` is not `resource`'s.
pub fn check(registry: &Registry, resource: &Resource, body: &Value) -> Result<(), ApiError> {
    let text = |field: &str| body.get(field).and_then(Value::as_str).unwrap_or("");
    let kind = match text("kind") {
        "" => resource.kind.as_str(),
        kind => kind,
    };
    let (group, version) = with_defaults(text("apiVersion"), resource);
    if group == resource.gv.group && version == resource.gv.version && kind == resource.kind {
        return Ok(());
    }
    let data_gv = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    let known = registry.in_group_version(group, version).into_iter().any(|r| r.kind == kind);
    if known && internal_type(group, kind) == internal_type(&resource.gv.group, &resource.kind) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({data_gv}) does not match the expected API version ({})",
            resource.gv.api_version()
        )));
    }
    if !LEGACY_SCHEME_GROUPS.contains(&resource.gv.group.as_str()) {
        return Ok(());
    }
    let why = if known {
        let (package, _) = internal_type(&resource.gv.group, &resource.kind);
        format!(
            "converting ({version}.{kind}) to ({package}.{}): unknown conversion",
            resource.kind
        )
    } else {
        format!(
            "no kind {kind:?} is registered for version {data_gv:?} in scheme {LEGACY_SCHEME:?}"
        )
    };
    Err(ApiError::bad_request(format!(
        "{kind} in version {version:?} cannot be handled as a {}: {why}",
        resource.kind
    )))
}

/// The group and version an `apiVersion` names, with the URL's filling what is missing, as
/// apimachinery does (`ParseGroupVersion`, then `gvkWithDefaults`): an unparsable value (more
/// than one `/`) counts as missing.
fn with_defaults<'a>(api_version: &'a str, resource: &'a Resource) -> (&'a str, &'a str) {
    let (group, version) = match api_version.matches('/').count() {
        _ if api_version.is_empty() || api_version == "/" => ("", ""),
        0 => ("", api_version),
        1 => api_version.split_once('/').unwrap_or(("", api_version)),
        _ => ("", ""),
    };
    match (group, version) {
        ("", "") => (&resource.gv.group, &resource.gv.version),
        (group, "") if group == resource.gv.group => (group, &resource.gv.version),
        other => other,
    }
}

/// The Go package and type name of a kind's internal type: kube converts every version of a
/// type to it. Core kinds and `events.k8s.io` Events share package `core`; other groups' types
/// live in a package named after the group's first label.
fn internal_type<'a>(group: &'a str, kind: &'a str) -> (&'a str, &'a str) {
    let package = match group {
        "" | "events.k8s.io" => "core",
        group => group.split('.').next().unwrap_or(group),
    };
    (package, kind)
}
