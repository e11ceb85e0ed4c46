//! Reconciling the bootstrap policy with what is stored (`pkg/registry/rbac/reconciliation`), as
//! kube-apiserver does at every start: missing objects are created; existing ones get the
//! expected labels and annotations they lack (their own values win), the rules or subjects they
//! lack, and the aggregation selectors they lack — nothing is taken away unless asked. A binding
//! whose `roleRef` differs is deleted and created again (a `roleRef` is immutable). An object
//! annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left alone.
//!
//! These are pure functions from (stored, expected) to what to write; the caller writes it.

use serde_json::{Map, Value};

use super::bootstrap::AUTOUPDATE_ANNOTATION;
use super::escalation::covers;
use super::rule::{PolicyRule, RoleRef, Subject};

/// What reconciling one object asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled {
    /// Nothing to do.
    Unchanged,
    /// The object does not exist: create this.
    Create(Value),
    /// Update the stored object to this (it keeps the stored `resourceVersion`, for a
    /// compare-and-swap).
    Update(Value),
    /// Delete the stored binding (precondition: its uid) and create this.
    Recreate(Value),
    /// The stored object opted out (`autoupdate: "false"`); this is what it would have become.
    Protected(Value),
}

/// Reconciles a stored ClusterRole or Role (`existing`, if any) with the expected one.
/// `remove_extra_permissions` makes the rules and aggregation selectors exactly the expected
/// ones (kube-apiserver's start-up reconciliation leaves it false).
pub fn reconcile_role(
    existing: Option<&Value>,
    expected: &Value,
    remove_extra_permissions: bool,
) -> Reconciled {
    let Some(existing) = existing else { return Reconciled::Create(expected.clone()) };
    let mut result = existing.clone();
    let mut changed = merge_metadata(&mut result, existing, expected);

    let existing_rules = PolicyRule::list_from_json(existing.get("rules"));
    let expected_rules = PolicyRule::list_from_json(expected.get("rules"));
    let (_, extra) = covers(&expected_rules, &existing_rules);
    let (_, missing) = covers(&existing_rules, &expected_rules);
    if !remove_extra_permissions && !missing.is_empty() {
        let rules = existing_rules.iter().chain(&missing).map(PolicyRule::to_json).collect();
        result["rules"] = Value::Array(rules);
        changed = true;
    } else if remove_extra_permissions && (!missing.is_empty() || !extra.is_empty()) {
        result["rules"] = expected.get("rules").cloned().unwrap_or(Value::Null);
        changed = true;
    }

    let existing_selectors = selectors(existing);
    let expected_selectors = selectors(expected);
    let missing_selectors: Vec<&Value> = uncovered(&existing_selectors, &expected_selectors);
    let extra_selectors = uncovered(&expected_selectors, &existing_selectors);
    if expected_selectors.is_none() && existing_selectors.is_some() {
        // Not expected to be aggregated at all.
        if let Some(map) = result.as_object_mut() {
            map.shift_remove("aggregationRule");
        }
        changed = true;
    } else if !remove_extra_permissions && !missing_selectors.is_empty() {
        let mut all: Vec<Value> = existing_selectors.unwrap_or_default().to_vec();
        all.extend(missing_selectors.into_iter().cloned());
        result["aggregationRule"] = serde_json::json!({"clusterRoleSelectors": all});
        changed = true;
    } else if remove_extra_permissions
        && (!missing_selectors.is_empty() || !extra_selectors.is_empty())
    {
        result["aggregationRule"] = expected.get("aggregationRule").cloned().unwrap_or(Value::Null);
        changed = true;
    }
    finish(existing, result, changed, Reconciled::Update)
}

