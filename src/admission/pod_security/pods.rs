//! Pods and pod templates: which requests are checked, against which policy, and what each mode
//! does with the violations (kube's `ValidatePod`, `ValidatePodController`, `EvaluatePod`).

use serde_json::Value;

use super::PodSecurity;
use super::api::{
    AUDIT_VIOLATIONS_ANNOTATION, ENFORCE_POLICY_ANNOTATION, ERROR_ANNOTATION, EXEMPT_ANNOTATION,
    Level, Policy, aggregate, labels_of, policy_to_evaluate,
};
use super::checks::{self, Violation};
use crate::admission::{Action, Attributes};
use crate::meta::status::ApiError;
use crate::meta::validation::FieldCause;

/// Pod subresources that cannot change what the checks look at (kube's list); any other
/// (`ephemeralcontainers`, the pod itself) is checked.
const IGNORED_SUBRESOURCES: [&str; 8] =
    ["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"];

static EMPTY: Value = Value::Null;

impl PodSecurity {
    /// A pod's create or update (or its ephemeral containers'): every mode applies.
    pub(super) async fn validate_pod(
        &self,
        attributes: &Attributes<'_>,
        pod: &Value,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if IGNORED_SUBRESOURCES.contains(&attributes.subresource) {
            return Ok(());
        }
        if self.exempted(attributes) {
            return Ok(());
        }
        let namespace = attributes.namespace;
        let labels = match self.objects.get("", "namespaces", "", namespace).await {
            Ok(Some(ns)) => labels_of(Some(&ns)),
            Ok(None) | Err(_) => {
                let why = format!("failed to lookup namespace {namespace:?}");
                attributes.annotate(ERROR_ANNOTATION, why.clone());
                return Err(ApiError::internal(format!("Internal error occurred: {why}")));
            }
        };
        let (policy, errors) = policy_to_evaluate(&labels, self.config.defaults);
        if errors.is_empty() && policy.fully_privileged() {
            return Ok(());
        }
        if attributes.action == Action::Update
            && attributes.old_object.is_some_and(|old| !significant_update(pod, old))
        {
            return Ok(());
        }
        let metadata = pod.get("metadata").unwrap_or(&EMPTY);
        let spec = pod.get("spec").unwrap_or(&EMPTY);
        self.evaluate(attributes, policy, &errors, metadata, spec, true, warnings)
    }

    /// A workload's pod template: audit and warn only, never a refusal.
    pub(super) async fn validate_template(
        &self,
        attributes: &Attributes<'_>,
        object: &Value,
        pointer: &str,
        warnings: &mut Vec<String>,
    ) {
        if !attributes.subresource.is_empty() || self.exempted(attributes) {
            return;
        }
        let namespace = attributes.namespace;
        let labels = match self.objects.get("", "namespaces", "", namespace).await {
            Ok(Some(ns)) => labels_of(Some(&ns)),
            Ok(None) => {
                let why = format!(
                    "failed to lookup namespace {namespace:?}: namespaces {namespace:?} not found"
                );
                attributes.annotate(ERROR_ANNOTATION, why);
                return;
            }
            Err(err) => {
                let why = format!("failed to lookup namespace {namespace:?}: {}", err.message);
                attributes.annotate(ERROR_ANNOTATION, why);
                return;
            }
        };
        let (policy, errors) = policy_to_evaluate(&labels, self.config.defaults);
        let quiet =
            policy.warn.level == Level::Privileged && policy.audit.level == Level::Privileged;
        if errors.is_empty() && quiet {
            return;
        }
        let Some(template) = object.pointer(pointer).filter(|t| !t.is_null()) else { return };
        let metadata = template.get("metadata").unwrap_or(&EMPTY);
        let spec = template.get("spec").unwrap_or(&EMPTY);
        // Without enforcement nothing is refused.
        let _ = self.evaluate(attributes, policy, &errors, metadata, spec, false, warnings);
    }

