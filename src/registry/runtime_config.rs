//! `--runtime-config`: which built-in group/versions and resources are served, in
//! kube-apiserver's flag syntax (k8s.io/apiserver `server/resourceconfig`, kube-apiserver's
//! `APIEnablementOptions`).
//!
//! A value is a comma-separated list of `key=value` (`key` alone means `true`):
//! - `group/version` (`apps/v1=false`); the core group is `v1`, `api/v1` or `/v1`;
//! - `group/version/resource` (`apps/v1/deployments=false`, `v1/pods`, `api/v1/pods`), the
//!   resource always a lower-case plural;
//! - `api/all`, `api/ga`, `api/beta`, `api/alpha`: every version, or every version of that
//!   stability (`v2`, `v2beta1`, `v1alpha1`), value exactly `true` or `false`;
//! - `api/legacy`: accepted and ignored (deprecated in kube-apiserver, which drops it).
//!
//! Values other than the selectors' read like Go's `strconv.ParseBool` (`1`, `t`, `TRUE`, …).
//! A key given twice keeps its last value. Precedence does not depend on the order written: a
//! resource's own key beats its group/version's, which beats the selectors, applied in the
//! order `api/all`, `api/ga`, `api/beta`, `api/alpha`; what nothing mentions is served.
//!
//! Keys are checked against the built-in resources ([`RuntimeConfig::parse`] takes them): an
//! unknown group, a version a known group does not have, or (stricter than kube-apiserver,
//! which ignores it) a resource its group/version does not have is an error, so is
//! `api/all=false` alone. The result only decides which built-ins are registered
//! (`builtin::register_enabled`); resources registered later (CRDs) are never affected.
//! Nothing stored is touched: a disabled resource's objects come back when it is re-enabled.

use std::collections::BTreeMap;

use super::GroupVersion;

/// The keys that select many group/versions by their version's stability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Selector {
    /// `api/all`: every version.
    All,
    /// `api/ga`: `v1`, `v2`, …
    Ga,
    /// `api/beta`: `v1beta1`, …
    Beta,
    /// `api/alpha`: `v1alpha1`, …
    Alpha,
}

impl Selector {
    fn from_key(key: &str) -> Option<Selector> {
        match key {
            "api/all" => Some(Selector::All),
            "api/ga" => Some(Selector::Ga),
            "api/beta" => Some(Selector::Beta),
            "api/alpha" => Some(Selector::Alpha),
            _ => None,
        }
    }

    fn matches(self, version: &str) -> bool {
        match self {
            Selector::All => true,
            Selector::Ga => stability(version) == Some(""),
            Selector::Beta => stability(version) == Some("beta"),
            Selector::Alpha => stability(version) == Some("alpha"),
        }
    }
}

/// `""` for `v\d+`, `"beta"` for `v\d+beta\d+`, `"alpha"` for `v\d+alpha\d+`, else `None`.
fn stability(version: &str) -> Option<&'static str> {
    let rest = version.strip_prefix('v')?;
    let major = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if major == 0 {
        return None;
    }
    let tail = &rest[major..];
    if tail.is_empty() {
        return Some("");
    }
    let numbered = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    if tail.strip_prefix("beta").is_some_and(numbered) {
        Some("beta")
    } else if tail.strip_prefix("alpha").is_some_and(numbered) {
        Some("alpha")
    } else {
        None
    }
}

/// Why a `--runtime-config` value was refused. Messages follow kube-apiserver's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeConfigError {
    #[error("runtime-config invalid key {0}")]
    InvalidKey(String),
    #[error("invalid value {key}={value}")]
    InvalidSelectorValue { key: String, value: String },
    #[error(
        "invalid value of {key}: {value}, err: strconv.ParseBool: parsing {value:?}: invalid syntax"
    )]
    InvalidValue { key: String, value: String },
    #[error(
        "invalid key {key}: group/version/resource and resource is always lowercase plural, not {resource:?}"
    )]
    NotLowercase { key: String, resource: String },
    #[error("unknown api groups {}", .0.join(","))]
    UnknownGroups(Vec<String>),
    #[error("group version {0} that has not been registered")]
    UnknownVersion(String),
    #[error("resource {resource} that has not been registered in group version {gv}")]
    UnknownResource { gv: String, resource: String },
    #[error("invalid key with only api/all=false")]
    OnlyAllFalse,
}

/// Which built-in group/versions and resources are enabled; empty (the default) serves all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    selectors: BTreeMap<Selector, bool>,
    versions: BTreeMap<GroupVersion, bool>,
    resources: BTreeMap<(GroupVersion, String), bool>,
}

