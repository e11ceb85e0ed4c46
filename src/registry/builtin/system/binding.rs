//! Binding a pod to a node, as kube's `BindingREST`: `POST pods/{name}/binding` and the older
//! `POST bindings` (the pod named by the body's `metadata.name`). The pod's `spec.nodeName` is
//! set once, with the Binding's annotations copied onto the pod; a pod already bound, or being
//! deleted, is a 409 in kube's words, and a Binding whose `metadata.uid` names another
//! incarnation of the pod a 409 too. The answer is a `Status` of `Success` (201).

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::meta::status::{ApiError, Cause};
use crate::meta::validation::FieldCause;
use crate::registry::object;
use crate::registry::reviews::{CreateRequest, Creater, Reviewers};
use crate::registry::store::Operation;
use crate::storage::Verb;

/// The subresource through which the store writes a binding (the pods strategy lets
/// `spec.nodeName` move only then).
pub const SUBRESOURCE: &str = "binding";

#[derive(Debug, Clone, Copy)]
pub struct Bindings;

/// The `Status` a successful binding or eviction answers with.
pub fn success() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

fn conflict(name: &str, detail: &str) -> ApiError {
    ApiError::conflict("", "pods/binding", name, detail)
}

/// kube's `ValidatePodBinding`.
fn validate(binding: &Value, name: &str) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    let kind = binding.pointer("/target/kind").and_then(Value::as_str).unwrap_or("");
    if !kind.is_empty() && kind != "Node" {
        causes.push(FieldCause::not_supported("target.kind", kind, &["Node", "<empty>"]));
    }
    let node = binding.pointer("/target/name").and_then(Value::as_str).unwrap_or("");
    if node.is_empty() {
        causes.push(FieldCause::required("target.name", ""));
    }
    if causes.is_empty() {
        return Ok(());
    }
    let causes = causes
        .into_iter()
        .map(|c| Cause { reason: c.reason.as_str().to_owned(), message: c.message, field: c.field })
        .collect();
    Err(ApiError::invalid("", "Binding", name, causes))
}

#[async_trait]
impl Creater for Bindings {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        ("", "v1", "Binding")
    }

    async fn create(
        &self,
        _reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let binding = &request.body;
        let body_name = object::name(binding).unwrap_or_default();
        // `pods/{name}/binding`: the path names the pod, and a body naming another is refused.
        let name = match &request.name {
            Some(path_name) => {
                if !body_name.is_empty() && body_name != path_name {
                    return Err(ApiError::bad_request(
                        "name in URL does not match name in Binding object",
                    ));
                }
                path_name.clone()
            }
            None => body_name.to_owned(),
        };
        if name.is_empty() {
            return Err(ApiError::bad_request("name is required"));
        }
        validate(binding, &name)?;
        let store = request.store;
        let pods = store.registry.get("", "v1", "pods").ok_or_else(ApiError::no_such_path)?;
        let namespace = request.namespace.as_deref();
        let pod = store.get(&pods, namespace, &name, None).await?;
        if let Some(uid) = binding.pointer("/metadata/uid").and_then(Value::as_str)
            && !uid.is_empty()
            && object::uid(&pod) != Some(uid)
        {
            return Err(conflict(
                &name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    object::uid(&pod).unwrap_or_default()
                ),
            ));
        }
        if pod.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
            return Err(conflict(
                &name,
                &format!("pod {name} is being deleted, cannot be assigned to a host"),
            ));
        }
        let current = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
        if !current.is_empty() {
            return Err(conflict(
                &name,
                &format!("pod {name} is already assigned to node {current:?}"),
            ));
        }
        let node = binding.pointer("/target/name").and_then(Value::as_str).unwrap_or_default();
        let mut bound = pod.clone();
        if let Some(spec) = bound.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("nodeName".into(), node.into());
        }
        if let Some(annotations) =
            binding.pointer("/metadata/annotations").and_then(Value::as_object)
        {
            let meta = object::metadata_mut(&mut bound);
            let target = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(target) = target.as_object_mut() {
                for (key, value) in annotations {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        let mut op = Operation::new(request.user.clone(), Verb::Update, &pods)
            .in_namespace(namespace)
            .named(&name)
            .with_subresource(SUBRESOURCE);
        op.audit_id = object::new_uid();
        store.update(&pods, &op, bound).await.map_err(|err| {
            // A write that lost the race to another binding reads as kube's conflict.
            if err.reason == crate::meta::status::Reason::Conflict {
                conflict(&name, "the object has been modified; please apply your changes to the latest version and try again")
            } else {
                err
            }
        })?;
        Ok(success())
    }
}
