//! Dynamic admission: the `MutatingAdmissionWebhook` and `ValidatingAdmissionWebhook` plugins,
//! which call the webhooks of the stored `admissionregistration.k8s.io/v1`
//! Mutating/ValidatingWebhookConfigurations over HTTPS with an AdmissionReview, as
//! k8s.io/apiserver's webhook plugins do.
//!
//! # Layout
//! - `config`: the stored configurations read from their views, parsed once per revision, each
//!   webhook with its HTTPS client trusting only its `caBundle`.
//! - `matching`: rules (operations, groups, versions, resources and subresources, scope,
//!   `matchPolicy`), `namespaceSelector`, `objectSelector`.
//! - `review`: the AdmissionReview request, one HTTPS round trip bounded by `timeoutSeconds`,
//!   the answer checked.
//! - `annotations`: the audit annotations of each call, in kube's keys and JSON values.
//! - `conditions`: `matchConditions`, in the admission policies' CEL environment.
//! - here: the two plugins, failure policy, dry run, patches, reinvocation, denials, metrics.
//!
//! # Data flow
//! ```text
//! store ─▶ Chain::admit ─▶ MutatingAdmissionWebhook: each matching webhook in turn (by
//!          configuration name, then as listed): review ─▶ JSON patch applied ─▶ next; then, once,
//!          the `reinvocationPolicy: IfNeeded` webhooks that ran before a later change
//!       ─▶ Chain::validate ─▶ ValidatingAdmissionWebhook: every matching webhook at once; the
//!          first refusal (in configuration order) refuses the write
//! ```
//!
//! # Behaviour, as kube-apiserver's
//! - A denial is the webhook's `status` with the message `admission webhook "<name>" denied the
//!   request: <message>` and its code (400 when it gave none below 400).
//! - A webhook that cannot be called (down, TLS failure, no answer within `timeoutSeconds`, an
//!   HTTP error, an answer that is not a valid AdmissionReview) follows its `failurePolicy`:
//!   `Fail` refuses the write with a 500 `failed calling webhook "<name>": …`, `Ignore` admits it
//!   (logged and counted in `apiserver_admission_webhook_fail_open_count`). No call waits past
//!   its timeout.
//! - A dry run (`dryRun=All`) calls only webhooks with `sideEffects` `None` or `NoneOnDryRun`;
//!   another matching webhook refuses it with 400 `admission webhook "<name>" does not support
//!   dry run` (the v1 API stores no other `sideEffects`, so this guards stored data only).
//! - Warnings in an answer reach the client as `Warning` headers.
//! - Audit annotations (`annotations`): the webhook's own `auditAnnotations` as
//!   `{webhook name}/{key}`, and kube's `mutation.webhook.admission.k8s.io/…`,
//!   `patch.webhook.admission.k8s.io/…` and `failed-open.…` records of each call.
//! - `matchConditions` (CEL, the admission policies' environment without params) are checked
//!   after the rules and selectors: any false skips the webhook; an error follows the failure
//!   policy (`Ignore`: skipped; `Fail`: 403 `<resource> "<name>" is forbidden: <error>`).
//! - Writes to webhook configurations (and admission policies) are never sent to webhooks, so a
//!   webhook that is down can always be reconfigured.
//! - A patch that cannot be applied is a 500 whatever the failure policy.
//! - Metrics under kube's names: `apiserver_admission_webhook_admission_duration_seconds`,
//!   `apiserver_admission_webhook_request_total`, `apiserver_admission_webhook_rejection_count`,
//!   `apiserver_admission_webhook_fail_open_count`.
//!
//! # Where kube-ledger differs
//! Webhooks are reached by `clientConfig.url` only: this server has no cluster network, so
//! `service` references are refused when a configuration is written (see
//! [`crate::registry::builtin::webhookconfigurations::validation`]). Reinvocation covers the webhooks only: a change by an in-process
//! mutating plugin that runs after this one does not reinvoke webhooks. Objects are handed to a
//! webhook in the version its rule matched; the plugins convert between served versions of one
//! resource through the registry's conversions when a rule matched an equivalent version.

