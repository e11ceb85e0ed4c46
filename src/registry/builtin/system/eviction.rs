//! `POST pods/{name}/eviction` (a `policy/v1` Eviction), as kube's `EvictionREST`: the pod is
//! deleted unless a PodDisruptionBudget forbids it. Budgets are read generically from the store
//! (`policy/v1` `poddisruptionbudgets`, when served): the one whose selector matches the pod's
//! labels must allow a disruption (`status.disruptionsAllowed` > 0), which the eviction takes
//! (decremented, the pod recorded in `status.disruptedPods`, written through `/status`) before
//! the delete; at 0 the answer is kube's 429. A pod that is pending, finished or already being
//! deleted is deleted without asking any budget; a pod matched by more than one budget is
//! kube's 500. The answer is a `Status` of `Success` (201).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::binding::success;
use crate::meta::labels::LabelSelector;
use crate::meta::status::{ApiError, Cause, Reason};
use crate::registry::object;
use crate::registry::reviews::{CreateRequest, Creater, Reviewers};
use crate::registry::store::{DeleteOptions, ListParams, Operation, Store};
use crate::storage::Verb;

#[derive(Debug, Clone, Copy)]
pub struct Evictions;

/// kube's `createTooManyRequestsError`.
fn too_many_requests(cause: String) -> ApiError {
    let mut error = ApiError::new(
        Reason::TooManyRequests,
        "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    error.retry_after_seconds = Some(0);
    error.causes =
        vec![Cause { reason: "DisruptionBudget".into(), message: cause, field: String::new() }];
    error
}

/// The budgets of the pod's namespace whose selector matches it (an empty selector matches
/// nothing, as in kube's eviction).
async fn budgets_of(store: &Store, pod: &Value) -> Result<Vec<Value>, ApiError> {
    let Some(pdbs) = store.registry.get("policy", "v1", "poddisruptionbudgets") else {
        return Ok(Vec::new());
    };
    let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str);
    let list = store.list(&pdbs, namespace, &ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .filter(|pdb| {
            let Some(selector) = pdb.pointer("/spec/selector").filter(|s| !s.is_null()) else {
                return false;
            };
            match LabelSelector::from_structured(selector) {
                Ok(selector) => !selector.is_everything() && selector.matches_object(pod),
                Err(_) => false,
            }
        })
        .collect())
}

/// kube's `checkAndDecrement`: the budget allows one more disruption, which is recorded.
async fn take_disruption(store: &Store, pdb: &Value, pod_name: &str) -> Result<(), ApiError> {
    let name = object::name(pdb).unwrap_or_default().to_owned();
    let status = pdb.get("status").cloned().unwrap_or(json!({}));
    let observed = status.get("observedGeneration").and_then(Value::as_i64).unwrap_or(0);
    let generation = pdb.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
    if observed < generation {
        return Err(too_many_requests(format!(
            "The disruption budget {name} is still being processed by the server."
        )));
    }
    let allowed = status.get("disruptionsAllowed").and_then(Value::as_i64).unwrap_or(0);
    if allowed < 0 {
        return Err(ApiError::forbidden(
            "policy",
            "poddisruptionbudgets",
            &name,
            "pdb disruptions allowed is negative",
        ));
    }
    if allowed == 0 {
        let desired = status.get("desiredHealthy").and_then(Value::as_i64).unwrap_or(0);
        let current = status.get("currentHealthy").and_then(Value::as_i64).unwrap_or(0);
        return Err(too_many_requests(format!(
            "The disruption budget {name} needs {desired} healthy pods and has {current} currently"
        )));
    }
    let mut updated = pdb.clone();
    if let Some(status) = updated.get_mut("status").and_then(Value::as_object_mut) {
        status.insert("disruptionsAllowed".into(), (allowed - 1).into());
        let disrupted = status.entry("disruptedPods").or_insert_with(|| json!({}));
        if let Some(map) = disrupted.as_object_mut() {
            map.insert(pod_name.to_owned(), object::now_rfc3339().into());
        }
    }
    let pdbs = store
        .registry
        .get("policy", "v1", "poddisruptionbudgets")
        .ok_or_else(ApiError::no_such_path)?;
    let namespace = pdb.pointer("/metadata/namespace").and_then(Value::as_str);
    let op = Operation::internal("system:apiserver", Verb::Update, &pdbs)
        .in_namespace(namespace)
        .named(&name)
        .with_subresource("status");
    store.update(&pdbs, &op, updated).await?;
    Ok(())
}

#[async_trait]
impl Creater for Evictions {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        ("policy", "v1", "Eviction")
    }

    async fn create(
        &self,
        _reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let name = request.name.clone().unwrap_or_default();
        let body_name = object::name(&request.body).unwrap_or_default();
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(
                "name in URL does not match name in Eviction object",
            ));
        }
        let store = request.store;
        let pods = store.registry.get("", "v1", "pods").ok_or_else(ApiError::no_such_path)?;
        let namespace = request.namespace.as_deref();
        let pod = store.get(&pods, namespace, &name, None).await?;
        let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
        let deleting = pod.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null());
        let ignores_budgets = matches!(phase, "Succeeded" | "Failed" | "Pending") || deleting;
        if !ignores_budgets {
            let budgets = budgets_of(store, &pod).await?;
            match budgets.as_slice() {
                [] => {}
                [one] => take_disruption(store, one, &name).await?,
                _ => {
                    return Err(ApiError::internal(
                        "This pod has more than one PodDisruptionBudget, which the eviction \
                         subresource does not support.",
                    ));
                }
            }
        }
        let options = request.body.get("deleteOptions").cloned().unwrap_or(Value::Null);
        let preconditions = DeleteOptions {
            uid: options.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_owned),
            resource_version: options
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            grace_period_seconds: options.get("gracePeriodSeconds").and_then(Value::as_i64),
            ..DeleteOptions::default()
        };
        let mut op = Operation::new(request.user.clone(), Verb::Delete, &pods)
            .in_namespace(namespace)
            .named(&name);
        op.audit_id = object::new_uid();
        store.delete(&pods, &op, &preconditions).await?;
        Ok(success())
    }
}