    /// Namespace and user exemptions, recorded in the audit event as kube does.
    fn exempted(&self, attributes: &Attributes<'_>) -> bool {
        let why = if self.exempt_namespace(attributes.namespace) {
            "namespace"
        } else if self.exempt_user(&attributes.user.name) {
            "user"
        } else {
            return false;
        };
        attributes.annotate(EXEMPT_ANNOTATION, why);
        true
    }

    /// kube's `EvaluatePod`: enforce (if `enforce`), then audit, then warn — the last only for a
    /// request that is not refused, each level evaluated once.
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        attributes: &Attributes<'_>,
        policy: Policy,
        label_errors: &[FieldCause],
        metadata: &Value,
        spec: &Value,
        enforce: bool,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if self.exempt_runtime_class(spec) {
            attributes.annotate(EXEMPT_ANNOTATION, "runtimeClass");
            return Ok(());
        }
        if !label_errors.is_empty() {
            let why = format!("Failed to parse policy: {}", aggregate(label_errors));
            attributes.annotate(ERROR_ANNOTATION, why);
        }
        let mut cache: Vec<(super::api::LevelVersion, Vec<Violation>)> = Vec::new();
        let mut run = |lv| -> Vec<Violation> {
            if let Some((_, found)) = cache.iter().find(|(seen, _)| *seen == lv) {
                return found.clone();
            }
            let found = checks::evaluate(lv, metadata, spec);
            cache.push((lv, found.clone()));
            found
        };
        let mut refusal = None;
        if enforce {
            attributes.annotate(ENFORCE_POLICY_ANNOTATION, policy.enforce.to_string());
            let found = run(policy.enforce);
            if !found.is_empty() {
                let why = format!(
                    "violates PodSecurity \"{}\": {}",
                    policy.enforce,
                    checks::forbidden_detail(&found)
                );
                refusal = Some(forbidden(attributes, &why));
            }
        }
        let found = run(policy.audit);
        if !found.is_empty() {
            let text = would_violate(policy.audit, &found);
            attributes.annotate(AUDIT_VIOLATIONS_ANNOTATION, text);
        }
        match refusal {
            Some(error) => Err(error),
            None => {
                let found = run(policy.warn);
                if !found.is_empty() {
                    warnings.push(would_violate(policy.warn, &found));
                }
                Ok(())
            }
        }
    }
}

fn would_violate(lv: super::api::LevelVersion, found: &[Violation]) -> String {
    format!("would violate PodSecurity \"{lv}\": {}", checks::forbidden_detail(found))
}

/// kube's `NewForbidden` for the pod: `pods "p" is forbidden: …` (`pods is forbidden: …`
/// before the pod has a name).
fn forbidden(attributes: &Attributes<'_>, why: &str) -> ApiError {
    let mut error = ApiError::forbidden("", "pods", attributes.name, why);
    if attributes.name.is_empty() {
        error.message = format!("pods is forbidden: {why}");
    }
    error
}

/// kube's `isSignificantPodUpdate`: only a new image, a changed seccomp container annotation,
/// or added containers can change the verdict of a pod update (the rest of the pod spec is
/// immutable).
pub(super) fn significant_update(pod: &Value, old: &Value) -> bool {
    let list = |pod: &Value, field: &str| -> Vec<Value> {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let annotation = |pod: &Value, container: &Value| -> Option<Value> {
        let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        let key = format!("container.seccomp.security.alpha.kubernetes.io/{name}");
        pod.pointer("/metadata/annotations").and_then(|a| a.get(&key)).cloned()
    };
    let changed = |new_c: &Value, old_c: &Value| {
        new_c.get("image") != old_c.get("image") || annotation(pod, new_c) != annotation(old, new_c)
    };
    for field in ["containers", "initContainers"] {
        let (new, before) = (list(pod, field), list(old, field));
        if new.len() != before.len() || new.iter().zip(&before).any(|(n, o)| changed(n, o)) {
            return true;
        }
    }
    let before = list(old, "ephemeralContainers");
    list(pod, "ephemeralContainers").iter().any(|c| {
        match before.iter().find(|o| o.get("name") == c.get("name")) {
            None => true,
            Some(o) => changed(c, o),
        }
    })
}