mod annotations;
mod conditions;
pub(crate) mod config;
pub(crate) mod matching;
pub mod metrics;
mod review;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use crate::admission::{Attributes, Plugin};
use crate::audit::Level;
use crate::authz::Authorizer;
use crate::meta::status::{ApiError, Cause, Reason};
use crate::registry::Registry;
use crate::registry::resource::{Resource, stamp};
use crate::registry::views::Views;
use annotations::Slot;
use config::{Hook, Source};
use matching::{Matched, NamespaceLabels};
use review::{Answer, CallError, Subject};

/// The two plugins, mutating first, reading their configurations from `views` (the server's
/// views) and the served resources from `registry`; `matchConditions` ask `authorizer` (the
/// server's chain) for their `authorizer` variable. The server puts the mutating plugin last
/// among its mutating plugins and the validating one last among its validating ones, as
/// kube-apiserver orders them.
pub fn plugins(
    registry: Arc<Registry>,
    views: Views,
    authorizer: Arc<dyn Authorizer>,
) -> Vec<Arc<dyn Plugin>> {
    let mutating = Dispatcher::new(registry.clone(), views.clone(), authorizer.clone(), true);
    let validating = Dispatcher::new(registry, views, authorizer, false);
    vec![
        Arc::new(MutatingAdmissionWebhook { dispatcher: mutating }),
        Arc::new(ValidatingAdmissionWebhook { dispatcher: validating }),
    ]
}

/// `MutatingAdmissionWebhook`: calls every matching mutating webhook in the admit phase and
/// applies its patch.
#[derive(Debug)]
pub struct MutatingAdmissionWebhook {
    dispatcher: Dispatcher,
}

/// `ValidatingAdmissionWebhook`: calls every matching validating webhook in the validate phase.
#[derive(Debug)]
pub struct ValidatingAdmissionWebhook {
    dispatcher: Dispatcher,
}

#[async_trait]
impl Plugin for MutatingAdmissionWebhook {
    fn name(&self) -> &'static str {
        "MutatingAdmissionWebhook"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        self.dispatcher.mutate(attributes, object, warnings).await
    }
}

#[async_trait]
impl Plugin for ValidatingAdmissionWebhook {
    fn name(&self) -> &'static str {
        "ValidatingAdmissionWebhook"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        self.dispatcher.validate(attributes, object, warnings).await
    }
}

/// What both plugins share: where the configurations and the served resources are.
#[derive(Debug)]
struct Dispatcher {
    registry: Arc<Registry>,
    views: Views,
    source: Source,
    /// What `matchConditions`' `authorizer` asks.
    authorizer: Arc<dyn Authorizer>,
    mutating: bool,
}

/// A webhook that matched a write, with the version it sees the object in and its place in the
/// dispatch (for its audit annotations).
struct Call<'h> {
    hook: &'h Hook,
    matched: Matched,
    slot: Slot,
}

impl Dispatcher {
    fn new(
        registry: Arc<Registry>,
        views: Views,
        authorizer: Arc<dyn Authorizer>,
        mutating: bool,
    ) -> Dispatcher {
        let plural = if mutating {
            "mutatingwebhookconfigurations"
        } else {
            "validatingwebhookconfigurations"
        };
        let source = Source::new(views.clone(), registry.clone(), plural);
        Dispatcher { registry, views, source, authorizer, mutating }
    }

