//! Namespaces: their Pod Security labels must be valid (422 as kube's), and a namespace whose
//! enforce level is tightened has its existing pods dry-run against the new level, each kind of
//! violation reported as a warning (kube's `ValidateNamespace`, `EvaluatePodsInNamespace`).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::PodSecurity;
use super::api::{
    AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL, ENFORCE_LEVEL_LABEL, ENFORCE_VERSION_LABEL, Level,
    LevelVersion, Policy, WARN_LEVEL_LABEL, WARN_VERSION_LABEL, labels_of, policy_to_evaluate,
};
use super::checks;
use crate::admission::{Action, Attributes};
use crate::meta::status::{ApiError, Cause};
use crate::meta::validation::FieldCause;

/// At most this many existing pods are dry-run, for at most this long (kube's limits).
const MAX_PODS_TO_CHECK: usize = 3000;
const POD_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

impl PodSecurity {
    pub(super) async fn validate_namespace(
        &self,
        attributes: &Attributes<'_>,
        namespace: &Value,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if !attributes.subresource.is_empty() {
            return Ok(());
        }
        let name = namespace.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let labels = labels_of(Some(namespace));
        let (policy, errors) = policy_to_evaluate(&labels, self.config.defaults);
        let old = attributes.old_object.filter(|_| attributes.action == Action::Update);
        let Some(old) = old else {
            if !errors.is_empty() {
                return Err(invalid(name, errors));
            }
            if self.exempt_namespace(name) {
                warnings.extend(self.exempt_warning(name, &policy, &labels));
            }
            return Ok(());
        };
        let (old_policy, old_errors) =
            policy_to_evaluate(&labels_of(Some(old)), self.config.defaults);
        if !errors.is_empty() && (old_errors.is_empty() || errors != old_errors) {
            return Err(invalid(name, errors));
        }
        let (new, before) = (policy.enforce, old_policy.enforce);
        if new == before
            || new.level == Level::Privileged
            || (new.version == before.version && new.level <= before.level)
        {
            return Ok(());
        }
        if self.exempt_namespace(name) {
            warnings.extend(self.exempt_warning(name, &policy, &labels));
            return Ok(());
        }
        warnings.extend(self.evaluate_pods(name, new).await);
        Ok(())
    }

    /// kube's warning for an exempt namespace given a policy it will never get.
    fn exempt_warning(
        &self,
        name: &str,
        policy: &Policy,
        labels: &BTreeMap<String, String>,
    ) -> Option<String> {
        if policy.fully_privileged() || policy.equivalent(&self.config.defaults) {
            return None;
        }
        let modes = [
            ("enforce", policy.enforce, ENFORCE_LEVEL_LABEL, ENFORCE_VERSION_LABEL),
            ("audit", policy.audit, AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL),
            ("warn", policy.warn, WARN_LEVEL_LABEL, WARN_VERSION_LABEL),
        ];
        let set: Vec<String> = modes
            .iter()
            .filter(|(_, lv, level, version)| {
                lv.level != Level::Privileged
                    && (labels.contains_key(*level) || labels.contains_key(*version))
            })
            .map(|(mode, lv, _, _)| format!("{mode}={lv}"))
            .collect();
        Some(format!(
            "namespace {name:?} is exempt from Pod Security, and the policy ({}) will be ignored",
            set.join(", ")
        ))
    }

    /// The namespace's pods against `enforce`: one warning per distinct set of reasons, naming
    /// the first pod (by name) and how many others share it.
    async fn evaluate_pods(&self, namespace: &str, enforce: LevelVersion) -> Vec<String> {
        let started = Instant::now();
        let pods = match self.objects.list("", "pods", namespace).await {
            Ok(pods) => pods,
            Err(_) => {
                return vec![
                    "failed to list pods while checking new PodSecurity enforce level".into(),
                ];
            }
        };
        let pods = self.prioritize(&pods);
        let total = pods.len();
        let mut checked = total.min(MAX_PODS_TO_CHECK);
        // Reasons in the order first seen, with the lexically first pod and the count.
        let mut found: Vec<(String, String, usize)> = Vec::new();
        for (i, pod) in pods.iter().take(MAX_PODS_TO_CHECK).enumerate() {
            let metadata = pod.get("metadata").unwrap_or(&Value::Null);
            let spec = pod.get("spec").unwrap_or(&Value::Null);
            let violations = checks::evaluate(enforce, metadata, spec);
            if !violations.is_empty() {
                let reason = checks::forbidden_reason(&violations);
                let pod_name = metadata.get("name").and_then(Value::as_str).unwrap_or_default();
                match found.iter_mut().find(|(r, _, _)| *r == reason) {
                    Some((_, first, count)) => {
                        if pod_name < first.as_str() {
                            *first = pod_name.to_owned();
                        }
                        *count += 1;
                    }
                    None => found.push((reason, pod_name.to_owned(), 1)),
                }
            }
            if started.elapsed() > POD_CHECK_TIMEOUT {
                checked = i + 1;
                break;
            }
        }
        let mut warnings = Vec::new();
        if checked < total {
            warnings.push(format!(
                "new PodSecurity enforce level only checked against the first {checked} of {total} existing pods"
            ));
        }
        if !found.is_empty() {
            warnings.push(format!(
                "existing pods in namespace {namespace:?} violate the new PodSecurity enforce level \"{enforce}\""
            ));
        }
        let mut per_pod: Vec<String> = found
            .into_iter()
            .map(|(reason, first, count)| match count {
                1 => format!("{first}: {reason}"),
                2 => format!("{first} (and 1 other pod): {reason}"),
                n => format!("{first} (and {} other pods): {reason}", n - 1),
            })
            .collect();
        per_pod.sort();
        warnings.extend(per_pod);
        warnings
    }

    /// Pods of exempt runtime classes left out; one pod per controller first, its replicas
    /// after every other pod (they most likely share its verdict).
    fn prioritize<'a>(&self, pods: &'a [Value]) -> Vec<&'a Value> {
        let mut first = Vec::new();
        let mut replicas = Vec::new();
        let mut controllers = HashSet::new();
        for pod in pods {
            if self.exempt_runtime_class(pod.get("spec").unwrap_or(&Value::Null)) {
                continue;
            }
            let owners = pod.pointer("/metadata/ownerReferences").and_then(Value::as_array);
            let controller = owners
                .into_iter()
                .flatten()
                .find(|o| o.get("controller") == Some(&Value::Bool(true)))
                .and_then(|o| o.get("uid").and_then(Value::as_str));
            match controller {
                Some(uid) if !controllers.insert(uid) => replicas.push(pod),
                _ => first.push(pod),
            }
        }
        first.extend(replicas);
        first
    }
}

/// kube's 422 for bad labels: `Namespace "x" is invalid: metadata.labels[…]: Invalid value: …`.
fn invalid(name: &str, errors: Vec<FieldCause>) -> ApiError {
    let causes = errors
        .into_iter()
        .map(|c| Cause { reason: c.reason.as_str().to_owned(), message: c.message, field: c.field })
        .collect();
    ApiError::invalid("", "Namespace", name, causes)
}
