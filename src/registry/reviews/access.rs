//! What the access reviews share (kube's `pkg/registry/authorization/util` and
//! `pkg/apis/authorization/validation`): the spec's attributes read into authorizer
//! [`Attributes`], the spec's validation, and the status a [`Decision`] becomes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::AUTHORIZATION;
use crate::authz::{Attributes, Decision};
use crate::meta::status::{ApiError, Cause};
use crate::meta::validation::FieldCause;

/// `spec` as the access reviews read it: the resource or non-resource attributes, and for
/// SubjectAccessReview the subject.
#[derive(Debug, Clone, Default)]
pub(super) struct Spec {
    pub resource: Option<Map<String, Value>>,
    pub non_resource: Option<Map<String, Value>>,
    pub user: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// A 400 for a field of the wrong JSON type, worded as Go's decoder words it.
fn type_error(kind: &str, go_type: &str, path: &str, value: &Value, want: &str) -> ApiError {
    let got = match value {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    };
    ApiError::bad_request(format!(
        "{kind} in version \"v1\" cannot be handled as a {kind}: json: cannot unmarshal {got} \
         into Go struct field {go_type}.{path} of type {want}"
    ))
}

/// Reads `spec` (missing or `null`: empty). `kind` words the errors.
pub(super) fn read_spec(kind: &str, body: &Value) -> Result<Spec, ApiError> {
    let mut spec = Spec::default();
    let Some(raw) = body.get("spec").filter(|s| !s.is_null()) else { return Ok(spec) };
    let go = format!("{kind}Spec");
    let raw = raw.as_object().ok_or_else(|| type_error(kind, kind, "spec", raw, &go))?;
    let object = |field: &str, go_type: &str| -> Result<Option<Map<String, Value>>, ApiError> {
        match raw.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    if !value.is_string() && !value.is_null() && !key.ends_with("Selector") {
                        let path = format!("spec.{field}.{key}");
                        return Err(type_error(kind, go_type, &path, value, "string"));
                    }
                }
                Ok(Some(map.clone()))
            }
            Some(other) => Err(type_error(kind, &go, &format!("spec.{field}"), other, go_type)),
        }
    };
    spec.resource = object("resourceAttributes", "ResourceAttributes")?;
    spec.non_resource = object("nonResourceAttributes", "NonResourceAttributes")?;
    let string = |field: &str| -> Result<String, ApiError> {
        match raw.get(field) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(type_error(kind, &go, &format!("spec.{field}"), other, "string")),
        }
    };
    spec.user = string("user")?;
    spec.uid = string("uid")?;
    let strings = |value: &Value, path: &str| -> Result<Vec<String>, ApiError> {
        match value {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| type_error(kind, &go, path, item, "string"))
                })
                .collect(),
            other => Err(type_error(kind, &go, path, other, "[]string")),
        }
    };
    if let Some(groups) = raw.get("groups") {
        spec.groups = strings(groups, "spec.groups")?;
    }
    match raw.get("extra") {
        None | Some(Value::Null) => {}
        Some(Value::Object(extra)) => {
            for (key, values) in extra {
                spec.extra.insert(key.clone(), strings(values, "spec.extra")?);
            }
        }
        Some(other) => {
            return Err(type_error(kind, &go, "spec.extra", other, "map[string]v1.ExtraValue"));
        }
    }
    Ok(spec)
}

/// `ValidateSelfSubjectAccessReviewSpec`: exactly one of the two kinds of attributes.
pub(super) fn validate_attributes(spec: &Spec, causes: &mut Vec<FieldCause>) {
    match (&spec.resource, &spec.non_resource) {
        (Some(_), Some(non_resource)) => causes.push(FieldCause::invalid(
            "spec.nonResourceAttributes",
            Value::Object(non_resource.clone()),
            "cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => causes.push(FieldCause::invalid(
            "spec.resourceAttributes",
            Value::Null,
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
        _ => {}
    }
}

/// Whether a metadata field holds anything (Go's zero values and `null` do not).
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Bool(b) => *b,
    }
}