    /// The metrics' `type` label.
    fn step(&self) -> &'static str {
        if self.mutating { "admit" } else { "validating" }
    }

    /// Whether `hook` is called for this write (with `object` as it is now: a mutating
    /// webhook's selectors see what earlier webhooks changed), and through which version.
    /// `namespace` keeps the labels of the write's namespace once read.
    async fn should_call(
        &self,
        hook: &Hook,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        namespace: &mut Option<Value>,
    ) -> Result<Option<Matched>, ApiError> {
        let Some(matched) = matching::match_rules(hook, attributes, &self.registry) else {
            return Ok(None);
        };
        if !matching::object_selector_matches(hook, object, attributes.old_object) {
            return Ok(None);
        }
        if !hook.namespace_selector.is_everything() {
            let labels = match matching::namespace_labels(attributes, object) {
                NamespaceLabels::Exempt => None,
                NamespaceLabels::Object(object) => Some(object.clone()),
                NamespaceLabels::Stored(name) => match namespace {
                    Some(found) => Some(found.clone()),
                    None => Some(namespace.insert(self.namespace(name).await?).clone()),
                },
            };
            if let Some(labelled) = labels
                && !hook.namespace_selector.matches_object(&labelled)
            {
                return Ok(None);
            }
        }
        if !self.conditions_match(hook, &matched, attributes, object).await? {
            return Ok(None);
        }
        Ok(Some(matched))
    }

    /// The stored namespace `name` (its labels are what selectors see). The view may not have
    /// seen a namespace created a moment ago: it is asked to catch up with the log once before
    /// the namespace is declared missing (404, as kube).
    async fn namespace(&self, name: &str) -> Result<Value, ApiError> {
        let Some(resource) = self.registry.get("", "v1", "namespaces") else {
            return Ok(Value::Null);
        };
        let view = self.views.of(&resource);
        let key = resource.key(None, name);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        for attempt in 0..2 {
            if attempt == 1 || view.revision().is_none() {
                view.catch_up(deadline).await.map_err(|e| not_ready(&e.to_string()))?;
            }
            if let Some(found) = view.get(&key).map_err(|e| not_ready(&e.to_string()))? {
                return Ok(found.json.clone());
            }
        }
        Err(ApiError::not_found("", "namespaces", name))
    }

    /// The webhooks that may see this write: none for the admission configurations themselves
    /// (kube's `IsExemptAdmissionConfigurationResource`), so a webhook that is down can always
    /// be reconfigured or removed.
    async fn hooks(&self, attributes: &Attributes<'_>) -> Result<Arc<Vec<Arc<Hook>>>, ApiError> {
        if is_exempt(attributes) {
            return Ok(Arc::default());
        }
        self.source.hooks().await.map_err(|detail| {
            tracing::warn!(%detail, "webhook configurations not loaded");
            ApiError::forbidden(
                attributes.group,
                attributes.resource,
                attributes.name,
                "not yet ready to handle request",
            )
        })
    }

    async fn mutate(
        &self,
        attributes: &Attributes<'_>,
        mut object: Option<&mut Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let hooks = self.hooks(attributes).await?;
        if hooks.is_empty() {
            return Ok(());
        }
        // Reinvocation (kube's `webhookReinvokeContext`): the IfNeeded webhooks called so far
        // are reinvoked, once, when a later webhook changes the object.
        let mut namespace = None;
        let mut invoked = BTreeSet::new();
        let mut reinvoke = BTreeSet::new();
        for (index, hook) in hooks.iter().enumerate() {
            let now = object.as_deref();
            let Some(matched) = self.should_call(hook, attributes, now, &mut namespace).await?
            else {
                continue;
            };
            let call = Call { hook, matched, slot: Slot { round: 0, index } };
            if self.mutate_once(&call, attributes, object.as_deref_mut(), warnings).await? {
                reinvoke.append(&mut invoked);
            }
            if hook.reinvoke {
                invoked.insert(index);
            }
        }
        for index in reinvoke {
            let hook = &hooks[index];
            let now = object.as_deref();
            let Some(matched) = self.should_call(hook, attributes, now, &mut namespace).await?
            else {
                continue;
            };
            let call = Call { hook, matched, slot: Slot { round: 1, index } };
            self.mutate_once(&call, attributes, object.as_deref_mut(), warnings).await?;
        }
        Ok(())
    }

    /// One mutating webhook: whether it changed the object. Whatever the outcome, the audit
    /// event is told the webhook was called and whether it mutated the object.
    async fn mutate_once(
        &self,
        call: &Call<'_>,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        warnings: &mut Vec<String>,
    ) -> Result<bool, ApiError> {
        let result = self.mutate_call(call, attributes, object, warnings).await;
        let mutated = matches!(result, Ok(true));
        attributes.annotate(
            call.slot.key(annotations::MUTATION_PREFIX),
            annotations::mutation(call.hook, mutated),
        );
        result
    }

    async fn mutate_call(
        &self,
        call: &Call<'_>,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        warnings: &mut Vec<String>,
    ) -> Result<bool, ApiError> {
        dry_run_supported(call.hook, attributes)?;
        let target = self.target(call, attributes);
        let sent = match (&object, &target) {
            (Some(object), Some(target)) => Some(self.in_version(object, target).await?),
            (Some(object), None) => Some((*object).clone()),
            (None, _) => None,
        };
        let old = match (attributes.old_object, &target) {
            (Some(old), Some(target)) => Some(self.in_version(old, target).await?),
            (old, _) => old.cloned(),
        };
        let subject = Subject {
            matched: target.as_deref(),
            attributes,
            object: sent.as_ref(),
            old_object: old.as_ref(),
        };
        let Some(answer) = self.call(call, &subject, warnings).await? else {
            return Ok(false);
        };
        let Some(patch) = answer.patch.filter(|p| p.as_array().is_none_or(|ops| !ops.is_empty()))
        else {
            return Ok(false);
        };
        let (Some(object), Some(sent)) = (object, sent) else {
            return Err(internal(&format!(
                "admission webhook {:?} attempted to modify the object, which is not supported \
                 for this operation",
                call.hook.name
            )));
        };
        let patched = crate::patch::apply_json_patch(&sent, &patch).map_err(|e| {
            internal(&format!(
                "admission webhook {:?} returned a patch that cannot be applied: {e}",
                call.hook.name
            ))
        })?;
        attributes.annotate_at(
            call.slot.key(annotations::PATCH_PREFIX),
            annotations::patch(call.hook, &patch),
            Level::Request,
        );
        if patched == sent {
            return Ok(false);
        }
        // Back to the version the object came in.
        let original = self.resource_of(object, attributes);
        let patched = match original {
            Some(original) => self.in_version(&patched, &original).await?,
            None => patched,
        };
        *object = patched;
        Ok(true)
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let hooks = self.hooks(attributes).await?;
        if hooks.is_empty() {
            return Ok(());
        }
        let mut namespace = None;
        let mut calls = Vec::new();
        for hook in hooks.iter() {
            if let Some(matched) =
                self.should_call(hook, attributes, object, &mut namespace).await?
            {
                // kube numbers validating webhooks among those that matched.
                let slot = Slot { round: 0, index: calls.len() };
                calls.push(Call { hook, matched, slot });
            }
        }
        // Every webhook at once, as kube-apiserver calls validating webhooks in parallel; the
        // first refusal in configuration order is the answer.
        let results = futures::future::join_all(calls.iter().map(|call| async move {
            let mut own = Vec::new();
            let result = self.validate_once(call, attributes, object, &mut own).await;
            (result, own)
        }))
        .await;
        let mut refusal = None;
        for (result, own) in results {
            warnings.extend(own);
            if let Err(err) = result {
                refusal.get_or_insert(err);
            }
        }
        refusal.map_or(Ok(()), Err)
    }

    async fn validate_once(
        &self,
        call: &Call<'_>,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        dry_run_supported(call.hook, attributes)?;
        let target = self.target(call, attributes);
        let (sent, old) = match &target {
            Some(target) => {
                let sent = match object {
                    Some(o) => Some(self.in_version(o, target).await?),
                    None => None,
                };
                let old = match attributes.old_object {
                    Some(o) => Some(self.in_version(o, target).await?),
                    None => None,
                };
                (sent, old)
            }
            None => (object.cloned(), attributes.old_object.cloned()),
        };
        let subject = Subject {
            matched: target.as_deref(),
            attributes,
            object: sent.as_ref(),
            old_object: old.as_ref(),
        };
        self.call(call, &subject, warnings).await.map(|_| ())
    }

    /// Calls one webhook: its answer when it admits, `None` when it failed open, the refusal
    /// otherwise. Warnings are passed on and the webhook's audit annotations recorded in every
    /// case it answered; failing open is recorded too.
    async fn call(
        &self,
        call: &Call<'_>,
        subject: &Subject<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Answer>, ApiError> {
        let hook = call.hook;
        let uid = uuid::Uuid::new_v4().to_string();
        let review = review::review(hook, subject, &uid);
        let operation = subject.attributes.action.as_str();
        let started = Instant::now();
        let outcome = review::call(hook, &review, self.mutating).await;
        let elapsed = started.elapsed();
        match outcome {
            Ok(answer) => {
                for (key, value) in &answer.audit_annotations {
                    subject.attributes.annotate(format!("{}/{key}", hook.name), value.clone());
                }
                warnings.extend(answer.warnings.iter().cloned());
                let rejected = !answer.allowed;
                metrics::observe(
                    &hook.name,
                    self.step(),
                    operation,
                    rejected,
                    answer.code,
                    elapsed,
                );
                if answer.allowed {
                    return Ok(Some(answer));
                }
                let denial = denied(&hook.name, answer.status.as_ref());
                metrics::rejected(
                    &hook.name,
                    self.step(),
                    operation,
                    "no_error",
                    denial.reason.code(),
                );
                Err(denial)
            }
            Err(CallError(detail)) => {
                metrics::observe(&hook.name, self.step(), operation, true, 0, elapsed);
                let message = format!("failed calling webhook {:?}: {detail}", hook.name);
                if hook.ignore_failures {
                    tracing::warn!(webhook = %hook.name, configuration = %hook.configuration,
                        %message, "failed calling webhook, failing open");
                    metrics::failed_open(&hook.name, self.step());
                    let prefix = if self.mutating {
                        annotations::MUTATION_FAILED_OPEN_PREFIX
                    } else {
                        annotations::VALIDATING_FAILED_OPEN_PREFIX
                    };
                    subject.attributes.annotate(call.slot.key(prefix), hook.name.clone());
                    return Ok(None);
                }
                tracing::warn!(webhook = %hook.name, configuration = %hook.configuration,
                    %message, "failed calling webhook, failing closed");
                metrics::rejected(&hook.name, self.step(), operation, "calling_webhook_error", 500);
                Err(internal(&message))
            }
        }
    }

    /// The served version a webhook sees the objects in: the equivalent its rule matched, else
    /// the requested resource (when it is served).
    fn target(&self, call: &Call<'_>, attributes: &Attributes<'_>) -> Option<Arc<Resource>> {
        self.target_of(&call.matched, attributes)
    }

    fn target_of(&self, matched: &Matched, attributes: &Attributes<'_>) -> Option<Arc<Resource>> {
        match matched {
            Matched::Equivalent(resource) => Some(resource.clone()),
            Matched::AsRequested => {
                self.registry.get(attributes.group, attributes.version, attributes.resource)
            }
        }
    }

    /// The served resource an object's `apiVersion` names among the versions of the requested
    /// resource; the requested one when it names none.
    fn resource_of(&self, object: &Value, attributes: &Attributes<'_>) -> Option<Arc<Resource>> {
        let requested =
            self.registry.get(attributes.group, attributes.version, attributes.resource)?;
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api_version.is_empty() || api_version == requested.gv.api_version() {
            return Some(requested);
        }
        self.registry
            .all()
            .into_iter()
            .find(|r| {
                r.storage_prefix == requested.storage_prefix && r.gv.api_version() == api_version
            })
            .or(Some(requested))
    }

    /// `object` in `target`'s version (see [`in_version`]).
    async fn in_version(&self, object: &Value, target: &Resource) -> Result<Value, ApiError> {
        in_version(&self.registry, object, target).await
    }
}

