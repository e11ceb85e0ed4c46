//! `--admission-control-config-file`: kube-apiserver's AdmissionConfiguration
//! (`apiserver.config.k8s.io/v1`), which gives admission plugins their configuration by name,
//! inline (`configuration`) or in a file of its own (`path`, relative to this file).
//!
//! ```yaml
//! apiVersion: apiserver.config.k8s.io/v1
//! kind: AdmissionConfiguration
//! plugins:
//! - name: PodSecurity
//!   configuration: {apiVersion: pod-security.admission.config.k8s.io/v1, kind: PodSecurityConfiguration, …}
//! ```
//!
//! Read once at start; each plugin decodes its own entry (a bad file stops the start, as in
//! kube-apiserver).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// The configurations of the plugins, by plugin name, as JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdmissionConfig {
    plugins: BTreeMap<String, Value>,
}

const API_VERSIONS: [&str; 3] =
    ["apiserver.config.k8s.io/v1", "apiserver.k8s.io/v1alpha1", "apiserver.config.k8s.io/v1alpha1"];

impl AdmissionConfig {
    /// Reads the file `--admission-control-config-file` names.
    pub fn load(path: &Path) -> Result<AdmissionConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            format!("unable to read admission control configuration from {path:?} [{err}]")
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        AdmissionConfig::parse(&text, base)
    }

    /// Parses an AdmissionConfiguration; `path:` entries are read relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<AdmissionConfig, String> {
        let document: Value = decode(text)?;
        let api_version = document.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = document.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind != "AdmissionConfiguration" || !API_VERSIONS.contains(&api_version) {
            return Err(format!(
                "unexpected admission configuration {api_version}, Kind={kind}: want apiserver.config.k8s.io/v1, Kind=AdmissionConfiguration"
            ));
        }
        let mut plugins = BTreeMap::new();
        let entries = document.get("plugins").and_then(Value::as_array);
        for entry in entries.into_iter().flatten() {
            let name = entry.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                return Err("plugins[].name is required".to_owned());
            }
            let configuration = match (entry.get("configuration"), entry.get("path")) {
                (Some(inline), _) if !inline.is_null() => inline.clone(),
                (_, Some(Value::String(file))) if !file.is_empty() => {
                    let file = base.join(file);
                    let text = std::fs::read_to_string(&file).map_err(|err| {
                        format!("couldn't open admission plugin configuration {file:?}: {err}")
                    })?;
                    decode(&text)?
                }
                _ => Value::Null,
            };
            plugins.insert(name.to_owned(), configuration);
        }
        Ok(AdmissionConfig { plugins })
    }

    /// The configuration given to `plugin`, if any.
    pub fn plugin(&self, plugin: &str) -> Option<&Value> {
        self.plugins.get(plugin).filter(|v| !v.is_null())
    }
}

/// YAML (JSON is YAML) into JSON.
fn decode(text: &str) -> Result<Value, String> {
    serde_norway::from_str::<Value>(text)
        .map_err(|err| format!("invalid admission configuration: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_file_configurations_are_read_by_plugin_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("psa.yaml"), "kind: PodSecurityConfiguration\n").unwrap();
        let config = AdmissionConfig::parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n\
             - name: EventRateLimit\n  configuration: {kind: X}\n- name: PodSecurity\n  path: psa.yaml\n",
            dir.path(),
        )
        .unwrap();
        assert_eq!(config.plugin("EventRateLimit").unwrap()["kind"], "X");
        assert_eq!(config.plugin("PodSecurity").unwrap()["kind"], "PodSecurityConfiguration");
        assert!(config.plugin("ResourceQuota").is_none());
    }

    #[test]
    fn other_documents_and_missing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = AdmissionConfig::parse("apiVersion: v1\nkind: ConfigMap\n", dir.path());
        assert!(err.unwrap_err().contains("Kind=AdmissionConfiguration"));
        let err = AdmissionConfig::parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: nope.yaml\n",
            dir.path(),
        );
        assert!(err.unwrap_err().contains("nope.yaml"));
        assert!(AdmissionConfig::load(&dir.path().join("absent.yaml")).is_err());
    }
}
