//! The `ValidatingAdmissionPolicy` admission plugin: CEL policies
//! (`admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy) applied through their
//! ValidatingAdmissionPolicyBindings, as k8s.io/apiserver's `policy/validating` plugin does.
//!
//! # Layout
//! - `compile`: the policy environment; stored policies and bindings → compiled expressions.
//! - `cost`: kube's runtime cost limits and budgets, and the sizes costs are computed from.
//! - `typecheck`: the checks cel-go's checker makes that cel-rust does not (declarations at
//!   write time, fields of the matched kinds for `status.typeChecking`).
//! - `authorizer`: kube's CEL authorizer library (`authorizer.group(…).resource(…).check(…)`).
//! - `matching`: `matchConstraints` / `matchResources`.
//! - `source`: the policies and bindings from their views, compiled once per stored revision.
//! - `eval`: one policy run for one binding and param: activation, match conditions,
//!   variables, validations, audit annotations.
//! - here: the plugin — matching, params, failure policy, validation actions.
//!
//! # Data flow
//! ```text
//! store ─▶ Chain::validate ─▶ … ─▶ ValidatingAdmissionPolicy ─▶ ValidatingAdmissionWebhook
//!   for each policy (by name) whose matchConstraints match (else next):
//!     for each of its bindings (by name) whose matchResources match:
//!       params (paramRef: by name, or by selector; none → parameterNotFoundAction)
//!       for each param: eval ─▶ failures ─▶ validationActions: Deny (refuse) · Warn (Warning
//!       header) · Audit (audit annotation `validation.policy.admission.k8s.io/validation_failure`)
//!     audit annotations `<policy>/<key>`
//!   the first denial refuses the write
//! ```
//!
//! # Behaviour, as kube-apiserver's
//! - A denial is `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy '<policy>' with
//!   binding '<binding>' denied request: <message>`, with the validation's `reason` (default
//!   `Invalid`, 422) and the message as the one cause.
//! - A warning is `Validation failed for ValidatingAdmissionPolicy '<policy>' with binding
//!   '<binding>': <message>`.
//! - A configuration error (a missing param with `parameterNotFoundAction: Deny`, a param kind
//!   not served, a policy whose expressions no longer compile) refuses matching writes with
//!   `failed to configure binding: …` (`… policy: …`) under `failurePolicy: Fail` and is ignored
//!   under `Ignore`; so are expressions that fail to run.
//! - Writes to admission configurations themselves are never checked, so a broken policy can
//!   always be fixed. Dry runs are checked (policies have no side effects).
//!
//! - Runtime cost: kube's per-expression limit and budgets per evaluation (see `eval`); running
//!   out is one failure, `validation failed due to running out of cost budget, …`, which the
//!   failure policy decides.
//!
//! # Where kube-ledger differs
//! Variables are evaluated eagerly, in order, rather than lazily (their cost is charged as
//! kube's lazy evaluation would charge it); one that fails is reported by the expressions that
//! name it. A cost is computed from the sizes of the values an expression reads, before it
//! runs, rather than counted while it runs.

pub(crate) mod authorizer;
pub(crate) mod compile;
mod cost;
pub(crate) mod eval;
pub(crate) mod matching;
mod source;
pub(crate) mod typecheck;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::admission::webhook::matching::{Matched, NamespaceLabels, namespace_labels};
use crate::admission::webhook::{in_version, is_exempt};
use crate::admission::{Attributes, Plugin};
use crate::apiextensions::cel::library::wrap;
use crate::apiextensions::cel::value::to_cel;
use crate::authz::Authorizer;
use crate::meta::status::{ApiError, Cause, Reason};
use crate::registry::Registry;
use crate::registry::resource::{Resource, stamp};
use crate::registry::views::Views;
use authorizer::CelAuthorizer;
use compile::{Binding, Policy};
use eval::{Failure, Inputs};
use matching::MatchResources;
use source::Source;

/// The audit annotation of failures under the `Audit` action.
pub const VALIDATION_FAILURE_KEY: &str = "validation.policy.admission.k8s.io/validation_failure";

/// How long a read waits for a view that is still loading.
const READY_WAIT: Duration = Duration::from_secs(10);

/// The plugin, reading policies, bindings, params and namespaces from `views`, with the
/// server's authorizer for the `authorizer` variable.
#[derive(Debug)]
pub struct ValidatingAdmissionPolicy {
    registry: Arc<Registry>,
    views: Views,
    source: Source,
    authorizer: Arc<dyn Authorizer>,
}

/// The first denial of a write.
struct Denial {
    policy: String,
    binding: Option<String>,
    message: String,
    reason: Option<String>,
}