/// `object` in `target`'s version, converted through the storage version when it is in
/// another served version of the same resource. An object without `apiVersion` is taken to
/// be in `target`'s version already. Shared with the admission policies, which see objects
/// in the version their rule matched too.
pub(crate) async fn in_version(
    registry: &Registry,
    object: &Value,
    target: &Resource,
) -> Result<Value, ApiError> {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let wanted = target.gv.api_version();
    if api_version.is_empty() || api_version == wanted {
        return Ok(object.clone());
    }
    let source = registry
        .all()
        .into_iter()
        .find(|r| r.storage_prefix == target.storage_prefix && r.gv.api_version() == api_version);
    let Some(source) = source else { return Ok(object.clone()) };
    let stored = source.conversion.to_storage_version(object.clone()).await?;
    let served = target.conversion.to_served_version(stored).await?;
    Ok(stamp(served, &wanted, &target.kind))
}

/// A dry run reaches only webhooks without side effects (`None`, `NoneOnDryRun`); another is a
/// 400 for the write, as kube's `NewDryRunUnsupportedErr`.
fn dry_run_supported(hook: &Hook, attributes: &Attributes<'_>) -> Result<(), ApiError> {
    if attributes.dry_run && !hook.dry_run_safe {
        return Err(ApiError::bad_request(format!(
            "admission webhook {:?} does not support dry run",
            hook.name
        )));
    }
    Ok(())
}

