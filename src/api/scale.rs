//! The `scale` subresource (`autoscaling/v1` `Scale`), served for any resource that declares
//! where its replicas live ([`ScaleSubresource`]): Deployments now, custom resources later.
//!
//! GET builds a `Scale` from the parent object; PUT and PATCH compute the desired replicas and
//! write them into the parent through the store's patch path, so the parent's strategy,
//! validation and optimistic concurrency all apply. The `Scale` is read and written in JSON,
//! YAML or protobuf (a PUT body too), as kube-apiserver serves it.

use std::sync::Arc;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use super::ApiState;
use super::negotiate;
use super::status::{ApiError, Cause, Reason};
use crate::meta::labels::LabelSelector;
use crate::patch::PatchType;
use crate::registry::resource::ScaleSubresource;
use crate::registry::{Operation, Resource, object};

/// `op` is the request as an operation on the parent (subresource `scale`); for PUT and PATCH
/// its options are the query's.
pub async fn handle(
    state: ApiState,
    resource: Arc<Resource>,
    op: Operation,
    headers: HeaderMap,
    method: Method,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(spec) = resource.scale_subresource.clone() else {
        return Err(ApiError::no_such_path());
    };
    if op.name.is_empty() {
        return Err(ApiError::new(Reason::MethodNotAllowed, "scale needs an object name"));
    }
    let (namespace, name) = (op.namespace.as_deref(), op.name.as_str());
    let store = &state.store;
    // `autoscaling/v1` `Scale` is a built-in kind: JSON, YAML or protobuf, as kube serves it.
    let offer = negotiate::Offer { protobuf: true, ..negotiate::Offer::default() };
    let output = negotiate::negotiate(&headers, offer)?;
    let parent = store.get(&resource, namespace, name, None).await?;
    let current = scale_of(&spec, &parent);
    let desired = match method {
        Method::GET => return Ok(negotiate::respond(output, StatusCode::OK, &current)),
        Method::PUT => {
            let kind = negotiate::body_type(&headers)?;
            negotiate::decode_object(&body, kind, "Scale")?
        }
        Method::PATCH => {
            let patch_type = negotiate::patch_type(&headers, true)?;
            if patch_type == PatchType::Apply {
                return apply(&state, &resource, &spec, op, output, &body).await;
            }
            crate::registry::store::apply_patch_to_kind(
                ("autoscaling", "v1", "Scale"),
                name,
                patch_type,
                &current,
                &body,
            )?
        }
        other => {
            return Err(ApiError::new(
                Reason::MethodNotAllowed,
                format!("{other} is not allowed on scale"),
            ));
        }
    };
    let replicas = desired.pointer("/spec/replicas");
    let replicas = match replicas.and_then(Value::as_i64) {
        Some(n) if n >= 0 => n,
        _ => {
            let shown = replicas.cloned().unwrap_or(Value::Null);
            let cause = Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: {shown}: must be greater than or equal to 0"),
                field: "spec.replicas".into(),
            };
            return Err(ApiError::invalid("autoscaling", "Scale", name, vec![cause]));
        }
    };
    // The parent patch sets the replicas; a resourceVersion in a PUT body is a precondition.
    let mut patch = nested(&spec.spec_replicas_path, json!(replicas));
    if method == Method::PUT
        && let Some(rv) = object::resource_version(&desired)
    {
        patch["metadata"] = json!({"resourceVersion": rv});
    }
    let patch = serde_json::to_vec(&patch).unwrap_or_default();
    let updated = store.patch(&resource, &op, PatchType::Merge, &patch).await;
    let response = match updated {
        Ok(updated) => negotiate::respond(output, StatusCode::OK, &scale_of(&spec, &updated)),
        // In the negotiated encoding, warnings kept (the caller's negotiation sees only `Err`).
        Err(error) => negotiate::error_response(negotiate::accept_of(&headers), true, error),
    };
    Ok(super::handlers::with_warnings(response, &op.warnings()))
}

