//! TokenRequest (`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`, `kubectl create
//! token`): a bound, expiring ServiceAccount JWT, as kube's `TokenREST` issues it.
//!
//! The ServiceAccount must exist (404 otherwise). `spec.audiences` defaults to the API
//! audiences, `spec.expirationSeconds` to 3600 and must be at least 600 (422); it is shortened
//! to `--service-account-max-token-expiration` with a warning. `spec.boundObjectRef` names a
//! Pod (running as this ServiceAccount) or Secret of the namespace that must exist; the token
//! dies with it. Nothing is stored; the answer carries the token and its expiry.

use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{AUTHENTICATION, CreateRequest, Creater, Reviewers, VERSION};
use crate::authn::serviceaccount::{
    BoundKind, DEFAULT_EXPIRATION_SECONDS, ObjectRef, TokenRequest, validate_expiration,
};
use crate::meta::status::{ApiError, Cause};
use crate::meta::validation::FieldCause;
use crate::registry::object;
use crate::registry::store::Store;

const KIND: &str = "TokenRequest";

#[derive(Debug, Clone, Copy)]
pub(super) struct TokenRequests;

fn invalid(name: &str, cause: FieldCause) -> ApiError {
    let cause = Cause {
        reason: cause.reason.as_str().to_owned(),
        message: cause.message,
        field: cause.field,
    };
    ApiError::invalid(AUTHENTICATION, KIND, name, vec![cause])
}

fn decode_error(path: &str, go_type: &str, value: &Value, want: &str) -> ApiError {
    let got = match value {
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        _ => "object",
    };
    ApiError::bad_request(format!(
        "{KIND} in version \"v1\" cannot be handled as a {KIND}: json: cannot unmarshal {got} \
         into Go struct field {go_type}.{path} of type {want}"
    ))
}

/// A string field of an object (`""` when missing or null).
fn text<'a>(
    object: &'a Value,
    field: &str,
    path: &str,
    go_type: &str,
) -> Result<&'a str, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(decode_error(path, go_type, other, "string")),
    }
}

/// Reads `kind`/`name` of the namespace's core `plural` object, or kube's 404.
async fn get(store: &Store, plural: &str, namespace: &str, name: &str) -> Result<Value, ApiError> {
    let resource = store
        .registry
        .get("", "v1", plural)
        .ok_or_else(|| ApiError::not_found("", plural, name))?;
    let namespace = (!namespace.is_empty()).then_some(namespace);
    store.get(&resource, namespace, name, None).await
}

/// The object a `boundObjectRef` names and checks it as kube does: its kind, its existence, its
/// ServiceAccount (a pod) and its uid.
async fn bound_object(
    store: &Store,
    namespace: &str,
    service_account: &str,
    reference: &Value,
) -> Result<(BoundKind, ObjectRef), ApiError> {
    const GO: &str = "BoundObjectReference";
    let kind = text(reference, "kind", "spec.boundObjectRef.kind", GO)?;
    let api_version = text(reference, "apiVersion", "spec.boundObjectRef.apiVersion", GO)?;
    let name = text(reference, "name", "spec.boundObjectRef.name", GO)?;
    let uid = text(reference, "uid", "spec.boundObjectRef.uid", GO)?;
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    let (bound, found) = match (group, kind) {
        ("", "Pod") => {
            let pod = get(store, "pods", namespace, name).await?;
            let runs_as = pod.pointer("/spec/serviceAccountName").and_then(Value::as_str);
            if runs_as.unwrap_or_default() != service_account {
                return Err(ApiError::bad_request(format!(
                    "cannot bind token for serviceaccount {service_account:?} to pod running \
                     with different serviceaccount name."
                )));
            }
            (BoundKind::Pod, pod)
        }
        ("", "Secret") => (BoundKind::Secret, get(store, "secrets", namespace, name).await?),
        ("", "Node") => (BoundKind::Node, get(store, "nodes", "", name).await?),
        _ => {
            return Err(ApiError::bad_request(format!(
                "cannot bind token to object of type {group}/{version}, Kind={kind}"
            )));
        }
    };
    let found_uid = object::uid(&found).unwrap_or_default();
    if !uid.is_empty() && uid != found_uid {
        return Err(ApiError::conflict(
            "",
            kind,
            name,
            &format!(
                "the UID in the bound object reference ({uid}) does not match the UID in record. \
                 The object might have been deleted and then recreated"
            ),
        ));
    }
    Ok((bound, ObjectRef { name: name.to_owned(), uid: found_uid.to_owned() }))
}