/// Writes to the admission configurations are never sent to webhooks.
pub(crate) fn is_exempt(attributes: &Attributes<'_>) -> bool {
    const EXEMPT: [&str; 6] = [
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
    ];
    attributes.group == "admissionregistration.k8s.io" && EXEMPT.contains(&attributes.resource)
}

/// `ToStatusErr`: a webhook's denial as the client sees it.
fn denied(name: &str, status: Option<&Value>) -> ApiError {
    let empty = Value::Null;
    let status = status.unwrap_or(&empty);
    let text = |key: &str| status.get(key).and_then(Value::as_str).unwrap_or("");
    let code = status.get("code").and_then(Value::as_u64).unwrap_or(0);
    let code = if code < 400 { 400 } else { code };
    let denied_by = format!("admission webhook {name:?} denied the request");
    let message = match (text("message"), text("reason")) {
        (message, _) if !message.is_empty() => format!("{denied_by}: {message}"),
        (_, reason) if !reason.is_empty() => format!("{denied_by}: {reason}"),
        _ => format!("{denied_by} without explanation"),
    };
    let mut error = ApiError::new(reason_for(code, text("reason")), message);
    let causes = status.pointer("/details/causes").and_then(Value::as_array);
    error.causes = causes
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|c| Cause {
            reason: c.get("reason").and_then(Value::as_str).unwrap_or("").to_owned(),
            message: c.get("message").and_then(Value::as_str).unwrap_or("").to_owned(),
            field: c.get("field").and_then(Value::as_str).unwrap_or("").to_owned(),
        })
        .collect();
    error
}