/// Reconciles a stored ClusterRoleBinding or RoleBinding with the expected one.
/// `remove_extra_subjects` makes the subjects exactly the expected ones.
pub fn reconcile_binding(
    existing: Option<&Value>,
    expected: &Value,
    remove_extra_subjects: bool,
) -> Reconciled {
    let Some(existing) = existing else { return Reconciled::Create(expected.clone()) };
    if RoleRef::from_json(existing.get("roleRef")) != RoleRef::from_json(expected.get("roleRef")) {
        return finish(existing, expected.clone(), true, Reconciled::Recreate);
    }
    let mut result = existing.clone();
    let mut changed = merge_metadata(&mut result, existing, expected);
    let subjects = |b: &Value| -> Vec<Subject> {
        b.get("subjects")
            .and_then(Value::as_array)
            .map(|s| s.iter().map(Subject::from_json).collect())
            .unwrap_or_default()
    };
    let (existing_subjects, expected_subjects) = (subjects(existing), subjects(expected));
    let mut missing: Vec<Subject> = Vec::new();
    for s in &expected_subjects {
        if !existing_subjects.contains(s) && !missing.contains(s) {
            missing.push(s.clone());
        }
    }
    let extra = existing_subjects.iter().any(|s| !expected_subjects.contains(s));
    if !remove_extra_subjects && !missing.is_empty() {
        let mut all: Vec<Value> =
            existing.get("subjects").and_then(Value::as_array).cloned().unwrap_or_default();
        all.extend(missing.iter().map(Subject::to_json));
        result["subjects"] = Value::Array(all);
        changed = true;
    } else if remove_extra_subjects && (!missing.is_empty() || extra) {
        result["subjects"] = expected.get("subjects").cloned().unwrap_or(Value::Array(Vec::new()));
        changed = true;
    }
    finish(existing, result, changed, Reconciled::Update)
}

/// `Unchanged`, `Protected`, or `write(result)`.
fn finish(
    existing: &Value,
    result: Value,
    changed: bool,
    write: fn(Value) -> Reconciled,
) -> Reconciled {
    let protected =
        existing.pointer("/metadata/annotations").and_then(|a| a.get(AUTOUPDATE_ANNOTATION))
            == Some(&Value::from("false"));
    match (changed, protected) {
        (false, _) => Reconciled::Unchanged,
        (true, true) => Reconciled::Protected(result),
        (true, false) => write(result),
    }
}

/// Adds the expected labels and annotations the stored object lacks; true if any was added.
fn merge_metadata(result: &mut Value, existing: &Value, expected: &Value) -> bool {
    let mut changed = false;
    for field in ["annotations", "labels"] {
        let theirs = string_map(existing, field);
        let mut merged = string_map(expected, field);
        merged.extend(theirs.clone());
        if merged != theirs {
            changed = true;
            if let Some(meta) = result.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert(field.into(), Value::Object(merged));
            }
        }
    }
    changed
}

fn string_map(object: &Value, field: &str) -> Map<String, Value> {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The `clusterRoleSelectors` of an `aggregationRule`, `None` when there is no rule.
fn selectors(role: &Value) -> Option<&[Value]> {
    let rule = role.get("aggregationRule").filter(|r| !r.is_null())?;
    Some(rule.get("clusterRoleSelectors").and_then(Value::as_array).map_or(&[][..], Vec::as_slice))
}

/// `aggregationRuleCovers`: the selectors of `servant` that `owner` lacks (semantically: empty
/// and absent lists alike).
fn uncovered<'a>(owner: &Option<&[Value]>, servant: &Option<&'a [Value]>) -> Vec<&'a Value> {
    let (Some(owner), Some(servant)) = (owner, servant) else {
        return match (owner, servant) {
            (None, Some(servant)) => servant.iter().collect(),
            _ => Vec::new(),
        };
    };
    servant
        .iter()
        .filter(|s| !owner.iter().any(|o| normalized_selector(o) == normalized_selector(s)))
        .collect()
}

fn normalized_selector(selector: &Value) -> Value {
    let mut copy = selector.clone();
    if let Some(map) = copy.as_object_mut() {
        map.retain(|_, v| {
            !matches!(v, Value::Null)
                && v != &Value::Object(Map::new())
                && v != &Value::Array(Vec::new())
        });
    }
    copy
}