#[async_trait]
impl Plugin for ValidatingAdmissionPolicy {
    fn name(&self) -> &'static str {
        "ValidatingAdmissionPolicy"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if is_exempt(attributes) {
            return Ok(());
        }
        let hooks = self.source.hooks().await.map_err(|detail| {
            tracing::warn!(%detail, "admission policies not loaded");
            ApiError::forbidden(
                attributes.group,
                attributes.resource,
                attributes.name,
                "not yet ready to handle request",
            )
        })?;
        if hooks.is_empty() {
            return Ok(());
        }
        let mut run =
            Run { plugin: self, attributes, object, namespace: None, denials: Vec::new() };
        for hook in hooks.iter() {
            run.hook(&hook.policy, &hook.bindings, warnings).await?;
        }
        match run.denials.into_iter().next() {
            Some(denial) => Err(denial_error(attributes, denial)),
            None => Ok(()),
        }
    }
}

impl ValidatingAdmissionPolicy {
    pub fn new(
        registry: Arc<Registry>,
        views: Views,
        authorizer: Arc<dyn Authorizer>,
    ) -> ValidatingAdmissionPolicy {
        let source = Source::new(views.clone(), registry.clone());
        ValidatingAdmissionPolicy { registry, views, source, authorizer }
    }

    /// The served resource of a policy's `paramKind`.
    fn param_resource(&self, policy: &Policy) -> Result<Option<Arc<Resource>>, String> {
        let Some(kind) = &policy.param_kind else { return Ok(None) };
        let (group, version) = kind.group_version();
        self.registry
            .in_group_version(group, version)
            .into_iter()
            .find(|r| r.kind == kind.kind)
            .map(Some)
            .ok_or_else(|| {
                format!("paramKind kind `{}, Kind={}` not known", kind.api_version, kind.kind)
            })
    }

    /// The params of `binding` (kube's `CollectParams`): one `Null` without a `paramKind` or a
    /// `paramRef`; else the object named (or every object selected), in `paramRef.namespace`
    /// or the write's namespace for a namespaced kind. An empty result is an error under
    /// `parameterNotFoundAction: Deny`, and skips the binding under `Allow`.
    async fn params(
        &self,
        policy: &Policy,
        binding: &Binding,
        namespace: &str,
    ) -> Result<Vec<cel::Value>, String> {
        let (Some(resource), Some(param_ref)) = (self.param_resource(policy)?, &binding.param_ref)
        else {
            return Ok(vec![cel::Value::Null]);
        };
        let namespace = if resource.namespaced {
            if !param_ref.namespace.is_empty() {
                Some(param_ref.namespace.as_str())
            } else if namespace.is_empty() {
                return Err("cannot use namespaced paramRef in policy binding that matches \
                            cluster-scoped resources"
                    .into());
            } else {
                Some(namespace)
            }
        } else {
            if !param_ref.namespace.is_empty() {
                return Err(
                    "paramRef.namespace must not be provided for a cluster-scoped `paramKind`"
                        .into(),
                );
            }
            None
        };
        let view = self.views.of(&resource);
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        let mut found = Vec::new();
        // The view may not have seen a param written a moment ago: it catches up with the log
        // once before the param is declared missing.
        for attempt in 0..2 {
            if attempt == 1 || view.revision().is_none() {
                view.catch_up(deadline).await.map_err(|e| e.to_string())?;
            }
            found = match &param_ref.selector {
                None => {
                    let key = resource.key(namespace, &param_ref.name);
                    view.get(&key).map_err(|e| e.to_string())?.into_iter().collect()
                }
                Some(selector) => {
                    let filter = |o: &Value| selector.matches_object(o);
                    view.list(namespace, &filter).map_err(|e| e.to_string())?.0
                }
            };
            if !found.is_empty() {
                break;
            }
        }
        if found.is_empty() && param_ref.deny_not_found {
            return Err(
                "no params found for policy binding with `Deny` parameterNotFoundAction".into()
            );
        }
        let (api_version, kind) = (resource.gv.api_version(), resource.kind.clone());
        let mut params = Vec::with_capacity(found.len());
        for object in found {
            let served = resource.conversion.to_served_version(object.json.clone()).await;
            let served = served.unwrap_or_else(|_| object.json.clone());
            params.push(to_cel(None, &stamp(served, &api_version, &kind), false));
        }
        Ok(params)
    }

    /// The stored namespace `name`, read through its view (caught up once when missing).
    async fn namespace(&self, name: &str) -> Result<Option<Value>, ApiError> {
        let Some(resource) = self.registry.get("", "v1", "namespaces") else { return Ok(None) };
        let view = self.views.of(&resource);
        let key = resource.key(None, name);
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        for attempt in 0..2 {
            if attempt == 1 || view.revision().is_none() {
                view.catch_up(deadline).await.map_err(|e| not_ready(&e.to_string()))?;
            }
            if let Some(found) = view.get(&key).map_err(|e| not_ready(&e.to_string()))? {
                return Ok(Some(found.json.clone()));
            }
        }
        Ok(None)
    }