impl RuntimeConfig {
    /// Parses one flag value. `known` lists every group/version and plural that can be switched
    /// (the built-ins); keys naming anything else are errors.
    pub fn parse(
        text: &str,
        known: &[(GroupVersion, String)],
    ) -> Result<RuntimeConfig, RuntimeConfigError> {
        let mut config = RuntimeConfig::default();
        let mut unknown_groups: Vec<String> = Vec::new();
        for entry in text.split(',').filter(|e| !e.trim().is_empty()) {
            let (key, value) = match entry.split_once('=') {
                Some((key, value)) => (key.trim(), value.trim()),
                None => (entry.trim(), ""),
            };
            if key == "api/legacy" {
                continue;
            }
            if let Some(selector) = Selector::from_key(key) {
                let on = match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(RuntimeConfigError::InvalidSelectorValue {
                            key: key.to_owned(),
                            value: value.to_owned(),
                        });
                    }
                };
                config.selectors.insert(selector, on);
                continue;
            }
            let (gv, resource) = split_key(key)?;
            if !known.iter().any(|(k, _)| k.group == gv.group) {
                if !unknown_groups.contains(&gv.group) {
                    unknown_groups.push(gv.group.clone());
                }
                continue;
            }
            if !known.iter().any(|(k, _)| *k == gv) {
                return Err(RuntimeConfigError::UnknownVersion(gv.to_string()));
            }
            let on = parse_bool(value).ok_or_else(|| RuntimeConfigError::InvalidValue {
                key: key.to_owned(),
                value: value.to_owned(),
            })?;
            match resource {
                None => {
                    config.versions.insert(gv, on);
                }
                Some(resource) => {
                    if resource.to_lowercase() != resource {
                        return Err(RuntimeConfigError::NotLowercase {
                            key: key.to_owned(),
                            resource,
                        });
                    }
                    if !known.iter().any(|(k, plural)| *k == gv && *plural == resource) {
                        return Err(RuntimeConfigError::UnknownResource {
                            gv: gv.to_string(),
                            resource,
                        });
                    }
                    config.resources.insert((gv, resource), on);
                }
            }
        }
        if !unknown_groups.is_empty() {
            return Err(RuntimeConfigError::UnknownGroups(unknown_groups));
        }
        Ok(config)
    }

    /// Adds a later flag value: its keys replace the same keys here.
    pub fn merge(&mut self, later: RuntimeConfig) {
        self.selectors.extend(later.selectors);
        self.versions.extend(later.versions);
        self.resources.extend(later.resources);
    }

    /// The checks on the whole configuration (every flag value merged): `api/all=false` alone
    /// would leave nothing to serve.
    pub fn validate(&self) -> Result<(), RuntimeConfigError> {
        let only_all_false = self.versions.is_empty()
            && self.resources.is_empty()
            && self.selectors.len() == 1
            && self.selectors.get(&Selector::All) == Some(&false);
        if only_all_false { Err(RuntimeConfigError::OnlyAllFalse) } else { Ok(()) }
    }

    /// Whether the resource `plural` at `gv` is served.
    pub fn enabled(&self, gv: &GroupVersion, plural: &str) -> bool {
        if let Some(&on) = self.resources.get(&(gv.clone(), plural.to_owned())) {
            return on;
        }
        if let Some(&on) = self.versions.get(gv) {
            return on;
        }
        // BTreeMap order is the selectors' order: all, ga, beta, alpha; the last match wins.
        self.selectors
            .iter()
            .rev()
            .find(|(selector, _)| selector.matches(&gv.version))
            .is_none_or(|(_, &on)| on)
    }

    /// Whether nothing was configured (every built-in is served).
    pub fn is_empty(&self) -> bool {
        self.selectors.is_empty() && self.versions.is_empty() && self.resources.is_empty()
    }
}