/// kube's `metadata: must be empty` check, `except` the fields named (LocalSubjectAccessReview
/// keeps its namespace); managed fields never count.
pub(super) fn validate_empty_metadata(body: &Value, except: &[&str], causes: &mut Vec<FieldCause>) {
    let Some(meta) = body.get("metadata").and_then(Value::as_object) else { return };
    let set = meta.iter().any(|(key, value)| {
        key != "managedFields" && !except.contains(&key.as_str()) && is_set(value)
    });
    if set {
        let detail = if except.is_empty() {
            "must be empty".to_owned()
        } else {
            format!("must be empty except for {}", except.join(", "))
        };
        causes.push(FieldCause::invalid("metadata", Value::Object(meta.clone()), &detail));
    }
}

/// 422 `<Kind>.authorization.k8s.io "" is invalid: …`.
pub(super) fn invalid(kind: &str, causes: Vec<FieldCause>) -> ApiError {
    let causes = causes
        .into_iter()
        .map(|c| Cause { reason: c.reason.as_str().to_owned(), message: c.message, field: c.field })
        .collect();
    ApiError::invalid(AUTHORIZATION, kind, "", causes)
}

/// kube's `ResourceAttributesFrom` / `NonResourceAttributesFrom`: the attributes the spec asks
/// about, for `user`. An empty version matches every version (`*`).
pub(super) fn attributes(user: Arc<crate::authz::UserInfo>, spec: &Spec) -> Attributes {
    let text = |map: &Map<String, Value>, key: &str| {
        map.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    if let Some(resource) = &spec.resource {
        let version = match text(resource, "version") {
            version if version.is_empty() => "*".to_owned(),
            version => version,
        };
        return Attributes::resource(
            user,
            &text(resource, "verb"),
            &text(resource, "group"),
            &version,
            &text(resource, "resource"),
        )
        .namespace(&text(resource, "namespace"))
        .subresource(&text(resource, "subresource"))
        .name(&text(resource, "name"));
    }
    let non_resource = spec.non_resource.clone().unwrap_or_default();
    Attributes::non_resource(user, &text(&non_resource, "verb"), &text(&non_resource, "path"))
}

/// `SubjectAccessReviewStatus`: `allowed` always, `denied` and `reason` when there is one.
pub(super) fn status(decision: &Decision) -> Value {
    let mut status = json!({ "allowed": decision.is_allowed() });
    if matches!(decision, Decision::Deny(_)) {
        status["denied"] = true.into();
    }
    if !decision.reason().is_empty() {
        status["reason"] = decision.reason().into();
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_become_attributes_with_every_version_when_none_is_named() {
        let body = json!({"spec": {"user": "a", "groups": ["g"], "extra": {"k": ["v"]},
            "resourceAttributes": {"verb": "get", "group": "apps", "resource": "deployments",
                                   "subresource": "scale", "namespace": "ns", "name": "d"}}});
        let spec = read_spec("SubjectAccessReview", &body).unwrap();
        assert_eq!((spec.user.as_str(), spec.groups.as_slice()), ("a", &["g".to_owned()][..]));
        let user = Arc::new(crate::authz::UserInfo::new("a", &[]));
        let attributes = attributes(user.clone(), &spec);
        assert_eq!(
            attributes,
            Attributes::resource(user.clone(), "get", "apps", "*", "deployments")
                .namespace("ns")
                .subresource("scale")
                .name("d")
        );
        let url = read_spec(
            "X",
            &json!({"spec": {"nonResourceAttributes": {"path": "/x", "verb": "get"}}}),
        );
        let non_resource = super::attributes(user, &url.unwrap());
        assert!(!non_resource.resource_request && non_resource.path == "/x");
        let bad = read_spec("X", &json!({"spec": {"groups": "g"}})).unwrap_err();
        assert!(
            bad.message.contains(
                "cannot unmarshal string into Go struct field XSpec.spec.groups of type []string"
            ),
            "{}",
            bad.message
        );
    }

    #[test]
    fn decisions_become_statuses() {
        assert_eq!(status(&Decision::Allow(String::new())), json!({"allowed": true}));
        assert_eq!(
            status(&Decision::Deny("no".into())),
            json!({"allowed": false, "denied": true, "reason": "no"})
        );
        assert_eq!(status(&Decision::NoOpinion(String::new())), json!({"allowed": false}));
        let mut causes = Vec::new();
        validate_empty_metadata(
            &json!({"metadata": {"creationTimestamp": null, "namespace": "n"}}),
            &["namespace"],
            &mut causes,
        );
        assert!(causes.is_empty());
        validate_empty_metadata(&json!({"metadata": {"name": "x"}}), &[], &mut causes);
        assert_eq!(causes[0].field, "metadata");
    }
}
