//! PodSecurityConfiguration (`pod-security.admission.config.k8s.io/v1`, also `v1beta1` and
//! `v1alpha1`): the policy of namespaces without labels (`defaults`) and who and what is never
//! checked (`exemptions`), from the AdmissionConfiguration's `PodSecurity` entry. Validated as
//! kube validates it; an invalid configuration stops the server's start.

use serde_json::Value;

use super::api::{LEVEL_ERROR, Level, LevelVersion, Policy, VERSION_ERROR, Version};
use crate::meta::validation::{self, FieldCause};

const API_VERSIONS: [&str; 3] = [
    "pod-security.admission.config.k8s.io/v1",
    "pod-security.admission.config.k8s.io/v1beta1",
    "pod-security.admission.config.k8s.io/v1alpha1",
];

/// The plugin's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodSecurityConfig {
    /// The policy of every mode a namespace's labels do not set.
    pub defaults: Policy,
    /// Requests by these users are not checked (`exempt: user` in the audit event).
    pub exempt_usernames: Vec<String>,
    /// Pods in these namespaces are not checked.
    pub exempt_namespaces: Vec<String>,
    /// Pods with these `runtimeClassName`s are not checked.
    pub exempt_runtime_classes: Vec<String>,
}

impl PodSecurityConfig {
    /// Decodes and validates the plugin's entry of the AdmissionConfiguration.
    pub fn from_value(value: &Value) -> Result<PodSecurityConfig, String> {
        let api_version = value.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind != "PodSecurityConfiguration" || !API_VERSIONS.contains(&api_version) {
            return Err(format!(
                "expected PodSecurityConfiguration of pod-security.admission.config.k8s.io/v1, got {api_version}, Kind={kind}"
            ));
        }
        let mut errors = Vec::new();
        let defaults = value.get("defaults").unwrap_or(&Value::Null);
        let mut mode = |key: &str| {
            let level_text = defaults.get(key).and_then(Value::as_str).unwrap_or("privileged");
            let version_key = format!("{key}-version");
            let version_text =
                defaults.get(&version_key).and_then(Value::as_str).unwrap_or("latest");
            let level = Level::parse(level_text).unwrap_or_else(|level| {
                errors.push(FieldCause::invalid(
                    format!("defaults.{key}"),
                    level_text,
                    LEVEL_ERROR,
                ));
                level
            });
            let version = Version::parse(version_text).unwrap_or_else(|latest| {
                let field = format!("defaults.{version_key}");
                errors.push(FieldCause::invalid(field, version_text, VERSION_ERROR));
                latest
            });
            LevelVersion { level, version }
        };
        let (enforce, warn, audit) = (mode("enforce"), mode("warn"), mode("audit"));
        let exemptions = value.get("exemptions").unwrap_or(&Value::Null);
        let list = |key: &str| -> Vec<String> {
            let items = exemptions.get(key).and_then(Value::as_array);
            items.into_iter().flatten().map(|i| i.as_str().unwrap_or_default().to_owned()).collect()
        };
        let config = PodSecurityConfig {
            defaults: Policy { enforce, audit, warn },
            exempt_usernames: list("usernames"),
            exempt_namespaces: list("namespaces"),
            exempt_runtime_classes: list("runtimeClasses"),
        };
        check_names(&mut errors, "namespaces", &config.exempt_namespaces, |n| {
            validation::validate_namespace_name(n, false)
        });
        check_names(&mut errors, "runtimeClasses", &config.exempt_runtime_classes, |n| {
            validation::name_is_dns_subdomain(n, false)
        });
        check_names(&mut errors, "usernames", &config.exempt_usernames, |_| Vec::new());
        if errors.is_empty() { Ok(config) } else { Err(super::api::aggregate(&errors)) }
    }
}

/// Each name valid (by `problems`), none empty or repeated.
fn check_names(
    errors: &mut Vec<FieldCause>,
    list: &str,
    names: &[String],
    problems: impl Fn(&str) -> Vec<String>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        let field = format!("exemptions.{list}[{i}]");
        if name.is_empty() {
            errors.push(FieldCause::required(field, ""));
            continue;
        }
        let found = problems(name);
        if !found.is_empty() {
            errors.push(FieldCause::invalid(field, name.as_str(), &found.join(", ")));
        } else if !seen.insert(name) {
            errors.push(FieldCause::duplicate(field, name.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_are_privileged_latest_and_labels_override_them() {
        let config = PodSecurityConfig::from_value(&json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "baseline", "warn": "restricted", "warn-version": "v1.30"},
            "exemptions": {"usernames": ["ci"], "namespaces": ["kube-system"],
                "runtimeClasses": ["kata"]},
        }))
        .unwrap();
        assert_eq!(config.defaults.enforce.to_string(), "baseline:latest");
        assert_eq!(config.defaults.warn.to_string(), "restricted:v1.30");
        assert_eq!(config.defaults.audit.to_string(), "privileged:latest");
        assert_eq!(config.exempt_usernames, ["ci"]);
        assert_eq!(config.exempt_namespaces, ["kube-system"]);
        assert_eq!(config.exempt_runtime_classes, ["kata"]);
    }

    #[test]
    fn invalid_configurations_are_refused_with_kube_s_field_errors() {
        let err = PodSecurityConfig::from_value(&json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "strict", "audit-version": "1.30"},
            "exemptions": {"namespaces": ["Bad_NS", "a", "a"], "usernames": [""]},
        }))
        .unwrap_err();
        assert!(err.contains(r#"defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#), "{err}");
        assert!(err.contains(r#"defaults.audit-version: Invalid value: "1.30""#), "{err}");
        assert!(err.contains(r#"exemptions.namespaces[0]: Invalid value: "Bad_NS""#), "{err}");
        assert!(err.contains(r#"exemptions.namespaces[2]: Duplicate value: "a""#), "{err}");
        assert!(err.contains("exemptions.usernames[0]: Required value"), "{err}");
        let wrong = PodSecurityConfig::from_value(&json!({"apiVersion": "v1", "kind": "X"}));
        assert!(wrong.unwrap_err().contains("PodSecurityConfiguration"));
    }
}
