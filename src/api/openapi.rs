//! OpenAPI v3 documents, generated from the registry: `/openapi/v3` (the index of group-version
//! documents) and `/openapi/v3/{api/v1 | apis/{group}/{version}}`.
//!
//! For now each document describes every served path and its operations with their query
//! parameters and the `x-kubernetes-group-version-kind` of each operation; object schemas are open
//! (`x-kubernetes-preserve-unknown-fields`). That is what kubectl needs to see that the server
//! validates fields itself (`fieldValidation` on PATCH), so `kubectl apply`/`create -f` work with
//! their default validation. Full per-kind schemas arrive with the OpenAPI issue.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::registry::{Registry, Resource};

/// The `/openapi/v3` index: one entry per served group/version.
pub fn index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (path, resources) in by_group_version(registry) {
        let hash = hash_of(&document(&path, &resources));
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// The document of one group/version path (`api/v1`, `apis/apps/v1`), if served.
pub fn group_version_document(registry: &Registry, path: &str) -> Option<Value> {
    let groups = by_group_version(registry);
    let resources = groups.get(path.trim_matches('/'))?;
    Some(document(path.trim_matches('/'), resources))
}

fn by_group_version(registry: &Registry) -> BTreeMap<String, Vec<std::sync::Arc<Resource>>> {
    let mut groups: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for resource in registry.all() {
        let path = if resource.gv.group.is_empty() {
            format!("api/{}", resource.gv.version)
        } else {
            format!("apis/{}/{}", resource.gv.group, resource.gv.version)
        };
        groups.entry(path).or_default().push(resource);
    }
    groups
}

/// A schema name in kube's style: `io.k8s.api.core.v1.ConfigMap`-like, unique per GVK.
fn schema_name(resource: &Resource) -> String {
    let group = if resource.gv.group.is_empty() { "core" } else { &resource.gv.group };
    format!("ledger.{group}.{}.{}", resource.gv.version, resource.kind)
}

fn gvk(resource: &Resource) -> Value {
    json!({"group": resource.gv.group, "version": resource.gv.version, "kind": resource.kind})
}

fn query_param(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}})
}

fn document(path: &str, resources: &[std::sync::Arc<Resource>]) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for resource in resources {
        let name = schema_name(resource);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let body =
            json!({"content": {"application/json": {"schema": reference}}, "required": true});
        let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}});
        let write_params = |extra: &[&str]| -> Vec<Value> {
            let mut params = vec![
                query_param("dryRun", "string"),
                query_param("fieldManager", "string"),
                query_param("fieldValidation", "string"),
            ];
            params.extend(extra.iter().map(|p| query_param(p, "boolean")));
            params
        };
        let operation = |verb: &str, params: Vec<Value>, with_body: bool| {
            let mut op = json!({
                "operationId": format!("{verb}{}", resource.kind),
                "parameters": params,
                "responses": ok,
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk(resource),
            });
            if with_body {
                op["requestBody"] = body.clone();
            }
            op
        };
        let base = match resource.namespaced {
            true => format!("/{path}/namespaces/{{namespace}}/{}", resource.plural),
            false => format!("/{path}/{}", resource.plural),
        };
        paths.insert(
            base.clone(),
            json!({
                "get": operation("list", vec![query_param("labelSelector", "string"), query_param("fieldSelector", "string"), query_param("limit", "integer"), query_param("continue", "string"), query_param("resourceVersion", "string"), query_param("watch", "boolean")], false),
                "post": operation("post", write_params(&[]), true),
                "delete": operation("deletecollection", vec![query_param("labelSelector", "string"), query_param("dryRun", "string")], false),
            }),
        );
        let object = json!({
            "get": operation("get", vec![query_param("resourceVersion", "string")], false),
            "put": operation("put", write_params(&[]), true),
            "patch": operation("patch", write_params(&["force"]), true),
            "delete": operation("delete", vec![query_param("dryRun", "string"), query_param("gracePeriodSeconds", "integer"), query_param("propagationPolicy", "string")], false),
        });
        paths.insert(format!("{base}/{{name}}"), object);
        if resource.status_subresource {
            paths.insert(
                format!("{base}/{{name}}/status"),
                json!({
                    "get": operation("get", vec![], false),
                    "put": operation("put", write_params(&[]), true),
                    "patch": operation("patch", write_params(&["force"]), true),
                }),
            );
        }
        schemas.insert(
            name,
            json!({
                "type": "object",
                "description": format!("{} ({}): fields are validated by the server.", resource.kind, resource.gv),
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                },
                "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": [gvk(resource)],
            }),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("v{}.{}.0", crate::server::KUBERNETES_VERSION.0, crate::server::KUBERNETES_VERSION.1)},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// A short, stable content hash for the index's cache-busting `hash` parameter.
fn hash_of(document: &Value) -> String {
    // FNV-1a over the serialized document: stable across runs, unlike std's RandomState.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in document.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016X}")
}

/// `GET /openapi/v3`.
pub async fn serve_index(
    axum::extract::State(state): axum::extract::State<super::ApiState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::Json(index(&state.registry)).into_response()
}

/// `GET /openapi/v3/{api/v1 | apis/group/version}`.
pub async fn serve_document(
    axum::extract::State(state): axum::extract::State<super::ApiState>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match group_version_document(&state.registry, &path) {
        Some(document) => axum::Json(document).into_response(),
        None => super::status::ApiError::no_such_path().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_finds_field_validation_on_patch_for_each_kind() {
        let registry = Registry::new();
        crate::registry::builtin::register_all(&registry);
        let index = index(&registry);
        let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        let doc = group_version_document(&registry, "apis/apps/v1").unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        let params: Vec<&str> = patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(params.contains(&"fieldValidation"), "{params:?}");
        let core = group_version_document(&registry, "api/v1").unwrap();
        assert!(core["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
        assert!(group_version_document(&registry, "apis/nope/v1").is_none());
    }
}