    /// `value` in `target`'s version, when both are there.
    async fn converted(
        &self,
        value: Option<&Value>,
        target: Option<&Resource>,
    ) -> Result<Option<Value>, ApiError> {
        match (value, target) {
            (Some(value), Some(target)) => {
                Ok(Some(in_version(&self.registry, value, target).await?))
            }
            (value, _) => Ok(value.cloned()),
        }
    }
}

/// The state of one write's pass over the policies.
struct Run<'p, 'a, 'o> {
    plugin: &'p ValidatingAdmissionPolicy,
    attributes: &'a Attributes<'a>,
    object: Option<&'o Value>,
    /// The write's namespace object, once read (`Some(None)`: there is none).
    namespace: Option<Option<Value>>,
    denials: Vec<Denial>,
}

impl Run<'_, '_, '_> {
    async fn hook(
        &mut self,
        policy: &Policy,
        bindings: &[Arc<Binding>],
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let plugin = self.plugin;
        let registry = &plugin.registry;
        let Some(matched) =
            policy.match_constraints.matches(self.attributes, self.object, registry, false)
        else {
            return Ok(());
        };
        if !self.namespace_matches(&policy.match_constraints).await? {
            return Ok(());
        }
        if let Some(error) = &policy.configuration_error {
            self.configuration_error(policy, None, &format!("failed to configure policy: {error}"));
            return Ok(());
        }
        let mut inputs: Option<Inputs> = None;
        let mut annotations: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for binding in bindings {
            if let Some(resources) = &binding.match_resources
                && (resources.matches(self.attributes, self.object, registry, true).is_none()
                    || !self.namespace_matches(resources).await?)
            {
                continue;
            }
            let params = match self.plugin.params(policy, binding, self.attributes.namespace).await
            {
                Ok(params) => params,
                Err(error) => {
                    let message = format!("failed to configure binding: {error}");
                    self.configuration_error(policy, Some(binding), &message);
                    continue;
                }
            };
            if params.is_empty() {
                continue;
            }
            if inputs.is_none() {
                inputs = Some(self.inputs(&matched).await?);
            }
            let inputs = inputs.as_ref().expect("set above");
            for param in &params {
                let evaluation = eval::evaluate(policy, inputs, param);
                for failure in &evaluation.failures {
                    self.act(policy, binding, failure, warnings);
                }
                for (key, value) in evaluation.annotations {
                    let values = annotations.entry(key).or_default();
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
            }
        }
        for (key, values) in annotations {
            self.attributes.annotate(format!("{}/{key}", policy.name), values.join(", "));
        }
        Ok(())
    }

    /// A failure through the binding's `validationActions`.
    fn act(
        &mut self,
        policy: &Policy,
        binding: &Binding,
        failure: &Failure,
        warnings: &mut Vec<String>,
    ) {
        for action in &binding.actions {
            match action.as_str() {
                "Deny" => self.denials.push(Denial {
                    policy: policy.name.clone(),
                    binding: Some(binding.name.clone()),
                    message: failure.message.clone(),
                    reason: failure.reason.clone(),
                }),
                "Warn" => warnings.push(format!(
                    "Validation failed for ValidatingAdmissionPolicy '{}' with binding '{}': {}",
                    policy.name, binding.name, failure.message
                )),
                "Audit" => {
                    let value = json!([{
                        "message": failure.message,
                        "policy": binding.policy_name,
                        "binding": binding.name,
                        "expressionIndex": failure.index,
                        "validationActions": binding.actions,
                    }]);
                    self.attributes.annotate(VALIDATION_FAILURE_KEY, value.to_string());
                }
                _ => {}
            }
        }
    }

    fn configuration_error(&mut self, policy: &Policy, binding: Option<&Binding>, message: &str) {
        if policy.fail {
            self.denials.push(Denial {
                policy: policy.name.clone(),
                binding: binding.map(|b| b.name.clone()),
                message: message.to_owned(),
                reason: None,
            });
        }
    }

    /// Whether `resources.namespaceSelector` matches the write's namespace.
    async fn namespace_matches(&mut self, resources: &MatchResources) -> Result<bool, ApiError> {
        if resources.namespace_selector.is_everything() {
            return Ok(true);
        }
        let labels = match namespace_labels(self.attributes, self.object) {
            NamespaceLabels::Exempt => return Ok(true),
            NamespaceLabels::Object(object) => Some(object.clone()),
            NamespaceLabels::Stored(name) => self.namespace_object(name).await?,
        };
        Ok(labels.is_some_and(|ns| resources.namespace_selector.matches_object(&ns)))
    }

    async fn namespace_object(&mut self, name: &str) -> Result<Option<Value>, ApiError> {
        if let Some(found) = &self.namespace {
            return Ok(found.clone());
        }
        let found = self.plugin.namespace(name).await?;
        self.namespace = Some(found.clone());
        Ok(found)
    }

    /// The activation's inputs, in the version the policy matched.
    async fn inputs(&mut self, matched: &Matched) -> Result<Inputs, ApiError> {
        let attributes = self.attributes;
        let plugin = self.plugin;
        let target = match matched {
            Matched::Equivalent(resource) => Some(resource.clone()),
            Matched::AsRequested => {
                plugin.registry.get(attributes.group, attributes.version, attributes.resource)
            }
        };
        let object = plugin.converted(self.object, target.as_deref()).await?;
        let old_object = plugin.converted(attributes.old_object, target.as_deref()).await?;
        // The namespace object, for namespaced writes (not for a namespace itself).
        let is_namespace = attributes.group.is_empty() && attributes.resource == "namespaces";
        let namespace = if attributes.namespace.is_empty() || is_namespace {
            None
        } else {
            self.namespace_object(attributes.namespace).await?
        };
        let request = request(attributes, target.as_deref());
        let (authorizer, request_resource) = authorizers(&plugin.authorizer, attributes);
        Ok(Inputs::new(
            object.as_ref(),
            old_object.as_ref(),
            &request,
            namespace.as_ref(),
            authorizer,
            request_resource,
        ))
    }
}

