//! The Pod Security Standards' checks and their evaluation, as k8s.io/pod-security-admission's
//! `policy` package defines them: each check looks at a pod's metadata and spec (or a pod
//! template's) and either passes or names what it forbids, in kube's words.
//!
//! [`evaluate`] runs the checks of a level at a version: baseline runs the baseline checks,
//! restricted runs the baseline checks its own checks do not override, then its own; each group
//! in the order of the checks' IDs, so messages read exactly as kube's. A check applies from its
//! minimum policy version on; `latest` runs every check. The checks themselves live in
//! [`baseline`] (host access), [`profiles`] (capabilities and security profiles) and
//! [`restricted`].

mod baseline;
mod profiles;
mod restricted;

use std::collections::BTreeSet;

use serde_json::Value;

use super::api::{Level, LevelVersion, Version};

/// What a check forbade: kube's `ForbiddenReason` (`host namespaces`) and `ForbiddenDetail`
/// (`hostNetwork=true`), the latter possibly empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub reason: String,
    pub detail: String,
}

impl Violation {
    fn new(reason: impl Into<String>, detail: impl Into<String>) -> Option<Violation> {
        Some(Violation { reason: reason.into(), detail: detail.into() })
    }
}

/// A check: `None` passes. Gets the pod's (or template's) metadata and spec, and the version
/// being evaluated (for the checks whose allowed values grew over versions).
pub type CheckFn = fn(&Value, &Value, Version) -> Option<Violation>;

/// One check of the standards.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// kube's check ID; the evaluation order within a level.
    pub id: &'static str,
    pub level: Level,
    /// The first policy version (`v1.X`) the check applies to.
    pub since: u32,
    /// Baseline checks this restricted check replaces (it forbids at least as much).
    pub overrides: &'static [&'static str],
    pub run: CheckFn,
}

/// Every check, in no particular order ([`evaluate`] orders them).
pub fn all() -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(baseline::checks());
    checks.extend(profiles::checks());
    checks.extend(restricted::checks());
    checks
}

/// The checks of `lv`, in kube's order: baseline IDs sorted, then restricted IDs sorted.
fn for_level(lv: LevelVersion) -> Vec<Check> {
    if lv.level == Level::Privileged {
        return Vec::new();
    }
    let mut applicable: Vec<Check> =
        all().into_iter().filter(|c| lv.version.at_least(c.since)).collect();
    applicable.sort_by_key(|c| (c.level, c.id));
    if lv.level == Level::Baseline {
        applicable.retain(|c| c.level == Level::Baseline);
        return applicable;
    }
    let overridden: BTreeSet<&str> = applicable
        .iter()
        .filter(|c| c.level == Level::Restricted)
        .flat_map(|c| c.overrides.iter().copied())
        .collect();
    applicable.retain(|c| !overridden.contains(c.id));
    applicable
}

/// The violations of `lv` by the pod whose metadata and spec these are; empty: allowed.
pub fn evaluate(lv: LevelVersion, metadata: &Value, spec: &Value) -> Vec<Violation> {
    for_level(lv).iter().filter_map(|c| (c.run)(metadata, spec, lv.version)).collect()
}

/// kube's `ForbiddenDetail`: `reason (detail), reason, …`.
pub fn forbidden_detail(violations: &[Violation]) -> String {
    let parts: Vec<String> = violations
        .iter()
        .map(|v| {
            if v.detail.is_empty() {
                v.reason.clone()
            } else {
                format!("{} ({})", v.reason, v.detail)
            }
        })
        .collect();
    parts.join(", ")
}

/// kube's `ForbiddenReason`: the reasons alone, as a namespace's dry run reports them.
pub fn forbidden_reason(violations: &[Violation]) -> String {
    let reasons: Vec<&str> = violations.iter().map(|v| v.reason.as_str()).collect();
    reasons.join(", ")
}

// Helpers the checks share.

/// Every container of the spec: init containers, containers, ephemeral containers, in order.
fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .filter_map(|list| spec.get(list).and_then(Value::as_array))
        .flatten()
}

fn name(container: &Value) -> String {
    container.get("name").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A field that is set (present and not null), as a Go pointer that is not nil.
fn set<'a>(object: &'a Value, pointer: &str) -> Option<&'a Value> {
    object.pointer(pointer).filter(|v| !v.is_null())
}

fn is_true(object: &Value, pointer: &str) -> bool {
    object.pointer(pointer) == Some(&Value::Bool(true))
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The strings of a list field (capabilities, sysctl names).
fn strings<'a>(object: &'a Value, pointer: &str) -> Vec<&'a str> {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|i| i.as_str().unwrap_or_default()).collect())
        .unwrap_or_default()
}

fn pluralize<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 { singular } else { plural }
}

/// `"a", "b"` (kube's `joinQuote`: plain quotes, no escaping).
fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.as_ref().to_owned()).collect();
    if items.is_empty() {
        return String::new();
    }
    format!("\"{}\"", items.join("\", \""))
}

/// `container "a"` or `containers "a", "b"`.
fn containers_named(names: &[String]) -> String {
    format!("{} {}", pluralize("container", "containers", names.len()), join_quote(names))
}

/// The `pod and containers "a"` prefix of checks that look at both levels; `None` if neither.
fn setters(pod: bool, containers: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    if pod {
        parts.push("pod".to_owned());
    }
    if !containers.is_empty() {
        parts.push(containers_named(containers));
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

#[cfg(test)]
mod tests;
