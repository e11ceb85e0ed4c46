//! The Pod Security Standards' vocabulary, as k8s.io/pod-security-admission's `api` package
//! defines it: levels, policy versions, a namespace's policy (one level and version per mode) and
//! how the namespace labels `pod-security.kubernetes.io/{enforce,audit,warn}[-version]` resolve
//! to it over the configured defaults.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::meta::validation::FieldCause;

/// Every label, audit annotation and exemption key starts with this.
pub const PREFIX: &str = "pod-security.kubernetes.io/";

pub const ENFORCE_LEVEL_LABEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LEVEL_LABEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LEVEL_LABEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// The audit annotations the plugin adds (kube's keys after [`PREFIX`]).
pub const ENFORCE_POLICY_ANNOTATION: &str = "pod-security.kubernetes.io/enforce-policy";
pub const AUDIT_VIOLATIONS_ANNOTATION: &str = "pod-security.kubernetes.io/audit-violations";
pub const EXEMPT_ANNOTATION: &str = "pod-security.kubernetes.io/exempt";
pub const ERROR_ANNOTATION: &str = "pod-security.kubernetes.io/error";

/// A Pod Security Standard, least strict first (the derived order is strictness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// kube's `ParseLevel`: an unknown level reads as `restricted`, with the error.
    pub fn parse(text: &str) -> Result<Level, Level> {
        match text {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(Level::Restricted),
        }
    }
}

pub const LEVEL_ERROR: &str = "must be one of privileged, baseline, restricted";
pub const VERSION_ERROR: &str = r#"must be "latest" or "v1.x""#;

/// A policy version: `v1.X` or `latest` (newer than any numbered version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    Minor(u32),
    Latest,
}

impl Version {
    /// kube's `ParseVersion`: `latest` or `v1.X` (no leading zeros); anything else reads as
    /// `latest`, with the error.
    pub fn parse(text: &str) -> Result<Version, Version> {
        if text == "latest" {
            return Ok(Version::Latest);
        }
        let minor = text.strip_prefix("v1.").filter(|m| {
            !m.is_empty()
                && m.bytes().all(|b| b.is_ascii_digit())
                && (m.len() == 1 || !m.starts_with('0'))
        });
        minor.and_then(|m| m.parse().ok()).map(Version::Minor).ok_or(Version::Latest)
    }

    /// Whether a check first applying at `minimum` applies at this version.
    pub fn at_least(self, minimum: u32) -> bool {
        match self {
            Version::Latest => true,
            Version::Minor(minor) => minor >= minimum,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(minor) => write!(f, "v1.{minor}"),
        }
    }
}

/// A level at a version: `restricted:latest`, `baseline:v1.29`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    pub const PRIVILEGED: LevelVersion =
        LevelVersion { level: Level::Privileged, version: Version::Latest };
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level.as_str(), self.version)
    }
}

/// A namespace's policy: what is enforced, audited and warned about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
}

impl Default for Policy {
    /// kube's defaults without a configuration: privileged at latest for every mode.
    fn default() -> Policy {
        let p = LevelVersion::PRIVILEGED;
        Policy { enforce: p, audit: p, warn: p }
    }
}

impl Policy {
    pub fn fully_privileged(&self) -> bool {
        [self.enforce, self.audit, self.warn].iter().all(|lv| lv.level == Level::Privileged)
    }

    /// kube's `Policy.Equivalent`: the same levels, and the same versions where the level is
    /// not privileged.
    pub fn equivalent(&self, other: &Policy) -> bool {
        let same = |a: LevelVersion, b: LevelVersion| {
            a.level == b.level && (a.level == Level::Privileged || a.version == b.version)
        };
        same(self.enforce, other.enforce)
            && same(self.audit, other.audit)
            && same(self.warn, other.warn)
    }
}