/// The `authorizer` and `authorizer.requestResource` variables of a write: checks as the
/// requesting user, the second of the write's own resource.
pub(crate) fn authorizers(
    authorizer: &Arc<dyn Authorizer>,
    attributes: &Attributes<'_>,
) -> (cel::Value, cel::Value) {
    let auth =
        CelAuthorizer { authorizer: authorizer.clone(), user: Arc::new(attributes.user.clone()) };
    let own = authorizer::request_resource(
        auth.clone(),
        attributes.group,
        attributes.resource,
        attributes.subresource,
        attributes.namespace,
        attributes.name,
    );
    (wrap(auth), own)
}

/// The `request` variable: an `admission.k8s.io/v1` AdmissionRequest of the write, with `kind`
/// and `resource` in the version the policy matched.
pub(crate) fn request(attributes: &Attributes<'_>, matched: Option<&Resource>) -> Value {
    let requested_kind = json!({"group": attributes.group, "version": attributes.version,
        "kind": attributes.kind});
    let requested_resource = json!({"group": attributes.group, "version": attributes.version,
        "resource": attributes.resource});
    let (kind, resource) = match matched {
        Some(r) => (
            json!({"group": r.gv.group, "version": r.gv.version, "kind": r.kind}),
            json!({"group": r.gv.group, "version": r.gv.version, "resource": r.plural}),
        ),
        None => (requested_kind.clone(), requested_resource.clone()),
    };
    let user = attributes.user;
    json!({
        "uid": "",
        "kind": kind,
        "resource": resource,
        "subResource": attributes.subresource,
        "requestKind": requested_kind,
        "requestResource": requested_resource,
        "requestSubResource": attributes.subresource,
        "name": attributes.name,
        "namespace": attributes.namespace,
        "operation": attributes.action.as_str(),
        "userInfo": {"username": user.name, "uid": user.uid, "groups": user.groups,
            "extra": user.extra},
        "dryRun": attributes.dry_run,
        "options": attributes.options.cloned().unwrap_or(Value::Null),
    })
}

/// kube's refusal: `NewForbidden`'s message with the denial's reason and code, the message as
/// the one cause.
fn denial_error(attributes: &Attributes<'_>, denial: Denial) -> ApiError {
    let message = match &denial.binding {
        Some(binding) => format!(
            "ValidatingAdmissionPolicy '{}' with binding '{binding}' denied request: {}",
            denial.policy, denial.message
        ),
        None => format!(
            "ValidatingAdmissionPolicy '{}' denied request: {}",
            denial.policy, denial.message
        ),
    };
    let mut error =
        ApiError::forbidden(attributes.group, attributes.resource, attributes.name, &message);
    error.reason = match denial.reason.as_deref() {
        Some("Forbidden") => Reason::Forbidden,
        Some("Unauthorized") => Reason::Unauthorized,
        Some("RequestEntityTooLarge") => Reason::RequestEntityTooLarge,
        _ => Reason::Invalid,
    };
    error.causes.push(Cause { reason: String::new(), message, field: String::new() });
    error
}

fn not_ready(detail: &str) -> ApiError {
    ApiError::internal(format!("validating admission policy is not ready: {detail}"))
}
