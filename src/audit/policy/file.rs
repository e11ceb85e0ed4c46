//! Reading `--audit-policy-file`: an `audit.k8s.io/v1` `Policy` in YAML or JSON, checked as
//! kube-apiserver checks it (k8s.io/apiserver `audit/policy/reader.go` and
//! `apis/audit/validation`), then compiled into a [`Policy`].
//!
//! Accepted: `apiVersion: audit.k8s.io/v1` and `kind: Policy` (the v1alpha1/v1beta1 versions
//! were removed from kube-apiserver in 1.24), at least one rule, each rule with a known level,
//! known `omitStages`, `nonResourceURLs` that begin with `/` and have `*` only at the end, never
//! together with `resources` or `namespaces`, API groups that are DNS subdomains, and
//! `resourceNames` only beside `resources`. Unknown fields are ignored, as kube's decoder
//! ignores them. Every problem is reported at once, each with its field path, the way kube
//! words it (`rules[0].level: Unsupported value: "Everything": supported values: …`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use super::{GroupResources, Policy, Rule};
use crate::audit::types::{API_VERSION, Level, Stage, StageSet};
use crate::meta::validation::{FieldCause, name_is_dns_subdomain};

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("failed to read the audit policy file {path:?}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{source}: from file {path}")]
    File { path: PathBuf, source: Box<PolicyError> },
    #[error("failed decoding the audit policy: {0}")]
    Decode(String),
    #[error(
        "the audit policy must have apiVersion {API_VERSION:?} and kind \"Policy\", found \
         apiVersion {api_version:?} and kind {kind:?}"
    )]
    Kind { api_version: String, kind: String },
    /// Field errors, in kube's aggregate form: one as it is, several as `[a, b]`.
    #[error("{}", aggregate(.0))]
    Invalid(Vec<FieldCause>),
    #[error("loaded illegal policy with 0 rules")]
    NoRules,
}

fn aggregate(causes: &[FieldCause]) -> String {
    let texts: Vec<String> = causes.iter().map(ToString::to_string).collect();
    match texts.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// The file as written: strings where kube validates values, so every problem can be named.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PolicyFile {
    api_version: String,
    kind: String,
    rules: Vec<RuleFile>,
    omit_stages: Vec<String>,
    omit_managed_fields: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RuleFile {
    level: String,
    users: Vec<String>,
    user_groups: Vec<String>,
    verbs: Vec<String>,
    resources: Vec<GroupResourcesFile>,
    namespaces: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
    omit_stages: Vec<String>,
    omit_managed_fields: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GroupResourcesFile {
    group: String,
    resources: Vec<String>,
    resource_names: Vec<String>,
}

impl Policy {
    /// Loads and checks `--audit-policy-file`.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let bytes = std::fs::read(path)
            .map_err(|source| PolicyError::Read { path: path.to_owned(), source })?;
        Policy::from_bytes(&bytes)
            .map_err(|e| PolicyError::File { path: path.to_owned(), source: Box::new(e) })
    }

    /// Parses and checks a policy document, YAML or JSON.
    pub fn from_bytes(bytes: &[u8]) -> Result<Policy, PolicyError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| PolicyError::Decode(format!("the file is not UTF-8: {e}")))?;
        let file: PolicyFile = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| PolicyError::Decode(e.to_string()))?
        } else {
            serde_norway::from_str::<Option<PolicyFile>>(text)
                .map_err(|e| PolicyError::Decode(e.to_string()))?
                .unwrap_or_default()
        };
        if file.api_version != API_VERSION || file.kind != "Policy" {
            return Err(PolicyError::Kind { api_version: file.api_version, kind: file.kind });
        }
        let mut causes = Vec::new();
        let policy_stages = stages(&file.omit_stages, "omitStages", &mut causes);
        let rules: Vec<Rule> = file
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, rule)| compile_rule(rule, &format!("rules[{i}]"), policy_stages, &mut causes))
            .collect();
        if !causes.is_empty() {
            return Err(PolicyError::Invalid(causes));
        }
        if rules.is_empty() {
            return Err(PolicyError::NoRules);
        }
        Ok(Policy {
            rules,
            omit_stages: policy_stages,
            omit_managed_fields: file.omit_managed_fields,
        })
    }
}

/// A rule, checked; its `omitStages` already joined with the policy's (as kube's checker does
/// once at start-up).
fn compile_rule(
    rule: RuleFile,
    path: &str,
    policy_stages: StageSet,
    causes: &mut Vec<FieldCause>,
) -> Rule {
    let level = match Level::parse(&rule.level) {
        Some(level) => level,
        None if rule.level.is_empty() => {
            causes.push(FieldCause::required(format!("{path}.level"), ""));
            Level::None
        }
        None => {
            let valid: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
            causes.push(FieldCause::not_supported(
                format!("{path}.level"),
                rule.level.as_str(),
                &valid,
            ));
            Level::None
        }
    };
    for (i, url) in rule.non_resource_urls.iter().enumerate() {
        if url == "*" {
            continue;
        }
        let field = format!("{path}.nonResourceURLs[{i}]");
        if !url.starts_with('/') {
            causes.push(FieldCause::invalid(
                field.clone(),
                url.as_str(),
                "non-resource URL rules must begin with a '/' character",
            ));
        }
        if url.len() > 1 && url[..url.len() - 1].contains('*') {
            causes.push(FieldCause::invalid(
                field,
                url.as_str(),
                "non-resource URL wildcards '*' must be the final character of the rule",
            ));
        }
    }
    for group in &rule.resources {
        if !group.group.is_empty() {
            let problems = name_is_dns_subdomain(&group.group, false);
            if !problems.is_empty() {
                causes.push(FieldCause::invalid(
                    format!("{path}.resources.group"),
                    group.group.as_str(),
                    &problems.join(","),
                ));
            }
        }
        if !group.resource_names.is_empty() && group.resources.is_empty() {
            causes.push(FieldCause::invalid(
                format!("{path}.resources.resourceNames"),
                json!(group.resource_names),
                "using resourceNames requires at least one resource",
            ));
        }
    }
    let rule_stages = stages(&rule.omit_stages, &format!("{path}.omitStages"), causes);
    if !rule.non_resource_urls.is_empty()
        && (!rule.resources.is_empty() || !rule.namespaces.is_empty())
    {
        causes.push(FieldCause::invalid(
            format!("{path}.nonResourceURLs"),
            json!(rule.non_resource_urls),
            "rules cannot apply to both regular resources and non-resource URLs",
        ));
    }
    Rule {
        level,
        users: rule.users,
        user_groups: rule.user_groups,
        verbs: rule.verbs,
        resources: rule
            .resources
            .into_iter()
            .map(|g| GroupResources {
                group: g.group,
                resources: g.resources,
                resource_names: g.resource_names,
            })
            .collect(),
        namespaces: rule.namespaces,
        non_resource_urls: rule.non_resource_urls,
        omit_stages: policy_stages.union(rule_stages),
        omit_managed_fields: rule.omit_managed_fields,
    }
}

/// The stages named at `path`; unknown names are reported.
fn stages(names: &[String], path: &str, causes: &mut Vec<FieldCause>) -> StageSet {
    let mut set = StageSet::EMPTY;
    for (i, name) in names.iter().enumerate() {
        match Stage::parse(name) {
            Some(stage) => set.insert(stage),
            None => {
                let valid: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
                causes.push(FieldCause::invalid(
                    format!("{path}[{i}]"),
                    name.as_str(),
                    &format!("allowed stages are {}", valid.join(",")),
                ));
            }
        }
    }
    set
}