/// The reason a denial is sent with: the webhook's own when it is a known reason with this code,
/// else the reason of the code (this server's Status always carries a reason matching its code).
fn reason_for(code: u64, reason: &str) -> Reason {
    const REASONS: [Reason; 17] = [
        Reason::BadRequest,
        Reason::Unauthorized,
        Reason::Forbidden,
        Reason::NotFound,
        Reason::MethodNotAllowed,
        Reason::NotAcceptable,
        Reason::AlreadyExists,
        Reason::Conflict,
        Reason::Gone,
        Reason::Expired,
        Reason::RequestEntityTooLarge,
        Reason::UnsupportedMediaType,
        Reason::Invalid,
        Reason::TooManyRequests,
        Reason::InternalError,
        Reason::ServiceUnavailable,
        Reason::Timeout,
    ];
    let by_code = |code: u64| REASONS.into_iter().find(|r| u64::from(r.code()) == code);
    REASONS
        .into_iter()
        .find(|r| r.as_str() == reason && u64::from(r.code()) == code)
        .or_else(|| by_code(code))
        .unwrap_or(if code >= 500 { Reason::InternalError } else { Reason::BadRequest })
}

/// kube's `NewInternalError`: `Internal error occurred: <detail>`, the detail as its one cause.
fn internal(detail: &str) -> ApiError {
    let mut error = ApiError::internal(format!("Internal error occurred: {detail}"));
    error.causes =
        vec![Cause { reason: String::new(), message: detail.to_owned(), field: String::new() }];
    error
}

/// The configurations or a namespace could not be read from their views.
fn not_ready(detail: &str) -> ApiError {
    internal(&format!("webhook admission is not ready: {detail}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn denials_read_as_kube_writes_them() {
        let err = denied("deny.example.com", Some(&json!({"code": 403, "message": "no"})));
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(err.message, "admission webhook \"deny.example.com\" denied the request: no");
        let err = denied("d.example.com", None);
        assert_eq!(err.reason, Reason::BadRequest);
        assert_eq!(
            err.message,
            "admission webhook \"d.example.com\" denied the request without explanation"
        );
        let err = denied("d.example.com", Some(&json!({"code": 200, "reason": "Because"})));
        assert_eq!(err.reason.code(), 400);
        assert!(err.message.ends_with(": Because"));
        let err = denied(
            "d.example.com",
            Some(&json!({"code": 422, "message": "bad",
            "details": {"causes": [{"field": "spec.x", "message": "x", "reason": "FieldValueInvalid"}]}})),
        );
        assert_eq!(err.reason, Reason::Invalid);
        assert_eq!(err.causes[0].field, "spec.x");
        assert_eq!(reason_for(409, "AlreadyExists"), Reason::AlreadyExists);
        assert_eq!(reason_for(418, ""), Reason::BadRequest);
    }
}