/// Server-side apply of a `Scale`: the configuration's
/// `spec.replicas` applied to the parent by the same manager through the subresource `scale`,
/// so that the parent's entries record it (`subresource: scale`) and conflict with its other
/// owners of the replicas field.
async fn apply(
    state: &ApiState,
    resource: &Resource,
    spec: &ScaleSubresource,
    op: Operation,
    output: negotiate::Output,
    body: &[u8],
) -> Result<Response, ApiError> {
    let config = negotiate::decode_apply_config(body)?;
    crate::registry::store::check_config_type(&config, "autoscaling/v1", "Scale")?;
    let mut parent = match config.pointer("/spec/replicas") {
        Some(replicas) => nested(&spec.spec_replicas_path, replicas.clone()),
        None => json!({}),
    };
    parent["apiVersion"] = resource.gv.api_version().into();
    parent["kind"] = resource.kind.clone().into();
    parent["metadata"] = json!({"name": op.name});
    if let Some(rv) = object::resource_version(&config) {
        parent["metadata"]["resourceVersion"] = rv.into();
    }
    let applied = state.store.apply(resource, &op, parent).await;
    let response = match applied {
        Ok(applied) => negotiate::respond(output, StatusCode::OK, &scale_of(spec, &applied.object)),
        Err(error) => axum::response::IntoResponse::into_response(error),
    };
    Ok(super::handlers::with_warnings(response, &op.warnings()))
}

/// The `Scale` view of a parent object.
fn scale_of(spec: &ScaleSubresource, parent: &Value) -> Value {
    let at = |path: &str| parent.pointer(&pointer(path)).cloned();
    let selector = spec.label_selector_path.as_deref().and_then(at).map(|s| match s {
        Value::String(text) => text,
        Value::Object(set) if is_label_set(&set) => {
            // A ReplicationController's map of labels: `labels.SelectorFromSet(..).String()`.
            let labels: std::collections::BTreeMap<&String, &str> =
                set.iter().filter_map(|(k, v)| Some((k, v.as_str()?))).collect();
            labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
        }
        structured => {
            LabelSelector::from_structured(&structured).map(|s| s.to_string()).unwrap_or_default()
        }
    });
    let meta = object::metadata(parent).cloned().unwrap_or_default();
    let keep = ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"];
    let mut metadata: serde_json::Map<String, Value> =
        meta.into_iter().filter(|(k, _)| keep.contains(&k.as_str())).collect();
    // The parent's owners of its replicas, as owners of the Scale's `spec.replicas` (kube's
    // scale handler shows them so).
    let replicas_path: Vec<&str> =
        spec.spec_replicas_path.trim_start_matches('.').split('.').collect();
    let entries = crate::apply::scale::to_subresource(parent, &replicas_path);
    if entries.as_array().is_some_and(|e| !e.is_empty()) {
        metadata.insert("managedFields".into(), entries);
    }
    let mut status = json!({"replicas": at(&spec.status_replicas_path).unwrap_or(json!(0))});
    if let Some(selector) = selector {
        status["selector"] = selector.into();
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": at(&spec.spec_replicas_path).unwrap_or(json!(0))},
        "status": status,
    })
}

/// Whether a selector is a plain map of labels (a ReplicationController's `spec.selector`)
/// rather than a `metav1.LabelSelector`.
fn is_label_set(selector: &serde_json::Map<String, Value>) -> bool {
    !selector.contains_key("matchLabels")
        && !selector.contains_key("matchExpressions")
        && selector.values().all(Value::is_string)
}

/// `.spec.replicas` → `/spec/replicas`.
fn pointer(path: &str) -> String {
    path.trim_start_matches('.').split('.').fold(String::new(), |mut p, s| {
        p.push('/');
        p.push_str(s);
        p
    })
}

/// `.spec.replicas`, 3 → `{"spec":{"replicas":3}}`.
fn nested(path: &str, value: Value) -> Value {
    path.trim_start_matches('.').rsplit('.').fold(value, |inner, segment| json!({ segment: inner }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_view_of_a_deployment() {
        let spec = ScaleSubresource::workload();
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7", "labels": {"x": "y"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 2}
        });
        let scale = scale_of(&spec, &deployment);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(scale["status"], json!({"replicas": 2, "selector": "app=web"}));
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
        assert!(scale["metadata"].get("labels").is_none());
        assert_eq!(nested(".spec.replicas", json!(5)), json!({"spec": {"replicas": 5}}));
        assert!(scale["metadata"].get("managedFields").is_none(), "nobody owns the replicas");
    }

    #[test]
    fn the_scale_shows_the_owners_of_its_parents_replicas() {
        let spec = ScaleSubresource::workload();
        let deployment = json!({
            "metadata": {"name": "web", "managedFields": [
                {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
                 "time": "2026-12-07T12:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}},
                {"manager": "other", "operation": "Update", "apiVersion": "apps/v1",
                 "time": "2026-12-07T12:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:paused": {}}}}]},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 3}
        });
        let scale = scale_of(&spec, &deployment);
        assert_eq!(
            scale["metadata"]["managedFields"],
            json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": "autoscaling/v1",
                    "time": "2026-12-07T12:00:00Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}])
        );
    }
}