/// kube's `PolicyToEvaluate`: the namespace's labels over `defaults`, and an invalid-value cause
/// per malformed label. A policy always comes back: an unparsable enforce level is
/// `restricted`, an unparsable audit or warn level `privileged` (they fail open), an
/// unparsable version `latest`.
pub fn policy_to_evaluate(
    labels: &BTreeMap<String, String>,
    defaults: Policy,
) -> (Policy, Vec<FieldCause>) {
    let mut policy = defaults;
    let mut errors = Vec::new();
    let modes: [(&str, &str, &mut LevelVersion, Level); 3] = [
        (ENFORCE_LEVEL_LABEL, ENFORCE_VERSION_LABEL, &mut policy.enforce, Level::Restricted),
        (AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL, &mut policy.audit, Level::Privileged),
        (WARN_LEVEL_LABEL, WARN_VERSION_LABEL, &mut policy.warn, Level::Privileged),
    ];
    for (level_label, version_label, lv, fallback) in modes {
        if let Some(text) = labels.get(level_label) {
            lv.level = Level::parse(text).unwrap_or_else(|_| {
                errors.push(label_error(level_label, text, LEVEL_ERROR));
                fallback
            });
        }
        if let Some(text) = labels.get(version_label) {
            lv.version = Version::parse(text).unwrap_or_else(|latest| {
                errors.push(label_error(version_label, text, VERSION_ERROR));
                latest
            });
        }
    }
    (policy, errors)
}

fn label_error(label: &str, value: &str, detail: &str) -> FieldCause {
    FieldCause::invalid(format!("metadata.labels[{label}]"), value, detail)
}

/// The labels of an object's metadata (string values only, as a Go map of strings).
pub fn labels_of(object: Option<&Value>) -> BTreeMap<String, String> {
    object
        .and_then(|o| o.pointer("/metadata/labels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// kube's aggregate of field errors as one string: the error alone, or `[a, b]`.
pub fn aggregate(errors: &[FieldCause]) -> String {
    let texts: Vec<String> = errors.iter().map(FieldCause::to_string).collect();
    match texts.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn versions_parse_as_kube_does() {
        assert_eq!(Version::parse("latest"), Ok(Version::Latest));
        assert_eq!(Version::parse("v1.0"), Ok(Version::Minor(0)));
        assert_eq!(Version::parse("v1.33"), Ok(Version::Minor(33)));
        for bad in ["", "v1", "v1.", "v1.03", "v2.1", "1.30", "v1.x", "Latest"] {
            assert_eq!(Version::parse(bad), Err(Version::Latest), "{bad}");
        }
        assert!(Version::Latest > Version::Minor(999));
        assert_eq!(Version::Minor(29).to_string(), "v1.29");
    }

    #[test]
    fn labels_override_defaults_and_bad_values_fail_closed_for_enforce_only() {
        let (policy, errors) = policy_to_evaluate(
            &labels(&[
                (ENFORCE_LEVEL_LABEL, "restricted"),
                (ENFORCE_VERSION_LABEL, "v1.25"),
                (WARN_LEVEL_LABEL, "baseline"),
            ]),
            Policy::default(),
        );
        assert!(errors.is_empty());
        assert_eq!(policy.enforce.to_string(), "restricted:v1.25");
        assert_eq!(policy.warn.to_string(), "baseline:latest");
        assert_eq!(policy.audit.to_string(), "privileged:latest");

        let (policy, errors) = policy_to_evaluate(
            &labels(&[
                (ENFORCE_LEVEL_LABEL, "strict"),
                (AUDIT_LEVEL_LABEL, "nope"),
                (WARN_VERSION_LABEL, "v1.x"),
            ]),
            Policy::default(),
        );
        assert_eq!(policy.enforce.level, Level::Restricted);
        assert_eq!(policy.audit.level, Level::Privileged);
        let texts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            texts,
            [
                r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#,
                r#"metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "nope": must be one of privileged, baseline, restricted"#,
                r#"metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1.x": must be "latest" or "v1.x""#,
            ]
        );
    }
}