/// `group/version[/resource]` → its parts; the core group's `v1`, `api/v1`, `v1/R` and
/// `api/v1/R` become `/v1` and `/v1/R`, as kube-apiserver rewrites them.
fn split_key(key: &str) -> Result<(GroupVersion, Option<String>), RuntimeConfigError> {
    let core_rest = |prefix: &str| {
        key.strip_prefix(prefix).filter(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    let normalized = match core_rest("v1").or_else(|| core_rest("api/v1")) {
        Some(rest) => format!("/v1{rest}"),
        None => key.to_owned(),
    };
    let tokens: Vec<&str> = normalized.split('/').collect();
    match tokens.as_slice() {
        [group, version] => Ok((GroupVersion::new(group, version), None)),
        [group, version, resource] => {
            Ok((GroupVersion::new(group, version), Some((*resource).to_owned())))
        }
        _ => Err(RuntimeConfigError::InvalidKey(key.to_owned())),
    }
}

/// Go's `strconv.ParseBool`, with an empty value meaning `true` (a key given alone).
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "" | "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<(GroupVersion, String)> {
        [
            ("", "v1", "configmaps"),
            ("", "v1", "pods"),
            ("apps", "v1", "deployments"),
            ("autoscaling", "v1", "horizontalpodautoscalers"),
            ("autoscaling", "v2", "horizontalpodautoscalers"),
            ("example.com", "v1beta1", "widgets"),
            ("example.com", "v1alpha1", "gadgets"),
        ]
        .iter()
        .map(|(g, v, r)| (GroupVersion::new(g, v), (*r).to_owned()))
        .collect()
    }

    fn parse(text: &str) -> Result<RuntimeConfig, RuntimeConfigError> {
        RuntimeConfig::parse(text, &known())
    }

    fn err(text: &str) -> String {
        parse(text).map(|c| format!("unexpectedly parsed: {c:?}")).unwrap_or_else(|e| e.to_string())
    }

    /// Which of the known resources a configuration serves, as `gv/plural`.
    fn served(text: &str) -> Vec<String> {
        let config = parse(text).unwrap();
        known()
            .iter()
            .filter(|(gv, plural)| config.enabled(gv, plural))
            .map(|(gv, plural)| format!("{gv}/{plural}"))
            .collect()
    }

    const ALL: [&str; 7] = [
        "v1/configmaps",
        "v1/pods",
        "apps/v1/deployments",
        "autoscaling/v1/horizontalpodautoscalers",
        "autoscaling/v2/horizontalpodautoscalers",
        "example.com/v1beta1/widgets",
        "example.com/v1alpha1/gadgets",
    ];

    fn all_but(excluded: &[&str]) -> Vec<String> {
        ALL.iter().filter(|r| !excluded.contains(r)).map(|r| (*r).to_owned()).collect()
    }

    #[test]
    fn empty_values_serve_everything() {
        for text in ["", ",", " , ,", "api/legacy", "api/legacy=false"] {
            assert!(parse(text).unwrap().is_empty(), "{text:?}");
            assert_eq!(served(text), ALL, "{text:?}");
        }
    }

    #[test]
    fn group_versions_on_and_off() {
        assert_eq!(
            served("autoscaling/v1=false"),
            all_but(&["autoscaling/v1/horizontalpodautoscalers"])
        );
        assert_eq!(served("apps/v1=false"), all_but(&["apps/v1/deployments"]));
        assert_eq!(served("apps/v1=true"), ALL);
        // A key alone means true.
        assert_eq!(served("apps/v1"), ALL);
        // Whitespace around keys and values.
        assert_eq!(
            served(" apps/v1 = false , autoscaling/v2= 0"),
            all_but(&["apps/v1/deployments", "autoscaling/v2/horizontalpodautoscalers"])
        );
    }

    #[test]
    fn the_core_group_has_four_spellings() {
        for key in ["v1", "api/v1", "/v1"] {
            assert_eq!(
                served(&format!("{key}=false")),
                all_but(&["v1/configmaps", "v1/pods"]),
                "{key}"
            );
        }
        for key in ["v1/pods", "api/v1/pods", "/v1/pods"] {
            assert_eq!(served(&format!("{key}=false")), all_but(&["v1/pods"]), "{key}");
        }
    }

    #[test]
    fn values_read_like_go_parse_bool() {
        for on in ["", "1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(served(&format!("api/all=false,apps/v1={on}")), ["apps/v1/deployments"]);
        }
        for off in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(served(&format!("apps/v1={off}")), all_but(&["apps/v1/deployments"]));
        }
    }

    #[test]
    fn resources_beat_versions_beat_selectors() {
        assert_eq!(
            served("autoscaling/v2/horizontalpodautoscalers=false"),
            all_but(&["autoscaling/v2/horizontalpodautoscalers"])
        );
        assert_eq!(served("v1=false,v1/pods=true"), all_but(&["v1/configmaps"]));
        // Order written does not matter between levels.
        assert_eq!(served("v1/pods=true,v1=false"), all_but(&["v1/configmaps"]));
        assert_eq!(
            served("apps/v1=true,apps/v1/deployments=false"),
            all_but(&["apps/v1/deployments"])
        );
        assert_eq!(served("api/all=false,v1=true"), ["v1/configmaps", "v1/pods"]);
        assert_eq!(served("api/all=false,apps/v1/deployments"), ["apps/v1/deployments"]);
        assert_eq!(served("v1/pods=false,api/all=true"), all_but(&["v1/pods"]));
    }

    #[test]
    fn later_values_of_one_key_win() {
        assert_eq!(served("apps/v1=false,apps/v1=true"), ALL);
        assert_eq!(served("apps/v1=true,apps/v1=false"), all_but(&["apps/v1/deployments"]));
        assert_eq!(served("v1=false,api/v1=true"), ALL);
        let mut config = parse("apps/v1=false,v1/pods=false").unwrap();
        config.merge(parse("apps/v1").unwrap());
        assert!(config.enabled(&GroupVersion::new("apps", "v1"), "deployments"));
        assert!(!config.enabled(&GroupVersion::new("", "v1"), "pods"));
    }

    #[test]
    fn stability_selectors() {
        assert_eq!(served("api/beta=false"), all_but(&["example.com/v1beta1/widgets"]));
        assert_eq!(served("api/alpha=false"), all_but(&["example.com/v1alpha1/gadgets"]));
        assert_eq!(
            served("api/ga=false"),
            ["example.com/v1beta1/widgets", "example.com/v1alpha1/gadgets"]
        );
        // Applied in the order all, ga, beta, alpha whatever the order written.
        assert_eq!(served("api/beta=true,api/all=false"), ["example.com/v1beta1/widgets"]);
        assert_eq!(
            served("api/ga=true,api/all=false,api/alpha=true"),
            all_but(&["example.com/v1beta1/widgets"])
        );
        assert_eq!(stability("v1"), Some(""));
        assert_eq!(stability("v10"), Some(""));
        assert_eq!(stability("v2beta1"), Some("beta"));
        assert_eq!(stability("v1alpha12"), Some("alpha"));
        for other in ["v", "1", "vbeta1", "v1beta", "v1gamma1", "v1beta1x", "V1", ""] {
            assert_eq!(stability(other), None, "{other}");
        }
    }

    #[test]
    fn selector_values_must_be_true_or_false() {
        assert_eq!(err("api/all"), "invalid value api/all=");
        assert_eq!(err("api/ga=1"), "invalid value api/ga=1");
        assert_eq!(err("api/beta=False"), "invalid value api/beta=False");
        assert_eq!(err("api/alpha=yes"), "invalid value api/alpha=yes");
    }

    #[test]
    fn malformed_input_is_refused_with_kube_apiservers_messages() {
        assert_eq!(
            err("apps/v1=yes"),
            "invalid value of apps/v1: yes, err: strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
        assert_eq!(
            err("v1/pods=off"),
            "invalid value of v1/pods: off, err: strconv.ParseBool: parsing \"off\": invalid syntax"
        );
        for key in ["apps", "=true", "a/b/c/d", "v1/pods/x", "api/v1/pods/x", "v2"] {
            assert_eq!(
                err(key),
                format!("runtime-config invalid key {}", key.trim_end_matches("=true"))
            );
        }
        assert_eq!(
            err("apps/v1/Deployments=false"),
            "invalid key apps/v1/Deployments: group/version/resource and resource is always \
             lowercase plural, not \"Deployments\""
        );
    }

    #[test]
    fn unknown_groups_versions_and_resources_are_refused() {
        assert_eq!(err("bar.io/v1=false"), "unknown api groups bar.io");
        assert_eq!(err("bar.io/v1,foo.io/v1/bars,bar.io/v2"), "unknown api groups bar.io,foo.io");
        assert_eq!(err("api/foo"), "unknown api groups api");
        assert_eq!(err("apps/v2=false"), "group version apps/v2 that has not been registered");
        assert_eq!(err("apps/=false"), "group version apps/ that has not been registered");
        assert_eq!(err("/v2"), "group version v2 that has not been registered");
        assert_eq!(
            err("autoscaling/v2beta2/horizontalpodautoscalers=false"),
            "group version autoscaling/v2beta2 that has not been registered"
        );
        assert_eq!(
            err("apps/v1/widgets=false"),
            "resource widgets that has not been registered in group version apps/v1"
        );
        assert_eq!(
            err("v1/deployments"),
            "resource deployments that has not been registered in group version v1"
        );
    }

    #[test]
    fn api_all_false_alone_is_refused() {
        assert_eq!(
            parse("api/all=false").unwrap().validate(),
            Err(RuntimeConfigError::OnlyAllFalse)
        );
        assert_eq!(
            parse("api/legacy=false,api/all=false").unwrap().validate(),
            Err(RuntimeConfigError::OnlyAllFalse)
        );
        assert_eq!(
            RuntimeConfigError::OnlyAllFalse.to_string(),
            "invalid key with only api/all=false"
        );
        assert_eq!(parse("api/all=false,v1").unwrap().validate(), Ok(()));
        assert_eq!(parse("api/all=false,api/ga=true").unwrap().validate(), Ok(()));
        assert_eq!(parse("api/all=true").unwrap().validate(), Ok(()));
        assert_eq!(parse("").unwrap().validate(), Ok(()));
    }
}