#[async_trait]
impl Creater for TokenRequests {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        (AUTHENTICATION, VERSION, KIND)
    }

    async fn create(
        &self,
        reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let namespace = request.namespace.clone().unwrap_or_default();
        let name = request.name.clone().unwrap_or_default();
        let body = &request.body;
        let meta = body.get("metadata").cloned().unwrap_or_default();
        let given_name = text(&meta, "name", "metadata.name", "ObjectMeta")?;
        if !given_name.is_empty() && given_name != name {
            let cause = FieldCause::invalid(
                "metadata.name",
                given_name,
                "must match the service account name if specified",
            );
            return Err(invalid(&name, cause));
        }
        let given_namespace = text(&meta, "namespace", "metadata.namespace", "ObjectMeta")?;
        if !given_namespace.is_empty() && given_namespace != namespace {
            let cause = FieldCause::invalid(
                "metadata.namespace",
                given_namespace,
                "must match the service account namespace if specified",
            );
            return Err(invalid(&name, cause));
        }

        let account = get(request.store, "serviceaccounts", &namespace, &name).await?;
        let account_uid = object::uid(&account).unwrap_or_default().to_owned();

        let spec = body.get("spec").filter(|s| !s.is_null()).cloned().unwrap_or(json!({}));
        if !spec.is_object() {
            return Err(decode_error("spec", KIND, &spec, "v1.TokenRequestSpec"));
        }
        let mut audiences: Vec<String> = match spec.get("audiences") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|a| {
                    a.as_str().map(str::to_owned).ok_or_else(|| {
                        decode_error("spec.audiences", "TokenRequestSpec", a, "string")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(decode_error("spec.audiences", "TokenRequestSpec", other, "[]string"));
            }
        };
        if audiences.is_empty() {
            audiences.clone_from(&reviewers.authentication.api_audiences);
        }
        let mut expiration = match spec.get("expirationSeconds") {
            None | Some(Value::Null) => DEFAULT_EXPIRATION_SECONDS,
            Some(value) => value.as_i64().ok_or_else(|| {
                decode_error("spec.expirationSeconds", "TokenRequestSpec", value, "int64")
            })?,
        };
        if let Err(detail) = validate_expiration(expiration) {
            return Err(invalid(
                "",
                FieldCause::invalid("spec.expirationSeconds", expiration, &detail),
            ));
        }
        let reference = spec.get("boundObjectRef").filter(|r| !r.is_null());
        let bound = match reference {
            Some(reference) if reference.is_object() => {
                Some(bound_object(request.store, &namespace, &name, reference).await?)
            }
            Some(other) => {
                return Err(decode_error(
                    "spec.boundObjectRef",
                    "TokenRequestSpec",
                    other,
                    "v1.BoundObjectReference",
                ));
            }
            None => None,
        };
        let issuer = &reviewers.authentication.issuer;
        if let Some(max) = issuer.max_expiration().filter(|max| expiration > *max) {
            request.warnings.push(format!(
                "requested expiration of {expiration} seconds shortened to {max} seconds"
            ));
            expiration = max;
        }

        let now = crate::pki::unix_now();
        let issued = issuer
            .issue(
                &TokenRequest {
                    namespace: namespace.clone(),
                    service_account: ObjectRef { name: name.clone(), uid: account_uid.clone() },
                    audiences: audiences.clone(),
                    expiration_seconds: expiration,
                    bound,
                },
                now,
            )
            .map_err(|e| ApiError::internal(format!("failed to generate token: {e}")))?;

        let at = |seconds: i64| {
            let seconds = u64::try_from(seconds).unwrap_or_default();
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
        };
        let mut metadata = Map::new();
        metadata.insert("name".into(), name.into());
        metadata.insert("namespace".into(), namespace.into());
        let uid = match text(&meta, "uid", "metadata.uid", "ObjectMeta")? {
            "" => account_uid,
            given => given.to_owned(),
        };
        metadata.insert("uid".into(), uid.into());
        metadata.insert("creationTimestamp".into(), at(now).into());
        let mut out_spec = Map::new();
        out_spec.insert("audiences".into(), audiences.into());
        out_spec.insert("expirationSeconds".into(), expiration.into());
        if let Some(reference) = reference {
            out_spec.insert("boundObjectRef".into(), reference.clone());
        }
        Ok(json!({
            "kind": KIND,
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": metadata,
            "spec": out_spec,
            "status": {"token": issued.token, "expirationTimestamp": at(now + expiration)},
        }))
    }
}
