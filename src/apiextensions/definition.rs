//! A CustomResourceDefinition read into types: what the controller needs to serve its versions
//! (names, scope, versions with their schema, subresources and printer columns).
//!
//! Data flows one way: a stored CRD (`serde_json::Value`, already validated by
//! [`super::crd`]) → [`Definition::from_value`] → [`super::custom`] builds the served resources.
//! Fields this server does not use are ignored; missing ones take Go's zero values.

use serde::Deserialize;
use serde_json::Value;

/// Why a stored CRD could not be read (it passed validation, so only a CRD written by an older
/// server or edited in storage gets here).
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("the CustomResourceDefinition cannot be read: {0}")]
    Decode(#[from] serde_json::Error),
}

/// The parts of a CRD this server acts on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Definition {
    pub metadata: Metadata,
    pub spec: Spec,
    #[serde(default)]
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Metadata {
    pub name: String,
    pub deletion_timestamp: Option<String>,
    pub generation: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Spec {
    pub group: String,
    pub names: Names,
    pub scope: String,
    pub versions: Vec<Version>,
    pub conversion: Option<Conversion>,
}

/// `spec.names` (and `status.acceptedNames`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Names {
    pub plural: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub singular: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub list_kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Version {
    pub name: String,
    pub served: bool,
    pub storage: bool,
    pub deprecated: bool,
    pub deprecation_warning: Option<String>,
    pub schema: Option<VersionSchema>,
    pub subresources: Option<Subresources>,
    pub additional_printer_columns: Vec<PrinterColumn>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionSchema {
    #[serde(rename = "openAPIV3Schema")]
    pub open_api_v3_schema: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subresources {
    pub status: Option<Value>,
    pub scale: Option<Scale>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Scale {
    pub spec_replicas_path: String,
    pub status_replicas_path: String,
    pub label_selector_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PrinterColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
    pub json_path: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Conversion {
    pub strategy: String,
    pub webhook: Option<WebhookConversion>,
}

/// `spec.conversion.webhook`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookConversion {
    pub client_config: Option<WebhookClientConfig>,
    pub conversion_review_versions: Vec<String>,
}

/// `spec.conversion.webhook.clientConfig`: `url` (validation refuses `service` here).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookClientConfig {
    pub url: Option<String>,
    /// Base64 of PEM certificates, as in the JSON.
    pub ca_bundle: Option<String>,
    pub service: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Status {
    pub accepted_names: Names,
    pub stored_versions: Vec<String>,
    pub conditions: Vec<Value>,
}

impl Definition {
    pub fn from_value(crd: &Value) -> Result<Definition, DefinitionError> {
        Ok(Definition::deserialize(crd)?)
    }

    /// The version objects are stored in (validation guarantees exactly one).
    pub fn storage_version(&self) -> Option<&Version> {
        self.spec.versions.iter().find(|v| v.storage)
    }

    /// The conversion webhook, when the conversion strategy is `Webhook`. A caBundle that is not
    /// base64 becomes an empty one (every call then fails saying so).
    pub fn webhook(&self) -> Option<super::webhook::WebhookSpec> {
        let conversion = self.spec.conversion.as_ref()?;
        if conversion.strategy != "Webhook" {
            return None;
        }
        let config = conversion.webhook.as_ref()?.client_config.as_ref()?;
        use base64::Engine;
        let ca_bundle = config.ca_bundle.as_deref().unwrap_or("");
        Some(super::webhook::WebhookSpec {
            url: config.url.clone().unwrap_or_default(),
            ca_bundle: base64::engine::general_purpose::STANDARD
                .decode(ca_bundle)
                .unwrap_or_default(),
        })
    }

    pub fn namespaced(&self) -> bool {
        self.spec.scope == "Namespaced"
    }

    /// Whether a condition of this type is `True` in the status.
    pub fn condition_true(&self, kind: &str) -> bool {
        self.status.conditions.iter().any(|c| {
            c.get("type").and_then(Value::as_str) == Some(kind)
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    }

    /// apiextensions-apiserver's default deprecation warning of a version:
    /// `<group>/<version> <Kind> is deprecated; use <group>/<best served version> <Kind>`.
    pub fn deprecation_warning(&self, version: &Version) -> Option<String> {
        if !version.deprecated {
            return None;
        }
        if let Some(text) = &version.deprecation_warning {
            return Some(text.clone());
        }
        let (group, kind) = (&self.spec.group, &self.spec.names.kind);
        let message = format!("{group}/{} {kind} is deprecated", version.name);
        let mut alternatives: Vec<&str> = self
            .spec
            .versions
            .iter()
            .filter(|v| v.served && !v.deprecated)
            .map(|v| v.name.as_str())
            .collect();
        alternatives.sort_by_key(|v| std::cmp::Reverse(crate::registry::version_priority(v)));
        Some(match alternatives.first() {
            Some(best) => format!("{message}; use {group}/{best} {kind}"),
            None => message,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_crd_and_words_deprecations_as_kube() {
        let crd = json!({"metadata": {"name": "foos.example.com"}, "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "foos", "kind": "Foo"},
            "versions": [
                {"name": "v1alpha1", "served": true, "storage": false, "deprecated": true},
                {"name": "v1beta1", "served": true, "storage": false, "deprecated": true,
                 "deprecationWarning": "go away"},
                {"name": "v1", "served": true, "storage": true}]}});
        let def = Definition::from_value(&crd).unwrap();
        assert_eq!(def.storage_version().unwrap().name, "v1");
        assert!(def.namespaced());
        assert_eq!(
            def.deprecation_warning(&def.spec.versions[0]).unwrap(),
            "example.com/v1alpha1 Foo is deprecated; use example.com/v1 Foo"
        );
        assert_eq!(def.deprecation_warning(&def.spec.versions[1]).unwrap(), "go away");
        assert_eq!(def.deprecation_warning(&def.spec.versions[2]), None);
        assert!(Definition::from_value(&json!({"spec": 3})).is_err());
    }
}
